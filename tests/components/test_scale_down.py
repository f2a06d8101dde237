"""Scale to zero, read against cluster-autoscaler: with every model server KEDA scales at zero, no other pod keeps a
GPU node, and no pod the plans run keeps a CPU user pool node from being removed. The rules are cluster-autoscaler's
own (tests/scale_down.py names the files and tags), applied to the pods each plan runs and to where the charts'
values place theirs; the cluster's autoscaler profile is the one the plan sends, over AKS's defaults."""
from __future__ import annotations

import copy
from dataclasses import replace
from typing import Any, Callable

import pytest

from llmplatform.gpu_node_pool import gpu_tolerations
from offline import runner as offline

from tests import scale_down as sd
from tests.components.test_gpu_scheduling import gpu_pools
from tests.conftest import PLANNED, planned, variant

SHIPPED = ("dev", "prod", "llmd")


def pod(**given: Any) -> sd.PodModel:
    fields: dict[str, Any] = {"name": "Deployment ns/p", "namespace": "ns", "spec": {}, "controller": "ReplicaSet",
                              "floor": 1, "ceiling": 1}
    return sd.PodModel(**{**fields, **given})


AKS = sd.DeleteOptions(skip_nodes_with_local_storage=False, skip_nodes_with_system_pods=True)
UPSTREAM_DEFAULTS = sd.DeleteOptions(skip_nodes_with_local_storage=True, skip_nodes_with_system_pods=True)
DISK, MEMORY = {"name": "cache", "emptyDir": {}}, {"name": "shm", "emptyDir": {"medium": "Memory"}}


def test_the_model_follows_cluster_autoscaler():
    outcome = lambda p, o=UPSTREAM_DEFAULTS: (sd.drainable(p, o).outcome, sd.drainable(p, o).rule)  # noqa: E731
    assert outcome(pod()) == ("undefined", "")  # moved with the node's other pods
    # no controller, or one the autoscaler does not know (skip-nodes-with-custom-controller-pods, true upstream)
    assert outcome(pod(controller=None)) == ("blocked", "Replicated")
    assert outcome(pod(controller="ClusterPolicy")) == ("blocked", "Replicated")
    assert outcome(pod(controller="Job")) == ("undefined", "")
    # the interrupting rules come first: a DaemonSet's pod, safe-to-evict "true", a finished pod
    assert outcome(pod(controller=None, annotations={sd.SAFE_TO_EVICT: "true"})) == ("drainable", "SafeToEvict")
    assert outcome(pod(controller=None, annotations={sd.DAEMONSET_POD: "true"})) == ("drainable", "DaemonSet")
    assert outcome(pod(controller="DaemonSet", namespace="kube-system")) == ("drainable", "DaemonSet")
    assert outcome(pod(controller=None, phase="Succeeded", spec={"restartPolicy": "Never"})) == \
        ("drainable", "Terminal")
    assert outcome(pod(controller=None, annotations={sd.MIRROR: "x"})) == ("skip", "Mirror")
    # terminal by its restart policy (drain.go IsPodTerminal): a Succeeded pod that restarts Always is not finished
    always = {"restartPolicy": "Always"}
    assert outcome(pod(controller=None, phase="Succeeded", spec=always)) == ("blocked", "Replicated")
    assert outcome(pod(controller=None, phase="Failed", spec=always)) == ("drainable", "Terminal")
    assert outcome(pod(controller=None, phase="Succeeded", spec={"restartPolicy": "OnFailure"})) == \
        ("drainable", "Terminal")
    # a pod deleted longer ago than its grace period and 30 s more is skipped, before any blocking rule
    assert outcome(pod(controller=None, deleting_for_s=61)) == ("skip", "LongTerminating")
    assert outcome(pod(controller=None, deleting_for_s=59)) == ("blocked", "Replicated")
    assert outcome(pod(controller=None, deleting_for_s=61, spec={"terminationGracePeriodSeconds": 600})) == \
        ("blocked", "Replicated")
    # kube-system: blocked unless a budget selects it, and only with skip-nodes-with-system-pods; drainable once older
    # than --blocking-system-pod-distruption-timeout (1 h), before the rules that follow it can block
    assert outcome(pod(namespace="kube-system")) == ("blocked", "System")
    assert outcome(pod(namespace="kube-system", budgets=[{"maxUnavailable": 1}])) == ("undefined", "")
    assert outcome(pod(namespace="kube-system"), sd.DeleteOptions(True, False)) == ("undefined", "")
    assert outcome(pod(namespace="kube-system", age_s=3601, annotations={sd.SAFE_TO_EVICT: "false"})) == \
        ("drainable", "System")
    assert outcome(pod(namespace="kube-system", age_s=3599)) == ("blocked", "System")
    assert outcome(pod(annotations={sd.SAFE_TO_EVICT: "false"})) == ("blocked", "NotSafeToEvict")
    # local storage: an emptyDir on disk or a hostPath, unless in memory or named safe; only when the profile skips
    assert outcome(pod(spec={"volumes": [DISK]})) == ("blocked", "LocalStorage")
    assert outcome(pod(spec={"volumes": [{"name": "h", "hostPath": {"path": "/x"}}]})) == ("blocked", "LocalStorage")
    assert outcome(pod(spec={"volumes": [MEMORY]})) == ("undefined", "")
    assert outcome(pod(spec={"volumes": [DISK]}, annotations={sd.SAFE_TO_EVICT_LOCAL_VOLUMES: "cache"})) == \
        ("undefined", "")
    assert outcome(pod(spec={"volumes": [DISK]}), AKS) == ("undefined", "")
    # a budget that allows no eviction at the replicas running
    assert outcome(pod(budgets=[{"minAvailable": 1}])) == ("blocked", "PDB")
    assert outcome(pod(budgets=[{"maxUnavailable": 1}])) == ("undefined", "")
    assert sd.drainable(pod(budgets=[{"minAvailable": 1}], floor=1, ceiling=2), UPSTREAM_DEFAULTS, 2).outcome == \
        "undefined"


def test_the_profile_is_the_plans_over_aks_defaults():
    plan = variant("dev")
    profile = sd.profile(plan)
    (cluster,) = plan.of_type("azure-native:containerservice:ManagedCluster")
    sent = cluster.inputs["autoScalerProfile"]
    assert profile["skip-nodes-with-local-storage"] == sent["skipNodesWithLocalStorage"]
    assert profile["scale-down-unneeded-time"] == sent["scaleDownUnneededTime"]
    assert profile["skip-nodes-with-system-pods"] == "true"  # not sent: AKS's default
    assert sd.delete_options(plan) == AKS


# ---- the plans ---------------------------------------------------------------------------------------------------

CLUSTERS = [n for n in PLANNED if n != "global"]  # the global stack has no cluster (dev-smb-nogpu has no GPU pool)


@pytest.mark.parametrize("name", CLUSTERS)
def test_with_the_model_servers_at_zero_nothing_holds_a_gpu_node(name):
    plan = planned(name)
    pods = sd.at_zero(sd.program_pods(plan) + sd.chart_pods(plan))
    holders = sd.gpu_holders(plan, pods)
    # a model server at a fixed count (llm-d's prefill/decode pair) or under an HPA (from one replica: the gpu-memory
    # and cpu modes, which the config keeps from scaling to zero) holds its nodes by design
    fixed = {p.name for p in pods if p.model_server and p.autoscaler != "ScaledObject"}
    assert [h for h in holders if h.pod not in fixed] == [], "\n".join(map(str, holders))
    if name in SHIPPED:
        assert holders == []


@pytest.mark.parametrize("name", SHIPPED)
def test_as_planned_only_a_model_servers_floor_keeps_gpu_nodes(name):
    plan = planned(name)
    holders = sd.gpu_holders(plan)
    servers = {p.name: p for p in sd.program_pods(plan) if p.model_server}
    for holder in holders:
        assert holder.pod in servers and holder.rule == "nowhere else to go", str(holder)
    # prod keeps two Ollama replicas on its GPU pools, llmd one vLLM replica; dev's Ollama runs on the CPU pool
    assert {(h.pool, h.pod) for h in holders} == {
        "dev": set(), "prod": {("gpu", "Deployment llm/ollama"), ("gpuod", "Deployment llm/ollama")},
        "llmd": {("gpu", "Deployment llm-d/vllm")}}[name]


@pytest.mark.parametrize("name", CLUSTERS)
def test_only_model_servers_and_daemonsets_reach_a_gpu_pool(name):
    """Whatever else may run on a GPU node (a CPU pod with the GPU tolerations) keeps none there at zero only if it
    fits elsewhere; none of the plans lets one there at all, but for the GPU Operator's validation pods, which have
    finished (the autoscaler does not list them)."""
    plan = planned(name)
    gpus = gpu_pools(plan)
    there = {p.name for p in sd.listed(sd.program_pods(plan) + sd.chart_pods(plan))
             if not p.daemonset and not p.model_server and sd.pools_of(p, plan) & gpus}
    assert there == set()


@pytest.mark.parametrize("name", CLUSTERS)
def test_every_pod_that_runs_on_a_gpu_pool_drains(name):
    plan = planned(name)
    blockers = sd.drain_blockers(plan, gpu_pools(plan))
    assert blockers == [], "\n".join(map(str, blockers))


@pytest.mark.parametrize("name", CLUSTERS)
def test_no_pod_keeps_a_cpu_user_pool_node(name):
    plan = planned(name)
    blockers = sd.drain_blockers(plan, sd.cpu_user_pools(plan))
    assert blockers == [], "\n".join(map(str, blockers))


# ---- planted defects -----------------------------------------------------------------------------------------------

def planted(name: str, edit: Callable[[offline.Plan], None]) -> offline.Plan:
    plan = copy.deepcopy(planned(name))
    edit(plan)
    return plan


def obj(plan: offline.Plan, kind: str, namespace: str, name: str) -> dict[str, Any]:
    return next(o.inputs for o in plan.kubernetes_objects() if o.inputs.get("kind") == kind and
                o.inputs["metadata"].get("namespace") == namespace and o.inputs["metadata"]["name"] == name)


def template(plan: offline.Plan, namespace: str, name: str) -> dict[str, Any]:
    return obj(plan, "Deployment", namespace, name)["spec"]["template"]


def test_a_blocking_pod_let_onto_the_gpu_pool_holds_it():
    def edit(plan: offline.Plan) -> None:
        ui = template(plan, "llm-d", "open-webui")
        ui["metadata"]["annotations"] = {sd.SAFE_TO_EVICT: "false"}
        ui["spec"]["tolerations"] = gpu_tolerations()
        del ui["spec"]["nodeSelector"]
    plan = planted("llmd", edit)
    assert [str(h) for h in sd.gpu_holders(plan, sd.at_zero(sd.program_pods(plan)))] == [
        "Deployment llm-d/open-webui holds a node of pool 'gpu': NotSafeToEvict: NotSafeToEvictAnnotation: "
        "cluster-autoscaler.kubernetes.io/safe-to-evict: \"false\""]


def test_a_chart_pod_placed_on_the_gpu_pool_holds_it():
    def edit(plan: offline.Plan) -> None:
        keda = next(r for r in plan.helm_releases() if r.inputs["chart"] == "keda")
        keda.inputs["values"] = {**keda.inputs["values"], "nodeSelector": {"llm-platform/pool": "gpu"},
                                 "tolerations": gpu_tolerations()}
    plan = planted("dev-gpu", edit)
    holders = [str(h) for h in sd.gpu_holders(plan, sd.at_zero(sd.program_pods(plan) + sd.chart_pods(plan)))]
    assert holders == [f"chart keda: {workload} holds a node of pool 'gpu': nowhere else to go: it runs on GPU pools "
                       "only (['gpu']) and keeps 1 replica(s)"
                       for workload in ("keda-operator", "keda-metrics-apiserver", "keda-admission-webhooks")]


def test_a_bare_pod_on_the_gpu_pool_holds_it():
    def edit(plan: offline.Plan) -> None:
        ui = obj(plan, "Deployment", "llm-d", "open-webui")
        spec = ui["spec"]["template"]["spec"]
        ui.clear()
        ui.update({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "debug", "namespace": "llm-d"},
                       "spec": {**spec, "tolerations": gpu_tolerations(), "nodeSelector": {"llm-platform/pool": "gpu"}}})
    plan = planted("llmd", edit)
    assert [(h.pod, h.rule) for h in sd.gpu_holders(plan, sd.at_zero(sd.program_pods(plan)))] == [
        ("Pod llm-d/debug", "nowhere else to go"), ("Pod llm-d/debug", "Replicated")]


def test_skipping_nodes_with_local_storage_would_hold_the_nodes_of_every_emptydir_pod():
    """AKS's default, and AksCluster's explicit setting, is false: with true, vLLM's model cache (HF_HOME) and every
    pod's scratch emptyDir would keep its node."""
    def edit(plan: offline.Plan) -> None:
        (cluster,) = plan.of_type("azure-native:containerservice:ManagedCluster")
        cluster.inputs["autoScalerProfile"] = {**cluster.inputs["autoScalerProfile"], "skipNodesWithLocalStorage": "true"}
    plan = planted("llmd", edit)
    gpu = sd.drain_blockers(plan, gpu_pools(plan))
    assert [(h.pod, h.rule) for h in gpu] == [("Deployment llm-d/vllm", "LocalStorage")]
    assert "['models-cache']" in gpu[0].reason and "skip-nodes-with-local-storage true" in gpu[0].reason
    cpu = {h.pod for h in sd.drain_blockers(plan, sd.cpu_user_pools(plan)) if h.rule == "LocalStorage"}
    assert {"Deployment llm/router", "Job llm/model-preload-724f8019"} <= cpu


def test_a_budget_allowing_no_eviction_at_the_floor_holds_the_node():
    def edit(plan: offline.Plan) -> None:
        budget = obj(plan, "PodDisruptionBudget", "llm-d", "vllm")["spec"]
        del budget["maxUnavailable"]
        budget["minAvailable"] = 1
    plan = planted("llmd", edit)
    assert [(h.pool, h.pod, h.rule) for h in sd.drain_blockers(plan, gpu_pools(plan))] == [
        ("gpu", "Deployment llm-d/vllm", "PDB")]


def test_a_kube_system_pod_on_the_cpu_pool_holds_its_node_for_an_hour():
    def edit(plan: offline.Plan) -> None:
        obj(plan, "Deployment", "llm", "router")["metadata"]["namespace"] = "kube-system"
    plan = planted("dev", edit)
    assert [(h.pool, h.pod, h.rule) for h in sd.drain_blockers(plan, sd.cpu_user_pools(plan))] == [
        ("cpu", "Deployment kube-system/router", "System")]
    older = [replace(p, age_s=2 * 3600) for p in sd.program_pods(plan) + sd.chart_pods(plan)]
    assert sd.drain_blockers(plan, sd.cpu_user_pools(plan), older) == []


# ---- pods the GPU Operator makes itself ------------------------------------------------------------------------

def runs_the_gpu_operator(plan: offline.Plan) -> bool:
    return any(r.inputs["chart"].rstrip("/").endswith("gpu-operator") for r in plan.helm_releases())


def test_some_plans_run_the_gpu_operator():
    assert {"llmd", "dev-operator"} <= {n for n in CLUSTERS if runs_the_gpu_operator(planned(n))}


# Every cluster, not only those that run the operator (found at collection, that made every worker wait there while
# one computed each plan): a plan without the operator models no validation pod.
@pytest.mark.parametrize("name", CLUSTERS)
def test_the_gpu_operators_validation_pods_are_modelled_and_finished_ones_hold_nothing(name):
    """The validator's CUDA workload pod (NVIDIA/gpu-operator v26.7.0 cmd/nvidia-validator/main.go: created on each
    GPU node, pinned to it, owned by the ClusterPolicy, restartPolicy OnFailure; the device-plugin one only with
    `WITH_WORKLOAD`, which no plan sets) finishes Succeeded once the node's GPUs pass; cluster-autoscaler lists no
    finished pod (static_autoscaler.go `AllPodLister`), so it holds nothing."""
    plan = planned(name)
    validators = [p for p in sd.chart_pods(plan) if p.controller == "ClusterPolicy"]
    assert {(p.name, p.pinned) for p in validators} == ({("gpu-operator: nvidia-cuda-validator", pool)
                                                         for pool in gpu_pools(plan)}
                                                        if runs_the_gpu_operator(plan) else set())
    assert all(p.phase == "Succeeded" for p in validators)
    holders = sd.gpu_holders(plan, sd.at_zero(sd.program_pods(plan) + sd.chart_pods(plan)))
    assert [h for h in holders if h.pod.startswith("gpu-operator")] == []


def test_a_gpu_validation_that_never_passes_holds_its_node():
    """A node whose CUDA check keeps failing (the init container retried under OnFailure, the pod never finished)
    runs a pod no controller the autoscaler knows recreates: NotReplicated keeps the node (nothing in the chart
    annotates the pod safe to evict)."""
    plan = planned("llmd")
    stuck = [replace(p, phase="Pending") if p.name.endswith("nvidia-cuda-validator") else p
             for p in sd.at_zero(sd.program_pods(plan) + sd.chart_pods(plan))]
    assert [(h.pool, h.pod, h.rule) for h in sd.gpu_holders(plan, stuck)] == [
        ("gpu", "gpu-operator: nvidia-cuda-validator", "Replicated")]
