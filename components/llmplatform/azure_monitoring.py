"""AzureMonitoring: the Azure-side monitoring the cluster is created with — Log Analytics (Container Insights), an
Azure Monitor workspace (managed Prometheus), an action group that e-mails, and optionally Azure Managed Grafana."""
from typing import Mapping, Optional, TypedDict

import pulumi
from pulumi_azure_native import authorization, dashboard, monitor, operationalinsights
from typing_extensions import NotRequired

from . import PACKAGE
from .azure_roles import GRAFANA_ADMIN, GRAFANA_VIEWER, MONITORING_DATA_READER, builtin_role
from .defaults import defaults_for
from .checks import called_as_documented, check_shape
from .handles import MonitoringHandle

opt = defaults_for("AzureMonitoring")  # optional inputs: the caller's value, else the default



class AzureMonitoringArgs(TypedDict):
    """Inputs of AzureMonitoring."""

    location: pulumi.Input[str]
    """Azure region."""
    resource_group_name: pulumi.Input[str]
    """Resource group of the workspaces."""
    name_prefix: NotRequired[Optional[str]]
    """Start of every Azure name (log-<prefix>, amw-<prefix>, ...; default: the component's name)."""
    log_retention_days: NotRequired[Optional[int]]
    """Log Analytics retention, 30-730 days (default 30)."""
    alert_emails: NotRequired[Optional[list[pulumi.Input[str]]]]
    """Who the action group e-mails: at most 1000 addresses of at most 64 characters (Azure Monitor's limits), each
    once, compared without case (none: no action group)."""
    managed_grafana: NotRequired[Optional[bool]]
    """Azure Managed Grafana on the Prometheus workspace (default False)."""
    grafana_name: NotRequired[Optional[pulumi.Input[str]]]
    """Managed Grafana's workspace name: 2-30 letters, digits and hyphens, starting with a letter, ending with a
    letter or digit; Azure refuses one another workspace holds, in any resource group or subscription of the tenant
    (NameNotUnique), so give each deployment its own (default: graf-<name_prefix>, cut at 23 characters)."""
    grafana_admin_group_ids: NotRequired[Optional[list[pulumi.Input[str]]]]
    """Entra groups given the Grafana Admin role on Managed Grafana."""
    grafana_viewer_group_ids: NotRequired[Optional[list[pulumi.Input[str]]]]
    """Entra groups given the Grafana Viewer role on Managed Grafana."""
    tags: NotRequired[Optional[Mapping[str, pulumi.Input[str]]]]
    """Azure tags."""


@called_as_documented
class AzureMonitoring(pulumi.ComponentResource):
    """The Azure-side monitoring a cluster is created with: Log Analytics (Container Insights), an Azure Monitor
    workspace (managed Prometheus), an action group that e-mails, and optionally Azure Managed Grafana. `protect` in
    its resource options protects the two workspaces and Managed Grafana alone (what they hold is lost with them); the
    action group and the role assignments stay replaceable."""

    monitoring: MonitoringHandle
    """Workspaces and action group, for AksCluster and Observability."""
    log_analytics_workspace_id: pulumi.Output[str]
    """Log Analytics workspace (Container Insights logs)."""
    grafana_endpoint: pulumi.Output[Optional[str]]
    """Azure Managed Grafana URL (None when not enabled)."""

    def __init__(self, name: str, args: AzureMonitoringArgs, opts: Optional[pulumi.ResourceOptions] = None):
        args = check_shape("AzureMonitoring", name, args, AzureMonitoringArgs)
        super().__init__(f"{PACKAGE}:index:AzureMonitoring", name, None, opts)
        # the stores take the component's `protect` (prod's): a new workspace starts empty and Managed Grafana holds
        # what its users made in it; the action group and the grants are made again as they were
        store = pulumi.ResourceOptions(parent=self)
        child = pulumi.ResourceOptions(parent=self, protect=False)
        rg, location, tags, prefix = args["resource_group_name"], args["location"], args.get("tags", {}), \
            args.get("name_prefix", name)
        logs = operationalinsights.Workspace(
            f"{name}-logs", workspace_name=f"log-{prefix}", resource_group_name=rg, location=location,
            sku=operationalinsights.WorkspaceSkuArgs(name="PerGB2018"),
            retention_in_days=opt(args, "log_retention_days"), tags=tags, opts=store)
        metrics = monitor.AzureMonitorWorkspace(
            f"{name}-prometheus", azure_monitor_workspace_name=f"amw-{prefix}", resource_group_name=rg,
            location=location, tags=tags, opts=store)
        action_group_id: pulumi.Input[str] = ""
        emails = args.get("alert_emails") or []
        if emails:
            group = monitor.ActionGroup(
                f"{name}-oncall", action_group_name=f"ag-{prefix}-oncall", group_short_name="llm-oncall",
                resource_group_name=rg, location="Global", enabled=True,
                email_receivers=[monitor.MicrosoftCommonEmailReceiverArgs(
                    name=f"email-{i}", email_address=e, use_common_alert_schema=True) for i, e in enumerate(emails)],
                tags=tags, opts=child)
            action_group_id = group.id
        self.grafana_endpoint = pulumi.Output.from_input(None)
        if opt(args, "managed_grafana"):
            # cut at 23 characters, and not on a hyphen: the REST spec's workspaceName pattern wants a letter or digit
            # last (Microsoft.Dashboard grafana.json 2024-10-01: ^[a-zA-Z][a-z0-9A-Z-]{0,28}[a-z0-9A-Z]$)
            grafana = dashboard.Grafana(
                f"{name}-grafana", workspace_name=args.get("grafana_name") or f"graf-{prefix}"[:23].rstrip("-"),
                resource_group_name=rg,
                location=location,
                sku=dashboard.ResourceSkuArgs(name="Standard"),
                identity=dashboard.ManagedServiceIdentityArgs(type=dashboard.ManagedServiceIdentityType.SYSTEM_ASSIGNED),
                properties=dashboard.ManagedGrafanaPropertiesArgs(
                    grafana_integrations=dashboard.GrafanaIntegrationsArgs(azure_monitor_workspace_integrations=[
                        dashboard.AzureMonitorWorkspaceIntegrationArgs(azure_monitor_workspace_resource_id=metrics.id)]),
                    public_network_access=dashboard.PublicNetworkAccess.ENABLED,
                    zone_redundancy=dashboard.ZoneRedundancy.DISABLED),
                tags=tags, opts=store)
            authorization.RoleAssignment(  # lets Managed Grafana query the workspace
                f"{name}-grafana-reader",
                principal_id=grafana.identity.apply(lambda i: i.principal_id),
                principal_type=authorization.PrincipalType.SERVICE_PRINCIPAL,
                role_definition_id=builtin_role(MONITORING_DATA_READER, self),
                scope=metrics.id, opts=child)
            # Managed Grafana signs users in with Entra ID and maps these Azure roles to its own; without one,
            # only the subscription's owners get in
            for role, label, groups in ((GRAFANA_ADMIN, "admin", args.get("grafana_admin_group_ids") or []),
                                        (GRAFANA_VIEWER, "viewer", args.get("grafana_viewer_group_ids") or [])):
                for i, group in enumerate(groups):
                    # named after the group while its id is known (a literal), by position when it is an output
                    authorization.RoleAssignment(
                        f"{name}-grafana-{label}-{group[:8] if isinstance(group, str) else i}", principal_id=group,
                        principal_type=authorization.PrincipalType.GROUP, role_definition_id=builtin_role(role, self),
                        scope=grafana.id, opts=child)
            self.grafana_endpoint = grafana.properties.apply(lambda p: p.endpoint)
        self.log_analytics_workspace_id = logs.id
        # the workspaces' region: Observability's data collection endpoint and rules are made in the cluster's, which
        # Azure Monitor wants to be the workspaces' (its input rules)
        self.monitoring = MonitoringHandle(log_analytics_workspace_id=logs.id, monitor_workspace_id=metrics.id,
                                           action_group_id=action_group_id, location=location)
        self.register_outputs({"monitoring": self.monitoring,
                               "log_analytics_workspace_id": self.log_analytics_workspace_id,
                               "grafana_endpoint": self.grafana_endpoint})
