"""Reading the two plans: a `build/<stack>/` folder's resources.json, checked before it is compared."""
import json
from pathlib import Path
from typing import Any, Optional, Union


class PlanError(ValueError):
    """A plan folder whose files are not what `make plan` writes: named, with what is wrong."""


# What reading a plan of a shape `read_resources` lets through can raise in a check over it: an error of the check's
# input, told in a line (exit 2), never a traceback
PLAN_SHAPE_ERRORS = (ValueError, TypeError, KeyError, IndexError, AttributeError, RecursionError)


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except OSError as error:
        raise PlanError(f"{path}: cannot be read ({error.strerror or error})") from None
    except UnicodeDecodeError:
        raise PlanError(f"{path}: is not UTF-8 text") from None
    except json.JSONDecodeError as error:
        raise PlanError(f"{path}: not JSON ({error.msg}, line {error.lineno})") from None
    except RecursionError:
        raise PlanError(f"{path}: nests too deeply to be a plan") from None


# The fields of a resource that the diff reads, and their JSON types (make plan's resources_document).
_JsonKind = Union[type, tuple[type, ...]]


_FIELDS: dict[str, _JsonKind] = {"urn": str, "inputs": dict, "options": dict}


_OPTIONAL: dict[str, _JsonKind] = {"type": str, "name": str, "parent": (str, type(None)), "dependencies": list,
                                   "secretInputs": list, "custom": bool, "propertyDependencies": dict}


def _resource_problem(resource: Any) -> Optional[str]:
    if not isinstance(resource, dict):
        return f"is a {type(resource).__name__}, not an object"
    for key, kind in {**_FIELDS, **_OPTIONAL}.items():
        if (key in resource or key in _FIELDS) and not isinstance(resource.get(key), kind):
            return f"has {key} {json.dumps(resource.get(key))[:60]}, not a JSON {_json_kind(kind)}"
    if len(str(resource.get("type", "a:b:c")).split(":")) < 3:
        return f"has type {resource['type'][:80]!r}, not <package>:<module>:<Type>"
    if _depth(resource["inputs"]) > MAX_INPUT_DEPTH:
        return f"has inputs nested more than {MAX_INPUT_DEPTH} levels deep"
    for key in ("urn", "parent"):
        if (key == "urn" or resource.get(key)) and (
                len(resource[key].split("::")) < 4 or not resource[key].startswith("urn:pulumi:")):
            return f"has {key} {resource[key][:80]!r}, not urn:pulumi:<stack>::<project>::<type>::<name>"
    if not all(isinstance(d, str) for d in resource.get("dependencies") or []):
        return "has a dependencies entry that is not a URN string"
    for key, urns in (resource.get("propertyDependencies") or {}).items():
        if not _urn_list(urns):
            return f"has propertyDependencies.{key[:40]} {json.dumps(urns)[:60]}, not a list of URNs"
    options = resource["options"]
    for key in ("ignoreChanges", "replaceOnChanges", "hideDiffs"):
        if not isinstance(options.get(key) or [], list) or not all(isinstance(p, str) for p in options.get(key) or []):
            return f"has options.{key} {json.dumps(options.get(key))[:60]}, not a list of property paths"
    with_ = options.get("replaceWith") or []
    if not _urn_list(with_):
        return f"has options.replaceWith {json.dumps(with_)[:60]}, not a list of URNs"
    if not isinstance(options.get("provider") or "", str):
        return f"has options.provider {json.dumps(options.get('provider'))[:60]}, not a provider reference"
    aliases = options.get("aliases") or []
    if not isinstance(aliases, list) or not all(_is_alias(a) for a in aliases):
        return "has options.aliases that are not a list of alias objects ({urn} or {spec: {...}})"
    return None


def _is_urn(value: Any) -> bool:
    """Shaped like a URN: <prefix>::<project>::<type>::<name>, at least."""
    return isinstance(value, str) and len(value.split("::")) >= 4


def _urn_list(value: Any) -> bool:
    return isinstance(value, list) and all(_is_urn(u) for u in value)


def _is_alias(alias: Any) -> bool:
    """An alias as the SDK sends it: {"urn": URN} or {"spec": {name, type, parentUrn, noParent, stack, project}}."""
    if not isinstance(alias, dict) or not isinstance(alias.get("urn") or "", str):
        return False
    spec = alias.get("spec") or {}
    return isinstance(spec, dict) and all(isinstance(v, (str, bool, type(None))) for v in spec.values()) and (
        not spec.get("parentUrn") or _is_urn(str(spec["parentUrn"]))) and (
        not alias.get("urn") or _is_urn(alias["urn"]))


# Deeper than any resource's inputs (a pod template's env valueFrom is ~12 levels); the diff walks them recursively.
MAX_INPUT_DEPTH = 64


# Deeper than any component tree; the alias matching walks parent chains recursively.
MAX_PARENT_CHAIN = 100


def _depth(value: Any) -> int:
    """How deep objects and lists nest in `value`, counted without recursion."""
    deepest, pending = 0, [(value, 1)]
    while pending:
        node, level = pending.pop()
        deepest = max(deepest, level)
        if level <= MAX_INPUT_DEPTH:
            pending.extend((child, level + 1) for child in (
                node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()))
    return deepest


def _json_kind(kind: _JsonKind) -> str:
    names = {str: "string", dict: "object", list: "list", bool: "boolean", type(None): "null"}
    return " or ".join(names[k] for k in (kind if isinstance(kind, tuple) else (kind,)))


def read_resources(folder: Path) -> dict[str, dict[str, Any]]:
    path = folder / "resources.json"
    if not path.exists():
        return {}
    document = read_json(path)
    if not isinstance(document, dict) or not isinstance(document.get("resources"), list):
        raise PlanError(f"{path}: not a plan (an object with a list of resources, as make plan writes)")
    for index, resource in enumerate(document["resources"]):
        problem = _resource_problem(resource)
        if problem:
            raise PlanError(f"{path}: resources[{index}] {problem}")
    parents = {r["urn"]: r.get("parent") for r in document["resources"]}
    for urn in parents:  # a parent chain that comes back to itself (the engine would refuse such a plan)
        seen: set[str] = set()
        at = urn
        while at in parents and at not in seen and len(seen) <= MAX_PARENT_CHAIN:
            seen.add(at)
            at = parents[at]
        if at in seen:
            raise PlanError(f"{path}: {urn[:120]} is its own ancestor through its parents")
        if len(seen) > MAX_PARENT_CHAIN:
            raise PlanError(f"{path}: {urn[:120]} has more than {MAX_PARENT_CHAIN} ancestors")
    return resources_by_urn(document)


def stacks_of(resources: dict[str, dict[str, Any]]) -> list[str]:
    """The `<project>/<stack>` names a plan's URNs carry (urn:pulumi:<stack>::<project>::...): one for a plan."""
    found = set()
    for urn in resources:
        head = urn.split("::")
        if len(head) > 1 and head[0].startswith("urn:pulumi:"):
            found.add(f"{head[1]}/{head[0][len('urn:pulumi:'):]}")
    return sorted(found)


def resources_by_urn(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    out = {r["urn"]: r for r in document["resources"]}
    for urn, resource in out.items():  # the type is also the URN's last type segment, the name its last part
        resource.setdefault("type", urn.split("::")[2].split("$")[-1])
        resource.setdefault("name", urn.split("::")[-1])
    return out


def object_name(resource: dict[str, Any]) -> str:
    """A Kubernetes object's `metadata.name` in a plan document ("" when none is given)."""
    return str((resource["inputs"].get("metadata") or {}).get("name") or "")
