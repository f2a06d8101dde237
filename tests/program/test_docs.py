"""The docs say what the code does: every link between the docs resolves, the README links every page, the
architecture page's "where is X" table points at files that hold X, every component has a docs page, and every whole
example program in them runs."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Optional

from tests.conftest import PROJECT_DIR


EXAMPLES = sorted(p for p in (PROJECT_DIR / "examples").iterdir() if p.is_dir())
# the examples' READMEs are read as the docs are: their links resolve, their commands run as the tools parse them
DOCS = [PROJECT_DIR / "README.md", *sorted((PROJECT_DIR / "docs").rglob("*.md")),
        *(e / "README.md" for e in EXAMPLES if (e / "README.md").exists())]


def _prose(text: str) -> str:
    """A page without its fenced code blocks."""
    return re.sub(r"```.*?```", "", text, flags=re.S)


def _inline_code(text: str) -> list[str]:
    """Every inline code span of a page, one broken over a line included (CommonMark: its line ending is a space),
    each span within its paragraph; fenced blocks left out."""
    return [re.sub(r"\s*\n\s*", " ", span) for paragraph in re.split(r"\n\s*\n", _prose(text))
            for span in re.findall(r"`([^`]+)`", paragraph)]


def _code(text: str) -> list[str]:
    """Every code block and inline code span of a page, a shell line continued with `\\` joined to the next."""
    blocks = re.findall(r"```[^\n]*\n(.*?)```", text, flags=re.S)
    return [re.sub(r"\\\n\s*", " ", code) for code in blocks + _inline_code(text)]


def _links(path: Path) -> list[str]:
    text = _prose(path.read_text())
    text = re.sub(r"`[^`\n]*`", "", text)  # inline code is no link: a regex like `[a-z]([a-z])` stays code
    return re.findall(r"\]\(([^)\s]+)\)", text)


def _anchors(path: Path) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens."""
    headings = re.findall(r"^#+ (.+)$", _prose(path.read_text()), re.M)
    return {re.sub(r"[^a-z0-9 _-]", "", h.strip().lower()).replace(" ", "-") for h in headings}


def test_every_relative_link_in_the_docs_resolves():
    broken = []
    for page in DOCS:
        for link in _links(page):
            if re.match(r"[a-z]+:", link):
                continue
            target, _, anchor = link.partition("#")
            path = (page.parent / target).resolve() if target else page
            if not path.exists():
                broken.append(f"{page.relative_to(PROJECT_DIR)}: {link}")
            elif anchor and path.suffix == ".md" and anchor not in _anchors(path):
                broken.append(f"{page.relative_to(PROJECT_DIR)}: {link} (no such heading)")
    assert broken == []


def test_every_example_has_a_readme_the_top_readme_links():
    """A stranger who opens examples/<name>/ finds how to run it there (a Python consumer's requirements.txt names
    a release of a published copy, a placeholder until filled), and the top README leads to it."""
    readme = (PROJECT_DIR / "README.md").read_text()
    assert EXAMPLES
    for example in EXAMPLES:
        page = example / "README.md"
        assert page.is_file(), f"{example.relative_to(PROJECT_DIR)} has no README.md"
        assert f"(examples/{example.name}/README.md)" in readme, example.name
        # each says how to run it offline, with a command in a shell block
        assert re.search(r"```bash\n[^`]*python -m pytest[^`]*```", page.read_text()), page


def test_readme_links_every_docs_page():
    readme = (PROJECT_DIR / "README.md").read_text()
    for page in sorted((PROJECT_DIR / "docs").glob("*.md")):
        assert f"(docs/{page.name})" in readme, page.name


def test_where_is_x_names_files_that_hold_x():
    """Each row of the architecture page's "Where is X" table links a file and names (in backticks) what in it owns X;
    the file must hold that name, so a move or a rename fails here until the table follows."""
    page = PROJECT_DIR / "docs" / "architecture.md"
    table = page.read_text().split("## Where is X", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in table.splitlines() if line.startswith("| ") and not line.startswith("| What")]
    assert len(rows) >= 15
    for row in rows:
        owner = row.split("|")[2]
        files = re.findall(r"\]\(([^)#]+)\)", owner)
        names = re.findall(r"`([^`]+)`", re.sub(r"\[`[^`]+`\]\([^)]*\)", "", owner))
        assert files and names, row
        text = "".join((page.parent / f).read_text() for f in files)
        for name in names:
            assert name in text, f"{name} not in {files}"


def test_every_component_has_a_docs_page_linking_its_generated_reference():
    import llmplatform
    pages = " ".join(p.read_text() for p in (PROJECT_DIR / "docs" / "components").glob("*.md")
                     if p.name != "reference.md")
    reference = (PROJECT_DIR / "docs" / "components" / "reference.md").read_text()
    for name in llmplatform.COMPONENTS:
        assert f"(reference.md#{name.lower()})" in pages, name
        assert f"\n## {name}\n" in reference, name


PORT_FORWARD = re.compile(r'kubectl -n (\S+) port-forward svc/([a-z0-9-]+) (\d+):(\d+)')
HELM_RENDERED = {("monitoring", "kube-prometheus-stack-grafana")}  # rendered by the kube-prometheus-stack release


def test_operations_port_forwards_reach_a_pod_on_every_stack():
    """Each `kubectl port-forward svc/...` in operations.md names a Service the program creates, with that port, and
    pods behind it that no autoscaler takes to zero, on dev, prod and llmd (dev scales Ollama to zero, so a forward
    to `svc/ollama` finds no pod)."""
    from tests.conftest import variant
    forwards = PORT_FORWARD.findall((PROJECT_DIR / "docs" / "operations.md").read_text())
    assert ("llm", "router", "8080", "8080") in forwards
    for stack in ("dev", "prod", "llmd"):
        plan = variant(stack)
        objects = [r.inputs for r in plan.kubernetes_objects()]
        at_zero = {(o["metadata"]["namespace"], o["spec"]["scaleTargetRef"]["name"]) for o in objects
                   if o["kind"] == "ScaledObject" and o["spec"].get("minReplicaCount") == 0}
        for ns, name, _, port in forwards:
            if "llmdNamespace" in ns:
                ns = plan.outputs["llmdNamespace"]
                if ns is None:
                    continue  # the llm-d gate: the llmd stack only
            if (ns, name) in HELM_RENDERED:
                continue
            [svc] = [o for o in objects if o["kind"] == "Service" and o["metadata"].get("namespace") == ns
                     and o["metadata"].get("name") == name]
            assert int(port) in [p["port"] for p in svc["spec"]["ports"]], (stack, ns, name, port)
            pods = [o for o in objects if o["kind"] == "Deployment" and o["metadata"]["namespace"] == ns
                    and svc["spec"]["selector"].items() <= o["spec"]["template"]["metadata"]["labels"].items()]
            assert pods, (stack, ns, name)
            assert all((ns, o["metadata"]["name"]) not in at_zero for o in pods), (stack, ns, name, "scales to 0")


def _programs() -> list[tuple[str, str]]:
    """(where, code) of every Python example in the docs that is a whole program composing components: it imports
    them from llmplatform and leaves nothing out (no `...`); fragments and test examples are not programs."""
    found = []
    for path in DOCS:
        for index, code in enumerate(re.findall(r"```python\n(.*?)```", path.read_text(), flags=re.S)):
            if "from llmplatform import" in code and "..." not in code and "llmplatform.testing" not in code:
                found.append((f"{path.relative_to(PROJECT_DIR)} example {index + 1}", code))
    return found


def test_every_whole_program_in_the_docs_runs_under_the_testing_kit():
    """What a stranger copies first: each whole example runs as a Pulumi program under the package's mocks and the
    engine's and Azure's refusals (the README's composition and AksCluster's page at least)."""
    from llmplatform.testing import run
    from tests.components.test_own_cluster import invokes  # own-cluster.md's program reads its cluster by invoke
    programs = _programs()
    assert {where.split(" example")[0] for where, _ in programs} >= {"README.md", "docs/components/aks-cluster.md",
                                                                    "docs/components/own-cluster.md"}
    for where, code in programs:
        plan = run(lambda: exec(compile(code, where, "exec"), {"__name__": "__main__"}),  # noqa: S102
                   invokes=invokes())
        assert plan.resources, where


# The docs that say what the code is today: every page but decisions.md (a dated record of how it came to be, whose
# entries may name files and keys of their time) and the generated reference.
CURRENT_DOCS = [p for p in DOCS if p.name not in ("decisions.md", "reference.md")] + [PROJECT_DIR / "components" /
                                                                                          "README.md"]
REPO_PATH = re.compile(r"(?:\.github|components|config|offline|policy|tests|endpoint-tools|examples)/[\w./-]*"
                       r"|__main__\.py|Pulumi\.[a-z-]+\.yaml|allow-replace\.txt|requirements[a-z-]*\.txt")


def _code_names(path: Path) -> set[str]:
    """Every inline code span of a page, fenced blocks left out."""
    return set(_inline_code(path.read_text()))


def test_repository_paths_named_in_the_docs_exist():
    """A file or folder of this repository named in code (`offline/capacity.py`, `config/data/...json`, or the
    package's `data/...` as its pages name it) exists: a move or a rename fails here until the docs follow."""
    missing = []
    for page in CURRENT_DOCS:
        for name in _code_names(page):
            package_data = name.startswith("data/") and re.fullmatch(r"data/[\w./-]+", name)
            if (REPO_PATH.fullmatch(name) and not (PROJECT_DIR / name).exists()) or \
                    (package_data and not (PROJECT_DIR / "components" / "llmplatform" / name).exists()):
                missing.append(f"{page.relative_to(PROJECT_DIR)}: {name}")
    assert missing == []


def test_repository_paths_check_catches_a_moved_file(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("Strict schemas: `tests/validation.py`, `components/llmplatform/no_such_module.py`.\n")
    names = [n for n in _code_names(page) if REPO_PATH.fullmatch(n) and not (PROJECT_DIR / n).exists()]
    assert names == ["components/llmplatform/no_such_module.py"]


# Names in code that start like a config section but are no stack key: a chart's Helm value.
NOT_CONFIG_KEYS = {"global.imageRegistry"}  # kube-prometheus-stack's single registry setting (images.md)
CONFIG_KEY = re.compile(r"[a-z][A-Za-z]*(?:\[\d+\])?(?:\.[A-Za-z]\w*(?:\[\d+\])?)+")
CLI_KEY = re.compile(r"(?:--set|config set --path)\s+'?([a-z][\w.\[\]]*)")


def _config_settings() -> dict:
    from config import loader, reference, regions
    settings = {**reference.read_settings(regions.parse_global), **reference.read_settings(loader.parse_config)}
    return settings


def unknown_config_keys(text: str, settings: dict) -> list[str]:
    """The stack keys a page names that the config loader does not read: `section.key` in inline code (the part
    before a space, ':' or '='), and every key of a `--set KEY=...` or `pulumi config set --path KEY` anywhere. A key
    under a free-form map (`cost.prices...`, `webui.extraEnv...`) or an entry of a list (`modelStore.models[2].name`)
    is the map's or the list's."""
    sections = {key.split(".")[0] for key in settings}
    names = {re.split(r"[ :=]", code)[0] for code in _inline_code(text)}
    names = {n for n in names if CONFIG_KEY.fullmatch(n) and n.split(".")[0].split("[")[0] in sections
             and not re.search(r"\.(py|json|ya?ml|md|txt|com|net|io)$", n)} | set(CLI_KEY.findall(text))
    unknown = []
    for name in sorted(names - NOT_CONFIG_KEYS):
        key = re.sub(r"\[\d+\]", "", name).rstrip(".")
        if key in settings or any(k.startswith(key + ".") for k in settings):
            continue
        parts = key.split(".")
        owner = next((settings[".".join(parts[:i])] for i in range(len(parts) - 1, 0, -1)
                      if ".".join(parts[:i]) in settings), None)
        if owner is not None and not (owner.kind == "object" and owner.has_keys):
            continue  # inside a map or a list entry: its keys are free
        unknown.append(name)
    return unknown


def test_config_keys_named_in_the_docs_are_read_by_the_loader():
    """Every stack key the docs name (`gateway.requestTimeoutSeconds`, `--set llmd.enabled=true`) is one the config
    loader reads: a renamed or removed key fails here until the docs follow."""
    settings = _config_settings()
    found = {f"{page.relative_to(PROJECT_DIR)}: {key}" for page in CURRENT_DOCS
             for key in unknown_config_keys(page.read_text(), settings)}
    assert found == set()


def test_config_key_check_catches_a_renamed_key():
    settings = _config_settings()
    text = ("Set `gpu.maxCount: 2` and `cost.prices.vm_hourly.Standard_D4s_v5`, then `gpu.maxCont` and\n"
            "`.venv/bin/python -m offline.plan --stack dev --set webui.replica=2 --set 'modelStore.models[1]=x'`.\n")
    assert unknown_config_keys(text, settings) == ["gpu.maxCont", "webui.replica"]


def test_package_readme_names_every_component():
    """components/README.md is the package's description on an index: it lists every component the package
    exports (llmplatform.COMPONENTS), so a new one is not left out."""
    import llmplatform
    text = (PROJECT_DIR / "components" / "README.md").read_text()
    assert [name for name in llmplatform.COMPONENTS if not re.search(rf"\b{name}\b", text)] == []


def make_commands(text: str) -> set[str]:
    """The targets of the `make <target>` commands a page shows, in code blocks and inline code."""
    return {target for span in _code(text) for target in re.findall(r"(?:^|[\s(;&|])make ([a-z][a-z-]*)", span)}


def test_make_commands_in_the_docs_are_makefile_targets():
    targets = set(re.findall(r"^([a-z][a-z-]*):", (PROJECT_DIR / "Makefile").read_text(), flags=re.M))
    assert make_commands("run `make plan STACK=dev`, then\n```sh\nmake lint\n```\n") == {"plan", "lint"}
    unknown = {f"{page.relative_to(PROJECT_DIR)}: make {target}" for page in DOCS
               for target in make_commands(page.read_text()) - targets}
    assert unknown == set()


# The commands the docs show, each with the module whose `main(argv)` parses its options.
TOOLS = {"llm-smoke": "endpoint_tools.smoke", "llm-bench": "endpoint_tools.bench",
         "llm-verify": "endpoint_tools.verify", "offline.plan_diff": "offline.plan_diff.cli",
         "offline.plan": "offline.plan", "offline.images": "offline.images", "offline.scan": "offline.scan",
         "endpoint_tools.smoke": "endpoint_tools.smoke", "endpoint_tools.bench": "endpoint_tools.bench",
         "endpoint_tools.verify": "endpoint_tools.verify"}
TOOL_CALL = re.compile(r"(?<![\w./-])(" + "|".join(sorted(map(re.escape, TOOLS), key=len, reverse=True)) +
                       r")(?![\w.-])([^`\n|;&#)]*)")


def tool_options(text: str) -> set[tuple[str, str]]:
    """(tool, option) for each option a page gives one of TOOLS in code; what a `$(...)` inside the command runs is
    that command's, not the tool's."""
    found = set()
    for code in _code(text):
        code = re.sub(r"[$<]\([^()]*\)", "", code)
        for tool, rest in TOOL_CALL.findall(code):
            found |= {(tool, option) for option in re.findall(r"(?:^|\s)(--?[A-Za-z][\w-]*)", rest)}
    return found


def _options_of(module_name: str) -> set[str]:
    """The options a tool's parser takes, read from its own --help."""
    import contextlib
    import importlib
    import io
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):
        importlib.import_module(module_name).main(["--help"])
    return set(re.findall(r"(?<![\w-])(--?[A-Za-z][\w-]*)", out.getvalue()))


def test_tool_options_in_the_docs_are_options_of_the_tool():
    """Each option the docs pass to a tool (`llm-bench ... -c 16 --label x`, `python -m offline.plan --stack dev
    --set k=v`, `llm-verify --prefill-decode`) is one its parser takes: a renamed or removed option fails here."""
    assert tool_options("```sh\nllm-bench \"$(pulumi stack output llmdUrl --stack llmd)\" -n 2 \\\n  --lable x\n```\n"
                        "then `python -m offline.plan --stack dev`") == {
        ("llm-bench", "-n"), ("llm-bench", "--lable"), ("offline.plan", "--stack")}
    options = {tool: _options_of(module) for tool, module in TOOLS.items()}
    unknown = {f"{page.relative_to(PROJECT_DIR)}: {tool} {option}" for page in CURRENT_DOCS + [
        PROJECT_DIR / "endpoint-tools" / "README.md"] for tool, option in tool_options(page.read_text())
               if option not in options[tool]}
    assert unknown == set()


def _shell_lines(text: str) -> list[str]:
    """Every line of a page's code (blocks and inline spans), a line continued with `\\` joined to the next."""
    return [line for code in _code(text) for line in code.splitlines()]


BACKGROUNDED_PULUMI = re.compile(r"pulumi (?:up|destroy|refresh)\b(?:>&|[^&\n#])*&(?!&)")  # `2>&1` is no `&`


def backgrounded_pulumi_runs(text: str) -> list[str]:
    """Each `pulumi up|destroy|refresh ... &` of a page's code: a run sent to the background."""
    return [m.group(0) for line in _shell_lines(text) for m in BACKGROUNDED_PULUMI.finditer(line)]


def test_a_pulumi_run_sent_to_the_background_neither_prompts_nor_takes_the_terminal():
    """A background job cannot answer `pulumi up`'s confirmation, and on a terminal the CLI is interactive
    (pulumi/pulumi sdk/go/common/util/cmdutil/console.go `Interactive`: stdin and stdout are terminals) and its
    progress display puts the terminal in raw mode and reads keys (pkg/backend/display/internal/terminal/term.go,
    tree.go `ReadKey`): the shell stops such a job (SIGTTIN/SIGTTOU) and `wait` never returns. Each one the docs
    send to the background says `--yes --non-interactive`."""
    assert backgrounded_pulumi_runs("```bash\npulumi up -s a & pulumi up -s b > b.log 2>&1 & wait\n"
                                    "pulumi up && echo done\n```\n") == ["pulumi up -s a &",
                                                                          "pulumi up -s b > b.log 2>&1 &"]
    runs = [run for page in CURRENT_DOCS for run in backgrounded_pulumi_runs(page.read_text())]
    assert runs, "operations.md brings the regions up in parallel"
    assert [run for run in runs if not {"--yes", "--non-interactive"} <= set(run.split())] == []


def escaped_dots_the_shell_drops(text: str) -> list[str]:
    """kubectl lines of a page's code with a `\\.` (an output template's escaped dot, `nvidia\\.com/gpu`) that no
    word keeps once the shell has parsed the line (an unquoted backslash is removed)."""
    import shlex
    lost = []
    for line in _shell_lines(text):
        if "kubectl" in line and "\\." in line.split(" #")[0]:
            words = shlex.split(line, comments=True)
            if not any("\\." in word for word in words):
                lost.append(line)
    return lost


def test_a_kubectl_output_template_keeps_the_backslash_of_an_escaped_dot():
    """`.status.allocatable.nvidia\\.com/gpu` names the key `nvidia.com/gpu` only while kubectl sees the backslash
    (its JSONPath parser reads `\\.` as a dot inside a name); unquoted, the shell removes it and kubectl reads the
    key `nvidia`, then `com/gpu`: `<none>` on every node. Quote the template."""
    assert escaped_dots_the_shell_drops("`kubectl get nodes -o custom-columns=GPU:.a.nvidia\\.com/gpu`") != []
    assert escaped_dots_the_shell_drops("`kubectl get nodes -o 'custom-columns=GPU:.a.nvidia\\.com/gpu'`") == []
    assert [line for page in CURRENT_DOCS for line in escaped_dots_the_shell_drops(page.read_text())] == []


KEY_VAULT_SECRET = re.compile(r"az keyvault secret (?:show|set|recover|delete|purge|list|list-versions)\b[^`\n|;)]*")


def test_every_key_vault_secret_command_names_its_vault():
    """`az keyvault secret show|set|recover ...` takes the vault as `--vault-name` (or a secret `--id`); with only
    `-n` the Azure CLI refuses it (azure-cli keyvault `_params.py`: the data-plane commands' vault argument). A bare
    mention of the command (no option) names it, not a command to run."""
    commands = [m.group(0) for page in CURRENT_DOCS for line in _shell_lines(page.read_text())
                for m in KEY_VAULT_SECRET.finditer(line) if re.search(r"\s-", m.group(0))]
    assert commands, "the docs read secrets with the CLI"
    assert [c for c in commands if not re.search(r"--vault-name|--id\b", c)] == []


EXTENSIONS = {"afd": "cdn", "fleet": "fleet"}  # command group -> the Azure CLI extension that has it


def test_a_page_running_an_extension_command_says_to_add_the_extension():
    """`az fleet` is in the `fleet` extension only, and `az afd` left the Azure CLI for the `cdn` extension
    (Azure/azure-cli#33336; Azure CLI 2.91.0 answers "'afd' is misspelled or not recognized by the system"): a
    page that runs one says `az extension add --name <extension>`."""
    missing = [f"{page.relative_to(PROJECT_DIR)}: az {group}" for page in CURRENT_DOCS for group, extension in
               EXTENSIONS.items() if any(re.search(rf"\baz {group} ", code) for code in _code(page.read_text()))
               and f"az extension add --name {extension}" not in page.read_text()]
    assert missing == []


def variables_read_unset(text: str) -> list[tuple[str, str]]:
    """(name, line) of each `$NAME` a page's bash blocks read before any block of the page sets it (`NAME=`,
    `export NAME=`, `for NAME in`, `read ... NAME`); comments and single-quoted text (what a pod's shell or jq
    expands) are left out, and so are HOME and PWD."""
    found, defined = [], set()
    for block in re.findall(r"```(?:bash|sh)\n(.*?)```", text, flags=re.S):
        block = "\n".join(re.sub(r"(?:^|\s)#.*$", "", line) for line in re.sub(r"\\\n\s*", " ", block).splitlines())
        for line in re.sub(r"'[^']*'", "''", block).splitlines():
            shell = re.sub(r"\bmake\b[^;&|)]*", "", line)  # `make plan STACK=prod` sets a make variable only
            defined |= set(re.findall(r"(?:^|[\s;(])(?:export |local )?([A-Za-z_]\w*)=", shell))
            defined |= set(re.findall(r"\bfor (\w+) in\b", line)) | set(re.findall(r"\bread (?:-\w+ )*(\w+)", line))
            found += [(name, line.strip()) for name in re.findall(r"\$\{?([A-Za-z_]\w*)", line)
                      if name not in defined | {"HOME", "PWD"}]
    return found


def test_a_shell_block_reads_no_variable_it_has_not_set():
    """What an operator pastes runs as written: a variable a block reads is set on the page before it (the secret
    upload had printed an unset `$CLIENT_SECRET` into the vault, an empty secret)."""
    assert variables_read_unset("```bash\nA=1; echo \"$A $B\"  # $C\nsh -c 'echo $D'\n```\n") == [
        ("B", 'A=1; echo "$A $B"')]
    assert variables_read_unset("```bash\nmake plan STACK=prod\npulumi up --stack \"$STACK\"\n```\n") == [
        ("STACK", 'pulumi up --stack "$STACK"')]
    assert [(page.name, *unset) for page in CURRENT_DOCS for unset in variables_read_unset(page.read_text())] == []


def urns_the_shell_expands(text: str) -> list[str]:
    """Shell lines of a page's code that put a URN, or a `<...urn...>` placeholder for one, in double quotes: an
    engine URN holds `$` between its types (`...InferenceStack$llmplatform:index:OpenWebUi$kubernetes:...`), which
    the shell expands there (an unset `$llmplatform` is dropped), so the command gets another URN. A `$(...)` that
    prints one is left alone."""
    found = []
    for line in _shell_lines(text):
        bare = re.sub(r"\$\((?:[^()]|\([^()]*\))*\)", "", line)
        if any(re.search(r"urn:pulumi:|<[^<>]*\burn\b[^<>]*>", quoted, flags=re.I)
               for quoted in re.findall(r'"((?:[^"\\]|\\.)*)"', bare)):
            found.append(line.strip())
    return found


def test_a_urn_given_to_the_shell_is_in_single_quotes():
    urn = "urn:pulumi:prod::p::llmplatform:index:ModelStore$kubernetes:batch/v1:Job::models-preload"
    assert urns_the_shell_expands(f"```bash\necho \"<urn of the claim>  # why\" >> allow-replace.txt\n"
                                  f"pulumi up --replace \"{urn}\"\npulumi state unprotect '{urn}'\n"
                                  "pulumi up --target-replace \"$(pulumi stack --show-urns | grep -o 'urn:pulumi:[^ ]*')\"\n"
                                  "```\nthen `pulumi state unprotect \"<URN>\"`") == [
        "echo \"<urn of the claim>  # why\" >> allow-replace.txt", f"pulumi up --replace \"{urn}\"",
        "pulumi state unprotect \"<URN>\""]
    assert [(page.name, line) for page in CURRENT_DOCS for line in urns_the_shell_expands(page.read_text())] == []


BLOCKED = re.compile(r"blocked by the (?:pull-request )?gate|gate blocks|under \*\*Blocked\*\*", flags=re.I)


def blocked_replacements_left_unallowed(text: str) -> list[str]:
    """Paragraphs of a page saying the pull-request check blocks a replacement, in a section (`##`-`####`) that never
    says how to let it through (`allow-replace.txt`): offline.plan_diff exits 1 on it until the pull request lists its
    URNs there (or carries the label), so a runbook that stops at "is blocked" leaves its change unmergeable. A block
    that is meant to stand (a change refused in place, a skipped minor) names no replacement and is left alone."""
    found = []
    for section in re.split(r"^#{2,4} ", text, flags=re.M):
        if "allow-replace.txt" in section:
            continue
        body = section.split("\n", 1)[-1]  # without its title
        found += [" ".join(p.split())[:80] for p in re.split(r"\n\s*\n", _prose(body))
                  if BLOCKED.search(p) and re.search(r"replac", p) and "refused in place" not in p]
    return found


def test_a_runbook_whose_replacement_the_check_blocks_says_how_to_allow_it():
    assert blocked_replacements_left_unallowed(
        "## A\nA new protocol replaces the share and is blocked by the pull-request gate.\n\n## B\nA skipped minor: "
        "the gate blocks it.\n\n## C\nIt replaces the claim, listed under **Blocked**: add its URN to "
        "`allow-replace.txt`.\n") == ["A new protocol replaces the share and is blocked by the pull-request gate."]
    assert [(page.name, p) for page in CURRENT_DOCS for p in blocked_replacements_left_unallowed(page.read_text())] == []


def database_clients_without_the_root_cas(text: str, roots_path: str) -> list[str]:
    """Shell blocks of a page that start a pod of their own (`kubectl run`) to run a PostgreSQL client (psql,
    pg_dump, pg_restore) with the platform's URL but never put the root CAs at the path its `sslrootcert` names."""
    return [block.strip().splitlines()[0] for block in re.findall(r"```(?:bash|sh)\n(.*?)```", text, flags=re.S)
            if re.search(r"\bkubectl run\b", block) and re.search(r"\b(?:psql|pg_dump|pg_restore)\b", block)
            and roots_path not in block]


def test_a_database_client_pod_started_by_hand_has_the_root_cas_its_url_names():
    """The URLs in Key Vault say `sslmode=verify-full&sslrootcert=<ROOTS_PATH>` (postgres_access.database_url), and
    libpq refuses to connect when that file is missing ("root certificate file ... does not exist": postgres/postgres
    6f782a2a src/interfaces/libpq/fe-secure-openssl.c `initialize_SSL`). The platform's pods mount it from the
    `postgres-root-cas` ConfigMap; a `kubectl run` pod the runbook starts for a copy must write it there itself."""
    from llmplatform import postgres_access
    url = postgres_access.database_url("openwebui_app", "pw", "psql-x.postgres.database.azure.com", "openwebui")
    assert url.endswith(f"sslmode=verify-full&sslrootcert={postgres_access.ROOTS_PATH}")
    page = "```bash\nkubectl run c --image=postgres:17 -- bash\n#   inside: pg_dump \"<the URL>\"\n```\n"
    assert database_clients_without_the_root_cas(page, postgres_access.ROOTS_PATH) == [
        "kubectl run c --image=postgres:17 -- bash"]
    assert [(page.name, block) for page in CURRENT_DOCS for block in database_clients_without_the_root_cas(
        page.read_text(), postgres_access.ROOTS_PATH)] == []


def test_a_kubeconfig_written_into_dot_kube_makes_the_folder_first():
    """A shell redirect creates no folder: `... > ~/.kube/x` fails on a machine that never ran kubectl, unless
    `mkdir -p ~/.kube` comes first (on that line or the line before)."""
    for page in CURRENT_DOCS:
        lines = [""] + _shell_lines(page.read_text())
        assert [line for before, line in zip(lines, lines[1:]) if re.search(r">\s*~/\.kube/", line)
                and "mkdir -p ~/.kube" not in before + line] == [], page.name


STACK_OUTPUT = re.compile(r"(?:pulumi stack output|--stack-output)((?:\s+--?[a-z-]+)*)\s+([a-z]\w*)([^`\n|;&)]*)")


def stack_outputs_named(text: str) -> set[tuple[str, str]]:
    """(regional or global, name) of every stack output a page reads in code (`pulumi stack output X`, a tool's
    `--stack-output X`); `-s global` / `--stack global` on the same command reads the global stack's."""
    found = set()
    for code in _code(text):
        for before, name, after in STACK_OUTPUT.findall(code):
            where = "global" if re.search(r"(?:-s|--stack)[ =]global\b", before + after) else "regional"
            found.add((where, name))
    return found


def test_stack_outputs_named_in_the_docs_are_exported():
    """Every `pulumi stack output X` in the docs reads an output the program exports: a regional one on dev, prod or
    llmd (the llm-d outputs are set on llmd only), a global one with `-s global`."""
    from tests.conftest import planned, variant
    assert stack_outputs_named("`pulumi stack output --show-secrets kubeconfig` and\n```sh\nX=$(pulumi stack output "
                               "apiKey --show-secrets -s global)\nllm-smoke --stack-output modelApiUrl\n```\n") == {
        ("regional", "kubeconfig"), ("global", "apiKey"), ("regional", "modelApiUrl")}
    exported = {"regional": {name for stack in ("dev", "prod", "llmd") for name in variant(stack).outputs},
                "global": set(planned("global").outputs)}
    unknown = {f"{page.relative_to(PROJECT_DIR)}: {where} {name}" for page in CURRENT_DOCS
               for where, name in stack_outputs_named(page.read_text()) if name not in exported[where]}
    assert unknown == set()


def _component_names() -> dict[str, tuple[set[str], set[str]]]:
    """Each component's (inputs, outputs) in Python spelling, from the provider's schema (`make schema`)."""
    import json
    schema = json.loads((PROJECT_DIR / "components" / "schema.json").read_text())["resources"]
    snake = lambda name: re.sub(r"[A-Z]", lambda m: "_" + m.group(0).lower(), name)  # noqa: E731
    return {token.rsplit(":", 1)[1]: ({snake(k) for k in r["inputProperties"]}, {snake(k) for k in r["properties"]})
            for token, r in schema.items()}


def unknown_component_names(text: str, names: dict[str, tuple[set[str], set[str]]]) -> set[str]:
    """`Component.name` in inline code that is no input or output of that component, and in a table of components
    (the README's, InferenceStack's parts), a name in backticks in the last column ("Hands out"), outside
    parentheses, that is no output of the component of its row, or a dash there for a component with outputs."""
    inline = _prose(text)
    unknown = {f"{c}.{n}" for c, n in re.findall(r"`(\w+)\.([a-z_]\w*)`", inline)
               if c in names and n not in names[c][0] | names[c][1]}
    for component, hands_out in re.findall(r"^\| `(\w+)` \|[^\n]*\| ([^|\n]*) \|$", inline, flags=re.M):
        if component in names:
            outputs = re.findall(r"`([a-z_]\w*)`", re.sub(r"\([^()]*\)", "", hands_out))
            unknown |= {f"{component} hands out {n}" for n in outputs if n not in names[component][1]}
            if hands_out.strip() in ("—", "-", "") and names[component][1]:  # "nothing", for one with outputs
                unknown.add(f"{component} hands out nothing")
    return unknown


def test_component_inputs_and_outputs_named_in_the_docs_exist():
    """`OpenWebUi.cpu_target_percent` is an input of OpenWebUi, and the README's "Hands out" column names outputs
    the component has: a renamed input or output fails here until the docs follow."""
    names = _component_names()
    text = ("`ApiGate.replicas`, `ApiGate.replica`\n| `ModelStore` | share | `volume` (`claim_name`), `vol` |\n"
            "| `ModelAutoscaler` | ScaledObject | — |\n")
    assert unknown_component_names(text, names) == {"ApiGate.replica", "ModelStore hands out vol",
                                                    "ModelAutoscaler hands out nothing"}
    unknown = {f"{page.relative_to(PROJECT_DIR)}: {name}" for page in CURRENT_DOCS
               for name in unknown_component_names(page.read_text(), names)}
    assert unknown == set()


# `--refresh=false` asks for the opposite: the one run after a failed Azure create that must keep the failure
# (docs/operations.md, "When a first `pulumi up` stops")
REFRESHED_RUN = re.compile(r"\bpulumi (?:up|preview|destroy)\b[^#\n]*--refresh\b(?!=false\b)")


def test_the_runbook_asks_for_no_refresh_the_project_already_makes():
    """This project's Pulumi.yaml sets `options.refresh: always`: every `pulumi up`, `preview` and `destroy` refreshes
    first (pulumi/pulumi pkg/cmd/pulumi/operations/io.go `getRefreshOption`). A runbook command with `--refresh` reads
    as if the plain command did not (the failover drill once said a plain `pulumi up` would keep a disabled origin)."""
    import yaml
    from offline import ignored_inputs
    assert ignored_inputs.refreshes_always(yaml.safe_load((PROJECT_DIR / "Pulumi.yaml").read_text()))
    assert REFRESHED_RUN.findall("run `pulumi preview --refresh -s global`, then pulumi up -s global")
    assert REFRESHED_RUN.findall("pulumi up --refresh=true -s dev")
    assert not REFRESHED_RUN.findall("pulumi up --stack dev --refresh=false --policy-pack policy")
    runbook = PROJECT_DIR / "docs" / "operations.md"
    assert [line for line in _shell_lines(runbook.read_text()) if REFRESHED_RUN.search(line)] == []


COUNTED = re.compile(r"\b(\d+) (policies|components)\b")


def stated_counts(text: str) -> set[tuple[str, int]]:
    """(what, number) of each count a page states in prose: "24 policies", "all 18 components"."""
    return {(what, int(number)) for number, what in COUNTED.findall(_prose(text))}


def test_counts_the_docs_state_are_the_codes():
    """"The policy pack (24 policies ...)" is the pack's length and "composes all 18 components" the package's
    COMPONENTS: a policy or a component added or removed fails here until the pages follow (guardrails.md's summary
    of the pack once listed 22 of its 24)."""
    import llmplatform
    from policy.policies import POLICIES
    assert stated_counts("The pack (24 policies) and `make plan`; all 18 components\n```\n9 policies\n```\n") == {
        ("policies", 24), ("components", 18)}
    actual = {"policies": len(POLICIES), "components": len(llmplatform.COMPONENTS)}
    stated = {str(page.relative_to(PROJECT_DIR)): stated_counts(page.read_text()) for page in CURRENT_DOCS}
    assert {"README.md", "docs/guardrails.md"} <= {page for page, counts in stated.items() if counts}
    assert {f"{page}: {number} {what} (the code has {actual[what]})" for page, counts in stated.items()
            for what, number in counts if number != actual[what]} == set()


SECTION_REFERENCE = re.compile(r"\b([a-z-]+\.md)(?:\]\([^)\s]*\))?[,:]?\s*\(?\"([^\"]+)\"")


def _sections(text: str) -> set[str]:
    """What a page's prose names a part of it by: its headings and its bold lead-ins (`**Open-WebUI's own
    role.**`), backticks and trailing punctuation dropped, whitespace as one space."""
    prose = _prose(text)
    names = re.findall(r"^#+ (.+)$", prose, flags=re.M) + re.findall(r"\*\*([^*]+)\*\*", prose)
    return {re.sub(r"\s+", " ", name.replace("`", "")).strip().rstrip(".:") for name in names}


# the other order: `"Section" in docs/components/page.md`, and a page's own `"Section" below` (or above); a quote may
# be broken over a line, as prose is
SECTION_REFERENCE_AFTER = re.compile(r'"([^"\n]{3,120}(?:\n[^"\n]{0,120})?)"\s+'
                                     r'(?:below|above|in\s+\[?(?:[\w.-]+/)*([a-z-]+\.md))')


def unknown_sections(text: str, pages: dict[str, set[str]]) -> list[str]:
    """`page.md, "Section"` (or `page.md ("Section")`, a link to the page then the quote; or `"Section" in page.md`,
    or `"Section" below`/`above` on the page itself) whose page has no heading or bold lead-in that starts so (a
    quote may shorten one: "Behind Front Door, the gates key...")."""
    own = {"": _sections(text)}
    unknown = []
    after = [(page, quoted) for quoted, page in SECTION_REFERENCE_AFTER.findall(_prose(text))]
    for page, quoted in SECTION_REFERENCE.findall(text) + after:
        name = re.sub(r"\s+", " ", quoted.replace("`", "")).strip().removesuffix("...").rstrip(".:")
        sections = (pages | own).get(page)
        if sections is not None and not any(section.startswith(name) for section in sections):
            unknown.append(f'{page or "this page"} "{name}"')
    return unknown


def test_sections_the_docs_refer_to_by_title_exist():
    """Most cross-references name a section in words (docs/decisions.md, "Refresh before every operation";
    operations.md ("Once per subscription")) rather than as a link: a renamed or removed section fails here until
    the references follow."""
    pages = {p.name: _sections(p.read_text()) for p in DOCS if p.name != "README.md"}
    pages["README.md"] = _sections((PROJECT_DIR / "README.md").read_text())
    assert unknown_sections('docs/decisions.md, "Refresh before every\n  operation" and [x](x.md) ("Rotating '
                            'secrets"), operations.md, "Once per subscriptoin"; decisions.md, "Behind Front Door, the '
                            'gates key..."', pages) == ['operations.md "Once per subscriptoin"']
    # the quote first: on the page itself, or in another one, broken over a line as prose is
    assert unknown_sections('## GPU capacity\nsee "GPU capacity" above, "Who owns which field on\n  day 2" in '
                            'docs/components/inference-stack.md; "Who owns the fields" in inference-stack.md and '
                            '"GPU capacitty" below', pages) == [
        'inference-stack.md "Who owns the fields"', 'this page "GPU capacitty"']
    assert sum(len(SECTION_REFERENCE.findall(page.read_text())) for page in CURRENT_DOCS) >= 30
    assert sum(len(SECTION_REFERENCE_AFTER.findall(page.read_text())) for page in CURRENT_DOCS) >= 20
    assert [f"{page.relative_to(PROJECT_DIR)}: {unknown}" for page in CURRENT_DOCS + [
        PROJECT_DIR / "endpoint-tools" / "README.md"] for unknown in unknown_sections(page.read_text(), pages)] == []


# kubectl's writes that take `--field-manager`, each with its own default manager name (kubernetes/kubectl v0.34.0,
# d0412c1e: pkg/cmd/rollout/rollout_restart.go, _pause.go, _resume.go `kubectl-rollout`; annotate/annotate.go,
# label/label.go, edit/edit.go, patch/patch.go, replace/replace.go, set/set_*.go `kubectl-<verb>`; apply/apply.go
# `kubectl-client-side-apply`, and `kubectl` with --server-side, an Apply): every one starts with `kubectl`, which
# pulumi-kubernetes' fixCSAFieldManagers adopts by prefix (tests/server_side_apply.py `adopted`). `scale` writes the
# scale subresource, which is not adopted; `rollout undo` takes no --field-manager (kubectl's user agent, `kubectl`).
KUBECTL_WRITES = ("rollout restart", "rollout pause", "rollout resume", "annotate", "label", "edit", "patch", "set",
                  "replace", "apply")
# kubectl's flags that take a value as the next word, so that word is no verb, kind or name
KUBECTL_VALUE_FLAGS = {"-n", "--namespace", "--context", "--kubeconfig", "--cluster", "--user", "-s", "--server",
                       "--as", "-l", "--selector", "-f", "--filename", "-p", "--patch", "--patch-file", "--type", "-o",
                       "--output", "--field-selector", "-c", "--containers", "--replicas", "--timeout",
                       "--field-manager", "--resource-version"}
KUBECTL_SHORT_NAMES = {"deploy": "deployment", "so": "scaledobject", "ns": "namespace", "cm": "configmap",
                       "svc": "service", "sa": "serviceaccount", "pvc": "persistentvolumeclaim",
                       "hpa": "horizontalpodautoscaler", "netpol": "networkpolicy", "po": "pod", "ds": "daemonset",
                       "sts": "statefulset", "pdb": "poddisruptionbudget", "ing": "ingress", "cj": "cronjob"}


def _kubectl_kind(word: str, kinds: set[str]) -> str | None:
    """The kind a kubectl resource word names (`deploy`, `deployments`, `deployments.apps`), among `kinds`."""
    word = KUBECTL_SHORT_NAMES.get(word.split(".", 1)[0].lower(), word.split(".", 1)[0].lower())
    for kind in kinds:
        low = kind.lower()
        plural = low[:-1] + "ies" if low.endswith("y") else low + "es" if low.endswith(("s", "x")) else low + "s"
        if word in (low, plural):
            return kind
    return None


def _kubectl_commands(text: str) -> list[list[str]]:
    """Each kubectl command of a page's code (blocks, a line continued with `\\` joined, and inline spans), as the
    shell splits it into words: up to a `|`, `&&`, `||`, `;`, `&` or comment; a `$(...)` kept as one word."""
    import shlex
    blocks = [re.sub(r"\\\n\s*", " ", code) for code in re.findall(r"```[^\n]*\n(.*?)```", text, flags=re.S)]
    commands = []
    for line in [line for code in blocks for line in code.splitlines()] + _inline_code(text):
        lexer = shlex.shlex(line, posix=True, punctuation_chars="|&;")
        lexer.whitespace_split = True
        try:
            tokens = list(lexer)
        except ValueError:  # an unclosed quote: words as split on spaces
            tokens = line.split()
        words: list[str] = []
        for token in tokens + [";"]:
            if words and words[-1].count("$(") > words[-1].count(")"):
                words[-1] += " " + token
            elif set(token) <= set("|&;"):
                if words and words[0] == "kubectl":
                    commands.append(words)
                words = []
            else:
                words.append(token)
    return commands


def kubectl_writes_pulumi_takes_back(text: str, managed: set[tuple[str, str]]) -> list[str]:
    """Each kubectl write of a page's code to an object the program manages ((kind, name) or (kind, name,
    namespace) in `managed`; a placeholder name, `<server>` or `$NAME`, a kind without a name, `-l` or `--all`, as
    any of its kind in the command's namespace, when it names one) under a
    field manager pulumi-kubernetes takes over on its next update of that object (kubectl's own names when no
    `--field-manager` is given, tests/server_side_apply.py `adopted`): the next `pulumi up` that updates the object
    removes what the command wrote (a `rollout restart` restarts the pods once more, a KEDA pause is lifted
    mid-procedure). A write whose object is only in a file (`-f`) is not seen here."""
    from tests.server_side_apply import APPLY, UPDATE, adopted
    kinds = {kind for kind, *_ in managed}
    found = []
    for words in _kubectl_commands(text):
        args, flags, skip = [], {}, False
        for i, word in enumerate(words[1:], 1):
            if skip:
                skip = False
            elif word.startswith("-"):
                name, _, value = word.partition("=")
                skip = not value and name in KUBECTL_VALUE_FLAGS and i + 1 < len(words)
                flags[name] = value or (words[i + 1] if skip else "")
            else:
                args.append(word)
        verb = next((v for v in KUBECTL_WRITES if args[:len(v.split())] == v.split()), None)
        if verb is None or flags.get("--dry-run", "none") != "none" or "--dry-run" in flags and not flags["--dry-run"]:
            continue
        rest = args[len(verb.split()):]
        if verb == "set":
            rest = rest[1:]  # the set subcommand (image, env, resources, serviceaccount, ...)
        targets = [tuple(a.split("/", 1)) for a in rest if "/" in a and "=" not in a and _kubectl_kind(
            a.split("/", 1)[0], kinds)]
        if not targets and rest and _kubectl_kind(rest[0], kinds):
            names = [a for a in rest[1:2] if "=" not in a and not a.endswith("-")] or \
                [a for a in rest[1:] if "=" not in a and "/" not in a][:1]
            wildcard = not names or "-l" in flags or "--selector" in flags or "--all" in flags
            targets = [(rest[0], "*" if wildcard else names[0])]
        server_side = verb == "apply" and "--server-side" in flags
        manager = flags.get("--field-manager") or ("kubectl" if server_side else f"kubectl-{verb.split()[0]}")
        namespace = flags.get("-n") or flags.get("--namespace") or ""
        namespace = "" if namespace.startswith(("<", "$")) or "$(" in namespace else namespace  # a placeholder: any
        for word, name in targets:
            kind = _kubectl_kind(word, kinds)
            anyone = name == "*" or name.startswith(("<", "$")) or "$(" in name
            if any(k == kind and (anyone or n == name) and (not namespace or not ns or ns[0] == namespace)
                   for k, n, *ns in managed):
                if adopted((manager, APPLY if server_side else UPDATE, "")):
                    found.append(" ".join(words))
                break
    return found


# kubectl's commands that take `--field-manager` (kubectl v1.32.4, each command's --help: the callers of
# cmdutil.AddFieldManagerFlagVar); `scale`, `cordon`/`uncordon`/`drain`, `delete`, `rollout status`/`undo`/`history`,
# `exec`, `logs`, `get` and `wait` refuse it ("unknown flag: --field-manager")
KUBECTL_FIELD_MANAGER_TAKERS = ("annotate", "apply", "autoscale", "create", "edit", "expose", "label", "patch",
                                "replace", "rollout pause", "rollout restart", "rollout resume", "run", "set", "taint")


def field_managers_kubectl_refuses(text: str) -> list[str]:
    """Each kubectl command of a page's code passing `--field-manager` to a command that does not take it: a
    runbook that copies the field manager onto its next line (a `scale`, a `rollout status`) fails there."""
    refused = []
    for words in _kubectl_commands(text):
        if not any(w == "--field-manager" or w.startswith("--field-manager=") for w in words):
            continue
        args, skip = [], False
        for i, word in enumerate(words[1:], 1):
            if skip:
                skip = False
            elif word.startswith("-"):
                skip = "=" not in word and word in KUBECTL_VALUE_FLAGS and i + 1 < len(words)
            else:
                args.append(word)
        if not any(args[:len(v.split())] == v.split() for v in KUBECTL_FIELD_MANAGER_TAKERS):
            refused.append(" ".join(words))
    return refused


def test_a_field_manager_goes_only_to_a_kubectl_command_that_takes_it():
    assert field_managers_kubectl_refuses(
        "```bash\nkubectl -n llm rollout restart deployment/router --field-manager=ops && kubectl -n llm rollout "
        "status deployment/router --field-manager=ops\nkubectl -n llm scale deploy/ollama --replicas 0 "
        "--field-manager ops\n```\n`kubectl cordon -l\n  kubernetes.azure.com/agentpool=gpuod --field-manager=ops`,"
        " `kubectl -n llm annotate so ollama-scaler a.b/c- --field-manager=ops`") == [
        "kubectl -n llm rollout status deployment/router --field-manager=ops",
        "kubectl -n llm scale deploy/ollama --replicas 0 --field-manager ops",
        "kubectl cordon -l kubernetes.azure.com/agentpool=gpuod --field-manager=ops"]
    assert {str(page.relative_to(PROJECT_DIR)): refused for page in DOCS
            if (refused := field_managers_kubectl_refuses(page.read_text()))} == {}


def test_a_kubectl_write_to_what_the_program_manages_names_a_field_manager_of_its_own():
    from tests.conftest import variant
    managed = {(o["kind"], o["metadata"]["name"], o["metadata"].get("namespace", ""))
               for stack in ("dev", "prod", "llmd")
               for o in (r.inputs for r in variant(stack).kubernetes_objects())}
    assert ("Deployment", "router", "llm") in managed and ("ScaledObject", "ollama-scaler", "llm") in managed
    found = {str(page.relative_to(PROJECT_DIR)): kubectl_writes_pulumi_takes_back(page.read_text(), managed)
             for page in DOCS if page.name != "decisions.md"}  # decisions.md quotes commands it discusses
    assert not {page: lines for page, lines in found.items() if lines}


def test_the_field_manager_check_reads_kubectl_as_written():
    managed = {("Deployment", "router"), ("ScaledObject", "ollama-scaler")}
    takes_back = lambda code: kubectl_writes_pulumi_takes_back(f"```bash\n{code}\n```", managed)  # noqa: E731
    assert takes_back("kubectl -n llm rollout restart deployment/router && kubectl -n llm rollout status x")
    assert takes_back("kubectl rollout restart deploy/router --field-manager=kubectl-ops")  # still kubectl's prefix
    assert takes_back("kubectl -n llm annotate scaledobject ollama-scaler a.b/paused-replicas=0")
    assert takes_back("kubectl -n $NS rollout restart deployment/<server>")
    assert not takes_back("kubectl -n llm rollout restart deployment/router --field-manager=ops")
    assert not takes_back("kubectl -n llm annotate scaledobject ollama-scaler a.b/p=0 --field-manager=ops")
    assert not takes_back("kubectl -n llm rollout status deployment/router")  # reads nothing it writes
    assert not takes_back("kubectl -n monitoring rollout restart deployment/grafana")  # the chart's, not ours
    assert not takes_back("kubectl label node aks-gpu-1 llm-platform/x=y")


def test_the_field_manager_check_reads_kubectl_however_the_docs_spell_it():
    """What the check above missed (review, 2026-12-05): an inline span broken over a line (CommonMark joins it), a
    namespace given as `"$(pulumi stack output ...)"` (one shell word), a kind without a name or with `-l`/`--all`
    (`rollout restart` takes every object of the kind then: kubectl v0.34.0 pkg/cmd/rollout/rollout_restart.go
    `ResourceTypeOrNameArgs(true, ...)`), an annotation removed (`key-`, no `=`), a group-qualified or plural kind,
    `--field-manager` given as two words, global flags before the verb, and kubectl's other writes that adopt:
    `set <anything>`, `rollout pause`/`resume` (`kubectl-rollout`), `replace` with a kind and name (`apply` takes
    its object from a file only, which the check cannot read)."""
    managed = {("Deployment", "router"), ("ScaledObject", "ollama-scaler"), ("Deployment", "vllm")}
    prose = lambda text: kubectl_writes_pulumi_takes_back(text, managed)  # noqa: E731
    takes_back = lambda code: prose(f"```bash\n{code}\n```")  # noqa: E731
    assert prose("restart the gate (`kubectl -n llm rollout restart\n  deploy/router`) so nginx reads it")
    assert prose("first `a` then (`kubectl -n llm rollout\n restart deploy/router`), and `kubectl -n llm rollout "
                 "restart deploy/router` too") == ["kubectl -n llm rollout restart deploy/router"] * 2
    assert takes_back('kubectl -n "$(pulumi stack output llmdNamespace)" rollout restart deployment/vllm')
    assert takes_back("kubectl -n llm rollout restart deployment")
    assert takes_back("kubectl -n llm rollout restart deploy -l app.kubernetes.io/name=router")
    assert takes_back("kubectl -n llm annotate deployments.apps --all a=b")
    assert takes_back("kubectl -n llm annotate scaledobject ollama-scaler autoscaling.keda.sh/paused-replicas-")
    assert takes_back("kubectl -n llm annotate scaledobjects.keda.sh/ollama-scaler a=b")
    assert takes_back("kubectl -n llm rollout restart deploy/router --field-manager kubectl-ops")
    assert takes_back("kubectl --context prod -n llm rollout restart deploy/router")
    assert takes_back("kubectl -n llm set serviceaccount deployment router sa")
    assert takes_back("kubectl -n llm rollout pause deploy/router")
    assert takes_back("kubectl -n llm replace deployment router -f router.yaml")
    assert not takes_back("kubectl -n llm rollout restart deploy/router --field-manager ops")
    assert not takes_back('kubectl -n "$(pulumi stack output llmdNamespace)" rollout restart deployment/vllm '
                          "--field-manager=ops")
    assert not takes_back("kubectl -n llm get deploy router -o yaml | kubectl -n llm label -f - x=y --dry-run=client")
    assert not takes_back("kubectl -n llm scale deployment/router --replicas 0")  # the scale subresource: not adopted
    in_llm = {(kind, name, "llm") for kind, name in managed}
    assert kubectl_writes_pulumi_takes_back("`kubectl -n llm edit deploy <name>`", in_llm)
    assert not kubectl_writes_pulumi_takes_back("`kubectl -n monitoring edit deploy <name>`", in_llm)  # the chart's


# `kubectl -n <namespace> logs <what> ... -c <container>`: a label selector, a `deploy/<name>` or a `<pod>` placeholder
KUBECTL_LOGS = re.compile(r"kubectl -n (\S+) logs (?:-l (\S+)|deploy(?:ment)?/([a-z0-9-]+)|<[^>]+>)[^|;&\n]*? "
                          r"-c ([a-z0-9-]+)")


def logged_containers(text: str) -> list[tuple[str, Optional[str], Optional[str], str]]:
    """(namespace, label selector, Deployment, container) of every `kubectl -n ... logs ... -c ...` in a page's code."""
    return [(ns, selector or None, deployment or None, container) for code in _code(text)
            for ns, selector, deployment, container in KUBECTL_LOGS.findall(code)]


def test_a_container_the_docs_read_the_logs_of_runs_in_that_namespace():
    """Each `kubectl -n NS logs -l KEY=VALUE|deploy/NAME|<pod> -c CONTAINER` of a page, in a namespace the program's
    own Deployments run in, names a container of a Deployment there that the selector picks (the gate's `nginx` and
    `key-map-reloader`, in `llm` and llm-d's namespace) on one of the stacks: a renamed container or a wrong namespace
    has `kubectl logs` answer "container ... is not valid" or "No resources found" in the middle of a runbook.
    Namespaces only a Helm release fills (gpu-operator's) are left out."""
    assert logged_containers("`kubectl -n llm logs -l app.kubernetes.io/name=router -c key-map-reloader --prefix` and\n"
                             "```bash\nkubectl -n llm logs <pod> -c nginx\nkubectl -n x logs deploy/y -c z -f\n```") == [
        ("llm", None, None, "nginx"), ("x", None, "y", "z"),
        ("llm", "app.kubernetes.io/name=router", None, "key-map-reloader")]
    from tests.conftest import variant
    workloads: dict[str, list[tuple[str, dict[str, str], set[str]]]] = {}
    for stack in ("dev", "prod", "llmd"):
        for obj in (r.inputs for r in variant(stack).kubernetes_objects()):
            if obj["kind"] in ("Deployment", "StatefulSet", "DaemonSet"):
                template = obj["spec"]["template"]
                workloads.setdefault(obj["metadata"]["namespace"], []).append(
                    (obj["metadata"]["name"], template["metadata"].get("labels", {}),
                     {c["name"] for c in template["spec"]["containers"]}))
    checked, wrong = 0, []
    for page in CURRENT_DOCS:
        for ns, selector, deployment, container in logged_containers(page.read_text()):
            if ns not in workloads:
                continue
            checked += 1
            label = dict([selector.split("=", 1)]) if selector else {}
            if not any(container in containers and label.items() <= labels.items() and deployment in (None, name)
                       for name, labels, containers in workloads[ns]):
                wrong.append((page.name, ns, selector or deployment, container))
    assert checked >= 4 and wrong == []


# the way the runbooks find a URN: `pulumi stack --show-urns | grep -o 'urn:pulumi:[^ ]*<type>::<name>'`
URN_GREP = re.compile(r"grep -o 'urn:pulumi:\[\^ \]\*([^']+)'")


def test_a_urn_the_docs_grep_for_is_one_a_stack_registers():
    """Each `grep -o 'urn:pulumi:[^ ]*<type>::<name>'` of a page (the rotation's RandomPassword, the database, the
    preload Job, ...) ends an engine URN of a resource one of the stacks registers: a renamed resource leaves the
    grep empty and the `pulumi up --replace "$URN"` or `state unprotect` after it runs on nothing."""
    from offline.plan_diff.urns import engine_urns
    from tests.conftest import plan_for, variant
    assert URN_GREP.findall("URN=$(pulumi stack --show-urns | grep -o 'urn:pulumi:[^ ]*Job::models-preload')") == [
        "Job::models-preload"]
    urns: set[str] = set()
    for plan in (*(variant(s) for s in ("dev", "prod", "llmd")), plan_for("global")):
        urns |= set(engine_urns({r.urn: {"parent": r.parent, "type": r.type, "name": r.name}
                                 for r in plan.resources}).values())
    greps = [(page.name, tail) for page in CURRENT_DOCS for code in _code(page.read_text())
             for tail in URN_GREP.findall(code)]
    assert len(greps) >= 5
    assert [(page, tail) for page, tail in greps if not any(urn.endswith(tail) for urn in urns)] == []
