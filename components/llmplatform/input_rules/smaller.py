"""The value rules of the smaller components: ModelAutoscaler, Observability, AzureMonitoring, CostBudget,
AppNamespace, WorkloadIdentity."""
import difflib
import json
import math
import re
from importlib import resources
from typing import Any, Mapping

from .. import azure_names as names
from ..choices import ALERT_RECEIVER_KINDS, AUTOSCALING_MODES, POD_SECURITY_LEVELS
from ..inference_specs import interceptor_grace_seconds
from ..regions import azure_region, handle_region
from ..route_guard import POLICY_NAME, host_problem
from ..rules import (ALERT_EMAILS_MAX, PROMETHEUS_DURATION, Problem, Rules, alert_email_problem, known,
                     up_to_host)
from ..upgrades import PROMETHEUS_GRACE_SECONDS
from .shared import (SERVER_TIMEOUT_ROUTE_FIELDS, drain_rule, each_once, group_ids_rule, keda_rule,
                     server_timeouts_rule, wait_budget_rule, MAX_NODES)


def model_autoscaler(args: Mapping[str, Any]) -> list[Problem]:
    r = Rules(args, "ModelAutoscaler")
    mode = r.choice("mode", AUTOSCALING_MODES)
    scales_to_zero = mode in ("requests", None)
    low = r.whole("min_replicas", 0 if scales_to_zero else 1, MAX_NODES,
                  "" if scales_to_zero else f" with {r.ref('mode')} {mode} (an HPA keeps one replica at least; 0 "
                                            "scales to zero in requests mode only)")
    high = r.whole("max_replicas", 1, MAX_NODES)
    if low is not None and high is not None and high < low:
        r.add("max_replicas", high, f"at least {r.ref('min_replicas')} ({low})")
    if mode == "requests" and not r.args.get("keda"):
        r.add("keda", None, f"Observability's keda endpoints with {r.ref('mode')} requests")
    elif mode == "requests":
        keda_rule(r)
    server = r.args.get("model_server")
    if mode == "requests" and isinstance(server, Mapping) and known(server, "hosts") == []:
        r.add("model_server", "a model server built without keda",
              f"with {r.ref('mode')} requests, a model server built with Observability's keda (InferenceStack's or "
              "OllamaServer's `keda`): requests mode counts the requests passing the KEDA interceptor, and this "
              "server's do not pass it, so it would never see one (at min_replicas 0, never start a replica); or "
              "mode cpu or gpu-memory")
    if mode == "requests":
        route_hosts_rule(r)
    if isinstance(server, Mapping) and known(server, "autoscaled") is False:
        # Pulumi keeps the replicas of a Deployment it does not leave to an autoscaler (no ignoreChanges): an update
        # of it sends its `replicas` again and sets back the count the autoscaler chose
        r.add("model_server", "a model server built with autoscaled false",
              "a model server whose replica count Pulumi leaves to the autoscaler: built with autoscaled true "
              "(InferenceStack's or OllamaServer's `autoscaled`); with false, every `pulumi up` that updates its "
              "Deployment sets back the replicas the autoscaler chose")
    if mode == "gpu-memory" and isinstance(server, Mapping) and known(server, "accelerator") == "cpu":
        # DCGM labels a GPU's metrics with the pod holding it, so a CPU pod has no gpu_memory_utilization; an HPA
        # with a metric it cannot read never scales down (Kubernetes HPA: a scale-down is skipped when a metric fails)
        r.add("mode", mode, "cpu or requests for a model server on the CPU (accelerator cpu): gpu-memory reads the "
                            "GPU memory of its pods, which a CPU pod has none of, and an HPA with a metric it cannot "
                            "read never scales in")
    r.whole("target_in_flight", 1, 1000)
    r.whole("gpu_memory_target_percent", 10, 100)
    r.whole("cpu_target_percent", 10, 100)
    r.whole("scale_down_stabilization_seconds", 0, 3600)
    timeouts = {"request_timeout_seconds": r.whole("request_timeout_seconds", 1, 86400),
                "cold_start_timeout_seconds": r.whole("cold_start_timeout_seconds", 1, 86400)}
    if mode == "requests":  # the timeouts go into its InterceptorRoute alone
        server_timeouts_rule(r, timeouts)
    return r.problems


def route_hosts_rule(r: Rules) -> None:
    """The model server handle's hosts, which the autoscaler's InterceptorRoute carries in the server's namespace,
    each one the route guard admits (route_guard.host_problem: the policy's own forms and namespace label), so a
    route it would refuse at `pulumi up` is refused before anything registers. InferenceStack's and OllamaServer's
    handles carry such hosts; one built by hand may not (a bare `ollama-scaled`, another namespace's host). A
    namespace not known yet: the form now, the namespace once it resolves (checks.late_rules)."""
    server = r.args.get("model_server")
    hosts, namespace = known(server, "hosts"), known(server, "namespace")
    if not isinstance(hosts, (list, tuple)):
        return
    for i, host in enumerate(hosts):
        wrong = host_problem(host, namespace if isinstance(namespace, str) else None) \
            if isinstance(host, str) else None  # another type: the shape check's
        if wrong:
            r.add(f"model_server.hosts[{i}]", host,
                  f"{wrong}: this autoscaler writes its InterceptorRoute with the model server's hosts in the server's "
                  f"namespace, and the route guard Observability installs with the KEDA HTTP add-on (the "
                  f"ValidatingAdmissionPolicy {POLICY_NAME}) refuses it at `pulumi up` otherwise; InferenceStack's "
                  f"and OllamaServer's `model_server` carry such hosts")


def observability(args: Mapping[str, Any]) -> list[Problem]:
    r = Rules(args, "Observability")
    r.text("app_namespace", names.dns_label)
    r.texts("other_app_namespaces", names.dns_label)
    r.texts("vllm_namespaces", names.dns_label)
    r.texts("client_namespaces", names.dns_label)
    floors = r.given("model_server_min_replicas")
    if isinstance(floors, Mapping):
        app = r.given("app_namespace")
        watched = [*([app] if isinstance(app, str) else []), *(r.given("other_app_namespaces") or []),
                   *(r.given("vllm_namespaces") or [])]
        for ns, floor in floors.items():
            if app is not None and ns not in watched:  # app_namespace an output: the names are not known yet
                r.add(f"model_server_min_replicas[{ns!r}]", floor,
                      f"a namespace the alerts watch: {', '.join(map(repr, watched))} (app_namespace, "
                      "other_app_namespaces, vllm_namespaces)")
            elif isinstance(floor, bool) or not isinstance(floor, int) or floor < 0:
                r.add(f"model_server_min_replicas[{ns!r}]", floor, "a whole number of replicas, 0 or more")
    r.text("name_prefix", names.name_prefix)
    r.text("prometheus_retention", PROMETHEUS_DURATION)
    r.whole("prometheus_storage_gib", 5, 4096)
    r.whole("grafana_storage_gib", 1, 1024)
    r.whole("latency_slo_seconds", 1, 3600)
    ratio = r.number("error_ratio_slo", 0, 1, "a share between 0 and 1, like 0.05")
    if ratio is not None and not 0 < ratio < 1:
        r.add("error_ratio_slo", ratio, "a share between 0 and 1, like 0.05")
    r.whole("gpu_memory_alert_percent", 50, 100)
    # GpuFallbackNodesRunning's `for`: an hour at least (a spot shortage of a peak is no news), a day at most (past
    # that the cost is spent and the alert tells nobody anything new)
    r.whole("gpu_fallback_alert_hours", 1, 24)
    answer = r.whole("request_timeout_seconds", 1, 86400)
    cold = r.whole("cold_start_timeout_seconds", 1, 86400)
    if r.get("keda") and answer and cold:
        # what an InferenceStack behind it takes when not given its own: held as the stack holds its own
        wait_budget_rule(r, answer, cold, "an InferenceStack behind its keda handle takes both when not given its "
                                          "own, and its gate",
                         [k for k in SERVER_TIMEOUT_ROUTE_FIELDS if r.args.get(k) is None])
        drain_rule(r, "the KEDA HTTP interceptor's pods", interceptor_grace_seconds(answer, cold),
                   f"{r.ref('request_timeout_seconds')} + {r.ref('cold_start_timeout_seconds')} + 30 s",
                   "request_timeout_seconds")
    drain_rule(r, "Prometheus's pods", PROMETHEUS_GRACE_SECONDS, "prometheus-operator's default")
    r.whole("interceptor_replicas", 1, 50)
    r.secret_name("grafana_password_secret")
    receiver = r.section("alert_receiver")
    receiver.choice("kind", ALERT_RECEIVER_KINDS)
    receiver.secret_name("secret")
    monitoring_region_rule(r)
    insights_agent_rule(r)
    return r.problems


# Container Insights' agent ConfigMap: each data key is a TOML file of one top-level table, and these are the
# sections and settings the agent's parsers read of each (microsoft/Docker-Provider 3.1.24 tomlparser*.rb, every one
# with its file and line in data/insights_agent_settings.json). A name no parser reads changes nothing, silently.
INSIGHTS_AGENT_READS = json.loads(resources.files(__package__.rpartition(".")[0]).joinpath(  # the package's data/
    "data", "insights_agent_settings.json").read_text(encoding="utf-8"))
INSIGHTS_AGENT_SECTIONS: dict[str, tuple[str, dict[str, tuple[str, ...]]]] = {
    table: (read["data_key"], {section: tuple(names["settings"]) for section, names in read["sections"].items()})
    for table, read in INSIGHTS_AGENT_READS["tables"].items()}
# Settings held to one value, and why: Observability's reason to write the ConfigMap; and high log scale mode, which
# the template's comment says needs the Microsoft-ContainerLogV2-HighScale stream in place of Microsoft-ContainerLogV2
# in the data collection rule (Observability's sends the latter), and which the agent turns on for any value but
# false (tomlparser-common-agent-config.rb 78-80 and 150 at 3.1.24: Ruby reads "false", a string, as true)
HELD_SETTINGS: dict[tuple[str, str, str], tuple[bool, str]] = {
    ("log_collection_settings", "collect_all_kube_events", "enabled"): (
        True, "true, what Observability writes the ConfigMap for (Normal events, the autoscalers' among them, reach "
              "KubeEvents); for Warning events only, {insights_agent_config} false and a ConfigMap of your own"),
    ("agent_settings", "high_log_scale", "enabled"): (
        False, "false: high log scale mode sends the Microsoft-ContainerLogV2-HighScale stream, which Observability's "
               "data collection rule does not collect (it collects Microsoft-ContainerLogV2; Microsoft's template, "
               "https://aka.ms/cihsmode)"),
}


def toml_value_problem(value: Any) -> bool:
    """Whether `value` is no TOML value the ConfigMap can carry: a string, a boolean, a whole or finite number, or a
    list of one kind of those."""
    if isinstance(value, (list, tuple)):
        return any(isinstance(item, (list, tuple)) or toml_value_problem(item) for item in value) \
            or len({type(item) for item in value}) > 1
    if isinstance(value, float):
        return not math.isfinite(value)
    return not isinstance(value, (str, bool, int))


def one_of(given: Any, allowed: tuple[str, ...], what: str) -> str:
    """What is allowed where `given` is no name of `allowed`: the nearest first (the same name in another case
    before a near spelling: the agent's names are case-sensitive, `pods_chunk_size` means `PODS_CHUNK_SIZE`)."""
    near = [name for name in allowed if name.lower() == str(given).lower()] or \
        difflib.get_close_matches(str(given), allowed, 1)
    return (f"did you mean {near[0]!r}? " if near else "") + f"{what}: " + ", ".join(allowed)


def insights_agent_rule(r: Rules) -> None:
    """`insights_agent_settings`: the agent ConfigMap's TOML tables as a TOML reader has them (table, section,
    setting), each a name the agent's parsers read, written only where Observability writes that ConfigMap;
    collect_all_kube_events stays on (its reason to write it)."""
    key = "insights_agent_settings"
    settings = r.given(key)
    if settings is None:
        return
    if not isinstance(settings, Mapping):
        r.add(key, settings, "an object of the agent ConfigMap's tables (`log_collection_settings`) to their "
                             "sections (`stdout`) to their settings")
        return
    writer = ("monitoring" if r.args.get("monitoring") is None else "azure_data_collection"
              if r.flag("azure_data_collection") is False else "insights_agent_config"
              if r.flag("insights_agent_config") is False else None)
    if settings and writer is not None:
        r.add(key, list(settings), f"none while {r.ref(writer)} is {'absent' if writer == 'monitoring' else 'false'}"
                                   ": Observability writes no agent ConfigMap then, so nothing would carry them "
                                   "(set them in your own `kube-system/container-azm-ms-agentconfig`)")
    template = "a table the agent reads of its ConfigMap (microsoft/Docker-Provider 3.1.24 tomlparser*.rb)"
    for table, sections in settings.items():
        at = f"{key}[{table!r}]"
        if table not in INSIGHTS_AGENT_SECTIONS:
            r.add(at, table, one_of(table, tuple(INSIGHTS_AGENT_SECTIONS), template))
        elif not isinstance(sections, Mapping):
            r.add(at, sections, f"an object of {table}'s sections to their settings")
        else:
            read = INSIGHTS_AGENT_SECTIONS[table][1]
            for section, values in sections.items():
                if section not in read:
                    unread = INSIGHTS_AGENT_READS["template_only"].get(f"{table}.{section}")
                    r.add(f"{at}[{section!r}]", section, (f"none: {unread}; " if unread else "") + one_of(
                        section, tuple(read), f"a section the agent reads of {table}"))
                elif not isinstance(values, Mapping):
                    r.add(f"{at}[{section!r}]", values, "an object of that section's settings (`enabled: true`)")
                else:
                    insights_section_rule(r, f"{at}[{section!r}]", (table, section), values)


def insights_section_rule(r: Rules, at: str, section: tuple[str, str], values: Mapping[str, Any]) -> None:
    read = INSIGHTS_AGENT_SECTIONS[section[0]][1][section[1]]
    for name, value in values.items():
        if name not in read:
            r.add(f"{at}[{name!r}]", name, one_of(name, read, f"a setting the agent reads of {'.'.join(section)}"))
        elif toml_value_problem(value):
            r.add(f"{at}[{name!r}]", value, "a string, true or false, a whole or finite number, or a list of one "
                                            "kind of those")
        elif (*section, name) in HELD_SETTINGS and value is not HELD_SETTINGS[(*section, name)][0]:
            r.add(f"{at}[{name!r}]", value, HELD_SETTINGS[(*section, name)][1].format(
                insights_agent_config=r.ref("insights_agent_config")))


def monitoring_region_rule(r: Rules) -> None:
    """The data collection endpoint and rules Observability makes are in the cluster's region, and the one endpoint
    serves twice: the agents read their rules from it (its configuration access endpoint: "same region as the
    monitored resources") and managed Prometheus's rule sends metrics through it (its metrics ingestion endpoint:
    "same region as the destination Azure Monitor workspace"; Azure Monitor's "Data collection endpoints",
    MicrosoftDocs/azure-monitor-docs data-collection-endpoint-overview.md at 05a436ce, ms.date 05/21/2025). Container
    insights wants its Log Analytics workspace in the cluster's region too, but for a few mapped pairs
    (container-insights-region-mapping.md at 1316d7a4). So workspaces in another region than the cluster's are
    refused while Observability collects data for them; a handle that does not carry its region (another caller's) is
    not checked, and Azure decides."""
    monitoring = r.args.get("monitoring")
    where, cluster_at = known(monitoring, "location"), known(r.args.get("cluster"), "location")
    if monitoring is None or r.flag("azure_data_collection") is False or not isinstance(where, str) \
            or not isinstance(cluster_at, str) or handle_region(where) == handle_region(cluster_at):
        return
    r.add("monitoring.location", where,
          f"the cluster's location {cluster_at!r}: Observability makes its data collection endpoint and rules there, "
          "and Azure Monitor wants that endpoint in the Azure Monitor workspace's region for metrics ingestion "
          "(Container insights its Log Analytics workspace too); give workspaces made in the cluster's region "
          f"(AzureMonitoring's location), or {r.ref('azure_data_collection')} false and collect with your own rules")


def azure_monitoring(args: Mapping[str, Any]) -> list[Problem]:
    r = Rules(args, "AzureMonitoring")
    r.text("location", azure_region)
    r.text("name_prefix", names.name_prefix)
    r.whole("log_retention_days", 30, 730)  # Log Analytics (PerGB2018) keeps data 30 to 730 days
    # each address once: the action group gets one email receiver per entry (`email-<index>`), so an address listed
    # twice is mailed twice per alert and spends its 100-emails-an-hour rate limit twice as fast (Azure Monitor
    # service limits); addresses compared without case, as mail systems do
    # a webhook URL given for an address is shown up to its host: its path and query are its token
    each_once(r, "alert_emails", alert_email_problem, "each address once (compared without case): a second receiver "
              "of the same address mails it twice per alert", show=up_to_host)
    emails = r.given("alert_emails")
    if isinstance(emails, (list, tuple)) and len(emails) > ALERT_EMAILS_MAX:
        shown_emails = [up_to_host(e) if isinstance(e, str) else e for e in emails]  # a webhook's token not shown
        r.add("alert_emails", shown_emails, f"at most {ALERT_EMAILS_MAX} addresses, not {len(emails)} (Azure Monitor's "
              "limit of e-mail receivers in an action group)")
    group_ids_rule(r, "grafana_admin_group_ids")
    group_ids_rule(r, "grafana_viewer_group_ids")
    r.text("grafana_name", names.grafana_workspace)
    if r.args.get("grafana_name") is not None and r.flag("managed_grafana") is not True:
        # as given: an output is shown as one (`given` reads it as None, shown as if nothing were given)
        r.add("grafana_name", r.args.get("grafana_name"),
              f"unset without {r.ref('managed_grafana')} true: it names the Managed Grafana workspace the component "
              "makes then")
    return r.problems


# A budget takes at most five notifications, each threshold a percent "between 0 and 1000" (Microsoft.Consumption
# 2024-08-01 BudgetProperties.notifications, Notification.threshold)
MAX_NOTIFICATIONS = 5
BUDGET_START = re.compile(r"(20[1-9][0-9])-(0[1-9]|1[0-2])-01")


def cost_budget(args: Mapping[str, Any]) -> list[Problem]:
    r = Rules(args, "CostBudget")
    amount = r.get("amount")
    if amount is not None and (isinstance(amount, bool) or not isinstance(amount, (int, float)) or amount <= 0):
        r.add("amount", amount, "a number greater than 0 (the monthly amount, in the billing account's currency)")
    groups = r.get("resource_group_names")
    if isinstance(groups, (list, tuple)) and not groups:
        r.add("resource_group_names", groups, "at least one resource group")
    each_once(r, "resource_group_names", names.resource_group, "each group once (compared without case)")
    r.text("budget_name", names.budget)
    count = 0
    for key in ("actual_percents", "forecast_percents"):
        r.declare(key, minimum=1, maximum=1000)
        percents = r.get(key)
        if not isinstance(percents, (list, tuple)):
            if percents is not None:
                r.add(key, percents, "a list of whole percents from 1 to 1000")
            continue
        count += len(percents)
        for i, p in enumerate(percents):
            if isinstance(p, bool) or not isinstance(p, int) or not 1 <= p <= 1000:
                r.add(f"{key}[{i}]", p, "a whole percent from 1 to 1000")
        if len(set(percents)) != len(percents):
            r.add(key, percents, "each percent once (one notification per threshold)")
    if count > MAX_NOTIFICATIONS:
        r.add("forecast_percents", r.get("forecast_percents"), f"at most {MAX_NOTIFICATIONS} notifications with "
              f"{r.ref('actual_percents')} ({r.get('actual_percents')}): Azure's limit per budget")
    start = r.given("start_date")
    if start is not None and (not isinstance(start, str) or not BUDGET_START.fullmatch(start)
                              or start < "2017-06-01"):
        r.add("start_date", start, "the first of a month, YYYY-MM-01, on or after 2017-06-01")
    return r.problems


def app_namespace(args: Mapping[str, Any]) -> list[Problem]:
    r = Rules(args, "AppNamespace")
    r.text("namespace", names.new_namespace)
    r.choice("pod_security", POD_SECURITY_LEVELS)
    return r.problems


def workload_identity(args: Mapping[str, Any]) -> list[Problem]:
    r = Rules(args, "WorkloadIdentity")
    r.text("identity_name", names.managed_identity)
    r.text("namespace", names.dns_label)
    r.text("service_account_name", names.dns_subdomain)
    return r.problems
