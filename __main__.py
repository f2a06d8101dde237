"""The LLM inference platform on AKS, composed top to bottom from the llmplatform package.

Config is loaded and validated as a whole first; a bad config stops here with one message and nothing registered.
Components hand each other typed handles (cluster, scheduling, vault, volume, route target, KEDA, model server);
this file passes config values and those handles only.

Two kinds of stack run this program: a platform (dev, prod, llmd, or a regional stack `prod-<region>` behind the
global endpoint) and the global stack (`Pulumi.global.yaml`: Front Door and Fleet Manager over the regional
stacks, whose outputs it reads through StackReferences).
"""

import pulumi
from pulumi_azure_native import resources

from llmplatform import (AksCluster, AppNamespace, AppNamespaceArgs, AzureMonitoring, CostBudget, FleetUpdates,
                         GatewayAccess, GlobalEndpoint, GpuNodePool, InferenceStack, KeyVault, LlmdStack,
                         ModelAutoscaler, ModelAutoscalerArgs, ModelStore, ModelStoreArgs, Observability, OpenWebUi,
                         PostgresServer)
from llmplatform.gateway import LLMD_LISTENER, PLAIN_PORTS, TLS_PORTS

from config import ConfigError, resource_names
from config.advisories import advisories
from config.edge_membership import missing_global_file, unlisted_join
from config.inputs import (aks_cluster_args, diagnostics, gateway_args, gpu_pool_args, inference_args, llmd_args,
                           llmd_webui_args, llmd_webui_namespace, llmd_webui_namespace_args, observability_args,
                           postgres_args, unique_names)
from config.global_stack import (fleet_left_to_environments, fleet_members, region_output, regional_origins,
                                 shared_maintenance_windows)
from config.runtime import is_global_stack, load_global_config, load_platform_config
from config.platform_config import PlatformConfig
from config.regions import GlobalConfig, global_advisories, global_group_name, short_name


def platform_stack(cfg: PlatformConfig) -> None:
    """One cluster and everything on it."""
    prefix = f"{cfg.prefix}-{cfg.environment}"
    stateful = pulumi.ResourceOptions(protect=cfg.protect)  # prod: database, vault, model share, public IP, group, logs

    # The platform's resource group (or the one the stack names): it holds the database and the vault.
    group_name = cfg.resource_group_name or resource_names.resource_group_name(cfg.prefix, cfg.environment)
    resource_group = group_name if cfg.resource_group_name else resources.ResourceGroup(
        "platform-rg", resource_group_name=group_name, location=cfg.location, tags=cfg.tags, opts=stateful).name

    # the storage account, vault, database and Grafana names, unique beyond the stack's subscription (Grafana's in
    # the tenant at least): hashed with the subscription's id
    names = unique_names(cfg)
    monitoring = AzureMonitoring("monitoring", {
        "location": cfg.location, "resource_group_name": resource_group, "name_prefix": prefix,
        "log_retention_days": cfg.observability.log_retention_days,
        "alert_emails": list(cfg.observability.alert_emails),
        "managed_grafana": cfg.observability.managed_grafana, "tags": cfg.tags,
        "grafana_name": (cfg.observability.grafana_name or names.grafana) if cfg.observability.managed_grafana
        else None,
        # the cluster's admin groups administer Grafana too
        "grafana_admin_group_ids": list(cfg.cluster.admin_group_object_ids),
        "grafana_viewer_group_ids": list(cfg.observability.grafana_viewer_group_ids),
    }, stateful) if cfg.observability.enabled and cfg.observability.azure_monitor else None

    # prod: the cluster itself (every object in it, and the volumes its claims made, go with it); its pools, network
    # and grants stay replaceable
    platform = AksCluster("platform", aks_cluster_args(cfg, resource_group, monitoring), stateful)
    cluster = platform.cluster
    in_cluster = pulumi.ResourceOptions(providers=[platform.provider])
    # prod: the generated secrets (API keys, Open-WebUI's session key, passwords) and their Key Vault copies too; each
    # component protects those alone (and Open-WebUI's uploads claim), its objects stay replaceable. A region waiting
    # for its edge keeps its gates' own keys replaceable (api_key_replaceable): they go when it joins.
    secrets = pulumi.ResourceOptions(providers=[platform.provider], protect=cfg.protect)

    gpu = GpuNodePool("gpu", gpu_pool_args(cfg, cluster), in_cluster) if cfg.gpu.enabled else None

    gateway = GatewayAccess("gateway", gateway_args(cfg, cluster), pulumi.ResourceOptions(
        providers=[platform.provider], protect=cfg.protect)) if cfg.gateway.mode != "none" else None

    # InferenceStack guards the namespace's egress (its `egress-guard`): one guard, not two alike
    namespace: AppNamespaceArgs = {"namespace": cfg.namespace, "egress_guard": False}
    if gateway:
        namespace["route_target"] = gateway.route_target
    app = AppNamespace("inference", namespace, in_cluster)

    store = cfg.model_store
    share: ModelStoreArgs = {"cluster": cluster, "namespace": app.namespace, "account_name": names.storage_account}
    if store.resource_group_name:
        share["separate_resource_group"] = store.resource_group_name
    share.update({
        "protocol": store.protocol, "size_gib": store.size_gib, "redundancy": store.redundancy,
        "models": list(store.models), "model_sizes_gib": store.sizes_gib, "preload": store.preload,
        "preload_dry_run": store.preload_dry_run, "check_region_offers": store.check_region_offers,
        "snapshots": store.snapshots, "snapshot_retention_days": store.snapshot_retention_days,
        "snapshot_time": store.snapshot_time,
        "tags": cfg.tags, **diagnostics(cfg, monitoring),
    })
    if store.snapshots and monitoring:  # a failed snapshot job reaches whoever the platform's alerts reach
        share["alert_action_group_id"] = monitoring.monitoring["action_group_id"]
    models = ModelStore("models", share, pulumi.ResourceOptions(providers=[platform.provider], protect=cfg.protect))

    if cfg.observability.monthly_budget is not None and monitoring:  # the loader refuses a budget without e-mails
        # the stack's spend where Azure bills it: the platform's group, AKS's node group (the VMs, GPU pools among
        # them) and the model store's own group
        groups = [resource_group, platform.node_resource_group]
        if store.resource_group_name:
            groups.append(models.resource_group_name)
        CostBudget("cost", {
            "amount": cfg.observability.monthly_budget, "resource_group_names": groups,
            "action_group_id": monitoring.monitoring["action_group_id"],
            "budget_name": resource_names.budget_name(group_name)})

    vault = KeyVault("secrets", {
        "cluster": cluster, "vault_name": names.key_vault,
        "soft_delete_retention_days": cfg.key_vault.soft_delete_retention_days,
        "purge_protection": cfg.key_vault.purge_protection,
        "public_network_access": cfg.key_vault.public_network_access, "tags": cfg.tags, **diagnostics(cfg, monitoring),
    }, stateful)

    # Open-WebUI's database (pgvector), the only user of PostgreSQL here: no UI, no server
    database = PostgresServer("postgres", postgres_args(cfg, cluster, vault.vault, names.postgres_server, monitoring),
                              stateful) if cfg.webui.enabled else None

    observability = Observability("observability", observability_args(
        cfg, cluster, monitoring.monitoring if monitoring else None, vault.vault, database, gpu, gateway, models),
        secrets) if cfg.observability.enabled else None

    keda = observability.keda if observability and cfg.autoscaling.mode == "requests" else None
    stack = InferenceStack("inference", inference_args(cfg, cluster, vault.vault, models.volume, database, gpu, gateway,
                                                       keda), secrets)

    if cfg.autoscaling.mode != "none":
        scaling = cfg.autoscaling
        autoscaler: ModelAutoscalerArgs = {
            "model_server": stack.model_server, "mode": scaling.mode,
            "min_replicas": scaling.min_replicas, "max_replicas": scaling.max_replicas}
        if keda:
            autoscaler["keda"] = keda
        autoscaler.update({
            "target_in_flight": scaling.target_in_flight,
            "gpu_memory_target_percent": scaling.gpu_memory_target_percent,
            "cpu_target_percent": scaling.cpu_target_percent,
            "scale_down_stabilization_seconds": scaling.scale_down_stabilization_seconds,
            "request_timeout_seconds": cfg.gateway.request_timeout_seconds,
            "cold_start_timeout_seconds": scaling.cold_start_timeout_seconds,
        })
        ModelAutoscaler("ollama-autoscaler", autoscaler, in_cluster)

    # llm-d: vLLM + the llm-d inference scheduler on the large-GPU pool, behind the same key and rate limit
    llmd = LlmdStack("llmd", llmd_args(cfg, cluster, gpu, gateway, vault.vault,
                                       observability.keda if observability else None,
                                       observability.prometheus_url if observability else None),
                     secrets) if cfg.llmd.enabled else None
    llmd_webui = llmd and cfg.webui.enabled and cfg.webui.backend == "llmd"
    # under prefill/decode in a namespace of its own (llm-d's is `privileged` then), else in llm-d's
    webui_namespace = llmd_webui_namespace(cfg) if llmd_webui else None
    if llmd_webui:  # the stack's UI on the llm-d model
        own = AppNamespace("llmd-webui", llmd_webui_namespace_args(webui_namespace, gateway),
                           in_cluster).namespace if webui_namespace else None
        OpenWebUi("llmd", llmd_webui_args(cfg, cluster, vault.vault, llmd, database, gateway, own), secrets)

    pulumi.export("resourceGroupName", platform.resource_group_name)
    pulumi.export("clusterName", platform.cluster_name)
    pulumi.export("oidcIssuerUrl", platform.oidc_issuer_url)
    pulumi.export("kubeconfig", platform.kubeconfig)
    pulumi.export("gpuPools", gpu.pool_names if gpu else [])
    pulumi.export("gpuNodeSelector", gpu.scheduling["node_selector"] if gpu else {})
    # what endpoint_tools.verify checks of the GPU software: the GPU Operator's pods (operator) or not (aks)
    pulumi.export("gpuDriver", cfg.gpu.driver if gpu else None)
    pulumi.export("modelStorageAccount", models.storage_account_name)
    pulumi.export("modelPvc", models.volume["claim_name"])
    pulumi.export("modelPreloadJob", models.preload_job_name)
    pulumi.export("modelSnapshotVault", models.snapshot_vault_name)  # with modelStore.snapshots: the restore's vault
    pulumi.export("keyVaultName", vault.vault_name)
    pulumi.export("postgresFqdn", database.fqdn if database else None)
    pulumi.export("apiKeySecret", stack.api_key_secret)
    # what endpoint_tools.verify checks of the Ollama stack (the model server's handle, the autoscaler, the UI)
    server = stack.model_server
    pulumi.export("inference", {
        "namespace": server["namespace"], "deployment": server["deployment"], "accelerator": server["accelerator"],
        "autoscaling": cfg.autoscaling.mode, "webui": stack.webui_service.apply(bool)})
    pulumi.export("gatewayInternalAddress", gateway.internal_address if gateway else None)
    pulumi.export("gatewayExternalAddress", gateway.external_address if gateway else None)
    # no UI, no URL: the gateway's `ui` listener stays, with no route on it (it answers 404)
    pulumi.export("webUiUrl", gateway.ui_url if gateway and cfg.webui.enabled else None)
    pulumi.export("modelApiUrl", gateway.api_url if gateway else None)
    pulumi.export("grafana", observability.grafana_service if observability else None)
    pulumi.export("grafanaPasswordSecret", observability.grafana_password_secret if observability else None)
    pulumi.export("managedGrafanaUrl", monitoring.grafana_endpoint if monitoring else None)
    pulumi.export("llmdUrl", gateway.llmd_url if llmd and gateway else None)  # llm-d needs a gateway (config)
    pulumi.export("llmdModel", llmd.served_model_name if llmd else None)
    pulumi.export("llmdApiKeySecret", llmd.api_key_secret if llmd else None)
    pulumi.export("llmdNamespace", llmd.namespace if llmd else None)  # what endpoint_tools.verify checks
    pulumi.export("llmdInferencePool", llmd.inference_pool if llmd else None)
    # endpoint_tools.verify checks the prefill and decode Deployments, RDMA and the Network Operator when true
    pulumi.export("llmdPrefillDecode", cfg.llmd.prefill_decode if llmd else None)
    # endpoint_tools.verify checks Open-WebUI when true (webui.backend llmd), in llmdWebuiNamespace (else llm-d's)
    pulumi.export("llmdWebui", bool(llmd_webui) if llmd else None)
    pulumi.export("llmdWebuiNamespace", webui_namespace if llmd else None)
    if cfg.edge.enabled:  # what the global stack reads from a regional stack
        tls = cfg.gateway.tls.mode == "letsencrypt"
        pulumi.export("location", cfg.location)
        pulumi.export("clusterId", platform.cluster["cluster_id"])
        # the name Front Door reaches this region at over HTTPS (its certificate's; DNS: gatewayExternalAddress)
        pulumi.export("gatewayHostname", cfg.gateway.tls.hostname if tls else None)
        if llmd and cfg.llmd.expose_externally:  # the global stack's /llmd route forwards here (global.llmdRegions)
            pulumi.export("llmdPort", (TLS_PORTS if tls else PLAIN_PORTS)[LLMD_LISTENER])


def global_stack(cfg: GlobalConfig) -> None:
    """One endpoint over every regional stack, and their upgrades one region at a time."""
    regions = {name: pulumi.StackReference(f"region-{name}", stack_name=cfg.reference(name)) for name in cfg.regions}
    # prod: the group, the Front Door profile (its ID is what every region's gateway admits), its endpoint (the host
    # name clients call) and the edge's workspace; origins, routes and keys stay replaceable (a region leaves, a key
    # name is dropped)
    stateful = pulumi.ResourceOptions(protect=cfg.protect)
    group = resources.ResourceGroup("global-rg", resource_group_name=global_group_name(cfg.prefix),
                                    location=cfg.location, tags=cfg.tags, opts=stateful)
    edge = GlobalEndpoint("edge", {
        "resource_group_name": group.name, "name_prefix": f"{cfg.prefix}-global",
        "origins": regional_origins(regions, cfg.llmd_regions, cfg.origin_protocol == "Https"),
        # every browser to one region's Open-WebUI (global.uiHomeRegion), the others standing by in global.regions'
        # order; Fleet's upgrade order stays global.regions'
        "ui_home": short_name(cfg.ui_home_region),
        "origin_protocol": cfg.origin_protocol, "sku": cfg.sku, "waf_mode": cfg.waf_mode,
        "rate_limit_per_minute": cfg.rate_limit_per_minute,
        "origin_timeout_seconds": cfg.origin_timeout_seconds, "api_keys": list(cfg.api_keys),
        "waf_exclusions": list(cfg.waf_exclusions), "waf_rule_overrides": list(cfg.waf_rule_overrides),
        # the profile's logs: the central workspace global.logAnalyticsWorkspaceId names, else the stack's own
        "log_analytics_workspace_id": cfg.log_analytics_workspace_id or None,
        "location": None if cfg.log_analytics_workspace_id else cfg.location,
        "log_retention_days": None if cfg.log_analytics_workspace_id else cfg.log_retention_days,
        "log_categories": list(cfg.log_categories), "tags": cfg.tags}, stateful)
    # no fleet when every region upgrades itself (edge.fleet false in each stack file)
    members = fleet_members(regions)
    fleet = FleetUpdates("fleet", {
        "resource_group_name": group.name, "location": cfg.location, "fleet_name": f"fleet-{cfg.prefix}-global",
        "members": members, "channel": cfg.fleet_channel,
        "node_image_selection": cfg.node_image_selection,
        "wait_between_regions_seconds": cfg.wait_between_regions_seconds, "tags": cfg.tags}) if members else None
    pulumi.export("uiUrl", edge.ui_url)
    pulumi.export("modelApiUrl", edge.api_url)
    pulumi.export("llmdUrl", edge.llmd_url)
    pulumi.export("frontDoorId", edge.front_door_id)  # each region's edge.frontDoorId (docs/operations.md)
    pulumi.export("apiKey", edge.api_key)  # a Pulumi secret: the newest key, valid in every region
    pulumi.export("apiKeySecret", edge.api_key_secret)  # its name in every regional Key Vault
    pulumi.export("originGroups", edge.origin_groups)
    pulumi.export("logAnalyticsWorkspaceId", edge.log_analytics_workspace_id)  # where the edge's logs are
    pulumi.export("regions", {name: region_output(ref, name, "location") for name, ref in regions.items()})
    pulumi.export("fleetMembers", fleet.members if fleet else [])


try:
    stack = load_global_config() if is_global_stack() else load_platform_config()
except ConfigError as error:
    raise pulumi.RunError(str(error)) from None  # a clean message, no traceback
if isinstance(stack, GlobalConfig):
    for advisory in global_advisories(stack) + fleet_left_to_environments(stack.regions, stack.project) + \
            shared_maintenance_windows(stack.regions, stack.project):
        pulumi.log.warn(advisory)
    global_stack(stack)
else:
    for advisory in advisories(stack) + unlisted_join(stack) + missing_global_file(stack):
        pulumi.log.warn(advisory)
    platform_stack(stack)
