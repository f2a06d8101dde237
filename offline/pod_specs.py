"""Where a Kubernetes object keeps its pod spec: one reader for the plan's checks (image list, deploy model, pods'
fit on the pools). The policy pack keeps its own (policy/policies.py `pod_specs`): it runs as a plugin with nothing
of offline/ importable, over pulumi-policy's read-only mappings."""
from typing import Any, Mapping, Optional

# Every kind not named here that has a pod template keeps it at spec.template.spec: Deployment, StatefulSet,
# DaemonSet, ReplicaSet, Job, and custom resources that embed one (an Argo Rollout, say).
PATHS = {"Pod": ("spec",), "CronJob": ("spec", "jobTemplate", "spec", "template", "spec")}
TEMPLATE = ("spec", "template", "spec")


def pod_spec(obj: Mapping[str, Any]) -> Optional[dict[str, Any]]:
    """The object's pod spec, or None when it has none (a Service, a ConfigMap, a custom resource without one)."""
    node: Any = obj
    for part in PATHS.get(str(obj.get("kind", "")), TEMPLATE):
        node = node.get(part) if isinstance(node, dict) else None
    return node if isinstance(node, dict) else None
