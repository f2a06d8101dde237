"""The pull-request check across the kit's change to real ARM ids (offline/plan_diff/stand_in_ids.py): the base
branch's plan made by a kit that gave token-shaped ids (`.../providers/Microsoft.<module>/<Type>/<name>`) and made
its principal ids, addresses and a cluster's resourceUID of their digest."""
import copy

from llmplatform.testing.stand_ins import arm_id, azure_outputs, token_shaped_id
from offline import plan, plan_diff
from offline.plan_diff.leaves import leaf_items

from tests.offline.plan_diff_cli import check as _check

ROLE = "azure-native:authorization:RoleAssignment"
SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"


def _as_the_token_shaped_kit_wrote(doc: dict) -> dict:
    """The plan as the kit at 9f1669bb recorded the same program: each azure-native resource's id token-shaped
    (stand_ins `token_shaped_id`, that kit's `_arm_id` and name inputs, kept as the fallback) and its outputs made
    of that id (`azure_outputs`, that kit's per-kind stand-ins), wherever an input holds one, whole or within."""
    back: dict[str, str] = {}
    for res in doc.values():
        if res["type"].startswith("azure-native:") and res.get("custom", True):
            was, was_name = token_shaped_id(res["type"], res["name"], res["inputs"], SUBSCRIPTION)
            now, now_name = arm_id(res["type"], res["name"], res["inputs"], SUBSCRIPTION)
            before = dict(leaf_items(azure_outputs(res["type"], res["inputs"], was, was_name)))
            for path, value in leaf_items(azure_outputs(res["type"], res["inputs"], now, now_name)):
                if path != "name" and isinstance(value, str) and value != before.get(path):
                    back.setdefault(value, before[path])
    ids = sorted((k for k in back if k.startswith("/subscriptions/")), key=len, reverse=True)

    def old(value):
        if isinstance(value, dict):
            return {k: old(v) for k, v in value.items()}
        if isinstance(value, list):
            return [old(v) for v in value]
        if not isinstance(value, str) or value in back:
            return back.get(value, value)
        for new_id in ids:
            value = value.replace(new_id, back[new_id])
        return value
    out = copy.deepcopy(doc)
    for res in out.values():
        res["inputs"] = old(res["inputs"])
    return out


def test_the_change_to_real_ids_replaces_and_updates_nothing(tmp_path, prod):
    """The same program planned by the kit before and after: every role assignment's `scope` and `principalId`
    (both force-new), the Kubernetes provider's `clusterIdentifier` (which replaces it and every object of it),
    the diagnostic settings' `resourceUri` differ on paper only, where the engine diffs the state's real ids."""
    new = plan_diff.resources_by_urn(plan.resources_document(prod))
    base = _as_the_token_shaped_kit_wrote(new)
    by_name = {r["name"]: r for r in base.values() if r["type"] == ROLE}
    # the model is the earlier kit: these two values are its plan of prod at 9f1669bb, read from that plan
    assert by_name["gateway-ip-network"]["inputs"]["scope"] == (
        f"/subscriptions/{SUBSCRIPTION}/resourceGroups/rg-llmp-prod/providers/Microsoft.network/PublicIPAddress/"
        "pip-llmp-prod-gateway")
    assert by_name["gateway-ip-network"]["inputs"]["principalId"] == "aks-llmp-prod-1c48e9-principal"
    differ = [u for u in new if base[u]["inputs"] != new[u]["inputs"]]
    assert sum(new[u]["type"] == ROLE for u in differ) >= 8
    assert any(new[u]["type"] == "pulumi:providers:kubernetes" for u in differ)

    result = plan_diff.diff_documents(base, new)
    assert (result["replaced"], result["changed"], result["protected"]) == ({}, {}, [])
    code, out = _check(tmp_path, base, new)
    assert code == 0 and "0 to update, 0 to replace" in out


def test_a_real_move_across_the_change_is_still_reported(prod):
    """A role assignment whose scope is another resource, and one granted to another identity, still replace: a
    value is forgiven only where it is the same resource's stand-in."""
    new = plan_diff.resources_by_urn(plan.resources_document(prod))
    base = _as_the_token_shaped_kit_wrote(new)
    roles = [u for u in new if new[u]["type"] == ROLE and base[u]["inputs"] != new[u]["inputs"]]
    scoped = next(u for u in roles if "/providers/" in new[u]["inputs"]["scope"])
    other_scope = next(new[u]["inputs"]["scope"] for u in roles
                       if "/providers/" in new[u]["inputs"]["scope"]
                       and new[u]["inputs"]["scope"] != new[scoped]["inputs"]["scope"])
    principal = next(u for u in roles if u != scoped)
    other_principal = next(new[u]["inputs"]["principalId"] for u in roles
                           if new[u]["inputs"]["principalId"] != new[principal]["inputs"]["principalId"])
    moved = copy.deepcopy(new)
    moved[scoped]["inputs"]["scope"] = other_scope
    moved[principal]["inputs"]["principalId"] = other_principal
    replaced = plan_diff.diff_documents(base, moved)["replaced"]
    assert any("`scope`" in why for why in replaced.get(scoped, [])), replaced.get(scoped)
    assert any("`principalId`" in why for why in replaced.get(principal, [])), replaced.get(principal)


def test_a_regional_clusters_id_read_from_a_stack_reference_is_the_same_cluster(global_plan):
    """The global stack's fleet members name each regional cluster by the id its stack exports (no resource of the
    global plan makes it): a token-shaped id and the template's id of the same cluster are no change of
    `clusterResourceId` (force-new); another cluster's is."""
    new = plan_diff.resources_by_urn(plan.resources_document(global_plan))
    members = [u for u, r in new.items() if r["type"] == "azure-native:containerservice:FleetMember"]
    assert members
    base = copy.deepcopy(new)
    for u in members:
        cluster = new[u]["inputs"]["clusterResourceId"]
        group, name = cluster.split("/resourceGroups/")[1].split("/")[0], cluster.rsplit("/", 1)[1]
        base[u]["inputs"]["clusterResourceId"] = token_shaped_id(
            "azure-native:containerservice:ManagedCluster", name, {"resourceGroupName": group, "resourceName": name},
            cluster.split("/")[2])[0]
        assert base[u]["inputs"]["clusterResourceId"] != cluster
    assert plan_diff.diff_documents(base, new)["replaced"] == {}
    swapped = copy.deepcopy(new)
    swapped[members[0]]["inputs"]["clusterResourceId"] = new[members[0]]["inputs"]["clusterResourceId"] + "-other"
    assert members[0] in plan_diff.diff_documents(base, swapped)["replaced"]
