"""OpenWebUi (components/llmplatform/open_webui.py): stateless on PostgreSQL with secrets from Key Vault, one schema
migration, the image's caches, and in front of an OpenAI endpoint or LlmdStack."""
from __future__ import annotations

import shlex

import pytest
import yaml
import llmplatform as P
from llmplatform.handles import ModelEndpoint

from config.loader import parse_config
from config.reader import ConfigError
from offline import runner as offline

from tests.conftest import variant
from tests.components.test_inference_stack import deployment
from tests.components.test_components_alone import VAULT, cluster_handle, provider_opts
from tests.config.test_loader import stack_raw


DEPLOYMENT = "kubernetes:apps/v1:Deployment"


def open_webui_migrates(env: dict) -> bool:
    """Open-WebUI 0.11.0 (PyPI wheel), open_webui/env.py: ENABLE_DB_MIGRATIONS = os.getenv('ENABLE_DB_MIGRATIONS',
    'True').lower() == 'true'; open_webui/config.py then runs `alembic upgrade head` when imported (the server
    imports it at start)."""
    return str(env.get("ENABLE_DB_MIGRATIONS", "True")).lower() == "true"


# The Open-WebUI image (its Dockerfile) bakes its model caches under DATA_DIR /app/backend/data:
# WHISPER_MODEL_DIR /app/backend/data/cache/whisper/models, SENTENCE_TRANSFORMERS_HOME and HF_HOME
# /app/backend/data/cache/embedding/models. Upstream's chart (open-webui 16.0.0, templates/workload-manager.yaml)
# copies them into the data volume with an init container `cp -R -n /app/backend/data/* <volume>/`.
IMAGE_CACHES = ("/app/backend/data/cache/whisper/models", "/app/backend/data/cache/embedding/models")


def test_open_webui_is_stateless_on_postgres_with_secrets_from_key_vault(dev, prod):
    d = deployment(dev, "open-webui")
    pod = d["spec"]["template"]["spec"]
    c = pod["containers"][0]
    env = {e["name"]: e for e in c["env"]}
    assert env["VECTOR_DB"]["value"] == "pgvector"
    # secrets are files from the CSI mount, exported by the start command: none in the spec or a Kubernetes Secret
    start = c["command"][-1]
    for name, file in (("DATABASE_URL", "database-url"), ("PGVECTOR_DB_URL", "database-url"),
                       ("WEBUI_SECRET_KEY", "webui-secret-key")):
        assert name not in env and f"{name}=\"$(cat '/mnt/secrets-store/{file}')\"" in start
    assert start.rstrip().endswith("exec bash start.sh") and c["workingDir"] == "/app/backend"
    assert not [e for e in c["env"] if "valueFrom" in e]
    assert d["spec"]["template"]["metadata"]["labels"]["azure.workload.identity/use"] == "true"
    assert pod["serviceAccountName"] == "open-webui"
    assert d["spec"]["replicas"] == 1 and deployment(prod, "open-webui")["spec"]["replicas"] == 3
    # replicas share websocket sessions through an in-cluster Valkey only Open-WebUI may reach
    plain = {e["name"]: e.get("value") for e in c["env"]}
    assert plain["WEBSOCKET_MANAGER"] == "redis" and plain["WEBSOCKET_REDIS_URL"] == "redis://webui-redis:6379/0"
    redis_policy = next(r.inputs["spec"] for r in dev.of_type("kubernetes:networking.k8s.io/v1:NetworkPolicy")
                        if r.inputs["metadata"]["name"] == "webui-redis-ingress")
    assert redis_policy["ingress"][0]["from"][0]["podSelector"]["matchLabels"] == {"app.kubernetes.io/name": "open-webui"}
    uploads = dev.one("kubernetes:core/v1:PersistentVolumeClaim", "inference-webui-uploads").inputs
    assert uploads["spec"]["accessModes"] == ["ReadWriteMany"]
    hpa = dev.one("kubernetes:autoscaling/v2:HorizontalPodAutoscaler").inputs["spec"]
    assert (hpa["minReplicas"], hpa["maxReplicas"]) == (1, 3)
    spc = next(r.inputs for r in dev.of_type("kubernetes:secrets-store.csi.x-k8s.io/v1:SecretProviderClass")
               if r.inputs["metadata"]["name"] == "open-webui-secrets")
    assert spc["spec"]["parameters"]["clientID"] == "id-llmp-dev-open-webui-client"
    assert spc["spec"]["parameters"]["usePodIdentity"] == "false"
    assert "secretObjects" not in spc["spec"]
    objects = spc["spec"]["parameters"]["objects"]
    assert "objectAlias: database-url" in objects and "objectAlias: webui-secret-key" in objects
    sa = next(r.inputs for r in dev.of_type("kubernetes:core/v1:ServiceAccount")
              if r.inputs["metadata"]["name"] == "open-webui")
    assert sa["metadata"]["annotations"]["azure.workload.identity/client-id"] == "id-llmp-dev-open-webui-client"
    federation = next(r.inputs for r in dev.of_type("azure-native:managedidentity:FederatedIdentityCredential")
                      if "open-webui" in r.name)
    assert federation["subject"] == "system:serviceaccount:llm:open-webui"
    assert federation["audiences"] == ["api://AzureADTokenExchange"]


@pytest.mark.parametrize("name", ["dev", "prod"])
def test_one_job_migrates_open_webuis_schema_and_the_replicas_wait_for_it(name):
    plan = variant(name)
    reg = next(r for r in plan.of_type(DEPLOYMENT) if r.inputs["metadata"]["name"] == "open-webui")
    pod = reg.inputs["spec"]["template"]["spec"]
    app = pod["containers"][0]
    # replicas (up to webui.maxReplicas under the HPA) start together: none of them may migrate
    assert not open_webui_migrates({e["name"]: e.get("value") for e in app["env"]})
    migrators = [j for j in plan.of_type("kubernetes:batch/v1:Job")
                 if j.inputs["spec"]["template"]["spec"]["containers"][0]["image"] == app["image"]]
    assert len(migrators) == 1
    job = migrators[0].inputs["spec"]
    assert job.get("parallelism", 1) == 1 and job.get("completions", 1) == 1
    worker = job["template"]["spec"]["containers"][0]
    assert 'command.upgrade(c, "head")' in worker["command"][-1]
    # the same database URL and identity as the app, and the app's pods start only after the upgrade
    assert "DATABASE_URL=\"$(cat '/mnt/secrets-store/database-url')\"" in worker["command"][-1]
    assert job["template"]["spec"]["serviceAccountName"] == pod["serviceAccountName"]
    assert plan.waits_for(reg, lambda dep: dep is migrators[0])
    # a new image is a new Job (a Job's pod template is immutable), so an upgrade migrates again
    assert migrators[0].options.get("deleteBeforeReplace") and migrators[0].inputs["metadata"]["name"].startswith(
        "open-webui-migrate-")


def test_open_webui_copies_the_images_caches_into_its_data_volume(dev):
    pod = deployment(dev, "open-webui")["spec"]["template"]["spec"]
    app = pod["containers"][0]
    data = next(m for m in app["volumeMounts"] if any(c.startswith(m["mountPath"] + "/") for c in IMAGE_CACHES))
    copies = [c for c in pod.get("initContainers", []) if c["image"] == app["image"]
              and any(m["name"] == data["name"] for m in c["volumeMounts"])]
    assert len(copies) == 1, "the volume hides the image's caches and nothing copies them in"
    init = copies[0]
    target = next(m["mountPath"] for m in init["volumeMounts"] if m["name"] == data["name"])
    assert target != data["mountPath"]  # mounted elsewhere, the image's own directory stays visible
    argv = shlex.split(init["command"][-1])
    assert argv[:3] == ["cp", "-R", "-n"]  # recursive, never over a user's files
    assert argv[3] == data["mountPath"] + "/*" and argv[4].rstrip("/") == target


VLLM = ModelEndpoint(base_url="http://vllm:8000", api="openai", namespace="serving", service="vllm", port=8000)


def _objects(p, kind: str, namespace: str) -> dict:
    return {r.inputs["metadata"]["name"]: r.inputs for r in p.resources
            if r.inputs.get("kind") == kind and r.inputs.get("metadata", {}).get("namespace") == namespace}


def _env(container: dict) -> dict:
    return {e["name"]: e.get("value") for e in container.get("env", [])}


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
