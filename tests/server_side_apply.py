"""What a day-2 `pulumi up` does to a Kubernetes object something else also writes, transcribed from the sources, so
tests can run a component's real objects through it (tests/components/test_field_ownership.py).

Three layers, each a transcription of its source:

- The API server's field ownership (server-side apply), kubernetes-sigs/structured-merge-diff `merge/update.go` at
  tag v6.4.2 (merge/ unchanged since v6.3.0; first read at 07aadf81, a 2019 commit): `Updater.update` finds, for
  every other manager, the fields it owns that the request modifies or adds; an apply (`Updater.Apply`) fails with a
  conflict on any of them unless forced, and a forced one takes them; a plain write (`Updater.Update`: a PUT or
  non-apply PATCH, a scale subresource write, `kubectl label`/`edit`/`scale`) is always forced, so its writer takes
  every field whose value it changed. An applier's fields are what it applied (`ToFieldSet` of its configuration);
  one it applied last time and not now is removed unless another manager, an Update one too, owns it (`prune`,
  `addBackOwnedItems`). Managers are told apart by name, operation (Apply, Update) and subresource (a scale write's
  is "scale"), as the API server's managedFields entries are (kubernetes/kubernetes staging/src/k8s.io/apimachinery/
  pkg/util/managedfields/internal/structuredmerge.go, stored 025f2834: `Update` and `Apply` call the updater).
- pulumi-kubernetes (read at 94977969d, after v4.32.0: the newest stored snapshot; the pinned 4.34.2's source is not
  in it): `provider/pkg/await/await.go` `Creation` (with server-side apply on and `upsertExistingObjects` off a create
  is a client-side POST under the manager "pulumi-kubernetes", since 0d18fe4f0), `ssaUpdate` (`fixCSAFieldManagers`,
  whose names fluxcd/pkg ssa matches by prefix, so every `kubectl-*` writer of the object itself is adopted; then
  `handleSSAIgnoreFields`, then an apply under the resource's own field manager, forced per `patchForce`, a dry-run
  in a preview), `patchForce`; `provider/pkg/provider/provider.go` `Read` (a refresh: the live object pruned
  to the shape of the old inputs becomes the inputs), `Diff` (the live object pruned to the old inputs' shape against
  the new inputs, ignored paths dropped); `provider/pkg/provider/util.go` `pruneMap`/`pruneSlice`.
- The engine's ignoreChanges: pulumi/pulumi v3.259.0 `pkg/resource/deploy/step_generator.go` `processIgnoreChanges`
  resets each ignored path of the new inputs to the old inputs' value, or deletes it where the old inputs have none
  (`sdk/go/common/resource/properties_path.go` `reset`), before Check and Diff: offline/plan_diff/ignore_changes.py,
  the one transcription the PR check and tests/azure_put.py use too (a path it cannot reset is an info line, and the
  program's value there goes on).

Simplifications, none of which the scenarios reach: paths are plain (no `*`, no index) in ignoreChanges; a list of
objects that each have a "name" is keyed by it (containers, env, ports: the schemas' `listMapKeys`), any other list
is one atomic value; defaulting and admission are not run (a test writes what a controller writes itself).
"""
import copy
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Optional

from offline.plan_diff.ignore_changes import process_ignore_changes

Path = tuple[str, ...]

PATCH_FORCE = "pulumi.com/patchForce"  # provider/pkg/metadata/annotations.go AnnotationPatchForce
CSA_CREATE_MANAGER = "pulumi-kubernetes"  # await.go Creation: the static manager of a client-side create
APPLY, UPDATE = "Apply", "Update"
SCALE = "scale"  # the subresource KEDA, the HPA controller and `kubectl scale` write a replica count through
# A managedFields entry: (manager, operation, subresource); "" is the object itself. The API server keeps one entry
# per manager name, operation and subresource (and an Update's apiVersion, one here): kubernetes/kubernetes
# staging/src/k8s.io/apimachinery/pkg/util/managedfields/internal/managedfields.go `BuildManagerIdentifier`.
Manager = tuple[str, str, str]
# await.go fixCSAFieldManagers: the entries whose fields the resource's own field manager takes over on every real
# (not preview) update. fluxcd/pkg ssa `PatchReplaceFieldsManagers` (4f94dc68, the version pulumi-kubernetes'
# provider/go.mod pins at 94977969d) matches a name by PREFIX (`matchFieldManager`: `ExactMatch` unset), the
# operation exactly, and only entries of the object itself (no subresource): "kubectl" takes in `kubectl-edit`,
# `kubectl-label`, `kubectl-annotate`, `kubectl-set`, `kubectl-patch`, `kubectl-rollout`,
# `kubectl-client-side-apply`, but not `kubectl scale`'s `kubectl` (the scale subresource) nor a manager named
# otherwise.
ADOPTED = (("kubectl", APPLY), ("kubectl", UPDATE), ("before-first-apply", UPDATE), (CSA_CREATE_MANAGER, UPDATE),
           ("pulumi-kubernetes.exe", UPDATE), ("pulumi-resource-kubernetes", UPDATE))


def adopted(entry: Manager, prefixes: Iterable[tuple[str, str]] = ADOPTED) -> bool:
    """fluxcd ssa `matchFieldManager` for one managedFields entry."""
    name, operation, subresource = entry
    return subresource == "" and any(name.startswith(p) and operation == op for p, op in prefixes)
# await.go patchForce: a preview forces where the live object has one of these as an Update manager
CSA_NAMES = ("pulumi-resource-kubernetes", "pulumi-kubernetes", "pulumi-kubernetes.exe")


class Conflict(Exception):
    """The API server's 409 for an apply, as pulumi-kubernetes reports it (await.go `handleSSAErr`)."""

    def __init__(self, manager: str, conflicts: dict[Manager, set[Path]]):
        self.conflicts = conflicts
        detail = "; ".join(f"conflict with {m!r} ({op}{f' with subresource {sub!r}' if sub else ''}): "
                           + ", ".join("." + ".".join(p) for p in sorted(paths))
                           for (m, op, sub), paths in sorted(conflicts.items()))
        super().__init__("server-side apply field conflict detected: the resource managed by field manager "
                         f"{manager!r} had an apply conflict: {detail}")


# ---------------------------------------------------------------------------------------------------------------
# Objects as fields

def _keyed(items: list) -> bool:
    return bool(items) and all(isinstance(i, dict) and "name" in i for i in items)


def leaves(obj: Any, prefix: Path = ()) -> dict[Path, Any]:
    """Every field of `obj` with its value: maps field by field, lists keyed by "name" item by item, other lists and
    scalars whole. An empty map is a field of its own (as `{}` is in a managedFields set)."""
    if isinstance(obj, dict):
        if not obj and prefix:
            return {prefix: {}}
        out: dict[Path, Any] = {}
        for key, value in obj.items():
            out.update(leaves(value, prefix + (str(key),)))
        return out
    if isinstance(obj, list) and _keyed(obj):
        out = {}
        for item in obj:
            out.update(leaves({k: v for k, v in item.items()}, prefix + (f"[name={item['name']}]",)))
        return out
    return {prefix: copy.deepcopy(obj)}


def build(fields: dict[Path, Any]) -> dict[str, Any]:
    """The object whose leaves are `fields` (leaves' inverse)."""
    root: dict[str, Any] = {}
    for path, value in fields.items():  # in order: a merged object keeps the live items' order, new ones after
        node: Any = root
        for i, part in enumerate(path[:-1]):
            node = node.setdefault(part, {})
        node[path[-1]] = copy.deepcopy(value)
    return _lists(root)


def _lists(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    keys = list(node)
    if keys and all(k.startswith("[name=") for k in keys):
        return [{**_lists(node[k]), "name": k[len("[name="):-1]} for k in keys]
    return {k: _lists(v) for k, v in node.items()}


def get(obj: Any, path: Iterable[str]) -> tuple[bool, Any]:
    node = obj
    for part in path:
        if not isinstance(node, dict) or part not in node:
            return False, None
        node = node[part]
    return True, node


def set_path(obj: dict, path: Iterable[str], value: Any) -> None:
    parts = list(path)
    node = obj
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = copy.deepcopy(value)


def remove(obj: dict, path: Iterable[str]) -> None:
    parts = list(path)
    found, parent = get(obj, parts[:-1])
    if found and isinstance(parent, dict):
        parent.pop(parts[-1], None)


def _has(fields: set[Path], path: Path) -> bool:
    """`fieldpath.Set.Has` after await.go `ensureFieldsAreMembers` (every parent of a member is one too)."""
    return any(f[:len(path)] == path for f in fields)


# ---------------------------------------------------------------------------------------------------------------
# The API server

@dataclass
class Stored:
    obj: dict[str, Any]
    managers: dict[Manager, set[Path]] = field(default_factory=dict)

    def managed_by(self, path: Path) -> set[Manager]:
        return {m for m, fields in self.managers.items() if path in fields}


class ApiServer:
    """One object's store and its managedFields, with structured-merge-diff's update rule."""

    def __init__(self) -> None:
        self.objects: dict[str, Stored] = {}
        self.applies: list[dict[str, Any]] = []  # every apply body received (dry runs included), in order

    @staticmethod
    def key(obj: dict[str, Any]) -> str:
        meta = obj.get("metadata") or {}
        return f"{obj.get('kind')}/{meta.get('namespace', '')}/{meta['name']}"

    def get(self, key: str) -> Optional[Stored]:
        return copy.deepcopy(self.objects.get(key))

    @staticmethod
    def _update(old: dict[Path, Any], new: dict[Path, Any], managers: dict[Manager, set[Path]],
                workflow: Manager, force: bool) -> dict[Manager, set[Path]]:
        """merge/update.go `Updater.update`."""
        modified_or_added = {p for p, v in new.items() if p not in old or old[p] != v}
        removed = {p for p in old if p not in new}
        conflicts = {m: fields & modified_or_added for m, fields in managers.items()
                     if m != workflow and fields & modified_or_added}
        if conflicts and not force:
            raise Conflict(workflow[0], conflicts)
        out = {}
        for m, fields in managers.items():
            kept = fields if m == workflow else fields - modified_or_added - removed
            if kept:
                out[m] = set(kept)
        return out

    def create(self, obj: dict[str, Any], manager: str) -> dict[str, Any]:
        """A POST: its manager (operation Update) owns every field it sent (`Updater.Update` from an empty object)."""
        key = self.key(obj)
        assert key not in self.objects, f"{key} exists: AlreadyExists"
        self.objects[key] = Stored(copy.deepcopy(obj), {(manager, UPDATE, ""): set(leaves(obj))})
        return copy.deepcopy(obj)

    def write(self, key: str, change: Callable[[dict[str, Any]], None], manager: str, subresource: str = ""
              ) -> dict[str, Any]:
        """A plain write (PUT, merge patch; `subresource` "scale" for a scale subresource write) by `manager`:
        `Updater.Update`, always forced; the writer takes the fields whose value it changed."""
        stored = self.objects[key]
        new = copy.deepcopy(stored.obj)
        change(new)
        old_fields, new_fields = leaves(stored.obj), leaves(new)
        entry = (manager, UPDATE, subresource)
        managers = self._update(old_fields, new_fields, stored.managers, entry, force=True)
        changed = {p for p, v in new_fields.items() if p not in old_fields or old_fields[p] != v}
        mine = (managers.get(entry, set()) | changed) - {p for p in old_fields if p not in new_fields}
        if mine:
            managers[entry] = mine
        stored.obj, stored.managers = new, managers
        return copy.deepcopy(new)

    def replace_managers(self, key: str, prefixes: Iterable[tuple[str, str]], manager: str) -> None:
        """A JSON patch of metadata.managedFields (fluxcd ssa `PatchReplaceFieldsManagers`, as await.go
        `fixCSAFieldManagers` sends it): the fields of every entry `adopted` matches move to `manager`'s Apply
        entry (its own Apply entry excepted)."""
        stored = self.objects[key]
        prefixes, ours = list(prefixes), (manager, APPLY, "")
        moved = set()
        for entry in [e for e in stored.managers if e != ours and adopted(e, prefixes)]:
            moved |= stored.managers.pop(entry)
        if moved:
            stored.managers[ours] = stored.managers.get(ours, set()) | moved

    def apply(self, config: dict[str, Any], manager: str, force: bool, dry_run: bool = False) -> dict[str, Any]:
        """A server-side apply: merge/update.go `Updater.Apply` (merge, prune what this applier dropped, update).
        `prune` removes each field of the applier's last set that it no longer sends, unless another manager owns
        it: `addBackOwnedItems` adds back what any entry (an Update one too) owns."""
        self.applies.append(copy.deepcopy(config))
        key = self.key(config)
        stored = self.objects[key]
        live = leaves(stored.obj)
        applied = leaves(config)
        merged = {**live, **applied}
        ours = (manager, APPLY, "")
        last = stored.managers.get(ours, set())
        owned_by_others = set().union(*[f for m, f in stored.managers.items() if m != ours])
        for path in last:
            if path not in applied and path not in owned_by_others:
                merged.pop(path, None)
        managers = {m: set(f) for m, f in stored.managers.items()}
        managers[ours] = set(applied)
        managers = self._update(live, merged, managers, ours, force)
        result = build(merged)
        if not dry_run:
            stored.obj, stored.managers = result, managers
        return copy.deepcopy(result)


# ---------------------------------------------------------------------------------------------------------------
# pulumi-kubernetes and the engine

def prune_map(source: Any, target: Any) -> Any:
    """provider/pkg/provider/util.go `pruneMap`: the keys of `source` that `target` has, recursively."""
    if not isinstance(source, dict) or not isinstance(target, dict):
        return None
    out = {}
    for key, value in source.items():
        if key not in target:
            continue
        wanted = target[key]
        if value is None or wanted is None or type(value) is not type(wanted):
            out[key] = value
        elif isinstance(value, dict):
            out[key] = prune_map(value, wanted)
        elif isinstance(value, list):
            out[key] = prune_slice(value, wanted)
        else:
            out[key] = value
    return out


def prune_slice(source: list, target: list) -> list:
    """util.go `pruneSlice`: position by position, no longer than `target`."""
    if not source or not target:
        return []
    if type(source[0]) is not type(target[0]):
        return copy.deepcopy(source)
    out = []
    for i, wanted in enumerate(target):
        if i >= len(source):
            break
        value = source[i]
        if value is None or wanted is None:
            out.append(value)
        elif isinstance(value, dict):
            out.append(prune_map(value, wanted))
        elif isinstance(value, list):
            out.append(prune_slice(value, wanted))
        else:
            out.append(value)
    return out


def _flat(obj: Any, prefix: Path = ()) -> dict[Path, Any]:
    """Positional paths (the JSON patch Diff computes compares lists by index)."""
    if isinstance(obj, dict) and obj:
        out: dict[Path, Any] = {}
        for k, v in obj.items():
            out.update(_flat(v, prefix + (str(k),)))
        return out
    if isinstance(obj, list) and obj:
        out = {}
        for i, v in enumerate(obj):
            out.update(_flat(v, prefix + (f"[{i}]",)))
        return out
    return {prefix: obj}


@dataclass
class State:
    """A resource's checkpoint: its inputs, its last known live object and its field manager (`__fieldManager`)."""
    inputs: dict[str, Any]
    live: dict[str, Any]
    field_manager: str


class Provider:
    """pulumi-kubernetes with server-side apply on (its default, and what AksCluster's provider sets)."""

    def __init__(self, server: ApiServer, enable_patch_force: bool = False, field_manager: str = "pulumi-kubernetes-"
                 "a1b2c3d4"):
        self.server = server
        self.enable_patch_force = enable_patch_force
        self.field_manager = field_manager  # provider.go fieldManagerName: "pulumi-kubernetes-" and a random suffix

    def create(self, inputs: dict[str, Any]) -> State:
        live = self.server.create(inputs, CSA_CREATE_MANAGER)
        return State(copy.deepcopy(inputs), live, self.field_manager)

    def read(self, state: State) -> Optional[State]:
        """provider.go `Read`: gone is None; else the live object, and as inputs the live object pruned to the old
        inputs' shape."""
        stored = self.server.get(ApiServer.key(state.live))
        if stored is None:
            return None
        return State(prune_map(stored.obj, state.inputs), stored.obj, state.field_manager)

    @staticmethod
    def diff(state: State, news: dict[str, Any], ignore: Iterable[str] = ()) -> set[str]:
        """provider.go `Diff`: the paths where the live object pruned to the old inputs differs from the new inputs,
        less those under an ignored path (`PropertyPath.Contains`)."""
        old, new = _flat(prune_map(state.live, state.inputs)), _flat(news)
        changed = {".".join(p) for p in set(old) | set(new) if old.get(p, _MISSING) != new.get(p, _MISSING)}
        ignored = list(ignore)
        return {p for p in changed if not any(p == i or p.startswith(i + ".") for i in ignored)}

    def patch_force(self, inputs: dict[str, Any], live: Optional[Stored], preview: bool) -> bool:
        """await.go `patchForce`."""
        if ((inputs.get("metadata") or {}).get("annotations") or {}).get(PATCH_FORCE) == "true":
            return True
        if self.enable_patch_force:
            return True
        if preview:
            if live is None:
                return True
            if any(op == UPDATE and name in CSA_NAMES for name, op, _ in live.managers):
                return True
        return live is not None and not live.managers

    def update(self, state: State, news: dict[str, Any], ignore: Iterable[str] = (), preview: bool = False
               ) -> State:
        """await.go `ssaUpdate`: adopt the client-side managers (not in a preview), handle the ignored fields
        (`handleSSAIgnoreFields`), then apply, forced per `patchForce`, a dry run in a preview."""
        key = ApiServer.key(state.live)
        inputs = copy.deepcopy(news)
        if not preview and self.server.objects[key].managers:
            self.server.replace_managers(key, ADOPTED, state.field_manager)
        live = self.server.get(key)
        assert live is not None
        ours = set().union(*[f for (m, _, _), f in live.managers.items() if m == state.field_manager])
        theirs = set().union(*[f for (m, _, _), f in live.managers.items() if m != state.field_manager])
        for ignored in ignore:
            path = tuple(ignored.split("."))
            if _has(theirs, path) and not _has(ours, path):
                remove(inputs, path)
                continue
            found, value = get(live.obj, path)
            if found:
                set_path(inputs, path, value)
        force = self.patch_force(inputs, live, preview)
        result = self.server.apply(inputs, state.field_manager, force, dry_run=preview)
        return State(copy.deepcopy(news), result, state.field_manager)


_MISSING = object()


@dataclass
class Outcome:
    changes: set[str]  # what `pulumi preview`/`up` shows for the resource (empty: no change)
    state: State
    error: Optional[Conflict] = None


def up(provider: Provider, state: Optional[State], program: dict[str, Any], ignore: Iterable[str] = (),
       refresh: bool = True, preview: bool = False) -> Outcome:
    """One `pulumi up` (or `preview`) of one resource: refresh first (Pulumi.yaml `options.refresh: always`), the
    engine's ignoreChanges, Diff, then Create or Update. A conflict is returned, not raised: the up failed."""
    ignore = list(ignore)
    if state is not None and refresh:
        state = provider.read(state)
    if state is None:
        if preview:
            return Outcome({"(create)"}, State(program, program, provider.field_manager))
        return Outcome({"(create)"}, provider.create(program))
    news, _ = process_ignore_changes(state.inputs, program, list(ignore))
    changes = provider.diff(state, news, ignore)
    if not changes:
        return Outcome(changes, state)
    try:
        return Outcome(changes, provider.update(state, news, ignore, preview=preview))
    except Conflict as conflict:
        return Outcome(changes, state, conflict)
