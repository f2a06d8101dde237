"""Observability and autoscaling as registered under mocks, and every PromQL query checked against the metrics the
platform's exporters emit."""
from __future__ import annotations

import json
import re

import promql_parser
import pytest

from llmplatform.defaults import DEFAULTS
from llmplatform.observability import DASHBOARDS as DASHBOARDS_DIR
from llmplatform.monitoring import ADAPTER_GPU_RULE, azure_alert_rules, gpu_memory_percent_query, platform_alert_rules

from config.loader import parse_config
from config.reader import ConfigError
from offline import runner as offline

from .conftest import UPSTREAM, VARIANTS, variant
from .validation import chart_values

# Every metric a query may use, with the exporter that emits it in this platform.
METRIC_SOURCES = {
    # NVIDIA DCGM exporter (dcgm-exporter chart, or the GPU Operator's), default counters
    **{m: "dcgm-exporter" for m in ("DCGM_FI_DEV_GPU_UTIL", "DCGM_FI_DEV_FB_USED", "DCGM_FI_DEV_FB_FREE",
                                    "DCGM_FI_DEV_GPU_TEMP", "DCGM_FI_DEV_POWER_USAGE")},
    # kube-state-metrics (kube-prometheus-stack, and Azure managed Prometheus' ama-metrics-ksm)
    **{m: "kube-state-metrics" for m in (
        "kube_pod_status_phase", "kube_deployment_status_replicas_available", "kube_deployment_spec_replicas",
        "kube_pod_container_status_restarts_total", "kube_node_labels", "kube_node_status_condition",
        "kube_pod_container_resource_requests", "kube_pod_container_status_waiting_reason")},
    # kubelet cAdvisor (kube-prometheus-stack)
    "container_cpu_usage_seconds_total": "cadvisor", "container_memory_working_set_bytes": "cadvisor",
    # Istio gateway Envoy (PodMonitor istio-gateways)
    "istio_requests_total": "istio-gateway", "istio_request_duration_milliseconds_bucket": "istio-gateway",
    # KEDA operator (PodMonitor keda-operator)
    "keda_scaler_metrics_value": "keda-operator",
    # vLLM (llm-d model servers), only on the vLLM dashboard
    **{m: "vllm" for m in ("vllm:num_requests_running", "vllm:num_requests_waiting",
                           "vllm:time_to_first_token_seconds_bucket", "vllm:e2e_request_latency_seconds_bucket",
                           "vllm:kv_cache_usage_perc", "vllm:generation_tokens_total", "vllm:prompt_tokens_total")},
}


def metrics_of(query: str) -> set[str]:
    names: set[str] = set()

    def visit(node):
        if isinstance(node, promql_parser.VectorSelector) and node.name:
            names.add(node.name)
        return True

    promql_parser.walk(promql_parser.parse(query), visit)
    return names


def assert_known(query: str, where: str) -> None:
    unknown = metrics_of(query) - set(METRIC_SOURCES)
    assert not unknown, f"{where}: {sorted(unknown)} is emitted by nothing in this platform"


def dashboard_queries(doc: dict) -> list[str]:
    return [t["expr"] for p in doc["panels"] for t in p.get("targets", [])]


@pytest.mark.parametrize("file_name", sorted(p.name for p in DASHBOARDS_DIR.iterdir() if p.name.endswith(".json")))
def test_each_dashboard_parses_and_queries_only_real_metrics(file_name):
    doc = json.loads(DASHBOARDS_DIR.joinpath(file_name).read_text())
    assert doc["uid"] and doc["title"] and doc["panels"]
    queries = dashboard_queries(doc)
    assert queries
    for q in queries:
        assert_known(q.replace("$namespace", "llm"), f"{file_name}: {q}")


def test_metric_checker_catches_an_unknown_metric():
    with pytest.raises(AssertionError):
        assert_known("rate(ollama_requests_total[5m])", "test")
    with pytest.raises(ValueError):
        promql_parser.parse("sum(rate(x[5m])")


def test_dashboards_cover_gpu_and_platform_questions():
    gpu = " ".join(dashboard_queries(json.loads(DASHBOARDS_DIR.joinpath("gpu.json").read_text())))
    for metric in ("DCGM_FI_DEV_GPU_UTIL", "DCGM_FI_DEV_FB_USED", "DCGM_FI_DEV_GPU_TEMP", "DCGM_FI_DEV_POWER_USAGE"):
        assert metric in gpu
    overview = " ".join(dashboard_queries(json.loads(DASHBOARDS_DIR.joinpath("llm-platform.json").read_text())))
    for needle in ('response_code=~"5.."', 'response_code=~"4.."', "histogram_quantile(0.99", "keda_scaler_metrics_value",
                   "kube_deployment_status_replicas_available"):
        assert needle in overview


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


def test_azure_monitoring_wiring(dev, prod):
    mc = prod.one("azure-native:containerservice:ManagedCluster").inputs
    assert mc["azureMonitorProfile"]["metrics"]["enabled"] is True
    oms = mc["addonProfiles"]["omsagent"]
    assert oms["enabled"] and oms["config"]["useAADAuth"] == "true"
    assert oms["config"]["logAnalyticsWorkspaceResourceID"].endswith("/Workspace/log-llmp-prod")
    assert prod.one("azure-native:operationalinsights:Workspace").inputs["retentionInDays"] == 90
    # dev (observability.azureMonitor false): no workspace, no data collection, no Azure alerts, no add-on agents
    dev_mc = dev.one("azure-native:containerservice:ManagedCluster").inputs
    assert "omsagent" not in dev_mc["addonProfiles"] and "azureMonitorProfile" not in dev_mc
    for kind in ("operationalinsights:Workspace", "monitor:DataCollectionRule", "monitor:DataCollectionEndpoint",
                 "alertsmanagement:PrometheusRuleGroup", "monitor:MetricAlert", "monitor:AzureMonitorWorkspace"):
        assert dev.of_type(f"azure-native:{kind}") == [], kind
    assert release(dev, "kube-prometheus-stack") and release(dev, "keda")  # the in-cluster stack stays
    associations = {r.inputs["associationName"] for r in
                    prod.of_type("azure-native:monitor:DataCollectionRuleAssociation")}
    assert associations == {"configurationAccessEndpoint", "dcra-llmp-prod-prometheus", "dcra-llmp-prod-insights"}
    group = prod.one("azure-native:monitor:ActionGroup").inputs
    assert [r["emailAddress"] for r in group["emailReceivers"]] == ["platform-oncall@example.com"]
    storage = prod.one("azure-native:monitor:MetricAlert").inputs["criteria"]["allOf"][0]
    assert (storage["metricName"], storage["operator"], storage["threshold"]) == ("storage_percent", "GreaterThan", 80)
    grafana = prod.one("azure-native:dashboard:Grafana").inputs["properties"]
    assert grafana["grafanaIntegrations"]["azureMonitorWorkspaceIntegrations"][0][
        "azureMonitorWorkspaceResourceId"].endswith("/AzureMonitorWorkspace/amw-llmp-prod")
    assert dev.of_type("azure-native:dashboard:Grafana") == [] and dev.of_type("azure-native:monitor:ActionGroup") == []


def release(plan, chart):
    return next(r for r in plan.helm_releases() if r.inputs["chart"] == chart)


def test_kube_prometheus_stack_on_cpu_nodes_with_a_random_grafana_password(dev, prod):
    values = release(dev, "kube-prometheus-stack").inputs["values"]
    cpu = {"llm-platform/pool": "cpu"}
    assert values["prometheus"]["prometheusSpec"]["nodeSelector"] == cpu
    assert values["grafana"]["nodeSelector"] == cpu and values["alertmanager"]["alertmanagerSpec"]["nodeSelector"] == cpu
    assert values["grafana"]["admin"]["existingSecret"] == "grafana-admin"
    assert "adminPassword" not in values["grafana"]
    admin = dev.one("kubernetes:core/v1:Secret", "observability-grafana-admin")
    assert any("stringData.admin-password".startswith(p) for p in admin.secret_paths)
    secrets = {s.inputs["secretName"] for s in dev.of_type("azure-native:keyvault:Secret")}
    assert "observability-grafana-admin-password" in secrets
    prod_values = release(prod, "kube-prometheus-stack").inputs["values"]
    assert prod_values["prometheus"]["prometheusSpec"]["storageSpec"]["volumeClaimTemplate"]["spec"]["resources"][
        "requests"]["storage"] == "200Gi"
    assert prod_values["grafana"]["persistence"]["size"] == "10Gi" and values["grafana"]["persistence"]["size"] == "5Gi"
    assert values["grafana"]["sidecar"]["dashboards"]["label"] == "grafana_dashboard"
    boards = {r.inputs["metadata"]["name"] for r in dev.of_type("kubernetes:core/v1:ConfigMap")
              if r.inputs["metadata"].get("labels", {}).get("grafana_dashboard") == "1"}
    assert boards == {"dashboard-gpu", "dashboard-llm-platform"}


def test_dcgm_only_on_gpu_nodes_tolerating_gpu_and_spot(dev):
    values = release(dev, "dcgm-exporter").inputs["values"]
    assert values["nodeSelector"] == {"llm-platform/accelerator": "nvidia"}
    keys = {t["key"] for t in values["tolerations"]}
    assert keys == {"nvidia.com/gpu", "kubernetes.azure.com/scalesetpriority"}
    monitor = dev.one("kubernetes:monitoring.coreos.com/v1:ServiceMonitor").inputs["spec"]
    assert monitor["endpoints"][0]["honorLabels"] is True


def test_operator_mode_scrapes_the_operators_dcgm_exporter():
    plan = variant("dev-operator")
    assert not any(r.inputs["chart"] == "dcgm-exporter" for r in plan.helm_releases())
    spec = plan.one("kubernetes:monitoring.coreos.com/v1:ServiceMonitor").inputs["spec"]
    assert spec["namespaceSelector"]["matchNames"] == ["gpu-operator"]


def test_requests_mode_scales_ollama_on_in_flight_requests_through_the_interceptor(dev):
    http = dev.one("kubernetes:http.keda.sh/v1alpha1:HTTPScaledObject").inputs
    assert http["metadata"]["annotations"]["httpscaledobject.keda.sh/skip-scaledobject-creation"] == "true"
    assert http["spec"]["scalingMetric"] == {"concurrency": {"targetValue": 4}}
    assert "ollama-scaled" in http["spec"]["hosts"] and http["spec"]["timeouts"]["responseHeader"] == "600s"
    scaled_object = dev.one("kubernetes:keda.sh/v1alpha1:ScaledObject").inputs
    assert scaled_object["metadata"]["name"] != http["metadata"]["name"]  # the add-on would delete a namesake
    scaled = scaled_object["spec"]
    assert [t["type"] for t in scaled["triggers"]] == ["external-push", "cpu"]
    assert scaled["triggers"][0]["metadata"]["httpScaledObject"] == "ollama"
    assert scaled["advanced"]["horizontalPodAutoscalerConfig"]["behavior"]["scaleDown"][
        "stabilizationWindowSeconds"] == 600
    conf = dev.one("kubernetes:core/v1:ConfigMap", "inference-router-config").inputs["data"]["nginx.conf"]
    assert "server ollama-scaled:8080;" in conf and "proxy_set_header Host ollama-scaled;" in conf
    ollama = next(r for r in dev.of_type("kubernetes:apps/v1:Deployment") if r.inputs["metadata"]["name"] == "ollama")
    assert "spec.replicas" in ollama.options["ignoreChanges"]
    keda_values = release(dev, "keda-add-ons-http").inputs["values"]["interceptor"]
    assert keda_values["responseHeaderTimeout"] == "600s" and keda_values["readinessTimeout"] == "1200s"


def test_dev_gpu_mode_scales_to_zero_with_gpu_memory_signal():
    plan = variant("dev-gpu")
    spec = plan.one("kubernetes:keda.sh/v1alpha1:ScaledObject").inputs["spec"]
    assert spec["minReplicaCount"] == 0
    prometheus = next(t for t in spec["triggers"] if t["type"] == "prometheus")
    assert prometheus["metadata"]["serverAddress"] == "http://kps-prometheus.monitoring.svc:9090"
    assert_known(prometheus["metadata"]["query"], "trigger")
    assert plan.one("kubernetes:http.keda.sh/v1alpha1:HTTPScaledObject").inputs["spec"]["replicas"]["min"] == 0


def test_gpu_memory_hpa_mode_uses_the_adapter_metric_with_cpu_fallback():
    plan = variant("dev-gpu-hpa")
    hpas = {r.inputs["metadata"]["name"]: r.inputs["spec"]
            for r in plan.of_type("kubernetes:autoscaling/v2:HorizontalPodAutoscaler")}
    spec = hpas["ollama"]
    assert spec["metrics"][0]["pods"]["metric"]["name"] == "gpu_memory_utilization"
    assert spec["metrics"][1]["resource"]["name"] == "cpu"
    assert spec["behavior"]["scaleDown"]["stabilizationWindowSeconds"] == 600
    adapter = release(plan, "prometheus-adapter").inputs["values"]
    assert adapter["rules"]["custom"][0]["name"]["as"] == "gpu_memory_utilization"
    assert not any(r.inputs["chart"].startswith("keda") for r in plan.helm_releases())
    assert plan.of_type("kubernetes:keda.sh/v1alpha1:ScaledObject") == []


def test_webui_cpu_hpa_keeps_working_without_keda():
    plan = variant("dev-gpu-hpa")
    names = {r.inputs["metadata"]["name"] for r in plan.of_type("kubernetes:autoscaling/v2:HorizontalPodAutoscaler")}
    assert "open-webui" in names
    conf = plan.one("kubernetes:core/v1:ConfigMap", "inference-router-config").inputs["data"]["nginx.conf"]
    assert "server ollama:11434;" in conf  # no interceptor without KEDA


def test_gateway_and_keda_are_scraped(dev):
    monitors = {r.inputs["metadata"]["name"]: r.inputs["spec"]
                for r in dev.of_type("kubernetes:monitoring.coreos.com/v1:PodMonitor")}
    assert monitors["istio-gateways"]["podMetricsEndpoints"][0]["port"] == "http-envoy-prom"
    assert monitors["keda-operator"]["namespaceSelector"]["matchNames"] == ["keda"]
    assert re.fullmatch(r"\d+s", monitors["keda-operator"]["podMetricsEndpoints"][0]["interval"])


# ---- the scale-from-zero timeout chain --------------------------------------------------------------------------
# KEDA HTTP add-on v0.15.0, interceptor/config/timeouts.go and interceptor/middleware/{routing,endpoint_resolver}.go:
# KEDA_HTTP_REQUEST_TIMEOUT (chart interceptor.requestTimeout) is the total deadline from the request's arrival, 0 or
# unset = none; KEDA_HTTP_READINESS_TIMEOUT (chart interceptor.readinessTimeout) bounds the wait for a ready replica
# inside that deadline, 0 = only the request deadline; an HTTPScaledObject's timeouts.conditionWait replaces the
# readiness wait for its route (pkg/routing/table.go); KEDA_HTTP_RESPONSE_HEADER_TIMEOUT (interceptor.
# responseHeaderTimeout, per route timeouts.responseHeader) defaults to 300s. nginx: proxy_read_timeout is the gap
# between two reads (the first byte arrives only once the replica is up and, unstreamed, the answer done); Gateway
# API HTTPRoute timeouts.request is the whole request.
UNBOUNDED = float("inf")


def go_seconds(text, default):
    """A Go duration as the add-on parses it ("", "0s": the default; 1h2m3s forms)."""
    if not text:
        return default
    parts = re.findall(r"(\d+(?:\.\d+)?)(h|ms|m|s)", text)
    assert "".join(n + u for n, u in parts) == text, f"not a Go duration: {text!r}"
    seconds = sum(float(n) * {"h": 3600, "m": 60, "s": 1, "ms": 0.001}[u] for n, u in parts)
    return seconds or default


def planned_hops(plan):
    """Every hop's timeout settings on the scaled path, as the planned objects carry them."""
    route = next(r.inputs["spec"]["rules"][0]["timeouts"] for r in plan.of_type(
        "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute") if r.inputs["metadata"]["name"] == "api-route")
    conf = plan.one("kubernetes:core/v1:ConfigMap", "inference-router-config").inputs["data"]["nginx.conf"]
    return {"route": route, "nginx": conf,
            "interceptor": release(plan, "keda-add-ons-http").inputs["values"]["interceptor"],
            "http_scaled_object": plan.one("kubernetes:http.keda.sh/v1alpha1:HTTPScaledObject").inputs["spec"].get(
                "timeouts", {})}


def timeout_chain(hops, cold_start_seconds, generation_seconds):
    """The rules the hops' timeouts break, read with each upstream's semantics."""
    route, interceptor, per_route = hops["route"], hops["interceptor"], hops["http_scaled_object"]
    gateway = min(go_seconds(route["request"], UNBOUNDED), go_seconds(route.get("backendRequest"), UNBOUNDED))
    router = min(int(t) for t in re.findall(r"proxy_read_timeout (\d+)s;", hops["nginx"]))
    total = go_seconds(interceptor.get("requestTimeout"), UNBOUNDED)
    readiness = go_seconds(per_route.get("conditionWait"), go_seconds(
        interceptor.get("readinessTimeout") or interceptor.get("replicas", {}).get("waitTimeout"), total))
    header = go_seconds(per_route.get("responseHeader"), go_seconds(interceptor.get("responseHeaderTimeout"), 300))
    need = cold_start_seconds + generation_seconds
    rules = {
        "gateway >= router": gateway >= router,
        "router >= interceptor total": router >= total,
        "interceptor total >= cold start + generation": total >= need,
        "interceptor waits the whole cold start": min(readiness, total) >= cold_start_seconds,
        "interceptor waits the whole generation for headers": header >= generation_seconds,
        "router >= cold start + generation": router >= need,
        # a rollout of the interceptor: it serves on for `drainTimeout` (chart default 30 s; 0 = until the grace
        # period) after `shutdownDelay` (default 5 s), and Kubernetes kills it at terminationGracePeriodSeconds
        "interceptor drains the whole answer": min(go_seconds(interceptor.get("drainTimeout", "30s"), UNBOUNDED),
                                                   interceptor.get("terminationGracePeriodSeconds", 45)
                                                   - go_seconds(interceptor.get("shutdownDelay", "5s"), 0)) >= need,
    }
    return [rule for rule, holds in rules.items() if not holds]


@pytest.mark.parametrize("name", ["dev", "dev-gpu", "prod"])
def test_scale_from_zero_timeout_chain_holds(name):
    stack, overrides = VARIANTS[name]
    raw = {k.split(":", 1)[1]: v for k, v in offline.stack_config(stack, overrides).items()}
    cfg = parse_config(raw, "p", stack)
    hops = planned_hops(variant(name))
    # every timeout key we set is one the chart reads (a misspelt key would silently leave the chart's default)
    chart = chart_values(UPSTREAM / "charts" / "keda-add-ons-http")["interceptor"]
    assert {k for k in hops["interceptor"] if "imeout" in k or k in ("drainTimeout", "shutdownDelay")} <= set(chart)
    assert timeout_chain(hops, cfg.autoscaling.cold_start_timeout_seconds, cfg.gateway.request_timeout_seconds) == []


def test_timeout_chain_check_catches_a_short_hop(dev):
    """A total interceptor deadline of the generation time alone (the add-on's requestTimeout counts from arrival)
    fails the chain; so does none at all, where the router becomes the shortest hop."""
    hops = planned_hops(dev)
    hops["interceptor"] = {**hops["interceptor"], "requestTimeout": "600s"}
    assert timeout_chain(hops, 1200, 600) == ["interceptor total >= cold start + generation",
                                              "interceptor waits the whole cold start"]
    hops["interceptor"]["requestTimeout"] = ""
    assert timeout_chain(hops, 1200, 600) == ["router >= interceptor total"]
    hops["interceptor"] = {k: v for k, v in hops["interceptor"].items() if k != "drainTimeout"}  # the chart's 30 s
    assert "interceptor drains the whole answer" in timeout_chain(hops, 1200, 600)


def test_managed_prometheus_gets_microsofts_recording_rule_groups(prod, dev):
    """Azure/prometheus-collector's onboarding template (tests/upstream/azure-prometheus-collector/
    DefaultRecordingRules.json) creates, per cluster, the rule groups its enabled resources list, named by its ARM
    variables; the managed dashboards read their series. Each group is planned with the template's name, interval,
    scopes and rules, record for record."""
    template = json.loads((UPSTREAM / "azure-prometheus-collector" / "DefaultRecordingRules.json").read_text())
    variables = template["variables"]
    cluster = prod.one("azure-native:containerservice:ManagedCluster").inputs["resourceName"]

    def arm(expr):  # the template's name expressions: [concat(variables('x'), parameters('clusterName'))] etc.
        if m := re.fullmatch(r"\[variables\('(\w+)'\)\]", expr):
            return arm(variables[m.group(1)])
        if m := re.fullmatch(r"\[concat\(variables\('(\w+)'\), (variables\('(\w+)'\)|parameters\('clusterName'\))\)\]",
                             expr):
            return variables[m.group(1)] + (variables[m.group(3)] if m.group(3) else cluster)
        return expr

    expected = {arm(r["name"]): r["properties"] for r in template["resources"]
                if r["type"] == "Microsoft.AlertsManagement/prometheusRuleGroups" and r["properties"]["enabled"]}
    planned = {g.inputs["ruleGroupName"]: g.inputs for g in prod.of_type("azure-native:alertsmanagement:PrometheusRuleGroup")}
    assert set(expected) == {"NodeRecordingRulesRuleGroup-" + cluster, "KubernetesRecordingRulesRuleGroup-" + cluster}
    workspace = prod.one("azure-native:monitor:AzureMonitorWorkspace").inputs["azureMonitorWorkspaceName"]
    for group_name, properties in expected.items():
        group = planned[group_name]
        assert group["rules"] == properties["rules"]
        assert group["interval"] == properties["interval"] and group["enabled"] is True
        assert group["clusterName"] == cluster and group["description"] == arm(properties["description"])
        assert group["scopes"][0].endswith("/" + workspace) and group["scopes"][1].endswith("/" + cluster)
    assert not [g for g in dev.of_type("azure-native:alertsmanagement:PrometheusRuleGroup")]  # no managed Prometheus


def silent_alerts(plan):
    """Azure alert rules with no action group: Azure Monitor evaluates and fires them and notifies nobody (the REST
    specs make `actions` optional on Microsoft.AlertsManagement/prometheusRuleGroups rules and on metricAlerts)."""
    groups = [f"{g.name}/{r['alert']}" for g in plan.of_type("azure-native:alertsmanagement:PrometheusRuleGroup")
              for r in g.inputs["rules"] if "alert" in r and not r.get("actions")]
    metric = [a.name for a in plan.of_type("azure-native:monitor:MetricAlert") if not a.inputs.get("actions")]
    return groups + metric


def test_a_stack_whose_alerts_reach_nobody_is_told_so(any_plan):
    if silent_alerts(any_plan):
        assert any("alertEmails" in w and "silently" in w for w in any_plan.warnings), silent_alerts(any_plan)
    else:
        assert not any("alertEmails" in w for w in any_plan.warnings)


def test_llmd_stack_alerts_silently_and_prod_refuses_to():
    assert silent_alerts(variant("llmd"))  # staging without alertEmails: the advisory above is not vacuous
    raw = {k.split(":", 1)[1]: v for k, v in offline.stack_config("prod", {"observability": {"alertEmails": []}}).items()}
    with pytest.raises(ConfigError, match="alertEmails"):
        parse_config(raw, "p", "prod")


def test_prod_runs_the_keda_interceptor_highly_available(prod, dev):
    """Every model request passes the interceptor. The chart (keda-add-ons-http 0.15.0) runs
    `interceptor.replicas.min` (3) by default; the component keeps that default, prod refuses fewer than 2, dev and
    llmd choose 1 in their stack files."""
    chart_default = chart_values(UPSTREAM / "charts" / "keda-add-ons-http")["interceptor"]["replicas"]["min"]
    assert DEFAULTS["Observability"]["interceptor_replicas"] == chart_default
    assert release(prod, "keda-add-ons-http").inputs["values"]["interceptor"]["replicas"]["min"] >= 2
    assert release(dev, "keda-add-ons-http").inputs["values"]["interceptor"]["replicas"]["min"] == 1
    raw = {k.split(":", 1)[1]: v for k, v in offline.stack_config(
        "prod", {"autoscaling": {"interceptorReplicas": 1}}).items()}
    with pytest.raises(ConfigError, match="interceptorReplicas"):
        parse_config(raw, "p", "prod")
