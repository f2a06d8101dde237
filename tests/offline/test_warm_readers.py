"""The arithmetic of how many Ollama pods warm their model at once (offline/deploy_model/warm_readers.py)."""
import pytest

from offline.deploy_model.warm_readers import (DEFAULT_SCALE_UP, Bound, ScalePolicy, added_within, combined,
                                               drain_readers, scale_rules, scale_up_readers, scaler_of, taken_back,
                                               warm_readers)
from tests.offline.test_deploy_model import k8s

KIT = ("Max", (ScalePolicy("Pods", 2, 60),))  # ModelAutoscaler's scaleUp: 2 pods per 60 s


def test_the_scale_up_rules_are_the_behaviors_with_the_api_servers_defaults_for_what_it_leaves_unset():
    assert scale_rules({"scaleUp": {"policies": [{"type": "Pods", "value": 2, "periodSeconds": 60}],
                                       "stabilizationWindowSeconds": 0}}) == KIT
    assert scale_rules(None) == ("Max", DEFAULT_SCALE_UP) == scale_rules({"scaleDown": {}})
    assert scale_rules({"scaleUp": {"selectPolicy": "Disabled"}}) == ("Disabled", DEFAULT_SCALE_UP)


def test_an_hpa_adds_each_policys_pods_once_per_period_within_a_span():
    assert [added_within(*KIT, s, 10) for s in (0, 59, 60, 61, 460)] == [2, 2, 2, 4, 16]
    both = (ScalePolicy("Pods", 4, 15), ScalePolicy("Percent", 100, 15))
    assert added_within("Max", both, 30, 10) == 20  # 100 % of the 10 it can reach, twice
    assert added_within("Min", both, 30, 10) == 8
    assert added_within("Disabled", both, 30, 10) == 0 == added_within("Max", (), 30, 10)


def test_under_max_policies_of_different_periods_add_up():
    """horizontal.go under selectPolicy Max: 10 pods per 60 s beside 4 per 15 s add 10 at 0 s, then 4 at each of 15,
    30 and 45 s (the first's window is full, the second's has emptied): 22 in a minute, more than either policy's
    own count (10, 16). Their sum bounds it; policies of one period take the largest."""
    mixed = (ScalePolicy("Pods", 10, 60), ScalePolicy("Pods", 4, 15))
    assert added_within("Max", mixed, 60, 50) == 26  # at least the 22 the HPA adds
    assert added_within("Min", mixed, 60, 50) == 10
    assert added_within("Max", (ScalePolicy("Pods", 10, 60), ScalePolicy("Pods", 4, 60)), 60, 50) == 10


def test_the_api_servers_defaults_are_4_pods_or_100_percent_up_and_100_percent_down_per_15_s():
    """kubernetes/kubernetes pkg/apis/autoscaling/v2/defaults.go `defaultHPAScaleUpRules`, `defaultHPAScaleDownRules`:
    a behavior's unset scaleUp is the higher of 4 pods and 100 % every 15 s, its scaleDown 100 % every 15 s."""
    assert scale_rules({}) == ("Max", (ScalePolicy("Pods", 4, 15), ScalePolicy("Percent", 100, 15)))
    assert scale_rules({}, "scaleDown") == ("Max", (ScalePolicy("Percent", 100, 15),))


def test_a_percent_policy_rounds_up_and_a_policy_without_a_period_or_any_policy_adds_none():
    """horizontal.go rounds a Percent proposal up ("the proposed change might not increase the replica count"): 50 %
    of 3 adds 2, 67 % of 3 adds 3. A period of 0 (the API server refuses it) counts nothing, as no policy does."""
    assert added_within("Max", (ScalePolicy("Percent", 50, 60),), 0, 3) == 2
    assert added_within("Max", (ScalePolicy("Percent", 67, 60),), 0, 3) == 3
    assert added_within("Max", (ScalePolicy("Pods", 1, 1),), 3, 10) == 3  # a 1 s period: a step each second
    assert added_within("Max", (ScalePolicy("Pods", 2, 0),), 30, 10) == 0
    assert added_within("Min", (), 30, 10) == 0


def test_a_scale_down_is_counted_over_the_longest_scale_up_period():
    """Deletions within any scale-up policy's period raise its start: the longest period holds the most of them."""
    up = (ScalePolicy("Pods", 4, 15), ScalePolicy("Pods", 2, 60))
    assert taken_back({"scaleDown": {"policies": [{"type": "Pods", "value": 1, "periodSeconds": 15}]}}, up, 8) == 4


def test_a_scale_up_counts_the_steps_that_start_before_the_first_are_warm():
    def warm(readers: int) -> float:  # 2 x 20000 MB at 95 MB/s + 40 s: 460 s
        return readers * 20000 / 95 + 40
    assert scale_up_readers(*KIT, 2, 4, warm) == 2  # room for 2: one step
    assert scale_up_readers(*KIT, 1, 4, warm) == 3  # the second step comes 60 s later, the first still warming
    assert scale_up_readers(*KIT, 1, 4, lambda readers: 30.0) == 2  # a warm-up shorter than a period: no overlap
    assert scale_up_readers(*KIT, 4, 4, warm) == 0  # held at its maximum
    assert scale_up_readers("Disabled", KIT[1], 1, 4, warm) == 0


def test_a_scale_up_step_adds_back_what_a_scale_down_took_within_its_period():
    """Since kubernetes/kubernetes#109058 a period starts at the replicas less those added and plus those deleted
    within it: ModelAutoscaler's scale-down (1 pod per 300 s) may have taken 1 within the scale-up's 60 s, which the
    next step adds back beside its 2. Without a behavior the controller keeps no events; a behavior without a
    scaleDown has the API server's (100 % per 15 s: 4 periods of 60 s, of 4 replicas)."""
    kit = {"scaleUp": {"policies": [{"type": "Pods", "value": 2, "periodSeconds": 60}]},
           "scaleDown": {"policies": [{"type": "Pods", "value": 1, "periodSeconds": 300}]}}
    assert taken_back(kit, KIT[1], 4) == 1
    assert taken_back(None, DEFAULT_SCALE_UP, 4) == 0
    assert taken_back({"scaleUp": kit["scaleUp"]}, KIT[1], 4) == 16
    assert scale_up_readers(*KIT, 1, 6, lambda readers: 30.0) == 2
    assert scale_up_readers(*KIT, 1, 6, lambda readers: 30.0, 1) == 3  # the first step: 2 + the 1 taken
    assert scale_up_readers(*KIT, 2, 4, lambda readers: 600.0, 1) == 2  # no room for it


def test_the_autoscaler_is_the_hpa_or_the_scaled_object_of_the_deployment_as_the_api_server_and_keda_default_it():
    """An HPA's minReplicas defaults to 1, a ScaledObject's minReplicaCount to 0 and maxReplicaCount to 100 (kedacore
    /keda v2.20.2 controllers/keda/hpa.go `getHPAMaxReplicas`); another Deployment's autoscaler is not its own."""
    deployment = k8s("o", {"apiVersion": "apps/v1", "kind": "Deployment",
                           "metadata": {"name": "ollama", "namespace": "llm"}, "spec": {"replicas": 1}})
    target = {"scaleTargetRef": {"name": "ollama"}}  # a ScaledObject's kind defaults to Deployment
    keda = k8s("s", {"apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject",
                     "metadata": {"name": "ollama-scaler", "namespace": "llm"}, "spec": target})
    scaler = scaler_of(deployment, [keda])
    assert (scaler.min_replicas, scaler.max_replicas, scaler.taken) == (0, 100, 0)
    hpa = k8s("h", {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
                    "metadata": {"name": "ollama", "namespace": "llm"},
                    "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "ollama"},  # an HPA's kind is required
                             "maxReplicas": 4, "behavior": {"scaleUp": {"policies": [
                        {"type": "Pods", "value": 2, "periodSeconds": 60}]}}}})
    scaler = scaler_of(deployment, [hpa])
    assert (scaler.min_replicas, scaler.max_replicas, scaler.policies, scaler.taken) == (1, 4, KIT[1], 16)
    elsewhere = k8s("x", {**hpa.inputs, "metadata": {"name": "ollama", "namespace": "other"}})
    stateful = k8s("y", {**hpa.inputs, "spec": {**hpa.inputs["spec"], "scaleTargetRef": {"kind": "StatefulSet",
                                                                                        "name": "ollama"}}})
    vertical = k8s("v", {**hpa.inputs, "apiVersion": "autoscaling.k8s.io/v1", "kind": "VerticalPodAutoscaler"})
    assert scaler_of(deployment, [elsewhere, stateful, vertical]) is None
    # an HPA without its required kind or maximum is refused by the API server: it scales nothing (scaler_ranges)
    kindless = k8s("k", {**hpa.inputs, "spec": {**hpa.inputs["spec"], "scaleTargetRef": {"name": "ollama"}}})
    unbounded = k8s("u", {**hpa.inputs, "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "ollama"}}})
    assert scaler_of(deployment, [kindless, unbounded]) is None


def test_a_scale_up_from_zero_counts_kedas_activation_pod_and_the_hpas_steps_from_one():
    assert scale_up_readers(*KIT, 0, 9, lambda readers: readers * 71 + 10) == 9
    assert scale_up_readers(*KIT, 0, 1, lambda readers: 600.0) == 1  # the activation alone
    assert scale_up_readers(*KIT, 0, 4, lambda readers: 30.0) == 3  # 1, then one step of 2
    assert scale_up_readers("Max", (ScalePolicy("Pods", 1, 60),), 0, 4, lambda readers: 30.0) == 2  # 1, then 1


@pytest.mark.parametrize("replicas, spot, max_unavailable, min_available, expected", [
    (4, False, 1, None, 1), (4, False, "50%", None, 2), (5, False, "30%", None, 2),  # maxUnavailable rounded up
    (4, False, None, 3, 1), (4, False, None, "50%", 2), (4, False, None, None, 4),  # no budget: all at once
    (4, True, 1, None, 4),  # a spot pool: no drain, so no budget paces it
    (4, False, 0, None, 1), (4, False, None, 4, 1)])  # a budget that allows none blocks the drain: 1, the safe side
def test_a_node_upgrade_restarts_what_the_disruption_budget_allows_and_every_pod_on_spot(
        replicas, spot, max_unavailable, min_available, expected):
    assert drain_readers(replicas, spot, max_unavailable, min_available) == expected


def test_one_fix_for_every_source_is_a_key_they_all_bound_at_its_tightest():
    most, least = Bound("autoscaling.maxReplicas", True, 8), Bound("autoscaling.minReplicas", False, 1)
    tighter = Bound("autoscaling.maxReplicas", True, 7)
    assert combined([(least, most), (tighter,)]) == "autoscaling.maxReplicas at most 7"
    assert combined([(least, most)]) == "autoscaling.minReplicas at least 1 or autoscaling.maxReplicas at most 8"
    assert combined([(least, most), (tighter, least)]) == (
        "autoscaling.minReplicas at least 1 or autoscaling.maxReplicas at most 7")  # both keys bound both groups
    assert combined([(least,), (Bound("autoscaling.minReplicas", False, 3),)]) == "autoscaling.minReplicas at least 3"
    assert combined([(Bound("inference.replicas", True, 2),), (least, most)]) == (
        "inference.replicas at most 2 and (autoscaling.minReplicas at least 1 or autoscaling.maxReplicas at most 8)")


@pytest.mark.parametrize("strategy, starts", [
    ({}, 3),  # maxSurge 25 % of 6 rounded up (2) + maxUnavailable 25 % rounded down (1)
    ({"type": "Recreate"}, 6),  # every replica at once
    ({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 0, "maxUnavailable": 1}}, 1),
    ({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "100%"}}, 6)])
def test_a_rollout_reads_the_deployments_own_strategy(strategy, starts):
    """The Deployment's strategy, as the Deployment controller reads it: Recreate starts every replica at once, a
    rolling update surge + unavailable (llmplatform.rollouts), each unset one 25 %."""
    deployment = k8s("o", {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "ollama"},
                           "spec": {"replicas": 6, "strategy": strategy}})
    rollout = warm_readers(deployment, 6, [deployment], lambda readers: 30.0)[1]
    assert (rollout.count, rollout.source.startswith("a rolling update at inference.replicas 6")) == (starts, True)
    assert ("the Recreate strategy" in rollout.source) == (strategy.get("type") == "Recreate")


@pytest.mark.parametrize("replicas, raised", [(0, 3), (1, 2), (None, 2), (3, None)])
def test_the_raise_is_from_the_deployments_replicas_to_the_autoscalers_minimum(replicas, raised):
    """The autoscaler raises spec.replicas (unset: the first deploy's count, 1) to its minimum; none at it. A node
    upgrade with no disruption budget restarts every replica at once."""
    spec = {} if replicas is None else {"replicas": replicas}
    deployment = k8s("o", {"apiVersion": "apps/v1", "kind": "Deployment",
                           "metadata": {"name": "ollama", "namespace": "llm"}, "spec": spec})
    hpa = k8s("h", {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
                    "metadata": {"name": "ollama", "namespace": "llm"},
                    "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "ollama"}, "minReplicas": 3,
                             "maxReplicas": 5}})
    sources = {r.source.split(" ")[1]: r.count for r in warm_readers(deployment, 1, [deployment, hpa],
                                                                      lambda readers: 30.0)}
    assert sources.get("autoscaler") == raised
    assert sources["node"] == 5


@pytest.mark.parametrize("replicas, minimum, fixes", [
    (1, 4, "autoscaling.minReplicas at most 3 or inference.replicas at least 2"),
    (2, 8, "autoscaling.minReplicas at most 4")])  # inference.replicas at least 6 would start 6 on a first deploy
def test_the_raises_fix_offers_more_replicas_only_where_their_first_deploy_fits(replicas, minimum, fixes):
    """Fits 2: the raise fits under a minimum of replicas + 2, or replicas of the minimum - 2 where those 2 fit."""
    deployment = k8s("o", {"apiVersion": "apps/v1", "kind": "Deployment",
                           "metadata": {"name": "ollama", "namespace": "llm"}, "spec": {"replicas": replicas}})
    hpa = k8s("h", {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
                    "metadata": {"name": "ollama", "namespace": "llm"},
                    "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "ollama"}, "minReplicas": minimum,
                             "maxReplicas": minimum}})
    raised = next(r for r in warm_readers(deployment, replicas, [deployment, hpa], lambda readers: 30.0)
                  if r.source.startswith("the autoscaler raises"))
    assert combined([raised.levers(2)]) == fixes


def _scaled(behavior, minimum=1, maximum=4):
    """A Deployment of 1 replica in llm, its HPA (`behavior`, `minimum` to `maximum`) and a budget of other pods."""
    deployment = k8s("o", {"apiVersion": "apps/v1", "kind": "Deployment",
                           "metadata": {"name": "ollama", "namespace": "llm"},
                           "spec": {"replicas": 1, "template": {"metadata": {"labels": {"app": "ollama"}}}}})
    hpa = k8s("h", {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
                    "metadata": {"name": "ollama", "namespace": "llm"},
                    "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "ollama"}, "minReplicas": minimum,
                             "maxReplicas": maximum, **({"behavior": behavior} if behavior else {})}})
    other = k8s("b", {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
                      "metadata": {"name": "webui", "namespace": "llm"},
                      "spec": {"maxUnavailable": 1, "selector": {"matchLabels": {"app": "webui"}}}})
    return {r.source.split(" ")[1]: r for r in warm_readers(deployment, 1, [other, deployment, hpa],
                                                             lambda readers: 600.0)}


def test_the_scale_up_names_its_steps_and_what_a_step_adds_back():
    kit = {"scaleUp": {"policies": [{"type": "Pods", "value": 2, "periodSeconds": 60}]},
           "scaleDown": {"policies": [{"type": "Pods", "value": 1, "periodSeconds": 300}]}}
    assert "in steps of 2 pods per 60 s, selectPolicy Max, while the first are warming, the first adding back up " \
        "to 1 a scale-down took within its period" in _scaled(kit)["scale-up"].source
    bare = _scaled(None)["scale-up"].source
    assert "in steps of 4 pods per 15 s, 100 % per 15 s, selectPolicy Max, while the first are warming" in bare
    assert "adding back" not in bare


def test_a_drain_reads_the_deployments_own_budget_and_words_it_so():
    """Another workload's budget in the namespace does not pace Ollama's drain: with none of its own, every replica."""
    node = _scaled(None)["node"]
    assert (node.count, node.source) == (4, "a node upgrade's drain evicts them as the disruption budget allows")


def test_the_scale_ups_bound_on_the_maximum_is_the_activation_pod_alone_where_one_reader_fits():
    """From zero, fits 1: the activation pod alone fits, maxReplicas 1."""
    levers = _scaled({"scaleUp": {"policies": [{"type": "Pods", "value": 2, "periodSeconds": 60}]}}, 0, 4)
    assert levers["scale-up"].levers(1)[1] == Bound("autoscaling.maxReplicas", True, 1)
