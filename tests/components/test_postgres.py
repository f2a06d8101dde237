"""PostgresServer (components/llmplatform/postgres.py): settings per stack, protection, private access, Entra auth."""
from __future__ import annotations

import llmplatform

from offline import runner as offline

from tests.conftest import PROJECT_DIR

from tests.components.test_components_alone import REQUIRED, entra_mismatches


def test_postgres_entra_auth_is_on_exactly_with_an_entra_administrator():
    def program():
        llmplatform.PostgresServer("plain", REQUIRED["PostgresServer"]())
        llmplatform.PostgresServer("entra", {**REQUIRED["PostgresServer"](), "server_name": "psql-test-2",
                                             "entra_admin_group": {"object_id": "33333333-3333-3333-3333-333333333333",
                                                                   "display_name": "llm-dbas"}})
    plan = offline.run_function(program)
    assert entra_mismatches(plan) == []
    auth = {s.inputs["serverName"]: s.inputs["authConfig"]["activeDirectoryAuth"]
            for s in plan.of_type("azure-native:dbforpostgresql:Server")}
    assert auth == {"psql-test-1": "Disabled", "psql-test-2": "Enabled"}
    # what the docs say of it: Entra authentication only with an administrator group, never "always on"
    guide = " ".join((PROJECT_DIR / "docs" / "components" / "key-vault-and-postgres.md").read_text().split())
    assert "Entra authentication is on alongside" not in guide
    assert "Entra authentication is on only with `entra_admin_group`" in guide
    assert "Entra authentication with `entra_admin_group`" in " ".join((llmplatform.PostgresServer.__doc__ or "").split())


def test_prod_postgres_and_key_vault_are_protected_and_private(prod, dev):
    server = prod.one("azure-native:dbforpostgresql:Server")
    vault = prod.one("azure-native:keyvault:Vault")
    assert server.options["protect"] and vault.options["protect"]
    assert prod.one("azure-native:dbforpostgresql:Database").options["protect"]
    assert prod.one("azure-native:network:PublicIPAddress").options["protect"]  # DNS points at it
    assert prod.one("azure-native:resources:ResourceGroup", "platform-rg").options["protect"]
    assert server.inputs["network"]["publicNetworkAccess"] == "Disabled"
    assert server.inputs["network"]["delegatedSubnetResourceId"].endswith(
        "/virtualNetworks/vnet-llmp-prod/subnets/postgres")
    props = vault.inputs["properties"]
    assert props["publicNetworkAccess"] == "Disabled" and props["enablePurgeProtection"] is True
    assert props["enableRbacAuthorization"] is True and props["softDeleteRetentionInDays"] == 90
    endpoint = prod.one("azure-native:network:PrivateEndpoint").inputs
    assert endpoint["privateLinkServiceConnections"][0]["groupIds"] == ["vault"]
    assert not dev.one("azure-native:dbforpostgresql:Server").options["protect"]
    assert dev.of_type("azure-native:dbforpostgresql:FirewallRule") == []  # dev is private too: no 0.0.0.0 rule
    dev_acl = dev.one("azure-native:keyvault:Vault").inputs["properties"]["networkAcls"]
    assert dev_acl["defaultAction"] == "Deny" and len(dev_acl["virtualNetworkRules"]) == 1


def test_postgres_settings_per_stack(dev, prod):
    d, p = dev.one("azure-native:dbforpostgresql:Server").inputs, prod.one("azure-native:dbforpostgresql:Server").inputs
    assert int(d["version"]) >= 16 and int(p["version"]) >= 16
    assert d["sku"]["tier"] == "Burstable" and p["sku"]["tier"] == "GeneralPurpose"
    assert d["highAvailability"]["mode"] == "Disabled" and p["highAvailability"]["mode"] == "ZoneRedundant"
    assert d["backup"] == {"backupRetentionDays": 7, "geoRedundantBackup": "Disabled"}
    assert p["backup"] == {"backupRetentionDays": 35, "geoRedundantBackup": "Enabled"}
    assert d["storage"]["autoGrow"] == "Enabled" and d["authConfig"]["passwordAuth"] == "Enabled"  # Entra: below
    params = {r.inputs["configurationName"]: r.inputs["value"]
              for r in dev.of_type("azure-native:dbforpostgresql:Configuration")}
    assert params == {"azure.extensions": "VECTOR", "require_secure_transport": "ON"}
    assert dev.one("azure-native:dbforpostgresql:Database").inputs["databaseName"] == "openwebui"


def test_every_planned_postgres_has_entra_auth_only_with_an_administrator(any_plan):
    from tests.components.test_components_alone import entra_mismatches
    assert entra_mismatches(any_plan) == []
