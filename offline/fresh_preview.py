"""`pulumi preview` of a stack with nothing created yet, against the plan of its `pulumi up`: the first command on a
new stack and the check a pull request is gated on. The program runs as the kit runs a preview
(llmplatform.testing.run(preview=True): each create answered as its provider answers a preview, an apply on a value
not known yet not run, an invoke Azure answers 404 refused); this module says where that preview would differ from
what `pulumi up` then does (docs/decisions.md "A fresh stack's preview")."""
from __future__ import annotations

from llmplatform.testing import Plan

# The invokes a preview of a new stack may send: the deployer's own identity (pulumi-azure-native `Invoke`'s
# getClientConfig reads the provider's credentials, no Azure resource). The cluster's credentials are not asked for
# (its name is not known, and the engine answers an invoke whose dependency is still to be created as unknown), nor
# an Entra token (AksCluster asks for one only in `pulumi up`), nor a storage account's keys (its name is not known).
SENT_IN_A_PREVIEW = frozenset({"azure-native:authorization:getClientConfig"})


def differences(up: Plan, preview: Plan) -> list[str]:
    """What the preview shows otherwise than `pulumi up` does, one line each; none when a reviewer reads the
    preview as what `up` will do."""
    problems: list[str] = []
    planned = {(r.urn, r.type) for r in up.resources}
    shown = {(r.urn, r.type) for r in preview.resources}
    problems += [f"{urn}: created by `pulumi up` but missing from the preview (registered inside an apply on a value "
                 "not known yet: a pull request's preview never shows it)" for urn, _ in sorted(planned - shown)]
    problems += [f"{urn}: in the preview but not created by `pulumi up`" for urn, _ in sorted(shown - planned)]
    problems += [f"invoke {token}: sent in the preview of a new stack, where the resource it reads does not exist "
                 "yet" for token in sorted({token for token, _ in preview.invokes} - SENT_IN_A_PREVIEW)]
    problems += [f"warning only the preview shows (computed from a value not known yet): {warning}"
                 for warning in sorted(set(preview.warnings) - set(up.warnings))]
    problems += [f"stack output {name}: the preview shows {preview.outputs[name]!r}, `pulumi up` gives "
                 f"{up.outputs.get(name)!r}" for name in sorted(preview.outputs)
                 if name not in up.outputs or up.outputs[name] != preview.outputs[name]]
    problems += [f"stack output {name}: `pulumi up` gives it, the preview neither shows it nor marks it unknown"
                 for name in sorted(set(up.outputs) - set(preview.outputs) - set(preview.unknown_outputs))]
    return problems


def summary(preview: Plan) -> str:
    """The preview's line in `make plan`."""
    unknown = f", {len(preview.unknown_outputs)} stack outputs known after `up`" if preview.unknown_outputs else ""
    return f"fresh pulumi preview: {len(preview.resources)} resources to create, as `pulumi up` creates them{unknown}"
