"""llm-verify and the fake API it is tested against, held to upstream's own files rather than to each other: the
condition types the tool reads and the fake serves are the controllers' constants at the pinned versions
(tests/upstream/status/, read out of their source), the API groups, versions, plurals and status fields the tool
reads are the vendored CRDs', every object the fake serves passes the API server's schema (the CRD's, or
Kubernetes' OpenAPI, strict, status included), and a 403 is the API server's own Status, named as a FAIL line.

A wrong field or condition name written the same way in the tool and in the fake passed every other test: here
one side is upstream's."""
import functools
import json
from pathlib import Path
from typing import Any, Iterator, Optional

import pytest

from endpoint_tools import checks, verify, verify_ollama

from tests.conftest import upstream_dir, variant
from tests.endpoint_tools import test_verify as llmd_tests, test_verify_ollama as ollama_tests
from tests.kube_fake import FakeKubeApi, forbidden_status, recording
from tests.validation import validate_builtin, validate_custom, vendored_documents

CRDS = upstream_dir() / "crds"
STATUS = upstream_dir() / "status"
AKS_VERSIONS = ("1.34.0", "1.35.0")


def upstream_conditions() -> dict[str, dict[str, set[str]]]:
    """kind -> condition type -> the reasons its controller writes ("*": others' passed through)."""
    found: dict[str, dict[str, set[str]]] = {}
    for path in sorted(STATUS.glob("*.txt")):
        for line in path.read_text().splitlines():
            if line and not line.startswith("#"):
                kind, kind_type, reasons = line.split()
                found.setdefault(kind, {})[kind_type] = set(reasons.split(","))
    return found


@functools.lru_cache(maxsize=None)
def crd(group: str, plural: str) -> dict[str, Any]:
    """The vendored CRD of a resource, parsed once (its callers only read it)."""
    for path in CRDS.glob(f"{group}/*.yaml"):
        doc = _crd_file(path)
        if doc["spec"]["group"] == group and doc["spec"]["names"]["plural"] == plural:
            return doc
    raise LookupError(f"no vendored CRD for {plural}.{group}")


def _crd_file(path: Path) -> dict[str, Any]:
    """A vendored CRD file, parsed once: the CRDs of one group are read for each of its kinds (its callers only read
    it)."""
    (doc,) = vendored_documents(path)
    return doc


def schema_at(schema: dict[str, Any], path: str) -> dict[str, Any]:
    """The schema of a dotted field path (`[]` steps into a list's items)."""
    for part in path.split("."):
        if part == "[]":
            schema = schema["items"]
        else:
            assert part in schema.get("properties", {}), f"{part} (of {path}) is not in the schema"
            schema = schema["properties"][part]
    return schema


# (group, version, plural, kind) of each custom resource llm-verify reads, with the fields it reads
READ_FIELDS = {
    (*verify_ollama.INTERCEPTOR_ROUTE,): ["status.conditions.[].type", "status.conditions.[].status",
                                          "status.conditions.[].reason", "status.conditions.[].message",
                                          "status.conditions.[].observedGeneration"],
    (*verify_ollama.SCALED_OBJECT,): ["status.conditions.[].type", "status.conditions.[].status",
                                      "status.conditions.[].reason", "status.conditions.[].message",
                                      "spec.minReplicaCount", "spec.maxReplicaCount"],
    (*checks.GATEWAY_API, "Gateway"): ["status.conditions.[].type", "status.conditions.[].status",
                                       "status.conditions.[].observedGeneration", "status.addresses"],
    (*verify.INFERENCE_POOL_API, "InferencePool"): [
        "status.parents.[].conditions.[].type", "status.parents.[].conditions.[].status",
        "status.parents.[].conditions.[].observedGeneration", "status.parents.[].parentRef.name",
        "spec.selector.matchLabels"],
}


@pytest.mark.parametrize("api", sorted(READ_FIELDS), ids=lambda api: api[3])
def test_each_custom_resource_read_is_served_by_its_vendored_crd_with_the_fields_read(api):
    group, version, plural, kind = api
    found = crd(group, plural)
    assert found["spec"]["names"]["kind"] == kind
    served = {v["name"]: v for v in found["spec"]["versions"] if v.get("served")}
    assert version in served, f"{plural}.{group} serves {sorted(served)}, not {version}"
    assert "status" in (served[version].get("subresources") or {}), "status is written by its controller"
    for field in READ_FIELDS[api]:
        schema_at(served[version]["schema"]["openAPIV3Schema"], field)


def test_the_inference_pool_v1_keeps_its_parents_where_v1alpha2_did_not():
    """v1 reports each gateway under status.parents and selects pods by spec.selector.matchLabels; the withdrawn
    v1alpha2 (inference.networking.x-k8s.io) had status.parent and a plain label map: reading one shape from the
    other finds nothing."""
    v1 = crd("inference.networking.k8s.io", "inferencepools")["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    old = crd("inference.networking.x-k8s.io", "inferencepools")["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    assert "parents" in v1["properties"]["status"]["properties"]
    assert "parents" not in old["properties"]["status"]["properties"]
    assert schema_at(v1, "spec.selector.matchLabels")["minProperties"] == 1  # never empty: check_pool relies on it


@pytest.mark.parametrize("kind, types", [
    ("InterceptorRoute", [verify_ollama.KEDA_READY]),
    ("ScaledObject", [verify_ollama.KEDA_READY, verify_ollama.KEDA_ACTIVE, verify_ollama.KEDA_PAUSED,
                      verify_ollama.KEDA_FALLBACK, verify_ollama.KEDA_HPA_ACTIVE]),
    ("Gateway", [checks.GATEWAY_PROGRAMMED]),
    ("InferencePool", [verify.POOL_ACCEPTED, verify.POOL_RESOLVED_REFS]),
    ("Job", [verify_ollama.JOB_COMPLETE, verify_ollama.JOB_FAILED]),
    ("HorizontalPodAutoscaler", [verify_ollama.HPA_SCALING_ACTIVE, verify_ollama.HPA_ABLE_TO_SCALE]),
    ("Pod", [checks.POD_READY]),
])
def test_each_condition_type_llm_verify_reads_is_its_controllers_constant(kind, types):
    assert set(types) <= set(upstream_conditions()[kind]), (kind, types)


# ---- what the fake serves -----------------------------------------------------------------------------------------

BUILTIN_KINDS = {"nodes": ("v1", "Node"), "pods": ("v1", "Pod"), "persistentvolumeclaims": ("v1",
                 "PersistentVolumeClaim"), "deployments": ("apps/v1", "Deployment"), "daemonsets": ("apps/v1",
                 "DaemonSet"), "jobs": ("batch/v1", "Job"), "horizontalpodautoscalers": ("autoscaling/v2",
                                                                                          "HorizontalPodAutoscaler")}


def objects_served(responses: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Each object at a path of the recording, or in a list there, with the apiVersion and kind of its path (the
    server's list items of built-in kinds carry none); the custom metrics API's MetricValueList is not an object."""
    for path, body in responses.items():
        if path.startswith("/apis/custom.metrics.k8s.io/"):
            continue
        parts = [p for p in path.split("/") if p]
        plural = parts[-1] if "items" in body else parts[-2]
        if plural in BUILTIN_KINDS:
            api_version, kind = BUILTIN_KINDS[plural]
        else:
            group, version = parts[1], parts[2]
            api_version, kind = f"{group}/{version}", crd(group, plural)["spec"]["names"]["kind"]
        for obj in body.get("items", [body]):
            yield path, {"apiVersion": api_version, "kind": kind, **obj}


def conditions_of(obj: dict[str, Any]) -> Iterator[dict[str, Any]]:
    status = obj.get("status") or {}
    yield from status.get("conditions") or []
    for parent in status.get("parents") or []:  # InferencePool v1
        yield from parent.get("conditions") or []


@functools.lru_cache(maxsize=None)
def schema_problem(serialized: str) -> Optional[str]:
    """The first line of the API server's refusal of an object (its JSON), or None. Once per distinct object: the
    broken clusters differ from their healthy one in an object or two."""
    obj = json.loads(serialized)
    try:
        if obj["apiVersion"].split("/")[0] in ("v1", "apps", "batch", "autoscaling"):
            for version in AKS_VERSIONS:
                validate_builtin(obj, version)
        else:
            validate_custom(obj, CRDS)
    except Exception as error:  # the validators' errors: jsonschema's and kubernetes-validate's
        return str(error).splitlines()[0]
    return None


def upstream_problems(responses: dict[str, Any]) -> list[str]:
    known = upstream_conditions()
    found = []
    for path, obj in objects_served(responses):
        name = f"{path} {obj['kind']} {obj['metadata']['name']}"
        refused = schema_problem(json.dumps(obj, sort_keys=True))
        if refused is not None:
            found.append(f"{name}: {refused}")
        for c in conditions_of(obj) if obj["kind"] in known else ():  # the kinds llm-verify reads conditions of
            types = known[obj["kind"]]
            if c["type"] not in types:
                found.append(f"{name}: condition type {c['type']} is not one of {sorted(types)}")
            elif "*" not in types[c["type"]] and c.get("reason") not in types[c["type"]]:
                found.append(f"{name}: {c['type']} reason {c.get('reason')} is not one of "
                             f"{sorted(types[c['type']])}")
    return found


def llmd_clusters() -> Iterator[tuple[str, dict[str, Any]]]:
    yield "llmd", llmd_tests.healthy_llmd()
    yield "llmd-pd", llmd_tests.pd_cluster()
    for mutate in (llmd_tests.no_gpus, llmd_tests.crashing_driver, llmd_tests.unprogrammed_gateway,
                   llmd_tests.pool_not_accepted, llmd_tests.vllm_loading, pool_refs_unresolved, pool_stale,
                   endpoint_completed):
        yield mutate.__name__, llmd_tests.broken(mutate)


OLLAMA_MUTATIONS = ("preload_failed", "preload_running", "claim_pending", "no_gpus", "exporter_crashing",
                    "ollama_loading", "interceptor_route_unreconciled", "interceptor_down", "hpa_without_metric",
                    "metric_without_values", "webui_loading", "gateway_without_address")


HPA_MUTATIONS = ("hpa_without_metric", "metric_without_values", "hpa_cannot_scale")  # of dev-gpu-hpa's HPA


def ollama_clusters() -> Iterator[tuple[str, dict[str, Any]]]:
    for name, replicas, nodes in (("dev", 0, 0), ("prod", 2, 1), ("dev-gpu", 0, 0), ("dev-gpu-hpa", None, 1),
                                  ("dev-smb-nogpu", None, 0)):
        yield name, ollama_tests.healthy(variant(name), replicas, nodes)
    for mutate in [getattr(ollama_tests, m) for m in OLLAMA_MUTATIONS] + [
            keda_paused, keda_on_fallback, keda_hpa_without_metrics, interceptor_route_stale, hpa_cannot_scale]:
        hpa = mutate.__name__ in HPA_MUTATIONS
        responses = ollama_tests.healthy(variant("dev-gpu-hpa" if hpa else "prod"), None if hpa else 2)
        mutate(responses)
        yield mutate.__name__, responses


def test_every_object_the_fake_serves_passes_the_api_servers_schema_with_upstreams_conditions():
    """Each healthy cluster and each broken variant the tests serve: a CR against its vendored CRD (strict, status
    included: KEDA's conditions have no lastTransitionTime), a built-in object against Kubernetes' OpenAPI for both
    AKS versions, and each condition a type and reason its controller writes."""
    problems = [f"{name}: {p}" for name, responses in [*llmd_clusters(), *ollama_clusters()]
                for p in upstream_problems(responses)]
    assert problems == [], "\n".join(problems)


def test_a_gateways_hostname_address_is_valid_and_an_unknown_field_is_not():
    """Gateway's status.addresses items carry a oneOf whose property lists validate values only (a structural
    schema allows no other use): a Hostname address, which Istio writes for a ClusterIP Gateway, passes."""
    gateway = {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway", "metadata": {"name": "g"},
               "spec": {"gatewayClassName": "istio", "listeners": [{"name": "http", "port": 80, "protocol": "HTTP"}]},
               "status": {"addresses": [{"type": "Hostname", "value": "g-istio.llm-d.svc.cluster.local"}]}}
    validate_custom(gateway, CRDS)
    gateway["status"]["addresses"][0]["port"] = 80
    with pytest.raises(Exception, match="'port' was unexpected"):
        validate_custom(gateway, CRDS)


def test_the_check_of_the_fake_catches_an_invented_condition_and_field():
    responses = recording("llmd-healthy")
    pool = responses["/apis/inference.networking.k8s.io/v1/namespaces/llm-d/inferencepools/llmd"]
    pool["status"]["parents"][0]["conditions"][0]["reason"] = "NotSupportedByGateway"
    gateway = responses["/apis/gateway.networking.k8s.io/v1/gateways"]["items"][0]
    gateway["status"]["conditions"].append({**gateway["status"]["conditions"][0], "type": "Ready"})
    plan = variant("prod")
    ollama = ollama_tests.healthy(plan, 2)
    scaled = ollama["/apis/keda.sh/v1alpha1/namespaces/llm/scaledobjects/ollama-scaler"]
    scaled["status"]["conditions"][0]["lastTransitionTime"] = "2026-12-01T12:00:00Z"
    problems = upstream_problems(responses) + upstream_problems(ollama)
    assert any("Accepted reason NotSupportedByGateway is not one of" in p for p in problems), problems
    assert any("condition type Ready is not one of ['Accepted', 'Programmed']" in p for p in problems), problems
    assert any("ollama-scaler" in p and "lastTransitionTime" in p for p in problems), problems


# ---- broken states upstream describes, each its own FAIL ----------------------------------------------------------

POOL = "/apis/inference.networking.k8s.io/v1/namespaces/llm-d/inferencepools/llmd"


def pool_refs_unresolved(r):
    """Istio accepted the route but cannot resolve the endpoint picker (ResolvedRefs False, InvalidExtensionRef)."""
    r[POOL]["status"]["parents"][0]["conditions"][1].update(
        status="False", reason="InvalidExtensionRef", message="Service llm-d/llmd-epp not found")


def pool_stale(r):
    """The pool's spec changed (generation 2) and its gateway has not judged it since (observedGeneration 1)."""
    r[POOL]["metadata"]["generation"] = 2
    for c in r[POOL]["status"]["parents"][0]["conditions"]:
        c["observedGeneration"] = 1


def endpoint_completed(r):
    """The only pod of the pool's selector ran to completion: Succeeded is no endpoint."""
    pod = r[llmd_tests.PODS]["items"][0]
    pod["status"]["phase"] = "Succeeded"
    for c in pod["status"]["conditions"]:
        if c["type"] in ("Ready", "ContainersReady"):
            c.update(status="False", reason="PodCompleted")


@pytest.mark.parametrize("mutate, fragment", [
    (pool_refs_unresolved, "llmd-gateway: references not resolved (InvalidExtensionRef: Service llm-d/llmd-epp"),
    (pool_stale, "set for generation 1; the spec is at 2"),
    (endpoint_completed, "accepted, but no ready endpoint (1 pod(s) match)"),
])
def test_a_pool_its_gateway_cannot_route_to_fails(mutate, fragment):
    responses = llmd_tests.broken(mutate)
    with FakeKubeApi(responses) as api:
        outputs = {"kubeconfig": api.kubeconfig(), "llmdNamespace": "llm-d", "llmdInferencePool": "llmd"}
        check = verify.check_pool(verify.Cluster(verify.kube_client(None, outputs), 5),
                                  verify.target_from_outputs(outputs))
    assert not check.ok and fragment in check.detail, check


SCALED = "/apis/keda.sh/v1alpha1/namespaces/llm/scaledobjects/ollama-scaler"
ROUTE = "/apis/http.keda.sh/v1beta1/namespaces/llm/interceptorroutes/ollama"


def keda_condition(r, kind, status, reason, message=""):
    conditions = r[SCALED]["status"]["conditions"]
    conditions[:] = [c for c in conditions if c["type"] != kind] + [
        {"type": kind, "status": status, "reason": reason, "message": message}]


def keda_paused(r):
    keda_condition(r, "Paused", "True", "ScaledObjectPaused", "ScaledObject is paused")


def keda_on_fallback(r):
    keda_condition(r, "Fallback", "True", "FallbackExists", "At least one trigger is falling back on this scaled "
                                                            "object")


def keda_hpa_without_metrics(r):
    """KEDA 2.20: Ready stays True while the HPA it made cannot read the triggers' metrics (HPAActive False, the
    HPA's own reason passed through)."""
    keda_condition(r, "HPAActive", "False", "FailedGetExternalMetric", "HPA is not actively scaling: unable to get "
                                                                      "external metric")


def interceptor_route_stale(r):
    """An InterceptorRoute updated (generation 2) that the add-on's operator has not reconciled since: its Ready
    True is generation 1's (the operator down, or behind)."""
    r[ROUTE]["metadata"]["generation"] = 2
    r[ROUTE]["status"]["conditions"][0]["observedGeneration"] = 1


def hpa_cannot_scale(r):
    hpa = r["/apis/autoscaling/v2/namespaces/llm/horizontalpodautoscalers/ollama"]
    hpa["status"]["conditions"][0] = ollama_tests.ready(
        "AbleToScale", "False", "FailedGetScale", "the HPA controller was unable to get the target's current scale")


@pytest.mark.parametrize("name, mutate, failed, fragment", [
    ("prod", keda_paused, "keda", "ScaledObject ollama-scaler paused (ScaledObjectPaused: ScaledObject is paused)"),
    ("prod", keda_on_fallback, "keda", "ScaledObject ollama-scaler on fallback replicas (FallbackExists"),
    ("prod", keda_hpa_without_metrics, "keda", "its HPA is not scaling (FailedGetExternalMetric: HPA is not"),
    ("prod", interceptor_route_stale, "keda", "(Reconciled: InterceptorRoute reconciled, set for generation 1; "
                                              "the spec is at 2: the controller has not reconciled"),
    ("dev-gpu-hpa", hpa_cannot_scale, "hpa", "not able to scale (FailedGetScale: the HPA controller was unable"),
])
def test_autoscaling_that_is_not_working_fails_though_ready(name, mutate, failed, fragment):
    plan = variant(name)
    responses = ollama_tests.healthy(plan, 2 if name == "prod" else None)
    mutate(responses)
    with FakeKubeApi(responses) as api:
        out = ollama_tests.outputs(plan, api)
        checks_run = verify_ollama.run(verify.Cluster(verify.kube_client(None, out), 5),
                                       verify_ollama.target_from_outputs(out), None, 5)
    lines = {c.name: c for c in checks_run}
    assert [c.name for c in checks_run if not c.ok] == [failed, "smoke"], checks_run  # smoke: no key given
    assert fragment in lines[failed].detail, lines[failed].detail


@pytest.mark.parametrize("runtime, ok", [("containerd://2.1.4", True), ("containerd://2.0.0-1", True),
                                         ("containerd://3.0.1", True), ("containerd://1.7.27-1", False),
                                         ("cri-o://1.31.0", False), ("containerd://", False), ("", False)])
def test_containerd_2_or_later_is_read_from_the_kubelets_runtime_version(runtime, ok):
    """The kubelet writes status.nodeInfo.containerRuntimeVersion as `<runtime>://<version>` (kubernetes/api
    core/v1 NodeSystemInfo: "e.g. containerd://1.4.2"); NRI is on by default from containerd 2.0, also in 3."""
    assert (verify.containerd_major(runtime) >= 2) is ok


# ---- a kubeconfig without the RBAC permission ---------------------------------------------------------------------

def test_the_fakes_403_is_the_api_servers():
    """k8s.io/apiserver v0.35.7 responsewriters.forbiddenMessage with apimachinery errors.NewForbidden."""
    assert forbidden_status("/api/v1/namespaces/gpu-operator/pods")["message"] == (
        'pods is forbidden: User "verifier@example.com" cannot list resource "pods" in API group "" in the '
        'namespace "gpu-operator"')
    assert forbidden_status("/apis/inference.networking.k8s.io/v1/namespaces/llm-d/inferencepools/llmd")[
        "message"] == ('inferencepools.inference.networking.k8s.io "llmd" is forbidden: User "verifier@example.com" '
                       'cannot get resource "inferencepools" in API group "inference.networking.k8s.io" in the '
                       'namespace "llm-d"')
    status = forbidden_status("/api/v1/nodes")
    assert status["message"].endswith('cannot list resource "nodes" in API group "" at the cluster scope')
    assert (status["code"], status["reason"], status["details"]) == (403, "Forbidden", {"group": "", "kind": "nodes"})


def test_a_kubeconfig_without_rbac_for_a_resource_fails_that_check_naming_the_permission(tmp_path, capsys):
    """Only the checks that read what RBAC denies fail, each naming the verb, resource, group and namespace; the
    others pass; no traceback, and nothing passes that could not be read."""
    forbidden = ("/api/v1/namespaces/gpu-operator/pods", "/apis/inference.networking.k8s.io")
    with FakeKubeApi(llmd_tests.healthy_llmd(), forbidden=forbidden) as api, \
            llmd_tests.LoopbackServer("auth") as llm:
        path = tmp_path / "outputs.json"
        path.write_text(json.dumps(llmd_tests.outputs(api, llm)))
        code = verify.main(["--outputs", str(path), "--kube-timeout", "5", "--api-key", "loopback-key"])
    out = capsys.readouterr().out
    lines = {line.split()[1]: line for line in out.splitlines() if line.startswith(("PASS", "FAIL"))}
    assert code == 1 and "Traceback" not in out
    assert [name for name, line in lines.items() if line.startswith("FAIL")] == ["gpu-operator", "inference-pool"]
    assert ('the API server refused (403 Forbidden): pods is forbidden: User "verifier@example.com" cannot list '
            'resource "pods" in API group "" in the namespace "gpu-operator" (the kubeconfig\'s user needs that RBAC '
            'permission') in lines["gpu-operator"]
    assert 'cannot get resource "inferencepools" in API group "inference.networking.k8s.io"' in lines["inference-pool"]


def test_a_403_without_a_status_body_names_the_request():
    from kubernetes.client.exceptions import ApiException

    class Denied:
        @staticmethod
        def list_namespaced_pod(namespace, _request_timeout):
            raise ApiException(status=403, reason="Forbidden")
    cluster = verify.Cluster.__new__(verify.Cluster)
    cluster.timeout = 5
    with pytest.raises(checks.ClusterError) as error:
        cluster.call(Denied.list_namespaced_pod, "gpu-operator")
    assert str(error.value).startswith("the API server refused (403 Forbidden): list_namespaced_pod gpu-operator is "
                                       "forbidden (the kubeconfig's user needs that RBAC permission")


def test_every_path_llm_verify_asks_for_in_a_healthy_cluster_is_in_the_recordings():
    """What the tool asks for is what the recordings hold: a path it reads that no test serves would 404 into a
    FAIL that no healthy-cluster test shows."""
    plan = variant("dev-gpu-hpa")
    responses = ollama_tests.healthy(plan, None, 1)
    with FakeKubeApi(responses) as api:
        out = ollama_tests.outputs(plan, api)
        verify_ollama.run(verify.Cluster(verify.kube_client(None, out), 5), verify_ollama.target_from_outputs(out),
                          None, 5)
        asked = set(api.requests)
    assert asked and asked <= set(responses), sorted(asked - set(responses))


def test_the_status_lists_name_their_source_and_are_recorded():
    sources = (upstream_dir() / "SOURCES.md").read_text()
    for path in sorted(STATUS.glob("*.txt")):
        head = [line for line in path.read_text().splitlines() if line.startswith("# ")]
        assert [line.split(":")[0] for line in head if not line.startswith("#  ")][:4] == [
            "# reader", "# repository", "# files", "# read"], path.name
        assert f"  status/{path.name}\n" in sources and f"| `status/{path.name}` |" in sources, path.name
