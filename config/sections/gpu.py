"""The `gpu` section: the GPU node pool (a size from the stack's catalog) and its on-demand fallback pool."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Optional

from llmplatform.defaults import DEFAULTS as D  # the components' defaults are the stack's defaults
from llmplatform.gpu_skus import find_gpu_sku, known_gpu_sizes

from .. import component_rules
from ..reader import Reader, describe
from .cluster import read_zones


@dataclass(frozen=True)
class GpuFallbackConfig:
    enabled: bool = False
    min_count: int = 0
    max_count: int = 1


@dataclass(frozen=True)
class GpuConfig:
    enabled: bool = True
    pool_name: str = D["GpuNodePool"]["pool_name"]
    vm_size: str = "Standard_NC4as_T4_v3"
    min_count: int = D["GpuNodePool"]["min_count"]
    max_count: int = D["GpuNodePool"]["max_count"]
    priority: str = D["GpuNodePool"]["priority"]  # spot | regular
    spot_max_price: float = D["GpuNodePool"]["spot_max_price"]
    fallback: GpuFallbackConfig = GpuFallbackConfig()
    upgrade_max_surge: Optional[str] = None  # none: the on-demand pools are upgraded in place
    driver: str = D["GpuNodePool"]["driver"]  # aks | operator
    os_disk_size_gb: int = D["GpuNodePool"]["os_disk_size_gb"]
    max_pods: int = D["GpuNodePool"]["max_pods"]
    mig_profile: Optional[str] = None
    zones: tuple[str, ...] = ()
    regional: bool = D["GpuNodePool"]["regional"]


def parse_gpu(r: Reader, location: str) -> GpuConfig:
    """The section as written, checked by GpuNodePool's rules on a cluster in the stack's `location`."""
    d = GpuConfig()
    vm_size = r.str_("vmSize", d.vm_size) or d.vm_size
    sku = find_gpu_sku(vm_size)
    if sku is None:  # the stack names GPU sizes from the catalog only (a component user may describe any size)
        r.problem(f"gpu.vmSize {describe(vm_size)} is not a known GPU SKU; known: {', '.join(known_gpu_sizes())}")
    else:
        vm_size = sku.vm_size
    fb = r.section("fallback")
    fallback = GpuFallbackConfig(enabled=fb.bool_("enabled", False), min_count=fb.int_("minCount", 0),
                                 max_count=fb.int_("maxCount", 1))
    fb.reject_unknown_keys()
    cfg = GpuConfig(
        enabled=r.bool_("enabled", d.enabled), pool_name=r.str_("poolName", d.pool_name) or d.pool_name,
        vm_size=vm_size, min_count=r.int_("minCount", d.min_count), max_count=r.int_("maxCount", d.max_count),
        priority=r.str_("priority", d.priority) or d.priority, spot_max_price=r.float_("spotMaxPrice", d.spot_max_price),
        fallback=fallback, upgrade_max_surge=r.str_("upgradeMaxSurge", None),
        driver=r.str_("driver", d.driver) or d.driver,
        os_disk_size_gb=r.int_("osDiskSizeGb", d.os_disk_size_gb), max_pods=r.int_("maxPods", d.max_pods),
        mig_profile=r.str_("migProfile", None), zones=read_zones(r, "zones"),
        regional=r.bool_("regional", d.regional),
    )
    r.reject_unknown_keys()
    # GpuNodePool's rules (vm_size is the stack's own catalog rule above)
    args = {k: v for k, v in asdict(cfg).items() if k != "enabled"}
    args.update(zones=list(cfg.zones), vm_size=sku.vm_size if sku else None,
                cluster={"location": location})  # the cluster's region, all the rules read of the cluster here
    component_rules.check(r, "GpuNodePool", args, component_rules.keys("gpu"), skip=("vm_size",))
    return cfg
