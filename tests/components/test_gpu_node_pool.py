"""GpuNodePool (components/llmplatform/gpu_node_pool.py): separate GPU pools, spot with an on-demand fallback through
the priority expander, the device software, what the cluster handle passes on, and what workloads get from it."""
from __future__ import annotations

import re

import pytest
import llmplatform

from offline import runner as offline

from tests.conftest import variant
from tests.components.test_components_alone import cluster_handle, provider_opts


@pytest.mark.parametrize("name", ["prod", "dev-operator"])
def test_no_ordering_kubernetes_does_not_need(name):
    """Deploy time: the GPU software DaemonSets do not wait for their node pools (they schedule when nodes come),
    and no node pool waits for the monitoring stack or the gateway."""
    plan = variant(name)
    gpu_software = [r for r in plan.helm_releases() if r.inputs["chart"] in ("nvidia-device-plugin", "gpu-operator")]
    assert gpu_software
    for release in gpu_software:
        assert not plan.waits_for(release, lambda r: r.type == "azure-native:containerservice:AgentPool")
    in_cluster_stacks = ("llmplatform:index:Observability", "llmplatform:index:GatewayAccess")
    for pool in plan.of_type("azure-native:containerservice:AgentPool"):
        assert not plan.waits_for(pool, lambda r: plan.component_of(r) is not None
                              and plan.component_of(r).type in in_cluster_stacks), pool.name


def test_gpu_pools_follow_the_clusters_choice_through_the_handle():
    import llmplatform
    from offline import runner as offline
    from tests.components.test_components_alone import cluster_handle, provider_opts

    def pool(handle):
        def program():
            llmplatform.GpuNodePool("t4", {"cluster": handle, "vm_size": "Standard_NC4as_T4_v3"}, provider_opts())
        return offline.run_function(program).one("azure-native:containerservice:AgentPool").inputs

    assert pool({**cluster_handle(), "ephemeral_os_disk": True})["osDiskType"] == "Ephemeral"  # 180 GiB local disk
    assert "osDiskType" not in pool(cluster_handle())  # a handle from before the field: AKS decides


MC = "azure-native:containerservice:ManagedCluster"
POOL = "azure-native:containerservice:AgentPool"
SPOT_TOLERATION = {"key": "kubernetes.azure.com/scalesetpriority", "operator": "Equal", "value": "spot",
                   "effect": "NoSchedule"}
GPU_TOLERATION = {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}


def release(plan, chart):
    return next(r for r in plan.helm_releases() if r.inputs["chart"] == chart)


def pool(plan, name):
    return next(r for r in plan.of_type(POOL) if r.inputs["agentPoolName"] == name)


def test_dev_gpu_pool_is_separate_scales_from_zero_on_spot_and_tainted(dev):
    gpu = pool(dev, "gpu")
    assert gpu.inputs["minCount"] == 0 and gpu.inputs["maxCount"] == 1 and gpu.inputs["enableAutoScaling"]
    assert gpu.inputs["scaleSetPriority"] == "Spot" and gpu.inputs["scaleSetEvictionPolicy"] == "Delete"
    assert gpu.inputs["spotMaxPrice"] == -1
    assert "nvidia.com/gpu=present:NoSchedule" in gpu.inputs["nodeTaints"]
    assert gpu.inputs["gpuProfile"] == {"driver": "Install"}
    assert dev.one(MC).inputs["sku"]["tier"] == "Free"


def test_priority_expander_only_with_its_configmap(any_plan):
    expander = any_plan.one(MC).inputs["autoScalerProfile"]["expander"]
    has_priorities = any(r.inputs["metadata"]["name"] == "cluster-autoscaler-priority-expander"
                         for r in any_plan.of_type("kubernetes:core/v1:ConfigMap"))
    assert (expander == "priority") == has_priorities


def test_prod_spot_pool_has_on_demand_fallback_preferred_last(prod):
    spot, fallback = pool(prod, "gpu"), pool(prod, "gpuod")
    assert fallback.inputs["scaleSetPriority"] == "Regular" and "spotMaxPrice" not in fallback.inputs
    assert fallback.inputs["nodeLabels"] == spot.inputs["nodeLabels"]
    assert fallback.inputs["nodeTaints"] == ["nvidia.com/gpu=present:NoSchedule"]
    assert prod.one(MC).inputs["autoScalerProfile"]["expander"] == "priority"
    expander = prod.one("kubernetes:core/v1:ConfigMap", "gpu-priority-expander").inputs
    assert expander["metadata"] == {"name": "cluster-autoscaler-priority-expander", "namespace": "kube-system"}
    priorities = __import__("yaml").safe_load(expander["data"]["priorities"])

    def rank(node_group):  # the autoscaler takes the highest priority whose regex matches the node group
        return max(p for p, patterns in priorities.items() if any(re.fullmatch(x, node_group) for x in patterns))

    assert rank("aks-gpu-12345678-vmss") > rank("aks-gpuod-12345678-vmss") > rank("aks-cpu-12345678-vmss")


def test_device_plugin_tolerates_gpu_and_spot_taints_and_targets_gpu_nodes(dev):
    values = release(dev, "nvidia-device-plugin").inputs["values"]
    assert GPU_TOLERATION in values["tolerations"] and SPOT_TOLERATION in values["tolerations"]
    terms = values["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
    assert terms == [{"matchExpressions": [{"key": "llm-platform/accelerator", "operator": "In",
                                            "values": ["nvidia"]}]}]


def test_operator_mode_leaves_driver_to_the_gpu_operator():
    plan = variant("dev-operator")
    assert pool(plan, "gpu").inputs["gpuProfile"] == {"driver": "None"}
    operator = release(plan, "gpu-operator").inputs
    assert operator["values"]["driver"]["rdma"]["enabled"] is True
    assert SPOT_TOLERATION in operator["values"]["daemonsets"]["tolerations"]
    assert all(r.inputs["chart"] != "nvidia-device-plugin" for r in plan.helm_releases())


def test_gpu_outputs_are_what_workloads_need(dev):
    # the pool's own label selects it (and its fallback); the accelerator label stays for every-GPU-node software
    assert dev.outputs["gpuNodeSelector"] == {"llm-platform/pool": "gpu"}
    labels = pool(dev, "gpu").inputs["nodeLabels"]
    assert labels["llm-platform/pool"] == "gpu" and labels["llm-platform/accelerator"] == "nvidia"


def test_gpu_pool_outside_the_catalog_is_described_by_gpu_sku():
    def program():
        llmplatform.GpuNodePool("custom", {"cluster": cluster_handle(), "vm_size": "Standard_NC80adis_H100_v5",
                                           "gpu_sku": {"gpu_model": "H100", "gpus": 2, "gpu_memory_gib": 94}},
                                provider_opts())
    plan = offline.run_function(program)
    pool = plan.one("azure-native:containerservice:AgentPool")
    assert pool.inputs["vmSize"] == "Standard_NC80adis_H100_v5" and pool.inputs["nodeLabels"][
        "llm-platform/gpu-model"] == "h100"


@pytest.mark.parametrize("gpu_model", ["H100 NVL", "-H100", "H100.", "A100 "])
def test_a_gpu_model_that_is_no_label_value_is_refused_before_anything_registers(gpu_model):
    """gpu_sku.gpu_model, lowercased, is the pools' node label llm-platform/gpu-model: AKS refuses a label value with
    a space, or one that does not start and end with a letter or digit, only at `pulumi up`."""
    registered = []

    def program():
        registered.append(llmplatform.GpuNodePool("custom", {
            "cluster": cluster_handle(), "vm_size": "Standard_NC40ads_H100_v5",
            "gpu_sku": {"gpu_model": gpu_model, "gpus": 1, "gpu_memory_gib": 94}}, provider_opts()))
    with pytest.raises(llmplatform.ComponentInputError, match=r"gpu_sku\.gpu_model=.*H100-NVL") as error:
        offline.run_function(program)
    assert not registered and [e["property_path"] for e in error.value.errors or []] == ["gpu_sku.gpu_model"]


def test_a_gpu_model_with_a_hyphen_is_its_node_label():
    def program():
        llmplatform.GpuNodePool("custom", {"cluster": cluster_handle(), "vm_size": "Standard_NC40ads_H100_v5",
                                           "gpu_sku": {"gpu_model": "H100-NVL", "gpus": 1, "gpu_memory_gib": 94}},
                                provider_opts())
    pool = offline.run_function(program).one("azure-native:containerservice:AgentPool")
    assert pool.inputs["nodeLabels"]["llm-platform/gpu-model"] == "h100-nvl"


def test_gpu_pool_follows_the_cluster_version_and_zones_from_the_handle():
    def program():
        handle = {**cluster_handle(), "kubernetes_version": "1.34.2", "zones": ["1", "2"]}
        llmplatform.GpuNodePool("gpu", {"cluster": handle, "vm_size": "Standard_NC4as_T4_v3"}, provider_opts())
    pool = offline.run_function(program).one("azure-native:containerservice:AgentPool")
    assert pool.inputs["orchestratorVersion"] == "1.34.2" and pool.inputs["availabilityZones"] == ["1", "2"]


def test_each_run_in_one_process_installs_the_device_software_afresh():
    """What a cluster's GPU pools have installed is per run (llmplatform.run_state): the same program run twice in
    one process (an Automation API inline program previewed, then updated) installs the device plugin both times,
    by its first pool, and a second pool of one run still shares it."""
    def program():
        on_cluster = provider_opts()  # one cluster: one Kubernetes provider
        for name in ("gpu", "gpu2"):
            llmplatform.GpuNodePool(name, {"cluster": cluster_handle(), "vm_size": "Standard_NC24ads_A100_v4",
                                           "pool_name": name}, on_cluster)

    for _ in range(2):
        plan = offline.run_function(program)
        plugins = [r for r in plan.helm_releases() if r.inputs["chart"] == "nvidia-device-plugin"]
        assert len(plugins) == 1 and plan.component_of(plugins[0]).name == "gpu"
        # and the two components' pool writes queue on the cluster, as AKS takes them (llmplatform.write_order)
        first, second = (pool(plan, name) for name in ("gpu", "gpu2"))
        assert first.urn in second.dependencies


def test_a_mig_pool_offers_each_gpu_instance_as_one_gpu():
    """AKS partitions each A100 of a MIG3g pool into two 40 GB instances; the device plugin offers them only with a
    MIG strategy (its chart's default, none, offers none), so the release sets `single` (each instance one
    nvidia.com/gpu), and the scheduling handle counts instances and their memory, which the fit checks use."""
    import pulumi

    def program():
        gpu = llmplatform.GpuNodePool("gpu", {"cluster": cluster_handle(), "vm_size": "Standard_NC24ads_A100_v4",
                                              "mig_profile": "MIG3g"}, provider_opts())
        pulumi.export("units", {k: gpu.scheduling[k] for k in ("gpus_per_node", "gpu_memory_gib", "mig_profile")})
    plan = offline.run_function(program)
    assert plan.one("azure-native:containerservice:AgentPool").inputs["gpuInstanceProfile"] == "MIG3g"
    assert release(plan, "nvidia-device-plugin").inputs["values"]["migStrategy"] == "single"
    assert plan.outputs["units"] == {"gpus_per_node": 2, "gpu_memory_gib": 40, "mig_profile": "MIG3g"}


def test_mig_is_refused_with_the_gpu_operators_driver():
    """AKS partitions the GPUs with the driver it installs; a pool left to the GPU Operator has none then."""
    def program():
        llmplatform.GpuNodePool("gpu", {"cluster": cluster_handle(), "vm_size": "Standard_NC24ads_A100_v4",
                                        "mig_profile": "MIG3g", "driver": "operator"}, provider_opts())
    with pytest.raises(llmplatform.ComponentInputError, match=r"mig_profile='MIG3g'.*only with driver 'aks'"):
        offline.run_function(program)


def test_a_regional_gpu_pool_has_no_zones_in_a_zonal_cluster_and_empty_zones_take_the_clusters():
    """`regional` is a pool in no zone (its VMs wherever the size has capacity); `zones: []` keeps meaning the
    cluster's zones, and both at once are refused."""
    def program(extra):
        def build():
            handle = {**cluster_handle(), "zones": ["1", "2", "3"]}
            llmplatform.GpuNodePool("gpu", {"cluster": handle, "vm_size": "Standard_NC24ads_A100_v4", **extra},
                                    provider_opts())
        return offline.run_function(build).one("azure-native:containerservice:AgentPool").inputs
    assert "availabilityZones" not in program({"regional": True})
    assert program({"zones": []})["availabilityZones"] == ["1", "2", "3"]
    with pytest.raises(llmplatform.ComponentInputError, match=r"regional=True.*only without zones"):
        program({"regional": True, "zones": ["1"]})


def test_ollama_is_refused_on_a_mig_pool():
    """Ollama validates each CUDA device in a second pass that drops A100 MIG instances in Kubernetes, and then runs on
    the CPU with its startup probe green (ollama/ollama#13800, open at the pinned release)."""
    def program():
        gpu = llmplatform.GpuNodePool("gpu", {"cluster": cluster_handle(), "vm_size": "Standard_NC24ads_A100_v4",
                                              "mig_profile": "MIG3g"}, provider_opts())
        llmplatform.OllamaServer("llm", {"cluster": cluster_handle(), "accelerator": "gpu", "gpu": gpu.scheduling,
                                         "model_volume": {
                                             "namespace": "llm", "claim_name": "models", "mount_path": "/models"}},
                                 provider_opts())
    with pytest.raises(llmplatform.ComponentInputError, match=r"a pool of whole GPUs.*ollama/ollama#13800"):
        offline.run_function(program)


def test_the_device_plugin_offers_mig_instances_only_on_a_cluster_whose_first_gpu_pool_has_mig(dev):
    """Any MIG strategy but none makes the chart add SYS_ADMIN to the plugin (templates/_helpers.tpl
    requiresCapSysAdmin): clusters without MIG keep the chart's default, and a MIG pool after the pool that installed
    a plugin without MIG is refused by name rather than left unserved."""
    assert "migStrategy" not in release(dev, "nvidia-device-plugin").inputs["values"]

    def program():
        handle = cluster_handle()
        llmplatform.GpuNodePool("t4", {"cluster": handle, "vm_size": "Standard_NC4as_T4_v3", "pool_name": "t4"},
                                provider_opts())
        llmplatform.GpuNodePool("a100", {"cluster": handle, "vm_size": "Standard_NC24ads_A100_v4",
                                         "pool_name": "a100", "mig_profile": "MIG3g"}, provider_opts())
    with pytest.raises(llmplatform.ComponentInputError, match=r"GpuNodePool a100: input mig_profile='MIG3g'.*"
                                                              r"declared before GPU pool 't4'"):
        offline.run_function(program)


def test_a_fallback_on_a_cluster_handle_that_arrives_as_an_output_is_checked_once_known_without_a_traceback():
    """The expander of a handle from another language is read when it resolves; the refusal reaches the user as its
    sentence alone (a RunError the SDK does not wrap in its ValueError chain), not a traceback."""
    import pulumi
    from llmplatform.testing import ProgramError

    def program():
        handle = pulumi.Output.from_input({**cluster_handle(), "autoscaler_expander": "least-waste"})
        llmplatform.GpuNodePool("gpu", {"cluster": handle, "vm_size": "Standard_NC4as_T4_v3",
                                        "fallback": {"enabled": True, "min_count": 0, "max_count": 1}}, provider_opts())
    with pytest.raises(ProgramError) as error:
        offline.run_function(program)
    assert str(error.value) == ("GpuNodePool gpu: input fallback.enabled=True is invalid; allowed: only on a cluster "
                                "whose autoscaler_expander is 'priority' (this cluster's is 'least-waste')")


def test_a_turn_after_two_failed_writes_waits_for_the_last_that_was_done():
    """`run_state._last_done` walks back past every failed write (`Turn._before`), not only the one before."""
    import asyncio
    from types import SimpleNamespace

    from llmplatform.run_state import Turn, _last_done

    async def walk() -> list[str]:
        def write(name: str, failed: bool) -> SimpleNamespace:
            future: asyncio.Future = asyncio.get_running_loop().create_future()
            future.set_exception(RuntimeError(name)) if failed else future.set_result(f"urn:{name}")
            return SimpleNamespace(name=name, urn=SimpleNamespace(future=lambda: future))
        before = None
        for name, failed in (("a", False), ("b", True), ("c", True)):
            turn = object.__new__(Turn)
            turn._write, turn._before, before = write(name, failed), before, turn
        return [w.name for w in await _last_done(before)]
    assert asyncio.run(walk()) == ["a"]


POOL_TYPE = "azure-native:containerservice:AgentPool"


def aks_refuses_upgrade_settings(pool: dict, system: bool) -> list[str]:
    """What AKS answers a pool's upgradeSettings with (llmplatform/upgrades.py's sources): maxSurge and maxUnavailable
    on a spot pool are InvalidParameter ("Spot pools can't set max surge", "Spot pools can't set maxUnavailable"),
    maxUnavailable is not for a System pool, with maxUnavailable 0 (its default) maxSurge must be above 0, and
    drainTimeoutInMinutes is 1 to 1440."""
    settings, spot = pool.get("upgradeSettings") or {}, pool.get("scaleSetPriority") == "Spot"
    refused = []
    if spot and "maxSurge" in settings:
        refused.append("maxSurge on a spot pool")
    if spot and "maxUnavailable" in settings:
        refused.append("maxUnavailable on a spot pool")
    if system and settings.get("maxUnavailable") not in (None, "0", "0%"):
        refused.append("maxUnavailable on a System pool")
    if settings.get("maxSurge") in ("0", "0%") and settings.get("maxUnavailable") in (None, "0", "0%"):
        refused.append("maxSurge 0 with maxUnavailable 0")
    # not known to be refused, but not drained either: kept off spot pools (docs/decisions.md, "Node drains")
    if spot and "drainTimeoutInMinutes" in settings:
        refused.append("drainTimeoutInMinutes on a spot pool")
    if not 1 <= settings.get("drainTimeoutInMinutes", 30) <= 1440:  # the 2025-09-01 spec's minimum and maximum
        refused.append("drainTimeoutInMinutes outside 1-1440")
    return refused


def test_every_planned_pool_has_upgrade_settings_aks_takes(any_plan):
    pools = [(r.name, r.inputs, False) for r in any_plan.of_type(POOL_TYPE)]
    pools += [(f"{c.name}/{p['name']}", p, p.get("mode") == "System")
              for c in any_plan.of_type("azure-native:containerservice:ManagedCluster")
              for p in c.inputs["agentPoolProfiles"]]
    assert pools
    for name, pool, system in pools:
        assert aks_refuses_upgrade_settings(pool, system) == [], name


def test_a_regular_gpu_pool_is_upgraded_in_place_and_no_gpu_pool_surges(prod):
    """An upgrade of a regular pool adds maxSurge nodes first (10% by default): one more A100 of the family quota, and
    capacity that may not exist. The fallback is upgraded in place, one node (one model-server replica) at a time;
    the spot pool is upgraded without surge by AKS itself."""
    from llmplatform.upgrades import surge_nodes
    gpu = [r.inputs for r in prod.of_type(POOL_TYPE) if r.inputs["agentPoolName"].startswith("gpu")]
    assert {p["scaleSetPriority"] for p in gpu} == {"Spot", "Regular"}
    for pool in gpu:
        assert surge_nodes(pool["maxCount"], pool["scaleSetPriority"] == "Spot", pool.get("upgradeSettings")) == 0
    (fallback,) = [p for p in gpu if p["scaleSetPriority"] == "Regular"]
    # the stack's drain: prod's six UI pods may share a node (docs/decisions.md, "Node drains with replicas ...")
    assert fallback["upgradeSettings"] == {"maxSurge": "0", "maxUnavailable": "1", "drainTimeoutInMinutes": 77}


def test_a_fallback_given_a_surge_is_upgraded_with_it_and_the_spot_pool_still_without():
    """prod-tls sets gpu.upgradeMaxSurge 1: its on-demand fallback adds a node before it drains one (maxUnavailable 0,
    so no replica is down first); the spot pool sends nothing, as AKS requires."""
    from llmplatform.upgrades import surge_nodes
    pools = [r.inputs for r in variant("prod-tls").of_type(POOL_TYPE)]
    gpu = {p["scaleSetPriority"]: p for p in pools if p["agentPoolName"].startswith("gpu")}
    assert gpu["Regular"]["upgradeSettings"] == {"maxSurge": "1", "maxUnavailable": "0", "drainTimeoutInMinutes": 77}
    assert "upgradeSettings" not in gpu["Spot"]
    assert surge_nodes(gpu["Regular"]["maxCount"], False, gpu["Regular"]["upgradeSettings"]) == 1
    assert aks_refuses_upgrade_settings(gpu["Regular"], False) == []


@pytest.mark.parametrize("value, taken", [
    ("1", True), ("1000", True), ("33%", True), ("100%", True), ("1%", True),
    ("0", False), ("0%", False), ("101%", False), ("1001", False), ("01", False), ("1.5", False), ("-1", False),
    ("", False), ("50 %", False), ("one", False), ("%", False)])
def test_a_surge_is_a_node_count_or_a_percentage_above_zero(value, taken):
    from llmplatform.upgrades import max_surge_problem
    assert (max_surge_problem(value) is None) == taken


@pytest.mark.parametrize("nodes, spot, settings, surge", [
    (3, False, None, 1), (10, False, None, 1), (11, False, None, 2), (25, False, None, 3),  # 10%, rounded up
    (0, False, None, 0), (5, True, None, 0), (4, False, {"maxSurge": "0", "maxUnavailable": "1"}, 0),
    (3, False, {"maxSurge": "5"}, 3), (6, False, {"maxSurge": "33%"}, 2)])  # no more than the nodes to upgrade
def test_surge_nodes_follow_the_rest_specs_max_surge(nodes, spot, settings, surge):
    from llmplatform.upgrades import surge_nodes
    assert surge_nodes(nodes, spot, settings) == surge
