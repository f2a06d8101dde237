"""Alert and scaling rules (components/llmplatform/monitoring.py): every PromQL query parses and uses real metrics,
and the registered rules are the checked ones."""
from __future__ import annotations

import pytest
from llmplatform.monitoring import (ADAPTER_GPU_RULE, KSM_NODE_LABELS, SPOT_NODE_LABELS, FallbackPool,
                                   azure_alert_rules, platform_alert_rules, spot_nodes)

from tests.components.test_metric_sources import azure_catalog
from tests.components.test_observability import assert_known
from tests.metric_catalog import check_query


FALLBACK = FallbackPool("gpuod", 0, 3)


def test_every_rule_and_scaling_query_parses_and_uses_real_metrics():
    for operator in (False, True):
        for rule in platform_alert_rules("llm", 90, 0.05, 30, 1200, ["llm-d"], cert_manager=True, fallback=FALLBACK,
                                         gpu_operator=operator, gpu_nodes=True):
            assert_known(rule["expr"], rule["alert"])
        for rule in azure_alert_rules(["llm"], ["llm-d"], fallback=FALLBACK, gpu_operator=operator, gpu_nodes=True):
            check_query(rule["expression"], azure_catalog(), rule["alert"])
    adapter = ADAPTER_GPU_RULE["metricsQuery"].replace("<<.GroupBy>>", "pod").replace(
        "<<.LabelMatchers>>", 'namespace="llm",pod="ollama-0"')
    assert_known(adapter, "adapter")
    assert_known(ADAPTER_GPU_RULE["seriesQuery"], "adapter series")


def test_registered_rules_are_the_checked_ones(prod):
    rules = prod.one("kubernetes:monitoring.coreos.com/v1:PrometheusRule").inputs["spec"]["groups"][0]["rules"]
    assert {r["alert"] for r in rules} == {"GpuMemoryHigh", "GatewayErrorRatioHigh", "GatewayLatencyP95AboveSlo",
                                           "SpotNodesEvicted", "OllamaDown", "GatewayRejectingMostRequests",
                                           "KedaScalerErrors", "CertificateNotReady",
                                           "CertificateExpiringWithoutRenewal",
                                           "GpuFallbackNodesRunning", "GpuNodeOffersNoGpus"}  # no vLLM: no VllmDown
    latency = next(r for r in rules if r["alert"] == "GatewayLatencyP95AboveSlo")
    assert latency["expr"].endswith("> 20000")  # prod's 20 s SLO from config
    for r in rules:
        assert_known(r["expr"], r["alert"])
    azure = prod.one("azure-native:alertsmanagement:PrometheusRuleGroup", "observability-azure-alerts").inputs
    assert {r["alert"] for r in azure["rules"]} == {"NodeNotReady", "GpuPodsPending", "PodCrashLooping",
                                                    "ModelServerDown", "NodeDiskPressure",
                                                    "PersistentVolumeFillingUp", "GpuFallbackNodesRunning",
                                                    "GpuNodeOffersNoGpus"}
    assert all(r["actions"][0]["actionGroupId"].endswith(
        "/providers/Microsoft.Insights/actionGroups/ag-llmp-prod-oncall") for r in azure["rules"])


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


# ---- what pages the on-call: model servers, disks, volumes, the gate's refusals, KEDA ----------------------------

def selected(expr: str, metric: str, labels: dict[str, str]) -> bool:
    """Whether some selector of `metric` in `expr` selects a series with `labels` (Prometheus' matcher semantics:
    an absent label is "", a regex is anchored)."""
    import re

    import promql_parser
    P = promql_parser
    hits: list[bool] = []

    def visit(node):
        if isinstance(node, P.VectorSelector) and node.name == metric:
            ok = True
            for m in node.matchers.matchers:
                value = labels.get(m.name, "")
                if m.op in (P.MatchOp.Equal, P.MatchOp.NotEqual):
                    ok &= (value == m.value) == (m.op == P.MatchOp.Equal)
                else:
                    ok &= (re.fullmatch(m.value, value) is not None) == (m.op == P.MatchOp.Re)
            hits.append(ok)
        return True

    P.walk(P.parse(expr), visit)
    return any(hits)


def vllm_deployments(plan) -> list[dict[str, str]]:
    return [{"namespace": d.inputs["metadata"]["namespace"], "deployment": d.inputs["metadata"]["name"]}
            for d in plan.of_type("kubernetes:apps/v1:Deployment")
            if any("vllm" in c["image"] for c in d.inputs["spec"]["template"]["spec"]["containers"])]


def rules_of(plan) -> dict[str, dict]:
    rule = plan.one("kubernetes:monitoring.coreos.com/v1:PrometheusRule").inputs["spec"]["groups"][0]["rules"]
    return {r["alert"]: r for r in rule}


def azure_rules_of(plan) -> dict[str, dict]:
    group = plan.one("azure-native:alertsmanagement:PrometheusRuleGroup", "observability-azure-alerts").inputs
    return {r["alert"]: r for r in group["rules"]}


def test_every_planned_vllm_deployment_is_watched_in_the_cluster_and_paged_from_azure(prod):
    """vLLM (aggregated, or prefill and decode) has VllmDown and ModelServerDown like Ollama has OllamaDown; a stack
    without llm-d has no VllmDown and its ModelServerDown names no vLLM."""
    from tests.conftest import variant
    for name in ("llmd", "llmd-pd"):
        plan = variant(name)
        servers = vllm_deployments(plan)
        assert servers, name
        down, paged = rules_of(plan)["VllmDown"]["expr"], azure_rules_of(plan)["ModelServerDown"]["expression"]
        for labels in servers:
            for metric in ("kube_deployment_spec_replicas", "kube_deployment_status_replicas_available"):
                assert selected(down, metric, labels) and selected(paged, metric, labels), (name, labels)
        ollama = {"namespace": "llm", "deployment": "ollama"}
        assert selected(paged, "kube_deployment_spec_replicas", ollama)
        assert not selected(down, "kube_deployment_spec_replicas", ollama)
    assert "VllmDown" not in rules_of(prod) and "vllm" not in azure_rules_of(prod)["ModelServerDown"]["expression"]
    assert selected(azure_rules_of(prod)["ModelServerDown"]["expression"], "kube_deployment_spec_replicas",
                    {"namespace": "llm", "deployment": "ollama"})


def first_firing(rule_for: str, expr: str, labels: dict[str, str], spec: list[int], available: list[int]):
    """The minute a rule first fires for one Deployment whose kube-state-metrics series are `spec` and `available`
    (one sample a minute), evaluated each minute as Prometheus does the expressions these rules use: a selector with
    its label matchers (and offset: no sample before the series began), min/max_over_time over the samples of its
    range, a comparison with a number filtering, `and` / `or` of one series; the alert fires once the expression has
    held for `for` (None: never)."""
    import re

    import promql_parser as P
    series = {"kube_deployment_spec_replicas": spec, "kube_deployment_status_replicas_available": available}

    def picks(selector) -> bool:
        return all((re.fullmatch(m.value, labels.get(m.name, "")) is not None) == (m.op == P.MatchOp.Re)
                   if m.op in (P.MatchOp.Re, P.MatchOp.NotRe)
                   else (labels.get(m.name, "") == m.value) == (m.op == P.MatchOp.Equal)
                   for m in selector.matchers.matchers)

    def at(node, t):
        if isinstance(node, P.ParenExpr):
            return at(node.expr, t)
        if isinstance(node, P.VectorSelector):
            back = t - int(node.offset.total_seconds() // 60) if node.offset else t
            return series[node.name][back] if picks(node) and back >= 0 else None
        if isinstance(node, P.Call):
            (matrix,) = node.args
            minutes = int(matrix.range.total_seconds() // 60)
            if not picks(matrix.vector_selector):
                return None
            window = series[matrix.vector_selector.name][max(0, t - minutes + 1):t + 1]
            return {"min_over_time": min, "max_over_time": max}[node.func.name](window)
        op = str(node.op)
        if isinstance(node.rhs, P.NumberLiteral):
            value = at(node.lhs, t)
            ok = value is not None and {">": value > node.rhs.val, "==": value == node.rhs.val}[op]
            return value if ok else None
        lhs, rhs = at(node.lhs, t), at(node.rhs, t)
        return {"and": lhs if lhs is not None and rhs is not None else None,
                "or": lhs if lhs is not None else rhs}[op]

    wait = int(rule_for.removeprefix("PT").rstrip("mM"))
    tree, held = P.parse(expr), 0
    for t in range(len(spec)):
        held = held + 1 if at(tree, t) is not None else 0
        if held > wait:  # active at t - wait and every minute since: `for` has passed
            return t
    return None


def floors(plan) -> dict[tuple[str, str], int]:
    """The fewest replicas of each model-server Deployment, as its autoscaler keeps it: a KEDA ScaledObject's
    minReplicaCount (KEDA's default 0: kedacore/keda apis/keda/v1alpha1 scaledobject_types.go), an HPA's minReplicas
    (default 1, k8s.io/api autoscaling/v2), else the Deployment's own replicas."""
    result = {}
    for d in plan.of_type("kubernetes:apps/v1:Deployment"):
        meta = d.inputs["metadata"]
        if meta["name"] in ("ollama", "vllm", "vllm-prefill", "vllm-decode"):
            result[(meta["namespace"], meta["name"])] = d.inputs["spec"].get("replicas", 1)
    for so in plan.of_type("kubernetes:keda.sh/v1alpha1:ScaledObject"):
        key = (so.inputs["metadata"]["namespace"], so.inputs["spec"]["scaleTargetRef"]["name"])
        if key in result:
            result[key] = so.inputs["spec"].get("minReplicaCount", 0)
    for hpa in plan.of_type("kubernetes:autoscaling/v2:HorizontalPodAutoscaler"):
        key = (hpa.inputs["metadata"]["namespace"], hpa.inputs["spec"]["scaleTargetRef"]["name"])
        if key in result:
            result[key] = hpa.inputs["spec"].get("minReplicas", 1)
    return result


def test_model_server_alerts_wait_a_cold_start_only_where_the_server_can_be_at_zero(dev, prod):
    """A server its autoscaler can take to zero has a replica desired and none available for a whole cold start
    (the interceptor's readinessTimeout, autoscaling.coldStartTimeoutSeconds) each time a request wakes it: its
    alerts must not fire then. One that never is at zero (prod's Ollama, llm-d's vLLM at minReplicas 1) has a
    total outage when none is available: its alerts fire well before a cold start, once it has run. A Deployment
    just created (a new stack or region, llm-d turned on) starts cold whatever its floor: no alert before its cold
    start (it paged 5 minutes into every prod bring-up). For each planned model server, from its floor in the plan
    and its alert rules (OllamaDown or VllmDown in the cluster, ModelServerDown paged)."""
    from tests.conftest import variant
    seen = set()
    for plan in (dev, prod, variant("llmd"), variant("llmd-pd")):
        cold = int(next(r for r in plan.helm_releases() if r.inputs["chart"] == "keda-add-ons-http")
                   .inputs["values"]["interceptor"]["readinessTimeout"].removesuffix("s")) // 60
        paged = azure_rules_of(plan)["ModelServerDown"] if plan.of_type(
            "azure-native:alertsmanagement:PrometheusRuleGroup") else None
        for (namespace, deployment), floor in floors(plan).items():
            labels = {"namespace": namespace, "deployment": deployment}
            rule = rules_of(plan)["OllamaDown" if deployment == "ollama" else "VllmDown"]
            # desired from minute 0 (woken from zero, or just created), ready after a cold start
            waking = [1] * (cold + 30), [0] * cold + [1] * 30
            never = [1] * (cold + 30), [0] * (cold + 30)  # created, never available
            # served until minute 29, none available from minute 30 (the outage is counted from its last sample up)
            down = [1] * (cold + 60), [1] * 30 + [0] * (cold + 30)
            for rule_for, expr in [(rule["for"], rule["expr"])] + (
                    [(paged["for"], paged["expression"])] if paged else []):
                assert first_firing(rule_for, expr, labels, *waking) is None, (namespace, deployment, expr)
                assert first_firing(rule_for, expr, labels, *never) >= cold, (namespace, deployment, expr)
                fired = first_firing(rule_for, expr, labels, *down)
                assert fired is not None, (namespace, deployment)
                if floor == 0:
                    assert fired - 29 >= cold
                else:
                    assert fired - 29 < cold, (namespace, deployment, rule_for)
            seen.add(floor > 0)
    assert seen == {True, False}  # both kinds are planned: the test is not vacuous


def test_a_cluster_with_servers_of_both_kinds_gives_each_its_own_wait():
    """One team's Ollama at zero when idle, another's always on, vLLM always on: one ModelServerDown (one `for`)
    fires after the short wait for the always-on ones and still waits a cold start for the one waking from zero."""
    from llmplatform.monitoring import down_minutes
    cold = 20
    assert down_minutes(0, cold * 60) >= cold and down_minutes(1, cold * 60) < cold
    rules = {r["alert"]: r for r in azure_alert_rules(["llm", "team"], ["llm-d"], cold * 60,
                                                      {"llm": 0, "team": 2, "llm-d": 1})}
    paged = rules["ModelServerDown"]
    for (namespace, deployment), floor in {("llm", "ollama"): 0, ("team", "ollama"): 2, ("llm-d", "vllm"): 1}.items():
        labels = {"namespace": namespace, "deployment": deployment}
        fired = first_firing(paged["for"], paged["expression"], labels, [1] * 90, [1] * 30 + [0] * 60) - 29
        woke = first_firing(paged["for"], paged["expression"], labels, [0] * 10 + [1] * 50,
                            [0] * (10 + cold - 1) + [1] * (51 - cold))  # at zero, then a cold start just short
        created = first_firing(paged["for"], paged["expression"], labels, [1] * 60,
                               [0] * (cold - 1) + [1] * (61 - cold))  # new, ready just short of a cold start
        assert (fired >= cold) if floor == 0 else (fired < cold), (namespace, fired)
        assert woke is None if floor == 0 else woke is not None, namespace
        assert created is None, namespace
    in_cluster = {r["alert"]: r for r in platform_alert_rules(["llm", "team"], 90, 0.05, 30, cold * 60, ["llm-d"],
                                                              min_replicas={"llm": 0, "team": 2, "llm-d": 1})}
    assert first_firing(in_cluster["OllamaDown"]["for"], in_cluster["OllamaDown"]["expr"],
                        {"namespace": "team", "deployment": "ollama"}, [1] * 90, [1] * 30 + [0] * 60) - 29 < cold
    assert first_firing(in_cluster["OllamaDown"]["for"], in_cluster["OllamaDown"]["expr"],
                        {"namespace": "llm", "deployment": "ollama"}, [1] * 90, [1] * 30 + [0] * 60) - 29 >= cold


def test_disk_pressure_reads_the_condition_the_kubelet_sets():
    """kube-state-metrics exports each node condition by its type (k8s.io/api core/v1 `NodeDiskPressure
    NodeConditionType = "DiskPressure"`, set by the kubelet's eviction manager) with its status lowercased, one
    series per status (node-metrics.md: `status`=<true|false|unknown>): the alert selects the true one only."""
    from tests.conftest import UPSTREAM
    (rule,) = [r for r in azure_alert_rules() if r["alert"] == "NodeDiskPressure"]
    row = next(line for line in (UPSTREAM / "metrics" / "kube-state-metrics" / "node-metrics.md").read_text()
               .splitlines() if "| kube_node_status_condition " in line)
    assert "`status`=&lt;true\\|false\\|unknown&gt;" in row
    assert selected(rule["expression"], "kube_node_status_condition",
                    {"node": "aks-gpu-1", "condition": "DiskPressure", "status": "true"})
    assert not selected(rule["expression"], "kube_node_status_condition",
                        {"node": "aks-gpu-1", "condition": "DiskPressure", "status": "false"})


def test_rejections_alert_counts_every_refusal_the_gate_answers(prod):
    """The gate's nginx refuses with `return 4xx` (no or a wrong key, a route not allowed) and `limit_req_status`
    (its rate limit); the Istio gateway in front counts each under response_code, and the alert counts them all."""
    import re

    import promql_parser
    rule = rules_of(prod)["GatewayRejectingMostRequests"]
    ratio = promql_parser.parse(rule["expr"]).lhs
    ratio = ratio.expr if isinstance(ratio, promql_parser.ParenExpr) else ratio
    rejected = str(ratio.lhs)  # the numerator: the answers counted as refusals
    codes: set[str] = set()
    for config in prod.of_type("kubernetes:core/v1:ConfigMap"):
        for text in (config.inputs.get("data") or {}).values():
            if "limit_req_status" in str(text):
                codes |= set(re.findall(r"(?:return|limit_req_status) (4\d\d);", text))
    assert {"401", "403", "429"} <= codes
    for code in codes:
        assert selected(rejected, "istio_requests_total", {"response_code": code}), code
    assert not selected(rejected, "istio_requests_total", {"response_code": "404"})


def test_keda_alert_only_where_keda_runs(dev):
    from tests.conftest import variant
    assert "KedaScalerErrors" in rules_of(dev)
    hpa = variant("dev-gpu-hpa")
    assert not hpa.of_type("kubernetes:keda.sh/v1alpha1:ScaledObject") and "KedaScalerErrors" not in rules_of(hpa)


def test_volume_alert_reads_series_the_kubelet_reports_and_managed_prometheus_keeps(prod):
    """The kubelet reports every PersistentVolumeClaim a pod mounts by namespace and claim; the minimal ingestion
    profile keeps its capacity and available bytes, not, e.g., its health-status series. Prometheus's own volume
    is such a claim (its StatefulSet's volumeClaimTemplate)."""
    import re

    from tests.components.test_metric_sources import azure_keep_regex
    (rule,) = [r for r in azure_alert_rules() if r["alert"] == "PersistentVolumeFillingUp"]
    labels = check_query(rule["expression"], azure_catalog(), rule["alert"], {"namespace", "persistentvolumeclaim"})
    assert {"namespace", "persistentvolumeclaim"} <= labels
    assert not re.fullmatch(azure_keep_regex("kubelet"), "kubelet_volume_stats_health_status_abnormal")
    kps = next(r for r in prod.helm_releases() if r.inputs["chart"] == "kube-prometheus-stack").inputs["values"]
    assert kps["prometheus"]["prometheusSpec"]["storageSpec"]["volumeClaimTemplate"]


def _csi_volume_stats() -> tuple[dict[str, bool], dict[str, str]]:
    """The vendored table: driver -> whether it gives the kubelet volume stats; AKS built-in class -> its driver."""
    from tests.conftest import UPSTREAM
    drivers: dict[str, bool] = {}
    classes: dict[str, str] = {}
    for line in (UPSTREAM / "metrics" / "csi-volume-stats.tsv").read_text().splitlines():
        if line and not line.startswith("#"):
            kind, name, value = line.split("\t")[:3]
            if kind == "driver":
                drivers[name] = value == "yes"
            else:
                classes[name] = value
    return drivers, classes


def mounted_claims(plan) -> dict[tuple[str, str], str]:
    """(namespace, claim) -> the CSI driver of its volume, for every claim of the plan's own objects a pod template
    mounts: a static claim's PersistentVolume names it, a dynamic one's StorageClass (the plan's, or AKS's own)."""
    from offline.pod_specs import pod_spec
    _, aks_classes = _csi_volume_stats()
    objects = plan.kubernetes_objects()
    volumes = {o.inputs["metadata"]["name"]: o.inputs["spec"] for o in objects
               if o.inputs.get("kind") == "PersistentVolume"}
    classes = {**aks_classes, **{o.inputs["metadata"]["name"]: o.inputs["provisioner"] for o in objects
                                 if o.inputs.get("kind") == "StorageClass"}}
    claims = {(o.inputs["metadata"]["namespace"], o.inputs["metadata"]["name"]): o.inputs["spec"] for o in objects
              if o.inputs.get("kind") == "PersistentVolumeClaim"}
    found: dict[tuple[str, str], str] = {}
    for obj in objects:
        spec = pod_spec(obj.inputs)
        for volume in (spec or {}).get("volumes") or []:
            if "persistentVolumeClaim" in volume:
                key = (obj.inputs["metadata"]["namespace"], volume["persistentVolumeClaim"]["claimName"])
                claim = claims[key]
                found[key] = (volumes[claim["volumeName"]]["csi"]["driver"] if claim.get("volumeName")
                              else classes.get(claim.get("storageClassName"), "unknown"))
    return found


def test_every_claim_a_pod_mounts_reports_the_stats_the_volume_alert_reads(dev, prod):
    """The kubelet has volume stats for a CSI volume only when its driver advertises GET_VOLUME_STATS (kubernetes
    pkg/volume/csi/csi_metrics.go `metricsCsi.GetMetrics`); the Azure Files driver does by default (tests/upstream/
    metrics/csi-volume-stats.tsv). So PersistentVolumeFillingUp watches the model share's static claim and
    Open-WebUI's uploads too, within the driver's 10-minute stats cache: each claim a pod of the plan mounts is on such
    a driver and selected by the rule's series."""
    drivers, _ = _csi_volume_stats()
    (rule,) = [r for r in azure_alert_rules() if r["alert"] == "PersistentVolumeFillingUp"]
    for plan in (dev, prod):
        claims = mounted_claims(plan)
        store = plan.one("kubernetes:core/v1:PersistentVolumeClaim", "models-pvc").inputs["metadata"]
        assert (store["namespace"], store["name"]) in claims  # the model store's claim, mounted by its Job at least
        for (namespace, claim), driver in claims.items():
            assert drivers.get(driver), f"{plan.stack} {namespace}/{claim}: {driver} gives the kubelet no volume stats"
            labels = {"namespace": namespace, "persistentvolumeclaim": claim}
            assert all(selected(rule["expression"], f"kubelet_volume_stats_{s}_bytes", labels)
                       for s in ("available", "capacity")), (namespace, claim)


def test_every_alert_has_its_runbook_row():
    """Each alert's `runbook` annotation points at docs/components/observability.md#alert-runbooks: a row there."""
    import re

    from tests.conftest import PROJECT_DIR
    text = (PROJECT_DIR / "docs" / "components" / "observability.md").read_text()
    rows = set(re.findall(r"^\| (\w+) \|", text.split("### Alert runbooks", 1)[1], re.M))
    alerts = {r["alert"] for r in platform_alert_rules("llm", 90, 0.05, 30, 1200, ["llm-d"], cert_manager=True,
                                                       fallback=FALLBACK, gpu_operator=True)}
    alerts |= {r["alert"] for r in azure_alert_rules(["llm"], ["llm-d"], fallback=FALLBACK, gpu_operator=True)}
    assert alerts - rows == set()


def test_the_kits_advice_names_a_vllm_server_its_alert_does_not_watch():
    """llmplatform.testing's advice (`routes.unwatched_model_servers`, in every plan's warnings) covers vLLM as it
    covers Ollama: an LlmdStack beside an Observability given no `vllm_namespaces` (no VllmDown at all) or another
    namespace is told, each of its Deployments, with the input to give; the planned stacks need none."""
    import copy
    import dataclasses

    from llmplatform.testing.routes import unwatched_model_servers
    from tests.conftest import variant
    plan = variant("llmd-pd")
    assert unwatched_model_servers(plan.resources) == []

    def planted(edit) -> list[str]:
        resources = []
        for reg in plan.resources:
            if reg.inputs.get("kind") == "PrometheusRule":
                inputs = copy.deepcopy(reg.inputs)
                for group in inputs["spec"]["groups"]:
                    group["rules"] = [edit(rule) for rule in group["rules"] if edit(rule) is not None]
                reg = dataclasses.replace(reg, inputs=inputs)
            resources.append(reg)
        return unwatched_model_servers(resources)
    vllm = {d["namespace"] for d in vllm_deployments(plan)}
    assert len(vllm) == 1
    namespace = vllm.pop()
    none = planted(lambda rule: None if rule.get("alert") == "VllmDown" else rule)
    assert len(none) == 2 and all(f"vLLM server in namespace {namespace} is not watched by the VllmDown alert of "
                                  "this cluster's Observability (it has none): give Observability vllm_namespaces "
                                  f"['{namespace}', ...]" in line for line in none), none
    other = planted(lambda rule: {**rule, "expr": rule["expr"].replace(f'namespace="{namespace}"', 'namespace="x"')}
                    if rule.get("alert") == "VllmDown" else rule)
    assert len(other) == 2 and all("(it watches x)" in line for line in other), other


# ---- the gateway's certificate (cert-manager, Let's Encrypt) -----------------------------------------------------

def test_certificate_alerts_and_scrape_only_where_cert_manager_runs(dev):
    """prod-tls installs cert-manager (gateway.tls.mode letsencrypt): its controller is scraped where the release
    runs (the chart's pods are labelled app.kubernetes.io/name: <chart name>, component controller, with no
    nameOverride) and both alerts are registered; dev, without TLS, has neither."""
    from llmplatform.observability import CERT_MANAGER_CONTROLLER_LABELS
    from tests.conftest import variant
    from llmplatform.testing.network_policy import selects
    plan = variant("prod-tls")
    release = next(r for r in plan.helm_releases() if r.inputs["chart"] == "cert-manager")
    assert "nameOverride" not in release.inputs["values"] and release.inputs["name"] == "cert-manager"
    (monitor,) = [m.inputs["spec"] for m in plan.of_type("kubernetes:monitoring.coreos.com/v1:PodMonitor")
                  if m.inputs["metadata"]["name"] == "cert-manager"]
    assert monitor["namespaceSelector"]["matchNames"] == [release.inputs["namespace"]]
    controller = {"app.kubernetes.io/name": "cert-manager", "app.kubernetes.io/instance": release.inputs["name"],
                  "app.kubernetes.io/component": "controller"}
    assert selects(monitor["selector"], controller) and CERT_MANAGER_CONTROLLER_LABELS.items() <= controller.items()
    assert not selects(monitor["selector"], {**controller, "app.kubernetes.io/component": "webhook"})
    assert {"CertificateNotReady", "CertificateExpiringWithoutRenewal"} <= set(rules_of(plan))
    assert not any(r.inputs["chart"] == "cert-manager" for r in dev.helm_releases())
    assert not {"CertificateNotReady", "CertificateExpiringWithoutRenewal"} & set(rules_of(dev))
    assert "cert-manager" not in {m.inputs["metadata"]["name"]
                                  for m in dev.of_type("kubernetes:monitoring.coreos.com/v1:PodMonitor")}


def _number(node) -> float:
    import promql_parser
    if isinstance(node, promql_parser.NumberLiteral):
        return node.val
    if isinstance(node, promql_parser.ParenExpr):
        return _number(node.expr)
    assert str(node.op) == "*", node
    return _number(node.lhs) * _number(node.rhs)


def test_expiry_alert_fires_only_once_renewal_has_failed():
    """cert-manager renews a Certificate without renewBefore/renewBeforePercentage lifetime/3 before it expires
    (v1.21.1 pkg/util/pki/renewaltime.go `desiredRenewalTime`; ARI, an alpha gate, is off): for Let's Encrypt's
    90-day certificates 30 days before. The alert's window is shorter, so a renewing certificate never enters it;
    a never-issued one (expiration 0, certificate_collector.go) is left to CertificateNotReady."""
    import promql_parser
    from tests.conftest import variant
    (cert,) = variant("prod-tls").of_type("kubernetes:cert-manager.io/v1:Certificate")
    assert not {"renewBefore", "renewBeforePercentage", "duration"} & set(cert.inputs["spec"])
    rule = rules_of(variant("prod-tls"))["CertificateExpiringWithoutRenewal"]
    comparison = promql_parser.parse(rule["expr"])
    assert str(comparison.op) == "<"
    window = _number(comparison.rhs)
    assert 7 * 86400 <= window < 90 * 86400 / 3
    issued = comparison.lhs.lhs  # (expiration > 0) - time()
    issued = issued.expr if isinstance(issued, promql_parser.ParenExpr) else issued
    assert str(issued.op) == ">" and _number(issued.rhs) == 0 and str(comparison.lhs.rhs) == "time()"
    ready = rules_of(variant("prod-tls"))["CertificateNotReady"]["expr"]
    for condition, fires in (("True", False), ("False", True), ("Unknown", True)):
        assert selected(ready, "certmanager_certificate_ready_status", {"condition": condition}) == fires, condition


def test_a_deployments_pods_are_matched_by_their_generated_names_alone():
    """`<deployment>-<pod-template-hash>-<5 random>` (apimachinery's safe alphabet): a sibling Deployment whose name
    starts alike, or a dot read as any character, is no replica; past 46 characters the apiserver may cut the name,
    so only the prefix is matched. The PromQL string's `\\\\` is one backslash to the regex engine."""
    import re
    from llmplatform.monitoring import deployment_pods
    regex = lambda deployment: deployment_pods(deployment).replace("\\\\", "\\")
    assert re.fullmatch(regex("ollama"), "ollama-7d9f8c6b5d-x2b4k")
    assert not re.fullmatch(regex("ollama"), "ollama-batch-6c8d9f7b44-z5wqk")
    assert re.fullmatch(regex("model.v2"), "model.v2-5c9d8f7b6-t2vxn")
    assert not re.fullmatch(regex("model.v2"), "modelxv2-5c9d8f7b6-t2vxn")
    long = "m" * 47
    assert re.fullmatch(regex(long), f"{long}-7d9f8c6b5-x2b4k"[:58] + "q7wzk")


# ---- GpuFallbackNodesRunning ------------------------------------------------------------------------------------

def ksm_node(name: str, pool: str, spot: bool) -> tuple[dict[str, str], float]:
    """kube_node_labels of an AKS node under the platform's allowlist: its pool under both AKS keys, a spot node's
    priority under both (use-labels.md), kube-state-metrics' label_ spelling."""
    labels = {"__name__": "kube_node_labels", "node": name, "label_agentpool": pool,
              "label_kubernetes_azure_com_agentpool": pool}
    if spot:
        labels |= {"label_kubernetes_azure_com_priority": "spot", "label_kubernetes_azure_com_scalesetpriority": "spot"}
    return labels, 1.0


def fallback_expr(min_count: int = 0) -> str:
    (rule,) = [r for r in platform_alert_rules("llm", 90, 0.05, 30, 1200, fallback=FallbackPool("gpuod", min_count, 3))
               if r["alert"] == "GpuFallbackNodesRunning"]
    return rule["expr"]


def test_the_fallback_alert_counts_the_fallback_pools_nodes_and_no_other():
    """Its condition at one instant (tests/promql_eval.py): the fallback's nodes, each once though it carries both pool
    labels; the spot GPU pool `gpu` (whose name `gpuod` starts with), the system and CPU pools count for nothing;
    a minimum of 1 leaves one node out."""
    from tests.promql_eval import evaluate
    others = [ksm_node("aks-sys-1-vmss000000", "sys", False), ksm_node("aks-cpu-1-vmss000000", "cpu", True),
              ksm_node("aks-gpu-1-vmss000000", "gpu", True), ksm_node("aks-gpu-1-vmss000001", "gpu", True)]
    fallback = [ksm_node("aks-gpuod-2-vmss000000", "gpuod", False), ksm_node("aks-gpuod-2-vmss000001", "gpuod", False)]
    assert evaluate(fallback_expr(), others + fallback) == [({}, 2.0)]
    assert evaluate(fallback_expr(), others) == []
    assert evaluate(fallback_expr(1), others + fallback[:1]) == []
    assert evaluate(fallback_expr(1), others + fallback) == [({}, 2.0)]
    only_old_key = [({k: v for k, v in labels.items() if k != "label_kubernetes_azure_com_agentpool"}, value)
                    for labels, value in fallback]  # either AKS key alone still counts
    assert evaluate(fallback_expr(), others + only_old_key) == [({}, 2.0)]


def fallback_pools(plan) -> set[str]:
    """The plan's on-demand fallback pools, read from the AgentPools themselves: a fallback carries its spot pool's
    platform label (gpu_labels), so its AKS name differs from that label."""
    return {p.inputs["agentPoolName"] for p in plan.of_type("azure-native:containerservice:AgentPool")
            if (p.inputs.get("nodeLabels") or {}).get("llm-platform/pool") not in (None, p.inputs["agentPoolName"])}


def test_every_planned_stack_with_a_fallback_pool_and_no_other_gets_the_alert_on_both_paths():
    from tests.conftest import PLANNED, planned
    seen = {}
    for name in PLANNED:
        plan = planned(name)
        rules = [(r.name, rule) for r in plan.of_type("kubernetes:monitoring.coreos.com/v1:PrometheusRule")
                 for rule in r.inputs["spec"]["groups"][0]["rules"]]
        rules += [(r.name, rule) for r in plan.of_type("azure-native:alertsmanagement:PrometheusRuleGroup")
                  for rule in r.inputs["rules"]]
        watched = [(group, rule.get("expr") or rule["expression"]) for group, rule in rules
                   if rule.get("alert") == "GpuFallbackNodesRunning"]
        pools = fallback_pools(plan)
        seen[name] = pools
        if not pools or not plan.of_type("kubernetes:monitoring.coreos.com/v1:PrometheusRule"):
            assert watched == [], name
            continue
        (pool,) = pools
        assert {group for group, _ in watched} == {"observability-platform-rules", "observability-azure-alerts"}, name
        for _, expr in watched:
            assert f'"{pool}"' in expr and all(other not in expr for other in ('"gpu"', '"cpu"')), (name, expr)
    assert seen["dev"] == set() and seen["llmd"] == set() and seen["prod"] == {"gpuod"}


def observed(pool: dict, obs: dict, whole: bool = False):
    """Observability given a GpuNodePool's scheduling handle (as the program hands it; `whole`: as one output, the
    way a handle arrives through the component provider), through the testing kit."""
    import llmplatform
    import pulumi
    import pulumi_kubernetes as k8s
    from offline import runner as offline

    from tests.components.test_components_alone import REQUIRED, cluster_handle

    def program():
        opts = pulumi.ResourceOptions(providers=[k8s.Provider("k8s", kubeconfig="apiVersion: v1")])
        handle = cluster_handle(expander="priority")
        gpu = llmplatform.GpuNodePool("a100", {"cluster": handle, "vm_size": "Standard_NC24ads_A100_v4", **pool}, opts)
        llmplatform.Observability("obs", {
            **REQUIRED["Observability"](), "cluster": handle,
            "gpu": pulumi.Output.from_input(gpu.scheduling) if whole else gpu.scheduling,
            "monitoring": {"log_analytics_workspace_id": "/la", "monitor_workspace_id": "/amw", "action_group_id": ""},
            **obs}, opts)
    return offline.run_function(program)


@pytest.mark.parametrize("whole", [False, True])
def test_the_alert_takes_its_pool_from_the_gpu_pools_handle(whole):
    plan = observed({"pool_name": "a100", "fallback": {"enabled": True, "min_count": 1, "max_count": 3}},
                    {"gpu_fallback_alert_hours": 6}, whole)
    in_cluster = [r for r in plan.one("kubernetes:monitoring.coreos.com/v1:PrometheusRule").inputs["spec"]["groups"][0][
        "rules"] if r["alert"] == "GpuFallbackNodesRunning"]
    azure = [r for r in plan.one("azure-native:alertsmanagement:PrometheusRuleGroup", "obs-azure-alerts").inputs[
        "rules"] if r["alert"] == "GpuFallbackNodesRunning"]
    assert [(r["for"], r["expr"].endswith("> 1")) for r in in_cluster] == [("6h", True)]
    assert [(r["for"], r["expression"].endswith("> 1")) for r in azure] == [("PT360M", True)]
    for rule in in_cluster + azure:
        assert rule["expr" if "expr" in rule else "expression"].count('="a100od"') == 2
        assert "a100od" in rule["annotations"]["summary"] and "minimum of 1" in rule["annotations"]["summary"]
    for pool in ({"pool_name": "a100"}, {"pool_name": "a100", "priority": "regular"}):  # no fallback: no alert
        plan = observed(pool, {})
        rules = plan.one("kubernetes:monitoring.coreos.com/v1:PrometheusRule").inputs["spec"]["groups"][0]["rules"]
        assert "GpuFallbackNodesRunning" not in {r["alert"] for r in rules}


@pytest.mark.parametrize("hours", [0, 25, 2.5])
def test_a_fallback_wait_outside_an_hour_to_a_day_is_refused_by_name(hours):
    from llmplatform.checks import ComponentInputError
    with pytest.raises(ComponentInputError) as error:
        observed({"pool_name": "a100", "fallback": {"enabled": True, "min_count": 0, "max_count": 1}},
                 {"gpu_fallback_alert_hours": hours})
    assert str(error.value).startswith(f"Observability obs: input gpu_fallback_alert_hours={hours!r} is invalid")
    assert "a whole number from 1 to 24" in str(error.value)


def test_the_stack_config_refuses_a_fallback_wait_of_two_days():
    from config.loader import parse_config
    from config.reader import ConfigError
    from offline import runner as offline
    raw = {k.split(":", 1)[1]: v for k, v in offline.stack_config(
        "prod", {"observability": {"gpuFallbackAlertHours": 48}}).items()}
    with pytest.raises(ConfigError) as error:
        parse_config(raw, "p", "prod")
    assert "observability.gpuFallbackAlertHours" in str(error.value) and "48" in str(error.value)
    assert "1 to 24" in str(error.value)


# ---- the GPU Operator's validation (GpuNodePool driver `operator`) -------------------------------------------------

def planned_rules(plan, alert: str) -> list[tuple[str, dict]]:
    """(rule group, rule) of `alert` in the plan, in the cluster and on Azure."""
    rules = [(r.name, rule) for r in plan.of_type("kubernetes:monitoring.coreos.com/v1:PrometheusRule")
             for rule in r.inputs["spec"]["groups"][0]["rules"]]
    rules += [(r.name, rule) for r in plan.of_type("azure-native:alertsmanagement:PrometheusRuleGroup")
              for rule in r.inputs["rules"]]
    return [(group, rule) for group, rule in rules if rule.get("alert") == alert]


def validation_rules(plan) -> list[tuple[str, dict]]:
    return planned_rules(plan, "GpuOperatorValidationFailing")


def test_the_validation_alert_is_planned_on_both_paths_only_where_the_gpu_operator_runs():
    """llmd's GPU pool takes the GPU Operator's driver: the alert is in its PrometheusRule and its Azure rule group,
    one rule from one source, and watches the namespace the operator's release (and so its validator) is installed
    in; a stack whose pools take the AKS driver (the device plugin, no validator) has neither."""
    from tests.conftest import PLANNED, planned
    for name in PLANNED:
        plan = planned(name)
        operator = [r for r in plan.helm_releases() if r.inputs["chart"] == "gpu-operator"]
        watched = validation_rules(plan)
        if not operator or not plan.of_type("kubernetes:monitoring.coreos.com/v1:PrometheusRule"):
            assert watched == [], name
            continue
        (release,) = operator
        azure_side = bool(plan.of_type("azure-native:alertsmanagement:PrometheusRuleGroup"))  # not dev-operator
        assert {group for group, _ in watched} == {"observability-platform-rules",
                                                   *["observability-azure-alerts"] * azure_side}, name
        in_cluster, *azure = sorted((rule for _, rule in watched), key=lambda r: "expression" in r)
        assert f'namespace="{release.inputs["namespace"]}"' in in_cluster["expr"] and in_cluster["for"] == "30m"
        for rule in azure:
            assert (rule["expression"], rule["annotations"]) == (in_cluster["expr"], in_cluster["annotations"])
            assert rule["for"] == "PT30M"
    assert {name for name in PLANNED if validation_rules(planned(name))} >= {"llmd", "dev-operator"}
    assert not validation_rules(planned("prod")) and not validation_rules(planned("dev"))


def test_the_validation_wait_outlasts_the_slowest_driver_start_the_deploy_model_knows():
    """A new node's driver build, toolkit and device plugin take up to config/data/deploy_durations.json's
    pessimistic figure for the operator; the alert waits longer, so a start still under way does not fire it."""
    import json

    from llmplatform.monitoring import GPU_VALIDATION_MINUTES
    from tests.conftest import PROJECT_DIR
    durations = json.loads((PROJECT_DIR / "config" / "data" / "deploy_durations.json").read_text())
    assert GPU_VALIDATION_MINUTES * 60 > durations["gpu_driver"]["operator"]["pessimistic"]


def test_the_validation_alert_reads_the_validator_container_and_its_node():
    """Its condition at one instant (tests/promql_eval.py): the validator's container not ready, one series per pod
    with no node yet in it; another container of the operator's namespace not ready counts for nothing."""
    from llmplatform.monitoring import gpu_validation_failing
    from tests.promql_eval import evaluate
    expr, _ = gpu_validation_failing()
    condition = expr.split(" * on ", 1)[0]  # the join's left side; promtool evaluates the join itself
    def ready(pod: str, container: str, value: float):
        return ({"__name__": "kube_pod_container_status_ready", "namespace": "gpu-operator", "pod": pod,
                 "container": container, "uid": f"{pod}-uid"}, value)
    series = [ready("nvidia-operator-validator-x7k2p", "nvidia-operator-validator", 0),
              ready("nvidia-operator-validator-q9wzb", "nvidia-operator-validator", 1),
              ready("nvidia-dcgm-exporter-b5r2n", "nvidia-dcgm-exporter", 0)]
    assert evaluate(condition, series) == [({"namespace": "gpu-operator", "pod": "nvidia-operator-validator-x7k2p"},
                                            0.0)]


# ---- a GPU pool's node that offers no nvidia.com/gpu (GpuNodeOffersNoGpus), in both driver modes ----------------

def no_gpu_rules(plan) -> list[tuple[str, dict]]:
    return planned_rules(plan, "GpuNodeOffersNoGpus")


def test_every_planned_gpu_pool_is_watched_for_nodes_without_gpus_by_its_taint():
    """Every GPU pool of every plan (spot, regular, fallback: an AgentPool with a gpuProfile) carries the taint the
    alert reads and no other pool does, so the alert's nodes are the GPU pools' and only theirs; where a plan has
    one, the alert is on both paths, one rule from one source, its wait the driver's (the GPU Operator's release
    planned: 30 minutes; AKS's driver: 8); a plan without a GPU pool has none."""
    from llmplatform.gpu_node_pool import GPU_TAINT
    from llmplatform.monitoring import GPU_TAINT_KEY

    from tests.conftest import PLANNED, planned
    assert GPU_TAINT.split("=", 1)[0] == GPU_TAINT_KEY
    seen = set()
    for name in PLANNED:
        plan = planned(name)
        pools = plan.of_type("azure-native:containerservice:AgentPool")
        gpu_pools = [p for p in pools if p.inputs.get("gpuProfile")]
        for pool in pools:
            keys = {taint.split("=", 1)[0].split(":", 1)[0] for taint in pool.inputs.get("nodeTaints") or []}
            assert (GPU_TAINT_KEY in keys) == (pool in gpu_pools), (name, pool.name, keys)
        watched = no_gpu_rules(plan)
        if not gpu_pools or not plan.of_type("kubernetes:monitoring.coreos.com/v1:PrometheusRule"):
            assert watched == [], name
            continue
        operator = any(r.inputs["chart"] == "gpu-operator" for r in plan.helm_releases())
        azure_side = bool(plan.of_type("azure-native:alertsmanagement:PrometheusRuleGroup"))
        assert sorted(group for group, _ in watched) == ["observability-azure-alerts"] * azure_side + [
            "observability-platform-rules"], name
        in_cluster, *azure = sorted((rule for _, rule in watched), key=lambda r: "expression" in r)
        assert in_cluster["for"] == ("30m" if operator else "8m"), name
        assert ("kube_pod_container_status_ready" in in_cluster["expr"]) == operator, name
        for rule in azure:
            assert (rule["expression"], rule["annotations"], rule["for"]) == (
                in_cluster["expr"], in_cluster["annotations"], "PT30M" if operator else "PT8M"), name
        seen.add((operator, bool(azure)))
    assert seen >= {(False, True), (True, True), (True, False)}  # e.g. prod, llmd, dev-operator (no Azure side)
    assert not no_gpu_rules(planned("dev-smb-nogpu"))


def test_the_gpu_node_wait_outlasts_each_drivers_slowest_start_the_deploy_model_knows():
    """A fresh node's driver and device plugin take up to config/data/deploy_durations.json's pessimistic figure for
    its driver; the alert waits longer (twice as long, rounded up to minutes), so a scale-up still under way does not
    fire it."""
    import json

    from llmplatform.monitoring import GPU_NODE_WAIT_MINUTES, alert_for_minutes
    from tests.conftest import PROJECT_DIR
    durations = json.loads((PROJECT_DIR / "config" / "data" / "deploy_durations.json").read_text())["gpu_driver"]
    assert set(GPU_NODE_WAIT_MINUTES) == set(durations)
    for driver, minutes in GPU_NODE_WAIT_MINUTES.items():
        assert f"{minutes}m" == alert_for_minutes(2 * durations[driver]["pessimistic"]), driver


def test_the_gpu_node_alert_reads_the_gpu_taint_and_the_allocatable_gpus():
    """Its condition at one instant (tests/promql_eval.py, each series its window's one sample): a tainted node
    with no nvidia_com_gpu series, and one at 0, are found; one with GPUs, and an untainted node with none, are
    not."""
    from llmplatform.monitoring import gpu_node_without_gpus
    from tests.promql_eval import evaluate
    _, expr, _ = gpu_node_without_gpus(False)
    def taint(node: str, key: str):
        return ({"__name__": "kube_node_spec_taint", "node": node, "key": key, "value": "present",
                 "effect": "NoSchedule"}, 1.0)
    def gpus(node: str, value: float):
        return ({"__name__": "kube_node_status_allocatable", "node": node, "resource": "nvidia_com_gpu",
                 "unit": "integer"}, value)
    series = [taint("never", "nvidia.com/gpu"), taint("crashed", "nvidia.com/gpu"), gpus("crashed", 0),
              taint("healthy", "nvidia.com/gpu"), gpus("healthy", 1),
              taint("cpu", "kubernetes.azure.com/scalesetpriority")]
    assert sorted(evaluate(expr, series), key=str) == [({"node": "crashed"}, 1.0), ({"node": "never"}, 1.0)]


@pytest.mark.parametrize("whole", [False, True])
@pytest.mark.parametrize("driver, wait", [("operator", "30m"), ("aks", "8m")])
def test_observability_watches_the_gpu_pools_nodes_with_its_drivers_wait(whole, driver, wait):
    """Given a GpuNodePool's handle (as outputs, or one output as the component provider hands it), Observability
    registers GpuNodeOffersNoGpus in the cluster and on Azure with the wait of the pool's driver."""
    plan = observed({"pool_name": "a100", "driver": driver}, {}, whole)
    in_cluster = plan.one("kubernetes:monitoring.coreos.com/v1:PrometheusRule").inputs["spec"]["groups"][0]["rules"]
    azure = plan.one("azure-native:alertsmanagement:PrometheusRuleGroup", "obs-azure-alerts").inputs["rules"]
    assert [r["for"] for r in in_cluster if r["alert"] == "GpuNodeOffersNoGpus"] == [wait]
    assert [r["for"] for r in azure if r["alert"] == "GpuNodeOffersNoGpus"] == [f"PT{wait[:-1]}M"]


@pytest.mark.parametrize("whole", [False, True])
def test_observability_takes_the_gpu_operator_from_the_gpu_pools_handle(whole):
    """Given a GpuNodePool whose driver is the GPU Operator's (as a handle of outputs, or one output as the component
    provider hands it), Observability registers the alert in the cluster and on Azure; with the AKS driver, not."""
    def watched(plan) -> list[str]:
        in_cluster = plan.one("kubernetes:monitoring.coreos.com/v1:PrometheusRule").inputs["spec"]["groups"][0]["rules"]
        azure = plan.one("azure-native:alertsmanagement:PrometheusRuleGroup", "obs-azure-alerts").inputs["rules"]
        return [r.get("expr") or r["expression"] for r in in_cluster + azure
                if r["alert"] == "GpuOperatorValidationFailing"]
    exprs = watched(observed({"pool_name": "a100", "driver": "operator"}, {}, whole))
    assert len(exprs) == 2 and all('namespace="gpu-operator"' in e for e in exprs)
    assert watched(observed({"pool_name": "a100", "driver": "aks"}, {}, whole)) == []


@pytest.mark.parametrize("whole", [False, True])
@pytest.mark.parametrize("driver", ["operator", "aks"])
def test_one_dcgm_exporter_is_scraped_whether_the_driver_is_known_when_built_or_at_deploy_time(driver, whole):
    """With the GPU Operator's driver its own DCGM exporter is scraped and the chart's runs on no node; with AKS's,
    the chart's on every GPU node. A handle that is one output (another stack's, a preview's through the component
    provider) read as AKS's: a second exporter on operator nodes, and the operator's never scraped."""
    plan = observed({"pool_name": "a100", "driver": driver}, {}, whole)
    (monitor,) = [r for r in plan.of_type("kubernetes:monitoring.coreos.com/v1:ServiceMonitor") if "dcgm" in r.name]
    spec = monitor.inputs["spec"]
    charts = [r.inputs["values"]["nodeSelector"] for r in plan.of_type("kubernetes:helm.sh/v3:Release")
              if r.name.endswith("dcgm-exporter")]
    if driver == "operator":
        assert (spec["namespaceSelector"]["matchNames"], spec["selector"]["matchLabels"]) == (
            ["gpu-operator"], {"app": "nvidia-dcgm-exporter"})
        assert spec["endpoints"][0]["port"] == "gpu-metrics"
        pools = {k: v for r in plan.of_type("azure-native:containerservice:AgentPool")
                 for k, v in (r.inputs.get("nodeLabels") or {}).items()}
        assert len(charts) == (1 if whole else 0)  # known at deploy time only, the chart is there, on no node
        assert all(any(pools.get(k) != v for k, v in selector.items()) for selector in charts)
    else:
        assert spec["namespaceSelector"]["matchNames"] == ["monitoring"] and spec["endpoints"][0]["port"] == "metrics"
        assert charts == [{"llm-platform/accelerator": "nvidia"}]

