"""Where a cluster pulls its images from: their upstream registries, or one mirror registry.

Under an Azure Policy that allows only `*.azurecr.io` (the built-in "Kubernetes cluster containers should only use
allowed images"), every container the platform starts — its own and every Helm chart's — must come from the
organisation's registry. With a mirror set, an image `host/repository:tag` is pulled as `mirror/repository:tag`
(the repository path kept, the source host dropped: what `az acr import --source host/repository:tag` names it by
default, and what a chart's single registry setting such as kube-prometheus-stack's `global.imageRegistry` can
express). Docker Hub's official images keep their `library/` prefix.

What each chart needs to pull from the mirror is data, read from the chart's templates at the pinned version:
`data/chart_images/<chart>.json` (format in `docs/images.md`), one file per chart with its sources.
"""

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any, Optional

from .errors import ComponentInputError
from .pins import ChartRef, parse_image

# An OCI registry host, optionally with a port and a path below it (a mirror may live under a namespace).
_REGISTRY = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+(:[0-9]{1,5})?"
                       r"(/[a-z0-9]+([._-][a-z0-9]+)*)*$")
REGISTRY_PLACEHOLDER = "{registry}"


def registry_problem(registry: str) -> Optional[str]:
    """Why `registry` cannot be a mirror (None when it can): a host name with a dot, optional port and path, lower
    case, no scheme, no tag."""
    if not isinstance(registry, str) or not registry:
        return "a registry host such as myregistry.azurecr.io"
    if "://" in registry:
        return f"a registry host without a scheme (e.g. {registry.split('://', 1)[1].split('@')[-1].rstrip('/')})"
    if registry != registry.lower() or registry.endswith("/"):
        return f"a registry host in lower case, without a trailing / (e.g. {registry.lower().rstrip('/')})"
    if not _REGISTRY.match(registry):
        return "a lower-case registry host with a dot, an optional :port and /path (e.g. myregistry.azurecr.io)"
    return None


def mirror_problem(registry: Any) -> Optional[str]:
    """Why a cluster handle's `image_registry` is unusable (None when it is a registry, or None/"": no mirror)."""
    if registry is None or registry == "":
        return None
    return registry_problem(registry) if isinstance(registry, str) else "a registry host (a string)"


def acr_name(registry: str) -> Optional[str]:
    """The Azure Container Registry a mirror lives in, by its login server: `<name>.azurecr.io`, or
    `<name>-<hash>.azurecr.io` with a domain name label (registry names are letters and digits only); None for
    another registry. A port or path after the host is the mirror's own."""
    host = registry.split("/", 1)[0].split(":", 1)[0]
    if not host.endswith(".azurecr.io"):
        return None
    return host.split(".", 1)[0].split("-", 1)[0]


def registry_path(registry: str) -> str:
    """The path below the registry's host where the mirror's repositories start ('' at the top)."""
    return registry.split("/", 1)[1] if "/" in registry else ""


def mirrored(image: str, registry: Optional[str]) -> str:
    """`image` as the cluster pulls it: unchanged without a mirror or when it already comes from the mirror."""
    if not registry or image.startswith(f"{registry}/"):
        return image
    ref = parse_image(image)
    return f"{registry}/{ref.repository}:{ref.tag}" + (f"@{ref.digest}" if ref.digest else "")


def mirrored_repository(repository: str, registry: Optional[str]) -> str:
    """A `host/path` repository prefix (NVIDIA operators' `repository` + `image` + `version`) on the mirror."""
    if not registry or repository.startswith(f"{registry}/"):
        return repository
    return f"{registry}/{repository.split('/', 1)[1]}"


@dataclass(frozen=True)
class ChartImage:
    """One image a chart can render, as its vendored data file records it."""
    values: str
    """Where the chart's values configure it (dotted path)."""
    image: str
    """What it renders at the pinned version with the chart's defaults: host/repository:tag."""
    when: tuple[str, ...]
    """Values paths that must all be true for the chart to render it (`!path`: must be false); empty: always."""
    mirrored_by: tuple[str, ...]
    """The mirror_values paths that point it at the mirror."""
    note: str = ""
    runtime_tag: str = ""
    """The tag actually pulled when an operator completes it at run time, e.g. `{tag}-{os}` (the node's OS)."""


@dataclass(frozen=True)
class ChartImages:
    chart: str
    version: str
    sources: tuple[str, ...]
    mirror_values: dict[str, Any]
    images: tuple[ChartImage, ...]
    not_images: tuple[tuple[str, str], ...]
    """(values path, reason): paths that look like an image setting but render none."""
    when_defaults: dict[str, Any]
    """The chart's default at each path a `when` reads (a test checks them against the vendored values.yaml)."""


@lru_cache(maxsize=None)
def chart_images(upstream_dir: str) -> ChartImages:
    """The data file of one chart (by its folder name under tests/upstream/charts, as pins.json names it)."""
    path = resources.files(__package__).joinpath("data", "chart_images", f"{upstream_dir}.json")
    if not path.is_file():
        raise ComponentInputError(f"chart {upstream_dir}: no image data (llmplatform/data/chart_images/"
                                  f"{upstream_dir}.json), so its images cannot be sent to the cluster's mirror "
                                  f"registry; pass the values that do (helm_release's mirror_values, with "
                                  f"\"{{registry}}\" for the mirror host)")
    raw = json.loads(path.read_text(encoding="utf-8"))
    return ChartImages(
        chart=raw["chart"], version=raw["version"], sources=tuple(raw["sources"]),
        mirror_values=raw["mirror_values"],
        images=tuple(ChartImage(values=i["values"], image=i["image"], when=_paths(i.get("when")),
                                mirrored_by=_paths(i.get("mirrored_by")), note=i.get("note", ""),
                                runtime_tag=i.get("runtime_tag", ""))
                     for i in raw["images"]),
        not_images=tuple((n["values"], n["reason"]) for n in raw.get("not_images", [])),
        when_defaults=raw["when_defaults"])


def _paths(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


def chart_mirror_values(chart: ChartRef, registry: Optional[str]) -> dict[str, Any]:
    """The values that point every image of `chart` at the mirror (none without one)."""
    if not registry:
        return {}
    return format_registry(chart_images(chart.upstream_dir).mirror_values, registry)


def format_registry(node: Any, registry: str) -> Any:
    """Values with every "{registry}" placeholder replaced by the mirror host."""
    if isinstance(node, dict):
        return {k: format_registry(v, registry) for k, v in node.items()}
    if isinstance(node, list):
        return [format_registry(v, registry) for v in node]
    return node.replace(REGISTRY_PLACEHOLDER, registry) if isinstance(node, str) else node


def values_at(values: dict[str, Any], path: str) -> Any:
    """The value at a dotted path (None where any part is missing)."""
    node: Any = values
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def rendered(image: ChartImage, values: dict[str, Any], defaults: dict[str, Any]) -> bool:
    """Whether the chart renders `image` under a release's `values`, the chart's `defaults` (its when_defaults)
    where the release does not set a path."""
    for condition in image.when:
        path = condition.lstrip("!")
        value = values_at(values, path)
        if bool(defaults.get(path) if value is None else value) == condition.startswith("!"):
            return False
    return True
