"""The Helm values paths a chart's templates read: `tests/upstream/charts/<chart>/values-read.json`.

A key can exist in a chart's values.yaml and still be read by no template at the pinned version (a leftover, a renamed
option, a key only a subchart's own values file describes), so setting it does nothing on a real `pulumi up`. This
module reads the chart's templates (and its subcharts') at the commit tests/upstream/SOURCES.md records for the
vendored Chart.yaml, and writes the `.Values` paths they read, as derived data: `tests/program/test_upstream.py`
holds every key the program sets against it.

    python -m offline.maintenance.helm_reads            # every pinned chart, from the default folder
    python -m offline.maintenance.helm_reads --mirror ~/clones --chart keda

`--mirror` is a folder of git clones, one per repository SOURCES.md names, each at `<owner>+<name>/repo` (`git clone
--bare https://github.com/<owner>/<name> <folder>/<owner>+<name>/repo`); the default is where the project's
maintenance machine keeps them.

The extractor is a small abstract interpreter of Go's text/template as Helm runs it (text/template/parse's grammar;
Helm's `include`, `tpl`, `required` and sprig's dict functions). Each expression evaluates to the set of values
nodes it may denote. A path is recorded as

- `read`: a field is taken (`.Values.a.b`, `$.Values...`, `index .Values "a" "b"`, `get`, `dig`, `hasKey`), or it is
  the scope of a `with`, or a variable holding it is used the same ways;
- `whole`: the node leaves the interpreter's sight as a whole, so every key under it counts as read: printed,
  `toYaml`/`toJson`/`tpl`/any other function, ranged over, indexed by a computed key, stored into a map by `set`.

A node passed to `include`/`template` (alone or inside a `dict`) is followed into the named template, with `.` and
`$` bound to the argument. `merge`/`mergeOverwrite` hand back their arguments (Istio's profile merge would otherwise
count every key read); a node merged over the chart's own `.Values` is recorded as an alias (istiod's `pilot.x` is
read where `x` is). Subcharts read their values under their alias (or name), `global.` at the top; a library
chart's templates are defined only, and run with the including chart's `.Values`. Chart.yaml conditions and tags are
read by Helm itself. NOTES.txt is left out: what it reads only prints a message after install.
"""
from __future__ import annotations

import argparse
import hashlib
import io
import json
import posixpath
import re
import subprocess
import sys
import tarfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Optional

import yaml

Path_ = tuple[str, ...]
# An abstract value: the set of atoms it may be. Atoms:
#   ("root", prefix)          the top context of a chart whose values sit under `prefix` in the release's values
#   ("vroot", prefix)         that chart's `.Values`
#   ("v", path)               a values node, `path` absolute in the release's values
#   ("dict", ((key, value), ...))  a `dict` literal
#   ("list", (value, ...))    a `list` literal
# The empty set is anything else (a string, a number, Helm's .Release, an unknown structure).
Atom = tuple[Any, ...]
Value = frozenset
NOTHING: Value = frozenset()


# ---- lexer -------------------------------------------------------------------------------------------------------

_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<comment>/\*.*?\*/)
  | (?P<string>"(?:[^"\\\n]|\\.)*")
  | (?P<raw>`[^`]*`)
  | (?P<char>'(?:[^'\\\n]|\\.)+')
  | (?P<decl>:=)
  | (?P<assign>=)
  | (?P<number>[-+]?(?:0[xX][0-9a-fA-F_]+|[0-9][0-9_]*(?:\.[0-9_]+)?(?:[eE][-+]?[0-9]+)?|\.[0-9]+))
  | (?P<var>\$[A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
  | (?P<field>(?:\.[A-Za-z_][A-Za-z0-9_]*)+)
  | (?P<dot>\.)
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<punct>[()|,])
""", re.X | re.S)
_FIELDS = re.compile(r"(?:\.[A-Za-z_][A-Za-z0-9_]*)+")


@dataclass
class Token:
    kind: str
    text: str


@dataclass
class Action:
    line: int
    tokens: list[Token]


def actions(text: str) -> Iterator[Action]:
    """The actions of a template, comments dropped, with the line each starts on."""
    pos = 0
    while True:
        start = text.find("{{", pos)
        if start < 0:
            return
        line = text.count("\n", 0, start) + 1
        i = start + 2
        if text.startswith("- ", i) or text.startswith("-\n", i) or text.startswith("-\t", i):
            i += 1
        tokens: list[Token] = []
        while True:
            while i < len(text) and text[i] in " \t\r\n":
                i += 1
            if text.startswith("-}}", i) and (not tokens or text[i - 1] in " \t\r\n"):
                i += 3
                break
            if text.startswith("}}", i):
                i += 2
                break
            match = _TOKEN.match(text, i)
            if not match:
                raise ValueError(f"line {line}: cannot read the action at {text[i:i + 40]!r}")
            kind = match.lastgroup or ""
            i = match.end()
            if kind in ("space", "comment"):
                continue
            if kind == "punct" and match.group() == ")":  # a field chain on a parenthesised result
                tokens.append(Token(")", ")"))
                chain = _FIELDS.match(text, i)
                if chain:
                    tokens.append(Token("chain", chain.group()))
                    i = chain.end()
                continue
            tokens.append(Token(kind if kind != "punct" else match.group(), match.group()))
        pos = i
        if tokens:
            yield Action(line, tokens)


# ---- parse tree --------------------------------------------------------------------------------------------------

@dataclass
class Node:
    """A control structure (if/with/range/define/block) with its branches, or one plain action."""
    keyword: str  # "" for a plain action
    line: int
    tokens: list[Token]  # the pipeline (after the keyword; for define/block/template the name first)
    body: list["Node"] = field(default_factory=list)
    branches: list["Node"] = field(default_factory=list)  # else / else if / else with, in order


def parse(text: str) -> list[Node]:
    root: list[Node] = []
    stack: list[tuple[Node, list[Node]]] = []  # (open structure, the list its next node goes to)
    current = root
    for action in actions(text):
        head = action.tokens[0]
        word = head.text if head.kind == "ident" else ""
        rest = action.tokens[1:]
        if word in ("if", "with", "range", "define", "block"):
            node = Node(word, action.line, rest)
            current.append(node)
            stack.append((node, current))
            current = node.body
        elif word == "else":
            if not stack:
                raise ValueError(f"line {action.line}: else outside a structure")
            opened = stack[-1][0]
            keyword = rest[0].text if rest and rest[0].kind == "ident" and rest[0].text in ("if", "with") else ""
            branch = Node(f"else {keyword}".strip(), action.line, rest[1:] if keyword else [])
            opened.branches.append(branch)
            current = branch.body
        elif word == "end":
            if not stack:
                raise ValueError(f"line {action.line}: end outside a structure")
            _, current = stack.pop()
        else:
            current.append(Node("", action.line, action.tokens))
    if stack:
        raise ValueError(f"line {stack[-1][0].line}: {stack[-1][0].keyword} without end")
    return root


# ---- the interpreter ---------------------------------------------------------------------------------------------

# Functions that hand back (one of) their arguments, unread
_PASS = {"default", "or", "and", "coalesce", "deepCopy", "mustDeepCopy", "merge", "mergeOverwrite", "mustMerge",
         "mustMergeOverwrite", "ternary", "required"}
# Functions that look at their arguments without taking any key out of them (a field taken to call them is read)
_LOOK = {"not", "empty", "eq", "ne", "lt", "le", "gt", "ge", "len", "kindIs", "kindOf", "typeOf", "typeIs",
         "typeIsLike", "isAbs", "unset", "fail", "semverCompare", "lookup", "hasPrefix", "hasSuffix", "contains"}


@dataclass
class Reads:
    read: dict[Path_, str] = field(default_factory=dict)   # path -> first "file:line" that reads it
    whole: dict[Path_, str] = field(default_factory=dict)
    missing_templates: set[str] = field(default_factory=set)
    # (from, to) -> "file:line": the chart merges the node at `from` over its .Values at `to` (istiod's
    # zzy_descope_legacy.yaml: pilot.x works as x), so a key under `from` is read where the same key under `to` is
    aliases: dict[tuple[Path_, Path_], str] = field(default_factory=dict)

    def add(self, kind: str, path: Path_, at: str) -> None:
        getattr(self, kind).setdefault(path, at)


@dataclass
class Scope:
    dot: Value
    dollar: Value
    variables: list[dict[str, Value]]
    at: str  # "file:line" of the action being read

    def child(self, dot: Optional[Value] = None) -> "Scope":
        return Scope(self.dot if dot is None else dot, self.dollar, [*self.variables, {}], self.at)

    def lookup(self, name: str) -> Value:
        if name == "$":
            return self.dollar
        for frame in reversed(self.variables):
            if name in frame:
                return frame[name]
        return NOTHING

    def assign(self, name: str, value: Value, declare: bool) -> None:
        if not declare:
            for frame in reversed(self.variables):
                if name in frame:
                    frame[name] = frame[name] | value  # either value, after a branch
                    return
        self.variables[-1][name] = value


class Interpreter:
    def __init__(self, dumps: Optional[dict[str, str]] = None) -> None:
        # files whose use of a chart's whole .Values is a dump with no effect (file -> why), not a read of every key
        self.dumps = dumps or {}
        self.defines: dict[str, list[tuple[str, list[Node]]]] = {}  # name -> (file, body) of every definition
        self.reads = Reads()
        self._called: set[tuple[str, Value]] = set()

    # -- loading

    def define_all(self, file: str, nodes: list[Node]) -> None:
        """Go's parser takes define only at the top level of a file."""
        for node in nodes:
            if node.keyword in ("define", "block") and node.tokens and node.tokens[0].kind in ("string", "raw"):
                self.defines.setdefault(_literal(node.tokens[0]), []).append((file, node.body))

    def render(self, file: str, nodes: list[Node], prefix: Path_) -> None:
        top = frozenset({("root", prefix)})
        self.run(nodes, Scope(top, top, [{}], f"{file}:1"), file)

    # -- records

    def _whole(self, value: Value, scope: Scope) -> None:
        for atom in value:
            if atom[0] == "v":
                self.reads.add("whole", atom[1], scope.at)
            elif atom[0] in ("vroot", "root"):  # a chart's .Values, or its whole context (toYaml $)
                if scope.at.rsplit(":", 1)[0] not in self.dumps:
                    self.reads.add("whole", atom[1], scope.at)
            elif atom[0] == "dict":
                for _, inner in atom[1]:
                    self._whole(inner, scope)
            elif atom[0] == "list":
                for inner in atom[1]:
                    self._whole(inner, scope)

    def _field(self, value: Value, name: str, scope: Scope) -> Value:
        out: set[Atom] = set()
        for atom in value:
            if atom[0] == "root":
                if name == "Values":
                    out.add(("vroot", atom[1]))
            elif atom[0] == "vroot":
                path = (*atom[1], name)
                self.reads.add("read", path, scope.at)
                out.add(("v", path))
                if name == "global" and atom[1]:
                    # Helm copies the parent's global: into the subchart's, over what `<subchart>.global` sets
                    # (helm/helm v3 pkg/chartutil/coalesce.go coalesceGlobals): the subchart reads either
                    self.reads.add("read", ("global",), scope.at)
                    out.add(("v", ("global",)))
            elif atom[0] == "v":
                path = (*atom[1], name)
                self.reads.add("read", path, scope.at)
                out.add(("v", path))
            elif atom[0] == "dict":
                for key, inner in atom[1]:
                    if key == name:
                        out.update(inner)
        return frozenset(out)

    def _fields(self, value: Value, chain: str, scope: Scope) -> Value:
        for name in chain.split(".")[1:]:
            value = self._field(value, name, scope)
        return value

    # -- statements

    def run(self, nodes: list[Node], scope: Scope, file: str) -> None:
        for node in nodes:
            scope.at = f"{file}:{node.line}"
            if node.keyword == "":
                self._action(node.tokens, scope, file)
            elif node.keyword == "define":
                continue
            elif node.keyword == "block":
                name = _literal(node.tokens[0])
                self._call(name, self.pipeline(node.tokens[1:], scope, file), scope)
            else:
                self._structure(node, scope, file)

    def _action(self, tokens: list[Token], scope: Scope, file: str) -> None:
        head = tokens[0]
        if head.kind == "ident" and head.text == "template":
            arg = self.pipeline(tokens[2:], scope, file) if len(tokens) > 2 else NOTHING
            self._call(_literal(tokens[1]), arg, scope)
            return
        if head.kind == "ident" and head.text in ("break", "continue"):
            return
        value, declared = self._declaring(tokens, scope, file)
        if not declared:
            self._whole(value, scope)  # printed

    def _declaring(self, tokens: list[Token], scope: Scope, file: str,
                   declare_values: Optional[Value] = None) -> tuple[Value, bool]:
        """A pipeline, with its variable declaration or assignment if it has one."""
        names: list[str] = []
        i = 0
        while i < len(tokens) and tokens[i].kind == "var" and i + 1 < len(tokens) \
                and tokens[i + 1].kind in ("decl", "assign", ","):
            names.append(tokens[i].text)
            if tokens[i + 1].kind == ",":
                i += 2
                continue
            declare = tokens[i + 1].kind == "decl"
            value = self.pipeline(tokens[i + 2:], scope, file)
            target = declare_values if declare_values is not None else value
            for index, name in enumerate(names):  # range $k, $v: the key is no value node
                scope.assign(name, target if index == len(names) - 1 else NOTHING, declare)
            return value, True
        return self.pipeline(tokens, scope, file), False

    def _structure(self, node: Node, scope: Scope, file: str) -> None:
        if node.keyword == "if":
            self.pipeline_with_vars(node.tokens, scope, file)
            self.run(node.body, scope.child(), file)
        elif node.keyword == "with":
            inner = scope.child()
            value = self._declared_in(node.tokens, inner, file)
            inner.dot = value
            self.run(node.body, inner, file)
        elif node.keyword == "range":
            inner = scope.child()
            value, _ = self._declaring(node.tokens, inner, file, declare_values=NOTHING)
            inner.dot = NOTHING  # an element
            self._whole(value, scope)  # each element, and each key: the whole
            self.run(node.body, inner, file)
        for branch in node.branches:
            scope.at = f"{file}:{branch.line}"
            if branch.keyword == "else if":
                inner = scope.child()
                self.pipeline_with_vars(branch.tokens, inner, file)
                self.run(branch.body, inner, file)
            elif branch.keyword == "else with":
                inner = scope.child()
                inner.dot = self._declared_in(branch.tokens, inner, file)
                self.run(branch.body, inner, file)
            else:
                self.run(branch.body, scope.child(), file)

    def _declared_in(self, tokens: list[Token], scope: Scope, file: str) -> Value:
        value, _ = self._declaring(tokens, scope, file)
        return value

    def pipeline_with_vars(self, tokens: list[Token], scope: Scope, file: str) -> None:
        self._declaring(tokens, scope, file)

    # -- expressions

    def pipeline(self, tokens: list[Token], scope: Scope, file: str) -> Value:
        commands: list[list[Token]] = [[]]
        depth = 0
        for token in tokens:
            if token.kind == "(":
                depth += 1
            elif token.kind == ")":
                depth -= 1
            if token.kind == "|" and depth == 0:
                commands.append([])
            else:
                commands[-1].append(token)
        value: Optional[Value] = None
        for command in commands:
            value = self._command(command, value, scope, file)
        return value if value is not None else NOTHING

    def _operands(self, tokens: list[Token]) -> list[list[Token]]:
        """A command's operands: a term with its field chain, or a parenthesised pipeline with its chain."""
        out: list[list[Token]] = []
        i = 0
        while i < len(tokens):
            if tokens[i].kind == "(":
                depth, j = 0, i
                while j < len(tokens):
                    depth += tokens[j].kind == "("
                    depth -= tokens[j].kind == ")"
                    if depth == 0:
                        break
                    j += 1
                j += 1
                if j < len(tokens) and tokens[j].kind == "chain":
                    j += 1
                out.append(tokens[i:j])
                i = j
            else:
                out.append([tokens[i]])
                i += 1
        return out

    def _operand(self, operand: list[Token], scope: Scope, file: str) -> Value:
        first = operand[0]
        if first.kind == "(":
            chain = operand[-1].text if operand[-1].kind == "chain" else ""
            inner = operand[1:-2] if chain else operand[1:-1]
            value = self.pipeline(inner, scope, file)
            return self._fields(value, chain, scope) if chain else value
        if first.kind == "dot":
            return scope.dot
        if first.kind == "field":
            return self._fields(scope.dot, first.text, scope)
        if first.kind == "var":
            name, _, chain = first.text.partition(".")
            base = scope.lookup(name)
            return self._fields(base, "." + chain, scope) if chain else base
        if first.kind == "ident":  # a function named as an argument (no arguments), or true/false/nil
            return self._call_function(first.text, [], [], scope, file) if first.text not in (
                "true", "false", "nil") else NOTHING
        return NOTHING

    def _command(self, command: list[Token], piped: Optional[Value], scope: Scope, file: str) -> Value:
        if not command:
            return piped if piped is not None else NOTHING
        operands = self._operands(command)
        head = operands[0]
        if len(head) == 1 and head[0].kind == "ident" and head[0].text not in ("true", "false", "nil"):
            args = operands[1:]
            values = [self._operand(a, scope, file) for a in args]
            if piped is not None:
                values.append(piped)
                args.append([])
            return self._call_function(head[0].text, args, values, scope, file)
        value = self._operand(head, scope, file)
        for extra in operands[1:]:  # not a function: nothing more to read, but evaluate what is there
            self._whole(self._operand(extra, scope, file), scope)
        if piped is not None:
            self._whole(piped, scope)
        return value

    def _call_function(self, name: str, args: list[list[Token]], values: list[Value], scope: Scope,
                       file: str) -> Value:
        literal = [_literal(a[0]) if len(a) == 1 and a[0].kind in ("string", "raw") else None for a in args]
        number = [int(a[0].text) if len(a) == 1 and a[0].kind == "number" and a[0].text.isdigit() else None
                  for a in args]
        if name in ("include", "template") and values:
            if literal[0] is not None:
                self._call(literal[0], values[1] if len(values) > 1 else NOTHING, scope)
            else:  # a computed name: a template file by its path (rendered anyway) given the top context, or else
                for value in values[1:]:
                    self._whole(frozenset(a for a in value if a[0] != "root"), scope)
            return NOTHING
        if name == "tpl" and values:  # the string is rendered with the context: only the string is taken
            self._whole(values[0], scope)
            return NOTHING
        if name == "dict":
            pairs: list[tuple[str, Value]] = []
            for i in range(0, len(values) - 1, 2):
                key = literal[i]
                if key is None:
                    self._whole(values[i + 1], scope)
                else:
                    pairs.append((key, values[i + 1]))
            if len(values) % 2:
                self._whole(values[-1], scope)
            return frozenset({("dict", tuple(sorted(pairs, key=lambda p: p[0])))})
        if name == "pick" and values and all(k is not None for k in literal[1:]):
            return frozenset({("dict", tuple(sorted((str(k), self._field(values[0], str(k), scope))
                                                    for k in literal[1:])))})
        if name == "list":
            return frozenset({("list", tuple(values))})
        if name in ("first", "last") and len(values) == 1 and all(a[0] == "list" for a in values[0]):
            return frozenset().union(*(a[1][0 if name == "first" else -1] for a in values[0] if a[1]))
        if name == "index" and values:
            value = values[0]
            for key, position in zip(literal[1:], number[1:]):
                if position is not None and value and all(a[0] == "list" for a in value):
                    value = frozenset().union(*(a[1][position] for a in value if position < len(a[1])))
                    continue
                if key is None:  # a computed key (or a position in a list of the values): any key may be the one
                    self._whole(value, scope)
                    return NOTHING
                value = self._field(value, key, scope)
            return value
        if name in ("get", "hasKey") and len(values) == 2:
            if literal[1] is None:
                self._whole(values[0], scope)
                return NOTHING
            got = self._field(values[0], literal[1], scope)
            return got if name == "get" else NOTHING
        if name == "dig" and len(values) >= 3:
            keys, target = literal[:-2], values[-1]
            if any(k is None for k in keys):
                self._whole(target, scope)
                return NOTHING
            for key in keys:
                target = self._field(target, str(key), scope)
            return target | values[-2]
        if name == "set" and len(values) == 3:
            target, _, new = values
            base = args[0]
            if any(a[0] in ("root", "v", "vroot") for a in target):
                return target  # set $ "Values" ..., set .Values "x" ...: the chart rearranges its own values
            if literal[1] is not None and len(base) == 1 and base[0].kind == "var" and "." not in base[0].text \
                    and any(a[0] == "dict" for a in target):
                grown = frozenset((a[0], tuple(sorted([*(p for p in a[1] if p[0] != literal[1]), (literal[1], new)],
                                                      key=lambda p: p[0]))) if a[0] == "dict" else a
                                  for a in target)
                scope.assign(base[0].text, grown, declare=False)
                return grown
            self._whole(new, scope)
            return target
        if name in ("merge", "mergeOverwrite", "mustMerge", "mustMergeOverwrite") and values:
            merged = frozenset().union(*values)
            base = args[0]
            for root in (a for a in values[0] if a[0] == "vroot"):  # a node merged into the chart's own .Values:
                for other in values[1:]:  # its keys are read wherever the same key at the top is
                    for atom in other:
                        if atom[0] == "v":
                            self.reads.aliases.setdefault((atom[1], root[1]), scope.at)
            if len(base) == 1 and base[0].kind == "var" and "." not in base[0].text and base[0].text != "$":
                scope.assign(base[0].text, merged, declare=False)
            return merged
        if name == "ternary" and len(values) == 3:
            return values[0] | values[1]
        if name == "required" and values:
            return values[-1]
        if name == "default" and values:
            return frozenset().union(*values)
        if name in _PASS:
            return frozenset().union(*values) if values else NOTHING
        if name in _LOOK:
            return NOTHING
        for value in values:  # anything else takes its arguments whole
            self._whole(value, scope)
        return NOTHING

    def _call(self, name: str, arg: Value, scope: Scope) -> None:
        if name not in self.defines:
            self.reads.missing_templates.add(name)
            return
        key = (name, arg)
        if key in self._called:
            return
        self._called.add(key)
        at = scope.at
        for file, body in self.defines[name]:
            self.run(body, Scope(arg, arg, [{}], f"{file}:0"), file)
        scope.at = at


def _literal(token: Token) -> str:
    if token.kind == "raw":
        return token.text[1:-1]
    if token.kind == "string":
        return json.loads(token.text)
    return token.text


# ---- a chart tree ------------------------------------------------------------------------------------------------

@dataclass
class ChartFiles:
    """One chart of the tree: its Chart.yaml, its template files, where its values sit in the release's."""
    meta: dict[str, Any]
    templates: dict[str, str]  # path ("templates/x.yaml") -> text
    prefix: Path_
    label: str  # how its file names are shown ("grafana/templates/x.yaml")


def chart_reads(charts: list[ChartFiles], dumps: Optional[dict[str, str]] = None) -> Reads:
    """The values paths the templates of a chart and its subcharts read (the parent first); `dumps`: the files
    whose use of the whole .Values is a dump with no effect, by file, with why."""
    interpreter = Interpreter(dumps)
    parsed: list[tuple[ChartFiles, str, list[Node]]] = []
    for chart in charts:
        for path, text in sorted(chart.templates.items()):
            file = f"{chart.label}{path}"
            try:
                nodes = parse(text)
            except ValueError as error:
                raise ValueError(f"{file}: {error}") from None
            interpreter.define_all(file, nodes)
            parsed.append((chart, file, nodes))
    for chart, file, nodes in parsed:
        if chart.meta.get("type") == "library":
            continue
        name = posixpath.basename(file)
        if name.startswith("_") or name == "NOTES.txt" or not name.endswith((".yaml", ".yml", ".tpl", ".txt")):
            continue
        interpreter.render(file, nodes, chart.prefix)
    for chart in charts:  # Helm reads a dependency's condition (the first path that exists) and its tags
        for dependency in chart.meta.get("dependencies") or []:
            for condition in str(dependency.get("condition") or "").split(","):
                if condition.strip():
                    interpreter.reads.add("read", (*chart.prefix, *condition.strip().split(".")),
                                          f"{chart.label}Chart.yaml: dependencies[{dependency['name']}].condition")
            for tag in dependency.get("tags") or []:
                interpreter.reads.add("read", (*chart.prefix, "tags", tag),
                                      f"{chart.label}Chart.yaml: dependencies[{dependency['name']}].tags")
    return interpreter.reads


def reads_document(reads: Reads, header: dict[str, Any]) -> dict[str, Any]:
    """The reads as rows, less what another row implies (is_read): a path read on the way to a longer one, a path
    under one taken whole."""
    whole = set(reads.whole)
    longer = {path[:i] for path in [*reads.read, *reads.whole] for i in range(len(path))}
    rows = [{"path": list(path), "how": "whole", "at": at} for path, at in reads.whole.items()
            if not any(path[:i] in whole for i in range(len(path)))]
    rows += [{"path": list(path), "how": "read", "at": at} for path, at in reads.read.items()
             if path not in longer and path not in whole and not any(path[:i] in whole for i in range(len(path)))]
    rows.sort(key=lambda r: (r["path"], r["how"]))
    return {**header, "paths": rows}


def dumps_document(document: dict[str, Any]) -> str:
    """JSON with one row of `paths` a line (reviewable diffs when a chart moves)."""
    head = json.dumps({k: v for k, v in document.items() if k != "paths"}, indent=1, ensure_ascii=False)
    rows = ",\n".join("  " + json.dumps(row, ensure_ascii=False) for row in document["paths"])
    opening = head[:-2] + ",\n" if len(head) > 2 else "{\n"
    return opening + ' "paths": [\n' + rows + "\n ]\n}\n"


# ---- the pinned charts, from the clones --------------------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[2]
UPSTREAM = ROOT / "tests" / "upstream"


@dataclass
class Row:
    repo: str
    path: str  # of Chart.yaml in the repository; "x.tgz → name/Chart.yaml" for a packaged dependency
    ref: str
    commit: str


def sources_rows(sources_md: str) -> dict[str, Row]:
    """SOURCES.md's rows for the vendored Chart.yaml files, by vendored path."""
    rows = {}
    for line in sources_md.splitlines():
        cells = [c.strip() for c in line.split("|")]
        if len(cells) > 8 and cells[1].startswith("`charts/") and cells[1].endswith("/Chart.yaml`"):
            rows[cells[1].strip("`")] = Row(cells[2], cells[3].replace("`", ""), cells[4].strip("`"),
                                            cells[5].strip("`"))
    return rows


class Snapshot:
    def __init__(self, mirror: Path, repo: str, commit: str) -> None:
        self.git = mirror / repo.replace("/", "+") / "repo"
        self.repo = repo
        self.commit = commit
        if not self.git.is_dir():
            raise SystemExit(f"{self.git} is missing: clone {repo} there (git clone --bare https://github.com/{repo} "
                             f"{self.git}), or name the folder that holds the clones with --mirror")

    def _git(self, *args: str) -> bytes:
        run = subprocess.run(["git", "--git-dir", str(self.git), *args], capture_output=True)
        if run.returncode:
            raise SystemExit(f"git {' '.join(args)} in {self.git} failed ({run.stderr.decode().strip()}): the commit "
                             f"SOURCES.md names for {self.repo} must be in that clone (git --git-dir {self.git} fetch "
                             f"origin {self.commit})")
        return run.stdout

    def show(self, path: str) -> bytes:
        return self._git("show", f"{self.commit}:{path}")

    def files(self, folder: str) -> list[str]:
        return self._git("ls-tree", "-r", "--name-only", self.commit, "--", folder + "/").decode().split()


def _templates_of(files: dict[str, bytes], folder: str) -> dict[str, str]:
    return {p[len(folder) + 1:]: data.decode() for p, data in files.items() if p.startswith(folder + "/templates/")}


def _tree_from_git(snapshot: Snapshot, folder: str) -> dict[str, bytes]:
    return {p: snapshot.show(p) for p in snapshot.files(folder)
            if p.startswith(folder + "/templates/") or p == folder + "/Chart.yaml"
            or re.match(re.escape(folder) + r"/charts/[^/]+/(templates/.*|Chart\.yaml)$", p)}


def _tree_from_tgz(data: bytes) -> dict[str, bytes]:
    out = {}
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        for member in tar.getmembers():
            if member.isfile():
                handle = tar.extractfile(member)
                if handle:
                    out[member.name] = handle.read()
    return out


@dataclass
class Source:
    repo: str
    path: str
    ref: str
    commit: str
    values_key: str


def pinned_tree(chart_dir: str, mirror: Path, rows: dict[str, Row]) -> tuple[list[ChartFiles], list[Source]]:
    """A pinned chart's templates and its dependencies', at the commits SOURCES.md records."""
    row = rows[f"charts/{chart_dir}/Chart.yaml"]
    snapshot = Snapshot(mirror, row.repo, row.commit)
    folder = posixpath.dirname(row.path)
    files = _tree_from_git(snapshot, folder)
    meta = yaml.safe_load(files[f"{folder}/Chart.yaml"])
    charts = [ChartFiles(meta, _templates_of(files, folder), (), "")]
    sources = [Source(row.repo, folder + "/templates/", row.ref, row.commit, "")]
    for dependency in meta.get("dependencies") or []:
        key = dependency.get("alias") or dependency["name"]
        sub_row = next((r for vendored, r in rows.items()
                        if vendored.startswith(f"charts/{chart_dir}/charts/")
                        and yaml.safe_load((UPSTREAM / vendored).read_text())["name"] == dependency["name"]), None)
        sub_files: dict[str, bytes]
        if sub_row and "→" in sub_row.path:  # a packaged dependency: the .tgz in the parent's tree
            tgz = sub_row.path.split("→")[0].strip()
            sub_files = _tree_from_tgz(Snapshot(mirror, sub_row.repo, sub_row.commit).show(tgz))
            sub_folder = dependency["name"]
            source = Source(sub_row.repo, f"{tgz} → {sub_folder}/templates/", sub_row.ref, sub_row.commit, key)
        elif sub_row:
            sub_snapshot = Snapshot(mirror, sub_row.repo, sub_row.commit)
            sub_folder = posixpath.dirname(sub_row.path)
            sub_files = _tree_from_git(sub_snapshot, sub_folder)
            source = Source(sub_row.repo, sub_folder + "/templates/", sub_row.ref, sub_row.commit, key)
        elif f"{folder}/charts/{dependency['name']}/Chart.yaml" in files \
                or any(p.startswith(f"{folder}/charts/{dependency['name']}/") for p in files):
            sub_folder = f"{folder}/charts/{dependency['name']}"
            sub_files = {p: d for p, d in files.items() if p.startswith(sub_folder + "/")}
            source = Source(row.repo, sub_folder + "/templates/", row.ref, row.commit, key)
        else:
            print(f"{chart_dir}: dependency {dependency['name']} {dependency.get('version')} not in the pinned tree "
                  "and not vendored: only its condition counts", file=sys.stderr)
            continue
        sub_meta = yaml.safe_load(sub_files[f"{sub_folder}/Chart.yaml"])
        if str(sub_meta.get("version")) != str(dependency.get("version")):
            raise SystemExit(f"{chart_dir}: dependency {dependency['name']} is pinned at {dependency.get('version')} "
                             f"but {source.path} at {source.commit[:12]} is {sub_meta.get('version')}: vendor the "
                             "pinned version's Chart.yaml (its row in SOURCES.md) first")
        charts.append(ChartFiles(sub_meta, _templates_of(sub_files, sub_folder), (key,), f"{key}/"))
        sources.append(source)
    return charts, sources


# Templates that print a chart's whole .Values where it changes nothing, so that use reads no key (the keys they name
# one by one still count).
DUMPS = {
    "istiod": {
        "templates/configmap-values.yaml":
            "istio 1.30.3 manifests/charts/istio-control/istio-discovery/templates/configmap-values.yaml:7-21: the "
            "values ConfigMap 'is rendered for debugging purposes and external tooling; modifying these values has "
            "no effect' (merged-values: {{ .Values | toPrettyJson }})",
    },
}


def generate(chart_dir: str, mirror: Path, rows: dict[str, Row]) -> dict[str, Any]:
    charts, sources = pinned_tree(chart_dir, mirror, rows)
    reads = chart_reads(charts, DUMPS.get(chart_dir))
    digest = hashlib.sha256()
    for chart in charts:
        for path, text in sorted(chart.templates.items()):
            digest.update(f"{chart.label}{path}\0{text}\0".encode())
    header = {
        "_comment": "Derived data, not a copy: the .Values paths the chart's templates read, extracted by "
                    "offline/maintenance/helm_reads.py from the templates at the commits below. 'read': a template "
                    "reads the path; 'whole': the node is used whole (printed, toYaml, ranged over, ...), so every "
                    "key under it is read. Subcharts' paths sit under their values key; 'at' is the first "
                    "template line found.",
        "chart": charts[0].meta["name"],
        "sources": [vars(s) for s in sources],
        "templates_sha256": digest.hexdigest(),
        "undefined_templates": sorted(reads.missing_templates),
        "aliases": [{"from": list(a), "to": list(b), "at": at} for (a, b), at in sorted(reads.aliases.items())],
        "dumps": DUMPS.get(chart_dir, {}),
    }
    return reads_document(reads, header)


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mirror", type=Path, default=Path("/work/.mirror"),
                        help="the folder of git clones, one per repository at <owner>+<name>/repo (default "
                             "%(default)s)")
    parser.add_argument("--chart", action="append", help="an upstream_dir of pins.json (default: every pinned one)")
    args = parser.parse_args(argv)
    pins = json.loads((ROOT / "components" / "llmplatform" / "data" / "pins.json").read_text())
    rows = sources_rows((UPSTREAM / "SOURCES.md").read_text())
    for chart_dir in args.chart or sorted(c["upstream_dir"] for c in pins["charts"].values()):
        document = generate(chart_dir, args.mirror, rows)
        out = UPSTREAM / "charts" / chart_dir / "values-read.json"
        out.write_text(dumps_document(document))
        print(f"{out.relative_to(ROOT)}: {len(document['paths'])} paths", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
