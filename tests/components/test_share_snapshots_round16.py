"""Mutation round sixteen: ModelStore's share snapshots (llmplatform.share_snapshots) as the plan sends them."""
from tests.conftest import variant

RS = "azure-native:recoveryservices:"


def test_the_account_and_the_share_are_registered_in_azure_backups_azure_fabric():
    """The storage account's protection container and the share's protected item live under the vault's `Azure`
    backup fabric, the one of Azure resources (the REST path .../vaults/{vault}/backupFabrics/Azure/
    protectionContainers/StorageContainer;Storage;<group>;<account>: Azure/azure-rest-api-specs-examples
    specification/recoveryservicesbackup/resource-manager/Microsoft.RecoveryServices/stable/2021-07-01/examples-java/
    AzureStorage/ProtectionContainers_Register.md, `withExistingBackupFabric("testvault", "test-rg", "Azure")`)."""
    plan = variant("dev-smb-nogpu")
    assert plan.one(RS + "ProtectionContainer").inputs["fabricName"] == "Azure"
    assert plan.one(RS + "ProtectedItem").inputs["fabricName"] == "Azure"
