"""offline/images.py: what a stack's cluster pulls (build/<stack>/images.json) and the copy commands of
`make images`, through its command line."""
from __future__ import annotations

import json

import pytest

from llmplatform.pins import OLLAMA_IMAGE
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
    ollama = by_source[OLLAMA_IMAGE]  # the pinned tag: a bump in pins.json changes it
    assert ollama["pulls"] == f"{REGISTRY}/{OLLAMA_IMAGE.split('/', 1)[1]}"
    assert "inference-ollama" in ollama["usedBy"]
    assert any(e["source"].startswith("quay.io/prometheus/prometheus:") for e in entries)  # a chart's image


def test_copy_commands_use_az_acr_import_for_an_acr_and_crane_elsewhere():
    entries = [{"source": "docker.io/ollama/ollama:1", "pulls": "x", "usedBy": ["a"]},
               {"source": "docker.io/ollama/ollama:1", "pulls": "x", "usedBy": ["b"]}]
    assert copy_commands(entries, REGISTRY) == [
        "az acr import --name mirrorexample --source docker.io/ollama/ollama:1 --image ollama/ollama:1"]
    assert copy_commands(entries, "registry.example.com:5000/team") == [
        "crane copy docker.io/ollama/ollama:1 registry.example.com:5000/team/ollama/ollama:1"]
    # an ACR under a path, or with a domain name label: still az acr import, into the path
    assert copy_commands(entries, "mirrorexample-h4sh.azurecr.io/mirror") == [
        "az acr import --name mirrorexample --source docker.io/ollama/ollama:1 --image mirror/ollama/ollama:1"]


def test_a_pinned_digest_is_what_the_mirror_gets():
    digest = "sha256:" + "c" * 64
    entries = [{"source": f"docker.io/ollama/ollama:1@{digest}", "pulls": "x", "usedBy": []}]
    assert copy_commands(entries, REGISTRY) == [
        f"az acr import --name mirrorexample --source docker.io/ollama/ollama@{digest} --image ollama/ollama:1"]


def test_an_image_of_unknown_upstream_is_named_not_copied():
    entries = [{"source": None, "pulls": f"{REGISTRY}/team/vllm:v1", "usedBy": ["llmd-vllm"]}]
    [line] = copy_commands(entries, REGISTRY)
    assert line.startswith(f"# {REGISTRY}/team/vllm:v1 (llmd-vllm): not one of the package's images")


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


def _write(tmp_path, stack, registry, entries=None):
    folder = tmp_path / stack
    folder.mkdir()
    (folder / "images.json").write_text(json.dumps({"registry": registry, "images": [
        {"source": "docker.io/ollama/ollama:1", "pulls": "x", "usedBy": []}] if entries is None else entries,
        "inputs": images.inputs_digest(images.runner.PROJECT_DIR / f"Pulumi.{stack}.yaml")}))  # a current list


def test_the_command_line_takes_the_stack_registry_or_an_explicit_one(tmp_path, capsys):
    _write(tmp_path, "prod", REGISTRY)
    assert images.main(["--stack", "prod", "--out", str(tmp_path)]) == 0
    out, err = capsys.readouterr()
    assert "az acr import --name mirrorexample" in out and out.startswith("# 1 copies of the 1 images") and not err
    assert images.main(["--stack", "prod", "--out", str(tmp_path), "--registry", "other.azurecr.io"]) == 0
    out, err = capsys.readouterr()
    assert "--name other " in out and f"the stack's cluster pulls from {REGISTRY}" in err


def test_the_command_line_says_when_the_stack_does_not_pull_from_the_registry_it_fills(tmp_path, capsys):
    _write(tmp_path, "dev", None)
    assert images.main(["--stack", "dev", "--out", str(tmp_path), "--registry", REGISTRY]) == 0
    assert "set cluster.imageRegistry to use the mirror" in capsys.readouterr().err


def test_a_stack_with_no_cluster_has_nothing_to_copy(tmp_path, capsys):
    _write(tmp_path, "global", None, entries=[])
    assert images.main(["--stack", "global", "--out", str(tmp_path)]) == 0
    assert "no images to copy" in capsys.readouterr().out


def test_a_list_made_from_another_stack_file_is_called_stale_and_a_reinstall_is_not(tmp_path, capsys, monkeypatch):
    """Staleness is by content: the stack file or the package's pins changed since the plan (its digest in
    images.json), not a newer file time, which every `make install` gives the package's data files."""
    stack_file = tmp_path / "Pulumi.dev.yaml"
    stack_file.write_text("config: {}\n")
    monkeypatch.setattr(images.runner, "PROJECT_DIR", tmp_path)
    _write(tmp_path, "dev", REGISTRY)
    document = json.loads((tmp_path / "dev" / "images.json").read_text())
    assert document["inputs"] == images.inputs_digest(stack_file)
    import os
    os.utime(tmp_path / "dev" / "images.json", (1, 1))  # older than every input, as after a reinstall
    assert images.main(["--stack", "dev", "--out", str(tmp_path)]) == 0
    assert "changed after" not in capsys.readouterr().err
    stack_file.write_text("config: {aks-llm-platform:prefix: other}\n")
    assert images.main(["--stack", "dev", "--out", str(tmp_path)]) == 0
    assert "Pulumi.dev.yaml or the package's pins changed" in capsys.readouterr().err


def test_a_what_if_is_told_to_make_its_plan_again_not_a_stack_of_its_name(tmp_path, capsys):
    assert images.main(["--stack", "dev.what-if", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "offline.plan --stack dev --set" in err and "make plan STACK=dev.what-if" not in err


@pytest.mark.parametrize("registry, fragment", [(None, "pulls from the upstream registries"),
                                                ("https://a.io", "without a scheme"),
                                                ("A.azurecr.io", "lower case")])
def test_the_command_line_refuses_no_registry_or_a_bad_one_without_a_traceback(tmp_path, capsys, registry, fragment):
    _write(tmp_path, "dev", None)
    argv = ["--stack", "dev", "--out", str(tmp_path)] + (["--registry", registry] if registry else [])
    assert images.main(argv) == 2
    err = capsys.readouterr().err
    assert fragment in err and "REGISTRY" in err and "Traceback" not in err


@pytest.mark.parametrize("content", [None, "{not json", "[]", '{"images": 3}', '{"images": [{"source": "x"}]}',
                                     '{"images": [], "registry": 5}', '{"images": [7]}', "[" * 100000])
def test_the_command_line_asks_for_a_plan_when_the_file_is_missing_or_unreadable(tmp_path, capsys, content):
    if content is not None:
        (tmp_path / "dev").mkdir()
        (tmp_path / "dev" / "images.json").write_text(content)
    assert images.main(["--stack", "dev", "--out", str(tmp_path), "--registry", REGISTRY]) == 2
    assert "make plan STACK=dev" in capsys.readouterr().err


def test_a_stack_with_no_stack_file_and_no_plan_is_named_not_sent_to_plan(tmp_path, capsys):
    """`make images STACK=nosuch` had said to run `make plan STACK=nosuch`, which cannot plan a stack that has no
    stack file: it is named as `make plan` names it, with the stacks there are."""
    assert images.main(["--stack", "nosuch", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "no stack file" in err and "Pulumi.nosuch.yaml" in err and "prod" in err and "make plan" not in err


def test_a_stack_name_that_is_no_stack_is_refused_before_anything_is_read(tmp_path, capsys):
    (tmp_path / "images.json").write_text("{}")  # <out>/.. of an --out inside it: never read as a plan
    assert images.main(["--stack", "..", "--out", str(tmp_path / "build")]) == 2
    assert "stack name '..' is not valid" in capsys.readouterr().err


def test_a_closed_stdout_is_no_traceback(tmp_path, monkeypatch):
    """`make images | head -1`: the rest of the commands go nowhere, exit 0, no BrokenPipeError traceback. In-process
    behind the wrapper the module's `__main__` installs (its SDK import made a subprocess cost 3 s), on a real pipe
    whose reader is gone."""
    import os
    import sys
    from offline.quiet_stdout import QuietWhenClosed
    _write(tmp_path, "prod", REGISTRY, [{"source": f"docker.io/team/image{i}:1", "pulls": "x", "usedBy": []}
                                        for i in range(400)])  # more than a pipe's buffer of commands
    reader, writer = os.pipe()
    os.close(reader)
    with os.fdopen(writer, "w") as closed:
        monkeypatch.setattr(sys, "stdout", QuietWhenClosed(closed))
        assert images.main(["--stack", "prod", "--out", str(tmp_path)]) == 0
        sys.stdout.flush()
    assert "QuietWhenClosed(sys.stdout)" in (images.runner.PROJECT_DIR / "offline" / "images.py").read_text()


