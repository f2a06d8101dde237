"""Every planned variant's objects against what the charts' validating admission webhooks refuse (tests/webhooks.py):
KEDA's ScaledObject rules and prometheus-operator's PrometheusRule rules, in one plan and, for KEDA, across a deploy
from one variant to another."""
from __future__ import annotations

import copy

import pytest

from offline.plan import manifests

from tests.conftest import REGIONS, VARIANTS, variant, variant_or_stack
from tests.webhooks import all_refusals, plan_refusals, prometheus_rule_refusals, transition_refusals


def _objects(plan):
    return [obj for _, obj in manifests(plan)]


def _scaled_object(objects, name="ollama-scaler"):
    return next(o for o in objects if o["kind"] == "ScaledObject" and o["metadata"]["name"] == name)


@pytest.mark.parametrize("name", [*sorted(VARIANTS), *REGIONS])
def test_the_webhooks_admit_every_object(name):
    objects = _objects(variant_or_stack(name))
    assert any(o["kind"] == "PrometheusRule" for o in objects)
    assert all_refusals(objects) == []


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_a_scaled_object_with_a_cpu_or_memory_trigger_waits_for_its_workload(name):
    """verifyCPUMemoryScalers reads the target Deployment from the API server; created before it, the ScaledObject
    is refused (NotFound), so the ScaledObject must wait for the Deployment."""
    plan = variant(name)
    for reg in plan.kubernetes_objects():
        spec = reg.inputs.get("spec") or {}
        if reg.inputs["kind"] != "ScaledObject" or not any(
                t.get("type") in ("cpu", "memory") for t in spec.get("triggers", [])):
            continue
        ref, ns = spec["scaleTargetRef"], reg.inputs["metadata"]["namespace"]
        assert plan.waits_for(reg, lambda r: r.is_kubernetes_object and r.inputs["kind"] == ref["kind"]
                              and r.inputs["metadata"]["name"] == ref["name"]
                              and r.inputs["metadata"].get("namespace") == ns), reg.urn


@pytest.mark.parametrize(("plant", "rule"), [
    (lambda so, objs: so["spec"].update(minReplicaCount=3, maxReplicaCount=2), "verifyReplicaCount"),
    (lambda so, objs: so["spec"].update(idleReplicaCount=5), "verifyReplicaCount"),
    (lambda so, objs: so["metadata"].update(name="o" * 64), "verifyName"),
    (lambda so, objs: so["spec"].update(triggers=[so["spec"]["triggers"][0]] * 2), "verifyTriggers"),
    (lambda so, objs: so["spec"].update(triggers=[]), "verifyTriggers"),
    (lambda so, objs: so["spec"].update(fallback={"failureThreshold": 3, "replicas": 1},
                                        triggers=[{"type": "cpu", "metricType": "Utilization",
                                                   "metadata": {"value": "70"}}], minReplicaCount=1),
     "verifyFallback"),
    (lambda so, objs: so["spec"].update(triggers=[{"type": "cpu", "metricType": "Utilization",
                                                   "metadata": {"value": "70"}}], minReplicaCount=0),
     "verifyCPUMemoryScalers"),
    (lambda so, objs: next(o for o in objs if o["kind"] == "Deployment" and o["metadata"]["name"] == "ollama")[
        "spec"]["template"]["spec"]["containers"][0].pop("resources"), "verifyCPUMemoryScalers"),
    (lambda so, objs: objs.append({**copy.deepcopy(so), "metadata": {**so["metadata"], "name": "second"}}),
     "verifyScaledObjects"),
    (lambda so, objs: objs.append({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
                                   "metadata": {"name": "ollama", "namespace": so["metadata"]["namespace"]},
                                   "spec": {"scaleTargetRef": dict(so["spec"]["scaleTargetRef"]), "maxReplicas": 2}}),
     "verifyHpas"),
    # a transfer of an HPA named as KEDA names its own still needs that name in advanced settings
    (lambda so, objs: (so["metadata"].setdefault("annotations", {}).update(
        {"scaledobject.keda.sh/transfer-hpa-ownership": "true"}), objs.append({
            "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": f"keda-hpa-{so['metadata']['name']}", "namespace": so["metadata"]["namespace"]},
            "spec": {"scaleTargetRef": dict(so["spec"]["scaleTargetRef"]), "maxReplicas": 2}})), "verifyHpas"),
])
def test_a_planted_violation_is_refused_naming_the_object_and_the_rule(dev, plant, rule):
    objects = copy.deepcopy(_objects(dev))
    so = _scaled_object(objects)
    plant(so, objects)
    refusals = plan_refusals(objects)
    assert any(r.startswith(f"ScaledObject llm/{so['metadata']['name']}: {rule}: ") for r in refusals), refusals


def test_empty_scaling_modifiers_are_no_modifiers(dev):
    """KEDA reads scalingModifiers equal to their zero value as not in use (IsUsingModifiers): no formula needed."""
    objects = copy.deepcopy(_objects(dev))
    so = _scaled_object(objects)
    so["spec"].setdefault("advanced", {})["scalingModifiers"] = {"formula": "", "target": ""}
    assert plan_refusals(objects) == []


@pytest.mark.parametrize(("old", "new"), [(a, b) for a in sorted(VARIANTS) for b in sorted(VARIANTS)
                                          if a != b and VARIANTS[a][0] == VARIANTS[b][0]])
def test_a_deploy_from_one_variant_to_another_passes_the_keda_webhook(old, new):
    """Pulumi deletes what the new plan dropped only after it created what is new: a ScaledObject that replaces an
    HPA on the same Deployment (autoscaling.mode gpu-memory or cpu to requests) meets that HPA."""
    assert transition_refusals(_objects(variant(old)), _objects(variant(new))) == []


def _alert(objects):
    rule = next(o for o in objects if o["kind"] == "PrometheusRule")
    return rule, rule["spec"]["groups"][0]["rules"][0]


@pytest.mark.parametrize(("plant", "reason"), [
    (lambda rule, alert: alert.update(record="gpu:memory:ratio"), "only one of 'record' and 'alert' must be set"),
    (lambda rule, alert: alert["labels"].update({"team-name": "llm"}), "invalid label name: team-name"),
    (lambda rule, alert: alert["annotations"].update({"run.book": "x"}), "invalid annotation name: run.book"),
    (lambda rule, alert: alert.update(expr="sort_by_label(up, \"job\")"), "'sort_by_label' is experimental"),
    (lambda rule, alert: alert.update(expr="limitk(1, up)"), "'limitk' is experimental"),
    (lambda rule, alert: alert.update(alert="", record="a{b}", annotations={}, labels={}, **{"for": "0s"}),
     "invalid recording rule name: a{b}"),
    (lambda rule, alert: rule["spec"]["groups"].append(copy.deepcopy(rule["spec"]["groups"][0])), "is repeated"),
    (lambda rule, alert: alert["annotations"].update(description="x" * 600_000), "length of rendered"),
])
def test_a_planted_prometheus_rule_violation_is_refused_naming_the_object(dev, plant, reason):
    objects = copy.deepcopy(_objects(dev))
    rule, alert = _alert(objects)
    plant(rule, alert)
    refusals = prometheus_rule_refusals(rule)
    assert any(r.startswith(f"PrometheusRule {rule['metadata']['namespace']}/{rule['metadata']['name']}: ")
               and reason in r for r in refusals), refusals
