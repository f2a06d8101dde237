"""The PR check against the engine where a review found it wrong: a delete-first replacement takes down first only
the resources the deployed state lists it in `replaceWith` for, one level (pulumi/pulumi 1b5949891b
pkg/resource/deploy/step_generator.go `findDependentCascadeReplacements`, over `sg.deployment.olds`; a resource it
deletes is created again when it registers, `recreating`, with no cascade of its own), and a replacement trigger
compared as `shouldTriggerReplace` compares it (every change the plans show replaces, a secret's inside excepted).
A team's program planned with the kit (tests/offline/test_plan_diff_options.py), edited, and diffed by the check."""
import copy

import pytest

from offline import plan_diff
from tests.offline.plan_diff_cli import check as _check
from tests.offline.test_plan_diff_options import ACCOUNT, IP, SHARE, _doc, _line, _one, _short, team_program


@pytest.fixture(scope="module")
def base() -> dict:
    return _doc()


def _blocked(out: str, doc: dict, urn: str) -> str:
    return "\n".join(line for line in out.splitlines() if line.startswith(f"- :x: `{_short(doc, urn)}`"))


def test_a_lister_of_a_lister_is_created_first_and_its_create_collides(tmp_path, base):
    """The account (a given name: pulumi-azure-native deletes it first) deletes the IP that lists it first; the IP is
    created again when it registers, and the IPv6 address listing the IP is then replaced as the engine's own
    replacement, created first under the name the old one holds: its create fails, whatever label is given."""
    account, ip, ip6 = (_one(base, ACCOUNT, "models-account"), _one(base, IP, "ingress-ip"),
                        _one(base, IP, "ingress-ip-v6"))
    new = _doc(account="stteamamodels2")
    result = plan_diff.diff_documents(base, new)
    assert {account, ip} <= set(result["deleteBeforeReplace"]) and ip not in result["refused"]
    assert ip6 in result["replaced"] and ip6 not in result["deleteBeforeReplace"]
    code, out = _check(tmp_path, base, new, "--allow-stateful")
    assert code == 1 and "its replaceWith" in _blocked(out, new, ip6) and "its replacement fails" in _blocked(
        out, new, ip6)
    assert "deleted first" not in _line(out, "- Replace:", new, ip6)


def _ip_replaced_first(doc: dict) -> dict:
    """`doc` with the team's IP replaced (replaceOnChanges) and deleted first (the deleteBeforeReplace option)."""
    ip = _one(doc, IP, "ingress-ip")
    new = copy.deepcopy(doc)
    new[ip]["inputs"]["idleTimeoutInMinutes"] = 10
    new[ip]["options"].update(replaceOnChanges=["idleTimeoutInMinutes"], deleteBeforeReplace=True)
    return new


def test_a_replace_with_added_with_the_replacement_is_not_in_the_state_so_its_resource_is_created_first(
        tmp_path, base):
    """The state the engine reads has no replaceWith on the IPv6 address yet: the IP's delete-first replacement does
    not take it down first, and its own replacement (replaceWith) creates it first under its name."""
    ip6 = _one(base, IP, "ingress-ip-v6")
    old = copy.deepcopy(base)
    del old[ip6]["options"]["replaceWith"]
    new = _ip_replaced_first(base)
    result = plan_diff.diff_documents(old, new)
    assert ip6 in result["replaced"] and ip6 not in result["deleteBeforeReplace"]
    assert "its replacement fails" in result["refused"][ip6][0]
    code, out = _check(tmp_path, old, new, "--allow-stateful")
    assert code == 1 and "its replacement fails" in _blocked(out, new, ip6)


def test_a_base_plan_of_the_earlier_kit_refuses_nothing_it_cannot_know(tmp_path, base):
    """A base planned before the kit recorded replaceWith (none of the options it records now anywhere): the deployed
    state may list the IP, so the IPv6 address is taken as deleted first with it, and nothing is refused for it."""
    ip6 = _one(base, IP, "ingress-ip-v6")
    old = copy.deepcopy(base)
    for resource in old.values():
        for key in ("replaceWith", "replacementTrigger", "hideDiffs", "deleteBeforeReplaceDefined"):
            resource["options"].pop(key, None)
    new = _ip_replaced_first(base)
    result = plan_diff.diff_documents(old, new)
    assert ip6 in result["deleteBeforeReplace"] and ip6 not in result["refused"]
    assert _check(tmp_path, old, new, "--allow-stateful")[0] == 0


def test_a_replace_with_dropped_with_the_replacement_still_takes_its_resource_down_first(tmp_path, base):
    """The state still lists the IP in the IPv6 address's replaceWith: the IP's delete-first replacement deletes it
    first, and it is created again when it registers (a replacement the program no longer asks for)."""
    ip, ip6 = _one(base, IP, "ingress-ip"), _one(base, IP, "ingress-ip-v6")
    new = _ip_replaced_first(base)
    del new[ip6]["options"]["replaceWith"]
    result = plan_diff.diff_documents(base, new)
    assert ip6 in result["replaced"] and ip6 in result["deleteBeforeReplace"]
    assert _short(new, ip) in result["replaced"][ip6][0] and "replaceWith" in result["replaced"][ip6][0]
    code, out = _check(tmp_path, base, new)
    assert code == 1 and "replaced: a static public IP" in _blocked(out, new, ip6)


@pytest.mark.parametrize("old, new", [
    ({"generation": 1}, {"generation": 1, "key": "[secret]"}),  # a secret part added
    ({"generation": 1, "key": "[secret]"}, {"generation": 1}),  # dropped
    ("[secret]", {"key": "[secret]"}),  # a secret value that becomes an object
    ({}, {"a": {}}),  # an empty object added
    (False, 0), (1, True),  # another type: the engine's values are typed
])
def test_a_trigger_change_the_plans_show_replaces(base, old, new):
    """shouldTriggerReplace compares the values: what changes outside a secret's value is seen in the plans, a key
    added or removed included, however secret its value is."""
    share = _one(base, SHARE, "models-share")
    before, after = copy.deepcopy(base), copy.deepcopy(base)
    before[share]["options"]["replacementTrigger"], after[share]["options"]["replacementTrigger"] = old, new
    result = plan_diff.diff_documents(before, after)
    assert result["replaced"][share][0].startswith("its replacementTrigger changes"), result["checks"].get(share)


@pytest.mark.parametrize("old, new", [("[secret]", "[secret]"), ("a", "[secret]"), ({"k": "[secret]"},
                                                                                     {"k": "[secret]"})])
def test_a_trigger_whose_secret_part_alone_may_change_is_a_check(base, old, new):
    share = _one(base, SHARE, "models-share")
    before, after = copy.deepcopy(base), copy.deepcopy(base)
    before[share]["options"]["replacementTrigger"], after[share]["options"]["replacementTrigger"] = old, new
    result = plan_diff.diff_documents(before, after)
    assert share not in result["replaced"] and "cannot see whether it changes" in result["checks"][share][0]


def test_a_secret_trigger_not_known_in_a_preview_is_recorded_unknown_and_replaces(base):
    """The SDK sends a secret output not known yet as a secret holding the unknown value (pulumi 3.272.0
    runtime/rpc.py `serialize_property`: "Preserve the secret marker even when the value is unknown"), which the
    engine unwraps and takes for a change (`shouldTriggerReplace`); the kit recorded it as `[secret]`, a value the
    check cannot see into."""
    import pulumi
    import pulumi_random as random
    from llmplatform.testing import run
    from offline import plan

    def trigger() -> pulumi.Output:
        return pulumi.Output.secret(random.RandomId("generation", byte_length=4).hex)
    preview = plan_diff.resources_by_urn(plan.resources_document(run(team_program(trigger=trigger), preview=True)))
    share = _one(base, SHARE, "models-share")
    assert preview[share]["options"]["replacementTrigger"] == "04da6b54-80e4-46f7-96ec-b56ff0331ba9"  # rpc.UNKNOWN
    assert any(r.startswith("its replacementTrigger is unknown")
               for r in plan_diff.diff_documents(base, preview)["replaced"][share])


@pytest.mark.parametrize("old, new, why", [
    # typed as the engine's values: a bool is no number, inside an object or a list too; 1 and 1.0 are one number
    ({"a": True}, {"a": 1}, 'its replacementTrigger changes ({"a": true} -> {"a": 1})'),
    ([True], [1], "its replacementTrigger changes ([true] -> [1])"),
    ([True], [False], "its replacementTrigger changes (`replacementTrigger[0]`)"), ({"a": True}, {"a": True}, None),
    ({"a": 1}, {"a": 1.0}, None), ([1, 2], [1.0, 2], None), ({"a": [1]}, {"a": [1]}, None),
    ([1], 1, "its replacementTrigger changes ([1] -> 1)"), (1, [1], "its replacementTrigger changes (1 -> [1])"),
    ({"a": 1}, [1], 'its replacementTrigger changes ({"a": 1} -> [1])'),
    ([1], [1, 1], "its replacementTrigger changes ([1] -> [1, 1])"),
    ("a", "b", 'its replacementTrigger changes ("a" -> "b")'),
    ({"a": 1, "b": 1, "c": 1}, {"a": 2, "b": 2, "c": 2},
     "its replacementTrigger changes (`replacementTrigger.a`, `replacementTrigger.b`, `replacementTrigger.c`)"),
    ({"a": 1, "b": 1, "c": 1, "d": 1}, {"a": 2, "b": 2, "c": 2, "d": 2},
     "its replacementTrigger changes (`replacementTrigger.a`, `replacementTrigger.b`, `replacementTrigger.c`, ...)"),
])
def test_a_trigger_is_compared_as_the_engines_values_are_and_its_change_named(old, new, why):
    """trigger_change without a plan (found by mutation testing): `property.Value.Equals` typed equality, the values
    shown when a scalar or the shape changes, at most three changed paths named."""
    from offline.plan_diff.rules import trigger_change
    assert trigger_change({"replacementTrigger": old}, {"replacementTrigger": new}) == (why, None)


def test_an_unknown_trigger_replaces_and_a_same_one_without_a_secret_is_no_check():
    from pulumi.runtime.rpc import UNKNOWN
    from offline.plan_diff.rules import trigger_change
    unknown = "its replacementTrigger is unknown (the engine takes an unknown trigger for a change)"
    assert trigger_change({"replacementTrigger": UNKNOWN}, {"replacementTrigger": UNKNOWN}) == (unknown, None)
    assert trigger_change({"replacementTrigger": {"a": 1}}, {"replacementTrigger": {"a": [UNKNOWN]}}) == \
        (unknown, None)
    assert trigger_change({"replacementTrigger": {"a": 1}}, {"replacementTrigger": {"a": 1}}) == (None, None)
