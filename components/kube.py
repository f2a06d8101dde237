"""Kubernetes building blocks shared by the components: labels, hardened security contexts, namespaces."""
from __future__ import annotations

from typing import Optional

import pulumi
import pulumi_kubernetes as k8s

PART_OF = "llm-platform"
CPU_POOL_LABEL = "llm-platform/pool"  # set on the CPU workload pool's nodes; value "cpu"


def labels(component: str, name: str) -> dict[str, str]:
    return {
        "app.kubernetes.io/name": name,
        "app.kubernetes.io/component": component,
        "app.kubernetes.io/part-of": PART_OF,
        "app.kubernetes.io/managed-by": "pulumi",
    }


def restricted_container_security(run_as_user: Optional[int] = 65532) -> k8s.core.v1.SecurityContextArgs:
    """Pod Security 'restricted' profile for one container; run_as_user None keeps the image's user (root)."""
    return k8s.core.v1.SecurityContextArgs(
        allow_privilege_escalation=False,
        capabilities=k8s.core.v1.CapabilitiesArgs(drop=["ALL"]),
        read_only_root_filesystem=False,
        run_as_non_root=run_as_user is not None,
        run_as_user=run_as_user,
        seccomp_profile=k8s.core.v1.SeccompProfileArgs(type="RuntimeDefault"),
    )


def pod_security(run_as_user: Optional[int] = 65532) -> k8s.core.v1.PodSecurityContextArgs:
    return k8s.core.v1.PodSecurityContextArgs(
        run_as_non_root=run_as_user is not None,
        run_as_user=run_as_user,
        seccomp_profile=k8s.core.v1.SeccompProfileArgs(type="RuntimeDefault"),
    )


def namespace(resource_name: str, name: str, pod_security_level: str, opts: pulumi.ResourceOptions,
              extra_labels: Optional[dict[str, str]] = None) -> k8s.core.v1.Namespace:
    """A namespace with its Pod Security Admission level enforced (restricted, baseline or privileged)."""
    return k8s.core.v1.Namespace(
        resource_name,
        metadata=k8s.meta.v1.ObjectMetaArgs(
            name=name,
            labels={
                "pod-security.kubernetes.io/enforce": pod_security_level,
                "pod-security.kubernetes.io/warn": pod_security_level,
                "app.kubernetes.io/part-of": PART_OF,
                **(extra_labels or {}),
            },
        ),
        opts=opts,
    )


def tolerations_args(tolerations: list[dict[str, str]]) -> list[k8s.core.v1.TolerationArgs]:
    return [k8s.core.v1.TolerationArgs(**t) for t in tolerations]
