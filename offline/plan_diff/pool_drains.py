"""A node pool deleted first whose drain cannot finish: AKS deletes an agent pool by draining its nodes honouring
PodDisruptionBudgets (AgentPools_Delete evicts unless `ignore-pod-disruption-budget`, which pulumi-azure-native does
not send; MicrosoftDocs azure-aks-docs fb060abe `articles/aks/delete-node-pool.md`; Azure/AKS#2090,
`PodDrainFailure`), and a pool replaced under its own name is created again only after that delete. A workload that
stays (not deleted first in the same change) whose pods land on no other pool gives up pods only as its budget
allows: once that many wait, Pending, for nodes that come after the delete, the budget allows no more evictions
(kubernetes/kubernetes pkg/controller/disruption `updatePdbStatus`: disruptionsAllowed = currentHealthy -
desiredHealthy), the drain stalls and AKS fails the delete at its drain timeout, `pulumi up` with it."""
import math
from typing import Any, Optional

from llmplatform.write_order import AGENT_POOL, MANAGED_CLUSTER

from ..deploy_model.pools import Pool, landing_pools, pool_of
from .documents import object_name

WORKLOADS = ("kubernetes:apps/v1:Deployment", "kubernetes:apps/v1:StatefulSet")
BUDGET = "kubernetes:policy/v1:PodDisruptionBudget"
DRAIN_STALLS = (
    "AKS drains its nodes before it deletes it, honouring PodDisruptionBudgets (pulumi-azure-native sends no "
    "`ignore-pod-disruption-budget`), and creates the new pool only after the delete: {held} can go to no other pool, "
    "so the drain stalls once the evicted pods wait for nodes, and AKS fails the delete at its drain timeout "
    "(`PodDrainFailure`), `pulumi up` with it. Rename the pool in the same change (`cluster.workloadPool.name`, "
    "`gpu.poolName`): the new pool is created first and the drain moves the pods onto it")


def _evictable(budget: dict[str, Any], replicas: int) -> int:
    """How many of `replicas` healthy pods the budget lets a drain evict before the first evicted one is Ready again
    (a percentage rounds up, as the disruption controller's `GetScaledValueFromIntOrPercent` with roundUp)."""
    spec = budget["inputs"].get("spec") or {}

    def scaled(value: Any) -> int:
        text = str(value)
        return math.ceil(replicas * int(text[:-1]) / 100) if text.endswith("%") else int(text)
    if spec.get("maxUnavailable") is not None:
        return scaled(spec["maxUnavailable"])
    if spec.get("minAvailable") is not None:
        return max(replicas - scaled(spec["minAvailable"]), 0)
    return replicas


def _budget_of(workload: dict[str, Any], budgets: list[dict[str, Any]]) -> Optional[dict[str, Any]]:
    namespace = (workload["inputs"].get("metadata") or {}).get("namespace")
    labels = ((((workload["inputs"].get("spec") or {}).get("template") or {}).get("metadata") or {}).get("labels")
              or {})
    for budget in budgets:
        match = (((budget["inputs"].get("spec") or {}).get("selector") or {}).get("matchLabels") or {})
        if (budget["inputs"].get("metadata") or {}).get("namespace") == namespace and match and \
                all(labels.get(k) == v for k, v in match.items()):
            return budget
    return None


def _pools(old_res: dict[str, dict[str, Any]]) -> list[Pool]:
    found: list[Pool] = []
    for urn, res in old_res.items():
        if res["type"] == MANAGED_CLUSTER:
            found.extend(pool_of(urn, p) for p in res["inputs"].get("agentPoolProfiles") or [])
        elif res["type"] == AGENT_POOL:
            found.append(pool_of(urn, res["inputs"]))
    return found


def stalled_drains(old_res: dict[str, dict[str, Any]], new_res: dict[str, dict[str, Any]],
                   deleting_first: set[str]) -> dict[str, str]:
    """Why each agent pool deleted first refuses the change: the deployed workloads (the base plan's) that stay
    through it, with a budget, whose pods land only on pools this change deletes first."""
    going = {u for u in deleting_first if old_res.get(u, {}).get("type") == AGENT_POOL}
    if not going:
        return {}
    pools = _pools(old_res)
    budgets = [r for u, r in old_res.items() if r["type"] == BUDGET and u in new_res and u not in deleting_first]
    held: dict[str, list[str]] = {}
    for urn, res in sorted(old_res.items()):
        if res["type"] not in WORKLOADS or urn not in new_res or urn in deleting_first:
            continue
        spec = res["inputs"].get("spec") or {}
        pod = (spec.get("template") or {}).get("spec") or {}
        on = {p.urn for p in landing_pools(pod, pools)}
        replicas = int(spec.get("replicas", 1)) if isinstance(spec.get("replicas", 1), (int, float)) else 1
        budget = _budget_of(res, budgets)
        if not on or not on <= going or budget is None or _evictable(budget, replicas) >= replicas:
            continue
        namespace = (res["inputs"].get("metadata") or {}).get("namespace")
        for pool in sorted(on):
            held.setdefault(pool, []).append(
                f"`{namespace}/{object_name(res)}` ({replicas} replicas; its budget `{object_name(budget)}` lets "
                f"{_evictable(budget, replicas)} go at a time)")
    return {pool: DRAIN_STALLS.format(held=", ".join(workloads)) for pool, workloads in held.items()}
