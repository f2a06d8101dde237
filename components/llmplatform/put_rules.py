"""What Azure refuses when a cluster or a pool is written, though every input is valid on its own: inputs that
contradict each other, pools AKS finds too small, names and sizes Azure CNI Overlay cannot take. Run after each
component's value rules (input_rules), so components and the stack config check them alike. Each rule's source is at
its constant or in its function."""
import ipaddress
import re
from decimal import Decimal
from typing import Any, Optional

from .networks import cidr_problem
from .rules import Problem, Rules
from .vm_sizes import active_vcpus

DEFAULT_MAX_PODS = 110  # a NodePoolSpec's max_pods when not given

# What the AKS resource provider refuses when the cluster or a pool is written, which the Args classes accept:
# - a pool with nodes leaves room for 30 pods (maxPods x node count), "strictly enforced by the AKS service", and a
#   system pool supports at least 30 (MicrosoftDocs/azure-aks-docs @ccbb339b, articles/aks/
#   concepts-network-ip-address-planning.md, "Configuring maximum pods per node"; use-system-pools.md @09a18cc9)
MIN_POOL_PODS = 30
# - a system pool's size has at least 2 vCPUs: the floor AKS enforces (error SystemPoolSkuTooLow, "System node pool
#   must use VM sku with more than 2 cores and 4GB memory": MicrosoftDocs/azure-dev-docs#216, jamesbannan/
#   pluralsight#12; Standard_DS1_v2 refused, Standard_DS2_v2 and D2s_v3 taken). Microsoft's use-system-pools.md
#   (MicrosoftDocs/azure-aks-docs @09a18cc9) asks for 4 vCPUs and no B-series: a recommendation AKS does not enforce
#   (dev's Standard_B2s system pool is taken), so only the floor is refused and the suggestion is a 4-vCPU size
MIN_SYSTEM_POOL_VCPUS = 2
# - the subnet delegated to PostgreSQL Flexible Server is /28 or larger ("The smallest CIDR range you can specify for
#   the subnet is /28": MicrosoftDocs/azure-databases-docs @055c7a5d articles/postgresql/flexible-server/
#   concepts-networking-private.md); Azure's own smallest subnet, /29, is the network rules' floor
SMALLEST_POSTGRES_SUBNET_PREFIX = 28
# - at most 200 API server authorized IP ranges ("You can specify up to 200 authorized IP ranges": MicrosoftDocs/
#   azure-aks-docs @5163ae0c articles/aks/api-server-authorized-ip-ranges.md, Limitations)
MAX_AUTHORIZED_IP_RANGES = 200
# - Azure CNI Overlay (MicrosoftDocs/azure-aks-docs @35cfb82d articles/aks/concepts-network-azure-cni-overlay.md,
#   "Limitations with Azure CNI Overlay"): no DCsv2-series size in a pool, and with a subnet of one's own (every pool
#   here runs in the stack's `nodes` subnet) the names of the subnet, its VNet and their resource group are 63
#   characters or fewer (AKS writes them into node labels)
# DCsv2-series: Standard_DC1s_v2, DC2s_v2, DC4s_v2 and DC8_v2 (the largest has no "s" in its name)
OVERLAY_REFUSED_SIZES = re.compile(r"Standard_DC[0-9]+s?_v2", re.IGNORECASE)
MAX_LABELLED_NAME = 63
SPOT_PRICE_DECIMALS = 5  # AgentPool spotMaxPrice: -1 or a price with at most 5 decimal places


def pods_short(pods: Any, nodes: Any) -> bool:
    """Pods per node and nodes a pool is written with that leave no room for 30 pods; False for a value absent,
    unknown or out of range (the value rules say so) and for a pool written with no node (AKS counts those)."""
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (pods, nodes)):
        return False
    return nodes >= 1 and pods >= 10 and pods * nodes < MIN_POOL_PODS


def pod_room_rule(pool: Rules, max_pods_default: int, nodes_key: str = "min_count", system: bool = False,
                  nodes_from: Optional[Rules] = None, why: str = "") -> None:
    """A pool written with nodes (its count is its autoscaler minimum, read from `nodes_from` when another section
    holds it) holds at least 30 pods across them; a pool written with none (a user pool scaling from zero) is left
    to AKS, which counts the nodes it has."""
    counted = nodes_from or pool
    pods, nodes = pool.get("max_pods"), counted.get(nodes_key)
    pods = max_pods_default if pods is None else pods
    if pods_short(pods, nodes):
        what = "system pool" if system else "pool"
        pool.add("max_pods", pods, f"at least {-(-MIN_POOL_PODS // nodes)} with {counted.ref(nodes_key)} {nodes}: AKS "
                                   f"refuses a {what} without room for {MIN_POOL_PODS} pods (max_pods x nodes){why}")


def system_size_rule(pool: Rules) -> None:
    size = pool.get("vm_size")
    vcpus = active_vcpus(size)  # None for a size not a string or not of the naming convention's shape
    if vcpus is not None and vcpus < MIN_SYSTEM_POOL_VCPUS:
        pool.add("vm_size", size, f"a size with at least {MIN_SYSTEM_POOL_VCPUS} vCPUs and 4 GiB for the system pool "
                                  f"({size} has {vcpus}; AKS refuses it with SystemPoolSkuTooLow), "
                                  "e.g. Standard_D4s_v5")


def overlay_size_rule(pool: Rules) -> None:
    size = pool.get("vm_size")
    if isinstance(size, str) and OVERLAY_REFUSED_SIZES.fullmatch(size):
        pool.add("vm_size", size, "a size other than DCsv2-series: Azure CNI Overlay (this cluster's network) refuses "
                                  "them; for confidential computing take a DCasv5 or DCadsv5 size")


def aks_cluster(args: Any) -> list[Problem]:
    """AksCluster's inputs that Azure refuses when the cluster is written (the value rules, input_rules.aks_cluster,
    check each input on its own): channels that contradict each other, pools AKS finds too small."""
    r = Rules(args, "AksCluster")
    channel, os_channel = r.get("upgrade_channel"), r.get("node_os_upgrade_channel")
    if channel == "node-image" and isinstance(os_channel, str) and os_channel != "NodeImage":
        # MicrosoftDocs/azure-aks-docs @ccbb339b articles/aks/auto-upgrade-node-os-image.md ("You can't change the
        # node OS autoupgrade channel value if your cluster autoupgrade channel is node-image");
        # hashicorp/terraform-provider-azurerm @69697b7f internal/services/containers/kubernetes_cluster_resource.go
        r.add("node_os_upgrade_channel", os_channel,
              f"NodeImage with {r.ref('upgrade_channel')} node-image (AKS ties the node OS channel to that legacy "
              f"cluster channel and refuses another; for {os_channel} pick another {r.ref('upgrade_channel')})")
    if r.get("tier") == "Premium" and r.get("network_policy") == "calico":
        # Premium goes with the Long-Term Support plan (AksCluster.support_plan), which AKS does not enable on a
        # cluster running Calico (MicrosoftDocs/azure-aks-docs @14387a6c articles/aks/long-term-support.md)
        r.add("network_policy", "calico", f"cilium or azure with {r.ref('tier')} Premium (its Long-Term Support plan "
                                          f"is not offered with Calico)")
    ranges = r.given("authorized_ip_ranges")
    if isinstance(ranges, (list, tuple)) and len(ranges) > MAX_AUTHORIZED_IP_RANGES:
        r.add("authorized_ip_ranges", f"{len(ranges)} ranges", f"at most {MAX_AUTHORIZED_IP_RANGES} ranges (AKS's "
                                                               f"limit for API server authorized IP ranges)")
    for key in ("resource_group_name", "vnet_name"):
        value = r.given(key)
        if isinstance(value, str) and len(value) > MAX_LABELLED_NAME:
            r.add(key, value, f"at most {MAX_LABELLED_NAME} characters (it has {len(value)}): with Azure CNI Overlay "
                              f"AKS writes the node subnet's VNet and resource group names into node labels")
    net = r.section("network")
    postgres = net.get("postgres_subnet_cidr")
    # a range the network rules accept (an IPv4 range with no host bits): what else is wrong with it they say, once
    # ('10.0.17.5/30', '2001:db8::/30' were told the /28 floor beside it, an IPv6 /30 no small range)
    usable = isinstance(postgres, str) and cidr_problem(postgres, "postgres_subnet_cidr") is None
    prefix = ipaddress.ip_network(postgres).prefixlen if usable else None
    if prefix is not None and SMALLEST_POSTGRES_SUBNET_PREFIX < prefix:
        net.add("postgres_subnet_cidr", postgres, f"a range of /{SMALLEST_POSTGRES_SUBNET_PREFIX} or larger: "
                                                  f"PostgreSQL Flexible Server refuses a smaller delegated subnet")
    system, workload = r.section("system_pool"), r.section("workload_pool")
    pod_room_rule(system, DEFAULT_MAX_PODS, system=True)
    system_size_rule(system)
    pod_room_rule(workload, DEFAULT_MAX_PODS)
    for pool in (system, workload):
        overlay_size_rule(pool)
    return r.problems


def gpu_node_pool(args: Any) -> list[Problem]:
    """GpuNodePool's inputs that AKS refuses when a pool is written (pod_room_rule): a pool created with
    nodes has room for 30 pods, and so has its on-demand fallback, which takes the pool's max_pods."""
    r = Rules(args, "GpuNodePool")
    price = r.given("spot_max_price")
    # "the value must be -1 or a positive value with up to five decimal places" (MicrosoftDocs/azure-aks-docs
    # @09a18cc9 articles/aks/spot-node-pool.md, Limitations); the value rules check the sign
    # a whole number has no decimal places (and an int too large for a float is the value rules' to refuse)
    places = Decimal(repr(float(price))).as_tuple().exponent if isinstance(price, float) and price > 0 else 0
    if isinstance(places, int) and places < -SPOT_PRICE_DECIMALS:  # not 'n'/'F': NaN and infinity are out of range
        near = max(round(price, SPOT_PRICE_DECIMALS), 10 ** -SPOT_PRICE_DECIMALS)
        r.add("spot_max_price", price, f"-1 or a USD price above 0 with at most {SPOT_PRICE_DECIMALS} decimal places "
                                       f"(AKS refuses more), e.g. {near:.{SPOT_PRICE_DECIMALS}f}")
    pod_room_rule(r, MIN_POOL_PODS)  # max_pods has a default (30): never used
    fallback = r.section("fallback")
    if fallback.given("enabled") and r.get("priority") == "spot":
        pod_room_rule(r, MIN_POOL_PODS, nodes_from=fallback, why=", and the fallback pool takes this max_pods")
    return r.problems
