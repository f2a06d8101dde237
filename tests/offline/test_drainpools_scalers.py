"""One table of the autoscalers' ranges for the plan's two readers (offline/deploy_model/scaler_ranges.py): the
node-drain check (the most replicas a node's drain may hold) and the pool delete's drain (plan_diff/pool_drains.py:
the fewest and the most a budget must let go) read each autoscaler alike, KEDA's and the HPA's defaults as upstream
documents them (docs/decisions.md, "Spot pools' pods in the stack's drain", the KEDA defaults)."""
import dataclasses
from typing import Any, Callable

import pytest

from offline import plan as offline_plan, plan_diff
from offline.deploy_model.node_drains import replacements
from offline.deploy_model.scaler_ranges import HPA, SCALED_OBJECT, SCALERS, Range, replica_range, target
from offline.plan_diff.pool_drains import _replicas
from offline.runner import Plan


def test_the_table_holds_the_upstream_defaults():
    """An HPA's minReplicas defaults to 1 and its maxReplicas is required (kubernetes/api autoscaling/v2 types.go;
    the API server refuses one below 1); KEDA's minReplicaCount defaults to 0 and maxReplicaCount to 100
    (scaledobject-spec.md, `defaultHPAMaxReplicas`), its target kind to Deployment."""
    assert SCALERS[HPA] == ("minReplicas", 1, "maxReplicas", None, None)
    assert SCALERS[SCALED_OBJECT] == ("minReplicaCount", 0, "maxReplicaCount", 100, "Deployment")


@pytest.mark.parametrize("type_, spec, expected", [
    (SCALED_OBJECT, {}, Range(0, 100)),
    (SCALED_OBJECT, {"minReplicaCount": 2}, Range(2, 100)),
    (SCALED_OBJECT, {"maxReplicaCount": 4}, Range(0, 4)),
    (HPA, {"maxReplicas": 6}, Range(1, 6)),
    (HPA, {"minReplicas": 3, "maxReplicas": 6}, Range(3, 6)),
    (HPA, {"minReplicas": 3}, None),  # no maximum: the API server refuses the HPA
    (SCALED_OBJECT, {"maxReplicaCount": "4"}, None),  # no number: refused too
    (HPA, {"minReplicas": 4, "maxReplicas": 2}, Range(4, 4)),
])
def test_a_range_reads_each_bound_or_its_default(type_, spec, expected):
    assert replica_range(type_, spec) == expected


def test_a_scaled_objects_target_is_a_deployment_unless_it_names_another_kind():
    spec = {"spec": {"scaleTargetRef": {"name": "w"}}, "metadata": {"namespace": "n"}}
    assert target(SCALED_OBJECT, spec) == ("n", "Deployment", "w")
    assert target(HPA, spec) == ("n", None, "w")


def _edited(plan: Plan, type_: str, edit: Callable[[dict[str, Any]], dict[str, Any]]) -> Plan:
    return dataclasses.replace(plan, resources=[
        dataclasses.replace(r, inputs=edit(r.inputs)) if r.type == type_ else r for r in plan.resources])


def _both_readers(plan: Plan, workload: str) -> tuple[int, tuple[int, int]]:
    """The node-drain check's most replicas of Deployment llm/`workload`, and the pool delete's (fewest, most)."""
    doc = plan_diff.resources_by_urn(offline_plan.resources_document(plan))
    scalers = [r for r in doc.values() if r["type"] in SCALERS]
    (res,) = [r for r in doc.values() if r["type"] == "kubernetes:apps/v1:Deployment"
              and r["inputs"]["metadata"]["name"] == workload]
    fewest, most, _ = _replicas(res, scalers)
    return replacements(plan)[f"Deployment llm/{workload}"].most, (fewest, most)


def test_an_hpa_without_its_maximum_leaves_both_readers_at_the_deployments_replicas(prod):
    """prod's UI HPA (3 to 6) planted with a minimum of 4 and no maxReplicas: the API server refuses it, so the UI
    runs its Deployment's 3 replicas; the pool delete's drain read that HPA's minimum, 4, as its range (an HPA
    scaling nothing), where the node-drain check read the Deployment's."""
    planted = _edited(prod, HPA, lambda i: {**i, "spec": {**{k: v for k, v in i["spec"].items()
                                                              if k != "maxReplicas"}, "minReplicas": 4}})
    assert _both_readers(planted, "open-webui") == (3, (3, 3))
    assert _both_readers(prod, "open-webui") == (6, (3, 6))


def test_a_scaled_object_without_its_maximum_is_keda_s_100_to_both_readers(prod):
    planted = _edited(prod, SCALED_OBJECT, lambda i: {**i, "spec": {k: v for k, v in i["spec"].items()
                                                                     if k != "maxReplicaCount"}})
    assert _both_readers(planted, "ollama") == (100, (2, 100))


def test_an_autoscaler_of_another_kind_scales_no_deployment_of_its_name(prod):
    """prod's Ollama ScaledObject planted to target a StatefulSet `ollama`: the Deployment `ollama` keeps its own 2
    replicas in both readers (the node-drain check gave it the ScaledObject's 4)."""
    planted = _edited(prod, SCALED_OBJECT, lambda i: {**i, "spec": {**i["spec"], "scaleTargetRef": {
        **i["spec"]["scaleTargetRef"], "kind": "StatefulSet"}}})
    assert _both_readers(planted, "ollama") == (2, (2, 2))
