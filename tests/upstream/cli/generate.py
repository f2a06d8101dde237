"""Writes tests/upstream/cli/<cli>.txt: what each upstream CLI the docs run accepts, one line per command.

    python tests/upstream/cli/generate.py az --python /tmp/az/bin/python       # a venv with `pip install azure-cli==V`
    python tests/upstream/cli/generate.py kubectl [--kubectl kubectl]          # any kubectl on PATH: its --help
    python tests/upstream/cli/generate.py pulumi --git-dir <pulumi/pulumi .git> --ref v3.X.Y
    python tests/upstream/cli/generate.py helm --git-dir <helm/helm .git> --ref v4.X.Y

The file format (read by tests/program/test_docs_upstream_clis.py):
    # comments: the source and version
    global: <flags every command takes>
    group <path>                  a command group that runs nothing itself (`az aks nodepool`, `kubectl rollout`)
    cmd <path>: <flags>           a command and the flags it takes (besides the global ones)
A flag that takes a value ends with `=` (`--namespace=`); one that takes none (a switch) does not. az marks a
command or flag its CLI calls deprecated, preview or experimental with `[deprecated]` etc. after it
(`cmd acr repository show-manifests [deprecated]: ...`, `--dnl-scope=[preview]`).

az: Azure CLI's own argument parser, built the way `az <command>` builds it (azure-cli-core
`commands/__init__.py` `AzCliCommandInvoker.execute`: the command table, the arguments, the events that add
`--subscription`, `--ids` and the cache arguments, then `parser.load_command_table`), for every command of the
groups in AZ_GROUPS. kubectl: `kubectl <command> --help` ("Options:") and `kubectl options` (global).
pulumi and helm: the cobra flag definitions in the Go source (`cmd.Flags()`/`cmd.PersistentFlags()` calls with a
literal name; a persistent flag also goes to the command's children), the command tree from the functions that
build a `cobra.Command{Use: ...}` and the command functions each one calls.
"""
from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
# the az groups whose every command is written (the docs' groups; add one when a page runs a new group): the whole
# top-level group, or for the large ones (network, security) the subgroup the docs run
AZ_GROUPS = ("account", "acr", "aks", "backup", "extension", "feature", "group", "keyvault", "lock", "login",
             "monitor diagnostic-settings", "monitor log-analytics workspace", "network vnet", "postgres", "provider",
             "resource", "rest", "role", "security pricing", "storage share-rm", "vm")
# a pulumi/helm command's source dirs (the cobra commands)
GO_DIRS = {"pulumi": ("pkg/cmd/pulumi/", "pkg/util/outputflag/"), "helm": ("pkg/cmd/", "pkg/cli/")}
GO_ROOT = {"pulumi": "pulumi", "helm": "helm"}


def write(cli: str, header: list[str], global_flags: set[str], groups: set[str], commands: dict[str, set[str]]) -> None:
    lines = [f"# {line}" for line in header] + [f"global: {' '.join(sorted(global_flags))}"]
    lines += [f"group {g}" for g in sorted(groups) if g and g not in commands]
    names = {g.rstrip("=") for g in global_flags}
    lines += [f"cmd {c}: {' '.join(sorted(f for f in flags if f.split('[')[0].rstrip('=') not in names))}"
              for c, flags in sorted(commands.items())]
    (HERE / f"{cli}.txt").write_text("\n".join(lines) + "\n")
    print(f"{cli}.txt: {len(commands)} commands, {len(groups)} groups")


AZ_DUMP = r'''
import argparse, json, sys
from azure.cli.core import get_default_cli, __version__
from azure.cli.core.commands.events import EVENT_INVOKER_PRE_LOAD_ARGUMENTS, EVENT_INVOKER_POST_LOAD_ARGUMENTS
from knack import events
cli = get_default_cli()
inv = cli.invocation_cls(cli_ctx=cli, parser_cls=cli.parser_cls, commands_loader_cls=cli.commands_loader_cls,
                         help_cls=cli.help_cls)
cli.invocation = inv
loader = inv.commands_loader
loader.load_command_table(None)
loader.command_name = None
cli.raise_event(EVENT_INVOKER_PRE_LOAD_ARGUMENTS, commands_loader=loader)
loader.load_arguments(None)
cli.raise_event(EVENT_INVOKER_POST_LOAD_ARGUMENTS, commands_loader=loader)
cli.raise_event(events.EVENT_INVOKER_POST_CMD_TBL_CREATE, commands_loader=loader)
inv.parser.load_command_table(loader)
out = {"version": __version__, "commands": {}, "groups": []}
STATUS = (("deprecate_info", "deprecated"), ("preview_info", "preview"), ("experimental_info", "experimental"))
def status(item):
    return next((word for attr, word in STATUS if (item.get(attr) if isinstance(item, dict) else
                                                    getattr(item, attr, None))), "")
def marks(name):
    """option -> deprecated/preview/experimental, from the command's arguments (an alias deprecated alone too)"""
    found = {}
    for arg in loader.command_table[name].arguments.values():
        settings = arg.type.settings
        for option in settings.get("options_list") or []:
            word = "deprecated" if not isinstance(option, str) else status(settings)
            if word:
                found[getattr(option, "target", option)] = word
    return found
def walk(parser, path):
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        name = " ".join(path)
        mark = marks(name)
        out["commands"][name + (f" [{status(loader.command_table[name])}]" if status(loader.command_table[name])
                                else "")] = sorted(
            o + ("" if a.nargs == 0 else "=") + (f"[{mark[o]}]" if o in mark else "")
            for a in parser._actions for o in a.option_strings)
        return
    out["groups"].append(" ".join(path))
    for a in subs:
        for name, child in a.choices.items():
            walk(child, path + [name])
walk(inv.parser, [])
json.dump(out, open(sys.argv[1], "w"))
'''


def az(python: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        script, out = Path(tmp) / "dump.py", Path(tmp) / "az.json"
        script.write_text(AZ_DUMP)
        subprocess.run([python, str(script), str(out)], check=True, cwd=tmp,
                       env={"AZURE_CONFIG_DIR": tmp, "PATH": "/usr/bin:/bin", "HOME": tmp})
        dump = json.loads(out.read_text())
    def written(path: str) -> bool:
        return any(path == g or path.startswith(g + " ") for g in AZ_GROUPS)
    commands = {c: set(f) for c, f in dump["commands"].items() if written(c.split(" [")[0])}
    global_flags = set.intersection(*commands.values())
    groups = {g for g in dump["groups"] if written(g) or any(a.startswith(g + " ") for a in AZ_GROUPS)}
    tops = sorted({c.split()[0] for c in dump["commands"]})
    write("az", [f"azure-cli {dump['version']} (PyPI), its argument parser as `az <command>` builds it "
                 "(generate.py az); groups written: " + ", ".join(AZ_GROUPS),
                 "all top-level groups: " + " ".join(tops)], global_flags, groups, commands)


def _kubectl_help(kubectl: str, path: list[str]) -> str:
    return subprocess.run([kubectl, *path, "--help"], capture_output=True, text=True, check=True).stdout


def _kubectl_flags(text: str) -> set[str]:
    flags = set()
    for short, long, default in re.findall(r"^\s+(?:(-\w), )?(--[\w-]+)=(\S*):\s*$", text, flags=re.M):
        value = "" if default in ("true", "false") else "="
        flags |= {long + value} | ({short + value} if short else set())
    return flags


def _kubectl_children(text: str) -> list[str]:
    section = re.search(r"^Available Commands:\n(.*?)\n\n", text, flags=re.M | re.S)
    return re.findall(r"^  ([\w-]+)\s", section.group(1), flags=re.M) if section else []


def kubectl(binary: str) -> None:
    version = subprocess.run([binary, "version", "--client"], capture_output=True, text=True).stdout.split("\n")[0]
    root = _kubectl_help(binary, [])
    tops = [n for n in re.findall(r"^  ([a-z][\w-]*)\s{2,}", root.split("Usage:")[0], flags=re.M)]
    global_flags = _kubectl_flags(subprocess.run([binary, "options"], capture_output=True, text=True).stdout)
    global_flags |= {"--help", "-h"}  # cobra's own, on every command
    commands, groups = {}, set()

    def visit(path: list[str]) -> None:
        text = _kubectl_help(binary, path)
        children = _kubectl_children(text)
        if children:
            groups.add(" ".join(path))
            for child in children:
                visit(path + [child])
        # a group that also runs (`kubectl rollout SUBCOMMAND` does not; `kubectl create -f FILENAME` and
        # `kubectl cluster-info` do)
        usage = text.split("Usage:", 1)[-1].strip().split("\n")[0]
        if not children or not re.search(r"SUBCOMMAND|\[command\]|<command>", usage):
            commands[" ".join(path)] = _kubectl_flags(text.split("Options:", 1)[1] if "Options:" in text else "")

    for top in tops:
        visit([top])
    write("kubectl", [f"kubectl {version.split(':', 1)[-1].strip()}: `kubectl <command> --help` and `kubectl "
                      "options` (generate.py kubectl)"], global_flags, groups, commands)


GO_FLAG = re.compile(r"(\w+(?:\(\))?)\s*\.\s*(?:Bool|String|Int|Int8|Int16|Int32|Int64|Uint|Uint8|Uint16|Uint32|Uint64|"
                     r"Float32|Float64|Duration|IP|IPMask|IPNet|Count|StringSlice|StringArray|StringToString|"
                     r"StringToInt|IntSlice|Int32Slice|Int64Slice|UintSlice|BoolSlice|DurationSlice|Float64Slice|"
                     r"BytesHex|BytesBase64|Var)?(Var)?(P)?F?\(")


def _go_functions(source: str) -> dict[str, str]:
    """Top-level funcs (and methods) of a Go file: name -> body."""
    funcs = {}
    for m in re.finditer(r"^func (?:\([^)]*\) )?(\w+)(?:\[[^\]]*\])?\(.*?^}", source, flags=re.M | re.S):
        funcs[m.group(1)] = m.group(0)
    return funcs


def _go_args(text: str, start: int) -> list[str]:
    """The top-level arguments of the call whose `(` is at start - 1."""
    depth, args, current, i, quote = 1, [], "", start, ""
    while i < len(text) and depth:
        ch = text[i]
        if quote:
            current += ch
            if ch == "\\" and quote == '"':
                current += text[i + 1]
                i += 1
            elif ch == quote:
                quote = ""
        elif ch in "\"`'":
            quote, current = ch, current + ch
        elif ch in "([{":
            depth, current = depth + 1, current + ch
        elif ch in ")]}":
            depth -= 1
            if depth:
                current += ch
        elif ch == "," and depth == 1:
            args, current = args + [current.strip()], ""
        else:
            current += ch
        i += 1
    return args + ([current.strip()] if current.strip() else [])


def _go_flags(body: str, persistent_names: set[str]) -> list[tuple[str, bool]]:
    """(flag, persistent) for each flag definition in a function body with a literal name."""
    aliases = dict(re.findall(r"(\w+)\s*:?=\s*\w+\.(Persistent)?Flags\(\)", body))
    found = []
    for m in GO_FLAG.finditer(body):
        receiver, var, short = m.group(1), m.group(2), m.group(3)
        kind = m.group(0)[len(receiver):].strip().lstrip(".").split("(")[0]
        before = body[max(0, m.start() - 40):m.start() + len(receiver)]
        if receiver.endswith("Flags()"):
            persistent = "PersistentFlags()" in before[-len("PersistentFlags()") - 1:] or \
                body[m.start() - 11:m.start()].endswith("Persistent")
        elif receiver in aliases:
            persistent = aliases[receiver] == "Persistent"
        elif receiver in persistent_names | {"fs", "f", "flags", "flagSet"}:
            persistent = receiver in persistent_names
        else:
            continue
        args = _go_args(body, m.end())
        if var or kind.startswith("Var"):  # Var, VarP, VarPF: a pflag.Value first
            args = args[1:]
        literals = [a for a in args[:2] if re.fullmatch(r'"[^"]*"', a)]
        if not literals:
            continue
        takes_value = not kind.startswith("Bool") or "Slice" in kind
        if kind.startswith("Var"):  # a pflag.Value: a switch only if it says so (IsBoolFlag); taken as a value
            takes_value = True
        suffix = "=" if takes_value else ""
        found.append(("--" + literals[0].strip('"') + suffix, persistent))
        if short and len(args) > 1 and re.fullmatch(r'"\w"', args[1]):
            found.append(("-" + args[1].strip('"') + suffix, persistent))
    return found


def go_cli(cli: str, git_dir: str, ref: str) -> None:
    git = ["git", f"--git-dir={git_dir}"]
    commit = subprocess.run([*git, "rev-parse", f"{ref}^{{commit}}"], capture_output=True, text=True,
                            check=True).stdout.strip()
    files = [f for f in subprocess.run([*git, "ls-tree", "-r", "--name-only", commit, *GO_DIRS[cli]],
                                       capture_output=True, text=True, check=True).stdout.split()
             if f.endswith(".go") and not f.endswith("_test.go") and "/testdata/" not in f]
    funcs: dict[str, str] = {}
    for f in files:
        source = subprocess.run([*git, "show", f"{commit}:{f}"], capture_output=True, text=True, check=True).stdout
        for name, body in _go_functions(source).items():
            funcs[name if name not in funcs else f"{f}:{name}"] = body  # a clash: the first keeps the name
    uses = {name: re.search(r'\bUse:\s*"([\w-]+)', body) for name, body in funcs.items()}
    command_funcs = {name: m.group(1) for name, m in uses.items() if m}
    aliases = {name: re.findall(r'"([\w-]+)"', a.group(1)) for name, body in funcs.items()
               if name in command_funcs and (a := re.search(r"\bAliases:\s*\[\]string\{([^}]*)\}", body))}
    calls = {name: [c for c in re.findall(r"\b(\w+)\(", body) if c != name and c in funcs]
             for name, body in funcs.items()}
    runnable = {name for name in command_funcs if re.search(r"\bRunE?:", funcs[name])}

    helper_flags: dict[str, list[tuple[str, bool]]] = {}

    def flags_of(name: str) -> list[tuple[str, bool]]:
        """A command function's flags: its own and those of the helpers it calls (and they call) that build no
        command; a helper's flags are persistent where the call passes `PersistentFlags()`."""
        found = _go_flags(funcs[name], set())
        stack, seen = [name], {name}
        while stack:
            caller = stack.pop()
            for callee in calls[caller]:
                if callee in command_funcs or callee in seen:
                    continue
                seen.add(callee)
                stack.append(callee)
                if callee not in helper_flags:
                    helper_flags[callee] = _go_flags(funcs[callee], set())
                persistent_vars = {v for v, p in re.findall(r"(\w+)\s*:?=\s*\w+\.(Persistent)?Flags\(\)",
                                                             funcs[caller]) if p}
                persistent_call = any("PersistentFlags()" in args or set(re.findall(r"\w+", args)) & persistent_vars
                                      for m in re.finditer(rf"\b{callee}\(", funcs[caller])
                                      for args in [" ".join(_go_args(funcs[caller], m.end()))])
                found += [(f, p or persistent_call) for f, p in helper_flags[callee]]
        return found

    def descendants(name: str) -> list[str]:
        """The command functions a command function builds as children (through helpers that build none)."""
        out, stack, seen = [], [name], {name}
        while stack:
            for callee in calls[stack.pop()]:
                if callee in seen:
                    continue
                seen.add(callee)
                if callee in command_funcs:
                    out.append(callee)
                else:
                    stack.append(callee)
        return out

    [root] = [n for n, use in command_funcs.items() if use == GO_ROOT[cli] and descendants(n)][:1] or [None]
    commands: dict[str, set[str]] = {}
    groups: set[str] = set()
    global_flags = {f for f, p in flags_of(root) if p} | {"--help", "-h"}  # cobra's own, on every command

    def visit(name: str, path: list[str] | None, inherited: set[str], seen: frozenset[str]) -> None:
        own = flags_of(name)
        flags = inherited | {f for f, _ in own}
        children = [c for c in dict.fromkeys(descendants(name)) if c not in seen]
        for here in [path + [word] for word in [command_funcs[name], *aliases.get(name, [])]] if path is not None \
                else [[]]:
            if children and name not in runnable:
                groups.add(" ".join(here))
            else:
                commands[" ".join(here)] = flags
            for child in children:
                visit(child, here, inherited | {f for f, p in own if p}, seen | {name})

    visit(root, None, set(), frozenset())
    commands.pop("", None)
    write(cli, [f"{cli} {ref} ({commit}): the cobra flag definitions in {' '.join(GO_DIRS[cli])} "
                f"(generate.py {cli} --ref {ref})"], global_flags, groups, commands)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="cli", required=True)
    sub.add_parser("az").add_argument("--python", required=True, help="a Python with azure-cli installed")
    sub.add_parser("kubectl").add_argument("--kubectl", default="kubectl")
    for cli in ("pulumi", "helm"):
        p = sub.add_parser(cli)
        p.add_argument("--git-dir", required=True)
        p.add_argument("--ref", required=True)
    args = parser.parse_args()
    if args.cli == "az":
        az(args.python)
    elif args.cli == "kubectl":
        kubectl(args.kubectl)
    else:
        go_cli(args.cli, args.git_dir, args.ref)


if __name__ == "__main__":
    sys.exit(main())
