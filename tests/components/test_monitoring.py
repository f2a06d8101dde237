"""Alert and scaling rules (components/llmplatform/monitoring.py): every PromQL query parses and uses real metrics,
and the registered rules are the checked ones."""
from __future__ import annotations

from llmplatform.monitoring import (ADAPTER_GPU_RULE, KSM_NODE_LABELS, SPOT_NODE_LABELS, azure_alert_rules,
                                   gpu_memory_percent_query, platform_alert_rules, spot_nodes)

from tests.components.test_metric_sources import azure_catalog
from tests.components.test_observability import assert_known
from tests.metric_catalog import check_query


def test_every_rule_and_scaling_query_parses_and_uses_real_metrics():
    for rule in platform_alert_rules("llm", 90, 0.05, 30, 1200):
        assert_known(rule["expr"], rule["alert"])
    for rule in azure_alert_rules():
        check_query(rule["expression"], azure_catalog(), rule["alert"])
    adapter = ADAPTER_GPU_RULE["metricsQuery"].replace("<<.GroupBy>>", "pod").replace(
        "<<.LabelMatchers>>", 'namespace="llm",pod="ollama-0"')
    assert_known(adapter, "adapter")
    assert_known(ADAPTER_GPU_RULE["seriesQuery"], "adapter series")
    assert_known(gpu_memory_percent_query("llm", "ollama"), "keda prometheus trigger")


def test_registered_rules_are_the_checked_ones(prod):
    rules = prod.one("kubernetes:monitoring.coreos.com/v1:PrometheusRule").inputs["spec"]["groups"][0]["rules"]
    assert {r["alert"] for r in rules} == {"GpuMemoryHigh", "GatewayErrorRatioHigh", "GatewayLatencyP95AboveSlo",
                                           "SpotNodesEvicted", "OllamaDown"}
    latency = next(r for r in rules if r["alert"] == "GatewayLatencyP95AboveSlo")
    assert latency["expr"].endswith("> 20000")  # prod's 20 s SLO from config
    for r in rules:
        assert_known(r["expr"], r["alert"])
    azure = prod.one("azure-native:alertsmanagement:PrometheusRuleGroup", "observability-azure-alerts").inputs
    assert {r["alert"] for r in azure["rules"]} == {"NodeNotReady", "GpuPodsPending", "PodCrashLooping"}
    assert all(r["actions"][0]["actionGroupId"].endswith("/ActionGroup/ag-llmp-prod-oncall") for r in azure["rules"])


def test_spot_evictions_count_each_spot_node_once_under_either_aks_label(prod):
    """AKS writes kubernetes.azure.com/priority=spot and, deprecated, kubernetes.azure.com/scalesetpriority=spot
    (use-labels.md): the alert reads both, one series per node, with the offset on each selector (PromQL takes no
    offset on an aggregation), and kube-state-metrics exports both labels on both Prometheus paths."""
    import promql_parser
    (rule,) = [r for r in platform_alert_rules("llm", 90, 0.05, 30, 1200) if r["alert"] == "SpotNodesEvicted"]
    promql_parser.parse(rule["expr"])
    for label in SPOT_NODE_LABELS:
        exported = "label_" + label.replace(".", "_").replace("/", "_").replace("-", "_")
        assert rule["expr"].count(f'{exported}="spot"') == 2, label  # now and 10 minutes ago
        assert label in KSM_NODE_LABELS
    assert rule["expr"].count("offset 10m") == len(SPOT_NODE_LABELS) and spot_nodes().startswith("max by (node) (")
    cluster = prod.one("azure-native:containerservice:ManagedCluster")
    managed = cluster.inputs["azureMonitorProfile"]["metrics"]["kubeStateMetrics"]["metricLabelsAllowlist"]
    kps = next(r for r in prod.helm_releases() if r.inputs.get("chart") == "kube-prometheus-stack")
    assert managed == KSM_NODE_LABELS and kps.inputs["values"]["kube-state-metrics"]["metricLabelsAllowlist"] == [
        KSM_NODE_LABELS]


def test_spot_alert_fires_when_the_last_spot_node_goes():
    """count() of no series is no result, and `no result < 1` is no alert: the left side falls back to 0."""
    import promql_parser
    (rule,) = [r for r in platform_alert_rules("llm", 90, 0.05, 30, 1200) if r["alert"] == "SpotNodesEvicted"]
    comparison = promql_parser.parse(rule["expr"])
    lhs = comparison.lhs.expr if isinstance(comparison.lhs, promql_parser.ParenExpr) else comparison.lhs
    assert str(comparison.op) == "<" and str(lhs.op) == "or" and str(lhs.rhs) == "vector(0)"


def test_ollama_down_waits_longer_than_a_cold_start(dev, prod):
    """From zero a replica is desired and none available until the GPU node, image and model are ready (the
    interceptor's readinessTimeout, autoscaling.coldStartTimeoutSeconds): no critical alert for a cold start."""
    for plan in (dev, prod):
        rules = plan.one("kubernetes:monitoring.coreos.com/v1:PrometheusRule").inputs["spec"]["groups"][0]["rules"]
        (down,) = [r for r in rules if r["alert"] == "OllamaDown"]
        keda = next(r for r in plan.helm_releases() if r.inputs["chart"] == "keda-add-ons-http")
        cold_start = int(keda.inputs["values"]["interceptor"]["readinessTimeout"].removesuffix("s"))
        assert int(down["for"].removesuffix("m")) * 60 >= cold_start


def test_gpu_memory_alert_leaves_out_vllm_which_reserves_its_gpu_by_design():
    """vLLM takes --gpu-memory-utilization (0.9) of the GPU at start: its GPUs would raise GpuMemoryHigh forever."""
    from llmplatform.llmd_specs import GPU_MEMORY_UTILIZATION
    from llmplatform.monitoring import PREALLOCATING_CONTAINERS

    from tests.conftest import variant
    assert GPU_MEMORY_UTILIZATION * 100 >= 90
    containers = {c["name"] for d in variant("llmd").of_type("kubernetes:apps/v1:Deployment")
                  for c in d.inputs["spec"]["template"]["spec"]["containers"] if "vllm" in c["image"]}
    assert containers and containers <= set(PREALLOCATING_CONTAINERS)
    (rule,) = [r for r in platform_alert_rules("llm", 90, 0.05, 30, 1200) if r["alert"] == "GpuMemoryHigh"]
    assert rule["expr"].count('container!~"vllm"') == 3  # used and free, numerator and denominator
