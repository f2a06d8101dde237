"""What a platform engineer composing their own platform from the package met, through the package's own testing
kit (`llmplatform.testing.run`, as the README tells a consumer): a capitalised InferenceStack name refused by a part
the user never created, a keda handle of an Observability with KEDA off wired into a broken deploy, and the
one-per-namespace advice for components whose namespace is fixed."""
from typing import Any

import pulumi
import pytest

from llmplatform import (AksCluster, ComponentInputError, GatewayAccess, InferenceStack, KeyVault, LlmdStack,
                         GpuNodePool, ModelAutoscaler, ModelStore, Observability)
from llmplatform.testing import ProgramError, run

NETWORK: Any = {"vnet_cidr": "10.80.0.0/16", "node_subnet_cidr": "10.80.0.0/20",
                "endpoints_subnet_cidr": "10.80.16.0/24", "postgres_subnet_cidr": "10.80.17.0/24",
                "pod_cidr": "100.64.0.0/16", "service_cidr": "10.250.0.0/16", "dns_service_ip": "10.250.0.10"}


def platform() -> tuple[AksCluster, pulumi.ResourceOptions, KeyVault]:
    aks = AksCluster("core", {
        "cluster_name": "aks-acme-ml", "resource_group_name": "rg-acme-ml", "location": "swedencentral",
        "network": NETWORK,
        "system_pool": {"name": "sys", "vm_size": "Standard_D4s_v5", "min_count": 1, "max_count": 3},
        "workload_pool": {"name": "work", "vm_size": "Standard_D8s_v5", "min_count": 1, "max_count": 4}})
    vault = KeyVault("kv", {"cluster": aks.cluster, "vault_name": "kv-acme-ml-01"})
    return aks, pulumi.ResourceOptions(providers=[aks.provider]), vault


def store(aks: AksCluster, k8s: pulumi.ResourceOptions) -> ModelStore:
    return ModelStore("weights", {"cluster": aks.cluster, "account_name": "stacmeweights01", "namespace": "acme",
                                  "models": ["qwen2.5:0.5b"]}, k8s)


# ---- an InferenceStack's resource name is its parts' name_prefix only when the user gives one ------------------
@pytest.mark.parametrize("webui", [False, True])
def test_a_capitalised_inference_stack_name_is_taken_as_the_name_of_its_parts(webui):
    """A resource name with capitals (a YAML program's camelCase `llmStack`) stands in for an unset name_prefix of
    Azure names, as every component allows; InferenceStack handed it to ApiGate as an explicit name_prefix, which
    refused it as "ApiGate LLM: input name_prefix='LLM' is invalid": a component and an input the user never used."""
    def program():
        aks, k8s, vault = platform()
        InferenceStack("llmStack", {"cluster": aks.cluster, "key_vault": vault.vault,
                                    "model_volume": store(aks, k8s).volume,
                                    **({"database_url_secret": "pg-url"} if webui else {})}, k8s)
    plan = run(program)
    identities = sorted(r.inputs["resourceName"]
                        for r in plan.of_type("azure-native:managedidentity:UserAssignedIdentity"))
    assert identities == (["id-llmStack-open-webui", "id-llmStack-router"] if webui else ["id-llmStack-router"])


def test_an_explicit_name_prefix_still_follows_the_lowercase_rule_and_names_the_inference_stack():
    def program():
        aks, k8s, vault = platform()
        InferenceStack("llm", {"cluster": aks.cluster, "key_vault": vault.vault,
                               "model_volume": store(aks, k8s).volume, "name_prefix": "Acme"}, k8s)
    with pytest.raises(ComponentInputError) as error:
        run(program)
    assert str(error.value).startswith("InferenceStack llm: input name_prefix='Acme' is invalid; allowed: 1-40 "
                                       "lowercase letters")


# ---- a keda handle without KEDA behind it --------------------------------------------------------------------
KEDA_OFF = ("input keda='the keda of an Observability with keda off' is invalid; allowed: the keda of an "
            "Observability with keda on (its default), or no keda at all")


def observability(aks: AksCluster, k8s: pulumi.ResourceOptions, vault: KeyVault, keda: bool) -> Observability:
    return Observability("obs", {"cluster": aks.cluster, "key_vault": vault.vault, "app_namespace": "acme",
                                 "keda": keda}, k8s)


def autoscaler_on_keda_off(mode: str, min_replicas: int):
    """A program: an InferenceStack scaled by a ModelAutoscaler in `mode`, on the keda handle of an Observability
    with KEDA off."""
    def program():
        aks, k8s, vault = platform()
        obs = observability(aks, k8s, vault, keda=False)
        # the autoscaler owns the replica count (a stack that keeps it is refused: test_stranger6_consumer.py)
        stack = InferenceStack("llm", {"cluster": aks.cluster, "key_vault": vault.vault,
                                       "model_volume": store(aks, k8s).volume, "autoscaled": True}, k8s)
        # in requests mode, a server as one behind a KEDA interceptor hands it out (its hosts): a stack without
        # keda is refused for that too (test_stranger5_consumer.py)
        server = {**stack.model_server, "hosts": ["ollama-scaled.acme"]} if mode == "requests" else stack.model_server
        ModelAutoscaler("scale", {"model_server": server, "mode": mode, "min_replicas": min_replicas,
                                  "max_replicas": 2, "keda": obs.keda}, k8s)
    return program


def test_an_inference_stack_on_the_keda_of_an_observability_with_keda_off_is_refused():
    """Its handle has interceptor_host "" and port 0: the stack registered an ExternalName Service with an empty
    externalName (the API server refuses it) and nginx `server ollama-scaled:0` (nginx refuses port 0), and
    `kubernetes_schemas.problems` found nothing."""
    def program():
        aks, k8s, vault = platform()
        obs = observability(aks, k8s, vault, keda=False)
        InferenceStack("llm", {"cluster": aks.cluster, "key_vault": vault.vault,
                               "model_volume": store(aks, k8s).volume, "keda": obs.keda}, k8s)
    with pytest.raises(ComponentInputError) as error:
        run(program)
    assert str(error.value) == f"InferenceStack llm: {KEDA_OFF}"
    assert [e["property_path"] for e in error.value.errors or []] == ["keda"]


def test_a_requests_autoscaler_and_an_autoscaled_llmd_stack_on_keda_off_are_refused():
    """Both create KEDA custom resources (HTTPScaledObject, ScaledObject) whose CRDs only KEDA installs."""
    autoscaler = autoscaler_on_keda_off("requests", min_replicas=0)

    def llmd():
        aks, k8s, vault = platform()
        obs = observability(aks, k8s, vault, keda=False)
        gpu = GpuNodePool("a100", {"cluster": aks.cluster, "vm_size": "Standard_NC24ads_A100_v4",
                                   "driver": "operator"}, k8s)
        gateway = GatewayAccess("gw", {"cluster": aks.cluster, "inference_extension": True}, k8s)
        LlmdStack("llmd", {"cluster": aks.cluster, "gpu": gpu.scheduling, "key_vault": vault.vault,
                           "route_target": gateway.route_target, "model": "Qwen/Qwen3-8B", "autoscaling": True,
                           "keda": obs.keda}, k8s)
    for program, component in ((autoscaler, "ModelAutoscaler scale"), (llmd, "LlmdStack llmd")):
        with pytest.raises(ComponentInputError) as error:
            run(program)
        assert str(error.value) == f"{component}: {KEDA_OFF}"


def test_keda_on_and_a_gpu_memory_autoscaler_with_keda_off_still_plan():
    def program():
        aks, k8s, vault = platform()
        obs = observability(aks, k8s, vault, keda=True)
        stack = InferenceStack("llm", {"cluster": aks.cluster, "key_vault": vault.vault,
                                       "model_volume": store(aks, k8s).volume, "keda": obs.keda}, k8s)
        ModelAutoscaler("scale", {"model_server": stack.model_server, "mode": "requests", "min_replicas": 1,
                                  "max_replicas": 2, "keda": obs.keda}, k8s)  # the interceptor's route to it
    scaled = run(program).one("kubernetes:core/v1:Service", "llm-ollama-scaled")
    assert scaled.inputs["spec"]["externalName"] == "keda-add-ons-http-interceptor-proxy.keda.svc.cluster.local"

    cpu_mode = run(autoscaler_on_keda_off("cpu", min_replicas=1))
    assert cpu_mode.of_type("kubernetes:autoscaling/v2:HorizontalPodAutoscaler")


# ---- a second component of a kind whose namespace is fixed -----------------------------------------------------
@pytest.mark.parametrize("kind, namespace, objects", [
    ("Observability", "keda", "(egress-guard, interceptor-ingress, interceptor-metrics, keda, keda-add-ons-http)"),
    ("GatewayAccess", "istio-system", "(base, egress-guard, istiod)"),
])
def test_two_of_a_cluster_wide_component_are_told_one_per_cluster_not_a_namespace_each(kind, namespace, objects):
    """Their namespaces are fixed, so "give each its own namespace (for an InferenceStack: ...)" was advice the user
    could not follow, under "Observabilitys"/"GatewayAccesss"."""
    def program():
        aks, k8s, vault = platform()
        for name in ("one", "two"):
            if kind == "Observability":
                Observability(name, {"cluster": aks.cluster, "key_vault": vault.vault, "app_namespace": "acme"}, k8s)
            else:
                GatewayAccess(name, {"cluster": aks.cluster, "name_prefix": name}, k8s)
    with pytest.raises(ProgramError) as error:
        run(program)
    plural = {"Observability": "Observabilities", "GatewayAccess": "GatewayAccesses"}[kind]
    assert (f"one {kind} per cluster: {plural} 'one' and 'two' both put their objects in namespace {namespace!r} of "
            f"one cluster, which every {kind} uses, naming its objects the same way {objects}; build one {kind} per "
            f"cluster and hand its outputs to every component that needs them") in [
        line.strip() for line in str(error.value).splitlines()]
    assert "own namespace" not in str(error.value)


# ---- docs/components/observability.md: Azure Monitor in a consumer's own program --------------------------------
def test_the_observability_docs_composition_gives_the_cluster_both_agents_after_its_group():
    """The doc's snippet, whole: the cluster carries Container Insights and the metrics add-on from the
    AzureMonitoring handed to Observability, and waits for the group the workspaces are in."""
    import pulumi_azure_native as azure_native
    from llmplatform import AzureMonitoring

    def program():
        group = azure_native.resources.ResourceGroup("rg", resource_group_name="rg-team-a", location="eastus2")
        monitoring = AzureMonitoring("mon", {"location": "eastus2", "resource_group_name": group.name,
                                             "alert_emails": ["oncall@example.com"]})
        aks = AksCluster("aks", {
            "cluster_name": "aks-team-a", "location": "eastus2", "resource_group_name": group.name,
            "existing_resource_group": True, "network": NETWORK,
            "system_pool": {"name": "system", "vm_size": "Standard_D2s_v5", "min_count": 1, "max_count": 2},
            "workload_pool": {"name": "cpu", "vm_size": "Standard_D4s_v5", "min_count": 1, "max_count": 3},
            "log_analytics_workspace_id": monitoring.log_analytics_workspace_id, "managed_prometheus": True})
        vault = KeyVault("kv", {"cluster": aks.cluster, "vault_name": "kv-team-a-obs"})
        Observability("obs", {"cluster": aks.cluster, "key_vault": vault.vault, "app_namespace": "llm",
                              "monitoring": monitoring.monitoring}, pulumi.ResourceOptions(providers=[aks.provider]))
    plan = run(program)
    cluster = plan.one("azure-native:containerservice:ManagedCluster")
    assert cluster.inputs["azureMonitorProfile"]["metrics"]["enabled"] is True
    assert cluster.inputs["addonProfiles"]["omsagent"]["enabled"] is True
    assert plan.waits_for(cluster, lambda r: r.type == "azure-native:resources:ResourceGroup")
    assert plan.of_type("azure-native:monitor:DataCollectionRuleAssociation")


# ---- a warm model the store does not preload ---------------------------------------------------------------------
def warming(warm: str, preload: bool = True, as_output: bool = False):
    """A program: an InferenceStack warming `warm` on a store that preloads qwen2.5:0.5b (its volume handle as one
    output, as another language hands it, with `as_output`)."""
    def build():
        aks, k8s, vault = platform()
        volume: Any = ModelStore("weights", {"cluster": aks.cluster, "account_name": "stacmeweights01",
                                             "namespace": "acme", "models": ["qwen2.5:0.5b"], "preload": preload},
                                 k8s).volume
        InferenceStack("llm", {"cluster": aks.cluster, "key_vault": vault.vault, "warm_model": warm,
                               "model_volume": pulumi.Output.from_input(volume) if as_output else volume}, k8s)
    return build


def test_a_warm_model_the_store_does_not_preload_is_refused_and_one_it_does_is_taken():
    """The startup probe loads the warm model from the read-only store: one the preload Job does not pull keeps every
    replica unready until the Deployment's deadline (45 minutes on a GPU). The volume handle now says which models
    the store pulls; a store filled some other way (preload off) says nothing and is not checked."""
    program = warming
    with pytest.raises(ComponentInputError) as error:
        run(program("llama3.2:3b"))
    assert str(error.value) == ("InferenceStack llm: input warm_model='llama3.2:3b' is invalid; allowed: one of the "
                                "models the store preloads ('qwen2.5:0.5b'), or none")
    assert run(program("qwen2.5:0.5b")).one("kubernetes:apps/v1:Deployment", "llm-ollama")
    assert run(program("llama3.2:3b", preload=False)).one("kubernetes:apps/v1:Deployment", "llm-ollama")


def test_the_warm_model_is_matched_as_ollama_matches_names_ignoring_case():
    """Ollama looks models up ignoring case (Name.EqualFold): `Qwen2.5:0.5B` is the store's `qwen2.5:0.5b`."""
    from llmplatform.ollama_names import same_model
    assert same_model("Qwen2.5:0.5B", "qwen2.5:0.5b") and same_model("qwen2.5", "library/qwen2.5:latest")
    assert not same_model("qwen2.5:0.5b", "qwen2.5:1.5b")


def test_a_keda_handle_with_keda_off_that_arrives_as_an_output_is_refused_once_known():
    """Another language's handle arrives through the component provider as one output, so the rule above cannot read
    it when the component is built; the ExternalName the interceptor host feeds checks it once known. The refusal is
    a RunError that is no ValueError: the SDK wraps a ValueError raised in an apply in its own "While processing ..."
    chain, which the language host prints with a traceback."""
    def program():
        aks, k8s, vault = platform()
        keda = pulumi.Output.from_input({"namespace": "", "interceptor_host": "", "interceptor_port": 0,
                                         "external_scaler": "", "prometheus_url": ""})  # as keda off hands it out
        InferenceStack("llm", {"cluster": aks.cluster, "key_vault": vault.vault,
                               "model_volume": store(aks, k8s).volume, "keda": keda}, k8s)
    with pytest.raises(ProgramError) as error:
        run(program)
    assert str(error.value) == f"InferenceStack llm: {KEDA_OFF}"  # the early check's words (the user's component)


def test_a_keda_handle_with_port_0_and_a_host_not_known_yet_is_refused_as_keda_off_not_as_its_port():
    """Port 0 comes only from KEDA off's handle (host "" beside it): with the host an output (another stack's) the
    refusal still says KEDA is off, not that the port is out of range, which names no fix. A port 0 beside a known
    host is a port out of range (test_child_refusals.py's FOUND)."""
    def program():
        aks, k8s, vault = platform()
        keda = {"namespace": "keda", "interceptor_host": pulumi.Output.from_input("keda-interceptor.keda"),
                "interceptor_port": 0, "external_scaler": "scaler:9090", "prometheus_url": "http://prom:9090"}
        InferenceStack("llm", {"cluster": aks.cluster, "key_vault": vault.vault,
                               "model_volume": store(aks, k8s).volume, "keda": keda}, k8s)
    with pytest.raises(ComponentInputError) as error:
        run(program)
    assert str(error.value) == f"InferenceStack llm: {KEDA_OFF}"


def test_a_warm_model_is_checked_against_a_volume_handle_that_arrives_as_an_output():
    """Another language's volume handle is one output: the warm model is checked once it resolves, as a sentence."""
    def program(warm: str):
        return warming(warm, as_output=True)
    with pytest.raises(ProgramError) as error:
        run(program("llama3.2:3b"))
    assert str(error.value) == ("InferenceStack llm: input warm_model='llama3.2:3b' is invalid; allowed: one of the "
                                "models the store preloads ('qwen2.5:0.5b'), or none")
    probe = run(program("Qwen2.5:0.5B")).one("kubernetes:apps/v1:Deployment", "llm-ollama").inputs["spec"][
        "template"]["spec"]["containers"][0]["startupProbe"]
    assert "Qwen2.5:0.5B" in " ".join(probe["exec"]["command"])
