"""Stack files' YAML as the Pulumi CLI reads it (its Go YAML library, go-yaml v3), for every reader of a stack file:
the offline plan's (offline/stackfile.py) and the program's own, which reads its sibling stack files
(config/regions.py). One document in UTF-8; YAML 1.2's core schema (only `true`/`false` are booleans, `yes`, `on`
and `10:30` stay strings); a plain scalar starting with a digit, a sign or a dot, and a scalar with a standard tag
(`!!int`, `!!float`, `!!bool`, `!!null`, `!!timestamp`, `!!binary`), read as go-yaml reads it (config/go_yaml.py:
`1_000`, `0b101`, `-0x1F`, `08`, `.5_0` are 1000, 5, -31, 8.0 and 0.5; `!!str 123` is '123'); refused, naming the
config path and the line: an unquoted date (a time to go-yaml), NaN or an infinity as a value, a tagged scalar
go-yaml cannot decode (`!!int abc`); a custom tag, a key given twice in one
mapping (as written, or as the program names it) or a key that is a list or mapping is an error; a key that is no
string is named as the Pulumi CLI names it to the program; merge keys merge as in go-yaml, the mapping's own keys
winning; a document past 100,000 values once its aliases are expanded, or 32 levels deep, is refused (go-yaml refuses
"excessive aliasing" too)."""
import copy
import functools
import math
import re
from pathlib import Path
from typing import Any, NoReturn, Optional

import yaml

from . import go_yaml
from .reader import ConfigError


_MERGE = "tag:yaml.org,2002:merge"
_STANDARD = "tag:yaml.org,2002:"
_PLAIN_SCALAR = "tag:offline,2026:go-yaml-plain"  # a plain scalar go_yaml.resolve reads (a digit, sign or dot first)


class _TooDeep(Exception):
    """A node nested past MAX_DEPTH (as the document's values count levels: the top one is the first)."""


class _PulumiYamlLoader(yaml.SafeLoader):
    """PyYAML's safe loader narrowed to YAML 1.2's core schema, refusing duplicate keys; merges as go-yaml's."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._checked: set[int] = set()
        self._merged = 0
        self._anchored_lists: set[int] = set()
        self._depth = 0
        self._paths: dict[int, tuple[str, bool]] = {}  # a node -> where it is (a config path), and whether a key

    def compose_scalar_node(self, anchor: Optional[str]) -> yaml.ScalarNode:
        """The non-specific tag `!` on a quoted or block scalar makes it a string, as in go-yaml (parser.go `node`:
        such a scalar's default tag is !!str); PyYAML resolved it as if plain (`! '123'` was 123)."""
        event = self.peek_event()
        if event.tag == "!" and event.style:
            event.tag = f"{_STANDARD}str"
        return super().compose_scalar_node(anchor)

    def where(self, node: yaml.Node) -> str:
        """A node's place, as a refusal names it: the config path (`aks-llm-platform:webui.extraEnv.X`), or the
        path of the mapping whose key it is."""
        path, key = self._paths.get(id(node), ("", False))
        shown = path.removeprefix("config.") or "the document"
        return f"a key of {shown}" if key else shown

    def refuse(self, node: yaml.Node, problem: str) -> NoReturn:
        raise _Refused(self.where(node), problem, node.start_mark)

    def _placed(self, node: yaml.Node, path: str, key: bool = False) -> None:
        self._paths.setdefault(id(node), (path, key))

    def construct_sequence(self, node: yaml.Node, deep: bool = False) -> list[Any]:
        if not isinstance(node, yaml.SequenceNode):  # `!!seq abc`: PyYAML's refusal
            return super().construct_sequence(node, deep)
        here = self._paths.get(id(node), ("", False))[0]
        for index, child in enumerate(node.value):
            self._placed(child, f"{here}[{index}]")
        return [self._value(child, deep) for child in node.value]

    def _value(self, node: yaml.Node, deep: bool) -> Any:
        """A mapping's or list's value; a NaN or infinity is refused: the Pulumi CLI hands config over as JSON,
        which has neither, and stops on it (config/object.go `MarshalString`: json.Marshal's "unsupported value")."""
        value = self.construct_object(node, deep=deep)
        if isinstance(value, float) and not math.isfinite(value):
            go_text = go_yaml.go_float_text(value)
            self.refuse(node, f"{node.value} is the number {go_text}, which JSON cannot hold: the Pulumi CLI hands "
                              f"config to the program as JSON and stops on it (json: unsupported value: {go_text}); "
                              f"quote it, '{node.value}', for the text")
        return value

    def compose_node(self, parent: Optional[yaml.Node], index: Any) -> yaml.Node:
        """A node nested past MAX_DEPTH is refused as it is reached: the document would be refused for its depth
        anyway (an alias only adds depth), and PyYAML's parser and scanner had gone on through every level first
        (a 2,000-level file took 0.7 s to reach Python's recursion limit; 0.2 s now, the scanner's look-ahead)."""
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _TooDeep()
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def compose_sequence_node(self, anchor: Optional[str]) -> yaml.SequenceNode:
        node = super().compose_sequence_node(anchor)
        if anchor is not None:  # an alias of it is the same node: go-yaml merges no alias of a list
            self._anchored_lists.add(id(node))
        return node

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[str, Any]:
        """Each key as the Pulumi CLI names it to the program (pulumi_key_text): go-yaml keeps keys apart by type
        (1 and true, 1 and 1.0 are two keys; a Python dict holds them as one) and the CLI names each by Go's `%v`;
        two keys of one mapping named alike are refused, as the CLI refuses them (the file written back holds the
        name twice: go-yaml's "mapping key already defined") or keeps one at random (`~` and '<nil>')."""
        self.flatten_mapping(node)
        mapping: dict[str, Any] = {}
        keys: dict[str, tuple[tuple[type, Any], yaml.Node]] = {}  # name -> (the key as go-yaml holds it, its node)
        here = self._paths.get(id(node), ("", False))[0]
        for key_node, value_node in node.value:  # a merge's pairs first, the mapping's own last (they win)
            self._placed(key_node, here, key=True)
            key = self.construct_object(key_node, deep=deep)
            name, held = (key, (str, key)) if isinstance(key, str) else (pulumi_key_text(key), _go_key(key))
            self._placed(value_node, f"{here}.{name}" if here else name)
            if name in keys and keys[name][0] != held:
                raise yaml.constructor.ConstructorError(
                    None, None, f"keys {_as_written(keys[name][1])} and {_as_written(key_node)} of one mapping both "
                                f"reach the program as {name!r} (the Pulumi CLI's name for each): write the entry once",
                    key_node.start_mark)
            keys[name] = (held, key_node)
            mapping[name] = self._value(value_node, deep)
        return mapping

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


class _Refused(yaml.constructor.ConstructorError):
    """A value the Pulumi CLI refuses, or hands the program as something other than what is written: named by its
    place in the document and its line."""

    def __init__(self, where: str, problem: str, mark: yaml.Mark) -> None:
        super().__init__(None, None, problem, mark)
        self.where = where


# Drop YAML 1.1's resolvers (yes/no/on/off booleans, sexagesimal numbers, timestamps) and add the 1.2 core ones;
# a plain scalar starting with a digit, a sign or a dot is go-yaml's to read (go_yaml.resolve: numbers, .inf, .nan,
# dates), as its resolve.go reads what its resolveTable hints at.
_PulumiYamlLoader.yaml_implicit_resolvers = {}
for _tag, _pattern, _first in (
        ("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", list("tTfF")),
        ("tag:yaml.org,2002:null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
        # merge keys (`<<: *defaults`), which go-yaml v3 resolves too
        (_MERGE, r"^(?:<<)$", ["<"]),
        (_PLAIN_SCALAR, r"(?s).*", list("-+.0123456789"))):
    _PulumiYamlLoader.add_implicit_resolver(_tag, re.compile(_pattern), _first)


def _as_written(node: yaml.Node) -> str:
    quote = node.style if node.style in ("'", '"') else ""
    return f"`{quote}{node.value}{quote}`"


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


def _go_scalar(tag: str) -> Any:
    """The constructor of a plain scalar (tag "") or of one with the standard tag `tag` (!!int, !!float, !!bool,
    !!null, !!timestamp): go-yaml's value (go_yaml.resolve), or a refusal naming the place and line where go-yaml
    fails or decodes a date."""
    def construct(loader: _PulumiYamlLoader, node: yaml.ScalarNode) -> Any:
        text = loader.construct_scalar(node)
        try:
            resolved, value = go_yaml.resolve(tag, text)
        except go_yaml.GoRefusal as refusal:
            loader.refuse(node, f"`{tag} {text}`: the Pulumi CLI stops on it (yaml: {refusal}); write the value "
                                f"without the tag, quoted if it is text")
        if resolved == go_yaml.TIMESTAMP:
            loader.refuse(node, _date_problem(value, tagged=bool(tag)))
        return value
    return construct


def _date_problem(time: "go_yaml.GoTime", tagged: bool) -> str:
    """go-yaml v3 decodes an unquoted date or time into a time.Time, which the Pulumi CLI hands the program as Go's
    text of it (config/object.go `unmarshalObject`: `v.String()`), as a value or a key, never as written."""
    advice = ("remove the !!timestamp tag and " if tagged else "") + go_yaml.quote_advice(time)
    return (f"{time} is a date, unquoted, to the Pulumi CLI (a time.Time), which hands the program Go's text of it, "
            f"{time.go_text!r}{_LOCAL_ZONE_NOTE if not time.go_text.endswith(' UTC') else ''}, not what is written: "
            f"{advice}")


_LOCAL_ZONE_NOTE = " (the last part the zone's name where the CLI runs, when that zone has this offset)"


def _binary(loader: _PulumiYamlLoader, node: yaml.ScalarNode) -> str:
    try:
        return go_yaml.binary_text(loader.construct_scalar(node))
    except go_yaml.GoRefusal as refusal:
        loader.refuse(node, f"`!!binary`: {refusal}")


_PulumiYamlLoader.add_constructor(_PLAIN_SCALAR, _go_scalar(""))
for _short in (go_yaml.INT, go_yaml.FLOAT, go_yaml.BOOL, go_yaml.NULL, go_yaml.TIMESTAMP):
    _PulumiYamlLoader.add_constructor(_STANDARD + _short[2:], _go_scalar(_short))
_PulumiYamlLoader.add_constructor(_STANDARD + "binary", _binary)


def _unknown_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    raise yaml.constructor.ConstructorError(None, None, f"YAML tag {node.tag!r} is not allowed in a stack file",
                                            node.start_mark)


_PulumiYamlLoader.add_multi_constructor("!", _unknown_tag)
_PulumiYamlLoader.add_multi_constructor(_STANDARD, _unknown_tag)  # !!python/name and such; !!set, !!omap: below
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
    except (_TooDeep, RecursionError):  # the parser recurses per level of nesting
        raise ConfigError([f"{where}: values nest more than {MAX_DEPTH} levels deep"]) from None
    except _Refused as error:
        mark = error.problem_mark
        raise ConfigError([f"{where}: {error.where} (line {mark.line + 1}, column {mark.column + 1}): "
                           f"{error.problem}"]) from None
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


# A mapping key inside a config value that is not a string reaches the program as the Pulumi CLI names it: the CLI
# decodes the stack file with go-yaml v3 into `any`, where a mapping with such a key is a map[any]any, writes the
# file back and reads it again (workspace/loaders.go `LoadProjectStackBytes`), and config/object.go `unmarshalObject`
# names each key fmt.Sprintf("%v", key) (pulumi/pulumi 1b5949891b; go-yaml v3.0.1 decode.go `mapping`, resolve.go):
# 128 -> '128', true -> 'true', 1e3 -> '1000', and a null key (`~`, unquoted `null`) -> '<nil>'. The loader names
# every key so as it builds each mapping (_PulumiYamlLoader.construct_mapping), so every reader of a stack file reads
# the program's names, and a key named '<nil>', which stands for no name, is refused (null_key_problems), in the stack
# file and in the program's own config.
NULL_KEY_TEXT = "<nil>"
_GO_INTEGERS = range(-2 ** 63, 2 ** 64)  # go-yaml's int, int64 and uint64; a longer one is a float64 to it


def pulumi_key_text(key: Any) -> str:
    """A YAML mapping key as the Pulumi CLI hands it to the program: Go's `%v` of the value go-yaml decoded."""
    if key is None:
        return NULL_KEY_TEXT
    if isinstance(key, bool):
        return "true" if key else "false"
    if isinstance(key, float) or isinstance(key, int) and key not in _GO_INTEGERS:
        text = go_yaml.go_float_text(float(key))
        return "0" if text == "-0" else text  # written back as -0, read again as the integer 0
    return str(key)


def _go_key(key: Any) -> tuple[type, Any]:
    """A key as go-yaml holds it in a map[any]any: its Go type and value (1, true and 1.0 are three keys)."""
    if isinstance(key, int) and not isinstance(key, bool) and key not in _GO_INTEGERS:
        return float, float(key)
    return type(key), key


def null_key_paths(value: Any, here: str) -> list[str]:
    """Where a config value (its keys as the program reads them) holds an entry named '<nil>': a null key."""
    if isinstance(value, dict):
        nested = [p for k, v in value.items() for p in null_key_paths(v, f"{here}.{k}")]
        return [here, *nested] if NULL_KEY_TEXT in value else nested
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in null_key_paths(v, f"{here}[{i}]")]
    return []


def null_key_problems(config: dict[str, Any], where: str = "") -> list[str]:
    """Each entry named '<nil>' (a null key) in a stack's config values (keys as the program reads them), as one
    refusal, `where` (a file's name) in front when given."""
    return [(f"{where}: " if where else "") + (
        f"{path} has an entry whose name is null (`~` or unquoted `null` in the stack file; the Pulumi CLI hands the "
        f"program {NULL_KEY_TEXT!r} as its name): write the name it stands for (quoted, \"null\", if that is the "
        f"name)") for key, value in config.items() for path in null_key_paths(value, key)]


def esc_environments(path: Path) -> list[str]:
    """The Pulumi ESC environments a stack file imports (`environment: [org/project/env, ...]`): the Pulumi CLI opens
    them in Pulumi Cloud and their `pulumiConfig` becomes stack config under the file's own; [] for none, or for a
    file that does not read (the reader of its config tells why). Used by the offline plan (its warning) and by
    the global stack's checks of its regions' files (config/regions.py)."""
    try:
        document = parse_yaml(path.read_bytes(), path.name)
    except (OSError, ConfigError):
        return []
    listed = document.get("environment") if isinstance(document, dict) else None
    if isinstance(listed, dict):  # the mapping form: `environment: {imports: [...]}`
        listed = listed.get("imports")
    if isinstance(listed, str):
        listed = [listed]
    return [str(name) for name in listed or [] if name is not None] if isinstance(listed, list) else []
