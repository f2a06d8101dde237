"""Which Services of type LoadBalancer a Helm release's chart renders, from the chart's own values (the vendored
values.yaml under tests/upstream/charts, its subcharts' under their key and condition) with the release's laid over.

Helm's wait (helm.sh/helm/v3 v3.20.2, the version pulumi-kubernetes' provider vendors: `pkg/kube/ready.go`
`serviceReady`) holds a Service of type LoadBalancer unready until `status.loadBalancer.ingress` is set (unless it
lists `externalIPs`), so a release awaited with such a Service waits for its address, which AKS's cloud provider
builds as the cluster's identity. The Service is found where a chart's values choose its type: a `type` or
`serviceType` key set to `LoadBalancer` in a mapping not turned off (`enabled: false` on it or above it), a subchart
only when its Chart.yaml condition holds. A type fixed in a template rather than in values would not be seen, nor is
a chart not vendored (only the release's own values are read then); the templates of every chart the stacks install
were read at their pinned commits (docs/decisions.md, "What the pinned charts' templates do"): each sets a Service's
type from one of these keys or fixes ClusterIP/ExternalName."""
from __future__ import annotations

import functools
from pathlib import Path
from typing import Any, Optional

import yaml
from llmplatform.images import values_at

from ..runner import Registration

CHARTS = Path(__file__).resolve().parents[2] / "tests" / "upstream" / "charts"
SERVICE_TYPE_KEYS = ("type", "serviceType")
INTERNAL_LB = "service.beta.kubernetes.io/azure-load-balancer-internal"
# Istio's charts keep their defaults under this key and merge the user's values over them (values.yaml's own
# comment; manifests/zzz_profile.yaml: defaults, then the profile, then the user's values)
ISTIO_DEFAULTS = "_internal_defaults_do_not_set"


_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's: kube-prometheus-stack's 200 KB in ~0.1 s


def _overlay(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """`extra` laid over `base` as Helm merges values, sharing what neither changes (nothing here writes into a
    result: no copy of a chart's large defaults per release)."""
    merged = dict(base)
    for key, value in extra.items():
        merged[key] = _overlay(merged[key], value) if isinstance(value, dict) and isinstance(merged.get(key), dict) \
            else value
    return merged


def _read(path: Path) -> dict[str, Any]:
    try:
        return yaml.load(path.read_text(), Loader=_LOADER) or {}  # noqa: S506 (a safe loader)
    except (OSError, yaml.YAMLError):
        return {}


@functools.lru_cache(maxsize=1)
def vendored_charts(root: Path = CHARTS) -> dict[str, Path]:
    """Chart name (its Chart.yaml `name`) -> its vendored folder."""
    return {str(_read(d / "Chart.yaml").get("name")): d for d in sorted(root.iterdir())
            if (d / "Chart.yaml").exists()} if root.is_dir() else {}


def _subchart(directory: Path, name: str) -> Path:
    """A dependency's vendored folder: charts/<name>, else the folder whose Chart.yaml has that `name` (llm-d's
    library `router` is vendored as charts/routerlib, its folder upstream)."""
    folder = directory / "charts" / name
    if folder.is_dir() or not (directory / "charts").is_dir():
        return folder
    return next((d for d in sorted((directory / "charts").iterdir())
                 if str(_read(d / "Chart.yaml").get("name")) == name), folder)


@functools.lru_cache(maxsize=64)
def _chart(directory: Path) -> tuple[dict[str, Any], tuple[tuple[str, str], ...]]:
    """A chart's default values, its vendored subcharts' under their alias (or name), and (key, condition) for
    each dependency with a condition (Chart.yaml `dependencies`)."""
    values = _read(directory / "values.yaml")
    conditions = []
    for dep in _read(directory / "Chart.yaml").get("dependencies") or []:
        key = str(dep.get("alias") or dep.get("name"))
        sub = _subchart(directory, str(dep.get("name")))
        if (sub / "values.yaml").exists():
            values = _overlay({key: _read(sub / "values.yaml")}, values)  # the parent's values win
        if dep.get("condition"):
            conditions.append((key, str(dep["condition"])))
    return values, tuple(conditions)


def _condition_holds(values: dict[str, Any], condition: str) -> bool:
    """Helm's `condition`: the first of its comma-separated paths that resolves to a boolean decides; none, on."""
    for path in condition.split(","):
        value = values_at(values, path.strip())
        if isinstance(value, bool):
            return value
    return True


def _lift_istio_defaults(values: dict[str, Any]) -> dict[str, Any]:
    if isinstance(values.get(ISTIO_DEFAULTS), dict):
        rest = {k: v for k, v in values.items() if k != ISTIO_DEFAULTS}
        return _overlay(values[ISTIO_DEFAULTS], rest)
    return values


def release_values(reg: Registration, root: Path = CHARTS) -> dict[str, Any]:
    """The values a release's chart renders with (`chart_values` of its inputs)."""
    return chart_values(reg.inputs, root)


def chart_name(inputs: dict[str, Any]) -> str:
    """The chart of a Release's inputs, without its repository or OCI path."""
    return str(inputs.get("chart", "")).rsplit("/", 1)[-1]


def chart_values(inputs: dict[str, Any], root: Path = CHARTS) -> dict[str, Any]:
    """The values a Release's chart renders with, from the Release's inputs: the vendored defaults, the release's
    over them, subcharts whose condition fails dropped."""
    directory: Optional[Path] = vendored_charts(root).get(chart_name(inputs))
    defaults, conditions = _chart(directory) if directory else ({}, ())
    given = inputs.get("values")
    ours: dict[str, Any] = given if isinstance(given, dict) else {}
    values = _lift_istio_defaults(_overlay(defaults, ours))
    for key, condition in conditions:
        if key in values and not _condition_holds(values, condition):
            values.pop(key)
    return values


def load_balancers(values: dict[str, Any], path: tuple[str, ...] = ()) -> list[tuple[str, bool]]:
    """(values path, internal) of each Service these values make a LoadBalancer; internal when the mapping's
    `annotations` ask Azure for an internal load balancer."""
    if values.get("enabled") is False:
        return []
    found = []
    for key, value in values.items():
        if key in SERVICE_TYPE_KEYS and value == "LoadBalancer":
            given = values.get("annotations")
            annotations: dict[str, Any] = given if isinstance(given, dict) else {}
            found.append((".".join(path + (key,)), str(annotations.get(INTERNAL_LB, "")).lower() == "true"))
        elif isinstance(value, dict):
            found += load_balancers(value, path + (str(key),))
    return found


def release_load_balancers(reg: Registration, root: Path = CHARTS) -> list[tuple[str, bool]]:
    """The LoadBalancer Services a release's chart renders with its values (`load_balancers`)."""
    return load_balancers(release_values(reg, root))
