"""Where a Kubernetes object keeps its pod spec: one reader for the plan's checks (image list, deploy model, pods'
fit on the pools). The policy pack keeps its own (policy/policies.py `pod_specs`): it runs as a plugin with nothing
of offline/ importable, over pulumi-policy's read-only mappings."""
from typing import Any, Mapping, Optional

# Every kind not named here that has a pod template keeps it at spec.template.spec: Deployment, StatefulSet,
# DaemonSet, ReplicaSet, Job, and custom resources that embed one (an Argo Rollout, say).
PATHS = {"Pod": ("spec",), "CronJob": ("spec", "jobTemplate", "spec", "template", "spec")}
TEMPLATE = ("spec", "template", "spec")
SECRETS_STORE_DRIVER = "secrets-store.csi.k8s.io"


def _at(obj: Mapping[str, Any], path: tuple[str, ...]) -> Optional[dict[str, Any]]:
    node: Any = obj
    for part in path:
        node = node.get(part) if isinstance(node, dict) else None
    return node if isinstance(node, dict) else None


def pod_spec(obj: Mapping[str, Any]) -> Optional[dict[str, Any]]:
    """The object's pod spec, or None when it has none (a Service, a ConfigMap, a custom resource without one)."""
    return _at(obj, PATHS.get(str(obj.get("kind", "")), TEMPLATE))


def pod_metadata(obj: Mapping[str, Any]) -> dict[str, Any]:
    """The metadata of the object's pods (a Pod's own; else its pod template's, a CronJob's through its Job
    template), empty when it has none: beside the pod spec, where the pod's labels and annotations are."""
    return _at(obj, PATHS.get(str(obj.get("kind", "")), TEMPLATE)[:-1] + ("metadata",)) or {}


def mounted_provider_classes(spec: Mapping[str, Any]) -> list[Any]:
    """The SecretProviderClass names (as written) of the pod spec's volumes mounted through the Secrets Store CSI
    driver: the classes, of the pod's namespace, whose Key Vault secrets the pod waits for."""
    return [((v.get("csi") or {}).get("volumeAttributes") or {}).get("secretProviderClass")
            for v in spec.get("volumes") or [] if isinstance(v, dict)
            and (v.get("csi") or {}).get("driver") == SECRETS_STORE_DRIVER]
