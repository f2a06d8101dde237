"""GPU scheduling proved from the resources themselves: the scheduler's node-selection rules applied to the planned
pools and pod templates, and the device software's DaemonSets rendered from the chart defaults and the values we
set. Nothing here reads our own annotations or handle values as proof.

Upstream rules simulated (Kubernetes v1.35):
- node selection, `k8s.io/component-helpers/scheduling/corev1/nodeaffinity/nodeaffinity.go`: every nodeSelector
  pair equal, and, when required node affinity is set, ANY of its nodeSelectorTerms matching, a term being ALL of its
  matchExpressions (In, NotIn, Exists, DoesNotExist; NotIn and DoesNotExist hold on an absent label; an empty term
  matches nothing);
- taints, `k8s.io/api/core/v1/toleration.go` `ToleratesTaint`: a toleration's effect (if set) and key (if set)
  must equal the taint's; operator Exists matches any value, Equal (or empty) the same value; a node's NoSchedule and
  NoExecute taints must all be tolerated (`TaintToleration` filter plugin);
- AKS labels every node `kubernetes.azure.com/agentpool=<pool>` and spot nodes
  `kubernetes.azure.com/scalesetpriority=spot`, with the spot taint (AKS docs, "Add an Azure Spot node pool");
- Azure's GPU VM sizes are the N family (Azure docs, "GPU optimized virtual machine sizes": NC, ND, NG, NV);
- the charts put `.Values.nodeSelector`, `.Values.affinity` and `.Values.tolerations` on their DaemonSet's pod
  (NVIDIA/k8s-device-plugin `deployments/helm/nvidia-device-plugin/templates/daemonset-device-plugin.yml`,
  NVIDIA/dcgm-exporter `deployment/templates/daemonset.yaml`; node-feature-discovery's worker likewise under
  `worker.`), Helm merging our maps into the chart's and replacing lists;
- the GPU Operator (NVIDIA/gpu-operator v26.7.0, `controllers/state_manager.go`) labels every node on which NFD
  found an NVIDIA PCI device (`feature.node.kubernetes.io/pci-10de.present=true`) with its operands' deploy labels
  (the operand DaemonSets' nodeSelectors), unless the node carries `nvidia.com/gpu.deploy.operands=false`; the
  operand DaemonSets take `daemonsets.tolerations`.
"""
from __future__ import annotations

import functools
import re
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pytest

import llmplatform
from llmplatform.checks import ComponentInputError
from llmplatform.pins import ALL_CHARTS
from offline import deploy_model, runner as offline

from tests.conftest import UPSTREAM, variant
from tests.validation import chart_values

AGENT_POOL = "azure-native:containerservice:AgentPool"
RG = "rg-gpus"
NETWORK = {"vnet_cidr": "10.0.0.0/16", "node_subnet_cidr": "10.0.0.0/20", "endpoints_subnet_cidr": "10.0.16.0/24",
           "postgres_subnet_cidr": "10.0.17.0/24", "pod_cidr": "192.168.0.0/16", "service_cidr": "172.16.0.0/16",
           "dns_service_ip": "172.16.0.10"}
VAULT = {"vault_id": "/vaults/kv1", "vault_name": "kv1", "vault_uri": "https://kv1.vault.azure.net/",
         "tenant_id": "00000000-0000-0000-0000-000000000000", "resource_group_name": RG}
ROUTES = {"namespace": "gw", "gateway_names": ["internal-gateway"], "ui_listener": "ui", "api_listener": "api",
          "llmd_listener": "llmd", "routes_label": {"llm-platform/gateway-routes": "true"}}


# ---- the scheduler's rules ----------------------------------------------------------------------------------------

def parse_taint(text: str) -> dict[str, str]:
    """AKS nodeTaints spelling, key=value:Effect or key:Effect."""
    head, _, effect = text.rpartition(":")
    key, _, value = head.partition("=")
    return {"key": key, "value": value, "effect": effect}


def tolerates(toleration: dict[str, Any], taint: dict[str, str]) -> bool:
    if toleration.get("effect") and toleration["effect"] != taint["effect"]:
        return False
    if toleration.get("key") and toleration["key"] != taint["key"]:
        return False
    if toleration.get("operator") == "Exists":
        return True
    return toleration.get("operator", "Equal") == "Equal" and str(toleration.get("value", "")) == taint["value"]


def expression_holds(expr: dict[str, Any], labels: dict[str, str]) -> bool:
    key, op, values = expr["key"], expr["operator"], [str(v) for v in expr.get("values") or []]
    if op == "In":
        return key in labels and labels[key] in values
    if op == "NotIn":
        return key not in labels or labels[key] not in values
    if op == "Exists":
        return key in labels
    if op == "DoesNotExist":
        return key not in labels
    raise AssertionError(f"operator {op} not simulated")


def schedulable(pod: dict[str, Any], labels: dict[str, str], taints: list[dict[str, str]]) -> bool:
    if any(labels.get(k) != str(v) for k, v in (pod.get("nodeSelector") or {}).items()):
        return False
    required = (((pod.get("affinity") or {}).get("nodeAffinity") or {})
                .get("requiredDuringSchedulingIgnoredDuringExecution"))
    if required is not None and not any(
            term.get("matchExpressions") and all(expression_holds(e, labels) for e in term["matchExpressions"])
            for term in required.get("nodeSelectorTerms") or []):
        return False
    return all(any(tolerates(t, taint) for t in pod.get("tolerations") or [])
               for taint in taints if taint["effect"] in ("NoSchedule", "NoExecute"))


def node_pools(plan: offline.Plan) -> dict[str, tuple[dict[str, str], list[dict[str, str]], str]]:
    """Every pool of the plan (AgentPools and the cluster's inline pools) as its nodes look: labels as AKS sets them,
    taints, VM size."""
    raw = [r.inputs for r in plan.of_type(AGENT_POOL)]
    for cluster in plan.of_type("azure-native:containerservice:ManagedCluster"):
        raw.extend(cluster.inputs.get("agentPoolProfiles") or [])
    found = {}
    for p in raw:
        name = p.get("agentPoolName") or p["name"]
        spot = str(p.get("scaleSetPriority", "")).lower() == "spot"
        labels = {**(p.get("nodeLabels") or {}), "kubernetes.azure.com/agentpool": name, "kubernetes.io/os": "linux",
                  **({"kubernetes.azure.com/scalesetpriority": "spot"} if spot else {})}
        taints = [parse_taint(t) for t in p.get("nodeTaints") or []]
        if spot and not any(t["key"] == "kubernetes.azure.com/scalesetpriority" for t in taints):
            taints.append(parse_taint("kubernetes.azure.com/scalesetpriority=spot:NoSchedule"))
        found[name] = (labels, taints, p["vmSize"])
    return found


def gpu_pools(plan: offline.Plan) -> set[str]:
    return {name for name, (_, _, size) in node_pools(plan).items() if re.match(r"Standard_N[CDGV]", size)}


def landing(pod: dict[str, Any], plan: offline.Plan) -> set[str]:
    return {name for name, (labels, taints, _) in node_pools(plan).items() if schedulable(pod, labels, taints)}


def gpu_pod_templates(plan: offline.Plan) -> list[tuple[offline.Registration, dict[str, Any]]]:
    """Every pod template of the plan that requests nvidia.com/gpu."""
    found = []
    for reg in plan.kubernetes_objects():
        spec = reg.inputs.get("spec") or {}
        pod = ((spec.get("jobTemplate") or {}).get("spec") or spec).get("template", {}).get("spec") \
            if reg.inputs.get("kind") != "Pod" else spec
        if pod and any("nvidia.com/gpu" in {**((c.get("resources") or {}).get("requests") or {}),
                                            **((c.get("resources") or {}).get("limits") or {})}
                       for c in pod.get("containers") or []):
            found.append((reg, pod))
    return found


def rendered_placement(release: offline.Registration, subpath: str = "") -> dict[str, Any]:
    """A chart DaemonSet's pod placement: the chart's defaults with our values merged as Helm merges them."""
    upstream_dir = next(c.upstream_dir for c in ALL_CHARTS if c.chart == release.inputs["chart"].rsplit("/", 1)[-1])
    values = offline.deep_merge(chart_values(UPSTREAM / "charts" / upstream_dir), release.inputs.get("values") or {})
    for part in filter(None, subpath.split(".")):
        values = values[part]
    return {k: values.get(k) for k in ("nodeSelector", "affinity", "tolerations")}


def test_the_simulation_follows_the_upstream_rules():
    spot_taint = parse_taint("kubernetes.azure.com/scalesetpriority=spot:NoSchedule")
    assert spot_taint == {"key": "kubernetes.azure.com/scalesetpriority", "value": "spot", "effect": "NoSchedule"}
    assert tolerates({"key": "kubernetes.azure.com/scalesetpriority", "operator": "Equal", "value": "spot"}, spot_taint)
    assert not tolerates({"key": "kubernetes.azure.com/scalesetpriority", "value": "regular"}, spot_taint)
    assert tolerates({"operator": "Exists"}, spot_taint)
    assert not tolerates({"operator": "Exists", "effect": "NoExecute"}, spot_taint)
    gpu_node = ({"pool": "a", "gpu": "yes"}, [parse_taint("nvidia.com/gpu=present:NoSchedule")])
    assert not schedulable({"nodeSelector": {"pool": "a"}}, *gpu_node)  # the taint, untolerated
    tolerant = [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
    assert schedulable({"nodeSelector": {"pool": "a"}, "tolerations": tolerant}, *gpu_node)
    assert not schedulable({"nodeSelector": {"pool": "b"}, "tolerations": tolerant}, *gpu_node)
    terms = lambda *exprs: {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {  # noqa: E731
        "nodeSelectorTerms": [{"matchExpressions": list(exprs)}]}}}
    assert schedulable({"affinity": terms({"key": "gpu", "operator": "In", "values": ["yes"]}),
                        "tolerations": tolerant}, *gpu_node)
    assert not schedulable({"affinity": terms({"key": "gpu", "operator": "In", "values": ["yes"]},
                                              {"key": "pool", "operator": "NotIn", "values": ["a"]}),
                            "tolerations": tolerant}, *gpu_node)
    assert not schedulable({"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
        "nodeSelectorTerms": [{}]}}}, "tolerations": tolerant}, *gpu_node)  # an empty term matches nothing


# ---- two GPU pools of different sizes, two InferenceStacks and llm-d on one cluster -------------------------------

EXPECTED = {"chat": {"gput4", "gput4od"}, "code": {"gpua100"}, "llmd": {"gpua100"}}


def two_pools_program() -> None:
    P = llmplatform
    pool = lambda name, size, low, high: {"name": name, "vm_size": size, "min_count": low, "max_count": high}  # noqa
    # a group of its own: VAULT's would not exist before the cluster creates it
    aks = P.AksCluster("aks", {"cluster_name": "aks-gpus", "resource_group_name": f"{RG}-aks", "location": "westeurope",
                               "network": NETWORK, "autoscaler_expander": "priority",
                               "system_pool": pool("system", "Standard_D2s_v5", 1, 2),
                               "workload_pool": pool("cpu", "Standard_D4s_v5", 1, 3)})
    on = pulumi.ResourceOptions(providers=[aks.provider])
    t4 = P.GpuNodePool("t4", {"cluster": aks.cluster, "vm_size": "Standard_NC4as_T4_v3", "pool_name": "gput4",
                              "fallback": {"enabled": True, "min_count": 0, "max_count": 1}}, on)
    a100 = P.GpuNodePool("a100", {"cluster": aks.cluster, "vm_size": "Standard_NC24ads_A100_v4",
                                  "pool_name": "gpua100", "priority": "regular"}, on)
    for stack, gpu in (("chat", t4), ("code", a100)):
        namespace = P.AppNamespace(stack, {"namespace": stack}, on)  # the kit advises of a namespace none creates
        P.InferenceStack(stack, {"cluster": aks.cluster, "key_vault": VAULT, "accelerator": "gpu",
                                 "gpu": gpu.scheduling, "model_volume": {"namespace": stack, "claim_name": "models",
                                                                         "mount_path": "/models"}},
                         pulumi.ResourceOptions(providers=[aks.provider], depends_on=[namespace]))
    P.LlmdStack("llmd", {"cluster": aks.cluster, "gpu": a100.scheduling, "route_target": ROUTES,
                         "model": "Qwen/Qwen3-0.6B", "key_vault": VAULT}, on)
    P.Observability("obs", {"cluster": aks.cluster, "key_vault": VAULT, "app_namespace": "chat",
                            "other_app_namespaces": ["code"],  # OllamaDown for both stacks (the kit warned)
                            "vllm_namespaces": ["llm-d"],  # VllmDown for the LlmdStack (the kit warns since c2a4411)
                            "gpu": t4.scheduling}, on)


@functools.lru_cache(maxsize=None)
def two_pools() -> offline.Plan:
    # the runner refuses two resources with one URN and one Kubernetes or Azure name claimed twice: composing at
    # all is the no-collision proof
    return offline.run_function(two_pools_program)


def test_two_gpu_pools_compose_with_one_device_plugin():
    plan = two_pools()
    assert gpu_pools(plan) == {"gput4", "gput4od", "gpua100"}
    plugins = [r for r in plan.helm_releases() if r.inputs["chart"] == "nvidia-device-plugin"]
    assert len(plugins) == 1 and not plan.warnings
    namespaces = {o.inputs["metadata"]["namespace"] for o, _ in gpu_pod_templates(plan)}
    assert {"chat", "code"} <= namespaces


def test_each_gpu_workload_lands_on_its_own_pool_and_its_fallback_only():
    plan = two_pools()
    seen = set()
    for reg, pod in gpu_pod_templates(plan):
        owner = plan.component_of(reg).name
        assert landing(pod, plan) == EXPECTED[owner], (owner, reg.name)
        seen.add(owner)
    assert seen == set(EXPECTED)  # Ollama of both stacks and llm-d's vLLM


def test_the_deploy_model_waits_for_the_pools_the_workloads_land_on():
    plan = two_pools()
    pools = deploy_model.pools(plan)
    for reg, pod in gpu_pod_templates(plan):
        assert {p.name for p in deploy_model.landing_pools(pod, pools)} == landing(pod, plan), reg.name


def test_device_plugin_and_dcgm_exporter_run_on_every_gpu_node():
    plan = two_pools()
    for chart in ("nvidia-device-plugin", "dcgm-exporter"):
        release = next(r for r in plan.helm_releases() if r.inputs["chart"] == chart)
        assert landing(rendered_placement(release), plan) == gpu_pools(plan), chart


@pytest.mark.parametrize("name", ["llmd", "dev-operator"])
def test_gpu_operator_operands_reach_every_gpu_pool(name):
    any_plan = variant(name)
    (release,) = [r for r in any_plan.helm_releases() if r.inputs["chart"] == "gpu-operator"]
    gpus = gpu_pools(any_plan)
    assert gpus
    # NFD's worker finds the NVIDIA devices the operator labels nodes by ...
    assert landing(rendered_placement(release, "node-feature-discovery.worker"), any_plan) >= gpus
    # ... and the operand DaemonSets (selected by those labels) tolerate every GPU pool's taints
    tolerations = rendered_placement(release, "daemonsets")["tolerations"]
    for name, (labels, taints, _) in node_pools(any_plan).items():
        if name in gpus:
            assert labels.get("nvidia.com/gpu.deploy.operands") != "false", name
            assert schedulable({"tolerations": tolerations}, labels, taints), name


# ---- one cluster's device software: once, and one kind ------------------------------------------------------------

def handle() -> dict[str, Any]:
    return {"resource_group_name": RG, "location": "westeurope", "cluster_name": "aks-c1", "cluster_id": "/aks/c1",
            "vnet_id": "/vnet", "node_subnet_id": "/vnet/subnets/nodes", "endpoints_subnet_id": "/vnet/subnets/pe",
            "postgres_subnet_id": "/vnet/subnets/pg", "oidc_issuer_url": "https://oidc/", "kubernetes_version": "",
            "zones": [], "cpu_node_selector": {"llm-platform/pool": "cpu"}, "pod_cidr": "192.168.0.0/16",
            "autoscaler_expander": "priority", "encryption_at_host": False}


def pools_on(*pools: tuple[str, dict[str, Any]], clusters: int = 1) -> offline.Plan:
    def program() -> None:
        providers = [k8s.Provider(f"k8s{i}", kubeconfig="apiVersion: v1") for i in range(clusters)]
        for i, (name, extra) in enumerate(pools):
            llmplatform.GpuNodePool(name, {"cluster": handle(), "vm_size": "Standard_NC4as_T4_v3", "pool_name": name,
                                           **extra},
                                    pulumi.ResourceOptions(providers=[providers[i % clusters]]))
    return offline.run_function(program)


def software(plan: offline.Plan) -> list[str]:
    return sorted(f"{r.inputs['chart']}@{r.options['provider'].split('::')[3]}" for r in plan.helm_releases())


def test_device_software_is_installed_once_per_cluster_and_anew_each_run():
    assert software(pools_on(("gpua", {}), ("gpub", {}))) == ["nvidia-device-plugin@k8s0"]
    # a second run in the same process is a deployment of its own: it installs again
    assert software(pools_on(("gpua", {}), ("gpub", {}))) == ["nvidia-device-plugin@k8s0"]
    # two clusters: one each, and each its own driver
    assert software(pools_on(("gpua", {}), ("gpub", {"driver": "operator"}), clusters=2)) == [
        "gpu-operator@k8s1", "nvidia-device-plugin@k8s0"]


def test_a_pool_declining_where_another_pool_of_the_program_installs_is_told_it_changes_nothing():
    """False is for a cluster whose device software another stack installed (test_stranger6_consumer); beside a pool
    of the same program that installs it, it changes nothing."""
    plan = pools_on(("gpua", {"install_device_software": False}), ("gpub", {}))
    assert software(plan) == ["nvidia-device-plugin@k8s0"]  # the next pool that may installs it
    (release,) = plan.helm_releases()
    assert plan.by_urn(release.parent).name == "gpub"
    assert [w for w in plan.warnings if "install_device_software" in w] == [
        "GpuNodePool gpua: install_device_software False changes nothing here: GpuNodePool gpub installs the device "
        "software on the same cluster. If another stack installed it there, give gpub install_device_software False "
        "too (a second installation fails on its existing namespace); else leave it out"]


@pytest.mark.parametrize("pools, message", [
    ((("gpua", {}), ("gpub", {"driver": "operator"})), "input driver='operator' is invalid; allowed: 'aks', as GPU pool 'gpua'"),
    ((("gpua", {"driver": "operator"}), ("gpub", {"driver": "operator", "vm_size": "Standard_ND96asr_v4"})),
     "input vm_size='Standard_ND96asr_v4' is invalid; allowed: a size without RDMA, as GPU pool 'gpua'"),
    ((("gpua", {"fallback": {"enabled": True, "min_count": 0, "max_count": 1}}),
      ("gpub", {"fallback": {"enabled": True, "min_count": 0, "max_count": 1}})), "input fallback.enabled=True"),
    ((("cpu", {}),), "input pool_name='cpu'"),
])
def test_what_one_cluster_cannot_share_is_refused_by_name(pools, message):
    with pytest.raises(ComponentInputError, match=re.escape(message)) as error:
        pools_on(*pools)
    assert str(error.value).startswith(f"GpuNodePool {pools[-1][0]}: input ")



def test_a_second_driver_on_one_cluster_is_refused_for_what_the_operator_really_puts_there():
    """The refusal said the GPU Operator deploys its driver on AKS-driver nodes: its driver container stands down on a
    node whose driver is installed (`nvidia.com/gpu.deploy.driver=pre-installed`, GPU Operator release notes 1.11.1);
    what it does put there is its toolkit, device plugin and DCGM exporter (NVIDIA/gpu-operator v26.7.0
    controllers/state_manager.go: every node with an NVIDIA PCI device unless `nvidia.com/gpu.deploy.operands=false`),
    beside the device plugin chart."""
    with pytest.raises(ComponentInputError) as error:
        pools_on(("gpua", {}), ("gpub", {"driver": "operator"}))
    text = str(error.value)
    assert "container toolkit, device plugin and DCGM exporter" in text and "deploys its driver" not in text
