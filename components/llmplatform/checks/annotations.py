"""What a field's annotation in an Args TypedDict says: the TypedDict (or list of them) it holds, a list's or
map's item annotation, whether it takes an Output as a whole."""
import collections.abc
import functools
import typing
from typing import Any, Optional


@functools.lru_cache(maxsize=None)  # the Args' annotations: a few hundred, read on every component's construction
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


@functools.lru_cache(maxsize=None)
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
