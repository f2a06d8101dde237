"""The custom resources our Helm releases render from the values we set (tests/admission.py `rendered_objects`:
kube-prometheus-stack's Prometheus and Alertmanager, gpu-operator's ClusterPolicy, the llm-d router's
InferencePool and its DestinationRule, the KEDA HTTP add-on's ScaledObject) against their vendored upstream CRDs: a field the CRD refuses
fails the release's atomic `helm install` at `pulumi up`."""
from __future__ import annotations

import copy
import re
import types

import pytest

from offline.deploy_model.charts import chart_name, chart_values, vendored_charts

from tests.admission import RENDERERS, Read, crd_refusals, release_objects, rendered_crd_refusals, rendered_objects
from tests.conftest import REGIONS, VARIANTS, variant_or_stack



@pytest.mark.parametrize("name", [*sorted(VARIANTS), *REGIONS])
def test_every_rendered_custom_resource_passes_its_crd(name):
    assert rendered_crd_refusals(variant_or_stack(name)) == []


def test_the_plans_render_every_transcribed_kind_and_each_has_a_vendored_crd():
    """Not vacuous: between them the plans render each kind, and each is checked against a CRD (a kind without one
    would pass unchecked)."""
    from tests.admission import CRDS, _group
    rendered = {(o["apiVersion"], o["kind"]) for name in ("dev", "dev-operator", "llmd")
                for o in rendered_objects(variant_or_stack(name))}
    assert {k for _, k in rendered} == {"Prometheus", "Alertmanager", "ClusterPolicy", "InferencePool", "ScaledObject",
                                        "DestinationRule"}
    unchecked = {k for a, k in rendered if not (CRDS / _group({"apiVersion": a}) / f"{k}.yaml").is_file()}
    assert unchecked == set()


def _leaves(values, path=""):
    """The dotted paths of a values tree's leaves (a list is a leaf: Helm replaces it whole)."""
    if isinstance(values, dict) and values:
        for key, value in values.items():
            yield from _leaves(value, f"{path}.{key}" if path else str(key))
    else:
        yield path


def _template_paths(chart: str) -> set[str]:
    directory = vendored_charts()[chart]
    return {m for t in RENDERERS[chart][1] for m in re.findall(r"\.Values\.([A-Za-z0-9_.]+)",
                                                               (directory / t).read_text())}


@pytest.mark.parametrize("name", [*sorted(VARIANTS), *REGIONS])
def test_every_value_we_set_that_a_transcribed_template_reads_is_transcribed(name):
    """A value of ours that flows into a rendered custom resource reaches the check: each `.Values` path of the
    vendored template that is, or holds, or lies in a value we set is one the transcription reads. (Planted: a
    transcription that skipped `prometheusSpec.retention` or `daemonsets.tolerations` fails here.)"""
    missed = {}
    for release in variant_or_stack(name).helm_releases():
        chart = chart_name(release.inputs)
        if chart not in RENDERERS:
            continue
        ours = set(_leaves(release.inputs.get("values") or {}))
        read = Read(chart_values(release.inputs))
        release_objects(release.inputs, read)
        touching = {p for p in _template_paths(chart)
                    if any(o == p or o.startswith(p + ".") or p.startswith(o + ".") for o in ours)}
        if touching - read.paths:
            missed[chart] = sorted(touching - read.paths)
    assert missed == {}


def _release_with(name, chart, change):
    """A stand-in plan holding a copy of one release whose values `change` edits."""
    release = copy.deepcopy(next(r for r in variant_or_stack(name).helm_releases() if chart_name(r.inputs) == chart))
    change(release.inputs.setdefault("values", {}))
    return types.SimpleNamespace(helm_releases=lambda: [release])


def _set(path, value):
    def change(values):
        *parents, leaf = path.split(".")
        node = values
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return change


@pytest.mark.parametrize(("name", "chart", "path", "value", "refusal"), [
    # prometheus-operator v0.93.1's duration pattern (no spaces, no months)
    ("dev", "kube-prometheus-stack", "prometheus.prometheusSpec.retention", "15 days",
     "Prometheus monitoring/kps-prometheus: spec.retention: '15 days' does not match"),
    # Alertmanager's retention takes hours at most: a Prometheus-style "5d" is refused
    ("dev", "kube-prometheus-stack", "alertmanager.alertmanagerSpec.retention", "5d",
     "Alertmanager monitoring/kps-alertmanager: spec.retention: '5d' does not match"),
    ("dev", "kube-prometheus-stack", "prometheus.prometheusSpec.logLevel", "verbose",
     "Prometheus monitoring/kps-prometheus: spec.logLevel: 'verbose' is not one of"),
    ("dev-operator", "gpu-operator", "mig.strategy", "double",
     "ClusterPolicy /cluster-policy: spec.mig.strategy: 'double' is not one of ['none', 'single', 'mixed']"),
    ("dev-operator", "gpu-operator", "daemonsets.tolerations", [{"key": "x", "tolerationSeconds": "60"}],
     "ClusterPolicy /cluster-policy: spec.daemonsets.tolerations.0.tolerationSeconds: '60' is not of type 'integer'"),
    ("llmd", "llm-d-router-gateway", "router.inferencePool.failureMode", "FailSometimes",
     "InferencePool llm-d/llmd: spec.endpointPickerRef.failureMode: 'FailSometimes' is not one of"),
    ("dev", "keda-add-ons-http", "interceptor.scaledObject.pollingInterval", "1m",
     "ScaledObject keda/keda-add-ons-http-interceptor: spec.pollingInterval: '1m' is not of type 'integer'"),
])
def test_a_planted_bad_value_is_refused_naming_the_object_and_field(name, chart, path, value, refusal):
    refusals = rendered_crd_refusals(_release_with(name, chart, _set(path, value)))
    assert any(r.startswith(refusal) for r in refusals), refusals


def test_a_cel_rule_of_a_rendered_crd_is_applied():
    """The CRD's x-kubernetes-validations run too: Prometheus's topology sharding needs as many shards as zones
    (the chart's `shards: 1`, three zones)."""
    plan = _release_with("dev", "kube-prometheus-stack", _set("prometheus.prometheusSpec.shardingStrategy", {
        "mode": "Topology", "topology": {"values": ["1", "2", "3"]}}))
    refusals = rendered_crd_refusals(plan)
    assert any(r.startswith("Prometheus monitoring/kps-prometheus: spec: rule") for r in refusals), refusals
