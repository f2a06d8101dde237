"""A review of the stranger's per-run claims (llmplatform.shared_names, 2026-12-06), as a user meets them: the API
gate's namespace claimed by ApiGate too (the parts composition, or an ApiGate put in front of an LlmdStack, which
runs its own gate), and the testing kit keying an Azure name by subscription, as the components do by provider
(docs/decisions.md, "A stranger's compositions (2026-12-06)", "Review (2026-12-06)")."""
from typing import Any

import pulumi
import pytest
from pulumi_azure_native import Provider as AzureProvider

from llmplatform import (ApiGate, ComponentInputError, GatewayAccess, GpuNodePool, InferenceStack, KeyVault,
                         LlmdStack, ModelStore, OllamaServer)
from llmplatform.testing import ProgramError, run

from tests.components.test_stranger7_consumer import NETWORK, cluster

GATE_TAKEN = ("a namespace where no other InferenceStack, LlmdStack or ApiGate on this cluster runs: {other} runs in "
              "{namespace!r}, and both run the API gate there under the same names (the Deployment and Service "
              "router, the NetworkPolicies router-ingress and egress-guard): ")
GATE_HOW = ("give the gate the endpoint of a model server in a namespace of its own (an LlmdStack's endpoint is "
            "gated already: hand it to its clients as it is)")


def refused(program: Any) -> ComponentInputError:
    with pytest.raises(ComponentInputError) as error:
        run(program)
    return error.value


def team() -> tuple[Any, pulumi.ResourceOptions, Any, Any, Any]:
    aks = cluster("team", "rg-team")
    on = pulumi.ResourceOptions(providers=[aks.provider])
    a100 = GpuNodePool("a100", {"cluster": aks.cluster, "vm_size": "Standard_NC24ads_A100_v4"}, on)
    gateway = GatewayAccess("gw", {"cluster": aks.cluster, "inference_extension": True}, on)
    vault = KeyVault("kv", {"cluster": aks.cluster, "vault_name": "kv-team-llm-01"})
    return aks, on, a100, gateway, vault


def llmd(aks: Any, on: pulumi.ResourceOptions, a100: Any, gateway: Any, vault: Any, namespace: str) -> LlmdStack:
    return LlmdStack("llmd", {"cluster": aks.cluster, "gpu": a100.scheduling, "route_target": gateway.route_target,
                              "model": "Qwen/Qwen3-0.6B", "key_vault": vault.vault, "namespace": namespace}, on)


def parts_beside_llmd(llmd_first: bool, parts_namespace: str = "llm") -> None:
    """OllamaServer and ApiGate (the parts InferenceStack is made of, offered on their own) in the namespace of an
    LlmdStack: ApiGate's gate and LlmdStack's share every name (router, router-ingress, router-secrets...)."""
    aks, on, a100, gateway, vault = team()
    if llmd_first:
        llmd(aks, on, a100, gateway, vault, "llm")
    store = ModelStore("models", {"cluster": aks.cluster, "account_name": "stteammodels",
                                  "namespace": parts_namespace}, on)
    server = OllamaServer("ollama", {"cluster": aks.cluster, "model_volume": store.volume}, on)
    ApiGate("gate", {"cluster": aks.cluster, "endpoint": server.endpoint, "key_vault": vault.vault}, on)
    if not llmd_first:
        llmd(aks, on, a100, gateway, vault, "llm")


def test_an_api_gate_in_an_llmd_stacks_namespace_is_refused_by_name():
    """Before, only the kit's list of the objects both claim (no input, no advice): the API server refused the
    second gate's creates at `pulumi up`, after everything before them."""
    error = refused(lambda: parts_beside_llmd(llmd_first=True))
    assert str(error) == ("ApiGate gate: input endpoint.namespace='llm' is invalid; allowed: "
                          + GATE_TAKEN.format(other="LlmdStack 'llmd'", namespace="llm") + GATE_HOW)
    assert [e["property_path"] for e in error.errors or []] == ["endpoint.namespace"]


def test_an_llmd_stack_in_an_api_gates_namespace_is_refused_by_name():
    error = refused(lambda: parts_beside_llmd(llmd_first=False))
    assert str(error) == ("LlmdStack llmd: input namespace='llm' is invalid; allowed: "
                          + GATE_TAKEN.format(other="ApiGate 'gate'", namespace="llm")
                          + "give the LlmdStack a namespace of its own (its namespace input; default llm-d)")


def test_an_api_gate_in_front_of_an_llmd_stack_is_refused_by_name():
    """LlmdStack's `endpoint` is its own gate, in its namespace: an ApiGate given it runs a second gate there under
    the same names (ApiGate's docs offered LlmdStack's endpoint as a model API to guard)."""
    def program() -> None:
        aks, on, a100, gateway, vault = team()
        stack = llmd(aks, on, a100, gateway, vault, "llm-d")
        ApiGate("gate", {"cluster": aks.cluster, "endpoint": stack.endpoint, "key_vault": vault.vault}, on)
    error = refused(program)
    assert str(error) == ("ApiGate gate: input endpoint.namespace='llm-d' is invalid; allowed: "
                          + GATE_TAKEN.format(other="LlmdStack 'llmd'", namespace="llm-d") + GATE_HOW)


def test_the_parts_in_a_namespace_of_their_own_beside_llmd_and_an_inference_stack_plan():
    """No false refusal: the parts in their own namespace, and an InferenceStack (whose own ApiGate is its part,
    in the namespace the stack claimed) beside them."""
    def program() -> None:
        aks, on, a100, gateway, vault = team()
        llmd(aks, on, a100, gateway, vault, "llm-d")
        store = ModelStore("models", {"cluster": aks.cluster, "account_name": "stteammodels", "namespace": "parts"},
                           on)
        server = OllamaServer("ollama", {"cluster": aks.cluster, "model_volume": store.volume}, on)
        ApiGate("gate", {"cluster": aks.cluster, "endpoint": server.endpoint, "key_vault": vault.vault}, on)
        own = ModelStore("own", {"cluster": aks.cluster, "account_name": "stteamown", "namespace": "llm"}, on)
        InferenceStack("llm", {"cluster": aks.cluster, "key_vault": vault.vault, "model_volume": own.volume}, on)
    plan = run(program)
    routers = sorted(r.inputs["metadata"]["namespace"] for r in plan.of_type("kubernetes:apps/v1:Deployment")
                     if r.inputs["metadata"]["name"] == "router")
    assert routers == ["llm", "llm-d", "parts"]


# ---- one group name in two subscriptions ---------------------------------------------------------------------------
def cluster_args(name: str, octet: int) -> Any:
    network = {k: v.replace("10.90.", f"10.{octet}.") for k, v in NETWORK.items()}
    return {"cluster_name": f"aks-{name}", "resource_group_name": "rg-llm", "location": "westeurope",
            "network": network,
            "system_pool": {"name": "system", "vm_size": "Standard_D2s_v5", "min_count": 1, "max_count": 2},
            "workload_pool": {"name": "cpu", "vm_size": "Standard_D4s_v5", "min_count": 1, "max_count": 3}}


class Region(pulumi.ComponentResource):
    """A user's own component holding one region's cluster; its providers are its children's."""

    def __init__(self, name: str, octet: int, opts: pulumi.ResourceOptions):
        from llmplatform import AksCluster
        super().__init__("stranger:index:Region", name, None, opts)
        AksCluster(name, cluster_args(name, octet), pulumi.ResourceOptions(parent=self))


def two_subscriptions(how: str, second_subscription: str = "22222222-2222-2222-2222-222222222222") -> None:
    from llmplatform import AksCluster
    one = AzureProvider("one", subscription_id="11111111-1111-1111-1111-111111111111")
    two = AzureProvider("two", subscription_id=second_subscription)
    opts = {"providers-list": lambda p: pulumi.ResourceOptions(providers=[p]),
            "providers-dict": lambda p: pulumi.ResourceOptions(providers={"azure-native": p}),
            "provider": lambda p: pulumi.ResourceOptions(provider=p)}
    if how == "parent":
        Region("a", 90, pulumi.ResourceOptions(providers=[one]))
        Region("b", 91, pulumi.ResourceOptions(providers=[two]))
        return
    AksCluster("a", cluster_args("a", 90), opts[how](one))
    AksCluster("b", cluster_args("b", 91), opts[how](two))


@pytest.mark.parametrize("how", ["providers-list", "providers-dict", "provider", "parent"])
def test_one_group_name_in_two_subscriptions_plans(how):
    """Two azure-native providers, one per subscription: rg-llm of each is its own group. The components took it
    (their claim is per provider), but the kit named the two groups, VNets and clusters one object each."""
    plan = run(lambda: two_subscriptions(how))
    assert [g.inputs["resourceGroupName"] for g in plan.of_type("azure-native:resources:ResourceGroup")] == \
        ["rg-llm", "rg-llm"]


def test_one_group_name_through_two_providers_of_one_subscription_is_refused_by_the_kit():
    """The components cannot read a provider's subscription (they compare providers by name); the kit can, and two
    providers of one subscription still create one group twice."""
    with pytest.raises(ProgramError) as error:
        run(lambda: two_subscriptions("providers-list", "11111111-1111-1111-1111-111111111111"))
    assert "a-rg and b-rg are one object: azure-native:resources:ResourceGroup resourceGroupName=rg-llm" in \
        str(error.value)


# ---- through the component provider: handles arrive as new outputs in each Construct -----------------------------
@pytest.mark.parametrize("with_dependencies", [False, True], ids=["plain", "from-a-resource"])
def test_a_second_autoscaler_on_one_model_server_is_refused_through_the_provider(provider_host, with_dependencies):
    """Another language's program hands one model server to two ModelAutoscalers: each Construct call builds the
    handle's fields anew (outputs with the values the engine sent), so a claim keyed by the caller's output objects
    never met the first; keyed by the values the engine sent, the second is refused as a Python caller's is. (The
    module's plugin process: a claim is keyed by project, stack and provider, and each case is a stack of its own.)"""
    from offline import plugin_host
    stack = f"two-scalers-{with_dependencies}"
    aks = plugin_host.run_yaml_program(provider_host.with_fresh_monitor(stack=stack),
                                       _yaml_cluster()).constructed["aks"]
    fresh = provider_host.with_fresh_monitor(stack=stack)
    # a handle another component handed out arrives with that component's dependencies (here the cluster's)
    dependencies = {"modelServer": [aks.urn]} if with_dependencies else None
    server = {"namespace": "llm", "deployment": "ollama", "service": "ollama", "port": 11434, "hosts": ["x"],
              "accelerator": "cpu"}
    providers = {"kubernetes": plugin_host._provider_ref(aks.wire["provider"])}
    for name, mode in (("first", "cpu"), ("second", "cpu")):
        inputs = {"modelServer": server, "mode": mode, "minReplicas": 1, "maxReplicas": 2}
        if name == "first":
            fresh.construct("llmplatform:index:ModelAutoscaler", name, inputs, dependencies, providers=providers)
            continue
        with pytest.raises(plugin_host.ConstructFailure) as failure:
            fresh.construct("llmplatform:index:ModelAutoscaler", name, inputs, dependencies, providers=providers)
    assert failure.value.message.startswith(
        "ModelAutoscaler second: input modelServer='the model server llm/ollama' is invalid; allowed: a model "
        "server no other ModelAutoscaler scales: 'first' scales it (mode cpu)"), failure.value.message
    assert [path for path, _ in failure.value.property_errors] == ["modelServer"]


def _yaml_cluster() -> dict[str, Any]:
    """The YAML example's cluster and what it names, for a Kubernetes provider to construct with."""
    import json

    import yaml

    from offline.plugin_host import _REFERENCE
    from tests.conftest import PROJECT_DIR
    program = yaml.safe_load((PROJECT_DIR / "examples" / "yaml-consumer" / "Pulumi.yaml").read_text())
    wanted, todo = set(), ["aks"]
    while todo:
        name = todo.pop()
        if name not in wanted:
            wanted.add(name)
            todo.extend(m.group(1) for m in _REFERENCE.finditer(json.dumps(program["resources"][name])))
    return {**program, "resources": {k: v for k, v in program["resources"].items() if k in wanted}, "outputs": {}}


@pytest.fixture(scope="module")
def provider_host():
    from offline import plugin_host
    started = plugin_host.ProviderHost()
    yield started
    started.close()


@pytest.mark.parametrize("llmd_namespace, refused_line", [
    # the InferenceStack's namespace arrives as ModelStore's volume, with its dependencies: an output in the
    # component, which the claim skipped (the second gate planned, and `pulumi up` failed on the router's objects)
    ("inference", "InferenceStack inference: input modelVolume.namespace='inference' is invalid; allowed: a "
                  "namespace where no other InferenceStack, LlmdStack or ApiGate on this cluster runs: LlmdStack "
                  "'llmd' runs in 'inference'"),
    # the ApiGate's namespace arrives as the OllamaServer's endpoint: before, ApiGate claimed nothing
    ("team-b", "ApiGate teamGate: input endpoint.namespace='team-b' is invalid; allowed: a namespace where no other "
               "InferenceStack, LlmdStack or ApiGate on this cluster runs: LlmdStack 'llmd' runs in 'team-b'"),
])
def test_a_gate_namespace_taken_twice_is_refused_through_the_provider(provider_host, llmd_namespace, refused_line):
    """The YAML example (every component, through the component provider) with its LlmdStack moved into the
    namespace of the InferenceStack or of the team's ApiGate."""
    import yaml

    from offline import plugin_host
    from tests.conftest import PROJECT_DIR
    program = yaml.safe_load((PROJECT_DIR / "examples" / "yaml-consumer" / "Pulumi.yaml").read_text())

    def moved(name: str, _type: str, properties: dict[str, Any]) -> dict[str, Any]:
        return {**properties, "namespace": llmd_namespace} if name == "llmd" else properties
    with pytest.raises(plugin_host.ConstructFailure) as failure:
        plugin_host.run_yaml_program(provider_host.with_fresh_monitor(stack=f"gate-{llmd_namespace}"), program,
                                     moved)
    assert failure.value.message.startswith(refused_line), failure.value.message


@pytest.mark.parametrize("second", ["AksCluster", "ModelStore"])
def test_a_group_two_components_create_is_refused_through_the_provider(provider_host, second):
    """Through the component provider every input that is not plain arrives as an output (a literal too): the
    group claim compared only plain names, so a YAML program's second cluster in the first one's group, or a store
    whose own group is its cluster's, planned and failed at `pulumi up` (CanCreate)."""
    from offline import plugin_host
    fresh = provider_host.with_fresh_monitor(stack=f"group-{second}")
    sent: dict[str, Any] = {}

    def own_group(name: str, _type: str, properties: dict[str, Any]) -> dict[str, Any]:
        if name == "aks":
            properties = {**properties, "existingResourceGroup": False}
            sent.update(properties)
        return properties
    aks = plugin_host.run_yaml_program(fresh, _yaml_cluster(), own_group).constructed["aks"]
    with pytest.raises(plugin_host.ConstructFailure) as failure:
        if second == "AksCluster":
            fresh.construct("llmplatform:index:AksCluster", "aks2", {**sent, "clusterName": "aks-two"})
        else:
            fresh.construct("llmplatform:index:ModelStore", "store", {
                "cluster": aks.wire["cluster"], "accountName": "stgroupdemo01", "namespace": "group-demo",
                "separateResourceGroup": "RG-YAML-DEMO"}, {"cluster": [aks.urn]},
                providers={"kubernetes": plugin_host._provider_ref(aks.wire["provider"])})
    if second == "AksCluster":
        assert failure.value.message.startswith(
            "AksCluster aks2: input resourceGroupName='rg-yaml-demo' is invalid; allowed: a group no other "
            "component of this program creates: AksCluster 'aks' creates 'rg-yaml-demo'"), failure.value.message
    else:  # the cluster's own group, named as the cluster handle holds it
        assert failure.value.message.startswith(
            "ModelStore store: input separateResourceGroup='RG-YAML-DEMO' is invalid; allowed: a group other than "
            "the cluster's ('rg-yaml-demo')"), failure.value.message


def test_a_group_taken_twice_is_named_as_the_first_creator_spells_it():
    """The refusal named the first creator's group in the second's spelling ("AksCluster 'a' creates 'RG-LLM'")."""
    from llmplatform import AksCluster

    def program() -> None:
        AksCluster("a", cluster_args("a", 90))
        AksCluster("b", {**cluster_args("b", 91), "resource_group_name": "RG-LLM"})
    error = refused(program)
    assert "AksCluster 'a' creates 'rg-llm' (its resource_group_name)" in str(error), str(error)


# ---- the kit's vault rule: a private endpoint in the reader's network -------------------------------------------
def test_a_vault_of_another_cluster_reached_through_a_private_endpoint_of_its_own_plans():
    """Cluster a's vault (firewall default Deny, a's subnet) read from cluster b through a private endpoint in b's
    network and the privatelink zone linked to b's VNet: Key Vault admits a private endpoint's traffic whatever its
    firewall says (learn.microsoft.com azure/key-vault/general/overview-vnet-service-endpoints: a firewall IP rule,
    a virtual network rule, or a private endpoint), so the kit's refusal (the firewall admits none of b's subnets)
    was false; with public access off it already took the link as the way in."""
    from pulumi_azure_native import network, privatedns

    from llmplatform import AksCluster
    def program() -> None:
        clusters = {name: cluster(name, f"rg-{name}", octet) for name, octet in (("a", 90), ("b", 91))}
        b: AksCluster = clusters["b"]
        on_b = pulumi.ResourceOptions(providers=[b.provider])
        vault = KeyVault("kv", {"cluster": clusters["a"].cluster, "vault_name": "kv-stranger-01"})
        after_b = pulumi.ResourceOptions(depends_on=[b])  # b's group and its network's last subnet first
        zone = privatedns.PrivateZone("b-kv-dns", private_zone_name="privatelink.vaultcore.azure.net",
                                      resource_group_name="rg-b", location="global", opts=after_b)
        privatedns.VirtualNetworkLink("b-kv-dns-link", private_zone_name=zone.name, resource_group_name="rg-b",
                                      location="global", registration_enabled=False,
                                      virtual_network=privatedns.SubResourceArgs(id=b.cluster["vnet_id"]),
                                      opts=after_b)
        network.PrivateEndpoint("b-kv-pe", resource_group_name="rg-b", location="westeurope",
                                subnet=network.SubnetArgs(id=b.cluster["endpoints_subnet_id"]),
                                private_link_service_connections=[network.PrivateLinkServiceConnectionArgs(
                                    name="vault", group_ids=["vault"], private_link_service_id=(
                                        "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-a/"
                                        "providers/Microsoft.KeyVault/vaults/kv-stranger-01"))], opts=after_b)
        store = ModelStore("models", {"cluster": b.cluster, "account_name": "stmodels01", "namespace": "llm"}, on_b)
        InferenceStack("llm", {"cluster": b.cluster, "key_vault": vault.vault, "model_volume": store.volume}, on_b)
    plan = run(program)
    assert len(plan.of_type("azure-native:privatedns:VirtualNetworkLink")) == 1


# ---- the kit's autoscaler rule: two objects of one name and two kinds ---------------------------------------------
def test_a_users_scaled_object_named_as_the_autoscalers_hpa_is_refused_by_the_kit():
    """A ScaledObject of the user's own, named after the Deployment as KEDA's examples name them, beside a cpu
    ModelAutoscaler (whose HPA takes the Deployment's name): two objects of two kinds, which the rule skipped as "one
    object twice" because their names matched; KEDA's HPA keda-hpa-ollama and the autoscaler's stop each other."""
    import pulumi_kubernetes as k8s

    from llmplatform import ModelAutoscaler
    def program() -> None:
        aks = cluster("team", "rg-team")
        on = pulumi.ResourceOptions(providers=[aks.provider])
        vault = KeyVault("kv", {"cluster": aks.cluster, "vault_name": "kv-team-llm-01"})
        store = ModelStore("models", {"cluster": aks.cluster, "account_name": "stteammodels", "namespace": "llm"}, on)
        stack = InferenceStack("llm", {"cluster": aks.cluster, "key_vault": vault.vault, "model_volume": store.volume,
                                       "autoscaled": True}, on)
        ModelAutoscaler("cpu", {"model_server": stack.model_server, "mode": "cpu", "min_replicas": 1,
                                "max_replicas": 2}, on)
        k8s.apiextensions.CustomResource(
            "mine", api_version="keda.sh/v1alpha1", kind="ScaledObject",
            metadata={"name": "ollama", "namespace": "llm"},
            spec={"scaleTargetRef": {"name": "ollama"}, "triggers": [{"type": "cpu", "metricType": "Utilization",
                                                                      "metadata": {"value": "60"}}]},
            opts=pulumi.ResourceOptions(provider=aks.provider, depends_on=[stack]))
    with pytest.raises(ProgramError) as error:
        run(program)
    assert "mine (ScaledObject) and cpu-hpa (HorizontalPodAutoscaler) both scale Deployment llm/ollama" in \
        str(error.value), str(error.value)
