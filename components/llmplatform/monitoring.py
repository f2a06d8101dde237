"""What the platform measures and alerts on, as data: PromQL of alert rules and the Prometheus Adapter rule.

Every query here is parsed and checked against the metrics this platform's exporters really emit (tests).
"""
import re

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
    return (f"avg(100 * DCGM_FI_DEV_FB_USED{{{pods}}} / "
            f"(DCGM_FI_DEV_FB_USED{{{pods}}} + DCGM_FI_DEV_FB_FREE{{{pods}}}))")


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


def platform_alert_rules(namespace: str, gpu_memory_percent: int, error_ratio: float, latency_slo_seconds: int
                         ) -> list[dict]:
    """In-cluster PrometheusRule alerts (kube-prometheus-stack's Prometheus evaluates them)."""
    spot, spot_before = spot_nodes(), spot_nodes("10m")
    return [
        {"alert": "GpuMemoryHigh", "for": "10m", "labels": {"severity": "warning"},
         "expr": (f"max by (Hostname, gpu) (100 * DCGM_FI_DEV_FB_USED / (DCGM_FI_DEV_FB_USED + DCGM_FI_DEV_FB_FREE))"
                  f" > {gpu_memory_percent}"),
         "annotations": {"summary": f"GPU memory above {gpu_memory_percent}% on {{{{ $labels.Hostname }}}}"}},
        {"alert": "GatewayErrorRatioHigh", "for": "10m", "labels": {"severity": "critical"},
         "expr": (f'sum(rate(istio_requests_total{{response_code=~"5.."}}[5m])) / '
                  f"sum(rate(istio_requests_total[5m])) > {error_ratio}"),
         "annotations": {"summary": f"More than {error_ratio:.0%} of gateway responses are 5xx"}},
        {"alert": "GatewayLatencyP95AboveSlo", "for": "15m", "labels": {"severity": "warning"},
         "expr": ("histogram_quantile(0.95, sum by (le) (rate(istio_request_duration_milliseconds_bucket[5m])))"
                  f" > {latency_slo_seconds * 1000}"),
         "annotations": {"summary": f"p95 gateway latency above the {latency_slo_seconds}s SLO"}},
        {"alert": "SpotNodesEvicted", "for": "0m", "labels": {"severity": "info"},
         "expr": f"count({spot}) < count({spot_before})",
         "annotations": {"summary": "Spot GPU nodes were evicted in the last 10 minutes"}},
        {"alert": "OllamaDown", "for": "5m", "labels": {"severity": "critical"},
         "expr": (f'kube_deployment_spec_replicas{{namespace="{namespace}",deployment="ollama"}} > 0 and '
                  f'kube_deployment_status_replicas_available{{namespace="{namespace}",deployment="ollama"}} == 0'),
         "annotations": {"summary": "Ollama should run but no replica is available"}},
    ]


def azure_alert_rules() -> list[dict]:
    """Alerts evaluated by Azure Monitor on managed Prometheus, e-mailed through the action group."""
    return [
        {"alert": "NodeNotReady", "for": "PT10M", "severity": 1,
         "expression": 'kube_node_status_condition{condition="Ready",status!="true"} == 1'},
        {"alert": "GpuPodsPending", "for": "PT15M", "severity": 2,
         "expression": ('sum(kube_pod_status_phase{phase="Pending"} * on(namespace, pod) group_left() '
                        '(max by (namespace, pod) (kube_pod_container_resource_requests{resource="nvidia_com_gpu"}) '
                        "> bool 0)) > 0")},
        {"alert": "PodCrashLooping", "for": "PT5M", "severity": 2,
         "expression": 'max_over_time(kube_pod_container_status_waiting_reason{reason="CrashLoopBackOff"}[5m]) >= 1'},
    ]
