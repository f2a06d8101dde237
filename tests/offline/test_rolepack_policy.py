"""The policy pack's role-assignments-least-privilege: no privileged role, nothing on a whole subscription or management
group, no Key Vault data role on more than one secret. Every planned stack passes; a planted grant of each kind is
refused naming the resource, the role and the fix, by `make plan`'s runner and by the analyzer plugin alike, in `up`'s
plan and in a new stack's preview where the preview knows what the rule reads; a configured exemption lets exactly
its grant through."""
import copy
import dataclasses
import json
import re

import pytest

from llmplatform import azure_roles
from offline import plugin_host, policy_check
from policy.policies import KEY_VAULT_DATA_ROLES, PRIVILEGED_ROLES, ROLE_POLICY

from tests.conftest import PLANNED, PROJECT_DIR, planned, plan_for, preview_for
from tests.program.test_policy_plugin import offline_verdicts, plugin_verdicts

ASSIGNMENT = "azure-native:authorization:RoleAssignment"
OWNER, CONTRIBUTOR = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635", "b24988ac-6180-42a0-ab88-20f7382dd24c"
UAA, RBAC_ADMIN = "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9", "f58310d9-a9f6-439a-9e8d-f62e7b41a168"
SECRETS_OFFICER = "b86a8fe4-44ce-4948-aee5-eccb2c155cd7"
SUBSCRIPTION = "/subscriptions/00000000-0000-0000-0000-000000000000"
GROUP_READER, KV_READER = "gateway-ip-group-reader", "inference-router-kv-reader"


def _role(reg, guid):
    return re.sub(r"[0-9a-f-]{36}$", guid, reg.inputs["roleDefinitionId"])


def _vault(reg):
    return reg.inputs["scope"].split("/secrets/")[0]


def planted(plan, name, *, role=None, scope=None, type_=None):
    """The plan with its grant `name` made to grant `role` on `scope` (a value a preview knows, then)."""
    def wrong(reg):
        if reg.name != name or reg.type != ASSIGNMENT:
            return reg
        inputs = copy.deepcopy(reg.inputs)
        inputs["roleDefinitionId"] = _role(reg, role) if role else inputs["roleDefinitionId"]
        known = [p for p in reg.unknown_paths if p != "scope"] if scope is not None else reg.unknown_paths
        inputs["scope"] = inputs["scope"] if scope is None else scope(reg)
        urn = reg.urn.replace(f"::{ASSIGNMENT}::", f"::{type_}::") if type_ else reg.urn
        return dataclasses.replace(reg, inputs=inputs, unknown_paths=known, type=type_ or reg.type, urn=urn)
    return dataclasses.replace(plan, resources=[wrong(r) for r in plan.resources])


def verdicts(plan, config=None):
    return [v for v in policy_check.evaluate(plan, config) if v.policy == ROLE_POLICY]


@pytest.mark.parametrize("name", PLANNED)
def test_every_planned_stack_passes(name):
    assert verdicts(planned(name)) == []


# (what is planted, the grant, how, what the one refusal says besides the grant's name)
PLANTS = [
    *((f"privileged {role}", GROUP_READER, {"role": guid}, (role, guid, "privileged", "grant the role that does"))
      for guid, role in PRIVILEGED_ROLES.items()),
    ("a subscription", GROUP_READER, {"scope": lambda r: SUBSCRIPTION},
     (f"on {SUBSCRIPTION}", "whole subscription", "scope it to the resource group or the resource")),
    ("a management group", GROUP_READER,
     {"scope": lambda r: "/providers/Microsoft.Management/managementGroups/platform/"},
     ("managementGroups/platform", "management group", "scope it to the resource group or the resource")),
    ("the tenant root", GROUP_READER, {"scope": lambda r: "/"}, ("on /,", "tenant")),
    ("the whole vault", KV_READER, {"scope": _vault},
     ("Key Vault Secrets User (4633458b-17de-408a-b874-0445c86b69e6)", "every secret, key and certificate of a vault",
      "scope it to the one secret", "grant_secrets_user with secret_name")),
    ("every vault of the group", KV_READER, {"scope": lambda r: r.inputs["scope"].split("/providers/")[0]},
     ("Key Vault Secrets User", "/resourceGroups/rg-llmp-dev,", "of every vault under it")),
    ("another data role on the vault", KV_READER, {"role": SECRETS_OFFICER, "scope": _vault},
     ("Key Vault Secrets Officer", "scope it to the one secret")),
]


@pytest.mark.parametrize("what, grant, how, says", PLANTS, ids=[p[0] for p in PLANTS])
def test_a_planted_grant_is_refused_naming_it_the_role_and_the_fix(what, grant, how, says):
    (refused,) = verdicts(planted(plan_for("dev"), grant, **how))
    assert refused.mandatory and refused.resource == grant and f"role assignment {grant} grants" in refused.message
    assert all(part in refused.message for part in says), refused.message
    assert "exemptions in the pack's configuration" in refused.message


def test_a_privileged_role_on_a_subscription_is_refused_for_both():
    found = verdicts(planted(plan_for("dev"), GROUP_READER, role=OWNER, scope=lambda r: SUBSCRIPTION))
    assert len(found) == 2 and "privileged" in found[0].message and "whole subscription" in found[1].message


def test_what_the_program_grants_passes_whatever_its_resource_group_and_a_versioned_type_is_judged():
    """A data role on one secret (any of them), Reader on a resource group, a role the pack does not name on a
    resource: passed. The same rule holds for azure-native's versioned modules
    (`azure-native:authorization/v20220401:RoleAssignment`)."""
    dev = plan_for("dev")
    assert verdicts(planted(dev, KV_READER, role=SECRETS_OFFICER)) == []
    assert verdicts(planted(dev, KV_READER, scope=lambda r: r.inputs["scope"].replace("/secrets/", "/keys/"))) == []
    versioned = "azure-native:authorization/v20220401:RoleAssignment"
    (refused,) = verdicts(planted(dev, GROUP_READER, role=UAA, type_=versioned))
    assert "User Access Administrator" in refused.message


def test_an_exemption_lets_exactly_its_grant_and_role_through():
    plan = planted(plan_for("dev"), GROUP_READER, role=CONTRIBUTOR)
    exempt = {"resource": GROUP_READER, "role": CONTRIBUTOR.upper(), "reason": "the team's own group"}
    assert verdicts(plan, {ROLE_POLICY: {"exemptions": [exempt]}}) == []
    for other in ({**exempt, "resource": "gateway-ip-network"}, {**exempt, "role": OWNER}):
        assert [v.resource for v in verdicts(plan, {ROLE_POLICY: {"exemptions": [other]}})] == [GROUP_READER]
    typos = verdicts(plan_for("dev"), {ROLE_POLICY: {"exemption": [exempt]}})  # on every grant it judges
    assert {v.resource for v in typos} == {r.name for r in plan_for("dev").of_type(ASSIGNMENT)}
    assert all(v.mandatory and "unknown keys ['exemption']: only exemptions" in v.message for v in typos)


def test_a_new_stacks_preview_refuses_what_it_knows_and_leaves_a_vault_grants_unknown_scope_to_up():
    """The role is known in a preview (the subscription from getClientConfig), a new resource's id is not: a privileged
    role is refused there as in `up`, and so is a whole vault named by a value the preview knows; a Key Vault
    Secrets User grant on the id of a secret still to be created is not judged (pulumi-policy's note), and Reader on
    the id of a group still to be created passes (a subscription's id is known in a preview)."""
    preview = preview_for("dev")
    assert ("scope" in preview.one(ASSIGNMENT, KV_READER).unknown_paths
            and "scope" in preview.one(ASSIGNMENT, GROUP_READER).unknown_paths)
    found = {v.resource: v for v in verdicts(preview)}
    assert found[KV_READER].unjudged and not found[KV_READER].mandatory
    assert "whether it is one secret or the whole vault can't be told" in found[KV_READER].message
    assert GROUP_READER not in found
    (owner,) = [v for v in verdicts(planted(preview, GROUP_READER, role=RBAC_ADMIN)) if v.resource == GROUP_READER]
    assert owner.mandatory and "Role Based Access Control Administrator" in owner.message
    vault = "/subscriptions/0/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv"
    (whole,) = [v for v in verdicts(planted(preview, KV_READER, scope=lambda r: vault)) if v.resource == KV_READER]
    assert whole.mandatory and not whole.unjudged and "every secret, key and certificate" in whole.message


@pytest.fixture(scope="module")
def dev_plugin():
    host = plugin_host.AnalyzerHost(plan_for("dev").project, "dev")
    yield host
    errors = host.engine.errors()
    assert "Traceback" not in host.close() and not errors, errors


def test_the_analyzer_plugin_gives_the_offline_verdicts_on_every_plant(dev_plugin):
    """The plants together in one plan, and a new stack's preview, through `pulumi preview --policy-pack`'s gRPC
    analyzer: the offline runner's verdicts exactly."""
    plan = plan_for("dev")
    for how in ({"role": OWNER}, {"scope": lambda r: SUBSCRIPTION}):
        plan = planted(plan, GROUP_READER, **how)
    plan = planted(plan, KV_READER, scope=_vault)
    resource, _ = plugin_verdicts(dev_plugin, plan)
    assert resource == offline_verdicts(plan)[0]
    assert {v[2].rsplit("::", 1)[-1] for v in resource if v[0] == ROLE_POLICY} == {GROUP_READER, KV_READER}
    preview = preview_for("dev")
    assert plugin_verdicts(dev_plugin, preview)[0] == offline_verdicts(preview)[0]


def test_the_vendored_roles_are_microsofts_and_the_programs_own_pass():
    """policy/builtin_roles.json names the docs commit tests/data/azure_builtin_roles.json was read at; its five
    privileged roles are the docs' Privileged category; the program's Key Vault role is among the data roles and
    none of its roles is privileged."""
    vendored = json.loads((PROJECT_DIR / "policy" / "builtin_roles.json").read_text())
    program_roles = json.loads((PROJECT_DIR / "tests" / "data" / "azure_builtin_roles.json").read_text())
    assert vendored["source"]["commit"] == program_roles["sources"]["docs"]["commit"]
    assert sorted(PRIVILEGED_ROLES.values()) == ["Contributor", "Owner", "Reservations Administrator",
                                                 "Role Based Access Control Administrator", "User Access Administrator"]
    assert all(re.fullmatch(r"[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}", g)
               for g in (*PRIVILEGED_ROLES, *KEY_VAULT_DATA_ROLES))
    assert all(name.startswith("Key Vault ") for name in KEY_VAULT_DATA_ROLES.values())
    assert "Key Vault Contributor" not in KEY_VAULT_DATA_ROLES.values()  # the vault resource's, none of its contents
    ours = {value for name, value in vars(azure_roles).items() if name.isupper() and isinstance(value, str)}
    assert ours.isdisjoint(PRIVILEGED_ROLES) and azure_roles.KEY_VAULT_SECRETS_USER in KEY_VAULT_DATA_ROLES
