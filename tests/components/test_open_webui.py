"""OpenWebUi (components/llmplatform/open_webui.py): stateless on PostgreSQL with secrets from Key Vault, one schema
migration, the image's caches, and in front of an OpenAI endpoint or LlmdStack."""
from __future__ import annotations

import shlex
from typing import Any

import pulumi
import pytest
import yaml
import llmplatform as P
from llmplatform.handles import ModelEndpoint
from llmplatform.testing.stand_ins import identity_ids

from config.loader import parse_config
from config.reader import ConfigError
from offline import runner as offline

from tests.conftest import plan_for, variant
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
    # replicas share websocket sessions through an in-cluster Valkey only Open-WebUI may reach (prod's several;
    # dev's one pod, its maximum on its small server, needs none)
    plain = {e["name"]: e.get("value") for e in c["env"]}
    assert "WEBSOCKET_MANAGER" not in plain
    prod_env = {e["name"]: e.get("value") for e in deployment(prod, "open-webui")["spec"]["template"]["spec"][
        "containers"][0]["env"]}
    assert prod_env["WEBSOCKET_MANAGER"] == "redis" and prod_env["WEBSOCKET_REDIS_URL"] == "redis://webui-redis:6379/0"
    redis_policy = next(r.inputs["spec"] for r in prod.of_type("kubernetes:networking.k8s.io/v1:NetworkPolicy")
                        if r.inputs["metadata"]["name"] == "webui-redis-ingress")
    assert redis_policy["ingress"][0]["from"][0]["podSelector"]["matchLabels"] == {"app.kubernetes.io/name": "open-webui"}
    uploads = dev.one("kubernetes:core/v1:PersistentVolumeClaim", "inference-webui-uploads").inputs
    assert uploads["spec"]["accessModes"] == ["ReadWriteMany"]
    hpa = dev.one("kubernetes:autoscaling/v2:HorizontalPodAutoscaler").inputs["spec"]
    assert (hpa["minReplicas"], hpa["maxReplicas"]) == (1, 1)
    spc = next(r.inputs for r in dev.of_type("kubernetes:secrets-store.csi.x-k8s.io/v1:SecretProviderClass")
               if r.inputs["metadata"]["name"] == "open-webui-secrets")
    identity = next(r for r in dev.of_type("azure-native:managedidentity:UserAssignedIdentity")
                    if r.inputs["resourceName"] == "id-llmp-dev-open-webui")
    client_id = identity_ids(identity)[0]
    assert spc["spec"]["parameters"]["clientID"] == client_id
    assert spc["spec"]["parameters"]["usePodIdentity"] == "false"
    assert "secretObjects" not in spc["spec"]
    objects = spc["spec"]["parameters"]["objects"]
    assert "objectAlias: database-url" in objects and "objectAlias: webui-secret-key" in objects
    sa = next(r.inputs for r in dev.of_type("kubernetes:core/v1:ServiceAccount")
              if r.inputs["metadata"]["name"] == "open-webui")
    assert sa["metadata"]["annotations"]["azure.workload.identity/client-id"] == client_id
    federation = next(r.inputs for r in dev.of_type("azure-native:managedidentity:FederatedIdentityCredential")
                      if "open-webui" in r.name)
    assert federation["subject"] == "system:serviceaccount:llm:open-webui"
    assert federation["audiences"] == ["api://AzureADTokenExchange"]


def test_open_webuis_pods_hold_the_connections_the_stack_was_checked_against(dev, prod):
    """Every pool Open-WebUI 0.11.0 opens is sized in the pod's environment (upstream's defaults would be 45 a pod),
    and the HPA's maximum is the one the config's rule counted against the server's size."""
    from llmplatform.postgres_access import connections_per_pod, webui_connections
    from llmplatform.postgres_options import user_connections
    from tests.components.test_database_connections import engine_limits
    for stack in (dev, prod):
        sku = stack.one("azure-native:dbforpostgresql:Server").inputs["sku"]["name"]
        env = {e["name"]: e.get("value") for e in deployment(stack, "open-webui")["spec"]["template"]["spec"]
               ["containers"][0]["env"]}
        overflow = int(env["DATABASE_POOL_MAX_OVERFLOW"])
        assert sum(engine_limits(env)) == connections_per_pod(1, overflow) and "UVICORN_WORKERS" not in env
        top = stack.one("kubernetes:autoscaling/v2:HorizontalPodAutoscaler").inputs["spec"]["maxReplicas"]
        assert webui_connections(top, 1, overflow) <= user_connections(sku)



class StandInConnection:
    """What a pool asks of a DBAPI connection: the test checks the pool's accounting, not a server."""
    def rollback(self) -> None:
        pass

    def close(self) -> None:
        pass


def test_open_webuis_request_pool_serves_two_requests_that_each_open_a_second_session_at_once(dev, prod):
    """Open-WebUI 0.11.0 keeps a request's connection while it opens another session (DATABASE_ENABLE_SESSION_SHARING
    off by default: env.py 363, internal/db.py `get_async_db_context`): models/models.py `get_all_models` holds its
    SELECT's connection while access_grants.py `get_grants_by_resources` checks out a second, and so do the tools,
    prompts and knowledge lists; a page load asks for the tools and the models at once (src/routes/(app)/
    +layout.svelte, Promise.all). The request engine's QueuePool, built from the pod's env as internal/db.py 388-408
    builds it (SQLAlchemy 2.0.50, Open-WebUI's pin; the async engine's AsyncAdaptedQueuePool counts the same), must
    give both their second connection: with 2 and no overflow each holds one and waits for the other's until
    DATABASE_POOL_TIMEOUT, then both fail. A short timeout here: a deadlock waits however long it is."""
    import threading
    from sqlalchemy.pool import QueuePool
    for stack in (dev, prod):
        env = {e["name"]: e.get("value") for e in deployment(stack, "open-webui")["spec"]["template"]["spec"]
               ["containers"][0]["env"]}
        pool = QueuePool(StandInConnection, pool_size=int(env["DATABASE_POOL_SIZE"]),
                         max_overflow=int(env["DATABASE_POOL_MAX_OVERFLOW"]), timeout=1)
        both_hold_one, failures = threading.Barrier(2), []

        def listing() -> None:
            try:
                held = pool.connect()  # the listing's session, after its SELECT
                both_hold_one.wait(timeout=5)
                pool.connect().close()  # the access grants' own session
                held.close()
            except Exception as e:  # noqa: BLE001 - the pool's TimeoutError is the finding
                failures.append(e)
        requests = [threading.Thread(target=listing) for _ in range(2)]
        for request in requests:
            request.start()
        for request in requests:
            request.join()
        assert failures == [], failures

# Kubernetes' defaults the connection budget's "one replacement of the pods within a grace period" rests on
# (postgres_access.webui_pods): a pod's grace of 30 s (core/v1 PodSpec terminationGracePeriodSeconds) and the HPA's
# scale-down stabilization of 300 s (kube-controller-manager --horizontal-pod-autoscaler-downscale-stabilization).
POD_GRACE_DEFAULT_S, HPA_SCALE_DOWN_WINDOW_DEFAULT_S = 30, 300


def test_open_webuis_old_pods_are_gone_before_the_autoscaler_can_scale_in_again(dev, prod):
    """Twice max_replicas holds while a Terminating pod is gone before the next scale-in: the HPA scales in only
    after its scale-down window, so no two scale-ins' pods terminate at once. A UI grace as long as an answer (as
    the model servers have) needs a window longer still (OpenWebUi sets it past the grace); a shorter one would let
    them, and the budget would count too few."""
    for stack in (dev, prod):
        pod = deployment(stack, "open-webui")["spec"]["template"]["spec"]
        grace = pod.get("terminationGracePeriodSeconds", POD_GRACE_DEFAULT_S)
        hpa = next(r.inputs["spec"] for r in stack.of_type("kubernetes:autoscaling/v2:HorizontalPodAutoscaler")
                   if r.inputs["metadata"]["name"] == "open-webui")
        window = ((hpa.get("behavior") or {}).get("scaleDown") or {}).get("stabilizationWindowSeconds",
                                                                          HPA_SCALE_DOWN_WINDOW_DEFAULT_S)
        assert grace < window, (grace, window)


@pytest.mark.parametrize("name", ["dev", "prod"])
def test_one_job_migrates_open_webuis_schema_and_the_replicas_wait_for_it(name):
    plan = variant(name)
    reg = next(r for r in plan.of_type(DEPLOYMENT) if r.inputs["metadata"]["name"] == "open-webui")
    pod = reg.inputs["spec"]["template"]["spec"]
    app = pod["containers"][0]
    # replicas (up to webui.maxReplicas under the HPA) start together: none of them may migrate
    assert not open_webui_migrates({e["name"]: e.get("value") for e in app["env"]})
    migrators = [j for j in plan.of_type("kubernetes:batch/v1:Job")
                 if j.inputs["spec"]["template"]["spec"]["containers"][0]["image"] == app["image"]
                 and j.inputs["metadata"]["name"].startswith("open-webui-migrate-")]
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


def _llmd_ui(p) -> tuple[dict, str, list[str]]:
    """The llm-d UI's container, its mounted Key Vault secrets and the scopes its identity is granted."""
    ui = _objects(p, "Deployment", "llm-d")["open-webui"]["spec"]["template"]["spec"]["containers"][0]
    objects = _objects(p, "SecretProviderClass", "llm-d")["open-webui-secrets"]["spec"]["parameters"]["objects"]
    grants = [r.inputs["scope"] for r in p.of_type("azure-native:authorization:RoleAssignment")
              if r.name.startswith("llmd-open-webui-kv-")]
    return ui, objects, grants


def test_open_webui_in_front_of_llmd_in_the_llmd_stack():
    """The llmd stack's one Open-WebUI fronts the llm-d model through its gate's keyless listener for it, in its
    namespace: it mounts no key and is granted none, so a key rotation needs no restart of it; the whole plan ran
    under the runner that refuses a URN or a Kubernetes/Azure name claimed twice."""
    from llmplatform.inference_specs import ROUTER_UI_PORT
    p = variant("llmd")
    ui, objects, grants = _llmd_ui(p)
    # LlmdStack's gate, its UI listener, OpenAI routes under /v1
    assert _env(ui)["OPENAI_API_BASE_URL"] == f"http://router:{ROUTER_UI_PORT}/v1"
    assert "OPENAI_API_KEY" not in _env(ui) and "OPENAI_API_KEY" not in ui["command"][2]
    key = p.outputs["llmdApiKeySecret"]
    assert key and f"objectName: {key}" not in objects and "model-api-key" not in objects
    assert grants and not [g for g in grants if g.endswith(f"/secrets/{key}")], grants
    # the gate admits the UI's pods on that listener alone (the ingress policy of its namespace denies everything else)
    policies = _objects(p, "NetworkPolicy", "llm-d")
    assert policies["router-ui-ingress"]["spec"]["ingress"] == [
        {"from": [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "open-webui"}}}],
         "ports": [{"port": ROUTER_UI_PORT, "protocol": "TCP"}]}]
    assert "open-webui" not in str(policies["router-ingress"]["spec"])
    # the UI's pods start once the gate's pods run that listener and its policy admits them
    [deployment] = [d for d in p.of_type("kubernetes:apps/v1:Deployment") if d.name == "llmd-webui"]
    for waited in ("llmd-router", "llmd-router-ui-netpol"):
        assert p.waits_for(deployment, lambda dep: dep.name == waited), waited
    # the UI listener has one route: the llm-d UI's; the Ollama stack runs without a UI of its own
    routes = [r.inputs for r in p.of_type("kubernetes:gateway.networking.k8s.io/v1:HTTPRoute")
              if any(ref.get("sectionName") == "ui" for ref in r.inputs["spec"]["parentRefs"])]
    assert [r["metadata"]["namespace"] for r in routes] == ["llm-d"]
    assert "open-webui" not in _objects(p, "Deployment", "llm")


def test_the_llmd_ui_in_a_region_joined_to_the_edge_holds_no_edge_key():
    """Joined to the global edge, llm-d's gate reads the edge's key set and hands out `edge-api-key`, the key valid
    in every region: the UI had mounted it (and was restarted at each rotation); it reads no key at all now."""
    from tests.config.test_global_stack import joined_llmd_region
    p = joined_llmd_region({"webui": {"enabled": True}})
    assert p.outputs["llmdApiKeySecret"] == "edge-api-key" and p.outputs["llmdWebui"] is True
    ui, objects, grants = _llmd_ui(p)
    assert "edge-api-key" not in objects and "OPENAI_API_KEY" not in ui["command"][2]
    assert grants and not [g for g in grants if "edge-api-key" in g], grants


def test_the_ui_listener_is_the_llmd_ui_s_alone():
    """Without a UI on llm-d (webui.backend ollama) the llm-d gate has no keyless listener and its plan is the one it
    had: the Ollama UI in `llm` calls its own gate."""
    from llmplatform.inference_specs import ROUTER_UI_PORT
    from tests.components.test_api_gate import router_conf
    p = plan_for("llmd", {"webui": {"backend": "ollama"}})
    assert f"listen {ROUTER_UI_PORT};" not in router_conf(p, "llm-d")
    assert "router-ui-ingress" not in _objects(p, "NetworkPolicy", "llm-d") and p.outputs["llmdWebui"] is False


def test_webui_on_llmd_needs_the_llmd_stack():
    with pytest.raises(ConfigError, match="webui.backend 'llmd' needs llmd.enabled"):
        parse_config(stack_raw("dev", {"webui": {"backend": "llmd"}}), "p", "dev")
    with pytest.raises(ConfigError, match="webui.backend"):
        parse_config(stack_raw("dev", {"webui": {"backend": "vllm"}}), "p", "dev")


def upstream_true(env: dict, name: str, default: str) -> bool:
    """How Open-WebUI 0.11.0 reads a switch (env.py, config.py): os.getenv(name, default).lower() == 'true'."""
    return str(env.get(name, default)).lower() == "true"


def test_by_default_every_user_sees_every_model_and_nobody_signs_up_but_the_first_admin(dev):
    """Open-WebUI 0.11.0 lists a model no admin has granted to admins only (utils/models.py get_filtered_models)
    unless BYPASS_MODEL_ACCESS_CONTROL; its own default opens sign-up (ENABLE_SIGNUP 'True'); a new account is
    pending (DEFAULT_USER_ROLE). The platform's defaults: every model for every user, sign-up closed."""
    env = _env(deployment(dev, "open-webui")["spec"]["template"]["spec"]["containers"][0])
    assert upstream_true(env, "BYPASS_MODEL_ACCESS_CONTROL", "False")
    assert not upstream_true(env, "ENABLE_SIGNUP", "True")
    assert env["DEFAULT_USER_ROLE"] == "pending" and "WEBUI_ADMIN_EMAIL" not in env
    objects = _objects(dev, "SecretProviderClass", "llm")["open-webui-secrets"]["spec"]["parameters"]["objects"]
    assert "webui-admin-password" not in objects  # no admin asked for: no password generated


ENTRA = {"WEBUI_URL": "https://llm.example.com", "ENABLE_OAUTH_SIGNUP": "true",
         "MICROSOFT_CLIENT_ID": "00000000-0000-0000-0000-000000000001",
         "MICROSOFT_CLIENT_TENANT_ID": "00000000-0000-0000-0000-000000000002",
         "MICROSOFT_REDIRECT_URI": "https://llm.example.com/oauth/microsoft/callback"}


def test_the_stack_configs_users_models_and_extra_settings_reach_open_webui():
    """webui.* through InferenceStack to OpenWebUi's Deployment (the prod-tls variant signs in with Entra ID): plain
    settings as env, the Entra client secret and the first admin's generated password from Key Vault through the
    CSI mount, exported by the start command, never in the spec."""
    plan = variant("prod-tls")
    ui = deployment(plan, "open-webui")["spec"]["template"]["spec"]["containers"][0]
    env = _env(ui)
    assert {k: env.get(k) for k in ENTRA} == ENTRA
    assert not upstream_true(env, "BYPASS_MODEL_ACCESS_CONTROL", "False")  # webui.modelAccess granted
    assert upstream_true(env, "ENABLE_SIGNUP", "True") and env["DEFAULT_USER_ROLE"] == "pending"
    assert env["WEBUI_ADMIN_EMAIL"] == "platform@example.com"
    assert "MICROSOFT_CLIENT_SECRET" not in env and "WEBUI_ADMIN_PASSWORD" not in env
    script = ui["command"][-1]
    for var, file in (("WEBUI_ADMIN_PASSWORD", "webui-admin-password"),
                      ("MICROSOFT_CLIENT_SECRET", "env-microsoft-client-secret")):
        assert f"{var}=\"$(cat '/mnt/secrets-store/{file}')\"; export {var}" in script
    objects = [yaml.safe_load(o) for o in yaml.safe_load(_objects(plan, "SecretProviderClass", "llm")[
        "open-webui-secrets"]["spec"]["parameters"]["objects"])["array"]]
    assert {"objectName": "webui-entra-client-secret", "objectType": "secret",
            "objectAlias": "env-microsoft-client-secret"} in objects
    admin = next(o for o in objects if o.get("objectAlias") == "webui-admin-password")
    written = [s.inputs for s in plan.of_type("azure-native:keyvault:Secret")
               if s.inputs["secretName"] == admin["objectName"]]
    assert len(written) == 1 and written[0]["properties"]["contentType"] == "text/plain"
    # the migration Job runs alembic only: none of the UI's settings
    job = next(j.inputs for j in plan.of_type("kubernetes:batch/v1:Job")
               if j.inputs["metadata"]["name"].startswith("open-webui-migrate-"))
    assert not set(_env(job["spec"]["template"]["spec"]["containers"][0])) & (set(ENTRA) | {"ENABLE_SIGNUP"})


def test_a_secret_env_secret_the_ui_mounts_already_is_refused():
    from llmplatform.open_webui import mounted_secrets
    names, files = mounted_secrets("ui", "db-url", "ui-key", "model-key", None, {"SEARXNG_TOKEN": "search-token"})
    assert names == ["db-url", "ui-key", "model-key", "search-token"] and files["search-token"] == "env-searxng-token"
    with pytest.raises(pulumi.RunError, match=r"OpenWebUi ui: input secret_env\['X'\]='db-url' is invalid; allowed: "
                                              r"a Key Vault secret other than the ones the component mounts itself"):
        mounted_secrets("ui", "db-url", "ui-key", None, None, {"X": "db-url"})


@pytest.mark.parametrize("own, as_output", [("database_url_secret", False), ("database_url_secret", True),
                                            ("secret_key_secret", False), ("endpoint key", False),
                                            ("endpoint key", True), ("admin password", False)])
def test_a_secret_env_naming_a_secret_the_ui_mounts_itself_is_one_sentence(own, as_output):
    """Through the component, as a user writes it: refused before anything registers when the names are known, and
    once they resolve when one is an output (it was a ValueError inside an apply: the SDK's "While processing" chain,
    with a traceback)."""
    from llmplatform import ComponentInputError, OpenWebUi
    from offline import runner as offline
    from tests.components.test_components_alone import REQUIRED, provider_opts
    clash = {"database_url_secret": "db-url", "secret_key_secret": "my-session-key", "endpoint key": "model-key",
             "admin password": "ui-webui-admin-password"}[own]

    def program() -> None:
        args = REQUIRED["OpenWebUi"]()
        args["secret_key_secret"] = "my-session-key"
        args["endpoint"] = {**args["endpoint"], "api_key_secret": "model-key"}
        if own == "admin password":
            args["admin_email"] = "ops@example.com"
        if as_output:
            if own == "endpoint key":
                args["endpoint"] = pulumi.Output.from_input(args["endpoint"])
            else:
                args[own] = pulumi.Output.from_input(args[own])
        OpenWebUi("ui", {**args, "secret_env": {"MY_SECRET": clash}}, provider_opts())
    with pytest.raises((ComponentInputError, offline.ProgramError)) as refused:
        offline.run_function(program)
    message = str(refused.value)
    assert message.startswith(f"OpenWebUi ui: input secret_env['MY_SECRET']={clash!r} is invalid; allowed: a Key "
                              "Vault secret other than the ones the component mounts itself"), message
    assert "While processing" not in message
    assert isinstance(refused.value, ComponentInputError) != as_output  # early exactly when every name is known


def test_webui_config_keys_are_checked_naming_key_value_and_allowed():
    for webui, message in (
            ({"modelAccess": "public"}, "webui.modelAccess 'public' is invalid; allowed: all, granted"),
            ({"defaultUserRole": "admin"}, "webui.defaultUserRole 'admin' is invalid; allowed: pending, user"),
            ({"adminEmail": "ops"}, "webui.adminEmail 'ops' is invalid; allowed: an e-mail address"),
            ({"enableSignup": "yes"}, "webui.enableSignup must be true or false, got 'yes'"),
            # not an object: not shown, as a string given here may be a secret itself (`--set webui.secretEnv=...`)
            ({"extraEnv": ["WEBUI_URL"]}, "webui.extraEnv must be an object (key: value), got (a value not shown"),
            ({"secretEnv": "Abc~8Q~fake"}, "webui.secretEnv must be an object (key: value), got (a value not shown"),
            ({"extraEnv": {"ENABLE_SIGNUP": "true"}}, "webui.extraEnv ['ENABLE_SIGNUP'] is invalid; allowed: "
                                                      "variables other than BYPASS_MODEL_ACCESS_CONTROL"),
            ({"extraEnv": {"OAUTH_CLIENT_SECRET": "s"}}, "webui.extraEnv ['OAUTH_CLIENT_SECRET'] is invalid; allowed: "
                                                         "plain settings only"),
            # libpq's password, its ending glued on (and the migration Job's too, with the UI's other PG* settings)
            ({"extraEnv": {"PGPASSWORD": "hunter2"}}, "webui.extraEnv ['PGPASSWORD'] is invalid; allowed: plain "
                                                      "settings only"),
            ({"secretEnv": {"OAUTH_CLIENT_SECRET": "a_b"}}, "webui.secretEnv ['OAUTH_CLIENT_SECRET'] is invalid; "
                                                            "allowed: environment variable names mapped to Key Vault")):
        with pytest.raises(ConfigError) as refused:
            parse_config(stack_raw("dev", {"webui": webui}), "p", "dev")
        assert any(p.startswith(message) for p in refused.value.problems), (webui, refused.value.problems)
        assert not [p for p in refused.value.problems if "hunter2" in p], refused.value.problems
    # YAML booleans and numbers are taken as the text Open-WebUI reads
    cfg = parse_config(stack_raw("dev", {"webui": {"extraEnv": {"ENABLE_LOGIN_FORM": False, "RAG_TOP_K": 5}}}),
                       "p", "dev")
    assert cfg.webui.extra_env == {"ENABLE_LOGIN_FORM": "false", "RAG_TOP_K": "5"}


# Open-WebUI 0.11.0 (its wheel's env.py, config.py, internal/db.py, utils/redis.py, socket/main.py; start.sh at
# v0.11.0) and its uvicorn 0.51.0 read each as another way to a setting OpenWebUi sets: given, it replaced that
# setting without an error (docs/decisions.md, "2026-12-05: settings the software reads under another name")
ALIASED = [
    ("DATABASE_HOST", "db.example.com", "builds a database URL from DATABASE_TYPE, DATABASE_HOST"),
    ("DATABASE_ENABLE_IAM_TOKEN_AUTH", "TRUE", "AWS RDS IAM token as the password"),
    ("OLLAMA_BASE_URLS", "http://other:11434", "in place of OLLAMA_BASE_URL"),
    ("OPENAI_API_BASE_URLS", "http://other/v1", "in place of OPENAI_API_BASE_URL"),
    ("REDIS_SENTINEL_HOSTS", "sentinel-0", "connects through these Sentinels"),
    ("WEBSOCKET_SENTINEL_HOSTS", "sentinel-0", "websocket manager through these Sentinels"),
    ("REDIS_CLUSTER", "True", "speak Redis Cluster to REDIS_URL"),
    ("WEBSOCKET_REDIS_CLUSTER", "true", "speak Redis Cluster to WEBSOCKET_REDIS_URL"),
    ("PORT", "3000", "uvicorn's --port in place of 8080"),
    ("HOST", "127.0.0.1", "uvicorn's --host in place of 0.0.0.0"),
    ("UVICORN_UDS", "/tmp/ui.sock", "listens on this Unix socket"),
    ("UVICORN_FD", "3", "serves the socket of this file descriptor"),
    ("UVICORN_SSL_CERTFILE", "/tmp/cert.pem", "serves TLS"),
    ("UVICORN_SSL_KEYFILE", "/tmp/key.pem", "serves TLS"),
]


@pytest.mark.parametrize("name, value, how", ALIASED)
def test_a_variable_open_webui_reads_in_place_of_one_the_component_sets_is_refused(name, value, how):
    """Through the component, in extra_env: refused naming the variable, its value and what it would override."""
    from llmplatform import ComponentInputError
    from tests.components.test_components_alone import REQUIRED
    with pytest.raises(ComponentInputError) as refused:
        offline.run_function(lambda: P.OpenWebUi("ui", {**REQUIRED["OpenWebUi"](), "extra_env": {name: value}},
                                                 provider_opts()))
    assert [e["property_path"] for e in refused.value.errors] == [f"extra_env[{name!r}]"], refused.value.errors
    message = str(refused.value)
    assert message.startswith(f"OpenWebUi ui: input extra_env[{name!r}]={value!r} is invalid; allowed: no {name}: "), \
        message
    assert how in message and "it would override the component's" in message, message


def test_a_port_given_as_a_number_is_refused_for_its_type_alone():
    """PORT 8080 as a number (Python, not a stack file) was refused twice, once as a port "in place of 8080": the type
    rule alone refuses it now, and the same value as a string, start.sh's own port, passes; another port is refused
    saying which values pass."""
    from llmplatform import ComponentInputError
    from tests.components.test_components_alone import REQUIRED

    def refusal(env):
        with pytest.raises(ComponentInputError) as refused:
            offline.run_function(lambda: P.OpenWebUi("ui", {**REQUIRED["OpenWebUi"](), "extra_env": env},
                                                     provider_opts()))
        return refused.value
    typed = refusal({"PORT": 8080})
    assert [e["property_path"] for e in typed.errors] == ["extra_env"], typed.errors
    assert "extra_env=['PORT'] is invalid; allowed: environment variable names mapped to string values" in str(typed)
    assert "in place of" not in str(typed), str(typed)
    other = refusal({"PORT": "3000"})
    assert "in place of 8080 ('8080' or empty passes: start.sh's own)" in str(other), str(other)


def test_uvicorn_workers_share_state_through_valkey_with_one_replica():
    """start.sh hands UVICORN_WORKERS to `uvicorn --workers`: each worker is a process with its own Socket.IO server
    (Open-WebUI 0.11.0 socket/main.py), so with one replica and two workers an event one worker emits missed the
    browser's socket on the other, as between replicas; the component sets up Valkey for them too."""
    from tests.components.test_components_alone import REQUIRED

    def plan(env):
        p = offline.run_function(lambda: P.OpenWebUi("ui", {**REQUIRED["OpenWebUi"](), "max_replicas": 1,
                                                            "extra_env": env}, provider_opts()))
        names = {r.inputs["metadata"]["name"] for r in p.resources if r.inputs.get("kind") == "Deployment"}
        return names, _env(deployment(p, "open-webui")["spec"]["template"]["spec"]["containers"][0])
    names, env = plan({"UVICORN_WORKERS": "2"})
    assert "webui-redis" in names and env["WEBSOCKET_MANAGER"] == "redis", (names, env)
    assert env["WEBSOCKET_REDIS_URL"] == env["REDIS_URL"] == "redis://webui-redis:6379/0"
    names, env = plan({"UVICORN_WORKERS": "1"})
    assert "webui-redis" not in names and "WEBSOCKET_MANAGER" not in env, (names, env)
    # from Key Vault the count went unseen by the connection budget and by the above: refused there
    from llmplatform import ComponentInputError
    with pytest.raises(ComponentInputError) as refused:
        offline.run_function(lambda: P.OpenWebUi("ui", {**REQUIRED["OpenWebUi"](), "max_replicas": 1,
                                                        "secret_env": {"UVICORN_WORKERS": "webui-workers"}},
                                                 provider_opts()))
    assert [e["property_path"] for e in refused.value.errors] == ["secret_env['UVICORN_WORKERS']"]
    assert "secret_env['UVICORN_WORKERS']='webui-workers' is invalid; allowed: UVICORN_WORKERS in extra_env: the " \
           "component sizes the database connections" in str(refused.value), str(refused.value)


def test_a_secret_read_in_place_of_the_components_is_refused_and_not_shown():
    """OPENAI_API_KEYS (config.py: in place of OPENAI_API_KEY when not empty) holds keys: refused without its value,
    once (not again as a secret-looking name); in secret_env by name, the secret's name shown."""
    from llmplatform import ComponentInputError
    from tests.components.test_components_alone import REQUIRED
    with pytest.raises(ComponentInputError) as refused:
        offline.run_function(lambda: P.OpenWebUi("ui", {**REQUIRED["OpenWebUi"](), "extra_env": {
            "OPENAI_API_KEYS": "sk-live-1;sk-live-2"}, "secret_env": {"DATABASE_PASSWORD": "db-password"}},
            provider_opts()))
    assert [e["property_path"] for e in refused.value.errors] == ["extra_env['OPENAI_API_KEYS']",
                                                                  "secret_env['DATABASE_PASSWORD']"]
    message = str(refused.value)
    assert "sk-live" not in message and "extra_env['OPENAI_API_KEYS']=(a value not shown" in message, message
    assert "in place of OPENAI_API_KEY" in message
    assert "secret_env['DATABASE_PASSWORD']='db-password' is invalid; allowed: no DATABASE_PASSWORD: " in message


def test_values_that_change_nothing_the_component_sets_reach_open_webui():
    """A switch at its default in any spelling Open-WebUI reads as off (env.py `.lower() == 'true'`), the port and
    address start.sh uses anyway, an empty value Open-WebUI takes for unset: let through, into the container."""
    from tests.components.test_components_alone import REQUIRED
    # '1' and 'TRUE ' are off too: env.py compares `.lower() == 'true'`, without stripping
    harmless = {"REDIS_CLUSTER": "False", "WEBSOCKET_REDIS_CLUSTER": "TRUE ", "DATABASE_ENABLE_IAM_TOKEN_AUTH": "1",
                "PORT": "8080", "HOST": "0.0.0.0", "OLLAMA_BASE_URLS": "", "DATABASE_HOST": "", "WEB_CONCURRENCY": "4"}
    plan = offline.run_function(lambda: P.OpenWebUi("ui", {**REQUIRED["OpenWebUi"](), "extra_env": harmless},
                                                    provider_opts()))
    container = deployment(plan, "open-webui")["spec"]["template"]["spec"]["containers"][0]
    assert {k: v for k, v in _env(container).items() if k in harmless} == harmless


def test_inference_stack_refuses_them_by_its_own_input_name():
    from llmplatform import ComponentInputError
    from tests.components.test_components_alone import REQUIRED
    with pytest.raises(ComponentInputError) as refused:
        offline.run_function(lambda: P.InferenceStack("stack", {**REQUIRED["InferenceStack"](),
                                                                "webui_extra_env": {"PORT": "3000"}}, provider_opts()))
    assert [e["property_path"] for e in refused.value.errors] == ["webui_extra_env['PORT']"], refused.value.errors
    assert "webui_extra_env['PORT']='3000' is invalid; allowed: no PORT: start.sh" in str(refused.value)


def test_stack_config_refuses_them_with_the_value_yaml_gives():
    """webui.extraEnv as a stack file types it: YAML's true reaches Open-WebUI as 'true' (refused), false as 'false'
    (the switch's default, taken)."""
    with pytest.raises(ConfigError) as refused:
        parse_config(stack_raw("dev", {"webui": {"extraEnv": {"REDIS_CLUSTER": True}}}), "p", "dev")
    assert [p for p in refused.value.problems if p.startswith(
        "webui.extraEnv['REDIS_CLUSTER'] 'true' is invalid; allowed: no REDIS_CLUSTER: 'true' (any case) makes "
        "Open-WebUI 0.11.0")], refused.value.problems
    cfg = parse_config(stack_raw("dev", {"webui": {"extraEnv": {"REDIS_CLUSTER": False}}}), "p", "dev")
    assert cfg.webui.extra_env == {"REDIS_CLUSTER": "false"}


def test_the_plan_refuses_a_stack_file_that_sets_one_and_plans_its_default(tmp_path, capsys):
    from pathlib import Path
    from offline import plan as plan_cli
    text = (Path(plan_cli.__file__).resolve().parent.parent / "Pulumi.dev.yaml").read_text()
    stack_file = tmp_path / "Pulumi.dev.yaml"
    for value, code in (("'3000'", 1), ("'8080'", 0)):
        stack_file.write_text(text.replace("  aks-llm-platform:webui:\n",
                                           f"  aks-llm-platform:webui:\n    extraEnv:\n      PORT: {value}\n", 1))
        assert plan_cli.main(["--stack", "dev", "--out", str(tmp_path / value), "--stack-file", str(stack_file)]) \
            == code
        err = capsys.readouterr().err
        assert "Traceback" not in err
        if code:
            assert "webui.extraEnv['PORT'] '3000' is invalid; allowed: no PORT: start.sh (Open-WebUI 0.11.0) hands " \
                   "it to uvicorn's --port in place of 8080" in err, err[-1500:]


def test_each_name_refused_is_one_the_pinned_software_reads():
    """The names are the software's own (tests/upstream/settings: every variable Open-WebUI 0.11.0 and its start.sh
    read, and vLLM's and huggingface_hub's; uvicorn's UVICORN_<option> names are not listed there)."""
    from llmplatform.input_rules.llmd import VLLM_DOWNLOAD_ALIASES, VLLM_TOKEN_ALIASES
    from llmplatform.input_rules.webui import WEBUI_ENV_ALIASES
    from tests.conftest import upstream_dir

    def read(software):
        return {line.strip() for line in (upstream_dir() / "settings" / f"{software}.txt").read_text().splitlines()
                if line.strip() and not line.startswith("#")}
    webui = {n for n in WEBUI_ENV_ALIASES if not n.startswith("UVICORN_")}
    assert webui - read("open-webui") == set()
    assert set(VLLM_DOWNLOAD_ALIASES) - read("vllm") == set()
    assert set(VLLM_TOKEN_ALIASES) - read("huggingface_hub") == set()


def test_llmd_backend_hands_the_ui_the_same_settings():
    """webui.backend llmd builds OpenWebUi directly (config/inputs.llmd_webui_args), not through InferenceStack."""
    from config import inputs
    webui = {"backend": "llmd", "modelAccess": "granted", "enableSignup": True, "defaultUserRole": "user",
             "adminEmail": "ops@example.com", "extraEnv": {"WEBUI_URL": "https://chat.example.com"},
             "secretEnv": {"MICROSOFT_CLIENT_SECRET": "entra"}}
    cfg = parse_config(stack_raw("llmd", {"webui": webui}), "p", "llmd")

    class Handle:  # what the program hands over; only passed through
        ui_endpoint = database_url_secret = admin_database_url_secret = database = route_target = None
    args = inputs.llmd_webui_args(cfg, None, None, Handle(), Handle(), Handle())
    assert {k: args.get(k) for k in ("model_access", "enable_signup", "default_user_role", "admin_email",
                                     "extra_env", "secret_env")} == {
        "model_access": "granted", "enable_signup": True, "default_user_role": "user",
        "admin_email": "ops@example.com", "extra_env": {"WEBUI_URL": "https://chat.example.com"},
        "secret_env": {"MICROSOFT_CLIENT_SECRET": "entra"}}


@pytest.mark.parametrize("key", ["model-key", ""])
def test_an_endpoint_handed_over_as_an_output_is_granted_its_key_once_it_resolves(key):
    """The UI's identity reads exactly the secrets it mounts (test_key_vault). An endpoint that arrives as one output
    (another program's, another language's) says whether it has a key only once it resolves: its key is granted then,
    and an endpoint without one gets no grant, as when handed over plainly."""
    from llmplatform import OpenWebUi
    from offline import runner as offline
    from tests.components.test_components_alone import REQUIRED, provider_opts

    def program(as_output: bool) -> None:
        args = REQUIRED["OpenWebUi"]()
        endpoint = {**args["endpoint"], "api_key_secret": key}
        args["endpoint"] = pulumi.Output.from_input(endpoint) if as_output else endpoint
        OpenWebUi("ui", args, provider_opts())
    plans = [offline.run_function(lambda: program(as_output)) for as_output in (False, True)]
    grants = [sorted((r.name, r.inputs["scope"]) for r in plan.of_type("azure-native:authorization:RoleAssignment"))
              for plan in plans]
    assert grants[0] == grants[1]
    model_key = [scope for grant, scope in grants[1] if grant == "ui-open-webui-kv-model-key"]
    assert model_key == (["/vaults/kv1/secrets/model-key"] if key else []), grants[1]


@pytest.mark.parametrize("key", ["model-key", ""])
def test_an_endpoint_whose_key_name_is_an_output_is_granted_it_at_once_or_refused_empty(key):
    """A gate hands its key's name out as an output that resolves once the key is written (a gate without a key
    hands a plain ""): the UI's grant on it is registered with the rest, not inside an apply (where a preview that
    cannot resolve it did not show it), and a name that resolves empty is refused in the late checks' words, not
    granted on "<vault>/secrets/"."""
    from llmplatform import OpenWebUi
    from llmplatform.testing import ProgramError
    from tests.components.test_components_alone import REQUIRED

    def program() -> None:
        args = REQUIRED["OpenWebUi"]()
        args["endpoint"] = {**args["endpoint"], "api_key_secret": pulumi.Output.from_input(key)}
        OpenWebUi("ui", args, provider_opts())
    if not key:
        with pytest.raises(ProgramError, match=r"^OpenWebUi ui: endpoint.api_key_secret: resolved to an empty value "
                                               r"\(''\); give a Key Vault secret name, or leave it out"):
            offline.run_function(program)
        return
    plan = offline.run_function(program)
    grant = plan.one("azure-native:authorization:RoleAssignment", "ui-open-webui-kv-model-key")
    assert grant.inputs["scope"] == "/vaults/kv1/secrets/model-key"


def _endpoint_handed_over_after_the_account(args: dict, ui_name: str = "ui") -> None:
    """`args` for OpenWebUi `ui_name` with its endpoint handed over as one output (another program's, another
    language's) that resolves only once the UI's ServiceAccount exists: the latest a key can arrive, after the identity
    collected the grants made as its children."""
    import asyncio
    import pulumi_kubernetes as k8s
    handed: asyncio.Future = asyncio.get_event_loop().create_future()
    endpoint = {**args["endpoint"], "api_key_secret": "model-key"}
    args["endpoint"], args["namespace"] = pulumi.Output.from_input(handed), "llm"
    ui = P.OpenWebUi(ui_name, args, provider_opts())
    [identity] = [c for c in ui._childResources if isinstance(c, P.WorkloadIdentity)]
    [account] = [c for c in identity._childResources if isinstance(c, k8s.core.v1.ServiceAccount)]
    account.urn.apply(lambda _: handed.set_result(endpoint))


def test_the_ui_pods_wait_for_the_key_grant_made_once_an_endpoint_handed_over_whole_resolves():
    """The grant on the endpoint's key is made inside an apply when the endpoint arrives as one output, so it was no
    child of the identity when the ServiceAccount existed: the UI's Deployment and its migration Job (both mount the
    key) were registered without it among their dependencies, and the engine could create the pods first (the CSI
    mount fails until Azure RBAC has the assignment: ContainerCreating until the Deployment's await times out)."""
    from tests.components.test_components_alone import REQUIRED

    def program() -> None:
        _endpoint_handed_over_after_the_account(REQUIRED["OpenWebUi"]())
    plan = offline.run_function(program)
    grant = plan.one("azure-native:authorization:RoleAssignment", "ui-open-webui-kv-model-key")
    assert grant.inputs["scope"] == "/vaults/kv1/secrets/model-key"
    for kind, name in (("kubernetes:apps/v1:Deployment", "ui-webui"), ("kubernetes:batch/v1:Job", "ui-webui-migrate")):
        assert grant.urn in plan.one(kind, name).dependencies, name
    # the deploy model's reading: every grant and federation a pod's Key Vault mount waits for is among what the
    # pod's create waits for, so one `pulumi up` worker is never held by a pod whose grant queues behind it
    from offline import deploy_model as dm
    data = dm.load_durations()
    before = dm.ancestors(dm.dependencies(plan))
    gates = dm.identity_gates(plan, data)
    assert {urn: [gate for gate, _ in found if gate not in before[urn]] for urn, found in gates.items()} == {
        urn: [] for urn in gates} and len(gates) == 2
    assert [p for p in dm.evaluate(plan, data, parallel=1).problems if p.rule == "parallel"] == []


def test_a_preview_where_the_endpoint_handed_over_whole_is_not_known_still_plans_the_ui():
    """In a preview of a new stack the endpoint another program hands over may be unknown: the SDK runs no apply on
    it, so no key grant is shown, and the identity's account name, which waits for that apply to end, stays known:
    the UI's pods are planned with it."""
    import pulumi_random as random
    from tests.components.test_components_alone import REQUIRED

    def program() -> None:
        args = REQUIRED["OpenWebUi"]()
        handed = random.RandomId("handed", byte_length=4)  # no output of it is known in a preview
        args["endpoint"] = handed.hex.apply(lambda _: {**REQUIRED["OpenWebUi"]()["endpoint"],
                                                       "api_key_secret": "model-key"})
        P.OpenWebUi("ui", args, provider_opts())
    plan = offline.run_function(program, preview=True)
    assert [r.name for r in plan.of_type("azure-native:authorization:RoleAssignment")
            if r.name.endswith("-model-key")] == []
    deployment = plan.one("kubernetes:apps/v1:Deployment", "ui-webui")
    assert deployment.inputs["spec"]["template"]["spec"]["serviceAccountName"] == "open-webui"


class _SavedConfig:
    """Open-WebUI 0.11.0's Config model as the migration Job uses it (backend/open_webui/models/config.py: async
    staticmethods `get(key, default=None)`, the saved value or the default, and `upsert(updates)`), over a dict."""

    saved: dict = {}
    upserts: list = []

    @staticmethod
    async def get(key, default=None):
        return _SavedConfig.saved.get(key, default)

    @staticmethod
    async def upsert(updates):
        _SavedConfig.upserts.append(updates)
        _SavedConfig.saved.update(updates)


def _run_migration(plan, saved, monkeypatch):
    """Run the planned migration Job's Python (the line its start script execs) against a stand-in for Alembic and
    Open-WebUI's Config model holding `saved`; returns the saved config and the upserts."""
    import sys
    import types
    [job] = [j for j in plan.of_type("kubernetes:batch/v1:Job")
             if j.inputs["metadata"]["name"].startswith("open-webui-migrate-")]
    script = job.inputs["spec"]["template"]["spec"]["containers"][0]["command"][-1]
    python, flag, code, *args = shlex.split(script[script.index("\nexec ") + len("\nexec "):])
    assert (python, flag) == ("python", "-c")
    upgraded = []
    alembic, alembic_config = types.ModuleType("alembic"), types.ModuleType("alembic.config")
    alembic.command = types.SimpleNamespace(upgrade=lambda config, rev: upgraded.append(rev))
    alembic_config.Config = lambda path: types.SimpleNamespace(set_main_option=lambda *a: None)
    env, models = types.ModuleType("open_webui.env"), types.ModuleType("open_webui.models.config")
    env.OPEN_WEBUI_DIR = __import__("pathlib").Path("/app/backend/open_webui")
    models.Config = _SavedConfig
    for name, module in {"alembic": alembic, "alembic.config": alembic_config, "open_webui": types.ModuleType("o"),
                         "open_webui.env": env, "open_webui.models": types.ModuleType("m"),
                         "open_webui.models.config": models}.items():
        monkeypatch.setitem(sys.modules, name, module)
    monkeypatch.setattr(sys, "argv", ["-c", *args])
    _SavedConfig.saved, _SavedConfig.upserts = dict(saved), []
    exec(compile(code, "<migrate>", "exec"), {"__name__": "__main__"})
    assert upgraded == ["head"]
    return _SavedConfig.saved, _SavedConfig.upserts


def test_the_migration_job_repoints_the_ollama_address_an_earlier_start_saved(dev, monkeypatch):
    """Open-WebUI saves its Ollama connections in its database at the first start and reads them from there
    afterwards (persistent config, on for an Ollama UI), so a UI that first started on the interceptor's alias (or on
    Ollama's Service) would keep calling it, where it is no longer admitted. The migration Job repoints each address
    the platform handed out before to the gate's UI listener, and leaves an address an admin added alone."""
    ui = "http://router:8081"
    for before in ("http://ollama-scaled.llm:8080", "http://ollama-scaled:8080", "http://ollama:11434/"):
        saved, _ = _run_migration(dev, {"ollama.base_urls": [before, "http://gpu-box:11434"]}, monkeypatch)
        assert saved["ollama.base_urls"] == [ui, "http://gpu-box:11434"], before
    for untouched in ({}, {"ollama.base_urls": [ui]}, {"ollama.base_urls": ["http://gpu-box:11434"]}):
        # (the settings the stack file sets are the Job's other writes: test_webui_persistent_settings.py)
        saved, upserts = _run_migration(dev, untouched, monkeypatch)
        assert saved.get("ollama.base_urls") == untouched.get("ollama.base_urls")
        assert not [u for u in upserts if "ollama.base_urls" in u]


def test_the_llmd_ui_migrates_without_touching_its_connections():
    """The OpenAI-endpoint UI runs with persistent config off: its Job is the schema upgrade alone, as before."""
    from llmplatform.inference_specs import MIGRATE_COMMAND
    [job] = [j for j in variant("llmd").of_type("kubernetes:batch/v1:Job")
             if j.inputs["metadata"]["name"].startswith("open-webui-migrate-")]
    assert job.inputs["spec"]["template"]["spec"]["containers"][0]["command"][-1].endswith(
        f"exec {MIGRATE_COMMAND}\n")


def _migration_job(plan) -> dict:
    [job] = [j.inputs for j in plan.of_type("kubernetes:batch/v1:Job")
             if j.inputs["metadata"]["name"].startswith("open-webui-migrate-")]
    return job


def _exported(script: str) -> dict[str, str]:
    """What a start script exports from the CSI mount: variable -> mounted file (exec_with_secret_files' lines)."""
    return {line.split("=", 1)[0]: line.split("'")[1] for line in script.splitlines()
            if "=\"$(cat '" in line}


# Open-WebUI 0.11.0 (PyPI wheel): DATABASE_SCHEMA qualifies every model's table (internal/db.py
# `MetaData(schema=DATABASE_SCHEMA)`); Alembic's upgrade qualifies none (migrations/env.py, versions/*.py), so it writes
# where libpq's PGOPTIONS puts the search_path. A UI given them queries tables a Job without them never made.
SCHEMA_ENV = {"DATABASE_SCHEMA": "webui", "PGOPTIONS": "-c search_path=webui,public"}


def _schema_settings_reach_the_migration(plan, plain: dict[str, str], secret: dict[str, str]) -> None:
    """The migration Job sees each of the UI's schema settings as the UI does: a plain one with the UI's value, one
    from Key Vault exported from the file the UI exports it from (the Job mounts the UI's SecretProviderClass)."""
    ui = deployment(plan, "open-webui")["spec"]["template"]["spec"]["containers"][0]
    job = _migration_job(plan)["spec"]["template"]
    worker = job["spec"]["containers"][0]
    assert {k: _env(worker).get(k) for k in plain} == {k: _env(ui)[k] for k in plain} == plain
    ui_files, job_files = _exported(ui["command"][-1]), _exported(worker["command"][-1])
    assert secret and {k: job_files.get(k) for k in secret} == {k: ui_files[k] for k in secret}
    mounted = next(v for v in job["spec"]["volumes"] if v["name"] == "secrets-store")
    assert mounted["csi"]["volumeAttributes"]["secretProviderClass"] == "open-webui-secrets"


def test_the_migration_job_migrates_the_schema_the_ui_reads():
    """A UI given DATABASE_SCHEMA (or PGOPTIONS, from Key Vault) queries another schema than `public`: the migration
    Job, which the UI's replicas wait for with their own migrations off, gets the same settings, and a Job name of its
    own (a Job's template is immutable: a changed setting is a new Job, which migrates the new schema). Settings that
    do not touch the database stay out of the Job, and leave its name as it was."""
    from tests.components.test_components_alone import REQUIRED

    def plan(extra_env, secret_env=None):
        return offline.run_function(lambda: P.OpenWebUi("ui", {
            **REQUIRED["OpenWebUi"](), "extra_env": extra_env, **({"secret_env": secret_env} if secret_env else {})},
            provider_opts()))
    given = plan({"DATABASE_SCHEMA": "webui", "WEBUI_URL": "https://llm.example.com",
                  "PGVECTOR_INDEX_METHOD": "hnsw"}, {"PGOPTIONS": "webui-pg-options"})
    _schema_settings_reach_the_migration(given, {"DATABASE_SCHEMA": "webui"}, {"PGOPTIONS": "webui-pg-options"})
    worker = _migration_job(given)["spec"]["template"]["spec"]["containers"][0]
    assert not {"WEBUI_URL", "PGVECTOR_INDEX_METHOD"} & set(_env(worker))  # Open-WebUI's server and vector store
    names = {key: _migration_job(p)["metadata"]["name"] for key, p in (
        ("given", given), ("none", plan({})), ("unrelated", plan({"PGVECTOR_INDEX_METHOD": "hnsw"})),
        ("other schema", plan({"DATABASE_SCHEMA": "chat"}, {"PGOPTIONS": "webui-pg-options"})),
        ("other secret", plan({"DATABASE_SCHEMA": "webui"}, {"PGOPTIONS": "webui-pg-options-2"})))}
    assert names["none"] == names["unrelated"], names
    assert len({names[k] for k in ("given", "none", "other schema", "other secret")}) == 4, names


def test_inference_stack_hands_its_ui_schema_settings_to_the_migration_job():
    from tests.components.test_components_alone import REQUIRED
    plan = offline.run_function(lambda: P.InferenceStack("stack", {
        **REQUIRED["InferenceStack"](), "database_url_secret": "db-url", "webui_extra_env": {"DATABASE_SCHEMA": "webui"},
        "webui_secret_env": {"PGOPTIONS": "webui-pg-options"}}, provider_opts()))
    _schema_settings_reach_the_migration(plan, {"DATABASE_SCHEMA": "webui"}, {"PGOPTIONS": "webui-pg-options"})


def test_a_stack_files_schema_settings_reach_the_migration_job():
    """webui.extraEnv and webui.secretEnv through the program: the dev stack's migration Job migrates where its UI
    reads."""
    from tests.conftest import plan_for
    plan = plan_for("dev", {"webui": {"extraEnv": {"DATABASE_SCHEMA": "webui"},
                                      "secretEnv": {"PGOPTIONS": "webui-pg-options"}}})
    _schema_settings_reach_the_migration(plan, {"DATABASE_SCHEMA": "webui"}, {"PGOPTIONS": "webui-pg-options"})


def _bootstrap_job(plan) -> dict:
    [job] = [j.inputs for j in plan.of_type("kubernetes:batch/v1:Job")
             if j.inputs["metadata"]["name"].startswith("open-webui-db-bootstrap-")]
    return job


def test_the_bootstrap_creates_the_uis_own_schema_before_the_migration():
    """PostgreSQL skips a search_path schema that does not exist, so Open-WebUI's migrations would land in public
    while the UI queries DATABASE_SCHEMA: the bootstrap (run as the administrator, a member of the UI's role) creates
    it, owned by that role, its name an argument of the script (tests/components/test_postgres_bootstrap.py runs it).
    Without a schema, or with public, the command, and so the Job's name, is the one every deployed stack has."""
    from llmplatform.postgres_access import BOOTSTRAP_SCRIPT, SCHEMA_SCRIPT
    from tests.conftest import plan_for
    given = _bootstrap_job(plan_for("dev", {"webui": {"extraEnv": SCHEMA_ENV}}))
    command = given["spec"]["template"]["spec"]["containers"][0]["command"]
    assert command[3] == BOOTSTRAP_SCRIPT + SCHEMA_SCRIPT and command[-1] == "webui", command[-1]
    plain = [_bootstrap_job(plan_for("dev", extra))["spec"]["template"]["spec"]["containers"][0]["command"]
             for extra in ({}, {"webui": {"extraEnv": {"DATABASE_SCHEMA": "public"}}})]
    assert [c[3] for c in plain] == [BOOTSTRAP_SCRIPT] * 2 and all(c[-1] != "public" for c in plain)
    names = {_bootstrap_job(plan_for("dev", extra))["metadata"]["name"]
             for extra in ({}, {"webui": {"extraEnv": {"DATABASE_SCHEMA": "public"}}})}
    assert len(names) == 1 and given["metadata"]["name"] not in names, names


def ui_of_router_endpoint(namespace: str) -> Any:
    """The plan of an OpenWebUi in `namespace` on a gate's endpoint in `llm` (its bare host, `http://router:8080`)."""
    def program() -> None:
        endpoint = ModelEndpoint(base_url="http://router:8080", api="ollama", namespace="llm", service="router",
                                 port=8080)
        P.OpenWebUi("ui", {"cluster": cluster_handle(), "key_vault": VAULT, "endpoint": endpoint,
                           "database_url_secret": "db-url", "namespace": namespace}, provider_opts())
    return offline.run_function(program)


def migration_command(plan: Any) -> str:
    """The migration Job's script (its command's last argument)."""
    job = next(r for r in plan.of_type("kubernetes:batch/v1:Job")
               if r.inputs["metadata"]["name"].startswith("open-webui-migrate"))
    return job.inputs["spec"]["template"]["spec"]["containers"][0]["command"][-1]


def test_an_open_webui_in_another_namespace_calls_the_endpoints_bare_host_qualified_with_the_endpoints_namespace():
    """A ModelEndpoint's host resolves in its `namespace` (the gates hand out `http://router:8080`), and a pod resolves
    a bare name in its own namespace: the UI in `ui` called `router.ui.svc.cluster.local`, which nothing makes, and
    listed no model whatever the gate admitted. From another namespace the bare host carries the endpoint's; a
    qualified host and the endpoint's own namespace are left as given (the repository's stacks plan unchanged); the
    migration Job repoints the saved connection to the same address."""
    from llmplatform.open_webui import reached_from
    assert reached_from("http://router:8080", "llm", "ui") == "http://router.llm.svc:8080"
    assert reached_from("http://router:8080/v1", "llm", "ui") == "http://router.llm.svc:8080/v1"
    assert reached_from("http://router", "llm", "ui") == "http://router.llm.svc"
    assert reached_from("http://router:8080", "llm", "llm") == "http://router:8080"
    for kept in ("http://ollama.llm.svc:11434", "http://10.0.0.5:8080", "https://api.example.com", "router:8080"):
        assert reached_from(kept, "llm", "ui") == kept

    def ui_env(namespace: str) -> tuple[dict, str]:
        plan = ui_of_router_endpoint(namespace)
        pod = deployment(plan, "open-webui")["spec"]["template"]["spec"]
        env = {e["name"]: e.get("value") for c in pod["containers"] if c["name"] == "open-webui" for e in c["env"]}
        return env, migration_command(plan)
    env, migrate = ui_env("ui")
    assert env["OLLAMA_BASE_URL"] == "http://router.llm.svc:8080"
    assert " 'http://router.llm.svc:8080' 'http://ollama-scaled.ui:8080' " in migrate  # the address, the stale ones
    env, migrate = ui_env("llm")
    assert env["OLLAMA_BASE_URL"] == "http://router:8080"
    assert " 'http://router:8080' 'http://ollama-scaled.llm:8080' " in migrate and "router.llm.svc" not in migrate


def test_an_open_webui_moved_to_the_qualified_address_repoints_the_bare_one_it_saved_before():
    """A UI in another namespace than its endpoint's ran before with the endpoint's bare host
    (`http://router:8080`), and Open-WebUI keeps its Ollama connections in its database (persistent config): the
    new environment alone leaves the saved, unresolvable address in use. The migration Job (replaced: its name
    holds its command) repoints that bare address to the qualified one, as it does the platform's older ones; in
    the endpoint's namespace nothing changes (the address is the one handed out)."""
    def migrate(namespace: str) -> str:
        return migration_command(ui_of_router_endpoint(namespace))
    moved = migrate("ui")
    assert moved.index(" 'http://router.llm.svc:8080' ") < moved.index(" 'http://router:8080'"), moved
    assert migrate("llm").count("'http://router:8080'") == 1
