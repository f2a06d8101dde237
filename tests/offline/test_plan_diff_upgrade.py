"""The pull-request check across an upgrade of the package: the base branch's plan was made by an earlier release's
offline kit, whose stand-ins differ where no real value does."""
import copy
import re

from offline import plan, plan_diff

from tests.offline.plan_diff_cli import check as _check

ROLE = "azure-native:authorization:RoleAssignment"
# the stand-in identity ids of the kit since commit 9932bad (llmplatform/testing/stand_ins.py `_identity_id`)
NEW_SCHEME = re.compile(r"(.+)-[0-9a-f]{6}-(kubelet-principal|kubelet-client|principal|client)")


def _as_the_0_21_kit_wrote(doc: dict) -> dict:
    """The plan as release 0.21's kit recorded the same program (components/llmplatform/testing/stand_ins.py at
    v0.21.0): a cluster's or identity's principal `<azure name>-principal`, an identity's client `<azure name>-client`,
    every kubelet `kubelet-obj` / `kubelet-client`; and no `version` among an explicit provider's inputs."""
    def old(value):
        if isinstance(value, dict):
            return {k: old(v) for k, v in value.items()}
        if isinstance(value, list):
            return [old(v) for v in value]
        match = NEW_SCHEME.fullmatch(value) if isinstance(value, str) else None
        if not match:
            return value
        return {"kubelet-principal": "kubelet-obj", "kubelet-client": "kubelet-client"}.get(
            match[2], f"{match[1]}-{match[2]}")
    out = copy.deepcopy(doc)
    for res in out.values():
        res["inputs"] = old(res["inputs"])
        if res["type"].startswith("pulumi:providers:") and res["name"] != "default":
            res["inputs"].pop("version", None)
    return out


def test_an_upgrade_from_0_21_replaces_no_role_assignment_the_earlier_kit_named_otherwise(tmp_path, prod):
    """The same program planned by 0.21's kit and by this one: every role assignment's `principalId` (force-new in
    pulumi-azure-native) and every workload identity's client id differ on paper, where the engine diffs the
    identities' real ids kept in the state: nothing is replaced or updated. An upgrade's check listed each role
    assignment replaced, and prod's protected ones as stopping `pulumi up`."""
    new = plan_diff.resources_by_urn(plan.resources_document(prod))
    base = _as_the_0_21_kit_wrote(new)
    renamed = [u for u in new if base[u]["inputs"] != new[u]["inputs"]]
    assert sum(new[u]["type"] == ROLE for u in renamed) >= 8  # the earlier kit's shape is what this test models
    assert any("aks-llmp-prod-principal" == base[u]["inputs"].get("principalId") for u in renamed)
    result = plan_diff.diff_documents(base, new)
    assert (result["replaced"], result["changed"], result["protected"]) == ({}, {}, [])
    code, out = _check(tmp_path, base, new)
    assert code == 0 and "Protected" not in out and "0 to update, 0 to replace" in out

    # a role assignment given another identity, and a provider given another plugin version, still show
    role = next(u for u in renamed if new[u]["type"] == ROLE)
    other = next(new[u]["inputs"]["principalId"] for u in renamed if new[u]["type"] == ROLE
                 and new[u]["inputs"]["principalId"] != new[role]["inputs"]["principalId"])
    moved = copy.deepcopy(new)
    moved[role]["inputs"]["principalId"] = other
    provider = next(u for u, r in new.items() if r["type"] == "pulumi:providers:kubernetes")
    bumped = copy.deepcopy(new)
    bumped[provider]["inputs"]["version"] = "99.0.0"
    assert list(plan_diff.diff_documents(base, moved)["replaced"]) == [role]
    assert plan_diff.diff_documents(new, bumped)["changed"] == {provider: ["version"]}
