"""Names the components derive from content."""
import hashlib
import re
from typing import Optional

import pulumi

# A stack name as the Pulumi CLI allows it (pulumi/pulumi pkg/backend/filestate/backend.go validateStackName:
# `^[A-Za-z0-9_.-]{1,100}$`, no slashes); '.' and '..' are refused as well, since tools make folders named after
# stacks and those two name the folder itself and its parent.
STACK_NAME = re.compile(r"[A-Za-z0-9_.-]{1,100}")
STACK_NAME_ALLOWED = "1-100 letters, digits, '_', '.' and '-', as the Pulumi CLI allows, and not '.' or '..'"


def stack_name_problem(name: object) -> Optional[str]:
    """Why `name` cannot be a stack's name (None when it can)."""
    if isinstance(name, str) and STACK_NAME.fullmatch(name) and name not in (".", ".."):
        return None
    return f"stack name {name!r} is not valid: {STACK_NAME_ALLOWED}"


def short_hash(*parts: str, length: int = 6) -> str:
    """A short, stable hash of the parts (same parts, same hash, on every machine)."""
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:length]


def content_suffix(*parts: str) -> str:
    """Short stable hash of content, used to give immutable objects (Jobs) a new name when their content changes."""
    return short_hash(*parts, length=8)


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
