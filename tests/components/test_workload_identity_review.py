"""WorkloadIdentity.once_resolved as a package user calls it, where a review found it answering with the SDK's words
(or an unrelated one's) instead of its own: what `make` may return, and `make` itself."""
from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s
import pytest

import llmplatform
from llmplatform.key_vault import grant_secrets_user
from offline import runner as offline
from tests.components.test_components_alone import VAULT, cluster_handle
from tests.components.test_workload_identity import _names


def _program(make_of, later: str = "app-key") -> None:
    """An identity, `once_resolved(later, make_of(identity))`, and a pod naming the identity's account."""
    on = pulumi.ResourceOptions(providers=[k8s.Provider("k8s", kubeconfig="{}")])
    identity = llmplatform.WorkloadIdentity("wi", {"cluster": cluster_handle(), "identity_name": "id-app",
                                                   "namespace": "app", "service_account_name": "app"}, on)
    identity.once_resolved(pulumi.Output.from_input(later), make_of(identity))
    k8s.core.v1.Pod("pod", metadata={"namespace": "app"}, spec={
        "service_account_name": identity.service_account_name, "containers": [{"name": "c", "image": "nginx"}]},
        opts=on)


def _grant(identity, name: str, secret: str) -> pulumi.Resource:
    return grant_secrets_user(name, VAULT, identity.principal_id, identity, secret)


def test_make_may_return_several_resources_and_the_pod_waits_for_each():
    """Two secrets named in one handle: two grants, both among the pod's dependencies."""
    plan = offline.run_function(lambda: _program(lambda identity: lambda key: [
        _grant(identity, "late-a", key), _grant(identity, "late-b", f"{key}-2")]))
    pod = plan.one("kubernetes:core/v1:Pod", "pod")
    assert {"late-a", "late-b", "wi-sa", "wi-federation"} <= _names(plan, pod.dependencies)


@pytest.mark.parametrize("returned, shown", [
    (lambda identity: lambda key: key, "a str"),  # the secret's name, not its grant
    (lambda identity: lambda key: pulumi.Output.from_input(key).apply(lambda k: _grant(identity, "g", k)), "an Output"),
    (lambda identity: lambda key: [_grant(identity, "g", key), "x"], "a list holding a str"),
])
def test_make_returning_no_resource_is_refused_in_one_sentence(returned, shown):
    """It failed in the SDK's words ("'depends_on' was passed a value ... that was not a Resource", "unhashable type:
    'list'"), naming an option the caller never gave, with a traceback. The value itself is not shown: it comes from
    an output that may be secret."""
    with pytest.raises(offline.ProgramError, match=r"^WorkloadIdentity wi: once_resolved: make returned "
                                                   + shown + r"; it returns a Resource, a list of them, or None"):
        offline.run_function(lambda: _program(returned))


def test_make_that_is_no_function_is_refused_when_once_resolved_is_called():
    with pytest.raises(offline.ProgramError, match=r"^WorkloadIdentity wi: once_resolved: make is str 'grant', not "
                                                   r"a function of the resolved value"):
        offline.run_function(lambda: _program(lambda identity: "grant"))
