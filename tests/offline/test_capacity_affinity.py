"""The capacity model's node affinity and empty pools, as the scheduler and AKS decide them.

kube-scheduler's NodeAffinity filter (k8s.io/component-helpers scheduling/corev1/nodeaffinity/nodeaffinity.go,
Kubernetes v1.35): the pod's nodeSelector and its required node affinity must both hold; a node meets the affinity
when one of its nodeSelectorTerms holds (ORed), a term when all its matchExpressions do (ANDed); an expression as
apimachinery's labels.Requirement.Matches reads it (`NotIn` and `DoesNotExist` hold where the label is missing).
AKS creates a pool given no `count` with one node (ManagedClusterAgentPoolProfileProperties.count: "The default
value is 1"). The deploy model's `landing_pools` places pods with the same predicates."""
from __future__ import annotations

import copy
import dataclasses

import pytest

from offline import capacity, cost
from offline import deploy_model as dm
from offline.runner import Plan, Registration

from tests.conftest import variant
from tests.offline.test_deploy_model_round9 import OLLAMA_NO_POOL, _ollamas_pools, _prod_with_ollamas_pod, _required

POOL = "kubernetes.azure.com/agentpool"
EVERY_TAINT = [{"operator": "Exists"}]


def _expr(key: str, operator: str, *values: str) -> dict:
    return {"key": key, "operator": operator, **({"values": list(values)} if values else {})}


def _dev_with_webui_pod(affinity: dict, memory: str = "20Gi") -> Plan:
    """dev's plan (a copy) with Open WebUI's pod placed by this affinity alone (no node selector), tolerating every
    taint, and asking for `memory`: 20 GiB fits only the GPU pool's node (Standard_NC4as_T4_v3, 28 GiB), not the
    system pool's (Standard_B2s, 4 GiB) nor the CPU pool's (Standard_D4ads_v5, 16 GiB)."""
    plan = copy.deepcopy(variant("dev"))
    webui = next(r for r in plan.of_type("kubernetes:apps/v1:Deployment")
                 if r.inputs["metadata"]["name"] == "open-webui")
    spec = webui.inputs["spec"]["template"]["spec"]
    spec.pop("nodeSelector", None)
    spec.update(affinity=affinity, tolerations=EVERY_TAINT)
    spec["containers"][0]["resources"] = {"requests": {"cpu": "1", "memory": memory}}
    return plan


# Required node affinities that keep the pod off the GPU pool: only system and cpu may take it.
OFF_THE_GPU_POOL = {
    "two terms, each naming a pool": _required([_expr(POOL, "In", "system")], [_expr(POOL, "In", "cpu")]),
    "one term naming two pools": _required([_expr(POOL, "In", "system", "cpu")]),
    "a single-value NotIn": _required([_expr(POOL, "NotIn", "gpu")]),
    # system carries no llm-platform/pool label: a missing label satisfies NotIn
    "NotIn on a label the system pool lacks": _required([_expr("llm-platform/pool", "NotIn", "gpu")]),
    "DoesNotExist of the GPU pool's label": _required([_expr("llm-platform/accelerator", "DoesNotExist")]),
}


@pytest.mark.parametrize("affinity", OFF_THE_GPU_POOL.values(), ids=OFF_THE_GPU_POOL.keys())
def test_a_pod_whose_affinity_admits_only_pools_too_small_for_it_is_refused(affinity, monkeypatch, capsys, tmp_path):
    """The capacity model read a required node affinity as a node selector only when it had one term of
    single-value `In` expressions: several terms, a term of several values, `NotIn` or `DoesNotExist` kept no pool
    off, so a pod that can land on the system and CPU pools only was counted against the GPU pool too, found room
    on its larger node, and the plan passed; `pulumi up` then waits for a pod that never starts. Refused now,
    naming what the pools it may run on offer."""
    from offline import plan as plan_cli, runner
    planted = _dev_with_webui_pod(affinity)
    [error] = capacity.idle_capacity(planted).errors
    assert error.startswith("Deployment llm/open-webui (1000m CPU, 20480Mi per pod) fits no node"), error
    assert "system (Standard_B2s)" in error and "cpu (Standard_D4ads_v5)" in error and "gpu (" not in error
    monkeypatch.setattr(runner, "run", lambda *args, **kwargs: planted)
    code, written = plan_cli.plan_one("dev", str(tmp_path), [], None, {})
    err = capsys.readouterr().err
    assert (code, written) == (1, None) and f"capacity: {error}" in err and "capacity check refuses" in err


ONTO_THE_GPU_POOL = {
    "a second term naming it": _required([_expr(POOL, "In", "system")], [_expr(POOL, "In", "gpu")]),
    "Exists of its label": _required([_expr("llm-platform/accelerator", "Exists")]),
    "NotIn naming other pools": _required([_expr(POOL, "NotIn", "system", "cpu")]),
    "Gt on an integer label": _required([_expr("example.com/gib", "Gt", "16")]),
}


@pytest.mark.parametrize("affinity", ONTO_THE_GPU_POOL.values(), ids=ONTO_THE_GPU_POOL.keys())
def test_a_pod_whose_affinity_admits_the_gpu_pool_is_placed_there(affinity):
    """The other side: one term of several is enough, and the GPU pool's node holds the pod (an idle GPU node)."""
    planted = _dev_with_webui_pod(affinity)
    gpu = next(r for r in planted.of_type("azure-native:containerservice:AgentPool")
               if r.inputs["agentPoolName"] == "gpu")
    gpu.inputs["nodeLabels"]["example.com/gib"] = "28"
    result = capacity.idle_capacity(planted)
    assert result.errors == [] and result.problems == [] and result.idle_nodes["gpu"] == 1


def test_the_node_selector_and_the_affinity_must_both_hold():
    """The node selector no longer replaces the affinity: a pod selecting the CPU pool whose affinity names the
    system pool may run nowhere."""
    planted = _dev_with_webui_pod(_required([_expr(POOL, "In", "system")]), memory="1Gi")
    webui = next(r for r in planted.of_type("kubernetes:apps/v1:Deployment")
                 if r.inputs["metadata"]["name"] == "open-webui")
    webui.inputs["spec"]["template"]["spec"]["nodeSelector"] = {"llm-platform/pool": "cpu"}
    problems = capacity.idle_capacity(planted).problems
    assert len(problems) == 1 and problems[0].startswith("Deployment llm/open-webui: no pool it may run on"), problems
    assert "node affinity terms" in problems[0]


@pytest.mark.parametrize("expression, holds", [
    (_expr("zone", "NotIn", "1"), True),  # a missing label satisfies NotIn
    (_expr("zone", "DoesNotExist"), True),
    (_expr("zone", "In", "1"), False),
    (_expr("zone", "Exists"), False),
    (_expr("zone", "Gt", "0"), False),  # Gt / Lt need the label
    (_expr("pool", "NotIn", "a"), False),
    (_expr("pool", "NotIn", "b"), True),
    (_expr("size", "Gt", "8"), True),
    (_expr("size", "Lt", "8"), False),
    (_expr("pool", "Gt", "8"), False),  # not an integer
    (_expr("pool", "In"), False),  # what the API server refuses holds nowhere
    (_expr("pool", "Exists", "a"), False),
    (_expr("pool", "Near", "a"), False),
])
def test_one_expression_as_apimachinery_matches_it(expression, holds):
    assert capacity.requirement_holds(expression, {"pool": "a", "size": "16"}) is holds


def test_an_empty_term_matches_no_node():
    assert not capacity.labels_admit({}, [{}], {"pool": "a"})
    assert capacity.labels_admit({}, [{}, {"matchExpressions": [_expr("pool", "In", "a")]}], {"pool": "a"})
    assert capacity.labels_admit({}, None, {"pool": "a"})  # no required affinity: any node


@pytest.mark.parametrize("expression, pools", [
    (_expr(POOL, "NotIn", "gpu"), ["gpu-gpuod"]),
    (_expr("kubernetes.azure.com/scalesetpriority", "DoesNotExist"), ["gpu-gpuod"]),  # AKS labels spot nodes
    (_expr("kubernetes.azure.com/scalesetpriority", "In", "spot"), ["gpu-gpu"]),
    (_expr(POOL, "NotIn", "gpu", "gpuod"), []),
])
def test_the_deploy_model_places_pods_with_the_same_predicates(expression, pools):
    """prod's Ollama (GPU pools `gpu`, spot, and `gpuod`, on-demand) placed by one expression: the deploy model's
    `landing_pools` ignored `NotIn`, so `NotIn [gpu]` still waited for the spot pool; it did not know AKS's spot
    label either."""
    landed, model = _ollamas_pools(_prod_with_ollamas_pod(affinity=_required([expression])))
    assert landed == pools
    refused = [(p.rule, p.resource) for p in model.problems if "fit no node pool" in p.message]
    assert refused == ([] if pools else [OLLAMA_NO_POOL])


# ---- a pool given neither count nor minCount ----------------------------------------------------------------
def _dev_with_pool(**inputs) -> Plan:
    """dev's plan with one more AgentPool, `batch` (a consumer's own, beside the components' pools)."""
    plan = variant("dev")
    cpu = next(r for r in plan.of_type("azure-native:containerservice:AgentPool") if r.inputs["agentPoolName"] == "cpu")
    batch = Registration(urn=cpu.urn.replace("::" + cpu.name, "::batch"), type=cpu.type, name="batch", parent="",
                         custom=True, inputs={"resourceGroupName": cpu.inputs["resourceGroupName"],
                                              "resourceName": cpu.inputs["resourceName"], "agentPoolName": "batch",
                                              "vmSize": "Standard_D4ads_v5", "mode": "User", **inputs},
                         secret_paths=[], dependencies=list(cpu.dependencies), options={})
    return dataclasses.replace(plan, resources=[*plan.resources, batch])


def test_a_pool_given_neither_count_nor_min_count_has_the_one_node_aks_gives_it():
    """AKS creates a pool given no `count` with one node (its REST API's default; pulumi-azure-native's AgentPool
    documents the same): the capacity model and the cost estimate counted none, and the deploy model's pods waited
    for a node from zero. The components always set both (AksCluster and GpuNodePool), a consumer's own pool may
    not."""
    plan = _dev_with_pool()
    [batch] = [p for p in capacity.pools(plan) if p.name == "batch"]
    assert (batch.min_count, batch.max_count) == (1, 1)
    assert cost.estimate(plan, "westeurope", 0.5).document()["idleNodes"]["batch"] == 1
    [start] = [p.start_nodes for p in dm.pools(plan) if p.name == "batch"]
    assert start == 1
    # what is given still wins: a minimum of 0, a count of 3
    assert [p.min_count for p in capacity.pools(_dev_with_pool(minCount=0, count=1)) if p.name == "batch"] == [0]
    assert [p.start_nodes for p in dm.pools(_dev_with_pool(count=3)) if p.name == "batch"] == [3]


def test_a_spot_pool_carries_the_taint_aks_adds_whether_or_not_it_is_declared():
    """AKS taints a spot pool's nodes `kubernetes.azure.com/scalesetpriority=spot:NoSchedule` itself: a pod without
    the toleration is kept off a consumer's spot pool that does not declare it."""
    plan = _dev_with_pool(count=1, scaleSetPriority="Spot", nodeLabels={"team": "batch"})
    [batch] = [p for p in capacity.pools(plan) if p.name == "batch"]
    assert batch.taints == ["kubernetes.azure.com/scalesetpriority=spot:NoSchedule"]
    assert not capacity.may_run_on(capacity.Pods("p", 100, 64, node_selector={"team": "batch"}), batch)
    [pool] = [p for p in dm.pools(plan) if p.name == "batch"]
    assert dm.landing_pools({"nodeSelector": {"team": "batch"}}, [pool]) == []


# ---- what a pod requests ------------------------------------------------------------------------------------
def _dev_with_webui_resources(containers: dict, init_containers: list[dict]) -> Plan:
    """dev's plan (a copy) with Open WebUI's main container asking for `containers` and these init containers."""
    plan = copy.deepcopy(variant("dev"))
    webui = next(r for r in plan.of_type("kubernetes:apps/v1:Deployment")
                 if r.inputs["metadata"]["name"] == "open-webui")
    spec = webui.inputs["spec"]["template"]["spec"]
    spec["containers"][0]["resources"] = containers
    spec["initContainers"] = init_containers
    return plan


SIDECAR = {"name": "proxy", "image": "proxy:1", "restartPolicy": "Always", "resources": {"requests": {"cpu": "3"}}}


@pytest.mark.parametrize("containers, inits", [
    ({"requests": {"cpu": "1"}}, [SIDECAR]),  # a sidecar runs beside the containers: 1 + 3 CPUs
    ({"limits": {"cpu": "4"}}, []),  # a limit without a request is the request
], ids=["a sidecar's request", "a limit without a request"])
def test_a_pod_is_counted_with_its_sidecars_and_its_limits_where_it_sets_no_request(containers, inits, monkeypatch,
                                                                                    capsys, tmp_path):
    """dev's CPU pool offers a pod 3,490m after AKS's reservations and its DaemonSets. The model counted a sidecar
    (an init container with restartPolicy Always, as llm-d's decode pods run their routing sidecar) as an init
    container that ends before the others start, and a container giving only a limit as asking for nothing: both
    4-CPU pods passed the plan, and `pulumi up` would wait for pods that never start."""
    from offline import plan as plan_cli, runner
    planted = _dev_with_webui_resources(containers, inits)
    [error] = capacity.idle_capacity(planted).errors
    assert error.startswith("Deployment llm/open-webui (4000m CPU"), error
    monkeypatch.setattr(runner, "run", lambda *args, **kwargs: planted)
    code, written = plan_cli.plan_one("dev", str(tmp_path), [], None, {})
    assert (code, written) == (1, None) and f"capacity: {error}" in capsys.readouterr().err


def _cpu(cpu: str, sidecar: bool = False) -> dict:
    return {"resources": {"requests": {"cpu": cpu}}, **({"restartPolicy": "Always"} if sidecar else {})}


@pytest.mark.parametrize("spec, millis", [
    ({"containers": [_cpu("1"), _cpu("500m")]}, 1500),
    ({"containers": [_cpu("1")], "initContainers": [_cpu("2")]}, 2000),  # an init container alone, before them
    ({"containers": [_cpu("1")], "initContainers": [_cpu("2", True)]}, 3000),  # a sidecar stays
    # an init container after a sidecar runs beside it: max(1 + 1, 1 + 2)
    ({"containers": [_cpu("1")], "initContainers": [_cpu("1", True), _cpu("2")]}, 3000),
    # one before it does not: max(1 + 1, 2)
    ({"containers": [_cpu("1")], "initContainers": [_cpu("2"), _cpu("1", True)]}, 2000),
    ({"containers": [{"resources": {"requests": {"cpu": "0"}, "limits": {"cpu": "2"}}}]}, 0),  # a request of 0 stays
    ({"containers": [_cpu("1")], "overhead": {"cpu": "250m"}}, 1250),
])
def test_pod_requests_as_the_scheduler_sums_them(spec, millis):
    assert capacity.pod_requests(spec, "cpu", capacity.cpu_millis) == millis


@pytest.mark.parametrize("affinity, pools", [
    (_required([_expr(POOL, "In", "system")]), ("system",)),
    (_required([_expr(POOL, "NotIn", "cpu")]), ("gpu", "gpuod", "system")),
])
def test_a_chart_budgets_pods_land_where_their_affinity_lets_them(affinity, pools):
    """prod's istiod budget (minAvailable 1 over 2 to 5 pods), its pods placed by a required node affinity in the
    release's values (and tolerating every taint): the budget's pods land on the pools the affinity admits, read by
    the same predicates (`chart_budgets` hands the deploy model the capacity model's placement)."""
    from offline.deploy_model.chart_budgets import release_budgets
    plan = variant("prod")
    istiod = next(r for r in plan.helm_releases() if r.inputs["chart"] == "istiod")
    values = {k: v for k, v in istiod.inputs["values"].items() if k != "nodeSelector"}
    planted = dataclasses.replace(istiod, inputs={**istiod.inputs, "values": {
        **values, "affinity": affinity, "tolerations": EVERY_TAINT}})
    [budget] = release_budgets(planted)
    assert tuple(sorted(p.name for p in dm.landing_pools(budget.pod, dm.pools(plan)))) == pools


def test_an_empty_toleration_operator_is_equal():
    """`Toleration.ToleratesTaint` (k8s.io/api core/v1 toleration.go): an empty operator means Equal; a value
    written as a YAML number is the taint's string."""
    assert capacity.tolerates([{"key": "dedicated", "operator": "", "value": "batch"}], "dedicated=batch:NoSchedule")
    assert capacity.tolerates([{"key": "tier", "value": 0}], "tier=0:NoSchedule")
    assert not capacity.tolerates([{"key": "tier", "value": 1}], "tier=0:NoSchedule")
