"""Azure's region names (`data/azure_regions.json`, shipped in the package): the rule every `location` input follows,
in a component and in the stack config alike; and which of them have availability zones (`data/azure_zones.json`,
from Microsoft's region list), the rule every `zones` input follows in its region; and what PostgreSQL flexible server
and SSD file shares offer per region (`data/azure_service_regions.json`), the rule a server's HA and geo-redundant
backup and a share's ZRS follow in the cluster's region (and the advisory on a server's size)."""
import difflib
import functools
import json
import re
from importlib import resources
from typing import Any, Optional


@functools.lru_cache(maxsize=None)
def azure_regions() -> tuple[str, ...]:
    text = resources.files(__package__).joinpath("data", "azure_regions.json").read_text(encoding="utf-8")
    return tuple(json.loads(text)["regions"])


def azure_region(name: str) -> Optional[str]:
    """What is allowed when `name` is not an Azure region's programmatic name (None when it is): the name Azure
    means for a display spelling ('West Europe', 'west europe'), else the nearest names."""
    regions = azure_regions()
    if name in regions:
        return None
    squeezed = "".join(name.split()).lower()
    near = [squeezed] if squeezed in regions else difflib.get_close_matches(squeezed, regions, 3, 0.75)
    hint = f"did you mean {', '.join(near)}?" if near else "e.g. westeurope, eastus2, swedencentral"
    return f"an Azure region's name as `az account list-locations` gives it (lowercase, no spaces; {hint})"


@functools.lru_cache(maxsize=None)
def azure_zones() -> dict[str, tuple[str, ...]]:
    """The region names by availability zone support: `zonal`, `without_zones`, and `not_listed` (regions the source
    does not list, whose zones are left to AKS to judge)."""
    text = resources.files(__package__).joinpath("data", "azure_zones.json").read_text(encoding="utf-8")
    return {k: tuple(v) for k, v in json.loads(text).items() if not k.startswith("_")}


def has_no_zones(location: str) -> bool:
    """`location` is a region Microsoft's region list shows without availability zones (False for a zonal region,
    one the list leaves out, or a name that is not a region: the location's own rule refuses that)."""
    return location in azure_zones()["without_zones"]


@functools.lru_cache(maxsize=None)
def _service_data() -> dict[str, Any]:
    text = resources.files(__package__).joinpath("data", "azure_service_regions.json").read_text(encoding="utf-8")
    return {k: v for k, v in json.loads(text).items() if not k.startswith("_")}


@functools.lru_cache(maxsize=None)
def service_regions() -> dict[str, dict[str, tuple[str, ...]]]:
    """What PostgreSQL flexible server, SSD (premium) Azure Files and Entra's federated credentials offer in each
    region, as lists of region names (`data/azure_service_regions.json`, from Microsoft's pages for each service; the
    sources in the file)."""
    return {service: {k: tuple(v) for k, v in lists.items() if not k.startswith("_") and isinstance(v, list)}
            for service, lists in _service_data().items()}


@functools.lru_cache(maxsize=None)
def postgres_compute() -> dict[str, dict[str, tuple[str, ...]]]:
    """The generations of General Purpose and Memory Optimized sizes PostgreSQL flexible server offers in each region
    the table lists, by vendor: {'intel': {region: ('v3', 'v4', 'v5')}, 'amd': {region: ('v5',)}}."""
    pg = _service_data()["postgres_flexible"]
    return {vendor: {region: tuple(gens) for region, gens in pg[f"{vendor}_compute"].items()}
            for vendor in ("intel", "amd")}


_SIZE = re.compile(r"Standard_[DE][0-9]{1,3}(?P<letters>[a-z]{0,4})s_v(?P<gen>[0-9]{1,2})", re.IGNORECASE)


def postgres_size_not_offered(location: str, sku_name: str) -> Optional[str]:
    """What `location` offers when PostgreSQL flexible server's regions table shows the generation of `sku_name` (a
    General Purpose or Memory Optimized size: Intel, or AMD with an `a` after its vCPUs) not offered there, else None
    (also for a Burstable size, a name of no such shape and a region the table leaves out). Not a refusal: the columns
    follow capacity, and a server created with a size keeps it."""
    match = _SIZE.fullmatch(sku_name)
    offered, location = postgres_compute(), _region(location)
    if match is None or location not in offered["intel"]:
        return None
    vendor = "amd" if match["letters"].lower().startswith("a") else "intel"
    if f"v{int(match['gen'])}" in offered[vendor][location]:
        return None
    both = "; ".join(f"{name} {'/'.join(offered[v][location]) or 'none'}" for v, name in (("intel", "Intel"),
                                                                                       ("amd", "AMD")))
    return f"a size of a generation offered in {location!r} ({both})"


def _region(location: str) -> str:
    """A location as the service pages' lists hold it: ARM takes a display spelling ('West Europe') for the same
    region, so the lists are read by the name `az account list-locations` gives it."""
    return "".join(location.split()).lower()


def handle_region(location: Any) -> Any:
    """A cluster handle's location as the region lists hold it (a display spelling read as its programmatic name:
    no location rule refuses a handle's, as AksCluster's refuses its own); anything not a string as it is."""
    return _region(location) if isinstance(location, str) else location


def postgres_refuses(location: str, feature: str) -> bool:
    """PostgreSQL flexible server's regions table shows `location` without `feature` ('zone_redundant_ha' or
    'geo_redundant_backup'); False where it shows it and for a region the table leaves out."""
    return _region(location) in service_regions()["postgres_flexible"][f"no_{feature}"]


def postgres_zone_redundant_ha_paused(location: str) -> bool:
    """Microsoft's table marks new zone-redundant HA deployments in `location` as temporarily blocked ('$')."""
    return _region(location) in service_regions()["postgres_flexible"]["zone_redundant_ha_new_blocked"]


def premium_files_refuse_zrs(location: str) -> bool:
    """SSD (premium) file shares are offered in `location` with LRS only (False where ZRS is offered too, and for a
    region Microsoft's page leaves out)."""
    return _region(location) in service_regions()["premium_files"]["lrs_only"]


def federated_credentials_unsupported(location: str) -> bool:
    """Microsoft Entra's page lists `location` among the regions whose user-assigned identities take no federated
    identity credential (a workload identity made there cannot federate with the cluster's service accounts)."""
    return _region(location) in service_regions()["federated_credentials"]["unsupported"]
