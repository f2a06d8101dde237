"""Diagnostic settings: a data service's logs and metrics to Log Analytics (Azure security benchmark LT-3/LT-4)."""
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
