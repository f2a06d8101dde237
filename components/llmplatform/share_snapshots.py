"""Daily snapshots of ModelStore's share by Azure Backup (snapshot tier): a Recovery Services vault, an AzureFileShare
protection policy, the storage account registered with the vault (its protection container) and the share as the
vault's protected item. The snapshots live in the share's own account; the vault schedules, retains and restores them.

Azure Backup does not back up NFS shares (Support matrix for Azure Files backup, MicrosoftDocs/azure-docs
articles/backup/azure-file-share-support-matrix.md, ms.date 02/17/2026: "Azure Backup currently doesn't support file
shares with the NFS (Network File System) protocol"), so ModelStore's rules refuse `snapshots` on an NFS share.
"""
from typing import Mapping, Optional

import pulumi
from pulumi_azure_native import recoveryservices as rs

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


def protect_share(name: str, parent: pulumi.Resource, *, resource_group_name: pulumi.Input[str],
                  location: pulumi.Input[str], account: "pulumi.CustomResource", account_name: pulumi.Input[str],
                  share: "pulumi.CustomResource", share_name: pulumi.Input[str], retention_days: int, time_utc: str,
                  guarded: bool, tags: Optional[Mapping[str, pulumi.Input[str]]]) -> pulumi.Output[str]:
    """The vault, its policy, the account's registration and the share's protection, children of `parent` (they take
    its `protect`). `guarded` (a protected store): Azure Backup's delete lock on the account (AzureStorageContainer
    acquireStorageAccountLock), which keeps the snapshots from going with an account deleted outside Pulumi; unguarded
    (dev), no lock. Returns the vault's name.

    The vault's soft delete is left to Azure: secure by default enforces it on every Recovery Services vault in the
    public regions, and a vault cannot turn it off there (MicrosoftDocs/azure-docs articles/backup/secure-by-default.md
    and backup-azure-security-feature-cloud.md), so asking for `Disabled` (a teardown's wish) is refused or drifts."""
    opts = pulumi.ResourceOptions(parent=parent)
    vault = rs.Vault(
        f"{name}-snapshot-vault",
        vault_name=pulumi.Output.from_input(account_name).apply(vault_name),
        resource_group_name=resource_group_name, location=location,
        sku=rs.SkuArgs(name=rs.SkuName.RS0, tier="Standard"),
        properties=rs.VaultPropertiesArgs(public_network_access=rs.PublicNetworkAccess.ENABLED),
        tags=tags, opts=opts)
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
