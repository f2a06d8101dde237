"""Which API groups a Helm release's chart renders resources of, read from the chart's own templates vendored under
tests/upstream/charts/<chart>/templates (and its library subcharts', whose templates run with the parent's values).

Helm maps every object of a release's manifest to a resource before it creates any (helm.sh/helm v3.20.2
pkg/action/install.go: `KubeClient.Build`, the REST mapper), so a release whose templates render a custom resource
of a group no CRD in the cluster defines fails at once ("resource mapping not found ... ensure CRDs are installed
first"); the CRDs in the chart's own crds/ and templates come with it. Only the templates that render a group
neither built in nor installed by their own chart are vendored (tests/upstream/SOURCES.md lists them).

A resource counts as rendered when every `if`, `with` and `range` around its top-level `apiVersion:` line holds with
the release's values (`charts.chart_values`). The conditions are read as Go templates evaluate them: `.Values`
paths (a number float64, as Helm holds it), string, number and boolean literals, `and`, `or`, `not`, `eq`, `ne`,
`lower`, `default`, sprig's `int` and `hasKey`, Go's `gt`/`ge`/`lt`/`le` (one kind on each side, else the render
fails: unknown), parentheses and pipes; Go's truth (false, 0, nil, empty string, list or map are false). What
this reader cannot know (a `$` variable, `.Capabilities`, `.Release`, another function) is unknown, and a resource
under an unknown condition counts as rendered (the check would rather ask for a CRD that is not needed). A `define`'s
body counts as rendered wherever it is: the guard of the `include` that uses it is not followed."""
from __future__ import annotations

import functools
import math
import re
from pathlib import Path
from typing import Any, Optional

from llmplatform.kubernetes_schemas import group_of

from .charts import CHARTS, _read, chart_name, chart_values, vendored_charts


class _Unknown:
    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Any = _Unknown()
# Helm's render fails here (a Go text/template error): unknown to the callers as well, but `and` and `or` evaluate
# their arguments in order (Go 1.18+), so one that fails before the deciding one fails the whole call
FAILED: Any = _Unknown()
_ACTION = re.compile(r"\{\{-?\s*(.*?)\s*-?\}\}", re.S)
_API_VERSION = re.compile(r"^apiVersion:[ \t]*(.*?)[ \t]*$", re.M)
_TOKEN = re.compile(r'\s*(?:(?P<open>\()|(?P<close>\))|(?P<pipe>\|)|(?P<str>"(?:[^"\\]|\\.)*"|`[^`]*`)'
                    r'|(?P<num>-?\d+(?:\.\d+)?)|(?P<word>[$.A-Za-z_][$.A-Za-z0-9_]*))')


def truth(value: Any) -> Any:
    """Go template truth: false, 0, nil and empty strings, lists and maps are false; UNKNOWN stays unknown."""
    if value is UNKNOWN or value is FAILED:
        return UNKNOWN
    return bool(value)


def _tokens(text: str) -> list[tuple[str, str]]:
    found, at = [], 0
    while at < len(text):
        if text[at:].strip() == "":
            break
        match = _TOKEN.match(text, at)
        if not match:
            return [("bad", text[at:])]
        kind = str(match.lastgroup)
        found.append((kind, match.group(kind)))
        at = match.end()
    return found


def _field(word: str, values: dict[str, Any]) -> Any:
    """A `.Values` path's value; a number as the float64 Helm holds it (helm.sh/helm v3 pkg/chartutil ReadValues
    reads values files through sigs.k8s.io/yaml, JSON's numbers; a Pulumi Release's values are JSON too). A key
    missing from a map is nil (Helm's `missingkey=zero`); a field of nil or of what is no map fails the render
    (Go's text/template exec.go `evalField`: "nil pointer evaluating interface {}.b"): FAILED."""
    for prefix in (".Values.", "$.Values."):
        if word.startswith(prefix):
            node: Any = values
            for part in word[len(prefix):].split("."):
                if not isinstance(node, dict):
                    return FAILED
                node = node.get(part)
            return float(node) if isinstance(node, int) and not isinstance(node, bool) else node
    if word in (".Values", "$.Values"):
        return values
    return UNKNOWN  # $variables, .Release, .Capabilities, .Chart, ...


def _and_or(decides: bool, args: list[Any]) -> Any:
    """Go 1.18+'s `and` (`decides` False) or `or` (True): the first argument whose truth is `decides`, else the last;
    Go evaluates them in order and stops there, so a failed one before it fails the render (text/template exec.go
    `evalCall`'s short-circuit), and an unknown one before it leaves the result decided (falsy for `and`)."""
    for arg in args:
        if arg is FAILED:
            return FAILED
        if truth(arg) is decides:
            return arg
    return UNKNOWN if any(a is UNKNOWN for a in args) else (args[-1] if args else FAILED)


def _call(name: str, args: list[Any]) -> Any:
    if name in ("and", "or"):
        return _and_or(name == "or", args)
    if any(a is FAILED for a in args):
        return FAILED
    if any(a is UNKNOWN for a in args):
        return UNKNOWN
    if name == "not" and len(args) == 1:
        return not truth(args[0])
    if name == "eq" and len(args) >= 2:  # true at the first argument equal to the first, an error before it fails
        for other in args[1:]:
            same = _equal(args[0], other)
            if same is not False:
                return same
        return False
    if name == "ne" and len(args) == 2:
        same = _equal(args[0], args[1])
        return same if isinstance(same, _Unknown) else not same
    if name == "lower" and len(args) == 1 and isinstance(args[0], str):
        return args[0].lower()
    if name == "default" and args:  # sprig: default DEFAULT GIVEN...: the first GIVEN unless empty, else DEFAULT
        return args[1] if len(args) > 1 and truth(args[1]) else args[0]
    if name == "int" and len(args) == 1:  # sprig's toInt: nil and what does not parse are 0
        return _integer(args[0])
    if name in _COMPARE and len(args) == 2:
        return _compare(name, args[0], args[1])
    if name == "hasKey" and len(args) == 2 and isinstance(args[0], dict) and isinstance(args[1], str):
        return args[1] in args[0]  # sprig: hasKey MAP KEY
    # a known function given arguments it refuses (so hasKey of nil: a `.Values` nil is no map to Go's call, "wrong
    # type for value"; "wrong number of args for not") fails the render; another function is unknown
    return FAILED if name in _CHECKED else UNKNOWN


_COMPARE = {"gt": lambda a, b: a > b, "ge": lambda a, b: a >= b, "lt": lambda a, b: a < b, "le": lambda a, b: a <= b}
_CHECKED = {"not", "eq", "ne", "lower", "default", "int", "hasKey", *_COMPARE}


def _kind(value: Any) -> Optional[str]:
    """Go's `basicKind` of a value as a template sees it: int (a literal, `int`'s result), float (every number of
    `.Values`), string; None for what `lt` refuses (bool, nil, maps, lists)."""
    if isinstance(value, bool) or value is None:
        return None
    return {int: "int", float: "float", str: "string"}.get(type(value))


def _equal(left: Any, right: Any) -> Any:
    """Go's `eq` of two values (text/template funcs.go; Go 1.19.8 run here): nil equals nil only; two values of one
    basic kind (bool, int, float, string) compare; of two kinds (a `.Values` number, float64, against an integer
    literal), or a map or list, the render fails ("incompatible types for comparison"): FAILED, as `_compare`."""
    if left is None or right is None:
        return left is right
    kind = "bool" if isinstance(left, bool) else _kind(left)
    if kind is None or kind != ("bool" if isinstance(right, bool) else _kind(right)):
        return FAILED
    return left == right


def _compare(name: str, left: Any, right: Any) -> Any:
    """Go's `lt`/`le`/`gt`/`ge` (text/template funcs.go; sprig's own `gt` is commented out): both of one kind, int
    with int, float with float, string with string (byte order), else the template fails to render ("incompatible
    types for comparison"), which this reader cannot call rendered or not: FAILED. So `gt .Values.n 1` is an error
    in Helm (the values' numbers are float64), and charts write `gt (int .Values.n) 1`."""
    kind = _kind(left)
    if kind is None or kind != _kind(right):
        return FAILED
    return _COMPARE[name](left, right)


_GO_INT = re.compile(r"[+-]?(?:0[xX](?:_?[0-9a-fA-F])+|0[bB](?:_?[01])+|0[oO](?:_?[0-7])+|0(?:_?[0-7])*"
                     r"|[1-9](?:_?[0-9])*)")


def _integer(value: Any) -> Any:
    """sprig's `int` (v3.3.0 `toInt`: spf13/cast v1.7.0 `ToIntE`, its error dropped): a bool 1 or 0, nil 0, a number
    truncated toward zero, a string as `strconv.ParseInt(trimZeroDecimal(s), 0, 0)` reads it (a sign, `0x`/`0o`/`0b`
    or a leading 0 for octal, `_` between digits, trailing `.0`s dropped; no spaces, no other decimals), else 0. An
    infinite or NaN float is UNKNOWN (Go's conversion of it is the platform's)."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if math.isfinite(value) else UNKNOWN
    if isinstance(value, str):
        text = _trim_zero_decimal(value)
        if not _GO_INT.fullmatch(text):
            return 0
        digits = text.lstrip("+-").replace("_", "")
        sign = -1 if text.startswith("-") else 1
        if len(digits) > 1 and digits[0] == "0" and digits[1] in "0123456789_":
            number = int(digits, 8)  # Go's base 0: a leading 0 is octal
        else:
            number = int(digits, 0) if digits[:2].lower() in ("0x", "0o", "0b") else int(digits)
        number *= sign
        return number if -2 ** 63 <= number < 2 ** 63 else 0  # ParseInt's range error: 0
    return 0


def _trim_zero_decimal(text: str) -> str:
    """cast v1.7.0 `trimZeroDecimal`: "8.00" -> "8"; anything else as it is."""
    found_zero = False
    for i in range(len(text), 0, -1):
        char = text[i - 1]
        if char == ".":
            if found_zero:
                return text[:i - 1]
        elif char == "0":
            found_zero = True
        else:
            return text
    return text


def evaluate(expression: str, values: dict[str, Any]) -> Any:
    """A Go template pipeline's value with these `.Values` (UNKNOWN where this reader cannot tell)."""
    tokens = _tokens(expression)
    if any(kind == "bad" for kind, _ in tokens):
        return UNKNOWN
    at = 0

    def operand() -> Any:
        nonlocal at
        kind, text = tokens[at]
        at += 1
        if kind == "open":
            value = pipeline()
            if at < len(tokens) and tokens[at][0] == "close":
                at += 1
            return value
        if kind == "str":
            return text[1:-1].encode().decode("unicode_escape") if text[0] == '"' else text[1:-1]
        if kind == "num":
            return float(text) if "." in text else int(text)
        if text in ("true", "false"):
            return text == "true"
        if text == "nil":
            return None
        if text[0] in ".$":
            return _field(text, values)
        return ("call", text)

    def command(piped: Optional[list[Any]] = None) -> Any:
        nonlocal at
        parts = []
        while at < len(tokens) and tokens[at][0] not in ("close", "pipe"):
            parts.append(operand())
        if piped:
            parts += piped
        if not parts:
            return UNKNOWN
        head = parts[0]
        if isinstance(head, tuple) and head[0] == "call":
            return _call(head[1], [p if not (isinstance(p, tuple) and p[0] == "call") else UNKNOWN
                                   for p in parts[1:]])
        if len(parts) == 1 or isinstance(head, _Unknown):
            return head
        return FAILED  # a value given arguments ("s is not a method but has arguments")

    def pipeline() -> Any:
        nonlocal at
        value = command()
        while at < len(tokens) and tokens[at][0] == "pipe":
            at += 1
            value = command([value])
        return value

    try:
        value = pipeline()
        return UNKNOWN if value is FAILED else value
    except IndexError:
        return UNKNOWN


def _all(conditions: list[Any]) -> Any:
    """All of these conditions: False if one is false, UNKNOWN if one is unknown, else True."""
    if any(c is False for c in conditions):
        return False
    return UNKNOWN if any(c is UNKNOWN for c in conditions) else True


def _any(conditions: list[Any]) -> Any:
    if any(c is True for c in conditions):
        return True
    return UNKNOWN if any(c is UNKNOWN for c in conditions) else False


def _not(condition: Any) -> Any:
    return UNKNOWN if condition is UNKNOWN else not condition


def _ranged(value: Any) -> Any:
    """Whether Go 1.19's `range` runs its body: over a list or a map that is not empty; nil not at all; anything else
    fails the render (text/template exec.go `walkRange`: "range can't iterate over 0"), a false or empty one too."""
    if value is None or isinstance(value, (list, dict)):
        return truth(value)
    return UNKNOWN


def rendered_api_versions(text: str, values: dict[str, Any]) -> list[tuple[str, Any]]:
    """(apiVersion, whether rendered: True, False or UNKNOWN) of each top-level `apiVersion:` line of a template."""
    events = [(m.start(), "action", m.group(1)) for m in _ACTION.finditer(text)]
    events += [(m.start(), "api", m.group(1)) for m in _API_VERSION.finditer(text)]
    stack: list[list[Any]] = []  # [kind, this branch's condition, whether an earlier branch held]
    found = []
    for _, what, body in sorted(events, key=lambda e: e[0]):
        if what == "api":
            version = body.strip().strip('"').strip("'")
            inline = _ACTION.fullmatch(body.strip())
            if inline:
                version = evaluate(inline.group(1), values)
            found.append((version, _all([frame[1] for frame in stack])))
            continue
        if body.startswith("/*") or body.startswith("-/*"):
            continue
        word, _, rest = body.partition(" ")
        if word in ("if", "with", "range"):
            value = evaluate(re.sub(r"^\$\w+(?:\s*,\s*\$\w+)?\s*:=\s*", "", rest), values)
            condition = _ranged(value) if word == "range" else truth(value)
            stack.append([word, condition, condition])
        elif word == "define":
            stack.append([word, True, True])
        elif word == "else" and stack:
            frame = stack[-1]
            branch = truth(evaluate(rest[3:], values)) if rest.startswith("if ") else True
            frame[1] = _all([_not(frame[2]), branch])
            frame[2] = _any([frame[2], branch])
        elif word == "end" and stack:
            stack.pop()
    return found


@functools.lru_cache(maxsize=64)
def _template_files(directory: Path) -> tuple[Path, ...]:
    """The chart's vendored templates and those of its vendored library subcharts."""
    roots = [directory / "templates"]
    if (directory / "charts").is_dir():
        roots += [d / "templates" for d in sorted((directory / "charts").iterdir())
                  if str(_read(d / "Chart.yaml").get("type")) == "library"]
    return tuple(sorted(p for root in roots if root.is_dir() for p in root.rglob("*")
                        if p.suffix in (".yaml", ".yml", ".tpl")))


@functools.lru_cache(maxsize=256)
def _text(path: Path) -> str:
    return path.read_text()


def rendered_groups(inputs: dict[str, Any], root: Path = CHARTS) -> dict[str, list[str]]:
    """API group -> the vendored templates (relative to the chart's folder) that render a resource of it with a
    Release's values (rendered or possibly rendered; built-in groups included)."""
    directory = vendored_charts(root).get(chart_name(inputs))
    if directory is None:
        return {}
    values = chart_values(inputs, root)
    found: dict[str, list[str]] = {}
    for path in _template_files(directory):
        for version, rendered in rendered_api_versions(_text(path), values):
            if rendered is False or not isinstance(version, str):
                continue
            where = str(path.relative_to(directory))
            if where not in found.setdefault(group_of(version), []):
                found[group_of(version)].append(where)
    return found
