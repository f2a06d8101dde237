"""Mutation round fourteen, offline/deploy_model/chart_budgets.py: what its mutants showed no test read."""
from __future__ import annotations

import dataclasses

import pytest

from offline.deploy_model.chart_budgets import _count, release_budgets

from tests.offline.test_deploy_model_budgets import _release


@pytest.mark.parametrize("values, name", [
    ({"thanosRuler": {"enabled": True, "podDisruptionBudget": {"enabled": True}}}, "kps-thanos-ruler"),
    ({"prometheusOperator": {"admissionWebhooks": {"deployment": {"enabled": True,
                                                                  "podDisruptionBudget": {"enabled": True}}}}},
     "kps-operator-webhook"),
])
def test_a_rendered_budget_whose_workload_is_not_modelled_is_read_with_no_pods(values, name):
    """kube-prometheus-stack 88.5.3's ThanosRuler and admission-webhook budgets, turned on: read (their numbers) with
    no pods (capacity.py models neither workload), not a traceback."""
    budgets = {b.name: (b.workload, b.pod, b.fewest, b.most, b.spec)
               for b in release_budgets(_release("kube-prometheus-stack", values))}
    assert budgets == {name: (None, None, 0, 0, {"minAvailable": 1})}


def test_istiods_budget_without_autoscaling_counts_replica_count_not_the_autoscalers_minimum():
    """istiod 1.30.3 with `autoscaleEnabled: false` renders no HorizontalPodAutoscaler: its pods are `replicaCount`
    (2 here), not `autoscaleMin` (1), and no autoscaler sets the count."""
    budgets = {b.name: (b.fewest, b.most, b.scaler) for b in release_budgets(_release(
        "istiod", {"autoscaleEnabled": False, "replicaCount": 2, "autoscaleMin": 1}))}
    assert budgets == {"istiod": (2, 2, None)}


def test_istiods_autoscaler_range_given_as_strings_counts_as_numbers():
    """`minReplicas: {{ .Values.autoscaleMin }}` renders the string "2" as the YAML integer 2: the budget's pods
    range 2 to 5, not the workload's count."""
    budgets = {b.name: (b.fewest, b.most) for b in release_budgets(_release(
        "istiod", {"autoscaleEnabled": True, "autoscaleMin": "2", "autoscaleMax": "5"}))}
    assert budgets == {"istiod": (2, 5)}


@pytest.mark.parametrize("value, count", [(3, 3), (3.0, 3), (" 4 ", 4), ("+2", 2), ("two", 7), (None, 7),
                                          (True, 7), ("", 7)])
def test_a_replica_count_that_renders_no_integer_keeps_the_default(value, count):
    """`_count`: a number or a string of digits is the count; anything else (a word, null, a bool) the default."""
    assert _count(value, 7) == count


def test_a_release_without_name_or_namespace_inputs_is_named_as_pulumi_and_helm_name_it():
    """A Release that gives no `name` (Pulumi names it from the resource) and no `namespace` (Helm's `default`)."""
    release = _release("istiod", {"autoscaleEnabled": False, "replicaCount": 2})
    bare = dataclasses.replace(release, name="control-plane", inputs={
        k: v for k, v in release.inputs.items() if k not in ("name", "namespace")})
    assert [(b.release, b.namespace) for b in release_budgets(bare)] == [("control-plane", "default")]
