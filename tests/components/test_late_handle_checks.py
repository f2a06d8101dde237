"""The checks that read another component's handle (the GPU pool's scheduling, an endpoint's API, a route target's
llm-d listener, a keda handle) when that handle arrives as one output, as every handle from another language does
through the component provider: they run once it resolves, with the early check's rule and words, as a
LateInputError (a sentence, no traceback), and a good handle given so still plans."""
from typing import Any, Callable, Optional

import pulumi
import pytest

from llmplatform import (ApiGate, ComponentInputError, GatewayAccess, GpuNodePool, InferenceStack, LlmdStack,
                         ModelAutoscaler, ModelStore, Observability)
from llmplatform.testing import ProgramError, run

# a hand-made cluster and vault handle (building an AksCluster and a KeyVault each run tripled the file's CPU); the
# handles under test come from the real components
from tests.components.test_components_alone import GPU, ROUTES, VAULT, cluster_handle, provider_opts

A100 = {"vm_size": "Standard_NC24ads_A100_v4", "driver": "operator"}  # 1 x A100 80 GiB, no InfiniBand


def handed(value: Any, as_output: bool) -> Any:
    """A handle as a Python caller passes it, or as one output (another language's, a stack reference's)."""
    return pulumi.Output.from_input(value) if as_output else value


def outcome(program: Callable[[], None]) -> tuple[str, Optional[type]]:
    """The error a program stops with (its words and its type), or ("", None) when it plans."""
    try:
        run(program)
    except (ComponentInputError, ProgramError) as error:
        return str(error), type(error)
    return "", None


def early_and_late(build: Callable[[bool], None]) -> tuple[tuple[str, Optional[type]], tuple[str, Optional[type]]]:
    return outcome(lambda: build(False)), outcome(lambda: build(True))


def assert_same_words(build: Callable[[bool], None], *expected: str) -> None:
    (early, early_type), (late, late_type) = early_and_late(build)
    assert early_type is ComponentInputError and late_type is ProgramError, (early, late)
    assert late == early, (early, late)
    assert "Traceback" not in late and "While processing" not in late
    for words in expected:
        assert words in late, late


# ---- LlmdStack on a GPU handle -------------------------------------------------------------------------------
def llmd(pool: dict[str, Any], handle: str = "gpu", inference_extension: bool = True, keda_on: bool = True,
         **inputs: Any) -> Callable[[bool], None]:
    """A program: an LlmdStack on a pool of `pool`, the handle `handle` given as one output with as_output."""
    def build(as_output: bool) -> None:
        cluster, k8s, vault = cluster_handle(), provider_opts(), VAULT
        gpu = GpuNodePool("gpu", {"cluster": cluster, **pool}, k8s)
        gateway = GatewayAccess("gw", {"cluster": cluster, "inference_extension": inference_extension}, k8s)
        given: dict[str, Any] = {"gpu": gpu.scheduling, "route_target": gateway.route_target}
        if inputs.get("autoscaling"):
            given["keda"] = Observability("obs", {"cluster": cluster, "key_vault": vault,
                                                  "app_namespace": "acme", "keda": keda_on}, k8s).keda
        given[handle] = handed(given[handle], as_output)
        LlmdStack("llmd", {"cluster": cluster, "key_vault": vault, "model": "Qwen/Qwen3-8B", **given,
                           **inputs}, k8s)
    return build


@pytest.mark.parametrize("pool, inputs, words", [
    ({**A100, "driver": "aks", "mig_profile": "MIG3g"}, {}, "a pool of whole GPUs"),
    (A100, {"tensor_parallel_size": 2}, "at most the 1 GPU(s) of one A100 node"),
    ({"vm_size": "Standard_NC4as_T4_v3", "driver": "aks"}, {"model": "Qwen/Qwen3-32B"},
     "a GPU pool whose nodes hold Qwen/Qwen3-32B"),
    ({"vm_size": "Standard_ND96amsr_A100_v4", "driver": "aks"}, {"prefill_decode": True},
     "a pool with driver 'operator' for prefill_decode"),
    (A100, {"prefill_decode": True}, "an InfiniBand (RDMA) GPU size"),
], ids=["mig", "gpus-per-node", "gpu-memory", "driver", "rdma"])
def test_an_llmd_stack_on_a_gpu_handle_given_as_an_output_is_checked_once_it_resolves(pool, inputs, words):
    assert_same_words(llmd(pool, **inputs), "LlmdStack llmd: ", words)


def test_an_llmd_stack_on_a_route_target_without_the_llmd_listener_given_as_an_output():
    """An HTTPRoute with sectionName "" is refused by the Gateway API CRD's schema (SectionName, minLength 1)."""
    assert_same_words(llmd(A100, "route_target", inference_extension=False), "input route_target=\"llmd_listener=''\"")


def test_an_autoscaled_llmd_stack_on_a_keda_handle_of_keda_off_given_as_an_output():
    assert_same_words(llmd(A100, "keda", keda_on=False, autoscaling=True), "the keda of an Observability with keda off")


@pytest.mark.parametrize("handle", ["gpu", "route_target"])
def test_a_good_handle_given_as_an_output_still_plans_the_same(handle):
    build = llmd(A100, handle)
    plans = [run(lambda: build(as_output)) for as_output in (False, True)]
    vllm = [p.one("kubernetes:apps/v1:Deployment", "llmd-vllm").inputs["spec"]["template"]["spec"]["nodeSelector"]
            for p in plans]
    assert vllm[0] == vllm[1]
    routes = [[r.inputs["spec"]["parentRefs"] for r in p.of_type("kubernetes:gateway.networking.k8s.io/v1:HTTPRoute")
               if r.name == "llmd-api-route"] for p in plans]
    assert routes[0] == routes[1] and routes[0]
    assert sorted(r.urn for r in plans[0].resources) == sorted(r.urn for r in plans[1].resources)


# ---- InferenceStack (OllamaServer) on a GPU handle -------------------------------------------------------------
def ollama_on(pool: dict[str, Any], **inputs: Any) -> Callable[[bool], None]:
    def build(as_output: bool) -> None:
        cluster, k8s, vault = cluster_handle(), provider_opts(), VAULT
        gpu = GpuNodePool("gpu", {"cluster": cluster, **pool}, k8s)
        volume = ModelStore("weights", {"cluster": cluster, "account_name": "stacmeweights01",
                                        "namespace": "acme"}, k8s).volume
        InferenceStack("llm", {"cluster": cluster, "key_vault": vault, "model_volume": volume,
                               "accelerator": "gpu", "gpu": handed(gpu.scheduling, as_output), **inputs}, k8s)
    return build


@pytest.mark.parametrize("pool, inputs, words", [
    ({**A100, "driver": "aks", "mig_profile": "MIG1g"}, {}, "ollama/ollama#13800"),
    (A100, {"gpus_per_replica": 2}, "input gpus_per_replica=2 is invalid; allowed: at most the 1 GPU(s)"),
], ids=["mig", "gpus-per-replica"])
def test_an_inference_stack_on_a_gpu_handle_given_as_an_output_is_checked_once_it_resolves(pool, inputs, words):
    assert_same_words(ollama_on(pool, **inputs), "InferenceStack llm: ", words)


def test_an_inference_stack_on_a_good_gpu_handle_given_as_an_output_still_plans():
    build = ollama_on(A100)
    plans = [run(lambda: build(as_output)) for as_output in (False, True)]
    pods = [p.one("kubernetes:apps/v1:Deployment", "llm-ollama").inputs["spec"]["template"]["spec"] for p in plans]
    assert pods[0]["nodeSelector"] == pods[1]["nodeSelector"] and pods[0].get("tolerations") == pods[1].get(
        "tolerations")


# ---- an endpoint's API, a keda handle for ModelAutoscaler --------------------------------------------------------
def test_an_api_gate_on_an_endpoint_of_an_unknown_api_given_as_an_output():
    def build(as_output: bool) -> None:
        cluster, k8s, vault = cluster_handle(), provider_opts(), VAULT
        endpoint = {"base_url": "http://vllm:8000", "api": "vllm", "namespace": "acme", "service": "vllm",
                    "port": 8000}
        ApiGate("gate", {"cluster": cluster, "key_vault": vault, "endpoint": handed(endpoint, as_output)},
                k8s)
    assert_same_words(build, "ApiGate gate: input endpoint.api='vllm' is invalid; allowed: openai, ollama")


def test_a_requests_autoscaler_on_a_keda_handle_of_keda_off_given_as_an_output():
    def build(as_output: bool) -> None:
        cluster, k8s, vault = cluster_handle(), provider_opts(), VAULT
        obs = Observability("obs", {"cluster": cluster, "key_vault": vault, "app_namespace": "acme",
                                    "keda": False}, k8s)
        volume = ModelStore("weights", {"cluster": cluster, "account_name": "stacmeweights01",
                                        "namespace": "acme"}, k8s).volume
        stack = InferenceStack("llm", {"cluster": cluster, "key_vault": vault, "model_volume": volume,
                                       "autoscaled": True}, k8s)
        server = {**stack.model_server, "hosts": ["ollama-scaled.acme"]}  # as a server behind an interceptor's
        ModelAutoscaler("scale", {"model_server": server, "mode": "requests", "min_replicas": 0,
                                  "max_replicas": 2, "keda": handed(obs.keda, as_output)}, k8s)
    assert_same_words(build, "ModelAutoscaler scale: ", "the keda of an Observability with keda off")


def test_an_endpoint_refused_late_is_the_gates_input_not_the_ui_behind_it():
    """An OpenWebUi on an ApiGate's endpoint: the gate's input is the wrong one, early and late alike (the gate handed
    on the unchecked flavour, and the UI's own late check named itself)."""
    from llmplatform import OpenWebUi

    def build(as_output: bool) -> None:
        cluster, k8s, vault = cluster_handle(), provider_opts(), VAULT
        endpoint = {"base_url": "http://vllm:8000", "api": "vllm", "namespace": "acme", "service": "vllm",
                    "port": 8000}
        gate = ApiGate("gate", {"cluster": cluster, "key_vault": vault, "endpoint": handed(endpoint, as_output)}, k8s)
        OpenWebUi("ui", {"cluster": cluster, "key_vault": vault, "endpoint": gate.endpoint,
                         "database_url_secret": "db-url"}, k8s)
    for _ in range(3):  # which check fails first must not depend on the order outputs resolve in
        assert_same_words(build, "ApiGate gate: input endpoint.api='vllm' is invalid")


def test_a_handle_that_arrives_as_one_output_is_read_whole_by_the_late_check():
    """A GPU handle with none of the fields the rules compare (one exported from a stack without them): the late
    check reads the whole handle, as the early one does, not an empty one, which it refused as "input gpu=None" (no
    GPU handle given). The early check refuses it by its shape, which nothing checks late."""
    def build(as_output: bool) -> None:
        cluster, k8s, vault = cluster_handle(), provider_opts(), VAULT
        gpu = {"node_selector": {"llm-platform/accelerator": "nvidia"},
               "tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]}
        volume = ModelStore("weights", {"cluster": cluster, "account_name": "stacmeweights01",
                                        "namespace": "acme"}, k8s).volume
        InferenceStack("llm", {"cluster": cluster, "key_vault": vault, "model_volume": volume, "accelerator": "gpu",
                               "gpu": handed(gpu, as_output)}, k8s)
    early, late = early_and_late(build)
    assert "gpu.gpus_per_node: is required" in early[0] and "gpu=None" not in late[0], (early, late)


@pytest.mark.parametrize("url", ["http://ollama:abc", "http://[::1]:8000", "ollama:11434", "http://ollama:0",
                                 "http://ollama:11434/v1"])
def test_an_endpoint_url_a_gate_cannot_call_is_one_sentence_early_and_late(url):
    """The gate's nginx upstream is the URL's host and port: a port that is no number stopped the run with int()'s
    ValueError inside an apply (a traceback), early and late alike."""
    def build(as_output: bool) -> None:
        endpoint = {"base_url": url, "api": "ollama", "namespace": "llm", "service": "ollama", "port": 11434}
        ApiGate("gate", {"cluster": cluster_handle(), "key_vault": VAULT, "endpoint": handed(endpoint, as_output)},
                provider_opts())
    assert_same_words(build, f"ApiGate gate: input endpoint.base_url={url!r} is invalid; allowed: an http:// or "
                             "https:// URL")


def test_a_late_handle_of_the_wrong_shape_is_refused_in_the_early_words_not_a_type_error():
    """The rules compare a GPU count: a string there stopped the late check with Python's TypeError."""
    gpu = {**GPU, "gpus_per_node": "1"}

    def build(as_output: bool) -> None:
        LlmdStack("llmd", {"cluster": cluster_handle(), "key_vault": VAULT, "model": "Qwen/Qwen3-8B",
                           "gpu": handed(gpu, as_output), "route_target": ROUTES}, provider_opts())
    assert_same_words(build, "LlmdStack llmd: gpu.gpus_per_node: expects a whole number, got str '1'")


def test_a_handle_that_arrives_as_an_output_without_a_field_a_component_reads_is_a_sentence():
    """A cluster handle from a stack reference exported by another version (no pod_cidr): the component's read of
    the field stopped with a KeyError inside an apply."""
    def program() -> None:
        handle = {k: v for k, v in cluster_handle().items() if k != "pod_cidr"}
        endpoint = {"base_url": "http://ollama:11434", "api": "ollama", "namespace": "llm", "service": "ollama",
                    "port": 11434}
        ApiGate("gate", {"cluster": pulumi.Output.from_input(handle), "key_vault": VAULT, "endpoint": endpoint},
                provider_opts())
    message, kind = outcome(program)
    assert kind is ProgramError and message == "ApiGate gate: cluster.pod_cidr: is required", message


# ---- handles read from another stack: the engine hands every number back as a double -----------------------------
def _from_another_stack(gpus_per_replica: int) -> tuple[Callable[[], None], dict[str, Any]]:
    """A platform stack whose cluster, GPU, keda and vault handles are a StackReference's outputs."""
    outputs = {"cluster": cluster_handle(), "gpu": GPU, "vault": VAULT, "routes": ROUTES,
               "keda": {"namespace": "keda", "interceptor_host": "keda-add-ons-http-interceptor-proxy.keda",
                        "interceptor_port": 8080, "external_scaler": "scaler:9090",
                        "prometheus_url": "http://prometheus:9090"}}

    def program() -> None:
        ref = pulumi.StackReference("infra")
        cluster, gpu, vault, keda = (ref.get_output(key) for key in ("cluster", "gpu", "vault", "keda"))
        k8s = provider_opts()
        volume = ModelStore("weights", {"cluster": cluster, "account_name": "stacmeweights01", "namespace": "acme"},
                            k8s).volume
        stack = InferenceStack("llm", {"cluster": cluster, "key_vault": vault, "model_volume": volume,
                                       "accelerator": "gpu", "gpu": gpu, "keda": keda,
                                       "gpus_per_replica": gpus_per_replica}, k8s)
        ModelAutoscaler("scale", {"model_server": stack.model_server, "mode": "requests", "min_replicas": 0,
                                  "max_replicas": 2, "keda": keda}, k8s)
    return program, outputs


def test_handles_from_a_stack_reference_plan_with_their_numbers_whole():
    """8080.0 for the interceptor's port reached the router's nginx config (a ValueError in an apply)."""
    program, outputs = _from_another_stack(1)
    plan = run(program, references={"infra": outputs})
    scaled = plan.one("kubernetes:core/v1:Service", "llm-ollama-scaled")
    assert scaled.inputs["spec"]["externalName"] == "keda-add-ons-http-interceptor-proxy.keda"
    assert not [r.name for r in plan.resources if "8080.0" in str(r.inputs)]  # the router's upstream port too


def test_a_count_from_a_stack_reference_is_checked_as_a_whole_number():
    """gpus_per_node arrived as 1.0, which the GPU-count rule (it compares ints) let through: two GPUs a replica on
    one-GPU nodes planned, and its pods would stay Pending."""
    program, outputs = _from_another_stack(2)
    with pytest.raises(ProgramError) as refused:
        run(program, references={"infra": outputs})
    assert str(refused.value).startswith("InferenceStack llm: input gpus_per_replica=2 is invalid; allowed: at most "
                                         "the 1 GPU(s) of one node"), str(refused.value)


# ---- a RouteTarget built by hand with no Gateway ----------------------------------------------------------------
@pytest.mark.parametrize("component", ["ApiGate", "OpenWebUi", "InferenceStack", "LlmdStack"])
@pytest.mark.parametrize("gateways, words", [
    ([], "input route_target.gateway_names=[] is invalid; allowed: at least one Gateway name"),
    (["Internal_Gateway"], "input route_target.gateway_names[0]='Internal_Gateway' is invalid; allowed: a DNS "
                           "subdomain"),
    (["internal-gateway", "internal-gateway"], "input route_target.gateway_names[1]='internal-gateway' is invalid; "
                                               "allowed: a Gateway the list does not name already"),
], ids=["none", "not-a-name", "twice"])
def test_a_route_target_with_no_gateway_or_a_bad_name_is_refused_plain_and_as_an_output(component, gateways, words):
    """Routes of a target with no Gateway have no parentRefs, which the HTTPRoute CRD takes and which attach nowhere:
    the component published nothing and said nothing. A name that is no object name is taken as well (a parentRef's
    name has no pattern) and names no Gateway. A name given twice: the CRD refuses the route (below)."""
    import llmplatform
    from tests.components.test_components_alone import REQUIRED

    def build(as_output: bool) -> None:
        target = {**ROUTES, "gateway_names": handed(gateways, as_output)}
        getattr(llmplatform, component)("x", {**REQUIRED[component](), "route_target": target}, provider_opts())
    assert_same_words(build, f"{component} x: ", words)


def test_an_httproute_naming_one_gateway_twice_is_what_the_crd_refuses():
    """What the API server does with the routes of a target naming one Gateway twice (gateway-api v1.6.1
    HTTPRoute.yaml, the x-kubernetes-validations on parentRefs), on the route ApiGate builds."""
    from llmplatform.testing import run as run_program
    from tests.conftest import upstream_dir
    from tests.validation import CelRuleViolation, validate_custom
    from tests.components.test_components_alone import REQUIRED
    import llmplatform

    plan = run_program(lambda: llmplatform.ApiGate("x", {**REQUIRED["ApiGate"](), "route_target": {
        **ROUTES, "gateway_names": ["internal-gateway"]}}, provider_opts()))
    route = plan.one("kubernetes:gateway.networking.k8s.io/v1:HTTPRoute", "x-api-route").inputs
    crds = upstream_dir() / "crds" / "gateway.networking.k8s.io"
    validate_custom(route, crds)
    twice = {**route, "spec": {**route["spec"], "parentRefs": route["spec"]["parentRefs"] * 2}}
    with pytest.raises(CelRuleViolation, match="sectionName must be unique"):
        validate_custom(twice, crds)
