"""Mutation round sixteen's unrun mutants of share_snapshots' `protect_share` (the registration and the protected
item), run by drainpools: what a survivor showed no test read (docs/decisions.md, "Spot pools' pods in the stack's
drain", its mutants)."""
from tests.conftest import variant

RS = "azure-native:recoveryservices:"


def test_the_protected_item_carries_what_the_providers_lookup_requires():
    """pulumi-azure-native's ProtectedItem PreCreate (provider/pkg/resources/customresources/
    custom_recoveryservices.go at 030a9738, `extractProtectedItemProperties`) fails the create without
    `properties.sourceResourceId`, `protectedItemType` or `policyId`, and finds the share's system name by the last
    segment of `sourceResourceId` as the protectable item's container (the account) and `protectedItemName` as its
    friendly name (the share): the item names the storage account, by property dependency, and the share."""
    plan = variant("dev-smb-nogpu")
    account = plan.one("azure-native:storage:StorageAccount")
    item = plan.one(RS + "ProtectedItem")
    properties = item.inputs["properties"]
    assert properties["sourceResourceId"].rsplit("/", 1)[-1] == account.inputs["accountName"]
    assert "/providers/Microsoft.Storage/storageAccounts/" in properties["sourceResourceId"]
    assert account.urn in item.property_dependencies["properties"]
    assert properties["protectedItemType"] == "AzureFileShareProtectedItem" and properties["policyId"]
    assert item.inputs["protectedItemName"] == plan.one("azure-native:storage:FileShare").inputs["shareName"]
