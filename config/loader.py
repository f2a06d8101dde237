"""Builds a PlatformConfig from raw stack config and validates it as a whole.

`parse_config` is pure (a dict in, frozen objects out) so every rule is tested without Pulumi. All problems are
collected and raised together in one ConfigError, before any resource exists.

Read top to bottom: the top-level keys, each section in turn (config/sections/<section>.py reads and checks it; the
edge section is in config/regions.py), the checks across sections in order (the prod rules and cross-section checks
of this module, then each section's own), and the names the prefix derives.
"""
from __future__ import annotations

import re
from typing import Any

from llmplatform.azure_names import KUBERNETES_NAMESPACES, NODE_RESOURCE_GROUP_MAX, node_resource_group
from llmplatform.input_rules import problems_of
from llmplatform.regions import premium_files_refuse_zrs
from llmplatform.upgrades import DRAIN_TIMEOUT_MAX_MINUTES, drain_minutes_for

from . import resource_names, regions
from .catalogs import RESOURCE_GROUP
from .platform_config import PlatformConfig
from .reader import ConfigError, Reader, describe
from .stack_names import prod_name_problem
from .sections.autoscaling import parse_autoscaling
from .sections.autoscaling_checks import autoscaling_cross_checks
from .sections.cluster import ClusterConfig, parse_cluster
from .sections.cost import cost_price_checks, parse_cost
from .sections.gateway import gateway_prod_checks, parse_gateway
from .sections.gpu import GpuConfig, parse_gpu
from .sections.inference import (inference_fit_checks, inference_prod_checks, inference_stack_checks, parse_inference,
                                 warm_model_checks)
from .sections.key_vault import key_vault_prod_checks, parse_key_vault
from .sections.llmd import LlmdConfig, llmd_autoscaling_checks, llmd_cross_checks, parse_llmd
from .sections.model_store import ModelStoreConfig, parse_model_store
from .sections.network import NetworkConfig, parse_network
from .sections.observability import observability_prod_checks, parse_observability
from .sections.postgres import parse_postgres, postgres_prod_checks
from .sections.security import parse_security, security_cross_checks
from .sections.webui import parse_webui, webui_backend_checks, webui_prod_checks

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")


def parse_config(raw: dict[str, Any], project: str, stack: str) -> PlatformConfig:
    """Validate the whole stack config; raise ConfigError listing every problem, or return frozen config."""
    problems: list[str] = []
    top = Reader(raw, "", problems)
    environment, prefix, location = resource_names.read_environment_prefix_location(top, "dev")
    named_prod = prod_name_problem(stack, environment)
    if named_prod:
        top.problem(named_prod)
    namespace = top.str_("namespace", "llm") or "llm"
    if not _DNS_LABEL.fullmatch(namespace):
        top.problem(f"namespace {describe(namespace)} must be a DNS label (lowercase letters, digits, '-')")
    protect = top.bool_("protectStatefulResources", False)
    legacy_global_names = top.bool_("legacyGlobalNames", False)
    resource_group_name = top.str_("resourceGroupName", None, allow_empty=True)  # "": create rg-<prefix>-<env>
    if resource_group_name is not None and not RESOURCE_GROUP.fullmatch(resource_group_name):
        top.problem(f"resourceGroupName {describe(resource_group_name)} is not an Azure resource group name "
                    f"(1-90 letters, digits, '_', '-', '.', '(', ')', not ending in '.')")
    elif resource_group_name and resource_names.PREFIX_PATTERN.fullmatch(prefix):
        _cluster_group_checks(top, resource_group_name, resource_names.cluster_name(prefix, environment), location)

    network = parse_network(top.section("network"))
    cluster = parse_cluster(top.section("cluster"), location)
    gpu = parse_gpu(top.section("gpu"), location)
    model_store = parse_model_store(top.section("modelStore"), location)
    inference = parse_inference(top.section("inference"))
    webui = parse_webui(top.section("webui"))
    postgres = parse_postgres(top.section("postgres"), location)
    key_vault = parse_key_vault(top.section("keyVault"))
    gateway = parse_gateway(top.section("gateway"), network)
    observability = parse_observability(top.section("observability"))
    autoscaling = parse_autoscaling(top.section("autoscaling"))
    llmd = parse_llmd(top.section("llmd"))
    security = parse_security(top.section("security"))
    cost = parse_cost(top.section("cost"))
    edge = regions.edge(top.section("edge"))
    top.reject_unknown_keys()

    _cross_checks(top, environment, location, protect, network, cluster, gpu, model_store)
    _collisions(top, prefix, environment, namespace, resource_group_name, cluster, gpu, model_store)
    _llmd_namespace_collisions(top, prefix, environment, namespace, llmd)
    inference_prod_checks(top, environment, inference)
    warm_model_checks(top, inference, model_store)
    key_vault_prod_checks(top, environment, key_vault)
    if webui.enabled:  # the UI's database, the only one: without the UI no server is created to hold to prod's rules
        postgres_prod_checks(top, environment, location, postgres)
    inference_fit_checks(top, gpu, model_store, inference, cluster)
    inference_stack_checks(top, inference, webui, gateway, autoscaling, postgres.sku_name)
    observability_prod_checks(top, environment, observability)
    autoscaling_cross_checks(top, environment, observability, autoscaling, inference)
    llmd_cross_checks(top, llmd, gpu, gateway)
    webui_backend_checks(top, webui, llmd, namespace)
    if llmd.enabled and gpu.enabled:
        llmd_autoscaling_checks(top, llmd, gpu, observability.enabled)
    security_cross_checks(top, security, observability)
    cost_price_checks(top, cost, location)
    gateway_prod_checks(top, environment, gateway, edge.enabled)
    webui_prod_checks(top, environment, webui, gateway.external)
    regions.edge_cross_checks(top, edge, cluster.upgrade_channel, gateway.external, cluster.kubernetes_version)
    if resource_names.PREFIX_PATTERN.fullmatch(prefix):
        # the names derived from the prefix, against the components' naming rules (guards the derivation itself)
        for what, derived, valid in (
                ("storage account", resource_names.storage_account_name(prefix, environment, location),
                 resource_names.is_valid_storage_account_name),
                ("Key Vault", resource_names.key_vault_name(prefix, environment, location),
                 resource_names.is_valid_key_vault_name),
                ("PostgreSQL server", resource_names.postgres_server_name(prefix, environment, location),
                 resource_names.is_valid_postgres_server_name)):
            if not valid(derived):
                top.problem(f"prefix {describe(prefix)} gives an invalid {what} name {derived!r}")
    if problems:
        raise ConfigError(problems)
    cfg = PlatformConfig(project=project, stack=stack, environment=environment, prefix=prefix, location=location,
                          resource_group_name=resource_group_name, namespace=namespace, protect=protect,
                          legacy_global_names=legacy_global_names,
                          network=network, cluster=cluster, gpu=gpu, model_store=model_store,
                          inference=inference, webui=webui, postgres=postgres, key_vault=key_vault,
                          gateway=gateway, llmd=llmd, security=security, cost=cost, observability=observability,
                          autoscaling=autoscaling, edge=edge)
    _drain_within_aks(cfg)
    return cfg


def _drain_within_aks(cfg: PlatformConfig) -> None:
    """The stack's node drains (PlatformConfig.drain_timeout_minutes, AksCluster's drain_timeout_minutes) within the
    longest AKS takes: refused here naming the stack keys of the longest one, not AksCluster's input, which a stack's
    user does not write."""
    minutes = cfg.drain_timeout_minutes
    if minutes <= DRAIN_TIMEOUT_MAX_MINUTES:
        return
    name, drain = max(cfg.node_drains, key=lambda named: drain_minutes_for(*named[1]))
    raise ConfigError([f"the stack's node drains need {minutes} minutes, over the {DRAIN_TIMEOUT_MAX_MINUTES} AKS "
                       f"waits at most for one node's pods (drainTimeoutInMinutes): the longest is {name}, {drain[1]} "
                       f"pod(s) of {drain[0]} s to stop that may share the nodes drained at once, each next one after "
                       f"a replacement Ready in up to {drain[2]} s; lower those keys"])


# Kubernetes creates these itself (AKS as any cluster): the components that create their namespace refuse them
SYSTEM_NAMESPACES = KUBERNETES_NAMESPACES


def platform_namespaces(prefix: str, environment: str) -> tuple[str, ...]:
    """Namespaces the platform's own components create (the app and llm-d namespaces must be none of them);
    tests/config/test_loader.py checks the list against every namespace the planned variants create."""
    return ("monitoring", "keda", "istio-system", "cert-manager", "gpu-operator", "nvidia-device-plugin",
            "network-operator", "nri-plugins", f"{prefix}-{environment}-gateway")


def _llmd_namespace_collisions(r: Reader, prefix: str, environment: str, namespace: str, llmd: LlmdConfig) -> None:
    """LlmdStack creates its namespace (with its own Pod Security level and NetworkPolicies): a namespace another
    part of the program creates, or Kubernetes' own, would be claimed twice."""
    if not llmd.enabled:
        return
    taken = platform_namespaces(prefix, environment)
    if llmd.namespace == namespace:
        r.problem(f"llmd.namespace {describe(llmd.namespace)} is also `namespace`, the Ollama stack's; each creates "
                  f"its own namespace, so give llm-d another")
    elif llmd.namespace in taken:
        r.problem(f"llmd.namespace {describe(llmd.namespace)} is a namespace the platform creates itself; pick "
                  f"another (taken: {', '.join(taken)}, and `namespace` {namespace!r})")
    elif llmd.namespace in SYSTEM_NAMESPACES:
        r.problem(f"llmd.namespace {describe(llmd.namespace)} is a Kubernetes system namespace, which exists "
                  f"already; LlmdStack creates its own, so pick another (not {', '.join(SYSTEM_NAMESPACES)})")


def _collisions(r: Reader, prefix: str, environment: str, namespace: str, resource_group: Any,
                cluster: ClusterConfig, gpu: GpuConfig, store: ModelStoreConfig) -> None:
    """Settings that would make two resources claim one name (Azure and Kubernetes refuse the second)."""
    if namespace in platform_namespaces(prefix, environment):
        r.problem(f"namespace {describe(namespace)} is a namespace the platform creates itself; pick another "
                  f"(taken: {', '.join(platform_namespaces(prefix, environment))})")
    elif namespace in SYSTEM_NAMESPACES:
        r.problem(f"namespace {describe(namespace)} is a Kubernetes system namespace, which exists already; the "
                  f"program creates `namespace` (Pod Security level, default-deny NetworkPolicy), so pick another "
                  f"(not {', '.join(SYSTEM_NAMESPACES)})")
    if gpu.enabled and gpu.fallback.enabled:
        fallback = f"{gpu.pool_name}od"
        for key, pool in (("systemPool", cluster.system_pool), ("workloadPool", cluster.workload_pool)):
            if pool.name == fallback:
                r.problem(f"cluster.{key}.name {describe(pool.name)} is the name of the GPU fallback pool "
                          f"(gpu.poolName + 'od')")
    platform_group = resource_group or resource_names.resource_group_name(prefix, environment)
    if store.resource_group_name and store.resource_group_name.lower() == platform_group.lower():
        r.problem(f"modelStore.resourceGroupName {describe(store.resource_group_name)} is the platform's own "
                  f"resource group; the store's separate group must have another name (or leave it out)")
    if store.resource_group_name and not RESOURCE_GROUP.fullmatch(store.resource_group_name):
        r.problem(f"modelStore.resourceGroupName {describe(store.resource_group_name)} is not an Azure resource "
                  f"group name")
    if gpu.fallback.enabled and not gpu.enabled:
        r.problem("gpu.fallback.enabled needs gpu.enabled true (there is no GPU pool to fall back from)")


def _cluster_group_checks(r: Reader, group: str, cluster: str, location: str) -> None:
    """The group a stack names is the cluster's (its VNet's, the node subnet's): AksCluster's rules on it, which the
    component applies only once resources are registered. AKS writes the group's name into node labels (at most 63
    characters) and names the node resource group MC_<group>_<cluster>_<location> (at most 80)."""
    found = problems_of("AksCluster", {"resource_group_name": group, "existing_resource_group": True})
    for problem in found:
        r.problem(f"resourceGroupName {describe(group)} is invalid; allowed: {problem.allowed_text(lambda p: p)}")
    node_group = node_resource_group(group, cluster, location)
    if not found and len(node_group) > NODE_RESOURCE_GROUP_MAX:
        room = NODE_RESOURCE_GROUP_MAX - len(node_resource_group("", cluster, location))
        r.problem(f"resourceGroupName {describe(group)} is invalid; allowed: at most {room} characters with this "
                  f"cluster ({cluster!r}) and location ({location!r}): AKS names the node resource group "
                  f"{node_group!r} ({len(node_group)} characters) and refuses more than {NODE_RESOURCE_GROUP_MAX}")


def _cross_checks(r: Reader, environment: str, location: str, protect: bool, network: NetworkConfig,
                  cluster: ClusterConfig, gpu: GpuConfig, store: ModelStoreConfig) -> None:
    if environment == "prod":
        if not protect:
            r.problem("protectStatefulResources must be true when environment is 'prod'")
        if not cluster.disable_local_accounts:
            r.problem("cluster.disableLocalAccounts must be true when environment is 'prod' (Entra ID only)")
        if cluster.tier == "Free":
            r.problem("cluster.tier 'Free' has no uptime SLA; use 'Standard' or 'Premium' when environment is 'prod'")
        if not cluster.zones:  # the policy pack's prod-aks-hardened refused it after the whole plan otherwise
            r.problem("cluster.zones [] is invalid; allowed: availability zones (e.g. ['1', '2', '3']) when "
                      "environment is 'prod': the system pool must span zones (the policy pack's prod-aks-hardened), "
                      "so prod needs a location with availability zones")
    if cluster.zones and store.redundancy == "LRS" and environment == "prod":
        lrs_only = premium_files_refuse_zrs(location)  # then the component's rule refuses ZRS too: say where to go
        r.problem("modelStore.redundancy must be 'ZRS' when the prod cluster spans zones (an LRS share is one zone)"
                  + (f", and location {location!r} has SSD file shares with LRS only: prod needs a location "
                     "with ZRS SSD file shares" if lrs_only else ""))
    if gpu.enabled and gpu.pool_name in (cluster.system_pool.name, cluster.workload_pool.name):
        r.problem(f"gpu.poolName {describe(gpu.pool_name)} must differ from the CPU pool names")
    if gpu.zones and cluster.zones and not set(gpu.zones) <= set(cluster.zones):
        r.problem(f"gpu.zones {list(gpu.zones)} must be a subset of cluster.zones {list(cluster.zones)}")

