"""Azure CPU VM sizes as AKS pools take them (`data/vm_sizes.json`, shipped in the package): the naming convention's
shape and the CPU families, for AksCluster's system and workload pools (GPU sizes: `gpu_skus.py`)."""
import functools
import json
import re
from importlib import resources
from typing import Any, Optional


@functools.lru_cache(maxsize=None)
def _spec() -> dict[str, Any]:
    return json.loads(resources.files(__package__).joinpath("data", "vm_sizes.json").read_text(encoding="utf-8"))


def cpu_vm_size(size: str) -> Optional[str]:
    """What is allowed when `size` is not a CPU VM size (None when it looks like one)."""
    spec = _spec()
    match = re.fullmatch(spec["pattern"], size)
    if not match:
        return "an Azure VM size (Standard_<family><vCPUs>..., e.g. Standard_D4s_v5)"
    if match.group("family") not in spec["cpu_families"]:
        return (f"a CPU VM size, of family {', '.join(spec['cpu_families'])} (this is family "
                f"{match.group('family')}; GPU sizes go to a GpuNodePool)")
    return None


def active_vcpus(size: str) -> Optional[int]:
    """The vCPUs a size runs, from its name: the number after the family, or a constrained size's second number
    (Standard_E4-2ds_v5 runs 2); None for a name not of the convention's shape."""
    if not isinstance(size, str) or not re.fullmatch(_spec()["pattern"], size):
        return None
    match = re.match(r"Standard_[A-Z]{1,2}([0-9]{1,3})(?:-([0-9]{1,3}))?", size)
    assert match is not None, "the pattern above matched"
    return int(match.group(2) or match.group(1))
