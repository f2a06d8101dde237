"""Validation of the application sections: inference (Ollama), webui, postgres, keyVault, gateway."""
from __future__ import annotations

import ipaddress
import math
import re
from dataclasses import asdict
from typing import Optional

from llmplatform.choices import AUTOSCALING_MODES as COMPONENT_AUTOSCALING_MODES, POSTGRES_TIERS, TLS_MODES
from llmplatform.gpu_skus import GPU_SKUS, GpuSku, find_gpu_sku
from llmplatform.llmd_specs import KNOWN_MODELS, fits as llmd_fits
from llmplatform.rules import EMAIL, HOSTNAME

from . import component_rules
from .catalogs import postgres_skus
from .models import model_size_gib
from .reader import Reader, describe
from .schema import (AutoscalingConfig, GatewayConfig, GpuConfig, InferenceConfig, KeyVaultConfig, LlmdConfig,
                     ModelStoreConfig, NetworkConfig, ObservabilityConfig, PostgresConfig, ResourcesConfig,
                     CostConfig, SecurityConfig, TlsConfig, WebUiConfig)

GATEWAY_MODES = ("both", "internal", "external", "none")


def _resources(r: Reader, default: ResourcesConfig) -> ResourcesConfig:
    res = ResourcesConfig(
        cpu_request=r.str_("cpuRequest", default.cpu_request) or default.cpu_request,
        cpu_limit=r.str_("cpuLimit", default.cpu_limit),
        memory_request=r.str_("memoryRequest", default.memory_request) or default.memory_request,
        memory_limit=r.str_("memoryLimit", default.memory_limit) or default.memory_limit,
    )
    r.reject_unknown_keys()
    return res


def inference(r: Reader) -> InferenceConfig:
    """Read as written; InferenceStack's rules check it (inference_stack_checks)."""
    d = InferenceConfig()
    cfg = InferenceConfig(
        accelerator=r.str_("accelerator", d.accelerator) or d.accelerator,
        replicas=r.int_("replicas", d.replicas),
        resources=_resources(r.section("resources"), d.resources),
        gpus_per_replica=r.int_("gpusPerReplica", d.gpus_per_replica),
        num_parallel=r.int_("numParallel", d.num_parallel),
        keep_alive=r.str_("keepAlive", d.keep_alive) or d.keep_alive,
        max_loaded_models=r.int_("maxLoadedModels", d.max_loaded_models),
    )
    r.reject_unknown_keys()
    return cfg


def webui(r: Reader) -> WebUiConfig:
    """Read as written; InferenceStack's rules check it (inference_stack_checks)."""
    d = WebUiConfig()
    cfg = WebUiConfig(
        enabled=r.bool_("enabled", d.enabled),
        replicas=r.int_("replicas", d.replicas),
        max_replicas=r.int_("maxReplicas", d.max_replicas),
        resources=_resources(r.section("resources"), d.resources),
        uploads_size_gib=r.int_("uploadsSizeGib", d.uploads_size_gib),
        uploads_tier=r.str_("uploadsTier", d.uploads_tier) or d.uploads_tier,
        backend=r.choice("backend", d.backend, WEBUI_BACKENDS),
    )
    r.reject_unknown_keys()
    return cfg


def inference_stack_checks(r: Reader, inf: InferenceConfig, web: WebUiConfig, gw: GatewayConfig,
                           scaling: AutoscalingConfig) -> None:
    """InferenceStack's rules (its Ollama, API gate and Open-WebUI parts) on the stack's inference, webui, gateway
    and autoscaling values, named by their stack keys; and GatewayAccess's on the gateway's."""
    args = {"accelerator": inf.accelerator, "replicas": inf.replicas, "resources": asdict(inf.resources),
            "gpus_per_replica": inf.gpus_per_replica, "num_parallel": inf.num_parallel, "keep_alive": inf.keep_alive,
            "max_loaded_models": inf.max_loaded_models,
            "rate_limit_per_second": gw.rate_limit_per_second, "rate_limit_burst": gw.rate_limit_burst,
            "request_timeout_seconds": gw.request_timeout_seconds,
            "cold_start_timeout_seconds": scaling.cold_start_timeout_seconds}
    if web.enabled:
        args.update(webui_replicas=web.replicas, webui_max_replicas=web.max_replicas,
                    webui_resources=asdict(web.resources), webui_uploads_size_gib=web.uploads_size_gib,
                    webui_uploads_tier=web.uploads_tier)
    renames = {k: f"inference.{component_rules.camel(k)}" for k in
               ("accelerator", "replicas", "resources", "gpus_per_replica", "num_parallel", "keep_alive",
                "max_loaded_models")}
    renames.update({f"webui_{k}": f"webui.{component_rules.camel(k)}" for k in
                    ("replicas", "max_replicas", "resources", "uploads_size_gib", "uploads_tier")})
    renames.update({k: f"gateway.{component_rules.camel(k)}" for k in
                    ("rate_limit_per_second", "rate_limit_burst", "request_timeout_seconds")})
    renames["cold_start_timeout_seconds"] = "autoscaling.coldStartTimeoutSeconds"
    # gpu and the database are wired by the program from gpu.enabled and postgres (their stack rules say so)
    component_rules.check(r, "InferenceStack", args, component_rules.keys("", renames),
                          skip=("gpu", "database_url_secret"))
    if gw.mode != "none":
        component_rules.check(r, "GatewayAccess", {"replicas": gw.replicas}, component_rules.keys("gateway"))


WEBUI_BACKENDS = ("ollama", "llmd")  # the model Open-WebUI fronts: Ollama's, or llm-d's through its API gate


def webui_backend_checks(r: Reader, cfg: WebUiConfig, llmd_cfg: LlmdConfig) -> None:
    """Open-WebUI on llm-d needs the llm-d stack (one UI per stack: it takes the Gateways' UI listener)."""
    if cfg.enabled and cfg.backend == "llmd" and not llmd_cfg.enabled:
        r.problem("webui.backend 'llmd' needs llmd.enabled true (the UI fronts the llm-d model through its API gate)")


def postgres(r: Reader) -> PostgresConfig:
    d = PostgresConfig()
    cfg = PostgresConfig(
        version=r.str_("version", d.version) or d.version,
        tier=r.str_("tier", d.tier) or d.tier,
        sku_name=r.str_("skuName", d.sku_name) or d.sku_name,
        storage_size_gb=r.int_("storageSizeGb", d.storage_size_gb),
        backup_retention_days=r.int_("backupRetentionDays", d.backup_retention_days),
        geo_redundant_backup=r.bool_("geoRedundantBackup", d.geo_redundant_backup),
        high_availability=r.bool_("highAvailability", d.high_availability),
        database=r.str_("database", d.database) or d.database,
        entra_admin_group_id=r.str_("entraAdminGroupId", None),
        entra_admin_group_name=r.str_("entraAdminGroupName", None),
    )
    r.reject_unknown_keys()
    if (cfg.entra_admin_group_id is None) != (cfg.entra_admin_group_name is None):
        r.problem("postgres.entraAdminGroupId and postgres.entraAdminGroupName go together (the group's object id "
                  "and display name)")
    args = {k: v for k, v in asdict(cfg).items() if not k.startswith("entra_")}
    if cfg.entra_admin_group_id:
        args["entra_admin_group"] = {"object_id": cfg.entra_admin_group_id}
    component_rules.check(r, "PostgresServer", args, component_rules.keys("postgres", {
        "entra_admin_group.object_id": "postgres.entraAdminGroupId"}))
    if cfg.tier in POSTGRES_TIERS and cfg.sku_name not in postgres_skus(cfg.tier):  # the stack's size catalog
        other = next((t for t in POSTGRES_TIERS if cfg.sku_name in postgres_skus(t)), None)
        r.problem(f"postgres.skuName {describe(cfg.sku_name)} "
                  + (f"belongs to tier {other!r}, not {cfg.tier!r}" if other else
                     f"is not a Flexible Server size of tier {cfg.tier!r}; e.g. "
                     f"{', '.join(postgres_skus(cfg.tier)[:3])}"))
    return cfg


def key_vault(r: Reader) -> KeyVaultConfig:
    d = KeyVaultConfig()
    cfg = KeyVaultConfig(
        soft_delete_retention_days=r.int_("softDeleteRetentionDays", d.soft_delete_retention_days),
        purge_protection=r.bool_("purgeProtection", d.purge_protection),
        public_network_access=r.bool_("publicNetworkAccess", d.public_network_access),
    )
    r.reject_unknown_keys()
    component_rules.check(r, "KeyVault", {"soft_delete_retention_days": cfg.soft_delete_retention_days},
                          component_rules.keys("keyVault"))
    return cfg


def gateway(r: Reader, network: NetworkConfig) -> GatewayConfig:
    d = GatewayConfig()
    tls_reader = r.section("tls")
    tls = TlsConfig(mode=tls_reader.choice("mode", "none", TLS_MODES), hostname=tls_reader.str_("hostname", None),
                    email=tls_reader.str_("email", None))
    tls_reader.reject_unknown_keys()
    if tls.mode != "letsencrypt" and (tls.hostname or tls.email):
        r.problem("gateway.tls.hostname and gateway.tls.email are only used with gateway.tls.mode 'letsencrypt' "
                  f"(mode is {tls.mode!r})")
    if tls.mode == "letsencrypt":
        if not tls.hostname or HOSTNAME(tls.hostname):
            r.problem(f"gateway.tls.hostname {describe(tls.hostname or '')} must be a DNS name (needed for "
                      f"Let's Encrypt)")
        if not tls.email or EMAIL(tls.email):
            r.problem(f"gateway.tls.email {describe(tls.email or '')} must be an e-mail address (ACME account)")
    cfg = GatewayConfig(
        mode=r.choice("mode", d.mode, GATEWAY_MODES),
        internal_ip=r.str_("internalIp", d.internal_ip) or d.internal_ip,
        replicas=r.int_("replicas", d.replicas),
        rate_limit_per_second=r.int_("rateLimitPerSecond", d.rate_limit_per_second),
        rate_limit_burst=r.int_("rateLimitBurst", d.rate_limit_burst),
        api_key_auth=r.bool_("apiKeyAuth", d.api_key_auth),
        request_timeout_seconds=r.int_("requestTimeoutSeconds", d.request_timeout_seconds, 300, 3600),
        tls=tls,
    )
    r.reject_unknown_keys()
    if tls.mode == "letsencrypt" and not cfg.external:
        r.problem(f"gateway.tls.mode 'letsencrypt' needs the external gateway (HTTP-01 challenge); gateway.mode is "
                  f"{cfg.mode!r}")
    if cfg.internal:
        try:
            ip = ipaddress.ip_address(cfg.internal_ip)
            subnet = ipaddress.ip_network(network.node_subnet_cidr)
            # Azure keeps five addresses of every subnet: the network address, the next three, and the last
            reserved = [subnet.network_address + i for i in range(4)] + [subnet.broadcast_address]
            if ip not in subnet or ip in reserved:
                r.problem(f"gateway.internalIp ({ip}) must be a usable address of network.nodeSubnetCidr ({subnet}); "
                          f"Azure reserves {', '.join(map(str, reserved))}")
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
            memory = gpu_memory_per_replica(sku.gpu_memory_gib, gpu.mig_profile, inf.gpus_per_replica)
            too_big = [m for m in store.models if _fits(m) and model_size_gib(m) > memory]
            if too_big:
                where = f"a {gpu.mig_profile} slice of {sku.vm_size}" if gpu.mig_profile else sku.vm_size
                r.problem(f"modelStore.models {too_big} do not fit in {memory:g} GiB of GPU memory ({where})")


# Memory of a MIG slice in eighths of the GPU's (A100/H100/H200: 1g.10gb, 2g.20gb, 3g.40gb, 4g.40gb, 7g.80gb on 80 GB)
MIG_MEMORY_EIGHTHS = {"MIG1g": 1, "MIG2g": 2, "MIG3g": 4, "MIG4g": 4, "MIG7g": 8}


def gpu_memory_per_replica(gpu_memory_gib: float, mig_profile: Optional[str], gpus: int) -> float:
    """GPU memory one model-server replica gets: whole GPUs, or MIG slices of them."""
    share = MIG_MEMORY_EIGHTHS.get(mig_profile or "", 8) / 8
    return gpu_memory_gib * share * gpus


def _fits(name: str) -> bool:
    try:
        model_size_gib(name)
        return True
    except KeyError:
        return False


AUTOSCALING_MODES = (*COMPONENT_AUTOSCALING_MODES, "none")  # none: the stack runs no autoscaler


def observability(r: Reader) -> ObservabilityConfig:
    """Read as written; Observability's and AzureMonitoring's rules check it."""
    d = ObservabilityConfig()
    cfg = ObservabilityConfig(
        enabled=r.bool_("enabled", d.enabled),
        azure_monitor=r.bool_("azureMonitor", d.azure_monitor),
        log_retention_days=r.int_("logRetentionDays", d.log_retention_days),
        managed_grafana=r.bool_("managedGrafana", d.managed_grafana),
        alert_emails=r.str_list("alertEmails", d.alert_emails),
        grafana_viewer_group_ids=r.str_list("grafanaViewerGroupIds", d.grafana_viewer_group_ids),
        prometheus_retention=r.str_("prometheusRetention", d.prometheus_retention) or d.prometheus_retention,
        prometheus_storage_gib=r.int_("prometheusStorageGib", d.prometheus_storage_gib),
        grafana_storage_gib=r.int_("grafanaStorageGib", d.grafana_storage_gib),
        latency_slo_seconds=r.int_("latencySloSeconds", d.latency_slo_seconds),
        error_ratio_slo=r.float_("errorRatioSlo", d.error_ratio_slo),
        gpu_memory_alert_percent=r.int_("gpuMemoryAlertPercent", d.gpu_memory_alert_percent),
        vllm_dashboard=r.bool_("vllmDashboard", d.vllm_dashboard),
    )
    r.reject_unknown_keys()
    keys = component_rules.keys("observability")
    component_rules.check(r, "AzureMonitoring", {
        "log_retention_days": cfg.log_retention_days, "alert_emails": list(cfg.alert_emails),
        "grafana_viewer_group_ids": list(cfg.grafana_viewer_group_ids)}, keys)
    component_rules.check(r, "Observability", {
        "prometheus_retention": cfg.prometheus_retention, "prometheus_storage_gib": cfg.prometheus_storage_gib,
        "grafana_storage_gib": cfg.grafana_storage_gib, "latency_slo_seconds": cfg.latency_slo_seconds,
        "error_ratio_slo": cfg.error_ratio_slo, "gpu_memory_alert_percent": cfg.gpu_memory_alert_percent}, keys)
    if cfg.managed_grafana and not cfg.azure_monitor:
        r.problem("observability.managedGrafana needs observability.azureMonitor true (it reads the Azure Monitor "
                  "workspace)")
    return cfg


def autoscaling(r: Reader) -> AutoscalingConfig:
    """Read as written; ModelAutoscaler's rules check it (mode `none`, no autoscaler, is the stack's own)."""
    d = AutoscalingConfig()
    cfg = AutoscalingConfig(
        mode=r.choice("mode", d.mode, AUTOSCALING_MODES),
        min_replicas=r.int_("minReplicas", d.min_replicas),
        max_replicas=r.int_("maxReplicas", d.max_replicas),
        target_in_flight=r.int_("targetInFlight", d.target_in_flight),
        scale_to_zero=r.bool_("scaleToZero", d.scale_to_zero),
        gpu_memory_target_percent=r.int_("gpuMemoryTargetPercent", d.gpu_memory_target_percent),
        cpu_target_percent=r.int_("cpuTargetPercent", d.cpu_target_percent),
        scale_down_stabilization_seconds=r.int_("scaleDownStabilizationSeconds", d.scale_down_stabilization_seconds),
        # the stack's bound: a cold start over an hour is a broken model server, not a slow one
        cold_start_timeout_seconds=r.int_("coldStartTimeoutSeconds", d.cold_start_timeout_seconds, 60, 3600),
        interceptor_replicas=r.int_("interceptorReplicas", d.interceptor_replicas),
    )
    r.reject_unknown_keys()
    args = {k: v for k, v in asdict(cfg).items() if k not in ("scale_to_zero", "interceptor_replicas")}
    if cfg.mode == "none":
        args.pop("mode")
    elif cfg.mode == "requests":
        args["keda"] = {"namespace": "keda"}  # the program wires Observability's KEDA (a stack rule says so)
    component_rules.check(r, "ModelAutoscaler", args, component_rules.keys("autoscaling"))
    component_rules.check(r, "Observability", {"interceptor_replicas": cfg.interceptor_replicas},
                          component_rules.keys("autoscaling"))
    if cfg.min_replicas == 0 and not cfg.scale_to_zero:
        r.problem("autoscaling.minReplicas 0 needs autoscaling.scaleToZero true")
    if cfg.scale_to_zero and cfg.min_replicas > 0:
        r.problem(f"autoscaling.scaleToZero needs autoscaling.minReplicas 0 (it is {cfg.min_replicas})")
    if cfg.scale_to_zero and cfg.mode != "requests":
        r.problem(f"autoscaling.scaleToZero needs autoscaling.mode 'requests' (requests are held while a pod "
                  f"starts); mode is {cfg.mode!r}")
    return cfg


def observability_cross_checks(r: Reader, environment: str, obs: ObservabilityConfig, scaling: AutoscalingConfig,
                               inf: InferenceConfig) -> None:
    if environment == "prod":
        if obs.enabled and not obs.alert_emails:
            r.problem("observability.alertEmails must list at least one address when environment is 'prod'")
        if obs.enabled and not obs.azure_monitor:
            r.problem("observability.azureMonitor false is for dev: prod keeps its logs, metrics and alerts in Azure "
                      "Monitor, outside the cluster")
        if scaling.scale_to_zero:
            r.problem("autoscaling.scaleToZero is for dev: a prod model server keeps at least one replica")
        if scaling.mode == "requests" and scaling.interceptor_replicas < 2:
            r.problem(f"autoscaling.interceptorReplicas ({scaling.interceptor_replicas}) must be >= 2 when "
                      f"environment is 'prod': every model request passes the KEDA interceptor")
    if scaling.mode == "gpu-memory" and inf.accelerator != "gpu":
        r.problem("autoscaling.mode 'gpu-memory' needs inference.accelerator 'gpu'")
    if scaling.mode in ("requests", "gpu-memory") and not obs.enabled:
        r.problem(f"autoscaling.mode {scaling.mode!r} needs observability.enabled (KEDA / Prometheus run there)")


_HF_MODEL = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,95}/[A-Za-z0-9][A-Za-z0-9._-]{0,95}")
_KV_SECRET = re.compile(r"[0-9A-Za-z-]{1,127}")
LLMD_GPU_MODELS = ("A100", "H100", "H200")


def llmd(r: Reader) -> LlmdConfig:
    d = LlmdConfig()
    model = r.str_("model", d.model) or d.model
    if not _HF_MODEL.fullmatch(model):
        r.problem(f"llmd.model {describe(model)} must be a Hugging Face model id like 'Qwen/Qwen3-8B'")
    token = r.str_("hfTokenSecret", None)
    if token is not None and not _KV_SECRET.fullmatch(token):
        r.problem(f"llmd.hfTokenSecret {describe(token)} is not a Key Vault secret name (letters, digits, '-')")
    memory = r.float_("modelMemoryGib", 0.0) if r.has("modelMemoryGib") else None
    if memory is not None and not 0 < memory <= 4096:
        r.problem(f"llmd.modelMemoryGib ({memory:g}) must be a size in GiB above 0")
    max_len = r.int_("maxModelLen", 0, 256, 1_048_576) if r.has("maxModelLen") else None
    cfg = LlmdConfig(
        enabled=r.bool_("enabled", d.enabled), model=model, model_memory_gib=memory,
        tensor_parallel_size=r.int_("tensorParallelSize", d.tensor_parallel_size, 1, 8),
        replicas=r.int_("replicas", d.replicas, 1, 64), hf_token_secret=token, max_model_len=max_len,
        model_cache_gib=r.int_("modelCacheGib", d.model_cache_gib, 10, 4096),
        prefill_decode=r.bool_("prefillDecode", d.prefill_decode),
        prefill_replicas=r.int_("prefillReplicas", d.prefill_replicas, 1, 64),
        prefill_tensor_parallel_size=r.int_("prefillTensorParallelSize", d.prefill_tensor_parallel_size, 1, 8),
        expose_externally=r.bool_("exposeExternally", d.expose_externally),
        failure_mode=r.choice("failureMode", d.failure_mode, ("FailOpen", "FailClose")),
        autoscaling=r.bool_("autoscaling", d.autoscaling),
        min_replicas=r.int_("minReplicas", d.min_replicas, 0, 64),
        max_replicas=r.int_("maxReplicas", d.max_replicas, 1, 64),
        scale_up_stabilization_seconds=r.int_("scaleUpStabilizationSeconds", d.scale_up_stabilization_seconds, 0,
                                              3600),
        scale_down_stabilization_seconds=r.int_("scaleDownStabilizationSeconds", d.scale_down_stabilization_seconds,
                                                0, 3600),
    )
    r.reject_unknown_keys()
    return cfg


def llmd_autoscaling_checks(r: Reader, cfg: LlmdConfig, gpu: GpuConfig, observability_enabled: bool) -> None:
    """KEDA reads the picker's metrics from Prometheus; every replica it may ask for must fit the GPU pool."""
    if not cfg.autoscaling:
        return
    if not observability_enabled:
        r.problem("llmd.autoscaling needs observability.enabled (KEDA and the Prometheus its triggers read)")
    if cfg.max_replicas < max(cfg.min_replicas, 1):
        r.problem(f"llmd.maxReplicas ({cfg.max_replicas}) must be at least llmd.minReplicas ({cfg.min_replicas}) "
                  f"and 1")
    elif not max(cfg.min_replicas, 1) <= cfg.replicas <= cfg.max_replicas:
        r.problem(f"llmd.replicas ({cfg.replicas}) is the starting count under llmd.autoscaling: between "
                  f"{max(cfg.min_replicas, 1)} and llmd.maxReplicas ({cfg.max_replicas})")
    sku = find_gpu_sku(gpu.vm_size)
    if sku is not None and cfg.max_replicas * cfg.tensor_parallel_size > gpu.max_count * sku.gpus:
        r.problem(f"llmd.maxReplicas ({cfg.max_replicas}) x {cfg.tensor_parallel_size} GPU(s) exceeds the "
                  f"{gpu.max_count} x {sku.gpus} GPU(s) gpu.maxCount allows; raise gpu.maxCount or lower "
                  f"llmd.maxReplicas")


def llmd_cross_checks(r: Reader, cfg: LlmdConfig, gpu: GpuConfig, gateway: GatewayConfig) -> None:
    """llm-d needs a large-GPU pool and a gateway; the model must fit the GPUs it gets."""
    if not cfg.enabled:
        return
    if not gpu.enabled:
        r.problem("llmd.enabled needs gpu.enabled true (vLLM runs on the GPU pool)")
        return
    if gateway.mode == "none":
        r.problem("llmd.enabled needs a gateway (gateway.mode internal, external or both)")
    if cfg.expose_externally and not gateway.external:
        r.problem("llmd.exposeExternally needs the external gateway (gateway.mode both or external)")
    if not cfg.expose_externally and not gateway.internal:
        r.problem("llmd is published on the internal gateway unless llmd.exposeExternally is true; "
                  f"gateway.mode is {gateway.mode!r}")
    sku = find_gpu_sku(gpu.vm_size)
    if sku is None:
        return
    if sku.gpu_model not in LLMD_GPU_MODELS:
        r.problem(f"llmd needs an {', '.join(LLMD_GPU_MODELS)} GPU pool; gpu.vmSize {sku.vm_size} has "
                  f"{sku.gpu_model} GPUs")
    if cfg.tensor_parallel_size > sku.gpus:
        r.problem(f"llmd.tensorParallelSize ({cfg.tensor_parallel_size}) exceeds the {sku.gpus} GPU(s) of "
                  f"{sku.vm_size}")
    known = KNOWN_MODELS.get(cfg.model)
    weights = cfg.model_memory_gib or (known or {}).get("weights_gib")
    if weights is None:
        r.problem(f"llmd.modelMemoryGib is needed for {cfg.model!r} (not in the built-in list: "
                  f"{', '.join(KNOWN_MODELS)})")
    elif cfg.tensor_parallel_size <= sku.gpus and not llmd_fits(weights, sku.gpu_memory_gib,
                                                                cfg.tensor_parallel_size):
        r.problem(f"llmd.model {cfg.model} ({weights:g} GiB of weights plus KV cache) does not fit "
                  f"{cfg.tensor_parallel_size} x {sku.gpu_memory_gib} GiB {sku.gpu_model}; raise "
                  f"llmd.tensorParallelSize or pick a larger GPU")
    if known is None and cfg.max_model_len is None:
        r.problem(f"llmd.maxModelLen is needed for {cfg.model!r} (its context length: vLLM and the picker's prefix "
                  f"matching are sized to it)")
    if known and known["gated"] and not cfg.hf_token_secret:
        r.problem(f"llmd.hfTokenSecret is needed: {cfg.model} is gated on Hugging Face (a Key Vault secret "
                  f"holding a token that accepted its licence)")
    if cfg.prefill_decode:
        llmd_prefill_decode_checks(r, cfg, gpu, sku)
    if gpu.mig_profile:
        r.problem("llmd serves whole GPUs (tensor parallelism); gpu.migProfile must be unset")


def llmd_prefill_decode_checks(r: Reader, cfg: LlmdConfig, gpu: GpuConfig, sku: GpuSku) -> None:
    """P/D moves the KV cache over InfiniBand with GPUDirect RDMA: an ND96 size, the GPU Operator's driver (it loads
    nvidia-peermem), fixed replica counts, and room in the pool for both Deployments."""
    if not sku.rdma:
        rdma = ", ".join(s.vm_size for s in GPU_SKUS.values() if s.rdma)
        r.problem(f"llmd.prefillDecode needs an RDMA (InfiniBand) GPU size ({rdma}); {sku.vm_size} has none")
        return
    if gpu.driver != "operator":
        r.problem(f"llmd.prefillDecode needs gpu.driver 'operator' (the GPU Operator loads nvidia-peermem for "
                  f"GPUDirect RDMA; the AKS-managed driver does not); it is {gpu.driver!r}")
    if cfg.autoscaling:
        r.problem("llmd.prefillDecode needs llmd.autoscaling false: prefill and decode are sized apart "
                  "(llmd.prefillReplicas, llmd.replicas)")
    if cfg.prefill_tensor_parallel_size > sku.gpus:
        r.problem(f"llmd.prefillTensorParallelSize ({cfg.prefill_tensor_parallel_size}) exceeds the {sku.gpus} "
                  f"GPU(s) of {sku.vm_size}")
    wanted = cfg.prefill_replicas * cfg.prefill_tensor_parallel_size + cfg.replicas * cfg.tensor_parallel_size
    if wanted > gpu.max_count * sku.gpus:
        r.problem(f"llmd.prefillReplicas x llmd.prefillTensorParallelSize plus llmd.replicas x "
                  f"llmd.tensorParallelSize ({wanted} GPUs) exceed the {gpu.max_count} x {sku.gpus} GPU(s) "
                  f"gpu.maxCount allows")


def security(r: Reader) -> SecurityConfig:
    d = SecurityConfig()
    cfg = SecurityConfig(azure_policy=r.bool_("azurePolicy", d.azure_policy), defender=r.bool_("defender", d.defender),
                         encryption_at_host=r.bool_("encryptionAtHost", d.encryption_at_host),
                         ephemeral_os_disk=r.bool_("ephemeralOsDisk", d.ephemeral_os_disk),
                         diagnostics=r.bool_("diagnostics", d.diagnostics))
    r.reject_unknown_keys()
    return cfg


def security_cross_checks(r: Reader, cfg: SecurityConfig, obs: ObservabilityConfig) -> None:
    for key, on in (("defender", cfg.defender), ("diagnostics", cfg.diagnostics)):
        if on and not (obs.enabled and obs.azure_monitor):
            r.problem(f"security.{key} needs observability.enabled and observability.azureMonitor true (it reports "
                      f"to the Log Analytics workspace)")


def cost(r: Reader) -> CostConfig:
    d = CostConfig()
    gb = r.float_("logAnalyticsGbPerDay", d.log_analytics_gb_per_day)
    if not 0 <= gb <= 10000:
        r.problem(f"cost.logAnalyticsGbPerDay ({gb:g}) must be between 0 and 10000")
    raw = r.raw.get("prices") if isinstance(r.raw.get("prices"), dict) else {}
    r.section("prices")  # read as a whole below; its keys are price names, not settings
    prices: dict = {}
    if r.has("prices") and not isinstance(r.raw.get("prices"), dict):
        r.problem("cost.prices must be an object of price names to numbers")
    for key, value in raw.items():
        entries = value if isinstance(value, dict) else {None: value}
        for sub_key, number in entries.items():
            where = f"cost.prices.{key}" + (f".{sub_key}" if sub_key else "")
            if isinstance(number, bool) or not isinstance(number, (int, float)) or not math.isfinite(number) \
                    or number < 0:
                r.problem(f"{where} must be a finite price >= 0, got {describe(number)}")
        prices[str(key)] = dict(value) if isinstance(value, dict) else value
    r.reject_unknown_keys()
    return CostConfig(log_analytics_gb_per_day=gb, prices=prices)
