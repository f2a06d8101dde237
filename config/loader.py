"""Builds a PlatformConfig from raw stack config and validates it as a whole.

`parse_config` is pure (a dict in, frozen objects out) so every rule is tested without Pulumi. All problems are
collected and raised together in one ConfigError, before any resource exists.
"""
from __future__ import annotations

import ipaddress
import re
from typing import Any

from . import loader_apps, naming, regions
from llmplatform.choices import (API_ACCESS_MODES, DEPLOYER_PRINCIPAL_TYPES, GPU_DRIVERS, GPU_PRIORITIES,
                                 KUBELOGIN_MODES, MAX_PREMIUM_SHARE_GIB, MIG_PROFILES, MIN_PREMIUM_SHARE_GIB,
                                 NETWORK_POLICIES, NODE_OS_UPGRADE_CHANNELS, REDUNDANCIES, SHARE_PROTOCOLS, TIERS,
                                 UPGRADE_CHANNELS)
from llmplatform.gpu_skus import find_gpu_sku, known_gpu_sizes
from .catalogs import RESOURCE_GROUP, azure_regions, cpu_vm_size_problem, vm_shape
from .models import OLLAMA_MODELS, total_size_gib
from .reader import ConfigError, Reader, describe
from .schema import (ApiAccessConfig, ClusterConfig, GpuConfig, GpuFallbackConfig, MaintenanceWindowConfig,
                     ModelStoreConfig, NetworkConfig, PlatformConfig, PoolConfig)

ENVIRONMENTS = ("dev", "staging", "prod")
ZONES = ("1", "2", "3")
WEEKDAYS = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_HH_MM = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
_UTC_OFFSET = re.compile(r"^[+-](0[0-9]|1[0-4]):[0-5][0-9]$")
_GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")


def parse_config(raw: dict[str, Any], project: str, stack: str) -> PlatformConfig:
    """Validate the whole stack config; raise ConfigError listing every problem, or return frozen config."""
    problems: list[str] = []
    top = Reader(raw, "", problems)
    environment = top.choice("environment", "dev", ENVIRONMENTS)
    prefix = top.str_("prefix", "llmp") or "llmp"
    if not naming.PREFIX_PATTERN.fullmatch(prefix):
        top.problem(f"prefix {describe(prefix)} must be 2-10 lowercase letters/digits starting with a letter")
    location = top.str_("location", "westeurope") or "westeurope"
    if location not in azure_regions():
        close = [r for r in azure_regions() if r[:4] == location.lower()[:4]]
        top.problem(f"location {describe(location)} is not an Azure region"
                    + (f"; did you mean {', '.join(close)}?" if close else " (e.g. westeurope, eastus2)"))
    namespace = top.str_("namespace", "llm") or "llm"
    if not _DNS_LABEL.fullmatch(namespace):
        top.problem(f"namespace {describe(namespace)} must be a DNS label (lowercase letters, digits, '-')")
    protect = top.bool_("protectStatefulResources", False)
    resource_group_name = top.str_("resourceGroupName", None, allow_empty=True)  # "": create rg-<prefix>-<env>
    if resource_group_name is not None and not RESOURCE_GROUP.fullmatch(resource_group_name):
        top.problem(f"resourceGroupName {describe(resource_group_name)} is not an Azure resource group name "
                    f"(1-90 letters, digits, '_', '-', '.', '(', ')', not ending in '.')")

    network = _network(top.section("network"))
    cluster = _cluster(top.section("cluster"))
    gpu = _gpu(top.section("gpu"))
    model_store = _model_store(top.section("modelStore"))
    inference = loader_apps.inference(top.section("inference"))
    webui = loader_apps.webui(top.section("webui"))
    postgres = loader_apps.postgres(top.section("postgres"))
    key_vault = loader_apps.key_vault(top.section("keyVault"))
    gateway = loader_apps.gateway(top.section("gateway"), network)
    observability = loader_apps.observability(top.section("observability"))
    autoscaling = loader_apps.autoscaling(top.section("autoscaling"))
    llmd = loader_apps.llmd(top.section("llmd"))
    security = loader_apps.security(top.section("security"))
    cost = loader_apps.cost(top.section("cost"))
    edge = regions.edge(top.section("edge"))
    top.reject_unknown_keys()

    _cross_checks(top, environment, protect, network, cluster, gpu, model_store)
    _collisions(top, prefix, environment, namespace, resource_group_name, cluster, gpu, model_store)
    loader_apps.cross_checks(top, environment, gpu, model_store, inference, webui, postgres, key_vault)
    loader_apps.observability_cross_checks(top, environment, observability, autoscaling, inference)
    loader_apps.llmd_cross_checks(top, llmd, gpu, gateway)
    if llmd.enabled and gpu.enabled:
        loader_apps.llmd_autoscaling_checks(top, llmd, gpu, observability.enabled)
    loader_apps.security_cross_checks(top, security, observability)
    regions.edge_cross_checks(top, edge, cluster.upgrade_channel, gateway.external, gateway.tls.mode != "none")
    if naming.PREFIX_PATTERN.fullmatch(prefix):
        account = naming.storage_account_name(prefix, environment, location)
        if not naming.is_valid_storage_account_name(account):  # guards the naming rule itself
            top.problem(f"prefix {describe(prefix)} gives an invalid storage account name {account!r}")
    if problems:
        raise ConfigError(problems)
    return PlatformConfig(project=project, stack=stack, environment=environment, prefix=prefix, location=location,
                          resource_group_name=resource_group_name, namespace=namespace, protect=protect,
                          network=network, cluster=cluster, gpu=gpu, model_store=model_store,
                          inference=inference, webui=webui, postgres=postgres, key_vault=key_vault,
                          gateway=gateway, llmd=llmd, security=security, cost=cost, observability=observability,
                          autoscaling=autoscaling, edge=edge)


def _cidr(r: Reader, name: str, default: str) -> str:
    value = r.str_(name, default) or default
    try:
        network = ipaddress.ip_network(value, strict=True)
    except ValueError:
        r.problem(f"{r.key(name)} {describe(value)} is not a valid CIDR block like '10.0.0.0/16'")
        return default
    if network.version != 4:
        r.problem(f"{r.key(name)} {describe(value)} must be an IPv4 range (this network plan is IPv4 only)")
        return default
    if name.endswith("SubnetCidr") and network.prefixlen > 29:
        r.problem(f"{r.key(name)} {describe(value)} is smaller than Azure's smallest subnet (/29)")
        return default
    return value


def _network(r: Reader) -> NetworkConfig:
    d = NetworkConfig()
    cfg = NetworkConfig(
        vnet_cidr=_cidr(r, "vnetCidr", d.vnet_cidr),
        node_subnet_cidr=_cidr(r, "nodeSubnetCidr", d.node_subnet_cidr),
        endpoints_subnet_cidr=_cidr(r, "endpointsSubnetCidr", d.endpoints_subnet_cidr),
        postgres_subnet_cidr=_cidr(r, "postgresSubnetCidr", d.postgres_subnet_cidr),
        pod_cidr=_cidr(r, "podCidr", d.pod_cidr),
        service_cidr=_cidr(r, "serviceCidr", d.service_cidr),
        dns_service_ip=r.str_("dnsServiceIp", d.dns_service_ip) or d.dns_service_ip,
    )
    r.reject_unknown_keys()
    net = {k: ipaddress.ip_network(getattr(cfg, k)) for k in
           ("vnet_cidr", "node_subnet_cidr", "endpoints_subnet_cidr", "postgres_subnet_cidr", "pod_cidr",
            "service_cidr")}
    keys = {"node_subnet_cidr": "nodeSubnetCidr", "endpoints_subnet_cidr": "endpointsSubnetCidr",
            "postgres_subnet_cidr": "postgresSubnetCidr", "pod_cidr": "podCidr", "service_cidr": "serviceCidr"}
    for sub in ("node_subnet_cidr", "endpoints_subnet_cidr", "postgres_subnet_cidr"):
        if not net[sub].subnet_of(net["vnet_cidr"]):
            r.problem(f"network.{keys[sub]} ({net[sub]}) must lie inside network.vnetCidr ({net['vnet_cidr']})")
    names = list(keys)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            if net[a].overlaps(net[b]):
                r.problem(f"network.{keys[a]} ({net[a]}) overlaps network.{keys[b]} ({net[b]})")
    for overlay in ("pod_cidr", "service_cidr"):
        if net[overlay].overlaps(net["vnet_cidr"]):
            r.problem(f"network.{keys[overlay]} ({net[overlay]}) must not overlap network.vnetCidr "
                      f"({net['vnet_cidr']})")
    try:
        dns_ip = ipaddress.ip_address(cfg.dns_service_ip)
        hosts = net["service_cidr"]
        if dns_ip not in hosts or dns_ip in (hosts.network_address, hosts.network_address + 1,
                                             hosts.broadcast_address):
            r.problem(f"network.dnsServiceIp ({dns_ip}) must be inside network.serviceCidr ({hosts}), not its "
                      f"first two addresses nor its broadcast address")
    except ValueError:
        r.problem(f"network.dnsServiceIp {describe(cfg.dns_service_ip)} is not an IP address")
    return cfg


def _pool(r: Reader, default: PoolConfig, minimum_nodes: int, spot_allowed: bool) -> PoolConfig:
    min_count = r.int_("minCount", default.min_count, 0, 1000)
    priority = r.choice("priority", default.priority, GPU_PRIORITIES if spot_allowed else ("regular",))
    max_count = r.int_("maxCount", default.max_count, 1, 1000)
    pool = PoolConfig(
        name=r.str_("name", default.name) or default.name,
        vm_size=_cpu_vm_size(r, default.vm_size),
        min_count=min_count,
        max_count=max_count,
        os_disk_size_gb=r.int_("osDiskSizeGb", default.os_disk_size_gb, 30, 2048),
        max_pods=r.int_("maxPods", default.max_pods, 10, 250),
        priority=priority,
    )
    r.reject_unknown_keys()
    if min_count < minimum_nodes:
        r.problem(f"{r.key('minCount')} ({min_count}) must be >= {minimum_nodes}")
    if max_count < min_count:
        r.problem(f"{r.key('maxCount')} ({max_count}) must be >= {r.key('minCount')} ({min_count})")
    if not naming.is_valid_node_pool_name(pool.name):
        r.problem(f"{r.key('name')} {describe(pool.name)} must be 1-12 lowercase letters/digits starting with a "
                  f"letter (AKS Linux pool names)")
    return pool


def _cpu_vm_size(r: Reader, default: str) -> str:
    size = r.str_("vmSize", default) or default
    problem = cpu_vm_size_problem(size)
    if problem:
        r.problem(f"{r.key('vmSize')} {describe(size)} {problem}")
        return default
    return size


def _zones(r: Reader, name: str) -> tuple[str, ...]:
    return r.str_list(name, (), allowed=ZONES)


def _cluster(r: Reader) -> ClusterConfig:
    d = ClusterConfig()
    version = r.str_("kubernetesVersion", None)
    if version is not None and not re.fullmatch(r"1\.[0-9]{2}(\.[0-9]{1,3})?", version):
        r.problem(f"cluster.kubernetesVersion {describe(version)} must look like '1.33' or '1.33.2'")
    zones = _zones(r, "zones")
    system_pool = _pool(r.section("systemPool"), d.system_pool, minimum_nodes=1, spot_allowed=False)  # AKS: regular only
    shape = vm_shape(system_pool.vm_size)
    if shape and (shape.vcpus < 2 or shape.memory_gib < 4):  # sizes outside our table are left to AKS to judge
        r.problem(f"cluster.systemPool.vmSize {system_pool.vm_size!r} has {shape.vcpus} vCPU and "
                  f"{shape.memory_gib:g} GiB; AKS system pools need at least 2 vCPU and 4 GiB")
    workload_pool = _pool(r.section("workloadPool"), d.workload_pool, minimum_nodes=0, spot_allowed=True)
    dedicated = r.bool_("dedicatedSystemPool", d.dedicated_system_pool)
    window = None
    if r.has("maintenanceWindow") and r.raw.get("maintenanceWindow") is not None:
        window = _maintenance_window(r.section("maintenanceWindow"))
    else:
        r.section("maintenanceWindow")
    api_access = _api_access(r.section("apiAccess"))
    admins = r.str_list("adminGroupObjectIds", ())
    for admin in admins:
        if not _GUID.fullmatch(admin):
            r.problem(f"cluster.adminGroupObjectIds entry {describe(admin)} is not an Entra object id (GUID)")
    cfg = ClusterConfig(
        kubernetes_version=version,
        tier=r.choice("tier", d.tier, TIERS),
        zones=zones,
        system_pool=system_pool,
        dedicated_system_pool=dedicated,
        workload_pool=workload_pool,
        disable_local_accounts=r.bool_("disableLocalAccounts", d.disable_local_accounts),
        admin_group_object_ids=admins,
        network_policy=r.choice("networkPolicy", d.network_policy, NETWORK_POLICIES),
        upgrade_channel=r.choice("upgradeChannel", d.upgrade_channel, UPGRADE_CHANNELS),
        node_os_upgrade_channel=r.choice("nodeOsUpgradeChannel", d.node_os_upgrade_channel,
                                         NODE_OS_UPGRADE_CHANNELS),
        maintenance_window=window,
        api_access=api_access,
        kubelogin_mode=r.choice("kubeloginMode", d.kubelogin_mode, KUBELOGIN_MODES),
        grant_deployer_admin=r.bool_("grantDeployerAdmin", d.grant_deployer_admin),
        deployer_principal_type=(r.choice("deployerPrincipalType", "User", DEPLOYER_PRINCIPAL_TYPES)
                                 if r.has("deployerPrincipalType") else None),
    )
    r.reject_unknown_keys()
    if dedicated and workload_pool.max_count < 1:
        r.problem("cluster.workloadPool.maxCount must be >= 1 when cluster.dedicatedSystemPool is true "
                  "(nothing else could run workloads)")
    if system_pool.name == workload_pool.name:
        r.problem(f"cluster.workloadPool.name {describe(workload_pool.name)} must differ from "
                  f"cluster.systemPool.name")
    return cfg


def _maintenance_window(r: Reader) -> MaintenanceWindowConfig:
    d = MaintenanceWindowConfig()
    start = r.str_("startTime", d.start_time) or d.start_time
    if not _HH_MM.fullmatch(start):
        r.problem(f"cluster.maintenanceWindow.startTime {describe(start)} must be HH:MM (24h)")
    offset = r.str_("utcOffset", d.utc_offset) or d.utc_offset
    if not _UTC_OFFSET.fullmatch(offset):
        r.problem(f"cluster.maintenanceWindow.utcOffset {describe(offset)} must look like '+00:00' or '-05:00'")
    window = MaintenanceWindowConfig(
        day_of_week=r.choice("dayOfWeek", d.day_of_week, WEEKDAYS),
        start_time=start,
        duration_hours=r.int_("durationHours", d.duration_hours, 4, 24),  # AKS requires at least 4 hours
        utc_offset=offset,
    )
    r.reject_unknown_keys()
    return window


def _api_access(r: Reader) -> ApiAccessConfig:
    mode = r.choice("mode", "public", API_ACCESS_MODES)
    ranges = r.str_list("authorizedIpRanges", ())
    for cidr in ranges:
        try:
            ipaddress.ip_network(cidr, strict=False)
        except ValueError:
            r.problem(f"cluster.apiAccess.authorizedIpRanges entry {describe(cidr)} is not an IP range")
    if mode == "authorizedIps" and not ranges:
        r.problem("cluster.apiAccess.authorizedIpRanges must list at least one range when mode is 'authorizedIps'")
    if mode != "authorizedIps" and ranges:
        r.problem(f"cluster.apiAccess.authorizedIpRanges is only used with mode 'authorizedIps' (mode is {mode!r})")
    r.reject_unknown_keys()
    return ApiAccessConfig(mode=mode, authorized_ip_ranges=ranges)


def _gpu(r: Reader) -> GpuConfig:
    d = GpuConfig()
    vm_size = r.str_("vmSize", d.vm_size) or d.vm_size
    sku = find_gpu_sku(vm_size)
    if sku is None:
        r.problem(f"gpu.vmSize {describe(vm_size)} is not a known GPU SKU; known: {', '.join(known_gpu_sizes())}")
    else:
        vm_size = sku.vm_size
    min_count = r.int_("minCount", d.min_count, 0, 100)
    max_count = r.int_("maxCount", d.max_count, 1, 100)
    if max_count < min_count:
        r.problem(f"gpu.maxCount ({max_count}) must be >= gpu.minCount ({min_count})")
    priority = r.choice("priority", d.priority, GPU_PRIORITIES)
    price = r.float_("spotMaxPrice", d.spot_max_price)
    if price != -1 and price <= 0:
        r.problem(f"gpu.spotMaxPrice ({price}) must be -1 (pay up to the on-demand price) or a positive USD price")
    fb = r.section("fallback")
    fallback = GpuFallbackConfig(enabled=fb.bool_("enabled", False), min_count=fb.int_("minCount", 0, 0, 100),
                                 max_count=fb.int_("maxCount", 1, 1, 100))
    fb.reject_unknown_keys()
    if fallback.max_count < fallback.min_count:
        r.problem(f"gpu.fallback.maxCount ({fallback.max_count}) must be >= gpu.fallback.minCount "
                  f"({fallback.min_count})")
    if fallback.enabled and priority != "spot":
        r.problem("gpu.fallback.enabled needs gpu.priority 'spot' (an on-demand pool is the fallback for spot)")
    mig = r.optional_choice("migProfile", MIG_PROFILES)
    if mig is not None and sku is not None and not sku.mig_capable:
        r.problem(f"gpu.migProfile needs a MIG-capable GPU (A100/H100/H200); {sku.vm_size} has a {sku.gpu_model}")
    pool_name = r.str_("poolName", d.pool_name) or d.pool_name
    # the fallback pool is named <poolName>od, so the base name leaves room for that suffix
    if not re.fullmatch(r"[a-z][a-z0-9]{0,9}", pool_name):
        r.problem(f"gpu.poolName {describe(pool_name)} must be 1-10 lowercase letters/digits starting with a letter")
    cfg = GpuConfig(
        enabled=r.bool_("enabled", d.enabled), pool_name=pool_name, vm_size=vm_size, min_count=min_count,
        max_count=max_count, priority=priority, spot_max_price=price, fallback=fallback,
        driver=r.choice("driver", d.driver, GPU_DRIVERS),
        os_disk_size_gb=r.int_("osDiskSizeGb", d.os_disk_size_gb, 30, 2048),
        max_pods=r.int_("maxPods", d.max_pods, 10, 250), mig_profile=mig, zones=_zones(r, "zones"),
    )
    r.reject_unknown_keys()
    return cfg


def _model_store(r: Reader) -> ModelStoreConfig:
    d = ModelStoreConfig()
    models = r.str_list("models", d.models)
    unknown = [m for m in models if m not in OLLAMA_MODELS]
    if unknown:
        r.problem(f"modelStore.models has unknown model(s) {', '.join(map(repr, unknown))}; known: "
                  f"{', '.join(OLLAMA_MODELS)}")
    duplicates = sorted({m for m in models if models.count(m) > 1})
    if duplicates:
        r.problem(f"modelStore.models lists {', '.join(map(repr, duplicates))} more than once")
    size = r.int_("sizeGib", d.size_gib, MIN_PREMIUM_SHARE_GIB, MAX_PREMIUM_SHARE_GIB)
    if not unknown:
        needed = total_size_gib(models)
        if needed > size * 0.9:
            r.problem(f"modelStore.sizeGib ({size}) leaves under 10% free for the models to preload "
                      f"(~{needed:.0f} GiB); raise it to at least {int(needed / 0.9) + 1}")
    cfg = ModelStoreConfig(
        protocol=r.choice("protocol", d.protocol, SHARE_PROTOCOLS), size_gib=size,
        redundancy=r.choice("redundancy", d.redundancy, REDUNDANCIES),
        resource_group_name=r.str_("resourceGroupName", None), models=models,
        preload=r.bool_("preload", d.preload), preload_dry_run=r.bool_("preloadDryRun", d.preload_dry_run),
    )
    r.reject_unknown_keys()
    return cfg


def platform_namespaces(prefix: str, environment: str) -> tuple[str, ...]:
    """Namespaces the platform's own components create (the app namespace must be none of them)."""
    return ("monitoring", "keda", "istio-system", "cert-manager", "gpu-operator", "nvidia-device-plugin",
            f"{prefix}-{environment}-gateway")


def _collisions(r: Reader, prefix: str, environment: str, namespace: str, resource_group: Any,
                cluster: ClusterConfig, gpu: GpuConfig, store: ModelStoreConfig) -> None:
    """Settings that would make two resources claim one name (Azure and Kubernetes refuse the second)."""
    if namespace in platform_namespaces(prefix, environment):
        r.problem(f"namespace {describe(namespace)} is a namespace the platform creates itself; pick another "
                  f"(taken: {', '.join(platform_namespaces(prefix, environment))})")
    if gpu.enabled and gpu.fallback.enabled:
        fallback = f"{gpu.pool_name}od"
        for key, pool in (("systemPool", cluster.system_pool), ("workloadPool", cluster.workload_pool)):
            if pool.name == fallback:
                r.problem(f"cluster.{key}.name {describe(pool.name)} is the name of the GPU fallback pool "
                          f"(gpu.poolName + 'od')")
    platform_group = resource_group or naming.resource_group_name(prefix, environment)
    if store.resource_group_name and store.resource_group_name.lower() == platform_group.lower():
        r.problem(f"modelStore.resourceGroupName {describe(store.resource_group_name)} is the platform's own "
                  f"resource group; the store's separate group must have another name (or leave it out)")
    if store.resource_group_name and not RESOURCE_GROUP.fullmatch(store.resource_group_name):
        r.problem(f"modelStore.resourceGroupName {describe(store.resource_group_name)} is not an Azure resource "
                  f"group name")
    if gpu.fallback.enabled and not gpu.enabled:
        r.problem("gpu.fallback.enabled needs gpu.enabled true (there is no GPU pool to fall back from)")
    if gpu.priority == "regular" and gpu.spot_max_price != -1:
        r.problem(f"gpu.spotMaxPrice ({gpu.spot_max_price:g}) only applies to gpu.priority 'spot' "
                  f"(priority is 'regular')")


def _cross_checks(r: Reader, environment: str, protect: bool, network: NetworkConfig, cluster: ClusterConfig,
                  gpu: GpuConfig, store: ModelStoreConfig) -> None:
    if environment == "prod":
        if not protect:
            r.problem("protectStatefulResources must be true when environment is 'prod'")
        if not cluster.disable_local_accounts:
            r.problem("cluster.disableLocalAccounts must be true when environment is 'prod' (Entra ID only)")
        if cluster.tier == "Free":
            r.problem("cluster.tier 'Free' has no uptime SLA; use 'Standard' or 'Premium' when environment is 'prod'")
    if cluster.zones and store.redundancy == "LRS" and environment == "prod":
        r.problem("modelStore.redundancy must be 'ZRS' when the prod cluster spans zones (an LRS share is one zone)")
    if gpu.enabled and gpu.pool_name in (cluster.system_pool.name, cluster.workload_pool.name):
        r.problem(f"gpu.poolName {describe(gpu.pool_name)} must differ from the CPU pool names")
    if gpu.zones and cluster.zones and not set(gpu.zones) <= set(cluster.zones):
        r.problem(f"gpu.zones {list(gpu.zones)} must be a subset of cluster.zones {list(cluster.zones)}")

