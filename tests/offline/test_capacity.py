"""Idle capacity: always-on requests packed onto each pool's nodes, so the idle cost counts the nodes they need.

Pure logic (AKS's reservations, taints and tolerations, packing) without Pulumi; the chart table against the vendored
charts; the stacks through their plans."""
import copy

import pytest

from llmplatform.pins import ALL_CHARTS
from offline import capacity, cost
from offline.capacity import CHART_PODS, Pods, Pool, allocatable, pack, tolerates

from tests.conftest import upstream_dir, variant
from tests.validation import chart_values

SPOT = "kubernetes.azure.com/scalesetpriority=spot:NoSchedule"


def pool(name, size="Standard_D4s_v5", low=1, high=3, taints=(), labels=None, system=False):
    return Pool(name, size, low, high, 110, {"kubernetes.io/os": "linux", **(labels or {})}, list(taints), system)


def test_allocatable_follows_aks_published_reservations():
    # learn.microsoft.com/azure/aks/node-resource-reservations, AKS 1.29+: its two worked examples
    assert allocatable(2, 8, 30) == (1900, 8192 - 650 - 100)  # 20 MiB x 30 pods + 50 MiB
    assert allocatable(2, 4, 70) == (1900, 4096 - 1024 - 100)  # capped at 25 % of memory
    assert allocatable(4, 16, 110)[0] == 4000 - 140 and allocatable(96, 880, 30)[0] == 96000 - 740


def test_quantities():
    assert capacity.cpu_millis("250m") == 250 and capacity.cpu_millis("2") == 2000 and capacity.cpu_millis(0.5) == 500
    assert capacity.memory_mebis("2Gi") == 2048 and capacity.memory_mebis("20Mi") == 20
    assert capacity.memory_mebis("1G") == 954 and capacity.memory_mebis(None) == 0


def test_taints_need_a_matching_toleration():
    spot = {"key": "kubernetes.azure.com/scalesetpriority", "operator": "Equal", "value": "spot",
            "effect": "NoSchedule"}
    assert tolerates([spot], SPOT) and not tolerates([], SPOT)
    assert tolerates([{"operator": "Exists"}], "nvidia.com/gpu=present:NoSchedule")
    assert not tolerates([{**spot, "value": "regular"}], SPOT)
    assert tolerates([], "soft=yes:PreferNoSchedule")  # preference only


def test_packing_opens_nodes_only_when_the_minimum_is_full_and_names_what_fits_nowhere():
    cpu = pool("cpu", labels={"llm-platform/pool": "cpu"}, high=2)
    sel = {"llm-platform/pool": "cpu"}
    small = pack([cpu], [Pods("a", 1000, 1024, count=3, node_selector=sel)])
    assert small.idle_nodes == {"cpu": 1} and small.problems == []
    two = pack([cpu], [Pods("a", 1000, 1024, count=4, node_selector=sel)])
    assert two.idle_nodes == {"cpu": 2}  # 3.86 CPU allocatable: the fourth opens a node
    full = pack([cpu], [Pods("a", 3000, 1024, count=3, node_selector=sel)])
    assert full.idle_nodes == {"cpu": 2} and "does not fit pool(s) cpu at their maximum" in full.problems[0]
    # a DaemonSet takes its share of every node it may run on
    with_daemon = pack([cpu], [Pods("a", 1800, 1024, count=2, node_selector=sel),
                               Pods("ds", 300, 64, daemon=True, tolerate_all=True)])
    assert with_daemon.idle_nodes == {"cpu": 2}


def test_a_pool_of_unknown_size_is_named_once_and_its_pods_are_not_reported_homeless():
    odd = pool("cpu", size="Standard_D32s_v5", labels={"llm-platform/pool": "cpu"})
    result = pack([odd], [Pods("a", 100, 64, count=3, node_selector={"llm-platform/pool": "cpu"})])
    assert result.problems == ["pool cpu: no vCPU/memory figures for Standard_D32s_v5 (config/data/vm_shapes.json); "
                               "its capacity is not checked"]
    homeless = pack([pool("sys")], [Pods("b", 100, 64, count=3, node_selector={"x": "y"})])
    assert len(homeless.problems) == 1  # once per workload, not per replica


def test_a_spot_pool_takes_only_pods_that_tolerate_it():
    spot_pool = pool("cpu", taints=[SPOT], labels={"llm-platform/pool": "cpu"})
    sel = {"llm-platform/pool": "cpu"}
    refused = pack([spot_pool], [Pods("untolerating", 100, 64, node_selector=sel)])
    assert refused.problems and "no pool it may run on" in refused.problems[0]
    spot = [{"key": "kubernetes.azure.com/scalesetpriority", "operator": "Equal", "value": "spot",
             "effect": "NoSchedule"}]
    assert pack([spot_pool], [Pods("tolerating", 100, 64, node_selector=sel, tolerations=spot)]).problems == []


@pytest.mark.parametrize("chart", sorted(c for c, pods in CHART_PODS.items() if pods))
def test_chart_table_matches_the_vendored_chart(chart):
    """Every path exists in the chart's values, and the defaults are the chart's own."""
    upstream = {c.chart: c for c in ALL_CHARTS}[chart].upstream_dir
    values = chart_values(upstream_dir() / "charts" / upstream)
    for pod in CHART_PODS[chart]:
        resources = capacity._at(values, pod.resources)
        assert isinstance(resources, dict), (chart, pod.resources)
        requests = resources.get("requests") or {}
        assert (str(requests.get("cpu", "0")), str(requests.get("memory", "0"))) == pod.default_requests, pod
        if pod.replicas:
            assert capacity._at(values, pod.replicas) == pod.default_replicas, (chart, pod.replicas)
        if pod.placement:
            assert isinstance(capacity._at(values, pod.placement), dict), (chart, pod.placement)
        if pod.workload in capacity.TOLERATE_ALL:
            assert {"effect": "NoSchedule", "operator": "Exists"} in capacity._at(values, pod.placement)["tolerations"]


def test_every_chart_the_program_installs_is_in_the_table():
    assert {c.chart for c in ALL_CHARTS} <= set(CHART_PODS)


@pytest.mark.parametrize("name", ["dev", "prod", "llmd", "llmd-pd", "dev-gpu", "dev-operator", "dev-smb-nogpu", "prod-tls",
                                  "dev-gpu-hpa"])
def test_every_always_on_pod_has_a_pool_in_every_stack(name):
    result = capacity.idle_capacity(variant(name))
    assert result.problems == [] and result.errors == []
    assert all(result.idle_nodes[p.name] >= p.min_count for p in capacity.pools(variant(name)))


def test_dev_spot_pool_hosts_every_platform_pod_with_the_toleration(dev):
    pools = {p.inputs["agentPoolName"]: p.inputs for p in dev.of_type("azure-native:containerservice:AgentPool")}
    assert pools["cpu"]["scaleSetPriority"] == "Spot" and pools["cpu"]["scaleSetEvictionPolicy"] == "Delete"
    assert pools["cpu"]["nodeTaints"] == [SPOT] and pools["cpu"]["spotMaxPrice"] == -1
    placed = [p for p in capacity.program_pods(dev) + capacity.chart_pods(dev, []) + capacity.gateway_pods(dev)
              if p.node_selector.get("llm-platform/pool") == "cpu"]
    assert len(placed) >= 15
    assert all(tolerates(p.tolerations, SPOT) for p in placed), [p.owner for p in placed
                                                                  if not tolerates(p.tolerations, SPOT)]
    # not always on, still placed
    preload = dev.one("kubernetes:batch/v1:Job", "models-preload").inputs["spec"]["template"]["spec"]
    assert preload["nodeSelector"] == {"llm-platform/pool": "cpu"} and tolerates(preload["tolerations"], SPOT)


def test_prod_pools_stay_regular_and_carry_no_spot_toleration(prod):
    cpu = next(p.inputs for p in prod.of_type("azure-native:containerservice:AgentPool")
               if p.inputs["agentPoolName"] == "cpu")
    assert cpu.get("scaleSetPriority", "Regular") == "Regular"
    assert "nodeTaints" not in cpu
    istiod = next(r for r in prod.helm_releases() if r.inputs["chart"] == "istiod").inputs["values"]
    assert "tolerations" not in istiod  # no empty keys where the chart's default already says none


def test_idle_counts_the_nodes_always_on_pods_need(dev):
    """Dev with Ollama kept at one CPU replica (2 CPU / 6 GiB requested) no longer fits one workload node."""
    assert capacity.idle_capacity(dev).idle_nodes["cpu"] == 1
    warm = copy.deepcopy(dev)  # the same plan with the model server's ScaledObject at minimum 1 instead of 0
    for reg in warm.of_type("kubernetes:keda.sh/v1alpha1:ScaledObject"):
        reg.inputs["spec"]["minReplicaCount"] = 1
    result = capacity.idle_capacity(warm)
    assert result.idle_nodes["cpu"] == 2
    est = cost.estimate(warm, "westeurope", 0.5)
    line = next(x for x in est.lines if x.item == "cpu: Standard_D4ads_v5 spot")
    assert line.idle == pytest.approx(2 * est_price(), abs=0.01)
    assert any(n.startswith("pool cpu: idles at 2 nodes, not its minimum 1") for n in est.notes)
    assert any(x.startswith("capacity: pool cpu: idles at 2 nodes") for x in cost.report_lines(est))


def test_a_cpu_pool_at_minimum_zero_created_with_a_node_idles_at_its_minimum_not_its_count(dev):
    """AksCluster creates the CPU pool with `count` 1 at `minCount` 0 (`workload_pool_start`); the idle estimate and
    the packing read the autoscaler's minimum, 0, not that starting count (`minCount or count` took 0 for unset)."""
    zero = copy.deepcopy(dev)
    cpu = next(r for r in zero.of_type("azure-native:containerservice:AgentPool") if r.inputs["agentPoolName"] == "cpu")
    cpu.inputs.update(minCount=0, count=1)
    assert next(p for p in capacity.pools(zero) if p.name == "cpu").min_count == 0
    est = cost.estimate(zero, "westeurope", 0.5)
    assert any(n.startswith("pool cpu: idles at 1 nodes, not its minimum 0") for n in est.notes), est.notes


def est_price():
    return cost.load_prices("westeurope")["vm_spot_hourly"]["Standard_D4ads_v5"] * 730


def test_prod_says_which_gpu_nodes_its_always_on_replicas_keep(prod):
    est = cost.estimate(prod, "westeurope", 2.0)
    assert any("always-on pods" in n and "left out of idle" in n and n.startswith("pool gpu:") for n in est.notes)
    assert est.document()["idleNodes"]["gpu"] == 2 and est.document()["capacityProblems"] == []


def test_aks_system_pods_table_is_dated_and_says_it_is_assumed():
    table = capacity._aks_table()
    assert "ASSUMED" in table["_source"] and "2026" in table["_source"]
    assert set(table["features"]) == {"base", "managed_prometheus", "container_insights", "azure_policy", "defender"}
    assert capacity.aks_features({}) == ["base"]
    assert capacity.aks_features({"addonProfiles": {"omsagent": {"enabled": True}, "azurepolicy": {"enabled": True}},
                                  "azureMonitorProfile": {"metrics": {"enabled": True}},
                                  "securityProfile": {"defender": {"logAnalyticsWorkspaceResourceId": "x"}}}) == [
        "base", "managed_prometheus", "container_insights", "azure_policy", "defender"]


def test_a_pod_that_fits_no_node_is_found_at_any_replica_count_and_a_model_server_is_an_error():
    """A workload at zero replicas (an autoscaler's minimum 0) places no pod in the packing, so its size used to go
    unchecked: every workload's pod must fit an empty node of a pool it may run on, and a model server that cannot
    is an error (it would never serve), and so is any other with a replica asked for (`pulumi up` waits for it);
    anything else (a workload at zero) a warning."""
    sel = {"llm-platform/pool": "cpu"}
    cpu = pool("cpu", labels=sel)  # Standard_D4s_v5: 3860m allocatable
    big = dict(cpu_m=6000, mem_mi=6144, count=0, node_selector=sel)
    server = pack([cpu], [Pods("Deployment llm/ollama", model_server=True, **big)])
    assert server.problems == [] and len(server.errors) == 1
    assert server.errors[0].startswith("Deployment llm/ollama (6000m CPU, 6144Mi per pod) fits no node")
    assert "cpu (Standard_D4s_v5) 3860m CPU" in server.errors[0] and "minimum is 0" in server.errors[0]
    assert "inference.resources.cpuRequest" in server.errors[0]
    other = pack([cpu], [Pods("Deployment llm/batch", **big)])
    assert other.errors == [] and "fits no node" in other.problems[0]
    # any other workload with a replica asked for: `pulumi up` waits for a pod that never starts
    started = pack([cpu], [Pods("Deployment llm/batch", **{**big, "count": 1})])
    assert started.problems == [] and "fits no node" in started.errors[0]
    assert "cluster.workloadPool.vmSize" in started.errors[0]
    # with replicas it is said once, not also as a packing failure per replica
    running = pack([cpu], [Pods("Deployment llm/ollama", model_server=True, **{**big, "count": 2})])
    assert len(running.errors) == 1 and running.problems == [] and running.idle_nodes == {"cpu": 1}
    fits = pack([cpu], [Pods("Deployment llm/ollama", 3000, 6144, count=0, node_selector=sel, model_server=True)])
    assert fits.errors == fits.problems == []
    # a GPU model server against a GPU pool: its GPUs count too
    gpu = pool("gpu", size="Standard_NC4as_T4_v3", low=0, labels={"llm-platform/pool": "gpu"})
    two = pack([gpu], [Pods("Deployment llm/ollama", 2000, 6144, gpus=2, count=0,
                            node_selector={"llm-platform/pool": "gpu"}, model_server=True)])
    assert len(two.errors) == 1 and ", 1 GPU" in two.errors[0]


def test_dev_scaled_to_zero_refuses_an_ollama_pod_larger_than_its_pool(dev, monkeypatch, capsys, tmp_path):
    """Dev's Ollama scales to zero on 4-vCPU spot nodes: a 6-CPU request planned clean before. Now the plan is
    refused, naming the pod, what a node offers and the stack keys to change."""
    from offline import plan as plan_cli, runner
    assert capacity.idle_capacity(dev).errors == []
    big = copy.deepcopy(dev)
    ollama = next(r for r in big.of_type("kubernetes:apps/v1:Deployment") if r.inputs["metadata"]["name"] == "ollama")
    ollama.inputs["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"]["cpu"] = "6"
    [error] = capacity.idle_capacity(big).errors
    assert error.startswith("Deployment llm/ollama (6000m CPU") and "its autoscaler's minimum is 0" in error
    monkeypatch.setattr(runner, "run", lambda *args, **kwargs: big)
    code, written = plan_cli.plan_one("dev", str(tmp_path), [], None, {})
    err = capsys.readouterr().err
    assert (code, written) == (1, None) and f"capacity: {error}" in err and "capacity check refuses" in err
    assert not (tmp_path / "dev").exists()


@pytest.mark.parametrize("sets", [
    ["inference.resources.memoryRequest=100m"],  # Kubernetes' milli suffix on memory (0.1 byte, rounded up to 1)
    # and the shapes only a full reading of Kubernetes' grammar takes (a fraction without its 0, an exponent)
    ["inference.resources.cpuRequest=5e-1", "webui.resources.memoryRequest=524288k",
     "webui.resources.memoryLimit=.5Gi"],
    ["webui.resources.cpuRequest=1k", "webui.resources.cpuLimit=1k", "webui.resources.memoryLimit=1Pi"],
])
def test_every_quantity_the_config_takes_is_counted_by_the_plan(sets, tmp_path, capsys):
    """The capacity check read requests with suffixes of its own (m on CPU only; Ki, Mi, Gi, Ti, K, M, G, T): a
    memory request of `100m` or `1k` CPUs, which the config (and Kubernetes) take, ended `make plan` in a
    ValueError traceback after the program had run. It reads them as the config does now, and both as the API
    server does (`5e-1`, `.5Gi`: the config refused them)."""
    from offline import plan as plan_cli
    code = plan_cli.main(["--stack", "dev", "--out", str(tmp_path), *[a for s in sets for a in ("--set", s)]])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err
    if "webui.resources.cpuRequest=1k" in sets:  # 1000 CPUs fit no node: named, and `pulumi up` would wait for it
        assert "capacity: Deployment llm/open-webui (1000000m CPU" in captured.err and code == 1
    else:
        assert code == 0, captured.err[-800:]


def test_a_stack_whose_router_picker_fits_no_node_is_refused_before_pulumi_up_waits_for_it(tmp_path, capsys):
    """dev with llm-d turned on: the picker (EPP, 4 CPU as llm-d's router recipe) cannot start on dev's 4-vCPU
    workload pool (3,490m left after AKS's reservations and DaemonSets), and its Helm release (atomic) would fail
    `pulumi up` at its deadline; the plan said only a warning and a converging deploy model. Refused now, naming the
    pool's key."""
    from offline import plan as plan_cli
    sets = ["llmd.enabled=true", "llmd.exposeExternally=true", "gpu.vmSize=Standard_NC24ads_A100_v4"]
    code = plan_cli.main(["--stack", "dev", "--out", str(tmp_path), *[a for s in sets for a in ("--set", s)]])
    captured = capsys.readouterr()
    assert code == 1 and "Traceback" not in captured.out + captured.err
    assert "capacity: chart llm-d-router-gateway: epp (4000m CPU" in captured.err
    assert "cluster.workloadPool.vmSize" in captured.err
    code = plan_cli.main(["--stack", "dev", "--out", str(tmp_path), *[a for s in sets for a in ("--set", s)],
                          "--set", "cluster.workloadPool.vmSize=Standard_D8ads_v5"])
    assert code == 0, capsys.readouterr().err[-800:]
