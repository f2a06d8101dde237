"""Pins (components/llmplatform/pins.py): every image we run is pinned, and a digest on a chart's tag counts as
pinned."""
from __future__ import annotations

from llmplatform.llmd_specs import image_is_pinned, router_values
from llmplatform.pins import parse_image


def _images(obj):
    if isinstance(obj, dict):
        for key, value in obj.items():
            if key == "image" and isinstance(value, str):
                # a custom resource naming its image in parts (NicClusterPolicy: repository, image, version)
                yield f"{obj['repository']}/{value}:{obj['version']}" if {"repository", "version"} <= obj.keys() \
                    else value
            else:
                yield from _images(value)
    elif isinstance(obj, list):
        for item in obj:
            yield from _images(item)


def test_every_image_we_run_is_pinned(any_plan):
    images = [i for r in any_plan.kubernetes_objects() for i in _images(r.inputs)]
    assert images
    for image in images:
        name, _, tag = image.rpartition(":")
        assert name and "/" not in tag and tag not in ("latest", "main", ""), image


def test_a_digest_rides_on_the_charts_tag_and_counts_as_pinned():
    digest = "sha256:" + "b" * 64
    values = router_values(f"ghcr.io/llm-d/llm-d-router-endpoint-picker:v0.10.0@{digest}", {"a": "b"}, {},
                           "FailOpen")
    image = values["router"]["epp"]["image"]
    assert (image["registry"], image["repository"], image["tag"]) == (
        "ghcr.io", "llm-d/llm-d-router-endpoint-picker", f"v0.10.0@{digest}")
    assert image_is_pinned(f"registry.example.com:5000/team/vllm:v1.0@{digest}")
    assert parse_image(f"registry.example.com:5000/team/vllm:v1.0@{digest}").registry == "registry.example.com:5000"
