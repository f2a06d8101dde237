"""The components' value rules (components/llmplatform/input_rules/) as pure functions (no Pulumi run): ranges and
cross-input rules, each case derived from the upstream rule it encodes (docs/decisions.md, "Input rules")."""

from llmplatform.inference_specs import ollama_env
from llmplatform.input_rules import (RULES, api_gate, gpu_node_pool, inference_stack, llmd_stack, model_store,
                                     ollama_server, open_webui)


def test_every_component_has_rules():
    import llmplatform
    assert set(RULES) == set(llmplatform.COMPONENTS)


def test_gpu_pool_rules_follow_the_azure_cli():
    # spot max price: -1 or above 0, and only for spot pools (azure-cli acs validate_spot_max_price)
    assert [p.path for p in gpu_node_pool({"vm_size": "Standard_NC4as_T4_v3", "spot_max_price": -1})] == []
    assert [p.path for p in gpu_node_pool({"vm_size": "Standard_NC4as_T4_v3", "spot_max_price": 0.5})] == []
    assert [p.path for p in gpu_node_pool({"vm_size": "Standard_NC4as_T4_v3", "priority": "regular",
                                           "spot_max_price": 0.5})] == ["spot_max_price"]
    # node counts 0-1000 (validate_nodes_count)
    assert [p.path for p in gpu_node_pool({"vm_size": "Standard_NC4as_T4_v3", "max_count": 1001})] == ["max_count"]
    # a size outside the catalog is fine when described by hand
    assert gpu_node_pool({"vm_size": "Standard_NV99xyz_v9", "gpu_sku": {"gpu_model": "A10", "gpus": 1,
                                                                            "gpu_memory_gib": 24}}) == []
    assert [p.path for p in gpu_node_pool({"vm_size": "Standard_NV99xyz_v9"})] == ["vm_size"]


def test_an_a10_pool_keeps_the_aks_driver_the_gpu_operator_cannot_install_there():
    """AgentBaker installs a converged GRID driver on the A10 sizes ("installing vanilla cuda drivers will fail"),
    so the GPU Operator's datacenter driver is refused there, on catalog and hand-described sizes alike."""
    (problem,) = gpu_node_pool({"vm_size": "Standard_NV36ads_A10_v5", "driver": "operator"})
    assert problem.path == "driver" and "'aks' on Standard_NV36ads_A10_v5" in problem.allowed
    assert gpu_node_pool({"vm_size": "Standard_NV36ads_A10_v5", "driver": "aks"}) == []
    assert gpu_node_pool({"vm_size": "Standard_NC24ads_A100_v4", "driver": "operator"}) == []
    hand = {"vm_size": "Standard_NV18ads_A10_v5", "driver": "operator",
            "gpu_sku": {"gpu_model": "A10", "gpus": 1, "gpu_memory_gib": 12}}
    assert [p.path for p in gpu_node_pool(hand)] == ["driver"]


def test_a_fallback_pool_needs_the_priority_expander_of_its_cluster():
    args = {"vm_size": "Standard_NC4as_T4_v3", "fallback": {"enabled": True, "min_count": 0, "max_count": 1},
            "cluster": {"autoscaler_expander": "least-waste"}}
    assert [p.path for p in gpu_node_pool(args)] == ["fallback.enabled"]
    assert gpu_node_pool({**args, "cluster": {"autoscaler_expander": "priority"}}) == []


def test_llmd_rules_check_the_model_against_the_gpu():
    gpu = {"gpu_model": "A100", "gpus_per_node": 1, "gpu_memory_gib": 80, "rdma": False}
    ok = {"model": "Qwen/Qwen3-8B", "gpu": gpu, "key_vault": {"vault_name": "kv"}}
    assert llmd_stack(ok) == []
    assert [p.path for p in llmd_stack({**ok, "tensor_parallel_size": 2})] == ["tensor_parallel_size"]
    assert [p.path for p in llmd_stack({**ok, "prefill_decode": True})] == ["prefill_decode"]
    # a MIG pool's GPUs are instances, and vLLM's tensor parallelism spans whole GPUs
    mig = [p for p in llmd_stack({**ok, "gpu": {**gpu, "gpus_per_node": 2, "gpu_memory_gib": 40,
                                              "mig_profile": "MIG3g"}})]
    assert [(p.path, p.value) for p in mig] == [("gpu", "a pool with mig_profile MIG3g")]
    unknown = [p.path for p in llmd_stack({**ok, "model": "acme/secret-model"})]
    assert unknown == ["model_memory_gib", "max_model_len"]


def test_each_part_names_its_own_inputs_and_inference_stack_its_own():
    """One rule (Open-WebUI's max replicas at least its minimum), two names: the part's, and InferenceStack's for the
    input it hands the part."""
    part = open_webui({"replicas": 3, "max_replicas": 2})
    assert [p.sentence() for p in part] == ["input max_replicas=2 is invalid; allowed: at least replicas (3)"]
    composite = inference_stack({"webui_replicas": 3, "webui_max_replicas": 2})
    assert [p.sentence() for p in composite] == [
        "input webui_max_replicas=2 is invalid; allowed: at least webui_replicas (3)"]
    assert "webui_max_replicas" in composite.declared and "max_replicas" not in composite.declared
    # InferenceStack's `replicas` are Ollama's (0-100), never the gate's (1-20)
    assert [p.path for p in api_gate({"replicas": 50})] == ["replicas"]
    assert inference_stack({"replicas": 50}) == [] and inference_stack({"replicas": 0}) == []
    # a rule every part applies to an input InferenceStack hands all three is named once
    assert [p.path for p in inference_stack({"request_timeout_seconds": 0})] == ["request_timeout_seconds"]


def test_ollama_extra_env_may_not_set_what_the_component_sets():
    """Ollama takes its settings only from the environment: a variable the Deployment sets from an input (or for
    its read-only store) would silently override that input, so extra_env refuses each of them."""
    managed = sorted(ollama_env("/models", 2, "30m", 1))
    for variable in managed:
        found = ollama_server({"extra_env": {variable: "x"}})
        assert [(p.path, p.value) for p in found] == [("extra_env", [variable])], variable
    assert ollama_server({"extra_env": {"OLLAMA_CONTEXT_LENGTH": "8192", "OLLAMA_FLASH_ATTENTION": "1"}}) == []
    # once context_length is given the component sets OLLAMA_CONTEXT_LENGTH: extra_env's would override it silently
    both = ollama_server({"context_length": 32768, "extra_env": {"OLLAMA_CONTEXT_LENGTH": "8192"}})
    assert [(p.path, p.value) for p in both] == [("extra_env", ["OLLAMA_CONTEXT_LENGTH"])], both
    assert ollama_server({"context_length": 32768}) == []
    for wrong in (0, 511, 1048577, True, "32768", 8192.5):
        assert [(p.path, p.value) for p in ollama_server({"context_length": wrong})] == [("context_length", wrong)]
    bad = ollama_server({"extra_env": {"OLLAMA CONTEXT": "1", "OK": 1}})  # not a name; not a string value
    assert [p.value for p in bad] == [["OK", "OLLAMA CONTEXT"]]  # each name, not the value (it may be a secret)


def test_open_webui_extra_env_takes_plain_settings_and_secret_env_the_key_vault_ones():
    """Open-WebUI 0.11.0 reads its settings from the environment: extra_env may not override what the component sets
    (for either endpoint kind), nor carry a secret (a name ending like one of upstream's secret settings, or a URL
    with a password: those belong in Key Vault, named in secret_env)."""
    from llmplatform.input_rules import MANAGED_WEBUI_ENV
    assert {"ENABLE_SIGNUP", "DEFAULT_USER_ROLE", "BYPASS_MODEL_ACCESS_CONTROL", "WEBUI_ADMIN_PASSWORD",
            "ENABLE_PERSISTENT_CONFIG", "OLLAMA_BASE_URL", "OPENAI_API_BASE_URL", "DATABASE_URL",
            "WEBSOCKET_REDIS_URL", "ENABLE_DB_MIGRATIONS"} <= set(MANAGED_WEBUI_ENV)
    for variable in MANAGED_WEBUI_ENV:
        for key in ("extra_env", "secret_env"):
            assert [(p.path, p.value) for p in open_webui({key: {variable: "x"}})
                    if "which the component sets" in p.allowed] == [(key, [variable])], (key, variable)
    plain = {"WEBUI_URL": "https://chat.example.com", "ENABLE_LOGIN_FORM": "false", "ENABLE_API_KEYS": "true",
             "MICROSOFT_CLIENT_ID": "0000", "OAUTH_MERGE_ACCOUNTS_BY_EMAIL": "true"}
    assert open_webui({"extra_env": plain, "secret_env": {"MICROSOFT_CLIENT_SECRET": "webui-entra-secret"}}) == []
    # upstream's secret settings, by name, and a credential inside a URL (OPENAI_API_KEYS, read in place of the
    # component's OPENAI_API_KEY, is refused for that: test_open_webui.py)
    for name, value in (("MICROSOFT_CLIENT_SECRET", "s"), ("AUDIO_STT_AZURE_API_KEY", "k"), ("LDAP_APP_PASSWORD", "p"),
                        ("PGPASSWORD", "p"), ("SCIM_TOKEN", "t"), ("GOOGLE_APPLICATION_CREDENTIALS_JSON", "{}"),
                        ("ELASTICSEARCH_URL", "https://elastic:hunter2@search:9200")):
        found = open_webui({"extra_env": {name: value}})
        assert [(p.path, p.value) for p in found] == [("extra_env", [name])], name
        assert "name its secret in {secret_env}" in found[0].allowed
    # as InferenceStack hands them over, named by its own inputs
    composite = inference_stack({"webui_extra_env": {"OAUTH_CLIENT_SECRET": "s"}, "webui_default_user_role": "admin"})
    assert [(p.path, p.value) for p in composite] == [("webui_default_user_role", "admin"),
                                                      ("webui_extra_env", ["OAUTH_CLIENT_SECRET"])]
    assert composite[1].sentence().endswith("put the value in Key Vault and name its secret in webui_secret_env")
    pasted = "Abc~8Q~fake.client.secret_value"  # a client secret where its Key Vault secret's name belongs
    bad = open_webui({"secret_env": {"A": "not a name!", "B": "s", "C": "s", "D": pasted, "E": pasted},
                      "extra_env": {"B": "x"}})
    assert [(p.value, p.allowed.split(" (")[0]) for p in bad] == [
        (["A", "D", "E"], "environment variable names mapped to Key Vault secret names"),
        (["B"], "variables not also in {extra_env}"), (["s"], "one variable per Key Vault secret")]
    assert not [p for p in bad if pasted in p.sentence() or "not a name!" in p.sentence()]
    # a credential under a variable name that is no name: refused by the name, the value (a DSN, a key) not shown
    found = open_webui({"extra_env": {"DATABASE-URL": "postgres://app:hunter2@db/app", "OPENAI API KEY": "sk-live-x"}})
    assert found[0].value == ["DATABASE-URL", "OPENAI API KEY"]
    assert not [p for p in found if "hunter2" in p.sentence() or "sk-live" in p.sentence()], found


def test_open_webui_users_and_models_inputs():
    assert open_webui({"model_access": "granted", "enable_signup": True, "default_user_role": "user",
                       "admin_email": "ops@example.com"}) == []
    found = open_webui({"model_access": "public", "enable_signup": "yes", "default_user_role": "admin",
                        "admin_email": "ops"})
    assert [(p.path, p.allowed) for p in found] == [
        ("model_access", "all, granted"), ("enable_signup", "true or false"), ("default_user_role", "pending, user"),
        ("admin_email", "an e-mail address a browser's e-mail field takes, like ops@example.com or admin@localhost")]
    # Open-WebUI's own no-auth admin is admin@localhost (routers/auths.py signin): its sign-in field takes it
    assert open_webui({"admin_email": "admin@localhost"}) == []


def test_a_gate_or_a_ui_fronts_only_an_api_it_knows():
    for rule in (api_gate, open_webui):
        assert rule({"endpoint": {"api": "ollama"}}) == [] and rule({"endpoint": {"api": "openai"}}) == []
        assert [(p.path, p.value) for p in rule({"endpoint": {"api": "grpc"}})] == [("endpoint.api", "grpc")]


def test_the_gate_cpu_limit_is_one_nginx_counts_cores_from():
    res = {"cpu_request": "100m", "memory_request": "64Mi", "memory_limit": "256Mi"}
    for good in ("1", "2", "1500m", "0.5"):
        assert api_gate({"resources": {**res, "cpu_limit": good}}) == [], good
    for bad in ("2k", "1Gi"):  # Kubernetes quantities, but not cores nor millicores
        assert [p.path for p in api_gate({"resources": {**res, "cpu_limit": bad}})] == ["resources.cpu_limit"], bad
    assert [p.path for p in api_gate({"resources": {**res, "cpu_limit": "lots"}})] == ["resources.cpu_limit"]


def test_open_webui_hpa_targets_are_percents():
    assert open_webui({"cpu_target_percent": 100, "memory_target_percent": 1}) == []
    found = open_webui({"cpu_target_percent": 0, "memory_target_percent": 101})
    assert [p.path for p in found] == ["cpu_target_percent", "memory_target_percent"]


def test_a_gpu_pool_may_not_take_the_cpu_pools_label_value():
    args = {"vm_size": "Standard_NC4as_T4_v3"}
    assert gpu_node_pool({**args, "pool_name": "gpua"}) == []
    assert [(p.path, p.value) for p in gpu_node_pool({**args, "pool_name": "cpu"})] == [("pool_name", "cpu")]


def test_behind_keda_the_gate_waits_the_answer_and_the_cold_start_together():
    """InferenceStack hands its gate request_timeout_seconds + cold_start_timeout_seconds (the interceptor holds a
    request while a replica starts): the sum is refused where the gate would refuse it, before anything registers."""
    args = {"request_timeout_seconds": 80000, "cold_start_timeout_seconds": 7000}
    assert inference_stack(args) == []  # without keda the cold start is not waited for
    found = inference_stack({**args, "keda": {"namespace": "keda"}})
    assert [(p.path, p.value) for p in found] == [("cold_start_timeout_seconds", 7000)]
    assert [p.path for p in api_gate({"request_timeout_seconds": 87000})] == ["request_timeout_seconds"]


def test_model_store_takes_any_ollama_name_each_once_and_sizes_of_its_own_models():
    base = {"account_name": "llmpstore", "namespace": "llm"}
    hf = "hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M"
    assert model_store({**base, "models": ["gpt-oss", hf], "model_sizes_gib": {hf: 0.8, "gpt-oss": 14}}) == []
    # Ollama's grammar (types/model/name.go), not a lowercase pattern: the model part of a GGUF repo has capitals
    assert [p.path for p in model_store({**base, "models": ["tiny llama", "ok:1b"]})] == ["models[0]"]
    # one model under two spellings Ollama stores once
    twice = model_store({**base, "models": ["gpt-oss", "registry.ollama.ai/library/gpt-oss:latest"]})
    assert [(p.path, p.allowed) for p in twice] == [("models", "each model once")]
    bad = model_store({**base, "models": [hf], "model_sizes_gib": {hf: 0, "other": 1.0}})
    assert [p.path for p in bad] == [f"model_sizes_gib[{hf!r}]", "model_sizes_gib['other']"]


def test_a_model_server_floor_names_a_namespace_the_alerts_watch():
    """Observability's model_server_min_replicas shortens the waits of OllamaDown, VllmDown and ModelServerDown,
    which select by namespace: a floor for a namespace none of them watches would shorten nothing (a typo keeps the
    cold-start wait); a negative or fractional floor is no replica count."""
    observability = RULES["Observability"]
    base = {"app_namespace": "llm", "vllm_namespaces": ["llm-d"], "other_app_namespaces": ["team"]}
    assert observability({**base, "model_server_min_replicas": {"llm": 2, "llm-d": 0, "team": 1}}) == []
    (problem,) = observability({**base, "model_server_min_replicas": {"lm": 2}})
    assert problem.path == "model_server_min_replicas['lm']" and "'llm', 'team', 'llm-d'" in problem.allowed
    (problem,) = observability({**base, "model_server_min_replicas": {"llm": -1}})
    assert problem.path == "model_server_min_replicas['llm']" and "0 or more" in problem.allowed


def test_gateway_and_llmd_inputs_refuse_what_lets_encrypt_and_huggingface_hub_refuse():
    from llmplatform.input_rules import gateway_access
    tls = {"tls_mode": "letsencrypt", "tls_hostname": "llm.corp.example.com", "tls_email": "ops@corp.example.com"}
    assert gateway_access(tls) == []
    assert gateway_access({**tls, "tls_hostname": "llm.xn--p1ai"}) == []  # an IDN TLD: refused before
    bad = gateway_access({**tls, "tls_hostname": "llm.internal", "tls_email": "o..ps@corp.example.com"})
    assert [p.path for p in bad] == ["tls_hostname", "tls_email"]
    assert ".internal is no public top-level domain" in bad[0].sentence()
    gpu = {"gpu_model": "A100", "gpus_per_node": 1, "gpu_memory_gib": 80, "rdma": False}
    ok = {"model": "Qwen/Qwen3-8B", "gpu": gpu, "key_vault": {"vault_name": "kv"}}
    assert [p.path for p in llmd_stack({**ok, "model": "Qwen/Qwen3-8B-"})] == ["model"]
    [label] = [p for p in llmd_stack({**ok, "model": "acme/" + "m" * 64, "model_memory_gib": 10,
                                      "max_model_len": 4096})]
    assert label.path == "model" and "llm-d.ai/model" in label.sentence()


def test_an_llmd_image_a_container_runtime_cannot_parse_is_refused():
    gpu = {"gpu_model": "A100", "gpus_per_node": 1, "gpu_memory_gib": 80, "rdma": False}
    ok = {"model": "Qwen/Qwen3-8B", "gpu": gpu, "key_vault": {"vault_name": "kv"}}
    assert llmd_stack({**ok, "vllm_image": "my.registry.io/team/vllm-openai:v0.10.0"}) == []
    [wrong] = llmd_stack({**ok, "vllm_image": "my.registry.io/Team/vllm-openai:v0.10.0"})
    assert wrong.path == "vllm_image" and "the path in lower case" in wrong.sentence()
    # the runtime holds the path, not the registry with it, to 255 (distribution/reference reference.go `Parse`)
    assert llmd_stack({**ok, "vllm_image": "my.registry.io/team/" + "v" * 250 + ":v0.10.0"}) == []
    [wrong] = llmd_stack({**ok, "vllm_image": "my.registry.io/team/" + "v" * 251 + ":v0.10.0"})
    assert wrong.path == "vllm_image" and "the path in lower case, at most 255 characters" in wrong.sentence()


def test_an_llmd_image_with_a_long_path_under_a_registry_reaches_the_pod():
    """LlmdStack took a reference's registry into the runtime's 255 (the path's alone): a 250-character path under a
    registry host, which the kubelet pulls, stopped the program with a ComponentInputError."""
    import llmplatform
    from offline import runner as offline
    from tests.components.test_components_alone import REQUIRED, provider_opts
    image = "my.registry.io/team/" + "v" * 250 + ":v0.10.0"

    def program():
        llmplatform.LlmdStack("long", {**REQUIRED["LlmdStack"](), "vllm_image": image}, provider_opts())
    plan = offline.run_function(program)
    containers = [c for r in plan.kubernetes_objects() if r.inputs["kind"] == "Deployment"
                  for c in r.inputs["spec"]["template"]["spec"]["containers"]]
    assert image in [c["image"] for c in containers]

def test_an_https_origin_is_named_as_its_regions_certificate_is():
    """Front Door's HTTPS origin is a region's gateway.tls.hostname, whose certificate Let's Encrypt issues: the same
    rule (an IDN TLD taken, a private one refused), not a narrower pattern of its own."""
    from llmplatform.input_rules import global_endpoint

    def host_problems(host):
        found = global_endpoint({"origin_protocol": "Https", "origins": [{"name": "weu", "host": host}]})
        return [p for p in found if p.path.endswith("host")]
    assert host_problems("weu.llm.xn--p1ai") == [] and host_problems("weu.llm.example.com") == []
    [wrong] = host_problems("weu.llm.internal")
    assert ".internal is no public top-level domain" in wrong.sentence()


def test_a_service_account_name_is_what_the_api_server_takes():
    from llmplatform.input_rules import workload_identity
    assert workload_identity({"service_account_name": "llm.reader"}) == []
    assert [p.path for p in workload_identity({"service_account_name": "llm..reader"})] == ["service_account_name"]
