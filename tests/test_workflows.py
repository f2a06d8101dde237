"""The pull-request workflows: valid GitHub Actions (check-jsonschema's built-in schema, offline), pinned actions,
the same make targets the README documents, and a plan diff a reviewer can read."""
import json
import re
import subprocess
import sys
from pathlib import Path

import yaml

from offline import plan_diff

from .conftest import PROJECT_DIR

WORKFLOWS = sorted((PROJECT_DIR / ".github" / "workflows").glob("*.yml"))


def test_workflows_pass_the_github_workflow_schema():
    checker = Path(sys.executable).with_name("check-jsonschema")
    result = subprocess.run([str(checker), "--builtin-schema", "vendor.github-workflows", *map(str, WORKFLOWS)],
                            capture_output=True, text=True, timeout=60)
    assert len(WORKFLOWS) == 2 and result.returncode == 0, result.stdout + result.stderr


def _steps():
    for path in WORKFLOWS:
        for job in yaml.safe_load(path.read_text())["jobs"].values():
            yield from job["steps"]


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


def _plan_dir(tmp_path, name, resources):
    folder = tmp_path / name
    folder.mkdir()
    (folder / "resources.json").write_text(json.dumps({"resources": resources}))
    return folder


def test_plan_diff_names_added_removed_and_changed_inputs(tmp_path, capsys):
    def res(urn, inputs, protect=False):
        return {"urn": f"urn:pulumi:dev::p::t::{urn}", "inputs": inputs, "options": {"protect": protect}}
    base = _plan_dir(tmp_path, "base", [res("a", {"x": 1}), res("b", {"y": {"z": 1}}), res("c", {})])
    new = _plan_dir(tmp_path, "new", [res("a", {"x": 1}), res("b", {"y": {"z": 2}}, protect=True), res("d", {})])
    assert plan_diff.main([str(base), str(new), "--title", "dev"]) == 0
    out = capsys.readouterr().out
    assert "1 to add, 1 to update, 0 to replace, 1 to delete" in out
    assert "Add: `t::d`" in out and "Delete: `t::c`" in out and "Update: `t::b` (y.z, (protect))" in out
    assert plan_diff.main([str(tmp_path / "missing"), str(new)]) == 0
    assert "every resource is new" in capsys.readouterr().out
    assert plan_diff.main([str(base), str(tmp_path / "missing")]) == 2


def test_plan_diff_shows_the_cost_change(tmp_path, capsys):
    def folder(name, idle, peak, component):
        path = _plan_dir(tmp_path, name, [])
        (path / "cost.json").write_text(json.dumps({"idleMonthly": idle, "peakMonthly": peak, "byComponent": {
            component: {"idle": idle, "peak": peak}}}))
        return path
    base, new = folder("b", 100.0, 200.0, "GpuNodePool gpu"), folder("n", 150.0, 260.0, "GpuNodePool gpu")
    assert plan_diff.main([str(base), str(new)]) == 0
    out = capsys.readouterr().out
    assert "idle $100.00 -> $150.00 (+50.00)" in out and "- GpuNodePool gpu: idle +50.00, peak +60.00" in out


def test_the_offline_job_plans_every_stack_file():
    """A stack file the pull-request job does not plan is a stack nobody checks before `pulumi up`."""
    offline = yaml.safe_load((PROJECT_DIR / ".github" / "workflows" / "offline.yml").read_text())
    matrices = [job.get("strategy", {}).get("matrix", {}).get("stack") for job in offline["jobs"].values()]
    planned = {s for m in matrices if m for s in m}
    stacks = {p.name[len("Pulumi."):-len(".yaml")] for p in PROJECT_DIR.glob("Pulumi.*.yaml")}
    assert planned == stacks


def _stack_jobs(workflow: str) -> dict[str, tuple[set[str], set[str]]]:
    """job -> (stacks of its matrix, jobs it needs, transitively)."""
    jobs = yaml.safe_load((PROJECT_DIR / ".github" / "workflows" / workflow).read_text())["jobs"]

    def needs(job: str) -> set[str]:
        direct = jobs[job].get("needs") or []
        direct = [direct] if isinstance(direct, str) else direct
        return set(direct).union(*(needs(d) for d in direct)) if direct else set()
    return {name: (set(job.get("strategy", {}).get("matrix", {}).get("stack") or []), needs(name))
            for name, job in jobs.items()}


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
