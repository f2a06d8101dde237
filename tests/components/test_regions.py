"""Which Azure regions have availability zones (components/llmplatform/data/azure_zones.json, read from Microsoft's
Azure regions list) against the region names every `location` follows (data/azure_regions.json), without Pulumi."""
import json
from importlib import resources

import pytest

from llmplatform.regions import azure_regions, azure_zones, has_no_zones

LISTS = ("zonal", "without_zones", "not_listed")


def _data() -> dict:
    return json.loads(resources.files("llmplatform").joinpath("data", "azure_zones.json").read_text("utf-8"))


def test_every_region_is_in_exactly_one_zone_list_and_every_listed_name_is_a_region():
    """A name in a zone list that is no region (a typo, a region not added to azure_regions.json) is refused, and so
    is a region of azure_regions.json no zone list places: adding a region means reading its zones too."""
    zones, regions = azure_zones(), set(azure_regions())
    assert set(zones) == set(LISTS)
    for name in LISTS:
        assert len(set(zones[name])) == len(zones[name]), f"{name} lists a region twice"
        assert list(zones[name]) == sorted(zones[name]), f"{name} is not sorted"
        assert set(zones[name]) <= regions, f"{name}: {sorted(set(zones[name]) - regions)} not in azure_regions.json"
    placed = [r for name in LISTS for r in zones[name]]
    assert len(placed) == len(set(placed)), "a region is in two zone lists"
    assert set(placed) == regions, f"in no zone list: {sorted(regions - set(placed))}"


def test_the_zone_lists_name_their_source_and_its_commit():
    source = _data()["_source"]
    for needle in ("MicrosoftDocs/reliability-docs", "articles/reliability/regions-list.md",
                   "c7803c506e09cb705dd2dd45c338c480a0500e27", "Availability zone support"):
        assert needle in source


@pytest.mark.parametrize("region, zonal", [
    # the source's check marks, and the empty cells of regions long known to have none
    ("westeurope", True), ("swedencentral", True), ("eastus2", True), ("northeurope", True), ("uksouth", True),
    ("westus", False), ("ukwest", False), ("northcentralus", False), ("westcentralus", False), ("canadaeast", False),
])
def test_a_region_without_zones_is_told_from_a_zonal_one(region, zonal):
    assert region in azure_zones()["zonal" if zonal else "without_zones"]
    assert has_no_zones(region) is not zonal


def test_a_region_the_source_leaves_out_or_a_name_that_is_no_region_is_not_said_to_lack_zones():
    """Zones there are AKS's to judge (and a bad name is the location rule's to refuse)."""
    assert azure_zones()["not_listed"] == ("jioindiacentral", "jioindiawest", "swedensouth")
    for name in ("jioindiawest", "swedensouth", "westus4", "West US", ""):
        assert not has_no_zones(name)
