"""Input checks every component runs on itself: the error names the component, the input, the value and what is
allowed, before any child resource is registered. The stack's config layer reuses the same allowed values.

The error is a `pulumi.InputPropertiesError` carrying the property path, so the component provider hands it to
other languages as a per-property error (the engine prints the path and the reason) instead of a traceback.
"""
from typing import Any, Iterable, Optional

import pulumi


class ComponentInputError(pulumi.InputPropertiesError, ValueError):
    """An input a component cannot build from. `errors` holds one property path (dotted Python input names, as the
    component reads them) and the reason; the message is the whole sentence a Python user reads."""

    def __init__(self, message: str, property_path: Optional[str] = None, reason: Optional[str] = None):
        errors = [{"property_path": property_path, "reason": reason or message}] if property_path else None
        super().__init__(message, errors)  # type: ignore[arg-type]


def fail(component: str, name: str, key: str, value: Any, allowed: str) -> None:
    raise ComponentInputError(f"{component} {name}: input {key}={value!r} is invalid; allowed: {allowed}", key,
                              f"{value!r} is invalid; allowed: {allowed}")


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
        raise ComponentInputError(f"{component} {name}: input {key!r} is required", key, "is required")
    return value
