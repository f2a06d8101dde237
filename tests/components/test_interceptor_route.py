"""The KEDA HTTP add-on API the platform routes model requests through: InterceptorRoute (http.keda.sh/v1beta1), not
the HTTPScaledObject the add-on deprecated in v0.14.0 (docs/decisions.md, "KEDA HTTP add-on: InterceptorRoute").

The facts the move relies on, pinned to the vendored upstream files so that a bump of the add-on's pin asks the
question again: the route's CRD is the pinned add-on's own (same tag as the chart's appVersion), the chart installs
it, the version the component writes is served, and each planned route passes the CRD's schema and its CEL rules
(tests/validation.py validate_custom)."""
from __future__ import annotations

import re

import pytest
import yaml
from llmplatform.model_autoscaler import INTERCEPTOR_ROUTE, INTERCEPTOR_ROUTE_API
from llmplatform.pins import KEDA_HTTP_ADD_ON

from tests.conftest import UPSTREAM, VARIANTS, variant
from tests.components.test_observability import release
from tests.validation import CelRuleViolation, chart_values, validate_custom

CRD = UPSTREAM / "crds" / "http.keda.sh" / "InterceptorRoute.yaml"
ROUTE = f"kubernetes:{INTERCEPTOR_ROUTE_API}:{INTERCEPTOR_ROUTE}"
# the variants whose Ollama scales on requests (dev-gpu-hpa and dev-smb-nogpu do not: the last test checks the list)
KEDA_VARIANTS = ("dev", "dev-gpu", "dev-operator", "llmd", "llmd-pd", "prod", "prod-tls")


def sources_row(path: str) -> list[str]:
    for line in (UPSTREAM / "SOURCES.md").read_text().splitlines():
        cells = [c.strip() for c in line.split("|")]
        if len(cells) > 3 and cells[1] == f"`{path}`":
            return cells
    raise AssertionError(f"{path} has no row in tests/upstream/SOURCES.md")


def test_the_route_crd_is_the_pinned_add_ons_and_its_chart_installs_it():
    """The vendored CRD comes from the add-on's tag of the chart's appVersion (a new pin needs a new copy, and with it
    a new look at the API), serves and stores the version the component writes, and the chart's `crds.install`
    (default true: "Whether to install the HTTPScaledObject and InterceptorRoute CustomResourceDefinitions") is left
    on by Observability."""
    app = yaml.safe_load((UPSTREAM / "charts" / "keda-add-ons-http" / "Chart.yaml").read_text())
    assert app["version"] == KEDA_HTTP_ADD_ON.version
    row = sources_row("crds/http.keda.sh/InterceptorRoute.yaml")
    assert row[2:5] == ["kedacore/http-add-on", "`config/crd/bases/http.keda.sh_interceptorroutes.yaml`",
                        f"`v{app['appVersion']}`"], row
    doc = yaml.safe_load(CRD.read_text())
    assert (doc["spec"]["group"], doc["spec"]["names"]["kind"]) == tuple(INTERCEPTOR_ROUTE_API.split("/")[:1]) + (
        INTERCEPTOR_ROUTE,)
    versions = {v["name"]: v for v in doc["spec"]["versions"]}
    version = INTERCEPTOR_ROUTE_API.split("/")[1]
    assert versions[version]["served"] and versions[version]["storage"] and "status" in versions[version][
        "subresources"]
    assert chart_values(UPSTREAM / "charts" / "keda-add-ons-http")["crds"]["install"] is True
    for name in KEDA_VARIANTS:
        assert release(variant(name), "keda-add-ons-http").inputs["values"].get("crds", {}).get("install", True)


@pytest.mark.parametrize("name", KEDA_VARIANTS)
def test_every_planned_route_keeps_the_crds_cel_rules_and_the_name_the_interceptor_counts_under(name):
    """The API server refuses a route that breaks a rule of its CRD (the CRD check evaluates them: tests/
    validation.py cel_violations, over every planned custom resource in tests/program/test_upstream.py). The route
    carries the Deployment's namespace and name: the interceptor keys its counts and the scaler its metric on them,
    as it keyed the HTTPScaledObject of that name (http-add-on v0.15.0 pkg/routing/table.go, scaler/handlers.go)."""
    plan = variant(name)
    routes = plan.of_type(ROUTE)
    assert len(routes) == 1
    obj = routes[0].inputs
    validate_custom({"apiVersion": INTERCEPTOR_ROUTE_API, "kind": INTERCEPTOR_ROUTE, **obj}, UPSTREAM / "crds")
    server = plan.outputs["inference"]
    assert obj["metadata"] == {"name": server["deployment"], "namespace": server["namespace"]}
    scaled = plan.one("kubernetes:keda.sh/v1alpha1:ScaledObject", routes[0].name.replace("-http", "-scaler"))
    trigger = scaled.inputs["spec"]["triggers"][0]
    assert trigger["metadata"]["interceptorRoute"] == obj["metadata"]["name"] and "httpScaledObject" not in trigger[
        "metadata"]


def test_a_route_breaking_a_cel_rule_is_caught():
    """Two of the CRD's five rules (http-add-on v0.15.0 config/crd/bases/http.keda.sh_interceptorroutes.yaml): a
    target names its port by number or by name, not both; a scaling metric names concurrency or a request rate."""
    route = {"apiVersion": INTERCEPTOR_ROUTE_API, "kind": INTERCEPTOR_ROUTE, "metadata": {"name": "ollama"},
             "spec": {"target": {"service": "ollama", "port": 11434, "portName": "http"}, "scalingMetric": {}}}
    with pytest.raises(CelRuleViolation) as refused:
        validate_custom(route, UPSTREAM / "crds")
    assert [line.split(": rule ")[0].strip() for line in str(refused.value).splitlines()[1:]] == [
        "spec.scalingMetric", "spec.target"]
    assert "rule 'has(self.port) != has(self.portName)' = False" in str(refused.value)
    assert "rule 'has(self.concurrency) || has(self.requestRate)' = False" in str(refused.value)


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_no_plan_creates_the_deprecated_http_scaled_object(name):
    """The add-on's operator logs, once per HTTPScaledObject, "HTTPScaledObject is deprecated and will be removed in a
    future release, migrate to InterceptorRoute + ScaledObject" (v0.15.0 operator/controllers/http/
    httpscaledobject_controller.go); its external scaler and routing table carry `TODO(v1): remove` for it."""
    plan = variant(name)
    assert not [r.name for r in plan.resources if re.match(r"kubernetes:http\.keda\.sh/v1alpha1:", r.type)]
    assert len(plan.of_type(ROUTE)) == (name in KEDA_VARIANTS)
