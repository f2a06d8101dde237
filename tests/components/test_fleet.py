"""Fleet (components/llmplatform/fleet.py): the regional clusters as members, upgraded one region at a time."""

import pytest
import llmplatform

from offline import runner as offline
from tests.conftest import REGIONS, plan_for




def test_fleet_members_are_the_regional_clusters_upgraded_one_region_at_a_time(global_plan):
    members = {m.inputs["fleetMemberName"]: m.inputs for m in global_plan.of_type(
        "azure-native:containerservice:FleetMember")}
    assert {m["clusterResourceId"] for m in members.values()} == {plan_for(r).outputs["clusterId"] for r in REGIONS}
    stages = global_plan.one("azure-native:containerservice:FleetUpdateStrategy").inputs["strategy"]["stages"]
    assert [s["groups"][0]["name"] for s in stages] == ["westeurope", "swedencentral"]  # global.regions order
    assert stages[0]["afterStageWaitInSeconds"] == 3600 and "afterStageWaitInSeconds" not in stages[1]
    profile = global_plan.one("azure-native:containerservice:AutoUpgradeProfile").inputs
    assert profile["channel"] == "Stable" and profile["nodeImageSelection"] == {"type": "Consistent"}
    # a member joins at a time: the fleet takes one member operation at once
    first, second = global_plan.of_type("azure-native:containerservice:FleetMember")
    assert global_plan.waits_for(second, lambda d: d.urn == first.urn) or \
        global_plan.waits_for(first, lambda d: d.urn == second.urn)


def test_regional_clusters_leave_upgrades_to_the_fleet_and_admit_only_front_door():
    for region in REGIONS:
        plan = plan_for(region)
        aks = plan.one("azure-native:containerservice:ManagedCluster").inputs
        assert aks["autoUpgradeProfile"]["upgradeChannel"] == "none"
        gateway = next(g for g in plan.of_type("kubernetes:gateway.networking.k8s.io/v1:Gateway")
                       if g.inputs["metadata"]["name"] == "external-gateway")
        annotations = gateway.inputs["spec"]["infrastructure"]["annotations"]
        assert annotations["service.beta.kubernetes.io/azure-allowed-service-tags"] == "AzureFrontDoor.Backend"
        assert plan.outputs["location"] == region.split("-", 1)[1] and plan.outputs["clusterId"]


def _fleet(**extra):
    def program():
        llmplatform.FleetUpdates("fleet", {"resource_group_name": "rg", "location": "westeurope",
                                           "fleet_name": "fleet-a", **extra,
                                           "members": [{"name": "weu", "cluster_id": "/subscriptions/0/x"}]})
    return offline.run_function(program)


def test_the_node_image_channel_takes_one_consistent_image_and_refuses_latest():
    """Fleet's NodeImage channel "always uses consistent image" (MicrosoftDocs/azure-aks-docs 02d016f0
    articles/kubernetes-fleet/update-automation.md): the auto-upgrade profile is sent without a selection, and a
    caller's Latest, which that dropped without a word, is refused naming the input and the channel."""
    profile = _fleet(channel="NodeImage").one("azure-native:containerservice:AutoUpgradeProfile").inputs
    assert profile["channel"] == "NodeImage" and "nodeImageSelection" not in profile
    latest = _fleet(channel="Stable", node_image_selection="Latest")
    assert latest.one("azure-native:containerservice:AutoUpgradeProfile").inputs["nodeImageSelection"] == {
        "type": "Latest"}
    with pytest.raises(Exception, match=r"node_image_selection='Latest' is invalid; allowed: Consistent or unset "
                                        r"with channel NodeImage"):
        _fleet(channel="NodeImage", node_image_selection="Latest")
