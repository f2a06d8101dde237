"""Every `az`, `kubectl`, `pulumi` and `helm` command the docs give an operator names a subcommand that exists and
passes only flags that subcommand (or the CLI globally) takes, by the upstream CLIs' own definitions vendored in
tests/upstream/cli/ (generate.py there writes them; the versions are in each file's header and in
tests/upstream/SOURCES.md). A flag renamed or removed upstream, a subcommand that does not exist, or a flag given to
the wrong subcommand fails here, naming the page, the command and the word. Reads text only: no CLI runs."""
from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from tests.conftest import PROJECT_DIR
from tests.program.test_docs import CURRENT_DOCS, _inline_code

CLIS = ("az", "kubectl", "pulumi", "helm")
REFERENCE = PROJECT_DIR / "tests" / "upstream" / "cli"
DOCS = CURRENT_DOCS + [PROJECT_DIR / "endpoint-tools" / "README.md"]
# a fenced block of these languages is shell (an unnamed one too); others (yaml, text, promql, ...) are not run
SHELL_BLOCKS = {"", "bash", "sh", "shell", "console", "zsh"}
# words before a command that leave it the command (`sudo az ...`, `for r in a b; do pulumi up -s $r; done`)
PREFIXES = {"sudo", "time", "command", "exec", "do", "then", "else", "!", "{", "nohup"}
# a `<placeholder>` the reader fills in (`<release>`, `<1.36.x>`, `<resource name>`), not a redirection (`< file`)
PLACEHOLDER = re.compile(r"<[A-Za-z0-9_][^<>\n]*?>")


@dataclass
class Reference:
    """What one CLI accepts: each command path's flags and the global ones (flag -> takes a value)."""
    name: str
    header: str = ""
    global_flags: dict[str, bool] = field(default_factory=dict)
    groups: set[tuple[str, ...]] = field(default_factory=set)
    commands: dict[tuple[str, ...], dict[str, bool]] = field(default_factory=dict)
    # what the CLI calls deprecated, preview or experimental: (path,) for a command, (path, flag) for a flag
    marked: dict[tuple, str] = field(default_factory=dict)

    def is_path(self, path: tuple[str, ...]) -> bool:
        return path in self.groups or path in self.commands

    def flags(self, path: tuple[str, ...]) -> dict[str, bool]:
        return {**self.global_flags, **self.commands.get(path, {})}


def _flags(words: str) -> dict[str, tuple[bool, str]]:
    """flag -> (takes a value, what the CLI marks it: deprecated, preview, experimental or "")"""
    found = {}
    for word in words.split():
        word, _, mark = word.partition("[")
        found[word.rstrip("=")] = (word.endswith("="), mark.rstrip("]"))
    return found


@cache
def reference(cli: str) -> Reference:
    """tests/upstream/cli/<cli>.txt (and for az the hand-transcribed extensions' az-extensions.txt)."""
    ref = Reference(cli)
    files = [REFERENCE / f"{cli}.txt"] + ([REFERENCE / "az-extensions.txt"] if cli == "az" else [])
    for path in files:
        for line in path.read_text().splitlines():
            if line.startswith("#"):
                ref.header += line[1:].strip() + " " if path.name == f"{cli}.txt" else ""
            elif line.startswith("global:"):
                ref.global_flags |= {f: value for f, (value, _) in _flags(line.split(":", 1)[1]).items()}
            elif line.startswith("group "):
                ref.groups.add(tuple(line[len("group "):].split()))
            elif line.startswith("cmd "):
                command, _, flags = line[len("cmd "):].partition(":")
                words, _, mark = command.partition(" [")
                path = tuple(words.split())
                ref.commands[path] = {f: value for f, (value, _) in _flags(flags).items()}
                ref.marked |= {(path, f): m for f, (_, m) in _flags(flags).items() if m}
                if mark:
                    ref.marked[(path,)] = mark.rstrip("]")
    for path in list(ref.commands) + list(ref.groups):  # every prefix of a command is a group of it
        ref.groups |= {path[:i] for i in range(1, len(path))}
    return ref


def _substitutions(line: str) -> tuple[str, list[str]]:
    """A shell line with each `$(...)` a word `VALUE`, and the commands inside them (nested ones too); a `)` in
    single quotes inside (`jq '.a | select(.b)'`) does not end it."""
    inner, out, i = [], "", 0
    while i < len(line):
        if line.startswith("$(", i):
            depth, j, quoted = 1, i + 2, False
            while j < len(line) and depth:
                ch = line[j]
                if ch == "'":
                    quoted = not quoted
                elif quoted:
                    pass
                elif ch == "(":
                    depth += 1
                elif ch == ")":
                    depth -= 1
                j += 1
            body = line[i + 2:j - 1]
            rest, nested = _substitutions(body)
            inner += [rest] + nested
            out += "VALUE"
            i = j
        else:
            out += line[i]
            i += 1
    return out, inner


def _segments(line: str) -> list[list[str]]:
    """The simple commands of a shell line as the shell splits them: up to `|`, `&&`, `||`, `;`, `&`, `(`, `)`,
    redirections and comments dropped."""
    lexer = shlex.shlex(PLACEHOLDER.sub("VALUE", line), posix=True, punctuation_chars="|&;()<>")
    lexer.whitespace_split = True
    lexer.commenters = "#"
    try:
        tokens = list(lexer)
    except ValueError:  # an unclosed quote (a span broken mid-string): words as split on spaces
        tokens = line.split()
    segments, words, skip = [], [], False
    for token in tokens:
        if skip:
            skip = False
        elif token and set(token) <= set("|&;()<>"):
            if set(token) & set("<>"):  # a redirection: its target (a file, `&1`'s 1) is no argument
                if words and words[-1].isdigit():
                    words.pop()
                skip = True
                continue
            segments.append(words)
            words = []
        else:
            words.append(token)
    return segments + [words]


def cli_commands(text: str) -> list[tuple[str, list[str], str]]:
    """(cli, its arguments, the line) for each az/kubectl/pulumi/helm command of a page: every command position of
    a shell block's lines (a line continued with `\\` joined; inside `$(...)` too), and an inline code span that is
    itself such a command (`pulumi up --replace`, not a sentence about kubectl)."""
    lines = [(line, True) for lang, block in re.findall(r"```(\w*)[^\n]*\n(.*?)```", text, flags=re.S)
             if lang in SHELL_BLOCKS for line in re.sub(r"\\\n\s*", " ", block).splitlines()]
    lines += [(span, False) for span in _inline_code(text)]
    found = []
    for line, block in lines:
        outer, inner = _substitutions(line)
        for i, code in enumerate([outer] + inner):
            for words in _segments(code):
                while words and (re.match(r"[A-Za-z_]\w*=", words[0]) or words[0] in PREFIXES):
                    words = words[1:]
                if words and words[0] in CLIS and (block or i or code is outer and line.lstrip().startswith(
                        words[0])):
                    found.append((words[0], words[1:], " ".join(line.split())))
                if not block:
                    break  # a span: its first command only
    return found


def _split_short(word: str, flags: dict[str, bool]) -> list[str]:
    """`-it` as `-i -t` (pflag and argparse both take joined short switches), when the joined word is no flag."""
    if re.fullmatch(r"-[A-Za-z]{2,}", word) and word not in flags and all(f"-{c}" in flags for c in word[1:]):
        return [f"-{c}" for c in word[1:]]
    return [word]


def parse(cli: str, args: list[str], line: str = "") -> tuple[tuple[str, ...], list[str]]:
    """The command path the arguments name (the longest the CLI has) and what the CLI would refuse in them: a
    subcommand it does not have, a flag the command does not take; and what it will soon refuse: a command or flag
    it calls deprecated, or one it calls preview or experimental on a line (its comment included) that does not say
    so."""
    ref = reference(cli)
    path: tuple[str, ...] = ()
    flags: list[tuple[tuple[str, ...], str]] = []
    positional_seen, i = False, 0
    while i < len(args):
        word = args[i]
        i += 1
        if word == "--":
            break
        if word.startswith("-") and len(word) > 1 and not re.fullmatch(r"-\d[\d.]*", word):
            name, eq, _ = word.partition("=")
            for flag in _split_short(name, ref.flags(path)):
                flags.append((path, flag))
                takes_value = ref.flags(path).get(flag, False)
                if takes_value and not eq and i < len(args) and not args[i].startswith("-"):
                    i += 1
            continue
        if positional_seen or path in ref.commands and path not in ref.groups:
            positional_seen = True
            continue
        if ref.is_path(path + (word,)):
            path += (word,)
        elif path in ref.commands:
            positional_seen = True  # an argument of a command (`pulumi stack output kubeconfig`)
        elif not path and cli == "az" and word not in {p[0] for p in ref.groups | set(ref.commands)}:
            known = re.search(r"all top-level groups: (.*?)(?: #|$)", ref.header)
            where = "it is no top-level group of the Azure CLI nor of an extension the docs add" if not known or \
                word not in known.group(1).split() else "add its group to AZ_GROUPS in tests/upstream/cli/generate.py"
            return path, [f"`az {word}` is not in tests/upstream/cli/az.txt: {where}"]
        else:
            under = f"`{cli} {' '.join(path)}`" if path else cli
            children = sorted({p[len(path)] for p in ref.groups | set(ref.commands)
                               if len(p) > len(path) and p[:len(path)] == path})
            return path, [f"{under} has no subcommand `{word}` (it has: {', '.join(children)})"]
    # a group named in prose (`az afd`) is no command; given flags (but help), it is run as one
    problems = [] if path in ref.commands or not {f for _, f in flags} - {"--help", "-h"} else [
        f"`{cli} {' '.join(path)}`".replace(" `", "`") + " is a group of commands, not one: name its subcommand"]
    for at, flag in flags if path in ref.commands else []:
        # a flag given before the subcommand (`kubectl -n llm get`) is a global one or the final command's
        if flag not in ref.flags(path) and flag not in ref.flags(at):
            problems.append(f"`{cli} {' '.join(path)}` takes no flag `{flag}`")
    version = " ".join(ref.header.split()[:2])
    for key in [(path,)] + [(path, flag) for _, flag in flags]:
        mark = ref.marked.get(key)
        if mark == "deprecated" or mark and not re.search(mark, line, flags=re.I):
            what = f"`{cli} {' '.join(path)}`" + (f" flag `{key[1]}`" if len(key) > 1 else "")
            problems.append(f"{what} is {mark} in {version}" + ("" if mark == "deprecated" else ": say so"))
    return path, problems


def command_problems(cli: str, args: list[str], line: str = "") -> list[str]:
    return parse(cli, args, line)[1]


def docs_command_problems(pages: list[Path]) -> list[str]:
    return [f"{page.relative_to(PROJECT_DIR)}: `{line}`: {problem}" for page in pages
            for cli, args, line in cli_commands(page.read_text()) for problem in command_problems(cli, args, line)]


def test_every_cli_command_in_the_docs_is_one_the_cli_takes():
    """Each az/kubectl/pulumi/helm command of the docs: its subcommand exists, every flag is one it takes."""
    commands = [(page, cli) for page in DOCS for cli, *_ in cli_commands(page.read_text())]
    assert {cli for _, cli in commands} == set(CLIS), "the docs run all four CLIs"
    assert len(commands) > 300
    assert docs_command_problems(DOCS) == []


PLANTED = """Restart it:

```bash
export NS=$(pulumi stack output llmdNamespace --stack llmd --show-secret)
kubectl -n "$NS" rollout restart deployment/vllm --field-manager=ops && \\
  kubectl -n "$NS" rollout status deployment/vllm --field-manager=ops
for r in a b; do pulumi up -s $r --yes --non-interactive > $r.log 2>&1 & done; wait
az aks update -g rg -n aks --disable-defnder
az afd origin updat -g rg --profile-name p --origin-group-name g --origin-name o --enabled-state Disabled
az acr repository show-manifests -n reg --repository app
az aks update -g rg -n aks --node-provisioning-mode Auto
az aks update -g rg -n aks --node-provisioning-mode Auto   # preview: register the feature first
```

then `pulumi destroy --target "$URN" --target-dependents --exclude-protected` and `helm uninstall r -n ns --purge`;
`kubectl` alone names the CLI, `az sql server list` a group the reference does not hold, `kubectl rollout --all`
runs a group, `kubectl rollout --help` shows one.
"""


def test_the_check_names_the_page_the_command_and_the_word_it_refuses(tmp_path):
    """A planted wrong flag, a flag given to the wrong subcommand, a wrong subcommand, a group run as a command, a
    deprecated command and a preview flag on a line that does not say so each fail, with the page, the command as
    written and the word; what the CLIs take passes (a `$(...)`, a flag before the subcommand and its value, a `\\`
    continuation, a redirection, a `for ... do` loop)."""
    page = tmp_path / "runbook.md"
    page.write_text(PLANTED)
    problems = [p.split(": ", 1)[1] for p in docs_command_problems_at(page, tmp_path)]
    assert problems == [
        "`export NS=$(pulumi stack output llmdNamespace --stack llmd --show-secret)`: `pulumi stack output` takes no "
        "flag `--show-secret`",
        '`kubectl -n "$NS" rollout restart deployment/vllm --field-manager=ops && kubectl -n "$NS" rollout status '
        'deployment/vllm --field-manager=ops`: `kubectl rollout status` takes no flag `--field-manager`',
        "`az aks update -g rg -n aks --disable-defnder`: `az aks update` takes no flag `--disable-defnder`",
        "`az afd origin updat -g rg --profile-name p --origin-group-name g --origin-name o --enabled-state Disabled`: "
        "`az afd origin` has no subcommand `updat` (it has: update)",
        "`az acr repository show-manifests -n reg --repository app`: `az acr repository show-manifests` is deprecated "
        "in azure-cli 2.91.0",
        "`az aks update -g rg -n aks --node-provisioning-mode Auto`: `az aks update` flag `--node-provisioning-mode` "
        "is preview in azure-cli 2.91.0: say so",
        "`helm uninstall r -n ns --purge`: `helm uninstall` takes no flag `--purge`",
        "`az sql server list`: `az sql` is not in tests/upstream/cli/az.txt: add its group to AZ_GROUPS "
        "in tests/upstream/cli/generate.py",
        "`kubectl rollout --all`: `kubectl rollout` is a group of commands, not one: name its subcommand"]
    assert docs_command_problems_at(page, tmp_path)[0].startswith("runbook.md: `export NS=$(pulumi stack output ")


def docs_command_problems_at(page: Path, root: Path) -> list[str]:
    return [f"{page.relative_to(root)}: `{line}`: {problem}" for cli, args, line in cli_commands(page.read_text())
            for problem in command_problems(cli, args, line)]


def test_the_reference_holds_what_each_cli_is_known_to_take():
    """The vendored reference is read as written: flags of a command, the CLI's global ones, short forms, and the
    switches apart from the flags that take a value (a reference that lost a file or a format change fails here)."""
    az, kubectl, pulumi, helm = (reference(cli) for cli in CLIS)
    assert az.flags(("aks", "update"))["--disable-defender"] is False and az.flags(("aks", "update"))["-g"]
    assert {"--query", "-o", "--subscription"} <= set(az.flags(("keyvault", "secret", "show")))
    assert ("fleet", "updaterun", "create") in az.commands and ("afd", "origin") in az.groups
    assert az.marked[(("acr", "repository", "show-manifests"),)] == "deprecated"
    assert az.marked[(("aks", "update"), "--node-provisioning-mode")] == "preview"
    assert kubectl.flags(("rollout", "restart"))["--field-manager"] and "--field-manager" not in kubectl.flags(
        ("rollout", "status"))
    assert kubectl.flags(("get",))["-n"] and ("rollout",) in kubectl.groups and ("rollout",) not in kubectl.commands
    assert {"--show-urns", "-u"} <= set(pulumi.flags(("stack",))) and pulumi.flags(("destroy",))["--target"]
    assert pulumi.flags(("up",))["--non-interactive"] is False and pulumi.flags(("up",))["-s"]
    assert helm.flags(("uninstall",))["-n"] and "--purge" not in helm.flags(("uninstall",))


def test_each_reference_is_the_version_sources_md_records():
    """A regenerated reference (another version or commit in its header) is recorded in tests/upstream/SOURCES.md."""
    sources = (REFERENCE.parent / "SOURCES.md").read_text().splitlines()
    for cli in CLIS:
        header = reference(cli).header
        version = re.search(rf"(?:azure-cli|{cli}) (v?\d+\.\d+\.\d+)", header)
        commit = re.search(r"\(([0-9a-f]{40})\)", header)
        [row] = [line for line in sources if line.startswith(f"| `cli/{cli}.txt` |")]
        assert version and version.group(1) in row and (not commit or commit.group(1) in row), (cli, header)
