"""The deploy model's schedule verdicts that mutation round seven (docs/decisions.md) found untested: a GPU pool
created with nodes, and the floor `make plan` prints."""
from __future__ import annotations

import copy

import pytest

from tests.conftest import plan_for, variant
from tests.offline.test_deploy_model import AKS_KUBELET, DATA, _azure, _grant, _plan_cli, deployment, k8s, plan_of
from offline import deploy_model as dm


@pytest.mark.parametrize("driver, named", [("aks", "the AKS-managed GPU driver"),
                                           ("operator", "the GPU Operator GPU driver")])
def test_pods_on_a_gpu_pool_created_with_nodes_wait_for_its_driver(driver, named):
    """`gpu.minCount: 1`: the pool's create boots a node, but returns before the device plugin (AKS's driver) or the
    GPU Operator's driver registers nvidia.com/gpu on it, so a GPU pod still waits for the driver after the pool
    (the model read a warm GPU pool as ready at its create's end: Ollama's pods 7 min early on the Operator)."""
    model = dm.evaluate(plan_for("prod", {"gpu": {"minCount": 1, "driver": driver},
                                           "inference": {"replicas": 1}}))
    assert model.problems == [], "\n".join(map(str, model.problems))
    by_name = {s.reg.name: s for s in model.steps.values()}
    pool, ollama = by_name["gpu-gpu"], by_name["inference-ollama"]
    assert "boots its 1 node(s)" in pool.wait.waits_for
    assert ollama.wait.node_delay is not None and ollama.wait.node_delay[1] == f"nodes of the pool + {named}"
    gpu_driver = dm.load_durations()["gpu_driver"][driver]
    for which in ("median", "pessimistic"):
        landed = max(getattr(ollama.start, which), getattr(pool.finish, which))
        assert getattr(ollama.nodes_ready, which) == landed + gpu_driver[which]


def test_make_plan_times_a_warm_gpu_pools_pods_after_the_operators_driver(tmp_path, capsys):
    """The same through `make plan --set`: deploy.json says what Ollama's pods wait for, and the Operator's driver
    build (7 min median) is in Ollama's time, which is on the critical path."""
    code, printed, _, deploy = _plan_cli(tmp_path, capsys, "prod", "gpu.minCount=1", "gpu.driver=operator",
                                          "inference.replicas=1")
    assert code == 0, printed
    ollama = next(r for r in deploy["resources"] if r["name"] == "inference-ollama")
    assert ollama["waitsFor"].endswith("; nodes: nodes of the pool + the GPU Operator GPU driver"), ollama
    assert ollama["onCriticalPath"] and ollama["expectedMinutes"] >= dm.load_durations()["gpu_driver"]["operator"][
        "median"] / 60
    service = next(r for r in deploy["resources"] if r["name"] == "inference-ollama-svc")
    assert service["waitsFor"] == "Service endpoints settled with no unready pod (pods of inference-ollama)"


def test_the_floor_waits_for_no_grants_propagation_and_the_schedule_reads_the_figures_it_is_given():
    """The retries after a grant's propagation hold only what Pulumi awaits (a pod mounting Key Vault, an image
    pull from the mirror after its AcrPull grant, a load balancer's address): an hour more of each moves the
    schedule, not the floor, whose every step is unchanged (its pessimistic run too, which `make plan` does not
    print). prod-tls: prod pulling every image from the organisation's registry."""
    plan, data = variant("prod-tls"), copy.deepcopy(dm.load_durations())
    assert dm.grant_gates(plan, data) and dm.identity_gates(plan, data)
    base = dm.evaluate(plan, data)
    for key in ("volume_mount_retry", "image_pull_retry", "load_balancer_retry"):
        data[key] = {**data[key], "median": data[key]["median"] + 3600,
                     "pessimistic": data[key]["pessimistic"] + 3600}
    slow = dm.evaluate(plan, data)
    assert slow.total.median > base.total.median + 1800  # a gated create was on the way to the end
    assert base.floor is not None and slow.floor is not None
    assert {u: (s.start, s.finish) for u, s in slow.floor.steps.items()} == {
        u: (s.start, s.finish) for u, s in base.floor.steps.items()}
    assert slow.floor.critical_path == base.floor.critical_path


def test_pods_on_an_on_demand_gpu_pool_from_zero_wait_for_an_on_demand_node_and_its_driver():
    """`gpu.priority: regular` (no spot, so no fallback): the autoscaler adds an on-demand node to the empty pool,
    timed by its VM family's regular figure (not the spot one), then the driver."""
    plan = plan_for("prod", {"gpu": {"priority": "regular", "fallback": {"enabled": False}}})
    model = dm.evaluate(plan)
    assert model.problems == [], "\n".join(map(str, model.problems))
    by_name = {s.reg.name: s for s in model.steps.values()}
    pool, ollama = by_name["gpu-gpu"], by_name["inference-ollama"]
    assert pool.wait.waits_for == "AKS adds pool gpu (no nodes)"
    assert ollama.wait.node_delay is not None and ollama.wait.node_delay[1] == (
        "a Standard_NC24ads_A100_v4 node from zero + the AKS-managed GPU driver")
    data = dm.load_durations()
    wait = dm.Span.of(dm.node_family(data, "Standard_NC24ads_A100_v4")["regular"]) + dm.Span.of(
        data["gpu_driver"]["aks"])
    for which in ("median", "pessimistic"):
        landed = max(getattr(ollama.start, which), getattr(pool.finish, which))
        assert getattr(ollama.nodes_ready, which) == landed + getattr(wait, which)


def test_a_pod_created_before_its_acr_pull_grant_waits_for_the_grant_to_be_created_and_propagate():
    """Nothing orders a Deployment after the AcrPull grant its pulls need: created first, its pods pull once the
    grant exists and has propagated (plus the image back-off), which its create waits for."""
    from llmplatform.azure_roles import ACR_PULL
    registry = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/MirrorX"
    cluster = _azure("aks", dm.MANAGED_CLUSTER, resourceGroupName="rg", resourceName="aks")
    slow = _azure("slow", dm.VAULT, ("urn:aks",))  # the grant follows a Key Vault made after the cluster
    grant = _grant("acr", ACR_PULL, registry, ("urn:aks", "urn:slow"), principal=AKS_KUBELET)
    app = k8s("app", deployment("app", image="mirrorx.azurecr.io/library/nginx:1.29"))
    steps = dm.schedule(plan_of(cluster, slow, grant, app, cluster="urn:aks"), DATA).steps
    assert steps[app.urn].start.median < steps["urn:acr"].finish.median
    for which in ("median", "pessimistic"):
        pulled = getattr(steps["urn:acr"].finish, which) + DATA["role_assignment_propagation"][which] \
            + DATA["image_pull_retry"][which]
        assert getattr(steps[app.urn].nodes_ready, which) == pulled


def test_the_critical_path_goes_through_the_pool_a_workloads_pods_wait_for():
    """A Deployment nothing orders after the agent pool its pods land on: created once the cluster is there, it holds
    until the pool (created with a node) ends, so the pool, not the cluster, is its link on the critical path."""
    cluster = _azure("aks", dm.MANAGED_CLUSTER, resourceGroupName="rg", resourceName="aks")
    pool = _azure("pool", dm.AGENT_POOL, ("urn:aks",), agentPoolName="work", vmSize="Standard_D4ads_v5", count=1,
                  resourceGroupName="rg", resourceName="aks")
    app = k8s("app", deployment("app", nodeSelector={"kubernetes.azure.com/agentpool": "work"}))
    model = dm.schedule(plan_of(cluster, pool, app, cluster="urn:aks"), DATA)
    steps = model.steps
    assert steps[app.urn].start.median < steps["urn:pool"].finish.median == steps[app.urn].nodes_ready.median
    assert [steps[u].reg.name for u in model.critical_path][-3:] == ["aks", "pool", "app"]


def _service(name: str, annotations: dict | None = None) -> dict:
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": name, "namespace": "llm", "annotations": annotations or {}},
            "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}}


def _web(deps: tuple[str, ...] = ()):
    web = deployment("web")
    web["spec"]["template"]["metadata"] = {"labels": {"app": "web"}}
    return k8s("web", web, deps)


@pytest.mark.parametrize("case", ["the workload comes after it", "it is not awaited"])
def test_a_service_waits_for_its_pods_only_when_awaited_and_created_before_them(case):
    """service.go: a Service's await settles its endpoints, which wait for the selected pods that are scheduled.
    A Service its workload comes after has none yet when it settles (the workload waits for it: it must not wait
    back), and a Service with skipAwait waits for nothing: neither follows the pods."""
    annotations = {"pulumi.com/skipAwait": "true"} if case == "it is not awaited" else {}
    service = k8s("web", _service("web", annotations))
    web = _web((service.urn,) if case == "the workload comes after it" else ())
    steps = dm.schedule(plan_of(service, web), DATA).steps
    assert "pods of" not in steps[service.urn].wait.waits_for
    assert steps[service.urn].finish.median < steps[web.urn].finish.median
    followed = dm.schedule(plan_of(k8s("web", _service("web")), _web()), DATA).steps
    assert [s.wait.waits_for for s in followed.values() if s.reg.type.endswith(":Service")] == [
        "Service endpoints settled with no unready pod (pods of web)"]


def test_the_critical_path_is_the_median_runs_even_where_the_pessimistic_run_waits_longer_for_something_else():
    """The pool holds the Deployment in the median run, its AcrPull grant (after a private endpoint, slow only in
    the pessimistic figures) in the pessimistic one: the critical path, of the median figures, goes through the
    pool."""
    from llmplatform.azure_roles import ACR_PULL
    registry = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/MirrorX"
    cluster = _azure("aks", dm.MANAGED_CLUSTER, resourceGroupName="rg", resourceName="aks")
    pool = _azure("pool", dm.AGENT_POOL, ("urn:aks",), agentPoolName="work", vmSize="Standard_D4ads_v5", count=1,
                  resourceGroupName="rg", resourceName="aks")
    endpoint = _azure("endpoint", dm.PRIVATE_ENDPOINT, ("urn:aks",))
    grant = _grant("acr", ACR_PULL, registry, ("urn:endpoint",), principal=AKS_KUBELET)
    app = k8s("app", deployment("app", image="mirrorx.azurecr.io/library/nginx:1.29",
                                nodeSelector={"kubernetes.azure.com/agentpool": "work"}))
    model = dm.schedule(plan_of(cluster, pool, endpoint, grant, app, cluster="urn:aks"), DATA)
    steps = model.steps
    pulled = steps["urn:acr"].finish + dm.Span.of(DATA["role_assignment_propagation"]) + dm.Span.of(
        DATA["image_pull_retry"])
    assert pulled.median < steps["urn:pool"].finish.median and pulled.pessimistic > steps["urn:pool"].finish.pessimistic
    assert [steps[u].reg.name for u in model.critical_path][-3:] == ["aks", "pool", "app"]


def test_pods_wait_for_the_pool_with_nodes_not_an_empty_one_that_ends_first():
    """`gpu.fallback.minCount: 1`: the spot pool is created empty first, then the on-demand fallback with its node.
    Ollama's pods have nodes only once the fallback ends (the empty spot pool gives none): the model landed them on
    the spot pool at its end, four minutes before any GPU node existed, and left the fallback off the critical path."""
    model = dm.evaluate(plan_for("prod", {"gpu": {"fallback": {"minCount": 1}}, "inference": {"replicas": 1}}))
    assert model.problems == [], "\n".join(map(str, model.problems))
    by_name = {s.reg.name: s for s in model.steps.values()}
    spot, fallback, ollama = by_name["gpu-gpu"], by_name["gpu-gpuod"], by_name["inference-ollama"]
    assert spot.finish.median < ollama.start.median < fallback.finish.median
    gpu_driver = dm.load_durations()["gpu_driver"]["aks"]
    for which in ("median", "pessimistic"):
        landed = max(getattr(ollama.start, which), getattr(fallback.finish, which))
        assert getattr(ollama.nodes_ready, which) == landed + gpu_driver[which]
    path = [model.steps[u].reg.name for u in model.critical_path]
    assert path[path.index("gpu-gpuod") + 1] == "inference-ollama", path


@pytest.mark.parametrize("gpu", [{"fallback": {"minCount": 1}}, {"minCount": 1}])
def test_replicas_past_the_gpus_of_the_pools_created_with_nodes_wait_for_a_node_from_zero(gpu):
    """prod's 2 Ollama replicas take a GPU each, and a Standard_NC24ads_A100_v4 node has one: a pool created with one
    node holds one replica, the other waits for the autoscaler (spot, or no spot capacity: 15 min, then on-demand).
    The model read any pool with nodes as holding them all, so with `gpu.fallback.minCount: 1` Ollama's pessimistic
    time fell from 35 to 26 minutes, under a deadline sized for the wait it left out."""
    cold = dm.evaluate(plan_for("prod"))
    warm = dm.evaluate(plan_for("prod", {"gpu": gpu}))
    assert warm.problems == [], "\n".join(map(str, warm.problems))
    [cold_ollama, warm_ollama] = [next(s for s in m.steps.values() if s.reg.name == "inference-ollama")
                                  for m in (cold, warm)]
    assert warm_ollama.wait.node_delay == cold_ollama.wait.node_delay
    assert "from zero" in warm_ollama.wait.node_delay[1]


def test_a_spot_pods_pessimistic_wait_is_its_own_clusters_provision_limit_then_on_demand():
    """cluster-autoscaler gives up on a spot node after its cluster's --max-node-provision-time (AKS
    autoScalerProfile.maxNodeProvisionTime), then adds the on-demand fallback's: the limit read is the pod's own
    cluster's (here the plan's second, 20 minutes; the first has 5), not the default 15."""
    from dataclasses import replace
    from offline.runner import Plan, Registration

    def pool(name, spot, count):
        return {"name": name, "vmSize": "Standard_D4s_v5", "nodeLabels": {"role": "work"}, "minCount": count,
                "scaleSetPriority": "Spot" if spot else "Regular"}
    first = _azure("aks-b", dm.MANAGED_CLUSTER, resourceGroupName="rg", resourceName="aks-b",
                   agentPoolProfiles=[pool("work", False, 1)], autoScalerProfile={"maxNodeProvisionTime": "5m"})
    second = _azure("aks-a", dm.MANAGED_CLUSTER, resourceGroupName="rg", resourceName="aks-a",
                    agentPoolProfiles=[pool("spot", True, 0), pool("work", False, 0)],
                    autoScalerProfile={"maxNodeProvisionTime": "20m"})
    provider = Registration(urn="urn:pa", type="pulumi:providers:kubernetes", name="pa", parent="", custom=True,
                            inputs={}, secret_paths=[], dependencies=["urn:aks-a"], options={})
    spot_taint = {"key": "kubernetes.azure.com/scalesetpriority", "operator": "Equal", "value": "spot",
                  "effect": "NoSchedule"}  # AKS taints a spot pool's nodes
    web = k8s("web", deployment("web", nodeSelector={"role": "work"}, tolerations=[spot_taint]))
    web.inputs["metadata"]["namespace"] = "default"
    web = replace(web, options={**web.options, "provider": "urn:pa::id"})
    steps = dm.schedule(Plan(project="p", stack="t", resources=[first, second, provider, web]), DATA).steps
    family = dm.node_family(DATA, "Standard_D4s_v5")
    assert steps[web.urn].wait.node_delay == (
        dm.Span(family["spot"]["median"], 1200 + family["regular"]["pessimistic"]),
        "a spot Standard_D4s_v5 node from zero (pessimistic: no spot capacity, 20 min, then on-demand)")


def test_a_pod_lands_only_on_pools_whose_taints_it_tolerates_whatever_its_os_selector():
    """A pool's taints keep off the pods that do not tolerate them (the GPU pool's `sku=gpu:NoSchedule`); a
    `kubernetes.io/os` node selector matches every Linux node (AKS labels each; no pool lists it)."""
    cluster = _azure("aks", dm.MANAGED_CLUSTER, resourceGroupName="rg", resourceName="aks", agentPoolProfiles=[
        {"name": "gpu", "vmSize": "Standard_NC4as_T4_v3", "count": 1, "nodeTaints": ["sku=gpu:NoSchedule"]}])
    [gpu] = dm.pools(plan_of(cluster))
    linux = {"nodeSelector": {"kubernetes.io/os": "linux"}}
    assert dm.landing_pools(linux, [gpu]) == []
    tolerant = {**linux, "tolerations": [{"key": "sku", "operator": "Equal", "value": "gpu", "effect": "NoSchedule"}]}
    assert dm.landing_pools(tolerant, [gpu]) == [gpu]


def test_a_pool_that_ended_before_the_workloads_create_is_not_its_critical_path_link():
    """Created after a PostgreSQL server that ends after the pool, a Deployment finds its nodes there: its link on
    the critical path is the server it waited for, not the pool."""
    cluster = _azure("aks", dm.MANAGED_CLUSTER, resourceGroupName="rg", resourceName="aks")
    pool = _azure("pool", dm.AGENT_POOL, ("urn:aks",), agentPoolName="work", vmSize="Standard_D4ads_v5", count=1,
                  resourceGroupName="rg", resourceName="aks")
    server = _azure("db", "azure-native:dbforpostgresql:Server", ("urn:aks",))
    app = k8s("app", deployment("app", nodeSelector={"kubernetes.azure.com/agentpool": "work"}), ("urn:db",))
    model = dm.schedule(plan_of(cluster, pool, server, app, cluster="urn:aks"), DATA)
    assert model.steps["urn:pool"].finish.median < model.steps[app.urn].start.median
    assert [model.steps[u].reg.name for u in model.critical_path][-3:] == ["aks", "db", "app"]


def test_a_service_whose_pods_wait_for_a_node_from_zero_settles_without_them():
    """service.go counts a pod once it is scheduled: pods still waiting for the autoscaler's node (the pool at zero)
    when the Service's endpoints settle do not hold it."""
    cluster = _azure("aks", dm.MANAGED_CLUSTER, resourceGroupName="rg", resourceName="aks")
    pool = _azure("pool", dm.AGENT_POOL, ("urn:aks",), agentPoolName="work", vmSize="Standard_D4ads_v5",
                  minCount=0, resourceGroupName="rg", resourceName="aks")
    web = _web(("urn:pool",))
    web.inputs["spec"]["template"]["spec"]["nodeSelector"] = {"kubernetes.azure.com/agentpool": "work"}
    service = k8s("web", _service("web"), ("urn:pool",))
    steps = dm.schedule(plan_of(cluster, pool, web, service, cluster="urn:aks"), DATA).steps
    assert steps[service.urn].wait.waits_for.endswith("(pods of web)")
    assert steps[service.urn].finish.median == steps[service.urn].start.median + steps[service.urn].wait.span.median
    assert steps[web.urn].nodes_ready.median > steps[service.urn].finish.median
