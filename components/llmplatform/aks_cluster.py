"""AksCluster: resource group, VNet, AKS with Entra RBAC and workload identity, a CPU workload pool, and a ready
Kubernetes provider for everything that runs inside the cluster."""
from __future__ import annotations

import base64
from typing import Optional, TypedDict

import pulumi
import pulumi_kubernetes as k8s
from pulumi_azure_native import authorization, containerservice as cs, network, resources
from typing_extensions import NotRequired

from . import PACKAGE
from .azure_roles import AKS_RBAC_CLUSTER_ADMIN, NETWORK_CONTRIBUTOR, builtin_role
from .kube import CPU_POOL_LABEL
from .kubeconfig import with_kubelogin

SYSTEM_POOL_TAINT = "CriticalAddonsOnly=true:NoSchedule"


class NodePoolSpec(TypedDict):
    name: str
    vm_size: str
    min_count: int
    max_count: int
    os_disk_size_gb: NotRequired[int]
    max_pods: NotRequired[int]


class NetworkSpec(TypedDict):
    vnet_cidr: str
    node_subnet_cidr: str
    endpoints_subnet_cidr: str
    postgres_subnet_cidr: str
    pod_cidr: str
    service_cidr: str
    dns_service_ip: str


class MaintenanceWindowSpec(TypedDict):
    day_of_week: str
    start_time: str
    duration_hours: int
    utc_offset: str


class AksClusterArgs(TypedDict):
    location: str
    cluster_name: str
    resource_group_name: pulumi.Input[str]
    network: NetworkSpec
    system_pool: NodePoolSpec
    workload_pool: NodePoolSpec
    vnet_name: NotRequired[str]
    existing_resource_group: NotRequired[bool]  # use resource_group_name as is instead of creating it
    kubernetes_version: NotRequired[Optional[str]]
    tier: NotRequired[str]  # Free | Standard | Premium
    zones: NotRequired[list[str]]
    dedicated_system_pool: NotRequired[bool]
    disable_local_accounts: NotRequired[bool]  # default True: Entra ID only
    admin_group_object_ids: NotRequired[list[str]]
    network_policy: NotRequired[str]  # cilium | calico | azure
    upgrade_channel: NotRequired[str]
    node_os_upgrade_channel: NotRequired[str]
    maintenance_window: NotRequired[Optional[MaintenanceWindowSpec]]
    api_access_mode: NotRequired[str]  # public | authorizedIps | private
    authorized_ip_ranges: NotRequired[list[str]]
    kubelogin_mode: NotRequired[str]  # how the provider's kubeconfig logs in
    grant_deployer_admin: NotRequired[bool]
    autoscaler_expander: NotRequired[str]  # least-waste; priority when a GpuNodePool ranks spot over on-demand
    log_analytics_workspace_id: NotRequired[pulumi.Input[str]]  # turns on Container Insights
    managed_prometheus: NotRequired[bool]  # Azure Monitor managed Prometheus metrics add-on
    tags: NotRequired[dict[str, str]]


def system_pool_taints(dedicated: bool) -> list[str]:
    return [SYSTEM_POOL_TAINT] if dedicated else []


def autoscaler_ignore_changes(upgrade_channel: str, inline: bool) -> list[str]:
    """Fields owned by AKS after creation: the autoscaler's node count and, with auto-upgrade, the version."""
    prefix = "agentPoolProfiles[0]." if inline else ""
    fields = [f"{prefix}count"]
    if upgrade_channel != "none":
        fields.append(f"{prefix}orchestratorVersion")
        if inline:
            fields.append("kubernetesVersion")
    return fields


def autoscaled_pool_args(spec: NodePoolSpec, subnet_id: pulumi.Input[str], zones: Optional[list[str]],
                         os_sku: str = "AzureLinux") -> dict:
    """Settings every autoscaled Linux pool shares, inline (system) or as an AgentPool resource."""
    return dict(vm_size=spec["vm_size"], os_type=cs.OSType.LINUX, os_sku=cs.OSSKU(os_sku),
                count=spec["min_count"], enable_auto_scaling=True, min_count=spec["min_count"],
                max_count=spec["max_count"], os_disk_size_gb=spec.get("os_disk_size_gb", 128),
                max_pods=spec.get("max_pods", 110), vnet_subnet_id=subnet_id, availability_zones=zones,
                type=cs.AgentPoolType.VIRTUAL_MACHINE_SCALE_SETS)


def network_dataplane(policy: str) -> Optional[str]:
    """Cilium network policy only exists with the Cilium dataplane; the other engines keep the Azure dataplane."""
    return "cilium" if policy == "cilium" else None


def addon_profiles(log_analytics_workspace_id: Optional[pulumi.Input[str]]
                   ) -> dict[str, cs.ManagedClusterAddonProfileArgs]:
    addons = {"azureKeyvaultSecretsProvider": cs.ManagedClusterAddonProfileArgs(
        enabled=True, config={"enableSecretRotation": "true", "rotationPollInterval": "2m"})}
    if log_analytics_workspace_id is not None:
        # Container Insights, sending to the workspace with Entra (managed identity) authentication
        addons["omsagent"] = cs.ManagedClusterAddonProfileArgs(enabled=True, config={
            "logAnalyticsWorkspaceResourceID": log_analytics_workspace_id, "useAADAuth": "true"})
    return addons


class AksCluster(pulumi.ComponentResource):
    resource_group_name: pulumi.Output[str]
    """Resource group holding the cluster and its network."""
    vnet_id: pulumi.Output[str]
    """VNet the nodes live in."""
    node_subnet_id: pulumi.Output[str]
    """Subnet of every node pool (Azure CNI overlay: pods get addresses from the pod CIDR, not this subnet)."""
    endpoints_subnet_id: pulumi.Output[str]
    """Subnet reserved for private endpoints (Key Vault, storage, ...)."""
    postgres_subnet_id: pulumi.Output[str]
    """Subnet delegated to PostgreSQL Flexible Server."""
    cluster_name: pulumi.Output[str]
    """AKS cluster name."""
    cluster_id: pulumi.Output[str]
    """AKS cluster resource id."""
    oidc_issuer_url: pulumi.Output[str]
    """OIDC issuer for workload-identity federated credentials."""
    kubelet_identity_object_id: pulumi.Output[str]
    """Object id of the kubelet's managed identity (for AcrPull and similar grants)."""
    kubeconfig: pulumi.Output[str]
    """Kubeconfig for a person (kubelogin, azurecli mode). Secret."""
    provider: k8s.Provider
    """Kubernetes provider bound to this cluster, used by every in-cluster component."""
    cpu_node_selector: dict[str, str]
    """Node selector that places a pod on the CPU workload pool."""
    pod_cidr: str
    """Overlay pod range (trusted proxy addresses for in-cluster hops)."""

    def __init__(self, name: str, args: AksClusterArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__(f"{PACKAGE}:index:AksCluster", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = args.get("tags", {})
        location = args["location"]
        net = args["network"]
        zones = args.get("zones") or None
        upgrade_channel = args.get("upgrade_channel", "patch")

        if args.get("existing_resource_group", False):
            rg_name: pulumi.Output[str] = pulumi.Output.from_input(args["resource_group_name"])
        else:
            rg = resources.ResourceGroup(f"{name}-rg", resource_group_name=args["resource_group_name"],
                                         location=location, tags=tags, opts=child)
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
            opts=pulumi.ResourceOptions(parent=self, depends_on=[nodes_subnet]))
        postgres_subnet = network.Subnet(
            f"{name}-postgres", resource_group_name=rg_name, virtual_network_name=vnet.name, subnet_name="postgres",
            address_prefix=net["postgres_subnet_cidr"],
            delegations=[network.DelegationArgs(name="postgres-flexible",
                                                service_name="Microsoft.DBforPostgreSQL/flexibleServers")],
            opts=pulumi.ResourceOptions(parent=self, depends_on=[endpoints_subnet]))

        system = args["system_pool"]
        dedicated = args.get("dedicated_system_pool", False)
        api_mode = args.get("api_access_mode", "public")
        window = args.get("maintenance_window")
        policy = args.get("network_policy", "cilium")

        cluster = cs.ManagedCluster(
            f"{name}-aks",
            resource_group_name=rg_name,
            resource_name_=args["cluster_name"],
            location=location,
            dns_prefix=args["cluster_name"],
            kubernetes_version=args.get("kubernetes_version"),
            sku=cs.ManagedClusterSKUArgs(name=cs.ManagedClusterSKUName.BASE,
                                         tier=cs.ManagedClusterSKUTier(args.get("tier", "Free"))),
            identity=cs.ManagedClusterIdentityArgs(type=cs.ResourceIdentityType.SYSTEM_ASSIGNED),
            # Only the system pool is inline: editing an inline pool can replace the whole cluster, so every
            # other pool is its own AgentPool resource.
            agent_pool_profiles=[cs.ManagedClusterAgentPoolProfileArgs(
                name=system["name"], mode=cs.AgentPoolMode.SYSTEM, node_taints=system_pool_taints(dedicated),
                **autoscaled_pool_args(system, nodes_subnet.id, zones))],
            enable_rbac=True,
            disable_local_accounts=args.get("disable_local_accounts", True),
            aad_profile=cs.ManagedClusterAADProfileArgs(
                managed=True, enable_azure_rbac=True,
                admin_group_object_ids=args.get("admin_group_object_ids") or None),
            oidc_issuer_profile=cs.ManagedClusterOIDCIssuerProfileArgs(enabled=True),
            security_profile=cs.ManagedClusterSecurityProfileArgs(
                workload_identity=cs.ManagedClusterSecurityProfileWorkloadIdentityArgs(enabled=True),
                image_cleaner=cs.ManagedClusterSecurityProfileImageCleanerArgs(enabled=True, interval_hours=48)),
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
            addon_profiles=addon_profiles(args.get("log_analytics_workspace_id")),
            azure_monitor_profile=cs.ManagedClusterAzureMonitorProfileArgs(
                metrics=cs.ManagedClusterAzureMonitorProfileMetricsArgs(
                    enabled=True,
                    # node labels kube-state-metrics exports, e.g. to alert on spot evictions
                    kube_state_metrics=cs.ManagedClusterAzureMonitorProfileKubeStateMetricsArgs(
                        metric_labels_allowlist="nodes=[kubernetes.azure.com/scalesetpriority,agentpool]")))
            if args.get("managed_prometheus", False) else None,
            storage_profile=cs.ManagedClusterStorageProfileArgs(
                file_csi_driver=cs.ManagedClusterStorageProfileFileCSIDriverArgs(enabled=True),
                disk_csi_driver=cs.ManagedClusterStorageProfileDiskCSIDriverArgs(enabled=True)),
            auto_upgrade_profile=cs.ManagedClusterAutoUpgradeProfileArgs(
                upgrade_channel=cs.UpgradeChannel(upgrade_channel),
                node_os_upgrade_channel=cs.NodeOSUpgradeChannel(args.get("node_os_upgrade_channel", "NodeImage"))),
            # With a GPU fallback pool the priority expander tries spot first (its ConfigMap is GpuNodePool's).
            auto_scaler_profile=cs.ManagedClusterPropertiesAutoScalerProfileArgs(
                expander=cs.Expander(args.get("autoscaler_expander", "least-waste")),
                max_node_provision_time="15m", scale_down_unneeded_time="10m",
                skip_nodes_with_local_storage="false"),
            api_server_access_profile=cs.ManagedClusterAPIServerAccessProfileArgs(
                enable_private_cluster=api_mode == "private",
                authorized_ip_ranges=args.get("authorized_ip_ranges") if api_mode == "authorizedIps" else None),
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=autoscaler_ignore_changes(upgrade_channel, True)),
        )

        workload = args["workload_pool"]
        cs.AgentPool(
            f"{name}-{workload['name']}",
            resource_group_name=rg_name,
            resource_name_=cluster.name,
            agent_pool_name=workload["name"],
            mode=cs.AgentPoolMode.USER,
            node_labels={CPU_POOL_LABEL: "cpu"},
            **autoscaled_pool_args(workload, nodes_subnet.id, zones),
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=autoscaler_ignore_changes(upgrade_channel, False)),
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
                    opts=child)

        client = authorization.get_client_config_output()
        # The cluster's own identity manages the internal load balancer in our subnet and the gateway's static
        # public IP in our resource group; a bring-your-own VNet needs this grant made explicitly.
        authorization.RoleAssignment(
            f"{name}-cluster-network",
            principal_id=cluster.identity.apply(lambda i: i.principal_id),
            principal_type=authorization.PrincipalType.SERVICE_PRINCIPAL,
            role_definition_id=builtin_role(NETWORK_CONTRIBUTOR),
            scope=pulumi.Output.all(client.subscription_id, rg_name).apply(
                lambda v: f"/subscriptions/{v[0]}/resourceGroups/{v[1]}"),
            opts=child)
        admin_grant: list[pulumi.Resource] = []
        if args.get("grant_deployer_admin", True):
            # With Azure RBAC on the data plane, whoever runs `pulumi up` needs a cluster role to apply the
            # in-cluster resources that follow.
            admin_grant.append(authorization.RoleAssignment(
                f"{name}-deployer-admin", principal_id=client.object_id,
                role_definition_id=builtin_role(AKS_RBAC_CLUSTER_ADMIN), scope=cluster.id, opts=child))

        credentials = cs.list_managed_cluster_user_credentials_output(
            resource_group_name=rg_name, resource_name=cluster.name, format="exec")
        raw_kubeconfig = credentials.kubeconfigs.apply(lambda kcs: base64.b64decode(kcs[0].value).decode())
        self.kubeconfig = pulumi.Output.secret(raw_kubeconfig.apply(lambda kc: with_kubelogin(kc, "azurecli")))
        provider_kubeconfig = pulumi.Output.secret(raw_kubeconfig.apply(
            lambda kc: with_kubelogin(kc, args.get("kubelogin_mode", "azurecli"))))
        self.provider = k8s.Provider(
            f"{name}-k8s", kubeconfig=provider_kubeconfig, enable_server_side_apply=True,
            opts=pulumi.ResourceOptions(parent=self, depends_on=admin_grant))

        self.resource_group_name = rg_name
        self.vnet_id = vnet.id
        self.node_subnet_id = nodes_subnet.id
        self.endpoints_subnet_id = endpoints_subnet.id
        self.postgres_subnet_id = postgres_subnet.id
        self.cluster_name = cluster.name
        self.cluster_id = cluster.id
        self.oidc_issuer_url = cluster.oidc_issuer_profile.apply(lambda p: p.issuer_url if p else None)
        self.kubelet_identity_object_id = cluster.identity_profile.apply(
            lambda p: p["kubeletidentity"].object_id if p and "kubeletidentity" in p else None)
        self.cpu_node_selector = {CPU_POOL_LABEL: "cpu"}
        self.pod_cidr = net["pod_cidr"]
        self.register_outputs({
            "resource_group_name": self.resource_group_name, "cluster_name": self.cluster_name,
            "cluster_id": self.cluster_id, "oidc_issuer_url": self.oidc_issuer_url,
            "kubelet_identity_object_id": self.kubelet_identity_object_id, "kubeconfig": self.kubeconfig,
            "node_subnet_id": self.node_subnet_id,
        })
