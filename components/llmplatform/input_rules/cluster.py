"""AksCluster's and GpuNodePool's value rules."""
from typing import Any, Mapping, Optional

from .. import azure_names as names, put_rules
from ..choices import (API_ACCESS_MODES, DEPLOYER_PRINCIPAL_TYPES, EXPANDERS, GPU_DRIVERS, GPU_PRIORITIES,
                       KUBELOGIN_MODES, MIG_PROFILES, NETWORK_POLICIES, NODE_OS_UPGRADE_CHANNELS, TIERS,
                       UPGRADE_CHANNELS, WEEKDAYS)
from ..gpu_skus import (GPU_MEMORY_ALLOWED, GPU_MEMORY_GIB, described_size_problem, find_gpu_sku, known_gpu_sizes,
                        needs_grid_driver)
from ..networks import authorized_range_problem, network_rules
from ..regions import azure_region, handle_region
from ..rules import HH_MM, KUBERNETES_VERSION, UTC_OFFSET, Problem, Rules, known, pattern
from ..upgrades import DRAIN_TIMEOUT_MAX_MINUTES, max_surge_problem
from ..vm_sizes import cpu_vm_size
from .shared import group_ids_rule, image_registry_rules, MAX_NODES, zones_rule


def node_pool_rules(r: Rules, system: bool) -> None:
    """A NodePoolSpec: the system pool runs on regular VMs and keeps at least one node."""
    r.text("name", names.agent_pool)
    r.text("vm_size", cpu_vm_size)  # a CPU pool: AKS's system pool and the CPU workload pool
    low = r.whole("min_count", 1 if system else 0, MAX_NODES)
    high = r.whole("max_count", 1, MAX_NODES)
    if low is not None and high is not None and high < low:
        r.add("max_count", high, f"at least {r.ref('min_count')} ({low})")
    r.whole("os_disk_size_gb", 30, 2048)
    r.whole("max_pods", 10, 250)
    if system:
        r.choice("priority", ("regular",))  # AKS runs system pools on regular VMs only
    else:
        r.choice("priority", GPU_PRIORITIES)


def aks_cluster(args: Mapping[str, Any]) -> list[Problem]:
    r = Rules(args, "AksCluster")
    location = r.text("location", azure_region)
    r.text("cluster_name", names.aks_cluster)
    if not r.get("existing_resource_group"):
        r.text("resource_group_name", names.resource_group)
    r.text("vnet_name", names.virtual_network)
    network_rules(r.section("network"))
    node_pool_rules(r.section("system_pool"), system=True)
    node_pool_rules(r.section("workload_pool"), system=False)
    system, workload = r.section("system_pool").given("name"), r.section("workload_pool").given("name")
    if system is not None and system == workload:
        r.add("workload_pool.name", workload, f"a name other than {r.ref('system_pool.name')}")
    r.text("kubernetes_version", KUBERNETES_VERSION)
    for key, allowed in (("tier", TIERS), ("network_policy", NETWORK_POLICIES), ("upgrade_channel", UPGRADE_CHANNELS),
                         ("node_os_upgrade_channel", NODE_OS_UPGRADE_CHANNELS), ("api_access_mode", API_ACCESS_MODES),
                         ("kubelogin_mode", KUBELOGIN_MODES), ("deployer_principal_type", DEPLOYER_PRINCIPAL_TYPES),
                         ("autoscaler_expander", EXPANDERS)):
        r.choice(key, allowed)
    zones_rule(r, "zones", location, r.ref("location"))
    r.whole("drain_timeout_minutes", 1, DRAIN_TIMEOUT_MAX_MINUTES,
            " (AKS's drainTimeoutInMinutes: it waits no longer for one node's pods to stop, so no pod the pools run "
            f"may take longer, its terminationGracePeriodSeconds at most {DRAIN_TIMEOUT_MAX_MINUTES * 60})")
    group_ids_rule(r, "admin_group_object_ids")
    window = r.section("maintenance_window")
    window.choice("day_of_week", WEEKDAYS)
    window.text("start_time", HH_MM)
    window.whole("duration_hours", 4, 24)  # AKS: a window of at least 4 hours
    window.text("utc_offset", UTC_OFFSET)
    mode = r.get("api_access_mode")
    ranges = r.texts("authorized_ip_ranges", authorized_range_problem)
    if mode == "authorizedIps" and not r.args.get("authorized_ip_ranges"):
        r.add("authorized_ip_ranges", [], f"one or more CIDRs with {r.ref('api_access_mode')} authorizedIps")
    elif mode in API_ACCESS_MODES and mode != "authorizedIps" and ranges:
        r.add("authorized_ip_ranges", ranges, f"none unless {r.ref('api_access_mode')} is authorizedIps "
                                              f"(it is {mode!r})")
    image_registry_rules(r)
    if r.get("defender") and not r.args.get("log_analytics_workspace_id"):
        r.add("defender", True, f"only with {r.ref('log_analytics_workspace_id')} (Defender reports there)")
    r.problems.extend(put_rules.aks_cluster(args))  # in place: the list also carries the limits applied
    group, cluster, region = (r.given(k) for k in ("resource_group_name", "cluster_name", "location"))
    named = {p.path for p in r.problems} & {"resource_group_name", "cluster_name", "location"}
    if all(isinstance(v, str) for v in (group, cluster, region)) and not named:  # each valid alone, not together
        node_group = names.node_resource_group(group, cluster, region)
        if len(node_group) > names.NODE_RESOURCE_GROUP_MAX:
            r.add("cluster_name", cluster, f"a name AKS's node resource group holds: {node_group!r} is "
                  f"{len(node_group)} characters, AKS refuses more than {names.NODE_RESOURCE_GROUP_MAX} (shorten it or "
                  f"{r.ref('resource_group_name')})")
    return r.problems


def gpu_size_problem(r: Rules, size: str) -> Optional[str]:
    """A catalog size (sent as the catalog spells it), or any size `gpu_sku` describes (sent as given, so held to
    Azure's spelling)."""
    if r.given("gpu_sku") is not None:
        return described_size_problem(size)
    return None if find_gpu_sku(size) else (f"a catalog size ({', '.join(known_gpu_sizes())}) or any size described "
                                            f"by {r.ref('gpu_sku')}")


def gpu_node_pool(args: Mapping[str, Any]) -> list[Problem]:
    r = Rules(args, "GpuNodePool")
    custom = r.section("gpu_sku")
    if r.given("gpu_sku") is not None:
        # lowercased, it is the pools' node label llm-platform/gpu-model: a Kubernetes label value, which AKS
        # refuses with a space or an edge other than a letter or digit
        custom.text("gpu_model", pattern(r"[A-Za-z0-9]([A-Za-z0-9._-]{0,38}[A-Za-z0-9])?",
                                         "a GPU model name like A100 or H100-NVL: 1-40 letters, digits, '.', '_' "
                                         "and '-', starting and ending with a letter or digit (the node label "
                                         "llm-platform/gpu-model takes it)"))
        custom.whole("gpus", 1, 16)
        custom.number("gpu_memory_gib", *GPU_MEMORY_GIB, GPU_MEMORY_ALLOWED)
    size = r.text("vm_size", lambda v: gpu_size_problem(r, v))
    sku = find_gpu_sku(size) if size and r.given("gpu_sku") is None else None
    fallback = r.section("fallback")
    # True alone: text or a number there is the shape check's "expects true or false", not a fallback to judge
    with_fallback = fallback.given("enabled") is True
    pool_name = r.text("pool_name", pattern(r"[a-z][a-z0-9]{0,9}", "1-10 lowercase letters and digits, starting "
                                                                  "with a letter (with the fallback named "
                                                                  "<pool_name>od, AKS's 12)")
                       if with_fallback else names.agent_pool)
    if pool_name == "cpu":  # the CPU workload pool's label value (kube.CPU_POOL_LABEL), whatever that pool is named
        r.add("pool_name", pool_name, "any name but 'cpu' (llm-platform/pool=cpu marks the CPU workload pool's nodes)")
    low = r.whole("min_count", 0, MAX_NODES)
    high = r.whole("max_count", 1, MAX_NODES)
    if low is not None and high is not None and high < low:
        r.add("max_count", high, f"at least {r.ref('min_count')} ({low})")
    priority = r.choice("priority", GPU_PRIORITIES)
    driver = r.choice("driver", GPU_DRIVERS)
    if driver == "operator" and size is not None and needs_grid_driver(size):
        r.add("driver", driver, f"'aks' on {size}: its A10 takes the converged GRID driver AKS installs, and the "
                                "datacenter driver the GPU Operator installs fails there (Azure AgentBaker)")
    price = r.number("spot_max_price", -1, 1e6, "-1 (pay up to the on-demand price) or a USD price above 0")
    if price is not None and price != -1 and price <= 0:
        r.add("spot_max_price", price, "-1 (pay up to the on-demand price) or a USD price above 0")
    elif price is not None and price != -1 and priority == "regular":
        r.add("spot_max_price", price, f"only with {r.ref('priority')} spot (it is 'regular')")
    mig = r.choice("mig_profile", MIG_PROFILES)
    if mig is not None and size is not None and (r.given("gpu_sku") is not None or (sku and not sku.mig_capable)):
        model = sku.gpu_model if sku else "GPU described by gpu_sku"
        r.add("mig_profile", mig, f"only on a MIG-capable catalog GPU (A100/H100/H200); {size} has a {model}")
    if mig is not None and driver == "operator":
        # AKS partitions the GPUs with the driver it installs; a pool left to the GPU Operator's driver has none at
        # provisioning (gpuProfile.driver None), and MIG there is the operator's own mig-manager's
        r.add("mig_profile", mig, f"only with {r.ref('driver')} 'aks' (AKS partitions the GPUs with its own driver; "
                                  "with the GPU Operator, MIG is configured by the operator's mig-manager instead)")
    r.whole("os_disk_size_gb", 30, 2048)
    r.whole("max_pods", 10, 250)
    zones = zones_rule(r, "zones", handle_region(known(r.args.get("cluster"), "location")), "the cluster's location")
    if r.flag("regional") and zones:
        r.add("regional", True, f"only without {r.ref('zones')} (a regional pool has none; it is {zones})")
    f_low = fallback.whole("min_count", 0, MAX_NODES)
    f_high = fallback.whole("max_count", 1, MAX_NODES)
    if f_low is not None and f_high is not None and f_high < f_low:
        fallback.add("max_count", f_high, f"at least {fallback.ref('min_count')} ({f_low})")
    surge = r.text("upgrade_max_surge", max_surge_problem)
    if surge is not None and priority == "spot" and not with_fallback:
        r.add("upgrade_max_surge", surge, f"none on a spot pool without {fallback.ref('enabled')} (AKS upgrades a "
                                          "spot pool without surge nodes and refuses a maxSurge on it; the surge is "
                                          f"the on-demand nodes': {r.ref('priority')} 'regular', or the fallback)")
    if with_fallback:
        if priority == "regular":
            fallback.add("enabled", True, f"only with {r.ref('priority')} spot (an on-demand pool is the fallback "
                                          f"for spot)")
        expander = known(r.args.get("cluster"), "autoscaler_expander")
        if expander is not None and expander != "priority":
            fallback.add("enabled", True, f"only on a cluster whose autoscaler_expander is 'priority' (this "
                                          f"cluster's is {expander!r})")
    # a pool named like one the cluster itself has (its system or CPU pool, the handle's pool_names) would be that
    # pool: azure-native refuses to create an agent pool that exists, after the cluster is built. Read once the
    # handle is known (GpuNodePool runs these rules again when it arrives as an output: another stack's cluster)
    taken = known(r.args.get("cluster"), "pool_names")
    if pool_name is not None and isinstance(taken, list):
        pools = [pool_name, f"{pool_name}od"] if with_fallback and priority != "regular" else [pool_name]
        pool = next((p for p in pools if any(isinstance(t, str) and t.lower() == p for t in taken)), None)
        if pool is not None:
            r.add("pool_name", pool_name,
                  f"a pool name the cluster does not have: its own pools are {', '.join(map(repr, taken))} and this "
                  f"pool would take {pool!r} (a fallback is <pool_name>od); give this pool another pool_name")
    r.problems.extend(put_rules.gpu_node_pool(args))  # in place: the list also carries the limits applied
    return r.problems
