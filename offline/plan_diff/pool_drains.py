"""A node pool deleted first whose drain cannot finish: AKS deletes an agent pool by draining its nodes honouring
PodDisruptionBudgets (AgentPools_Delete evicts unless `ignore-pod-disruption-budget`, which pulumi-azure-native does
not send; MicrosoftDocs azure-aks-docs fb060abe `articles/aks/delete-node-pool.md`; Azure/AKS#2090,
`PodDrainFailure`), and a pool replaced under its own name is created again only after that delete. A workload that
stays (not deleted first in the same change) whose pods land on no other pool gives up pods only as its budget
allows: once that many wait, Pending, for nodes that come after the delete, the budget allows no more evictions
(kubernetes/kubernetes pkg/controller/disruption `updatePdbStatus`: disruptionsAllowed = currentHealthy -
desiredHealthy), the drain stalls and AKS fails the delete at its drain timeout, `pulumi up` with it.

A workload an autoscaler sizes (an HPA's or a KEDA ScaledObject's `scaleTargetRef`; the program ignores its
`spec.replicas`) runs between the autoscaler's minimum and maximum, not the plan's replicas: the disruption
controller counts the live scale (`getExpectedScale`). One whose minimum already stalls the drain is refused; one
that stalls only above its minimum (KEDA scaled it up under load) is a check before merging.

The budgets are every one of the deployed cluster: the plan's own PodDisruptionBudgets, selecting pods as the API
server's LabelSelector does (`matchLabels` and `matchExpressions` ANDed, an empty selector every pod of its namespace:
deploy_model/budgets.py), and those the plan's Helm releases' charts render, with the chart's own pods and autoscaler
(deploy_model/chart_budgets.py: istiod's above one replica, the KEDA HTTP add-on's interceptor's). A pod two budgets
select is never evicted (the eviction API answers 500), so it stalls the drain at any count."""
import math
from typing import Any, NamedTuple, Optional

from llmplatform.testing.records import reached
from llmplatform.write_order import AGENT_POOL, MANAGED_CLUSTER

from ..deploy_model.budgets import budget_selects, pod_labels
from ..deploy_model.chart_budgets import release_budgets
from ..capacity import whole
from ..deploy_model.pools import landing_pools, pools_of
from ..deploy_model.scaler_ranges import SCALERS, replica_range, target
from ..pod_specs import pod_spec
from ..runner import Registration
from .documents import object_name
from .pool_keys import CPU, GPU, made_by

WORKLOADS = {"kubernetes:apps/v1:Deployment": "Deployment", "kubernetes:apps/v1:StatefulSet": "StatefulSet"}
BUDGET = "kubernetes:policy/v1:PodDisruptionBudget"
HELM_RELEASE = "kubernetes:helm.sh/v3:Release"
DRAIN = (
    "AKS drains its nodes before it deletes it, honouring PodDisruptionBudgets (pulumi-azure-native sends no "
    "`ignore-pod-disruption-budget`), and creates the new pool only after the delete: {held} can go to no other pool, "
    "so the drain stalls once the evicted pods wait for nodes, and AKS fails the delete at its drain timeout "
    "(`PodDrainFailure`), `pulumi up` with it")
RENAME = ": the new pool is created first and the drain moves the pods onto it"
DRAIN_STALLS = DRAIN + ". {rename}" + RENAME
DRAIN_MAY_STALL = ("if an autoscaler holds more than its minimum when `pulumi up` deletes the pool: " + DRAIN
                   + ". Bring each below that count first, or {rename_lower}" + RENAME)


def _rename(pool: str) -> str:
    """What renames this pool, by the component that made it (the stack key, and the component's input)."""
    made = made_by(pool, AGENT_POOL)
    if made == GPU:
        return ("Rename the pool in the same change (`gpu.poolName`, GpuNodePool's `poolName`; its fallback follows "
                "as `<poolName>od`)")
    if made == CPU:
        return "Rename the pool in the same change (`cluster.workloadPool.name`, AksCluster's `workloadPool.name`)"
    return "Rename the pool in the same change"


def _evictable(spec: dict[str, Any], replicas: int) -> int:
    """How many of `replicas` healthy pods a budget's spec lets a drain evict before the first evicted one is Ready
    again (a percentage rounds up, as the disruption controller's `GetScaledValueFromIntOrPercent` with roundUp)."""

    def scaled(value: Any) -> int:
        text = str(value)
        return math.ceil(replicas * int(text[:-1]) / 100) if text.endswith("%") else int(text)
    if spec.get("maxUnavailable") is not None:
        return scaled(spec["maxUnavailable"])
    if spec.get("minAvailable") is not None:
        return max(replicas - scaled(spec["minAvailable"]), 0)
    return replicas


def _stalls(spec: dict[str, Any], replicas: int) -> bool:
    return replicas > 0 and _evictable(spec, replicas) < replicas


def _replicas(workload: dict[str, Any], scalers: list[dict[str, Any]]) -> tuple[int, int, Optional[dict[str, Any]]]:
    """(fewest, most, the autoscaler) replicas the workload runs: its autoscaler's range (scaler_ranges: KEDA's 0 to
    100 where a ScaledObject leaves them out, an HPA's minimum 1), else its `replicas` (an HPA without its required
    maximum is refused by the API server and scales nothing, as the node-drain check reads it too)."""
    meta = workload["inputs"].get("metadata") or {}
    for scaler in scalers:
        found = replica_range(scaler["type"], scaler["inputs"].get("spec") or {})
        if found is not None and target(scaler["type"], scaler["inputs"]) == \
                (meta.get("namespace"), WORKLOADS[workload["type"]], meta.get("name")):
            return found.fewest, found.most, scaler
    replicas = whole((workload["inputs"].get("spec") or {}).get("replicas", 1))
    return (1, 1, None) if replicas is None else (replicas, replicas, None)


class _Held(NamedTuple):
    """A workload a drain may have to evict: its pods' spec, the budgets selecting them, how many run."""
    name: str  # as the report names it
    pod: dict[str, Any]
    clusters: frozenset[str]
    budgets: list[tuple[str, dict[str, Any]]]  # (as the report names it, its spec) of each selecting budget
    fewest: int
    most: int
    minimum_is: str  # ", its ScaledObject `x`'s minimum" (empty: a fixed count)
    range_is: str  # ", its ScaledObject `x`'s range"


def _program_workloads(old_res: dict[str, dict[str, Any]], staying: dict[str, dict[str, Any]]) -> list[_Held]:
    """The plan's own Deployments and StatefulSets with the plan's budgets that select their pods (LabelSelector
    semantics: `budgets.budget_selects`)."""
    budgets = [r for r in staying.values() if r["type"] == BUDGET]
    scalers = [r for r in staying.values() if r["type"] in SCALERS]
    found = []
    for urn, res in sorted(staying.items()):
        if res["type"] not in WORKLOADS:
            continue
        namespace, labels = pod_labels(res["inputs"])
        selecting = [b for b in budgets if budget_selects(b["inputs"], namespace, labels)]
        if not selecting:
            continue
        fewest, most, scaler = _replicas(res, scalers)
        kind = f"its {scaler['type'].rsplit(':', 1)[-1]} `{object_name(scaler)}`" if scaler is not None else ""
        found.append(_Held(
            f"`{namespace}/{object_name(res)}`", pod_spec(res["inputs"]) or {}, _workload_clusters(old_res, res),
            [(f"`{object_name(b)}`", (b["inputs"].get("spec") or {})) for b in selecting], fewest, most,
            f", {kind}'s minimum" if kind else "", f", {kind}'s range" if kind else ""))
    return found


def _chart_workloads(old_res: dict[str, dict[str, Any]], staying: dict[str, dict[str, Any]]) -> list[_Held]:
    """The pods each staying Helm release's chart runs under a budget the chart renders (`chart_budgets`)."""
    found = []
    for urn, res in sorted(staying.items()):
        if res["type"] != HELM_RELEASE:
            continue
        reg = Registration(urn, res["type"], str(res.get("name", "")), str(res.get("parent", "")), True,
                           res["inputs"], [], list(res.get("dependencies") or []), dict(res.get("options") or {}))
        for budget in release_budgets(reg):
            if budget.pod is None:
                continue
            scaler = budget.scaler
            found.append(_Held(
                f"the Helm release `{budget.release}`'s {budget.workload} pods (namespace `{budget.namespace}`)",
                budget.pod,
                _workload_clusters(old_res, res),
                [(f"`{budget.name}` (the chart's {budget.template}, from `{budget.block}`)", budget.spec)],
                budget.fewest, budget.most,
                f", its chart's {scaler.kind}'s minimum (`{scaler.minimum}`)" if scaler else "",
                f", its chart's {scaler.kind}'s range (`{scaler.minimum}` to `{scaler.maximum}`)" if scaler else ""))
    return found


def _two_budgets(budgets: list[tuple[str, dict[str, Any]]]) -> str:
    return (f"its pods are selected by {len(budgets)} budgets, {', '.join(n for n, _ in budgets)}: the eviction API "
            "refuses every eviction of such a pod (500 \"more than one PodDisruptionBudget\")")


class _Resource(NamedTuple):
    """A plan document's resource as `reached` walks it."""
    urn: str
    type: str
    dependencies: list[str]


def _clusters(old_res: dict[str, dict[str, Any]], urn: str) -> frozenset[str]:
    """The ManagedClusters `urn` is made from: itself, else those its dependencies reach, the walk stopping at a
    ManagedCluster (the kit's `clusters_made_from`, over the plan's documents): an AgentPool's cluster, a Kubernetes
    provider's (so a workload's, through its provider). Empty: not known (every pool counts)."""
    def lookup(u: str) -> Optional[_Resource]:
        res = old_res.get(u)
        return _Resource(u, res["type"], res.get("dependencies") or []) if res is not None else None
    root = lookup(urn)
    if root is None or root.type == MANAGED_CLUSTER:
        return frozenset({urn}) if root is not None else frozenset()
    return frozenset(r.urn for r in reached(root.dependencies, lookup, lambda r: r.type == MANAGED_CLUSTER))


def _workload_clusters(old_res: dict[str, dict[str, Any]], workload: dict[str, Any]) -> frozenset[str]:
    provider = (workload.get("options") or {}).get("provider")
    return _clusters(old_res, provider.rsplit("::", 1)[0]) if isinstance(provider, str) else frozenset()


def stalled_drains(old_res: dict[str, dict[str, Any]], new_res: dict[str, dict[str, Any]],
                   deleting_first: set[str]) -> tuple[dict[str, str], dict[str, str]]:
    """(why each agent pool deleted first refuses the change, what to check before merging for each): the deployed
    workloads (the base plan's, and the pods of its Helm releases' charts) that stay through it, with a budget,
    whose pods land only on pools this change deletes first; refused where their fewest replicas stall the drain (or
    two budgets select their pods), a check where only an autoscaler's more would."""
    going = {u for u in deleting_first if old_res.get(u, {}).get("type") == AGENT_POOL}
    if not going:
        return {}, {}
    pools = pools_of((u, r["type"], r["inputs"]) for u, r in old_res.items())
    owners = {p.urn: _clusters(old_res, p.urn) for p in pools}
    staying = {u: r for u, r in old_res.items() if u in new_res and u not in deleting_first}
    held: dict[str, list[str]] = {}
    may_hold: dict[str, list[str]] = {}
    for work in _program_workloads(old_res, staying) + _chart_workloads(old_res, staying):
        # another cluster's pools are no place for its pods
        on = {p.urn for p in landing_pools(work.pod, [p for p in pools
                                                      if not work.clusters or owners[p.urn] & work.clusters])}
        if not on or not on <= going or work.most <= 0:
            continue
        if len(work.budgets) > 1:
            line = f"{work.name} ({_two_budgets(work.budgets)})"
            target = held if work.fewest > 0 else may_hold
            for pool in sorted(on):
                target.setdefault(pool, []).append(line)
            continue
        (budget, spec), = work.budgets
        lets = f"its budget {budget} lets {{go}} go at a time"
        if _stalls(spec, work.fewest):
            runs = f"at least {work.fewest} replicas{work.minimum_is}" if work.minimum_is else \
                f"{work.fewest} replicas"
            for pool in sorted(on):
                held.setdefault(pool, []).append(
                    f"{work.name} ({runs}; {lets.format(go=_evictable(spec, work.fewest))})")
        elif work.most > work.fewest and _stalls(spec, work.most):
            above = next(n for n in range(work.fewest, work.most + 1) if _stalls(spec, n))
            for pool in sorted(on):
                may_hold.setdefault(pool, []).append(
                    f"{work.name} ({work.fewest} to {work.most} replicas{work.range_is}; at {above}, "
                    f"{lets.format(go=_evictable(spec, above))})")
    refused = {pool: DRAIN_STALLS.format(held=", ".join(workloads), rename=_rename(pool))
               for pool, workloads in held.items()}
    checks = {pool: DRAIN_MAY_STALL.format(held=", ".join(workloads), rename_lower=_rename(pool)[0].lower()
                                           + _rename(pool)[1:]) for pool, workloads in may_hold.items()}
    return refused, checks


SPOT_REFUGE = (
    "AKS drains its nodes before it deletes it, honouring PodDisruptionBudgets (pulumi-azure-native sends no "
    "`ignore-pod-disruption-budget`), and the pods of {held} on them can go to spot pools alone ({spot}): they "
    "wait, Pending, while spot has no capacity or quota (an on-demand fallback runs them exactly when spot had "
    "none), and once a budget allows no more evictions the drain stalls and AKS fails the delete at its drain "
    "timeout (`PodDrainFailure`), `pulumi up` with it. Before merging, check that it runs none (`kubectl get nodes "
    "-l kubernetes.azure.com/agentpool={name}` lists its nodes, `kubectl get pods -A -o wide` each pod's node), or "
    "move them to spot first (docs/operations.md, \"GPU capacity\")")


def spot_refuges(old_res: dict[str, dict[str, Any]], new_res: dict[str, dict[str, Any]],
                 removed: list[str]) -> dict[str, str]:
    """A check for each on-demand agent pool this change deletes (a fallback turned off) from which a workload with
    a budget can go to spot pools alone: what its drain needs (spot capacity), since the pool's nodes run exactly when
    spot has none. The pods' spec and the pools are the change's (what the cluster has when `pulumi up` deletes the
    pool, at its end), with the deleted pool beside them."""
    going = [p for p in pools_of((u, r["type"], r["inputs"]) for u, r in old_res.items() if u in removed)
             if not p.spot]
    if not going:
        return {}
    staying = pools_of((u, r["type"], r["inputs"]) for u, r in new_res.items())
    owners = {p.urn: _clusters(old_res, p.urn) or _clusters(new_res, p.urn) for p in going + staying}
    checks: dict[str, str] = {}
    for pool in going:
        here = [p for p in staying if not owners[pool.urn] or owners[p.urn] & owners[pool.urn]]
        held, spot = [], set()
        for work in _program_workloads(new_res, new_res):
            if work.clusters and owners[pool.urn] and not work.clusters & owners[pool.urn]:
                continue  # another cluster's pool is no place for its pods (a program with two clusters)
            on = landing_pools(work.pod, [pool] + here)
            others = [p for p in on if p.urn != pool.urn]
            if pool not in on or not others or not all(p.spot for p in others):
                continue
            held.append(work.name)
            spot |= {p.name for p in others}
        if held:
            checks[pool.urn] = SPOT_REFUGE.format(held=", ".join(held), spot=", ".join(f"`{s}`" for s in sorted(spot)),
                                                  name=pool.name)
    return checks
