"""Azure built-in roles the platform assigns, by their fixed definition ids."""

import pulumi
from pulumi_azure_native import authorization

AKS_RBAC_CLUSTER_ADMIN = "b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b"  # Azure Kubernetes Service RBAC Cluster Admin
NETWORK_CONTRIBUTOR = "4d97b98b-1d4f-4787-a291-c67834d212e7"  # Microsoft.Network/* (subnets, public IPs, ...)
READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"  # */read: view resources, change nothing
KEY_VAULT_SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"  # read secret values, nothing else
MONITORING_DATA_READER = "b0d8363b-8ddd-447d-831f-62ca05bff136"  # query an Azure Monitor workspace
GRAFANA_ADMIN = "22926164-76b3-42b3-bc55-97df8dab3e41"  # every Grafana operation on a Managed Grafana
ACR_PULL = "7f951dda-4ed3-4680-a7ca-43fe172d538d"  # pull images from a container registry
GRAFANA_VIEWER = "60921a7e-fef1-4a43-9b16-a26c52ad4769"  # view its dashboards and alerts


def role_definition_id(subscription_id: str, role: str) -> str:
    return f"/subscriptions/{subscription_id}/providers/Microsoft.Authorization/roleDefinitions/{role}"


def builtin_role(role: str, asking: pulumi.Resource) -> pulumi.Output[str]:
    """The role's full definition id in the subscription the `asking` resource deploys to (the invoke goes to its
    azure-native provider: a component given another subscription's provider assigns roles there)."""
    return authorization.get_client_config_output(opts=pulumi.InvokeOutputOptions(parent=asking)).subscription_id.apply(
        lambda s: role_definition_id(s, role))
