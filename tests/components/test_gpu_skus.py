"""The GPU catalog (components/llmplatform/gpu_skus.py): every required family, lookups, consistent figures, RDMA
and MIG."""
import pytest

from llmplatform.gpu_skus import GPU_SKUS, find_gpu_sku, gpu_units, known_gpu_sizes, needs_grid_driver, skus_for_model

REQUIRED = ["Standard_NC4as_T4_v3", "Standard_NC8as_T4_v3", "Standard_NC16as_T4_v3", "Standard_NC64as_T4_v3",
            "Standard_NV36ads_A10_v5", "Standard_NC6s_v3", "Standard_NC24ads_A100_v4", "Standard_NC48ads_A100_v4",
            "Standard_NC96ads_A100_v4", "Standard_ND96asr_v4", "Standard_ND96amsr_A100_v4",
            "Standard_NC40ads_H100_v5", "Standard_ND96isr_H100_v5", "Standard_ND96isr_H200_v5"]


def test_catalog_has_every_required_family():
    assert set(REQUIRED) <= set(known_gpu_sizes())
    assert {s.gpu_model for s in GPU_SKUS.values()} >= {"T4", "A10", "V100", "A100", "H100", "H200"}


def test_lookup_is_case_insensitive_and_returns_canonical_name():
    sku = find_gpu_sku("standard_nc4as_t4_v3")
    assert sku is not None and sku.vm_size == "Standard_NC4as_T4_v3"
    assert find_gpu_sku("Standard_NC4") is None


def test_figures_are_consistent():
    for sku in GPU_SKUS.values():
        assert sku.gpus >= 1 and sku.gpu_memory_mib >= 15360 and sku.vcpus >= 4 and sku.ram_gib > sku.vcpus
    # nvidia-smi's MiB, not the size page's GB: four T4s are 60 GiB, not 64
    assert find_gpu_sku("Standard_NC64as_T4_v3").total_gpu_memory_gib == 4 * 15360 / 1024 == 60
    assert find_gpu_sku("Standard_ND96isr_H200_v5").total_gpu_memory_gib == 8 * 143771 / 1024


def test_rdma_only_on_nd_infiniband_sizes():
    rdma = {s.vm_size for s in GPU_SKUS.values() if s.rdma}
    assert rdma == {"Standard_ND96asr_v4", "Standard_ND96amsr_A100_v4", "Standard_ND96isr_H100_v5",
                    "Standard_ND96isr_H200_v5"}


def test_mig_only_on_ampere_and_hopper():
    assert all(s.mig_capable == (s.gpu_model in ("A100", "H100", "H200")) for s in GPU_SKUS.values())
    assert len(skus_for_model("T4")) == 4


def test_the_a10_sizes_and_only_they_take_the_grid_driver():
    assert {s.vm_size for s in GPU_SKUS.values() if needs_grid_driver(s.vm_size)} == \
        {s.vm_size for s in GPU_SKUS.values() if s.gpu_model == "A10"}
    assert needs_grid_driver("STANDARD_NC8ADS_A10_V4") and not needs_grid_driver("Standard_NC4as_T4_v3")


@pytest.mark.parametrize("size,profile,units", [
    ("Standard_NC24ads_A100_v4", None, (1, 80)),     # whole GPUs
    ("Standard_NC24ads_A100_v4", "MIG1g", (7, 10)),  # 1g.10gb x 7 (AKS's profile table: 1/8 of the memory, 7 of them)
    ("Standard_NC24ads_A100_v4", "MIG3g", (2, 40)),  # 3g.40gb x 2
    ("Standard_NC24ads_A100_v4", "MIG4g", (1, 40)),
    ("Standard_NC96ads_A100_v4", "MIG2g", (12, 20)),  # four A100s, three 2g.20gb each
])
def test_a_gpu_request_gets_a_whole_gpu_or_one_mig_instance(size, profile, units):
    assert tuple(gpu_units(find_gpu_sku(size), profile)) == units


def test_gpu_memory_of_another_type_is_the_type_checks_to_refuse_not_a_comparison():
    """gpu_memory_problem judges numbers only: a string or None (the type check's to refuse) is no TypeError from
    comparing it with the range (found by mutation testing), true and false are refused as numbers are not."""
    from llmplatform.gpu_skus import GPU_MEMORY_ALLOWED, gpu_memory_problem
    assert [gpu_memory_problem(v) for v in ("22.48", None, [22])] == [None, None, None]
    assert [gpu_memory_problem(v) for v in (True, 0.99, 1, 22.48, 1024, 1024.01, float("nan"))] == \
        [GPU_MEMORY_ALLOWED, GPU_MEMORY_ALLOWED, None, None, None, GPU_MEMORY_ALLOWED, GPU_MEMORY_ALLOWED]
