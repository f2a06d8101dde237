"""Azure monitoring (components/llmplatform/azure_monitoring.py): the workspaces, managed Prometheus' recording
rules, managed Grafana's admins, and alerts that reach someone."""
from __future__ import annotations

import json
import re

import llmplatform
import pulumi
import pytest

from offline import runner as offline
from config.loader import parse_config
from config.reader import ConfigError

from tests.components.test_components_alone import GRAFANA_ROLES
from tests.conftest import PLANNED, UPSTREAM, planned, variant
from tests.components.test_observability import release


RG = "rg-test"


def test_managed_grafana_admits_the_configured_groups():
    def program():
        llmplatform.AzureMonitoring("m", {"location": "westeurope", "resource_group_name": RG, "managed_grafana": True,
                                          "grafana_admin_group_ids": ["44444444-4444-4444-4444-444444444444"],
                                          "grafana_viewer_group_ids": ["55555555-5555-5555-5555-555555555555"]})
    plan = offline.run_function(program)
    grafana = plan.one("azure-native:dashboard:Grafana")
    granted = {(a.inputs["principalId"], GRAFANA_ROLES.get(a.inputs["roleDefinitionId"].rsplit("/", 1)[1]),
                a.inputs["principalType"]) for a in plan.of_type("azure-native:authorization:RoleAssignment")
               if a.inputs["scope"].endswith("/" + grafana.inputs["workspaceName"])}
    assert granted == {("44444444-4444-4444-4444-444444444444", "Grafana Admin", "Group"),
                       ("55555555-5555-5555-5555-555555555555", "Grafana Viewer", "Group")}


def test_a_managed_grafana_nobody_may_open_is_named(any_plan):
    from tests.components.test_components_alone import GRAFANA_ROLES
    for grafana in any_plan.of_type("azure-native:dashboard:Grafana"):
        roles = [a for a in any_plan.of_type("azure-native:authorization:RoleAssignment")
                 if a.inputs["scope"].endswith("/" + grafana.inputs["workspaceName"])
                 and a.inputs["roleDefinitionId"].rsplit("/", 1)[1] in GRAFANA_ROLES]
        assert roles or any("Grafana role" in w for w in any_plan.warnings)


def silent_alerts(plan):
    """Azure alert rules with no action group: Azure Monitor evaluates and fires them and notifies nobody (the REST
    specs make `actions` optional on Microsoft.AlertsManagement/prometheusRuleGroups rules and on metricAlerts)."""
    groups = [f"{g.name}/{r['alert']}" for g in plan.of_type("azure-native:alertsmanagement:PrometheusRuleGroup")
              for r in g.inputs["rules"] if "alert" in r and not r.get("actions")]
    metric = [a.name for a in plan.of_type("azure-native:monitor:MetricAlert") if not a.inputs.get("actions")]
    return groups + metric


def test_azure_monitoring_wiring(dev, prod):
    mc = prod.one("azure-native:containerservice:ManagedCluster").inputs
    assert mc["azureMonitorProfile"]["metrics"]["enabled"] is True
    oms = mc["addonProfiles"]["omsagent"]
    assert oms["enabled"] and oms["config"]["useAADAuth"] == "true"
    assert oms["config"]["logAnalyticsWorkspaceResourceID"].endswith(
        "/providers/Microsoft.OperationalInsights/workspaces/log-llmp-prod")
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
    storage = prod.one("azure-native:monitor:MetricAlert",
                       "observability-postgres-storage").inputs["criteria"]["allOf"][0]
    assert (storage["metricName"], storage["operator"], storage["threshold"]) == ("storage_percent", "GreaterThan", 80)
    # down: is_db_alive (1 or 0 a minute) never 1 over five minutes, paged like the others
    alive = prod.one("azure-native:monitor:MetricAlert", "observability-postgres-alive").inputs
    (criterion,) = alive["criteria"]["allOf"]
    assert (criterion["metricName"], criterion["timeAggregation"], criterion["operator"], criterion["threshold"]) == \
        ("is_db_alive", "Maximum", "LessThan", 1)
    assert alive["actions"][0]["actionGroupId"].endswith(
        "/providers/Microsoft.Insights/actionGroups/ag-llmp-prod-oncall")
    assert (alive["windowSize"], alive["severity"]) == ("PT5M", 1)
    grafana = prod.one("azure-native:dashboard:Grafana").inputs["properties"]
    assert grafana["grafanaIntegrations"]["azureMonitorWorkspaceIntegrations"][0][
        "azureMonitorWorkspaceResourceId"].endswith("/providers/Microsoft.Monitor/accounts/amw-llmp-prod")
    assert dev.of_type("azure-native:dashboard:Grafana") == [] and dev.of_type("azure-native:monitor:ActionGroup") == []


# Streams that collect the same data twice (azure-monitor-docs containers/includes/data-collection-rule-streams.md):
# the default group holds every Container Insights stream, ContainerLogV2 and its high-scale twin "will result in
# duplicate data", and Perf and InsightsMetrics hold the metrics managed Prometheus collects from the same cluster
_GROUP = "Microsoft-ContainerInsights-Group-Default"
_TWINS = {"Microsoft-ContainerLogV2", "Microsoft-ContainerLogV2-HighScale"}
_PROMETHEUS_METRICS = {_GROUP, "Microsoft-Perf", "Microsoft-InsightsMetrics"}


@pytest.mark.parametrize("name", PLANNED)
def test_container_insights_is_collected_once_per_cluster(name):
    """The monitoring add-on (`omsagent`, Entra auth) collects nothing by itself: a Container Insights data collection
    rule associated with the cluster tells its agent what to send (what `az aks enable-addons -a monitoring` creates
    from the client, azure-cli acs/addonconfiguration.py; Microsoft's onboarding template creates it beside the
    add-on). Exactly one such rule per cluster with the add-on, each table in it once, and none of the metrics the
    cluster's managed Prometheus sends to the Azure Monitor workspace: a second association (or Microsoft's `MSCI-...`
    rule beside ours), or Perf beside Prometheus, would ingest, and bill, the same data twice."""
    plan = planned(name)
    rules = {r.inputs["dataCollectionRuleName"]: r.inputs
             for r in plan.of_type("azure-native:monitor:DataCollectionRule")
             if any(e.get("extensionName") == "ContainerInsights"
                    for e in r.inputs.get("dataSources", {}).get("extensions", []))}
    streams = {}
    for rule_name, rule in rules.items():
        [extension] = rule["dataSources"]["extensions"]
        streams[rule_name] = extension["streams"]
        assert len(set(streams[rule_name])) == len(streams[rule_name]), rule
        assert streams[rule_name] == [_GROUP] or (_GROUP not in streams[rule_name]
                                                  and not _TWINS <= set(streams[rule_name])), streams
        assert [s for flow in rule["dataFlows"] for s in flow["streams"]] == streams[rule_name], rule
    associations = [a.inputs for a in plan.of_type("azure-native:monitor:DataCollectionRuleAssociation")
                    if str(a.inputs.get("dataCollectionRuleId", "")).rsplit("/", 1)[-1] in rules]
    for cluster in plan.of_type("azure-native:containerservice:ManagedCluster"):
        add_on = cluster.inputs.get("addonProfiles", {}).get("omsagent", {})
        on_it = [a for a in associations if a["resourceUri"].endswith("/" + cluster.inputs["resourceName"])]
        assert len(on_it) == (1 if add_on.get("enabled") else 0), (cluster.name, on_it)
        if on_it and cluster.inputs.get("azureMonitorProfile", {}).get("metrics", {}).get("enabled"):
            sent = set(streams[on_it[0]["dataCollectionRuleId"].rsplit("/", 1)[-1]])
            assert not sent & _PROMETHEUS_METRICS, (cluster.name, sent & _PROMETHEUS_METRICS)
    assert len(associations) == len(rules), (associations, rules)  # no rule associated twice, none left unused


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


def test_a_stack_whose_alerts_reach_nobody_is_told_so(any_plan):
    if silent_alerts(any_plan):
        assert any("alertEmails" in w and "silently" in w for w in any_plan.warnings), silent_alerts(any_plan)
    else:
        assert not any("alertEmails" in w and "silently" in w for w in any_plan.warnings)


def test_llmd_stack_alerts_silently_and_prod_refuses_to():
    assert silent_alerts(variant("llmd"))  # staging without alertEmails: the advisory above is not vacuous
    raw = {k.split(":", 1)[1]: v for k, v in offline.stack_config("prod", {"observability": {"alertEmails": []}}).items()}
    with pytest.raises(ConfigError, match="alertEmails"):
        parse_config(raw, "p", "prod")


def test_an_unset_name_prefix_holds_the_resource_name_to_an_azure_name_rule():
    """Without name_prefix the workspaces are named after the resource name: a name Azure refuses is refused before
    anything registers, naming name_prefix; a YAML program's camelCase name is a valid Azure name start."""
    def program(name):
        return lambda: llmplatform.AzureMonitoring(name, {"location": "westeurope", "resource_group_name": RG})
    with pytest.raises(llmplatform.ComponentInputError) as error:
        offline.run_function(program("team monitoring"))
    assert [e["property_path"] for e in error.value.errors] == ["name_prefix"]
    assert "'team monitoring'" in str(error.value) and "give a name_prefix" in str(error.value)
    plan = offline.run_function(program("teamMonitoring"))
    assert plan.one("azure-native:operationalinsights:Workspace").inputs["workspaceName"] == "log-teamMonitoring"


def fileservices_metrics() -> dict[str, dict]:
    """Microsoft's metric definitions of Microsoft.Storage/storageAccounts/fileServices (vendored, cited table)."""
    from tests.conftest import UPSTREAM
    rows = [line.split("\t") for line in (UPSTREAM / "metrics" / "azure-storage-fileservices.tsv").read_text()
            .splitlines() if line and not line.startswith("#")]
    return {r[0]: {"unit": r[1], "aggregations": r[2].split(", "), "dimensions": r[3].split(","),
                   "grains": r[4].split(",")} for r in rows}


def iso_minutes(duration: str) -> int:
    match = re.fullmatch(r"PT(?:(\d+)H)?(?:(\d+)M)?", duration)
    assert match, duration
    return int(match.group(1) or 0) * 60 + int(match.group(2) or 0)


def test_the_model_share_pages_before_it_is_full(prod, dev):
    """A full share fails the preload Job and every model pull (ENOSPC). The metric alert reads the used capacity
    of the very share the model servers mount (the PersistentVolume's account and share), on that account's file
    service, as Azure defines the metric (bytes, Average, a value an hour, split by FileShare on a provisioned share),
    and fires below the share's quota (GiB, 2**30 bytes), paging the action group. dev has no Azure monitoring."""
    from llmplatform.monitoring import share_full_bytes
    metrics = fileservices_metrics()
    pv = next(v for v in prod.of_type("kubernetes:core/v1:PersistentVolume")
              if v.inputs["spec"].get("csi", {}).get("driver") == "file.csi.azure.com")
    attrs = pv.inputs["spec"]["csi"]["volumeAttributes"]
    share = next(s for s in prod.of_type("azure-native:storage:FileShare") if s.inputs["shareName"] == attrs["shareName"])
    assert prod.one("azure-native:storage:StorageAccount").inputs["sku"]["name"].startswith("Premium_")  # provisioned
    alert = prod.one("azure-native:monitor:MetricAlert", "observability-model-share-full").inputs
    (scope,) = alert["scopes"]
    assert re.fullmatch(rf".*/{attrs['storageAccount']}/fileServices/default", scope, re.I), scope
    (criterion,) = alert["criteria"]["allOf"]
    assert criterion["metricNamespace"] == "Microsoft.Storage/storageAccounts/fileServices"
    definition = metrics[criterion["metricName"]]
    assert definition["unit"] == "Bytes" and criterion["timeAggregation"] in definition["aggregations"]
    assert iso_minutes(alert["windowSize"]) >= max(iso_minutes(g) for g in definition["grains"])  # holds a value
    assert iso_minutes(alert["evaluationFrequency"]) <= iso_minutes(alert["windowSize"])
    (dimension,) = criterion["dimensions"]
    assert dimension["name"] in definition["dimensions"]
    assert (dimension["operator"], dimension["values"]) == ("Include", [attrs["shareName"]])
    quota = share.inputs["shareQuota"] * 2 ** 30
    assert criterion["operator"] == "GreaterThan" and 0.5 * quota < criterion["threshold"] < quota
    assert criterion["threshold"] == share_full_bytes(share.inputs["shareQuota"])
    assert alert["actions"][0]["actionGroupId"].endswith(
        "/providers/Microsoft.Insights/actionGroups/ag-llmp-prod-oncall")
    assert not [a for a in dev.of_type("azure-native:monitor:MetricAlert")]


def test_the_share_threshold_is_a_share_of_the_quota_in_binary_bytes():
    """Azure's share quota is GiB; Microsoft's own example: 80 % of a 100 TiB share is 87960930222080 bytes
    (MicrosoftDocs/azure-docs articles/storage/files/files-monitoring-alerts.md)."""
    from llmplatform.monitoring import share_full_bytes
    assert share_full_bytes(100 * 1024, 80) == 87960930222080
    assert share_full_bytes(100) == 91268055040  # 85 % of 100 GiB


def test_grafana_name_is_held_to_the_services_rule_and_named_only_with_managed_grafana():
    """The workspace's name as Azure takes it (2-30, a letter first, a letter or digit last; NameIsInvalidFormatOrTooLong
    otherwise), given only when the component makes the workspace; the default stays graf-<prefix> cut at 23."""
    from llmplatform.input_rules import problems_of
    from llmplatform.testing import run
    import llmplatform

    def problems(**args):
        return [(p.path, p.value, p.allowed) for p in problems_of("AzureMonitoring", {
            "location": "westeurope", "resource_group_name": "rg", **args})]

    assert problems(managed_grafana=True, grafana_name="graf-acme-prod-0a1b2c") == []
    for bad in ("1graf", "graf_acme", "graf-", "g" * 31):
        ((path, value, allowed),) = problems(managed_grafana=True, grafana_name=bad)
        assert (path, value) == ("grafana_name", bad) and allowed.startswith("2-30 letters, digits and hyphens")
    assert problems(grafana_name="graf-acme") == [
        ("grafana_name", "graf-acme", "unset without {managed_grafana} true: it names the Managed Grafana workspace "
                                      "the component makes then")]

    def names(**args) -> list:
        plan = run(lambda: llmplatform.AzureMonitoring("mon", {"location": "westeurope", "resource_group_name": "rg",
                                                                "managed_grafana": True, **args}))
        return [r.inputs["workspaceName"] for r in plan.resources if r.type == "azure-native:dashboard:Grafana"]

    assert names(grafana_name="graf-acme-prod-0a1b2c") == ["graf-acme-prod-0a1b2c"]
    assert names(name_prefix="acme-prod") == ["graf-acme-prod"]


def test_two_grafana_workspaces_of_one_name_in_two_resource_groups_are_refused_by_the_kit():
    """The testing kit answers as Azure does (NameNotUnique beyond the resource group): one name in two resource
    groups is one workspace; two names are two."""
    import pytest
    from llmplatform.testing import ProgramError, run
    import llmplatform

    def program(*names: str):
        def build() -> None:
            for i, grafana in enumerate(names):
                llmplatform.AzureMonitoring(f"mon{i}", {"location": "westeurope", "resource_group_name": f"rg{i}",
                                                        "name_prefix": f"acme{i}", "managed_grafana": True,
                                                        "grafana_name": grafana})
        return build

    with pytest.raises(ProgramError, match="workspaceName=graf-acme"):
        run(program("graf-acme", "graf-acme"))
    run(program("graf-acme-0a1b2c", "graf-acme-3d4e5f"))


def test_a_grafana_name_given_as_an_output_without_managed_grafana_is_shown_as_one():
    """Refused as a plain name is (it names a workspace the component does not make), and shown as what the caller
    gave: an output, not `grafana_name=None`, which read as if nothing were given."""
    import pulumi
    import pytest
    from llmplatform import ComponentInputError
    from llmplatform.testing import run
    import llmplatform

    def build() -> None:
        llmplatform.AzureMonitoring("mon", {"location": "westeurope", "resource_group_name": "rg",
                                            "grafana_name": pulumi.Output.from_input("graf-acme")})

    with pytest.raises(ComponentInputError) as caught:
        run(build)
    said = str(caught.value)
    assert "grafana_name=an Output (known only at deploy time) is invalid; allowed: unset without managed_grafana " \
           "true" in said and "None" not in said, said


def test_protect_reaches_the_stores_alone():
    """`protect` in AzureMonitoring's options protects what a new one would lose (the two workspaces' logs and metrics
    so far, Managed Grafana's dashboards) and nothing that is made again as it was (the action group, the grants):
    a child takes its parent's protect unless it sets its own (pulumi 3.272.0 resource.py, "Infer protection from
    parent"), so each of those sets protect=False. Without it nothing is protected."""
    stores = {"azure-native:operationalinsights:Workspace", "azure-native:monitor:AzureMonitorWorkspace",
              "azure-native:dashboard:Grafana"}

    def program(protect):
        def run():
            llmplatform.AzureMonitoring("m", {"location": "westeurope", "resource_group_name": RG,
                                              "managed_grafana": True, "alert_emails": ["oncall@example.com"],
                                              "grafana_admin_group_ids": ["44444444-4444-4444-4444-444444444444"]},
                                        pulumi.ResourceOptions(protect=protect))
        return run
    plan = offline.run_function(program(True))
    children = [r for r in plan.resources if r.type != "llmplatform:index:AzureMonitoring"]
    assert {r.type for r in children if r.options["protect"]} == stores
    assert {r.type for r in children if not r.options["protect"]} >= {
        "azure-native:monitor:ActionGroup", "azure-native:authorization:RoleAssignment"}
    assert [r.name for r in offline.run_function(program(False)).resources if r.options["protect"]] == []
