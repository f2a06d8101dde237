"""What mutation round eleven (docs/decisions.md) found wrong or untested in the deploy model: the chart template
reader's calls and `.Values` paths (offline/deploy_model/templates.py; each case the answer Go 1.19.8's
text/template gave to the same template with Helm's option, `missingkey=zero`, and sprig v3.3.0's functions), and
the schedule's stall message (schedule.py `_stall`)."""
from __future__ import annotations

import copy

import pytest

from offline import deploy_model as dm
from offline.deploy_model.charts import CHARTS, chart_values, vendored_charts
from offline.deploy_model.templates import UNKNOWN, evaluate, rendered_api_versions
from tests.offline.test_deploy_model import DATA, _azure, bare_plan_of, deployment, k8s


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


@pytest.mark.parametrize("expression, values, expected", [
    # sprig's default is variadic: `default D` is D, `default D G1 G2` reads G1 only (it was unknown)
    ('default "x"', {}, "x"),
    ('default "x" .Values.a .Values.s', {"a": "", "s": "y"}, "x"),
    ('default "x" .Values.s .Values.a', {"a": "", "s": "y"}, "y"),
    # a builtin's or sprig function's argument count is checked at the call ("wrong number of args for not: want 1
    # got 2"), an argument's type too ("wrong type for value; expected string; got float64"): the render fails
    ("not .Values.a .Values.b", {"a": "", "b": False}, UNKNOWN),
    ('lower .Values.s "x"', {"s": "AB"}, UNKNOWN),
    ("lower .Values.n", {"n": 1}, UNKNOWN),
    ('int "1" "2"', {}, UNKNOWN),
    ("gt 3 2 1", {}, UNKNOWN),
    ('hasKey .Values.m "k" "x"', {"m": {"k": 1}}, UNKNOWN),
    ('get .Values.m "k"', {"m": {"k": ""}}, UNKNOWN),  # a function of two arguments this reader does not know
    # Go's `or` of false arguments only is the last one; `and`/`or` with an unknown argument before a decided one
    # that does not settle them is unknown
    ("or .Values.a .Values.b", {"a": "", "b": False}, False),
    ("and .Capabilities.KubeVersion .Values.a", {"a": True}, UNKNOWN),
    ("or .Capabilities.KubeVersion .Values.a", {"a": ""}, UNKNOWN),
    ('or .Values.a uuidv4', {"a": ""}, UNKNOWN),  # a function as an argument: called by Go, unknown here
    # what Go's parser refuses ('unexpected "@" in operand') is unknown, though a false argument comes first
    ("and .Values.a @", {"a": False}, UNKNOWN),
    # a value given arguments fails the render ("s is not a method but has arguments")
    (".Values.s .Values.b", {"s": "x", "b": 1}, UNKNOWN),
    # sprig's int (cast v1.7.0 ToIntE): a lone 0 is no octal prefix; a trailing "." is no zero decimal to trim
    ("int .Values.n", {"n": "0"}, 0),
    ("int .Values.n", {"n": "8."}, 0),
    ("int 5", {}, 5),  # an integer literal is an int already
    ("gt (int .Values.b) 0", {"b": True}, True),  # a bool is 1, an int (not a bool, which gt refuses)
    # `.Values` itself is the values' map
    ('hasKey .Values "a"', {"a": 1}, True),
    ('hasKey $.Values "c"', {"a": 1}, False),
])
def test_the_template_reader_checks_each_functions_arguments_as_go_and_sprig_do(expression, values, expected):
    assert _same(evaluate(expression, values), expected), evaluate(expression, values)


def test_a_release_whose_values_drop_a_block_its_guard_reads_through_is_not_read_as_skipping_it():
    """cert-manager's `templates/poddisruptionbudget.yaml` is guarded by `.Values.podDisruptionBudget.enabled`: a
    release setting `podDisruptionBudget: null` (Helm drops the key: helm v3.20.2 pkg/chartutil/coalesce.go) makes
    Helm's render fail, not skip the budget; the reader read it as not rendered, it is unknown now (counted as
    rendered, as every render it cannot tell)."""
    text = (vendored_charts(CHARTS)["cert-manager"] / "templates/poddisruptionbudget.yaml").read_text()
    for given, rendered in (({"enabled": True}, True), ({"enabled": False}, False), (None, UNKNOWN)):
        values = chart_values({"chart": "cert-manager", "values": {"podDisruptionBudget": given}})
        found = rendered_api_versions(text, values)
        assert [v for v, _ in found] == ["policy/v1"]
        assert _same(found[0][1], rendered), (given, found)


# ---- the schedule's stalls (schedule.py `_stall`) ------------------------------------------------------------------

def test_a_stall_with_more_workers_than_one_and_the_pessimistic_figures_only_says_so():
    """Two workers: a Key Vault and a network start at once; two GPU Deployments wait for the vault, their pool for
    the network. With the median figures (vault 50 s, network 10 s) the pool starts before the Deployments are
    ready; with the pessimistic ones (vault 60 s, network 100 s) both Deployments take the two workers first and
    the pool queues behind them: the first's deadline fails it. The message names one of the two workers and the
    pessimistic figures (it said "the only worker" and "median" for every stall before a test held it)."""
    data = copy.deepcopy(DATA)
    data["azure"]["azure-native:keyvault:Vault"] = {"median": 50, "pessimistic": 60}
    data["azure"]["azure-native:network:VirtualNetwork"] = {"median": 10, "pessimistic": 100}
    pool = _azure("gpu-pool", dm.AGENT_POOL, ("urn:vnet",), agentPoolName="gpu", vmSize="Standard_NC24ads_A100_v4",
                  minCount=0, gpuProfile={"driver": "Install"}, nodeTaints=["nvidia.com/gpu=present:NoSchedule"])

    def ollama(name: str):
        reg = k8s(name, deployment(name, gpu=True, image="ollama/ollama:0.32.15", tolerations=[{"operator": "Exists"}],
                                   annotations={"pulumi.com/timeoutSeconds": "3600"}), ("urn:vault",))
        reg.inputs["metadata"]["namespace"] = "default"  # AKS's: no Namespace to create first
        return reg
    plan = bare_plan_of(_azure("vault", "azure-native:keyvault:Vault"),
                        _azure("vnet", "azure-native:network:VirtualNetwork"), ollama("ollama-a"), ollama("ollama-b"),
                        pool)
    [stall] = [p for p in dm.evaluate(plan, data, parallel=2).problems if p.rule == "parallel"]
    assert stall.resource == "ollama-a"
    assert stall.message.startswith("its create holds one of the 2 workers of `pulumi up --parallel 2` while "
                                    "gpu-pool, which it waits for")
    assert "its deadline (60 min) fails it (pessimistic figures)" in stall.message
