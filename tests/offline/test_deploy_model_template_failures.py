"""The chart template reader's `and` and `or` over an argument whose evaluation fails Helm's render (review of mutation
round eleven's fixes, docs/decisions.md). Go 1.18+ evaluates `and`/`or`'s arguments in order and stops at the
deciding one (text/template exec.go `evalCall`), so one that fails before it fails the render, whatever follows; the
reader evaluated every argument first and took a later false one as the answer: not rendered. Each case is the
answer of Go 1.19.8's text/template with Helm's `missingkey=zero` and sprig v3.3.0's functions, run on this
machine."""
from __future__ import annotations

import pytest

from offline.deploy_model.charts import CHARTS, vendored_charts
from offline.deploy_model.templates import UNKNOWN, evaluate, rendered_api_versions, rendered_groups
from tests.offline.test_deploy_model_round11 import _same


@pytest.mark.parametrize("expression, values, expected", [
    # Go: the first argument fails ("nil pointer evaluating interface {}.b", "incompatible types for comparison",
    # "wrong type for value", "wrong number of args", "a is not a method but has arguments"): no later false saves it
    ("and .Values.a.b false", {}, UNKNOWN),
    ("and .Values.a.b false", {"a": "text"}, UNKNOWN),
    ("and (gt .Values.a 1) false", {"a": 2}, UNKNOWN),
    ("and (eq .Values.a 1) false", {"a": 1}, UNKNOWN),
    ("and (ne .Values.a true) false", {"a": "x"}, UNKNOWN),
    ('and (hasKey .Values.a "b") false', {}, UNKNOWN),
    ("and (lower .Values.a) false", {"a": 1}, UNKNOWN),
    ("and (not .Values.a .Values.a) false", {"a": True}, UNKNOWN),
    ("and (.Values.a 1) false", {"a": "x"}, UNKNOWN),
    ("and (.Values.a.b | default 1) false", {}, UNKNOWN),
    ("not (and .Values.a.b false)", {}, UNKNOWN),
    ("or false (and .Values.a.b false)", {}, UNKNOWN),
    # what Go decides before the failing argument stands
    ("and false .Values.a.b", {}, False),
    ("and .Values.a .Values.a.b", {"a": None}, None),
    ("or .Values.a .Values.a.b", {"a": "x"}, "x"),
    ("and (or .Values.a true) false", {"a": False}, False),
    # an unknown value (not a failure) before a false one: Go's result is falsy either way
    ("and .Capabilities.KubeVersion false", {}, False),
])
def test_and_with_a_failing_argument_before_a_false_one_fails_the_render_as_in_go(expression, values, expected):
    assert _same(evaluate(expression, values), expected), evaluate(expression, values)


def test_a_guard_whose_first_argument_fails_counts_its_resource_as_rendered():
    """KEDA's cilium network policy (`and .Values.metricsServer.enabled .Values.networkPolicy.enabled (eq ...)`):
    a release setting `metricsServer: null` fails Helm's render at the first argument ("nil pointer evaluating
    interface {}.enabled"), though networkPolicy.enabled is false. The reader said the policy was not rendered, so
    its CRD group (cilium.io) was not asked for; unknown now, as every render it cannot tell, it counts."""
    text = (vendored_charts(CHARTS)["keda"] / "templates/metrics-server/ciliumnetworkpolicy.yaml").read_text()
    values = {"metricsServer": None, "networkPolicy": {"enabled": False, "flavor": "cilium"}}
    assert [(v, r is UNKNOWN) for v, r in rendered_api_versions(text, values)] == [("cilium.io/v2", True)]
    assert rendered_groups({"chart": "keda", "values": {"metricsServer": None}})["cilium.io"] == [
        "templates/metrics-server/ciliumnetworkpolicy.yaml"]
    assert "cilium.io" not in rendered_groups({"chart": "keda", "values": {}})


@pytest.mark.parametrize("hosts, rendered", [
    ([], False), (None, False), (["a"], True), ({"a": 1}, True),
    # Go 1.19's range over what is no list, map or nil fails the render ("range can't iterate over 0"), a false or
    # empty one too: the reader took 0, false and "" as an empty range (not rendered)
    (0, UNKNOWN), (False, UNKNOWN), ("", UNKNOWN), (3, UNKNOWN), ("a", UNKNOWN),
])
def test_a_range_over_what_is_no_list_or_map_fails_the_render_as_in_go(hosts, rendered):
    text = "{{- range $i, $host := .Values.hosts }}\napiVersion: cilium.io/v2\n{{- end }}\n"
    [(version, found)] = rendered_api_versions(text, {"hosts": hosts})
    assert version == "cilium.io/v2" and _same(found, rendered), found
