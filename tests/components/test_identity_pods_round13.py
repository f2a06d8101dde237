"""The kit's advice on pods that run as a WorkloadIdentity's account (llmplatform.testing.identity_pods), where no
test held it (mutation testing, round thirteen: docs/decisions.md "Mutation round thirteen"): each test fails on a
mutant of identity_pods.py that every other test passed, and passes on the code. Each runs a consumer's program
through the kit (`llmplatform.testing.run`) and reads its warnings."""
from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from llmplatform import WorkloadIdentity
from llmplatform.testing import run

from tests.components.test_stranger7_consumer import cluster

ADVICE = "runs as WorkloadIdentity"


class Runner(pulumi.ComponentResource):
    """A consumer's own component that makes its own ServiceAccount: no WorkloadIdentity."""

    def __init__(self, name: str, provider: pulumi.ProviderResource) -> None:
        super().__init__("team:index:Runner", name)
        on = pulumi.ResourceOptions(parent=self, provider=provider)
        self.account = k8s.core.v1.ServiceAccount(name, metadata={"name": name, "namespace": "apps"}, opts=on)
        self.register_outputs({})


def _deployment(name: str, account: pulumi.Input[str], provider: pulumi.ProviderResource,
                **metadata: pulumi.Input[str]) -> None:
    labels = {"app.kubernetes.io/name": name}
    k8s.apps.v1.Deployment(name, metadata={"namespace": "apps", **metadata}, spec={
        "selector": {"matchLabels": labels},
        "template": {"metadata": {"labels": labels},
                     "spec": {"serviceAccountName": account,
                              "containers": [{"name": name, "image": "nginx:1.27"}]}}},
        opts=pulumi.ResourceOptions(provider=provider))


def _advice(workloads) -> list[str]:
    def program() -> None:
        aks = cluster("team", "rg-team")
        k8s.core.v1.Namespace("apps", metadata={"name": "apps"}, opts=pulumi.ResourceOptions(provider=aks.provider))
        identity = WorkloadIdentity("worker-id", {"cluster": aks.cluster, "identity_name": "id-team-worker",
                                                  "namespace": "apps", "service_account_name": "worker"},
                                    pulumi.ResourceOptions(providers=[aks.provider]))
        workloads(aks.provider, identity)
    return [w for w in run(program, unjudged=["reachability"]).warnings if ADVICE in w]


def test_pods_running_as_an_account_no_workload_identity_makes_get_no_advice():
    """A Deployment running as its own component's ServiceAccount (given as the output), and one running as the
    namespace's `default`, beside a WorkloadIdentity: neither is that identity's account, so the kit says nothing
    of them (and does not fail on them)."""
    def workloads(provider, identity) -> None:
        runner = Runner("runner", provider)
        _deployment("own", runner.account.metadata.apply(lambda m: m["name"]), provider)
        _deployment("plain", "default", provider)
    assert _advice(workloads) == []


def test_a_pod_taking_two_inputs_from_the_identity_is_told_both():
    """The client id in the Deployment's own annotations and the account's name as the output: both `metadata` and
    `spec` take the identity's values, and the line names both, in the plural."""
    def workloads(provider, identity) -> None:
        _deployment("worker", identity.service_account_name, provider,
                    annotations={"team/client-id": identity.client_id})
    (advice,) = [a for a in _advice(workloads) if "takes values" in a or "take values" in a]
    assert advice.startswith("Deployment worker (namespace apps) runs as WorkloadIdentity worker-id's account worker "
                             "and its inputs `metadata`, `spec` take values from the identity's resources"), advice


def test_a_pod_waiting_on_the_identity_but_not_its_federation_is_told_both():
    """The account named as a plain string and the client id taken as the output: the pod waits for the managed
    identity (its input takes the identity's value) but for none of the federation, which the identity's other
    resources do not stand for: both lines."""
    def workloads(provider, identity) -> None:
        _deployment("worker", "worker", provider, annotations={"team/client-id": identity.client_id})
    taken, unordered = _advice(workloads)
    assert "its input `metadata` takes values from the identity's resources" in taken, taken
    assert "waits for none of its federation" in unordered, unordered


def test_a_job_whose_template_has_no_metadata_is_read_too():
    """A Job's pod template needs no metadata (the Job makes its selector): one running as the identity's account,
    taking its name as the output, gets the advice a Deployment gets."""
    def workloads(provider, identity) -> None:
        k8s.batch.v1.Job("once", metadata={"namespace": "apps"}, spec={"template": {"spec": {
            "serviceAccountName": identity.service_account_name, "restartPolicy": "Never",
            "containers": [{"name": "once", "image": "nginx:1.27"}]}}},
            opts=pulumi.ResourceOptions(provider=provider))
    (advice,) = _advice(workloads)
    assert advice.startswith("Job once (namespace apps) runs as WorkloadIdentity worker-id's account worker and its "
                             "input `spec` takes values"), advice
