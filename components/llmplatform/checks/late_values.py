"""Late checks of inputs given as Outputs: each replaced by an output that, once it resolves, refuses a value of
the wrong type, nothing where it is required or decided what was built (PRESENCE_DECIDES), or a value the
component's rules refuse, in check_shape's words, as a LateInputError."""
import typing
from typing import Any, Callable, Optional

import pulumi

from ..errors import LateInputError
from ..mappings import whole_numbers
from ..rules import has_output, within
from .annotations import _container_item, _typeddict_of
from .awaiting import awaited
from .handle_types import _named, handed_out, python_named
from .messages import _got, _invalid, hidden
from .plain_values import _plain_value_problem
from .rechecks import Recheck, _rechecker
from .shapes import HANDLE_VALUE_RULES, _shape


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
                       "alert_action_group_id": "an action group ID",  # the snapshot vault's alert processing rule
                       "preload_node_selector": "a node selector"},  # default the CPU pool's
    "KeyVaultArgs": {"log_analytics_workspace_id": "a Log Analytics workspace ID",
                     "tenant_id": "a tenant ID"},  # default the deployer's
    "PostgresServerArgs": {"log_analytics_workspace_id": "a Log Analytics workspace ID"},
    "GatewayAccessArgs": {"front_door_id": 'a Front Door ID ("" until it is known)'},  # the X-Azure-FDID policy
    "InferenceStackArgs": {"database_url_secret": "a Key Vault secret name",  # webui_enabled's default
                           "admin_database_url_secret": "a Key Vault secret name"},  # OpenWebUi's bootstrap Job
    "ObservabilityArgs": {"postgres_server_id": "a PostgreSQL server ID"},  # its storage alert
    "AzureMonitoringArgs": {"grafana_name": "a Managed Grafana workspace name"},  # default graf-<name_prefix>
    "LlmdStackArgs": {"prometheus_url": "Observability's prometheus_url"},  # metrics' default: the monitors
    "OpenWebUiArgs": {"namespace": "a namespace",  # default the endpoint's
                      "admin_database_url_secret": "a Key Vault secret name"},  # the role's bootstrap Job
    "GlobalEndpointArgs": {"log_analytics_workspace_id": "a Log Analytics workspace ID",  # the diagnostic setting
                           "location": "an Azure region"},  # the workspace it makes for the logs
    "RegionalOrigin": {"llmd_port": "a port",  # the /llmd route and this region's origin in it
                       "key_vault_name": "a Key Vault name",  # with api_keys
                       "key_vault_resource_group": "a resource group name"},
}
# Inputs of PRESENCE_DECIDES whose empty value ("") the component builds from as a value, where the others take it
# as left out (`if args.get(key)`): an output of it that resolves empty is built as given, as the plain "" is.
EMPTY_IS_A_VALUE: dict[str, frozenset[str]] = {
    "GatewayAccessArgs": frozenset({"front_door_id"})}  # "" until the profile's ID is known: serves nothing


A = typing.TypeVar("A")


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


def _empty(value: Any) -> bool:
    """A value that is no None but that `if args.get(key)` takes as left out: "", {}, [], 0 (not False: a flag's)."""
    return value is not None and not isinstance(value, bool) and not value


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
        value = python_named(value, inner)  # a handle another stack exported through the component provider
        _shape(value, inner, path, problems, typed)
    elif not isinstance(value, (list, tuple)):
        problems.append((path, f"expects a list of {inner.__name__}, got {_got(value)}"))
    else:
        value = [python_named(element, inner) for element in value]
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
