"""What pulumi-azure-native does with a recorded resource's inputs, read off the installed SDK's own types.

The mocks accept any value. The provider's `Check` (provider/pkg/provider/provider.go, validateType/validateProperty)
refuses a string where its schema has a number or an array and the reverse; it does not look at an enum's values or
at a key its type does not have: an unknown key is dropped on the way to Azure (only the type's properties are sent),
and a value outside a closed enum reaches Azure, which refuses it. The SDK's input classes carry the same schema (each
property's annotation names its enum class and its nested input class), so the recorded camelCase inputs are walked
against them here.

An open enum (the annotation also admits any string: the REST spec's `modelAsString`) lists the values the SDK was
generated with; Azure may take others (newer values, or values the generator dropped on a name collision), so a value
outside it is a `Finding` of kind "open-enum", for the caller to judge, never a refusal.
"""

import collections.abc
import enum
import functools
import importlib
import inspect
import sys
import typing
from dataclasses import dataclass
from typing import Any, Iterator, Optional

import pulumi
from pulumi import _types as pulumi_types


@dataclass(frozen=True)
class Finding:
    kind: str
    """"type", "closed-enum", "unknown-key", "missing-required" (each a defect), "open-enum" (a value the SDK's
    enum lacks) or "enum-case" (a closed enum's value in another case, which many resource providers accept)."""
    path: str
    """The property path in camelCase, as the inputs are recorded: `agentPoolProfiles[0].mode`."""
    value: Any
    detail: str
    """What the SDK's type allows."""

    @property
    def refused(self) -> bool:
        return self.kind in ("type", "closed-enum", "unknown-key", "missing-required")

    def __str__(self) -> str:
        return f"{self.path} = {self.value!r}: {self.detail}"


_ANNOTATION_NAMES = {"Output": pulumi.Output, "T": Any}


def _resource_class(type_token: str) -> Optional[type]:
    """The SDK's resource class of an azure-native type token (`azure-native:cdn:AFDEndpoint`)."""
    parts = type_token.split(":")
    if len(parts) != 3 or parts[0] != "azure-native":
        return None
    try:
        package = importlib.import_module(f"pulumi_azure_native.{parts[1].replace('/', '.')}")
        return getattr(package, parts[2])
    except (ImportError, AttributeError):
        return None


def _args_class(type_token: str) -> Optional[type]:
    """The `<Type>Args` input class of an azure-native resource type, from the resource class's own module (a
    module's package also exports a nested input type of the same name: network's `SubnetArgs`)."""
    resource = _resource_class(type_token)
    if resource is None:
        return None
    kind = type_token.rsplit(":", 1)[-1]
    module = sys.modules[resource.__module__]  # the generator names it <Type>InitArgs when the name is taken
    return getattr(module, f"{kind}InitArgs", None) or getattr(module, f"{kind}Args", None)


@functools.lru_cache(maxsize=None)
def output_names(type_token: str) -> Optional[frozenset[str]]:
    """The output properties (camelCase) of an azure-native resource type, read off its SDK class's getters: the
    shape of the provider's state after a create or a read, Azure's response (pulumi-azure-native
    `provider/pkg/convert` `PreviewOutputs`, `responseBodyToSdkOutputs`). Path parameters such as `endpointName`
    or `resourceGroupName` are inputs only; the resource's Azure name is the output `name`. None for a type that
    is not azure-native or not in the installed SDK."""
    resource = _resource_class(type_token)
    return None if resource is None else frozenset(output_getters(resource))


def output_getters(sdk_class: type) -> dict[str, Any]:
    """Output property (camelCase, as on the wire) -> its getter, of an SDK resource class or output type: what
    `pulumi.getter` marks (the getter's return annotation is the property's type)."""
    return {getattr(prop.fget, "_pulumi_name"): prop.fget for prop in vars(sdk_class).values()
            if isinstance(prop, property) and hasattr(prop.fget, "_pulumi_name")}


@functools.lru_cache(maxsize=None)
def _properties(input_class: type) -> dict[str, Any]:
    """camelCase property name -> its annotation, evaluated."""
    names = pulumi_types.input_type_py_to_pulumi_names(input_class)
    return {wire: typing.get_type_hints(getattr(input_class, py).fget, localns=_ANNOTATION_NAMES)["return"]
            for py, wire in names.items()}


@functools.lru_cache(maxsize=None)
def _alternatives(annotation: Any) -> tuple[Any, ...]:
    """The concrete types an `Input[...]` annotation admits: Union, Optional, Awaitable and Output unwrapped."""
    found: list[Any] = []
    pending = [annotation]
    while pending:
        current = pending.pop()
        origin = typing.get_origin(current)
        if origin is typing.Union or origin is collections.abc.Awaitable:
            pending.extend(typing.get_args(current))
        elif current is not type(None) and origin is not pulumi.Output and current is not pulumi.Output:
            found.append(current)
    return tuple(dict.fromkeys(found))


_TYPE_NAMES: dict[Any, str] = {bool: "a boolean", str: "a string", dict: "an object", list: "a list",
                                int: "a number", float: "a number"}


def _wire_type(value: Any) -> str:
    return _TYPE_NAMES.get(type(value), "a number")


def _walk(value: Any, annotation: Any, path: str) -> Iterator[Finding]:
    if value is None or isinstance(value, pulumi.output.Unknown):  # not known yet (a preview): nothing to check
        return
    alternatives = _alternatives(annotation)
    if Any in alternatives or object in alternatives:
        return
    enums = list(dict.fromkeys(a for a in alternatives if isinstance(a, type) and issubclass(a, enum.Enum)))
    classes = [a for a in alternatives if isinstance(a, type) and getattr(a, "_pulumi_input_type", False)]
    origins = {typing.get_origin(a): a for a in alternatives}
    sequence = origins.get(collections.abc.Sequence) or origins.get(list)
    mapping = origins.get(collections.abc.Mapping) or origins.get(dict)
    if isinstance(value, str) and enums:
        allowed = [member.value for enum_class in enums for member in enum_class]
        if value not in allowed:
            if str in alternatives:
                kind = "open-enum"
            else:  # many resource providers match enum values case-insensitively: a case slip is not refused
                kind = "enum-case" if value.lower() in {str(v).lower() for v in allowed} else "closed-enum"
            yield Finding(kind, path, value, f"not one of {', '.join(map(str, allowed))} ({enums[0].__name__})")
    elif isinstance(value, dict) and classes:
        yield from _walk_object(value, classes, path)
    elif isinstance(value, dict) and mapping is not None:
        for key, item in value.items():
            yield from _walk(item, typing.get_args(mapping)[1], f"{path}.{key}")
    elif isinstance(value, list) and sequence is not None:
        for index, item in enumerate(value):
            yield from _walk(item, typing.get_args(sequence)[0], f"{path}[{index}]")
    elif not _primitive_fits(value, alternatives):
        expected = sorted({_TYPE_NAMES[a] for a in alternatives if a in (str, int, float, bool)}
                          | ({"an object"} if classes or mapping is not None else set())
                          | ({"a list"} if sequence is not None else set())
                          | ({"a string"} if enums else set()))
        yield Finding("type", path, value, f"the API expects {' or '.join(expected) or 'another type'}, "
                                           f"not {_wire_type(value)}")


def _primitive_fits(value: Any, alternatives: tuple[Any, ...]) -> bool:
    if isinstance(value, bool):
        return bool in alternatives
    if isinstance(value, str):
        return str in alternatives
    if isinstance(value, (int, float)):
        return int in alternatives or float in alternatives
    return False


def _walk_object(value: dict[str, Any], classes: list[type], path: str) -> Iterator[Finding]:
    """An object against its input class; for a union of classes (a discriminated type such as a metric alert's
    criteria) the class that knows most of its keys, then the one with the fewest defects below them."""
    def score(findings: list[Finding], properties: dict[str, Any]) -> tuple[int, int]:
        return sum(key not in properties for key in value), sum(f.refused for f in findings)

    best: Optional[tuple[tuple[int, int], list[Finding]]] = None
    for input_class in classes:
        properties = _properties(input_class)
        findings = []
        for key, item in value.items():
            where = f"{path}.{key}" if path else key
            if key not in properties:
                findings.append(Finding("unknown-key", where, item, f"not a property of {input_class.__name__}: "
                                                                    "azure-native would drop it"))
            else:
                findings.extend(_walk(item, properties[key], where))
        if best is None or score(findings, properties) < best[0]:
            best = (score(findings, properties), findings)
    yield from best[1] if best else []


@functools.lru_cache(maxsize=None)
def _required(args_class: type) -> tuple[str, ...]:
    """camelCase names of the resource's required inputs: its Args class's parameters without a default (the
    schema's required properties, which the generated constructor refuses as None)."""
    names = pulumi_types.input_type_py_to_pulumi_names(args_class)
    return tuple(names[py] for py, parameter in inspect.signature(args_class).parameters.items()
                 if parameter.default is inspect.Parameter.empty and py in names)


def findings(type_token: str, inputs: dict[str, Any]) -> list[Finding]:
    """Every finding of an azure-native resource's recorded inputs; [] for a type the SDK does not have. A required
    input is missing only when an output resolved to nothing (the SDK's constructor refuses a plain None): Azure
    refuses the request without it (a role assignment with no principalId, say)."""
    args_class = _args_class(type_token)
    if args_class is None:
        return []
    missing = [Finding("missing-required", wire, None, "required (the SDK's schema and Azure's); an output given "
                       "for it resolved to nothing") for wire in _required(args_class) if inputs.get(wire) is None]
    return missing + list(_walk_object(inputs, [args_class], ""))
