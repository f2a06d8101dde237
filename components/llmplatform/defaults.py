"""Every component's defaults, in one place: the components read them through `option`, the stack config
layer builds its own defaults from them. Plain data with no Pulumi import."""
import copy
from typing import Any, Callable, Mapping, Optional, TypeVar

from .inference_parts import PARTS
from .inference_specs import answer_drains
from .pins import LLMD_EPP_IMAGE, VLLM_IMAGE  # plain data too: pins.py imports no Pulumi module
from .upgrades import longest_drain_minutes

DEFAULTS: dict[str, dict[str, Any]] = {
    "AksCluster": {
        "api_access_mode": "public",
        "azure_policy": False,
        "defender": False,
        "encryption_at_host": False,
        "ephemeral_os_disk": False,
        "autoscaler_expander": "least-waste",
        "dedicated_system_pool": False,
        "disable_local_accounts": True,
        "drain_timeout_minutes": None,  # _drain_for_defaults, below
        "existing_resource_group": False,
        "grant_deployer_admin": True,
        "kubelogin_mode": "azurecli",
        "managed_prometheus": False,
        "network_policy": "cilium",
        "node_os_upgrade_channel": "NodeImage",
        "tier": "Free",
        "upgrade_channel": "patch",
    },
    "GpuNodePool": {
        "driver": "aks",
        "install_device_software": True,
        "max_count": 1,
        "max_pods": 30,
        "min_count": 0,
        "os_disk_size_gb": 128,
        "pool_name": "gpu",
        "priority": "spot",
        "regional": False,
        "spot_max_price": -1.0,
    },
    "ModelStore": {
        "check_region_offers": True,
        "preload": True,
        "preload_dry_run": False,
        "protocol": "nfs",
        "redundancy": "LRS",
        "share_name": "models",
        "size_gib": 100,
        "snapshot_retention_days": 30,
        "snapshot_time": "02:00",
        "snapshots": False,
    },
    "KeyVault": {
        "public_network_access": True,
        "purge_protection": False,
        "soft_delete_retention_days": 7,
    },
    "PostgresServer": {
        "backup_retention_days": 7,
        "check_region_offers": True,
        "database": "openwebui",
        "geo_redundant_backup": False,
        "high_availability": False,
        "sku_name": "Standard_B1ms",
        "storage_size_gb": 32,
        "tier": "Burstable",
        "version": "16",
    },
    "GatewayAccess": {
        "external": True,
        "inference_extension": False,
        "internal": True,
        "replicas": 1,
        "tls_mode": "none",
    },
    "InferenceStack": {
        "cold_start_timeout_seconds": 1200,
        # and, for every input it hands a part, that part's default (below)
    },
    "OllamaServer": {
        "accelerator": "cpu",
        "extra_env": {},
        "gpus_per_replica": 1,
        "keep_alive": "30m",
        "max_loaded_models": 1,
        "num_parallel": 2,
        "replicas": 1,
        "request_timeout_seconds": 600,
        "resources": {"cpu_request": "2", "cpu_limit": "4", "memory_request": "6Gi", "memory_limit": "12Gi"},
    },
    "ApiGate": {
        "api_key_auth": True,
        "api_key_replaceable": False,
        "rate_limit_burst": 20,
        "rate_limit_per_second": 10,
        "replicas": 2,
        "request_timeout_seconds": 600,
        "resources": {"cpu_request": "100m", "cpu_limit": "1", "memory_request": "64Mi", "memory_limit": "256Mi"},
        "ui_listener": False,
    },
    "OpenWebUi": {
        "cpu_target_percent": 70,
        "default_user_role": "pending",
        "enable_signup": False,
        "extra_env": {},
        "max_replicas": 1,
        "model_access": "all",
        "replicas": 1,
        "request_timeout_seconds": 600,
        "resources": {"cpu_request": "250m", "cpu_limit": "2", "memory_request": "512Mi", "memory_limit": "2Gi"},
        "secret_env": {},
        "uploads_size_gib": 100,
        "uploads_tier": "premium",
    },
    "AzureMonitoring": {
        "log_retention_days": 30,
        "managed_grafana": False,
    },
    "Observability": {
        "azure_data_collection": True,
        "cert_manager": False,
        "cold_start_timeout_seconds": 1200,
        "error_ratio_slo": 0.05,
        "gpu_fallback_alert_hours": 3,
        "gpu_memory_alert_percent": 90,
        "grafana_storage_gib": 5,
        "insights_agent_config": True,
        "insights_agent_settings": {},
        "interceptor_replicas": 3,
        "keda": True,
        "latency_slo_seconds": 30,
        "prometheus_retention": "15d",
        "prometheus_storage_gib": 20,
        "request_timeout_seconds": 600,
        "vllm_dashboard": False,
    },
    "ModelAutoscaler": {
        "cold_start_timeout_seconds": 1200,
        "cpu_target_percent": 70,
        "gpu_memory_target_percent": 80,
        "request_timeout_seconds": 600,
        "scale_down_stabilization_seconds": 600,
        "target_in_flight": 4,
    },
    "LlmdStack": {
        "api_key_auth": True,
        "api_key_replaceable": False,
        "autoscaling": False,
        "epp_image": LLMD_EPP_IMAGE,
        "epp_replicas": 2,
        "expose_externally": False,
        "extra_args": [],
        "extra_env": {},
        "failure_mode": "FailOpen",
        "max_replicas": 2,
        "min_replicas": 1,
        "model_cache_gib": 200,
        "namespace": "llm-d",
        "prefill_decode": False,
        "prefill_replicas": 1,
        "prefill_tensor_parallel_size": 1,
        "rate_limit_burst": 20,
        "rate_limit_per_second": 10,
        "replicas": 1,
        "request_timeout_seconds": 600,
        "scale_down_stabilization_seconds": 300,
        "scale_up_stabilization_seconds": 300,
        "tensor_parallel_size": 1,
        "ui_listener": False,
        "vllm_image": VLLM_IMAGE,
    },
    "AppNamespace": {
        "deny_ingress": False,
        "egress_guard": True,
        "pod_security": "baseline",
    },
    "GlobalEndpoint": {
        # Front Door's three log categories (Microsoft.Cdn/profiles): the WAF's matches, the failed health probes
        # (only those are logged) and every request; docs/decisions.md, "The edge's logs"
        "log_categories": ["FrontDoorWebApplicationFirewallLog", "FrontDoorHealthProbeLog", "FrontDoorAccessLog"],
        "log_retention_days": 30,
        "origin_protocol": "Https",
        "origin_timeout_seconds": 240,
        "probe_interval_seconds": 30,
        "rate_limit_per_minute": 600,
        "sku": "Premium_AzureFrontDoor",
        "waf_mode": "Prevention",
    },
    "FleetUpdates": {
        "channel": "Stable",
        "node_image_selection": "Consistent",
        "wait_between_regions_seconds": 3600,
    },
    "CostBudget": {
        "actual_percents": [80, 100],
        "forecast_percents": [100],
    },
}


def _handed_defaults() -> dict[str, Any]:
    """InferenceStack's default for an input it hands a part is the part's own default, stated once (where two parts
    take one input, their defaults must agree)."""
    handed: dict[str, Any] = {}
    for part, inputs in PARTS:
        for own, theirs in inputs.items():
            if theirs in DEFAULTS[part] and handed.setdefault(own, DEFAULTS[part][theirs]) != DEFAULTS[part][theirs]:
                raise ValueError(f"InferenceStack hands {own} to parts whose defaults differ: {part}'s "
                                 f"{DEFAULTS[part][theirs]!r}, another's {handed[own]!r}")
    return copy.deepcopy(handed)


DEFAULTS["InferenceStack"].update(_handed_defaults())


def _drain_for_defaults() -> int:
    """AksCluster's drain timeout: what the package's workloads need with their own defaults, so a cluster composed
    with them drains them whole. The longest wait is a request held through a cold start and its answer (the KEDA
    interceptor's, and InferenceStack's router and UI behind KEDA: 600 + 1200 s, a grace of 1830 s); the gate's two
    nginx pods may share a node, the second evicted once the first one's replacement is Ready (up to 35 s): 37
    minutes. AKS's own 30 would fail every upgrade of a node where one of them is streaming (docs/decisions.md,
    "Node drains reviewed, and the package's consumers covered", "Node drains with replicas that share a node")."""
    return max(longest_drain_minutes(answer_drains(
        DEFAULTS[c]["request_timeout_seconds"], DEFAULTS[c]["cold_start_timeout_seconds"],
        DEFAULTS["ApiGate"]["replicas"], DEFAULTS["OpenWebUi"]["max_replicas"], DEFAULTS["OllamaServer"]["replicas"]))
        for c in ("Observability", "InferenceStack"))


DEFAULTS["AksCluster"]["drain_timeout_minutes"] = _drain_for_defaults()


def option(component: str, args: Mapping[str, Any], key: str) -> Any:
    """An optional input: what the caller gave, else the component's default."""
    value = args.get(key)
    return DEFAULTS[component][key] if value is None else value


T = TypeVar("T")


def or_default(value: Optional[T], default: T) -> T:
    """`args.get(key, default)` as a type checker reads it, for a default not in DEFAULTS (the name, False): the Args
    admit None for an optional input, and check_shape has left out those given as None."""
    return default if value is None else value


def defaults_for(component: str) -> Callable[[Mapping[str, Any], str], Any]:
    """`opt(args, key)` for one component."""
    return lambda args, key: option(component, args, key)
