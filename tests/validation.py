"""Validators against upstream truth: Kubernetes OpenAPI (kubernetes-validate), CRD schemas and Helm values."""
from __future__ import annotations

import copy
import functools
import json
import re
from pathlib import Path
from typing import Any, Iterator

import jsonschema
import yaml
from cel_expr_python import cel
from cel_expr_python.ext import ext_strings

# The built-in objects' strict check is the package's own (its testing kit offers it to every consumer).
from llmplatform.kubernetes_schemas import group_of, is_builtin, validate as validate_builtin  # noqa: F401
from llmplatform.mappings import deep_merge  # Helm's coalescing: parent values override a subchart's, map by map


@functools.lru_cache(maxsize=None)
def vendored_documents(path: Path) -> tuple[Any, ...]:
    """The YAML documents of a vendored file, parsed once per process (callers only read them). libyaml's loader
    (PyYAML's wheels carry it) reads the vendored CRDs ten times faster than the pure-Python one."""
    return tuple(yaml.load_all(path.read_text(), Loader=yaml.CSafeLoader))


def vendored_crds(crd_dir: Path) -> list[dict[str, Any]]:
    """Every CustomResourceDefinition under a folder of vendored CRDs."""
    return [doc for path in sorted(crd_dir.rglob("*.yaml")) for doc in vendored_documents(path)
            if doc and doc.get("kind") == "CustomResourceDefinition"]


@functools.lru_cache(maxsize=None)
def _crd_index(crd_dir: str) -> dict[tuple[str, str, str], dict[str, Any]]:
    index = {}
    for doc in vendored_crds(Path(crd_dir)):
        spec = doc["spec"]
        for version in spec["versions"]:
            index[(spec["group"], version["name"], spec["names"]["kind"])] = version["schema"]["openAPIV3Schema"]
    return index


# In a structural schema these hold value validations only: a property list under them names fields the structure
# above declares, and allows no other field no more than it forbids one (Kubernetes "Specifying a structural
# schema": no additionalProperties, no pruning below them).
VALUE_VALIDATIONS = frozenset({"oneOf", "anyOf", "allOf", "not"})


def _structural(schema: Any, structure: bool = True) -> Any:
    """CRD schemas are structural: a property list means no unknown fields unless preserve-unknown-fields is set
    (not under oneOf/anyOf/allOf/not, whose property lists only validate values: Gateway's status.addresses)."""
    if isinstance(schema, dict):
        out = {k: _structural(v, structure and k not in VALUE_VALIDATIONS) for k, v in schema.items()
               if not k.startswith("x-kubernetes-")}
        if schema.get("x-kubernetes-int-or-string"):
            out.pop("type", None)
            out["anyOf"] = [{"type": "integer"}, {"type": "string"}]
        if structure and "properties" in schema and "additionalProperties" not in schema \
                and not schema.get("x-kubernetes-preserve-unknown-fields"):
            out["additionalProperties"] = False
        return out
    if isinstance(schema, list):
        return [_structural(v, structure) for v in schema]
    return schema


# A version whose schema is the same as another's, when the vendored CRD file only lists the older name
# (see tests/data/crds/README.md).
CRD_VERSION_ALIASES = {("secrets-store.csi.x-k8s.io", "v1"): "v1alpha1"}
LOCAL_CRDS = Path(__file__).resolve().parent / "data" / "crds"


@functools.lru_cache(maxsize=None)
def _validator(crd_dir: str, key: tuple[str, str, str]) -> jsonschema.Draft7Validator:
    """The JSON Schema validator of a CRD version's structural schema, built once per process (the Prometheus and
    Alertmanager schemas hold tens of thousands of nodes)."""
    schema = _crd_index(crd_dir).get(key) or _crd_index(str(LOCAL_CRDS)).get(key)
    if schema is None:
        raise LookupError(f"no CRD for {key} under {crd_dir} or {LOCAL_CRDS}")
    schema = _structural(schema)
    # metadata is validated by the API server's ObjectMeta, not the CRD schema (a CRD may still list it as required,
    # as InterceptorRoute's does: every object the API server accepts has one)
    schema.get("properties", {}).pop("metadata", None)
    if "metadata" in schema.get("required", []):
        schema["required"] = [k for k in schema["required"] if k != "metadata"]
    # apiVersion and kind are the API server's TypeMeta: a CRD need not declare them (Istio's do not)
    for type_meta in ("apiVersion", "kind"):
        schema.get("properties", {}).setdefault(type_meta, {"type": "string"})
    return jsonschema.Draft7Validator(schema)


def validate_custom(obj: dict[str, Any], crd_dir: Path) -> None:
    api_version = obj["apiVersion"]
    group, version = group_of(api_version), api_version.split("/")[-1]
    version = CRD_VERSION_ALIASES.get((group, version), version)
    key = (group, version, obj["kind"])
    _validator(str(crd_dir), key).validate({k: v for k, v in obj.items() if k != "metadata"})
    broken = list(cel_violations(_crd_index(str(crd_dir)).get(key) or _crd_index(str(LOCAL_CRDS))[key], obj))
    if broken:
        name = (obj.get("metadata") or {}).get("name")
        raise CelRuleViolation(f"{obj['kind']} {name!r} breaks its CRD's x-kubernetes-validations:\n  "
                               + "\n  ".join(broken))


# ---- CEL validation rules (x-kubernetes-validations) --------------------------------------------------------------
# The API server evaluates each rule of a CRD's structural schema with `self` bound to the value at the schema node
# that carries it (each item of a list, each value of a map, under `items` / `additionalProperties`), after applying
# the schema's defaults to the request, and refuses the object when one is false or errs (Kubernetes docs,
# "Validation rules" in tasks/extend-kubernetes/custom-resources/custom-resource-definitions.md; "Defaulting").
# Its CEL environment adds cel-go's extended strings library (`split`, `lowerAscii`, ... : reference/using-api/
# cel.md, "Kubernetes CEL libraries"); cel-expr-python's ExtStrings is the same library in CEL's C++ runtime.
# A rule that reads `oldSelf` is a transition rule: the API server evaluates it on update only, never on create
# (same page, "Transition rules"); a plan is a create, so those are compiled (a typo still fails) but not evaluated.


class CelRuleViolation(ValueError):
    """An object the API server refuses for a CRD's CEL validation rule."""


@functools.lru_cache(maxsize=1)
def _cel_env() -> Any:
    return cel.NewEnv(variables={"self": cel.Type.DYN, "oldSelf": cel.Type.DYN},
                      extensions=[ext_strings.ExtStrings()])


@functools.lru_cache(maxsize=None)
def compile_rule(rule: str) -> Any:
    """A rule compiled once per process; RuntimeError when it does not compile (an unknown function or macro)."""
    return _cel_env().compile(rule)


def is_transition_rule(rule: dict[str, Any]) -> bool:
    return re.search(r"\boldSelf\b", rule["rule"]) is not None


def schema_rules(schema: Any, path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every (field path, rule) of a schema: `[]` a list's items, `{}` a map's values."""
    if not isinstance(schema, dict):
        return
    for rule in schema.get("x-kubernetes-validations") or []:
        yield path or "<root>", rule
    for key, sub in (schema.get("properties") or {}).items():
        yield from schema_rules(sub, f"{path}.{key}" if path else key)
    yield from schema_rules(schema.get("items"), path + "[]")
    yield from schema_rules(schema.get("additionalProperties"), path + "{}")


def with_defaults(schema: Any, value: Any) -> Any:
    """The value with the schema's `default`s applied to absent fields, at every depth (the API server defaults a
    request before it validates it)."""
    if not isinstance(schema, dict):
        return value
    if isinstance(value, dict):
        out = dict(value)
        for key, sub in (schema.get("properties") or {}).items():
            if key not in out and isinstance(sub, dict) and "default" in sub:
                out[key] = copy.deepcopy(sub["default"])
            if key in out:
                out[key] = with_defaults(sub, out[key])
        if isinstance(schema.get("additionalProperties"), dict):
            extra = schema["additionalProperties"]
            named = schema.get("properties") or {}
            out.update({k: with_defaults(extra, v) for k, v in out.items() if k not in named})
        return out
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        return [with_defaults(schema["items"], v) for v in value]
    return value


def _rule_failures(schema: Any, value: Any, path: str) -> Iterator[str]:
    if not isinstance(schema, dict):
        return
    for rule in schema.get("x-kubernetes-validations") or []:
        program = compile_rule(rule["rule"])
        if is_transition_rule(rule):
            continue
        result = program.eval(data={"self": value})
        if result.type().name() != "BOOL" or result.value() is not True:
            why = f"error {result.value()}" if result.type().name() == "ERROR" else f"= {result.value()!r}"
            yield (f"{path or '<root>'}: rule {rule['rule']!r} {why}: "
                   f"{rule.get('message') or rule.get('messageExpression') or 'failed rule'}")
    if isinstance(value, dict):
        properties = schema.get("properties") or {}
        for key, sub in properties.items():
            if key in value:
                yield from _rule_failures(sub, value[key], f"{path}.{key}" if path else key)
        if isinstance(schema.get("additionalProperties"), dict):
            for key, sub_value in value.items():
                if key not in properties:
                    yield from _rule_failures(schema["additionalProperties"], sub_value, f"{path}[{key!r}]")
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for i, item in enumerate(value):
            yield from _rule_failures(schema["items"], item, f"{path}[{i}]")


def cel_violations(schema: dict[str, Any], obj: dict[str, Any]) -> Iterator[str]:
    """Each rule of the CRD schema the object breaks on create: "<field path>: rule '<rule>' = False: <message>".
    The root's `self.metadata` holds only name and generateName (the API server's ObjectMeta is not the CRD's)."""
    meta = {k: v for k, v in (obj.get("metadata") or {}).items() if k in ("name", "generateName")}
    body = {**{k: v for k, v in obj.items() if k != "metadata"}, **({"metadata": meta} if "metadata" in obj else {})}
    yield from _rule_failures(schema, with_defaults(schema, body), "")


# ---- Helm values ------------------------------------------------------------------------------------------------

# Keys a chart leaves null (or only describes in comments / its README) get an explicit allowed set, with the
# source that documents them, so nothing below them is free-form.
EXPLICIT_KEYS: dict[str, dict[str, set[str]]] = {
    "llm-d-router-gateway": {
        # values.yaml sets router.modelServers to null (its keys only in comments); routerlib's values.yaml and
        # templates/_inferencepool.yaml (llm-d/llm-d-router v0.10.0) read these four
        "router.modelServers": {"matchLabels", "type", "protocol", "targetPorts"},
        # config/charts/README.md (v0.10.0), "router.epp.flags: Map of command-line flags passed directly to the
        # EPP binary"; templates/_deployment.yaml renders each as --key=value
        "router.epp": {"flags"},
    },
}

# Kubernetes label/annotation/selector maps: their keys are label names, not chart settings.
FREE_FORM_MAPS = {"nodeSelector", "labels", "annotations", "podLabels", "podAnnotations", "matchLabels",
                  "flags"}  # router.epp.flags: EPP command-line flags by name (documented above)


def unknown_values_keys(ours: Any, upstream: Any, path: str = "") -> Iterator[str]:
    """Keys we set that the chart's values.yaml does not have. A map the chart leaves empty ({}) is free-form, a
    label map takes any label, and a list is replaced whole by Helm, so the walk stops there."""
    if not isinstance(ours, dict) or path.rsplit(".", 1)[-1] in FREE_FORM_MAPS:
        return
    if not isinstance(upstream, dict):
        if upstream is None and path:
            return  # documented as null: any shape accepted (e.g. runtimeClassName: null)
        yield f"{path} (upstream is {type(upstream).__name__}, we set a map)"
        return
    if not upstream and path:
        return
    for key, value in ours.items():
        here = f"{path}.{key}" if path else key
        if key not in upstream:
            yield here
        else:
            yield from unknown_values_keys(value, upstream[key], here)


def chart_values(chart_dir: Path) -> dict[str, Any]:
    """A vendored chart's default values, its subcharts' under their keys (a copy: each caller may change it)."""
    return copy.deepcopy(_chart_values(chart_dir))


@functools.lru_cache(maxsize=None)
def _chart_values(chart_dir: Path) -> dict[str, Any]:  # read once per process: every variant's releases ask
    values = yaml.load((chart_dir / "values.yaml").read_text(), Loader=yaml.CSafeLoader) or {}
    # Istio keeps its defaults under this key as a Helm workaround; users set the same keys at the top level.
    values = {**values.pop("_internal_defaults_do_not_set", {}), **values}
    subcharts = chart_dir / "charts"
    if subcharts.is_dir():  # a vendored subchart's values live under its alias (else its name) in the parent's
        parent = yaml.load((chart_dir / "Chart.yaml").read_text(), Loader=yaml.CSafeLoader) or {}
        aliases = {d["name"]: d.get("alias") or d["name"] for d in parent.get("dependencies") or []}
        for sub in subcharts.iterdir():
            meta = yaml.load((sub / "Chart.yaml").read_text(), Loader=yaml.CSafeLoader)
            key = aliases.get(meta["name"], meta["name"])
            values[key] = deep_merge(yaml.load((sub / "values.yaml").read_text(), Loader=yaml.CSafeLoader) or {},
                                     values.get(key) or {})
    for path, allowed in EXPLICIT_KEYS.get(chart_dir.name, {}).items():
        node = values
        *parents, leaf = path.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = {**{k: None for k in allowed}, **(node.get(leaf) or {})}
    return values


def chart_schema(chart_dir: Path) -> dict[str, Any] | None:
    path = chart_dir / "values.schema.json"
    return json.loads(path.read_text()) if path.exists() else None


_PLACEHOLDERS = {"0.0.0", "v0.0.0", "1.0.0", "v1.0.0-devel"}


def pinned_versions(sources_md: str, upstream_dir: str) -> set[str]:
    """Versions SOURCES.md records for a chart: the Chart.yaml version, or the release tag where git only carries a
    placeholder version."""
    versions = set()
    for line in sources_md.splitlines():
        cells = [c.strip() for c in line.split("|")]
        if len(cells) > 8 and cells[1] == f"`charts/{upstream_dir}/Chart.yaml`":
            ref = cells[4].strip("`")
            chart_version = cells[7].split(" / ")[0].split()[-1]
            if chart_version in _PLACEHOLDERS:
                versions.add(re.sub(r"^[a-z-]*?-(?=v?\d)", "", ref))
            else:
                versions.add(chart_version)
    return versions


# ---- Helm values a template reads ---------------------------------------------------------------------------------

# A key that exists in values.yaml can still be read by no template at the pinned version (a leftover, a renamed
# option, a key under a map the templates never pass through): Helm takes it and renders nothing different.
# `charts/<chart>/values-read.json` holds the paths the pinned templates read (offline/maintenance/helm_reads.py,
# derived from the templates at the commits its header names).

# Keys a template reads through a construct the extractor cannot follow (a `tpl` of a string that names them, a
# template picked by a computed name), by chart directory: the dotted key, with the template line that reads it.
# A computed index or a `range` is no reason to list one here: the extractor counts the whole map as read.
UNREAD_ALLOWED: dict[str, dict[str, str]] = {}


@functools.lru_cache(maxsize=None)
def values_read(chart_dir: Path) -> tuple[frozenset[tuple[str, ...]], frozenset[tuple[str, ...]], dict[str, Any]]:
    """The paths the chart's templates read or pass through on the way to a longer one, the paths they take whole,
    and the file's header (read once per process)."""
    document = json.loads((chart_dir / "values-read.json").read_text())
    paths = [tuple(row["path"]) for row in document["paths"]]
    touched = frozenset(path[:i] for path in paths for i in range(len(path) + 1))
    whole = frozenset(tuple(row["path"]) for row in document["paths"] if row["how"] == "whole")
    return touched, whole, {k: v for k, v in document.items() if k != "paths"}


def _set_keys(values: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """The keys a values map sets, as paths: a map's own keys, down to a value that is no map (or an empty one)."""
    if isinstance(values, dict) and values:
        for key, value in values.items():
            yield from _set_keys(value, (*path, str(key)))
    elif path:
        yield path


def is_read(path: tuple[str, ...], touched: frozenset[tuple[str, ...]], whole: frozenset[tuple[str, ...]]) -> bool:
    """Read when a template reads the path itself or a path below it, or takes a node above it (or it) whole: a
    free-form map the chart leaves empty (nodeSelector, env) is read as a whole map."""
    return path in touched or any(path[:i] in whole for i in range(len(path)))


def unread_values_keys(values: Any, chart_dir: Path) -> Iterator[str]:
    """The keys we set that no template of the pinned chart (or of its subcharts) reads, dotted. A key under a node
    the chart merges over its own values (`aliases`: istiod's `pilot.x` is `x`) is read where that key is."""
    touched, whole, header = values_read(chart_dir)
    aliases = [(tuple(a["from"]), tuple(a["to"])) for a in header.get("aliases", [])]
    allowed = UNREAD_ALLOWED.get(chart_dir.name, {})
    for path in _set_keys(values):
        dotted = ".".join(path)
        spellings = [path, *((to + path[len(source):]) for source, to in aliases
                             if path[:len(source)] == source and len(path) > len(source))]
        if not any(is_read(p, touched, whole) for p in spellings) and dotted not in allowed:
            yield dotted
