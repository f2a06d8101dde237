"""The testing kit's pool refusals (`llmplatform.testing.cross_cluster.pools_of_other_clusters`, round nine) against
programs that run: pools the program does not declare (a team's own cluster, node auto-provisioning), tolerations
written as Kubernetes reads them (an empty operator is Equal), and a spot pool's taint that AKS adds undeclared
(docs/decisions.md, "The kit's pool refusals and llm-verify's login bound reviewed")."""
from typing import Any, Callable, Optional

import pulumi
import pulumi_kubernetes as k8s
import pytest
from pulumi_azure_native import containerservice as cs

from llmplatform import AksCluster, ComponentInputError, GpuNodePool
from llmplatform.testing import ProgramError, run
from tests.components.test_own_cluster import as_program, invokes, page_program

NETWORK: Any = {"vnet_cidr": "10.80.0.0/16", "node_subnet_cidr": "10.80.0.0/19",
                "endpoints_subnet_cidr": "10.80.32.0/24", "postgres_subnet_cidr": "10.80.33.0/24",
                "pod_cidr": "192.168.0.0/16", "service_cidr": "172.20.0.0/16", "dns_service_ip": "172.20.0.10"}


def deployment(name: str, opts: pulumi.ResourceOptions, node_selector: Optional[dict[str, str]] = None,
               tolerations: Optional[list[dict[str, str]]] = None) -> None:
    """A user's own Deployment in `default`, placed only by the given selector and tolerations."""
    placement: dict[str, Any] = {**({"nodeSelector": node_selector} if node_selector else {}),
                                 **({"tolerations": tolerations} if tolerations else {})}
    k8s.apps.v1.Deployment(name, metadata={"name": name, "namespace": "default"}, spec={
        "replicas": 1, "selector": {"matchLabels": {"app": name}},
        "template": {"metadata": {"labels": {"app": name}}, "spec": {**placement, "containers": [{
            "name": name, "image": "mcr.microsoft.com/azurelinux/base/nginx:1.25",
            "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}, "limits": {"memory": "64Mi"}}}]}}},
        opts=opts)


def cluster(name: str, opts: Optional[pulumi.ResourceOptions] = None, **changes: Any) -> AksCluster:
    return AksCluster(name, {
        "cluster_name": f"aks-acme-{name}", "resource_group_name": f"rg-acme-{name}", "location": "uksouth",
        "network": NETWORK,
        "system_pool": {"name": "system", "vm_size": "Standard_D4s_v5", "min_count": 1, "max_count": 3},
        "workload_pool": {"name": "apps", "vm_size": "Standard_D8s_v5", "min_count": 1, "max_count": 6},
        **changes}, opts)


def on(aks: AksCluster) -> pulumi.ResourceOptions:
    return pulumi.ResourceOptions(providers=[aks.provider])


def own_cluster_with(extra: str) -> Callable[[], None]:
    """own-cluster.md's program (GPU pools added to a team's cluster `aks-plat-weu`, whose pools `system` and `apps`
    the program does not declare), then `extra` (Python, with the page's names in scope)."""
    return as_program(page_program() + "\n" + extra)


OWN_CLUSTER_DEPLOYMENT = ("from tests.components.test_kit_pool_refusals_review import deployment\n"
                          "deployment('web', in_cluster, {selector})\n")


def test_a_pod_on_a_team_cluster_goes_to_its_own_pools_not_the_programs_gpu_pool() -> None:
    """The cluster's `system` and `apps` pools take a pod without a selector; the program declares only its GPU
    pools there. Before: "web ... selects any node, and every pool of the cluster there carries a taint it does not
    tolerate (gpu: nvidia.com/gpu=present:NoSchedule, ...)"."""
    run(own_cluster_with(OWN_CLUSTER_DEPLOYMENT.format(selector="None")), invokes=invokes())


def test_a_pool_of_a_team_cluster_is_not_taken_for_a_same_named_pool_of_another_cluster() -> None:
    """The team's cluster has a pool `apps` (own-cluster.md's `cpu_node_selector`), and so has a cluster the same
    program creates beside it. Before: "web on cluster https://aks-plat-weu... selects nodes labelled
    kubernetes.azure.com/agentpool=apps, which in this program only pool apps of cluster aks-acme-b carries"."""
    extra = ("from tests.components.test_kit_pool_refusals_review import cluster as new_cluster\n"
             "new_cluster('b')\n" + OWN_CLUSTER_DEPLOYMENT.format(selector="cluster['cpu_node_selector']"))
    run(own_cluster_with(extra), invokes=invokes())


def gpu_cluster(placement: Callable[[AksCluster], None]) -> None:
    aks = cluster("a")
    GpuNodePool("gpu", {"cluster": aks.cluster, "vm_size": "Standard_NV36ads_A10_v5", "pool_name": "a10"}, on(aks))
    placement(aks)


A10 = {"llm-platform/pool": "a10"}


@pytest.mark.parametrize("tolerations", [
    # an empty operator is Equal (k8s.io/api core/v1 toleration.go `ToleratesTaint`: `case "", TolerationOpEqual`)
    [{"key": "nvidia.com/gpu", "operator": "", "value": "present", "effect": "NoSchedule"},
     {"key": "kubernetes.azure.com/scalesetpriority", "operator": "", "value": "spot", "effect": "NoSchedule"}],
    [{"key": "nvidia.com/gpu", "value": "present"}, {"key": "kubernetes.azure.com/scalesetpriority", "value": "spot"}],
    [{"operator": "Exists"}],  # an empty key with Exists tolerates every taint
    [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"},
     {"key": "kubernetes.azure.com/scalesetpriority", "operator": "Exists"}],
], ids=["empty-operator", "no-operator", "exists-all", "exists-per-key"])
def test_a_pod_tolerating_the_gpu_pools_taints_as_kubernetes_reads_them_plans(
        tolerations: list[dict[str, str]]) -> None:
    run(lambda: gpu_cluster(lambda aks: deployment("batch", on(aks), A10, tolerations)))


@pytest.mark.parametrize("tolerations", [
    [{"key": "nvidia.com/gpu", "operator": "", "value": "present", "effect": "NoSchedule"}],  # spot not tolerated
    [{"key": "nvidia.com/gpu", "operator": "Equal", "value": "absent"},
     {"key": "kubernetes.azure.com/scalesetpriority", "operator": "Exists", "effect": "NoExecute"}],
], ids=["one-taint-left", "wrong-value-and-effect"])
def test_a_pod_that_leaves_a_gpu_pool_taint_untolerated_is_refused(tolerations: list[dict[str, str]]) -> None:
    with pytest.raises(ProgramError, match=r"batch on cluster https://aks-acme-a\.\S+ selects .* every pool of the "
                                           r"cluster there carries a taint it does not tolerate \(a10: "):
        run(lambda: gpu_cluster(lambda aks: deployment("batch", on(aks), A10, tolerations)))


def spot_pool_of_the_users(aks: AksCluster, tolerations: Optional[list[dict[str, str]]]) -> None:
    """A spot pool of the user's own AgentPool, its taint left to AKS ("Add an Azure Spot node pool to an AKS
    cluster": AKS taints every spot node `kubernetes.azure.com/scalesetpriority=spot:NoSchedule`)."""
    cs.AgentPool("batch-pool", agent_pool_name="batch", resource_group_name="rg-acme-a", resource_name_="aks-acme-a",
                 vm_size="Standard_D4s_v5", mode="User", count=0, min_count=0, max_count=3,
                 enable_auto_scaling=True, scale_set_priority="Spot", scale_set_eviction_policy="Delete",
                 spot_max_price=-1, node_labels={"acme/pool": "batch"}, vnet_subnet_id=aks.cluster["node_subnet_id"],
                 availability_zones=aks.cluster["zones"],
                 opts=pulumi.ResourceOptions(depends_on=[aks], ignore_changes=["count"]))
    deployment("batch", on(aks), {"acme/pool": "batch"}, tolerations)


def test_a_spot_pools_taint_aks_adds_undeclared_keeps_an_untolerating_pod_off() -> None:
    """Before: planned; the pod stays Pending behind the taint AKS puts on the pool's nodes."""
    with pytest.raises(ProgramError, match=r"batch on cluster .* \(batch: kubernetes\.azure\.com/scalesetpriority="
                                           r"spot:NoSchedule\)"):
        run(lambda: spot_pool_of_the_users(cluster("a"), None))
    run(lambda: spot_pool_of_the_users(
        cluster("a"), [{"key": "kubernetes.azure.com/scalesetpriority", "operator": "Equal", "value": "spot"}]))


def auto_provisioned(args: pulumi.ResourceTransformationArgs) -> Optional[pulumi.ResourceTransformationResult]:
    """Node auto-provisioning on the cluster (AKS's Karpenter: nodes of no agent pool, made for pending pods)."""
    if args.type_ != "azure-native:containerservice:ManagedCluster":
        return None
    return pulumi.ResourceTransformationResult({**args.props, "node_provisioning_profile": {"mode": "Auto"}},
                                               args.opts)


@pytest.mark.parametrize("provisioning", [None, auto_provisioned], ids=["pools-only", "auto-provisioning"])
def test_every_pool_tainted_refuses_an_untolerating_pod_unless_nodes_are_auto_provisioned(
        provisioning: Optional[Callable[..., Any]]) -> None:
    def program() -> None:
        opts = pulumi.ResourceOptions(transformations=[provisioning] if provisioning else [])
        aks = cluster("a", opts, dedicated_system_pool=True,
                      workload_pool={"name": "apps", "vm_size": "Standard_D8s_v5", "min_count": 1, "max_count": 6,
                                     "priority": "spot"})
        deployment("web", on(aks))
    if provisioning:
        run(program)
    else:
        with pytest.raises(ProgramError, match=r"web on cluster .* every pool of the cluster there carries a taint"):
            run(program)


# ---- the unknown-input message's spec fields (checks/shapes._input_elsewhere, round nine) -------------------------
@pytest.mark.parametrize("component, key, said", [
    # a list of specs: `origins.host` named a path no input has; each origin is an item of the list
    ("GlobalEndpoint", "host", "did you mean 'origins[0].host' (each item of origins)?"),
    ("FleetUpdates", "cluster_id", "did you mean 'members[0].cluster_id' (each item of members)?"),
    ("AksCluster", "vm_size", "did you mean 'system_pool.vm_size' or 'workload_pool.vm_size'?"),  # one spec each
])
def test_a_field_of_a_list_of_specs_given_at_the_top_names_an_item_of_the_list(component: str, key: str,
                                                                                said: str) -> None:
    import llmplatform
    with pytest.raises(ComponentInputError) as error:
        run(lambda: getattr(llmplatform, component)("c", {key: "x"}))
    assert f"{component} c: {key}: is not an input; {said}" in str(error.value)


# ---- what the refusal says becomes of the pods, by kind --------------------------------------------------------------
POD = {"nodeSelector": A10, "containers": [{
    "name": "w", "image": "mcr.microsoft.com/azurelinux/base/nginx:1.25",
    "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}, "limits": {"memory": "64Mi"}}}]}


def daemon_set(aks: AksCluster) -> None:
    k8s.apps.v1.DaemonSet("w", metadata={"name": "w", "namespace": "default"}, spec={
        "selector": {"matchLabels": {"app": "w"}},
        "template": {"metadata": {"labels": {"app": "w"}}, "spec": POD}}, opts=on(aks))


def cron_job(aks: AksCluster) -> None:
    k8s.batch.v1.CronJob("w", metadata={"name": "w", "namespace": "default"}, spec={
        "schedule": "0 3 * * *", "jobTemplate": {"spec": {"template": {"spec": {**POD, "restartPolicy": "Never"}}}}},
        opts=on(aks))


@pytest.mark.parametrize("workload, said", [
    # pulumi-kubernetes 4.34.2 awaits a DaemonSet's kstatus, Current at once with no node due: `pulumi up` passes
    (daemon_set, "the DaemonSet places no pod (its controller passes over every node) and runs nowhere, unnoticed"),
    # and has no awaiter for a CronJob
    (cron_job, "each run's pods stay Pending (the autoscaler has no pool to grow for them), after `pulumi up`, "
               "which does not wait for a CronJob's runs"),
], ids=["DaemonSet", "CronJob"])
def test_a_refusal_says_what_becomes_of_the_workload_without_waits_pulumi_does_not_make(
        workload: Callable[[AksCluster], None], said: str) -> None:
    """Before: "its pods stay Pending ... and `pulumi up` waits out their deadline", which it does not."""
    with pytest.raises(ProgramError) as error:
        run(lambda: gpu_cluster(workload))
    found = [line for line in str(error.value).splitlines() if line.strip().startswith("w on cluster")]
    assert len(found) == 1 and "(a10: nvidia.com/gpu=present:NoSchedule" in found[0], str(error.value)
    assert f"): {said}; select an untainted pool" in found[0]
