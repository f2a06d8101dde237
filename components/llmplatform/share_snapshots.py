"""Daily snapshots of ModelStore's share by Azure Backup (snapshot tier): a Recovery Services vault, an AzureFileShare
protection policy, the storage account registered with the vault (its protection container) and the share as the
vault's protected item. The snapshots live in the share's own account; the vault schedules, retains and restores them.

Azure Backup does not back up NFS shares (Support matrix for Azure Files backup, MicrosoftDocs/azure-docs
articles/backup/azure-file-share-support-matrix.md, ms.date 02/17/2026: "Azure Backup currently doesn't support file
shares with the NFS (Network File System) protocol"), so ModelStore's rules refuse `snapshots` on an NFS share.
"""
from typing import Mapping, Optional

import pulumi
from pulumi_azure_native import alertsmanagement, recoveryservices as rs

from .diagnostics import backup_vault_to_log_analytics

FABRIC = "Azure"  # the one backup fabric of Azure resources
POLICY_NAME = "model-share-daily"
# a schedule time is a date-time of which Azure Backup reads the time of day (its policy samples use 2020-01-01)
SCHEDULE_DATE = "2020-01-01"


def vault_name(account_name: str) -> str:
    """The store's vault: `rsv-<account>` (a storage account name is 3-24 lowercase letters and digits, so the
    vault's is 7-28 characters starting with a letter, within a Recovery Services vault's rule)."""
    return f"rsv-{account_name}"


def container_name(resource_group: str, account_name: str) -> str:
    """The name Azure Backup gives a registered storage account (the REST API's and the Azure quickstart template's
    `StorageContainer;Storage;<group>;<account>`)."""
    return f"StorageContainer;Storage;{resource_group};{account_name}"


def schedule_time(hh_mm: str) -> str:
    return f"{SCHEDULE_DATE}T{hh_mm}:00Z"


def daily_policy(retention_days: int, hh_mm: str) -> rs.AzureFileShareProtectionPolicyArgs:
    """One snapshot a day at `hh_mm` UTC, each kept `retention_days` days."""
    at = [schedule_time(hh_mm)]
    return rs.AzureFileShareProtectionPolicyArgs(
        backup_management_type=rs.BackupManagementType.AZURE_STORAGE.value,
        work_load_type=rs.WorkloadType.AZURE_FILE_SHARE,
        time_zone="UTC",
        schedule_policy=rs.SimpleSchedulePolicyArgs(
            schedule_policy_type="SimpleSchedulePolicy", schedule_run_frequency=rs.ScheduleRunType.DAILY,
            schedule_run_times=at),
        retention_policy=rs.LongTermRetentionPolicyArgs(
            retention_policy_type="LongTermRetentionPolicy",
            daily_schedule=rs.DailyRetentionScheduleArgs(
                retention_times=at,
                retention_duration=rs.RetentionDurationArgs(count=retention_days,
                                                            duration_type=rs.RetentionDurationType.DAYS))),
    )


def monitoring_settings() -> rs.MonitoringSettingsArgs:
    """Azure Backup's built-in Azure Monitor alerts for the vault's failed jobs (a failed snapshot, a failed restore:
    Sev 1), and no classic alerts. Built-in job-failure alerts are on by default and may be turned off
    (MicrosoftDocs/azure-docs articles/backup/backup-azure-monitoring-alerts.md, "Turn on Azure Monitor alerts for
    job failure scenarios"); written here, a vault where someone turned them off is set back by the next `up`.
    Classic alerts are retired (31 March 2026) and would double each alert: the page's "Use only Azure Monitor alerts"
    is `classicAlertSettings.alertsForCriticalOperations` Disabled. The security alerts (Sev 0: a shorter retention,
    soft delete turned off) fire whatever is set here.

    Every field of both objects is sent (vaults.json 2024-10-01 MonitoringSettings, the version pulumi-azure-native
    3.29.0 sends; its PUTVault_WithMonitoringSettings example sends all five): a vault PUT from API 2024-02-01 on with
    only some of them is refused "monitoringSettings parameter is invalid" (InvalidRestApiParameter;
    Azure/bicep-types-az#2209, open; Azure/bicep-registry-modules#5156 for `alertsForCriticalOperations` Disabled;
    Azure/azure-monitor-baseline-alerts#348, where sending the three Site Recovery fields as well passed), and Azure's
    verified module for the vault fills every one it is not given (Azure/bicep-registry-modules
    avm/res/recovery-services/vault/main.bicep). Site Recovery's two Azure Monitor switches are Enabled as the job
    failures' (the vault replicates nothing, so they never fire) and its classic e-mails Disabled as the classic
    alerts."""
    return rs.MonitoringSettingsArgs(
        azure_monitor_alert_settings=rs.AzureMonitorAlertSettingsArgs(
            alerts_for_all_job_failures=rs.AlertsState.ENABLED,
            alerts_for_all_replication_issues=rs.AlertsState.ENABLED,
            alerts_for_all_failover_issues=rs.AlertsState.ENABLED),
        classic_alert_settings=rs.ClassicAlertSettingsArgs(
            alerts_for_critical_operations=rs.AlertsState.DISABLED,
            email_notifications_for_site_recovery=rs.AlertsState.DISABLED))


def route_alerts(name: str, parent: pulumi.Resource, *, vault: rs.Vault, named: pulumi.Output[str],
                 resource_group_name: pulumi.Input[str], action_group_id: pulumi.Input[str],
                 tags: Optional[Mapping[str, pulumi.Input[str]]]) -> None:
    """Every Azure Monitor alert of the vault (its failed jobs, its security alerts) to an action group: an alert
    processing rule that adds the group, scoped to the vault. Azure Backup's built-in alerts fire with no action of
    their own; "To configure notifications for these alerts (for example, emails), you can use Azure Monitor's Alert
    Processing Rules and Action groups" (backup-azure-monitoring-alerts.md; its CLI example: `--rule-type
    AddActionGroups`, `--filter-resource-type Equals Microsoft.RecoveryServices/vaults`, here the vault itself as the
    scope). Location Global, as the REST examples (AlertProcessingRules.json 2021-08-08, the version the SDK sends).
    Named `apr-<vault>` from the vault's name as the caller gave it (`named`: known in a first preview). An output
    given as the group is judged by ModelStore's rules once it resolves (input_rules.stateful.alert_routing_rule;
    "" refused then: checks.PRESENCE_DECIDES). Replaceable: made again as it
    was."""
    alertsmanagement.AlertProcessingRuleByName(
        f"{name}-snapshot-alerts", resource_group_name=resource_group_name,
        alert_processing_rule_name=named.apply(lambda v: f"apr-{v}"), location="Global",
        properties=alertsmanagement.AlertProcessingRulePropertiesArgs(
            scopes=[vault.id], enabled=True,
            description="The model share's snapshot vault: failed backup and restore jobs, security alerts",
            actions=[alertsmanagement.AddActionGroupsArgs(action_type="AddActionGroups",
                                                          action_group_ids=[action_group_id])]),
        tags=tags, opts=pulumi.ResourceOptions(parent=parent, protect=False))


def protect_share(name: str, parent: pulumi.Resource, *, resource_group_name: pulumi.Input[str],
                  location: pulumi.Input[str], account: "pulumi.CustomResource", account_name: pulumi.Input[str],
                  share: "pulumi.CustomResource", share_name: pulumi.Input[str], retention_days: int, time_utc: str,
                  guarded: bool, tags: Optional[Mapping[str, pulumi.Input[str]]],
                  workspace_id: Optional[pulumi.Input[str]] = None,
                  action_group_id: Optional[pulumi.Input[str]] = None) -> pulumi.Output[str]:
    """The vault, its policy, the account's registration and the share's protection, children of `parent` (they take
    its `protect`). `guarded` (a protected store): Azure Backup's delete lock on the account (AzureStorageContainer
    acquireStorageAccountLock), which keeps the snapshots from going with an account deleted outside Pulumi; unguarded
    (dev), no lock. The vault raises Azure Monitor alerts for failed jobs (`monitoring_settings`); with
    `action_group_id` they reach that group (`route_alerts`), with `workspace_id` the vault's Azure Backup logs go to
    that workspace. Returns the vault's name.

    The vault's soft delete is left to Azure: secure by default enforces it on every Recovery Services vault in the
    public regions, and a vault cannot turn it off there (MicrosoftDocs/azure-docs articles/backup/secure-by-default.md
    and backup-azure-security-feature-cloud.md), so asking for `Disabled` (a teardown's wish) is refused or drifts."""
    opts = pulumi.ResourceOptions(parent=parent)
    named = pulumi.Output.from_input(account_name).apply(vault_name)
    vault = rs.Vault(
        f"{name}-snapshot-vault",
        vault_name=named,
        resource_group_name=resource_group_name, location=location,
        sku=rs.SkuArgs(name=rs.SkuName.RS0, tier="Standard"),
        properties=rs.VaultPropertiesArgs(public_network_access=rs.PublicNetworkAccess.ENABLED,
                                          monitoring_settings=monitoring_settings()),
        tags=tags, opts=opts)
    if workspace_id:
        backup_vault_to_log_analytics(f"{name}-snapshot-vault-diagnostics", vault.id, workspace_id, parent)
    if action_group_id:
        route_alerts(name, parent, vault=vault, named=named, resource_group_name=resource_group_name,
                     action_group_id=action_group_id, tags=tags)
    policy = rs.ProtectionPolicy(
        f"{name}-snapshot-policy", policy_name=POLICY_NAME, vault_name=vault.name,
        resource_group_name=resource_group_name, properties=daily_policy(retention_days, time_utc), opts=opts)
    registered = pulumi.Output.all(resource_group_name, account_name).apply(lambda v: container_name(*v))
    # registered once the share exists: the registration lists the account's shares to the vault, one made after it
    # is not (terraform-provider-azurerm#11184), and the protected item's system name is looked up there
    container = rs.ProtectionContainer(
        f"{name}-snapshot-container", fabric_name=FABRIC, vault_name=vault.name,
        resource_group_name=resource_group_name, container_name=registered,
        properties=rs.AzureStorageContainerArgs(
            container_type="StorageContainer", backup_management_type=rs.BackupManagementType.AZURE_STORAGE,
            source_resource_id=account.id,
            acquire_storage_account_lock=(rs.AcquireStorageAccountLock.ACQUIRE if guarded
                                          else rs.AcquireStorageAccountLock.NOT_ACQUIRE)),
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[share])))
    # named by the share's name: pulumi-azure-native looks up the item's system name (`azurefileshare;<hash>`) among
    # the vault's protectable items by it (custom_recoveryservices.go, pulumi-azure-native#1420)
    rs.ProtectedItem(
        f"{name}-snapshot-item", fabric_name=FABRIC, vault_name=vault.name, resource_group_name=resource_group_name,
        container_name=registered, protected_item_name=share_name,
        properties=rs.AzureFileshareProtectedItemArgs(
            protected_item_type="AzureFileShareProtectedItem", policy_id=policy.id, source_resource_id=account.id),
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[container])))
    return vault.name
