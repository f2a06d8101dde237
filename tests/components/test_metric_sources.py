"""Every metric and label the platform queries is one the real exporter emits at its pinned version, on the series
as our monitors scrape it: Grafana dashboards (panels, legends, variables), the in-cluster PrometheusRule and Azure
Monitor alert rules (annotations too), Prometheus Adapter's rule and every KEDA Prometheus trigger of every planned
variant. The facts are vendored under tests/upstream/metrics/ (tests/metric_catalog.py reads them; sources in
tests/upstream/SOURCES.md and docs/decisions.md); nothing here is a hand-written list of names."""
from __future__ import annotations

import functools
import json
import re

import promql_parser
import pytest
from llmplatform.monitoring import (ADAPTER_GPU_RULE, KSM_NODE_LABELS, FallbackPool, azure_alert_rules,
                                   platform_alert_rules)
from llmplatform.observability import DASHBOARDS as DASHBOARDS_DIR

from tests.conftest import PLANNED, planned, upstream_dir, variant
from tests.metric_catalog import (Catalog, Exporter, Scrape, annotation_labels, check_query, dcgm_series,
                                  extract_list, ksm_allowlist_keys, ksm_series, legend_labels, metrics_of, values_of)

# exporter -> the monitor (kind, name) the platform scrapes it with, and the variant that plans that monitor
MONITORS = {
    "dcgm-exporter": ("ServiceMonitor", "dcgm-exporter", ("dev", "dev-operator")),
    "istio-proxy": ("PodMonitor", "istio-gateways", ("dev",)),
    "keda-operator": ("PodMonitor", "keda-operator", ("dev",)),
    "vllm": ("PodMonitor", "vllm", ("llmd",)),
    "llm-d-epp": ("ServiceMonitor", "llmd-epp", ("llmd",)),
    "cert-manager": ("PodMonitor", "cert-manager", ("prod-tls",)),
}
KPS = "kube-prometheus-stack/values.yaml"


def monitor_endpoint(plan, kind: str, name: str) -> dict:
    monitor = next(r for r in plan.of_type(f"kubernetes:monitoring.coreos.com/v1:{kind}")
                   if r.inputs["metadata"]["name"] == name)
    spec = monitor.inputs["spec"]
    (endpoint,) = spec["endpoints" if kind == "ServiceMonitor" else "podMetricsEndpoints"]
    return endpoint


def scrape_of(exporter: str) -> Scrape:
    """The scrape of an exporter, the same on every variant that plans its monitor (else the check is ambiguous)."""
    kind, name, variants = MONITORS[exporter]
    scrapes = {Scrape.of(kind, monitor_endpoint(variant(v), kind, name)) for v in variants}
    assert len(scrapes) == 1, f"{exporter}: {name} scrapes differently across {variants}: {scrapes}"
    return scrapes.pop()


def dcgm_both_paths() -> dict[str, frozenset[str]]:
    """A DCGM metric counts only if on by default on both driver paths: the chart's exporter reads the image's
    default-counters.csv (chart values `arguments`), the GPU Operator's dcp-metrics-included.csv
    (DCGM_EXPORTER_COLLECTORS in its DaemonSet asset)."""
    chart, operator = (dcgm_series(f"dcgm-exporter-{n}.csv") for n in ("default-counters", "dcp-metrics-included"))
    return {m: chart[m] & operator[m] for m in chart.keys() & operator.keys()}


def kps_values(dev_plan) -> dict:
    return next(r for r in dev_plan.helm_releases() if r.inputs["chart"] == "kube-prometheus-stack").inputs["values"]


@functools.lru_cache(maxsize=None)
def in_cluster_catalog() -> Catalog:
    """What the in-cluster Prometheus (kube-prometheus-stack) holds from each exporter the platform queries."""
    kps_upstream = values_of(KPS)
    kubelet = kps_upstream["kubelet"]["serviceMonitor"]
    allowlist = kps_values(variant("dev"))["kube-state-metrics"]["metricLabelsAllowlist"]
    exporters = [
        Exporter("dcgm-exporter", dcgm_both_paths(), scrape_of("dcgm-exporter"), "dcgm-exporter-*.csv"),
        Exporter("kube-state-metrics", ksm_series(ksm_allowlist_keys(allowlist, "nodes")),
                 Scrape("ServiceMonitor", kps_upstream["kube-state-metrics"]["prometheus"]["monitor"]["http"][
                     "honorLabels"]), "kube-state-metrics/*.md"),
        Exporter("kubelet-cadvisor", extract_list("cadvisor-kubelet").series,
                 Scrape.of("ServiceMonitor", {"honorLabels": kubelet["honorLabels"],
                                              "metricRelabelings": kubelet["cAdvisorMetricRelabelings"]}),
                 "cadvisor-kubelet.tsv"),
    ]
    for name in ("istio-proxy", "keda-operator", "vllm", "llm-d-epp", "cert-manager"):
        exporters.append(Exporter(name, extract_list(name).series, scrape_of(name), f"{name}.tsv"))
    return Catalog(exporters)


# the add-on's default scrape target (a row of azure-managed-prometheus-keep-list.tsv) each Azure exporter is
AZURE_TARGETS = {"ama-metrics-ksm": "kubestate", "ama-metrics-kubelet": "kubelet"}


@functools.lru_cache(maxsize=None)
def azure_catalog() -> Catalog:
    """What Azure Monitor managed Prometheus holds: the add-on's own kube-state-metrics (its allowlist is the
    cluster's azureMonitorProfile, KSM_NODE_LABELS) and the kubelets' volume stats, each scraped by a plain job (job,
    instance)."""
    series = ksm_series(ksm_allowlist_keys([KSM_NODE_LABELS], "nodes"))
    return Catalog([Exporter("ama-metrics-ksm", series, Scrape("Plain"), "kube-state-metrics/*.md"),
                    Exporter("ama-metrics-kubelet", extract_list("kubelet-volume-stats").series, Scrape("Plain"),
                             "kubelet-volume-stats.tsv")])


def azure_keep_regex(target: str) -> str:
    rows = [line.split("\t") for line in (upstream_dir() / "metrics" / "azure-managed-prometheus-keep-list.tsv")
            .read_text().splitlines() if line and not line.startswith("#")]
    return next(r[1] for r in rows if r[0] == target)


# ---- the platform's queries -------------------------------------------------------------------------------------

def dashboard_targets():
    for path in sorted(p for p in DASHBOARDS_DIR.iterdir() if p.name.endswith(".json")):
        doc = json.loads(path.read_text())
        for panel in doc["panels"]:
            for target in panel.get("targets", []):
                yield path.name, panel["title"], target["expr"], legend_labels(target.get("legendFormat", ""))
        for var in doc.get("templating", {}).get("list", []):
            if var.get("type") == "query":
                match = re.fullmatch(r"label_values\((.+),\s*([A-Za-z_][A-Za-z0-9_]*)\)", var["query"]["query"])
                assert match, f"{path.name}: variable {var['name']}: only label_values(query, label) is checked"
                yield path.name, f"variable {var['name']}", match.group(1), {match.group(2)}


def planned_prometheus_triggers():
    for name in PLANNED:
        for scaled in planned(name).of_type("kubernetes:keda.sh/v1alpha1:ScaledObject"):
            for trigger in scaled.inputs["spec"]["triggers"]:
                if trigger["type"] == "prometheus":
                    yield f"{name}: ScaledObject {scaled.inputs['metadata']['name']}", trigger["metadata"]["query"]


def test_every_dashboard_query_legend_and_variable_is_emitted_and_labelled():
    targets = list(dashboard_targets())
    assert {t[0] for t in targets} == {"gpu.json", "llm-platform.json", "vllm.json"}
    for file_name, title, query, legend in targets:
        check_query(query.replace("$namespace", "llm"), in_cluster_catalog(), f"{file_name} {title}: {query}", legend)


@pytest.mark.parametrize("gpu_operator", [False, True], ids=["aks-driver", "gpu-operator"])
def test_every_in_cluster_alert_is_emitted_labelled_and_actionable(gpu_operator):
    for rule in platform_alert_rules("llm", 90, 0.05, 30, 1200, ["llm-d"], cert_manager=True,
                                     fallback=FallbackPool("gpuod", 1, 3), gpu_operator=gpu_operator, gpu_nodes=True):
        text = " ".join(rule["annotations"].values())
        check_query(rule["expr"], in_cluster_catalog(), rule["alert"], annotation_labels(text))
        assert {"summary", "description", "runbook"} <= set(rule["annotations"]), rule["alert"]


@pytest.mark.parametrize("gpu_operator", [False, True], ids=["aks-driver", "gpu-operator"])
def test_every_azure_alert_reads_series_managed_prometheus_keeps(gpu_operator):
    for rule in azure_alert_rules(["llm", "team"], ["llm-d"], fallback=FallbackPool("gpuod", 0, 3),
                                  gpu_operator=gpu_operator, gpu_nodes=True):
        check_query(rule["expression"], azure_catalog(), rule["alert"],
                    annotation_labels(" ".join(rule["annotations"].values())))
        for metric in metrics_of(rule["expression"]):
            (exporter,) = azure_catalog().find(metric)
            assert re.fullmatch(azure_keep_regex(AZURE_TARGETS[exporter.name]), metric), \
                f"{rule['alert']}: {metric} is dropped by the minimal ingestion profile"
        assert {"summary", "description", "runbook"} <= set(rule["annotations"]), rule["alert"]


def test_adapter_rule_and_every_planned_keda_query_are_emitted_and_labelled():
    catalog = in_cluster_catalog()
    series = check_query(ADAPTER_GPU_RULE["seriesQuery"], catalog, "adapter seriesQuery")
    assert set(ADAPTER_GPU_RULE["resources"]["overrides"]) <= series
    check_query(ADAPTER_GPU_RULE["metricsQuery"].replace("<<.GroupBy>>", "namespace, pod").replace(
        "<<.LabelMatchers>>", 'namespace="llm",pod="ollama-0"'), catalog, "adapter metricsQuery", {"namespace", "pod"})
    triggers = list(planned_prometheus_triggers())
    assert {w.split(":")[0] for w, _ in triggers} >= {"llmd"}  # the EPP's signals (GPU memory is the adapter's)
    for where, query in triggers:
        check_query(query, catalog, where)


@pytest.mark.parametrize("query, why", [
    ("max(vllm:gpu_cache_usage_perc)", "vLLM V0's name, renamed kv_cache_usage_perc"),
    ("sum(inference_pool_per_pod_queue_size)", "not a series of the EPP's metrics files"),
    ('sum(rate(istio_requests_total{envoy_response_code="500"}[5m]))', "no such Istio label"),
    ("sum by (pod) (DCGM_FI_PROF_SM_ACTIVE)", "a DCGM counter commented out in both CSVs"),
    ('max(keda_scaler_metrics_value{scaled_object="ollama-scaler"})', "KEDA spells it scaledObject"),
    ("max by (node) (DCGM_FI_DEV_GPU_UTIL)", "DCGM labels the node Hostname"),
    ("sum(rate(container_cpu_cfs_throttled_seconds_total[5m]))", "dropped by kube-prometheus-stack's relabeling"),
    ('count(kube_node_labels{label_kubernetes_azure_com_mode="user"})', "a node label not in the allowlist"),
    ('count(kube_node_labels{label_llm_platform_pool="gpu"})', "the platform's pool label is not exported either"),
    ("max by (namespace, certificate) (certmanager_certificate_ready_status)", "cert-manager labels it name"),
])
def test_the_check_catches_a_planted_wrong_name(query, why):
    with pytest.raises(AssertionError):
        check_query(query, in_cluster_catalog(), why)


def test_the_check_catches_a_planted_wrong_legend_and_azure_series():
    with pytest.raises(AssertionError):
        check_query("sum by (pod) (vllm:num_requests_running)", in_cluster_catalog(), "legend", {"model_name"})
    with pytest.raises(AssertionError):
        check_query("kube_node_status_capacity{resource=\"nvidia_com_gpu\"} > 0", azure_catalog(), "label", {"pod"})
    assert not re.fullmatch(azure_keep_regex("kubestate"), "kube_pod_status_scheduled_time")


def test_ollama_exports_no_prometheus_metrics_so_nothing_scrapes_it():
    """Ollama v0.32.15 registers no /metrics route (server/routes.go, tests/upstream/ollama/routes.tsv): in-flight
    requests are measured at the KEDA interceptor, and no monitor points at the Ollama pods."""
    routes = (upstream_dir() / "ollama" / "routes.tsv").read_text()
    assert "/metrics" not in routes and "/api/version" in routes
    for name in ("dev", "dev-gpu"):
        for kind in ("PodMonitor", "ServiceMonitor"):
            for monitor in variant(name).of_type(f"kubernetes:monitoring.coreos.com/v1:{kind}"):
                assert "ollama" not in json.dumps(monitor.inputs["spec"]), monitor.inputs["metadata"]["name"]


def test_every_planned_azure_rule_group_reads_series_the_workspace_receives(prod):
    """Azure Monitor evaluates a rule group on the workspace, which holds only what the add-on's default targets
    (kubelet, cadvisor, kube-state-metrics, node-exporter: all on by default) keep under the minimal ingestion
    profile: a series outside every keep regex, or one only the in-cluster kube-prometheus-stack scrapes (DCGM, Istio,
    KEDA, vLLM), is never there and a rule reading it never fires. Every planned group, Microsoft's recording rules
    with ours, as planned; a series another rule records counts."""
    groups = prod.of_type("azure-native:alertsmanagement:PrometheusRuleGroup")
    rules = [(g.name, r) for g in groups for r in g.inputs["rules"]]
    recorded = {r["record"] for _, r in rules if r.get("record")}
    keep = [azure_keep_regex(target) for target in ("kubelet", "cadvisor", "kubestate", "nodeexporter")]
    assert len(groups) == 3 and recorded
    for group, rule in rules:
        for metric in metrics_of(rule["expression"]):
            assert metric in recorded or any(re.fullmatch(regex, metric) for regex in keep), \
                f"{group} {rule.get('alert') or rule['record']}: {metric} is not in Azure Monitor's workspace"


def test_every_postgres_metric_alert_reads_a_default_metric_of_the_flexible_server(prod):
    """A metric alert on a metric the resource type does not emit is accepted as configured and never fires; the
    flexible server's default metrics are vendored (metrics/azure-postgresql-flexible-server.tsv, MicrosoftDocs/
    azure-databases-docs 01f8fbe2 concepts-monitoring.md). is_db_alive is read with Maximum, the aggregation the page
    names for it."""
    emitted = extract_list("azure-postgresql-flexible-server")
    alerts = [a for a in prod.of_type("azure-native:monitor:MetricAlert")
              if "/microsoft.dbforpostgresql/" in a.inputs["scopes"][0].lower()]
    assert len(alerts) == 2
    for alert in alerts:
        for criterion in alert.inputs["criteria"]["allOf"]:
            metric = criterion["metricName"]
            assert metric in emitted.series, f"{alert.name}: {metric} is not a default metric of the flexible server"
            if "Maximum" in emitted.notes[metric]:
                assert criterion["timeAggregation"] in ("Maximum", "Average", "Minimum"), alert.name


# DCGM's help text names each field's unit (etc/default-counters.csv: "Framebuffer memory used (in MiB)"); the
# Grafana unit id that shows it as such (grafana packages/grafana-data/src/valueFormats/categories.ts: `mbytes` is
# mebibytes, binaryPrefix('B', 2); `decmbytes` is megabytes, SIPrefix('B', 2), 10**6 bytes)
DCGM_UNIT_TO_GRAFANA = {"MiB": "mbytes", "C": "celsius", "W": "watt", "%": "percent"}


def dcgm_units() -> dict[str, str]:
    """DCGM field -> the unit its help text names, from both vendored CSVs (they must agree)."""
    units: dict[str, str] = {}
    for name in ("default-counters", "dcp-metrics-included"):
        for line in (upstream_dir() / "metrics" / f"dcgm-exporter-{name}.csv").read_text().splitlines():
            match = re.match(r"\s*(DCGM_FI_\w+)\s*,[^,]*,.*\(in ([^)]+)\)", line.lstrip("# "))
            if match:
                assert units.setdefault(match.group(1), match.group(2)) == match.group(2), match.group(1)
    return units


def test_every_dashboard_panel_of_one_dcgm_field_shows_the_field_unit():
    """A panel that aggregates one DCGM field unchanged (no arithmetic: sum/avg/max of it) shows the field's own
    unit: FB_USED is MiB, so `decmbytes` (SI megabytes) printed 80 GiB of an H100 as 81.9 GB, 5 % short."""
    units, checked = dcgm_units(), 0
    for path in sorted(p for p in DASHBOARDS_DIR.iterdir() if p.name.endswith(".json")):
        for panel in json.loads(path.read_text())["panels"]:
            for target in panel.get("targets", []):
                match = re.fullmatch(r"(?:sum|avg|max|min) by \([\w, ]+\) \((DCGM_FI_\w+)(?:\{[^}]*\})?\)",
                                     target["expr"])
                if match:
                    unit = DCGM_UNIT_TO_GRAFANA[units[match.group(1)]]
                    assert panel["fieldConfig"]["defaults"]["unit"] == unit, (path.name, panel["title"], unit)
                    checked += 1
    assert checked >= 4  # utilisation, memory by pod, temperature, power


# kube-prometheus-stack 88.5.3 leaves prometheusSpec.scrapeInterval and the kubelet's and kube-state-metrics'
# monitor intervals "" (values.yaml): prometheus-operator's default, 30s ("Defaults to 30s", the values' comment)
DEFAULT_SCRAPE_SECONDS = 30
RATE_FUNCTIONS = {"rate", "irate", "increase", "delta", "deriv"}


def scrape_seconds(exporter: str) -> int:
    if exporter not in MONITORS:
        assert values_of(KPS)["prometheus"]["prometheusSpec"]["scrapeInterval"] == ""
        return DEFAULT_SCRAPE_SECONDS
    kind, name, variants = MONITORS[exporter]
    (interval,) = {monitor_endpoint(variant(v), kind, name).get("interval") for v in variants}
    return int(interval.removesuffix("s")) if interval else DEFAULT_SCRAPE_SECONDS


def rate_windows(query: str) -> list[tuple[str, float]]:
    """(metric, window seconds) of each rate-like call's range selector in `query`."""
    found: list[tuple[str, float]] = []

    def visit(node):
        if isinstance(node, promql_parser.Call) and node.func.name in RATE_FUNCTIONS:
            selector = node.args[0]
            found.append((selector.vector_selector.name, selector.range.total_seconds()))
        return True

    promql_parser.walk(promql_parser.parse(query), visit)
    return found


def test_every_rate_window_spans_four_scrapes_of_its_exporter():
    """rate() needs two samples in its window, and a missed scrape or two must not empty it: the window is at least
    four scrape intervals of the exporter the series comes from (the planned monitor's interval, else 30s)."""
    queries = [(f"{f} {t}", q) for f, t, q, _ in dashboard_targets()]
    queries += [(r["alert"], r["expr"]) for r in platform_alert_rules(
        "llm", 90, 0.05, 30, 1200, ["llm-d"], cert_manager=True, fallback=FallbackPool("gpuod", 1, 3),
        gpu_operator=True, gpu_nodes=True)]
    queries += list(planned_prometheus_triggers())
    windows = [(where, metric, seconds) for where, query in queries
               for metric, seconds in rate_windows(query.replace("$namespace", "llm"))]
    assert len(windows) >= 10
    for where, metric, seconds in windows:
        for exporter in in_cluster_catalog().find(metric):
            assert seconds >= 4 * scrape_seconds(exporter.name), (where, metric, seconds, exporter.name)


def test_the_window_check_catches_a_planted_short_window():
    """Istio's gateways are scraped every 15s: a 30s window holds one or two samples, rate() of it flickers."""
    ((metric, seconds),) = rate_windows('sum(rate(istio_requests_total{response_code=~"5.."}[30s]))')
    (exporter,) = in_cluster_catalog().find(metric)
    assert seconds < 4 * scrape_seconds(exporter.name) == 60


def test_every_planned_keda_prometheus_trigger_targets_what_its_query_aggregates():
    """An HPA reads an AverageValue external metric as a total shared among the replicas (ceil(value / target)) and
    a Value as a level to scale the replicas by (kubernetes pkg/controller/podautoscaler/replica_calculator.go): a
    query that sums (the EPP's queue, its running requests) is AverageValue, KEDA's default (kedacore/keda v2.20.2
    pkg/scalers/scaler.go GetMetricTargetType); one that averages over the replicas is Value (none is planned since
    ModelAutoscaler's GPU-memory trigger went: test_model_autoscaler.py)."""
    seen = set()
    for name in PLANNED:
        for scaled in planned(name).of_type("kubernetes:keda.sh/v1alpha1:ScaledObject"):
            for trigger in scaled.inputs["spec"]["triggers"]:
                if trigger["type"] != "prometheus":
                    continue
                outer = promql_parser.parse(trigger["metadata"]["query"])
                assert isinstance(outer, promql_parser.AggregateExpr), trigger["metadata"]["query"]
                op = str(outer.op)
                want = {"sum": "AverageValue", "avg": "Value"}[op]
                assert trigger.get("metricType", "AverageValue") == want, (name, trigger)
                seen.add(op)
    assert "sum" in seen and seen <= {"sum", "avg"}


# labels whose values name an object the platform plans: a matcher on one must select something a plan makes
NAMED_BY_PLAN = ("deployment", "container", "scaledObject", "scaler")
# what a chart the platform installs names, not a plan: the GPU Operator's validator container (NVIDIA/gpu-operator
# v26.7.0 assets/state-operator-validation/0500_daemonset.yaml:128)
NAMED_BY_CHARTS = {"container": {"nvidia-operator-validator"}}


def planned_names() -> dict[str, set[str]]:
    names: dict[str, set[str]] = {label: set() for label in NAMED_BY_PLAN}
    for label, values in NAMED_BY_CHARTS.items():
        names[label] |= values
    for name in ("dev", "dev-gpu", "llmd", "llmd-pd"):
        plan = variant(name)
        for deployment in plan.of_type("kubernetes:apps/v1:Deployment"):
            names["deployment"].add(deployment.inputs["metadata"]["name"])
            names["container"] |= {c["name"] for c in deployment.inputs["spec"]["template"]["spec"]["containers"]}
        for scaled in plan.of_type("kubernetes:keda.sh/v1alpha1:ScaledObject"):
            names["scaledObject"].add(scaled.inputs["metadata"]["name"])
            names["scaler"] |= {t["name"] for t in scaled.inputs["spec"]["triggers"] if t.get("name")}
    return names


def test_every_matcher_on_a_planned_name_selects_a_planned_object():
    """A matcher on deployment, container, scaledObject or scaler (KEDA's trigger name) must select an object a plan
    makes: the catalog checks the label exists, not that `container="ollama"` is the model server's container."""
    names, checked = planned_names(), 0
    queries = [(f"{f} {t}", q) for f, t, q, _ in dashboard_targets()]
    queries += [(r["alert"], r["expr"]) for r in platform_alert_rules(
        "llm", 90, 0.05, 30, 1200, ["llm-d"], cert_manager=True, gpu_operator=True, gpu_nodes=True)]
    queries += [(r["alert"], r["expression"]) for r in azure_alert_rules(["llm"], ["llm-d"])]

    def visit(node):
        nonlocal checked
        if isinstance(node, promql_parser.VectorSelector):
            for m in node.matchers.matchers:
                if m.name in NAMED_BY_PLAN and m.op in (promql_parser.MatchOp.Equal, promql_parser.MatchOp.Re):
                    values = [m.value] if m.op == promql_parser.MatchOp.Equal else m.value.split("|")
                    for value in values:
                        assert value in names[m.name], (where, m.name, value, sorted(names[m.name]))
                        checked += 1
        return True

    for where, query in queries:
        promql_parser.walk(promql_parser.parse(query.replace("$namespace", "llm")), visit)
    assert checked >= 8
