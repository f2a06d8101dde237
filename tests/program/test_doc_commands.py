"""The commands of this repository's own tools that the docs show work as written: each `python -m X` names a module
that runs, each whole `llm-smoke`/`llm-bench`/`llm-verify`/`offline.plan` command passes the
tool's real argument parser and its usage checks (exit 2 otherwise), each `make TARGET VAR=value` sets a variable
the Makefile reads to a stack that exists, and each `pulumi stack output NAME` reads an output __main__.py exports
on the stack the command reads (a `pulumi up --stack llmd` selects nothing: a later `pulumi stack output` without a
stack reads the selected one). test_docs.py checks option names, make targets and config keys."""
from __future__ import annotations

import argparse
import ast
import contextlib
import importlib
import importlib.util
import io
import re
import shlex
from typing import Any, Iterator
from unittest import mock

import pytest

from tests.conftest import PROJECT_DIR
from tests.program.test_docs import CURRENT_DOCS, _inline_code

DOCS = CURRENT_DOCS + [PROJECT_DIR / "endpoint-tools" / "README.md"]
URL = "http://203.0.113.10:8080"  # what a `$(pulumi stack output ...Url)` gives a tool
# how each command is run: (module, the function that runs once the usage is checked: patched to stop there)
TOOLS = {"llm-smoke": ("endpoint_tools.smoke", "connect"), "llm-bench": ("endpoint_tools.bench", "connect"),
         "llm-verify": ("endpoint_tools.verify", "load_outputs")}
MODULE_TOOLS = {f"python -m {module}": (module, stop) for module, stop in TOOLS.values()}
# its next step plans: its parser and the stack's file only (offline.plan_diff, whose import takes the Pulumi SDK,
# over a second of CPU, has its option names checked by test_docs.py)
PARSED_ONLY = {"offline.plan", "components.maintenance.arm_id_templates"}
PLACEHOLDER = re.compile(r"<[^<>\s]*(?:\s[^<>]*)?>")
# what a process substitution, `--outputs <(pulumi stack output --json ...)`, hands a tool: the path of a pipe the
# shell opened, which exists (this file stands in for it)
PIPE = __file__



class Reached(Exception):
    """The tool got past its usage checks to the step that needs the network or a plan."""


def _blocks(text: str) -> list[str]:
    return [re.sub(r"\\\n\s*", " ", b) for b in re.findall(r"```(?:bash|sh)\n(.*?)```", text, flags=re.S)]


def _substituted(line: str) -> str:
    """A shell line with each `$(...)` (nested once) a value: a URL when it reads a ...Url output, else a word;
    each `<(...)` the path of a file that exists (PIPE); `$VAR` and `<placeholder>` a word; comments dropped."""
    def value(match: re.Match[str]) -> str:
        return URL if re.search(r"stack output \w*Url\b", match.group(0)) else "value"
    line = re.sub(r"<\((?:[^()]|\([^()]*\))*\)", PIPE, line)
    line = re.sub(r"\$\((?:[^()]|\([^()]*\))*\)", value, line)
    line = re.sub(r"(?:^|\s)#.*$", "", line)
    return PLACEHOLDER.sub("value", re.sub(r"\$\{?\w+\}?", "value", line))


def tool_commands(text: str) -> Iterator[tuple[str, list[str], bool]]:
    """(tool, argv, whole) for each command of TOOLS or `python -m X` in a page's code: whole for a code block's
    command and an inline one with two arguments or more (`llm-verify --prefill-decode` names an option)."""
    spans = [(code, True) for block in _blocks(text) for code in block.splitlines()]
    spans += [(code, False) for code in _inline_code(text)]
    for code, block in spans:
        for part in re.split(r"&&|\|\||[;|&]", _substituted(code)):
            try:
                words = shlex.split(part)
            except ValueError:
                continue
            words = [w for w in words if not re.match(r"\d?[<>]", w)]
            for i, word in enumerate(words):
                name = word.rsplit("/", 1)[-1]
                if name in TOOLS:
                    tool, argv = name, words[i + 1:]
                elif re.fullmatch(r"python3?", name) and words[i + 1:i + 2] == ["-m"] and len(words) > i + 2 \
                        and re.fullmatch(r"[a-z_]\w*(?:\.\w+)*", words[i + 2]):
                    tool, argv = f"python -m {words[i + 2]}", words[i + 3:]
                elif (i == 0 or re.fullmatch(r"python3?", words[i - 1].rsplit("/", 1)[-1])) \
                        and re.fullmatch(r"[a-z_]\w*(?:/\w+)+\.py", word) and (PROJECT_DIR / word).is_file():
                    # a repository script run by its path: its module's parser reads the same arguments
                    tool, argv = f"python -m {word[:-3].replace('/', '.')}", words[i + 1:]
                else:
                    continue
                yield tool, argv, block or len(argv) >= 2
                break


def usage_problem(tool: str, argv: list[str]) -> str | None:
    """What the tool's own parser and usage checks say of argv (None: accepted), run up to the step that would
    reach an endpoint, a cluster or a plan."""
    module_name, stop = TOOLS.get(tool) or MODULE_TOOLS.get(tool) or (tool.removeprefix("python -m "), None)
    module = importlib.import_module(module_name)
    err = io.StringIO()
    parse = argparse.ArgumentParser.parse_args

    def parse_then_stop(parser: argparse.ArgumentParser, args: Any = None, namespace: Any = None) -> Any:
        parsed = parse(parser, args, namespace)
        if stop is None:
            if module_name == "offline.plan":
                from offline import stacks
                stacks.find_stack_file(parsed.stack)  # a stack that has no file: exit 2 before planning
            raise Reached
        return parsed

    patches = [mock.patch.object(argparse.ArgumentParser, "parse_args", parse_then_stop)]
    if stop:
        patches.append(mock.patch.object(module, stop, side_effect=Reached))
    if module_name == "endpoint_tools.bench":
        patches.append(mock.patch.object(module, "compare", return_value=""))
    with contextlib.ExitStack() as stack:
        for patch in patches:
            stack.enter_context(patch)
        stack.enter_context(contextlib.redirect_stderr(err))
        stack.enter_context(contextlib.redirect_stdout(io.StringIO()))
        try:
            module.main(argv)
        except Reached:
            return None
        except SystemExit as exit_:
            return err.getvalue().strip().splitlines()[-1] if exit_.code else None
        except FileNotFoundError as error:
            return str(error)
    return None


@pytest.fixture
def tool_env(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # llm-bench --out results/x: a folder it may create
    monkeypatch.setenv("LLM_API_KEY", "k3y")


def test_a_tool_command_is_checked_as_the_tool_parses_it(tool_env):
    page = ("```bash\nllm-smoke \"$(pulumi stack output modelApiUrl)\" --api-key \"$KEY\" --rate-limit-burst 60\n"
            "llm-bench --compare results/a.json results/b.json\n```\nthen `llm-verify --prefill-decode` and "
            "`python -m offline.plan --stack dev --set gpu.driver=operator`; `llm-smoke --stack dev --api openai`")
    found = list(tool_commands(page))
    assert found == [("llm-smoke", [URL, "--api-key", "value", "--rate-limit-burst", "60"], True),
                     ("llm-bench", ["--compare", "results/a.json", "results/b.json"], True),
                     ("llm-verify", ["--prefill-decode"], False),
                     ("python -m offline.plan", ["--stack", "dev", "--set", "gpu.driver=operator"], True),
                     ("llm-smoke", ["--stack", "dev", "--api", "openai"], True)]
    assert [usage_problem(tool, argv) for tool, argv, _ in found[:2] + found[3:]] == [
        None, None, None, "llm-smoke: error: give an endpoint URL or --stack-output NAME"]
    assert "invalid choice: 'gpt'" in usage_problem("llm-bench", [URL, "--api", "gpt"])
    assert "stag" in usage_problem("python -m offline.plan", ["--stack", "stag"])


def test_every_whole_tool_command_in_the_docs_passes_the_tools_usage_checks(tool_env):
    checked, wrong = 0, []
    for page in DOCS:
        for tool, argv, whole in tool_commands(page.read_text()):
            module = tool.removeprefix("python -m ")
            if tool.startswith("python -m ") and importlib.util.find_spec(module) is None:
                wrong.append(f"{page.name}: {tool}: no such module")
            elif whole and (tool in TOOLS or tool in MODULE_TOOLS or module in PARSED_ONLY):
                checked += 1
                problem = usage_problem(tool, argv)
                if problem:
                    wrong.append(f"{page.name}: {tool} {shlex.join(argv)}: {problem}")
    assert checked >= 20 and wrong == []


def test_a_model_the_docs_ask_ollama_for_carries_its_tag():
    """The tools compare `--model` with the names the server lists, as they are; Ollama lists every model with its
    tag (ollama/ollama server/routes.go `ListHandler`: `Name: n.DisplayShortest()`, "tag should never be masked";
    types/model/name.go `DisplayShortest` always writes `model:tag`), so `--model tinyllama` fails the models check
    of a server holding `tinyllama:latest`. A name from a stack output (vLLM's served name) is left alone."""
    models = [argv[argv.index("--model") + 1] for page in DOCS for tool, argv, _ in tool_commands(page.read_text())
              if "--model" in argv[:-1] and tool in ("llm-smoke", "llm-bench")]
    assert "tinyllama:latest" in models
    assert [m for m in models if m != "value" and ":" not in m] == []


def make_commands(text: str) -> Iterator[tuple[str, dict[str, str]]]:
    """(target, {VAR: value}) for each `make TARGET VAR=value ...` of a page's code."""
    for code in _blocks(text) + _inline_code(text):
        for target, assigned in re.findall(r"(?:^|[\s(;&|])make ([a-z][a-z-]*)((?: [A-Z_]+=[^\s`;&|)]+)*)", code):
            yield target, dict(a.split("=", 1) for a in assigned.split())


def test_make_variables_in_the_docs_are_the_makefiles_and_name_a_stack():
    """`make plan STACK=prod` plans Pulumi.prod.yaml; a variable the Makefile does not read (`STAK=prod`) is silently
    ignored by make, and a stack without a file stops the plan: both fail here."""
    makefile = (PROJECT_DIR / "Makefile").read_text()
    read = set(re.findall(r"\$\(([A-Z_]+)\)", makefile)) - set(re.findall(r"^([A-Z_]+) :?=", makefile, flags=re.M))
    assert {"STACK", "REGISTRY"} <= read
    stacks = {p.name[len("Pulumi."):-len(".yaml")] for p in PROJECT_DIR.glob("Pulumi.*.yaml")}
    assert list(make_commands("`make plan STACK=prod`, `make images STACK=<stack>.what-if REGISTRY=x.io`")) == [
        ("plan", {"STACK": "prod"}), ("images", {"STACK": "<stack>.what-if", "REGISTRY": "x.io"})]
    wrong = []
    for page in DOCS:
        for target, assigned in make_commands(page.read_text()):
            stack = assigned.get("STACK", "").removesuffix(".what-if").rstrip(",")
            if set(assigned) - read or (stack and not PLACEHOLDER.search(stack) and stack not in stacks):
                wrong.append(f"{page.name}: make {target} {assigned}")
    assert wrong == []


def _exports() -> dict[str, set[str]]:
    """The stack outputs __main__.py exports, by function: platform_stack's (every regional stack) and
    global_stack's."""
    tree = ast.parse((PROJECT_DIR / "__main__.py").read_text())
    found = {}
    for function in (n for n in tree.body if isinstance(n, ast.FunctionDef)):
        found[function.name] = {c.args[0].value for c in ast.walk(function) if isinstance(c, ast.Call)
                                and ast.unparse(c.func) == "pulumi.export" and isinstance(c.args[0], ast.Constant)}
    return {"regional": found["platform_stack"], "global": found["global_stack"]}


STACK_FLAG = re.compile(r"(?:^|\s)(?:-s|--stack)[ =]\"?([\w$<>.-]+)")
READS_OUTPUT = re.compile(r"(?:pulumi stack output|--stack-output)((?:\s+--?[a-z-]+)*)\s+([a-z]\w*)([^`\n|;&)]*)")


def outputs_read(text: str) -> Iterator[tuple[str, str, str]]:
    """(stack, output, line) for each stack output a page's code reads; the stack is the command's `-s/--stack`,
    else the block's last `pulumi stack select`, else `selected` (whatever the reader has selected). In a block, a
    command that named a stack (`pulumi up --stack llmd`) before an output read without one makes that read
    `selected after <stack>`: the flag selects nothing."""
    for block in _blocks(text) + [f"{c}\n" for c in _inline_code(text)]:
        selected, named = "selected", None
        for line in block.splitlines():
            line = re.sub(r"(?:^|\s)#.*$", "", line)
            for before, name, after in READS_OUTPUT.findall(line):
                given = STACK_FLAG.search(before + after) or (  # a tool's --stack, anywhere in its command
                    "--stack-output" in line and STACK_FLAG.search(re.sub(r"\$\([^)]*\)", "", line)))
                yield (given.group(1) if given else f"selected after {named}" if named and selected == "selected"
                       else selected), name, line.strip()
            chosen = re.search(r"pulumi stack (?:select|init) ([\w-]+)", line)
            if chosen:
                selected = chosen.group(1)
            elif "stack output" not in line:
                flag = STACK_FLAG.search(line)
                named = flag.group(1) if flag and re.search(r"\bpulumi \w|\bllm-\w", line) else named


def test_stack_outputs_the_docs_read_are_exported_by_the_stack_they_read():
    exports = _exports()
    assert {"kubeconfig", "llmdNamespace", "modelApiUrl"} <= exports["regional"] and "frontDoorId" in exports["global"]
    page = ("```bash\npulumi up --stack llmd\nLLMD_NS=$(pulumi stack output llmdNamespace)\n"
            "pulumi stack output apiKey --show-secrets -s global\n```\n"
            "```bash\npulumi stack select llmd\npulumi stack output llmdUrl\n```\n")
    assert [(stack, name) for stack, name, _ in outputs_read(page)] == [
        ("selected after llmd", "llmdNamespace"), ("global", "apiKey"), ("llmd", "llmdUrl")]
    wrong = []
    for page in DOCS:
        for stack, name, line in outputs_read(page.read_text()):
            where = "global" if stack == "global" else "regional"
            if stack.startswith("selected after") or name not in exports[where]:
                wrong.append(f"{page.name}: {line} ({stack})")
    assert wrong == []
