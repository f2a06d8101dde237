"""The testing kit's stand-in ids are ARM ids of Azure's shape (llmplatform/testing/stand_ins.py `arm_id`, the
templates vendored in llmplatform/data/arm_id_templates.json from pulumi-azure-native's reports/tokenPaths.json).

Before, an azure-native resource's mocked id was `/subscriptions/<sub>/resourceGroups/<group>/providers/
Microsoft.<module as in the token>/<Type as in the token>/<name>`: a stranger composing
`GlobalEndpoint(log_analytics_workspace_id=AzureMonitoring(...).log_analytics_workspace_id)` had, in their unit tests,
a refusal `pulumi up` never gives (the input rule wants `.../Microsoft.OperationalInsights/workspaces/<name>`), and a
subnet's id named no virtual network. These tests use the kit as a stranger does (`llmplatform.testing.run`)."""
import re

import pulumi
import pulumi_azure_native as azure_native
import pytest

import llmplatform
from llmplatform.input_rules.edge import WORKSPACE_ID
from llmplatform.testing import ProgramError, run
from llmplatform.testing.records import SUBSCRIPTION
from llmplatform.testing.stand_ins import (arm_id_template, arm_id_template_problems, arm_id_templates,
                                          token_shaped_id)

ORIGINS = [{"name": "weu", "host": "weu.llm.example.com"}]
SETTING = "azure-native:monitor:DiagnosticSetting"


def _edge_logging_to(workspace_id) -> None:
    llmplatform.GlobalEndpoint("edge", {"resource_group_name": "rg-edge", "name_prefix": "edge", "origins": ORIGINS,
                                        "log_analytics_workspace_id": workspace_id})


def test_azure_monitorings_workspace_feeds_global_endpoints_logs_without_a_refusal():
    def program():
        monitoring = llmplatform.AzureMonitoring("mon", {"location": "westeurope", "resource_group_name": "rg-mon"})
        _edge_logging_to(monitoring.log_analytics_workspace_id)
        pulumi.export("workspace", monitoring.log_analytics_workspace_id)
    plan = run(program)
    workspace = plan.outputs["workspace"]
    assert WORKSPACE_ID.fullmatch(workspace), workspace
    assert plan.one(SETTING).inputs["workspaceId"] == workspace
    # what the kit gave before: the same rule refuses it, as it refused the program above
    assert not WORKSPACE_ID.fullmatch(token_shaped_id("azure-native:operationalinsights:Workspace", "log-mon", {
        "resourceGroupName": "rg-mon", "workspaceName": "log-mon"})[0])


def test_a_strangers_own_workspace_feeds_global_endpoints_logs_without_a_refusal():
    def program():
        workspace = azure_native.operationalinsights.Workspace(
            "logs", resource_group_name="rg-central", workspace_name="log-central", location="westeurope")
        _edge_logging_to(workspace.id)
    plan = run(program)
    assert plan.one(SETTING).inputs["workspaceId"].lower() == (
        f"/subscriptions/{SUBSCRIPTION}/resourcegroups/rg-central/providers/microsoft.operationalinsights/"
        "workspaces/log-central")


def test_a_workspace_id_of_another_type_is_still_refused():
    """The rule stays a rule: a storage account's id, which the kit now gives as Azure does, is no workspace."""
    def program():
        account = azure_native.storage.StorageAccount(
            "sa", resource_group_name="rg", account_name="stlogs", kind="StorageV2",
            sku=azure_native.storage.SkuArgs(name="Standard_LRS"))
        _edge_logging_to(account.id)
    with pytest.raises(ProgramError) as refused:
        run(program)
    message = str(refused.value)  # the input, the value (shortened) and what is allowed
    assert "log_analytics_workspace_id='/subscriptions/" in message and "Storage/storageAccounts/stlogs'" in message \
        and "Microsoft.OperationalInsights/workspaces/<name>" in message, message


def _filled(template: str, inputs: dict, subscription: str = SUBSCRIPTION) -> str:
    """The template with each {parameter} replaced by the resource's input of that name."""
    return re.sub(r"\{([^}]+)\}", lambda m: subscription if m[1] == "subscriptionId" else inputs[m[1]], template)


def _ids_program():
    group = azure_native.resources.ResourceGroup("rg", resource_group_name="rg-ids", location="westeurope")
    vnet = azure_native.network.VirtualNetwork(
        "vnet", resource_group_name=group.name, virtual_network_name="vnet-ids",
        address_space=azure_native.network.AddressSpaceArgs(address_prefixes=["10.0.0.0/16"]))
    subnet = azure_native.network.Subnet("snet", resource_group_name=group.name, virtual_network_name="vnet-ids",
                                         subnet_name="nodes", address_prefix="10.0.0.0/24",
                                         opts=pulumi.ResourceOptions(depends_on=[vnet]))
    cluster = azure_native.containerservice.ManagedCluster(
        "aks", resource_group_name=group.name, resource_name_="aks-ids", dns_prefix="aks-ids",
        identity=azure_native.containerservice.ManagedClusterIdentityArgs(type="SystemAssigned"))
    pool = azure_native.containerservice.AgentPool(
        "gpu", resource_group_name=group.name, resource_name_="aks-ids", agent_pool_name="gpu", count=1,
        vm_size="Standard_NC24ads_A100_v4", opts=pulumi.ResourceOptions(depends_on=[cluster]))
    vault = azure_native.keyvault.Vault(
        "kv", resource_group_name=group.name, vault_name="kv-ids",
        properties=azure_native.keyvault.VaultPropertiesArgs(
            tenant_id="11111111-1111-1111-1111-111111111111",
            sku=azure_native.keyvault.SkuArgs(family="A", name="standard")))
    secret = azure_native.keyvault.Secret(
        "secret", resource_group_name=group.name, vault_name="kv-ids", secret_name="db-password",
        properties=azure_native.keyvault.SecretPropertiesArgs(value="x"),
        opts=pulumi.ResourceOptions(depends_on=[vault]))
    server = azure_native.dbforpostgresql.Server("pg", resource_group_name=group.name, server_name="pg-ids")
    database = azure_native.dbforpostgresql.Database(
        "db", resource_group_name=group.name, server_name="pg-ids", database_name="openwebui",
        opts=pulumi.ResourceOptions(depends_on=[server]))
    for key, resource in {"group": group, "vnet": vnet, "subnet": subnet, "cluster": cluster, "pool": pool,
                          "vault": vault, "secret": secret, "server": server, "database": database}.items():
        pulumi.export(key, resource.id)


@pytest.fixture(scope="module")
def ids_plan():
    return run(_ids_program)


@pytest.mark.parametrize("key, token", [
    ("group", "azure-native:resources:ResourceGroup"), ("vnet", "azure-native:network:VirtualNetwork"),
    ("subnet", "azure-native:network:Subnet"), ("cluster", "azure-native:containerservice:ManagedCluster"),
    ("pool", "azure-native:containerservice:AgentPool"), ("vault", "azure-native:keyvault:Vault"),
    ("secret", "azure-native:keyvault:Secret"), ("server", "azure-native:dbforpostgresql:Server"),
    ("database", "azure-native:dbforpostgresql:Database")])
def test_a_resources_id_is_its_types_template_filled_from_its_inputs(ids_plan, key, token):
    resource = ids_plan.one(token)
    assert ids_plan.outputs[key] == _filled(arm_id_template(token), resource.inputs)


def test_a_child_resources_id_names_its_parents(ids_plan):
    """Azure's resource types of the four children (Subnets, Agent Pools, Secrets, Databases - Get in the Azure REST
    API reference): each id names the parent it lives in, which the token-shaped ids never did."""
    assert ids_plan.outputs["subnet"].endswith("/providers/Microsoft.Network/virtualNetworks/vnet-ids/subnets/nodes")
    assert ids_plan.outputs["pool"].endswith(
        "/providers/Microsoft.ContainerService/managedClusters/aks-ids/agentPools/gpu")
    assert ids_plan.outputs["secret"].endswith("/providers/Microsoft.KeyVault/vaults/kv-ids/secrets/db-password")
    assert ids_plan.outputs["database"].endswith(
        "/providers/Microsoft.DBforPostgreSQL/flexibleServers/pg-ids/databases/openwebui")


def test_ids_are_those_of_azures_own_examples():
    """Two GET examples of the Azure REST API specs, their parameters given as the resources' inputs and the
    subscription as the provider's: the kit's ids are the responses' ids, character for character.
    Azure/azure-rest-api-specs specification/network/resource-manager/Microsoft.Network/stable/2024-05-01/examples/
    SubnetGet.json at 0dd11281 (2024-05-01: the SDK's API version of network.Subnet) and specification/keyvault/
    resource-manager/Microsoft.KeyVault/stable/2024-11-01/examples/getSecret.json at 7ee08af0 (keyvault.Secret's)."""
    def program():
        subid = azure_native.Provider("subid", subscription_id="subid")
        subnet = azure_native.network.Subnet("subnet1", resource_group_name="subnet-test",
                                             virtual_network_name="vnetname", subnet_name="subnet1",
                                             opts=pulumi.ResourceOptions(provider=subid))
        zeros = azure_native.Provider("zeros", subscription_id="00000000-0000-0000-0000-000000000000")
        secret = azure_native.keyvault.Secret("secret", resource_group_name="sample-group", vault_name="sample-vault",
                                              secret_name="secret-name",
                                              properties=azure_native.keyvault.SecretPropertiesArgs(value="x"),
                                              opts=pulumi.ResourceOptions(provider=zeros))
        pulumi.export("subnet", subnet.id)
        pulumi.export("secret", secret.id)
    outputs = run(program).outputs
    assert outputs["subnet"] == ("/subscriptions/subid/resourceGroups/subnet-test/providers/Microsoft.Network/"
                                 "virtualNetworks/vnetname/subnets/subnet1")
    assert outputs["secret"] == ("/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/sample-group/"
                                 "providers/Microsoft.KeyVault/vaults/sample-vault/secrets/secret-name")


def test_the_vendored_templates_agree_with_the_installed_sdk():
    """Each token a resource class of the installed pulumi-azure-native, each path parameter one of its inputs: an
    SDK whose class lost or renamed one would fill the id with a parameter it no longer has."""
    assert arm_id_template_problems(arm_id_templates()) == []


def test_every_azure_type_of_the_stacks_has_its_template(any_plan, global_plan):
    """No resource of the repository's own stacks falls back to a token-shaped id."""
    types = {r.type for plan in (any_plan, global_plan) for r in plan.resources if r.type.startswith("azure-native:")}
    assert [t for t in sorted(types) if arm_id_template(t) is None] == []


def test_a_versioned_token_reads_its_types_template_and_an_unlisted_type_keeps_the_token_shape():
    """A local package's versioned token (`pulumi package add azure-native network 2024-07-01`) has its type's id,
    which no API version changes; a type the file does not list keeps the earlier shape (docs/testing.md)."""
    assert arm_id_template("azure-native:network/v20240701:Subnet") == arm_id_template("azure-native:network:Subnet")

    def program():
        plan = azure_native.web.AppServicePlan("plan", resource_group_name="rg", name="asp")
        pulumi.export("id", plan.id)
    assert arm_id_template("azure-native:web:AppServicePlan") is None
    assert run(program).outputs["id"] == \
        f"/subscriptions/{SUBSCRIPTION}/resourceGroups/rg/providers/Microsoft.web/AppServicePlan/plan"


def test_the_templates_script_writing_a_new_file_keeps_the_package_s_tokens(tmp_path, capsys):
    """`--out` a file that does not exist yet keeps the package's tokens (it kept only the `--add` ones: 1 template of
    86); one that is no templates file is a line and exit 2, not a traceback."""
    import json
    from components.maintenance import arm_id_templates as script
    vendored = arm_id_templates()
    token_paths = tmp_path / "tokenPaths.json"
    token_paths.write_text(json.dumps(vendored))
    out = tmp_path / "new.json"
    assert script.main([str(token_paths), "--commit", "0" * 40, "--out", str(out)]) == 0
    assert json.loads(out.read_text())["templates"] == vendored
    out.write_text("[1, 2]")
    assert script.main([str(token_paths), "--commit", "0" * 40, "--out", str(out)]) == 2
    assert "not a templates file this script wrote" in capsys.readouterr().err


def test_the_templates_script_names_an_unwritable_out_and_a_token_paths_file_that_is_no_map(tmp_path, capsys):
    """`--out` in a folder that does not exist, and a tokenPaths.json that is valid JSON but no token -> path map,
    were tracebacks (FileNotFoundError, AttributeError): each is now one line naming the file, and exit 2."""
    import json
    from components.maintenance import arm_id_templates as script
    token_paths = tmp_path / "tokenPaths.json"
    token_paths.write_text(json.dumps(arm_id_templates()))
    missing_dir = tmp_path / "no-such-folder" / "new.json"
    assert script.main([str(token_paths), "--commit", "0" * 40, "--out", str(missing_dir)]) == 2
    assert f"{missing_dir}: cannot be written" in capsys.readouterr().err
    token_paths.write_text("[1, 2]")
    assert script.main([str(token_paths), "--commit", "0" * 40, "--out", str(tmp_path / "new.json")]) == 2
    err = capsys.readouterr().err
    assert f"{token_paths}: not a token -> path map" in err and "a JSON array" in err, err
    assert not (tmp_path / "new.json").exists()
