"""`make plan` end to end: the offline banner, the tree, build/<stack>/ files, and clean failures."""
from __future__ import annotations

import json
import subprocess
import sys

import yaml

from offline import plan as plan_cli

from tests.conftest import PROJECT_DIR


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "offline.plan", *args], cwd=PROJECT_DIR, capture_output=True,
                          text=True, timeout=120)


# Valid but risky settings: the plan goes ahead and warns, naming the cost or the exposure.
RISKY = ["gpu.maxCount=100", "gpu.vmSize=Standard_ND96isr_H100_v5", "namespace=kube-system",
         "cluster.apiAccess.mode=authorizedIps", "cluster.apiAccess.authorizedIpRanges[0]=0.0.0.0/0",
         "gateway.rateLimitPerSecond=100000", "inference.accelerator=gpu", "inference.replicas=3", "gpu.maxCount=1",
         "gpu.vmSize=Standard_NC4as_T4_v3"]


def test_plan_writes_resources_and_manifests_and_warns_about_risky_settings(tmp_path, capsys):
    # the CLI's own main (as `python -m offline.plan` calls it; that entry point runs in test_unknown_stack_is_named),
    # in process so the SDK imports are not paid twice in the suite
    sets = [arg for s in RISKY for arg in ("--set", s)]
    assert plan_cli.main(["--stack", "dev", "--out", str(tmp_path), *sets]) == 0
    out = capsys.readouterr().out
    warnings = [line for line in out.splitlines() if line.startswith("warning: ")]
    assert any("0.0.0.0/0" in w and "whole internet" in w for w in warnings)
    assert any("kube-system" in w for w in warnings)
    assert any("100000/s" in w and "no limit" in w for w in warnings)
    assert any("Pending" in w for w in warnings)
    assert "OFFLINE PLAN" in out and "nothing is created" in out
    assert "+ llmplatform:index:AksCluster platform" in out
    assert "kubeconfig: [secret]" in out
    # a what-if never lands over the stack's own plan (the PR diff and a reader of build/dev/ trust it)
    assert not (tmp_path / "dev").exists()
    assert f"python -m offline.plan_diff {tmp_path / 'dev'} {tmp_path / 'dev.what-if'}" in out
    doc = json.loads((tmp_path / "dev.what-if" / "resources.json").read_text())
    types = {r["type"] for r in doc["resources"]}
    assert {"azure-native:containerservice:ManagedCluster", "kubernetes:core/v1:PersistentVolumeClaim"} <= types
    assert doc["outputs"]["kubeconfig"] == "[secret]"
    provider = next(r for r in doc["resources"] if r["type"] == "pulumi:providers:kubernetes")
    assert provider["inputs"]["kubeconfig"] == "[secret]"  # secret inputs never reach the plan files
    files = sorted((tmp_path / "dev.what-if" / "manifests").glob("*.yaml"))
    kinds = {yaml.safe_load(f.read_text())["kind"] for f in files}
    assert {"Namespace", "PersistentVolume", "PersistentVolumeClaim", "Job"} <= kinds
    deploy = json.loads((tmp_path / "dev.what-if" / "deploy.json").read_text())
    assert deploy["summary"] in out and deploy["criticalPath"] and deploy["problems"] == []


def test_bad_config_exits_nonzero_with_the_message_only(tmp_path, capsys):
    stale = tmp_path / "dev.what-if"  # an earlier what-if: plan_diff must not report it as this one
    stale.mkdir()
    (stale / "resources.json").write_text("{}")
    code = plan_cli.main(["--stack", "dev", "--out", str(tmp_path), "--set", "gpu.minCount=2",
                          "--set", "gpu.maxCount=1"])
    captured = capsys.readouterr()
    assert code == 1
    assert "gpu.maxCount 1 is invalid; allowed: at least gpu.minCount (2)" in captured.err
    assert "Traceback" not in captured.err + captured.out
    assert not list(tmp_path.iterdir())  # nothing written, neither the plan nor a what-if


def test_unknown_stack_is_named(tmp_path):
    result = run_cli("--stack", "qa", "--out", str(tmp_path))
    assert result.returncode == 2 and "Pulumi.qa.yaml" in result.stderr and "dev" in result.stderr


def test_set_parses_paths_and_types():
    from offline.stackfile import apply_sets
    assert apply_sets({}, ["gpu.maxCount=3", "gpu.enabled=false", "prefix=abc"]) == \
        {"gpu": {"maxCount": 3, "enabled": False}, "prefix": "abc"}


def test_redaction_keeps_shape_hides_values():
    assert plan_cli._redact({"a": {"b": "x", "c": ["y"]}, "d": 1}, ["a"]) == \
        {"a": {"b": "[secret]", "c": ["[secret]"]}, "d": 1}
