"""What the AKS resource provider refuses when a cluster or a pool is written, though the SDK's Args take it: each rule
refused by the component before it registers anything (ComponentInputError, no traceback) and by the stack config
under its key. Sources are named at each rule (components/llmplatform/put_rules.py)."""
from __future__ import annotations

import pytest

import llmplatform
from config.loader import parse_config
from config.reader import ConfigError
from llmplatform.put_rules import aks_cluster as aks_put_rules
from llmplatform.checks import ComponentInputError
from llmplatform.put_rules import gpu_node_pool as gpu_put_rules
from llmplatform.vm_sizes import active_vcpus
from offline import runner as offline

from tests.components.test_components_alone import REQUIRED


def aks_args(**changes: object) -> dict:
    args = REQUIRED["AksCluster"]()
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(args.get(key), dict):
            args[key] = {**args[key], **value}
        else:
            args[key] = value
    return args


def refused(component: str, args: dict) -> list[str]:
    """The input paths the component refuses, before it registers anything."""
    with pytest.raises(ComponentInputError) as caught:
        getattr(llmplatform, component)("azaudit", args)
    return [e["property_path"] for e in caught.value.errors or []]


def stack_refuses(stack: str, overrides: dict) -> str:
    prefix = "aks-llm-platform:"
    raw = {k[len(prefix):]: v for k, v in offline.stack_config(stack, overrides).items()}
    with pytest.raises(ConfigError) as caught:
        parse_config(raw, "p", stack)
    return str(caught.value)


# ---- node-image cluster channel ties the node OS channel to NodeImage ---------------------------------------------
def test_node_image_cluster_channel_refuses_another_node_os_channel():
    args = aks_args(upgrade_channel="node-image", node_os_upgrade_channel="SecurityPatch")
    assert refused("AksCluster", args) == ["node_os_upgrade_channel"]
    assert [p.path for p in aks_put_rules(aks_args(upgrade_channel="node-image"))] == []  # the default, NodeImage
    assert [p.path for p in aks_put_rules(aks_args(upgrade_channel="patch",
                                                   node_os_upgrade_channel="SecurityPatch"))] == []
    message = stack_refuses("dev", {"cluster": {"upgradeChannel": "node-image", "nodeOsUpgradeChannel": "None"}})
    assert "cluster.nodeOsUpgradeChannel 'None' is invalid; allowed: NodeImage with cluster.upgradeChannel " \
           "node-image" in message


# ---- room for 30 pods in every pool written with nodes ----------------------------------------------------------
def test_a_system_pool_without_room_for_30_pods_is_refused():
    args = aks_args(system_pool={"max_pods": 20, "min_count": 1})
    assert refused("AksCluster", args) == ["system_pool.max_pods"]
    # three nodes of 10 pods is the documented smallest
    assert aks_put_rules(aks_args(system_pool={"max_pods": 10, "min_count": 3})) == []
    message = stack_refuses("dev", {"cluster": {"systemPool": {"maxPods": 10, "minCount": 2}}})
    assert "cluster.systemPool.maxPods 10 is invalid; allowed: at least 15 with cluster.systemPool.minCount 2" \
           in message


def test_a_workload_pool_with_nodes_but_without_room_for_30_pods_is_refused():
    assert refused("AksCluster", aks_args(workload_pool={"max_pods": 10, "min_count": 1})) == \
        ["workload_pool.max_pods"]
    # a user pool created with no node is left to AKS
    assert aks_put_rules(aks_args(workload_pool={"max_pods": 10, "min_count": 0})) == []


def test_a_gpu_pool_and_its_fallback_keep_room_for_30_pods():
    base = REQUIRED["GpuNodePool"]()
    assert refused("GpuNodePool", {**base, "max_pods": 10, "min_count": 1}) == ["max_pods"]
    assert gpu_put_rules({**base, "max_pods": 10}) == []  # scales from zero: no node when written
    fallback = {"enabled": True, "min_count": 1, "max_count": 2}
    assert [p.path for p in gpu_put_rules({**base, "max_pods": 10, "fallback": fallback})] == ["max_pods"]
    message = stack_refuses("dev", {"gpu": {"maxPods": 10, "minCount": 1}})
    assert "gpu.maxPods 10 is invalid; allowed: at least 30 with gpu.minCount 1" in message


# ---- a system pool's size: at least 2 vCPUs (SystemPoolSkuTooLow) ----------------------------------------------
def test_a_one_vcpu_system_pool_size_is_refused():
    assert refused("AksCluster", aks_args(system_pool={"vm_size": "Standard_D1_v2"})) == ["system_pool.vm_size"]
    assert aks_put_rules(aks_args(system_pool={"vm_size": "Standard_D2s_v5"})) == []
    assert aks_put_rules(aks_args(workload_pool={"vm_size": "Standard_D1_v2"})) == []  # a user pool may
    assert (active_vcpus("Standard_E4-2ds_v5"), active_vcpus("Standard_D16ads_v5"), active_vcpus("x")) == (2, 16, None)


@pytest.mark.parametrize("stack", ["dev", "llmd", "prod", "prod-westeurope", "prod-swedencentral"])
def test_every_stack_file_passes_the_put_rules(stack):
    prefix = "aks-llm-platform:"
    raw = {k[len(prefix):]: v for k, v in offline.stack_config(stack, {}).items()}
    parse_config(raw, "p", stack)  # raises ConfigError on any refused key


# ---- spot max price: -1 or a price with at most five decimal places ---------------------------------------------
def test_a_spot_price_with_more_than_five_decimals_is_refused():
    base = REQUIRED["GpuNodePool"]()
    assert refused("GpuNodePool", {**base, "spot_max_price": 0.123456}) == ["spot_max_price"]
    for good in (-1, 0.5, 0.12345, 3):
        assert gpu_put_rules({**base, "spot_max_price": good}) == [], good
    message = stack_refuses("dev", {"gpu": {"spotMaxPrice": 0.000001}})
    assert "gpu.spotMaxPrice 1e-06 is invalid; allowed: -1 or a USD price above 0 with at most 5 decimal places " \
           "(AKS refuses more), e.g. 0.00001" in message


# ---- the PostgreSQL subnet: /28 or larger ---------------------------------------------------------------------
def test_a_postgres_subnet_smaller_than_a_28_is_refused():
    network = REQUIRED["AksCluster"]()["network"]
    base, _ = network["postgres_subnet_cidr"].split("/")
    small = {**network, "postgres_subnet_cidr": f"{base}/29"}
    assert refused("AksCluster", aks_args(network=small)) == ["network.postgres_subnet_cidr"]
    assert aks_put_rules(aks_args(network={**network, "postgres_subnet_cidr": f"{base}/28"})) == []
    message = stack_refuses("dev", {"network": {"postgresSubnetCidr": "10.40.17.0/29"}})
    assert "network.postgresSubnetCidr '10.40.17.0/29' is invalid; allowed: a range of /28 or larger" in message


@pytest.mark.parametrize("prefix", [30, 32])
def test_a_postgres_subnet_smaller_than_azure_s_smallest_is_told_its_own_floor_once(prefix):
    """Below /29 (Azure's smallest subnet, the other subnets' floor) the PostgreSQL subnet was refused twice, '/29 or
    larger' and '/28 or larger': one sentence, the floor that lets it deploy."""
    message = stack_refuses("dev", {"network": {"postgresSubnetCidr": f"10.40.17.0/{prefix}"}})
    assert message.count("network.postgresSubnetCidr") == 1, message
    assert "a range of /28 or larger" in message and "/29 or larger" not in message


@pytest.mark.parametrize("value, allowed", [
    ("10.40.17.5/30", "an IPv4 range in CIDR notation with no host bits set"),
    ("2001:db8::/30", "an IPv4 range (this network plan is IPv4 only)"),
])
def test_a_postgres_range_the_network_rules_refuse_is_not_told_the_28_floor_beside_it(value, allowed):
    """A PostgreSQL range with host bits set, or an IPv6 one, is refused for that alone: the /28 floor read its
    prefix too (strict=False, any IP version) and said a second, wrong sentence (an IPv6 /30 is no small range)."""
    message = stack_refuses("dev", {"network": {"postgresSubnetCidr": value}})
    assert message.count("network.postgresSubnetCidr") == 1, message
    assert allowed in message and "/28 or larger" not in message


# ---- at most 200 API server authorized IP ranges -----------------------------------------------------------------
def test_more_than_200_authorized_ip_ranges_are_refused():
    many = [f"203.0.{i // 256}.{i % 256}/32" for i in range(201)]
    args = aks_args(api_access_mode="authorizedIps", authorized_ip_ranges=many)
    assert refused("AksCluster", args) == ["authorized_ip_ranges"]
    assert aks_put_rules({**args, "authorized_ip_ranges": many[:200]}) == []
    # the stack config holds a list to 100 entries already
    message = stack_refuses("dev", {"cluster": {"apiAccess": {"mode": "authorizedIps", "authorizedIpRanges": many}}})
    assert "cluster.apiAccess.authorizedIpRanges must hold at most 100 entries" in message


# ---- Azure CNI Overlay: no DCsv2 sizes; names AKS writes into node labels fit 63 characters -------------------------
def test_a_dcsv2_size_is_refused_on_the_overlay_network():
    assert refused("AksCluster", aks_args(workload_pool={"vm_size": "Standard_DC4s_v2"})) == ["workload_pool.vm_size"]
    assert aks_put_rules(aks_args(workload_pool={"vm_size": "Standard_DC4as_v5"})) == []
    message = stack_refuses("dev", {"cluster": {"systemPool": {"vmSize": "Standard_DC2s_v2"}}})
    assert "cluster.systemPool.vmSize 'Standard_DC2s_v2' is invalid; allowed: a size other than DCsv2-series" in message


def test_a_resource_group_or_vnet_name_longer_than_63_characters_is_refused():
    long = "rg-" + "a" * 61
    assert refused("AksCluster", aks_args(resource_group_name=long)) == ["resource_group_name"]
    assert refused("AksCluster", aks_args(vnet_name="v" * 64)) == ["vnet_name"]
    assert aks_put_rules(aks_args(resource_group_name="rg-" + "a" * 60, vnet_name="v" * 63)) == []


# ---- the Premium tier comes with the Long-Term Support plan ----------------------------------------------------
def test_the_premium_tier_is_written_with_the_long_term_support_plan():
    from offline import plan

    def program(tier: str):
        def build():
            llmplatform.AksCluster("aks", {**REQUIRED["AksCluster"](), "tier": tier})
        return plan.resources_document(offline.run_function(build))

    def cluster_inputs(document: dict) -> dict:
        found = [r for r in document["resources"] if r["type"] == "azure-native:containerservice:ManagedCluster"]
        assert len(found) == 1
        return found[0]["inputs"]

    premium = cluster_inputs(program("Premium"))
    assert (premium["sku"]["tier"], premium["supportPlan"]) == ("Premium", "AKSLongTermSupport")
    standard = cluster_inputs(program("Standard"))  # sent, so leaving Premium sets the plan back in the same write
    assert (standard["sku"]["tier"], standard["supportPlan"]) == ("Standard", "KubernetesOfficial")


def test_premium_is_refused_with_calico():
    """Premium goes with the Long-Term Support plan, which AKS does not enable with Calico (long-term-support.md)."""
    assert [p.path for p in aks_put_rules(aks_args(tier="Premium", network_policy="calico"))] == ["network_policy"]
    assert aks_put_rules(aks_args(tier="Premium", network_policy="cilium")) == []
    assert aks_put_rules(aks_args(tier="Standard", network_policy="calico")) == []


# ---- found by mutation testing (docs/decisions.md, "2026-12-06: mutation testing of the pure logic") -----------
def test_the_pod_room_message_names_the_kind_of_pool():
    """The system pool's refusal says "system pool", a user pool's "pool": each a mistake of another pool."""
    system = aks_put_rules(aks_args(system_pool={"max_pods": 10, "min_count": 1}))
    workload = aks_put_rules(aks_args(workload_pool={"max_pods": 10, "min_count": 1}))
    assert [p.path for p in system] == ["system_pool.max_pods"] and "AKS refuses a system pool without" in \
        system[0].allowed
    assert [p.path for p in workload] == ["workload_pool.max_pods"] and "AKS refuses a pool without" in \
        workload[0].allowed


def test_a_pool_size_out_of_the_value_rules_range_is_refused_once():
    """max_pods below 10 or a count of true is the value rules' to refuse: the pod-room rule adds no second message
    (at least 30 pods) to the same mistake."""
    from llmplatform.input_rules import aks_cluster
    from llmplatform.put_rules import pods_short
    for pods in (9, 5):
        problems = aks_cluster(aks_args(system_pool={"max_pods": pods, "min_count": 1}))
        assert [(p.path, p.allowed) for p in problems] == [("system_pool.max_pods", "a whole number from 10 to 250")]
    assert (pods_short(9, 3), pods_short(10, True), pods_short(True, 1)) == (False, False, False)
    assert (pods_short(10, 2), pods_short(10, 3), pods_short(29, 1)) == (True, False, True)


def test_a_node_os_channel_known_only_at_deploy_time_is_not_refused():
    """An Output (known when the cluster is written) is not a channel other than NodeImage: the rule waits for it."""
    class Output:  # what a pulumi.Output looks like to the rules, by its module and its apply
        __module__ = "pulumi.output"

        def apply(self, f):
            return self
    assert aks_put_rules(aks_args(upgrade_channel="node-image", node_os_upgrade_channel=Output())) == []


def test_an_infinite_spot_price_is_the_value_rules_refusal_not_a_traceback():
    """float('inf') (YAML's .inf) has no decimal places to count (Decimal's exponent 'F'): the decimals rule leaves it
    to the value rules, whose range refuses it."""
    base = REQUIRED["GpuNodePool"]()
    for price in (float("inf"), float("nan")):
        assert gpu_put_rules({**base, "spot_max_price": price}) == []
        assert refused("GpuNodePool", {**base, "spot_max_price": price}) == ["spot_max_price"]


def test_a_fallback_turned_off_or_on_a_regular_pool_counts_no_fallback_nodes():
    """Only an enabled fallback of a spot pool is written with the pool's max_pods (a fallback block left with
    enabled false, or on a regular pool, makes no pool)."""
    base = {**REQUIRED["GpuNodePool"](), "max_pods": 10}
    fallback = {"min_count": 1, "max_count": 2}
    assert gpu_put_rules({**base, "fallback": {**fallback, "enabled": False}}) == []
    assert gpu_put_rules({**base, "priority": "regular", "fallback": {**fallback, "enabled": True}}) == []
    assert [p.path for p in gpu_put_rules({**base, "priority": "spot", "fallback": {**fallback, "enabled": True}})] \
        == ["max_pods"]
