"""Every Azure role the platform assigns is a built-in role by the id Microsoft publishes for it.

A role assignment's roleDefinitionId is a plain string to pulumi-azure-native (no pattern, no enum) and to the offline
mocks; Azure refuses an id it does not know (RoleDefinitionDoesNotExist) or, worse, grants another role if a GUID of
one role was written for another. The ids are read in tests/data/azure_builtin_roles.json, with the Microsoft source
each comes from."""
import json
import re

import pytest

from llmplatform import azure_roles

from tests.conftest import PLANNED, PROJECT_DIR, planned

DATA = json.loads((PROJECT_DIR / "tests" / "data" / "azure_builtin_roles.json").read_text())
ROLES: dict[str, dict] = DATA["roles"]
ROLE_ID = re.compile(r"/subscriptions/[^/]+/providers/Microsoft\.Authorization/roleDefinitions/"
                     r"([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})")

# The role each constant of llmplatform.azure_roles is meant to grant, by Microsoft's name for it (a GUID of another
# real role, Key Vault Secrets Officer for Secrets User say, is refused here too).
MEANT = {
    "AKS_RBAC_CLUSTER_ADMIN": "Azure Kubernetes Service RBAC Cluster Admin",
    "NETWORK_CONTRIBUTOR": "Network Contributor",
    "READER": "Reader",
    "KEY_VAULT_SECRETS_USER": "Key Vault Secrets User",
    "MONITORING_DATA_READER": "Monitoring Data Reader",
    "GRAFANA_ADMIN": "Grafana Admin",
    "ACR_PULL": "AcrPull",
    "GRAFANA_VIEWER": "Grafana Viewer",
}


def unknown_roles(role_definition_id: str) -> list[str]:
    """Why Azure would refuse (or misread) a planned roleDefinitionId; [] for a built-in role's id."""
    match = ROLE_ID.fullmatch(role_definition_id)
    if match is None:
        return [f"{role_definition_id!r} is not /subscriptions/<id>/providers/Microsoft.Authorization/roleDefinitions/"
                "<GUID>"]
    if match.group(1) not in ROLES:
        return [f"{match.group(1)} is no built-in role in tests/data/azure_builtin_roles.json"]
    return []


def test_each_role_constant_is_the_builtin_role_it_names():
    constants = {name: value for name, value in vars(azure_roles).items()
                 if name.isupper() and isinstance(value, str)}
    assert set(constants) == set(MEANT), "a role constant added or removed: look its id up (tests/data/...roles.json)"
    wrong = {name: (value, ROLES.get(value, {}).get("roleName")) for name, value in constants.items()
             if ROLES.get(value, {}).get("roleName") != MEANT[name]}
    assert not wrong, f"not the built-in role each is meant to be (id, Microsoft's name for it): {wrong}"


@pytest.mark.parametrize("name", PLANNED)
def test_every_planned_role_assignment_names_a_builtin_role(name):
    broken = [f"{reg.name}: {why}" for reg in planned(name).resources
              if reg.type == "azure-native:authorization:RoleAssignment"
              for why in unknown_roles(reg.inputs["roleDefinitionId"])]
    assert not broken, "\n".join(broken)


def test_a_mistyped_or_foreign_role_id_is_refused():
    good = "/subscriptions/0/providers/Microsoft.Authorization/roleDefinitions/4633458b-17de-408a-b874-0445c86b69e6"
    assert unknown_roles(good) == []
    assert unknown_roles(good[:-1] + "7") == [
        "4633458b-17de-408a-b874-0445c86b69e7 is no built-in role in tests/data/azure_builtin_roles.json"]
    assert unknown_roles("Key Vault Secrets User")  # a name where ARM takes an id


def test_every_vendored_role_has_its_source():
    for role_id, role in ROLES.items():
        assert re.fullmatch(r"[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}", role_id)
        source = DATA["sources"][role["source"]]
        assert re.fullmatch("[0-9a-f]{40}", source["commit"]) and source["repository"] and source["path"]
    assert sorted(role["roleName"] for role in ROLES.values()) == sorted(MEANT.values())
