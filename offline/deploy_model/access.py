"""When a Kubernetes provider may write: after the deployer's cluster role has reached the API server.

A provider that depends on a role assignment of "Azure Kubernetes Service RBAC Cluster Admin" to the deployer (the
kit's getClientConfig object) needs that grant to have propagated (Azure RBAC: up to 10 minutes) before its first
create; pulumi-kubernetes does not wait for it (a Forbidden create is not retried). It is `gated` when its
kubeconfig's API server answered a SelfSubjectAccessReview `allowed` during the run (llmplatform.cluster_access asks
until allowed, under its deadline), `raced` when it was not asked, never answered (a wrong token, say) or never
allowed (the wait then hands the kubeconfig on at its deadline, and the first creates meet Forbidden)."""
from __future__ import annotations

from typing import Optional

from llmplatform.access_review import api_server
from llmplatform.testing.api_server import grants_deployer_admin

from ..runner import Plan, Registration

PROVIDER = "pulumi:providers:kubernetes"


def _server(reg: Registration) -> Optional[str]:
    kubeconfig = reg.inputs.get("kubeconfig")
    if not isinstance(kubeconfig, str):
        return None
    try:
        return api_server(kubeconfig).url
    except Exception:  # noqa: BLE001 (a kubeconfig the model cannot read is simply not matched)
        return None


def deployer_access(plan: Plan) -> dict[str, str]:
    """Provider URN -> `gated` or `raced`, for the providers that wait for the deployer's cluster role."""
    answered = {review.server for review in plan.access_reviews if review.status == 201 and review.allowed}
    found = {}
    for reg in plan.of_type(PROVIDER):
        if plan.waits_for(reg, grants_deployer_admin):
            found[reg.urn] = "gated" if _server(reg) in answered else "raced"
    return found
