"""The hardening decisions as pure functions: which scanner skips a workload carries, and the security contexts."""
import pytest

from policy.policies import containers

from llmplatform.hardening import (DIGEST_UNRESOLVED, NON_ROOT_UID, PULL_POLICY, container_security, root_image,
                                   scanner_annotations)

DIGEST = "sha256:" + "a" * 64


def test_the_digest_skip_lasts_only_while_an_image_has_no_digest():
    tagged = scanner_annotations(["docker.io/ollama/ollama:0.32.15"])
    assert list(tagged.values()) == [f"{PULL_POLICY[0]}={PULL_POLICY[1]}",
                                     f"{DIGEST_UNRESOLVED[0]}={DIGEST_UNRESOLVED[1]}"]
    pinned = scanner_annotations([f"docker.io/ollama/ollama:0.32.15@{DIGEST}"])
    assert list(pinned.values()) == [f"{PULL_POLICY[0]}={PULL_POLICY[1]}"]
    mixed = scanner_annotations([f"a:1@{DIGEST}", "b:2"])
    assert any(v.startswith("CKV_K8S_43=") for v in mixed.values())


def test_exceptions_are_numbered_after_the_common_skips_and_keep_their_reason():
    notes = scanner_annotations([f"a:1@{DIGEST}"], root_image("needs root"))
    assert notes == {"checkov.io/skip1": f"CKV_K8S_15={PULL_POLICY[1]}", "checkov.io/skip2": "CKV_K8S_23=needs root",
                     "checkov.io/skip3": "CKV_K8S_40=needs root"}


def test_a_reason_checkov_would_split_is_refused():
    with pytest.raises(ValueError, match="CKV_K8S_22"):
        scanner_annotations(["a:1"], [("CKV_K8S_22", "x=y")])


def test_container_defaults_are_non_root_high_uid_read_only_and_without_capabilities():
    ctx = container_security()
    assert (ctx.run_as_user, ctx.run_as_non_root, ctx.read_only_root_filesystem) == (NON_ROOT_UID, True, True)
    assert NON_ROOT_UID >= 10000 and ctx.allow_privilege_escalation is False
    assert ctx.capabilities.drop == ["ALL"] and ctx.capabilities.add is None
    root = container_security(run_as_user=None, read_only_root=False, add_capabilities=["IPC_LOCK"])
    assert root.run_as_non_root is False and root.capabilities.add == ["IPC_LOCK"]


def test_no_secret_leaves_key_vault_for_a_kubernetes_secret_or_an_env_reference(any_plan):
    """Secrets reach pods only as files of the CSI mount: no SecretProviderClass syncs a Kubernetes Secret and no
    container takes an env value from one (the platform's own Grafana admin Secret is a chart's input, not a pod's)."""
    for obj in any_plan.kubernetes_objects():
        if obj.inputs["kind"] == "SecretProviderClass":
            assert "secretObjects" not in obj.inputs["spec"], obj.name
        for container in containers(obj.inputs):  # the policy pack's walk over pod specs
            refs = [e["name"] for e in container.get("env") or [] if "secretKeyRef" in (e.get("valueFrom") or {})]
            assert not refs, f"{obj.name}: {refs}"
