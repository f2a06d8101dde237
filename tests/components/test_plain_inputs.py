"""Which inputs a component reads when the program runs, and which it passes on as outputs.

An input annotated `pulumi.Input[...]` must build the same resources whether it is given plain or as an output (the
component passes it on, or checks it once it resolves). One annotated as a plain value, a spec's field too (a pool's
priority, a member's name), is read when the program runs: given as an output it is refused, naming its path; the
component provider hands such a field over plain (`plain` in the schema, tests/components/test_provider.py)."""
import copy
import json
from typing import Any, Iterator

import pulumi
import pytest

import llmplatform
from llmplatform import ComponentInputError
from llmplatform.checks import handed_out
from llmplatform.checks.annotations import _container_item, _output_allowed, _typeddict_of
from llmplatform.checks.plain_values import _plain_kinds, _read_items
from llmplatform.testing import run
from offline import runner as offline

from tests.components.test_components_alone import IN_CLUSTER, REQUIRED, args_type, cluster_handle, provider_opts
from tests.conftest import VARIANTS, variant

# An example of each optional spec, beside REQUIRED (which gives the required ones): every spec is exercised
SPECS: dict[str, dict[str, Any]] = {
    "AksCluster": {"maintenance_window": {"day_of_week": "Sunday", "start_time": "02:00", "duration_hours": 4,
                                          "utc_offset": "+00:00"},
                   "system_pool": {"name": "system", "vm_size": "Standard_D2s_v5", "min_count": 1, "max_count": 2,
                                   "os_disk_size_gb": 128, "max_pods": 50},
                   "workload_pool": {"name": "cpu", "vm_size": "Standard_D4s_v5", "min_count": 1, "max_count": 3,
                                     "os_disk_size_gb": 128, "max_pods": 50, "priority": "spot"}},
    "GpuNodePool": {"vm_size": "Standard_NC24ads_A100_v4",
                    "gpu_sku": {"gpu_model": "A100", "gpus": 1, "gpu_memory_gib": 80, "rdma": False},
                    "fallback": {"enabled": True, "min_count": 0, "max_count": 1}},
    "InferenceStack": {"resources": {"cpu_request": "1", "memory_request": "4Gi", "memory_limit": "8Gi",
                                     "cpu_limit": "2"},
                       "webui_resources": {"cpu_request": "1", "memory_request": "1Gi", "memory_limit": "2Gi",
                                           "cpu_limit": "2"}},
    "OllamaServer": {"resources": {"cpu_request": "1", "memory_request": "4Gi", "memory_limit": "8Gi",
                                   "cpu_limit": "2"}},
    "GlobalEndpoint": {"origins": [{"name": "weu", "host": "weu.llm.example.com", "ui_port": 80, "api_port": 8080,
                                    "priority": 1}],
                       "waf_exclusions": [{"match_variable": "RequestBodyJsonArgNames", "operator": "Equals",
                                           "selector": "messages.content", "rule_group": "SQLI",
                                           "rule_id": "942100"}],
                       "waf_rule_overrides": [{"rule_group": "SQLI", "rule_id": "942110", "action": "Log",
                                               "enabled": True}]},
    "Observability": {"alert_receiver": {"kind": "msteams", "secret": "alerts-teams-url"}},
}


def plain_spec_fields(value: Any, annotation: Any, path: str = "") -> Iterator[str]:
    """The paths in `value` of fields of specs (not handles: their fields may be outputs) annotated as plain values."""
    inner, is_list = _typeddict_of(annotation)
    if inner is None or handed_out(inner) is not None:
        return
    for i, item in enumerate(value if is_list else [value]):
        where = f"{path}[{i}]" if is_list else path
        for key, field in inner.__annotations__.items():
            if key not in item:
                continue
            nested = f"{where}.{key}" if where else key
            if _typeddict_of(field)[0] is not None:
                yield from plain_spec_fields(item[key], field, nested)
            elif where and not _plain_kinds(field)[1]:
                yield nested


def given_as_output(args: dict[str, Any], path: str) -> None:
    """Replace the value at `path` (`a.b[0].c`) by an output of it."""
    keys = path.replace("[", ".[").split(".")
    node: Any = args
    for key in keys[:-1]:
        node = node[int(key[1:-1])] if key.startswith("[") else node[key]
    node[keys[-1]] = pulumi.Output.from_input(node[keys[-1]])


def full_args(component: str) -> dict[str, Any]:
    args = {**REQUIRED[component](), **copy.deepcopy(SPECS.get(component, {}))}
    if component == "GpuNodePool":  # a fallback pool needs the priority expander
        args["cluster"] = cluster_handle(expander="priority")
    return args


def build(component: str, args: dict[str, Any]) -> None:
    getattr(llmplatform, component)("c", args, provider_opts() if component in IN_CLUSTER else None)


def test_every_spec_with_plain_fields_has_an_example():
    """A spec added without an example here would have its fields' refusal untested."""
    def specs_in(annotation: Any, seen: set[str]) -> None:
        inner, _ = _typeddict_of(annotation)
        if inner is None or handed_out(inner) is not None or inner.__name__ in seen:
            return
        seen.add(inner.__name__)
        for field in inner.__annotations__.values():
            specs_in(field, seen)
    declared: set[str] = set()
    for component in llmplatform.all_components():
        for field in args_type(component).__annotations__.values():
            specs_in(field, declared)
    exercised: set[str] = set()
    for name in REQUIRED:
        for key, value in full_args(name).items():
            field = args_type(getattr(llmplatform, name)).__annotations__[key]
            if list(plain_spec_fields({key: value}, args_type(getattr(llmplatform, name)))):
                exercised.add(_typeddict_of(field)[0].__name__)
    with_plain = {s for s in declared if any(not _plain_kinds(f)[1] and _typeddict_of(f)[0] is None
                                             for f in getattr(llmplatform, s).__annotations__.values())}
    assert with_plain - exercised == set(), "give an example of these specs in SPECS"


@pytest.mark.parametrize("component", sorted(REQUIRED))
def test_a_specs_plain_field_given_as_an_output_is_refused_naming_its_path(component):
    """`priority=Output("spot")` built a regular pool (an output is not "spot"); every such field is refused at once
    (the component's first check, before it registers anything), in one message naming each path."""
    args = full_args(component)
    paths = sorted(plain_spec_fields(args, args_type(getattr(llmplatform, component))))
    if not paths:
        return

    def program() -> None:
        given = copy.deepcopy(args)
        for path in paths:
            given_as_output(given, path)
        build(component, given)
    with pytest.raises(ComponentInputError) as refused:
        run(program)
    problems = refused.value.errors or []
    assert sorted(e["property_path"] for e in problems) == paths, str(refused.value)
    assert all(e["reason"].startswith("must be a plain value known when the program runs") for e in problems), \
        str(refused.value)
    assert str(refused.value).startswith(f"{component} c: ")


@pytest.mark.parametrize("component", sorted(SPECS))
def test_the_examples_written_plain_build(component):
    """The examples above are valid: written plain, each component builds from them (so the refusals above are the
    outputs', not the values')."""
    assert run(lambda: build(component, full_args(component))).resources


# ---- every Input given as an output: the same plan ---------------------------------------------------------------
def outputs_for_inputs(value: Any, annotation: Any) -> Any:
    """`value` with every field annotated pulumi.Input (a spec's and a handle's too) given as an output of itself,
    and every item of a list or map whose items are annotated pulumi.Input (tags, alert e-mails) as one of its own."""
    if value is None or isinstance(value, (pulumi.Output, pulumi.Resource)):
        return value
    inner, is_list = _typeddict_of(annotation)
    if inner is not None and isinstance(value, dict) and not is_list:
        fields = inner.__annotations__
        return {k: outputs_for_inputs(v, fields[k]) if k in fields else v for k, v in value.items()}
    if inner is not None and is_list and isinstance(value, list):
        return [outputs_for_inputs(v, inner) for v in value]
    if _output_allowed(annotation):
        return pulumi.Output.from_input(value)
    if isinstance(value, list) and _output_allowed(_container_item(annotation, list)):
        return [pulumi.Output.from_input(v) for v in value]
    if isinstance(value, dict) and _output_allowed(_container_item(annotation, dict)):
        return {k: pulumi.Output.from_input(v) for k, v in value.items()}
    return value


@pytest.mark.parametrize("name", ["prod", "llmd-pd"])
def test_every_input_given_as_an_output_plans_the_same(name, monkeypatch):
    """Each stack program again, every component given each pulumi.Input of its inputs as an output (as another
    language's program or a stack reference gives them): the same resources with the same inputs. A component that
    read one when the program runs would build something else from an output."""
    for component in llmplatform.all_components():
        original = component.__init__

        def init(self, name, args, opts=None, __original=original, **kw):  # type: ignore[no-untyped-def]
            __original(self, name, outputs_for_inputs(args, __original.__annotations__["args"]), opts, **kw)
        monkeypatch.setattr(component, "__init__", init)
    stack, overrides = VARIANTS[name]
    given_outputs = offline.run(stack, overrides)
    plain = {r.urn: json.dumps(r.inputs, sort_keys=True) for r in variant(name).resources}
    outputs = {r.urn: json.dumps(r.inputs, sort_keys=True) for r in given_outputs.resources}
    assert sorted(set(plain) ^ set(outputs)) == []
    assert [urn for urn in plain if plain[urn] != outputs[urn]] == []


def spec_lists(component: str) -> list[str]:
    """The inputs of `component` that are lists of specs written in the program (one origin, one member each)."""
    fields = args_type(getattr(llmplatform, component)).__annotations__
    return sorted(key for key, field in fields.items()
                  if _typeddict_of(field)[1] and handed_out(_typeddict_of(field)[0]) is None
                  and not _output_allowed(field))


@pytest.mark.parametrize("component", sorted(c for c in REQUIRED if spec_lists(c)))
def test_an_item_of_a_list_of_specs_given_as_an_output_is_refused_naming_its_path(component):
    """`members=[ref.get_output("member")]`: the component names a resource after each item's name, which an output
    hides (a fleet member was named "fleet-Calling __str__ on an Output[T]...", an origin raised a TypeError):
    refused by path, as the whole list given as an output is."""
    args = full_args(component)
    keys = spec_lists(component)

    def program() -> None:
        given = copy.deepcopy(args)
        for key in keys:
            given[key] = [pulumi.Output.from_input(given[key][0]), *given[key][1:]]
        build(component, given)
    with pytest.raises(ComponentInputError) as refused:
        run(program)
    problems = refused.value.errors or []
    assert sorted(e["property_path"] for e in problems) == [f"{key}[0]" for key in keys], str(refused.value)
    assert all(e["reason"].startswith("must be an object written in the program, not an Output") for e in problems)


# ---- items of a list or map the component reads ------------------------------------------------------------------
FRONT_DOOR_ID = "33333333-3333-3333-3333-333333333333"
# (component, other inputs, the list or map input, a value the component takes): every input whose items the
# component reads when the program runs (joins, validates, names resources after: `checks.plain_values._read_items`)
READ_ITEMS: list[tuple[str, dict[str, Any], str, Any]] = [
    ("AksCluster", {}, "zones", ["1", "2"]),
    ("GpuNodePool", {}, "zones", ["1"]),
    ("ModelStore", {}, "models", ["llama3.1:8b", "qwen2.5:7b"]),
    ("ModelStore", {"models": ["llama3.1:8b"]}, "model_sizes_gib", {"llama3.1:8b": 4.9}),
    ("ApiGate", {}, "allowed_paths", ["/v1/chat/completions", "/v1/models"]),
    ("ApiGate", {}, "client_namespaces", ["team-b"]),
    ("GatewayAccess", {}, "allowed_service_tags", ["AzureFrontDoor.Backend"]),
    ("GatewayAccess", {"front_door_id": FRONT_DOOR_ID}, "front_door_probe_paths", ["/healthz"]),
    ("InferenceStack", {}, "webui_extra_env", {"WEBUI_NAME": "Team LLM"}),
    ("InferenceStack", {}, "api_client_namespaces", ["team-b"]),
    ("InferenceStack", {}, "webui_client_namespaces", ["ingress-nginx"]),
    ("OpenWebUi", {}, "client_namespaces", ["ingress-nginx"]),
    ("InferenceStack", {}, "webui_secret_env", {"OAUTH_CLIENT_SECRET": "oauth-client-secret"}),
    ("LlmdStack", {}, "extra_args", ["--max-num-seqs=64"]),
    ("LlmdStack", {}, "extra_env", {"VLLM_LOGGING_LEVEL": "DEBUG"}),
    ("LlmdStack", {}, "client_namespaces", ["team-b"]),
    ("OllamaServer", {}, "extra_env", {"OLLAMA_DEBUG": "1"}),
    ("Observability", {}, "other_app_namespaces", ["team-b"]),
    ("Observability", {}, "vllm_namespaces", ["llm-d"]),
    ("Observability", {}, "client_namespaces", ["team-b"]),
    ("Observability", {}, "model_server_min_replicas", {"llm": 2}),
    ("OpenWebUi", {}, "extra_env", {"WEBUI_NAME": "Team LLM"}),
    ("OpenWebUi", {}, "secret_env", {"OAUTH_CLIENT_SECRET": "oauth-client-secret"}),
    ("GlobalEndpoint", {"origins": [{"name": "weu", "host": "weu.llm.example.com", "key_vault_name": "kv-weu",
                                     "key_vault_resource_group": "rg-test"}]}, "api_keys", ["team-a"]),
    ("GlobalEndpoint", {"origins": [{"name": "weu", "host": "weu.llm.example.com"}], "location": "westeurope"},
     "log_categories", ["FrontDoorWebApplicationFirewallLog"]),
    ("CostBudget", {}, "actual_percents", [80, 100]),
    ("CostBudget", {}, "forecast_percents", [100]),
]
READ_IDS = [f"{c[0]}-{c[2]}" for c in READ_ITEMS]


def test_every_list_or_map_whose_items_are_read_has_a_case():
    """A list or map input annotated with plain items (`list[str]`) is read when the program runs, so an output
    among its items is refused; one whose items go into resources' inputs is annotated `pulumi.Input` items (tags,
    alert e-mails) and takes outputs. A new input of either kind is classed here."""
    read: set[tuple[str, str]] = set()
    for component in llmplatform.all_components():
        for key, field in args_type(component).__annotations__.items():
            if _read_items(field) is not None:
                read.add((component.__name__, key))
    assert read == {(name, key) for name, _, key, _ in READ_ITEMS}


def first_item_as_output(value: Any) -> tuple[Any, str]:
    """`value` (a list or map) with its first item given as an output, and that item's path under the input."""
    if isinstance(value, list):
        return [pulumi.Output.from_input(value[0]), *value[1:]], "[0]"
    key = next(iter(value))
    return {**value, key: pulumi.Output.from_input(value[key])}, f"[{key!r}]"


@pytest.mark.parametrize("component, extra, key, value", READ_ITEMS, ids=READ_IDS)
def test_the_read_examples_written_plain_build(component, extra, key, value):
    """The values above are valid: the refusals below are the outputs'."""
    assert run(lambda: build(component, {**REQUIRED[component](), **extra, key: value})).resources


@pytest.mark.parametrize("component, extra, key, value", READ_ITEMS, ids=READ_IDS)
def test_an_item_of_a_read_list_or_map_given_as_an_output_is_refused_naming_its_path(component, extra, key, value):
    """`models=[Output.from_input("llama3.1:8b")]` stopped with a TypeError from the component's join (a traceback),
    `extra_env={"X": Output}` with "extra_env={'X': <output>} is invalid": the item is refused by its path, alone,
    before anything registers."""
    monitor: list[Any] = []
    where: list[str] = []

    def program() -> None:
        monitor.append(pulumi.runtime.settings.SETTINGS.monitor)
        items, path = first_item_as_output(value)
        where.append(f"{key}{path}")
        build(component, {**REQUIRED[component](), **extra, key: items})
    with pytest.raises(ComponentInputError) as refused:
        run(program)
    kind = {"model_sizes_gib": "a number", "model_server_min_replicas": "a whole number",
            "actual_percents": "a whole number", "forecast_percents": "a whole number"}.get(key, "a string")
    why = f"must be a plain value known when the program runs ({kind}), not an Output"
    assert refused.value.errors == [{"property_path": where[0], "reason": why}], str(refused.value)
    assert str(refused.value) == f"{component} c: {where[0]}: {why}"
    assert [r.type for r in monitor[0].registrations if not r.type.startswith("pulumi:providers:")] == []


def test_an_item_of_a_passed_on_list_or_map_may_be_an_output_and_stays_secret():
    """Tags and alert e-mails go into Azure resources' inputs (their items are annotated pulumi.Input): an item given
    as an output, a secret one too, is passed on as it is, secret in the resources that take it."""
    def program() -> None:
        llmplatform.AzureMonitoring("mon", {**REQUIRED["AzureMonitoring"](), "name_prefix": "mon",
                                            "tags": {"owner": pulumi.Output.secret("team-a")},
                                            "alert_emails": [pulumi.Output.secret("oncall@example.com")]})
    plan = run(program)
    workspace = plan.one("azure-native:operationalinsights:Workspace")
    assert workspace.inputs["tags"] == {"owner": "team-a"} and "tags.owner" in workspace.secret_paths
    group = plan.one("azure-native:monitor:ActionGroup")
    assert group.inputs["emailReceivers"][0]["emailAddress"] == "oncall@example.com"
    assert "emailReceivers[0].emailAddress" in group.secret_paths, group.secret_paths
