"""The alert and recording rules every planned stack registers, in Prometheus' own tools (the distribution's promtool,
Debian 12's 2.42 here, which `make test` unpacks into .venv/debian): `promtool check rules` over every group (the
in-cluster PrometheusRules and the Azure Monitor rule groups alike), and `promtool test rules` driving the
registered alerts with series over time, so offsets, `for`, rates and ranges are evaluated by Prometheus' engine
rather than read. Azure's managed Prometheus evaluates its rule groups with a Prometheus-compatible engine; its
rules are converted only in form (`expression` -> `expr`, an ISO 8601 `for` -> a Prometheus duration, Azure's own
fields left out)."""
import copy
import functools
import json
import re
import subprocess
from pathlib import Path
from typing import Any, Callable, Optional

import pytest
import yaml

from tests.conftest import PLANNED, PROJECT_DIR, planned, variant

PROMTOOL = PROJECT_DIR / ".venv" / "debian" / "usr" / "bin" / "promtool"
DASHBOARDS = PROJECT_DIR / "components" / "llmplatform" / "data" / "dashboards"
RULE_FIELDS = ("alert", "record", "expr", "for", "labels", "annotations")


def prometheus_duration(iso: str) -> str:
    """PT5M -> 5m, PT1H30M -> 90m (Azure rule groups take ISO 8601 durations, Prometheus its own)."""
    found = re.fullmatch(r"PT(?:(\d+)H)?(?:(\d+)M)?", iso)
    assert found, f"an ISO 8601 duration in hours and minutes, got {iso!r}"
    return f"{int(found[1] or 0) * 60 + int(found[2] or 0)}m"


def rule_files(plan) -> dict[str, dict[str, Any]]:
    """One rule file per registered group source: a PrometheusRule's groups as they are, an Azure rule group as the
    Prometheus group it is."""
    files = {}
    for r in plan.of_type("kubernetes:monitoring.coreos.com/v1:PrometheusRule"):
        files[f"{r.name}.yaml"] = {"groups": copy.deepcopy(r.inputs["spec"]["groups"])}  # the plans are shared
    for r in plan.of_type("azure-native:alertsmanagement:PrometheusRuleGroup"):
        rules = []
        for rule in r.inputs["rules"]:
            converted = {k: v for k, v in {**rule, "expr": rule["expression"]}.items() if k in RULE_FIELDS}
            if "for" in rule:
                converted["for"] = prometheus_duration(rule["for"])
            rules.append(converted)
        files[f"{r.name}.yaml"] = {"groups": [{"name": r.inputs["ruleGroupName"],
                                               "interval": prometheus_duration(r.inputs["interval"]),
                                               "rules": rules}]}
    return files


def promtool(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    assert PROMTOOL.exists(), f"{PROMTOOL} is missing: `make test` unpacks Debian's promtool there"
    return subprocess.run([str(PROMTOOL), *args], cwd=cwd, capture_output=True, text=True, timeout=60)


def test_every_rule_group_of_every_plan_passes_promtool_check(tmp_path):
    written = []
    for name in PLANNED:
        for file, doc in rule_files(planned(name)).items():
            written.append(f"{name}-{file}")
            (tmp_path / written[-1]).write_text(yaml.safe_dump(doc))
    sources = {r.type for name in PLANNED for r in planned(name).resources if r.type.endswith(("PrometheusRule",
                                                                                             "PrometheusRuleGroup"))}
    assert len(sources) == 2 and len(written) > 2  # in-cluster rules and Azure rule groups both checked
    done = promtool("check", "rules", *written, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr


def alert_test(tmp_path: Path, plan, alert: str, series: dict[str, str], expected: dict[str, list[dict]],
               source: str = "", mutate: Optional[Callable[[str], str]] = None) -> None:
    """`promtool test rules` of the plan's rule file holding `alert` over `series` and, per evaluation time, the
    labels of each alert expected firing then (none: not firing). `source`: part of the rule file's name, where
    both paths hold the alert (`platform-rules` in the cluster, `azure-alerts` on Azure); `mutate` rewrites each
    rule's expression (a planted defect).
    Annotations are left out of the copy under test (they change no firing, and promtool compares them whole)."""
    (rule_file,) = [doc for name, doc in rule_files(plan).items() if source in name
                    and any(r.get("alert") == alert for g in doc["groups"] for r in g["rules"])]
    for group in rule_file["groups"]:
        for rule in group["rules"]:
            rule.pop("annotations", None)
            if mutate:
                rule["expr"] = mutate(rule["expr"])
    promtool_test(tmp_path, rule_file, series, alert_rule_test=[
        {"eval_time": at, "alertname": alert, "exp_alerts": [{"exp_labels": labels} for labels in firing]}
        for at, firing in expected.items()])


def promtool_test(tmp_path: Path, rule_file: dict[str, Any], series: dict[str, str], **checks: list[dict]) -> None:
    """One `promtool test rules` case: `rule_file` evaluated every minute over `series` (promtool's expanding
    notation, one sample a minute), with `checks` (alert_rule_test, promql_expr_test) as promtool reads them."""
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump(rule_file))
    tests = {"rule_files": ["rules.yaml"], "evaluation_interval": "1m", "tests": [{
        "interval": "1m", "input_series": [{"series": s, "values": v} for s, v in series.items()], **checks}]}
    (tmp_path / "tests.yaml").write_text(yaml.safe_dump(tests))
    done = promtool("test", "rules", "tests.yaml", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr


OLLAMA = 'namespace="llm",deployment="ollama"'
OLLAMA_LABELS = {"namespace": "llm", "deployment": "ollama", "severity": "critical"}


def test_prod_ollama_down_pages_after_five_minutes_but_not_a_first_cold_start(tmp_path, prod):
    """Prod keeps Ollama at two replicas or more: all of them gone pages after 5 minutes; a Deployment that has just
    been created (a new stack) starts cold, and does not page while its first replica starts (up to 20 minutes)."""
    alert_test(tmp_path, prod, "OllamaDown",
               {f"kube_deployment_spec_replicas{{{OLLAMA}}}": "2x60",
                f"kube_deployment_status_replicas_available{{{OLLAMA}}}": "2x30 0x30"},
               {"34m": [], "37m": [OLLAMA_LABELS], "10m": []})
    alert_test(tmp_path, prod, "OllamaDown",
               {f"kube_deployment_spec_replicas{{{OLLAMA}}}": "1x40",
                f"kube_deployment_status_replicas_available{{{OLLAMA}}}": "0x18 1x21"},
               {"16m": [], "19m": [], "25m": []})


def test_ollama_scaled_to_zero_pages_only_past_a_cold_start(tmp_path):
    """dev-gpu scales Ollama to zero: desired replicas and none available is every cold start from zero, so the
    alert waits the modelled cold start (20 minutes) and no idle time at zero counts."""
    plan = variant("dev-gpu")
    start = {f"kube_deployment_spec_replicas{{{OLLAMA}}}": "0x30 1x60"}
    alert_test(tmp_path, plan, "OllamaDown",  # idle at zero, then a 15-minute cold start
               {**start, f"kube_deployment_status_replicas_available{{{OLLAMA}}}": "0x45 1x45"},
               {"29m": [], "44m": [], "60m": []})
    alert_test(tmp_path, plan, "OllamaDown",  # never comes up
               {**start, f"kube_deployment_status_replicas_available{{{OLLAMA}}}": "0x90"},
               {"48m": [], "52m": [OLLAMA_LABELS]})


def test_a_spot_node_gone_is_told_once_and_a_steady_pool_never(tmp_path, prod):
    """A spot node vanishing (an eviction, under either AKS label) fires at once; ten minutes on, it is the new
    normal."""
    node = 'kube_node_labels{{node="{}",label_kubernetes_azure_com_scalesetpriority="spot"}}'
    alert_test(tmp_path, prod, "SpotNodesEvicted",
               {node.format("aks-gpu-0"): "1x40", node.format("aks-gpu-1"): "1x20 stale",
                node.format("aks-gpu-2").replace("scalesetpriority", "priority"): "1x40"},
               {"15m": [], "22m": [{"severity": "info"}], "35m": []})


def test_gateway_errors_fire_above_five_percent_of_answers(tmp_path, prod):
    total = 'istio_requests_total{{response_code="{}",destination_service_name="router"}}'
    alert_test(tmp_path, prod, "GatewayErrorRatioHigh",  # 10 of every 110 answers a 5xx
               {total.format("200"): "0+100x40", total.format("503"): "0+10x40"},
               {"4m": [], "20m": [{"severity": "critical"}]})
    alert_test(tmp_path, prod, "GatewayErrorRatioHigh",  # 1 of 101
               {total.format("200"): "0+100x40", total.format("503"): "0+1x40"},
               {"20m": []})


def test_a_certificate_pages_only_once_its_renewal_has_failed(tmp_path):
    """cert-manager renews a certificate a third of its life before expiry (30 days for Let's Encrypt's 90): 14
    days left means renewal has been failing for two weeks; 40 days left is a certificate not yet due."""
    cert = ('certmanager_certificate_expiration_timestamp_seconds'
            '{name="gateway-tls",exported_namespace="istio-ingress"}')
    labels = {"name": "gateway-tls", "exported_namespace": "istio-ingress", "severity": "warning"}
    plan = variant("prod-tls")
    alert_test(tmp_path, plan, "CertificateExpiringWithoutRenewal", {cert: f"{10 * 86400}x180"},
               {"30m": [], "2h": [labels]})
    alert_test(tmp_path, plan, "CertificateExpiringWithoutRenewal", {cert: f"{40 * 86400}x180"}, {"2h": []})


def test_gpu_pods_pending_counts_only_pods_that_ask_for_a_gpu(tmp_path, prod):
    """kube-state-metrics gives each pod's phase and each container's requests as separate series; the join keeps
    the Pending pods one of whose containers requests nvidia.com/gpu (a CPU pod pending is another problem)."""
    phase = 'kube_pod_status_phase{{namespace="llm",pod="{}",phase="Pending"}}'
    gpu = 'kube_pod_container_resource_requests{{namespace="llm",pod="{}",container="{}",resource="nvidia_com_gpu"}}'
    cpu = 'kube_pod_container_resource_requests{{namespace="llm",pod="{}",container="{}",resource="cpu"}}'
    pending_gpu = {phase.format("ollama-0"): "1x30", gpu.format("ollama-0", "ollama"): "1x30",
                   cpu.format("ollama-0", "ollama"): "2x30", cpu.format("ollama-0", "pull"): "0.1x30"}
    alert_test(tmp_path, prod, "GpuPodsPending", pending_gpu, {"10m": [], "20m": [{"platform": "llm"}]})
    alert_test(tmp_path, prod, "GpuPodsPending",  # a CPU pod pending, the GPU pod running
               {phase.format("webui-0"): "1x30", cpu.format("webui-0", "webui"): "1x30",
                phase.format("ollama-0"): "0x30", gpu.format("ollama-0", "ollama"): "1x30"}, {"20m": []})


def test_gpu_memory_high_leaves_vllm_out_and_keeps_an_unowned_gpu(tmp_path, prod):
    """vLLM reserves most of its GPU's memory by design (gpu_memory_utilization): its GPU is left out; another
    server's GPU at 95 % fires, and so does a GPU no pod holds (DCGM gives it no container label)."""
    used = 'DCGM_FI_DEV_FB_USED{{Hostname="{}",gpu="0"{}}}'
    free = used.replace("USED", "FREE")
    series = {}
    for node, owner in (("node-a", ',container="ollama"'), ("node-b", ',container="vllm"'), ("node-c", "")):
        series[used.format(node, owner)] = "76000x20"
        series[free.format(node, owner)] = "4000x20"
    alert_test(tmp_path, prod, "GpuMemoryHigh", series,
               {"5m": [], "15m": [{"Hostname": "node-a", "gpu": "0", "severity": "warning"},
                                  {"Hostname": "node-c", "gpu": "0", "severity": "warning"}]})


def test_rejections_fire_when_most_answers_are_refusals(tmp_path, prod):
    total = 'istio_requests_total{{response_code="{}"}}'
    alert_test(tmp_path, prod, "GatewayRejectingMostRequests",  # 60 % 401, 429 and 403 answers
               {total.format("200"): "0+40x40", total.format("401"): "0+30x40", total.format("429"): "0+20x40",
                total.format("403"): "0+10x40"},
               {"10m": [], "25m": [{"severity": "warning"}]})
    alert_test(tmp_path, prod, "GatewayRejectingMostRequests",  # 20 %
               {total.format("200"): "0+80x40", total.format("401"): "0+20x40"}, {"25m": []})


def test_latency_fires_when_the_95th_percentile_passes_the_slo(tmp_path, prod):
    """prod's SLO is 20 s at the 95th percentile: answers between 5 and 30 s put it near 29 s; under 5 s, not."""
    bucket = 'istio_request_duration_milliseconds_bucket{{le="{}"}}'
    slow = {bucket.format("1000"): "0x40", bucket.format("5000"): "0x40", bucket.format("30000"): "0+10x40",
            bucket.format("+Inf"): "0+10x40"}
    fast = {bucket.format("1000"): "0x40", bucket.format("5000"): "0+10x40", bucket.format("30000"): "0+10x40",
            bucket.format("+Inf"): "0+10x40"}
    alert_test(tmp_path, prod, "GatewayLatencyP95AboveSlo", slow, {"10m": [], "25m": [{"severity": "warning"}]})
    alert_test(tmp_path, prod, "GatewayLatencyP95AboveSlo", fast, {"25m": []})


def test_a_volume_past_85_percent_fires_with_its_claim(tmp_path, prod):
    volume = 'kubelet_volume_stats_{}_bytes{{namespace="llm",persistentvolumeclaim="model-store"}}'
    alert_test(tmp_path, prod, "PersistentVolumeFillingUp",
               {volume.format("capacity"): "100x40", volume.format("available"): "10x40"},
               {"10m": [], "20m": [{"namespace": "llm", "persistentvolumeclaim": "model-store", "platform": "llm"}]})
    alert_test(tmp_path, prod, "PersistentVolumeFillingUp",
               {volume.format("capacity"): "100x40", volume.format("available"): "40x40"}, {"20m": []})


def test_certificate_not_ready_reads_the_condition_cert_manager_sets(tmp_path):
    """cert-manager exports one series per condition (True, False, Unknown), 1 on the current one."""
    ready = ('certmanager_certificate_ready_status'
             '{{name="gateway-tls",exported_namespace="istio-ingress",condition="{}"}}')
    plan = variant("prod-tls")
    failing = {ready.format("True"): "0x60", ready.format("False"): "1x60", ready.format("Unknown"): "0x60"}
    alert_test(tmp_path, plan, "CertificateNotReady", failing,
               {"20m": [], "40m": [{"name": "gateway-tls", "exported_namespace": "istio-ingress",
                                    "severity": "critical"}]})
    fine = {ready.format("True"): "1x60", ready.format("False"): "0x60", ready.format("Unknown"): "0x60"}
    alert_test(tmp_path, plan, "CertificateNotReady", fine, {"40m": []})


def test_llmds_azure_alert_watches_ollama_and_each_vllm_deployment_apart(tmp_path):
    """llmd runs Ollama and llm-d's vLLM: Azure's ModelServerDown (one rule, a part per server kind) fires for the
    vLLM Deployment whose replicas are all gone, labelled with it, and not for the Ollama that still serves."""
    vllm = 'namespace="llm-d",deployment="vllm"'
    alert_test(tmp_path, variant("llmd"), "ModelServerDown",
               {f"kube_deployment_spec_replicas{{{vllm}}}": "1x60",
                f"kube_deployment_status_replicas_available{{{vllm}}}": "1x30 0x30",
                f"kube_deployment_spec_replicas{{{OLLAMA}}}": "1x60",
                f"kube_deployment_status_replicas_available{{{OLLAMA}}}": "1x60"},
               {"33m": [], "40m": [{"namespace": "llm-d", "deployment": "vllm", "platform": "llm"}]})


def test_keda_errors_fire_per_scaled_object(tmp_path, prod):
    errors = 'keda_scaler_detail_errors_total{{exported_namespace="llm",scaledObject="{}",scaler="s0"}}'
    alert_test(tmp_path, prod, "KedaScalerErrors",
               {errors.format("ollama-scaler"): "0+1x40", errors.format("webui-scaler"): "0x40"},
               {"8m": [], "20m": [{"exported_namespace": "llm", "scaledObject": "ollama-scaler",
                                   "severity": "warning"}]})


# Ollama's pods as a Deployment names them (`<deployment>-<pod-template-hash>-<5 random>`)
OLLAMA_PODS = ("ollama-7d9f8c6b5d-x2b4k", "ollama-7d9f8c6b5d-q7wzk")


def planned_queries(plan) -> dict[str, str]:
    """Every PromQL query a plan hands Prometheus outside its rules: the KEDA triggers' (prometheus type) and the
    Prometheus Adapter's metricsQuery and seriesQuery (its `<<.X>>` templates filled as the adapter fills them)."""
    queries = {}
    for r in plan.resources:
        if r.type.endswith(":ScaledObject"):
            for i, trigger in enumerate(r.inputs["spec"]["triggers"]):
                if trigger["type"] == "prometheus":
                    queries[f"{r.name} trigger {i}"] = trigger["metadata"]["query"]
    for release in plan.helm_releases():
        for i, rule in enumerate(((release.inputs.get("values") or {}).get("rules") or {}).get("custom") or []):
            # the adapter names the HPA's pods themselves (prometheus-adapter's pod matchers: `pod=~"a|b"`)
            filled = rule["metricsQuery"].replace("<<.GroupBy>>", "pod").replace(
                "<<.LabelMatchers>>", f'namespace="llm",pod=~"{"|".join(OLLAMA_PODS)}"')
            queries[f"{release.name} rule {i}"] = filled
            queries[f"{release.name} series {i}"] = rule["seriesQuery"]
    return queries


def test_every_dashboard_and_scaling_query_parses_in_prometheus(tmp_path):
    """The dashboards' queries (Grafana's `$namespace` filled), the KEDA triggers' and the Prometheus Adapter's, each
    parsed by Prometheus' own parser as the expression of a recording rule."""
    queries = {f"{path.name} {i}": target["expr"].replace("$namespace", "llm")
               for path in sorted(DASHBOARDS.glob("*.json"))
               for i, target in enumerate(t for p in json.loads(path.read_text())["panels"]
                                          for t in p.get("targets", []))}
    for name in PLANNED:
        queries.update(planned_queries(planned(name)))
    assert any("trigger" in k for k in queries) and any("rule" in k for k in queries) and len(queries) > 20
    names = sorted(queries)
    rules = [{"record": f"query:{i}", "expr": queries[name]} for i, name in enumerate(names)]
    (tmp_path / "queries.yaml").write_text(yaml.safe_dump({"groups": [{"name": "queries", "rules": rules}]}))
    done = promtool("check", "rules", "queries.yaml", cwd=tmp_path)
    failed = [names[int(i)] for i in re.findall(r"query:(\d+)", done.stdout + done.stderr)]
    assert done.returncode == 0, (failed, done.stdout + done.stderr)


def test_the_gpu_memory_scaling_signal_is_the_servers_own_pods(tmp_path):
    """The gpu-memory mode's signal, evaluated by Prometheus: the Prometheus Adapter's per-pod value the HPA of
    dev-gpu-hpa averages, for the namespace's Ollama pods only (another namespace's Ollama, a sibling Deployment whose
    name starts alike, and vLLM, are not its replicas), as the percentage its target compares. (Requests mode reads
    no GPU memory: test_model_autoscaler.py.)"""
    series = {}
    # a sibling Deployment `ollama-batch` in the namespace is not a replica of `ollama` either
    for namespace, pod, used in (("llm", OLLAMA_PODS[0], 76000), ("llm", OLLAMA_PODS[1], 68000),
                                 ("llm", "ollama-batch-6c8d9f7b44-z5wqk", 8000),
                                 ("team", "ollama-5c9d8f7b6-t2vxn", 8000), ("llm-d", "vllm-0", 79000)):
        labels = f'namespace="{namespace}",pod="{pod}",Hostname="{pod}-node",gpu="0"'
        series[f"DCGM_FI_DEV_FB_USED{{{labels}}}"] = f"{used}x10"
        series[f"DCGM_FI_DEV_FB_FREE{{{labels}}}"] = f"{80000 - used}x10"
    # dev-gpu-hpa's Prometheus Adapter rule, filled as the adapter fills it for the HPA: one value per pod
    (per_pod,) = [q for k, q in planned_queries(variant("dev-gpu-hpa")).items() if " rule " in k]
    promtool_test(tmp_path, {"groups": []}, series, promql_expr_test=[
        {"expr": per_pod, "eval_time": "5m", "exp_samples": [
            {"labels": f'{{pod="{OLLAMA_PODS[0]}"}}', "value": 95},
            {"labels": f'{{pod="{OLLAMA_PODS[1]}"}}', "value": 85}]}])


# ---- GpuFallbackNodesRunning: the on-demand fallback pool's nodes, as kube-state-metrics emits them --------------

KSM_TARGET = {"platform-rules": 'job="kube-state-metrics",namespace="monitoring",pod="kps-kube-state-metrics-0"',
              "azure-alerts": 'job="kube-state-metrics",instance="ama-metrics-ksm:8080"'}


def allowlisted_keys(plan, source: str) -> list[str]:
    """The node label keys kube-state-metrics exports on each path, from the plan: kube-prometheus-stack's
    kube-state-metrics values in the cluster, the AKS metrics add-on's (the cluster's azureMonitorProfile) on Azure."""
    from tests.metric_catalog import ksm_allowlist_keys
    if source == "platform-rules":
        kps = next(r for r in plan.helm_releases() if r.inputs.get("chart") == "kube-prometheus-stack")
        allowlist = kps.inputs["values"]["kube-state-metrics"]["metricLabelsAllowlist"]
    else:
        profile = plan.one("azure-native:containerservice:ManagedCluster").inputs["azureMonitorProfile"]
        allowlist = [profile["metrics"]["kubeStateMetrics"]["metricLabelsAllowlist"]]
    return ksm_allowlist_keys(allowlist, "nodes")


def ksm_label(key: str) -> str:
    """kube-state-metrics' Prometheus label for a Kubernetes label key (kubernetes/kube-state-metrics v2.20.0
    4ffeda2e internal/store/utils.go labelName: `label_`, SanitizeLabelName, then snake case in lower case)."""
    sanitized = re.sub(r"[^a-zA-Z0-9_]", "_", key)
    return "label_" + re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", sanitized).lower()


def aks_node(plan, source: str, pool: str, index: int, spot: bool = False, platform_pool: str = "") -> str:
    """kube_node_labels of one AKS node as the path's Prometheus holds it: the labels AKS writes on every node
    (MicrosoftDocs/azure-aks-docs 07fd2900 articles/aks/use-labels.md: the pool under kubernetes.azure.com/agentpool
    and, deprecated, agentpool; a spot pool's priority under both keys), the platform's own pool label, those the
    allowlist names as label_<key>, and the scrape's target labels."""
    name = f"aks-{pool}-31415926-vmss{index:06d}"
    labels = {"kubernetes.azure.com/agentpool": pool, "agentpool": pool, "kubernetes.io/hostname": name,
              "kubernetes.azure.com/role": "agent", "kubernetes.azure.com/mode": "system" if pool == "sys" else "user"}
    if spot:
        labels |= {"kubernetes.azure.com/priority": "spot", "kubernetes.azure.com/scalesetpriority": "spot"}
    if platform_pool:
        labels["llm-platform/pool"] = platform_pool
    kept = allowlisted_keys(plan, source)
    exported = ",".join(f'{ksm_label(k)}="{v}"' for k, v in sorted(labels.items()) if k in kept)
    return f'kube_node_labels{{node="{name}",{exported},{KSM_TARGET[source]}}}'


def other_pools(plan, source: str, samples: str) -> dict[str, str]:
    """The pools that never fire it: the system pool, the CPU workload pool (spot), and the spot GPU pool `gpu`."""
    nodes = [aks_node(plan, source, "sys", 0), aks_node(plan, source, "cpu", 0, True, "cpu"),
             aks_node(plan, source, "gpu", 0, True, "gpu"), aks_node(plan, source, "gpu", 1, True, "gpu")]
    return dict.fromkeys(nodes, samples)


FIRING = {"platform-rules": {"severity": "warning"}, "azure-alerts": {"platform": "llm"}}


def fallback_cases(tmp_path: Path, plan, source: str, mutate: Optional[Callable[[str], str]] = None) -> None:
    """prod's fallback `gpuod` (minCount 0, the default 3 hours): on-demand nodes running past three hours fire,
    whatever the other pools do; the spot, system and CPU pools alone never; the alert ends within ten minutes of the
    fallback's last node going; a fallback that empties for longer than that before three hours starts its wait
    afresh; a failed scrape of kube-state-metrics (every series stale for a minute or two) does not."""
    def test(series: dict[str, str], expected: dict[str, list[dict]]) -> None:
        alert_test(tmp_path, plan, "GpuFallbackNodesRunning", series, expected, source, mutate)
    fallback = functools.partial(aks_node, plan, source, "gpuod", platform_pool="gpu")  # the spot pool's label
    test({**other_pools(plan, source, "1x240"), fallback(0): "1x240", fallback(1): "_x30 1x210"},
         {"170m": [], "185m": [FIRING[source]], "235m": [FIRING[source]]})
    test(other_pools(plan, source, "1x300"), {"200m": [], "290m": []})
    test({**other_pools(plan, source, "1x240"), fallback(0): "1x200 stale"},
         {"190m": [FIRING[source]], "209m": [FIRING[source]], "212m": []})
    test({**other_pools(plan, source, "1x300"), fallback(0): "1x120 stale", fallback(1): "_x150 1x140"},
         {"110m": [], "260m": []})
    gap = "1x99 stale stale 1x140"  # two failed scrapes in a row at 100 and 101 minutes
    test({**{node: gap for node in other_pools(plan, source, "")}, fallback(0): gap},
         {"170m": [], "185m": [FIRING[source]]})


@pytest.mark.parametrize("source", ["platform-rules", "azure-alerts"])
def test_on_demand_fallback_nodes_running_for_hours_are_told_on_both_paths(tmp_path, prod, source):
    fallback_cases(tmp_path, prod, source)


@pytest.mark.parametrize("source", ["platform-rules", "azure-alerts"])
@pytest.mark.parametrize("defect, mutate", [
    ("the spot pool's name", lambda e: e.replace('"gpuod"', '"gpu"')),
    ("the platform's own pool label (the spot pool's name on fallback nodes, and not exported)",
     lambda e: re.sub(r"label_(kubernetes_azure_com_)?agentpool", "label_llm_platform_pool", e)),
    ("a label kube-state-metrics does not spell so", lambda e: e.replace("agentpool", "agent_pool")),
    ("no bridge over a failed scrape", lambda e: re.sub(r"max_over_time\((.*?)\[10m\]\)", r"\1", e)),
])
def test_a_planted_defect_in_the_fallback_alert_fails_its_cases(tmp_path, prod, source, defect, mutate):
    with pytest.raises(AssertionError):
        fallback_cases(tmp_path, prod, source, mutate)


def test_a_fallback_minimum_counts_only_the_nodes_beyond_it(tmp_path):
    """gpu.fallback.minCount keeps that many on-demand nodes by design: one node of a minimum of 1 never fires, a
    second one past observability.gpuFallbackAlertHours (2 here) does, on both paths."""
    from tests.conftest import plan_for
    plan = plan_for("prod", {"gpu": {"fallback": {"enabled": True, "minCount": 1, "maxCount": 2}},
                             "observability": {"gpuFallbackAlertHours": 2}})
    for source in ("platform-rules", "azure-alerts"):
        first, second = (aks_node(plan, source, "gpuod", i, platform_pool="gpu") for i in (0, 1))
        alert_test(tmp_path, plan, "GpuFallbackNodesRunning", {**other_pools(plan, source, "1x240"), first: "1x240"},
                   {"200m": []}, source)
        alert_test(tmp_path, plan, "GpuFallbackNodesRunning",
                   {first: "1x240", second: "_x60 1x180"}, {"170m": [], "185m": [FIRING[source]]}, source)


# ---- across a failed scrape: cert-manager's certificates, the GPU Operator's validator ----------------------------
# A failed scrape marks every series of the target stale at once (prometheus d15adb9a scrape/scrape.go): in
# promtool's notation, `stale` in every series of the target at the same minutes.

def gap(value: str, before: int, after: int) -> str:
    """`value` each minute, but for two failed scrapes in a row at `before` and `before + 1` minutes."""
    return f"{value}x{before - 1} stale stale {value}x{after}"


CERT = 'name="gateway-tls",exported_namespace="istio-ingress"'
CERT_FIRING = {"name": "gateway-tls", "exported_namespace": "istio-ingress"}


def ready_status(true: str, false: str) -> dict[str, str]:
    """cert-manager's three Ready-condition series of one Certificate (True, False, Unknown), as one scrape writes
    them: `false`'s samples on False, `true`'s on True, Unknown at 0 (failed scrapes where `true` has them)."""
    ready = 'certmanager_certificate_ready_status{{%s,condition="{}"}}' % CERT
    unknown = true.replace("1x", "0x")
    return {ready.format("True"): true, ready.format("False"): false, ready.format("Unknown"): unknown}


def certificate_not_ready_across_a_gap(tmp_path: Path, mutate: Optional[Callable[[str], str]] = None) -> None:
    """Not Ready from the start and cert-manager unscraped at 20 and 21 minutes: it pages at 30 minutes all the same
    (without the bridge, its pending state was dropped at 20 and it paged at 52)."""
    alert_test(tmp_path, variant("prod-tls"), "CertificateNotReady",
               ready_status(gap("0", 20, 40), gap("1", 20, 40)),
               {"18m": [], "35m": [{**CERT_FIRING, "severity": "critical"}]}, mutate=mutate)


def certificate_ready_again_resolves_at_once(tmp_path: Path, mutate: Optional[Callable[[str], str]] = None) -> None:
    """Ready again at 46 minutes: the alert ends at the first scrape that says so, not a scrape gap later."""
    alert_test(tmp_path, variant("prod-tls"), "CertificateNotReady", ready_status("0x45 1x20", "1x45 0x20"),
               {"40m": [{**CERT_FIRING, "severity": "critical"}], "47m": [], "55m": []}, mutate=mutate)


EXPIRY = f"certmanager_certificate_expiration_timestamp_seconds{{{CERT}}}"


def expiring_certificate_across_a_gap(tmp_path: Path, mutate: Optional[Callable[[str], str]] = None) -> None:
    """10 days left, cert-manager unscraped at 30 and 31 minutes: it pages at the hour all the same (without the
    bridge, at 92 minutes)."""
    alert_test(tmp_path, variant("prod-tls"), "CertificateExpiringWithoutRenewal",
               {EXPIRY: gap(str(10 * 86400), 30, 80)},
               {"50m": [], "65m": [{**CERT_FIRING, "severity": "warning"}]}, mutate=mutate)


def renewed_certificate_resolves_at_once(tmp_path: Path, mutate: Optional[Callable[[str], str]] = None) -> None:
    """Renewed at 81 minutes (a new notAfter 90 days on): the alert ends at the next scrape."""
    alert_test(tmp_path, variant("prod-tls"), "CertificateExpiringWithoutRenewal",
               {EXPIRY: f"{10 * 86400}x80 {90 * 86400}x20"},
               {"75m": [{**CERT_FIRING, "severity": "warning"}], "82m": []}, mutate=mutate)


def expiring_certificate_across_a_moved_cert_manager(tmp_path: Path,
                                                     mutate: Optional[Callable[[str], str]] = None) -> None:
    """10 days left, cert-manager's pod moved by a drain at 30 minutes: the PodMonitor's target labels (`pod`,
    `instance`) change, so the series after it are new ones; it pages at the hour all the same, for the Certificate
    (read per series, the new pod's alert was pending from 30 minutes and paged at 90)."""
    before = f'certmanager_certificate_expiration_timestamp_seconds{{{CERT},pod="cert-manager-a",instance="a:9402"}}'
    after = before.replace("cert-manager-a", "cert-manager-b").replace("a:9402", "b:9402")
    alert_test(tmp_path, variant("prod-tls"), "CertificateExpiringWithoutRenewal",
               {before: f"{10 * 86400}x29", after: f"_x30 {10 * 86400}x60"},
               {"50m": [], "65m": [{**CERT_FIRING, "severity": "warning"}]}, mutate=mutate)


CERTIFICATE_CASES = (certificate_not_ready_across_a_gap, certificate_ready_again_resolves_at_once,
                     expiring_certificate_across_a_gap, renewed_certificate_resolves_at_once,
                     expiring_certificate_across_a_moved_cert_manager)


@pytest.mark.parametrize("case", CERTIFICATE_CASES, ids=lambda c: c.__name__)
def test_certificate_alerts_bridge_a_failed_scrape_and_end_with_the_next_good_one(tmp_path, case):
    case(tmp_path)


def planted_fails(case: Callable[..., None], tmp_path: Path, mutate: Callable[[str], str]) -> None:
    """The case fails on a rule file `mutate` changed: a result promtool did not expect (or an evaluation error), not
    a file it refused."""
    with pytest.raises(AssertionError) as failed:
        case(tmp_path, mutate)
    assert ("got:" in str(failed.value) or "err:" in str(failed.value)) and "parse" not in str(failed.value), \
        failed.value


def unbridged(expr: str) -> str:
    """The planted defect: each series read at the instant, as before (no bridge over a failed scrape)."""
    return re.sub(r"last_over_time\((.*?)\[10m\]\)", r"\1", expr)


def window_highest(expr: str) -> str:
    """The planted defect: the window's highest sample rather than its latest."""
    return expr.replace("last_over_time", "max_over_time")


def per_scraped_pod(expr: str) -> str:
    """The planted defect: the expiry read per series, as scraped (its `pod` and `instance` kept), as before."""
    return re.sub(r"max by \(exported_namespace, name\) \((last_over_time\("
                  r"certmanager_certificate_expiration_timestamp_seconds\[10m\]\))\)", r"\1", expr)


@pytest.mark.parametrize("case, mutate", [
    pytest.param(expiring_certificate_across_a_moved_cert_manager, per_scraped_pod, id="expiry-per-pod"),
    pytest.param(certificate_not_ready_across_a_gap, unbridged, id="not-ready-unbridged"),
    pytest.param(expiring_certificate_across_a_gap, unbridged, id="expiry-unbridged"),
    pytest.param(certificate_ready_again_resolves_at_once, window_highest, id="not-ready-held-by-the-highest"),
])
def test_a_planted_defect_in_the_certificate_alerts_fails_its_case(tmp_path, case, mutate):
    planted_fails(case, tmp_path, mutate)


# The GPU Operator's validator as kube-state-metrics reports it: one DaemonSet pod per GPU node in the operator's
# namespace, its container nvidia-operator-validator (NVIDIA/gpu-operator v26.7.0 assets/state-operator-validation/
# 0500_daemonset.yaml) not ready while an init container waits; the operator's other pods beside it.
VALIDATOR = "nvidia-operator-validator"


def gpu_operator_pod(source: str, pod: str, container: str, node: str, ready: str,
                     info: Optional[str] = None) -> dict[str, str]:
    """kube_pod_container_status_ready of one container of a pod in gpu-operator, and kube_pod_info of the pod (its
    node), each with kube-state-metrics' labels (kubernetes/kube-state-metrics v2.20.0 docs/metrics/workload/
    pod-metrics.md) and the path's target labels but those the series carries itself (kube-prometheus-stack 88.5.3
    scrapes kube-state-metrics with honorLabels: its `namespace` and `pod` are the series', not the exporter's);
    `info`: its samples (the container's minutes by default)."""
    target = ",".join(label for label in KSM_TARGET[source].split(",")
                      if label.split("=")[0] not in ("namespace", "pod", "container"))
    uid = f'uid="{pod}-uid"'
    owner = pod.rsplit("-", 1)[0]
    return {
        f'kube_pod_container_status_ready{{namespace="gpu-operator",pod="{pod}",container="{container}",{uid},'
        f"{target}}}": ready,
        f'kube_pod_info{{namespace="gpu-operator",pod="{pod}",node="{node}",host_ip="10.224.0.9",pod_ip="10.244.3.7",'
        f'created_by_kind="DaemonSet",created_by_name="{owner}",priority_class="system-node-critical",'
        f'host_network="false",{uid},{target}}}': info or re.sub(r"\b[01](?=x)", "1", ready),
    }


GPU_NODE, OTHER_GPU_NODE = "aks-gpu-31415926-vmss000000", "aks-gpu-31415926-vmss000001"
VALIDATOR_POD = f"{VALIDATOR}-x7k2p"


def operator_pods(source: str, ready: str) -> dict[str, str]:
    """The validator on GPU_NODE (its container's readiness `ready`), a passed one on OTHER_GPU_NODE, and the
    operator's driver and DCGM exporter pods on GPU_NODE (the exporter not ready: not the validator's container)."""
    return {**gpu_operator_pod(source, VALIDATOR_POD, VALIDATOR, GPU_NODE, ready),
            **gpu_operator_pod(source, f"{VALIDATOR}-q9wzb", VALIDATOR, OTHER_GPU_NODE, ready.replace("0x", "1x")),
            **gpu_operator_pod(source, "nvidia-driver-daemonset-m4t8d", "nvidia-driver-ctr", GPU_NODE,
                               ready.replace("0x", "1x")),
            **gpu_operator_pod(source, "nvidia-dcgm-exporter-b5r2n", "nvidia-dcgm-exporter", GPU_NODE,
                               ready.replace("1x", "0x"))}


def firing_on_node(source: str) -> list[dict[str, str]]:
    return [{"namespace": "gpu-operator", "pod": VALIDATOR_POD, "node": GPU_NODE, **FIRING[source]}]


def validation_failing_across_a_gap(tmp_path: Path, source: str, mutate: Optional[Callable[[str], str]] = None
                                    ) -> None:
    """llmd's GPU pool runs the GPU Operator's driver: a validator not ready for 30 minutes pages, on its node, on
    both paths, though kube-state-metrics went unscraped at 20 and 21 minutes (without the bridge: at 52)."""
    alert_test(tmp_path, variant("llmd"), "GpuOperatorValidationFailing", operator_pods(source, gap("0", 20, 40)),
               {"18m": [], "35m": firing_on_node(source)}, source, mutate)


def validation_passed_resolves_at_once(tmp_path: Path, source: str, mutate: Optional[Callable[[str], str]] = None
                                       ) -> None:
    """The validator passes at 41 minutes (the driver built at last): the alert ends at that scrape."""
    alert_test(tmp_path, variant("llmd"), "GpuOperatorValidationFailing", operator_pods(source, "0x40 1x20"),
               {"38m": firing_on_node(source), "42m": [], "50m": []}, source, mutate)


def window_lowest(expr: str) -> str:
    """The planted defect: the window's lowest sample rather than its latest."""
    return expr.replace("last_over_time", "min_over_time")


def an_init_container(expr: str) -> str:
    """The planted defect: an init container's name (kube_pod_container_status_ready has no init containers)."""
    return expr.replace(f'container="{VALIDATOR}"', 'container="driver-validation"')


SOURCES = ["platform-rules", "azure-alerts"]


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize("case", [validation_failing_across_a_gap, validation_passed_resolves_at_once],
                         ids=lambda c: c.__name__)
def test_a_gpu_node_whose_operator_validation_fails_is_told_on_both_paths(tmp_path, source, case):
    case(tmp_path, source)


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize("case, mutate", [
    pytest.param(validation_failing_across_a_gap, unbridged, id="unbridged"),
    pytest.param(validation_failing_across_a_gap, an_init_container, id="an-init-container"),
    pytest.param(validation_passed_resolves_at_once, window_lowest, id="held-by-the-lowest"),
])
def test_a_planted_defect_in_the_validation_alert_fails_its_case(tmp_path, source, case, mutate):
    planted_fails(lambda path, m: case(path, source, m), tmp_path, mutate)


def validation_names_the_node_of_a_pod_just_bound(tmp_path: Path, source: str,
                                                  mutate: Optional[Callable[[str], str]] = None) -> None:
    """kube-state-metrics reports a DaemonSet pod before it is bound with node="" (and no host or pod IP): within the
    window both that series and the bound one's are read, and the join still gives the pod one node (both would be
    two matches on the join's `one` side: an evaluation error for 10 minutes)."""
    series = operator_pods(source, "0x30")
    (bound,) = (k for k in series if k.startswith("kube_pod_info") and VALIDATOR_POD in k)
    series[bound.replace(GPU_NODE, "").replace("10.224.0.9", "").replace("10.244.3.7", "")] = "1 stale"
    series[bound] = "_ 1x29"
    (expr,) = [r["expr"] for name, doc in rule_files(variant("llmd")).items() if source in name
               for g in doc["groups"] for r in g["rules"] if r.get("alert") == "GpuOperatorValidationFailing"]
    promtool_test(tmp_path, {"groups": []}, series, promql_expr_test=[{
        "expr": mutate(expr) if mutate else expr, "eval_time": "5m",
        "exp_samples": [{"labels": f'{{namespace="gpu-operator",node="{GPU_NODE}",pod="{VALIDATOR_POD}"}}',
                         "value": 0}]}])


def any_node(expr: str) -> str:
    """The planted defect: kube_pod_info read whatever its node, unbound too."""
    return expr.replace(',node!=""', "")


@pytest.mark.parametrize("source", SOURCES)
def test_the_validation_alert_names_the_node_of_a_pod_just_bound(tmp_path, source):
    validation_names_the_node_of_a_pod_just_bound(tmp_path, source)
    planted_fails(lambda path, m: validation_names_the_node_of_a_pod_just_bound(path, source, m), tmp_path, any_node)


# ---- GpuNodeOffersNoGpus: a GPU pool's node whose allocatable nvidia.com/gpu never comes, or goes -----------------
# kube-state-metrics' node series (kubernetes/kube-state-metrics v2.20.0 internal/store/node.go): one
# kube_node_spec_taint per taint of the node (key, value, effect), one kube_node_status_allocatable per resource of
# status.allocatable (resource sanitized, unit), none for a resource the node does not list. GpuNodePool taints every
# GPU node nvidia.com/gpu=present:NoSchedule (gpu_node_pool.py `pool_taints`), a spot one also AKS's spot taint.

GPU_TAINT_LABELS = 'key="nvidia.com/gpu",value="present",effect="NoSchedule"'
SPOT_TAINT_LABELS = 'key="kubernetes.azure.com/scalesetpriority",value="spot",effect="NoSchedule"'
BROKEN, HEALTHY = "aks-gpu-31415926-vmss000002", "aks-gpu-31415926-vmss000003"
CPU_NODE = "aks-cpu-27182818-vmss000000"


def ksm_node(source: str, node: str, samples: str, gpus: Optional[str], gpu_pool: bool = True) -> dict[str, str]:
    """One node's series as the path's kube-state-metrics target reports them: its taints (a spot GPU node's two, a
    spot CPU node's one) and allocatable cpu at `samples`, its allocatable nvidia.com/gpu at `gpus` (None: the node
    lists no such resource, so no series)."""
    target = KSM_TARGET[source]
    taints = [GPU_TAINT_LABELS, SPOT_TAINT_LABELS] if gpu_pool else [SPOT_TAINT_LABELS]
    series = {f'kube_node_spec_taint{{node="{node}",{labels},{target}}}': samples for labels in taints}
    series[f'kube_node_status_allocatable{{node="{node}",resource="cpu",unit="core",{target}}}'] = \
        re.sub(r"\b1(?=x)", "7.8", samples)
    if gpus is not None:
        series[f'kube_node_status_allocatable{{node="{node}",resource="nvidia_com_gpu",unit="integer",{target}}}'] = \
            gpus
    return series


def no_gpus_firing(source: str, node: str = BROKEN) -> list[dict[str, str]]:
    return [{"node": node, **FIRING[source]}]


def gpu_nodes_on_aks_driver(tmp_path: Path, source: str, mutate: Optional[Callable[[str], str]] = None) -> None:
    """prod (AKS's driver, 8 minutes): a GPU node that never lists nvidia.com/gpu fires at 8 minutes, not at 7; a
    healthy one whose device plugin registers at 5 minutes, one whose plugin takes 7 (past the deploy model's
    pessimistic 4, within the wait), and a CPU node (no GPU taint, no GPU resource) never do; kube-state-metrics
    unscraped at 3 and 4 minutes does not start the wait again."""
    series = {**ksm_node(source, BROKEN, gap("1", 3, 26), None),
              **ksm_node(source, HEALTHY, gap("1", 3, 26), "_x5 8x25"),
              **ksm_node(source, OTHER_GPU_NODE, gap("1", 3, 26), "_x7 1x23"),
              **ksm_node(source, CPU_NODE, gap("1", 3, 26), None, gpu_pool=False)}
    alert_test(tmp_path, variant("prod"), "GpuNodeOffersNoGpus", series,
               {"7m": [], "9m": no_gpus_firing(source), "25m": no_gpus_firing(source)}, source, mutate)


def device_plugin_gone_on_aks_driver(tmp_path: Path, source: str,
                                     mutate: Optional[Callable[[str], str]] = None) -> None:
    """A node whose device plugin crashes at 20 minutes: the kubelet keeps the resource at 0 (healthy devices only
    count), which fires 8 minutes on; the plugin back at 35 minutes ends it at that scrape."""
    series = ksm_node(source, HEALTHY, "1x45", "1x19 0x15 1x10")
    alert_test(tmp_path, variant("prod"), "GpuNodeOffersNoGpus", series,
               {"19m": [], "27m": [], "29m": no_gpus_firing(source, HEALTHY), "36m": []}, source, mutate)


def gpu_nodes_on_gpu_operator(tmp_path: Path, source: str, mutate: Optional[Callable[[str], str]] = None) -> None:
    """llmd (the GPU Operator, 30 minutes): a node the operator never set up (no validator pod) fires at 30 minutes,
    not at 29; a node whose validator is not ready is GpuOperatorValidationFailing's, which names the step, so it
    does not fire here too; a node whose driver build ends at 14 minutes never does."""
    series = {**ksm_node(source, BROKEN, "1x45", None), **ksm_node(source, GPU_NODE, "1x45", None),
              **ksm_node(source, HEALTHY, "1x45", "_x14 1x31"),
              **gpu_operator_pod(source, VALIDATOR_POD, VALIDATOR, GPU_NODE, "0x45"),
              **gpu_operator_pod(source, f"{VALIDATOR}-h3n8c", VALIDATOR, HEALTHY, "0x14 1x31")}
    alert_test(tmp_path, variant("llmd"), "GpuNodeOffersNoGpus", series,
               {"29m": [], "31m": no_gpus_firing(source), "44m": no_gpus_firing(source)}, source, mutate)


GPU_NODE_CASES = (gpu_nodes_on_aks_driver, device_plugin_gone_on_aks_driver, gpu_nodes_on_gpu_operator)


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize("case", GPU_NODE_CASES, ids=lambda c: c.__name__)
def test_a_gpu_node_that_offers_no_gpus_is_told_on_both_paths_in_both_driver_modes(tmp_path, source, case):
    case(tmp_path, source)


def unbridged_taint(expr: str) -> str:
    """The planted defect: the taint read at the instant (no bridge over a failed scrape)."""
    return re.sub(r"max_over_time\((kube_node_spec_taint.*?)\[10m\]\)", r"\1", expr)


def absent_is_no_node(expr: str) -> str:
    """The planted defect: a 0 looked for, so a node listing no nvidia.com/gpu (no series) is never found."""
    return expr.replace("unless on (node) (max by (node) (last_over_time(kube_node_status_allocatable",
                        "and on (node) (max by (node) (last_over_time(kube_node_status_allocatable")


def resource_unsanitized(expr: str) -> str:
    """The planted defect: the resource as Kubernetes names it (kube-state-metrics sanitizes it)."""
    return expr.replace('resource="nvidia_com_gpu"', 'resource="nvidia.com/gpu"')


def window_highest_allocatable(expr: str) -> str:
    """The planted defect: the allocatable's highest in the window, which holds a crashed plugin's GPUs 10 minutes."""
    return expr.replace("last_over_time(kube_node_status_allocatable", "max_over_time(kube_node_status_allocatable")


def without_validation(expr: str) -> str:
    """The planted defect: the nodes GpuOperatorValidationFailing tells not left out (two pages for one node)."""
    if "kube_node_spec_taint" not in expr:  # the validation alert itself
        return expr
    return expr.split(" unless on (node) ((max by (namespace, pod)", 1)[0].removeprefix("(").removesuffix(")")


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize("case, mutate", [
    pytest.param(gpu_nodes_on_aks_driver, unbridged_taint, id="unbridged"),
    pytest.param(gpu_nodes_on_aks_driver, absent_is_no_node, id="absent-is-no-node"),
    pytest.param(gpu_nodes_on_aks_driver, resource_unsanitized, id="resource-unsanitized"),
    pytest.param(device_plugin_gone_on_aks_driver, window_highest_allocatable, id="held-by-the-highest"),
    pytest.param(gpu_nodes_on_gpu_operator, without_validation, id="twice-with-the-validation-alert"),
])
def test_a_planted_defect_in_the_gpu_node_alert_fails_its_case(tmp_path, source, case, mutate):
    planted_fails(lambda path, m: case(path, source, m), tmp_path, mutate)
