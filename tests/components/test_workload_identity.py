"""WorkloadIdentity's `service_account_name`: a pod naming it waits for the federation and the Key Vault grants made
as the identity's children (the deploy model's `parallel` rule), and a child of the identity may name it too."""
from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s
import pytest
from pulumi_azure_native import managedidentity

import llmplatform
from llmplatform.key_vault import grant_secrets_user
from offline import runner as offline
from tests.components.test_components_alone import VAULT, cluster_handle


def _identity_and_pod() -> tuple[k8s.Provider, llmplatform.WorkloadIdentity, k8s.core.v1.Pod]:
    """An identity in namespace `app` and a pod naming its account."""
    provider = k8s.Provider("k8s", kubeconfig="{}")
    on = pulumi.ResourceOptions(providers=[provider])
    identity = llmplatform.WorkloadIdentity("wi", {"cluster": cluster_handle(), "identity_name": "id-app",
                                                   "namespace": "app", "service_account_name": "app"}, on)
    pod = k8s.core.v1.Pod("pod", metadata={"namespace": "app"}, spec={
        "service_account_name": identity.service_account_name, "containers": [{"name": "c", "image": "nginx"}]},
        opts=on)
    return provider, identity, pod


def _program(child_names_the_account: bool) -> None:
    provider, identity, pod = _identity_and_pod()
    # the grant is made after the pod in the program, as a component that mounts the secret would
    grant_secrets_user("wi-kv-reader", VAULT, identity.principal_id, identity, "app-key")
    if child_names_the_account:
        # a package user's own children of the identity, naming its account: a RoleBinding, a second federation
        k8s.rbac.v1.RoleBinding("wi-reader", metadata={"namespace": "app"},
                                role_ref={"api_group": "rbac.authorization.k8s.io", "kind": "Role", "name": "r"},
                                subjects=[{"kind": "ServiceAccount", "name": identity.service_account_name,
                                           "namespace": "app"}],
                                opts=pulumi.ResourceOptions(parent=identity, providers=[provider]))
        managedidentity.FederatedIdentityCredential(
            "wi-federation-2", resource_name_="id-app", resource_group_name="rg", issuer="https://other/",
            subject=identity.service_account_name.apply(lambda n: f"system:serviceaccount:app:{n}"),
            audiences=["api://AzureADTokenExchange"], opts=pulumi.ResourceOptions(parent=identity))
    del pod


def _names(plan, urns) -> set[str]:
    by_urn = {r.urn: r.name for r in plan.resources}
    return {by_urn[u] for u in urns}


def test_a_pod_naming_the_account_waits_for_the_federation_and_the_grants_made_as_children():
    plan = offline.run_function(lambda: _program(False))
    pod = next(r for r in plan.resources if r.name == "pod")
    assert {"wi-sa", "wi-federation", "wi-kv-reader"} <= _names(plan, pod.dependencies)


def test_a_child_of_the_identity_may_name_its_account():
    """The name carried the component, which the SDK expands to every child: a child naming it depended on itself
    (pulumi/runtime/rpc.py `_add_dependency`, resource_cycle_breaker: "We have detected a circular dependency")."""
    plan = offline.run_function(lambda: _program(True))
    binding = next(r for r in plan.resources if r.name == "wi-reader")
    assert binding.inputs["subjects"][0]["name"] == "app" and "wi-sa" in _names(plan, binding.dependencies)
    pod = next(r for r in plan.resources if r.name == "pod")
    assert {"wi-sa", "wi-federation", "wi-kv-reader"} <= _names(plan, pod.dependencies)



def _late_program(make_grant: bool = True, preview_unknown: bool = False) -> None:
    """A pod of the identity, and a grant made with `once_resolved` on a secret name that resolves only once the
    identity's ServiceAccount exists (a handle another program hands over: the latest it can arrive), by a component of
    the user's own, so not as the identity's child."""
    import asyncio
    import pulumi_random as random
    provider = k8s.Provider("k8s", kubeconfig="{}")
    on = pulumi.ResourceOptions(providers=[provider])
    identity = llmplatform.WorkloadIdentity("wi", {"cluster": cluster_handle(), "identity_name": "id-app",
                                                   "namespace": "app", "service_account_name": "app"}, on)
    if preview_unknown:
        secret = random.RandomId("handed", byte_length=4).hex.apply(lambda _: "app-key")
    else:
        handed: asyncio.Future = asyncio.get_event_loop().create_future()
        [account] = [c for c in identity._childResources if isinstance(c, k8s.core.v1.ServiceAccount)]
        account.urn.apply(lambda _: handed.set_result("app-key"))
        secret = pulumi.Output.from_input(handed)
    app = pulumi.ComponentResource("test:index:App", "app")
    identity.once_resolved(secret, lambda name: grant_secrets_user("late-kv-reader", VAULT, identity.principal_id,
                                                                   app, name) if make_grant else None)
    k8s.core.v1.Pod("pod", metadata={"namespace": "app"}, spec={
        "service_account_name": identity.service_account_name, "containers": [{"name": "c", "image": "nginx"}]},
        opts=on)


def test_a_pod_naming_the_account_waits_for_what_once_resolved_makes_after_the_account_exists():
    """A grant made inside an apply is no child of the identity when its ServiceAccount exists, which is when the name
    collects its gates: the pod was registered without it (free to start before its identity may read the secret)."""
    plan = offline.run_function(_late_program)
    grant = plan.one("azure-native:authorization:RoleAssignment", "late-kv-reader")
    assert grant.inputs["scope"] == "/vaults/kv1/secrets/app-key" and grant.parent.endswith("::app")
    pod = plan.one("kubernetes:core/v1:Pod", "pod")
    assert {"wi-sa", "wi-federation", "late-kv-reader"} <= _names(plan, pod.dependencies)
    assert pod.inputs["spec"]["serviceAccountName"] == "app"


def test_nothing_made_once_resolved_leaves_the_pod_its_usual_gates():
    plan = offline.run_function(lambda: _late_program(make_grant=False))
    assert plan.of_type("azure-native:authorization:RoleAssignment") == []
    pod = plan.one("kubernetes:core/v1:Pod", "pod")
    assert _names(plan, pod.dependencies) == {"wi-sa", "wi-federation"}


def test_in_a_preview_where_the_value_is_not_known_nothing_is_made_and_the_name_stays_known():
    """The SDK runs no apply on an unknown (pulumi 3.272.0 output.py `Output.apply`): the grant is not shown, and the
    account's name, which waits for that apply to end, is known, so the pod is planned with it."""
    plan = offline.run_function(lambda: _late_program(preview_unknown=True), preview=True)
    assert plan.of_type("azure-native:authorization:RoleAssignment") == []
    assert plan.one("kubernetes:core/v1:Pod", "pod").inputs["spec"]["serviceAccountName"] == "app"


def test_once_resolved_after_the_name_resolved_is_refused_naming_the_identity():
    """By then the pods naming the account may be registered without what it makes: a defect of the caller, told in
    one sentence (no traceback)."""
    def program() -> None:
        identity = llmplatform.WorkloadIdentity("wi", {
            "cluster": cluster_handle(), "identity_name": "id-app", "namespace": "app", "service_account_name": "app"},
            pulumi.ResourceOptions(providers=[k8s.Provider("k8s", kubeconfig="{}")]))
        identity.service_account_name.apply(lambda _: identity.once_resolved("app-key", lambda _: None))
    with pytest.raises(offline.ProgramError, match=r"^WorkloadIdentity wi: once_resolved was called after "
                                                   r"service_account_name resolved: the pods naming it may exist "
                                                   r"already; call it while building"):
        offline.run_function(program)


def test_a_value_that_waits_for_a_pod_of_the_account_is_told_not_waited_for():
    """The deadlock once_resolved's docstring warns of: the pod waits for the account's name, the name for what
    `make` returns, `make` for the value, the value for the pod. `pulumi up` would wait forever; the run says which
    resources wait, in one sentence, within seconds."""
    def program() -> None:
        _, identity, pod = _identity_and_pod()
        identity.once_resolved(pod.metadata.apply(lambda _: "app-key"),
                               lambda name: grant_secrets_user("late-kv-reader", VAULT, identity.principal_id,
                                                               identity, name))
    with pytest.raises(offline.ProgramError) as refused:
        offline.run_function(program)
    message = str(refused.value)
    assert message.startswith("the program never finishes: it waits for values nothing will ever give")
    assert "kubernetes:core/v1:Pod pod" in message and "\n" not in message
