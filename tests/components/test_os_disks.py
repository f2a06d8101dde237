"""OS disk choice (components/llmplatform/os_disks.py): ephemeral OS disks where a size's local disk holds them, and
the plan saying where not."""

import pytest

from tests.conftest import variant


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
