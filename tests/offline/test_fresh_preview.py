"""`pulumi preview` of each stack with nothing created yet: the first command a new user runs on a new stack, and the
check a pull request is gated on. The real program runs through the runner `make plan` uses, with every create
answered as its provider answers a preview (llmplatform.testing.run(preview=True); docs/decisions.md "A fresh stack's
preview"); the global stack reads its regions' outputs as existing stacks (their plans)."""
import pytest

from offline import runner
from tests.conftest import plan_for

# The invokes a preview of a new stack may send: the deployer's own identity (pulumi-azure-native `Invoke`'s
# getClientConfig reads the provider's credentials, no Azure resource). The cluster's credentials are not asked for
# (its name is not known, and the engine answers an invoke whose dependency is still to be created as unknown), nor
# an Entra token (AksCluster asks for one only in `pulumi up`), nor a storage account's keys (its name is not known).
SENT_IN_A_PREVIEW = {"azure-native:authorization:getClientConfig"}


@pytest.mark.parametrize("stack", ["dev", "prod", "llmd", "global"])
def test_a_new_stacks_preview_shows_what_up_creates_and_asks_azure_nothing_it_lacks(stack):
    """No error, refusal or traceback; every resource `pulumi up` creates is in the preview (one created inside an
    apply on a value not known yet would be missing from a pull request's preview); no invoke a real provider fails
    on with nothing created; no warning or stack output the preview shows that `pulumi up` would not (one computed
    from a value not known yet)."""
    up = plan_for(stack)
    references = {region: plan_for(region).outputs
                  for region in runner.referenced_stacks(runner.stack_config(stack), runner.project_name())}
    preview = runner.run(stack, references=references, preview=True)
    assert {(r.urn, r.type) for r in preview.resources} == {(r.urn, r.type) for r in up.resources}
    assert {token for token, _ in preview.invokes} <= SENT_IN_A_PREVIEW
    assert set(preview.warnings) <= set(up.warnings)
    assert {k: v for k, v in up.outputs.items() if k in preview.outputs} == preview.outputs
    assert set(preview.outputs) | set(preview.unknown_outputs) == set(up.outputs)
