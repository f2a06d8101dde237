"""Node drains wait for the longest answer: an upgrade's drain (AKS's drainTimeoutInMinutes) and a scale-down's
(the autoscaler's max-graceful-termination-sec) against every pod's terminationGracePeriodSeconds on the pools it may
run on (offline/deploy_model/node_drains.py; docs/decisions.md "Node drains wait for the longest answer")."""
from __future__ import annotations

import dataclasses
from typing import Any, Callable

import pulumi
import pytest

import llmplatform
from llmplatform import testing
from llmplatform.checks import ComponentInputError
from offline import deploy_model
from offline.deploy_model.node_drains import check_node_drains, needed_minutes
from offline.runner import Plan
from tests.components.test_azaudit_put_rules import aks_args
from tests.conftest import plan_for

POOL = "azure-native:containerservice:AgentPool"
FIXED = ("the stack's cluster takes its drain timeout from gateway.requestTimeoutSeconds, "
         "autoscaling.coldStartTimeoutSeconds and webui.maxReplicas; with components, give AksCluster's "
         "drain_timeout_minutes={minutes} (upgrades.drain_minutes_for({figures}))")
CLUSTER = "azure-native:containerservice:ManagedCluster"


def _edited(plan: Plan, type_: str, edit: Callable[[dict[str, Any]], dict[str, Any]]) -> Plan:
    """The plan with each resource of `type_` given edited inputs (a copy: plans are shared)."""
    return dataclasses.replace(plan, resources=[
        dataclasses.replace(r, inputs=edit(r.inputs)) if r.type == type_ else r for r in plan.resources])


def _messages(plan: Plan) -> list[str]:
    return [f"{p.resource}: {p.message}" for p in check_node_drains(plan)]


def test_no_planned_pod_outlasts_a_drain_of_a_pool_it_may_run_on(any_plan):
    assert _messages(any_plan) == []


def test_the_stacks_pools_wait_for_their_longest_drain(prod):
    """prod's longest grace, 1830 s (the router's, the UI's and the KEDA interceptor's: the answer's wait of 1800 s
    and 30 s to shut down), and its six UI pods (webui.maxReplicas) that may share a node, each next one evicted once
    the previous one's replacement is Ready (490 s): 1830 + 5 x 490 = 4280 s, 72 minutes; the regular pools wait 77
    (5 of margin), the autoscaler as long; the spot GPU pool sends none (AKS does not drain it)."""
    pools = {r.inputs["agentPoolName"]: r.inputs for r in prod.of_type(POOL)}
    assert pools["cpu"]["upgradeSettings"] == {"drainTimeoutInMinutes": 77}
    assert pools["gpuod"]["upgradeSettings"]["drainTimeoutInMinutes"] == 77
    assert "upgradeSettings" not in pools["gpu"]
    (cluster,) = prod.of_type(CLUSTER)
    assert cluster.inputs["autoScalerProfile"]["maxGracefulTerminationSec"] == "4620"
    assert "upgradeSettings" not in cluster.inputs["agentPoolProfiles"][0]  # the system pool keeps AKS's 30


def test_a_pool_with_a_short_drain_timeout_fails_the_plan(prod):
    """Planted: prod's CPU pool waiting 10 minutes per node, its fallback GPU pool 10 too."""
    short = _edited(prod, POOL, lambda i: {**i, "upgradeSettings": {**(i.get("upgradeSettings") or {}),
                                                                    "drainTimeoutInMinutes": 10}}
                    if i.get("scaleSetPriority") != "Spot" else i)
    messages = _messages(short)
    router = [m for m in messages if m.startswith("Deployment llm/router:")]
    assert router == [
        "Deployment llm/router: its pods take up to 1830 s to stop (terminationGracePeriodSeconds); up to 2 of them "
        "may share a node (its replicas, 2) and the drain evicts each next one only once the previous one's "
        "replacement is Ready (up to 60 s: its image's pull allowance and probes), so the node's drain takes up to "
        "1890 s and may run on pool 'cpu', whose upgrade waits 10 minutes (600 s) per node "
        "(upgradeSettings.drainTimeoutInMinutes) and then fails: " + FIXED.format(minutes=37, figures="1830, 2, 60")]
    assert any(m.startswith("Deployment llm/ollama:") and "'gpuod'" in m and "630 s" in m for m in messages)
    assert all("'gpu'," not in m for m in messages)  # the spot pool: not drained
    problems = deploy_model.evaluate(short).problems  # what `make plan` refuses
    assert any(p.rule == "node-drain" for p in problems)


def prometheus_grace(seconds: int) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """An edit of a Helm release's inputs: kube-prometheus-stack's Prometheus given `seconds` to stop in its values
    (other releases as they are)."""
    def longer(inputs: dict[str, Any]) -> dict[str, Any]:
        if not str(inputs.get("chart", "")).endswith("kube-prometheus-stack"):
            return inputs
        values = inputs["values"]
        spec = {**values["prometheus"]["prometheusSpec"], "terminationGracePeriodSeconds": seconds}
        return {**inputs, "values": {**values, "prometheus": {**values["prometheus"], "prometheusSpec": spec}}}
    return longer


def test_a_chart_pod_with_a_long_grace_fails_the_plan(prod):
    """Planted: Prometheus given 5000 s to stop in kube-prometheus-stack's values (the chart's pods are read from
    their values, not from a manifest the program writes)."""
    messages = _messages(_edited(prod, "kubernetes:helm.sh/v3:Release", prometheus_grace(5000)))
    assert sorted(m.split(", whose")[0].split(", where")[0] for m in messages) == [
        "chart kube-prometheus-stack: prometheus: its pods take up to 5000 s to stop (terminationGracePeriodSeconds) "
        "and may run on pool 'cpu'"] * 2  # the upgrade's 77 minutes and the scale-down's 4620 s
    # the figure the components' rules name (upgrades.drain_minutes_for): the grace in minutes and the margin
    assert all(m.endswith(FIXED.format(minutes=89, figures="5000")) for m in messages)


def test_a_regular_gpu_pool_without_the_timeout_fails_a_long_answer():
    """Planted: prod with hour-long answers (Ollama's grace 3630 s; the pools' drain 66 minutes) and its GPU fallback
    pool sent without drainTimeoutInMinutes (AKS's 30): Ollama outlasts the fallback's upgrade, not the spot pool's
    (AKS drains none) nor the CPU pool's."""
    plan = plan_for("prod", {"gateway": {"requestTimeoutSeconds": 3600}})
    assert _messages(plan) == []
    bare = _edited(plan, POOL, lambda i: {**i, "upgradeSettings": {
        k: v for k, v in i["upgradeSettings"].items() if k != "drainTimeoutInMinutes"}}
        if i.get("agentPoolName") == "gpuod" else i)
    assert _messages(bare) == [
        "Deployment llm/ollama: its pods take up to 3630 s to stop (terminationGracePeriodSeconds) and may run on "
        "pool 'gpuod', whose upgrade waits 30 minutes (1800 s) per node (upgradeSettings.drainTimeoutInMinutes) and "
        "then fails: " + FIXED.format(minutes=66, figures="3630")]  # one A100 a node: one Ollama pod a node


def test_the_aks_defaults_fail_a_long_answer(prod):
    """Planted: what main sent (no drain timeout, AKS's 30 minutes; no autoscaler grace, AKS's 600 s)."""
    main = _edited(_edited(prod, POOL, lambda i: {k: v for k, v in i.items() if k != "upgradeSettings"}),
                   CLUSTER, lambda i: {**i, "autoScalerProfile": {
                       k: v for k, v in i["autoScalerProfile"].items() if k != "maxGracefulTerminationSec"}})
    found = sorted((p.resource, p.message.split("pool '")[1].split("'")[0],
                    "upgrade" if "whose upgrade waits 30 minutes (1800 s)" in p.message else
                    "scale-down" if "kills them after 600 s" in p.message else p.message)
                   for p in check_node_drains(main))
    assert found == sorted([
        *((workload, "cpu", drain) for workload in ("Deployment llm/router", "Deployment llm/open-webui",
                                                     "chart keda-add-ons-http: interceptor")
          for drain in ("upgrade", "scale-down")),
        # Ollama's 630 s fits the fallback's 30 minutes, not a scale-down's 600 s, on either GPU pool
        ("Deployment llm/ollama", "gpu", "scale-down"), ("Deployment llm/ollama", "gpuod", "scale-down")])


def test_a_longer_answer_takes_a_longer_drain_through_the_stack_keys():
    """gateway.requestTimeoutSeconds 3600 and a cold start of 1800: the interceptor's and the gate's grace is 5430 s,
    the gate's two pods on a node 5490 s; the pools wait 92 + 5 minutes and the autoscaler 5820 s, and no pod outlasts
    them."""
    plan = plan_for("dev", {"gateway": {"requestTimeoutSeconds": 3600},
                            "autoscaling": {"coldStartTimeoutSeconds": 1800}})
    (cluster,) = plan.of_type(CLUSTER)
    assert cluster.inputs["autoScalerProfile"]["maxGracefulTerminationSec"] == str(97 * 60)
    assert _messages(plan) == []


def test_a_grace_beyond_what_aks_waits_names_the_limit():
    assert needed_minutes(86400 + 30) == ("more than AKS's most, 1440 minutes, for a drain of 86430 s: lower the "
                                          "answer's timeout (request_timeout_seconds) or the replicas that may share "
                                          "a node")
    assert needed_minutes(1830).endswith("drain_timeout_minutes=36 (upgrades.drain_minutes_for(1830))")
    assert needed_minutes(1830, 6, 490).endswith("drain_timeout_minutes=77 (upgrades.drain_minutes_for(1830, 6, 490))")


@pytest.mark.parametrize("minutes", [0, 1441, 30.5, True])
def test_a_drain_timeout_aks_does_not_take_is_refused_by_name(minutes):
    with pytest.raises(ComponentInputError, match=r"drain_timeout_minutes=.*a whole number from 1 to 1440 \(AKS's "
                                                  r"drainTimeoutInMinutes"):
        llmplatform.AksCluster("aks", aks_args(drain_timeout_minutes=minutes))


def test_a_gpu_pool_follows_the_clusters_drain_timeout():
    """AksCluster's drain_timeout_minutes reaches its CPU pool, the autoscaler and, through the cluster handle, a
    regular GpuNodePool and a spot pool's fallback (not the spot pool)."""
    def program() -> None:
        aks = llmplatform.AksCluster("aks", aks_args(drain_timeout_minutes=90, autoscaler_expander="priority"))
        on = pulumi.ResourceOptions(providers=[aks.provider])
        llmplatform.GpuNodePool("a", {"cluster": aks.cluster, "vm_size": "Standard_NC4as_T4_v3", "pool_name": "a",
                                      "fallback": {"enabled": True, "max_count": 1}}, on)
        llmplatform.GpuNodePool("b", {"cluster": aks.cluster, "vm_size": "Standard_NC4as_T4_v3", "pool_name": "b",
                                      "priority": "regular"}, on)
    plan = testing.run(program)
    settings = {r.inputs["agentPoolName"]: r.inputs.get("upgradeSettings") for r in plan.of_type(POOL)}
    assert settings == {"cpu": {"drainTimeoutInMinutes": 90}, "a": None,
                        "aod": {"maxSurge": "0", "maxUnavailable": "1", "drainTimeoutInMinutes": 90},
                        "b": {"maxSurge": "0", "maxUnavailable": "1", "drainTimeoutInMinutes": 90}}
    (cluster,) = plan.of_type(CLUSTER)
    assert cluster.inputs["autoScalerProfile"]["maxGracefulTerminationSec"] == "5400"


@pytest.mark.parametrize("grace, minutes", [(30, 30), (1500, 30), (1530, 31), (1830, 36), (5430, 96), (7230, 126)])
def test_the_drain_timeout_is_the_grace_in_minutes_and_the_margin_never_under_aks_default(grace, minutes):
    from llmplatform.upgrades import drain_minutes_for
    assert drain_minutes_for(grace) == minutes


def _drain_of(plan: Plan, minutes: int) -> Plan:
    """The plan with every regular pool's upgrade waiting `minutes` per node."""
    return _edited(plan, POOL, lambda i: {**i, "upgradeSettings": {**(i.get("upgradeSettings") or {}),
                                                                   "drainTimeoutInMinutes": minutes}}
                   if i.get("scaleSetPriority") != "Spot" else i)


def test_ui_replicas_that_may_share_a_node_fail_the_plan_on_main_s_drain(prod):
    """Planted: prod's pools at main's 36 minutes. Its six UI pods (HPA maxReplicas) may all share a node (the
    hostname spread is ScheduleAnyway; a D8ds_v5 node holds them by their requests), and the drain frees each next
    one only once the previous one's replacement is Ready (180 s pull allowance + 300 s start + 10 s readiness):
    1830 + 5 x 490 = 4280 s. `make plan` (deploy_model.evaluate) refuses it, naming pod, pool, figures and the fix."""
    planted = _drain_of(prod, 36)
    assert _messages(planted) == [
        "Deployment llm/open-webui: its pods take up to 1830 s to stop (terminationGracePeriodSeconds); up to 6 of "
        "them may share a node (its autoscaler's maximum, 6) and the drain evicts each next one only once the previous "
        "one's replacement is Ready (up to 490 s: its image's pull allowance and probes), so the node's drain takes "
        "up to 4280 s and may run on pool 'cpu', whose upgrade "
        "waits 36 minutes (2160 s) per node (upgradeSettings.drainTimeoutInMinutes) and then fails: "
        + FIXED.format(minutes=77, figures="1830, 6, 490")]
    assert [p.resource for p in deploy_model.evaluate(planted).problems if p.rule == "node-drain"] == [
        "Deployment llm/open-webui"]
    assert _messages(_drain_of(prod, 76)) == [] == _messages(_drain_of(prod, 77))


def test_the_rules_count_a_replacement_as_the_plan_check_reads_the_pods(any_plan):
    """The figures the components' rules and the stack's default count (inference_specs.ROUTER_READY_SECONDS,
    WEBUI_READY_SECONDS, OLLAMA_READY_SECONDS) are what the plan check reads from the planned pods' probes and
    images (the gate's: where its key-map reloader runs; without one, its nginx alone is Ready sooner)."""
    from llmplatform.inference_specs import OLLAMA_READY_SECONDS, ROUTER_READY_SECONDS, WEBUI_READY_SECONDS
    from offline.deploy_model.node_drains import replacements
    found = replacements(any_plan)
    expected = {"router": ROUTER_READY_SECONDS, "open-webui": WEBUI_READY_SECONDS, "ollama": OLLAMA_READY_SECONDS}
    seen = {owner.rsplit("/", 1)[-1]: r.ready_seconds for owner, r in found.items()
            if owner.rsplit("/", 1)[-1] in expected}
    assert seen and all(seen[name] <= expected[name] for name in seen), seen
    if any_plan.stack == "prod":
        assert seen == expected


def test_the_pull_allowances_cover_the_deploy_models_pessimistic_pulls(any_plan):
    """Each image of a workload whose replicas may share a node is allowed at least the deploy model's pessimistic
    pull (config/data/deploy_durations.json image_pull) on a fresh node."""
    import json

    from llmplatform.upgrades import pull_allowance_seconds
    from offline.deploy_model.figures import image_pull
    from offline.deploy_model.model import DURATIONS
    from offline.deploy_model.node_drains import replacements
    from offline.pod_specs import pod_spec
    data = json.loads(DURATIONS.read_text())
    several = {owner for owner, r in replacements(any_plan).items() if r.most > 1}
    checked = 0
    for kind in ("Deployment", "StatefulSet"):
        for reg in any_plan.of_type(f"kubernetes:apps/v1:{kind}"):
            meta = reg.inputs.get("metadata") or {}
            if f"{kind} {meta.get('namespace')}/{meta.get('name')}" not in several:
                continue
            spec = pod_spec(reg.inputs) or {}
            images = [c["image"] for c in (spec.get("containers") or []) + (spec.get("initContainers") or [])]
            assert pull_allowance_seconds(images) >= image_pull(data, images).pessimistic, (meta, images)
            checked += 1
    assert checked


def test_a_node_holds_no_more_replicas_than_its_resources_take(prod):
    """prod's Ollama may scale to 4 replicas (autoscaling.maxReplicas) but each takes the A100 of an NC24ads_A100_v4:
    one a node on the GPU fallback, so its drain is its grace alone; the UI's six fit one D8ds_v5."""
    from offline import capacity
    from offline.deploy_model.node_drains import replacements, sharing_on
    found, pools = replacements(prod), {p.name: p for p in capacity.pools(prod)}
    pods = {p.owner: p for p in capacity.program_pods(prod)}
    assert found["Deployment llm/ollama"].most == 4
    assert sharing_on(pods["Deployment llm/ollama"], pools["gpuod"], found["Deployment llm/ollama"]) == 1
    assert sharing_on(pods["Deployment llm/open-webui"], pools["cpu"], found["Deployment llm/open-webui"]) == 6


def test_replicas_on_the_nodes_an_upgrade_drains_at_once_share_their_budget(prod):
    """Planted: prod's GPU fallback pool (one A100 a node, so one Ollama pod a node) given a surge of 2 and 20 minutes
    a node. AKS cordons and drains as many nodes at once as its surge nodes, and Ollama's budget (maxUnavailable 1)
    spans them: the second node's pod goes only once the first one's replacement is Ready (1090 s), 630 + 1090 =
    1720 s, beyond 1200. `make plan` refuses it, naming the two pods and the fix."""
    surged = _edited(prod, POOL, lambda i: {**i, "upgradeSettings": {
        "maxSurge": "2", "maxUnavailable": "0", "drainTimeoutInMinutes": 20}}
        if i.get("agentPoolName") == "gpuod" else i)
    ollama = [m for m in _messages(surged) if "'gpuod'" in m]
    assert ollama == [
        "Deployment llm/ollama: its pods take up to 630 s to stop (terminationGracePeriodSeconds); up to 2 of them "
        "may share a node (its autoscaler's maximum, 4, of which the nodes an upgrade drains at once hold 2 by their "
        "requests) and the drain evicts each next one only once the previous one's replacement is Ready (up to "
        "1090 s: its image's pull allowance and probes), so the node's drain takes up to 1720 s and may run on pool "
        "'gpuod', whose upgrade waits 20 minutes (1200 s) per node (upgradeSettings.drainTimeoutInMinutes) and then "
        "fails: " + FIXED.format(minutes=34, figures="630, 2, 1090")]
    assert any(p.rule == "node-drain" and "'gpuod'" in p.message for p in deploy_model.evaluate(surged).problems)


def test_the_stack_counts_the_model_servers_on_the_gpu_nodes_an_upgrade_drains_at_once():
    """dev with Ollama on a regular T4 pool (one GPU a node) of up to 4 nodes, upgraded 4 at a time
    (gpu.upgradeMaxSurge 4), and up to 4 replicas: the 4 pods, one a node, are drained at once under one budget,
    630 + 3 x 1090 = 3900 s: the pool waits 70 minutes (65 + 5), and `make plan`'s check finds nothing."""
    plan = plan_for("dev", {"gpu": {"priority": "regular", "maxCount": 4, "upgradeMaxSurge": "4"},
                            "inference": {"accelerator": "gpu"}, "autoscaling": {"maxReplicas": 4}})
    pools = {r.inputs["agentPoolName"]: r.inputs for r in plan.of_type(POOL)}
    assert pools["gpu"]["upgradeSettings"]["drainTimeoutInMinutes"] == 70
    assert [p for p in deploy_model.evaluate(plan).problems if p.rule == "node-drain"] == []


@pytest.mark.parametrize("nodes, settings, at_once", [
    (4, None, 1), (20, None, 2), (4, {"maxSurge": "0", "maxUnavailable": "1"}, 1),
    (4, {"maxSurge": "4", "maxUnavailable": "0"}, 4), (4, {"maxSurge": "50%"}, 2), (3, {"maxSurge": "10"}, 3),
    (10, {"maxSurge": "0", "maxUnavailable": "30%"}, 3), (5, {"maxSurge": "2", "maxUnavailable": "1"}, 3),
    (2, {"maxSurge": "2", "maxUnavailable": "1"}, 2), (0, None, 1)])
def test_the_nodes_an_upgrade_drains_at_once_follow_surge_and_max_unavailable(nodes, settings, at_once):
    from llmplatform.upgrades import nodes_drained_at_once
    assert nodes_drained_at_once(nodes, settings) == at_once
