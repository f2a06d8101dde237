"""The resource options the engine replaces on before any provider is asked, in the pull-request check: a package
user's program (the components composed with resources of its own, given options through its own ResourceOptions
and a transformation on the package's resources) planned with the testing kit, edited as a user edits it, and
diffed as the check diffs two plans. What the engine does with each option: pulumi/pulumi 1b5949891b
pkg/resource/deploy/step_generator.go (`generateStepsFromDiff`/`shouldTriggerReplace`, `diff`,
`continueStepsFromDiff`, `findDependentCascadeReplacements`) and its lifecycle tests (replacement_trigger_test.go,
replace_with_test.go)."""
import copy
from typing import Any, Optional

import pulumi
import pytest
from pulumi_azure_native import network

from llmplatform import AksCluster, AppNamespace, ModelStore
from llmplatform.testing import run
from offline import plan, plan_diff

from tests.offline.plan_diff_cli import check as _check


SHARE, ACCOUNT, IP = ("azure-native:storage:FileShare", "azure-native:storage:StorageAccount",
                      "azure-native:network:PublicIPAddress")
NETWORK = {"vnet_cidr": "10.60.0.0/16", "node_subnet_cidr": "10.60.0.0/20", "endpoints_subnet_cidr": "10.60.16.0/24",
           "postgres_subnet_cidr": "10.60.17.0/24", "pod_cidr": "192.168.0.0/16", "service_cidr": "172.16.0.0/16",
           "dns_service_ip": "172.16.0.10"}
_NO = object()  # an option the program leaves unset


def team_program(account: str = "stteamamodels", protocol: str = "nfs", trigger: Any = "gen-1",
                 share_dbr: Optional[bool] = None, hide: Optional[list[str]] = None, size: int = 100,
                 ip_with: bool = True, ip_dbr: Optional[bool] = None):
    """A team's program: AksCluster, AppNamespace and ModelStore from the package; a legacy transformation gives the
    package's model share a replacement trigger (a generation the team bumps to start the share empty) and, if
    asked, `delete_before_replace` and `hide_diffs`; the team's own static public IP is replaced with the model
    store's account (`replace_with`), and its DNS label's IP with that IP (a chain)."""
    def main() -> None:
        aks = AksCluster("aks", {
            "cluster_name": "aks-team-a", "resource_group_name": "rg-team-a", "location": "northeurope",
            "network": NETWORK,
            "system_pool": {"name": "system", "vm_size": "Standard_D2s_v5", "min_count": 1, "max_count": 2},
            "workload_pool": {"name": "cpu", "vm_size": "Standard_D4s_v5", "min_count": 1, "max_count": 3}})
        in_cluster = pulumi.ResourceOptions(providers=[aks.provider])
        app = AppNamespace("app", {"namespace": "llm"}, in_cluster)
        found: dict[str, pulumi.Resource] = {}

        def share_options(args: pulumi.ResourceTransformationArgs) -> Optional[pulumi.ResourceTransformationResult]:
            if args.type_ == ACCOUNT:
                found["account"] = args.resource
            if args.type_ != SHARE:
                return None
            value = trigger() if callable(trigger) else trigger  # an Output is made inside the program
            given = pulumi.ResourceOptions(delete_before_replace=share_dbr, hide_diffs=hide,
                                           replacement_trigger=None if trigger is _NO else value)
            return pulumi.ResourceTransformationResult(args.props, pulumi.ResourceOptions.merge(args.opts, given))
        ModelStore("models", {"cluster": aks.cluster, "account_name": account, "namespace": app.namespace,
                              "protocol": protocol, "size_gib": size, "models": ["qwen2.5:0.5b"]},
                   pulumi.ResourceOptions.merge(in_cluster, pulumi.ResourceOptions(transformations=[share_options])))
        ip = network.PublicIPAddress(
            "ingress-ip", public_ip_address_name="pip-team-a", resource_group_name="rg-team-a",
            location="northeurope", sku={"name": "Standard"}, public_ip_allocation_method="Static",
            opts=pulumi.ResourceOptions(depends_on=[aks], replace_with=[found["account"]] if ip_with else None,
                                        delete_before_replace=ip_dbr))
        network.PublicIPAddress(
            "ingress-ip-v6", public_ip_address_name="pip-team-a-v6", resource_group_name="rg-team-a",
            location="northeurope", sku={"name": "Standard"}, public_ip_allocation_method="Static",
            public_ip_address_version="IPv6", opts=pulumi.ResourceOptions(depends_on=[aks], replace_with=[ip]))
    return main


def _doc(**edits: Any) -> dict:
    return plan_diff.resources_by_urn(plan.resources_document(run(team_program(**edits))))


@pytest.fixture(scope="module")
def base() -> dict:
    return _doc()


def _one(doc: dict, type_: str, name: str) -> str:
    return next(u for u, r in doc.items() if r["type"] == type_ and r["name"] == name)


def _short(doc: dict, urn: str) -> str:
    return plan_diff.short_urn(plan_diff.engine_urns(doc)[urn])


def _line(out: str, start: str, doc: dict, urn: str) -> str:
    return next(line for line in out.splitlines() if line.startswith(f"{start} `{_short(doc, urn)}`"))


def test_the_kit_records_the_options_as_sent_and_nothing_where_none_is_given(base):
    share, ip = _one(base, SHARE, "models-share"), _one(base, IP, "ingress-ip")
    assert base[share]["options"]["replacementTrigger"] == "gen-1"
    assert base[ip]["options"]["replaceWith"] == [_one(base, ACCOUNT, "models-account")]
    assert base[_one(base, IP, "ingress-ip-v6")]["options"]["replaceWith"] == [ip]
    given = _doc(share_dbr=False, hide=["shareQuota"],
                 trigger=lambda: pulumi.Output.secret({"generation": 1, "by": "ops"}))
    assert given[share]["options"]["deleteBeforeReplaceDefined"] is True
    assert given[share]["options"]["hideDiffs"] == ["shareQuota"]
    assert given[share]["options"]["replacementTrigger"] == {"generation": "[secret]", "by": "[secret]"}
    assert "deleteBeforeReplaceDefined" not in _doc(share_dbr=True)[share]["options"]  # true reads alike either way
    plain = {"protect", "ignoreChanges", "deleteBeforeReplace", "retainOnDelete", "provider", "replaceOnChanges",
             "customTimeouts"}  # what every plan of this repository's own program holds: its files stay the same
    assert all(set(r["options"]) <= plain | {"deletedWith", "aliases", "import"} for u, r in base.items()
               if u not in {share, ip, _one(base, IP, "ingress-ip-v6")})


def test_a_new_trigger_value_replaces_the_share_and_the_check_refuses_it_until_allowed(tmp_path, base):
    """TestReplacementTrigger: a new value replaces. The provider is never asked, so the named share is created while
    the old one holds its name unless the program deletes it first; a share is stateful either way."""
    share = _one(base, SHARE, "models-share")
    new = _doc(trigger="gen-2")
    code, out = _check(tmp_path, base, new)
    assert code == 1 and '- Replace: `' in out
    replace = _line(out, "- Replace:", new, share)
    assert 'its replacementTrigger changes ("gen-1" -> "gen-2")' in replace and "deleted first" not in replace
    blocked = [line for line in out.splitlines() if line.startswith(f"- :x: `{_short(new, share)}`")]
    assert any("replaced: the share holding the models" in line for line in blocked)
    assert any("its `replacementTrigger` replaces it" in line and "its replacement fails" in line for line in blocked)
    new = _doc(trigger="gen-2", share_dbr=True)  # the way out the refusal names: deleted first, then created
    code, out = _check(tmp_path, base, new)
    assert code == 1 and "(deleted first, then created: a gap)" in _line(out, "- Replace:", new, share)
    assert "its replacement fails" not in out  # only the stateful gate is left, and the label lifts it
    assert _check(tmp_path, base, new, "--allow-stateful")[0] == 0


def test_a_trigger_change_beside_a_force_new_change_is_still_created_first_and_collides(tmp_path, base):
    """The trigger is asked before the provider's Diff, so the provider's answer to delete the named share first is
    never asked, though its own diff would replace it too (`enabledProtocols`, force-new): created first, and refused
    as colliding with the old share's name. (A mutant that let the provider's answer stand said "deleted first".)"""
    share = _one(base, SHARE, "models-share")
    new = _doc(trigger="gen-2", protocol="smb")
    code, out = _check(tmp_path, base, new)
    replace = _line(out, "- Replace:", new, share)
    assert "`enabledProtocols`" in replace and "its replacementTrigger changes" in replace, replace
    assert "deleted first" not in replace and code == 1, replace
    blocked = [line for line in out.splitlines() if line.startswith(f"- :x: `{_short(new, share)}`")]
    assert any("its `replacementTrigger` replaces it" in line and "its replacement fails" in line for line in blocked)


def test_a_trigger_that_stays_is_set_first_or_dropped_replaces_nothing(base):
    """shouldTriggerReplace: the same value is no change, and no trigger (null) on either side never replaces."""
    share = _one(base, SHARE, "models-share")
    for old, new in ((base, _doc()), (_doc(trigger=_NO), base), (base, _doc(trigger=_NO)),
                     (_doc(trigger={"generation": 1}), _doc(trigger={"generation": 1.0}))):
        result = plan_diff.diff_documents(old, new)
        assert share not in result["replaced"] and share not in result["changed"]


def test_a_secret_trigger_is_compared_where_the_plans_show_it_and_said_where_they_cannot(base):
    """TestReplacementTriggerWithSecret/WithDeepSecret: the engine compares the values inside the secrets. The plans
    show `[secret]`: a change outside the secret still replaces; inside it, the check says it cannot see."""
    share = _one(base, SHARE, "models-share")
    old = _doc(trigger=lambda: {"generation": 1, "key": pulumi.Output.secret("a")})
    new = _doc(trigger=lambda: {"generation": 2, "key": pulumi.Output.secret("a")})
    result = plan_diff.diff_documents(old, new)
    assert result["replaced"][share] == ["its replacementTrigger changes (`replacementTrigger.generation`)"]
    result = plan_diff.diff_documents(old, _doc(trigger=lambda: {"generation": 1, "key": pulumi.Output.secret("b")}))
    assert share not in result["replaced"] and "secret" in result["checks"][share][0]
    assert "[secret]" in str(old[share]["options"]) and "'a'" not in str(old[share]["options"])


def test_a_replaced_resource_replaces_what_lists_it_in_replace_with_and_its_chain(tmp_path, base):
    """TestReplaceWith: the model store's account replaced (a new name) replaces the team's IP, which lists it, and
    the IP's replacement the IPv6 address listing the IP: both stateful, both blocked. pulumi-azure-native deletes
    the named account first, and with it, first, what lists it (TestReplaceWithDeleteBeforeReplace), one level only:
    the IPv6 address is created first and collides (test_plan_diff_options_review.py)."""
    account, ip, ip6 = (_one(base, ACCOUNT, "models-account"), _one(base, IP, "ingress-ip"),
                        _one(base, IP, "ingress-ip-v6"))
    new = _doc(account="stteamamodels2")
    result = plan_diff.diff_documents(base, new)
    assert account in result["replaced"]
    assert result["replaced"][ip] == [f"its replaceWith `{_short(new, account)}` is replaced"]
    assert result["replaced"][ip6] == [f"its replaceWith `{_short(new, ip)}` is replaced"]
    assert {account, ip} <= set(result["deleteBeforeReplace"]) and ip not in result["refused"]
    blocked = dict(plan_diff.blocking(result, set(), False))
    assert blocked[ip].startswith("replaced: a static public IP") and "its replacement fails" in blocked[ip6]
    unlisted = _doc(account="stteamamodels2", ip_with=False)
    assert not {ip, ip6} & set(plan_diff.diff_documents(_doc(ip_with=False), unlisted)["replaced"])


def test_what_lists_a_create_first_replacement_is_created_first_and_collides_unless_deleted_first(tmp_path, base):
    """The engine answers `replaceWith` before asking the provider (step_generator.go `diff`), so nothing asks to
    delete first: under its own name the new IP's create fails while the old one exists, unless the option deletes
    it first; a delete-first replacement deletes what lists it first (findDependentCascadeReplacements)."""
    ip, ip6 = _one(base, IP, "ingress-ip"), _one(base, IP, "ingress-ip-v6")
    new = copy.deepcopy(base)
    new[ip]["inputs"]["idleTimeoutInMinutes"] = 10
    assert ip not in plan_diff.diff_documents(base, new)["replaced"]  # an update: no chain
    new[ip]["options"]["replaceOnChanges"] = ["idleTimeoutInMinutes"]  # replaced, created first
    result = plan_diff.diff_documents(base, new)
    assert result["replaced"][ip6] == [f"its replaceWith `{_short(new, ip)}` is replaced"]
    assert not {ip, ip6} & set(result["deleteBeforeReplace"])
    assert "its replaceWith" in result["refused"][ip6][0] and "its replacement fails" in result["refused"][ip6][0]
    code, out = _check(tmp_path, base, new, "--allow-stateful")
    assert code == 1 and "its replaceWith" in _line(out, "- :x:", new, ip6)  # a collision: no label lifts it
    new[ip6]["options"]["deleteBeforeReplace"] = True
    assert ip6 not in plan_diff.diff_documents(base, new)["refused"]
    new[ip6]["options"]["deleteBeforeReplace"] = False
    new[ip]["options"]["deleteBeforeReplace"] = True  # the root deletes first: what lists it goes first with it
    result = plan_diff.diff_documents(base, new)
    assert {ip, ip6} <= set(result["deleteBeforeReplace"]) and not {ip, ip6} & set(result["refused"])


def test_an_explicit_delete_before_replace_false_creates_first_and_the_named_share_collides(tmp_path, base):
    """The request's deleteBeforeReplaceDefined: `False` goes over the provider's answer to delete first
    (continueStepsFromDiff, `goal.DeleteBeforeReplace != nil`; TestExplicitDeleteBeforeReplace)."""
    share = _one(base, SHARE, "models-share")
    new = _doc(protocol="smb")  # enabledProtocols: force-new, the share keeps its name
    result = plan_diff.diff_documents(base, new)
    assert share in result["replaced"] and share in result["deleteBeforeReplace"] and share not in result["refused"]
    new = _doc(protocol="smb", share_dbr=False)
    result = plan_diff.diff_documents(base, new)
    assert share in result["replaced"] and share not in result["deleteBeforeReplace"]
    assert "its `deleteBeforeReplace` option is false" in result["refused"][share][0]


def test_a_change_under_hide_diffs_is_said_on_its_line(tmp_path, base):
    """hideDiffs changes no step, only what `pulumi preview` displays (pkg/backend/display/object_diff.go): the
    check's line says which changes the reviewer will not see there."""
    share = _one(base, SHARE, "models-share")
    new = _doc(size=200, hide=["shareQuota"])
    code, out = _check(tmp_path, base, new)
    line = _line(out, "- Update:", new, share)
    assert "shareQuota" in line and "`pulumi preview` hides `shareQuota` (its hideDiffs)" in line
    assert "hides" not in _line(_check(tmp_path, base, _doc(size=200))[1], "- Update:", new, share)


def test_a_trigger_holding_what_a_replaced_resource_makes_at_create_replaces_too(dev):
    """A trigger taking a value the create of a replaced resource makes (the cluster's identity) is unknown in the
    preview and new in the update: shouldTriggerReplace replaces. The SDK sends no dependency of the trigger, so
    the check finds its source by value, as it does for inputs (TestReplacementTriggerWithComputed)."""
    base = plan_diff.resources_by_urn(plan.resources_document(dev))
    cluster = next(u for u, r in base.items() if r["type"] == "azure-native:containerservice:ManagedCluster")
    grant = next(u for u, r in base.items() if r["type"] == "azure-native:authorization:RoleAssignment"
                 and r["name"] == "gateway-ip-network")  # its principalId is the cluster's identity
    secret = next(u for u, r in base.items() if r["type"] == "azure-native:keyvault:Secret"
                  and r["name"] == "observability-grafana-password-secret")
    old = copy.deepcopy(base)
    old[secret]["options"]["replacementTrigger"] = {"identity": base[grant]["inputs"]["principalId"]}
    new = copy.deepcopy(old)
    new[cluster]["inputs"]["networkProfile"]["podCidr"] = "10.99.0.0/16"  # force-new: the cluster is replaced
    result = plan_diff.diff_documents(old, new)
    assert (f"its replacementTrigger comes from `{_short(new, cluster)}`, which is replaced (a new value its create "
            "makes)") in result["replaced"][secret]
    unset = copy.deepcopy(new)
    del unset[secret]["options"]["replacementTrigger"]
    del old[secret]["options"]["replacementTrigger"]
    assert secret not in plan_diff.diff_documents(old, unset)["replaced"]
