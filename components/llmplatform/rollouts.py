"""How many pods a Deployment's rolling update adds and takes down at once, as the Deployment controller resolves its
maxSurge and maxUnavailable: plain arithmetic, no Pulumi import (the deploy model's warm-up check reads it; Open-WebUI's
connection budget counts twice its pods instead, as old ones hold their pools until they exit: postgres_access).

kubernetes/kubernetes @277391ee pkg/controller/deployment/util/deployment_util.go: `ResolveFenceposts` scales
maxSurge rounded up and maxUnavailable rounded down (`GetValueFromIntOrPercent`), and makes maxUnavailable 1 when
both come to 0; `NewRSNewReplicas` grows the new ReplicaSet up to desired + maxSurge pods in all ReplicaSets while
@95f08499 pkg/controller/deployment/rolling.go `reconcileOldReplicaSets` takes the old ones down by all pods -
(desired - maxUnavailable) - the new ones not yet available. Unset, both are 25 % (pkg/apis/apps/v1/defaults.go
`SetDefaults_Deployment`, read in the code index, commit not pinned).
"""
import math
import re
from typing import Union

DEFAULT_MAX_SURGE = DEFAULT_MAX_UNAVAILABLE = "25%"
IntOrPercent = Union[int, str]
_PERCENT = re.compile(r"(?P<value>[0-9]+)%")


def scaled(value: IntOrPercent, total: int, round_up: bool) -> int:
    """An IntOrString of `total` as apimachinery's GetScaledValueFromIntOrPercent reads it: an integer as is, a
    percentage of `total` rounded up or down. Raises ValueError on anything else."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    found = _PERCENT.fullmatch(str(value))
    if not found:
        raise ValueError(f"{value!r} is neither an integer nor a percentage ('25%')")
    share = int(found["value"]) * total / 100
    return math.ceil(share) if round_up else math.floor(share)


def fenceposts(replicas: int, max_surge: IntOrPercent = DEFAULT_MAX_SURGE,
               max_unavailable: IntOrPercent = DEFAULT_MAX_UNAVAILABLE) -> tuple[int, int]:
    """(surge, unavailable) of a rolling update of `replicas` (ResolveFenceposts)."""
    surge, unavailable = scaled(max_surge, replicas, True), scaled(max_unavailable, replicas, False)
    return (surge, 1) if surge == 0 and unavailable == 0 else (surge, unavailable)


def rollout_starts(replicas: int, max_surge: IntOrPercent = DEFAULT_MAX_SURGE,
                   max_unavailable: IntOrPercent = DEFAULT_MAX_UNAVAILABLE) -> int:
    """New pods a rolling update of `replicas` has starting at once before any is available: the surge first, then
    as many as the old ones taken down (desired + surge - (desired - unavailable)), at most the replicas."""
    surge, unavailable = fenceposts(replicas, max_surge, max_unavailable)
    return min(replicas, surge + unavailable)
