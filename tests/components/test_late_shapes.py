"""Inputs that are outputs (another language's handles through the component provider, a stack reference's) are
checked once they resolve: a handle of the wrong shape, a field of the wrong type, a required input that resolves
to nothing is refused as a LateInputError in the early check's words, before any code reads it (which otherwise
stopped with a TypeError and a traceback, or, for a node selector of None, placed pods on any node)."""
import re
from typing import Any, Callable

import pulumi
import pytest

import llmplatform
from llmplatform import ComponentInputError
from llmplatform.checks import handed_out
from llmplatform.checks.annotations import _typeddict_of
from llmplatform.checks.plain_values import _plain_kinds
from llmplatform.testing import ProgramError, run

from tests.components.test_components_alone import (GPU, IN_CLUSTER, REQUIRED, RG, VAULT, args_type, cluster_handle,
                                                    provider_opts)


def wrong(annotation: Any) -> Any:
    """A value no field of this annotation takes: a string where a number goes, else a number."""
    kinds, _ = _plain_kinds(annotation)
    return "seven" if kinds and (int in kinds or float in kinds) else 7


def handle_inputs() -> list[tuple[str, str]]:
    """(component, input) for every handle input among a component's required inputs."""
    found = []
    for name in sorted(REQUIRED):
        hints = args_type(getattr(llmplatform, name)).__annotations__
        for key, value in REQUIRED[name]().items():
            spec, is_list = _typeddict_of(hints[key])
            if isinstance(value, dict) and spec is not None and not is_list and handed_out(spec):
                found.append((name, key))
    return found


def stops_with(name: str, args: Callable[[], dict[str, Any]]) -> str:
    """The error the component stops with on the inputs `args` builds (outputs are made in the program's loop)."""
    component = getattr(llmplatform, name)
    with pytest.raises(ProgramError) as error:  # a TypeError (a traceback) fails the test
        run(lambda: component("late", args(), provider_opts() if name in IN_CLUSTER else None))
    assert "Traceback" not in str(error.value) and "While processing" not in str(error.value)
    return str(error.value)


def spoiled(name: str, key: str) -> tuple[dict[str, Any], list[str]]:
    """The handle `key` with every field of the wrong type, and the fields."""
    handle = REQUIRED[name]()[key]
    spec, _ = _typeddict_of(args_type(getattr(llmplatform, name)).__annotations__[key])
    assert spec is not None
    return {field: wrong(annotation) for field, annotation in spec.__annotations__.items()}, sorted(handle)


@pytest.mark.parametrize("name, key", handle_inputs())
def test_a_handle_given_as_one_output_of_the_wrong_shape_is_refused_once_it_resolves(name, key):
    handle, fields = spoiled(name, key)
    message = stops_with(name, lambda: {**REQUIRED[name](), key: pulumi.Output.from_input(handle)})
    assert message.startswith(f"{name} late: {key}."), message
    for field in fields:
        assert f"{key}.{field}: expects " in message, (field, message)


def one_input_per_handle_type() -> list[tuple[str, str]]:
    """The first (component, input) of each handle type: what differs from the test above is the handle's walk."""
    seen: dict[Any, tuple[str, str]] = {}
    for name, key in handle_inputs():
        spec, _ = _typeddict_of(args_type(getattr(llmplatform, name)).__annotations__[key])
        seen.setdefault(spec, (name, key))
    return list(seen.values())


@pytest.mark.parametrize("name, key", one_input_per_handle_type())
def test_a_handle_whose_fields_are_outputs_of_the_wrong_type_is_refused_once_they_resolve(name, key):
    handle, fields = spoiled(name, key)
    message = stops_with(name, lambda: {**REQUIRED[name](), key: {
        field: pulumi.Output.from_input(value) for field, value in handle.items()}})
    assert message.startswith(f"{name} late: {key}."), message


@pytest.mark.parametrize("name, key, value, words", [
    ("GpuNodePool", "cluster", {**cluster_handle(), "zones": None}, "cluster.zones: is required"),
    ("InferenceStack", "cluster", {**cluster_handle(), "cpu_node_selector": None},
     "cluster.cpu_node_selector: is required"),
    ("OpenWebUi", "key_vault", {**VAULT, "vault_name": None}, "key_vault.vault_name: is required"),
], ids=["zones", "cpu-node-selector", "vault-name"])
def test_a_required_field_that_resolves_to_nothing_is_required(name, key, value, words):
    """A None node selector planned (its pods would land on any pool); None zones stopped with a TypeError."""
    message = stops_with(name, lambda: {**REQUIRED[name](), key: pulumi.Output.from_input(value)})
    assert message == f"{name} late: {words}"


def test_an_input_that_resolves_to_nothing_is_required():
    """A stack reference's output that the other stack does not have resolves to None (the SDK's AssertionError)."""
    message = stops_with("PostgresServer", lambda: {**REQUIRED["PostgresServer"](),
                                                   "server_name": pulumi.Output.from_input(None)})
    assert message == "PostgresServer late: server_name: is required"


def test_list_items_that_are_outputs_are_checked_one_by_one():
    """Through the component provider a list field arrives as a list of outputs."""
    message = stops_with("GpuNodePool", lambda: {**REQUIRED["GpuNodePool"](), "cluster": {
        **cluster_handle(), "zones": [pulumi.Output.from_input("1"), pulumi.Output.from_input(2)]}})
    assert message == "GpuNodePool late: cluster.zones[1]: expects a string, got int 2"


def test_a_tolerations_list_of_the_wrong_shape_names_each_problem():
    gpu = {**GPU, "tolerations": [{"key": "nvidia.com/gpu", "effect": "NoSchedule"}]}
    message = stops_with("LlmdStack", lambda: {**REQUIRED["LlmdStack"](), "gpu": pulumi.Output.from_input(gpu)})
    assert message == "LlmdStack late: gpu.tolerations[0].operator: is required"


def plan_of(program: Callable[[], None]) -> list[tuple[str, Any]]:
    return sorted((r.urn, r.inputs) for r in run(program).resources)


@pytest.mark.parametrize("name", ["GpuNodePool", "OpenWebUi", "LlmdStack"])
def test_good_handles_given_as_outputs_plan_the_same_with_whole_numbers(name):
    """Every handle as one output, numbers as the engine's wire carries them (doubles): the same plan."""
    component = getattr(llmplatform, name)
    plain = REQUIRED[name]()

    def doubled(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: doubled(v) for k, v in value.items()}
        return float(value) if isinstance(value, int) and not isinstance(value, bool) else value
    def as_outputs() -> dict[str, Any]:
        return {k: pulumi.Output.from_input(doubled(v)) if isinstance(v, dict) else v for k, v in plain.items()}
    assert any(isinstance(v, dict) for v in plain.values())
    plans = [plan_of(lambda: component("same", given(), provider_opts())) for given in (lambda: plain, as_outputs)]
    assert plans[0] == plans[1]


@pytest.mark.parametrize("name, key", [("AksCluster", "system_pool"), ("AksCluster", "network"),
                                       ("GlobalEndpoint", "origins"), ("FleetUpdates", "members")])
def test_a_spec_given_as_one_output_is_refused_before_anything_registers(name, key):
    """A spec the component builds resources from (a pool's name, one origin each) cannot wait: a Python caller's
    Output of it (a stack reference's) stopped with a TypeError ("'Output' object is not iterable")."""
    component = getattr(llmplatform, name)
    with pytest.raises(ComponentInputError) as error:
        run(lambda: component("early", {**REQUIRED[name](), key: pulumi.Output.from_input(REQUIRED[name]()[key])}))
    assert str(error.value).startswith(f"{name} early: {key}: must be ") and "not an Output" in str(error.value)
    assert error.value.errors[0]["property_path"] == key


@pytest.mark.parametrize("name, key, extra", [
    ("AppNamespace", "route_target", {}), ("InferenceStack", "gpu", {"accelerator": "gpu"}),
    ("Observability", "monitoring", {}), ("ModelAutoscaler", "keda", {"mode": "requests"}),
], ids=["route-target", "gpu", "monitoring", "keda"])
def test_an_optional_handle_given_as_an_output_that_resolves_to_nothing_is_refused(name, key, extra):
    """A stack reference's output the other stack does not have resolves to None; the component took the handle as
    given and read its fields: a TypeError ("'NoneType' object is not subscriptable") with a traceback."""
    spec, _ = _typeddict_of(args_type(getattr(llmplatform, name)).__annotations__[key])
    assert spec is not None and handed_out(spec)
    source, output = handed_out(spec)
    message = stops_with(name, lambda: {**REQUIRED[name](), **extra, key: pulumi.Output.from_input(None)})
    assert message == (f"{name} late: {key}: resolved to nothing; give a {spec.__name__} ({source}'s `{output}`), "
                       "or leave it out")


def test_a_handle_fields_own_rule_holds_when_the_field_is_an_output():
    """The mirror registry of a cluster handle is checked in the component's words whether the handle, or only the
    field, is an output (through the component provider every field of a handle with dependencies is one)."""
    bad = "HTTP://Mirror.example.com/"
    words = ("GpuNodePool late: cluster.image_registry: 'HTTP://Mirror.example.com/' is invalid; allowed: a registry "
             "host without a scheme (e.g. Mirror.example.com)")
    for given in (lambda: pulumi.Output.from_input({**cluster_handle(), "image_registry": bad}),
                  lambda: {**cluster_handle(), "image_registry": pulumi.Output.from_input(bad)}):
        assert stops_with("GpuNodePool", lambda: {**REQUIRED["GpuNodePool"](), "cluster": given()}) == words


@pytest.mark.parametrize("late", [False, True], ids=["plain", "output"])
def test_a_hand_built_cluster_handle_names_a_resource_group(late):
    """A cluster handle built by hand (from a stack reference's outputs) with resource_group_name "" planned a Key
    Vault in the group "" (Azure refuses it at pulumi up): refused by the handle's own rule, early or once the
    handle resolves."""
    handle = {**cluster_handle(), "resource_group_name": ""}

    def program() -> None:  # the output made in the run's loop
        llmplatform.KeyVault("kv", {**REQUIRED["KeyVault"](),
                                    "cluster": pulumi.Output.from_input(handle) if late else handle})
    with pytest.raises((ComponentInputError, ProgramError)) as refused:
        run(program)
    assert "cluster.resource_group_name: '' is invalid; allowed: 1-90 ASCII letters" in str(refused.value)


def test_the_values_of_a_map_that_are_outputs_are_checked_one_by_one():
    """A node selector's values reach pods as they are: a number (Kubernetes refuses it) or an object (the SDK's
    "While processing input" AssertionError) is refused in the component's words, the key quoted as the caller
    wrote it (a label key holds dots and slashes; through the provider a dotted path camel-cased OLLAMA_HOST)."""
    key = "kubernetes.azure.com/agentpool"
    for value, why in ((5, "expects a string, got int 5"), ({"x": 1}, "expects a string, got dict {'x': 1}")):
        message = stops_with("OllamaServer", lambda: {**REQUIRED["OllamaServer"](), "cluster": {
            **cluster_handle(), "cpu_node_selector": {key: pulumi.Output.from_input(value)}}})
        assert message == f"OllamaServer late: cluster.cpu_node_selector['{key}']: {why}"


def test_a_secret_of_the_wrong_type_is_refused_without_its_value():
    """The message reaches the console and CI logs: a secret's value stays out of it, its type does not."""
    url = "postgres://admin:hunter2@db"
    message = stops_with("OpenWebUi", lambda: {**REQUIRED["OpenWebUi"](), "database_url_secret": pulumi.Output.secret([url])})
    assert message == ("OpenWebUi late: database_url_secret: expects a string, got a list (a secret: its value is not "
                       "shown)")


def test_a_secret_refused_by_a_fields_rule_is_not_shown_in_the_rules_example():
    """A mirror registry's rule suggests the value corrected ("(e.g. user:hunter2@mirror.example.com)", its scheme
    dropped): for a secret, the example would show it all the same."""
    message = stops_with("GpuNodePool", lambda: {**REQUIRED["GpuNodePool"](), "cluster": {
        **cluster_handle(), "image_registry": pulumi.Output.secret("https://user:hunter2@mirror.example.com/")}})
    assert message == ("GpuNodePool late: cluster.image_registry: a secret (its value is not shown) is invalid; "
                       "allowed: a registry host without a scheme")


def test_a_late_rules_check_makes_no_new_late_checks_when_it_runs():
    """late_rules runs the early checks again once a handle resolves; the other inputs' outputs have their late
    checks already: making them again inside the apply checked (and refused) each twice, and grew the list a
    component provider's Construct awaits while it was being awaited."""
    from llmplatform.checks import CONSTRUCT_CHECKS
    made: list[Any] = []

    def program() -> None:
        CONSTRUCT_CHECKS.set(made)
        args = {**REQUIRED["LlmdStack"](), "gpu": pulumi.Output.from_input(GPU),
                "key_vault": pulumi.Output.from_input(VAULT)}
        llmplatform.LlmdStack("made", args, provider_opts())
        made.append(len(made))  # how many the component made while it was built
    run(program)
    assert made and made[-1] == len(made) - 1, "checks were made once the handles resolved"


def test_a_model_store_group_given_as_an_output_that_resolves_to_nothing_is_the_clusters():
    """`resource_group_name=ref.get_output("group")` of a stack without it: the store goes to the cluster's group, as
    when it is left out (the volume handle joined None and stopped with a TypeError)."""
    def program() -> None:
        args = {**REQUIRED["ModelStore"](), "resource_group_name": pulumi.Output.from_input(None)}
        llmplatform.ModelStore("store", args, provider_opts())
    plan = run(program)
    assert plan.one("azure-native:storage:StorageAccount").inputs["resourceGroupName"] == cluster_handle()[
        "resource_group_name"]
    assert plan.one("kubernetes:core/v1:PersistentVolume").inputs["spec"]["csi"]["volumeHandle"].startswith(
        f"{cluster_handle()['resource_group_name']}#")


WORKSPACE = "/subscriptions/s/resourceGroups/rg-test/providers/Microsoft.OperationalInsights/workspaces/log-test"
REGISTRY_ID = ("/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-test/providers/"
               "Microsoft.ContainerRegistry/registries/mirrortest")
MONITORING = {"log_analytics_workspace_id": WORKSPACE, "monitor_workspace_id": "/amw/test", "action_group_id": ""}
ORIGIN = {"name": "weu", "host": "weu.llm.example.com"}

# (component, other inputs, the input's path, a value it takes, the resource that reads it (named after the
# component's "late"), what the refusal asks for)
PRESENT = [
    ("AksCluster", {}, "log_analytics_workspace_id", WORKSPACE, "late-aks", "a Log Analytics workspace ID"),
    ("AksCluster", {"defender": True}, "log_analytics_workspace_id", WORKSPACE, "late-aks",
     "a Log Analytics workspace ID"),
    ("AksCluster", {"image_registry": "mirrortest.azurecr.io"}, "image_registry_id", REGISTRY_ID, "late-acr-pull",
     "a container registry ID"),
    ("AksCluster", {}, "vnet_name", "vnet-given", "late-vnet", "a VNet name"),
    ("ModelStore", {}, "log_analytics_workspace_id", WORKSPACE, "late-diagnostics", "a Log Analytics workspace ID"),
    ("ModelStore", {"models": ["llama3.2:1b"]}, "preload_node_selector", {"pool": "cpu"}, "late-preload",
     "a node selector"),
    ("KeyVault", {}, "log_analytics_workspace_id", WORKSPACE, "late-diagnostics", "a Log Analytics workspace ID"),
    ("KeyVault", {}, "tenant_id", "11111111-1111-1111-1111-111111111111", "late-vault", "a tenant ID"),
    ("PostgresServer", {}, "log_analytics_workspace_id", WORKSPACE, "late-diagnostics",
     "a Log Analytics workspace ID"),
    ("GatewayAccess", {"external": True}, "front_door_id", "33333333-3333-3333-3333-333333333333",
     "late-front-door-only", 'a Front Door ID ("" until it is known)'),
    ("InferenceStack", {}, "database_url_secret", "db-url", "late-webui-secrets", "a Key Vault secret name"),
    ("InferenceStack", {"webui_enabled": True}, "database_url_secret", "db-url", "late-webui-secrets",
     "a Key Vault secret name"),
    ("Observability", {"monitoring": MONITORING}, "postgres_server_id", "/subscriptions/s/psql-test",
     "late-postgres-storage", "a PostgreSQL server ID"),
    ("OpenWebUi", {}, "namespace", "ui", "late-webui-uploads", "a namespace"),
    ("GlobalEndpoint", {}, "origins[0].llmd_port", 8000, "late-llmd-weu", "a port"),
    ("GlobalEndpoint", {"api_keys": ["edge"]}, "origins[0].key_vault_name", "kv-weu", "late-weu-api-key-map",
     "a Key Vault name"),
]


def given(name: str, extra: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """The component's required inputs with `extra`, and `path` (an input, or a field of the first origin) given as
    an output of `value`."""
    args = {**REQUIRED[name](), **extra}
    if path.startswith("origins[0]."):
        vault = {"key_vault_name": "kv-weu", "key_vault_resource_group": RG} if "api_keys" in extra else {}
        args["origins"] = [{**ORIGIN, **vault, path.split(".", 1)[1]: pulumi.Output.from_input(value)}]
    else:
        args[path] = pulumi.Output.from_input(value)
    return args


def registered(name: str, args: Callable[[], dict[str, Any]]) -> tuple[Any, list[Any]]:
    """The plan of the component on `args` (None when it stops, with its message), and what it registered."""
    component = getattr(llmplatform, name)
    monitor: list[Any] = []

    def program() -> None:
        monitor.append(pulumi.runtime.settings.SETTINGS.monitor)
        component("late", args(), provider_opts() if name in IN_CLUSTER else None)
    try:
        return run(program), monitor[0].registrations
    except ProgramError as error:
        assert "Traceback" not in str(error) and "While processing" not in str(error)
        return str(error), monitor[0].registrations


@pytest.mark.parametrize("name, extra, path, value, reader, wanted", PRESENT,
                         ids=[f"{c[0]}-{c[2].rsplit('.', 1)[-1]}{'-' + next(iter(c[1])) if c[1] else ''}"
                              for c in PRESENT])
def test_an_input_whose_presence_decides_what_is_built_is_refused_when_it_resolves_to_nothing(
        name, extra, path, value, reader, wanted):
    """Given as an output, the input is there when the component builds, so it builds what the input turns on (a
    diagnostic setting, Container Insights, a Front Door policy, Open-WebUI) with no value: Azure refused that at
    deploy time, or it silently did something else (pods on any node, a gateway serving nothing). Refused in the
    words of the component it was given to (InferenceStack's database URL was refused by OpenWebUi, an OpenWebUi
    namespace by WorkloadIdentity), and what reads it is never registered."""
    plan, resources = registered(name, lambda: given(name, extra, path, value))
    assert not isinstance(plan, str), plan
    assert reader in {r.name for r in resources}, "the value given builds what reads it"
    message, resources = registered(name, lambda: given(name, extra, path, None))
    assert message == f"{name} late: {path}: resolved to nothing; give {wanted}, or leave it out"
    assert reader not in {r.name for r in resources}


# (component, other inputs, the input's path, an empty value of it, what that value does given plainly: "refused" by
# the component's rules, built as if it were "left out" (`if args.get(key)`), or built from as a "value")
EMPTY = [
    ("AksCluster", {}, "log_analytics_workspace_id", "", "left out"),
    ("AksCluster", {"defender": True}, "log_analytics_workspace_id", "", "refused"),
    ("AksCluster", {"image_registry": "mirrortest.azurecr.io"}, "image_registry_id", "", "refused"),
    ("AksCluster", {}, "vnet_name", "", "refused"),
    ("AksCluster", {}, "kubernetes_version", "", "refused"),
    ("AksCluster", {}, "resource_group_name", "", "refused"),  # a required input
    ("ModelStore", {}, "log_analytics_workspace_id", "", "left out"),
    ("ModelStore", {"models": ["llama3.2:1b"]}, "preload_node_selector", {}, "left out"),
    ("ModelStore", {}, "resource_group_name", "", "refused"),
    ("KeyVault", {}, "log_analytics_workspace_id", "", "left out"),
    ("KeyVault", {}, "tenant_id", "", "refused"),
    ("PostgresServer", {}, "log_analytics_workspace_id", "", "left out"),
    ("GatewayAccess", {"external": True}, "front_door_id", "", "value"),
    ("InferenceStack", {}, "database_url_secret", "", "refused"),
    ("InferenceStack", {"webui_enabled": True}, "database_url_secret", "", "refused"),
    ("Observability", {"monitoring": MONITORING}, "postgres_server_id", "", "left out"),
    ("OpenWebUi", {}, "namespace", "", "left out"),
    ("LlmdStack", {}, "prometheus_url", "", "left out"),  # its presence turns the monitors on (metrics' default)
    ("GlobalEndpoint", {}, "origins[0].llmd_port", 0, "refused"),
    ("GlobalEndpoint", {"api_keys": ["edge"]}, "origins[0].key_vault_name", "", "refused"),
    ("GlobalEndpoint", {"api_keys": ["edge"]}, "origins[0].key_vault_resource_group", "", "refused"),
]
LEFT_OUT = object()


def plainly(name: str, extra: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """`given`'s inputs with `path` given as the plain `value`, or left out (LEFT_OUT)."""
    args = given(name, extra, path, None)
    target = args["origins"][0] if path.startswith("origins[0].") else args
    key = path.rsplit(".", 1)[-1]
    del target[key]
    if value is not LEFT_OUT:
        target[key] = value
    return args


def outcome(name: str, args: Callable[[], dict[str, Any]]) -> Any:
    """What the component does with `args`: its plan (each resource's URN and inputs), or the sentence it stops with,
    early or late."""
    component = getattr(llmplatform, name)
    try:
        plan = run(lambda: component("late", args(), provider_opts() if name in IN_CLUSTER else None))
    except (ComponentInputError, ProgramError) as error:
        assert "Traceback" not in str(error) and "While processing" not in str(error)
        return str(error)
    return sorted(((r.urn, r.inputs) for r in plan.resources), key=lambda r: r[0])


@pytest.mark.parametrize("name, extra, path, empty, plain", EMPTY,
                         ids=[f"{c[0]}-{c[2].rsplit('.', 1)[-1]}{'-' + next(iter(c[1])) if c[1] else ''}"
                              for c in EMPTY])
def test_an_empty_value_given_as_an_output_ends_as_the_same_value_given_plainly(name, extra, path, empty, plain):
    """An output that resolves to "" (a stack reference's output set empty, another language's value) was built
    from as given where the plain "" was refused by a rule (a VNet named "", a tenant "", a port 0) or taken as left
    out (diagnostic settings sending to no workspace, a preload Job on any node, Open-WebUI in the namespace ""). It
    ends as the plain one: refused once it resolves in the rule's words, or, where the plain one is left out, refused
    as empty (the component built as if given: it cannot be left out now), and nothing the plain one does not build
    is registered. GatewayAccess's front_door_id "" is a value (it serves nothing until the ID is known)."""
    from llmplatform.checks import PRESENCE_DECIDES
    early = outcome(name, lambda: plainly(name, extra, path, empty))
    late = outcome(name, lambda: given(name, extra, path, empty))
    if plain == "refused":
        assert isinstance(early, str) and early.startswith(f"{name} late: "), early
        assert late == early
        return
    assert not isinstance(early, str), early
    left_out = outcome(name, lambda: plainly(name, extra, path, LEFT_OUT))
    assert (early == left_out) is (plain == "left out")
    spec = "RegionalOrigin" if path.startswith("origins[0].") else args_type(getattr(llmplatform, name)).__name__
    wanted = PRESENCE_DECIDES.get(spec, {}).get(path.rsplit(".", 1)[-1])
    if plain == "value" or wanted is None:  # built from as given, or a value whose presence decides nothing
        assert late == early
        return
    assert late == f"{name} late: {path}: resolved to an empty value ({empty!r}); give {wanted}, or leave it out"
    _, resources = registered(name, lambda: given(name, extra, path, empty))
    assert {r.name for r in resources} <= {urn.rsplit("::", 1)[-1] for urn, _ in early}


def test_every_optional_input_that_may_be_an_output_is_classed_by_whether_its_presence_decides():
    """An optional input the component decides from when the program runs (`if args.get(key)`) is listed in
    checks.PRESENCE_DECIDES; the others pass nothing on as nothing (the default). A new one is classed here."""
    from llmplatform.checks import PRESENCE_DECIDES
    from llmplatform.checks.annotations import _output_allowed
    passes_on = {("AksClusterArgs", "kubernetes_version"),  # None: AKS's default version
                 ("ModelStoreArgs", "resource_group_name"),  # None: the cluster's group, once known
                 # None: the UI's Jobs and pods named as with no database (open_webui.database_marks)
                 ("OpenWebUiArgs", "database_name"), ("InferenceStackArgs", "database_name")}
    found: set[tuple[str, str]] = set()

    def walk(spec: Any) -> None:
        for key, annotation in spec.__annotations__.items():
            inner, _ = _typeddict_of(annotation)
            if inner is not None and not handed_out(inner):
                walk(inner)
            elif inner is None and key in spec.__optional_keys__ and _output_allowed(annotation):
                found.add((spec.__name__, key))
    for component in llmplatform.all_components():
        walk(args_type(component))
    decides = {(spec, key) for spec, keys in PRESENCE_DECIDES.items() for key in keys}
    assert decides | passes_on == found and not decides & passes_on


# (component, other inputs, the input's path, a value the component's rules refuse, one they take, the refusal's
# start): inputs, a spec's field, an item's field, a required input, a value against another input. (A
# ModelAutoscaler takes no input as an output: its bounds are plain values, an Output of one is refused early.)
ADMINS = {"object_id": "22222222-2222-2222-2222-222222222222", "display_name": "admins"}
OTHER_REGISTRY_ID = REGISTRY_ID.replace("/mirrortest", "/otherregistry")
REFUSED = [
    ("KeyVault", {}, "tenant_id", "abc", "11111111-1111-1111-1111-111111111111",
     "input tenant_id='abc' is invalid; allowed: an Entra object id (GUID)"),
    ("AksCluster", {}, "vnet_name", "v" * 200, "vnet-given", "input vnet_name='vvvv"),
    ("AksCluster", {}, "kubernetes_version", "latest", "1.33", "input kubernetes_version='latest' is invalid"),
    ("AksCluster", {"image_registry": "mirrortest.azurecr.io"}, "image_registry_id", OTHER_REGISTRY_ID, REGISTRY_ID,
     "input image_registry_id='/subscriptions/"),
    ("GatewayAccess", {"external": True}, "front_door_id", "fd-profile", "33333333-3333-3333-3333-333333333333",
     "input front_door_id='fd-profile' is invalid; allowed: the Front Door profile's ID (a GUID)"),
    ("GlobalEndpoint", {"origins": [ORIGIN]}, "origins[0].llmd_port", 70000, 8000,
     "input origins[0].llmd_port=70000 is invalid; allowed: a whole number from 1 to 65535"),
    ("PostgresServer", {}, "server_name", "PSQL_Bad", "psql-good-1", "input server_name='PSQL_Bad' is invalid"),
    ("PostgresServer", {"entra_admin_group": ADMINS}, "entra_admin_group.object_id", "admins", ADMINS["object_id"],
     "input entra_admin_group.object_id='admins' is invalid; allowed: an Entra object id (GUID)"),
    ("ModelStore", {}, "account_name", "Models-Store!", "stgood1", "input account_name='Models-Store!' is invalid"),
]


def at(name: str, extra: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """The component's required inputs with `extra`, and `value` at `path` (an input, or a field of a spec in them)."""
    args = {**REQUIRED[name](), **extra}
    *outer, last = [int(step) if step.isdigit() else step for step in re.split(r"\.|\[|\]\.?", path) if step]
    target: Any = args
    for step in outer:
        target[step] = target[step].copy()
        target = target[step]
    target[last] = value
    return args


def refusal(name: str, args: Callable[[], dict[str, Any]]) -> tuple[str, type]:
    """The sentence the component stops with on `args`, and the error's type (early: ComponentInputError, late: the
    LateInputError the offline runner reports as a ProgramError)."""
    component = getattr(llmplatform, name)
    with pytest.raises((ComponentInputError, ProgramError)) as error:
        run(lambda: component("late", args(), provider_opts() if name in IN_CLUSTER else None))
    assert "Traceback" not in str(error.value) and "While processing" not in str(error.value)
    return str(error.value), type(error.value)


@pytest.mark.parametrize("name, extra, path, bad, good, words", REFUSED,
                         ids=[f"{c[0]}-{c[2].rsplit('.', 1)[-1]}" for c in REFUSED])
def test_a_value_the_rules_refuse_given_as_an_output_is_refused_in_their_words_once_it_resolves(
        name, extra, path, bad, good, words):
    """A KeyVault tenant "abc", a VNet name of 200 characters, a port 70000 from an output (a stack reference's,
    another resource's, another language's value through the component provider) skipped the rules and was built:
    Azure refused it at deploy time in its own words, where the plain value is refused by name before anything
    registers. The rules run again once it resolves and refuse it in the same words, as a LateInputError."""
    early, early_type = refusal(name, lambda: at(name, extra, path, bad))
    late, late_type = refusal(name, lambda: at(name, extra, path, pulumi.Output.from_input(bad)))
    assert early_type is ComponentInputError and late_type is ProgramError, (early, late)
    assert late == early and late.startswith(f"{name} late: {words}"), late


@pytest.mark.parametrize("name, extra, path, bad, good, words", REFUSED,
                         ids=[f"{c[0]}-{c[2].rsplit('.', 1)[-1]}" for c in REFUSED])
def test_a_value_the_rules_take_given_as_an_output_plans_as_given_plainly(name, extra, path, bad, good, words):
    plan = outcome(name, lambda: at(name, extra, path, good))
    assert not isinstance(plan, str), plan
    assert outcome(name, lambda: at(name, extra, path, pulumi.Output.from_input(good))) == plan


@pytest.mark.parametrize("extra, path, value, why", [
    ({}, "tenant_id", "hunter2-tenant", "an Entra object id (GUID)"),
    ({"image_registry": "mirrortest.azurecr.io"}, "image_registry_id", OTHER_REGISTRY_ID,
     "the id of the registry image_registry names ('mirrortest'), not a secret"),  # a part of the value
], ids=["tenant", "registry-id"])
def test_a_secret_the_rules_refuse_is_refused_without_its_value(extra, path, value, why):
    """A stack reference's output is often secret: the refusal reaches the console and CI logs without its value,
    named by its path as the late shape checks name theirs, nor any part of it the rule quotes."""
    name = "KeyVault" if path == "tenant_id" else "AksCluster"
    message, kind = refusal(name, lambda: at(name, extra, path, pulumi.Output.secret(value)))
    assert kind is ProgramError, message
    assert message == f"{name} late: {path}: a secret (its value is not shown) is invalid; allowed: {why}"
    assert "hunter2" not in message and "otherregistry" not in message
