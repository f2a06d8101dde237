"""Observability (components/llmplatform/observability.py): dashboards that query only the metrics the platform's
exporters emit, kube-prometheus-stack, DCGM on GPU nodes, what is scraped."""
from __future__ import annotations

import json
import re
import tomllib

import promql_parser
import pytest
import yaml
from llmplatform.observability import DASHBOARDS as DASHBOARDS_DIR

from tests.conftest import upstream_dir, variant
from tests.metric_catalog import check_query, legend_labels
from tests.components.test_metric_sources import in_cluster_catalog


def assert_known(query: str, where: str) -> None:
    """Every metric and label of an in-cluster query is one the real exporters emit, as scraped
    (tests/metric_catalog)."""
    check_query(query, in_cluster_catalog(), where)


def dashboard_queries(doc: dict) -> list[str]:
    return [t["expr"] for p in doc["panels"] for t in p.get("targets", [])]


def release(plan, chart):
    return next(r for r in plan.helm_releases() if r.inputs["chart"] == chart)


@pytest.mark.parametrize("file_name", sorted(p.name for p in DASHBOARDS_DIR.iterdir() if p.name.endswith(".json")))
def test_each_dashboard_parses_and_queries_only_real_metrics(file_name):
    doc = json.loads(DASHBOARDS_DIR.joinpath(file_name).read_text())
    assert doc["uid"] and doc["title"] and doc["panels"]
    targets = [t for p in doc["panels"] for t in p.get("targets", [])]
    assert targets
    for target in targets:
        q = target["expr"]
        check_query(q.replace("$namespace", "llm"), in_cluster_catalog(), f"{file_name}: {q}",
                    legend_labels(target.get("legendFormat", "")))


def test_metric_checker_catches_an_unknown_metric():
    with pytest.raises(AssertionError):
        assert_known("rate(ollama_requests_total[5m])", "test")
    with pytest.raises(AssertionError):  # the v0 engine's name, gone from vLLM 0.19.1
        assert_known("max(vllm:gpu_cache_usage_perc)", "test")
    with pytest.raises(AssertionError):  # Envoy Gateway's label, not Istio's
        assert_known('sum(rate(istio_requests_total{envoy_response_code="500"}[5m]))', "test")
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


def test_in_flight_panel_reads_the_in_flight_trigger_only(dev):
    """keda_scaler_metrics_value has one series per trigger (label `scaler`: the trigger's name, else its Go type;
    kedacore/keda v2.20.2 pkg/scaling/scale_handler.go): without the filter the panel showed the GPU-memory percent
    or CPU trigger's value as in-flight requests."""
    spec = dev.one("kubernetes:keda.sh/v1alpha1:ScaledObject").inputs["spec"]
    (push,) = [t for t in spec["triggers"] if t["type"] == "external-push"]
    overview = json.loads(DASHBOARDS_DIR.joinpath("llm-platform.json").read_text())
    (expr,) = [q for q in dashboard_queries(overview) if "keda_scaler_metrics_value" in q]
    assert f'scaledObject="{dev.one("kubernetes:keda.sh/v1alpha1:ScaledObject").inputs["metadata"]["name"]}"' in expr
    assert f'scaler="{push["name"]}"' in expr and len(spec["triggers"]) > 1


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
    # the target's pod/namespace/container go: a GPU no pod holds has none, not the exporter pod's
    assert monitor["endpoints"][0]["relabelings"] == [{"action": "labeldrop", "regex": "pod|namespace|container"}]


def test_operator_mode_scrapes_the_operators_dcgm_exporter():
    plan = variant("dev-operator")
    assert not any(r.inputs["chart"] == "dcgm-exporter" for r in plan.helm_releases())
    spec = plan.one("kubernetes:monitoring.coreos.com/v1:ServiceMonitor").inputs["spec"]
    assert spec["namespaceSelector"]["matchNames"] == ["gpu-operator"]


def test_gateway_and_keda_are_scraped(dev):
    monitors = {r.inputs["metadata"]["name"]: r.inputs["spec"]
                for r in dev.of_type("kubernetes:monitoring.coreos.com/v1:PodMonitor")}
    assert monitors["istio-gateways"]["podMetricsEndpoints"][0]["port"] == "http-envoy-prom"
    assert monitors["keda-operator"]["namespaceSelector"]["matchNames"] == ["keda"]
    assert re.fullmatch(r"\d+s", monitors["keda-operator"]["podMetricsEndpoints"][0]["interval"])


def test_grafana_reads_configmaps_and_secrets_of_its_own_namespace_only(prod):
    """The Grafana chart (kube-prometheus-stack's subchart) gives its service account get/list/watch on configmaps
    AND secrets cluster-wide (a ClusterRole) unless `rbac.namespaced` (then a Role in its namespace;
    grafana/helm-charts templates/clusterrole.yaml, role.yaml), and kube-prometheus-stack's default dashboard
    sidecar searches ALL namespaces: a compromised Grafana pod read every Secret in the cluster (the gateway's TLS
    key, the ACME account key). Every dashboard the platform ships is a ConfigMap in the monitoring namespace."""
    values = release(prod, "kube-prometheus-stack").inputs["values"]["grafana"]
    assert values["rbac"]["namespaced"] is True
    assert values["sidecar"]["dashboards"]["searchNamespace"] == "monitoring"
    boards = [r.inputs["metadata"] for r in variant("llmd").of_type("kubernetes:core/v1:ConfigMap")
              if r.inputs["metadata"].get("labels", {}).get("grafana_dashboard") == "1"]
    assert boards and {b["namespace"] for b in boards} == {"monitoring"}


# ---- the KEDA HTTP interceptor's NetworkPolicies ---------------------------------------------------------------------

def _cluster(name):
    from tests.components.test_kube import Cluster
    return Cluster(variant(name))


def test_interceptor_selectors_match_the_charts_pod_labels():
    """The policies select the interceptor and the scaler by the labels the pinned chart's templates render for its
    release (tests/upstream/recipes/keda-add-ons-http-pod-labels.txt): and the one does not select the other, so the
    interceptor's isolation leaves the scaler, the operator, the metrics apiserver and the webhooks alone."""
    from llmplatform.observability import INTERCEPTOR_POD_LABELS, KEDA_HTTP_RELEASE, SCALER_POD_LABELS
    from llmplatform.testing.network_policy import selects
    from tests.network_policy import keda_http_pod_labels
    plan = variant("dev")
    release_name = release(plan, "keda-add-ons-http").inputs["name"]
    assert release_name == KEDA_HTTP_RELEASE
    interceptor, scaler = (keda_http_pod_labels(c, release_name) for c in ("interceptor", "scaler"))
    assert selects({"matchLabels": INTERCEPTOR_POD_LABELS}, interceptor)
    assert selects({"matchLabels": SCALER_POD_LABELS}, scaler)
    assert not selects({"matchLabels": INTERCEPTOR_POD_LABELS}, scaler)
    assert not selects({"matchLabels": SCALER_POD_LABELS}, interceptor)


def test_interceptor_ports_are_the_charts():
    import yaml
    from llmplatform.observability import INTERCEPTOR_ADMIN_PORT, INTERCEPTOR_PORT
    from tests.conftest import UPSTREAM
    values = yaml.safe_load((UPSTREAM / "charts" / "keda-add-ons-http" / "values.yaml").read_text())
    assert (values["interceptor"]["proxy"]["port"], values["interceptor"]["admin"]["port"]) == (
        INTERCEPTOR_PORT, INTERCEPTOR_ADMIN_PORT)


@pytest.mark.parametrize("name", ["dev", "dev-gpu", "prod"])
def test_only_the_gate_reaches_the_interceptor_proxy(name):
    """No pod but the Ollama namespace's gate gets past the interceptor to Ollama (the gate's key and 429 would be
    skipped; the interceptor routes by Host header, so a UI admitted there could name another namespace's model
    server): the UI reaches it through the gate's UI listener; the scaler still reads the interceptor's admin port;
    Ollama accepts the interceptor, not KEDA's other pods."""
    from llmplatform.observability import INTERCEPTOR_ADMIN_PORT, INTERCEPTOR_METRICS_PORT, INTERCEPTOR_PORT
    from llmplatform.testing.network_policy import Pod, allowed
    from tests.network_policy import keda_http_pod_labels
    cluster = _cluster(name)
    interceptor = Pod("keda", keda_http_pod_labels("interceptor"))
    scaler = Pod("keda", keda_http_pod_labels("scaler"))
    pods = {workload: pod for workload, pod, _ in cluster.pods_in("llm")}

    def admits(source, port):
        return allowed(cluster.policies, "Ingress", interceptor, source, port, cluster.namespaces)
    assert admits(pods["router"], INTERCEPTOR_PORT)
    assert "open-webui" in pods
    strangers = [pods["open-webui"], pods["ollama"],
                 *(p for w, p in pods.items() if w.startswith(("model-preload", "open-webui-migrate"))),
                 Pod("default", {"app.kubernetes.io/name": "router"}), Pod("monitoring", {}), scaler,
                 Pod("keda", {"app.kubernetes.io/name": "keda-operator"})]
    assert not [s for s in strangers if admits(s, INTERCEPTOR_PORT)]
    assert admits(scaler, INTERCEPTOR_ADMIN_PORT)
    assert not admits(pods["router"], INTERCEPTOR_ADMIN_PORT)
    assert admits(Pod("monitoring", {"app.kubernetes.io/name": "prometheus"}), INTERCEPTOR_METRICS_PORT)
    ollama = pods["ollama"]
    assert allowed(cluster.policies, "Ingress", ollama, interceptor, 11434, cluster.namespaces)
    assert not allowed(cluster.policies, "Ingress", ollama, scaler, 11434, cluster.namespaces)
    # KEDA's own pods stay unselected: the control plane's calls to its metrics apiserver and webhooks arrive through
    # AKS's tunnel, from addresses no policy could name
    for other in (scaler, Pod("keda", {"app": "keda-operator-metrics-apiserver"}),
                  Pod("keda", {"app": "keda-admission-webhooks"})):
        assert allowed(cluster.policies, "Ingress", other, Pod("kube-system", {"app": "konnectivity-agent"}), 6443,
                       cluster.namespaces)


@pytest.mark.parametrize("own", [True, False], ids=["own-keda", "observabilitys-keda"])
def test_a_model_server_admits_the_interceptor_pods_its_keda_handle_names(own):
    """A KEDA installed otherwise (another release name, another chart) hands its interceptor pods' labels in the
    handle: the model server's ingress and the client namespace's opening of the proxy port select those pods, not
    the labels Observability's release gives them (which would admit nothing of another install). Without the field,
    Observability's labels."""
    from llmplatform import ModelAutoscaler, OllamaServer
    from llmplatform.observability import INTERCEPTOR_POD_LABELS
    from offline import runner as offline
    from tests.components.test_components_alone import KEDA, REQUIRED, provider_opts

    labels = {"app": "my-interceptor"}
    keda = {**KEDA, "interceptor_pod_labels": labels} if own else KEDA
    def program() -> None:
        opts = provider_opts()
        server = OllamaServer("ol", {**REQUIRED["OllamaServer"](), "keda": keda}, opts)
        ModelAutoscaler("ol", {"model_server": server.model_server, "keda": keda, "mode": "requests",
                               "min_replicas": 1, "max_replicas": 2}, opts)  # the interceptor's route
    plan = offline.run_function(program)
    wanted = labels if own else INTERCEPTOR_POD_LABELS
    policies = {r.name: r.inputs for r in plan.of_type("kubernetes:networking.k8s.io/v1:NetworkPolicy")}
    ingress = policies["ol-ollama-netpol"]["spec"]["ingress"][0]["from"]
    assert any(peer.get("podSelector", {}).get("matchLabels") == wanted for peer in ingress), ingress
    assert policies["ol-interceptor-clients"]["spec"]["podSelector"]["matchLabels"] == wanted


def panel(file_name: str, title: str) -> dict:
    doc = json.loads(DASHBOARDS_DIR.joinpath(file_name).read_text())
    return next(p for p in doc["panels"] if p["title"] == title)


def shown(panel_: dict, series, namespace: str = "llm") -> dict[str, float]:
    """What a panel draws over modelled series: legend -> value (tests/promql_eval.py)."""
    from tests.promql_eval import evaluate, render_legend
    drawn: dict[str, float] = {}
    for target in panel_["targets"]:
        for labels, value in evaluate(target["expr"].replace("$namespace", namespace), series):
            drawn[render_legend(target.get("legendFormat", ""), labels)] = value
    return drawn


def aks_node(name: str, spot: bool, gpus: int) -> list:
    """kube-state-metrics' series of an AKS node (node-metrics.md: kube_node_labels carries label_<key> for the
    allowlisted keys the node has; kube_node_status_capacity one series per resource, an extended resource's name
    sanitised). AKS labels a spot pool's nodes kubernetes.azure.com/scalesetpriority=spot and a regular pool's with no
    such label (MicrosoftDocs/azure-aks-docs a75aabed articles/aks/spot-node-pool.md, use-labels.md)."""
    labels = {"__name__": "kube_node_labels", "node": name, "label_agentpool": name.split("-")[0]}
    if spot:
        labels |= {"label_kubernetes_azure_com_scalesetpriority": "spot", "label_kubernetes_azure_com_priority": "spot"}
    capacity = [({"__name__": "kube_node_status_capacity", "node": name, "resource": "cpu", "unit": "core"}, 8.0)]
    if gpus:
        capacity.append(({"__name__": "kube_node_status_capacity", "node": name, "resource": "nvidia_com_gpu",
                          "unit": "integer"}, float(gpus)))
    return [(labels, 1.0)] + capacity


def test_gpu_node_panel_counts_spot_and_on_demand_gpu_nodes():
    """The panel promises spot vs on-demand GPU nodes: a regular pool's nodes carry no scalesetpriority label, so a
    query grouping by it showed spot nodes only, CPU spot nodes among them."""
    series = (aks_node("gpuspot-0", True, 1) + aks_node("gpuspot-1", True, 1) + aks_node("gpu-0", False, 1)
              + aks_node("cpuspot-0", True, 0) + aks_node("cpu-0", False, 0))
    assert shown(panel("gpu.json", "GPU nodes (spot and on-demand)"), series) == {"spot": 2, "on-demand": 1}


def test_in_flight_panel_shows_the_dashboards_namespace_only():
    """Several InferenceStacks on one cluster each have a ScaledObject ollama-scaler; KEDA's series carry the
    ScaledObject's namespace, exported_namespace once the keda-operator PodMonitor adds its own (keda-operator.tsv,
    prometheus-operator-target-labels.tsv)."""
    def value(namespace, scaler, v):
        return ({"__name__": "keda_scaler_metrics_value", "namespace": "keda", "pod": "keda-operator-0",
                 "exported_namespace": namespace, "scaledObject": "ollama-scaler", "scaler": scaler,
                 "metric": "s0-x", "triggerIndex": "0", "type": "scaledobject"}, v)
    series = [value("llm", "in-flight-requests", 3.0), value("team", "in-flight-requests", 7.0),
              value("llm", "cpu", 55.0)]
    in_flight = panel("llm-platform.json", "In-flight model requests at the KEDA interceptor")
    assert list(shown(in_flight, series, "llm").values()) == [3.0]
    assert list(shown(in_flight, series, "team").values()) == [7.0]


def agent_config_template() -> dict:
    """Container Insights' agent ConfigMap as Microsoft ships it (microsoft/Docker-Provider 3.1.24
    kubernetes/container-azm-ms-agentconfig.yaml), each setting at the value the agent takes when it is absent."""
    return yaml.safe_load((upstream_dir() / "azure-container-insights" / "container-azm-ms-agentconfig.yaml")
                          .read_text())


def test_container_insights_sends_every_kind_of_event_as_its_agent_reads_its_configmap(prod):
    """Seed 000 watched autoscaling events in Azure Monitor. Container Insights' agent sends Normal events
    (SuccessfulRescale, TriggeredScaleUp, Scheduled) to KubeEvents only when its ConfigMap says so; read here as its
    parser reads it (Docker-Provider 3.1.24 build/common/installer/scripts/tomlparser.rb: TOML, schema v1), and
    held to Microsoft's template: each data key and each section is read only when present (tomlparser.rb 204-558,
    the other keys by parsers of their own), so one more than these would change what else the agent collects."""
    agent = prod.one("kubernetes:core/v1:ConfigMap", "observability-insights-agent-config").inputs
    template = agent_config_template()
    assert (agent["metadata"]["name"], agent["metadata"]["namespace"]) == (template["metadata"]["name"],
                                                                           template["metadata"]["namespace"])
    assert set(agent["data"]) == {"schema-version", "config-version", "log-data-collection-settings"}
    assert agent["data"]["schema-version"] == template["data"]["schema-version"]  # else all of it is ignored
    settings = tomllib.loads(agent["data"]["log-data-collection-settings"])
    defaults = tomllib.loads(template["data"]["log-data-collection-settings"])["log_collection_settings"]
    assert defaults["collect_all_kube_events"] == {"enabled": False}
    # the stdout and stderr sections restate Microsoft's default exclusions (a section without them collects
    # kube-system's logs); the one switch turned is collect_all_kube_events
    assert settings == {"log_collection_settings": {"stdout": defaults["stdout"], "stderr": defaults["stderr"],
                                                    "collect_all_kube_events": {"enabled": True}}}
