"""The deployer's access before the first in-cluster write, as the kit's stand-in API servers see it
(llmplatform.testing.api_server) and the deploy model reads it (offline/deploy_model/access.py): AksCluster holds
its Kubernetes provider back until the cluster's API server allows the deployer; a program that does not, or asks
with the wrong token, fails the model's `deployer-access` rule."""
from __future__ import annotations

import llmplatform
import pulumi
import pulumi_azure_native as azure_native
import pulumi_kubernetes as k8s
import pytest
import requests
from llmplatform import aks_cluster, cluster_access
from llmplatform.access_review import DEADLINE_S
from llmplatform.testing import OfflineMocks, stand_ins

from offline import deploy_model, runner as offline

from tests.components.test_components_alone import REQUIRED
from tests.sdk_mocks import run_under_sdk_mocks

TOKEN_INVOKE = "azure-native:authorization:getClientToken"


def cluster_alone(**extra) -> offline.Plan:
    return offline.run_function(lambda: llmplatform.AksCluster("aks", {**REQUIRED["AksCluster"](), **extra}))


def provider_step(plan: offline.Plan) -> deploy_model.DeployModel:
    model = deploy_model.evaluate(plan)
    return next(s for s in model.steps.values() if s.reg.type == "pulumi:providers:kubernetes"), model


def test_every_stacks_provider_waits_until_its_api_server_allows_the_deployer(any_plan):
    clusters = any_plan.of_type("azure-native:containerservice:ManagedCluster")
    reviews = any_plan.access_reviews
    assert len(reviews) == len(clusters) and all(r.status == 201 and r.allowed for r in reviews)
    assert {r.server for r in reviews} == {f"https://{c.inputs['resourceName']}.hcp.{c.inputs['location']}"
                                           f".azmk8s.io:443" for c in clusters}
    if clusters:
        step, model = provider_step(any_plan)
        assert step.wait.timeout == DEADLINE_S and "SelfSubjectAccessReview" in step.wait.waits_for
        assert not [p for p in model.problems if p.rule == "deployer-access"]


def test_a_provider_not_held_back_races_the_grant(monkeypatch):
    monkeypatch.setattr(aks_cluster, "once_allowed", lambda kubeconfig, token, name, after, **_: kubeconfig)
    plan = cluster_alone()
    assert plan.access_reviews == []
    _, model = provider_step(plan)
    found = [str(p) for p in model.problems if p.rule == "deployer-access"]
    assert found == ["[deployer-access] aks-k8s: its first creates race the deployer's cluster role (Azure RBAC "
                     "propagation, up to 10 min) and fail with Forbidden, which pulumi-kubernetes does not retry; "
                     "fix: hand the provider a kubeconfig through llmplatform.cluster_access.once_allowed (as "
                     "AksCluster does), whose SelfSubjectAccessReview the cluster's API server must answer"]


def test_a_token_for_another_audience_is_refused_and_the_provider_races(monkeypatch):
    """The API server takes only tokens for the AKS server application (kubelogin's audience): a token for ARM, the
    invoke's default, gets 401, and so does the one new token asked for then; the wait reports it and hands on, and
    the model sees no answered review."""
    monkeypatch.setattr(aks_cluster, "AKS_AAD_SERVER_ID", None)
    plan = cluster_alone()
    assert [(r.status, r.allowed) for r in plan.access_reviews] == [(401, False)] * 2
    assert any("refused the deployer's token (HTTP 401" in w for w in plan.warnings)
    _, model = provider_step(plan)
    assert [p.resource for p in model.problems if p.rule == "deployer-access"] == ["aks-k8s"]


def test_asked_before_the_grant_exists_the_wait_runs_to_its_deadline(monkeypatch):
    """The stand-in answers allowed only once the plan holds the deployer's grant on that cluster: the wait asked
    about a cluster with no such grant (here: the grant's scope made another cluster's) is refused until its
    deadline, in virtual time."""
    real = aks_cluster.authorization.RoleAssignment

    def elsewhere(name, **kwargs):
        if name.endswith("-deployer-admin"):
            kwargs["scope"] = "/subscriptions/x/resourceGroups/y/providers/Microsoft.ContainerService/" \
                              "managedClusters/another"
        return real(name, **kwargs)
    monkeypatch.setattr(aks_cluster.authorization, "RoleAssignment", elsewhere)
    plan = cluster_alone()
    assert len(plan.access_reviews) == DEADLINE_S // 10 + 1 and not any(r.allowed for r in plan.access_reviews)
    assert plan.access_reviews[-1].asked_at == DEADLINE_S
    assert any("still refuses the deployer" in w for w in plan.warnings)
    # answered, but never allowed: the wait hands on and the provider's first creates race the grant
    _, model = provider_step(plan)
    assert [p.resource for p in model.problems if p.rule == "deployer-access"] == ["aks-k8s"]


def test_without_the_deployers_grant_nothing_is_asked_and_nothing_races():
    plan = cluster_alone(grant_deployer_admin=False)
    assert plan.access_reviews == [] and TOKEN_INVOKE not in {token for token, _ in plan.invokes}
    step, model = provider_step(plan)
    assert step.wait.waits_for.startswith("nothing (the deployer's access") and not [
        p for p in model.problems if p.rule == "deployer-access"]


def test_a_preview_asks_nothing(monkeypatch):
    monkeypatch.setattr(pulumi.runtime, "is_dry_run", lambda: True)
    plan = cluster_alone()
    assert plan.access_reviews == [] and TOKEN_INVOKE not in {token for token, _ in plan.invokes}


def test_the_invokes_ask_the_components_own_azure_provider():
    """A stranger hands AksCluster another subscription's provider: the deployer's object id, the role definitions'
    subscription, the credentials and the token come from that provider, as the children are made by it."""
    def program():
        other = azure_native.Provider("other", subscription_id="99999999-9999-9999-9999-999999999999")
        llmplatform.AksCluster("aks", REQUIRED["AksCluster"](), pulumi.ResourceOptions(providers=[other]))
    plan = offline.run_function(program)
    asked = {(token, provider.split("::")[-2]) for token, provider in plan.invokes}  # urn::id: the URN's name
    assert {token for token, _ in asked} >= {"azure-native:authorization:getClientConfig", TOKEN_INVOKE,
                                             "azure-native:containerservice:listManagedClusterUserCredentials"}
    assert all(name == "other" for token, name in asked if token.startswith("azure-native:")), asked
    # the kit answers as that provider's subscription: the ids the component makes from the answers are there too
    other = "/subscriptions/99999999-9999-9999-9999-999999999999/"
    grants = plan.of_type("azure-native:authorization:RoleAssignment")
    assert grants and all(g.inputs["roleDefinitionId"].startswith(other) and g.inputs["scope"].startswith(other)
                          for g in grants)
    assert [(r.status, r.allowed) for r in plan.access_reviews] == [(201, True)]  # the grant is on that cluster


def test_the_token_is_asked_for_once_the_grant_exists(monkeypatch):
    """Not at the program's start: an Entra token may be handed out with five minutes left (MSAL's cache serves one
    until `expires_in < 5*60`), and the cluster and its grant take longer than that to create."""
    events: list[tuple[str, str]] = []
    new_resource, call = stand_ins.OfflineMocks.new_resource, stand_ins.OfflineMocks.call

    def recorded_new(self, args):
        events.append(("created", args.name))
        return new_resource(self, args)

    def recorded_call(self, args):
        events.append(("invoked", args.token))
        return call(self, args)
    monkeypatch.setattr(stand_ins.OfflineMocks, "new_resource", recorded_new)
    monkeypatch.setattr(stand_ins.OfflineMocks, "call", recorded_call)
    cluster_alone()
    assert events.index(("created", "aks-deployer-admin")) < events.index(("invoked", TOKEN_INVOKE))


def test_a_token_refused_once_is_renewed_from_the_components_provider(monkeypatch):
    """A token that expired while the cluster was created (401) is replaced by a new one from getClientToken, asked
    as the component's azure-native provider; the wait goes on with it."""
    call, handed = stand_ins.OfflineMocks.call, []

    def expiring(self, args):
        if args.token == TOKEN_INVOKE:
            handed.append(args.provider)
            if len(handed) == 1:
                return {"token": "an-expired-token"}
        return call(self, args)
    monkeypatch.setattr(stand_ins.OfflineMocks, "call", expiring)
    plan = offline.run_function(lambda: llmplatform.AksCluster(
        "aks", REQUIRED["AksCluster"](), pulumi.ResourceOptions(providers=[azure_native.Provider("other")])))
    assert [(r.status, r.allowed) for r in plan.access_reviews] == [(401, False), (201, True)]
    assert len(handed) == 2 and all(provider.split("::")[-2] == "other" for provider in handed)
    assert not [w for w in plan.warnings if "SelfSubjectAccessReview" in w]
    _, model = provider_step(plan)
    assert not [p for p in model.problems if p.rule == "deployer-access"]


def test_under_a_strangers_own_mocks_the_wait_asks_no_network(monkeypatch):
    """A fake kubeconfig names no server to reach: under the SDK's mocks with the real surroundings left in place the
    wait asks nothing (it slept a minute per cluster, then warned, in a stranger's test suite); the kit's run puts
    the real surroundings back after its own stand-ins."""
    offline.run_function(lambda: None)
    assert cluster_access.SURROUNDINGS is cluster_access._REAL
    sessions: list[object] = []
    monkeypatch.setattr(cluster_access.SURROUNDINGS, "session", lambda: sessions.append("asked") or requests.Session())
    seen: list[str] = []

    def program() -> None:
        aks = llmplatform.AksCluster("aks", REQUIRED["AksCluster"]())
        aks.provider.id.apply(seen.append)
    # mocks that answer every invoke the component makes, getClientToken included
    run_under_sdk_mocks(OfflineMocks(), program, preview=False)
    assert seen and sessions == []


def test_without_the_testing_extra_the_stand_in_still_answers(monkeypatch):
    """kubernetes-validate is the `testing` extra's: without it the stand-in checks the review's kind alone, and the
    run goes on (an ImportError inside the transport stopped the program)."""
    from llmplatform import kubernetes_schemas

    def missing():
        raise ImportError(kubernetes_schemas.MISSING)
    monkeypatch.setattr(kubernetes_schemas, "_utils", missing)
    monkeypatch.setattr(kubernetes_schemas, "_VALID", set())
    plan = cluster_alone()
    assert [(r.status, r.allowed) for r in plan.access_reviews] == [(201, True)]


def test_a_provider_built_from_the_kubeconfig_output_is_after_the_grant_and_the_wait():
    """A consumer's own provider from `AksCluster.kubeconfig` (the usual pattern) writes as the deployer too: the
    output resolves once the wait is over, so Pulumi registers that provider after the grant (its dependency) and the
    model counts it gated."""
    def program() -> None:
        aks = llmplatform.AksCluster("aks", REQUIRED["AksCluster"]())
        mine = k8s.Provider("mine", kubeconfig=aks.kubeconfig)
        k8s.core.v1.Namespace("team", metadata={"name": "team"}, opts=pulumi.ResourceOptions(provider=mine))
    plan = offline.run_function(program)
    grant = plan.one("azure-native:authorization:RoleAssignment", "aks-deployer-admin")
    assert grant.urn in plan.one("pulumi:providers:kubernetes", "mine").dependencies
    model = deploy_model.evaluate(plan)
    mine = next(s for s in model.steps.values() if s.reg.name == "mine")
    assert mine.wait.timeout == DEADLINE_S and not [p for p in model.problems if p.rule == "deployer-access"]


class _EmptyInvokeMocks(pulumi.runtime.Mocks):
    """The generic mocks of Pulumi's testing guide: every resource's inputs as its outputs, `{}` for every invoke."""

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict]:
        return args.name + "-id", dict(args.inputs)

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict:
        return {}


def test_under_mocks_that_answer_every_invoke_with_nothing_the_cluster_names_the_missing_credentials():
    """Under a stranger's generic mocks the credentials invoke returns no kubeconfig: the program stopped with
    "TypeError: 'NoneType' object is not subscriptable" from the SDK's serializer, naming no component or invoke."""
    with pytest.raises(Exception) as raised:
        run_under_sdk_mocks(_EmptyInvokeMocks(), lambda: llmplatform.AksCluster("aks", REQUIRED["AksCluster"]()),
                            preview=False)
    assert ("AksCluster aks: azure-native:containerservice:listManagedClusterUserCredentials returned no kubeconfig"
            in str(raised.value))


def test_the_vault_and_the_model_store_ask_their_own_azure_provider():
    """README: providers come through resource options. A stranger hands KeyVault and an SMB ModelStore another
    subscription's provider: the vault's tenant and the storage account's key are asked of that provider, which made
    the vault and the account (the default provider's subscription has no such account)."""
    from tests.components.test_components_alone import cluster_handle, provider_opts

    def program():
        other = azure_native.Provider("other", subscription_id="99999999-9999-9999-9999-999999999999")
        llmplatform.KeyVault("vault", {"cluster": cluster_handle(), "vault_name": "kv-other"},
                             pulumi.ResourceOptions(providers=[other]))
        llmplatform.ModelStore("store", {"cluster": cluster_handle(), "account_name": "stother", "namespace": "llm",
                                         "protocol": "smb"},
                               pulumi.ResourceOptions.merge(provider_opts(), pulumi.ResourceOptions(providers=[other])))
    plan = offline.run_function(program)
    asked = {(token, provider.split("::")[-2]) for token, provider in plan.invokes}
    assert {token for token, _ in asked} >= {"azure-native:authorization:getClientConfig",
                                             "azure-native:storage:listStorageAccountKeys"}
    assert all(name == "other" for token, name in asked if token.startswith("azure-native:")), asked
