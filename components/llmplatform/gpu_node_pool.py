"""GpuNodePool: a tainted GPU AgentPool that scales to zero, spot with an optional on-demand fallback pool, and the
NVIDIA software that makes `nvidia.com/gpu` schedulable (AKS driver + device plugin, or the GPU Operator).

Each pool carries a label of its own (`llm-platform/pool=<pool_name>`, its fallback too), and its `scheduling`
handle selects that label: a workload lands on the pool whose handle it got. The NVIDIA software is one per cluster
(one namespace, one release, DaemonSets over every GPU node): the first pool on a cluster installs it, later pools
on the same cluster reuse it. "The same cluster" is the Kubernetes provider the pools are given, within one
deployment (a program run, or one provider process serving a deployment's Construct calls).
"""
from dataclasses import dataclass, field as dataclass_field
from typing import Any, Mapping, Optional, TypedDict

import pulumi
import pulumi_kubernetes as k8s
import yaml
from pulumi_azure_native import containerservice as cs
from typing_extensions import NotRequired

from .defaults import defaults_for, or_default
from .checks import EXPANDER_FIELDS, after_check, called_as_documented, check_shape, fail, late_rules
from .gpu_skus import GpuSku, find_gpu_sku, gpu_units
from .handles import ClusterHandle, GpuScheduling, Toleration, field, known
from .pins import GPU_OPERATOR, NVIDIA_DEVICE_PLUGIN
from .resolved_provider import cluster_key, kubernetes_provider
from .run_state import Turn, claim, per_run
from .taints import SPOT_TAINT
from .units import MIB_PER_GIB
from .inference_specs import gpu_nodes_drained_at_once
from .upgrades import gpu_pool_upgrade

from . import PACKAGE
from .aks_cluster import (NodePoolSpec, autoscaled_pool_args, autoscaler_ignore_changes, priority_args,
                          upgrade_settings_args)
from .kube import (CPU_POOL_LABEL, SPOT_TOLERATION, egress_guard, helm_release, namespace,
                   require_kubernetes_provider)

opt = defaults_for("GpuNodePool")  # optional inputs: the caller's value, else the default

GPU_TAINT = "nvidia.com/gpu=present:NoSchedule"
ACCELERATOR_LABEL = "llm-platform/accelerator"  # every GPU node of every pool: what device software selects
POOL_LABEL = CPU_POOL_LABEL  # one pool and its fallback: <pool_name> (the CPU workload pool's nodes carry "cpu")


class GpuFallbackSpec(TypedDict):
    """An on-demand pool the autoscaler turns to when spot capacity is short."""

    enabled: bool
    """Create the fallback pool (named <pool_name>od)."""
    max_count: int
    """Autoscaler maximum of the fallback pool."""
    min_count: NotRequired[Optional[int]]
    """Autoscaler minimum of the fallback pool (default 0, as the spot pool's): 0 lets the autoscaler remove its last
    node once no pod needs it; above 0 that many on-demand GPU nodes run whether spot has capacity or not (the
    autoscaler never moves a running pod back to spot)."""


class GpuSkuSpec(TypedDict):
    """A GPU VM size described by hand, for sizes the built-in catalog does not list."""

    gpu_model: str
    """GPU model (T4, A10, A100, H100, ...)."""
    gpus: int
    """GPUs per node."""
    gpu_memory_gib: float
    """Memory of one GPU as the driver reports it, GiB: nvidia-smi's memory.total (MiB) / 1024, e.g. 22.48 for an A10
    (23028 MiB), not the GB of the size page (24), which counts 10^9 bytes and more than CUDA offers."""
    rdma: NotRequired[Optional[bool]]
    """InfiniBand/RDMA-capable (default False)."""


class GpuNodePoolArgs(TypedDict):
    """Inputs of GpuNodePool."""

    cluster: pulumi.Input[ClusterHandle]
    """The cluster to add the pool to (AksCluster's `cluster`)."""
    vm_size: str
    """GPU VM size; from the built-in catalog unless gpu_sku describes it."""
    gpu_sku: NotRequired[Optional[GpuSkuSpec]]
    """Describes a VM size the catalog does not list (the catalog is a default, not a gate)."""
    pool_name: NotRequired[Optional[str]]
    """Agent pool name (default gpu); the fallback is <pool_name>od."""
    min_count: NotRequired[Optional[int]]
    """Autoscaler minimum (default 0: scale to zero)."""
    max_count: NotRequired[Optional[int]]
    """Autoscaler maximum (default 1)."""
    priority: NotRequired[Optional[str]]
    """spot or regular (default spot)."""
    spot_max_price: NotRequired[Optional[float]]
    """Highest spot price per hour, USD; -1 pays up to the on-demand price (default -1)."""
    fallback: NotRequired[Optional[GpuFallbackSpec]]
    """On-demand fallback for a spot pool (needs the cluster's autoscaler_expander 'priority')."""
    upgrade_max_surge: NotRequired[Optional[str]]
    """Nodes AKS adds to upgrade the on-demand nodes (a regular pool, or a spot pool's fallback): a number ('1') or a
    percentage of the pool's nodes ('33%'), each against the GPU family's quota; no replica is down before its new
    node is up. Default none: upgraded in place, one node (one replica) down at a time, no quota beyond max_count. A
    spot pool takes none (AKS upgrades it without surge nodes)."""
    driver: NotRequired[Optional[str]]
    """Who installs the NVIDIA driver: aks (+ device plugin) or operator (NVIDIA GPU Operator; not on the A10 sizes,
    whose GRID driver only AKS installs). Default aks."""
    install_device_software: NotRequired[Optional[bool]]
    """Whether this pool may install the cluster's device plugin or GPU Operator (default True): the first GPU pool of
    a cluster in this program installs it once for all its pools. False on a cluster whose device software another
    stack installed (its first GPU pool is in that stack): a second installation's namespace and release are already
    there."""
    os_disk_size_gb: NotRequired[Optional[int]]
    """OS disk size, GB (default 128)."""
    max_pods: NotRequired[Optional[int]]
    """Pods per node (default 30)."""
    mig_profile: NotRequired[Optional[str]]
    """Multi-Instance GPU profile (MIG1g..MIG7g) on MIG-capable GPUs, with the AKS driver: AKS partitions each GPU
    and the device plugin offers each instance as one nvidia.com/gpu (the scheduling handle counts instances)."""
    zones: NotRequired[Optional[list[str]]]
    """Availability zones (default, or empty: the cluster's)."""
    regional: NotRequired[Optional[bool]]
    """No zones at all, in a zonal cluster too: the VMs go wherever the size has capacity (a GPU size is not offered
    in every zone of every subscription, and spot finds more capacity). Default false."""
    tags: NotRequired[Optional[Mapping[str, pulumi.Input[str]]]]
    """Azure tags."""


def resolve_sku(args: GpuNodePoolArgs) -> GpuSku:
    """The pool's GPU facts: the hand-written gpu_sku, else the catalog entry (input_rules.gpu_node_pool refuses a size
    that is neither)."""
    custom = args.get("gpu_sku")
    if custom:
        return GpuSku(vm_size=args["vm_size"], gpu_model=custom["gpu_model"], gpus=custom["gpus"],
                      gpu_memory_mib=round(custom["gpu_memory_gib"] * MIB_PER_GIB), vcpus=0, ram_gib=0,
                      rdma=or_default(custom.get("rdma"), False), mig_capable=False)
    sku = find_gpu_sku(args["vm_size"])
    assert sku is not None, "refused by the input rules before"
    return sku


def gpu_labels(sku: GpuSku, pool_name: str = "gpu") -> dict[str, str]:
    """The node labels of a GPU pool and of its fallback alike (the fallback carries its spot pool's name)."""
    return {ACCELERATOR_LABEL: "nvidia", "llm-platform/gpu-model": sku.gpu_model.lower(), POOL_LABEL: pool_name}


def gpu_node_selector() -> dict[str, str]:
    """Every GPU node of every pool: for software that must run on each (device plugin, DCGM exporter)."""
    return {ACCELERATOR_LABEL: "nvidia"}


def pool_node_selector(pool_name: str) -> dict[str, str]:
    """One pool and its on-demand fallback, no other pool: what a workload handed the pool's scheduling takes."""
    return {POOL_LABEL: pool_name}


def pool_taints(spot: bool) -> list[str]:
    # The spot taint is declared although AKS adds it itself, so Pulumi sees no drift on the next run.
    return [GPU_TAINT, SPOT_TAINT] if spot else [GPU_TAINT]


def gpu_tolerations() -> list[Toleration]:
    """What a GPU workload needs to land on either pool: the GPU taint and the spot taint."""
    return [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}, SPOT_TOLERATION.copy()]


def priority_expander_config(spot_pool: str, fallback_pool: str) -> str:
    """cluster-autoscaler priority expander: the higher number wins, so spot is tried before on-demand.

    AKS node groups are VMSS named aks-<pool>-<id>-vmss; the hyphens keep `gpu` from also matching `gpuod`.
    Pools not listed (the CPU pools) fall to the catch-all at the lowest priority.
    """
    return yaml.safe_dump({10: [".*"], 20: [f".*-{fallback_pool}-.*"], 30: [f".*-{spot_pool}-.*"]})


def device_plugin_values(tolerations: list[Toleration], node_selector: dict[str, str],
                         mig: bool = False) -> dict[str, Any]:
    # Without NFD the chart's default affinity (NFD labels) matches no node. Helm merges maps but replaces lists,
    # so our own nodeSelectorTerms replace the default ones rather than adding to them.
    terms = [{"matchExpressions": [{"key": k, "operator": "In", "values": [v]} for k, v in node_selector.items()]}]
    return {
        "tolerations": tolerations,
        "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": terms}}},
        "gfd": {"enabled": False},
        # On a cluster with a MIG pool each MIG instance is offered as one nvidia.com/gpu (the chart's default, none,
        # offers none; a node without MIG keeps its whole GPUs under that name). Only there: with any strategy but
        # none the chart adds SYS_ADMIN to the plugin's container (templates/_helpers.tpl requiresCapSysAdmin,
        # NVIDIA/k8s-device-plugin v0.20.0)
        **({"migStrategy": "single"} if mig else {}),
    }


def gpu_operator_values(tolerations: list[Toleration], rdma: bool) -> dict[str, Any]:
    return {
        "driver": {"enabled": True, "rdma": {"enabled": rdma}},
        "toolkit": {"enabled": True},
        "daemonsets": {"tolerations": tolerations},
        "node-feature-discovery": {"worker": {"tolerations": tolerations}},
        # Observability installs the ServiceMonitor CRD and its own DCGM exporter scrape config.
        "dcgmExporter": {"serviceMonitor": {"enabled": False}},
        "operator": {"nodeSelector": {"kubernetes.io/os": "linux"}},
    }


# ---- device software: once per cluster ----------------------------------------------------------------------

@dataclass
class ClusterGpuSoftware:
    """What the pools of one cluster share: one driver choice, and one installation of the device software."""

    driver: str
    rdma: bool
    first_pool: str
    mig: bool = False  # the device plugin offers MIG instances (the first pool had a mig_profile)
    status: Optional[pulumi.Output[Any]] = None  # the installed release's status (None: no pool has installed it)
    installer: Optional[str] = None  # the pool that installed it
    declined: list[tuple[str, pulumi.Resource]] = dataclass_field(default_factory=list)  # pools given False before
    ranked_pool: Optional[str] = None  # the pool whose spot/fallback ranking the priority expander ConfigMap holds


def installed_software() -> dict[tuple[str, str, str], ClusterGpuSoftware]:
    """What this run's GPU pools have installed, per cluster (`cluster_key`): kept per run (llmplatform.run_state)."""
    return per_run("gpu_node_pool.clusters")


def forget_clusters() -> None:
    """Forget what this run's pools have installed (each run starts afresh by itself; kept for older callers)."""
    installed_software().clear()


def check_shared_software(name: str, driver: str, sku: GpuSku, shared: ClusterGpuSoftware,
                          mig_profile: Optional[str] = None) -> None:
    """Pools of one cluster share the device software, so they must agree on what it is."""
    if driver != shared.driver:
        fail("GpuNodePool", name, "driver", driver,
             f"{shared.driver!r}, as GPU pool {shared.first_pool!r} on the same cluster: the GPU Operator puts its "
             "container toolkit, device plugin and DCGM exporter on every node with an NVIDIA GPU (AKS-driver nodes "
             "included, beside their device plugin; only its driver container stands down where a driver is "
             "installed), so one cluster runs one driver for all its GPU pools")
    if mig_profile and not shared.mig:
        fail("GpuNodePool", name, "mig_profile", mig_profile,
             f"none on this cluster, or the MIG pool declared before GPU pool {shared.first_pool!r}: the first GPU "
             "pool installs the cluster's device plugin, which offers MIG instances only when that pool has a MIG "
             "profile (with SYS_ADMIN, so not on clusters without one)")
    if driver == "operator" and sku.rdma != shared.rdma:
        fail("GpuNodePool", name, "vm_size", sku.vm_size,
             f"a size {'with' if shared.rdma else 'without'} RDMA, as GPU pool {shared.first_pool!r} on the same "
             "cluster: the GPU Operator's driver.rdma is one setting for every node it serves")


def check_one_ranking(name: str, shared: Optional[ClusterGpuSoftware]) -> None:
    """The autoscaler reads one priority ConfigMap per cluster, whose one `priorities` entry a pool writes whole."""
    if shared is not None and shared.ranked_pool is not None:
        fail("GpuNodePool", name, "fallback.enabled", True,
             f"one on-demand fallback per cluster (GPU pool {shared.ranked_pool!r} has it): the cluster autoscaler "
             "ranks pools from one ConfigMap, cluster-autoscaler-priority-expander, which that pool writes")


def claim_pool_names(name: str, key: Optional[tuple[str, str, str]], pool_name: str, pools: list[str]) -> None:
    """Two GpuNodePools of one cluster (its Kubernetes provider in this deployment) whose AKS pools share a name
    (the default `gpu` twice, or `a` beside `a`'s fallback `aod`): Azure names a pool by cluster and name, so the
    second pool would be the first one's (azure-native refuses to create a pool that exists, after the first pool's
    writes). Refused by name before it registers; without a provider `llmplatform.testing` names the collision."""
    if key is None:
        return
    for pool in pools:
        other = claim("gpu_node_pool.pool_names", (*key, pool), name)
        if other is not None:
            fail("GpuNodePool", name, "pool_name", pool_name,
                 f"a pool name no other GpuNodePool on this cluster uses: {other!r} has the AKS pool {pool!r} (a "
                 "fallback is <pool_name>od); give this pool another pool_name")


def redundant_decline(name: str, pool: pulumi.Resource, installer: str) -> None:
    """A pool given install_device_software False on a cluster where another pool of this program installs it: either
    False is not needed (leave it out), or the cluster is another stack's and the installing pool lacks it too."""
    pulumi.log.warn(f"GpuNodePool {name}: install_device_software False changes nothing here: GpuNodePool "
                    f"{installer} installs the device software on the same cluster. If another stack installed it "
                    f"there, give {installer} install_device_software False too (a second installation fails on its "
                    "existing namespace); else leave it out", pool)


@called_as_documented
class GpuNodePool(pulumi.ComponentResource):
    """A tainted GPU AgentPool that scales to zero, spot with an optional on-demand fallback, and the NVIDIA software
    that makes `nvidia.com/gpu` schedulable (AKS driver + device plugin, or the GPU Operator)."""

    scheduling: GpuScheduling
    """Node selector, tolerations and GPU facts a GPU workload takes."""
    pool_names: pulumi.Output[list[str]]
    """AKS agent pool names (the spot or regular pool first, then the fallback)."""
    driver: pulumi.Output[str]
    """Who installs the NVIDIA driver: 'aks' or 'operator'."""

    def __init__(self, name: str, args: GpuNodePoolArgs, opts: Optional[pulumi.ResourceOptions] = None):
        args = check_shape("GpuNodePool", name, args, GpuNodePoolArgs)
        component = "GpuNodePool"
        sku = resolve_sku(args)
        driver = opt(args, "driver")
        spot = opt(args, "priority") == "spot"
        min_count = opt(args, "min_count")
        pool_name = opt(args, "pool_name")
        fallback = args.get("fallback") or GpuFallbackSpec(enabled=False, max_count=1)
        fallback_min = or_default(fallback.get("min_count"), 0)
        with_fallback = spot and fallback["enabled"]
        cluster = args["cluster"]
        may_install = opt(args, "install_device_software")
        if may_install or with_fallback:
            require_kubernetes_provider(opts, component, name)
        provider = kubernetes_provider(opts)
        key = cluster_key(provider) if provider is not None else None
        shared = installed_software().get(key) if key else None
        if shared is not None:
            check_shared_software(name, driver, sku, shared, args.get("mig_profile"))
        if with_fallback:
            check_one_ranking(name, shared)
        aks_pools = [pool_name, f"{pool_name}od"] if with_fallback else [pool_name]
        claim_pool_names(name, key, pool_name, aks_pools)
        super().__init__(f"{PACKAGE}:index:{component}", name, None, opts)
        # no warning for True: a generated SDK sends the schema's default (true) whenever the program leaves it out
        labels = gpu_labels(sku, pool_name)
        zones = [] if opt(args, "regional") else args.get("zones") or field(cluster, "zones")
        version = field(cluster, "kubernetes_version").apply(lambda v: v or None)
        channel = known(cluster, "upgrade_channel")  # unknown: AKS's own channel is assumed, the version left to it
        encryption = field(cluster, "encryption_at_host").apply(lambda e: True if e else None)
        ephemeral = field(cluster, "ephemeral_os_disk", False)
        drain_minutes = field(cluster, "drain_timeout_minutes", None)  # absent (a cluster made otherwise): AKS's
        # a fallback needs the priority expander, the pool a name the cluster's own pools do not have, and its own
        # zones a zonal location: a cluster handle that arrives as an output (another stack's) is checked once known,
        # before the pools register
        own_zones = ("location",) if args.get("zones") and not opt(args, "regional") else ()
        cluster_check = late_rules("GpuNodePool", name, args, "cluster",
                                   (*(EXPANDER_FIELDS if with_fallback else ()), "pool_names", *own_zones),
                                   GpuNodePoolArgs)

        def agent_pool(agent_pool_name: str, is_spot: bool, min_count: int, max_count: int) -> cs.AgentPool:
            # one pool write per cluster at a time, across every GpuNodePool of the run, after AksCluster's own pool
            # and network writes (pool_writes_after, network_writes_after: dependencies of the turn, not of an
            # input): AKS refuses a second operation and races on the network
            turn = Turn("gpu_node_pool.writes", pulumi.Output.all(field(cluster, "resource_group_name"),
                                                                 field(cluster, "cluster_name")),
                        ready=pulumi.Output.all(field(cluster, "pool_writes_after", None),
                                                field(cluster, "network_writes_after", None)))
            return turn.held_by(cs.AgentPool(
                f"{name}-{agent_pool_name}",
                resource_group_name=after_check(cluster_check, field(cluster, "resource_group_name")),
                resource_name_=field(cluster, "cluster_name"),
                agent_pool_name=agent_pool_name,
                mode=cs.AgentPoolMode.USER,
                # Ubuntu: both the AKS GPU images and the GPU Operator's driver containers support it
                **autoscaled_pool_args(NodePoolSpec(name=agent_pool_name, vm_size=sku.vm_size, min_count=min_count,
                                                    max_count=max_count,
                                                    os_disk_size_gb=opt(args, "os_disk_size_gb"),
                                                    max_pods=opt(args, "max_pods")),
                                       field(cluster, "node_subnet_id"),
                                       pulumi.Output.from_input(zones).apply(lambda z: list(z) or None),
                                       os_sku="Ubuntu", encryption_at_host=encryption, ephemeral_os_disk=ephemeral,
                                       version=version),
                **priority_args(is_spot, opt(args, "spot_max_price")),
                upgrade_settings=drain_minutes.apply(lambda minutes: upgrade_settings_args(
                    gpu_pool_upgrade(is_spot, args.get("upgrade_max_surge"), minutes))),
                node_taints=pool_taints(is_spot),
                node_labels=labels,
                gpu_instance_profile=cs.GPUInstanceProfile(args["mig_profile"]) if args.get("mig_profile") else None,
                gpu_profile=cs.GPUProfileArgs(
                    driver=cs.GPUDriver.NONE if driver == "operator" else cs.GPUDriver.INSTALL),
                tags=args.get("tags", {}),
                opts=pulumi.ResourceOptions(parent=self, ignore_changes=autoscaler_ignore_changes(channel, False),
                                            depends_on=turn.after),
            ))

        if key is not None and shared is None:
            shared = installed_software()[key] = ClusterGpuSoftware(driver=driver, rdma=sku.rdma, first_pool=name,
                                                                    mig=bool(args.get("mig_profile")))
        pools = [agent_pool(pool_name, spot, min_count, opt(args, "max_count"))]
        names = [pool_name]
        child = pulumi.ResourceOptions(parent=self)
        if with_fallback:
            fallback_name = f"{pool_name}od"
            pools.append(agent_pool(fallback_name, False, fallback_min, fallback["max_count"]))
            names.append(fallback_name)
            k8s.core.v1.ConfigMap(
                f"{name}-priority-expander",
                metadata=k8s.meta.v1.ObjectMetaArgs(name="cluster-autoscaler-priority-expander",
                                                    namespace="kube-system"),
                data={"priorities": priority_expander_config(pool_name, fallback_name)},
                opts=child)
            if shared is not None:
                shared.ranked_pool = name
        tolerations = gpu_tolerations()
        node_selector = pool_node_selector(pool_name)
        # Workloads wait for the first pool only: the autoscaler turns to the fallback after the spot pool has
        # failed to provision for max-node-provision-time, long after the fallback pool exists.
        # (by its URN, answered once the pool's step is done and known in a preview: by an output, a preview of the
        # pool's replacement showed every pod spec holding it changed; aks_cluster.py cpu_node_selector)
        waited_for: list[pulumi.Output] = [pools[0].urn]
        if shared is not None and key is not None and shared.status is None and may_install:
            shared.status = self._device_software(key[2], name, driver, sku.rdma,
                                                 args["cluster"], shared.mig).status
            shared.installer = name
            for declined, pool in shared.declined:
                redundant_decline(declined, pool, name)
        elif shared is not None and not may_install:
            # False is what a program adding a pool to a cluster whose device software another stack installed says
            # (a second installation collides with the first: pulumi-kubernetes >= 4.29.0 creates, and the API server
            # answers AlreadyExists for its namespace); here a pool of this program installs it anyway
            if shared.installer is not None:
                redundant_decline(name, self, shared.installer)
            else:
                shared.declined.append((name, self))
        if shared is not None and shared.status is not None:
            waited_for.append(shared.status)
        # Workloads that take the scheduling wait for the pools (a pod for a pool that does not exist stays Pending
        # with no autoscaler to help it) and for the driver software (operator mode: no GPU without it).
        pools_ready = pulumi.Output.all(*waited_for)
        units = gpu_units(sku, args.get("mig_profile"))  # a whole GPU, or one MIG instance, per nvidia.com/gpu
        self.scheduling = GpuScheduling(
            node_selector=pools_ready.apply(lambda _: node_selector),
            tolerations=pools_ready.apply(lambda _: tolerations),
            gpu_model=sku.gpu_model, gpus_per_node=units.gpus_per_node, gpu_memory_gib=units.gpu_memory_gib,
            driver=driver,
            rdma=sku.rdma)
        if mig_profile := args.get("mig_profile"):
            self.scheduling["mig_profile"] = mig_profile
        if with_fallback:  # for Observability's GpuFallbackNodesRunning
            self.scheduling["fallback_pool"] = fallback_name
            self.scheduling["fallback_min_count"] = fallback_min
        # for a model server's drain rule: its replicas on the nodes an upgrade drains at once share one budget
        self.scheduling["nodes_drained_at_once"] = gpu_nodes_drained_at_once(
            ([] if spot else [opt(args, "max_count")]) + ([fallback["max_count"]] if with_fallback else []),
            args.get("upgrade_max_surge"))
        self.pool_names = pools_ready.apply(lambda _: names)
        self.driver = pulumi.Output.from_input(driver)
        self.register_outputs({"scheduling": self.scheduling, "pool_names": self.pool_names, "driver": self.driver})

    def _device_software(self, cluster: str, name: str, driver: str, rdma: bool,
                         handle: pulumi.Input[ClusterHandle], mig: bool = False) -> k8s.helm.v3.Release:
        """The cluster's device plugin or GPU Operator, over every GPU node: named after the cluster (its Kubernetes
        provider), not the pool, so it keeps its URN whichever pool installs it (the first one declared, or the
        next when that one is removed); the alias carries over what a pool installed under its own name before."""
        def child(old: str) -> pulumi.ResourceOptions:
            return pulumi.ResourceOptions(parent=self, aliases=[pulumi.Alias(name=f"{name}-{old}")])
        tolerations = gpu_tolerations()
        # The DaemonSets wait for no pool: they schedule on GPU nodes whenever the autoscaler adds them.
        if driver == "aks":
            ns = namespace(f"{cluster}-device-plugin-ns", "nvidia-device-plugin", "privileged",
                           child("device-plugin-ns"))
            egress_guard(f"{cluster}-device-plugin-egress-guard", ns.metadata.name, pulumi.ResourceOptions(parent=self))
            return helm_release(f"{cluster}-device-plugin", NVIDIA_DEVICE_PLUGIN, ns.metadata.name,
                                device_plugin_values(tolerations, gpu_node_selector(), mig),
                                child("device-plugin"),
                                cluster=handle)
        ns = namespace(f"{cluster}-gpu-operator-ns", "gpu-operator", "privileged", child("gpu-operator-ns"))
        egress_guard(f"{cluster}-gpu-operator-egress-guard", ns.metadata.name, pulumi.ResourceOptions(parent=self))
        return helm_release(f"{cluster}-gpu-operator", GPU_OPERATOR, ns.metadata.name,
                            gpu_operator_values(tolerations, rdma), child("gpu-operator"), cluster=handle)
