"""Pulumi's engine's ignoreChanges, one transcription for the test models that need it (tests/azure_put.py,
tests/server_side_apply.py): pulumi/pulumi `pkg/resource/deploy/step_generator.go` `processIgnoreChanges` with
`sdk/go/common/resource/properties_path.go` `PropertyPath.Reset` (secrets left out)."""
import copy
import re
from typing import Any


class IgnoreChangesError(ValueError):
    """The engine's refusal of an ignoreChanges path it cannot reset: the update stops."""


def _parse(path: str) -> list[Any]:
    """ParsePropertyPath for dotted keys and array indexes (the program's paths use no quoted keys)."""
    if "*" in path or '"' in path:
        raise NotImplementedError(f"{path}: wildcards and quoted keys are not transcribed")
    return [int(part[1:-1]) if part.startswith("[") else part for part in re.findall(r"[^.\[\]]+|\[\d+\]", path)]


_MISSING = object()


def _reset_at(path: list[Any], old: Any, new: Any) -> bool:
    """pulumi/pulumi `PropertyPath.reset` (sdk/go/common/resource/properties_path.go, secrets left out): True when
    the path was reset (or is absent from both), False on a path error. A leaf key the old inputs have is copied into
    the new ones, one they lack is deleted; an intermediate key the old inputs have and the new ones lack is a path
    error, as is an array index only one side has."""
    key, rest = path[0], path[1:]
    if isinstance(key, int):
        if key < 0:
            return False
        if not rest:
            if not isinstance(old, list) and not isinstance(new, list):
                return True
            if not isinstance(old, list) or not isinstance(new, list):
                return False
            if key >= len(old) and key >= len(new):
                return True
            if key >= len(old) or key >= len(new):
                return False
            new[key] = copy.deepcopy(old[key])
            return True
        if not isinstance(old, list) or not isinstance(new, list):
            return not isinstance(old, list) and not isinstance(new, list)
        if key >= len(old) or key >= len(new):
            return False
        return _reset_at(rest, old[key], new[key])
    if not rest:
        has = isinstance(old, dict) and key in old
        if has:
            if not isinstance(new, dict):
                return False
            new[key] = copy.deepcopy(old[key])
        elif isinstance(new, dict):
            new.pop(key, None)
        return True
    if not isinstance(old, dict) or not isinstance(new, dict):
        return not isinstance(old, dict) and not isinstance(new, dict)
    old_value, new_value = old.get(key, _MISSING), new.get(key, _MISSING)
    if old_value is not _MISSING and new_value is _MISSING:
        return False
    if old_value is _MISSING and new_value is _MISSING:
        return True
    return _reset_at(rest, None if old_value is _MISSING else old_value, new_value)


def process_ignore_changes(old_inputs: dict[str, Any], new_inputs: dict[str, Any], ignore_changes: list[str]) -> dict[str, Any]:
    """processIgnoreChanges (pulumi/pulumi pkg/resource/deploy/step_generator.go): a copy of the new inputs with each
    path reset; any path error fails the step with the engine's message."""
    new = copy.deepcopy(new_inputs)
    invalid = [p for p in ignore_changes if not _reset_at(_parse(p), old_inputs, new)]
    if invalid:
        raise IgnoreChangesError("cannot ignore changes to the following properties because one or more elements of "
                                 f"the path are missing: {', '.join(invalid)!r}")
    return new
