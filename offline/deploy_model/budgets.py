"""PodDisruptionBudgets and the pods they select, as the API server matches them; and the plan failure of a pod that
more than one budget selects (`budget-overlap`).

Selection (k8s.io/apimachinery v0.33.2 `pkg/apis/meta/v1/helpers.go` `LabelSelectorAsSelector`, `pkg/labels/
selector.go` `NewRequirement` and `Requirement.Matches`): a budget selects the pods of its own namespace whose labels
meet every `matchLabels` pair and every `matchExpressions` requirement, ANDed: `In` (the key is there with one of the
values), `NotIn` (the key is absent, or its value is none of them), `Exists`, `DoesNotExist`. An empty selector (`{}`,
neither list) selects every pod of the namespace in policy/v1, a missing one none. A selector the conversion refuses
(another operator; `In`/`NotIn` without values; `Exists`/`DoesNotExist` with some) matches nothing: the eviction API
skips it ("This object has an invalid selector, it does not match the pod").

A pod under two budgets is never evicted. The eviction API lists the budgets of the pod's namespace whose selector
matches its labels and, with more than one, answers every eviction of it with 500 "This pod has more than one
PodDisruptionBudget, which the eviction subresource does not support." (kubernetes/kubernetes
`pkg/registry/core/pod/storage/eviction.go` `Create` and `getPodDisruptionBudgets`, read at serathius/kubernetes
f142e2ba, a copy of master after the empty-selector fix kubernetes/kubernetes#119732, first in 1.29.0 and
cherry-picked into 1.28.3 as #121131, before which the eviction skipped an empty selector; the same branch in
sanposhiho/kubernetes 059ce4e8). Only a pod the eviction may skip the budgets for (Pending, Succeeded, Failed, being
deleted: `canIgnorePDB`) goes. So every drain of a node running such a pod stalls until its deadline: AKS's node
image and Kubernetes upgrades (`drainTimeoutInMinutes`, then the upgrade fails), the delete of its pool
(`PodDrainFailure`), a Fleet update run, `kubectl drain`; the cluster autoscaler cannot remove the node either. A
plan that makes one fails `make plan` for every stack, whatever the replicas or the budgets' numbers.

Only pods that run until evicted count (`STALLING_OWNERS`): a Deployment's, a StatefulSet's, a ReplicaSet's, a bare
Pod's that restarts `Always` (its default). A Job's or CronJob's pods (and a bare Pod's that restarts `Never` or
`OnFailure`) end: Succeeded or Failed, `canIgnorePDB` lets the eviction take them, so two budgets only delay a drain
while one runs. A DaemonSet's pods are never evicted by a drain (kubectl drain skips them, `--ignore-daemonsets`;
AKS's drain as well: they run until the node goes), so their budgets hold no drain."""
from __future__ import annotations

from typing import Any, Optional

from ..pod_specs import pod_metadata
from ..runner import Plan, Registration
from .model import Problem
from .objects import by_cluster, kind_of, label_of, metadata_of

BUDGET_KIND = "PodDisruptionBudget"
STALLING_OWNERS = ("Deployment", "StatefulSet", "ReplicaSet", "Pod")  # pods that run until evicted (see above)
_OPERATORS = {"In", "NotIn", "Exists", "DoesNotExist"}


def selector_problem(selector: Any) -> Optional[str]:
    """Why `LabelSelectorAsSelector` refuses a selector (it then matches nothing); None when it converts."""
    if not isinstance(selector, dict):
        return None
    for expr in selector.get("matchExpressions") or []:
        operator, values = expr.get("operator"), list(expr.get("values") or [])
        if operator not in _OPERATORS:
            return f"{operator!r} is not a valid label selector operator"
        if operator in ("In", "NotIn") and not values:
            return f"{operator} of key {expr.get('key')!r} needs at least one value"
        if operator in ("Exists", "DoesNotExist") and values:
            return f"{operator} of key {expr.get('key')!r} takes no values"
    return None


def selects(selector: Any, labels: dict[str, Any]) -> bool:
    """Whether a LabelSelector (`spec.selector` of a policy/v1 budget) selects a pod with these labels."""
    if not isinstance(selector, dict) or selector_problem(selector) is not None:
        return False  # missing: labels.Nothing(); refused: skipped as matching nothing
    for key, value in (selector.get("matchLabels") or {}).items():
        if key not in labels or str(labels[key]) != str(value):
            return False
    for expr in selector.get("matchExpressions") or []:
        key, operator = expr.get("key"), expr["operator"]
        values = {str(v) for v in expr.get("values") or []}
        there = key in labels
        if operator == "In" and not (there and str(labels[key]) in values):
            return False
        if operator == "NotIn" and there and str(labels[key]) in values:
            return False
        if operator == "Exists" and not there:
            return False
        if operator == "DoesNotExist" and there:
            return False
    return True


def budget_selects(budget: dict[str, Any], namespace: Optional[str], labels: dict[str, Any]) -> bool:
    """Whether a budget's inputs (metadata and spec) select a pod of `namespace` with these labels."""
    meta = budget.get("metadata") or {}
    return meta.get("namespace") == namespace and selects((budget.get("spec") or {}).get("selector"), labels)


def pod_labels(inputs: dict[str, Any]) -> tuple[Optional[str], dict[str, Any]]:
    """(namespace, pod labels) of a workload's inputs: its pod template's labels (a CronJob's through its Job
    template; a bare Pod's own)."""
    return (inputs.get("metadata") or {}).get("namespace"), dict(pod_metadata(inputs).get("labels") or {})


def runs_until_evicted(inputs: dict[str, Any]) -> bool:
    """Whether a workload's pods hold a drain under two budgets: they run until evicted (`STALLING_OWNERS`; a bare
    Pod only with `restartPolicy: Always`, the API's default)."""
    kind = inputs.get("kind")
    if kind == "Pod":
        return ((inputs.get("spec") or {}).get("restartPolicy") or "Always") == "Always"
    return kind in STALLING_OWNERS


def check_budget_overlap(plan: Plan) -> list[Problem]:
    """A workload whose pods more than one PodDisruptionBudget of its cluster selects: every eviction of them is
    refused (500), so no drain of their nodes ends."""
    problems = []
    for regs in by_cluster(plan, plan.kubernetes_objects()).values():
        budgets = [r for r in regs if kind_of(r) == BUDGET_KIND]
        if len(budgets) < 2:
            continue
        for reg in regs:
            if not runs_until_evicted(reg.inputs):
                continue
            namespace, labels = pod_labels(reg.inputs)
            selecting = [b for b in budgets if budget_selects(b.inputs, namespace, labels)]
            if len(selecting) > 1:
                problems.append(Problem("budget-overlap", label_of(reg), overlap_message(selecting)))
    return problems


def overlap_message(selecting: list[Registration]) -> str:
    names = ", ".join(f"`{metadata_of(b).get('name', b.name)}`" for b in selecting)
    return (f"its pods are selected by {len(selecting)} PodDisruptionBudgets ({names}): the eviction API refuses "
            "every eviction of a pod more than one budget selects (500 \"This pod has more than one "
            "PodDisruptionBudget, which the eviction subresource does not support\"), so no drain of their nodes "
            "ends: AKS's node image and Kubernetes upgrades fail at their drain timeout, a pool's delete with "
            "`PodDrainFailure`, and the cluster autoscaler keeps the nodes; fix: one budget per pod (narrow the "
            "selectors so that they share no pod, or drop one)")
