"""`make plan` end to end: the offline banner, the tree, build/<stack>/ files, and clean failures."""
from __future__ import annotations

import copy
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from offline import plan as plan_cli, runner

from tests.conftest import PROJECT_DIR, plan_for


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "offline.plan", *args], cwd=PROJECT_DIR, capture_output=True,
                          text=True, timeout=120)


# Valid but risky settings: the plan goes ahead and warns, naming the cost or the exposure.
RISKY = ["gpu.maxCount=100", "gpu.vmSize=Standard_ND96isr_H100_v5",
         "cluster.apiAccess.mode=authorizedIps", "cluster.apiAccess.authorizedIpRanges[0]=0.0.0.0/0",
         "gateway.rateLimitPerSecond=100000", "inference.accelerator=gpu", "inference.replicas=3", "gpu.maxCount=1",
         "gpu.vmSize=Standard_NC4as_T4_v3", "cluster.imageRegistry=mirrorexample.azurecr.io"]


def test_plan_writes_resources_and_manifests_and_warns_about_risky_settings(tmp_path, capsys, monkeypatch):
    # the CLI's own main (as `python -m offline.plan` calls it; that entry point runs in test_unknown_stack_is_named),
    # in process so the SDK imports are not paid twice in the suite
    sets = [arg for s in RISKY for arg in ("--set", s)]
    project = runner.project_file(runner.PROJECT_DIR)
    assert project.pop("options") == {"refresh": "always"}  # a project that does not refresh first is warned
    monkeypatch.setattr(runner, "project_file", lambda program_dir: copy.deepcopy(project))
    monkeypatch.setenv("PULUMI_PARALLEL", "3")  # the flag wins over the variable, as the CLI's does
    assert plan_cli.main(["--stack", "dev", "--out", str(tmp_path), *sets, "--preview", "--parallel", "8"]) == 0
    out = capsys.readouterr().out
    assert "engine: at most 8 creates at once (pulumi up --parallel 8;" in out
    # the new stack's preview of this config shows what `up` creates (offline.fresh_preview)
    assert "fresh pulumi preview: 134 resources to create, as `pulumi up` creates them" in out
    warnings = [line for line in out.splitlines() if line.startswith("warning: ")]
    assert any("0.0.0.0/0" in w and "whole internet" in w for w in warnings)
    assert any("100000/s" in w and "no limit" in w for w in warnings)
    assert any("Pending" in w for w in warnings)
    stale = [w for w in warnings if "options: {refresh: always}" in w]
    assert len(stale) == 1 and all(f"{pool} (count, orchestratorVersion)" in stale[0] for pool in ("platform-cpu",
                                                                                                   "gpu-gpu"))
    assert "OFFLINE PLAN" in out and "nothing is created" in out
    assert "+ llmplatform:index:AksCluster platform" in out
    assert "kubeconfig: [secret]" in out
    # a what-if never lands over the stack's own plan (the PR diff and a reader of build/dev/ trust it)
    assert not (tmp_path / "dev").exists()
    assert f"python -m offline.plan_diff {tmp_path / 'dev'} {tmp_path / 'dev.what-if'}" in out
    # that folder holds no plan of the stack yet: the hint says how to make it (a stranger followed it to nothing)
    assert f"plan the stack itself there first: .venv/bin/python -m offline.plan --stack dev --out {tmp_path}" in out
    doc = json.loads((tmp_path / "dev.what-if" / "resources.json").read_text())
    types = {r["type"] for r in doc["resources"]}
    assert {"azure-native:containerservice:ManagedCluster", "kubernetes:core/v1:PersistentVolumeClaim"} <= types
    assert doc["outputs"]["kubeconfig"] == "[secret]"
    provider = next(r for r in doc["resources"] if r["type"] == "pulumi:providers:kubernetes")
    assert provider["inputs"]["kubeconfig"] == "[secret]"  # secret inputs never reach the plan files
    # a mirror: every image pulled from it, the pack told so (and it passed), the copy command named
    pulled = json.loads((tmp_path / "dev.what-if" / "images.json").read_text())
    assert pulled["images"] and all(e["pulls"].startswith("mirrorexample.azurecr.io/") for e in pulled["images"])
    assert json.loads((tmp_path / "dev.what-if" / "policy-config.json").read_text()) == {
        "images-from-allowed-registries": {"allowedRegistries": ["mirrorexample.azurecr.io"]}}
    assert "make images STACK=dev.what-if" in out and "policy VIOLATION" not in out
    files = sorted((tmp_path / "dev.what-if" / "manifests").glob("*.yaml"))
    kinds = {yaml.safe_load(f.read_text())["kind"] for f in files}
    assert {"Namespace", "PersistentVolume", "PersistentVolumeClaim", "Job"} <= kinds
    deploy = json.loads((tmp_path / "dev.what-if" / "deploy.json").read_text())
    assert deploy["summary"] in out and deploy["criticalPath"] and deploy["problems"] == []
    assert deploy["parallel"] == 8 and all(minutes >= 0 for minutes in deploy["queuedForWorker"].values())
    # README's list of what `make plan` writes names every file and folder a reader finds there (its own marker
    # aside): policy-config.json, which `make up` hands the policy pack, was missing from it
    listed = set(re.findall(r"^- `build/<stack>/([\w.-]+)", (PROJECT_DIR / "README.md").read_text(), re.M))
    assert {p.name for p in (tmp_path / "dev.what-if").iterdir()} - {plan_cli.PLAN_MARKER} <= listed, listed
    # and the plan's "Wrote" line names each of them too (policy-config.json was left out of it)
    wrote = next(line for line in out.splitlines() if line.startswith("Wrote "))
    assert all(f"{tmp_path / 'dev.what-if' / p.name}" in wrote
               for p in (tmp_path / "dev.what-if").iterdir() if p.name != plan_cli.PLAN_MARKER), wrote


def test_bad_config_exits_nonzero_with_the_message_only(tmp_path, capsys):
    stale = tmp_path / "dev.what-if"  # an earlier what-if: plan_diff must not report it as this one
    stale.mkdir()
    (stale / "resources.json").write_text("{}")
    code = plan_cli.main(["--stack", "dev", "--out", str(tmp_path), "--set", "gpu.minCount=2",
                          "--set", "gpu.maxCount=1"])
    captured = capsys.readouterr()
    assert code == 1
    assert "gpu.maxCount 1 is invalid; allowed: at least gpu.minCount (2)" in captured.err
    assert "Traceback" not in captured.err + captured.out
    assert not list(tmp_path.iterdir())  # nothing written, neither the plan nor a what-if


def test_unknown_stack_is_named(tmp_path):
    result = run_cli("--stack", "no-such-stack", "--out", str(tmp_path))
    assert result.returncode == 2 and "Pulumi.no-such-stack.yaml" in result.stderr and "dev" in result.stderr


SDK = ("pulumi", "pulumi_azure_native", "pulumi_kubernetes", "pulumi_random", "grpc", "llmplatform")


def imports_of(*args: str) -> tuple[subprocess.CompletedProcess, set[str]]:
    """`python -m offline.plan ARGS` in a fresh interpreter, with the top-level packages it imported (-X importtime)."""
    result = subprocess.run([sys.executable, "-X", "importtime", "-m", "offline.plan", *args], cwd=PROJECT_DIR,
                            capture_output=True, text=True, timeout=120)
    imported = {line.rsplit("|", 1)[1].strip().split(".")[0] for line in result.stderr.splitlines()
                if line.startswith("import time:")}
    assert "offline" in imported, result.stderr[-2000:]  # the output was read
    result.stderr = "".join(line + "\n" for line in result.stderr.splitlines() if not line.startswith("import time:"))
    return result, imported


def test_refusals_that_need_no_program_run_do_not_import_the_sdk(tmp_path):
    """A mistyped command is told in a fraction of a second: neither the Pulumi SDK nor the component package (about
    3 s of CPU) is imported before these refusals, each with the message and exit code it had after them."""
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("")
    (tmp_path / "out" / "dev").mkdir(parents=True)  # a folder of the stack's name that holds no plan
    broken = tmp_path / "Pulumi.broken.yaml"
    broken.write_text("config:\n  aks-llm-platform:location: [westeurope\n")
    stale = tmp_path / "stale" / "dev.what-if"  # a previous what-if, removed before the file is refused
    stale.mkdir(parents=True)
    (stale / plan_cli.PLAN_MARKER).write_text("")
    out = str(tmp_path / "build")
    cases = [
        (["--stack", "no-such-stack", "--out", out], 2, "no stack file"),
        (["--stack", "../x", "--out", out], 2, "stack name '../x' is not valid"),
        (["--stack", "dev", "--out", str(not_a_folder)], 2, f"{not_a_folder} is not a folder"),
        (["--stack", "dev", "--out", out, "--stack-file", str(tmp_path / "none.yaml")], 2, "no such file"),
        (["--stack", "dev", "--out", out, "--stack-file", str(tmp_path)], 2,
         f"--stack-file {tmp_path}: a folder, not a stack file"),
        (["--stack", "dev", "--out", str(tmp_path / "out")], 2, "holds no plan"),
        (["--stack", "dev", "--out", out, "--stack-file", str(broken)], 1, "Pulumi.broken.yaml: not valid YAML"),
        (["--stack", "dev", "--out", str(tmp_path / "stale"), "--stack-file", str(broken)], 1,
         f"the previous plan in {stale}/ was removed"),
        (["--out", out], 2, "the following arguments are required: --stack"),
        (["--stack", "dev", "--sett", "x=1"], 2, "unrecognized arguments: --sett"),
    ]
    for args, code, message in cases:
        result, imported = imports_of(*args)
        assert result.returncode == code and message in result.stderr, (args, result.stderr)
        assert "Traceback" not in result.stderr and not imported & set(SDK), (args, sorted(imported & set(SDK)))
    assert not stale.exists() and not (tmp_path / "build").exists()
    # not among them: a refused --set, whose message lists every other problem the config check (the component
    # package's rules) finds in the rest (test_config_messages_say_what_to_do)


@pytest.mark.parametrize("stack", ["..", ".", "", "../escape", "a/b"])
def test_a_stack_name_that_is_no_folders_removes_nothing(tmp_path, capsys, stack):
    """The plan's folder is <out>/<stack>/, emptied before planning: a name that is --out itself or its parent
    ('..' once emptied the whole checkout) is refused before anything is removed, with or without --stack-file."""
    out = tmp_path / "checkout" / "build"
    (out / "dev").mkdir(parents=True)
    (out / "dev" / "resources.json").write_text("{}")
    (tmp_path / "checkout" / "keep.txt").write_text("mine")
    for extra in ([], ["--stack-file", str(PROJECT_DIR / "Pulumi.dev.yaml")]):
        code = plan_cli.main(["--stack", stack, "--out", str(out), *extra])
        err = capsys.readouterr().err
        assert code == 2 and f"stack name {stack!r} is not valid" in err and "Traceback" not in err
        assert (out / "dev" / "resources.json").is_file() and (tmp_path / "checkout" / "keep.txt").is_file()


def test_only_a_plans_folder_is_ever_removed(tmp_path, capsys):
    """A name that is no stack's (`--out ~ --stack .ssh`), a folder of the stack's name that holds no plan, and a
    link in the plan folder's place: nothing but a plan (or the link itself) is removed."""
    out = tmp_path / "home"
    (out / ".ssh").mkdir(parents=True)
    (out / ".ssh" / "id_rsa").write_text("key")
    assert plan_cli.main(["--stack", ".ssh", "--out", str(out)]) == 2
    assert "no stack file" in capsys.readouterr().err and (out / ".ssh" / "id_rsa").is_file()
    (out / "dev").mkdir()
    (out / "dev" / "notes.md").write_text("mine")
    assert plan_cli.main(["--stack", "dev", "--out", str(out)]) == 2
    assert "holds no plan" in capsys.readouterr().err and (out / "dev" / "notes.md").is_file()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "resources.json").write_text("{}")
    (out / "dev.what-if").symlink_to(elsewhere, target_is_directory=True)
    assert plan_cli.clear(out / "dev.what-if") is True
    assert not (out / "dev.what-if").exists() and (elsewhere / "resources.json").is_file()


def test_a_global_stacks_region_named_dot_dot_removes_nothing(tmp_path, capsys):
    """A region of global.regions is planned into <out>/<region>/ first: its name is checked like --stack's."""
    out = tmp_path / "build"
    (out / "dev").mkdir(parents=True)
    stack_file = tmp_path / "Pulumi.global.yaml"
    config = yaml.safe_load((PROJECT_DIR / "Pulumi.global.yaml").read_text())
    config["config"][f"{runner.project_name()}:global"]["regions"] = [".."]
    stack_file.write_text(yaml.safe_dump(config))
    code = plan_cli.main(["--stack", "global", "--out", str(out), "--stack-file", str(stack_file)])
    err = capsys.readouterr().err
    assert code == 1 and "global.regions entry '..' is not another stack's name" in err, err
    assert (out / "dev").is_dir() and (tmp_path / "Pulumi.global.yaml").is_file()
    # and should a region name reach the planner unchecked, it still removes nothing
    assert plan_cli.plan_one("..", str(out), [], None, {})[0] == 2
    assert (out / "dev").is_dir()


def test_a_global_stacks_own_config_is_refused_before_its_regions_are_planned(tmp_path, capsys, monkeypatch):
    planned = []
    monkeypatch.setattr(plan_cli, "plan_one", lambda stack, *a, **k: planned.append(stack) or (0, None))
    rc = plan_cli.main(["--stack", "global", "--out", str(tmp_path), "--set", "global.fleet.channel=Fast",
                        "--set", "global.frontDoor.sku=Gold"])
    err = capsys.readouterr().err
    assert rc == 1 and planned == []  # not one region planned for a config that cannot run
    assert "global.fleet.channel 'Fast'" in err and "global.frontDoor.sku 'Gold'" in err and "Traceback" not in err
    # a listed stack that is no regional stack of this one (prod names no edge.globalStack): also before any plan
    rc = plan_cli.main(["--stack", "global", "--out", str(tmp_path), "--set", "global.regions[1]=prod"])
    err = capsys.readouterr().err
    assert rc == 1 and planned == [] and "'prod': Pulumi.prod.yaml has no edge.globalStack set" in err


def test_the_set_examples_in_the_help_are_accepted_by_the_config():
    """Every `--set` example `python -m offline.plan --help` gives is one the dev stack takes."""
    import re
    from config.loader import parse_config
    from offline import runner
    from offline.stackfile import apply_sets
    parser_help = next(a.help for a in plan_cli.build_parser()._actions if "--set" in a.option_strings)
    examples = re.findall(r"[a-zA-Z][\w.\[\]:-]*=[^\s,()]+", parser_help)
    assert len(examples) >= 2, parser_help
    project = runner.project_name()
    raw = {k.split(":", 1)[1]: v for k, v in runner.stack_config("dev").items() if k.startswith(f"{project}:")}
    parse_config(apply_sets(raw, examples, project), project, "dev")  # raises ConfigError on a refused example


@pytest.mark.parametrize("module", ["offline.plan", "offline.images", "offline.scan", "offline.plan_diff"])
def test_every_option_of_the_offline_commands_says_what_it_is(module, monkeypatch):
    """`python -m offline.plan --help` listed `--stack STACK` and `--out OUT` with no word on either (a newcomer
    could not tell what --out is the root of); offline.images likewise. Every option and argument of the offline
    commands the docs name has its help."""
    import argparse
    import importlib
    seen = []

    def record(parser, *args, **kwargs):
        seen.append(parser)
        raise SystemExit(0)
    monkeypatch.setattr(argparse.ArgumentParser, "parse_args", record)
    with pytest.raises(SystemExit):
        importlib.import_module(module).main(["--help"])
    [parser] = seen
    silent = [a.dest for a in parser._actions if not isinstance(a, argparse._HelpAction) and not (a.help or "").strip()]
    assert silent == [], f"{module}: {silent}"


def test_set_parses_paths_and_types():
    from offline.stackfile import apply_sets
    assert apply_sets({}, ["gpu.maxCount=3", "gpu.enabled=false", "prefix=abc"]) == \
        {"gpu": {"maxCount": 3, "enabled": False}, "prefix": "abc"}


def test_redaction_keeps_shape_hides_values():
    assert plan_cli._redact({"a": {"b": "x", "c": ["y"]}, "d": 1}, ["a"]) == \
        {"a": {"b": "[secret]", "c": ["[secret]"]}, "d": 1}


# ---- usage and messages a stranger meets first ---------------------------------------------------------------------

def test_usage_names_the_command_users_type(capsys):
    import pytest
    with pytest.raises(SystemExit):
        plan_cli.main([])
    assert capsys.readouterr().err.startswith("usage: python -m offline.plan ")


def test_a_parallel_pulumi_up_would_refuse_is_refused_naming_the_value(capsys):
    """`pulumi up --parallel` is an int32 flag: above 2147483647 it refuses the value, so the deploy model does too
    (it had planned it as no limit); a non-number is named as such."""
    import pytest
    for value, says in (("2147483648", "2147483648: pulumi up takes --parallel up to 2147483647"),
                        ("99999999999999999999", "99999999999999999999: pulumi up takes --parallel up to"),
                        ("x", "invalid int32 value: 'x'")):
        with pytest.raises(SystemExit):
            plan_cli.main(["--stack", "dev", "--parallel", value])
        err = capsys.readouterr().err
        assert "argument --parallel" in err and says in err and "Traceback" not in err, err


def test_an_out_that_cannot_hold_plans_is_refused_before_planning(tmp_path, capsys, monkeypatch):
    from offline import runner
    monkeypatch.setattr(runner, "run", lambda *a, **k: (_ for _ in ()).throw(AssertionError("planned")))
    readme = PROJECT_DIR / "README.md"
    for out, why in ((str(readme), f"{readme} is not a folder"), (str(readme / "x"), f"{readme} is not a folder"),
                     ("/proc/x", "no folder can be made in /proc")):
        assert plan_cli.main(["--stack", "dev", "--out", out]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"--out {out}: ") and why in err and "Traceback" not in err


def test_stack_names_and_stack_files_that_do_not_exist_are_named(tmp_path, capsys):
    assert plan_cli.main(["--stack", "../x", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "stack name '../x' is not valid" in err and "Pulumi.<stack>.yaml" in err
    missing = tmp_path / "nonexistent.yaml"
    assert plan_cli.main(["--stack", "dev", "--out", str(tmp_path), "--stack-file", str(missing)]) == 2
    err = capsys.readouterr().err
    assert err.strip() == f"--stack-file {missing}: no such file"  # the path, no list of stacks


def test_a_failed_plan_leaves_no_previous_plan_behind(tmp_path, capsys, monkeypatch):
    """build/<stack>/ is either this config's plan or absent: a reader of cost.json never reads a stale one."""
    from offline import runner
    from config.reader import ConfigError

    def stale():  # a previous plan's folder, as make plan writes it
        (tmp_path / "dev").mkdir(exist_ok=True)
        (tmp_path / "dev" / plan_cli.PLAN_MARKER).write_text("")
        (tmp_path / "dev" / "cost.json").write_text('{"idleMonthly": 1}')
    stale()
    monkeypatch.setattr(runner, "run", lambda *a, **k: (_ for _ in ()).throw(runner.ProgramError("refused", 0)))
    assert plan_cli.main(["--stack", "dev", "--out", str(tmp_path)]) == 1
    assert not (tmp_path / "dev").exists()
    assert f"the previous plan in {tmp_path / 'dev'}/ was removed" in capsys.readouterr().err
    stale()  # a config refused before the program runs
    monkeypatch.setattr(runner, "stack_config", lambda *a, **k: (_ for _ in ()).throw(ConfigError(["bad"])))
    assert plan_cli.main(["--stack", "dev", "--out", str(tmp_path)]) == 1
    assert not (tmp_path / "dev").exists() and "was removed" in capsys.readouterr().err


def _stack_file(tmp_path, *lines: str):
    """Pulumi.dev.yaml with lines added under `config:`."""
    text = (PROJECT_DIR / "Pulumi.dev.yaml").read_text().replace("config:\n", "config:\n" + "".join(
        f"  {line}\n" for line in lines), 1)
    path = tmp_path / "Pulumi.try.yaml"
    path.write_text(text)
    return path


def test_config_messages_say_what_to_do(tmp_path, capsys):
    path = _stack_file(tmp_path, "aks-llm-platform:location: WestEurope")
    path.write_text(path.read_text().replace("aks-llm-platform:cluster:\n",
                                             "aks-llm-platform:cluster:\n    kubernetesVersion: 1.30\n", 1))
    code = plan_cli.main(["--stack", "dev", "--out", str(tmp_path), "--stack-file", str(path),
                          "--set", "modelStore.models[9]=x", "--set", "gpu.minCount=2", "--set", "gpu.maxCount=1"])
    err = capsys.readouterr().err
    assert code == 1 and "Traceback" not in err
    # a bad --set index is listed with every other problem, not alone
    assert "--set modelStore.models[9]: index 9 is past the end" in err
    assert "gpu.maxCount 1 is invalid; allowed: at least gpu.minCount (2)" in err
    assert "location 'WestEurope' is invalid; allowed: an Azure region's name" in err and "did you mean westeurope?)" in err
    assert ("cluster.kubernetesVersion must be a string, got the number 1.3: YAML reads an unquoted value like 1.30 "
            'as a number' in err and 'quote it (kubernetesVersion: "1.30")' in err)


def test_provider_config_the_program_does_not_read_is_advised(tmp_path, capsys, monkeypatch, dev):
    from offline import runner, stackfile
    monkeypatch.setattr(runner, "run", lambda stack, **kwargs: dev)  # the CLI path on a cached plan
    path = _stack_file(tmp_path, "azure-native:location: northeurope", "azure-native:locaton: northeurope",
                       "azure-native:subscriptionId: 00000000-0000-0000-0000-000000000000",
                       "azure-native:useOidcc: true", "kubernetes:context: aks", "random:seed: 1")
    monkeypatch.setenv("PULUMI_PARALLEL", "12")  # no --parallel: the variable, as the CLI reads it
    assert plan_cli.main(["--stack", "dev", "--out", str(tmp_path), "--stack-file", str(path)]) == 0
    assert json.loads((tmp_path / "dev.what-if" / "deploy.json").read_text())["parallel"] == 12
    warnings = [line for line in capsys.readouterr().out.splitlines() if line.startswith(f"warning: {path.name}: ")]
    text = "\n".join(warnings)
    assert ("azure-native:location ('northeurope') changes nothing: the program sets each resource's location from "
            "aks-llm-platform:location ('westeurope' here)") in text
    assert "azure-native:locaton is no config key of pulumi-azure-native 3.29.0; for the location, set " \
           "aks-llm-platform:location" in text
    assert "azure-native:useOidcc is no config key of pulumi-azure-native 3.29.0; did you mean azure-native:useOidc?" \
        in text
    assert "kubernetes:context is read by no provider of this program" in text
    assert "random:seed is no config key of pulumi-random" in text and "takes no config" in text
    assert "subscriptionId" not in text and len(warnings) == 5  # a key the default provider reads is fine
    assert "subscriptionId" in stackfile.sdk_config_keys()["azure-native"][1]


def test_every_azure_resource_that_takes_a_location_gets_one(dev, prod, global_plan):
    """What the azure-native:location advisory says: no resource falls back to the provider's location."""
    from offline import plan_diff
    import pulumi_azure_native
    from pathlib import Path
    sdk = Path(pulumi_azure_native.__file__).parent
    rules = plan_diff.rules()["azureNative"]["types"]
    for plan in (dev, prod, global_plan):
        for r in plan.resources:
            if r.type.startswith("azure-native:") and r.custom:
                takes = "location: Optional[pulumi.Input[str]]" in (sdk / rules[r.type]["sdk"]).read_text()
                assert not takes or r.inputs.get("location"), (plan.stack, r.type, r.name)


def test_docs_and_stack_files_run_the_repository_modules_with_the_venv_python():
    """A bare `python -m offline.plan` outside the venv stops at ModuleNotFoundError: what a reader copies names
    .venv/bin/python, as the README does (docs/decisions.md is history and keeps its words)."""
    import re
    files = [PROJECT_DIR / "README.md", *PROJECT_DIR.glob("Pulumi*.yaml"), *(PROJECT_DIR / "docs").rglob("*.md"),
             PROJECT_DIR / "offline" / "__init__.py", PROJECT_DIR / "offline" / "plan.py"]
    # the repository's own modules (the endpoint tools are a package installed where their `python -m` runs)
    bare = re.compile(r"(?<![\w/.\"])python3? -m (offline|config|components)\.")
    found = [f"{path.relative_to(PROJECT_DIR)}:{n}" for path in files if path.name != "decisions.md"
             for n, line in enumerate(path.read_text().splitlines(), 1) if bare.search(line)
             and not line.startswith(("Usage: ", "`llm-"))]
    assert found == []
    llmd = (PROJECT_DIR / "Pulumi.llmd.yaml").read_text()
    for section in re.findall(r'docs/components/llmd-stack\.md, "([^"]+)"', llmd):  # the section it points at exists
        assert f"\n## {section}\n" in (PROJECT_DIR / "docs" / "components" / "llmd-stack.md").read_text(), section


def test_workers_removing_earlier_runs_plans_together_do_not_fail(tmp_path, monkeypatch):
    """Each worker of a run removes earlier runs' shared plans as it starts: one stopped with FileNotFoundError on a
    folder another had just removed (seen in a fresh clone's `make test`: four checkov tests erred in setup)."""
    import os
    import pathlib
    from tests.conftest import remove_old_plans
    gone, old, new = (tmp_path / f"llmplatform-plans-{n}" for n in ("gone", "old", "new"))
    for folder in (gone, old, new):
        folder.mkdir()
    os.utime(old, (0, 0))
    real_glob = pathlib.Path.glob

    def glob_then_lose_one(self, pattern):
        found = list(real_glob(self, pattern))
        gone.rmdir()  # the other worker's removal, between the listing and the stat
        return iter(found)
    monkeypatch.setattr(pathlib.Path, "glob", glob_then_lose_one)
    remove_old_plans(tmp_path)
    assert not old.exists() and new.exists()


def test_a_closed_stdout_still_writes_the_plan_without_a_traceback(tmp_path):
    """`make plan | head`: the reader goes after a line; the rest of the report goes nowhere, the plan is written."""
    # unbuffered: the header reaches the pipe when planning begins, so the reader is gone while the plan runs
    child = subprocess.Popen([sys.executable, "-u", "-m", "offline.plan", "--stack", "dev", "--out", str(tmp_path)],
                             cwd=PROJECT_DIR, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert child.stdout is not None and "OFFLINE PLAN" in child.stdout.readline()
    child.stdout.close()
    _, stderr = child.communicate(timeout=120)
    assert child.returncode == 0 and "Traceback" not in stderr and "BrokenPipeError" not in stderr, stderr
    assert (tmp_path / "dev" / "resources.json").is_file() and (tmp_path / "dev" / plan_cli.POLICY_CONFIG).is_file()


def test_ctrl_c_is_one_line_and_leaves_no_partial_plan(tmp_path):
    import signal
    import time
    # unbuffered: the header reaches the pipe when planning begins, not with the plan's last 8 KB (the interrupt
    # then came after a loaded machine had finished the plan)
    # SIGINT as a shell leaves it (a test worker may ignore it), set by a launcher that then execs the CLI: not by
    # `preexec_fn`, whose fork in a process with grpcio's threads (the plugin tests') now and then left a child that
    # never printed (offline/plugin_host.py's launcher, for the same reason)
    launcher = ("import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); "
                "os.execv(sys.argv[1], sys.argv[1:])")
    child = subprocess.Popen([sys.executable, "-c", launcher, sys.executable, "-u", "-m", "offline.plan", "--stack",
                              "dev", "--out", str(tmp_path)],
                             cwd=PROJECT_DIR, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert child.stdout is not None and "OFFLINE PLAN" in child.stdout.readline()  # planning has begun
    time.sleep(0.5)
    child.send_signal(signal.SIGINT)
    try:
        _, stderr = child.communicate(timeout=120)
    finally:
        child.kill()  # a plan that hung on Ctrl-C (before the kit abandoned interrupted runs) outlived the test
    assert child.returncode == 130 and stderr.strip().startswith("interrupted"), stderr
    # one line: no traceback, no "coroutine ... was never awaited" from the abandoned run's collected coroutines
    assert len(stderr.strip().splitlines()) == 1 or "previous plan" in stderr, stderr
    assert not (tmp_path / "dev").exists() or (tmp_path / "dev" / plan_cli.POLICY_CONFIG).is_file()


def test_ctrl_c_removes_only_what_the_run_left_unfinished(tmp_path, monkeypatch):
    """The handler's report: a folder the run emptied and wrote whole stays; one it was writing (marked, no last
    file) and one it had just made (empty) go; a folder that held no plan is never the run's, so never touched."""
    handler = plan_cli.CtrlC()
    whole, partial, made, foreign = (tmp_path / n for n in ("whole", "partial", "made", "foreign"))
    for folder in (whole, partial):
        folder.mkdir()
        (folder / plan_cli.PLAN_MARKER).write_text("old\n")
        assert handler.emptying(folder) is True and not folder.exists()  # a previous plan, removed
        folder.mkdir()
        (folder / plan_cli.PLAN_MARKER).write_text("new\n")
        (folder / "resources.json").write_text("{}\n")
    (whole / plan_cli.POLICY_CONFIG).write_text("{}\n")
    assert handler.emptying(made) is False
    made.mkdir()
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine\n")
    with pytest.raises(plan_cli.NotAPlanFolder):
        handler.emptying(foreign)
    lines = handler.report()
    assert whole.is_dir() and not partial.exists() and not made.exists() and (foreign / "notes.txt").is_file()
    assert len(lines) == 2 and all(line.startswith("interrupted: no plan written in ") for line in lines), lines
    assert "previous plan" in lines[0] and str(partial) in lines[0] and "previous plan" not in lines[1], lines
    exits = []
    monkeypatch.setattr(plan_cli.os, "_exit", exits.append)
    monkeypatch.setattr(plan_cli.os, "write", lambda fd, data: exits.append((fd, data)))
    handler(2, None)
    assert exits[-1] == 130 and exits[0][0] == 2 and b"interrupted" in exits[0][1]


def test_a_removal_cut_short_leaves_a_folder_still_known_as_a_plan(tmp_path, monkeypatch):
    """A plan's folder loses what marks it last, so a removal stopped half-way leaves one the next plan still empties
    instead of refusing it as a folder that holds no plan."""
    target = tmp_path / "dev"
    (target / "manifests").mkdir(parents=True)
    for name in ("cost.json", "resources.json", plan_cli.PLAN_MARKER, "zz.json"):
        (target / name).write_text("x\n")
    order = []
    unlink = Path.unlink
    monkeypatch.setattr(Path, "unlink", lambda self, missing_ok=False: (order.append(self.name),
                                                                         unlink(self, missing_ok=missing_ok)))
    plan_cli.remove_plan(target)
    assert not target.exists() and order[-2:] == ["resources.json", plan_cli.PLAN_MARKER], order
    assert sorted(order[:-2]) == ["cost.json", "zz.json"], order


@pytest.mark.parametrize("environment", ["  - my-org/llm/dev\n", "  imports: [my-org/llm/dev]\n"])
def test_a_stack_file_that_imports_esc_environments_is_planned_with_a_warning_that_their_config_is_missing(
        environment, tmp_path, capsys, monkeypatch):
    """`environment:` in a stack file imports Pulumi ESC environments, whose `pulumiConfig` the Pulumi CLI adds to
    the stack's config (Pulumi's docs, "Use Pulumi ESC with Pulumi IaC"). The offline plan cannot open them: it
    planned the file's own config as if that were all, silently (a stack whose environment sets `environment: prod`
    planned as dev). It says so first, on a plan that works and on one the missing config breaks."""
    from tests.conftest import variant
    dev = variant("dev")
    stack_file = tmp_path / "Pulumi.dev.yaml"
    stack_file.write_text((PROJECT_DIR / "Pulumi.dev.yaml").read_text() + "environment:\n" + environment)
    note = ("warning: Pulumi.dev.yaml imports the Pulumi ESC environment(s) my-org/llm/dev: the offline plan cannot "
            "open them (no Pulumi Cloud here), so the config their pulumiConfig sets is missing from this plan, which "
            "reads Pulumi.dev.yaml's own config alone; to plan with it, write it into a copy of the file and pass that "
            "with --stack-file\n")
    monkeypatch.setattr(runner, "run", lambda stack, **kwargs: dev)
    assert plan_cli.main(["--stack", "dev", "--out", str(tmp_path / "build"), "--stack-file", str(stack_file)]) == 0
    assert capsys.readouterr().err.startswith(note)
    monkeypatch.undo()
    stack_file.write_text(stack_file.read_text().replace("    tier: Free", "    tier: free"))
    assert plan_cli.main(["--stack", "dev", "--out", str(tmp_path / "build"), "--stack-file", str(stack_file)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(note) and "cluster.tier 'free' is invalid" in err


def test_a_stack_file_without_esc_environments_gets_no_such_warning(tmp_path, capsys, monkeypatch):
    from tests.conftest import variant
    dev = variant("dev")
    monkeypatch.setattr(runner, "run", lambda stack, **kwargs: dev)
    assert plan_cli.main(["--stack", "dev", "--out", str(tmp_path)]) == 0
    assert "ESC" not in capsys.readouterr().err


def test_two_plans_into_one_folder_at_once_leave_one_whole_plan(tmp_path, capsys, monkeypatch):
    """Two plans writing one folder at once (two stacks into one --out; a global stack also writes its regions'
    folders there) wrote into it file by file: one that emptied the folder in the middle of the other's writing left
    the other's manifests beside its own resources.json. A plan is now written into a folder beside its own and
    renamed into place; here plan B runs to its end while plan A is half-way through writing, and the folder left is
    A's, file for file, with nothing of B's and no folder of either's left beside it."""
    from tests.conftest import variant
    plans = {"gpu": variant("dev-gpu"), "cpu": variant("dev")}
    monkeypatch.setattr(runner, "run", lambda stack, sets=(), **kwargs: plans[sets[0].rsplit("=", 1)[1]])

    def plan(out: Path, accelerator: str) -> None:
        assert plan_cli.main(["--stack", "dev", "--out", str(out), "--set", f"inference.accelerator={accelerator}"]) \
            == 0, capsys.readouterr().err

    def files(folder: Path) -> dict[str, bytes]:
        return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}
    plan(tmp_path / "alone", "gpu")
    alone = files(tmp_path / "alone" / "dev.what-if")
    document = plan_cli.resources_document
    interrupted = []

    def while_a_writes(written_plan):
        if not interrupted:  # A is half-way through its folder: B plans into the same one, start to end
            interrupted.append(True)
            plan(tmp_path / "both", "cpu")
        return document(written_plan)
    monkeypatch.setattr(plan_cli, "resources_document", while_a_writes)
    plan(tmp_path / "both", "gpu")
    assert interrupted and files(tmp_path / "both" / "dev.what-if") == alone
    assert [p.name for p in (tmp_path / "both").iterdir()] == ["dev.what-if"]


class _Interrupted(Exception):
    """Where the Ctrl-C handler would end the process (os._exit) in these tests."""


@pytest.mark.parametrize("step", ["made the folder it writes into", "moved the previous plan aside"])
def test_ctrl_c_just_after_a_hidden_folder_appears_leaves_none_behind(tmp_path, monkeypatch, step):
    """Ctrl-C landing between the system call that makes a run's hidden folder beside its plan (the one it writes
    into, `.dev.writing-*`, or the previous plan moved aside, `.dev.removing-*`) and the line that told the handler
    of it left that folder in --out: a whole previous plan, hidden. The handler now knows of each before it exists."""
    handler = plan_cli.CtrlC()
    monkeypatch.setattr(plan_cli, "CTRL_C", handler)
    target = tmp_path / "dev"
    target.mkdir()
    (target / plan_cli.PLAN_MARKER).write_text("old\n")
    (target / "resources.json").write_text("{}\n")

    def interrupted_after(original, hidden):
        renames = original is Path.rename

        def call(self, *args, **kwargs):
            result = original(self, *args, **kwargs)
            made = Path(args[0]) if renames else self
            if hidden in made.name:
                handler.report()
                raise _Interrupted()
            return result
        return call
    if step == "made the folder it writes into":
        assert handler.emptying(target) is True
        monkeypatch.setattr(Path, "mkdir", interrupted_after(Path.mkdir, ".writing-"))
        with pytest.raises(_Interrupted):
            plan_cli.write_whole(target, lambda folder: None)
    else:
        monkeypatch.setattr(Path, "rename", interrupted_after(Path.rename, ".removing-"))
        with pytest.raises(_Interrupted):
            handler.emptying(target)
    assert sorted(p.name for p in tmp_path.iterdir()) == [], list(tmp_path.iterdir())


def test_a_plan_the_disk_cannot_hold_or_a_previous_one_that_cannot_go_is_one_line_not_a_traceback(
        tmp_path, capsys, monkeypatch):
    """A full disk while the plan's files are written, or a previous plan the user may not remove, ended `make plan`
    in a traceback (OSError out of the writer). Each is one line naming the folder and the system's reason, exit 2,
    and nothing half-written is left in --out."""
    import errno
    from tests.conftest import variant
    dev = variant("dev")
    monkeypatch.setattr(runner, "run", lambda *args, **kwargs: dev)
    out = tmp_path / "out"

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(plan_cli, "write", full)
    code = plan_cli.main(["--stack", "dev", "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err, err
    assert f"{out / 'dev'}: the plan cannot be written (No space left on device); nothing of it is left there" in err
    assert list(out.iterdir()) == []
    monkeypatch.undo()
    monkeypatch.setattr(runner, "run", lambda *args, **kwargs: dev)
    assert plan_cli.main(["--stack", "dev", "--out", str(out)]) == 0

    def denied(folder):
        raise PermissionError(errno.EACCES, "Permission denied")
    monkeypatch.setattr(plan_cli, "remove_plan", denied)
    capsys.readouterr()
    code = plan_cli.main(["--stack", "dev", "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err, err
    assert f"{out / 'dev'}: the previous plan cannot be removed (Permission denied): nothing planned" in err


def test_a_hidden_folder_a_killed_plan_left_is_removed_by_the_next_plan_of_that_folder(tmp_path, monkeypatch):
    """A plan killed outright (SIGKILL: no Ctrl-C handler runs) left its hidden folder beside its plan for good. The
    next plan of that folder removes those whose process is gone, and leaves a live process's (another plan at work)
    and anything else of the name's shape (a number no process id can be was an OverflowError traceback)."""
    import os
    gone = subprocess.Popen(["true"])
    gone.wait()  # a process id no process has now
    target = tmp_path / "dev"
    left = [tmp_path / f".dev.writing-{gone.pid}-0123abcd", tmp_path / f".dev.removing-{gone.pid}-89abcdef"]
    kept = [tmp_path / f".dev.writing-{os.getpid()}-0123abcd", tmp_path / f".dev.other-{gone.pid}-0123abcd",
            tmp_path / f".prod.writing-{gone.pid}-0123abcd", tmp_path / f".dev.writing-{2 ** 64}-0123abcd"]
    for folder in left + kept:
        (folder / "manifests").mkdir(parents=True)
    plan_cli.write_whole(target, lambda folder: (folder / plan_cli.PLAN_MARKER).write_text(""))
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["dev", *(k.name for k in kept)])


def test_a_previous_plan_the_user_may_not_remove_stays_where_the_refusal_names_it(tmp_path, capsys, monkeypatch):
    """A previous plan whose files the user may not delete (another user's, `sudo make plan` once) was renamed to a
    hidden `.dev.removing-<pid>-<hex>` before its removal failed: the refusal named <out>/dev, where nothing was
    any more, and the next plan's cleanup of dead processes' folders could not remove it either. It is put back."""
    import errno
    import os
    from tests.conftest import variant
    dev = variant("dev")
    monkeypatch.setattr(runner, "run", lambda *args, **kwargs: dev)
    out = tmp_path / "out"
    assert plan_cli.main(["--stack", "dev", "--out", str(out)]) == 0
    capsys.readouterr()
    unlink, rmdir = os.unlink, os.rmdir

    def denied(real):
        def call(path, *args, dir_fd=None, **kwargs):
            # the plan's files, wherever it was moved (shutil.rmtree deletes by name within a folder's fd)
            if dir_fd is not None or str(path).startswith((f"{out}/dev", f"{out}/.dev.")):
                raise PermissionError(errno.EACCES, "Permission denied", str(path))
            return real(path, *args, dir_fd=dir_fd, **kwargs)
        return call
    monkeypatch.setattr(os, "unlink", denied(unlink))
    monkeypatch.setattr(os, "rmdir", denied(rmdir))
    code = plan_cli.main(["--stack", "dev", "--out", str(out)])
    monkeypatch.setattr(os, "unlink", unlink)
    monkeypatch.setattr(os, "rmdir", rmdir)
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err, err
    assert f"{out / 'dev'}: the previous plan cannot be removed (Permission denied): nothing planned" in err
    assert sorted(p.name for p in out.iterdir()) == ["dev"], list(out.iterdir())
    assert plan_cli.is_plan_folder(out / "dev") and (out / "dev" / "manifests").is_dir()


def test_a_consumer_with_a_config_module_of_its_own_writes_its_kit_plan(tmp_path):
    """A program of one's own with its own `config.py` (as examples/python-consumer has) writes its testing-kit plan
    for the PR check with docs/operations.md's `kit_plan.py` ("Upgrading to a new release"), run as written from the
    program's folder with the clone on PYTHONPATH. offline.plan imported the stack program's `config` package at
    import time, which then found the program's module: ModuleNotFoundError, 'config' is not a package, a traceback
    (a stranger's consumer upgrade from 0.22.0)."""
    page = (PROJECT_DIR / "docs" / "operations.md").read_text()
    section = page.split("**A program of your own that composes the package**", 1)[1]
    (tmp_path / "kit_plan.py").write_text(re.findall(r"```python\n(.*?)```", section, flags=re.S)[0])
    (tmp_path / "config.py").write_text('NAME = "team-a"\n')
    (tmp_path / "__main__.py").write_text('import pulumi\nimport config\npulumi.export("name", config.NAME)\n')
    done = subprocess.run([sys.executable, "kit_plan.py", str(tmp_path / "plan")], cwd=tmp_path, capture_output=True,
                          text=True, env={**os.environ, "PYTHONPATH": str(PROJECT_DIR)}, timeout=120)
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr[-1500:]
    doc = json.loads((tmp_path / "plan" / "resources.json").read_text())
    assert doc["outputs"] == {"name": "team-a"} and doc["resources"] == [], doc  # the program registers none
    # the stack's own project and name, as the comment says (the kit's defaults, test::test, were planned: every URN
    # unlike the stack's, so an allow-replace.txt entry of the stack's matched none)
    assert (doc["project"], doc["stack"]) == ("team-a-llm", "dev"), doc
    # a program the kit refuses (one of the engine's refusals: two resources of one URN) says so, without a traceback
    (tmp_path / "__main__.py").write_text('import pulumi_random as r\nr.RandomId("a", byte_length=4)\n'
                                          'r.RandomId("a", byte_length=4)\n')
    done = subprocess.run([sys.executable, "kit_plan.py", str(tmp_path / "refused")], cwd=tmp_path, capture_output=True,
                          text=True, env={**os.environ, "PYTHONPATH": str(PROJECT_DIR)}, timeout=120)
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr[-1500:]
    assert done.stderr.startswith("kit_plan.py: ") and "urn" in done.stderr.lower(), done.stderr


def test_the_command_run_from_a_consumers_folder_plans_this_clones_stacks(tmp_path):
    """`python -m offline.plan` from a program's folder that has a config.py of its own, the clone on PYTHONPATH (the
    folder docs/operations.md's kit_plan.py runs in): `python -m` puts the working folder first on the path, so the
    stack program's `config` package was the folder's module, and `--help` and every plan ended in a traceback
    ('config' is not a package). The command plans this clone's stacks: its `config` is the clone's."""
    (tmp_path / "config.py").write_text('NAME = "team-a"\n')
    env = {**os.environ, "PYTHONPATH": str(PROJECT_DIR)}
    for args, code, said in ((["--help"], 0, "usage: python -m offline.plan"),
                             (["--stack", "nope", "--out", str(tmp_path / "build")], 2, "no stack file")):
        done = subprocess.run([sys.executable, "-m", "offline.plan", *args], cwd=tmp_path, capture_output=True,
                              text=True, env=env, timeout=120)
        assert done.returncode == code and "Traceback" not in done.stderr, done.stderr[-1500:]
        assert said in done.stdout + done.stderr, (done.stdout, done.stderr)


def test_the_pr_check_run_from_a_consumers_folder_compares_two_plans(tmp_path):
    """`python -m offline.plan_diff` from a program's folder with a config.py of its own, the clone on PYTHONPATH:
    the package imports this clone's `config` (stack names, legacy resource names, quantities) as it loads, which was
    the folder's module: `--help` and every comparison ended in a traceback. The clone goes first under `python -m`
    (offline/__init__.py), for every command of the clone."""
    (tmp_path / "config.py").write_text('NAME = "team-a"\n')
    document = plan_cli.resources_document(plan_for("dev"))
    for side in ("base", "head"):
        (tmp_path / side / "dev").mkdir(parents=True)
        (tmp_path / side / "dev" / "resources.json").write_text(json.dumps(document))
    done = subprocess.run([sys.executable, "-m", "offline.plan_diff", "base/dev", "head/dev"], cwd=tmp_path,
                          capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(PROJECT_DIR)},
                          timeout=120)
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr[-1500:]
    assert "**0 to add, 0 to update, 0 to replace, 0 to delete**" in done.stdout, done.stdout
