"""The replicas an autoscaler takes a workload between, as the plan writes it, with what each field means when the
spec leaves it out: one table of the upstream facts for the plan's readers (the node-drain check, deploy_model/
node_drains.py, the pool delete's drain, plan_diff/pool_drains.py, and the warm readers' scale-ups,
deploy_model/warm_readers.py).

- HorizontalPodAutoscaler (autoscaling/v2): `minReplicas` is optional, "It defaults to 1 pod"; `maxReplicas` is
  required (no `+optional`, no `omitempty`: kubernetes/api autoscaling/v2/types.go at 6e64302b) and the API server
  refuses one below 1 ("must be greater than 0": kubernetes/kubernetes pkg/apis/autoscaling/validation/validation.go
  `validateHorizontalPodAutoscalerSpec`, at 001320a9), so an HPA without it is never created and scales nothing: the
  workload keeps its own `replicas`. `scaleTargetRef.kind` is required too.
- KEDA ScaledObject: `minReplicaCount` "Optional. Default: 0", `maxReplicaCount` "Optional. Default: 100"
  (kedacore/keda-docs content/docs/2.15/reference/scaledobject-spec.md; kedacore/keda
  apis/keda/v1alpha1/scaledobject_types.go at ca8dd42e, `GetHPAMaxReplicas`: `defaultHPAMaxReplicas` 100);
  `scaleTargetRef.kind` defaults to Deployment (the same spec page).
"""
from typing import Any, NamedTuple, Optional

from ..capacity import whole

HPA = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler"
SCALED_OBJECT = "kubernetes:keda.sh/v1alpha1:ScaledObject"


class Fields(NamedTuple):
    """An autoscaler type's spec fields of its range, and what each reads as when left out (None: required)."""
    minimum: str
    minimum_default: int
    maximum: str
    maximum_default: Optional[int]
    target_kind_default: Optional[str]


SCALERS = {HPA: Fields("minReplicas", 1, "maxReplicas", None, None),
           SCALED_OBJECT: Fields("minReplicaCount", 0, "maxReplicaCount", 100, "Deployment")}


class Range(NamedTuple):
    """The replicas an autoscaler runs its target between."""
    fewest: int
    most: int


def target(type_: str, inputs: dict[str, Any]) -> tuple[Any, Any, Any]:
    """(namespace, kind, name) of the workload an autoscaler of `type_` scales (kind None: required, not given)."""
    spec = inputs.get("spec") or {}
    ref = spec.get("scaleTargetRef") or {}
    return (inputs.get("metadata") or {}).get("namespace"), ref.get("kind", SCALERS[type_].target_kind_default), \
        ref.get("name")


def replica_range(type_: str, spec: dict[str, Any]) -> Optional[Range]:
    """The range an autoscaler of `type_` with this spec runs its target in: each bound the spec's whole number, else
    the type's default where the field is left out; None where the autoscaler scales nothing (a required maximum
    left out, or a bound that is no number: the API server refuses either), so its readers count the workload's
    own replicas."""
    fields = SCALERS[type_]
    bounds = []
    for name, default in ((fields.minimum, fields.minimum_default), (fields.maximum, fields.maximum_default)):
        given = whole(spec.get(name)) if name in spec else default
        if given is None:
            return None
        bounds.append(given)
    fewest, most = bounds
    return Range(fewest, max(fewest, most))
