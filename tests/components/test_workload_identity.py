"""WorkloadIdentity's `service_account_name`: a pod naming it waits for the federation and the Key Vault grants made
as the identity's children (the deploy model's `parallel` rule), and a child of the identity may name it too."""
from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s
from pulumi_azure_native import managedidentity

import llmplatform
from llmplatform.key_vault import grant_secrets_user
from offline import runner as offline
from tests.components.test_components_alone import VAULT, cluster_handle


def _program(child_names_the_account: bool) -> None:
    provider = k8s.Provider("k8s", kubeconfig="{}")
    on = pulumi.ResourceOptions(providers=[provider])
    identity = llmplatform.WorkloadIdentity("wi", {"cluster": cluster_handle(), "identity_name": "id-app",
                                                   "namespace": "app", "service_account_name": "app"}, on)
    pod = k8s.core.v1.Pod("pod", metadata={"namespace": "app"}, spec={
        "service_account_name": identity.service_account_name, "containers": [{"name": "c", "image": "nginx"}]},
        opts=on)
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
