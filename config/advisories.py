"""Things worth a warning (not an error) about a valid config, shown by `pulumi preview/up` and `make plan`."""
from __future__ import annotations

from llmplatform.gpu_skus import find_gpu_sku
from .schema import PlatformConfig


def advisories(cfg: PlatformConfig) -> list[str]:
    notes = []
    sku = find_gpu_sku(cfg.gpu.vm_size)
    if cfg.gpu.enabled and sku is not None and sku.note:
        notes.append(f"gpu.vmSize {sku.vm_size}: {sku.note}")
    if cfg.cluster.api_access.mode == "public":
        notes.append("cluster.apiAccess.mode is 'public': the API server accepts connections from anywhere "
                     "(Entra ID still guards it); consider 'authorizedIps' or 'private'")
    if cfg.gateway.external and cfg.gateway.tls.mode == "none":
        notes.append("the external gateway serves plain HTTP; set gateway.tls.mode 'letsencrypt' with a hostname")
    if cfg.gateway.external and not cfg.gateway.api_key_auth:
        notes.append("gateway.apiKeyAuth is off while the raw model API is published on a public address")
    if cfg.gpu.enabled and cfg.gpu.priority == "spot" and not cfg.gpu.fallback.enabled \
            and cfg.inference.accelerator == "gpu" and cfg.environment == "prod":
        notes.append("GPU inference in prod on spot with no on-demand fallback: an eviction wave stops serving")
    return notes
