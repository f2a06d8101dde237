"""Every object and Helm release checked against upstream: Kubernetes schemas, CRDs, chart versions and values."""
from __future__ import annotations

import copy

import jsonschema
import kubernetes_validate
import pytest

from llmplatform.kubernetes_schemas import AKS_KUBERNETES_VERSIONS
from llmplatform.pins import ALL_CHARTS
from offline.plan import manifests

from tests.conftest import VARIANTS, upstream_dir, variant
from tests.validation import (chart_schema, chart_values, is_builtin, pinned_versions, unknown_values_keys,
                         validate_builtin, validate_custom)


def _objects(plan):
    return [obj for _, obj in manifests(plan)]


@pytest.mark.parametrize("version", AKS_KUBERNETES_VERSIONS)
@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_every_builtin_object_passes_strict_schema(name, version):
    objects = [o for o in _objects(variant(name)) if is_builtin(o)]
    assert objects, "the program creates Kubernetes objects"
    for obj in objects:
        validate_builtin(obj, version)


def test_strict_schema_check_catches_a_typo(dev):
    job = copy.deepcopy(next(o for o in _objects(dev) if o["kind"] == "Job"))
    job["spec"]["template"]["spec"]["containers"][0]["imagePullPolcy"] = "Always"
    with pytest.raises(kubernetes_validate.ValidationError):
        validate_builtin(job, AKS_KUBERNETES_VERSIONS[-1])


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_every_custom_resource_passes_its_crd(name):
    crds = upstream_dir() / "crds"
    for obj in _objects(variant(name)):
        if not is_builtin(obj):
            validate_custom(obj, crds)


def test_crd_check_accepts_valid_and_rejects_unknown_fields():
    crds = upstream_dir() / "crds"
    route = {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
             "metadata": {"name": "r", "namespace": "llm"},
             "spec": {"parentRefs": [{"name": "gw"}],
                      "rules": [{"backendRefs": [{"name": "ollama", "port": 11434}]}]}}
    validate_custom(route, crds)
    route["spec"]["rules"][0]["timeout"] = {"request": "300s"}  # misplaced field: 'timeouts' is the real one
    with pytest.raises(jsonschema.ValidationError):
        validate_custom(route, crds)


def test_every_release_is_pinned_to_the_recorded_upstream_version(any_plan):
    sources = (upstream_dir() / "SOURCES.md").read_text()
    by_name = {c.chart: c for c in ALL_CHARTS}
    for release in any_plan.helm_releases():
        chart = by_name[release.inputs["chart"].rsplit("/", 1)[-1]]
        assert release.inputs["version"] == chart.version
        if chart.repo.startswith("oci://"):  # an OCI chart is addressed by its full reference, no repository
            assert release.inputs["chart"] == f"{chart.repo}/{chart.chart}" and "repositoryOpts" not in release.inputs
        else:
            assert release.inputs["repositoryOpts"]["repo"] == chart.repo
        assert chart.version in pinned_versions(sources, chart.upstream_dir), chart.chart


def test_every_values_key_exists_upstream(any_plan):
    upstream = upstream_dir() / "charts"
    by_name = {c.chart: c for c in ALL_CHARTS}
    for release in any_plan.helm_releases():
        chart_dir = upstream / by_name[release.inputs["chart"].rsplit("/", 1)[-1]].upstream_dir
        values = release.inputs.get("values", {})
        assert list(unknown_values_keys(values, chart_values(chart_dir))) == [], release.name
        schema = chart_schema(chart_dir)
        if schema:
            jsonschema.validate(values, schema)


def test_values_check_catches_a_misspelt_key():
    upstream = upstream_dir() / "charts"
    values = chart_values(upstream / "nvidia-device-plugin")
    assert list(unknown_values_keys({"tolerations": [], "gfd": {"enabled": False}}, values)) == []
    assert list(unknown_values_keys({"tolerration": []}, values)) == ["tolerration"]
    assert list(unknown_values_keys({"gfd": {"enable": True}}, values)) == ["gfd.enable"]
    operator = chart_values(upstream / "gpu-operator")
    assert list(unknown_values_keys({"node-feature-discovery": {"worker": {"tolerations": []}}}, operator)) == []


def test_all_charts_are_recorded_upstream():
    sources = (upstream_dir() / "SOURCES.md").read_text()
    for chart in ALL_CHARTS:
        assert pinned_versions(sources, chart.upstream_dir), f"{chart.chart} missing from SOURCES.md"


def test_vendored_upstream_files_match_their_recorded_checksums():
    """tests/upstream is a verbatim copy: every file SOURCES.md lists is present with the SHA-256 it records."""
    import hashlib
    import re
    root = upstream_dir()
    listed = re.findall(r"^([0-9a-f]{64})  (\S+)$", (root / "SOURCES.md").read_text(), re.M)
    assert len(listed) > 50
    for digest, rel in listed:
        assert hashlib.sha256((root / rel).read_bytes()).hexdigest() == digest, rel
