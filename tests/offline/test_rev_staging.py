"""A review of the staging-stack fixes (docs/decisions.md, "A stranger's staging stack and staging edge"): the places
where a message of theirs told the user to change the wrong key or the wrong stack. Stack files are built in
temporary folders, as in tests/offline/test_stranger10_staging.py, whose helpers these use."""
from __future__ import annotations

from pathlib import Path

from config import regions
from config.loader import parse_config

from tests.conftest import PROJECT_DIR
from tests.offline.test_stranger10_staging import P, project, raw_of, shipped, staging_global, staging_region


def staging_copy_of_prod(prefix: str) -> str:
    """Pulumi.prod.yaml copied for a staging stack, environment and prefix changed (README's "A stack of your own")."""
    text = (PROJECT_DIR / "Pulumi.prod.yaml").read_text()
    text = "\n".join(line for line in text.splitlines() if "legacyGlobalNames" not in line) + "\n"
    text = text.replace(f"{P}:environment: prod", f"{P}:environment: staging")
    return text.replace("config:\n", f"config:\n  {P}:prefix: {prefix}\n", 1)


def test_a_shared_model_store_group_names_the_key_that_sets_it_not_the_prefix(tmp_path: Path):
    """A staging copy of Pulumi.prod.yaml with a prefix of its own keeps prod's `modelStore.resourceGroupName`
    (rg-llmp-prod-models): the warning told it to give the stack its own prefix, which it had, and which renames no
    model store group. It now names modelStore.resourceGroupName and the command that sets it."""
    text = staging_copy_of_prod("llmstg")
    folder = project(tmp_path, {**shipped("prod"), "staging": text})
    [note] = regions.standalone_shared_names(parse_config(raw_of(text), P, "staging"), P, parse_config, folder)
    assert "model store resource group 'rg-llmp-prod-models' is also stack prod's model store resource group" in note
    assert "`pulumi config set --path modelStore.resourceGroupName <" in note and "--stack staging`" in note, note
    assert "prefix" not in note, note


def test_a_shared_resource_group_set_by_name_names_resource_group_name(tmp_path: Path):
    """The same for a stack whose `resourceGroupName` is llmd's group: a new prefix changes nothing of it."""
    text = staging_copy_of_prod("llmstg").replace("config:\n", f"config:\n  {P}:resourceGroupName: rg-llmp-staging\n",
                                                  1)
    text = text.replace("    resourceGroupName: rg-llmp-prod-models\n", "    resourceGroupName: rg-llmstg-models\n")
    folder = project(tmp_path, {**shipped("llmd"), "staging": text})
    [note] = regions.standalone_shared_names(parse_config(raw_of(text), P, "staging"), P, parse_config, folder)
    assert "resource group 'rg-llmp-staging' is also stack llmd's resource group" in note
    assert "`pulumi config set resourceGroupName <" in note and "--stack staging`" in note, note
    assert "prefix" not in note and "aks-" not in note, note  # the cluster is named by the prefix: not llmd's


def edges(tmp_path: Path, staging_global_text: str) -> Path:
    return project(tmp_path, {**shipped("global", "prod-westeurope", "prod-swedencentral"),
                              "staging-northeurope": staging_region("northeurope", "llmstg", 51),
                              "staging-westeurope": staging_region("westeurope", "llmstgweu", 52),
                              "staging-global": staging_global_text})


def test_prods_edge_refused_for_a_staging_edges_prefix_is_told_to_rename_the_new_one(tmp_path: Path):
    """A staging edge's file with the default prefix refuses prod's `global` too (the program's own check, at `pulumi
    up -s global`), and told it to give `global` a prefix of its own: a new prefix on the deployed, protected edge
    replaces its group, profile and endpoint, the host name every client calls. The refusal now names the stack that
    does not protect its edge first, says what renaming a deployed one does, and why two subscriptions do not help
    (the endpoint's host name is hashed per tenant)."""
    folder = edges(tmp_path, staging_global(None))
    prod = regions.parse_global(raw_of((PROJECT_DIR / "Pulumi.global.yaml").read_text()), P, "global")
    [problem] = regions.other_global_problems(prod, P, "global", folder)
    assert "also global stack staging-global's (Pulumi.staging-global.yaml)" in problem
    assert "--stack staging-global`, or --stack global)" in problem, problem
    assert "endpoint 'llmp-global'" in problem and "host name is one per tenant" in problem, problem
    assert "a deployed edge given a new prefix replaces its group, profile and endpoint" in problem
    # and the staging edge's own plan names itself first (it protects nothing)
    staging = regions.parse_global(raw_of(staging_global(None)), P, "staging-global")
    [problem] = regions.other_global_problems(staging, P, "staging-global", folder)
    assert "--stack staging-global`, or --stack global)" in problem, problem


def test_a_global_stack_file_whose_prefix_may_come_from_an_esc_environment_refuses_no_other(tmp_path: Path):
    """A staging edge's file that imports Pulumi ESC environments and sets no prefix may take its prefix from them
    (their pulumiConfig is stack config under the file's): read as the default `llmp`, it refused prod's `global`
    for a name it may not have. It is judged on what it sets, as global.llmdRegions' check judges a region's file."""
    text = "environment:\n  - platform/staging-edge\n" + staging_global(None)
    folder = edges(tmp_path, text)
    prod = regions.parse_global(raw_of((PROJECT_DIR / "Pulumi.global.yaml").read_text()), P, "global")
    assert regions.other_global_problems(prod, P, "global", folder) == []
    # the prefix written in the file is still judged
    folder = edges(tmp_path, "environment:\n  - platform/staging-edge\n" + staging_global("llmp"))
    assert regions.other_global_problems(prod, P, "global", folder)


def test_make_preview_under_j_stops_before_the_plan_without_the_pulumi_cli(tmp_path: Path):
    """`make -j2 preview` (or MAKEFLAGS=-j in the environment) starts `pulumi-cli` and `plan` together: without the
    CLI the plan ran to its end before make stopped on the check. The plan now waits for the check whenever a goal
    runs the CLI; `make plan` alone is left as it was (no check: it needs no CLI)."""
    import subprocess
    from tests.offline.test_stranger10_staging import without_pulumi
    env = without_pulumi(tmp_path)
    for goal in ("preview", "up"):
        result = subprocess.run(["make", "-j2", "-C", str(PROJECT_DIR), goal, "STACK=dev"], capture_output=True,
                                text=True, env=env, timeout=300)
        assert result.returncode == 2 and f"make {goal} runs the Pulumi CLI" in result.stderr, result.stderr
        assert "offline.plan" not in result.stdout and "OFFLINE PLAN" not in result.stdout, result.stdout
    dry = subprocess.run(["make", "-n", "-C", str(PROJECT_DIR), "plan", "STACK=dev"], capture_output=True, text=True,
                         env=env, timeout=60)
    assert "offline.plan" in dry.stdout and "command -v pulumi" not in dry.stdout, dry.stdout


def test_a_global_stack_named_global_without_an_environment_is_held_to_https_origins():
    """The global stack's `environment` defaults to Pulumi.yaml's `dev` (6db4658f, as the CLI always handed it), while
    the policy pack judges a stack named `global` as prod by its name. Config held such a stack to the pack's WAF
    and protection rules by name, not to its HTTPS origins: a plain-HTTP region behind it planned with a warning
    ("environment 'prod' refuses this"), then the pack refused the plan four times (prod-front-door-origins-https).
    Config now refuses it first, saying why and what else to do; a staging edge by another name is left to warn."""
    text = (PROJECT_DIR / "Pulumi.global.yaml").read_text().replace(f"  {P}:environment: prod\n", "")
    cfg = regions.parse_global(raw_of(text), P, "global")
    assert cfg.environment == "dev"
    _, [problem] = regions.origin_tls(cfg, ["dev-northeurope"])
    assert "Pulumi.dev-northeurope.yaml sets no gateway.tls, and stack 'global' is one the policy pack holds to " \
           "prod's rules by its name" in problem, problem
    assert "tls: {mode: letsencrypt" in problem and "or give a dev global stack another name" in problem
    assert regions.origin_tls(regions.parse_global(raw_of(staging_global("llmstg")), P, "staging-global"),
                              ["staging-northeurope"])[1] == []
    # prod's own words are kept
    _, [problem] = regions.origin_tls(regions.parse_global(raw_of((PROJECT_DIR / "Pulumi.global.yaml").read_text()),
                                                           P, "global"), ["prod-westeurope"])
    assert "sets no gateway.tls, and environment is 'prod': Front Door" in problem and "another name" not in problem


def test_a_credential_under_a_misspelt_key_is_named_and_not_shown():
    """`azure-native:clientSecert: <the secret>`: no provider reads the key, so the plan said only "did you mean
    azure-native:clientSecret?", while the committed file holds the secret all the same. The credential note now
    names it too, with the key the user meant, never the value; the provider's other keys (clientId, a path, a URL)
    are no misspelt credential."""
    from offline import stackfile
    secret = "abc~DEF1234567890abcdefghijklmnopqrstuv"
    keys = {"azure-native:clientSecert": secret, "azure-native:oidctoken": secret,
            "azure-native:clientId": "11111111-1111-1111-1111-111111111111",
            "azure-native:clientCertificatePath": "/home/me/sp.pfx", "azure-native:oidcRequestUrl": "https://x.example",
            "azure-native:oidcTokenFilePath": "/tmp/token"}
    notes = stackfile.provider_advisories(keys, "Pulumi.staging.yaml", P, "northeurope", {"azure-native"})
    assert not [n for n in notes if secret in n]
    plain = sorted(n for n in notes if "in plain text" in n)
    assert len(plain) == 2, plain
    assert plain[0].startswith("Pulumi.staging.yaml: azure-native:clientSecert holds what looks like "
                               "azure-native:clientSecret's credential in plain text")
    assert "`pulumi config set --secret azure-native:clientSecret ...`" in plain[0]
    assert "azure-native:oidcToken's credential" in plain[1]
    assert [n for n in notes if "did you mean azure-native:clientSecret?" in n]  # the misspelling is still named


def test_the_one_region_per_location_refusal_says_what_to_do(tmp_path: Path):
    """"location westeurope is also stack staging-westeurope's, behind the same global stack staging-global: one
    regional stack per region" named the key and the value but not what would do: another region, or another edge
    (which the staging fix made allowed)."""
    import pytest

    from config.reader import ConfigError
    from config.runtime import checked_regional
    files = {"staging-westeurope": staging_region("westeurope", "llmstgweu", 52),
             "staging-westeurope2": staging_region("westeurope", "llmstgw2", 53)}
    folder = project(tmp_path, files)
    with pytest.raises(ConfigError) as error:
        checked_regional(parse_config(raw_of(files["staging-westeurope2"]), P, "staging-westeurope2"), folder)
    [problem] = [p for p in error.value.problems if p.startswith("location westeurope")]
    assert "`pulumi config set location <region> --stack staging-westeurope2`" in problem, problem
    assert "or put it behind another global stack (edge.globalStack" in problem, problem


def test_a_region_naming_a_platform_stack_as_its_global_stack_is_warned(tmp_path: Path):
    """`edge.globalStack: prod` (prod's platform stack, for `global`): the file is there, so the missing-file warning
    (622367c7) said nothing, and no edge ever lists the region. The plan now says the file is no global stack's."""
    from offline import runner
    stack_file = tmp_path / "Pulumi.staging-northeurope.yaml"
    stack_file.write_text(staging_region("northeurope", "llmstg", 51).replace("globalStack: staging-global",
                                                                              "globalStack: prod"))
    plan = runner.run("staging-northeurope", stack_file=stack_file)
    [warning] = [w for w in plan.warnings if "edge.globalStack names stack" in w]
    assert "'prod', whose file Pulumi.prod.yaml is no global stack's (it has no `global` section; global stacks " \
           "here: global)" in warning and "name the global stack whose global.regions lists this one" in warning
