"""Reading a registration's inputs whatever their types (the mocks take any value where the SDK's typed args would
refuse one): a part of another type reads as absent, and a workload's pod template is found as its kind places it."""
from typing import Any, Mapping


def as_dict(value: Any) -> dict[str, Any]:
    """A mapping of the inputs, or an empty one for a value of another type."""
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    """A list of the inputs, or an empty one for a value of another type."""
    return value if isinstance(value, list) else []


def pod_template(inputs: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """A workload's pod template as (its metadata, its pod spec): a Pod's own; a CronJob's under its jobTemplate; any
    other kind's (Deployment, StatefulSet, DaemonSet, Job) under `spec.template`."""
    spec = as_dict(inputs.get("spec"))
    if inputs.get("kind") == "Pod":
        return as_dict(inputs.get("metadata")), spec
    if inputs.get("kind") == "CronJob":
        spec = as_dict(as_dict(spec.get("jobTemplate")).get("spec"))
    template = as_dict(spec.get("template"))
    return as_dict(template.get("metadata")), as_dict(template.get("spec"))
