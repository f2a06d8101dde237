"""The CustomResourceDefinitions each pulumi-kubernetes yaml/v2 ConfigFile of a plan registers: `crd-bundles.json` of
`make plan`, read by the PR check (offline/plan_diff/crd_bundles.py).

A yaml/v2 ConfigFile is a component the provider builds (`remote=True`): it reads `file` (a URL is fetched with
`http.Get` on every run, else a path read from disk), and registers each object of it as its own child, named
`<resourcePrefix>:<metadata.name>` (`<prefix>:<namespace>/<name>` for a namespaced one; the prefix is the ConfigFile's
name unless `resourcePrefix` is given, none when it is ""), a CRD as `kubernetes:apiextensions.k8s.io/v1:
CustomResourceDefinition` (pulumi/pulumi-kubernetes 94977969 provider/pkg/provider/yaml/v2/configfile.go `Construct`,
yaml.go `Parse` and `register`; sdk/go/kubernetes/yaml/v2/kinds.go `RegisterResource`). Under the SDK's mocks the
provider never runs, so the plan holds the ConfigFile and not its objects: they are read here from the file the
URL serves, vendored under tests/upstream/crd-bundles (the index is offline/data/crd_bundles.json), or from the path.

Only what the check compares is kept: per CRD its name (and a namespace written on it), group, kind, versions listed,
served and storage version.
"""
from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Optional
from urllib.parse import urlparse

import yaml

ROOT = Path(__file__).resolve().parents[1]
INDEX = Path(__file__).resolve().parent / "data" / "crd_bundles.json"
RECORD = "crd-bundles.json"
CONFIG_FILE = "kubernetes:yaml/v2:ConfigFile"
CRD_TYPE = "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition"
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class BadIndex(ValueError):
    """offline/data/crd_bundles.json is not the index it should be (hand-edited, cut short)."""


def vendored() -> dict[str, str]:
    """URL -> the vendored copy of what it serves (a path under this repository); BadIndex naming the file when
    the index is not an object whose `bundles` maps URLs to paths."""
    shown = "offline/data/crd_bundles.json"
    try:
        bundles = json.loads(INDEX.read_text(encoding="utf-8")).get("bundles")
    except OSError as error:
        raise BadIndex(f"{shown} cannot be read ({error.strerror or error})") from None
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        raise BadIndex(f"{shown} is not JSON ({type(error).__name__}: {str(error)[:120]})") from None
    except AttributeError:
        bundles = None
    if not (isinstance(bundles, dict) and all(isinstance(v, str) and v for v in bundles.values())):
        raise BadIndex(f"{shown} is not the index of vendored bundles (an object whose `bundles` maps each URL to "
                          "its copy's path under tests/upstream/crd-bundles)")
    return bundles


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _crd(doc: dict[str, Any]) -> Optional[dict[str, Any]]:
    if doc.get("kind") != "CustomResourceDefinition" or not str(doc.get("apiVersion", "")).startswith(
            "apiextensions.k8s.io/"):
        return None
    spec = _dict(doc.get("spec"))
    versions = [_dict(v) for v in (spec.get("versions") or []) if isinstance(v, dict)]
    storage = [str(v.get("name")) for v in versions if v.get("storage") is True]
    namespace = _dict(doc.get("metadata")).get("namespace")
    # a namespace written on the object is kept (yaml.go Normalize fills in only a missing one) and named in the
    # child's name (`register`); unstructured's GetNamespace reads a non-text one as none
    where = {"namespace": namespace} if isinstance(namespace, str) and namespace else {}
    return {**where, "name": str(_dict(doc.get("metadata")).get("name", "")), "group": str(spec.get("group", "")),
            "kind": str(_dict(spec.get("names")).get("kind", "")),
            "versions": [str(v.get("name")) for v in versions],
            "served": [str(v.get("name")) for v in versions if v.get("served") is True],
            "storage": storage[0] if len(storage) == 1 else None}


def _objects(docs: Iterable[Any]) -> Iterable[dict[str, Any]]:
    """The file's objects as the provider takes them: empty documents skipped, a list's items one by one, and a list's
    inside it (yaml.go `yamlDecode`; `Normalize`'s `expand` takes every object whose `items` is a list, whatever its
    kind: k8s.io/apimachinery `Unstructured.IsList`)."""
    for doc in docs:
        if not isinstance(doc, dict) or not doc:
            continue
        if isinstance(doc.get("items"), list):
            yield from _objects(doc["items"])
        else:
            yield doc


# The fields read, as a tree; every other subtree (a CRD's schema is nearly all of a bundle) is skipped while parsing:
# libyaml's events without building the skipped values take a fifth of a full load (0.06 s against 0.31 s for the
# Gateway API bundle), which `make plan` pays on every run.
_ITEMS = "items"  # wanted only to fall back on: an object with an `items` list is a list (`_objects`)
_FIELDS: dict[str, Any] = {"apiVersion": None, "kind": None, "items": _ITEMS, "metadata": {"name": None, "namespace": None},
                           "spec": {"group": None, "names": {"kind": None},
                                    "versions": [{"name": None, "served": None, "storage": None}]}}


class _Unusual(Exception):
    """Something the event reader leaves to a full load (an alias, a tag, a List)."""


# the loader's own resolver and constructor: a scalar is read as the full load's composer reads it (a plain `true` a
# bool, `---` as a value a text), not as a document of its own
_RESOLVER = yaml.resolver.Resolver()
_CONSTRUCTOR = yaml.constructor.SafeConstructor()


def _scalar(event: Any) -> Any:
    if event.tag not in (None, "!"):  # `!!bool true` is a bool, `!x` no manifest's: a full load reads them
        raise _Unusual
    tag = _RESOLVER.resolve(yaml.ScalarNode, event.value, event.implicit)
    if tag == "tag:yaml.org,2002:merge":  # `<<` merges a mapping into its own (YAML 1.1)
        raise _Unusual
    build = _CONSTRUCTOR.yaml_constructors.get(tag)
    if build is None:
        raise _Unusual
    return build(_CONSTRUCTOR, yaml.ScalarNode(tag, event.value))  # no cache of nodes kept, unlike construct_object


def _unusual(event: Any) -> bool:
    """An alias, an anchor or an explicit tag, in a read value or a skipped one: a full load reads it (or refuses a
    local tag, and the bundle is unread then, not read differently here)."""
    return (isinstance(event, yaml.AliasEvent) or bool(getattr(event, "anchor", None))
            or getattr(event, "tag", None) not in (None, "!"))


def _skip(events: Any, first: Any) -> None:
    """Past the value that starts with `first`, building nothing of it."""
    depth = 0
    event = first
    while True:
        if _unusual(event):
            raise _Unusual
        if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            depth += 1
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            depth -= 1
        if depth == 0:
            return
        event = next(events)


def _value(events: Any, first: Any, wanted: Any) -> Any:
    """The value that starts with `first`, only the parts `wanted` names (None: a scalar; a dict: those keys of a
    mapping; a one-item list: each item of a sequence, as its item says); anything else skipped, read as None."""
    if _unusual(first):
        raise _Unusual
    if wanted is _ITEMS and isinstance(first, yaml.SequenceStartEvent):
        raise _Unusual  # its items are the objects: read whole
    if isinstance(first, yaml.ScalarEvent) and wanted is None:
        return _scalar(first)
    if isinstance(first, yaml.MappingStartEvent) and isinstance(wanted, dict):
        out: dict[str, Any] = {}
        for key_event in events:
            if isinstance(key_event, yaml.MappingEndEvent):
                return out
            if not isinstance(key_event, yaml.ScalarEvent):
                raise _Unusual  # a complex key: never in a manifest
            key = _value(events, key_event, None)
            value_event = next(events)
            if key in out:  # a key given twice: a full load keeps the last
                raise _Unusual
            if key in wanted:
                out[key] = _value(events, value_event, wanted[key])
            else:
                _skip(events, value_event)
    if isinstance(first, yaml.SequenceStartEvent) and isinstance(wanted, list):
        items: list[Any] = []
        for event in events:
            if isinstance(event, yaml.SequenceEndEvent):
                return items
            items.append(_value(events, event, wanted[0]))
    _skip(events, first)
    return None


def _fast(text: str) -> list[Any]:
    events = iter(yaml.parse(text, Loader=_LOADER))
    docs: list[Any] = []
    for event in events:
        if isinstance(event, yaml.DocumentStartEvent):
            first = next(events)
            if isinstance(first, yaml.DocumentEndEvent):
                continue
            docs.append(_value(events, first, _FIELDS))
    return docs


def crds_in(text: str) -> list[dict[str, Any]]:
    """The CRDs a manifest file holds, in its order: name, group, kind, served versions, storage version."""
    try:
        docs = _fast(text)
    except _Unusual:
        docs = list(yaml.load_all(text, Loader=_LOADER))
    return [crd for crd in map(_crd, _objects(docs)) if crd]


@lru_cache(maxsize=16)
def _read(path: str, size: int, mtime: int) -> tuple[str, list[dict[str, Any]]]:
    data = Path(path).read_bytes()
    return hashlib.sha256(data).hexdigest(), crds_in(data.decode("utf-8"))


def is_url(file: str) -> bool:
    """What the provider fetches over the network (yaml.go `Parse`: `url.Parse(file)` and `u.IsAbs()`, a scheme)."""
    return bool(urlparse(file).scheme)


def source_of(file: str, index: Optional[dict[str, str]] = None,
              program_dir: Path = ROOT) -> tuple[Optional[Path], str]:
    """Where the objects of a ConfigFile's `file` are read (the vendored copy of a URL, else the path as the program
    reads it, from its folder), or None and why not."""
    if is_url(file):
        try:
            rel = (vendored() if index is None else index).get(file)
        except BadIndex as error:
            return None, str(error)
        if rel is None:
            return None, (f"no vendored copy of {file} (offline/data/crd_bundles.json lists each URL's copy under "
                          "tests/upstream/crd-bundles: add the new release's file there)")
        return ROOT / rel, ""
    path = Path(file) if Path(file).is_absolute() else program_dir / file
    return (path, "") if path.is_file() else (None, f"no file {file} where the program runs")


def bundle_entry(resource: dict[str, Any], index: Optional[dict[str, str]] = None,
                 program_dir: Path = ROOT) -> dict[str, Any]:
    """The record of one ConfigFile (a resources.json entry): its `file`, where it was read, and its CRDs with the
    name the provider registers each under; `crds` None and `unread` saying why when it could not be read."""
    inputs = resource.get("inputs") or {}
    file = inputs.get("file")
    prefix = inputs["resourcePrefix"] if isinstance(inputs.get("resourcePrefix"), str) else resource["name"]
    entry: dict[str, Any] = {"file": file, "resourcePrefix": prefix}
    if not isinstance(file, str):
        return {**entry, "crds": None, "unread": "its `file` is not a known string in the plan"}
    path, why = source_of(file, index, program_dir)
    if path is None:
        return {**entry, "crds": None, "unread": why}
    try:
        stat = path.stat()
        digest, crds = _read(str(path), stat.st_size, stat.st_mtime_ns)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        return {**entry, "crds": None, "unread": f"{path} unreadable ({type(error).__name__}: {str(error)[:160]})"}
    shown = str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)
    return {**entry, "source": shown, "sha256": digest,
            "crds": [{**crd, "resource": _child(prefix, crd)} for crd in crds]}


def _child(prefix: str, crd: dict[str, Any]) -> str:
    """The child's name as yaml.go `register` makes it: `<namespace>/<name>` for an object that carries a namespace,
    `<prefix>:` before it unless the prefix is empty."""
    name = f"{crd['namespace']}/{crd['name']}" if crd.get("namespace") else crd["name"]
    return f"{prefix}:{name}" if prefix else name


def record(resources: Iterable[dict[str, Any]], index: Optional[dict[str, str]] = None,
           program_dir: Path = ROOT) -> dict[str, Any]:
    """`crd-bundles.json`: each ConfigFile's URN -> its entry."""
    return {"bundles": {r["urn"]: bundle_entry(r, index, program_dir) for r in resources
                        if r.get("type") == CONFIG_FILE}}
