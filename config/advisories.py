"""Things worth a warning (not an error) about a valid config, shown by `pulumi preview/up` and `make plan`."""
from llmplatform.gpu_skus import find_gpu_sku
from llmplatform.os_disks import os_disk_type, why_managed
from .platform_config import PlatformConfig

SYSTEM_NAMESPACES = ("kube-system", "kube-public", "kube-node-lease", "default")
MANY_GPUS = 64  # GPUs at peak past which a run-away autoscaler is a budget event
HIGH_RATE_LIMIT = 1000  # requests/s per client: above this the limiter protects nothing


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
    if cfg.cluster.workload_pool.priority == "spot" and cfg.environment == "prod":
        notes.append("cluster.workloadPool.priority is 'spot' in prod: the gateway, Open-WebUI and KEDA run there, so "
                     "an eviction takes the platform down until Azure has spot capacity again")
    if cfg.llmd.expose_externally and not cfg.llmd.enabled:
        notes.append("llmd.exposeExternally is true but llmd.enabled is false: no llm-d is deployed or published (and "
                     "no llmdPort exported for a global stack's global.llmdRegions); set llmd.enabled too")
    notes += _risky(cfg, sku) + _managed_os_disks(cfg) + _public_ui(cfg)
    return notes


def _public_ui(cfg: PlatformConfig) -> list[str]:
    """Who can get into an Open-WebUI published on the external gateway (Open-WebUI 0.11.0, routers/auths.py: the
    first account is always admitted and made admin, whatever ENABLE_SIGNUP says)."""
    ui = cfg.webui
    if not (ui.enabled and cfg.gateway.external):
        return []
    notes = []
    if not ui.admin_email:
        notes.append("webui.adminEmail is unset and the UI is public: until its first account exists, whoever "
                     "signs up first becomes its admin; set webui.adminEmail before the first deploy (an admin with a "
                     "generated password in Key Vault, docs/operations.md), or sign up yourself at once")
    if ui.enable_signup:
        who = ("an account that waits for an admin's approval (webui.defaultUserRole 'pending')"
               if ui.default_user_role == "pending" else
               f"an account that chats with the models at once (webui.defaultUserRole {ui.default_user_role!r})")
        notes.append(f"webui.enableSignup is true and the UI is public: anyone who reaches it can create {who}")
    if str(ui.extra_env.get("WEBUI_AUTH", "true")).lower() != "true":  # env.py: true only when lower-cased 'true'
        notes.append("webui.extraEnv.WEBUI_AUTH turns Open-WebUI's sign-in off while the UI is public: anyone who "
                     "reaches it is signed in as its admin (admin@localhost)")
    if ui.extra_env.get("WEBUI_AUTH_TRUSTED_EMAIL_HEADER"):
        notes.append("webui.extraEnv.WEBUI_AUTH_TRUSTED_EMAIL_HEADER signs in whoever that header names, and the "
                     "public gateway passes a client's own headers through: anyone can sign in as anyone")
    return notes


def _managed_os_disks(cfg: PlatformConfig) -> list[str]:
    """security.ephemeralOsDisk asks for ephemeral OS disks; name each pool whose size cannot have one."""
    if not cfg.security.ephemeral_os_disk:
        return []
    c, g = cfg.cluster, cfg.gpu
    pools = [("cluster.systemPool", c.system_pool.vm_size, c.system_pool.os_disk_size_gb),
             ("cluster.workloadPool", c.workload_pool.vm_size, c.workload_pool.os_disk_size_gb)]
    if g.enabled:
        pools.append(("gpu", g.vm_size, g.os_disk_size_gb))
    return [f"security.ephemeralOsDisk: {key} gets no ephemeral OS disk (AKS keeps its own choice, a managed disk "
            f"for these sizes): {why_managed(size, disk)}"
            for key, size, disk in pools if os_disk_type(size, disk, True) is None]


def _risky(cfg: PlatformConfig, sku) -> list[str]:
    """Valid but risky settings, each with the cost or the exposure it implies."""
    notes = []
    if cfg.gpu.enabled and sku is not None:
        peak = (cfg.gpu.max_count + (cfg.gpu.fallback.max_count if cfg.gpu.fallback.enabled else 0)) * sku.gpus
        if peak >= MANY_GPUS:
            notes.append(f"gpu.maxCount lets the autoscaler reach {peak} {sku.gpu_model} GPUs "
                         f"({peak // sku.gpus} x {sku.vm_size}); at peak that is a cost of thousands of USD per hour")
        if cfg.inference.accelerator == "gpu":
            fits = (cfg.gpu.max_count + (cfg.gpu.fallback.max_count if cfg.gpu.fallback.enabled else 0)) \
                * (sku.gpus // max(1, cfg.inference.gpus_per_replica))
            wanted = max(cfg.inference.replicas, cfg.autoscaling.max_replicas if cfg.autoscaling.mode != "none" else 0)
            if wanted > fits:
                notes.append(f"up to {wanted} GPU replicas of {cfg.inference.gpus_per_replica} GPU(s) but the GPU "
                             f"pools hold {fits} at most: the rest stay Pending (raise gpu.maxCount)")
    if "0.0.0.0/0" in cfg.cluster.api_access.authorized_ip_ranges:
        notes.append("cluster.apiAccess.authorizedIpRanges contains 0.0.0.0/0: the API server is open to the whole "
                     "internet (the same exposure as mode 'public')")
    if cfg.namespace in SYSTEM_NAMESPACES:
        notes.append(f"namespace {cfg.namespace!r} is a Kubernetes system namespace: the platform's default-deny "
                     f"NetworkPolicy and Pod Security level would apply to cluster components there")
    if cfg.environment == "prod" and not cfg.observability.enabled:
        notes.append("observability is off in prod: no alerts, dashboards or GPU metrics, and KEDA/HPA autoscaling "
                     "on requests or GPU memory has no signal")
    o = cfg.observability
    if o.enabled and o.azure_monitor and not o.alert_emails:  # prod refuses this (config/sections/observability.py)
        notes.append("observability.alertEmails is empty: the Azure alert rules (managed Prometheus rule group, "
                     "PostgreSQL storage alert) get no action group, so they fire silently (only the portal's alert "
                     "list shows them); list at least one address")
    if o.enabled and o.azure_monitor and o.managed_grafana and not (cfg.cluster.admin_group_object_ids
                                                                    or o.grafana_viewer_group_ids):
        notes.append("observability.managedGrafana: no group gets a Grafana role (cluster.adminGroupObjectIds are "
                     "its admins, observability.grafanaViewerGroupIds its viewers), so only the subscription's "
                     "owners can open it")
    if cfg.gateway.rate_limit_per_second > HIGH_RATE_LIMIT:
        notes.append(f"gateway.rateLimitPerSecond {cfg.gateway.rate_limit_per_second}/s per client is effectively "
                     f"no limit: one client can saturate every model replica")
    return notes
