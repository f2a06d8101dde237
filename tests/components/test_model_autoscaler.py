"""ModelAutoscaler (components/llmplatform/model_autoscaler.py): KEDA on in-flight requests through the interceptor,
scale to zero, the GPU-memory HPA, the Open-WebUI CPU HPA, and the timeout chain from zero."""
from __future__ import annotations

import math
import re

import pytest
from llmplatform.defaults import DEFAULTS
from llmplatform.model_autoscaler import IN_FLIGHT_TRIGGER

from config.loader import parse_config
from config.reader import ConfigError
from offline import runner as offline

from tests.conftest import UPSTREAM, VARIANTS, variant
from tests.validation import chart_values
from tests.components.test_observability import assert_known, release


# ---- the scale-from-zero timeout chain --------------------------------------------------------------------------
# KEDA HTTP add-on v0.15.0, interceptor/config/timeouts.go and interceptor/middleware/{routing,endpoint_resolver}.go:
# KEDA_HTTP_REQUEST_TIMEOUT (chart interceptor.requestTimeout) is the total deadline from the request's arrival, 0 or
# unset = none; KEDA_HTTP_READINESS_TIMEOUT (chart interceptor.readinessTimeout) bounds the wait for a ready replica
# inside that deadline, 0 = only the request deadline; an InterceptorRoute's timeouts.readiness and timeouts.request
# replace the readiness wait and the total deadline for its route (interceptor/middleware/endpoint_resolver.go,
# routing.go); KEDA_HTTP_RESPONSE_HEADER_TIMEOUT (interceptor.responseHeaderTimeout, per route
# timeouts.responseHeader: interceptor/handler/upstream.go) defaults to 300s. nginx: proxy_read_timeout is the gap
# between two reads (the first byte arrives only once the replica is up and, unstreamed, the answer done); Gateway
# API HTTPRoute timeouts.request is the whole request.
UNBOUNDED = float("inf")
ROUTE = "kubernetes:http.keda.sh/v1beta1:InterceptorRoute"


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
            "interceptor_route": plan.one(ROUTE).inputs["spec"].get("timeouts", {})}


def timeout_chain(hops, cold_start_seconds, generation_seconds):
    """The rules the hops' timeouts break, read with each upstream's semantics."""
    route, interceptor, per_route = hops["route"], hops["interceptor"], hops["interceptor_route"]
    gateway = min(go_seconds(route["request"], UNBOUNDED), go_seconds(route.get("backendRequest"), UNBOUNDED))
    # the location a model request takes (the gate's probe location, /healthz/model, fails fast by design)
    from tests.components.test_api_gate import nginx_location_for
    router = min(int(t) for t in re.findall(r"proxy_read_timeout (\d+)s;",
                                            nginx_location_for(hops["nginx"], "/v1/chat/completions")[2]))
    total = go_seconds(per_route.get("request"), go_seconds(interceptor.get("requestTimeout"), UNBOUNDED))
    readiness = go_seconds(per_route.get("readiness"), go_seconds(
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


def test_requests_mode_scales_ollama_on_in_flight_requests_through_the_interceptor(dev):
    """An InterceptorRoute (http.keda.sh/v1beta1) routes and counts, our own ScaledObject scales on its count; no
    HTTPScaledObject (deprecated in the add-on since v0.14.0) is left in the plan."""
    assert [r.type for r in dev.resources if r.type.startswith("kubernetes:http.keda.sh/")] == [ROUTE]
    route = dev.one(ROUTE).inputs
    assert route["spec"]["scalingMetric"] == {"concurrency": {"targetValue": 4}}
    assert route["spec"]["target"] == {"service": "ollama", "port": 11434}
    hosts = route["spec"]["rules"][0]["hosts"]
    assert "ollama-scaled.llm" in hosts and "ollama-scaled" not in hosts and route["spec"]["timeouts"] == {
        "responseHeader": "600s", "readiness": "1200s", "request": "1800s"}
    scaled_object = dev.one("kubernetes:keda.sh/v1alpha1:ScaledObject")
    assert scaled_object.inputs["metadata"]["name"] == "ollama-scaler"  # the dashboard and llm-verify read it
    assert dev.one(ROUTE).urn in scaled_object.dependencies  # the scaler looks the route up by name
    scaled_object = scaled_object.inputs
    scaled = scaled_object["spec"]
    assert [t["type"] for t in scaled["triggers"]] == ["external-push", "cpu"]
    assert scaled["triggers"][0]["metadata"] == {"scalerAddress": "keda-add-ons-http-external-scaler.keda.svc"
                                                                  ".cluster.local:9090", "interceptorRoute": "ollama"}
    assert scaled["advanced"]["horizontalPodAutoscalerConfig"]["behavior"]["scaleDown"][
        "stabilizationWindowSeconds"] == 600
    conf = dev.one("kubernetes:core/v1:ConfigMap", "inference-router-config").inputs["data"]["nginx.conf"]
    assert "server ollama-scaled.llm:8080;" in conf and "proxy_set_header Host ollama-scaled.llm;" in conf
    ollama = next(r for r in dev.of_type("kubernetes:apps/v1:Deployment") if r.inputs["metadata"]["name"] == "ollama")
    assert "spec.replicas" in ollama.options["ignoreChanges"]
    keda_values = release(dev, "keda-add-ons-http").inputs["values"]["interceptor"]
    assert keda_values["responseHeaderTimeout"] == "600s" and keda_values["readinessTimeout"] == "1200s"


def test_dev_gpu_requests_mode_scales_to_zero_on_the_requests_alone():
    """On a GPU, requests mode scales on the requests in flight alone: the interceptor's count wakes the server from
    zero and the ScaledObject goes back to zero when it is idle. No trigger reads GPU memory (next test)."""
    plan = variant("dev-gpu")
    spec = plan.one("kubernetes:keda.sh/v1alpha1:ScaledObject").inputs["spec"]
    assert spec["minReplicaCount"] == 0
    assert [t["type"] for t in spec["triggers"]] == ["external-push"]
    assert spec["triggers"][0]["name"] == IN_FLIGHT_TRIGGER
    assert "replicas" not in plan.one(ROUTE).inputs["spec"]  # the route routes; the ScaledObject scales


def hpa_external_replicas(metric_type: str, value: float, target: float, replicas: int,
                          tolerance: float = 0.1) -> int:
    """The replicas the HPA wants from one external metric (kubernetes pkg/controller/podautoscaler/
    replica_calculator.go): AverageValue (GetExternalPerPodMetricReplicas) divides the metric, a total, by the target
    per replica, ceil(value / target); Value (GetExternalMetricReplicas, getUsageRatioReplicaCount) scales the ready
    replicas by value / target. Within the 10 % tolerance the count stays."""
    if metric_type == "AverageValue":
        ratio = value / (target * replicas)
        return replicas if abs(1 - ratio) <= tolerance else math.ceil(value / target)
    ratio = value / target
    return replicas if abs(1 - ratio) <= tolerance else math.ceil(ratio * replicas)


def test_no_trigger_reads_gpu_memory_which_a_loaded_model_holds_whatever_the_load():
    """An Ollama replica's GPU memory is what its loaded model holds (weights and the context cache reserved at
    load), the same idle or busy, and another replica does not lower it. A GPU-memory trigger was wrong either way:
    under KEDA's default AverageValue (kedacore/keda v2.20.2 pkg/scalers/scaler.go GetMetricTargetType) the average
    read as a total asked for ceil(95 / 80) = 2 replicas whatever ran; as the per-replica Value its target describes,
    a model holding 90 % asks for one more replica on every check up to maxReplicas, and keeps them while any traffic
    keeps the models loaded. Neither is a load signal: no ScaledObject trigger of requests mode reads GPU memory."""
    # the two readings of a constant 90 % (a loaded model) against the default target of 80, prod's 2..4 replicas
    replicas = 2
    for _ in range(5):
        replicas = min(4, hpa_external_replicas("Value", 90, 80, replicas))
    assert replicas == 4  # idle or not: the runaway that made the trigger go
    assert hpa_external_replicas("AverageValue", 95, 80, 3) == 2  # and the reading that never scaled out
    for name in ("dev-gpu", "prod"):
        spec = variant(name).one("kubernetes:keda.sh/v1alpha1:ScaledObject").inputs["spec"]
        queries = [t["metadata"].get("query", "") for t in spec["triggers"]]
        assert not any("DCGM_FI_DEV_FB" in q for q in queries), (name, queries)


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
    """A total interceptor deadline of the generation time alone (the add-on's requestTimeout counts from arrival),
    the route's own or, without one, the chart's, fails the chain; so does none at all, where the router becomes
    the shortest hop."""
    hops = planned_hops(dev)
    short = ["interceptor total >= cold start + generation", "interceptor waits the whole cold start"]
    assert timeout_chain({**hops, "interceptor_route": {**hops["interceptor_route"], "request": "600s"}},
                         1200, 600) == short
    hops["interceptor_route"] = {k: v for k, v in hops["interceptor_route"].items() if k != "request"}
    hops["interceptor"] = {**hops["interceptor"], "requestTimeout": "600s"}
    assert timeout_chain(hops, 1200, 600) == short
    hops["interceptor"]["requestTimeout"] = ""
    assert timeout_chain(hops, 1200, 600) == ["router >= interceptor total"]
    hops["interceptor"] = {k: v for k, v in hops["interceptor"].items() if k != "drainTimeout"}  # the chart's 30 s
    assert "interceptor drains the whole answer" in timeout_chain(hops, 1200, 600)


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


def test_a_route_whose_waits_outgrow_the_interceptors_deadline_keeps_its_own_budget():
    """A consumer's ModelAutoscaler may wait longer than the Observability it scales on (a slower model to load,
    longer answers): the interceptor's total deadline (chart `requestTimeout`, Observability's cold start plus
    answer) wraps the route's readiness wait and answer (http-add-on v0.15.0 interceptor/proxy.go: the routing
    middleware sets the deadline outside the endpoint resolver and the upstream), so without a per-route
    `timeouts.request` a 1800 s cold start under a 1800 s deadline would leave no time for the answer."""
    from llmplatform import InferenceStack, ModelAutoscaler, Observability
    from llmplatform.testing import run
    from tests.components.test_stranger4_consumer import platform, store

    def program():
        aks, k8s, vault = platform()
        obs = Observability("obs", {"cluster": aks.cluster, "key_vault": vault.vault, "app_namespace": "acme"}, k8s)
        stack = InferenceStack("llm", {"cluster": aks.cluster, "key_vault": vault.vault, "keda": obs.keda,
                                       "model_volume": store(aks, k8s).volume}, k8s)
        ModelAutoscaler("scale", {"model_server": stack.model_server, "mode": "requests", "min_replicas": 0,
                                  "max_replicas": 2, "keda": obs.keda, "cold_start_timeout_seconds": 1800,
                                  "request_timeout_seconds": 900}, k8s)
    plan = run(program)
    interceptor = release(plan, "keda-add-ons-http").inputs["values"]["interceptor"]
    assert go_seconds(interceptor["requestTimeout"], UNBOUNDED) == 1800  # Observability's defaults: 1200 + 600
    per_route = plan.one(ROUTE).inputs["spec"]["timeouts"]
    total = go_seconds(per_route.get("request"), go_seconds(interceptor["requestTimeout"], UNBOUNDED))
    readiness = go_seconds(per_route.get("readiness"), total)
    header = go_seconds(per_route.get("responseHeader"), 300)
    assert (readiness, header) == (1800, 900)
    assert total >= readiness + header, per_route
