"""The `network` section: the VNet's address plan, checked by AksCluster's address-plan rules."""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass

from llmplatform.networks import cidr_problem

from .. import component_rules
from ..reader import Reader, as_text


@dataclass(frozen=True)
class NetworkConfig:
    vnet_cidr: str = "10.40.0.0/16"
    node_subnet_cidr: str = "10.40.0.0/20"
    endpoints_subnet_cidr: str = "10.40.16.0/24"
    postgres_subnet_cidr: str = "10.40.17.0/24"
    pod_cidr: str = "192.168.0.0/16"
    service_cidr: str = "172.16.0.0/16"
    dns_service_ip: str = "172.16.0.10"


def _cidr(r: Reader, name: str, default: str) -> str:
    """A range as written; an unusable one leaves the default in the config (AksCluster's rules report it)."""
    value = r.str_(name, default) or default
    return default if cidr_problem(value, _snake(name)) else value


def _snake(name: str) -> str:
    return re.sub(r"([A-Z])", lambda m: "_" + m.group(1).lower(), name)


def parse_network(r: Reader) -> NetworkConfig:
    d = NetworkConfig()
    # as the reader takes them: a whole number (`vnetCidr: 10`, `--set network.podCidr=192`) as its digits, so the
    # rules refuse it instead of the default standing in for it unseen
    texts = {k: as_text(r.raw.get(k)) for k in ("vnetCidr", "nodeSubnetCidr", "endpointsSubnetCidr",
                                                "postgresSubnetCidr", "podCidr", "serviceCidr", "dnsServiceIp")}
    raw = {k: v for k, v in texts.items() if isinstance(v, str)}
    cfg = NetworkConfig(
        vnet_cidr=_cidr(r, "vnetCidr", d.vnet_cidr),
        node_subnet_cidr=_cidr(r, "nodeSubnetCidr", d.node_subnet_cidr),
        endpoints_subnet_cidr=_cidr(r, "endpointsSubnetCidr", d.endpoints_subnet_cidr),
        postgres_subnet_cidr=_cidr(r, "postgresSubnetCidr", d.postgres_subnet_cidr),
        pod_cidr=_cidr(r, "podCidr", d.pod_cidr),
        service_cidr=_cidr(r, "serviceCidr", d.service_cidr),
        dns_service_ip=r.str_("dnsServiceIp", d.dns_service_ip) or d.dns_service_ip,
    )
    r.reject_unknown_keys()
    # the plan as written (defaults for what is left out): AksCluster's address-plan rules
    written = {**asdict(d), **{_snake(k): v for k, v in raw.items() if v}}
    component_rules.check(r, "AksCluster", {"network": written}, component_rules.keys(""))
    return cfg
