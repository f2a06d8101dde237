"""The platform's configuration as frozen, typed objects.

Field defaults here are the defaults of the structured config sections (docs/configuration.md lists them);
scalar top-level keys get theirs from Pulumi.yaml. Components never read stack config: __main__ hands them these.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from llmplatform.defaults import DEFAULTS as D  # the components' defaults are the stack's defaults
from typing import Optional


@dataclass(frozen=True)
class NetworkConfig:
    vnet_cidr: str = "10.40.0.0/16"
    node_subnet_cidr: str = "10.40.0.0/20"
    endpoints_subnet_cidr: str = "10.40.16.0/24"
    postgres_subnet_cidr: str = "10.40.17.0/24"
    pod_cidr: str = "192.168.0.0/16"
    service_cidr: str = "172.16.0.0/16"
    dns_service_ip: str = "172.16.0.10"


@dataclass(frozen=True)
class PoolConfig:
    name: str
    vm_size: str
    min_count: int
    max_count: int
    os_disk_size_gb: int = 128
    max_pods: int = 110
    priority: str = "regular"  # regular | spot (workload pool only)


@dataclass(frozen=True)
class MaintenanceWindowConfig:
    day_of_week: str = "Sunday"
    start_time: str = "02:00"
    duration_hours: int = 4
    utc_offset: str = "+00:00"


@dataclass(frozen=True)
class ApiAccessConfig:
    mode: str = "public"  # public | authorizedIps | private
    authorized_ip_ranges: tuple[str, ...] = ()


@dataclass(frozen=True)
class ClusterConfig:
    kubernetes_version: Optional[str] = None  # None: AKS default version
    tier: str = D["AksCluster"]["tier"]
    zones: tuple[str, ...] = ()
    system_pool: PoolConfig = PoolConfig("system", "Standard_D2s_v5", 1, 2)
    dedicated_system_pool: bool = D["AksCluster"]["dedicated_system_pool"]  # taint CriticalAddonsOnly=true:NoSchedule
    workload_pool: PoolConfig = PoolConfig("cpu", "Standard_D4s_v5", 1, 3)
    disable_local_accounts: bool = D["AksCluster"]["disable_local_accounts"]  # Entra ID only
    admin_group_object_ids: tuple[str, ...] = ()
    network_policy: str = D["AksCluster"]["network_policy"]
    upgrade_channel: str = D["AksCluster"]["upgrade_channel"]
    node_os_upgrade_channel: str = D["AksCluster"]["node_os_upgrade_channel"]
    maintenance_window: Optional[MaintenanceWindowConfig] = None
    api_access: ApiAccessConfig = ApiAccessConfig()
    kubelogin_mode: str = D["AksCluster"]["kubelogin_mode"]
    grant_deployer_admin: bool = D["AksCluster"]["grant_deployer_admin"]
    deployer_principal_type: Optional[str] = None  # None: from kubelogin_mode (AksCluster's default)


@dataclass(frozen=True)
class GpuFallbackConfig:
    enabled: bool = False
    min_count: int = 0
    max_count: int = 1


@dataclass(frozen=True)
class GpuConfig:
    enabled: bool = True
    pool_name: str = D["GpuNodePool"]["pool_name"]
    vm_size: str = "Standard_NC4as_T4_v3"
    min_count: int = D["GpuNodePool"]["min_count"]
    max_count: int = D["GpuNodePool"]["max_count"]
    priority: str = D["GpuNodePool"]["priority"]  # spot | regular
    spot_max_price: float = D["GpuNodePool"]["spot_max_price"]
    fallback: GpuFallbackConfig = GpuFallbackConfig()
    driver: str = D["GpuNodePool"]["driver"]  # aks | operator
    os_disk_size_gb: int = D["GpuNodePool"]["os_disk_size_gb"]
    max_pods: int = D["GpuNodePool"]["max_pods"]
    mig_profile: Optional[str] = None
    zones: tuple[str, ...] = ()


@dataclass(frozen=True)
class ModelStoreConfig:
    protocol: str = D["ModelStore"]["protocol"]  # nfs | smb
    size_gib: int = D["ModelStore"]["size_gib"]
    redundancy: str = D["ModelStore"]["redundancy"]  # LRS | ZRS
    resource_group_name: Optional[str] = None  # a separate group so the share outlives the cluster
    models: tuple[str, ...] = ("tinyllama",)
    preload: bool = D["ModelStore"]["preload"]
    preload_dry_run: bool = D["ModelStore"]["preload_dry_run"]


@dataclass(frozen=True)
class ResourcesConfig:
    cpu_request: str
    cpu_limit: Optional[str]
    memory_request: str
    memory_limit: str


@dataclass(frozen=True)
class InferenceConfig:
    accelerator: str = D["InferenceStack"]["accelerator"]  # cpu | gpu: the one flag that moves Ollama onto the GPU pool
    replicas: int = D["InferenceStack"]["replicas"]
    resources: ResourcesConfig = ResourcesConfig(**D["InferenceStack"]["resources"])
    gpus_per_replica: int = D["InferenceStack"]["gpus_per_replica"]
    num_parallel: int = D["InferenceStack"]["num_parallel"]
    keep_alive: str = D["InferenceStack"]["keep_alive"]
    max_loaded_models: int = D["InferenceStack"]["max_loaded_models"]


@dataclass(frozen=True)
class WebUiConfig:
    enabled: bool = True
    replicas: int = D["InferenceStack"]["webui_replicas"]
    max_replicas: int = D["InferenceStack"]["webui_max_replicas"]
    resources: ResourcesConfig = ResourcesConfig(**D["InferenceStack"]["webui_resources"])
    uploads_size_gib: int = D["InferenceStack"]["webui_uploads_size_gib"]
    uploads_tier: str = D["InferenceStack"]["webui_uploads_tier"]  # premium | standard
    backend: str = "ollama"  # ollama | llmd: the model the UI fronts


@dataclass(frozen=True)
class PostgresConfig:
    version: str = D["PostgresServer"]["version"]
    tier: str = D["PostgresServer"]["tier"]
    sku_name: str = D["PostgresServer"]["sku_name"]
    storage_size_gb: int = D["PostgresServer"]["storage_size_gb"]
    backup_retention_days: int = D["PostgresServer"]["backup_retention_days"]
    geo_redundant_backup: bool = D["PostgresServer"]["geo_redundant_backup"]
    high_availability: bool = D["PostgresServer"]["high_availability"]
    database: str = D["PostgresServer"]["database"]
    entra_admin_group_id: Optional[str] = None  # with its name: the server's Microsoft Entra administrator
    entra_admin_group_name: Optional[str] = None


@dataclass(frozen=True)
class KeyVaultConfig:
    soft_delete_retention_days: int = D["KeyVault"]["soft_delete_retention_days"]
    purge_protection: bool = D["KeyVault"]["purge_protection"]
    public_network_access: bool = D["KeyVault"]["public_network_access"]  # on, firewalled to the nodes


@dataclass(frozen=True)
class TlsConfig:
    mode: str = "none"  # none | letsencrypt
    hostname: Optional[str] = None
    email: Optional[str] = None


@dataclass(frozen=True)
class GatewayConfig:
    mode: str = "both"  # both | internal | external | none
    internal_ip: str = "10.40.15.250"
    replicas: int = 1
    rate_limit_per_second: int = D["InferenceStack"]["rate_limit_per_second"]
    rate_limit_burst: int = D["InferenceStack"]["rate_limit_burst"]
    api_key_auth: bool = D["InferenceStack"]["api_key_auth"]
    request_timeout_seconds: int = D["InferenceStack"]["request_timeout_seconds"]
    tls: TlsConfig = TlsConfig()

    @property
    def internal(self) -> bool:
        return self.mode in ("both", "internal")

    @property
    def external(self) -> bool:
        return self.mode in ("both", "external")


@dataclass(frozen=True)
class ObservabilityConfig:
    enabled: bool = True
    azure_monitor: bool = True  # Log Analytics + Container Insights, managed Prometheus, Azure alert rules
    log_retention_days: int = 30
    managed_grafana: bool = False
    alert_emails: tuple[str, ...] = ()
    prometheus_retention: str = D["Observability"]["prometheus_retention"]
    prometheus_storage_gib: int = D["Observability"]["prometheus_storage_gib"]
    grafana_storage_gib: int = D["Observability"]["grafana_storage_gib"]
    latency_slo_seconds: int = D["Observability"]["latency_slo_seconds"]  # p95 of gateway request duration
    error_ratio_slo: float = D["Observability"]["error_ratio_slo"]  # 5xx share of gateway responses
    gpu_memory_alert_percent: int = D["Observability"]["gpu_memory_alert_percent"]
    vllm_dashboard: bool = D["Observability"]["vllm_dashboard"]
    grafana_viewer_group_ids: tuple[str, ...] = ()  # Grafana Viewer on Managed Grafana (cluster admins: Admin)


@dataclass(frozen=True)
class CostConfig:
    log_analytics_gb_per_day: float = 0.5  # Container Insights + diagnostics ingestion the estimate assumes
    prices: dict = field(default_factory=dict)  # overrides of config/data/prices/<region>.json entries


@dataclass(frozen=True)
class SecurityConfig:
    """The AKS security baseline's switches (on in prod, off in dev to save cost)."""
    azure_policy: bool = D["AksCluster"]["azure_policy"]
    defender: bool = D["AksCluster"]["defender"]
    encryption_at_host: bool = D["AksCluster"]["encryption_at_host"]
    ephemeral_os_disk: bool = D["AksCluster"]["ephemeral_os_disk"]  # where the VM size's local disk holds it
    diagnostics: bool = False  # Key Vault, PostgreSQL and the model share's logs to Log Analytics


@dataclass(frozen=True)
class LlmdConfig:
    enabled: bool = False
    model: str = "Qwen/Qwen3-8B"
    model_memory_gib: Optional[float] = None  # weights of a model the built-in list does not know
    tensor_parallel_size: int = D["LlmdStack"]["tensor_parallel_size"]
    replicas: int = D["LlmdStack"]["replicas"]
    hf_token_secret: Optional[str] = None  # Key Vault secret with a Hugging Face token (gated models)
    max_model_len: Optional[int] = None
    model_cache_gib: int = D["LlmdStack"]["model_cache_gib"]
    prefill_decode: bool = D["LlmdStack"]["prefill_decode"]  # prefill and decode Deployments over InfiniBand
    prefill_replicas: int = D["LlmdStack"]["prefill_replicas"]
    prefill_tensor_parallel_size: int = D["LlmdStack"]["prefill_tensor_parallel_size"]
    expose_externally: bool = D["LlmdStack"]["expose_externally"]
    failure_mode: str = D["LlmdStack"]["failure_mode"]
    autoscaling: bool = D["LlmdStack"]["autoscaling"]  # KEDA on the picker's queue and running requests
    min_replicas: int = D["LlmdStack"]["min_replicas"]
    max_replicas: int = D["LlmdStack"]["max_replicas"]
    scale_up_stabilization_seconds: int = D["LlmdStack"]["scale_up_stabilization_seconds"]
    scale_down_stabilization_seconds: int = D["LlmdStack"]["scale_down_stabilization_seconds"]


@dataclass(frozen=True)
class AutoscalingConfig:
    mode: str = "requests"  # requests (KEDA HTTP add-on) | gpu-memory (adapter + HPA) | cpu (HPA) | none
    min_replicas: int = 1
    max_replicas: int = 3
    target_in_flight: int = D["ModelAutoscaler"]["target_in_flight"]
    scale_to_zero: bool = False
    gpu_memory_target_percent: int = D["ModelAutoscaler"]["gpu_memory_target_percent"]
    cpu_target_percent: int = D["ModelAutoscaler"]["cpu_target_percent"]
    scale_down_stabilization_seconds: int = D["ModelAutoscaler"]["scale_down_stabilization_seconds"]
    cold_start_timeout_seconds: int = 1200
    interceptor_replicas: int = D["Observability"]["interceptor_replicas"]  # KEDA HTTP interceptor pods (requests)


@dataclass(frozen=True)
class EdgeConfig:
    """A regional stack's place behind the global endpoint."""

    global_stack: str = ""  # empty: not a regional stack
    front_door_id: str = ""  # the X-Azure-FDID value; empty until the global stack is up (docs/operations.md, two steps)
    fleet: bool = True  # Fleet Manager drives upgrades: the cluster's own auto-upgrade must be off

    @property
    def enabled(self) -> bool:
        return bool(self.global_stack)

    @property
    def joined(self) -> bool:
        """The global stack is up (its Front Door ID is known): the gateway admits that Front Door, the API gate
        reads the edge's key set."""
        return self.enabled and bool(self.front_door_id)


@dataclass(frozen=True)
class GlobalConfig:
    project: str
    stack: str
    environment: str
    prefix: str
    location: str
    regions: tuple[str, ...]
    organization: str = "organization"
    sku: str = D["GlobalEndpoint"]["sku"]
    waf_mode: str = D["GlobalEndpoint"]["waf_mode"]
    rate_limit_per_minute: int = D["GlobalEndpoint"]["rate_limit_per_minute"]
    origin_timeout_seconds: int = D["GlobalEndpoint"]["origin_timeout_seconds"]
    fleet_channel: str = D["FleetUpdates"]["channel"]
    node_image_selection: str = D["FleetUpdates"]["node_image_selection"]
    wait_between_regions_seconds: int = D["FleetUpdates"]["wait_between_regions_seconds"]
    api_keys: tuple[str, ...] = ("clients",)  # the edge's client API keys, valid in every region (newest last)
    cost: CostConfig = field(default_factory=lambda: CostConfig(log_analytics_gb_per_day=0.0))

    @property
    def tags(self) -> dict[str, str]:
        return {"project": self.project, "environment": self.environment, "managed-by": "pulumi"}

    def reference(self, region_stack: str) -> str:
        """The StackReference name of a regional stack (same project)."""
        return f"{self.organization}/{self.project}/{region_stack}"


@dataclass(frozen=True)
class PlatformConfig:
    project: str
    stack: str
    environment: str
    prefix: str
    location: str
    resource_group_name: Optional[str]
    namespace: str
    protect: bool
    network: NetworkConfig = field(default_factory=NetworkConfig)
    cluster: ClusterConfig = field(default_factory=ClusterConfig)
    gpu: GpuConfig = field(default_factory=GpuConfig)
    model_store: ModelStoreConfig = field(default_factory=ModelStoreConfig)
    inference: InferenceConfig = field(default_factory=InferenceConfig)
    webui: WebUiConfig = field(default_factory=WebUiConfig)
    postgres: PostgresConfig = field(default_factory=PostgresConfig)
    key_vault: KeyVaultConfig = field(default_factory=KeyVaultConfig)
    gateway: GatewayConfig = field(default_factory=GatewayConfig)
    llmd: LlmdConfig = field(default_factory=LlmdConfig)
    security: SecurityConfig = field(default_factory=SecurityConfig)
    cost: CostConfig = field(default_factory=CostConfig)
    observability: ObservabilityConfig = field(default_factory=ObservabilityConfig)
    autoscaling: AutoscalingConfig = field(default_factory=AutoscalingConfig)
    edge: EdgeConfig = field(default_factory=EdgeConfig)

    @property
    def tags(self) -> dict[str, str]:
        return {"project": self.project, "environment": self.environment, "managed-by": "pulumi"}
