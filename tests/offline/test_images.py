"""offline/images.py: what a stack's cluster pulls (build/<stack>/images.json) and the copy commands of
`make images`, through its command line."""
from __future__ import annotations

import json

import pytest

from offline import images
from offline.images import copy_commands, object_images

from tests.conftest import MIRROR, variant

REGISTRY = MIRROR["imageRegistry"]


def test_object_images_reads_each_kind_of_pod_template():
    container = {"containers": [{"name": "a", "image": "x.io/a:1"}], "initContainers": [{"name": "b",
                                                                                         "image": "x.io/b:1"}]}
    assert sorted(object_images({"kind": "Deployment", "spec": {"template": {"spec": container}}})) == \
        ["x.io/a:1", "x.io/b:1"]
    assert list(object_images({"kind": "Pod", "spec": container})) == ["x.io/b:1", "x.io/a:1"]
    assert list(object_images({"kind": "CronJob", "spec": {"jobTemplate": {"spec": {"template": {
        "spec": container}}}}})) == ["x.io/b:1", "x.io/a:1"]
    assert list(object_images({"kind": "ConfigMap", "data": {"image": "x"}})) == []
    policy = {"kind": "NicClusterPolicy", "spec": {"ofedDriver": {"repository": "nvcr.io/nvidia/mellanox",
                                                                  "image": "doca-driver", "version": "1"}}}
    assert list(object_images(policy)) == ["nvcr.io/nvidia/mellanox/doca-driver:1"]


def test_a_mirrored_stack_lists_each_upstream_image_with_its_copy():
    doc = images.document(variant("prod-tls"), REGISTRY)
    assert doc["registry"] == REGISTRY
    entries = doc["images"]
    assert all(e["pulls"].startswith(f"{REGISTRY}/") for e in entries)
    assert all(not e["source"].startswith(f"{REGISTRY}/") for e in entries)  # the upstream of each copy is known
    by_source = {e["source"]: e for e in entries}
    ollama = by_source["docker.io/ollama/ollama:0.32.15"]
    assert ollama["pulls"] == f"{REGISTRY}/ollama/ollama:0.32.15"
    assert "inference-ollama" in ollama["usedBy"]
    assert any(e["source"].startswith("quay.io/prometheus/prometheus:") for e in entries)  # a chart's image


def test_copy_commands_use_az_acr_import_for_an_acr_and_crane_elsewhere():
    entries = [{"source": "docker.io/ollama/ollama:1"}, {"source": "docker.io/ollama/ollama:1"},
               {"source": f"{REGISTRY}/own/image:2"}]
    assert copy_commands(entries, REGISTRY) == [
        "az acr import --name mirrorexample --source docker.io/ollama/ollama:1 --image ollama/ollama:1"]
    assert copy_commands(entries, "registry.example.com") == [
        "crane copy docker.io/ollama/ollama:1 registry.example.com/ollama/ollama:1",
        f"crane copy {REGISTRY}/own/image:2 registry.example.com/own/image:2"]


def test_an_image_whose_tag_an_operator_completes_is_copied_under_each_completed_tag():
    doc = images.document(variant("llmd-pd"), REGISTRY)
    by_source = {e["source"]: e for e in doc["images"]}
    driver = next(e for s, e in by_source.items() if s.startswith("nvcr.io/nvidia/driver:"))
    tag = driver["source"].rsplit(":", 1)[1]
    assert driver["runtimeTags"] == [f"{tag}-ubuntu22.04", f"{tag}-ubuntu24.04"]
    doca = next(e for s, e in by_source.items() if s.startswith("nvcr.io/nvidia/mellanox/doca-driver:"))
    assert doca["pulls"].startswith(f"{REGISTRY}/nvidia/mellanox/doca-driver:")
    assert all(not s.startswith(REGISTRY) for s in by_source)  # each copy's upstream is known
    assert all(t.endswith("-amd64") for t in doca["runtimeTags"])
    lines = copy_commands([driver], REGISTRY)
    assert lines == [f"az acr import --name mirrorexample --source nvcr.io/nvidia/driver:{t} --image nvidia/driver:{t}"
                     for t in driver["runtimeTags"]]


def _write(tmp_path, stack, registry):
    folder = tmp_path / stack
    folder.mkdir()
    (folder / "images.json").write_text(json.dumps(
        {"registry": registry, "images": [{"source": "docker.io/ollama/ollama:1", "pulls": "x", "usedBy": []}]}))


def test_the_command_line_takes_the_stack_registry_or_an_explicit_one(tmp_path, capsys):
    _write(tmp_path, "prod", REGISTRY)
    assert images.main(["--stack", "prod", "--out", str(tmp_path)]) == 0
    assert "az acr import --name mirrorexample" in capsys.readouterr().out
    assert images.main(["--stack", "prod", "--out", str(tmp_path), "--registry", "other.azurecr.io"]) == 0
    assert "--name other " in capsys.readouterr().out


@pytest.mark.parametrize("registry, fragment", [(None, "none given"), ("https://a.io", "without a scheme")])
def test_the_command_line_refuses_no_registry_or_a_bad_one_without_a_traceback(tmp_path, capsys, registry, fragment):
    _write(tmp_path, "dev", None)
    argv = ["--stack", "dev", "--out", str(tmp_path)] + (["--registry", registry] if registry else [])
    assert images.main(argv) == 2
    err = capsys.readouterr().err
    assert fragment in err and "REGISTRY=" in err and "Traceback" not in err


@pytest.mark.parametrize("content", [None, "{not json", "[]", '{"images": 3}', '{"images": [{"source": "x"}]}',
                                     '{"images": [], "registry": 5}', '{"images": [7]}', "[" * 100000])
def test_the_command_line_asks_for_a_plan_when_the_file_is_missing_or_unreadable(tmp_path, capsys, content):
    if content is not None:
        (tmp_path / "dev").mkdir()
        (tmp_path / "dev" / "images.json").write_text(content)
    assert images.main(["--stack", "dev", "--out", str(tmp_path), "--registry", REGISTRY]) == 2
    assert "make plan STACK=dev" in capsys.readouterr().err
