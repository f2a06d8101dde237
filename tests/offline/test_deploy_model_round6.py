"""The deploy model's verdicts that mutation round six (docs/decisions.md) found untested: each a planted defect the
model, or `make plan`, must refuse naming it, or a right plan it must accept."""
from __future__ import annotations

import copy

import pytest

from tests.conftest import plan_for, variant
from tests.offline.test_deploy_model import PROVIDER, deployment, k8s, plan_of
from offline import deploy_model as dm
from offline.runner import Registration

ROUTE_API = "gateway.networking.k8s.io/v1"


def _route(parents: list[dict], backends: list[dict]) -> dict:
    return {"apiVersion": ROUTE_API, "kind": "HTTPRoute", "metadata": {"name": "r", "namespace": "llm"},
            "spec": {"parentRefs": parents, "rules": [{"backendRefs": backends}]}}


def _gateway(namespace: str) -> dict:
    return {"apiVersion": ROUTE_API, "kind": "Gateway", "metadata": {"name": "gw", "namespace": namespace},
            "spec": {"gatewayClassName": "istio", "listeners": []}}


def _service(name: str, namespace: str = "llm") -> dict:
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": namespace},
            "spec": {"selector": {"app": name}, "ports": [{"port": 80}]}}


def _dangling(problems: list) -> list[tuple[str, str]]:
    return [(p.resource, p.message.split(", which nothing")[0]) for p in problems
            if p.rule == "name-reference" and "dangling" in p.message]


def test_an_http_route_naming_a_gateway_or_service_nothing_creates_is_a_dangling_reference():
    """An HTTPRoute's parent Gateway and its Service backends (each in the namespace its reference names, else the
    route's own) are read; a backend of another group (an InferencePool) and a parent of another kind are not
    Services or Gateways. Present, either may come after the route (TOLERANT: reconciled when it appears)."""
    gateway, web, api = k8s("gw", _gateway("edge")), k8s("web", _service("web")), k8s("api", _service("api", "edge"))
    route = k8s("r", _route([{"name": "gw", "namespace": "edge"}, {"kind": "Service", "name": "mesh"}],
                            [{"name": "web", "port": 80}, {"name": "api", "namespace": "edge", "port": 80},
                             {"group": "inference.networking.k8s.io", "kind": "InferencePool", "name": "pool"}]))
    assert [p for p in dm.evaluate(plan_of(gateway, web, api, route)).problems if p.rule == "name-reference"] == []
    assert _dangling(dm.evaluate(plan_of(web, api, route)).problems) == [("HTTPRoute llm/r", "names Gateway edge/gw")]
    assert _dangling(dm.evaluate(plan_of(gateway, api, route)).problems) == [
        ("HTTPRoute llm/r", "names Service llm/web")]
    own_namespace = k8s("r", _route([{"name": "gw"}], []))
    assert _dangling(dm.evaluate(plan_of(gateway, own_namespace)).problems) == [
        ("HTTPRoute llm/r", "names Gateway llm/gw")]


@pytest.mark.parametrize("kind", ["ScaledObject", "HorizontalPodAutoscaler"])
def test_a_scaler_whose_target_nothing_creates_is_a_dangling_reference(kind):
    api = "keda.sh/v1alpha1" if kind == "ScaledObject" else "autoscaling/v2"
    scaler = k8s("s", {"apiVersion": api, "kind": kind, "metadata": {"name": "s", "namespace": "llm"},
                       "spec": {"scaleTargetRef": {"kind": "StatefulSet", "name": "web"}}})
    web = deployment("web")  # a Deployment of the name: not the StatefulSet the scaler targets
    assert _dangling(dm.evaluate(plan_of(k8s("web", web), scaler)).problems) == [
        (f"{kind} llm/s", "names StatefulSet llm/web")]
    stateful = {**web, "kind": "StatefulSet"}
    problems = dm.evaluate(plan_of(k8s("web", stateful, type_="kubernetes:apps/v1:StatefulSet"), scaler)).problems
    assert [p for p in problems if p.rule == "name-reference"] == []


@pytest.mark.parametrize("defect, named", [
    ("the router's dependency on its Gateway", "names Service llm-d/llmd-gateway-istio (Istio creates it for Gateway "
                                               "llmd-gateway; only a Gateway awaited with pulumi.com/waitFor "
                                               "Programmed guarantees it exists) but is not after it"),
    ("the Gateway's waitFor", "names Service llm-d/llmd-gateway-istio (Istio creates it for Gateway llmd-gateway"),
])
def test_make_plan_refuses_an_nginx_router_started_before_its_upstream_exists(defect, named, tmp_path, capsys,
                                                                              monkeypatch):
    """llm-d's router is nginx, which resolves its upstream (the Service Istio makes for the pool's Gateway) once,
    at start, and exits 'host not found in upstream' while it is missing: the router must follow the Gateway, and
    the Gateway be awaited Programmed (what guarantees its Service). Either planted defect fails `make plan`."""
    from offline import plan as plan_cli, runner as offline
    broken = copy.deepcopy(variant("llmd"))
    by_name = {r.name: r for r in broken.resources}
    gateway, router = by_name["llmd-pool-gateway"], by_name["llmd-router"]
    if defect.startswith("the router"):
        router.dependencies = [d for d in router.dependencies if d != gateway.urn]
    else:
        del gateway.inputs["metadata"]["annotations"]["pulumi.com/waitFor"]
    monkeypatch.setattr(offline, "run", lambda *a, **k: broken)
    assert plan_cli.main(["--stack", "llmd", "--out", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert f"[name-reference] Deployment llm-d/router: {named}" in out, out
    assert "nginx resolves an upstream `server` name at start" in out


def test_a_chart_installed_with_skip_crds_installs_no_crds_for_what_comes_after_it():
    """`skipCrds` leaves the chart's crds/ out of the install (Helm's --skip-crds): a PodMonitor after a
    kube-prometheus-stack release that skips them has no CRD in the plan, nor has the release's own ServiceMonitors
    and PrometheusRules, which Helm then cannot map."""
    def release(skip: bool) -> Registration:
        return Registration(urn="urn:kps", type=dm.HELM_RELEASE, name="kps", parent="", custom=True,
                            inputs={"chart": "kube-prometheus-stack", "timeout": 900, "skipCrds": skip},
                            secret_paths=[], dependencies=[], options={"provider": PROVIDER + "::id"})
    monitor = k8s("mon", {"apiVersion": "monitoring.coreos.com/v1", "kind": "PodMonitor",
                          "metadata": {"name": "vllm", "namespace": "llm-d"}, "spec": {}}, ("urn:kps",))
    assert dm.evaluate(plan_of(release(False), monitor)).problems == []
    problems = dm.evaluate(plan_of(release(True), monitor)).problems
    assert sorted((p.rule, p.resource) for p in problems) == [("crd-order", "PodMonitor llm-d/vllm"),
                                                              ("crd-order", "kps")], problems
    assert all("no resource of this plan installs the CRDs of monitoring.coreos.com" in p.message for p in problems)


def test_make_plan_refuses_a_preload_deadline_shorter_than_pulling_its_models(tmp_path, capsys, monkeypatch):
    """The model preload Job waits for its image and for pulling every model into the share: a deadline of no more
    than the pull alone (pessimistic) fails `make plan`, naming the Job and the pull."""
    from offline import plan as plan_cli, runner as offline
    broken = copy.deepcopy(plan_for("prod"))
    job = next(r for r in broken.kubernetes_objects() if dm.kind_of(r) == "Job" and r.name == "models-preload")
    data = dm.load_durations()
    pull, what = dm.job_work(job, data, dm.store_throughput_mb_s(broken, data))
    assert what.startswith("pull ") and pull.pessimistic > 60
    job.inputs["metadata"]["annotations"]["pulumi.com/timeoutSeconds"] = str(int(pull.pessimistic))
    monkeypatch.setattr(offline, "run", lambda *a, **k: broken)
    assert plan_cli.main(["--stack", "prod", "--out", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    meta = job.inputs["metadata"]
    line = next(line for line in out.splitlines() if f"[timeout] Job {meta['namespace']}/{meta['name']}:" in line)
    assert f", {what})" in line and "(pulumi.com/timeoutSeconds)" in line, line


@pytest.mark.parametrize("chart", ["kube-prometheus-stack", "prometheus-community/kube-prometheus-stack",
                                   "oci://ghcr.io/prometheus-community/charts/kube-prometheus-stack"])
def test_a_chart_named_by_repository_or_oci_reference_installs_its_crds(chart):
    release = Registration(urn="urn:kps", type=dm.HELM_RELEASE, name="kps", parent="", custom=True,
                           inputs={"chart": chart, "timeout": 900}, secret_paths=[], dependencies=[],
                           options={"provider": PROVIDER + "::id"})
    monitor = k8s("mon", {"apiVersion": "monitoring.coreos.com/v1", "kind": "PodMonitor",
                          "metadata": {"name": "vllm", "namespace": "llm-d"}, "spec": {}}, ("urn:kps",))
    assert dm.evaluate(plan_of(release, monitor)).problems == []


def _refused(broken, stack: str, tmp_path, capsys, monkeypatch) -> str:
    from offline import plan as plan_cli, runner as offline
    monkeypatch.setattr(offline, "run", lambda *a, **k: broken)
    assert plan_cli.main(["--stack", stack, "--out", str(tmp_path)]) == 1
    return capsys.readouterr().out


def test_make_plan_refuses_secret_provider_classes_on_a_cluster_without_the_key_vault_add_on(tmp_path, capsys,
                                                                                           monkeypatch):
    """The Secrets Store CSI driver's CRDs come with AKS's azureKeyvaultSecretsProvider add-on only when it is
    enabled: turned off, every SecretProviderClass is an unknown kind."""
    broken = copy.deepcopy(variant("llmd"))
    cluster = broken.one(dm.MANAGED_CLUSTER)
    cluster.inputs["addonProfiles"]["azureKeyvaultSecretsProvider"]["enabled"] = False
    out = _refused(broken, "llmd", tmp_path, capsys, monkeypatch)
    assert ("[crd-order] SecretProviderClass llm-d/router-secrets: no resource of this plan installs the CRDs of "
            "secrets-store.csi.x-k8s.io") in out, out


def test_make_plan_refuses_an_inference_pool_with_only_the_gateway_api_bundle(tmp_path, capsys, monkeypatch):
    """Each CRD bundle installs the groups of its own release file: without the inference extension's, the Gateway
    API's bundle does not make InferencePool known."""
    broken = copy.deepcopy(variant("llmd"))
    bundle = next(r for r in broken.resources if "gateway-api-inference-extension" in str(r.inputs.get("file")))
    broken.resources = [r for r in broken.resources if r is not bundle]
    for reg in broken.resources:
        reg.dependencies = [d for d in reg.dependencies if d != bundle.urn]
    out = _refused(broken, "llmd", tmp_path, capsys, monkeypatch)
    assert "no resource of this plan installs the CRDs of inference.networking.k8s.io" in out, out


def test_only_an_nginx_container_resolves_the_upstreams_its_config_map_names():
    """nginx resolves each `server host:port` of its config at start (an address or localhost needs no Service);
    the same line in a ConfigMap another image mounts is nothing this rule reads."""
    config = k8s("conf", {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "conf", "namespace": "llm"},
                          "data": {"default.conf": "upstream backend {\n  server web.llm:8080;\n  server 10.0.0.7:8080;"
                                                   "\n  server localhost:8081;\n}\n"}})
    volumes = [{"name": "conf", "configMap": {"name": "conf"}}]
    proxy = k8s("proxy", deployment("proxy", volumes=volumes), (config.urn,))
    problems = dm.evaluate(plan_of(config, proxy)).problems
    assert _dangling(problems) == [("Deployment llm/proxy", "names Service llm/web")], problems
    other = k8s("proxy", deployment("proxy", image="haproxy:3.2", volumes=volumes), (config.urn,))
    assert dm.evaluate(plan_of(config, other)).problems == []


@pytest.mark.parametrize("volume, named", [
    ({"csi": {"driver": "secrets-store.csi.k8s.io", "volumeAttributes": {"secretProviderClass": "ghost"}}},
     "names SecretProviderClass llm/ghost"),
    ({"configMap": {"name": "ghost"}}, "names ConfigMap llm/ghost"),
    ({"secret": {"secretName": "ghost"}}, "names Secret llm/ghost"),
    ({"persistentVolumeClaim": {"claimName": "ghost"}}, "names PersistentVolumeClaim llm/ghost"),
])
def test_a_pod_volume_naming_what_nothing_creates_is_a_dangling_reference_unless_optional(volume, named):
    """A volume's SecretProviderClass, ConfigMap, Secret or claim that nothing creates holds the pod (the kubelet
    retries the mount, the scheduler the claim) until the deadline; a ConfigMap or Secret marked optional does not."""
    volume = copy.deepcopy(volume)  # the parameter is the module's: marked optional in place, a re-run would fail
    web = k8s("web", deployment("web", volumes=[{"name": "v", **volume}]))
    assert _dangling(dm.evaluate(plan_of(web)).problems) == [("Deployment llm/web", named)]
    source = next(iter(volume.values()))
    if "name" in source or "secretName" in source:
        source["optional"] = True
        optional = k8s("web", deployment("web", volumes=[{"name": "v", **volume}]))
        assert [p for p in dm.evaluate(plan_of(optional)).problems if p.rule == "name-reference"] == []


def test_a_name_in_a_namespace_a_chart_installs_into_is_not_called_dangling():
    """What a release's chart renders is not in the plan: a name nothing of the plan creates, in a namespace a Helm
    release installs into, may be the chart's (no verdict); in another namespace it is dangling."""
    release = Registration(urn="urn:kps", type=dm.HELM_RELEASE, name="kps", parent="", custom=True,
                           inputs={"chart": "kube-prometheus-stack", "namespace": "monitoring", "timeout": 900},
                           secret_paths=[], dependencies=[], options={"provider": PROVIDER + "::id"})
    reader = deployment("reader", serviceAccountName="kps-grafana")
    charted = k8s("reader", {**reader, "metadata": {**reader["metadata"], "namespace": "monitoring"}})
    assert _dangling(dm.evaluate(plan_of(release, charted)).problems) == []
    assert _dangling(dm.evaluate(plan_of(release, k8s("reader", reader))).problems) == [
        ("Deployment llm/reader", "names ServiceAccount llm/kps-grafana")]


def test_a_pod_of_the_namespaces_default_service_account_names_nothing_the_plan_must_create():
    """Kubernetes' ServiceAccount controller makes `default` in every namespace: naming it is no reference."""
    assert dm.evaluate(plan_of(k8s("web", deployment("web", serviceAccountName="default")))).problems == []


def test_a_missing_istio_service_of_no_gateway_is_a_dangling_reference():
    """`<name>-istio` is taken for the Service Istio makes only when the plan has a Gateway `<name>` beside it."""
    route = k8s("r", _route([], [{"name": "ghost-istio", "port": 80}]))
    assert _dangling(dm.evaluate(plan_of(route)).problems) == [("HTTPRoute llm/r", "names Service llm/ghost-istio")]
