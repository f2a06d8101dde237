"""Change safety: what a pull request replaces or deletes (plan_diff). Real edits are planned under mocks with
stack overrides and diffed against the unedited plan; every expectation is derived from the vendored upstream
replacement data (tools/data/replacement_rules.json), not from what the tool printed. And the diff as a reviewer
reads it: added, removed and changed inputs, and the cost change."""

import copy
import json
import re
from pathlib import Path

import pulumi_azure_native
import pytest

from offline import plan, plan_diff

from tests.conftest import plan_for, variant


RULES = plan_diff.rules()
AZURE = RULES["azureNative"]["types"]
SERVER = "azure-native:dbforpostgresql:Server"
ACCOUNT = "azure-native:storage:StorageAccount"
SHARE = "azure-native:storage:FileShare"
CLUSTER = "azure-native:containerservice:ManagedCluster"
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


def test_system_pool_size_postgres_version_and_redundancy_update_in_place(base):
    new = _doc(plan_for("dev", COMBINED))
    result, blocked = _diff(base, new)
    cluster, server, account = _one(new, CLUSTER), _one(new, SERVER), _one(new, ACCOUNT)
    assert "version" in result["changed"][server] and "sku.name" in result["changed"][account]
    # PostgreSQL's major version and the storage SKU are updatable (no x-ms-mutability, not in forceNewMap)
    assert not _forces(SERVER, "version") and not _forces(ACCOUNT, "sku.name")
    assert server not in result["replaced"] and account not in result["replaced"]
    # pulumi-azure-native #2774 took every agentPoolProfiles field off ManagedCluster's force-new list: an update...
    assert not _forces(CLUSTER, "agentPoolProfiles[0].vmSize") and cluster not in result["replaced"]
    # ...that AKS refuses (the same field replaces a standalone AgentPool): the check fails before `pulumi up` does
    assert "vmSize" in AZURE["azure-native:containerservice:AgentPool"]["forceNew"]
    assert [u for u, _ in blocked] == [cluster] and "agentPoolProfiles[0].vmSize" in result["refused"][cluster][0]


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


def test_a_changed_deployment_selector_replaces_it_deleting_first(base):
    new = copy.deepcopy(base)
    urn = _one(new, "kubernetes:apps/v1:Deployment", "inference-ollama")
    new[urn]["inputs"]["spec"]["selector"]["matchLabels"]["app.kubernetes.io/instance"] = "blue"
    assert "spec.selector" in RULES["kubernetes"]["kinds"]["apps/v1/Deployment"]
    result, blocked = _diff(base, new)
    assert list(result["replaced"]) == [urn] and result["deleteBeforeReplace"] == [urn]  # same name: delete first
    assert blocked == []  # a Deployment holds no data


def test_the_model_store_protocol_replaces_the_share(base):
    new = _doc(variant("dev-smb-nogpu"))  # protocol smb, among other edits of that planned variant
    result, blocked = _diff(base, new)
    share = _one(new, SHARE)
    assert (base[share]["inputs"]["enabledProtocols"], new[share]["inputs"]["enabledProtocols"]) == ("NFS", "SMB")
    assert _forces(SHARE, "enabledProtocols")  # x-ms-mutability [create, read] in the Storage spec
    assert share in result["replaced"] and share in {u for u, _ in blocked}
    pv = _one(new, "kubernetes:core/v1:PersistentVolume")
    assert any("spec.csi" in why for why in result["replaced"][pv])  # the PV's CSI source is immutable too


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


def test_the_check_fails_until_the_pull_request_allows_it(tmp_path, capsys, base):
    new = _doc(variant("dev-smb-nogpu"))
    for name, doc in (("base", base), ("new", new)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "resources.json").write_text(json.dumps({"resources": list(doc.values())}))
    args = [str(tmp_path / "base"), str(tmp_path / "new"), "--title", "dev"]
    assert plan_diff.main(args) == 1
    out = capsys.readouterr().out
    share = _one(new, SHARE)
    assert "**Blocked:" in out and f"`{share}`" in out and plan_diff.ALLOW_FILE in out
    assert plan_diff.main(args + ["--allow-stateful"]) == 0  # the label
    blocked = [u for u, _ in plan_diff.blocking(plan_diff.diff_documents(base, new), set(), False)]
    allow = tmp_path / plan_diff.ALLOW_FILE
    allow.write_text("# intended: SMB for the model share\n" + "\n".join(blocked[:-1]) + "\n")
    assert plan_diff.main(args + ["--allow-file", str(allow)]) == 1  # one left
    allow.write_text("\n".join(blocked) + "\n")
    assert plan_diff.main(args + ["--allow-file", str(allow)]) == 0


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
    assert "Add: `t::d`" in out and "Delete: `t::c`" in out and "Update: `t::b` (y.z, (protect))" in out
    assert plan_diff.main([str(tmp_path / "missing"), str(new)]) == 0
    assert "every resource is new" in capsys.readouterr().out
    assert plan_diff.main([str(base), str(tmp_path / "missing")]) == 2


def test_plan_diff_shows_the_cost_change(tmp_path, capsys):
    def folder(name, idle, peak, component):
        path = _plan_dir(tmp_path, name, [])
        (path / "cost.json").write_text(json.dumps({"idleMonthly": idle, "peakMonthly": peak, "byComponent": {
            component: {"idle": idle, "peak": peak}}}))
        return path
    base, new = folder("b", 100.0, 200.0, "GpuNodePool gpu"), folder("n", 150.0, 260.0, "GpuNodePool gpu")
    assert plan_diff.main([str(base), str(new)]) == 0
    out = capsys.readouterr().out
    assert "idle $100.00 -> $150.00 (+50.00)" in out and "- GpuNodePool gpu: idle +50.00, peak +60.00" in out
