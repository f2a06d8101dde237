"""Refusals a component makes itself, beside check_shape: of one input's value (fail, fail_when_known, one_of,
in_range, required), or of the problems its part's rules found (raise_problems)."""
from typing import Any, Iterable, Mapping, NoReturn

from ..errors import ComponentInputError, LateInputError
from ..rules import Problem


def problems_message(component: str, name: str, found: list[Problem]) -> str:
    """The sentence that refuses `found`: the component, its name, then each problem."""
    return f"{component} {name}: {'; '.join(p.sentence() for p in found)}"


def raise_problems(component: str, name: str, found: list[Problem]) -> None:
    """Refuse every problem at once (for a part's rules run outside check_shape)."""
    if found:
        raise ComponentInputError(problems_message(component, name, found),
                                  problems=[(p.path, p.reason()) for p in found])


def fail(component: str, name: str, key: str, value: Any, allowed: str) -> NoReturn:
    raise ComponentInputError(f"{component} {name}: input {key}={value!r} is invalid; allowed: {allowed}", key,
                              f"{value!r} is invalid; allowed: {allowed}")


def fail_when_known(component: str, name: str, key: str, value: Any, allowed: str) -> NoReturn:
    """`fail` for a check inside an apply (a value known only at deploy time): the same sentence, as a
    LateInputError so the SDK does not bury it in its ValueError chain."""
    raise LateInputError(f"{component} {name}: input {key}={value!r} is invalid; allowed: {allowed}",
                         [(key, f"{value!r} is invalid; allowed: {allowed}")])


def one_of(component: str, name: str, key: str, value: Any, allowed: Iterable[Any]) -> Any:
    allowed = tuple(allowed)
    if value not in allowed:
        fail(component, name, key, value, ", ".join(map(str, allowed)))
    return value


def in_range(component: str, name: str, key: str, value: Any, low: int, high: int) -> Any:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        fail(component, name, key, value, f"a whole number from {low} to {high}")
    return value


def required(component: str, name: str, args: Mapping[str, Any], key: str) -> Any:
    value = args.get(key)
    if value is None:
        raise ComponentInputError(f"{component} {name}: input {key!r} is required", key, "is required")
    return value
