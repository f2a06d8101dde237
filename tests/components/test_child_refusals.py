"""A component that builds other components (InferenceStack its OllamaServer, ApiGate and OpenWebUi; those, LlmdStack
and Observability their WorkloadIdentity) refuses a bad input as the user gave it: every refusal raised while it is
built names that component and only its own inputs (its Args keys and paths), never a child's input the user never
gave (`endpoint.base_url`, `namespace`). Release 0.30.1 fixed one case (InferenceStack's `model_volume.namespace`
refused by its ApiGate child); the cases found since, and the search for more, are here (docs/decisions.md,
"Refusals of a component's children named as the parent's input").

The parents are found in the package's source (`constructed_children`), so a component that starts building another
one is searched too. The search: a generator over each parent's inputs and each field of the handles it is given
(values of the field's type, around the bounds the rules use), each value run through the testing kit; and the cases
found, one by one, through the kit and through the component provider as another language's program sends them."""
import ast
import copy
import os
import re
import typing
from collections.abc import Awaitable, Mapping
from pathlib import Path
from typing import Any, Callable, Optional

import grpc
import pulumi
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import llmplatform
from llmplatform import ComponentInputError
from llmplatform.checks import refuse_now
from llmplatform.rules import has_output
from llmplatform.testing import ProgramError, run
from offline import plugin_host
from pulumi.provider.experimental.util import camel_case

from tests.components.test_components_alone import ENDPOINT, GPU, KEDA, REQUIRED, ROUTES, VOLUME, provider_opts
from tests.components.test_newcomer_mistakes import on_the_wire
from tests.strategies import unicode_text

PACKAGE_DIR = Path(llmplatform.__file__).parent
COMPONENTS = set(llmplatform.COMPONENTS)


def constructed_children() -> dict[str, set[str]]:
    """Each component -> the components it constructs, read from the package's source: a call of a component class
    in its class body, or in a package function it calls (by name, through `from .module import name`), and so on."""
    calls: dict[tuple[str, str], set[tuple[str, str]]] = {}
    for path in PACKAGE_DIR.glob("*.py"):  # the components' modules sit at the package's top
        module = path.stem
        tree = ast.parse(path.read_text())
        imported = {alias.asname or alias.name: (node.module or "", alias.name) for node in ast.walk(tree)
                    if isinstance(node, ast.ImportFrom) and node.level == 1 for alias in node.names}
        for top in tree.body:
            if isinstance(top, (ast.FunctionDef, ast.ClassDef)):
                calls[(module, top.name)] = {imported.get(node.func.id, (module, node.func.id))
                                             for node in ast.walk(top)
                                             if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)}
    children: dict[str, set[str]] = {}
    for (module, component) in [key for key in calls if key[1] in COMPONENTS]:
        seen, todo = {(module, component)}, [(module, component)]
        while todo:
            for callee in calls[todo.pop()]:
                if callee[1] in COMPONENTS:
                    if callee[1] != component:
                        children.setdefault(component, set()).add(callee[1])
                elif callee in calls and callee not in seen:
                    seen.add(callee)
                    todo.append(callee)
    return children


# Each parent's inputs that make it build its children (a UI, a bootstrap Job's identity, KEDA, routes, a token):
# the bases the generator changes one input or handle field of
BASES: dict[str, list[dict[str, Any]]] = {
    "InferenceStack": [{}, {"database_url_secret": "db-url", "admin_database_url_secret": "db-admin-url",
                            "keda": dict(KEDA), "route_target": ROUTES},
                       {"database_url_secret": "db-url", "accelerator": "gpu", "gpu": GPU}],
    "ApiGate": [{}, {"route_target": ROUTES}],
    "OpenWebUi": [{"admin_database_url_secret": "db-admin-url"}],
    "LlmdStack": [{"hf_token_secret": "hf-token"}],
    "Observability": [{"alert_receiver": {"kind": "slack", "secret": "alert-webhook"}}],
}


def test_every_component_that_builds_another_is_searched():
    """A new composite, or a component that starts building another, is one the generator must search."""
    assert set(constructed_children()) == set(BASES)
    assert constructed_children()["InferenceStack"] == {"OllamaServer", "ApiGate", "OpenWebUi"}


# ---- the property -----------------------------------------------------------------------------------------------
KIT_REFUSAL = "the real engine or API would refuse this program"  # the kit's, of a whole program: no input refusal


def refusal_of(component: str, given: "dict[str, Any] | Callable[[], dict[str, Any]]") -> Optional[Exception]:
    """What building `component` from the inputs `given` (or made by it in the program, outputs among them) raised,
    when built and once its outputs resolved (in the kit: a late refusal stops the program)."""
    raised: list[Exception] = []

    def program() -> None:
        opts = provider_opts()
        inputs = given() if callable(given) else given
        try:
            built = getattr(llmplatform, component)("mistake", inputs, opts)
        except Exception as error:  # noqa: BLE001 - the assertion says which kind
            raised.append(error)
            return
        if component == "InferenceStack" and inputs.get("keda"):  # requests through KEDA need their route
            # the user's autoscaler, given the stack's handle unless a field of it is an output (then KEDA's own: the
            # autoscaler's late check of the same field would race the stack's, in the autoscaler's words)
            keda = inputs["keda"] if not has_output(inputs["keda"]) else dict(KEDA)
            llmplatform.ModelAutoscaler("scaler", {"model_server": built.model_server, "mode": "requests",
                                                   "min_replicas": 0, "max_replicas": 2, "keda": keda}, opts)
    try:
        run(program)
    except Exception as error:  # noqa: BLE001
        raised.append(error)
    return raised[0] if raised else None


def assert_named_as_its_own(component: str, error: Optional[Exception]) -> None:
    """The property: a refusal while `component` is built names it and its own inputs, with no traceback."""
    if error is None or (isinstance(error, ProgramError) and KIT_REFUSAL in str(error)):
        return
    text = str(error)
    assert isinstance(error, (ComponentInputError, ProgramError)), repr(error)
    assert "Traceback" not in text, text
    assert text.startswith(f"{component} mistake: "), text  # not `ApiGate mistake: ...`, `WorkloadIdentity mistake-...`
    others = sorted(COMPONENTS - {component})
    assert not re.search(rf"\b({'|'.join(others)}) mistake", text), text
    own = set(_fields(getattr(llmplatform, f"{component}Args")))
    if isinstance(error, ComponentInputError):
        heads = {re.split(r"[.\[]", e["property_path"])[0] for e in error.errors or []}
        assert heads <= own, (heads - own, text)
    else:  # a late refusal: `input <path>=...` (the component's rules) or `<path>: ...` (the late shape check)
        path = re.match(r"(?:input )?([A-Za-z_][\w.\[\]'-]*)(?:=|: )", text[len(f"{component} mistake: "):])
        assert path is None or re.split(r"[.\[]", path[1])[0] in own, text


# ---- the generator: each input, and each field of each handle, given values of its type ---------------------------
EDGE_TEXTS = ["", "a", "A", "Upper", "max_count", "a.b", "a-", "-a", "1a", "a_b", "a b", "kube-system", "default",
              "9", "x" * 41, "x" * 63, "x" * 64, "y" * 254, "http://x:1", "https://h", "gpu", "cpu", "ollama", "router"]
EDGE_NUMBERS = [-1, 0, 1, 2, 8, 9, 20, 21, 50, 51, 64, 65, 100, 101, 256, 257, 1000, 1001, 65535, 65536, 86400,
                86401, 100000, 100001]


def _unwrapped(annotation: Any) -> Any:
    """An Args or handle field's type through NotRequired, Optional and pulumi.Input."""
    while True:
        origin, args = typing.get_origin(annotation), typing.get_args(annotation)
        if origin in (typing.NotRequired, typing.Required):
            annotation = args[0]
        elif origin is typing.Union:
            inner = [a for a in args if a is not type(None) and not isinstance(a, typing.ForwardRef)
                     and typing.get_origin(a) is not Awaitable]
            if len(inner) != 1:
                return annotation
            annotation = inner[0]
        else:
            return annotation


def _fields(spec: type) -> dict[str, Any]:
    return {k: _unwrapped(v) for klass in reversed(spec.__mro__) for k, v in getattr(klass, "__annotations__",
                                                                                     {}).items()}


def values_of(annotation: Any) -> st.SearchStrategy[Any]:
    """Values of a field's type, the edges the rules draw first."""
    if annotation is bool:
        return st.booleans()
    if annotation is int:
        return st.one_of(st.sampled_from(EDGE_NUMBERS), st.integers(-5, 200000))
    if annotation is float:
        return st.one_of(st.sampled_from([-1.0, 0.0, 0.5, 1.0, 100.0]), st.floats(-10, 5000, allow_nan=False))
    if annotation is str:
        return st.one_of(st.sampled_from(EDGE_TEXTS), st.from_regex(r"[a-z0-9][a-z0-9.-]{0,70}", fullmatch=True),
                         unicode_text(max_size=12))
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    items = values_of(_unwrapped(args[-1])) if args else st.nothing()
    if origin is list and not items.is_empty:  # a list of specs (tolerations): left to their own tests
        return st.lists(items, max_size=3)
    if origin in (dict, Mapping) and not items.is_empty:
        return st.dictionaries(st.sampled_from(["PORT", "HOME", "X", "lower", "A B", "UVICORN_WORKERS",
                                                "llm-platform/pool", "max_count"]), items, max_size=2)
    return st.nothing()


@st.composite
def changed_inputs(draw: st.DrawFn, component: str) -> tuple[str, Callable[[], dict[str, Any]]]:
    """A parent's inputs with one input, or one field of one handle or spec it is given, changed: plainly, or given
    as an output; made in the program (an output belongs to its run)."""
    inputs = {**REQUIRED[component](), **copy.deepcopy(draw(st.sampled_from(BASES[component])))}
    fields = _fields(getattr(llmplatform, f"{component}Args"))
    choices = []
    for key, annotation in fields.items():
        if typing.is_typeddict(annotation):
            current = inputs.get(key)
            choices += [(key, f, a) for f, a in _fields(annotation).items()
                        if isinstance(current, dict) and not values_of(a).is_empty]
        elif not values_of(annotation).is_empty:
            choices.append((key, None, annotation))
    key, part, annotation = draw(st.sampled_from(choices))
    # given plainly, a value the parent's own checks refuse is refused as its input, before a child is built: the
    # search is over the values they take. Given as an output (a field, or the whole handle: another stack's,
    # another language's), every value: the parent's late check must come before any child's reads it.
    how = draw(st.sampled_from(["plain", "output"] + (["handle"] if part else [])))
    values = values_of(annotation)
    value = draw(values.filter(lambda v: not refused_now(component, inputs, key, part, v)) if how == "plain"
                 else values)
    label = f"{key}{'.' + part if part else ''}={value!r} ({how})"
    if how == "plain":
        return label, lambda: changed(inputs, key, part, value)
    output = pulumi.Output.from_input  # made in the program's run
    if how == "output":
        return label, lambda: changed(inputs, key, part, output(value))
    return label, lambda: {**inputs, key: output({**inputs[key], part: value})}


def changed(inputs: dict[str, Any], key: str, part: Optional[str], value: Any) -> dict[str, Any]:
    return {**inputs, key: value if part is None else {**inputs[key], part: value}}


def refused_now(component: str, inputs: dict[str, Any], key: str, part: Optional[str], value: Any) -> bool:
    """The parent's own checks when it is built (check_shape's, before anything registers) refuse the value."""
    try:
        refuse_now(component, "mistake", changed(inputs, key, part, value), getattr(llmplatform, f"{component}Args"))
    except ComponentInputError:
        return True
    return False


# examples per parent: a few in every run of the suite; a search runs many (CHILD_REFUSAL_EXAMPLES=2000, -n0 -k
# a_parent_builds: a few minutes a parent), as the cases below were found
SEARCH_EXAMPLES = int(os.environ.get("CHILD_REFUSAL_EXAMPLES", "20"))


@pytest.mark.parametrize("component", sorted(BASES))
@settings(max_examples=SEARCH_EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(data=st.data())
def test_a_refusal_while_a_parent_builds_names_the_parent_and_its_own_inputs(component, data):
    label, inputs = data.draw(changed_inputs(component))
    assert_named_as_its_own(component, refusal_of(component, inputs))


# ---- the cases found: each refused as the parent's own input, in Python and through the provider ------------------
FOUND = [  # (component, the required inputs changed, the path refused, words of the refusal)
    # KEDA's interceptor port makes the model server's endpoint URL: the gate refused `endpoint.base_url` (late)
    ("InferenceStack", lambda a: {**a, "database_url_secret": "db-url", "keda": {**KEDA, "interceptor_port": 0}},
     "keda.interceptor_port", "keda.interceptor_port=0 is invalid; allowed: a whole number from 1 to 65535"),
    ("InferenceStack", lambda a: {**a, "keda": {**KEDA, "interceptor_port": 70000}},
     "keda.interceptor_port", "keda.interceptor_port=70000 is invalid"),
    ("OllamaServer", lambda a: {**a, "keda": {**KEDA, "interceptor_port": 65536}},
     "keda.interceptor_port", "keda.interceptor_port=65536 is invalid"),
    # a hand-built handle's namespace "" (the shape check leaves "" to its reader): the gate's and the UI's
    # WorkloadIdentity refused it as their `namespace`
    ("InferenceStack", lambda a: {**a, "model_volume": {**VOLUME, "namespace": ""}},
     "model_volume.namespace", "model_volume.namespace='' is invalid; allowed: a DNS label"),
    ("OllamaServer", lambda a: {**a, "model_volume": {**VOLUME, "namespace": ""}},
     "model_volume.namespace", "model_volume.namespace='' is invalid"),
    ("ApiGate", lambda a: {**a, "endpoint": {**ENDPOINT, "namespace": ""}},
     "endpoint.namespace", "endpoint.namespace='' is invalid; allowed: a DNS label"),
    ("OpenWebUi", lambda a: {**a, "endpoint": {**ENDPOINT, "namespace": ""}},
     "endpoint.namespace", "endpoint.namespace='' is invalid"),
    # OpenWebUi's own namespace had no rule: its WorkloadIdentity children refused it as theirs
    ("OpenWebUi", lambda a: {**a, "namespace": "Open_WebUI"}, "namespace",
     "OpenWebUi mistake: input namespace='Open_WebUI' is invalid; allowed: a DNS label"),
]
FOUND_IDS = [f"{c}-{p}-{i}" for i, (c, _, p, _) in enumerate(FOUND)]


@pytest.mark.parametrize("component, mutate, path, words", FOUND, ids=FOUND_IDS)
def test_a_case_found_is_refused_up_front_as_the_parents_input(component, mutate, path, words):
    """Refused when built (a ComponentInputError, before anything registers), under the input as given."""
    error = refusal_of(component, mutate(REQUIRED[component]()))
    assert isinstance(error, ComponentInputError), repr(error)
    assert [e["property_path"] for e in error.errors or []] == [path], error.errors
    assert words in str(error), str(error)
    assert_named_as_its_own(component, error)


@pytest.fixture(scope="module")
def host():
    started = plugin_host.ProviderHost()
    yield started
    assert "Traceback" not in started.close()


def refused_through_the_provider(host: plugin_host.ProviderHost, component: str, inputs: dict[str, Any],
                                 path: str) -> str:
    """`component` constructed through the component provider from `inputs` as another language's program sends
    them is refused under the input `path` alone, in the schema's names, by `component` and no other: its message."""
    with pytest.raises(plugin_host.ConstructFailure) as failure:
        host.construct(f"llmplatform:index:{component}", "mistake", on_the_wire(inputs))
    expected = ".".join(camel_case(part) for part in path.split("."))
    assert failure.value.code == grpc.StatusCode.INVALID_ARGUMENT
    assert failure.value.message.startswith(f"{component} mistake: "), failure.value.message
    assert [p for p, _ in failure.value.property_errors] == [expected], failure.value.property_errors
    others = sorted(COMPONENTS - {component})
    assert not re.search(rf"\b({'|'.join(others)}) mistake", failure.value.message), failure.value.message
    return failure.value.message


@pytest.mark.parametrize("component, mutate, path, words", FOUND, ids=FOUND_IDS)
def test_a_case_found_reaches_another_language_as_the_parents_input(host, component, mutate, path, words):
    """Through the component provider (a handle as another language's program sends it): the parent's input in
    the schema's names (`keda.interceptorPort`, `modelVolume.namespace`), not a child's (`endpoint.baseUrl`)."""
    refused_through_the_provider(host, component, mutate(REQUIRED[component]()), path)


FOUND_AS_OUTPUTS = [  # the same, given as outputs (a field, or the whole handle: another stack's, another language's)
    ("InferenceStack", lambda a, o: {**a, "database_url_secret": "db-url", "keda": {**KEDA, "interceptor_port": o(0)}},
     "keda.interceptor_port"),
    ("InferenceStack", lambda a, o: {**a, "keda": o({**KEDA, "interceptor_port": 70000})}, "keda.interceptor_port"),
    ("InferenceStack", lambda a, o: {**a, "database_url_secret": "db-url",
                                     "model_volume": {**VOLUME, "namespace": o("")}}, "model_volume.namespace"),
    ("InferenceStack", lambda a, o: {**a, "model_volume": o({**VOLUME, "namespace": ""})}, "model_volume.namespace"),
    ("ApiGate", lambda a, o: {**a, "endpoint": {**ENDPOINT, "namespace": o("")}}, "endpoint.namespace"),
    ("ApiGate", lambda a, o: {**a, "endpoint": o({**ENDPOINT, "namespace": ""})}, "endpoint.namespace"),
    ("OpenWebUi", lambda a, o: {**a, "endpoint": {**ENDPOINT, "namespace": o("")}}, "endpoint.namespace"),
    ("OpenWebUi", lambda a, o: {**a, "namespace": o("Open_WebUI")}, "namespace"),
]


@pytest.mark.parametrize("component, mutate, path", FOUND_AS_OUTPUTS,
                         ids=[f"{c}-{p}-{i}" for i, (c, _, p) in enumerate(FOUND_AS_OUTPUTS)])
def test_a_case_found_given_as_an_output_is_refused_once_known_as_the_parents_input(component, mutate, path):
    """Refused once the output resolves, in the parent's words: its check comes before any child reads the value
    (what runs in the namespace, the endpoint's URL wait for it), so no WorkloadIdentity `namespace` or ApiGate
    `endpoint.base_url` is refused first."""
    error = refusal_of(component, lambda: mutate(REQUIRED[component](), pulumi.Output.from_input))
    assert isinstance(error, ProgramError), repr(error)
    assert str(error).startswith(f"{component} mistake: input {path}="), str(error)
    assert_named_as_its_own(component, error)
