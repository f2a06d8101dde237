"""The labels AKS's nodes carry that a pod's placement may name, and a pool's pod room when it gives no maxPods.

- cluster-autoscaler predicts an AKS node's labels (kubernetes/autoscaler 0d4679d4, cloudprovider/azure/
  azure_template.go): kubelet's `kubernetes.io/arch` and `os`, the VM size, `topology.kubernetes.io/region` and
  `zone` (each with its deprecated `beta.` / `failure-domain.beta.` twin), `kubernetes.azure.com/accelerator: nvidia`
  on a GPU size, `kubernetes.azure.com/os-sku`; a zonal node's zone is `<region>-<zone>` (the Azure Availability
  Zones KEP, "AZ label format"), a non-zonal one's its fault domain's number;
- a pool without maxPods gets AKS's default for the cluster's network (MicrosoftDocs/azure-aks-docs @546865d8,
  concepts-network-ip-address-planning.md, "Maximum pods per node"): Azure CNI Overlay 250, Pod Subnet 110, node
  subnet 30, kubenet 110 (no plugin named: overlay, AKS's default from 1.30); kube-reserved memory is 20 MiB per
  pod + 50 MiB, at most 25 % of the VM (AKS 1.29+)."""
from __future__ import annotations

import copy
import dataclasses

import pytest

from offline import capacity
from offline import deploy_model as dm
from offline.runner import Plan

from tests.conftest import variant
from tests.offline.test_capacity_affinity import _expr
from tests.offline.test_deploy_model_round9 import OLLAMA_NO_POOL, _ollamas_pools, _prod_with_ollamas_pod, _required

GPU_POOLS = ["gpu-gpu", "gpu-gpuod"]  # prod's spot and on-demand A100 pools, zones 1-3, Ubuntu
SELECTED = {"llm-platform/pool": "gpu"}  # Ollama's own node selector
ZONE = "topology.kubernetes.io/zone"


def _refused(model: dm.DeployModel) -> list[tuple[str, str]]:
    return [(p.rule, p.resource) for p in model.problems if "fit no node pool" in p.message]


@pytest.mark.parametrize("selector", [
    {"kubernetes.io/arch": "amd64"},
    {"beta.kubernetes.io/arch": "amd64", "beta.kubernetes.io/os": "linux"},
    {"kubernetes.azure.com/accelerator": "nvidia"},
    {"kubernetes.azure.com/os-sku": "Ubuntu"},  # GpuNodePool's pools are Ubuntu
    {"topology.kubernetes.io/region": "westeurope"},
    {"beta.kubernetes.io/instance-type": "Standard_NC24ads_A100_v4"},
], ids=lambda s: ",".join(s))
def test_a_pod_selecting_a_label_every_aks_node_has_lands_on_its_pools(selector):
    """Charts often pin pods to `kubernetes.io/arch: amd64`; a GPU workload selects the accelerator label. None of
    these were among the labels the model gave a pool: prod's Ollama selecting one landed nowhere and the deploy
    model refused (`fit no node pool`, a timeout) a plan a cluster runs."""
    landed, model = _ollamas_pools(_prod_with_ollamas_pod(nodeSelector={**SELECTED, **selector}))
    assert landed == GPU_POOLS and not _refused(model), model.problems


@pytest.mark.parametrize("selector", [
    {"kubernetes.io/arch": "arm64"},
    {"kubernetes.azure.com/os-sku": "AzureLinux"},  # the system and CPU pools' SKU, not the GPU pools'
    {"topology.kubernetes.io/region": "swedencentral"},
], ids=lambda s: ",".join(f"{k}={v}" for k, v in s.items()))
def test_a_pod_selecting_another_value_lands_nowhere(selector):
    landed, model = _ollamas_pools(_prod_with_ollamas_pod(nodeSelector={**SELECTED, **selector}))
    assert landed == [] and _refused(model) == [OLLAMA_NO_POOL]


@pytest.mark.parametrize("zones, pools", [
    (["westeurope-2"], GPU_POOLS),  # a zone the pools span: their nodes there
    (["westeurope-4", "westeurope-3"], GPU_POOLS),  # one of the values is enough
    (["westeurope-4"], []),  # a zone they do not span
    (["0"], []),  # a non-zonal node's value: these pools are zonal
    (["swedencentral-1"], []),  # another region's zone
])
def test_a_pod_pinned_to_a_zone_lands_on_the_pools_with_nodes_in_it(zones, pools):
    """A node's zone is its own (`<region>-<zone>`): a pool spanning zones 1-3 has nodes a pod pinned to
    `westeurope-2` may run on, none for `westeurope-4`."""
    affinity = _required([_expr(ZONE, "In", *zones)])
    landed, model = _ollamas_pools(_prod_with_ollamas_pod(affinity=affinity))
    assert landed == pools and _refused(model) == ([] if pools else [OLLAMA_NO_POOL]), model.problems


def test_a_non_zonal_pools_nodes_are_in_no_regional_zone():
    """dev's pools span no zone: a pod pinned to `westeurope-1` finds none (its nodes' zone is a fault domain's
    number), `NotIn` a zone holds on every one."""
    pools = dm.pools(variant("dev"))
    spec = {"affinity": _required([_expr(ZONE, "In", "westeurope-1")]), "tolerations": [{"operator": "Exists"}]}
    assert dm.landing_pools(spec, pools) == []
    spec["affinity"] = _required([_expr(ZONE, "NotIn", "westeurope-1")])
    assert sorted(p.name for p in dm.landing_pools(spec, pools)) == sorted(p.name for p in pools)


def test_an_arm_size_is_arm64():
    """`p` among a size's features is an Arm-based processor (Azure's VM naming convention)."""
    assert capacity.node_arch("Standard_D4ps_v5") == "arm64" and capacity.node_arch("Standard_E8pds_v5") == "arm64"
    assert capacity.node_arch("Standard_D4ads_v5") == "amd64" and capacity.node_arch("Standard_NC24ads_A100_v4") == \
        "amd64"


# ---- zones in the capacity model ------------------------------------------------------------------------------
def _prod_with_webui(memory: str, affinity: dict | None) -> Plan:
    """prod's plan (a copy) with Open WebUI's pod on the CPU pool (D8ds_v5, minimum 3 nodes over zones 1-3) asking
    for `memory`, placed also by this affinity."""
    plan = copy.deepcopy(variant("prod"))
    webui = next(r for r in plan.of_type("kubernetes:apps/v1:Deployment")
                 if r.inputs["metadata"]["name"] == "open-webui")
    spec = webui.inputs["spec"]["template"]["spec"]
    spec["containers"][0]["resources"] = {"requests": {"cpu": "100m", "memory": memory}, "limits": {"memory": memory}}
    if affinity:
        spec["affinity"] = affinity
    return plan


def test_a_pod_pinned_to_a_zone_counts_on_a_node_of_that_zone(monkeypatch, capsys, tmp_path):
    """The CPU pool's nodes take its zones in turn (its minimum three, one per zone; a fourth in zone 1). Unpinned,
    a 24 GiB Open WebUI fits that fourth node; pinned to zone 2 it does not (the model had no zone label: it ran
    nowhere), so it counts a fifth node, in zone 2, which the cluster autoscaler cannot ask for (a pool spanning
    zones gets its node where the scale set puts it): the plan warns, naming the fix."""
    from offline import plan as plan_cli, runner
    big = "24Gi"  # more than what the CPU pool's zone-2 node has left
    free = capacity.idle_capacity(_prod_with_webui(big, None))
    assert free.problems == [] and free.idle_nodes["cpu"] == 4
    planted = _prod_with_webui(big, _required([_expr(ZONE, "In", "westeurope-2")]))
    pinned = capacity.idle_capacity(planted)
    assert pinned.errors == [] and pinned.idle_nodes["cpu"] == 5
    [warning] = pinned.problems
    assert warning.startswith("Deployment llm/open-webui: counted on a cpu node in westeurope-2, which the cluster "
                              "autoscaler cannot ask for"), warning
    assert "give it a pool of its own zone" in warning
    monkeypatch.setattr(runner, "run", lambda *args, **kwargs: planted)
    code, written = plan_cli.plan_one("prod", str(tmp_path), [], None, {})
    assert code == 0 and f"capacity warning: {warning}" in capsys.readouterr().out


def test_a_small_pod_pinned_to_a_zone_fits_the_node_already_there():
    """The pool's minimum already has a zone-2 node with room: no node added, no warning."""
    result = capacity.idle_capacity(_prod_with_webui("1Gi", _required([_expr(ZONE, "In", "westeurope-2")])))
    assert result.problems == [] and result.idle_nodes["cpu"] == 3


def test_a_pod_pinned_to_a_zone_no_pool_spans_runs_nowhere():
    result = capacity.idle_capacity(_prod_with_webui("1Gi", _required([_expr(ZONE, "In", "westeurope-9")])))
    assert [p for p in result.problems if p.startswith("Deployment llm/open-webui: no pool it may run on")]


# ---- maxPods AKS's default ------------------------------------------------------------------------------------
def _cpu_offer(plan: Plan) -> str:
    """What an empty CPU node offers, as the refusal of a pod too large for every pool says it."""
    [error] = capacity.idle_capacity(plan).errors
    return error.split("cpu (Standard_D8ds_v5) ", 1)[1].split(";", 1)[0]


def _prod_cpu_pool(max_pods: int | None, network: dict | None = None, pod_subnet: bool = False) -> Plan:
    """prod (a copy) with its CPU pool given this maxPods (None: none), its cluster this networkProfile, and Open
    WebUI asking for more memory than any node has (its refusal says what each pool offers)."""
    plan = _prod_with_webui("900Gi", None)
    cpu = next(r for r in plan.of_type("azure-native:containerservice:AgentPool")
               if r.inputs["agentPoolName"] == "cpu")
    cpu.inputs.pop("maxPods") if max_pods is None else cpu.inputs.__setitem__("maxPods", max_pods)
    if pod_subnet:
        cpu.inputs["podSubnetID"] = ("/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/"
                                     "virtualNetworks/v/subnets/pods")
    if network is not None:
        [cluster] = plan.of_type("azure-native:containerservice:ManagedCluster")
        cluster.inputs["networkProfile"] = network
    return plan


@pytest.mark.parametrize("network, pod_subnet, default", [
    (None, False, 250),  # prod's own: Azure CNI Overlay with the Cilium dataplane
    ({"networkPlugin": "azure"}, False, 30),  # Azure CNI on the node subnet
    ({"networkPlugin": "azure"}, True, 110),  # Azure CNI Pod Subnet
    ({"networkPlugin": "kubenet"}, False, 110),
    ({}, False, 250),  # no plugin named: Azure CNI Overlay, AKS's default from Kubernetes 1.30
])
def test_a_pool_without_max_pods_gets_aks_default_for_the_clusters_network(network, pod_subnet, default):
    """The model gave every such pool 110 pods: on an overlay cluster AKS gives 250, whose kube-reserved memory
    (20 MiB x 250 + 50 MiB = 5050 MiB on a 32 GiB D8ds_v5) is 2800 MiB more than 110's, so a pod that did not fit
    the real node was counted on it."""
    assert _cpu_offer(_prod_cpu_pool(None, network, pod_subnet)) == \
        _cpu_offer(_prod_cpu_pool(default, network, pod_subnet))
    assert _cpu_offer(_prod_cpu_pool(None, network, pod_subnet)) != _cpu_offer(
        _prod_cpu_pool(250 if default != 250 else 110, network, pod_subnet))


def test_a_pool_without_max_pods_is_refused_a_pod_the_real_node_cannot_hold(monkeypatch, capsys, tmp_path):
    """Through `make plan`: a pod asking for what a D8ds_v5 node keeps with 110 pods but not with AKS's 250 is
    refused on prod's overlay cluster."""
    refuses_webui_beyond_a_250_pod_node(_prod_cpu_pool(None), monkeypatch, capsys, tmp_path)


def refuses_webui_beyond_a_250_pod_node(planted, monkeypatch, capsys, tmp_path) -> None:
    """Open WebUI on the CPU pool asking one MiB more than a D8ds_v5 node with 250 pods keeps: the capacity check
    and `make plan` (prod, the run replaced by `planted`) refuse it."""
    from offline import plan as plan_cli, runner
    with_250 = 32 * 1024 - (20 * 250 + 50) - 100
    webui = next(r for r in planted.of_type("kubernetes:apps/v1:Deployment")
                 if r.inputs["metadata"]["name"] == "open-webui")
    spec = webui.inputs["spec"]["template"]["spec"]
    spec["containers"][0]["resources"] = {"requests": {"cpu": "100m", "memory": f"{with_250 + 1}Mi"},
                                          "limits": {"memory": f"{with_250 + 1}Mi"}}
    spec["nodeSelector"] = {"llm-platform/pool": "cpu"}
    errors = capacity.idle_capacity(planted).errors
    assert [e for e in errors if e.startswith("Deployment llm/open-webui (100m CPU, ")], errors
    monkeypatch.setattr(runner, "run", lambda *args, **kwargs: planted)
    code, written = plan_cli.plan_one("prod", str(tmp_path), [], None, {})
    assert (code, written) == (1, None) and "capacity check refuses" in capsys.readouterr().err


# ---- one source of a pool's labels ----------------------------------------------------------------------------
def test_a_hand_built_pool_and_a_pool_read_from_a_plan_carry_the_same_labels():
    """The deploy model's Pool kept its nodes' labels twice (read from the plan, and rebuilt for a pool made by
    hand from fewer fields, which lost the mode, the OS and the zones): one source now, its fields. prod's system
    pool rebuilt from them carries what the plan's does, `kubernetes.azure.com/mode: system` and its zones
    included."""
    [system] = [p for p in dm.pools(variant("prod")) if p.name == "system"]
    rebuilt = dm.Pool(system.urn, "system", system.vm_size, system.labels, system.taints, system.start_nodes,
                      system.spot, system.driver, mode="System", os_type="Linux", os_sku="AzureLinux",
                      zones=("1", "2", "3"), location="westeurope")
    assert rebuilt.label_sets == system.label_sets
    assert [s["kubernetes.azure.com/mode"] for s in system.label_sets] == ["system"] * 3
    assert [s[ZONE] for s in system.label_sets] == ["westeurope-1", "westeurope-2", "westeurope-3"]
    spec = {"nodeSelector": {"kubernetes.azure.com/mode": "system"}, "tolerations": [{"operator": "Exists"}]}
    assert dm.landing_pools(spec, [rebuilt]) == [rebuilt]
    assert dm.landing_pools(spec, [dataclasses.replace(rebuilt, mode="User")]) == []
