"""The component provider: hosts every component for other Pulumi languages (`pulumi package add`).

The schema is inferred from the components' type annotations and docstrings by the Pulumi SDK's analyzer; this
module adds what the analyzer cannot see (which properties are secret) and serves it.

It also owns the provider boundary, where inputs arrive as the engine's wire sends them (docs/decisions.md,
"Component provider boundary"): every number a double, an input that depends on another resource as one output of
its whole value. The SDK's own mapping (pulumi 3.272.0, `provider/experimental/component.py`,
`map_input_properties`) keeps whole numbers as floats (its `int()` result is overwritten) and replaces an object
input that arrives as an output, or as a string, by `{}`. So this provider maps inputs itself, and turns every input
error, the components' own included, into a per-property error the engine prints.
"""
import argparse
import asyncio
import contextvars
import json
import re
import sys
import traceback
from enum import Enum
from typing import Any, Callable, NamedTuple, Optional, cast

import grpc.aio  # type: ignore[import-untyped]  # grpcio ships no type information
import pulumi
from google.protobuf import json_format
from pulumi.errors import InputPropertiesError, InputPropertyError, InputPropertyErrorDetails
from pulumi.output import _OutputData
from pulumi.provider import ConstructResult
from pulumi.provider.experimental.analyzer import PropertyDefinition, PropertyType
from pulumi.provider.experimental.component import ComponentProvider
from pulumi.provider.experimental.util import camel_case
from pulumi.provider.server import ComponentInitError, ProviderServicer
from pulumi.resource import DependencyResource
from pulumi.runtime._grpc_settings import _GRPC_CHANNEL_OPTIONS
from pulumi.runtime.rpc import (_special_output_value_sig, _special_secret_sig, _special_sig_key,
                                contains_unknowns)
from pulumi.runtime.proto import provider_pb2_grpc

from . import PACKAGE, __version__, all_components
from .checks import CONSTRUCT_CHECKS, awaited, hidden
from .errors import LateInputError
from .handles import FIELD_DEPENDENCIES
from .rules import nearest_or_all
from .schema_extras import enrich
from .shared_names import remember_sent
from .wire_names import SchemaNames, property_names

SECRET_MARK = "Secret."  # a property whose description ends with this is marked secret in the schema


def mark_secrets(schema: dict[str, Any]) -> dict[str, Any]:
    """Set `secret: true` on every input and output property whose docstring says it is secret."""
    def walk(properties: dict[str, Any]) -> None:
        for prop in properties.values():
            if str(prop.get("description", "")).rstrip().endswith(SECRET_MARK):
                prop["secret"] = True
    for resource in schema.get("resources", {}).values():
        walk(resource.get("inputProperties", {}))
        walk(resource.get("properties", {}))
    for type_ in schema.get("types", {}).values():
        walk(type_.get("properties", {}))
    return schema


# `[/<package>/v<version>/schema.json]#/resources/pulumi:providers:<package>`: a provider named as a resource
_PROVIDER_AS_RESOURCE = re.compile(r"^(?P<location>[^#]*)#/resources/pulumi:providers:(?P<package>[-\w]+)$")


def provider_refs(schema: dict[str, Any]) -> dict[str, Any]:
    """A package's provider referred to as Pulumi's binder asks: `/kubernetes/v4.34.2/schema.json#/provider`. The
    SDK's analyzer (pulumi 3.272.0 `provider/experimental/analyzer.py`) writes
    `.../schema.json#/resources/pulumi:providers:kubernetes`, on which the binder warns at every `pulumi package add`
    and `gen-sdk` ("reference to provider resource ... is deprecated, use '#/provider' instead": pulumi/pulumi v3.259.0
    `pkg/codegen/schema/bind.go` `parseTypeSpecRef`; pulumi/pulumi#20029 is to make it an error). Both forms bind to
    the same provider type, so generated SDKs are unchanged."""
    def visit(node: dict[str, Any]) -> None:
        match = _PROVIDER_AS_RESOURCE.match(str(node.get("$ref", "")))
        if match:  # the package the reference is into: the path's first segment, or this one's for `#/...`
            location = match["location"]
            if (location.strip("/").split("/")[0] if location else schema.get("name")) == match["package"]:
                node["$ref"] = f"{location}#/provider"
    _each_object(schema, visit)
    return schema


def _each_object(node: Any, visit: Callable[[dict[str, Any]], None]) -> None:
    """`visit` on every JSON object in `node`, outermost first (it may change the object's values in place)."""
    if isinstance(node, dict):
        visit(node)
        for value in node.values():
            _each_object(value, visit)
    elif isinstance(node, list):
        for item in node:
            _each_object(item, visit)


# A handle a component outputs crosses the engine as one output, whose dependencies are those of all its fields (the
# SDK's Construct answers one set per top-level output: pulumi 3.272.0 `provider/server.py` `_construct_response`;
# the engine hands the program only those, its monitor marshalling the component's state without output values:
# pulumi/pulumi 1b5949891b `pkg/resource/deploy/source_eval.go` `RegisterResource`). A consumer built from such a
# handle got every field with all of them: a force-new input from one field (a GPU pool's `resourceName` from
# `clusterName`) held the CPU pool and the subnets, so the engine's delete-first chain replaced it with them
# (`calculateDependentReplacements`). So the handle carries, by field, the URNs its value came from, and a consumer
# gives each field those alone, as a Python program's dict handle does (FIELD_DEPENDENCIES, handles.py).


def handle_types(schema: dict[str, Any]) -> set[str]:
    """The tokens of the object types a component outputs (handles)."""
    outputs = {prop["$ref"].split("/")[-1] for resource in schema.get("resources", {}).values()
               for prop in resource.get("properties", {}).values() if "$ref" in prop}
    return {token for token in outputs if schema.get("types", {}).get(token, {}).get("type") == "object"}


def handle_field_dependencies(schema: dict[str, Any]) -> dict[str, Any]:
    """Add FIELD_DEPENDENCIES to every object type a component outputs (a handle), so that every language's SDK
    keeps it when it hands the handle on."""
    for token in handle_types(schema):
        schema["types"][token].setdefault("properties", {})[FIELD_DEPENDENCIES] = {
            "type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}},
            "description": ("Set by the component that outputs the handle, through the component provider: by "
                            "field, the URNs of the resources its value comes from, so that a component given "
                            "the handle gives each field those alone (the engine hands on one set for the "
                            "whole handle). Pass the handle on as it is; one built by hand leaves it out.")}
    return schema


def tidy_descriptions(schema: dict[str, Any]) -> dict[str, Any]:
    """Descriptions as other languages' SDKs and docs show them: a docstring's line breaks and indentation inside a
    paragraph become one space (blank lines still part paragraphs), a Python name of a property the schema has
    (`route_target`) is spelt as the schema spells it (`routeTarget`), Python's True/False as true/false, and a bare
    None (an output left unset: undefined, nil or null elsewhere) as "absent"; a quoted `None` (an enum value) stays."""
    names = property_names(schema)

    def tidy(text: str) -> str:
        paragraphs = [" ".join(part.split()) for part in re.split(r"\n\s*\n", text)]
        text = "\n\n".join(p for p in paragraphs if p)
        text = re.sub(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b",
                      lambda m: camel_case(m.group()) if camel_case(m.group()) in names else m.group(), text)
        text = re.sub(r"(?<![`'\"])\bNone\b(?![`'\"])", "absent", text)
        return re.sub(r"\bdefault (True|False)\b", lambda m: f"default {m.group(1).lower()}", text)

    def visit(node: dict[str, Any]) -> None:
        if isinstance(node.get("description"), str):
            node["description"] = tidy(node["description"])
    _each_object(schema, visit)
    return schema


def whole_number(value: Any, path: str) -> int:
    """A schema integer as the wire carries it (a double) back to an int; a fraction or a non-number is refused."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):  # Pulumi YAML refuses a quoted literal; another stack's output or config is text
        raise InputPropertyError(path, f"expects a whole number, got str {value!r}")
    raise InputPropertyError(path, f"{value!r} is not a whole number")


def number(value: Any, path: str) -> float | int:
    """A schema number as the component reads it: an int or a float; text or true/false is refused as such (Pulumi
    YAML refuses a quoted literal, not another stack's output or a string config value, and the components' rules
    then refused GpuNodePool's spotMaxPrice '0.5' as no "USD price above 0")."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    raise InputPropertyError(path, f"expects a number, got {type(value).__name__} {value!r}")


def scalar_text(value: Any) -> Any:
    """A number or true/false given where the schema says string, as the text the program wrote: Pulumi YAML's
    type checker takes a number or a boolean for a string property ("we coerce numbers to strings", pulumi-yaml
    36f271cf `pkg/pulumiyaml/analyser.go` `isAssignable`) and then sends it as it is (`run.go` `evaluateExpr`: a
    float64), so `version: 16` or `OLLAMA_CONTEXT_LENGTH: 8192` arrives as 16.0 or 8192.0. Any other value is
    returned as it is."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    if isinstance(value, (int, float)):
        return repr(value)
    return value


_UNRESOLVED = object()


def _settled(value: pulumi.Output) -> Optional[_OutputData]:
    """The data of an output the SDK server made from a value the engine sent (its `_data` future, resolved: pulumi
    3.272.0 `Output._from_data`, set by `ProviderServicer._select_value`), or None for any other output."""
    data = getattr(value, "_data", None)
    if not isinstance(data, asyncio.Future) or not data.done() or data.cancelled() or data.exception() is not None:
        return None
    result = data.result()
    return result if isinstance(result, _OutputData) else None


def _plain(value: Any) -> bool:
    """Text, a number, a boolean, or lists and maps of them: a value known when the program runs (no output)."""
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_plain(v) for v in value)
    return isinstance(value, (str, int, float, bool)) and not isinstance(value, Enum)


# The handles each component of this deployment handed out: its URN (an output, resolved once the
# engine has it), the handle's type, its fields by schema name, the plain ones' values, and its FIELD_DEPENDENCIES
# (the URNs Construct's answer names for it). Pulumi YAML reads an output holding an unknown anywhere as unknown as
# a whole in a preview (pulumi/pulumi-yaml 36f271cf `pkg/pulumiyaml/run.go` `evaluatePropertyAccessTail`: a
# PropertyMap that `ContainsUnknowns()` is `unknownOutput()`), so `${aks.cluster}` of a cluster still to be created
# reaches the next component as one unknown, its plain fields (networkPolicy, a GPU pool's driver) lost, where a
# Python program's preview hands the same dict on; `up` knows them. The engine starts a plugin process for each
# provider of a deployment (pulumi/pulumi 1b5949891b `pkg/host/host.go` `Provider`: a new plugin per call), so the
# components of the default provider share this one; one under a provider resource of its own is in another, where
# its handles stay unknown. An entry of another stack, or of the same URN recorded by an earlier Construct (a process
# serving more than one deployment: the test harness), is dropped. In `up` and in a preview alike they also vouch
# for a handle's FIELD_DEPENDENCIES (`_field_dependencies`): Pulumi YAML sends `${aks.cluster}` depending on the
# component alone (pulumi/pulumi 1b5949891b `sdk/go/pulumi/context.go`: a resource's raw outputs, which pulumi-yaml
# reads, depend on it alone), so the URNs the handle lists are not among those sent; they are this deployment's
# when the component sent handed out exactly that list here.
class _Handed(NamedTuple):
    urn: Any  # the component's URN: an output until the engine has it (in `_current_handles`, its text)
    type_name: str
    fields: list[str]
    plain: dict[str, Any]
    dependencies: pulumi.Output
    given: dict[str, Any]  # the fields as the component gave them (outputs), for `_not_known_when_handed_out`


_HANDED_OUT: list[_Handed] = []


def _record_handle(urn: pulumi.Output, type_name: str, handle: dict[str, Any]) -> None:
    _current_handles()
    given = {k: v for k, v in handle.items() if k != FIELD_DEPENDENCIES}
    _HANDED_OUT.append(_Handed(urn, type_name, list(given), {k: v for k, v in given.items() if _plain(v)},
                               handle[FIELD_DEPENDENCIES], given))


def _current_handles() -> list[_Handed]:
    """The entries of this deployment whose URN is known, each URN's from the Construct that recorded it last; the
    list itself pruned of the others known (another stack's or project's, an earlier Construct's)."""
    prefix = f"urn:pulumi:{pulumi.get_stack()}::{pulumi.get_project()}::"
    latest: dict[str, pulumi.Output] = {}
    for entry in _HANDED_OUT:
        known = known_value(entry.urn)
        if isinstance(known, str):
            latest[known] = entry.urn
    kept, current = [], []
    for entry in _HANDED_OUT:
        known = known_value(entry.urn)
        if not isinstance(known, str):
            kept.append(entry)  # not resolved yet: its component is being constructed
        elif known.startswith(prefix) and latest[known] is entry.urn:
            kept.append(entry)
            current.append(entry._replace(urn=known))
    _HANDED_OUT[:] = kept
    return current


def previewed_handle(value: pulumi.Output, type_name: str,
                     structure: Any = _UNRESOLVED) -> Optional[dict[str, Any]]:
    """A handle sent unknown as a whole in a preview (a Pulumi YAML `${component.handle}` not known yet), as that
    component handed it out: its plain fields' values, every other field the unknown itself (depending on that
    field's own resources); None when such a value is secret, or its dependencies are not one component of this
    deployment that handed out one handle of the type (of two, the one `_sent_as` tells), and resources of that
    handle (another resource among them: the unknown may be a Pulumi YAML builtin's over more than that handle, such
    as an `fn::select` between it and one built from a StackReference's outputs). A builtin over the handle and
    values with no dependencies (a handle written out of literals) is the same on the wire as the handle, and is
    read as it (docs/decisions.md, "A YAML stranger's own programs", Review).

    A handle sent known in a preview, `structure` as `spread` gave it, is a Go program's when that component
    handed it out with fields not known yet: the Go SDK holds such a handle as known, each of those fields at its
    Go zero value ("" for a text, false, 0; a list or map left out), and sends it so (docs/decisions.md, "Handles
    from Go, TypeScript, .NET and Java programs in a preview"). Each of those fields is read as not known, with
    its own dependencies; None when no field is."""
    data = _settled(value)
    if data is None or not pulumi.runtime.is_dry_run() or (data.is_secret and not data.is_known):
        return None
    sent = {known_value(r.urn) for r in data.resources}
    found = [entry for entry in _current_handles() if entry.type_name == type_name and entry.urn in sent]
    if len(found) > 1:  # a component's handles of one type (LlmdStack's endpoint and uiEndpoint): the one sent
        found = [entry for entry in found if _sent_as(entry, data, sent)]
    if len(found) != 1:
        return None
    urn, _, fields, plain, dependencies, given = found[0]
    by_field = known_value(dependencies)
    if not isinstance(by_field, dict) or not sent <= {urn, *(u for urns in by_field.values() for u in urns)}:
        return None
    if not data.is_known:  # each other field the unknown, depending on its own resources as in an up
        return {k: plain[k] if k in plain else _unknown({DependencyResource(u) for u in by_field[k]}, False)
                if k in by_field else value for k in fields}
    not_known = _not_known_when_handed_out(given)
    if not not_known or not isinstance(structure, dict) or not isinstance(data.value, dict):
        return None
    own = _field_dependencies(data.value, data.resources) or {}
    return {**structure, **{k: _unknown(own.get(k, set(data.resources)), data.is_secret) for k in not_known}}


def _sent_as(entry: _Handed, data: _OutputData, sent: set[Any]) -> bool:
    """Whether a handle sent is this one of its component's handles of one type: one sent known (a Go program's) by
    the FIELD_DEPENDENCIES it carries, one unknown as a whole by its dependencies, the component and the URNs of
    every field, as a typed SDK sends them (Pulumi YAML sends the component alone: not told apart, None)."""
    by_field = known_value(entry.dependencies)
    if not isinstance(by_field, dict):
        return False
    listed = data.value.get(FIELD_DEPENDENCIES) if data.is_known and isinstance(data.value, dict) else None
    if listed is not None:
        return isinstance(listed, dict) and all(
            isinstance(urns, list) and all(isinstance(u, str) for u in urns) for urns in listed.values()) and {
            k: sorted(v) for k, v in listed.items()} == {k: sorted(v) for k, v in by_field.items()}
    return sent == {entry.urn, *(u for urns in by_field.values() for u in urns)}


def _not_known_when_handed_out(given: dict[str, Any]) -> set[str]:
    """The fields of a handle a component handed out that held a value not known yet (a preview's); none while one
    of them is not resolved."""
    found = set()
    for key, value in given.items():
        for output in _outputs_in(value):
            data = _settled(output)
            if data is None:
                return set()
            if not data.is_known or contains_unknowns(data.value):
                found.add(key)
    return found


def _unknown(resources: set[pulumi.Resource], secret: bool) -> pulumi.Output:
    """An output not known yet, depending on `resources`, as the SDK's server makes of an output value without one."""
    future: asyncio.Future = asyncio.get_event_loop().create_future()
    future.set_result(_OutputData(resources=resources, value=None, is_known=False, is_secret=secret))
    return pulumi.Output._from_data(future)


def known_value(value: pulumi.Output, secret: bool = True) -> Any:
    """The value of an output the engine sent with a known value, or _UNRESOLVED (unknown in a preview, or not such
    an output; or secret, unless `secret`)."""
    result = _settled(value)
    if result is None or not result.is_known or contains_unknowns(result.value):  # a spread leaf may hold a
        return _UNRESOLVED  # preview's Unknown (keep_unknowns) as its value
    return _UNRESOLVED if result.is_secret and not secret else result.value


def spread(value: pulumi.Output) -> Any:
    """An object or list input the SDK server wrapped whole as one Output (because it has dependencies or a secret
    inside), as plain containers whose leaves are Outputs carrying the same dependencies and secrecy: what a Python
    caller passes (a handle is a dict of outputs), so a component can shape resources from the structure (one origin
    each, a list's length) while every value keeps its dependencies; anything else is left as it is."""
    result = _settled(value)
    if result is None or not isinstance(result.value, (dict, list)):
        return _UNRESOLVED
    by_field = _field_dependencies(result.value, result.resources)

    def leaf(item: Any, resources: set[pulumi.Resource]) -> Any:
        if isinstance(item, dict):
            return {k: leaf(v, resources) for k, v in item.items()}
        if isinstance(item, list):
            return [leaf(v, resources) for v in item]
        future: asyncio.Future = asyncio.get_event_loop().create_future()
        future.set_result(_OutputData(resources=resources, value=item, is_known=True, is_secret=result.is_secret))
        return pulumi.Output._from_data(future)
    handle = result.value
    if by_field is None or not isinstance(handle, dict):
        return leaf(handle, set(result.resources))
    # a handle with its fields' dependencies (FIELD_DEPENDENCIES): each field gets its own; one it does not list, all
    return {k: leaf(v, by_field[k] if k in by_field else set(result.resources))
            for k, v in handle.items() if k != FIELD_DEPENDENCIES}


def _field_dependencies(value: Any, sent: set[pulumi.Resource]) -> Optional[dict[str, set[pulumi.Resource]]]:
    """A handle's FIELD_DEPENDENCIES as the resources a field's output carries (the engine's own stand-ins for
    URNs, as the SDK's server makes for an input's dependencies), or None where it has none, not in its shape, or
    naming a URN not among those the engine `sent` for the whole handle. A handle this deployment's component output
    and the program handed on lists only those (the union of its fields'); one read from another stack (a
    StackReference's output depends on the reference alone) or copied from an older one may list others, and a
    resource depending on a URN its stack does not hold fails the engine's snapshot check on every save ("resource
    ...'s dependency ... refers to missing resource": pulumi/pulumi 1b5949891b `pkg/resource/deploy/snapshot.go`
    `VerifyIntegrity`, run by `pkg/backend/snapshot.go` `saveSnapshot`): such a handle is read as one without it."""
    listed = value.get(FIELD_DEPENDENCIES) if isinstance(value, dict) else None
    if not isinstance(listed, dict) or not all(
            isinstance(urns, list) and all(isinstance(u, str) for u in urns) for urns in listed.values()):
        return None
    known = {data.value for data in (_settled(r.urn) for r in sent) if data is not None}
    if not all(u in known for urns in listed.values() for u in urns) and not _handed_out_here(listed, known):
        return None
    return {key: {DependencyResource(urn) for urn in urns} for key, urns in listed.items()}


def _handed_out_here(listed: dict[str, list[str]], sent: set[Any]) -> bool:
    """A component among those `sent` handed out, in this deployment, a handle listing exactly these
    FIELD_DEPENDENCIES (a Pulumi YAML reference carries the component's URN alone: `_HANDED_OUT`)."""
    wanted = {k: sorted(v) for k, v in listed.items()}
    for entry in _current_handles():
        if entry.urn in sent:
            given = known_value(entry.dependencies)
            if isinstance(given, dict) and {k: sorted(v) for k, v in given.items()} == wanted:
                return True
    return False


def handle_dependencies(handle: dict[str, Any]) -> pulumi.Output[dict[str, list[str]]]:
    """FIELD_DEPENDENCIES of a handle a component outputs (schema names): by field, the URNs of the resources its
    outputs carry, as Construct's answer names an output's (pulumi 3.272.0 `provider/server.py`
    `_construct_response`: each resource's URN, unknown ones left out). An output of its own with no resources."""
    async def urns() -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for key, value in handle.items():
            resources: set[pulumi.Resource] = set()
            for output in _outputs_in(value):
                resources |= await output.resources()
            known = await asyncio.gather(*(r.urn.future() for r in resources))
            found[key] = sorted({u for u in known if u is not None})
        return found
    data: asyncio.Future = asyncio.ensure_future(_as_data(urns()))
    return pulumi.Output._from_data(data)


async def _as_data(value: Any) -> _OutputData:
    return _OutputData(resources=set(), value=await value, is_known=True, is_secret=False)


def _outputs_in(value: Any) -> list[pulumi.Output]:
    if isinstance(value, pulumi.Output):
        return [value]
    if isinstance(value, dict):
        return [o for v in value.values() for o in _outputs_in(v)]
    if isinstance(value, list):
        return [o for v in value for o in _outputs_in(v)]
    return []


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


# "<Component> <name>" of the Construct whose inputs are mapped: the sentence a late mapping refusal starts with.
# Per request (each gRPC request runs in its own task), not on the provider, which concurrent Constructs share.
_CONSTRUCTING: contextvars.ContextVar[str] = contextvars.ContextVar("llmplatform_constructing", default="")


class PlatformProvider(ComponentProvider):
    def __init__(self, version: str = __version__) -> None:
        super().__init__(all_components(), PACKAGE, None, version)
        schema = handle_field_dependencies(provider_refs(mark_secrets(json.loads(cast(str, self.schema)))))
        # the handles' properties as map_input_properties is given them: FIELD_DEPENDENCIES is dropped there alone
        self._handle_properties = [self._type_defs[t.rsplit(":", 1)[-1]].properties for t in handle_types(schema)
                                   if t.rsplit(":", 1)[-1] in self._type_defs]
        self.schema = json.dumps(tidy_descriptions(enrich(schema)), indent=2, sort_keys=True)
        self.names = SchemaNames(schema)  # a component's refusal spelt in them (wire_names)

    def in_schema_names(self, resource_type: str, name: str, message: str,
                        errors: Optional[list[InputPropertyErrorDetails]]) -> InputPropertiesError:
        """A component's own refusal (its checks write Python names: `system_pool.min_count`) as a user of another
        language reads it, every input and field named as the schema names it (`systemPool.minCount`), the values
        it shows as they were given (wire_names; docs/decisions.md, "Refusals in the schema's names")."""
        text, problems = self.names.refusal(resource_type, name, message,
                                            [(e["property_path"], e["reason"]) for e in errors or []])
        return InputPropertiesError(text, [{"property_path": path, "reason": reason}
                                           for path, reason in problems] or None)

    def construct(self, name: str, resource_type: str, inputs: pulumi.Inputs,
                  options: Optional[pulumi.ResourceOptions] = None) -> ConstructResult:
        component = resource_type.rsplit(":", 1)[-1]
        _CONSTRUCTING.set(f"{component} {name}")  # the request's own context: applies made from it see it too
        if resource_type != f"{PACKAGE}:index:{component}" or component not in self._components:
            # the program's type (a newer SDK's component, a typo in a YAML type): the SDK's KeyError read as a bug
            raise InputPropertiesError(
                f"{resource_type} {name}: the llmplatform component provider {__version__} has no such component; "
                + nearest_or_all(component, self._components, "components"))
        try:
            return super().construct(name, resource_type, inputs, options)
        except InputPropertyError as error:  # from mapping the inputs: one property
            raise InputPropertiesError(f"{component} {name}: input {error.property_path}: {error.reason}",
                                       [{"property_path": error.property_path, "reason": error.reason}]) from None
        except ComponentInitError as error:  # the component's own checks: their message, in the schema's names
            inner = error.inner
            if not isinstance(inner, InputPropertiesError):
                raise
            raise self.in_schema_names(resource_type, name, inner.message, inner.errors) from None

    def get_state(self, instance: pulumi.ComponentResource, component_def: Any) -> dict[str, Any]:
        """The SDK's state, each handle (an object type output as a dict) with its FIELD_DEPENDENCIES."""
        state = super().get_state(instance, component_def)
        for key, prop in component_def.outputs.items():
            type_def = self.get_type_definition(prop) if prop.ref else None
            if type_def is not None and not type_def.enum and isinstance(state.get(key), dict):
                state[key] = {**state[key], FIELD_DEPENDENCIES: handle_dependencies(state[key])}
                _record_handle(instance.urn, type_def.name, state[key])
        return state

    def map_input_properties(self, inputs: Any, properties: dict[str, PropertyDefinition], mapping: dict[str, str],
                             component_name: str, property_path: str, shared: bool = False) -> dict[str, Any]:
        """Schema names to Python names, recursively, with whole numbers as ints and objects checked to be objects;
        a value that arrives as an output is mapped inside it. `shared`: as `_map_value`'s."""
        mapped: dict[str, Any] = {}
        python_names = {python: schema for schema, python in mapping.items() if python != schema}
        if isinstance(inputs, dict) and any(properties is handle for handle in self._handle_properties):
            # a handle: FIELD_DEPENDENCIES is its own, spent by `spread` (in a spec a caller writes: refused); and
            # one a Python program exported (read through a StackReference) has Python's names, each read as the
            # schema's by the analyzer's own mapping, as checks.handle_types.python_named reads this shape in Python
            inputs = {python_names[k] if k in python_names and python_names[k] not in inputs else k: v
                      for k, v in inputs.items() if k != FIELD_DEPENDENCIES}
        else:
            python_names = {}
        for given in (inputs if isinstance(inputs, dict) else {}):  # an unknown name is refused, not dropped
            if given in python_names:  # a handle's field in both spellings
                raise InputPropertyError(_join(property_path, str(given)),
                                         f"is {python_names[given]!r} again, as Python names it; give one of them")
            if given not in properties:
                raise InputPropertyError(_join(property_path, str(given)),
                                         "is not an input; " + nearest_or_all(str(given), properties, "inputs"))
        for schema_name, prop in properties.items():
            value = inputs.get(schema_name) if isinstance(inputs, dict) else None
            path = _join(property_path, schema_name)
            if value is None:
                if not prop.optional:
                    raise InputPropertyError(path, f"Missing required input '{path}' on '{component_name}'")
                continue
            mapped[mapping[schema_name]] = self._map_value(value, prop, component_name, path, shared)
        return mapped

    def _map_value(self, value: Any, prop: PropertyDefinition, component_name: str, path: str,
                   shared: bool = False, container: Optional[PropertyDefinition] = None) -> Any:
        """One value as the component reads it. `shared`: it was spread out of an output holding objects (a spec, a
        handle, a list of them), whose secrecy may be any of their fields' (the SDK's server marks a whole input
        secret when one part is); `container`: the list or map property it is an item of."""
        if isinstance(value, pulumi.Output):
            structure = spread(value)
            if prop.ref and not prop.plain:
                type_def = self.get_type_definition(prop)
                if type_def is not None and not type_def.enum:
                    structure = previewed_handle(value, type_def.name, structure) or structure
            if structure is not _UNRESOLVED:
                return self._map_value(structure, prop, component_name, path, shared or self._holds_objects(prop),
                                       container)
            plain = _UNRESOLVED
            if prop.plain and (container is None or container.plain):
                # a `plain` input (a spec's field too) is read when the program runs: a known value is handed over
                # as such, as a Python caller writes it and as another language's SDK sends it (a plain property
                # carries no dependencies; a spec's field arrives as an output when a sibling has them, spread gives
                # it the whole object's); an unknown one stays an output, which the component refuses in its words.
                # Not the items of a pulumi.Input list or map (the analyzer marks them plain whatever they are: they
                # keep their dependencies), nor a secret that is the value's own (a plain input, a plain list's
                # items, a field the engine sent as an output value of its own), which stays an output: refused, or
                # kept secret, as a Python caller's is. A secret spread out of objects may be a sibling's: handed over
                plain = known_value(value, secret=shared)
            if plain is not _UNRESOLVED:
                try:
                    return None if plain is None else self._map_value(plain, prop, component_name, path, shared,
                                                                      container)
                except InputPropertyError as error:  # a secret spread out of objects (another stack's output
                    data = _settled(value)  # read through a StackReference): its value stays out of the message
                    if data is None or not data.is_secret:
                        raise
                    raise InputPropertyError(error.property_path, hidden(error.reason)) from None
            words = _CONSTRUCTING.get()

            async def mapped(v: Any) -> Any:  # an input error once it resolves: refused as the late checks refuse
                try:
                    return None if v is None else self._map_value(v, prop, component_name, path, shared, container)
                except InputPropertyError as error:  # a secret's value stays out of the message, as theirs
                    reason = hidden(error.reason) if await value.is_secret() else error.reason
                    raise LateInputError(f"{words}: input {error.property_path}: {reason}",
                                         [(error.property_path, reason)]) from None
            result = awaited(value.apply(mapped))
            # a name sent known (not secret), for the claims that compare components by it (shared_names)
            remember_sent(result, known_value(value, secret=False))
            return result
        if prop.ref:
            enum_type = self._enum_type(prop)
            if enum_type is not None:
                try:
                    return enum_type(value)
                except ValueError:
                    allowed = ", ".join(repr(m.value) for m in enum_type)
                    raise InputPropertyError(path, f"{value!r} is not one of {allowed}") from None
            type_def = self.get_type_definition(prop)
            if type_def is None:  # Any, assets, external references
                return value
            if not isinstance(value, dict):
                raise InputPropertyError(
                    path, f"expects an object ({type_def.name}), got {type(value).__name__} {value!r}")
            return self.map_input_properties(value, type_def.properties, type_def.properties_mapping,
                                             component_name, path, shared)
        if prop.type == PropertyType.INTEGER:
            return whole_number(value, path)
        if prop.type == PropertyType.NUMBER:
            return number(value, path)
        if prop.type == PropertyType.STRING:
            return scalar_text(value)
        if prop.type == PropertyType.ARRAY and prop.items is not None:
            if not isinstance(value, list):
                raise InputPropertyError(path, f"expects a list, got {type(value).__name__} {value!r}")
            return [self._map_value(item, prop.items, component_name, f"{path}[{i}]", shared, prop)
                    for i, item in enumerate(value)]
        if prop.type == PropertyType.OBJECT and prop.additional_properties is not None:
            if not isinstance(value, dict):
                raise InputPropertyError(path, f"expects a map, got {type(value).__name__} {value!r}")
            return {k: self._map_value(v, prop.additional_properties, component_name, _join(path, k), shared, prop)
                    for k, v in value.items()}
        return value

    def _holds_objects(self, prop: PropertyDefinition) -> bool:
        """The property is an object type with fields, or a list or map of them."""
        if prop.ref:
            type_def = self.get_type_definition(prop)
            return type_def is not None and not type_def.enum
        inner = prop.items if prop.type == PropertyType.ARRAY else prop.additional_properties
        return inner is not None and self._holds_objects(inner)

    def _enum_type(self, prop: PropertyDefinition) -> Optional[type[Enum]]:
        external = self._external_enum_types.get(prop.ref or "")
        if external is not None:
            return external
        type_def = self.get_type_definition(prop)
        return type_def.python_type if type_def is not None and type_def.enum else None


class InternalConstructError(pulumi.RunError):
    """A Construct that failed on no input problem: a bug of the package. A RunError, so the SDK's server passes it
    on as it is (its own wording would carry the plugin's stack); PlatformServicer answers it with `message`."""

    def __init__(self, component: str, name: str, error: BaseException):
        self.message = (f"{component} {name}: internal error in the llmplatform component provider {__version__} "
                        f"({type(error).__name__}), not a problem of your inputs: this is a bug, please report it "
                        f"with this message and the provider's traceback, which `pulumi up --debug` (or preview) "
                        f"shows: that output quotes input values, secrets included (the SDK logs every failed "
                        f"registration there as well), so take them out before you share it")
        super().__init__(self.message)
        self.traceback = "".join(traceback.format_exception(error))  # the engine's debug channel only


class PlatformServicer(ProviderServicer):
    """The SDK's provider server, ending a Construct refused by a late check (a LateInputError: an input checked once
    it resolved) as the early checks end it: INVALID_ARGUMENT with one error per property, in schema names, which the
    engine prints as the path and the reason. The SDK's own server passes any RunError on as it is (pulumi 3.272.0,
    `provider/server.py` Construct), and gRPC then reports `Unexpected <class '...LateInputError'>: ...`.

    Any other error (a bug) the SDK's server answers with its message and the plugin's Python stack, which the engine
    shows the user as the resource's problem (pulumi/pulumi 1b5949891b `pkg/resource/deploy/source_eval.go`
    `errorToMessage`, the status message as it is): here one sentence naming the component and the resource and
    saying it is a bug; the traceback goes to the engine's debug channel (`pulumi.log.debug`: the CLI shows it with
    `--debug` only, `pkg/backend/display/progress.go` `renderProgressDiagEvent`)."""

    async def _construct(self, request: Any, context: Any) -> Any:
        """The SDK's Construct, then every late check the component made (`checks.awaited`): one of a field that no
        code reads would otherwise never run here (the SDK awaits only the returned outputs and the RPCs under
        way), where a Python program's language host awaits every outstanding task before the program ends."""
        pending: list[pulumi.Output[Any]] = []
        token = CONSTRUCT_CHECKS.set(pending)
        try:
            response = await super()._construct(request, context)
            for check in pending:
                await check.future()
            return response
        except Exception as error:  # noqa: BLE001 (sorted below: only a bug is answered otherwise)
            # the component's own error, which the SDK's ComponentInitError carries
            cause = error.inner if isinstance(error, ComponentInitError) else error
            if isinstance(cause, (pulumi.RunError, InputPropertiesError, InputPropertyError)):
                raise  # a refusal of inputs, or a RunError: one reported already, or the engine going away
            raise InternalConstructError(request.type.rsplit(":", 1)[-1], request.name, cause) from cause
        finally:
            CONSTRUCT_CHECKS.reset(token)

    async def Construct(self, request: Any, context: Any) -> Any:  # noqa: N802 (the gRPC method's name)
        _with_input_dependencies(request)
        _REQUEST_INPUTS.set(request.inputs)  # this request's own task and context
        try:
            return await super().Construct(request, context)
        except LateInputError as error:
            # a component's late check (Python names), or the mapping's own (the schema's already, a map's key as
            # given, which the translation keeps)
            refusal = cast(PlatformProvider, self.provider).in_schema_names(
                request.type, request.name, error.message,
                [{"property_path": path, "reason": reason} for path, reason in error.problems])
            await context.abort_with_status(self.create_grpc_invalid_properties_status(refusal.message,
                                                                                        refusal.errors))
            raise  # abort_with_status raised already
        except InternalConstructError as error:
            try:
                pulumi.log.debug(f"{error.message}\n{error.traceback}")
            except Exception:  # noqa: BLE001 (the engine gone: the answer below still goes out)
                pass
            await context.abort(grpc.StatusCode.UNKNOWN, error.message)
            raise  # abort raised already


    def create_grpc_invalid_properties_status(self, message: str,
                                              errors: Optional[list[InputPropertyErrorDetails]]) -> Any:
        """The SDK's status, less the property errors whose value the engine would print with a secret in it: it
        shows each as "property <path> with value '<value>' has a problem" where the path leads through plain
        objects and lists of the inputs it sent to a value, and Go prints a secret's plaintext (pulumi/pulumi
        `pkg/resource/deploy/source_eval.go` `errorToMessage`, `PropertyValue.String`). Their path and reason stay
        in the message, which carries every problem."""
        inputs = _REQUEST_INPUTS.get()
        kept = [e for e in errors or [] if inputs is None or not _shown_with_a_secret(inputs, e["property_path"])]
        # always a list: the SDK's status for None has no trailing metadata, and its abort then fails on that
        # (pulumi 3.272.0 `provider/server.py`: "'Status' object has no attribute 'trailing_metadata'")
        return super().create_grpc_invalid_properties_status(message, kept)


_REQUEST_INPUTS: contextvars.ContextVar[Any] = contextvars.ContextVar("llmplatform_request_inputs", default=None)


def _with_input_dependencies(request: Any) -> None:
    """An input holding output values none of which carries dependencies, where the request names some for that
    input: each of them given those. A program whose SDK sends no output values (Java: an unknown as the unknown
    sentinel, a secret as a secret, the dependencies in propertyDependencies alone) has its unknowns and secrets
    upgraded by the engine to output values without dependencies (pulumi/pulumi 1b5949891b
    `sdk/go/common/resource/plugin/rpc.go`, `UpgradeToOutputValues`), and the SDK's server takes an input holding an
    output value as it is, inputDependencies left aside (pulumi 3.272.0 `provider/server.py` `_select_value`): a
    handle not known yet in a preview lost the component it came from (read as unknown as a whole, its plain fields
    lost), a list item not known yet its dependencies, a secret input its dependencies in an up too. Each gets the
    input's (all of them, as the SDK's server gives every part of a known input sent with dependencies). Where each
    is a secret known (the only output values the engine makes of known values), they go back to secrets as Java
    sent them, so that the server gives the whole input the dependencies, the parts beside them too (a handle Java
    built with one secret field: the others depended on nothing), and marks it secret as one (`deserialize_property`
    pushes a secret inside up): a handle's secret field's secrecy shared by its siblings, as for every language's
    handle sent secret whole."""
    for key, value in request.inputs.fields.items():
        urns = list(request.inputDependencies[key].urns) if key in request.inputDependencies else []
        found: list[Any] = []
        if urns and _output_values_in(value, found) and not any("dependencies" in f for f in found):
            secrets = all("value" in f and "secret" in f and f["secret"].bool_value for f in found)
            for fields in found:
                if secrets:
                    fields[_special_sig_key].string_value = _special_secret_sig
                    del fields["secret"]
                else:
                    fields["dependencies"].list_value.extend(urns)


def _output_values_in(value: Any, found: list[Any]) -> list[Any]:
    """The fields of each output value in a protobuf Value (outside those), appended to `found`."""
    kind = value.WhichOneof("kind")
    if kind == "struct_value":
        fields = value.struct_value.fields
        if _special_sig_key in fields and fields[_special_sig_key].string_value == _special_output_value_sig:
            found.append(fields)
        elif _special_sig_key not in fields:
            for item in fields.values():
                _output_values_in(item, found)
    elif kind == "list_value":
        for item in value.list_value.values:
            _output_values_in(item, found)
    return found


def _shown_with_a_secret(inputs: Any, path: str) -> bool:
    """Whether the engine, showing a property error at `path` (its loose `ParsePropertyPath`: names, `[n]`,
    `["key"]`), finds a value there through plain objects and lists (`PropertyPath.Get`) that is or holds a secret
    (a secret, or an output value marked secret)."""
    value: Any = json_format.MessageToDict(inputs)
    for part in re.findall(r'\[("(?:\\"|[^"])*"|[^\]]*)\]|([^.\[]+)', path):
        index, name = part
        if index.startswith('"'):
            key: Any = index[1:-1].replace('\\"', '"')
        elif index:
            if not re.fullmatch(r"[+-]?[0-9]+", index):
                return False  # Go reads `['key']` as an index that is no number: the path is shown alone
            key = int(index)
        else:
            key = name
        if isinstance(value, list) and isinstance(key, int) and 0 <= key < len(value):
            value = value[key]
        elif isinstance(value, dict) and _special_sig_key not in value and isinstance(key, str) and key in value:
            value = value[key]
        else:
            return False
    return _holds_a_secret(value)


def _holds_a_secret(value: Any) -> bool:
    if isinstance(value, dict):
        sig = value.get(_special_sig_key)
        if sig == _special_secret_sig or (sig == _special_output_value_sig and value.get("secret")):
            return True
        return any(_holds_a_secret(v) for v in value.values())
    return isinstance(value, list) and any(_holds_a_secret(v) for v in value)


def quiet_run_errors(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """The plugin loop's exception handler. A Construct that fails leaves its error, and the errors of the RPCs its
    children still had under way ("Resource monitor has terminated" once the engine stops the deployment), on
    futures nothing awaits; asyncio printed each as "Future exception was never retrieved" with a traceback whenever
    they were collected, often during a later Construct, and the engine shows every line a plugin writes to stderr
    to the user (pulumi `plugin.go`, `runtrace`). A RunError is a refusal already reported (the failed Construct's
    status) or its consequence: dropped. So is a call to the resource monitor that the engine ended by going away:
    the SDK turns UNAVAILABLE into that RunError, but a call the stopping server cancels (CANCELLED, seen when the
    deployment ends while calls are still under way) into a bare Exception of its details, raised from the gRPC
    error (pulumi 3.272.0 `runtime/settings.py` `grpc_error_to_exception`). Anything else is reported as asyncio
    would."""
    error = context.get("exception")
    if isinstance(error, pulumi.RunError) or _ended_by_the_engine(error):
        return
    loop.default_exception_handler(context)


def _ended_by_the_engine(error: Any) -> bool:
    """A monitor call's error raised from a gRPC error the engine's going away caused (CANCELLED, UNAVAILABLE)."""
    cause = getattr(error, "__context__", None)
    code = getattr(cause, "code", None) if isinstance(cause, grpc.RpcError) else None  # a Call's, as grpc raises it
    return callable(code) and code() in (grpc.StatusCode.CANCELLED, grpc.StatusCode.UNAVAILABLE)


def package_schema() -> dict[str, Any]:
    """The schema `pulumi package add` sees, built offline (no engine, no network)."""
    return json.loads(cast(str, PlatformProvider().schema))


def main() -> None:
    """The plugin's entry point: the SDK's `pulumi.provider.main` (its arguments, its gRPC options, the port on
    stdout), serving PlatformServicer."""
    parser = argparse.ArgumentParser(description="llmplatform component provider (gRPC server)")
    parser.add_argument("engine", help="Pulumi engine address")
    engine = parser.parse_known_args()[0].engine
    provider = PlatformProvider()

    async def serve() -> None:
        asyncio.get_running_loop().set_exception_handler(quiet_run_errors)
        server = grpc.aio.server(options=_GRPC_CHANNEL_OPTIONS)
        provider_pb2_grpc.add_ResourceProviderServicer_to_server(
            PlatformServicer(provider, sys.argv[1:], engine_address=engine), server)
        port = server.add_insecure_port(address="127.0.0.1:0")
        await server.start()
        sys.stdout.buffer.write(f"{port}\n".encode())
        sys.stdout.buffer.flush()
        await server.wait_for_termination()
    try:
        asyncio.run(serve())
    except KeyboardInterrupt:
        pass
