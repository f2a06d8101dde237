"""llm-verify's Ollama profile against a loopback Kubernetes API serving the objects the real dev and prod plans
declare (their names, namespaces and specs, with the status a healthy cluster gives them), the objects their Helm
releases make (named by each chart's own rule), and broken variants of it; the stack outputs are the plans' own."""

import copy
import json

import pytest

from endpoint_tools import verify, verify_ollama
from endpoint_tools.loopback_server import LoopbackServer

from tests.conftest import variant
from tests.kube_fake import FakeKubeApi

NOW = "2026-12-01T12:00:00Z"


def ready(kind, status="True", reason="Ready", message="", generation=None):
    """A metav1.Condition (the reasons are each controller's own: tests/upstream/status/)."""
    return {"type": kind, "status": status, "reason": reason, "message": message, "lastTransitionTime": NOW,
            **({"observedGeneration": generation} if generation is not None else {})}


def keda_condition(kind, status, reason, message=""):
    """KEDA's own Condition type: type, status, reason and message, nothing else (kedacore/keda v2.20.2
    apis/keda/v1alpha1/condition_types.go)."""
    return {"type": kind, "status": status, "reason": reason, "message": message}


def deployment(obj, replicas=None):
    """A Deployment of the plan with its replicas ready (`replicas`: what KEDA or an HPA set; default the plan's)."""
    obj = copy.deepcopy(obj)
    wanted = obj["spec"].get("replicas", 1) if replicas is None else replicas
    obj["spec"]["replicas"] = wanted
    obj["status"] = {"replicas": wanted, "readyReplicas": wanted, "availableReplicas": wanted,
                     "updatedReplicas": wanted, "observedGeneration": 1}
    return obj


def chart_deployment(namespace, name):
    return deployment({"metadata": {"name": name, "namespace": namespace}, "spec": {
        "replicas": 1, "selector": {"matchLabels": {"app": name}}, "template": {
            "metadata": {"labels": {"app": name}}, "spec": {"containers": [{"name": "main", "image": "x:1"}]}}}})


def node(name, labels, gpus):
    allocatable = {"cpu": "3860m", "memory": "27000000Ki", "pods": "110", **({"nvidia.com/gpu": gpus} if gpus else {})}
    return {"metadata": {"name": name, "labels": labels}, "status": {"allocatable": allocatable}}


def healthy(plan, ollama_replicas=None, gpu_nodes=1):
    """The cluster `plan` deploys, healthy: each object it declares at its API path with a healthy status, and what
    its Helm releases create that llm-verify reads (the KEDA HTTP add-on's interceptor, the DCGM exporter)."""
    r = {}
    for obj in plan.kubernetes_objects():
        body, kind = copy.deepcopy(obj.inputs), obj.type.rsplit(":", 1)[-1]
        ns, name = body["metadata"].get("namespace"), body["metadata"]["name"]
        if kind == "Deployment":
            r[f"/apis/apps/v1/namespaces/{ns}/deployments/{name}"] = deployment(
                body, ollama_replicas if name == plan.outputs["inference"]["deployment"] else None)
        elif kind == "Job":  # from Kubernetes 1.31 SuccessCriteriaMet, then Complete with its reason
            body["status"] = {"succeeded": 1, "conditions": [ready("SuccessCriteriaMet", reason="CompletionsReached"),
                                                             ready("Complete", reason="CompletionsReached")]}
            r[f"/apis/batch/v1/namespaces/{ns}/jobs/{name}"] = body
        elif kind == "PersistentVolumeClaim":
            body["spec"]["volumeName"] = f"pv-{name}"
            body["status"] = {"phase": "Bound", "capacity": body["spec"]["resources"]["requests"]}
            r[f"/api/v1/namespaces/{ns}/persistentvolumeclaims/{name}"] = body
        elif kind == "InterceptorRoute":
            body["metadata"]["generation"] = 1
            body["status"] = {"conditions": [ready("Ready", reason="Reconciled", generation=1,
                                                   message="InterceptorRoute reconciled")]}
            r[f"/apis/http.keda.sh/v1beta1/namespaces/{ns}/interceptorroutes/{name}"] = body
        elif kind == "ScaledObject":
            active = ("True", "ScalerActive") if ollama_replicas != 0 else ("False", "ScalerNotActive")
            body["status"] = {"hpaName": f"keda-hpa-{name}", "conditions": [
                keda_condition("Ready", "True", "ScaledObjectReady"), keda_condition("Active", *active),
                keda_condition("Fallback", "False", "NoFallbackFound"),
                keda_condition("Paused", "False", "ScaledObjectUnpaused"),
                keda_condition("HPAActive", "True", *(("HPAActive",) if ollama_replicas != 0 else
                                                      ("ScalingDisabled",)))]}
            r[f"/apis/keda.sh/v1alpha1/namespaces/{ns}/scaledobjects/{name}"] = body
        elif kind == "HorizontalPodAutoscaler":
            body["status"] = {"currentReplicas": 1, "desiredReplicas": 1, "conditions": [
                ready("AbleToScale", reason="ReadyForNewScale"), ready("ScalingActive", reason="ValidMetricFound")]}
            r[f"/apis/autoscaling/v2/namespaces/{ns}/horizontalpodautoscalers/{name}"] = body
        elif kind == "Gateway":
            body["metadata"]["generation"] = 1
            body["status"] = {"addresses": [{"type": "IPAddress", "value": "20.0.0.10"}],
                              "conditions": [ready("Accepted", reason="Accepted", generation=1),
                                             ready("Programmed", reason="Programmed", generation=1)]}
            r.setdefault("/apis/gateway.networking.k8s.io/v1/gateways", {"items": []})["items"].append(body)
    for release in plan.helm_releases():
        chart, ns, name = release.inputs["chart"], release.inputs["namespace"], release.inputs["name"]
        if chart == "keda-add-ons-http":  # its interceptor is `{{ .Chart.Name }}-interceptor`
            r[f"/apis/apps/v1/namespaces/{ns}/deployments/{chart}-interceptor"] = chart_deployment(
                ns, f"{chart}-interceptor")
        if chart == "dcgm-exporter":  # the chart's fullname: the release name, which contains the chart name
            assert chart in name
            r[f"/apis/apps/v1/namespaces/{ns}/daemonsets/{name}"] = {
                "metadata": {"name": name, "namespace": ns}, "spec": {
                    "selector": {"matchLabels": {"app": name}}, "template": {"metadata": {"labels": {"app": name}},
                                                                           "spec": {"containers": [{"name": "x"}]}}},
                "status": {"currentNumberScheduled": gpu_nodes, "desiredNumberScheduled": gpu_nodes,
                           "numberMisscheduled": 0, "numberReady": gpu_nodes}}
    selector = plan.outputs["gpuNodeSelector"]
    r["/api/v1/nodes"] = {"items": [node("aks-cpu-1", {"llm-platform/pool": "cpu"}, None)]
                          + [node(f"aks-gpu-{i + 1}", selector, "1") for i in range(gpu_nodes)]}
    for hpa in plan.of_type("kubernetes:autoscaling/v2:HorizontalPodAutoscaler"):
        for metric in hpa.inputs["spec"]["metrics"]:
            if metric["type"] == "Pods":  # what the HPA asks the custom metrics API for, about its pods
                ns, name = hpa.inputs["metadata"]["namespace"], metric["pods"]["metric"]["name"]
                r[f"/apis/custom.metrics.k8s.io/v1beta1/namespaces/{ns}/pods/*/{name}"] = {
                    "kind": "MetricValueList", "apiVersion": "custom.metrics.k8s.io/v1beta1", "metadata": {},
                    "items": [{"describedObject": {"kind": "Pod", "namespace": ns, "name": "ollama-5d8f-abcde",
                                                   "apiVersion": "/v1"},
                               "metricName": name, "timestamp": NOW, "value": "42"}]}
    return r


def outputs(plan, api, llm=None):
    """The plan's own outputs, as `pulumi stack output --json --show-secrets` prints them once deployed: the
    kubeconfig reaches the loopback API, the gate's URL the loopback LLM server."""
    return {**plan.outputs, "kubeconfig": api.kubeconfig(), "modelApiUrl": llm.url if llm else "http://192.0.2.1"}


def verify_run(tmp_path, capsys, name, responses, key="loopback-key"):
    plan = variant(name)
    mode = "auth" if plan.outputs["apiKeySecret"] else "ok"
    with FakeKubeApi(responses) as api, LoopbackServer(mode) as llm:
        path = tmp_path / "outputs.json"
        path.write_text(json.dumps(outputs(plan, api, llm)))
        code = verify.main(["--outputs", str(path), "--kube-timeout", "5", "--timeout", "10",
                            *(["--api-key", key] if key else [])])
    out = capsys.readouterr().out
    assert "Traceback" not in out
    return code, out.splitlines()[0], {line.split()[1]: line for line in out.splitlines()
                                       if line.startswith(("PASS", "FAIL"))}


@pytest.mark.parametrize("name, replicas, gpu_nodes, checks", [
    # dev: Ollama on CPU scaled to zero by KEDA (idle), Open-WebUI, the external gateway
    ("dev", 0, 0, ["model-claim", "model-preload", "ollama", "keda", "interceptor", "router", "open-webui",
                   "gateways", "smoke"]),
    # prod: Ollama on GPUs at its two replicas
    ("prod", 2, 1, ["model-claim", "model-preload", "gpus", "dcgm-exporter", "ollama", "keda", "interceptor",
                    "router", "open-webui", "gateways", "smoke"]),
    # GPU mode scaled to zero: no GPU node, and none is needed until a request comes
    ("dev-gpu", 0, 0, ["model-claim", "model-preload", "gpus", "dcgm-exporter", "ollama", "keda", "interceptor",
                       "router", "open-webui", "gateways", "smoke"]),
    # the GPU-memory HPA through Prometheus Adapter
    ("dev-gpu-hpa", None, 1, ["model-claim", "model-preload", "gpus", "dcgm-exporter", "ollama", "hpa",
                              "custom-metrics", "router", "open-webui", "gateways", "smoke"]),
    # a CPU HPA, no UI, no API key on the internal gateway
    ("dev-smb-nogpu", None, 0, ["model-claim", "model-preload", "ollama", "hpa", "router", "gateways", "smoke"]),
])
def test_a_healthy_cluster_of_each_plan_passes_with_the_plans_own_outputs(tmp_path, capsys, name, replicas,
                                                                          gpu_nodes, checks):
    code, header, lines = verify_run(tmp_path, capsys, name, healthy(variant(name), replicas, gpu_nodes))
    assert code == 0, lines
    assert header.startswith("verify of the Ollama stack in namespace llm") and list(lines) == checks
    if replicas == 0:
        assert "0 replicas: scaled to zero" in lines["ollama"] and "idle" in lines["keda"]
    if name == "dev-gpu":
        assert "Ollama is scaled to zero" in lines["gpus"] and "no GPU node yet" in lines["dcgm-exporter"]
    if name == "prod":
        assert "2 of 2 replica(s) ready" in lines["ollama"] and "2-4 replica(s), active" in lines["keda"]
    if name == "dev-gpu-hpa":
        assert "gpu_memory_utilization: ollama-5d8f-abcde 42" in lines["custom-metrics"]
    assert "completion: 5 tokens" in lines["smoke"] and "stream: " in lines["smoke"]
    assert ("auth: a wrong API key is refused" in lines["smoke"]) == bool(variant(name).outputs["apiKeySecret"])


PROD, HPA = "prod", "dev-gpu-hpa"
NS = "llm"


def preload_failed(r):
    job = next(v for k, v in r.items() if "/jobs/model-preload-" in k)
    job["status"] = {"failed": 4, "conditions": [ready("Failed", reason="BackoffLimitExceeded",
                                                       message="Job has reached the specified backoff limit")]}


def preload_running(r):
    job = next(v for k, v in r.items() if "/jobs/model-preload-" in k)
    job["status"] = {"active": 1}


def preload_gone(r):
    del r[next(k for k in r if "/jobs/model-preload-" in k)]


def claim_pending(r):
    r[f"/api/v1/namespaces/{NS}/persistentvolumeclaims/models"]["status"] = {"phase": "Pending"}


def no_gpus(r):
    del r["/api/v1/nodes"]["items"][1]["status"]["allocatable"]["nvidia.com/gpu"]


def no_gpu_node(r):
    del r["/api/v1/nodes"]["items"][1]


def exporter_crashing(r):
    r["/apis/apps/v1/namespaces/monitoring/daemonsets/dcgm-exporter"]["status"]["numberReady"] = 0


def exporter_missing(r):
    del r["/apis/apps/v1/namespaces/monitoring/daemonsets/dcgm-exporter"]


def ollama_loading(r):
    r[f"/apis/apps/v1/namespaces/{NS}/deployments/ollama"]["status"]["readyReplicas"] = 0


def interceptor_route_unreconciled(r):
    """The add-on's operator has not (yet) read the route: it writes no status until it reconciles."""
    del r[f"/apis/http.keda.sh/v1beta1/namespaces/{NS}/interceptorroutes/ollama"]["status"]


def interceptor_route_missing(r):
    """A stack last deployed before the move off HTTPScaledObject: no route of the Deployment's name."""
    del r[f"/apis/http.keda.sh/v1beta1/namespaces/{NS}/interceptorroutes/ollama"]


def scaled_object_missing(r):
    del r[f"/apis/keda.sh/v1alpha1/namespaces/{NS}/scaledobjects/ollama-scaler"]


def interceptor_down(r):
    r["/apis/apps/v1/namespaces/keda/deployments/keda-add-ons-http-interceptor"]["status"]["readyReplicas"] = 0


def hpa_without_metric(r):
    r[f"/apis/autoscaling/v2/namespaces/{NS}/horizontalpodautoscalers/ollama"]["status"]["conditions"][1] = ready(
        "ScalingActive", "False", "FailedGetPodsMetric", "the HPA was unable to compute the replica count")


def metric_not_served(r):
    del r[f"/apis/custom.metrics.k8s.io/v1beta1/namespaces/{NS}/pods/*/gpu_memory_utilization"]


def metric_without_values(r):
    r[f"/apis/custom.metrics.k8s.io/v1beta1/namespaces/{NS}/pods/*/gpu_memory_utilization"]["items"] = []


def router_missing(r):
    del r[f"/apis/apps/v1/namespaces/{NS}/deployments/router"]


def webui_loading(r):
    r[f"/apis/apps/v1/namespaces/{NS}/deployments/open-webui"]["status"]["readyReplicas"] = 0


def gateway_without_address(r):
    del r["/apis/gateway.networking.k8s.io/v1/gateways"]["items"][0]["status"]["addresses"]


def answer_unparsable(r):
    r[f"/apis/apps/v1/namespaces/{NS}/deployments/router"]["status"]["readyReplicas"] = "two"


@pytest.mark.parametrize("name, mutate, failed, fragment", [
    (PROD, preload_failed, "model-preload", "failed (BackoffLimitExceeded: Job has reached the specified backoff"),
    (PROD, preload_running, "model-preload", "not complete (1 pod(s) running); kubectl -n llm logs job/model-pre"),
    (PROD, preload_gone, "model-preload", "Job llm/model-preload-9a1912ad not found"),
    (PROD, claim_pending, "model-claim", "models is Pending"),
    (PROD, no_gpus, "gpus", "no allocatable nvidia.com/gpu on aks-gpu-1"),
    (PROD, no_gpu_node, "gpus", "no node matches llm-platform/pool=gpu, and Ollama wants a replica on one"),
    (PROD, exporter_crashing, "dcgm-exporter", "monitoring/dcgm-exporter: 0 of 1 pod(s) ready"),
    (PROD, exporter_missing, "dcgm-exporter", "no DCGM exporter DaemonSet (monitoring/dcgm-exporter, gpu-operator/"),
    (PROD, ollama_loading, "ollama", "0 of 2 replica(s) ready"),
    (PROD, interceptor_route_unreconciled, "keda", "InterceptorRoute ollama not ready (no status yet)"),
    (PROD, interceptor_route_missing, "keda", "InterceptorRoute llm/ollama not found (a stack last deployed with an "
                                              "HTTPScaledObject gets it from `pulumi up`)"),
    (PROD, scaled_object_missing, "keda", "ScaledObject llm/ollama-scaler not found"),
    (PROD, interceptor_down, "interceptor", "0 of 1 replica(s) ready"),
    (PROD, router_missing, "router", "Deployment llm/router not found"),
    (PROD, webui_loading, "open-webui", "0 of 3 replica(s) ready"),
    (PROD, gateway_without_address, "gateways", "has no address"),
    (PROD, answer_unparsable, "router", "the API server's answer did not parse"),
    (HPA, hpa_without_metric, "hpa", "not scaling (FailedGetPodsMetric: the HPA was unable"),
    (HPA, metric_not_served, "custom-metrics", "gpu_memory_utilization not served for pods in llm"),
    (HPA, metric_without_values, "custom-metrics", "no gpu_memory_utilization value for the pods of "
                                                   "app.kubernetes.io/name=ollama"),
])
def test_each_broken_part_fails_its_own_check_only(name, mutate, failed, fragment):
    plan = variant(name)
    responses = healthy(plan, 2 if name == PROD else None)
    mutate(responses)
    with FakeKubeApi(responses) as api:
        out = outputs(plan, api)
        target = verify_ollama.target_from_outputs(out)
        checks = verify_ollama.run(verify.Cluster(verify.kube_client(None, out), 5), target, None, 5)
    lines = {c.name: c for c in checks}
    assert [c.name for c in checks if not c.ok] == [failed, "smoke"], checks  # smoke: no key given
    assert fragment in lines[failed].detail and "set LLM_API_KEY to the key in the Key Vault secret the stack output " \
        "apiKeySecret names" in lines["smoke"].detail


def test_the_parts_come_from_the_outputs_not_the_stack_name(tmp_path, capsys):
    assert verify.parts_of(variant("dev").outputs) == ["ollama"] == verify.parts_of(variant("prod").outputs)
    # llm-d's stack runs Ollama beside it; a prod region with llm-d runs the whole Ollama stack and llm-d
    assert verify.parts_of(variant("llmd").outputs) == ["ollama", "llmd"] == verify.parts_of(
        variant("prod-tls").outputs)
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps({**variant("dev").outputs, "kubeconfig": "apiVersion: v1"}))
    with pytest.raises(SystemExit) as exited:
        verify.main(["--outputs", str(path), "--prefill-decode"])
    assert exited.value.code == 2 and "--prefill-decode is for an llm-d stack" in capsys.readouterr().err
    path.write_text(json.dumps({"kubeconfig": "apiVersion: v1", "modelPvc": "models"}))
    assert verify.main(["--outputs", str(path)]) == 1
    out = capsys.readouterr().out
    assert "name neither llm-d (llmdNamespace, llmdInferencePool) nor the Ollama stack (inference" in out
    path.write_text(json.dumps({**variant("dev").outputs, "inference": {"namespace": "llm"}}))
    assert verify.main(["--outputs", str(path)]) == 1
    assert 'stack output inference is {"namespace": "llm"}: expected an object with namespace, deployment' in \
        capsys.readouterr().out


def test_an_unauthorized_cluster_fails_every_cluster_check_by_name(tmp_path, capsys):
    plan = variant("prod")
    with FakeKubeApi(healthy(plan), unauthorized=True) as api:
        out = outputs(plan, api)
        checks = verify_ollama.run(verify.Cluster(verify.kube_client(None, out), 5),
                                   verify_ollama.target_from_outputs(out), None, 5)
    assert all(not c.ok for c in checks)
    assert all("answered 401 Unauthorized" in c.detail for c in checks if c.name != "smoke")


def test_a_stack_without_a_gateway_skips_the_gateway_and_smoke_checks_and_says_so():
    out = {**variant("dev").outputs, "modelApiUrl": None}
    target = verify_ollama.target_from_outputs(out)
    assert "no Gateway (modelApiUrl is empty)" in verify_ollama.describe(target)
    with FakeKubeApi(healthy(variant("dev"), 0, 0)) as api:
        checks = verify_ollama.run(verify.Cluster(verify.kube_client(None, {"kubeconfig": api.kubeconfig()}), 5),
                                   target, None, 5)
    assert all(c.ok for c in checks) and {"gateways", "smoke"}.isdisjoint(c.name for c in checks)


def test_the_gpu_operators_own_dcgm_exporter_serves_as_well():
    """With gpu.driver operator the stack installs no exporter of its own: the GPU Operator's is the one."""
    plan = variant(PROD)
    responses = healthy(plan, 2)
    exporter = responses.pop("/apis/apps/v1/namespaces/monitoring/daemonsets/dcgm-exporter")
    exporter["metadata"] = {"name": "nvidia-dcgm-exporter", "namespace": "gpu-operator"}
    responses["/apis/apps/v1/namespaces/gpu-operator/daemonsets/nvidia-dcgm-exporter"] = exporter
    with FakeKubeApi(responses) as api:
        out = outputs(plan, api)
        check = verify_ollama.check_dcgm(verify.Cluster(verify.kube_client(None, out), 5),
                                         verify_ollama.target_from_outputs(out))
    assert check.ok and check.detail == "gpu-operator/nvidia-dcgm-exporter: 1 of 1 pod(s) ready"


@pytest.mark.parametrize("key, value, fragment", [
    ("gpuNodeSelector", "abc", 'stack output gpuNodeSelector is "abc": expected an object of node label names and '
                               'values'),
    ("gpuNodeSelector", [1, 2], "stack output gpuNodeSelector is [1, 2]: expected an object of node label names"),
    ("gpuNodeSelector", {"pool": 1}, 'stack output gpuNodeSelector is {"pool": 1}: expected an object'),
    ("modelApiUrl", 5, "stack output modelApiUrl is 5: expected text (the API gate's URL)"),
    ("modelPvc", ["models"], 'stack output modelPvc is ["models"]: expected text (the model claim\'s name)'),
    ("modelPreloadJob", {}, "stack output modelPreloadJob is {}: expected text"),
    ("apiKeySecret", True, "stack output apiKeySecret is true: expected text (a Key Vault secret's name)"),
    ("inference", {"namespace": "llm", "deployment": "ollama", "accelerator": "cpu", "autoscaling": "requests",
                   "webui": "no"}, "stack output inference's webui is \"no\": expected true or false"),
    # a value the checks do not know was read as cpu and no autoscaler: the GPU and autoscaler checks left out
    ("inference", {"namespace": "llm", "deployment": "ollama", "accelerator": "GPU", "autoscaling": "requests"},
     "stack output inference's accelerator is \"GPU\": expected one of cpu, gpu"),
    ("inference", {"namespace": "llm", "deployment": "ollama", "accelerator": "cpu", "autoscaling": "keda"},
     "stack output inference's autoscaling is \"keda\": expected one of requests, gpu-memory, cpu, none"),
    ("kubeconfig", 5, "stack output kubeconfig is a number: expected text (the cluster's kubeconfig YAML)"),
])
def test_an_outputs_file_with_a_wrong_type_is_named_not_a_traceback(tmp_path, capsys, key, value, fragment):
    """Each output llm-verify reads from --outputs is checked for its shape: `"gpuNodeSelector": "abc"` gave a
    ValueError from dict(), `"modelApiUrl": 5` an AttributeError in the smoke check, `"kubeconfig": 5` one in
    the client's loader; each is one FAIL line naming the output and what it must be."""
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps({**variant("dev").outputs, "kubeconfig": "apiVersion: v1", key: value}))
    assert verify.main(["--outputs", str(path), "--api-key", "k"]) == 1
    out = capsys.readouterr().out
    assert out.startswith(f"FAIL  reach          {fragment}") and "Traceback" not in out, out


def test_a_kubeconfig_output_that_is_not_text_never_shows_its_value(tmp_path, capsys):
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps({**variant("dev").outputs, "kubeconfig": {"token": "s3cr3t"}}))
    assert verify.main(["--outputs", str(path)]) == 1
    out = capsys.readouterr().out
    assert "stack output kubeconfig is an object: expected text" in out and "s3cr3t" not in out
