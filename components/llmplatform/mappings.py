"""Nested mappings merged as Helm coalesces values (map by map, anything else replaced whole), and whole numbers
as the engine's wire carries them turned back into ints."""
import copy
from typing import Any


def deep_merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """`base` with `extra` laid over it (neither is changed)."""
    merged = copy.deepcopy(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def whole_numbers(value: Any) -> Any:
    """`value` with every whole-number float an int, recursively: the engine's protocol carries every number as a
    double, so a count or a port read back (a stack reference's output, a plugin's input) arrives as 8080.0."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: whole_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [whole_numbers(v) for v in value]
    return value
