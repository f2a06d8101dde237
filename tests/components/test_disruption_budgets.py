"""Every disruption budget the program creates, read as Kubernetes' disruption controller reads it: at every replica
count its workload can run (a fixed count, or anything from its autoscaler's floor to its ceiling), a node drain may
evict one pod, and never the last of two or more. A budget that allows no eviction stalls the drain of its node until
AKS's drain timeout (30 minutes by default) fails the upgrade (docs/decisions.md, "Node pool upgrades")."""
import pytest

from offline.deploy_model.budgets import budget_selects

from tests.conftest import PLANNED, plan_for, planned

PDB, HPA, SCALED_OBJECT = "PodDisruptionBudget", "HorizontalPodAutoscaler", "ScaledObject"
WORKLOADS = ("Deployment", "StatefulSet")


def disruptions_allowed(spec: dict, scale: int, healthy: int) -> int:
    """The budget's status.disruptionsAllowed with `healthy` Ready pods of a controller at `scale` (kubernetes/
    kubernetes 189c34a7 pkg/controller/disruption/disruption.go: `getExpectedPodCount` counts maxUnavailable from the
    controllers' scale and an integer minAvailable from the pods; `updatePdbStatus` allows healthy - desired, and
    nothing while the expected count is 0). Integer budgets only: the program writes no percentage."""
    if "maxUnavailable" in spec:
        assert isinstance(spec["maxUnavailable"], int)
        expected, desired = scale, max(scale - spec["maxUnavailable"], 0)
    else:
        assert isinstance(spec["minAvailable"], int)
        expected, desired = healthy, spec["minAvailable"]
    allowed = healthy - desired
    return 0 if expected <= 0 or allowed <= 0 else allowed


RUNNING, PENDING = "Running", "Pending"


def eviction_allowed(spec: dict, scale: int, healthy: int, ready: bool, phase: str = RUNNING) -> bool:
    """Whether the eviction API lets a drain evict one pod of a controller at `scale` with `healthy` Ready pods
    (kubernetes/kubernetes pkg/registry/core/pod/storage/eviction.go `Create`, the policy/v1 logic since
    unhealthyPodEvictionPolicy went GA in 1.31, read in its fork sanposhiho/kubernetes @059ce4e8): a Pending pod
    (`canIgnorePDB`) goes whatever the budget; a Running pod that is not Ready goes with `AlwaysAllow`, and under the
    default `IfHealthyBudget` only while currentHealthy >= desiredHealthy > 0; else `checkAndDecrement` needs
    disruptionsAllowed above 0 (429 otherwise, which a drain retries until AKS's drain timeout)."""
    if phase == PENDING:
        return True
    if not ready:
        if spec.get("unhealthyPodEvictionPolicy") == "AlwaysAllow":
            return True
        desired = max(scale - spec["maxUnavailable"], 0) if "maxUnavailable" in spec else spec["minAvailable"]
        if healthy >= desired > 0:
            return True
    return disruptions_allowed(spec, scale, healthy) > 0


def test_the_model_is_the_controllers():
    # one replica left by an autoscaler: minAvailable 1 allows nothing, maxUnavailable 1 one eviction
    assert disruptions_allowed({"minAvailable": 1}, 1, 1) == 0
    assert disruptions_allowed({"maxUnavailable": 1}, 1, 1) == 1
    # two up: both keep one; one of two already down (its replacement starting): neither allows another
    assert disruptions_allowed({"minAvailable": 1}, 2, 2) == disruptions_allowed({"maxUnavailable": 1}, 2, 2) == 1
    assert disruptions_allowed({"minAvailable": 1}, 2, 1) == disruptions_allowed({"maxUnavailable": 1}, 2, 1) == 0
    assert disruptions_allowed({"maxUnavailable": 1}, 0, 0) == 0  # scaled to zero: nothing to evict
    # the one replica crash-looping (Running, never Ready): IfHealthyBudget refuses it (0 healthy, 0 desired, 0
    # allowed), AlwaysAllow lets it go; Pending goes whatever the budget
    assert not eviction_allowed({"maxUnavailable": 1}, 1, 0, ready=False)
    assert eviction_allowed({"maxUnavailable": 1, "unhealthyPodEvictionPolicy": "AlwaysAllow"}, 1, 0, ready=False)
    assert eviction_allowed({"maxUnavailable": 1}, 1, 0, ready=False, phase=PENDING)
    # two, one Ready: the unready one goes under both policies (the service is not disrupted), the Ready one under none
    assert eviction_allowed({"maxUnavailable": 1}, 2, 1, ready=False)
    assert not eviction_allowed({"maxUnavailable": 1, "unhealthyPodEvictionPolicy": "AlwaysAllow"}, 2, 1, ready=True)


def replica_range(objects: list, workload) -> range:
    """The replica counts a workload can run: its autoscaler's floor to ceiling (an HPA's minReplicas defaults to 1,
    a KEDA ScaledObject's minReplicaCount to 0), else its fixed count."""
    name, namespace = workload.inputs["metadata"]["name"], workload.inputs["metadata"].get("namespace")
    for o in objects:
        spec, meta = o.inputs.get("spec") or {}, o.inputs["metadata"]
        target = (spec.get("scaleTargetRef") or {}).get("name")
        if target != name or meta.get("namespace") != namespace:
            continue
        if o.inputs["kind"] == HPA:
            return range(spec.get("minReplicas", 1), spec["maxReplicas"] + 1)
        if o.inputs["kind"] == SCALED_OBJECT:
            return range(spec.get("minReplicaCount", 0), spec.get("maxReplicaCount", 100) + 1)
    replicas = workload.inputs["spec"].get("replicas", 1)
    return range(replicas, replicas + 1)


# two replicas asked while KEDA may take them to one (or zero): the case a fixed `minAvailable` gets wrong
TWO_ASKED = {"inference": {"replicas": 2}}


@pytest.mark.parametrize("name", [*PLANNED, "dev-two-asked"])
def test_every_budget_lets_a_drain_evict_one_pod_at_every_replica_count(name):
    plan = plan_for("dev", TWO_ASKED) if name == "dev-two-asked" else planned(name)
    objects = [o for o in plan.kubernetes_objects() if isinstance(o.inputs.get("metadata"), dict)]
    workloads = [o for o in objects if o.inputs["kind"] in WORKLOADS]
    budgets = [o for o in objects if o.inputs["kind"] == PDB]
    for budget in budgets:
        spec = budget.inputs["spec"]
        selected = [w for w in workloads if budget_selects(budget.inputs, w.inputs["metadata"].get("namespace"),
                                                          w.inputs["spec"]["template"]["metadata"]["labels"])]
        assert len(selected) == 1, (budget.name, [w.name for w in selected])
        for n in replica_range(objects, selected[0]):
            if n == 0:
                continue
            allowed = disruptions_allowed(spec, n, n)
            assert allowed >= 1, f"{name}: {budget.name} at {n} replica(s) allows no eviction: a drain stalls"
            assert n == 1 or allowed < n, f"{name}: {budget.name} at {n} replicas lets a drain evict them all"
            # a replica that never gets Ready (a model server crash-looping, or failing its readiness probe) on the
            # drained node goes, however many of the others are Ready; the last Ready one stays while others are not
            for healthy in range(n):
                assert eviction_allowed(spec, n, healthy, ready=False), \
                    f"{name}: {budget.name} at {n} replica(s), {healthy} Ready: an unready pod stalls the drain"
                assert healthy != 1 or not eviction_allowed(spec, n, healthy, ready=True), \
                    f"{name}: {budget.name} at {n} replica(s) lets a drain evict the last Ready one"
