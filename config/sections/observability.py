"""The `observability` section: in-cluster Prometheus/Grafana, Azure Monitor, alerts and SLOs."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional, cast

from llmplatform.choices import ALERT_RECEIVER_KINDS

from llmplatform.defaults import DEFAULTS as D  # the components' defaults are the stack's defaults
from llmplatform.rules import ALERT_EMAILS_MAX, up_to_host

from .. import component_rules
from ..reader import Reader


@dataclass(frozen=True)
class AlertReceiverConfig:
    """The in-cluster Alertmanager's receiver; kind None: none (the chart's `null`)."""
    kind: Optional[str] = None
    secret: Optional[str] = None  # the Key Vault secret holding its URL or key


@dataclass(frozen=True)
class ObservabilityConfig:
    enabled: bool = True
    azure_monitor: bool = True  # Log Analytics + Container Insights, managed Prometheus, Azure alert rules
    log_retention_days: int = 30
    managed_grafana: bool = False
    # Managed Grafana's workspace name where it is not the derived one (config/resource_names.py grafana_name): a
    # workspace created under another name keeps it
    grafana_name: Optional[str] = None
    alert_emails: tuple[str, ...] = ()
    prometheus_retention: str = D["Observability"]["prometheus_retention"]
    prometheus_storage_gib: int = D["Observability"]["prometheus_storage_gib"]
    grafana_storage_gib: int = D["Observability"]["grafana_storage_gib"]
    latency_slo_seconds: int = D["Observability"]["latency_slo_seconds"]  # p95 of gateway request duration
    error_ratio_slo: float = D["Observability"]["error_ratio_slo"]  # 5xx share of gateway responses
    gpu_memory_alert_percent: int = D["Observability"]["gpu_memory_alert_percent"]
    gpu_fallback_alert_hours: int = D["Observability"]["gpu_fallback_alert_hours"]
    vllm_dashboard: bool = D["Observability"]["vllm_dashboard"]
    grafana_viewer_group_ids: tuple[str, ...] = ()  # Grafana Viewer on Managed Grafana (cluster admins: Admin)
    client_namespaces: tuple[str, ...] = ()  # namespaces whose pods may query the in-cluster Prometheus and Grafana
    alert_receiver: AlertReceiverConfig = AlertReceiverConfig()
    # Container Insights' agent ConfigMap: written by Observability (with azureMonitor), with these settings of yours
    insights_agent_config: bool = D["Observability"]["insights_agent_config"]
    insights_agent_settings: dict = field(default_factory=dict)
    # an Azure budget over the stack's resource groups (the node group included), in the billing account's currency;
    # None: no budget
    monthly_budget: Optional[float] = None


def _alert_receiver(r: Reader) -> tuple[AlertReceiverConfig, Optional[dict[str, str]]]:
    """`alertReceiver: {kind, secret}`: both, or neither (no receiver). With it, what Observability's own rule is to
    judge: a half given (the other reported missing here) is completed with a value the rule accepts, so the half
    written is still checked."""
    kind, secret = r.str_("kind", None), r.str_("secret", None, withhold=True)
    r.reject_unknown_keys()
    if kind is None and secret is not None:
        r.problem(f"{r.key('kind')} is required; allowed: {', '.join(ALERT_RECEIVER_KINDS)}")
    if secret is None and kind is not None:
        r.problem(f"{r.key('secret')} is required: the Key Vault secret holding the receiver's URL or key")
    if kind is None and secret is None:
        return AlertReceiverConfig(), None
    checked = {"kind": kind or next(iter(ALERT_RECEIVER_KINDS)), "secret": secret or "placeholder"}
    return (AlertReceiverConfig(kind, secret) if kind is not None and secret is not None else AlertReceiverConfig(),
            checked)


def _monthly_budget(r: Reader) -> Optional[float]:
    """`monthlyBudget`: a number (CostBudget's rule checks its range), or None when unset (or null) or not a number
    (said)."""
    before = len(r.problems)
    amount: Optional[float] = r.float_("monthlyBudget", cast(float, None))  # None only when unset (or null)
    return amount if len(r.problems) == before else None


def _insights_agent_settings(r: Reader) -> dict:
    """`insightsAgentSettings`: sections of the agent's ConfigMap to their settings, read whole (its keys are the
    template's section names, not stack keys); Observability's rules check them."""
    raw = r.raw.get("insightsAgentSettings")
    r.section("insightsAgentSettings")  # an object, or a problem naming the key
    return dict(raw) if isinstance(raw, dict) else {}


def parse_observability(r: Reader) -> ObservabilityConfig:
    """Read as written; Observability's and AzureMonitoring's rules check it."""
    d = ObservabilityConfig()
    receiver, receiver_checked = _alert_receiver(r.section("alertReceiver", withhold=True))
    cfg = ObservabilityConfig(
        enabled=r.bool_("enabled", d.enabled),
        azure_monitor=r.bool_("azureMonitor", d.azure_monitor),
        log_retention_days=r.int_("logRetentionDays", d.log_retention_days),
        managed_grafana=r.bool_("managedGrafana", d.managed_grafana),
        grafana_name=r.str_("grafanaName", d.grafana_name),
        # a webhook URL given in place of the list is shown up to its host, as the component shows an entry; up to
        # Azure Monitor's 1000 receivers a group (the reader's guard of 100 would be stricter than Azure), and past
        # them AzureMonitoring's rule says so (the guard only stops a runaway list)
        alert_emails=r.str_list("alertEmails", d.alert_emails, show=up_to_host, most=10 * ALERT_EMAILS_MAX),
        grafana_viewer_group_ids=r.str_list("grafanaViewerGroupIds", d.grafana_viewer_group_ids),
        prometheus_retention=r.str_("prometheusRetention", d.prometheus_retention) or d.prometheus_retention,
        prometheus_storage_gib=r.int_("prometheusStorageGib", d.prometheus_storage_gib),
        grafana_storage_gib=r.int_("grafanaStorageGib", d.grafana_storage_gib),
        latency_slo_seconds=r.int_("latencySloSeconds", d.latency_slo_seconds),
        error_ratio_slo=r.float_("errorRatioSlo", d.error_ratio_slo),
        gpu_memory_alert_percent=r.int_("gpuMemoryAlertPercent", d.gpu_memory_alert_percent),
        gpu_fallback_alert_hours=r.int_("gpuFallbackAlertHours", d.gpu_fallback_alert_hours),
        vllm_dashboard=r.bool_("vllmDashboard", d.vllm_dashboard),
        client_namespaces=r.str_list("clientNamespaces", d.client_namespaces),
        alert_receiver=receiver,
        monthly_budget=_monthly_budget(r),
        insights_agent_config=r.bool_("insightsAgentConfig", d.insights_agent_config),
        insights_agent_settings=_insights_agent_settings(r),
    )
    r.reject_unknown_keys()
    keys = component_rules.keys("observability")
    component_rules.check(r, "AzureMonitoring", {
        "log_retention_days": cfg.log_retention_days, "alert_emails": list(cfg.alert_emails),
        "grafana_viewer_group_ids": list(cfg.grafana_viewer_group_ids),
        **({"grafana_name": cfg.grafana_name, "managed_grafana": cfg.managed_grafana}
           if cfg.grafana_name is not None else {})}, keys)
    component_rules.check(r, "Observability", {
        "prometheus_retention": cfg.prometheus_retention, "prometheus_storage_gib": cfg.prometheus_storage_gib,
        "grafana_storage_gib": cfg.grafana_storage_gib, "latency_slo_seconds": cfg.latency_slo_seconds,
        "error_ratio_slo": cfg.error_ratio_slo, "gpu_memory_alert_percent": cfg.gpu_memory_alert_percent,
        "gpu_fallback_alert_hours": cfg.gpu_fallback_alert_hours,
        "client_namespaces": list(cfg.client_namespaces),
        **({"alert_receiver": receiver_checked} if receiver_checked else {}),
        **_insights_agent_checked(r, cfg)}, keys)
    if cfg.monthly_budget is not None:  # the budget's own rules (its notifications: the defaults, checked there too)
        component_rules.check(r, "CostBudget", {"amount": cfg.monthly_budget},
                              component_rules.keys("observability", {"amount": "observability.monthlyBudget"}))
        if not (cfg.alert_emails and cfg.enabled and cfg.azure_monitor):
            r.problem("observability.monthlyBudget needs observability.alertEmails (with observability.enabled and "
                      "observability.azureMonitor true): the budget notifies the action group Azure Monitor makes "
                      "from them, and without one nobody would hear of the spend")
    if cfg.alert_receiver.kind and not cfg.enabled:
        r.problem("observability.alertReceiver needs observability.enabled true: the in-cluster Alertmanager sends "
                  "to it")
    if cfg.managed_grafana and not cfg.azure_monitor:
        r.problem("observability.managedGrafana needs observability.azureMonitor true (it reads the Azure Monitor "
                  "workspace)")
    if cfg.alert_emails and not (cfg.enabled and cfg.azure_monitor):
        r.problem("observability.alertEmails needs observability.enabled and observability.azureMonitor true: Azure "
                  "Monitor's action group sends the e-mails (the in-cluster Alertmanager has no receiver), so nobody "
                  "would be mailed")
    return cfg


def _insights_agent_checked(r: Reader, cfg: ObservabilityConfig) -> dict:
    """The agent ConfigMap's inputs for Observability's rules, as the stack gives them (with azureMonitor, a
    `monitoring` handle: its fields are not read here); its settings without Azure Monitor are the stack's problem."""
    if not (cfg.enabled and cfg.azure_monitor):
        for given in (["observability.insightsAgentSettings"] if cfg.insights_agent_settings else []) + \
                (["observability.insightsAgentConfig"] if not cfg.insights_agent_config else []):
            r.problem(f"{given} needs observability.enabled and observability.azureMonitor true: Container "
                      "Insights' agent ConfigMap is written with Azure Monitor's data collection, and without it "
                      "there is none")
        return {}
    return {"monitoring": {}, "insights_agent_config": cfg.insights_agent_config,
            "insights_agent_settings": cfg.insights_agent_settings}


def observability_prod_checks(r: Reader, environment: str, obs: ObservabilityConfig) -> None:
    if environment == "prod":
        if obs.enabled and not obs.alert_emails:
            r.problem("observability.alertEmails must list at least one address when environment is 'prod'")
        if obs.enabled and not obs.azure_monitor:
            r.problem("observability.azureMonitor false is for dev: prod keeps its logs, metrics and alerts in Azure "
                      "Monitor, outside the cluster")

