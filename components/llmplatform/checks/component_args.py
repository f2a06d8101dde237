"""check_shape, what every component checks first of its Args: the inputs as given (None is not given), what is
known now refused at once, the outputs checked once they resolve."""
import typing
from typing import Any, Callable, Optional

from ..azure_names import azure_name_start
from ..mappings import whole_numbers
from .annotations import _typeddict_of
from .handle_types import handed_out, python_named
from .known_now import Rules, refuse_now
from .late_values import late_shapes
from .plain_values import _plain_kinds


A = typing.TypeVar("A")


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
    that is no input (a typo, a camelCase spelling): refused with the input meant whatever its value. A handle in
    the component provider's output shape (another stack's, read through a StackReference) is read with its Python
    names (`python_named`)."""
    fields: dict[str, Any] = getattr(args_type, "__annotations__", {})
    if isinstance(args, dict) and handed_out(args_type):
        named = python_named(args, args_type)
        return typing.cast(A, {k: _whole(v, fields[k]) if k in fields else v for k, v in named.items()})
    if not isinstance(args, dict):
        return args
    required: frozenset[str] = getattr(args_type, "__required_keys__", frozenset())
    out: dict[Any, Any] = {}
    for key, value in args.items():
        if value is None and key in fields and key not in required:
            continue
        spec, is_list = _typeddict_of(fields[key]) if key in fields else (None, False)
        if spec is not None and is_list and isinstance(value, list):
            value = [given(item, spec) for item in value]
        elif spec is not None and not is_list:
            value = given(value, spec)
        elif key in fields:
            value = _whole(value, fields[key])
        out[key] = value
    return typing.cast(A, out)


_WHOLE_KINDS = frozenset({int, ("list", int), ("dict", int)})


def _whole(value: Any, annotation: Any) -> Any:
    """A field that takes whole numbers (int, or a list or map of them) given one as a float, 1800.0: the int it is.
    The shape check admits it (another language's numbers arrive as doubles) and the late checks read an output's so
    (mappings.whole_numbers), so a Python caller's plain 1800.0 is read alike: taken from a handle as a default,
    judged by the rules and written as 1800. Before, a handle's float passed the shape check and was then neither
    taken nor judged (the rules compare ints), and an input's was refused "a whole number", the number it is. A
    fraction stays, for the shape check to refuse; a field that takes floats is left alone."""
    kinds = _plain_kinds(annotation)[0]
    return whole_numbers(value) if kinds and kinds <= _WHOLE_KINDS else value
