"""Change safety: what a pull request replaces or deletes (plan_diff). Real edits are planned under mocks with
stack overrides and diffed against the unedited plan; every expectation is derived from the vendored upstream
replacement data (tools/data/replacement_rules.json), not from what the tool printed. And the diff as a reviewer
reads it: added, removed and changed inputs, and the cost change."""

import contextlib
import copy
import io
import json
import re
from pathlib import Path

import pulumi_azure_native
import pytest
from hypothesis import given, settings, strategies as st

from offline import plan, plan_diff
from offline.plan_diff.values import value_findings
from offline.plan_diff.rules import (DATA_PLANE_CHECK, NEW_VALUE, PROTECTED_DATA_PLANE_CHECK,
                                     kubernetes_provider_replaces)

from tests.conftest import plan_for, variant
from tests.strategies import unicode_text
from tests.offline.plan_diff_cli import check as _check


RULES = plan_diff.rules()
AZURE = RULES["azureNative"]["types"]
SERVER = "azure-native:dbforpostgresql:Server"
ACCOUNT = "azure-native:storage:StorageAccount"
SHARE = "azure-native:storage:FileShare"
CLUSTER = "azure-native:containerservice:ManagedCluster"
PROFILE = "azure-native:cdn:Profile"
PASSWORD = "random:index/randomPassword:RandomPassword"
# One plan with three edits that touch different resources (each plan costs about a second).
COMBINED = {"cluster": {"systemPool": {"vmSize": "Standard_D2s_v5"}}, "postgres": {"version": "17"},
            "modelStore": {"redundancy": "ZRS"}}


def _doc(p) -> dict:
    return plan_diff.resources_by_urn(plan.resources_document(p))


@pytest.fixture(scope="module")
def base(dev) -> dict:
    return _doc(dev)


def _diff(base: dict, new: dict) -> tuple[dict, list]:
    result = plan_diff.diff_documents(base, new)
    return result, plan_diff.blocking(result, set(), False)


def _one(doc: dict, type_: str, name: str = "") -> str:
    urns = [u for u, r in doc.items() if r["type"] == type_ and (not name or r["name"] == name)]
    assert len(urns) == 1, (type_, name, urns)
    return urns[0]


def _forces(type_: str, path: str) -> bool:
    entry = AZURE[type_]
    return any(plan_diff.under(path, key) for key in entry["path"] + entry["forceNew"])


def test_rules_cover_every_azure_native_type_any_stack_plans(dev, prod):
    planned = {r.type for p in (dev, prod, variant("llmd"), plan_for("global")) for r in p.resources
               if r.type.startswith("azure-native:")}
    assert planned - set(AZURE) == set(), "add these types to offline/data/replacement_rules.json"
    sdk = Path(pulumi_azure_native.__file__).parent
    for type_, entry in AZURE.items():  # the data matches the installed SDK: module, API version, path parameters
        source = (sdk / entry["sdk"]).read_text()
        assert f'"{type_}"' in source, type_
        assert f"Uses Azure REST API version {entry['apiVersion']}." in source, type_
        for param in entry["path"]:
            assert re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", param).lower() + ": " in source, (type_, param)


def test_pool_settings_aks_keeps_for_a_pools_life_and_the_vault_retention_fail_the_check(base):
    """OS disk type, pods per node and the like are updated in place by pulumi-azure-native and refused by AKS (the
    AzureRM provider rotates the pool for each); Key Vault's retention is fixed at creation. Each fails the gate,
    naming the stack key and the way out; the vendored rules say so, not this test."""
    refused = RULES["azureNative"]["refusedInPlace"]
    new = _doc(plan_for("dev", {"security": {"ephemeralOsDisk": False}, "gpu": {"maxPods": 60},
                                "keyVault": {"softDeleteRetentionDays": 30}, "cluster": {"zones": ["1", "2"]}}))
    result, blocked = _diff(base, new)
    pools = {u for u, r in new.items() if r["type"] == "azure-native:containerservice:AgentPool"}
    vault, address = _one(new, "azure-native:keyvault:Vault"), _one(new, "azure-native:network:PublicIPAddress")
    # zones too: the pools', the inline system pool's and the gateway address's (a stranger's try found the
    # address's passing as a plain update)
    assert {u for u, _ in blocked} == pools | {vault, address, _one(new, CLUSTER)}
    assert any("`zones`" in line and "cluster.zones" in line and "new address" in line
               for line in result["refused"][address])
    for urn in pools:  # in place, not replaced: the pool's nodes would be lost
        assert urn in result["changed"] and urn not in result["replaced"]
        assert "osDiskType" in refused["azure-native:containerservice:AgentPool"]
        assert any("`osDiskType`" in line and "security.ephemeralOsDisk" in line and "new name" in line
                   for line in result["refused"][urn])
    gpu = _one(new, "azure-native:containerservice:AgentPool", "gpu-gpu")
    assert any("`maxPods`" in line for line in result["refused"][gpu])
    (retention,) = result["refused"][vault]
    assert "properties.softDeleteRetentionInDays" in retention and "keyVault.softDeleteRetentionDays" in retention
    # the same settings of the inline system pool are refused there too
    spot_only = {"scaleSetPriority", "spotMaxPrice", "scaleSetEvictionPolicy"}  # a system pool is never spot
    assert set(refused["azure-native:containerservice:AgentPool"]) - spot_only <= {
        key.removeprefix("agentPoolProfiles[].") for key in refused[CLUSTER]}


def test_system_pool_size_postgres_version_and_redundancy_are_updates_not_replacements(base):
    new = _doc(plan_for("dev", COMBINED))
    result, blocked = _diff(base, new)
    cluster, server, account = _one(new, CLUSTER), _one(new, SERVER), _one(new, ACCOUNT)
    assert "version" in result["changed"][server] and "sku.name" in result["changed"][account]
    # PostgreSQL's major version and the storage SKU are updatable (no x-ms-mutability, not in forceNewMap)
    assert not _forces(SERVER, "version") and not _forces(ACCOUNT, "sku.name")
    assert server not in result["replaced"] and account not in result["replaced"]
    assert server not in {u for u, _ in blocked}  # 16 -> 17: an in-place major version upgrade
    # pulumi-azure-native #2774 took every agentPoolProfiles field off ManagedCluster's force-new list: an update...
    assert not _forces(CLUSTER, "agentPoolProfiles[0].vmSize") and cluster not in result["replaced"]
    # ...that AKS refuses (the same field replaces a standalone AgentPool): the check fails before `pulumi up` does
    assert "vmSize" in AZURE["azure-native:containerservice:AgentPool"]["forceNew"]
    assert {u for u, _ in blocked} == {cluster, account}
    assert "agentPoolProfiles[0].vmSize" in result["refused"][cluster][0]
    # LRS -> ZRS is a conversion Azure runs on its own (Azure Files "change redundancy configuration"), not a SKU update
    (zone,) = result["refused"][account]
    assert '"Premium_LRS" -> "Premium_ZRS"' in zone and "modelStore.redundancy" in zone and "conversion" in zone


def test_a_renamed_prefix_replaces_every_stateful_resource(base):
    new = _doc(plan_for("dev", {"prefix": "llmq"}))
    result, blocked = _diff(base, new)
    for type_ in (CLUSTER, SERVER, ACCOUNT, "azure-native:keyvault:Vault", "azure-native:network:PublicIPAddress"):
        urn = _one(new, type_)
        changed = [p for p in AZURE[type_]["path"] if base[urn]["inputs"].get(p) != new[urn]["inputs"].get(p)]
        assert changed, type_  # its Azure name (a path parameter) carries the prefix
        assert urn in result["replaced"] and urn in {u for u, _ in blocked}, type_
    # the cluster's replacement replaces the Kubernetes provider, hence every in-cluster object
    deployment = _one(new, "kubernetes:apps/v1:Deployment", "inference-ollama")
    assert any("provider" in why for why in result["replaced"][deployment])
    assert set(result["replaced"]) >= {u for u, r in new.items() if r["type"].startswith("kubernetes:")
                                       and r["custom"]}
    heading = next(line for line in plan_diff.markdown(result, "t", blocked).splitlines() if "Blocked" in line)
    assert f"`{plan_diff.ALLOW_LABEL}` for stateful replacements" in heading  # the label covers these
    # a stack that keeps its legacy names (dev's file) renamed by its prefix: `legacyGlobalNames` would not keep them
    assert not [why for _, why in blocked if "legacyGlobalNames" in why]


def test_a_deployed_stack_that_loses_its_legacy_names_is_blocked_and_told_the_key(prod):
    """A stack deployed before the subscription's id went into the globally unique names (the shipped prod, whose file
    keeps them) planned as a new stack's names (the prod-tls variant, which changes more besides): the vault, the
    storage account, the server and the Managed Grafana workspace are replaced under new names; each blocked line names
    the key that keeps them, and only theirs."""
    base, new = _doc(prod), _doc(variant("prod-tls"))
    result, blocked = _diff(base, new)
    told = {u for u, why in blocked if "legacyGlobalNames: true" in why}
    assert told == {_one(new, t) for t in (SERVER, ACCOUNT, "azure-native:keyvault:Vault",
                                           "azure-native:dashboard:Grafana")}
    # Grafana's name took the hash later: its line also names the key that keeps it alone
    grafana = _one(new, "azure-native:dashboard:Grafana")
    assert all("`observability.grafanaName" in why for u, why in blocked if u == grafana and "legacy" in why)
    assert not any("grafanaName" in why for u, why in blocked if u != grafana)
    assert {_one(new, SHARE), _one(new, "azure-native:dbforpostgresql:Database")} <= {u for u, _ in blocked} - told
    # all four renamed: `legacyGlobalNames: true` gives all four back, and Grafana's line names its old name too
    assert all("keeps all four with `legacyGlobalNames: true`" in why and "not `legacyGlobalNames" not in why
               and "`observability.grafanaName: graf-llmp-prod`" in why for u, why in blocked
               if u == grafana and "legacy" in why)


def test_a_workspace_that_alone_loses_its_legacy_name_is_told_its_own_key_and_not_the_one_renaming_the_rest():
    """A stack deployed after the storage account, Key Vault and PostgreSQL server names took the subscription's hash
    and before Grafana's did: its plan keeps those three and renames the workspace alone. Its line names the key with
    the old name; `legacyGlobalNames: true` would give the workspace back but rename the other three (which the check
    would block in turn), so it is named only as what not to set."""
    hashed = {"legacyGlobalNames": False}
    deployed = _doc(plan_for("prod", {**hashed, "observability": {"grafanaName": "graf-llmp-prod"}}))
    result, blocked = _diff(deployed, _doc(plan_for("prod", hashed)))
    grafana = _one(deployed, "azure-native:dashboard:Grafana")
    assert set(result["replaced"]) >= {grafana} and not {
        _one(deployed, t) for t in (SERVER, ACCOUNT, "azure-native:keyvault:Vault")} & set(result["replaced"])
    [line] = [why for u, why in blocked if u == grafana]
    assert "`observability.grafanaName: graf-llmp-prod`" in line, line
    assert "not `legacyGlobalNames: true`" in line and "would rename" in line, line


def test_the_run_that_first_protects_managed_grafana_is_not_stopped_by_protect_from_renaming_it():
    """0.24.0 left AzureMonitoring's stores unprotected in a prod state; the next release protects them and hashes
    Managed Grafana's name. The engine refuses a replacement only while the state and the program both protect it
    (1b5949891b step_generator.go `new.Protect && old.Protect`), so that first `pulumi up` replaces the workspace: the
    check blocks it as stateful and does not call it Protected (docs/operations.md, "From the run that records it"),
    and shows the two workspaces' protect recorded; once the state protects it, it is Protected."""
    hashed = {"legacyGlobalNames": False}
    deployed = _doc(plan_for("prod", {**hashed, "observability": {"grafanaName": "graf-llmp-prod"}}))
    upgraded = _doc(plan_for("prod", hashed))
    stores = {u for u, r in deployed.items() if r["type"] in (
        "azure-native:operationalinsights:Workspace", "azure-native:monitor:AzureMonitorWorkspace",
        "azure-native:dashboard:Grafana", "llmplatform:index:AzureMonitoring")}
    assert len(stores) == 4 and all(deployed[u]["options"]["protect"] for u in stores)
    before = copy.deepcopy(deployed)
    for urn in stores:
        before[urn]["options"]["protect"] = False
    grafana = _one(deployed, "azure-native:dashboard:Grafana")
    result, blocked = _diff(before, upgraded)
    assert grafana in result["replaced"] and grafana in {u for u, _ in blocked} and result["protected"] == []
    assert {u for u in stores - {grafana} if "protect on" in " ".join(map(str, result["changed"].get(u, [])))} == \
        stores - {grafana}
    assert _diff(deployed, upgraded)[0]["protected"] == [grafana]


def test_the_kubernetes_provider_and_what_it_deploys_are_replaced_with_the_cluster_only(base):
    """The provider's clusterIdentifier (AKS's resourceUID) decides its replacement: a stack planned before it was set
    gains it as an update; a cluster created again under the same name (a force-new edit) replaces the provider and
    every in-cluster object; a changed identifier does too."""
    provider = _one(base, "pulumi:providers:kubernetes")
    deployment = _one(base, "kubernetes:apps/v1:Deployment", "inference-ollama")
    before = copy.deepcopy(base)
    del before[provider]["inputs"]["clusterIdentifier"]
    result, blocked = _diff(before, base)
    assert result["changed"][provider] == ["clusterIdentifier"] and result["replaced"] == {} and blocked == []
    new = copy.deepcopy(base)
    cluster = _one(new, CLUSTER)
    new[cluster]["inputs"]["networkProfile"]["podCidr"] = "10.99.0.0/16"
    result, _ = _diff(base, new)
    assert cluster in result["replaced"] and new[cluster]["inputs"]["resourceName"] == base[cluster]["inputs"][
        "resourceName"]
    assert any("clusterIdentifier comes from" in why for why in result["replaced"][provider])
    assert any("provider" in why for why in result["replaced"][deployment])
    new = copy.deepcopy(base)
    new[provider]["inputs"]["clusterIdentifier"] = "another-cluster"
    result, _ = _diff(base, new)
    assert "clusterIdentifier changes" in result["replaced"][provider][0] and deployment in result["replaced"]


@pytest.mark.parametrize("old, new, cluster, replaced", [
    ({"clusterIdentifier": "a"}, {"clusterIdentifier": "a"}, None, ""),  # a CA rotation, an in-place cluster update
    ({"clusterIdentifier": "a"}, {"clusterIdentifier": "b"}, None, "clusterIdentifier changes"),
    ({"clusterIdentifier": "a"}, {"clusterIdentifier": "a"}, "aks", "clusterIdentifier comes from `aks`"),
    ({}, {"clusterIdentifier": "a"}, None, ""),  # added: decides nothing (on-boarding)
    ({"clusterIdentifier": "a"}, {}, None, ""),  # removed: decides nothing (off-boarding)
    ({}, {}, "aks", "kubeconfig comes from `aks`"),  # no identifier: the unknown kubeconfig replaces
    ({}, {"clusterIdentifier": "a"}, "aks", "kubeconfig comes from `aks`"),
])
def test_kubernetes_provider_replacement_follows_pulumi_kubernetes_diff_config(old, new, cluster, replaced):
    why = kubernetes_provider_replaces(old, new, cluster)
    assert (why[0] if why else "").startswith(f"its {replaced}" if replaced else ""), why
    assert bool(why) == bool(replaced)


def test_a_cluster_identifier_changed_for_real_replaces_beside_an_earlier_kits_renames():
    """With an earlier kit's stand-in ids to read past (`renamed`), only the pairs they name are no change: another
    clusterIdentifier still replaces (found by mutation testing)."""
    assert kubernetes_provider_replaces({"clusterIdentifier": "a"}, {"clusterIdentifier": "b"}, None, {}) == \
        ["its clusterIdentifier changes (a -> b)"]
    assert kubernetes_provider_replaces({"clusterIdentifier": "a"}, {"clusterIdentifier": "a"}, None, {}) == []


def test_a_changed_deployment_selector_replaces_it_deleting_first(base):
    new = copy.deepcopy(base)
    urn = _one(new, "kubernetes:apps/v1:Deployment", "inference-ollama")
    new[urn]["inputs"]["spec"]["selector"]["matchLabels"]["app.kubernetes.io/instance"] = "blue"
    assert "spec.selector" in RULES["kubernetes"]["kinds"]["apps/v1/Deployment"]
    result, blocked = _diff(base, new)
    assert urn in result["replaced"] and urn in result["deleteBeforeReplace"]  # same name: delete first
    # and, in its delete-first chain, what takes its `metadata` from it (KEDA's objects): unknown, `.metadata.name`
    # nulled, replaced (docs/decisions.md 2026-12-05, "the unknown is no null")
    assert all(any("deleted first and replaced (the engine makes it unknown" in why for why in result["replaced"][u])
               and u in result["deleteBeforeReplace"] for u in result["replaced"] if u != urn), result["replaced"]
    assert blocked == []  # a Deployment holds no data
    # one the program does not name is auto-named (pulumi-kubernetes Diff): its replacement gets a new name, so it is
    # created first and the old one deleted after, which keeps the service up
    unnamed_base, unnamed = copy.deepcopy(base), copy.deepcopy(new)
    for doc in (unnamed_base, unnamed):
        del doc[urn]["inputs"]["metadata"]["name"]
    result = plan_diff.diff_documents(unnamed_base, unnamed)
    assert urn in result["replaced"] and urn not in result["deleteBeforeReplace"]


def test_the_model_store_protocol_replaces_the_share(base):
    new = _doc(variant("dev-smb-nogpu"))  # protocol smb, among other edits of that planned variant
    result, blocked = _diff(base, new)
    share = _one(new, SHARE)
    assert (base[share]["inputs"]["enabledProtocols"], new[share]["inputs"]["enabledProtocols"]) == ("NFS", "SMB")
    assert _forces(SHARE, "enabledProtocols")  # x-ms-mutability [create, read] in the Storage spec
    assert share in result["replaced"] and share in {u for u, _ in blocked}
    pv = _one(new, "kubernetes:core/v1:PersistentVolume")
    assert any("spec.csi" in why for why in result["replaced"][pv])  # the PV's CSI source is immutable too


def test_a_volume_made_anew_for_the_same_share_while_the_old_exists_asks_for_a_restart(base):
    """A renamed namespace renames the model volume: the new one is created first with the old one's CSI handle
    (the share's), and kubelet stages both at one path made from the handle. A volume kept, or deleted before its
    successor is created, is no such case."""
    pv = _one(base, "kubernetes:core/v1:PersistentVolume", "models-pv")
    renamed = _doc(plan_for("dev", {"namespace": "llm2"}))
    result, _ = _diff(base, renamed)
    assert pv in result["replaced"] and pv not in result["deleteBeforeReplace"]
    handle = base[pv]["inputs"]["spec"]["csi"]["volumeHandle"]
    assert renamed[pv]["inputs"]["spec"]["csi"]["volumeHandle"] == handle
    (line,) = result["checks"][pv]
    assert f"`{handle}` is the handle of `llm-models`" in line and "kubectl drain" in line
    same_name = copy.deepcopy(base)  # the same name: Pulumi deletes the old volume first, never two at once
    same_name[pv]["inputs"]["spec"]["csi"]["volumeAttributes"]["shareName"] = "other"
    kept = _diff(base, same_name)[0]
    assert pv in kept["deleteBeforeReplace"] and pv not in kept["checks"]
    elsewhere = copy.deepcopy(renamed)  # another share: another handle
    elsewhere[pv]["inputs"]["spec"]["csi"]["volumeHandle"] = handle + "##llm2"
    assert pv not in _diff(base, elsewhere)[0]["checks"]


def test_moving_the_model_store_to_its_own_group_replaces_account_share_and_claim(base):
    new = _doc(plan_for("dev", {"modelStore": {"resourceGroupName": "rg-llmp-dev-models"}}))
    result, blocked = _diff(base, new)
    account, share = _one(new, ACCOUNT), _one(new, SHARE)
    assert "resourceGroupName" in AZURE[ACCOUNT]["path"]  # a path parameter: a move is a replacement
    assert any("resourceGroupName" in why for why in result["replaced"][account])
    assert {account, share, _one(new, "kubernetes:core/v1:PersistentVolumeClaim", "models-pvc")} <= {
        u for u, _ in blocked}
    assert _one(new, "azure-native:resources:ResourceGroup", "models-rg") in result["added"]


def test_a_rename_without_alias_is_a_delete_and_the_check_says_so(base):
    new = copy.deepcopy(base)
    old_urn = _one(new, SERVER)
    moved = new.pop(old_urn)
    moved["urn"] = old_urn.replace("::postgres-server", "::postgres")
    new[moved["urn"]] = moved
    result, blocked = _diff(base, new)
    assert result["removed"] == [old_urn] and result["added"] == [moved["urn"]]
    assert "alias" in result["notes"][old_urn][0] and (old_urn, f"deleted: {plan_diff.STATEFUL[SERVER]}") in blocked


def test_a_generated_key_made_anew_fails_the_check_and_one_deleted_is_listed(base, prod):
    """A RandomPassword replaced (each of its inputs is RequiresReplace in terraform-provider-random) or given a new
    URN without an alias (a delete and a create) has a new value: every client of the API key needs the new one, and
    the check passed it as one Replace line. Deleting one (a key name removed, a region joining its edge, the UI
    turned off) is what the change says it does: listed, not blocked. Prod's is protected: `pulumi up` stops too."""
    key = _one(base, PASSWORD, "inference-api-key")
    longer = copy.deepcopy(base)
    longer[key]["inputs"]["length"] = 64
    renamed = copy.deepcopy(base)
    moved = renamed.pop(key)
    moved["urn"] = key + "-2"
    renamed[moved["urn"]] = moved
    for new, verdict in ((longer, "replaced: "), (renamed, f"replaced by `{plan_diff.short_urn(moved['urn'])}` with a "
                                                           f"new value: ")):
        result, blocked = _diff(base, new)
        assert [u for u, _ in blocked] == [key] and blocked[0][1].startswith(verdict), blocked
        assert NEW_VALUE[PASSWORD] in blocked[0][1]
        assert plan_diff.blocking(result, set(), True) == []  # the label allows it
    result, blocked = _diff(base, {u: r for u, r in base.items() if u != key})
    assert result["removed"] == [key] and blocked == []
    old = _doc(prod)
    key = _one(old, PASSWORD, "inference-api-key")
    new = copy.deepcopy(old)
    new[key]["inputs"]["length"] = 64
    assert plan_diff.diff_documents(old, new)["protected"] == [key]


def test_the_move_off_the_http_scaled_object_adds_the_route_first_and_touches_nothing_stateful(base):
    """Head's InterceptorRoute against the plan before the move (its HTTPScaledObject, as ModelAutoscaler made it: the
    same route in v1alpha1's fields): a delete and an add, told as one object taking the other's place and in the
    order Pulumi runs them (the add during the update, the delete at its end: no moment without a route), the
    ScaledObject updated in place (its trigger names the route), nothing replaced, nothing blocked."""
    route_type = "kubernetes:http.keda.sh/v1beta1:InterceptorRoute"
    route = _one(base, route_type)
    before = copy.deepcopy(base)
    spec = before.pop(route)["inputs"]["spec"]
    old = copy.deepcopy(base[route])
    old["type"] = "kubernetes:http.keda.sh/v1alpha1:HTTPScaledObject"
    old["urn"] = route.replace(route_type, old["type"])
    old["inputs"].update(apiVersion="http.keda.sh/v1alpha1", kind="HTTPScaledObject", spec={
        "hosts": spec["rules"][0]["hosts"], "scalingMetric": spec["scalingMetric"],
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "ollama", **spec["target"]},
        "replicas": {"min": 0, "max": 2}, "scaledownPeriod": 600,
        "timeouts": {"responseHeader": spec["timeouts"]["responseHeader"],
                     "conditionWait": spec["timeouts"]["readiness"]}})
    old["inputs"]["metadata"]["annotations"] = {"httpscaledobject.keda.sh/skip-scaledobject-creation": "true"}
    before[old["urn"]] = old
    scaled = _one(before, "kubernetes:keda.sh/v1alpha1:ScaledObject")
    trigger = before[scaled]["inputs"]["spec"]["triggers"][0]["metadata"]
    trigger["httpScaledObject"] = trigger.pop("interceptorRoute")
    result, blocked = _diff(before, base)
    assert (result["removed"], result["added"], result["replaced"], blocked) == ([old["urn"]], [route], {}, [])
    assert result["changed"] == {scaled: ["spec.triggers[0].metadata.httpScaledObject",
                                          "spec.triggers[0].metadata.interceptorRoute"]}
    note = result["notes"][old["urn"]]
    assert len(note) == 1 and note[0].startswith(f"`{plan_diff.short_urn(route)}` takes its place")
    assert "creates that one during the update and deletes this one at its end" in note[0]
    assert f"Delete: `{plan_diff.short_urn(old['urn'])}`: `{plan_diff.short_urn(route)}` takes its place" in \
        plan_diff.markdown(result, "dev")
    # an object of another API group with the same namespace and name is no successor
    other = {**copy.deepcopy(old), "type": "kubernetes:apps/v1:Deployment",
             "urn": old["urn"].replace(old["type"], "kubernetes:apps/v1:Deployment")}
    result = plan_diff.diff_documents({**{u: r for u, r in base.items() if u != route}, other["urn"]: other}, base)
    assert (result["removed"], result["added"], result["notes"].get(other["urn"])) == ([other["urn"]], [route], None)


def test_pulumi_options_replace_on_changes_provider_and_config_maps(base):
    new = copy.deepcopy(base)
    account = _one(new, ACCOUNT)
    new[account]["options"]["replaceOnChanges"] = ["tags"]
    new[account]["inputs"]["tags"]["owner"] = "team-b"
    config_map = _one(new, "kubernetes:core/v1:ConfigMap", "inference-router-config")
    new[config_map]["inputs"]["data"]["extra"] = "1"  # ConfigMaps are replaced unless enableConfigMapMutable
    route = _one(new, "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute", "inference-api-route")
    new[route]["options"]["provider"] = "urn:pulumi:dev::aks-llm-platform::pulumi:providers:kubernetes::other::id"
    result, _ = _diff(base, new)
    assert any("replaceOnChanges" in why for why in result["replaced"][account])
    assert "data" in RULES["kubernetes"]["kinds"]["core/v1/ConfigMap"] and config_map in result["replaced"]
    assert any("provider changed" in why for why in result["replaced"][route])
    provider = plan_diff.provider_urn(new[config_map]["options"]["provider"])
    new[provider]["inputs"]["enableConfigMapMutable"] = "true"
    assert config_map not in plan_diff.diff_documents(base, new)["replaced"]


def _second_provider(doc: dict, name: str, **inputs) -> str:
    """A copy of the stack's Kubernetes provider under another name (its inputs changed by `inputs`)."""
    provider = _one(doc, "pulumi:providers:kubernetes")
    urn = provider.rsplit("::", 1)[0] + "::" + name
    doc[urn] = {**copy.deepcopy(doc[provider]), "urn": urn, "name": name}
    doc[urn]["inputs"].update(inputs)
    return urn


def test_a_move_to_another_provider_is_replaced_only_when_the_new_provider_s_diff_config_says(base):
    """Since v3.151.0 (pulumi/pulumi#18509) the engine asks the new provider's DiffConfig, explicit provider or
    default, and replaces a resource moved to another provider only when that answers a replacement
    (step_generator.go `providerChanged` at 1b5949891b); before, every move to or from an explicit provider replaced.
    pulumi-kubernetes takes one clusterIdentifier as one cluster, pulumi-azure-native answers no change at all, and
    an old provider aliased to the new one is no move. A replacement the move causes is the engine's own: created
    first, never the object's delete-first answer."""
    route = _one(base, "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute", "inference-api-route")
    same = base[_one(base, "pulumi:providers:kubernetes")]["inputs"]["clusterIdentifier"]
    for identifier, replaced in ((same, False), (same + "-other", True)):
        new = copy.deepcopy(base)
        second = _second_provider(new, "second-k8s", clusterIdentifier=identifier)
        new[route]["options"]["provider"] = f"{second}::second-k8s-id"
        result, _ = _diff(base, new)
        assert (route in result["replaced"], route in result["changed"]) == (replaced, replaced), result["replaced"]
        assert route not in result["deleteBeforeReplace"]  # the engine's replacement: created first
        if replaced:
            assert "another clusterIdentifier" in result["replaced"][route][0]
        else:
            assert any("no replacement" in note for note in result["notes"][route])
    # no identifier: the AKS cluster its kubeconfig comes from decides (the plans show a kubeconfig as [secret])
    for cluster_of_its_own, replaced in ((False, False), (True, True)):
        new = copy.deepcopy(base)
        for provider in [u for u, r in new.items() if r["type"] == "pulumi:providers:kubernetes"]:
            del new[provider]["inputs"]["clusterIdentifier"]
        old = copy.deepcopy(new)
        second = _second_provider(new, "second-k8s")
        if cluster_of_its_own:
            cluster = _one(new, CLUSTER)
            other = cluster.rsplit("::", 1)[0] + "::other-aks"
            new[other] = {**copy.deepcopy(new[cluster]), "urn": other, "name": "other-aks"}
            new[second]["dependencies"] = [other if d == cluster else d for d in new[second]["dependencies"]]
        new[route]["options"]["provider"] = f"{second}::second-k8s-id"
        assert (route in plan_diff.diff_documents(old, new)["replaced"]) == replaced
    # an Azure resource moved from the default azure-native provider to an explicit one: DiffConfig answers none
    new = copy.deepcopy(base)
    account = _one(new, ACCOUNT)
    explicit = account.split("::")[0] + "::" + account.split("::")[1] + "::pulumi:providers:azure-native::explicit"
    new[explicit] = {"urn": explicit, "type": "pulumi:providers:azure-native", "name": "explicit", "custom": True,
                     "inputs": {"location": "westeurope"}, "options": {}, "dependencies": []}
    new[account]["options"]["provider"] = f"{explicit}::explicit-id"
    result, blocked = _diff(base, new)
    assert account not in result["replaced"] and blocked == []
    # the provider renamed with an alias of its old URN: the same provider, nothing moves
    new = copy.deepcopy(base)
    provider = _one(new, "pulumi:providers:kubernetes")
    renamed = provider + "-renamed"
    new[renamed] = {**new.pop(provider), "urn": renamed, "name": provider.rsplit("::", 1)[1] + "-renamed"}
    new[renamed]["options"] = {**new[renamed]["options"], "aliases": [{"urn": provider}]}
    for r in new.values():
        if (r["options"].get("provider") or "").startswith(provider + "::"):
            r["options"]["provider"] = renamed + "::" + r["options"]["provider"].rsplit("::", 1)[1]
    result, blocked = _diff(base, new)
    assert result["moved"] == {renamed: provider} and result["replaced"] == {} and blocked == []


def test_a_replacement_that_lifts_protect_in_the_same_change_is_not_stopped(prod):
    """The engine refuses to replace a resource only while the program protects it too (step_generator.go
    `new.Protect && old.Protect`: "we do allow unprotecting and replacing to happen in a single update"), and to
    delete one the state protects (step.go `deleteProtectedError`, the old state's flag)."""
    old = _doc(prod)
    key = _one(old, PASSWORD, "inference-api-key")
    assert old[key]["options"]["protect"] is True
    new = copy.deepcopy(old)
    new[key]["inputs"]["length"] = 64
    new[key]["options"]["protect"] = False
    result = plan_diff.diff_documents(old, new)
    assert key in result["replaced"] and result["protected"] == []
    assert "Protected (" not in plan_diff.markdown(result, "t", [])
    gone = {u: r for u, r in new.items() if u != key}
    assert plan_diff.diff_documents(old, gone)["protected"] == [key]


def test_a_delete_first_replacement_is_stopped_by_what_it_drags_along_that_the_state_protects(prod):
    """A dependent a delete-first replacement deletes first is refused on the old state's flag, before it registers
    (1b5949891b step_generator.go `continueStepsFromDiff`: "unable to replace resource ... as part of replacing ...",
    `dependentResource.Protect`): lifting protect in the program the same change does not let the chain through, as
    it does for a resource's own replacement (`new.Protect && old.Protect`)."""
    old = copy.deepcopy(_doc(prod))  # its options are the shared plan's own
    cluster = _one(old, CLUSTER)
    grant = _one(old, "azure-native:authorization:RoleAssignment", "gateway-ip-network")  # to the cluster's identity
    assert old[grant]["options"]["protect"] is False and old[cluster]["options"]["protect"] is True
    old[grant]["options"]["protect"] = True  # as 0.26 recorded it (it took GatewayAccess's protect)
    old[cluster]["options"]["protect"] = False  # lifted (`pulumi state unprotect`), or a state from before 0.27
    new = copy.deepcopy(old)
    new[cluster]["inputs"]["networkProfile"]["podCidr"] = "10.99.0.0/16"  # force-new: replaced under its name
    new[grant]["options"]["protect"] = False
    result = plan_diff.diff_documents(old, new)
    assert {cluster, grant} <= set(result["deleteBeforeReplace"]) and grant in result["protected"]
    assert f"Protected (`pulumi up` stops here until `protect` is lifted): `{plan_diff.short_urn(grant)}`" in \
        plan_diff.markdown(result, "t", [])
    alone = copy.deepcopy(old)  # its own replacement, no chain: the program's lifted flag lets it through
    alone[grant]["inputs"]["principalId"] = "another-principal"
    alone[grant]["options"]["protect"] = False
    result = plan_diff.diff_documents(old, alone)
    assert grant in result["replaced"] and result["protected"] == []


def test_a_secret_input_from_a_replaced_password_replaces_its_kubernetes_secret(base):
    """A generated password replaced (created first) has a new `result`: what takes it is unknown in the preview and
    new in the update (pulumi/pulumi 1b5949891b step_generator.go: the replacement's outputs), though both plans show
    it as `[secret]`. Grafana's admin Secret takes it in `stringData`, which pulumi-kubernetes replaces on (a named
    object keeping its name: deleted first); the Key Vault secret takes it in `properties.value`, updated in place."""
    password = _one(base, PASSWORD, "observability-grafana-password")
    secret = _one(base, "kubernetes:core/v1:Secret", "observability-grafana-admin")
    vault_secret = _one(base, "azure-native:keyvault:Secret", "observability-grafana-password-secret")
    assert base[secret]["inputs"]["stringData"]["admin-password"] == "[secret]"
    new = copy.deepcopy(base)
    new[password]["inputs"]["length"] = base[password]["inputs"]["length"] + 1
    result = plan_diff.diff_documents(base, new)
    short = plan_diff.short_urn(plan_diff.engine_urns(new)[password])
    assert result["replaced"][secret] == [f"`stringData` is secret (the plans cannot show it) and comes from `{short}`, "
                                          "which is replaced"]
    assert secret in result["deleteBeforeReplace"] and password not in result["deleteBeforeReplace"]
    assert vault_secret not in result["replaced"]


def test_a_grant_to_a_replaced_cluster_s_identity_is_replaced_with_it(base):
    """A replaced cluster has a new system-assigned identity: a role assignment whose principalId comes from it gets
    an unknown there in the preview (pulumi/pulumi 1b5949891b step_generator.go: what comes from a replaced resource's
    outputs is unknown until it is created; `calculateDependentReplacements` for a delete-first one) and the new
    principal in the update, and principalId is force-new: the assignment is replaced too (the check once followed
    only inputs that carry the replaced resource's name or ID, and left these out)."""
    new = copy.deepcopy(base)
    cluster = _one(new, CLUSTER)
    new[cluster]["inputs"]["networkProfile"]["podCidr"] = "10.99.0.0/16"  # force-new: the cluster is replaced
    assert _forces("azure-native:authorization:RoleAssignment", "principalId")
    result, _ = _diff(base, new)
    grants = [u for u, r in new.items() if r["type"] == "azure-native:authorization:RoleAssignment"
              and cluster in r["dependencies"] and r["inputs"]["principalType"] == "ServicePrincipal"]
    assert {new[u]["name"] for u in grants} == {"gateway-ip-group-reader", "gateway-ip-network",
                                                  "platform-cluster-subnet"}  # the deployer's is a user's
    short = plan_diff.short_urn(plan_diff.engine_urns(new)[cluster])
    for urn in grants:
        assert result["replaced"][urn] == [f"`principalId` comes from `{short}`, which is replaced (a new value its "
                                           "create makes)"]
    # an identity of its own (a user-assigned one, not replaced) keeps its grants
    assert not any(u in result["replaced"] for u, r in new.items() if r["type"] == "azure-native:authorization:"
                   "RoleAssignment" and r["name"].startswith("inference-"))


def test_a_replaced_resource_is_created_with_the_program_s_values_where_it_ignores_changes(base):
    """The engine resets ignored paths to decide the diff, but a replacement is created from the program's inputs
    checked again (pulumi/pulumi 1b5949891b step_generator.go `continueStepsFromDiff`: `prov.Check` of
    `goal.Properties`): the Replace line says so, and the ignored path is no "keeps the deployed value" line."""
    cluster = _one(base, CLUSTER)
    assert "kubernetesVersion" in base[cluster]["options"]["ignoreChanges"]
    old = copy.deepcopy(base)
    old[cluster]["inputs"]["kubernetesVersion"] = "1.31"  # what the state holds (the channel moved it)
    new = copy.deepcopy(base)
    new[cluster]["inputs"]["kubernetesVersion"] = "1.30"
    result = plan_diff.diff_documents(old, new)
    assert result["ignored"][cluster] == ["kubernetesVersion"] and cluster not in result["replaced"]
    new[cluster]["inputs"]["networkProfile"]["podCidr"] = "10.99.0.0/16"  # force-new: the cluster is replaced
    result = plan_diff.diff_documents(old, new)
    assert cluster in result["replaced"] and cluster not in result["ignored"]
    assert any("created with the program's `kubernetesVersion`" in note for note in result["notes"][cluster])
    line = next(x for x in plan_diff.markdown(result, "t", []).splitlines() if x.startswith("- Replace:")
                and plan_diff.short_urn(plan_diff.engine_urns(new)[cluster]) in x)
    assert "holds nothing through a replacement" in line


def test_a_resource_deleted_with_a_replaced_one_is_replaced_with_it(base):
    """pulumi/pulumi#23818 (1b5949891b step_generator.go `diff`, merged 2026-08-21 after v3.259.0): a resource whose
    `deletedWith` is being replaced is replaced too, before its provider is asked: created first, as the engine's own
    replacement, after a replacement that creates first (a generated password); deleted first with one that deletes
    first (a cluster under its own name: `findDependentCascadeReplacements` puts it in that delete's chain)."""
    federation = _one(base, "azure-native:managedidentity:FederatedIdentityCredential",
                      "inference-router-identity-federation")
    cluster, key = _one(base, CLUSTER), _one(base, PASSWORD, "inference-api-key")
    for root, edit, first in ((key, ("length", 64), False), (cluster, ("networkProfile", None), True)):
        old = copy.deepcopy(base)
        new = copy.deepcopy(base)
        if root == cluster:
            new[cluster]["inputs"]["networkProfile"]["podCidr"] = "10.99.0.0/16"  # force-new
        else:
            new[root]["inputs"][edit[0]] = edit[1]
        assert federation not in plan_diff.diff_documents(old, new)["replaced"]
        for doc in (old, new):
            doc[federation]["options"]["deletedWith"] = root
        result, _ = _diff(old, new)
        assert root in result["replaced"] and (root in result["deleteBeforeReplace"]) == first
        short = plan_diff.short_urn(plan_diff.engine_urns(new)[root])
        assert result["replaced"][federation] == [f"its deletedWith `{short}` is replaced"]
        assert (federation in result["deleteBeforeReplace"]) == first  # a named Azure resource: never its own Diff
        # created first under its own name while the old one holds it (the option's way out named)
        assert (federation in result["refused"]) == (not first)


def test_a_secret_s_type_replaces_it_with_the_provider_s_enable_secret_mutable_too(tmp_path, base):
    """pulumi-kubernetes' `enableSecretMutable` makes a Secret's data and stringData updatable, not its type: with
    the flag on, diff.go forceNewProperties falls back to the kind's own list, `.type` (v4.32.0). The check dropped
    the type with the contents and printed an in-place update the API server refuses (a Secret's type is
    immutable)."""
    new = copy.deepcopy(base)
    secret = _one(new, "kubernetes:core/v1:Secret", "observability-grafana-admin")
    provider = plan_diff.provider_urn(new[secret]["options"]["provider"])
    for doc in (base, new):
        doc[provider]["inputs"]["enableSecretMutable"] = "true"
    new[secret]["inputs"]["stringData"]["admin-user"] = "root"
    code, out = _check(tmp_path, base, new)
    assert code == 0 and "Update: `llmplatform:index:Observability$kubernetes:core/v1:Secret::" in out
    new[secret]["inputs"]["type"] = "kubernetes.io/basic-auth"
    code, out = _check(tmp_path, base, new)
    line = next(line for line in out.splitlines() if line.startswith("- Replace:") and "core/v1:Secret" in line)
    assert "`type` (pulumi-kubernetes replaces on it)" in line and "stringData" not in line


def test_the_check_fails_until_the_pull_request_allows_it(tmp_path, capsys, base):
    new = _doc(variant("dev-smb-nogpu"))
    for name, doc in (("base", base), ("new", new)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "resources.json").write_text(json.dumps({"resources": list(doc.values())}))
    args = [str(tmp_path / "base"), str(tmp_path / "new"), "--title", "dev"]
    assert plan_diff.main(args) == 1
    out, err = capsys.readouterr()
    share = _one(new, SHARE)
    assert "**Blocked:" in out and f"`{share}`" in out and plan_diff.ALLOW_FILE in out
    # run as the README's what-if runs it, the report's "list the URN in allow-replace.txt" would seem to do nothing
    # (a stranger listed one and saw the same report): the note names the flag the pull request's check passes
    allow = tmp_path / plan_diff.ALLOW_FILE
    assert f"`--allow-file {plan_diff.ALLOW_FILE}`" in err and "--allow-file" not in out
    assert plan_diff.main(args + ["--allow-stateful"]) == 0  # the label
    assert "--allow-file" not in capsys.readouterr().err  # nothing blocked, nothing to say
    blocked = [u for u, _ in plan_diff.blocking(plan_diff.diff_documents(base, new), set(), False)]
    allow.write_text("# intended: SMB for the model share\n" + "\n".join(blocked[:-1]) + "\n")
    assert plan_diff.main(args + ["--allow-file", str(allow)]) == 1  # one left
    assert "no --allow-file given" not in capsys.readouterr().err  # the file was read
    allow.write_text("\n".join(blocked) + "\n")
    assert plan_diff.main(args + ["--allow-file", str(allow)]) == 0


def test_an_allowed_stateful_replacement_is_still_marked_and_a_stale_allowance_is_reported(tmp_path, base):
    new = _doc(variant("dev-smb-nogpu"))
    share = _one(new, SHARE)
    line = next(u for u in new if u == share)

    def replace_line(out: str) -> str:
        return next(x for x in out.splitlines() if x.startswith("- Replace: ") and f"`{plan_diff.short_urn(line)}`" in x)
    code, out = _check(tmp_path, base, new, "--allow-stateful")
    assert code == 0 and "**Blocked" not in out
    assert f"**allowed** by the `{plan_diff.ALLOW_LABEL}` label" in replace_line(out)
    assert plan_diff.STATEFUL[SHARE] in replace_line(out)  # the reviewer reads what goes
    blocked = [u for u, _ in plan_diff.blocking(plan_diff.diff_documents(base, new), set(), False)]
    typo = share.replace("::", ":::", 1)  # a mistyped URN of this stack
    stale = share.replace("FileShare", "FileShares")  # a line of a change that merged long ago
    other = share.replace("urn:pulumi:dev::", "urn:pulumi:llmd::")  # another stack's: its own diff reports it
    allow = tmp_path / plan_diff.ALLOW_FILE
    allow.write_text("\n".join([*blocked, typo, stale, other]) + "\n")
    code, out = _check(tmp_path, base, new, "--allow-file", str(allow))
    assert code == 0 and f"**allowed** by `{plan_diff.ALLOW_FILE}`" in replace_line(out)
    assert f"**2 `{plan_diff.ALLOW_FILE}` entries allow nothing in this diff**" in out
    warned = [x for x in out.splitlines() if x.startswith("- :warning:")]
    assert warned == [f"- :warning: `{u}`" for u in sorted([typo, stale])]


def test_the_allow_file_reads_comment_lines_and_a_comment_after_a_urn(tmp_path, base):
    """One URN a line, `#` comments allowed (docs/guardrails.md): a line of comment alone (the repository's own file
    opens with one) is no entry, and a comment after a URN (why it goes) leaves the URN, which allows its change."""
    new = _doc(variant("dev-smb-nogpu"))
    blocked = [u for u, _ in plan_diff.blocking(plan_diff.diff_documents(base, new), set(), False)]
    allow = tmp_path / plan_diff.ALLOW_FILE
    allow.write_text("# intended: SMB for the model share\n\n"
                     + "".join(f"  {u}  # NFS goes, its files with it\n" for u in blocked) + "   # end\n")
    assert plan_diff.read_allow_file(allow) == set(blocked)
    code, out = _check(tmp_path, base, new, "--allow-file", str(allow))
    assert code == 0 and "**Blocked" not in out and "allow nothing" not in out


def test_an_allowance_of_a_change_that_needs_none_is_reported_as_allowing_nothing(base):
    """An entry allows a stateful replacement or deletion, or a refusal: one naming a resource the diff deletes or
    replaces that loses nothing (a Deployment) allows nothing the check would refuse, so it is reported with the
    mistyped and stale ones (a line left that would let a later stateful change of that URN through unread)."""
    new = copy.deepcopy(base)
    deployment = _one(base, "kubernetes:apps/v1:Deployment", "inference-ollama")
    del new[deployment]
    result = plan_diff.diff_documents(base, new)
    assert result["removed"] == [deployment] and not plan_diff.blocking(result, set(), False)
    assert plan_diff.unmatched_allowances(result, {deployment}) == [deployment]


# the least a plan holds (make plan always registers the stack): plan_diff refuses a plan of no resources
STACK_ONLY = [{"urn": "urn:pulumi:dev::p::pulumi:pulumi:Stack::p-dev", "type": "pulumi:pulumi:Stack", "name": "p-dev",
               "parent": None, "inputs": {}, "options": {}, "dependencies": []}]


def _plan_dir(tmp_path, name, resources):
    folder = tmp_path / name
    folder.mkdir()
    (folder / "resources.json").write_text(json.dumps({"resources": resources}))
    return folder


def test_plan_diff_names_added_removed_and_changed_inputs(tmp_path, capsys):
    def res(urn, inputs, protect=False):
        return {"urn": f"urn:pulumi:dev::p::t::{urn}", "inputs": inputs, "options": {"protect": protect}}
    base = _plan_dir(tmp_path, "base", [res("a", {"x": 1}), res("b", {"y": {"z": 1}}), res("c", {})])
    new = _plan_dir(tmp_path, "new", [res("a", {"x": 1}), res("b", {"y": {"z": 2}}, protect=True), res("d", {})])
    assert plan_diff.main([str(base), str(new), "--title", "dev"]) == 0
    out = capsys.readouterr().out
    assert "1 to add, 1 to update, 0 to replace, 1 to delete" in out
    assert "Add: `t::d`" in out and "Delete: `t::c`" in out and "Update: `t::b` (y.z, protect on)" in out
    assert plan_diff.main([str(base), str(tmp_path / "missing")]) == 2


def test_a_base_without_a_plan_is_an_error_unless_the_stack_is_new(tmp_path, capsys):
    """A base branch that failed to plan (or a mistyped folder) must not pass as "a new stack": only --new-stack,
    which the workflow passes when the base branch has no such stack file, shows every resource as added."""
    res = {"urn": "urn:pulumi:dev::p::azure-native:dbforpostgresql:Server::db", "inputs": {}, "options": {}}
    new = _plan_dir(tmp_path, "new", [res])
    for missing in (tmp_path / "nosuch", tmp_path / "empty"):
        (tmp_path / "empty").mkdir(exist_ok=True)  # a folder without resources.json: a plan that did not finish
        assert plan_diff.main([str(missing), str(new)]) == 2
        captured = capsys.readouterr()
        assert f"no plan at {missing}" in captured.err and "--new-stack" in captured.err
        # named by its folder: the README's what-if (build/dev beside build/dev.what-if) needs the stack's own plan
        assert f"run `make plan STACK={missing.name}` first (for a what-if, the stack's own plan" in captured.err
        assert "every resource is new" not in captured.out
    # a folder whose name is no stack's (`build/..`) is not offered as one
    assert plan_diff.main([str(tmp_path / "nosuch" / ".."), str(new)]) == 2
    assert "run `make plan STACK=<stack>` first" in capsys.readouterr().err
    # the plan's file for its folder, either side: named as a file with the folder to give, not "no resources.json"
    for argv in ([str(new / "resources.json"), str(new)], [str(new), str(new / "resources.json")]):
        assert plan_diff.main(argv) == 2
        err = capsys.readouterr().err
        assert f"{new / 'resources.json'} is a file, not a plan's folder: give the folder `make plan` wrote ({new})" \
            in err and "no resources.json" not in err and "Traceback" not in err, err
    assert plan_diff.main([str(tmp_path / "nosuch"), str(new), "--new-stack"]) == 0
    out = capsys.readouterr().out
    assert "every resource is new" in out and "1 to add, 0 to update, 0 to replace, 0 to delete" in out
    assert plan_diff.main([str(new), str(new), "--new-stack"]) == 2  # a base that has the stack is no new stack
    assert "drop --new-stack" in capsys.readouterr().err
    empty = _plan_dir(tmp_path, "nothing", [])  # a plan of no resources read as "everything added" before
    assert plan_diff.main([str(empty), str(new)]) == 2
    err = capsys.readouterr().err
    assert "lists no resources" in err and "--new-stack" in err
    assert plan_diff.main([str(new), str(empty)]) == 2 and "lists no resources" in capsys.readouterr().err


def test_plans_of_two_stacks_are_refused_not_diffed_into_deleting_everything(tmp_path, capsys, dev, prod):
    """`plan_diff build/dev build/prod` (two stacks, by a slip of the folder or to see "what prod adds") read every
    dev resource as deleted and every prod one as added, and blocked on the "deletions" of dev's stateful
    resources (exit 1, as a change that must be allowed): it is bad usage, said as such (exit 2)."""
    base = _plan_dir(tmp_path, "dev", plan.resources_document(dev)["resources"])
    new = _plan_dir(tmp_path, "prod", plan.resources_document(prod)["resources"])
    assert plan_diff.main([str(base), str(new)]) == 2
    captured = capsys.readouterr()
    assert captured.err == (f"{base} is a plan of aks-llm-platform/dev and {new} of aks-llm-platform/prod: plan_diff "
                            "compares two plans of one stack (the base branch's and this change's, or a stack's and "
                            "its what-if in build/<stack>.what-if); across stacks every URN differs, so every "
                            "resource would read as deleted and added\n")
    assert captured.out == ""
    assert plan_diff.main([str(base), str(base)]) == 0  # one stack's plans: compared


def test_plan_diff_shows_the_cost_change(tmp_path, capsys):
    def folder(name, idle, peak, component):
        path = _plan_dir(tmp_path, name, STACK_ONLY)
        (path / "cost.json").write_text(json.dumps({"idleMonthly": idle, "peakMonthly": peak, "byComponent": {
            component: {"idle": idle, "peak": peak}}}))
        return path
    base, new = folder("b", 100.0, 200.0, "GpuNodePool gpu"), folder("n", 150.0, 260.0, "GpuNodePool gpu")
    assert plan_diff.main([str(base), str(new)]) == 0
    out = capsys.readouterr().out
    assert "idle $100.00 -> $150.00 (+50.00)" in out and "- GpuNodePool gpu: idle +50.00, peak +60.00" in out


@pytest.mark.parametrize("odd", [3, True, {"component": "GpuNodePool gpu"}, "lines"])
def test_a_cost_estimate_whose_item_lines_are_odd_keeps_its_totals(tmp_path, capsys, odd):
    """cost.json `lines` names the priced items on a component's line, and is optional (a base older than it has
    none): one that is no list of items leaves the totals alone. A number there failed the whole diff ("cannot
    diff ...: TypeError: 'int' object is not iterable"), the PR check with it."""
    def folder(name, idle, peak, lines):
        path = _plan_dir(tmp_path, name, STACK_ONLY)
        (path / "cost.json").write_text(json.dumps({"idleMonthly": idle, "peakMonthly": peak, "byComponent": {
            "GpuNodePool gpu": {"idle": idle, "peak": peak}}, "lines": lines}))
        return path
    item = {"component": "GpuNodePool gpu", "resource": "gpu", "item": "gpu: spot", "idle": 150.0, "peak": 260.0}
    base, new = folder("b", 100.0, 200.0, odd), folder("n", 150.0, 260.0, [item])
    assert plan_diff.main([str(base), str(new)]) == 0
    out = capsys.readouterr().out
    assert "\n- GpuNodePool gpu: idle +50.00, peak +60.00\n" in out, out


def test_a_components_cost_line_names_the_priced_items_the_change_moves(tmp_path, prod):
    """A larger GPU size on prod moved AksCluster's peak too, and the comment said "AksCluster platform: peak
    +329.76" with nothing on why: Defender for Containers is billed per node vCore (cost.json `lines`). Each
    component's line names the items that moved, largest first; a base without `lines` keeps the totals alone."""
    from offline import cost
    bigger = plan_for("prod", {"gpu": {"vmSize": "Standard_NC48ads_A100_v4"}})
    for name, p in (("base", prod), ("head", bigger)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "cost.json").write_text(json.dumps(cost.estimate(p, "westeurope", 2.0).document()))
    lines = plan_diff.cost_lines(tmp_path / "base", tmp_path / "head")
    (aks,) = [line for line in lines if line.startswith("- AksCluster platform:")]
    assert re.fullmatch(r"- AksCluster platform: idle \+0\.00, peak (\+[\d,.]+) "
                        r"\(Defender for Containers \(per vCore\): peak \1\)", aks), aks
    (gpu,) = [line for line in lines if line.startswith("- GpuNodePool gpu:")]
    assert "gpu: Standard_NC48ads_A100_v4 spot: peak +" in gpu and "gpu: Standard_NC24ads_A100_v4 spot: peak -" in gpu
    older = json.loads((tmp_path / "base" / "cost.json").read_text())
    del older["lines"]
    (tmp_path / "base" / "cost.json").write_text(json.dumps(older))
    assert "- AksCluster platform: idle +0.00, peak +" in "\n".join(plan_diff.cost_lines(tmp_path / "base",
                                                                                        tmp_path / "head"))
    assert "Defender" not in "\n".join(plan_diff.cost_lines(tmp_path / "base", tmp_path / "head"))


def test_a_gpu_node_that_always_on_pods_keep_up_is_told_though_idle_leaves_it_out(tmp_path, prod):
    """llm-d enabled in prod (the prod-tls variant) adds a vLLM replica that never scales away: one more A100 up all
    month. The idle figure counts GPU pools at their minimum (docs/cost.md), so the totals barely move; the capacity
    note that says how many GPU nodes always-on pods keep up is the reviewer's only sign of it."""
    from offline import cost
    for name, p in (("base", prod), ("head", variant("prod-tls"))):
        (tmp_path / name).mkdir()
        (tmp_path / name / "cost.json").write_text(json.dumps(cost.estimate(p, "westeurope", 2.0).document()))
    gpu_nodes = {}
    for name in ("base", "head"):
        notes = json.loads((tmp_path / name / "cost.json").read_text())["capacityNotes"]
        gpu_nodes[name] = [int(n) for note in notes if note.startswith("pool gpu:")
                           for n in re.findall(r"keep (\d+) node", note)]
    assert gpu_nodes["head"][0] > gpu_nodes["base"][0]  # what the head really keeps running
    lines = plan_diff.cost_lines(tmp_path / "base", tmp_path / "head")
    told = [line for line in lines if line.startswith("- capacity, head: pool gpu:")]
    assert told and f"keep {gpu_nodes['head'][0]} node(s) up" in told[0], lines
    assert any(line.startswith("- capacity, base: pool gpu:") for line in lines)
    # and what that node costs a month, which the idle total leaves out
    kept = [json.loads((tmp_path / name / "cost.json").read_text())["alwaysOnGpuMonthly"] for name in ("base", "head")]
    assert kept[1] > kept[0] and f"- GPU nodes always-on pods keep up (left out of idle): ${kept[0]:,.2f} -> " \
        f"${kept[1]:,.2f} a month ({kept[1] - kept[0]:+,.2f})" in lines, lines


# ---- day-2 edits: what Pulumi ignores, and what the cloud refuses or cannot undo (value rules) ----------------------

def _refusal_line(out: str, name: str) -> str:
    """The refusal as the check tells it: in full on its "Blocked" line (the list below says "blocked above"); a
    refused replacement says "refused", an in-place change "refused in place"."""
    return next(line for line in out.splitlines() if line.startswith("- :x:") and f"::{name}`" in line
                and ("refused in place: " in line or "` refused: " in line))


def test_the_engine_resets_ignored_paths_to_the_old_inputs():
    # pulumi/pulumi processIgnoreChanges + PropertyPath.Reset: the old value comes back, an absent one is deleted,
    # [*] reaches every element, a path missing in the new inputs is left alone (tests/offline/test_ignore_changes.py
    # holds the transcription to the engine's own cases)
    old = {"a": 1, "b": {"c": 1}, "pools": [{"v": "1.33", "n": 1}, {"v": "1.33", "n": 2}]}
    new = {"a": 2, "b": {"c": 2, "d": 1}, "pools": [{"v": "1.35", "n": 3}, {"v": "1.35", "n": 4}], "x": 1}
    got, unheld = plan_diff.process_ignore_changes(old, new, ["a", "b.d", "pools[*].v", "pools[1].n", "x",
                                                              "missing.deep"])
    assert got == {"a": 1, "b": {"c": 2}, "pools": [{"v": "1.33", "n": 3}, {"v": "1.33", "n": 2}]} and unheld == []
    assert new["a"] == 2  # the plan document itself is untouched


def test_an_ignored_path_the_engine_cannot_hold_is_said_and_its_change_listed(tmp_path, dev):
    """dev's cluster ignores Defender (`securityProfile.defender`: an Azure Policy may turn it on). A head that stops
    sending `securityProfile` leaves the engine a path it cannot reset: `pulumi up` prints an info line and sends the
    program's inputs, so the check says so beside the update (pulumi/pulumi#20278, v3.190.0)."""
    base = copy.deepcopy(_doc(dev))
    cluster = _one(base, CLUSTER)
    assert "securityProfile.defender" in base[cluster]["options"]["ignoreChanges"]
    new = copy.deepcopy(base)
    del new[cluster]["inputs"]["securityProfile"]
    code, out = _check(tmp_path, base, new)
    [line] = [line for line in out.splitlines() if "ignoreChanges cannot hold" in line]
    assert line.startswith("- Check before merging: `") and "platform-aks" in line
    assert "cannot hold `securityProfile.defender`" in line
    assert "cannot ignore changes in added or removed elements of the path" in line
    assert "1 to update" in out
    same = copy.deepcopy(base)
    del same[cluster]["inputs"]["tags"]
    assert "ignoreChanges cannot hold" not in _check(tmp_path, base, same)[1]


def test_an_edit_pulumi_ignores_is_listed_as_ignored_not_as_an_update(tmp_path, prod):
    # prod's auto-upgrade channel: AksCluster puts kubernetesVersion in the cluster's ignoreChanges, so a version edit
    # changes nothing on a live cluster; an edit of the web UI's replicas only reaches the HPA (the Deployment's
    # spec.replicas is the autoscaler's)
    base = _doc(prod)
    cluster = _one(base, CLUSTER)
    webui = _one(base, "kubernetes:apps/v1:Deployment", "inference-webui")
    assert "kubernetesVersion" in base[cluster]["options"]["ignoreChanges"]
    assert "spec.replicas" in base[webui]["options"]["ignoreChanges"]
    base[cluster]["inputs"]["kubernetesVersion"] = "1.33"
    new = copy.deepcopy(base)
    new[cluster]["inputs"]["kubernetesVersion"] = "1.35"  # a skipped minor AKS would refuse, were it sent
    new[webui]["inputs"]["spec"]["replicas"] += 1
    code, out = _check(tmp_path, base, new)
    assert code == 0 and "0 to update" in out and "efused in place" not in out
    ignored = [line for line in out.splitlines() if line.startswith("- Ignored")]
    assert len(ignored) == 2 and "(kubernetesVersion)" in ignored[0] + ignored[1]
    assert "(spec.replicas)" in ignored[0] + ignored[1]
    # each says who owns the value and what to change instead
    version = next(line for line in ignored if "(kubernetesVersion)" in line)
    assert "auto-upgrade channel owns the version" in version and "`cluster.upgradeChannel: none`" in version
    assert "an autoscaler owns the replica count" in next(line for line in ignored if "(spec.replicas)" in line)


def _unpinned_cluster(dev) -> tuple[dict, str]:
    """dev's plan with the cluster's ignoreChanges as AksCluster gives them for upgradeChannel none."""
    from llmplatform.aks_cluster import autoscaler_ignore_changes
    doc = copy.deepcopy(_doc(dev))  # the document holds the session's dev plan's own options: edit a copy
    cluster = _one(doc, CLUSTER)
    doc[cluster]["options"]["ignoreChanges"] = autoscaler_ignore_changes("none", True)
    assert "kubernetesVersion" not in doc[cluster]["options"]["ignoreChanges"]
    return doc, cluster


@pytest.mark.parametrize("before, after, verdict", [
    ("1.33", "1.34", None),  # one minor up: the only upgrade AKS takes
    ("1.33.2", "1.33.5", None),  # a patch
    ("1.33", "1.35", "skips 1 minor"),  # AKS: 1.28.x -> 1.30.x is not allowed
    ("1.33", "1.32", "a downgrade"),  # AKS does not downgrade
    ("1.33.5", "1.33.2", "a downgrade"),
])
def test_aks_version_edits_that_aks_refuses_fail_the_check(tmp_path, dev, before, after, verdict):
    base, cluster = _unpinned_cluster(dev)
    base[cluster]["inputs"]["kubernetesVersion"] = before
    new = copy.deepcopy(base)
    new[cluster]["inputs"]["kubernetesVersion"] = after
    code, out = _check(tmp_path, base, new)
    if verdict is None:
        assert code == 0 and "efused in place" not in out and "(kubernetesVersion)" in out
        return
    line = _refusal_line(out, "platform-aks")
    assert code == 1 and verdict in line
    assert f'`kubernetesVersion` "{before}" -> "{after}"' in line and "`cluster.kubernetesVersion`" in line


def test_a_first_version_pin_asks_the_reviewer_to_check_the_running_version(tmp_path, dev):
    base, cluster = _unpinned_cluster(dev)
    base[cluster]["inputs"].pop("kubernetesVersion", None)  # created at AKS's default
    new = copy.deepcopy(base)
    new[cluster]["inputs"]["kubernetesVersion"] = "1.34"
    code, out = _check(tmp_path, base, new)
    # the command as it runs: `az aks show` needs the group and the name (Azure CLI 2.91.0 `az aks show --help`)
    assert code == 0 and "- Check before merging: " in out
    assert "`az aks show -g <group> -n <cluster> --query currentKubernetesVersion -o tsv`" in out


def test_postgres_storage_shrinks_and_version_downgrades_fail_growth_and_upgrades_pass(tmp_path, prod):
    base = _doc(prod)
    server = _one(base, SERVER)
    size, version = base[server]["inputs"]["storage"]["storageSizeGB"], base[server]["inputs"]["version"]
    smaller = copy.deepcopy(base)
    smaller[server]["inputs"]["storage"]["storageSizeGB"] = size // 2
    smaller[server]["inputs"]["version"] = str(int(version) - 1)
    code, out = _check(tmp_path, base, smaller)
    line = _refusal_line(out, "postgres-server")
    assert code == 1 and "You can't scale down the storage" in line
    assert out.count("You can't scale down the storage") == 1  # told once, on its Blocked line
    heading = next(line for line in out.splitlines() if line.startswith("**Blocked"))
    assert plan_diff.ALLOW_LABEL not in heading  # the label allows stateful replacements, not what Azure refuses
    assert f"`storage.storageSizeGB` {size} -> {size // 2} (stack key `postgres.storageSizeGb`)" in line
    assert f'`version` "{version}" -> "{int(version) - 1}" (stack key `postgres.version`): a downgrade' in line
    assert server in {u for u, _ in plan_diff.blocking(plan_diff.diff_documents(base, smaller), set(), False)}
    code, out = _check(tmp_path, smaller, base)  # the other way: storage up, the major version up, both in place
    assert code == 0 and "efused in place" not in out and "Update: `llmplatform:index:PostgresServer" in out
    check = next(line for line in out.splitlines() if line.startswith("- Check before merging:"))
    assert f'`version` "{int(version) - 1}" -> "{version}"' in check and "has no way back" in check  # not undone
    # Azure's documented in-place upgrade is the update with createMode Update, not the PUT with the creation's
    # createMode that PostgresServer sends (its ignoreChanges keeps "Create"): the line gives the az command first
    assert smaller[server]["inputs"]["createMode"] == "Create" and "createMode" in smaller[server]["options"][
        "ignoreChanges"]
    assert "az postgres flexible-server upgrade" in check and "createMode: Update" in check


def test_a_postgres_resize_asks_for_the_connection_limit_the_server_keeps_from_its_creation(tmp_path, base):
    """A Flexible Server's default max_connections is computed at provisioning from its size, and static: a resize
    keeps it, while Open-WebUI's connection check and its pools (their overflow, in the same update) follow the new
    size's. The check says so, with both figures and the commands that apply the new one; sizes with one limit (or
    one not in the table) say nothing."""
    new = _doc(plan_for("dev", {"postgres": {"skuName": "Standard_B2s"}}))
    code, out = _check(tmp_path, base, new)
    server = _one(new, SERVER)
    assert code == 0 and f"Update: `{plan_diff.short_urn(server)}` (sku.name)" in out
    check = next(line for line in out.splitlines() if line.startswith("- Check before merging:"))
    assert '`sku.name` "Standard_B1ms" -> "Standard_B2s" (stack key `postgres.skuName`)' in check
    assert "created with (50 if at Standard_B1ms" in check and "created at Standard_B2s has 429" in check
    assert "--name max_connections" in check and "flexible-server restart" in check
    # the UI's pools grow with the size in the same update (the check says so: 'too many clients' until then)
    webui = next(u for u, r in new.items() if r["type"] == "kubernetes:apps/v1:Deployment"
                 and r["inputs"]["metadata"]["name"] == "open-webui")
    env, was = ([e for e in doc[webui]["inputs"]["spec"]["template"]["spec"]["containers"][0]["env"]]
                for doc in (new, base))
    at = next(i for i, e in enumerate(env) if e["name"] == "DATABASE_POOL_MAX_OVERFLOW")
    assert was[at]["name"] == env[at]["name"] and int(env[at]["value"]) > int(was[at]["value"])
    assert f"::{new[webui]['name']}` (spec.template.spec.containers[0].env[{at}].value)" in out
    assert "DATABASE_POOL_MAX_OVERFLOW" in check and "too many clients" in check
    same = value_findings(SERVER, {"sku": {"name": "Standard_B2ms"}}, {"sku": {"name": "Standard_D2ds_v5"}},
                          ["sku.name"])
    unknown = value_findings(SERVER, {"sku": {"name": "Standard_B1ms"}}, {"sku": {"name": "Standard_X9"}},
                             ["sku.name"])
    assert same == unknown == ([], [])


def test_a_version_unset_or_the_same_version_written_as_a_number_is_no_downgrade():
    """noDowngrade and upgrade compare versions, not what spells them: a pool's `orchestratorVersion` left out (AKS's
    default, which is no downgrade to judge) or a server's `version` "17" written as 17 is neither refused nor a
    traceback, while 1.33 -> 1.32 is refused."""
    pool, version = "azure-native:containerservice:AgentPool", ["orchestratorVersion"]
    assert value_findings(pool, {"orchestratorVersion": "1.33"}, {}, version) == ([], [])
    assert value_findings(pool, {}, {"orchestratorVersion": "1.33"}, version) == ([], [])
    assert value_findings(pool, {"orchestratorVersion": "1.33"}, {"orchestratorVersion": "1.32"}, version)[0]
    assert value_findings(SERVER, {"version": "17"}, {"version": 17}, ["version"]) == ([], [])
    # the server's major upgrade is a check of its own: not for a downgrade (refused) nor from an unset version
    refused, checks = value_findings(SERVER, {"version": "17"}, {"version": "16"}, ["version"])
    assert refused and not checks
    assert value_findings(SERVER, {}, {"version": "16"}, ["version"]) == ([], [])
    assert value_findings(SERVER, {"version": "16"}, {}, ["version"]) == ([], [])
    assert value_findings(SERVER, {"version": "16"}, {"version": "17"}, ["version"])[1]


def test_the_model_store_grows_through_its_share_and_volume_and_a_claim_that_would_resize_is_refused(tmp_path, prod):
    """modelStore.sizeGib grows the share's quota and the pre-created volume; ModelStore's claim keeps the request it
    was created with (Kubernetes' resize admission refuses to grow a claim without an expandable storage class, and
    validation refuses any shrink), so the check lists it as ignored and passes. A claim bound to a pre-created
    volume that does follow the size (a composition without that ignoreChanges) is refused both ways."""
    base = _doc(prod)
    models = _one(base, "kubernetes:core/v1:PersistentVolumeClaim", "models-pvc")
    uploads = _one(base, "kubernetes:core/v1:PersistentVolumeClaim", "inference-webui-uploads")
    share, volume = _one(base, SHARE), _one(base, "kubernetes:core/v1:PersistentVolume", "models-pv")
    assert base[models]["inputs"]["spec"]["storageClassName"] == ""  # bound to ModelStore's pre-created volume

    def resized(doc: dict, sign: float) -> tuple[dict, int]:
        new = copy.deepcopy(doc)
        quota = int(doc[share]["inputs"]["shareQuota"] * sign)
        new[share]["inputs"]["shareQuota"] = quota
        new[volume]["inputs"]["spec"]["capacity"]["storage"] = f"{quota}Gi"
        new[models]["inputs"]["spec"]["resources"]["requests"]["storage"] = f"{quota}Gi"
        return new, quota

    for sign in (2, 0.5):
        code, out = _check(tmp_path, base, resized(base, sign)[0])
        assert code == 0 and "efused in place" not in out, out
        assert any(line.startswith("- Ignored") and "::models-pvc`" in line for line in out.splitlines())
        assert ("nextAllowedQuotaDowngradeTime" in out) == (sign < 1)  # a quota cut is a check on the share
        # with the command that shows the used size as it runs (`share-rm show` needs the group, account and share)
        assert sign > 1 or "`az storage share-rm show -g <group> --storage-account <account> -n <share> --expand " \
                           "stats`" in out
    following = copy.deepcopy(base)
    following[models]["options"]["ignoreChanges"] = []
    for sign, fragment in ((2, "only dynamically provisioned pvc can be resized"), (0.5, "less than previous value")):
        new, quota = resized(following, sign)
        code, out = _check(tmp_path, following, new)
        line = _refusal_line(out, "models-pvc")
        assert code == 1 and fragment in line and f'-> "{quota}Gi" (stack key `modelStore.sizeGib`)' in line
    new = copy.deepcopy(base)  # a dynamically provisioned claim (AKS's azurefile-csi-premium) may grow: not refused
    new[uploads]["inputs"]["spec"]["resources"]["requests"]["storage"] = "200Gi"
    assert _check(tmp_path, base, new)[0] == 0


def test_a_spot_pool_cannot_become_regular_in_place(tmp_path, prod):
    base = _doc(prod)
    pool = _one(base, "azure-native:containerservice:AgentPool", "gpu-gpu")
    new = copy.deepcopy(base)
    new[pool]["inputs"]["scaleSetPriority"] = "Regular"
    code, out = _check(tmp_path, base, new)
    assert "scaleSetPriority" not in AZURE["azure-native:containerservice:AgentPool"]["forceNew"]  # an update...
    assert code == 1 and "You cannot change ScaleSetPriority" in _refusal_line(out, "gpu-gpu")  # ...AKS refuses


def test_turning_managed_grafana_off_is_blocked_for_what_its_users_made_in_it(prod):
    """`observability.managedGrafana: false` deletes the instance: the program provisions no dashboard in it (its own
    are the in-cluster Grafana's), so what is there, its admins made, and Azure deletes it with the instance. The
    check passed it as two plain deletions. The head is prod without the instance and what depends on it (what the
    config change removes), a pure edit of the recorded plan."""
    base = _doc(prod)
    grafana = _one(base, "azure-native:dashboard:Grafana")
    head = {u: r for u, r in base.items() if u != grafana and grafana not in r.get("dependencies", [])}
    result, blocked = _diff(base, head)
    assert grafana in result["removed"]
    assert [u for u, _ in blocked] == [grafana], blocked  # its role assignment holds nothing
    assert blocked[0][1].startswith("deleted: ") and "dashboards" in blocked[0][1]


def test_purge_protection_cannot_be_turned_off(tmp_path, prod):
    base = _doc(prod)
    vault = _one(base, "azure-native:keyvault:Vault")
    assert base[vault]["inputs"]["properties"]["enablePurgeProtection"] is True
    new = copy.deepcopy(base)
    del new[vault]["inputs"]["properties"]["enablePurgeProtection"]  # what KeyVault sends for purge_protection False
    code, out = _check(tmp_path, base, new)
    line = _refusal_line(out, "secrets-vault")
    assert code == 1 and "true -> (unset) (stack key `keyVault.purgeProtection`)" in line and "irreversible" in line
    assert _check(tmp_path, new, base)[0] == 0  # turning it on is an update


def test_purge_protection_on_to_false_or_unset_is_refused_and_only_turning_it_on_is_told_so():
    """Each way the value can go, as value_findings judges it: on -> false and on -> unset refused (irreversible),
    unset or false -> on told before merging (it cannot be undone), unset <-> false neither."""
    vault, path = "azure-native:keyvault:Vault", ["properties.enablePurgeProtection"]

    def findings(old, new):
        def inputs(value):
            return {"properties": {} if value is None else {"enablePurgeProtection": value}}
        refused, checks = value_findings(vault, inputs(old), inputs(new), path)
        return ["refused" for _ in refused] + ["told" for _ in checks]
    assert findings(True, False) == findings(True, None) == ["refused"]
    assert findings(False, True) == findings(None, True) == ["told"]
    assert findings(None, False) == findings(False, None) == []


def test_only_a_change_of_zone_redundancy_is_refused_and_only_a_channel_moving_minors_further_is_told():
    """zoneRedundancy reads the SKU's redundancy: LRS <-> ZRS (and GZRS, RAGZRS) refused, LRS -> GRS not, nor a SKU
    set or left out; minorMovingChannel tells a channel that moves the minor further than before, and nothing for
    channels that never move it (none, patch, node-image)."""
    account, sku = "azure-native:storage:StorageAccount", ["sku.name"]

    def refused(old, new):
        def inputs(value):
            return {} if value is None else {"sku": {"name": value}}
        return bool(value_findings(account, inputs(old), inputs(new), sku)[0])
    assert refused("Standard_LRS", "Standard_ZRS") and refused("Standard_RAGZRS", "Standard_GRS")
    assert not refused("Standard_LRS", "Standard_GRS") and not refused("Premium_ZRS", "Standard_GZRS")
    assert not refused(None, "Standard_ZRS") and not refused("Standard_ZRS", None)
    cluster, channel = CLUSTER, ["autoUpgradeProfile.upgradeChannel"]

    def told(old, new):
        return bool(value_findings(cluster, {"autoUpgradeProfile": {"upgradeChannel": old}},
                                   {"autoUpgradeProfile": {"upgradeChannel": new}}, channel)[1])
    assert told("patch", "stable") and told("stable", "rapid") and told("node-image", "rapid")
    assert not told("rapid", "stable") and not told("none", "patch") and not told("patch", "node-image")


# One plan for two tests' edits, each reading resources the other's edit leaves alone: the vault's purge protection
# and the cluster's channel (checks that pass), and the gate's rate limit (its ConfigMap replaced, the run passing).
ONE_WAY_AND_GATE = {"cluster": {"upgradeChannel": "stable"}, "keyVault": {"purgeProtection": True},
                    "gateway": {"rateLimitPerSecond": 7}}


def test_turning_on_what_cannot_be_undone_is_said_before_merging(tmp_path, dev):
    """Two settings dev can turn on that no later change turns back: purge protection (the vault's name then stays
    taken for the retention after a teardown) and an auto-upgrade channel that moves the minor version (AKS then
    upgrades the cluster in its next maintenance window): each an update that passes, with a check line naming its
    stack key, and so does stable -> rapid (N-1 to N). A channel that moves minors less far (rapid -> stable), or one
    that never does, says nothing."""
    base = _doc(dev)
    new = _doc(plan_for("dev", ONE_WAY_AND_GATE))
    code, out = _check(tmp_path, base, new)
    checks = [line for line in out.splitlines() if line.startswith("- Check before merging:")]
    assert code == 0
    assert any("secrets-vault" in c and "(stack key `keyVault.purgeProtection`): turned on" in c
               and "stays taken" in c for c in checks), checks
    assert any("platform-aks" in c and '"patch" -> "stable" (stack key `cluster.upgradeChannel`)' in c
               and "next planned maintenance window" in c for c in checks), checks
    cluster = _one(new, CLUSTER)
    rapid = copy.deepcopy(new)
    rapid[cluster]["inputs"]["autoUpgradeProfile"]["upgradeChannel"] = "rapid"
    assert not any("upgradeChannel" in c for c in _diff(rapid, new)[0]["checks"].get(cluster, []))
    # stable -> rapid moves a cluster on N-1 to N: the minor moves again (auto-upgrade-cluster.md, the channel table)
    assert any('"stable" -> "rapid"' in c and "moves the minor version (rapid)" in c
               for c in _diff(new, rapid)[0]["checks"].get(cluster, []))
    assert not any("upgradeChannel" in c for c in _diff(new, base)[0]["checks"].get(cluster, []))  # back to patch


def test_a_replaced_gpu_pool_is_deleted_before_it_is_created(tmp_path, dev):
    # pulumi-azure-native's Diff asks for delete-before-replace for any resource whose name it did not generate
    base, new = _doc(dev), _doc(variant("dev-operator"))  # another GPU size and the GPU Operator
    pool = _one(new, "azure-native:containerservice:AgentPool", "gpu-gpu")
    code, out = _check(tmp_path, base, new)
    assert f"Replace: `{plan_diff.short_urn(pool)}` (deleted first, then created: a gap): `vmSize`" in out
    assert code == 0  # a node pool holds no data


def test_postgres_ha_and_retention_change_in_place_but_backup_redundancy_does_not(tmp_path, prod):
    base = _doc(prod)
    server = _one(base, SERVER)
    new = copy.deepcopy(base)
    new[server]["inputs"]["highAvailability"]["mode"] = "Disabled"  # Update-AzPostgreSqlFlexibleServer -HaEnabled
    new[server]["inputs"]["backup"]["backupRetentionDays"] = 7  # ... -BackupRetentionDay
    code, out = _check(tmp_path, base, new)
    assert code == 0 and "efused in place" not in out and "highAvailability.mode" in out
    new[server]["inputs"]["backup"]["geoRedundantBackup"] = "Disabled"  # create-only, nested: an update Azure refuses
    assert not _forces(SERVER, "backup.geoRedundantBackup")
    code, out = _check(tmp_path, base, new)
    assert code == 1 and "`backup.geoRedundantBackup`: " in _refusal_line(out, "postgres-server")


def test_urns_are_printed_as_the_engine_writes_them_and_the_allow_file_takes_either_form(tmp_path, base):
    """Offline plans carry the SDK mock's URNs (a top-level resource under `pulumi:pulumi:Stack$`, a grandchild
    under its parent's type alone); the report prints the engine's (alias.go CreateURN: every ancestor's type, no
    root stack), the URN `pulumi stack --show-urns` and `pulumi state unprotect` take, and an allowance in either
    form counts."""
    new = copy.deepcopy(base)
    rg = _one(base, "azure-native:resources:ResourceGroup", "platform-rg")
    del new[rg]
    engine = "urn:pulumi:dev::aks-llm-platform::azure-native:resources:ResourceGroup::platform-rg"
    assert rg != engine and plan_diff.engine_urns(base)[rg] == engine
    deep = _one(base, "kubernetes:apps/v1:Deployment", "inference-ollama")
    assert "llmplatform:index:InferenceStack$llmplatform:index:OllamaServer$" in plan_diff.engine_urns(base)[deep]
    code, out = _check(tmp_path, base, new)
    assert code == 1 and f"`{engine}`" in out and rg not in out
    allow = tmp_path / plan_diff.ALLOW_FILE
    for entry in (engine, rg):
        allow.write_text(entry + "\n")
        code, out = _check(tmp_path, base, new, "--allow-file", str(allow))
        assert code == 0 and "allow nothing" not in out, entry
    # a reason names the resource it follows as the lines do (the group's move replaces what is in it)
    moved = copy.deepcopy(base)
    moved[rg]["inputs"]["location"] = "northeurope"
    code, out = _check(tmp_path, base, moved, "--allow-stateful")
    assert "names `azure-native:resources:ResourceGroup::platform-rg`, which is replaced" in out
    assert plan_diff.short_urn(rg) not in out


def test_an_allow_file_that_is_not_a_text_file_is_named_without_a_traceback(tmp_path, base, capsys):
    code, _ = _check(tmp_path, base, base, "--allow-file", str(tmp_path))
    assert code == 2 and f"cannot read --allow-file {tmp_path}" in capsys.readouterr().err
    binary = tmp_path / "allow.bin"
    binary.write_bytes(b"\xff\xfe\x00urn")
    code, _ = _check(tmp_path, base, base, "--allow-file", str(binary))
    assert code == 2 and "cannot read --allow-file" in capsys.readouterr().err


def test_the_cost_change_names_what_it_could_not_price(tmp_path):
    for name, unpriced in (("base", []), ("new", ["platform-cpu2: no vm_hourly price for 'Standard_X'"])):
        (tmp_path / name).mkdir()
        (tmp_path / name / "cost.json").write_text(json.dumps({
            "idleMonthly": 100.0, "peakMonthly": 200.0, "byComponent": {}, "unpriced": unpriced}))
    lines = plan_diff.cost_lines(tmp_path / "base", tmp_path / "new")
    assert any("not priced" in line and "Standard_X" in line for line in lines)
    # a size with no price dropped out of the head's figures: the totals are not comparable, so no difference (a
    # larger VM read as a saving in a stranger's try) and no per-component deltas
    assert "not comparable" in lines[0] and "(-" not in lines[0] and "(+" not in lines[0]
    assert "- not priced in the head, so left out of its figures: platform-cpu2: no vm_hourly price for 'Standard_X'" \
        in lines
    assert not any(line.startswith("- platform") or ": idle " in line for line in lines[1:])
    # the same thing unpriced on both sides leaves the figures comparable
    (tmp_path / "base" / "cost.json").write_text((tmp_path / "new" / "cost.json").read_text())
    assert "(+0.00)" in plan_diff.cost_lines(tmp_path / "base", tmp_path / "new")[0]


# ---- damaged plan folders: one line naming the file, exit 2, never a traceback (exit 1 means "blocked") -------------

_JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | unicode_text(max_size=8),
                     lambda inner: st.lists(inner, max_size=3) | st.dictionaries(unicode_text(max_size=8), inner,
                                                                                  max_size=3), max_leaves=6)
_FIELD_PATHS = ["urn", "type", "name", "parent", "inputs", "options", "dependencies", "options.provider",
                "options.aliases", "options.ignoreChanges", "options.replaceOnChanges", "options.protect",
                "options.replaceWith", "options.replacementTrigger", "options.hideDiffs",
                "options.deleteBeforeReplaceDefined", "inputs.size", "secretInputs", "propertyDependencies",
                "propertyDependencies.size"]


def _damaged(index: int, path: str, value: object) -> dict:
    doc = json.loads(json.dumps(_SMALL_PLAN))
    target = doc["resources"][index]
    *parents, last = path.split(".")
    for key in parents:
        target = target[key]
    target[last] = value
    return doc


_SMALL_PLAN = {"resources": [
    {"urn": "urn:pulumi:dev::p::pulumi:pulumi:Stack::p-dev", "type": "pulumi:pulumi:Stack", "name": "p-dev",
     "parent": None, "inputs": {}, "options": {}, "dependencies": [], "propertyDependencies": {}},
    {"urn": "urn:pulumi:dev::p::pulumi:pulumi:Stack$azure-native:storage:FileShare::share",
     "type": "azure-native:storage:FileShare", "name": "share",
     "parent": "urn:pulumi:dev::p::pulumi:pulumi:Stack::p-dev", "inputs": {"size": 100}, "dependencies": [],
     "propertyDependencies": {"size": ["urn:pulumi:dev::p::pulumi:pulumi:Stack::p-dev"]},
     "options": {"protect": True, "aliases": [{"spec": {"name": "old-share", "parentUrn": ""}}],
                 "ignoreChanges": [], "replaceOnChanges": [], "provider": None}}]}


@settings(max_examples=120, deadline=None)
@given(index=st.sampled_from([0, 1]), path=st.sampled_from(_FIELD_PATHS), value=_JSON, side=st.booleans())
def test_a_damaged_plan_file_is_one_line_and_exit_2(tmp_path_factory, index, path, value, side):
    root = tmp_path_factory.mktemp("damaged")
    good, bad = root / "good", root / "bad"
    for folder, doc in ((good, _SMALL_PLAN), (bad, _damaged(index, path, value))):
        folder.mkdir()
        (folder / "resources.json").write_text(json.dumps(doc))
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = plan_diff.main([str(bad), str(good)] if side else [str(good), str(bad)])
    assert code in (0, 1, 2)
    if code == 2:
        assert "cannot read a plan" in err.getvalue() and "resources.json" in err.getvalue(), err.getvalue()


@pytest.mark.parametrize("make", [
    lambda f: (f / "resources.json").mkdir(),
    lambda f: (f / "resources.json").write_text("[" * 100_000 + "]" * 100_000),
    lambda f: (f / "resources.json").write_bytes(b"\xff\xfe{}"),
    lambda f: (f / "resources.json").write_text('{"resources": [{"urn": "x", "inputs": {}, "options": {}}]}'),
    lambda f: (f / "resources.json").write_text(json.dumps({"resources": [
        {"urn": "urn:pulumi:d::p::t::a", "parent": "urn:pulumi:d::p::t::b", "inputs": {}, "options": {}},
        {"urn": "urn:pulumi:d::p::t::b", "parent": "urn:pulumi:d::p::t::a", "inputs": {}, "options": {}}]})),
    lambda f: ((f / "resources.json").write_text(json.dumps({"resources": STACK_ONLY})), (f / "cost.json").mkdir()),
    lambda f: ((f / "resources.json").write_text(json.dumps({"resources": STACK_ONLY})),
               (f / "cost.json").write_text('{"idleMonthly": "much", "peakMonthly": 1}')),
    lambda f: (f / "resources.json").write_text(json.dumps({"resources": [
        {"urn": "urn:pulumi:d::p::kubernetes:x::a", "type": "kubernetes:x", "inputs": {}, "options": {}}]})),
    lambda f: ((f / "resources.json").write_text(json.dumps({"resources": STACK_ONLY})),
               (f / "cost.json").write_text('{"idleMonthly": 1, "peakMonthly": 2, "unpriced": [{"x": 1}]}')),
    lambda f: (f / "resources.json").write_text(json.dumps({"resources": [
        {"urn": "urn:pulumi:d::p::t:m:T::a", "inputs": {"x": json.loads("[" * 600 + "]" * 600)}, "options": {}}]})),
    lambda f: (f / "resources.json").write_text(json.dumps({"resources": [
        {"urn": f"urn:pulumi:d::p::t:m:T::r{i}", "parent": f"urn:pulumi:d::p::t:m:T::r{i + 1}" if i < 1200 else None,
         "inputs": {}, "options": {}} for i in range(1201)]})),
    lambda f: (f / "resources.json").write_text(json.dumps({"resources": [
        {"urn": "urn:pulumi:d::p::t:m:T::a", "inputs": {}, "options": {},
         "propertyDependencies": {"location": "urn:pulumi:d::p::t:m:T::b"}}]})),
], ids=["folder", "deep", "not-utf8", "urn", "parent-cycle", "cost-folder", "cost-text", "type", "cost-unpriced",
        "deep-inputs", "long-parent-chain", "property-dependencies"])
def test_an_unreadable_plan_file_is_named(tmp_path, capsys, make):
    good, bad = _plan_dir(tmp_path, "good", STACK_ONLY), tmp_path / "bad"
    bad.mkdir()
    make(bad)
    (good / "cost.json").write_text('{"idleMonthly": 1, "peakMonthly": 2}')
    assert plan_diff.main([str(good), str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"cannot read a plan: {bad}/") and "Traceback" not in err, err


def test_a_one_number_kubernetes_version_is_diffed_without_a_crash(tmp_path, capsys):
    def cluster(version):
        return {"urn": "urn:pulumi:d::p::azure-native:containerservice:ManagedCluster::aks",
                "inputs": {"kubernetesVersion": version}, "options": {}}
    base, new = _plan_dir(tmp_path, "base", [cluster("1")]), _plan_dir(tmp_path, "new", [cluster("1.31")])
    assert plan_diff.main([str(base), str(new)]) in (0, 1)
    assert "Traceback" not in capsys.readouterr().err


def test_an_allow_file_that_does_not_exist_is_said(tmp_path, capsys):
    folder = _plan_dir(tmp_path, "p", STACK_ONLY)
    assert plan_diff.main([str(folder), str(folder), "--allow-file", str(tmp_path / "alow-replace.txt")]) == 0
    assert "alow-replace.txt does not exist, so nothing is allowed" in capsys.readouterr().err


def test_a_gpu_pools_driver_cannot_change_in_place(tmp_path, dev):
    """`gpu.driver` aks <-> operator changes the pool's `gpuProfile.driver`, which AKS fixes when it creates the pool
    (hashicorp/terraform-provider-azurerm makes `gpu_driver` ForceNew; Azure/azure-cli#32531: AKS takes it on update
    only from a pool carrying the retired SkipGPUDriverInstall tag). pulumi-azure-native does not replace on it, so
    the update reaches AKS, which refuses it: blocked, naming the stack key and the way out (a new pool name)."""
    base = _doc(dev)
    line = _refused_in_place(tmp_path, base, ("dev", {"gpu": {"driver": "operator"}}),
                             "azure-native:containerservice:AgentPool", "gpu-gpu", "gpuProfile.driver")
    assert "gpu.driver" in line and "gpu.poolName" in line
    renamed = _doc(plan_for("dev", {"gpu": {"driver": "operator", "poolName": "gpuop"}}))
    code, out = _check(tmp_path, base, renamed)  # the way out: a new pool, the old one deleted
    assert code == 0 and "refused in place" not in out
    # the device plugin's egress guard and the Operator's are two objects in two namespaces, not one renamed
    guards = [line for line in out.splitlines() if line.startswith("- Delete:") and "egress-guard" in line]
    assert guards and not any("URN changed" in line for line in guards), guards


def _switch_line(out: str, release: str) -> str:
    lines = [line for line in out.splitlines() if line.startswith("- Check before merging:") and release in line
             and "the GPU driver changes" in line]
    assert len(lines) == 1, out
    return lines[0]


def test_a_driver_switch_with_new_pools_says_what_runs_on_the_old_and_new_nodes_until_the_up_ends(tmp_path, dev):
    """The way out above (a new pool name with the new driver) passed with nothing to check, though one `pulumi up`
    installs the new device software while the old pools, their nodes and the old release stay until its end: the
    GPU Operator serves every node with an NVIDIA device unless labelled `nvidia.com/gpu.deploy.operands=false`
    (NVIDIA/gpu-operator v26.7.0, 10ee5b36, controllers/state_manager.go `hasOperandsDisabled`), and the device
    plugin chart selects every GPU node; GpuNodePool refuses the two on one cluster for good. Each direction is a check naming
    what to do; a resize under a new name (no switch) is not."""
    base = _doc(dev)
    operator = _doc(plan_for("dev", {"gpu": {"driver": "operator", "poolName": "gpuop"}}))
    code, out = _check(tmp_path, base, operator)
    line = _switch_line(out, "Release::platform-k8s-gpu-operator")
    assert code == 0 and "AgentPool::gpu-gpu`" in line and "Release::platform-k8s-device-plugin`" in line
    assert "`kubectl label nodes -l 'kubernetes.azure.com/agentpool in (gpu)' nvidia.com/gpu.deploy.operands=false`" \
        in line
    # every operand the label keeps off, the MIG manager with its default `all-disabled` (MIG mode off) on MIG-capable
    # GPUs among them (gpu-operator v26.7.0 nodelabeling_controller.go, assets/state-mig-manager), and NFD's worker,
    # no operand, which the label leaves running: the line named four operands and "keep the Operator off"
    assert "MIG manager" in line and "`all-disabled`" in line and "GPU feature discovery" in line, line
    assert "node-feature-discovery worker" in line and "keep the Operator off" not in line, line
    code, out = _check(tmp_path, operator, base)  # and back: operator -> aks
    line = _switch_line(out, "Release::platform-k8s-device-plugin")
    assert code == 0 and "AgentPool::gpu-gpuop`" in line and "two device plugins offer `nvidia.com/gpu`" in line
    assert "MIG manager" in line and "migManager" not in line, line  # no MIG pool among the new ones: no patch
    # new pools AKS partitions (`gpu.migProfile`: `gpuInstanceProfile`, here set on dev's pool in the document): the
    # Operator's MIG manager, meanwhile on their nodes, sets out to turn MIG mode off (its default `all-disabled` for
    # a node no `nvidia.com/mig.config` names a configuration: gpu-operator v26.7.0 nodelabeling_controller.go)
    pool = next(u for u, r in base.items() if r["type"] == "azure-native:containerservice:AgentPool"
                and r["inputs"].get("gpuProfile"))
    mig = {**base, pool: {**base[pool], "inputs": {**base[pool]["inputs"], "gpuInstanceProfile": "MIG1g"}}}
    line = _switch_line(_check(tmp_path, operator, mig)[1], "Release::platform-k8s-device-plugin")
    assert "MIG pools (`MIG1g`)" in line and ("`kubectl patch clusterpolicies.nvidia.com cluster-policy --type merge "
                                             "-p '{\"spec\":{\"migManager\":{\"enabled\":false}}}'`") in line, line
    in_place = _doc(plan_for("dev", {"gpu": {"driver": "operator"}}))  # the pools kept: refused, nothing to add
    assert not [c for cs in plan_diff.diff_documents(base, in_place)["checks"].values() for c in cs
                if "GPU driver" in c]
    resized = _doc(plan_for("prod", {"gpu": {"vmSize": "Standard_NC48ads_A100_v4", "poolName": "gpu2"}}))
    assert not [c for cs in plan_diff.diff_documents(_doc(plan_for("prod")), resized)["checks"].values() for c in cs
                if "GPU driver" in c]
    from tests.conftest import PROJECT_DIR  # the procedure the line points to says the same
    text = " ".join((PROJECT_DIR / "docs" / "operations.md").read_text().split("### Scaling node pools")[1]
                    .split("\n### ")[0].split())
    assert "nvidia.com/gpu.deploy.operands=false" in text and "rollout restart daemonset" in text
    assert "MIG manager" in text


def test_a_prometheus_storage_change_asks_for_the_claims_to_be_resized_by_hand(tmp_path, prod):
    """`observability.prometheusStorageGib` reaches kube-prometheus-stack's volumeClaimTemplate, which the Prometheus
    Operator puts on a new StatefulSet: the existing claims keep their size (prometheus-operator.dev, Storage,
    "Resizing volumes": patch each claim). The update is Pulumi's and harmless, but changes no volume: a check line."""
    base = _doc(prod)
    release = _one(base, "kubernetes:helm.sh/v3:Release", "observability-kube-prometheus-stack")
    new = copy.deepcopy(base)
    spec = new[release]["inputs"]["values"]["prometheus"]["prometheusSpec"]["storageSpec"]["volumeClaimTemplate"]
    spec["spec"]["resources"]["requests"]["storage"] = "400Gi"
    code, out = _check(tmp_path, base, new)
    line = next(line for line in out.splitlines() if line.startswith("- Check before merging:")
                and "observability-kube-prometheus-stack" in line)
    assert code == 0 and "observability.prometheusStorageGib" in line and "Resizing volumes" in line


def test_a_new_range_for_a_subnet_that_holds_resources_is_refused_in_place(tmp_path, prod):
    """`network.postgresSubnetCidr` moves the PostgreSQL subnet's `addressPrefix`, an in-place update for Pulumi;
    Azure changes a subnet's range only while nothing is in it (azure-docs virtual-network-manage-subnet.md), and the
    server is: blocked, naming the stack keys to keep. A stranger's day-2 review found it reported as an update."""
    line = _refused_in_place(tmp_path, _doc(prod), ("prod", {"network": {"postgresSubnetCidr": "10.40.18.0/24"}}),
                             "azure-native:network:Subnet", "platform-postgres", "addressPrefix")
    assert "network.postgresSubnetCidr" in line


def _refused_in_place(tmp_path, base: dict, change: tuple, type_: str, name: str, path: str) -> str:
    """The check's refusal line for the stack edit `change` (stack, overrides), which changes `path` of `name`: an
    update for Pulumi (no force-new rule covers it) that the cloud refuses, so the check exits 1."""
    new = _doc(plan_for(*change))
    urn = _one(new, type_, name)
    top = path.split(".", 1)[0]
    assert base[urn]["inputs"][top] != new[urn]["inputs"][top]
    assert not _forces(type_, path)  # an update for Pulumi...
    code, out = _check(tmp_path, base, new)
    line = _refusal_line(out, name)  # ...that the cloud refuses
    assert code == 1 and f"`{path}`" in line, line
    return line


def test_the_cpu_pool_leaving_spot_names_one_way_out_for_each_setting_it_carries(tmp_path, dev):
    """A spot CPU pool made regular changes its priority, its -1 highest price and its eviction policy, all fixed
    at creation: one blocked line whose reasons each name the CPU pool's own keys and the same way out."""
    regular = _doc(plan_for("dev", {"cluster": {"workloadPool": {"priority": "regular"}}}))  # dev's is spot
    code, out = _check(tmp_path, _doc(dev), regular)
    line = _refusal_line(out, "platform-cpu")
    reasons = [r for r in line.split("; ") if "AKS" in r]
    assert code == 1
    assert all(path in line for path in ("`scaleSetPriority`", "`spotMaxPrice`", "`scaleSetEvictionPolicy`"))
    assert line.count("give the pool a new name (cluster.workloadPool.name)") == 3, reasons
    assert "add a pool of the other priority" not in line and "(gpu.poolName) so" not in line


def test_a_gate_config_change_replaces_its_config_map_without_a_gap(tmp_path, dev):
    """pulumi-kubernetes replaces a ConfigMap whose data changes; under one fixed name it deletes the old one first,
    so a gate pod starting in between found no nginx.conf. Named after its content, the new one is created first."""
    base, new = _doc(dev), _doc(plan_for("dev", ONE_WAY_AND_GATE))  # the vault and cluster edits touch no gate
    config = _one(new, "kubernetes:core/v1:ConfigMap", "inference-router-config")
    code, out = _check(tmp_path, base, new)
    line = next(l for l in out.splitlines() if plan_diff.short_urn(config) in l and l.startswith("- Replace"))
    assert "a gap" not in line and "metadata.name" in line, line
    assert code == 0


# One global plan for two tests' edits, each reading resources the other's edit leaves alone (a plan of a global stack
# is a whole-stack run): Fleet's profile and strategy, a new API key and the regions' key secrets.
FLEET_AND_KEY = {"global": {"fleet": {"nodeImageSelection": "Latest", "waitBetweenRegionsSeconds": 600},
                            "apiKeys": ["clients-2026-11", "clients-2027-05"]}}


def test_fleet_settings_the_spec_makes_create_only_replace_their_resource(tmp_path, global_plan):
    """Fleet Manager's REST spec (2024-05-02-preview, the SDK's version) makes an auto-upgrade profile's channel,
    node image selection, strategy and switch, and a member's cluster, [read, create]; flattened, they are top-level
    force-new in pulumi-azure-native: `global.fleet.nodeImageSelection` and a region's new cluster were read as
    updates, which Azure refuses. Named, each is deleted first; the update strategy's stages stay an update."""
    base = _doc(global_plan)
    new = _doc(plan_for("global", FLEET_AND_KEY))  # the new key touches no Fleet resource
    profile = _one(new, "azure-native:containerservice:AutoUpgradeProfile")
    strategy = _one(new, "azure-native:containerservice:FleetUpdateStrategy")
    result, blocked = _diff(base, new)
    assert result["replaced"] == {profile: ["`nodeImageSelection.type` (force-new in pulumi-azure-native)"]}
    assert profile in result["deleteBeforeReplace"] and strategy in result["changed"] and not blocked
    member = _one(base, "azure-native:containerservice:FleetMember", "fleet-westeurope")
    moved = copy.deepcopy(base)  # the region's cluster is a new one (another prefix: another resource ID)
    moved[member]["inputs"]["clusterResourceId"] = base[member]["inputs"]["clusterResourceId"].replace("llmweu", "weu2")
    code, out = _check(tmp_path, base, moved)
    assert code == 0 and (f"Replace: `{plan_diff.short_urn(member)}` (deleted first, then created: a gap): "
                          "`clusterResourceId` (force-new in pulumi-azure-native)") in out


def test_the_front_door_tier_replaces_the_profile_and_everything_under_it(tmp_path):
    """`global.frontDoor.sku` (Standard -> Premium in a staging global stack; prod takes Premium only) is the
    profile's `sku.name`: no x-ms-mutability in the cdn 2025-06-01 spec, but force-new by replacement.go's forceNewMap
    (Cdn.Profile "name", pulumi-azure-native #2230: Azure refuses to change a profile's sku). It was read as an
    update. Named, the profile is deleted first and every endpoint, origin group, origin, route and security policy
    naming it goes with it; the new profile's Front Door ID is not the one the regions admit: blocked as stateful.
    The WAF policy's tier has no annotation and no map entry, so pulumi-azure-native would PUT it in place, which
    Azure refuses (terraform's `sku_name` is ForceNew; ARM: "'WebApplicationFirewallPolicy.sku' is read-only"): the
    program replaces the policy (replaceOnChanges), deleted first; without that option the check refuses it."""
    staging = {"environment": "staging"}
    new = _doc(plan_for("global", staging))
    profile, waf = _one(new, PROFILE), _one(new, "azure-native:frontdoor:Policy")
    # the same stack on Standard: a stack named `global` is prod to the policy pack, so the config refuses Standard
    # there (no managed rule set: waf-on-and-blocking-in-prod); a staging global stack of another name plans it, and
    # the tier is the only input that differs (the Standard policy carries no managedRules)
    base = copy.deepcopy(new)
    for urn in (profile, waf):
        base[urn]["inputs"]["sku"]["name"] = "Standard_AzureFrontDoor"
    base[waf]["inputs"].pop("managedRules")
    result, blocked = _diff(base, new)
    assert result["replaced"][profile] == ["`sku.name` (force-new in pulumi-azure-native)"]
    under = {u for u, r in new.items() if r["type"].startswith("azure-native:cdn:") and u != profile}
    assert len(under) == 10 and under <= set(result["replaced"])  # endpoint, 2 groups, 4 origins, 2 routes, WAF link
    assert result["replaced"][waf] == ["`sku.name` (its replaceOnChanges)"] and waf not in result["refused"]
    # the WAF policy's name is fixed too; the profile's diagnostic setting names it by its id, so it goes first too
    setting = _one(new, "azure-native:monitor:DiagnosticSetting")
    assert set(result["deleteBeforeReplace"]) == under | {profile, waf, setting}
    # a new Front Door ID: each region admits the old one only; the endpoint's host name goes down with it (a
    # same-named endpoint gets its label back in the tenant, Front Door's "Endpoint domain names", TenantReuse)
    assert [urn for urn, _ in blocked] == [_one(new, "azure-native:cdn:AFDEndpoint"), profile]
    assert _check(tmp_path, base, new)[0] == 1 and _check(tmp_path, base, new, "--allow-stateful")[0] == 0
    in_place = copy.deepcopy(new)  # the policy as an update, what pulumi-azure-native alone would send
    in_place[waf]["options"]["replaceOnChanges"] = []
    code, out = _check(tmp_path, base, in_place, "--allow-stateful")
    line = _refusal_line(out, new[waf]["name"])
    assert code == 1 and "`sku.name`" in line and "read-only" in line, line


def test_a_public_cluster_cannot_become_private_in_place(tmp_path):
    """`cluster.apiAccess.mode` public/authorizedIps -> private flips `apiServerAccessProfile.enablePrivateCluster`:
    nested, so an update for Pulumi; AKS toggles private mode only on a cluster with API Server VNet Integration,
    which the platform's are not (MicrosoftDocs/azure-aks-docs private-clusters.md). Authorized ranges: an update."""
    base = _doc(plan_for("prod-westeurope"))
    line = _refused_in_place(tmp_path, base, ("prod-westeurope", {"cluster": {"apiAccess": {
        "mode": "private", "authorizedIpRanges": []}}}),
                             CLUSTER, "platform-aks", "apiServerAccessProfile.enablePrivateCluster")
    assert "cluster.apiAccess.mode" in line and "API Server VNet Integration" in line
    ranges = _doc(plan_for("prod-westeurope", {"cluster": {"apiAccess": {
        "authorizedIpRanges": ["203.0.113.0/24", "198.51.100.0/24"]}}}))
    assert _check(tmp_path, base, ranges)[0] == 0


def test_a_new_urn_for_a_named_object_fails_its_create_while_the_old_one_exists(tmp_path, base):
    """Pulumi creates what is new during the update and deletes what the program dropped at its end, so a named
    object under a new URN (renamed or re-parented without an alias, or a custom kind's new version: one object in
    the API server) is created while the old one exists: pulumi-kubernetes 4.29+ gets AlreadyExists (no upsert
    without the provider's upsertExistingObjects), pulumi-azure-native refuses an existing resource (CanCreate), Helm
    a release name in use. The check said "deletes it and creates the new one" and passed; another name or namespace
    is no conflict."""
    deployment = _one(base, "kubernetes:apps/v1:Deployment", "inference-ollama")
    scaler = next(u for u, r in base.items() if r["type"] == "kubernetes:keda.sh/v1alpha1:ScaledObject")
    pool = _one(base, "azure-native:containerservice:AgentPool", "gpu-gpu")
    release = _one(base, "kubernetes:helm.sh/v3:Release", "observability-keda")  # helm install: name in use
    renames = ((deployment, "::inference-ollama", "::ollama"), (scaler, "v1alpha1", "v1beta1"),
               (pool, "::gpu-gpu", "::gpu-pool"), (release, "::observability-keda", "::keda"))
    new = copy.deepcopy(base)
    for urn, old, now in renames:
        moved = new.pop(urn)
        moved["urn"], moved["type"] = urn.replace(old, now), moved["type"].replace(old, now)
        moved["name"] = moved["urn"].rsplit("::", 1)[1]
        new[moved["urn"]] = moved
    code, out = _check(tmp_path, base, new)
    for urn, old, now in renames:
        line = _refusal_line(out, urn.replace(old, now).rsplit("::", 1)[1])
        assert f"`{plan_diff.short_urn(urn)}`, which the program no longer declares" in line and "alias" in line
    assert code == 1 and "AlreadyExists" in out
    elsewhere = copy.deepcopy(new)  # the renamed Deployment in another namespace: a second object, created first
    renamed = deployment.replace("::inference-ollama", "::ollama")
    elsewhere[renamed]["inputs"]["metadata"]["namespace"] = "other"
    result, _ = _diff(base, elsewhere)
    assert renamed not in result["refused"] and renamed in result["added"]


def test_a_new_api_key_says_what_takes_it_up(tmp_path, global_plan):
    """A key added to `global.apiKeys` (the rotation's first step) is a RandomPassword added; the regional secrets
    it feeds (each region's key map and newest key) change where the plan shows only `[secret]`. Each says so on a
    check line: the key map, that the gates load it by themselves (their key-map reloader); the newest key, that
    nothing of the platform mounts it; dropping the key again says the same."""
    base = _doc(global_plan)
    rotated = _doc(plan_for("global", FLEET_AND_KEY))  # the Fleet edits touch no key or secret
    key = _one(rotated, "random:index/randomPassword:RandomPassword", "edge-api-key-clients-2027-05")
    secrets = sorted(u for u, r in base.items() if r["type"] == "azure-native:keyvault:Secret"
                     and r["inputs"]["secretName"] in ("edge-api-key", "edge-api-key-map"))
    assert len(secrets) == 4  # two regions
    for old, new in ((base, rotated), (rotated, base)):
        result = _diff(old, new)[0]
        assert key in result["added"] + result["removed"]
        assert {u for u, lines in result["checks"].items() if any("API gate" in line for line in lines)} == set(
            secrets)
        assert all(plan_diff.short_urn(key) in result["checks"][u][0] for u in secrets)
        for u in secrets:
            key_map = base[u]["inputs"]["secretName"] == "edge-api-key-map"
            assert ("that mounts it loads again by itself" in result["checks"][u][0]) is key_map, result["checks"][u][0]
            # the newest key: no pod of the platform mounts it (docs/operations.md: nothing to restart)
            assert ("nothing to restart" in result["checks"][u][0]) is not key_map, result["checks"][u][0]
    assert not _diff(base, base)[0]["checks"]


def test_a_key_name_replaced_in_global_api_keys_is_told_as_a_new_value_for_every_client(tmp_path, global_plan):
    """`global.apiKeys` [clients-2026-11] -> [clients-2027-05] in one pull request: the old key's RandomPassword
    goes and the new one, of the same inputs, generates its own value at its create. The diff paired the two as a
    URN change and said "renamed or re-parented" on a "deleted" line, as if the key lived on under a new name: it
    says what happens, a new value replaces the old one and its clients need it, and still blocks until allowed."""
    base = _doc(global_plan)
    swapped = _doc(plan_for("global", {"global": {"apiKeys": ["clients-2027-05"]}}))
    old, new = (plan_diff.short_urn(_one(doc, PASSWORD, f"edge-api-key-{name}"))
                for doc, name in ((base, "clients-2026-11"), (swapped, "clients-2027-05")))
    code, out = _check(tmp_path, base, swapped)
    blocked = next(line for line in out.splitlines() if line.startswith(f"- :x: `{old}`"))
    delete = next(line for line in out.splitlines() if line.startswith(f"- Delete: `{old}`"))
    assert code == 1 and f"replaced by `{new}` with a new value: {NEW_VALUE[PASSWORD]}" in blocked, blocked
    assert f"`{new}` (another name or parent) replaces it with a new generated value" in delete, delete
    assert "a new value replaces this one and whoever holds it (an API key's clients) must get the new value" in \
        delete and "renamed" not in delete, delete
    assert _check(tmp_path, base, swapped, "--allow-stateful")[0] == 0


def test_a_secret_written_after_a_new_one_or_a_new_endpoint_gets_no_restart_line(base):
    """Secrets depend on the vault's private endpoint and on the secret written before them (one vault takes one
    write at a time): an Open-WebUI admin password (webui.adminEmail, which the plan advises) or a private vault adds
    one, and the secrets after it change no value, so no check line says they come from it."""
    new = _doc(plan_for("dev", {"webui": {"adminEmail": "ops@example.com"},
                                "keyVault": {"publicNetworkAccess": False}}))
    result = _diff(base, new)[0]
    added = {new[u]["type"] for u in result["added"]}
    assert {"azure-native:keyvault:Secret", "azure-native:network:PrivateEndpoint"} <= added
    secrets = [u for u in base if base[u]["type"] == "azure-native:keyvault:Secret"]
    assert all(set(new[u]["dependencies"]) & set(result["added"]) for u in secrets)  # each waits for one added
    assert not [u for u in secrets if u in result["checks"]], {u: result["checks"][u] for u in secrets
                                                                if u in result["checks"]}


def test_a_dropped_region_says_its_key_secrets_keep_their_names(tmp_path, global_plan):
    """Dropping a region from `global.regions` drops the API-key secrets the global stack wrote into that region's
    Key Vault. They are retained on delete (pulumi-azure-native deletes a secret through the vault's data plane,
    which the vault refuses the deployer), so the engine leaves them in the vault: told on the Delete line, with
    what it means for adding the region back, and no data-plane check. A base whose state did not retain them (the
    release before) gets the check: its delete is a 403."""
    base, new = _doc(global_plan), _doc(plan_for("global", {"global": {"regions": ["prod-westeurope"]}}))
    code, out = _check(tmp_path, base, new)
    deleted = [line for line in out.splitlines() if line.startswith("- Delete:") and "azure-native:keyvault:Secret::"
               in line]
    assert code == 0 and len(deleted) == 2 and all("retained on delete" in line and "pulumi import" in line
                                                   for line in deleted)
    assert "a call to the vault itself" not in out
    base = {urn: {**r, "options": {**r["options"], "retainOnDelete": False}}  # as the release before wrote it
            for urn, r in base.items()}
    code, out = _check(tmp_path, base, new)
    told = [line for line in out.splitlines() if "a call to the vault itself" in line]
    assert len(told) == 2 and all("403" in line for line in told), out


def test_a_secret_delete_is_a_vault_call_only_when_the_engine_calls_delete(base):
    """The engine calls the provider's Delete for a removed resource by the old state's options (pulumi/pulumi
    1b5949891b step.go `DeleteStep.Apply`): a protected one's delete is refused before any call
    (`deleteProtectedError`), and one `deletedWith` a resource deleted in the same run is skipped (`isDeletedWith`);
    only the rest reach the vault's data plane, and the protected one once its `protect` is lifted (told so). Old
    state as the release before wrote it (not retained)."""
    old = {u: {**r, "options": {**r["options"], "retainOnDelete": False}} for u, r in base.items()}
    secrets = sorted(u for u, r in old.items() if r["type"] == "azure-native:keyvault:Secret")
    protected, follower, leader, kept_with = secrets[:4]
    vault = _one(old, "azure-native:keyvault:Vault")
    old[protected]["options"]["protect"] = True
    old[follower]["options"]["deletedWith"] = leader  # both go in this run: the leader's delete takes it
    old[kept_with]["options"]["deletedWith"] = vault  # the vault stays: its own delete is called
    new = {u: r for u, r in base.items() if u not in secrets[:4]}
    result = plan_diff.diff_documents(old, new)
    told = {u for u, lines in result["checks"].items() if DATA_PLANE_CHECK in lines}
    assert told == {leader, kept_with}
    assert result["checks"][protected] == [PROTECTED_DATA_PLANE_CHECK] and follower not in result["checks"]


def test_a_replaced_secret_s_delete_is_refused_first_only_while_the_program_protects_it_too(base):
    """A replacement's delete is refused only while the program protects the resource too (pulumi/pulumi 1b5949891b
    step_generator.go: `new.Protect && old.Protect`): a secret renamed (a new Azure id, so replaced) with `protect`
    on both sides is told the vault call once `protect` is lifted; one the program stops protecting in the same
    change has its delete called in this run, the vault's 403 with it."""
    old = {u: {**r, "options": {**r["options"], "retainOnDelete": False, "protect": True}} for u, r in base.items()}
    secret = sorted(u for u, r in old.items() if r["type"] == "azure-native:keyvault:Secret")[0]
    for protect, check in ((True, PROTECTED_DATA_PLANE_CHECK), (False, DATA_PLANE_CHECK)):
        new = copy.deepcopy(old)
        new[secret]["inputs"]["secretName"] += "-2"
        new[secret]["options"]["protect"] = protect
        result = plan_diff.diff_documents(old, new)
        assert secret in result["replaced"] and result["checks"].get(secret) == [check], (protect, result["checks"])


def test_a_protected_secret_s_delete_is_told_as_the_vault_call_it_is_once_protect_is_lifted(tmp_path):
    """prod with the UI turned off drops the PostgreSQL server and its Key Vault secrets, which a state of 0.21.0 (the
    release before, docs/decisions.md 2026-12-06) protects and does not retain. `pulumi up` stops on `protect` first
    (step.go `deleteProtectedError`); the Protected line says to lift it (`pulumi state unprotect`, which no plan
    shows), and then the engine calls the delete, a 403 from the vault: the check says so on each secret, as it does
    for one the state does not protect."""
    base = {u: {**r, "options": {**r["options"], "retainOnDelete": False}} for u, r in _doc(plan_for("prod")).items()}
    new = _doc(plan_for("prod", {"webui": {"enabled": False}}))
    result = plan_diff.diff_documents(base, new)
    secrets = sorted(u for u in result["removed"] if base[u]["type"] == "azure-native:keyvault:Secret")
    assert secrets and all(base[u]["options"]["protect"] for u in secrets)
    assert set(secrets) <= set(result["protected"])
    assert all(result["checks"].get(u) == [PROTECTED_DATA_PLANE_CHECK] for u in secrets), result["checks"]
    code, out = _check(tmp_path, base, new, "--allow-stateful")
    told = [line for line in out.splitlines() if line.startswith("- Check before merging:")
            and ": once its `protect` is lifted" in line and "(403: network rules, no data-plane role)" in line]
    assert sorted(line.split("`")[1].rsplit("::", 1)[1] for line in told) == sorted(base[u]["name"]
                                                                                 for u in secrets), out
    assert "Protected (`pulumi up` stops here until `protect` is lifted)" in out
    unprotected = {u: {**r, "options": {**r["options"], "protect": False}} for u, r in base.items()}
    assert all(plan_diff.diff_documents(unprotected, new)["checks"].get(u) == [DATA_PLANE_CHECK] for u in secrets)


def test_a_retained_object_replaced_under_its_own_name_is_refused_even_deleted_first(base):
    """Retained on delete, the old object gets no Delete, deleteBeforeReplace or not (step.go `DeleteStep.Apply`),
    so a replacement keeping its name creates it while it exists: pulumi-azure-native's Create refuses an existing
    resource ("cannot create already existing resource", its CanCreate GET)."""
    new = copy.deepcopy(base)
    urn = next(u for u, r in sorted(new.items()) if r["type"] == "azure-native:keyvault:Secret")
    assert base[urn]["options"]["retainOnDelete"] is True  # as llmplatform.key_vault.vault_secret writes it
    new[urn]["inputs"]["contentType"] = "text/other"
    new[urn]["options"].update(replaceOnChanges=["contentType"], deleteBeforeReplace=True)
    result, blocked = _diff(base, new)
    assert urn in result["replaced"] and urn in result["deleteBeforeReplace"]
    assert urn in {u for u, _ in blocked}


def test_a_retained_secret_replaced_under_another_name_says_the_old_one_stays(base):
    """Replaced under a new name, a retained secret's old object gets no Delete either (step.go `DeleteStep.Apply`):
    it stays in the vault, readable by the grants still on it, which the Replace line says; a secret not retained
    (the release before) says nothing of the kind."""
    new = copy.deepcopy(base)
    urn = next(u for u, r in sorted(new.items()) if r["type"] == "azure-native:keyvault:Secret")
    new[urn]["inputs"]["secretName"] += "-v2"
    result, _ = _diff(base, new)
    assert urn in result["replaced"] and urn not in result["refused"]
    line = next(x for x in plan_diff.markdown(result, "t", []).splitlines() if x.startswith("- Replace:") and
                plan_diff.short_urn(urn) in x)
    assert "the old one, under its old name, is retained on delete" in line
    old = {u: {**r, "options": {**r["options"], "retainOnDelete": False}} for u, r in base.items()}
    assert not plan_diff.diff_documents(old, new)["notes"].get(urn)


def test_a_job_deleted_first_by_its_option_stays_so_when_a_new_cluster_replaces_it(tmp_path, dev):
    """The engine puts a resource's deleteBeforeReplace option over the provider's answer, and a replacement its
    replaced provider causes is no exception (pulumi/pulumi step_generator.go: `if goal.DeleteBeforeReplace != nil`
    after the provider-change diff): the model preload Job carries the option. A cluster replaced under its own name
    is deleted first, and takes its Kubernetes provider and every object on it down before itself
    (`calculateDependentReplacements`), so the other objects are deleted first too; a provider replaced on its own
    (another clusterIdentifier) has its objects created first."""
    new = _doc(plan_for("dev", {"cluster": {"networkPolicy": "calico"}}))  # networkProfile: the cluster is replaced
    result, _ = _diff(_doc(dev), new)
    job = _one(new, "kubernetes:batch/v1:Job", "models-preload")
    deployment = _one(new, "kubernetes:apps/v1:Deployment", "inference-ollama")
    assert _one(new, CLUSTER) in result["replaced"] and new[job]["options"]["deleteBeforeReplace"] is True
    assert job in result["deleteBeforeReplace"] and deployment in result["replaced"]
    assert {_one(new, CLUSTER), _one(new, "pulumi:providers:kubernetes"), deployment} <= set(
        result["deleteBeforeReplace"])
    other = copy.deepcopy(_doc(dev))
    other[_one(other, "pulumi:providers:kubernetes")]["inputs"]["clusterIdentifier"] = "another-cluster"
    alone = plan_diff.diff_documents(_doc(dev), other)
    assert deployment in alone["replaced"] and deployment not in alone["deleteBeforeReplace"]
    lines = plan_diff.markdown(result, "t", []).splitlines()
    assert any(line.startswith(f"- Replace: `{plan_diff.short_urn(job)}` (deleted first, then run again):")
               for line in lines)  # a run-once Job leaves no gap a reader should weigh


def test_a_replacement_only_replace_on_changes_asks_for_is_created_first_and_collides_under_one_name(tmp_path, dev):
    """Both providers answer deleteBeforeReplace only for replacements their own Diff finds, and the engine keeps that
    answer when `replaceOnChanges` adds its keys (pulumi/pulumi step_generator.go applyReplaceOnChanges): a named
    object replaced for the option alone is created while the old one holds its name, and its create fails."""
    base = _doc(dev)
    new = copy.deepcopy(base)
    urn = _one(new, "kubernetes:apps/v1:Deployment", "inference-ollama")
    assert not any(plan_diff.under("spec.template", key) for key in RULES["kubernetes"]["always"]
                   + RULES["kubernetes"]["kinds"]["apps/v1/Deployment"])  # an update to pulumi-kubernetes
    new[urn]["options"]["replaceOnChanges"] = ["spec.template"]
    new[urn]["inputs"]["spec"]["template"]["metadata"].setdefault("annotations", {})["rollout"] = "2"
    code, out = _check(tmp_path, base, new)
    short = plan_diff.short_urn(plan_diff.engine_urns(new)[urn])  # as printed: the engine's type chain
    replace = next(line for line in out.splitlines() if line.startswith(f"- Replace: `{short}`"))
    assert "deleted first" not in replace and "replaceOnChanges" in replace
    assert code == 1 and "its replacement fails" in _refusal_line(out, short.split("::")[-1])
    new[urn]["options"]["deleteBeforeReplace"] = True  # the way out the line names
    code, out = _check(tmp_path, base, new)
    assert code == 0 and f"- Replace: `{short}` (deleted first, then created: a gap)" in out


def test_a_helm_release_replaced_for_replace_on_changes_alone_names_helms_own_refusal(tmp_path, dev):
    """pulumi-kubernetes' Release Diff answers `DeleteBeforeReplace: false` always (helm_release.go at 9497796), so a
    release replaced for `replaceOnChanges` under its own name is installed again while it exists: Helm refuses
    the name, not the API server with AlreadyExists; the refusal says so."""
    base = _doc(dev)
    new = copy.deepcopy(base)
    urn = _one(new, "kubernetes:helm.sh/v3:Release", "observability-kube-prometheus-stack")
    new[urn]["options"]["replaceOnChanges"] = ["values"]
    new[urn]["inputs"]["values"]["grafana"]["persistence"]["size"] = "50Gi"
    code, out = _check(tmp_path, base, new)
    line = _refusal_line(out, "observability-kube-prometheus-stack")
    assert code == 1 and "its replacement fails" in line and "cannot re-use a name that is still in use" in line


# One prod plan for two tests' edits that pass, each reading what the other's leaves alone: a larger Grafana volume
# (kube-prometheus-stack's release) and a new PostgreSQL size (the server's check line).
GRAFANA_AND_SERVER = {"observability": {"grafanaStorageGib": 20}, "postgres": {"skuName": "Standard_D4ds_v5"}}


def test_a_smaller_grafana_volume_is_refused_and_a_larger_one_passes(tmp_path, prod):
    """`observability.grafanaStorageGib` is the request of the claim Grafana's chart renders itself (not a StatefulSet
    template): the Helm upgrade patches it, and the API server refuses a smaller request, failing the upgrade."""
    base = _doc(prod)
    release = _one(base, "kubernetes:helm.sh/v3:Release", "observability-kube-prometheus-stack")
    smaller = _doc(plan_for("prod", {"observability": {"grafanaStorageGib": 5}}))
    assert smaller[release]["inputs"]["values"]["grafana"]["persistence"]["size"] == "5Gi"
    code, out = _check(tmp_path, base, smaller)
    line = _refusal_line(out, "observability-kube-prometheus-stack")
    assert code == 1 and "observability.grafanaStorageGib" in line and "less than previous value" in line
    larger = _doc(plan_for("prod", GRAFANA_AND_SERVER))  # the server's new size touches no Helm release
    code, out = _check(tmp_path, base, larger)
    assert code == 0 and "values.grafana.persistence.size" in out


@pytest.mark.parametrize("off", [{"persistence": {"enabled": False}}, {"persistence": {"existingClaim": "mine"}},
                                 {"useStatefulSet": True}, {"enabled": False}])
def test_a_smaller_grafana_size_is_refused_only_where_the_chart_renders_and_keeps_its_claim(tmp_path, prod, off):
    """Grafana's chart renders the claim only with persistence on, no existingClaim, type pvc and no StatefulSet
    (templates/pvc.yaml at grafana-12.11.1), kube-prometheus-stack only with grafana.enabled: a smaller size with
    no claim rendered, before or after, patches none (a claim it stops rendering, or starts rendering, is no
    shrink), so nothing is refused on it."""
    base = _doc(prod)
    release = _one(base, "kubernetes:helm.sh/v3:Release", "observability-kube-prometheus-stack")
    smaller = _doc(plan_for("prod", {"observability": {"grafanaStorageGib": 5}}))
    for side in (base, smaller):
        grafana = side[release]["inputs"]["values"]["grafana"]
        for key, value in off.items():
            grafana[key] = {**grafana[key], **value} if isinstance(value, dict) else value
    code, out = _check(tmp_path, base, smaller)
    assert code == 0 and "values.grafana.persistence.size" in out and "less than previous value" not in out


def test_a_new_minor_the_patch_channel_never_makes_is_said_not_only_listed_as_ignored(tmp_path):
    """Under an auto-upgrade channel the version is in ignoreChanges; `patch` (dev's default) keeps the minor (AKS's
    auto-upgrade-cluster.md), so a minor bump in the stack file is made by nobody: the check says so. Under `stable`
    AKS moves minors itself: the Ignored line is the whole story."""
    def versions(before: str, after: str, channel: str) -> tuple[int, str]:
        plans = [_doc(plan_for("dev", {"cluster": {"kubernetesVersion": v, "upgradeChannel": channel}}))
                 for v in (before, after)]
        return _check(tmp_path, *plans)
    code, out = versions("1.35", "1.36", "patch")
    line = next(line for line in out.splitlines() if line.startswith("- Check before merging:")
                and "ManagedCluster" in line)
    assert code == 0 and '"1.35" -> "1.36"' in line and "never makes this upgrade" in line
    assert "cluster.upgradeChannel: none" in line
    code, out = versions("1.35", "1.36", "stable")
    assert code == 0 and "kubernetesVersion" in out and "never makes this upgrade" not in out


def test_a_version_pinned_where_the_base_gave_none_is_not_called_an_upgrade(tmp_path, dev):
    """A base without `kubernetesVersion` runs the version AKS chose at creation, which the plan cannot know: a stack
    pinning a version under `patch` may pin the one the cluster runs, so the check line asks for the running
    version before it says the channel never makes an upgrade (it read as one unconditionally)."""
    base = _doc(dev)  # dev's channel is `patch` (a plan of its own for it cost a whole-stack run)
    cluster = _one(base, CLUSTER, "platform-aks")
    assert base[cluster]["inputs"]["autoUpgradeProfile"]["upgradeChannel"] == "patch"
    base[cluster]["inputs"].pop("kubernetesVersion", None)
    code, out = _check(tmp_path, base, _doc(plan_for("dev", {"cluster": {"kubernetesVersion": "1.35",
                                                                        "upgradeChannel": "patch"}})))
    line = next(line for line in out.splitlines() if line.startswith("- Check before merging:")
                and "ManagedCluster" in line)
    assert code == 0 and "(unset) -> \"1.35\"" in line and "currentKubernetesVersion" in line
    assert line.index("nothing to do if that is this minor") < line.index("never makes this upgrade")


def test_a_version_pinned_off_a_minor_moving_channel_asks_for_the_running_version(tmp_path, prod):
    """Under `stable` (prod's channel) AKS moves the cluster's minor and AksCluster ignores `kubernetesVersion`, so
    the base's value (unset, or an earlier pin) is not what runs, and `pulumi up` diffs against what runs (Pulumi.yaml
    `refresh: always`). A day-2 edit turning the channel off with a pin read as "the default AKS chose at creation",
    or, from a pinned base one minor below, as nothing to check at all; a pin below what the channel reached is a
    downgrade AKS refuses. Each now asks for the running version; a pin below the base's value still blocks."""
    pinned = {"cluster": {"upgradeChannel": "none", "kubernetesVersion": "1.35"}}
    head = _doc(plan_for("prod", pinned))
    for base in (_doc(prod), _doc(plan_for("prod", {"cluster": {"kubernetesVersion": "1.34"}}))):
        cluster = _one(base, CLUSTER)
        assert base[cluster]["inputs"]["autoUpgradeProfile"]["upgradeChannel"] == "stable"
        code, out = _check(tmp_path, base, head)
        line = next(line for line in out.splitlines() if line.startswith("- Check before merging:")
                    and "ManagedCluster" in line)
        assert code == 0 and "`stable` auto-upgrade channel moves the cluster's minor version" in line, line
        assert "currentKubernetesVersion" in line and "neither below the version it runs" in line
        assert "chose at creation" not in line
    assert 'newer minor than the base\'s "1.34"' in line
    code, out = _check(tmp_path, _doc(plan_for("prod", {"cluster": {"kubernetesVersion": "1.36"}})), head)
    assert code == 1 and '`kubernetesVersion` "1.36" -> "1.35"' in out and "a downgrade" in out


def test_a_version_kept_or_pinned_off_the_patch_channel_asks_for_the_running_version(tmp_path):
    """Under `patch` (the package's default channel) AKS moves the cluster to the newest patch of its minor and
    AksCluster ignores `kubernetesVersion`, so a base pinned at 1.34.2 may run 1.34.9. Turning the channel off with
    the pin kept, or with a later patch of that minor, passed without a line: `pulumi up` then sends a version below
    what runs, which AKS refuses as a downgrade. Each now asks for the running version (a check, not a refusal); a
    pin below the base's own patch still blocks."""
    base = _doc(plan_for("dev", {"cluster": {"kubernetesVersion": "1.34.2"}}))
    assert base[_one(base, CLUSTER)]["inputs"]["autoUpgradeProfile"]["upgradeChannel"] == "patch"
    for pin, says in (("1.34.2", "ignored that version under the `patch` channel"),
                      ("1.34.5", "`patch` auto-upgrade channel moves the cluster's patch version")):
        head = _doc(plan_for("dev", {"cluster": {"upgradeChannel": "none", "kubernetesVersion": pin}}))
        code, out = _check(tmp_path, base, head)
        lines = [line for line in out.splitlines() if line.startswith("- Check before merging:")
                 and "ManagedCluster" in line and "currentKubernetesVersion" in line]
        assert code == 0 and len(lines) == 1 and says in lines[0], out
        assert "not below the version" in lines[0] or "neither below the version" in lines[0], lines[0]
    head = _doc(plan_for("dev", {"cluster": {"upgradeChannel": "none", "kubernetesVersion": "1.34.1"}}))
    code, out = _check(tmp_path, base, head)
    assert code == 1 and '`kubernetesVersion` "1.34.2" -> "1.34.1"' in out and "a downgrade" in out
    minor = {"kubernetesVersion": "1.34"}  # a minor alone stays what runs under `patch`: nothing to check
    code, out = _check(tmp_path, _doc(plan_for("dev", {"cluster": minor})),
                       _doc(plan_for("dev", {"cluster": {"upgradeChannel": "none", **minor}})))
    assert code == 0 and "currentKubernetesVersion" not in out, out


def test_a_new_network_policy_engine_replaces_the_cluster_and_the_blocking_line_says_why(tmp_path, dev):
    """`networkPolicy`/`networkDataplane` are in pulumi-azure-native's curated forceNewMap (replacement.go at
    1b7112af: force-new "to stay conservative", AKS migrates them only one way): the cluster is replaced with
    everything in it. The line that blocks names the cause, not only the Replace line among dozens below it."""
    assert {"networkProfile.networkPolicy", "networkProfile.networkDataplane"} <= set(AZURE[CLUSTER]["forceNew"])
    code, out = _check(tmp_path, _doc(dev), _doc(plan_for("dev", {"cluster": {"networkPolicy": "calico"}})))
    line = next(line for line in out.splitlines() if line.startswith("- :x:") and "ManagedCluster::" in line)
    assert code == 1 and "replaced: the AKS cluster" in line and "`networkProfile.networkPolicy`" in line


def test_a_new_spot_price_alone_is_refused_with_a_reason_of_its_own(tmp_path, prod):
    """AKS keeps a spot pool's SpotMaxPrice for the pool's life (spot-node-pool.md, Limitations); a change of
    `gpu.spotMaxPrice` alone blocked with "see scaleSetPriority", a line not on the comment: it names its own."""
    code, out = _check(tmp_path, _doc(prod), _doc(plan_for("prod", {"gpu": {"spotMaxPrice": 5}})))
    line = _refusal_line(out, "gpu-gpu")
    assert code == 1 and "`spotMaxPrice`" in line and "scaleSetPriority`" not in line
    assert "SpotMaxPrice after creation" in line and "gpu.spotMaxPrice" in line and "gpu.poolName" in line


def test_any_update_of_an_auto_growing_postgres_server_asks_for_its_live_storage_size(tmp_path, prod):
    """PostgresServer turns storage auto-grow on, so Azure may double the disk past `postgres.storageSizeGb`; every
    later update carries the stack's size, which the server refuses below its own (storage never shrinks). The
    plan cannot read the live size: any update of the server asks the reviewer to compare it."""
    base = _doc(prod)
    server = _one(base, SERVER)
    assert base[server]["inputs"]["storage"]["autoGrow"] == "Enabled"
    code, out = _check(tmp_path, base, _doc(plan_for("prod", GRAFANA_AND_SERVER)))  # Grafana's is no server's
    line = next(line for line in out.splitlines() if line.startswith("- Check before merging:")
                and "postgres-server" in line)
    assert code == 0 and "`storage.autoGrow` is Enabled" in line and "postgres.storageSizeGb" in line
    code, out = _check(tmp_path, base, _doc(plan_for("prod", {"modelStore": {"sizeGib": 1024}})))
    assert "storage.autoGrow" not in out  # the server untouched: nothing to send, nothing to check


def test_an_alias_naming_an_old_resource_the_program_still_registers_is_refused(tmp_path):
    """The engine matches a resource to the first of its aliases that names an old resource, and refuses it when that
    old resource is also another resource of the program (`step_generator.go` `getOldResource`: "Duplicate resource
    alias", diag 2008; 2016 from the other side): the update stops. The check took the alias as unused and passed."""
    stack, share = _SMALL_PLAN["resources"][0], _SMALL_PLAN["resources"][1]
    old_share = {**share, "urn": share["urn"].replace("::share", "::old-share"), "name": "old-share",
                 "options": {**share["options"], "aliases": []}}
    base = _plan_dir(tmp_path, "base", [stack, old_share])
    renamed = _plan_dir(tmp_path, "renamed", [stack, share])  # the alias's purpose: moved, not refused
    assert plan_diff.diff(base, renamed)["moved"] == {share["urn"]: old_share["urn"]}
    both = plan_diff.diff(base, _plan_dir(tmp_path, "both", [stack, old_share, share]))
    assert both["moved"] == {} and list(both["refused"]) == [share["urn"]]
    assert "Duplicate resource alias" in both["refused"][share["urn"]][0]
    twice = {**share, "urn": share["urn"].replace("::share", "::share-2"), "name": "share-2"}
    two = plan_diff.diff(base, _plan_dir(tmp_path, "two", [stack, share, twice]))  # two claim one old resource
    assert len(two["moved"]) == 1 and len(two["refused"]) == 1


def test_upgrade_settings_change_in_place_on_a_pool_and_on_the_inline_system_pool(prod):
    """AgentPoolUpgradeSettings has no x-ms-mutability in the REST spec (2025-09-01) and is in no forceNewMap entry,
    and AKS keeps a pool's surge settings and takes new ones at any time (upgrade-aks-node-pools-rolling.md): an edit
    is an update of the pool, or of the cluster for its inline pool, never a replacement, and passes the check."""
    base = _doc(prod)
    pool, cluster = _one(base, "azure-native:containerservice:AgentPool", "gpu-gpuod"), _one(base, CLUSTER)
    new = copy.deepcopy(base)
    new[pool]["inputs"]["upgradeSettings"] = {"maxSurge": "1", "drainTimeoutInMinutes": 60}
    new[cluster]["inputs"]["agentPoolProfiles"][0]["upgradeSettings"] = {"maxSurge": "33%"}
    result, blocked = _diff(base, new)
    for urn in (pool, cluster):
        assert urn in result["changed"] and urn not in result["replaced"] and urn not in result["refused"], urn
    assert blocked == []


def test_turning_azure_monitor_off_is_blocked_for_the_logs_and_metrics_it_deletes(tmp_path):
    """`observability.azureMonitor: false` (allowed outside prod) deletes the Log Analytics and Azure Monitor
    workspaces with the logs and metrics kept so far; the check listed the deletes and passed. Both are stateful now:
    the check fails naming them until the change is allowed."""
    base = _doc(variant("llmd"))
    off = _doc(plan_for("llmd", {"observability": {"azureMonitor": False}}))
    code, out = _check(tmp_path, base, off)
    blocked = sorted(line for line in out.splitlines() if line.startswith("- :x:"))
    assert code == 1 and len(blocked) == 2, out
    assert "monitoring-logs` deleted: the Log Analytics workspace with the logs so far (a cluster's" in blocked[1]
    assert "monitoring-prometheus` deleted: the Azure Monitor workspace with the cluster's metrics so far" in blocked[0]
    assert _check(tmp_path, base, off, "--allow-stateful")[0] == 0


def test_a_refusal_that_blocks_is_told_in_full_once_and_marked_on_its_update_line(tmp_path, base):
    """A change the cloud refuses in place was listed three times (Blocked in full, an Update line, and a "Refused
    in place: blocked above" line): the list now marks it on its Update line."""
    zrs = _doc(plan_for("dev", {"modelStore": {"redundancy": "ZRS"}}))
    code, out = _check(tmp_path, base, zrs)
    mentions = [line for line in out.splitlines() if line.startswith("- ") and "::models-account`" in line]
    assert code == 1 and len(mentions) == 2, out
    assert mentions[0].startswith("- :x:") and "refused in place: `sku.name`" in mentions[0]
    assert mentions[1] == ("- Update: `llmplatform:index:ModelStore$azure-native:storage:StorageAccount::"
                           "models-account` (sku.name); refused in place: blocked above")


def test_a_claim_shrunk_in_another_spelling_of_a_quantity_is_refused():
    """The PR check read a claim's size with a parser of its own: `1e9` (a quantity Kubernetes takes, 1 GB) was no
    number to it, so `1Gi` -> `1e9`, a shrink the API server refuses, passed; `500m` read as 500. It reads a size as
    the server does."""
    claim = "kubernetes:core/v1:PersistentVolumeClaim"

    def storage(size: str) -> dict:
        return {"spec": {"resources": {"requests": {"storage": size}}, "storageClassName": "managed-csi"}}
    refused, _ = value_findings(claim, storage("1Gi"), storage("1e9"), ["spec.resources.requests.storage"])
    assert len(refused) == 1 and '"1Gi" -> "1e9"' in refused[0] and "smaller" in refused[0]
    assert value_findings(claim, storage("1Gi"), storage(".5Ti"), ["spec.resources.requests.storage"]) == ([], [])
    assert value_findings(claim, storage("2000m"), storage("1"), ["spec.resources.requests.storage"])[0]
    # the same size in another spelling is no shrink; a size added or left out is none to compare (no traceback)
    assert value_findings(claim, storage("1Gi"), storage("1024Mi"), ["spec.resources.requests.storage"]) == ([], [])
    unset = {"spec": {"resources": {"requests": {}}, "storageClassName": "managed-csi"}}
    assert value_findings(claim, unset, storage("1Gi"), ["spec.resources.requests.storage"]) == ([], [])
    assert value_findings(claim, storage("1Gi"), unset, ["spec.resources.requests.storage"]) == ([], [])
    static = {"spec": {"resources": {"requests": {"storage": "1Gi"}}, "storageClassName": ""}}  # a pre-created volume
    same = copy.deepcopy(static)
    same["spec"]["resources"]["requests"]["storage"] = "1024Mi"
    assert value_findings(claim, static, same, ["spec.resources.requests.storage"]) == ([], [])
    static_unset = {"spec": {"resources": {"requests": {}}, "storageClassName": ""}}
    assert value_findings(claim, static_unset, static, ["spec.resources.requests.storage"]) == ([], [])
    assert value_findings(claim, static, static_unset, ["spec.resources.requests.storage"]) == ([], [])
    same["spec"]["resources"]["requests"]["storage"] = "2Gi"
    assert "grows a claim bound to a pre-created volume" in value_findings(
        claim, static, same, ["spec.resources.requests.storage"])[0][0]


def test_a_cluster_feature_the_stack_stops_turning_on_is_listed_ignored_with_how_to_turn_it_off(tmp_path, prod):
    """prod turns Defender on itself; `security.defender: false` puts the path in the cluster's ignoreChanges (what a
    policy turned on stays on), so the PR check lists it as ignored, not as an update, and says Defender stays on
    until `az aks` turns it off: without the reason a reviewer reads "ignored" as "done"."""
    base, new = _doc(prod), _doc(plan_for("prod", {"security": {"defender": False}}))
    cluster = _one(new, CLUSTER)
    assert "securityProfile.defender" in new[cluster]["options"]["ignoreChanges"]
    assert "securityProfile.defender" not in base[cluster]["options"]["ignoreChanges"]
    code, out = _check(tmp_path, base, new)
    [line] = [line for line in out.splitlines() if line.startswith("- Ignored") and "securityProfile.defender" in line]
    assert "stays on until `az aks` turns it off" in line
    assert line.count("whoever turns them on") == 1  # one reason for the four paths, said once
