"""Every image a pinned chart can render is in its data file (components/llmplatform/data/chart_images/), and the
values that send it to a mirror registry exist in the chart and name the mirrored reference."""
from __future__ import annotations

from typing import Any, Iterator

import pytest

from llmplatform.images import chart_images, mirrored, values_at
from llmplatform.pins import ALL_CHARTS, parse_image

from tests.conftest import upstream_dir
from tests.validation import chart_values, is_read, unknown_values_keys, unread_values_keys, values_read

MIRROR = "mirror.example.io"
IMAGE_KEYS = {"tag", "version", "registry", "digest"}


def image_settings(node: Any, path: str = "") -> Iterator[str]:
    """Paths in a chart's values that look like an image setting: a map with a `repository` or `hub`, or an `image`
    name beside a tag, version, registry or digest."""
    if isinstance(node, dict):
        if "repository" in node or "hub" in node or (isinstance(node.get("image"), str) and IMAGE_KEYS & set(node)):
            yield path
        for key, value in node.items():
            yield from image_settings(value, f"{path}.{key}" if path else key)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from image_settings(value, f"{path}[{i}]")


def leaf_paths(node: Any, path: str = "") -> Iterator[str]:
    if isinstance(node, dict) and node:
        for key, value in node.items():
            yield from leaf_paths(value, f"{path}.{key}" if path else key)
    else:
        yield path


def _value(values: dict[str, Any], path: str) -> Any:
    for part in path.split("."):
        values = values[part]
    return values


@pytest.mark.parametrize("chart", ALL_CHARTS, ids=lambda c: c.upstream_dir)
def test_every_image_setting_of_the_chart_is_accounted_for(chart):
    data = chart_images(chart.upstream_dir)
    assert (data.chart, data.version) == (chart.chart, chart.version), "the data file is for another chart version"
    assert data.sources, "each data file names the templates it was read from"
    defaults = chart_values(upstream_dir() / "charts" / chart.upstream_dir)
    recorded = {i.values for i in data.images} | {path for path, _ in data.not_images}
    missing = sorted(set(image_settings(defaults)) - recorded)
    assert not missing, f"{chart.chart}: image settings in values.yaml with no entry: {missing}"


@pytest.mark.parametrize("chart", ALL_CHARTS, ids=lambda c: c.upstream_dir)
def test_mirror_values_exist_in_the_chart_and_name_the_mirrored_images(chart):
    data = chart_images(chart.upstream_dir)
    defaults = chart_values(upstream_dir() / "charts" / chart.upstream_dir)
    assert list(unknown_values_keys(data.mirror_values, defaults)) == []
    # and a template of the pinned chart reads each (tests/upstream/charts/<chart>/values-read.json), in any stack
    assert list(unread_values_keys(data.mirror_values, upstream_dir() / "charts" / chart.upstream_dir)) == []
    leaves = set(leaf_paths(data.mirror_values))
    for image in data.images:
        target = mirrored(image.image, MIRROR)
        parse_image(image.image)
        assert image.mirrored_by, f"{image.values}: nothing sends {image.image} to the mirror"
        for path in image.mirrored_by:
            assert path in leaves, f"{image.values}: mirrored_by {path} is not set in mirror_values"
            value = str(_value(data.mirror_values, path)).replace("{registry}", MIRROR)
            assert target == value or target.startswith((f"{value}/", f"{value}:")), (
                f"{image.values}: {path} = {value!r} does not lead to {target}")


@pytest.mark.parametrize("chart", ALL_CHARTS, ids=lambda c: c.upstream_dir)
def test_the_recorded_defaults_of_each_switch_are_the_charts(chart):
    """`make plan` decides what a release renders from these, without reading the chart's values.yaml."""
    data = chart_images(chart.upstream_dir)
    defaults = chart_values(upstream_dir() / "charts" / chart.upstream_dir)
    switches = {c.lstrip("!") for image in data.images for c in image.when}
    assert set(data.when_defaults) == switches
    assert {path: values_at(defaults, path) for path in switches} == data.when_defaults
    # each switch is one a template of the pinned chart reads (values-read.json): a switch no template reads would
    # turn an image on or off in the plan and nothing in the cluster
    touched, whole, _ = values_read(upstream_dir() / "charts" / chart.upstream_dir)
    assert sorted(path for path in switches if not is_read(tuple(path.split(".")), touched, whole)) == []


def test_a_release_renders_what_its_switches_turn_on():
    from llmplatform.images import ChartImage, rendered
    image = ChartImage(values="x", image="quay.io/a/b:1", when=("a.enabled", "!b.off"), mirrored_by=())
    assert rendered(image, {}, {"a.enabled": True, "b.off": False})
    assert not rendered(image, {"a": {"enabled": False}}, {"a.enabled": True, "b.off": False})
    assert not rendered(image, {"b": {"off": True}}, {"a.enabled": True, "b.off": False})
    assert rendered(image, {"a": {"enabled": True}}, {"a.enabled": False, "b.off": False})
