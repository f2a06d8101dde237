"""What the platform measures and alerts on, as data: PromQL of alert rules and the Prometheus Adapter rule.

Every query here is parsed and checked against the metrics this platform's exporters really emit (tests).
"""
import re
from typing import Sequence, Union

# Prometheus Adapter: per-pod GPU memory utilisation (%) from DCGM, for the GPU-memory HPA (seed 001's signal).
GPU_MEMORY_METRIC = "gpu_memory_utilization"
ADAPTER_GPU_RULE = {
    "seriesQuery": 'DCGM_FI_DEV_FB_USED{namespace!="",pod!=""}',
    "resources": {"overrides": {"namespace": {"resource": "namespace"}, "pod": {"resource": "pod"}}},
    "name": {"matches": "^DCGM_FI_DEV_FB_USED$", "as": GPU_MEMORY_METRIC},
    "metricsQuery": ("avg by (<<.GroupBy>>) (100 * DCGM_FI_DEV_FB_USED{<<.LabelMatchers>>} / "
                     "(DCGM_FI_DEV_FB_USED{<<.LabelMatchers>>} + DCGM_FI_DEV_FB_FREE{<<.LabelMatchers>>}))"),
}


def gpu_memory_percent_query(namespace: str, deployment: str) -> str:
    """Average GPU memory use (%) of a deployment's pods, for KEDA's Prometheus trigger."""
    pods = f'namespace="{namespace}",pod=~"{deployment}-.*"'
    return f"avg({gpu_memory_percent(pods)})"


# AKS labels a spot node kubernetes.azure.com/priority=spot and, deprecated but still written,
# kubernetes.azure.com/scalesetpriority=spot (MicrosoftDocs/azure-aks-docs use-labels.md): either one counts, once.
SPOT_NODE_LABELS = ("kubernetes.azure.com/priority", "kubernetes.azure.com/scalesetpriority")
KSM_NODE_LABELS = f"nodes=[{','.join(SPOT_NODE_LABELS)},agentpool]"  # kube-state-metrics' metricLabelsAllowlist


def spot_nodes(offset: str = "") -> str:
    """One series per spot node (kube_node_labels), from either AKS label; `offset` shifts both selectors."""
    shift = f" offset {offset}" if offset else ""
    selectors = [f'kube_node_labels{{label_{re.sub(r"[^a-zA-Z0-9]", "_", label)}="spot"}}{shift}'
                 for label in SPOT_NODE_LABELS]
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


def ollama_matchers(namespaces: Sequence[str]) -> str:
    """PromQL matchers of the Ollama Deployments of `namespaces` (one: an exact match; several, each team's stack on
    one cluster: an anchored regex of the names, which are DNS labels and hold no regex metacharacter but `-`)."""
    ordered = list(dict.fromkeys(namespaces))
    selector = f'namespace="{ordered[0]}"' if len(ordered) == 1 else f'namespace=~"{"|".join(ordered)}"'
    return f'{selector},deployment="ollama"'


def platform_alert_rules(namespace: Union[str, Sequence[str]], gpu_memory_percent_: int, error_ratio: float,
                         latency_slo_seconds: int, cold_start_seconds: int) -> list[dict]:
    """In-cluster PrometheusRule alerts (kube-prometheus-stack's Prometheus evaluates them). Each has a summary, a
    description of what to look at, and its runbook section. `namespace`: the model servers' namespace, or each of
    them when several InferenceStacks share the cluster (OllamaDown watches every one, by namespace)."""
    spot, spot_before = spot_nodes(), spot_nodes("10m")
    not_preallocating = f'container!~"{"|".join(PREALLOCATING_CONTAINERS)}"'
    ollama = ollama_matchers([namespace] if isinstance(namespace, str) else namespace)
    return [
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
        # longer than a cold start: from zero, a replica is desired and none available until the GPU node, the image
        # and the model are ready (autoscaling.coldStartTimeoutSeconds), which is no outage
        {"alert": "OllamaDown", "for": alert_for_minutes(cold_start_seconds), "labels": {"severity": "critical"},
         "expr": (f"kube_deployment_spec_replicas{{{ollama}}} > 0 and "
                  f"kube_deployment_status_replicas_available{{{ollama}}} == 0"),
         "annotations": {
             "summary": "Ollama in {{ $labels.namespace }} should run but no replica is available",
             "description": ("Ollama has desired replicas but none has been available for longer than a cold "
                             "start: requests fail or wait at the KEDA interceptor. Look at the pods' events "
                             "(Pending: no GPU node; CrashLoopBackOff: the model or the volume)."),
             "runbook": f"{RUNBOOK} (OllamaDown)"}},
    ]


def azure_alert_rules() -> list[dict]:
    """Alerts evaluated by Azure Monitor on managed Prometheus, e-mailed through the action group."""
    return [
        {"alert": "NodeNotReady", "for": "PT10M", "severity": 1,
         "expression": 'kube_node_status_condition{condition="Ready",status!="true"} == 1',
         "annotations": {"summary": "Node {{ $labels.node }} not Ready for 10 minutes",
                         "description": "The kubelet stopped reporting Ready: its pods are evicted after the "
                                        "toleration. kubectl describe node shows the condition's reason.",
                         "runbook": f"{RUNBOOK} (NodeNotReady)"}},
        {"alert": "GpuPodsPending", "for": "PT15M", "severity": 2,
         "expression": ('sum(kube_pod_status_phase{phase="Pending"} * on(namespace, pod) group_left() '
                        '(max by (namespace, pod) (kube_pod_container_resource_requests{resource="nvidia_com_gpu"}) '
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
    ]
