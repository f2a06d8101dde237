"""What a stranger composing the package in a project of their own met (2026-12-06), through the package's testing
kit as the README tells a consumer: llm-d beside an InferenceStack in one namespace, and a resource group two
components of one program both create (two clusters in one group, a model store's "own" group shared by two
clusters' stores or naming the cluster's). Each is refused by the component, naming the input, the value and what
to give instead, before it registers; before, the kit listed the objects two names collided on, and a program
run without the kit stopped at `pulumi up` after the first component's resources existed
(docs/decisions.md, "A stranger's compositions (2026-12-06)")."""
import re
from typing import Any

import pulumi
import pytest
from pulumi_azure_native import resources

from llmplatform import (AksCluster, ComponentInputError, GatewayAccess, GpuNodePool, InferenceStack, KeyVault,
                         LlmdStack, ModelAutoscaler, ModelStore, Observability)
from llmplatform.testing import ProgramError, run

from tests.components.test_components_alone import cluster_handle, provider_opts

NETWORK: Any = {"vnet_cidr": "10.90.0.0/16", "node_subnet_cidr": "10.90.0.0/20",
                "endpoints_subnet_cidr": "10.90.16.0/24", "postgres_subnet_cidr": "10.90.17.0/24",
                "pod_cidr": "192.168.0.0/16", "service_cidr": "172.16.0.0/16", "dns_service_ip": "172.16.0.10"}


def cluster(name: str, group: Any, second_octet: int = 90, **extra: Any) -> AksCluster:
    network = {k: v.replace("10.90.", f"10.{second_octet}.") for k, v in NETWORK.items()}
    return AksCluster(name, {
        "cluster_name": f"aks-{name}", "resource_group_name": group, "location": "westeurope", "network": network,
        "system_pool": {"name": "system", "vm_size": "Standard_D2s_v5", "min_count": 1, "max_count": 2},
        "workload_pool": {"name": "cpu", "vm_size": "Standard_D4s_v5", "min_count": 1, "max_count": 3}, **extra})


def refused(program: Any) -> ComponentInputError:
    with pytest.raises(ComponentInputError) as error:
        run(program)
    return error.value


# ---- llm-d beside an InferenceStack: one API gate per namespace ------------------------------------------------
def llmd_and_ollama(llmd_first: bool, llmd_namespace: str = "llm") -> None:
    aks = cluster("team", "rg-team")
    on = pulumi.ResourceOptions(providers=[aks.provider])
    a100 = GpuNodePool("a100", {"cluster": aks.cluster, "vm_size": "Standard_NC24ads_A100_v4"}, on)
    gateway = GatewayAccess("gw", {"cluster": aks.cluster, "inference_extension": True}, on)
    vault = KeyVault("kv", {"cluster": aks.cluster, "vault_name": "kv-team-llm-01"})

    def llmd() -> None:
        LlmdStack("llmd", {"cluster": aks.cluster, "gpu": a100.scheduling, "route_target": gateway.route_target,
                           "model": "Qwen/Qwen3-0.6B", "key_vault": vault.vault, "namespace": llmd_namespace}, on)
    if llmd_first:
        llmd()
    store = ModelStore("models", {"cluster": aks.cluster, "account_name": "stteammodels", "namespace": "llm"}, on)
    InferenceStack("llm", {"cluster": aks.cluster, "key_vault": vault.vault, "model_volume": store.volume}, on)
    if not llmd_first:
        llmd()


SAME_NAMES = ("a namespace where no other InferenceStack, LlmdStack or ApiGate on this cluster runs: {other} runs in "
              "'llm', and both run the API gate there under the same names (the Deployment and Service router, the "
              "NetworkPolicies router-ingress and egress-guard): ")


def test_an_llmd_stack_in_an_inference_stacks_namespace_is_refused_by_name():
    """Both run api_router's gate under fixed names (router, router-ingress, egress-guard...): the API server
    refuses the second's objects at `pulumi up`. The kit listed seven objects that collided, naming no input, and
    gave no advice (its one-per-namespace line is for two components of one kind)."""
    error = refused(lambda: llmd_and_ollama(llmd_first=False))
    assert str(error) == ("LlmdStack llmd: input namespace='llm' is invalid; allowed: "
                          + SAME_NAMES.format(other="InferenceStack 'llm'")
                          + "give the LlmdStack a namespace of its own (its namespace input; default llm-d)")
    assert [e["property_path"] for e in error.errors or []] == ["namespace"]


def test_an_inference_stack_in_an_llmd_stacks_namespace_is_refused_by_name():
    error = refused(lambda: llmd_and_ollama(llmd_first=True))
    assert str(error) == ("InferenceStack llm: input model_volume.namespace='llm' is invalid; allowed: "
                          + SAME_NAMES.format(other="LlmdStack 'llmd'")
                          + "give it the volume of a ModelStore in a namespace of its own")


def test_llmd_in_a_namespace_of_its_own_beside_the_inference_stack_plans():
    plan = run(lambda: llmd_and_ollama(llmd_first=False, llmd_namespace="llm-d"))
    routers = sorted(r.inputs["metadata"]["namespace"] for r in plan.of_type("kubernetes:apps/v1:Deployment")
                     if r.inputs["metadata"]["name"] == "router")
    assert routers == ["llm", "llm-d"]


# ---- a resource group two components create ----------------------------------------------------------------------
GROUP_TAKEN = ("a group no other component of this program creates: {other} creates {group!r} (its {key}), and "
               "azure-native creates a group only where none exists (two creates at once both pass, and deleting "
               "either component deletes the group with everything in it); create the group once (a ResourceGroup of "
               "your own) and give each {what}")


def two_clusters_one_group() -> None:
    cluster("a", "rg-llm")
    cluster("b", "rg-llm", 91)


def stores_sharing_a_group() -> None:
    for name, octet in (("a", 90), ("b", 91)):
        aks = cluster(name, f"rg-{name}", octet)
        ModelStore(f"models-{name}", {"cluster": aks.cluster, "account_name": f"stmodels{name}01",
                                      "namespace": "llm", "separate_resource_group": "rg-models"},
                   pulumi.ResourceOptions(providers=[aks.provider]))


def store_in_the_clusters_group() -> None:
    aks = cluster("a", "rg-a")
    ModelStore("models", {"cluster": aks.cluster, "account_name": "stmodelsa01", "namespace": "llm",
                          "separate_resource_group": "RG-A"}, pulumi.ResourceOptions(providers=[aks.provider]))


@pytest.mark.parametrize("program, message", [
    (two_clusters_one_group, "AksCluster b: input resource_group_name='rg-llm' is invalid; allowed: "
     + GROUP_TAKEN.format(other="AksCluster 'a'", group="rg-llm", key="resource_group_name",
                          what="cluster its name with existing_resource_group true")),
    (stores_sharing_a_group, "ModelStore models-b: input separate_resource_group='rg-models' is invalid; allowed: "
     + GROUP_TAKEN.format(other="ModelStore 'models-a'", group="rg-models", key="separate_resource_group",
                          what="store its name as resource_group_name")),
    # Azure compares group names without case
    (store_in_the_clusters_group, "ModelStore models: input separate_resource_group='RG-A' is invalid; allowed: "
     + GROUP_TAKEN.format(other="AksCluster 'a'", group="rg-a", key="resource_group_name",
                          what="store its name as resource_group_name")),
], ids=["two-clusters", "two-stores", "store-in-cluster-group"])
def test_a_group_two_components_create_is_refused_naming_the_input(program, message):
    """azure-native's create asks Azure first and refuses a group that exists ("cannot create already existing
    resource", CanCreate): without the kit the second create failed at `pulumi up` after the first component's
    resources, or, sent at once, both passed and each component owned the one group (deleting either deletes
    everything in it). The kit named two ResourceGroups as one object, not the input."""
    error = refused(program)
    assert str(error) == message


def test_the_group_created_once_and_named_by_both_plans():
    """What the refusal says to do: the user's own group, given to both clusters and both stores."""
    def program() -> None:
        shared = resources.ResourceGroup("shared", resource_group_name="rg-llm", location="westeurope")
        models = resources.ResourceGroup("models", resource_group_name="rg-models", location="westeurope")
        for name, octet in (("a", 90), ("b", 91)):
            aks = cluster(name, shared.name, octet, existing_resource_group=True)
            ModelStore(f"models-{name}", {"cluster": aks.cluster, "account_name": f"stmodels{name}01",
                                          "namespace": "llm", "resource_group_name": models.name},
                       pulumi.ResourceOptions(providers=[aks.provider]))
    plan = run(program)
    accounts = plan.of_type("azure-native:storage:StorageAccount")
    assert sorted(a.inputs["resourceGroupName"] for a in accounts) == ["rg-models", "rg-models"]
    assert len(plan.of_type("azure-native:resources:ResourceGroup")) == 2


def test_a_separate_group_that_is_a_hand_built_clusters_own_is_refused():
    """A cluster the user did not make with AksCluster (docs/components/own-cluster.md): its group exists already,
    so a store asked to create it fails at `pulumi up` (CanCreate), and nothing in the program creates it for the kit
    to see twice."""
    def program() -> None:
        handle = cluster_handle()
        ModelStore("models", {"cluster": handle, "account_name": "stmodels01", "namespace": "llm",
                              "separate_resource_group": handle["resource_group_name"].upper()}, provider_opts())
    error = refused(program)
    assert str(error) == (
        "ModelStore models: input separate_resource_group='RG-TEST' is invalid; allowed: a group other than the "
        "cluster's ('rg-test'), which exists already (azure-native creates a group only where none exists): leave "
        "separate_resource_group out to keep the store in the cluster's group, or name a new group")


# ---- a cluster's pods given another cluster's vault or volume --------------------------------------------------
def two_clusters(vault_of: str = "b", store_of: str = "b", private: bool = False) -> None:
    """An InferenceStack on cluster b, its vault and model store built for the cluster named."""
    clusters = {name: cluster(name, f"rg-{name}", octet) for name, octet in (("a", 90), ("b", 91))}
    on = {name: pulumi.ResourceOptions(providers=[aks.provider]) for name, aks in clusters.items()}
    vault = KeyVault("kv", {"cluster": clusters[vault_of].cluster, "vault_name": "kv-stranger-01",
                            **({"public_network_access": False} if private else {})})
    store = ModelStore("models", {"cluster": clusters[store_of].cluster, "account_name": "stmodels01",
                                  "namespace": "llm"}, on[store_of])
    InferenceStack("llm", {"cluster": clusters["b"].cluster, "key_vault": vault.vault, "model_volume": store.volume},
                   on["b"])


def kit_refusal(program: Any) -> str:
    with pytest.raises(ProgramError) as error:
        run(program)
    return str(error.value)


B = "https://aks-b.hcp.westeurope.azmk8s.io:443"
NODES_A = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-a/providers/Microsoft.Network/" \
          "virtualNetworks/vnet-aks-a/subnets/nodes"


def test_pods_reading_a_vault_built_for_another_cluster_are_refused_by_the_kit():
    """KeyVault admits its cluster's node subnet alone (default Deny): the Secrets Store CSI driver on the other
    cluster's nodes is answered 403 (Key Vault's firewall, learn.microsoft.com azure/key-vault/general/
    network-security), the gate's mount fails and `pulumi up` waits out its deadline. The mocks took it."""
    message = kit_refusal(lambda: two_clusters(vault_of="a"))
    assert (f"llm-router-secrets on cluster {B} reads vault kv-stranger-01, whose firewall (kv-vault: default Deny) "
            f"admits only {NODES_A}, none of that cluster's node subnets") in message


def test_pods_reading_a_private_vault_of_another_clusters_network_are_refused_by_the_kit():
    message = kit_refusal(lambda: two_clusters(vault_of="a", private=True))
    assert (f"llm-router-secrets on cluster {B} reads vault kv-stranger-01, which takes private endpoint traffic "
            "alone (kv-vault: public network access off) and whose private DNS zone links no VNet of that cluster"
            ) in message


def test_a_model_server_on_another_clusters_volume_claim_is_refused_by_the_kit():
    """ModelStore's claim is an object of the cluster its provider reaches: an Ollama on the other cluster mounts a
    claim that does not exist there and stays Pending."""
    message = kit_refusal(lambda: two_clusters(store_of="a"))
    assert (f"llm-ollama on cluster {B} mounts claim llm/models, which this program creates on cluster "
            "https://aks-a.hcp.westeurope.azmk8s.io:443 only (models-pvc)") in message


def test_each_cluster_with_its_own_vault_and_store_plans():
    plan = run(two_clusters)
    assert plan.one("azure-native:keyvault:Vault").inputs["properties"]["networkAcls"]["virtualNetworkRules"] == [
        {"id": NODES_A.replace("rg-a", "rg-b").replace("aks-a", "aks-b")}]


# ---- two autoscalers on one model server ---------------------------------------------------------------------------
def two_autoscalers(first: str, second: str, second_as_output: bool = False) -> None:
    """One InferenceStack's Ollama (autoscaled, behind KEDA's interceptor), scaled by two ModelAutoscalers."""
    aks = cluster("team", "rg-team")
    on = pulumi.ResourceOptions(providers=[aks.provider])
    vault = KeyVault("kv", {"cluster": aks.cluster, "vault_name": "kv-team-llm-01"})
    obs = Observability("obs", {"cluster": aks.cluster, "key_vault": vault.vault, "app_namespace": "llm"}, on)
    store = ModelStore("models", {"cluster": aks.cluster, "account_name": "stteammodels", "namespace": "llm"}, on)
    stack = InferenceStack("llm", {"cluster": aks.cluster, "key_vault": vault.vault, "model_volume": store.volume,
                                   "keda": obs.keda, "autoscaled": True}, on)
    for name, mode in (("first", first), ("second", second)):
        server = pulumi.Output.from_input(stack.model_server) if second_as_output and name == "second" \
            else stack.model_server
        ModelAutoscaler(name, {"model_server": server, "mode": mode, "min_replicas": 1, "max_replicas": 2,
                               **({"keda": obs.keda} if mode == "requests" else {})}, on)


@pytest.mark.parametrize("first, second", [("requests", "cpu"), ("cpu", "requests"), ("requests", "requests"),
                                           ("cpu", "cpu")])
def test_a_second_autoscaler_on_one_model_server_is_refused_by_name(first, second):
    """A ScaledObject (requests) and an HPA (cpu) on one Deployment: KEDA's webhook lets the HPA be (it carries
    validations.keda.sh/hpa-ownership false), and its own HPA and the other select the same pods, so Kubernetes' HPA
    controller scales with neither (AmbiguousSelector). The mixed pair planned without a word; the same mode twice
    was told "one ModelAutoscaler per namespace ... give each its own namespace", not the model server."""
    error = refused(lambda: two_autoscalers(first, second))
    assert str(error) == (
        "ModelAutoscaler second: input model_server=\"the model server ModelAutoscaler 'first' scales\" is invalid; "
        f"allowed: a model server no other ModelAutoscaler scales: 'first' scales it (mode {first}); one autoscaler "
        "per model server, as two make two HPAs on one Deployment (a ScaledObject's own among them), which stops "
        "both (Kubernetes' HPA controller: AmbiguousSelector), or, of one mode, name the same objects: keep one of "
        "the two")
    assert [e["property_path"] for e in error.errors or []] == ["model_server"]


def test_a_second_autoscaler_on_a_model_server_handed_as_an_output_is_refused_by_the_kit():
    """The handle as an output (another language's, a StackReference's) is not one ModelAutoscaler can compare."""
    message = kit_refusal(lambda: two_autoscalers("requests", "cpu", second_as_output=True))
    # the kit names the two in the order they registered, which is the event loop's (a late check more on the way
    # of one moves it)
    pair = re.search(r"(\S+) \((\w+)\) and (\S+) \((\w+)\) both scale Deployment llm/ollama: two HPAs on one "
                     r"Deployment \(a ScaledObject's own among them\) stop both \(AmbiguousSelector\)", message)
    assert pair is not None, message
    assert {pair.group(1, 2), pair.group(3, 4)} == {("second-hpa", "HorizontalPodAutoscaler"),
                                                    ("first-scaler", "ScaledObject")}


def test_routes_published_on_another_clusters_gateways_are_refused_by_the_kit():
    """GatewayAccess's route_target handed to an InferenceStack on another cluster: its HTTPRoutes name Gateways
    that cluster does not have (nor, without a GatewayAccess there, the Gateway API CRDs), so nothing serves them."""
    def program() -> None:
        clusters = {name: cluster(name, f"rg-{name}", octet) for name, octet in (("a", 90), ("b", 91))}
        on_b = pulumi.ResourceOptions(providers=[clusters["b"].provider])
        gateway = GatewayAccess("gw", {"cluster": clusters["a"].cluster},
                                pulumi.ResourceOptions(providers=[clusters["a"].provider]))
        vault = KeyVault("kv", {"cluster": clusters["b"].cluster, "vault_name": "kv-stranger-01"})
        store = ModelStore("models", {"cluster": clusters["b"].cluster, "account_name": "stmodels01",
                                      "namespace": "llm"}, on_b)
        InferenceStack("llm", {"cluster": clusters["b"].cluster, "key_vault": vault.vault,
                               "model_volume": store.volume, "route_target": gateway.route_target}, on_b)
    message = kit_refusal(program)
    assert (f"llm-api-route on cluster {B} attaches to Gateways gw-gateway/internal-gateway (gw-internal), "
            "gw-gateway/external-gateway (gw-external), which this program creates on cluster "
            "https://aks-a.hcp.westeurope.azmk8s.io:443 only") in message
