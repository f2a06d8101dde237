"""Handles known by their types: who hands a type out (its docstring says), a handle of another type known by
its keys, a component passed where its handle is expected; and an input's camelCase spelling read as Python's."""
import re
import typing
from typing import Any, Mapping, Optional


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
