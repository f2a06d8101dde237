"""A node pool's refusal names the stack keys of that pool. The refusal rules are per Azure type
(offline/data/replacement_rules.json `refusedInPlace`): GpuNodePool's pools and AksCluster's CPU pool are all
AgentPools, and the system pool is AksCluster's inline profile of the ManagedCluster, so a rule's text names the keys of
every pool the kit makes (`gpu.poolName, cluster.workloadPool.name`). The pool's component, read from its URN, tells
which one the edit came from."""
from typing import Any, Optional

from llmplatform.write_order import AGENT_POOL, MANAGED_CLUSTER

GPU, CPU, SYSTEM = "GpuNodePool", "AksCluster's CPU pool", "the system pool"
ZONES = "gpu.zones, cluster.zones"
# each list of keys the rules name -> the key of each pool it is a setting of (a GPU pool's zones: `_gpu_zones_key`)
OWN_KEY = {
    "gpu.poolName, cluster.workloadPool.name": {GPU: "gpu.poolName", CPU: "cluster.workloadPool.name"},
    ZONES: {CPU: "cluster.zones", SYSTEM: "cluster.zones"},
    "gpu.maxPods, cluster.workloadPool.maxPods": {GPU: "gpu.maxPods", CPU: "cluster.workloadPool.maxPods",
                                                  SYSTEM: "cluster.systemPool.maxPods"},
    "gpu.osDiskSizeGb, cluster.workloadPool.osDiskSizeGb": {GPU: "gpu.osDiskSizeGb",
                                                            CPU: "cluster.workloadPool.osDiskSizeGb",
                                                            SYSTEM: "cluster.systemPool.osDiskSizeGb"},
    "gpu.priority, cluster.workloadPool.priority": {GPU: "gpu.priority", CPU: "cluster.workloadPool.priority"},
}


def made_by(urn: str, type_: str) -> Optional[str]:
    """Which of the kit's pools a node pool resource is (GPU, CPU, SYSTEM), by the component its URN names; None
    for a pool another program makes."""
    if type_ == AGENT_POOL and "llmplatform:index:GpuNodePool$" in urn:
        return GPU
    if "llmplatform:index:AksCluster$" in urn:
        return {AGENT_POOL: CPU, MANAGED_CLUSTER: SYSTEM}.get(type_)
    return None


def _zones(resource: Optional[dict[str, Any]]) -> Any:
    return ((resource or {}).get("inputs") or {}).get("availabilityZones")


def _gpu_zones_key(old_res: dict[str, dict[str, Any]], new_res: dict[str, dict[str, Any]], urn: str) -> str:
    """Which key moved a GPU pool's zones: GpuNodePool takes the cluster's zones while gpu.zones is unset (`zones =
    args.get("zones") or field(cluster, "zones")`), and AksCluster's CPU pool always has the cluster's; so the CPU
    pool's zones moving to the GPU pool's new ones say cluster.zones, and a CPU pool keeping its zones gpu.zones."""
    cpu = [u for u, r in new_res.items() if u in old_res and made_by(u, r["type"]) == CPU]
    if not cpu:  # the cluster is another program's: its zones are not in this plan
        return "gpu.zones, or the cluster's zones where gpu.zones is unset"
    moved = [u for u in cpu if _zones(old_res[u]) != _zones(new_res[u])]
    if any(_zones(new_res[u]) == _zones(new_res[urn]) for u in moved):
        return "cluster.zones, which the GPU pools take while gpu.zones is unset"
    return "gpu.zones"


def own_keys(urn: str, old_res: dict[str, dict[str, Any]], new_res: dict[str, dict[str, Any]], reason: str) -> str:
    """The refusal `reason` of the pool `urn` with each list of stack keys cut to the key of this pool (a pool another
    program makes keeps the list)."""
    pool = made_by(urn, new_res[urn]["type"])
    if pool is None:
        return reason
    for keys, by_pool in OWN_KEY.items():
        key = _gpu_zones_key(old_res, new_res, urn) if (pool, keys) == (GPU, ZONES) else by_pool.get(pool)
        if key:
            reason = reason.replace(f"({keys})", f"({key})")
    return reason
