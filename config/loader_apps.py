"""Validation of the application sections: inference (Ollama), webui, postgres, keyVault, gateway."""
from __future__ import annotations

import ipaddress
import re

from .gpu_skus import find_gpu_sku
from .models import model_size_gib
from .quantities import parse_quantity
from .reader import Reader, describe
from .schema import (GatewayConfig, GpuConfig, InferenceConfig, KeyVaultConfig, ModelStoreConfig, NetworkConfig,
                     PostgresConfig, ResourcesConfig, TlsConfig, WebUiConfig)

ACCELERATORS = ("cpu", "gpu")
GATEWAY_MODES = ("both", "internal", "external", "none")
TLS_MODES = ("none", "letsencrypt")
POSTGRES_VERSIONS = ("16", "17", "18")
POSTGRES_TIERS = ("Burstable", "GeneralPurpose", "MemoryOptimized")
_DURATION = re.compile(r"^(-1|0|[0-9]+(s|m|h))$")
_HOSTNAME = re.compile(r"^([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[a-zA-Z]{2,}$")


def _resources(r: Reader, default: ResourcesConfig) -> ResourcesConfig:
    res = ResourcesConfig(
        cpu_request=r.str_("cpuRequest", default.cpu_request) or default.cpu_request,
        cpu_limit=r.str_("cpuLimit", default.cpu_limit),
        memory_request=r.str_("memoryRequest", default.memory_request) or default.memory_request,
        memory_limit=r.str_("memoryLimit", default.memory_limit) or default.memory_limit,
    )
    r.reject_unknown_keys()
    values = {}
    for key, text in (("cpuRequest", res.cpu_request), ("cpuLimit", res.cpu_limit),
                      ("memoryRequest", res.memory_request), ("memoryLimit", res.memory_limit)):
        if text is None:
            continue
        values[key] = parse_quantity(text)
        if values[key] is None:
            r.problem(f"{r.key(key)} {describe(text)} is not a Kubernetes quantity like '500m', '2' or '4Gi'")
    for request, limit in (("cpuRequest", "cpuLimit"), ("memoryRequest", "memoryLimit")):
        if values.get(request) is not None and values.get(limit) is not None and values[limit] < values[request]:
            r.problem(f"{r.key(limit)} ({getattr(res, _snake(limit))}) must be >= {r.key(request)} "
                      f"({getattr(res, _snake(request))})")
    return res


def _snake(name: str) -> str:
    return re.sub(r"([A-Z])", lambda m: "_" + m.group(1).lower(), name)


def inference(r: Reader) -> InferenceConfig:
    d = InferenceConfig()
    keep_alive = r.str_("keepAlive", d.keep_alive) or d.keep_alive
    if not _DURATION.fullmatch(keep_alive):
        r.problem(f"inference.keepAlive {describe(keep_alive)} must be a duration like '30m', '1h', '0' or '-1'")
    cfg = InferenceConfig(
        accelerator=r.choice("accelerator", d.accelerator, ACCELERATORS),
        replicas=r.int_("replicas", d.replicas, 0, 50),
        resources=_resources(r.section("resources"), d.resources),
        gpus_per_replica=r.int_("gpusPerReplica", d.gpus_per_replica, 1, 8),
        num_parallel=r.int_("numParallel", d.num_parallel, 1, 64),
        keep_alive=keep_alive,
        max_loaded_models=r.int_("maxLoadedModels", d.max_loaded_models, 1, 16),
    )
    r.reject_unknown_keys()
    return cfg


def webui(r: Reader) -> WebUiConfig:
    d = WebUiConfig()
    cfg = WebUiConfig(
        enabled=r.bool_("enabled", d.enabled),
        replicas=r.int_("replicas", d.replicas, 1, 20),
        max_replicas=r.int_("maxReplicas", d.max_replicas, 1, 50),
        resources=_resources(r.section("resources"), d.resources),
        uploads_size_gib=r.int_("uploadsSizeGib", d.uploads_size_gib, 100, 10240),
    )
    r.reject_unknown_keys()
    if cfg.max_replicas < cfg.replicas:
        r.problem(f"webui.maxReplicas ({cfg.max_replicas}) must be >= webui.replicas ({cfg.replicas})")
    return cfg


def postgres(r: Reader) -> PostgresConfig:
    d = PostgresConfig()
    cfg = PostgresConfig(
        version=r.choice("version", d.version, POSTGRES_VERSIONS),
        tier=r.choice("tier", d.tier, POSTGRES_TIERS),
        sku_name=r.str_("skuName", d.sku_name) or d.sku_name,
        storage_size_gb=r.int_("storageSizeGb", d.storage_size_gb, 32, 32768),
        backup_retention_days=r.int_("backupRetentionDays", d.backup_retention_days, 7, 35),
        geo_redundant_backup=r.bool_("geoRedundantBackup", d.geo_redundant_backup),
        high_availability=r.bool_("highAvailability", d.high_availability),
        database=r.str_("database", d.database) or d.database,
    )
    r.reject_unknown_keys()
    prefix = {"Burstable": "Standard_B", "GeneralPurpose": "Standard_D", "MemoryOptimized": "Standard_E"}[cfg.tier]
    if not cfg.sku_name.startswith(prefix):
        r.problem(f"postgres.skuName {describe(cfg.sku_name)} does not belong to tier {cfg.tier!r} "
                  f"(expected {prefix}…)")
    if cfg.high_availability and cfg.tier == "Burstable":
        r.problem("postgres.highAvailability needs tier 'GeneralPurpose' or 'MemoryOptimized' (not 'Burstable')")
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", cfg.database):
        r.problem(f"postgres.database {describe(cfg.database)} must be a lowercase PostgreSQL identifier")
    return cfg


def key_vault(r: Reader) -> KeyVaultConfig:
    d = KeyVaultConfig()
    cfg = KeyVaultConfig(
        soft_delete_retention_days=r.int_("softDeleteRetentionDays", d.soft_delete_retention_days, 7, 90),
        purge_protection=r.bool_("purgeProtection", d.purge_protection),
        public_network_access=r.bool_("publicNetworkAccess", d.public_network_access),
    )
    r.reject_unknown_keys()
    return cfg


def gateway(r: Reader, network: NetworkConfig) -> GatewayConfig:
    d = GatewayConfig()
    tls_reader = r.section("tls")
    tls = TlsConfig(mode=tls_reader.choice("mode", "none", TLS_MODES), hostname=tls_reader.str_("hostname", None),
                    email=tls_reader.str_("email", None))
    tls_reader.reject_unknown_keys()
    if tls.mode == "letsencrypt":
        if not tls.hostname or not _HOSTNAME.fullmatch(tls.hostname):
            r.problem(f"gateway.tls.hostname {describe(tls.hostname or '')} must be a DNS name (needed for "
                      f"Let's Encrypt)")
        if not tls.email or not _EMAIL.fullmatch(tls.email):
            r.problem(f"gateway.tls.email {describe(tls.email or '')} must be an e-mail address (ACME account)")
    cfg = GatewayConfig(
        mode=r.choice("mode", d.mode, GATEWAY_MODES),
        internal_ip=r.str_("internalIp", d.internal_ip) or d.internal_ip,
        replicas=r.int_("replicas", d.replicas, 1, 20),
        rate_limit_per_second=r.int_("rateLimitPerSecond", d.rate_limit_per_second, 1, 100000),
        rate_limit_burst=r.int_("rateLimitBurst", d.rate_limit_burst, 0, 100000),
        api_key_auth=r.bool_("apiKeyAuth", d.api_key_auth),
        request_timeout_seconds=r.int_("requestTimeoutSeconds", d.request_timeout_seconds, 300, 3600),
        tls=tls,
    )
    r.reject_unknown_keys()
    if cfg.internal:
        try:
            ip = ipaddress.ip_address(cfg.internal_ip)
            subnet = ipaddress.ip_network(network.node_subnet_cidr)
            if ip not in subnet or ip in (subnet.network_address, subnet.broadcast_address):
                r.problem(f"gateway.internalIp ({ip}) must be a host address in network.nodeSubnetCidr ({subnet})")
        except ValueError:
            r.problem(f"gateway.internalIp {describe(cfg.internal_ip)} is not an IP address")
    return cfg


def cross_checks(r: Reader, environment: str, gpu: GpuConfig, store: ModelStoreConfig, inf: InferenceConfig,
                 web: WebUiConfig, pg: PostgresConfig, kv: KeyVaultConfig) -> None:
    if environment == "prod":
        if inf.replicas < 1:
            r.problem(f"inference.replicas ({inf.replicas}) must be >= 1 when environment is 'prod'")
        if not kv.purge_protection:
            r.problem("keyVault.purgeProtection must be true when environment is 'prod'")
        if kv.public_network_access:
            r.problem("keyVault.publicNetworkAccess must be false when environment is 'prod' (private endpoint)")
        if pg.backup_retention_days < 35 or not pg.geo_redundant_backup or not pg.high_availability:
            r.problem("postgres in prod needs backupRetentionDays 35, geoRedundantBackup and highAvailability")
    if inf.accelerator == "gpu":
        if not gpu.enabled:
            r.problem("inference.accelerator 'gpu' needs gpu.enabled true (a GPU pool to run on)")
        sku = find_gpu_sku(gpu.vm_size)
        if sku is not None:
            if inf.gpus_per_replica > sku.gpus:
                r.problem(f"inference.gpusPerReplica ({inf.gpus_per_replica}) exceeds the {sku.gpus} GPU(s) of "
                          f"{sku.vm_size}")
            too_big = [m for m in store.models if _fits(m) and model_size_gib(m) > sku.gpu_memory_gib *
                       inf.gpus_per_replica]
            if too_big:
                r.problem(f"modelStore.models {too_big} do not fit in {sku.gpu_memory_gib} GiB of GPU memory "
                          f"({sku.vm_size})")


def _fits(name: str) -> bool:
    try:
        model_size_gib(name)
        return True
    except KeyError:
        return False
