"""AksCluster: resource group, VNet, AKS with Entra RBAC and workload identity, a CPU workload pool, and a ready
Kubernetes provider for everything that runs inside the cluster."""
import base64
from typing import Any, Mapping, Optional, TypedDict

import pulumi
import pulumi_kubernetes as k8s
from pulumi_azure_native import authorization, containerservice as cs, network, resources
from typing_extensions import NotRequired

from . import PACKAGE
from .azure_roles import ACR_PULL, AKS_RBAC_CLUSTER_ADMIN, NETWORK_CONTRIBUTOR, builtin_role
from .defaults import defaults_for, or_default
from .checks import called_as_documented, check_shape
from .choices import SERVICE_PRINCIPAL_LOGINS
from .handles import ClusterHandle
from .kube import CPU_POOL_LABEL, SPOT_TOLERATION
from .taints import SPOT_TAINT
from .cluster_access import client_token, once_allowed
from .kubeconfig import AKS_AAD_SERVER_ID, with_kubelogin
from .monitoring import KSM_NODE_LABELS
from .os_disks import os_disk_type
from .put_rules import DEFAULT_MAX_PODS
from .rules import is_output
from .shared_names import claim_resource_group
from .upgrades import drained_pool_upgrade, scale_down_grace_seconds

opt = defaults_for("AksCluster")  # optional inputs: the caller's value, else the default

SYSTEM_POOL_TAINT = "CriticalAddonsOnly=true:NoSchedule"



class NodePoolSpec(TypedDict):
    """An autoscaled Linux node pool."""

    name: str
    """Pool name: 1-12 lowercase letters and digits, starting with a letter."""
    vm_size: str
    """Azure VM size of the nodes."""
    min_count: int
    """Autoscaler minimum. The workload pool is created with one node even at 0 (`workload_pool_start`)."""
    max_count: int
    """Autoscaler maximum."""
    os_disk_size_gb: NotRequired[Optional[int]]
    """OS disk size, GB (default 128)."""
    max_pods: NotRequired[Optional[int]]
    """Pods per node (default 110)."""
    priority: NotRequired[Optional[str]]
    """regular or spot (workload pool only; default regular). A spot pool costs a fraction of on-demand and can be
    evicted at any time; the platform's CPU pods carry the spot toleration through the cluster handle."""


class NetworkSpec(TypedDict):
    """Address plan: the VNet, its subnets, and the overlay pod and service ranges."""

    vnet_cidr: str
    """VNet address space."""
    node_subnet_cidr: str
    """Subnet of the nodes."""
    endpoints_subnet_cidr: str
    """Subnet of private endpoints."""
    postgres_subnet_cidr: str
    """Subnet delegated to PostgreSQL Flexible Server."""
    pod_cidr: str
    """Overlay pod range (outside the VNet)."""
    service_cidr: str
    """Kubernetes service range."""
    dns_service_ip: str
    """Cluster DNS address inside service_cidr."""


class MaintenanceWindowSpec(TypedDict):
    """Weekly window for AKS and node-OS upgrades."""

    day_of_week: str
    """Monday..Sunday."""
    start_time: str
    """HH:MM."""
    duration_hours: int
    """Length of the window (4 or more)."""
    utc_offset: str
    """+HH:MM or -HH:MM."""


class AksClusterArgs(TypedDict):
    """Inputs of AksCluster."""

    cluster_name: str
    """AKS cluster name (also its DNS prefix and, unless vnet_name is given, its VNet's `vnet-<cluster_name>`): a
    plain string, known when the program runs."""
    resource_group_name: pulumi.Input[str]
    """Resource group to create (one no other component of the program creates), or an existing one with
    existing_resource_group."""
    location: pulumi.Input[str]
    """Azure region."""
    network: NetworkSpec
    """Address plan."""
    system_pool: NodePoolSpec
    """The inline system pool (the only inline pool: editing inline pools can replace the cluster)."""
    workload_pool: NodePoolSpec
    """The CPU workload pool (an AgentPool resource)."""
    vnet_name: NotRequired[Optional[pulumi.Input[str]]]
    """VNet name (default vnet-<cluster_name>)."""
    existing_resource_group: NotRequired[Optional[bool]]
    """Use resource_group_name as it is instead of creating it (default False)."""
    kubernetes_version: NotRequired[Optional[pulumi.Input[str]]]
    """Kubernetes version (default: AKS's default)."""
    tier: NotRequired[Optional[str]]
    """Free, Standard or Premium (default Free). Premium comes with AKS's Long-Term Support plan (AKS takes one only
    with the other); every other tier with the KubernetesOfficial plan."""
    zones: NotRequired[Optional[list[str]]]
    """Availability zones of the pools (default none)."""
    dedicated_system_pool: NotRequired[Optional[bool]]
    """Taint the system pool CriticalAddonsOnly (default False)."""
    disable_local_accounts: NotRequired[Optional[bool]]
    """Entra ID only, no static admin credentials (default True)."""
    admin_group_object_ids: NotRequired[Optional[list[pulumi.Input[str]]]]
    """Entra groups with cluster-admin."""
    network_policy: NotRequired[Optional[str]]
    """cilium, calico or azure (default cilium)."""
    upgrade_channel: NotRequired[Optional[str]]
    """AKS auto-upgrade channel (default patch)."""
    node_os_upgrade_channel: NotRequired[Optional[str]]
    """Node OS upgrade channel (default NodeImage)."""
    maintenance_window: NotRequired[Optional[MaintenanceWindowSpec]]
    """Weekly upgrade window (default: AKS's own schedule)."""
    api_access_mode: NotRequired[Optional[str]]
    """public, authorizedIps or private (default public)."""
    authorized_ip_ranges: NotRequired[Optional[list[pulumi.Input[str]]]]
    """CIDRs allowed to reach the API server with authorizedIps."""
    kubelogin_mode: NotRequired[Optional[str]]
    """How the Kubernetes provider's kubeconfig logs in (default azurecli; workloadidentity/spn/msi in CI)."""
    grant_deployer_admin: NotRequired[Optional[bool]]
    """Give the identity running Pulumi the AKS RBAC Cluster Admin role (default True)."""
    deployer_principal_type: NotRequired[Optional[str]]
    """What runs Pulumi: User, ServicePrincipal or Group (default: ServicePrincipal when kubelogin_mode logs in as an
    application — workloadidentity, spn, msi — else User)."""
    drain_timeout_minutes: NotRequired[Optional[int]]
    """Minutes a node's pods may take to stop when AKS drains it, at least the longest terminationGracePeriodSeconds
    of the pods the pools run, and for a workload whose replicas may share a node, (replicas - 1) x a replacement's
    time to Ready more: the drain evicts the next one only once the previous one's replacement is Ready (1 to 1440;
    default 37, what the package's workloads need with their own defaults: a request held through a cold start and
    its answer, 1830 s, the gate's second pod 60 s later, plus 5 minutes; AKS's own is 30): an upgrade waits this
    long per node before it fails (the CPU workload pool's and every regular GpuNodePool's drainTimeoutInMinutes; spot
    pools are not drained), and a scale-down gives each pod its grace up to it (the autoscaler's
    max-graceful-termination-sec, then the pod is killed). The system pool keeps AKS's 30: no platform pod runs there.
    Carried by the `cluster` handle: ApiGate, OllamaServer, OpenWebUi, InferenceStack, Observability and LlmdStack
    refuse a drain longer than it (llmplatform.upgrades.drain_minutes_for gives the timeout a drain needs)."""
    autoscaler_expander: NotRequired[Optional[str]]
    """Cluster-autoscaler expander (default least-waste; priority for a GPU pool with an on-demand fallback)."""
    image_registry: NotRequired[Optional[str]]
    """Mirror registry every image is pulled from, e.g. myregistry.azurecr.io: components on this cluster pull
    `<image_registry>/<repository>:<tag>` instead of each image's upstream registry, charts included (default: the
    upstream registries). docs/images.md lists the images to mirror."""
    image_registry_id: NotRequired[Optional[pulumi.Input[str]]]
    """Resource id of the Azure Container Registry behind image_registry: the kubelet identity gets AcrPull on it
    (AKS's `--attach-acr`). Leave unset when the nodes can already pull from it."""
    log_analytics_workspace_id: NotRequired[Optional[pulumi.Input[str]]]
    """Log Analytics workspace: turns on Container Insights."""
    managed_prometheus: NotRequired[Optional[bool]]
    """Azure Monitor managed Prometheus metrics add-on (default False)."""
    azure_policy: NotRequired[Optional[bool]]
    """Azure Policy add-on: Gatekeeper enforcing the assigned Azure Policy initiatives in the cluster (default
    False)."""
    defender: NotRequired[Optional[bool]]
    """Microsoft Defender for Containers runtime protection, reporting to log_analytics_workspace_id (default
    False; billed per vCore)."""
    encryption_at_host: NotRequired[Optional[bool]]
    """Encrypt node OS and temp disks at the host, on every pool of the cluster (default False; needs the
    subscription feature Microsoft.Compute/EncryptionAtHost)."""
    ephemeral_os_disk: NotRequired[Optional[bool]]
    """Ephemeral OS disks on every pool of the cluster whose VM size has a local disk at least as large as the OS
    disk (llmplatform's local-disk table); other pools are left to AKS's own choice (default False). Set it before a
    pool is created: AKS cannot change an existing pool's OS disk type."""
    tags: NotRequired[Optional[Mapping[str, pulumi.Input[str]]]]
    """Azure tags."""


def support_plan(tier: str) -> cs.KubernetesSupportPlan:
    """The Premium tier and the Long-Term Support plan go together: AKS refuses either without the other ("Enable or
    disable LTS and the Premium tier together": MicrosoftDocs/azure-aks-docs @b44d4f50 articles/aks/
    free-standard-pricing-tiers.md, long-term-support.md; `az aks update --tier standard --k8s-support-plan
    KubernetesOfficial` to leave Premium). Always sent, so a change of tier changes the plan with it in one write."""
    return (cs.KubernetesSupportPlan.AKS_LONG_TERM_SUPPORT if tier == "Premium"
            else cs.KubernetesSupportPlan.KUBERNETES_OFFICIAL)


def system_pool_taints(dedicated: bool) -> list[str]:
    return [SYSTEM_POOL_TAINT] if dedicated else []


def autoscaler_ignore_changes(upgrade_channel: Optional[str], inline: bool) -> list[str]:
    """Fields owned by AKS after creation: the autoscaler's node count and, with auto-upgrade (or a channel not known
    when the program runs), the version. With `none` the stack drives the version and every pool follows it: AKS
    upgrades a pool only when its orchestratorVersion changes, and refuses a control plane more than two minors
    ahead of a pool."""
    prefix = "agentPoolProfiles[0]." if inline else ""
    fields = [f"{prefix}count"]
    if upgrade_channel != "none":
        fields.append(f"{prefix}orchestratorVersion")
        if inline:
            fields.append("kubernetesVersion")
    return fields


# Cluster features an organization's Azure Policy (DeployIfNotExists: Azure Landing Zones assign the Azure Policy
# add-on's and Defender for Containers' by default) or Defender for Cloud's auto-provisioning turns on after the
# cluster exists, each with the cluster input paths that hold it. pulumi-azure-native's refresh copies what changed
# live into the stored inputs (provider/pkg/provider/provider.go `Read`, `applyDiff`), its update PUTs the program's
# inputs (`defaultUpdate`: none of these is a maintained sub-resource property), and AKS takes the `addonProfiles` map
# and the `securityProfile` object as sent: each `pulumi up` would show the feature going and turn it off, the policy
# turn it on again (or a Deny assignment refuse the PUT), on every run (docs/decisions.md "2026-12-05: an Azure PUT on
# day 2").
# `addonProfiles` is a map whose keys AKS returns in the casing they were written in, and an ignoreChanges path is
# case-sensitive (pulumi/pulumi sdk/go/common/resource/properties_path.go: an exact PropertyKey lookup): az writes
# `omsagent` and `azurepolicy` (acs/_consts.py CONST_MONITORING_ADDON_NAME, CONST_AZURE_POLICY_ADDON_NAME) but keeps
# a key's existing casing ("addon name is case insensitive"), the portal's writes read back as `omsAgent`
# (MicrosoftDocs/azure-docs#93132, hashicorp/terraform-provider-azurerm#1983), and terraform-provider-azurerm looks
# every add-on key up case-insensitively (internal/services/containers/kubernetes_addons.go, stored d7d9ef89:
# `kubernetesAddonProfileLocate`, "Azure updates the casing on the keys"). Both spellings are ignored: a path absent
# from the old inputs and the new ones is no path error, the engine leaves it absent.
OTHERS_TURN_ON = {"defender": ("securityProfile.defender",),
                  "azure_policy": ("addonProfiles.azurepolicy", "addonProfiles.azurePolicy"),
                  "container_insights": ("addonProfiles.omsagent", "addonProfiles.omsAgent"),
                  "managed_prometheus": ("azureMonitorProfile",)}


def left_to_others(turned_on: Mapping[str, bool]) -> list[str]:
    """The cluster's ignoreChanges for the features of OTHERS_TURN_ON this cluster does not turn on: the engine then
    sends the value the refresh read (pulumi/pulumi `processIgnoreChanges`), so whoever turned one on keeps it and an
    unchanged program previews nothing. The price: a feature the stack turned on and then sets off stays on (the
    pull-request check lists it as ignored); turn it off with az (docs/components/aks-cluster.md)."""
    return [path for key, paths in OTHERS_TURN_ON.items() if not turned_on.get(key) for path in paths]


def autoscaled_pool_args(spec: NodePoolSpec, subnet_id: pulumi.Input[str], zones: pulumi.Input[Optional[list[str]]],
                         os_sku: str = "AzureLinux", encryption_at_host: pulumi.Input[Optional[bool]] = False,
                         ephemeral_os_disk: pulumi.Input[bool] = False,
                         version: pulumi.Input[Optional[str]] = None) -> dict:
    """Settings every autoscaled Linux pool shares, inline (system) or as an AgentPool resource. `version` is the
    cluster's: a pool follows it (with an auto-upgrade channel AKS moves it and the field is ignored)."""
    disk_gb = or_default(spec.get("os_disk_size_gb"), 128)
    def disk_type(wanted: bool) -> Optional[cs.OSDiskType]:
        chosen = os_disk_type(spec["vm_size"], disk_gb, bool(wanted))
        return cs.OSDiskType(chosen) if chosen else None
    return dict(vm_size=spec["vm_size"], os_type=cs.OSType.LINUX, os_sku=cs.OSSKU(os_sku),
                count=spec["min_count"], enable_auto_scaling=True, min_count=spec["min_count"],
                max_count=spec["max_count"], os_disk_size_gb=disk_gb,
                os_disk_type=pulumi.Output.from_input(ephemeral_os_disk).apply(disk_type),
                max_pods=spec.get("max_pods", DEFAULT_MAX_PODS), vnet_subnet_id=subnet_id, availability_zones=zones,
                type=cs.AgentPoolType.VIRTUAL_MACHINE_SCALE_SETS,
                enable_encryption_at_host=encryption_at_host or None, orchestrator_version=version)


def workload_pool_start(min_count: int) -> int:
    """The nodes the CPU workload pool is created with (`count`, ignored afterwards: the autoscaler owns it): one at
    least, even with a minimum of 0, so a first `pulumi up`'s CPU rollouts find a node rather than each waiting for
    the autoscaler to add one from zero (its pessimistic time is past pulumi-kubernetes' 10-minute Deployment await:
    the deploy model's `timeout` rule). With a minimum of 0 the autoscaler removes the node once it is idle."""
    return max(min_count, 1)


def priority_args(spot: bool, spot_max_price: float = -1.0) -> dict:
    """AgentPool settings of a spot or a regular pool. The spot taint is declared although AKS adds it itself, so
    Pulumi sees no drift on the next run; evicted spot nodes are deleted (AKS supports no other policy with the
    autoscaler)."""
    if not spot:
        return dict(scale_set_priority=cs.ScaleSetPriority.REGULAR)
    return dict(scale_set_priority=cs.ScaleSetPriority.SPOT, scale_set_eviction_policy=cs.ScaleSetEvictionPolicy.DELETE,
                spot_max_price=spot_max_price)


def upgrade_settings_args(settings: Optional[dict[str, Any]]) -> Optional[cs.AgentPoolUpgradeSettingsArgs]:
    """A pool's upgradeSettings (llmplatform.upgrades, REST names) as the SDK takes them; None leaves AKS's defaults.
    The system pool keeps them, the CPU pool AKS's surge (10%, one node up to ten; none on a spot pool)."""
    if not settings:
        return None
    return cs.AgentPoolUpgradeSettingsArgs(max_surge=settings.get("maxSurge"),
                                           max_unavailable=settings.get("maxUnavailable"),
                                           drain_timeout_in_minutes=settings.get("drainTimeoutInMinutes"))


def network_dataplane(policy: str) -> Optional[str]:
    """Cilium network policy only exists with the Cilium dataplane; the other engines keep the Azure dataplane."""
    return "cilium" if policy == "cilium" else None


def addon_profiles(log_analytics_workspace_id: Optional[pulumi.Input[str]], azure_policy: bool = False
                   ) -> dict[str, cs.ManagedClusterAddonProfileArgs]:
    addons = {"azureKeyvaultSecretsProvider": cs.ManagedClusterAddonProfileArgs(
        enabled=True, config={"enableSecretRotation": "true", "rotationPollInterval": "2m"})}
    if azure_policy:
        addons["azurepolicy"] = cs.ManagedClusterAddonProfileArgs(enabled=True)
    if log_analytics_workspace_id:  # "" is none, as the other components and the Defender rule read it
        # Container Insights, sending to the workspace with Entra (managed identity) authentication
        addons["omsagent"] = cs.ManagedClusterAddonProfileArgs(enabled=True, config={
            "logAnalyticsWorkspaceResourceID": log_analytics_workspace_id, "useAADAuth": "true"})
    return addons


def deployer_principal_type(kubelogin_mode: str, explicit: Optional[str] = None) -> str:
    """The principal type of whoever runs `pulumi up`: as set, else a service principal when the Kubernetes
    provider logs in as an application (CI: workload identity, a service principal, a managed identity), else a
    user (an Azure CLI or device-code login)."""
    if explicit:
        return explicit
    return "ServicePrincipal" if kubelogin_mode in SERVICE_PRINCIPAL_LOGINS else "User"


def handed_version(version: Optional[pulumi.Input[str]]) -> pulumi.Input[str]:
    """The cluster handle's kubernetes_version: "" for AKS's default, also when the input is an output that resolves to
    nothing (the handle's field is required: a pool built on the cluster refused None in its own words)."""
    if is_output(version):
        return pulumi.Output.from_input(version).apply(lambda v: v or "")
    return version or ""


CREDENTIALS_INVOKE = "azure-native:containerservice:listManagedClusterUserCredentials"


def first_kubeconfig(name: str, kubeconfigs: Any) -> str:
    """The first kubeconfig of listManagedClusterUserCredentials, decoded. AKS always returns one; a test's own
    `pulumi.runtime.Mocks` whose `call` answers `{}` returns none, which stopped the program with a bare
    "TypeError: 'NoneType' object is not subscriptable" from the SDK's serializer, naming no component."""
    if not kubeconfigs or not getattr(kubeconfigs[0], "value", None):
        raise ValueError(
            f"AksCluster {name}: {CREDENTIALS_INVOKE} returned no kubeconfig. Under a pulumi.runtime.Mocks of your "
            "own, answer it with {'kubeconfigs': [{'name': 'clusterUser', 'value': <base64 kubeconfig>}]}, or test "
            "with llmplatform.testing.run, which answers every invoke the components make")
    return base64.b64decode(kubeconfigs[0].value).decode()


@called_as_documented
class AksCluster(pulumi.ComponentResource):
    """AKS with Entra RBAC, workload identity, network policy, the Key Vault CSI driver and upgrade channels: a system
    pool inline, a CPU workload pool as an AgentPool, and a Kubernetes provider for what runs inside. `protect` in
    its resource options protects the cluster (and the resource group it makes) alone: a cluster deleted takes every
    object in it with it, and the node resource group AKS deletes with it holds every volume its claims provisioned
    (Open-WebUI's uploads, Prometheus's data); the network, the pools, the grants and the provider stay replaceable
    (a pool's VM size is a pool's replacement)."""

    cluster: ClusterHandle
    """The handle every component built on this cluster takes (resource group, network, OIDC issuer, ...)."""
    resource_group_name: pulumi.Output[str]
    """Resource group holding the cluster and its network."""
    cluster_name: pulumi.Output[str]
    """AKS cluster name."""
    oidc_issuer_url: pulumi.Output[str]
    """OIDC issuer for workload-identity federated credentials."""
    kubelet_identity_object_id: pulumi.Output[str]
    """Object id of the kubelet's managed identity (for AcrPull and similar grants)."""
    node_resource_group: pulumi.Output[str]
    """The resource group AKS creates for the nodes (`MC_<group>_<cluster>_<region>` by default): the VMs, their disks
    and load balancers are billed there, not in `resource_group_name` (for a CostBudget)."""
    kubeconfig: pulumi.Output[str]
    """Kubeconfig for a person (kubelogin, azurecli mode). With `grant_deployer_admin`, during `pulumi up` it resolves
    once the API server lets the deployer write, as the component's own provider does: a provider built from it is
    after the grant. Secret."""
    provider: k8s.Provider
    """Kubernetes provider bound to this cluster: give it to in-cluster components as their `providers` option
    (YAML: `options: providers: kubernetes: ${aks.provider}`)."""

    def __init__(self, name: str, args: AksClusterArgs, opts: Optional[pulumi.ResourceOptions] = None):
        checked = check_shape("AksCluster", name, args, AksClusterArgs)
        group = args["resource_group_name"]  # the caller's value, not the checked copy (whose outputs are new ones)
        args = checked
        if not opt(args, "existing_resource_group"):
            claim_resource_group("AksCluster", name, "resource_group_name", group, opts,
                                 "create the group once (a ResourceGroup of your own) and give each cluster its "
                                 "name with existing_resource_group true")
        super().__init__(f"{PACKAGE}:index:AksCluster", name, None, opts)
        stores = pulumi.ResourceOptions(parent=self)  # the component's protect (the SDK's inheritance)
        child = pulumi.ResourceOptions(parent=self, protect=False)
        tags = args.get("tags", {})
        location = args["location"]
        net = args["network"]
        zones = args.get("zones") or None
        upgrade_channel = opt(args, "upgrade_channel")
        drain_minutes = opt(args, "drain_timeout_minutes")

        if opt(args, "existing_resource_group"):
            rg_name: pulumi.Output[str] = pulumi.Output.from_input(args["resource_group_name"])
        else:
            rg = resources.ResourceGroup(f"{name}-rg", resource_group_name=args["resource_group_name"],
                                         location=location, tags=tags, opts=stores)
            rg_name = rg.name

        vnet = network.VirtualNetwork(
            f"{name}-vnet", resource_group_name=rg_name, location=location, tags=tags,
            virtual_network_name=args.get("vnet_name", f"vnet-{args['cluster_name']}"),
            address_space=network.AddressSpaceArgs(address_prefixes=[net["vnet_cidr"]]), opts=child)
        # Subnets of one VNet are created one after another: Azure rejects concurrent subnet writes.
        nodes_subnet = network.Subnet(
            f"{name}-nodes", resource_group_name=rg_name, virtual_network_name=vnet.name, subnet_name="nodes",
            address_prefix=net["node_subnet_cidr"],
            # Microsoft.Storage lets the NFS model share admit this subnet without a private endpoint.
            service_endpoints=[network.ServiceEndpointPropertiesFormatArgs(service="Microsoft.Storage"),
                               network.ServiceEndpointPropertiesFormatArgs(service="Microsoft.KeyVault")],
            opts=child)
        endpoints_subnet = network.Subnet(
            f"{name}-endpoints", resource_group_name=rg_name, virtual_network_name=vnet.name,
            subnet_name="private-endpoints", address_prefix=net["endpoints_subnet_cidr"],
            private_endpoint_network_policies=network.VirtualNetworkPrivateEndpointNetworkPolicies.DISABLED,
            opts=pulumi.ResourceOptions(parent=self, protect=False, depends_on=[nodes_subnet]))
        postgres_subnet = network.Subnet(
            f"{name}-postgres", resource_group_name=rg_name, virtual_network_name=vnet.name, subnet_name="postgres",
            address_prefix=net["postgres_subnet_cidr"],
            delegations=[network.DelegationArgs(name="postgres-flexible",
                                                service_name="Microsoft.DBforPostgreSQL/flexibleServers")],
            opts=pulumi.ResourceOptions(parent=self, protect=False, depends_on=[endpoints_subnet]))

        system = args["system_pool"]
        dedicated = opt(args, "dedicated_system_pool")
        api_mode = opt(args, "api_access_mode")
        window = args.get("maintenance_window")
        policy = opt(args, "network_policy")

        cluster = cs.ManagedCluster(
            f"{name}-aks",
            resource_group_name=rg_name,
            resource_name_=args["cluster_name"],
            location=location,
            dns_prefix=args["cluster_name"],
            kubernetes_version=args.get("kubernetes_version"),
            sku=cs.ManagedClusterSKUArgs(name=cs.ManagedClusterSKUName.BASE,
                                         tier=cs.ManagedClusterSKUTier(opt(args, "tier"))),
            support_plan=support_plan(opt(args, "tier")),
            identity=cs.ManagedClusterIdentityArgs(type=cs.ResourceIdentityType.SYSTEM_ASSIGNED),
            # Only the system pool is inline: editing an inline pool can replace the whole cluster, so every
            # other pool is its own AgentPool resource.
            agent_pool_profiles=[cs.ManagedClusterAgentPoolProfileArgs(
                name=system["name"], mode=cs.AgentPoolMode.SYSTEM, node_taints=system_pool_taints(dedicated),
                **autoscaled_pool_args(system, nodes_subnet.id, zones,
                                       encryption_at_host=opt(args, "encryption_at_host"),
                                       ephemeral_os_disk=opt(args, "ephemeral_os_disk"),
                                       version=args.get("kubernetes_version")))],
            enable_rbac=True,
            disable_local_accounts=opt(args, "disable_local_accounts"),
            aad_profile=cs.ManagedClusterAADProfileArgs(
                managed=True, enable_azure_rbac=True,
                admin_group_object_ids=args.get("admin_group_object_ids") or None),
            oidc_issuer_profile=cs.ManagedClusterOIDCIssuerProfileArgs(enabled=True),
            security_profile=cs.ManagedClusterSecurityProfileArgs(
                workload_identity=cs.ManagedClusterSecurityProfileWorkloadIdentityArgs(enabled=True),
                image_cleaner=cs.ManagedClusterSecurityProfileImageCleanerArgs(enabled=True, interval_hours=48),
                defender=cs.ManagedClusterSecurityProfileDefenderArgs(
                    log_analytics_workspace_resource_id=args.get("log_analytics_workspace_id"),
                    security_monitoring=cs.ManagedClusterSecurityProfileDefenderSecurityMonitoringArgs(enabled=True))
                if opt(args, "defender") else None),
            network_profile=cs.ContainerServiceNetworkProfileArgs(
                network_plugin=cs.NetworkPlugin.AZURE,
                network_plugin_mode=cs.NetworkPluginMode.OVERLAY,
                network_policy=cs.NetworkPolicy(policy),
                network_dataplane=network_dataplane(policy),
                pod_cidr=net["pod_cidr"],
                service_cidr=net["service_cidr"],
                dns_service_ip=net["dns_service_ip"],
                load_balancer_sku=cs.LoadBalancerSku.STANDARD,
                outbound_type=cs.OutboundType.LOAD_BALANCER,
            ),
            addon_profiles=addon_profiles(args.get("log_analytics_workspace_id"), opt(args, "azure_policy")),
            azure_monitor_profile=cs.ManagedClusterAzureMonitorProfileArgs(
                metrics=cs.ManagedClusterAzureMonitorProfileMetricsArgs(
                    enabled=True,
                    # node labels kube-state-metrics exports, e.g. to alert on spot evictions
                    kube_state_metrics=cs.ManagedClusterAzureMonitorProfileKubeStateMetricsArgs(
                        metric_labels_allowlist=KSM_NODE_LABELS)))
            if opt(args, "managed_prometheus") else None,
            storage_profile=cs.ManagedClusterStorageProfileArgs(
                file_csi_driver=cs.ManagedClusterStorageProfileFileCSIDriverArgs(enabled=True),
                disk_csi_driver=cs.ManagedClusterStorageProfileDiskCSIDriverArgs(enabled=True)),
            auto_upgrade_profile=cs.ManagedClusterAutoUpgradeProfileArgs(
                upgrade_channel=cs.UpgradeChannel(upgrade_channel),
                node_os_upgrade_channel=cs.NodeOSUpgradeChannel(opt(args, "node_os_upgrade_channel"))),
            # With a GPU fallback pool the priority expander tries spot first (its ConfigMap is GpuNodePool's).
            # skip-nodes-with-local-storage false is AKS's default, said here because upstream's is true: every pod
            # of the platform keeps scratch in an emptyDir (vLLM its model cache, HF_HOME), and with true
            # cluster-autoscaler never removes a node running one (kubernetes/autoscaler cluster-autoscaler-1.36.1
            # simulator/drainability/rules/localstorage; tests/components/test_scale_down.py).
            auto_scaler_profile=cs.ManagedClusterPropertiesAutoScalerProfileArgs(
                expander=cs.Expander(opt(args, "autoscaler_expander")),
                max_node_provision_time="15m", scale_down_unneeded_time="10m",
                skip_nodes_with_local_storage="false",
                max_graceful_termination_sec=scale_down_grace_seconds(drain_minutes)),
            api_server_access_profile=cs.ManagedClusterAPIServerAccessProfileArgs(
                enable_private_cluster=api_mode == "private",
                authorized_ip_ranges=args.get("authorized_ip_ranges") if api_mode == "authorizedIps" else None),
            tags=tags,
            # After the network's last subnet: AKS sets its ownership of the network on create and fails while a
            # subnet write holds it in Updating state (SetVNetOwnershipFailed, Azure/AKS#4522).
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=autoscaler_ignore_changes(upgrade_channel, True)
                                        + left_to_others({
                                            "defender": bool(opt(args, "defender")),
                                            "azure_policy": bool(opt(args, "azure_policy")),
                                            "container_insights": bool(args.get("log_analytics_workspace_id")),
                                            "managed_prometheus": bool(opt(args, "managed_prometheus"))}),
                                        depends_on=[postgres_subnet]),
        )

        workload = args["workload_pool"]
        workload_spot = workload.get("priority") == "spot"
        # Pools are written one after the other (AKS refuses a write while another operation holds the cluster, and
        # two pool creates in one network race on its ownership: Azure/AKS#4522); the handle's pool_writes_after (the
        # CPU pool, the last) orders GpuNodePool's pools, as a depends_on: a cluster_name carrying the pool made every
        # GPU pool's resourceName depend on it, so a new CPU VM size (that pool deleted first and created again)
        # replaced the GPU pools too (pulumi/pulumi 1b5949891b step_generator.go calculateDependentReplacements).
        # Maintenance configurations (synchronous PUTs) need the cluster only (llmplatform.write_order, cluster-writes).
        workload_pool = cs.AgentPool(
            f"{name}-{workload['name']}",
            resource_group_name=rg_name,
            resource_name_=cluster.name,
            agent_pool_name=workload["name"],
            mode=cs.AgentPoolMode.USER,
            node_labels={CPU_POOL_LABEL: "cpu"},
            **({"node_taints": [SPOT_TAINT], **priority_args(True)} if workload_spot else {}),
            upgrade_settings=upgrade_settings_args(drained_pool_upgrade(workload_spot, drain_minutes)),
            **{**autoscaled_pool_args(workload, nodes_subnet.id, zones,
                                      encryption_at_host=opt(args, "encryption_at_host"),
                                      ephemeral_os_disk=opt(args, "ephemeral_os_disk"),
                                      version=args.get("kubernetes_version")),
               "count": workload_pool_start(workload["min_count"])},
            opts=pulumi.ResourceOptions(parent=self, protect=False,
                                        ignore_changes=autoscaler_ignore_changes(upgrade_channel, False)),
        )

        if window:
            for config_name in ("aksManagedAutoUpgradeSchedule", "aksManagedNodeOSUpgradeSchedule"):
                cs.MaintenanceConfiguration(
                    f"{name}-{config_name}",
                    resource_group_name=rg_name,
                    resource_name_=cluster.name,
                    config_name=config_name,
                    maintenance_window=cs.MaintenanceWindowArgs(
                        schedule=cs.ScheduleArgs(weekly=cs.WeeklyScheduleArgs(
                            day_of_week=cs.WeekDay(window["day_of_week"]), interval_weeks=1)),
                        duration_hours=window["duration_hours"],
                        start_time=window["start_time"],
                        utc_offset=window["utc_offset"],
                    ),
                    opts=pulumi.ResourceOptions(parent=self, protect=False))

        # the invokes ask as the component's own azure-native provider (given with `providers`), as its children do
        asking = pulumi.InvokeOutputOptions(parent=self)
        client = authorization.get_client_config_output(opts=asking)
        principal = cluster.identity.apply(lambda i: i.principal_id)
        # The cluster's own identity (AKS's cloud provider) joins the internal load balancer's frontend to the node
        # subnet, and AKS needs the same on a subnet it does not own (every pool's: all are in the node subnet).
        # Network Contributor on that subnet only, as AKS's docs grant it (internal-lb.md: "at least ... Network
        # Contributor" on the network, or subnets/join/action + subnets/read; aks-service-permissions.md), not on the
        # group: there it could rewrite the other subnets, the private endpoints and their DNS. The static public IP's
        # grants are GatewayAccess's (it owns the address). In-cluster objects (the provider) wait for it.
        subnet_grant = authorization.RoleAssignment(
            f"{name}-cluster-subnet",
            principal_id=principal,
            principal_type=authorization.PrincipalType.SERVICE_PRINCIPAL,
            role_definition_id=builtin_role(NETWORK_CONTRIBUTOR, self),
            scope=nodes_subnet.id,
            opts=child)
        admin_grant: list[pulumi.Resource] = [subnet_grant]
        deployer_grant: Optional[authorization.RoleAssignment] = None
        if opt(args, "grant_deployer_admin"):
            # With Azure RBAC on the data plane, whoever runs `pulumi up` needs a cluster role to apply the
            # in-cluster resources that follow.
            # principalType must match the principal (the REST spec's default is User: a service principal running
            # `pulumi up` in CI is refused with UnmatchedPrincipalType)
            deployer_grant = authorization.RoleAssignment(
                f"{name}-deployer-admin", principal_id=client.object_id,
                principal_type=authorization.PrincipalType(deployer_principal_type(
                    opt(args, "kubelogin_mode"), args.get("deployer_principal_type"))),
                role_definition_id=builtin_role(AKS_RBAC_CLUSTER_ADMIN, self), scope=cluster.id, opts=child)
            admin_grant.append(deployer_grant)

        kubelet_object_id = cluster.identity_profile.apply(
            lambda p: p["kubeletidentity"].object_id if p and "kubeletidentity" in p else None)
        if args.get("image_registry_id"):
            # nodes pull from the mirror as the kubelet identity; in-cluster objects (the provider) wait for the grant
            admin_grant.append(authorization.RoleAssignment(
                f"{name}-acr-pull", principal_id=kubelet_object_id,
                principal_type=authorization.PrincipalType.SERVICE_PRINCIPAL,
                role_definition_id=builtin_role(ACR_PULL, self),
                scope=args["image_registry_id"], opts=child))

        credentials = cs.list_managed_cluster_user_credentials_output(
            resource_group_name=rg_name, resource_name=cluster.name, format="exec", opts=asking)
        raw_kubeconfig = credentials.kubeconfigs.apply(lambda kcs: first_kubeconfig(name, kcs))
        self.kubeconfig = pulumi.Output.secret(raw_kubeconfig.apply(lambda kc: with_kubelogin(kc, "azurecli")))
        provider_kubeconfig = pulumi.Output.secret(raw_kubeconfig.apply(
            lambda kc: with_kubelogin(kc, opt(args, "kubelogin_mode"))))
        if deployer_grant is not None and not pulumi.runtime.is_dry_run():
            # in-cluster creates wait until the grant has reached the API server (cluster_access says why). The token
            # is asked for once the grant exists, when the wait starts, not at the program's start: an Entra token
            # may come with five minutes left and the cluster's create takes longer (a 401 gets one new token).
            server_app = AKS_AAD_SERVER_ID
            token = authorization.get_client_token_output(
                endpoint=deployer_grant.id.apply(lambda _: server_app), opts=asking).token
            provider_kubeconfig = pulumi.Output.secret(once_allowed(
                provider_kubeconfig, token, f"AksCluster {name}", after=deployer_grant.id,
                renew=client_token(self, server_app)))
            # the person's kubeconfig too: a provider a consumer builds from it writes as the deployer as well
            self.kubeconfig = pulumi.Output.secret(pulumi.Output.all(provider_kubeconfig, self.kubeconfig).apply(
                lambda both: both[1]))
        # Replaced only with the cluster: without an identifier pulumi-kubernetes replaces the provider, and so every
        # object in the cluster, whenever the kubeconfig's cluster entry changes (a CA rotation does); AKS's
        # resourceUID stays for the cluster's life and is new for a cluster created again under the same ARM id.
        self.provider = k8s.Provider(
            f"{name}-k8s", kubeconfig=provider_kubeconfig, enable_server_side_apply=True,
            cluster_identifier=cluster.resource_uid,
            opts=pulumi.ResourceOptions(parent=self, protect=False, depends_on=admin_grant))

        self.resource_group_name = rg_name
        self.cluster_name = cluster.name
        self.oidc_issuer_url = cluster.oidc_issuer_profile.apply(lambda p: p.issuer_url if p else None)
        self.kubelet_identity_object_id = kubelet_object_id
        self.node_resource_group = cluster.node_resource_group.apply(lambda g: g or "")
        self.cluster = ClusterHandle(
            resource_group_name=rg_name, location=location,
            cluster_name=cluster.name, pool_writes_after=workload_pool.id, cluster_id=cluster.id,
            # others write the network once it is written whole (private endpoints and AKS refuse a network or subnet
            # in Updating state): after its last subnet, network_writes_after, which they take as a depends_on. The
            # ids carried it before (`settled`), so a PostgreSQL subnet deleted first and created again replaced the
            # Key Vault's private endpoint (`subnet`, force-new) and, through the vault's name, every secret with it
            vnet_id=vnet.id, vnet_name=vnet.name, network_writes_after=postgres_subnet.id,
            vnet_cidr=net["vnet_cidr"],
            node_subnet_id=nodes_subnet.id, node_subnet_cidr=net["node_subnet_cidr"],
            endpoints_subnet_id=endpoints_subnet.id,
            postgres_subnet_id=postgres_subnet.id, oidc_issuer_url=self.oidc_issuer_url,
            kubernetes_version=handed_version(args.get("kubernetes_version")), upgrade_channel=upgrade_channel,
            network_policy=policy,
            zones=list(zones or []),
            # a pod placed on the CPU pool waits for the pool: its await clock starts when nodes can run it. By the
            # pool's URN, which the engine answers once the pool's step is done (pulumi/pulumi 1b5949891b
            # source_eval.go RegisterResource: "block waiting for the operation to finish") and which a preview
            # knows: by its id, a preview of the pool's replacement showed every pod spec holding it changed
            cpu_node_selector=workload_pool.urn.apply(lambda _: {CPU_POOL_LABEL: "cpu"}),
            cpu_tolerations=[SPOT_TOLERATION.copy()] if workload_spot else [],
            pod_cidr=net["pod_cidr"],
            autoscaler_expander=opt(args, "autoscaler_expander"), drain_timeout_minutes=drain_minutes,
            encryption_at_host=opt(args, "encryption_at_host"), ephemeral_os_disk=opt(args, "ephemeral_os_disk"),
            image_registry=args.get("image_registry") or "", identity_principal_id=principal,
            pool_names=[system["name"], workload["name"]])
        self.register_outputs({
            "cluster": self.cluster, "resource_group_name": self.resource_group_name,
            "cluster_name": self.cluster_name, "oidc_issuer_url": self.oidc_issuer_url,
            "kubelet_identity_object_id": self.kubelet_identity_object_id, "kubeconfig": self.kubeconfig,
            "node_resource_group": self.node_resource_group,
        })
