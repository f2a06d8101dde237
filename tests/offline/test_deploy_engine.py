"""The engine's step executor in the deploy model (offline/deploy_model/engine.py): `pulumi up --parallel` workers,
first come first served, a create holding its worker while it waits (pulumi/pulumi 1b594989
pkg/resource/deploy/step_executor.go, deployment_executor.go; pkg/cmd/pulumi/operations/up.go `defaultParallel`)."""
from __future__ import annotations

import pytest

from offline import deploy_model as dm
from offline.deploy_model import engine
from offline.runner import Registration
from tests.conftest import planned
from tests.offline.test_deploy_model import DATA, deployment, k8s, plan_of, service_and_workload


@pytest.mark.parametrize("value, parallel", [
    (None, 16), ("8", 8), ("+8", 8), ("1", 1), ("0", 16), ("-3", 16), ("x", 16), (" 8", 16), ("8.0", 16), ("", 16),
    (str(2**40), 2**31 - 1),  # above int32: capped (up.go logs it and caps)
    (str(2**63), 16),  # strconv.ParseInt's range error reads 0
])
def test_the_default_reads_pulumi_parallel_as_the_cli_does(value, parallel):
    assert engine.default_parallel({} if value is None else {"PULUMI_PARALLEL": value}) == parallel


@pytest.mark.parametrize("flag, workers", [(0, 1), (-5, 1), (1, 1), (2, 2), (16, 16), (2**31 - 2, 2**31 - 2),
                                           (2**31 - 1, None)])
def test_the_workers_a_flag_gives(flag, workers):
    assert engine.workers(flag) == workers  # deployment.go DegreeOfParallelism, InfiniteParallelism


def _run(durations: dict[str, float], graph: dict[str, set[str]], parallel, waits=None) -> engine.Timeline:
    """Steps of fixed durations, in the order given; `waits`: step -> a step whose end it also waits for."""
    waits = waits or {}
    order = {urn: i for i, urn in enumerate(durations)}

    def finish_at(urn: str, start: float, line: engine.Timeline, now: float):
        if any(w not in line.finish for w in waits.get(urn, ())):
            return None
        ready = max([start] + [line.finish[w] for w in waits.get(urn, ())])
        return ready, ready + durations[urn]
    return engine.run(graph, order, parallel, lambda urn: waits.get(urn, ()), finish_at, lambda urn: 600.0)


def test_a_create_waits_for_a_free_worker_and_takes_the_first_one_freed():
    line = _run({"a": 100, "b": 30, "c": 50}, {"a": set(), "b": set(), "c": set()}, 2)
    assert line.start == {"a": 0, "b": 0, "c": 30} and line.freed_by == {"c": "b"} and line.queued == {"c": 30}
    assert _run({"a": 100, "b": 30, "c": 50}, {"a": set(), "b": set(), "c": set()}, None).start == {
        "a": 0, "b": 0, "c": 0}


def test_first_come_first_served_a_later_ready_create_does_not_jump_the_queue():
    """x ends at 10 and frees a worker for q (ready since 0); z, ready at 10, waits for the next one (q's, at 60),
    though the program registered it first."""
    line = _run({"long": 100, "x": 10, "z": 0, "q": 50}, {"long": set(), "x": set(), "z": {"x"}, "q": set()}, 2)
    assert line.start["q"] == 10 and line.start["z"] == 60 and line.freed_by["z"] == "q"


def test_a_create_holding_the_last_worker_for_what_is_queued_behind_it_stalls_until_its_deadline():
    line = _run({"pool": 150, "pods": 60}, {"pool": set(), "pods": set()}, 1, waits={"pods": ["pool"]})
    assert line.stalls == {} and line.finish["pods"] == 210  # the pool first, in the program's order
    line = _run({"pods": 60, "pool": 150}, {"pods": set(), "pool": set()}, 1, waits={"pods": ["pool"]})
    assert line.stalls == {"pods": ["pool"]} and line.finish["pods"] == 600 and line.start["pool"] == 600
    assert _run({"pods": 60, "pool": 150}, {"pods": set(), "pool": set()}, 2, waits={"pods": ["pool"]}).stalls == {}


def test_a_dependency_cycle_is_named():
    with pytest.raises(ValueError, match="dependency cycle through a"):
        _run({"a": 1, "b": 1}, {"a": {"b"}, "b": {"a"}}, None)


def _gpu_plan():
    """A GPU Deployment that names no dependency on the pool its pods need; the pool comes after a network and a
    subnet, so with one worker the Deployment is created first and holds it."""
    def azure(urn: str, type_: str, name: str, deps: list[str], **inputs) -> Registration:
        return Registration(urn=urn, type=type_, name=name, parent="", custom=True, inputs=inputs, secret_paths=[],
                            dependencies=deps, options={})
    vnet = azure("urn:vnet", "azure-native:network:VirtualNetwork", "vnet", [])
    subnet = azure("urn:subnet", "azure-native:network:Subnet", "nodes", ["urn:vnet"])
    pool = azure("urn:pool", dm.AGENT_POOL, "gpu-pool", ["urn:subnet"], agentPoolName="gpu",
                 vmSize="Standard_NC24ads_A100_v4", minCount=0, scaleSetPriority="Spot",
                 nodeTaints=["nvidia.com/gpu=present:NoSchedule"], gpuProfile={"driver": "Install"})
    ollama = k8s("ollama", deployment("ollama", gpu=True, image="ollama/ollama:0.32.15",
                                      annotations={"pulumi.com/timeoutSeconds": "3600"},
                                      tolerations=[{"operator": "Exists"}]))
    return plan_of(ollama, vnet, subnet, pool)


def test_a_planted_stall_fails_the_model_naming_the_create_what_it_waits_for_and_the_fix():
    plan = _gpu_plan()
    model = dm.evaluate(plan, DATA, parallel=1)
    problems = model.problems
    assert model.parallel_line().startswith("engine: at most one create at once (pulumi up --parallel 1;")
    assert [(p.rule, p.resource) for p in problems] == [("parallel", "ollama")]
    assert "holds the only worker of `pulumi up --parallel 1` while gpu-pool" in problems[0].message
    assert "deadline (60 min) fails it" in problems[0].message and "depends_on" in problems[0].message
    assert dm.evaluate(plan, DATA, parallel=2).problems == []
    # the fix the message names: the pool a dependency of the Deployment
    ollama = next(r for r in plan.resources if r.name == "ollama")
    ollama.dependencies.append("urn:pool")
    assert dm.evaluate(plan, DATA, parallel=1).problems == []


def test_the_stacks_schedules_with_the_limit_and_without_it():
    """The shipped stacks fit 16 workers with seconds of queueing; one worker makes prod's first `pulumi up` hours long
    (everything in a row) and the critical path names the step whose end freed the worker."""
    prod = planned("prod")
    limited, unlimited = dm.schedule(prod, DATA), dm.schedule(prod, DATA, parallel=None)
    assert limited.parallel == 16 and unlimited.parallel is None and unlimited.queued == {}
    assert unlimited.total.median <= limited.total.median <= unlimited.total.median + 60
    assert limited.total.pessimistic <= unlimited.total.pessimistic + 5 * 60
    serial = dm.schedule(prod, DATA, parallel=1)
    steps = serial.steps.values()
    assert serial.total.median >= sum(s.elapsed.median for s in steps) - 1e-6  # one at a time: the sum, at least
    assert len(serial.critical_path) == len(set(serial.critical_path))
    assert any(serial.steps[u].after and serial.steps[u].after not in {d for d in dm.dependencies(prod)[u]}
               for u in serial.critical_path)


@pytest.mark.parametrize("stack", ["dev", "prod", "llmd"])
def test_a_pod_of_a_workload_identity_waits_for_its_federation_and_grants_so_no_parallel_stalls(stack):
    """A pod mounting Key Vault secrets as a WorkloadIdentity named only the ServiceAccount: created before its
    federated credential and grants, with one worker it held it while they queued behind it, until its deadline
    (dev's router, prod's UI and its migration). The account's name now carries the identity component, whose
    children (federation, grants) the SDK makes dependencies."""
    plan = planned(stack)
    before = dm.ancestors(dm.dependencies(plan))
    gates = dm.identity_gates(plan, DATA)
    assert gates  # every shipped stack mounts secrets through an identity
    names = {r.urn: r.name for r in plan.resources}
    assert {names[urn]: [names[g] for g, _ in found if g not in before[urn]] for urn, found in gates.items()} == {
        names[urn]: [] for urn in gates}
    assert [p for p in dm.evaluate(plan, DATA, parallel=1).problems if p.rule == "parallel"] == []


def test_a_service_holding_the_only_worker_ends_once_settled_when_its_pods_are_queued_behind_it():
    """service.go: no scheduled pod, nothing unready: the endpoints settle. With one worker the Deployment waits for
    the Service's; the Service does not wait for the Deployment's pods (that would be a stall of the model's own)."""
    pool, svc, wl = service_and_workload()
    model = dm.schedule(plan_of(pool, svc, wl), DATA, parallel=1)
    assert model.problems == [] and model.steps[wl.urn].start.median >= model.steps[svc.urn].finish.median
    assert model.steps[svc.urn].elapsed.median == DATA["kubernetes"]["service_settle"]["median"]
    model = dm.schedule(plan_of(pool, svc, wl), DATA, parallel=2)  # scheduled pods hold the endpoints unready
    assert model.steps[svc.urn].finish == model.steps[wl.urn].finish


def test_pods_that_may_land_on_a_fallback_pool_queued_behind_them_take_the_pool_already_there():
    """A GPU Deployment after its spot pool, its pods also tolerating an on-demand fallback pool registered after it
    (prod's gpu-gpuod is no dependency of inference-ollama): the autoscaler gives them nodes of the pool that exists;
    they do not wait for the other, so with one worker the create ends and the fallback pool follows."""
    def pool(urn: str, name: str, deps: list[str], **inputs) -> Registration:
        return Registration(urn=urn, type=dm.AGENT_POOL, name=name, parent="", custom=True, secret_paths=[],
                            dependencies=deps, options={}, inputs={
                                "vmSize": "Standard_NC24ads_A100_v4", "minCount": 0, "gpuProfile": {"driver": "Install"},
                                "nodeTaints": ["nvidia.com/gpu=present:NoSchedule"], **inputs})
    namespace = k8s("ns", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "llm"}})
    spot = pool("urn:spot", "gpu-spot", [], agentPoolName="gpu", scaleSetPriority="Spot")
    # (the fallback ready when the Deployment is, registered after it: it queues behind it)
    fallback = pool("urn:od", "gpu-od", ["urn:spot", namespace.urn], agentPoolName="gpuod")
    ollama = k8s("ollama", deployment("ollama", gpu=True, image="ollama/ollama:0.32.15",
                                      annotations={"pulumi.com/timeoutSeconds": "3600"},
                                      tolerations=[{"operator": "Exists"}]), ("urn:spot", namespace.urn))
    plan = plan_of(namespace, spot, ollama, fallback)
    unlimited = dm.schedule(plan, DATA, parallel=None)
    assert unlimited.steps[ollama.urn].wait.pods_on == ["urn:od", "urn:spot"]
    serial = dm.evaluate(plan, DATA, parallel=1)
    assert serial.problems == []
    step = serial.steps[ollama.urn]
    assert step.finish.median - step.start.median == pytest.approx(
        unlimited.steps[ollama.urn].finish.median - unlimited.steps[ollama.urn].start.median)
    assert serial.steps["urn:od"].start.median == step.finish.median  # the pool after it, on the worker it freed


def test_a_service_follows_pods_scheduled_the_instant_its_endpoints_settle_whatever_the_registration_order():
    """service.go holds the endpoints while a scheduled pod is unready; the model's Service follows a workload whose
    pods have nodes by the time its endpoints settle. At a tie (the workload created that very second) the answer
    must not depend on which of the two the program registered first."""
    web = deployment("web", image="ghcr.io/open-webui/open-webui:0.11.0")
    web["spec"]["template"]["metadata"] = {"labels": {"app": "web"}}
    svc = k8s("svc", {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "llm"},
                      "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}})
    settle = DATA["kubernetes"]["service_settle"]["median"] / DATA["kubernetes"]["object"]["median"]
    chain: list[Registration] = []
    for i in range(int(settle)):  # ConfigMaps one after another, the Deployment after them: created as it settles
        chain.append(k8s(f"cm{i}", {"apiVersion": "v1", "kind": "ConfigMap",
                                    "metadata": {"name": f"cm{i}", "namespace": "llm"}},
                         (chain[-1].urn,) if chain else ()))
    wl = k8s("web", web, (chain[-1].urn,))
    for regs in ((svc, *chain, wl), (*chain, wl, svc)):
        for parallel in (None, 16):
            steps = dm.schedule(plan_of(*regs), DATA, parallel=parallel).steps
            assert steps[wl.urn].nodes_ready.median == steps[svc.urn].start.median + DATA["kubernetes"][
                "service_settle"]["median"]
            assert steps[svc.urn].finish.median == steps[wl.urn].finish.median, (regs[0].name, parallel)


def test_a_workload_that_awaits_no_pod_waits_for_no_identity_so_one_worker_does_not_crash_the_model():
    """A Deployment with pulumi.com/skipAwait mounting Key Vault secrets through a workload identity: its create
    returns at once, so it neither waits for the federated credential registered after it nor holds the only
    worker (the model raised `stuck` here, a traceback at `offline.plan --parallel 1`)."""
    def azure(name, type_, deps=(), **inputs):
        return Registration(urn=f"urn:{name}", type=type_, name=name, parent="", custom=True, inputs=inputs,
                            secret_paths=[], dependencies=list(deps), options={})
    identity = azure("id", dm.IDENTITY, resourceGroupName="rg", resourceName="id")
    spc = k8s("spc", {"apiVersion": "secrets-store.csi.x-k8s.io/v1", "kind": "SecretProviderClass",
                      "metadata": {"name": "app-secrets", "namespace": "llm"}, "spec": {"provider": "azure"}},
              ("urn:id",))
    volume = {"name": "s", "csi": {"driver": "secrets-store.csi.k8s.io", "readOnly": True,
                                   "volumeAttributes": {"secretProviderClass": "app-secrets"}}}
    app = k8s("app", deployment("app", volumes=[volume], annotations={"pulumi.com/skipAwait": "true"}), (spc.urn,))
    federation = azure("fic", dm.FEDERATION, ("urn:id", spc.urn), resourceGroupName="rg", resourceName="id",
                       issuer="https://oidc/", subject="system:serviceaccount:llm:app")
    plan = plan_of(identity, spc, app, federation)
    assert app.urn in dm.identity_gates(plan, DATA)  # its pods do wait for it; Pulumi does not
    for parallel in (1, None):
        model = dm.evaluate(plan, DATA, parallel=parallel)
        step = model.steps[app.urn]
        assert step.finish.median == step.start.median + DATA["kubernetes"]["object"]["median"]
        assert [p.rule for p in model.problems if p.rule != "crd-order"] == []
    zero = k8s("app", deployment("app", replicas=0, volumes=[volume]), (spc.urn,))
    model = dm.evaluate(plan_of(identity, spc, zero, federation), DATA, parallel=1)
    assert model.steps[zero.urn].finish.median == model.steps[zero.urn].start.median + DATA["kubernetes"][
        "object"]["median"]
