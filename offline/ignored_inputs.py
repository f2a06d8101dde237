"""What an update sends for a field the program ignores, and why this project refreshes before every operation.

The engine sets each `ignoreChanges` path back to the resource's old *input*, the one in the stack's state
(pulumi/pulumi v3.259.0 `pkg/resource/deploy/step_generator.go` `processIgnoreChanges`). pulumi-kubernetes then puts
the live object's value in (94977969d `provider/pkg/await/await.go` `handleSSAIgnoreFields`); pulumi-azure-native
does not: its PUT carries the old input (`provider/pkg/provider/provider.go` `Update`, 6d9e7fe5d and a later stored
version alike), which only a refresh brings up to date (its `Read` applies the change between the old and the live
outputs to the inputs). Azure
changes these fields itself: the autoscaler a pool's `count` (a PUT with another count is a manual scale AKS refuses
on an autoscaled pool, hashicorp/terraform-provider-azurerm#4543) and the auto-upgrade channel the versions (an older
version is a downgrade AKS refuses). A project whose Pulumi.yaml sets `options.refresh: always` refreshes before
every `pulumi up`, `preview` and `destroy` (v3.259.0 `pkg/cmd/pulumi/operations/io.go` `getRefreshOption`).
"""
from __future__ import annotations

import json
from typing import Any

from llmplatform.testing import Plan

from .plan_diff.rules import ignored_why_key  # the ignored fields a controller or the cloud owns (IGNORED_WHY)


def _options(project: Any) -> Any:
    """Pulumi.yaml's `options`, as written (None when the file is no mapping or sets none)."""
    return project.get("options") if isinstance(project, dict) else None


def refreshes_always(project: Any) -> bool:
    """Pulumi.yaml's `options.refresh` is `always` (the only value its schema allows)."""
    options = _options(project)
    return isinstance(options, dict) and options.get("refresh") == "always"


def sent_from_state(plan: Plan) -> list[tuple[str, list[str]]]:
    """(resource name, ignored paths) of every Azure resource whose update sends a value Azure or others own
    (IGNORED_WHY: the autoscaler's count, the auto-upgrade's versions, the cluster features a policy turns on) from
    the state, not from Azure."""
    found = []
    for r in plan.resources:
        if r.custom and r.type.startswith("azure-native:"):
            owned = [p for p in r.options.get("ignoreChanges") or [] if ignored_why_key(p)]
            if owned:
                found.append((r.name, owned))
    return found


def refused_options(project: Any) -> list[str]:
    """What in Pulumi.yaml's `options` the CLI's project schema refuses (sdk/go/common/workspace/project.json:
    `options` is an object whose only key is `refresh`, and its only value `always`): the CLI then loads no project,
    so no `pulumi` command of the stack runs."""
    options = _options(project)
    if options is None:
        return []
    if not isinstance(options, dict):
        return [f"`options` is {json.dumps(options, default=str)}, not a mapping"]
    refused = [f"`options.{key}` is no project option" for key in options if key != "refresh"]
    if "refresh" in options and options["refresh"] != "always":
        refused.append(f"`options.refresh` is {json.dumps(options['refresh'], default=str)}, and the only value it "
                       f"takes is `always`")
    return refused


def refresh_warning(plan: Plan, project: Any) -> str | None:
    """The plan's warning when Pulumi.yaml's `options` are ones the CLI refuses, or when the project does not refresh
    first and an update would send stale ignored values."""
    refused = refused_options(project)
    if refused:
        return (f"Pulumi.yaml: {'; '.join(refused)}: the Pulumi CLI refuses this project file (its project schema), so "
                f"no `pulumi` command runs with it; write `options: {{refresh: always}}`")
    stale = sent_from_state(plan)
    if refreshes_always(project) or not stale:
        return None
    named = "; ".join(f"{name} ({', '.join(paths)})" for name, paths in stale)
    return (f"Pulumi.yaml does not set `options: {{refresh: always}}`: an update of these Azure resources sends each "
            f"ignored field as the stack last wrote it, not as Azure changed it since (the autoscaler's node count, "
            f"the auto-upgrade's version, a cluster feature a policy turned on): {named}. AKS has refused a count "
            f"other than an autoscaled pool's as a manual scale (hashicorp/terraform-provider-azurerm#4543) and "
            f"refuses an older version; set the option, or run `pulumi up --refresh`")
