"""Things worth a warning (not an error) about a valid config, shown by `pulumi preview/up` and `make plan`."""
import dataclasses
import ipaddress
from datetime import date
from typing import Optional

from llmplatform.gpu_skus import find_gpu_sku
from llmplatform.images import acr_name
from .catalogs import gpu_quota, vm_shape
from llmplatform.os_disks import os_disk_type, why_managed
from llmplatform.postgres_access import first_schema, pgoptions_search_path
from llmplatform.regions import (federated_credentials_unsupported, postgres_refuses, postgres_size_not_offered,
                                 postgres_zone_redundant_ha_paused, premium_files_refuse_zrs)
from llmplatform.upgrades import gpu_pool_upgrade, surge_nodes
from . import aks_versions
from .component_rules import camel
from .platform_config import PlatformConfig
from .sections.inference import default_context_advisory
MANY_GPUS = 64  # GPUs at peak past which a run-away autoscaler is a budget event
HIGH_RATE_LIMIT = 1000  # requests/s per client: above this the limiter protects nothing


def advisories(cfg: PlatformConfig, today: Optional[date] = None) -> list[str]:
    """`today`: the date the AKS release calendar's warnings are judged on (default: today's)."""
    notes = _defaults_only(cfg)
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
    if cfg.observability.enabled and not cfg.observability.alert_receiver.kind:
        notes.append("observability.alertReceiver is unset: the in-cluster alerts (the platform's PrometheusRule and "
                     "kube-prometheus-stack's) page no one, as Alertmanager keeps the chart's receiver `null`; set "
                     "observability.alertReceiver {kind, secret} (a Key Vault secret holding the webhook URL or key)")
    notes += _settings_unused(cfg)
    notes += _postgres_region(cfg) + _region_offers_unchecked(cfg)
    if federated_credentials_unsupported(cfg.location):
        notes.append(f"location {cfg.location}: Microsoft Entra's page on federated identity credentials lists it "
                     "among the regions where a user-assigned managed identity takes none (the create answers 405), "
                     "and every workload identity of the stack (Open-WebUI, the API gate, the database bootstrap, "
                     "llm-d's) is created in the stack's location and federated with the cluster: check the page "
                     "(learn.microsoft.com/entra/workload-id/workload-identity-federation-considerations) before the "
                     "first deploy")
    notes += _risky(cfg, sku) + _managed_os_disks(cfg) + _public_ui(cfg) + _gpu_quota(cfg, sku) + _mirror(cfg)
    notes += _in_place_drains(cfg, sku) + default_context_advisory(cfg.gpu, cfg.model_store, cfg.inference)
    notes += _cold_behind_edge(cfg)
    notes += _schema_without_search_path(cfg)
    notes += _examples_left(cfg)
    notes += _kubernetes_version(cfg, today or aks_versions.today())
    return notes


def _defaults_only(cfg: PlatformConfig) -> list[str]:
    """A stack whose file sets nothing (an empty or missing `Pulumi.<stack>.yaml`, or values equal to the defaults)
    gets every default: said once, since `pulumi stack init` alone leads there and a valid config says nothing."""
    from .loader import parse_config  # the loader's own defaults, not a copy
    # read under a neutral name: a stack named prod, global or prod-<region> refuses the defaults' environment dev
    if cfg != dataclasses.replace(parse_config({}, cfg.project, "defaults"), stack=cfg.stack):
        return []
    return [f"stack {cfg.stack} sets no config of its own: every default applies (environment {cfg.environment}, "
            f"prefix {cfg.prefix}, location {cfg.location}, the dev-sized pools); set at least `environment` and "
            f"`location` (`pulumi config set environment prod`), or start from a shipped stack file "
            f"(docs/configuration.md)"]


def _postgres_region(cfg: PlatformConfig) -> list[str]:
    """What Microsoft's regions table for PostgreSQL flexible server (llmplatform/data/azure_service_regions.json)
    shows as not offered now for a new server in the stack's region, where a deployed one keeps it: a size whose
    generation the Intel or AMD column does not list, and zone-redundant HA marked '$' ("new zone-redundant HA
    deployments are temporarily blocked"). Not refused: both follow capacity and change; a new server may be."""
    if not cfg.webui.enabled:  # no server without the UI
        return []
    notes = []
    offered = postgres_size_not_offered(cfg.location, cfg.postgres.sku_name)
    if offered:
        notes.append(f"postgres.skuName {cfg.postgres.sku_name} in {cfg.location}: Microsoft's regions table for "
                     f"PostgreSQL flexible server does not list its generation there ({offered.split('(', 1)[1]}, so "
                     "creating a server of this size (a new stack, or a server replaced) may be refused; a server "
                     "that has it keeps it. Pick a size of a listed generation (config/data/postgres_skus.json)")
    if cfg.postgres.high_availability and postgres_zone_redundant_ha_paused(cfg.location):
        # prod's own rule keeps HA on: there the way out is to wait or to go where the table shows no block
        then = ("prod needs postgres.highAvailability, so wait for the block to lift or deploy the new stack in a "
                "region whose zone-redundant HA the table does not mark as blocked (`zone_redundant_ha` less "
                "`zone_redundant_ha_new_blocked` in llmplatform/data/azure_service_regions.json, e.g. swedencentral)"
                if cfg.environment == "prod" else
                "deploy with postgres.highAvailability false and turn it on once the block is lifted (an in-place "
                "update)")
        notes.append(f"postgres.highAvailability in {cfg.location}: Microsoft's regions table for PostgreSQL flexible "
                     "server marks new zone-redundant HA deployments there as temporarily blocked, so creating a "
                     "server (a new stack, or a server replaced) with HA may be refused until then; a server that has "
                     f"its standby keeps it. If the create is refused, {then}")
    return notes


def _region_offers_unchecked(cfg: PlatformConfig) -> list[str]:
    """`checkRegionOffers: false`: what the refusal it turns off would have said (the server's HA or geo-redundant
    backup, the share's ZRS, where Microsoft's page shows the region without them), as a warning, since a new server
    or share there would be refused by Azure; and the key when it keeps nothing (back to true, so a replacement is
    held to the page again)."""
    notes = []
    if not cfg.model_store.check_region_offers:
        if cfg.model_store.redundancy == "ZRS" and premium_files_refuse_zrs(cfg.location):
            notes.append(f"modelStore.checkRegionOffers false: modelStore.redundancy ZRS in {cfg.location}, where "
                         "Microsoft's page lists SSD file shares with LRS only; the existing share keeps ZRS, but a "
                         "new one (a new stack, a share replaced) would be refused by Azure unless the region has "
                         "gained it since the page was read")
        else:
            notes.append("modelStore.checkRegionOffers false keeps nothing here (the share's redundancy is offered in "
                         f"{cfg.location}): set it back to true, so a new share is held to Microsoft's page again")
    if not cfg.postgres.check_region_offers and cfg.webui.enabled:
        kept = [key for key, on, feature in (("highAvailability", cfg.postgres.high_availability, "zone_redundant_ha"),
                                             ("geoRedundantBackup", cfg.postgres.geo_redundant_backup,
                                              "geo_redundant_backup"))
                if on and postgres_refuses(cfg.location, feature)]
        if kept:
            notes.append(f"postgres.checkRegionOffers false: postgres.{' and postgres.'.join(kept)} true in "
                         f"{cfg.location}, where Microsoft's regions table for PostgreSQL flexible server lists "
                         f"{'them' if len(kept) > 1 else 'it'} as not offered; the existing server keeps "
                         f"{'them' if len(kept) > 1 else 'it'}, but a new one (a new stack, a server replaced) would "
                         "be refused by Azure unless the region has gained it since the table was read")
        else:
            notes.append("postgres.checkRegionOffers false keeps nothing here (the server's options are offered in "
                         f"{cfg.location}): set it back to true, so a new server is held to Microsoft's regions table "
                         "again")
    return notes


def _settings_unused(cfg: PlatformConfig) -> list[str]:
    """`llmd.*` settings given while llm-d is off: nothing reads them (a token secret or a model meant for a stack
    that does not deploy llm-d); exposeExternally has its own line above. Likewise `postgres.*` while the UI, its
    only user, is off (no server is created)."""
    return (_unread("llmd", cfg.llmd, ("enabled", "expose_externally"), "llmd.enabled", "no llm-d is deployed")
            if not cfg.llmd.enabled else []) + \
        (_unread("postgres", cfg.postgres, (), "webui.enabled", "no PostgreSQL server is created")
         if not cfg.webui.enabled else []) + _autoscaling_unread(cfg) + _llmd_switched_unread(cfg)


# llm-d's keys its switches leave unread: config/inputs.py `llmd_args` hands them to LlmdStack with their switch alone
_LLMD_SWITCHED = (("autoscaling", ("min_replicas", "max_replicas", "scale_up_stabilization_seconds",
                                   "scale_down_stabilization_seconds"), "vLLM runs llmd.replicas, a fixed count"),
                  ("prefill_decode", ("prefill_replicas", "prefill_tensor_parallel_size"), "vLLM runs one Deployment"))


def _llmd_switched_unread(cfg: PlatformConfig) -> list[str]:
    """An `llmd.*` key given otherwise than its default while the switch that reads it is off."""
    if not cfg.llmd.enabled:
        return []
    return [note for switch, fields, consequence in _LLMD_SWITCHED if not getattr(cfg.llmd, switch)
            for note in _unread("llmd", cfg.llmd, tuple(f.name for f in dataclasses.fields(cfg.llmd)
                                                        if f.name not in fields),
                                f"llmd.{camel(switch)}", consequence)]


# The autoscaling settings each mode reads (components/llmplatform/model_autoscaler.py, __main__.py): the requests
# mode's KEDA ScaledObject takes a CPU trigger on a CPU only (no second signal on a GPU, docs/decisions.md "GPU memory
# is no load signal"); the HPA modes read CPU, and gpu-memory GPU memory first; `none` makes no autoscaler (the
# replicas are inference.replicas). The KEDA HTTP interceptor runs where KEDA does: requests mode, or llm-d's
# autoscaling (config/inputs.py observability_args). coldStartTimeoutSeconds is not listed: the alerts read it in any
# mode (a model server that may be at zero, llm-d's included).
_BOUNDS = ("min_replicas", "max_replicas", "scale_down_stabilization_seconds")
_TARGETS_READ = {"requests": ("target_in_flight", "cpu_target_percent", *_BOUNDS, "interceptor_replicas"),
                 "gpu-memory": ("gpu_memory_target_percent", "cpu_target_percent", *_BOUNDS),
                 "cpu": ("cpu_target_percent", *_BOUNDS), "none": ()}
_MODE_READS = {"requests": "it scales on the requests in flight per replica (autoscaling.targetInFlight), with CPU "
                           "as a second signal on a CPU only",
               "gpu-memory": "it scales on GPU memory (autoscaling.gpuMemoryTargetPercent) and CPU",
               "cpu": "it scales on CPU alone (autoscaling.cpuTargetPercent)",
               "none": "no autoscaler is made (inference.replicas is the replica count)"}


def _autoscaling_unread(cfg: PlatformConfig) -> list[str]:
    """An autoscaling setting given (otherwise than its default) that the stack's mode never reads: a stack moved
    from gpu-memory to requests keeping gpuMemoryTargetPercent scales on requests alone, and one moved to `none`
    keeping maxReplicas runs inference.replicas, without a word."""
    scaling = cfg.autoscaling
    read = set(_TARGETS_READ[scaling.mode])
    on_gpu = cfg.inference.accelerator == "gpu"
    if scaling.mode == "requests" and on_gpu:
        read.discard("cpu_target_percent")
    if cfg.llmd.enabled and cfg.llmd.autoscaling:  # llm-d's KEDA brings the interceptor in any mode
        read.add("interceptor_replicas")
    given = [f for f in _given(scaling, ("target_in_flight", "gpu_memory_target_percent", "cpu_target_percent",
                                         *_BOUNDS, "interceptor_replicas")) if f not in read]
    if not given:
        return []
    names, them = ", ".join(f"autoscaling.{camel(f)}" for f in given), _them(given)
    where = " on a GPU (inference.accelerator 'gpu')" if scaling.mode == "requests" and on_gpu \
        and "cpu_target_percent" in given else ""
    interceptor = ("; the KEDA HTTP interceptor (autoscaling.interceptorReplicas) runs in requests mode, or for "
                   "llm-d's autoscaling (llmd.autoscaling)") if "interceptor_replicas" in given \
        and scaling.mode != "none" else ""
    return [f"{names} set but autoscaling.mode is {scaling.mode!r}{where}, which does not read {them}: "
            f"{_MODE_READS[scaling.mode]}{interceptor}; remove {them}, or set the mode that reads {them}"]


def _unread(section: str, settings: object, skip: tuple[str, ...], switch: str, consequence: str) -> list[str]:
    """One line naming the `section.*` settings given otherwise than their defaults while `switch` is off."""
    fields = tuple(f.name for f in dataclasses.fields(settings) if f.name not in skip)  # type: ignore[arg-type]
    given = [camel(f) for f in _given(settings, fields)]
    them = _them(given)
    return [f"{section}.{f', {section}.'.join(given)} set but {switch} is false: {consequence}, so nothing reads "
            f"{them}; set {switch}, or remove {them}"] if given else []


def _given(settings: object, fields: tuple[str, ...]) -> list[str]:
    """The `fields` of a settings dataclass given otherwise than its defaults, in that order."""
    unset = type(settings)()
    return [f for f in fields if getattr(settings, f) != getattr(unset, f)]


def _them(names: list[str]) -> str:
    return "them" if len(names) > 1 else "it"


def _kubernetes_version(cfg: PlatformConfig, today: date) -> list[str]:
    """The AKS release calendar on today's date (the config check judged the version on the calendar's own): a
    pinned minor whose support has ended since, or ends soon, and a calendar too old to trust."""
    notes = []
    version, lts = cfg.cluster.kubernetes_version, cfg.cluster.tier == "Premium"
    if version:
        on = max(today, aks_versions.calendar_date())
        why = aks_versions.unsupported(version, lts, on)
        if why:
            notes.append(f"cluster.kubernetesVersion {version!r} has lost AKS's support by today ({on}), by AKS's "
                         f"release calendar of {aks_versions.calendar_date()}: {why}; AKS creates no cluster with "
                         f"it, so pick {aks_versions.window(on)}")
        else:
            notes += aks_versions.notes(version, lts, on, cfg.location)
    stale = aks_versions.stale(today)
    return notes + ([stale] if stale else [])


def _cold_behind_edge(cfg: PlatformConfig) -> list[str]:
    """Behind the global endpoint a model server at zero fails Front Door's probe (the gate's /healthz/model asks it
    for its model list within 5 s), and Front Door sends an unhealthy region no request that would wake it."""
    if not cfg.edge.enabled:
        return []
    why = ("Front Door's probe of the region fails while it is at zero, so it sends the region no request that "
           "would start it (only when every region fails); keep one replica warm")
    cold = []
    if cfg.autoscaling.mode != "none" and cfg.autoscaling.min_replicas == 0:
        cold.append(f"autoscaling.minReplicas is 0 behind the global endpoint (edge.globalStack): {why}")
    if cfg.llmd.enabled and cfg.llmd.expose_externally and cfg.llmd.min_replicas == 0:
        cold.append(f"llmd.minReplicas is 0 while llmd.exposeExternally puts llm-d behind the global endpoint: {why}")
    return cold


def _mirror(cfg: PlatformConfig) -> list[str]:
    registry = cfg.cluster.image_registry
    if not registry:
        return []
    notes = [f"cluster.imageRegistry {registry}: every image comes from it; fill it before `pulumi up` (the copy "
             f"commands: `make images`, named below; docs/images.md), and again after a pin or chart bump, or pods "
             f"wait in ImagePullBackOff"]
    if acr_name(registry) and not cfg.cluster.image_registry_id:
        notes.append(f"cluster.imageRegistryId is unset: the nodes pull from {registry} only if its AcrPull is "
                     f"granted elsewhere (set the registry's resource id and the cluster's kubelet identity gets it)")
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


def _llmd_gpus(cfg: PlatformConfig) -> tuple[int, str]:
    """The GPUs llm-d's vLLM takes at its most on the GPU pools, and the keys that say so ((0, "") without llm-d)."""
    m = cfg.llmd
    if not m.enabled:
        return 0, ""
    most, key = (m.max_replicas, "llmd.maxReplicas") if m.autoscaling else (m.replicas, "llmd.replicas")
    gpus, keys = most * m.tensor_parallel_size, f"{key} x llmd.tensorParallelSize"
    if m.prefill_decode:
        gpus += m.prefill_replicas * m.prefill_tensor_parallel_size
        keys += " + llmd.prefillReplicas x llmd.prefillTensorParallelSize"
    return gpus, keys


def _risky(cfg: PlatformConfig, sku) -> list[str]:
    """Valid but risky settings, each with the cost or the exposure it implies."""
    notes = []
    if cfg.gpu.enabled and sku is not None:
        peak = (cfg.gpu.max_count + (cfg.gpu.fallback.max_count if cfg.gpu.fallback.enabled else 0)) * sku.gpus
        if peak >= MANY_GPUS:
            notes.append(f"gpu.maxCount lets the autoscaler reach {peak} {sku.gpu_model} GPUs "
                         f"({peak // sku.gpus} x {sku.vm_size}); at peak that is a cost of thousands of USD per hour")
        if cfg.inference.accelerator == "gpu":
            per_replica = max(1, cfg.inference.gpus_per_replica)
            pool_nodes = cfg.gpu.max_count + (cfg.gpu.fallback.max_count if cfg.gpu.fallback.enabled else 0)
            llmd_gpus, llmd_keys = _llmd_gpus(cfg)
            # llm-d's vLLM runs on the same pools (its scheduling is the GPU pool's): its GPUs at its most are not
            # Ollama's, whatever the packing
            fits = min(pool_nodes * (sku.gpus // per_replica), (pool_nodes * sku.gpus - llmd_gpus) // per_replica)
            scaled = cfg.autoscaling.max_replicas if cfg.autoscaling.mode != "none" else 0
            wanted = cfg.most_ollama_replicas
            key = "autoscaling.maxReplicas" if scaled >= cfg.inference.replicas else "inference.replicas"
            nodes = f"gpu.maxCount {cfg.gpu.max_count}" + (
                f" + gpu.fallback.maxCount {cfg.gpu.fallback.max_count}" if cfg.gpu.fallback.enabled else "")
            less = f", less llm-d's {llmd_gpus} GPU(s) at its most: {llmd_keys}" if llmd_gpus else ""
            if wanted > fits:
                notes.append(f"up to {wanted} GPU replicas ({key}) of {cfg.inference.gpus_per_replica} GPU(s) "
                             f"(inference.gpusPerReplica) but the GPU pools hold {max(fits, 0)} at most ({nodes} x "
                             f"{sku.vm_size}, {sku.gpus} GPU(s) each{less}): the rest stay Pending; raise "
                             f"gpu.maxCount or lower {key}" + (f" or {llmd_keys.split(' x ')[0]}" if llmd_gpus else ""))
    if "0.0.0.0/0" in cfg.cluster.api_access.authorized_ip_ranges:
        notes.append("cluster.apiAccess.authorizedIpRanges contains 0.0.0.0/0: the API server is open to the whole "
                     "internet (the same exposure as mode 'public')")
    if cfg.environment == "prod" and not cfg.observability.enabled:
        notes.append("observability is off in prod: no alerts, dashboards or GPU metrics, and KEDA/HPA autoscaling "
                     "on requests or GPU memory has no signal")
    o = cfg.observability
    if o.enabled and o.azure_monitor and not o.alert_emails:  # prod refuses this (config/sections/observability.py)
        notes.append("observability.alertEmails is empty: the Azure alert rules (managed Prometheus rule group, "
                     "PostgreSQL storage alert) get no action group, so they fire silently (only the portal's alert "
                     "list shows them); list at least one address")
    if cfg.environment == "prod" and o.monthly_budget is None:
        notes.append("observability.monthlyBudget is unset: nothing in Azure tells anyone when the month's spend runs "
                     "away (an autoscaler held at its GPU maximum, a fallback pool on on-demand); set it a little "
                     "above the plan's peakMonthly (build/<stack>/cost.json), in the billing account's currency")
    if o.enabled and o.azure_monitor and o.managed_grafana and not (cfg.cluster.admin_group_object_ids
                                                                    or o.grafana_viewer_group_ids):
        notes.append("observability.managedGrafana: no group gets a Grafana role (cluster.adminGroupObjectIds are "
                     "its admins, observability.grafanaViewerGroupIds its viewers), so only the subscription's "
                     "owners can open it")
    if cfg.environment == "prod" and cfg.cluster.disable_local_accounts and not cfg.cluster.admin_group_object_ids:
        notes.append("cluster.adminGroupObjectIds is empty in prod: only the identity that runs `pulumi up` is "
                     "granted the cluster (AKS RBAC Cluster Admin) and local accounts are off, so when that is a CI "
                     "identity no person can reach the cluster; list an Entra ID group of the platform's operators")
    if cfg.gateway.rate_limit_per_second > HIGH_RATE_LIMIT:
        notes.append(f"gateway.rateLimitPerSecond {cfg.gateway.rate_limit_per_second}/s per client is effectively "
                     f"no limit: one client can saturate every model replica")
    return notes


def _in_place_drains(cfg: PlatformConfig, sku) -> list[str]:
    """An on-demand GPU pool upgraded in place (no gpu.upgradeMaxSurge) drains one node at a time, and each model
    server's disruption budget lets one replica be down at a time (maxUnavailable 1): a node holding two replicas of
    one server gives up the second only once the first is Ready on another node, so with no free GPU elsewhere the
    drain waits until the pool's drain timeout (the stack's longest grace + 5 minutes) fails the upgrade
    (llmplatform.upgrades, and docs/decisions.md "Node pool upgrades: surge, quota, spot"). Said where a server's
    replicas can share a node."""
    g = cfg.gpu
    if not g.enabled or sku is None or g.upgrade_max_surge or not (g.priority == "regular" or g.fallback.enabled):
        return []
    servers = []
    if cfg.inference.accelerator == "gpu":
        servers.append(("Ollama", "inference.gpusPerReplica", cfg.inference.gpus_per_replica,
                        cfg.most_ollama_replicas))
    if cfg.llmd.enabled and not cfg.llmd.prefill_decode:
        most = max(cfg.llmd.replicas, cfg.llmd.max_replicas if cfg.llmd.autoscaling else 0)
        servers.append(("vLLM", "llmd.tensorParallelSize", cfg.llmd.tensor_parallel_size, most))
    elif cfg.llmd.enabled:  # prefill and decode: two Deployments of fixed replicas, each its own budget of one
        servers.append(("vLLM decode", "llmd.tensorParallelSize", cfg.llmd.tensor_parallel_size, cfg.llmd.replicas))
        servers.append(("vLLM prefill", "llmd.prefillTensorParallelSize", cfg.llmd.prefill_tensor_parallel_size,
                        cfg.llmd.prefill_replicas))
    pool = "gpu.priority regular pool" if g.priority == "regular" else "on-demand fallback (gpu.fallback)"
    return [f"gpu.upgradeMaxSurge is unset, so the {pool} is upgraded in place, one node at a time, and a "
            f"{sku.vm_size} node holds up to {sku.gpus // gpus} {name} replicas of {gpus} GPU(s) ({key}): a drain "
            f"lets one of them go, and the next only once the first is Ready on another node, so with no free GPU "
            f"elsewhere the pool's {cfg.drain_timeout_minutes}-minute drain timeout fails the upgrade; set "
            f"gpu.upgradeMaxSurge (a node is added first, from the GPU family's quota) or keep that much GPU free"
            for name, key, gpus, most in servers if sku.gpus // max(1, gpus) >= 2 and most >= 2]


def _gpu_quota(cfg: PlatformConfig, sku) -> list[str]:
    """A first deploy meets the subscription's vCPU quotas before anything else: a GPU family's is 0 in most
    subscriptions, and spot VMs draw on the regional low-priority quota whatever their family
    (config/data/gpu_quota_families.json). Per quota, the vCPUs the pools reach at their maxCount, and an upgrade's
    surge nodes on top (AKS checks the quota for them first: llmplatform.upgrades)."""
    g = cfg.gpu
    quota = gpu_quota(sku.vm_size) if g.enabled and sku is not None else None
    if quota is None:
        return []
    cpu = {"regular": 0, "spot": 0}  # the CPU pools share the regional totals
    cpu_surge = 0  # of the regular ones, an upgrade's surge nodes (the system and CPU pools keep AKS's default)
    for pool in (cfg.cluster.system_pool, cfg.cluster.workload_pool):
        shape = vm_shape(pool.vm_size)
        if shape is not None:
            surge = surge_nodes(pool.max_count, pool.priority == "spot") * shape.vcpus
            cpu[pool.priority] += pool.max_count * shape.vcpus + surge
            cpu_surge += surge
    on_demand = [f"gpu.maxCount {g.max_count}"] if g.priority == "regular" else []
    if g.fallback.enabled:  # the on-demand fallback pool: the same size, so the same family
        on_demand.append(f"gpu.fallback.maxCount {g.fallback.max_count}")
    needs = []
    if g.priority == "spot":
        needs.append(f"spot: {g.max_count * sku.vcpus} vCPUs (gpu.maxCount {g.max_count} x {sku.vcpus}) of "
                     f"'{quota.spot}', the regional spot quota every family draws on, none more for an upgrade (AKS "
                     f"upgrades spot pools without surge nodes)"
                     + (f" (the spot CPU nodes take {cpu['spot']} more)" if cpu["spot"] else ""))
    if on_demand:
        pools = ([g.max_count] if g.priority == "regular" else []) + ([g.fallback.max_count] if g.fallback.enabled
                                                                      else [])
        nodes = sum(pools)
        settings = gpu_pool_upgrade(False, g.upgrade_max_surge)
        gpu_surge = sum(surge_nodes(n, False, settings) for n in pools) * sku.vcpus
        upgrade = (f"{gpu_surge} more for an upgrade's surge nodes (gpu.upgradeMaxSurge {g.upgrade_max_surge})"
                   if gpu_surge else
                   f"none more for an upgrade (the {'fallback' if g.priority == 'spot' else 'GPU'} pool is upgraded "
                   f"in place, one node at a time: maxSurge 0, maxUnavailable 1)")
        cpu_note = f", {cpu_surge} of them for an upgrade's surge nodes" if cpu_surge else ""
        needs.append(f"on demand: {nodes * sku.vcpus} vCPUs ({' + '.join(on_demand)} x {sku.vcpus}) of the family "
                     f"quota '{quota.family}', 0 by default in most subscriptions, and of '{quota.regional}', "
                     f"{upgrade}" + (f" (the regular CPU nodes take {cpu['regular']} more{cpu_note})" if cpu["regular"]
                                     else ""))
    else:
        needs.append(f"on demand (gpu.priority regular, gpu.fallback) it would need the family quota "
                     f"'{quota.family}', 0 by default in most subscriptions")
    zones = [] if g.regional else list(g.zones or cfg.cluster.zones)
    # no vendored source says which sizes a region offers (docs/decisions.md): the command that does
    offered = (f"; and that {sku.vm_size} is offered to the subscription in zones {', '.join(zones)} (`az vm "
               f"list-skus --location {cfg.location} --size {sku.vm_size} --zone -o table`: AKS refuses a pool in a "
               f"zone without it; gpu.regional true puts the GPU pools in no zone)") if zones else \
        (f"; and that {sku.vm_size} is offered to the subscription in {cfg.location} at all (`az vm list-skus "
         f"--location {cfg.location} --size {sku.vm_size} -o table`: no row, or a NotAvailableForSubscription "
         f"restriction, and AKS refuses the pool; not every region has every GPU size)")
    return [f"GPU quota for gpu.vmSize {sku.vm_size} at its pools' maxCount: {'; '.join(needs)}. Before the first "
            f"deploy check Limit minus CurrentValue in `az vm list-usage --location {cfg.location} -o table` and "
            f"ask for more on the portal's Quotas page (Compute){offered}"]


# Documentation's own values (RFC 2606 domains, RFC 5737 TEST-NET ranges): what a stack file ships to be replaced
_EXAMPLE_DOMAINS = ("example.com", "example.org", "example.net")
_TEST_NETS = (ipaddress.ip_network("192.0.2.0/24"), ipaddress.ip_network("198.51.100.0/24"),
              ipaddress.ip_network("203.0.113.0/24"))


def _is_example_domain(text: str) -> bool:
    host = text.rsplit("@", 1)[-1].lower().rstrip(".")
    return any(host == d or host.endswith("." + d) for d in _EXAMPLE_DOMAINS)


def _is_test_net(cidr: str) -> bool:
    try:
        network = ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        return False
    return any(network.version == t.version and network.subnet_of(t) for t in _TEST_NETS)  # type: ignore[arg-type]


def _listed(key: str, values: list[str], shown: int = 3) -> list[str]:
    """`key` and its first `shown` values, and how many more: a list of a hundred example entries stays one line."""
    if not values:
        return []
    more = f" and {len(values) - shown} more" if len(values) > shown else ""
    return [f"{key} {', '.join(values[:shown])}{more}"]


def _schema_without_search_path(cfg: PlatformConfig) -> list[str]:
    """webui.extraEnv.DATABASE_SCHEMA not first in the search_path: Open-WebUI 0.11.0 qualifies its queries with it
    (internal/db.py `MetaData(schema=DATABASE_SCHEMA)`; SQLAlchemy quotes a name that is not lower case, so it is
    taken as written) while its Alembic migrations name no schema and write into the search_path's first existing
    schema, `public` unless PGOPTIONS (or the URL's options or the role's own default, which the stack file cannot
    see: a warning, not a refusal) says otherwise; the UI then queries tables that are not there."""
    ui = cfg.webui
    schema = ui.extra_env.get("DATABASE_SCHEMA")
    if not ui.enabled or not isinstance(schema, str) or schema == "" or "PGOPTIONS" in ui.secret_env:
        return []
    options = ui.extra_env.get("PGOPTIONS")
    search_path = pgoptions_search_path(options) if isinstance(options, str) else None
    first = first_schema(search_path) if search_path is not None else "public"  # the default: "$user", public
    if first == schema:
        return []
    named = schema if schema == schema.lower() and schema.replace("_", "a").isalnum() and not schema[0].isdigit() \
        else '"' + schema.replace('"', '""') + '"'
    given = "no search_path is given" if search_path is None else \
        f"webui.extraEnv.PGOPTIONS sets search_path {search_path!r}, whose first schema is {first or 'none'!r}"
    return [f"webui.extraEnv.DATABASE_SCHEMA is {schema!r} but {given}: Open-WebUI's migrations "
            f"write into the search_path's first schema ('public' unless the role's default says otherwise) while "
            f"the UI queries {schema!r}, so it finds no tables; set webui.extraEnv.PGOPTIONS "
            f"'-c search_path={named},public' (the database bootstrap creates the schema; "
            f"docs/components/inference-stack.md, \"A schema other than `public`\")"]


def _examples_left(cfg: PlatformConfig) -> list[str]:
    """The stack file's REPLACE values still in place: a deploy with them has no reachable API server (TEST-NET
    ranges), a certificate Let's Encrypt never issues and an admin nobody reads mail for (example domains)."""
    found = _listed("cluster.apiAccess.authorizedIpRanges",
                    [r for r in cfg.cluster.api_access.authorized_ip_ranges if _is_test_net(r)])
    found += [f"{key} {value}" for key, value in (("gateway.tls.hostname", cfg.gateway.tls.hostname),
                                                  ("gateway.tls.email", cfg.gateway.tls.email),
                                                  ("webui.adminEmail", cfg.webui.admin_email))
              if value and _is_example_domain(value)]
    found += _listed("observability.alertEmails", [e for e in cfg.observability.alert_emails if _is_example_domain(e)])
    if not found:
        return []
    # said of the values, not of the file: a stack file of one's own with an example.com hostname marks nothing (a
    # stranger's staging file was told "the stack file marks them REPLACE", 2026-12-06)
    return [f"example values to replace before the first deploy (example domains and TEST-NET ranges, which the "
            f"shipped stack files mark REPLACE): {'; '.join(found)}"]
