"""What AKS's cloud provider (cloud-provider-azure, run as the cluster's own identity) reads and writes outside the
node resource group for the plan's LoadBalancer Services, and which built-in roles cover it, so a test can hold the
cluster identity's role assignments to exactly that.

Transcribed from kubernetes-sigs/cloud-provider-azure at 7b31c76ce2ff602cc2dfec988744d8d0534b448c (2026-08-19):
- pkg/provider/azure_loadbalancer.go getPublicIPAddressResourceGroup: a public Service's address is looked up in the
  group `service.beta.kubernetes.io/azure-load-balancer-resource-group` names, else the node resource group (AKS's own,
  where the identity already manages everything); ensurePublicIPExists with `azure-pip-name` requires that address to
  exist ("doesn't exist" error otherwise), reads it, may update it (CreateOrUpdatePIP: tags, sku) and the load
  balancer's frontend joins it.
- pkg/provider/azure_publicip_repo.go newPIPCache/getPublicIPAddress: the address is found through a LIST of the
  group's public IPs (`GetPublicIPAddressClient().List(ctx, pipResourceGroup)`), an operation on the group itself.
- azure_loadbalancer.go (reconcileFrontendIPConfigs, isInternal): an internal Service's frontend is put in the subnet
  `azure-load-balancer-internal-subnet` names, else the cloud config's subnetName (AKS: the nodes' subnet), read with
  subnetRepo.Get and joined by the frontend.
Plus AKS's own rule for a subnet it does not own (MicrosoftDocs/azure-aks-docs articles/aks/aks-service-permissions.md,
"Additional AKS cluster identity permissions": subnets/read and subnets/join/action on a custom VNet's subnet;
internal-lb.md: Network Contributor, or those two actions, on the network of an internal load balancer).
Private DNS zones (a custom privateDNSZone), route tables (kubenet) and NSGs outside the node group are not used here.
"""
import fnmatch
import json
from typing import Any

from llmplatform.testing import SUBSCRIPTION

from tests.conftest import upstream_dir
from tests.istio_gateway import plan_services

ANN = "service.beta.kubernetes.io/"
SUBNET_ACTIONS = ("Microsoft.Network/virtualNetworks/subnets/read",
                  "Microsoft.Network/virtualNetworks/subnets/join/action")
PIP_ACTIONS = ("Microsoft.Network/publicIPAddresses/read", "Microsoft.Network/publicIPAddresses/write",
               "Microsoft.Network/publicIPAddresses/join/action")
PIP_LIST = "Microsoft.Network/publicIPAddresses/read"
# built-in roles from the least to the most privileged: the first that covers a scope's needs is the one to grant
LEAST_FIRST = ("Reader", "Network Contributor")


def builtin_roles() -> dict[str, dict[str, Any]]:
    return json.loads((upstream_dir() / "azure-roles" / "builtin-roles.json").read_text())


def allows(role: dict[str, Any], action: str) -> bool:
    """ARM's match of an action against a role's actions (`*` any characters, case-insensitive) minus notActions."""
    def hit(patterns: list[str]) -> bool:
        return any(fnmatch.fnmatchcase(action.lower(), p.lower()) for p in patterns)
    return hit(role["actions"]) and not hit(role["notActions"])


def load_balancer_services(plan: Any) -> list[dict[str, Any]]:
    """Every LoadBalancer Service the plan makes: its own, and those Istio generates for its Gateways."""
    own = [r.inputs for r in plan.kubernetes_objects() if r.inputs["kind"] == "Service"]
    return [s for s in own + list(plan_services(plan).values()) if s["spec"].get("type") == "LoadBalancer"]


def group_id(group: str) -> str:
    return f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{group}"


def needs(plan: Any) -> dict[str, set[str]]:
    """Scope -> the actions the cluster identity must hold there (ids as the mocks make them)."""
    out: dict[str, set[str]] = {}
    mc = plan.one("azure-native:containerservice:ManagedCluster").inputs
    pools = [*mc["agentPoolProfiles"], *[p.inputs for p in plan.of_type("azure-native:containerservice:AgentPool")]]
    for pool in pools:  # AKS on a subnet of a network it does not own
        out.setdefault(pool["vnetSubnetID"], set()).update(SUBNET_ACTIONS)
    default_subnet = mc["agentPoolProfiles"][0]["vnetSubnetID"]
    addresses = {(p.inputs["resourceGroupName"], p.inputs["publicIpAddressName"]): p
                 for p in plan.of_type("azure-native:network:PublicIPAddress")}
    for service in load_balancer_services(plan):
        annotations = service["metadata"].get("annotations") or {}
        if annotations.get(ANN + "azure-load-balancer-internal") == "true":
            assert ANN + "azure-load-balancer-internal-subnet" not in annotations, "not modelled: another subnet"
            out.setdefault(default_subnet, set()).update(SUBNET_ACTIONS)
            continue
        group = annotations.get(ANN + "azure-load-balancer-resource-group")
        if not group:
            continue  # an address AKS makes in its own node resource group
        out.setdefault(group_id(group), set()).add(PIP_LIST)
        name = annotations.get(ANN + "azure-pip-name")
        assert name and (group, name) in addresses, f"the Service names no planned address: {annotations}"
        # the address's id: Azure REST API, Public IP Addresses - Get, /subscriptions/{subscriptionId}/resourceGroups/
        # {resourceGroupName}/providers/Microsoft.Network/publicIPAddresses/{publicIpAddressName}
        out.setdefault(f"{group_id(group)}/providers/Microsoft.Network/publicIPAddresses/{name}", set()).update(
            PIP_ACTIONS)
    return out


def least_role(actions: set[str]) -> str:
    """The role id of the least privileged built-in role (of LEAST_FIRST) allowing every action."""
    roles = builtin_roles()
    for name in LEAST_FIRST:
        role_id = next(i for i, r in roles.items() if r["roleName"] == name)
        if all(allows(roles[role_id], a) for a in actions):
            return role_id
    raise AssertionError(f"no built-in role of {LEAST_FIRST} allows {sorted(actions)}")


def covers(scope: str, target: str) -> bool:
    """An assignment at `scope` applies to `target` (the same id or one under it)."""
    return target.lower() == scope.lower() or target.lower().startswith(scope.lower() + "/")
