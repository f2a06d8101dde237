"""An input given as an output, once it resolved, refused by the component's rules as they refuse the same value
given plainly, in their words; a secret's value is left out."""
import re
from typing import Any, Callable

from ..errors import ComponentInputError, LateInputError
from .known_now import refuse_now
from .messages import _unshown, hidden


# An input (or a spec's field) given as an output, once it resolved: the component's rules run again with its value
# put at its input path (`_rechecker`: path, value, whether it is a secret), refusing it as they refuse it plainly.
Recheck = Callable[[str, Any, bool], None]


def _rechecker(component: str, name: str, args: Any, args_type: type) -> Recheck:
    """What refuses an input of `args` given as an output once it resolved, as the component's rules refuse the same
    value given plainly (a tenant ID that is no GUID, a VNet name of 200 characters, a port 70000, a Key Vault name
    "" with api_keys), in their words, "<Component> <name>: input <path>=... is invalid; allowed: ...": the rules run
    again on `args` with the value put at `path`, the other outputs unknown as the early check read them (which
    passed: what they find now is the value's). A secret's value stays out of the message: each problem is named by
    its path, as the late shape checks name theirs, without the value (`hidden`, `_unshown`). The name prefix rule is
    not run again: it read the resource name."""
    def recheck(path: str, value: Any, secret: bool = False) -> None:
        try:
            refuse_now(component, name, _put(args, path, value), args_type, prefix_rule=lambda _: None)
        except ComponentInputError as error:
            if not secret:
                raise LateInputError.of(error) from None
            problems = [(e["property_path"], _unshown(hidden(e["reason"]), value)) for e in error.errors or []]
            raise LateInputError(f"{component} {name}: {'; '.join(f'{where}: {why}' for where, why in problems)}",
                                 problems) from None
    return recheck


_STEP = re.compile(r"\[(\d+)\]|([^.\[\]]+)")


def _put(value: Any, path: str, item: Any) -> Any:
    """`value` with `item` at input path `path` ("origins[0].llmd_port"), copied along the path, not changed."""
    steps: list[Any] = [int(index) if index else key for index, key in _STEP.findall(path)]

    def put(current: Any, rest: list[Any]) -> Any:
        if not rest:
            return item
        step, *rest = rest
        if isinstance(step, int):
            return [*current[:step], put(current[step], rest), *current[step + 1:]]
        return {**current, step: put(current[step], rest)}
    return put(value, steps)
