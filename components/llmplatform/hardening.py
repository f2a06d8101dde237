"""Container hardening shared by every workload the components create, and the scanner exceptions that remain.

Every object is scanned by checkov's Kubernetes framework in the test suite. What can be fixed is fixed here (a
non-root high UID, a read-only root filesystem, CPU limits, probes, secrets as files). A check that does not fit an
object is skipped on that object with checkov's own annotation and a reason; docs/decisions.md lists every skip.
"""
from typing import Optional

import pulumi_kubernetes as k8s

NON_ROOT_UID = 65532
"""The uid every non-root container runs as (>= 10000, so it maps to no user on the node); the model share is
mounted with this owner so the preload Job writes it without root."""

PULL_POLICY = ("CKV_K8S_15", "images are pinned (release tag and digest where resolved); IfNotPresent starts pods "
               "without a registry round trip and through a registry outage or rate limit")
DIGEST_UNRESOLVED = ("CKV_K8S_43", "release tag pinned in llmplatform/data/pins.json; the digest is resolved by "
                     "`make pin-digests` on a machine with registry access (the offline build has none)")


def root_image(reason: str) -> list[tuple[str, str]]:
    """An upstream image that must run as uid 0 (root admission and high-UID checks)."""
    return [("CKV_K8S_23", reason), ("CKV_K8S_40", reason)]


def writable_root(reason: str) -> list[tuple[str, str]]:
    return [("CKV_K8S_22", reason)]


def has_digest(image: str) -> bool:
    return "@sha256:" in image


def scanner_annotations(images: list[str], exceptions: Optional[list[tuple[str, str]]] = None) -> dict[str, str]:
    """checkov skip annotations (`checkov.io/skipN: CHECK=reason`) for a workload running `images`: the pull-policy
    skip always, the digest skip while any image has no digest, and the workload's own exceptions."""
    skips = [PULL_POLICY, *([] if all(map(has_digest, images)) else [DIGEST_UNRESOLVED]), *(exceptions or [])]
    for check, reason in skips:
        if "=" in reason:  # checkov splits the annotation value at "="
            raise ValueError(f"scanner skip reason for {check} must not contain '=': {reason!r}")
    return {f"checkov.io/skip{i}": f"{check}={reason}" for i, (check, reason) in enumerate(skips, start=1)}


def container_security(run_as_user: Optional[int] = NON_ROOT_UID, read_only_root: bool = True,
                       add_capabilities: Optional[list[str]] = None) -> k8s.core.v1.SecurityContextArgs:
    """Pod Security 'restricted' for one container: no escalation, every capability dropped (unless one is added
    under a documented exemption), RuntimeDefault seccomp. run_as_user None keeps the image's user (root)."""
    return k8s.core.v1.SecurityContextArgs(
        allow_privilege_escalation=False,
        capabilities=k8s.core.v1.CapabilitiesArgs(drop=["ALL"], add=add_capabilities),
        read_only_root_filesystem=read_only_root,
        run_as_non_root=run_as_user is not None,
        run_as_user=run_as_user,
        seccomp_profile=k8s.core.v1.SeccompProfileArgs(type="RuntimeDefault"),
    )


def pod_security(run_as_user: Optional[int] = NON_ROOT_UID) -> k8s.core.v1.PodSecurityContextArgs:
    return k8s.core.v1.PodSecurityContextArgs(
        run_as_non_root=run_as_user is not None,
        run_as_user=run_as_user,
        seccomp_profile=k8s.core.v1.SeccompProfileArgs(type="RuntimeDefault"),
    )


def scratch_volume(name: str = "tmp") -> k8s.core.v1.VolumeArgs:
    """A small writable emptyDir for a container whose root filesystem is read-only."""
    return k8s.core.v1.VolumeArgs(name=name, empty_dir=k8s.core.v1.EmptyDirVolumeSourceArgs(size_limit="1Gi"))
