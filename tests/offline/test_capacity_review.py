"""The capacity placement reviewed against kube-scheduler and AKS: three verdicts that differed from a real cluster's.

- Gt / Lt read a label as Go's strconv.ParseInt(s, 10, 64) does (apimachinery labels/selector.go
  `Requirement.Matches`): `1_000` or a number beyond int64 is no integer there, so the expression fails;
- AKS's nodes carry the legacy `agentpool` label beside `kubernetes.azure.com/agentpool` (kubernetes/autoscaler
  2bf7dbe0, cluster-autoscaler/cloudprovider/azure/azure_template.go: "the legacy label is added by agentbaker");
- a chart workload's own `affinity` is its placement even where its own nodeSelector and tolerations are empty."""
from __future__ import annotations

import copy

import pytest

from offline import capacity

from tests.conftest import variant
from tests.offline.test_capacity_affinity import _dev_with_webui_pod, _expr
from tests.offline.test_deploy_model_round9 import _ollamas_pools, _prod_with_ollamas_pod, _required


@pytest.mark.parametrize("label", ["1_000", "99999999999999999999"])
def test_gt_fails_on_a_label_go_does_not_parse(label):
    """Python's int() reads `1_000` (a valid label value) as 1000, and any size; ParseInt refuses both, Matches fails."""
    assert not capacity.requirement_holds(_expr("size", "Gt", "16"), {"size": label})
    assert not capacity.requirement_holds(_expr("size", "Lt", "1_000"), {"size": "5"})
    assert capacity.requirement_holds(_expr("size", "Gt", "16"), {"size": "028"})  # leading zeros parse
    assert capacity.requirement_holds(_expr("size", "Lt", "-1"), {"size": "-9223372036854775808"})


def test_a_gpu_pool_labelled_1_000_is_no_home_for_a_pod_asking_gt_16():
    """Through the capacity model: the GPU pool's label `1_000` was read as 1000 and the pod counted on its node;
    kube-scheduler finds no node for it."""
    planted = _dev_with_webui_pod(_required([_expr("example.com/gib", "Gt", "16")]))
    gpu = next(r for r in planted.of_type("azure-native:containerservice:AgentPool")
               if r.inputs["agentPoolName"] == "gpu")
    gpu.inputs["nodeLabels"]["example.com/gib"] = "1_000"
    result = capacity.idle_capacity(planted)
    assert [p for p in result.problems if p.startswith("Deployment llm/open-webui: no pool it may run on")]


def test_not_in_on_the_legacy_agentpool_label_keeps_the_pod_off_that_pool(monkeypatch, capsys, tmp_path):
    """`agentpool NotIn [gpu]` held on every pool (the label was unknown, a missing label satisfies NotIn), so a
    20 GiB pod meant for the system and CPU pools was counted on the GPU pool's 28 GiB node and the plan passed;
    the real GPU nodes carry `agentpool: gpu`, the pod stays Pending. Refused now, as the prefixed key is."""
    from offline import plan as plan_cli, runner
    planted = _dev_with_webui_pod(_required([_expr("agentpool", "NotIn", "gpu")]))
    [error] = capacity.idle_capacity(planted).errors
    assert error.startswith("Deployment llm/open-webui (1000m CPU, 20480Mi per pod) fits no node"), error
    assert "gpu (" not in error
    monkeypatch.setattr(runner, "run", lambda *args, **kwargs: planted)
    code, written = plan_cli.plan_one("dev", str(tmp_path), [], None, {})
    assert (code, written) == (1, None) and f"capacity: {error}" in capsys.readouterr().err


@pytest.mark.parametrize("expression, pools", [
    (_expr("agentpool", "In", "gpuod"), ["gpu-gpuod"]),
    (_expr("agentpool", "NotIn", "gpu"), ["gpu-gpuod"]),
])
def test_the_deploy_model_knows_the_legacy_agentpool_label(expression, pools):
    """prod's Ollama placed by the legacy label: `In` found no pool (the deploy model refused a plan a cluster
    runs), `NotIn` kept the spot pool."""
    landed, model = _ollamas_pools(_prod_with_ollamas_pod(affinity=_required([expression])))
    assert landed == pools
    assert not [p for p in model.problems if "fit no node pool" in p.message]


def test_a_chart_workloads_own_affinity_places_it_without_a_node_selector():
    """kube-prometheus-stack's Prometheus given `prometheusSpec.affinity` only (no nodeSelector, no tolerations:
    the chart reads each of the three at that path, not the top level's): the model fell back to the release's
    top-level values and dropped the affinity, so a pod asking for a pool that does not exist was counted on the
    system pool."""
    plan = copy.deepcopy(variant("dev"))
    release = next(r for r in plan.helm_releases() if capacity._chart_name(r) == "kube-prometheus-stack")
    spec = release.inputs["values"]["prometheus"]["prometheusSpec"]
    spec.pop("nodeSelector"), spec.pop("tolerations")
    spec["affinity"] = _required([_expr("kubernetes.azure.com/agentpool", "In", "nosuchpool")])
    [prometheus] = [p for p in capacity.chart_pods(plan, []) if p.owner == "chart kube-prometheus-stack: prometheus"]
    assert prometheus.node_terms == spec["affinity"]["nodeAffinity"][
        "requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
    problems = capacity.idle_capacity(plan).problems
    assert [p for p in problems if p.startswith("chart kube-prometheus-stack: prometheus: no pool it may run on")]


def test_a_pod_selecting_its_vm_size_lands_on_the_pools_of_that_size():
    """Every AKS node carries its VM size as `node.kubernetes.io/instance-type` (cloud-provider-azure's node manager
    sets it): prod's Ollama selecting it found no pool, and the deploy model refused a plan a cluster runs."""
    size = {"llm-platform/pool": "gpu", "node.kubernetes.io/instance-type": "Standard_NC24ads_A100_v4"}
    landed, model = _ollamas_pools(_prod_with_ollamas_pod(nodeSelector=size))
    assert landed == ["gpu-gpu", "gpu-gpuod"]
    assert not [p for p in model.problems if "fit no node pool" in p.message]
    other = _required([_expr("node.kubernetes.io/instance-type", "In", "Standard_ND96asr_v4")])
    assert _ollamas_pools(_prod_with_ollamas_pod(affinity=other))[0] == []
