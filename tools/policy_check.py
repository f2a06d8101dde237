"""Runs the policy pack offline: each policy's validate function on the inputs the offline plan records, the same
functions `pulumi preview --policy-pack policy` calls (policy/policies.py)."""
from dataclasses import dataclass

from pulumi_policy import EnforcementLevel, PolicyCustomTimeouts, PolicyResourceOptions, ResourceValidationArgs

from policy.policies import POLICIES

from .offline import Plan, Registration


@dataclass(frozen=True)
class Violation:
    policy: str
    mandatory: bool
    resource: str
    message: str


def validation_args(reg: Registration) -> ResourceValidationArgs:
    """What the policy analyzer hands a policy for one resource, from what the offline plan recorded."""
    timeouts = reg.options.get("customTimeouts") or {}
    opts = PolicyResourceOptions(
        protect=reg.options.get("protect", False), ignore_changes=list(reg.options.get("ignoreChanges") or []),
        delete_before_replace=reg.options.get("deleteBeforeReplace"), aliases=[],
        custom_timeouts=PolicyCustomTimeouts(timeouts.get("create", 0), timeouts.get("update", 0),
                                             timeouts.get("delete", 0)),
        additional_secret_outputs=[], parent=reg.parent or None)
    return ResourceValidationArgs(resource_type=reg.type, props=reg.inputs, urn=reg.urn, name=reg.name, opts=opts,
                                  provider=None)


def evaluate(plan: Plan) -> list[Violation]:
    found: list[Violation] = []
    for reg in plan.resources:
        if not reg.custom:
            continue
        args = validation_args(reg)
        for policy in POLICIES:
            def report(message: str, urn: object = None, _policy=policy, _reg=reg) -> None:
                found.append(Violation(_policy.name, _policy.enforcement_level == EnforcementLevel.MANDATORY,
                                       _reg.name, message))
            validators = policy.validate if isinstance(policy.validate, list) else [policy.validate]
            for validate in validators:
                validate(args, report)
    return found


def report_lines(violations: list[Violation]) -> list[str]:
    if not violations:
        return [f"policy pack: {len(POLICIES)} policies, no violations"]
    return [f"policy {'VIOLATION' if v.mandatory else 'advisory'}: [{v.policy}] {v.resource}: {v.message}"
            for v in violations]
