"""Input checks every component runs on itself: the error names the component, the input, the value and what is
allowed, before any child resource is registered. The stack's config layer reuses the same allowed values.

The error is a `pulumi.InputPropertiesError` carrying the property path, so the component provider hands it to
other languages as a per-property error (the engine prints the path and the reason) instead of a traceback.
"""
import collections.abc
import contextvars
import functools
import inspect
import re
import typing
from typing import Any, Callable, Iterable, Mapping, NoReturn, Optional

import pulumi

from .azure_names import azure_name_start, resource_group
from .errors import ComponentInputError, LateInputError  # noqa: F401 (ComponentInputError: callers import it here)
from .images import mirror_problem
from .input_rules import RULES
from .mappings import whole_numbers
from .rules import Problem, has_output, is_output, nearest_or_all, within, without_outputs


Rules = Callable[[Mapping[str, Any]], list[Problem]]


# Values of handle fields a component checks when a handle arrives built by hand (from a stack reference, say)
# rather than from the component that hands it out, whose rules checked them.
HANDLE_VALUE_RULES: dict[str, dict[str, Callable[[Any], Optional[str]]]] = {
    "ClusterHandle": {"image_registry": mirror_problem,
                      # every Azure resource a consumer builds beside the cluster goes to this group ("" planned)
                      "resource_group_name": lambda v: resource_group(v) if isinstance(v, str) else None}}


# Optional inputs whose presence decides what a component builds when the program runs (`if args.get(key)`, a
# default taken when the key is left out, a rule that asks for the key with another input), and what to give: an
# input given as an output is present then, so the component builds as if it were, and an output that resolves to
# nothing (a stack reference's output the other stack lacks), or to an empty value the component takes as left out
# given plainly (""), is refused once it resolves (`_resolved`), in the words of the component it was given to.
# Keyed by the Args (or spec) type, as HANDLE_VALUE_RULES. An optional input that the component passes on, where
# nothing means the default (AksCluster's kubernetes_version: AKS's own), or that falls back once it resolves
# (ModelStore's resource_group_name) is not listed; nor is a handle: one given is always read.
PRESENCE_DECIDES: dict[str, dict[str, str]] = {
    "AksClusterArgs": {"log_analytics_workspace_id": "a Log Analytics workspace ID",  # Container Insights, Defender
                       "image_registry_id": "a container registry ID",  # the kubelet's AcrPull on it
                       "vnet_name": "a VNet name"},  # default vnet-<cluster_name>
    "ModelStoreArgs": {"log_analytics_workspace_id": "a Log Analytics workspace ID",  # diagnostic settings
                       "preload_node_selector": "a node selector"},  # default the CPU pool's
    "KeyVaultArgs": {"log_analytics_workspace_id": "a Log Analytics workspace ID",
                     "tenant_id": "a tenant ID"},  # default the deployer's
    "PostgresServerArgs": {"log_analytics_workspace_id": "a Log Analytics workspace ID"},
    "GatewayAccessArgs": {"front_door_id": 'a Front Door ID ("" until it is known)'},  # the X-Azure-FDID policy
    "InferenceStackArgs": {"database_url_secret": "a Key Vault secret name",  # webui_enabled's default
                           "admin_database_url_secret": "a Key Vault secret name"},  # OpenWebUi's bootstrap Job
    "ObservabilityArgs": {"postgres_server_id": "a PostgreSQL server ID"},  # its storage alert
    "LlmdStackArgs": {"prometheus_url": "Observability's prometheus_url"},  # metrics' default: the monitors
    "OpenWebUiArgs": {"namespace": "a namespace",  # default the endpoint's
                      "admin_database_url_secret": "a Key Vault secret name"},  # the role's bootstrap Job
    "RegionalOrigin": {"llmd_port": "a port",  # the /llmd route and this region's origin in it
                       "key_vault_name": "a Key Vault name",  # with api_keys
                       "key_vault_resource_group": "a resource group name"},
}
# Inputs of PRESENCE_DECIDES whose empty value ("") the component builds from as a value, where the others take it
# as left out (`if args.get(key)`): an output of it that resolves empty is built as given, as the plain "" is.
EMPTY_IS_A_VALUE: dict[str, frozenset[str]] = {
    "GatewayAccessArgs": frozenset({"front_door_id"})}  # "" until the profile's ID is known: serves nothing


# An input (or a spec's field) given as an output, once it resolved: the component's rules run again with its value
# put at its input path (`_rechecker`: path, value, whether it is a secret), refusing it as they refuse it plainly.
Recheck = Callable[[str, Any, bool], None]


A = typing.TypeVar("A")
C = typing.TypeVar("C")


def check_shape(component: str, name: str, args: A, args_type: type, rules: Optional[Rules] = None,
                prefix_rule: Callable[[str], Optional[str]] = azure_name_start) -> A:
    """What every component checks first, from its Args TypedDict: an object of inputs, no unknown key (with the
    nearest valid name; a camelCase spelling is named in Python's), every required input present, and every handle
    or spec given as an object of its own type, recursively; then the component's value rules (`rules`, by default
    its entry in `input_rules.RULES`: ranges, choices, Azure names, networks, inputs that contradict each other);
    and, for a component whose unset `name_prefix` falls back to its resource name, that name (`prefix_rule`).
    Every problem at once, as one ComponentInputError. Values that are outputs (known only at deploy time) are
    checked once they resolve: the inputs to build from are returned, each output in them (a handle given as one, a
    handle's field, an input) replaced by one that refuses a value of the wrong shape in these words (`late_shapes`),
    so what reads it waits for the check."""
    args = given(args, args_type)
    refuse_now(component, name, args, args_type, rules, prefix_rule)
    return late_shapes(component, name, args, args_type)


def given(args: A, args_type: type) -> A:
    """`args` without the optional inputs given as None, in the specs a caller writes too (a pool's `max_pods`, an
    origin's field; not in handles, which components hand out): None is "not given", as `opt` reads an input, so a
    caller's `name_prefix=cfg.get("prefix")` or `models=None` gets the default, not "log-None" names, a TypeError or
    a flag read as false. A required input given as None stays, for the shape check to refuse, and so does a name
    that is no input (a typo, a camelCase spelling): refused with the input meant whatever its value."""
    if not isinstance(args, dict) or handed_out(args_type):
        return args
    required: frozenset[str] = getattr(args_type, "__required_keys__", frozenset())
    fields: dict[str, Any] = getattr(args_type, "__annotations__", {})
    out: dict[Any, Any] = {}
    for key, value in args.items():
        if value is None and key in fields and key not in required:
            continue
        spec, is_list = _typeddict_of(fields[key]) if key in fields else (None, False)
        if spec is not None and is_list and isinstance(value, list):
            value = [given(item, spec) for item in value]
        elif spec is not None and not is_list:
            value = given(value, spec)
        out[key] = value
    return typing.cast(A, out)


def refuse_now(component: str, name: str, args: Any, args_type: type, rules: Optional[Rules] = None,
               prefix_rule: Callable[[str], Optional[str]] = azure_name_start) -> None:
    """check_shape's checks of what is known now, without making late checks of the outputs (a late check that
    runs them again once a handle resolved: the other outputs already have theirs)."""
    problems: list[tuple[str, str]] = []
    typed: list[tuple[str, str]] = []  # plain values of the wrong type: a rule's own words for the path win
    _shape(args, args_type, "", problems, typed)
    lines = [f"{path or 'args'}: {why}" for path, why in problems]
    rules = rules or RULES.get(component)
    if rules is not None:
        try:
            found = rules(args if isinstance(args, Mapping) else {})
        except (TypeError, KeyError, AttributeError, ValueError):
            if not problems and not typed:  # a rule that fails on well-shaped inputs is a defect: show it
                raise
            found = []  # inputs of the wrong shape: their shape problems are the message
        shaped = [path for path, _ in problems]
        for problem in found:
            # a rule's verdict on a list or map holding an output item refused by path ("[<output>] is invalid")
            # is the output's: the refusal says it
            if not any(within(problem.path, p) or has_output(problem.value) and within(p, problem.path)
                       for p in shaped):
                problems.append((problem.path, problem.reason()))
                lines.append(problem.sentence())
    ruled = [path for path, _ in problems]
    for path, why in typed:
        if not any(within(path, p) or within(p, path) for p in ruled):
            problems.append((path, why))
            lines.append(f"{path}: {why}")
    # a component without `name_prefix` names its Azure resources after its own resource name: held to a name rule
    keys = getattr(args_type, "__required_keys__", frozenset()) | getattr(args_type, "__optional_keys__", frozenset())
    if "name_prefix" in keys and isinstance(args, Mapping) and "name_prefix" not in args:
        wrong = prefix_rule(name)
        if wrong:
            problems.append(("name_prefix", f"not given, so the resource name {name!r} is the prefix of its Azure "
                                            f"names; allowed: {wrong}"))
            lines.append(f"name_prefix is not given, so the resource name {name!r} names its Azure resources; "
                         f"give a name_prefix ({wrong})")
    if problems:
        raise ComponentInputError(f"{component} {name}: {'; '.join(lines)}", problems=problems)


def late_shapes(component: str, name: str, args: A, args_type: type) -> A:
    """`args` with every output in it (an input, a handle given as one output, a handle's field, an item of a
    list) replaced by the same output checked once it resolves: of the type its annotation says (a handle or spec
    whole, recursively, as check_shape reads a plain one), present when required or when an optional one's presence
    decided what the component built (an optional handle, an input in PRESENCE_DECIDES), whole numbers as ints (the
    engine's wire carries doubles). A wrong one is refused as a LateInputError in check_shape's words, "<Component>
    <name>: <path>: <why>", where a TypeError in whatever read it would have reached the user with a traceback.
    Dependencies and secrecy stay the output's own; without outputs `args` is returned as it is."""
    if not isinstance(args, dict) or not has_output(args):
        return args
    return typing.cast(A, _late_fields(f"{component} {name}", args, args_type, "",
                                       _rechecker(component, name, args, args_type)))


def _late_fields(words: str, value: dict[str, Any], spec: type, path: str,
                 recheck: Optional[Recheck] = None) -> dict[str, Any]:
    fields = spec.__annotations__
    required: frozenset[str] = getattr(spec, "__required_keys__", frozenset())
    rules = HANDLE_VALUE_RULES.get(spec.__name__, {})
    present = PRESENCE_DECIDES.get(spec.__name__, {})
    valued = EMPTY_IS_A_VALUE.get(spec.__name__, frozenset())
    if handed_out(spec) is not None:  # a handle's fields: the component's rules read them through late_rules
        recheck = None
    changed = {key: _late(words, item, fields[key], key in required, f"{path}.{key}" if path else str(key),
                          rules.get(key), present.get(key), recheck, None if key in valued else present.get(key))
               for key, item in value.items() if key in fields and has_output(item)}
    return {**value, **changed} if changed else value


def _rechecker(component: str, name: str, args: Any, args_type: type) -> Recheck:
    """What refuses an input of `args` given as an output once it resolved, as the component's rules refuse the same
    value given plainly (a tenant ID that is no GUID, a VNet name of 200 characters, a port 70000, a Key Vault name
    "" with api_keys), in their words, "<Component> <name>: input <path>=... is invalid; allowed: ...": the rules run
    again on `args` with the value put at `path`, the other outputs unknown as the early check read them (which
    passed: what they find now is the value's). A secret's value stays out of the message: each problem is named by
    its path, as the late shape checks name theirs, without the value (`hidden`, `_unshown`). The name prefix rule is
    not run again: it read the resource name."""
    def recheck(path: str, value: Any, secret: bool = False) -> None:
        try:
            refuse_now(component, name, _put(args, path, value), args_type, prefix_rule=lambda _: None)
        except ComponentInputError as error:
            if not secret:
                raise LateInputError.of(error) from None
            problems = [(e["property_path"], _unshown(hidden(e["reason"]), value)) for e in error.errors or []]
            raise LateInputError(f"{component} {name}: {'; '.join(f'{where}: {why}' for where, why in problems)}",
                                 problems) from None
    return recheck


def _unshown(why: str, value: Any) -> str:
    """`why` without the secret `value` where a rule names it in another input's allowed text ("at least
    min_replicas (7)") or its own: each string or number in it as a whole word, and any quoted part of one (an ACR
    id's "not 'registryname'")."""
    leaves: list[str] = []

    def collect(item: Any) -> None:
        if isinstance(item, Mapping):
            for key, inner in item.items():
                collect(key)
                collect(inner)
        elif isinstance(item, (list, tuple)):
            for inner in item:
                collect(inner)
        elif isinstance(item, (str, int, float)) and not isinstance(item, bool) and str(item):
            leaves.extend({repr(item), str(item)})
    collect(value)
    for leaf in sorted(leaves, key=len, reverse=True):
        why = re.sub(rf"(?<![\w.]){re.escape(leaf)}(?![\w.])", "a secret", why)
    texts = [leaf.lower() for leaf in leaves]
    return _QUOTED.sub(lambda m: "a secret" if any(m[2].lower() in t for t in texts) else m[0], why)


_QUOTED = re.compile(r"(?<!\w)(['\"])([^'\"\n]+)\1(?!\w)")  # a value a rule quotes (repr), not "Door's"


_STEP = re.compile(r"\[(\d+)\]|([^.\[\]]+)")


def _put(value: Any, path: str, item: Any) -> Any:
    """`value` with `item` at input path `path` ("origins[0].llmd_port"), copied along the path, not changed."""
    steps: list[Any] = [int(index) if index else key for index, key in _STEP.findall(path)]

    def put(current: Any, rest: list[Any]) -> Any:
        if not rest:
            return item
        step, *rest = rest
        if isinstance(step, int):
            return [*current[:step], put(current[step], rest), *current[step + 1:]]
        return {**current, step: put(current[step], rest)}
    return put(value, steps)


def _empty(value: Any) -> bool:
    """A value that is no None but that `if args.get(key)` takes as left out: "", {}, [], 0 (not False: a flag's)."""
    return value is not None and not isinstance(value, bool) and not value


# The late checks made during one Construct of the component provider (None elsewhere): it awaits them all before it
# answers, as the Python language host awaits every outstanding task before a program ends, so a check of a field
# no code reads still refuses (the SDK's Construct awaits only the outputs it returns and the RPCs under way).
CONSTRUCT_CHECKS: contextvars.ContextVar[Optional[list[pulumi.Output[Any]]]] = contextvars.ContextVar(
    "llmplatform_construct_checks", default=None)


def awaited(check: pulumi.Output[Any]) -> pulumi.Output[Any]:
    """`check`, awaited before the Construct that made it answers (nothing outside one)."""
    pending = CONSTRUCT_CHECKS.get()
    if pending is not None:
        pending.append(check)
    return check


def given_once_resolved(words: str, path: str, value: pulumi.Output[Any], wanted: str) -> pulumi.Output[Any]:
    """`value`, refused once it resolves to nothing or to an empty value: an output the component already built
    from as given (a role assignment, a grant) and cannot leave out now. In the late checks' words, "<words>: <path>:
    resolved to nothing; give <wanted>", as a LateInputError; awaited by the Construct that made it."""
    def check(resolved: Any) -> Any:
        if resolved is None or _empty(resolved):
            why = (f"resolved to {'nothing' if resolved is None else f'an empty value ({resolved!r})'}; "
                   f"give {wanted}")
            raise LateInputError(f"{words}: {path}: {why}", [(path, why)])
        return resolved
    return awaited(value.apply(check))


def _late(words: str, value: Any, annotation: Any, required: bool, path: str,
          rule: Optional[Callable[[Any], Optional[str]]] = None, wanted: Optional[str] = None,
          recheck: Optional[Recheck] = None, wanted_if_empty: Optional[str] = None) -> Any:
    if isinstance(value, pulumi.Output):
        output = value

        async def checked(resolved: Any) -> Any:  # a secret's value stays out of the message
            return _resolved(words, resolved, annotation, required, path, rule, await output.is_secret(), wanted,
                             recheck, wanted_if_empty)
        return awaited(value.apply(checked))
    inner, is_list = _typeddict_of(annotation)
    if isinstance(value, dict) and inner is not None and not is_list:
        return _late_fields(words, value, inner, path, recheck)
    if isinstance(value, dict):  # a map of plain values (a node selector): through the component provider its
        item = _container_item(annotation, dict)  # values arrive as outputs
        if item is not None:
            return {k: _late(words, v, item, True, f"{path}[{k!r}]") if has_output(v) else v for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        item = inner if is_list else _container_item(annotation, list)
        if item is not None:
            return [_late(words, v, item, True, f"{path}[{i}]", recheck=recheck if is_list else None)
                    if has_output(v) else v for i, v in enumerate(value)]  # a spec's fields (origins) rechecked
    return value


def _container_item(annotation: Any, container: type) -> Any:
    """The item annotation of a list field, or the value annotation of a map field (`container` list or dict, a
    Mapping too; through NotRequired, Input and Optional); None when the field is no such container."""
    origins = (dict, collections.abc.Mapping) if container is dict else (container,)
    stack = [annotation]
    while stack:
        current = stack.pop(0)
        if typing.get_origin(current) in origins and typing.get_args(current):
            return typing.get_args(current)[-1]
        stack.extend(a for a in typing.get_args(current) if not isinstance(a, typing.ForwardRef))
    return None


def _resolved(words: str, value: Any, annotation: Any, required: bool, path: str,
              rule: Optional[Callable[[Any], Optional[str]]] = None, secret: bool = False,
              wanted: Optional[str] = None, recheck: Optional[Recheck] = None,
              wanted_if_empty: Optional[str] = None) -> Any:
    """The resolved `value` of the output at `path`, or a LateInputError: of nothing where it is required or decided
    what was built (`wanted`, PRESENCE_DECIDES); of the wrong type; of a value the component's rules refuse plainly
    (`recheck`, in their words: a tenant ID that is no GUID, a port 0); of an empty value ("", {}, 0) they take as
    left out where it decided what was built (`wanted_if_empty`: the component built as if given, so it cannot be
    left out now)."""
    value = whole_numbers(value)
    problems: list[tuple[str, str]] = []
    typed: list[tuple[str, str]] = []  # as in check_shape: a value rule's words for a path win over its type's
    inner, is_list = _typeddict_of(annotation)
    if value is None:
        if required:
            problems.append((path, "is required"))
        elif inner is not None and not is_list:  # an optional handle given: the component reads its fields
            problems.append((path, f"resolved to nothing; give a {_named(inner)}, or leave it out"))
        elif wanted is not None:  # an optional input whose presence decided what was built (PRESENCE_DECIDES)
            problems.append((path, f"resolved to nothing; give {wanted}, or leave it out"))
    elif inner is None:
        ruled = rule(value) if rule is not None else None  # as _shape: the handle field's rule, in its words
        wrong = (_invalid(value, ruled) if ruled else
                 _plain_value_problem(value, annotation, outputs_allowed=True))
        if wrong:
            problems.append((path, wrong))
    elif not is_list:
        _shape(value, inner, path, problems, typed)
    elif not isinstance(value, (list, tuple)):
        problems.append((path, f"expects a list of {inner.__name__}, got {_got(value)}"))
    else:
        for i, element in enumerate(value):
            _shape(element, inner, f"{path}[{i}]", problems, typed)
    problems += [(where, why) for where, why in typed if not any(within(where, p) for p, _ in problems)]
    if not problems and recheck is not None and (inner is None or handed_out(inner) is None):
        recheck(path, value, secret)  # the rules' words, as for the plain value; a handle's are late_rules'
    if not problems and inner is None and _empty(value) and wanted_if_empty is not None:
        problems.append((path, f"resolved to an empty value ({value!r}); give {wanted_if_empty}, or leave it out"))
    if secret:
        problems = [(where, hidden(why)) for where, why in problems]
    if problems:
        raise LateInputError(f"{words}: {'; '.join(f'{where}: {why}' for where, why in problems)}", problems)
    return value


def _got(value: Any) -> str:
    """A value of the wrong type as a message names it, "<type> <its start>" (an output inside it as <output>)."""
    return f"{type(value).__name__} {without_outputs(value)!r:.60}"


def _invalid(value: Any, allowed: str) -> str:
    """A value a rule refuses, "<its start> is invalid; allowed: <allowed>"."""
    return f"{without_outputs(value)!r:.80} is invalid; allowed: {allowed}"


# the forms above, for `hidden`
_SHOWN_TYPE = re.compile(r"^(expects .*?), got (\w+) .*$", re.S)
_SHOWN_VALUE = re.compile(r"^.* is invalid; allowed: (.*)$", re.S)
_SHOWN_SUBJECT = re.compile(r"^.+? (is not (?:a whole number|one of .*))$", re.S)  # the provider's mapping
_EXAMPLE = re.compile(r" \(e\.g\. .*\)", re.S)  # to the last parenthesis: a value may hold one


def hidden(why: str) -> str:
    """A problem's reason without the value it shows (the checks' forms: "expects X, got <type> <value>",
    "<value> is invalid; allowed: Y", and the provider's mapping's "<value> is not a whole number|one of ..."), for a
    value that is a secret: the message reaches the console and CI logs. A rule's example goes too: it may be the
    value itself, corrected (a mirror registry's "(e.g. user:password@host)", its scheme dropped)."""
    if _SHOWN_TYPE.match(why):
        return _SHOWN_TYPE.sub(r"\1, got a \2 (a secret: its value is not shown)", why)
    if _SHOWN_VALUE.match(why):
        return _EXAMPLE.sub("", _SHOWN_VALUE.sub(r"a secret (its value is not shown) is invalid; allowed: \1", why))
    if _SHOWN_SUBJECT.match(why):
        return _SHOWN_SUBJECT.sub(r"a secret (its value is not shown) \1", why)
    return why


def problems_message(component: str, name: str, found: list[Problem]) -> str:
    """The sentence that refuses `found`: the component, its name, then each problem."""
    return f"{component} {name}: {'; '.join(p.sentence() for p in found)}"


def raise_problems(component: str, name: str, found: list[Problem]) -> None:
    """Refuse every problem at once (for a part's rules run outside check_shape)."""
    if found:
        raise ComponentInputError(problems_message(component, name, found),
                                  problems=[(p.path, p.reason()) for p in found])


# The fields of each handle the input rules read (through rules.known): a handle whose fields are outputs, or that
# arrives as one output (another language's, through the component provider), has its checks run once they resolve
GPU_FIELDS = ("gpu_model", "gpus_per_node", "gpu_memory_gib", "driver", "rdma", "mig_profile")
ENDPOINT_FIELDS = ("api", "base_url", "host_header")
ROUTE_FIELDS = ("llmd_listener",)
KEDA_FIELDS = ("interceptor_host",)
VOLUME_FIELDS = ("models",)
CLUSTER_SUBNET_FIELDS = ("node_subnet_cidr",)
EXPANDER_FIELDS = ("autoscaler_expander",)


def late_rules(component: str, name: str, args: Any, key: str, fields: Iterable[str], args_type: type,
               rules: Optional[Rules] = None) -> Optional[pulumi.Output[Any]]:
    """The component's rules (its entry in `input_rules.RULES`, or `rules`) run again once the handle input `key`
    resolves, when check_shape could not read its `fields` (the handle, or one of them, is an output: another
    language's handle, a Python caller's from a stack reference), so the checks that read them were skipped. The
    resolved handle's shape is checked too (`args_type`, the component's Args: a field missing or of the wrong type),
    so the rules never read a value of the wrong type. Every problem found then is refused in check_shape's words,
    as a LateInputError (raised inside an apply, a ValueError would reach the user in the SDK's "While processing
    ..." chain, with a traceback). The other inputs are read as they were: what they hold was checked already, or is
    left alone again. None when there is nothing to wait for; else an output of the handle's fields (`after_check`
    makes a resource's input wait for it; the SDK awaits it in any case)."""
    handle = args.get(key) if isinstance(args, Mapping) else None
    fields = tuple(fields)
    if isinstance(handle, Mapping):
        if not any(has_output(handle.get(f)) for f in fields):
            return None
        resolved = pulumi.Output.all(**{f: handle[f] for f in fields if handle.get(f) is not None})
    elif is_output(handle):  # the whole handle, as the early check reads a plain one
        resolved = pulumi.Output.from_input(handle).apply(lambda h: dict(h) if isinstance(h, Mapping) else {})
    else:
        return None
    check = rules or RULES[component]

    def refuse(values: dict[str, Any]) -> dict[str, Any]:
        given = whole_numbers({**(handle if isinstance(handle, Mapping) else {}), **values})  # 8080.0 -> 8080
        try:
            refuse_now(component, name, {**args, key: given}, args_type, check)
        except ComponentInputError as error:
            raise LateInputError.of(error) from None
        return values
    return awaited(resolved.apply(refuse))


def after_check(check: Optional[pulumi.Output[Any]], value: Any) -> Any:
    """`value`, waiting for a late check (`late_rules`; none: `value` as it is): a resource that takes it is not
    registered with an input the check refuses."""
    if check is None:
        return value
    return pulumi.Output.all(check, value).apply(lambda v: v[1])


def _snake(key: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", key).lower()


def _typeddict_of(annotation: Any) -> tuple[Optional[type], bool]:
    """(the TypedDict a field holds, whether it is a list of them), through NotRequired, Input and Optional."""
    stack = [annotation]
    while stack:
        current = stack.pop(0)
        if isinstance(current, type) and typing.is_typeddict(current):
            return current, False
        if typing.get_origin(current) is list and typing.get_args(current):
            item = typing.get_args(current)[0]
            inner, _ = _typeddict_of(item)
            if inner is not None:
                return inner, True
        stack.extend(a for a in typing.get_args(current) if not isinstance(a, typing.ForwardRef))
    return None, False


_HANDED_OUT = re.compile(r"Handed out by (.+?) as `(\w+)`", re.S)


def handed_out(spec: type) -> Optional[tuple[str, str]]:
    """(who hands a handle type out, under which output), from its docstring ("Handed out by ModelStore as
    `volume`"); None for a spec a caller writes."""
    match = _HANDED_OUT.search(spec.__doc__ or "")
    return (" ".join(match.group(1).split()), match.group(2)) if match else None


def _handle_types() -> list[type]:
    from . import handles  # the handles the components hand each other
    return [t for t in vars(handles).values() if isinstance(t, type) and typing.is_typeddict(t) and handed_out(t)]


def _named(spec: type) -> str:
    """A handle type with where it comes from: "ModelVolume (ModelStore's `volume`)"."""
    source = handed_out(spec)
    return f"{spec.__name__} ({source[0]}'s `{source[1]}`)" if source else spec.__name__


def _fits(value: Mapping[str, Any], spec: type) -> bool:
    keys = set(map(str, value))
    return set(spec.__required_keys__) <= keys <= set(spec.__annotations__)  # type: ignore[attr-defined]


def other_handle(value: Mapping[str, Any], spec: type) -> Optional[type]:
    """The handle type `value` is when it is not `spec` but another handle, known by its keys (every required field
    of that type, none it lacks)."""
    if _fits(value, spec):
        return None
    return next((t for t in _handle_types() if t is not spec and _fits(value, t)), None)


def component_given(value: Any, spec: type) -> str:
    """What to tell someone who passed a component where a handle (or spec) is expected: the component's output of
    that type when it has one, else which component hands it out."""
    kind = type(value).__name__
    name = getattr(value, "_name", "")
    variable = name if isinstance(name, str) and name.isidentifier() else _snake(kind)
    for attribute, handle in vars(value).items():
        if not attribute.startswith("_") and isinstance(handle, dict) and handle and _fits(handle, spec):
            return (f"expects a {_named(spec)}, got the {kind} component {name!r}; pass its `{attribute}` handle "
                    f"({variable}.{attribute})")
    return f"expects a {_named(spec)}, got the {kind} component {name!r}"


_SCALARS = (bool, int, float, str)


@functools.lru_cache(maxsize=None)  # annotations are few and fixed; components are built many times a run
def _plain_kinds(annotation: Any) -> tuple[Optional[frozenset[Any]], bool]:
    """(what a plain value of a field may be: bool, int, float, str, list or dict, or their element kinds as
    ("list", str), ("dict", str); None when the annotation says nothing checkable), whether an Output is allowed."""
    kinds: set[Any] = set()
    outputs = False
    stack = [annotation]
    while stack:
        current = stack.pop()
        origin = typing.get_origin(current)
        if isinstance(current, typing.ForwardRef) or origin is collections.abc.Awaitable:  # pulumi.Input's parts
            outputs = True
        elif current is type(None):
            continue
        elif current in _SCALARS:
            kinds.add(current)
        elif origin in (typing.Union, typing.NotRequired, typing.Required):
            stack.extend(typing.get_args(current))
        elif list in (origin, current) or tuple in (origin, current):
            kinds.add(("list", _scalar((typing.get_args(current) or (None,))[0])))
        elif origin in (dict, collections.abc.Mapping) or current in (dict, collections.abc.Mapping):
            args = typing.get_args(current)
            kinds.add(("dict", _scalar(args[1]) if len(args) == 2 else None))
        else:
            return None, True  # a TypedDict, Any, a handle or a type this check does not know: left to others
    return (frozenset(kinds) or None), outputs


def _scalar(item: Any) -> Any:
    """The scalar type of a list's items or a map's values, annotated plain (`str`) or as a pulumi.Input of it
    (`pulumi.Input[str]`); None for anything else."""
    if item in _SCALARS:
        return item
    scalars = [a for a in typing.get_args(item) if a in _SCALARS] if typing.get_origin(item) is typing.Union else []
    return scalars[0] if len(scalars) == 1 and _output_allowed(item) else None


@functools.lru_cache(maxsize=None)
def _read_items(annotation: Any) -> Optional[tuple[type, Any]]:
    """(list or dict, the item annotation) of a list or map field whose items the component reads when the program
    runs: annotated plain values (`list[str]`: names it joins, validates or names resources after), the field no
    pulumi.Input as a whole. None for any other field: one whose items are pulumi.Inputs (`Mapping[str,
    pulumi.Input[str]]`: tags, passed on into resources' inputs), a pulumi.Input list or map (a node selector: the
    component passes it on), a list of specs (`_shape` reads those), a scalar."""
    if _output_allowed(annotation):
        return None
    for container in (list, dict):
        item = _container_item(annotation, container)
        if item is not None:
            return (container, item) if item in _SCALARS else None
    return None


def _output_items(value: Any, annotation: Any, path: str) -> list[tuple[str, str]]:
    """An output among the items of a list or map whose items the component reads when the program runs
    (`_read_items`), by path (`models[0]`, `extra_env['HF_HOME']`): it joined the items into a string (a TypeError),
    or its rules read "[<output>]" as the value. A map's keys are always plain: only its values are checked."""
    read = _read_items(annotation)
    if read is None:
        return []
    container, item = read
    why = f"must be a plain value known when the program runs ({_kind_text(frozenset({item}))}), not an Output"
    if container is list and isinstance(value, (list, tuple)):
        return [(f"{path}[{i}]", why) for i, v in enumerate(value) if is_output(v)]
    if container is dict and isinstance(value, Mapping):
        return [(f"{path}[{k!r}]", why) for k, v in value.items() if is_output(v)]
    return []


@functools.lru_cache(maxsize=None)
def _output_allowed(annotation: Any) -> bool:
    """The annotation takes an Output as a whole (pulumi.Input[...]: a union with Awaitable and 'Output')."""
    stack = [annotation]
    while stack:
        current = stack.pop()
        if isinstance(current, typing.ForwardRef) or typing.get_origin(current) is collections.abc.Awaitable:
            return True
        if typing.get_origin(current) in (typing.Union, typing.NotRequired, typing.Required):
            stack.extend(typing.get_args(current))
    return False


def _is_kind(value: Any, kind: Any) -> bool:
    if kind is bool:
        return isinstance(value, bool)
    if kind is int:  # a whole number; another language sends it as a double
        return not isinstance(value, bool) and (isinstance(value, int) or isinstance(value, float)
                                                and value.is_integer())
    if kind is float:
        return not isinstance(value, bool) and isinstance(value, (int, float))
    if kind is str:
        return isinstance(value, str)
    container, item = kind
    if container == "list":
        return isinstance(value, (list, tuple)) and (item is None or all(
            is_output(v) or _is_kind(v, item) for v in value))
    return isinstance(value, Mapping) and (item is None or all(
        is_output(v) or _is_kind(v, item) for v in value.values()))


def _kind_text(kinds: frozenset[Any]) -> str:
    def one(kind: Any) -> str:
        if kind in _SCALARS:
            return {bool: "true or false", int: "a whole number", float: "a number", str: "a string"}[kind]
        container, item = kind
        inner = f" of {one(item).replace('a ', '', 1)}s" if item is not None and item is not bool else ""
        return ("a list" if container == "list" else "an object") + inner
    return " or ".join(sorted(one(k) for k in kinds))


def _plain_value_problem(item: Any, annotation: Any, outputs_allowed: bool = False) -> Optional[str]:
    """Why a field's value is not what its annotation allows (None when it is, or when that is not checkable here):
    a string "false" for a bool is on by truthiness, an Output where a plain value names Azure resources prints as
    "Calling __str__ on an Output"."""
    kinds, outputs = _plain_kinds(annotation)
    if kinds is None:
        return None
    if is_output(item):
        return None if outputs or outputs_allowed else (
            f"must be a plain value known when the program runs ({_kind_text(kinds)}), not an Output")
    if any(_is_kind(item, kind) for kind in kinds):
        return None
    return f"expects {_kind_text(kinds)}, got {_got(item)}"


def _shape(value: Any, spec: type, path: str, problems: list[tuple[str, str]],
           typed: list[tuple[str, str]], in_handle: bool = False) -> None:
    """Shape problems of `value` as a `spec`; `in_handle`: it is (inside) a handle, whose plain fields may arrive
    as outputs (from another language, or a handle given as one output)."""
    in_handle = in_handle or handed_out(spec) is not None
    if is_output(value):
        return
    if isinstance(value, pulumi.Resource):
        problems.append((path, component_given(value, spec)))
        return
    if not isinstance(value, dict):
        problems.append((path, f"expects an object ({spec.__name__}), got {_got(value)}"))
        return
    other = other_handle(value, spec)
    if other is not None:
        problems.append((path, f"expects a {_named(spec)}, got a {_named(other)}"))
        return
    fields = spec.__annotations__
    for key in value:
        if key not in fields:
            snake = _snake(str(key))
            problems.append((f"{path}.{key}" if path else str(key), "is not an input; " + nearest_or_all(
                str(key), fields, "inputs", near=snake if snake in fields else None)))
    for key in sorted(spec.__required_keys__):  # type: ignore[attr-defined]
        if value.get(key) is None and not any(_snake(str(k)) == key and value[k] is not None for k in value):
            problems.append((f"{path}.{key}" if path else key, "is required"))
    for key, rule in HANDLE_VALUE_RULES.get(spec.__name__, {}).items():
        item = value.get(key)
        wrong = None if item is None or is_output(item) else rule(item)
        if wrong:
            problems.append((f"{path}.{key}" if path else key, _invalid(item, wrong)))
    for key, item in value.items():
        if key not in fields or item is None:
            continue
        inner, is_list = _typeddict_of(fields[key])
        where = f"{path}.{key}" if path else key
        if inner is None:
            # an Output is refused in an input annotated as a plain value, a spec's field too (the code reads them
            # when the program runs: a pool's priority, a member's name); the component provider hands such a field
            # over plain once its value is known (`plain` in the schema). A handle's fields arrive as outputs from
            # another language, where the code that reads them copes (handles.known)
            wrong = _plain_value_problem(item, fields[key], outputs_allowed=in_handle)
            if wrong:
                typed.append((where, wrong))
            # so is an output among the items of a list or map of plain values (`models`, `extra_env`): those the
            # component passes on into resources are annotated pulumi.Input (tags, alert e-mails)
            problems.extend([] if in_handle else _output_items(item, fields[key], where))
            continue
        if is_output(item) and not handed_out(inner) and not _output_allowed(fields[key]):
            # a spec the component shapes resources from (a pool's name, one origin each) is read when the program
            # runs: only its fields may be outputs
            problems.append((where, f"must be {'a list' if is_list else 'an object'} written in the program, not "
                                    "an Output: the component builds resources from it when the program runs"))
            continue
        if is_list:
            if is_output(item):
                continue
            if not isinstance(item, (list, tuple)):
                problems.append((where, f"expects a list of {inner.__name__}, got {type(item).__name__}"))
                continue
            for i, element in enumerate(item):
                if is_output(element) and not in_handle and not handed_out(inner) and not _output_allowed(fields[key]):
                    # one origin, one member each: an item's name names its resources (an output's text is "Calling
                    # __str__ on an Output[T]...")
                    problems.append((f"{where}[{i}]", "must be an object written in the program, not an Output: the "
                                                      "component builds resources from it when the program runs"))
                    continue
                _shape(element, inner, f"{where}[{i}]", problems, typed, in_handle)
        else:
            _shape(item, inner, where, problems, typed, in_handle)


def fail(component: str, name: str, key: str, value: Any, allowed: str) -> NoReturn:
    raise ComponentInputError(f"{component} {name}: input {key}={value!r} is invalid; allowed: {allowed}", key,
                              f"{value!r} is invalid; allowed: {allowed}")


def fail_when_known(component: str, name: str, key: str, value: Any, allowed: str) -> NoReturn:
    """`fail` for a check inside an apply (a value known only at deploy time): the same sentence, as a
    LateInputError so the SDK does not bury it in its ValueError chain."""
    raise LateInputError(f"{component} {name}: input {key}={value!r} is invalid; allowed: {allowed}",
                         [(key, f"{value!r} is invalid; allowed: {allowed}")])


def one_of(component: str, name: str, key: str, value: Any, allowed: Iterable[Any]) -> Any:
    allowed = tuple(allowed)
    if value not in allowed:
        fail(component, name, key, value, ", ".join(map(str, allowed)))
    return value


def in_range(component: str, name: str, key: str, value: Any, low: int, high: int) -> Any:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        fail(component, name, key, value, f"a whole number from {low} to {high}")
    return value


def required(component: str, name: str, args: Mapping[str, Any], key: str) -> Any:
    value = args.get(key)
    if value is None:
        raise ComponentInputError(f"{component} {name}: input {key!r} is required", key, "is required")
    return value


def called_as_documented(cls: type[C]) -> type[C]:
    """A component called otherwise than `Component(name, args, opts)`: the inputs as keyword arguments (the style of
    Pulumi's generated SDKs, `GpuNodePool("gpu", cluster=..., vm_size=...)`), the args left out, or the name left out
    or not a string. Python's TypeError (or the SDK's "Missing resource name argument") reached a `pulumi up` user as
    a traceback; this refuses the call in the components' words, as a ComponentInputError (a RunError: its message
    alone), before anything registers. The signature, annotations and docstring stay the class's own (`wraps`), for
    type checkers, the component provider and the schema."""
    init = cls.__init__
    signature = inspect.signature(init)
    component = cls.__name__

    @functools.wraps(init)
    def checked_init(self: Any, *args: Any, **kwargs: Any) -> None:
        try:
            bound = signature.bind(self, *args, **kwargs)
        except TypeError:
            raise _call_refused(component, args, kwargs, signature) from None
        name = bound.arguments.get("name")
        if not isinstance(name, str) or not name:
            raise ComponentInputError(
                f"{component}: name: expects the resource name, a non-empty string, as the first argument, got "
                f"{_got(name)}; e.g. {component}(\"{component.lower()}\", {{...}}, opts)", "name",
                f"expects a non-empty string, got {_got(name)}")
        init(self, *args, **kwargs)
    cls.__init__ = checked_init  # type: ignore[method-assign]
    return cls


def _call_refused(component: str, args: tuple[Any, ...], kwargs: dict[str, Any],
                  signature: inspect.Signature) -> ComponentInputError:
    """Why a call does not fit `Component(name, args, opts)`, naming what was given and the call that works."""
    known = set(signature.parameters) - {"self"}
    inputs = sorted(k for k in kwargs if k not in known)
    name = args[0] if args and isinstance(args[0], str) else kwargs.get("name")
    called = f"{component} {name}" if isinstance(name, str) else component
    example = f"{component}(\"{name if isinstance(name, str) else component.lower()}\", {{...}}, opts)"
    if inputs:
        given = ", ".join(f"{k}=" for k in inputs)
        return ComponentInputError(
            f"{called}: inputs go in one object, the second argument ({component}Args), not as keyword arguments "
            f"({given}): {example.replace('{...}', '{' + ', '.join(repr(k) + ': ...' for k in inputs) + '}')}",
            "args", f"expects one object of inputs, got keyword arguments {given}")
    if args and not isinstance(args[0], str):
        return ComponentInputError(
            f"{component}: name: expects the resource name, a non-empty string, as the first argument, got "
            f"{_got(args[0])}: {example}", "name", f"expects a non-empty string, got {_got(args[0])}")
    if len(args) < 2 and "args" not in kwargs:
        return ComponentInputError(
            f"{called}: args: is required, one object of inputs ({component}Args) as the second argument: {example}",
            "args", "is required")
    return ComponentInputError(
        f"{called}: expects {component}(name, args, opts), got {len(args)} positional argument(s)"
        f"{' and ' + ', '.join(sorted(kwargs)) if kwargs else ''}: {example}", "args",
        "expects (name, args, opts)")
