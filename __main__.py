"""The LLM inference platform on AKS, composed top to bottom.

Config is loaded and validated as a whole first; a bad config stops here with one message and nothing registered.
"""
from dataclasses import asdict

import pulumi

from llmplatform import kube
from pulumi_azure_native import resources

from llmplatform.aks_cluster import AksCluster
from llmplatform.azure_monitoring import AzureMonitoring
from llmplatform.gateway import ROUTES_LABEL, GatewayAccess
from llmplatform.gpu_node_pool import GpuNodePool
from llmplatform.inference_stack import InferenceStack
from llmplatform.key_vault import KeyVault
from llmplatform.inference_specs import OLLAMA_PORT, scaled_hosts
from llmplatform.model_autoscaler import ModelAutoscaler
from llmplatform.model_store import ModelStore
from llmplatform.observability import EXTERNAL_SCALER, INTERCEPTOR_HOST, INTERCEPTOR_PORT, KEDA_NS, Observability
from llmplatform.postgres import PostgresServer
from config import ConfigError, naming
from config.advisories import advisories
from config.runtime import load_platform_config

try:
    cfg = load_platform_config()
except ConfigError as error:
    raise pulumi.RunError(str(error)) from None  # a clean message, no traceback
for advisory in advisories(cfg):
    pulumi.log.warn(advisory)

env, prefix = cfg.environment, cfg.prefix
cluster_cfg, obs_cfg, scaling = cfg.cluster, cfg.observability, cfg.autoscaling

# The platform's resource group (or the one the stack names), shared by the cluster and its monitoring.
group_name = cfg.resource_group_name or naming.resource_group_name(prefix, env)
resource_group = group_name if cfg.resource_group_name else resources.ResourceGroup(
    "platform-rg", resource_group_name=group_name, location=cfg.location, tags=cfg.tags,
    opts=pulumi.ResourceOptions(protect=cfg.protect)).name  # it holds the database and the vault

monitoring = None
if obs_cfg.enabled:
    monitoring = AzureMonitoring("monitoring", {
        "location": cfg.location,
        "resource_group_name": resource_group,
        "name_prefix": f"{prefix}-{env}",
        "log_retention_days": obs_cfg.log_retention_days,
        "alert_emails": list(obs_cfg.alert_emails),
        "managed_grafana": obs_cfg.managed_grafana,
        "tags": cfg.tags,
    })

cluster = AksCluster("platform", {
    "location": cfg.location,
    "cluster_name": naming.cluster_name(prefix, env),
    "resource_group_name": resource_group,
    "existing_resource_group": True,
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
    "autoscaler_expander": "priority" if cfg.gpu.enabled and cfg.gpu.fallback.enabled else "least-waste",
    "log_analytics_workspace_id": monitoring.log_analytics_workspace_id if monitoring else None,
    "managed_prometheus": monitoring is not None,
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
                              pulumi.ResourceOptions(provider=cluster.provider), {ROUTES_LABEL: "true"})

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

vault = KeyVault("secrets", {
    "location": cfg.location,
    "resource_group_name": cluster.resource_group_name,
    "vault_name": naming.key_vault_name(prefix, env, cfg.location),
    "allowed_subnet_ids": [cluster.node_subnet_id],
    "soft_delete_retention_days": cfg.key_vault.soft_delete_retention_days,
    "purge_protection": cfg.key_vault.purge_protection,
    "public_network_access": cfg.key_vault.public_network_access,
    "private_endpoint_subnet_id": cluster.endpoints_subnet_id,
    "vnet_id": cluster.vnet_id,
    "protect": cfg.protect,
    "tags": cfg.tags,
})

pg_cfg = cfg.postgres
database = PostgresServer("postgres", {
    "location": cfg.location,
    "resource_group_name": cluster.resource_group_name,
    "server_name": naming.postgres_server_name(prefix, env, cfg.location),
    "delegated_subnet_id": cluster.postgres_subnet_id,
    "vnet_id": cluster.vnet_id,
    "key_vault": vault,
    "version": pg_cfg.version,
    "tier": pg_cfg.tier,
    "sku_name": pg_cfg.sku_name,
    "storage_size_gb": pg_cfg.storage_size_gb,
    "backup_retention_days": pg_cfg.backup_retention_days,
    "geo_redundant_backup": pg_cfg.geo_redundant_backup,
    "high_availability": pg_cfg.high_availability,
    "database": pg_cfg.database,
    "protect": cfg.protect,
    "tags": cfg.tags,
})

gw_cfg = cfg.gateway
gateway = None
if gw_cfg.mode != "none":
    gateway = GatewayAccess("gateway", {
        "kubernetes_provider": cluster.provider,
        "cpu_node_selector": cluster.cpu_node_selector,
        "location": cfg.location,
        "resource_group_name": cluster.resource_group_name,
        "name_prefix": f"{prefix}-{env}",
        "internal": gw_cfg.internal,
        "external": gw_cfg.external,
        "internal_ip": gw_cfg.internal_ip,
        "replicas": gw_cfg.replicas,
        "zones": list(cluster_cfg.zones),
        "tls_mode": gw_cfg.tls.mode,
        "tls_hostname": gw_cfg.tls.hostname,
        "tls_email": gw_cfg.tls.email,
        "protect": cfg.protect,
        "tags": cfg.tags,
    })

inf = cfg.inference
scale_requests = scaling.mode == "requests"
stack = InferenceStack("inference", {
    "kubernetes_provider": cluster.provider,
    "namespace": inference_ns.metadata.name,
    "location": cfg.location,
    "resource_group_name": cluster.resource_group_name,
    "oidc_issuer_url": cluster.oidc_issuer_url,
    "name_prefix": f"{prefix}-{env}",
    "key_vault": vault,
    "database_url_secret": database.database_url_secret,
    "models_pvc_name": models.pvc_name,
    "models_mount_path": models.mount_path,
    "cpu_node_selector": cluster.cpu_node_selector,
    "gpu_node_selector": gpu.node_selector if gpu else {},
    "gpu_tolerations": gpu.tolerations if gpu else [],
    "accelerator": inf.accelerator,
    "replicas": inf.replicas,
    "resources": asdict(inf.resources),
    "gpus_per_replica": inf.gpus_per_replica,
    "num_parallel": inf.num_parallel,
    "keep_alive": inf.keep_alive,
    "max_loaded_models": inf.max_loaded_models,
    "webui_enabled": cfg.webui.enabled,
    "webui_replicas": cfg.webui.replicas,
    "webui_max_replicas": cfg.webui.max_replicas,
    "webui_resources": asdict(cfg.webui.resources),
    "webui_uploads_size_gib": cfg.webui.uploads_size_gib,
    "gateway_namespace": gateway.namespace if gateway else None,
    "gateways": gateway.gateways if gateway else {},
    "gateway_ready": gateway.ready if gateway else [],
    "rate_limit_per_second": gw_cfg.rate_limit_per_second,
    "rate_limit_burst": gw_cfg.rate_limit_burst,
    "api_key_auth": gw_cfg.api_key_auth,
    "request_timeout_seconds": gw_cfg.request_timeout_seconds,
    "trusted_proxy_cidrs": [cluster.pod_cidr],
    "autoscaled": scaling.mode != "none",
    "scaled_access": {"host": INTERCEPTOR_HOST, "port": INTERCEPTOR_PORT, "namespace": KEDA_NS}
    if scale_requests else None,
    "tags": cfg.tags,
})

observability = None
if monitoring is not None:
    observability = Observability("observability", {
        "kubernetes_provider": cluster.provider,
        "cpu_node_selector": cluster.cpu_node_selector,
        "location": cfg.location,
        "resource_group_name": resource_group,
        "name_prefix": f"{prefix}-{env}",
        "cluster_id": cluster.cluster_id,
        "cluster_name": cluster.cluster_name,
        "log_analytics_workspace_id": monitoring.log_analytics_workspace_id,
        "monitor_workspace_id": monitoring.monitor_workspace_id,
        "action_group_id": monitoring.action_group_id,
        "key_vault": vault,
        "app_namespace": cfg.namespace,
        "postgres_server_id": database.server_id,
        "gpu_enabled": gpu is not None,
        "gpu_driver": cfg.gpu.driver,
        "gpu_node_selector": gpu.node_selector if gpu else {},
        "gpu_tolerations": gpu.tolerations if gpu else [],
        "gateway_namespace": gateway.namespace if gateway else None,
        "keda": scale_requests,
        "prometheus_retention": obs_cfg.prometheus_retention,
        "prometheus_storage_gib": obs_cfg.prometheus_storage_gib,
        "grafana_storage_gib": obs_cfg.grafana_storage_gib,
        "latency_slo_seconds": obs_cfg.latency_slo_seconds,
        "error_ratio_slo": obs_cfg.error_ratio_slo,
        "gpu_memory_alert_percent": obs_cfg.gpu_memory_alert_percent,
        "vllm_dashboard": obs_cfg.vllm_dashboard,
        "request_timeout_seconds": gw_cfg.request_timeout_seconds,
        "cold_start_timeout_seconds": scaling.cold_start_timeout_seconds,
        "tags": cfg.tags,
    })

if scaling.mode != "none":
    ModelAutoscaler("ollama-autoscaler", {
        "kubernetes_provider": cluster.provider,
        "namespace": cfg.namespace,
        "deployment": "ollama",
        "service": "ollama",
        "port": OLLAMA_PORT,
        "mode": scaling.mode,
        "min_replicas": scaling.min_replicas,
        "max_replicas": scaling.max_replicas,
        "accelerator": inf.accelerator,
        "hosts": scaled_hosts(cfg.namespace),
        "target_in_flight": scaling.target_in_flight,
        "gpu_memory_target_percent": scaling.gpu_memory_target_percent,
        "cpu_target_percent": scaling.cpu_target_percent,
        "scale_down_stabilization_seconds": scaling.scale_down_stabilization_seconds,
        "request_timeout_seconds": gw_cfg.request_timeout_seconds,
        "cold_start_timeout_seconds": scaling.cold_start_timeout_seconds,
        "prometheus_url": observability.prometheus_url if observability else "",
        "external_scaler": EXTERNAL_SCALER,
        "depends_on": [stack, inference_ns] + (observability.keda_ready + observability.ready if observability else []),
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
pulumi.export("keyVaultName", vault.vault_name)
pulumi.export("postgresFqdn", database.fqdn)
pulumi.export("apiKeySecret", stack.api_key_secret)
pulumi.export("gatewayInternalAddress", gateway.internal_address if gateway else None)
pulumi.export("gatewayExternalAddress", gateway.external_address if gateway else None)
pulumi.export("webUiUrl", gateway.ui_url if gateway else None)
pulumi.export("modelApiUrl", gateway.api_url if gateway else None)
pulumi.export("grafana", observability.grafana_service if observability else None)
pulumi.export("grafanaPasswordSecret", observability.grafana_password_secret if observability else None)
pulumi.export("managedGrafanaUrl", monitoring.grafana_endpoint if monitoring else None)
