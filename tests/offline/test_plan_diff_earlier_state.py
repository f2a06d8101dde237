"""A base plan of an earlier kit (0.21.0 and before: no `propertyDependencies`): the check reads the deployed
state's from the base checkout's own program, planned again by its own kit (offline/plan_diff/earlier_state.py), and
the engine's delete-first chain from them (pulumi/pulumi 1b5949891b pkg/resource/deploy/step_generator.go
`calculateDependentReplacements`): a `depends_on` edge alone replaces nothing, and a Helm release is replaced on its
`name` or `namespace` alone (pulumi-kubernetes 94977969 provider/pkg/provider/helm_release.go `forceNewFields`)."""
import contextlib
import copy
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Optional

import pytest

from offline import plan_diff
from offline.plan_diff import cli, compare, earlier_state

from tests.conftest import plan_for, variant
from tests.offline.test_plan_diff_property_deps import BIGGER_POOL
from tests.offline.plan_diff_cli import plan_document, without_property_dependencies

REPO = Path(__file__).resolve().parents[2]
EARLIER_KIT = compare.EARLIER_KIT
WAY_ROUND = "replaced only because the deployed state, an earlier release's, ties it"
RELEASE, DEPLOYMENT, JOB = "kubernetes:helm.sh/v3:Release", "kubernetes:apps/v1:Deployment", "kubernetes:batch/v1:Job"


def _named(doc: dict, type_: str, name: str) -> str:
    (urn,) = [u for u, r in doc.items() if r["type"] == type_ and r["name"] == name]
    return urn


def _write(folder: Path, doc: dict) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "resources.json").write_text(json.dumps({"resources": list(doc.values())}))
    return folder


def _checkout(tmp_path: Path, base: dict, stack: str = "dev", python: Optional[str] = None) -> Path:
    """A base branch's checkout as the pull request's check has it (`make plan` there made `.venv` and
    `build/<stack>`): this repository's program, kit and interpreter, and the base plan an earlier kit wrote.
    `python`: a shell script in place of the interpreter."""
    root = tmp_path / "base"
    root.mkdir()
    for part in REPO.iterdir():  # the program, its stack files, its kit (offline/, policy/ ...), not its plans
        if part.name not in ("build", ".venv", ".git"):
            (root / part.name).symlink_to(part)
    if python is None:
        (root / ".venv").symlink_to(Path(sys.prefix))  # the suite's own virtualenv, with this kit installed
    else:
        (root / ".venv" / "bin").mkdir(parents=True)
        (root / ".venv" / "bin" / "python").write_text(f"#!/bin/sh\n{python}\n")
        (root / ".venv" / "bin" / "python").chmod(0o755)
    return _write(root / "build" / stack, base)


_SUBPROCESS_RUN = subprocess.run


class _SharedReplan:
    """earlier_state's re-plan of a base checkout (its RECORDER in the checkout's interpreter, in a subprocess), run
    for real the first time a stack is asked for and given again after: every checkout `_checkout` makes links this
    repository's program, kit and interpreter, and the re-plan reads nothing of the base plan the check compares it
    with (it writes to a folder of its own), so a second one is the same program run again (~4 s of CPU)."""

    def __init__(self, kept: Path) -> None:
        self.kept, self.done = kept, {}

    def __call__(self, argv: list[str], **options) -> subprocess.CompletedProcess:
        if len(argv) != 6 or argv[1:3] != ["-c", earlier_state.RECORDER]:
            return _SUBPROCESS_RUN(argv, **options)  # not the re-plan
        python, _, _, stack, plan_out, deps_file = argv
        # the same stack of the same checkout (what each of its entries is, a link's target: the program, its stack
        # files, the kit; a file of its own, such as an edited stack file, is its own), by the same interpreter
        root = Path(options["cwd"])
        key = (stack, Path(python).resolve(),
               tuple(sorted((part.name, part.resolve()) for part in root.iterdir() if part.name != "build")))
        if key not in self.done:
            run = _SUBPROCESS_RUN(argv, **options)
            if run.returncode == 0:
                kept = self.kept / str(len(self.done))
                shutil.copytree(plan_out, kept / "plan")
                shutil.copyfile(deps_file, kept / "deps.json")
                self.done[key] = (run, kept)
            return run
        run, kept = self.done[key]
        shutil.copytree(kept / "plan", plan_out)
        shutil.copyfile(kept / "deps.json", deps_file)
        return run


@pytest.fixture(scope="module")
def shared_replan(tmp_path_factory) -> _SharedReplan:
    return _SharedReplan(tmp_path_factory.mktemp("replans"))


@pytest.fixture
def replan_once(shared_replan, monkeypatch) -> None:
    """The module's dev re-plans made once (`_SharedReplan`)."""
    monkeypatch.setattr(earlier_state.subprocess, "run", shared_replan)


def test_the_shared_replan_is_not_given_to_a_checkout_with_a_file_or_virtualenv_of_its_own(tmp_path):
    """Checkouts of the same kit and interpreter binary, one with a stack file of its own (not this repository's),
    one with a virtualenv of its own (another kit installed; its python a link to the same binary, as a venv's is):
    each gets its own re-plan, not the first one's (keyed by the `offline` link and the resolved python alone, both
    got the first's)."""
    binary = tmp_path / "interpreter"  # its re-plan's plan: the stack file, and the virtualenv that ran it
    binary.write_text('#!/bin/sh\nmkdir -p "$4" && { cat "Pulumi.$3.yaml"; readlink -f .venv; } > "$4/plan" && '
                      'echo {} > "$5"\n')
    binary.chmod(0o755)
    venvs = [tmp_path / "venv0", tmp_path / "venv1"]
    for venv in venvs:
        (venv / "bin").mkdir(parents=True)
        (venv / "bin" / "python").symlink_to(binary)
    shared, made, expected = _SharedReplan(tmp_path / "kept"), [], []
    for n, (text, venv) in enumerate((("config: {}\n", venvs[0]), ("config: {edited: true}\n", venvs[0]),
                                      ("config: {}\n", venvs[1]))):
        root = tmp_path / f"checkout{n}"
        root.mkdir()
        (root / "offline").symlink_to(REPO / "offline")
        (root / ".venv").symlink_to(venv)
        (root / "Pulumi.dev.yaml").write_text(text)
        out, deps = tmp_path / f"plan{n}", tmp_path / f"deps{n}.json"
        run = shared([str(root / ".venv/bin/python"), "-c", earlier_state.RECORDER, "dev", str(out), str(deps)],
                     cwd=root, capture_output=True, encoding="utf-8", check=False)
        assert run.returncode == 0, run.stderr
        made.append((out / "plan").read_text())
        expected.append(f"{text}{venv}\n")
    assert made == expected


def _run(base: Path, new: Path) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main([str(base), str(new)])
    return code, out.getvalue(), err.getvalue()


def _lines(text: str, urn: str, doc: dict) -> list[str]:
    """The report's lines on the resource: its heading names it by the engine's URN, shortened."""
    short = plan_diff.short_urn(plan_diff.engine_urns(doc)[urn])
    return [line for line in text.splitlines()
            if line.startswith("- ") and line.count("`") > 1 and line.split("`")[1] == short]


def _resized_and_migrated() -> dict:
    """dev with a bigger CPU workload pool (replaced under its own name, deleted first) and the UI's migration Job's
    template changed under its name (replaced, deleted first: its deleteBeforeReplace)."""
    new = plan_document(plan_for("dev", BIGGER_POOL))
    job = new[_named(new, JOB, "inference-webui-migrate")]
    job["inputs"]["spec"]["template"]["spec"]["containers"][0]["env"].append({"name": "X", "value": "1"})
    return new


def test_the_state_s_own_dependencies_keep_helm_releases_and_the_ui_out_of_the_chain(tmp_path, replan_once):
    """The base checkout planned again gives the state's property dependencies: the Helm releases' `values` come
    from the CPU pool, which a Release's Diff does not replace on (only `name`, `namespace`), and Open-WebUI's
    Deployment waits for the pool and its migration Job by `depends_on` alone, which the engine's chain does not
    follow. Without them (the check before) each got a "Check before merging" line naming the two-run way round."""
    base = without_property_dependencies(plan_document(variant("dev")))
    new = _resized_and_migrated()
    pool = _named(new, "azure-native:containerservice:AgentPool", "platform-cpu")
    migrate, ui = _named(new, JOB, "inference-webui-migrate"), _named(new, DEPLOYMENT, "inference-webui")
    releases = [u for u in new if new[u]["type"] == RELEASE and pool in base[u]["dependencies"]]
    assert releases and {pool, migrate} <= set(base[ui]["dependencies"])
    # the value matching alone (no checkout to read the state from) names each of them
    fallback = plan_diff.diff_documents(base, new)
    assert {pool, migrate} <= set(fallback["deleteBeforeReplace"])
    assert all(any(EARLIER_KIT in line for line in fallback["checks"].get(u, [])) for u in [ui, *releases])

    # ... the release's by the keys its Diff replaces on, which the state may tie to the pool for all it says
    assert all(any("where its `name` or `namespace` comes from it" in line for line in fallback["checks"][u])
               for u in releases)

    code, out, err = _run(_checkout(tmp_path, base), _write(tmp_path / "new", new))
    for urn in [ui, *releases]:
        assert not any(line.startswith("- Replace:") for line in _lines(out, urn, new)), urn
        assert not any(line.startswith("- Check before merging:") for line in _lines(out, urn, new)), out
    assert EARLIER_KIT not in out and WAY_ROUND not in out, out
    assert code in (0, 1) and "read from its checkout's program" in err, err
    assert any(line.startswith("- Replace:") and "deleted first" in line for line in _lines(out, pool, new)), out


def test_a_base_checkout_whose_plan_differs_keeps_the_line_and_says_why(tmp_path, replan_once):
    """A base folder whose checkout, planned again, registers other resources (a stale build/ folder): its property
    dependencies would be another plan's, so the check keeps the line for every resource the state may tie, and says
    why it could not read the state's own."""
    base = without_property_dependencies(plan_document(variant("dev")))
    new = _resized_and_migrated()
    ui = _named(new, DEPLOYMENT, "inference-webui")
    stale = copy.deepcopy(base)
    stale[ui]["inputs"]["metadata"]["labels"]["stale"] = "yes"
    code, out, _ = _run(_checkout(tmp_path, stale), _write(tmp_path / "new", new))
    (line,) = [line for line in _lines(out, ui, new) if EARLIER_KIT in line]
    assert f"`{ui}` has other inputs" in line and "is not this base plan" in line, line


def test_the_earlier_state_s_tie_replaces_ollama_and_names_the_way_round(tmp_path, monkeypatch):
    """0.21.0's state holds the preload Job in Ollama's `spec` property dependencies (the claim name waited for it;
    read from 0.21.0's own program, docs/decisions.md): the Job's replacement under its name, deleted first, takes
    Ollama's Deployment down with it. The check lists it replaced, deleted first, and, since this release's program
    does not tie it to the Job, the way round: a run that excludes the Job records this release's dependencies
    first. (0.21.0's ScaledObject and InterceptorRoute, their `metadata` from Ollama, went with it: checked against
    0.21.0's own checkout, docs/decisions.md.)"""
    head = plan_document(variant("dev"))
    job, ollama = _named(head, JOB, "models-preload"), _named(head, DEPLOYMENT, "inference-ollama")
    state = copy.deepcopy(head)
    state[ollama]["propertyDependencies"]["spec"] = sorted({*state[ollama]["propertyDependencies"]["spec"], job})
    new = copy.deepcopy(head)
    env = new[job]["inputs"]["spec"]["template"]["spec"]["containers"][0]["env"]
    (sizes,) = [e for e in env if e["name"] == "MODEL_SIZES_MIB"]
    sizes["value"] += "1"  # a size corrected
    base = _checkout(tmp_path, without_property_dependencies(state))
    asked = []

    def recover(folder, old_res, stack):
        asked.append((folder, stack))
        assert all("propertyDependencies" not in r for r in old_res.values())
        return copy.deepcopy(state), ""
    monkeypatch.setattr(cli, "recover", recover)
    code, out, _ = _run(base, _write(tmp_path / "new", new))
    assert asked == [(base, "dev")]
    engine = plan_diff.engine_urns(new)[job]
    assert any(line.startswith("- Replace:") and "deleted first" in line for line in _lines(out, ollama, new)), out
    (line,) = [line for line in _lines(out, ollama, new) if WAY_ROUND in line]
    assert f"`pulumi up --exclude '{engine}'`" in line and f"`{plan_diff.short_urn(engine)}`" in line, line
    assert "2 to replace" in out and not any(EARLIER_KIT in line for line in out.splitlines()), out
    # the state as this release writes it (its own dependencies): the Job is replaced alone, and no line
    code, out, _ = _run(_write(tmp_path / "head", head), tmp_path / "new")
    assert not any(line.startswith("- Replace:") for line in _lines(out, ollama, new)) and WAY_ROUND not in out


def test_a_global_base_is_read_from_its_checkout(tmp_path):
    """The global stack's plan plans its regional stacks first, into the same folder: the state's property
    dependencies are the global stack's own plan's, beside its regions'."""
    head = plan_document(plan_for("global"))
    base = without_property_dependencies(head)
    state, why_not = earlier_state.recover(_checkout(tmp_path, base, "global"), base, "global")
    assert state is not None, why_not
    assert {u: r["propertyDependencies"] for u, r in state.items()} == \
        {u: {k: v for k, v in r["propertyDependencies"].items() if v} for u, r in head.items()}


def _earlier_kit_lines(tmp_path: Path, python: str) -> list[str]:
    """The check's lines on an earlier kit's base whose checkout's interpreter is the shell script `python`."""
    base = without_property_dependencies(plan_document(variant("dev")))
    new = _resized_and_migrated()
    code, out, err = _run(_checkout(tmp_path, base, python=python), _write(tmp_path / "new", new))
    assert code in (0, 1), err
    lines = [line for line in out.splitlines() if EARLIER_KIT in line]
    assert lines, out
    return lines


def test_a_hung_base_checkout_is_said_in_a_few_words(tmp_path, monkeypatch):
    """A re-plan that does not end: stopped, and said as such, not by the command (the recorder's script) that
    the subprocess module's message holds."""
    monkeypatch.setattr(earlier_state, "REPLAN_SECONDS", 1)
    for line in _earlier_kit_lines(tmp_path, "exec sleep 30"):
        assert "did not plan it again within 1 s" in line and "RecordingMonitor" not in line, line


def test_a_base_checkout_s_output_that_is_not_utf8_is_its_failure_not_the_plans(tmp_path):
    """A byte that is not UTF-8 in what the re-plan printed: its failure reported on the line, the diff made (before,
    the decoding error ended the check as "cannot diff" the two plans, exit 2)."""
    for line in _earlier_kit_lines(tmp_path, r"printf 'broken \377\n' >&2; exit 1"):
        assert "could not plan it again (exit 1: broken" in line, line


def test_a_base_folder_outside_a_checkout_keeps_the_line_and_says_why(tmp_path):
    """A base plan copied out of its checkout (an artifact, a folder of its own): nothing to plan again, no run."""
    base = without_property_dependencies(plan_document(variant("dev")))
    new = _resized_and_migrated()
    folder = _write(tmp_path / "artifact" / "dev", base)
    code, out, err = _run(folder, _write(tmp_path / "new", new))
    lines = [line for line in out.splitlines() if EARLIER_KIT in line]
    assert lines and code in (0, 1), err
    for line in lines:
        assert f"{folder} is not `build/<stack>` of a checkout whose `make plan` made `.venv`" in line, line
