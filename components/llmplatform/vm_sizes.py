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
