"""Pulumi's engine's `ignoreChanges`, transcribed once for the PR check and the day-2 models in tests/.

pulumi/pulumi 1b594989 (2026-08-21; the same since v3.194.0): `pkg/resource/deploy/step_generator.go`
`processIgnoreChanges` parses each path (`ParsePropertyPath`; one it cannot parse is skipped) and resets it in a copy
of the new inputs to the old inputs' value (`sdk/go/common/resource/properties_path.go` `reset`, secrets aside: the
plans hold secret values plain). A path it cannot reset is no error since v3.190.0 (#20278): the engine prints an
info line, "cannot ignore changes in added or removed elements of the path: ...", and diffs what the reset left,
so the program's value goes to the provider there."""
from __future__ import annotations

import copy
from typing import Any

from ..property_path import parse_path

ENGINE_INFO = "cannot ignore changes in added or removed elements of the path"


def reset(path: list[Any], old: Any, new: Any) -> bool:
    """`PropertyPath.reset`: sets the value at `path` in `new` (in place) to the one in `old`, or deletes it from
    `new` where `old` has none; False on a path error (the engine's info line), after whatever it already reset."""
    if not path:
        return False
    key, rest = path[0], path[1:]
    if isinstance(key, int):
        if key < 0:
            return False
        both = isinstance(old, list) and isinstance(new, list)
        if not both:
            return not isinstance(old, list) and not isinstance(new, list)
        if not rest:
            if key >= len(old) and key >= len(new):
                return True
            if key >= len(old) or key >= len(new):
                return False
            new[key] = copy.deepcopy(old[key])
            return True
        if key >= len(old) or key >= len(new):
            return False
        return reset(rest, old[key], new[key])
    if key == "*":
        return _reset_every(rest, old, new)
    if not rest:
        if isinstance(old, dict) and key in old:
            if not isinstance(new, dict):
                return False
            new[key] = copy.deepcopy(old[key])
        elif isinstance(new, dict):
            new.pop(key, None)
        return True
    if not isinstance(old, dict) or not isinstance(new, dict):
        return not isinstance(old, dict) and not isinstance(new, dict)
    if key in old and key not in new:
        return False
    if key not in old and key not in new:
        return True
    return reset(rest, old.get(key), new[key])


def _reset_every(rest: list[Any], old: Any, new: Any) -> bool:
    """A `*` element: every key of an object or every index of an array. Go ranges over the old object's keys in
    no set order and stops at the first key the new object lacks, so which keys it reset before is chance there;
    here they go in the old object's order."""
    if isinstance(new, dict) and not rest:
        if isinstance(old, dict):
            new.clear()
            new.update(copy.deepcopy(old))
        return True
    if isinstance(new, list) and not rest:
        if isinstance(old, list):
            new[:min(len(old), len(new))] = copy.deepcopy(old[:len(new)])
            return len(old) == len(new)
        return True
    if rest and isinstance(old, dict) and isinstance(new, dict):
        return all(key in new and reset(rest, value, new[key]) for key, value in old.items())
    if rest and isinstance(old, list) and isinstance(new, list):
        return all(reset(rest, o, n) for o, n in zip(old, new)) and len(old) == len(new)
    return False


def process_ignore_changes(old_inputs: dict[str, Any], new_inputs: dict[str, Any],
                           ignore_changes: list[str]) -> tuple[dict[str, Any], list[str]]:
    """(the inputs the engine diffs and hands to the provider, the paths of its info line). With no paths the new
    inputs themselves come back (no copy)."""
    if not ignore_changes:
        return new_inputs, []
    inputs = copy.deepcopy(new_inputs)
    invalid = []
    for text in ignore_changes:
        path = parse_path(text)
        if path is not None and not reset(path, old_inputs, inputs):
            invalid.append(text)
    return inputs, invalid
