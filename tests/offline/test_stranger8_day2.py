"""Day-2 procedures of docs/operations.md followed as a production operator types them, against the offline plans:
a third region added behind the global endpoint, the clients' key rotated, a region taken out, the UI's home moved."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from offline import runner

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
