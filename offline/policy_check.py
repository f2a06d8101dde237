"""Runs the policy pack offline: each policy's validate function on the inputs the offline plan records (a stack
policy: the outputs the stand-ins answer, as the engine hands AnalyzeStack outputs), the same
functions `pulumi preview --policy-pack policy` calls (policy/policies.py).

The arguments are built the way the Analyzer plugin builds them from the engine's request (pulumi-policy 1.21.0,
`_PolicyAnalyzerServicer.Analyze`): inputs through the wire (numbers as doubles, secrets wrapped), deserialised by
pulumi-policy and wrapped in its read-only unknown-checking proxies. So a rule that only works on plain dicts and
lists fails `make plan`, not the first `pulumi preview`; tests/program/test_policy_plugin.py proves both runners agree.
"""
from dataclasses import dataclass
from typing import Any, Mapping, Optional

from pulumi_policy import (EnforcementLevel, PolicyCustomTimeouts, PolicyProviderResource, PolicyResource,
                           PolicyResourceOptions, ResourceValidationArgs, StackValidationArgs)
from pulumi_policy.deserialize import deserialize_properties
from pulumi_policy.proxy import UnknownValueError, unknown_checking_proxy

from llmplatform.testing.stand_ins import preview_state, provider_outputs, stack_outputs_as_sent
from policy.policies import POLICIES, RESOURCE_POLICIES, STACK_POLICIES

from .runner import Plan, Registration
from .wire import UNKNOWN, duration_seconds, from_struct, to_struct, with_secrets, with_unknowns

PACK = "llm-platform-guardrails"  # policy/__main__.py
# the version pulumi-policy 1.21.0 gives every Python pack (`PolicyPack.__init__`: "0.0.1"; the CLI shows
# PulumiPolicy.yaml's, which this pack has none of), in the message of a policy it could not run
PACK_VERSION = "0.0.1"


@dataclass(frozen=True)
class Violation:
    policy: str
    mandatory: bool
    resource: str
    message: str
    urn: str = ""
    unjudged: bool = False
    """The policy read a value a preview does not know yet and was not run on this resource (or stack): pulumi-policy
    answers that with an advisory note in place of whatever the policy would have found (`unjudged_message`)."""


def analyzer_props(reg: Registration, outputs: bool = False, plan: Optional[Plan] = None):
    """A resource's inputs as a resource policy receives them from the Analyzer plugin, or (`outputs`) its outputs
    as a stack policy receives them (`stack_properties`)."""
    wire = stack_properties(reg, plan) if outputs else wire_inputs(reg)
    return unknown_checking_proxy(deserialize_properties(from_struct(to_struct(wire))))


def wire_inputs(reg: Registration) -> dict[str, Any]:
    """A resource's inputs as the engine hands them to Analyze: secrets wrapped, and in a preview each value not known
    yet as the wire's unknown value (`MarshalOptions{KeepUnknowns: true, KeepSecrets: true}`)."""
    return with_unknowns(with_secrets(reg.inputs, reg.secret_paths), reg.unknown_paths)


def stack_properties(reg: Registration, plan: Optional[Plan] = None) -> dict[str, Any]:
    """What the engine hands AnalyzeStack for a resource: its final outputs, not its inputs (pulumi/pulumi
    `step_generator.go` `AnalyzeResources`), as the stand-ins answer it in its provider's output shape: an
    azure-native resource without its path parameters (`endpointName`), its Azure name as `name`. A component's
    (and the Stack's) are the outputs it registered, none if it registered none. In a preview (`plan.preview`) a
    custom resource's outputs are what its provider answers the preview's create (`step.go` `CreateStep.Apply` with
    `Preview: true`; stand_ins.preview_state): an azure-native resource's `name`, id and computed outputs unknown,
    a Kubernetes object under a provider not configured yet none at all."""
    if not reg.custom:
        return dict(reg.outputs or {})
    if plan is not None and plan.preview:
        provider = plan.provider_of(reg)
        return preview_state(reg.type, reg.name, wire_inputs(reg),
                             provider_configured=provider is None or not provider.unknown_paths)[1]
    return provider_outputs(reg.type, reg.name, with_secrets(reg.inputs, reg.secret_paths))


STACK_TYPE = "pulumi:pulumi:Stack"


def stack_resources(plan: Plan) -> list[Registration]:
    """Every resource the engine hands AnalyzeStack: all of the deployment's (`AnalyzeResources` ranges over
    `deployment.news`), components and the root Stack too, not its custom resources alone; a resource's parent is
    then among them, as pulumi-policy links a `PolicyResource`'s parent only to one it was handed. The Stack (the
    parent the SDK gives every top-level resource) holds the stack's outputs. The default providers the engine
    makes for resources that name none are among them (`analyzed`)."""
    stack = Registration(
        urn=f"urn:pulumi:{plan.stack}::{plan.project}::{STACK_TYPE}::{plan.project}-{plan.stack}", type=STACK_TYPE,
        name=f"{plan.project}-{plan.stack}", parent="", custom=False, inputs={}, secret_paths=[], dependencies=[],
        options={}, outputs={**stack_outputs_as_sent(plan), **{k: UNKNOWN for k in plan.unknown_outputs}})
    return [stack, *analyzed(plan)]


def analyzed(plan: Plan) -> list[Registration]:
    """Every resource the engine hands Analyze, one call each: the program's registrations, components too, and the
    default providers (pulumi/pulumi `pkg/resource/deploy/step_generator.go` at 1b5949891b: a default provider is a
    registration of the engine's own, `default_providers.go` `newRegisterDefaultProviderEvent`, whose steps are
    generated, and analyzed, as every other's; it then is in `deployment.news`, which AnalyzeStack ranges over).
    A policy over `args.resources` meets `pulumi:providers:*` resources named `default_<version>`."""
    return [*plan.default_providers, *plan.resources]


def policy_provider(plan: Plan, reg: Registration) -> Optional[PolicyProviderResource]:
    """The provider a policy is handed with a resource (`AnalyzerProviderResource`): its type, URN, name and inputs
    (`step_generator.go` sends the provider state's inputs)."""
    provider = plan.provider_of(reg)
    return None if provider is None else PolicyProviderResource(provider.type, analyzer_props(provider),
                                                                provider.urn, provider.name)


def delete_before_replace(reg: Registration) -> Optional[bool]:
    """The `deleteBeforeReplace` option as a policy sees it: True, False when the program set it false explicitly (the
    kit records `deleteBeforeReplaceDefined`), None when unset. pulumi/pulumi 1b5949891b
    pkg/resource/plugin/analyzer_plugin.go `marshalResourceOptions` sends `DeleteBeforeReplaceDefined` for a set
    pointer, which `source_eval.go` RegisterResource makes for true and for an explicit false; pulumi-policy 1.21.0
    `policy.py` reads `None if not opts.deleteBeforeReplaceDefined else opts.deleteBeforeReplace`."""
    if reg.options.get("deleteBeforeReplace"):
        return True
    return False if reg.options.get("deleteBeforeReplaceDefined") else None


def _options(reg: Registration) -> PolicyResourceOptions:
    timeouts = reg.options.get("customTimeouts") or {}
    return PolicyResourceOptions(
        protect=reg.options.get("protect", False), ignore_changes=list(reg.options.get("ignoreChanges") or []),
        delete_before_replace=delete_before_replace(reg), aliases=[],
        # the engine hands a plugin each custom timeout in seconds
        custom_timeouts=PolicyCustomTimeouts(*(duration_seconds(timeouts.get(kind)) or 0.0
                                               for kind in ("create", "update", "delete"))),
        additional_secret_outputs=[], parent=reg.parent or None)


def validation_args(reg: Registration, config: Optional[Mapping[str, Any]] = None, props: Any = None,
                    provider: Optional[PolicyProviderResource] = None,
                    opts: Optional[PolicyResourceOptions] = None) -> ResourceValidationArgs:
    """What the policy analyzer hands a policy for one resource, from what the offline plan recorded, with the
    policy's configuration (and the resource's provider, `policy_provider`; its props and options where the caller
    made them once for every policy)."""
    return ResourceValidationArgs(resource_type=reg.type, props=analyzer_props(reg) if props is None else props,
                                  urn=reg.urn, name=reg.name, opts=opts or _options(reg), provider=provider,
                                  config=config)


def properties_only(given: Mapping[str, Any]) -> None:
    """The offline runners take a policy-config file's properties, not its enforcement levels (the engine also
    applies `enforcementLevel` entries and an `all` key; `make plan` writes neither)."""
    if "all" in given or any(isinstance(v, Mapping) and "enforcementLevel" in v for v in given.values()):
        raise ValueError("the offline policy runners take policy properties only, no enforcement levels")


def pack_config(given: Optional[Mapping[str, Mapping[str, Any]]] = None) -> dict[str, dict[str, Any]]:
    """Each policy's properties as the engine hands them to the pack (pulumi/pulumi pkg/resource/analyzer/config.go,
    `ReconcilePolicyPackConfig`): its schema's defaults, the given properties over them."""
    properties_only(given or {})
    result = {}
    for policy in POLICIES:
        schema = policy.config_schema
        defaults = {k: v["default"] for k, v in (schema.properties if schema else {}).items() if "default" in v}
        result[policy.name] = {**defaults, **dict((given or {}).get(policy.name) or {})}
    return result


def stack_args(plan: Plan) -> StackValidationArgs:
    """What AnalyzeStack hands a stack policy: every resource (`stack_resources`) with its outputs, parents,
    dependencies and property dependencies linked."""
    every = stack_resources(plan)
    resources = {reg.urn: PolicyResource(reg.type, analyzer_props(reg, outputs=True, plan=plan), reg.urn, reg.name,
                                         _options(reg), policy_provider(plan, reg), None, [], {}) for reg in every}
    for reg in every:
        resources[reg.urn].parent = resources.get(reg.parent)
        resources[reg.urn].dependencies = [resources[d] for d in reg.dependencies if d in resources]
        # each input's dependencies (the engine's state `PropertyDependencies`, pulumi-policy links them alike)
        resources[reg.urn].property_dependencies = {
            key: [resources[d] for d in urns if d in resources] for key, urns in reg.property_dependencies.items()}
    return StackValidationArgs(list(resources.values()))


def evaluate(plan: Plan, given: Optional[Mapping[str, Mapping[str, Any]]] = None) -> list[Violation]:
    """Every policy over the plan, configured with `given` (policy name -> properties) as --policy-pack-config."""
    found: list[Violation] = []
    config = pack_config(given)

    def reporter(policy, resource_name):
        def report(message: str, urn: object = None) -> None:
            reg = next((r for r in analyzed(plan) if r.urn == str(urn)), None) if urn else None
            found.append(Violation(policy.name, policy.enforcement_level == EnforcementLevel.MANDATORY,
                                   reg.name if reg else resource_name, message, str(urn or "")))
        return report

    def run(policy, args, resource_name: str, urn: str = "") -> None:
        """As pulumi-policy 1.21.0 runs a policy (policy.py `_PolicyAnalyzerServicer.Analyze`, `AnalyzeStack`): a
        policy that reads a value not known yet is stopped there, what it reported before kept, and an advisory
        note with no URN stands for the rest, which the engine puts on the resource analyzed (pulumi/pulumi
        1b5949891b pkg/resource/deploy/analyze_snapshot.go `analyzeResource`: `OnPolicyViolation(r.URN, d)`), or
        on the Stack for a stack policy (step_generator.go `resolveStackPolicyViolationURN`)."""
        try:
            policy.validate(args, reporter(policy, resource_name))
        except UnknownValueError as error:
            found.append(Violation(policy.name, False, resource_name, unjudged_message(policy.name, error), urn,
                                   unjudged=True))

    for reg in analyzed(plan):  # the engine analyzes every resource it registers, components and providers too
        props, provider, opts = analyzer_props(reg), policy_provider(plan, reg), _options(reg)
        for policy in RESOURCE_POLICIES:
            run(policy, validation_args(reg, config[policy.name], props, provider, opts), reg.name, reg.urn)
    if STACK_POLICIES:
        stack = stack_args(plan)
        for stack_policy in STACK_POLICIES:
            run(stack_policy, stack, plan.stack)
    return found


def unjudged_message(policy: str, error: UnknownValueError) -> str:
    """pulumi-policy 1.21.0's diagnostic for a policy that read an unknown (policy.py, `except UnknownValueError`)."""
    return f"can't run policy '{policy}' from policy pack '{PACK}@v{PACK_VERSION}' during preview: {error.message}"


def report_lines(violations: list[Violation]) -> list[str]:
    if not violations:
        return [f"policy pack: {len(POLICIES)} policies, no violations"]
    return [f"policy {'VIOLATION' if v.mandatory else 'not judged' if v.unjudged else 'advisory'}: [{v.policy}] "
            f"{v.resource}: {v.message}" for v in violations]
