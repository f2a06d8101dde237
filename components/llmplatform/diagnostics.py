"""Diagnostic settings: a resource's logs (and a data service's metrics) to Log Analytics (Azure security benchmark
LT-3/LT-4)."""
import functools
import json
from importlib import resources
from typing import Optional, Sequence

import pulumi
from pulumi_azure_native import monitor

# Microsoft.RecoveryServices/vaults' log categories and the table each lands in (vendored with its source)
VAULT_LOGS = resources.files(__package__).joinpath("data", "recovery_services_vault_logs.json")


def to_log_analytics(resource_name: str, target_id: pulumi.Input[str], workspace_id: pulumi.Input[str],
                     parent: pulumi.Resource, metric_category: str = "AllMetrics") -> monitor.DiagnosticSetting:
    """Every log category (the allLogs group) and one metric category of a resource, to a workspace."""
    return monitor.DiagnosticSetting(
        resource_name, name="to-log-analytics", resource_uri=target_id, workspace_id=workspace_id,
        logs=[monitor.DiagnosticsLogSettingsArgs(category_group="allLogs", enabled=True)],
        metrics=[monitor.DiagnosticsMetricSettingsArgs(category=metric_category, enabled=True)],
        opts=pulumi.ResourceOptions(parent=parent))


def categories_to_log_analytics(resource_name: str, target_id: pulumi.Input[str], workspace_id: pulumi.Input[str],
                                categories: Sequence[str], parent: pulumi.Resource,
                                protect: Optional[bool] = None) -> monitor.DiagnosticSetting:
    """Named log categories of a resource, no metrics, to a workspace's AzureDiagnostics table: no
    logAnalyticsDestinationType, which "Dedicated" would set to resource-specific tables (Microsoft.Insights
    2021-05-01-preview diagnosticsSettings_API.json, the version pulumi-azure-native 3.29.0 sends) that a resource
    type without them, Front Door's Microsoft.Cdn/profiles among them, does not have. `protect`: None, the
    parent's."""
    return monitor.DiagnosticSetting(
        resource_name, name="to-log-analytics", resource_uri=target_id, workspace_id=workspace_id,
        logs=[monitor.DiagnosticsLogSettingsArgs(category=category, enabled=True) for category in categories],
        opts=pulumi.ResourceOptions(parent=parent, protect=protect))


@functools.cache
def backup_log_categories() -> tuple[str, ...]:
    """Azure Backup's log categories of a Recovery Services vault that have a table of their own (CoreAzureBackup and
    the AddonAzureBackup* ones, data/recovery_services_vault_logs.json): the six Azure Backup sends only in resource-
    specific mode. Not AzureBackupReport (the legacy event, AzureDiagnostics mode only) nor Site Recovery's."""
    tables: dict[str, str] = json.loads(VAULT_LOGS.read_text(encoding="utf-8"))["categories"]
    return tuple(sorted(c for c, table in tables.items() if table == c and "AzureBackup" in c))


def backup_vault_to_log_analytics(resource_name: str, vault_id: pulumi.Input[str], workspace_id: pulumi.Input[str],
                                  parent: pulumi.Resource) -> monitor.DiagnosticSetting:
    """A Recovery Services vault's Azure Backup logs (its jobs, alerts, policies, protected instances, storage) to a
    workspace's resource-specific tables (`logAnalyticsDestinationType` Dedicated): in the AzureDiagnostics mode
    that `allLogs` would use, "no data will flow" for these events (MicrosoftDocs/azure-docs
    articles/backup/backup-azure-diagnostic-events.md), and `allLogs` would take the legacy AzureBackupReport and
    Site Recovery's categories too. No metrics."""
    return monitor.DiagnosticSetting(
        resource_name, name="to-log-analytics", resource_uri=vault_id, workspace_id=workspace_id,
        log_analytics_destination_type="Dedicated",
        logs=[monitor.DiagnosticsLogSettingsArgs(category=category, enabled=True)
              for category in backup_log_categories()],
        opts=pulumi.ResourceOptions(parent=parent))
