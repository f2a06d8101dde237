"""The model share's snapshots watched (components/llmplatform/share_snapshots.py, diagnostics.py, model_store.py): the
vault raises Azure Monitor alerts for failed backup jobs and no classic ones, those alerts reach an action group given
as `alert_action_group_id`, and with a workspace the vault's Azure Backup logs go to its resource-specific tables.

Before, a failed snapshot job said nothing to anyone: the vault sent no monitoring settings, no rule routed its alerts
and its logs went nowhere."""

import inspect
import json
import re
from importlib import resources

import pytest

import llmplatform
from llmplatform.testing import run
from offline import runner as offline

from tests.components.test_components_alone import cluster_handle, provider_opts
from tests.conftest import plan_for

RS = "azure-native:recoveryservices:"
SETTING = "azure-native:monitor:DiagnosticSetting"
RULE = "azure-native:alertsmanagement:AlertProcessingRuleByName"
GROUP = ("/subscriptions/1bee6918-d6f8-3ad7-d427-5823d6cc83b5/resourceGroups/rg-ops/providers/microsoft.insights/"
         "actionGroups/ag-oncall")
WORKSPACE = ("/subscriptions/1bee6918-d6f8-3ad7-d427-5823d6cc83b5/resourceGroups/rg-ops/providers/"
             "Microsoft.OperationalInsights/workspaces/log-ops")
# Azure Backup's six events, sent only in resource-specific mode (backup-azure-diagnostic-events.md)
BACKUP_EVENTS = ["AddonAzureBackupAlerts", "AddonAzureBackupJobs", "AddonAzureBackupPolicy",
                 "AddonAzureBackupProtectedInstance", "AddonAzureBackupStorage", "CoreAzureBackup"]


def _smb(stack: str, **model_store) -> offline.Plan:
    return plan_for(stack, {"modelStore": {"protocol": "smb", "snapshots": True, **model_store}})


def _store(preview: bool = False, **inputs) -> offline.Plan:
    def program() -> None:
        llmplatform.ModelStore("models", {"cluster": cluster_handle(), "account_name": "stmodels1", "namespace": "llm",
                                          "protocol": "smb", "snapshots": True, **inputs}, provider_opts())
    return run(program, preview=preview)


def _fields(args_type: type) -> set[str]:
    """The REST fields an SDK Args class sends, as the plan writes them (its parameters, camelCase)."""
    names = [p for p in inspect.signature(args_type.__init__).parameters if p != "__self__"]
    return {re.sub(r"_([a-z])", lambda m: m.group(1).upper(), n) for n in names}


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_vault_alerts_on_failed_jobs_and_sends_no_classic_alerts(stack):
    """Through the stack's `modelStore` keys: built-in Azure Monitor alerts for every failed job written on (a vault
    where someone turned them off is set back), classic alerts off (retired, and they would double each alert: the
    portal's "Use only Azure Monitor alerts"), as vaults.json 2024-10-01's MonitoringSettings names them."""
    vault = _smb(stack).one(RS + "Vault").inputs["properties"]
    settings = vault["monitoringSettings"]
    assert settings["azureMonitorAlertSettings"]["alertsForAllJobFailures"] == "Enabled"
    assert settings["classicAlertSettings"]["alertsForCriticalOperations"] == "Disabled"


def test_the_vault_sends_every_monitoring_field_as_a_put_from_2024_02_01_on_wants():
    """A vault PUT whose monitoringSettings leave fields out is refused "monitoringSettings parameter is invalid"
    from API 2024-02-01 on (Azure/bicep-types-az#2209; azure-monitor-baseline-alerts#348 passed once the three Site
    Recovery fields were sent too), and the REST example PUTVault_WithMonitoringSettings (2024-10-01) sends all five:
    every field of the installed SDK's AzureMonitorAlertSettingsArgs and ClassicAlertSettingsArgs is in the plan,
    each an AlertsState. Before, two of the five were sent, and the first `up` of a store with snapshots (or of one
    upgraded from 0.42.0) would stop at the vault."""
    from pulumi_azure_native import recoveryservices as rs
    settings = _smb("prod").one(RS + "Vault").inputs["properties"]["monitoringSettings"]
    states = {s.value for s in rs.AlertsState}
    for key, args_type in (("azureMonitorAlertSettings", rs.AzureMonitorAlertSettingsArgs),
                           ("classicAlertSettings", rs.ClassicAlertSettingsArgs)):
        assert set(settings[key]) == _fields(args_type) and len(_fields(args_type)) >= 2, key
        assert set(settings[key].values()) <= states, key
    assert set(settings) == _fields(rs.MonitoringSettingsArgs)


def test_with_the_stacks_diagnostics_the_vaults_backup_logs_go_to_resource_specific_tables():
    """prod (`security.diagnostics`): a diagnostic setting on the vault sending Azure Backup's six events to the
    workspace the share's logs go to, `Dedicated` (in AzureDiagnostics mode no data flows for them), no allLogs (it
    would take the legacy AzureBackupReport and Site Recovery's categories), no metrics."""
    plan = _smb("prod")
    vault = plan.one(RS + "Vault")
    [setting] = [s for s in plan.of_type(SETTING) if vault.urn in s.dependencies]
    share = [s for s in plan.of_type(SETTING) if s.inputs["resourceUri"].endswith("/fileServices/default")]
    assert setting.inputs["resourceUri"].endswith(f"/providers/Microsoft.RecoveryServices/vaults/"
                                                  f"{vault.inputs['vaultName']}")
    assert setting.inputs["logs"] == [{"category": c, "enabled": True} for c in BACKUP_EVENTS]
    assert setting.inputs["logAnalyticsDestinationType"] == "Dedicated" and "metrics" not in setting.inputs
    assert len(share) == 1 and setting.inputs["workspaceId"] == share[0].inputs["workspaceId"]
    assert setting.options["protect"]  # prod's, as the store's other settings
    dev = _smb("dev")  # no workspace: no setting
    assert not [s for s in dev.of_type(SETTING) if dev.one(RS + "Vault").urn in s.dependencies]


def test_the_vendored_categories_hold_the_six_backup_events_with_tables_of_their_own():
    """The categories sent are read from the vendored list (Azure Monitor's supported logs for
    Microsoft.RecoveryServices/Vaults): each of the six lands in its own table; AzureBackupReport, which the vault
    also lists, lands in AzureDiagnostics and is not sent."""
    data = json.loads(resources.files("llmplatform").joinpath(
        "data", "recovery_services_vault_logs.json").read_text(encoding="utf-8"))
    assert "78c9637b61a924f02be26290f1b0cc864f1b903a" in data["source"]
    tables = data["categories"]
    assert all(tables[c] == c for c in BACKUP_EVENTS) and tables["AzureBackupReport"] == "AzureDiagnostics"
    from llmplatform.diagnostics import backup_log_categories
    assert list(backup_log_categories()) == BACKUP_EVENTS


@pytest.mark.parametrize("preview", [False, True])
def test_a_store_given_an_action_group_routes_the_vaults_alerts_to_it(preview):
    """`alert_action_group_id`: an alert processing rule scoped to the vault that adds the group to each of its
    alerts (Azure Backup's built-in alerts carry no action: "use Azure Monitor's Alert Processing Rules and Action
    groups"), in the store's group, Global, replaceable; named from the caller's names, as a first `pulumi
    preview` of a new stack sees it too (the kit's preview refuses a resource made inside an apply)."""
    plan = _store(preview, alert_action_group_id=GROUP)
    vault, rule = plan.one(RS + "Vault"), plan.one(RULE)
    props = rule.inputs["properties"]
    [scope] = props["scopes"]
    assert preview or scope.endswith("/providers/Microsoft.RecoveryServices/vaults/rsv-stmodels1")
    assert props["enabled"] is True
    assert vault.urn in rule.dependencies
    assert props["actions"] == [{"actionType": "AddActionGroups", "actionGroupIds": [GROUP]}]
    assert rule.inputs["location"] == "Global" and rule.inputs["alertProcessingRuleName"] == "apr-rsv-stmodels1"
    assert rule.inputs["resourceGroupName"] == vault.inputs["resourceGroupName"]
    assert not rule.options.get("protect")


def test_an_empty_action_group_is_none():
    """"" is none: AzureMonitoring's handle carries "" when it has no e-mails (and a store without the input makes
    no rule either)."""
    assert not _store(alert_action_group_id="").of_type(RULE) and not _store().of_type(RULE)


def test_a_workspace_given_to_a_store_gets_the_vaults_logs():
    plan = _store(log_analytics_workspace_id=WORKSPACE)
    vault = plan.one(RS + "Vault")
    [setting] = [s for s in plan.of_type(SETTING) if vault.urn in s.dependencies]
    assert setting.inputs["workspaceId"] == WORKSPACE
    assert [log["category"] for log in setting.inputs["logs"]] == BACKUP_EVENTS


@pytest.mark.parametrize("given, says", [
    ({"alert_action_group_id": "ag-oncall"}, "an action group's resource ID"),
    ({"alert_action_group_id": WORKSPACE}, "an action group's resource ID"),
    ({"alert_action_group_id": GROUP, "snapshots": False}, "unset without snapshots true"),
])
def test_an_action_group_that_cannot_route_the_alerts_is_refused_by_name_before_anything_registers(given, says):
    def program() -> None:
        llmplatform.ModelStore("models", {"cluster": cluster_handle(), "account_name": "stmodels1", "namespace": "llm",
                                          "protocol": "smb", "snapshots": True, **given}, provider_opts())
    with pytest.raises(llmplatform.ComponentInputError, match=says) as error:
        offline.run_function(program)
    assert [e["property_path"] for e in error.value.errors or []] == ["alert_action_group_id"]


def test_an_action_group_given_as_an_output_that_resolves_empty_is_refused_once_it_resolves():
    """Given as an output (another stack's, another language's), the rule is made as for an ID; one that resolves
    to "" (AzureMonitoring's handle without e-mails, read through a stack reference) would send the rule Azure with
    no group: refused once it resolves, in the input's words (checks.PRESENCE_DECIDES)."""
    import pulumi

    def program() -> None:
        llmplatform.ModelStore("models", {"cluster": cluster_handle(), "account_name": "stmodels1", "namespace": "llm",
                                          "protocol": "smb", "snapshots": True,
                                          "alert_action_group_id": pulumi.Output.from_input("")}, provider_opts())
    with pytest.raises(Exception) as error:
        run(program)
    assert ("ModelStore models: alert_action_group_id: resolved to an empty value (''); give an action group ID, or "
            "leave it out") in str(error.value)


def test_the_stacks_snapshot_alerts_reach_its_action_group():
    """Through the stack's keys: prod's vault, with snapshots on, routes its alerts to the action group the stack's
    other alerts go to (AzureMonitoring's, by its own id); without snapshots, or in dev (`azureMonitor: false`, no
    action group), there is no rule."""
    plan = _smb("prod")
    [group] = plan.of_type("azure-native:monitor:ActionGroup")
    [rule] = plan.of_type(RULE)
    [action] = rule.inputs["properties"]["actions"]
    [sent] = action["actionGroupIds"]
    assert sent.endswith(f"/actionGroups/{group.inputs['actionGroupName']}")
    assert group.urn in rule.property_dependencies["properties"]  # the group's own id, not a name put together
    assert not plan_for("prod", {"modelStore": {"protocol": "smb"}}).of_type(RULE)
    assert not _smb("dev").of_type(RULE)
