"""A PostgreSQL size in another case, which a stranger saw sent to Azure as typed (docs/decisions.md, "A stranger
composes the package, round ten"; fixed in "Component inputs: case, switches, and the gate's key in your own pod"),
through `llmplatform.testing.run`, as a consumer's program runs."""
import pytest

from config.catalogs import postgres_sku_spelling, postgres_skus
from llmplatform import KeyVault, PostgresServer
from llmplatform.choices import POSTGRES_TIERS
from llmplatform.postgres_options import sku_spelling
from llmplatform.testing import run

from tests.components.test_stranger10_consumer import cluster

SERVER = "azure-native:dbforpostgresql:Server"


def planned_size(sku_name: str, tier: str) -> str:
    """The `sku.name` a PostgresServer given `sku_name` sends to Azure."""
    def program() -> None:
        aks, _ = cluster()
        vault = KeyVault("vault", {"cluster": aks.cluster, "vault_name": "kv-ui-team-llm"})
        PostgresServer("pg", {"cluster": aks.cluster, "key_vault": vault.vault, "server_name": "pg-ui-team",
                              "sku_name": sku_name, "tier": tier})
    return run(program).one(SERVER).inputs["sku"]["name"]


@pytest.mark.parametrize("typed, tier, sent", [
    ("standard_b2s", "Burstable", "Standard_B2s"), ("STANDARD_D4ADS_V5", "GeneralPurpose", "Standard_D4ads_v5"),
    # a size Microsoft's connection table leaves out: the naming convention's spelling
    ("standard_d2ds_v6", "GeneralPurpose", "Standard_D2ds_v6"), ("Standard_E4s_v3", "MemoryOptimized",
                                                                   "Standard_E4s_v3")])
def test_a_postgres_size_in_another_case_is_sent_as_azure_spells_it(typed, tier, sent):
    """Before: `standard_b2s` went to Azure as typed: accepted (Azure reads sizes case-insensitively), but a second
    spelling in the state and the plan; pulumi-azure-native compares `sku.name` exactly (diff.go), so a stack whose
    spelling changed later would see an update of it."""
    assert planned_size(typed, tier) == sent


def test_the_component_spells_every_size_of_the_stacks_catalog_as_the_catalog_does():
    """One spelling whichever way a size arrives: the stack's catalog (config) and the component's table agree."""
    for tier in POSTGRES_TIERS:
        for size in postgres_skus(tier):
            for typed in (size, size.lower(), size.upper()):
                assert sku_spelling(typed) == postgres_sku_spelling(typed) == size, typed
