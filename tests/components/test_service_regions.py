"""What PostgreSQL flexible server and SSD (premium) Azure Files offer per region (components/llmplatform/data/
azure_service_regions.json, read from Microsoft's pages for each service), and the rules that hold a server's HA and
geo-redundant backup and a model share's ZRS to the cluster's region, in the components and the stack config."""
import json
from importlib import resources

import pytest

from llmplatform.input_rules import problems_of
from llmplatform.regions import (azure_regions, azure_zones, federated_credentials_unsupported, postgres_compute,
                                 postgres_refuses, postgres_size_not_offered, postgres_zone_redundant_ha_paused,
                                 premium_files_refuse_zrs, service_regions)

from tests.config.test_loader import stack_raw

PAIRS = {"postgres_flexible": (("zone_redundant_ha", "no_zone_redundant_ha"),
                               ("geo_redundant_backup", "no_geo_redundant_backup")),
         "premium_files": (("zrs", "lrs_only"),),
         "federated_credentials": (("unsupported", "unsupported"),)}


def _data() -> dict:
    return json.loads(resources.files("llmplatform").joinpath("data", "azure_service_regions.json").read_text("utf-8"))


def test_each_service_places_a_region_on_one_side_only_and_names_regions_only():
    """A name that is no region (a typo, a sovereign cloud's) is refused; a region on both sides of a pair is too. A
    region the page leaves out is on neither side (left to Azure)."""
    regions, lists = set(azure_regions()), service_regions()
    assert set(lists) == set(PAIRS)
    for service, pairs in PAIRS.items():
        for yes, no in pairs:
            for side in (yes, no):
                names = lists[service][side]
                assert list(names) == sorted(set(names)), f"{service}.{side}: not sorted, or a region twice"
                assert set(names) <= regions, f"{service}.{side}: {sorted(set(names) - regions)} are no regions"
            overlap = set(lists[service][yes]) & set(lists[service][no])
            assert yes == no or not overlap, f"{service}: {yes} and {no} overlap"
    # both PostgreSQL columns come from one table: the same regions on each
    pg = lists["postgres_flexible"]
    assert set(pg["zone_redundant_ha"] + pg["no_zone_redundant_ha"]) == \
        set(pg["geo_redundant_backup"] + pg["no_geo_redundant_backup"])
    assert set(pg["zone_redundant_ha_new_blocked"]) <= set(pg["zone_redundant_ha"])
    # ZRS needs three zones: no region Microsoft's region list shows without zones is a ZRS region
    assert not set(lists["premium_files"]["zrs"]) & set(azure_zones()["without_zones"])


def test_the_lists_name_their_pages_and_commits():
    data = _data()
    for needle in ("MicrosoftDocs/azure-databases-docs", "articles/postgresql/includes/regions-table.md",
                   "2d9647fbe7614032e189e4856bd33ee8ff10104b", "temporarily blocked"):
        assert needle in data["postgres_flexible"]["_source"]
    for needle in ("MicrosoftDocs/azure-docs", "articles/storage/files/redundancy-premium-file-shares.md",
                   "03e5750af10b23b5ba437d5b333ec5e9437844f9"):
        assert needle in data["premium_files"]["_source"]
    for needle in ("MicrosoftDocs/entra-docs", "docs/workload-id/workload-identity-federation-considerations.md",
                   "03ffb81c2de5d731ac58234dd2aadc7ba2e2e3fd"):
        assert needle in data["federated_credentials"]["_source"]


@pytest.mark.parametrize("region, zr_ha, geo", [
    # rows of the table as Microsoft wrote them (ms.date 12/22/2025)
    ("westeurope", True, True), ("swedencentral", True, True), ("northeurope", True, True),
    ("italynorth", True, False), ("polandcentral", True, False), ("westus3", True, False),
    ("japanwest", False, True), ("ukwest", False, True), ("westus", False, True), ("australiacentral2", False, False),
])
def test_the_postgres_table_is_read_as_written(region, zr_ha, geo):
    assert postgres_refuses(region, "zone_redundant_ha") is not zr_ha
    assert postgres_refuses(region, "geo_redundant_backup") is not geo


def test_paused_zone_redundant_ha_and_regions_the_pages_leave_out():
    assert postgres_zone_redundant_ha_paused("westeurope") and postgres_zone_redundant_ha_paused("eastus")
    assert not postgres_zone_redundant_ha_paused("swedencentral")
    for name in ("denmarkeast", "indiasouthcentral", "swedensouth", "westus4", ""):
        assert not postgres_refuses(name, "zone_redundant_ha") and not postgres_refuses(name, "geo_redundant_backup")
        assert not premium_files_refuse_zrs(name)
    assert premium_files_refuse_zrs("belgiumcentral") and premium_files_refuse_zrs("westus")
    assert not premium_files_refuse_zrs("westeurope") and not premium_files_refuse_zrs("swedencentral")


# ---- the components' rules -------------------------------------------------------------------------------------------
def _pg(region, **args) -> list:
    base = {"cluster": {"location": region}, "key_vault": {}, "server_name": "psql-llmp-prod-0cb157",
            "tier": "GeneralPurpose", "sku_name": "Standard_D2ds_v5"}
    return [(p.path, p.allowed) for p in problems_of("PostgresServer", {**base, **args})]


@pytest.mark.parametrize("region", service_regions()["postgres_flexible"]["no_zone_redundant_ha"])
def test_postgres_ha_is_refused_where_the_region_has_no_zone_redundant_ha(region):
    (problem,) = _pg(region, high_availability=True)
    assert problem == ("high_availability", f"false in the cluster's location {region!r}: Azure offers no "
                                            "zone-redundant high availability for PostgreSQL flexible server there "
                                            "(Microsoft's regions table)")
    assert _pg(region, high_availability=False) == []


@pytest.mark.parametrize("region", service_regions()["postgres_flexible"]["no_geo_redundant_backup"])
def test_postgres_geo_backup_is_refused_where_the_region_has_none(region):
    (problem,) = _pg(region, geo_redundant_backup=True)
    assert problem[0] == "geo_redundant_backup" and f"in the cluster's location {region!r}" in problem[1]
    assert _pg(region, geo_redundant_backup=False) == []


def test_postgres_ha_and_geo_backup_are_taken_where_offered_and_where_the_region_is_unknown():
    for region in ("westeurope", "swedencentral", "eastus2", "denmarkeast"):
        assert _pg(region, high_availability=True, geo_redundant_backup=True) == []
    # a cluster handle given as an output (its location unknown now) is left to the late recheck
    assert problems_of("PostgresServer", {"cluster": {}, "key_vault": {}, "server_name": "psql-x-1",
                                          "tier": "GeneralPurpose", "sku_name": "Standard_D2ds_v5",
                                          "high_availability": True}) == []


@pytest.mark.parametrize("region", service_regions()["premium_files"]["lrs_only"])
def test_a_zrs_model_share_is_refused_where_ssd_shares_are_lrs_only(region):
    args = {"cluster": {"location": region}, "account_name": "stllmpprod0123", "namespace": "llm"}
    (problem,) = problems_of("ModelStore", {**args, "redundancy": "ZRS"})
    assert (problem.path, problem.value) == ("redundancy", "ZRS")
    assert problem.allowed.startswith(f"LRS in the cluster's location {region!r}: Azure offers SSD (premium) file "
                                      "shares there with LRS only")
    assert problems_of("ModelStore", {**args, "redundancy": "LRS"}) == []


@pytest.mark.parametrize("region", service_regions()["premium_files"]["zrs"])
def test_a_zrs_model_share_is_taken_where_offered(region):
    assert problems_of("ModelStore", {"cluster": {"location": region}, "account_name": "stllmpprod0123",
                                      "namespace": "llm", "redundancy": "ZRS"}) == []


# ---- the stack config: the same rules on `location`, and prod's rules saying where to go ---------------------------
def _refusal(stack: str, overrides: dict) -> str:
    from config.loader import parse_config
    from config.reader import ConfigError
    with pytest.raises(ConfigError) as caught:
        parse_config(stack_raw(stack, overrides), "p", stack)
    return str(caught.value)


def test_the_stack_config_holds_postgres_and_the_share_to_its_location():
    told = _refusal("prod", {"location": "italynorth"})
    assert "postgres.geoRedundantBackup true is invalid; allowed: false in the cluster's location 'italynorth'" in told
    told = _refusal("prod", {"location": "japanwest"})
    assert "postgres.highAvailability true is invalid; allowed: false in the cluster's location 'japanwest'" in told
    told = _refusal("prod", {"location": "belgiumcentral"})
    assert "modelStore.redundancy 'ZRS' is invalid; allowed: LRS in the cluster's location 'belgiumcentral'" in told
    # dev: a ZRS share in a region without it, the server's options off
    told = _refusal("dev", {"location": "ukwest", "modelStore": {"redundancy": "ZRS"}})
    assert "modelStore.redundancy 'ZRS' is invalid" in told and "postgres." not in told


def test_prods_own_rules_say_the_region_lacks_what_prod_needs():
    """prod needs HA, geo-redundant backup and a ZRS share; turning one off where the region lacks it is refused by
    prod's rule, which then names the region as the reason instead of contradicting the component's rule."""
    told = _refusal("prod", {"location": "italynorth", "postgres": {"geoRedundantBackup": False}})
    assert "geoRedundantBackup true" not in told
    assert ("postgres in prod needs backupRetentionDays 35, geoRedundantBackup and highAvailability, and location "
            "'italynorth' has no geo-redundant backup for PostgreSQL flexible server: prod needs a location with "
            "both") in told
    told = _refusal("prod", {"location": "belgiumcentral", "modelStore": {"redundancy": "LRS"},
                             "postgres": {"geoRedundantBackup": False}})
    assert ("location 'belgiumcentral' has SSD file shares with LRS only: prod needs a location with ZRS SSD file "
            "shares") in told


def test_zone_redundant_ha_where_new_deployments_are_paused_is_an_advisory():
    from config.advisories import advisories
    from config.loader import parse_config
    note = "postgres.highAvailability in westeurope: Microsoft's regions table"
    assert any(a.startswith(note) for a in advisories(parse_config(stack_raw("prod"), "p", "prod")))
    sweden = parse_config(stack_raw("prod-swedencentral"), "p", "prod-swedencentral")
    assert not any(a.startswith("postgres.highAvailability") for a in advisories(sweden))
    assert not any(a.startswith("postgres.highAvailability") for a in
                   advisories(parse_config(stack_raw("dev"), "p", "dev")))


def test_a_region_whose_identities_take_no_federated_credential_is_an_advisory():
    """Every workload identity is made in the stack's location; Entra's page lists New Zealand North as taking no
    federated identity credential there. Not refused: the page's list shrinks as support rolls out."""
    from config.advisories import advisories
    from config.loader import parse_config
    assert federated_credentials_unsupported("newzealandnorth") and not federated_credentials_unsupported("westeurope")
    nz = parse_config(stack_raw("dev", {"location": "newzealandnorth"}), "p", "dev")
    assert any(a.startswith("location newzealandnorth: Microsoft Entra's page on federated identity credentials")
               for a in advisories(nz))
    dev = parse_config(stack_raw("dev"), "p", "dev")
    assert not any("federated identity credentials" in a for a in advisories(dev))


def test_the_compute_columns_are_read_by_generation_and_vendor():
    """The table's Intel and AMD columns (the generations of General Purpose and Memory Optimized sizes per region):
    every region of the table in both, each generation v3-v6, and the rows as written."""
    compute, pg = postgres_compute(), service_regions()["postgres_flexible"]
    assert set(compute["intel"]) == set(compute["amd"]) == set(pg["zone_redundant_ha"] + pg["no_zone_redundant_ha"])
    assert {g for v in compute.values() for gens in v.values() for g in gens} <= {"v3", "v4", "v5", "v6"}
    assert compute["intel"]["eastus2"] == ("v3", "v4") and compute["amd"]["eastus2"] == ()
    assert compute["intel"]["westeurope"] == ("v3", "v4", "v5") and compute["amd"]["westus"] == ("v5",)
    assert compute["intel"]["jioindiawest"] == ("v3",)


@pytest.mark.parametrize("region, size, offered", [
    ("westeurope", "Standard_D2ds_v5", True),  # prod's size in prod's region
    ("swedencentral", "Standard_D2ds_v5", True),
    ("eastus2", "Standard_D2ds_v5", False), ("eastus2", "Standard_D4ds_v4", True), ("eastus2", "Standard_D2s_v3", True),
    ("westeurope", "Standard_D2ads_v5", False), ("westus", "Standard_E4ads_v5", True),
    ("jioindiawest", "Standard_E2ds_v4", False),
    ("eastus2", "Standard_B1ms", True),  # Burstable: not in the columns
    ("denmarkeast", "Standard_D2ads_v5", True),  # not in the table: left to Azure
])
def test_a_size_of_a_generation_the_region_lacks_is_told(region, size, offered):
    told = postgres_size_not_offered(region, size)
    assert (told is None) is offered
    if told:
        assert told.startswith(f"a size of a generation offered in {region!r} (Intel ")


def test_a_size_the_region_lacks_is_an_advisory_not_a_refusal():
    """A deployed server keeps its size whatever the table says now: the stack config warns, it does not refuse."""
    from config.advisories import advisories
    from config.loader import parse_config
    east = parse_config(stack_raw("dev", {"location": "eastus2", "postgres": {"tier": "GeneralPurpose",
                                                                                "skuName": "Standard_D2ds_v5"}}),
                        "p", "dev")
    (note,) = [a for a in advisories(east) if a.startswith("postgres.skuName")]
    assert note.startswith("postgres.skuName Standard_D2ds_v5 in eastus2: Microsoft's regions table for PostgreSQL "
                           "flexible server does not list its generation there (Intel v3/v4; AMD none), so creating")
    assert problems_of("PostgresServer", {"cluster": {"location": "eastus2"}, "key_vault": {},
                                          "server_name": "psql-x-1", "tier": "GeneralPurpose",
                                          "sku_name": "Standard_D2ds_v5"}) == []
    for stack in ("prod", "prod-westeurope", "prod-swedencentral", "dev", "llmd"):
        assert not any(a.startswith("postgres.skuName") for a in
                       advisories(parse_config(stack_raw(stack), "p", stack))), stack
