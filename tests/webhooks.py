"""What the charts' validating admission webhooks refuse, over a plan's objects. KEDA's: the ScaledObject rules the
webhook applies on create and update after the CRD schema passed (kedacore/keda v2.20.2, commit
68a5b5028f35b22d50597c69819ab32c4e92f21a, `apis/keda/v1alpha1/scaledobject_webhook.go` `validateWorkload`, with
`scaledobject_types.go` and `scaletriggers_types.go`). The chart (kedacore/charts v2.20.2, cbb9bb8c,
`keda/templates/webhooks/validatingconfiguration.yaml`) registers it for every namespace and object
(`namespaceSelector: {}`, `objectSelector: {}`); its `failurePolicy` (values `webhooks.failurePolicy: Ignore`) only
covers an unreachable webhook: an answer that refuses still fails the request.

Each refusal is "<Kind> <namespace>/<name>: <rule>: <reason>", the rule named as the webhook's function. The cluster
state the webhook reads (other ScaledObjects and HPAs in the namespace, the target workload, LimitRanges) is the
plan's own objects: the program is alone in its namespaces. `transition_refusals` applies the rules that read other
objects to a deploy from one plan to the next, where Pulumi creates new objects before it deletes removed ones.
prometheus-operator's: PrometheusRule (prometheus_rule_refusals, below). Istio's, cert-manager's and Gateway API's
admission control, and the objects our releases render: tests/admission.py.
"""
import re
from typing import Any, Iterable, Iterator, Optional

import yaml
from llmplatform.rules import parse_quantity

KEDA_COMMIT = "68a5b5028f35b22d50597c69819ab32c4e92f21a"
MAX_LABEL_VALUE = 63  # scaledobject_webhook.go maxK8sLabelValueLength
DEFAULT_MIN, DEFAULT_MAX = 1, 100  # scaledobject_types.go defaultHPAMinReplicas, defaultHPAMaxReplicas
HPA_OWNERSHIP = "validations.keda.sh/hpa-ownership"  # scaledobject_types.go ValidationsHpaOwnershipAnnotation
TRANSFER_OWNERSHIP = "scaledobject.keda.sh/transfer-hpa-ownership"  # ScaledObjectTransferHpaOwnershipAnnotation
RESOURCE_TRIGGERS = ("cpu", "memory")  # scaledobject_webhook.go cpuString, memoryString

def _key(obj: dict[str, Any]) -> str:
    meta = obj.get("metadata") or {}
    return f"{obj['kind']} {meta.get('namespace', '')}/{meta.get('name', '')}"


def _ns(obj: dict[str, Any]) -> str:
    return (obj.get("metadata") or {}).get("namespace", "")


def _target(ref: dict[str, Any]) -> tuple[str, str, str]:
    """(group, kind, name) of a scaleTargetRef; ParseGVKR reads an empty apiVersion/kind as apps/v1 Deployment."""
    api_version = ref.get("apiVersion") or "apps/v1"
    group = api_version.split("/")[0] if "/" in api_version else ""
    return group, ref.get("kind") or "Deployment", ref.get("name", "")


def hpa_name(so: dict[str, Any]) -> str:
    """scaledobject_webhook.go getHpaName: advanced.horizontalPodAutoscalerConfig.name, else keda-hpa-<name>."""
    config = ((so["spec"].get("advanced") or {}).get("horizontalPodAutoscalerConfig") or {})
    return config.get("name") or f"keda-hpa-{so['metadata']['name']}"


def _verify_name(so: dict[str, Any]) -> Optional[str]:
    name = so["metadata"]["name"]
    if len(name) > MAX_LABEL_VALUE:
        return f"name {name!r} is {len(name)} characters long; must be no more than {MAX_LABEL_VALUE}"
    if len(hpa_name(so)) > MAX_LABEL_VALUE:
        return f"HPA name {hpa_name(so)!r} is longer than {MAX_LABEL_VALUE} characters"
    return None


def _verify_replica_count(so: dict[str, Any]) -> Optional[str]:
    """scaledobject_types.go CheckReplicaCountBoundsAreValid."""
    spec = so["spec"]
    least = 0 if spec.get("minReplicaCount") is None else (spec["minReplicaCount"] or DEFAULT_MIN)
    most = spec.get("maxReplicaCount", DEFAULT_MAX)
    if least > most:
        return f"MinReplicaCount={least} must be less than MaxReplicaCount={most}"
    idle = spec.get("idleReplicaCount")
    if idle is not None and idle >= least:
        return f"IdleReplicaCount={idle} must be less than MinReplicaCount={least}"
    return None


def _modifiers(so: dict[str, Any]) -> Optional[dict[str, Any]]:
    """The scalingModifiers in use: none when absent or all empty (scaledobject_types.go IsUsingModifiers compares
    them with the zero ScalingModifiers)."""
    modifiers = (so["spec"].get("advanced") or {}).get("scalingModifiers")
    return modifiers if modifiers and any(modifiers.values()) else None


def _verify_fallback(so: dict[str, Any]) -> Optional[str]:
    """scaledobject_types.go CheckFallbackValid."""
    fallback = so["spec"].get("fallback")
    if fallback is None:
        return None
    if fallback.get("failureThreshold", 0) < 0 or fallback.get("replicas", 0) < 0:
        return "FailureThreshold and Replicas must both be greater than or equal to 0"
    if _modifiers(so) is None and all(t.get("type") in RESOURCE_TRIGGERS for t in so["spec"].get("triggers", [])):
        return "at least one trigger (that is not cpu or memory) has to have the `AverageValue` type for the fallback"
    return None


def _validate_triggers(so: dict[str, Any]) -> Optional[str]:
    """scaletriggers_types.go ValidateTriggers."""
    triggers = so["spec"].get("triggers") or []
    if not triggers:
        return "no triggers defined in the ScaledObject/ScaledJob"
    names: set[str] = set()
    for trigger in triggers:
        if trigger.get("useCachedMetrics") and trigger.get("type") in (*RESOURCE_TRIGGERS, "cron"):
            return f'property "useCachedMetrics" is not supported for {trigger["type"]!r} scaler'
        name = trigger.get("name") or ""
        if name and name in names:
            return f"triggerName {name!r} is defined multiple times, but it must be unique"
        names.add(name)
    return None


def _verify_scaling_modifiers(so: dict[str, Any]) -> Optional[str]:
    """verifyScaledObjects' scalingModifiers part (ValidateAndCompileScalingModifiers' checks but the formula's
    compilation, and the fallback behaviour that needs a formula)."""
    modifiers = _modifiers(so)
    if modifiers is not None:
        if not modifiers.get("formula"):
            return "error ScalingModifiers.Formula is mandatory"
        if not modifiers.get("target"):
            return "formula is given but target is empty"
        try:
            target = float(modifiers["target"])
        except ValueError:
            target = 0.0
        if target <= 0:
            return "error converting target for scalingModifiers (string->float) to valid target"
        if modifiers.get("metricType") == "Utilization":
            return "error trigger type is Utilization, but it needs to be AverageValue or Value for external metrics"
    if (so["spec"].get("fallback") or {}).get("behavior") == "scalingModifiers" and not (modifiers or {}).get(
            "formula"):
        return "scalingModifiers fallback behavior requires scalingModifiers.formula to be defined"
    return None


def _verify_scaled_objects(so: dict[str, Any], others: Iterable[dict[str, Any]]) -> Optional[str]:
    """verifyScaledObjects: no other ScaledObject in the namespace on the same workload or the same HPA name."""
    for other in others:
        if other["kind"] != "ScaledObject" or _ns(other) != _ns(so) or other["metadata"]["name"] == so[
                "metadata"]["name"]:
            continue
        if _target(other["spec"]["scaleTargetRef"]) == _target(so["spec"]["scaleTargetRef"]):
            return (f"the workload {so['spec']['scaleTargetRef']['name']!r} is already managed by the ScaledObject "
                    f"{other['metadata']['name']!r}")
        if hpa_name(other) == hpa_name(so):
            return f"the HPA {hpa_name(so)!r} is already managed by the ScaledObject {other['metadata']['name']!r}"
    return None


def _verify_hpas(so: dict[str, Any], others: Iterable[dict[str, Any]]) -> Optional[str]:
    """verifyHpas: no HPA in the namespace on the same workload unless the ScaledObject owns it, the HPA opts out
    (validations.keda.sh/hpa-ownership: "false"), or the ScaledObject takes it over by name."""
    for hpa in others:
        if hpa["kind"] != "HorizontalPodAutoscaler" or _ns(hpa) != _ns(so):
            continue
        meta = hpa["metadata"]
        if (meta.get("annotations") or {}).get(HPA_OWNERSHIP) == "false":
            continue
        if _target(hpa["spec"]["scaleTargetRef"]) != _target(so["spec"]["scaleTargetRef"]):
            continue
        if any(o.get("kind") == "ScaledObject" and o.get("name") == so["metadata"]["name"]
               for o in meta.get("ownerReferences") or []):
            continue
        if (so["metadata"].get("annotations") or {}).get(TRANSFER_OWNERSHIP) == "true":
            # the name given in advanced settings, not getHpaName's keda-hpa-<name> default (v2.20.2 verifyHpas)
            given = ((so["spec"].get("advanced") or {}).get("horizontalPodAutoscalerConfig") or {}).get("name")
            if given == meta["name"]:
                continue
            return f"the existing hpa {meta['name']!r} must be specified by name in advanced settings"
        return f"the workload {so['spec']['scaleTargetRef']['name']!r} is already managed by the hpa {meta['name']!r}"
    return None


def _limit_range_default(namespace: str, resource: str, others: Iterable[dict[str, Any]]) -> bool:
    """isContainerResourceLimitSet: a LimitRange in the namespace with a Container default (request or limit) > 0."""
    for lr in others:
        if lr["kind"] != "LimitRange" or _ns(lr) != namespace:
            continue
        for item in (lr.get("spec") or {}).get("limits") or []:
            values = [(item.get(k) or {}).get(resource) for k in ("defaultRequest", "default")]
            if item.get("type") == "Container" and any(v is not None and (parse_quantity(v) or 0) > 0 for v in values):
                return True
    return False


def _verify_cpu_memory_scalers(so: dict[str, Any], others: Iterable[dict[str, Any]]) -> Optional[str]:
    """verifyCPUMemoryScalers: a cpu/memory trigger needs that request (or limit) on the target's containers (all, or
    the trigger's containerName), and a ScaledObject of cpu/memory triggers only cannot have minReplicaCount 0. The
    webhook reads the target from the API server: a Deployment or StatefulSet that does not exist yet is refused."""
    triggers = so["spec"].get("triggers") or []
    if not any(t.get("type") in RESOURCE_TRIGGERS for t in triggers):
        return None
    group, kind, name = _target(so["spec"]["scaleTargetRef"])
    if (group, kind) not in (("apps", "Deployment"), ("apps", "StatefulSet")):
        return None
    others = list(others)
    workload = next((o for o in others if o["kind"] == kind and _ns(o) == _ns(so)
                     and o["metadata"]["name"] == name), None)
    if workload is None:
        return f"the {kind} {_ns(so)}/{name} it reads for its cpu/memory trigger does not exist"
    for trigger in triggers:
        if trigger.get("type") not in RESOURCE_TRIGGERS:
            continue
        resource, container_name = trigger["type"], (trigger.get("metadata") or {}).get("containerName", "")
        for container in workload["spec"]["template"]["spec"]["containers"]:
            if container_name and container["name"] != container_name:
                continue
            set_ = [(container.get("resources") or {}).get(k, {}).get(resource) for k in ("requests", "limits")]
            if not any(v is not None and (parse_quantity(v) or 0) > 0 for v in set_) and not _limit_range_default(
                    _ns(so), resource, others):
                return (f"the scaledobject has a {resource} trigger but the container {container['name']} doesn't "
                        f"have the {resource} request defined")
        if all(t.get("type") in RESOURCE_TRIGGERS for t in triggers) and not so["spec"].get("minReplicaCount"):
            return "scaledobject has only cpu/memory triggers AND minReplica is 0 (scale to zero doesn't work)"
    return None


def scaled_object_refusals(so: dict[str, Any], cluster: Iterable[dict[str, Any]]) -> list[str]:
    """What the webhook answers a create or update of `so` while `cluster` (other objects, `so` itself may be among
    them) exists: every rule that refuses, named as the webhook's function."""
    cluster = [o for o in cluster if o is not so]
    checks = [("verifyName", _verify_name(so)), ("verifyReplicaCount", _verify_replica_count(so)),
              ("verifyFallback", _verify_fallback(so)), ("verifyTriggers", _validate_triggers(so)),
              ("verifyScaledObjects", _verify_scaled_objects(so, cluster) or _verify_scaling_modifiers(so)),
              ("verifyHpas", _verify_hpas(so, cluster)),
              ("verifyCPUMemoryScalers", _verify_cpu_memory_scalers(so, cluster))]
    return [f"{_key(so)}: {rule}: {reason}" for rule, reason in checks if reason]


def plan_refusals(objects: list[dict[str, Any]]) -> list[str]:
    """Every refusal KEDA's webhook gives the ScaledObjects of one plan, all its objects in place."""
    return [r for o in objects if o.get("apiVersion") == "keda.sh/v1alpha1" and o["kind"] == "ScaledObject"
            for r in scaled_object_refusals(o, objects)]


def transition_refusals(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[str]:
    """Refusals of a deploy from `old` to `new`: Pulumi creates and updates the new plan's objects before it deletes
    the objects the new plan no longer has (its deletes run last), so each ScaledObject the deploy writes meets the
    old plan's objects too. Only the rules that read other objects depend on the old ones; the rest are
    plan_refusals'."""
    identity = {(o["kind"], _ns(o), o["metadata"]["name"]) for o in new}
    leftover = [o for o in old if (o["kind"], _ns(o), o["metadata"]["name"]) not in identity]
    old_by_id = {(o["kind"], _ns(o), o["metadata"]["name"]): o for o in old}
    out = []
    for so in new:
        if so.get("apiVersion") != "keda.sh/v1alpha1" or so["kind"] != "ScaledObject":
            continue
        if old_by_id.get((so["kind"], _ns(so), so["metadata"]["name"])) == so:
            continue  # unchanged: the deploy does not write it
        cluster = [*leftover, *new]
        for rule, reason in (("verifyScaledObjects", _verify_scaled_objects(so, cluster)),
                             ("verifyHpas", _verify_hpas(so, cluster))):
            if reason:
                out.append(f"{_key(so)}: {rule}: {reason}")
    return out


# prometheus-operator's admission webhook (kube-prometheus-stack 88.5.3 `prometheusOperator.admissionWebhooks`:
# enabled, `namespaceSelector: {}`, served by the operator itself as `deployment.enabled` is false). prometheus-operator
# v0.93.0 (f8fafd475f3d132e239432ae6172de60a6cb6516) `cmd/operator/main.go:743` builds it with
# `model.LegacyValidation` and `parser.Options{}` (no experimental PromQL functions); `pkg/admission/admission.go`
# validatePrometheusRules calls `pkg/operator/rules.go` ValidateRule: the YAML of the spec at most
# MaxConfigMapDataSize (half of 1 MiB), then prometheus v0.313.1 (73ff57ce2b8161059ac7fe5188f03f1c3d22b29a)
# `model/rulefmt/rulefmt.go` RuleGroups.Validate and Rule.Validate. Not implemented here: the Go template parse of
# labels and annotations (testTemplateParsing); the PromQL parse is tests/metric_catalog.py's.
MAX_RULE_BYTES = int(1024 * 1024 * 0.5)  # rules.go MaxConfigMapDataSize = corev1.MaxSecretSize * 0.5
LEGACY_LABEL = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")  # prometheus/common model LegacyValidation
LEGACY_METRIC = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
# prometheus v0.313.1 promql/parser/functions.go (Experimental: true) and lex.go IsExperimentalAggregator
EXPERIMENTAL_FUNCTIONS = ("double_exponential_smoothing", "end", "first_over_time", "histogram_quantiles", "info",
                          "mad_over_time", "max_of", "min_of", "range", "sort_by_label", "sort_by_label_desc",
                          "start", "step", "ts_of_first_over_time", "ts_of_last_over_time", "ts_of_max_over_time",
                          "ts_of_min_over_time", "limitk", "limit_ratio")
_EXPERIMENTAL_CALL = re.compile(r"\b(" + "|".join(EXPERIMENTAL_FUNCTIONS) + r")\s*\(")


def _rule_problems(rule: dict[str, Any]) -> Iterator[str]:
    """rulefmt.go Rule.Validate (legacy names), and parser.Options{}' refusal of experimental functions."""
    record, alert = rule.get("record", ""), rule.get("alert", "")
    if record and alert:
        yield "only one of 'record' and 'alert' must be set"
    if not record and not alert:
        yield "one of 'record' or 'alert' must be set"
    expr = str(rule.get("expr", ""))
    if not expr:
        yield "field 'expr' must be set in rule"
    for function in _EXPERIMENTAL_CALL.findall(expr):
        yield f"could not parse expression: function {function!r} is experimental and not enabled"
    if record:
        for field in ("annotations", "for", "keep_firing_for"):
            if rule.get(field) and rule[field] not in ("0s", "0"):
                yield f"invalid field {field!r} in recording rule"
        if not LEGACY_METRIC.match(record) or "{" in record or "}" in record:
            yield f"invalid recording rule name: {record}"
    for name in rule.get("labels") or {}:
        if not LEGACY_LABEL.match(name) or name == "__name__":
            yield f"invalid label name: {name}"
    for name in rule.get("annotations") or {}:
        if not LEGACY_LABEL.match(name):
            yield f"invalid annotation name: {name}"


def prometheus_rule_refusals(obj: dict[str, Any]) -> list[str]:
    """What prometheus-operator's webhook answers a PrometheusRule: "<Kind> <ns>/<name>: <rule>: <reason>"."""
    spec = obj.get("spec") or {}
    out = []
    # libyaml's emitter: byte for byte PyYAML's own on every PrometheusRule the variants plan and on the planted
    # 600 KB one (docs/performance.md, 2026-12-04), where the pure-Python dumper took 0.2 s a dump
    size = len(yaml.dump(spec, Dumper=yaml.CSafeDumper).encode())
    if size > MAX_RULE_BYTES:
        out.append(f"ValidateRule: the length of rendered Prometheus Rule is {size} bytes, above {MAX_RULE_BYTES}")
    names: set[str] = set()
    for group in spec.get("groups") or []:
        name = group.get("name", "")
        if not name:
            out.append("RuleGroups.Validate: Groupname must not be empty")
        elif name in names:
            out.append(f'RuleGroups.Validate: groupname: "{name}" is repeated in the same file')
        names.add(name)
        for label in group.get("labels") or {}:
            if not LEGACY_LABEL.match(label) or label == "__name__":
                out.append(f"RuleGroups.Validate: invalid label name: {label}")
        for i, rule in enumerate(group.get("rules") or [], 1):
            out.extend(f"Rule.Validate: group {name!r} rule {i} ({rule.get('alert') or rule.get('record')}): {p}"
                       for p in _rule_problems(rule))
    return [f"{_key(obj)}: {r}" for r in out]


def all_refusals(objects: list[dict[str, Any]]) -> list[str]:
    """Every refusal of the webhooks implemented here over one plan's objects."""
    return [*plan_refusals(objects),
            *(r for o in objects if o.get("apiVersion", "").startswith("monitoring.coreos.com/")
              and o["kind"] == "PrometheusRule" for r in prometheus_rule_refusals(o))]
