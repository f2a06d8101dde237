"""Two autoscalers on one Deployment: HPAs and KEDA ScaledObjects (a ScaledObject makes an HPA of its own) whose
scaleTargetRef names the same Deployment of one cluster select the same pods, and Kubernetes' HPA controller then
scales with neither (AmbiguousSelector: "pods by selector ... are controlled by multiple HPAs",
pkg/controller/podautoscaler/horizontal.go). KEDA's admission webhook refuses a ScaledObject on a workload another
HPA scales (keda v2.20.2 apis/keda/v1alpha1/scaledobject_webhook.go verifyHpas) unless that HPA carries
`validations.keda.sh/hpa-ownership: "false"`, as ModelAutoscaler's do. The mocks take both; ModelAutoscaler refuses
the second on one handle by name (llmplatform.shared_names), this the rest (a handle that arrives as an output, or
two handles of one server)."""
from ..kubernetes_schemas import group_of
from .clusters import _cluster_of
from .records import Registration

_SCALERS = {("autoscaling", "HorizontalPodAutoscaler"), ("keda.sh", "ScaledObject")}


def two_autoscalers(resources: list[Registration], clusters: dict[str, str]) -> list[str]:
    seen: dict[tuple, Registration] = {}
    problems = []
    for reg in resources:
        if not reg.is_kubernetes_object:
            continue
        if (group_of(str(reg.inputs.get("apiVersion"))), reg.inputs.get("kind")) not in _SCALERS:
            continue
        target = (reg.inputs.get("spec") or {}).get("scaleTargetRef") or {}
        namespace = (reg.inputs.get("metadata") or {}).get("namespace")
        kind, name = target.get("kind", "Deployment"), target.get("name")
        if not isinstance(name, str) or not isinstance(namespace, str):
            continue
        first = seen.setdefault((_cluster_of(reg, clusters), namespace, kind, name), reg)
        if first is not reg and _object(first) != _object(reg):  # one object twice is refused as such
            problems.append(
                f"{first.name} ({first.inputs['kind']}) and {reg.name} ({reg.inputs['kind']}) both scale {kind} "
                f"{namespace}/{name}: two HPAs on one Deployment (a ScaledObject's own among them) stop both "
                f"(AmbiguousSelector), and KEDA's webhook refuses a ScaledObject on a workload another HPA scales "
                f"without validations.keda.sh/hpa-ownership false; one ModelAutoscaler per model server")
    return problems


def _object(reg: Registration) -> tuple:
    """What the API server keys a scaler by within its namespace: its API group, kind and name (an HPA and a
    ScaledObject of one name are two objects)."""
    return (group_of(str(reg.inputs.get("apiVersion"))), reg.inputs.get("kind"),
            (reg.inputs.get("metadata") or {}).get("name"))
