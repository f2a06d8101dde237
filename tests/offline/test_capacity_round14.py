"""Mutation round fourteen: what the mutants of the GPU node DaemonSets' code (offline/capacity.py `CHART_PODS`'s GPU
entries, `gpu_operand`, `nfd_pods`, `renders`, `with_requirements`, `chart_pods`, the slot refusal) showed no test
read, each through the plan's entry point or the functions it calls."""
from __future__ import annotations

import dataclasses

import pytest

from config.catalogs import vm_shape
from offline import capacity
from offline.capacity import Pods, Pool, allocatable, pack

from tests.conftest import variant
from tests.offline.test_capacity_gpu_daemonsets import _daemons_on, _plan, _with_values, _workloads

A100 = "Standard_NC24ads_A100_v4"  # 1 GPU, 24 vCPUs, 220 GiB


def _gpu_pool(max_pods: int) -> Pool:
    return Pool("gpu", A100, 1, 2, max_pods, {"kubernetes.io/os": "linux"}, ["nvidia.com/gpu=present:NoSchedule"],
                False)


def _refusal(pod: Pods, daemons: int, max_pods: int) -> str:
    """The error for `pod` on one GPU pool whose nodes run `daemons` one-slot DaemonSets."""
    tolerate = [{"key": "nvidia.com/gpu", "operator": "Exists"}]
    daemon_sets = [Pods(f"ds{i}", 1, 1, daemon=True, tolerations=tolerate) for i in range(daemons)]
    errors = pack([_gpu_pool(max_pods)], [pod, *daemon_sets]).errors
    assert len(errors) == 1, errors
    return errors[0]


def test_a_system_pool_whose_max_pods_its_daemonsets_fill_names_its_own_key(tmp_path, capsys):
    """AKS's own system-pool pods (coredns, metrics-server...) select `kubernetes.azure.com/mode: system`: with
    cluster.systemPool.maxPods at the system nodes' DaemonSet count (prod: 13; 3 nodes keep AKS's 30 pods a pool)
    they have no slot, and the fix names the system pool's key, not the CPU workload pool's; 14 fits."""
    code, out = _plan(["--stack", "prod", "--set", "cluster.systemPool.maxPods=13"], tmp_path, capsys)
    assert code == 1, out
    assert "AKS base (system pool) (600m CPU, 400Mi per pod) fits no node" in out, out
    assert "no pod slot (its DaemonSets need 13 of its maxPods 13)" in out, out
    assert "fix: raise cluster.systemPool.maxPods to at least 14, past the pod slots" in out, out
    assert "workloadPool.maxPods" not in out and "gpu.maxPods" not in out, out
    code, out = _plan(["--stack", "prod", "--set", "cluster.systemPool.maxPods=14"], tmp_path, capsys)
    assert code == 0 and "no pod slot" not in out, out


def test_a_pod_short_of_room_alone_is_told_no_slot_fix(tmp_path, capsys):
    """Ollama's CPU request past an A100 node's, the GPU pools' maxPods left at 30: the fix is a larger size or
    smaller requests and ends there (no "raise ... maxPods" for pools whose slots are free)."""
    code, out = _plan(["--stack", "prod", "--set", "inference.resources.cpuRequest=30",
                       "--set", "inference.resources.cpuLimit=30"], tmp_path, capsys)
    assert code == 1, out
    refusal = next(line for line in out.splitlines() if "fits no node" in line)
    assert refusal.endswith("fix: lower its requests or give its pool a larger VM size (Ollama's requests: "
                            "inference.resources.cpuRequest and memoryRequest; its pool: "
                            "cluster.workloadPool.vmSize on CPU, gpu.vmSize on GPU)"), refusal
    assert "no pod slot" not in out and "maxPods" not in refusal, out


def test_a_pod_asking_more_gpus_than_a_node_has_and_no_slot_is_told_both():
    """A consumer's pod asking 2 GPUs of a 1-GPU size, on nodes whose DaemonSets fill maxPods: more slots alone would
    not place it."""
    refusal = _refusal(Pods("Deployment app/trainer", 1000, 1024, gpus=2,
                            tolerations=[{"key": "nvidia.com/gpu", "operator": "Exists"}]), 3, 3)
    assert refusal.endswith("fix: lower its requests or give its pool a larger VM size (its pool: "
                            "cluster.workloadPool.vmSize on CPU, gpu.vmSize on GPU), and raise gpu.maxPods to at "
                            "least 4 where its DaemonSets fill a node's pod slots"), refusal
    assert "DaemonSets; its pods stay Pending; fix:" in refusal, refusal  # one replica: no autoscaler's minimum 0
    assert refusal.startswith("Deployment app/trainer (1000m CPU, 1024Mi, 2 GPU per pod) fits no node"), refusal
    cpu, mem = allocatable(vm_shape(A100).vcpus, vm_shape(A100).memory_gib, 3)
    assert (f"an empty node offers gpu ({A100}) {cpu - 3}m CPU, {mem - 3}Mi, 1 GPU, no pod slot (its DaemonSets "
            "need 3 of its maxPods 3) after") in refusal, refusal


def test_a_pod_asking_exactly_a_nodes_room_but_no_slot_is_told_the_slots_alone():
    """A request equal to what an empty node offers fits it (the scheduler's `<=`): with no slot left, the slots alone
    are the fix, for CPU and memory at the boundary."""
    shape = vm_shape(A100)
    cpu, mem = allocatable(shape.vcpus, shape.memory_gib, 3)
    refusal = _refusal(Pods("Deployment app/trainer", cpu - 3, mem - 3, gpus=1,
                            tolerations=[{"key": "nvidia.com/gpu", "operator": "Exists"}]), 3, 3)
    assert refusal.endswith("fix: raise gpu.maxPods to at least 4, past the pod slots its DaemonSets take on each "
                            "node"), refusal


def test_a_pod_too_large_for_a_node_with_one_slot_left_is_told_no_slot_fix():
    """One slot left is a slot: a pod short of CPU there is told a larger size or smaller requests alone."""
    refusal = _refusal(Pods("Deployment app/trainer", 100_000, 1024, gpus=1,
                            tolerations=[{"key": "nvidia.com/gpu", "operator": "Exists"}]), 3, 4)
    assert "no pod slot" not in refusal, refusal
    assert refusal.endswith("fix: lower its requests or give its pool a larger VM size (its pool: "
                            "cluster.workloadPool.vmSize on CPU, gpu.vmSize on GPU)"), refusal


def test_the_validator_runs_whatever_the_values_say():
    """gpu-operator v26.7.0 controllers/state_manager.go `isStateEnabled`: `state-operator-validation` returns true,
    read from no `enabled` field; a values set writing `validator.enabled: false` still runs it on every GPU node."""
    llmd = variant("llmd")
    values = next(r for r in llmd.helm_releases() if capacity._chart_name(r) == "gpu-operator").inputs["values"]
    off = _with_values(llmd, "gpu-operator", {**values, "validator": {**(values.get("validator") or {}),
                                                                     "enabled": False}})
    assert "nvidia-operator-validator" in _workloads(off)


def _operands_with_affinity(terms: list) -> dict[str, set[str]]:
    """llmd with `daemonsets.affinity` given these required terms: pool -> the charts' DaemonSets on its nodes."""
    llmd = variant("llmd")
    release = next(r for r in llmd.helm_releases() if capacity._chart_name(r) == "gpu-operator")
    values = {**release.inputs["values"], "daemonsets": {
        **release.inputs["values"]["daemonsets"],
        "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": terms}}}}}
    plan = dataclasses.replace(llmd, resources=[
        dataclasses.replace(r, inputs={**r.inputs, "values": values}) if r is release else r for r in llmd.resources])
    return _daemons_on(plan)


LINUX = {"key": "kubernetes.io/os", "operator": "In", "values": ["linux"]}
CPU_POOL = {"key": "kubernetes.azure.com/agentpool", "operator": "In", "values": ["cpu"]}
NAMED = {"key": "metadata.name", "operator": "In", "values": ["aks-gpu-0"]}


@pytest.mark.parametrize("terms, driver_on", [
    ([{"matchExpressions": [LINUX]}], {"gpu"}),  # the operator's GPU label ANDed into a term that holds everywhere
    ([{"matchExpressions": [CPU_POOL]}], set()),  # its own requirement kept: the CPU pool has no GPU
    ([{"matchFields": [NAMED]}], {"gpu"}),  # a node's name is not judged: the GPU label still is
    ([{}], set()),  # a term with no requirement matches no node, with the GPU label added or not
    (["linux"], set()),  # no term at all (the API server refuses it): no node, and no traceback
])
def test_an_operands_own_affinity_keeps_the_gpu_label_the_operator_adds(terms, driver_on):
    """`with_requirements`: each term of the values' affinity gets the operator's `nvidia.com/gpu.deploy.*` node
    requirement (AKS's accelerator label here); a term that matches no node stays so."""
    on = _operands_with_affinity(terms)
    assert {pool for pool, daemons in on.items() if "nvidia-driver-daemonset" in daemons} == driver_on, on


def test_a_chart_the_table_does_not_know_is_named_not_a_traceback():
    """A release of a chart `CHART_PODS` does not list (a consumer's own) is a problem naming it and the table."""
    prod = variant("prod")
    release = prod.helm_releases()[0]
    stranger = dataclasses.replace(release, name="mine", inputs={**release.inputs, "chart": "oci://example/mine"})
    problems: list[str] = []
    assert capacity.chart_pods(dataclasses.replace(prod, resources=[stranger]), problems) == []
    assert problems == ["chart 'mine' (mine): its pods are not counted (add it to offline/capacity.py CHART_PODS)"]


def test_a_chart_pod_that_fits_no_node_is_told_without_gpus(tmp_path, capsys):
    """A chart's workload requests no GPU: dev with llm-d on, the picker's refusal gives its CPU and memory alone."""
    code, out = _plan(["--stack", "dev", "--set", "llmd.enabled=true", "--set", "llmd.exposeExternally=true",
                       "--set", "gpu.vmSize=Standard_NC24ads_A100_v4"], tmp_path, capsys)
    assert code == 1, out
    assert "capacity: chart llm-d-router-gateway: epp (4000m CPU, 8192Mi per pod) fits no node" in out, out
    refusal = next(line for line in out.splitlines() if "epp (4000m CPU" in line)
    offered = refusal.split("an empty node offers ", 1)[1].split(" after AKS", 1)[0]
    assert offered.startswith("cpu (") and " GPU" not in offered, offered  # nor for the CPU nodes it is offered


def test_the_gpu_operators_own_deployment_runs_one_pod():
    """Its templates/operator.yaml writes `replicas: 1` (no values key; NVIDIA/gpu-operator deployments/gpu-operator,
    as stored at 002f0f8a): one pod, not none (a count 0 would hide a pod that fits no node from the refusal's
    error) nor two."""
    pods = [p for p in capacity.chart_pods(variant("llmd"), []) if p.owner == "chart gpu-operator: gpu-operator"]
    assert [p.count for p in pods] == [1]


def test_the_node_status_exporter_takes_a_slot_once_turned_on():
    """Off by default (vendored values), its own DaemonSet where `nodeStatusExporter.enabled` is true
    (state_manager.go `isStateEnabled`: `NodeStatusExporter.IsEnabled()`)."""
    llmd = variant("llmd")
    values = next(r for r in llmd.helm_releases() if capacity._chart_name(r) == "gpu-operator").inputs["values"]
    on = _with_values(llmd, "gpu-operator", {**values, "nodeStatusExporter": {"enabled": True}})
    assert "nvidia-node-status-exporter" in _workloads(on)


def test_the_device_plugin_charts_daemonsets_follow_device_plugin_enabled():
    """k8s-device-plugin v0.20.0 renders the plugin's and the MPS control daemon's DaemonSets under
    `devicePlugin.enabled`: turned off, neither takes a slot."""
    prod = variant("prod")
    values = next(r for r in prod.helm_releases()
                  if capacity._chart_name(r) == "nvidia-device-plugin").inputs["values"]
    off = _with_values(prod, "nvidia-device-plugin", {**values, "devicePlugin": {"enabled": False}})
    assert not _workloads(off) & {"nvidia-device-plugin", "mps-control-daemon"}, _workloads(off)


def test_the_device_plugin_charts_nfd_worker_without_its_own_placement_stays_off_the_gpu_nodes():
    """Feature discovery on and `nfd.worker` given no placement: the subchart's worker does not take the plugin's
    top-level GPU affinity and tolerations, so the GPU taint keeps it off the GPU pools; feature discovery itself is
    a DaemonSet on every GPU node (templates/daemonset-gfd.yml)."""
    prod = variant("prod")
    release = next(r for r in prod.helm_releases() if capacity._chart_name(r) == "nvidia-device-plugin")
    values = {**release.inputs["values"], "gfd": {"enabled": True}}
    on = dataclasses.replace(prod, resources=[dataclasses.replace(r, inputs={**r.inputs, "values": values})
                                              if r is release else r for r in prod.resources])
    daemons = _daemons_on(on)
    assert {pool for pool, names in daemons.items() if "nfd-worker" in names} & {"gpu", "gpuod"} == set()
    assert all("gpu-feature-discovery" in daemons[pool] for pool in ("gpu", "gpuod"))  # a DaemonSet, on each node


def test_a_daemonset_that_does_not_tolerate_a_pools_taint_takes_no_slot_there():
    """A DaemonSet whose labels would admit the GPU nodes but that does not tolerate their taint runs on none:
    the node's one slot stays the model server's."""
    tolerate = [{"key": "nvidia.com/gpu", "operator": "Exists"}]
    server = Pods("Deployment llm/ollama", 1000, 1024, gpus=1, tolerations=tolerate, model_server=True)
    result = pack([_gpu_pool(1)], [server, Pods("DaemonSet kube-system/untolerating", 10, 10, daemon=True)])
    assert result.errors == [] and result.idle_nodes == {"gpu": 1}, result


def test_a_pod_that_may_run_on_a_pool_of_unknown_size_is_not_refused():
    """A pod too large for one pool it may run on, but eligible on a pool whose size has no figures: that pool's
    problem names it; the pod is not refused (it may fit there)."""
    known, unknown = _gpu_pool(30), dataclasses.replace(_gpu_pool(30), name="gpu2", vm_size="Standard_Unknown_v9")
    tolerate = [{"key": "nvidia.com/gpu", "operator": "Exists"}]
    result = pack([known, unknown], [Pods("Deployment app/trainer", 100_000, 1024, gpus=1, tolerations=tolerate)])
    assert result.errors == [], result.errors
    assert [p for p in result.problems if "Standard_Unknown_v9" in p], result.problems


def test_only_the_pod_left_without_a_slot_is_refused_not_the_daemonsets_that_fill_them(tmp_path, capsys):
    """prod with gpu.maxPods at its GPU nodes' DaemonSet count: the model server is refused, and the DaemonSets
    themselves (which hold the slots) are not."""
    code, out = _plan(["--stack", "prod", "--set", "gpu.maxPods=15"], tmp_path, capsys)
    refused = [line.split(" (", 1)[0] for line in out.splitlines() if "fits no node" in line]
    assert code == 1 and refused == ["capacity: Deployment llm/ollama"], refused


def test_a_pools_requests_are_the_requests_of_the_pods_placed_on_it():
    """`Capacity.requests` (cost.json's requested CPU and memory per pool): the placed pods' sum, from zero."""
    tolerate = [{"key": "nvidia.com/gpu", "operator": "Exists"}]
    result = pack([_gpu_pool(30)], [Pods("Deployment llm/ollama", 4000, 24576, gpus=1, tolerations=tolerate),
                                    Pods("DaemonSet kube-system/agent", 10, 10, daemon=True, tolerations=tolerate)])
    assert result.requests == {"gpu": (4000, 24576)}, result.requests


def test_a_pool_of_unknown_size_the_pod_may_not_run_on_does_not_spare_its_refusal():
    """The unknown pool is another's (its node selector keeps the pod off it): the pod, too large for its own pool,
    is refused."""
    known = dataclasses.replace(_gpu_pool(30), labels={"kubernetes.io/os": "linux", "team": "a"})
    unknown = dataclasses.replace(_gpu_pool(30), name="gpu2", vm_size="Standard_Unknown_v9",
                                  labels={"kubernetes.io/os": "linux", "team": "b"})
    tolerate = [{"key": "nvidia.com/gpu", "operator": "Exists"}]
    result = pack([known, unknown], [Pods("Deployment app/trainer", 100_000, 1024, gpus=1, tolerations=tolerate,
                                          node_selector={"team": "a"})])
    assert [e for e in result.errors if e.startswith("Deployment app/trainer (100000m CPU")], result
