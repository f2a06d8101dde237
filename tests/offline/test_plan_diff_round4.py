"""What the PR check's replace-or-delete logic said that no test held (mutation testing, round four: docs/decisions.md
"2026-12-07: mutation testing, round four"): each test here fails on a mutant of offline/plan_diff/compare.py or
values.py that every other test passed, and passes on the code. Each goes through the check's entry point: two plan
folders -> the report and its exit code."""
import copy

from offline import plan_diff

from tests.offline.plan_diff_cli import check, plan_document

STACK = "urn:pulumi:dev::p::pulumi:pulumi:Stack::p-dev"
SHARE_TYPE = "azure-native:storage:FileShare"


def _resource(type_: str, name: str, inputs: dict, **options) -> dict:
    return {"urn": f"urn:pulumi:dev::p::pulumi:pulumi:Stack${type_}::{name}", "type": type_, "name": name,
            "parent": STACK, "custom": True, "inputs": inputs, "dependencies": [], "propertyDependencies": {},
            "options": {"protect": False, **options}}


def _doc(*resources: dict) -> dict:
    stack = {"urn": STACK, "type": "pulumi:pulumi:Stack", "name": "p-dev", "parent": None, "custom": False,
             "inputs": {}, "options": {}, "dependencies": [], "propertyDependencies": {}}
    return {r["urn"]: r for r in (stack, *resources)}


def _line(out: str, start: str, name: str) -> str:
    return next(x for x in out.splitlines() if x.startswith(f"- {start}: ") and f"::{name}`" in x)


SHARE_INPUTS = {"resourceGroupName": "rg", "accountName": "st", "shareName": "models", "enabledProtocols": "SMB"}


def test_a_resource_moved_through_its_alias_and_replaced_says_where_it_moved_from(tmp_path):
    """An alias makes the renamed share the old one (compared, not deleted and created); a force-new change then
    replaces it, and its Replace line says which URN it was, so the reviewer does not look for a deletion of it."""
    old = _resource(SHARE_TYPE, "old-share", SHARE_INPUTS)
    new = _resource(SHARE_TYPE, "share", {**SHARE_INPUTS, "enabledProtocols": "NFS"},
                    aliases=[{"spec": {"name": "old-share", "parentUrn": ""}}])
    code, out = check(tmp_path, _doc(old), _doc(new))
    line = _line(out, "Replace", "share")
    assert f"moved from `{old['urn']}` through its alias" in line, out
    assert "Delete:" not in out and "Add:" not in out, out


def test_a_resource_re_parented_under_a_parent_of_the_same_type_and_replaced_says_so(tmp_path):
    """A URN names its parent's type, not its parent: moved to another component of the same type, the share keeps
    its URN. Replaced in the same change, its Replace line says the parent changed (what the reviewer sees in the
    program's diff), and nothing is deleted or added."""
    component = "my:index:Store"
    parents = [{"urn": f"urn:pulumi:dev::p::pulumi:pulumi:Stack${component}::{name}", "type": component,
                "name": name, "parent": STACK, "custom": False, "inputs": {}, "options": {}, "dependencies": [],
                "propertyDependencies": {}} for name in ("a", "b")]
    urn = f"urn:pulumi:dev::p::pulumi:pulumi:Stack${component}${SHARE_TYPE}::share"
    old = {**_resource(SHARE_TYPE, "share", SHARE_INPUTS), "urn": urn, "parent": parents[0]["urn"]}
    new = {**old, "parent": parents[1]["urn"], "inputs": {**SHARE_INPUTS, "enabledProtocols": "NFS"}}
    code, out = check(tmp_path, _doc(*parents, old), _doc(*parents, new))
    assert "new parent of the same type (the URN is unchanged)" in _line(out, "Replace", "share"), out
    assert "Delete:" not in out and "Add:" not in out, out
    # the same parent: no such note
    code, out = check(tmp_path, _doc(*parents, old), _doc(*parents, {**new, "parent": parents[0]["urn"]}))
    assert "new parent" not in _line(out, "Replace", "share"), out


def test_a_named_object_moved_to_another_clusters_provider_is_created_there_first_and_not_refused(tmp_path, dev):
    """A provider of another clusterIdentifier replaces the route (DiffConfig), created first as the engine's own
    replacement, under its own name: on the other cluster, where the old one does not hold that name, so nothing
    collides and the check passes. (A mutant counting the move as a replacement replaceOnChanges alone asks for
    refused it as created first under the name the old one holds.)"""
    base = plan_document(dev)
    route = next(u for u, r in base.items() if r["type"] == "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute"
                 and r["name"] == "inference-api-route")
    provider = next(u for u, r in base.items() if r["type"] == "pulumi:providers:kubernetes")
    new = copy.deepcopy(base)
    second = provider.rsplit("::", 1)[0] + "::second-k8s"
    new[second] = {**copy.deepcopy(base[provider]), "urn": second, "name": "second-k8s"}
    new[second]["inputs"]["clusterIdentifier"] = base[provider]["inputs"]["clusterIdentifier"] + "-other"
    new[route]["options"]["provider"] = f"{second}::second-k8s-id"
    code, out = check(tmp_path, base, new)
    line = _line(out, "Replace", "inference-api-route")
    assert "another clusterIdentifier" in line and "refused" not in line and "deleted first" not in line, line
    assert code == 0, out


def test_a_deleted_secret_says_it_is_soft_deleted_and_only_a_retained_one_says_it_stays(tmp_path):
    """A Key Vault secret the program drops: deleted, so Key Vault soft-deletes it and its name stays taken for the
    retention period; only one the state retains on delete is said to stay in the vault, readable."""
    secret = _resource("azure-native:keyvault:Secret", "api-key",
                       {"resourceGroupName": "rg", "vaultName": "kv", "secretName": "api-key",
                        "properties": {"value": "[secret]"}})
    code, out = check(tmp_path, _doc(secret), _doc())
    line = _line(out, "Delete", "api-key")
    assert "soft-deletes it" in line and "retained on delete" not in line, line
    retained = {**secret, "options": {**secret["options"], "retainOnDelete": True}}
    code, out = check(tmp_path, _doc(retained), _doc())
    line = _line(out, "Delete", "api-key")
    assert "retained on delete" in line and "soft-deletes it" not in line, line
    # retained on delete, of a type with nothing more to say: its Delete line, no note, no traceback
    share = _resource(SHARE_TYPE, "share", SHARE_INPUTS, retainOnDelete=True)
    code, out = check(tmp_path, _doc(share), _doc())
    assert _line(out, "Delete", "share").endswith("::share`"), out


PASSWORD = "random:index/randomPassword:RandomPassword"


def test_a_renamed_object_is_told_as_its_new_urn_by_its_name_though_its_inputs_change_too(tmp_path):
    """The share under a new URN (no alias) with the same physical name is the same object, its inputs edited too:
    the Delete line names the URN it moved to, and the new one's create is refused (the old holds the name)."""
    old = _resource(SHARE_TYPE, "share", SHARE_INPUTS)
    new = _resource(SHARE_TYPE, "models", {**SHARE_INPUTS, "shareQuota": 200})
    code, out = check(tmp_path, _doc(old), _doc(new))
    assert f"its URN changed to `{plan_diff.short_urn(new['urn'])}`" in _line(out, "Delete", "share"), out
    assert code == 1 and "its create fails" in out, out


def test_a_deleted_resource_and_an_added_one_are_twins_only_by_type_and_by_inputs_or_a_given_name(tmp_path):
    """Two generated passwords, one dropped and one added with other inputs, are two resources (neither has a name
    of its own to match by); a RandomString added with the dropped password's very inputs is another type. The
    Delete line says nothing of a new URN or a new generated value replacing it in either case."""
    dropped = _resource(PASSWORD, "old-password", {"length": 16, "special": False})
    for added in (_resource(PASSWORD, "new-password", {"length": 32, "special": True}),
                  _resource("random:index/randomString:RandomString", "token", {"length": 16, "special": False})):
        code, out = check(tmp_path, _doc(dropped), _doc(added))
        line = _line(out, "Delete", "old-password")
        assert line.endswith("::old-password`"), line
    # the same inputs under another URN: the twin, told as a new generated value
    code, out = check(tmp_path, _doc(dropped), _doc({**dropped, "urn": dropped["urn"].replace("old-", "other-"),
                                                       "name": "other-password"}))
    assert "replaces it with a new generated value" in _line(out, "Delete", "old-password"), out


def _scaled_object(version: str, kind: str = "ScaledObject") -> dict:
    return _resource(f"kubernetes:keda.sh/{version}:{kind}", "scaler",
                     {"apiVersion": f"keda.sh/{version}", "kind": kind,
                      "metadata": {"name": "scaler", "namespace": "llm"}, "spec": {"scaleTargetRef": {"name": "x"}}})


def test_an_object_moved_to_another_version_says_its_create_fails_and_another_kind_takes_its_place(tmp_path):
    """One name in one API group: in another version it is the same object (the new one's create fails while the old
    exists: refused, and the Delete line says why); of another kind it is a second object, created first, which the
    Delete line says takes the old one's place."""
    code, out = check(tmp_path, _doc(_scaled_object("v1alpha1")), _doc(_scaled_object("v1beta1")))
    line = _line(out, "Delete", "scaler")
    assert "is the same object in another version, so its create fails" in line and "takes its place" not in line
    assert code == 1, out
    code, out = check(tmp_path, _doc(_scaled_object("v1alpha1")), _doc(_scaled_object("v1alpha1", "ScaledJob")))
    line = _line(out, "Delete", "scaler")
    assert "takes its place" in line and "create fails" not in line and code == 0, out


def test_check_lines_are_only_for_what_is_not_replaced_and_only_where_there_is_something_to_check(tmp_path):
    """An edit the share's ignoreChanges holds, with nothing more to say of it: an Ignored line, no empty "Check
    before merging" line. A PostgreSQL server with storage auto-grow replaced (a new administrator login): its
    in-place update check (the live size may have grown past the stack's) is moot, the server is made anew."""
    old = _resource(SHARE_TYPE, "share", {**SHARE_INPUTS, "shareQuota": 100}, ignoreChanges=["shareQuota"])
    code, out = check(tmp_path, _doc(old), _doc({**old, "inputs": {**old["inputs"], "shareQuota": 200}}))
    assert "- Ignored (" in out and "Check before merging" not in out and code == 0, out
    server = _resource("azure-native:dbforpostgresql:Server", "pg",
                       {"resourceGroupName": "rg", "serverName": "pg", "administratorLogin": "admin",
                        "storage": {"autoGrow": "Enabled", "storageSizeGB": 128}})
    grown = {**server, "inputs": {**server["inputs"], "storage": {"autoGrow": "Enabled", "storageSizeGB": 256}}}
    code, out = check(tmp_path, _doc(server), _doc(grown))  # an update: the check is told
    assert "Check before merging" in out and "storage.autoGrow" in out, out
    relogged = {**server, "inputs": {**server["inputs"], "administratorLogin": "owner"}}
    code, out = check(tmp_path, _doc(server), _doc(relogged))
    assert "`administratorLogin`" in _line(out, "Replace", "pg") and "Check before merging" not in out, out


CLUSTER_TYPE = "azure-native:containerservice:ManagedCluster"
CHANNEL_EXIT = '-> "none" with `kubernetesVersion`'


def _cluster(channel: str, version=None, **more) -> dict:
    inputs = {"resourceGroupName": "rg", "resourceName": "aks", "autoUpgradeProfile": {"upgradeChannel": channel},
              **({} if version is None else {"kubernetesVersion": version}), **more}
    return _resource(CLUSTER_TYPE, "aks", inputs)


def test_only_leaving_a_channel_that_moved_the_version_for_none_with_a_pin_kept_asks_for_the_running_version(tmp_path):
    """AksCluster ignores `kubernetesVersion` under a channel that moves the version; leaving it for `none` with the
    pin kept sends a version the cluster may have passed. Not when the base's channel never moved it (`node-image`,
    `none`), not when the new channel still ignores the pin (`stable`), not when there is no pin to send (and no
    traceback: a mutant measured the missing pin's length)."""
    # a minor alone kept: `stable` moved the minor past it; `patch` moves only the patch, so it still runs that minor
    for before, after in ((_cluster("patch", "1.34.2"), _cluster("none", "1.34.2")),
                          (_cluster("stable", "1.34"), _cluster("none", "1.34"))):
        code, out = check(tmp_path, _doc(before), _doc(after))
        assert CHANNEL_EXIT in out and code == 0, out
    code, out = check(tmp_path, _doc(_cluster("patch", "1.34")), _doc(_cluster("none", "1.34")))
    assert CHANNEL_EXIT not in out and code == 0, out
    # a new pin in the same change: the version rule's line, not this one
    code, out = check(tmp_path, _doc(_cluster("patch", "1.34.2")), _doc(_cluster("none", "1.34.5")))
    assert CHANNEL_EXIT not in out and "currentKubernetesVersion" in out and code == 0, out
    for before, after in ((_cluster("node-image", "1.34.2"), _cluster("none", "1.34.2")),
                          (_cluster("none", "1.34.2"), _cluster("none", "1.34.2", tags={"team": "a"})),
                          (_cluster("patch", "1.34.2"), _cluster("stable", "1.34.2")),
                          (_cluster("stable"), _cluster("none")), (_cluster("patch"), _cluster("none"))):
        code, out = check(tmp_path, _doc(before), _doc(after))
        assert CHANNEL_EXIT not in out and code == 0, (before["inputs"], after["inputs"], out)


RELEASE_TYPE = "kubernetes:helm.sh/v3:Release"


def test_a_grafana_size_beside_values_that_are_null_is_judged_without_a_traceback(tmp_path):
    """The Grafana claim's size rule holds only where the chart renders the claim on both sides; a base whose
    `values`, `grafana` or `persistence` is null renders none, so a size given in the head is no shrink to refuse,
    and the check reads it without a traceback (three mutants raised AttributeError there)."""
    def release(values) -> dict:
        return _resource(RELEASE_TYPE, "kps", {"name": "kps", "namespace": "monitoring", "version": "88.5.3",
                                               "chart": "kube-prometheus-stack", "values": values})
    head = release({"grafana": {"persistence": {"enabled": True, "type": "pvc", "size": "5Gi"}}})
    for values in (None, {"grafana": None}, {"grafana": {"persistence": None}}):
        code, out = check(tmp_path, _doc(release(values)), _doc(head))
        assert code == 0 and "observability.grafanaStorageGib" not in out, (values, out)
    code, out = check(tmp_path, _doc(release({"grafana": {"persistence": {"enabled": True, "size": "10Gi"}}})),
                      _doc(head))  # rendered on both sides: the shrink is refused
    assert code == 1 and "observability.grafanaStorageGib" in out, out


def test_a_servers_update_asks_for_its_live_storage_size_only_with_auto_grow_on(tmp_path):
    """Only auto-grow moves a server's storage past the stack's size: a server with it off or unset, or with no
    `storage` at all (no traceback: a mutant read a missing `storage`), gets no such check on an update."""
    for storage in ({"storage": {"autoGrow": "Disabled", "storageSizeGB": 128}}, {"storage": {"storageSizeGB": 128}},
                    {}):
        server = _resource("azure-native:dbforpostgresql:Server", "pg",
                           {"resourceGroupName": "rg", "serverName": "pg", "version": "16", **storage})
        code, out = check(tmp_path, _doc(server), _doc({**server, "inputs": {**server["inputs"], "version": "17"}}))
        assert code == 0 and "- Update: `" in out and "storage.autoGrow" not in out, (storage, out)


def _kube(type_: str, urn_name: str, metadata) -> dict:
    inputs = {} if metadata is None else {"metadata": metadata}
    return _resource(type_, urn_name, inputs)


def test_only_an_object_of_the_same_group_name_and_namespace_takes_a_deleted_ones_place(tmp_path):
    """A Secret added with the name and namespace of a ConfigMap the program drops (one API group, `core`) takes its
    place; an object of another group or another name, or two objects neither of which is named (or that give no
    metadata at all: no traceback), are unrelated, and the Delete line says nothing of a successor."""
    config_map, secret = "kubernetes:core/v1:ConfigMap", "kubernetes:core/v1:Secret"
    named = {"name": "cfg", "namespace": "llm"}
    code, out = check(tmp_path, _doc(_kube(config_map, "a", named)), _doc(_kube(secret, "b", named)))
    assert "takes its place" in _line(out, "Delete", "a"), out
    for dropped, added in ((_kube(config_map, "a", named), _kube("kubernetes:apps/v1:Deployment", "b", named)),
                           (_kube(config_map, "a", named), _kube(secret, "b", {**named, "name": "other"})),
                           (_kube(config_map, "a", {"namespace": "llm"}), _kube(secret, "b", {"namespace": "llm"})),
                           (_kube(config_map, "a", None), _kube(secret, "b", None)),
                           (_kube(config_map, "a", named), _kube(secret, "b", None))):
        code, out = check(tmp_path, _doc(dropped), _doc(added))
        assert _line(out, "Delete", "a").endswith("::a`") and code == 0, out


def test_an_ignored_version_is_told_as_an_upgrade_the_channel_never_makes_only_for_a_new_minor(tmp_path):
    """Under `patch` the cluster's ignoreChanges holds `kubernetesVersion`: a new minor there is an upgrade the channel
    never makes (said); a new patch of the same minor is one it makes, a version dropped is none, and a cluster
    giving no channel at all keeps none of these (no traceback); a version the cluster does not ignore is the
    version rule's, not this line's."""
    never = "never makes this upgrade"

    def cluster(version, channel="patch", ignore=("kubernetesVersion",)) -> dict:
        c = _cluster(channel, version)
        if channel is None:
            del c["inputs"]["autoUpgradeProfile"]
        c["options"]["ignoreChanges"] = list(ignore)
        return c
    code, out = check(tmp_path, _doc(cluster("1.34.2")), _doc(cluster("1.35.1")))
    assert never in out and code == 0, out
    for before, after in ((cluster("1.34.2"), cluster("1.34.5")), (cluster("1.34.2"), cluster(None)),
                          (cluster("1.34", None), cluster("1.35", None)),
                          (cluster("1.34.2", ignore=("tags",)), cluster("1.35.1", ignore=("tags",)))):
        if before["options"]["ignoreChanges"] == ["tags"]:  # an ignored edit beside the version's
            before["inputs"]["tags"], after["inputs"]["tags"] = {"team": "a"}, {"team": "b"}
        code, out = check(tmp_path, _doc(before), _doc(after))
        assert never not in out and code == 0 and "- Ignored (" in out, (before["inputs"], after["inputs"], out)
