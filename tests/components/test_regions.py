"""Which Azure regions have availability zones (components/llmplatform/data/azure_zones.json, read from Microsoft's
Azure regions list) against the region names every `location` follows (data/azure_regions.json), without Pulumi."""
import json
from importlib import resources

import pytest

from llmplatform.regions import azure_region, azure_regions, azure_zones, has_no_zones

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


# ---- the zone rule, as AksCluster and GpuNodePool run it (llmplatform.input_rules) --------------------------------
def _zone_problems(component: str, args: dict) -> list:
    from llmplatform.input_rules import problems_of
    return [p for p in problems_of(component, args) if p.path == "zones"]


@pytest.mark.parametrize("region", azure_zones()["without_zones"])
def test_zones_are_refused_in_every_region_without_them_naming_the_region_and_the_way_out(region):
    (problem,) = _zone_problems("AksCluster", {"location": region, "zones": ["1", "2", "3"]})
    assert problem.value == ["1", "2", "3"]
    assert problem.sentence() == (f"input zones=['1', '2', '3'] is invalid; allowed: none in location {region!r}, a "
                                  f"region without availability zones (Microsoft's Azure regions list): leave zones "
                                  f"out")
    (problem,) = _zone_problems("GpuNodePool", {"cluster": {"location": region}, "vm_size": "Standard_NC4as_T4_v3",
                                                "zones": ["2"]})
    assert f"none in the cluster's location {region!r}, a region without availability zones" in problem.allowed


@pytest.mark.parametrize("region", azure_zones()["zonal"] + azure_zones()["not_listed"])
def test_zones_are_taken_in_a_zonal_region_and_one_the_source_leaves_out(region):
    assert _zone_problems("AksCluster", {"location": region, "zones": ["1", "2", "3"]}) == []
    assert _zone_problems("GpuNodePool", {"cluster": {"location": region}, "vm_size": "Standard_NC4as_T4_v3",
                                          "zones": ["1"]}) == []


def test_no_zones_is_taken_in_a_region_without_them():
    assert _zone_problems("AksCluster", {"location": "westus", "zones": []}) == []
    assert _zone_problems("AksCluster", {"location": "westus"}) == []
    assert _zone_problems("GpuNodePool", {"cluster": {"location": "westus"}, "vm_size": "Standard_NC4as_T4_v3",
                                          "regional": True}) == []


def test_a_misspelt_location_is_refused_once_by_its_own_rule_not_again_by_the_zones():
    from llmplatform.input_rules import problems_of
    found = problems_of("AksCluster", {"location": "West US", "zones": ["1"]})
    assert [p.path for p in found if p.path in ("location", "zones")] == ["location"]


# ---- the components under the mocks (llmplatform.testing.run) --------------------------------------------------
def _cluster(location, zones=None, name="aks"):
    import llmplatform
    from tests.components.test_components_alone import REQUIRED
    args = {**REQUIRED["AksCluster"](), "location": location}
    if zones is not None:
        args["zones"] = zones
    return llmplatform.AksCluster(name, args)


def _gpu_pool(aks, zones=None):
    import llmplatform
    import pulumi
    args = {"cluster": aks.cluster, "vm_size": "Standard_NC4as_T4_v3"}
    if zones is not None:
        args["zones"] = zones
    return llmplatform.GpuNodePool("gpu", args, pulumi.ResourceOptions(providers=[aks.provider]))


def test_aks_cluster_refuses_zones_in_a_region_without_them_before_it_registers():
    from llmplatform import ComponentInputError
    from llmplatform.testing import run
    with pytest.raises(ComponentInputError) as error:
        run(lambda: _cluster("westus", ["1", "2", "3"]))
    assert str(error.value) == ("AksCluster aks: input zones=['1', '2', '3'] is invalid; allowed: none in location "
                                "'westus', a region without availability zones (Microsoft's Azure regions list): "
                                "leave zones out")


def test_gpu_pool_refuses_its_own_zones_on_a_cluster_in_a_region_without_them():
    from llmplatform import ComponentInputError
    from llmplatform.testing import run
    with pytest.raises(ComponentInputError, match=r"GpuNodePool gpu: input zones=\['1'\] is invalid; allowed: none "
                                                  r"in the cluster's location 'ukwest', a region without availability "
                                                  r"zones"):
        run(lambda: _gpu_pool(_cluster("ukwest"), ["1"]))


def test_the_same_programs_plan_in_a_zonal_region_and_without_zones_in_one_without():
    from llmplatform.testing import run

    def zones_of(plan):
        pools = plan.of_type("azure-native:containerservice:AgentPool")
        inline = plan.one("azure-native:containerservice:ManagedCluster").inputs["agentPoolProfiles"]
        return sorted({tuple(p.get("availabilityZones") or ()) for p in [r.inputs for r in pools] + inline})
    assert zones_of(run(lambda: _gpu_pool(_cluster("westeurope", ["1", "2", "3"]), ["1"]))) == \
        [("1",), ("1", "2", "3")]
    assert zones_of(run(lambda: _gpu_pool(_cluster("westus")))) == [()]


def test_a_location_known_only_at_deploy_time_is_checked_against_the_zones_once_it_resolves():
    """An output location (another stack's, a resource group's) cannot be read when the component is built: the
    zones are not refused then. Once it resolves, the rules run again with it: a zonal region plans with the zones,
    one without them is refused in the words a plain location gets (the plan carried them, and AKS refused the pool
    at deploy time)."""
    import pulumi
    from llmplatform.testing import ProgramError, run
    plan = run(lambda: _cluster(pulumi.Output.from_input("westeurope"), ["1", "2", "3"]))
    assert plan.one("azure-native:containerservice:ManagedCluster").inputs["agentPoolProfiles"][0][
        "availabilityZones"] == ["1", "2", "3"]
    with pytest.raises(ProgramError) as error:
        run(lambda: _cluster(pulumi.Output.from_input("westus"), ["1", "2", "3"]))
    assert str(error.value) == ("AksCluster aks: input zones=['1', '2', '3'] is invalid; allowed: none in location "
                                "'westus', a region without availability zones (Microsoft's Azure regions list): "
                                "leave zones out")


def test_a_gpu_pool_s_own_zones_on_a_cluster_handle_whose_location_is_an_output_are_checked_once_it_resolves():
    """A cluster handle whose location is an output (another language's, a stack reference's): the pool's own zones
    are held to that location once it resolves, in the words a plain location gets, before the pool registers (AKS
    refused the pool at its create, after the cluster)."""
    import llmplatform
    import pulumi
    from llmplatform.testing import ProgramError, run
    from tests.components.test_components_alone import cluster_handle, provider_opts

    def pool(location: str) -> None:
        handle = {**cluster_handle(), "location": pulumi.Output.from_input(location)}
        llmplatform.GpuNodePool("gpu", {"cluster": handle, "vm_size": "Standard_NC4as_T4_v3", "zones": ["1"]},
                                provider_opts())
    with pytest.raises(ProgramError) as error:
        run(lambda: pool("ukwest"))
    assert str(error.value).startswith("GpuNodePool gpu: input zones=['1'] is invalid; allowed: none in the "
                                       "cluster's location 'ukwest', a region without availability zones")
    zones = [r.inputs.get("availabilityZones") for r in run(lambda: pool("westeurope")).of_type(
        "azure-native:containerservice:AgentPool")]
    assert zones and all(z == ["1"] for z in zones)


@pytest.mark.parametrize("name, hint", [
    ("West US", "did you mean westus?"),  # a display spelling: the one region it names, not its neighbours
    ("west europe", "did you mean westeurope?"),
    ("eastus3", "did you mean eastus, westus3, eastus2?"),  # no such region: the three nearest, nearest first
    ("mars", "e.g. westeurope, eastus2, swedencentral"),
])
def test_a_location_that_is_no_region_names_what_was_meant(name, hint):
    assert azure_region("westus") is None
    assert azure_region(name).endswith(f"(lowercase, no spaces; {hint})")


@pytest.mark.parametrize("spelling", ["UK West", "uk west", "UKWest"])
def test_a_gpu_pool_s_own_zones_are_held_to_a_cluster_handle_s_location_in_a_display_spelling(spelling):
    """A handle's location as ARM takes it too, in a display spelling (a handle written by hand, or from a stack not
    made with AksCluster, whose location rule refuses that spelling): the zones rule read only the programmatic name,
    so a zonal pool in 'UK West' passed and AKS refused it at its create; the region-offer rules read both."""
    import llmplatform
    import pulumi
    from llmplatform.testing import ProgramError, run
    from tests.components.test_components_alone import cluster_handle, provider_opts

    def pool(as_output: bool) -> None:
        handle = {**cluster_handle(), "location": pulumi.Output.from_input(spelling) if as_output else spelling}
        llmplatform.GpuNodePool("gpu", {"cluster": handle, "vm_size": "Standard_NC4as_T4_v3", "zones": ["1"]},
                                provider_opts())
    for as_output in (False, True):
        with pytest.raises((ProgramError, llmplatform.ComponentInputError)) as error:
            run(lambda: pool(as_output))
        assert "input zones=['1'] is invalid; allowed: none in the cluster's location" in str(error.value)
