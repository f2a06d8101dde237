"""Pools: where pods can land (a pool's labels and taints against a pod's selectors and tolerations), and when
their nodes are there."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable, Optional

from llmplatform.gpu_skus import find_gpu_sku
from llmplatform.taints import pool_taints, tolerates
from llmplatform.write_order import AGENT_POOL, MANAGED_CLUSTER

from ..capacity import (AKS_DEFAULT_COUNT, aks_node_labels, declared_pools, labels_admit, plain_location, pool_zones,
                        required_terms, whole, zone_label_sets)
from ..runner import Plan
from .model import DurationsError, Span, ZERO
from .objects import requests_gpu


@dataclass(frozen=True)
class Pool:
    urn: str  # the AgentPool, or the ManagedCluster for its inline pools
    name: str
    vm_size: str
    labels: tuple[tuple[str, str], ...]  # its nodeLabels
    taints: tuple[str, ...]  # its nodes' taints: nodeTaints and AKS's spot taint on a spot pool
    start_nodes: int  # the nodes AKS creates the pool with (`count`; the autoscaler's minimum without one; else 1)
    spot: bool
    driver: Optional[str]  # 'aks' / 'operator' on GPU pools
    mode: str = "User"
    os_type: str = "Linux"
    os_sku: Optional[str] = None  # None: AKS's default
    zones: tuple[str, ...] = ()  # its availabilityZones
    location: str = ""  # its cluster's region, where the plan holds it as a string

    @property
    def label_sets(self) -> list[dict[str, str]]:
        """Every label its nodes carry, one set per zone they may be in: AKS's labels over the pool's fields (one
        source, for a pool read from a plan and one built by hand alike)."""
        inputs = {"nodeLabels": dict(self.labels), "vmSize": self.vm_size, "mode": self.mode, "osType": self.os_type,
                  "osSKU": self.os_sku, "scaleSetPriority": "Spot" if self.spot else "Regular"}
        return zone_label_sets(aks_node_labels(self.name, inputs, self.location), self.zones, self.location)


def pool_of(urn: str, p: dict[str, Any], cluster: Optional[dict[str, Any]] = None) -> Pool:
    """A pool from its inputs (an AgentPool's, or one of a ManagedCluster's agentPoolProfiles) and its cluster's."""
    gpu = (p.get("gpuProfile") or {}).get("driver")
    count, low = whole(p.get("count")), whole(p.get("minCount"))
    return Pool(urn=urn, name=str(p.get("agentPoolName") or p.get("name")), vm_size=str(p.get("vmSize", "")),
                labels=tuple(sorted((p.get("nodeLabels") or {}).items())), taints=tuple(pool_taints(p)),
                start_nodes=count if count is not None else low if low is not None else AKS_DEFAULT_COUNT,
                spot=str(p.get("scaleSetPriority", "")).lower() == "spot",
                driver={"Install": "aks", "None": "operator"}.get(gpu) if gpu else None,
                mode=str(p.get("mode") or "User"), os_type=str(p.get("osType") or "Linux"),
                os_sku=str(p["osSKU"]) if p.get("osSKU") else None, zones=pool_zones(p),
                location=plain_location(cluster or {}))


def pools(plan: Plan) -> list[Pool]:
    return pools_of((reg.urn, reg.type, reg.inputs) for reg in plan.resources)


def pools_of(resources: Iterable[tuple[str, str, dict[str, Any]]]) -> list[Pool]:
    """Every pool among (urn, type, inputs): a ManagedCluster's inline ones, each AgentPool (its cluster:
    capacity.declared_pools)."""
    return [pool_of(d.urn, d.inputs, d.cluster) for d in declared_pools(resources)]


def pool_clusters(plan: Plan) -> dict[str, frozenset[str]]:
    """Pool URN -> the ManagedCluster it belongs to: the cluster itself for its inline pools, the cluster an
    AgentPool depends on (its `resourceName` is the cluster's name output), else the one whose resource group and
    name it gives as plain strings."""
    clusters = plan.of_type(MANAGED_CLUSTER)
    named = {(str(c.inputs.get("resourceGroupName")), str(c.inputs.get("resourceName"))): c.urn for c in clusters}
    found = {c.urn: frozenset({c.urn}) for c in clusters}
    for reg in plan.of_type(AGENT_POOL):
        deps = frozenset(d for d in reg.dependencies if d in found)
        by_name = named.get((str(reg.inputs.get("resourceGroupName")), str(reg.inputs.get("resourceName"))))
        found[reg.urn] = deps or (frozenset({by_name}) if by_name else frozenset())
    return found


def cluster_pools(all_pools: list[Pool], owners: dict[str, frozenset[str]], clusters: frozenset[str]) -> list[Pool]:
    """The pools of these clusters (`pool_clusters`); every pool when the clusters are not known (a provider made
    from no cluster of the plan: the plan's pools are the only ones there are to place its pods on)."""
    if not clusters:
        return all_pools
    return [p for p in all_pools if owners.get(p.urn, frozenset()) & clusters]


def landing_pools(spec: dict[str, Any], all_pools: list[Pool]) -> list[Pool]:
    """The pools a pod may run on: its node selector and one term of its required node affinity match (both must
    hold) on some node of the pool (its zones differ), its tolerations cover the taints: the capacity model's
    predicates (offline/capacity.py), over the labels AKS gives the pool's nodes (`Pool.label_sets`)."""
    selector = spec.get("nodeSelector") or {}
    terms = required_terms(spec.get("affinity"))
    tolerations = spec.get("tolerations") or []
    gpu = requests_gpu(spec)
    fits = []
    for pool in all_pools:
        if not any(labels_admit(selector, terms, labels) for labels in pool.label_sets):
            continue
        if not all(tolerates(tolerations, t) for t in pool.taints):
            continue
        if gpu and not pool.driver:
            continue
        fits.append(pool)
    return fits


def node_family(data: dict[str, Any], vm_size: str) -> dict[str, Any]:
    for family in data["node_from_zero"]["families"]:
        if re.search(family["match"], vm_size):
            return family
    raise DurationsError(f"no node_from_zero family matches {vm_size}")


def node_provision_limit(plan: Plan, clusters: frozenset[str] = frozenset()) -> float:
    """The cluster autoscaler's max-node-provision-time of these clusters (the first of the plan's when none is
    given)."""
    for reg in plan.of_type(MANAGED_CLUSTER):
        if clusters and reg.urn not in clusters:
            continue
        value = str((reg.inputs.get("autoScalerProfile") or {}).get("maxNodeProvisionTime", "15m"))
        match = re.fullmatch(r"(\d+)([ms])", value)
        if match:
            return float(match.group(1)) * (60 if match.group(2) == "m" else 1)
    return 900.0  # cluster-autoscaler's default --max-node-provision-time


def warm_pools(candidates: list[Pool], gpus_needed: int = 0) -> list[Pool]:
    """The pools created with nodes, when those nodes hold every pod's GPUs (a GPU size's GPUs per node, from the
    catalog; one where the size is not in it): else none, and the pods left over wait for the autoscaler."""
    warm = [p for p in candidates if p.start_nodes > 0]
    room = sum(p.start_nodes * (sku.gpus if (sku := find_gpu_sku(p.vm_size)) else 1) for p in warm)
    return warm if room >= gpus_needed else []


def nodes_from(candidates: list[Pool], gpus_needed: int = 0) -> list[Pool]:
    """The pools a pod's nodes come from: those created with nodes when they hold all its replicas' GPUs, else any,
    the autoscaler's from zero. Where both kinds are, the pods wait for a pool with nodes: one still at zero when it
    ends gives none."""
    return warm_pools(candidates, gpus_needed) or candidates


def node_wait(data: dict[str, Any], candidates: list[Pool], gpu: bool, provision_limit: float,
              gpus_needed: int = 0) -> tuple[Span, str]:
    """Nodes for the pods once their pools exist: none from zero when pools keep nodes enough for their GPUs, else
    the autoscaler adds one (spot first when there is an on-demand fallback: pessimistic = spot gives up after the
    provision limit, then an on-demand node), plus the GPU driver on a new GPU node: on a first `pulumi up` every
    node is new, a pool's own nodes too (its create returns before the device plugin, or the GPU Operator's driver,
    registers nvidia.com/gpu on them)."""
    warm = warm_pools(candidates, gpus_needed)
    pick = warm or candidates
    spot = [p for p in pick if p.spot]
    regular = [p for p in pick if not p.spot]
    if warm:
        nodes, how = ZERO, "nodes of the pool"
    elif spot:
        family = node_family(data, spot[0].vm_size)
        nodes = Span.of(family["spot"])
        how = f"a spot {spot[0].vm_size} node from zero"
        if regular:
            fallback = Span.of(node_family(data, regular[0].vm_size)["regular"])
            nodes = Span(nodes.median, provision_limit + fallback.pessimistic)
            how += f" (pessimistic: no spot capacity, {round(provision_limit / 60)} min, then on-demand)"
    else:
        nodes = Span.of(node_family(data, regular[0].vm_size)["regular"])
        how = f"a {regular[0].vm_size} node from zero"
    if gpu:
        driver = next((p.driver for p in pick if p.driver), "aks")
        nodes = nodes + Span.of(data["gpu_driver"][driver])
        how += f" + the {'GPU Operator' if driver == 'operator' else 'AKS-managed'} GPU driver"
    return nodes, how
