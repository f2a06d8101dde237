"""A component's refusal as a user of another language reads it: the names of inputs and their fields spelt as the
schema spells them (`systemPool.minCount`), where the component's own checks write the Python names its code reads
(`system_pool.min_count`), which a Python user keeps (docs/decisions.md, "Refusals in the schema's names").

The component provider translates the whole refusal at its boundary, as `tidy_descriptions` does the docstrings:
every word of the message and of each per-property error that names an input or a field the schema has, and
nothing a user typed. A name is known by where it leads: a path from the component's inputs (`system_pool.min_count`,
`models[0].size_gib`) is read field by field through the schema's types, so a map's key (`extra_env['HF_HOME']`, or
`tags.cost_center` as the provider joins one) is kept as given; any other word is translated only when all its parts
are properties the schema has (GpuNodePool's `autoscaler_expander` of a cluster handle). Quoted text is a value
shown (`model='llama_3'`, a Key Vault secret's name) and stays as it is, except where the message quotes a name (the
nearest input it suggests, `did you mean 'max_count'?`, and `input 'route_target' is required`); so does a word
inside a URL, an Azure resource ID, a host:port or a hyphenated name, the component's resource name the message
starts with, and an upper-case environment variable name (no property is spelt so).
"""
import re
from typing import Any, Optional

from pulumi.provider.experimental.util import camel_case

_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_KEY = r"""'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*\""""
# a path as the components write one: names joined by dots, list indices and quoted map keys in brackets
_PATH = rf"{_NAME}(?:\.{_NAME}|\[(?:\d+|{_KEY})\])*"
_SEGMENT = re.compile(rf"\.?({_NAME})|\[(\d+|{_KEY})\]")
# A word starting where no URL, resource ID, hyphenated or dotted name, host:port or $-reference goes on (and not
# followed by one, nor by a call's parenthesis); or a quoted value (its quote opens after no letter: "AKS's" is no
# quote). The word alternative comes first, so a map's quoted key stays with the path it follows.
_TOKEN = re.compile(rf"""(?<![\w.\-/@$:%#~\\])(?P<path>{_PATH})(?P<glued>[(\-/@]|:\w)?
                         |(?<![\w])(?P<quoted>{_KEY})""", re.X)
# a problem's reason as the rules write it: the value shown, then what is allowed (rules.Problem.reason)
_SHOWN = re.compile(rf"(?P<quoted>{_KEY}) is invalid; allowed: ")
_SUGGESTED = re.compile(r"did you mean (?:'[^']*' or )?$")
_SUGGESTED_REACH = 200  # "did you mean 'a' or " before a quoted name: a property's name is far shorter


def property_names(schema: dict[str, Any]) -> set[str]:
    """Every input and output property name the schema has, of its components and of their types."""
    names: set[str] = set()
    for entity in [*schema.get("resources", {}).values(), *schema.get("types", {}).values()]:
        for key in ("inputProperties", "properties"):
            names.update(entity.get(key, {}))
    return names


class SchemaNames:
    """The schema's names of every component's inputs and of the fields of their types, to spell a refusal in."""

    def __init__(self, schema: dict[str, Any]) -> None:
        self._types: dict[str, Any] = schema.get("types", {})
        self._inputs: dict[str, dict[str, Any]] = {
            token: resource.get("inputProperties", {}) for token, resource in schema.get("resources", {}).items()}
        self._names = property_names(schema)
        self._spelt_before: dict[tuple[str, str], Optional[tuple[str, Optional[str]]]] = {}

    def refusal(self, component: str, name: str, message: str,
                errors: list[tuple[str, str]]) -> tuple[str, list[tuple[str, str]]]:
        """A component's refusal (its message, and each problem's property path and reason) in the schema's names:
        the component `name` the message starts with is the user's own, kept; so is every value it shows, but for a
        text the component wrote in place of an object, list or map it refuses (`gpu='a pool with mig_profile
        MIG3g'`), where no text is the user's: its names are spelt as the schema's too."""
        described = set()
        for path, reason in errors:
            shown = _SHOWN.match(reason)
            if shown and self._kind(component, path) in ("object", "list", "map"):
                described.add(shown["quoted"])
        return (self.message(component, message, f"{component.rsplit(':', 1)[-1]} {name}", described),
                [(self.path(component, path), self.message(component, reason, described=described))
                 for path, reason in errors])

    def path(self, component: str, path: str) -> str:
        """A property path the component's checks wrote (Python names), as the schema spells it."""
        found = self._path(component, path)
        return path if found is None else found[0]

    def message(self, component: str, text: str, starts_with: str = "", described: frozenset[str] | set[str] =
                frozenset()) -> str:
        """A refusal's text with each input's name as the schema spells it; `starts_with` (the component's type and
        resource name, the user's own) is kept as it is; so is quoted text, unless it quotes a name or is one of
        the `described` values (a text the component wrote)."""
        kept = starts_with if starts_with and text.startswith(starts_with) else ""

        def spelt(match: re.Match[str]) -> str:
            quoted = match["quoted"]
            if quoted is not None:
                if quoted in described:
                    return quoted[0] + self.message(component, quoted[1:-1]) + quoted[-1]
                inner = self._path(component, quoted[1:-1]) if _quotes_a_name(match.string, match.start(),
                                                                               match.end()) else None
                return quoted if inner is None else quoted[0] + inner[0] + quoted[-1]
            if match["glued"] is not None:  # a call, or part of a hyphenated name, a URL or a host:port
                return match.group()
            found = self._path(component, match["path"])
            return match["path"] if found is None else found[0]
        return kept + _TOKEN.sub(spelt, text[len(kept):])

    def _kind(self, component: str, path: str) -> Optional[str]:
        found = self._path(component, path)
        return None if found is None else found[1]

    def _path(self, component: str, path: str) -> Optional[tuple[str, Optional[str]]]:
        """`_spelt`, remembered: a refusal of many items asks for the same words again and again."""
        key = (component, path)
        if key not in self._spelt_before:
            if len(self._spelt_before) > 10000:  # the plugin lives for a deployment; a bound all the same
                self._spelt_before.clear()
            self._spelt_before[key] = self._spelt(component, path)
        return self._spelt_before[key]

    def _spelt(self, component: str, path: str) -> Optional[tuple[str, Optional[str]]]:
        """`path` in the schema's names and what it leads to (as `_kind_of`; None when it leads through a name the
        schema does not have, or is no path from the component's inputs), or None when it names no input or field
        the schema has (a value)."""
        segments = [(m[1], m[2]) for m in _SEGMENT.finditer(path)]
        if "".join(m.group() for m in _SEGMENT.finditer(path)) != path or not segments or segments[0][0] is None:
            return None
        inputs = self._inputs.get(component, {})
        first = segments[0][0]
        if first in inputs or camel_case(first) in inputs:
            return self._walk(inputs, segments)
        # not a path from this component's inputs: a field of another's handle or input, by name alone
        if all(name is None or name in self._names or camel_case(name) in self._names for name, _ in segments):
            return _joined([(name and (name if name in self._names else camel_case(name)), index)
                            for name, index in segments]), None
        return None

    def _walk(self, properties: dict[str, Any],
              segments: list[tuple[Optional[str], Optional[str]]]) -> tuple[str, Optional[str]]:
        """The path followed through the schema: a property by its schema name; a map's key (bracketed, or joined
        with a dot) and whatever follows a name the schema does not have, as given. With what it leads to."""
        out: list[tuple[Optional[str], Optional[str]]] = []
        kind: Optional[str] = "object"
        inner: Any = properties
        for number, (name, index) in enumerate(segments):
            if name is not None and kind == "object" and isinstance(inner, dict):
                schema_name = name if name in inner else camel_case(name)
                if schema_name not in inner:
                    return _joined(out + segments[number:]), None  # a name the user typed: the rest as given
                out.append((schema_name, None))
                kind, inner = self._kind_of(inner[schema_name])
            elif kind in ("list", "map") and (index is not None or kind == "map"):
                out.append((name, index))
                kind, inner = self._kind_of(inner)
            else:
                return _joined(out + segments[number:]), None
        return _joined(out), kind

    def _kind_of(self, spec: Any) -> tuple[str, Any]:
        """What a property holds: ("object", its type's properties), ("list", its items), ("map", its values), or
        ("value", None): text, a number, true/false, one of an enum's values."""
        if not isinstance(spec, dict):
            return "value", None
        ref = str(spec.get("$ref", ""))
        if ref.startswith("#/types/"):
            type_ = self._types.get(ref[len("#/types/"):], {})
            return ("object", type_.get("properties", {})) if "properties" in type_ else ("value", None)
        if spec.get("type") == "array":
            return "list", spec.get("items")
        if spec.get("type") == "object" and "additionalProperties" in spec:
            return "map", spec.get("additionalProperties")
        return "value", None


def _quotes_a_name(text: str, start: int, end: int) -> bool:
    """The quoted text at text[start:end] is a name the message suggests (`nearest_or_all`: "did you mean 'a'?", "or
    'b'?") or requires ("input 'a' is required"), not a value shown."""
    before = text[max(0, start - _SUGGESTED_REACH):start]  # not the whole message before each quote: quadratic
    return bool(_SUGGESTED.search(before)) or before.endswith("input ") and text[end:].startswith(" is required")


def _joined(segments: list[tuple[Optional[str], Optional[str]]]) -> str:
    text = ""
    for name, index in segments:
        text += f"[{index}]" if index is not None else (f".{name}" if text else str(name))
    return text
