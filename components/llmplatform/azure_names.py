"""Azure's and Kubernetes' naming rules, per resource type: each function returns what is allowed when a name
breaks its type's rule (None when it is fine), so a component refuses a bad name before `pulumi up` meets it.

Sources (docs/decisions.md, "Input rules"): Azure's resource name rules (Microsoft.Storage storageAccounts,
Microsoft.KeyVault vaults, Microsoft.DBforPostgreSQL flexibleServers, Microsoft.Resources resourceGroups,
Microsoft.Network virtualNetworks, Microsoft.ManagedIdentity userAssignedIdentities), the AKS REST API's
managedClusters name and dnsPrefix patterns and the Azure CLI's agent-pool name check, Kubernetes' DNS-1123 label
and subdomain rules. The Azure rules are cross-checked by a property test against the Azure organisation's naming
module (Azure/terraform-azurerm-naming, resourceDefinition.json, vendored with the tests): it found a one-character
VNet name accepted where Azure's minimum is two.
"""
import re
from typing import Optional


def _check(regex: str, allowed: str, extra: Optional[str] = None):
    compiled = re.compile(regex, re.ASCII)  # as Go's regexp reads `\w` (pulumi-azure-native's Check): ASCII only

    def rule(name: str) -> Optional[str]:
        if not compiled.fullmatch(name) or (extra is not None and extra in name):
            return allowed
        return None
    return rule


storage_account = _check(r"[a-z0-9]{3,24}", "3-24 lowercase letters and digits (a storage account name, globally "
                                           "unique)")
key_vault = _check(r"[A-Za-z][A-Za-z0-9-]{1,22}[A-Za-z0-9]", "3-24 letters, digits and hyphens, starting with a "
                   "letter, ending with a letter or digit, no two hyphens in a row (a Key Vault name, globally unique)",
                   "--")
postgres_server = _check(r"[a-z0-9][a-z0-9-]{1,61}[a-z0-9]", "3-63 lowercase letters, digits and hyphens, not "
                         "starting or ending with a hyphen (a PostgreSQL server name, globally unique)")
# Microsoft.Dashboard grafana.json 2024-10-01 workspaceName ^[a-zA-Z][a-z0-9A-Z-]{0,28}[a-z0-9A-Z]$, in the service's
# own words when it refuses one: "Workspace names must contain only dashes or alphanumeric characters and be between 2
# to 30 characters long. They must begin with a letter and end with a letter or digit" (NameIsInvalidFormatOrTooLong,
# Azure/AzureMonitorStarterPacks#172); and unique beyond its resource group: NameNotUnique "The Grafana Workspace name
# '...' is already being used" (Azure/ARO-HCP#461, #5813: a second subscription's workspace of the same name)
grafana_workspace = _check(r"[A-Za-z][A-Za-z0-9-]{0,28}[A-Za-z0-9]", "2-30 letters, digits and hyphens, starting with "
                           "a letter, ending with a letter or digit (a Managed Grafana workspace name, unique beyond "
                           "its resource group)")
# AKS uses the cluster name as its DNS prefix too: the stricter of the two patterns (managedClusters name
# ^[a-zA-Z0-9]$|^[a-zA-Z0-9][-_a-zA-Z0-9]{0,61}[a-zA-Z0-9]$; dnsPrefix 1-54, letters, digits, hyphens)
aks_cluster = _check(r"[A-Za-z0-9]([A-Za-z0-9-]{0,52}[A-Za-z0-9])?", "1-54 letters, digits and hyphens, starting "
                     "and ending with a letter or digit (the AKS cluster name, also its DNS prefix)")
agent_pool = _check(r"[a-z][a-z0-9]{0,11}", "1-12 lowercase letters and digits, starting with a letter (an AKS Linux "
                    "node pool name)")
resource_group = _check(r"[\w().-]{0,89}[\w()-]", "1-90 ASCII letters, digits, '_', '-', '.', '(' and ')', not "
                        "ending in '.' (a resource group name; Azure takes other Unicode letters, pulumi-azure-native's "
                        "check does not)")
virtual_network = _check(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,62}[A-Za-z0-9_]", "2-64 letters, digits, '_', '.' and "
                         "'-', starting with a letter or digit and ending with a letter, digit or '_' (a VNet name)")
managed_identity = _check(r"[A-Za-z0-9][A-Za-z0-9_-]{2,127}", "3-128 letters, digits, '-' and '_', starting with a "
                          "letter or digit (a managed identity name)")
key_vault_secret = _check(r"[0-9A-Za-z-]{1,127}", "1-127 letters, digits and hyphens (a Key Vault secret name)")
# no pattern in the REST spec (Microsoft.Consumption 2024-08-01 budgetNameParameter): Azure portal's and
# terraform-provider-azurerm's rule for a budget name (1-63, letters, digits, '-', '_'), the narrower one
budget = _check(r"[A-Za-z0-9_-]{1,63}", "1-63 letters, digits, '-' and '_' (a budget name)")
# Microsoft.RecoveryServices bms.json stable/2024-10-01 parameters.RestrictedVaultName:
# ^[A-Za-z][-A-Za-z0-9]*[A-Za-z0-9]$, 2-50 characters
recovery_services_vault = _check(r"[A-Za-z][-A-Za-z0-9]{0,48}[A-Za-z0-9]", "2-50 letters, digits and '-', starting "
                                 "with a letter and ending with a letter or digit (a Recovery Services vault name)")
file_share = _check(r"[a-z0-9]([a-z0-9-]{1,61}[a-z0-9])", "3-63 lowercase letters, digits and hyphens, starting "
                    "and ending with a letter or digit, no two hyphens in a row (an Azure file share name)", "--")
dns_label = _check(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?", "a DNS label: 1-63 lowercase letters, digits and '-', "
                   "starting and ending with a letter or digit (a Kubernetes name)")
# Kubernetes creates these itself (AKS as any cluster); a component that creates its namespace must name another: a
# Namespace registered under one of these names would take over the cluster's own (Pod Security labels and
# default-deny policies on its system pods) and be deleted with the stack
KUBERNETES_NAMESPACES = ("kube-system", "kube-public", "kube-node-lease", "default")


def new_namespace(name: str) -> Optional[str]:
    """A namespace a component creates: a DNS label, and none of Kubernetes' own."""
    wrong = dns_label(name)
    if wrong is None and name in KUBERNETES_NAMESPACES:
        return (f"a namespace other than Kubernetes' own ({', '.join(KUBERNETES_NAMESPACES)}), which exist already: "
                f"the component creates its namespace")
    return wrong


# apimachinery eed236ce pkg/util/validation IsDNS1035Label: what a Service's name must be (its DNS name)
service_name = _check(r"[a-z]([-a-z0-9]{0,61}[a-z0-9])?", "a Service name: 1-63 lowercase letters, digits and '-', "
                      "starting with a letter and ending with a letter or digit")
# apimachinery eed236ce pkg/util/validation IsDNS1123Subdomain: DNS-1123 labels (any length) joined by '.', 253 in all
dns_subdomain = _check(r"(?=.{1,253}\Z)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*", "a DNS "
                       "subdomain: 1-253 lowercase letters, digits, '-' and '.', labels joined by '.' each starting "
                       "and ending with a letter or digit (a Kubernetes name)")
postgres_database = _check(r"[a-z_][a-z0-9_]{0,62}", "a lowercase PostgreSQL identifier (letters, digits, '_', not "
                           "starting with a digit, at most 63)")
name_prefix = _check(r"[a-z0-9]([-a-z0-9]{0,38}[a-z0-9])?", "1-40 lowercase letters, digits and '-', starting and "
                     "ending with a letter or digit (the start of Azure and Kubernetes names)")
# a resource name standing in for an unset name_prefix, where only Azure names start with it (they take capitals:
# a YAML program's camelCase resource names)
azure_name_start = _check(r"[A-Za-z0-9]([-A-Za-z0-9]{0,38}[A-Za-z0-9])?", "1-40 letters, digits and '-', starting "
                          "and ending with a letter or digit (the start of Azure names)")

# The group AKS creates for a cluster's nodes unless the cluster names one (AKS FAQ "Why are two resource groups created
# with AKS?", MicrosoftDocs/azure-aks-docs articles/aks/faq). AKS does not shorten it: a longer name than 80 refuses the
# cluster, InvalidParameter "The length of the node resource group name is too long. The maximum length is 80 and the
# length of the value provided is 89" (quoted in Azure-Terraform/terraform-azurerm-kubernetes#33, rancher/rancher#21264).
NODE_RESOURCE_GROUP_MAX = 80


def node_resource_group(group: str, cluster: str, region: str) -> str:
    return f"MC_{group}_{cluster}_{region}"
