"""What the platform measures and alerts on, as data: PromQL of alert rules and the Prometheus Adapter rule.

Every query here is parsed and checked against the metrics this platform's exporters really emit (tests).
"""
import re
from dataclasses import dataclass
from typing import Callable, Mapping, Optional, Sequence, Union

from .pd_specs import DECODE, PREFILL

# Prometheus Adapter: per-pod GPU memory utilisation (%) from DCGM, for the GPU-memory HPA (seed 001's signal).
GPU_MEMORY_METRIC = "gpu_memory_utilization"
ADAPTER_GPU_RULE = {
    "seriesQuery": 'DCGM_FI_DEV_FB_USED{namespace!="",pod!=""}',
    "resources": {"overrides": {"namespace": {"resource": "namespace"}, "pod": {"resource": "pod"}}},
    "name": {"matches": "^DCGM_FI_DEV_FB_USED$", "as": GPU_MEMORY_METRIC},
    "metricsQuery": ("avg by (<<.GroupBy>>) (100 * DCGM_FI_DEV_FB_USED{<<.LabelMatchers>>} / "
                     "(DCGM_FI_DEV_FB_USED{<<.LabelMatchers>>} + DCGM_FI_DEV_FB_FREE{<<.LabelMatchers>>}))"),
}


# A Deployment's pod is `<deployment>-<pod-template-hash>-<5 random>`, both parts of apimachinery's safe alphabet
# (k8s.io/apimachinery pkg/util/rand rand.go `alphanums`; the hash is SafeEncodeString of a uint32's decimal digits,
# so 1-10 of them). The apiserver cuts a generateName base (`<replicaset>-`) to 58 characters, so past a 46-character
# Deployment name the pod's name may be cut into and only its prefix is safe.
_SAFE = "[bcdfghjklmnpqrstvwxz2456789]"
_UNCUT_DEPLOYMENT_NAME = 46


def deployment_pods(deployment: str) -> str:
    """A PromQL regex (in a double-quoted selector) for a Deployment's pods and no other's: `ollama` and not a sibling
    Deployment `ollama-batch` of the same namespace; a dot in the name is a dot."""
    name = deployment.replace(".", "\\\\.")
    return f"{name}-{_SAFE}{{1,10}}-{_SAFE}{{5}}" if len(deployment) <= _UNCUT_DEPLOYMENT_NAME else f"{name}-.*"


# AKS labels a spot node kubernetes.azure.com/priority=spot and, deprecated but still written,
# kubernetes.azure.com/scalesetpriority=spot (MicrosoftDocs/azure-aks-docs use-labels.md): either one counts, once.
SPOT_NODE_LABELS = ("kubernetes.azure.com/priority", "kubernetes.azure.com/scalesetpriority")
# AKS labels every node with its agent pool's name: kubernetes.azure.com/agentpool (reserved) and agentpool, which
# the same page lists as deprecated in its favour but AKS still writes (MicrosoftDocs/azure-aks-docs 07fd2900
# articles/aks/use-labels.md, "Reserved system labels", "Deprecated labels"): either one counts, once.
POOL_NODE_LABELS = ("kubernetes.azure.com/agentpool", "agentpool")
# kube-state-metrics' metricLabelsAllowlist (kube-prometheus-stack's and the AKS metrics add-on's): only the keys
# named here become label_<key> on kube_node_labels
KSM_NODE_LABELS = f"nodes=[{','.join((*SPOT_NODE_LABELS, *reversed(POOL_NODE_LABELS)))}]"


def node_label(key: str) -> str:
    """kube-state-metrics' label for a node label key: label_ and the key, each character not a letter, digit or
    underscore an underscore (kubernetes/kube-state-metrics v2.20.0, 4ffeda2e, the image chart 8.4.0 ships:
    internal/store/utils.go `labelName`, `SanitizeLabelName`; the keys here have no capital for its snake-casing to
    split, and none sanitizes to another's name, so no `_conflict<N>` suffix, `kubeMapToPrometheusLabels`)."""
    return "label_" + re.sub(r"[^a-zA-Z0-9]", "_", key)


# A failed scrape of an exporter (its pod restarted, moved by a node upgrade or drain, one scrape past its timeout)
# marks all its series stale at once ("A failed scrape is the same as an empty scrape, we still call sl.append to
# trigger stale markers": prometheus d15adb9a scrape/scrape.go), so at the next evaluation an instant selector of
# them has no sample, a pending alert is dropped and its `for` starts again (rules/alerting.go Eval: an active alert
# not in the result is deleted while pending; keep_firing_for holds only a firing one). An alert with a long `for`
# is that late after every gap, and on a flaky target may never fire. A range selector skips staleness markers
# (promql/engine.go matrixIterSlice, `value.IsStaleNaN`), so reading a series over the last SCRAPE_GAP bridges a gap
# shorter than that (failed scrapes in a row, the exporter's pod rescheduled and pulling its image).
SCRAPE_GAP = "10m"


def across_scrape_gap(selector: str, keep: str = "last") -> str:
    """`selector` read across a failed scrape of its exporter (SCRAPE_GAP). `last`: each series' latest sample in the
    window (promql/functions.go funcLastOverTime), so a change (a certificate Ready again, renewed, a validator
    passing) shows at the first scrape that reports it, and a series gone for good lasts SCRAPE_GAP longer. `max`:
    each series seen in the window at its highest (the nodes of a pool, each 1)."""
    return f"{keep}_over_time({selector}[{SCRAPE_GAP}])"


def spot_nodes(offset: str = "") -> str:
    """One series per spot node (kube_node_labels), from either AKS label; `offset` shifts both selectors."""
    shift = f" offset {offset}" if offset else ""
    selectors = [f'kube_node_labels{{{node_label(label)}="spot"}}{shift}' for label in SPOT_NODE_LABELS]
    return f"max by (node) ({' or '.join(selectors)})"


def pool_nodes(pool: str, across_gaps: bool = False) -> str:
    """One series per node of the AKS agent pool `pool` (kube_node_labels), from either AKS pool label; with
    `across_gaps`, each node kube-state-metrics reported in the last SCRAPE_GAP (`across_scrape_gap`)."""
    selectors = [f'kube_node_labels{{{node_label(label)}="{pool}"}}' for label in POOL_NODE_LABELS]
    if across_gaps:
        selectors = [across_scrape_gap(selector, "max") for selector in selectors]
    return f"max by (node) ({' or '.join(selectors)})"


RUNBOOK = "docs/components/observability.md#alert-runbooks"
# Containers that take most of a GPU's memory by design: vLLM reserves --gpu-memory-utilization (0.9, its default and
# llmd_specs.GPU_MEMORY_UTILIZATION) of the GPU for weights and KV cache at start, so its GPUs sit above 90 % all day.
PREALLOCATING_CONTAINERS = ("vllm",)


def gpu_memory_percent(matchers: str = "") -> str:
    """Framebuffer used / (used + free), percent, per DCGM series (DCGM_FI_DEV_FB_RESERVED is left out of both)."""
    used, free = f"DCGM_FI_DEV_FB_USED{{{matchers}}}", f"DCGM_FI_DEV_FB_FREE{{{matchers}}}"
    return f"100 * {used} / ({used} + {free})"


def alert_for_minutes(seconds: int, floor_minutes: int = 5) -> str:
    """A `for:` that outlasts `seconds` (whole minutes, at least `floor_minutes`)."""
    return f"{max(floor_minutes, -(-seconds // 60))}m"


# A model server whose autoscaler never takes it to zero (ModelAutoscaler's or LlmdStack's min_replicas >= 1, or a fixed
# count) has no cold start to wait out: none of its replicas available for this long is an outage.
ALWAYS_ON_DOWN_MINUTES = 5


def down_minutes(min_replicas: int, cold_start_seconds: int) -> int:
    """How long a model server may have desired replicas and none available before OllamaDown, VllmDown and
    ModelServerDown fire: a cold start where it may be at zero (from zero, a replica is desired and none available
    until the GPU node, the image and the model are ready), ALWAYS_ON_DOWN_MINUTES where it never is."""
    if min_replicas >= 1:
        return ALWAYS_ON_DOWN_MINUTES
    return int(alert_for_minutes(cold_start_seconds).removesuffix("m"))


# Model servers of one kind: their namespaces and the PromQL matchers of their Deployments there.
Servers = tuple[Sequence[str], Callable[[Sequence[str]], str]]


def server_down(servers: Sequence[Servers], min_replicas: Optional[Mapping[str, int]],
                cold_start_seconds: int) -> tuple[str, str]:
    """(`for`, expression) of one alert over the model servers of each (namespaces, matchers), grouped by how long
    each may be down (`down_parts`). The `for` is the shortest wait; a server allowed longer must also have had
    desired replicas and none available throughout the rest of its wait, from the series' own history, so a cold
    start does not fire it. Every server's series must reach back a cold start before the `for` ends: a Deployment
    just created (a new stack or region, llm-d turned on) starts cold whatever its floor, and the series of one
    deleted and created again under its name does reach back."""
    parts = [part for namespaces, matchers in servers if namespaces
             for part in down_parts(namespaces, matchers, min_replicas or {}, cold_start_seconds)]
    starting_minutes = down_minutes(0, cold_start_seconds)
    wait = min(minutes for _, minutes in parts)
    exprs = []
    for matchers, minutes in parts:
        expr = none_available(matchers)
        if minutes > wait:
            rest = f"{minutes - wait}m"
            expr += (f" and min_over_time(kube_deployment_spec_replicas{{{matchers}}}[{rest}]) > 0"
                     f" and max_over_time(kube_deployment_status_replicas_available{{{matchers}}}[{rest}]) == 0")
        if max(minutes, starting_minutes) > wait:
            expr += f" and kube_deployment_spec_replicas{{{matchers}}} offset {max(minutes, starting_minutes) - wait}m"
        exprs.append(expr)
    return f"{wait}m", exprs[0] if len(exprs) == 1 else " or ".join(f"({e})" for e in exprs)


def ollama_matchers(namespaces: Sequence[str]) -> str:
    """PromQL matchers of the Ollama Deployments of `namespaces` (several: each team's stack on one cluster)."""
    return f'{namespace_matcher(namespaces)},deployment="ollama"'


# LlmdStack's vLLM Deployments: `vllm`, or with prefill/decode disaggregation `vllm-prefill` and `vllm-decode`
VLLM_DEPLOYMENTS = ("vllm", f"vllm-{PREFILL}", f"vllm-{DECODE}")


def namespace_matcher(namespaces: Sequence[str]) -> str:
    """One namespace: an exact match; several: an anchored regex of the names (DNS labels: no regex metacharacter
    but `-`)."""
    ordered = list(dict.fromkeys(namespaces))
    return f'namespace="{ordered[0]}"' if len(ordered) == 1 else f'namespace=~"{"|".join(ordered)}"'


def vllm_matchers(namespaces: Sequence[str]) -> str:
    """PromQL matchers of the vLLM Deployments of LlmdStacks in `namespaces`."""
    return f'{namespace_matcher(namespaces)},deployment=~"{"|".join(VLLM_DEPLOYMENTS)}"'


def down_parts(namespaces: Sequence[str], matchers: Callable[[Sequence[str]], str], min_replicas: Mapping[str, int],
               cold_start_seconds: int) -> list[tuple[str, int]]:
    """`namespaces` grouped by how long their model servers may be down (`down_minutes` of each one's floor in
    `min_replicas`; a namespace not in it may be at zero), as server_down's parts."""
    by_wait: dict[int, list[str]] = {}
    for ns in dict.fromkeys(namespaces):
        by_wait.setdefault(down_minutes(min_replicas.get(ns, 0), cold_start_seconds), []).append(ns)
    return [(matchers(group), minutes) for minutes, group in sorted(by_wait.items())]


def none_available(matchers: str) -> str:
    """Deployments that should run (desired replicas > 0) and have no available replica (kube-state-metrics)."""
    return (f"kube_deployment_spec_replicas{{{matchers}}} > 0 and "
            f"kube_deployment_status_replicas_available{{{matchers}}} == 0")


# GpuFallbackNodesRunning reads kube_node_labels, which both paths hold: kube-prometheus-stack's kube-state-metrics
# and the AKS add-on's (its minimal ingestion profile keeps `kube_.*_labels`; Azure/prometheus-collector 39583fd5
# tomlparser-default-targets-metrics-keep-list.go:31), each with KSM_NODE_LABELS as --metric-labels-allowlist
# (kube-state-metrics chart 8.4.0 values.yaml `metricLabelsAllowlist`; Azure/prometheus-collector 07ec27b6
# ama-metrics-ksm-deployment.yaml, from the cluster's azureMonitorProfile). kube_node_created, a node's age, is not
# in that keep list, and AKS node names (`aks-<pool>-<id>-vmss<instance>`) reuse a scale set's freed instance ids, so
# how long is the rule's `for`: Prometheus keeps a pending `for` across its own restart (ALERTS_FOR_STATE, within
# --rules.alert.for-outage-tolerance, 1h by default). It counts each node across a failed scrape (SCRAPE_GAP): a node
# gone counts 10 minutes longer, so the alert ends that much later.


@dataclass(frozen=True)
class FallbackPool:
    """A GPU pool's on-demand fallback as GpuFallbackNodesRunning watches it: the AKS pool's name, the nodes it keeps
    whatever spot does (its autoscaler minimum) and how long it may run more before the alert fires."""

    pool: str
    min_count: int
    hours: int


def fallback_nodes_running(fallback: FallbackPool) -> tuple[str, dict[str, str]]:
    """(expression, annotations) of GpuFallbackNodesRunning: the fallback pool has had more nodes than its minimum
    (each node once, from kube_node_labels under either AKS pool label), and the rule's `for` makes that last
    `fallback.hours`. Nothing moves a model server's replica off an on-demand node once spot has capacity again
    (docs/decisions.md "2026-12-05: GPU pools that scale to zero, read against cluster-autoscaler"), so only a
    person does: this tells them."""
    pool, floor, hours = fallback.pool, fallback.min_count, fallback.hours
    beyond = f", more than its minimum of {floor}," if floor else ""
    return f"count({pool_nodes(pool, across_gaps=True)}) > {floor}", {
        "summary": (f"On-demand GPU fallback pool {pool} has run {{{{ $value }}}} node(s){beyond} for over "
                    f"{hours} hours"),
        "description": (f"Spot GPU capacity ran short and the cluster autoscaler added on-demand nodes to {pool}. "
                        "They keep the model-server replicas they took: nothing moves those back to spot once spot "
                        "has capacity again (the autoscaler's priority expander acts on scale-up only and its "
                        "scale-down ignores price). Every hour, each of these nodes bills the on-demand price of "
                        "the GPU VM size, several times what the same VM costs on spot. Cordon this pool's nodes "
                        f"(kubectl cordon -l kubernetes.azure.com/agentpool={pool}), then restart the model "
                        "server's rollout: only a new pod no node can take makes the autoscaler add one, spot "
                        "first; an uncordoned on-demand node with room (the one the previous replica just left) "
                        "takes it without asking."),
        "runbook": f"{RUNBOOK} (GpuFallbackNodesRunning)"}


# The GPU Operator (GpuNodePool driver `operator`) proves each GPU node with its validator (NVIDIA/gpu-operator v26.7.0,
# 10ee5b36, assets/state-operator-validation/0500_daemonset.yaml): a DaemonSet nvidia-operator-validator in the
# operator's namespace on every node the operator labels for it, whose init containers wait for and check, in turn,
# the driver, the container toolkit, CUDA and the device plugin (driver-validation, toolkit-validation,
# cuda-validation, plugin-validation; WITH_WAIT), and whose one container, nvidia-operator-validator, starts only
# once all four have passed (it has no readiness probe: Ready once running). Until then the kubelet reports it
# waiting (PodInitializing, or an init container's CrashLoopBackOff) and not ready. kube-state-metrics' view of that
# container is on both paths (kube_pod_container_status_ready and kube_pod_info are in the AKS add-on's minimal
# keep list, tomlparser-default-targets-metrics-keep-list.go:31), with no exporter to enable: the operator's own
# metrics are one cluster-wide status and its per-node exporter (nodeStatusExporter) is off in the chart.
GPU_OPERATOR_NS = "gpu-operator"  # GpuNodePool installs the operator's release there (its validator runs beside it)
GPU_OPERATOR_VALIDATOR = "nvidia-operator-validator"
# A new node's driver build and validation take 7 minutes, 15 at worst (config/data/deploy_durations.json gpu_driver
# operator, the deploy model's figures): twice the worst is no start still under way.
GPU_VALIDATION_MINUTES = 30


def gpu_validation_failing() -> tuple[str, dict[str, str]]:
    """(expression, annotations) of GpuOperatorValidationFailing: a GPU node whose validator container is not ready
    (the rule's `for`: GPU_VALIDATION_MINUTES), with the node its pod runs on (kube_pod_info); each series read
    across a failed scrape of kube-state-metrics (`across_scrape_gap`, the latest sample: a validator that passes
    ends the alert at the next scrape; one whose node went away, SCRAPE_GAP later)."""
    ns = f'namespace="{GPU_OPERATOR_NS}"'
    ready = across_scrape_gap(f'kube_pod_container_status_ready{{{ns},container="{GPU_OPERATOR_VALIDATOR}"}}')
    # node!="": kube_pod_info of a pod not yet bound has node="", and both in one window would make the join ambiguous
    on_node = across_scrape_gap(f'kube_pod_info{{{ns},node!=""}}')
    return (f"(max by (namespace, pod) ({ready}) == 0) "
            f"* on (namespace, pod) group_left (node) max by (namespace, pod, node) ({on_node})"), {
        "summary": (f"GPU Operator validation has not passed on node {{{{ $labels.node }}}} for "
                    f"{GPU_VALIDATION_MINUTES} minutes"),
        "description": ("The GPU Operator's validator on this node ({{ $labels.pod }}) still waits for, or failed, "
                        "one of its checks: the NVIDIA driver, the container toolkit, CUDA or the device plugin. "
                        "Until it passes the node offers no nvidia.com/gpu, so the GPU pods the cluster autoscaler "
                        "added it for stay Pending while it bills. The validator's init container that has not "
                        f"completed names the step (kubectl -n {GPU_OPERATOR_NS} describe pod {{{{ $labels.pod }}}}); "
                        "the driver's pod on the same node (nvidia-driver-daemonset) logs a failed build."),
        "runbook": f"{RUNBOOK} (GpuOperatorValidationFailing)"}


# A GPU node that never offers nvidia.com/gpu gets no validator to fail on: the GPU Operator's node-feature-discovery
# not labelling it (no operator pod is scheduled there), AKS's own driver install failing (driver `aks`, no
# operator at all), or the device plugin not running or crashed. The cluster autoscaler added it for a GPU pod, so it
# bills while that pod stays Pending (GpuPodsPending fires, pointing at capacity and quota rather than at the node).
# Which nodes are a GPU pool's: every GpuNodePool, spot, regular and fallback, carries GPU_TAINT (gpu_node_pool.py
# `pool_taints`), and kube-state-metrics exports every taint of every node as kube_node_spec_taint{node, key, value,
# effect}, stable, no allowlist (kubernetes/kube-state-metrics v2.20.0, 4ffeda2e, internal/store/node.go
# `createNodeSpecTaintFamilyGenerator`; the same at v2.19.0, 2ef24549, the AKS metrics add-on's); node labels would
# need kube_node_labels' allowlist, and the platform's own ones are not in it.
GPU_TAINT_KEY = "nvidia.com/gpu"
# What it offers: kube_node_status_allocatable{resource} carries an extended resource under its name sanitized
# (`SanitizeLabelName`: each character not a letter, digit or underscore an underscore; `isExtendedResourceName`,
# unit "integer"), one series per resource in the node's status.allocatable, so a node whose device plugin never
# registered has no such series at all (not a 0). A plugin gone after registering leaves the resource at 0: the
# kubelet counts healthy devices only as allocatable and marks all of a stopped plugin's devices unhealthy
# (kubernetes/kubernetes 7510f329 pkg/kubelet/cm/devicemanager/manager.go `markResourceUnhealthy`, `GetCapacity`),
# then past the plugin's stop grace period sets the capacity, and so the allocatable, to 0 rather than removing it
# (8340f5a9 pkg/kubelet/nodestatus/setters.go `MachineInfo`: "Set the capacity of the removed resource to 0").
GPU_RESOURCE = "nvidia_com_gpu"
# How long a fresh node may offer none: from the node's registration (its taint's first series), the driver and the
# device plugin, twice the deploy model's pessimistic figure for each driver (config/data/deploy_durations.json
# `gpu_driver`, recorded 2026-11-30: AKS's install and the device plugin 240 s, the GPU Operator's build, toolkit
# and plugin 900 s), so a normal scale-up, a node image upgrade's surge node or a reboot (the operator rebuilds its
# driver) never fires it; the VM's own boot is before the node exists and does not count.
GPU_NODE_WAIT_MINUTES = {"aks": 8, "operator": GPU_VALIDATION_MINUTES}


def gpu_node_without_gpus(gpu_operator: bool) -> tuple[int, str, dict[str, str]]:
    """(`for` in minutes, expression, annotations) of GpuNodeOffersNoGpus: a node tainted GPU_TAINT_KEY whose
    allocatable nvidia.com/gpu is absent or 0, by node (kube-state-metrics' own target labels, a new series when its
    pod moves, are left out so the `for` carries on). Each series read across a failed scrape (`across_scrape_gap`):
    the taint as seen in the window, the allocatable as last scraped, so a device plugin that registers ends the alert
    at the next scrape; a node deleted goes from both sides at once, SCRAPE_GAP later. With the GPU Operator, a node
    whose validator is not ready is GpuOperatorValidationFailing's, which names the step: left out here, so one
    broken node pages once."""
    minutes = GPU_NODE_WAIT_MINUTES["operator" if gpu_operator else "aks"]
    tainted = across_scrape_gap(f'kube_node_spec_taint{{key="{GPU_TAINT_KEY}"}}', "max")
    offered = across_scrape_gap(f'kube_node_status_allocatable{{resource="{GPU_RESOURCE}"}}')
    expr = f"max by (node) ({tainted}) unless on (node) (max by (node) ({offered}) > 0)"
    if gpu_operator:
        validating, _ = gpu_validation_failing()
        expr = f"({expr}) unless on (node) ({validating})"
        causes = ("the GPU Operator never set it up (node-feature-discovery did not label it, so no operator pod and "
                  "no validator runs there; `kubectl -n gpu-operator get pods -o wide --field-selector "
                  "spec.nodeName={{ $labels.node }}`), or its device plugin stopped after the validator passed")
    else:
        causes = ("AKS's driver install failed on it (the GPU pool's gpuProfile driver Install), or the NVIDIA "
                  "device plugin is not running there or crashed (`kubectl -n nvidia-device-plugin get pods -o wide "
                  "--field-selector spec.nodeName={{ $labels.node }}` and its logs)")
    return minutes, expr, {
        "summary": f"GPU node {{{{ $labels.node }}}} has offered no nvidia.com/gpu for {minutes} minutes",
        "description": ("A node of a GPU pool (tainted nvidia.com/gpu) has no allocatable nvidia.com/gpu, longer "
                        "than a fresh node's driver and device plugin take: " + causes + ". The cluster autoscaler "
                        "added it for a GPU pod, which stays Pending while the node bills (GpuPodsPending names "
                        "capacity or quota; this is the node). kubectl describe node shows its Allocatable."),
        "runbook": f"{RUNBOOK} (GpuNodeOffersNoGpus)"}


def gateway_rejected_ratio() -> str:
    """Share of gateway answers that refuse the caller: 401 (no or a wrong API key), 403, 429 (rate limit)."""
    return ('sum(rate(istio_requests_total{response_code=~"401|403|429"}[5m])) / '
            "sum(rate(istio_requests_total[5m]))")


def platform_alert_rules(namespace: Union[str, Sequence[str]], gpu_memory_percent_: int, error_ratio: float,
                         latency_slo_seconds: int, cold_start_seconds: int,
                         vllm_namespaces: Sequence[str] = (), keda: bool = True,
                         cert_manager: bool = False, min_replicas: Optional[Mapping[str, int]] = None,
                         fallback: Optional[FallbackPool] = None, gpu_operator: bool = False,
                         gpu_nodes: bool = False) -> list[dict]:
    """In-cluster PrometheusRule alerts (kube-prometheus-stack's Prometheus evaluates them). Each has a summary, a
    description of what to look at, and its runbook section. `namespace`: the model servers' namespace, or each of
    them when several InferenceStacks share the cluster (OllamaDown watches every one, by namespace). `cert_manager`:
    cert-manager issues the gateway's certificate on this cluster (its PodMonitor is planned): alert on its
    Certificates. `min_replicas`: the fewest replicas each namespace's model servers keep (absent: may be at zero).
    `fallback`: the GPU pool's on-demand fallback (none: no GpuFallbackNodesRunning). `gpu_operator`: the GPU
    Operator installs the GPU nodes' driver (GpuOperatorValidationFailing). `gpu_nodes`: the cluster has GPU pools
    (GpuNodeOffersNoGpus, its wait that of the driver `gpu_operator` names)."""
    spot, spot_before = spot_nodes(), spot_nodes("10m")
    not_preallocating = f'container!~"{"|".join(PREALLOCATING_CONTAINERS)}"'
    ollama_for, ollama_down = server_down([([namespace] if isinstance(namespace, str) else namespace,
                                            ollama_matchers)], min_replicas, cold_start_seconds)
    rules = [
        {"alert": "GpuMemoryHigh", "for": "10m", "labels": {"severity": "warning"},
         "expr": (f"max by (Hostname, gpu) ({gpu_memory_percent(not_preallocating)})"
                  f" > {gpu_memory_percent_}"),
         "annotations": {
             "summary": (f"GPU memory above {gpu_memory_percent_}% on {{{{ $labels.Hostname }}}} "
                         f"GPU {{{{ $labels.gpu }}}}"),
             "description": ("A model server other than vLLM (which reserves 90 % by design and is left out) holds "
                             "nearly all of this GPU's memory: the next model or a longer context will not fit and "
                             "Ollama falls back to CPU layers. See which pod holds it on the GPU dashboard."),
             "runbook": f"{RUNBOOK} (GpuMemoryHigh)"}},
        {"alert": "GatewayErrorRatioHigh", "for": "10m", "labels": {"severity": "critical"},
         "expr": (f'sum(rate(istio_requests_total{{response_code=~"5.."}}[5m])) / '
                  f"sum(rate(istio_requests_total[5m])) > {error_ratio}"),
         "annotations": {
             "summary": f"More than {error_ratio:.0%} of gateway responses are 5xx",
             "description": ("The Istio gateways answer 5xx to more than the tolerated share of requests. The "
                             "LLM platform dashboard splits requests by destination service; 503 with no healthy "
                             "upstream means the model server or the router has no ready pod."),
             "runbook": f"{RUNBOOK} (GatewayErrorRatioHigh)"}},
        {"alert": "GatewayLatencyP95AboveSlo", "for": "15m", "labels": {"severity": "warning"},
         "expr": ("histogram_quantile(0.95, sum by (le) (rate(istio_request_duration_milliseconds_bucket[5m])))"
                  f" > {latency_slo_seconds * 1000}"),
         "annotations": {
             "summary": f"p95 gateway latency above the {latency_slo_seconds}s SLO",
             "description": ("Requests through the gateways take longer than the latency objective (a streamed "
                             "answer counts until its last byte). Check in-flight requests per replica and whether "
                             "the model server is at its replica maximum or waiting for a GPU node."),
             "runbook": f"{RUNBOOK} (GatewayLatencyP95AboveSlo)"}},
        # `or vector(0)`: count() of no series is no result, so without it the alert never fired when the last spot
        # node went away (the usual case for a one-node GPU pool)
        {"alert": "SpotNodesEvicted", "for": "0m", "labels": {"severity": "info"},
         "expr": f"(count({spot}) or vector(0)) < count({spot_before})",
         "annotations": {
             "summary": "Spot nodes went away in the last 10 minutes",
             "description": ("Fewer spot nodes than 10 minutes ago: Azure evicted them (capacity or price) or the "
                             "cluster autoscaler scaled the pool in. Pods on them restart elsewhere; GPU pods wait "
                             "for the on-demand fallback pool (GpuPodsPending on the Azure side if none comes)."),
             "runbook": f"{RUNBOOK} (SpotNodesEvicted)"}},
        # where it may be at zero, longer than a cold start: from zero, a replica is desired and none available until
        # the GPU node, the image and the model are ready (autoscaling.coldStartTimeoutSeconds), which is no outage
        {"alert": "OllamaDown", "for": ollama_for, "labels": {"severity": "critical"},
         "expr": ollama_down,
         "annotations": {
             "summary": "Ollama in {{ $labels.namespace }} should run but no replica is available",
             "description": ("Ollama has desired replicas but none has been available for longer than it takes "
                             "to start (a cold start where it scales to zero): requests fail or wait at the KEDA "
                             "interceptor. Look at the pods' events (Pending: no GPU node; CrashLoopBackOff: the "
                             "model or the volume)."),
             "runbook": f"{RUNBOOK} (OllamaDown)"}},
        # a key rotated without its clients, or a rate limit far below the traffic, fails most callers with 4xx,
        # which GatewayErrorRatioHigh (5xx) does not count; half of all answers for 15 minutes is no single
        # client's burst against its own limit
        {"alert": "GatewayRejectingMostRequests", "for": "15m", "labels": {"severity": "warning"},
         "expr": f"{gateway_rejected_ratio()} > 0.5",
         "annotations": {
             "summary": "More than half of gateway answers are 401, 403 or 429",
             "description": ("The gateways refuse most callers: 401/403 when the API key they send is not the one "
                             "the gate holds (a key rotated in Key Vault, a client not updated), 429 when the rate "
                             "limit is below the traffic. The overview dashboard splits the codes by route."),
             "runbook": f"{RUNBOOK} (GatewayRejectingMostRequests)"}},
    ]
    if fallback:
        expr, annotations = fallback_nodes_running(fallback)
        rules.append({"alert": "GpuFallbackNodesRunning", "for": f"{fallback.hours}h",
                      "labels": {"severity": "warning"}, "expr": expr, "annotations": annotations})
    if gpu_operator:
        expr, annotations = gpu_validation_failing()
        rules.append({"alert": "GpuOperatorValidationFailing", "for": f"{GPU_VALIDATION_MINUTES}m",
                      "labels": {"severity": "warning"}, "expr": expr, "annotations": annotations})
    if gpu_nodes:
        minutes, expr, annotations = gpu_node_without_gpus(gpu_operator)
        rules.append({"alert": "GpuNodeOffersNoGpus", "for": f"{minutes}m", "labels": {"severity": "warning"},
                      "expr": expr, "annotations": annotations})
    if keda:
        # a ScaledObject whose trigger cannot be read keeps its replica count (no KEDA `fallback` is set): a model
        # server at zero stays at zero, one under load is not scaled out
        rules.append(
            {"alert": "KedaScalerErrors", "for": "10m", "labels": {"severity": "warning"},
             "expr": ("sum by (exported_namespace, scaledObject) "
                      "(rate(keda_scaler_detail_errors_total[5m])) > 0"),
             "annotations": {
                 "summary": ("KEDA cannot read a trigger of {{ $labels.exported_namespace }}/"
                             "{{ $labels.scaledObject }}"),
                 "description": ("The KEDA operator fails to read a trigger of this ScaledObject (the interceptor's "
                                 "external-push scaler, or Prometheus): the replica count stays where it is, so a "
                                 "model server at zero does not start. kubectl describe scaledobject shows the error."),
                 "runbook": f"{RUNBOOK} (KedaScalerErrors)"}})
    if vllm_namespaces:
        # vLLM loads its model before it is Ready (weights from Hugging Face or the cache): the same wait as Ollama
        vllm_for, vllm_down = server_down([(vllm_namespaces, vllm_matchers)], min_replicas, cold_start_seconds)
        rules.append(
            {"alert": "VllmDown", "for": vllm_for, "labels": {"severity": "critical"},
             "expr": vllm_down,
             "annotations": {
                 "summary": ("vLLM {{ $labels.deployment }} in {{ $labels.namespace }} should run but no replica "
                             "is available"),
                 "description": ("A vLLM Deployment of the llm-d stack has desired replicas but none has been "
                                 "available for longer than it takes to start (a cold start where it scales to "
                                 "zero): the scheduler has no endpoint and the "
                                 "llm-d route fails. Look at the pods' events and logs (model download, GPU memory, "
                                 "Pending: no GPU node)."),
                 "runbook": f"{RUNBOOK} (VllmDown)"}})
    if cert_manager:
        rules += certificate_alerts()
    return rules


# cert-manager renews a Certificate without renewBefore 2/3 through its lifetime (v1.21.1 pkg/util/pki/renewaltime.go
# `desiredRenewalTime`: actualDuration / 3 before expiry; ACME renewal info, ACMEUseARI, is an alpha gate, off), 30 days
# before a 90-day Let's Encrypt certificate expires (15 days for the 45-day ones Let's Encrypt plans): a certificate
# with less than 14 days left is one whose renewal has failed for over two weeks (for a day, at 45 days), with two
# weeks left to fix it before clients see an expired certificate.
CERT_EXPIRY_ALERT_DAYS = 14
# A normal HTTP-01 issuance (solver pod, Let's Encrypt's validation, the signed certificate) takes minutes.
CERT_NOT_READY_FOR = "30m"


def certificate_alerts() -> list[dict]:
    """cert-manager's Certificate collector (v1.21.1 internal/collectors/certificate_collector.go): ready_status is
    one series per condition status, 1 for the Ready condition's; expiration_timestamp_seconds is status.notAfter, 0
    before the first issuance (left out: the not-Ready alert covers it). Scraped without honor_labels, the
    Certificate's namespace is exported_namespace; both are taken by Certificate, not by the cert-manager pod a series
    was scraped from (a pod moved by a drain would start the `for` again). Both read each series' last sample across
    a failed scrape of
    cert-manager (`across_scrape_gap`), else their 30-minute and hour-long `for` started again at every gap: the
    latest sample, not the window's highest, so a Certificate Ready again or renewed ends its alert at the first
    scrape that says so (over the window's highest, a `condition="False"` 1 would hold it SCRAPE_GAP longer)."""
    ready = across_scrape_gap('certmanager_certificate_ready_status{condition!="True"}')
    expiry = across_scrape_gap("certmanager_certificate_expiration_timestamp_seconds")
    return [
        {"alert": "CertificateNotReady", "for": CERT_NOT_READY_FOR, "labels": {"severity": "critical"},
         "expr": f"max by (exported_namespace, name) ({ready}) == 1",
         "annotations": {
             "summary": ("Certificate {{ $labels.exported_namespace }}/{{ $labels.name }} is not Ready "
                         f"for {CERT_NOT_READY_FOR}"),
             "description": ("cert-manager has no valid certificate for this Certificate (never issued, or its "
                             "secret no longer matches): the gateway's HTTPS listener has no or a wrong certificate "
                             "and clients see TLS errors. kubectl describe certificate, then its CertificateRequest, "
                             "Order and Challenge: the HTTP-01 challenge blocked, the DNS name not pointing at the "
                             "gateway, a Let's Encrypt rate limit."),
             "runbook": f"{RUNBOOK} (CertificateNotReady)"}},
        {"alert": "CertificateExpiringWithoutRenewal", "for": "1h", "labels": {"severity": "warning"},
         # by Certificate, as the not-Ready alert: a series carries the cert-manager pod it was scraped from
         # (PodMonitor target labels `pod`, `instance`), so a pod moved by a drain starts new series, and unaggregated
         # the alert's `for` would start again; across the old pod's last sample and the new one's, the later notAfter
         "expr": (f"(max by (exported_namespace, name) ({expiry}) > 0) - time() < "
                  f"{CERT_EXPIRY_ALERT_DAYS} * 86400"),
         "annotations": {
             "summary": ("Certificate {{ $labels.exported_namespace }}/{{ $labels.name }} expires within "
                         f"{CERT_EXPIRY_ALERT_DAYS} days: its renewal has failed"),
             "description": ("cert-manager renews 2/3 through the certificate's lifetime (30 days before a 90-day "
                             "Let's Encrypt certificate expires) and has not: the certificate still serves, but "
                             "clients see TLS errors once it expires. kubectl describe certificate and its latest "
                             "Order and Challenge name the failure (challenge blocked, DNS moved, rate limit)."),
             "runbook": f"{RUNBOOK} (CertificateExpiringWithoutRenewal)"}},
    ]


def iso_minutes(duration: str) -> str:
    """A Prometheus `for:` in minutes ("20m") as the ISO 8601 duration Azure Monitor rule groups take ("PT20M")."""
    return f"PT{duration.removesuffix('m').upper()}M"


# The PersistentVolumeClaims' fill level that pages: Prometheus compacts its TSDB blocks into new ones before it
# deletes the old, so it needs headroom; at 85 % a 20 GiB volume has 3 GiB left, days at this platform's ingestion
PVC_FULL_PERCENT = 85


# The model share's fill level that pages: the preload Job refuses a model that does not fit (and a pull through the
# gate is refused), so a share near its quota is the next model not deployable, not yet an outage. Azure Files'
# FileCapacity is bytes (MicrosoftDocs/azure-reference-other, supported-metrics fileServices include).
MODEL_SHARE_FULL_PERCENT = 85


def share_full_bytes(quota_gib: int, percent: int = MODEL_SHARE_FULL_PERCENT) -> int:
    """FileCapacity (bytes) above which a share of `quota_gib` (Azure's GiB, 2**30 bytes) is `percent` full."""
    return quota_gib * 2 ** 30 * percent // 100


def azure_alert_rules(model_servers: Sequence[str] = ("llm",), vllm_namespaces: Sequence[str] = (),
                      cold_start_seconds: int = 1200, min_replicas: Optional[Mapping[str, int]] = None,
                      fallback: Optional[FallbackPool] = None, gpu_operator: bool = False,
                      gpu_nodes: bool = False) -> list[dict]:
    """Alerts evaluated by Azure Monitor on managed Prometheus, e-mailed through the action group: what pages
    without an Alertmanager receiver (Observability's `alert_receiver`; without one the chart routes every in-cluster
    alert to `null`).
    `model_servers`: the namespaces of the Ollama stacks; `vllm_namespaces`: the LlmdStacks' (ModelServerDown watches
    both); `min_replicas`: the fewest replicas each namespace's model servers keep (absent: may be at zero);
    `fallback`: the GPU pool's on-demand fallback (none: no GpuFallbackNodesRunning); `gpu_operator`: the GPU
    Operator installs the GPU nodes' driver (GpuOperatorValidationFailing); `gpu_nodes`: the cluster has GPU pools
    (GpuNodeOffersNoGpus)."""
    servers_for, servers = server_down([(model_servers, ollama_matchers), (vllm_namespaces, vllm_matchers)],
                                       min_replicas, cold_start_seconds)
    rules = [
        {"alert": "NodeNotReady", "for": "PT10M", "severity": 1,
         "expression": 'kube_node_status_condition{condition="Ready",status!="true"} == 1',
         "annotations": {"summary": "Node {{ $labels.node }} not Ready for 10 minutes",
                         "description": "The kubelet stopped reporting Ready: its pods are evicted after the "
                                        "toleration. kubectl describe node shows the condition's reason.",
                         "runbook": f"{RUNBOOK} (NodeNotReady)"}},
        {"alert": "GpuPodsPending", "for": "PT15M", "severity": 2,
         "expression": ('sum(kube_pod_status_phase{phase="Pending"} * on(namespace, pod) group_left() '
                        f'(max by (namespace, pod) (kube_pod_container_resource_requests{{resource="{GPU_RESOURCE}"}}) '
                        "> bool 0)) > 0"),
         "annotations": {"summary": "Pods requesting a GPU pending for 15 minutes",
                         "description": "No GPU node could be added: spot capacity, the GPU quota of the region or "
                                        "the pool's maximum. The cluster autoscaler's events on the pending pod "
                                        "name the reason.",
                         "runbook": f"{RUNBOOK} (GpuPodsPending)"}},
        {"alert": "PodCrashLooping", "for": "PT5M", "severity": 2,
         "expression": 'max_over_time(kube_pod_container_status_waiting_reason{reason="CrashLoopBackOff"}[5m]) >= 1',
         "annotations": {"summary": "{{ $labels.namespace }}/{{ $labels.pod }} ({{ $labels.container }}) is crash "
                                    "looping",
                         "description": "A container keeps exiting. kubectl logs --previous shows why.",
                         "runbook": f"{RUNBOOK} (PodCrashLooping)"}},
        # OllamaDown and VllmDown's paging twin, with the same waits
        {"alert": "ModelServerDown", "for": iso_minutes(servers_for), "severity": 1,
         "expression": servers,
         "annotations": {"summary": "{{ $labels.namespace }}/{{ $labels.deployment }} should run but no replica is "
                                    "available",
                         "description": "The model server (Ollama, or vLLM of the llm-d stack) has desired replicas "
                                        "but none has been available for longer than it takes to start (a cold "
                                        "start where it scales to zero): every model request fails or waits. The "
                                        "pods' events name the cause (Pending: no GPU node; CrashLoopBackOff; a "
                                        "volume that does not mount).",
                         "runbook": f"{RUNBOOK} (ModelServerDown)"}},
        # The kubelet sets DiskPressure when the node's filesystem or image filesystem crosses its hard eviction
        # threshold, and then evicts pods (a GPU node holds the model server's image and vLLM's model cache); it
        # keeps the condition for its pressure transition period (5 minutes) after the last crossing, so 10 minutes
        # means the pressure is still there, not one spike image garbage collection cleared
        {"alert": "NodeDiskPressure", "for": "PT10M", "severity": 2,
         "expression": 'kube_node_status_condition{condition="DiskPressure",status="true"} == 1',
         "annotations": {"summary": "Node {{ $labels.node }} is under disk pressure",
                         "description": "The kubelet is evicting pods from this node to free disk: images, "
                                        "emptyDir volumes (vLLM's model cache) and container logs. Evicted model "
                                        "servers restart elsewhere or wait for a node.",
                         "runbook": f"{RUNBOOK} (NodeDiskPressure)"}},
        # Prometheus's own volume (a full one stops ingestion: every in-cluster alert, the dashboards and KEDA's
        # GPU-memory trigger go blind), Grafana's, Open-WebUI's uploads, the model share while a pod mounts it (the
        # Azure Files driver reports stats: tests/upstream/metrics/csi-volume-stats.tsv), any claim whose volume does
        {"alert": "PersistentVolumeFillingUp", "for": "PT15M", "severity": 2,
         "expression": ("100 * (1 - kubelet_volume_stats_available_bytes / kubelet_volume_stats_capacity_bytes) "
                        f"> {PVC_FULL_PERCENT}"),
         "annotations": {"summary": "Volume {{ $labels.namespace }}/{{ $labels.persistentvolumeclaim }} is more "
                                    f"than {PVC_FULL_PERCENT} % full",
                         "description": "A PersistentVolumeClaim is nearly full. Prometheus (monitoring/prometheus-"
                                        "kps-prometheus-db-*): shorten observability.prometheusRetention or raise "
                                        "prometheusStorageGib; Open-WebUI uploads: webui.uploadsSizeGib; the "
                                        "model share's claim: `ollama rm` the models its list dropped (docs/"
                                        "operations.md) or grow modelStore.sizeGib.",
                         "runbook": f"{RUNBOOK} (PersistentVolumeFillingUp)"}},
    ]
    if fallback:
        # the in-cluster twin's, paged by e-mail: a cost that grows by the hour, not an outage (severity 2, Warning);
        # its `for` in whole minutes, the form Azure's rule groups take (tests/data/azure_documented_values.json)
        expression, annotations = fallback_nodes_running(fallback)
        rules.append({"alert": "GpuFallbackNodesRunning", "for": iso_minutes(f"{fallback.hours * 60}m"), "severity": 2,
                      "expression": expression, "annotations": annotations})
    if gpu_operator:
        # the in-cluster twin's, paged by e-mail like GpuPodsPending, whose cause on such a node it names
        expression, annotations = gpu_validation_failing()
        rules.append({"alert": "GpuOperatorValidationFailing", "for": iso_minutes(f"{GPU_VALIDATION_MINUTES}m"),
                      "severity": 2, "expression": expression, "annotations": annotations})
    if gpu_nodes:
        # the in-cluster twin's, paged by e-mail beside GpuPodsPending: the broken node its pods wait for
        minutes, expression, annotations = gpu_node_without_gpus(gpu_operator)
        rules.append({"alert": "GpuNodeOffersNoGpus", "for": iso_minutes(f"{minutes}m"), "severity": 2,
                      "expression": expression, "annotations": annotations})
    return rules
