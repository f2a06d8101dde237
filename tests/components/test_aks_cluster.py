"""AksCluster (components/llmplatform/aks_cluster.py) as the real program registers it under mocks: the system pool,
the security baseline switchable per stack (on in prod, off in dev for cost), zones, tier, maintenance, the
deployer's grant."""
from __future__ import annotations

import copy

import llmplatform
import pulumi
from offline import plan, plan_diff, runner as offline

from tests.components.test_components_alone import REQUIRED


def test_prod_turns_the_baseline_on(prod):
    aks = prod.one("azure-native:containerservice:ManagedCluster")
    assert aks.inputs["addonProfiles"]["azurepolicy"] == {"enabled": True}
    defender = aks.inputs["securityProfile"]["defender"]
    assert defender["securityMonitoring"] == {"enabled": True}
    assert defender["logAnalyticsWorkspaceResourceId"].endswith("/log-llmp-prod")
    assert aks.inputs["agentPoolProfiles"][0]["enableEncryptionAtHost"] is True
    pools = prod.of_type("azure-native:containerservice:AgentPool")
    assert pools and all(p.inputs["enableEncryptionAtHost"] is True for p in pools)  # GPU pools follow the cluster
    settings = prod.of_type("azure-native:monitor:DiagnosticSetting")
    targets = sorted(s.inputs["resourceUri"].split("/providers/")[-1].split("/")[0:2][0] for s in settings)
    assert len(settings) == 3 and all(s.inputs["logs"] == [{"categoryGroup": "allLogs", "enabled": True}]
                                      for s in settings)
    assert {s.inputs["resourceUri"].rsplit("/", 2)[-2] for s in settings} >= {"fileServices"}
    # the three resource providers' namespaces as Azure spells them (the ids' `/providers/<namespace>/`)
    assert targets == ["Microsoft.DBforPostgreSQL", "Microsoft.KeyVault", "Microsoft.Storage"]


def test_dev_leaves_the_costly_parts_off(dev):
    aks = dev.one("azure-native:containerservice:ManagedCluster")
    assert "azurepolicy" not in aks.inputs["addonProfiles"]
    assert "defender" not in aks.inputs["securityProfile"]
    assert not dev.of_type("azure-native:monitor:DiagnosticSetting")


MC = "azure-native:containerservice:ManagedCluster"
POOL = "azure-native:containerservice:AgentPool"


def test_system_pool_is_the_only_inline_pool(any_plan):
    profiles = any_plan.one(MC).inputs["agentPoolProfiles"]
    assert [p["mode"] for p in profiles] == ["System"]
    assert {r.inputs["agentPoolName"] for r in any_plan.of_type(POOL)} >= {"cpu"}


def test_autoscaler_owned_counts_are_ignored(any_plan):
    assert "agentPoolProfiles[0].count" in any_plan.one(MC).options["ignoreChanges"]
    assert all("count" in r.options["ignoreChanges"] for r in any_plan.of_type(POOL))


def test_cluster_security_baseline(any_plan):
    mc = any_plan.one(MC).inputs
    assert mc["aadProfile"]["managed"] and mc["aadProfile"]["enableAzureRBAC"]
    assert mc["oidcIssuerProfile"]["enabled"] and mc["securityProfile"]["workloadIdentity"]["enabled"]
    net = mc["networkProfile"]
    assert (net["networkPlugin"], net["networkPluginMode"], net["networkPolicy"]) == ("azure", "overlay", "cilium")
    assert net["networkDataplane"] == "cilium"
    kv = mc["addonProfiles"]["azureKeyvaultSecretsProvider"]
    assert kv["enabled"] and kv["config"]["enableSecretRotation"] == "true"
    assert mc["autoUpgradeProfile"]["upgradeChannel"] in ("patch", "stable")


def test_prod_has_zones_standard_tier_entra_only_maintenance_and_authorized_ips(prod):
    mc = prod.one(MC).inputs
    assert mc["agentPoolProfiles"][0]["availabilityZones"] == ["1", "2", "3"]
    assert all(r.inputs["availabilityZones"] == ["1", "2", "3"] for r in prod.of_type(POOL))
    assert mc["sku"]["tier"] == "Standard" and mc["disableLocalAccounts"] is True
    assert mc["agentPoolProfiles"][0]["nodeTaints"] == ["CriticalAddonsOnly=true:NoSchedule"]
    assert mc["apiServerAccessProfile"]["authorizedIPRanges"] == ["203.0.113.0/24"]
    windows = {r.inputs["configName"] for r in prod.of_type("azure-native:containerservice:MaintenanceConfiguration")}
    assert windows == {"aksManagedAutoUpgradeSchedule", "aksManagedNodeOSUpgradeSchedule"}


def test_dev_has_no_maintenance_window_and_no_system_taint(dev):
    assert dev.of_type("azure-native:containerservice:MaintenanceConfiguration") == []
    assert not dev.one(MC).inputs["agentPoolProfiles"][0].get("nodeTaints")


def test_deployer_gets_cluster_admin_before_the_provider_is_used(any_plan):
    grant = any_plan.one("azure-native:authorization:RoleAssignment", "platform-deployer-admin")
    assert grant.inputs["roleDefinitionId"].endswith("b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b")
    assert grant.urn in any_plan.one("pulumi:providers:kubernetes").dependencies


def test_subnets_are_created_one_after_another(dev):
    subnets = {r.name: r for r in dev.of_type("azure-native:network:Subnet")}
    assert subnets["platform-nodes"].urn in subnets["platform-endpoints"].dependencies
    assert subnets["platform-endpoints"].urn in subnets["platform-postgres"].dependencies
    delegation = subnets["platform-postgres"].inputs["delegations"][0]
    assert delegation["serviceName"] == "Microsoft.DBforPostgreSQL/flexibleServers"


def _version_plan(version: str) -> dict:
    """AksCluster (system pool inline, CPU pool) with upgrade channel none and a GpuNodePool on its handle (a
    fallback pool is built by the same function)."""
    def program():
        aks = llmplatform.AksCluster("aks", {**REQUIRED["AksCluster"](), "upgrade_channel": "none",
                                             "kubernetes_version": version})
        llmplatform.GpuNodePool("gpu", {"cluster": aks.cluster, "vm_size": "Standard_NC4as_T4_v3"},
                                pulumi.ResourceOptions(providers=[aks.provider]))
    return plan_diff.resources_by_urn(plan.resources_document(offline.run_function(program)))


def test_with_upgrade_channel_none_a_version_bump_upgrades_the_control_plane_and_every_pool():
    """AKS upgrades a pool only when its orchestratorVersion changes and refuses a control plane more than two
    minors ahead of a pool (the REST spec's orchestratorVersion text): with `none` the stack's version bump reaches
    the cluster, its inline system pool, the CPU pool and the GPU pool, as the engine diffs them (plan_diff applies
    ignoreChanges as pulumi's processIgnoreChanges does). With an auto channel AKS moves them all and the edit is
    ignored (tests/offline/test_plan_diff.py, on the prod plan)."""
    result = plan_diff.diff_documents(_version_plan("1.33"), _version_plan("1.34"))
    changed = {urn.rsplit("::", 1)[1]: keys for urn, keys in result["changed"].items()}
    assert changed == {"aks-aks": ["agentPoolProfiles[0].orchestratorVersion", "kubernetesVersion"],
                       "aks-cpu": ["orchestratorVersion"], "gpu-gpu": ["orchestratorVersion"]}, changed
    assert not result["ignored"] and not result["refused"] and not result["replaced"]


def test_a_version_given_as_an_output_that_resolves_to_nothing_is_akss_default():
    """kubernetes_version is passed on, nothing meaning AKS's default (it is not one whose presence decides what is
    built): an output of nothing (a stack reference's the other stack lacks) plans as leaving it out, the cluster
    handle's version "" as then (a GPU pool on the handle stopped with "GpuNodePool gpu: cluster.kubernetes_version:
    is required")."""
    def program(version: bool) -> None:
        given = {"kubernetes_version": pulumi.Output.from_input(None)} if version else {}
        aks = llmplatform.AksCluster("aks", {**REQUIRED["AksCluster"](), **given})
        llmplatform.GpuNodePool("gpu", {"cluster": aks.cluster, "vm_size": "Standard_NC4as_T4_v3"},
                                pulumi.ResourceOptions(providers=[aks.provider]))
    left_out, given = (plan.resources_document(offline.run_function(lambda: program(v))) for v in (False, True))
    assert given == left_out
    versions = {r["name"]: r["inputs"].get("kubernetesVersion", r["inputs"].get("orchestratorVersion"))
                for r in given["resources"] if r["type"].startswith("azure-native:containerservice:")}
    assert set(versions) == {"aks-aks", "aks-cpu", "gpu-gpu"} and set(versions.values()) == {None}


def test_a_subnet_of_ones_own_named_from_the_handle_waits_for_the_clusters_network_writes():
    """A subnet a program adds from the handle's vnet_name with a depends_on on the AksCluster is written after the
    cluster's own network writes (AKS refuses another write to the network while it creates the cluster or a pool),
    which the testing kit accepts, and its name depends on the VNet alone: a resized CPU pool (deleted first) does not
    replace it. Without the depends_on it is refused under the vnet-writes rule, named from the handle or not."""
    from pulumi_azure_native import network
    from llmplatform.testing import ProgramError

    def program(named_from_handle: bool, ordered: bool = True):
        aks = llmplatform.AksCluster("aks", REQUIRED["AksCluster"]())
        vnet_name = aks.cluster["vnet_name"] if named_from_handle else "vnet-aks-a"
        network.Subnet("mine", resource_group_name=aks.cluster["resource_group_name"], virtual_network_name=vnet_name,
                       subnet_name="mine", address_prefix="10.0.32.0/24",
                       opts=pulumi.ResourceOptions(depends_on=[aks] if ordered else None))

    planned = offline.run_function(lambda: program(True))
    [vnet] = planned.of_type("azure-native:network:VirtualNetwork")
    [mine] = [r for r in planned.of_type("azure-native:network:Subnet") if r.name == "mine"]
    assert mine.inputs["virtualNetworkName"] == vnet.inputs["virtualNetworkName"]
    [pool] = planned.of_type("azure-native:containerservice:AgentPool")  # the CPU pool, the cluster's last write
    assert pool.urn in mine.dependencies, mine.dependencies
    assert not any(pool.urn in urns for urns in mine.property_dependencies.values()), mine.property_dependencies
    assert mine.property_dependencies["virtualNetworkName"] == [vnet.urn]
    for named_from_handle in (True, False):
        try:
            offline.run_function(lambda: program(named_from_handle, ordered=False))
        except ProgramError as error:
            assert "mine" in str(error) and "[vnet-writes]" in str(error), str(error)
        else:
            raise AssertionError("a subnet written beside the cluster's create was accepted")


def _own_pods_block() -> str:
    """The Python block of docs/components/aks-cluster.md's "Your own pods on the CPU pool"."""
    import re
    from pathlib import Path
    page = (Path(__file__).parents[2] / "docs" / "components" / "aks-cluster.md").read_text()
    section = page.split("**Your own pods on the CPU pool.**", 1)[1].split("\n**", 1)[0]
    (block,) = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    return block


def test_your_own_pods_on_a_pool_as_the_page_takes_them_land_there_wait_for_it_and_go_with_no_replaced_pool():
    """docs/components/aks-cluster.md's recipe for a consumer's own Deployment, run as written: on a spot CPU pool
    (tainted as AKS taints spot nodes) and, given a GpuNodePool's scheduling as the page says, on a GPU pool (tainted
    nvidia.com/gpu). Its pods must land there (selector and tolerations against the pool's labels and taints: the
    page showed the selector alone, so no pod tolerated either taint), wait for the pool (`dependencies`) and take
    no value from it (no `propertyDependencies` on it: a pool replaced deleting first, a new VM size, replaced the
    Deployment with it through the engine's chain, pulumi/pulumi 1b5949891b step_generator.go
    `calculateDependentReplacements`; a GPU pool's tolerations wait for its pools as its node selector does)."""
    import types
    from offline.deploy_model.pools import landing_pools, pools
    block = _own_pods_block()

    def program(gpu: bool):
        workload = {**REQUIRED["AksCluster"]()["workload_pool"], "priority": "spot"}
        aks = llmplatform.AksCluster("aks", {**REQUIRED["AksCluster"](), "workload_pool": workload})
        if gpu:
            sched = llmplatform.GpuNodePool("gpu", {"cluster": aks.cluster, "vm_size": "Standard_NC4as_T4_v3"},
                                            pulumi.ResourceOptions(providers=[aks.provider])).scheduling
            handle = {"cpu_node_selector": sched["node_selector"], "cpu_tolerations": sched["tolerations"]}
            aks = types.SimpleNamespace(cluster=handle, provider=aks.provider)  # the page's names, the GPU pool's
        exec(compile(block, "aks-cluster.md", "exec"), {"aks": aks})  # noqa: S102

    for gpu in (False, True):
        planned = offline.run_function(lambda: program(gpu))
        [app] = [r for r in planned.of_type("kubernetes:apps/v1:Deployment") if r.name == "app"]
        agent_pools = [p for p in pools(planned) if p.urn.endswith(("::gpu-gpu" if gpu else "::aks-cpu"))]
        assert len(agent_pools) == 1, [p.urn for p in pools(planned)]
        (pool,) = agent_pools
        assert pool.taints, pool  # the premise: the pool is tainted (spot, or the GPU taint)
        landing = landing_pools(app.inputs["spec"]["template"]["spec"], pools(planned))
        assert [p.urn for p in landing] == [pool.urn], (gpu, [p.urn for p in landing], pool.taints)
        assert pool.urn in app.dependencies, (gpu, app.dependencies)
        held = {key: urns for key, urns in app.property_dependencies.items()
                if any(u.split("::")[-2].endswith("containerservice:AgentPool") for u in urns)}
        assert not held, (gpu, held)


def test_a_protected_cluster_protects_itself_and_its_group_alone():
    """AksCluster given `protect` (prod's `protectStatefulResources`) passes it to the ManagedCluster, whose delete
    takes every object in it and the node resource group AKS deletes with it (the volumes its claims provisioned:
    Open-WebUI's uploads, Prometheus's data), and to the group it makes; not to its network, pools, grants or
    provider: a pool's VM size change replaces the pool, and the engine refuses a replacement of what the state and
    the program protect (pulumi/pulumi 1b5949891b step_generator.go `new.Protect && old.Protect`)."""
    def program():
        llmplatform.AksCluster("aks", {**REQUIRED["AksCluster"](), "existing_resource_group": False},
                               pulumi.ResourceOptions(protect=True))
    planned = offline.run_function(program)
    assert sorted(r.type for r in planned.resources if r.custom and r.options["protect"]) == [
        "azure-native:containerservice:ManagedCluster", "azure-native:resources:ResourceGroup"]
    kinds = {r.type for r in planned.resources if r.options["protect"] is False}
    assert {"azure-native:network:VirtualNetwork", "azure-native:network:Subnet",
            "azure-native:containerservice:AgentPool", "azure-native:authorization:RoleAssignment",
            "pulumi:providers:kubernetes"} <= kinds, kinds


def test_prods_cluster_is_protected_and_a_pool_change_still_goes_through(prod, dev):
    """The shipped prod stack protects its cluster (the pack's prod-stateful-protected holds it), dev does not; a
    workload pool's new VM size in prod is that pool's replacement, which no protect stops."""
    from tests.conftest import plan_for
    [cluster] = prod.of_type("azure-native:containerservice:ManagedCluster")
    assert cluster.options["protect"] is True
    assert dev.one("azure-native:containerservice:ManagedCluster").options["protect"] is False
    resized = plan_for("prod", {"cluster": {"workloadPool": {"vmSize": "Standard_D16ds_v5"}}})
    result = plan_diff.diff_documents(plan_diff.resources_by_urn(plan.resources_document(prod)),
                                      plan_diff.resources_by_urn(plan.resources_document(resized)))
    pools = [u for u in result["replaced"] if u.endswith("::platform-cpu")]
    assert pools and result["protected"] == [], result["replaced"]
    assert cluster.urn not in result["replaced"]


def test_a_cluster_replaced_on_purpose_in_prod_stops_on_the_uploads_claim_alone_as_the_page_says(prod):
    """A change that replaces prod's cluster (delete-first) with the cluster's protect lifted: the engine deletes
    first every dependent whose inputs the new cluster changes (pulumi/pulumi 1b5949891b step_generator.go
    `calculateDependentReplacements`), the Kubernetes provider among them (its cluster_identifier) and so every object
    it made, and refuses the chain on a dependent the state protects (`dependentResource.Protect`). What stops it is
    the UI's uploads claim alone (its files go with the old cluster's node resource group anyway), not the gateway
    address's grants, which took GatewayAccess's protect until they set their own; the page names the claim."""
    from tests.conftest import PROJECT_DIR
    old = copy.deepcopy(plan_diff.resources_by_urn(plan.resources_document(prod)))
    cluster = next(u for u, r in old.items() if r["type"] == "azure-native:containerservice:ManagedCluster")
    old[cluster]["options"]["protect"] = False  # `pulumi state unprotect`
    new = copy.deepcopy(old)
    new[cluster]["options"]["protect"] = True
    new[cluster]["inputs"]["networkProfile"]["podCidr"] = "10.99.0.0/16"  # force-new: replaced under its name
    result = plan_diff.diff_documents(old, new)
    assert cluster in result["deleteBeforeReplace"]
    assert [old[u]["name"] for u in result["protected"]] == ["inference-webui-uploads"]
    page = " ".join((PROJECT_DIR / "docs" / "components" / "aks-cluster.md").read_text().split())
    bullet = page.split("**`protect` reaches the cluster and its group alone.**")[1].split(" - ")[0]
    replaces = bullet.split("a change that replaces the cluster")[1]
    assert "uploads claim" in replaces and "pulumi state unprotect" in replaces, replaces
