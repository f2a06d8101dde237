"""Builds a PlatformConfig from raw stack config and validates it as a whole.

`parse_config` is pure (a dict in, frozen objects out) so every rule is tested without Pulumi. All problems are
collected and raised together in one ConfigError, before any resource exists.
"""
from __future__ import annotations

import re
from dataclasses import asdict
from typing import Any

from . import component_rules, loader_apps, naming, regions
from llmplatform.networks import cidr_problem
from llmplatform.choices import MAX_PREMIUM_SHARE_GIB, MIN_PREMIUM_SHARE_GIB
from llmplatform.gpu_skus import find_gpu_sku, known_gpu_sizes
from .catalogs import RESOURCE_GROUP, azure_regions, cpu_vm_size_problem, vm_shape
from .models import OLLAMA_MODELS, total_size_gib
from .reader import ConfigError, Reader, describe
from .schema import (ApiAccessConfig, ClusterConfig, GpuConfig, GpuFallbackConfig, MaintenanceWindowConfig,
                     ModelStoreConfig, NetworkConfig, PlatformConfig, PoolConfig)

ENVIRONMENTS = ("dev", "staging", "prod")

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")


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
    loader_apps.inference_stack_checks(top, inference, webui, gateway, autoscaling)
    loader_apps.observability_cross_checks(top, environment, observability, autoscaling, inference)
    loader_apps.llmd_cross_checks(top, llmd, gpu, gateway)
    loader_apps.webui_backend_checks(top, webui, llmd)
    if llmd.enabled and gpu.enabled:
        loader_apps.llmd_autoscaling_checks(top, llmd, gpu, observability.enabled)
    loader_apps.security_cross_checks(top, security, observability)
    regions.edge_cross_checks(top, edge, cluster.upgrade_channel, gateway.external, gateway.tls.mode != "none")
    if naming.PREFIX_PATTERN.fullmatch(prefix):
        # the names derived from the prefix, against the components' naming rules (guards the derivation itself)
        for what, derived, valid in (
                ("storage account", naming.storage_account_name(prefix, environment, location),
                 naming.is_valid_storage_account_name),
                ("Key Vault", naming.key_vault_name(prefix, environment, location), naming.is_valid_key_vault_name),
                ("PostgreSQL server", naming.postgres_server_name(prefix, environment, location),
                 naming.is_valid_postgres_server_name)):
            if not valid(derived):
                top.problem(f"prefix {describe(prefix)} gives an invalid {what} name {derived!r}")
    if problems:
        raise ConfigError(problems)
    return PlatformConfig(project=project, stack=stack, environment=environment, prefix=prefix, location=location,
                          resource_group_name=resource_group_name, namespace=namespace, protect=protect,
                          network=network, cluster=cluster, gpu=gpu, model_store=model_store,
                          inference=inference, webui=webui, postgres=postgres, key_vault=key_vault,
                          gateway=gateway, llmd=llmd, security=security, cost=cost, observability=observability,
                          autoscaling=autoscaling, edge=edge)


def _cidr(r: Reader, name: str, default: str) -> str:
    """A range as written; an unusable one leaves the default in the config (AksCluster's rules report it)."""
    value = r.str_(name, default) or default
    return default if cidr_problem(value, _snake(name)) else value


def _snake(name: str) -> str:
    return re.sub(r"([A-Z])", lambda m: "_" + m.group(1).lower(), name)


def _network(r: Reader) -> NetworkConfig:
    d = NetworkConfig()
    raw = {k: r.raw.get(k) for k in ("vnetCidr", "nodeSubnetCidr", "endpointsSubnetCidr", "postgresSubnetCidr",
                                     "podCidr", "serviceCidr", "dnsServiceIp") if isinstance(r.raw.get(k), str)}
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
    # the plan as written (defaults for what is left out): AksCluster's address-plan rules
    written = {**asdict(d), **{_snake(k): v for k, v in raw.items() if v}}
    component_rules.check(r, "AksCluster", {"network": written}, component_rules.keys(""))
    return cfg


def _pool(r: Reader, default: PoolConfig) -> PoolConfig:
    """A node pool as written; AksCluster's rules check it (in _cluster)."""
    pool = PoolConfig(
        name=r.str_("name", default.name) or default.name,
        vm_size=_cpu_vm_size(r, default.vm_size),
        min_count=r.int_("minCount", default.min_count),
        max_count=r.int_("maxCount", default.max_count),
        os_disk_size_gb=r.int_("osDiskSizeGb", default.os_disk_size_gb),
        max_pods=r.int_("maxPods", default.max_pods),
        priority=r.str_("priority", default.priority) or default.priority,
    )
    r.reject_unknown_keys()
    return pool


def _cpu_vm_size(r: Reader, default: str) -> str:
    size = r.str_("vmSize", default) or default
    problem = cpu_vm_size_problem(size)
    if problem:
        r.problem(f"{r.key('vmSize')} {describe(size)} {problem}")
        return default
    return size


def _zones(r: Reader, name: str) -> tuple[str, ...]:
    return r.str_list(name, ())


def _cluster(r: Reader) -> ClusterConfig:
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
        zones=_zones(r, "zones"),
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
    )
    r.reject_unknown_keys()
    # AksCluster's rules: pools, choices, zones, groups, the window, API access
    args = {k: v for k, v in asdict(cfg).items() if k not in ("api_access", "disable_local_accounts",
                                                              "grant_deployer_admin", "dedicated_system_pool")}
    args.update(api_access_mode=api_access.mode, authorized_ip_ranges=list(api_access.authorized_ip_ranges),
                zones=list(cfg.zones), admin_group_object_ids=list(cfg.admin_group_object_ids))
    component_rules.check(r, "AksCluster", args, component_rules.keys("cluster", {
        "api_access_mode": "cluster.apiAccess.mode", "authorized_ip_ranges": "cluster.apiAccess.authorizedIpRanges"}))
    return cfg


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


def _gpu(r: Reader) -> GpuConfig:
    d = GpuConfig()
    vm_size = r.str_("vmSize", d.vm_size) or d.vm_size
    sku = find_gpu_sku(vm_size)
    if sku is None:  # the stack names GPU sizes from the catalog only (a component user may describe any size)
        r.problem(f"gpu.vmSize {describe(vm_size)} is not a known GPU SKU; known: {', '.join(known_gpu_sizes())}")
    else:
        vm_size = sku.vm_size
    fb = r.section("fallback")
    fallback = GpuFallbackConfig(enabled=fb.bool_("enabled", False), min_count=fb.int_("minCount", 0),
                                 max_count=fb.int_("maxCount", 1))
    fb.reject_unknown_keys()
    cfg = GpuConfig(
        enabled=r.bool_("enabled", d.enabled), pool_name=r.str_("poolName", d.pool_name) or d.pool_name,
        vm_size=vm_size, min_count=r.int_("minCount", d.min_count), max_count=r.int_("maxCount", d.max_count),
        priority=r.str_("priority", d.priority) or d.priority, spot_max_price=r.float_("spotMaxPrice", d.spot_max_price),
        fallback=fallback, driver=r.str_("driver", d.driver) or d.driver,
        os_disk_size_gb=r.int_("osDiskSizeGb", d.os_disk_size_gb), max_pods=r.int_("maxPods", d.max_pods),
        mig_profile=r.str_("migProfile", None), zones=_zones(r, "zones"),
    )
    r.reject_unknown_keys()
    # GpuNodePool's rules (vm_size is the stack's own catalog rule above)
    args = {k: v for k, v in asdict(cfg).items() if k != "enabled"}
    args.update(zones=list(cfg.zones), vm_size=sku.vm_size if sku else None)
    component_rules.check(r, "GpuNodePool", args, component_rules.keys("gpu"), skip=("vm_size",))
    return cfg


def _model_store(r: Reader) -> ModelStoreConfig:
    d = ModelStoreConfig()
    models = r.str_list("models", d.models)
    unknown = [m for m in models if m not in OLLAMA_MODELS]
    if unknown:  # the stack preloads only models whose size it knows
        r.problem(f"modelStore.models has unknown model(s) {', '.join(map(repr, unknown))}; known: "
                  f"{', '.join(OLLAMA_MODELS)}")
    cfg = ModelStoreConfig(
        protocol=r.str_("protocol", d.protocol) or d.protocol, size_gib=r.int_("sizeGib", d.size_gib),
        redundancy=r.str_("redundancy", d.redundancy) or d.redundancy,
        resource_group_name=r.str_("resourceGroupName", None), models=models,
        preload=r.bool_("preload", d.preload), preload_dry_run=r.bool_("preloadDryRun", d.preload_dry_run),
    )
    r.reject_unknown_keys()
    component_rules.check(r, "ModelStore", {"protocol": cfg.protocol, "size_gib": cfg.size_gib,
                                            "redundancy": cfg.redundancy, "models": list(models)},
                          component_rules.keys("modelStore"))
    if not unknown and MIN_PREMIUM_SHARE_GIB <= cfg.size_gib <= MAX_PREMIUM_SHARE_GIB:
        needed = total_size_gib(models)
        if needed > cfg.size_gib * 0.9:
            r.problem(f"modelStore.sizeGib ({cfg.size_gib}) leaves under 10% free for the models to preload "
                      f"(~{needed:.0f} GiB); raise it to at least {int(needed / 0.9) + 1}")
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

