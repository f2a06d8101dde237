"""Azure facts the stack config is checked against, as data files with their date and source (config/data/)."""
import functools
import json
import re
from pathlib import Path
from typing import Any, NamedTuple, Optional

DATA = Path(__file__).resolve().parent / "data"


@functools.lru_cache(maxsize=None)
def _load(name: str) -> Any:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


def postgres_skus(tier: str) -> tuple[str, ...]:
    return tuple(_load("postgres_skus.json")["skus"].get(tier, ()))


def aks_calendar() -> dict[str, Any]:
    """AKS's Kubernetes release calendar as written, with its date and source (config/aks_versions.py reads it)."""
    return _load("aks_kubernetes_versions.json")


class VmShape(NamedTuple):
    vcpus: int
    memory_gib: float


def vm_shape(size: str) -> Optional[VmShape]:
    """vCPUs and memory of a VM size: CPU sizes from vm_shapes.json, GPU sizes from the package's GPU catalog."""
    from llmplatform.gpu_skus import find_gpu_sku  # plain data, no Pulumi import
    cpu = _load("vm_shapes.json")["sizes"].get(size)
    if cpu:
        return VmShape(cpu["vcpus"], cpu["memory_gib"])
    gpu = find_gpu_sku(size)
    return VmShape(gpu.vcpus, gpu.ram_gib) if gpu else None


class GpuQuota(NamedTuple):
    family: str  # the size's vCPU quota family, as Azure's Resource SKUs API spells it
    regional: str  # the regional total regular VMs count against too
    spot: str  # the regional total every spot VM counts against, whatever its family


def gpu_quota(size: str) -> Optional[GpuQuota]:
    """The vCPU quotas a GPU size draws on (gpu_quota_families.json), None for a size it does not list."""
    data = _load("gpu_quota_families.json")
    family = data["families"].get(size)
    return GpuQuota(family, data["regional_quota"], data["spot_quota"]) if family else None


# Azure resource group names: 1-90 letters, digits, underscores, hyphens, periods and parentheses, not ending in '.'
RESOURCE_GROUP = re.compile(r"[A-Za-z0-9_().-]{0,89}[A-Za-z0-9_()-]")
