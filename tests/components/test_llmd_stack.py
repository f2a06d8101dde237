"""LlmdStack (components/llmplatform/llmd_stack.py) in the llmd stack: vLLM on the A100 pool, the llm-d router chart,
routes to the InferencePool, and no way to the model that skips the API key and the rate limit."""

from typing import Any

import pulumi
import pytest
import yaml
from llmplatform.llmd_specs import epp_plugins, image_is_pinned, router_values
from llmplatform.pins import VLLM_IMAGE

from offline import runner as offline

from tests.conftest import upstream_dir, variant
from tests.istio_gateway import IstioRefusal, api_server_refusal, generated_service, plan_services
from tests.validation import chart_values, unknown_values_keys


NS = "llm-d"


@pytest.fixture(scope="module")
def llmd():
    return variant("llmd")


def obj(plan, kind, name):
    found = [r for r in plan.kubernetes_objects() if r.inputs["kind"] == kind and r.inputs["metadata"]["name"] == name
             and r.inputs["metadata"].get("namespace") == NS]
    assert len(found) == 1, f"{kind} {name}"
    return found[0]


def depends_on(plan, reg, target_urn) -> bool:
    """Whether reg waits for target (directly or through what it waits for)."""
    return plan.waits_for(reg, lambda dep: dep.urn == target_urn)


def epp_pod_labels():
    """routerlib's common and selector labels of the EPP pods (templates/_helpers.tpl, v0.10.0, release llmd)."""
    return {"app.kubernetes.io/name": "llmd-epp", "llm-d-router-gateway": "llmd-epp"}


def recipe(name):
    return yaml.safe_load((upstream_dir() / "recipes" / name).read_text())["router"]


def guide_scaled_object():
    return yaml.safe_load((upstream_dir() / "recipes" / "keda-epp-queue-scaledobject.yaml").read_text())["spec"]


def rendered_inference_pool(release: str, namespace: str, values: dict) -> dict:
    """The InferencePool the chart renders from our values: tests/admission.py `release_objects`, a transcription of
    routerlib's templates/_inferencepool.yaml (llm-d/llm-d-router v0.10.0), so the pool we cause is checked against
    its CRD."""
    from tests.admission import release_objects
    inputs = {"chart": "llm-d-router-gateway", "name": release, "namespace": namespace, "values": values}
    return next(o for o in release_objects(inputs) if o["kind"] == "InferencePool")


def test_vllm_runs_on_the_gpu_pool_with_gpus_shm_probes_and_a_bounded_cache(llmd):
    dep = obj(llmd, "Deployment", "vllm")
    pod = dep.inputs["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert container["image"] == VLLM_IMAGE and image_is_pinned(container["image"])  # the pin: a bump changes it
    assert container["args"][:2] == ["serve", "Qwen/Qwen3-8B"] and "--tensor-parallel-size" in container["args"]
    assert container["resources"]["limits"]["nvidia.com/gpu"] == "1"
    assert pod["nodeSelector"] == {"llm-platform/pool": "gpu"}
    assert {t["key"] for t in pod["tolerations"]} == {"nvidia.com/gpu", "kubernetes.azure.com/scalesetpriority"}
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes["shm"]["emptyDir"]["medium"] == "Memory" and volumes["models-cache"]["emptyDir"]["sizeLimit"]
    startup = container["startupProbe"]
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 1800  # a model download fits before liveness
    assert container["securityContext"]["capabilities"]["drop"] == ["ALL"]
    labels = dep.inputs["spec"]["template"]["metadata"]["labels"]
    assert labels["llm-d.ai/inferenceServing"] == "true" and labels["llm-d.ai/model"] == "qwen3-8b"


def test_router_chart_is_pinned_sized_and_wired_to_the_model_servers(llmd):
    [release] = [r for r in llmd.helm_releases() if r.inputs["chart"].endswith("llm-d-router-gateway")]
    assert release.inputs["chart"] == "oci://ghcr.io/llm-d/charts/llm-d-router-gateway"
    assert release.inputs["version"] == "v0.10.0" and release.inputs["namespace"] == NS
    values = release.inputs["values"]
    epp = values["router"]["epp"]
    assert epp["image"] == {"registry": "ghcr.io", "repository": "llm-d/llm-d-router-endpoint-picker",
                            "tag": "v0.10.0", "pullPolicy": "IfNotPresent"}
    assert values["provider"]["name"] == "istio" and values["httpRoute"]["create"] is False
    servers = values["router"]["modelServers"]
    assert servers["matchLabels"] == {"llm-d.ai/inferenceServing": "true", "llm-d.ai/model": "qwen3-8b"}
    assert servers["targetPorts"] == [{"number": 8000}] and servers["type"] == "vllm"
    # the release waits for the vLLM Deployment (the pool selects its pods)
    vllm = obj(llmd, "Deployment", "vllm")
    assert vllm.urn in release.dependencies


def test_epp_is_sized_and_replicated_as_the_router_recipe_on_nodes_it_fits(llmd):
    [release] = [r for r in llmd.helm_releases() if r.inputs["chart"].endswith("llm-d-router-gateway")]
    epp = release.inputs["values"]["router"]["epp"]
    assert epp["resources"] == recipe("llm-d-router-base.values.yaml")["epp"]["resources"]
    # above one replica the chart adds --ha-enable-leader-election and the leases Role (routerlib _deployment.yaml)
    assert epp["replicas"] == 2
    spread = epp["affinity"]["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"][0]
    assert spread["podAffinityTerm"]["labelSelector"]["matchLabels"] == {"llm-d-router-gateway": "llmd-epp"}
    assert epp["affinity"]["nodeAffinity"]  # still on the CPU pool
    from offline import capacity
    assert capacity.idle_capacity(llmd).problems == []  # two 4-CPU pickers fit the llmd stack's CPU pool
    # leader-elected pickers are Ready only while leading (cmd/epp/runner/health.go, v0.10.0): a budget counted on
    # Ready pods would never allow evicting the leader, so no budget may select them
    budgets = [r.inputs["spec"]["selector"]["matchLabels"] for r in llmd.kubernetes_objects()
               if r.inputs["kind"] == "PodDisruptionBudget" and r.inputs["metadata"].get("namespace") == NS]
    assert {"app.kubernetes.io/name": "vllm"} in budgets
    assert not [b for b in budgets if b.items() <= epp_pod_labels().items()]


def test_router_config_is_the_optimized_baseline_of_the_pinned_router_matched_over_vllms_context(llmd):
    [release] = [r for r in llmd.helm_releases() if r.inputs["chart"].endswith("llm-d-router-gateway")]
    epp = release.inputs["values"]["router"]["epp"]
    ours = yaml.safe_load(epp["pluginsCustomConfig"][epp["pluginsConfigFile"]])
    upstream_epp = recipe("llm-d-router-optimized-baseline.yaml")["epp"]
    theirs = yaml.safe_load(upstream_epp["pluginsCustomConfig"][upstream_epp["pluginsConfigFile"]])
    assert epp["pluginsConfigFile"] == upstream_epp["pluginsConfigFile"]
    assert [p["type"] for p in ours["plugins"]] == [p["type"] for p in theirs["plugins"]]
    assert ours["schedulingProfiles"] == theirs["schedulingProfiles"] and ours["apiVersion"] == theirs["apiVersion"]
    # the recipe's 100000 becomes the context vLLM accepts
    args = obj(llmd, "Deployment", "vllm").inputs["spec"]["template"]["spec"]["containers"][0]["args"]
    [producer] = [p for p in ours["plugins"] if p["type"] == "approx-prefix-cache-producer"]
    assert producer["parameters"]["maxPrefixTokensToMatch"] == int(args[args.index("--max-model-len") + 1]) == 40960
    assert "featureGates" not in yaml.safe_load(epp_plugins(4096))  # flow control comes with autoscaling alone


def test_vllm_scales_with_keda_on_the_guides_signals_with_flow_control_holding_requests(llmd):
    scaler = obj(llmd, "ScaledObject", "vllm").inputs["spec"]
    guide = guide_scaled_object()
    config = offline.stack_config("llmd")["aks-llm-platform:llmd"]
    assert scaler["scaleTargetRef"] == {**guide["scaleTargetRef"], "name": "vllm"}
    assert (scaler["minReplicaCount"], scaler["maxReplicaCount"]) == (config["minReplicas"], config["maxReplicas"])
    behavior = scaler["advanced"]["horizontalPodAutoscalerConfig"]["behavior"]
    upstream = guide["advanced"]["horizontalPodAutoscalerConfig"]["behavior"]
    assert behavior["scaleUp"]["policies"] == upstream["scaleUp"]["policies"]
    assert behavior["scaleUp"]["stabilizationWindowSeconds"] == config["scaleUpStabilizationSeconds"]
    assert behavior["scaleDown"]["stabilizationWindowSeconds"] == config["scaleDownStabilizationSeconds"]
    assert scaler["cooldownPeriod"] == config["scaleDownStabilizationSeconds"]
    # the guide's triggers, its labels filled in for this stack: the EPP Service the chart names <release>-epp
    prometheus = llmd.one("kubernetes:helm.sh/v3:Release", "observability-kube-prometheus-stack")
    for ours, theirs in zip(scaler["triggers"], guide["triggers"], strict=True):
        assert {k: ours[k] for k in ("type", "name", "metricType")} == {k: theirs[k] for k in ours if k != "metadata"}
        assert ours["metadata"]["threshold"] == theirs["metadata"]["threshold"]
        expected = (theirs["metadata"]["query"].replace("${NAMESPACE}", NS).replace("${EPP_SERVICE}", "llmd-epp")
                    .replace(',model_name="${MODEL}"', ""))  # one model per pool: the pool's series is the model's
        assert ours["metadata"]["query"] == expected
        assert ours["metadata"]["serverAddress"].startswith("http://kps-prometheus.monitoring.svc")
    assert prometheus.inputs["namespace"] == "monitoring"
    # Prometheus scrapes that Service: our ServiceMonitor selects the chart's EPP Service by its name label
    monitor = obj(llmd, "ServiceMonitor", "llmd-epp").inputs["spec"]
    assert monitor["selector"]["matchLabels"] == {"app.kubernetes.io/name": "llmd-epp"}
    # the guide's signals come from flow control, on in the picker, holding requests as long as the gateways wait
    [release] = [r for r in llmd.helm_releases() if r.inputs["chart"].endswith("llm-d-router-gateway")]
    epp = release.inputs["values"]["router"]["epp"]
    plugins = yaml.safe_load(epp["pluginsCustomConfig"][epp["pluginsConfigFile"]])
    assert plugins["featureGates"] == ["flowControl"]
    gateway_wait = obj(llmd, "HTTPRoute", "llmd-pool").inputs["spec"]["rules"][0]["timeouts"]["request"]
    assert plugins["flowControl"]["defaultRequestTTL"] == gateway_wait == "600s"
    # the HPA KEDA generates owns the replica count: Pulumi leaves it alone
    assert "spec.replicas" in obj(llmd, "Deployment", "vllm").options["ignoreChanges"]


def test_scale_to_zero_where_the_picker_holds_requests_and_refused_where_it_cannot():
    import llmplatform
    from llmplatform.checks import ComponentInputError
    from llmplatform.llmd_specs import holds_requests_at_zero
    from tests.components.test_components_alone import KEDA, REQUIRED, provider_opts

    def stack(**extra):
        return lambda: llmplatform.LlmdStack("z", {**REQUIRED["LlmdStack"](), "autoscaling": True, "min_replicas": 0,
                                                   "keda": KEDA, **extra}, provider_opts())
    plan = offline.run_function(stack())
    scaler = next(r.inputs["spec"] for r in plan.kubernetes_objects() if r.inputs["kind"] == "ScaledObject")
    assert scaler["minReplicaCount"] == 0 and scaler["triggers"][0]["name"] == "epp-queue-size"
    older = "ghcr.io/llm-d/llm-d-router-endpoint-picker:v0.9.2"
    assert holds_requests_at_zero("ghcr.io/llm-d/llm-d-router-endpoint-picker:v0.10.0")
    assert not holds_requests_at_zero(older) and not holds_requests_at_zero(older + "-rc.1")
    with pytest.raises(ComponentInputError, match="min_replicas=0.*holds requests"):
        offline.run_function(stack(epp_image=older))
    with pytest.raises(ComponentInputError, match="keda=None"):
        offline.run_function(stack(keda=None))
    with pytest.raises(ComponentInputError, match="metrics=False"):
        offline.run_function(stack(metrics=False))


def test_values_checker_now_checks_below_null_and_documented_keys():
    values = chart_values(upstream_dir() / "charts" / "llm-d-router-gateway")
    good = router_values("ghcr.io/llm-d/llm-d-router-endpoint-picker:v0.10.0", {"a": "b"}, {}, "FailOpen",
                         plugins=epp_plugins(4096), epp_replicas=2)
    assert list(unknown_values_keys(good, values)) == [] and "tolerations" not in good["router"]["epp"]
    spot = [{"key": "kubernetes.azure.com/scalesetpriority", "operator": "Equal", "value": "spot",
             "effect": "NoSchedule"}]
    on_spot = router_values("ghcr.io/llm-d/llm-d-router-endpoint-picker:v0.10.0", {"a": "b"}, {}, "FailOpen", spot)
    assert on_spot["router"]["epp"]["tolerations"] == spot and list(unknown_values_keys(on_spot, values)) == []
    typo = {"router": {"modelServers": {"matchLable": {"a": "b"}}, "epp": {"flagz": {}}}}
    assert sorted(unknown_values_keys(typo, values)) == ["router.epp.flagz", "router.modelServers.matchLable"]
    # subchart values are addressed by the parent's alias (router), not the subchart's own name
    assert list(unknown_values_keys({"routerlib": {"epp": {}}}, values)) == ["routerlib"]


def test_the_pool_is_reached_only_through_the_key_and_rate_limit_router(llmd):
    from tests.components.test_api_gate import router_conf
    conf = router_conf(llmd, NS)
    assert "return 401" in conf and "limit_req_status 429" in conf and "server llmd-gateway-istio:80" in conf
    # the platform Gateway's llmd listener leads to the router, never straight to the pool
    api = obj(llmd, "HTTPRoute", "llmd-api").inputs["spec"]
    assert [b["name"] for r in api["rules"] for b in r["backendRefs"]] == ["router"]
    assert {p["sectionName"] for p in api["parentRefs"]} == {"llmd"}
    assert [p["name"] for p in api["parentRefs"]] == ["internal-gateway"]  # internal only by default
    # the only route to the InferencePool hangs on the stack's own ClusterIP gateway
    pool_routes = [r for r in llmd.of_type("kubernetes:gateway.networking.k8s.io/v1:HTTPRoute")
                   if any(b.get("kind") == "InferencePool" for rule in r.inputs["spec"]["rules"]
                          for b in rule["backendRefs"])]
    assert len(pool_routes) == 1
    route = pool_routes[0].inputs["spec"]
    assert route["parentRefs"] == [{"name": "llmd-gateway", "sectionName": "http"}]
    assert route["rules"][0]["backendRefs"] == [{"group": "inference.networking.k8s.io", "kind": "InferencePool",
                                                 "name": "llmd"}]
    # (the Service Istio generates for that gateway is ClusterIP: test_the_pool_gateway_service_istio_generates_...)
    # ... and NetworkPolicy lets only the router reach that gateway, only it / the picker / monitoring reach vLLM
    gw_policy = obj(llmd, "NetworkPolicy", "pool-gateway-ingress").inputs["spec"]["ingress"]
    assert gw_policy[0]["from"] == [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "router"}}}]
    vllm_policy = obj(llmd, "NetworkPolicy", "vllm-ingress").inputs["spec"]["ingress"]
    sources = [peer for rule in vllm_policy for peer in rule["from"]]
    assert {"podSelector": {"matchLabels": {"gateway.networking.k8s.io/gateway-name": "llmd-gateway"}}} in sources
    assert all("podSelector" in p or p["namespaceSelector"]["matchLabels"] == {
        "kubernetes.io/metadata.name": "monitoring"} for p in sources)
    assert obj(llmd, "NetworkPolicy", "default-deny").inputs["spec"]["policyTypes"] == ["Ingress"]


def test_the_pool_gateway_service_istio_generates_is_cluster_ip_and_accepted(llmd):
    services = plan_services(llmd)
    pool = services["llmd-gateway"]
    assert pool["metadata"]["name"] == "llmd-gateway-istio"  # the router's upstream host
    assert pool["spec"]["type"] == "ClusterIP"
    assert [p["port"] for p in pool["spec"]["ports"]] == [15021, 80]
    # the class-wide externalTrafficPolicy (for the platform's load balancers) is removed for this gateway alone
    assert "externalTrafficPolicy" not in pool["spec"] and api_server_refusal(pool) is None
    assert {name: s["spec"]["externalTrafficPolicy"] for name, s in services.items() if name != "llmd-gateway"} == {
        "internal-gateway": "Local", "external-gateway": "Local"}
    assert all(api_server_refusal(s) is None for s in services.values())


def test_no_public_ip_in_the_llmd_plan_beyond_the_platform_gateways(llmd):
    """A LoadBalancer Service without the internal annotation gets an Azure public IP: each one must be the
    platform's external gateway on its planned, costed address."""
    pips = {r.inputs.get("publicIpAddressName") for r in llmd.of_type("azure-native:network:PublicIPAddress")}
    public = {}
    for name, service in plan_services(llmd).items():
        annotations = service["metadata"]["annotations"]
        if service["spec"]["type"] == "LoadBalancer" and \
                annotations.get("service.beta.kubernetes.io/azure-load-balancer-internal") != "true":
            public[name] = annotations.get("service.beta.kubernetes.io/azure-pip-name")
    assert list(public) == ["external-gateway"] and public["external-gateway"] in pips
    # and no Service of the program's own asks Azure for one
    assert not [r.inputs["metadata"]["name"] for r in llmd.kubernetes_objects() if r.inputs["kind"] == "Service"
                and r.inputs["spec"].get("type") == "LoadBalancer"]


def test_istio_model_sees_the_defects_it_guards_against(llmd):
    """The derivation is not a mirror of our settings: the previous Gateway (service type under
    spec.infrastructure.annotations) came out a public load balancer, and the annotation alone a refused Service."""
    gateway = obj(llmd, "Gateway", "llmd-gateway").inputs
    istiod = llmd.one("kubernetes:helm.sh/v3:Release", "gateway-istiod").inputs["values"]
    params = obj(llmd, "ConfigMap", "llmd-gateway-params").inputs["data"]
    old = {"metadata": {"name": "llmd-gateway", "namespace": NS},
           "spec": {**gateway["spec"], "infrastructure": {"annotations": {
               "networking.istio.io/service-type": "ClusterIP"}}}}
    service = generated_service(old, istiod, {})
    assert service["spec"]["type"] == "LoadBalancer" and \
        "service.beta.kubernetes.io/azure-load-balancer-internal" not in service["metadata"]["annotations"]
    annotation_only = {"metadata": gateway["metadata"], "spec": {**gateway["spec"], "infrastructure": {}}}
    assert "externalTrafficPolicy" in api_server_refusal(generated_service(annotation_only, istiod, {}))
    with pytest.raises(IstioRefusal, match="does not exist"):  # the ConfigMap must be in the Gateway's namespace
        generated_service(gateway, istiod, {("other", "llmd-gateway-params"): params})
    gw = llmd.one("kubernetes:gateway.networking.k8s.io/v1:Gateway", "llmd-pool-gateway")
    assert obj(llmd, "ConfigMap", "llmd-gateway-params").urn in gw.dependencies


def test_ordering_crds_and_istio_flag_before_pools_and_operator_before_vllm(llmd):
    istiod = llmd.one("kubernetes:helm.sh/v3:Release", "gateway-istiod")
    crds = llmd.one("kubernetes:yaml/v2:ConfigFile", "gateway-inference-extension-crds")
    assert crds.inputs["file"].endswith("/v1.6.0/manifests.yaml")
    assert crds.urn in istiod.dependencies
    assert istiod.inputs["values"]["env"] == {"ENABLE_GATEWAY_API_INFERENCE_EXTENSION": "true"}
    operator = llmd.one("kubernetes:helm.sh/v3:Release", "platform-k8s-gpu-operator")  # one per cluster
    assert depends_on(llmd, obj(llmd, "Deployment", "vllm"), operator.urn)
    for kind, name in (("Gateway", "llmd-gateway"), ("HTTPRoute", "llmd-pool"), ("HTTPRoute", "llmd-api"),
                       ("PodMonitor", "vllm"), ("ServiceMonitor", "llmd-epp")):
        reg = obj(llmd, kind, name)
        assert depends_on(llmd, reg, crds.urn) or kind.endswith("Monitor"), (kind, name)
    stack = llmd.one("kubernetes:helm.sh/v3:Release", "observability-kube-prometheus-stack")
    assert llmd.by_urn(stack.urn) is not None  # the monitors' CRDs come with kube-prometheus-stack


def test_llmd_outputs_and_vllm_dashboard(llmd):
    assert llmd.outputs["llmdUrl"] == "http://10.40.15.250:8000" and llmd.outputs["llmdModel"] == "qwen3-8b"
    assert any(r.inputs["metadata"]["name"] == "dashboard-vllm" for r in llmd.of_type("kubernetes:core/v1:ConfigMap"))


def test_prefill_decode_alone_makes_the_namespace_privileged():
    """IPC_LOCK (NIXL pins memory) is above Pod Security baseline: only the P/D variant's namespace is privileged."""
    def enforced(plan):
        ns = next(r for r in plan.kubernetes_objects() if r.inputs["kind"] == "Namespace"
                  and r.inputs["metadata"]["name"] == NS)
        return ns.inputs["metadata"]["labels"]["pod-security.kubernetes.io/enforce"]
    pd = variant("llmd-pd")
    added = {c["name"]: c["securityContext"]["capabilities"].get("add") for r in pd.kubernetes_objects()
             if r.inputs["kind"] == "Deployment" and r.inputs["metadata"].get("namespace") == NS
             for c in r.inputs["spec"]["template"]["spec"]["containers"]}
    assert added["vllm"] == ["IPC_LOCK"] and enforced(pd) == "privileged"
    assert enforced(variant("llmd")) == "baseline"


def test_a_gated_models_token_reaches_vllm_as_a_file_only():
    import llmplatform
    from tests.components.test_components_alone import REQUIRED, provider_opts

    def program():
        llmplatform.LlmdStack("gated", {**REQUIRED["LlmdStack"](), "model": "meta-llama/Llama-3.1-8B-Instruct",
                                        "hf_token_secret": "hf-token-prod"}, provider_opts())
    plan = offline.run_function(program)
    pod = next(r for r in plan.kubernetes_objects() if r.inputs["kind"] == "Deployment"
               and r.inputs["metadata"]["name"] == "vllm").inputs["spec"]["template"]["spec"]
    container = pod["containers"][0]
    env = {e["name"]: e for e in container["env"]}
    # huggingface_hub reads the token from HF_TOKEN_PATH: no HF_TOKEN variable, no synced Kubernetes Secret
    assert "HF_TOKEN" not in env and env["HF_TOKEN_PATH"]["value"] == "/mnt/secrets-store/hf-token"
    assert {"name": "secrets-store", "mountPath": "/mnt/secrets-store", "readOnly": True} in container["volumeMounts"]
    spc = next(r.inputs for r in plan.kubernetes_objects() if r.inputs["kind"] == "SecretProviderClass"
               and r.inputs["metadata"]["name"] == "hf-token")
    assert "secretObjects" not in spc["spec"]
    assert "objectName: hf-token-prod" in spc["spec"]["parameters"]["objects"]
    assert "objectAlias: hf-token" in spc["spec"]["parameters"]["objects"]
    assert not [r for r in plan.kubernetes_objects() if r.inputs["kind"] == "Secret"]


def test_extra_vllm_args_and_env_reach_vllm_after_its_own_and_managed_ones_are_refused():
    import llmplatform
    from llmplatform.checks import ComponentInputError
    from tests.components.test_components_alone import REQUIRED, provider_opts

    def program(extra):
        return lambda: llmplatform.LlmdStack("tuned", {**REQUIRED["LlmdStack"](), **extra}, provider_opts())
    plan = offline.run_function(program({"extra_args": ["--max-num-seqs", "64"],
                                         "extra_env": {"VLLM_LOGGING_LEVEL": "DEBUG"}}))
    container = next(r for r in plan.kubernetes_objects() if r.inputs["kind"] == "Deployment"
                     and r.inputs["metadata"]["name"] == "vllm").inputs["spec"]["template"]["spec"]["containers"][0]
    assert container["args"][-2:] == ["--max-num-seqs", "64"] and container["args"][:2] == ["serve", "Qwen/Qwen3-8B"]
    assert {"name": "VLLM_LOGGING_LEVEL", "value": "DEBUG"} in container["env"]
    # vLLM's own parser: a flag given twice keeps the last, so a user's --port would silently move the server off
    # the port the InferencePool, probes and Service use; the component refuses what it sets itself
    with pytest.raises(ComponentInputError) as refused:
        offline.run_function(program({"extra_args": ["--port=9000"], "extra_env": {"HF_HOME": "/tmp"}}))
    assert {e["property_path"] for e in refused.value.errors} >= {"extra_args", "extra_env"}
    assert "--port" in str(refused.value) and "HF_HOME" in str(refused.value)


@pytest.mark.parametrize("args, refused", [
    # vLLM 0.19.1's parser: '_' read as '-' before the first '.', `--flag.key` one key of a JSON flag, an
    # unambiguous prefix (argparse's allow_abbrev), -tp; each reached vLLM and overrode what the component set
    (["--tensor_parallel_size", "4"], "--tensor_parallel_size"),
    (["-tp", "4"], "-tp"), (["-tp=4"], "-tp"),
    # argparse completes a single-dash prefix too: CPython 3.12.1 and 3.13.0 read `-t 4` as `-tp 4`
    (["-t", "4"], "-t"), (["-t=4"], "-t"),
    (["--served-model", "x"], "--served-model"),
    (["--kv-transfer-config.kv_role=kv_producer"], "--kv-transfer-config.kv_role"),
    (["--gpu_memory_utilization=0.99"], "--gpu_memory_utilization"),
    (["--max-model-len", "4096"], "--max-model-len"),
    # a credential in another spelling, and the download moved off the sized per-replica cache
    (["--hf_token", "hf_x"], "--hf_token"), (["--api-k=k"], "--api-k"),
    (["--download_dir", "/data"], "--download_dir"),
])
def test_a_flag_vllm_reads_as_one_the_component_owns_is_refused_in_any_spelling(args, refused):
    from llmplatform.input_rules import llmd_stack
    found = [p for p in llmd_stack({"extra_args": args}) if p.path == "extra_args"]
    assert [p.value for p in found] == [[refused]], found


def _llmd_refusal(extra: dict) -> Any:
    import llmplatform
    from llmplatform.checks import ComponentInputError
    from tests.components.test_components_alone import REQUIRED, provider_opts
    with pytest.raises(ComponentInputError) as refused:
        offline.run_function(lambda: llmplatform.LlmdStack("tuned", {**REQUIRED["LlmdStack"](), **extra},
                                                           provider_opts()))
    return refused.value


def _vllm_env(extra: dict) -> dict:
    import llmplatform
    from tests.components.test_components_alone import REQUIRED, provider_opts
    plan = offline.run_function(lambda: llmplatform.LlmdStack("tuned", {**REQUIRED["LlmdStack"](), **extra},
                                                              provider_opts()))
    container = next(r for r in plan.kubernetes_objects() if r.inputs["kind"] == "Deployment"
                     and r.inputs["metadata"]["name"] == "vllm").inputs["spec"]["template"]["spec"]["containers"][0]
    return {e["name"]: e.get("value") for e in container["env"]}


def test_a_single_dash_prefix_of_tp_is_refused_by_the_component():
    """argparse completes a single-dash option's prefix as it does a long one's: vLLM (CPython 3.12) read `-t 4` as
    `-tp 4` and served with 4-way tensor parallelism on the GPUs the component had requested for its own value."""
    refused = _llmd_refusal({"extra_args": ["--max-num-seqs", "64", "-t", "4"]})
    assert [e["property_path"] for e in refused.errors] == ["extra_args"], refused.errors
    assert "['-t']" in str(refused) and "-tp or -t" in str(refused), str(refused)


@pytest.mark.parametrize("value", ["true", "True", "TRUE"])
def test_vllm_told_to_download_from_modelscope_is_refused_by_the_component(value):
    """vLLM 0.19.1 (envs.py) reads VLLM_USE_MODELSCOPE as `.lower() == "true"`, and then downloads the model with
    modelscope's snapshot_download (weight_utils.py maybe_download_from_modelscope) into modelscope's own cache on
    the container's writable layer, never the sized HF_HOME cache."""
    refused = _llmd_refusal({"extra_env": {"VLLM_USE_MODELSCOPE": value}})
    assert [e["property_path"] for e in refused.errors] == ["extra_env['VLLM_USE_MODELSCOPE']"], refused.errors
    assert f"input extra_env['VLLM_USE_MODELSCOPE']={value!r} is invalid; allowed: no VLLM_USE_MODELSCOPE: 'true' " \
           "(any case) makes vLLM 0.19.1" in str(refused), str(refused)
    assert "into modelscope's own cache" in str(refused) and "download cache (HF_HOME" in str(refused)


@pytest.mark.parametrize("name, value, how", [
    ("HF_HUB_DISABLE_IMPLICIT_TOKEN", "1", "send no token its caller does not pass"),
    ("HF_HUB_DISABLE_IMPLICIT_TOKEN", "yes", "send no token its caller does not pass"),
    ("HUGGINGFACE_CO_STAGING", "True", "~/.cache/huggingface_staging/token in place of HF_TOKEN_PATH"),
])
def test_a_switch_that_drops_the_mounted_token_is_refused_with_a_token(name, value, how):
    """huggingface_hub (v0.34.0 and v1.28.0, constants.py `_is_true`: 1, ON, YES, TRUE in any case) then sends no
    token, or reads another file: the token hf_token_secret mounts goes unused and a gated model's download fails."""
    refused = _llmd_refusal({"hf_token_secret": "hf-token", "extra_env": {name: value}})
    assert [e["property_path"] for e in refused.errors] == [f"extra_env[{name!r}]"], refused.errors
    assert f"input extra_env[{name!r}]={value!r} is invalid; allowed: no {name}: " in str(refused), str(refused)
    assert how in str(refused) and "override the component's HF_TOKEN_PATH" in str(refused)


def test_values_that_move_nothing_reach_vllm():
    """The switches off in every spelling their readers take as off ('False' is not 'true' to vLLM; '0', 'no' are
    not huggingface_hub's true values), and the token switches without a token mounted (nothing of ours to drop)."""
    for off in ({"VLLM_USE_MODELSCOPE": "False", "HF_HUB_DISABLE_IMPLICIT_TOKEN": "0", "HUGGINGFACE_CO_STAGING": "no"},
                # vLLM reads '1' as off (only 'true' is on), neither reader strips: 'TRUE ' is off to both
                {"VLLM_USE_MODELSCOPE": "1", "HF_HUB_DISABLE_IMPLICIT_TOKEN": "TRUE ",
                 "HUGGINGFACE_CO_STAGING": "true "}):
        env = _vllm_env({"hf_token_secret": "hf-token", "extra_env": off})
        assert {k: v for k, v in env.items() if k in off} == off
    on = {"HF_HUB_DISABLE_IMPLICIT_TOKEN": "1", "HUGGINGFACE_CO_STAGING": "1"}
    assert {k: v for k, v in _vllm_env({"extra_env": on}).items() if k in on} == on


def test_flags_vllm_reads_otherwise_pass_and_only_a_flags_prefix_counts_as_it():
    """The spellings above are vLLM's own (tests/upstream/settings/vllm.txt lists its flags): no vLLM flag is a prefix
    of one the component owns, so a prefix refused is that flag or an ambiguous one vLLM exits on."""
    from llmplatform.input_rules import llmd_stack
    from llmplatform.input_rules.llmd import SECRET_VLLM_FLAGS
    from llmplatform.llmd_specs import DOWNLOAD_VLLM_FLAGS, MANAGED_VLLM_FLAGS, SHORT_VLLM_FLAGS
    flags = [line.strip() for line in (upstream_dir() / "settings" / "vllm.txt").read_text().splitlines()
             if line.startswith("-")]
    owned = (*MANAGED_VLLM_FLAGS, *DOWNLOAD_VLLM_FLAGS, *SECRET_VLLM_FLAGS)
    assert set(owned) | set(SHORT_VLLM_FLAGS) <= set(flags)
    assert [(f, o) for f in flags for o in owned if f != o and (o.startswith(f) or f.startswith(o))] == []
    # a single-dash prefix of -tp (-t) is -tp alone: no other single-dash vLLM option starts with it
    assert [(f, s) for f in flags for s in SHORT_VLLM_FLAGS for end in range(2, len(s))
            if f != s and not f.startswith("--") and f.startswith(s[:end])] == []
    assert [p for p in llmd_stack({"extra_args": ["--max-num-seqs", "64", "--enable_prefix_caching", "-q", "fp8",
                                                  "-pp", "2", "--api-server-count=2", "--portx"]})
            if p.path == "extra_args"] == []  # --portx: no prefix of --port (vLLM refuses it as unknown)
    assert [p.value for p in llmd_stack({"extra_env": {"HF_HUB_CACHE": "/data", "HF_HUB_OFFLINE": "0"}})
            if p.path == "extra_env"] == [["HF_HUB_CACHE"]]


@pytest.mark.parametrize("sets, fragment", [
    (["gpu.vmSize=Standard_NC4as_T4_v3"], "llmd needs an A100, H100, H200 GPU pool"),
    (["llmd.tensorParallelSize=2"], "llmd.tensorParallelSize (2) exceeds the 1 GPU(s)"),
    (["llmd.model=meta-llama/Llama-3.3-70B-Instruct", "llmd.hfTokenSecret=hf"], "does not fit 1 x 80 GiB A100"),
    (["llmd.model=meta-llama/Llama-3.1-8B-Instruct"], "llmd.hfTokenSecret is needed"),
    (["llmd.prefillDecode=true"], "llmd.prefillDecode needs an RDMA"),
    (["llmd.model=acme/private-model"], "llmd.modelMemoryGib is needed"),
    (["llmd.model=acme/private-model", "llmd.modelMemoryGib=10"], "llmd.maxModelLen is needed"),
    (["gateway.mode=none"], "llmd.enabled needs a gateway"),
    # the stack config's own words: which gateway.mode values serve llm-d, and the other way (exposeExternally)
    (["gateway.mode=external"], "gateway.mode 'external' is invalid with llmd.enabled; allowed: internal or both (llm-d "
     "is published on the internal gateway), or set llmd.exposeExternally true"),
    (["llmd.maxReplicas=3"], "llmd.maxReplicas (3) x 1 GPU(s) exceeds the 2 x 1 GPU(s)"),
    (["llmd.minReplicas=2"], "llmd.replicas (1) is the starting count"),
    (["observability.enabled=false"], "llmd.autoscaling needs observability.enabled"),
    # Qwen3-8B's 15.26 GiB: the emptyDir's limit passed mid-download evicts the pod, whose successor starts over
    (["llmd.modelCacheGib=16"], "llmd.modelCacheGib (16) must be at least 17 for Qwen/Qwen3-8B"),
    (["llmd.model=acme/big", "llmd.modelMemoryGib=250", "llmd.maxModelLen=8192", "gpu.vmSize=Standard_ND96amsr_A100_v4",
      "llmd.tensorParallelSize=8", "llmd.maxReplicas=1"], "llmd.modelCacheGib (200) must be at least 251"),
])
def test_bad_llmd_config_is_refused_before_anything_registers(sets, fragment):
    with pytest.raises(offline.ProgramError) as refused:
        offline.run("llmd", sets=sets)
    assert fragment in str(refused.value) and refused.value.registered == 0


def test_the_inference_pool_the_chart_renders_from_our_values_passes_its_crd(llmd):
    from tests.validation import validate_custom
    [release] = [r for r in llmd.helm_releases() if r.inputs["chart"].endswith("llm-d-router-gateway")]
    pool = rendered_inference_pool(release.inputs["name"], NS, release.inputs["values"])
    validate_custom(pool, upstream_dir() / "crds")
    # the route's backend names exactly that pool, in that namespace
    route = obj(llmd, "HTTPRoute", "llmd-pool").inputs["spec"]
    assert route["rules"][0]["backendRefs"][0]["name"] == pool["metadata"]["name"]
    # and a wrong value would be caught: failureMode is an enum in the CRD
    import jsonschema
    pool["spec"]["endpointPickerRef"]["failureMode"] = "FailSometimes"
    with pytest.raises(jsonschema.ValidationError):
        validate_custom(pool, upstream_dir() / "crds")


def test_a_route_target_without_an_internal_gateway_needs_expose_externally():
    """docs/components/llmd-stack.md: the llmd route attaches to the internal Gateway unless `expose_externally`. On
    a GatewayAccess without one (`internal: False`) it attached to no Gateway, with no error, while the gateway's
    `llmd_url` named the external address: refused by name, from a plain handle and from GatewayAccess's (an
    output, checked once it resolves); exposed, the route takes the external Gateway."""
    import llmplatform
    from llmplatform.checks import ComponentInputError
    from tests.components.test_components_alone import REQUIRED, ROUTES, provider_opts

    external_only = {**ROUTES, "gateway_names": ["external-gateway"]}
    with pytest.raises(ComponentInputError) as refused:
        offline.run_function(lambda: llmplatform.LlmdStack("x", {**REQUIRED["LlmdStack"](),
                                                                 "route_target": external_only}, provider_opts()))
    assert "expose_externally=False" in str(refused.value) and "without an internal Gateway" in str(refused.value)

    def composed(expose: bool) -> None:
        aks = llmplatform.AksCluster("aks", REQUIRED["AksCluster"]())
        opts = pulumi.ResourceOptions(providers=[aks.provider])
        gateway = llmplatform.GatewayAccess("gw", {"cluster": aks.cluster, "internal": False,
                                                   "inference_extension": True}, opts)
        llmplatform.LlmdStack("llmd", {**REQUIRED["LlmdStack"](), "cluster": aks.cluster,
                                       "route_target": gateway.route_target, "expose_externally": expose}, opts)
    with pytest.raises(Exception, match="without an internal Gateway"):
        offline.run_function(lambda: composed(False))
    plan = offline.run_function(lambda: composed(True))
    route = next(r for r in plan.kubernetes_objects() if r.inputs["metadata"]["name"] == "llmd-api")
    assert [p["name"] for p in route.inputs["spec"]["parentRefs"]] == ["external-gateway"]


@pytest.mark.parametrize("llmd_keys", [
    {"model": "meta-llama/Llama-3.3-70B-Instruct", "hfTokenSecret": "hf-token"},  # 141 GB (131 GiB), built in
    {"model": "acme/private-70b", "modelMemoryGib": 141, "maxModelLen": 8192},  # a model that declares its size
])
def test_a_70b_model_plans_and_pulumi_waits_for_its_download(tmp_path, capsys, llmd_keys):
    """vLLM downloads its model after the GPU node starts: 141 GiB at the deploy model's slowest Hugging Face figure
    take an hour alone. The Deployment's await deadline was a fixed 60 minutes and the startup probe's 30, so `make
    plan` refused every 70B model (pessimistic ~112 min), `pulumi up` would have stopped waiting mid-download and the
    kubelet restarted vLLM mid-download; both now grow with the model's size."""
    import json
    from offline import plan as plan_cli
    keys = {"gpu": {"vmSize": "Standard_NC96ads_A100_v4", "osDiskSizeGb": 256},
            "llmd": {**llmd_keys, "tensorParallelSize": 4}}
    sets = [f"--set={section}.{k}={v}" for section, values in keys.items() for k, v in values.items()]
    code = plan_cli.main(["--stack", "llmd", "--out", str(tmp_path), *sets])
    out, err = capsys.readouterr()
    assert code == 0 and "deploy model: [timeout]" not in out, (out + err)[-3000:]
    planned = tmp_path / "llmd.what-if"
    [vllm] = [r for r in json.loads((planned / "deploy.json").read_text())["resources"] if r["name"] == "llmd-vllm"]
    assert vllm["timeoutMinutes"] > vllm["pessimisticMinutes"] > 100, vllm
    # the Deployment as that plan registered it (resources.json: its inputs, only secrets redacted), not a second
    # run of the same config
    [deployment] = [r["inputs"] for r in json.loads((planned / "resources.json").read_text())["resources"]
                    if r["type"] == "kubernetes:apps/v1:Deployment" and r["name"] == "llmd-vllm"]
    probe = deployment["spec"]["template"]["spec"]["containers"][0]["startupProbe"]
    assert probe["periodSeconds"] * probe["failureThreshold"] > 141 * 1024 ** 3 / 40e6  # 141 GiB at 40 MB/s


def test_vllm_on_an_h100_pool_with_an_on_demand_fallback_plans_within_its_deadline(tmp_path, capsys):
    """vLLM's deadline allows the GPU Operator's node start before its model: a spot attempt, the autoscaler's
    15-minute wait for it and an on-demand node, the Operator's driver, vLLM's image (13 GB, audited 2026-12-07) and
    its start, 62.3 minutes pessimistic on an H100 pool with a fallback. The allowance was a fixed hour, so `make
    plan` refused that stack once the image's size was corrected (69.6 minutes against a 68-minute deadline)."""
    import json
    from offline import plan as plan_cli
    sets = ["--set=gpu.vmSize=Standard_ND96isr_H100_v5", "--set=gpu.fallback.enabled=true",
            "--set=gpu.fallback.minCount=0", "--set=gpu.fallback.maxCount=1"]
    code = plan_cli.main(["--stack", "llmd", "--out", str(tmp_path), *sets])
    out, err = capsys.readouterr()
    assert code == 0 and "deploy model: [timeout]" not in out, (out + err)[-3000:]
    [vllm] = [r for r in json.loads((tmp_path / "llmd.what-if" / "deploy.json").read_text())["resources"]
              if r["name"] == "llmd-vllm"]
    assert vllm["timeoutMinutes"] > vllm["pessimisticMinutes"] > 62.3, vllm

def test_a_download_cache_smaller_than_the_weights_is_refused_by_the_component():
    """vLLM downloads into an emptyDir of `model_cache_gib`: past its limit the kubelet evicts the pod and the
    ReplicaSet's new pod starts from an empty cache, so a cache smaller than the weights never finishes and vLLM is
    never Ready (docs/decisions.md "2026-12-05: vLLM's download across restarts"). Refused by name through the
    component's inputs (a caller without the stack files), the smallest cache that holds the weights passes."""
    import llmplatform
    from llmplatform.checks import ComponentInputError
    from tests.components.test_components_alone import REQUIRED, provider_opts

    def program(cache):
        return lambda: llmplatform.LlmdStack("cache", {**REQUIRED["LlmdStack"](), "model_cache_gib": cache},
                                             provider_opts())
    with pytest.raises(ComponentInputError) as refused:
        offline.run_function(program(16))
    assert [e["property_path"] for e in refused.value.errors] == ["model_cache_gib"], refused.value.errors
    assert "at least 17 for Qwen/Qwen3-8B" in str(refused.value) and "15.26 GiB of weights" in str(refused.value)
    plan = offline.run_function(program(17))
    [volume] = [v for r in plan.kubernetes_objects() if r.inputs["kind"] == "Deployment"
                for v in r.inputs["spec"]["template"]["spec"]["volumes"] if v["name"] == "models-cache"]
    assert volume["emptyDir"]["sizeLimit"] == "17Gi"


@pytest.mark.parametrize("sets, pods, needed", [
    # one TP-4 replica of a 70B model on a 4-GPU node: 131.42 GiB of weights on the default 128 GB OS disk
    (["gpu.vmSize=Standard_NC96ads_A100_v4", "llmd.tensorParallelSize=4", "llmd.hfTokenSecret=hf-token",
      "llmd.model=meta-llama/Llama-3.3-70B-Instruct"], 1, 147),
    # prefill and decode of Qwen3-32B (61.02 GiB) at TP 2 share one 8-GPU node: a copy each
    (["gpu.vmSize=Standard_ND96isr_H100_v5", "llmd.prefillDecode=true", "llmd.autoscaling=false",
      "llmd.model=Qwen/Qwen3-32B", "llmd.tensorParallelSize=2", "llmd.prefillTensorParallelSize=2"], 2, 136),
])
def test_an_os_disk_the_node_s_vllm_downloads_overflow_is_refused(tmp_path, capsys, sets, pods, needed):
    """Each vLLM pod downloads the weights into its own emptyDir, which AKS keeps on the node's OS disk: the pods of
    one node filling it past the kubelet's eviction threshold (nodefs.available<10%) are evicted and their
    successors download from nothing, so vLLM is never Ready (docs/decisions.md "2026-12-05: vLLM's download
    across restarts"). `make plan` passed a 70B model on the default 128 GB disk; now the disk key is named with the
    smallest size that is not certain to fail, and that size plans."""
    from offline import plan as plan_cli

    def plan(*more: str) -> tuple[int, str]:
        code = plan_cli.main(["--stack", "llmd", "--out", str(tmp_path), *[f"--set={s}" for s in (*sets, *more)]])
        out, err = capsys.readouterr()
        return code, out + err
    code, out = plan()
    assert code != 0 and f"gpu.osDiskSizeGb (128) cannot hold vLLM's downloads" in out, out[-3000:]
    assert f"{pods} vLLM pod(s) on one" in out and f"raise gpu.osDiskSizeGb to at least {needed} " in out, out
    code, out = plan(f"gpu.osDiskSizeGb={needed - 1}")
    assert code != 0 and f"gpu.osDiskSizeGb ({needed - 1}) cannot hold" in out, out[-3000:]
    code, out = plan(f"gpu.osDiskSizeGb={needed}")
    assert code == 0, out[-3000:]


def _llmd_with_ui(**extra: Any) -> Any:
    """LlmdStack `extra` and an OpenWebUi beside it, as a package user composes them: on `ui_endpoint` when the stack
    hands one out, else on `endpoint`; its database URL any Key Vault secret."""
    import llmplatform
    from tests.components.test_components_alone import REQUIRED, VAULT, cluster_handle, provider_opts

    def program() -> None:
        opts = provider_opts()
        llmd = llmplatform.LlmdStack("llmd", {**REQUIRED["LlmdStack"](), **extra}, opts)
        assert (llmd.ui_endpoint is not None) == bool(extra.get("ui_listener"))
        llmplatform.OpenWebUi("llmd", {"cluster": cluster_handle(), "key_vault": VAULT, "database_url_secret": "db-url",
                                       "endpoint": llmd.ui_endpoint or llmd.endpoint}, opts)
    return offline.run_function(program)


def _ui_container(plan) -> dict:
    return obj(plan, "Deployment", "open-webui").inputs["spec"]["template"]["spec"]["containers"][0]


def _mounted(plan) -> str:
    return obj(plan, "SecretProviderClass", "open-webui-secrets").inputs["spec"]["parameters"]["objects"]


@pytest.mark.parametrize("keys", [{}, {"api_key_map_secret": "edge-api-key-map", "api_key_secret": "edge-api-key"}])
def test_an_open_webui_on_the_ui_endpoint_mounts_no_key_and_only_it_reaches_that_listener(keys):
    """`ui_listener`: the gate listens on 8081 for the namespace's Open-WebUI pods alone, forwarding the routes
    Open-WebUI calls without a key, each UI pod under the per-caller limit the keyed listener held it to; the UI
    mounts no key (its own, or the edge's key set's), so a rotation needs no restart of it, and its pods no longer
    reach the keyed listener. Without it the UI keeps calling `endpoint` with the key (below)."""
    from llmplatform.inference_specs import ROUTER_PORT, ROUTER_UI_PORT
    from llmplatform.llmd_specs import LLMD_API_ROUTES, OPEN_WEBUI_OPENAI_ROUTES
    from tests.components.test_api_gate import router_conf, server_block
    from llmplatform.testing.network_policy import Pod, connects
    plan = _llmd_with_ui(ui_listener=True, **keys)
    ui = _ui_container(plan)
    env = {e["name"]: e.get("value") for e in ui["env"]}
    assert env["OPENAI_API_BASE_URL"] == f"http://router:{ROUTER_UI_PORT}/v1"
    assert "OPENAI_API_KEY" not in ui["command"][2]
    assert "model-api-key" not in _mounted(plan) and "api-key" not in _mounted(plan)
    assert not [r.name for r in plan.of_type("azure-native:authorization:RoleAssignment") if "model-key" in r.name]
    conf = router_conf(plan, NS)
    listener = server_block(conf, ROUTER_UI_PORT)
    assert set(OPEN_WEBUI_OPENAI_ROUTES) < set(LLMD_API_ROUTES)
    assert "api_key_valid" not in listener and "limit_req zone=per_caller" in listener
    assert listener.count("limit_req ") == server_block(conf, ROUTER_PORT).count("limit_req ")  # the same limit
    policies = [r.inputs for r in plan.of_type("kubernetes:networking.k8s.io/v1:NetworkPolicy")]
    router, web = Pod(NS, {"app.kubernetes.io/name": "router"}), Pod(NS, {"app.kubernetes.io/name": "open-webui"})
    strangers = [Pod(NS, {}), Pod(NS, {"app.kubernetes.io/name": "vllm"}), Pod("other", {"app.kubernetes.io/name":
                                                                                        "open-webui"})]
    assert connects(policies, web, router, ROUTER_UI_PORT, {})
    assert not [p for p in strangers if connects(policies, p, router, ROUTER_UI_PORT, {})]
    assert not connects(policies, web, router, ROUTER_PORT, {})


def test_without_ui_listener_the_ui_calls_the_keyed_gate_as_before():
    """The default: no keyless listener, `ui_endpoint` None, and an Open-WebUI on `endpoint` mounts the gate's key
    and is admitted to the keyed listener (the composition a package user had, unchanged)."""
    from llmplatform.inference_specs import ROUTER_PORT, ROUTER_UI_PORT
    from tests.components.test_api_gate import router_conf
    from llmplatform.testing.network_policy import Pod, connects
    plan = _llmd_with_ui()
    assert f"listen {ROUTER_UI_PORT};" not in router_conf(plan, NS)
    env = {e["name"]: e.get("value") for e in _ui_container(plan)["env"]}
    assert env["OPENAI_API_BASE_URL"] == f"http://router:{ROUTER_PORT}/v1"
    assert "objectName: llmd-api-key" in _mounted(plan) and "objectAlias: model-api-key" in _mounted(plan)
    policies = [r.inputs for r in plan.of_type("kubernetes:networking.k8s.io/v1:NetworkPolicy")]
    assert connects(policies, Pod(NS, {"app.kubernetes.io/name": "open-webui"}),
                    Pod(NS, {"app.kubernetes.io/name": "router"}), ROUTER_PORT, {})


def test_ui_listener_must_be_true_or_false():
    from llmplatform.checks import ComponentInputError
    with pytest.raises(ComponentInputError, match=r"^LlmdStack llmd: ui_listener: expects true or false, "
                                                  r"got str 'yes'"):
        _llmd_with_ui(ui_listener="yes")
