"""Where a node pool's OS disk lives: ephemeral on the VM's local disk when asked for and the size's local disk holds
it (faster node starts and reimages, no managed-disk charge, nothing left behind when a node goes), else a managed
disk. Plain data and pure functions: the sizes are package data (`data/vm_local_disks.json`)."""
import json
from importlib import resources
from typing import Optional

_TABLE: dict[str, int] = json.loads(
    resources.files(__package__).joinpath("data", "vm_local_disks.json").read_text(encoding="utf-8"))["local_disk_gib"]

EPHEMERAL = "Ephemeral"


def local_disk_gib(vm_size: str) -> Optional[int]:
    """The size's local disk in GiB; None when the table does not know the size."""
    return _TABLE.get(vm_size)


def os_disk_type(vm_size: str, os_disk_gb: int, ephemeral: bool) -> Optional[str]:
    """"Ephemeral" only when asked for and the size's local disk is known to hold the OS disk; otherwise None: left
    to AKS, which itself picks an ephemeral disk when the size's cache holds the OS disk and a managed one otherwise
    (an explicit "Ephemeral" that does not fit is a validation error, which the table prevents). Never an explicit
    "Managed": the type of an existing pool cannot change in place, and a pool created before this switch keeps
    what AKS chose."""
    local = local_disk_gib(vm_size)
    return EPHEMERAL if ephemeral and local is not None and local >= os_disk_gb else None


def why_managed(vm_size: str, os_disk_gb: int) -> str:
    """Why a pool that asked for an ephemeral OS disk gets none from the table (for the plan's advisories)."""
    local = local_disk_gib(vm_size)
    if local is None:
        return f"{vm_size} is not in llmplatform's local-disk table (data/vm_local_disks.json)"
    if local == 0:
        return f"{vm_size} has no local disk (a size with 'd' in its name has one, e.g. Standard_D4ds_v5)"
    return f"the {local} GiB local disk of {vm_size} is smaller than its {os_disk_gb} GiB OS disk"
