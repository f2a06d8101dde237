"""What an Update of a workload's pod template does to its pods, by the workload's update strategy.

A new pod template is a new revision (kubernetes/kubernetes pkg/controller/deployment sync.go `getNewReplicaSet`: a
ReplicaSet per template hash; the StatefulSet's and DaemonSet's ControllerRevisions likewise), which the controller
rolls out as the strategy says (the apps/v1 API's field docs, kubernetes staging/src/k8s.io/api/apps/v1/types.go):
a Deployment's RollingUpdate (the default) replaces the running pods a few at a time (maxSurge and maxUnavailable,
25 % each by default), Recreate kills them all before creating the new ones, and a paused Deployment rolls nothing
out until it is resumed; a StatefulSet's or DaemonSet's RollingUpdate (the default) replaces each pod, a StatefulSet's
`partition` only the pods of that ordinal and above, and OnDelete none: a pod takes the new template only when it is
deleted. Every workload of this program keeps the defaults; a program of its own may not."""
from typing import Any, Iterable, Optional

DEPLOYMENT = "kubernetes:apps/v1:Deployment"
STATEFUL_SET = "kubernetes:apps/v1:StatefulSet"
DAEMON_SET = "kubernetes:apps/v1:DaemonSet"
WORKLOADS = (DEPLOYMENT, STATEFUL_SET, DAEMON_SET)
ROLLS = "its pods restart: a new pod template, each running pod replaced by its rolling update"


# A template whose only changes are quantities of one value in another form (`1Gi` -> `1073741824`): the API server
# stores the new form, but a Deployment compares templates by value (normalised.py), so no new generation nor
# ReplicaSet. A DaemonSet takes a new ControllerRevision (update.go `Match` compares the stored bytes), but keeps its
# template generation (pkg/registry/apps/daemonset/strategy.go `PrepareForUpdate`: apiequality.Semantic), and a pod
# whose `pod-template-generation` label is that generation counts as updated (pkg/controller/daemon/util
# `IsPodUpdated`: the revision's hash or that label), so none restarts. A StatefulSet's pods follow the revision alone
# (stateful_set_control.go: a pod whose revision is not the update revision is deleted): those roll.
SAME_TEMPLATE = {
    DEPLOYMENT: ("an update Pulumi shows, which changes no value of the pod template (a quantity in another form, "
                 "the Deployment compares by value): the same ReplicaSet, no pod restarts"),
    DAEMON_SET: ("an update Pulumi shows, which changes no value of the pod template (a quantity in another form): a "
                 "new ControllerRevision, but the same template generation, which its pods' `pod-template-generation` "
                 "label still matches: no pod restarts"),
}


def rollout_note(type_: str, inputs: dict[str, Any], paths: list[str],
                 same_values: Iterable[str] = ()) -> Optional[str]:
    """What the update of a workload whose `paths` change under `spec.template` does to its pods (None: no such
    change, or not a workload); `same_values`: the paths whose quantities keep their value (normalised.same_value)."""
    template = [p for p in paths if p == "spec.template" or p.startswith("spec.template.")]
    if type_ not in WORKLOADS or not template:
        return None
    if type_ in SAME_TEMPLATE and set(template) <= set(same_values):
        return SAME_TEMPLATE[type_]
    given = inputs.get("spec")
    spec: dict[str, Any] = given if isinstance(given, dict) else {}
    if type_ == DEPLOYMENT:
        if spec.get("paused") is True:
            return ("a new pod template, which the paused Deployment rolls out only when resumed (`kubectl rollout "
                    "resume`): no pod restarts now")
        if (spec.get("strategy") or {}).get("type") == "Recreate":
            return "its pods restart: a new pod template, every pod stopped before the new ones start (Recreate)"
        return ROLLS
    strategy = spec.get("updateStrategy") or {}
    if strategy.get("type") == "OnDelete":
        return ("a new pod template, which each pod takes only when it is deleted (updateStrategy OnDelete): no pod "
                "restarts now")
    partition = (strategy.get("rollingUpdate") or {}).get("partition") if type_ == STATEFUL_SET else None
    if isinstance(partition, int) and not isinstance(partition, bool) and partition > 0:
        return (f"the pods of ordinal {partition} and above restart: a new pod template, rolled out above the "
                f"StatefulSet's partition ({partition}); the others keep the old one")
    return ROLLS
