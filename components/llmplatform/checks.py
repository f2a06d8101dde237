"""Input checks every component runs on itself: the error names the component, the input, the value and what is
allowed, before any child resource is registered. The stack's config layer reuses the same allowed values."""
from typing import Any, Iterable


class ComponentInputError(ValueError):
    """An input a component cannot build from."""


def fail(component: str, name: str, key: str, value: Any, allowed: str) -> None:
    raise ComponentInputError(f"{component} {name}: input {key}={value!r} is invalid; allowed: {allowed}")


def one_of(component: str, name: str, key: str, value: Any, allowed: Iterable[Any]) -> Any:
    allowed = tuple(allowed)
    if value not in allowed:
        fail(component, name, key, value, ", ".join(map(str, allowed)))
    return value


def in_range(component: str, name: str, key: str, value: Any, low: int, high: int) -> Any:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        fail(component, name, key, value, f"a whole number from {low} to {high}")
    return value


def required(component: str, name: str, args: dict, key: str) -> Any:
    value = args.get(key)
    if value is None:
        raise ComponentInputError(f"{component} {name}: input {key!r} is required")
    return value
