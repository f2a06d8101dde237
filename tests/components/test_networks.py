"""The address plan rules (components/llmplatform/networks.py) as pure functions, each case derived from the upstream
rule it encodes (docs/decisions.md, "Input rules")."""

import ipaddress

import pytest
from llmplatform.networks import cidr_problem, network_rules, usable_subnet_address
from llmplatform.rules import Rules


NETWORK = {"vnet_cidr": "10.0.0.0/16", "node_subnet_cidr": "10.0.0.0/20", "endpoints_subnet_cidr": "10.0.16.0/24",
           "postgres_subnet_cidr": "10.0.17.0/24", "pod_cidr": "192.168.0.0/16", "service_cidr": "172.16.0.0/16",
           "dns_service_ip": "172.16.0.10"}


def network_problems(**changes):
    r = Rules({"network": {**NETWORK, **changes}}, "AksCluster")
    network_rules(r.section("network"))
    return {p.path: p for p in r.problems}


def test_a_sound_address_plan_has_no_problem():
    assert network_problems() == {}


@pytest.mark.parametrize("changes, path", [
    ({"vnet_cidr": "10.0.0.0/33"}, "network.vnet_cidr"),  # no such prefix length
    ({"vnet_cidr": "10.0.0.1/16"}, "network.vnet_cidr"),  # host bits set
    ({"pod_cidr": "fd00::/8"}, "network.pod_cidr"),  # IPv6: this plan is IPv4 only
    ({"node_subnet_cidr": "10.0.0.0/30"}, "network.node_subnet_cidr"),  # below Azure's /29
    ({"node_subnet_cidr": "10.9.0.0/20"}, "network.node_subnet_cidr"),  # outside the VNet
    ({"endpoints_subnet_cidr": "10.0.15.0/24"}, "network.endpoints_subnet_cidr"),  # overlaps the node subnet
    ({"pod_cidr": "10.0.128.0/17"}, "network.pod_cidr"),  # overlaps the VNet
    ({"service_cidr": "10.0.192.0/18", "dns_service_ip": "10.0.192.10"}, "network.service_cidr"),
    ({"service_cidr": "192.168.0.0/20", "dns_service_ip": "192.168.0.10"}, "network.service_cidr"),  # in pods
    ({"service_cidr": "172.0.0.0/11", "dns_service_ip": "172.0.0.10"}, "network.service_cidr"),  # > /12
    ({"pod_cidr": "169.254.0.0/16"}, "network.pod_cidr"),  # AKS reserved
    ({"dns_service_ip": "10.0.0.10"}, "network.dns_service_ip"),  # outside the service range
    ({"dns_service_ip": "172.16.0.0"}, "network.dns_service_ip"),  # the network address
    ({"dns_service_ip": "172.16.0.1"}, "network.dns_service_ip"),  # the kubernetes Service's address
    ({"dns_service_ip": "172.16.255.255"}, "network.dns_service_ip"),  # broadcast
    ({"dns_service_ip": "172.16.0.300"}, "network.dns_service_ip"),  # not an address
])
def test_a_broken_address_plan_names_the_range(changes, path):
    found = network_problems(**changes)
    assert path in found, found
    assert found[path].value in changes.values()


def test_the_largest_service_range_kube_apiserver_takes_is_a_slash_12():
    assert cidr_problem("10.64.0.0/12", "service_cidr") is None
    assert "/12" in cidr_problem("10.64.0.0/11", "service_cidr")
    assert "reserves" in cidr_problem("172.16.0.0/12", "service_cidr")  # holds 172.30.0.0/16 and 172.31.0.0/16


def test_azure_reserves_five_addresses_of_every_subnet():
    subnet = ipaddress.ip_network("10.0.0.0/29")
    usable = [str(a) for a in subnet if usable_subnet_address(str(a), str(subnet))]
    assert usable == ["10.0.0.4", "10.0.0.5", "10.0.0.6"]  # 8 - network, gateway, 2 DNS, broadcast


def test_an_internal_load_balancer_address_is_private_and_usable_in_the_node_subnet():
    """Azure reserves the network address, .1 (gateway), .2 and .3 (Azure DNS) and the broadcast address of every
    subnet (Azure Virtual Network FAQ); without the subnet's range, a private (RFC 1918) IPv4 address is asked for."""
    from llmplatform.networks import azure_reserved, internal_ip_problem
    assert azure_reserved("10.0.0.0/20") == ["10.0.0.0", "10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.15.255"]
    for address in ("10.0.0.4", "10.0.15.250", "10.0.15.254"):
        assert internal_ip_problem(address, "10.0.0.0/20") is None, address
    for address in ("10.0.0.0", "10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.15.255", "10.0.16.4", "192.168.0.4"):
        assert internal_ip_problem(address, "10.0.0.0/20").startswith("a usable address of the node subnet "
                                                                      "10.0.0.0/20"), address
    for address in ("10.40.15.250", "172.16.0.4", "172.31.255.250", "192.168.1.10"):
        assert internal_ip_problem(address) is None, address
    for address in ("8.8.8.8", "20.50.1.4", "172.32.0.4", "100.64.0.4", "127.0.0.1", "169.254.0.4"):
        assert internal_ip_problem(address).startswith("a private IPv4 address (RFC 1918"), address
    for address in ("10.0.0", "10.0.0.256", "fd00::4", "", "ten"):
        assert internal_ip_problem(address) == "a private IPv4 address of the node subnet, like '10.0.15.250'"
        # the example given is one of the subnet's own when it is known (a reviewer got 10.0.15.250 for 10.40.0.0/20)
        assert internal_ip_problem(address, "10.40.0.0/20") == \
            "a private IPv4 address of the node subnet, like '10.40.15.250'"
    # a VNet in a public range (Azure allows it): the known subnet decides
    assert internal_ip_problem("20.50.1.4", "20.50.0.0/16") is None
