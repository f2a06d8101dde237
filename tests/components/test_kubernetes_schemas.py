"""The testing kit's strict check of a consumer's Kubernetes objects (llmplatform.kubernetes_schemas): what the
SDK's Args accept and the API server refuses under strict field validation is named, resource, field and rule."""
import sys
from pathlib import Path

import pulumi
import pulumi_kubernetes as k8s
import pytest

from llmplatform import kubernetes_schemas
from llmplatform.testing import run


def _objects(node_selector=None, extra_container=None):
    def program() -> None:
        provider = k8s.Provider("k8s", kubeconfig="apiVersion: v1\nkind: Config\n")
        opts = pulumi.ResourceOptions(provider=provider)
        container = {"name": "app", "image": "nginx:1.27", **(extra_container or {})}
        k8s.apps.v1.Deployment("app", metadata=k8s.meta.v1.ObjectMetaArgs(name="app", namespace="team"),
                               spec=k8s.apps.v1.DeploymentSpecArgs(
                                   selector=k8s.meta.v1.LabelSelectorArgs(match_labels={"app": "app"}),
                                   template=k8s.core.v1.PodTemplateSpecArgs(
                                       metadata=k8s.meta.v1.ObjectMetaArgs(labels={"app": "app"}),
                                       spec=k8s.core.v1.PodSpecArgs(node_selector=node_selector,
                                                                    containers=[container]))), opts=opts)
        k8s.core.v1.Secret("token", metadata={"name": "token", "namespace": "team"},
                           string_data={"token": "s3cr3t-value"}, opts=opts)
        # a custom resource: its schema is its CRD's, which only its chart carries; not checked here
        k8s.apiextensions.CustomResource("route", api_version="gateway.networking.k8s.io/v1", kind="HTTPRoute",
                                         metadata={"name": "r", "namespace": "team"}, spec={"anything": 1},
                                         opts=opts)
    return run(program)


def test_valid_objects_have_no_problems_and_custom_resources_are_left_to_their_crds():
    assert kubernetes_schemas.problems(_objects(node_selector={"pool": "cpu"})) == []


def test_a_value_of_the_wrong_type_the_args_accept_is_named_by_field_on_every_version():
    problems = kubernetes_schemas.problems(_objects(node_selector={"pool": 1}))
    assert problems == [f"app (Deployment app): spec.template.spec.nodeSelector.pool: must be string or null, not int "
                        f"(Kubernetes {v} schema, strict)" for v in kubernetes_schemas.AKS_KUBERNETES_VERSIONS]


def test_an_unknown_field_of_a_dict_literal_is_named():
    [first, _] = kubernetes_schemas.problems(_objects(extra_container={"imagePullPolcy": "Always"}))
    assert first.startswith("app (Deployment app): spec.template.spec.containers[0]: ")
    assert "'imagePullPolcy' was unexpected" in first


def test_a_secrets_value_is_never_printed():
    # (the SDK's own output typing stops a non-text stringData value of k8s.core.v1.Secret; a raw object reaches here)
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "token"},
              "stringData": {"token": {"nested": "s3cr3t-value"}}, "type": "Opaque"}
    problems = kubernetes_schemas.object_problems("token", secret)
    assert problems and all(p.startswith("token (Secret token): stringData.token: must be string or null, not dict")
                            for p in problems)
    assert not any("s3cr3t" in p for p in problems)


def test_a_kind_the_version_does_not_serve_is_named():
    obj = {"apiVersion": "batch/v1beta1", "kind": "CronJob", "metadata": {"name": "old"}}
    [problem] = kubernetes_schemas.object_problems("old", obj, versions=("1.35.0",))
    assert problem.startswith("old (CronJob old): Couldn't find schema for kind CronJob with api version batch/v1beta1")


def test_without_the_testing_extra_the_check_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "kubernetes_validate", None)  # as if not installed
    monkeypatch.setitem(sys.modules, "kubernetes_validate.utils", None)
    with pytest.raises(ImportError, match=r'pip install "llmplatform\[testing\]"'):
        kubernetes_schemas.problems(_objects())


def test_every_cluster_scoped_crd_vendored_is_a_cluster_scoped_kind():
    """The kit keys cluster-scoped objects without a namespace and the deploy model places them in none: a CRD of the
    platform's charts with `scope: Cluster` missing from CLUSTER_SCOPED was read as namespaced."""
    from tests.validation import vendored_crds
    crds = Path(__file__).resolve().parents[1] / "upstream" / "crds"
    scoped = {(doc["spec"]["group"], doc["spec"]["names"]["kind"]) for doc in vendored_crds(crds)
              if doc["spec"]["scope"] == "Cluster"}
    assert len(scoped) >= 4 and scoped - kubernetes_schemas.CLUSTER_SCOPED == set()
