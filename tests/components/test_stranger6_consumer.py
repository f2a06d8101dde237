"""What a stranger adopting the package met with a topology of their own (one region, a T4 pool on the GPU Operator,
models over SMB, Ollama on the GPU scaled by an HPA, Observability without KEDA) and a second program adding llm-d
to that cluster from the first stack's outputs, tested through the package's testing kit as the README says. (What
their type checker said of the kit's `run` is checked in tests/program/test_typing.py's one mypy run.)"""
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pytest

from llmplatform import (AksCluster, AppNamespace, ComponentInputError, GatewayAccess, GpuNodePool, InferenceStack,
                         KeyVault, LlmdStack, ModelAutoscaler, ModelStore)
from llmplatform.testing import ProgramError, run

NETWORK: Any = {"vnet_cidr": "10.70.0.0/16", "node_subnet_cidr": "10.70.0.0/20",
                "endpoints_subnet_cidr": "10.70.16.0/24", "postgres_subnet_cidr": "10.70.17.0/24",
                "pod_cidr": "192.168.0.0/16", "service_cidr": "172.16.0.0/16", "dns_service_ip": "172.16.0.10"}
PLATFORM = "acme/acme-llm/prod"


def platform() -> tuple[AksCluster, pulumi.ResourceOptions, KeyVault]:
    aks = AksCluster("acme", {
        "cluster_name": "aks-acme-llm", "resource_group_name": "rg-acme-llm", "location": "swedencentral",
        "network": NETWORK, "system_pool": {"name": "system", "vm_size": "Standard_D2s_v5", "min_count": 1,
                                            "max_count": 2},
        "workload_pool": {"name": "cpu", "vm_size": "Standard_D4s_v5", "min_count": 1, "max_count": 3}})
    vault = KeyVault("vault", {"cluster": aks.cluster, "vault_name": "kv-acme-llm-01"})
    return aks, pulumi.ResourceOptions(providers=[aks.provider]), vault


def platform_stack() -> None:
    """The first stack: the cluster, its T4 pool on the GPU Operator, the gateway with the inference extension."""
    aks, k8s_opts, vault = platform()
    GpuNodePool("t4", {"cluster": aks.cluster, "vm_size": "Standard_NC4as_T4_v3", "driver": "operator",
                       "pool_name": "t4"}, k8s_opts)
    gateway = GatewayAccess("gw", {"cluster": aks.cluster, "inference_extension": True}, k8s_opts)
    AppNamespace("team", {"namespace": "acme-llm"}, k8s_opts)
    pulumi.export("cluster", aks.cluster)
    pulumi.export("kubeconfig", aks.kubeconfig)
    pulumi.export("routeTarget", gateway.route_target)
    pulumi.export("vault", vault.vault)


@pytest.fixture(scope="module")
def platform_outputs() -> dict[str, Any]:
    return run(platform_stack, project="acme-llm", stack="prod").outputs


def addon(**pool: Any) -> None:
    """The second stack: an A100 pool on that cluster and llm-d on it, everything else from the first's outputs."""
    ref = pulumi.StackReference(PLATFORM)
    cluster = ref.get_output("cluster")
    opts = pulumi.ResourceOptions(providers=[k8s.Provider("acme-aks", kubeconfig=ref.get_output("kubeconfig"))])
    a100 = GpuNodePool("a100", {"cluster": cluster, "vm_size": "Standard_NC24ads_A100_v4", "driver": "operator",
                                "pool_name": "a100", **pool}, opts)
    LlmdStack("llmd", {"cluster": cluster, "gpu": a100.scheduling, "route_target": ref.get_output("routeTarget"),
                       "key_vault": ref.get_output("vault"), "model": "Qwen/Qwen3-8B"}, opts)


def run_addon(outputs: dict[str, Any], **pool: Any) -> Any:
    return run(lambda: addon(**pool), project="acme-llmd", stack="prod", references={PLATFORM: outputs})


# ---- a GPU pool on a cluster whose device software another stack installed ---------------------------------------
def test_a_pool_on_another_stacks_cluster_declines_the_device_software_and_is_not_told_to_drop_that(
        platform_outputs):
    """The only way such a pool does not install the GPU Operator a second time (its namespace exists: pulumi up
    fails with AlreadyExists), and the package warned that install_device_software was deprecated and not needed."""
    plan = run_addon(platform_outputs, install_device_software=False)
    assert plan.helm_releases() == [r for r in plan.helm_releases() if r.name == "llmd-router-chart"]
    assert [w for w in plan.warnings if "install_device_software" in w] == []


def test_the_default_given_as_true_draws_no_warning(platform_outputs):
    """A generated SDK (TypeScript, Go, Python from `gen-sdk`) sends the schema's default, true, whenever the program
    leaves the input out: a warning to leave it out could not be followed (test_provider has it over the wire)."""
    plan = run_addon(platform_outputs, install_device_software=True)
    assert [w for w in plan.warnings if "install_device_software" in w] == []


def addon_two_pools() -> None:
    """The second stack with two pools on the first's cluster, the first declining the device software."""
    ref = pulumi.StackReference(PLATFORM)
    opts = pulumi.ResourceOptions(providers=[k8s.Provider("acme-aks", kubeconfig=ref.get_output("kubeconfig"))])
    for pool, extra in (("a100", {"install_device_software": False}), ("h100", {})):
        GpuNodePool(pool, {"cluster": ref.get_output("cluster"), "vm_size": "Standard_NC24ads_A100_v4",
                           "driver": "operator", "pool_name": pool, **extra}, opts)


def test_a_second_pool_on_another_stacks_cluster_that_installs_is_named_as_the_one_to_decline(platform_outputs):
    """The second pool installs the GPU Operator again (its namespace is the first stack's: AlreadyExists at
    `pulumi up`). The warning on the first pool's False told the user to leave it out, which adds a second
    collision; it names the installing pool as the one to give False too."""
    plan = run(addon_two_pools, project="acme-llmd", stack="prod", references={PLATFORM: platform_outputs})
    assert [r.parent.rsplit("::", 1)[1] for r in plan.helm_releases()] == ["h100"]
    [warning] = [w for w in plan.warnings if "install_device_software" in w]
    assert "give h100 install_device_software False too" in warning


# ---- a pool named like one of the cluster's own, the cluster from another stack ---------------------------------
def test_a_pool_named_like_the_clusters_own_is_refused_when_the_cluster_comes_from_another_stack(platform_outputs):
    """The cluster handle arrives as one output (a StackReference's): the name was checked only on a plain handle,
    and "the testing kit names the collision" could not, the cluster's pools being the other stack's. At `pulumi up`
    the AgentPool would be the cluster's own system pool (its PUT rewrites it)."""
    with pytest.raises(ProgramError) as error:
        run_addon(platform_outputs, install_device_software=False, pool_name="system")
    assert str(error.value) == (
        "GpuNodePool a100: input pool_name='system' is invalid; allowed: a pool name the cluster does not have: its "
        "own pools are 'system', 'cpu' and this pool would take 'system' (a fallback is <pool_name>od); give this "
        "pool another pool_name")


# ---- an HPA on a model server: who owns the replica count, and what the pods run on ----------------------------
def hpa_on_ollama(mode: str, accelerator: str = "gpu", as_output: bool = False, **stack: Any) -> None:
    """The first stack's model server: Ollama on the T4 pool (or the CPU), without KEDA, scaled by an HPA."""
    aks, k8s_opts, vault = platform()
    gpu = GpuNodePool("t4", {"cluster": aks.cluster, "vm_size": "Standard_NC4as_T4_v3", "driver": "operator"},
                      k8s_opts)
    team = AppNamespace("team", {"namespace": "acme-llm"}, k8s_opts)
    store = ModelStore("weights", {"cluster": aks.cluster, "account_name": "stacmeweights01", "protocol": "smb",
                                   "namespace": team.namespace, "models": ["qwen2.5:7b"]}, k8s_opts)
    llm = InferenceStack("acme", {"cluster": aks.cluster, "key_vault": vault.vault, "model_volume": store.volume,
                                  "accelerator": accelerator, **({"gpu": gpu.scheduling} if accelerator == "gpu" else {}),
                                  **stack}, k8s_opts)
    server = pulumi.Output.from_input(llm.model_server) if as_output else llm.model_server
    ModelAutoscaler("acme", {"model_server": server, "mode": mode, "min_replicas": 1, "max_replicas": 2}, k8s_opts)


OWNED = ("ModelAutoscaler acme: input model_server='a model server built with autoscaled false' is invalid; "
         "allowed: a model server whose replica count Pulumi leaves to the autoscaler: built with autoscaled true "
         "(InferenceStack's or OllamaServer's `autoscaled`); with false, every `pulumi up` that updates its "
         "Deployment sets back the replicas the autoscaler chose")


@pytest.mark.parametrize("mode", ["gpu-memory", "cpu"])
def test_an_hpa_on_a_stack_that_keeps_its_replica_count_is_refused(mode):
    """`autoscaled` defaults to true only with keda: without it (an HPA mode), Pulumi kept Ollama's `replicas` (no
    ignoreChanges) while the HPA set the count, and an update of the Deployment put it back to 1 under the HPA."""
    with pytest.raises(ComponentInputError) as error:
        run(lambda: hpa_on_ollama(mode))
    assert str(error.value) == OWNED
    assert [e["property_path"] for e in error.value.errors or []] == ["model_server"]


def test_an_hpa_on_a_stack_that_keeps_its_replica_count_handed_as_an_output_is_refused_in_the_same_words():
    with pytest.raises(ProgramError) as error:
        run(lambda: hpa_on_ollama("gpu-memory", as_output=True))
    assert str(error.value) == OWNED


def test_an_hpa_on_an_autoscaled_stack_leaves_the_replica_count_to_it():
    plan = run(lambda: hpa_on_ollama("gpu-memory", autoscaled=True))
    assert "spec.replicas" in (plan.one("kubernetes:apps/v1:Deployment", "acme-ollama").options.get("ignoreChanges")
                               or [])
    assert plan.one("kubernetes:autoscaling/v2:HorizontalPodAutoscaler", "acme-hpa")


GPU_MEMORY_ON_CPU = ("ModelAutoscaler acme: input mode='gpu-memory' is invalid; allowed: cpu or requests for a model "
                     "server on the CPU (accelerator cpu): gpu-memory reads the GPU memory of its pods, which a CPU pod "
                     "has none of, and an HPA with a metric it cannot read never scales in")


@pytest.mark.parametrize("as_output, error_type", [(False, ComponentInputError), (True, ProgramError)])
def test_a_gpu_memory_hpa_on_ollama_on_the_cpu_is_refused(as_output, error_type):
    """DCGM labels GPU metrics with the pod holding the GPU, so a CPU pod has no gpu_memory_utilization: the HPA
    planned, scaled out on its CPU fallback metric and, failing to read the other, never scaled back in."""
    with pytest.raises(error_type) as error:
        run(lambda: hpa_on_ollama("gpu-memory", accelerator="cpu", as_output=as_output, autoscaled=True))
    assert str(error.value) == GPU_MEMORY_ON_CPU
