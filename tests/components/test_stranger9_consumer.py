"""What a stranger composing AksCluster, GpuNodePool, ModelStore, InferenceStack and Observability in a project of
their own met (round nine, 2026-12-07), through the package's testing kit as the README tells a consumer
(docs/decisions.md, "A stranger composes the package, round nine")."""
from typing import Any

import pulumi
import pytest

from llmplatform import (AksCluster, AppNamespace, ComponentInputError, GpuNodePool, InferenceStack, KeyVault,
                         ModelAutoscaler, ModelStore, Observability)
from llmplatform.testing import ProgramError, run

NETWORK: Any = {"vnet_cidr": "10.80.0.0/16", "node_subnet_cidr": "10.80.0.0/19",
                "endpoints_subnet_cidr": "10.80.32.0/24", "postgres_subnet_cidr": "10.80.33.0/24",
                "pod_cidr": "192.168.0.0/16", "service_cidr": "172.20.0.0/16", "dns_service_ip": "172.20.0.10"}


def cluster(name: str) -> AksCluster:
    return AksCluster(name, {
        "cluster_name": f"aks-acme-{name}", "resource_group_name": f"rg-acme-{name}", "location": "uksouth",
        "network": NETWORK,
        "system_pool": {"name": "system", "vm_size": "Standard_D4s_v5", "min_count": 2, "max_count": 3},
        "workload_pool": {"name": "cpu", "vm_size": "Standard_D8s_v5", "min_count": 2, "max_count": 6}})


def on(aks: AksCluster) -> pulumi.ResourceOptions:
    return pulumi.ResourceOptions(providers=[aks.provider])


# ---- a GPU pool's scheduling handed to a model server on another cluster ----------------------------------------
def two_clusters(gpu_of_own_cluster: bool) -> None:
    """Cluster a has an A10 pool `a10`, cluster b a T4 pool `t4`; b's InferenceStack takes a pool's scheduling."""
    a, b = cluster("a"), cluster("b")
    a10 = GpuNodePool("a10", {"cluster": a.cluster, "vm_size": "Standard_NV36ads_A10_v5", "pool_name": "a10"}, on(a))
    t4 = GpuNodePool("t4", {"cluster": b.cluster, "vm_size": "Standard_NC4as_T4_v3", "pool_name": "t4"}, on(b))
    AppNamespace("llm", {"namespace": "llm"}, on(b))
    store = ModelStore("models", {"cluster": b.cluster, "account_name": "stacmebmodels", "namespace": "llm"}, on(b))
    vault = KeyVault("vault", {"cluster": b.cluster, "vault_name": "kv-acme-b-llm"})
    InferenceStack("llm", {"cluster": b.cluster, "key_vault": vault.vault, "model_volume": store.volume,
                           "gpu": (t4 if gpu_of_own_cluster else a10).scheduling, "accelerator": "gpu"}, on(b))


def test_a_gpu_pools_scheduling_on_another_clusters_model_server_is_refused_naming_the_pool() -> None:
    """Before: planned without a word; on cluster b the Ollama pods select `llm-platform/pool=a10`, which no node
    of b carries, and stay Pending while `pulumi up` waits out the Deployment's deadline."""
    with pytest.raises(ProgramError) as error:
        run(lambda: two_clusters(gpu_of_own_cluster=False))
    found = [line.strip() for line in str(error.value).splitlines() if "llm-platform/pool=a10" in line]
    assert len(found) == 1 and found[0].startswith("llm-ollama on cluster https://aks-acme-b.")
    assert "only pool a10 of cluster aks-acme-a carries" in found[0]
    assert "GpuNodePool built with its own cluster's handle and provider" in found[0]


def test_the_pool_of_its_own_cluster_plans() -> None:
    run(lambda: two_clusters(gpu_of_own_cluster=True))


def test_one_pool_name_on_both_clusters_is_each_clusters_own() -> None:
    """A label a pool of the pod's own cluster carries too is no refusal (two regions' pools of one name): the
    scheduling of cluster a's `t4` selects cluster b's `t4` as well."""
    def program() -> None:
        a, b = cluster("a"), cluster("b")
        t4_of_a = GpuNodePool("t4a", {"cluster": a.cluster, "vm_size": "Standard_NC4as_T4_v3", "pool_name": "t4"},
                              on(a))
        GpuNodePool("t4b", {"cluster": b.cluster, "vm_size": "Standard_NC4as_T4_v3", "pool_name": "t4"}, on(b))
        AppNamespace("llm", {"namespace": "llm"}, on(b))
        store = ModelStore("models", {"cluster": b.cluster, "account_name": "stacmebmodels", "namespace": "llm"},
                           on(b))
        vault = KeyVault("vault", {"cluster": b.cluster, "vault_name": "kv-acme-b-llm"})
        InferenceStack("llm", {"cluster": b.cluster, "key_vault": vault.vault, "model_volume": store.volume,
                               "gpu": t4_of_a.scheduling, "accelerator": "gpu"}, on(b))
    run(program)


# ---- a ModelAutoscaler's minimum in a mode that cannot scale to zero ---------------------------------------------
@pytest.mark.parametrize("mode", ["gpu-memory", "cpu"])
def test_min_replicas_zero_outside_requests_mode_says_why(mode: str) -> None:
    """Before: "min_replicas=0 is invalid; allowed: a whole number from 1 to 1000", where the reference says 0
    scales to zero: the mode that rules it out went unnamed."""
    def program() -> None:
        aks = cluster("a")
        gpu = GpuNodePool("gpu", {"cluster": aks.cluster, "vm_size": "Standard_NC4as_T4_v3"}, on(aks))
        AppNamespace("llm", {"namespace": "llm"}, on(aks))
        store = ModelStore("models", {"cluster": aks.cluster, "account_name": "stacmeamodels", "namespace": "llm"},
                           on(aks))
        vault = KeyVault("vault", {"cluster": aks.cluster, "vault_name": "kv-acme-a-llm"})
        llm = InferenceStack("llm", {"cluster": aks.cluster, "key_vault": vault.vault, "model_volume": store.volume,
                                     "gpu": gpu.scheduling, "accelerator": "gpu", "autoscaled": True}, on(aks))
        ModelAutoscaler("scale", {"model_server": llm.model_server, "mode": mode, "min_replicas": 0,
                                  "max_replicas": 4}, on(aks))
    with pytest.raises(ComponentInputError) as error:
        run(program)
    assert str(error.value) == (
        f"ModelAutoscaler scale: input min_replicas=0 is invalid; allowed: a whole number from 1 to 1000 with mode "
        f"{mode} (an HPA keeps one replica at least; 0 scales to zero in requests mode only)")


# ---- an input of another component, or of one of its own specs ---------------------------------------------------
def observability_with(extra: dict[str, Any]) -> None:
    aks = cluster("a")
    vault = KeyVault("vault", {"cluster": aks.cluster, "vault_name": "kv-acme-a-llm"})
    Observability("obs", {"cluster": aks.cluster, "key_vault": vault.vault, "app_namespace": "llm", **extra},
                  on(aks))


@pytest.mark.parametrize("key, value, where", [
    # observability.md names the stack keys observability.alertEmails and observability.logRetentionDays, and
    # Managed Grafana's `grafana_name`, all AzureMonitoring's; before, "did you mean 'alert_receiver'?",
    # "'prometheus_retention'?", "'app_namespace' or 'name_prefix'?"
    ("alert_emails", ["sre@acme.example"], "it is an input of AzureMonitoring, not of Observability"),
    ("grafana_name", "graf-acme-uks", "it is an input of AzureMonitoring, not of Observability"),
    ("managed_grafana", True, "it is an input of AzureMonitoring, not of Observability"),
    ("log_retention_days", 30, "it is an input of AzureMonitoring or GlobalEndpoint, not of Observability"),
])
def test_an_input_of_another_component_is_named_as_that_components(key: str, value: Any, where: str) -> None:
    with pytest.raises(ComponentInputError) as error:
        run(lambda: observability_with({key: value}))
    assert str(error.value) == f"Observability obs: {key}: is not an input; {where}"
    assert [e["property_path"] for e in error.value.errors or []] == [key]


def test_a_field_of_its_own_spec_given_at_the_top_names_the_spec() -> None:
    """Before: "vm_size: is not an input; inputs: admin_group_object_ids, api_access_mode, ..." (all 35); the
    vm_size of GpuNodePool was not offered either, the pools' own sizes are."""
    def program() -> None:
        AksCluster("aks", {"cluster_name": "aks-acme", "resource_group_name": "rg-acme", "location": "uksouth",
                           "network": NETWORK, "vm_size": "Standard_D4s_v5",
                           "system_pool": {"name": "system", "vm_size": "Standard_D4s_v5", "min_count": 1,
                                           "max_count": 2},
                           "workload_pool": {"name": "cpu", "vm_size": "Standard_D8s_v5", "min_count": 1,
                                             "max_count": 3}})
    with pytest.raises(ComponentInputError) as error:
        run(program)
    assert str(error.value) == ("AksCluster aks: vm_size: is not an input; did you mean 'system_pool.vm_size' or "
                                "'workload_pool.vm_size'?")


def test_a_handles_field_is_not_offered_as_an_input() -> None:
    """`models` belongs to ModelStore; InferenceStack's `model_volume` handle carries a `models` field, which the
    user does not write."""
    def program() -> None:
        aks = cluster("a")
        AppNamespace("llm", {"namespace": "llm"}, on(aks))
        store = ModelStore("models", {"cluster": aks.cluster, "account_name": "stacmeamodels", "namespace": "llm"},
                           on(aks))
        vault = KeyVault("vault", {"cluster": aks.cluster, "vault_name": "kv-acme-a-llm"})
        InferenceStack("llm", {"cluster": aks.cluster, "key_vault": vault.vault, "model_volume": store.volume,
                               "models": ["qwen2.5:7b"]}, on(aks))
    with pytest.raises(ComponentInputError) as error:
        run(program)
    assert str(error.value) == "InferenceStack llm: models: is not an input; it is an input of ModelStore, not of " \
                               "InferenceStack"


# ---- an on-demand fallback without a minimum -----------------------------------------------------------------------
def test_a_fallback_without_min_count_keeps_no_on_demand_node_as_the_page_says() -> None:
    """gpu-node-pool.md: "`fallback.min_count` ... at 0 (the default, prod's)"; before, the component refused the
    fallback with "fallback.min_count: is required"."""
    def program() -> None:
        aks = AksCluster("aks", {
            "cluster_name": "aks-acme", "resource_group_name": "rg-acme", "location": "uksouth", "network": NETWORK,
            "autoscaler_expander": "priority",
            "system_pool": {"name": "system", "vm_size": "Standard_D4s_v5", "min_count": 1, "max_count": 2},
            "workload_pool": {"name": "cpu", "vm_size": "Standard_D8s_v5", "min_count": 1, "max_count": 3}})
        gpu = GpuNodePool("gpu", {"cluster": aks.cluster, "vm_size": "Standard_NV36ads_A10_v5", "pool_name": "a10",
                                  "max_count": 4, "fallback": {"enabled": True, "max_count": 2}}, on(aks))
        pulumi.export("scheduling", gpu.scheduling)
    plan = run(program)
    pools = {r.inputs["agentPoolName"]: r.inputs for r in plan.of_type("azure-native:containerservice:AgentPool")}
    assert (pools["a10od"]["minCount"], pools["a10od"]["maxCount"], pools["a10od"]["scaleSetPriority"]) == \
        (0, 2, "Regular")
    assert plan.outputs["scheduling"]["fallback_min_count"] == 0


# ---- the model preload Job sent to a tainted GPU pool --------------------------------------------------------------
def store_on(preload_node_selector: dict[str, str]) -> None:
    aks = cluster("a")
    GpuNodePool("gpu", {"cluster": aks.cluster, "vm_size": "Standard_NV36ads_A10_v5", "pool_name": "a10"}, on(aks))
    AppNamespace("llm", {"namespace": "llm"}, on(aks))
    ModelStore("models", {"cluster": aks.cluster, "account_name": "stacmeamodels", "namespace": "llm",
                          "models": ["qwen2.5:7b"], "preload_node_selector": preload_node_selector}, on(aks))


def test_a_preload_job_on_a_gpu_pool_without_its_tolerations_is_refused_naming_the_taints() -> None:
    """`preload_node_selector` "where the preload Job runs": the GPU pool's label planned, and the Job, which
    carries no toleration, stayed Pending behind the pool's GPU and spot taints while `pulumi up` awaited it."""
    with pytest.raises(ProgramError) as error:
        run(lambda: store_on({"llm-platform/pool": "a10"}))
    found = [line.strip() for line in str(error.value).splitlines() if "models-preload" in line]
    assert len(found) == 1, str(error.value)
    assert found[0].startswith("models-preload on cluster https://aks-acme-a.")
    assert ("every pool of the cluster there carries a taint it does not tolerate (a10: "
            "nvidia.com/gpu=present:NoSchedule, kubernetes.azure.com/scalesetpriority=spot:NoSchedule)") in found[0]


def test_a_preload_job_on_a_gpu_pool_also_selecting_a_label_aks_sets_is_refused() -> None:
    """A selector holding a label AKS gives every node (`kubernetes.io/os`), which the kit's pools do not list, beside
    the GPU pool's: no pool matched in the kit's view, and the Job stranded behind the pool's taints planned."""
    with pytest.raises(ProgramError) as error:
        run(lambda: store_on({"llm-platform/pool": "a10", "kubernetes.io/os": "linux"}))
    found = [line.strip() for line in str(error.value).splitlines() if "models-preload" in line]
    assert len(found) == 1 and "every pool of the cluster there carries a taint it does not tolerate (a10: " \
        "nvidia.com/gpu=present:NoSchedule" in found[0], str(error.value)


def test_a_preload_job_on_the_cpu_pool_selecting_a_label_aks_sets_plans() -> None:
    run(lambda: store_on({"llm-platform/pool": "cpu", "kubernetes.io/os": "linux"}))


def test_a_preload_job_on_the_cpu_pool_plans() -> None:
    run(lambda: store_on({"llm-platform/pool": "cpu"}))
