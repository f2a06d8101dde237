"""Azure GPU VM SKUs the platform knows how to schedule on.

Plain data plus lookup helpers; no Pulumi import, so it is unit-tested directly. Figures are per node and come
from the Azure VM size pages (GPU memory is per GPU).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional


@dataclass(frozen=True)
class GpuSku:
    vm_size: str
    gpu_model: str
    gpus: int
    gpu_memory_gib: int
    vcpus: int
    ram_gib: int
    rdma: bool
    mig_capable: bool = False
    note: Optional[str] = None

    @property
    def total_gpu_memory_gib(self) -> int:
        return self.gpus * self.gpu_memory_gib


_SKUS = (
    GpuSku("Standard_NC4as_T4_v3", "T4", 1, 16, 4, 28, False),
    GpuSku("Standard_NC8as_T4_v3", "T4", 1, 16, 8, 56, False),
    GpuSku("Standard_NC16as_T4_v3", "T4", 1, 16, 16, 110, False),
    GpuSku("Standard_NC64as_T4_v3", "T4", 4, 16, 64, 440, False),
    GpuSku("Standard_NV36ads_A10_v5", "A10", 1, 24, 36, 440, False),
    GpuSku("Standard_NC6s_v3", "V100", 1, 16, 6, 112, False,
           note="NCv3 is being retired by Azure; prefer a T4, A10 or A100 SKU for new pools"),
    GpuSku("Standard_NC24ads_A100_v4", "A100", 1, 80, 24, 220, False, mig_capable=True),
    GpuSku("Standard_NC48ads_A100_v4", "A100", 2, 80, 48, 440, False, mig_capable=True),
    GpuSku("Standard_NC96ads_A100_v4", "A100", 4, 80, 96, 880, False, mig_capable=True),
    GpuSku("Standard_ND96asr_v4", "A100", 8, 40, 96, 900, True, mig_capable=True),
    GpuSku("Standard_ND96amsr_A100_v4", "A100", 8, 80, 96, 1900, True, mig_capable=True),
    GpuSku("Standard_NC40ads_H100_v5", "H100", 1, 94, 40, 320, False, mig_capable=True),
    GpuSku("Standard_ND96isr_H100_v5", "H100", 8, 80, 96, 1900, True, mig_capable=True),
    GpuSku("Standard_ND96isr_H200_v5", "H200", 8, 141, 96, 1850, True, mig_capable=True),
)

GPU_SKUS: dict[str, GpuSku] = {s.vm_size: s for s in _SKUS}


def find_gpu_sku(vm_size: str) -> Optional[GpuSku]:
    """The catalog entry for a VM size, matched case-insensitively (Azure treats sizes that way)."""
    wanted = vm_size.lower()
    return next((s for s in _SKUS if s.vm_size.lower() == wanted), None)


def known_gpu_sizes() -> list[str]:
    return [s.vm_size for s in _SKUS]


def skus_for_model(gpu_model: str) -> list[GpuSku]:
    return [s for s in _SKUS if s.gpu_model == gpu_model]
