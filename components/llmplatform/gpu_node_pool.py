"""GpuNodePool: a tainted GPU AgentPool that scales to zero, spot with an optional on-demand fallback pool, and the
NVIDIA software that makes `nvidia.com/gpu` schedulable (AKS driver + device plugin, or the GPU Operator)."""
from __future__ import annotations

from typing import Any, Optional, TypedDict

import pulumi
import pulumi_kubernetes as k8s
import yaml
from pulumi_azure_native import containerservice as cs
from typing_extensions import NotRequired

from .pins import GPU_OPERATOR, NVIDIA_DEVICE_PLUGIN
from .gpu_skus import GpuSku, find_gpu_sku

from . import PACKAGE
from .aks_cluster import NodePoolSpec, autoscaled_pool_args
from .kube import helm_release, namespace

GPU_TAINT = "nvidia.com/gpu=present:NoSchedule"
SPOT_TAINT = "kubernetes.azure.com/scalesetpriority=spot:NoSchedule"  # AKS puts this on every spot node
ACCELERATOR_LABEL = "llm-platform/accelerator"


class GpuFallbackSpec(TypedDict):
    enabled: bool
    min_count: int
    max_count: int


class GpuNodePoolArgs(TypedDict):
    resource_group_name: pulumi.Input[str]
    cluster_name: pulumi.Input[str]
    vnet_subnet_id: pulumi.Input[str]
    kubernetes_provider: k8s.Provider
    vm_size: str
    pool_name: NotRequired[str]
    min_count: NotRequired[int]
    max_count: NotRequired[int]
    priority: NotRequired[str]  # spot | regular
    spot_max_price: NotRequired[float]
    fallback: NotRequired[GpuFallbackSpec]
    driver: NotRequired[str]  # aks | operator
    os_disk_size_gb: NotRequired[int]
    max_pods: NotRequired[int]
    mig_profile: NotRequired[Optional[str]]
    zones: NotRequired[list[str]]
    kubernetes_version: NotRequired[Optional[str]]
    tags: NotRequired[dict[str, str]]


def gpu_labels(sku: GpuSku) -> dict[str, str]:
    return {ACCELERATOR_LABEL: "nvidia", "llm-platform/gpu-model": sku.gpu_model.lower(), "llm-platform/pool": "gpu"}


def gpu_node_selector() -> dict[str, str]:
    """Matches the spot pool and its on-demand fallback alike."""
    return {ACCELERATOR_LABEL: "nvidia"}


def pool_taints(spot: bool) -> list[str]:
    # The spot taint is declared although AKS adds it itself, so Pulumi sees no drift on the next run.
    return [GPU_TAINT, SPOT_TAINT] if spot else [GPU_TAINT]


def gpu_tolerations() -> list[dict[str, str]]:
    """What a GPU workload needs to land on either pool: the GPU taint and the spot taint."""
    return [
        {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"},
        {"key": "kubernetes.azure.com/scalesetpriority", "operator": "Equal", "value": "spot",
         "effect": "NoSchedule"},
    ]


def priority_expander_config(spot_pool: str, fallback_pool: str) -> str:
    """cluster-autoscaler priority expander: the higher number wins, so spot is tried before on-demand.

    AKS node groups are VMSS named aks-<pool>-<id>-vmss; the hyphens keep `gpu` from also matching `gpuod`.
    Pools not listed (the CPU pools) fall to the catch-all at the lowest priority.
    """
    return yaml.safe_dump({10: [".*"], 20: [f".*-{fallback_pool}-.*"], 30: [f".*-{spot_pool}-.*"]})


def device_plugin_values(tolerations: list[dict[str, str]], node_selector: dict[str, str]) -> dict[str, Any]:
    # Without NFD the chart's default affinity (NFD labels) matches no node. Helm merges maps but replaces lists,
    # so our own nodeSelectorTerms replace the default ones rather than adding to them.
    terms = [{"matchExpressions": [{"key": k, "operator": "In", "values": [v]} for k, v in node_selector.items()]}]
    return {
        "tolerations": tolerations,
        "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": terms}}},
        "gfd": {"enabled": False},
    }


def gpu_operator_values(tolerations: list[dict[str, str]], rdma: bool) -> dict[str, Any]:
    return {
        "driver": {"enabled": True, "rdma": {"enabled": rdma}},
        "toolkit": {"enabled": True},
        "daemonsets": {"tolerations": tolerations},
        "node-feature-discovery": {"worker": {"tolerations": tolerations}},
        # Observability installs the ServiceMonitor CRD and its own DCGM exporter scrape config.
        "dcgmExporter": {"serviceMonitor": {"enabled": False}},
        "operator": {"nodeSelector": {"kubernetes.io/os": "linux"}},
    }


class GpuNodePool(pulumi.ComponentResource):
    pool_names: list[str]
    """AKS agent pool names (the spot or regular pool first, then the fallback)."""
    node_selector: dict[str, str]
    """Node selector for GPU workloads; the same on the spot and the fallback pool."""
    tolerations: list[dict[str, str]]
    """Tolerations for GPU workloads (GPU taint and spot taint)."""
    gpu_sku: GpuSku
    """Catalog entry of the pool's VM size."""
    driver: str
    """Who installs the NVIDIA driver: 'aks' or 'operator'."""

    def __init__(self, name: str, args: GpuNodePoolArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__(f"{PACKAGE}:index:GpuNodePool", name, None, opts)
        sku = find_gpu_sku(args["vm_size"])
        if sku is None:
            raise ValueError(f"GpuNodePool {name}: vm_size {args['vm_size']!r} is not in the GPU SKU catalog")
        self.gpu_sku = sku
        self.driver = args.get("driver", "aks")
        if self.driver not in ("aks", "operator"):
            raise ValueError(f"GpuNodePool {name}: driver {self.driver!r} must be 'aks' or 'operator'")
        spot = args.get("priority", "spot") == "spot"
        pool_name = args.get("pool_name", "gpu")
        fallback = args.get("fallback") or GpuFallbackSpec(enabled=False, min_count=0, max_count=1)
        labels = gpu_labels(sku)
        provider_opts = pulumi.ResourceOptions(parent=self, provider=args["kubernetes_provider"])

        def agent_pool(agent_pool_name: str, is_spot: bool, min_count: int, max_count: int) -> cs.AgentPool:
            return cs.AgentPool(
                f"{name}-{agent_pool_name}",
                resource_group_name=args["resource_group_name"],
                resource_name_=args["cluster_name"],
                agent_pool_name=agent_pool_name,
                mode=cs.AgentPoolMode.USER,
                # Ubuntu: both the AKS GPU images and the GPU Operator's driver containers support it
                **autoscaled_pool_args(NodePoolSpec(name=agent_pool_name, vm_size=sku.vm_size, min_count=min_count,
                                                    max_count=max_count,
                                                    os_disk_size_gb=args.get("os_disk_size_gb", 128),
                                                    max_pods=args.get("max_pods", 30)),
                                       args["vnet_subnet_id"], args.get("zones") or None, os_sku="Ubuntu"),
                scale_set_priority=cs.ScaleSetPriority.SPOT if is_spot else cs.ScaleSetPriority.REGULAR,
                scale_set_eviction_policy=cs.ScaleSetEvictionPolicy.DELETE if is_spot else None,
                spot_max_price=args.get("spot_max_price", -1.0) if is_spot else None,
                node_taints=pool_taints(is_spot),
                node_labels=labels,
                gpu_instance_profile=cs.GPUInstanceProfile(args["mig_profile"]) if args.get("mig_profile") else None,
                gpu_profile=cs.GPUProfileArgs(
                    driver=cs.GPUDriver.NONE if self.driver == "operator" else cs.GPUDriver.INSTALL),
                orchestrator_version=args.get("kubernetes_version"),
                tags=args.get("tags", {}),
                opts=pulumi.ResourceOptions(parent=self, ignore_changes=["count", "orchestratorVersion"]),
            )

        pools = [agent_pool(pool_name, spot, args.get("min_count", 0), args.get("max_count", 1))]
        if spot and fallback["enabled"]:
            fallback_name = f"{pool_name}od"
            pools.append(agent_pool(fallback_name, False, fallback["min_count"], fallback["max_count"]))
            k8s.core.v1.ConfigMap(
                f"{name}-priority-expander",
                metadata=k8s.meta.v1.ObjectMetaArgs(name="cluster-autoscaler-priority-expander",
                                                    namespace="kube-system"),
                data={"priorities": priority_expander_config(pool_name, fallback_name)},
                opts=provider_opts)
        self.pool_names = [pool_name] + ([f"{pool_name}od"] if len(pools) > 1 else [])
        self.node_selector = gpu_node_selector()
        self.tolerations = gpu_tolerations()

        after_pools = pulumi.ResourceOptions(parent=self, provider=args["kubernetes_provider"], depends_on=pools)
        if self.driver == "aks":
            ns = namespace(f"{name}-device-plugin-ns", "nvidia-device-plugin", "privileged", provider_opts)
            helm_release(f"{name}-device-plugin", NVIDIA_DEVICE_PLUGIN, ns.metadata.name,
                         device_plugin_values(self.tolerations, self.node_selector), after_pools)
        else:
            ns = namespace(f"{name}-gpu-operator-ns", "gpu-operator", "privileged", provider_opts)
            helm_release(f"{name}-gpu-operator", GPU_OPERATOR, ns.metadata.name,
                         gpu_operator_values(self.tolerations, sku.rdma), after_pools)

        self.register_outputs({"pool_names": self.pool_names, "node_selector": self.node_selector,
                               "tolerations": self.tolerations, "driver": self.driver})
