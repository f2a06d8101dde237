"""What every component does alike, asserted on every planned variant: children parented to their component,
in-cluster resources on the cluster's provider, a disruption budget per workload, no secret literal anywhere."""
from __future__ import annotations

import json

from offline.plan import resources_document


def test_in_cluster_resources_use_the_cluster_provider(any_plan):
    for r in any_plan.resources:
        if r.type.startswith("kubernetes:"):
            assert r.options["provider"] and "platform-k8s" in r.options["provider"], r.name


def test_every_child_is_parented_to_its_component(any_plan):
    components = {r.urn for r in any_plan.resources if r.type.startswith("llmplatform:")}
    for r in any_plan.resources:
        if r.type.startswith(("azure-native:", "pulumi:providers")) and r.name != "platform-rg":
            assert r.parent in components, r.name
    # the shared resource group is the composition's own first step
    assert any_plan.one("azure-native:resources:ResourceGroup", "platform-rg").parent.endswith("-" + any_plan.stack)


DEPLOYMENT = "kubernetes:apps/v1:Deployment"
MOCK_SECRETS = ("offline-random-value", "offline-fake-key")


def test_every_workload_has_a_disruption_budget(any_plan):
    budgets = {r.inputs["metadata"]["name"] for r in any_plan.of_type("kubernetes:policy/v1:PodDisruptionBudget")}
    deployments = {r.inputs["metadata"]["name"] for r in any_plan.of_type(DEPLOYMENT)}
    assert deployments <= budgets


def test_no_secret_literal_in_env_outputs_or_plan_files(any_plan):
    for r in any_plan.kubernetes_objects():
        text = json.dumps(r.inputs)
        if r.type != "kubernetes:core/v1:Secret":
            assert not any(s in text for s in MOCK_SECRETS), r.name
    for key, value in any_plan.outputs.items():
        if key not in any_plan.secret_outputs:
            assert not any(s in json.dumps(value) for s in MOCK_SECRETS), key
    assert not any(s in json.dumps(resources_document(any_plan)) for s in MOCK_SECRETS)
    for secret in any_plan.of_type("azure-native:keyvault:Secret"):
        assert any(p.startswith("properties") for p in secret.secret_paths), secret.name
