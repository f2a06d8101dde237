"""Stack config -> component inputs: the program's mapping layer (not shipped with the package).

Only values the stack decides are set here; wiring between components travels in the handles they hand out.
Keys are left out where the config holds no value, so the component's own default applies.
"""
import functools
from dataclasses import asdict
from typing import Any, NamedTuple, Optional, TypedDict, cast

import pulumi
from pulumi_azure_native import authorization

from llmplatform import (AksClusterArgs, AppNamespaceArgs, GatewayAccessArgs, GpuNodePoolArgs, InferenceStackArgs,
                         LlmdStackArgs, ObservabilityArgs, OpenWebUiArgs, PostgresServerArgs)
from llmplatform.front_door import API_KEY_MAP_SECRET, API_KEY_SECRET, PROBE_PATHS
from llmplatform.handles import ClusterHandle, KedaEndpoints, ModelVolume, VaultHandle

from . import resource_names
from .platform_config import PlatformConfig
from .sections.inference import effective_warm_model
from .sections.resources import ResourcesConfig
from .sections.webui import WebUiConfig, llmd_webui_namespace_name


def _present(values: dict[str, Any]) -> dict[str, Any]:
    """Drop keys whose config value is None (the component's default applies). A type checker cannot follow a key
    dropped by value, so each caller casts the result to the Args it builds (the component checks them at run time)."""
    return {k: v for k, v in values.items() if v is not None}


class Diagnostics(TypedDict, total=False):
    """The data services' diagnostic settings input (ModelStore, KeyVault, PostgresServer take it by this name)."""

    log_analytics_workspace_id: pulumi.Input[str]


class UniqueNames(NamedTuple):
    """The names Azure wants unique across every subscription (each becomes a DNS name)."""

    storage_account: pulumi.Input[str]
    key_vault: pulumi.Input[str]
    postgres_server: pulumi.Input[str]
    grafana: pulumi.Input[str]
    """Managed Grafana's workspace (unique in the tenant at least: NameNotUnique)."""


def unique_names(cfg: PlatformConfig) -> UniqueNames:
    """Hashed with the deploying subscription's id, which the Azure provider's getClientConfig answers in a preview
    too; with `legacyGlobalNames`, from the prefix, environment and region alone (config/resource_names.py)."""
    derive = (resource_names.storage_account_name, resource_names.key_vault_name, resource_names.postgres_server_name,
              resource_names.grafana_name)
    if cfg.legacy_global_names:
        return UniqueNames(*(name(cfg.prefix, cfg.environment, cfg.location) for name in derive))
    subscription = authorization.get_client_config_output().subscription_id
    return UniqueNames(*(subscription.apply(functools.partial(name, cfg.prefix, cfg.environment, cfg.location))
                         for name in derive))


def _resources(res: ResourcesConfig) -> dict[str, str]:
    return _present(asdict(res))


def aks_cluster_args(cfg: PlatformConfig, resource_group: pulumi.Input[str], monitoring: Any) -> AksClusterArgs:
    c = cfg.cluster
    window = asdict(c.maintenance_window) if c.maintenance_window else None
    return cast(AksClusterArgs, _present({
        "location": cfg.location,
        "cluster_name": resource_names.cluster_name(cfg.prefix, cfg.environment),
        "resource_group_name": resource_group,
        "existing_resource_group": True,
        "vnet_name": resource_names.vnet_name(cfg.prefix, cfg.environment),
        "network": asdict(cfg.network),
        "system_pool": asdict(c.system_pool),
        "workload_pool": asdict(c.workload_pool),
        "kubernetes_version": c.kubernetes_version,
        "tier": c.tier,
        "zones": list(c.zones),
        "dedicated_system_pool": c.dedicated_system_pool,
        "disable_local_accounts": c.disable_local_accounts,
        "admin_group_object_ids": list(c.admin_group_object_ids),
        "network_policy": c.network_policy,
        "upgrade_channel": c.upgrade_channel,
        "node_os_upgrade_channel": c.node_os_upgrade_channel,
        "maintenance_window": window,
        "api_access_mode": c.api_access.mode,
        "authorized_ip_ranges": list(c.api_access.authorized_ip_ranges),
        "kubelogin_mode": c.kubelogin_mode,
        "grant_deployer_admin": c.grant_deployer_admin,
        "deployer_principal_type": c.deployer_principal_type,
        "image_registry": c.image_registry,
        "image_registry_id": c.image_registry_id,
        # GpuNodePool refuses a fallback pool on a cluster without the priority expander
        "autoscaler_expander": "priority" if cfg.gpu.enabled and cfg.gpu.fallback.enabled else "least-waste",
        # upgrades and scale-downs wait for the longest answer the stack allows (docs/decisions.md, "Node drains")
        "drain_timeout_minutes": cfg.drain_timeout_minutes,
        "log_analytics_workspace_id": monitoring.log_analytics_workspace_id if monitoring else None,
        "managed_prometheus": monitoring is not None,
        "azure_policy": cfg.security.azure_policy, "defender": cfg.security.defender and monitoring is not None,
        "encryption_at_host": cfg.security.encryption_at_host,
        "ephemeral_os_disk": cfg.security.ephemeral_os_disk,
        "tags": cfg.tags,
    }))


def gpu_pool_args(cfg: PlatformConfig, cluster: ClusterHandle) -> GpuNodePoolArgs:
    g = cfg.gpu
    return cast(GpuNodePoolArgs, _present({
        "cluster": cluster, "vm_size": g.vm_size, "pool_name": g.pool_name, "min_count": g.min_count,
        "max_count": g.max_count, "priority": g.priority, "spot_max_price": g.spot_max_price,
        "fallback": asdict(g.fallback), "upgrade_max_surge": g.upgrade_max_surge, "driver": g.driver,
        "os_disk_size_gb": g.os_disk_size_gb,
        "max_pods": g.max_pods, "mig_profile": g.mig_profile, "zones": list(g.zones) or None,
        "regional": g.regional, "tags": cfg.tags,
    }))


def diagnostics(cfg: PlatformConfig, monitoring: Any) -> Diagnostics:
    """The data services' diagnostic settings input, when the stack turns them on."""
    if cfg.security.diagnostics and monitoring is not None:
        return {"log_analytics_workspace_id": monitoring.log_analytics_workspace_id}
    return {}


def postgres_args(cfg: PlatformConfig, cluster: ClusterHandle, vault: VaultHandle, server_name: pulumi.Input[str],
                  monitoring: Any = None) -> PostgresServerArgs:
    p = cfg.postgres
    args: PostgresServerArgs = {
        "cluster": cluster, "key_vault": vault, "server_name": server_name,
        **diagnostics(cfg, monitoring),
        "version": p.version, "tier": p.tier, "sku_name": p.sku_name, "storage_size_gb": p.storage_size_gb,
        "backup_retention_days": p.backup_retention_days, "geo_redundant_backup": p.geo_redundant_backup,
        "high_availability": p.high_availability, "check_region_offers": p.check_region_offers,
        "database": p.database, "tags": cfg.tags,
    }
    if p.entra_admin_group_id and p.entra_admin_group_name is not None:  # the config takes both or neither
        args["entra_admin_group"] = {"object_id": p.entra_admin_group_id, "display_name": p.entra_admin_group_name}
    return args


def model_server_floors(cfg: PlatformConfig) -> dict[str, int]:
    """The fewest replicas each namespace's model servers keep: Ollama's autoscaler minimum (a ScaledObject's
    minReplicaCount, an HPA's minReplicas: 1 or more outside mode requests) or, without one, its fixed count; vLLM's
    (llmd.minReplicas under llmd.autoscaling, else its replicas, the prefill Deployment's too)."""
    floors = {cfg.namespace: cfg.autoscaling.min_replicas if cfg.autoscaling.mode != "none" else cfg.inference.replicas}
    if cfg.llmd.enabled:
        llmd = cfg.llmd
        decode = llmd.min_replicas if llmd.autoscaling else llmd.replicas
        floors[llmd.namespace] = min(decode, llmd.prefill_replicas) if llmd.prefill_decode else decode
    return floors


def observability_args(cfg: PlatformConfig, cluster: ClusterHandle, monitoring: Any, vault: VaultHandle,
                       database: Any, gpu: Any, gateway: Any, models: Any = None) -> ObservabilityArgs:
    o = cfg.observability
    return cast(ObservabilityArgs, _present({
        "cluster": cluster, "monitoring": monitoring, "key_vault": vault, "app_namespace": cfg.namespace,
        "vllm_namespaces": [cfg.llmd.namespace] if cfg.llmd.enabled else None,
        "model_server_min_replicas": model_server_floors(cfg),
        "name_prefix": f"{cfg.prefix}-{cfg.environment}", "postgres_server_id": database.server_id if database else None,
        "model_share": models.share if models else None,
        "gpu": gpu.scheduling if gpu else None, "route_target": gateway.route_target if gateway else None,
        "keda": cfg.runs_keda,
        "cert_manager": bool(gateway) and cfg.gateway.tls.mode == "letsencrypt",
        "prometheus_retention": o.prometheus_retention, "prometheus_storage_gib": o.prometheus_storage_gib,
        "grafana_storage_gib": o.grafana_storage_gib, "latency_slo_seconds": o.latency_slo_seconds,
        "error_ratio_slo": o.error_ratio_slo, "gpu_memory_alert_percent": o.gpu_memory_alert_percent,
        "gpu_fallback_alert_hours": o.gpu_fallback_alert_hours,
        "vllm_dashboard": o.vllm_dashboard or cfg.llmd.enabled,
        "client_namespaces": list(o.client_namespaces) or None,
        "alert_receiver": {"kind": o.alert_receiver.kind, "secret": o.alert_receiver.secret}
        if o.alert_receiver.kind else None,
        "request_timeout_seconds": cfg.gateway.request_timeout_seconds,
        "cold_start_timeout_seconds": cfg.autoscaling.cold_start_timeout_seconds,
        "interceptor_replicas": cfg.autoscaling.interceptor_replicas, "tags": cfg.tags,
        "insights_agent_config": o.insights_agent_config, "insights_agent_settings": o.insights_agent_settings or None,
    }))


def inference_args(cfg: PlatformConfig, cluster: ClusterHandle, vault: VaultHandle, volume: ModelVolume,
                   database: Any, gpu: Any, gateway: Any, keda: Optional[KedaEndpoints]) -> InferenceStackArgs:
    inf, ui, gw = cfg.inference, cfg.webui, cfg.gateway
    return cast(InferenceStackArgs, _present({
        "cluster": cluster, "key_vault": vault, "model_volume": volume,
        "database_url_secret": database.database_url_secret if database else None,
        "admin_database_url_secret": database.admin_database_url_secret if database else None,
        "database_name": database.database if database else None,  # the Jobs and pods follow a new database
        "database_sku_name": cfg.postgres.sku_name if database else None,
        "gpu": gpu.scheduling if gpu else None, "route_target": gateway.route_target if gateway else None,
        "keda": keda, "name_prefix": f"{cfg.prefix}-{cfg.environment}",
        "accelerator": inf.accelerator, "replicas": inf.replicas, "resources": _resources(inf.resources),
        "gpus_per_replica": inf.gpus_per_replica, "num_parallel": inf.num_parallel, "keep_alive": inf.keep_alive,
        "max_loaded_models": inf.max_loaded_models, "context_length": inf.context_length,
        "warm_model": effective_warm_model(inf, cfg.model_store),
        # with backend llmd the stack's one UI fronts llm-d instead (llmd_webui_args)
        "webui_enabled": ui.enabled and ui.backend == "ollama", "webui_replicas": ui.replicas,
        "webui_max_replicas": ui.max_replicas,
        "webui_resources": _resources(ui.resources), "webui_uploads_size_gib": ui.uploads_size_gib,
        "webui_uploads_tier": ui.uploads_tier, **webui_users(ui, "webui_"),
        "rate_limit_per_second": gw.rate_limit_per_second, "rate_limit_burst": gw.rate_limit_burst,
        "api_key_auth": gw.api_key_auth, "request_timeout_seconds": gw.request_timeout_seconds,
        "api_client_namespaces": list(gw.client_namespaces) or None,
        "webui_client_namespaces": list(ui.client_namespaces) or None, **edge_keys(cfg),
        "cold_start_timeout_seconds": cfg.autoscaling.cold_start_timeout_seconds,
        "autoscaled": cfg.autoscaling.mode != "none", "tags": cfg.tags,
    }))


def llmd_webui_namespace(cfg: PlatformConfig) -> Optional[str]:
    """Where the llm-d stack's Open-WebUI runs when not in llm-d's namespace: under prefill/decode that namespace
    enforces Pod Security `privileged` (vLLM's IPC_LOCK), and the UI (published on the Gateways, its admins' pod
    rights) keeps out of it, in `<llmd.namespace>-webui` at `baseline`; None otherwise (llm-d's own, `baseline`,
    where it has always run: moving it would replace its uploads claim and the files on it)."""
    llmd = cfg.llmd
    if not (llmd.enabled and llmd.prefill_decode and cfg.webui.enabled and cfg.webui.backend == "llmd"):
        return None
    return llmd_webui_namespace_name(llmd)


def llmd_webui_namespace_args(name: str, gateway: Any) -> AppNamespaceArgs:
    """The llm-d UI's own namespace (llmd_webui_namespace): `baseline` (the UI's image runs as root: not
    `restricted`), its routes attachable to the Gateways' UI listener, its pods off the node's metadata service, every
    ingress denied that the UI's own policies do not admit (as llm-d's `default-deny` held it there)."""
    return cast(AppNamespaceArgs, _present({
        "namespace": name, "pod_security": "baseline", "egress_guard": True, "deny_ingress": True,
        "route_target": gateway.route_target if gateway else None}))


def llmd_webui_args(cfg: PlatformConfig, cluster: ClusterHandle, vault: VaultHandle, llmd: Any, database: Any,
                    gateway: Any, namespace: Any = None) -> OpenWebUiArgs:
    """Open-WebUI in front of the llm-d model, through its API gate's keyless listener for the UI (webui.backend
    llmd: llmd_args turns it on), so the UI mounts no key; in llm-d's namespace, or in `namespace` (an AppNamespace's,
    llmd_webui_namespace: under prefill/decode)."""
    ui = cfg.webui
    return cast(OpenWebUiArgs, _present({
        "cluster": cluster, "key_vault": vault, "endpoint": llmd.ui_endpoint, "namespace": namespace,
        "database_url_secret": database.database_url_secret,
        "admin_database_url_secret": database.admin_database_url_secret, "database_name": database.database,
        "database_sku_name": cfg.postgres.sku_name,
        "route_target": gateway.route_target if gateway else None,
        "name_prefix": f"{cfg.prefix}-{cfg.environment}-llmd", "replicas": ui.replicas,
        "max_replicas": ui.max_replicas, "resources": _resources(ui.resources),
        "uploads_size_gib": ui.uploads_size_gib, "uploads_tier": ui.uploads_tier, **webui_users(ui, ""),
        "client_namespaces": list(ui.client_namespaces) or None,
        "request_timeout_seconds": cfg.gateway.request_timeout_seconds, "tags": cfg.tags,
    }))


def webui_users(ui: WebUiConfig, prefix: str) -> dict[str, Any]:
    """Open-WebUI's users, models and extra settings, as InferenceStack (`webui_*`) or OpenWebUi names them."""
    return {f"{prefix}{k}": v for k, v in {
        "model_access": ui.model_access, "enable_signup": ui.enable_signup,
        "default_user_role": ui.default_user_role, "admin_email": ui.admin_email,
        "extra_env": dict(ui.extra_env), "secret_env": dict(ui.secret_env)}.items()}


def gateway_args(cfg: PlatformConfig, cluster: ClusterHandle) -> GatewayAccessArgs:
    g = cfg.gateway
    return cast(GatewayAccessArgs, _present({
        "cluster": cluster, "name_prefix": f"{cfg.prefix}-{cfg.environment}", "internal": g.internal,
        "external": g.external, "internal_ip": g.internal_ip, "replicas": g.replicas, "tls_mode": g.tls.mode,
        "tls_hostname": g.tls.hostname if g.tls.mode != "none" else None,
        "tls_email": g.tls.email if g.tls.mode != "none" else None,
        "inference_extension": cfg.llmd.enabled, "tags": cfg.tags,
        # behind the global endpoint only Front Door's edge may reach the region, and only this Front Door profile
        # (X-Azure-FDID; nothing at all until edge.frontDoorId is set); its health probes pass on their paths
        "allowed_service_tags": ["AzureFrontDoor.Backend"] if cfg.edge.enabled else None,
        "front_door_id": cfg.edge.front_door_id if cfg.edge.enabled else None,
        "front_door_probe_paths": sorted(set(PROBE_PATHS.values())) if cfg.edge.enabled else None,
    }))


def edge_keys(cfg: PlatformConfig) -> dict[str, Any]:
    """A region that has joined its global edge accepts the edge's one key set (written by the global stack), on
    every API gate it runs: Ollama's and llm-d's. One waiting for its edge (edge.enabled, no frontDoorId yet) keeps
    each gate's own key out of prod's protect: joining deletes it."""
    if not cfg.gateway.api_key_auth:
        return {}
    if cfg.edge.joined:
        return {"api_key_map_secret": API_KEY_MAP_SECRET, "api_key_secret": API_KEY_SECRET}
    return {"api_key_replaceable": True} if cfg.edge.enabled else {}


def llmd_args(cfg: PlatformConfig, cluster: ClusterHandle, gpu: Any, gateway: Any,
              vault: VaultHandle, keda: Optional[KedaEndpoints] = None,
              prometheus_url: Any = None) -> LlmdStackArgs:
    m, gw = cfg.llmd, cfg.gateway
    return cast(LlmdStackArgs, _present({
        "cluster": cluster, "gpu": gpu.scheduling, "route_target": gateway.route_target, "model": m.model,
        "namespace": m.namespace, "key_vault": vault, "hf_token_secret": m.hf_token_secret,
        "tensor_parallel_size": m.tensor_parallel_size,
        "replicas": m.replicas, "model_memory_gib": m.model_memory_gib, "max_model_len": m.max_model_len,
        "model_cache_gib": m.model_cache_gib, "prefill_decode": m.prefill_decode, "failure_mode": m.failure_mode,
        "prefill_replicas": m.prefill_replicas if m.prefill_decode else None,
        "prefill_tensor_parallel_size": m.prefill_tensor_parallel_size if m.prefill_decode else None,
        "expose_externally": m.expose_externally, "api_key_auth": gw.api_key_auth, **edge_keys(cfg),
        "client_namespaces": list(gw.client_namespaces) or None, "autoscaling": m.autoscaling,
        # the UI on llm-d calls a listener of its own, without a key (llmd_webui_args)
        "ui_listener": cfg.webui.enabled and cfg.webui.backend == "llmd",
        # under prefill/decode the UI runs in a namespace of its own, whose UI pods alone that listener admits
        "ui_namespace": llmd_webui_namespace(cfg),
        # read with autoscaling alone (LlmdStack names them ignored otherwise; the stack's advisory names the keys)
        **({"min_replicas": m.min_replicas, "max_replicas": m.max_replicas,
            "scale_up_stabilization_seconds": m.scale_up_stabilization_seconds,
            "scale_down_stabilization_seconds": m.scale_down_stabilization_seconds} if m.autoscaling else {}),
        "keda": keda if m.autoscaling else None,
        "rate_limit_per_second": gw.rate_limit_per_second, "rate_limit_burst": gw.rate_limit_burst,
        "request_timeout_seconds": gw.request_timeout_seconds, "metrics": cfg.observability.enabled,
        "prometheus_url": prometheus_url,
        # identities id-<prefix>-llmd-router/-vllm, apart from the Ollama stack's id-<prefix>-router
        "name_prefix": f"{cfg.prefix}-{cfg.environment}-llmd", "tags": cfg.tags,
    }))
