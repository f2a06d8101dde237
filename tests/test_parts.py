"""InferenceStack's parts taken alone (OllamaServer, ApiGate, OpenWebUi), Open-WebUI in front of LlmdStack, and the
split's safety: every moved resource keeps its identity through an alias, resolved as the Pulumi engine resolves it
(offline/plan_diff.py alias_matches, after pulumi/pulumi pkg/resource/deploy/step_generator.go)."""
import copy

import pytest
import yaml

import llmplatform as P
from config.loader import parse_config
from config.reader import ConfigError
from llmplatform.checks import ComponentInputError
from llmplatform.handles import ModelEndpoint
from offline import plan, plan_diff, runner as offline

from .conftest import variant
from .test_components_alone import VAULT, VOLUME, cluster_handle, provider_opts
from .test_config import stack_raw

VLLM = ModelEndpoint(base_url="http://vllm:8000", api="openai", namespace="serving", service="vllm", port=8000)
PARTS = ("llmplatform:index:OllamaServer", "llmplatform:index:ApiGate", "llmplatform:index:OpenWebUi")


def _objects(p, kind: str, namespace: str) -> dict:
    return {r.inputs["metadata"]["name"]: r.inputs for r in p.resources
            if r.inputs.get("kind") == kind and r.inputs.get("metadata", {}).get("namespace") == namespace}


def _env(container: dict) -> dict:
    return {e["name"]: e.get("value") for e in container.get("env", [])}


def test_api_gate_alone_in_front_of_an_openai_endpoint():
    def program():
        P.ApiGate("gate", {"cluster": cluster_handle(), "endpoint": VLLM, "key_vault": VAULT, "replicas": 3,
                           "resources": {"cpu_request": "500m", "cpu_limit": "2", "memory_request": "128Mi",
                                         "memory_limit": "512Mi"}}, provider_opts())
    p = offline.run_function(program)
    conf = _objects(p, "ConfigMap", "serving")["router-nginx"]["data"]["nginx.conf"]
    assert "server vllm:8000;" in conf and "worker_processes 2;" in conf  # two cores of CPU limit: two workers
    # an OpenAI-compatible server is gated whole (Ollama's route list is for Ollama only)
    assert 'location / {' in conf and "/api/pull" not in conf and "return 401" in conf
    assert "rate=200r/m" in conf  # 10 r/s per client shared by 3 pods: 600/3 per pod per minute
    router = _objects(p, "Deployment", "serving")["router"]
    assert router["spec"]["replicas"] == 3
    assert router["spec"]["template"]["spec"]["containers"][0]["resources"] == {
        "requests": {"cpu": "500m", "memory": "128Mi"}, "limits": {"cpu": "2", "memory": "512Mi"}}
    assert not any(r.options.get("aliases") for r in p.resources)  # alone: nothing was ever elsewhere


def test_api_gate_in_front_of_ollama_keeps_model_management_closed():
    def program():
        opts = provider_opts()
        server = P.OllamaServer("llm", {"cluster": cluster_handle(), "model_volume": VOLUME,
                                        "extra_env": {"OLLAMA_CONTEXT_LENGTH": "8192"}}, opts)
        P.ApiGate("llm", {"cluster": cluster_handle(), "endpoint": server.endpoint, "key_vault": VAULT,
                          "api_key_auth": False}, opts)
    p = offline.run_function(program)
    conf = _objects(p, "ConfigMap", "llm")["router-nginx"]["data"]["nginx.conf"]
    assert "server ollama:11434;" in conf and "/api/chat" in conf and "return 403" in conf
    assert "/api/pull" not in conf and "api_key_valid" not in conf
    ollama = _objects(p, "Deployment", "llm")["ollama"]["spec"]["template"]["spec"]["containers"][0]
    assert _env(ollama)["OLLAMA_CONTEXT_LENGTH"] == "8192" and ollama["args"] == ["serve"]
    # the gate's pods wait for the Service they proxy to (nginx exits when its upstream does not resolve)
    gate = next(r for r in p.of_type("kubernetes:apps/v1:Deployment") if r.inputs["metadata"]["name"] == "router")
    service = next(r for r in p.of_type("kubernetes:core/v1:Service") if r.inputs["metadata"]["name"] == "ollama")
    assert service.urn in gate.dependencies


def test_ollama_server_refuses_an_env_var_it_manages_before_registering():
    registered = []

    def program():
        try:
            P.OllamaServer("llm", {"cluster": cluster_handle(), "model_volume": VOLUME,
                                   "extra_env": {"OLLAMA_MODELS": "/elsewhere"}}, provider_opts())
        except ComponentInputError as error:
            registered.append(error)
    p = offline.run_function(program)
    assert "extra_env" in str(registered[0]) and "OLLAMA_MODELS" in str(registered[0])
    assert not p.of_type("llmplatform:index:OllamaServer")


def test_open_webui_alone_on_an_openai_endpoint_reads_its_key_from_key_vault():
    endpoint = {**VLLM, "api_key_secret": "vllm-api-key"}

    def program():
        P.OpenWebUi("ui", {"cluster": cluster_handle(), "key_vault": VAULT, "endpoint": endpoint,
                           "database_url_secret": "db-url", "max_replicas": 4, "cpu_target_percent": 60,
                           "memory_target_percent": 80}, provider_opts())
    p = offline.run_function(program)
    ui = _objects(p, "Deployment", "serving")["open-webui"]["spec"]["template"]["spec"]["containers"][0]
    env = _env(ui)
    assert env["OPENAI_API_BASE_URL"] == "http://vllm:8000/v1" and env["ENABLE_OLLAMA_API"] == "false"
    assert "OLLAMA_BASE_URL" not in env and env["ENABLE_PERSISTENT_CONFIG"] == "false"
    assert "OPENAI_API_KEY" not in env  # never in the spec: exported at start from the CSI mount
    script = ui["command"][2]
    assert "OPENAI_API_KEY=\"$(cat '/mnt/secrets-store/model-api-key')\"" in script
    objects = yaml.safe_load(_objects(p, "SecretProviderClass", "serving")["open-webui-secrets"]["spec"]
                             ["parameters"]["objects"])["array"]
    assert {"objectName": "vllm-api-key", "objectType": "secret", "objectAlias": "model-api-key"} in [
        yaml.safe_load(o) for o in objects]
    hpa = _objects(p, "HorizontalPodAutoscaler", "serving")["open-webui"]["spec"]
    assert hpa["maxReplicas"] == 4 and {m["resource"]["name"]: m["resource"]["target"]["averageUtilization"]
                                        for m in hpa["metrics"]} == {"cpu": 60, "memory": 80}
    assert _objects(p, "Deployment", "serving").get("webui-redis")  # more than one replica: shared state


def test_open_webui_in_front_of_llmd_in_the_llmd_stack():
    """The llmd stack's one Open-WebUI fronts the llm-d model through its gate: in its namespace, with its key; the
    whole plan ran under the runner that refuses a URN or a Kubernetes/Azure name claimed twice."""
    p = variant("llmd")
    ui = _objects(p, "Deployment", "llm-d")["open-webui"]["spec"]["template"]["spec"]["containers"][0]
    assert _env(ui)["OPENAI_API_BASE_URL"] == "http://router:8080/v1"  # LlmdStack's gate, OpenAI routes under /v1
    key = p.outputs["llmdApiKeySecret"]
    objects = _objects(p, "SecretProviderClass", "llm-d")["open-webui-secrets"]["spec"]["parameters"]["objects"]
    assert f"objectName: {key}" in objects and "objectAlias: model-api-key" in objects
    # the gate admits the UI's pods (the ingress policy of its namespace denies everything else)
    gate_policy = _objects(p, "NetworkPolicy", "llm-d")["router-ingress"]["spec"]["ingress"][0]["from"]
    assert {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "open-webui"}}} in gate_policy
    # the UI listener has one route: the llm-d UI's; the Ollama stack runs without a UI of its own
    routes = [r.inputs for r in p.of_type("kubernetes:gateway.networking.k8s.io/v1:HTTPRoute")
              if any(ref.get("sectionName") == "ui" for ref in r.inputs["spec"]["parentRefs"])]
    assert [r["metadata"]["namespace"] for r in routes] == ["llm-d"]
    assert "open-webui" not in _objects(p, "Deployment", "llm")


def test_webui_on_llmd_needs_the_llmd_stack():
    with pytest.raises(ConfigError, match="webui.backend 'llmd' needs llmd.enabled"):
        parse_config(stack_raw("dev", {"webui": {"backend": "llmd"}}), "p", "dev")
    with pytest.raises(ConfigError, match="webui.backend"):
        parse_config(stack_raw("dev", {"webui": {"backend": "vllm"}}), "p", "dev")


# ---- the split keeps every identity ---------------------------------------------------------------------------

def test_every_moved_resource_aliases_its_place_under_inference_stack(dev):
    doc = plan_diff.resources_by_urn(plan.resources_document(dev))
    stack = dev.one("llmplatform:index:InferenceStack")
    parts = {r.urn for r in dev.resources if r.type in PARTS}
    assert len(parts) == 3 and all(doc[u]["parent"] == stack.urn for u in parts)
    moved = [r for r in doc.values() if r["parent"] in parts]
    assert moved and all(r["options"].get("aliases") == [{"spec": {"parentUrn": stack.urn}}] for r in moved)
    # the pre-split plan: each of them a direct child of InferenceStack, the parts absent
    make = plan_diff.urn_scheme(doc)
    old = {}
    for urn, r in doc.items():
        if urn in parts:
            continue
        r = copy.deepcopy(r)
        if r["parent"] in parts:
            r["parent"] = stack.urn
            r["urn"] = make(stack.urn, r["type"], r["name"], "dev", dev.project)
            r["options"].pop("aliases")
        old[r["urn"]] = r
    assert len(old) == len(doc) - 3
    result = plan_diff.diff_documents(old, doc)
    assert result["removed"] == [] and result["replaced"] == {} and result["changed"] == {}
    assert sorted(result["added"]) == sorted(parts) and len(result["moved"]) == len(moved)
    assert plan_diff.blocking(result, set(), False) == []


def test_aliases_resolve_as_the_engine_does():
    """pulumi/pulumi step_generator.go: an alias's unset parent is the resource's own, a parent that matched through
    an alias stands for its old URN, and a child inherits its parent's alias with the parent's old name as the prefix
    of its own (the engine's example: newapp-function under newapp, aliased from app, was app-function)."""
    base = "urn:pulumi:s::p::"
    old = {u: {"urn": u, "type": u.split("::")[2].split("$")[-1], "name": u.split("::")[3], "inputs": {},
               "options": {}, "parent": None, "custom": True, "dependencies": []} for u in (
        f"{base}my:index:App::app", f"{base}my:index:App$aws:s3/bucket:Bucket::app-function",
        f"{base}my:index:Stack$kubernetes:core/v1:Service::web")}
    old[f"{base}my:index:App$aws:s3/bucket:Bucket::app-function"]["parent"] = f"{base}my:index:App::app"

    def res(urn, parent, aliases=None):
        return {"urn": urn, "type": urn.split("::")[2].split("$")[-1], "name": urn.split("::")[3], "inputs": {},
                "parent": parent, "custom": True, "dependencies": [],
                "options": {"aliases": aliases} if aliases else {}}
    new = {u: res(u, p, a) for u, p, a in (
        (f"{base}my:index:App::newapp", None, [{"spec": {"name": "app"}}]),
        (f"{base}my:index:App$aws:s3/bucket:Bucket::newapp-function", f"{base}my:index:App::newapp", None),
        (f"{base}my:index:Stack::st", None, None),
        (f"{base}my:index:Stack$my:index:Part::st", f"{base}my:index:Stack::st", None),
        (f"{base}my:index:Stack$my:index:Part$kubernetes:core/v1:Service::web",
         f"{base}my:index:Stack$my:index:Part::st", [{"spec": {"parentUrn": f"{base}my:index:Stack::st"}}]))}
    assert plan_diff.urn_scheme(new) is plan_diff._engine_urn  # these URNs carry the parent's whole type chain
    assert plan_diff.alias_matches(old, new) == {
        f"{base}my:index:App::newapp": f"{base}my:index:App::app",
        f"{base}my:index:App$aws:s3/bucket:Bucket::newapp-function":
            f"{base}my:index:App$aws:s3/bucket:Bucket::app-function",
        f"{base}my:index:Stack$my:index:Part$kubernetes:core/v1:Service::web":
            f"{base}my:index:Stack$kubernetes:core/v1:Service::web"}
    result = plan_diff.diff_documents(old, new)
    assert result["removed"] == [] and result["replaced"] == {}
