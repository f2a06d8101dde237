"""A plan document's leaves, each with the path the PR check spells it by."""
from typing import Any, Iterator


def leaf_items(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """(path, value) of every leaf: `spec.template.metadata.labels.app`, `ports[0].port`."""
    return ((p, v) for p, _, v in leaf_keys(value, path))


def leaf_keys(value: Any, path: str = "", keys: tuple[Any, ...] = ()) -> Iterator[tuple[str, tuple[Any, ...], Any]]:
    """(path as `leaf_items` spells it, the keys that reach it, value) of every leaf: the keys, since a path cannot
    be split back where a key holds a dot (an annotation's `pulumi.com/timeoutSeconds`)."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from leaf_keys(item, f"{path}.{key}" if path else key, (*keys, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from leaf_keys(item, f"{path}[{i}]", (*keys, i))
    else:
        yield path, keys, value
