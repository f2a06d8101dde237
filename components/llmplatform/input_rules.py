"""Every component's value rules, one function per component over its inputs (as the component reads them: snake_case
keys, nested specs as dicts), returning every Problem at once. `check_shape` runs them after the shape check, so a
component refuses all of its bad inputs together before it registers anything; the stack's config layer runs the
same functions on its values and names each problem by its stack key (one source for each rule).

A value known only at deploy time (an output, or a handle arriving through the component provider as one output)
is left alone. Each of InferenceStack's parts (OllamaServer, ApiGate, OpenWebUi) has its rules over its own inputs;
InferenceStack runs them on the inputs it hands each part, named as its own, so each rule has one source.
"""
import re
import urllib.parse
from typing import Any, Callable, Mapping, Optional

from . import azure_names as names, ollama_names, postgres_options, put_rules
from .choices import (ACCELERATORS, API_ACCESS_MODES, AUTOSCALING_MODES, DEPLOYER_PRINCIPAL_TYPES, EXPANDERS,
                      FLEET_CHANNELS, FRONT_DOOR_SKUS, GPU_DRIVERS, GPU_PRIORITIES, KUBELOGIN_MODES,
                      MAX_ORIGIN_TIMEOUT_SECONDS, MAX_PREMIUM_SHARE_GIB, MIG_PROFILES, MIN_PREMIUM_SHARE_GIB,
                      NETWORK_POLICIES, NODE_IMAGE_SELECTIONS, NODE_OS_UPGRADE_CHANNELS, ORIGIN_PROTOCOLS,
                      POD_SECURITY_LEVELS,
                      POSTGRES_TIERS, POSTGRES_VERSIONS, REDUNDANCIES, SHARE_PROTOCOLS, TIERS, TLS_MODES,
                      UPGRADE_CHANNELS, UPLOADS_STORAGE_CLASSES, WAF_MODES, WEBUI_MODEL_ACCESS, WEBUI_USER_ROLES,
                      WEEKDAYS, ZONES, FAILURE_MODES)
from .inference_parts import GATE_INPUTS, OLLAMA_INPUTS, WEBUI_INPUTS
from .inference_specs import (ADMIN_PASSWORD_VAR, MIGRATIONS_SWITCH, MODEL_KEY_VAR, WEBUI_SECRET_FILES, nginx_workers,
                              ollama_env, webui_env, webui_state_env, webui_users_env)
from .images import acr_name, registry_problem
from .gpu_skus import GPU_SKUS, find_gpu_sku, known_gpu_sizes, needs_grid_driver
from .llmd_specs import (KNOWN_MODELS, MANAGED_VLLM_ENV, MANAGED_VLLM_FLAGS, context_length, fits,
                         holds_requests_at_zero, image_is_pinned, managed_flags)
from .networks import authorized_range_problem, cidr_or_none, internal_ip_problem, network_rules
from .pins import parse_image
from .postgres_access import APP_LOGIN, most_webui_replicas, webui_connections, webui_connections_text
from .regions import azure_region, has_no_zones
from .rules import (DURATION, EMAIL, GUID, HF_MODEL, HH_MM, HOSTNAME, KUBERNETES_VERSION,
                    PROMETHEUS_DURATION, UTC_OFFSET, Found, Problem, Rules, is_output, known, pattern, resources_rules)
from .vm_sizes import cpu_vm_size

MAX_MODEL_GIB = 4096  # a model download larger than 4 TiB is a typo, not a model
MAX_NODES = 1000  # AKS autoscaler counts per pool (Azure CLI: --min-count/--max-count in [0, 1000])


# ---- AksCluster ------------------------------------------------------------------------------------------------
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
    return r.problems


ACR_ID = re.compile(r"/subscriptions/[0-9a-fA-F-]{36}/resourceGroups/[-\w._()]{1,90}"
                    r"/providers/Microsoft\.ContainerRegistry/registries/(?P<name>[a-zA-Z0-9]{5,50})", re.IGNORECASE)


def image_registry_rules(r: Rules) -> None:
    """A mirror registry host, known when the component is built (it is written into every image); the ACR id it is
    attached by names the same registry (an id known only at deploy time, another resource's output, is compared
    once it resolves: checks._rechecker)."""
    given = r.args.get("image_registry")
    if is_output(given):
        r.add("image_registry", given, "a plain string, known before the deployment (it is written into every "
                                       "image the cluster pulls), not an Output")
    registry = r.text("image_registry", registry_problem) if given != "" else None  # "": no mirror
    acr_id = r.text("image_registry_id", lambda v: None if ACR_ID.fullmatch(v) else
                    "an Azure Container Registry resource id: /subscriptions/<id>/resourceGroups/<group>/providers/"
                    "Microsoft.ContainerRegistry/registries/<name>")
    if r.args.get("image_registry_id") is not None and not given:
        r.add("image_registry_id", r.args["image_registry_id"],
              f"only with {r.ref('image_registry')} (the registry's login server)")
    problem = acr_id_problem(acr_id, registry) if acr_id and registry else None
    if problem:
        r.add("image_registry_id", acr_id, problem.replace("image_registry", r.ref("image_registry")))


def acr_id_problem(acr_id: str, registry: str) -> Optional[str]:
    """Why an ACR resource id cannot be the one behind the mirror `registry` (None when it can)."""
    match = ACR_ID.fullmatch(acr_id)
    if not match:
        return None  # the id's own rule says what it must look like
    name = acr_name(registry)
    if name is None:
        return f"only with an Azure Container Registry in image_registry (<name>.azurecr.io; {registry!r} is " \
               f"another registry)"
    if name != match["name"].lower():
        return f"the id of the registry image_registry names ({name!r}), not {match['name']!r}"
    return None


def zones_rule(r: Rules, key: str, location: Any = None, where: str = "") -> list[str]:
    """Availability zones, each once; none in a `location` (`where` names it) that has no zones (AKS refuses the
    pool there). A location known only at deploy time is compared once it resolves (checks._rechecker); one
    Microsoft's region list leaves out is left alone."""
    r.declare(key, allowed=ZONES)
    zones = r.texts(key, lambda z: None if z in ZONES else f"one of {', '.join(ZONES)}")
    if len(set(zones)) != len(zones):
        r.add(key, zones, "each zone once")
    if zones and isinstance(location, str) and has_no_zones(location):
        r.add(key, zones, f"none in {where} {location!r}, a region without availability zones (Microsoft's Azure "
                          f"regions list): leave {r.ref(key)} out")
    return zones


def each_once(r: Rules, key: str, rule: Callable[[str], Optional[str]], allowed: str) -> None:
    """A list of strings, each checked by `rule` and each given once, compared without case; the ones given more
    than once are named as written, every spelling once (not lowercased: ONCALL@contoso.com and OnCall@Contoso.com
    are found in the file as they are)."""
    values = r.texts(key, rule)
    folded = [v.lower() for v in values]
    twice = list(dict.fromkeys(v for v in values if folded.count(v.lower()) > 1))
    if twice:
        r.add(key, twice, allowed)


def group_ids_rule(r: Rules, key: str) -> None:
    """Entra group object ids, each once: a group given twice is one role assignment made twice (two resources of
    one name, the second refused), and Entra compares the ids without case."""
    each_once(r, key, GUID, "each group once")


# Kubernetes label keys and values (apimachinery validation: IsQualifiedName, IsValidLabelValue)
LABEL_VALUE = re.compile(r"(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?")
_LABEL_NAME = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9]")
_LABEL_PREFIX = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")


def label_key_problem(key: str) -> Optional[str]:
    """What a Kubernetes label key must be, when `key` is not one: [prefix/]name, the prefix a DNS subdomain."""
    prefix, _, name = key.rpartition("/")
    if _LABEL_NAME.fullmatch(name) and (not key.count("/") or (
            key.count("/") == 1 and len(prefix) <= 253 and _LABEL_PREFIX.fullmatch(prefix))):
        return None
    return ("a label key: an optional DNS-subdomain prefix and '/', then at most 63 letters, digits, '-', '_' and "
            "'.', starting and ending with a letter or digit, like 'llm-platform/pool' or 'kubernetes.io/os'")


# ---- GpuNodePool -----------------------------------------------------------------------------------------------
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
        custom.whole("gpu_memory_gib", 1, 1024)
    size = r.text("vm_size", lambda v: None if r.given("gpu_sku") is not None or find_gpu_sku(v) else
                  f"a catalog size ({', '.join(known_gpu_sizes())}) or any size described by {r.ref('gpu_sku')}")
    sku = find_gpu_sku(size) if size and r.given("gpu_sku") is None else None
    fallback = r.section("fallback")
    with_fallback = bool(fallback.given("enabled"))
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
    zones = zones_rule(r, "zones", known(r.args.get("cluster"), "location"), "the cluster's location")
    if r.flag("regional") and zones:
        r.add("regional", True, f"only without {r.ref('zones')} (a regional pool has none; it is {zones})")
    f_low = fallback.whole("min_count", 0, MAX_NODES)
    f_high = fallback.whole("max_count", 1, MAX_NODES)
    if f_low is not None and f_high is not None and f_high < f_low:
        fallback.add("max_count", f_high, f"at least {fallback.ref('min_count')} ({f_low})")
    if with_fallback:
        if priority == "regular":
            fallback.add("enabled", True, f"only with {r.ref('priority')} spot (an on-demand pool is the fallback "
                                          f"for spot)")
        expander = known(r.args.get("cluster"), "autoscaler_expander")
        if expander is not None and expander != "priority":
            fallback.add("enabled", True, f"only on a cluster whose autoscaler_expander is 'priority' (this "
                                          f"cluster's is {expander!r})")
    r.problems.extend(put_rules.gpu_node_pool(args))  # in place: the list also carries the limits applied
    return r.problems


# ---- ModelStore, KeyVault, PostgresServer ---------------------------------------------------------------------
def model_store(args: Mapping[str, Any]) -> list[Problem]:
    r = Rules(args, "ModelStore")
    r.text("account_name", names.storage_account)
    r.text("share_name", names.file_share)
    r.text("namespace", names.dns_label)
    group = r.text("resource_group_name", names.resource_group)
    separate = r.text("separate_resource_group", names.resource_group)
    if group is not None and separate is not None:  # the store goes in one group: the one it creates wins
        r.add("separate_resource_group", separate, f"only without {r.ref('resource_group_name')} ({group!r}): "
                                                   "the store goes in the group it creates, or in the one given")
    selector = r.given("preload_node_selector")
    if isinstance(selector, Mapping):  # the Job's nodeSelector: the API server takes only label keys and values
        for key, value in selector.items():
            if isinstance(key, str) and (problem := label_key_problem(key)):
                r.add(f"preload_node_selector[{key!r}]", key, problem)
            elif isinstance(key, str) and isinstance(value, str) and not LABEL_VALUE.fullmatch(value):
                r.add(f"preload_node_selector[{key!r}]", value, "a label value: at most 63 letters, digits, '-', "
                                                                "'_' and '.', starting and ending with a letter or "
                                                                "digit")
    r.choice("protocol", SHARE_PROTOCOLS)
    r.choice("redundancy", REDUNDANCIES)
    r.whole("size_gib", MIN_PREMIUM_SHARE_GIB, MAX_PREMIUM_SHARE_GIB)  # Azure Files Premium's share sizes
    models = r.texts("models", ollama_names.name_problem)
    # one model under two spellings (`gpt-oss`, `gpt-oss:latest`, `registry.ollama.ai/library/gpt-oss`) is one
    # model: Ollama stores it once (types/model/name.go, DisplayShortest; case folded as getExistingName does)
    same = [ollama_names.display_shortest(m).lower() for m in models]
    twice = sorted({m for m, key in zip(models, same) if same.count(key) > 1})
    if twice:
        r.add("models", twice, "each model once")
    sizes = r.given("model_sizes_gib")
    if isinstance(sizes, Mapping):
        for name, size in sizes.items():
            if name not in models:
                r.add(f"model_sizes_gib[{name!r}]", size, f"sizes only of models in {r.ref('models')}")
            elif isinstance(size, bool) or not isinstance(size, (int, float)) or not 0 < size <= MAX_MODEL_GIB:
                r.add(f"model_sizes_gib[{name!r}]", size, f"a download size in GiB above 0, at most {MAX_MODEL_GIB}")
    elif sizes is not None:
        r.add("model_sizes_gib", sizes, "a map of model name to download size in GiB")
    return r.problems


def key_vault(args: Mapping[str, Any]) -> list[Problem]:
    r = Rules(args, "KeyVault")
    r.text("vault_name", names.key_vault)
    r.whole("soft_delete_retention_days", 7, 90)
    r.text("tenant_id", GUID)
    return r.problems


def postgres_server(args: Mapping[str, Any]) -> list[Problem]:
    r = Rules(args, "PostgresServer")
    r.text("server_name", names.postgres_server)
    r.choice("version", POSTGRES_VERSIONS)
    tier = r.choice("tier", POSTGRES_TIERS)
    # each tier runs on its VM family, any size of it (postgres_options: data/postgres_flexible.json, its sources)
    sku = r.text("sku_name", postgres_options.any_sku_problem)
    found = postgres_options.sku_tier(sku) if sku else None
    if found and tier and found != tier:
        given = sku if r.given("sku_name") else f"{sku}, the default,"
        r.add("sku_name", sku, f"{postgres_options.sku_shape(tier)} with {r.ref('tier')} {tier}; {given} is a "
                               f"{found} size")
    sizes = postgres_options.storage_sizes_gib()
    r.declare("storage_size_gb", allowed=sizes)  # a set of sizes, not a range
    storage = r.get("storage_size_gb")
    if storage is not None and (isinstance(storage, bool) or storage not in sizes):
        r.add("storage_size_gb", storage, f"a Premium SSD size in GiB: {', '.join(map(str, sizes))}")
    r.whole("backup_retention_days", 7, 35)
    if r.get("high_availability") and tier == "Burstable":
        r.add("high_availability", True, f"only with {r.ref('tier')} GeneralPurpose or MemoryOptimized (not "
                                         f"Burstable)")
    r.text("database", names.postgres_database)
    login = r.text("admin_login", pattern(r"[a-z_][a-z0-9_]{0,62}", "a lowercase PostgreSQL role name"))
    reserved = postgres_options.admin_login_problem(login) if login else None
    if reserved:
        r.add("admin_login", login, reserved)
    elif login == APP_LOGIN:
        r.add("admin_login", login, f"a login other than {APP_LOGIN} (the application's own role)")
    for key in ("admin_password_secret", "database_url_secret"):
        r.text(key, names.key_vault_secret)
    group = r.section("entra_admin_group")
    group.text("object_id", GUID)
    return r.problems


# ---- GatewayAccess ---------------------------------------------------------------------------------------------
def gateway_access(args: Mapping[str, Any]) -> list[Problem]:
    r = Rules(args, "GatewayAccess")
    r.text("name_prefix", names.name_prefix)
    mode = r.choice("tls_mode", TLS_MODES)
    r.whole("replicas", 1, 10)
    if r.get("internal") is not False:  # the internal Gateway's address (unused without it)
        if r.get("internal_ip"):
            handle_range_rule(r, "node_subnet_cidr")
        subnet = cidr_or_none(known(r.args.get("cluster"), "node_subnet_cidr"))  # AksCluster's handle carries it
        r.text("internal_ip", lambda address: internal_ip_problem(address, subnet))
    if r.get("internal") is False and r.get("external") is False:
        r.add("internal", False, f"true unless {r.ref('external')} is (one Gateway at least)")
    if mode == "letsencrypt":
        if r.get("external") is False:
            r.add("tls_mode", mode, f"letsencrypt only with {r.ref('external')} true (the ACME HTTP-01 challenge "
                                    f"comes from the internet)")
        for key, rule in (("tls_hostname", HOSTNAME), ("tls_email", EMAIL)):
            if not r.args.get(key):
                r.add(key, r.args.get(key), f"a value when {r.ref('tls_mode')} is letsencrypt")
            else:
                r.text(key, rule)
    elif mode is not None:
        for key in ("tls_hostname", "tls_email"):
            if r.given(key):
                r.add(key, r.given(key), f"none unless {r.ref('tls_mode')} is letsencrypt (it is {mode!r})")
    fd_id, probes = r.args.get("front_door_id"), r.args.get("front_door_probe_paths")
    if fd_id is not None:  # only Front Door (one profile) reaches the external Gateway
        if r.get("external") is False:
            r.add("front_door_id", fd_id, f"only with the external Gateway ({r.ref('external')} true: Front Door's "
                                          f"origin)")
        elif fd_id != "":
            r.text("front_door_id", lambda v: GUID(v) and "the Front Door profile's ID (a GUID), or \"\" until known")
    if probes is not None:
        if fd_id is None:
            r.add("front_door_probe_paths", probes, f"only with {r.ref('front_door_id')}")
        r.texts("front_door_probe_paths", pattern(r"/[A-Za-z0-9._~/-]*", "exact paths starting with /"))
    # Azure service tag names (AzureFrontDoor.Backend, Storage.WestEurope): cloud-provider-azure writes them into
    # the load balancer's NSG rules, which Azure refuses for a name that is no tag
    if isinstance(r.given("allowed_service_tags"), (list, tuple)):  # another type: the shape check says so
        r.texts("allowed_service_tags", pattern(r"[A-Za-z][A-Za-z0-9]*(\.[A-Za-z0-9]+)*",
                                                "Azure service tag names, e.g. AzureFrontDoor.Backend"))
    return r.problems


# ---- InferenceStack and its parts ------------------------------------------------------------------------------
# Each part's rules read the part's own inputs and name them; InferenceStack runs them on the inputs it hands each
# part (under the part's names, `as_part`), so its problems name its own inputs.
API_FLAVOURS = ("openai", "ollama")  # what a ModelEndpoint speaks: OpenAI-compatible, or Ollama's native API
# the variables OllamaServer sets itself (inference_specs.ollama_env): its inputs say them, extra_env may not
MANAGED_OLLAMA_ENV = tuple(sorted(ollama_env("/models", 1, "0", 1)))


def not_variables(env: Mapping[Any, Any],
                  value_rule: Callable[[str], Optional[str]] = lambda v: None) -> dict[str, Any]:
    """The entries of an environment map that are not a variable name mapped to a string (that `value_rule`
    accepts), by name with their values, so the message shows what was given."""
    return {str(k): v for k, v in sorted(env.items(), key=lambda kv: str(kv[0]))
            if not str(k).isidentifier() or not isinstance(v, str) or value_rule(v)}


def base_url_problem(url: Any) -> Optional[str]:
    """What a ModelEndpoint's base_url must be for a gate or a UI to call it: http(s)://host[:port], nothing else."""
    allowed = "an http:// or https:// URL of a host and an optional port (1-65535), e.g. http://ollama.llm:11434"
    if not isinstance(url, str):
        return allowed
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port  # ValueError for a port that is no number, or out of range
    except ValueError:
        return allowed
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.username or parts.password \
            or parts.path not in ("", "/") or parts.query or parts.fragment or (port is not None and port < 1) \
            or ":" in parts.hostname:  # an IPv6 literal: the gate's nginx upstream takes a name or an IPv4 address
        return allowed
    return None


def endpoint_rule(r: Rules) -> None:
    """A ModelEndpoint handed over: its API flavour is one a gate or a UI knows how to front, its URL one they can
    call."""
    api = known(r.args.get("endpoint"), "api")
    if api is not None and api not in API_FLAVOURS:
        r.add("endpoint.api", api, ", ".join(API_FLAVOURS))
    url = known(r.args.get("endpoint"), "base_url")
    wrong = base_url_problem(url) if url is not None else None
    if wrong:
        r.add("endpoint.base_url", url, wrong)


# A `keda` handle from an Observability with `keda: False` carries empty fields (no interceptor, port 0, no
# namespace): nothing would route through it or install the CRDs its users create, so it is refused where used.
KEDA_OFF = "the keda of an Observability with keda off"
KEDA_ALLOWED = "the keda of an Observability with keda on (its default), or no keda at all"


def keda_rule(r: Rules) -> None:
    keda = r.args.get("keda")
    if isinstance(keda, Mapping) and known(keda, "interceptor_host") == "":
        r.add("keda", KEDA_OFF, KEDA_ALLOWED)


def warm_model_problem(warm: str, preloaded: list[Any]) -> Optional[str]:
    """Why a model server cannot warm `warm` from a store that preloads `preloaded` (None when it can): its startup
    probe loads the model from the read-only store, so a replica warming another would never become Ready."""
    if any(ollama_names.same_model(str(m), warm) for m in preloaded):
        return None
    return f"one of the models the store preloads ({', '.join(map(str, preloaded))}), or none"


def ollama_server(args: Mapping[str, Any]) -> list[Problem]:
    """OllamaServer's inputs (accelerator, replicas, resources, Ollama's own settings, extra environment)."""
    r = Rules(args, "OllamaServer")
    accelerator = r.choice("accelerator", ACCELERATORS)
    if accelerator == "gpu" and not r.args.get("gpu"):
        r.add("gpu", None, f"GpuNodePool's scheduling when {r.ref('accelerator')} is gpu")
    keda_rule(r)
    if r.args.get("keda") and r.given("autoscaled") is False:
        r.add("autoscaled", False, f"true with {r.ref('keda')}, or left out: requests then reach Ollama only "
                                   "through the KEDA interceptor, which routes only what a ModelAutoscaler in requests "
                                   "mode declares, and that autoscaler owns the replica count")
    r.whole("replicas", 0, 100)
    r.whole("gpus_per_replica", 1, 8)
    r.whole("num_parallel", 1, 256)
    r.whole("max_loaded_models", 1, 64)
    r.text("keep_alive", DURATION)
    warm = r.text("warm_model", ollama_names.name_problem)
    pulled = known(r.args.get("model_volume"), "models")
    missing = warm_model_problem(warm, pulled) if warm and isinstance(pulled, list) else None
    if missing:
        r.add("warm_model", warm, missing)
    r.whole("request_timeout_seconds", 1, 86400)
    resources_rules(r.section("resources"))
    gpus = known(r.args.get("gpu"), "gpus_per_node")
    per_replica = r.get("gpus_per_replica")
    mig = known(r.args.get("gpu"), "mig_profile")
    if accelerator == "gpu" and mig:
        # Ollama validates each CUDA device in a second pass that drops A100 MIG instances in Kubernetes, and then
        # runs on the CPU with its startup probe green (ollama/ollama#13800, open; its fixes #13851 and #15146 are
        # unmerged; discover/runner.go and ml/device.go at the pinned v0.32.15)
        r.add("gpu", f"a pool with mig_profile {mig}", "a pool of whole GPUs (Ollama drops MIG instances when it "
                                                        "validates its CUDA devices and runs on the CPU: "
                                                        "ollama/ollama#13800)")
    elif accelerator == "gpu" and isinstance(gpus, int) and isinstance(per_replica, int) and per_replica > gpus:
        r.add("gpus_per_replica", per_replica, f"at most the {gpus} GPU(s) of one node of {r.ref('gpu')}")
    env = r.given("extra_env")
    if isinstance(env, Mapping):
        managed = sorted(set(env) & set(MANAGED_OLLAMA_ENV))
        bad = not_variables(env)
        if managed:
            r.add("extra_env", managed, f"variables other than {', '.join(MANAGED_OLLAMA_ENV)}, which the component "
                                        "sets from its inputs")
        if bad:
            r.add("extra_env", bad, "environment variable names mapped to string values")
    return r.problems


def nginx_cpu(value: str) -> Optional[str]:
    """The gate's CPU limit: nginx runs one worker per whole core, counted from cores or millicores."""
    try:
        nginx_workers(value)
        return None
    except ValueError:
        return "a CPU quantity such as 1, 2 or 1500m"


def handle_range_rule(r: Rules, key: str) -> None:
    """A cluster handle's range a component writes into its objects (the router's nginx `allow` line for the pods'
    range, the internal Gateway's subnet): a value that is no range would fail where it is used (nginx refuses to
    start), so it is refused here. A handle built by hand is not AksCluster's, whose rules checked it."""
    value = known(r.args.get("cluster"), key)
    if value is not None and cidr_or_none(value) is None:
        r.add(f"cluster.{key}", value, "an IPv4 range such as 192.168.0.0/16 (AksCluster's handle carries it)")


_SEGMENT = r"(?:[A-Za-z0-9._~-]+|:[A-Za-z_][A-Za-z0-9_]*)"
ROUTE_PATH = pattern(f"/|(?:/{_SEGMENT})+", "an exact path starting with / (letters, digits, . _ ~ -; a :name "
                     "segment is any one segment), e.g. /v1/chat/completions")


def api_gate(args: Mapping[str, Any]) -> list[Problem]:
    """ApiGate's inputs (the endpoint it guards, key, per-client rate limit, timeouts, its pods)."""
    r = Rules(args, "ApiGate")
    endpoint_rule(r)
    handle_range_rule(r, "pod_cidr")
    r.whole("replicas", 1, 20)
    if r.get("allowed_paths") == []:
        r.add("allowed_paths", [], "at least one path (omit the input to keep the default)")
    r.texts("allowed_paths", ROUTE_PATH)
    r.texts("client_namespaces", names.dns_label)
    if r.flag("ui_listener") and known(r.args.get("endpoint"), "api") not in (None, "ollama"):
        r.add("ui_listener", True, "false with an `openai` endpoint (the listener forwards Open-WebUI's Ollama routes)")
    r.whole("rate_limit_per_second", 1, 100000)
    r.whole("rate_limit_burst", 0, 100000)
    r.whole("request_timeout_seconds", 1, 86400)
    r.text("api_key_secret", names.key_vault_secret)
    r.text("api_key_map_secret", names.key_vault_secret)
    r.text("name_prefix", names.name_prefix)
    resources = r.section("resources")
    resources_rules(resources)
    if not any(p.path == resources.path("cpu_limit") for p in r.problems):
        resources.text("cpu_limit", nginx_cpu)
    return r.problems


# the variables OpenWebUi sets itself, for either kind of endpoint (inference_specs): its inputs say them, extra_env and
# secret_env may not
MANAGED_WEBUI_ENV = tuple(sorted({
    *webui_env("ollama", "", "", MIGRATIONS_SWITCH, {}), *webui_env("openai", "", "", MIGRATIONS_SWITCH, {}),
    *webui_state_env(""), *webui_users_env("all", False, "pending", "a@b.c"), *WEBUI_SECRET_FILES,
    MODEL_KEY_VAR, ADMIN_PASSWORD_VAR}))
# A setting whose name ends so holds a secret (Open-WebUI 0.11.0: OPENAI_API_KEYS, MICROSOFT_CLIENT_SECRET,
# LDAP_APP_PASSWORD, SCIM_TOKEN, CHROMA_CLIENT_AUTH_CREDENTIALS, GOOGLE_APPLICATION_CREDENTIALS_JSON, ...); its
# ENABLE_* switches (ENABLE_API_KEYS) and USER_PERMISSIONS_* flags are booleans
SECRET_ENDINGS = ("KEY", "KEYS", "SECRET", "PASSWORD", "PASSWD", "TOKEN", "CREDENTIALS", "CREDENTIALS_JSON")
_URL_PASSWORD = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^/@\s:]*:[^/@\s]+@")  # scheme://user:password@host


def looks_secret(name: str, value: Any = "") -> bool:
    """A variable whose value should come from Key Vault: its name ends like a secret's, or its value is a URL with
    a password."""
    named = not name.startswith(("ENABLE_", "USER_PERMISSIONS_")) and any(
        name == end or name.endswith("_" + end) for end in SECRET_ENDINGS)
    return named or (isinstance(value, str) and bool(_URL_PASSWORD.search(value)))


def webui_env_rules(r: Rules) -> None:
    """OpenWebUi's escape hatches: plain settings (extra_env) and settings from Key Vault (secret_env), neither one
    the component sets, each variable in one of them, a secret in extra_env refused."""
    env, secrets = r.given("extra_env"), r.given("secret_env")
    for key, given in (("extra_env", env), ("secret_env", secrets)):
        if given is not None and not isinstance(given, Mapping):
            r.add(key, given, "an object of environment variable names to strings")
    if isinstance(env, Mapping):
        bad = not_variables(env)
        managed = sorted(set(map(str, env)) & set(MANAGED_WEBUI_ENV))
        secret = sorted(str(k) for k, v in env.items() if str(k) not in managed and looks_secret(str(k), v))
        if bad:
            r.add("extra_env", bad, "environment variable names mapped to string values")
        if managed:
            r.add("extra_env", managed, f"variables other than {', '.join(MANAGED_WEBUI_ENV)}, which the component "
                                        "sets from its inputs")
        if secret:
            r.add("extra_env", secret, f"plain settings only: these look like secrets (a name ending in "
                                       f"{', '.join(SECRET_ENDINGS)}, or a URL with a password); put the value in "
                                       f"Key Vault and name its secret in {r.ref('secret_env')}")
    if isinstance(secrets, Mapping):
        bad = not_variables(secrets, names.key_vault_secret)
        managed = sorted(set(map(str, secrets)) & set(MANAGED_WEBUI_ENV))
        both = sorted(set(map(str, secrets)) & set(map(str, env))) if isinstance(env, Mapping) else []
        values = [v for v in secrets.values() if isinstance(v, str)]
        twice = sorted({v for v in values if values.count(v) > 1})
        if bad:
            r.add("secret_env", bad, "environment variable names mapped to Key Vault secret names (1-127 letters, "
                                     "digits and hyphens)")
        if managed:
            r.add("secret_env", managed, f"variables other than {', '.join(MANAGED_WEBUI_ENV)}, which the component "
                                         "sets from its inputs")
        if both:
            r.add("secret_env", both, f"variables not also in {r.ref('extra_env')}")
        if twice:
            r.add("secret_env", twice, "one variable per Key Vault secret (each is mounted once)")


def open_webui(args: Mapping[str, Any]) -> list[Problem]:
    """OpenWebUi's inputs (the endpoint, its database, replicas and HPA targets, resources, uploads volume, users
    and models, extra settings)."""
    r = Rules(args, "OpenWebUi")
    endpoint_rule(r)
    header = known(r.args.get("endpoint"), "host_header")
    if header:  # the KEDA interceptor's Host: Open-WebUI cannot send it, and the interceptor admits gates alone
        r.add("endpoint.host_header", header, "an endpoint the UI calls by its URL alone: behind the KEDA interceptor "
              "(an OllamaServer given `keda`), the `ui_endpoint` of the ApiGate in front of it (`ui_listener`)")
    app_url = r.text("database_url_secret", names.key_vault_secret)
    admin_url = r.text("admin_database_url_secret", names.key_vault_secret)
    if admin_url is not None and admin_url == app_url:
        r.add("admin_database_url_secret", admin_url, f"a Key Vault secret other than {r.ref('database_url_secret')} "
              "(the administrator's URL, which the UI's own pods never read)")
    secret_env = r.args.get("secret_env")
    if admin_url is not None and isinstance(secret_env, Mapping):
        for var, secret in sorted(secret_env.items()):
            if secret == admin_url:
                r.add(f"secret_env[{var!r}]", secret, f"a Key Vault secret other than "
                      f"{r.ref('admin_database_url_secret')} (the administrator's URL: only the bootstrap Job "
                      "reads it)")
    r.text("secret_key_secret", names.key_vault_secret)
    r.texts("client_namespaces", names.dns_label)
    low = r.whole("replicas", 1, 50)
    high = r.whole("max_replicas", 1, 50)
    if low is not None and high is not None and high < low:
        r.add("max_replicas", high, f"at least {r.ref('replicas')} ({low})")
    r.whole("cpu_target_percent", 1, 100)  # the HPA's utilisation targets, percent of the request
    r.whole("memory_target_percent", 1, 100)
    resources_rules(r.section("resources"))
    tier = r.choice("uploads_tier", UPLOADS_STORAGE_CLASSES)
    premium = tier == "premium"  # Azure Files Premium's smallest share is 100 GiB; Standard takes any size
    r.whole("uploads_size_gib", MIN_PREMIUM_SHARE_GIB if premium else 1, MAX_PREMIUM_SHARE_GIB,
            f" with {r.ref('uploads_tier')} premium (standard takes any size)" if premium else "")
    r.whole("request_timeout_seconds", 1, 86400)
    r.choice("model_access", WEBUI_MODEL_ACCESS)
    r.flag("enable_signup")
    r.choice("default_user_role", WEBUI_USER_ROLES)
    r.text("admin_email", EMAIL)
    webui_env_rules(r)
    database_connections_rule(r, high)
    return r.problems


def uvicorn_workers(r: Rules) -> int:
    """The server processes in one Open-WebUI pod, each with its own database pools: extra_env's UVICORN_WORKERS,
    which start.sh hands to `uvicorn --workers` (1 unset)."""
    env = r.given("extra_env")
    value = env.get("UVICORN_WORKERS") if isinstance(env, Mapping) else None
    if value is None:
        return 1
    if isinstance(value, str) and re.fullmatch(r"[1-9][0-9]{0,3}", value):
        return int(value)
    r.add("extra_env['UVICORN_WORKERS']", value, "a whole number from 1 to 9999 (start.sh hands it to uvicorn's "
                                                 "--workers)")
    return 1


def database_connections_rule(r: Rules, max_replicas: Optional[int]) -> None:
    """Open-WebUI's most connections (postgres_access.webui_connections: every pod at the HPA's maximum and a
    rollout's extra ones with full pools, its Jobs, the administrator's room) within the user connections of the
    server's compute size (postgres_options: Microsoft's table). A size the table leaves out is not judged."""
    sku = r.text("database_sku_name", postgres_options.any_sku_problem)
    workers = uvicorn_workers(r)
    if not sku or max_replicas is None:
        return
    available = postgres_options.user_connections(sku)
    if available is None:
        return
    need = webui_connections(max_replicas, workers)
    if need <= available:
        return
    most, size = most_webui_replicas(available, workers), r.ref("database_sku_name")
    tier = postgres_options.sku_tier(sku)
    larger = postgres_options.smallest_size_for(tier, need) if tier else None
    fewer = f"at most {most} with {size} {sku}" if most else f"no replica count fits {size} {sku}"
    bigger = f"a larger {size} ({larger}: {postgres_options.user_connections(larger)} user connections)" if larger \
        else f"a larger {size}"
    workers_text = f", or fewer UVICORN_WORKERS in {r.ref('extra_env')} ({workers})" if workers > 1 else ""
    r.add("max_replicas", max_replicas,
          f"{fewer}, or {bigger}{workers_text}: Open-WebUI may hold {webui_connections_text(max_replicas, workers)} "
          f"connections, and {sku} admits {available} (its {postgres_options.max_connections(sku)} max_connections "
          f"less the {postgres_options.reserved_connections()} Azure reserves)")


_REF = re.compile(r"\{([A-Za-z_][A-Za-z0-9_.\[\]]*)\}")


def as_part(rule: Callable[[Mapping[str, Any]], list[Problem]], inputs: Mapping[str, str],
            args: Mapping[str, Any]) -> Found:
    """A part's rules on the composite's inputs: `inputs` maps each input the composite hands the part (its own name)
    to the part's name for it (InferenceStack's `webui_replicas` is OpenWebUi's `replicas`); the problems and
    declarations come back in the composite's names."""
    back = {part: own for own, part in inputs.items()}

    def own_name(path: str) -> str:
        head = re.match(r"[A-Za-z0-9_]+", path)
        return back.get(head.group(), head.group()) + path[head.end():] if head else path

    found = rule({part: args[own] for own, part in inputs.items() if own in args})
    out = Found(Problem(own_name(p.path), p.value, _REF.sub(lambda m: "{" + own_name(m.group(1)) + "}", p.allowed))
                for p in found)
    out.declared = {own_name(k): v for k, v in getattr(found, "declared", {}).items()
                    if re.split(r"[.\[]", k)[0] in back}  # not what the part decides alone (its defaults)
    return out


def inference_stack(args: Mapping[str, Any]) -> list[Problem]:
    """Its parts' rules on what it hands each (a problem two parts share is named once), and its own inputs'."""
    given = args if isinstance(args, Mapping) else {}
    found = Found()
    for rule, inputs in ((ollama_server, OLLAMA_INPUTS), (api_gate, GATE_INPUTS), (open_webui, WEBUI_INPUTS)):
        problems = as_part(rule, inputs, given)
        found.extend(p for p in problems if p not in found)
        found.declared.update({k: v for k, v in problems.declared.items() if k not in found.declared})
    r = Rules(given, "InferenceStack", problems=found)
    enabled = r.args.get("webui_enabled", bool(r.args.get("database_url_secret")))
    if enabled and not r.args.get("database_url_secret"):
        r.add("database_url_secret", None, f"a Key Vault secret name when {r.ref('webui_enabled')} is true")
    cold = r.whole("cold_start_timeout_seconds", 1, 86400)
    answer = r.get("request_timeout_seconds")
    if r.args.get("keda") and cold is not None and isinstance(answer, int) and 1 <= answer <= 86400 \
            and answer + cold > 86400:  # behind KEDA the gate waits both (inference_specs.wait_budget_seconds)
        r.add("cold_start_timeout_seconds", cold, f"at most {86400 - answer} with keda: the gate waits "
                                                  f"{r.ref('request_timeout_seconds')} plus this, at most 86400 s")
    return found


# ---- LlmdStack -------------------------------------------------------------------------------------------------
def llmd_escape_hatches(r: Rules) -> None:
    """vLLM's extra arguments and environment: anything but what the component sets from its inputs."""
    extra = r.given("extra_args")
    if isinstance(extra, (list, tuple)):
        if any(not isinstance(a, str) for a in extra):
            r.add("extra_args", extra, "a list of strings (vllm serve arguments)")
        elif managed_flags(extra):
            r.add("extra_args", managed_flags(extra), f"flags other than {', '.join(MANAGED_VLLM_FLAGS)}, which the "
                                                      "component sets from its inputs")
    env = r.given("extra_env")
    if isinstance(env, Mapping):
        bad = not_variables(env)
        managed = sorted(set(env) & set(MANAGED_VLLM_ENV))
        if bad:
            r.add("extra_env", bad, "environment variable names mapped to string values")
        if managed:
            r.add("extra_env", managed, f"variables other than {', '.join(MANAGED_VLLM_ENV)}, which the component "
                                        "sets itself")


def llmd_stack(args: Mapping[str, Any]) -> list[Problem]:
    """Every input checked against the GPU it will run on."""
    r = Rules(args, "LlmdStack")
    handle_range_rule(r, "pod_cidr")  # its router's nginx allows the pods' range
    model = r.text("model", HF_MODEL)
    r.text("namespace", names.new_namespace)
    r.text("hf_token_secret", names.key_vault_secret)
    r.text("api_key_secret", names.key_vault_secret)
    r.text("api_key_map_secret", names.key_vault_secret)
    r.text("name_prefix", names.name_prefix)
    r.texts("client_namespaces", names.dns_label)
    tp = r.whole("tensor_parallel_size", 1, 8)
    r.whole("replicas", 1, 64)
    r.whole("epp_replicas", 1, 5)
    r.whole("model_cache_gib", 10, 4096)
    r.whole("max_model_len", 256, 1_048_576)
    weights_given = r.number("model_memory_gib", 0.001, 4096, "a size in GiB above 0, at most 4096")
    r.choice("failure_mode", FAILURE_MODES)
    r.whole("rate_limit_per_second", 1, 100000)
    r.whole("rate_limit_burst", 0, 100000)
    r.whole("request_timeout_seconds", 1, 86400)
    gpu = r.args.get("gpu")
    gpus, memory = known(gpu, "gpus_per_node"), known(gpu, "gpu_memory_gib")
    gpu_model = known(gpu, "gpu_model")
    if known(gpu, "mig_profile"):
        r.add("gpu", f"a pool with mig_profile {known(gpu, 'mig_profile')}", "a pool of whole GPUs (vLLM's "
                                                                           "tensor parallelism spans whole GPUs)")
    elif gpus is not None and tp is not None and tp > gpus:
        r.add("tensor_parallel_size", tp, f"at most the {gpus} GPU(s) of one {gpu_model} node")
    if known(r.args.get("route_target"), "llmd_listener") == "":  # an HTTPRoute with sectionName "" attaches nowhere
        r.add("route_target", "llmd_listener=''", "the route target of a GatewayAccess with inference_extension on "
                                                  "(it adds the llmd listener)")
    facts = KNOWN_MODELS.get(model or "", {})
    weights = weights_given or facts.get("weights_gib")
    if model is not None and weights is None and r.given("model_memory_gib") is None:
        r.add("model_memory_gib", None, f"the weight size of {model!r}, which the built-in list does not know "
                                        f"({', '.join(KNOWN_MODELS)})")
    if weights is not None and memory is not None and gpus is not None and not fits(weights, memory, gpus):
        r.add("gpu", f"{gpus} x {gpu_model} ({memory} GiB each)",
              f"a GPU pool whose nodes hold {model} ({weights} GiB of weights plus KV cache) even with every GPU "
              f"of a node in tensor parallel")
    elif weights is not None and memory is not None and tp is not None and (gpus is None or tp <= gpus) \
            and not fits(weights, memory, tp):
        r.add("tensor_parallel_size", tp, f"enough {gpu_model} GPUs ({memory} GiB each) for {model} ({weights} GiB "
                                          f"of weights plus KV cache): raise it or pick a larger GPU")
    if model is not None and context_length(model, r.given("max_model_len")) is None:
        r.add("max_model_len", None, f"the context length of {model!r}, which the built-in list does not know "
                                     f"(vLLM and the picker's prefix matching are sized to it)")
    if facts.get("gated") and not r.args.get("hf_token_secret"):
        r.add("hf_token_secret", None, f"a Key Vault secret with a Hugging Face token: {model} is gated")
    llmd_escape_hatches(r)
    if r.get("prefill_decode"):
        llmd_prefill_decode(r, weights)
    for key in ("vllm_image", "epp_image"):
        r.text(key, lambda image: None if image_is_pinned(image) else
               "an image pinned to a release tag (v1.2.3) or a digest, never latest/main")
    epp = r.get("epp_image")
    if isinstance(epp, str) and image_is_pinned(epp):
        try:  # the chart takes the EPP image as registry, repository and tag
            parse_image(epp)
        except ValueError:
            r.add("epp_image", epp, "registry/repository:tag (the registry host named)")
    if (r.args.get("hf_token_secret") or r.get("api_key_auth")) and not r.args.get("key_vault"):
        r.add("key_vault", None, f"a vault handle when {r.ref('api_key_auth')} or {r.ref('hf_token_secret')} is set")
    if r.get("autoscaling"):
        llmd_autoscaling(r)
    elif r.given("metrics") is True and r.args.get("prometheus_url") in (None, "") and not r.args.get("keda"):
        r.add("metrics", True, f"true with {r.ref('prometheus_url')} (Observability's): the PodMonitor and "
                               "ServiceMonitor need the Prometheus Operator's CRDs, which it waits for; or false")
    return r.problems


def rdma_sizes() -> str:
    return ", ".join(s.vm_size for s in GPU_SKUS.values() if s.rdma)


def llmd_prefill_decode(r: Rules, weights: Optional[float]) -> None:
    """P/D needs InfiniBand (NIXL's KV transfer), the GPU Operator's driver (nvidia-peermem for GPUDirect RDMA;
    the AKS-managed driver does not load it) and fixed replica counts; the prefill replicas fit like decode's."""
    gpu = r.args.get("gpu")
    gpus, memory, rdma = known(gpu, "gpus_per_node"), known(gpu, "gpu_memory_gib"), known(gpu, "rdma")
    driver, gpu_model = known(gpu, "driver"), known(gpu, "gpu_model")
    if rdma is False:
        r.add("prefill_decode", True, f"an InfiniBand (RDMA) GPU size ({rdma_sizes()}); this {gpu_model} pool has "
                                      f"none, so NIXL cannot move the KV cache")
    if driver == "aks":
        r.add("gpu", "driver=aks", f"a pool with driver 'operator' for {r.ref('prefill_decode')}: the GPU Operator's "
                                   f"driver loads nvidia-peermem (GPUDirect RDMA), the AKS-managed one does not")
    if r.get("autoscaling"):
        r.add("autoscaling", True, f"false with {r.ref('prefill_decode')}: prefill and decode are sized apart "
                                   f"({r.ref('prefill_replicas')}, {r.ref('replicas')}), KEDA scales one Deployment")
    r.whole("prefill_replicas", 1, 64)
    prefill_tp = r.whole("prefill_tensor_parallel_size", 1, 8)
    if prefill_tp is not None and gpus is not None and prefill_tp > gpus:
        r.add("prefill_tensor_parallel_size", prefill_tp, f"at most the {gpus} GPU(s) of one {gpu_model} node")
    elif prefill_tp is not None and memory is not None and weights is not None and not fits(weights, memory,
                                                                                              prefill_tp):
        r.add("prefill_tensor_parallel_size", prefill_tp, f"enough {gpu_model} GPUs ({memory} GiB each) for "
                                                          f"{r.get('model')}: raise it")


def llmd_autoscaling(r: Rules) -> None:
    low = r.whole("min_replicas", 0, 64)
    high = r.whole("max_replicas", 1, 64)
    for key in ("scale_up_stabilization_seconds", "scale_down_stabilization_seconds"):
        r.whole(key, 0, 3600)
    if low is not None and high is not None:
        replicas = r.get("replicas")
        if high < max(low, 1):
            r.add("max_replicas", high, f"at least {r.ref('min_replicas')} ({low}) and 1")
        elif isinstance(replicas, int) and not max(low, 1) <= replicas <= high:
            r.add("replicas", replicas, f"the starting count, between {max(low, 1)} and {r.ref('max_replicas')} "
                                        f"({high})")
    if not r.args.get("keda"):
        r.add("keda", None, "Observability's keda endpoints (its Prometheus) when autoscaling")
    keda_rule(r)
    if r.get("metrics") is False:
        r.add("metrics", False, "true when autoscaling: the triggers read the picker's metrics, which the "
                                "ServiceMonitor has Prometheus scrape")
    epp = r.get("epp_image")
    if low == 0 and isinstance(epp, str) and image_is_pinned(epp) and not holds_requests_at_zero(epp):
        r.add("min_replicas", 0, "at least 1 with this picker image: scale to zero needs a picker that holds "
                                 "requests while no replica is ready (flow control's queue, llm-d-router v0.10.0 and "
                                 "later); without it the first request after idling fails at once while a replica "
                                 "starts")


# ---- the smaller components ------------------------------------------------------------------------------------
def model_autoscaler(args: Mapping[str, Any]) -> list[Problem]:
    r = Rules(args, "ModelAutoscaler")
    mode = r.choice("mode", AUTOSCALING_MODES)
    low = r.whole("min_replicas", 0 if mode in ("requests", None) else 1, MAX_NODES)
    high = r.whole("max_replicas", 1, MAX_NODES)
    if low is not None and high is not None and high < low:
        r.add("max_replicas", high, f"at least {r.ref('min_replicas')} ({low})")
    if mode == "requests" and not r.args.get("keda"):
        r.add("keda", None, f"Observability's keda endpoints with {r.ref('mode')} requests")
    elif mode == "requests":
        keda_rule(r)
    server = r.args.get("model_server")
    if mode == "requests" and isinstance(server, Mapping) and known(server, "hosts") == []:
        r.add("model_server", "a model server built without keda",
              f"with {r.ref('mode')} requests, a model server built with Observability's keda (InferenceStack's or "
              "OllamaServer's `keda`): requests mode counts the requests passing the KEDA interceptor, and this "
              "server's do not pass it, so it would never see one (at min_replicas 0, never start a replica); or "
              "mode cpu or gpu-memory")
    r.whole("target_in_flight", 1, 1000)
    r.whole("gpu_memory_target_percent", 10, 100)
    r.whole("cpu_target_percent", 10, 100)
    r.whole("scale_down_stabilization_seconds", 0, 3600)
    r.whole("request_timeout_seconds", 1, 86400)
    r.whole("cold_start_timeout_seconds", 1, 86400)
    return r.problems


def observability(args: Mapping[str, Any]) -> list[Problem]:
    r = Rules(args, "Observability")
    r.text("app_namespace", names.dns_label)
    r.texts("other_app_namespaces", names.dns_label)
    r.texts("client_namespaces", names.dns_label)
    r.text("name_prefix", names.name_prefix)
    r.text("prometheus_retention", PROMETHEUS_DURATION)
    r.whole("prometheus_storage_gib", 5, 4096)
    r.whole("grafana_storage_gib", 1, 1024)
    r.whole("latency_slo_seconds", 1, 3600)
    ratio = r.number("error_ratio_slo", 0, 1, "a share between 0 and 1, like 0.05")
    if ratio is not None and not 0 < ratio < 1:
        r.add("error_ratio_slo", ratio, "a share between 0 and 1, like 0.05")
    r.whole("gpu_memory_alert_percent", 50, 100)
    r.whole("request_timeout_seconds", 1, 86400)
    r.whole("cold_start_timeout_seconds", 1, 86400)
    r.whole("interceptor_replicas", 1, 50)
    r.text("grafana_password_secret", names.key_vault_secret)
    return r.problems


def azure_monitoring(args: Mapping[str, Any]) -> list[Problem]:
    r = Rules(args, "AzureMonitoring")
    r.text("location", azure_region)
    r.text("name_prefix", names.name_prefix)
    r.whole("log_retention_days", 30, 730)  # Log Analytics (PerGB2018) keeps data 30 to 730 days
    # each address once: the action group gets one email receiver per entry (`email-<index>`), so an address listed
    # twice is mailed twice per alert and spends its 100-emails-an-hour rate limit twice as fast (Azure Monitor
    # service limits); addresses compared without case, as mail systems do
    each_once(r, "alert_emails", EMAIL, "each address once (compared without case): a second receiver of the same "
                                        "address mails it twice per alert")
    group_ids_rule(r, "grafana_admin_group_ids")
    group_ids_rule(r, "grafana_viewer_group_ids")
    return r.problems


def app_namespace(args: Mapping[str, Any]) -> list[Problem]:
    r = Rules(args, "AppNamespace")
    r.text("namespace", names.new_namespace)
    r.choice("pod_security", POD_SECURITY_LEVELS)
    return r.problems


def workload_identity(args: Mapping[str, Any]) -> list[Problem]:
    r = Rules(args, "WorkloadIdentity")
    r.text("identity_name", names.managed_identity)
    r.text("namespace", names.dns_label)
    r.text("service_account_name", names.dns_subdomain)
    return r.problems


# A Front Door origin's (and endpoint prefix's) name, and a Fleet member's: the global stack derives both from each
# regional stack's name (config/regions.py edge_name_problems)
EDGE_NAME = pattern(r"[a-z]([a-z0-9-]{0,40}[a-z0-9])?", "1-42 lowercase letters, digits and hyphens, starting with "
                                                        "a letter")
FLEET_NAME = pattern(r"[a-z0-9]([-a-z0-9]{0,48}[a-z0-9])?", "1-50 lowercase letters, digits and hyphens, starting "
                                                            "and ending with a letter or digit")


def global_endpoint(args: Mapping[str, Any]) -> list[Problem]:
    r = Rules(args, "GlobalEndpoint")
    r.choice("sku", FRONT_DOOR_SKUS)
    r.choice("waf_mode", WAF_MODES)
    https = r.choice("origin_protocol", ORIGIN_PROTOCOLS) == "Https"
    r.whole("rate_limit_per_minute", 10, 1_000_000)
    r.whole("origin_timeout_seconds", 16, MAX_ORIGIN_TIMEOUT_SECONDS)
    r.whole("probe_interval_seconds", 5, 255)
    r.text("name_prefix", EDGE_NAME)
    origins = r.args.get("origins")
    if isinstance(origins, (list, tuple)) and not origins:
        r.add("origins", [], "at least one region")
    seen: set[str] = set()
    serving = 0
    for origin, value in r.items("origins"):
        name = origin.text("name", EDGE_NAME)
        if name is not None and name in seen:
            origin.add("name", name, "a name no other origin has")
        seen.add(name or "")
        if https:  # Front Door sends the host as SNI and checks the certificate against it: an IP cannot match
            origin.text("host", lambda h: None if HOSTNAME(h) is None else (
                f"a DNS name the region's certificate is for ({r.ref('origin_protocol')} Https: Front Door sends it "
                f"as SNI and checks the certificate's names against it; an IP address never matches), or "
                f"{r.ref('origin_protocol')} Http"))
        for port in ("ui_port", "api_port", "llmd_port"):
            origin.whole(port, 1, 65535)
        priority = origin.choice("priority", (1, 2))
        serving += isinstance(value, Mapping) and (priority in (1, None) and origin.given("priority") != 2)
    if origins and isinstance(origins, (list, tuple)) and all(isinstance(o, Mapping) for o in origins) \
            and serving == 0:
        r.add("origins", "no priority-1 origin", "at least one serving region (priority 1)")
    keys = r.given("api_keys")
    if keys is not None:  # one key set valid in every region, written into each region's Key Vault
        if not isinstance(keys, (list, tuple)) or not 1 <= len(keys) <= 10 or len(set(keys)) != len(keys) \
                or not all(isinstance(k, str) and EDGE_NAME(k) is None for k in keys):
            r.add("api_keys", keys, "1-10 unique names of lowercase letters, digits and hyphens")
        for origin, value in r.items("origins"):
            for key in ("key_vault_name", "key_vault_resource_group"):
                if isinstance(value, Mapping) and not value.get(key):
                    origin.add(key, None, f"a value when {r.ref('api_keys')} is set (the key set is written into "
                                          f"every region's Key Vault)")
    return r.problems


def fleet_updates(args: Mapping[str, Any]) -> list[Problem]:
    r = Rules(args, "FleetUpdates")
    r.text("location", azure_region)
    r.choice("channel", FLEET_CHANNELS)
    r.choice("node_image_selection", NODE_IMAGE_SELECTIONS)
    r.whole("wait_between_regions_seconds", 0, 604800)
    r.text("fleet_name", pattern(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?", "1-63 lowercase letters, digits and "
                                                                       "hyphens, starting and ending with a letter "
                                                                       "or digit"))
    members = r.args.get("members")
    if isinstance(members, (list, tuple)) and not members:
        r.add("members", [], "at least one cluster")
    seen: set[str] = set()
    for member, _ in r.items("members"):
        name = member.text("name", FLEET_NAME)
        if name is not None and name in seen:
            member.add("name", name, "a name no other member has")
        seen.add(name or "")
    return r.problems


RULES = {
    "AksCluster": aks_cluster, "GpuNodePool": gpu_node_pool, "AppNamespace": app_namespace,
    "ModelStore": model_store, "KeyVault": key_vault, "PostgresServer": postgres_server,
    "GatewayAccess": gateway_access, "InferenceStack": inference_stack, "AzureMonitoring": azure_monitoring,
    "Observability": observability, "ModelAutoscaler": model_autoscaler, "WorkloadIdentity": workload_identity,
    "LlmdStack": llmd_stack, "GlobalEndpoint": global_endpoint, "FleetUpdates": fleet_updates,
    # InferenceStack's parts, each with the rules of what it owns
    "OllamaServer": ollama_server, "ApiGate": api_gate, "OpenWebUi": open_webui,
}


def problems_of(component: str, args: Mapping[str, Any]) -> list[Problem]:
    """The rules of one component by name (the config layer's entry point)."""
    return RULES[component](args)


def rendered(problems: list[Problem], name: Optional[Any] = None) -> list[str]:
    return [p.sentence(name or str) for p in problems]
