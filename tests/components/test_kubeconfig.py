"""The kubeconfig (components/llmplatform/kubeconfig.py): kubelogin instead of device code, and a secret output."""
from __future__ import annotations

import yaml
from llmplatform.kubeconfig import AKS_AAD_SERVER_ID, with_kubelogin

from offline.runner import _fake_kubeconfig


def test_kubeconfig_output_is_secret_and_uses_kubelogin(any_plan):
    assert "kubeconfig" in any_plan.secret_outputs
    provider = any_plan.one("pulumi:providers:kubernetes")
    assert "kubeconfig" in provider.secret_paths
    assert "--login" in provider.inputs["kubeconfig"] and "kubelogin" in provider.inputs["kubeconfig"]


def _args(kubeconfig: str) -> list[str]:
    return yaml.safe_load(kubeconfig)["users"][0]["user"]["exec"]["args"]


def test_login_mode_replaces_device_code():
    args = _args(with_kubelogin(_fake_kubeconfig("c"), "azurecli"))
    assert args[0] == "get-token"
    assert args.count("--login") == 1 and args[args.index("--login") + 1] == "azurecli"
    assert args[args.index("--server-id") + 1] == AKS_AAD_SERVER_ID
    assert "--client-id" not in args  # device-code client id would break azurecli/CI modes


def test_workload_identity_for_ci_and_legacy_token_users():
    legacy = yaml.safe_dump({"users": [{"name": "u", "user": {"token": "abc"}}]})
    args = _args(with_kubelogin(legacy, "workloadidentity"))
    assert args[-2:] == ["--login", "workloadidentity"] and AKS_AAD_SERVER_ID in args
    assert "token" not in yaml.safe_load(with_kubelogin(legacy, "workloadidentity"))["users"][0]["user"]
