"""Diagnostic settings: a resource's logs (and a data service's metrics) to Log Analytics (Azure security benchmark
LT-3/LT-4)."""
from typing import Optional, Sequence

import pulumi
from pulumi_azure_native import monitor


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
