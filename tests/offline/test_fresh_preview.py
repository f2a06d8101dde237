"""`pulumi preview` of each stack with nothing created yet: the first command a new user runs on a new stack, and the
check a pull request is gated on. The real program runs through the runner `make plan` uses, with every create
answered as its provider answers a preview (llmplatform.testing.run(preview=True); docs/decisions.md "A fresh stack's
preview"); the global stack reads its regions' outputs as existing stacks (their plans). offline.fresh_preview says
where it differs from `pulumi up` (`make plan PREVIEW=1` refuses the plan on it)."""
import copy
import dataclasses
from typing import Optional

import pytest

from offline import fresh_preview, runner
from tests.conftest import plan_for, preview_for


def _preview(stack: str, overrides: Optional[dict] = None) -> runner.Plan:
    return preview_for(stack, overrides)  # the session's (the policy pack's preview tests share it)


# dev as a new stack is made: its file without `legacyGlobalNames: true` (operations.md), so its storage account, Key
# Vault and PostgreSQL server names come from the subscription getClientConfig answers; prod and llmd keep theirs
NEW_STACK = {"legacyGlobalNames": False}


@pytest.mark.parametrize("stack, overrides", [("dev", NEW_STACK), ("prod", None), ("llmd", None), ("global", None)])
def test_a_new_stacks_preview_shows_what_up_creates_and_asks_azure_nothing_it_lacks(stack, overrides):
    """No error, refusal or traceback; every resource `pulumi up` creates is in the preview (one created inside an
    apply on a value not known yet would be missing from a pull request's preview); no invoke a real provider fails
    on with nothing created; no warning or stack output the preview shows that `pulumi up` would not (one computed
    from a value not known yet)."""
    up, preview = plan_for(stack, overrides), _preview(stack, overrides)
    assert fresh_preview.differences(up, preview) == []
    assert preview.unknown_outputs  # the cluster's outputs are not known before it exists


def test_each_way_a_preview_can_differ_from_up_is_named():
    """Planted on dev's plans: a resource the preview misses (made inside an apply), one only the preview has, an
    invoke of a resource not there yet, a warning and an output only the preview has, an output neither shown nor
    marked unknown."""
    up = plan_for("dev")
    preview = copy.copy(up)
    missing, extra = up.resources[-1], dataclasses.replace(up.resources[-1], urn=up.resources[-1].urn + "-extra")
    preview.resources = [*up.resources[:-1], extra]
    preview.invokes = [("azure-native:authorization:getClientConfig", ""),
                       ("azure-native:containerservice:listManagedClusterUserCredentials", "")]
    preview.warnings = [*up.warnings, "made of an unknown"]
    dropped = sorted(up.outputs)[0]
    preview.outputs = {**{k: v for k, v in up.outputs.items() if k != dropped}, "previewOnly": 1}
    preview.unknown_outputs = []
    problems = fresh_preview.differences(up, preview)
    assert [p.split(":", 1)[0] if p.startswith("urn:") else p.split(" ")[0] for p in problems] == [
        "urn", "urn", "invoke", "warning", "stack", "stack"]
    assert f"{missing.urn}: created by `pulumi up` but missing from the preview" in problems[0]
    assert problems[1] == f"{extra.urn}: in the preview but not created by `pulumi up`"
    assert "listManagedClusterUserCredentials" in problems[2] and "made of an unknown" in problems[3]
    assert problems[4].startswith("stack output previewOnly:") and problems[5].startswith(f"stack output {dropped}:")


def test_make_plan_preview_refuses_a_plan_whose_preview_misses_a_resource_and_writes_nothing(tmp_path, capsys,
                                                                                             monkeypatch):
    """Through the CLI `make plan PREVIEW=1` runs: the preview run (planted: it misses the last resource `up`
    creates, as one made inside an apply on an unknown) refuses the plan, naming it, and no plan is written."""
    from offline import plan as plan_cli
    # `up`'s plan: dev's from its own stack file, which the session plans once (plan_for), not a second run
    up, made = plan_for("dev"), []

    def run(stack, *args, preview=False, **kwargs):
        if preview:  # the plan of `up` just made, less its last resource
            return dataclasses.replace(made[-1], resources=made[-1].resources[:-1])
        assert (stack, args, kwargs) == ("dev", (), {"sets": [], "stack_file": None, "references": {}}), kwargs
        made.append(up)
        return up
    monkeypatch.setattr(runner, "run", run)
    assert plan_cli.main(["--stack", "dev", "--out", str(tmp_path), "--preview"]) == 1
    err = capsys.readouterr().err
    assert "but missing from the preview" in err and "the preview check refuses this plan" in err
    assert "Traceback" not in err and not (tmp_path / "dev" / "resources.json").exists()


def test_make_plan_preview_names_what_the_pack_cannot_judge_and_refuses_what_only_the_preview_violates(
        tmp_path, capsys, monkeypatch):
    """The policy pack over the preview, as the pull request's `pulumi preview --policy-pack` runs it: each rule it
    cannot judge there named (Open-WebUI's env, made in an apply on a value not known yet), and a mandatory violation
    `up`'s plan does not have (planted in the preview alone: an unpinned image) refuses the plan, nothing written."""
    from offline import plan as plan_cli
    up, preview = plan_for("dev"), preview_for("dev")
    ollama = preview.one("kubernetes:apps/v1:Deployment", "inference-ollama")
    inputs = copy.deepcopy(ollama.inputs)
    inputs["spec"]["template"]["spec"]["containers"][0]["image"] = "docker.io/ollama/ollama:latest"
    planted = dataclasses.replace(preview, resources=[dataclasses.replace(r, inputs=inputs) if r is ollama else r
                                                      for r in preview.resources])
    monkeypatch.setattr(runner, "run", lambda stack, *args, preview=False, **kwargs: planted if preview else up)
    assert plan_cli.main(["--stack", "dev", "--out", str(tmp_path), "--preview"]) == 1
    out, err = capsys.readouterr()
    assert "fresh pulumi preview: the policy pack cannot judge [no-secret-literals] on inference-webui" in out
    assert "[containers-have-requests-limits-and-pinned-images] inference-ollama" in err
    assert "the policy pack refuses the new stack's `pulumi preview`" in err
    assert "Traceback" not in err and not (tmp_path / "dev" / "resources.json").exists()
