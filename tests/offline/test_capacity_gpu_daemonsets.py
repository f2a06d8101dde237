"""A GPU node's own DaemonSets take a pod slot, and their requests, on every node they run on.

The capacity model gave none to the charts the program installs for GPU nodes (`CHART_PODS` listed no workload of
nvidia-device-plugin 0.20.0 or dcgm-exporter 4.8.2) nor to the GPU Operator v26.7.0's ClusterPolicy operands. prod's
GPU nodes run 15 DaemonSet pods (AKS's 12, node-exporter, the device plugin, dcgm-exporter: 100m / 128Mi), the
model counted 13; llmd's run 19 (AKS's 10, node-exporter, NFD's worker, the operator's driver, toolkit, device
plugin, DCGM exporter, feature discovery, validator and, on an A100, MIG manager), the model counted 12. A GPU pool
whose maxPods is near that count was given room its nodes do not have. Sources: NVIDIA/k8s-device-plugin 1b826acc
and NVIDIA/dcgm-exporter 691c9276 (templates/daemonset*.y*ml), NVIDIA/gpu-operator 10ee5b36 (assets/state-*/
*daemonset.yaml, controllers/state_manager.go `gpuStateLabels` and `hasMIGCapableGPU`, object_controls.go)."""
from __future__ import annotations

import dataclasses

import pytest
from llmplatform.pins import ALL_CHARTS

from offline import capacity
from offline.runner import Plan

from tests.conftest import upstream_dir, variant
from tests.validation import chart_values

OPERANDS = {"nvidia-driver-daemonset", "nvidia-container-toolkit-daemonset", "nvidia-device-plugin-daemonset",
            "nvidia-dcgm-exporter", "gpu-feature-discovery", "nvidia-operator-validator", "nvidia-mig-manager"}


def _plan(argv: list[str], tmp_path, capsys) -> tuple[int, str]:
    from offline import plan as plan_cli
    code = plan_cli.main(["--out", str(tmp_path), *argv])
    printed = capsys.readouterr()
    return code, printed.out + printed.err


@pytest.mark.parametrize("stack,slots,max_pods", [("llmd", 19, 19), ("prod", 15, 15), ("llmd", 19, 10)])
def test_a_gpu_pool_whose_max_pods_its_daemonsets_fill_is_refused(stack, slots, max_pods, tmp_path, capsys):
    """Through `make plan`: gpu.maxPods at (or below) the DaemonSets' own count leaves the model server no slot (the
    model said 7 left on llmd, 2 on prod, and passed the plan); the refusal names the key and the value that fits,
    not smaller requests or a larger VM size, which give no slot; that value fits."""
    code, out = _plan(["--stack", stack, "--set", f"gpu.maxPods={max_pods}"], tmp_path, capsys)
    assert code == 1, out
    assert f"no pod slot (its DaemonSets need {slots} of its maxPods {max_pods})" in out
    assert f"fix: raise gpu.maxPods to at least {slots + 1}, past the pod slots its DaemonSets take on each node" in out
    assert "lower its requests" not in out and "larger VM size" not in out, out
    code, out = _plan(["--stack", stack, "--set", f"gpu.maxPods={slots + 1}"], tmp_path, capsys)
    assert code == 0 and "no pod slot" not in out, out


@pytest.mark.parametrize("resource, value", [("cpu", "30"), ("memory", "250Gi")])
def test_a_pod_short_of_room_and_of_a_slot_is_told_both(resource, value, tmp_path, capsys):
    """Ollama's CPU (or memory) request past an A100 node's and gpu.maxPods at the DaemonSets' count: a larger size
    (or smaller requests) and the slots are both needed."""
    code, out = _plan(["--stack", "prod", "--set", "gpu.maxPods=15", "--set", f"inference.resources.{resource}Request="
                       f"{value}", "--set", f"inference.resources.{resource}Limit={value}"], tmp_path, capsys)
    assert code == 1, out
    assert ("fix: lower its requests or give its pool a larger VM size (Ollama's requests: inference.resources."
            "cpuRequest and memoryRequest; its pool: cluster.workloadPool.vmSize on CPU, gpu.vmSize on GPU), and "
            "raise gpu.maxPods to at least 16 where its DaemonSets fill a node's pod slots") in out, out


def test_a_cpu_pool_whose_max_pods_its_daemonsets_fill_names_its_own_key(tmp_path, capsys):
    """The CPU pool's refusal names cluster.workloadPool.maxPods alone (it named both pools' keys, and smaller
    requests or a larger VM size first)."""
    code, out = _plan(["--stack", "prod", "--set", "cluster.workloadPool.maxPods=13"], tmp_path, capsys)
    assert code == 1, out
    assert "no pod slot (its DaemonSets need 13 of its maxPods 13)" in out
    assert "fix: raise cluster.workloadPool.maxPods to at least 14, past the pod slots" in out
    assert "gpu.maxPods" not in out and "lower its requests" not in out, out


def _daemons_on(plan: Plan) -> dict[str, set[str]]:
    """Pool -> the charts' DaemonSets that run on its nodes."""
    daemons = [p for p in capacity.chart_pods(plan, []) if p.daemon]
    return {pool.name: {d.owner.split(": ", 1)[1] for d in daemons if capacity.may_run_on(d, pool)}
            for pool in capacity.pools(plan)}


def test_the_gpu_operators_operands_run_on_its_gpu_nodes_only():
    on = _daemons_on(variant("llmd"))
    assert on["gpu"] == OPERANDS | {"nfd-worker", "node-exporter"}, on["gpu"]
    assert on["cpu"] == on["system"] == {"nfd-worker", "node-exporter"}


def test_the_device_plugin_and_dcgm_exporter_run_on_both_gpu_pools():
    on = _daemons_on(variant("prod"))
    assert on["gpu"] == on["gpuod"] == {"nvidia-device-plugin", "dcgm-exporter", "node-exporter"}
    assert on["cpu"] == on["system"] == {"node-exporter"}  # the system pool's taint keeps nothing else off here
    exporter = next(p for p in capacity.chart_pods(variant("prod"), []) if p.owner.endswith("dcgm-exporter"))
    assert (exporter.cpu_m, exporter.mem_mi) == (100, 128)  # the chart's own requests


def _with_values(plan: Plan, chart: str, values: dict) -> Plan:
    release = next(r for r in plan.helm_releases() if capacity._chart_name(r) == chart)
    return Plan(plan.project, plan.stack, [dataclasses.replace(release, inputs={**release.inputs, "values": values})])


def _workloads(plan: Plan) -> set[str]:
    return {p.owner.split(": ", 1)[1] for p in capacity.chart_pods(plan, [])}


def test_the_mig_manager_needs_a_mig_capable_gpu():
    """The operator labels a node for its MIG manager only where the GPU is MIG-capable (A100, H100, A30...): a T4
    pool runs the other operands only."""
    pods = {p.owner.split(": ", 1)[1]: p for p in capacity.chart_pods(variant("llmd"), [])}
    a100 = next(p for p in capacity.pools(variant("llmd")) if p.name == "gpu")
    t4 = dataclasses.replace(a100, vm_size="Standard_NC8as_T4_v3", labels=capacity.aks_node_labels(
        "gpu", {"vmSize": "Standard_NC8as_T4_v3", "nodeLabels": {"llm-platform/pool": "gpu"}}, "westeurope"))
    assert capacity.may_run_on(pods["nvidia-mig-manager"], a100)
    assert not capacity.may_run_on(pods["nvidia-mig-manager"], t4)
    assert all(capacity.may_run_on(pods[name], t4) for name in OPERANDS - {"nvidia-mig-manager"})


def test_an_operand_turned_off_in_the_values_takes_no_slot():
    llmd = variant("llmd")
    values = next(r for r in llmd.helm_releases() if capacity._chart_name(r) == "gpu-operator").inputs["values"]
    off = _with_values(llmd, "gpu-operator", {**values, "migManager": {"enabled": False}, "dcgm": {"enabled": True},
                                              "nfd": {"enabled": False}})
    assert _workloads(off) == (OPERANDS - {"nvidia-mig-manager"}) | {"gpu-operator", "nvidia-dcgm",
                                                                     "nvidia-device-plugin-mps-control-daemon"}


def test_the_device_plugin_charts_nfd_follows_its_first_condition_that_is_set():
    """`condition: nfd.enabled,gfd.enabled`: the first path the values set as a bool decides (Helm
    processDependencyConditions); NFD runs with feature discovery unless nfd.enabled says otherwise."""
    prod = variant("prod")
    assert _workloads(prod) >= {"nvidia-device-plugin", "mps-control-daemon"}
    assert not _workloads(prod) & {"gpu-feature-discovery", "nfd-worker", "nfd-master", "nfd-gc"}
    values = next(r for r in prod.helm_releases() if capacity._chart_name(r) == "nvidia-device-plugin").inputs["values"]
    plugin = {"gfd": {"enabled": True}}
    on = _with_values(prod, "nvidia-device-plugin", {**values, **plugin})
    assert _workloads(on) == {"nvidia-device-plugin", "mps-control-daemon", "gpu-feature-discovery", "nfd-master",
                              "nfd-gc", "nfd-worker"}
    without_nfd = _with_values(prod, "nvidia-device-plugin", {**values, **plugin, "nfd": {"enabled": False}})
    assert "nfd-worker" not in _workloads(without_nfd)


def test_the_mps_control_daemons_run_on_no_node_the_program_makes():
    """They select `nvidia.com/mps.capable: "true"`, which feature discovery sets only under an MPS sharing config."""
    for name in ("prod", "llmd"):
        plan = variant(name)
        mps = [p for p in capacity.chart_pods(plan, []) if "mps-control-daemon" in p.owner]
        assert mps and not any(capacity.may_run_on(p, pool) for p in mps for pool in capacity.pools(plan))


def _helm_decides(pod: capacity.ChartPod, values: dict) -> bool:
    for path in pod.enabled:
        found = capacity._at(values, path)
        if isinstance(found, bool):
            return found
    return True  # Helm renders a subchart no condition path turns off


@pytest.mark.parametrize("chart", ["gpu-operator", "nvidia-device-plugin", "dcgm-exporter"])
def test_what_the_chart_renders_by_default_is_read_from_its_vendored_values(chart):
    upstream = {c.chart: c for c in ALL_CHARTS}[chart].upstream_dir
    values = chart_values(upstream_dir() / "charts" / upstream)
    for pod in capacity.CHART_PODS[chart]:
        assert _helm_decides(pod, values) == pod.enabled_default, pod
        if pod.daemon and pod.placement:
            assert isinstance(capacity._at(values, pod.placement).get("tolerations"), list), pod


def test_the_device_plugin_charts_nfd_takes_its_own_placement_not_the_plugins():
    """NFD is a subchart (alias nfd): it sees `nfd.*` only, so the plugin's GPU-node affinity and tolerations at the
    chart's top level do not reach it. With feature discovery on, the NFD master and gc Deployments may run on the CPU
    pool (the model held them to the GPU pools), and the worker goes where `nfd.worker` sends it."""
    prod = variant("prod")
    release = next(r for r in prod.helm_releases() if capacity._chart_name(r) == "nvidia-device-plugin")
    values = {**release.inputs["values"], "gfd": {"enabled": True},
              "nfd": {"worker": {"nodeSelector": {"llm-platform/pool": "cpu"}}}}
    on = Plan(prod.project, prod.stack, [dataclasses.replace(r, inputs={**r.inputs, "values": values})
                                         if r is release else r for r in prod.resources])
    pods = {p.owner.split(": ", 1)[1]: p for p in capacity.chart_pods(on, []) if p.owner.startswith("chart nvidia")}
    where = {name: {pool.name for pool in capacity.pools(on) if capacity.may_run_on(pods[name], pool)}
             for name in ("nfd-master", "nfd-gc", "nfd-worker", "gpu-feature-discovery")}
    assert where == {"nfd-master": {"cpu"}, "nfd-gc": {"cpu"}, "nfd-worker": {"cpu"},
                     "gpu-feature-discovery": {"gpu", "gpuod"}}, where
