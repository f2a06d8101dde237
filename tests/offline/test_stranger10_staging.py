"""A third environment, `staging`, made by a stranger from README.md, docs/configuration.md and docs/operations.md
alone (2026-12-06): a copy of Pulumi.dev.yaml in northeurope, planned, changed as a pull request would change it, then
put behind an edge of its own with a second staging region. Each test is a place where the docs or the tools' messages
left that user without what they needed; the stack files are built in temporary folders (the suite plans every
Pulumi.*.yaml of the repository)."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from config import regions
from config.loader import parse_config
from config.reader import ConfigError
from config.runtime import checked_regional
from offline import plan as plan_cli
from offline import plan_diff, stackfile

from tests.conftest import PROJECT_DIR

P = "aks-llm-platform"
SECRET = "abc~DEF1234567890abcdefghijklmnopqrstuv"


def staging_text(prefix: str | None = "llmstg", location: str = "northeurope") -> str:
    """README's "A stack of your own": Pulumi.dev.yaml copied without its legacyGlobalNames line, environment and
    region changed, and (unless None) a prefix of its own."""
    text = (PROJECT_DIR / "Pulumi.dev.yaml").read_text()
    text = "\n".join(line for line in text.splitlines()
                     if "legacyGlobalNames" not in line and not line.lstrip().startswith(("# deployed before",
                                                                                          "# keeps them"))) + "\n"
    text = text.replace(f"{P}:environment: dev", f"{P}:environment: staging")
    extra = f"  {P}:location: {location}\n" + (f"  {P}:prefix: {prefix}\n" if prefix else "")
    return text.replace("config:\n", "config:\n" + extra, 1)


def raw_of(text: str) -> dict[str, Any]:
    config = yaml.safe_load(text)["config"]
    return {k.split(":", 1)[1]: v for k, v in config.items() if k.startswith(f"{P}:")}


def project(tmp_path: Path, files: dict[str, str]) -> Path:
    (tmp_path / "Pulumi.yaml").write_text((PROJECT_DIR / "Pulumi.yaml").read_text())
    for stack, text in files.items():
        (tmp_path / f"Pulumi.{stack}.yaml").write_text(text)
    return tmp_path


# ---- step 1: the new stack's names ----------------------------------------------------------------------------------

def test_a_staging_copy_of_dev_without_a_prefix_is_told_it_names_llmds_group_and_cluster(tmp_path):
    """Pulumi.llmd.yaml is `environment: staging` with the default prefix: a staging stack copied from dev that keeps
    the default prefix names rg-llmp-staging and aks-llmp-staging, llmd's, and planned without a word (only a regional
    stack was checked against the project's other files). The plan now says so, naming the stack file and the
    command; with a prefix of its own it says nothing."""
    llmd = (PROJECT_DIR / "Pulumi.llmd.yaml").read_text()
    assert f"{P}:environment: staging" in llmd and f"{P}:prefix:" not in llmd  # the trap this test is about
    folder = project(tmp_path, {"llmd": llmd, "dev": (PROJECT_DIR / "Pulumi.dev.yaml").read_text()})
    cfg = parse_config(raw_of(staging_text(prefix=None)), P, "staging")
    [note] = regions.standalone_shared_names(cfg, P, parse_config, folder)
    for part in ("'rg-llmp-staging' is also stack llmd's resource group (Pulumi.llmd.yaml)", "'aks-llmp-staging'",
                 "`pulumi config set prefix", "--stack staging`", "different subscriptions"):
        assert part in note, note
    assert regions.standalone_shared_names(parse_config(raw_of(staging_text()), P, "staging"), P, parse_config,
                                           folder) == []


def test_make_plan_of_that_copy_prints_the_warning(tmp_path, capsys):
    """The same through the plan CLI, against the repository's own stack files (Pulumi.llmd.yaml among them)."""
    stack_file = tmp_path / "Pulumi.staging.yaml"
    stack_file.write_text(staging_text(prefix=None))
    assert plan_cli.main(["--stack", "staging", "--stack-file", str(stack_file), "--out", str(tmp_path / "b")]) == 0
    out = capsys.readouterr().out
    assert "warning: resource group 'rg-llmp-staging' is also stack llmd's resource group" in out


def test_a_provider_credential_written_plain_in_the_stack_file_is_named_and_not_shown():
    """`azure-native:clientSecret: <the secret>` in the stack file (a newcomer's service principal login) planned
    silently: the program refuses secrets in its own keys, never looked at the provider's. The plan now says that the
    committed file holds it and how to store it instead, without echoing it; an encrypted value is left alone."""
    notes = stackfile.provider_advisories({"azure-native:clientSecret": SECRET}, "Pulumi.staging.yaml", P,
                                          "northeurope", {"azure-native"})
    [note] = [n for n in notes if "clientSecret" in n]
    assert "plain text" in note and "pulumi config set --secret azure-native:clientSecret" in note
    assert SECRET not in note
    assert not [n for n in stackfile.provider_advisories({"azure-native:clientSecret": {"secure": "v1:x"}},
                                                          "Pulumi.staging.yaml", P, "northeurope", {"azure-native"})
                if "plain text" in n]
    for key in stackfile.PROVIDER_CREDENTIALS:  # each one the installed provider reads
        namespace, name = key.split(":")
        assert name in stackfile.sdk_config_keys()[namespace][1], key


def test_the_readme_says_what_a_new_stack_needs_besides_its_copy():
    """README's "A stack of your own" said to copy and edit, not that the prefix must differ (llmd's staging names,
    above) nor that a region without a price file plans without a cost estimate (northeurope: no figure, in the pull
    request's report too)."""
    text = " ".join((PROJECT_DIR / "README.md").read_text().split("A stack of your own:")[1].split("\n\n")[0].split())
    assert "give it a `prefix` of its own" in text and "`Pulumi.llmd.yaml` is `environment: staging`" in text
    have = sorted(p.stem for p in (PROJECT_DIR / "config" / "data" / "prices").glob("*.json"))
    assert have == ["swedencentral", "westeurope"], have  # the sentence names them
    assert "`config/data/prices/` (westeurope and swedencentral have one)" in text and "no estimate" in text


# ---- step 2: the pull request's report -------------------------------------------------------------------------------

def test_the_pull_request_report_says_the_change_has_no_cost_estimate(tmp_path, capsys):
    """A northeurope stack has no price file: make plan writes cost.json as its error, and plan_diff's report had no
    cost line at all, which a reviewer of "turn on llm-d" reads as no cost change. It now says there is no estimate
    and why."""
    stack_file = tmp_path / "Pulumi.staging.yaml"
    stack_file.write_text(staging_text())
    assert plan_cli.main(["--stack", "staging", "--stack-file", str(stack_file), "--out", str(tmp_path / "b")]) == 0
    folder = tmp_path / "b" / "staging.what-if"
    assert "no price file for region 'northeurope'" in (folder / "cost.json").read_text()
    capsys.readouterr()
    assert plan_diff.main([str(folder), str(folder)]) == 0
    out = capsys.readouterr().out
    assert "Monthly cost: no estimate for this change's plan (no price file for region 'northeurope'" in out


# ---- step 4: a staging edge ------------------------------------------------------------------------------------------

def staging_region(location: str, prefix: str, octet: int) -> str:
    """A staging region behind the staging edge: docs/operations.md, "Adding or removing a region", step 1."""
    text = staging_text(prefix=prefix, location=location)
    text = text.replace("    tier: Free\n", "    tier: Free\n    upgradeChannel: none\n")
    text = text.replace("    mode: external  # an internal gateway is a second load balancer ($18/month)\n",
                        f"    mode: external\n    tls: {{mode: letsencrypt, hostname: {location}.staging.example.com,"
                        " email: ops@example.com}\n")
    net = f"10.{octet}"
    return text + (f"  {P}:network: {{vnetCidr: {net}.0.0/16, nodeSubnetCidr: {net}.0.0/20, endpointsSubnetCidr: "
                   f"{net}.16.0/24, postgresSubnetCidr: {net}.17.0/24}}\n"
                   f"  {P}:edge: {{globalStack: staging-global, fleet: true}}\n")


def staging_global(prefix: str | None) -> str:
    """Pulumi.global.yaml's shape for a staging edge, as a stranger writes it (no protection outside prod)."""
    return ("config:\n" f"  {P}:environment: staging\n" f"  {P}:location: northeurope\n"
            + (f"  {P}:prefix: {prefix}\n" if prefix else "")
            + f"  {P}:global:\n    regions: [staging-northeurope, staging-westeurope]\n    apiKeys: [clients-staging]\n")


def shipped(*stacks: str) -> dict[str, str]:
    return {s: (PROJECT_DIR / f"Pulumi.{s}.yaml").read_text() for s in stacks}


def test_a_staging_region_may_share_its_location_with_a_prod_region_of_another_edge(tmp_path):
    """staging-westeurope behind staging-global was refused: "location westeurope is also stack prod-westeurope's: one
    regional stack per region", a rule for the origins and Fleet stages of one edge, applied across edges. Now only
    regions behind the same global stack are refused one location; names and VNets stay checked across all."""
    files = {**shipped("prod-westeurope", "prod-swedencentral", "global", "prod"),
             "staging-northeurope": staging_region("northeurope", "llmstg", 51),
             "staging-westeurope": staging_region("westeurope", "llmstgweu", 52)}
    folder = project(tmp_path, files)
    cfg = parse_config(raw_of(files["staging-westeurope"]), P, "staging-westeurope")
    assert checked_regional(cfg, folder) is cfg
    # behind the same edge a second westeurope region is still refused
    files["staging-westeurope2"] = staging_region("westeurope", "llmstgw2", 53)
    folder = project(tmp_path, files)
    with pytest.raises(ConfigError, match=re.escape("location westeurope is also stack staging-westeurope's, behind "
                                                    "the same global stack staging-global: one regional stack per "
                                                    "region")) as error:
        checked_regional(parse_config(raw_of(files["staging-westeurope2"]), P, "staging-westeurope2"), folder)
    assert "prod-westeurope" not in str(error.value)
    # and a VNet overlapping prod's is refused whatever the edge (they may be peered later)
    files["staging-westeurope"] = staging_region("westeurope", "llmstgweu", 41)
    folder = project(tmp_path, files)
    with pytest.raises(ConfigError, match="overlaps stack prod-westeurope's 10.41.0.0/16"):
        checked_regional(parse_config(raw_of(files["staging-westeurope"]), P, "staging-westeurope"), folder)


def test_a_second_global_stack_with_prods_prefix_is_refused(tmp_path):
    """A staging edge copied from Pulumi.global.yaml with the prefix left at its default named its group, Front Door
    profile and workspace rg-/afd-/log-llmp-global: prod's edge's (a global stack's names carry no environment), and
    planned. Config now refuses two global stack files with one prefix, naming the other file and the command."""
    files = {**shipped("global", "prod-westeurope", "prod-swedencentral"),
             "staging-northeurope": staging_region("northeurope", "llmstg", 51),
             "staging-westeurope": staging_region("westeurope", "llmstgweu", 52),
             "staging-global": staging_global(None)}
    folder = project(tmp_path, files)
    cfg = regions.parse_global(raw_of(files["staging-global"]), P, "staging-global")
    problems = regions.region_file_problems(cfg, P, "staging-global", folder)
    [problem] = [p for p in problems if "also global stack" in p]
    for part in ("prefix 'llmp' is also global stack global's (Pulumi.global.yaml)", "'rg-llmp-global'",
                 "'afd-llmp-global'", "`pulumi config set prefix", "--stack staging-global`"):
        assert part in problem, problem
    files["staging-global"] = staging_global("llmstg")
    folder = project(tmp_path, files)
    cfg = regions.parse_global(raw_of(files["staging-global"]), P, "staging-global")
    assert regions.region_file_problems(cfg, P, "staging-global", folder) == []
    # the shipped global stack is not refused for a file of its own
    shipped_cfg = regions.parse_global(regions.raw_stack_file(PROJECT_DIR / "Pulumi.global.yaml", P), P, "global")
    assert regions.other_global_problems(shipped_cfg, P, "global") == []


def test_the_global_group_name_is_the_programs():
    """The refusal names the group __main__.py creates (one function for both)."""
    main = (PROJECT_DIR / "__main__.py").read_text()
    assert "resource_group_name=global_group_name(cfg.prefix)" in main
    assert regions.global_group_name("llmp") == "rg-llmp-global"


def test_operations_says_how_to_build_a_staging_edge():
    """docs/operations.md described the global stack for prod alone: a staging edge (a second global stack) needs
    another name than `global`, a prefix of its own, and its regions' edge.globalStack naming it."""
    text = " ".join((PROJECT_DIR / "docs" / "operations.md").read_text()
                    .split("### A staging edge beside prod's")[1].split("\n### ")[0].split())
    for part in ("a second global stack", "named other than `global` and `prod-...`", "a `prefix` of its own",
                 "`edge: {globalStack: <name>}`", "may share a `location` with a prod region"):
        assert part in text, part


# ---- step 3: before the first `pulumi up` ----------------------------------------------------------------------------

def without_pulumi(tmp_path: Path) -> dict[str, str]:
    """The environment with a PATH of make and the shell's tools alone: no Pulumi CLI."""
    import os
    import shutil
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("make", "sh", "env"):
        found = shutil.which(tool)
        assert found, tool
        (bin_dir / tool).symlink_to(found)
    return {**os.environ, "PATH": str(bin_dir)}


@pytest.mark.parametrize("target", ["preview", "up", "destroy"])
def test_a_make_target_that_runs_pulumi_says_the_cli_is_missing_before_it_plans(tmp_path, target):
    """operations.md's first deploy runs `make preview STACK=<stack>`: without the Pulumi CLI it planned the stack
    first, then stopped on make's own "pulumi: No such file or directory" (exit 127), naming nothing to install. It
    now stops at once, naming the CLI, where to get it and the offline plan that needs none."""
    import subprocess
    result = subprocess.run(["make", "-C", str(PROJECT_DIR), target, "STACK=dev"], capture_output=True, text=True,
                            env=without_pulumi(tmp_path), timeout=120)
    assert result.returncode == 2, result.stderr
    assert f"make {target} runs the Pulumi CLI, which is not on PATH" in result.stderr
    assert "https://www.pulumi.com/docs/install/" in result.stderr and "make plan STACK=dev" in result.stderr
    assert "OFFLINE PLAN" not in result.stdout  # stopped before the plan


def test_the_example_values_warning_does_not_say_a_file_marks_what_it_does_not():
    """A staging region with `gateway.tls.hostname: northeurope.staging.example.com` written by hand was warned "the
    stack file marks them REPLACE": no line of that file said REPLACE. The warning names what it looks for instead."""
    from config.advisories import advisories
    text = staging_region("northeurope", "llmstg", 51)
    assert "REPLACE" not in text
    [note] = [n for n in advisories(parse_config(raw_of(text), P, "staging-northeurope"))
              if n.startswith("example values to replace")]
    assert "the stack file marks them" not in note
    assert "(example domains and TEST-NET ranges, which the shipped stack files mark REPLACE)" in note
    assert "gateway.tls.hostname northeurope.staging.example.com" in note


def test_the_configuration_reference_says_what_staging_and_llmd_need():
    """docs/configuration.md's `environment` line listed staging without saying what it changes (nothing but names:
    only prod has rules of its own), and `llmd.enabled` said nothing of the gateway it needs or of the endpoint
    pickers' 4 CPUs, which a D4 workload pool (dev's, copied) cannot hold: three refusals met one after another."""
    text = (PROJECT_DIR / "docs" / "configuration.md").read_text()
    [environment] = [line for line in text.splitlines() if line.startswith("| `environment` |")]
    assert "staging is planned as dev is, prod's rules apply to prod alone" in environment
    [llmd] = [line for line in text.splitlines() if line.startswith("| `llmd.enabled` |")]
    for part in ("`gateway.mode` `internal` or `both`", "`llmd.exposeExternally`", "4 CPUs and 8 GiB each",
                 "8 vCPUs or more", "`cluster.workloadPool.vmSize`"):
        assert part in llmd, part
    # what the line says is what the plan refuses: dev's D4 workload pool with llm-d on an A100 and both gateways
    from offline import capacity, runner
    plan = runner.run("dev", {"llmd": {"enabled": True}, "gateway": {"mode": "both"},
                              "gpu": {"vmSize": "Standard_NC24ads_A100_v4"}})
    assert [e for e in capacity.idle_capacity(plan).errors if "epp (4000m CPU, 8192Mi per pod)" in e]


def test_the_readme_says_a_committed_stack_file_goes_into_both_workflows():
    """`make test` refuses a stack file a workflow's matrix leaves out (tests/program/test_workflows.py), and its
    failure was a bare set comparison: README's "A stack of your own" now says so, and the tests say what to add."""
    text = " ".join((PROJECT_DIR / "README.md").read_text().split("A stack of your own:")[1].split("\n\n")[0].split())
    assert "`stack:` matrix of `.github/workflows/offline.yml`" in text and "`preview.yml`" in text
    workflows = (PROJECT_DIR / "tests" / "program" / "test_workflows.py").read_text()
    assert "stack files no job of offline.yml plans" in workflows
    assert "stack files no job of preview.yml previews" in workflows


def test_the_pull_request_report_says_when_another_regions_prices_stand_in(tmp_path):
    """With the stand-in price file docs/cost.md describes (westeurope's prices, `_pricesOf`), make plan's header says
    whose prices they are; the PR report's cost lines did not, so a reviewer read West Europe's figures as
    northeurope's. The report now carries the same label."""
    import json
    from offline.plan_diff.report import cost_lines
    label = "westeurope list prices of 2026-11-26 standing in for northeurope's (not transcribed: ...)"
    doc = {"region": "northeurope", "pricesOf": "westeurope", "prices": label, "idleMonthly": 146.49,
           "peakMonthly": 351.61, "byComponent": {}, "unpriced": [], "capacityNotes": []}
    base, head = tmp_path / "base", tmp_path / "head"
    for folder, idle in ((base, 146.49), (head, 273.51)):
        folder.mkdir()
        (folder / "cost.json").write_text(json.dumps({**doc, "idleMonthly": idle}))
    lines = cost_lines(base, head)
    assert lines[0].startswith("Monthly cost: idle $146.49 -> $273.51 (+127.02)") and f"- prices: {label}" in lines
    own = {**doc, "region": "westeurope", "pricesOf": "westeurope", "prices": "westeurope list prices"}  # cost.py
    (head / "cost.json").write_text(json.dumps(own))
    assert not [line for line in cost_lines(base, head) if line.startswith("- prices:")]  # a region's own prices


def test_a_global_stack_file_without_an_environment_is_what_the_docs_say(tmp_path):
    """docs/configuration.md said the global stack reads `environment` with "default `prod` here", the parser's own
    default; but Pulumi.yaml declares `dev` for every stack and the CLI hands it over, so a staging edge's file without
    the key was planned as dev (no prod rule, tags `environment: dev`). The parser's default is now Pulumi.yaml's, and
    the generated reference says so."""
    from offline import runner
    text = staging_global("llmstg").replace(f"  {P}:environment: staging\n", "")
    stack_file = tmp_path / "Pulumi.staging-global.yaml"
    stack_file.write_text(text)
    handed = runner.stack_config("staging-global", stack_file=stack_file)
    assert handed[f"{P}:environment"] == "dev"  # Pulumi.yaml's default, as the CLI hands it
    raw = {k.split(":", 1)[1]: v for k, v in handed.items() if k.startswith(f"{P}:")}
    assert regions.parse_global(raw, P, "staging-global").environment == "dev"
    assert regions.parse_global(raw_of(text), P, "staging-global").environment == "dev"  # without the CLI's defaults
    reference = (PROJECT_DIR / "docs" / "configuration.md").read_text()
    assert "Reads `environment` (default `dev` here)" in reference


def test_a_region_naming_a_global_stack_without_a_file_is_warned(tmp_path):
    """A staging region with `edge.globalStack: staging-global` planned without a word before that stack's file
    existed, and would with a misspelt name for ever: its gateway admits only a Front Door that never comes. The plan
    now warns, naming the file it looked for and the global stacks the project has."""
    from offline import runner
    stack_file = tmp_path / "Pulumi.staging-northeurope.yaml"
    stack_file.write_text(staging_region("northeurope", "llmstg", 51))
    plan = runner.run("staging-northeurope", stack_file=stack_file)
    [warning] = [w for w in plan.warnings if "edge.globalStack names stack" in w]
    assert "'staging-global', which has no stack file in the project (Pulumi.staging-global.yaml; global stacks " \
           "here: global)" in warning and "fix the name, or write that file" in warning
    # behind the shipped global stack (its file is there) nothing is said
    stack_file.write_text(staging_region("northeurope", "llmstg", 51).replace("globalStack: staging-global",
                                                                              "globalStack: global"))
    plan = runner.run("staging-northeurope", stack_file=stack_file)
    assert not [w for w in plan.warnings if "edge.globalStack names stack" in w]
