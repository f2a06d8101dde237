"""docs/operations.md's deployer roles: the Role Based Access Control Administrator it grants carries Microsoft's
"Constrain roles" condition over exactly the roles the program grants (run as written, with a stand-in `az`, in
bash and in an interactive bash), and its table of what a preview asks of Azure covers every invoke a preview of an
existing stack sends."""
import json
import os
import re
import subprocess
import sys

import pytest

from llmplatform import azure_roles
from llmplatform.testing import stand_ins

from tests.conftest import PLANNED, PROJECT_DIR, planned, preview_for

OPERATIONS = PROJECT_DIR / "docs" / "operations.md"
ASSIGNMENT = "azure-native:authorization:RoleAssignment"
# Microsoft's example "Constrain roles" (MicrosoftDocs/azure-docs 3b9d7e48
# articles/role-based-access-control/delegate-role-assignments-examples.md, its Azure PowerShell tab's $condition):
# the delegate may add or remove role assignments of Backup Contributor and Backup Reader only
CONSTRAIN_ROLES = ("((!(ActionMatches{'Microsoft.Authorization/roleAssignments/write'})) OR (@Request[Microsoft."
                   "Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals {5e467623-bb1f-42f4-"
                   "a55d-6e525e11384b, a795c7a0-d4a2-40c1-ae25-d81f01202912})) AND ((!(ActionMatches{'Microsoft."
                   "Authorization/roleAssignments/delete'})) OR (@Resource[Microsoft.Authorization/roleAssignments:"
                   "RoleDefinitionId] ForAnyOfAnyValues:GuidEquals {5e467623-bb1f-42f4-a55d-6e525e11384b, a795c7a0-"
                   "d4a2-40c1-ae25-d81f01202912}))")
EXAMPLE_ROLES = "5e467623-bb1f-42f4-a55d-6e525e11384b, a795c7a0-d4a2-40c1-ae25-d81f01202912"
STUB = """#!{python}
import json, os, sys
if sys.argv[1:3] == ["account", "show"]:
    print("00000000-0000-0000-0000-0000000000aa")
else:
    with open(os.environ["AZ_LOG"], "a") as log:
        log.write(json.dumps(sys.argv[1:]) + "\\n")
"""


def program_roles() -> set[str]:
    return {value for name, value in vars(azure_roles).items() if name.isupper() and isinstance(value, str)}


def deployer_block() -> str:
    """The bash block of "The deployer's roles", its placeholder filled."""
    text = OPERATIONS.read_text()
    block = text.split("**The deployer's roles.**", 1)[1].split("```bash\n", 1)[1].split("\n```", 1)[0]
    return re.sub(r"<object id of [^>]*>", "11111111-1111-1111-1111-111111111111", block)


def run_block(tmp_path, interactive: bool) -> list[list[str]]:
    """The `az` commands the block runs, each as its arguments."""
    stub = tmp_path / "bin" / "az"
    stub.parent.mkdir(exist_ok=True)
    stub.write_text(STUB.format(python=sys.executable))
    stub.chmod(0o755)
    log = tmp_path / f"az-{interactive}.log"
    env = {**os.environ, "PATH": f"{stub.parent}:{os.environ['PATH']}", "AZ_LOG": str(log), "HOME": str(tmp_path)}
    if interactive:  # as typed at a prompt: history expansion on (bash -i reading its input)
        done = subprocess.run(["bash", "--norc", "-i"], input="set -o history\n" + deployer_block() + "\n", env=env,
                              text=True, capture_output=True, cwd=tmp_path, timeout=60)
    else:
        done = subprocess.run(["bash", "-euc", deployer_block()], env=env, text=True, capture_output=True,
                              cwd=tmp_path, timeout=60)
    assert "event not found" not in done.stderr and (interactive or done.returncode == 0), done.stderr
    return [json.loads(line) for line in log.read_text().splitlines()]


def option(args: list[str], name: str) -> str:
    assert args.count(name) == 1, args
    return args[args.index(name) + 1]


@pytest.mark.parametrize("interactive", [False, True], ids=["script", "prompt"])
def test_the_rbac_administrator_is_constrained_to_the_programs_roles(tmp_path, interactive):
    contributor, administrator = run_block(tmp_path, interactive)
    assert option(contributor, "--role") == "Contributor" and "--condition" not in contributor
    assert option(administrator, "--role") == "Role Based Access Control Administrator"
    assert option(administrator, "--scope") == "/subscriptions/00000000-0000-0000-0000-0000000000aa"
    assert option(administrator, "--condition-version") == "2.0"
    condition = option(administrator, "--condition")
    lists = re.findall(r"GuidEquals \{([^}]*)\}", condition)
    assert len(lists) == 2 and lists[0] == lists[1], condition
    assert condition == CONSTRAIN_ROLES.replace(EXAMPLE_ROLES, lists[0]), "not Microsoft's Constrain roles form"
    guids = lists[0].split(", ")
    assert len(guids) == len(set(guids)) and set(guids) == program_roles()


@pytest.mark.parametrize("name", PLANNED)
def test_every_role_the_program_grants_is_one_the_deployer_may_assign(name):
    granted = {reg.inputs["roleDefinitionId"].rsplit("/", 1)[-1] for reg in planned(name).of_type(ASSIGNMENT)}
    assert granted <= program_roles()


def documented_invokes() -> set[str]:
    """The invokes the table of "A read-only identity for the previews" names, each by its function."""
    section = OPERATIONS.read_text().split("**A read-only identity for the previews.**", 1)[1].split("\n\n", 2)[1]
    return set(re.findall(r"^\| `(\w+)`", section, re.M))


def test_the_previews_table_names_every_invoke_a_preview_of_an_existing_stack_sends():
    """A preview of a stack whose resources exist sends every invoke `up` does whose arguments it knows, which is all
    of them, but for getClientToken, which AksCluster asks only outside a preview: a new stack's preview sends none
    of it. Each row is an invoke some planned stack sends."""
    sent = {token.rsplit(":", 1)[-1] for name in PLANNED for token, _ in planned(name).invokes}
    assert "getClientToken" in sent
    assert {token.rsplit(":", 1)[-1] for token, _ in preview_for("dev").invokes} == {"getClientConfig"}
    assert documented_invokes() == sent - {"getClientToken"}


def test_the_deployers_cluster_grant_follows_whoever_runs_the_program(monkeypatch):
    """Why the previews keep the deployer's identity: the deployer's AKS RBAC Cluster Admin goes to getClientConfig's
    object id, and a changed principalId replaces a role assignment (pulumi-azure-native's forceNew)."""
    from tests.conftest import _runner
    rules = json.loads((PROJECT_DIR / "offline" / "data" / "replacement_rules.json").read_text())
    assert "principalId" in rules["azureNative"]["types"][ASSIGNMENT]["forceNew"]
    other = "33333333-3333-3333-3333-333333333333"
    monkeypatch.setattr(stand_ins, "DEPLOYER", other)
    plan = _runner().run("dev", {})
    assert plan.one(ASSIGNMENT, "platform-deployer-admin").inputs["principalId"] == other
