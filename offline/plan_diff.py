"""What a change does to the plan: `python -m offline.plan_diff BASE_DIR NEW_DIR` compares two `build/<stack>/` folders
(resources.json and cost.json) and prints Markdown for a pull-request comment: the monthly cost before and after
(idle and peak, per component that changed), and the resources added, updated, REPLACED and DELETED, each replacement
with the rule that causes it (the providers' own force-new data in offline/data/replacement_rules.json, and Pulumi's:
a changed URN, `replaceOnChanges`, a replaced provider), after Pulumi's `ignoreChanges` (an ignored change is listed,
not applied). A replacement or deletion of a stateful resource, or a change the cloud refuses in place or cannot undo
(a downgrade, a shrink, purge protection off: the base's value against the change's), fails the check (exit 1) unless
the pull request allows it: `--allow-file` (the repository's `allow-replace.txt`, one URN a line) or `--allow-stateful`
(the `allow-stateful-replace` label); an allowed stateful replacement or deletion is still listed, marked with what
allowed it, and an allow-file entry that matches nothing in the diff is reported. The base must have a plan: a base
folder without one is bad usage (exit 2) unless `--new-stack` says the base branch has no such stack (then every
resource is added)."""
import argparse
import copy
import functools
import json
import re
import sys
from pathlib import Path
from typing import Any, Iterator, Optional, Union

RULES_FILE = Path(__file__).resolve().parent / "data" / "replacement_rules.json"
ALLOW_FILE = "allow-replace.txt"
ALLOW_LABEL = "allow-stateful-replace"

# Resources whose replacement or deletion loses data or an address others depend on: our policy, not upstream data.
STATEFUL = {
    "azure-native:dbforpostgresql:Server": "the PostgreSQL server and every database on it",
    "azure-native:dbforpostgresql:Database": "an application database",
    "azure-native:storage:StorageAccount": "the storage account and every share in it (the models)",
    "azure-native:storage:FileShare": "the share holding the models",
    "azure-native:keyvault:Vault": "the Key Vault and its secrets (soft-deleted, the name stays taken)",
    "azure-native:network:PublicIPAddress": "a static public IP (clients and DNS point at it)",
    "azure-native:containerservice:ManagedCluster": "the AKS cluster and everything running in it",
    "azure-native:resources:ResourceGroup": "a resource group and everything in it",
    "kubernetes:core/v1:PersistentVolumeClaim": "a volume claim (its data unless the volume is retained)",
}
_INDEX = re.compile(r"\[\d+\]")


@functools.lru_cache(maxsize=1)
def rules() -> dict[str, Any]:
    return json.loads(RULES_FILE.read_text())


class PlanError(ValueError):
    """A plan folder whose files are not what `make plan` writes: named, with what is wrong."""


def _read_json(path: Path) -> Any:
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
                                   "secretInputs": list, "custom": bool}


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
    options = resource["options"]
    for key in ("ignoreChanges", "replaceOnChanges"):
        if not isinstance(options.get(key) or [], list) or not all(isinstance(p, str) for p in options.get(key) or []):
            return f"has options.{key} {json.dumps(options.get(key))[:60]}, not a list of property paths"
    if not isinstance(options.get("provider") or "", str):
        return f"has options.provider {json.dumps(options.get('provider'))[:60]}, not a provider reference"
    aliases = options.get("aliases") or []
    if not isinstance(aliases, list) or not all(_is_alias(a) for a in aliases):
        return "has options.aliases that are not a list of alias objects ({urn} or {spec: {...}})"
    return None


def _is_alias(alias: Any) -> bool:
    """An alias as the SDK sends it: {"urn": URN} or {"spec": {name, type, parentUrn, noParent, stack, project}}."""
    if not isinstance(alias, dict) or not isinstance(alias.get("urn") or "", str):
        return False
    spec = alias.get("spec") or {}
    return isinstance(spec, dict) and all(isinstance(v, (str, bool, type(None))) for v in spec.values()) and (
        not spec.get("parentUrn") or len(str(spec["parentUrn"]).split("::")) >= 4) and (
        not alias.get("urn") or len(alias["urn"].split("::")) >= 4)


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


def _resources(folder: Path) -> dict[str, dict[str, Any]]:
    path = folder / "resources.json"
    if not path.exists():
        return {}
    document = _read_json(path)
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


def resources_by_urn(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    out = {r["urn"]: r for r in document["resources"]}
    for urn, resource in out.items():  # the type is also the URN's last type segment, the name its last part
        resource.setdefault("type", urn.split("::")[2].split("$")[-1])
        resource.setdefault("name", urn.split("::")[-1])
    return out


def _changed_keys(old: Any, new: Any, path: str = "") -> list[str]:
    """Input paths that differ, leaf by leaf (an absent object counts as empty, a list of the same length item by
    item, `a.b[0].c`); a list whose length changed is one path."""
    if isinstance(old, dict) or isinstance(new, dict):
        if (old is None or isinstance(old, dict)) and (new is None or isinstance(new, dict)):
            old, new = old or {}, new or {}
            keys: list[str] = []
            for key in sorted(set(old) | set(new)):
                keys += _changed_keys(old.get(key), new.get(key), f"{path}.{key}" if path else key)
            return keys
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        return [k for i, (a, b) in enumerate(zip(old, new)) for k in _changed_keys(a, b, f"{path}[{i}]")]
    return [] if old == new else [path or "."]


def _leaves(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _leaves(item, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _leaves(item, f"{path}[{i}]")
    else:
        yield path, value


def under(path: str, key: str) -> bool:
    """A changed path falls under a rule's path: equal, or inside it (`[]` matches any index)."""
    norm = _INDEX.sub("[]", path)
    return norm == key or norm.startswith(key + ".") or norm.startswith(key + "[")


def _kube_kind(type_: str) -> Optional[str]:
    """`kubernetes:apps/v1:Deployment` -> `apps/v1/Deployment`; None for other providers and Helm/YAML."""
    if not type_.startswith("kubernetes:") or type_.startswith(("kubernetes:helm.sh/", "kubernetes:yaml/")):
        return None
    _, group_version, kind = type_.split(":")
    return f"{group_version}/{kind}"


def replace_rules(resource: dict[str, Any], providers: dict[str, dict[str, Any]]) -> list[tuple[str, str]]:
    """(path, rule) pairs: a change at or under the path replaces the resource."""
    type_, data = resource["type"], rules()
    azure = data["azureNative"]["types"].get(type_)
    if azure:
        return ([(p, "part of the Azure resource ID") for p in azure["path"]]
                + [(p, "force-new in pulumi-azure-native") for p in azure["forceNew"]])
    if type_ == "kubernetes:helm.sh/v3:Release":
        return [(p, "pulumi-kubernetes replaces a Release on it") for p in data["kubernetes"]["helmRelease"]]
    kind = _kube_kind(type_)
    if kind:
        kube = data["kubernetes"]
        paths = list(kube["always"]) + list(kube["kinds"].get(kind, []))
        provider_inputs = providers.get(provider_urn(resource["options"].get("provider")), {}).get("inputs", {})
        immutable = resource["inputs"].get("immutable") is True
        for kind_name, flag in (("core/v1/ConfigMap", "enableConfigMapMutable"),
                                ("core/v1/Secret", "enableSecretMutable")):
            if kind == kind_name and str(provider_inputs.get(flag)).lower() == "true" and not immutable:
                paths = [p for p in paths if p not in kube["kinds"][kind_name]]
        return [(p, "pulumi-kubernetes replaces on it") for p in paths]
    random = data["random"]["types"].get(type_)
    if random:
        return [(p, "RequiresReplace in terraform-provider-random") for p in random]
    return []


def refused_rules(type_: str) -> dict[str, str]:
    """Paths the provider updates in place but the cloud or the API server refuses: the update would fail."""
    data = rules()
    kind = _kube_kind(type_)
    if kind:
        return data["kubernetes"]["refusedInPlace"].get(kind, {})
    return data["azureNative"]["refusedInPlace"].get(type_, {})


# ---- values: what the cloud refuses or cannot undo, by comparing the base's value with the change's -----------------

def _number(value: Any) -> Optional[float]:
    """An int, or a Kubernetes quantity such as `512Gi` / `100G` (bytes), as a number; None when it is neither."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    match = re.fullmatch(r"(\d+(?:\.\d+)?)([KMGTPE]i?|[kmgtpe])?", str(value).strip())
    if not match:
        return None
    units = {"Ki": 2 ** 10, "Mi": 2 ** 20, "Gi": 2 ** 30, "Ti": 2 ** 40, "Pi": 2 ** 50, "Ei": 2 ** 60,
             "k": 1e3, "K": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15, "E": 1e18}
    return float(match.group(1)) * units.get(match.group(2) or "", 1)


def _version(value: Any) -> Optional[tuple[int, ...]]:
    """`1.34`, `1.34.2`, `17` -> a tuple of ints; None for anything else (an unset version is AKS's default)."""
    text = str(value).strip() if isinstance(value, (str, int)) and not isinstance(value, bool) else ""
    return tuple(int(p) for p in text.split(".")) if re.fullmatch(r"\d+(\.\d+){0,2}", text) else None


def _kubernetes_upgrade(old: Any, new: Any) -> Optional[str]:
    before, after = _version(old), _version(new)
    if after is None:
        return None
    if before is None:
        return ("the base gives no version (the cluster runs the default AKS chose at creation): check with `az aks "
                "show` that this is at most one minor above it")
    if after[:2] < before[:2] or (after[:2] == before[:2] and len(after) > 2 and len(before) > 2 and after < before):
        return "a downgrade"
    if len(after) > 1 and len(before) > 1 and after[0] == before[0] and after[1] > before[1] + 1:
        return f"skips {after[1] - before[1] - 1} minor version(s)"
    return None


# why a path is in the components' ignoreChanges, and what to do when the edit should happen
IGNORED_WHY = {
    "kubernetesVersion": "AKS's auto-upgrade channel owns the version (`cluster.upgradeChannel: none` lets the stack "
                         "drive it, every pool following)",
    "orchestratorVersion": "AKS's auto-upgrade channel owns the pool's version (`cluster.upgradeChannel: none` lets "
                           "the stack drive it)",
    "count": "the cluster autoscaler owns the node count (change minCount/maxCount instead)",
    "spec.replicas": "an autoscaler owns the replica count (change its minimum/maximum instead)",
    "spec.resources.requests.storage": "a claim bound to a pre-created volume keeps its request; the share's quota "
                                       "and the volume's capacity carry the size",
}


def ignored_hints(paths: list[str]) -> list[str]:
    """The reasons behind ignored paths, once each, in the order of IGNORED_WHY."""
    leaves = {p.rsplit(".", 1)[-1] if p.startswith("agentPoolProfiles") else p for p in paths}
    if "kubernetesVersion" in leaves:  # the cluster's line: its inline pool's version goes with it
        leaves.discard("orchestratorVersion")
    return [why for key, why in IGNORED_WHY.items() if key in leaves]


def _finding(check: str, old: Any, new: Any, inputs: dict[str, Any]) -> Optional[str]:
    """What is wrong with changing `old` to `new` under the named check, or None."""
    if check == "kubernetesUpgrade":
        return _kubernetes_upgrade(old, new)
    if check == "noDowngrade":
        before, after = _version(old), _version(new)
        return "a downgrade" if before and after and after < before else None
    if check == "upgrade":
        before, after = _version(old), _version(new)
        return "an upgrade" if before and after and after > before else None
    if check == "noDecrease":
        was, now = _number(old), _number(new)
        return "smaller" if was is not None and now is not None and now < was else None
    if check == "staticClaimGrowth":
        was, now = _number(old), _number(new)
        grows = was is not None and now is not None and now > was
        return "grows a claim bound to a pre-created volume" if grows and (
            (inputs.get("spec") or {}).get("storageClassName") == "") else None
    if check == "noTurnOff":
        return "turned off" if old is True and new is not True else None
    if check == "zoneRedundancy":
        def zonal(sku: Any) -> bool:
            return "ZRS" in str(sku).rsplit("_", 1)[-1]
        return "changes zone redundancy" if old is not None and new is not None and zonal(old) != zonal(new) else None
    if check == "changed":
        return "changed" if old != new else None
    raise ValueError(f"unknown value check {check!r} in {RULES_FILE.name}")


def _at(value: Any, path: str) -> Iterator[tuple[str, Any]]:
    """(concrete path, value) for a rule path, `[]` standing for every list index; absent values are None."""
    head, _, rest = path.partition(".")
    if head.endswith("[]"):
        items = value.get(head[:-2]) if isinstance(value, dict) else None
        for i, item in enumerate(items if isinstance(items, list) else []):
            for sub, found in (_at(item, rest) if rest else [("", item)]):
                yield f"{head[:-2]}[{i}]" + (f".{sub}" if sub else ""), found
        return
    inner = value.get(head) if isinstance(value, dict) else None
    if not rest:
        yield head, inner
    else:
        yield from ((f"{head}.{sub}", found) for sub, found in _at(inner, rest))


def _shown(value: Any) -> str:
    return "(unset)" if value is None else json.dumps(value)


def value_findings(type_: str, old_inputs: dict[str, Any], new_inputs: dict[str, Any],
                   paths: list[str]) -> tuple[list[str], list[str]]:
    """(refusals, checks) for the changed paths of one resource: each names the input, the stack key that sets it,
    both values, and why (offline/data/replacement_rules.json `valueRules`)."""
    refusals: list[str] = []
    checks: list[str] = []
    for rule in rules()["valueRules"].get(type_, []):
        if not any(under(p, rule["path"]) for p in paths):
            continue
        before = dict(_at(old_inputs, rule["path"]))
        for where, after in _at(new_inputs, rule["path"]):
            old = before.get(where)
            problem = _finding(rule["check"], old, after, new_inputs) if old != after else None
            if problem:
                line = (f"`{where}` {_shown(old)} -> {_shown(after)} (stack key `{rule['config']}`): {problem}; "
                        f"{rule['why']}")
                unknown_base = rule["check"] == "kubernetesUpgrade" and _version(old) is None
                (refusals if rule["blocks"] and not unknown_base else checks).append(line)
    return refusals, checks


# ---- ignoreChanges: the engine resets each ignored path to the old input before it diffs ---------------------------
# pulumi/pulumi pkg/resource/deploy/step_generator.go processIgnoreChanges and sdk/go/common/resource/properties_path.go
# PropertyPath.Reset (v3.259.0-14-g1b59498): an ignored path takes the old value, or is deleted where the old inputs
# have none; `[*]` stands for every element; a path missing on the way is left alone.

def _property_path(path: str) -> list[Any]:
    parts: list[Any] = []
    for key, index, quoted in re.findall(r'([^.\[\]"]+)|\[(\d+|\*)\]|\["([^"]+)"\]', path):
        parts.append(key or quoted or (index if index == "*" else int(index)))
    return parts


def _reset(old: Any, new: Any, parts: list[Any]) -> None:
    key, rest = parts[0], parts[1:]
    if key == "*" or isinstance(key, int):
        if isinstance(old, list) and isinstance(new, list):
            for i in (range(min(len(old), len(new))) if key == "*" else [key] if key < min(len(old), len(new)) else []):
                if rest:
                    _reset(old[i], new[i], rest)
                else:
                    new[i] = copy.deepcopy(old[i])
        return
    if not rest:
        if isinstance(new, dict):
            if isinstance(old, dict) and key in old:
                new[key] = copy.deepcopy(old[key])
            else:
                new.pop(key, None)
        return
    if isinstance(old, dict) and isinstance(new, dict) and key in new:
        _reset(old.get(key), new[key], rest)


def ignoring_changes(old_inputs: dict[str, Any], new_inputs: dict[str, Any], ignore: list[str]) -> dict[str, Any]:
    """The inputs Pulumi diffs: the new ones with every `ignoreChanges` path set back to its old value."""
    if not ignore:
        return new_inputs
    inputs = copy.deepcopy(new_inputs)
    for path in ignore:
        parts = _property_path(path)
        if parts:
            _reset(old_inputs, inputs, parts)
    return inputs


def _identity(resource: dict[str, Any]) -> Optional[str]:
    """The name other resources use to point at this one: an Azure resource's own (last) path parameter, a Kubernetes
    object's metadata.name."""
    inputs = resource["inputs"]
    azure = rules()["azureNative"]["types"].get(resource["type"])
    if azure:
        value = inputs.get(azure["path"][-1])
        return value if isinstance(value, str) and value else None
    if _kube_kind(resource["type"]):
        name = (inputs.get("metadata") or {}).get("name")
        return name if isinstance(name, str) and name else None
    return None


def _points_at(value: Any, name: str) -> bool:
    """The value is the name, or an Azure resource ID with the name as a segment."""
    if not isinstance(value, str):
        return False
    return value == name or (value.startswith("/subscriptions/") and f"/{name}/" in value + "/")


def provider_urn(reference: Optional[str]) -> str:
    """A provider reference is `<provider URN>::<provider ID>`; the URN alone names the provider resource."""
    reference = reference or ""
    return reference.rsplit("::", 1)[0] if reference.count("::") > 3 else reference


def _short(urn: str) -> str:
    return "::".join(urn.split("::")[-2:])


def engine_urns(resources: dict[str, dict[str, Any]]) -> dict[str, str]:
    """Each resource's URN as the engine writes it (the type chain of every ancestor, no root-stack prefix), from a
    document whose URNs may follow the SDK mock's scheme (offline plans): the URN `pulumi stack --show-urns`,
    `pulumi state unprotect` and `--target-replace` take."""
    out: dict[str, str] = {}

    def engine(urn: str) -> str:
        if urn not in out:
            res = resources.get(urn)
            if res is None:  # the root stack or a resource outside the document: as written
                return urn
            parent = res.get("parent") or ""
            stack, project, chain, name = _urn_parts(urn)
            out[urn] = _engine_urn(engine(parent) if parent else "", res.get("type") or chain.split("$")[-1],
                                   res.get("name") or name, stack, project)
        return out[urn]
    for urn in resources:
        engine(urn)
    return out


# ---- aliases: how the engine matches a new URN to an old one ----------------------------------------------------
# pulumi/pulumi pkg/resource/deploy/step_generator.go (v3.259.0-14-g1b59498): getOldResource looks a registration up
# by its URN first, then by each URN generateAliases gives, in order: every alias of the resource collapsed to a URN
# (collapseAliasToUrn: an unset name or type is the resource's own, an unset parent its own parent, a parent that
# itself matched through an alias stands for its old URN, noParent or the root stack means none), then, when its
# parent matched through an alias, the inherited alias (inheritedChildAlias: the child under the parent's old URN,
# a name that starts with the parent's name re-prefixed with the old parent's name) and the same for each alias.
# sdk/go/common/resource/alias.go CreateURN builds a child URN from the parent's qualified type chain.

def _urn_parts(urn: str) -> tuple[str, str, str, str]:
    """(stack, project, qualified type, name) of `urn:pulumi:<stack>::<project>::<type chain>::<name>`."""
    head, project, qualified, name = urn.split("::", 3)
    return head[len("urn:pulumi:"):], project, qualified, name


ROOT_STACK = "pulumi:pulumi:Stack"


def _engine_urn(parent: str, type_: str, name: str, stack: str, project: str) -> str:
    if not parent or _urn_parts(parent)[2].split("$")[-1] == ROOT_STACK:
        return f"urn:pulumi:{stack}::{project}::{type_}::{name}"
    return f"{parent[:parent.rindex('::')]}${type_}::{name}"


def _mock_urn(parent: str, type_: str, name: str, stack: str, project: str) -> str:
    """The SDK mock monitor's scheme (pulumi/runtime/mocks.py make_urn): only the parent's last type is kept."""
    prefix = _urn_parts(parent)[2].split("$")[-1] + "$" if parent else ""
    return f"urn:pulumi:{stack}::{project}::{prefix}{type_}::{name}"


def urn_scheme(resources: dict[str, dict[str, Any]]) -> Any:
    """The rule that reproduces the document's own URNs from parent, type and name: the engine's, or the SDK mock's
    (offline plans), so an alias is resolved to the URN the same runner would have given the old resource."""
    with_parent = [r for r in resources.values() if r.get("parent")]
    for scheme in (_engine_urn, _mock_urn):
        if all(scheme(r["parent"], r["type"], r["name"], *_urn_parts(r["urn"])[:2]) == r["urn"]
               for r in with_parent):
            return scheme
    return _engine_urn


def alias_matches(old_res: dict[str, dict[str, Any]], new_res: dict[str, dict[str, Any]]) -> dict[str, str]:
    """new URN -> old URN for every new resource the engine would match to an old one through its aliases."""
    make = urn_scheme(new_res)
    root = next((r["parent"] for r in new_res.values() if r.get("parent")
                 and _urn_parts(r["parent"])[2].split("$")[-1] == ROOT_STACK), "")
    matched: dict[str, str] = {}

    def depth(urn: str) -> int:
        parent = (new_res.get(urn) or {}).get("parent")
        return 1 + depth(parent) if parent in new_res else 0

    for urn in sorted(new_res, key=depth):  # parents first, as the engine registers them
        res = new_res[urn]
        specs = res.get("options", {}).get("aliases") or []
        parent = res.get("parent") or ""
        if urn in old_res or (not specs and parent not in matched):
            continue
        stack, project = _urn_parts(urn)[:2]

        def collapse(alias: dict[str, Any]) -> str:
            if alias.get("urn"):
                return alias["urn"]
            spec = alias.get("spec", {})
            at = spec.get("parentUrn") or parent
            at = matched.get(at, at)
            if spec.get("noParent") or (at and _urn_parts(at)[2].split("$")[-1] == ROOT_STACK):
                at = root if make is _mock_urn else ""
            return make(at, spec.get("type") or res["type"], spec.get("name") or res["name"],
                        spec.get("stack") or stack, spec.get("project") or project)

        candidates = [collapse(a) for a in specs]
        if parent in matched:  # inherited from the parent's alias
            old_parent = matched[parent]
            parent_name = _urn_parts(parent)[3]
            for child in [urn, *candidates]:
                child_type, child_name = _urn_parts(child)[2].split("$")[-1], _urn_parts(child)[3]
                if child_name.startswith(parent_name):
                    child_name = _urn_parts(old_parent)[3] + child_name[len(parent_name):]
                candidates.append(make(old_parent, child_type, child_name, stack, project))
        found = next((c for c in candidates if c in old_res and c not in new_res
                      and c not in matched.values()), None)
        if found:
            matched[urn] = found
    return matched


def diff(base: Path, new: Path) -> dict[str, Any]:
    return diff_documents(_resources(base), _resources(new))


def diff_documents(old_res: dict[str, dict[str, Any]], new_res: dict[str, dict[str, Any]]) -> dict[str, Any]:
    moved = alias_matches(old_res, new_res)
    if moved:  # an aliased resource is the old one under its new URN: compared, never deleted and created
        renamed = {new: old_res[old] for new, old in moved.items()}
        old_res = {**{u: r for u, r in old_res.items() if u not in set(moved.values())}, **renamed}
    providers = {u: r for u, r in new_res.items() if r["type"].startswith("pulumi:providers:")}
    common = sorted(set(old_res) & set(new_res))
    changed: dict[str, list[str]] = {}
    replaced: dict[str, list[str]] = {}
    refused: dict[str, list[str]] = {}
    checks: dict[str, list[str]] = {}
    ignored: dict[str, list[str]] = {}
    notes: dict[str, list[str]] = {}
    for urn in common:
        old, now = old_res[urn], new_res[urn]
        inputs = ignoring_changes(old["inputs"], now["inputs"], now["options"].get("ignoreChanges") or [])
        paths = _changed_keys(old["inputs"], inputs)
        if inputs is not now["inputs"]:
            ignored_paths = [p for p in _changed_keys(old["inputs"], now["inputs"]) if p not in paths]
            if ignored_paths:
                ignored[urn] = ignored_paths
        keys = list(paths)
        if old["options"].get("protect") != now["options"].get("protect"):
            keys.append("(protect)")
        why: list[str] = []
        if now.get("custom", True):
            rules_here = replace_rules(now, providers)
            for path in paths:
                why += [f"`{path}` ({rule})" for key, rule in rules_here if under(path, key)][:1]
                why += [f"`{path}` (its replaceOnChanges)" for key in now["options"].get("replaceOnChanges") or []
                        if under(path, key)]
                refused.setdefault(urn, []).extend(
                    f"`{path}`: {reason}" for key, reason in refused_rules(now["type"]).items() if under(path, key))
            refusals, notices = value_findings(now["type"], old["inputs"], inputs, paths)
            refused.setdefault(urn, []).extend(refusals)
            if notices:
                checks[urn] = notices
            if (old["options"].get("provider") or "") != (now["options"].get("provider") or ""):
                why.append("its provider changed (a different provider is taken as a different cluster or account)")
                keys.append("(provider)")
        if urn in moved:
            notes.setdefault(urn, []).append(f"moved from `{moved[urn]}` through its alias (the same resource)")
        elif (old.get("parent") or "") != (now.get("parent") or ""):
            notes.setdefault(urn, []).append("new parent of the same type (the URN is unchanged)")
        if why:
            replaced[urn] = sorted(set(why))
        if keys:
            changed[urn] = keys
    refused = {u: sorted(set(r)) for u, r in refused.items() if r and u not in replaced}
    via_provider = _cascade(new_res, common, replaced)
    removed, added = sorted(set(old_res) - set(new_res)), sorted(set(new_res) - set(old_res))
    for urn in removed:  # a URN that changed: the same type and physical name or inputs under another URN
        twin = next((a for a in added if new_res[a]["type"] == old_res[urn]["type"]
                     and (new_res[a]["inputs"] == old_res[urn]["inputs"] or (
                         _identity(old_res[urn]) and _identity(new_res[a]) == _identity(old_res[urn])))), None)
        if twin:
            notes.setdefault(urn, []).append(
                f"its URN changed to `{_short(twin)}` (renamed or re-parented): Pulumi deletes it and creates the "
                "new one unless the new resource carries an alias of the old URN")
    checks = {u: c for u, c in checks.items() if u not in replaced}
    return {"added": added, "removed": removed, "changed": changed, "replaced": replaced, "refused": refused,
            "checks": checks, "ignored": ignored, "notes": notes, "base_found": bool(old_res), "moved": moved,
            "deleteBeforeReplace": sorted(u for u in replaced if _delete_first(old_res[u], new_res[u])
                                          and u not in via_provider),
            "types": {**{u: r["type"] for u, r in old_res.items()}, **{u: r["type"] for u, r in new_res.items()}},
            "engineUrns": {**engine_urns(old_res), **engine_urns(new_res)},
            "protected": sorted(u for u in set(replaced) | set(removed)
                                if (old_res[u]["options"].get("protect")))}


def _cascade(new_res: dict[str, dict[str, Any]], common: list[str], replaced: dict[str, list[str]]) -> set[str]:
    """What a replacement drags along: every resource of a replaced provider; a Kubernetes provider whose kubeconfig
    comes from a replaced cluster; a resource whose replacing input names a replaced resource it depends on. Returns
    the resources replaced because their provider is (the engine creates those before it deletes, on the new
    provider)."""
    providers = {u: r for u, r in new_res.items() if r["type"].startswith("pulumi:providers:")}
    via_provider: set[str] = set()
    grew = True
    while grew:
        grew = False
        for urn in common:
            if urn in replaced:
                continue
            res, why = new_res[urn], []
            provider = provider_urn(res["options"].get("provider"))
            if provider in replaced:
                why.append(f"its provider `{_short(provider)}` is replaced")
                via_provider.add(urn)
            deps = [d for d in res.get("dependencies", []) if d in replaced and d in new_res]
            if res["type"] == "pulumi:providers:kubernetes":
                why += [f"its kubeconfig comes from `{_short(d)}`, which is replaced (unknown until it exists: "
                        "pulumi-kubernetes DiffConfig replaces)" for d in deps
                        if new_res[d]["type"] == "azure-native:containerservice:ManagedCluster"]
            keys = replace_rules(res, providers)
            azure = rules()["azureNative"]["types"].get(res["type"])
            own = azure["path"][-1] if azure else "metadata.name"  # its own name is no reference to another
            for dep in deps:
                name = _identity(new_res[dep])
                hits = [path for path, value in _leaves(res["inputs"]) if name and _points_at(value, name)
                        and path != own and any(under(path, key) for key, _ in keys)]
                named = [p for p in hits if re.search(r"(Name|namespace|[iI][dD]|scope|subnet)$", p)]
                why += [f"`{path}` names `{_short(dep)}`, which is replaced" for path in (named or hits)[:2]]
            if why:
                replaced[urn] = sorted(set(why))
                grew = True
    return via_provider


def _delete_first(old: dict[str, Any], new: dict[str, Any]) -> bool:
    """Pulumi deletes before it creates: the deleteBeforeReplace option; an Azure resource whose name is given
    (pulumi-azure-native Diff answers deleteBeforeReplace for every replacement but of a name it generated at random);
    a named Kubernetes object keeping its name and namespace (pulumi-kubernetes Diff)."""
    if new["options"].get("deleteBeforeReplace"):
        return True
    azure = rules()["azureNative"]["types"].get(new["type"])
    if azure:
        return bool(new["inputs"].get(azure["path"][-1]))
    if not _kube_kind(new["type"]):
        return False
    meta_old, meta_new = old["inputs"].get("metadata") or {}, new["inputs"].get("metadata") or {}
    return bool(meta_new.get("name")) and all(meta_old.get(k) == meta_new.get(k) for k in ("name", "namespace"))


def read_allow_file(path: Optional[Path]) -> set[str]:
    """The URNs a pull request allows to be replaced or deleted; none when the file does not exist (a repository
    without one, as the workflow passes the conventional name whether or not it exists)."""
    if not path or not path.exists():
        return set()
    return {line.split("#", 1)[0].strip() for line in path.read_text().splitlines()} - {""}


REFUSED = "refused in place: "


def blocking(result: dict[str, Any], allowed: set[str], allow_stateful: bool) -> list[tuple[str, str]]:
    """(urn, why) for every change the check refuses: a stateful resource replaced or deleted, an in-place change
    the cloud refuses; minus what the pull request allows."""
    out = []
    for urn in sorted(set(result["replaced"]) | set(result["removed"])):
        what = STATEFUL.get(result["types"][urn])
        if what and not allow_stateful and urn not in allowed:
            verb = "replaced" if urn in result["replaced"] else "deleted"
            out.append((urn, f"{verb}: {what}"))
    for urn, reasons in result["refused"].items():
        if urn not in allowed:
            out.append((urn, REFUSED + "; ".join(reasons)))
    return out


def allowances(result: dict[str, Any], allowed: set[str], allow_stateful: bool,
               allow_file: str = ALLOW_FILE) -> dict[str, str]:
    """urn -> what allowed it, for every change the check would refuse but the pull request allows: the reviewer
    still reads that the database goes."""
    out = {}
    for urn in sorted(set(result["replaced"]) | set(result["removed"])):
        if STATEFUL.get(result["types"][urn]):
            if urn in allowed:
                out[urn] = f"`{allow_file}`"
            elif allow_stateful:
                out[urn] = f"the `{ALLOW_LABEL}` label (`--allow-stateful`)"
    for urn in result["refused"]:
        if urn in allowed:
            out[urn] = f"`{allow_file}`"
    return out


def unmatched_allowances(result: dict[str, Any], allowed: set[str]) -> list[str]:
    """Allow-file entries of this diff's stack (or no URN at all) that allow nothing in it: a mistyped URN, or a line
    left after its change merged. An entry of another stack is that stack's diff's business (one file serves all)."""
    stacks = {_urn_stack(u) for u in result["types"]}
    needed = {u for u in set(result["replaced"]) | set(result["removed"]) if STATEFUL.get(result["types"][u])}
    return sorted(u for u in allowed - needed - set(result["refused"])
                  if _urn_stack(u) is None or _urn_stack(u) in stacks)


def _urn_stack(urn: str) -> Optional[str]:
    """The stack of `urn:pulumi:<stack>::<project>::<type>::<name>`, or None for anything else."""
    match = re.fullmatch(r"urn:pulumi:([^:]+)::[^:]+::.+::.+", urn)
    return match.group(1) if match else None


def _cost(folder: Path) -> dict[str, Any]:
    path = folder / "cost.json"
    doc = _read_json(path) if path.exists() else {}
    if not isinstance(doc, dict) or "idleMonthly" not in doc:
        return {}
    figures = [doc.get("idleMonthly"), doc.get("peakMonthly"),
               *(part.get(k) if isinstance(part, dict) else None
                 for part in (doc.get("byComponent") or {}).values() for k in ("idle", "peak"))]
    unpriced = doc.get("unpriced") or []
    if not all(isinstance(f, (int, float)) and not isinstance(f, bool) for f in figures) or not isinstance(
            doc.get("byComponent") or {}, dict) or not isinstance(unpriced, list) or not all(
            isinstance(u, str) for u in unpriced):
        raise PlanError(f"{path}: not a cost estimate as make plan writes it (idleMonthly, peakMonthly and each "
                        "byComponent entry's idle and peak are numbers, unpriced a list of texts)")
    return doc


def cost_lines(base: Path, new: Path) -> list[str]:
    old, now = _cost(base), _cost(new)
    if not now:
        return []
    if not old:
        return [f"Monthly cost: idle ${now['idleMonthly']:,.2f}, peak ${now['peakMonthly']:,.2f} "
                "(no base estimate)", ""]
    in_base, in_head = set(old.get("unpriced") or []), set(now.get("unpriced") or [])
    unpriced = sorted(in_base | in_head)
    if in_base != in_head:
        # one side leaves out what the other prices (a VM size with no price, say): a larger VM read as a saving
        side = {m: "base and head" if m in in_base and m in in_head else "base" if m in in_base else "head"
                for m in unpriced}
        return [f"Monthly cost: idle ${old['idleMonthly']:,.2f} -> ${now['idleMonthly']:,.2f}, peak "
                f"${old['peakMonthly']:,.2f} -> ${now['peakMonthly']:,.2f}: not comparable, no difference shown "
                "(what one side leaves out unpriced is below)"] + \
            [f"- not priced in the {side[m]}, so left out of its figures: {m}" for m in unpriced] + [""]
    lines = [f"Monthly cost: idle ${old['idleMonthly']:,.2f} -> ${now['idleMonthly']:,.2f} "
             f"({now['idleMonthly'] - old['idleMonthly']:+,.2f}), peak ${old['peakMonthly']:,.2f} -> "
             f"${now['peakMonthly']:,.2f} ({now['peakMonthly'] - old['peakMonthly']:+,.2f})"]
    before, after = old.get("byComponent", {}), now.get("byComponent", {})
    for component in sorted(set(before) | set(after)):
        a, b = before.get(component, {"idle": 0, "peak": 0}), after.get(component, {"idle": 0, "peak": 0})
        if a != b:
            lines.append(f"- {component}: idle {b['idle'] - a['idle']:+,.2f}, peak {b['peak'] - a['peak']:+,.2f}")
    return lines + [f"- not priced, so left out of the figures: {m}" for m in unpriced] + [""]


def markdown(result: dict[str, Any], title: str, blocked: Optional[list[tuple[str, str]]] = None,
             allowed: Optional[dict[str, str]] = None, unmatched: Optional[list[str]] = None,
             allow_file: str = ALLOW_FILE) -> str:
    lines = [f"### {title}", ""]
    allowed = allowed or {}
    engine = result.get("engineUrns", {})

    def full(urn: str) -> str:  # the engine's URN, as Pulumi's own commands take it
        return engine.get(urn, urn)

    def _short_(urn: str) -> str:
        return _short(full(urn))
    if not result["base_found"]:
        lines.append("_A new stack (the base branch has no such stack file): every resource is new._")
    updated = [u for u in result["changed"] if u not in result["replaced"]]
    counts = (f"{len(result['added'])} to add, {len(updated)} to update, {len(result['replaced'])} to replace, "
              f"{len(result['removed'])} to delete")
    lines += [f"**{counts}**", ""]
    if blocked:
        stateful = any(not why.startswith(REFUSED) for _, why in blocked)  # the label covers only these
        lines += [f"**Blocked: {len(blocked)} change(s) need an explicit allowance** (list the URN in "
                  f"`{ALLOW_FILE}`" + (f", or label the pull request `{ALLOW_LABEL}` for stateful replacements"
                                       if stateful else "") + "; see docs/guardrails.md, \"Change safety\"):", ""]
        lines += [f"- :x: `{_short_(u)}` {why}  \n  `{full(u)}`" for u, why in blocked] + [""]
    if unmatched:
        lines += [f"**{len(unmatched)} `{allow_file}` entr{'y' if len(unmatched) == 1 else 'ies'} allow nothing in "
                  "this diff** (a mistyped URN, or a line left after its change merged: remove it):", ""]
        lines += [f"- :warning: `{full(u)}`" for u in unmatched] + [""]

    def mark(urn: str) -> str:
        if urn not in allowed:
            return ""
        what = STATEFUL.get(result["types"][urn])
        return f" :warning: **allowed** by {allowed[urn]}" + (f" ({what})" if what else "")
    for urn, reasons in result["replaced"].items():
        first = " (deleted first, then created: a gap)" if urn in result["deleteBeforeReplace"] else ""
        lines.append(f"- Replace: `{_short_(urn)}`{mark(urn)}{first}: {'; '.join(reasons[:4])}"
                     f"{'; ...' if len(reasons) > 4 else ''}")
    for urn in result["removed"]:
        lines.append(f"- Delete: `{_short_(urn)}`{mark(urn)}" + "".join(f": {n}" for n in result["notes"].get(urn, [])))
    lines += [f"- Add: `{_short_(u)}`" for u in result["added"]]
    if result.get("moved"):
        lines.append(f"- Moved through aliases (same resources, new URNs): {len(result['moved'])}")
    lines += [f"- Update: `{_short_(u)}` ({', '.join(result['changed'][u][:6])}"
              f"{', ...' if len(result['changed'][u]) > 6 else ''})" for u in updated]
    shown = {u for u, _ in blocked or []}  # a blocked refusal is told in full above, once
    lines += [f"- Refused in place: `{_short_(u)}`{mark(u)}: " + ("blocked above" if u in shown else '; '.join(r))
              for u, r in result["refused"].items()]
    lines += [f"- Check before merging: `{_short_(u)}`: {'; '.join(c)}" for u, c in result.get("checks", {}).items()]
    lines += [f"- Ignored (its `ignoreChanges`: `pulumi up` keeps the deployed value): `{_short_(u)}` ({', '.join(p)})"
              + "".join(f"; {hint}" for hint in ignored_hints(p)) for u, p in result.get("ignored", {}).items()]
    lines += [f"- Protected (`pulumi up` stops here until `protect` is lifted): `{_short_(u)}`"
              for u in result["protected"]]
    return "\n".join(lines) + "\n"


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m offline.plan_diff", description=__doc__.splitlines()[0])
    parser.add_argument("base", type=Path, help="build/<stack> of the base branch")
    parser.add_argument("new", type=Path, help="build/<stack> of this change")
    parser.add_argument("--title", default="Offline plan diff")
    parser.add_argument("--allow-file", type=Path, metavar="PATH",
                        help=f"URNs (one a line, # comments) whose replacement or deletion is intended ({ALLOW_FILE})")
    parser.add_argument("--allow-stateful", action="store_true",
                        help=f"allow every stateful replacement or deletion (the `{ALLOW_LABEL}` label)")
    parser.add_argument("--new-stack", action="store_true",
                        help="the base branch has no such stack (no stack file): BASE is not read and every "
                             "resource is new; without it, a BASE without a plan is an error")
    args = parser.parse_args(argv)
    if not (args.new / "resources.json").exists():
        print(f"no plan at {args.new} (run make plan first; a what-if run that fails writes none)", file=sys.stderr)
        return 2
    base_plan = (args.base / "resources.json").exists()
    if args.new_stack and base_plan:
        print(f"--new-stack, but {args.base} holds a plan: the base branch has this stack (drop --new-stack)",
              file=sys.stderr)
        return 2
    if not args.new_stack and not base_plan:
        missing = "the folder does not exist" if not args.base.exists() else "no resources.json in it"
        print(f"no plan of the base branch at {args.base} ({missing}): run `make plan STACK=<stack>` on the base "
              "branch (a plan that fails leaves no folder); for a stack the base branch does not have, pass "
              "--new-stack", file=sys.stderr)
        return 2
    if args.allow_file and not args.allow_file.exists():
        print(f"note: --allow-file {args.allow_file} does not exist, so nothing is allowed", file=sys.stderr)
    try:
        allow_entries = read_allow_file(args.allow_file)
    except (OSError, UnicodeDecodeError) as error:
        print(f"cannot read --allow-file {args.allow_file}: {getattr(error, 'strerror', None) or error} (a text "
              "file of URNs, one a line)", file=sys.stderr)
        return 2
    try:
        result = diff_documents({}, _resources(args.new)) if args.new_stack else diff(args.base, args.new)
        result["base_found"] = not args.new_stack
        to_offline = {engine: offline for offline, engine in result["engineUrns"].items()}
        allow_list = {to_offline.get(entry, entry) for entry in allow_entries}
        blocked = blocking(result, allow_list, args.allow_stateful)
        allow_name = args.allow_file.name if args.allow_file else ALLOW_FILE
        text = markdown(result, args.title, blocked, allowances(result, allow_list, args.allow_stateful, allow_name),
                        unmatched_allowances(result, allow_list), allow_name)
        head, _, body = text.partition("\n\n")
        print("\n".join([head, "", *cost_lines(args.base, args.new), body]), end="")
    except PlanError as error:
        print(f"cannot read a plan: {error}", file=sys.stderr)
        return 2
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, RecursionError) as error:
        # a plan file of a shape the checks above let through: an error of the check, never a "blocked" (exit 1)
        print(f"cannot diff {args.base} and {args.new}: {type(error).__name__}: {str(error)[:200]} (are both "
              "written by make plan?)", file=sys.stderr)
        return 2
    return 1 if blocked else 0


if __name__ == "__main__":
    sys.exit(main())
