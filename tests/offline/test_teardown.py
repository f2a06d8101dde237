"""`pulumi destroy` over the recorded plan (offline/deploy_model/teardown.py): the engine's delete rounds, what protect
keeps, and each delete that needs another resource still there, on planted defects. Pure functions."""
from __future__ import annotations

import dataclasses

from offline import deploy_model as dm
from offline.deploy_model.teardown import check_teardown, delete_graph
from offline.runner import Plan, Registration
from tests.offline.test_deploy_model import bare_plan_of, k8s, plan_of


def azure(name: str, type_: str, deps: tuple[str, ...] = (), parent: str = "", custom: bool = True,
          **inputs) -> Registration:
    return Registration(urn=f"urn:pulumi:t::p::{type_}::{name}", type=type_, name=name, parent=parent, custom=custom,
                        inputs=inputs, secret_paths=[], dependencies=list(deps), options={})


def test_the_delete_rounds_are_the_engines_antichains():
    """ScheduleDeletes: a resource goes after everything that depends on it, its parent, provider or deletedWith
    included, and a dependency on a component stands for the component's children registered before."""
    group = azure("rg", "azure-native:resources:ResourceGroup")
    comp = azure("c", "llmplatform:index:C", custom=False)
    child = azure("x", "azure-native:network:VirtualNetwork", deps=(group.urn,), parent=comp.urn)
    user = azure("y", "azure-native:network:Subnet", deps=(comp.urn,))
    later = dataclasses.replace(azure("z", "azure-native:network:Subnet"), options={"deletedWith": user.urn})
    plan = Plan("p", "t", [group, comp, child, user, later])
    heights = dm.delete_heights(plan)
    assert heights[later.urn] > heights[user.urn] > heights[child.urn] > heights[group.urn]
    assert heights[child.urn] > heights[comp.urn]  # a child before its component
    assert child.urn in delete_graph(plan)[user.urn]


def claim_and_user(claim_deps: tuple[str, ...] = ()) -> tuple[Registration, ...]:
    claim = k8s("uploads", {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                            "metadata": {"name": "uploads", "namespace": "llm"}}, deps=claim_deps)
    pod = {"volumes": [{"name": "u", "persistentVolumeClaim": {"claimName": "uploads"}}]}
    user = k8s("webui", {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "webui", "namespace":
                         "llm"}, "spec": {"template": {"spec": {"containers": [{"name": "c", "image": "i"}], **pod}}}})
    return claim, user


def test_a_claim_deleted_before_its_pods_fails_the_destroy():
    """pvc-protection keeps the claim while the pods (deleted later) mount it: 10 min of waiting, then a failure."""
    map_ = k8s("cm", {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm", "namespace": "llm"}})
    claim, user = claim_and_user((map_.urn,))  # the claim above something the Deployment is not
    found = check_teardown(plan_of(map_, claim, user))
    assert [(p.rule, p.resource) for p in found] == [("teardown", "PersistentVolumeClaim llm/uploads")]
    assert check_teardown(plan_of(map_, claim, dataclasses.replace(user, dependencies=[claim.urn]))) == []


def gateway_plan(ip_deps: tuple[str, ...] = (), namespace: bool = True) -> Plan:
    ip = azure("pip", "azure-native:network:PublicIPAddress", deps=ip_deps, resourceGroupName="rg-x",
               publicIpAddressName="pip-x")
    cluster = azure("aks", "azure-native:containerservice:ManagedCluster")
    grant = azure("pip-grant", "azure-native:authorization:RoleAssignment", deps=(ip.urn, cluster.urn))
    ns = k8s("gw-ns", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "gw"}})
    gateway = k8s("gw", {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway",
                         "metadata": {"name": "gw", "namespace": "gw"},
                         "spec": {"infrastructure": {"annotations": {
                             "service.beta.kubernetes.io/azure-load-balancer-resource-group": "rg-x",
                             "service.beta.kubernetes.io/azure-pip-name": "pip-x"}}}},
                  deps=(ip.urn, ns.urn) if namespace else (ip.urn,))
    return bare_plan_of(cluster, ip, grant, *([ns] if namespace else []), gateway, cluster=cluster.urn)


def test_a_load_balancer_ip_goes_only_after_the_namespace_holding_its_service():
    """Istio's Service for the Gateway is not awaited by the Gateway's delete; the Namespace's delete waits for it.
    An IP deleted first meets PublicIPAddressInUse."""
    assert check_teardown(gateway_plan()) == []
    tall = [azure(f"t{i}", "azure-native:resources:ResourceGroup") for i in range(4)]
    for a, b in zip(tall[1:], tall):
        a.dependencies.append(b.urn)
    plan = gateway_plan(ip_deps=(tall[-1].urn,))
    plan.resources[:0] = tall  # the IP now deleted after a long chain: no longer after the Namespace
    assert [p.resource for p in check_teardown(plan)] == ["pip", "pip-grant"]
    assert any(p.resource == "Gateway gw/gw" for p in check_teardown(gateway_plan(namespace=False)))


def test_a_node_pool_goes_only_after_the_disruption_budgets_of_its_cluster():
    """AKS drains a deleted pool honouring PDBs (ignore-pod-disruption-budget is false unless asked)."""
    cluster = azure("aks", "azure-native:containerservice:ManagedCluster")
    pool = azure("gpu", "azure-native:containerservice:AgentPool", deps=(cluster.urn,))
    pdb = k8s("pdb", {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
                      "metadata": {"name": "pdb", "namespace": "kube-system"}})
    plan = bare_plan_of(cluster, pool, pdb, cluster=cluster.urn)  # the PDB above the provider, above the cluster
    assert check_teardown(plan) == []
    flat = dataclasses.replace(pdb, options={})  # a PDB on no provider of the plan: height 1, the pool's is 2
    assert [p.resource for p in check_teardown(bare_plan_of(cluster, pool, flat, cluster=cluster.urn))] == ["gpu"]


def test_a_prod_destroy_deletes_nothing_unless_its_preview_is_skipped(prod):
    """`pulumi destroy` previews first, and the preview refuses the protected deletes (DeleteStep.Apply checks protect
    before DryRun; PreviewThenPromptThenExecute stops on the preview's error): nothing goes. With --skip-preview the
    engine goes on past a protected resource's failed delete and skips only what it depends on (step_executor.go
    cancelDueToError, deployment_executor.go): prod's in-cluster layer, node pools and identities go, the cluster
    stays (protected itself) with its network. No Key Vault secret and no
    generated password goes: the API keys, Open-WebUI's session key and Grafana's password were deleted (their
    secrets soft-deleted) and a later `pulumi up` made new ones. docs/operations.md says so."""
    assert dm.destroyed(prod) == []
    protected, kept = dm.kept_by_protect(prod)
    assert "platform-aks" in {r.name for r in protected}
    assert {"platform-nodes", "platform-vnet"} <= {r.name for r in kept}  # nodes: the cluster's subnet
    assert {"secrets", "postgres"} <= {r.name for r in protected if not r.custom}  # a component's delete fails too
    gone = {r.type for r in dm.destroyed(prod, skip_preview=True)}
    assert {"azure-native:containerservice:AgentPool", "kubernetes:gateway.networking.k8s.io/v1:Gateway"} <= gone
    # the users' uploads claim is protected: it stays, and with it the cluster's provider and its namespace
    assert {"inference-webui-uploads", "platform-k8s"} <= {r.name for r in protected + kept}
    assert not gone & {"azure-native:keyvault:Secret", "random:index/randomPassword:RandomPassword"}
    group = azure("rg", "azure-native:resources:ResourceGroup")
    vnet = azure("vnet", "azure-native:network:VirtualNetwork", deps=(group.urn,))
    vault = dataclasses.replace(azure("kv", "azure-native:keyvault:Vault", deps=(vnet.urn,)), options={"protect": True})
    other = azure("other", "azure-native:network:Subnet", deps=(vnet.urn,))
    small = Plan("p", "t", [group, vnet, vault, other])
    assert dm.kept_by_protect(small) == ([vault], [group, vnet])
    assert dm.destroyed(small) == [] and dm.destroyed(small, skip_preview=True) == [other]
    assert dm.destroyed(dataclasses.replace(small, resources=[group, vnet, other])) == [group, vnet, other]
    assert "its preview fails on the" in dm.protect_line(prod) and dm.protect_line(plan_of()) is None


def test_the_protect_line_reads_alike_whatever_order_the_plan_registered_its_resources_in():
    """Registrations come in the order the program's awaits resolve: the global stack's line listed `1
    SecurityPolicy, 1 FleetUpdateStrategy` in one process and the reverse in another."""
    group = azure("rg", "azure-native:resources:ResourceGroup")
    vault = dataclasses.replace(azure("kv", "azure-native:keyvault:Vault", deps=(group.urn,)),
                                options={"protect": True})
    policy = azure("waf", "azure-native:cdn:SecurityPolicy")
    strategy = azure("fleet", "azure-native:containerservice:FleetUpdateStrategy")
    forward = dm.protect_line(Plan("p", "t", [group, vault, policy, strategy]))
    backward = dm.protect_line(Plan("p", "t", [strategy, policy, vault, group]))
    assert forward == backward
    assert "(1 FleetUpdateStrategy, 1 SecurityPolicy)" in forward and forward.endswith("need: rg")
