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
    disable_local_accounts: bool = False
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

    @property
    def tags(self) -> dict[str, str]:
        return {"project": self.project, "environment": self.environment, "managed-by": "pulumi"}
