"""Azure GPU VM sizes the components know how to schedule on: `data/gpu_skus.json`, shipped in the package.

Plain data plus lookup helpers; no Pulumi import, so it is unit-tested directly. The catalog is a default, not a
gate: GpuNodePool takes a `gpu_sku` input describing a size that is not listed.
"""
import json
import math
from dataclasses import dataclass
from importlib import resources
from typing import Any, NamedTuple, Optional

from .choices import MIG_SLICES
from .units import MIB_PER_GIB
from .vm_sizes import size_spelling


@dataclass(frozen=True)
class GpuSku:
    vm_size: str
    gpu_model: str
    gpus: int
    gpu_memory_mib: int  # one GPU's memory as the driver reports it (nvidia-smi memory.total), not the marketing GB
    vcpus: int
    ram_gib: int
    rdma: bool
    mig_capable: bool = False
    note: Optional[str] = None

    @property
    def gpu_memory_gib(self) -> float:
        """One GPU's memory in GiB, the unit of model sizes and of the fit checks."""
        return self.gpu_memory_mib / MIB_PER_GIB

    @property
    def total_gpu_memory_gib(self) -> float:
        return self.gpus * self.gpu_memory_gib


GPU_MEMORY_GIB = (1, 1024)  # one GPU's memory (or one MIG instance's), GiB, as a hand-described size may give it
GPU_MEMORY_ALLOWED = (f"GiB from {GPU_MEMORY_GIB[0]} to {GPU_MEMORY_GIB[1]} as the driver reports them: nvidia-smi's "
                      "memory.total (MiB) / 1024, e.g. 22.48 for an A10")


def gpu_memory_problem(value: Any) -> Optional[str]:
    """What one GPU's memory must be (GPU_MEMORY_ALLOWED) when `value`, a number (true and false are not), is out of
    range or not finite; None otherwise (a value of another type is the type check's to refuse)."""
    if isinstance(value, bool):
        return GPU_MEMORY_ALLOWED
    if not isinstance(value, (int, float)):
        return None
    return None if GPU_MEMORY_GIB[0] <= value <= GPU_MEMORY_GIB[1] else GPU_MEMORY_ALLOWED  # NaN compares false


def memory_text(gib: float) -> str:
    """GPU memory for a message, as the driver reports it: 15 GiB (a T4), 22.48 GiB (an A10), 79.64 GiB (an H100)."""
    return f"{hundredths_down(gib):.2f}".rstrip("0").rstrip(".") + " GiB"


def hundredths_down(gib: float) -> float:
    """GPU memory to the hundredth of a GiB, rounded down: a fit is never judged on memory the GPU lacks."""
    return math.floor(gib * 100) / 100


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


def described_size_problem(size: str) -> Optional[str]:
    """What is allowed when `size`, a size `gpu_sku` describes (sent to Azure as given), is spelt otherwise than
    Azure spells it: the catalog's spelling for a catalog size (the one GpuNodePool sends without `gpu_sku`), else
    the naming convention's (vm_sizes.size_spelling); None for a size as spelt, or of no shape the convention knows.
    An agent pool's vmSize replaces the pool when it changes, in case alone too: refused, not taken, so a pool
    deployed in another case is not replaced under its program by an update of the package."""
    sku = find_gpu_sku(size)
    meant = sku.vm_size if sku else size_spelling(size)
    if meant is None or meant == size:
        return None
    whose = "the catalog's spelling (GpuNodePool sends it without gpu_sku)" if sku else "the size as Azure spells it"
    return (f"{whose}: did you mean {meant!r}? (an agent pool's vmSize replaces the pool when it changes, its case "
            "too: give it as Azure spells it from the start)")


def known_gpu_sizes() -> list[str]:
    return [s.vm_size for s in _SKUS]


def skus_for_model(gpu_model: str) -> list[GpuSku]:
    return [s for s in _SKUS if s.gpu_model == gpu_model]


class GpuUnits(NamedTuple):
    """What a pod's `nvidia.com/gpu: 1` gets on a node of a pool, and how many of them a node has."""
    gpus_per_node: int
    gpu_memory_gib: float


def gpu_units(sku: GpuSku, mig_profile: Optional[str]) -> GpuUnits:
    """A whole GPU, or with a MIG profile one GPU instance (so many per node, with the profile's eighths of the
    memory the driver reports; NVIDIA's profiles hold slightly less than that share, see docs/decisions.md)."""
    per_gpu, eighths = MIG_SLICES.get(mig_profile or "", (1, 8))
    return GpuUnits(sku.gpus * per_gpu, hundredths_down(sku.gpu_memory_mib * eighths / 8 / MIB_PER_GIB))
