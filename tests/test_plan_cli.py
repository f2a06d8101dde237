"""`make plan` end to end: the offline banner, the tree, build/<stack>/ files, and clean failures."""
from __future__ import annotations

import json
import subprocess
import sys

import yaml

from tools import plan as plan_cli

from .conftest import PROJECT_DIR


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tools.plan", *args], cwd=PROJECT_DIR, capture_output=True,
                          text=True, timeout=120)


def test_plan_writes_resources_and_manifests(tmp_path):
    result = run_cli("--stack", "dev", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "OFFLINE PLAN" in result.stdout and "nothing is created" in result.stdout
    assert "+ llmplatform:index:AksCluster platform" in result.stdout
    assert "kubeconfig: [secret]" in result.stdout
    doc = json.loads((tmp_path / "dev" / "resources.json").read_text())
    types = {r["type"] for r in doc["resources"]}
    assert {"azure-native:containerservice:ManagedCluster", "kubernetes:core/v1:PersistentVolumeClaim"} <= types
    assert doc["outputs"]["kubeconfig"] == "[secret]"
    provider = next(r for r in doc["resources"] if r["type"] == "pulumi:providers:kubernetes")
    assert provider["inputs"]["kubeconfig"] == "[secret]"  # secret inputs never reach the plan files
    files = sorted((tmp_path / "dev" / "manifests").glob("*.yaml"))
    kinds = {yaml.safe_load(f.read_text())["kind"] for f in files}
    assert {"Namespace", "PersistentVolume", "PersistentVolumeClaim", "Job"} <= kinds


def test_bad_config_exits_nonzero_with_the_message_only(tmp_path, capsys):
    code = plan_cli.main(["--stack", "dev", "--out", str(tmp_path), "--set", "gpu.minCount=2",
                          "--set", "gpu.maxCount=1"])
    captured = capsys.readouterr()
    assert code == 1
    assert "gpu.maxCount (1) must be >= gpu.minCount (2)" in captured.err
    assert "Traceback" not in captured.err + captured.out
    assert not (tmp_path / "dev").exists()


def test_unknown_stack_is_named(tmp_path):
    result = run_cli("--stack", "qa", "--out", str(tmp_path))
    assert result.returncode == 2 and "Pulumi.qa.yaml" in result.stderr and "dev" in result.stderr


def test_set_parses_paths_and_types():
    from tools.stackfile import apply_sets
    assert apply_sets({}, ["gpu.maxCount=3", "gpu.enabled=false", "prefix=abc"]) == \
        {"gpu": {"maxCount": 3, "enabled": False}, "prefix": "abc"}


def test_redaction_keeps_shape_hides_values():
    assert plan_cli._redact({"a": {"b": "x", "c": ["y"]}, "d": 1}, ["a"]) == \
        {"a": {"b": "[secret]", "c": ["[secret]"]}, "d": 1}
