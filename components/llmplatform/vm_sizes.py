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
    meant = None if re.fullmatch(spec["pattern"], size) else size_spelling(size)
    match = re.fullmatch(spec["pattern"], meant or size)
    if not match:
        return "an Azure VM size (Standard_<family><vCPUs>..., e.g. Standard_D4s_v5)"
    if match.group("family") not in spec["cpu_families"]:
        return (f"a CPU VM size, of family {', '.join(spec['cpu_families'])} (this is family "
                f"{match.group('family')}; GPU sizes go to a GpuNodePool)")
    if meant:
        return f"the size as Azure spells it: did you mean {meant!r}?"
    return None


def size_spelling(size: str) -> Optional[str]:
    """The size as Azure spells it when `size` is one in another case, else None: the family in capitals, its vCPUs
    and features in lower case, a version in lower case, an accelerator in capitals and the few other parts as Azure
    spells them (`standard_d4S_V5` -> `Standard_D4s_v5`, `standard_nc4as_t4_v3` -> `Standard_NC4as_T4_v3`,
    `standard_dc4as_CC_v5` -> `Standard_DC4as_cc_v5`)."""
    spec = _spec()
    match = re.fullmatch(spec["pattern"], size, re.IGNORECASE)
    if not match:
        return None
    head, *parts = size[match.end("family"):].split("_")
    spelt = f"Standard_{match.group('family').upper()}{head.lower()}" + "".join(
        "_" + part_spelling(part, spec["part_spellings"]) for part in parts)
    return spelt if spelt != size and re.fullmatch(spec["pattern"], spelt) else None


def part_spelling(part: str, spellings: dict[str, str]) -> str:
    """A part after the size's first underscore as Azure spells it: a version (v5) in lower case, a part of the
    data file's (cc, Promo) as it says, any other (an accelerator: A100, MI300X) in capitals."""
    if re.fullmatch(r"v[0-9]+", part, re.IGNORECASE):
        return part.lower()
    return spellings.get(part.lower(), part.upper())


def active_vcpus(size: str) -> Optional[int]:
    """The vCPUs a size runs, from its name: the number after the family, or a constrained size's second number
    (Standard_E4-2ds_v5 runs 2); None for a name not of the convention's shape."""
    if not isinstance(size, str) or not re.fullmatch(_spec()["pattern"], size):
        return None
    match = re.match(r"Standard_[A-Z]{1,2}([0-9]{1,3})(?:-([0-9]{1,3}))?", size)
    assert match is not None, "the pattern above matched"
    return int(match.group(2) or match.group(1))
