"""The AKS security baseline, switchable per stack: on in prod, off in dev (cost)."""
import pytest

from config.loader import parse_config
from config.reader import ConfigError

from .conftest import variant


def test_prod_turns_the_baseline_on(prod):
    aks = prod.one("azure-native:containerservice:ManagedCluster")
    assert aks.inputs["addonProfiles"]["azurepolicy"] == {"enabled": True}
    defender = aks.inputs["securityProfile"]["defender"]
    assert defender["securityMonitoring"] == {"enabled": True}
    assert defender["logAnalyticsWorkspaceResourceId"].endswith("/log-llmp-prod")
    assert aks.inputs["agentPoolProfiles"][0]["enableEncryptionAtHost"] is True
    pools = prod.of_type("azure-native:containerservice:AgentPool")
    assert pools and all(p.inputs["enableEncryptionAtHost"] is True for p in pools)  # GPU pools follow the cluster
    settings = prod.of_type("azure-native:monitor:DiagnosticSetting")
    targets = sorted(s.inputs["resourceUri"].split("/providers/")[-1].split("/")[0:2][0] for s in settings)
    assert len(settings) == 3 and all(s.inputs["logs"] == [{"categoryGroup": "allLogs", "enabled": True}]
                                      for s in settings)
    assert {s.inputs["resourceUri"].rsplit("/", 2)[-2] for s in settings} >= {"fileServices"}
    assert targets == ["Microsoft.dbforpostgresql", "Microsoft.keyvault", "Microsoft.storage"]


def test_dev_leaves_the_costly_parts_off(dev):
    aks = dev.one("azure-native:containerservice:ManagedCluster")
    assert "azurepolicy" not in aks.inputs["addonProfiles"]
    assert "defender" not in aks.inputs["securityProfile"]
    assert not dev.of_type("azure-native:monitor:DiagnosticSetting")


@pytest.mark.parametrize("key", ["defender", "diagnostics"])
def test_reporting_switches_need_observability(key):
    with pytest.raises(ConfigError, match=f"security.{key} needs observability.enabled"):
        parse_config({"security": {key: True}, "observability": {"enabled": False},
                      "autoscaling": {"mode": "cpu"}}, "p", "s")


def test_llmd_stack_plans_without_the_baseline():
    assert not variant("llmd").of_type("azure-native:monitor:DiagnosticSetting")


@pytest.mark.parametrize("name", ["prod", "dev-operator"])
def test_no_ordering_kubernetes_does_not_need(name):
    """Deploy time: the GPU software DaemonSets do not wait for their node pools (they schedule when nodes come),
    and no node pool waits for the monitoring stack or the gateway."""
    plan = variant(name)
    gpu_software = [r for r in plan.helm_releases() if r.inputs["chart"] in ("nvidia-device-plugin", "gpu-operator")]
    assert gpu_software
    for release in gpu_software:
        assert not plan.waits_for(release, lambda r: r.type == "azure-native:containerservice:AgentPool")
    in_cluster_stacks = ("llmplatform:index:Observability", "llmplatform:index:GatewayAccess")
    for pool in plan.of_type("azure-native:containerservice:AgentPool"):
        assert not plan.waits_for(pool, lambda r: plan.component_of(r) is not None
                              and plan.component_of(r).type in in_cluster_stacks), pool.name
