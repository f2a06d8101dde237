"""Names the components derive from content."""
import hashlib


def short_hash(*parts: str, length: int = 6) -> str:
    """A short, stable hash of the parts (same parts, same hash, on every machine)."""
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:length]


def content_suffix(*parts: str) -> str:
    """Short stable hash of content, used to give immutable objects (Jobs) a new name when their content changes."""
    return short_hash(*parts, length=8)
