"""An internal load balancer given another private address: what the pull request's check says of the clients of the
old one, which the one-annotation update alone does not tell."""
from typing import Any, Optional

from .documents import object_name

GATEWAY = "kubernetes:gateway.networking.k8s.io/v1:Gateway"
SERVICE = "kubernetes:core/v1:Service"
INTERNAL = "service.beta.kubernetes.io/azure-load-balancer-internal"
ADDRESS = "service.beta.kubernetes.io/azure-load-balancer-ipv4"
# GatewayAccess's internal Gateway (llmplatform.gateway `lb_annotations`: the address is `internal_ip`)
GATEWAY_ACCESS = "llmplatform:index:GatewayAccess$"


def _annotations(type_: str, inputs: dict[str, Any]) -> dict[str, Any]:
    """The annotations the cloud provider reads: a Service's own, a Gateway's `spec.infrastructure.annotations`
    (which Istio puts on the Service it generates; Gateway API v1.6.1 `GatewayInfrastructure.annotations`:
    "Annotations that SHOULD be applied to any resources created in response to this Gateway")."""
    if type_ == SERVICE:
        found = (inputs.get("metadata") or {}).get("annotations")
    else:
        found = ((inputs.get("spec") or {}).get("infrastructure") or {}).get("annotations")
    return found if isinstance(found, dict) else {}


def _address(type_: str, inputs: dict[str, Any]) -> Optional[str]:
    """The private address an internal load balancer is asked for, None when Azure picks it (or it is not internal).
    cloud-provider-azure (v1.34.13, v1.35.8 `pkg/provider/azure_utils.go` `getServiceLoadBalancerIP`) reads the
    annotation, else a Service's `spec.loadBalancerIP`."""
    annotations = _annotations(type_, inputs)
    if str(annotations.get(INTERNAL)).lower() != "true":
        return None
    address = annotations.get(ADDRESS) or (
        (inputs.get("spec") or {}).get("loadBalancerIP") if type_ == SERVICE else None)
    return address if isinstance(address, str) and address else None


def moved_address_findings(urn: str, type_: str, old_inputs: dict[str, Any], new_inputs: dict[str, Any]) -> list[str]:
    """A check line for an internal load balancer asked for another private address. cloud-provider-azure
    (v1.34.13 and v1.35.8, `pkg/provider/azure_loadbalancer.go`): `isFrontendIPChanged` finds the asked address
    unlike the frontend's, and `reconcileFrontendIPConfigs` drops that frontend and adds one of the same name at the
    new address (its zones kept) in the same update of the load balancer: the old address stops answering as the
    new one starts, no overlap. An address dropped (Azure's pick from then on) keeps the one the frontend has."""
    if type_ not in (GATEWAY, SERVICE):
        return []
    before, after = _address(type_, old_inputs), _address(type_, new_inputs)
    if after is None or before == after:
        return []
    kit = GATEWAY_ACCESS in urn
    key = " (stack key `gateway.internalIp`)" if kit else ""
    output = ", a reader of the stack output `gatewayInternalAddress`" if kit else ""
    namespace = (new_inputs.get("metadata") or {}).get("namespace") or "default"
    kind = "gateway" if type_ == GATEWAY else "service"
    was = f"\"{before}\"" if before else "the address Azure picked"
    return [f"its internal load balancer's address {was} -> \"{after}\"{key}: cloud-provider-azure drops the frontend "
            "at the old address and adds one at the new address in one update of the load balancer (not a move in "
            "place, no overlap), so from then on nothing answers at the old address. "
            "Disruptive for whatever reaches the gateway by its address (a private DNS record, a peered network's "
            f"client or firewall rule, a URL holding it{output}): point them at the new address as the change "
            "deploys. `pulumi up` does not wait for it ("
            + ("a Gateway has no awaiter" if type_ == GATEWAY else "the Service's awaiter finds the old address")
            + f"): check `kubectl get {kind} -n {namespace} {object_name({'inputs': new_inputs})}` shows it; the "
            "address must be free in the subnet, or Azure refuses the load balancer's update (the Service's events "
            "say why) and the old address stays"]
