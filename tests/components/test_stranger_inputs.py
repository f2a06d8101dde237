"""Inputs a stranger using the package as a library found unchecked, each refused by the component before it
registers anything, with the input, the value and what is allowed (docs/decisions.md, "Input rules")."""
import re
from typing import Any, Callable

import pulumi
import pytest
from pulumi.output import Unknown
from pulumi_azure_native import operationalinsights

import llmplatform
from llmplatform.checks import ComponentInputError
from llmplatform.rules import WITHHELD
from llmplatform.checks.annotations import _typeddict_of
from llmplatform.checks.handle_types import handed_out
from llmplatform.testing import OfflineMocks
from offline import runner as offline

from tests.components.test_components_alone import IN_CLUSTER, REQUIRED, RG, args_type, provider_opts
from tests.sdk_mocks import run_under_sdk_mocks

CLUSTER, VNET = "azure-native:containerservice:ManagedCluster", "azure-native:network:VirtualNetwork"


def refusal(component: str, extra: Any, drop: tuple = ()) -> ComponentInputError:
    """The error `component` raises for its required inputs plus `extra` (a dict, or a function making it inside
    the program: an Output belongs to the run that makes it), less `drop`."""
    def program():
        more = extra() if callable(extra) else extra
        args = {k: v for k, v in {**REQUIRED[component](), **more}.items() if k not in drop}
        getattr(llmplatform, component)("bad", args, provider_opts() if component in IN_CLUSTER else None)
    with pytest.raises(ComponentInputError) as error:
        offline.run_function(program)
    return error.value


def paths(error: ComponentInputError) -> list[str]:
    return [e["property_path"] for e in error.errors or []]


# ---- 1. inputs that decide what gets registered are plain values ------------------------------------------------
@pytest.mark.parametrize("component, key, value", [
    ("InferenceStack", "accelerator", "gpu"),  # decides where Ollama runs: an Output was read as "not gpu"
    ("GpuNodePool", "vm_size", "Standard_NC4as_T4_v3"),  # the catalog lookup needs the size: it crashed in gpu_skus
])
def test_an_output_where_the_component_decides_what_to_register_is_refused_by_name(component, key, value):
    error = refusal(component, lambda: {key: pulumi.Output.from_input(value)})
    assert paths(error) == [key]
    assert str(error) == (f"{component} bad: {key}: must be a plain value known when the program runs (a string), "
                          f"not an Output")


# ---- 5. a mistyped input name gets the input it most likely means ------------------------------------------------
@pytest.mark.parametrize("component, typo, meant", [
    ("GpuNodePool", "max_nodes", "did you mean 'max_count'?"),  # not max_pods, one letter nearer
    ("GpuNodePool", "min_nodes", "did you mean 'min_count'?"),
    ("GpuNodePool", "vm_sku", "did you mean 'vm_size'?"),
    ("GpuNodePool", "gpu_driver", "did you mean 'driver'?"),
    ("GpuNodePool", "node_count", "did you mean 'min_count' or 'max_count'?"),
    ("InferenceStack", "keda_endpoints", "did you mean 'keda'?"),
    ("InferenceStack", "route", "did you mean 'route_target'?"),
    ("InferenceStack", "ollama_replicas", "did you mean 'replicas'?"),
    ("InferenceStack", "gpu_enabled", "did you mean 'gpu'?"),
    ("InferenceStack", "timeout", "did you mean 'request_timeout_seconds' or 'cold_start_timeout_seconds'?"),
    ("PostgresServer", "admin_user", "did you mean 'admin_login'?"),
    ("PostgresServer", "sku", "did you mean 'sku_name'?"),
    ("PostgresServer", "storage_gb", "did you mean 'storage_size_gb'?"),
    ("GatewayAccess", "internal_address", "did you mean 'internal_ip'?"),
    ("GatewayAccess", "lb_ip", "did you mean 'internal_ip'?"),
    ("KeyVault", "retention_days", "did you mean 'soft_delete_retention_days'?"),
    ("KeyVault", "purge", "did you mean 'purge_protection'?"),
    ("AksCluster", "k8s_version", "did you mean 'kubernetes_version'?"),
])
def test_a_mistyped_input_name_suggests_the_input_meant(component, typo, meant):
    error = refusal(component, {typo: 1})
    assert paths(error) == [typo]
    assert str(error) == f"{component} bad: {typo}: is not an input; {meant}"


def test_a_name_close_to_no_input_lists_them_all():
    error = refusal("GpuNodePool", {"taints": ["x"]})  # `tags` shares letters, not meaning
    assert re.search(r"taints: is not an input; inputs: cluster, driver, fallback, gpu_sku, .*, zones$", str(error))


# ---- 4. a Key Vault secret a program writes itself is named as Key Vault names objects -----------------------------
@pytest.mark.parametrize("secret_name, allowed", [
    ("db_url", "1-127 letters, digits and hyphens (a Key Vault secret name)"),
    ("", "1-127 letters, digits and hyphens (a Key Vault secret name)"),
    ("a" * 128, "1-127 letters, digits and hyphens (a Key Vault secret name)"),
    ("api key", "1-127 letters, digits and hyphens (a Key Vault secret name)"),
    (None, "a string of 1-127 letters, digits and hyphens (a Key Vault secret name)"),
])
def test_vault_secret_refuses_a_name_key_vault_cannot_hold_at_the_call(secret_name, allowed):
    """Key Vault object names are 1-127 of 0-9, a-z, A-Z and '-' (Microsoft Learn, "About keys, secrets, and
    certificates"): refused when vault_secret is called, naming the argument, not at `pulumi up`."""
    from llmplatform.key_vault import vault_secret
    from tests.components.test_components_alone import VAULT

    def program():
        owner = pulumi.ComponentResource("test:index:Owner", "owner")
        vault_secret("owner-secret", VAULT, secret_name, "value", "text/plain", owner)
    with pytest.raises(ComponentInputError) as error:
        offline.run_function(program)
    assert paths(error.value) == ["secret_name"]
    assert str(error.value) == f"vault_secret owner-secret: input secret_name={WITHHELD!r} is invalid; " \
                               f"allowed: {allowed}"  # not shown: a value that is no name may be the secret itself


def test_vault_secret_takes_a_good_name_and_leaves_an_output_to_deploy_time():
    from llmplatform.key_vault import vault_secret
    from tests.components.test_components_alone import VAULT

    def program():
        owner = pulumi.ComponentResource("test:index:Owner", "owner")
        vault_secret("owner-a", VAULT, "Db-Url-2", "value", "text/plain", owner)
        vault_secret("owner-b", VAULT, pulumi.Output.from_input("later"), "value", "text/plain", owner)
    plan = offline.run_function(program)
    assert len(plan.of_type("azure-native:keyvault:Secret")) == 2


# ---- 3. PostgresServer: a size, storage and login Azure takes ----------------------------------------------------
@pytest.mark.parametrize("extra, path, phrase", [
    ({"sku_name": "Standard_X9"}, "sku_name", "allowed: a Flexible Server compute size: a Burstable compute size"),
    ({"tier": "MemoryOptimized", "sku_name": "Standard_D4ds_v5"}, "sku_name",
     "a MemoryOptimized compute size (Standard_E<vCPUs>...s_v<n>, e.g. Standard_E2ds_v5, Standard_E4s_v3) with tier "
     "MemoryOptimized; Standard_D4ds_v5 is a GeneralPurpose size"),
    ({"tier": "GeneralPurpose"}, "sku_name", "Standard_B1ms, the default, is a Burstable size"),
    ({"storage_size_gb": 33}, "storage_size_gb",
     "input storage_size_gb=33 is invalid; allowed: a Premium SSD size in GiB: 32, 64, 128, 256, 512, 1024, 2048, "
     "4096, 8192, 16384, 32767"),
    ({"admin_login": "azure_pg_admin"}, "admin_login", "not starting with pg_ (Azure reserves them)"),
    ({"admin_login": "pg_app"}, "admin_login", "input admin_login='pg_app' is invalid"),
])
def test_postgres_refuses_what_azure_refuses_at_pulumi_up(extra, path, phrase):
    error = refusal("PostgresServer", extra)
    assert paths(error) == [path] and phrase in str(error), str(error)


def test_postgres_takes_any_size_of_its_tiers_family():
    def program():
        for i, (tier, sku) in enumerate((("GeneralPurpose", "Standard_D2ds_v6"), ("MemoryOptimized", "Standard_E4s_v3"),
                                         ("Burstable", "Standard_B2s"))):
            llmplatform.PostgresServer(f"pg{i}", {**REQUIRED["PostgresServer"](), "server_name": f"psql-test-{i}",
                                                  "tier": tier, "sku_name": sku, "storage_size_gb": 128,
                                                  "admin_login": "webui"})
    plan = offline.run_function(program)
    servers = plan.of_type("azure-native:dbforpostgresql:Server")
    assert sorted(s.inputs["sku"]["name"] for s in servers) == ["Standard_B2s", "Standard_D2ds_v6", "Standard_E4s_v3"]


# ---- 2. GatewayAccess: a fixed internal address Azure can give the internal load balancer ------------------------
def with_subnet(cidr: Any) -> dict:
    from tests.components.test_components_alone import cluster_handle
    return {**cluster_handle(), "node_subnet_cidr": cidr}


@pytest.mark.parametrize("extra, phrase", [
    ({"internal_ip": "8.8.8.8"}, "a private IPv4 address (RFC 1918: 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16)"),
    ({"internal_ip": "10.0.0.300"}, "a private IPv4 address of the node subnet, like '10.0.15.250'"),
    ({"internal_ip": "fd00::10"}, "a private IPv4 address of the node subnet"),
    ({"internal_ip": "10.0.0.1", "cluster": with_subnet("10.0.0.0/20")},
     "allowed: a usable address of the node subnet 10.0.0.0/20: inside it and none of the five Azure reserves "
     "(10.0.0.0 network, 10.0.0.1 gateway, 10.0.0.2 and 10.0.0.3 Azure DNS, 10.0.15.255 broadcast)"),
    ({"internal_ip": "10.0.15.255", "cluster": with_subnet("10.0.0.0/20")}, "10.0.15.255 broadcast"),
    ({"internal_ip": "10.0.16.10", "cluster": with_subnet("10.0.0.0/20")}, "a usable address of the node subnet"),
])
def test_gateway_refuses_an_internal_address_azure_cannot_give_its_load_balancer(extra, phrase):
    error = refusal("GatewayAccess", extra)
    assert paths(error) == ["internal_ip"] and phrase in str(error), str(error)


def test_gateway_checks_the_internal_address_against_the_aks_clusters_node_subnet():
    """AksCluster's handle carries its node subnet's range: an address Azure reserves there is refused by name before
    anything of the gateway registers; a usable one is the load balancer's annotation."""
    from tests.components.test_components_alone import REQUIRED as ALONE
    outcome: list = []

    def program():
        aks = llmplatform.AksCluster("aks", ALONE["AksCluster"]())  # node subnet 10.0.0.0/20
        opts = pulumi.ResourceOptions(providers=[aks.provider])
        try:
            llmplatform.GatewayAccess("bad", {"cluster": aks.cluster, "internal_ip": "10.0.0.3"}, opts)
        except ComponentInputError as error:
            outcome.append(error)
        llmplatform.GatewayAccess("good", {"cluster": aks.cluster, "internal_ip": "10.0.15.250", "external": False},
                                  opts)
    plan = offline.run_function(program)
    assert [paths(e) for e in outcome] == [["internal_ip"]] and "10.0.0.3 Azure DNS" in str(outcome[0])
    (gateway,) = [r for r in plan.of_type("kubernetes:gateway.networking.k8s.io/v1:Gateway")]
    assert gateway.inputs["spec"]["infrastructure"]["annotations"][
        "service.beta.kubernetes.io/azure-load-balancer-ipv4"] == "10.0.15.250"
    assert not any("bad" in r.urn for r in plan.resources)


def test_a_node_subnet_known_only_at_deploy_time_is_checked_when_it_is_known():
    """Through the component provider a handle's fields are outputs: the address is checked when the subnet's value
    arrives, with the same words."""
    def program():
        llmplatform.GatewayAccess("late", {"cluster": {**with_subnet(pulumi.Output.from_input("10.0.0.0/20"))},
                                           "internal_ip": "10.0.0.2", "external": False}, provider_opts())
    with pytest.raises(Exception) as error:
        offline.run_function(program)
    assert "GatewayAccess late: input internal_ip='10.0.0.2' is invalid; allowed: a usable address of the node " \
           "subnet 10.0.0.0/20" in str(error.value)


def test_an_internal_address_is_not_read_without_the_internal_gateway():
    """The stack hands GatewayAccess its default internal address whatever the gateway mode: unused (and unchecked)
    when the internal Gateway is off."""
    from llmplatform.input_rules import gateway_access
    assert gateway_access({"internal": False, "internal_ip": "10.40.15.250",
                           "cluster": with_subnet("10.41.0.0/20")}) == []
    assert [p.path for p in gateway_access({"internal_ip": "10.40.15.250", "cluster": with_subnet("10.41.0.0/20")})] \
        == ["internal_ip"]


# ---- 6. one InferenceStack per namespace -------------------------------------------------------------------------
def test_a_second_inference_stack_in_a_namespace_is_refused_by_name():
    """Its Kubernetes objects have fixed names in its namespace (ollama, router, ...): the second stack would claim
    the first one's. Refused before it registers anything, naming the namespace and the stack already there."""
    from tests.components.test_components_alone import VOLUME
    outcome: list = []

    def program():
        opts = provider_opts()
        llmplatform.InferenceStack("first", REQUIRED["InferenceStack"](), opts)
        try:
            llmplatform.InferenceStack("second", REQUIRED["InferenceStack"](), opts)
        except ComponentInputError as error:
            outcome.append(error)
        llmplatform.InferenceStack("other-ns", {**REQUIRED["InferenceStack"](),
                                                "model_volume": {**VOLUME, "namespace": "llm-2"}}, opts)
        llmplatform.InferenceStack("other-cluster", REQUIRED["InferenceStack"](), provider_opts("k8s-b"))
    plan = offline.run_function(program)
    assert [paths(e) for e in outcome] == [["model_volume.namespace"]]
    assert str(outcome[0]) == (
        "InferenceStack second: input model_volume.namespace='llm' is invalid; allowed: a namespace no other "
        "InferenceStack on this cluster runs in: 'first' runs in 'llm' (one InferenceStack per namespace, its "
        "objects have fixed names there: give it the volume of a ModelStore in a namespace of its own)")
    assert sorted(r.name for r in plan.of_type("llmplatform:index:InferenceStack")) == [
        "first", "other-cluster", "other-ns"]


def test_the_testing_kit_says_why_when_the_namespace_was_known_only_at_deploy_time():
    """A namespace that is an output (another component's) is not known when the stack is built: the testing kit
    finds the collision, and says first, in one line, what it means."""
    from llmplatform.testing import ProgramError, run
    from tests.components.test_components_alone import VOLUME

    def program():
        opts = provider_opts()
        for name in ("a", "b"):
            llmplatform.InferenceStack(name, {**REQUIRED["InferenceStack"](), "model_volume": {
                **VOLUME, "namespace": pulumi.Output.from_input("llm")}}, opts)
    with pytest.raises(ProgramError) as error:
        run(program)
    lines = str(error.value).splitlines()
    assert lines[1].strip() == (
        "one InferenceStack per namespace: InferenceStacks 'a' and 'b' both put their objects in namespace 'llm' of "
        "one cluster, where an InferenceStack names them the same way (default-deny-ingress, egress-guard, ollama, "
        "ollama-ingress, router, router-ingress, ...); give each its own namespace (for an InferenceStack: the model "
        "volume of a ModelStore of its own namespace)")
    assert sum("one InferenceStack per namespace" in line for line in lines) == 1
    assert sum("are one object" in line for line in lines) >= 10  # each object still named below


def test_a_value_shown_in_a_refusal_shows_an_output_inside_it_as_such_not_as_an_object_address():
    error = refusal("GpuNodePool", lambda: {"tags": {"team": {"x": pulumi.Output.from_input(1)}}})
    assert paths(error) == ["tags"]
    assert "{'team': {'x': <output>}}" in str(error) and " at 0x" not in str(error)


# ---- Entra group ids given twice -------------------------------------------------------------------------------
@pytest.mark.parametrize("component, key, extra", [
    ("AzureMonitoring", "grafana_admin_group_ids", {"managed_grafana": True}),
    ("AzureMonitoring", "grafana_viewer_group_ids", {"managed_grafana": True}),
    ("AksCluster", "admin_group_object_ids", {}),
])
def test_a_group_given_twice_is_refused_by_name_not_as_two_resources_of_one_name(component, key, extra):
    """A copied line in a list of groups (Entra compares ids without case): AzureMonitoring made one role
    assignment per entry, named after the group, so the second one's name was taken and the plan stopped at the
    engine's duplicate URN, after the registrations before it, naming no input."""
    group = "11111111-2222-3333-4444-555555555555"
    error = refusal(component, {**extra, key: [group, "66666666-2222-3333-4444-555555555555", group.upper()]})
    assert paths(error) == [key]
    assert str(error) == f"{component} bad: input {key}=['{group}'] is invalid; allowed: each group once"


# ---- an optional input given as None is not given ----------------------------------------------------------------
def _registrations(component: str, extra: dict[str, Any]) -> list[tuple[str, str, str]]:
    def program():
        getattr(llmplatform, component)("c", {**REQUIRED[component](), **extra},
                                        provider_opts() if component in IN_CLUSTER else None)
    return sorted((r.type, r.name, repr(r.inputs)) for r in offline.run_function(program).resources)


# each component from its required inputs, and again with an optional spec given (its required fields, on both sides
# of the comparison) for that spec's optional fields
NONE_CASES = [(component, {}) for component in sorted(REQUIRED)] + [
    ("OllamaServer", {"resources": {"cpu_request": "1", "memory_request": "1Gi", "memory_limit": "2Gi"}}),
    ("GpuNodePool", {"gpu_sku": {"gpu_model": "T4", "gpus": 1, "gpu_memory_gib": 16}}),
    ("GpuNodePool", {"fallback": {"enabled": False, "max_count": 1}}),  # min_count None: 0, as the spot pool's
    # an override sets its action or its switch, so each leaves the other to be given as None
    ("GlobalEndpoint", {"waf_exclusions": [{"match_variable": "RequestHeaderNames", "operator": "EqualsAny"}],
                        "waf_rule_overrides": [{"rule_group": "SQLI", "rule_id": "942100", "action": "Log"}]}),
    ("GlobalEndpoint", {"waf_rule_overrides": [{"rule_group": "SQLI", "rule_id": "942100", "enabled": False}]})]


def _all_none(value: dict[str, Any], spec: type, reached: set[tuple[str, str]]) -> dict[str, Any]:
    """`value` with every optional field of `spec` it leaves out given as None, in the specs it gives too (not in
    handles, which components hand out); `reached` collects (spec, field) of each."""
    out = dict(value)
    for key, annotation in spec.__annotations__.items():
        inner, is_list = _typeddict_of(annotation)
        if key in out and inner is not None and handed_out(inner) is None:
            out[key] = ([_all_none(i, inner, reached) for i in out[key]] if is_list
                        else _all_none(out[key], inner, reached))
        elif key not in out and key in spec.__optional_keys__:  # type: ignore[attr-defined]
            out[key] = None
            reached.add((spec.__name__, key))
    return out


def _optional_fields(spec: type) -> set[tuple[str, str]]:
    """(spec, field) of every optional input of `spec` and of the specs (not handles) its fields hold."""
    found = {(spec.__name__, key) for key in spec.__optional_keys__}  # type: ignore[attr-defined]
    for annotation in spec.__annotations__.values():
        inner, _ = _typeddict_of(annotation)
        if inner is not None and handed_out(inner) is None:
            found |= _optional_fields(inner)
    return found


@pytest.mark.parametrize("component, spec", NONE_CASES, ids=[c + "".join(f"+{k}" for k in s) for c, s in NONE_CASES])
def test_every_optional_input_given_as_none_is_left_out_as_the_defaults_read_it(component, spec):
    """A foreign program passes what its own config gives (`"models": cfg.get_object("models")`, None when unset),
    and the Args admit None for every optional input: the component builds exactly what it builds without them.
    None crashed (ModelStore's models: a TypeError; PostgresServer's admin_login: urllib's quote), named Azure
    resources "log-None", "id-None-open-webui" (a name_prefix), turned a default-on part off (GatewayAccess's
    internal), left a VNet auto-named (vnet_name) or reached Azure inside a spec (a pool's `maxPods: None`: Azure's
    default, not the component's)."""
    base = {**REQUIRED[component](), **spec}
    given_none = _all_none(base, args_type(getattr(llmplatform, component)), set())
    assert _registrations(component, given_none) == _registrations(component, base)


def test_the_none_case_reaches_every_optional_input():
    """Every optional input of every component and of every spec a caller writes is given as None by one case above
    (a new spec reached only through an optional field needs its case)."""
    reached: set[tuple[str, str]] = set()
    every: set[tuple[str, str]] = set()
    for component, spec in NONE_CASES:
        args = args_type(getattr(llmplatform, component))
        _all_none({**REQUIRED[component](), **spec}, args, reached)
        every |= _optional_fields(args)
    assert every - reached == set() and len(every) == 316


@pytest.mark.parametrize("component, extra, path, meant", [
    ("GatewayAccess", {"interal": None}, "interal", "did you mean 'internal'?"),  # a typo
    ("AzureMonitoring", {"namePrefix": None}, "namePrefix", "did you mean 'name_prefix'?"),  # the schema's spelling
    ("AksCluster", {"system_pool": {"maxPods": None}}, "system_pool.maxPods", "did you mean 'max_pods'?"),  # in a spec
])
def test_a_name_that_is_no_input_is_refused_given_as_none_too(component, extra, path, meant):
    """None is "not given" for an input; a name that is no input is still refused with the one meant, whatever its
    value: `"interal": cfg.get_bool("internal")` is a typo whether the config key is set or not."""
    more = {k: {**REQUIRED[component]()[k], **v} if isinstance(v, dict) else v for k, v in extra.items()}
    error = refusal(component, more)
    assert paths(error) == [path]
    assert str(error) == f"{component} bad: {path}: is not an input; {meant}"


def _previewed(extra_of: Callable[[pulumi.Output[str]], dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """AksCluster's registered inputs by resource type, in a `pulumi preview` under the SDK's own mocks
    (`set_mocks(..., preview=True)`): its required inputs plus `extra_of(unknown)`, where `unknown` is the ID of a
    Log Analytics workspace registered first, not known in a preview (the mocks give it none)."""
    registered: dict[str, dict[str, Any]] = {}

    class PreviewMocks(OfflineMocks):
        def new_resource(self, args: pulumi.runtime.MockResourceArgs):
            if args.typ == "azure-native:operationalinsights:Workspace":
                return None, {}  # no ID yet: unknown in a preview
            registered[args.typ] = args.inputs
            return super().new_resource(args)

    def program() -> None:
        workspace = operationalinsights.Workspace("ws", resource_group_name=RG, location="westeurope")
        llmplatform.AksCluster("aks", {**REQUIRED["AksCluster"](), **extra_of(workspace.id)})

    run_under_sdk_mocks(PreviewMocks(), program, preview=True, stack="preview")
    return registered


def test_an_optional_input_not_known_in_a_preview_is_given_not_left_out():
    """`given` leaves out None, never an output: one unknown in `pulumi preview` (a workspace not created yet) is
    still an input given, so the preview shows what `pulumi up` builds (Container Insights on that workspace, the VNet
    under the name given), not the defaults of an input left out."""
    bare = _previewed(lambda unknown: {})
    addons = _previewed(lambda unknown: {"log_analytics_workspace_id": unknown})[CLUSTER]["addonProfiles"]
    assert "omsagent" not in bare[CLUSTER]["addonProfiles"] and addons["omsagent"]["enabled"] is True
    assert isinstance(addons["omsagent"]["config"]["logAnalyticsWorkspaceResourceID"], Unknown)
    assert bare[VNET]["virtualNetworkName"] == "vnet-aks-a"
    assert isinstance(_previewed(lambda unknown: {"vnet_name": unknown})[VNET]["virtualNetworkName"], Unknown)
