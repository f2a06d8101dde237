"""A cluster's GPU driver switched (`gpu.driver` aks <-> operator, with the new pool name the switch needs): one
`pulumi up` installs the new device software (GpuNodePool's release named after the cluster) while the old GPU pools,
their nodes and the model servers on them, and the old release stay until its end (what the program no longer
declares is deleted last), so for that while each kind of software runs on the other's nodes.

- The GPU Operator serves every node on which node-feature-discovery finds an NVIDIA PCI device
  (`feature.node.kubernetes.io/pci-10de.present`) unless the node carries `nvidia.com/gpu.deploy.operands=false`,
  which removes every operand's deploy label from it (NVIDIA/gpu-operator v26.7.0, the pinned chart, 10ee5b36,
  `controllers/state_manager.go`: `gpuNodeLabels`, `hasOperandsDisabled`, `updateGPUStateLabels`,
  `removeAllGPUStateLabels`): on AKS-driver nodes its container toolkit, device plugin, GPU feature discovery, DCGM
  exporter, node status exporter and validator start next to the device plugin chart, and on a MIG-capable GPU
  (A100, H100, H200) its MIG manager, enabled by default, with the node labelled `nvidia.com/mig.config=all-disabled`
  (`controllers/nodelabeling_controller.go`; `assets/state-mig-manager/0400_configmap.yaml`: `mig-enabled: false`
  on every GPU: on an AKS MIG pool it sets out to take the instances away). The label keeps all of these off, the
  MIG manager included; node-feature-discovery's worker is the chart's own DaemonSet, no operand, and runs on every
  node whatever the label (it only labels nodes). Its driver container stands down on a node whose driver is installed
  already: the driver pod's k8s-driver-manager finds the host's `nvidia-smi`, labels the node
  `nvidia.com/gpu.deploy.driver=pre-installed` and exits (NVIDIA/k8s-driver-manager bd62ca7d,
  `cmd/driver-manager/main.go`: `uninstallDriver`, `isHostDriver`), and the driver DaemonSet selects `true`.
- The device plugin chart's pods select every GPU node (`llm-platform/accelerator=nvidia`, which every GPU pool of
  GpuNodePool carries: `gpu_node_pool.device_plugin_values`), the Operator's nodes included.

GpuNodePool refuses the two kinds on one cluster for good (`check_shared_software`); this is the one `pulumi up` in
which a plan that passes has both. Not a refusal: the check says what runs where until the end of the up, and what
keeps the Operator's operands off the old nodes (aks -> operator) or what to look at after it (operator -> aks)."""
from typing import Any, Optional

from llmplatform.write_order import AGENT_POOL

from .claims import HELM_RELEASE
from .pool_drains import _clusters, _workload_clusters
from .urns import short_urn

KINDS = {"nvidia-device-plugin": "aks", "gpu-operator": "operator"}
SHARED = (
    "until the end of the same `pulumi up`, which deletes what the program no longer declares last, the old GPU "
    "pools {pools} keep their nodes (and the model-server pods on them until the rollout moves them) and `{old}` "
    "stays: ")
TO_OPERATOR = (
    "the GPU driver changes from AKS's with the NVIDIA device plugin to the GPU Operator's; " + SHARED
    + "the Operator serves every node where node-feature-discovery finds an NVIDIA device unless it is labelled "
    "`nvidia.com/gpu.deploy.operands=false` (NVIDIA/gpu-operator `controllers/state_manager.go`, "
    "`hasOperandsDisabled`), so its container toolkit, device plugin, GPU feature discovery, DCGM exporter, node "
    "status exporter and validator start on the old pools' nodes beside the device plugin there, and on A100, H100 "
    "and H200 nodes its MIG manager, which applies its default MIG configuration `all-disabled` (MIG mode off: on an "
    "AKS MIG pool it sets out to take the instances away); its driver container stands down on a node whose driver "
    "AKS installed. The device plugin, which selects every GPU node (`llm-platform/accelerator=nvidia`), starts on "
    "the new pools' nodes. Before `pulumi up`, keep the Operator's operands off the old nodes, and again for any node "
    "the old pools add before the end (its node-feature-discovery worker, which only labels nodes, runs there "
    "whatever the label): "
    "`kubectl label nodes -l 'kubernetes.azure.com/agentpool in ({names})' nvidia.com/gpu.deploy.operands=false` "
    "(docs/operations.md, \"Scaling node pools\")")
TO_AKS = (
    "the GPU driver changes from the GPU Operator's to AKS's with the NVIDIA device plugin; " + SHARED
    + "the device plugin, which selects every GPU node (`llm-platform/accelerator=nvidia`), starts on the old pools' "
    "nodes beside the Operator's own, and the Operator puts its container toolkit, device plugin, GPU feature "
    "discovery, DCGM exporter, node status exporter and validator on the new pools' nodes, and on A100, H100 and "
    "H200 nodes its MIG manager with its default MIG configuration `all-disabled` (its driver container stands down "
    "there: AKS installed the driver) until its release goes: two device plugins offer `nvidia.com/gpu` on one node "
    "meanwhile. After `pulumi up`, check that "
    "every new GPU node offers its GPUs (`kubectl get nodes -l llm-platform/accelerator=nvidia -o "
    "'custom-columns=NAME:.metadata.name,GPUS:.status.allocatable.nvidia\\.com/gpu'`; the GpuNodeOffersNoGpus alert) "
    "and restart the device plugin's DaemonSet where one offers none (docs/operations.md, \"Scaling node pools\")")
# AKS makes a MIG pool's instances itself (`gpuInstanceProfile`) and labels no node `nvidia.com/mig.config`: the
# Operator labels such a node `all-disabled` and its MIG manager sets MIG mode off there
# (controllers/nodelabeling_controller.go, assets/state-mig-manager/0400_configmap.yaml), unless the ClusterPolicy
# (the chart's `cluster-policy`) has `migManager.enabled` false, which gates both (state_manager.go)
TO_AKS_MIG = (
    ". The new pools are MIG pools ({profiles}), which AKS partitions itself: on their nodes the Operator's MIG "
    "manager sets out to turn MIG mode off (its default `all-disabled`, for a node no `nvidia.com/mig.config` label "
    "names a configuration), and what it changes stays after its release goes. Before `pulumi up`, turn it off: "
    "`kubectl patch clusterpolicies.nvidia.com cluster-policy --type merge -p "
    "'{{\"spec\":{{\"migManager\":{{\"enabled\":false}}}}}}'`")


def _kind(resource: dict[str, Any]) -> Optional[str]:
    if resource.get("type") != HELM_RELEASE:
        return None
    return KINDS.get(str((resource.get("inputs") or {}).get("chart") or ""))


def _gpu_pools(old_res: dict[str, dict[str, Any]], removed: list[str], clusters: frozenset[str]) -> list[str]:
    """The base's GPU pools (a `gpuProfile`: GpuNodePool's pools, and only theirs) on one of `clusters` that the
    change deletes (kept under their names, their driver is refused in place: blocked, nothing more to say)."""
    return sorted(u for u in removed if old_res[u]["type"] == AGENT_POOL
                  and (old_res[u].get("inputs") or {}).get("gpuProfile") is not None
                  and (not clusters or _clusters(old_res, u) & clusters))


def driver_switches(old_res: dict[str, dict[str, Any]], new_res: dict[str, dict[str, Any]], removed: list[str],
                    added: list[str]) -> dict[str, str]:
    """A check for each device-software release this change adds on a cluster where it deletes the other kind's and
    GPU pools: what runs on which nodes until the end of the up."""
    checks: dict[str, str] = {}
    for urn in added:
        kind = _kind(new_res[urn])
        if kind is None:
            continue
        clusters = _workload_clusters(old_res, new_res[urn])
        old = [u for u in removed if _kind(old_res[u]) not in (None, kind)
               and (not clusters or _workload_clusters(old_res, old_res[u]) & clusters)]
        pools = _gpu_pools(old_res, removed, clusters)
        if not old or not pools:
            continue
        names = ",".join(str(old_res[p]["inputs"].get("agentPoolName") or old_res[p].get("name")) for p in pools)
        text = TO_OPERATOR if kind == "operator" else TO_AKS
        # the new pools AKS partitions (`gpu.migProfile`), which the Operator's MIG manager would unmake meanwhile
        profiles = sorted({str(new_res[u]["inputs"]["gpuInstanceProfile"]) for u in added
                           if new_res[u]["type"] == AGENT_POOL and (new_res[u].get("inputs") or {}).get(
                               "gpuInstanceProfile") and (not clusters or _clusters(new_res, u) & clusters)})
        if kind == "aks" and profiles:
            text += TO_AKS_MIG
        checks[urn] = text.format(pools=", ".join(f"`{short_urn(p)}`" for p in pools), old=short_urn(old[0]),
                                  names=names, profiles=", ".join(f"`{p}`" for p in profiles))
    return checks
