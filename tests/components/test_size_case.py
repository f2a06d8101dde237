"""Sizes in another case: a PostgreSQL size, which a stranger saw sent to Azure as typed (docs/decisions.md, "A
stranger composes the package, round ten"; fixed in "Component inputs: case, switches, and the gate's key in your own
pod"), and a CPU pool's VM size, refused without the spelling meant; through `llmplatform.testing.run`, as a
consumer's program runs, and the stack's `make plan`."""
import copy
import json

import pytest

from config.catalogs import postgres_skus
from llmplatform import AksCluster, ComponentInputError, KeyVault, PostgresServer
from llmplatform.choices import POSTGRES_TIERS
from llmplatform.gpu_skus import known_gpu_sizes
from llmplatform.postgres_options import sku_spelling
from llmplatform.testing import run
from llmplatform.vm_sizes import size_spelling
from offline import plan_diff, plan as plan_cli
from offline.plan import resources_document as plan_document

from tests.components.test_components_alone import REQUIRED
from tests.conftest import PROJECT_DIR

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


def test_a_program_that_typed_another_case_sees_one_update_of_the_spelling_and_nothing_replaced():
    """What the CHANGELOG tells a consumer upgrading: the PR check (offline.plan_diff) between a plan sending the size
    as typed (before) and this one finds `sku.name` updated in place, nothing replaced (a Flexible Server's `sku` is
    not force-new: replacement_rules.json), and names the storage an update sends again."""
    def program() -> None:
        aks, _ = cluster()
        vault = KeyVault("vault", {"cluster": aks.cluster, "vault_name": "kv-ui-team-llm"})
        PostgresServer("pg", {"cluster": aks.cluster, "key_vault": vault.vault, "server_name": "pg-ui-team",
                              "sku_name": "standard_b2s"})
    now = plan_diff.resources_by_urn(plan_document(run(program)))
    before = copy.deepcopy(now)
    (server,) = [urn for urn, r in before.items() if r["type"] == SERVER]
    before[server]["inputs"]["sku"]["name"] = "standard_b2s"
    found = plan_diff.diff_documents(before, now)
    assert found["changed"] == {server: ["sku.name"]} and not found["replaced"], found["replaced"]
    assert any("storage.storageSizeGB" in line for line in found["checks"][server]), found["checks"]


def test_the_component_spells_every_size_of_the_stacks_catalog_as_the_catalog_does():
    """One spelling whichever way a size arrives (the stack's `postgres.skuName` is spelled by the same function):
    every size of the stack's catalog as the catalog spells it."""
    for tier in POSTGRES_TIERS:
        for size in postgres_skus(tier):
            for typed in (size, size.lower(), size.upper()):
                assert sku_spelling(typed) == size, typed


# ---- a CPU pool's VM size ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("pool, typed, meant", [
    ("system_pool", "standard_d2s_v5", "Standard_D2s_v5"),
    ("workload_pool", "STANDARD_E4-2DS_V5", "Standard_E4-2ds_v5"),
    ("workload_pool", "standard_dc4s_v3", "Standard_DC4s_v3")])
def test_a_cpu_pool_size_in_another_case_is_refused_naming_the_size_meant(pool, typed, meant):
    """Refused before too (the shape wants `Standard_` and the family in capitals), but with the shape alone. Not
    taken as Azure spells it, as PostgresServer's size now is: AksCluster sends its pools' sizes as given, and an
    agent pool's `vmSize` replaces the pool (pulumi-azure-native's forceNew)."""
    args = REQUIRED["AksCluster"]()
    args[pool] = {**args[pool], "vm_size": typed}
    with pytest.raises(ComponentInputError) as error:
        run(lambda: AksCluster("aks", args))
    assert f"{pool}.vm_size={typed!r} is invalid; allowed: the size as Azure spells it: did you mean {meant!r}?" \
        in str(error.value)


def test_the_stack_names_the_size_meant_by_its_key(tmp_path, capsys):
    code = plan_cli.main(["--stack", "dev", "--out", str(tmp_path),
                          "--set", "cluster.systemPool.vmSize=standard_d2s_v5"])
    assert code != 0
    assert ("cluster.systemPool.vmSize 'standard_d2s_v5' is invalid; allowed: the size as Azure spells it: did you "
            "mean 'Standard_D2s_v5'?") in capsys.readouterr().err


def test_the_spelling_is_azures_for_every_size_the_catalogs_name():
    """Each CPU size the stack's catalog knows and each GPU size of the package's, typed in lower case."""
    cpu = json.loads((PROJECT_DIR / "config" / "data" / "vm_shapes.json").read_text())["sizes"]
    for size in [*cpu, *known_gpu_sizes()]:
        assert size_spelling(size.lower()) == size and size_spelling(size) is None, size
