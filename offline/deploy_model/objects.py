"""Reading the recorded plan's Kubernetes objects: metadata, kind, API group, containers."""
from __future__ import annotations

from typing import Any

from llmplatform.kubernetes_schemas import group_of

from ..runner import Plan, Registration
from .model import GPU_RESOURCE


def metadata_of(reg: Registration) -> dict[str, Any]:
    return reg.inputs.get("metadata") or {}


def annotations_of(reg: Registration) -> dict[str, str]:
    return metadata_of(reg).get("annotations") or {}


def kind_of(reg: Registration) -> str:
    return str(reg.inputs.get("kind", "")) if reg.is_kubernetes_object else ""


def api_group_of(reg: Registration) -> str:
    return group_of(str(reg.inputs.get("apiVersion", "")))


def label_of(reg: Registration) -> str:
    kind = kind_of(reg)
    meta = metadata_of(reg)
    namespace = meta.get("namespace")
    return f"{kind} {namespace + '/' if namespace else ''}{meta.get('name', reg.name)}" if kind else reg.name


def containers_of(spec: dict[str, Any]) -> list[dict[str, Any]]:
    return list(spec.get("initContainers") or []) + list(spec.get("containers") or [])


def requests_gpu(spec: dict[str, Any]) -> bool:
    return any(GPU_RESOURCE in ((c.get("resources") or {}).get(part) or {})
               for c in spec.get("containers") or [] for part in ("requests", "limits"))


def objects_by_name(plan: Plan) -> dict[tuple[str, str, str], Registration]:
    found = {}
    for reg in plan.kubernetes_objects():
        meta = metadata_of(reg)
        if meta.get("name"):
            found[(str(reg.inputs.get("kind")), str(meta.get("namespace") or ""), str(meta["name"]))] = reg
    return found


def storage_classes(objects: list[Registration]) -> dict[str, Registration]:
    """The StorageClasses among the plan's objects, by name."""
    return {str(metadata_of(r)["name"]): r for r in objects
            if kind_of(r) == "StorageClass" and metadata_of(r).get("name")}
