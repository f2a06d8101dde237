"""called_as_documented: a component called otherwise than `Component(name, args, opts)` is refused in the
components' words, as a ComponentInputError, before anything registers."""
import functools
import inspect
import typing
from typing import Any

from ..errors import ComponentInputError
from .messages import _got


C = typing.TypeVar("C")


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
