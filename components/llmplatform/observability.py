"""Observability: Azure Monitor wiring for the cluster (managed Prometheus and Container Insights data collection,
Azure alerts) and the in-cluster stack — kube-prometheus-stack with the platform's dashboards and alert rules, DCGM
GPU metrics, Prometheus Adapter (GPU memory as a custom metric) and KEDA with its HTTP add-on."""
from __future__ import annotations

from importlib import resources
from typing import Any, Optional, TypedDict

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random
from pulumi_azure_native import alertsmanagement, monitor
from typing_extensions import NotRequired

from .pins import DCGM_EXPORTER, KEDA, KEDA_HTTP_ADD_ON, KUBE_PROMETHEUS_STACK, PROMETHEUS_ADAPTER
from .monitoring import ADAPTER_GPU_RULE, azure_alert_rules, platform_alert_rules

from . import PACKAGE
from .key_vault import KeyVault
from .kube import helm_release, namespace

DASHBOARDS = resources.files(__package__).joinpath("data", "dashboards")
MONITORING_NS = "monitoring"
KEDA_NS = "keda"
PROMETHEUS_URL = f"http://kps-prometheus.{MONITORING_NS}.svc:9090"
INTERCEPTOR_HOST = f"keda-add-ons-http-interceptor-proxy.{KEDA_NS}.svc.cluster.local"
INTERCEPTOR_PORT = 8080
EXTERNAL_SCALER = f"keda-add-ons-http-external-scaler.{KEDA_NS}.svc.cluster.local:9090"


class ObservabilityArgs(TypedDict):
    kubernetes_provider: k8s.Provider
    cpu_node_selector: dict[str, str]
    location: str
    resource_group_name: pulumi.Input[str]
    name_prefix: str
    cluster_id: pulumi.Input[str]
    cluster_name: pulumi.Input[str]
    log_analytics_workspace_id: pulumi.Input[str]
    monitor_workspace_id: pulumi.Input[str]
    key_vault: KeyVault
    app_namespace: str
    action_group_id: NotRequired[Optional[pulumi.Input[str]]]
    postgres_server_id: NotRequired[pulumi.Input[str]]
    gpu_enabled: NotRequired[bool]
    gpu_driver: NotRequired[str]  # aks | operator (the GPU Operator ships its own DCGM exporter)
    gpu_node_selector: NotRequired[dict[str, str]]
    gpu_tolerations: NotRequired[list[dict[str, str]]]
    gateway_namespace: NotRequired[Optional[pulumi.Input[str]]]
    keda: NotRequired[bool]
    prometheus_retention: NotRequired[str]
    prometheus_storage_gib: NotRequired[int]
    grafana_storage_gib: NotRequired[int]
    latency_slo_seconds: NotRequired[int]
    error_ratio_slo: NotRequired[float]
    gpu_memory_alert_percent: NotRequired[int]
    vllm_dashboard: NotRequired[bool]
    request_timeout_seconds: NotRequired[int]
    cold_start_timeout_seconds: NotRequired[int]
    tags: NotRequired[dict[str, str]]


def dashboards(include_vllm: bool) -> dict[str, str]:
    """Dashboard file name -> JSON text, from the package's data/dashboards."""
    names = ["gpu.json", "llm-platform.json"] + (["vllm.json"] if include_vllm else [])
    return {n: DASHBOARDS.joinpath(n).read_text(encoding="utf-8") for n in names}


def kube_prometheus_values(node_selector: dict[str, str], retention: str, storage_gib: int,
                           grafana_storage_gib: int) -> dict[str, Any]:
    return {
        "fullnameOverride": "kps",
        "prometheus": {"prometheusSpec": {
            "nodeSelector": node_selector,
            "retention": retention,
            # pick up every ServiceMonitor/PodMonitor/PrometheusRule, not only the chart's own
            "serviceMonitorSelectorNilUsesHelmValues": False,
            "podMonitorSelectorNilUsesHelmValues": False,
            "ruleSelectorNilUsesHelmValues": False,
            "storageSpec": {"volumeClaimTemplate": {"spec": {
                "storageClassName": "managed-csi-premium", "accessModes": ["ReadWriteOnce"],
                "resources": {"requests": {"storage": f"{storage_gib}Gi"}}}}},
        }},
        "alertmanager": {"alertmanagerSpec": {"nodeSelector": node_selector}},
        "prometheusOperator": {"nodeSelector": node_selector},
        "kube-state-metrics": {"nodeSelector": node_selector,
                               "metricLabelsAllowlist": ["nodes=[kubernetes.azure.com/scalesetpriority,agentpool]"]},
        "grafana": {
            "nodeSelector": node_selector,
            # the admin password is a random value kept in Key Vault, handed over in this Secret (no fixed password)
            "admin": {"existingSecret": "grafana-admin", "userKey": "admin-user", "passwordKey": "admin-password"},
            # the cluster's default storage class (AKS: managed-csi); the chart documents storageClassName only
            # as a comment, so it is not set here
            "persistence": {"enabled": True, "size": f"{grafana_storage_gib}Gi"},
            "sidecar": {"dashboards": {"enabled": True, "label": "grafana_dashboard", "labelValue": "1",
                                       "searchNamespace": "ALL"}},
        },
    }


def dcgm_values(node_selector: dict[str, str], tolerations: list[dict[str, str]]) -> dict[str, Any]:
    # Our own ServiceMonitor (validated against its CRD) replaces the chart's.
    return {"nodeSelector": node_selector, "tolerations": tolerations, "serviceMonitor": {"enabled": False}}


def adapter_values(node_selector: dict[str, str]) -> dict[str, Any]:
    return {"prometheus": {"url": f"http://kps-prometheus.{MONITORING_NS}.svc", "port": 9090},
            "nodeSelector": node_selector,
            "rules": {"default": False, "custom": [ADAPTER_GPU_RULE]}}


def keda_http_values(node_selector: dict[str, str], timeout_s: int, cold_start_s: int, replicas: int
                     ) -> dict[str, Any]:
    """Interceptor timeouts sized for LLM answers (its defaults cut long responses) and GPU cold starts."""
    return {
        "interceptor": {"nodeSelector": node_selector, "requestTimeout": f"{timeout_s}s",
                        "responseHeaderTimeout": f"{timeout_s}s",
                        "replicas": {"min": replicas, "waitTimeout": f"{cold_start_s}s"}},
        "scaler": {"nodeSelector": node_selector},
        "operator": {"nodeSelector": node_selector},
    }


class Observability(pulumi.ComponentResource):
    prometheus_url: str
    """In-cluster Prometheus (kube-prometheus-stack) URL."""
    grafana_service: str
    """In-cluster Grafana service (`kubectl -n monitoring port-forward svc/kps-grafana 3000:80`)."""
    grafana_password_secret: str
    """Key Vault secret holding the Grafana admin password."""
    keda_ready: list[pulumi.Resource]
    """KEDA releases autoscaling objects wait for (empty when KEDA is off)."""
    ready: list[pulumi.Resource]
    """The monitoring stack (CRDs for ServiceMonitor/PrometheusRule, the adapter)."""

    def __init__(self, name: str, args: ObservabilityArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__(f"{PACKAGE}:index:Observability", name, None, opts)
        self._args = args
        self._azure(name)
        self._in_cluster(name)
        self.register_outputs({"prometheus_url": self.prometheus_url, "grafana_service": self.grafana_service})

    # ---- Azure Monitor ----------------------------------------------------------------------------------------
    def _azure(self, name: str) -> None:
        a = self._args
        child = pulumi.ResourceOptions(parent=self)
        rg, location, prefix, tags = a["resource_group_name"], a["location"], a["name_prefix"], a.get("tags", {})
        endpoint = monitor.DataCollectionEndpoint(
            f"{name}-dce", data_collection_endpoint_name=f"dce-{prefix}", resource_group_name=rg, location=location,
            kind=monitor.KnownDataCollectionEndpointResourceKind.LINUX, tags=tags, opts=child)
        prometheus_rule = monitor.DataCollectionRule(
            f"{name}-dcr-prometheus", data_collection_rule_name=f"dcr-{prefix}-prometheus", resource_group_name=rg,
            location=location, kind=monitor.KnownDataCollectionRuleResourceKind.LINUX,
            data_collection_endpoint_id=endpoint.id,
            data_sources=monitor.DataCollectionRuleDataSourcesArgs(prometheus_forwarder=[
                monitor.PrometheusForwarderDataSourceArgs(
                    name="PrometheusDataSource",
                    streams=[monitor.KnownPrometheusForwarderDataSourceStreams.MICROSOFT_PROMETHEUS_METRICS])]),
            destinations=monitor.DataCollectionRuleDestinationsArgs(monitoring_accounts=[
                monitor.MonitoringAccountDestinationArgs(account_resource_id=a["monitor_workspace_id"],
                                                         name="MonitoringAccount")]),
            data_flows=[monitor.DataFlowArgs(streams=["Microsoft-PrometheusMetrics"],
                                             destinations=["MonitoringAccount"])],
            tags=tags, opts=child)
        insights_rule = monitor.DataCollectionRule(
            f"{name}-dcr-insights", data_collection_rule_name=f"dcr-{prefix}-insights", resource_group_name=rg,
            location=location, kind=monitor.KnownDataCollectionRuleResourceKind.LINUX,
            data_sources=monitor.DataCollectionRuleDataSourcesArgs(extensions=[monitor.ExtensionDataSourceArgs(
                name="ContainerInsightsExtension", extension_name="ContainerInsights",
                streams=["Microsoft-ContainerInsights-Group-Default"],
                extension_settings={"dataCollectionSettings": {
                    "interval": "1m", "namespaceFilteringMode": "Off", "enableContainerLogV2": True}})]),
            destinations=monitor.DataCollectionRuleDestinationsArgs(log_analytics=[
                monitor.LogAnalyticsDestinationArgs(workspace_resource_id=a["log_analytics_workspace_id"],
                                                    name="ciworkspace")]),
            data_flows=[monitor.DataFlowArgs(streams=["Microsoft-ContainerInsights-Group-Default"],
                                             destinations=["ciworkspace"])],
            tags=tags, opts=child)
        # The AKS metrics add-on reads its configuration through this association name.
        monitor.DataCollectionRuleAssociation(
            f"{name}-dcra-endpoint", association_name="configurationAccessEndpoint", resource_uri=a["cluster_id"],
            data_collection_endpoint_id=endpoint.id, opts=child)
        for rule, label in ((prometheus_rule, "prometheus"), (insights_rule, "insights")):
            monitor.DataCollectionRuleAssociation(
                f"{name}-dcra-{label}", association_name=f"dcra-{prefix}-{label}", resource_uri=a["cluster_id"],
                data_collection_rule_id=rule.id, opts=child)

        group = a.get("action_group_id")
        actions = [alertsmanagement.PrometheusRuleGroupActionArgs(action_group_id=group)] if group else None
        alertsmanagement.PrometheusRuleGroup(
            f"{name}-azure-alerts", rule_group_name=f"prg-{prefix}-platform", resource_group_name=rg,
            location=location, cluster_name=a["cluster_name"], interval="PT1M", enabled=True,
            scopes=[a["monitor_workspace_id"], a["cluster_id"]],
            description="LLM platform: nodes, GPU capacity, crash loops",
            rules=[alertsmanagement.PrometheusRuleArgs(
                alert=r["alert"], expression=r["expression"], for_=r["for"], severity=r["severity"], enabled=True,
                labels={"platform": "llm"}, actions=actions) for r in azure_alert_rules()],
            tags=tags, opts=child)
        if a.get("postgres_server_id") is not None:
            monitor.MetricAlert(
                f"{name}-postgres-storage", rule_name=f"alert-{prefix}-postgres-storage", resource_group_name=rg,
                location="global", description="PostgreSQL storage above 80 %", severity=2, enabled=True,
                scopes=[a["postgres_server_id"]], evaluation_frequency="PT5M", window_size="PT15M",
                criteria=monitor.MetricAlertSingleResourceMultipleMetricCriteriaArgs(
                    odata_type="Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria",
                    all_of=[monitor.MetricCriteriaArgs(
                        name="storage-percent", metric_name="storage_percent", operator=monitor.Operator.GREATER_THAN,
                        threshold=80, time_aggregation=monitor.AggregationTypeEnum.AVERAGE,
                        criterion_type=monitor.CriterionType.STATIC_THRESHOLD_CRITERION)]),
                actions=[monitor.MetricAlertActionArgs(action_group_id=group)] if group else None,
                tags=tags, opts=child)

    # ---- in the cluster ---------------------------------------------------------------------------------------
    def _in_cluster(self, name: str) -> None:
        a = self._args
        provider = a["kubernetes_provider"]
        k8s_opts = pulumi.ResourceOptions(parent=self, provider=provider)
        cpu = a["cpu_node_selector"]
        ns = namespace(f"{name}-ns", MONITORING_NS, "privileged", k8s_opts)  # node-exporter needs host access

        password = random.RandomPassword(f"{name}-grafana-password", length=32, special=False,
                                         opts=pulumi.ResourceOptions(parent=self))
        secret_password = pulumi.Output.secret(password.result)
        self.grafana_password_secret = "grafana-admin-password"
        a["key_vault"].secret(self.grafana_password_secret, secret_password, "text/plain")
        admin = k8s.core.v1.Secret(
            f"{name}-grafana-admin", metadata=k8s.meta.v1.ObjectMetaArgs(name="grafana-admin",
                                                                         namespace=ns.metadata.name),
            type="Opaque", string_data={"admin-user": "admin", "admin-password": secret_password}, opts=k8s_opts)
        stack = helm_release(f"{name}-kube-prometheus-stack", KUBE_PROMETHEUS_STACK, ns.metadata.name,
                             kube_prometheus_values(cpu, a.get("prometheus_retention", "15d"),
                                                    a.get("prometheus_storage_gib", 20),
                                                    a.get("grafana_storage_gib", 5)),
                             pulumi.ResourceOptions(parent=self, provider=provider, depends_on=[admin]))
        after_stack = pulumi.ResourceOptions(parent=self, provider=provider, depends_on=[stack])
        for file_name, text in dashboards(a.get("vllm_dashboard", False)).items():
            k8s.core.v1.ConfigMap(
                f"{name}-dashboard-{file_name.removesuffix('.json')}",
                metadata=k8s.meta.v1.ObjectMetaArgs(name=f"dashboard-{file_name.removesuffix('.json')}",
                                                    namespace=ns.metadata.name, labels={"grafana_dashboard": "1"}),
                data={file_name: text}, opts=k8s_opts)
        k8s.apiextensions.CustomResource(
            f"{name}-platform-rules", api_version="monitoring.coreos.com/v1", kind="PrometheusRule",
            metadata=k8s.meta.v1.ObjectMetaArgs(name="llm-platform", namespace=ns.metadata.name),
            spec={"groups": [{"name": "llm-platform", "rules": platform_alert_rules(
                a["app_namespace"], a.get("gpu_memory_alert_percent", 90), a.get("error_ratio_slo", 0.05),
                a.get("latency_slo_seconds", 30))}]},
            opts=after_stack)
        if a.get("gateway_namespace") is not None:
            # Envoy's Prometheus endpoint on every Istio gateway pod: request counts, codes, latency histograms
            k8s.apiextensions.CustomResource(
                f"{name}-gateway-monitor", api_version="monitoring.coreos.com/v1", kind="PodMonitor",
                metadata=k8s.meta.v1.ObjectMetaArgs(name="istio-gateways", namespace=ns.metadata.name),
                spec={"namespaceSelector": {"matchNames": [a["gateway_namespace"]]},
                      "selector": {"matchExpressions": [{"key": "gateway.networking.k8s.io/gateway-name",
                                                         "operator": "Exists"}]},
                      "podMetricsEndpoints": [{"port": "http-envoy-prom", "path": "/stats/prometheus",
                                               "interval": "15s"}]},
                opts=after_stack)
        self._gpu_metrics(name, ns.metadata.name, after_stack)
        adapter = helm_release(f"{name}-prometheus-adapter", PROMETHEUS_ADAPTER, ns.metadata.name,
                               adapter_values(cpu), after_stack)
        self.keda_ready = self._keda(name, after_stack) if a.get("keda", True) else []
        self.ready = [stack, adapter]
        self.prometheus_url = PROMETHEUS_URL
        self.grafana_service = f"{MONITORING_NS}/kps-grafana"

    def _gpu_metrics(self, name: str, ns: pulumi.Output[str], after_stack: pulumi.ResourceOptions) -> None:
        a = self._args
        if not a.get("gpu_enabled", False):
            return
        if a.get("gpu_driver", "aks") == "operator":
            target_ns, selector, port = "gpu-operator", {"app": "nvidia-dcgm-exporter"}, "gpu-metrics"
        else:
            helm_release(f"{name}-dcgm-exporter", DCGM_EXPORTER, ns,
                         dcgm_values(a.get("gpu_node_selector", {}), a.get("gpu_tolerations", [])), after_stack)
            target_ns, selector, port = MONITORING_NS, {"app.kubernetes.io/name": "dcgm-exporter"}, "metrics"
        k8s.apiextensions.CustomResource(
            f"{name}-dcgm-monitor", api_version="monitoring.coreos.com/v1", kind="ServiceMonitor",
            metadata=k8s.meta.v1.ObjectMetaArgs(name="dcgm-exporter", namespace=ns),
            spec={"namespaceSelector": {"matchNames": [target_ns]}, "selector": {"matchLabels": selector},
                  # keep the exporter's own pod/namespace labels (the GPU's workload), not the exporter's
                  "endpoints": [{"port": port, "interval": "15s", "honorLabels": True}]},
            opts=after_stack)

    def _keda(self, name: str, after_stack: pulumi.ResourceOptions) -> list[pulumi.Resource]:
        a = self._args
        provider = a["kubernetes_provider"]
        cpu = a["cpu_node_selector"]
        ns = namespace(f"{name}-keda-ns", KEDA_NS, "baseline", pulumi.ResourceOptions(parent=self,
                                                                                       provider=provider))
        core = helm_release(f"{name}-keda", KEDA, ns.metadata.name,
                            {"nodeSelector": cpu, "prometheus": {"operator": {"enabled": True}}}, after_stack)
        http = helm_release(f"{name}-keda-http", KEDA_HTTP_ADD_ON, ns.metadata.name,
                            keda_http_values(cpu, a.get("request_timeout_seconds", 600),
                                             a.get("cold_start_timeout_seconds", 1200), 1),
                            pulumi.ResourceOptions(parent=self, provider=provider, depends_on=[core]),
                            release_name="keda-add-ons-http")
        k8s.apiextensions.CustomResource(
            f"{name}-keda-monitor", api_version="monitoring.coreos.com/v1", kind="PodMonitor",
            metadata=k8s.meta.v1.ObjectMetaArgs(name="keda-operator", namespace=MONITORING_NS),
            spec={"namespaceSelector": {"matchNames": [KEDA_NS]},
                  "selector": {"matchLabels": {"app.kubernetes.io/name": "keda-operator"}},
                  "podMetricsEndpoints": [{"port": "metrics", "interval": "15s"}]},
            opts=after_stack)
        return [core, http]

