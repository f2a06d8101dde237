"""A component's rules run again once a handle it was given as outputs resolves (late_rules), a value that waits
for that check (after_check), and the handle fields each component's rules read."""
from typing import Any, Iterable, Mapping, Optional, Union

import pulumi

from ..errors import ComponentInputError, LateInputError
from ..inference_specs import ROUTER_RANGE_FIELDS  # noqa: F401 (checks hands it out with the other field lists)
from ..input_rules import RULES
from ..mappings import whole_numbers
from ..rules import has_output, is_output
from .awaiting import awaited
from .known_now import Rules, refuse_now
from .messages import _unshown



# The fields of each handle the input rules read (through rules.known): a handle whose fields are outputs, or that
# arrives as one output (another language's, through the component provider), has its checks run once they resolve
GPU_FIELDS = ("gpu_model", "gpus_per_node", "gpu_memory_gib", "driver", "rdma", "mig_profile", "nodes_drained_at_once")
ENDPOINT_FIELDS = ("api", "base_url", "host_header")
ROUTE_FIELDS = ("llmd_listener", "gateway_names")
KEDA_FIELDS = ("interceptor_host", "interceptor_port", "request_timeout_seconds", "cold_start_timeout_seconds")
# a ModelServer's figures a ModelAutoscaler's timeouts are held to (input_rules.shared.server_timeouts_rule)
SERVER_TIMEOUT_FIELDS = ("request_timeout_seconds", "cold_start_timeout_seconds")
VOLUME_FIELDS = ("models",)
# a model volume's or endpoint's namespace, checked apart (the component runs there: what it makes there waits for
# this check alone, not for the handle's other fields)
NAMESPACE_FIELDS = ("namespace",)
CLUSTER_SUBNET_FIELDS = ("node_subnet_cidr",)
EXPANDER_FIELDS = ("autoscaler_expander",)
# the cluster's drain, which every workload's grace is held to (input_rules.shared.drain_rule): one known only at
# deploy time (another stack's handle) is judged once it resolves
DRAIN_FIELDS = ("drain_timeout_minutes",)


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
    makes a resource's input wait for it; the SDK awaits it in any case). A rule that compares two handles' fields
    waits for both at once: `late_rules_of`."""
    return late_rules_of(component, name, args, {key: fields}, args_type, rules)


def _waiting(handle: Any, fields: tuple[str, ...]) -> Optional[pulumi.Output[Any]]:
    """The handle's `fields` as one output, where any is not known yet (the whole handle, when it is one output)."""
    if isinstance(handle, Mapping):
        if not any(has_output(handle.get(f)) for f in fields):
            return None
        return pulumi.Output.all(**{f: handle[f] for f in fields if handle.get(f) is not None})
    if is_output(handle):  # the whole handle, as the early check reads a plain one
        return pulumi.Output.from_input(handle).apply(lambda h: dict(h) if isinstance(h, Mapping) else {})
    return None


def late_rules_of(component: str, name: str, args: Any, handles: Mapping[str, Iterable[str]], args_type: type,
                  rules: Optional[Rules] = None) -> Optional[pulumi.Output[Any]]:
    """`late_rules` for several handle inputs (key -> the fields read) whose rule reads them together (Observability's
    workspaces' region held to the cluster's): the rules run once, after every handle with a field not known yet
    resolves, with each resolved. One check per handle would run the rule with the other's field still an output,
    which the rule reads as unknown and passes: with both late, nothing would be refused. None when no handle waits;
    else an output of each waiting handle's fields by key."""
    if not isinstance(args, Mapping):
        return None
    waits = {key: wait for key, fields in handles.items()
             if (wait := _waiting(args.get(key), tuple(fields))) is not None}
    if not waits:
        return None
    resolved = pulumi.Output.all(**waits)
    check = rules or RULES[component]

    async def refuse(values: dict[str, Any]) -> dict[str, Any]:
        given = dict(args)
        for key, got in values.items():
            handle = args.get(key)
            given[key] = whole_numbers({**(handle if isinstance(handle, Mapping) else {}), **got})  # 8080.0 -> 8080
        try:
            refuse_now(component, name, given, args_type, check)
        except ComponentInputError as error:
            if not await resolved.is_secret():
                raise LateInputError.of(error) from None
            # a secret handle (a stack's secret output, read through a StackReference): a rule names its fields'
            # values, in its allowed text too (the cluster's own pools), so each goes, as the rechecks leave it out
            prefix, sentence, shown = f"{component} {name}: ", str(error), list(values.values())
            body = sentence[len(prefix):] if sentence.startswith(prefix) else sentence
            raise LateInputError(prefix + _unshown(body, shown), [
                (e["property_path"], _unshown(e["reason"], shown)) for e in error.errors or []]) from None
        return values
    return awaited(resolved.apply(refuse))


def after_check(check: Optional[pulumi.Output[Any]], value: Any) -> Any:
    """`value`, waiting for a late check (`late_rules`; none: `value` as it is): a resource that takes it is not
    registered with an input the check refuses."""
    if check is None:
        return value
    return pulumi.Output.all(check, value).apply(lambda v: v[1])


def handle_after_check(check: Optional[pulumi.Output[Any]], handle: Any, key: Union[str, tuple[str, ...]]) -> Any:
    """A handle a composite hands on to its parts with its field `key` (or each of the fields `key` names that it
    holds; or the whole handle, when it is one output) waiting for the composite's late check, so a part's own check
    of it never runs first, in the part's words."""
    if check is None:
        return handle
    if isinstance(handle, Mapping) and isinstance(key, str):
        return {**handle, key: after_check(check, handle.get(key))}
    if isinstance(handle, Mapping):
        return {**handle, **{k: after_check(check, handle[k]) for k in key if k in handle}}
    return after_check(check, handle)
