"""The LLM inference platform on AKS, composed top to bottom.

Config is loaded and validated as a whole first; a bad config stops here with one message and nothing registered.
"""
from dataclasses import asdict

import pulumi

from components import kube
from components.aks_cluster import AksCluster
from components.gpu_node_pool import GpuNodePool
from components.model_store import ModelStore
from config import ConfigError, naming
from config.runtime import load_platform_config

try:
    cfg = load_platform_config()
except ConfigError as error:
    raise pulumi.RunError(str(error)) from None  # a clean message, no traceback

env, prefix = cfg.environment, cfg.prefix
cluster_cfg = cfg.cluster

cluster = AksCluster("platform", {
    "location": cfg.location,
    "cluster_name": naming.cluster_name(prefix, env),
    "resource_group_name": cfg.resource_group_name or naming.resource_group_name(prefix, env),
    "existing_resource_group": cfg.resource_group_name is not None,
    "vnet_name": naming.vnet_name(prefix, env),
    "network": asdict(cfg.network),
    "system_pool": asdict(cluster_cfg.system_pool),
    "workload_pool": asdict(cluster_cfg.workload_pool),
    "kubernetes_version": cluster_cfg.kubernetes_version,
    "tier": cluster_cfg.tier,
    "zones": list(cluster_cfg.zones),
    "dedicated_system_pool": cluster_cfg.dedicated_system_pool,
    "disable_local_accounts": cluster_cfg.disable_local_accounts,
    "admin_group_object_ids": list(cluster_cfg.admin_group_object_ids),
    "network_policy": cluster_cfg.network_policy,
    "upgrade_channel": cluster_cfg.upgrade_channel,
    "node_os_upgrade_channel": cluster_cfg.node_os_upgrade_channel,
    "maintenance_window": asdict(cluster_cfg.maintenance_window) if cluster_cfg.maintenance_window else None,
    "api_access_mode": cluster_cfg.api_access.mode,
    "authorized_ip_ranges": list(cluster_cfg.api_access.authorized_ip_ranges),
    "kubelogin_mode": cluster_cfg.kubelogin_mode,
    "grant_deployer_admin": cluster_cfg.grant_deployer_admin,
    "tags": cfg.tags,
})

gpu = None
if cfg.gpu.enabled:
    gpu = GpuNodePool("gpu", {
        "resource_group_name": cluster.resource_group_name,
        "cluster_name": cluster.cluster_name,
        "vnet_subnet_id": cluster.node_subnet_id,
        "kubernetes_provider": cluster.provider,
        "vm_size": cfg.gpu.vm_size,
        "pool_name": cfg.gpu.pool_name,
        "min_count": cfg.gpu.min_count,
        "max_count": cfg.gpu.max_count,
        "priority": cfg.gpu.priority,
        "spot_max_price": cfg.gpu.spot_max_price,
        "fallback": asdict(cfg.gpu.fallback),
        "driver": cfg.gpu.driver,
        "os_disk_size_gb": cfg.gpu.os_disk_size_gb,
        "max_pods": cfg.gpu.max_pods,
        "mig_profile": cfg.gpu.mig_profile,
        "zones": list(cfg.gpu.zones or cluster_cfg.zones),
        "tags": cfg.tags,
    })

inference_ns = kube.namespace("inference-ns", cfg.namespace, "baseline",
                              pulumi.ResourceOptions(provider=cluster.provider))

store_cfg = cfg.model_store
models = ModelStore("models", {
    "location": cfg.location,
    "resource_group_name": cluster.resource_group_name,
    "separate_resource_group": store_cfg.resource_group_name,
    "account_name": naming.storage_account_name(prefix, env, cfg.location),
    "allowed_subnet_ids": [cluster.node_subnet_id],
    "kubernetes_provider": cluster.provider,
    "namespace": inference_ns.metadata.name,
    "protocol": store_cfg.protocol,
    "size_gib": store_cfg.size_gib,
    "redundancy": store_cfg.redundancy,
    "protect": cfg.protect,
    "models": list(store_cfg.models),
    "preload": store_cfg.preload,
    "preload_dry_run": store_cfg.preload_dry_run,
    "preload_node_selector": cluster.cpu_node_selector,
    "tags": cfg.tags,
})

pulumi.export("resourceGroupName", cluster.resource_group_name)
pulumi.export("clusterName", cluster.cluster_name)
pulumi.export("oidcIssuerUrl", cluster.oidc_issuer_url)
pulumi.export("kubeconfig", cluster.kubeconfig)
pulumi.export("gpuPools", gpu.pool_names if gpu else [])
pulumi.export("gpuNodeSelector", gpu.node_selector if gpu else {})
pulumi.export("modelStorageAccount", models.storage_account_name)
pulumi.export("modelPvc", models.pvc_name)
pulumi.export("modelPreloadJob", models.preload_job_name)
