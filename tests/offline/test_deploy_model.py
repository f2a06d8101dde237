"""The deploy model: await rules (pulumi-kubernetes provider/pkg/await), estimates, and the plan failures each
ordering rule raises on a planted defect. Pure functions over hand-made registrations and the cached plans."""
from __future__ import annotations

import contextlib
import copy
import dataclasses
import io
import json
import re

import pytest

from tests.conftest import PLANNED, plan_for, planned, variant
from offline import deploy_model as dm
from offline.deploy_model.checks import references
from offline.runner import Plan, Registration
from llmplatform.testing import SYSTEM_NAMESPACES, namespace_of
from llmplatform.testing.stand_ins import cluster_principals

DATA = dm.load_durations()
PROVIDER = "urn:pulumi:t::p::pulumi:providers:kubernetes::k8s"


def k8s(name: str, obj: dict, deps: tuple[str, ...] = (), type_: str = "") -> Registration:
    kind = obj["kind"]
    api = obj.get("apiVersion", "v1")
    type_ = type_ or f"kubernetes:{api if '/' in api else 'core/' + api}:{kind}"
    return Registration(urn=f"urn:pulumi:t::p::{type_}::{name}", type=type_, name=name, parent="", custom=True,
                        inputs=obj, secret_paths=[], dependencies=list(deps),
                        options={"provider": PROVIDER + "::id", "customTimeouts": {}})


def deployment(name: str, replicas: int = 1, annotations: dict | None = None, gpu: bool = False,
               image: str = "nginxinc/nginx-unprivileged:1.29", **pod) -> dict:
    resources = {"limits": {"nvidia.com/gpu": "1"}} if gpu else {}
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": "llm", "annotations": annotations or {}},
            "spec": {"replicas": replicas, "template": {"spec": {
                "containers": [{"name": "c", "image": image, "resources": resources}], **pod}}}}


def plan_of(*regs: Registration, cluster: str = "") -> Plan:
    """The registrations with a provider, and a Namespace before them for each namespace they use that none of them
    creates (the `namespace` rule's own tests use `bare_plan_of`)."""
    given = {r.inputs["metadata"]["name"] for r in regs if r.is_kubernetes_object and r.inputs["kind"] == "Namespace"}
    namespaces: dict[tuple[str, str], Registration] = {}
    placed = []
    for reg in regs:
        ns, provider = namespace_of(reg), reg.options.get("provider")
        if ns and ns not in given and ns not in SYSTEM_NAMESPACES:
            namespace = namespaces.setdefault((provider, ns), dataclasses.replace(
                k8s(f"ns-{ns}", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}),
                options={"provider": provider}))
            reg = dataclasses.replace(reg, dependencies=[*reg.dependencies, namespace.urn])
        placed.append(reg)
    return bare_plan_of(*namespaces.values(), *placed, cluster=cluster)


def bare_plan_of(*regs: Registration, cluster: str = "") -> Plan:
    """The registrations after a Kubernetes provider, made from `cluster` (a ManagedCluster's URN) when given."""
    provider = Registration(urn=PROVIDER, type="pulumi:providers:kubernetes", name="k8s", parent="", custom=True,
                            inputs={}, secret_paths=[], dependencies=[cluster] if cluster else [], options={})
    return Plan(project="p", stack="t", resources=[provider, *regs])


# ---- await rules (provider/pkg/await) ----------------------------------------------------------------------------

def test_deadline_default_annotation_and_custom_timeouts_in_the_providers_order():
    reg = k8s("d", deployment("d"))
    assert dm.k8s_timeout(reg) == (600.0, "pulumi-kubernetes default (10 min)")  # await.go: 10 * time.Minute
    reg.inputs["metadata"]["annotations"]["pulumi.com/timeoutSeconds"] = "1200"
    assert dm.k8s_timeout(reg)[0] == 1200.0
    reg.options["customTimeouts"] = {"create": "45m"}  # overrides.go TimeoutDuration: customTimeouts first
    assert dm.k8s_timeout(reg) == (2700.0, "customTimeouts.create")
    reg.options["customTimeouts"] = {"create": "1h30m"}
    assert dm.k8s_timeout(reg) == (5400.0, "customTimeouts.create")
    reg.options["customTimeouts"] = {"create": "90000ms"}  # Go's units below a second (read as 90,000 minutes)
    assert dm.k8s_timeout(reg) == (90.0, "customTimeouts.create")
    reg.options["customTimeouts"] = {"create": "0s"}  # `resourceTimeoutSeconds != 0`: a zero is no timeout given
    assert dm.k8s_timeout(reg)[0] == 1200.0
    for annotation, seconds in (("+900", 900.0), (" 900", 600.0), ("15m", 600.0)):  # strconv.Atoi, else ignored
        reg.inputs["metadata"]["annotations"]["pulumi.com/timeoutSeconds"] = annotation
        assert dm.k8s_timeout(reg)[0] == seconds, annotation


def test_skip_await_and_zero_replicas_wait_for_nothing():
    skip = dm.wait_of(k8s("d", deployment("d", annotations={"pulumi.com/skipAwait": "true"})), DATA, [], 900)
    assert skip.timeout is None and "skipAwait" in skip.waits_for
    zero = dm.wait_of(k8s("d", deployment("d", replicas=0)), DATA, [], 900)
    assert zero.span.median <= DATA["kubernetes"]["object"]["median"]


def test_a_deployment_without_a_replica_count_or_with_one_unknown_waits_for_its_replicas():
    """Kubernetes defaults spec.replicas to 1 (an autoscaled Deployment leaves it out), and a count not known in a
    preview is no zero: both wait for their replicas under the awaiter's deadline (found by mutation testing)."""
    from pulumi.runtime.rpc import UNKNOWN
    for replicas in ("absent", UNKNOWN, 2):
        spec = deployment("d")
        if replicas == "absent":
            del spec["spec"]["replicas"]
        else:
            spec["spec"]["replicas"] = replicas
        wait = dm.wait_of(k8s("d", spec), DATA, [], 900)
        assert "all replicas ready" in wait.waits_for and wait.timeout == 600.0, (replicas, wait.waits_for)


def test_service_waits_for_settled_endpoints_unless_headless_selectorless_or_external_name():
    svc = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s", "namespace": "llm"},
           "spec": {"selector": {"a": "b"}, "ports": [{"port": 80}]}}
    assert "settled" in dm.service_wait(k8s("s", svc), DATA).waits_for
    assert dm.service_wait(k8s("s", svc), DATA).span.median >= 10  # service.go: 10 s after the last change
    skipped = copy.deepcopy(svc)
    skipped["metadata"]["annotations"] = {"pulumi.com/skipAwait": "true"}
    assert dm.service_wait(k8s("s", skipped), DATA).timeout is None  # skipAwait: nothing waited for
    for change in ({"selector": None}, {"clusterIP": "None"}, {"type": "ExternalName", "externalName": "x"}):
        other = copy.deepcopy(svc)
        other["spec"].update(change)
        assert "nothing" in dm.service_wait(k8s("s", other), DATA).waits_for
    lb = copy.deepcopy(svc)
    lb["spec"]["type"] = "LoadBalancer"
    assert "load-balancer IP" in dm.service_wait(k8s("s", lb), DATA).waits_for


def test_kinds_without_an_awaiter_are_done_when_created_and_pvc_pv_have_five_minutes():
    cm = dm.wait_of(k8s("c", {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}), DATA, [], 900)
    assert cm.timeout is None and "no awaiter" in cm.waits_for
    pvc = dm.wait_of(k8s("p", {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "p"}}),
                     DATA, [], 900)
    assert pvc.timeout == 300.0  # awaiters.go: WatchUntil(pvcReady, 5*time.Minute)


@pytest.mark.parametrize("spec,classes,pending", [
    ({}, {}, True),  # no class: the cluster's default, AKS's `default` (a disk class)
    ({"storageClassName": "managed-csi-premium"}, {}, True),
    ({"storageClassName": "azurefile-csi-premium"}, {}, False),  # AKS's file classes are Immediate
    ({"storageClassName": ""}, {}, False),  # a static volume: pvcBindMode finds no class
    ({"storageClassName": "fast"}, {"fast": "WaitForFirstConsumer"}, True),  # a class the plan creates
    ({"storageClassName": "managed-csi"}, {"managed-csi": "Immediate"}, False),  # the plan's own, by that name
    ({"storageClassName": "theirs"}, {}, False),  # unknown here: Bound, the longer wait
])
def test_a_claim_of_a_wait_for_first_consumer_class_is_ready_while_pending(spec, classes, pending):
    """awaiters.go untilCoreV1PersistentVolumeClaimReady (94977969d): `if bindMode == WaitForFirstConsumer { return
    phase == ClaimPending }`: such a claim binds only once a pod using it is scheduled, and Pulumi does not wait."""
    claim = k8s("p", {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "p"}, "spec": spec})
    wait = dm.wait_of(claim, DATA, [], 900, bind_modes=classes)
    assert wait.waits_for.startswith("PVC Pending") is pending and wait.timeout == 300.0
    assert wait.span == dm.Span.of(DATA["kubernetes"]["object" if pending else "pvc_bind"])


def test_the_plans_own_storage_classes_give_their_binding_mode():
    plan = plan_of(k8s("fast", {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {
        "name": "fast"}, "provisioner": "disk.csi.azure.com", "volumeBindingMode": "WaitForFirstConsumer"}),
                   k8s("slow", {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {
                       "name": "slow"}, "provisioner": "file.csi.azure.com"}))
    assert dm.bind_modes(plan.kubernetes_objects()) == {"fast": "WaitForFirstConsumer", "slow": "Immediate"}


def test_of_several_default_classes_the_plans_last_is_the_default():
    """The DefaultStorageClass admission plugin gives a claim without a class the newest default (found by mutation
    testing: the first one passed)."""
    def default_class(name: str) -> Registration:
        return k8s(name, {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "provisioner": "disk.csi.azure.com",
                          "metadata": {"name": name, "annotations": {
                              "storageclass.kubernetes.io/is-default-class": "true"}}})
    from offline.deploy_model.awaits import DEFAULT_CLASS
    modes = dm.bind_modes(plan_of(default_class("first"), default_class("second")).kubernetes_objects())
    assert modes[DEFAULT_CLASS] == "second"


def test_a_claim_without_a_class_takes_the_plans_default_class_over_akss():
    """The DefaultStorageClass admission plugin gives a claim without a class the newest default class: one the plan
    creates (after the cluster) beats AKS's `default`, so an Immediate default of the plan's is waited to Bound."""
    default = {"storageclass.kubernetes.io/is-default-class": "true"}
    files = k8s("files", {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {
        "name": "files", "annotations": default}, "provisioner": "file.csi.azure.com"})
    classes = dm.bind_modes([files])
    assert classes["storageclass.kubernetes.io/is-default-class"] == "files"
    claim = k8s("p", {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "p"}, "spec": {}})
    assert dm.wait_of(claim, DATA, [], 900, bind_modes=classes).waits_for == "PVC Bound"
    assert dm.wait_of(claim, DATA, [], 900, bind_modes={}).waits_for.startswith("PVC Pending (default:")


@pytest.mark.parametrize("mode,after,refused", [
    ("WaitForFirstConsumer", False, True),  # the awaiter may read no class and wait for a Bound that never comes
    ("WaitForFirstConsumer", True, False),
    ("Immediate", False, False),  # the volume controller retries the claim until its class exists
])
def test_a_claim_of_the_plans_wait_for_first_consumer_class_comes_after_it(mode, after, refused):
    """awaiters.go untilCoreV1PersistentVolumeClaimReady reads the claim's class (pvcBindMode) when the claim is
    created; a class not there yet leaves it waiting for Bound, which a WaitForFirstConsumer claim reaches only once
    a pod using it is scheduled: the Pending rule holds only for a claim after its class."""
    fast = k8s("fast", {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": "fast"},
                        "provisioner": "disk.csi.azure.com", "volumeBindingMode": mode})
    claim = k8s("data", {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                         "metadata": {"name": "data", "namespace": "llm"},
                         "spec": {"storageClassName": "fast", "accessModes": ["ReadWriteOnce"],
                                  "resources": {"requests": {"storage": "1Gi"}}}},
                deps=(fast.urn,) if after else ())
    problems = [(p.rule, p.resource) for p in dm.evaluate(plan_of(fast, claim)).problems]
    assert problems == ([("name-reference", "PersistentVolumeClaim llm/data")] if refused else [])


def test_wait_for_replaces_a_kinds_built_in_awaiter_under_the_same_deadline():
    """overrides.go ReadyCondition returns custom=true for a waitFor annotation and await.go Creation then skips the
    kind's awaiter (read at 94977969d): a PVC's 5 minutes and a Service's endpoints no longer apply."""
    waited = {"pulumi.com/waitFor": "jsonpath={.status.phase}=Bound", "pulumi.com/timeoutSeconds": "900"}
    pvc = dm.wait_of(k8s("p", {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                               "metadata": {"name": "p", "annotations": waited}}), DATA, [], 900)
    assert pvc.timeout == 900.0 and pvc.timeout_from == "pulumi.com/timeoutSeconds"
    svc = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s", "namespace": "llm", "annotations": {
        "pulumi.com/waitFor": "jsonpath={.spec.clusterIP}"}}, "spec": {"selector": {"a": "b"}, "ports": [{"port": 80}]}}
    assert dm.wait_of(k8s("s", svc), DATA, [], 900).span == dm.Span.of(DATA["kubernetes"]["object"])
    empty = {"pulumi.com/waitFor": ""}  # overrides.go ReadyCondition: `if val == ""`, as if none were given
    pvc = dm.wait_of(k8s("p", {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "spec": {
        "storageClassName": "azurefile-csi"}, "metadata": {"name": "p", "annotations": empty}}), DATA, [], 900)
    assert (pvc.waits_for, pvc.timeout) == ("PVC Bound", 300.0)
    available = {"pulumi.com/waitFor": "condition=Available"}
    dep = dm.wait_of(k8s("d", deployment("d", annotations=available)), DATA, [], 900)
    assert dep.waits_for.startswith("pulumi.com/waitFor: condition=Available")


def test_an_istio_gateway_awaited_programmed_waits_for_its_load_balancers_address():
    """A Gateway under `pulumi.com/waitFor` Programmed (or its addresses) waits for its Service's address when Istio
    makes that Service a LoadBalancer (its default, unless networking.istio.io/service-type names another type);
    Accepted, another class or another type does not (found by mutation testing)."""
    k = DATA["kubernetes"]
    programmed, address = k["gateway_programmed"]["median"], k["load_balancer_ip"]["median"]

    def gateway(wait_for: str, cls: str = "istio", service_type: str = "", kind: str = "Gateway") -> float:
        annotations = {"pulumi.com/waitFor": wait_for,
                       **({"networking.istio.io/service-type": service_type} if service_type else {})}
        obj = {"apiVersion": "gateway.networking.k8s.io/v1", "kind": kind,
               "metadata": {"name": "g", "namespace": "llm", "annotations": annotations},
               "spec": {"gatewayClassName": cls, "listeners": []}}
        return dm.wait_of(k8s("g", obj), DATA, [], 900).span.median
    assert gateway("condition=Programmed") == gateway("jsonpath={.status.addresses}") == programmed + address
    assert gateway("condition=Programmed", service_type="LoadBalancer") == programmed + address
    assert gateway("condition=Accepted") == gateway("condition=Programmed", service_type="ClusterIP") == programmed
    assert gateway("condition=Programmed", cls="azure-alb-external") == programmed
    assert gateway("condition=Programmed", kind="HTTPRoute") == k["object"]["median"]


def test_helm_release_default_timeout_is_300_seconds_and_skip_await_waits_for_nothing():
    rel = Registration(urn="urn:r", type=dm.HELM_RELEASE, name="r", parent="", custom=True,
                       inputs={"chart": "keda"}, secret_paths=[], dependencies=[], options={})
    assert dm.helm_wait(rel, DATA, []).timeout == 300.0  # helm_release.go: defaultTimeoutSeconds = 300
    rel.inputs.update(skipAwait=True)
    assert dm.helm_wait(rel, DATA, []).timeout is None
    rel.inputs.update(atomic=True)  # atomic sets the wait again (helm_release.go)
    assert dm.helm_wait(rel, DATA, []).timeout == 300.0


def test_a_helm_release_waits_its_charts_figure_under_its_timeout_on_the_pools_its_values_pick():
    """helm_wait's inputs, each (found by mutation testing): the chart's own figure by its name (an OCI path's last
    part), else the default one; a given timeout over the 300 s default; a LoadBalancer Service in its values adds
    the address; a CPU pool whose label its values name is where its pods land."""
    def release(**inputs) -> Registration:
        return Registration(urn="urn:r", type=dm.HELM_RELEASE, name="r", parent="", custom=True, inputs=inputs,
                            secret_paths=[], dependencies=[], options={})
    charts, address = DATA["helm_charts"], DATA["kubernetes"]["load_balancer_ip"]
    stack = dm.helm_wait(release(chart="oci://ghcr.io/prometheus-community/charts/kube-prometheus-stack"), DATA, [])
    assert charts["kube-prometheus-stack"]["median"] != charts["default"]["median"]
    assert (stack.span.median, stack.timeout, stack.timeout_from) == (charts["kube-prometheus-stack"]["median"], 300.0,
                                                                      "helm.sh/v3 Release default (300 s)")
    own = dm.helm_wait(release(chart="mychart", timeout=900), DATA, [])
    assert (own.span.median, own.timeout, own.timeout_from) == (charts["default"]["median"], 900.0, "timeout")
    balanced = dm.helm_wait(release(chart="mychart", values={"service": {"type": "LoadBalancer"}}), DATA, [])
    assert balanced.span.median == charts["default"]["median"] + address["median"]
    assert "a load-balancer address for its Service (service.type)" in balanced.waits_for
    cpu = dm.Pool(urn="urn:cpu", name="cpu", vm_size="Standard_D4s_v5", labels=(("llm-platform/pool", "cpu"),),
                  taints=(), start_nodes=1, spot=False, driver=None)
    placed = dm.helm_wait(release(chart="mychart", values={"nodeSelector": {"llm-platform/pool": "cpu"}}), DATA, [cpu])
    assert placed.pods_on == ["urn:cpu"] and placed.node_delay is not None
    anywhere = dm.helm_wait(release(chart="mychart", values={"nodeSelector": {"llm-platform/pool": "gpu"}}), DATA,
                            [cpu])
    assert anywhere.pods_on == [] and anywhere.node_delay is None


# ---- estimates --------------------------------------------------------------------------------------------------

def test_image_pull_grows_with_size_and_every_family_has_figures():
    small, big = dm.image_pull(DATA, ["redis:8"]), dm.image_pull(DATA, ["vllm/vllm-openai:v0.11.0"])
    assert 0 < small.median < big.median and big.median < big.pessimistic
    for family in DATA["node_from_zero"]["families"]:
        for kind in ("regular", "spot"):
            assert family[kind]["median"] <= family[kind]["pessimistic"]
    assert dm.node_family(DATA, "Standard_NC24ads_A100_v4")["match"].endswith("A100")


@pytest.mark.parametrize("stack", ["prod", "llmd"])
def test_every_image_the_programs_own_pods_pull_has_its_own_size(stack):
    """The pull of a pod the program creates is timed by its image's size (image_pull.sizes_mb): Open-WebUI's
    websocket store moved from Redis to Valkey and `valkey/valkey` fell to the 300 MB default (an alpine image of
    tens of MB), the `redis` figure matching nothing the program runs."""
    from offline.pod_specs import pod_spec
    images = {c["image"] for r in plan_for(stack).kubernetes_objects() if dm.kind_of(r) in dm.WORKLOADS
              for c in (pod_spec(r.inputs) or {}).get("containers") or []}
    default = DATA["image_pull"]["sizes_mb"]["default"]
    assert images and {i for i in images if dm.image_size_mb(DATA, i) == default} == set(), images


def test_spot_with_fallback_is_pessimistically_the_provision_limit_then_an_on_demand_node():
    spot = dm.Pool("a", "gpu", "Standard_NC24ads_A100_v4", (), (), 0, True, "aks")
    regular = dataclasses.replace(spot, urn="b", name="gpuod", spot=False)
    alone, _ = dm.node_wait(DATA, [spot], True, 900)
    both, how = dm.node_wait(DATA, [spot, regular], True, 900)
    assert both.pessimistic == 900 + DATA["node_from_zero"]["families"][0]["regular"]["pessimistic"] \
        + DATA["gpu_driver"]["aks"]["pessimistic"]
    assert both.pessimistic > alone.pessimistic and "on-demand" in how
    operator, _ = dm.node_wait(DATA, [dataclasses.replace(spot, driver="operator")], True, 900)
    assert operator.median > alone.median  # the Operator builds its driver on the node


def test_model_load_and_the_weights_of_a_named_model():
    # the package's model list: Qwen3-8B's safetensors index totals 16381470720 bytes ("16.4 GB" on Hugging Face)
    assert dm.model_weights_gb("Qwen/Qwen3-8B") == pytest.approx(16.381470720)
    assert dm.model_weights_gb("someone/Some-Model-8B") == 16.0  # else bf16 by the parameter count
    assert dm.model_load(DATA, 16).pessimistic > dm.model_load(DATA, 16).median > 0


def test_a_model_of_the_built_in_list_weighs_its_files_not_its_parameter_count():
    """gpt-oss ships MXFP4 weights (13.8 GB for 20B parameters): the deploy model refused `llmd.model:
    openai/gpt-oss-20b` on the llmd stack, a model of the built-in list, as 40 GB to download past vLLM's deadline."""
    assert dm.model_weights_gb("openai/gpt-oss-20b") == pytest.approx(13.761264768)  # its index's total_size
    model = dm.evaluate(plan_for("llmd", {"llmd": {"model": "openai/gpt-oss-20b"}}))
    assert model.problems == [], "\n".join(map(str, model.problems))


def _plan_cli(tmp_path, capsys, stack: str, *sets: str) -> tuple[int, str, dict, dict]:
    """`python -m offline.plan` of `stack` with `sets`: exit code, output, planned resources by name, deploy model."""
    return _planned_by_cli(tmp_path, lambda: "".join(capsys.readouterr()), stack, *sets)


def _planned_by_cli(tmp_path, output, stack: str, *sets: str) -> tuple[int, str, dict, dict]:
    """_plan_cli, the CLI's output read with `output` (what it printed since the last call)."""
    from offline import plan as plan_cli
    code = plan_cli.main(["--stack", stack, "--out", str(tmp_path), *[a for s in sets for a in ("--set", s)]])
    printed = output()
    assert "Traceback" not in printed
    [folder] = [f for f in tmp_path.iterdir() if (f / "resources.json").exists()] or [None]
    if folder is None:
        return code, printed, {}, {}
    resources = {r["name"]: r for r in json.loads((folder / "resources.json").read_text())["resources"]}
    return code, printed, resources, json.loads((folder / "deploy.json").read_text())


# Meta's Llama 3.3 70B (and DeepSeek-R1-Distill-Llama-70B, the same shapes): `model.safetensors.index.json`
# metadata.total_size, bytes; Hugging Face shows it as "141 GB" (decimal), 131.4 GiB
LLAMA_70B_BYTES = 141_107_412_992
# llm-d serving it on four A100s (a node of Standard_NC96ads_A100_v4) with room for its download on the OS disk
LLAMA_70B = ("gpu.vmSize=Standard_NC96ads_A100_v4", "llmd.tensorParallelSize=4",
             "llmd.model=meta-llama/Llama-3.3-70B-Instruct", "llmd.hfTokenSecret=hf-token", "gpu.osDiskSizeGb=256")


@pytest.fixture(scope="module")
def llama_70b_plan(tmp_path_factory) -> tuple[int, str, dict, dict]:
    """`make plan` of llmd serving Llama 3.3 70B at the floors the package ships, once for the tests that read it
    (_plan_cli's answer)."""
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(printed):
        return _planned_by_cli(tmp_path_factory.mktemp("llama-70b"), printed.getvalue, "llmd", *LLAMA_70B)


def test_a_built_in_models_deadline_probe_and_deploy_time_count_its_bytes(llama_70b_plan):
    """KNOWN_MODELS wrote Hugging Face's decimal GB as GiB (141 "GiB" for a 70B model): vLLM's deadline, its startup
    probe and the deploy model's download counted 7 % more than the files. The deadline is the GPU Operator's node
    start (65 min) and the bytes at the floors (40 MB/s download, 500 MB/s load), rounded up to minutes."""
    from llmplatform.kube import GPU_OPERATOR_START_TIMEOUT_SECONDS as NODE_START
    from llmplatform.kube import MODEL_DOWNLOAD_FLOOR_MB_S as DOWNLOAD, MODEL_LOAD_FLOOR_MB_S as LOAD
    code, out, resources, deploy = llama_70b_plan
    assert code == 0, out[-2000:]
    mb = LLAMA_70B_BYTES / 1e6
    transfer = -(-(mb / DOWNLOAD + mb / LOAD) // 60) * 60  # 3528 + 282 s: 64 min
    vllm = resources["llmd-vllm"]["inputs"]
    assert vllm["metadata"]["annotations"]["pulumi.com/timeoutSeconds"] == str(int(NODE_START + transfer)) == "7740"
    probe = vllm["spec"]["template"]["spec"]["containers"][0]["startupProbe"]
    assert probe["failureThreshold"] == -(-(transfer + 600) // probe["periodSeconds"])  # the transfer and 10 min
    [wait] = [r for r in deploy["resources"] if r["name"] == "llmd-vllm"]
    assert "download and load meta-llama/Llama-3.3-70B-Instruct (~141 GB)" in wait["waitsFor"], wait


@pytest.fixture
def fresh_durations():
    """load_durations read again before and after the test (it caches what the package's floors were)."""
    dm.load_durations.cache_clear()
    yield
    dm.load_durations.cache_clear()


def test_the_deploy_models_slowest_download_is_the_floor_vllms_deadline_is_sized_by(tmp_path, capsys, monkeypatch,
                                                                                     fresh_durations, llama_70b_plan):
    """kube.py's MODEL_DOWNLOAD_FLOOR_MB_S and MODEL_LOAD_FLOOR_MB_S size vLLM's deadline; deploy_durations.json
    wrote the same 40 and 500 MB/s as the deploy model's pessimistic rates, and nothing bound the two. The file now
    writes only the median and the deploy model reads the package's floors: a slower floor moves both alike."""
    from llmplatform import kube

    def planned(made: tuple[int, str, dict, dict] | None = None) -> tuple[int, float]:
        dm.load_durations.cache_clear()
        code, out, resources, deploy = made or _plan_cli(tmp_path, capsys, "llmd", *LLAMA_70B)
        assert resources, out[-2000:]
        [wait] = [r for r in deploy["resources"] if r["name"] == "llmd-vllm"]
        deadline = resources["llmd-vllm"]["inputs"]["metadata"]["annotations"]["pulumi.com/timeoutSeconds"]
        return int(deadline), wait["pessimisticMinutes"]

    floor, mb = kube.MODEL_DOWNLOAD_FLOOR_MB_S, LLAMA_70B_BYTES / 1e6
    before = planned(llama_70b_plan)  # at the shipped floors: the module's plan of it
    assert dm.load_durations()["model_load"]["download_mb_s"]["pessimistic"] == floor
    monkeypatch.setattr(kube, "MODEL_DOWNLOAD_FLOOR_MB_S", floor / 2)
    after = planned()
    slower = mb / (floor / 2) - mb / floor  # seconds more at half the floor: 59 min
    assert abs(after[0] - before[0] - slower) < 60  # the deadline, in whole minutes
    assert after[1] - before[1] == pytest.approx(slower / 60, abs=0.1)  # the deploy model's pessimistic wait


def test_a_durations_file_writing_the_floors_again_is_refused_naming_the_package_constant(tmp_path):
    """The floors have one home, the package: a pessimistic figure written back into the durations file is refused
    rather than silently overridden, naming where the figure lives."""
    from offline.deploy_model.model import DURATIONS, DurationsError
    data = json.loads(DURATIONS.read_text())
    data["model_load"]["gpu_load_mb_s"]["pessimistic"] = 400
    (tmp_path / "deploy_durations.json").write_text(json.dumps(data))
    with pytest.raises(DurationsError, match=r"model_load.gpu_load_mb_s writes a pessimistic figure: it is "
                                             r"llmplatform.kube.MODEL_LOAD_FLOOR_MB_S \(500 MB/s"):
        dm.load_durations(tmp_path / "deploy_durations.json")


@pytest.mark.parametrize("edit, named", [
    (lambda d: d["azure"]["azure-native:dbforpostgresql:Server"].pop("source"), "azure.azure-native:dbforpostgresql:"
                                                                                 "Server has no source"),
    (lambda d: d["node_from_zero"]["families"][0].pop("source"), "node_from_zero.families[0].regular has no source"),
    (lambda d: d["image_pull"].pop("source"), "image_pull.sizes_mb.ollama/ollama (2000) has no source"),
    (lambda d: d["gpu_driver"].update(mig={"median": 30, "pessimistic": 90}), "gpu_driver.mig has no source"),
    (lambda d: d.pop("_recorded"), "no '_recorded' date"),
    # a source that says nothing, or a date that is none, is none
    (lambda d: d["azure"]["azure-native:dbforpostgresql:Server"].update(source=" "),
     "azure.azure-native:dbforpostgresql:Server has no source"),
    (lambda d: d["image_pull"].update(source=None), "image_pull.sizes_mb.ollama/ollama (2000) has no source"),
    (lambda d: d.update(_recorded="2026-13-45"), "no '_recorded' date (YYYY-MM-DD), '2026-13-45'"),
])
def test_a_figure_without_a_source_or_a_file_without_its_date_is_refused_naming_it(tmp_path, edit, named):
    """Issue #18: each figure of the durations file has a source, and the file is dated. A figure added or corrected
    without saying where it comes from is refused, naming it; the shipped file passes."""
    from offline.deploy_model.model import DURATIONS, DurationsError
    data = json.loads(DURATIONS.read_text())
    edit(data)
    (tmp_path / "deploy_durations.json").write_text(json.dumps(data))
    with pytest.raises(DurationsError, match=re.escape(named)):
        dm.load_durations(tmp_path / "deploy_durations.json")
    assert dm.load_durations(DURATIONS)["_recorded"]


def test_a_model_sized_by_the_stack_is_downloaded_in_the_deploy_model_as_its_deadline_waits_for_it(tmp_path, capsys):
    """A model outside the built-in list is sized by llmd.modelMemoryGib: LlmdStack's deadline counted its download,
    the deploy model none (a name without a parameter count), so `make plan` timed vLLM ~45 min short. Both now read
    the size LlmdStack records on the Deployment (llmd_specs.weights_gib)."""
    from llmplatform.kube import MODEL_DOWNLOAD_FLOOR_MB_S as DOWNLOAD, MODEL_LOAD_FLOOR_MB_S as LOAD
    code, out, resources, deploy = _plan_cli(
        tmp_path, capsys, "llmd", "gpu.vmSize=Standard_NC96ads_A100_v4", "llmd.tensorParallelSize=4",
        "llmd.model=acme/private-model", "llmd.modelMemoryGib=100", "llmd.maxModelLen=8192")
    assert code == 0, out[-2000:]
    annotations = resources["llmd-vllm"]["inputs"]["metadata"]["annotations"]
    assert annotations["llm-platform/model-weights-bytes"] == str(100 * 2 ** 30)
    [wait] = [r for r in deploy["resources"] if r["name"] == "llmd-vllm"]
    assert "download and load acme/private-model (~107 GB)" in wait["waitsFor"], wait
    mb = 100 * 2 ** 30 / 1e6
    assert wait["pessimisticMinutes"] > (mb / DOWNLOAD + mb / LOAD) / 60 > 48  # the download alone


def test_the_ollama_catalogue_is_ollama_coms_gb_and_the_share_counts_it_in_gib(tmp_path, capsys):
    """config/data/ollama_models.json wrote ollama.com's GB figures and called them GiB: the share-room check refused
    a share that holds the models (91.5 GB of them is 85.2 GiB, under 90 % of 100 GiB), and the preload Job counted
    7 % more to pull."""
    models = ["modelStore.models[3]=llama3.1:70b", "modelStore.models[4]=qwen2.5:32b",
              "modelStore.models[5]=gpt-oss:20b", "modelStore.models[6]=deepseek-r1:8b"]
    code, out, resources, _ = _plan_cli(tmp_path, capsys, "prod", "modelStore.sizeGib=100", *models)
    assert code == 0 and "10 % of the share free" not in out, out[-2000:]
    job = resources["models-preload"]["inputs"]
    env = {e["name"]: e["value"] for e in job["spec"]["template"]["spec"]["containers"][0]["env"]}
    # prod's llama3.1:8b, mistral:7b, nomic-embed-text and these: ollama.com's sizes, GB, in MiB rounded up
    shown_gb = {"llama3.1:8b": 4.9, "mistral:7b": 4.1, "nomic-embed-text": 0.27, "llama3.1:70b": 43,
                "qwen2.5:32b": 20, "gpt-oss:20b": 14, "deepseek-r1:8b": 5.2}
    assert env["MODEL_SIZES_MIB"] == " ".join(f"{m}={-(-int(gb * 1e9) // 2 ** 20)}" for m, gb in shown_gb.items())
    code, out, _, _ = _plan_cli(tmp_path, capsys, "prod", "modelStore.sizeGib=100", *models,
                                "modelStore.models[7]=qwen2.5:7b", "modelStore.models[8]=llama3.2:3b")
    assert code != 0 and "modelStore.sizeGib 100 is invalid; allowed: at least 102 GiB: 10 % of the share free above " \
                          "the ~91 GiB of the models to preload (modelStore.models)" in out, out[-2000:]


def test_a_pod_lands_only_where_its_selector_and_tolerations_allow():
    cpu = dm.Pool("c", "cpu", "Standard_D4s_v5", (("llm-platform/pool", "cpu"),), (), 1, False, None)
    gpu = dm.Pool("g", "gpu", "Standard_NC4as_T4_v3", (), ("nvidia.com/gpu=present:NoSchedule",), 0, False, "aks")
    assert dm.landing_pools({"nodeSelector": {"llm-platform/pool": "cpu"}}, [cpu, gpu]) == [cpu]
    spec = {"containers": [{"resources": {"limits": {"nvidia.com/gpu": "1"}}}],
            "tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]}
    assert dm.landing_pools(spec, [cpu, gpu]) == [gpu]


# ---- planted defects fail the model --------------------------------------------------------------------------------

def test_a_gpu_deployment_under_the_default_await_fails_with_the_fix():
    pool = Registration(urn="urn:pool", type=dm.AGENT_POOL, name="gpu-pool", parent="", custom=True, inputs={
        "agentPoolName": "gpu", "vmSize": "Standard_NC24ads_A100_v4", "minCount": 0, "scaleSetPriority": "Spot",
        "nodeTaints": ["nvidia.com/gpu=present:NoSchedule"], "gpuProfile": {"driver": "Install"}},
        secret_paths=[], dependencies=[], options={})
    ollama = k8s("ollama", deployment("ollama", gpu=True, image="ollama/ollama:0.32.15", tolerations=[
        {"operator": "Exists"}]), ("urn:pool",))
    problems = dm.evaluate(plan_of(pool, ollama)).problems
    assert any(p.rule == "timeout" and "ollama" in p.resource and "pulumi.com/timeoutSeconds" in p.message
               for p in problems), problems


def test_a_custom_resource_before_its_crd_fails():
    release = Registration(urn="urn:kps", type=dm.HELM_RELEASE, name="kps", parent="", custom=True,
                           inputs={"chart": "kube-prometheus-stack", "timeout": 900}, secret_paths=[],
                           dependencies=[], options={"provider": PROVIDER + "::id"})
    monitor = k8s("mon", {"apiVersion": "monitoring.coreos.com/v1", "kind": "PodMonitor",
                          "metadata": {"name": "vllm", "namespace": "llm-d"}, "spec": {}})
    problems = dm.evaluate(plan_of(release, monitor)).problems
    assert [p.rule for p in problems] == ["crd-order"] and "kps" in problems[0].message
    monitor.dependencies.append("urn:kps")
    assert dm.evaluate(plan_of(release, monitor)).problems == []


def test_a_cilium_policy_comes_after_the_cluster_whose_cilium_dataplane_registers_its_crd():
    """cilium.io's CRDs come with the AKS cluster when its dataplane is Cilium (its operator registers them before
    a node is Ready); a cluster on the Azure dataplane (calico, azure) installs none."""
    def cluster(dataplane: str) -> Registration:
        profile = ({"networkPolicy": "cilium", "networkDataplane": "cilium"} if dataplane
                   else {"networkPolicy": "calico"})
        return Registration(urn="urn:aks", type=dm.MANAGED_CLUSTER, name="aks", parent="", custom=True,
                            inputs={"networkProfile": profile}, secret_paths=[], dependencies=[], options={})
    policy = k8s("cnp", {"apiVersion": "cilium.io/v2", "kind": "CiliumNetworkPolicy",
                         "metadata": {"name": "guard", "namespace": "monitoring"}, "spec": {}})
    problems = dm.evaluate(plan_of(cluster("cilium"), policy)).problems
    assert [p.rule for p in problems] == ["crd-order"] and "is not after aks" in problems[0].message
    policy.dependencies.append("urn:aks")
    assert dm.evaluate(plan_of(cluster("cilium"), policy)).problems == []
    problems = dm.evaluate(plan_of(cluster(""), policy)).problems
    assert [p.rule for p in problems] == ["crd-order"] and "no resource of this plan installs" in problems[0].message
    assert "fix: install them on its cluster" in problems[0].message
    assert [r.name for r in dm.crd_installers(variant("dev"))["cilium.io"]] == ["platform-aks"]


def test_a_dangling_name_reference_fails_and_a_missing_dependency_on_a_needed_one_too():
    d = k8s("web", deployment("web", serviceAccountName="ghost"))
    problems = dm.evaluate(plan_of(d)).problems
    assert any(p.rule == "name-reference" and "ghost" in p.message and "dangling" in p.message
               and "cannot create a pod" in p.message and "fix: create it in this plan" in p.message
               for p in problems), problems
    sa = k8s("sa", {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "ghost", "namespace": "llm"}})
    problems = dm.evaluate(plan_of(sa, d)).problems
    assert any("not after it" in p.message and "ServiceAccount" in p.message for p in problems)
    d.dependencies.append(sa.urn)
    assert dm.evaluate(plan_of(sa, d)).problems == []


@pytest.mark.parametrize("where", ["env", "envFrom", "initContainer", "projected"])
def test_a_container_env_or_projected_volume_naming_a_secret_nothing_creates_is_a_dangling_reference(where):
    """The kubelet holds a container in CreateContainerConfigError until a Secret its env names exists: tolerated
    while it comes, a failure when nothing creates it (an optional one is neither)."""
    ref = {"name": "ghost", "key": "k"}  # one object, so marking it optional below marks it wherever it is used
    container = {"name": "c", "image": "nginxinc/nginx-unprivileged:1.29"}
    pod: dict = {}
    if where == "env":
        container["env"] = [{"name": "K", "valueFrom": {"secretKeyRef": ref}}]
    elif where == "envFrom":
        container["envFrom"] = [{"configMapRef": ref}]
    elif where == "initContainer":
        pod["initContainers"] = [{**container, "env": [{"name": "K", "valueFrom": {"configMapKeyRef": ref}}]}]
    else:
        pod["volumes"] = [{"name": "p", "projected": {"sources": [{"secret": ref}]}}]
    obj = deployment("web", **pod)
    obj["spec"]["template"]["spec"]["containers"][0].update({k: v for k, v in container.items() if k != "name"})
    problems = dm.evaluate(plan_of(k8s("web", obj))).problems
    assert [(p.rule, "ghost" in p.message and "dangling" in p.message) for p in problems] == [("name-reference", True)]
    ref["optional"] = True
    assert dm.evaluate(plan_of(k8s("web", obj))).problems == []


def test_an_object_in_a_namespace_nothing_creates_or_before_its_namespace_fails():
    """NotFound into a missing namespace: pulumi-kubernetes retries it for 31 s (await.go Creation), Helm not at all."""
    d = k8s("web", deployment("web"))
    problems = dm.evaluate(bare_plan_of(d)).problems
    assert [(p.rule, p.resource) for p in problems] == [("namespace", "Deployment llm/web")]
    assert "nothing in this plan creates" in problems[0].message
    ns = k8s("llm", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "llm"}})
    problems = dm.evaluate(bare_plan_of(ns, d)).problems
    assert [p.rule for p in problems] == ["namespace"] and "not after llm" in problems[0].message
    assert dm.evaluate(bare_plan_of(ns, dataclasses.replace(d, dependencies=[ns.urn]))).problems == []
    assert dm.evaluate(bare_plan_of(k8s("sys", {**deployment("sys"), "metadata": {"name": "sys", "namespace":
                                                                                 "kube-system"}}))).problems == []


def test_a_release_may_create_its_namespace_and_what_goes_there_follows_it():
    def release(create: bool) -> Registration:
        return Registration(urn="urn:rel", type=dm.HELM_RELEASE, name="rel", parent="", custom=True, inputs={
            "chart": "x", "namespace": "tools", "createNamespace": create, "skipAwait": True}, secret_paths=[],
            dependencies=[], options={"provider": PROVIDER + "::id"})
    assert dm.evaluate(bare_plan_of(release(True))).problems == []
    assert [p.resource for p in dm.evaluate(bare_plan_of(release(False))).problems] == ["rel"]
    cm = k8s("cm", {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "tools"}})
    assert [p.resource for p in dm.evaluate(bare_plan_of(release(True), cm)).problems] == ["ConfigMap tools/c"]
    cm.dependencies.append("urn:rel")
    assert dm.evaluate(bare_plan_of(release(True), cm)).problems == []


def test_make_plan_refuses_a_plan_whose_application_namespace_nothing_creates(tmp_path, capsys, monkeypatch):
    """The dev plan without the application namespace's Namespace object (what a ModelStore or InferenceStack put in
    a namespace no component creates looks like): every object of `llm` is named, nothing is written."""
    from offline import plan as plan_cli, runner as offline
    broken = copy.deepcopy(variant("dev"))
    broken.resources = [r for r in broken.resources if not (r.type == "kubernetes:core/v1:Namespace"
                                                            and r.inputs["metadata"]["name"] == "llm")]
    monkeypatch.setattr(offline, "run", lambda *a, **k: broken)
    assert plan_cli.main(["--stack", "dev", "--out", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "[namespace] PersistentVolumeClaim llm/" in out and "[namespace] Deployment llm/ollama" in out
    assert "goes into namespace llm, which nothing in this plan creates" in out
    assert not (tmp_path / "dev").exists()


def test_an_interceptor_route_names_its_service_and_may_come_first():
    """The dev plan's InterceptorRoute names the Ollama Service (spec.target.service): gone, a dangling reference;
    present, no ordering needed (the interceptor holds a request until the Service has a ready endpoint:
    http-add-on v0.15.0 interceptor/middleware/endpoint_resolver.go)."""
    plan = variant("dev")
    route = plan.one("kubernetes:http.keda.sh/v1beta1:InterceptorRoute")
    assert references(route) == [("InterceptorRoute", "Service", "llm", "ollama")]
    keda, release = (next(r for r in plan.resources if r.name == name)
                     for name in ("observability-keda", "observability-keda-http"))  # its chart renders keda.sh
    alone = dataclasses.replace(route, dependencies=[release.urn])
    problems = dm.evaluate(plan_of(keda, release, alone)).problems
    assert [(p.rule, "Service llm/ollama" in p.message and "dangling" in p.message) for p in problems] == [
        ("name-reference", True)]
    service = next(r for r in plan.of_type("kubernetes:core/v1:Service") if r.inputs["metadata"]["name"] == "ollama")
    assert dm.evaluate(plan_of(keda, release, alone, dataclasses.replace(service, dependencies=[]))).problems == []


def test_a_daemonset_waiting_for_a_gpu_pool_fails():
    pool = Registration(urn="urn:pool", type=dm.AGENT_POOL, name="gpu-pool", parent="", custom=True, inputs={
        "agentPoolName": "gpu", "vmSize": "Standard_NC4as_T4_v3", "minCount": 0, "gpuProfile": {"driver": "Install"}},
        secret_paths=[], dependencies=[], options={})
    ds = k8s("exporter", {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "x", "namespace": "m"},
                          "spec": {"template": {"spec": {"containers": [{"image": "dcgm"}]}}}}, ("urn:pool",))
    problems = dm.evaluate(plan_of(pool, ds)).problems
    assert [p.rule for p in problems] == ["gpu-wait"] and "gpu-pool" in problems[0].message


def test_parallel_agent_pool_writes_and_a_missing_principal_type_fail():
    def write(name, deps=()):
        return Registration(urn=f"urn:{name}", type=dm.AGENT_POOL, name=name, parent="", custom=True, inputs={
            "resourceGroupName": "rg", "resourceName": "aks", "agentPoolName": name, "vmSize": "Standard_D4s_v5",
            "minCount": 1}, secret_paths=[], dependencies=list(deps), options={})
    assert [p.rule for p in dm.evaluate(plan_of(write("a"), write("b"))).problems] == ["cluster-writes"]
    assert dm.evaluate(plan_of(write("a"), write("b", ("urn:a",)))).problems == []
    grant = Registration(urn="urn:g", type="azure-native:authorization:RoleAssignment", name="grant", parent="",
                         custom=True, inputs={"principalId": "x"}, secret_paths=[], dependencies=[], options={})
    assert [p.rule for p in dm.evaluate(plan_of(grant)).problems] == ["principal-type"]


def test_a_grant_to_a_managed_identity_as_a_user_fails_with_the_fix():
    """A managed identity is a ServicePrincipal: a grant to its principal typed User is refused by ARM
    (UnmatchedPrincipalType); the message names the grant and the value to set."""
    identity = Registration(urn="urn:id", type="azure-native:managedidentity:UserAssignedIdentity", name="id",
                            parent="", custom=True, inputs={}, secret_paths=[], dependencies=[], options={})
    grant = Registration(urn="urn:g", type="azure-native:authorization:RoleAssignment", name="reader-grant",
                         parent="", custom=True, inputs={"principalId": "id-principal", "principalType": "User"},
                         secret_paths=[], dependencies=["urn:id"], options={})
    (problem,) = dm.check_principal_types(plan_of(identity, grant))
    assert (problem.rule, problem.resource) == ("principal-type", "reader-grant")
    assert "User for a managed identity" in problem.message and "fix: principalType ServicePrincipal" in problem.message
    grant.inputs["principalType"] = "ServicePrincipal"
    assert dm.check_principal_types(plan_of(identity, grant)) == []


def test_aks_creates_and_other_writes_to_their_network_run_one_at_a_time():
    """Azure/AKS#4522: an AKS create sets its ownership of the network and fails while a subnet write (or another
    pool's create, whatever its cluster) holds the network in Updating state."""
    def azure(name, type_, deps=(), **inputs):
        return Registration(urn=f"urn:{name}", type=type_, name=name, parent="", custom=True, inputs=inputs,
                            secret_paths=[], dependencies=list(deps), options={})

    def subnet(name, vnet="vnet", deps=()):
        return azure(name, dm.SUBNET, deps, resourceGroupName="rg", virtualNetworkName=vnet, subnetName=name)

    nodes, db = subnet("nodes"), subnet("db", deps=("urn:nodes",))
    aks = azure("aks", dm.MANAGED_CLUSTER, ("urn:nodes",), resourceGroupName="rg", resourceName="aks")
    problems = dm.evaluate(plan_of(nodes, db, aks)).problems
    assert [(p.rule, p.resource) for p in problems] == [("vnet-writes", "aks")] and "db" in problems[0].message
    aks.dependencies.append("urn:db")
    assert dm.evaluate(plan_of(nodes, db, aks)).problems == []
    # pools of two clusters on one network: no cluster rule applies, the network rule does
    one, two = (azure(f"pool{i}", dm.AGENT_POOL, ("urn:nodes",), resourceGroupName="rg", resourceName=f"aks{i}",
                      agentPoolName="cpu", vmSize="Standard_D4s_v5", minCount=1) for i in (1, 2))
    assert [p.rule for p in dm.evaluate(plan_of(nodes, one, two)).problems] == ["vnet-writes"]
    elsewhere = subnet("other", vnet="vnet2")
    two.dependencies = ["urn:other"]
    assert dm.evaluate(plan_of(nodes, elsewhere, one, two)).problems == []


def test_federated_credentials_of_one_identity_are_written_one_at_a_time_and_once_per_subject():
    """Entra ID refuses concurrent writes under one user-assigned identity (409) and a repeated issuer and subject."""
    def credential(name, identity="id1", subject="system:serviceaccount:llm:a", deps=()):
        return Registration(urn=f"urn:{name}", type=dm.FEDERATION, name=name, parent="", custom=True, inputs={
            "resourceGroupName": "rg", "resourceName": identity, "issuer": "https://oidc/x/", "subject": subject,
            "audiences": ["api://AzureADTokenExchange"]}, secret_paths=[], dependencies=list(deps), options={})

    a, b = credential("a"), credential("b", subject="system:serviceaccount:llm:b")
    assert [(p.rule, p.resource) for p in dm.evaluate(plan_of(a, b)).problems] == [("identity-writes", "b")]
    b.dependencies.append(a.urn)
    assert dm.evaluate(plan_of(a, b)).problems == []
    assert dm.evaluate(plan_of(a, credential("c", identity="id2"))).problems == []  # another identity: parallel
    again = credential("again", deps=(a.urn,))
    problems = dm.evaluate(plan_of(a, again)).problems
    assert [p.rule for p in problems] == ["identity-writes"] and "repeats a's issuer and subject" in problems[0].message


def test_writes_to_one_postgres_server_run_one_at_a_time():
    """terraform-provider-azurerm locks a flexible server around each child write; two unchained ones fail here."""
    def child(name, type_, deps=()):
        return Registration(urn=f"urn:{name}", type=f"azure-native:dbforpostgresql:{type_}", name=name, parent="",
                            custom=True, inputs={"resourceGroupName": "rg", "serverName": "psql"}, secret_paths=[],
                            dependencies=list(deps), options={})

    admin, db = child("admin", "AdministratorsMicrosoftEntra"), child("db", "Database")
    assert [(p.rule, p.resource) for p in dm.evaluate(plan_of(admin, db)).problems] == [("server-writes", "db")]
    db.dependencies.append(admin.urn)
    assert dm.evaluate(plan_of(admin, db)).problems == []


def test_a_reader_of_a_jobs_output_must_follow_the_awaited_job():
    claim = {"persistentVolumeClaim": {"claimName": "models"}}
    job = k8s("job", {"apiVersion": "batch/v1", "kind": "Job", "metadata": {
        "name": "preload", "namespace": "llm", "annotations": {"pulumi.com/skipAwait": "true"}}, "spec": {
        "template": {"spec": {"containers": [{"image": "ollama/ollama:1"}], "volumes": [{"name": "m", **claim}]}}}})
    reader = k8s("ollama", deployment("ollama", volumes=[{"name": "m", "persistentVolumeClaim": {
        "claimName": "models", "readOnly": True}}]), (job.urn,))
    pvc = k8s("pvc", {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "models",
                                                                                      "namespace": "llm"}})
    assert "job-output" in [p.rule for p in dm.evaluate(plan_of(pvc, job, reader)).problems]  # skipAwait: no wait
    del job.inputs["metadata"]["annotations"]["pulumi.com/skipAwait"]
    assert "job-output" not in [p.rule for p in dm.evaluate(plan_of(pvc, job, reader)).problems]


# ---- the stacks converge on paper ---------------------------------------------------------------------------------

@pytest.mark.parametrize("name", PLANNED)
def test_every_stack_and_variant_converges_on_paper(name):
    """Every stack file (dev, prod, llmd, global, the regions) and every config variant the suite plans: no wait over
    its deadline, no ordering defect."""
    model = dm.evaluate(planned(name))
    assert model.problems == [], "\n".join(map(str, model.problems))
    doc = model.document()
    assert doc["summary"].startswith("fresh pulumi up: ~") and doc["criticalPath"]
    assert all(r["timeoutMinutes"] is None or r["pessimisticMinutes"] <= r["timeoutMinutes"]
               for r in doc["resources"])


def test_prod_on_the_gpu_operator_converges_on_paper():
    """`gpu.driver: operator` on prod (Ollama on spot A100s, 8B models): the Operator's driver install on a node from
    zero adds to the GPU start, and Ollama's await deadline must cover it (it failed `make plan` at 45.5 > 45 min)."""
    model = dm.evaluate(plan_for("prod", {"gpu": {"driver": "operator"}}))
    assert model.problems == [], "\n".join(map(str, model.problems))


def test_a_cpu_pool_with_a_minimum_of_zero_starts_with_a_node_and_dev_converges():
    """`cluster.workloadPool.minCount: 0` (the config allows it): the pool was created empty, so every CPU rollout of
    a first `pulumi up` waited for the autoscaler's node from zero, pessimistic past the 10-minute Deployment await,
    and `make plan` refused the stack with fixes the user cannot apply (the components' own timeouts). The pool is now
    created with one node (`count`, which the autoscaler owns after), its minimum still 0."""
    plan = plan_for("dev", {"cluster": {"workloadPool": {"minCount": 0}}})
    cpu = next(r for r in plan.of_type(dm.AGENT_POOL) if r.inputs["agentPoolName"] == "cpu")
    assert (cpu.inputs["minCount"], cpu.inputs["count"]) == (0, 1) and "count" in cpu.options["ignoreChanges"]
    model = dm.evaluate(plan)
    assert model.problems == [], "\n".join(map(str, model.problems))


def test_prod_issue_cases_are_fixed(prod):
    """The cases issue #18 named: each is after what it needs, or no longer waits for what it does not."""
    graph = dm.dependencies(prod)
    before = dm.ancestors(graph)
    by_name = {r.name: r for r in prod.resources}
    assert by_name["observability-keda-http"].urn in before[by_name["ollama-autoscaler-http"].urn]
    gpu_pools = {r.urn for r in prod.of_type(dm.AGENT_POOL) if "gpu" in r.name}
    assert not gpu_pools & before[by_name["observability-dcgm-exporter"].urn]
    assert dm.crd_installers(prod)["http.keda.sh"][0].name == "observability-keda-http"


def test_the_floor_is_azures_operations_alone_and_prod_is_bound_by_its_serialised_pool_writes(prod):
    """With nothing in the cluster awaited every Kubernetes object and release takes its create time; what remains is
    Azure's: for prod, AKS and its agent-pool writes one at a time (the bound issue #18's 13-minute goal meets)."""
    model = dm.evaluate(prod)
    floor = model.floor
    assert floor is not None and floor.total.median <= model.total.median
    data = dm.load_durations()
    created = dm.Span.of(data["kubernetes"]["object"])
    for step in floor.steps.values():
        if step.reg.type.startswith("kubernetes:"):
            assert step.wait.span == created and step.wait.node_delay is None, step.reg.name
    path = [floor.steps[u].reg for u in floor.critical_path]
    pools = [r.name for r in path if r.type == dm.AGENT_POOL]
    assert path[-1].type == dm.AGENT_POOL and "platform-aks" in [r.name for r in path]
    assert pools == ["platform-cpu", "gpu-gpu", "gpu-gpuod"]  # serialised: each after the one before
    span = sum((floor.steps[u].elapsed.median for u in floor.critical_path), 0.0)
    assert abs(span - floor.total.median) < 1  # the path accounts for the floor
    doc = model.document()
    assert doc["floorMinutes"] == round(floor.total.median / 60, 1) and doc["floorPath"][-1] == "gpu-gpuod"
    assert dm.report_lines(model)[1].startswith(
        f"with nothing in the cluster awaited: ~{round(floor.total.median / 60)} min")


def test_the_sdk_sends_user_when_a_role_assignment_names_no_principal_type():
    """The upstream fact behind the principal-type rule: the SDK fills the REST spec's default, User."""
    import pulumi
    from pulumi_azure_native import authorization
    from offline import runner as offline

    def program():
        authorization.RoleAssignment("grant", principal_id="p", role_definition_id="r", scope="/s")
    plan = offline.run_function(program)
    assert plan.one("azure-native:authorization:RoleAssignment").inputs.get("principalType") == "User"
    assert pulumi  # imported for the program's runtime


def test_the_deployers_principal_type_follows_how_it_logs_in(dev):
    from llmplatform.aks_cluster import deployer_principal_type
    assert deployer_principal_type("azurecli") == "User" and deployer_principal_type("devicecode") == "User"
    assert {deployer_principal_type(m) for m in ("workloadidentity", "spn", "msi")} == {"ServicePrincipal"}
    assert deployer_principal_type("workloadidentity", "User") == "User"  # set explicitly, it wins
    grant = next(r for r in dev.of_type("azure-native:authorization:RoleAssignment")
                 if r.name.endswith("deployer-admin"))
    assert grant.inputs["principalType"] == "User"  # dev logs in with the Azure CLI


def service_and_workload() -> tuple[Registration, Registration, Registration]:
    """A CPU pool, a Service and the Deployment whose pods it selects, both after the pool."""
    pool = Registration(urn="urn:cpu", type=dm.AGENT_POOL, name="cpu", parent="", custom=True, inputs={
        "agentPoolName": "cpu", "vmSize": "Standard_D4s_v5", "minCount": 1, "nodeLabels": {"pool": "cpu"}},
        secret_paths=[], dependencies=[], options={})
    web = deployment("web", image="ghcr.io/open-webui/open-webui:0.11.0", nodeSelector={"pool": "cpu"})
    web["spec"]["template"]["metadata"] = {"labels": {"app": "web"}}
    svc = k8s("svc", {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "llm"},
                      "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}}, ("urn:cpu",))
    return pool, svc, k8s("web", web, ("urn:cpu",))


def test_a_service_waits_for_scheduled_pods_and_not_for_pending_ones():
    pool, svc, wl = service_and_workload()
    model = dm.schedule(plan_of(pool, wl, svc))
    assert model.steps[svc.urn].finish == model.steps[wl.urn].finish  # scheduled pods hold the endpoints unready
    early = k8s("svc", copy.deepcopy(svc.inputs), ())
    model = dm.schedule(plan_of(pool, wl, early))  # the Service before the pool: its pods pending, no IP yet
    assert model.steps[early.urn].elapsed.median == DATA["kubernetes"]["service_settle"]["median"]


def test_the_crd_table_names_charts_that_ship_those_crds():
    """Each chart the table credits with a CRD group is a chart the components pin, and where the CRD is vendored
    its recorded source is that chart's project."""
    from pathlib import Path
    import json as _json
    root = Path(__file__).resolve().parent.parent  # tests/
    pins = _json.loads((root.parent / "components" / "llmplatform" / "data" / "pins.json").read_text())["charts"]
    charts = {c["chart"].rsplit("/", 1)[-1] for c in pins.values()}
    assert set(dm.CHART_CRD_GROUPS) <= charts
    sources = (root / "upstream" / "SOURCES.md").read_text().splitlines()
    project = {"base": "istio/istio", "kube-prometheus-stack": "prometheus-community/helm-charts",
               "keda": "kedacore/keda",
               "keda-add-ons-http": "kedacore/http-add-on", "cert-manager": "cert-manager/cert-manager",
               "gpu-operator": "NVIDIA/gpu-operator", "network-operator": "Mellanox/network-operator"}
    checked = set()
    for chart, groups in dm.CHART_CRD_GROUPS.items():
        for group in groups:
            rows = [line.split("|")[2].strip() for line in sources if line.startswith(f"| `crds/{group}/")
                    and "/" in line.split("|")[2]]  # the provenance table (repository), not the checks table
            assert all(repo == project[chart] for repo in rows), (chart, group, rows)
            if rows:
                checked.add(chart)
    assert checked == {"base", "kube-prometheus-stack", "keda", "keda-add-ons-http", "cert-manager", "gpu-operator",
                       "network-operator"}


def test_llmd_router_resolves_its_upstream_only_after_istio_programmed_the_gateway():
    plan = variant("llmd")
    by_name = {r.name: r for r in plan.resources}
    gateway = by_name["llmd-pool-gateway"]
    assert gateway.inputs["metadata"]["annotations"]["pulumi.com/waitFor"] == "condition=Programmed"
    before = dm.ancestors(dm.dependencies(plan))
    assert gateway.urn in before[by_name["llmd-router"].urn]
    wait = dm.schedule(plan).steps[gateway.urn].wait
    assert "Programmed" in wait.waits_for and wait.timeout == 600.0


def test_make_plan_refuses_a_planted_ordering_defect_naming_it(tmp_path, capsys, monkeypatch):
    """The CLI path: the cached dev plan with the InterceptorRoute's dependency on the add-on removed (the defect
    issue #18 found, then on its HTTPScaledObject) exits 1, names the object and the release, and writes nothing."""
    from offline import plan as plan_cli, runner as offline
    broken = copy.deepcopy(variant("dev"))
    scaler = next(r for r in broken.resources if r.name == "ollama-autoscaler-http")
    scaler.dependencies = [d for d in scaler.dependencies if "observability" not in d]
    monkeypatch.setattr(offline, "run", lambda *a, **k: broken)
    assert plan_cli.main(["--stack", "dev", "--out", str(tmp_path)]) == 1
    captured = capsys.readouterr()
    assert "[crd-order] InterceptorRoute llm/ollama" in captured.out and "observability-keda-http" in captured.out
    assert "deploy model refuses this plan" in captured.err and not (tmp_path / "dev").exists()


def test_ingress_waits_for_an_address_and_a_crd_is_not_waited_for():
    ingress = dm.wait_of(k8s("i", {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
                                   "metadata": {"name": "i", "namespace": "llm"}}), DATA, [], 900)
    assert "load-balancer address" in ingress.waits_for and ingress.timeout == 600.0  # ingress.go: 10 min
    crd_obj = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
               "metadata": {"name": "widgets.example.com"}, "spec": {"group": "example.com"}}
    crd = k8s("crd", crd_obj, type_="kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition")
    assert dm.wait_of(crd, DATA, [], 900).timeout is None
    widget = k8s("w", {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}},
                 type_="kubernetes:example.com/v1:Widget")
    assert [p.rule for p in dm.evaluate(plan_of(crd, widget)).problems] == ["crd-order"]
    widget.dependencies.append(crd.urn)
    assert dm.evaluate(plan_of(crd, widget)).problems == []


def test_the_deployers_grant_must_match_how_it_logs_in():
    """A grant to the deployer (getClientConfig's object) left at the SDK's default User, while the provider logs in
    as an application (CI's workload identity), is refused as ARM would (UnmatchedPrincipalType)."""
    from offline.runner import DEPLOYER
    provider = Registration(urn=PROVIDER, type="pulumi:providers:kubernetes", name="k8s", parent="", custom=True,
                            inputs={"kubeconfig": "args: [get-token, --login, workloadidentity]"}, secret_paths=[],
                            dependencies=[], options={})
    grant = Registration(urn="urn:g", type="azure-native:authorization:RoleAssignment", name="deployer-admin",
                         parent="", custom=True, inputs={"principalId": DEPLOYER, "principalType": "User"},
                         secret_paths=[], dependencies=[], options={})
    plan = Plan(project="p", stack="t", resources=[provider, grant])
    assert [p.rule for p in dm.check_principal_types(plan)] == ["principal-type"]
    grant.inputs["principalType"] = "ServicePrincipal"
    assert dm.check_principal_types(plan) == []


def test_pods_that_fit_no_pool_fail_the_plan():
    pool = Registration(urn="urn:cpu", type=dm.AGENT_POOL, name="cpu", parent="", custom=True, inputs={
        "agentPoolName": "cpu", "vmSize": "Standard_D4s_v5", "minCount": 1, "nodeLabels": {"pool": "cpu"}},
        secret_paths=[], dependencies=[], options={})
    lost = k8s("web", deployment("web", nodeSelector={"pool": "gpu"}))
    problems = dm.evaluate(plan_of(pool, lost)).problems
    assert [p.rule for p in problems] == ["timeout"] and "fit no node pool" in problems[0].message


def test_the_preload_is_bounded_by_the_slower_of_registry_and_share(prod):
    # Azure Files premium provisioned v1 ingress: 40 MiB/s + 0.04 MiB/s per provisioned GiB (the data file's source)
    store = dm.store_throughput_mb_s(prod, DATA)
    quota = next(r.inputs["shareQuota"] for r in prod.of_type("azure-native:storage:FileShare"))
    assert store == pytest.approx((40 + 0.04 * quota) * 1.048576)
    job = next(r for r in prod.kubernetes_objects() if dm.kind_of(r) == "Job" and r.name == "models-preload")
    fast, _ = dm.job_work(job, DATA)
    slow_share, _ = dm.job_work(job, DATA, store_mb_s=10.0)
    assert slow_share.median > fast.median and fast.median > 0


def test_workload_kinds_wait_for_what_their_awaiters_check():
    """deployment.go/statefulset.go: all replicas ready; job.go: Complete; awaiters.go Pod: Ready; daemonset.go: a
    pod on each selected node, so none to wait for on a pool at zero (no pool gates it)."""
    for kind, phrase in (("Deployment", "all replicas ready"), ("StatefulSet", "all replicas ready"),
                         ("Job", "Complete")):
        obj = deployment("w")
        obj["kind"] = kind
        assert phrase in dm.wait_of(k8s("w", obj), DATA, [], 900).waits_for
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [{"image": "redis"}]}}
    assert "Ready" in dm.wait_of(k8s("p", pod), DATA, [], 900).waits_for
    ds = deployment("d")
    ds["kind"] = "DaemonSet"
    wait = dm.wait_of(k8s("d", ds), DATA, [dm.Pool("g", "gpu", "Standard_NC4as_T4_v3", (), (), 0, False, "aks")], 900)
    assert "every node" in wait.waits_for and not wait.pods_on and wait.node_delay is None


def test_azure_operations_have_no_deadline_unless_custom_timeouts_and_pools_boot_their_minimum():
    cluster = Registration(urn="urn:c", type=dm.MANAGED_CLUSTER, name="aks", parent="", custom=True, inputs={},
                           secret_paths=[], dependencies=[], options={"customTimeouts": {}})
    wait = dm.wait_of(cluster, DATA, [], 900)
    assert wait.timeout is None and wait.span == dm.Span.of(DATA["azure"][dm.MANAGED_CLUSTER])
    cluster.options["customTimeouts"] = {"create": "1h30m"}
    assert dm.wait_of(cluster, DATA, [], 900).timeout == 5400.0
    pool = {"agentPoolName": "cpu", "vmSize": "Standard_D4s_v5", "minCount": 0}
    empty = dm.wait_of(Registration(urn="urn:p", type=dm.AGENT_POOL, name="p", parent="", custom=True, inputs=pool,
                                    secret_paths=[], dependencies=[], options={}), DATA, [], 900)
    warm = dm.wait_of(Registration(urn="urn:p", type=dm.AGENT_POOL, name="p", parent="", custom=True,
                                   inputs={**pool, "minCount": 2}, secret_paths=[], dependencies=[], options={}),
                      DATA, [], 900)
    assert warm.span.median == empty.span.median + DATA["node_from_zero"]["families"][-1]["regular"]["median"]


def test_a_highly_available_postgres_server_adds_its_standby_from_the_durations_file(dev, prod):
    """postgres.highAvailability (prod): Azure builds a standby server in another zone with the primary, which the
    create waits for; its figure is the durations file's, with its source (dev, without HA, takes the create alone)."""
    entry = DATA["azure"]["azure-native:dbforpostgresql:Server"]
    assert entry["high_availability"]["source"]
    waits = {name: dm.wait_of(plan.one("azure-native:dbforpostgresql:Server"), DATA, [], 900)
             for name, plan in (("dev", dev), ("prod", prod))}
    assert waits["dev"].span == dm.Span.of(entry) and "standby" not in waits["dev"].waits_for
    assert waits["prod"].span == dm.Span.of(entry) + dm.Span.of(entry["high_availability"])
    assert "with its standby" in waits["prod"].waits_for
    corrected = copy.deepcopy(DATA)  # a figure corrected from a real `pulumi up` is the one the model takes
    corrected["azure"]["azure-native:dbforpostgresql:Server"]["high_availability"].update(median=60, pessimistic=120)
    server = prod.one("azure-native:dbforpostgresql:Server")
    assert dm.wait_of(server, corrected, [], 900).span == dm.Span.of(entry) + dm.Span(60, 120)


def test_llmd_vllm_scaler_is_after_the_release_that_installs_its_crd():
    plan = variant("llmd")
    by_name = {r.name: r for r in plan.resources}
    scaler = next((r for r in plan.kubernetes_objects() if dm.kind_of(r) == "ScaledObject"
                   and r.inputs["metadata"]["name"] == "vllm"), None)
    assert scaler is not None, "the llmd stack scales vLLM with KEDA"
    before = dm.ancestors(dm.dependencies(plan))
    assert by_name["observability-keda"].urn in before[scaler.urn]


def test_a_warm_ollama_is_ready_after_reading_and_loading_its_model_and_a_lazy_one_is_not():
    """OllamaServer's `warm_model` startup probe: Ready once the model is read from the share (its egress:
    60 MiB/s + 0.06 MiB/s per provisioned GiB, the data file's source) and loaded; without it Ollama loads on the first
    request, so readiness costs no model time."""
    from llmplatform.inference_specs import warm_up_command
    lazy = deployment("ollama", image="docker.io/ollama/ollama:0.32.15")
    warm = copy.deepcopy(lazy)
    warm["spec"]["template"]["spec"]["containers"][0]["startupProbe"] = {"exec": {"command": warm_up_command(
        "llama3.1:8b")}}
    read = (60 + 0.06 * 1024) * 1.048576
    waits = [dm.wait_of(k8s("o", obj), DATA, [], 900, dm.ModelShare(read_mb_s=read)) for obj in (lazy, warm)]
    extra = waits[1].span.median - waits[0].span.median
    mb = 4.9e3  # llama3.1:8b in the catalogue: 4.9 GB
    assert extra == pytest.approx(mb / read + mb / DATA["model_load"]["gpu_load_mb_s"]["median"])
    assert "read and load llama3.1:8b" in waits[1].waits_for and "load" not in waits[0].waits_for
    slower = dm.wait_of(k8s("o", warm), DATA, [], 900, dm.ModelShare(read_mb_s=read / 4))
    assert slower.span.median > waits[1].span.median
    twice = 2 * 4.9e9 / 2 ** 30  # GiB, as the preload Job records a size
    declared = dm.ModelShare(read_mb_s=read, sizes_gib=(("llama3.1:8b", twice),))  # the preload Job's record wins
    assert dm.wait_of(k8s("o", warm), DATA, [], 900, declared).span.median - waits[0].span.median == pytest.approx(
        2 * extra)
    assert dm.store_throughput_mb_s(variant("prod"), DATA, "read") > dm.store_throughput_mb_s(variant("prod"), DATA)


WARM_UP = "deploy model: [warm-up] Deployment llm/ollama"
# prod's GPU pool on demand alone: no spot pool, whose upgrades and evictions restart every replica at once
ON_DEMAND = ("gpu.priority=regular", "gpu.fallback.enabled=false")


def _warm_plan(tmp_path, capsys, stack: str, model: str, *sets: str) -> tuple[int, str, str]:
    """`make plan` of `stack` with Ollama warming `model` (added to the store) and `sets`; its exit code, its
    `[warm-up]` finding and its deploy model lines."""
    from offline import plan as plan_cli
    index = {"prod": 3, "dev": 1}[stack]
    warm = [f"modelStore.models[{index}]={model}", f"inference.warmModel={model}", *sets]
    code = plan_cli.main(["--stack", stack, "--out", str(tmp_path), *[a for s in warm for a in ("--set", s)]])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    lines = "\n".join(x for x in out.splitlines() if x.startswith("deploy model: "))
    return code, next((x for x in lines.splitlines() if x.startswith(WARM_UP)), ""), lines


@pytest.mark.parametrize("replicas, refused", [(1, False), (6, True)])
def test_make_plan_refuses_more_replicas_warming_a_large_model_than_the_shares_egress_serves_in_time(
        tmp_path, capsys, replicas, refused):
    """A first deploy: replicas a Deployment starts at once each read the warm model through the share's one egress
    (a node's page cache is its own): six prod replicas warming llama3.1:70b (~43 GB) from prod's 512 GiB share
    (~95 MB/s) take ~45 min each, past one 600 s probe attempt (and the 45 min `pulumi up` waits)."""
    code, line, lines = _warm_plan(tmp_path, capsys, "prod", "llama3.1:70b", *ON_DEMAND, "autoscaling.mode=none",
                                   f"inference.replicas={replicas}")
    assert (code, bool(line)) == ((1, True) if refused else (0, False)), lines
    if refused:
        assert f"read and load llama3.1:70b from the share, {replicas} replicas at once through its" in line
        assert "when a first deploy starts inference.replicas" in line
        assert "fix: inference.replicas at most 1; or modelStore.sizeGib at least" in line
        assert "[timeout] Deployment llm/ollama" not in lines  # no deadline helps: one finding, the levers that do


@pytest.mark.parametrize("replicas, share_gib, refused", [(2, None, False), (3, None, True), (3, 703, False),
                                                           (3, 702, True)])
def test_make_plan_refuses_a_warm_up_longer_than_one_startup_probe_attempt(
        tmp_path, capsys, replicas, share_gib, refused):
    """The kubelet kills a startup probe's exec at timeoutSeconds (600 s) and Ollama aborts a load whose client went
    away, so a warm-up longer than one attempt never passes, though the whole wait fits Pulumi's deadline: three prod
    replicas warming qwen2.5:32b (20 GB) read 3 x 20000 MB at 95 MB/s (631 s) + load at 500 MB/s (40 s) = 671 s.
    The refusal names the levers with their bounds: 2 replicas, or a share of 703 GiB (egress 60 + 0.06 x 703 MiB/s
    = 107 MB/s: 3 x 20000 MB in 560 s, + 40 s)."""
    code, line, lines = _warm_plan(tmp_path, capsys, "prod", "qwen2.5:32b", *ON_DEMAND, "autoscaling.mode=none",
                                   f"inference.replicas={replicas}",
                                   *([f"modelStore.sizeGib={share_gib}"] if share_gib else []))
    assert (code, bool(line)) == ((1, True) if refused else (0, False)), lines
    assert "[timeout] Deployment llm/ollama" not in lines
    if refused and not share_gib:
        assert "in attempts of at most 600 s (timeoutSeconds)" in line
        assert "3 x 20000 MB / 95 MB/s egress + 20000 MB / 500 MB/s load = 631 + 40 s" in line
        assert "fix: inference.replicas at most 2; or modelStore.sizeGib at least 703" in line
        assert "inference.warmModel" in line


@pytest.mark.parametrize("replicas, refused", [(4, False), (5, True)])
def test_make_plan_counts_the_pods_a_rolling_update_at_the_autoscalers_maximum_starts(
        tmp_path, capsys, replicas, refused):
    """A rolling update at the autoscaler's maximum (Kubernetes' default maxSurge 25 % rounded up, maxUnavailable
    25 % rounded down) starts surge + unavailable new pods before any is Ready: 2 + 1 at 5 replicas, each reading
    qwen2.5:32b (20 GB) through prod's ~95 MB/s egress, 631 + 40 s > 600 s. From minReplicas 3 a scale-up adds at
    most 2, the autoscaler raises prod's 2 by 1, the first deploy starts 2; the first deploy's count alone passed it.
    (Held at 8, minReplicas 8, the raise of prod's 2 to 8 starts 6 at once, more than the rollout's 4.)"""
    code, line, lines = _warm_plan(tmp_path, capsys, "prod", "qwen2.5:32b", *ON_DEMAND,
                                   "autoscaling.minReplicas=3", f"autoscaling.maxReplicas={replicas}")
    assert (code, bool(line)) == ((1, True) if refused else (0, False)), lines
    if refused:
        assert "3 replicas at once through its 95 MB/s egress, when a rolling update at autoscaling.maxReplicas 5 " \
            "starts them, maxSurge 25% and maxUnavailable 25% of 5" in line
        assert "fix: autoscaling.maxReplicas at most 4; or modelStore.sizeGib at least 703" in line


@pytest.mark.parametrize("mode", ["requests", "cpu"])
@pytest.mark.parametrize("min_replicas, refused", [(2, False), (1, True)])
def test_make_plan_counts_the_scale_up_steps_that_come_before_the_first_are_warm(
        tmp_path, capsys, mode, min_replicas, refused):
    """prod's autoscaler adds 2 pods per 60 s (ModelAutoscaler's scaleUp: on its HPA, or on the ScaledObject, which
    KEDA hands its HPA). Two warming qwen2.5:32b at once take 2 x 20000 / 95 + 40 = 460 s, so the next step (60 s
    later) starts before they are Ready: from 1 to 4 replicas, 3 read at once (671 s > 600 s); from 2, the 2 the HPA
    may add fit. A rollout at 4 starts 2, the first deploy 2: the steps' overlap alone refuses it."""
    code, line, lines = _warm_plan(tmp_path, capsys, "prod", "qwen2.5:32b", *ON_DEMAND, f"autoscaling.mode={mode}",
                                   f"autoscaling.minReplicas={min_replicas}", "autoscaling.maxReplicas=4")
    assert (code, bool(line)) == ((1, True) if refused else (0, False)), lines
    if refused:
        assert "3 replicas at once through its 95 MB/s egress, when a scale-up from autoscaling.minReplicas 1 to " \
            "autoscaling.maxReplicas 4 starts them in steps of 2 pods per 60 s, selectPolicy Max, while the first " \
            "are warming" in line
        assert "fix: autoscaling.minReplicas at least 2 or autoscaling.maxReplicas at most 3; or modelStore.sizeGib " \
            "at least 703" in line


@pytest.mark.parametrize("mode", ["requests", "cpu"])
@pytest.mark.parametrize("replicas, refused", [(2, False), (1, True)])
def test_make_plan_counts_the_autoscalers_raise_to_its_minimum_at_once(tmp_path, capsys, mode, replicas, refused):
    """The autoscaler is made once the first deploy's pods are Ready and finds fewer than its minimum: the HPA sets
    the minimum at once, no scale-up limit below it (horizontal.go "Current number of replicas below
    Spec.MinReplicas"), KEDA's executor as much. From inference.replicas 1 to minReplicas 4, 3 read qwen2.5:32b at
    once (671 s > 600 s); from 2, the 2 fit. A rollout at 4 starts 2, the first deploy 1 or 2, no scale-up (held at
    4), an on-demand pool's drain 1: the raise alone refuses it, which no other count saw."""
    code, line, lines = _warm_plan(tmp_path, capsys, "prod", "qwen2.5:32b", *ON_DEMAND, f"autoscaling.mode={mode}",
                                   f"inference.replicas={replicas}", "autoscaling.minReplicas=4",
                                   "autoscaling.maxReplicas=4")
    assert (code, bool(line)) == ((1, True) if refused else (0, False)), lines
    if refused:
        assert "3 replicas at once through its 95 MB/s egress, when the autoscaler raises inference.replicas 1 to " \
            "autoscaling.minReplicas 4 at once" in line
        assert "fix: autoscaling.minReplicas at most 3 or inference.replicas at least 2; or modelStore.sizeGib " \
            "at least 703" in line


@pytest.mark.parametrize("on_demand, max_replicas, refused", [(False, 2, False), (False, 3, True), (True, 3, False)])
def test_make_plan_counts_every_replica_on_a_spot_pool_restarting_at_once(
        tmp_path, capsys, on_demand, max_replicas, refused):
    """A spot pool's upgrade drains nothing (a cordon and an eviction notice) and a spot eviction takes its VMs
    without one: no disruption budget paces them, so every replica there may warm again at once. prod's GPU pool is
    spot: at 3 replicas all 3 read qwen2.5:32b at once (671 s > 600 s). On an on-demand pool a drain evicts one at a
    time (OllamaServer's budget, maxUnavailable 1), the rollout at 3 starts 1, the scale-up from 2 adds 1: it fits."""
    code, line, lines = _warm_plan(tmp_path, capsys, "prod", "qwen2.5:32b", *(ON_DEMAND if on_demand else ()),
                                   "autoscaling.minReplicas=2", f"autoscaling.maxReplicas={max_replicas}")
    assert (code, bool(line)) == ((1, True) if refused else (0, False)), lines
    if refused:
        assert "3 replicas at once through its 95 MB/s egress, when a node upgrade or a spot eviction restarts them " \
            "at once on a spot pool, with no drain and no disruption budget" in line
        assert "fix: autoscaling.maxReplicas at most 2; or modelStore.sizeGib at least 703" in line


@pytest.mark.parametrize("max_replicas, refused", [(8, False), (9, True)])
def test_make_plan_counts_a_scale_up_from_zero_with_kedas_activation_pod(tmp_path, capsys, max_replicas, refused):
    """dev scales from zero: KEDA's activation starts one pod and its HPA (minimum 1) adds 2 per 60 s while it warms;
    llama3.1:8b (4.9 GB) from dev's 100 GiB share (~69 MB/s) fits 8 readers in one attempt (8 x 71 + 10 s), not 9.
    The first deploy starts dev's 1."""
    code, line, lines = _warm_plan(tmp_path, capsys, "dev", "llama3.1:8b", f"autoscaling.maxReplicas={max_replicas}")
    assert (code, bool(line)) == ((1, True) if refused else (0, False)), lines
    if refused:
        assert "9 replicas at once through its 69 MB/s egress, when a scale-up from autoscaling.minReplicas 0 to " \
            "autoscaling.maxReplicas 9 starts them" in line
        # the scale-up's and the spot pool's one common lever, at its tighter bound
        assert "fix: autoscaling.maxReplicas at most 8; or modelStore.sizeGib at least 188" in line


def test_an_image_pulled_from_a_mirror_weighs_what_its_upstream_image_weighs():
    from llmplatform.images import mirrored
    from llmplatform.pins import ALL_IMAGES
    for image in ALL_IMAGES:
        assert dm.image_size_mb(DATA, mirrored(image, "mirrorexample.azurecr.io")) == dm.image_size_mb(DATA, image), image
    assert dm.image_size_mb(DATA, "ghcr.io/open-webui/open-webui:0.11.0") == 1800  # not the default size


def test_writes_to_one_key_vault_and_a_private_endpoint_beside_a_subnet_write_fail():
    """Key Vault refuses parallel writes (its secrets, an endpoint's connection); a private endpoint fails on a
    subnet of its network in Updating state; an endpoint beside an AKS create is no finding (no report of it)."""
    def azure(name, type_, deps=(), **inputs):
        return Registration(urn=f"urn:{name}", type=type_, name=name, parent="", custom=True, inputs=inputs,
                            secret_paths=[], dependencies=list(deps), options={})

    vault = azure("vault", dm.VAULT, resourceGroupName="rg", vaultName="kv")
    one, two = (azure(n, "azure-native:keyvault:Secret", ("urn:vault",), resourceGroupName="rg", vaultName="kv",
                      secretName=n) for n in ("one", "two"))
    assert [(p.rule, p.resource) for p in dm.evaluate(plan_of(vault, one, two)).problems] == [("vault-writes", "two")]
    two.dependencies.append(one.urn)
    assert dm.evaluate(plan_of(vault, one, two)).problems == []

    nodes = azure("nodes", dm.SUBNET, resourceGroupName="rg", virtualNetworkName="vnet", subnetName="nodes")
    endpoints = azure("endpoints", dm.SUBNET, ("urn:nodes",), resourceGroupName="rg", virtualNetworkName="vnet",
                      subnetName="endpoints")
    db = azure("db", dm.SUBNET, ("urn:endpoints",), resourceGroupName="rg", virtualNetworkName="vnet",
               subnetName="db")
    pe = azure("pe", dm.PRIVATE_ENDPOINT, ("urn:endpoints", "urn:vault"), resourceGroupName="rg")
    problems = dm.evaluate(plan_of(vault, nodes, endpoints, db, pe, one, two)).problems
    assert sorted((p.rule, p.resource) for p in problems) == [("vault-writes", "one"), ("vault-writes", "two"),
                                                              ("vnet-writes", "pe")]
    pe.dependencies.append("urn:db")
    one.dependencies.append("urn:pe")
    aks = azure("aks", dm.MANAGED_CLUSTER, ("urn:db",), resourceGroupName="rg", resourceName="aks")
    assert dm.evaluate(plan_of(vault, nodes, endpoints, db, pe, one, two, aks)).problems == []


def key_vault_mount() -> tuple[tuple[Registration, Registration, Registration], Registration, dict]:
    """A workload identity with its federated credential (llm/app's account) and Key Vault Secrets User grant (made
    after the cluster's provider), a SecretProviderClass signing in as it, and a pod volume of that class."""
    identity = _azure("id", dm.IDENTITY, resourceGroupName="rg", resourceName="id")
    federation = _azure("fic", dm.FEDERATION, ("urn:id",), resourceGroupName="rg", resourceName="id",
                        issuer="https://oidc/", subject="system:serviceaccount:llm:app")
    grant = _azure("grant", "azure-native:authorization:RoleAssignment", ("urn:id", PROVIDER),
                   principalType="ServicePrincipal", principalId="id-principal", scope="/vault",
                   roleDefinitionId=f"/providers/Microsoft.Authorization/roleDefinitions/{dm.KEY_VAULT_SECRETS_USER}")
    spc = k8s("spc", {"apiVersion": "secrets-store.csi.x-k8s.io/v1", "kind": "SecretProviderClass",
                      "metadata": {"name": "app-secrets", "namespace": "llm"}, "spec": {"provider": "azure"}},
              ("urn:id",))
    volume = {"name": "s", "csi": {"driver": "secrets-store.csi.k8s.io", "readOnly": True,
                                   "volumeAttributes": {"secretProviderClass": "app-secrets"}}}
    return (identity, federation, grant), spc, volume


def test_a_pod_mounting_key_vault_secrets_waits_for_its_identitys_propagation():
    """Pulumi waits for neither the federated credential's nor the grant's propagation; the pod's CSI mount fails
    until both have, and the kubelet retries it: a Deployment created with its grant can outlive its deadline."""
    (identity, federation, grant), spc, volume = key_vault_mount()
    app = k8s("app", deployment("app", volumes=[volume]), (spc.urn, "urn:fic", "urn:grant"))
    plan = plan_of(identity, federation, grant, spc, app)
    assert [g for g, _ in dm.identity_gates(plan, DATA)[app.urn]] == ["urn:fic", "urn:grant"]
    steps = dm.schedule(plan, DATA).steps
    mounted = max(steps["urn:grant"].finish.pessimistic + DATA["role_assignment_propagation"]["pessimistic"],
                  steps["urn:fic"].finish.pessimistic + DATA["federated_credential_propagation"]["pessimistic"]) \
        + DATA["volume_mount_retry"]["pessimistic"]
    assert steps[app.urn].nodes_ready.pessimistic == mounted > steps[app.urn].start.pessimistic
    def timeouts():  # (the class's CRD comes with an AKS add-on this hand-made plan lacks: crd-order aside)
        return [p for p in dm.evaluate(plan).problems if p.rule != "crd-order"]
    assert [p.rule for p in timeouts()] == ["timeout"] and "Deployment llm/app" in timeouts()[0].resource
    app.inputs["metadata"]["annotations"]["pulumi.com/timeoutSeconds"] = "1500"
    assert timeouts() == []
    volume["csi"]["volumeAttributes"]["secretProviderClass"] = "another"  # no class of this plan: no identity
    assert app.urn not in dm.identity_gates(plan, DATA)


def test_the_api_gate_outlasts_its_identitys_propagation_with_nothing_before_it():
    """On a regular CPU pool without KEDA (autoscaling.mode none), nothing precedes the API gate but its pool: its
    pods wait out the identity's propagation and the mount retry, past pulumi-kubernetes' 10-minute default (a
    stranger's staging stack, 2026-12-04)."""
    plan = plan_for("dev", {"cluster": {"workloadPool": {"priority": "regular"}},
                            "autoscaling": {"mode": "none", "minReplicas": 1, "scaleToZero": False}})
    assert [p for p in dm.evaluate(plan).problems if p.rule == "timeout"] == []


@pytest.mark.parametrize("azure_policy", [True, False])
def test_an_object_in_an_aks_add_ons_namespace_needs_the_add_on_on_its_cluster(azure_policy):
    """gatekeeper-system is AKS's with the Azure Policy add-on (created in the cluster's create, before any provider
    made from the cluster reaches it): an object there plans; on a cluster without the add-on it is a create into a
    missing namespace."""
    import pulumi
    import pulumi_kubernetes as k8s
    import llmplatform
    from llmplatform.testing import run
    from tests.components.test_components_alone import REQUIRED

    def program() -> None:
        aks = llmplatform.AksCluster("aks", {**REQUIRED["AksCluster"](), "azure_policy": azure_policy})
        k8s.core.v1.ConfigMap("policy", metadata=k8s.meta.v1.ObjectMetaArgs(name="p", namespace="gatekeeper-system"),
                              data={"a": "b"}, opts=pulumi.ResourceOptions(provider=aks.provider))
    problems = [(p.rule, p.resource) for p in dm.evaluate(run(program)).problems if p.rule == "namespace"]
    assert problems == ([] if azure_policy else [("namespace", "ConfigMap gatekeeper-system/p")])


def _azure(name, type_, deps=(), **inputs):
    return Registration(urn=f"urn:{name}", type=type_, name=name, parent="", custom=True, inputs=inputs,
                        secret_paths=[], dependencies=list(deps), options={})


# the hand-made cluster of these tests, `aks` in group `rg`, and the principal ids the kit's stand-ins give it (its
# own identity, which builds load balancers; its kubelet identity, which pulls images)
AKS_CLUSTER = _azure("aks", dm.MANAGED_CLUSTER, resourceGroupName="rg", resourceName="aks")
AKS_PRINCIPAL, AKS_KUBELET = cluster_principals(AKS_CLUSTER)


def _grant(name, role, scope, deps, principal=""):
    return _azure(name, "azure-native:authorization:RoleAssignment", deps, principalType="ServicePrincipal",
                  principalId=principal or f"{name}-principal", scope=scope,
                  roleDefinitionId=f"/providers/Microsoft.Authorization/roleDefinitions/{role}")


def test_a_pod_pulling_from_the_mirror_waits_for_the_kubelets_acr_pull_grant():
    """The kubelet pulls from the registry as its identity: until the AcrPull grant has propagated the pull is refused
    and retried with the image back-off (to 300 s); Pulumi waits for neither, so a Deployment created with the grant
    can outlive its deadline. An image from elsewhere, or a release that does not wait, is not held."""
    from llmplatform.azure_roles import ACR_PULL
    registry = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/MirrorX"
    cluster = _azure("aks", dm.MANAGED_CLUSTER, resourceGroupName="rg", resourceName="aks")
    grant = _grant("acr", ACR_PULL, registry, ("urn:aks",), principal=AKS_KUBELET)
    app = k8s("app", deployment("app", image="mirrorx.azurecr.io/library/nginx:1.29"), ("urn:acr",))
    other = k8s("other", deployment("other"), ("urn:acr",))
    chart = {"chart": "keda", "values": {"image": {"registry": "mirrorx.azurecr.io"}}}
    release = k8s("rel", {"kind": "x", **chart}, ("urn:acr",), type_=dm.HELM_RELEASE)
    release.inputs.pop("kind")
    lazy = k8s("lazy", {"kind": "x", **chart, "skipAwait": True}, ("urn:acr",), type_=dm.HELM_RELEASE)
    lazy.inputs.pop("kind")
    plan = plan_of(cluster, grant, app, other, release, lazy, cluster="urn:aks")
    gates = dm.grant_gates(plan, DATA)
    assert sorted(gates) == sorted([app.urn, release.urn]) and [g for g, _, _ in gates[app.urn]] == ["urn:acr"]
    steps = dm.schedule(plan, DATA).steps
    pulled = steps["urn:acr"].finish.pessimistic + DATA["role_assignment_propagation"]["pessimistic"] \
        + DATA["image_pull_retry"]["pessimistic"]
    assert steps[app.urn].nodes_ready.pessimistic == pulled > steps[app.urn].start.pessimistic
    assert steps[other.urn].nodes_ready.pessimistic == steps[other.urn].start.pessimistic
    late = sorted((p.rule, p.resource.split()[0]) for p in dm.evaluate(plan).problems)
    assert late == [("timeout", "Deployment"), ("timeout", "rel")]  # the release under Helm's 300 s
    app.inputs["metadata"]["annotations"]["pulumi.com/timeoutSeconds"] = "1500"
    release.inputs["timeout"] = 1500
    assert dm.evaluate(plan).problems == []


def cluster_identity_grants() -> tuple[Registration, ...]:
    """Cluster aks and its identity's grants on the node subnet, a public IP and (Reader) its group, all made with
    the cluster."""
    from llmplatform.azure_roles import NETWORK_CONTRIBUTOR, READER
    cluster = _azure("aks", dm.MANAGED_CLUSTER, resourceGroupName="rg", resourceName="aks")
    subnet = _grant("subnet", NETWORK_CONTRIBUTOR, "/subscriptions/s/resourceGroups/rg/providers/"
                    "Microsoft.Network/virtualNetworks/v/subnets/nodes", ("urn:aks",), AKS_PRINCIPAL)
    ip = _grant("ip", NETWORK_CONTRIBUTOR, "/subscriptions/s/resourceGroups/rg/providers/"
                "Microsoft.Network/publicIPAddresses/pip", ("urn:aks",), AKS_PRINCIPAL)
    group = _grant("group", READER, "/subscriptions/s/resourceGroups/rg", ("urn:aks",), AKS_PRINCIPAL)
    return cluster, subnet, ip, group


def test_an_awaited_load_balancer_waits_for_the_cluster_identitys_grants():
    """The cloud provider builds a load balancer as the cluster's identity: until its grants (the node subnet; a
    public IP and its group) have propagated the reconcile fails and the service controller retries it (to 300 s).
    A LoadBalancer Service Pulumi awaits, or an Istio Gateway awaited until Programmed (it needs the address), can
    outlive its deadline; an internal one needs the subnet grant only; a ClusterIP Gateway needs none."""
    cluster, subnet, ip, group = cluster_identity_grants()
    grants = ("urn:subnet", "urn:ip", "urn:group")

    def service(name, annotations):
        return k8s(name, {"apiVersion": "v1", "kind": "Service",
                          "metadata": {"name": name, "namespace": "llm", "annotations": annotations},
                          "spec": {"type": "LoadBalancer", "selector": {"app": name}, "ports": [{"port": 80}]}},
                   grants)

    public = service("public", {})
    internal = service("internal", {"service.beta.kubernetes.io/azure-load-balancer-internal": "true"})

    def gateway(name, annotations):
        return k8s(name, {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway",
                          "metadata": {"name": name, "namespace": "llm",
                                       "annotations": {"pulumi.com/waitFor": "condition=Programmed", **annotations}},
                          "spec": {"gatewayClassName": "istio", "listeners": []}}, grants)

    programmed = gateway("gw", {})
    cluster_ip = gateway("gw-local", {"networking.istio.io/service-type": "ClusterIP"})
    accepted = gateway("gw-accepted", {"pulumi.com/waitFor": "condition=Accepted"})  # needs no address
    plan = plan_of(cluster, subnet, ip, group, public, internal, programmed, cluster_ip, accepted, cluster="urn:aks")
    gates = {urn: [g for g, _, _ in found] for urn, found in dm.grant_gates(plan, DATA).items()}
    assert gates == {public.urn: ["urn:group", "urn:ip", "urn:subnet"], internal.urn: ["urn:subnet"],
                     programmed.urn: ["urn:group", "urn:ip", "urn:subnet"]}
    assert dm.wait_of(accepted, DATA, [], 900).span == dm.wait_of(cluster_ip, DATA, [], 900).span
    steps = dm.schedule(plan, DATA).steps
    built = max(steps[g].finish.pessimistic for g in grants) + DATA["role_assignment_propagation"]["pessimistic"] \
        + DATA["load_balancer_retry"]["pessimistic"]
    assert steps[public.urn].nodes_ready.pessimistic == built > steps[public.urn].start.pessimistic
    # Istio's Programmed waits for the address too (AddressNotAssigned until the Service has one)
    lb_ip = DATA["kubernetes"]["load_balancer_ip"]["pessimistic"]
    assert (dm.wait_of(programmed, DATA, [], 900).span.pessimistic
            == dm.wait_of(cluster_ip, DATA, [], 900).span.pessimistic + lb_ip)
    late = sorted(p.resource.split()[0] for p in dm.evaluate(plan).problems if p.rule == "timeout")
    assert late == ["Gateway", "Service", "Service"]
    for reg in (public, internal, programmed):
        reg.inputs["metadata"]["annotations"]["pulumi.com/timeoutSeconds"] = "1800"
    assert [p for p in dm.evaluate(plan).problems if p.rule == "timeout"] == []


@pytest.mark.parametrize("name", ["dev-operator", "prod-tls", "llmd-pd"])
def test_the_mirror_variants_pods_wait_for_the_kubelets_acr_pull_grant(name):
    """The variants pulling every image from the organisation's registry: each awaited workload and release of the
    cluster pulls from it after the AcrPull grant's propagation, and the plan still converges."""
    plan = variant(name)
    acr = [r.urn for r in plan.of_type("azure-native:authorization:RoleAssignment") if r.name.endswith("-acr-pull")]
    gates = dm.grant_gates(plan, DATA)
    held = {r.name for r in plan.resources if acr and [g for g, _, _ in gates.get(r.urn, [])] == acr}
    workloads = {r.name for r in plan.kubernetes_objects() if r.inputs.get("kind") in dm.WORKLOADS
                 and "pulumi.com/skipAwait" not in (r.inputs.get("metadata") or {}).get("annotations", {})}
    assert len(acr) == 1 and workloads and workloads <= held
    # every release but Istio's base chart (CRDs and a webhook configuration: no pod, nothing pulled)
    assert {r.name for r in plan.of_type(dm.HELM_RELEASE)} - {"gateway-istio-base"} <= held
    assert dm.evaluate(plan).problems == []


def test_an_internal_load_balancer_waits_for_a_network_grant_on_the_vnet_too():
    """AKS's bring-your-own-network docs often grant Network Contributor on the virtual network (or its group), not
    the subnet: that grant lets the internal load balancer's frontend join the subnet as well, so it gates it; a
    public IP's grant, and a Key Vault Secrets User grant made from the cluster's outputs (the add-on's identity),
    do not."""
    from llmplatform.azure_roles import KEY_VAULT_SECRETS_USER, NETWORK_CONTRIBUTOR
    from offline.deploy_model.schedule import cloud_provider_grants
    cluster = _azure("aks", dm.MANAGED_CLUSTER, resourceGroupName="rg", resourceName="aks")
    vnet = _grant("vnet", NETWORK_CONTRIBUTOR, "/subscriptions/s/resourceGroups/rg/providers/"
                  "Microsoft.Network/virtualNetworks/v", ("urn:aks",), AKS_PRINCIPAL)
    ip = _grant("ip", NETWORK_CONTRIBUTOR, "/subscriptions/s/resourceGroups/rg/providers/"
                "Microsoft.Network/publicIPAddresses/pip", ("urn:aks",), AKS_PRINCIPAL)
    secrets = _grant("secrets", KEY_VAULT_SECRETS_USER, "/subscriptions/s/resourceGroups/rg/providers/"
                     "Microsoft.KeyVault/vaults/kv", ("urn:aks",), AKS_PRINCIPAL)
    internal = k8s("internal", {"apiVersion": "v1", "kind": "Service", "metadata": {
        "name": "internal", "namespace": "llm",
        "annotations": {"service.beta.kubernetes.io/azure-load-balancer-internal": "true"}},
        "spec": {"type": "LoadBalancer", "selector": {"app": "x"}, "ports": [{"port": 80}]}}, ())
    plan = plan_of(cluster, vnet, ip, secrets, internal, cluster="urn:aks")
    assert [r.urn for r in cloud_provider_grants(plan)["urn:aks"]] == ["urn:vnet", "urn:ip"]
    assert [g for g, _, _ in dm.grant_gates(plan, DATA)[internal.urn]] == ["urn:vnet"]


@pytest.mark.parametrize("sets", [
    # a built-in model of 141 GiB (gated: its token secret) downloads for over an hour at the pessimistic rate;
    # two replicas on one node download a copy each onto its OS disk
    ["gpu.vmSize=Standard_ND96amsr_A100_v4", "llmd.model=meta-llama/Llama-3.3-70B-Instruct",
     "llmd.tensorParallelSize=4", "llmd.hfTokenSecret=hf-token", "gpu.osDiskSizeGb=512"],
    # the llmd stack's own model with an on-demand GPU fallback after the spot attempt: 66.6 min pessimistic of 68
    ["gpu.fallback.enabled=true"],
])
def test_vllm_waits_as_long_as_its_model_takes_to_arrive(sets, tmp_path, capsys):
    """vLLM's start deadline was a fixed hour: the deploy model refused these documented settings, its fix an
    annotation no stack key sets. LlmdStack now waits a GPU node's start and the model's download and load at the
    deploy model's pessimistic rates (kube.model_download_deadline_seconds), so the plan goes ahead."""
    from offline import plan as plan_cli
    code = plan_cli.main(["--stack", "llmd", "--out", str(tmp_path), *[a for s in sets for a in ("--set", s)]])
    captured = capsys.readouterr()
    assert "deploy model: [timeout]" not in captured.err and code == 0, captured.err[-800:]
    deploy = json.loads((tmp_path / "llmd.what-if" / "deploy.json").read_text())
    assert deploy["problems"] == []
