"""Plain values of a field: what its annotation allows (true or false, numbers, strings, lists and maps of them),
why a value is not that, and an Output where the component reads the value when the program runs."""
import collections.abc
import functools
import typing
from typing import Any, Mapping, Optional

from ..rules import is_output
from .annotations import _container_item, _output_allowed
from .messages import _got


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
