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
    text = staging_copy_of_prod("llmstg").replace("config:\n", f"config:\n  {P}:resourceGroupName: rg-llmp-staging\n", 1)
    text = text.replace("    resourceGroupName: rg-llmp-prod-models\n", "    resourceGroupName: rg-llmstg-models\n")
    folder = project(tmp_path, {**shipped("llmd"), "staging": text})
    [note] = regions.standalone_shared_names(parse_config(raw_of(text), P, "staging"), P, parse_config, folder)
    assert "resource group 'rg-llmp-staging' is also stack llmd's resource group" in note
    assert "`pulumi config set resourceGroupName <" in note and "--stack staging`" in note, note
    assert "prefix" not in note and "aks-" not in note, note  # the cluster is named by the prefix: not llmd's
