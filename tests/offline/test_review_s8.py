"""A review of the day-2 changes merged from h-stranger8: the per-region checks through a port-forward, a region
whose ESC environment sets `edge.fleet`, and the UI home check on a renamed regional stack."""
from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

from offline import plan, plan_diff, runner

from tests.conftest import PROJECT_DIR, plan_for

OPERATIONS = (PROJECT_DIR / "docs" / "operations.md").read_text()
REGIONAL_FORWARD = re.compile(r"KUBECONFIG=~/\.kube/\S+ kubectl -n \S+ port-forward svc/\S+ \d+:\d+ &")


def test_each_regional_port_forward_is_ended_before_the_next_region_s():
    """The rotation's per-region check and llm-verify of a region behind the edge start `kubectl port-forward ...
    8080:8080 &` with that region's kubeconfig and left it running. For the next region the new forward cannot
    listen on 8080 (kubectl exits: address already in use), and `llm-smoke http://localhost:8080` reaches the first
    region's gate, which accepts the same global key set: the second region "passes" unchecked. Each forward keeps
    its PID and is killed after its check, before another one."""
    forwards = list(REGIONAL_FORWARD.finditer(OPERATIONS))
    assert len(forwards) >= 2, [m.group(0) for m in forwards]
    for m, following in zip(forwards, forwards[1:] + [None]):
        after = OPERATIONS[m.end():following.start() if following else m.end() + 2000]
        assert after.startswith(" PF=$!"), m.group(0)  # its PID, whatever runs in the background after it
        assert "kill $PF" in after[:1200], (m.group(0), after[:1200])


def _regional_files(tmp_path: Path, edits: dict[str, tuple[str, str]]) -> Path:
    """A copy of the project's stack files, each of `edits` with one replacement (old, new) made."""
    for path in PROJECT_DIR.glob("Pulumi.*.yaml"):
        text = path.read_text()
        stack = path.name[len("Pulumi."):-len(".yaml")]
        if stack in edits:
            old, new = edits[stack]
            assert old in text, (stack, old)
            text = text.replace(old, new)
        (tmp_path / path.name).write_text(text)
    return tmp_path


ESC = "environment: [platform/llm/regional-upgrades]\nconfig:"
FLEET_WARNING = "does not set edge.fleet itself"


def _global_plan(monkeypatch, project: Path) -> Any:
    import config.regions
    regional = {r: plan_for(r).outputs for r in ("prod-westeurope", "prod-swedencentral")}
    monkeypatch.setattr(config.regions, "PROJECT_DIR", project)
    return runner.run("global", references=regional)


def test_a_region_leaving_edge_fleet_to_an_esc_environment_is_warned_of(tmp_path, monkeypatch):
    """An ESC environment's `pulumiConfig` merges into the file's `edge` key by key (pulumi/pulumi pkg/workspace/
    config.go mergeConfig: JSON merge patch, the file's values winning): its `edge.fleet: false` reaches the region,
    which keeps its own upgrade channel, while the global stack reads only the file and makes it a Fleet member, so
    both upgrade it. The global plan said nothing; it now names the region and asks for the key in the file."""
    west = "aks-llm-platform:edge: {globalStack: global, fleet: true}"
    project = _regional_files(tmp_path, {"prod-westeurope": ("config:", ESC)})
    text = (project / "Pulumi.prod-westeurope.yaml").read_text().replace(
        west, "aks-llm-platform:edge: {globalStack: global}")
    assert text.startswith("#") and ESC in text and "fleet" not in text.split("edge:")[1]
    (project / "Pulumi.prod-westeurope.yaml").write_text(text)
    p = _global_plan(monkeypatch, project)
    found = [w for w in p.warnings if FLEET_WARNING in w]
    assert len(found) == 1, p.warnings
    assert "'prod-westeurope'" in found[0] and "platform/llm/regional-upgrades" in found[0]
    assert "pulumi config set --path edge.fleet true --stack prod-westeurope" in found[0]
    assert [r.inputs["fleetMemberName"] for r in p.resources
            if r.type == "azure-native:containerservice:FleetMember"] == ["westeurope", "swedencentral"]
    # the key in the file itself: the file says it all, nothing to warn of
    (project / "Pulumi.prod-westeurope.yaml").write_text(text.replace(
        "aks-llm-platform:edge: {globalStack: global}", west))
    assert not [w for w in _global_plan(monkeypatch, project).warnings if FLEET_WARNING in w]


def test_a_quoted_false_edge_fleet_is_read_as_the_region_reads_it(tmp_path, monkeypatch):
    """`fleet: 'false'` (a string: `pulumi config set --type string`, or hand-written) is false to the region's own
    config reader, so it keeps its channel; the global stack must leave it out of the fleet as well."""
    project = _regional_files(tmp_path, {"prod-westeurope": (
        "edge: {globalStack: global, fleet: true}", "edge: {globalStack: global, fleet: 'False'}")})
    text = (project / "Pulumi.prod-westeurope.yaml").read_text()
    (project / "Pulumi.prod-westeurope.yaml").write_text(text.replace("    upgradeChannel: none",
                                                                       "    upgradeChannel: stable"))
    p = _global_plan(monkeypatch, project)
    assert [r.inputs["fleetMemberName"] for r in p.resources
            if r.type == "azure-native:containerservice:FleetMember"] == ["swedencentral"]


def _ui_lines(result: dict[str, Any]) -> list[str]:
    return [c for lines in result["checks"].values() for c in lines if "the UI's home region moves" in c]


def test_a_renamed_home_region_stack_is_no_move_of_the_ui():
    """A regional stack renamed (prod-westeurope -> prod-weu, its file's gateway.tls.hostname kept) renames its
    origins: the home origin `westeurope` is deleted and `weu` added with priority 1, at the same host, the same
    region's gateway and Open-WebUI. The check said every browser moves and the old home's accounts and chats "go
    with its stack"; an origin at another host is still a move."""
    base = plan_diff.resources_by_urn(plan.resources_document(plan_for("global")))
    new = copy.deepcopy(base)
    for urn in [u for u, r in base.items() if r["type"] == "azure-native:cdn:AFDOrigin"
                and r["inputs"]["originName"] == "westeurope"]:
        moved = new.pop(urn)
        moved["inputs"]["originName"] = "weu"
        new[urn.replace("-westeurope", "-weu")] = moved
    assert not _ui_lines(plan_diff.diff_documents(base, new))
    for r in new.values():
        if r["type"] == "azure-native:cdn:AFDOrigin" and r["inputs"]["originName"] == "weu":
            r["inputs"]["hostName"] = "weu.llm.example.com"
    lines = _ui_lines(plan_diff.diff_documents(base, new))
    assert len(lines) == 1 and "from `westeurope` to `weu`" in lines[0], lines


def test_taking_a_region_out_of_the_fleet_says_which_stack_goes_first():
    """`edge.fleet: false` lets a region keep its own `cluster.upgradeChannel`; deployed before the global stack has
    dropped its member (or put back before the region's channel is `none`), Fleet's runs and AKS's channel both
    upgrade it. The docs said only that such a region is no member. The key alone changes nothing in the region's
    plan, so the order the section gives is clean: the global stack first out of the fleet, the region first back."""
    from tests.offline.test_day2_procedures import section
    base = plan_diff.resources_by_urn(plan.resources_document(plan_for("prod-westeurope")))
    off = plan_diff.resources_by_urn(plan.resources_document(plan_for("prod-westeurope", {"edge": {"fleet": False}})))
    result = plan_diff.diff_documents(base, off)
    assert not (result["added"] or result["removed"] or result["changed"] or result["replaced"]), result
    text = " ".join(section("Kubernetes upgrades across regions (Fleet Manager)").split())
    out = text.split("Taking a region out of the fleet")[1].split("Putting it back")[0]
    assert out.index("`pulumi up -s global`") < out.index("`cluster.upgradeChannel`") < out.index(
        "`pulumi up -s <region>`"), out
    back = text.split("Putting it back")[1]
    assert back.index("`pulumi up -s <region>` first") < back.index("`pulumi up -s global`"), back


def test_the_rotation_s_smoke_through_a_port_forward_is_not_taken_for_every_gate_pod():
    """A port-forward to `svc/router` reaches one pod of the Service (prod runs two gate pods): the step offered the
    smoke request "or" the reloader's log of every pod, so a pod whose nginx refused the new map could go unseen.
    The smoke is one pod's check, the log every pod's; a pod in doubt is smoked through its own forward."""
    from tests.offline.test_day2_procedures import section
    joined = plan_for("prod-westeurope", {"edge": {"frontDoorId": "11111111-2222-3333-4444-555555555555"}})
    [router] = [r.inputs for r in joined.kubernetes_objects() if r.inputs["kind"] == "Deployment"
                and r.inputs["metadata"]["name"] == "router"]
    assert router["spec"]["replicas"] >= 2
    text = " ".join(section("The clients' API key: one set, every region").split())
    step2 = text.split("2. Wait about two and a half minutes")[1].split("3. Hand out the new key")[0]
    smoke, logs = step2.index("llm-smoke http://localhost:8080"), step2.index("-c key-map-reloader")
    between = step2[smoke:logs]
    assert "one gate pod" in between and "; or" not in between, between
    assert "KUBECONFIG=~/.kube/<region> kubectl -n llm logs" in step2
    assert "through a port-forward to that pod (`pod/<pod>`" in step2


def test_removing_the_home_region_named_by_ui_home_region_says_the_key_changes_with_it():
    """"Removing one" said the home region taken out moves every browser "to the next region": with
    `global.uiHomeRegion` naming it, taking it out of `global.regions` alone is refused (the home must be listed),
    and the browsers go where the key then names."""
    import pytest

    from config import ConfigError, regions
    from tests.offline.test_day2_procedures import section
    raw = regions.raw_stack_file(PROJECT_DIR / "Pulumi.global.yaml", "aks-llm-platform")
    named = copy.deepcopy(raw)
    named["global"]["uiHomeRegion"] = "prod-swedencentral"
    named["global"]["regions"] = ["prod-westeurope"]
    with pytest.raises(ConfigError, match="global.uiHomeRegion 'prod-swedencentral' is invalid"):
        regions.parse_global(named, "aks-llm-platform", "global")
    text = " ".join(section("Adding or removing a region").split("Removing one goes the other way")[1].split())
    assert "with `global.uiHomeRegion` naming the region taken out, the one it names in the same change" in text
