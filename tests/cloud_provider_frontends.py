"""Which of the plan's LoadBalancer Services share one load-balancer frontend (one IP address), and the ports on
which two of them would collide, as AKS's cloud provider decides it.

Transcribed from kubernetes-sigs/cloud-provider-azure at 7b31c76ce2ff602cc2dfec988744d8d0534b448c (2026-08-19):
- documentation branch content/en/topics/shared-ip.md ("Multiple Services Sharing One IP Address"): Services naming
  the same public IP (`service.beta.kubernetes.io/azure-pip-name`, or its address through
  `azure-load-balancer-ipv4` / spec.loadBalancerIP) share it: their rules hang off one frontend IP configuration.
- pkg/provider/azure_loadbalancer.go reconcileLoadBalancer -> checkLoadBalancerResourcesConflicts /
  lbRuleConflictsWithPort: before it builds a Service's rules, every port of the Service is compared with the load
  balancer's existing rules on the same frontend; a rule of another Service with the same frontend port and protocol
  is an error ("service port ... is trying to consume the port ... which is being referenced by an existing
  loadBalancing rule"), so the later Service never gets its rules (and the earlier keeps the port).
An internal Service without a fixed address gets a frontend of its own, as does a public one without a named IP
(the cloud provider then makes an address for it).
"""
from typing import Any, Optional

from tests.cloud_provider_grants import ANN, load_balancer_services


def frontend(service: dict[str, Any]) -> Optional[tuple[str, ...]]:
    """What identifies the frontend a Service joins (None: a frontend of its own)."""
    annotations = service["metadata"].get("annotations") or {}
    internal = annotations.get(ANN + "azure-load-balancer-internal") == "true"
    address = annotations.get(ANN + "azure-load-balancer-ipv4") or service["spec"].get("loadBalancerIP")
    if internal:
        return ("internal", address) if address else None
    name = annotations.get(ANN + "azure-pip-name")
    if name:
        return ("public", annotations.get(ANN + "azure-load-balancer-resource-group", "<node group>"), name)
    return ("public-address", address) if address else None


def port_conflicts(services: list[dict[str, Any]]) -> list[str]:
    """Each (frontend port, protocol) that two Services on one frontend both take: the later one's rules fail."""
    taken: dict[tuple[Any, ...], str] = {}
    out = []
    for service in services:
        where = frontend(service)
        if where is None:
            continue
        name = f"{service['metadata'].get('namespace')}/{service['metadata']['name']}"
        for port in service["spec"]["ports"]:
            key = (where, port["port"], port.get("protocol", "TCP"))
            if key in taken and taken[key] != name:
                out.append(f"{name} and {taken[key]} both take {port.get('protocol', 'TCP')} port {port['port']} "
                           f"on {where}")
            taken.setdefault(key, name)
    return out


def plan_port_conflicts(plan: Any) -> list[str]:
    return port_conflicts(load_balancer_services(plan))
