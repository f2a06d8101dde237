"""AksCluster's address plan checked before anything is created: what Azure and AKS refuse at `pulumi up`, or
accept and then fail with (a node subnet outside its VNet, a DNS address outside the service range).

Facts (docs/decisions.md, "Input rules"): a VNet subnet is at most /29 small and Azure reserves its first four
addresses and the last; AKS (Azure CNI overlay) needs the pod and service ranges outside the VNet and apart from
each other, the DNS service address inside the service range, and not its first address (the `kubernetes`
Service's); kube-apiserver refuses a service range larger than /12 for IPv4. The plan here is IPv4 only.
"""
import functools
import ipaddress
from typing import Any, Optional

from .rules import Rules, pattern

SUBNETS = ("node_subnet_cidr", "endpoints_subnet_cidr", "postgres_subnet_cidr")
RANGES = ("vnet_cidr", *SUBNETS, "pod_cidr", "service_cidr")
SMALLEST_SUBNET_PREFIX = 29  # Azure: the smallest subnet is /29 (3 usable addresses after the 5 reserved)
LARGEST_SERVICE_PREFIX = 12  # kube-apiserver: a service range may be at most /12 for IPv4
# Ranges AKS reserves for itself: pod and service ranges must stay out of them (AKS networking concepts)
# Weakest source here: quoted in a third-party AKS onboarding guide, not found on a Microsoft page in this repository's
# sessions; re-check against AKS' networking docs (docs/decisions.md, "Input rules").
AKS_RESERVED = tuple(ipaddress.ip_network(n) for n in ("169.254.0.0/16", "172.30.0.0/16", "172.31.0.0/16",
                                                       "192.0.2.0/24"))


def cidr_problem(value: str, key: str) -> Optional[str]:
    """What is allowed when `value` is not a usable IPv4 range for `key` (None when it is)."""
    try:
        net = ipaddress.ip_network(value, strict=True)
    except ValueError:
        return "an IPv4 range in CIDR notation with no host bits set, like '10.0.0.0/16'"
    if net.version != 4:
        return "an IPv4 range (this network plan is IPv4 only)"
    # the PostgreSQL subnet's floor is larger (/28, put_rules): said once, by that rule
    if key in SUBNETS and key != "postgres_subnet_cidr" and net.prefixlen > SMALLEST_SUBNET_PREFIX:
        return f"a range of /{SMALLEST_SUBNET_PREFIX} or larger (Azure's smallest subnet)"
    if key == "vnet_cidr" and not 8 <= net.prefixlen <= SMALLEST_SUBNET_PREFIX:
        return f"a range from /8 to /{SMALLEST_SUBNET_PREFIX}"
    if key == "service_cidr" and net.prefixlen < LARGEST_SERVICE_PREFIX:
        return f"a range of /{LARGEST_SERVICE_PREFIX} or smaller (kube-apiserver's largest service range)"
    if key in ("pod_cidr", "service_cidr"):
        reserved = next((r for r in AKS_RESERVED if net.overlaps(r)), None)
        if reserved is not None:
            return f"a range outside {reserved}, which AKS reserves"
    return None


def network_rules(r: Rules) -> None:
    """Every rule of a NetworkSpec, each problem named by its input (`network.<key>`)."""
    nets: dict[str, Any] = {}
    for key in RANGES:
        value = r.text(key, functools.partial(cidr_problem, key=key))
        if value is not None:
            nets[key] = ipaddress.ip_network(value)
    vnet = nets.get("vnet_cidr")
    for key in SUBNETS:
        if key in nets and vnet is not None and not nets[key].subnet_of(vnet):
            r.add(key, str(nets[key]), f"a range inside {r.ref('vnet_cidr')} ({vnet})")
            nets.pop(key)
    for i, a in enumerate(SUBNETS):
        for b in SUBNETS[i + 1:]:
            if a in nets and b in nets and nets[a].overlaps(nets[b]):
                r.add(b, str(nets[b]), f"a range apart from {r.ref(a)} ({nets[a]})")
    for key in ("pod_cidr", "service_cidr"):
        if key in nets and vnet is not None and nets[key].overlaps(vnet):
            r.add(key, str(nets[key]), f"a range outside {r.ref('vnet_cidr')} ({vnet}): AKS routes it inside the "
                                       f"cluster")
            nets.pop(key)
    if "pod_cidr" in nets and "service_cidr" in nets and nets["service_cidr"].overlaps(nets["pod_cidr"]):
        r.add("service_cidr", str(nets["service_cidr"]), f"a range apart from {r.ref('pod_cidr')} "
                                                         f"({nets['pod_cidr']})")
        nets.pop("service_cidr")
    dns = r.text("dns_service_ip", pattern(r"[0-9.]{7,15}", "an IPv4 address like '172.16.0.10'"))
    if dns is None:
        return
    try:
        address = ipaddress.ip_address(dns)
    except ValueError:
        r.add("dns_service_ip", dns, "an IPv4 address like '172.16.0.10'")
        return
    services = nets.get("service_cidr")
    if services is not None and (address not in services or address in (
            services.network_address, services.network_address + 1, services.broadcast_address)):
        r.add("dns_service_ip", dns, f"an address inside {r.ref('service_cidr')} ({services}), not its first two "
                                     f"addresses (the network and the kubernetes Service) nor its broadcast address")


def usable_subnet_address(address: str, subnet: str) -> bool:
    """An address Azure lets a load balancer take in `subnet`: inside it and none of the five Azure reserves."""
    try:
        ip, net = ipaddress.ip_address(address), ipaddress.ip_network(subnet)
    except ValueError:
        return False
    return ip in net and int(net.network_address) + 3 < int(ip) < int(net.broadcast_address)


# RFC 1918's private ranges. Azure lets a VNet use public ranges too (Azure Virtual Network FAQ, "What address ranges
# can I use in my VNets?"): with the node subnet known, the subnet decides; without it, a private address is asked for.
PRIVATE_RANGES = tuple(ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))


def azure_reserved(subnet: str) -> list[str]:
    """The five addresses Azure keeps in every subnet (Azure Virtual Network FAQ, "Are there any restrictions on
    using IP addresses within these subnets?"): the network address, .1 the default gateway, .2 and .3 Azure DNS,
    and the broadcast address."""
    net = ipaddress.ip_network(subnet, strict=False)
    return [str(net.network_address + i) for i in range(4)] + [str(net.broadcast_address)]


def internal_ip_problem(address: str, subnet: Optional[str] = None) -> Optional[str]:
    """What is allowed when `address` cannot be the fixed address of an internal load balancer in the node subnet
    (`subnet`, its CIDR, when known): without the annotation naming another subnet, cloud-provider-azure puts the
    internal front end in the cluster's default subnet, the node subnet (kubernetes/kubernetes#51757)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        ip = None
    if ip is None or ip.version != 4:
        example = str(ipaddress.ip_network(subnet, strict=False).broadcast_address - 5) if subnet else "10.0.15.250"
        return f"a private IPv4 address of the node subnet, like {example!r}"
    if subnet is None:
        if not any(ip in net for net in PRIVATE_RANGES):
            return ("a private IPv4 address (RFC 1918: 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16) of the node subnet; "
                    "a node subnet in another range: give the cluster handle's node_subnet_cidr")
        return None
    if not usable_subnet_address(address, subnet):
        reserved = azure_reserved(subnet)
        return (f"a usable address of the node subnet {ipaddress.ip_network(subnet, strict=False)}: inside it and none "
                f"of the five Azure reserves ({reserved[0]} network, {reserved[1]} gateway, {reserved[2]} and "
                f"{reserved[3]} Azure DNS, {reserved[4]} broadcast)")
    return None


def cidr_or_none(value: Any) -> Optional[str]:
    """`value` when it is an IPv4 range (a handle's field known now), else None. An IPv6 range is none: the handle
    holds one range of each kind, and AKS's nodes and pods always have IPv4 ones (dual-stack adds IPv6 beside them),
    which an IPv6 value would leave out of the gate's private peers (and an internal Gateway's IPv4 address could
    never be inside it)."""
    try:
        net = ipaddress.ip_network(value, strict=False) if isinstance(value, str) else None
    except ValueError:
        return None
    return str(net) if net is not None and net.version == 4 else None


def authorized_range_problem(value: str) -> Optional[str]:
    try:
        ipaddress.ip_network(value, strict=False)
    except ValueError:
        return "an IP address or CIDR range"
    return None
