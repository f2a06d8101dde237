"""What a day-2 `pulumi up` (refresh first, Pulumi.yaml `options.refresh: always`) does to an azure-native resource
that something else also wrote: transcribed from pulumi-azure-native's source, read through the code index (the
repository is over the offline mirror's size limit; docs/decisions.md "2026-12-05: an Azure PUT on day 2"):

- `refresh`: `provider/pkg/provider/provider.go` `Read` (the v3 provider: `SendsOldInputs`, no `__inputs`): the old
  outputs and the live ones are projected to the input shape (`SdkOutputsToSdkInputs`: read-only properties such as
  `currentKubernetesVersion`, `nodeImageVersion`, `provisioningState` never enter it), the maintained sub-resource
  properties the old inputs leave unset are reset to [] in the live projection (`resetUnsetSubResourceProperties`),
  and the difference between the two is applied to the stored inputs (`applyDiff`, `applyValueDiff` in
  `provider/pkg/provider/diff.go`: objects key by key, arrays element by element, an element past the stored
  inputs' end copied whole).
- `diff`: `Diff` compares the old inputs (as the refresh left them) with the new ones, after the engine reset each
  ignored path to the old input (pulumi/pulumi `step_generator.go` `processIgnoreChanges`).
- `put_body`: `Update` -> `defaultUpdate` PUTs the new inputs, after `MaintainSubResourcePropertiesIfNotSet`
  (`provider/pkg/provider/crud/crud.go`) copied each maintained property the inputs leave unset from a GET of the
  live resource. Everything else the inputs leave out is absent from the body, which a PUT removes.

Which properties are maintained is the pinned SDK's own data: `provider/pkg/gen/schema.go` `genProperty` marks an
array property whose items are a nested resource's body (and Key Vault's `accessPolicies`, #594), and
`getPropertyDescription` appends MAINTAINED_MARKER to its description, which the generated Python SDK carries
(`maintained_paths` reads it from the installed pulumi-azure-native).
"""
import copy
import importlib
import inspect
import re
from typing import Any, Optional

from offline.plan_diff.ignore_changes import process_ignore_changes

MAINTAINED_MARKER = ("These are also available as standalone resources. Do not mix inline and standalone resource "
                     "as they will conflict with each other, leading to resources deletion.")
_ARGS = re.compile(r"ForwardRef\('(\w+Args)'\)")


def _args_class(token: str) -> Any:
    """The SDK's Args class of a resource token, e.g. azure-native:network:VirtualNetwork -> VirtualNetworkArgs."""
    _, module, name = token.split(":")
    resource = getattr(importlib.import_module(f"pulumi_azure_native.{module}"), name)
    # the resource's own module; where a type has the resource's name, the SDK names the resource's `<name>InitArgs`
    # (VirtualNetworkArgs is the subnet's reference to its network, in the package's _inputs)
    module = importlib.import_module(resource.__module__)
    return getattr(module, f"{name}InitArgs", None) or getattr(module, f"{name}Args")


def _maintained(cls: Any, prefix: str, depth: int) -> list[str]:
    found = []
    module = importlib.import_module(cls.__module__)
    for attr in vars(cls).values():
        if not isinstance(attr, property) or attr.fget is None:
            continue
        name = getattr(attr.fget, "_pulumi_name", None)
        if name is None:
            continue
        if MAINTAINED_MARKER in (attr.fget.__doc__ or ""):
            found.append(prefix + name)
        nested = _ARGS.search(str(inspect.signature(attr.fget).return_annotation))
        if depth and nested and hasattr(module, nested.group(1)):
            found += _maintained(getattr(module, nested.group(1)), f"{prefix}{name}.", depth - 1)
    return found


def maintained_paths(token: str) -> list[str]:
    """The input paths of `token` whose live value an update keeps when the program leaves them unset (the
    generator marks top-level properties and one level down, `properties.accessPolicies`)."""
    return sorted(_maintained(_args_class(token), "", 1))


def _get(obj: Any, path: str) -> tuple[bool, Any]:
    for part in path.split("."):
        if not isinstance(obj, dict) or part not in obj:
            return False, None
        obj = obj[part]
    return True, obj


def _set(obj: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    for part in parents:
        obj = obj.setdefault(part, {})
    obj[last] = value


def _apply_value_diff(base: Any, old: Any, new: Any) -> Any:
    if isinstance(base, dict) and isinstance(old, dict) and isinstance(new, dict):
        return _apply_diff(base, old, new)
    if isinstance(base, list) and isinstance(old, list) and isinstance(new, list):
        return [el if i >= len(base) or i >= len(old) else _apply_value_diff(base[i], old[i], el)
                for i, el in enumerate(new)]
    return copy.deepcopy(new)


def _apply_diff(values: dict[str, Any], old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """applyDiff: keys deleted between old and new go, keys added come in, keys changed are merged recursively."""
    result = {k: v for k, v in values.items() if not (k in old and k not in new)}
    for key, value in new.items():
        if key not in old:
            result[key] = copy.deepcopy(value)
        elif old[key] != value:
            result[key] = _apply_value_diff(values[key], old[key], value) if key in values else copy.deepcopy(value)
    return result


def refresh(inputs: dict[str, Any], old_live: dict[str, Any], live: dict[str, Any],
            maintained: list[str]) -> dict[str, Any]:
    """The stored inputs after a refresh. `old_live` and `live` are the resource as last read and as read now,
    both in the input shape (read-only properties left out, as the projection leaves them)."""
    live = copy.deepcopy(live)
    for path in maintained:
        if not _get(inputs, path)[0]:
            _set(live, path, [])
    return _apply_diff(inputs, old_live, live)


def _leaves(value: Any, path: str) -> dict[str, Any]:
    if isinstance(value, dict) and value:
        out: dict[str, Any] = {}
        for k, v in value.items():
            out.update(_leaves(v, f"{path}.{k}" if path else k))
        return out
    if isinstance(value, list) and value:
        out = {}
        for i, v in enumerate(value):
            out.update(_leaves(v, f"{path}[{i}]"))
        return out
    return {path: value}


def diff(old_inputs: dict[str, Any], new_inputs: dict[str, Any],
         ignore_changes: Optional[list[str]] = None) -> dict[str, tuple[Any, Any]]:
    """The leaf paths `Diff` reports (old, new), after the engine reset each ignored path. Empty: no update."""
    new, _ = process_ignore_changes(old_inputs, new_inputs, ignore_changes or [])
    before, after = _leaves(old_inputs, ""), _leaves(new, "")
    return {p: (before.get(p), after.get(p)) for p in sorted(set(before) | set(after)) if before.get(p) != after.get(p)}


def engine_inputs(new_inputs: dict[str, Any], old_inputs: dict[str, Any],
                  ignore_changes: Optional[list[str]] = None) -> dict[str, Any]:
    """The inputs the engine hands to Update: the program's, each ignored path reset to the old input."""
    return process_ignore_changes(old_inputs, new_inputs, ignore_changes or [])[0]


def put_body(inputs: dict[str, Any], live: dict[str, Any], maintained: list[str]) -> dict[str, Any]:
    """What the update PUTs (input shape): the inputs, and each maintained property they leave unset as it is live."""
    body = copy.deepcopy(inputs)
    for path in maintained:
        if not _get(body, path)[0]:
            has, value = _get(live, path)
            _set(body, path, copy.deepcopy(value) if has else [])
    return body
