"""What a stranger adopting the package met composing a topology the repository's stacks do not use (two GPU pools
on the GPU Operator, llm-d without Observability, Ollama with KEDA), through the package's testing kit as the
README tells a consumer: compositions that planned but could not work on a real cluster."""
from typing import Any

import pulumi
import pytest

from llmplatform import (AksCluster, AppNamespace, ComponentInputError, GatewayAccess, GpuNodePool, InferenceStack,
                         KeyVault, LlmdStack, ModelAutoscaler, ModelStore, Observability)
from llmplatform.testing import ProgramError, run

NETWORK: Any = {"vnet_cidr": "10.80.0.0/16", "node_subnet_cidr": "10.80.0.0/20",
                "endpoints_subnet_cidr": "10.80.16.0/24", "postgres_subnet_cidr": "10.80.17.0/24",
                "pod_cidr": "192.168.0.0/16", "service_cidr": "172.16.0.0/16", "dns_service_ip": "172.16.0.10"}
MONITORS = ("kubernetes:monitoring.coreos.com/v1:PodMonitor", "kubernetes:monitoring.coreos.com/v1:ServiceMonitor")


def platform(**extra: Any) -> tuple[AksCluster, pulumi.ResourceOptions, KeyVault]:
    aks = AksCluster("one", {
        "cluster_name": "aks-one-str", "resource_group_name": "rg-one-str", "location": "eastus2", "network": NETWORK,
        "system_pool": {"name": "system", "vm_size": "Standard_D2s_v5", "min_count": 1, "max_count": 2},
        "workload_pool": {"name": "cpu", "vm_size": "Standard_D8s_v5", "min_count": 1, "max_count": 4}, **extra})
    vault = KeyVault("kv", {"cluster": aks.cluster, "vault_name": "kv-stranger-one"})
    return aks, pulumi.ResourceOptions(providers=[aks.provider]), vault


def refusal(program: Any) -> str:
    """The one sentence a composition's refusal says (its ComponentInputError)."""
    with pytest.raises(ComponentInputError) as error:
        run(program)
    return str(error.value)


# ---- llm-d without Observability: monitors whose CRDs nothing installs --------------------------------------------
def llmd(observability: bool = False, **extra: Any) -> None:
    aks, k8s, vault = platform()
    if observability:
        obs = Observability("obs", {"cluster": aks.cluster, "key_vault": vault.vault, "app_namespace": "llm-d"}, k8s)
        extra = {"prometheus_url": obs.prometheus_url, **extra}
    llmd_on(aks, k8s, vault, extra)


def llmd_on(aks: AksCluster, k8s: pulumi.ResourceOptions, vault: KeyVault, extra: dict[str, Any]) -> None:
    gpu = GpuNodePool("a100", {"cluster": aks.cluster, "vm_size": "Standard_NC24ads_A100_v4", "driver": "operator"},
                      k8s)
    gateway = GatewayAccess("gw", {"cluster": aks.cluster, "inference_extension": True}, k8s)
    LlmdStack("llmd", {"cluster": aks.cluster, "gpu": gpu.scheduling, "route_target": gateway.route_target,
                       "model": "Qwen/Qwen3-8B", "key_vault": vault.vault, **extra}, k8s)


def monitors(plan: Any) -> list[str]:
    return sorted(r.name for t in MONITORS for r in plan.of_type(t) if r.name.startswith("llmd-"))


def test_llmd_without_observability_creates_no_monitor_nothing_brings_the_crds_of():
    """metrics defaulted to true: a PodMonitor and a ServiceMonitor on a cluster without the Prometheus Operator's
    CRDs (only Observability installs them), which the API server refuses at `pulumi up` ("no matches for kind")."""
    assert monitors(run(lambda: llmd())) == []


def test_llmd_with_observability_keeps_its_monitors_and_they_wait_for_prometheus():
    plan = run(lambda: llmd(observability=True))
    assert monitors(plan) == ["llmd-epp-monitor", "llmd-vllm-monitor"]
    release = plan.one("kubernetes:helm.sh/v3:Release", "obs-kube-prometheus-stack")
    assert all(plan.waits_for(r, lambda d: d.urn == release.urn) for t in MONITORS for r in plan.of_type(t)
               if r.name.startswith("llmd-"))


def test_metrics_asked_for_without_prometheus_is_refused_by_name():
    with pytest.raises(ComponentInputError) as error:
        run(lambda: llmd(metrics=True))
    assert str(error.value) == (
        "LlmdStack llmd: input metrics=True is invalid; allowed: true with prometheus_url (Observability's): the "
        "PodMonitor and ServiceMonitor need the Prometheus Operator's CRDs, which it waits for; or false")
    assert [e["property_path"] for e in error.value.errors or []] == ["metrics"]


# ---- Ollama and the KEDA interceptor: a stack behind it, an autoscaler on requests -------------------------------
def ollama(keda: bool, autoscaler: str = "", **extra: Any) -> None:
    aks, k8s, vault = platform()
    obs = Observability("obs", {"cluster": aks.cluster, "key_vault": vault.vault, "app_namespace": "team"}, k8s)
    team = AppNamespace("team", {"namespace": "team"}, k8s)
    store = ModelStore("store", {"cluster": aks.cluster, "account_name": "ststranger5", "namespace": team.namespace,
                                 "models": ["qwen2.5:0.5b"]}, k8s)
    stack = InferenceStack("team", {"cluster": aks.cluster, "key_vault": vault.vault, "model_volume": store.volume,
                                    **({"keda": obs.keda} if keda else {}), **extra}, k8s)
    if autoscaler:
        server = stack.model_server if autoscaler == "plain" else pulumi.Output.from_input(stack.model_server)
        ModelAutoscaler("scale", {"model_server": server, "mode": "requests", "keda": obs.keda, "min_replicas": 0,
                                  "max_replicas": 2}, k8s)


def test_a_stack_behind_the_interceptor_leaves_its_replica_count_to_the_autoscaler():
    """`autoscaled` defaulted to false, with keda too (the YAML example's case): Pulumi kept Ollama's `replicas` while
    the requests-mode ModelAutoscaler, the only way the interceptor gets a route to it, set the count, so every
    `pulumi up` that touched the Deployment put it back to 1 under KEDA."""
    ollama_deployment = run(lambda: ollama(keda=True, autoscaler="plain")).one("kubernetes:apps/v1:Deployment",
                                                                               "team-ollama")
    assert "spec.replicas" in (ollama_deployment.options.get("ignoreChanges") or [])


def test_autoscaled_false_behind_the_interceptor_is_refused_by_name():
    with pytest.raises(ComponentInputError) as error:
        run(lambda: ollama(keda=True, autoscaled=False))
    assert str(error.value) == (
        "InferenceStack team: input autoscaled=False is invalid; allowed: true with keda, or left out: requests then "
        "reach Ollama only through the KEDA interceptor, which routes only what a ModelAutoscaler in requests mode "
        "declares, and that autoscaler owns the replica count")
    assert [e["property_path"] for e in error.value.errors or []] == ["autoscaled"]


REQUESTS_WITHOUT_KEDA = (
    "ModelAutoscaler scale: input model_server='a model server built without keda' is invalid; allowed: with mode "
    "requests, a model server built with Observability's keda (InferenceStack's or OllamaServer's `keda`): requests "
    "mode counts the requests passing the KEDA interceptor, and this server's do not pass it, so it would never see "
    "one (at min_replicas 0, never start a replica); or mode cpu or gpu-memory")


def test_a_requests_autoscaler_on_a_stack_without_keda_is_refused():
    """The stack's gate called Ollama directly, so the InterceptorRoute and ScaledObject planned fine and counted no
    request: at min_replicas 0 KEDA scaled Ollama to zero and nothing ever woke it (the gate answered 502)."""
    with pytest.raises(ComponentInputError) as error:
        run(lambda: ollama(keda=False, autoscaler="plain", autoscaled=True))
    assert str(error.value) == REQUESTS_WITHOUT_KEDA
    assert [e["property_path"] for e in error.value.errors or []] == ["model_server"]


def test_a_requests_autoscaler_on_a_stack_without_keda_handed_as_an_output_is_refused_in_the_same_words():
    with pytest.raises(ProgramError) as error:
        run(lambda: ollama(keda=False, autoscaler="output", autoscaled=True))
    assert str(error.value) == REQUESTS_WITHOUT_KEDA


def test_a_stack_behind_the_interceptor_without_an_autoscaler_is_refused_by_the_kit():
    """The gate called the interceptor with Host ollama-scaled.team, and nothing declared a route for that host: the
    interceptor answers 404 to every request, and the plan passed."""
    with pytest.raises(ProgramError) as error:
        run(lambda: ollama(keda=True))
    assert str(error.value).splitlines()[1:] == [
        "  team-ollama-scaled: requests to the model server in namespace team go through the KEDA interceptor (Host "
        "ollama-scaled.team), and no InterceptorRoute on its cluster claims that host, so the interceptor answers "
        "every one 404: give the stack's model_server to a ModelAutoscaler in requests mode (it declares the route), "
        "or leave the stack's keda out"]



# ---- a component called otherwise than Component(name, args, opts) ------------------------------------------------
def test_inputs_as_keyword_arguments_are_refused_in_the_components_words():
    """The style of Pulumi's generated SDKs, `GpuNodePool("gpu", cluster=..., vm_size=...)`: Python's TypeError
    ("unexpected keyword argument 'cluster'") reached a `pulumi up` user as a traceback."""
    def program() -> None:
        aks, k8s, _ = platform()
        GpuNodePool("gpu", cluster=aks.cluster, vm_size="Standard_NC4as_T4_v3", opts=k8s)  # type: ignore[call-arg]
    with pytest.raises(ComponentInputError) as error:
        run(program)
    assert str(error.value) == (
        "GpuNodePool gpu: inputs go in one object, the second argument (GpuNodePoolArgs), not as keyword arguments "
        "(cluster=, vm_size=): GpuNodePool(\"gpu\", {'cluster': ..., 'vm_size': ...}, opts)")
    assert [e["property_path"] for e in error.value.errors or []] == ["args"]


@pytest.mark.parametrize("call, words", [
    (lambda: KeyVault("kv"), 'KeyVault kv: args: is required, one object of inputs (KeyVaultArgs) as the second '
                             'argument: KeyVault("kv", {...}, opts)'),
    (lambda: KeyVault({"vault_name": "kv-x"}), "KeyVault: name: expects the resource name, a non-empty string, as the "
                                               "first argument, got dict {'vault_name': 'kv-x'}: "
                                               'KeyVault("keyvault", {...}, opts)'),
    (lambda: KeyVault(None, {"vault_name": "kv-x"}), "KeyVault: name: expects the resource name, a non-empty string, "
                                                     "as the first argument, got NoneType None; e.g. "
                                                     'KeyVault("keyvault", {...}, opts)'),
], ids=["args-left-out", "name-left-out", "name-none"])
def test_a_call_without_its_name_or_args_is_refused_in_the_components_words(call, words):
    """Python's "missing 1 required positional argument: 'args'" and the SDK's "Missing resource name argument (for
    URN creation)" were tracebacks; nothing registers."""
    assert refusal(call) == words


def test_an_autoscaled_llmd_stack_given_only_keda_has_its_monitors_wait_for_prometheus():
    """keda carries Observability's Prometheus (the triggers read it): the monitors wait for it too, not only for a
    `prometheus_url` the caller may not pass, so they are not applied before kube-prometheus-stack brings their CRDs."""
    def program() -> None:
        aks, k8s, vault = platform()
        obs = Observability("obs", {"cluster": aks.cluster, "key_vault": vault.vault, "app_namespace": "llm-d"}, k8s)
        llmd_on(aks, k8s, vault, {"autoscaling": True, "keda": obs.keda})
    plan = run(program)
    release = plan.one("kubernetes:helm.sh/v3:Release", "obs-kube-prometheus-stack")
    ours = [r for t in MONITORS for r in plan.of_type(t) if r.name.startswith("llmd-")]
    assert len(ours) == 2 and all(plan.waits_for(r, lambda d: d.urn == release.urn) for r in ours)


# ---- two model stores in one namespace --------------------------------------------------------------------------
def test_a_second_model_store_in_a_namespace_is_refused_by_name_before_it_registers():
    """Its volume and claim are named from the namespace and share name: the second store's Azure account and share
    were built, then the API server refused its volume (one name, two owners) at `pulumi up`."""
    def program(second_share: str) -> None:
        aks, k8s, _ = platform()
        for store, share, model in (("a", "models", "qwen2.5:0.5b"), ("b", second_share, "tinyllama")):
            ModelStore(f"store{store}", {"cluster": aks.cluster, "account_name": f"ststranger5{store}",
                                         "namespace": "team", "share_name": share, "models": [model]}, k8s)
    assert refusal(lambda: program("models")) == (
        "ModelStore storeb: input namespace='team' is invalid; allowed: a namespace no other ModelStore on this "
        "cluster uses with share_name 'models': 'storea' uses it (its volume team-models and claim models are named "
        "from both); give this store a namespace of its own or another share_name, or hand the volume of 'storea' "
        "to every model server there")
    # another share (and other models: the preload Job is named from them) is another volume, claim and Job
    assert len(run(lambda: program("weights")).of_type("llmplatform:index:ModelStore")) == 2


# ---- a model store in a namespace nothing creates -----------------------------------------------------------------
def test_a_model_store_in_a_namespace_nothing_creates_is_named_in_the_kits_advice():
    """It planned without a word; the API server refuses its claim and Job in a namespace no one made (and the
    repository's own `make plan` refuses it: the deploy model's namespace rule). Beside an AppNamespace, no advice."""
    def program(with_namespace: bool) -> None:
        aks, k8s, _ = platform()
        if with_namespace:
            AppNamespace("team", {"namespace": "team"}, k8s)
        ModelStore("store", {"cluster": aks.cluster, "account_name": "ststranger5ns", "namespace": "team",
                             "models": ["qwen2.5:0.5b"]}, k8s)
    advice = [w for w in run(lambda: program(False)).warnings if w.startswith("namespace team:")]
    assert len(advice) == 1 and "nothing in this program creates it" in advice[0] and "AppNamespace" in advice[0]
    assert not [w for w in run(lambda: program(True)).warnings if w.startswith("namespace ")]


# ---- two GPU pools with one AKS pool name ------------------------------------------------------------------------
@pytest.mark.parametrize("first, first_fallback, second, second_fallback, taken", [
    ("gpu", False, "gpu", False, "gpu"), ("a", True, "aod", False, "aod"), ("aod", False, "a", True, "aod")],
    ids=["default-twice", "a-fallbacks-name", "a-fallback-over-a-pool"])
def test_a_second_gpu_pool_with_a_taken_aks_pool_name_is_refused_by_name(first, first_fallback, second,
                                                                         second_fallback, taken):
    """Two pools left at the default pool_name `gpu` (different sizes, the brief's topology) planned until the kit
    saw one AgentPool twice; under `pulumi up` azure-native refused the second create after the first pool's."""
    def program() -> None:
        aks, k8s, _ = platform(autoscaler_expander="priority")
        with_fallback = {"fallback": {"enabled": True, "min_count": 0, "max_count": 1}}
        GpuNodePool("one", {"cluster": aks.cluster, "vm_size": "Standard_NC4as_T4_v3", "pool_name": first,
                            **(with_fallback if first_fallback else {})}, k8s)
        GpuNodePool("two", {"cluster": aks.cluster, "vm_size": "Standard_NC8as_T4_v3", "pool_name": second,
                            **(with_fallback if second_fallback else {})}, k8s)
    assert refusal(program) == (
        f"GpuNodePool two: input pool_name={second!r} is invalid; allowed: a pool name no other GpuNodePool on this "
        f"cluster uses: 'one' has the AKS pool {taken!r} (a fallback is <pool_name>od); give this pool another "
        "pool_name")


@pytest.mark.parametrize("workload, pool_name, fallback, taken", [
    ("cpu", "system", False, "system"), ("work", "work", False, "work"), ("gpuod", "gpu", True, "gpuod")],
    ids=["system-pool", "cpu-pool", "fallback-over-cpu-pool"])
def test_a_gpu_pool_named_like_one_of_the_clusters_own_pools_is_refused_by_name(workload, pool_name, fallback, taken):
    """The cluster's system and CPU pools are agent pools of it too: a GPU pool of one's name planned until the kit
    saw one pool twice, and a real `pulumi up` failed its create after the cluster's."""
    def program() -> None:
        aks, k8s, _ = platform(autoscaler_expander="priority", workload_pool={
            "name": workload, "vm_size": "Standard_D8s_v5", "min_count": 1, "max_count": 4})
        GpuNodePool("gpu", {"cluster": aks.cluster, "vm_size": "Standard_NC4as_T4_v3", "pool_name": pool_name,
                            **({"fallback": {"enabled": True, "min_count": 0, "max_count": 1}} if fallback else {})},
                    k8s)
    assert refusal(program) == (
        f"GpuNodePool gpu: input pool_name={pool_name!r} is invalid; allowed: a pool name the cluster does not have: "
        f"its own pools are 'system', {workload!r} and this pool would take {taken!r} (a fallback is "
        "<pool_name>od); give this pool another pool_name")


# ---- an Ollama server Observability's OllamaDown does not watch --------------------------------------------------
@pytest.mark.parametrize("watched, warned", [("other", True), ("team", False)])
def test_the_kit_warns_of_an_ollama_server_the_ollamadown_alert_does_not_watch(watched, warned):
    """Observability's `app_namespace` is a plain string a stranger types apart from the stack's namespace: told
    `other` while the stack ran in `team`, the alert selected no Deployment and never fired, and nothing said so."""
    def program() -> None:
        aks, k8s, vault = platform()
        Observability("obs", {"cluster": aks.cluster, "key_vault": vault.vault, "app_namespace": watched}, k8s)
        team = AppNamespace("team", {"namespace": "team"}, k8s)
        store = ModelStore("store", {"cluster": aks.cluster, "account_name": "ststranger5", "namespace": team.namespace},
                           k8s)
        InferenceStack("team", {"cluster": aks.cluster, "key_vault": vault.vault, "model_volume": store.volume}, k8s)
    warnings = run(program).warnings
    assert warnings == ([
        "team-ollama: the Ollama server in namespace team is not watched by the OllamaDown alert of this cluster's "
        "Observability (it watches other): give Observability app_namespace 'team', or add it to "
        "other_app_namespaces"] if warned else [])
