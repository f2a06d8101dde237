"""Names the components derive from content."""
import hashlib
import re
from typing import Optional

import pulumi

def short_hash(*parts: str, length: int = 6) -> str:
    """A short, stable hash of the parts (same parts, same hash, on every machine)."""
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:length]


def content_suffix(*parts: str) -> str:
    """Short stable hash of content, used to give immutable objects (Jobs) a new name when their content changes."""
    return short_hash(*parts, length=8)


def budget_name(*parts: str) -> str:
    """`budget-<parts>` as a budget name may be (azure_names.budget): other characters as '-', and one longer than 63
    cut and ended with a hash of the whole, so distinct parts keep distinct names."""
    name = re.sub(r"[^A-Za-z0-9_-]+", "-", "-".join(("budget",) + parts))
    return name if len(name) <= 63 else f"{name[:56]}-{short_hash(name)}"


def secret_name(*parts: str) -> str:
    """A Key Vault secret name (1-127 letters, digits and hyphens) from a component name and a purpose."""
    name = re.sub(r"[^A-Za-z0-9-]+", "-", "-".join(parts)).strip("-")
    return name[:127]


def indexed_name(prefix: str, index: int, names: list[str], suffix: str = "") -> list[pulumi.Alias]:
    """The alias `<prefix>-<index><suffix>` of a resource named after the name of item `index` of a list (`names`,
    every item's): llmplatform 0.16.0 named a fleet member's and a Front Door origin's resources after the item's
    position when its name arrived as an output (through the component provider, a sibling with dependencies made it
    one); with the alias such a resource keeps its state under its name. None when an item is named by digits: a
    position name could then be another item's own."""
    if any(str(name).isdigit() for name in names):
        return []
    return [pulumi.Alias(name=f"{prefix}-{index}{suffix}")]
