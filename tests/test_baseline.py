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


def test_prod_puts_os_disks_on_local_disks_where_the_size_allows_and_says_where_not(prod, dev):
    aks = prod.one("azure-native:containerservice:ManagedCluster")
    assert aks.inputs["agentPoolProfiles"][0]["osDiskType"] == "Ephemeral"  # D4ds_v5: 150 GiB local disk
    pools = {p.inputs["agentPoolName"]: p.inputs for p in prod.of_type("azure-native:containerservice:AgentPool")}
    assert pools["cpu"]["osDiskType"] == "Ephemeral"
    # the A100 size's 64 GiB local disk cannot hold the 128 GiB OS disk: AKS keeps a managed one
    assert "osDiskType" not in pools["gpu"] and "osDiskType" not in pools["gpuod"]
    assert any(w.startswith("security.ephemeralOsDisk: gpu gets no ephemeral OS disk")
               and "the 64 GiB local disk of Standard_NC24ads_A100_v4 is smaller than its 128 GiB" in w
               for w in prod.warnings)
    # dev: the spot D4ads_v5 pool takes one; the B2s system pool's 8 GiB local disk cannot, and the plan says so
    assert "osDiskType" not in dev.one("azure-native:containerservice:ManagedCluster").inputs["agentPoolProfiles"][0]
    dev_pools = {p.inputs["agentPoolName"]: p.inputs for p in dev.of_type("azure-native:containerservice:AgentPool")}
    assert dev_pools["cpu"]["osDiskType"] == "Ephemeral"
    assert [w for w in dev.warnings if "ephemeralOsDisk" in w] == [
        "security.ephemeralOsDisk: cluster.systemPool gets no ephemeral OS disk (AKS keeps its own choice, a managed "
        "disk for these sizes): the 8 GiB local disk of Standard_B2s is smaller than its 64 GiB OS disk"]


def test_an_ephemeral_os_disk_costs_nothing_and_a_managed_one_is_charged(prod):
    from offline import cost
    lines = [line for line in cost.estimate(prod, "westeurope", 0.5).lines if line.item.startswith("OS disks")]
    by_resource = {line.resource: line for line in lines}
    assert by_resource["platform-cpu"].item == "OS disks (ephemeral)" and by_resource["platform-cpu"].peak == 0
    assert by_resource["gpu-gpu"].item == "OS disks" and by_resource["gpu-gpu"].peak > 0


def test_gpu_pools_follow_the_clusters_choice_through_the_handle():
    import llmplatform
    from offline import runner as offline
    from .test_components_alone import cluster_handle, provider_opts

    def pool(handle):
        def program():
            llmplatform.GpuNodePool("t4", {"cluster": handle, "vm_size": "Standard_NC4as_T4_v3"}, provider_opts())
        return offline.run_function(program).one("azure-native:containerservice:AgentPool").inputs

    assert pool({**cluster_handle(), "ephemeral_os_disk": True})["osDiskType"] == "Ephemeral"  # 180 GiB local disk
    assert "osDiskType" not in pool(cluster_handle())  # a handle from before the field: AKS decides


@pytest.mark.parametrize("size, disk, expected, reason", [
    ("Standard_D4ds_v5", 128, "Ephemeral", None),
    ("Standard_D2ds_v5", 128, None, "the 75 GiB local disk of Standard_D2ds_v5 is smaller than its 128 GiB"),
    ("Standard_D2ds_v5", 64, "Ephemeral", None),
    ("Standard_D4s_v5", 128, None, "has no local disk (a size with 'd' in its name"),
    ("Standard_ND96isr_H100_v5", 128, None, "is not in llmplatform's local-disk table"),
])
def test_os_disk_choice(size, disk, expected, reason):
    from llmplatform.os_disks import os_disk_type, why_managed
    assert os_disk_type(size, disk, True) == expected
    assert os_disk_type(size, disk, False) is None
    if reason:
        assert reason in why_managed(size, disk)


def test_the_local_disk_table_covers_the_stacks_sizes_and_names_its_gaps():
    """Every size the stacks use is in the table; the GPU catalog's sizes it lacks (their local disks were not
    transcribed with certainty) are exactly these, so a size added to the catalog is a decision here too."""
    from llmplatform.gpu_skus import GPU_SKUS
    from llmplatform.os_disks import local_disk_gib
    for stack in ("dev", "prod"):
        plan = variant(stack)
        sizes = [plan.one("azure-native:containerservice:ManagedCluster").inputs["agentPoolProfiles"][0]["vmSize"]]
        sizes += [p.inputs["vmSize"] for p in plan.of_type("azure-native:containerservice:AgentPool")]
        assert all(local_disk_gib(s) is not None for s in sizes), sizes
    assert {size for size in GPU_SKUS if local_disk_gib(size) is None} == {
        "Standard_NV36ads_A10_v5", "Standard_ND96asr_v4", "Standard_ND96amsr_A100_v4", "Standard_NC40ads_H100_v5",
        "Standard_ND96isr_H100_v5", "Standard_ND96isr_H200_v5"}
