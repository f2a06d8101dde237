"""Alert and scaling rules (components/llmplatform/monitoring.py): every PromQL query parses and uses real metrics,
and the registered rules are the checked ones."""
from __future__ import annotations

from llmplatform.monitoring import (ADAPTER_GPU_RULE, KSM_NODE_LABELS, SPOT_NODE_LABELS, azure_alert_rules,
                                   gpu_memory_percent_query, platform_alert_rules, spot_nodes)

from tests.components.test_observability import assert_known


def test_every_rule_and_scaling_query_parses_and_uses_real_metrics():
    for rule in platform_alert_rules("llm", 90, 0.05, 30):
        assert_known(rule["expr"], rule["alert"])
    for rule in azure_alert_rules():
        assert_known(rule["expression"], rule["alert"])
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
    (rule,) = [r for r in platform_alert_rules("llm", 90, 0.05, 30) if r["alert"] == "SpotNodesEvicted"]
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
