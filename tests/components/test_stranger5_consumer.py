"""What a stranger adopting the package met composing a topology the repository's stacks do not use (two GPU pools
on the GPU Operator, llm-d without Observability, Ollama with KEDA), through the package's testing kit as the
README tells a consumer: compositions that planned but could not work on a real cluster."""
from typing import Any

import pulumi
import pytest

from llmplatform import (AksCluster, ComponentInputError, GatewayAccess, GpuNodePool, KeyVault, LlmdStack,
                         Observability)
from llmplatform.testing import run

NETWORK: Any = {"vnet_cidr": "10.80.0.0/16", "node_subnet_cidr": "10.80.0.0/20",
                "endpoints_subnet_cidr": "10.80.16.0/24", "postgres_subnet_cidr": "10.80.17.0/24",
                "pod_cidr": "192.168.0.0/16", "service_cidr": "172.16.0.0/16", "dns_service_ip": "172.16.0.10"}
MONITORS = ("kubernetes:monitoring.coreos.com/v1:PodMonitor", "kubernetes:monitoring.coreos.com/v1:ServiceMonitor")


def platform() -> tuple[AksCluster, pulumi.ResourceOptions, KeyVault]:
    aks = AksCluster("one", {
        "cluster_name": "aks-one-str", "resource_group_name": "rg-one-str", "location": "eastus2", "network": NETWORK,
        "system_pool": {"name": "system", "vm_size": "Standard_D2s_v5", "min_count": 1, "max_count": 2},
        "workload_pool": {"name": "cpu", "vm_size": "Standard_D8s_v5", "min_count": 1, "max_count": 4}})
    vault = KeyVault("kv", {"cluster": aks.cluster, "vault_name": "kv-stranger-one"})
    return aks, pulumi.ResourceOptions(providers=[aks.provider]), vault


# ---- llm-d without Observability: monitors whose CRDs nothing installs --------------------------------------------
def llmd(observability: bool = False, **extra: Any) -> None:
    aks, k8s, vault = platform()
    gpu = GpuNodePool("a100", {"cluster": aks.cluster, "vm_size": "Standard_NC24ads_A100_v4", "driver": "operator"},
                      k8s)
    gateway = GatewayAccess("gw", {"cluster": aks.cluster, "inference_extension": True}, k8s)
    if observability:
        obs = Observability("obs", {"cluster": aks.cluster, "key_vault": vault.vault, "app_namespace": "llm-d"}, k8s)
        extra = {"prometheus_url": obs.prometheus_url, **extra}
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
