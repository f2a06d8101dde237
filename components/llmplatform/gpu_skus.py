"""Azure GPU VM sizes the components know how to schedule on: `data/gpu_skus.json`, shipped in the package.

Plain data plus lookup helpers; no Pulumi import, so it is unit-tested directly. The catalog is a default, not a
gate: GpuNodePool takes a `gpu_sku` input describing a size that is not listed.
"""
import json
from dataclasses import dataclass
from importlib import resources
from typing import Any, NamedTuple, Optional

from .choices import MIG_SLICES


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


def _load() -> dict[str, Any]:
    return json.loads(resources.files(__package__).joinpath("data", "gpu_skus.json").read_text(encoding="utf-8"))


_DATA = _load()
_SKUS = tuple(GpuSku(**row) for row in _DATA["skus"])
GPU_SKUS: dict[str, GpuSku] = {s.vm_size: s for s in _SKUS}
_GRID_DRIVER_SIZES = frozenset(_DATA["grid_driver_sizes"]["sizes"])


def needs_grid_driver(vm_size: str) -> bool:
    """A size whose GPU takes the converged GRID driver AKS installs (the A10 sizes): NVIDIA's datacenter driver,
    the GPU Operator's, fails to install there (AgentBaker's ConvergedGPUDriverSizes, in data/gpu_skus.json)."""
    return vm_size.lower() in _GRID_DRIVER_SIZES


def find_gpu_sku(vm_size: str) -> Optional[GpuSku]:
    """The catalog entry for a VM size, matched case-insensitively (Azure treats sizes that way)."""
    wanted = vm_size.lower()
    return next((s for s in _SKUS if s.vm_size.lower() == wanted), None)


def known_gpu_sizes() -> list[str]:
    return [s.vm_size for s in _SKUS]


def skus_for_model(gpu_model: str) -> list[GpuSku]:
    return [s for s in _SKUS if s.gpu_model == gpu_model]


class GpuUnits(NamedTuple):
    """What a pod's `nvidia.com/gpu: 1` gets on a node of a pool, and how many of them a node has."""
    gpus_per_node: int
    gpu_memory_gib: int


def gpu_units(sku: GpuSku, mig_profile: Optional[str]) -> GpuUnits:
    """A whole GPU, or with a MIG profile one GPU instance (so many per node, with the profile's share of the
    memory)."""
    per_gpu, eighths = MIG_SLICES.get(mig_profile or "", (1, 8))
    return GpuUnits(sku.gpus * per_gpu, sku.gpu_memory_gib * eighths // 8)
