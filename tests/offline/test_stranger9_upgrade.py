"""A production operator's run of 0.27.1's upgrade and day-2 procedures (stranger9): what the offline diff shows for a
procedure's change, against what docs/operations.md says it does."""
from __future__ import annotations

import re

from offline import plan, plan_diff

from tests.conftest import plan_for
from tests.offline.test_day2_procedures import section


def test_the_uploads_tier_move_names_the_uis_deployment_the_diff_replaces_with_the_claim(prod):
    """A new `webui.uploadsTier` replaces the claim and, as its volume names the claim, the UI's Deployment (the
    diff's "2 to replace", deleted first, made again at `webui.replicas`). The section named the claim alone, and its
    step 4 gave the Deployment's replica count as the HPA's to restore, though the `up` had made it again."""
    base = plan_diff.resources_by_urn(plan.resources_document(prod))
    moved = plan_diff.resources_by_urn(plan.resources_document(plan_for("prod", {"webui": {
        "uploadsTier": "standard"}})))
    replaced = {base[u]["name"]: base[u]["type"] for u in plan_diff.diff_documents(base, moved)["replaced"]}
    assert replaced == {"inference-webui-uploads": "kubernetes:core/v1:PersistentVolumeClaim",
                        "inference-webui": "kubernetes:apps/v1:Deployment"}, replaced
    text = section("Moving the UI's uploads to another tier")
    prose = " ".join(text.split("```")[0].split())
    assert re.search(r"The UI's Deployment, whose volume names the claim, is replaced with it", prose), prose
    commands = text.split("```")[1]
    assert "the up made the Deployment again at webui.replicas" in commands, commands
