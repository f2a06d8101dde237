"""Handles known by their types: who hands a type out (its docstring says), a handle of another type known by
its keys, a component passed where its handle is expected; a handle in the component provider's output shape read
as Python's; and an input's camelCase spelling read as Python's."""
import functools
import re
import typing
from typing import Any, Mapping, Optional

from pulumi.provider.experimental.util import camel_case

from ..handles import FIELD_DEPENDENCIES
from .annotations import _typeddict_of


def _snake(key: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", key).lower()


_HANDED_OUT = re.compile(r"Handed out by (.+?) as `(\w+)`", re.S)


def handed_out(spec: type) -> Optional[tuple[str, str]]:
    """(who hands a handle type out, under which output), from its docstring ("Handed out by ModelStore as
    `volume`"); None for a spec a caller writes."""
    match = _HANDED_OUT.search(spec.__doc__ or "")
    return (" ".join(match.group(1).split()), match.group(2)) if match else None


def _handle_types() -> list[type]:
    from .. import handles  # the handles the components hand each other
    return [t for t in vars(handles).values() if isinstance(t, type) and typing.is_typeddict(t) and handed_out(t)]


def _named(spec: type) -> str:
    """A handle type with where it comes from: "ModelVolume (ModelStore's `volume`)"."""
    source = handed_out(spec)
    return f"{spec.__name__} ({source[0]}'s `{source[1]}`)" if source else spec.__name__


def _fits(value: Mapping[str, Any], spec: type) -> bool:
    """`value` has every required field of `spec` and none it lacks, in Python's names or the provider's."""
    names = schema_names(spec)
    keys = {names.get(str(k), str(k)) for k in value if k != FIELD_DEPENDENCIES}
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


@functools.lru_cache(maxsize=None)
def schema_names(spec: type) -> dict[str, str]:
    """The schema's name of each field of a TypedDict (a handle, a spec) to its Python name, where they differ
    (`clusterName` -> `cluster_name`): the component provider's own mapping, which the SDK's analyzer makes of the
    type's annotations (pulumi 3.272.0 `provider/experimental/analyzer.py` `analyze_type`: `{camel_case(k): k}`,
    the provider's `properties_mapping`)."""
    return {camel_case(key): key for key in spec.__annotations__ if camel_case(key) != key}


def python_named(value: Any, spec: type) -> Any:
    """A handle (`spec`, a type a component hands out) in the component provider's output shape, as another
    language's program or a stack that built it through the provider exports it, as a Python program's: each schema
    name read as its Python name, in the types inside it too (a toleration), and FIELD_DEPENDENCIES left out. Those
    name URNs of the stack that exported the handle; a StackReference's output depends on the reference alone, and a
    resource depending on a URN its own stack does not hold fails the engine's snapshot check (pulumi/pulumi
    1b5949891b `pkg/resource/deploy/snapshot.go` `VerifyIntegrity`), so every field keeps the dependencies the handle
    arrived with, as the provider does for one whose URNs the engine did not send (provider.py
    `_field_dependencies`). A name given in both spellings stays as given (the shape check refuses it, naming both),
    and any other name is left for the shape check to refuse. Anything but a handle's object is returned as it is."""
    if not isinstance(value, Mapping) or handed_out(spec) is None:
        return value
    return _schema_named(value, spec, drop=FIELD_DEPENDENCIES)


def _schema_named(value: Mapping[str, Any], spec: type, drop: Optional[str] = None) -> Mapping[Any, Any]:
    """`value` itself when it has no name to read otherwise (a Python program's handle), else a new dict."""
    names = schema_names(spec)
    fields = spec.__annotations__
    renamed: dict[Any, Any] = {}
    for key, item in value.items():
        if key == drop:
            continue
        python = names.get(key) if isinstance(key, str) else None
        if python is not None and python not in value:
            key = python
        inner, is_list = _typeddict_of(fields[key]) if key in fields else (None, False)
        if inner is not None and is_list and isinstance(item, list):
            items = [_schema_named(i, inner) if isinstance(i, Mapping) else i for i in item]
            item = item if all(a is b for a, b in zip(items, item)) else items
        elif inner is not None and not is_list and isinstance(item, Mapping):
            item = _schema_named(item, inner)
        renamed[key] = item
    same = len(renamed) == len(value) and all(k in value and value[k] is v for k, v in renamed.items())
    return value if same else renamed
