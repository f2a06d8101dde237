"""Idle capacity: how many nodes of each pool the plan's always-running pods keep up.

The cost estimate's idle figure is "autoscaler minimums", but a pool's minimum is only what is left running when
nothing asks for more: if the pods that always run (replicas at their autoscalers' minimums, DaemonSets, AKS's own
pods) do not fit the minimum nodes by their requests, the cluster autoscaler adds nodes and idle costs more. This
module packs those requests onto each pool's nodes (first fit, largest first, as the scheduler fills nodes) and says
how many nodes each pool needs at idle.

Sources of pods, all from the recorded resource inputs:
- the program's own Deployments, StatefulSets and DaemonSets (an HPA or ScaledObject that targets a workload sets its
  idle replicas to the scaler's minimum);
- Helm releases, through `CHART_PODS`: where each chart keeps a workload's resources, replicas and placement in its
  values, with the chart's own default requests and what it renders (a test checks them against the vendored
  values.yaml), the GPU nodes' DaemonSets among them (the device plugin, dcgm-exporter, the GPU Operator's operands);
- the pods Istio creates for each Gateway;
- AKS's own pods (`aks_system_pods.json`: assumed figures, see its _source; each row's DaemonSets take a pod slot
  each on every node, `_daemonsets`).

A pod may run on a pool whose nodes meet its node selector and required node affinity and whose taints it
tolerates, as kube-scheduler's filters decide (the predicates below; the deploy model places pods with them too).

Allocatable per node follows AKS's published reservations (learn.microsoft.com/azure/aks/node-resource-reservations,
AKS 1.29 and later): kube-reserved CPU by core count; memory min(20 MiB x max pods + 50 MiB, 25 % of the VM) plus the
100 Mi eviction threshold. Every version the config accepts is 1.29 or later (config/aks_versions.py: AKS's calendar
has no older version it still creates clusters with), so the older regressive formula and 750 Mi threshold never
apply. A pool that gives no maxPods gets AKS's default for the cluster's network (`aks_default_max_pods`).
"""
import functools
import json
import math
import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, NamedTuple, Optional

from config.catalogs import vm_shape
from config.quantities import parse_quantity
from llmplatform.gpu_skus import find_gpu_sku, known_gpu_sizes
from llmplatform.monitoring import POOL_NODE_LABELS
from llmplatform.taints import SPOT_TAINT_KEY, pool_taints, tolerates
from llmplatform.write_order import AGENT_POOL, MANAGED_CLUSTER

from .pod_specs import pod_spec
from .runner import Plan, Registration

AKS_SYSTEM_PODS = Path(__file__).resolve().parent.parent / "config" / "data" / "aks_system_pods.json"
GPU_TAINT_KEY = "nvidia.com/gpu"  # also the extended resource name GPU pods request
SPOT_LABEL = SPOT_TAINT_KEY  # AKS's label on a spot pool's nodes (and its taint's key)
PRIORITY, ROLE = "kubernetes.azure.com/priority", "kubernetes.azure.com/role"  # on every node: spot/regular, agent
INSTANCE_TYPE = "node.kubernetes.io/instance-type"  # the VM size, on every node
# A pool given no `count` has one node: "The default value is 1" (ManagedClusterAgentPoolProfileProperties.count,
# Microsoft.ContainerService REST API 2025-09-01, as pulumi-azure-native 3.29.0's AgentPool documents it)
AKS_DEFAULT_COUNT = 1
# AKS's maxPods for a pool that gives none, by the cluster's network ("Maximum pods per node", MicrosoftDocs/
# azure-aks-docs @546865d8 articles/aks/concepts-network-ip-address-planning.md; the REST API's maxPods, 2025-09-01 as
# pulumi-azure-native 3.29.0 uses it, documents no default): Azure CNI Overlay 250 (the Cilium dataplane too: it
# follows the IP mode), Azure CNI Pod Subnet 110, Azure CNI node subnet (legacy) 30, kubenet 110. A cluster naming
# no plugin is overlay: AKS defaults it by Kubernetes version, kubenet before 1.30 and Azure CNI Overlay from 1.30
# (Azure/azure-rest-api-specs#30844, which removed the API's `default: kubenet`; azure-aks-docs @fb060abe
# azure-cni-overlay.md), and every version a plan can pin is 1.30 or later (config/aks_versions.py).
OVERLAY_MAX_PODS, POD_SUBNET_MAX_PODS, NODE_SUBNET_MAX_PODS, KUBENET_MAX_PODS = 250, 110, 30, 110
KUBE_RESERVED_CPU_M = {1: 60, 2: 100, 4: 140, 8: 180, 16: 260, 32: 420, 64: 740}


@dataclass(frozen=True)
class ChartPod:
    """One workload a chart renders, located by paths in its values ("" = the top level)."""
    workload: str
    resources: str  # values path of the container's resources
    default_requests: tuple[str, str]  # (cpu, memory) the chart requests when our values set none; ("0", "0"): none
    replicas: Optional[str] = None  # values path of the replica count (None: one replica)
    default_replicas: int = 1
    placement: str = ""  # values path of the dict holding nodeSelector / tolerations / affinity
    daemon: bool = False  # a DaemonSet: one pod on every node it may run on
    # whether the chart renders it: the first of these values paths that holds a bool decides (a subchart's
    # `condition: a,b`: helm v3.20.2, pulumi-kubernetes' own, pkg/chartutil/dependencies.go
    # `processDependencyConditions`, over the chart's values coalesced with the release's), else `enabled_default`,
    # what the chart's own values decide (a test reads them; no chart here sets an earlier path than the release)
    enabled: tuple[str, ...] = ()
    enabled_default: bool = True
    # node requirements the template or an operator adds to the values' placement (ANDed with each of its terms)
    requires: tuple[dict[str, Any], ...] = ()
    subchart: bool = False  # a subchart's: it sees its own values only, never the parent chart's top-level placement


NONE = ("0", "0")
# Where a GPU node's own DaemonSets run. The GPU Operator's operands (NVIDIA/gpu-operator v26.7.0, 10ee5b36, assets/
# state-*/*daemonset.yaml) select `nvidia.com/gpu.deploy.<operand>: "true"`, which the operator puts on every node
# whose NFD labels show an NVIDIA PCI device (controllers/nodelabeling_controller.go `labelGPUNodes`: NFD's
# `pci-10de.present` makes `nvidia.com/gpu.present`, then state_manager.go `gpuStateLabels`, container workloads):
# the nodes AKS labels `kubernetes.azure.com/accelerator: nvidia`. It adds `nvidia.com/gpu.deploy.mig-manager` only
# where the GPU is MIG-capable (`hasMIGCapableGPU`): the catalog's `mig_capable` sizes. The MPS control daemons
# select `nvidia.com/mps.capable: "true"`, which GPU feature discovery sets only under an MPS sharing config: no
# node the program makes carries it.
ON_NVIDIA_GPU = {"key": "kubernetes.azure.com/accelerator", "operator": "In", "values": ["nvidia"]}
ON_MIG_GPU = {"key": "node.kubernetes.io/instance-type", "operator": "In",
              "values": sorted(sku.vm_size for sku in map(find_gpu_sku, known_gpu_sizes()) if sku and sku.mig_capable)}
MPS_CAPABLE = {"key": "nvidia.com/mps.capable", "operator": "In", "values": ["true"]}


def gpu_operand(workload: str, key: str, enabled_default: Optional[bool] = True,
                requires: tuple[dict[str, Any], ...] = (ON_NVIDIA_GPU,)) -> ChartPod:
    """A ClusterPolicy operand: a DaemonSet with `<key>.resources` (object_controls.go sets them on its containers;
    the assets request nothing) and `daemonsets.tolerations` (`applyCommonDaemonsetConfig`), rendered while
    `<key>.enabled` holds (state_manager.go `isStateEnabled`; None: always, the validator)."""
    return ChartPod(workload, f"{key}.resources", NONE, daemon=True, placement="daemonsets",
                    enabled=() if enabled_default is None else (f"{key}.enabled",),
                    enabled_default=enabled_default is not False, requires=requires)


def nfd_pods(prefix: str, **on: Any) -> list[ChartPod]:
    """node-feature-discovery 0.19.0 as a subchart under `prefix`: master and gc Deployments, a worker on every
    node it tolerates."""
    return [ChartPod("nfd-master", f"{prefix}.master.resources", ("100m", "128Mi"), f"{prefix}.master.replicaCount",
                     1, f"{prefix}.master", subchart=True, **on),
            ChartPod("nfd-gc", f"{prefix}.gc.resources", ("10m", "128Mi"), f"{prefix}.gc.replicaCount", 1,
                     f"{prefix}.gc", subchart=True, **on),
            ChartPod("nfd-worker", f"{prefix}.worker.resources", ("5m", "64Mi"), daemon=True,
                     placement=f"{prefix}.worker", subchart=True, **on)]


CHART_PODS: dict[str, list[ChartPod]] = {
    "base": [],
    "istiod": [ChartPod("istiod", "resources", ("500m", "2048Mi"), "autoscaleMin")],
    # its DaemonSets come from the NicClusterPolicy, on the InfiniBand (GPU) nodes only
    "network-operator": [ChartPod("network-operator", "operator.resources", ("5m", "64Mi"), None, 1, "operator")],
    "keda": [ChartPod("keda-operator", "resources.operator", ("100m", "100Mi"), "operator.replicaCount"),
             ChartPod("keda-metrics-apiserver", "resources.metricServer", ("100m", "100Mi"),
                      "metricsServer.replicaCount"),
             ChartPod("keda-admission-webhooks", "resources.webhooks", ("100m", "100Mi"), "webhooks.replicaCount")],
    "keda-add-ons-http": [
        ChartPod("operator", "operator.resources", ("250m", "20Mi"), "operator.replicas", 1, "operator"),
        ChartPod("scaler", "scaler.resources", ("250m", "20Mi"), "scaler.replicas", 3, "scaler"),
        ChartPod("interceptor", "interceptor.resources", ("250m", "20Mi"), "interceptor.replicas.min", 3,
                 "interceptor")],
    "kube-prometheus-stack": [
        ChartPod("prometheus", "prometheus.prometheusSpec.resources", NONE, "prometheus.prometheusSpec.replicas", 1,
                 "prometheus.prometheusSpec"),
        ChartPod("alertmanager", "alertmanager.alertmanagerSpec.resources", NONE,
                 "alertmanager.alertmanagerSpec.replicas", 1, "alertmanager.alertmanagerSpec"),
        ChartPod("operator", "prometheusOperator.resources", NONE, None, 1, "prometheusOperator"),
        ChartPod("grafana", "grafana.resources", NONE, "grafana.replicas", 1, "grafana"),
        ChartPod("kube-state-metrics", "kube-state-metrics.resources", NONE, "kube-state-metrics.replicas", 1,
                 "kube-state-metrics"),
        ChartPod("node-exporter", "prometheus-node-exporter.resources", NONE, daemon=True,
                 placement="prometheus-node-exporter")],
    "prometheus-adapter": [ChartPod("prometheus-adapter", "resources", NONE, "replicas")],
    "cert-manager": [ChartPod("controller", "resources", NONE, "replicaCount"),
                     ChartPod("webhook", "webhook.resources", NONE, "webhook.replicaCount", 1, "webhook"),
                     ChartPod("cainjector", "cainjector.resources", NONE, "cainjector.replicaCount", 1,
                              "cainjector")],
    "gpu-operator": [
        ChartPod("gpu-operator", "operator.resources", ("200m", "100Mi"), None, 1, "operator"),
        *nfd_pods("node-feature-discovery", enabled=("nfd.enabled",)),
        # its ClusterPolicy's operands (templates/clusterpolicy.yaml copies each block; sandbox workloads, off by
        # default, would label VM-passthrough nodes for the sandbox operands instead)
        gpu_operand("nvidia-driver-daemonset", "driver"),
        gpu_operand("nvidia-container-toolkit-daemonset", "toolkit"),
        gpu_operand("nvidia-device-plugin-daemonset", "devicePlugin"),
        gpu_operand("nvidia-device-plugin-mps-control-daemon", "devicePlugin", requires=(ON_NVIDIA_GPU, MPS_CAPABLE)),
        gpu_operand("nvidia-dcgm", "dcgm", False),
        gpu_operand("nvidia-dcgm-exporter", "dcgmExporter"),
        gpu_operand("gpu-feature-discovery", "gfd"),
        gpu_operand("nvidia-operator-validator", "validator", None),
        gpu_operand("nvidia-mig-manager", "migManager", requires=(ON_NVIDIA_GPU, ON_MIG_GPU)),
        gpu_operand("nvidia-node-status-exporter", "nodeStatusExporter", False)],
    # k8s-device-plugin v0.20.0 (1b826acc) templates/daemonset-*.yml: the top level's resources and placement; NFD
    # (alias nfd) under `condition: nfd.enabled,gfd.enabled`
    "nvidia-device-plugin": [
        ChartPod("nvidia-device-plugin", "resources", NONE, daemon=True, enabled=("devicePlugin.enabled",)),
        ChartPod("mps-control-daemon", "resources", NONE, daemon=True, enabled=("devicePlugin.enabled",),
                 requires=(MPS_CAPABLE,)),
        ChartPod("gpu-feature-discovery", "resources", NONE, daemon=True, enabled=("gfd.enabled",),
                 enabled_default=False),
        *nfd_pods("nfd", enabled=("nfd.enabled", "gfd.enabled"), enabled_default=False)],
    "dcgm-exporter": [ChartPod("dcgm-exporter", "resources", ("100m", "128Mi"), daemon=True)],
    "llm-d-router-gateway": [ChartPod("epp", "router.epp.resources", ("8", "8Gi"), "router.epp.replicas", 1,
                                      "router.epp")],
}
# DaemonSets whose chart default tolerates every NoSchedule taint (a test reads it from the vendored values).
TOLERATE_ALL = {"node-exporter"}


@dataclass
class Pods:
    """Identical pods: `count` replicas (a DaemonSet: one per node it may run on)."""
    owner: str
    cpu_m: int
    mem_mi: int
    gpus: int = 0
    count: int = 1
    node_selector: dict[str, str] = field(default_factory=dict)
    tolerations: list[dict[str, Any]] = field(default_factory=list)
    daemon: bool = False
    tolerate_all: bool = False
    model_server: bool = False  # a model server's pod (label app.kubernetes.io/component: model-server)
    node_terms: Optional[list[Any]] = None  # its required node affinity's nodeSelectorTerms (None: it has none)
    per_node: int = 1  # a DaemonSet's pods on each node (an AKS row stands for several DaemonSets, or none)

    @property
    def affinity(self) -> Optional[dict[str, Any]]:
        """Its required node affinity as a pod spec writes it (None without one)."""
        if self.node_terms is None:
            return None
        return {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": self.node_terms}}}


@dataclass
class Pool:
    name: str
    vm_size: str
    min_count: int
    max_count: int
    max_pods: int
    labels: dict[str, str]  # the labels every node carries (aks_node_labels)
    taints: list[str]
    system: bool
    zones: tuple[str, ...] = ()  # its availabilityZones: a node's zone label is one of them
    location: str = ""  # its cluster's region ("" where the plan does not hold it as a string)

    @property
    def gpu(self) -> bool:
        return any(t.startswith(GPU_TAINT_KEY) for t in self.taints)

    @property
    def label_sets(self) -> list[dict[str, str]]:
        """Each node's labels, one set per zone its nodes may be in."""
        return zone_label_sets(self.labels, self.zones, self.location)


@dataclass
class Capacity:
    """Nodes each pool needs at idle, and what could not be placed or priced. `errors`: pods that fit no node of any
    pool they may run on, a model server's at any replica count, any other's where a replica is asked for (a plan
    with one is refused: `pulumi up` would wait for it until its deadline); `problems`: the rest, warnings."""
    idle_nodes: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    requests: dict[str, tuple[int, int]] = field(default_factory=dict)  # pool -> (cpu m, memory Mi) requested


# ---- quantities ----------------------------------------------------------------------------------------------
def _quantity(value: Any) -> Decimal:
    """A request as the API server reads it (the components' parse_quantity, Kubernetes' whole grammar: `100m` of
    memory, `1k` CPUs, `.5Gi`, `1e3`); a number as written; a ValueError for anything else (the server refuses it)."""
    quantity = parse_quantity(str(value or "0"))
    if quantity is None:
        raise ValueError(f"{value!r} is no Kubernetes quantity")
    return quantity


def cpu_millis(value: Any) -> int:
    return int(math.ceil(_quantity(value) * 1000))


def memory_mebis(value: Any) -> int:
    return int(math.ceil(_quantity(value) / 2 ** 20))


def allocatable(vcpus: int, memory_gib: float, max_pods: int) -> tuple[int, int]:
    """(CPU millicores, memory MiB) a node offers pods, after AKS's reservations (AKS 1.29+)."""
    cores = max(k for k in KUBE_RESERVED_CPU_M if k <= max(vcpus, 1))
    memory_mi = memory_gib * 1024
    reserved_mi = min(20 * max_pods + 50, 0.25 * memory_mi) + 100
    return vcpus * 1000 - KUBE_RESERVED_CPU_M[cores], int(memory_mi - reserved_mi)


# ---- scheduling predicates -----------------------------------------------------------------------------------
# The scheduler's filters, as kube-scheduler runs them (Kubernetes v1.35): TaintToleration (the package's
# llmplatform.taints `tolerates`, which the testing kit reads too) and NodeAffinity
# (k8s.io/component-helpers scheduling/corev1/nodeaffinity/nodeaffinity.go `GetRequiredNodeAffinity(pod).Match`).
# The deploy model's `landing_pools` (offline/deploy_model/pools.py) places pods with the same functions.
INT64 = range(-2 ** 63, 2 ** 63)


def _integer(text: Any) -> Optional[int]:
    """A label value as Go's strconv.ParseInt(s, 10, 64) reads it, which Requirement.Matches uses (apimachinery
    v0.35.7 pkg/labels/selector.go): ASCII digits with an optional sign, within int64; None otherwise (Python's
    int() takes `1_000`, spaces, any size)."""
    text = str(text)
    if not re.fullmatch(r"[+-]?[0-9]+", text) or int(text) not in INT64:
        return None
    return int(text)


def requirement_holds(requirement: dict[str, Any], labels: dict[str, str]) -> bool:
    """One NodeSelectorRequirement against a node's labels (apimachinery labels/selector.go `Requirement.Matches`):
    `In` needs the label with one of the values; `NotIn` holds where the label is missing or has none of them;
    `Exists` / `DoesNotExist` ask for the key alone; `Gt` / `Lt` compare integers (a missing or non-integer label
    fails). What the API server refuses (another operator, `In` without values, `Exists` with some) holds nowhere."""
    key, operator = requirement.get("key"), requirement.get("operator")
    values = [str(v) for v in requirement.get("values") or []]
    there = key in labels
    if operator in ("In", "NotIn") and values:
        return (there and labels[str(key)] in values) == (operator == "In")
    if operator in ("Exists", "DoesNotExist") and not values:
        return there == (operator == "Exists")
    if operator in ("Gt", "Lt") and len(values) == 1:
        have, bound = _integer(labels.get(str(key))), _integer(values[0])
        if have is None or bound is None:
            return False
        return have > bound if operator == "Gt" else have < bound
    return False


def term_holds(term: Any, labels: dict[str, str]) -> bool:
    """A NodeSelectorTerm: all its matchExpressions hold; a term with none (and no matchFields) matches no node.
    matchFields (a node's metadata.name) cannot be judged before the nodes exist: they keep no pool off."""
    if not isinstance(term, dict):
        return False
    expressions = term.get("matchExpressions") or []
    if not expressions and not term.get("matchFields"):
        return False
    return all(isinstance(e, dict) and requirement_holds(e, labels) for e in expressions)


def required_terms(affinity: Any) -> Optional[list[Any]]:
    """The nodeSelectorTerms of a required node affinity (a node needs one of them); None without one."""
    required = (((affinity or {}).get("nodeAffinity") or {}).get("requiredDuringSchedulingIgnoredDuringExecution")
                if isinstance(affinity, dict) else None)
    return list(required.get("nodeSelectorTerms") or []) if isinstance(required, dict) else None


def labels_admit(node_selector: dict[str, Any], terms: Optional[list[Any]], labels: dict[str, str]) -> bool:
    """Whether a node with these labels meets a pod's nodeSelector (every pair) and, with a required node affinity,
    one of its terms: both must hold."""
    if any(labels.get(k) != str(v) for k, v in (node_selector or {}).items()):
        return False
    return terms is None or any(term_holds(term, labels) for term in terms)


# The labels AKS's nodes carry, as cluster-autoscaler predicts them for a node it adds (kubernetes/autoscaler
# 0d4679d4, cluster-autoscaler/cloudprovider/azure/azure_template.go `buildGenericLabels` and `processVMSSTemplate`):
# kubelet's OS and architecture, cloud-provider-azure's VM size, region and zone, each under its stable key and the
# deprecated one (both are still set), AKS's pool, mode, OS SKU and accelerator.
ARCH, OS, ZONE, REGION = "kubernetes.io/arch", "kubernetes.io/os", "topology.kubernetes.io/zone", \
    "topology.kubernetes.io/region"
DEPRECATED = {ARCH: "beta.kubernetes.io/arch", OS: "beta.kubernetes.io/os",
              INSTANCE_TYPE: "beta.kubernetes.io/instance-type", ZONE: "failure-domain.beta.kubernetes.io/zone",
              REGION: "failure-domain.beta.kubernetes.io/region"}
ACCELERATOR = "kubernetes.azure.com/accelerator"  # `nvidia` on an NVIDIA GPU size, and the legacy `accelerator`
OS_SKU = "kubernetes.azure.com/os-sku"
# A non-zonal node's zone label is its fault domain's number (cloud-provider-azure azure_vmss.go
# `GetZoneByNodeName`); which one a node gets is Azure's choice: "0", as cluster-autoscaler's template predicts it.
NO_ZONE = "0"


def _both(key: str, value: str) -> dict[str, str]:
    """A label under its stable key and, where Kubernetes still sets one, its deprecated key."""
    return {key: value, **({DEPRECATED[key]: value} if key in DEPRECATED else {})}


# Accelerators paired with NVIDIA's Arm-based Grace CPU, whose sizes carry no `p` (Standard_ND128isr_NDR_GB200_v6,
# Standard_ND128isr_GB300_v6): AKS boots them from an arm64 image (Azure/AgentBaker @06836ee2
# pkg/agent/datamodel/types.go `aks-ubuntu-arm64-gb200-containerd-24.04-gen2`)
GRACE_ACCELERATORS = ("GB200", "GB300")


def node_arch(vm_size: str) -> str:
    """A size's CPU architecture as kubelet reports it: `p` among a size's feature letters is an Arm-based processor
    (MicrosoftDocs/azure-compute-docs vm-naming-conventions.md "p = ARM Cpu": Standard_D4ps_v5), as is a Grace
    accelerator's; every other is x86-64."""
    match = re.match(r"Standard_[A-Z]{1,2}[0-9]{1,3}(?:-[0-9]{1,3})?([a-z]*)", vm_size)
    grace = any(part in GRACE_ACCELERATORS for part in vm_size.upper().split("_"))
    return "arm64" if grace or (match and "p" in match.group(1)) else "amd64"


def aks_os_sku(inputs: dict[str, Any]) -> Optional[str]:
    """`kubernetes.azure.com/os-sku`: the pool's osSKU, else AKS's default on Linux (ManagedClusterAgentPoolProfile
    osSKU, REST API 2025-09-01: "the default is Ubuntu if OSType=Linux"); None where it cannot be told (a Windows
    pool given none)."""
    given = inputs.get("osSKU")
    if given:
        return str(given)
    return None if _windows(inputs) else "Ubuntu"


def _windows(inputs: dict[str, Any]) -> bool:
    return str(inputs.get("osType") or "").lower() == "windows"


def aks_node_labels(name: str, inputs: dict[str, Any], location: str = "") -> dict[str, str]:
    """The labels every node of a pool carries that placement may ask for: its nodeLabels and those AKS adds (the
    pool's name and mode, OS and architecture, OS SKU, `kubernetes.azure.com/scalesetpriority: spot` on a spot pool:
    "Add an Azure Spot node pool to an AKS cluster", learn.microsoft.com, 2025; the accelerator on a GPU size). The
    pool's name twice: AKS's node bootstrap still sets the legacy `agentpool` beside `kubernetes.azure.com/agentpool`;
    the VM size as `node.kubernetes.io/instance-type` (cloud-provider-azure v1.35.8 pkg/nodemanager/nodemanager.go,
    from the instance's metadata); the cluster's `location` as the region (lower case, as cloud-provider-azure writes
    it), where it is known. The zone differs from node to node: `zone_label_sets`. AKS refuses nodeLabels under its
    own prefix. AKS's reserved labels (MicrosoftDocs/azure-aks-docs @fb060abe use-labels.md, "Reserved system labels")
    add `kubernetes.azure.com/role: agent` and `kubernetes.azure.com/priority`, `spot` or `regular` on every node
    (the page prefers it to `scalesetpriority`, which a regular node does not carry)."""
    spot = str(inputs.get("scaleSetPriority") or "").lower() == "spot"
    size, os_sku = str(inputs.get("vmSize") or ""), aks_os_sku(inputs)
    return {**{str(k): str(v) for k, v in (inputs.get("nodeLabels") or {}).items()},
            **_both(OS, "windows" if _windows(inputs) else "linux"), **_both(ARCH, node_arch(size)),
            **{key: name for key in POOL_NODE_LABELS},
            **(_both(INSTANCE_TYPE, size) if size else {}),
            **(_both(REGION, location.lower()) if location else {}),
            **({ACCELERATOR: "nvidia", "accelerator": "nvidia"} if find_gpu_sku(size) else {}),
            **({OS_SKU: os_sku} if os_sku else {}),
            "kubernetes.azure.com/mode": str(inputs.get("mode") or "User").lower(),
            ROLE: "agent", PRIORITY: "spot" if spot else "regular",
            **({SPOT_LABEL: "spot"} if spot else {})}


def zone_label_sets(labels: dict[str, str], zones: Any, location: str = "") -> list[dict[str, str]]:
    """The label sets a pool's nodes carry, one per zone they may be in: a zonal node's zone is `<region>-<zone>`
    (the Azure Availability Zones KEP, sig-azure #18, "AZ label format"), a non-zonal one's `NO_ZONE`.
    Without the region (the cluster's location not a plain string) a zonal pool's zone is left out: a pod that names
    a zone lands on none of its nodes (refused rather than placed where it may not run)."""
    zones = [str(z) for z in zones or []]
    if not zones:
        return [{**labels, **_both(ZONE, NO_ZONE)}]
    if not location:
        return [dict(labels)]
    return [{**labels, **_both(ZONE, f"{location.lower()}-{zone}")} for zone in zones]


def aks_default_max_pods(pool: dict[str, Any], cluster: dict[str, Any]) -> int:
    """The maxPods AKS gives a pool that sets none, from its cluster's networkProfile: Azure CNI Overlay where no
    plugin is named (AKS's default from Kubernetes 1.30); `kubenet` and `none` (a CNI brought by the user) get
    kubelet's default, 110."""
    network = cluster.get("networkProfile") or {}
    plugin = str(network.get("networkPlugin") or "").lower()
    if not plugin:
        return OVERLAY_MAX_PODS
    if plugin != "azure":
        return KUBENET_MAX_PODS
    if str(network.get("networkPluginMode") or "").lower() == "overlay":
        return OVERLAY_MAX_PODS
    return POD_SUBNET_MAX_PODS if pool.get("podSubnetID") else NODE_SUBNET_MAX_PODS


class DeclaredPool(NamedTuple):
    """A node pool a plan declares (declared_pools)."""
    urn: str  # the AgentPool, or the ManagedCluster of an inline pool
    inputs: dict[str, Any]  # the AgentPool's inputs, or the agentPoolProfiles entry
    cluster: dict[str, Any]  # its ManagedCluster's inputs ({} where it cannot be told)
    inline: bool


def pool_zones(pool: dict[str, Any]) -> tuple[str, ...]:
    """A pool's availabilityZones as the plan holds them (none where they are not a list)."""
    zones = pool.get("availabilityZones")
    return tuple(str(z) for z in zones) if isinstance(zones, list) else ()


def pool_cluster(pool: dict[str, Any], clusters: list[dict[str, Any]]) -> dict[str, Any]:
    """An AgentPool's ManagedCluster (inputs) among these: the one whose resource group and name it gives as plain
    strings, else the only one; {} when it cannot be told."""
    key = (pool.get("resourceGroupName"), pool.get("resourceName"))
    named = [c for c in clusters if (c.get("resourceGroupName"), c.get("resourceName")) == key]
    return named[0] if len(named) == 1 else clusters[0] if len(clusters) == 1 else {}


def plain_location(cluster: dict[str, Any]) -> str:
    """A cluster's location where the plan holds it as a plain string ("" otherwise), as its nodes' labels write it:
    ARM's name (`West Europe` is `westeurope`)."""
    location = cluster.get("location")
    return location.lower().replace(" ", "") if isinstance(location, str) else ""


def admits(pods: Pods, labels: dict[str, str]) -> bool:
    return labels_admit(pods.node_selector, pods.node_terms, labels)


def may_run_on(pods: Pods, pool: Pool) -> bool:
    """Whether some node of the pool takes the pods: its labels (in one of its zones) and its taints."""
    if not any(admits(pods, labels) for labels in pool.label_sets):
        return False
    return pods.tolerate_all or all(tolerates(pods.tolerations, taint) for taint in pool.taints)


# ---- pods from the plan --------------------------------------------------------------------------------------
def _at(values: Any, path: str) -> Any:
    for part in [p for p in path.split(".") if p]:
        if not isinstance(values, dict):
            return None
        values = values.get(part)
    return values


MODEL_SERVER = ("app.kubernetes.io/component", "model-server")  # llmplatform.kube.labels("model-server", ...)
_POOL_KEYS = "its pool: cluster.workloadPool.vmSize on CPU, gpu.vmSize on GPU"
POOL_KEYS = f" ({_POOL_KEYS})"
STACK_KEYS = f" (Ollama's requests: inference.resources.cpuRequest and memoryRequest; {_POOL_KEYS})"


def _requested(container: dict[str, Any], key: str) -> Any:
    """A container's request of one resource; its limit where it asks for none (the API server defaults a pod's
    requests to its limits: kubernetes pkg/apis/core/v1/defaults.go `SetDefaults_Pod`; GPUs are often given so)."""
    resources = container.get("resources") or {}
    requests = resources.get("requests") or {}
    return requests[key] if key in requests else (resources.get("limits") or {}).get(key)


def pod_requests(spec: dict[str, Any], key: str, parse: Callable[[Any], int]) -> int:
    """A pod's request of one resource as the scheduler counts it (k8s.io/component-helpers resource/helpers.go
    `PodRequests`, the sidecar formula of KEP-753): its containers and its sidecars (init containers with
    `restartPolicy: Always`, which keep running) summed, or, if larger, what an init container needs while it runs
    (it and the sidecars started before it); plus the RuntimeClass's `overhead`."""
    total = sum(parse(_requested(c, key)) for c in spec.get("containers") or [])
    sidecars = init_peak = 0
    for container in spec.get("initContainers") or []:
        need = parse(_requested(container, key))
        if container.get("restartPolicy") == "Always":
            total, sidecars = total + need, sidecars + need
            need = sidecars
        else:
            need += sidecars
        init_peak = max(init_peak, need)
    return max(total, init_peak) + parse((spec.get("overhead") or {}).get(key))


def _pod_spec_pods(owner: str, spec: dict[str, Any], count: int, daemon: bool = False,
                   labels: Optional[dict[str, Any]] = None) -> Pods:
    return Pods(owner, pod_requests(spec, "cpu", cpu_millis), pod_requests(spec, "memory", memory_mebis),
                pod_requests(spec, GPU_TAINT_KEY, lambda v: int(v or 0)), count, dict(spec.get("nodeSelector") or {}),
                list(spec.get("tolerations") or []), daemon,
                model_server=(labels or {}).get(MODEL_SERVER[0]) == MODEL_SERVER[1],
                node_terms=required_terms(spec.get("affinity")))


# (namespace, name) as a workload's or scaler's metadata gives them (either may be absent from the inputs)
WorkloadKey = tuple[Optional[str], Optional[str]]


def _idle_replicas(plan: Plan) -> dict[WorkloadKey, int]:
    """(namespace, Deployment name) -> the minimum replicas of the autoscalers that target it."""
    mins: dict[WorkloadKey, int] = {}
    scalers = {"kubernetes:autoscaling/v2:HorizontalPodAutoscaler": lambda s: s.get("minReplicas", 1),
               "kubernetes:keda.sh/v1alpha1:ScaledObject": lambda s: s.get("minReplicaCount", 0)}
    for kind, minimum in scalers.items():
        for reg in plan.of_type(kind):
            spec = reg.inputs.get("spec") or {}
            key = ((reg.inputs.get("metadata") or {}).get("namespace"), (spec.get("scaleTargetRef") or {}).get("name"))
            mins[key] = max(mins.get(key, 0), int(minimum(spec)))
    return mins


def program_pods(plan: Plan) -> list[Pods]:
    mins = _idle_replicas(plan)
    out = []
    for kind in ("Deployment", "StatefulSet", "DaemonSet"):
        for reg in plan.of_type(f"kubernetes:apps/v1:{kind}"):
            meta, spec = reg.inputs.get("metadata") or {}, reg.inputs.get("spec") or {}
            key = (meta.get("namespace"), meta.get("name"))
            count = mins.get(key, spec.get("replicas", 1)) if kind != "DaemonSet" else 1
            template = spec.get("template") or {}
            out.append(_pod_spec_pods(f"{kind} {key[0]}/{key[1]}", pod_spec(reg.inputs) or {}, int(count),
                                      daemon=kind == "DaemonSet",
                                      labels=(template.get("metadata") or {}).get("labels") or meta.get("labels")))
    return out


def _chart_name(reg: Registration) -> str:
    return str(reg.inputs.get("chart") or "").rstrip("/").rsplit("/", 1)[-1]


PLACEMENT_KEYS = ("nodeSelector", "tolerations", "affinity")


def chart_pods(plan: Plan, problems: list[str]) -> list[Pods]:
    out = []
    for reg in plan.helm_releases():
        chart, values = _chart_name(reg), reg.inputs.get("values") or {}
        if chart not in CHART_PODS:
            problems.append(f"chart {chart!r} ({reg.name}): its pods are not counted (add it to "
                            f"offline/capacity.py CHART_PODS)")
            continue
        for pod in (p for p in CHART_PODS[chart] if renders(p, values)):
            requests = (_at(values, pod.resources) or {}).get("requests") or {}
            cpu, mem = (requests.get("cpu"), requests.get("memory")) if requests else pod.default_requests
            replicas = _at(values, pod.replicas) if pod.replicas else None
            place = _at(values, pod.placement) or {}
            if pod.placement and not pod.subchart and not any(place.get(k) for k in PLACEMENT_KEYS):
                place = values  # the chart's top-level placement applies to its sub-workloads too
            out.append(Pods(f"chart {chart}: {pod.workload}", cpu_millis(cpu), memory_mebis(mem), 0,
                            int(pod.default_replicas if replicas is None else replicas),
                            dict(place.get("nodeSelector") or {}), list(place.get("tolerations") or []),
                            pod.daemon, pod.workload in TOLERATE_ALL,
                            node_terms=with_requirements(required_terms(place.get("affinity")), pod.requires)))
    return out


def renders(pod: ChartPod, values: dict[str, Any]) -> bool:
    """Whether the release's values let the chart render the workload (ChartPod.enabled)."""
    found = [v for v in (_at(values, path) for path in pod.enabled) if isinstance(v, bool)]
    return found[0] if found else pod.enabled_default


def with_requirements(terms: Optional[list[Any]], requires: tuple[dict[str, Any], ...]) -> Optional[list[Any]]:
    """A required node affinity's terms with these expressions ANDed into each (one term of them alone where there
    is no affinity); a term that matches no node (no expressions, no fields) stays so."""
    if not requires:
        return terms
    if terms is None:
        return [{"matchExpressions": list(requires)}]
    return [{**t, "matchExpressions": [*(t.get("matchExpressions") or []), *requires]}
            if isinstance(t, dict) and (t.get("matchExpressions") or t.get("matchFields")) else t for t in terms]


def gateway_pods(plan: Plan) -> list[Pods]:
    """Istio deploys one Deployment per Gateway of its class, shaped by istiod's gatewayClasses values."""
    istiod = next((r for r in plan.helm_releases() if _chart_name(r) == "istiod"), None)
    if istiod is None:
        return []
    values = istiod.inputs.get("values") or {}
    template = _at(values, "gatewayClasses.istio.deployment.spec") or {}
    proxy = (_at(values, "global.proxy.resources") or {}).get("requests") or {"cpu": "100m", "memory": "128Mi"}
    place = (template.get("template") or {}).get("spec") or {}
    return [Pods(f"Gateway {(g.inputs.get('metadata') or {}).get('name')}", cpu_millis(proxy.get("cpu")),
                 memory_mebis(proxy.get("memory")), 0, int(template.get("replicas", 1)),
                 dict(place.get("nodeSelector") or {}), list(place.get("tolerations") or []),
                 node_terms=required_terms(place.get("affinity")))
            for g in plan.of_type("kubernetes:gateway.networking.k8s.io/v1:Gateway")
            if (g.inputs.get("spec") or {}).get("gatewayClassName") == "istio"]


@functools.lru_cache(maxsize=None)
def _aks_table() -> dict[str, Any]:
    return json.loads(AKS_SYSTEM_PODS.read_text(encoding="utf-8"))


def aks_features(cluster: dict[str, Any]) -> list[str]:
    """Which rows of aks_system_pods.json a ManagedCluster's inputs turn on."""
    addons = cluster.get("addonProfiles") or {}
    monitor = ((cluster.get("azureMonitorProfile") or {}).get("metrics") or {}).get("enabled")
    defender = ((cluster.get("securityProfile") or {}).get("defender") or {})
    return ["base"] + [name for name, on in (
        ("managed_prometheus", bool(monitor)),
        ("container_insights", bool((addons.get("omsagent") or {}).get("enabled"))),
        ("azure_policy", bool((addons.get("azurepolicy") or {}).get("enabled"))),
        ("defender", bool(defender))) if on]


def aks_pods(cluster: dict[str, Any]) -> list[Pods]:
    table, out = _aks_table(), []
    for feature in aks_features(cluster):
        row = table["features"][feature]
        per_node, system = row["per_node"], row["system_pool"]
        out.append(Pods(f"AKS {feature} (per node)", cpu_millis(per_node["cpu"]), memory_mebis(per_node["memory"]),
                        daemon=True, tolerate_all=True, per_node=len(per_node["daemonsets"])))
        if cpu_millis(system["cpu"]) or memory_mebis(system["memory"]):
            out.append(Pods(f"AKS {feature} (system pool)", cpu_millis(system["cpu"]),
                            memory_mebis(system["memory"]), node_selector={"kubernetes.azure.com/mode": "system"},
                            tolerate_all=True))
    return out


# ---- pools and packing ---------------------------------------------------------------------------------------
def declared_pools(resources: Iterable[tuple[str, str, dict[str, Any]]]) -> Iterator[DeclaredPool]:
    """Every AKS node pool among (urn, type, inputs), in their order: a ManagedCluster's inline agentPoolProfiles
    (urn: the cluster's) and each AgentPool, with its cluster's inputs (pool_cluster)."""
    resources = list(resources)
    clusters = [inputs for _, type_, inputs in resources if type_ == MANAGED_CLUSTER]
    for urn, type_, inputs in resources:
        if type_ == MANAGED_CLUSTER:
            yield from (DeclaredPool(urn, p, inputs, True) for p in inputs.get("agentPoolProfiles") or [])
        elif type_ == AGENT_POOL:
            yield DeclaredPool(urn, inputs, pool_cluster(inputs, clusters), False)


def pools(plan: Plan) -> list[Pool]:
    names = {reg.urn: reg.name for reg in plan.resources}
    out = [(_pool(d.inputs, d.inputs.get("name", "") if d.inline else d.inputs.get("agentPoolName", names[d.urn]),
                  d.cluster), not d.inline)
           for d in declared_pools((reg.urn, reg.type, reg.inputs) for reg in plan.resources)]
    # resources register concurrently: a stable order, a stable answer (a name's inline pools before its AgentPools)
    return [pool for pool, _ in sorted(out, key=lambda found: (found[0].name, found[1]))]


def whole(value: Any) -> Optional[int]:
    """A node count as the inputs give it (a number, not a bool); None where none is given."""
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def pool_minimum(p: dict[str, Any]) -> int:
    """An autoscaled pool's minimum (`minCount`, 0 included), else the fixed `count` of a pool without one, AKS's
    default 1 where neither is given. Not `count` where a minimum is given: AksCluster creates the CPU pool with one
    node at a minimum of 0 (`workload_pool_start`), which the autoscaler removes once idle."""
    low, count = whole(p.get("minCount")), whole(p.get("count"))
    return low if low is not None else count if count is not None else AKS_DEFAULT_COUNT


def _pool(p: dict[str, Any], name: str, cluster: dict[str, Any]) -> Pool:
    low, location = pool_minimum(p), plain_location(cluster)
    max_pods = whole(p.get("maxPods")) or aks_default_max_pods(p, cluster)
    return Pool(name, p.get("vmSize", ""), low, max(int(p.get("maxCount") or 0), low), max_pods,
                aks_node_labels(name, p, location), pool_taints(p), p.get("mode") == "System",
                pool_zones(p), location)


@dataclass
class _Node:
    pool: Pool
    cpu_m: int
    mem_mi: int
    gpus: int
    pods: int
    labels: dict[str, str] = field(default_factory=dict)


Offer = tuple[int, int, int, int]  # what an empty node offers pods: CPU m, memory Mi, GPUs, pod slots


def _offer(cpu: int, mem: int, gpus: int, pool: Pool, labels: dict[str, str], daemons: list[Pods]) -> Offer:
    """An empty node's room once the DaemonSets that run on it (its labels, the pool's taints) have theirs."""
    on_node = [d for d in daemons if admits(d, labels)
               and (d.tolerate_all or all(tolerates(d.tolerations, t) for t in pool.taints))]
    return (cpu - sum(d.cpu_m for d in on_node), mem - sum(d.mem_mi for d in on_node), gpus,
            pool.max_pods - sum(d.per_node for d in on_node))


def pack(all_pools: list[Pool], pods: list[Pods]) -> Capacity:
    """First-fit decreasing: every pool starts at its minimum; a pod goes to the first open node it fits, else opens
    a node on the smallest pool it may run on that is below its maximum. A zonal pool's nodes take its zones in
    turn, as a zonal scale set spreads its instances; a pod pinned to some of them opens a node in one of those."""
    result = Capacity()
    daemons = [p for p in pods if p.daemon]
    offers: dict[str, list[Offer]] = {}
    for pool in all_pools:
        shape = vm_shape(pool.vm_size)
        if shape is None:
            result.problems.append(f"pool {pool.name}: no vCPU/memory figures for {pool.vm_size} "
                                   f"(config/data/vm_shapes.json); its capacity is not checked")
            continue
        cpu, mem = allocatable(shape.vcpus, shape.memory_gib, pool.max_pods)
        sku = find_gpu_sku(pool.vm_size)
        offers[pool.name] = [_offer(cpu, mem, sku.gpus if sku else 0, pool, labels, daemons)
                             for labels in pool.label_sets]
    usable = [p for p in all_pools if p.name in offers]

    def node(pool: Pool, index: int) -> _Node:
        """The pool's index-th node, empty."""
        turn = index % len(offers[pool.name])
        return _Node(pool, *offers[pool.name][turn], labels=pool.label_sets[turn])

    def offered(group: Pods, pool: Pool) -> Offer:
        """What an empty node of the pool in a zone the pods may run in offers them."""
        return next(o for o, labels in zip(offers[pool.name], pool.label_sets) if admits(group, labels))

    nodes = [node(pool, i) for pool in usable for i in range(pool.min_count)]
    requested: dict[str, list[int]] = {p.name: [0, 0] for p in usable}
    def problem(text: str, error: bool = False) -> None:  # once per workload, not once per replica
        found = result.errors if error else result.problems
        if text not in found:
            found.append(text)
    # Every workload's pod must fit an empty node of a pool it may run on, whatever its replica count: a workload
    # scaled to zero (an autoscaler's minimum 0) places no pod below, and its first scale-up would stay Pending.
    unfit = set()
    for group in (p for p in pods if not p.daemon):
        eligible = [p for p in usable if may_run_on(group, p)]
        if not eligible or any(p.name not in offers and may_run_on(group, p) for p in all_pools):
            continue  # no pool at all, or one whose size we cannot check: said below
        if not any(_fits(group, node(pool, i)) for pool in eligible for i in range(len(offers[pool.name]))):
            unfit.add(id(group))
            empty = [(pool, offered(group, pool)) for pool in eligible]
            offers_text = "; ".join(
                f"{pool.name} ({pool.vm_size}) {offer[0]}m CPU, {offer[1]}Mi"
                + (f", {offer[2]} GPU" if group.gpus else "")
                + (f", no pod slot (its DaemonSets need {daemon_slots(pool, offer)} of its maxPods "
                   f"{pool.max_pods})" if offer[3] < 1 else "")
                for pool, offer in empty)
            zero = " (its autoscaler's minimum is 0: nothing starts it before the first request)" \
                if group.count == 0 else ""
            # an error where it can never serve (a model server) or where `pulumi up` waits for a pod that never
            # starts (any replica asked for: the Deployment's await or an atomic Helm release fails at its deadline)
            problem(f"{group.owner} ({group.cpu_m}m CPU, {group.mem_mi}Mi{f', {group.gpus} GPU' if group.gpus else ''}"
                    f" per pod) fits no node of the pool(s) it may run on: an empty node offers {offers_text} after "
                    f"AKS's reservations and its DaemonSets; its pods stay Pending{zero}; fix: "
                    + unfit_fix(group, empty),
                    error=group.model_server or group.count > 0)
    singles = [(p, i) for p in pods if not p.daemon and id(p) not in unfit for i in range(p.count)]
    singles.sort(key=lambda pi: (pi[0].gpus, pi[0].cpu_m, pi[0].mem_mi), reverse=True)
    for group, _ in singles:
        if any(p.name not in offers and may_run_on(group, p) for p in all_pools):
            continue  # it may land on a pool whose size we cannot check: that pool's problem says so
        eligible = [p for p in usable if may_run_on(group, p)]
        if not eligible:
            affinity = f", node affinity terms {group.node_terms}" if group.node_terms is not None else ""
            problem(f"{group.owner}: no pool it may run on (node selector {group.node_selector}{affinity}, "
                    f"tolerations {group.tolerations})")
            continue
        placed = next((n for n in nodes if n.pool in eligible and _fits(group, n)), None)
        if placed is None:
            for pool in sorted(eligible, key=lambda p: (offers[p.name][0][:2], p.name)):
                count = sum(1 for n in nodes if n.pool is pool)
                turns = range(count, count + len(offers[pool.name])) if count < pool.max_count else range(0)
                placed = next((fresh for fresh in (node(pool, i) for i in turns) if _fits(group, fresh)), None)
                if placed is not None:
                    nodes.append(placed)
                    if not all(admits(group, labels) for labels in pool.label_sets):
                        problem(_zone_pinned(group, pool))
                    break
        if placed is None:
            names = ", ".join(p.name for p in eligible)
            problem(f"{group.owner} ({group.cpu_m}m CPU, {group.mem_mi}Mi): does not fit pool(s) {names} at their "
                    f"maximum node count")
            continue
        placed.cpu_m, placed.mem_mi = placed.cpu_m - group.cpu_m, placed.mem_mi - group.mem_mi
        placed.gpus, placed.pods = placed.gpus - group.gpus, placed.pods - 1
        requested[placed.pool.name][0] += group.cpu_m
        requested[placed.pool.name][1] += group.mem_mi
    for pool in usable:
        result.idle_nodes[pool.name] = sum(1 for n in nodes if n.pool is pool)
        result.requests[pool.name] = (requested[pool.name][0], requested[pool.name][1])
    return result


def daemon_slots(pool: Pool, offer: Offer) -> int:
    """The pod slots the DaemonSets on a node of the pool take (the offer's slots are its maxPods less them)."""
    return pool.max_pods - offer[3]


def max_pods_key(pool: Pool) -> str:
    """The stack key of a pool's maxPods (offline/plan_diff/pool_keys.py OWN_KEY says the same per component)."""
    if pool.gpu:
        return "gpu.maxPods"
    return "cluster.systemPool.maxPods" if pool.system else "cluster.workloadPool.maxPods"


def unfit_fix(group: Pods, offers: list[tuple[Pool, Offer]]) -> str:
    """What makes a pod that fits no empty node fit: where a node has the room but no pod slot, the pool's maxPods
    past its DaemonSets' slots alone; else larger nodes or smaller requests, and the slots where they are short."""
    def room(offer: Offer) -> bool:
        return group.cpu_m <= offer[0] and group.mem_mi <= offer[1] and group.gpus <= offer[2]
    def more_slots(pools: list[tuple[Pool, Offer]]) -> str:
        least: dict[str, int] = {}
        for pool, offer in pools:
            key = max_pods_key(pool)
            least[key] = max(least.get(key, 0), daemon_slots(pool, offer) + 1)
        return ", ".join(f"{key} to at least {n}" for key, n in sorted(least.items()))
    no_slot = [(pool, offer) for pool, offer in offers if offer[3] < 1]
    slot_only = [(pool, offer) for pool, offer in no_slot if room(offer)]
    if slot_only:
        return f"raise {more_slots(slot_only)}, past the pod slots its DaemonSets take on each node"
    sizes = f"lower its requests or give its pool a larger VM size{STACK_KEYS if group.model_server else POOL_KEYS}"
    slots = f", and raise {more_slots(no_slot)} where its DaemonSets fill a node's pod slots" if no_slot else ""
    return sizes + slots


def _zone_pinned(group: Pods, pool: Pool) -> str:
    zones = sorted({labels[ZONE] for labels in pool.label_sets if ZONE in labels and admits(group, labels)})
    return (f"{group.owner}: counted on a {pool.name} node in {', '.join(zones) or 'a zone it may run in'}, which "
            f"the cluster autoscaler cannot ask for: it adds nodes to a pool spanning zones {list(pool.zones)} where "
            f"the scale set places them (cluster-autoscaler azure_template.go picks a zone at random for its "
            f"estimate), so its pods may stay Pending; give it a pool of its own zone")


def _fits(pods: Pods, node: _Node) -> bool:
    return (pods.cpu_m <= node.cpu_m and pods.mem_mi <= node.mem_mi and pods.gpus <= node.gpus and node.pods >= 1
            and admits(pods, node.labels))


def idle_capacity(plan: Plan) -> Capacity:
    problems: list[str] = []
    clusters = plan.of_type("azure-native:containerservice:ManagedCluster")
    pods = program_pods(plan) + chart_pods(plan, problems) + gateway_pods(plan)
    for cluster in clusters:
        pods += aks_pods(cluster.inputs)
    result = pack(pools(plan), pods)
    result.problems[:0] = problems
    return result
