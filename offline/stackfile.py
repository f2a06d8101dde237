"""Stack files and `--set` read the way the Pulumi CLI reads them, so the offline plan sees what `pulumi up` sees.

- A stack file is one YAML document in UTF-8. Scalars follow YAML 1.2's core schema, as Pulumi's Go YAML library
  does: only `true`/`false` are booleans (`yes`, `on` stay strings), `10:30` and `2024-01-01` stay strings, and a
  custom tag (`!foo`) is an error. A key given twice in one mapping is an error (YAML forbids it; a reader that lets
  the last one win hides a mistake), as is a key that is a list or mapping. Merge keys (`<<: *defaults`) merge as in
  go-yaml, the mapping's own keys winning. A document holding more than 100,000 values once its aliases are
  expanded, or nesting more than 32 levels deep, is refused (go-yaml refuses "excessive aliasing" too).
- Every key under `config:` carries a namespace: this project's (`aks-llm-platform:gpu`) or a provider's
  (`azure-native:location`, read by the provider, not by this program). A key without one, or with a misspelt
  namespace, is an error, not a silently dropped setting.
- `--set KEY=VALUE` follows `pulumi config set --path`: dots walk into objects, `[N]` indexes lists (N may be the
  list's length, to append), and only `true`, `false` and plain integers are typed; every other value is a string.
"""
import copy
import functools
import importlib.util
import re
from pathlib import Path
from typing import Any, Optional

import yaml



class ConfigError(ValueError):
    """A stack file or --set the Pulumi CLI would refuse, every problem at once (the same shape as the program's
    config.reader.ConfigError, so both print alike)."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__("invalid stack config:\n" + "\n".join(f"  - {p}" for p in self.problems))

PROVIDER_NAMESPACES = ("azure-native", "azure", "kubernetes", "random", "pulumi")
STACK_FILE_KEYS = ("config", "secretsprovider", "encryptedkey", "encryptionsalt", "environment")
_INT = re.compile(r"-?(0|[1-9][0-9]*)")  # ASCII digits only; no leading zeros, no sign tricks like --3
_PATH_SEGMENT = re.compile(r"([^.\[\]]+)((?:\[[0-9]+\])*)")


_MERGE = "tag:yaml.org,2002:merge"


class _PulumiYamlLoader(yaml.SafeLoader):
    """PyYAML's safe loader narrowed to YAML 1.2's core schema, refusing duplicate keys; merges as go-yaml's."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._checked: set[int] = set()
        self._merged = 0
        self._anchored_lists: set[int] = set()

    def compose_sequence_node(self, anchor: Optional[str]) -> yaml.SequenceNode:
        node = super().compose_sequence_node(anchor)
        if anchor is not None:  # an alias of it is the same node: go-yaml merges no alias of a list
            self._anchored_lists.add(id(node))
        return node

    def flatten_mapping(self, node: yaml.MappingNode) -> None:
        """Each mapping's own keys are checked once, before any merge changes it (a merged mapping is flattened
        inside its merger first); the pairs merges copy are counted, as go-yaml counts aliases: PyYAML copies each
        merged pair again at every level, so a chain of merges of nine merges grows nine-fold a level."""
        if id(node) not in self._checked:
            self._checked.add(id(node))
            _own_keys_checked(node)
            for key_node, value_node in node.value:
                if key_node.tag == _MERGE and id(value_node) in self._anchored_lists:
                    raise yaml.constructor.ConstructorError(
                        None, None, "a merge takes a mapping, an alias of one, or a list of them written in place; "
                                    "not an alias of a list (go-yaml: map merge requires map or sequence of maps)",
                        key_node.start_mark)
        super().flatten_mapping(node)
        self._merged += len(node.value)
        if self._merged > MAX_VALUES:
            raise yaml.constructor.ConstructorError(
                None, None, f"merges copy more than {MAX_VALUES:,} keys (excessive aliasing)", node.start_mark)


# Drop YAML 1.1's resolvers (yes/no/on/off booleans, sexagesimal numbers, timestamps) and add the 1.2 core ones.
_PulumiYamlLoader.yaml_implicit_resolvers = {}
for _tag, _pattern, _first in (
        ("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", list("tTfF")),
        ("tag:yaml.org,2002:int", r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$", list("-+0123456789")),
        ("tag:yaml.org,2002:float",
         r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
         list("-+.0123456789")),
        ("tag:yaml.org,2002:null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
        # merge keys (`<<: *defaults`), which go-yaml v3 resolves too
        (_MERGE, r"^(?:<<)$", ["<"])):
    _PulumiYamlLoader.add_implicit_resolver(_tag, re.compile(_pattern), _first)


def _own_keys_checked(node: yaml.MappingNode) -> None:
    """A mapping's own keys, before a merge splices others in: plain values, each once (compared as written, as
    go-yaml's strict decoding compares them), and one merge key at most."""
    seen: dict[str, int] = {}
    for key_node, value_node in node.value:
        if not isinstance(key_node, yaml.ScalarNode):
            kind = "list" if isinstance(key_node, yaml.SequenceNode) else "mapping"
            raise yaml.constructor.ConstructorError(None, None, f"a key must be a plain value, not a {kind}",
                                                    key_node.start_mark)
        if key_node.tag == _MERGE and value_node is node:
            raise yaml.constructor.ConstructorError(None, None, "an anchor's mapping merges itself",
                                                    key_node.start_mark)
        if key_node.value in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"key {key_node.value!r} appears twice in one mapping (line {seen[key_node.value]} and "
                            f"line {key_node.start_mark.line + 1})", key_node.start_mark)
        seen[key_node.value] = key_node.start_mark.line + 1


# `<<` anywhere but a mapping's key is the string it reads
_PulumiYamlLoader.add_constructor(_MERGE, lambda loader, node: loader.construct_scalar(node))


def _unknown_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    raise yaml.constructor.ConstructorError(None, None, f"YAML tag {node.tag!r} is not allowed in a stack file",
                                            node.start_mark)


_PulumiYamlLoader.add_multi_constructor("!", _unknown_tag)
_PLAIN = (dict, list, str, int, float, bool, type(None))


# Bounds on what a document may hold once its aliases are expanded (an alias is a reference to its anchor's value,
# so nine aliases of nine of ... make billions of values for whoever walks them; go-yaml refuses such a document as
# "excessive aliasing"), and on its depth (every reader of the config walks it recursively).
MAX_VALUES = 100_000
MAX_DEPTH = 32


def _only_plain_values(document: Any, where: str) -> None:
    """Explicit tags such as !!timestamp, !!binary or !!set build values a stack file cannot hold; a document past
    MAX_VALUES values or MAX_DEPTH levels is refused before anything walks it."""
    pending, count = [(document, 1)], 0
    while pending:
        value, depth = pending.pop()
        count += 1
        if count > MAX_VALUES:
            raise ConfigError([f"{where}: holds more than {MAX_VALUES:,} values once its aliases are expanded "
                               f"(excessive aliasing)"])
        if depth > MAX_DEPTH:
            raise ConfigError([f"{where}: values nest more than {MAX_DEPTH} levels deep"])
        if not isinstance(value, _PLAIN):
            raise ConfigError([f"{where}: a value of type {type(value).__name__} ({value!r:.40}) is not allowed; "
                               f"quote it to make it a string"])
        children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
        pending.extend((child, depth + 1) for child in children)


def parse_yaml(data: bytes, where: str) -> Any:
    """One YAML document from bytes, or ConfigError naming the file, the line and what is wrong. A process reads the
    same stack files many times (each config check, each region of a global stack, the test suite's hundreds of
    configs): the document of bytes already read is a copy of the one parsed then (PyYAML's pure-Python parser took
    10-20 ms a file)."""
    return copy.deepcopy(_parsed(data, where))


@functools.lru_cache(maxsize=64)
def _parsed(data: bytes, where: str) -> Any:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[:error.start].count(b"\n") + 1
        raise ConfigError([f"{where}: line {line} is not UTF-8 (byte {data[error.start]:#04x})"]) from None
    try:
        documents = list(yaml.load_all(text, Loader=_PulumiYamlLoader))  # noqa: S506 - a narrowed SafeLoader
    except ValueError as error:  # e.g. an integer with thousands of digits (Python's int() limit)
        raise ConfigError([f"{where}: a value cannot be read: {str(error)[:120]}"]) from None
    except RecursionError:  # the parser recurses per level of nesting
        raise ConfigError([f"{where}: values nest more than {MAX_DEPTH} levels deep"]) from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
        where_line = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise ConfigError([f"{where}: not valid YAML{where_line}: {problem}"]) from None
    if len(documents) > 1:
        raise ConfigError([f"{where}: holds {len(documents)} YAML documents; a stack file is one"])
    document = documents[0] if documents else None
    _only_plain_values(document, where)
    return document


def project_config(document: Any, project: str, where: str) -> dict[str, Any]:
    """This project's keys from a stack file's document, without their namespace; every problem at once."""
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise ConfigError([f"{where}: must be a mapping with a `config:` section, got {type(document).__name__}"])
    problems = [f"{where}: unknown top-level key {key!r}; a stack file has {', '.join(STACK_FILE_KEYS)}"
                for key in document if key not in STACK_FILE_KEYS]
    config = document.get("config")
    if config is not None and not isinstance(config, dict):
        problems.append(f"{where}: `config:` must be a mapping of namespace:key entries, got "
                        f"{type(config).__name__}")
        config = {}
    values: dict[str, Any] = {}
    for key, value in (config or {}).items():
        namespace, sep, name = str(key).partition(":")
        if not sep or not namespace or not name:
            problems.append(f"{where}: config key {key!r} has no namespace; write it as '{project}:{key}'")
        elif namespace == project:
            if isinstance(value, dict) and set(value) == {"secure"}:
                problems.append(f"{where}: {key} is a secret; this program has no secret settings (secrets "
                                f"are generated and kept in Key Vault)")
            else:
                values[name] = value
        elif namespace not in PROVIDER_NAMESPACES:
            problems.append(f"{where}: config key {key!r} has namespace {namespace!r}, neither this project's "
                            f"({project!r}) nor a provider's ({', '.join(PROVIDER_NAMESPACES)})")
    if problems:
        raise ConfigError(problems)
    return values


def read_stack_file(path: Path, project: str) -> dict[str, Any]:
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ConfigError([f"{path.name}: cannot be read ({error.strerror or error})"]) from None
    return project_config(parse_yaml(data, path.name), project, path.name)


def provider_config(path: Path) -> dict[str, Any]:
    """The provider namespaces' keys of a stack file (`azure-native:location`: value), as written; {} for a file that
    does not read (read_stack_file tells why)."""
    try:
        document = parse_yaml(path.read_bytes(), path.name)
    except (OSError, ConfigError):
        return {}
    config = document.get("config") if isinstance(document, dict) else None
    return {str(k): v for k, v in (config or {}).items() if str(k).partition(":")[0] in PROVIDER_NAMESPACES
            and str(k).partition(":")[0] != "pulumi"} if isinstance(config, dict) else {}


def _sdk_file(package: str, *parts: str) -> Path | None:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0], *parts)
    return path if path.is_file() else None


def sdk_config_keys() -> dict[str, tuple[str, frozenset[str]]]:
    """namespace -> (the installed SDK's distribution and version, its provider's config keys), read from the SDKs:
    pulumi_azure_native/config/vars.py (`__config__.get*('key')`, the provider's config variables); pulumi-random
    and pulumi-kubernetes have no config module, so their provider's inputs (provider.py `__props__`, camelCased),
    which default-provider config sets."""
    from importlib.metadata import PackageNotFoundError, version
    found: dict[str, tuple[str, frozenset[str]]] = {}
    for namespace, package, parts, pattern in (
            ("azure-native", "pulumi_azure_native", ("config", "vars.py"), r"__config__\.get\w*\('(\w+)'\)"),
            ("kubernetes", "pulumi_kubernetes", ("provider.py",), r'__props__\.__dict__\["(\w+)"\]'),
            ("random", "pulumi_random", ("provider.py",), r'__props__\.__dict__\["(\w+)"\]')):
        path = _sdk_file(package, *parts)
        if path is None:
            continue
        try:
            where = f"{package.replace('_', '-')} {version(package.replace('_', '-'))}"
        except PackageNotFoundError:
            where = package
        keys = {re.sub(r"_([a-z])", lambda m: m.group(1).upper(), k) for k in re.findall(pattern, path.read_text())}
        found[namespace] = (where, frozenset(keys))
    return found


def provider_advisories(keys: dict[str, Any], file_name: str, project: str, location: str,
                        default_providers: set[str]) -> list[str]:
    """What a stack file's provider config does not do here (advice, not errors: provider config is legitimate):
    `azure-native:location`, which the program overrides on every resource; a key the installed provider does not
    have; a namespace whose provider this program never uses with stack config (`default_providers`: the packages
    of the resources planned on a default provider)."""
    from difflib import get_close_matches
    known = sdk_config_keys()
    notes = []
    for key, value in sorted(keys.items()):
        namespace, _, name = key.partition(":")
        if key == "azure-native:location":
            notes.append(f"{file_name}: {key} ({value!r}) changes nothing: the program sets each resource's location "
                         f"from {project}:location ({location!r} here); set that instead")
            continue
        if namespace not in default_providers:
            notes.append(f"{file_name}: {key} is read by no provider of this program: "
                         + ("its Kubernetes resources all use their own provider, built from the cluster's "
                            "kubeconfig (explicit providers read no stack config)" if namespace == "kubernetes" else
                            f"it plans no {namespace} resource on the default provider"))
            continue
        if namespace in known and name not in known[namespace][1]:
            sdk, names = known[namespace]
            near = get_close_matches(name, sorted(names), 1)
            if near == ["location"] and namespace == "azure-native":
                hint = f"; for the location, set {project}:location (the program's; {namespace}:location changes nothing)"
            elif near:
                hint = f"; did you mean {namespace}:{near[0]}?"
            else:
                hint = f" (its keys: {', '.join(sorted(names))})" if names else " (its provider takes no config)"
            notes.append(f"{file_name}: {key} is no config key of {sdk}{hint}")
    return notes


def typed_value(text: str) -> Any:
    """`pulumi config set --path` typing: true/false and plain integers; everything else stays a string."""
    if text in ("true", "false"):
        return text == "true"
    if _INT.fullmatch(text) and len(text.lstrip("-")) <= 18:
        return int(text)
    return text


def parse_path(path: str) -> list[Any]:
    """`gpu.maxCount`, `modelStore.models[1]` -> ['gpu', 'maxCount'], ['modelStore', 'models', 1]."""
    parts: list[Any] = []
    for segment in path.split("."):
        match = _PATH_SEGMENT.fullmatch(segment)
        if not match:
            raise ConfigError([f"--set {path!r}: not a config path (write it like gpu.maxCount or "
                               f"modelStore.models[0])"])
        parts.append(match.group(1))
        parts += [int(i) for i in re.findall(r"\[([0-9]+)\]", match.group(2))]
    return parts


def _path_text(parts: list[Any]) -> str:
    """A parsed --set path written back as the user writes it: `a.b[0].c`."""
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in parts).lstrip(".")


def apply_set(values: dict[str, Any], item: str) -> None:
    """Apply one `--set KEY=VALUE` to the config values, as `pulumi config set --path KEY VALUE` would."""
    path, sep, text = item.partition("=")
    if not sep:
        raise ConfigError([f"--set {item!r} has no '='; write KEY=VALUE (an empty value is KEY=)"])
    parts = parse_path(path)
    node: Any = values
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        here = _path_text(parts[:i]) or "the config"
        child: Any = typed_value(text) if last else ([] if isinstance(parts[i + 1], int) else {})
        if isinstance(part, int):
            if not isinstance(node, list):
                raise ConfigError([f"--set {path}: {here} is not a list, so [{part}] cannot index it"])
            if part > len(node):
                raise ConfigError([f"--set {path}: index {part} is past the end of {here} ({len(node)} items)"])
            if part == len(node):
                node.append(child)
            elif last:
                node[part] = child
            node = node[part]
        else:
            if not isinstance(node, dict):
                raise ConfigError([f"--set {path}: {here} is a value ({node!r}), not an object"])
            if last:
                node[part] = child
            else:
                node = node.setdefault(part, child)
    return None


def apply_sets(values: dict[str, Any], items: list[str]) -> dict[str, Any]:
    """Every `--set` applied; a ConfigError naming each refused one, carrying (`.values`) the config with the others
    applied, so the caller can check the rest too."""
    problems = []
    for item in items:
        trial = copy.deepcopy(values)  # a refused path leaves nothing half-made behind
        try:
            apply_set(trial, item)
        except ConfigError as error:
            problems += error.problems
        else:
            values = trial
    if problems:
        refused = ConfigError(problems)
        refused.values = values  # type: ignore[attr-defined]
        raise refused
    return values
