"""What a day-2 `pulumi up` (refresh first: Pulumi.yaml `options.refresh: always`) does to what others wrote on the
plans' Azure resources, as pulumi-azure-native reads, diffs and PUTs them (tests/azure_put.py, transcribed from its
source; docs/decisions.md "2026-12-05: an Azure PUT on day 2: what it does to what others wrote")."""
import copy
from typing import Any

import pytest

from offline.plan_diff.ignore_changes import process_ignore_changes
from tests.azure_put import diff, engine_inputs, maintained_paths, put_body, refresh
from tests.conftest import variant

PLANS = ("dev", "prod", "llmd")
CLUSTER, POOL = "azure-native:containerservice:ManagedCluster", "azure-native:containerservice:AgentPool"
# An AgentPool's settings as the cluster's GET lists it in agentPoolProfiles (every pool of the cluster, however
# created: pulumi-azure-native #1532, #579): the pool's inputs less the path parameters
POOL_PATH_PARAMETERS = ("resourceGroupName", "resourceName", "agentPoolName", "azureApiVersion")


def azure_resources(plan_name: str) -> list[Any]:
    return [r for r in variant(plan_name).resources if r.custom and r.type.startswith("azure-native:")]


def resource_inputs(resource: Any) -> dict[str, Any]:
    return copy.deepcopy(resource.inputs)


def test_the_pinned_sdk_names_what_an_update_keeps():
    """The properties pulumi-azure-native 3.29.0 maintains (its generator's marker in the installed SDK): a VNet's
    subnets and peerings, a vault's access policies; not a cluster's pools, whose inline list is no nested resource's
    body (ManagedClusterAgentPoolProfile, not AgentPool)."""
    assert maintained_paths("azure-native:network:VirtualNetwork") == ["subnets", "virtualNetworkPeerings"]
    assert maintained_paths("azure-native:keyvault:Vault") == ["properties.accessPolicies"]
    assert maintained_paths(CLUSTER) == []


@pytest.mark.parametrize("plan_name", PLANS)
def test_an_update_keeps_what_others_add_under_a_maintained_property(plan_name):
    """Subnets (the program's own, and a peering or subnet another team adds) under the VNet, access policies under
    the vault: the program leaves each maintained property unset, so a refresh does not take the live ones into the
    inputs (the preview shows nothing) and a tag change's PUT carries them as they are live. Set inline (even as []),
    the PUT would carry the program's list and delete the others."""
    checked = set()
    for resource in azure_resources(plan_name):
        paths = maintained_paths(resource.type)
        if not paths:
            continue
        program = resource_inputs(resource)
        for path in paths:
            head, _, leaf = path.rpartition(".")
            parent = program
            for part in filter(None, head.split(".")):
                parent = parent.get(part, {})
            assert leaf not in parent, (
                f"{plan_name}: {resource.name} sets {path}: a PUT of it deletes what others (or the program's own "
                f"standalone resources) created under it")
        # the create's read: none yet (the create itself sends [], SetUnsetSubresourcePropertiesToDefaults);
        # then the children, as the GET returns them
        live_before, live = copy.deepcopy(program), copy.deepcopy(program)
        for path in paths:
            head, _, leaf = path.rpartition(".")
            for state, value in ((live_before, []), (live, [{"name": f"others-{leaf}"}])):
                node = state
                for part in filter(None, head.split(".")):
                    node = node.setdefault(part, {})
                node[leaf] = value
        stored = refresh(program, live_before, live, paths)
        assert diff(stored, program) == {}, f"{plan_name}: {resource.name}: a refresh shows others' children"
        tagged = {**program, "tags": {**program.get("tags", {}), "owner": "platform"}}
        assert set(diff(stored, tagged)) == {"tags.owner"}
        body = put_body(tagged, live, paths)
        for path in paths:
            head, _, leaf = path.rpartition(".")
            node = body
            for part in filter(None, head.split(".")):
                node = node[part]
            assert node[leaf] == [{"name": f"others-{leaf}"}], f"{plan_name}: {resource.name}: {path} not kept"
        checked.add(resource.type)
    planned = {r.type for r in azure_resources(plan_name)}
    assert checked == {t for t in ("azure-native:network:VirtualNetwork", "azure-native:keyvault:Vault") if t in planned}
    assert "azure-native:network:VirtualNetwork" in checked, plan_name


def pool_profile(pool: Any) -> dict[str, Any]:
    profile = {k: v for k, v in resource_inputs(pool).items() if k not in POOL_PATH_PARAMETERS}
    profile["name"] = pool.inputs["agentPoolName"]
    return profile


@pytest.mark.parametrize("plan_name", PLANS)
def test_the_clusters_update_after_its_separate_pools_moved_sends_only_the_inline_pool(plan_name):
    """The cluster's GET lists every pool in agentPoolProfiles, and `agentPoolProfiles` is no maintained property:
    once a separate AgentPool exists or moved (the autoscaler's count, an upgrade's version), the refresh copies it
    into the cluster's stored inputs (applyValueDiff copies an element past their end whole), and the preview shows
    `~ agentPoolProfiles` as a cluster update (docs/decisions.md). What the PUT then carries is the program's inline
    pool only, which AKS takes without deleting the others (#579); ignoring `agentPoolProfiles` (the workaround of
    pulumi-azure-native #2719) would send every separate pool's refreshed settings, stale counts included, in the
    cluster's PUT."""
    plan = variant(plan_name)
    [cluster] = plan.of_type(CLUSTER)
    pools = plan.of_type(POOL)
    assert pools, plan_name
    program = resource_inputs(cluster)
    ignore = list(cluster.options.get("ignoreChanges") or [])
    inline = [p["name"] for p in program["agentPoolProfiles"]]
    separate = [p.inputs["agentPoolName"] for p in pools]
    assert not set(inline) & set(separate), f"{plan_name}: a pool both inline and an AgentPool: {inline}, {separate}"
    created = copy.deepcopy(program)  # the cluster's create: its read lists the inline pool alone
    live = copy.deepcopy(program)
    live["agentPoolProfiles"] += [pool_profile(p) for p in pools]
    stored = refresh(program, created, live, maintained_paths(CLUSTER))
    # an update of the cluster (here a tag change) PUTs the program's inline pool alone
    tagged = {**program, "tags": {**program.get("tags", {}), "owner": "platform"}}
    sent = engine_inputs(tagged, stored, ignore)
    assert [p["name"] for p in sent["agentPoolProfiles"]] == inline, (
        f"{plan_name}: the cluster's PUT carries separate pools: {[p['name'] for p in sent['agentPoolProfiles']]}")
    # and with no change of the program's, the preview shows the separate pools going (the documented edge)
    changes = diff(stored, program, ignore)
    assert changes and all(p.startswith("agentPoolProfiles[") for p in changes), changes
    # after that update the stored inputs are the program's again: a refresh with nothing moved shows nothing
    assert diff(refresh(sent, live, live, []), tagged, ignore) == {}


def foreign_write(plan_name: str, type_: str, path: list[str], value: Any) -> tuple[dict, dict, dict]:
    [resource] = [r for r in azure_resources(plan_name) if r.type == type_][:1]
    program = resource_inputs(resource)
    live = copy.deepcopy(program)
    node = live
    for part in path[:-1]:
        node = node.setdefault(part, {})
    node.setdefault(path[-1], [])
    node[path[-1]] = node[path[-1]] + [value]
    return program, refresh(program, program, live, maintained_paths(type_)), live


@pytest.mark.parametrize("type_,path,entry", [
    ("azure-native:keyvault:Vault", ["properties", "networkAcls", "ipRules"], {"value": "203.0.113.7"}),
    ("azure-native:storage:StorageAccount", ["networkRuleSet", "ipRules"], {"iPAddressOrRange": "203.0.113.7"}),
])
def test_a_firewall_entry_added_by_hand_shows_and_the_next_up_removes_it(type_, path, entry):
    """The vault's and the model share's network rules are the program's: an address another actor admits shows in
    the next preview as a change back, and that up's PUT (the rule set as the program has it) removes it
    (docs/operations.md)."""
    program, stored, _ = foreign_write("prod", type_, path, entry)
    changes = diff(stored, program)
    assert changes, f"{type_}: {'.'.join(path)} added by hand is not shown"
    node = engine_inputs(program, stored)
    for part in path[:-1]:
        node = node[part]
    assert entry not in node.get(path[-1], []), f"{type_}: the PUT keeps the entry added by hand"


def test_a_tag_azure_policy_adds_on_every_put_is_one_update_then_quiet():
    """Azure Policy's `modify` (tag inheritance) adds its tag to every PUT that lacks it. A tag it adds to an existing
    resource (a remediation) is one update the next preview shows; the PUT carries the program's tags and the policy
    adds its own again, so the update's read has it and later refreshes show nothing: no flap, no ignore_changes."""
    [account] = [r for r in azure_resources("prod") if r.type == "azure-native:storage:StorageAccount"]
    program = resource_inputs(account)
    def policy(body):
        return {**body, "tags": {**body.get("tags", {}), "costCenter": "inherited"}}
    live = policy(program)  # the remediation
    stored = refresh(program, program, live, maintained_paths(account.type))
    assert set(diff(stored, program)) == {"tags.costCenter"}
    after_update = policy(put_body(program, live, maintained_paths(account.type)))  # what the update's read returns
    assert diff(refresh(program, after_update, after_update, []), program) == {}


# What an organization's DeployIfNotExists assignments (Azure Landing Zones assign the Azure Policy add-on's and
# Defender for Containers' by default) or Defender for Cloud's auto-provisioning write on a cluster after it exists,
# as the cluster's GET returns them in the input shape (read-only parts, such as an add-on's identity, left out).
# `addonProfiles` is a map whose keys AKS returns in the casing they were written in: az (acs `update_addons`, "addon
# name is case insensitive") reuses a key's casing, the portal writes `omsAgent` (MicrosoftDocs/azure-docs#93132: a
# GET with `addonProfiles.omsAgent`; hashicorp/terraform-provider-azurerm#1983), and terraform-provider-azurerm reads
# every add-on key case-insensitively (internal/services/containers/kubernetes_addons.go `kubernetesAddonProfileLocate`,
# "Azure updates the casing on the keys"). An ignoreChanges path is case-sensitive (pulumi/pulumi PropertyPath).
POLICY_WRITES = [
    ("securityProfile.defender", {"logAnalyticsWorkspaceResourceId": "/subscriptions/s/resourceGroups/Default"
                                  "ResourceGroup-WEU/providers/Microsoft.OperationalInsights/workspaces/DefaultWorkspace"
                                  "-s-WEU", "securityMonitoring": {"enabled": True}}),
    ("addonProfiles.azurepolicy", {"enabled": True}),
    ("addonProfiles.azurePolicy", {"enabled": True}),
    ("addonProfiles.omsagent", {"enabled": True, "config": {"logAnalyticsWorkspaceResourceID": "/subscriptions/s/w"}}),
    ("addonProfiles.omsAgent", {"enabled": True, "config": {"logAnalyticsWorkspaceResourceID": "/subscriptions/s/w"}}),
    ("azureMonitorProfile", {"metrics": {"enabled": True}}),
]


def at(obj: dict[str, Any], path: str) -> tuple[bool, Any]:
    for part in path.split("."):
        if not isinstance(obj, dict) or part not in obj:
            return False, None
        obj = obj[part]
    return True, obj


def sets_itself(program: dict[str, Any], path: str) -> bool:
    """The program sends the feature itself, in any casing of its map key."""
    head, _, leaf = path.rpartition(".")
    parent = at(program, head)[1] if head else program
    return isinstance(parent, dict) and any(key.lower() == leaf.lower() for key in parent)


@pytest.mark.parametrize("plan_name", PLANS)
def test_what_policies_turn_on_in_the_cluster_stays_on_and_previews_nothing(plan_name):
    """A feature the plan does not turn on, turned on by a policy or Defender for Cloud (an add-on in either casing
    AKS returns): the next refresh copies it into the cluster's stored inputs; without an ignore the preview shows it
    going, and the PUT (the program's `addonProfiles` map and `securityProfile` object, sent whole) turns it off until
    the policy turns it on again, every run, or a Deny assignment refuses the PUT. With it, the preview is quiet and a
    later update of the cluster (a tag) PUTs it as it is live."""
    [cluster] = variant(plan_name).of_type(CLUSTER)
    program = resource_inputs(cluster)
    ignore = list(cluster.options.get("ignoreChanges") or [])
    checked = []
    for path, value in POLICY_WRITES:
        if sets_itself(program, path):
            continue  # the plan turns it on itself: the program's value is the one sent
        live = copy.deepcopy(program)
        head, _, leaf = path.rpartition(".")
        node = live
        for part in filter(None, head.split(".")):
            node = node.setdefault(part, {})
        node[leaf] = copy.deepcopy(value)
        stored = refresh(program, program, live, maintained_paths(CLUSTER))
        assert diff(stored, program, ignore) == {}, f"{plan_name}: {path} turned on by a policy shows as going"
        tagged = {**program, "tags": {**program.get("tags", {}), "owner": "platform"}}
        assert at(engine_inputs(tagged, stored, ignore), path) == (True, value), (
            f"{plan_name}: the cluster's PUT turns {path} off")
        checked.append(path)
    assert checked or plan_name == "prod", plan_name  # prod turns on all four itself


def test_an_ignored_path_whose_parent_the_program_stops_sending_is_not_held():
    """processIgnoreChanges (pulumi/pulumi `PropertyPath.reset`, offline/plan_diff/ignore_changes.py): an ignored leaf
    the old inputs lack is deleted from the new ones, one they have is copied in; a parent the old inputs have and the
    new ones lack is a path the engine cannot reset: since v3.190.0 (#20278) no error, an info line, and the update
    sends the program's inputs without it, so the feature goes. The cluster's ignored features hang under
    `securityProfile` and `addonProfiles`, which the program must therefore always send."""
    old = {"securityProfile": {"defender": {"securityMonitoring": {"enabled": True}}}, "tags": {"a": "b"}}
    assert engine_inputs({"securityProfile": {}, "tags": {}}, old, ["securityProfile.defender"]) == {
        "securityProfile": {"defender": {"securityMonitoring": {"enabled": True}}}, "tags": {}}
    assert engine_inputs({"securityProfile": {"defender": {}}}, {"securityProfile": {}},
                         ["securityProfile.defender"]) == {"securityProfile": {}}
    assert engine_inputs({"tags": {}}, {"tags": {}}, ["securityProfile.defender"]) == {"tags": {}}
    assert process_ignore_changes(old, {"tags": {}}, ["securityProfile.defender"]) == (
        {"tags": {}}, ["securityProfile.defender"])
    assert process_ignore_changes({"agentPoolProfiles": [{"count": 1}, {"count": 2}]},
                                  {"agentPoolProfiles": [{"count": 3}]}, ["agentPoolProfiles[1].count"]) == (
        {"agentPoolProfiles": [{"count": 3}]}, ["agentPoolProfiles[1].count"])
    for plan_name in PLANS:
        [cluster] = variant(plan_name).of_type(CLUSTER)
        program = resource_inputs(cluster)
        for path in cluster.options.get("ignoreChanges") or []:
            head = path.split(".")[0].split("[")[0]
            assert head == path or head in program, f"{plan_name}: {path} ignored, its parent {head} not sent"


def test_the_pinned_sdks_monitor_profile_holds_metrics_alone():
    """With managed Prometheus on, AksCluster sends `azureMonitorProfile.metrics` and ignores none of it; an SDK whose
    AKS API adds Container Insights there (`containerInsights`, a preview property of later API versions) would PUT
    the program's nothing over what a policy wrote, as the add-on keys did before OTHERS_TURN_ON: a bump that adds
    a field here must add its path there (docs/decisions.md "2026-12-05: an Azure PUT on day 2")."""
    import inspect

    from pulumi_azure_native.containerservice import ManagedClusterAzureMonitorProfileArgs
    fields = set(inspect.signature(ManagedClusterAzureMonitorProfileArgs.__init__).parameters) - {"__self__"}
    assert fields == {"metrics"}, f"azureMonitorProfile now has {sorted(fields)}: decide which others turn on"


@pytest.mark.parametrize("plan_name", PLANS)
def test_a_database_zone_failover_leaves_the_next_up_nothing_to_replace(plan_name):
    """Azure picks the server's zone and its standby's when the program names none (the SDK sends `""` for both),
    and a zone-redundant failover swaps them: the server's `availabilityZone` then reports the new primary's
    (hashicorp/terraform-provider-azurerm website/docs/r/postgresql_flexible_server.html.markdown, `zone`: "If the
    PostgreSQL Flexible Server fails-over to the Standby Availability Zone, the `zone` will be updated to reflect the
    current Primary Availability Zone"), as does a server revived or restored under the stack's name. The refresh
    copies that change into the stored inputs (applyValueDiff), and `availabilityZone` is force-new in
    pulumi-azure-native (offline/data/replacement_rules.json): without `ignoreChanges` the next `pulumi up` would
    replace the server (refused where it is protected, prod; an empty server where not)."""
    plan = variant(plan_name)
    servers = plan.of_type("azure-native:dbforpostgresql:Server")
    if not servers:
        pytest.skip(f"{plan_name} has no PostgreSQL server")
    [server] = servers
    program = resource_inputs(server)
    ignore = list(server.options.get("ignoreChanges") or [])
    created = copy.deepcopy(program)  # as Azure placed it: primary in zone 1, its standby (with HA) in zone 2
    created["availabilityZone"] = "1"
    if program["highAvailability"]["mode"] != "Disabled":
        created["highAvailability"]["standbyAvailabilityZone"] = "2"
    failed_over = copy.deepcopy(created)
    failed_over["availabilityZone"] = "2"
    if program["highAvailability"]["mode"] != "Disabled":
        failed_over["highAvailability"]["standbyAvailabilityZone"] = "1"
    maintained = maintained_paths(server.type)
    stored = refresh(refresh(program, created, created, maintained), created, failed_over, maintained)
    assert stored["availabilityZone"] == "2"  # what the refresh takes into the stored inputs
    assert diff(stored, program, ignore) == {}, f"{plan_name}: the next up after a failover changes the server"
    # an update for another reason (a tag) sends the zones Azure runs, so nothing moves back
    tagged = {**program, "tags": {**program.get("tags", {}), "owner": "platform"}}
    sent = engine_inputs(tagged, stored, ignore)
    assert sent["availabilityZone"] == "2"
    assert sent["highAvailability"].get("standbyAvailabilityZone") == failed_over["highAvailability"].get(
        "standbyAvailabilityZone")
