"""Subnet ranges Azure refuses, read over a run's registrations (llmplatform.testing refuses them): a subnet outside
its virtual network's address space (NetcfgSubnetRangeOutsideVnet) and two subnets of one network whose ranges
overlap (NetcfgSubnetRangesOverlap), whoever declares them: a program's own subnet beside the platform's included."""
import ipaddress
from typing import TYPE_CHECKING, Any, Union

if TYPE_CHECKING:
    from .testing.records import Registration

VIRTUAL_NETWORK = "azure-native:network:VirtualNetwork"
SUBNET = "azure-native:network:Subnet"
Network = Union[ipaddress.IPv4Network, ipaddress.IPv6Network]


def _ranges(values: Any) -> list[Network]:
    """The ranges of a prefix or a list of them; what is not a range (an unknown, a typo) is the inputs check's."""
    found = []
    for value in values if isinstance(values, list) else [values]:
        try:
            found.append(ipaddress.ip_network(str(value), strict=False))
        except ValueError:
            continue
    return found


def refusals(resources: list["Registration"]) -> list[str]:
    spaces = {(str(r.inputs.get("resourceGroupName")), str(r.inputs.get("virtualNetworkName"))):
              _ranges((r.inputs.get("addressSpace") or {}).get("addressPrefixes") or [])
              for r in resources if r.type == VIRTUAL_NETWORK}
    problems: list[str] = []
    seen: dict[tuple[str, str], list[tuple[str, Network]]] = {}
    for reg in resources:
        if reg.type != SUBNET:
            continue
        network = (str(reg.inputs.get("resourceGroupName")), str(reg.inputs.get("virtualNetworkName")))
        mine = _ranges(reg.inputs.get("addressPrefixes") or reg.inputs.get("addressPrefix") or [])
        space = spaces.get(network) or []  # a network this run does not declare: its space is unknown
        for net in mine:
            inside = [s for s in space if net.version == s.version and net.subnet_of(s)]  # type: ignore[arg-type]
            if space and not inside:
                problems.append(f"{reg.name}: subnet {net} is outside virtual network {network[1]}'s address space "
                                f"{', '.join(map(str, space))} (Azure refuses it: NetcfgSubnetRangeOutsideVnet)")
            for other, theirs in seen.get(network, []):
                if net.version == theirs.version and net.overlaps(theirs):
                    problems.append(f"{reg.name}: subnet {net} overlaps {other}'s {theirs} in virtual network "
                                    f"{network[1]} (Azure refuses it: NetcfgSubnetRangesOverlap)")
        seen.setdefault(network, []).extend((reg.name, net) for net in mine)
    return problems
