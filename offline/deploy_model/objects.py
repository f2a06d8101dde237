"""Reading the recorded plan's Kubernetes objects: metadata, kind, API group, containers."""
from __future__ import annotations

from typing import Any

from llmplatform.kubernetes_schemas import group_of
from llmplatform.testing.clusters import _cluster_of, _clusters
from llmplatform.testing.namespace_rules import clusters_made_from

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


def gpus_of(spec: dict[str, Any]) -> int:
    """The GPUs one pod takes: its containers' nvidia.com/gpu limits (else requests)."""
    total = 0
    for c in spec.get("containers") or []:
        resources = c.get("resources") or {}
        value = (resources.get("limits") or {}).get(GPU_RESOURCE, (resources.get("requests") or {}).get(GPU_RESOURCE))
        total += int(str(value)) if str(value).isdigit() else 0
    return total


def requests_gpu(spec: dict[str, Any]) -> bool:
    return any(GPU_RESOURCE in ((c.get("resources") or {}).get(part) or {})
               for c in spec.get("containers") or [] for part in ("requests", "limits"))


def cluster_keys(plan: Plan) -> dict[str, Any]:
    """Kubernetes object or release URN -> the cluster it is written to, as the kit's namespace rule names it: its
    provider's API server (two providers of one cluster are one cluster), else the provider reference, None without
    one. Objects are looked up by name within their cluster only: two clusters may each have a `fast` class."""
    servers = _clusters(plan.resources)
    return {r.urn: _cluster_of(r, servers) for r in plan.resources if r.type.startswith("kubernetes:")}


def by_cluster(plan: Plan, objects: list[Registration]) -> dict[Any, list[Registration]]:
    """The objects grouped by the cluster each is written to (`cluster_keys`), in plan order."""
    where = cluster_keys(plan)
    found: dict[Any, list[Registration]] = {}
    for reg in objects:
        found.setdefault(where.get(reg.urn), []).append(reg)
    return found


def managed_clusters(plan: Plan) -> dict[str, frozenset[str]]:
    """Kubernetes object or release URN -> the plan's ManagedClusters its provider is made from (the kit's
    `clusters_made_from`: the provider's dependencies, walked up to a ManagedCluster; a provider made from an AKS
    cluster's credentials depends on it); empty for a provider made from none (a cluster outside the plan, the
    ambient kubeconfig's default provider)."""
    by_urn = {r.urn: r for r in plan.resources}
    made: dict[str, frozenset[str]] = {}
    found = {}
    for reg in plan.resources:
        if not reg.type.startswith("kubernetes:"):
            continue
        provider = reg.options.get("provider")
        urn = provider.rsplit("::", 1)[0] if isinstance(provider, str) else None
        if urn in by_urn and urn not in made:
            made[urn] = frozenset(clusters_made_from(by_urn[urn], by_urn))
        found[reg.urn] = made.get(urn, frozenset()) if urn else frozenset()
    return found


def objects_by_name(plan: Plan) -> dict[tuple[Any, str, str, str], Registration]:
    """(cluster, kind, namespace, name) -> the plan's object (cluster: `cluster_keys`)."""
    where = cluster_keys(plan)
    found = {}
    for reg in plan.kubernetes_objects():
        meta = metadata_of(reg)
        if meta.get("name"):
            found[(where.get(reg.urn), str(reg.inputs.get("kind")), str(meta.get("namespace") or ""),
                   str(meta["name"]))] = reg
    return found


def storage_classes(objects: list[Registration]) -> dict[str, Registration]:
    """The StorageClasses among these objects (one cluster's: `by_cluster`), by name."""
    return {str(metadata_of(r)["name"]): r for r in objects
            if kind_of(r) == "StorageClass" and metadata_of(r).get("name")}
