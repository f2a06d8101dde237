"""Observability: Azure Monitor wiring for the cluster (managed Prometheus and Container Insights data collection,
Azure alerts) and the in-cluster stack — kube-prometheus-stack with the platform's dashboards and alert rules, DCGM
GPU metrics, Prometheus Adapter (GPU memory as a custom metric) and KEDA with its HTTP add-on."""
import json
from importlib import resources
from typing import Any, Mapping, Optional, TypedDict

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random
from pulumi_azure_native import alertsmanagement, monitor
from typing_extensions import NotRequired

from .pins import DCGM_EXPORTER, KEDA, KEDA_HTTP_ADD_ON, KUBE_PROMETHEUS_STACK, PROMETHEUS_ADAPTER
from .monitoring import (ADAPTER_GPU_RULE, KSM_NODE_LABELS, MODEL_SHARE_FULL_PERCENT, FallbackPool,
                         azure_alert_rules, platform_alert_rules, share_full_bytes)

from . import PACKAGE
from .checks import DRAIN_FIELDS, after_check, called_as_documented, check_shape, late_rules, late_rules_of
from .defaults import defaults_for
from .inference_specs import interceptor_grace_seconds, wait_budget_seconds
from .handles import (ClusterHandle, GpuScheduling, KedaEndpoints, ModelShare, MonitoringHandle, RouteTarget,
                      Toleration, VaultHandle, field, known)
from .gpu_node_pool import gpu_node_selector, gpu_tolerations
from .inference_specs import SECRETS_MOUNT, key_vault_objects
from .key_vault import grant_secrets_user, vault_secret
from .kube import (allow_ingress, cilium_egress_guard, cpu_placement, egress_guard, helm_release, namespace,
                   namespace_peer, require_kubernetes_provider, secret_provider_class)
from .naming import secret_name
from .workload_identity import USE_LABEL, WorkloadIdentity
from .input_rules.smaller import INSIGHTS_AGENT_SECTIONS
from .route_guard import route_guard
from .keda_http import (INTERCEPTOR_ADMIN_PORT, INTERCEPTOR_METRICS_PORT, INTERCEPTOR_POD_LABELS, INTERCEPTOR_PORT,
                        KEDA_HTTP_RELEASE, SCALER_POD_LABELS)

opt = defaults_for("Observability")  # optional inputs: the caller's value, else the default

DASHBOARDS = resources.files(__package__).joinpath("data", "dashboards")
RECORDING_RULES = resources.files(__package__).joinpath("data", "azure_recording_rules.json")
MONITORING_NS = "monitoring"
# What Container Insights sends to Log Analytics: its tables (azure-monitor-docs containers/kubernetes-monitoring-
# enable.md, "Stream values"; the group stream Microsoft-ContainerInsights-Group-Default is all of them) less Perf and
# InsightsMetrics, the node, pod and container metrics the managed Prometheus rule beside it already collects: sent
# both ways they are ingested, and billed, twice (Microsoft: "Logs and events ... Recommended if you have enabled
# managed Prometheus metrics"; "stop ingesting metrics to Log Analytics to save on billing",
# container-insights-experience-v2.md). ContainerLogV2 alone holds the container logs (enableContainerLogV2).
CONTAINER_INSIGHTS_STREAMS = ["Microsoft-ContainerLogV2", "Microsoft-KubeEvents", "Microsoft-KubePodInventory",
                              "Microsoft-KubeNodeInventory", "Microsoft-KubePVInventory", "Microsoft-KubeServices",
                              "Microsoft-KubeMonAgentEvents", "Microsoft-ContainerInventory",
                              "Microsoft-ContainerNodeInventory"]
# Container Insights' agent reads one ConfigMap per cluster, this one (microsoft/Docker-Provider
# kubernetes/container-azm-ms-agentconfig.yaml, build/common/installer/scripts/tomlparser.rb). Without it the agent
# sends only events whose type is not Normal to KubeEvents ("By default, the Kube events with type Normal aren't
# collected", azure-docs container-insights-data-collection-configure.md), so Log Analytics held no scale-out or
# scale-in (the HPA's SuccessfulRescale, the cluster autoscaler's TriggeredScaleUp, KEDA's), scheduling or image pull.
# AKS's add-on does not make it (ama-logs mounts it `optional: true`, kubernetes/ama-logs.yaml; the add-on's own,
# reconciled, is container-azm-ms-aks-k8scluster) and managed Prometheus reads ama-metrics-* ConfigMaps only.
# Nothing else differs from the agent's defaults (each section it reads only when present, tomlparser.rb 204-558 at
# b7805584; schema-version v1 or the whole ConfigMap is ignored, 562-574). Its stdout and stderr sections restate the
# default exclusions (kube-system, gatekeeper-system): a section without exclude_namespaces would collect them, and
# with both sections left out the agent would tail kube-system's files to drop them (@excludePath, 189 and 294-297).
AGENT_CONFIG_MAP = "container-azm-ms-agentconfig"
AGENT_LOG_SETTINGS: dict[str, dict[str, Any]] = {
    "stdout": {"enabled": True, "exclude_namespaces": ["kube-system", "gatekeeper-system"]},
    "stderr": {"enabled": True, "exclude_namespaces": ["kube-system", "gatekeeper-system"]},
    "collect_all_kube_events": {"enabled": True},
}
KEDA_NS = "keda"
PROMETHEUS_PORT = 9090
PROMETHEUS_URL = f"http://kps-prometheus.{MONITORING_NS}.svc:{PROMETHEUS_PORT}"
INTERCEPTOR_HOST = f"keda-add-ons-http-interceptor-proxy.{KEDA_NS}.svc.cluster.local"
EXTERNAL_SCALER = f"keda-add-ons-http-external-scaler.{KEDA_NS}.svc.cluster.local:9090"
# The label prometheus-operator gives every Prometheus server pod (a selector label of its StatefulSet,
# pkg/prometheus/server/statefulset.go): those pods scrape the kubelet and node-exporter on the nodes' own addresses,
# which no NetworkPolicy can admit under Cilium, so the monitoring namespace's egress guard leaves them out.
PROMETHEUS_POD_LABEL = ("app.kubernetes.io/name", "prometheus")
# The CiliumNetworkPolicy that keeps those pods off the node's metadata service on a cluster whose engine is cilium.
PROMETHEUS_EGRESS_GUARD = "prometheus-egress-guard"


def prometheus_peer() -> k8s.networking.v1.NetworkPolicyPeerArgs:
    """The Prometheus server pods of the monitoring namespace, the only pods that scrape the platform's targets
    (PodMonitors and ServiceMonitors): not the namespace's other pods (Grafana, the exporters, the adapter), which
    query Prometheus and need no target. A metrics port may be a server's inference port too (vLLM's 8000)."""
    return namespace_peer(MONITORING_NS, k8s.meta.v1.LabelSelectorArgs(match_labels=dict([PROMETHEUS_POD_LABEL])))


# The monitoring pods that answer whoever reaches them, with no key (the chart's defaults): Prometheus's query API,
# Alertmanager's (silences) and Grafana. Their pods' `app.kubernetes.io/name`: prometheus-operator's StatefulSets
# (pkg/prometheus/server/statefulset.go, pkg/alertmanager/statefulset.go) and the grafana chart's selector labels.
QUERIED_APPS = ("prometheus", "alertmanager", "grafana")
# KEDA's operator runs the Prometheus triggers (ModelAutoscaler, LlmdStack's autoscaling): kedacore/charts
# keda/templates/manager/deployment.yaml labels its pods `app.kubernetes.io/name: {{ .Values.operator.name }}`.
KEDA_OPERATOR_POD_LABELS = {"app.kubernetes.io/name": "keda-operator"}
# cert-manager v1.21.1 deploy/charts/cert-manager/templates/deployment.yaml: the controller's pod labels (release
# cert-manager in namespace cert-manager, GatewayAccess) and its metrics port `http-metrics` (9402)
CERT_MANAGER_NS = "cert-manager"
CERT_MANAGER_CONTROLLER_LABELS = {"app.kubernetes.io/name": "cert-manager", "app.kubernetes.io/component": "controller"}


def query_ingress(resource_name: str, namespace: pulumi.Input[str], opts: pulumi.ResourceOptions,
                  clients: tuple[str, ...] = ()) -> k8s.networking.v1.NetworkPolicy:
    """Prometheus, Alertmanager and Grafana admit the monitoring namespace's own pods (Grafana and the adapter query
    Prometheus, Prometheus alerts Alertmanager and scrapes them all), KEDA's operator on Prometheus's port and the
    `clients` namespaces; any other pod of the cluster could read every metric, silence every alert or try Grafana's
    sign-in. A port-forward is the kubelet's stream, not pod traffic; the operator's webhook, the adapter (both called
    by the API server) and the exporters are not selected."""
    return k8s.networking.v1.NetworkPolicy(
        resource_name,
        metadata=k8s.meta.v1.ObjectMetaArgs(name="query-ingress", namespace=namespace),
        spec=k8s.networking.v1.NetworkPolicySpecArgs(
            pod_selector=k8s.meta.v1.LabelSelectorArgs(match_expressions=[
                k8s.meta.v1.LabelSelectorRequirementArgs(key="app.kubernetes.io/name", operator="In",
                                                         values=list(QUERIED_APPS))]),
            policy_types=["Ingress"],
            ingress=[
                k8s.networking.v1.NetworkPolicyIngressRuleArgs(
                    from_=[namespace_peer(n) for n in (MONITORING_NS, *clients)]),
                k8s.networking.v1.NetworkPolicyIngressRuleArgs(
                    from_=[namespace_peer(KEDA_NS, k8s.meta.v1.LabelSelectorArgs(
                        match_labels=KEDA_OPERATOR_POD_LABELS))],
                    ports=[k8s.networking.v1.NetworkPolicyPortArgs(port=PROMETHEUS_PORT, protocol="TCP")])]),
        opts=opts)


# Alertmanager v0.34.0 (the image kube-prometheus-stack 88.5.3 deploys) reads each receiver's endpoint or key from a
# file when given `<field>_file` (prometheus/alertmanager v0.34.0 notify/webhook/config.go `url_file`,
# notify/msteamsv2/config.go `webhook_url_file`, notify/slack/config.go `api_url_file`, notify/pagerduty/config.go
# `routing_key_file`), and prometheus-operator v0.93 keeps those fields (pkg/alertmanager/types.go, which the
# operator unmarshals the config into strictly): the Key Vault secret reaches it as the CSI driver's file, never as
# plain text. kind -> (Alertmanager's receiver list, its file field). `msteams` is Teams' Workflows webhook
# (msteamsv2_configs); the Office 365 connector webhooks of msteams_configs are retired by Microsoft.
ALERT_RECEIVER_KINDS = {"webhook": ("webhook_configs", "url_file"),
                        "msteams": ("msteamsv2_configs", "webhook_url_file"),
                        "slack": ("slack_configs", "api_url_file"),
                        "pagerduty": ("pagerduty_configs", "routing_key_file")}
ALERT_RECEIVER = "platform"  # the receiver's name in Alertmanager's config
ALERT_RECEIVER_FILE = "alert-receiver"  # the secret's file name under SECRETS_MOUNT (its objectAlias)
ALERT_RECEIVER_CLASS = "alert-receiver"  # the SecretProviderClass
ALERTMANAGER_ACCOUNT = "alertmanager"  # the ServiceAccount WorkloadIdentity makes for Alertmanager's pods


class AlertReceiver(TypedDict):
    """Where the in-cluster Alertmanager sends every alert."""

    kind: str
    """webhook (a generic webhook: its URL), msteams (a Teams Workflows webhook URL), slack (an incoming-webhook
    URL) or pagerduty (an Events API v2 integration key)."""
    secret: str
    """Key Vault secret holding that URL or key (written by you before `pulumi up`; read by Alertmanager's pods
    only, as a file)."""


def alertmanager_config(kind: str) -> dict[str, Any]:
    """kube-prometheus-stack's `alertmanager.config` with a receiver: Helm merges it into the chart's default
    (values.yaml 88.5.3: its `global`, `inhibit_rules` and `templates` stay; the lists here replace the chart's).
    Every alert goes to the receiver, but Watchdog (always firing: the pipeline's heartbeat, which the chart's own
    route sends to `null`) and InfoInhibitor (fires only to mute `severity: info` alerts through the chart's inhibit
    rules; kube-prometheus's runbook routes it to a null receiver)."""
    configs, file_field = ALERT_RECEIVER_KINDS[kind]
    return {
        "route": {
            "receiver": ALERT_RECEIVER,
            # one notification per alert and namespace (the chart's ['namespace'] mixes every alert of a namespace
            # into one message, whose title names only the first)
            "group_by": ["namespace", "alertname"],
            "group_wait": "30s", "group_interval": "5m",  # the chart's
            # an alert still firing is sent again within an on-call shift (the chart's 12h can span the next shift)
            "repeat_interval": "4h",
            "routes": [{"receiver": "null", "matchers": [f'alertname = "{alert}"']}
                       for alert in ("Watchdog", "InfoInhibitor")]},
        "receivers": [{"name": "null"},
                      {"name": ALERT_RECEIVER, configs: [{file_field: f"{SECRETS_MOUNT}/{ALERT_RECEIVER_FILE}",
                                                           "send_resolved": True}]}],
    }


def alertmanager_receiver_values(kind: str) -> dict[str, Any]:
    """The chart values that give Alertmanager the receiver: its config, the ServiceAccount WorkloadIdentity made
    (federated with the identity that may read the secret), the pod label the workload-identity webhook projects a
    token for, and the CSI volume that mounts the secret."""
    return {
        "config": alertmanager_config(kind),
        "serviceAccount": {"create": False, "name": ALERTMANAGER_ACCOUNT},
        "alertmanagerSpec": {
            "podMetadata": {"labels": {USE_LABEL: "true"}},
            "volumes": [{"name": "secrets-store", "csi": {
                "driver": "secrets-store.csi.k8s.io", "readOnly": True,
                "volumeAttributes": {"secretProviderClass": ALERT_RECEIVER_CLASS}}}],
            "volumeMounts": [{"name": "secrets-store", "mountPath": SECRETS_MOUNT, "readOnly": True}]},
    }


class ObservabilityArgs(TypedDict):
    """Inputs of Observability."""

    cluster: pulumi.Input[ClusterHandle]
    """The cluster to watch (its CPU pool runs the monitoring stack)."""
    monitoring: NotRequired[Optional[pulumi.Input[MonitoringHandle]]]
    """Azure workspaces and action group (AzureMonitoring's `monitoring`); without it, only the in-cluster stack
    (no managed Prometheus or Container Insights data collection, no Azure alert rules)."""
    azure_data_collection: NotRequired[Optional[bool]]
    """With `monitoring`, create the data collection the cluster's agents read: an endpoint, the Prometheus and
    Container Insights rules, their associations on the cluster (one of them `configurationAccessEndpoint`, of which
    a cluster has one), Microsoft's recording-rule groups named after the cluster, and the Container Insights
    agent's ConfigMap (`kube-system/container-azm-ms-agentconfig`, one per cluster: Normal events, the autoscalers'
    among them, reach KubeEvents too). False on a cluster whose managed Prometheus and Container Insights were set up
    otherwise (Terraform, `az aks update --enable-azure-monitor-metrics`, the portal): those exist, so only the alert
    rules are created (default True)."""
    insights_agent_config: NotRequired[Optional[bool]]
    """With `azure_data_collection`, write the Container Insights agent's ConfigMap (default True). False leaves
    `kube-system/container-azm-ms-agentconfig` to you (yours kept as it is, or none): then Normal events reach
    KubeEvents only if yours sets `[log_collection_settings.collect_all_kube_events] enabled = true`."""
    insights_agent_settings: NotRequired[Optional[dict[str, dict[str, dict[str, Any]]]]]
    """Your own settings in that ConfigMap, its TOML tables as a TOML reader has them, by the names the agent's
    parsers read (data/insights_agent_settings.json): table, section, setting (`{"log_collection_settings": {"stdout":
    {"exclude_namespaces": ["kube-system", "gatekeeper-system", "noisy"]}}, "integrations": {"azure_subnet_ip_usage":
    {"enabled": True}}}`), written over Observability's setting by setting, each table in its data key
    (`prometheus_data_collection_settings` in `prometheus-data-collection-settings`); `collect_all_kube_events` stays
    on and `agent_settings.high_log_scale` off (its stream is not the one the data collection rule collects). A table,
    section or setting no parser reads is refused naming the nearest one it does (default none)."""
    key_vault: pulumi.Input[VaultHandle]
    """Vault that receives the Grafana admin password."""
    app_namespace: pulumi.Input[str]
    """Namespace of the model server the alert rules watch."""
    other_app_namespaces: NotRequired[Optional[list[str]]]
    """More namespaces whose model servers the alert rules watch, one per other InferenceStack on this cluster (one
    team's stack each): OllamaDown fires for each namespace's Ollama (default none)."""
    vllm_namespaces: NotRequired[Optional[list[str]]]
    """Namespaces of the LlmdStacks on this cluster: VllmDown (in the cluster) and ModelServerDown (Azure Monitor)
    watch their vLLM Deployments (default none: no vLLM alert)."""
    model_server_min_replicas: NotRequired[Optional[dict[str, int]]]
    """Fewest replicas the model servers of a watched namespace (app_namespace, other_app_namespaces,
    vllm_namespaces) keep: the autoscaler's minimum (ModelAutoscaler's or LlmdStack's min_replicas), or the fixed
    replica count without one. 1 or more: OllamaDown, VllmDown and ModelServerDown fire after 5 minutes with none
    available, once the Deployment has run for a cold start (a new one is starting); 0, or a namespace not named:
    they wait a cold start (cold_start_timeout_seconds), as a server starting from zero has none available until
    then (default none)."""
    client_namespaces: NotRequired[Optional[list[str]]]
    """Other namespaces whose pods may query Prometheus and reach Alertmanager and Grafana (a team's own Grafana or
    dashboards); besides them only the monitoring namespace and KEDA's operator may (default none)."""
    name_prefix: NotRequired[Optional[str]]
    """Start of Azure names (dce-<prefix>, dcr-<prefix>-..., default: the name)."""
    postgres_server_id: NotRequired[Optional[pulumi.Input[str]]]
    """PostgreSQL server to alert on (storage above 80 %)."""
    model_share: NotRequired[Optional[pulumi.Input[ModelShare]]]
    """Model share to alert on (ModelStore's `share`): used capacity above 85 % of its quota (with `monitoring`)."""
    gpu: NotRequired[Optional[pulumi.Input[GpuScheduling]]]
    """GPU pool to collect DCGM metrics from and watch (GpuNodePool's `scheduling`: a GPU node offering no GPU, the
    GPU Operator's validation, the on-demand fallback's nodes); none: no GPU metrics and no GPU node alerts."""
    route_target: NotRequired[Optional[pulumi.Input[RouteTarget]]]
    """Gateways whose Envoy metrics to scrape (GatewayAccess's `route_target`)."""
    keda: NotRequired[Optional[bool]]
    """Install KEDA and its HTTP add-on (default True)."""
    cert_manager: NotRequired[Optional[bool]]
    """cert-manager runs on this cluster (GatewayAccess with Let's Encrypt TLS installs it): scrape its controller and
    alert when a Certificate is not Ready or nears expiry unrenewed (default False)."""
    prometheus_retention: NotRequired[Optional[str]]
    """In-cluster Prometheus retention (default 15d)."""
    prometheus_storage_gib: NotRequired[Optional[int]]
    """Prometheus volume, GiB (default 20)."""
    grafana_storage_gib: NotRequired[Optional[int]]
    """Grafana volume, GiB (default 5)."""
    latency_slo_seconds: NotRequired[Optional[int]]
    """p95 gateway latency objective, seconds (default 30)."""
    error_ratio_slo: NotRequired[Optional[float]]
    """Highest tolerated share of 5xx answers (default 0.05)."""
    gpu_memory_alert_percent: NotRequired[Optional[int]]
    """GPU memory use that raises an alert, percent (default 90)."""
    gpu_fallback_alert_hours: NotRequired[Optional[int]]
    """How long the GPU pool's on-demand fallback (`gpu`'s fallback_pool) may run more nodes than its minimum before
    GpuFallbackNodesRunning fires, hours, 1-24: nothing moves its model servers back to spot by itself, and each
    of its nodes bills the on-demand price (default 3)."""
    vllm_dashboard: NotRequired[Optional[bool]]
    """Ship the vLLM dashboard too (default False)."""
    grafana_password_secret: NotRequired[Optional[str]]
    """Key Vault secret name of the Grafana admin password (default <name>-grafana-admin-password)."""
    request_timeout_seconds: NotRequired[Optional[int]]
    """Longest answer the KEDA interceptor waits for (default 600)."""
    cold_start_timeout_seconds: NotRequired[Optional[int]]
    """How long the interceptor holds requests while a replica starts (default 1200); with `request_timeout_seconds`
    at most 86400 s, what an InferenceStack behind the `keda` handle, which takes both, waits at most."""
    interceptor_replicas: NotRequired[Optional[int]]
    """Fewest KEDA HTTP interceptor replicas: every model request passes one (default 3, the chart's own)."""
    alert_receiver: NotRequired[Optional[AlertReceiver]]
    """Where the in-cluster Alertmanager sends every alert (the PrometheusRules': the platform's and the chart's),
    its URL or key read from Key Vault; without it, Alertmanager keeps the chart's receiver `null` and those alerts
    reach no one (default none)."""
    tags: NotRequired[Optional[Mapping[str, pulumi.Input[str]]]]
    """Azure tags."""


def insights_agent_data(extra: Mapping[str, Mapping[str, Mapping[str, Any]]]) -> dict[str, str]:
    """The agent ConfigMap's TOML data keys: Observability's log settings with the caller's tables over them,
    setting by setting (the rules keep collect_all_kube_events on), each table under its own data key."""
    tables: dict[str, dict[str, dict[str, Any]]] = {"log_collection_settings": {
        section: dict(values) for section, values in AGENT_LOG_SETTINGS.items()}}
    for table, sections in extra.items():
        for section, values in sections.items():
            tables.setdefault(table, {}).setdefault(section, {}).update(values)
    return {INSIGHTS_AGENT_SECTIONS[table][0]: f"[{table}]\n" + "".join(
        f"  [{table}.{section}]\n" + "".join(f"    {k} = {toml_value(v)}\n" for k, v in values.items())
        for section, values in sections.items()) for table, sections in tables.items()}


def toml_value(value: Any) -> str:
    """A TOML value (the rules let strings, booleans, numbers and lists of them through): JSON's spelling is TOML's
    for each of them (a basic string's escapes are JSON's)."""
    return json.dumps(value, ensure_ascii=False)


def fallback_watch(gpu: Any, hours: int) -> pulumi.Output[Optional[FallbackPool]]:
    """The GPU pool's on-demand fallback from its scheduling handle (GpuNodePool's `fallback_pool` and
    `fallback_min_count`), for GpuFallbackNodesRunning; None without a GPU pool or a fallback."""
    if not gpu:
        return pulumi.Output.from_input(None)
    return pulumi.Output.all(field(gpu, "fallback_pool", ""), field(gpu, "fallback_min_count", 0)).apply(
        lambda got: FallbackPool(got[0], got[1] or 0, hours) if got[0] else None)


def gpu_driver(gpu: Any) -> Optional[str]:
    """Who installed the GPU driver (decides which DCGM exporter runs), when known as the component is built; None
    for a handle that is one output (another stack's, through a StackReference; a preview's through the component
    provider)."""
    if not isinstance(gpu, Mapping):
        return None
    driver = gpu.get("driver")
    if driver is None:  # a handle without the field: the pool's default
        return "aks"
    return driver if isinstance(driver, str) else None


def gpu_operator_watch(gpu: Any) -> pulumi.Output[bool]:
    """Whether the GPU Operator installs the GPU nodes' driver, from the GPU pool's scheduling handle (its `driver`),
    for GpuOperatorValidationFailing: read as an output, so a handle that arrives as one output through the
    component provider counts too; False without a GPU pool."""
    if not gpu:
        return pulumi.Output.from_input(False)
    return field(gpu, "driver", "aks").apply(lambda driver: driver == "operator")


def azure_recording_rule_groups() -> list[dict[str, Any]]:
    """The Linux recording-rule groups of Microsoft's managed Prometheus onboarding template (the managed
    dashboards read their series); data/azure_recording_rules.json names the source."""
    return json.loads(RECORDING_RULES.read_text(encoding="utf-8"))["groups"]


def dashboards(include_vllm: bool) -> dict[str, str]:
    """Dashboard file name -> JSON text, from the package's data/dashboards."""
    names = ["gpu.json", "llm-platform.json"] + (["vllm.json"] if include_vllm else [])
    return {n: DASHBOARDS.joinpath(n).read_text(encoding="utf-8") for n in names}


# Requests for the monitoring stack's pods (the chart sets none): they reserve room for what these pods use on a
# small cluster, so the scheduler and the cluster autoscaler count them. No limits: an OOM-killed Prometheus loses
# its head block.
MONITORING_REQUESTS = {
    "prometheus": ("200m", "1Gi"), "alertmanager": ("20m", "64Mi"), "operator": ("50m", "128Mi"),
    "grafana": ("50m", "256Mi"), "kube-state-metrics": ("20m", "64Mi"), "node-exporter": ("20m", "32Mi"),
    "prometheus-adapter": ("50m", "128Mi"),
}


def requests_of(workload: str) -> dict[str, Any]:
    cpu, memory = MONITORING_REQUESTS[workload]
    return {"requests": {"cpu": cpu, "memory": memory}}


# The Grafana subchart names its objects itself: its own fullnameOverride, else "<release>-grafana" (grafana-community/
# helm-charts charts/grafana/templates/_helpers.tpl `grafana.fullname`; a subchart shares the parent's .Release but
# not its values), so the parent's fullnameOverride "kps" does not reach the Deployment and Service.
GRAFANA_FULLNAME = f"{KUBE_PROMETHEUS_STACK.chart}-grafana"


def kube_prometheus_values(placement: dict[str, Any], retention: str, storage_gib: int,
                           grafana_storage_gib: int, receiver_kind: Optional[str] = None) -> dict[str, Any]:
    values: dict[str, Any] = {
        "fullnameOverride": "kps",
        "prometheus": {"prometheusSpec": {
            **placement,
            "resources": requests_of("prometheus"),
            "retention": retention,
            # pick up every ServiceMonitor/PodMonitor/PrometheusRule, not only the chart's own
            "serviceMonitorSelectorNilUsesHelmValues": False,
            "podMonitorSelectorNilUsesHelmValues": False,
            "ruleSelectorNilUsesHelmValues": False,
            "storageSpec": {"volumeClaimTemplate": {"spec": {
                "storageClassName": "managed-csi-premium", "accessModes": ["ReadWriteOnce"],
                "resources": {"requests": {"storage": f"{storage_gib}Gi"}}}}},
        }},
        "alertmanager": {"alertmanagerSpec": {**placement, "resources": requests_of("alertmanager")}},
        "prometheusOperator": {**placement, "resources": requests_of("operator")},
        "prometheus-node-exporter": {"resources": requests_of("node-exporter")},
        # no `secrets` collector: nothing here reads a kube_secret_* series, and it is what puts `list` on every
        # Secret of the cluster (values included) in its ClusterRole (kube-state-metrics 8.4.0 templates/role.yaml)
        "kube-state-metrics": {**placement, "resources": requests_of("kube-state-metrics"),
                               "metricLabelsAllowlist": [KSM_NODE_LABELS], "collectorsExclude": ["secrets"]},
        "grafana": {
            **placement,
            "resources": requests_of("grafana"),
            # the admin password is a random value kept in Key Vault, handed over in this Secret (no fixed password)
            "admin": {"existingSecret": "grafana-admin", "userKey": "admin-user", "passwordKey": "admin-password"},
            # the cluster's default storage class (AKS: managed-csi); the chart documents storageClassName only
            # as a comment, so it is not set here
            "persistence": {"enabled": True, "size": f"{grafana_storage_gib}Gi"},
            # the dashboards are ConfigMaps in this namespace; the chart's ClusterRole (rbac.namespaced false) would
            # let Grafana's service account read every Secret in the cluster (templates/clusterrole.yaml), a Role
            # reads this namespace's only (role.yaml), and the sidecar searches only here
            "rbac": {"namespaced": True},
            "sidecar": {"dashboards": {"enabled": True, "label": "grafana_dashboard", "labelValue": "1",
                                       "searchNamespace": MONITORING_NS}},
            # the chart's `helm test` pod: nothing runs it, and it is one image less to mirror
            "testFramework": {"enabled": False},
        },
    }
    if receiver_kind:
        receiver = alertmanager_receiver_values(receiver_kind)
        values["alertmanager"] = {**receiver, "alertmanagerSpec": {**values["alertmanager"]["alertmanagerSpec"],
                                                                   **receiver["alertmanagerSpec"]}}
    return values


# A label no node carries: the chart's exporter where the GPU Operator runs its own (a driver known only at deploy time)
DCGM_NOWHERE = {"llm-platform/dcgm-exporter": "gpu-operator-runs-its-own"}


def dcgm_target(operator: bool) -> tuple[str, dict[str, str], str]:
    """The DCGM exporter's Service the ServiceMonitor scrapes: (namespace, selector, port), the GPU Operator's or the
    chart's."""
    if operator:
        return "gpu-operator", {"app": "nvidia-dcgm-exporter"}, "gpu-metrics"
    return MONITORING_NS, {"app.kubernetes.io/name": "dcgm-exporter"}, "metrics"


def dcgm_values(node_selector: dict[str, str], tolerations: list[Toleration]) -> dict[str, Any]:
    # Our own ServiceMonitor (validated against its CRD) replaces the chart's.
    return {"nodeSelector": node_selector, "tolerations": tolerations, "serviceMonitor": {"enabled": False}}


def adapter_values(placement: dict[str, Any]) -> dict[str, Any]:
    return {"prometheus": {"url": f"http://kps-prometheus.{MONITORING_NS}.svc", "port": 9090},
            **placement, "resources": requests_of("prometheus-adapter"),
            "rules": {"default": False, "custom": [ADAPTER_GPU_RULE]}}


def keda_http_values(placement: dict[str, Any], timeout_s: int, cold_start_s: int, replicas: int
                     ) -> dict[str, Any]:
    """Interceptor timeouts (add-on 0.15 semantics): `requestTimeout` is the total deadline from the request's
    arrival, so it spans the wait for a replica from zero (`readinessTimeout`) and the answer
    (`responseHeaderTimeout`: a non-streamed answer sends its headers only when done)."""
    return {
        "interceptor": {**placement, "requestTimeout": f"{wait_budget_seconds(timeout_s, cold_start_s)}s",
                        "readinessTimeout": f"{cold_start_s}s", "responseHeaderTimeout": f"{timeout_s}s",
                        "replicas": {"min": replicas},
                        # a rollout or scale-in lets the answers in flight finish (chart default: 30 s, then cut)
                        "drainTimeout": f"{wait_budget_seconds(timeout_s, cold_start_s)}s",
                        "terminationGracePeriodSeconds": interceptor_grace_seconds(timeout_s, cold_start_s)},
        "scaler": dict(placement),
        "operator": dict(placement),
    }


@called_as_documented
class Observability(pulumi.ComponentResource):
    """Azure Monitor wiring for the cluster (managed Prometheus and Container Insights data collection, Azure alerts)
    and the in-cluster stack: kube-prometheus-stack with the platform's dashboards and alert rules, DCGM GPU
    metrics, Prometheus Adapter (GPU memory as a custom metric) and KEDA with its HTTP add-on. The `protect` option
    protects Grafana's generated password and its Key Vault secret; the Azure Monitor resources and the Kubernetes
    objects stay replaceable."""

    keda: KedaEndpoints
    """KEDA's addresses for ModelAutoscaler and InferenceStack; waits for KEDA (empty fields when KEDA is off)."""
    prometheus_url: pulumi.Output[str]
    """In-cluster Prometheus (kube-prometheus-stack) URL; waits for it and for Prometheus Adapter."""
    grafana_service: pulumi.Output[str]
    """In-cluster Grafana service (`kubectl -n monitoring port-forward svc/kube-prometheus-stack-grafana 3000:80`)."""
    grafana_password_secret: pulumi.Output[str]
    """Key Vault secret holding the Grafana admin password."""

    def __init__(self, name: str, args: ObservabilityArgs, opts: Optional[pulumi.ResourceOptions] = None):
        args = check_shape("Observability", name, args, ObservabilityArgs)
        require_kubernetes_provider(opts, "Observability", name)
        super().__init__(f"{PACKAGE}:index:Observability", name, None, opts)
        self._args = args
        self._cluster = args["cluster"]
        # a drain known only at deploy time (another stack's cluster handle): the interceptor's and Prometheus's
        # graces are held to it once it resolves, before their releases take them
        self._drain_check = late_rules("Observability", name, args, "cluster", DRAIN_FIELDS, ObservabilityArgs)
        self._fallback = fallback_watch(args.get("gpu"), opt(args, "gpu_fallback_alert_hours"))
        self._gpu_operator = gpu_operator_watch(args.get("gpu"))
        if args.get("monitoring") is not None:
            self._azure(name)
        self._in_cluster(name)
        self.register_outputs({"keda": self.keda, "prometheus_url": self.prometheus_url,
                               "grafana_service": self.grafana_service,
                               "grafana_password_secret": self.grafana_password_secret})

    # ---- Azure Monitor ----------------------------------------------------------------------------------------
    def _azure(self, name: str) -> None:
        a = self._args
        prefix, monitoring = a.get("name_prefix") or name, a["monitoring"]
        if opt(a, "azure_data_collection"):
            self._azure_data_collection(name, prefix, monitoring)
        self._azure_alerts(name, prefix, monitoring)

    def _azure_data_collection(self, name: str, prefix: str, monitoring: Any) -> None:
        """What the cluster's metrics and Container Insights agents read: an endpoint, a rule each, the associations
        and Microsoft's recording-rule groups (the managed dashboards read them)."""
        a = self._args
        child = pulumi.ResourceOptions(parent=self, protect=False)
        rg, location = field(self._cluster, "resource_group_name"), field(self._cluster, "location")
        # a cluster or monitoring handle whose location is an output (another language's, a stack reference's): the
        # workspaces' region is held to the cluster's once both resolve (one check: each alone would read the other's
        # as unknown and pass), before the endpoint and the rules are made
        location = after_check(late_rules_of("Observability", name, a, {"cluster": ("location",),
                                                                         "monitoring": ("location",)},
                                             ObservabilityArgs), location)
        tags = a.get("tags", {})
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
                monitor.MonitoringAccountDestinationArgs(account_resource_id=field(monitoring, "monitor_workspace_id"),
                                                         name="MonitoringAccount")]),
            data_flows=[monitor.DataFlowArgs(streams=["Microsoft-PrometheusMetrics"],
                                             destinations=["MonitoringAccount"])],
            tags=tags, opts=child)
        insights_rule = monitor.DataCollectionRule(
            f"{name}-dcr-insights", data_collection_rule_name=f"dcr-{prefix}-insights", resource_group_name=rg,
            location=location, kind=monitor.KnownDataCollectionRuleResourceKind.LINUX,
            data_sources=monitor.DataCollectionRuleDataSourcesArgs(extensions=[monitor.ExtensionDataSourceArgs(
                name="ContainerInsightsExtension", extension_name="ContainerInsights",
                streams=CONTAINER_INSIGHTS_STREAMS,
                extension_settings={"dataCollectionSettings": {
                    "interval": "1m", "namespaceFilteringMode": "Off", "enableContainerLogV2": True}})]),
            destinations=monitor.DataCollectionRuleDestinationsArgs(log_analytics=[
                monitor.LogAnalyticsDestinationArgs(
                    workspace_resource_id=field(monitoring, "log_analytics_workspace_id"), name="ciworkspace")]),
            data_flows=[monitor.DataFlowArgs(streams=CONTAINER_INSIGHTS_STREAMS, destinations=["ciworkspace"])],
            tags=tags, opts=child)
        # The AKS metrics add-on reads its configuration through this association name.
        cluster_id = field(self._cluster, "cluster_id")
        monitor.DataCollectionRuleAssociation(
            f"{name}-dcra-endpoint", association_name="configurationAccessEndpoint", resource_uri=cluster_id,
            data_collection_endpoint_id=endpoint.id, opts=child)
        for rule, label in ((prometheus_rule, "prometheus"), (insights_rule, "insights")):
            monitor.DataCollectionRuleAssociation(
                f"{name}-dcra-{label}", association_name=f"dcra-{prefix}-{label}", resource_uri=cluster_id,
                data_collection_rule_id=rule.id, opts=child)
        # What the portal's onboarding creates beside the data collection rule; without these groups the managed
        # dashboards (node and Kubernetes views) stay empty.
        cluster_name = field(self._cluster, "cluster_name")
        for group_rules in azure_recording_rule_groups():
            kind = group_rules["name_prefix"].removesuffix("RecordingRulesRuleGroup-").lower()  # node, kubernetes
            alertsmanagement.PrometheusRuleGroup(
                f"{name}-{kind}-recording-rules",
                rule_group_name=pulumi.Output.concat(group_rules["name_prefix"], cluster_name),
                resource_group_name=rg, location=location, cluster_name=cluster_name,
                interval=group_rules["interval"], enabled=True, description=group_rules["description"],
                scopes=[field(monitoring, "monitor_workspace_id"), field(self._cluster, "cluster_id")],
                rules=[alertsmanagement.PrometheusRuleArgs(record=r["record"], expression=r["expression"],
                                                           labels=r.get("labels"))
                       for r in group_rules["rules"]],
                tags=tags, opts=child)
        if opt(a, "insights_agent_config"):
            k8s.core.v1.ConfigMap(
                f"{name}-insights-agent-config",
                metadata=k8s.meta.v1.ObjectMetaArgs(name=AGENT_CONFIG_MAP, namespace="kube-system"),
                data={"schema-version": "v1", "config-version": "ver1",
                      **insights_agent_data(opt(a, "insights_agent_settings"))},
                opts=child)

    def _azure_alerts(self, name: str, prefix: str, monitoring: Any) -> None:
        """The Prometheus alert rule group and the metric alerts (PostgreSQL, the model share)."""
        a = self._args
        child = pulumi.ResourceOptions(parent=self, protect=False)
        rg, location = field(self._cluster, "resource_group_name"), field(self._cluster, "location")
        tags = a.get("tags", {})
        group = field(monitoring, "action_group_id")
        actions = group.apply(lambda g: [alertsmanagement.PrometheusRuleGroupActionArgs(action_group_id=g)]
                              if g else None)
        alertsmanagement.PrometheusRuleGroup(
            f"{name}-azure-alerts", rule_group_name=f"prg-{prefix}-platform", resource_group_name=rg,
            location=location, cluster_name=field(self._cluster, "cluster_name"), interval="PT1M", enabled=True,
            scopes=[field(monitoring, "monitor_workspace_id"), field(self._cluster, "cluster_id")],
            description="LLM platform: nodes, GPU capacity, crash loops, model servers, disks and volumes",
            rules=pulumi.Output.all(pulumi.Output.from_input(a["app_namespace"]), actions, self._fallback,
                                    self._gpu_operator).apply(
                lambda got: [alertsmanagement.PrometheusRuleArgs(
                    alert=r["alert"], expression=r["expression"], for_=r["for"], severity=r["severity"],
                    enabled=True, labels={"platform": "llm"}, annotations=r["annotations"], actions=got[1])
                    for r in azure_alert_rules([got[0], *(a.get("other_app_namespaces") or [])],
                                               a.get("vllm_namespaces") or [], opt(a, "cold_start_timeout_seconds"),
                                               a.get("model_server_min_replicas"), got[2], got[3],
                                               gpu_nodes=bool(a.get("gpu")))]),
            tags=tags, opts=child)
        if server_id := a.get("postgres_server_id"):  # "" is none: an alert scoped to no server is refused by Azure
            # Open-WebUI cannot sign anyone in without its database: is_db_alive is 1 or 0 each minute (Maximum: 0
            # only when the server was down the whole minute), so five minutes of 0 is an outage, not a failover
            self._metric_alert(name, "postgres-storage", "PostgreSQL storage above 80 %", 2, "PT5M", "PT15M",
                               server_id, "storage_percent", monitor.Operator.GREATER_THAN, 80,
                               monitor.AggregationTypeEnum.AVERAGE)
            self._metric_alert(name, "postgres-alive", "PostgreSQL down for 5 minutes (is_db_alive)", 1, "PT1M",
                               "PT5M", server_id, "is_db_alive", monitor.Operator.LESS_THAN, 1,
                               monitor.AggregationTypeEnum.MAXIMUM)
        if a.get("model_share"):
            # FileCapacity of Microsoft.Storage/storageAccounts/fileServices: bytes, Average only, one value an hour
            # (PT1H, its only time grain; recomputed a few times a day), split by FileShare on provisioned (premium)
            # shares (MicrosoftDocs/azure-reference-other 7edcb53f azure-monitor-ref/supported-metrics/includes/
            # microsoft-storage-storageaccounts-fileservices-metrics-include.md; azure-docs 00b15a65 articles/storage/
            # files/storage-files-monitoring-reference.md). A window of an hour holds one value.
            share = a["model_share"]
            self._metric_alert(
                name, "model-share-full", f"Model share above {MODEL_SHARE_FULL_PERCENT} % of its quota", 2, "PT1H",
                "PT1H", field(share, "file_service_id"), "FileCapacity", monitor.Operator.GREATER_THAN,
                field(share, "quota_gib").apply(share_full_bytes), monitor.AggregationTypeEnum.AVERAGE,
                namespace="Microsoft.Storage/storageAccounts/fileServices",
                dimensions=[monitor.MetricDimensionArgs(name="FileShare", operator="Include",
                                                        values=[field(share, "share_name")])])

    def _metric_alert(self, name: str, suffix: str, text: str, severity: int, every: str, over: str,
                      scope: pulumi.Input[str], metric: str, operator: monitor.Operator, threshold: pulumi.Input[float],
                      aggregation: monitor.AggregationTypeEnum, namespace: Optional[str] = None,
                      dimensions: Optional[list[monitor.MetricDimensionArgs]] = None) -> None:
        """An Azure Monitor metric alert on one resource's metric, notifying the action group (if any)."""
        a = self._args
        group = field(a["monitoring"], "action_group_id")
        prefix = a.get("name_prefix", name)
        monitor.MetricAlert(
            f"{name}-{suffix}", rule_name=f"alert-{prefix}-{suffix}", resource_group_name=field(
                self._cluster, "resource_group_name"),
            location="global", description=text, severity=severity, enabled=True,
            scopes=[scope], evaluation_frequency=every, window_size=over,
            criteria=monitor.MetricAlertSingleResourceMultipleMetricCriteriaArgs(
                odata_type="Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria",
                all_of=[monitor.MetricCriteriaArgs(
                    name=metric.replace("_", "-"), metric_name=metric, metric_namespace=namespace,
                    operator=operator, threshold=threshold, time_aggregation=aggregation, dimensions=dimensions,
                    criterion_type=monitor.CriterionType.STATIC_THRESHOLD_CRITERION)]),
            actions=group.apply(lambda g: [monitor.MetricAlertActionArgs(action_group_id=g)] if g else None),
            tags=a.get("tags", {}), opts=pulumi.ResourceOptions(parent=self, protect=False))

    # ---- in the cluster ---------------------------------------------------------------------------------------
    def _in_cluster(self, name: str) -> None:
        a = self._args
        k8s_opts = pulumi.ResourceOptions(parent=self, protect=False)
        cpu = cpu_placement(self._cluster)
        ns = namespace(f"{name}-ns", MONITORING_NS, "privileged", k8s_opts)  # node-exporter needs host access
        # Grafana (its data source proxy fetches what an editor names), Alertmanager, the operator, kube-state-metrics,
        # the adapter and the DCGM exporter do not reach the node's metadata service; Prometheus is left out of that
        # NetworkPolicy (it scrapes node addresses) and, under Cilium, kept off by a CiliumNetworkPolicy instead
        egress_guard(f"{name}-egress-guard", ns.metadata.name, k8s_opts, exempt=PROMETHEUS_POD_LABEL)
        if known(self._cluster, "network_policy") == "cilium":
            cilium_egress_guard(f"{name}-prometheus-egress-guard", PROMETHEUS_EGRESS_GUARD, ns.metadata.name,
                                dict([PROMETHEUS_POD_LABEL]), k8s_opts)
        query_ingress(f"{name}-query-netpol", ns.metadata.name, k8s_opts, tuple(a.get("client_namespaces") or []))

        # the password and its secret take the component's protect (pulumi resource.py "Infer protection from
        # parent"); every other child is replaceable
        password = random.RandomPassword(f"{name}-grafana-password", length=32, special=False,
                                         opts=pulumi.ResourceOptions(parent=self))
        secret_password: pulumi.Output[str] = pulumi.Output.secret(password.result)
        password_secret = a.get("grafana_password_secret") or secret_name(name, "grafana-admin-password")
        vault_secret(f"{name}-grafana-password-secret", a["key_vault"], password_secret, secret_password,
                     "text/plain", self)
        self.grafana_password_secret = pulumi.Output.from_input(password_secret)
        admin = k8s.core.v1.Secret(
            f"{name}-grafana-admin", metadata=k8s.meta.v1.ObjectMetaArgs(name="grafana-admin",
                                                                         namespace=ns.metadata.name),
            type="Opaque", string_data={"admin-user": "admin", "admin-password": secret_password}, opts=k8s_opts)
        receiver = a.get("alert_receiver")
        before_stack: list[pulumi.Resource] = [admin, *self._alert_receiver(name, ns.metadata.name, receiver)]
        stack = helm_release(f"{name}-kube-prometheus-stack", KUBE_PROMETHEUS_STACK, ns.metadata.name,
                             pulumi.Output.from_input(after_check(self._drain_check, cpu)).apply(lambda sel: kube_prometheus_values(
                                 sel, opt(a, "prometheus_retention"), opt(a, "prometheus_storage_gib"),
                                 opt(a, "grafana_storage_gib"), receiver["kind"] if receiver else None)),
                             pulumi.ResourceOptions(parent=self, protect=False, depends_on=before_stack),
                             cluster=self._cluster)
        after_stack = pulumi.ResourceOptions(parent=self, protect=False, depends_on=[stack])
        for file_name, text in dashboards(opt(a, "vllm_dashboard")).items():
            k8s.core.v1.ConfigMap(
                f"{name}-dashboard-{file_name.removesuffix('.json')}",
                metadata=k8s.meta.v1.ObjectMetaArgs(name=f"dashboard-{file_name.removesuffix('.json')}",
                                                    namespace=ns.metadata.name, labels={"grafana_dashboard": "1"}),
                data={file_name: text}, opts=k8s_opts)
        k8s.apiextensions.CustomResource(
            f"{name}-platform-rules", api_version="monitoring.coreos.com/v1", kind="PrometheusRule",
            metadata=k8s.meta.v1.ObjectMetaArgs(name="llm-platform", namespace=ns.metadata.name),
            spec={"groups": [{"name": "llm-platform", "rules": pulumi.Output.all(
                pulumi.Output.from_input(a["app_namespace"]), self._fallback, self._gpu_operator).apply(
                lambda got: platform_alert_rules(
                    [got[0], *(a.get("other_app_namespaces") or [])], opt(a, "gpu_memory_alert_percent"),
                    opt(a, "error_ratio_slo"),
                    opt(a, "latency_slo_seconds"), opt(a, "cold_start_timeout_seconds"),
                    a.get("vllm_namespaces") or [], opt(a, "keda"), opt(a, "cert_manager"),
                    a.get("model_server_min_replicas"), got[1], got[2], gpu_nodes=bool(a.get("gpu"))))}]},
            opts=after_stack)
        if opt(a, "cert_manager"):
            # Ours, not the chart's prometheus.servicemonitor: GatewayAccess installs cert-manager before this
            # component's kube-prometheus-stack brings the monitoring.coreos.com CRDs, and Helm fails an install whose
            # manifest has a kind the cluster does not know (the keda PodMonitor below, likewise).
            k8s.apiextensions.CustomResource(
                f"{name}-cert-manager-monitor", api_version="monitoring.coreos.com/v1", kind="PodMonitor",
                metadata=k8s.meta.v1.ObjectMetaArgs(name="cert-manager", namespace=ns.metadata.name),
                spec={"namespaceSelector": {"matchNames": [CERT_MANAGER_NS]},
                      "selector": {"matchLabels": CERT_MANAGER_CONTROLLER_LABELS},
                      "podMetricsEndpoints": [{"port": "http-metrics", "interval": "60s"}]},
                opts=after_stack)
        if a.get("route_target"):
            # Envoy's Prometheus endpoint on every Istio gateway pod: request counts, codes, latency histograms
            k8s.apiextensions.CustomResource(
                f"{name}-gateway-monitor", api_version="monitoring.coreos.com/v1", kind="PodMonitor",
                metadata=k8s.meta.v1.ObjectMetaArgs(name="istio-gateways", namespace=ns.metadata.name),
                spec={"namespaceSelector": {"matchNames": [field(a["route_target"], "namespace")]},
                      "selector": {"matchExpressions": [{"key": "gateway.networking.k8s.io/gateway-name",
                                                         "operator": "Exists"}]},
                      "podMetricsEndpoints": [{"port": "http-envoy-prom", "path": "/stats/prometheus",
                                               "interval": "15s"}]},
                opts=after_stack)
        self._gpu_metrics(name, ns.metadata.name, after_stack)
        adapter = helm_release(f"{name}-prometheus-adapter", PROMETHEUS_ADAPTER, ns.metadata.name,
                               cpu.apply(adapter_values), after_stack, cluster=self._cluster)
        self.prometheus_url = pulumi.Output.all(stack.status, adapter.status).apply(lambda _: PROMETHEUS_URL)
        self.grafana_service = pulumi.Output.from_input(f"{MONITORING_NS}/{GRAFANA_FULLNAME}")
        self.keda = self._keda(name, after_stack) if opt(a, "keda") else KedaEndpoints(
            namespace="", interceptor_host="", interceptor_port=0, external_scaler="", prometheus_url=PROMETHEUS_URL)

    def _alert_receiver(self, name: str, ns: pulumi.Output[str], receiver: Optional[AlertReceiver]
                        ) -> list[pulumi.Resource]:
        """The receiver's secret reaches Alertmanager from Key Vault through the CSI driver and workload identity
        (as LlmdStack's Hugging Face token): the ServiceAccount and the SecretProviderClass exist before its pods."""
        if not receiver:
            return []
        a = self._args
        identity = WorkloadIdentity(f"{name}-alertmanager-identity", {
            "cluster": self._cluster, "identity_name": f"id-{a.get('name_prefix', name)}-alertmanager",
            "namespace": ns, "service_account_name": ALERTMANAGER_ACCOUNT, "tags": a.get("tags", {}),
        }, pulumi.ResourceOptions(parent=self, protect=False))
        # that one secret, no other of the vault (the Grafana password, the API keys, the database's)
        grant_secrets_user(f"{name}-alertmanager-kv-reader", a["key_vault"], identity.principal_id, identity,
                           receiver["secret"])
        vault = a["key_vault"]
        spc = secret_provider_class(
            f"{name}-alert-receiver", ALERT_RECEIVER_CLASS, ns, vault, identity.client_id,
            key_vault_objects([receiver["secret"]], {receiver["secret"]: ALERT_RECEIVER_FILE}),
            pulumi.ResourceOptions(parent=self, protect=False))
        return [identity, spc]

    def _gpu_metrics(self, name: str, ns: pulumi.Output[str], after_stack: pulumi.ResourceOptions) -> None:
        a = self._args
        gpu = a.get("gpu")
        if not gpu:
            return
        driver = gpu_driver(gpu)
        operator: Any = driver == "operator" if driver else gpu_operator_watch(gpu)
        if driver != "operator":
            # Every GPU pool's accelerator label (not the handle's one-pool selector) and taints, as plain values: the
            # exporter belongs on every GPU node of the cluster, the scheduling handle's wait for the pools, and a
            # DaemonSet needs no node to install (it lands on each GPU node as the autoscaler adds it). A driver
            # known only at deploy time installs the chart either way (whether a resource exists cannot wait for an
            # output) and, where the GPU Operator runs its own exporter, schedules it on no node.
            values = dcgm_values(gpu_node_selector(), gpu_tolerations())
            helm_release(f"{name}-dcgm-exporter", DCGM_EXPORTER, ns,
                         values if driver else pulumi.Output.from_input(operator).apply(
                             lambda op: {**values, "nodeSelector": DCGM_NOWHERE} if op else values),
                         after_stack, cluster=self._cluster)
        target: Any = dcgm_target(operator) if driver else pulumi.Output.from_input(operator).apply(dcgm_target)
        target_ns: pulumi.Input[str] = target[0]  # an output's item is an output of it (Output.__getitem__)
        selector: pulumi.Input[dict[str, str]] = target[1]
        port: pulumi.Input[str] = target[2]
        k8s.apiextensions.CustomResource(
            f"{name}-dcgm-monitor", api_version="monitoring.coreos.com/v1", kind="ServiceMonitor",
            metadata=k8s.meta.v1.ObjectMetaArgs(name="dcgm-exporter", namespace=ns),
            spec={"namespaceSelector": {"matchNames": [target_ns]}, "selector": {"matchLabels": selector},
                  # the exporter's own pod/namespace/container labels (the GPU's workload: DCGM_EXPORTER_KUBERNETES,
                  # set by the chart and the operator) win over the target's; the target's are dropped, else a GPU
                  # no pod holds took the exporter pod's own (honor_labels only fills in labels a series lacks)
                  "endpoints": [{"port": port, "interval": "15s", "honorLabels": True,
                                 "relabelings": [{"action": "labeldrop", "regex": "pod|namespace|container"}]}]},
            opts=after_stack)

    def _keda(self, name: str, after_stack: pulumi.ResourceOptions) -> KedaEndpoints:
        a = self._args
        cpu = cpu_placement(self._cluster)
        ns = namespace(f"{name}-keda-ns", KEDA_NS, "baseline", pulumi.ResourceOptions(parent=self, protect=False))
        egress_guard(f"{name}-keda-egress-guard", ns.metadata.name, pulumi.ResourceOptions(parent=self, protect=False))
        # KEDA renders no prometheus-operator objects (`prometheus.operator.enabled` only opens the metrics port; the
        # chart's podMonitor/serviceMonitor stay off, our PodMonitor below scrapes it), so it installs beside
        # kube-prometheus-stack rather than after it: the HTTP add-on, and every route behind its interceptor, come up
        # about three minutes sooner on a fresh stack.
        # The operator reads Secrets of its own namespace alone (its ClusterRole would list every Secret of the
        # cluster, values included): no ScaledObject here has a TriggerAuthentication and no scale target takes an
        # environment variable from a Secret (kedacore/charts v2.20.2 keda/templates/manager/clusterrole.yaml;
        # docs/decisions.md, "2026-12-07: an attacker's review ...")
        core = helm_release(f"{name}-keda", KEDA, ns.metadata.name,
                            cpu.apply(lambda p: {**p, "prometheus": {"operator": {"enabled": True}},
                                                 "permissions": {"operator": {"restrict": {"secret": True}}}}),
                            pulumi.ResourceOptions(parent=self, protect=False), cluster=self._cluster)
        http = helm_release(f"{name}-keda-http", KEDA_HTTP_ADD_ON, ns.metadata.name,
                            pulumi.Output.from_input(after_check(self._drain_check, cpu)).apply(lambda sel: keda_http_values(sel, opt(a, "request_timeout_seconds"),
                                                                   opt(a, "cold_start_timeout_seconds"),
                                                                   opt(a, "interceptor_replicas"))),
                            pulumi.ResourceOptions(parent=self, protect=False, depends_on=[core]),
                            cluster=self._cluster, release_name=KEDA_HTTP_RELEASE)
        # Every namespace's routes kept to its own hosts: the interceptor's one table spans the cluster, and a route
        # naming another namespace's host with a path or a header took its traffic (route_guard.py). The routes that
        # take these addresses wait for the binding, so they are admitted under it.
        guard = route_guard(f"{name}-route-guard", http, pulumi.ResourceOptions(parent=self, protect=False))
        # The interceptor forwards to every InterceptorRoute's service without checking who asks: the model server's
        # gate (key, 429) must not be skipped through it. Its pods admit the scaler on the admin port and Prometheus on
        # the metrics port here, and on the proxy port only the clients each OllamaServer names (interceptor_clients);
        # the rest of the namespace (operator, metrics apiserver, webhooks the control plane calls through AKS's
        # tunnel) is not selected, so stays open.
        allow_ingress(f"{name}-interceptor-netpol", "interceptor-ingress", ns.metadata.name, INTERCEPTOR_POD_LABELS,
                      INTERCEPTOR_ADMIN_PORT, [k8s.networking.v1.NetworkPolicyPeerArgs(
                          pod_selector=k8s.meta.v1.LabelSelectorArgs(match_labels=SCALER_POD_LABELS))],
                      pulumi.ResourceOptions(parent=self, protect=False))
        allow_ingress(f"{name}-interceptor-metrics-netpol", "interceptor-metrics", ns.metadata.name,
                      INTERCEPTOR_POD_LABELS, INTERCEPTOR_METRICS_PORT, [prometheus_peer()],
                      pulumi.ResourceOptions(parent=self, protect=False))
        k8s.apiextensions.CustomResource(
            f"{name}-keda-monitor", api_version="monitoring.coreos.com/v1", kind="PodMonitor",
            metadata=k8s.meta.v1.ObjectMetaArgs(name="keda-operator", namespace=MONITORING_NS),
            spec={"namespaceSelector": {"matchNames": [KEDA_NS]},
                  "selector": {"matchLabels": {"app.kubernetes.io/name": "keda-operator"}},
                  "podMetricsEndpoints": [{"port": "metrics", "interval": "15s"}]},
            opts=after_stack)
        # Autoscaling objects that take these addresses wait for both releases and the route guard (data dependencies);
        # a Prometheus trigger also takes `prometheus_url`, which waits for kube-prometheus-stack.
        ready = pulumi.Output.all(core.status, http.status, guard.metadata.name)
        return KedaEndpoints(namespace=ready.apply(lambda _: KEDA_NS),
                             interceptor_host=ready.apply(lambda _: INTERCEPTOR_HOST),
                             interceptor_port=INTERCEPTOR_PORT,
                             external_scaler=ready.apply(lambda _: EXTERNAL_SCALER),
                             prometheus_url=self.prometheus_url, interceptor_pod_labels=INTERCEPTOR_POD_LABELS,
                             # the interceptor's figures, which the model servers behind it take as their own
                             request_timeout_seconds=opt(a, "request_timeout_seconds"),
                             cold_start_timeout_seconds=opt(a, "cold_start_timeout_seconds"))

