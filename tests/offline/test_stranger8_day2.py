"""Day-2 procedures of docs/operations.md followed as a production operator types them, against the offline plans:
a third region added behind the global endpoint, the clients' key rotated, a region taken out, the UI's home moved."""
from __future__ import annotations

import copy
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from config.edge_membership import unlisted_join
from offline import plan, plan_diff, runner

from tests.conftest import PROJECT_DIR, plan_for

FRONT_DOOR_ID = "11111111-2222-3333-4444-555555555555"
WARNING = "edge.frontDoorId is set"


def new_region_file(tmp_path: Path, *, joined: bool) -> Path:
    """Step 1 of "Adding or removing a region": a copy of a regional stack file with its own prefix, location,
    network, model store group and TLS name; `joined`: the copy of a region that has joined the edge, whose file
    carries its `edge.frontDoorId` (step 3 of the deploy order commits it)."""
    text = (PROJECT_DIR / "Pulumi.prod-westeurope.yaml").read_text()
    text = text.replace("llmweu", "llmfrc").replace("westeurope", "francecentral").replace("10.41.", "10.43.")
    if joined:
        text = text.replace("edge: {globalStack: global, fleet: true}",
                            f"edge: {{globalStack: global, fleet: true, frontDoorId: {FRONT_DOOR_ID}}}")
        assert FRONT_DOOR_ID in text
    path = tmp_path / "Pulumi.prod-francecentral.yaml"
    path.write_text(text)
    return path


def edge_warnings(plan: Any) -> list[str]:
    return [w for w in plan.warnings if WARNING in w]


def test_a_copied_joined_region_file_for_a_new_region_warns_that_its_gate_will_not_start(tmp_path):
    """A new region whose file carries a joined region's Front Door ID while the global stack does not list it yet:
    its first `pulumi up` mounts a key map no stack has written into its vault, so the gate does not start. The plan
    says so, naming the key, the global stack file and what to do; before, it planned without a word."""
    plan = runner.run("prod-francecentral", stack_file=new_region_file(tmp_path, joined=True))
    found = edge_warnings(plan)
    assert len(found) == 1, plan.warnings
    assert FRONT_DOOR_ID in found[0] and "Pulumi.global.yaml" in found[0] and "'prod-francecentral'" in found[0]
    assert "prod-westeurope, prod-swedencentral" in found[0]  # what global.regions does list
    assert "remove edge.frontDoorId" in found[0] and "pulumi up -s global" in found[0]
    # the step the docs give (no Front Door ID before the global stack lists the region) plans without it
    plan = runner.run("prod-francecentral", stack_file=new_region_file(tmp_path, joined=False))
    assert not edge_warnings(plan), plan.warnings


def test_a_joined_region_the_global_stack_lists_gets_no_such_warning():
    """prod-westeurope joined (step 3 of the deploy order) is in global.regions: nothing to say."""
    plan = plan_for("prod-westeurope", {"edge": {"frontDoorId": FRONT_DOOR_ID}})
    assert not edge_warnings(plan), plan.warnings
    assert any(r.name == "inference-router-kv-reader" and r.inputs["scope"].endswith("/secrets/edge-api-key-map")
               for r in plan.resources)  # joined: its gate reads the global key set


def step_one() -> str:
    from tests.offline.test_day2_procedures import section
    text = section("Adding or removing a region").split("Removing one goes the other way")[0]
    return " ".join(text.split("2. `pulumi stack init")[0].split())


def test_step_one_says_what_a_copy_of_a_regional_file_must_drop():
    """Step 1 copies a regional stack file: the shipped ones set `legacyGlobalNames` (names of stacks deployed before
    the subscription went into them: a new stack leaves it out), and a joined region's file has `edge.frontDoorId`.
    The step listed what to change and neither of these."""
    text = step_one()
    for name in sorted(PROJECT_DIR.glob("Pulumi.prod-*.yaml")):
        if "legacyGlobalNames: true" in name.read_text():
            assert "no `legacyGlobalNames`" in text, name
    assert "no `edge.frontDoorId` yet" in text


def global_diff(base_overrides: dict[str, Any] | None, overrides: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """The PR check's diff of the global stack: the base plan against one with `overrides`, and the `ui` group's
    URN."""
    base = plan_diff.resources_by_urn(plan.resources_document(plan_for("global", base_overrides)))
    new = plan_diff.resources_by_urn(plan.resources_document(plan_for("global", overrides)))
    group = next(u for u, r in base.items() if r["type"] == "azure-native:cdn:AFDOriginGroup"
                 and r["inputs"]["originGroupName"] == "ui")
    return plan_diff.diff_documents(base, new), group


def ui_home_lines(result: dict[str, Any], group: str) -> list[str]:
    return [c for c in result["checks"].get(group, []) if "the UI's home region moves" in c]


@pytest.mark.parametrize("overrides, kept", [
    ({"global": {"uiHomeRegion": "prod-swedencentral"}}, True),  # the key changed
    ({"global": {"regions": ["prod-swedencentral", "prod-westeurope"]}}, True),  # unset: the regions reordered
    ({"global": {"regions": ["prod-swedencentral"]}}, False),  # "Removing one": the first region taken out
])
def test_a_change_that_moves_the_ui_home_says_so_in_the_pr_check(overrides, kept):
    """Every browser goes to another region's Open-WebUI (its own accounts and chats: signed out there). The diff
    showed only two origins' `priority` updated in place (or one deleted), as for a standby's reordering, and passed
    with no word; docs/operations.md's "Removing one" did not say that the first region is the UI's home."""
    result, group = global_diff(None, overrides)
    lines = ui_home_lines(result, group)
    assert len(lines) == 1, result["checks"]
    assert "from `westeurope` to `swedencentral`" in lines[0] and "global.uiHomeRegion" in lines[0]
    assert ("stands by from now on" in lines[0]) is kept
    assert ("leaves the `ui` origin group" in lines[0]) is not kept
    assert "- Check before merging: `llmplatform:index:GlobalEndpoint$azure-native:cdn:AFDOriginGroup::edge-ui`: " \
        "the UI's home region moves" in plan_diff.markdown(result, "global")


def test_the_home_named_as_it_was_or_a_standby_reordered_gives_no_such_line():
    """`global.uiHomeRegion` set to the region that is home already changes nothing; a standby's new rank (origins
    past the first swapped) moves no browser while the home region's probes pass."""
    result, group = global_diff(None, {"global": {"uiHomeRegion": "prod-westeurope"}})
    assert not ui_home_lines(result, group)
    base = plan_diff.resources_by_urn(plan.resources_document(plan_for("global")))
    old, new = copy.deepcopy(base), copy.deepcopy(base)
    standby = next(u for u, r in base.items() if r["type"] == "azure-native:cdn:AFDOrigin"
                   and r["inputs"]["originGroupName"] == "ui" and r["inputs"]["priority"] == 2)
    third = standby.replace("swedencentral", "francecentral")
    old[third] = copy.deepcopy(base[standby])
    old[third]["inputs"].update(originName="francecentral", priority=3)
    new[third] = copy.deepcopy(old[third])
    new[third]["inputs"]["priority"], new[standby]["inputs"]["priority"] = 2, 3
    assert not ui_home_lines(plan_diff.diff_documents(old, new), group)
    new[third]["inputs"]["priority"] = 1
    new[next(u for u, r in base.items() if r["type"] == "azure-native:cdn:AFDOrigin"
             and r["inputs"]["originGroupName"] == "ui" and r["inputs"]["priority"] == 1)]["inputs"]["priority"] = 4
    assert ui_home_lines(plan_diff.diff_documents(old, new), group)  # the same documents, the home moved


def test_the_documented_key_rotation_diff_says_nothing_to_restart_for_the_newest_key():
    """Step 1 of the rotation (a name added to `global.apiKeys`): the diff's check lines on every region's
    `edge-api-key` said "restart what mounts it", where the procedure says nothing is to restart (no pod of the
    platform mounts it; the gates read `edge-api-key-map`, whose line says they reload it)."""
    base = plan_diff.resources_by_urn(plan.resources_document(plan_for("global")))
    rotated = plan_for("global", {"global": {"apiKeys": ["clients-2026-11", "clients-2027-05"]}})
    for p in [plan_for(r, {"edge": {"frontDoorId": FRONT_DOOR_ID}}) for r in ("prod-westeurope", "prod-swedencentral")]:
        mounted = " ".join(str(r.inputs.get("spec")) for r in p.resources if r.type.endswith("SecretProviderClass"))
        assert "edge-api-key-map" in mounted and not re.search(r"objectName: edge-api-key\b(?!-)", mounted)
    result = plan_diff.diff_documents(base, plan_diff.resources_by_urn(plan.resources_document(rotated)))
    keys = {u: c for u, c in result["checks"].items() if u.endswith("-api-key")}
    maps = {u: c for u, c in result["checks"].items() if u.endswith("-api-key-map")}
    assert len(keys) == len(maps) == 2, result["checks"]
    for lines in keys.values():
        assert "nothing to restart" in " ".join(lines) and "restart what mounts it" not in " ".join(lines), lines
    for lines in maps.values():
        assert "loads again by itself" in " ".join(lines), lines


def test_the_rotation_checks_each_region_through_its_gate_not_its_front_door_only_gateway():
    """Step 2 of the rotation checked each region with `llm-smoke --stack <region> --stack-output modelApiUrl`: that
    URL is the region's external gateway, whose load balancer admits only Front Door's service tag (and whose Gateway
    only its X-Azure-FDID), so from an operator's machine the check cannot connect. It goes through the gate."""
    from tests.offline.test_day2_procedures import section
    joined = plan_for("prod-westeurope", {"edge": {"frontDoorId": FRONT_DOOR_ID}})
    gateway = next(r for r in joined.resources if r.type == "kubernetes:gateway.networking.k8s.io/v1:Gateway"
                   and r.inputs["metadata"]["name"] == "external-gateway")
    annotations = gateway.inputs["spec"]["infrastructure"]["annotations"]
    assert annotations["service.beta.kubernetes.io/azure-allowed-service-tags"] == "AzureFrontDoor.Backend"
    assert joined.outputs["modelApiUrl"].startswith(f"https://{joined.outputs['gatewayHostname']}")
    text = " ".join(section("The clients' API key: one set, every region").split())
    step2 = text.split("2. Wait about two and a half minutes")[1].split("3. Hand out the new key")[0]
    assert not re.search(r"llm-smoke --stack <region>[^`]*modelApiUrl", step2), step2
    assert "port-forward svc/router 8080:8080" in step2 and "llm-smoke http://localhost:8080 --api openai" in step2


def test_llm_verify_of_a_region_behind_the_edge_smokes_through_a_port_forward():
    """`llm-verify --stack <region>` sends its smoke request to `modelApiUrl`, the external gateway, which behind the
    edge admits only Front Door even before the region joins: the line fails from anywhere else. The verify section
    said nothing of regions; it now gives the outputs with the port-forward's URL."""
    from tests.offline.test_day2_procedures import section
    for p in (plan_for("prod-westeurope"), plan_for("prod-westeurope", {"edge": {"frontDoorId": FRONT_DOOR_ID}})):
        gateway = next(r for r in p.resources if r.type == "kubernetes:gateway.networking.k8s.io/v1:Gateway"
                       and r.inputs["metadata"]["name"] == "external-gateway")
        annotations = gateway.inputs["spec"]["infrastructure"]["annotations"]
        assert annotations["service.beta.kubernetes.io/azure-allowed-service-tags"] == "AzureFrontDoor.Backend"
    text = section("Checking a deployed endpoint: smoke test, benchmark, verify")
    bullet = text.split("- **A region behind the global edge**")[1].split("\n- **")[0]
    assert "port-forward svc/router 8080:8080" in bullet
    assert "jq '.modelApiUrl = \"http://localhost:8080\"'" in bullet and "llm-verify --outputs" in bullet


def fleet_off(tmp_path: Path, *stacks: str) -> Path:
    """A copy of the project's regional stack files, `stacks` set to `edge.fleet: false` with their own AKS channel
    (config requires `cluster.upgradeChannel: none` only of a Fleet-managed region)."""
    for path in PROJECT_DIR.glob("Pulumi.prod-*.yaml"):
        text = path.read_text()
        if path.name[len("Pulumi."):-len(".yaml")] in stacks:
            text = text.replace("edge: {globalStack: global, fleet: true}", "edge: {globalStack: global, fleet: false}")
            text = text.replace("    upgradeChannel: none", "    upgradeChannel: stable")
            assert "fleet: false" in text and "upgradeChannel: stable" in text
        (tmp_path / path.name).write_text(text)
    return tmp_path


def test_a_region_that_upgrades_itself_is_no_fleet_member(tmp_path, monkeypatch):
    """`edge.fleet: false` (with the region's own `cluster.upgradeChannel`, which config allows only then): the
    global stack made it a Fleet member and a stage of the update strategy all the same, so the fleet's auto-upgrade
    runs upgraded it as well as AKS's channel, the fight the key exists to avoid. It is left out of the fleet."""
    import config.regions
    regional: dict[str, Any] = {r: plan_for(r).outputs for r in ("prod-westeurope", "prod-swedencentral")}
    monkeypatch.setattr(config.regions, "PROJECT_DIR", fleet_off(tmp_path, "prod-westeurope"))
    p = runner.run("global", references=regional)
    members = [r.inputs["fleetMemberName"] for r in p.resources
               if r.type == "azure-native:containerservice:FleetMember"]
    assert members == ["swedencentral"]
    strategy = next(r for r in p.resources if r.type == "azure-native:containerservice:FleetUpdateStrategy")
    assert [g["name"] for s in strategy.inputs["strategy"]["stages"] for g in s["groups"]] == ["swedencentral"]
    # both upgrading themselves: no fleet at all (an update strategy without a stage is no fleet's), the rest planned
    monkeypatch.setattr(config.regions, "PROJECT_DIR", fleet_off(tmp_path, "prod-westeurope", "prod-swedencentral"))
    alone = runner.run("global", references=regional)
    assert not [r for r in alone.resources if r.type.startswith("azure-native:containerservice:Fleet")]
    assert alone.outputs["fleetMembers"] == [] and alone.of_type("azure-native:cdn:Profile")


def test_the_shipped_regions_are_all_fleet_members():
    p = plan_for("global")
    assert [r.inputs["fleetMemberName"] for r in p.resources
            if r.type == "azure-native:containerservice:FleetMember"] == ["westeurope", "swedencentral"]


def test_adding_a_model_says_the_ui_restarts_as_the_diff_shows():
    """`modelStore.models[3]=qwen2.5:7b` on a region: the diff replaces the preload Job and updates Open-WebUI's
    Deployment (its pods restart); "Adding a model" said only that the model servers are not restarted."""
    from tests.offline.test_day2_procedures import section
    base = plan_diff.resources_by_urn(plan.resources_document(plan_for("prod-westeurope")))
    models = ["llama3.1:8b", "mistral:7b", "nomic-embed-text", "qwen2.5:7b"]
    new = plan_diff.resources_by_urn(plan.resources_document(
        plan_for("prod-westeurope", {"modelStore": {"models": models}})))
    result = plan_diff.diff_documents(base, new)
    replaced = {base[u]["name"] for u in result["replaced"]}
    updated = {base[u]["name"] for u in result["changed"]} - replaced
    assert updated == {"inference-webui"} and replaced == {"models-preload"}, (updated, replaced)
    text = " ".join(section("Adding a model").split())
    assert "Open-WebUI's Deployment updated" in text and "its pods restart" in text


def test_removing_a_region_expects_the_warning_its_own_plan_gives_while_it_drains(tmp_path):
    """prod-swedencentral taken out of `global.regions`, still joined while Front Door drains it: its plan warns (the
    same warning a new region's copied file gets), and "Removing one" says to expect it."""
    import config.regions
    from tests.offline.test_day2_procedures import section
    cfg: Any = SimpleNamespace(stack="prod-swedencentral", project="aks-llm-platform",
                               edge=config.regions.EdgeConfig(global_stack="global", front_door_id=FRONT_DOOR_ID))
    assert not unlisted_join(cfg)  # listed in the shipped Pulumi.global.yaml
    shipped = (PROJECT_DIR / "Pulumi.global.yaml").read_text()
    assert ", prod-swedencentral]" in shipped
    (tmp_path / "Pulumi.global.yaml").write_text(shipped.replace(", prod-swedencentral]", "]"))
    assert unlisted_join(cfg, project_dir=tmp_path)
    text = " ".join(section("Adding or removing a region").split("Removing one goes the other way")[1].split())
    assert "warns meanwhile that `edge.frontDoorId` is set and `global.regions` does not list it" in text
