"""What PostgreSQL flexible server and SSD (premium) Azure Files offer per region (components/llmplatform/data/
azure_service_regions.json, read from Microsoft's pages for each service), and the rules that hold a server's HA and
geo-redundant backup and a model share's ZRS to the cluster's region, in the components and the stack config."""
import json
import re
from importlib import resources

import pytest

from llmplatform.input_rules import problems_of
from llmplatform.regions import (azure_regions, azure_zones, federated_credentials_unsupported, postgres_compute,
                                 postgres_refuses, postgres_size_not_offered, postgres_zone_redundant_ha_paused,
                                 premium_files_refuse_zrs, service_regions)

from tests.config.test_loader import stack_raw
from tests.conftest import upstream_dir

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


# ---- the data against the vendored pages (tests/upstream/azure-services/, SOURCES.md) -------------------------------
# A display name is mapped to its programmatic name as `az account list-locations` spells it: lower-cased, spaces
# dropped ("West US 2" -> westus2, "UAE North" -> uaenorth); a name that is then no region of azure_regions.json (the
# sovereign clouds' China and US Gov rows; Taiwan North, Taiwan Northwest, South Central US 2, Southeast US, Southeast
# US 3 and Malaysia South, which the public region list does not hold) is left out, as the data's `_source` says.
def _programmatic(display: str) -> str:
    return "".join(display.split()).lower()


def _page(name: str) -> str:
    return (upstream_dir() / "azure-services" / name).read_text(encoding="utf-8")


def _left_out(names) -> set:
    return {n for n in names if n not in azure_regions()}


SOVEREIGN_OR_UNLISTED = {"chinaeast2", "chinaeast3", "chinanorth2", "chinanorth3", "usgovarizona", "usgovtexas",
                         "usgovvirginia", "taiwannorth", "taiwannorthwest", "southcentralus2", "southeastus",
                         "southeastus3", "malaysiasouth"}


def _postgres_rows() -> dict[str, list[str]]:
    """The regions table's rows by programmatic name: [intel, amd, confidential, zone-redundant HA, same-zone HA,
    geo-redundant backup], each cell as written."""
    lines = _page("postgresql-regions-table.md").splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("| Region |"))
    assert [c.strip() for c in lines[header].strip("|").split("|")] == [
        "Region", "Intel Compute", "AMD Compute", "Confidential Compute", "Zone-Redundant HA", "Same-Zone HA",
        "Geo-Redundant backup"]
    rows = {}
    for line in lines[header + 2:]:
        if not line.startswith("|"):
            break
        region, *cells = [c.strip() for c in line.strip("|").split("|")]
        rows[_programmatic(region.rstrip("*").strip())] = cells  # "Norway East *": access-restricted, a region still
    return rows


def _offered(cell: str) -> bool:
    assert cell.startswith((":white_check_mark:", ":x:")), cell
    return cell.startswith(":white_check_mark:")


def _generations(cell: str) -> list[str]:
    listed = re.fullmatch(r":white_check_mark: \((v[0-9](?:/v[0-9])*)\)", cell)
    assert listed or cell == ":x:", cell
    return listed[1].split("/") if listed else []


def test_the_postgres_lists_are_the_vendored_regions_table_cell_by_cell():
    """Every list and map of `postgres_flexible` is the page's column, region by region (a check mark, '$' on it,
    a cross, the generations in brackets), and every public region the table has is in the data."""
    rows, pg = _postgres_rows(), _data()["postgres_flexible"]
    assert _left_out(rows) == {n for n in SOVEREIGN_OR_UNLISTED if n in rows}
    public = {n: cells for n, cells in rows.items() if n in azure_regions()}
    assert pg["zone_redundant_ha"] == sorted(n for n, c in public.items() if _offered(c[3]))
    assert pg["no_zone_redundant_ha"] == sorted(n for n, c in public.items() if not _offered(c[3]))
    assert "`$` indicates new zone-redundant HA deployments are temporarily blocked" in _page(
        "postgresql-regions-table.md")
    assert pg["zone_redundant_ha_new_blocked"] == sorted(n for n, c in public.items()
                                                         if _offered(c[3]) and "$" in c[3].split())
    assert pg["geo_redundant_backup"] == sorted(n for n, c in public.items() if _offered(c[5]))
    assert pg["no_geo_redundant_backup"] == sorted(n for n, c in public.items() if not _offered(c[5]))
    assert pg["intel_compute"] == {n: _generations(c[0]) for n, c in sorted(public.items())}
    assert pg["amd_compute"] == {n: _generations(c[1]) for n, c in sorted(public.items())}
    assert "ms.date: 12/22/2025" in _page("postgresql-regions-table.md")


def _bullets(section: str) -> list[str]:
    """The '- (Area) Display Name' items of a section, by programmatic name."""
    items = []
    for line in section.splitlines():
        if line.startswith("- "):
            listed = re.fullmatch(r"- \([A-Za-z ]+\) ([A-Za-z0-9 ]+?)\s*", line)
            assert listed, line
            items.append(_programmatic(listed[1]))
    return items


def test_the_premium_files_lists_are_the_vendored_pages_two_lists():
    """`zrs` is the page's ZRS subset and `lrs_only` its LRS list less that subset, both by programmatic name; no
    region is on the ZRS list without being on the LRS list."""
    page = _page("redundancy-premium-file-shares.md")
    lrs_part, zrs_part = page.split("## LRS support for SSD Azure file shares", 1)[1].split(
        "## ZRS support for SSD Azure file shares", 1)
    lrs, zrs = _bullets(lrs_part), _bullets(zrs_part.split("## See also", 1)[0])
    assert len(lrs) == 69 and len(zrs) == 37  # every item read (a changed page changes these)
    assert _left_out(lrs + zrs) <= SOVEREIGN_OR_UNLISTED and set(zrs) <= set(lrs)
    files = _data()["premium_files"]
    assert files["zrs"] == sorted(set(zrs) - _left_out(zrs))
    assert files["lrs_only"] == sorted(set(lrs) - set(zrs) - _left_out(lrs))


def test_the_federated_credential_list_is_the_vendored_entra_pages():
    page = _page("workload-identity-federation-considerations.md")
    section = page.split("## Unsupported regions (user-assigned managed identities)", 1)[1].split("\n## ", 1)[0]
    listed = [_programmatic(line[2:]) for line in section.splitlines() if line.startswith("- ")]
    assert listed == ["malaysiasouth", "newzealandnorth"]
    assert _data()["federated_credentials"]["unsupported"] == sorted(set(listed) - _left_out(listed))


def test_every_region_is_on_each_page_or_named_as_left_out():
    """A region of azure_regions.json that a page does not list is left to Azure (neither side): these are the ones,
    so a region added to azure_regions.json is looked up on the pages (and added here or to the data)."""
    rows = _postgres_rows()
    assert sorted(set(azure_regions()) - set(rows)) == ["denmarkeast", "indiasouthcentral", "swedensouth",
                                                        "westindia"]
    files = _data()["premium_files"]
    assert sorted(set(azure_regions()) - set(files["zrs"]) - set(files["lrs_only"])) == [
        "denmarkeast", "indiasouthcentral", "swedensouth"]


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
                                            "(Microsoft's regions table); a server created with it there already "
                                            "keeps it: {check_region_offers} false")
    assert _pg(region, high_availability=False) == []
    assert _pg(region, high_availability=True, check_region_offers=False) == []


@pytest.mark.parametrize("region", service_regions()["postgres_flexible"]["no_geo_redundant_backup"])
def test_postgres_geo_backup_is_refused_where_the_region_has_none(region):
    (problem,) = _pg(region, geo_redundant_backup=True)
    assert problem[0] == "geo_redundant_backup" and f"in the cluster's location {region!r}" in problem[1]
    assert problem[1].endswith("; a server created with it there already keeps it: {check_region_offers} false")
    assert _pg(region, geo_redundant_backup=False) == []
    assert _pg(region, geo_redundant_backup=True, check_region_offers=False) == []


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
    assert problem.allowed.endswith("; a share created ZRS there already keeps it: {check_region_offers} false")
    assert problems_of("ModelStore", {**args, "redundancy": "LRS"}) == []
    assert problems_of("ModelStore", {**args, "redundancy": "ZRS", "check_region_offers": False}) == []


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
    (prod,) = [a for a in advisories(parse_config(stack_raw("prod"), "p", "prod")) if a.startswith(note)]
    # prod's own rule keeps HA on: the note must not tell prod to turn it off (the config would refuse that)
    assert "highAvailability false" not in prod and prod.endswith(
        "If the create is refused, prod needs postgres.highAvailability, so wait for the block to lift or deploy the "
        "new stack in a region whose zone-redundant HA the table does not mark as blocked (`zone_redundant_ha` less "
        "`zone_redundant_ha_new_blocked` in llmplatform/data/azure_service_regions.json, e.g. swedencentral)")
    assert "swedencentral" in service_regions()["postgres_flexible"]["zone_redundant_ha"]
    assert not postgres_zone_redundant_ha_paused("swedencentral")
    dev_ha = parse_config(stack_raw("dev", {"postgres": {"tier": "GeneralPurpose", "skuName": "Standard_D2ds_v5",
                                                         "highAvailability": True}}), "p", "dev")
    (dev,) = [a for a in advisories(dev_ha) if a.startswith(note)]
    assert dev.endswith("If the create is refused, deploy with postgres.highAvailability false and turn it on once "
                        "the block is lifted (an in-place update)")
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


# ---- review (2026-12-06): a deployed stack is not locked out; spellings; a location given as an output --------------
def test_a_running_stack_whose_region_the_page_no_longer_lists_keeps_deploying_with_a_warning():
    """A server created with HA and geo-redundant backup (a share created ZRS) while Microsoft's page listed them in
    its region keeps them when the page drops the region. The refusal names the way out; with
    `checkRegionOffers: false` the stack config takes the config and warns instead (a new server or share there would
    still be refused by Azure), and says when the key keeps nothing, so it does not linger past its reason."""
    from config.advisories import advisories
    from config.loader import parse_config
    # italynorth has no geo-redundant backup, belgiumcentral LRS-only SSD shares, japanwest no zone-redundant HA
    told = _refusal("dev", {"location": "japanwest", "postgres": {"tier": "GeneralPurpose",
                                                                   "skuName": "Standard_D2ds_v5",
                                                                   "highAvailability": True}})
    assert ("postgres.highAvailability true is invalid; allowed: false in the cluster's location 'japanwest': Azure "
            "offers no zone-redundant high availability for PostgreSQL flexible server there (Microsoft's regions "
            "table); a server created with it there already keeps it: postgres.checkRegionOffers false") in told
    told = _refusal("dev", {"location": "belgiumcentral", "modelStore": {"redundancy": "ZRS"}})
    assert "a share created ZRS there already keeps it: modelStore.checkRegionOffers false" in told
    kept = {"location": "italynorth", "postgres": {"checkRegionOffers": False},
            "modelStore": {"checkRegionOffers": False}}
    prod = parse_config(stack_raw("prod", kept), "p", "prod")  # prod's HA, geo-redundant backup and ZRS share
    notes = [a for a in advisories(prod) if "checkRegionOffers" in a]
    assert notes == [
        "modelStore.checkRegionOffers false keeps nothing here (the share's redundancy is offered in italynorth): set "
        "it back to true, so a new share is held to Microsoft's page again",
        "postgres.checkRegionOffers false: postgres.geoRedundantBackup true in italynorth, where Microsoft's regions "
        "table for PostgreSQL flexible server lists it as not offered; the existing server keeps it, but a new one (a "
        "new stack, a server replaced) would be refused by Azure unless the region has gained it since the table was "
        "read"]
    both = parse_config(stack_raw("prod", {"location": "belgiumcentral", "postgres": {"checkRegionOffers": False},
                                           "modelStore": {"checkRegionOffers": False}}), "p", "prod")
    assert [a.split(";")[0] for a in advisories(both) if "checkRegionOffers" in a] == [
        "modelStore.checkRegionOffers false: modelStore.redundancy ZRS in belgiumcentral, where Microsoft's page lists "
        "SSD file shares with LRS only",
        "postgres.checkRegionOffers false: postgres.geoRedundantBackup true in belgiumcentral, where Microsoft's "
        "regions table for PostgreSQL flexible server lists it as not offered"]
    # the shipped stacks neither need the key nor get a note
    for stack in ("prod", "dev", "llmd"):
        assert not any("checkRegionOffers" in a for a in advisories(parse_config(stack_raw(stack), "p", stack)))


def test_the_components_take_the_key_through_the_stack_program():
    """`checkRegionOffers: false` reaches the components (config/inputs.py, __main__.py): the program, which runs
    their rules again, does not refuse what the stack config took."""
    from config.inputs import postgres_args
    from config.loader import parse_config
    cfg = parse_config(stack_raw("prod", {"location": "italynorth", "postgres": {"checkRegionOffers": False}}),
                       "p", "prod")
    args = postgres_args(cfg, {"location": cfg.location}, {}, "psql-llmp-prod-0cb157")  # type: ignore[arg-type]
    assert args["check_region_offers"] is False and args["geo_redundant_backup"] is True
    assert problems_of("PostgresServer", args) == []
    main = (upstream_dir().parents[1] / "__main__.py").read_text()
    assert '"check_region_offers": store.check_region_offers' in main


@pytest.mark.parametrize("spelling", ["Italy North", "ItalyNorth", "italy north", "ITALYNORTH"])
def test_a_display_spelling_of_the_location_is_the_same_region(spelling):
    """ARM takes a display spelling for a location; the pages' lists are read by the programmatic name."""
    assert postgres_refuses(spelling, "geo_redundant_backup")
    assert _pg(spelling, geo_redundant_backup=True)[0][0] == "geo_redundant_backup"
    assert premium_files_refuse_zrs(spelling.replace("Italy", "Belgium").replace("italy", "belgium")
                                    .replace("ITALY", "BELGIUM").replace("North", "Central").replace("north", "central")
                                    .replace("NORTH", "CENTRAL"))
    assert postgres_zone_redundant_ha_paused("West Europe") and federated_credentials_unsupported("New Zealand North")
    assert postgres_size_not_offered("East US 2", "Standard_D2ds_v5")


def test_a_location_given_as_an_output_is_checked_once_it_resolves():
    """A cluster handle from another language or a stack reference arrives as one output: its location is read once
    it resolves, with the early check's words (a sentence, no traceback), and a region that offers them plans."""
    import pulumi
    from llmplatform import ComponentInputError, ModelStore, PostgresServer
    from llmplatform.testing import ProgramError, run
    from tests.components.test_components_alone import VAULT, cluster_handle, provider_opts

    def outcome(build, as_output: bool):
        try:
            run(lambda: build(as_output))
        except (ComponentInputError, ProgramError) as error:
            return str(error), type(error)
        return "", None

    def server(location: str, **extra):
        def build(as_output: bool) -> None:
            handle = {**cluster_handle(), "location": location}
            PostgresServer("pg", {"cluster": pulumi.Output.from_input(handle) if as_output else handle,
                                  "key_vault": VAULT, "server_name": "psql-x-1", "tier": "GeneralPurpose",
                                  "sku_name": "Standard_D2ds_v5", "geo_redundant_backup": True, **extra})
        return build

    def share(location: str):
        def build(as_output: bool) -> None:
            handle = {**cluster_handle(), "location": location}
            ModelStore("models", {"cluster": pulumi.Output.from_input(handle) if as_output else handle,
                                  "namespace": "llm", "account_name": "stllmpx0123", "redundancy": "ZRS"},
                       provider_opts())
        return build

    for build in (server("italynorth"), share("belgiumcentral")):
        (early, early_type), (late, late_type) = outcome(build, False), outcome(build, True)
        assert early_type is ComponentInputError and late_type is ProgramError, (early, late)
        assert late == early and "Traceback" not in late and "in the cluster's location" in late
    for build in (server("westeurope"), server("italynorth", check_region_offers=False), share("westeurope")):
        assert outcome(build, True) == ("", None)
