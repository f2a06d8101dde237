"""Alert and scaling rules (components/llmplatform/monitoring.py): every PromQL query parses and uses real metrics,
and the registered rules are the checked ones."""
from __future__ import annotations

from llmplatform.monitoring import ADAPTER_GPU_RULE, azure_alert_rules, gpu_memory_percent_query, platform_alert_rules

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
