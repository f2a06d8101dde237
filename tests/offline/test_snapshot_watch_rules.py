"""The pull-request check knows the types the watched model-share snapshots add (offline/data/replacement_rules.json).

The alert processing rule (`azure-native:alertsmanagement:AlertProcessingRuleByName`, ModelStore's
`alert_action_group_id`, passed by the stack from AzureMonitoring) had no entry: offline.plan_diff's replace_rules
returned nothing for it, so a renamed rule (a new storage account name, a new group) or a moved location showed as an
update while pulumi-azure-native replaces it. The shipped stacks plan no snapshots, so the check that every planned
type has rules (tests/offline/test_plan_diff.py) never met it."""
import re
from pathlib import Path

import pulumi_azure_native

from offline import plan_diff
from offline.plan_diff.rules import replace_rules

from tests.conftest import plan_for

RULE = "azure-native:alertsmanagement:AlertProcessingRuleByName"


def test_the_rules_cover_every_azure_type_a_prod_store_with_watched_snapshots_plans():
    """Through the stack's keys: prod with `modelStore.snapshots` (SMB) plans the vault's diagnostic setting and the
    alert processing rule; each azure-native type it plans has rules that match the installed SDK (its module, API
    version and path parameters), and the rule's name, group and location replace it."""
    plan = plan_for("prod", {"modelStore": {"protocol": "smb", "snapshots": True}})
    rules = plan_diff.rules()["azureNative"]["types"]
    planned = {r.type for r in plan.resources if r.type.startswith("azure-native:")}
    assert RULE in planned
    assert planned - set(rules) == set(), "add these types to offline/data/replacement_rules.json"
    sdk = Path(pulumi_azure_native.__file__).parent
    for type_ in sorted(planned):
        entry = rules[type_]
        source = (sdk / entry["sdk"]).read_text()
        assert f'"{type_}"' in source and f"Uses Azure REST API version {entry['apiVersion']}." in source, type_
        for param in entry["path"]:
            assert re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", param).lower() + ": " in source, (type_, param)
    [rule] = [r for r in plan.resources if r.type == RULE]
    replacing = {path for path, _ in replace_rules({"type": RULE, "inputs": rule.inputs, "options": {}}, {})}
    assert {"alertProcessingRuleName", "resourceGroupName", "location"} <= replacing
    assert "properties" not in replacing  # scopes, actions: updated in place


def test_turning_the_stores_snapshots_off_is_blocked_as_the_loss_of_its_recovery_points():
    """Through the stack's keys: prod's SMB store with snapshots, then without. Azure Backup deletes a protected item's
    recovery points with it (the REST DELETE is `az backup protection disable --delete-backup-data`), and the vault goes
    too: the PR check blocks both deletions unless allowed, and the policy pack holds them to `protect` in prod."""
    from offline import plan
    from policy.policies import STATEFUL
    on = plan_for("prod", {"modelStore": {"protocol": "smb", "snapshots": True}})
    off = plan_for("prod", {"modelStore": {"protocol": "smb"}})
    base = plan_diff.resources_by_urn(plan.resources_document(on))
    new = plan_diff.resources_by_urn(plan.resources_document(off))
    blocked = {base[u]["type"] for u, _ in plan_diff.blocking(plan_diff.diff_documents(base, new), set(), False)}
    assert {"azure-native:recoveryservices:ProtectedItem", "azure-native:recoveryservices:Vault"} <= blocked
    held = [r for r in on.resources if r.type in STATEFUL and r.type.startswith("azure-native:recoveryservices:")]
    assert len(held) == 2 and all(r.options.get("protect") for r in held)
