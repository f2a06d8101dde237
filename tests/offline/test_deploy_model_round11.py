"""The chart template reader's verdicts (offline/deploy_model/templates.py) that mutation round eleven
(docs/decisions.md) found wrong or untested: its functions' calls and a `.Values` path's value, each case the
answer Go 1.19.8's text/template gave to the same template with Helm's option (`missingkey=zero`) and sprig
v3.3.0's functions (cast v1.7.0's `ToInt`)."""
from __future__ import annotations

import pytest

from offline.deploy_model.charts import CHARTS, chart_values, vendored_charts
from offline.deploy_model.templates import UNKNOWN, evaluate, rendered_api_versions


def _same(found, expected) -> bool:
    return found is UNKNOWN if expected is UNKNOWN else (found == expected and type(found) is type(expected))


@pytest.mark.parametrize("expression, values, expected", [
    # a field of nil or of what is no map fails the render ("nil pointer evaluating interface {}.b", "can't
    # evaluate field b in type interface {}"); a key missing from a map is nil
    (".Values.a.b", {}, UNKNOWN),
    (".Values.a.b", {"a": None}, UNKNOWN),
    (".Values.a.b", {"a": "text"}, UNKNOWN),
    (".Values.a.b", {"a": [1]}, UNKNOWN),
    (".Values.a.b.c", {"a": {"b": 1}}, UNKNOWN),
    (".Values.a.b", {"a": {}}, None),
    ("$.Values.a.b", {"a": {"b": 1}}, 1.0),
    ("and .Values.a .Values.a.b", {"a": None}, None),  # Go's `and` stops at nil: .a.b is never evaluated
    # sprig's hasKey takes a map[string]interface{} and a string: a nil `.Values` value is an interface{} holding
    # nil, which Go's call refuses ("wrong type for value; expected map[string]interface {}; got interface {}")
    ('hasKey .Values.m "k"', {}, UNKNOWN),
    ('hasKey .Values.m "k"', {"m": None}, UNKNOWN),
    ("hasKey .Values.m 1", {"m": {"1": True}}, UNKNOWN),  # "expected string; found 1"
    ('hasKey .Values.m "1"', {"m": {"1": True}}, True),
])
def test_a_values_path_through_nil_and_has_key_of_nil_fail_the_render_as_in_helm(expression, values, expected):
    assert _same(evaluate(expression, values), expected), evaluate(expression, values)


def test_a_release_whose_values_drop_a_block_its_guard_reads_through_is_not_read_as_skipping_it():
    """cert-manager's `templates/poddisruptionbudget.yaml` is guarded by `.Values.podDisruptionBudget.enabled`: a
    release setting `podDisruptionBudget: null` (Helm drops the key) makes Helm's render fail, not skip the budget;
    the reader read it as not rendered, it is unknown now (counted as rendered, as every render it cannot tell)."""
    text = (vendored_charts(CHARTS)["cert-manager"] / "templates/poddisruptionbudget.yaml").read_text()
    for given, rendered in (({"enabled": True}, True), ({"enabled": False}, False), (None, UNKNOWN)):
        values = chart_values({"chart": "cert-manager", "values": {"podDisruptionBudget": given}})
        found = rendered_api_versions(text, values)
        assert [v for v, _ in found] == ["policy/v1"]
        assert _same(found[0][1], rendered), (given, found)
