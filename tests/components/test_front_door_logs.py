"""GlobalEndpoint's logs (components/llmplatform/front_door.py, input_rules/edge.py) and the global stack's
`global.logAnalyticsWorkspaceId`, `global.logRetentionDays`, `global.frontDoor.logCategories` (config/regions.py):
a diagnostic setting on the Front Door profile sending its WAF, health probe and access logs to a central workspace
or to one the stack makes, every refusal naming the input, its value and what is allowed, the workspace in the cost
estimate, and the whole an addition for the pull-request check.

Before, the profile had no diagnostic setting: the WAF log an operator needs to find a prompt blocked 403, the access
log and the health probe log existed nowhere."""

import json

import pytest
import llmplatform

from offline import plan as plan_cli, plan_diff, runner as offline

from tests.conftest import plan_for

CENTRAL = ("/subscriptions/1bee6918-d6f8-3ad7-d427-5823d6cc83b5/resourceGroups/rg-central/providers/"
           "Microsoft.OperationalInsights/workspaces/log-central")
CATEGORIES = ["FrontDoorWebApplicationFirewallLog", "FrontDoorHealthProbeLog", "FrontDoorAccessLog"]
WORKSPACE, SETTING = "azure-native:operationalinsights:Workspace", "azure-native:monitor:DiagnosticSetting"


def _edge(**logs) -> offline.Plan:
    def program():
        edge = llmplatform.GlobalEndpoint("edge", {"resource_group_name": "rg", "name_prefix": "edge",
                                                   "origins": [{"name": "weu", "host": "weu.llm.example.com"}],
                                                   **logs})
        import pulumi
        pulumi.export("workspace", edge.log_analytics_workspace_id)
    return offline.run_function(program)


def _refusal(**logs) -> str:
    with pytest.raises(Exception) as refused:
        _edge(**logs)
    return str(refused.value)


def test_with_a_location_the_component_makes_a_workspace_and_sends_every_category_to_azure_diagnostics():
    """The workspace as AzureMonitoring makes the regional one (PerGB2018, the retention given); the setting on the
    profile names each category (no category group, no metrics) and no logAnalyticsDestinationType: Front Door's logs
    have no resource-specific table, only AzureDiagnostics, which the docs' WAF query reads (supported logs for
    Microsoft.Cdn/profiles; monitor-front-door-reference.md)."""
    plan = _edge(location="westeurope", log_retention_days=90)
    workspace, setting = plan.one(WORKSPACE), plan.one(SETTING)
    assert workspace.inputs == {"workspaceName": "log-edge", "resourceGroupName": "rg", "location": "westeurope",
                                "sku": {"name": "PerGB2018"}, "retentionInDays": 90, "tags": {}}
    profile = plan.one("azure-native:cdn:Profile")
    assert setting.inputs["resourceUri"].endswith("/providers/Microsoft.Cdn/profiles/afd-edge") \
        and profile.urn in setting.dependencies
    assert workspace.urn in setting.dependencies
    assert setting.inputs["logs"] == [{"category": c, "enabled": True} for c in CATEGORIES]
    assert "logAnalyticsDestinationType" not in setting.inputs and "metrics" not in setting.inputs
    assert setting.inputs["workspaceId"] == plan.outputs["workspace"]


def test_a_workspace_given_gets_the_logs_and_none_is_made():
    plan = _edge(log_analytics_workspace_id=CENTRAL, log_categories=["FrontDoorWebApplicationFirewallLog"])
    assert not plan.of_type(WORKSPACE)
    setting = plan.one(SETTING)
    assert setting.inputs["workspaceId"] == CENTRAL and plan.outputs["workspace"] == CENTRAL
    assert setting.inputs["logs"] == [{"category": "FrontDoorWebApplicationFirewallLog", "enabled": True}]


def test_without_a_workspace_or_a_location_nothing_is_logged_as_before():
    plan = _edge()
    assert not plan.of_type(WORKSPACE) and not plan.of_type(SETTING) and plan.outputs["workspace"] is None


@pytest.mark.parametrize("logs, message", [
    ({"log_analytics_workspace_id": "1bee6918-d6f8-3ad7-d427-5823d6cc83b5"},
     "input log_analytics_workspace_id='1bee6918-d6f8-3ad7-d427-5823d6cc83b5' is invalid; allowed: a Log Analytics "
     "workspace's resource ID, /subscriptions/<subscription GUID>/resourceGroups/<group>/providers/"
     "Microsoft.OperationalInsights/workspaces/<name>"),
    ({"log_analytics_workspace_id": "1bee6918-d6f8-3ad7-d427-5823d6cc83b5"}, "a GUID alone is the workspace's "
                                                                            "Workspace ID"),
    # an Azure Monitor workspace (managed Prometheus) is no Log Analytics workspace
    ({"log_analytics_workspace_id": CENTRAL.replace("Microsoft.OperationalInsights/workspaces",
                                                    "Microsoft.Monitor/accounts")},
     "Microsoft.Monitor/accounts/log-central' is invalid; allowed: a Log Analytics workspace's resource ID"),
    ({"log_analytics_workspace_id": CENTRAL, "location": "westeurope"},
     "input location='westeurope' is invalid; allowed: unset with log_analytics_workspace_id"),
    ({"log_analytics_workspace_id": CENTRAL, "log_retention_days": 90},
     "input log_retention_days=90 is invalid; allowed: unset with log_analytics_workspace_id (a workspace given "
     "keeps its owner's retention)"),
    ({"log_retention_days": 90}, "input log_retention_days=90 is invalid; allowed: unset without location"),
    ({"log_categories": ["FrontDoorAccessLog"]},
     "input log_categories=['FrontDoorAccessLog'] is invalid; allowed: unset without log_analytics_workspace_id or "
     "location: without a workspace nothing is logged"),
    ({"location": "westeurope", "log_retention_days": 29},
     "input log_retention_days=29 is invalid; allowed: a whole number from 30 to 730"),
    ({"location": "westeurope", "log_retention_days": 731},
     "input log_retention_days=731 is invalid; allowed: a whole number from 30 to 730"),
    ({"location": "West Europe"}, "input location='West Europe' is invalid; allowed: an Azure region's name"),
    ({"location": "westeurope", "log_categories": []},
     "input log_categories=[] is invalid; allowed: a list of one or more of FrontDoorWebApplicationFirewallLog, "
     "FrontDoorHealthProbeLog, FrontDoorAccessLog"),
    ({"location": "westeurope", "log_categories": ["AzureCdnAccessLog"]},  # classic CDN's, not Front Door's
     "input log_categories[0]='AzureCdnAccessLog' is invalid; allowed: FrontDoorWebApplicationFirewallLog, "
     "FrontDoorHealthProbeLog, FrontDoorAccessLog"),
    ({"location": "westeurope", "log_categories": ["FrontDoorAccessLog", "FrontDoorAccessLog"]},
     "input log_categories[1]='FrontDoorAccessLog' is invalid; allowed: a category no other entry names"),
])
def test_a_bad_log_input_is_refused_naming_it_its_value_and_what_is_allowed(logs, message):
    refusal = _refusal(**logs)
    assert refusal.startswith("GlobalEndpoint edge: ") and message in refusal, refusal


def test_a_workspace_id_given_as_an_output_that_resolves_empty_is_refused_not_left_unlogged():
    """The setting was built for it (its presence decided): an output of a stack reference that resolves to "" is
    refused once it resolves, as the other components' workspace ids are (checks.PRESENCE_DECIDES)."""
    import pulumi

    def program():
        llmplatform.GlobalEndpoint("edge", {"resource_group_name": "rg", "name_prefix": "edge",
                                            "origins": [{"name": "weu", "host": "weu.llm.example.com"}],
                                            "log_analytics_workspace_id": pulumi.Output.from_input("")})
    with pytest.raises(Exception) as refused:
        offline.run_function(program)
    assert "log_analytics_workspace_id: resolved to an empty value ('')" in str(refused.value)


# ---- the global stack ------------------------------------------------------------------------------------------------

def test_the_global_stack_makes_its_own_workspace_by_default_and_estimates_it():
    """`log-<prefix>-global` in the stack's location and resource group, retention global.logRetentionDays (90 in
    Pulumi.global.yaml, as the regional prod files keep theirs), every category; the stack exports where the logs
    are."""
    plan = plan_for("global")
    workspace, setting = plan.one(WORKSPACE), plan.one(SETTING)
    assert workspace.inputs["workspaceName"] == "log-llmp-global" and workspace.inputs["location"] == "westeurope"
    assert workspace.inputs["resourceGroupName"] == "rg-llmp-global" and workspace.inputs["retentionInDays"] == 90
    assert setting.inputs["logs"] == [{"category": c, "enabled": True} for c in CATEGORIES]
    assert plan.outputs["logAnalyticsWorkspaceId"] == setting.inputs["workspaceId"]
    kept = plan_for("global", {"global": {"logRetentionDays": 60, "frontDoor": {
        "logCategories": ["FrontDoorWebApplicationFirewallLog", "FrontDoorHealthProbeLog"]}}})
    assert kept.one(WORKSPACE).inputs["retentionInDays"] == 60
    assert [c["category"] for c in kept.one(SETTING).inputs["logs"]] == CATEGORIES[:2]


def test_a_global_stack_file_without_the_retention_key_keeps_the_workspace_30_days():
    from config import regions
    from tests.conftest import PROJECT_DIR
    raw = regions.raw_stack_file(PROJECT_DIR / "Pulumi.global.yaml", "aks-llm-platform")
    raw["global"].pop("logRetentionDays")
    assert regions.parse_global(raw, "aks-llm-platform", "global").log_retention_days == 30


def test_the_workspace_and_its_retention_are_in_the_cost_estimate(tmp_path):
    out = tmp_path / "build"
    assert plan_cli.main(["--stack", "global", "--out", str(out), "--set", "global.logRetentionDays=90",
                          "--set", "cost.logAnalyticsGbPerDay=0.2"]) == 0
    lines = json.loads((out / "global.what-if" / "cost.json").read_text())["lines"]
    mine = {line["item"]: line["idle"] for line in lines if line["resource"] == "edge-logs"}
    # 0.2 GB/day x 30.4 days x $2.99, and 59 days beyond the 31 ingestion includes x $0.10 per GB-month
    assert mine == {"Log Analytics 0.2 GB/day": round(0.2 * 30.4 * 2.99, 2),
                    "Log Analytics retention 90 days (59 beyond the 31 included)": round(0.2 * 59 * 0.10, 2)}


def test_a_central_workspace_takes_the_logs_and_the_estimate_says_its_ingestion_is_billed_there(tmp_path):
    """The repository's stack file with its retention key swapped for a central workspace, as the docs say."""
    from tests.conftest import PROJECT_DIR
    stack_file = tmp_path / "Pulumi.global.yaml"
    stack_file.write_text((PROJECT_DIR / "Pulumi.global.yaml").read_text().replace(
        "logRetentionDays: 90", f"logAnalyticsWorkspaceId: {CENTRAL}"))
    out = tmp_path / "build"
    assert plan_cli.main(["--stack", "global", "--out", str(out), "--stack-file", str(stack_file)]) == 0
    resources = json.loads((out / "global.what-if" / "resources.json").read_text())["resources"]
    assert not [r for r in resources if r["type"] == WORKSPACE]
    [setting] = [r for r in resources if r["type"] == SETTING]
    assert setting["inputs"]["workspaceId"] == CENTRAL
    lines = json.loads((out / "global.what-if" / "cost.json").read_text())["lines"]
    [line] = [line for line in lines if line["resource"] == "edge-diagnostics"]
    assert line["item"] == f"logs to {CENTRAL}: ingestion billed to that workspace, not counted"
    assert line["idle"] == line["peak"] == 0.0


@pytest.mark.parametrize("sets, message", [
    (["global.logAnalyticsWorkspaceId=1bee6918-d6f8-3ad7-d427-5823d6cc83b5"],
     "global.logAnalyticsWorkspaceId '1bee6918-d6f8-3ad7-d427-5823d6cc83b5' is invalid; allowed: a Log Analytics "
     "workspace's resource ID"),
    (["global.logRetentionDays=7"], "global.logRetentionDays 7 is invalid; allowed: a whole number from 30 to 730"),
    # the repository's file keeps its own workspace 90 days: a central one set beside it is refused naming both
    ([f"global.logAnalyticsWorkspaceId={CENTRAL}"],
     "global.logRetentionDays 90 is invalid; allowed: unset with global.logAnalyticsWorkspaceId (a workspace given "
     "keeps its owner's retention)"),
    (["global.frontDoor.logCategories[0]=FrontDoorWafLog"],
     "global.frontDoor.logCategories[0] 'FrontDoorWafLog' is invalid; allowed: FrontDoorWebApplicationFirewallLog, "
     "FrontDoorHealthProbeLog, FrontDoorAccessLog"),
    (["global.frontDoor.logCategories[0]=FrontDoorAccessLog", "global.frontDoor.logCategories[1]=FrontDoorAccessLog"],
     "global.frontDoor.logCategories[1] 'FrontDoorAccessLog' is invalid; allowed: a category no other entry names"),
])
def test_a_bad_log_key_stops_the_global_plan_before_any_region_is_planned(tmp_path, capsys, sets, message):
    out = tmp_path / "build"
    code = plan_cli.main(["--stack", "global", "--out", str(out), *[a for s in sets for a in ("--set", s)]])
    captured = capsys.readouterr()
    assert code == 1 and message in captured.err, captured.err
    assert "Traceback" not in captured.out + captured.err
    assert "OFFLINE PLAN" not in captured.out and not out.exists()  # no region planned, nothing written


def test_the_logs_are_additions_for_the_pull_request_check():
    """The global stack before (no location, no workspace: the profile logged nowhere) and with its logs: the
    workspace and the setting are added, nothing existing is updated, replaced or deleted; the check passes."""
    def doc(plan):
        return plan_diff.resources_by_urn(plan_cli.resources_document(plan))
    before = offline.run_function(lambda: llmplatform.GlobalEndpoint("edge", {
        "resource_group_name": "rg", "name_prefix": "edge", "origins": [{"name": "weu", "host": "weu.example.com"}]}))
    after = offline.run_function(lambda: llmplatform.GlobalEndpoint("edge", {
        "resource_group_name": "rg", "name_prefix": "edge", "origins": [{"name": "weu", "host": "weu.example.com"}],
        "location": "westeurope"}))
    result = plan_diff.diff_documents(doc(before), doc(after))
    assert {after.by_urn(u).type for u in result["added"]} == {WORKSPACE, SETTING}
    assert not result["changed"] and not result["replaced"] and not result["removed"], result
    assert not plan_diff.blocking(result, set(), False)
