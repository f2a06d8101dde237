"""Names the components derive from content."""
import hashlib
import re


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
