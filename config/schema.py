"""The platform's configuration as frozen, typed objects.

Field defaults here are the defaults of the structured config sections (the README's config reference lists them);
scalar top-level keys get theirs from Pulumi.yaml. Components never read stack config: __main__ hands them these.
"""
from __future__ import annotations

from dataclasses import dataclass, field
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
    tier: str = "Free"
    zones: tuple[str, ...] = ()
    system_pool: PoolConfig = PoolConfig("system", "Standard_D2s_v5", 1, 2)
    dedicated_system_pool: bool = False  # taint CriticalAddonsOnly=true:NoSchedule
    workload_pool: PoolConfig = PoolConfig("cpu", "Standard_D4s_v5", 1, 3)
    disable_local_accounts: bool = True  # the component's default: Entra ID only
    admin_group_object_ids: tuple[str, ...] = ()
    network_policy: str = "cilium"
    upgrade_channel: str = "patch"
    node_os_upgrade_channel: str = "NodeImage"
    maintenance_window: Optional[MaintenanceWindowConfig] = None
    api_access: ApiAccessConfig = ApiAccessConfig()
    kubelogin_mode: str = "azurecli"
    grant_deployer_admin: bool = True


@dataclass(frozen=True)
class GpuFallbackConfig:
    enabled: bool = False
    min_count: int = 0
    max_count: int = 1


@dataclass(frozen=True)
class GpuConfig:
    enabled: bool = True
    pool_name: str = "gpu"
    vm_size: str = "Standard_NC4as_T4_v3"
    min_count: int = 0
    max_count: int = 1
    priority: str = "spot"  # spot | regular
    spot_max_price: float = -1.0
    fallback: GpuFallbackConfig = GpuFallbackConfig()
    driver: str = "aks"  # aks | operator
    os_disk_size_gb: int = 128
    max_pods: int = 30
    mig_profile: Optional[str] = None
    zones: tuple[str, ...] = ()


@dataclass(frozen=True)
class ModelStoreConfig:
    protocol: str = "nfs"  # nfs | smb
    size_gib: int = 100
    redundancy: str = "LRS"  # LRS | ZRS
    resource_group_name: Optional[str] = None  # a separate group so the share outlives the cluster
    models: tuple[str, ...] = ("tinyllama",)
    preload: bool = True
    preload_dry_run: bool = False


@dataclass(frozen=True)
class ResourcesConfig:
    cpu_request: str
    cpu_limit: Optional[str]
    memory_request: str
    memory_limit: str


@dataclass(frozen=True)
class InferenceConfig:
    accelerator: str = "cpu"  # cpu | gpu: the one flag that moves Ollama onto the GPU pool
    replicas: int = 1
    resources: ResourcesConfig = ResourcesConfig("2", "4", "6Gi", "12Gi")
    gpus_per_replica: int = 1
    num_parallel: int = 2
    keep_alive: str = "30m"
    max_loaded_models: int = 1


@dataclass(frozen=True)
class WebUiConfig:
    enabled: bool = True
    replicas: int = 1
    max_replicas: int = 3
    resources: ResourcesConfig = ResourcesConfig("250m", None, "512Mi", "2Gi")
    uploads_size_gib: int = 100


@dataclass(frozen=True)
class PostgresConfig:
    version: str = "16"
    tier: str = "Burstable"
    sku_name: str = "Standard_B1ms"
    storage_size_gb: int = 32
    backup_retention_days: int = 7
    geo_redundant_backup: bool = False
    high_availability: bool = False
    database: str = "openwebui"


@dataclass(frozen=True)
class KeyVaultConfig:
    soft_delete_retention_days: int = 7
    purge_protection: bool = False
    public_network_access: bool = True  # dev: on, but denied except from the node subnet


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
    rate_limit_per_second: int = 10
    rate_limit_burst: int = 20
    api_key_auth: bool = True
    request_timeout_seconds: int = 600
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
    log_retention_days: int = 30
    managed_grafana: bool = False
    alert_emails: tuple[str, ...] = ()
    prometheus_retention: str = "15d"
    prometheus_storage_gib: int = 20
    grafana_storage_gib: int = 5
    latency_slo_seconds: int = 30  # p95 of gateway request duration
    error_ratio_slo: float = 0.05  # 5xx share of gateway responses
    gpu_memory_alert_percent: int = 90
    vllm_dashboard: bool = False


@dataclass(frozen=True)
class AutoscalingConfig:
    mode: str = "requests"  # requests (KEDA HTTP add-on) | gpu-memory (adapter + HPA) | cpu (HPA) | none
    min_replicas: int = 1
    max_replicas: int = 3
    target_in_flight: int = 4
    scale_to_zero: bool = False
    gpu_memory_target_percent: int = 80
    cpu_target_percent: int = 70
    scale_down_stabilization_seconds: int = 600
    cold_start_timeout_seconds: int = 1200


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
    observability: ObservabilityConfig = field(default_factory=ObservabilityConfig)
    autoscaling: AutoscalingConfig = field(default_factory=AutoscalingConfig)

    @property
    def tags(self) -> dict[str, str]:
        return {"project": self.project, "environment": self.environment, "managed-by": "pulumi"}
