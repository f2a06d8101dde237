"""The `cluster` section: AKS itself, its system and workload pools, the maintenance window and API access."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Optional

from llmplatform.defaults import DEFAULTS as D  # the components' defaults are the stack's defaults
from llmplatform.rules import KUBERNETES_VERSION

from .. import aks_versions, component_rules
from ..catalogs import vm_shape
from ..reader import Reader, describe


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
    image_registry: Optional[str] = None  # None: every image from its upstream registry
    image_registry_id: Optional[str] = None  # the ACR behind image_registry, attached (AcrPull) to the nodes


def _pool(r: Reader, default: PoolConfig) -> PoolConfig:
    """A node pool as written; AksCluster's rules check it (in parse_cluster), its VM size too."""
    pool = PoolConfig(
        name=r.str_("name", default.name) or default.name,
        vm_size=r.str_("vmSize", default.vm_size) or default.vm_size,
        min_count=r.int_("minCount", default.min_count),
        max_count=r.int_("maxCount", default.max_count),
        os_disk_size_gb=r.int_("osDiskSizeGb", default.os_disk_size_gb),
        max_pods=r.int_("maxPods", default.max_pods),
        priority=r.str_("priority", default.priority) or default.priority,
    )
    r.reject_unknown_keys()
    return pool


def read_zones(r: Reader, name: str) -> tuple[str, ...]:
    return r.str_list(name, ())


def parse_cluster(r: Reader, location: str) -> ClusterConfig:
    """The section as written, checked by AksCluster's rules in the stack's `location` (zones need a region with
    them)."""
    d = ClusterConfig()
    system_pool = _pool(r.section("systemPool"), d.system_pool)
    shape = vm_shape(system_pool.vm_size)
    if shape and (shape.vcpus < 2 or shape.memory_gib < 4):  # sizes outside our table are left to AKS to judge
        r.problem(f"cluster.systemPool.vmSize {system_pool.vm_size!r} has {shape.vcpus} vCPU and "
                  f"{shape.memory_gib:g} GiB; AKS system pools need at least 2 vCPU and 4 GiB")
    workload_pool = _pool(r.section("workloadPool"), d.workload_pool)
    window = None
    if r.has("maintenanceWindow") and r.raw.get("maintenanceWindow") is not None:
        window = _maintenance_window(r.section("maintenanceWindow"))
    else:
        r.section("maintenanceWindow")
    access = r.section("apiAccess")
    api_access = ApiAccessConfig(mode=access.str_("mode", "public") or "public",
                                 authorized_ip_ranges=access.str_list("authorizedIpRanges", ()))
    access.reject_unknown_keys()
    cfg = ClusterConfig(
        kubernetes_version=r.str_("kubernetesVersion", None),
        tier=r.str_("tier", d.tier) or d.tier,
        zones=read_zones(r, "zones"),
        system_pool=system_pool,
        dedicated_system_pool=r.bool_("dedicatedSystemPool", d.dedicated_system_pool),
        workload_pool=workload_pool,
        disable_local_accounts=r.bool_("disableLocalAccounts", d.disable_local_accounts),
        admin_group_object_ids=r.str_list("adminGroupObjectIds", ()),
        network_policy=r.str_("networkPolicy", d.network_policy) or d.network_policy,
        upgrade_channel=r.str_("upgradeChannel", d.upgrade_channel) or d.upgrade_channel,
        node_os_upgrade_channel=r.str_("nodeOsUpgradeChannel", d.node_os_upgrade_channel) or d.node_os_upgrade_channel,
        maintenance_window=window,
        api_access=api_access,
        kubelogin_mode=r.str_("kubeloginMode", d.kubelogin_mode) or d.kubelogin_mode,
        grant_deployer_admin=r.bool_("grantDeployerAdmin", d.grant_deployer_admin),
        deployer_principal_type=r.str_("deployerPrincipalType", None),
        image_registry=r.str_("imageRegistry", None),
        image_registry_id=r.str_("imageRegistryId", None),
    )
    r.reject_unknown_keys()
    # AksCluster's rules: pools, choices, zones, groups, the window, API access
    args = {k: v for k, v in asdict(cfg).items() if k not in ("api_access", "disable_local_accounts",
                                                              "grant_deployer_admin", "dedicated_system_pool")}
    args.update(api_access_mode=api_access.mode, authorized_ip_ranges=list(api_access.authorized_ip_ranges),
                zones=list(cfg.zones), admin_group_object_ids=list(cfg.admin_group_object_ids), location=location)
    component_rules.check(r, "AksCluster", args, component_rules.keys("cluster", {
        "api_access_mode": "cluster.apiAccess.mode", "authorized_ip_ranges": "cluster.apiAccess.authorizedIpRanges",
        "location": "location"}), skip=("location",))  # the stack's `location` is refused in its own words
    kubernetes_version_check(r, cfg)
    return cfg


def kubernetes_version_check(r: Reader, cfg: ClusterConfig) -> None:
    """A minor AKS no longer supports on its release calendar's date (config/aks_versions.py; the Premium tier runs
    AKS's Long-Term Support, which supports a minor longer); a version of no Kubernetes shape is AksCluster's rule's."""
    version = cfg.kubernetes_version
    if not version or KUBERNETES_VERSION(version):
        return
    on = aks_versions.calendar_date()
    why = aks_versions.unsupported(version, cfg.tier == "Premium", on)
    if why:
        r.problem(f"cluster.kubernetesVersion {describe(version)} is invalid; allowed: {aks_versions.window(on)}; "
                  f"{why}")


def _maintenance_window(r: Reader) -> MaintenanceWindowConfig:
    d = MaintenanceWindowConfig()
    window = MaintenanceWindowConfig(
        day_of_week=r.str_("dayOfWeek", d.day_of_week) or d.day_of_week,
        start_time=r.str_("startTime", d.start_time) or d.start_time,
        duration_hours=r.int_("durationHours", d.duration_hours),
        utc_offset=r.str_("utcOffset", d.utc_offset) or d.utc_offset,
    )
    r.reject_unknown_keys()
    return window
