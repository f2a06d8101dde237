"""Azure's region names (`data/azure_regions.json`, shipped in the package): the rule every `location` input follows,
in a component and in the stack config alike; and which of them have availability zones (`data/azure_zones.json`,
from Microsoft's region list), the rule every `zones` input follows in its region."""
import difflib
import functools
import json
from importlib import resources
from typing import Optional


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
