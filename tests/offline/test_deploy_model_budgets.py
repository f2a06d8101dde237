"""PodDisruptionBudgets: the pods a budget selects (LabelSelector), a pod two budgets select (a plan failure: the
eviction API refuses it, so no drain of its node ends), and the budgets the charts the stacks install render."""
from __future__ import annotations

import dataclasses

import pytest

from offline import deploy_model as dm
from offline.deploy_model.budgets import check_budget_overlap, selects
from offline.deploy_model.chart_budgets import TEMPLATES, release_budgets, vendored_budget_templates
from offline.deploy_model.charts import CHARTS, chart_name, chart_values, vendored_charts
from offline.deploy_model.objects import label_of
from offline.deploy_model.templates import UNKNOWN, evaluate, rendered_api_versions
from offline.runner import Plan, Registration
from tests.conftest import PLANNED, planned

LABELS = {"app": "router", "tier": "edge"}


@pytest.mark.parametrize("selector, selected", [
    ({"matchLabels": {"app": "router"}}, True),
    ({"matchLabels": {"app": "router", "tier": "core"}}, False),
    ({"matchExpressions": [{"key": "app", "operator": "In", "values": ["gate", "router"]}]}, True),
    ({"matchExpressions": [{"key": "app", "operator": "In", "values": ["gate"]}]}, False),
    ({"matchExpressions": [{"key": "app", "operator": "NotIn", "values": ["gate"]}]}, True),
    ({"matchExpressions": [{"key": "zone", "operator": "NotIn", "values": ["a"]}]}, True),  # an absent key
    ({"matchExpressions": [{"key": "app", "operator": "NotIn", "values": ["router"]}]}, False),
    ({"matchExpressions": [{"key": "tier", "operator": "Exists"}]}, True),
    ({"matchExpressions": [{"key": "zone", "operator": "Exists"}]}, False),
    ({"matchExpressions": [{"key": "zone", "operator": "DoesNotExist"}]}, True),
    ({"matchExpressions": [{"key": "app", "operator": "DoesNotExist"}]}, False),
    # matchLabels and matchExpressions ANDed
    ({"matchLabels": {"app": "router"}, "matchExpressions": [{"key": "tier", "operator": "In", "values": ["core"]}]},
     False),
    ({}, True),  # policy/v1: an empty selector selects every pod of the namespace
    (None, False),  # none: labels.Nothing()
    # refused by LabelSelectorAsSelector: the eviction API skips the budget as matching nothing
    ({"matchExpressions": [{"key": "app", "operator": "in", "values": ["router"]}]}, False),
    ({"matchExpressions": [{"key": "app", "operator": "In", "values": []}]}, False),
    ({"matchExpressions": [{"key": "app", "operator": "Exists", "values": ["router"]}]}, False),
])
def test_a_budget_selects_pods_as_the_api_servers_label_selector_does(selector, selected):
    """k8s.io/apimachinery v0.33.2 `LabelSelectorAsSelector` and `Requirement.Matches`."""
    assert selects(selector, LABELS) is selected


def _with_budget(plan: Plan, name: str, namespace: str, selector: dict) -> Plan:
    """The plan with one more PodDisruptionBudget, a copy of the router's (plans are shared: nothing edited)."""
    router = next(r for r in plan.kubernetes_objects() if dm.kind_of(r) == "PodDisruptionBudget"
                  and r.inputs["metadata"]["name"] == "router")
    extra = dataclasses.replace(
        router, urn=router.urn.replace("::inference-router-pdb", f"::{name}"), name=name,
        inputs={**router.inputs, "metadata": {"namespace": namespace, "name": name},
                "spec": {"maxUnavailable": "100%", "selector": selector}})
    return dataclasses.replace(plan, resources=[*plan.resources, extra])


def test_a_pod_two_budgets_select_fails_the_plan(dev):
    """A consumer's budget beside the program's, selecting the router's pods by an expression: every eviction of a
    router pod is refused (500), so no node running one drains, whatever either budget allows: the deploy model
    refuses the plan (`make plan`), naming the workload and both budgets. In another namespace, or leaving the router
    out, the same budget is fine."""
    key = "app.kubernetes.io/name"
    overlapping = _with_budget(dev, "team-budget", "llm",
                               {"matchExpressions": [{"key": key, "operator": "In", "values": ["router"]}]})
    problems = [p for p in dm.evaluate(overlapping).problems if p.rule == "budget-overlap"]
    assert [p.resource for p in problems] == ["Deployment llm/router"], problems
    assert "selected by 2 PodDisruptionBudgets (`router`, `team-budget`)" in problems[0].message
    assert "This pod has more than one PodDisruptionBudget" in problems[0].message
    assert "fix: one budget per pod" in problems[0].message

    everything = _with_budget(dev, "team-budget", "llm", {})  # policy/v1: every pod of `llm`
    assert {p.resource for p in check_budget_overlap(everything)} >= {
        "Deployment llm/router", "Deployment llm/open-webui", "Deployment llm/ollama"}
    ours = ["router", "open-webui", "ollama", "webui-redis"]  # what the program's budgets in `llm` select
    for apart in (_with_budget(dev, "team-budget", "elsewhere", {}),
                  _with_budget(dev, "team-budget", "llm", {"matchExpressions": [
                      {"key": key, "operator": "NotIn", "values": ours}]})):
        assert check_budget_overlap(apart) == []


@pytest.mark.parametrize("name", PLANNED)
def test_no_planned_pod_is_under_two_budgets(name):
    assert check_budget_overlap(planned(name)) == []


# ---- the budgets the charts render -----------------------------------------------------------------------------

def _chart_budgets(plan: Plan) -> dict[tuple[str, str], tuple]:
    """(release, budget) -> (spec, fewest, most, the pools its pods land on) of every chart budget of the plan."""
    pools = dm.pools(plan)
    found = {}
    for reg in plan.helm_releases():
        for b in release_budgets(reg):
            on = tuple(sorted(p.name for p in dm.landing_pools(b.pod, pools))) if b.pod is not None else None
            found[(b.release, b.name)] = (b.spec, b.fewest, b.most, on)
    return found


INTERCEPTOR = ("keda-add-ons-http", "keda-add-ons-http-interceptor")
ISTIOD = ("istiod", "istiod")


@pytest.mark.parametrize("name, expected", [
    ("dev", {INTERCEPTOR: ({"maxUnavailable": 1}, 1, 50, ("cpu",))}),
    ("llmd", {INTERCEPTOR: ({"maxUnavailable": 1}, 1, 50, ("cpu",))}),
    ("prod", {INTERCEPTOR: ({"maxUnavailable": 1}, 3, 50, ("cpu",)), ISTIOD: ({"minAvailable": 1}, 2, 5, ("cpu",))}),
    ("prod-westeurope", {INTERCEPTOR: ({"maxUnavailable": 1}, 3, 50, ("cpu",)),
                         ISTIOD: ({"minAvailable": 1}, 2, 5, ("cpu",))}),
    ("prod-swedencentral", {INTERCEPTOR: ({"maxUnavailable": 1}, 3, 50, ("cpu",)),
                            ISTIOD: ({"minAvailable": 1}, 2, 5, ("cpu",))}),
])
def test_the_chart_budgets_of_each_stack(name, expected):
    """What the pinned charts render with each stack's values (upstream read in chart_budgets.py): the KEDA HTTP
    add-on's interceptor budget everywhere (`maxUnavailable: 1`, at `autoscaling.interceptorReplicas` to the chart's
    50), istiod's only where `gateway.replicas` (istiod's `autoscaleMin`) is above one, both on the CPU workload pool
    alone; every other chart's budget is off by default and no stack turns one on."""
    assert _chart_budgets(planned(name)) == expected


def test_every_vendored_budget_template_is_read():
    """A budget template vendored without a row here would be a chart budget the drain check never sees."""
    rows = {(chart, t.template) for chart, rules in TEMPLATES.items() for t in rules}
    assert rows == set(vendored_budget_templates())


@pytest.mark.parametrize("name", PLANNED)
def test_every_budget_guard_reads_to_a_verdict_with_the_planned_values(name):
    """Each budget template's (and chart autoscaler's) `if`s evaluate to true or false with each planned release's
    values: none falls back to "unknown", which would count a budget the chart does not render. A budget whose
    workload is not modelled (kube-prometheus-stack's ThanosRuler and admission-webhook Deployment, the device
    plugin's NFD) renders in no plan."""
    for reg in planned(name).helm_releases():
        chart = chart_name(reg.inputs)
        values = chart_values(reg.inputs)
        for rule in TEMPLATES.get(chart, ()):
            own = values.get(rule.subchart) if rule.subchart else values
            if not isinstance(own, dict):
                continue  # the subchart's condition dropped it
            for template in (rule.template, *([rule.scaler.template] if rule.scaler else [])):
                text = (vendored_charts(CHARTS)[chart] / template).read_text()
                verdicts = [r for _, r in rendered_api_versions(text, own)]
                assert verdicts and UNKNOWN not in verdicts, (name, chart, template, verdicts)
            if rule.workload is None:
                assert not any(b.name == rule.name for b in release_budgets(reg)), (name, chart, rule.template)


def _release(chart: str, values: dict) -> Registration:
    return Registration(f"urn:{chart}", "kubernetes:helm.sh/v3:Release", chart, "", True,
                        {"chart": chart, "name": chart, "namespace": "ns", "values": values}, [], [], {})


@pytest.mark.parametrize("chart, values, expected", [
    # cert-manager v1.21.1: `minAvailable: 1` unless the block has either key (`hasKey`)
    ("cert-manager", {"podDisruptionBudget": {"enabled": True}}, {"cert-manager": {"minAvailable": 1}}),
    ("cert-manager", {"webhook": {"podDisruptionBudget": {"enabled": True, "maxUnavailable": 1}}},
     {"cert-manager-webhook": {"maxUnavailable": 1}}),
    # KEDA 2.20.2: the chart-wide numbers render all three, a component's only its own
    ("keda", {"podDisruptionBudget": {"operator": {"minAvailable": 1}}}, {"keda-operator": {"minAvailable": 1}}),
    ("keda", {"podDisruptionBudget": {"maxUnavailable": 1}},
     {n: {"maxUnavailable": 1} for n in ("keda-operator", "keda-operator-metrics-apiserver",
                                          "keda-admission-webhooks")}),
    # kube-prometheus-stack 88.5.3: `toYaml` of the block less `enabled` (its default minAvailable 1)
    ("kube-prometheus-stack", {"prometheus": {"podDisruptionBudget": {"enabled": True}}},
     {"kps-prometheus": {"minAvailable": 1}}),
    ("kube-prometheus-stack", {"grafana": {"podDisruptionBudget": {"maxUnavailable": 1}}},
     {"kube-prometheus-stack-grafana": {"maxUnavailable": 1}}),
    # istiod 1.30.3: without autoscaling, `replicaCount` decides; a `maxUnavailable` key wins over minAvailable
    ("istiod", {"autoscaleEnabled": False, "replicaCount": 2, "pdb": {"maxUnavailable": 1}},
     {"istiod": {"maxUnavailable": 1}}),
    ("istiod", {"autoscaleEnabled": False, "replicaCount": 1, "autoscaleMin": 3}, {}),
    # the HTTP add-on 0.15.0: `minAvailable: 0` is no number (Go's truth), the budget can be turned off
    ("keda-add-ons-http", {"interceptor": {"pdb": {"enabled": False}}}, {}),
])
def test_a_chart_budget_follows_its_templates_reading_of_the_values(chart, values, expected):
    assert {b.name: b.spec for b in release_budgets(_release(chart, values))} == expected


def _with_workload(plan: Plan, kind: str, name: str, pod_spec: dict) -> Plan:
    """The plan with one more workload of `kind` running the router's pods (labels and all) in `llm`."""
    router = next(r for r in plan.kubernetes_objects() if dm.kind_of(r) == "Deployment"
                  and r.inputs["metadata"]["name"] == "router")
    template = router.inputs["spec"]["template"]
    if kind == "Pod":
        inputs = {"apiVersion": "v1", "kind": "Pod", "metadata": {**template["metadata"], "namespace": "llm",
                                                                  "name": name},
                  "spec": {**template["spec"], **pod_spec}}
    else:
        inputs = {**router.inputs, "kind": kind, "metadata": {"namespace": "llm", "name": name},
                  "spec": {"selector": router.inputs["spec"]["selector"],
                           "template": {**template, "spec": {**template["spec"], **pod_spec}}}}
    extra = dataclasses.replace(router, urn=router.urn.replace("::inference-router", f"::{name}"), name=name,
                                inputs=inputs)
    return dataclasses.replace(plan, resources=[*plan.resources, extra])


def test_only_pods_that_run_until_evicted_fail_the_plan_under_two_budgets(dev):
    """Two budgets over the router's labels: a Deployment's, a StatefulSet's and a bare Pod's that restarts
    (`Always`, the default) pods hold every drain (the eviction API's 500 until the drain's deadline). A Job's pods
    and a bare Pod's that restarts `Never` end (Succeeded or Failed: `canIgnorePDB`, they go), so the budgets only
    delay a drain while they run; a DaemonSet's pods are never evicted by a drain (kubectl drain skips them, AKS's
    drain too): none of those is a plan that no drain can end. The dev plan's own Jobs (the model preload, the
    Open WebUI database's bootstrap and migration) sit under two empty selectors and fail nothing."""
    key = "app.kubernetes.io/name"
    plan = _with_budget(dev, "team-budget", "llm",
                        {"matchExpressions": [{"key": key, "operator": "In", "values": ["router"]}]})
    for kind, name, spec in (("StatefulSet", "router-set", {}), ("DaemonSet", "router-daemon", {}),
                             ("Job", "router-job", {"restartPolicy": "Never"}), ("Pod", "router-pod", {}),
                             ("Pod", "router-once", {"restartPolicy": "Never"})):
        plan = _with_workload(plan, kind, name, spec)
    flagged = {p.resource for p in check_budget_overlap(plan)}
    assert flagged == {"Deployment llm/router", "StatefulSet llm/router-set", "Pod llm/router-pod"}, flagged

    twice = _with_budget(_with_budget(dev, "team-a", "llm", {}), "team-b", "llm", {})
    flagged = {p.resource for p in check_budget_overlap(twice)}
    jobs = {label_of(r) for r in dev.kubernetes_objects() if dm.kind_of(r) == "Job"}
    assert len(jobs) == 3 and not flagged & jobs, flagged & jobs
    assert "Deployment llm/router" in flagged


# ---- the template reader's functions, as Go's text/template and sprig v3.3.0 evaluate them ------------------------

@pytest.mark.parametrize("expression, values, expected", [
    # sprig's `int` (cast v1.7.0 ToIntE): strings by strconv.ParseInt(trimZeroDecimal(s), 0, 0), else 0
    ("int .Values.n", {"n": "2"}, 2),
    ("int .Values.n", {"n": "2.0"}, 2),  # trailing zero decimals dropped
    ("int .Values.n", {"n": "2.5"}, 0),
    ("int .Values.n", {"n": " 2"}, 0),  # no spaces
    ("int .Values.n", {"n": "010"}, 8),  # base 0: a leading 0 is octal
    ("int .Values.n", {"n": "08"}, 0),
    ("int .Values.n", {"n": "0x1A"}, 26),
    ("int .Values.n", {"n": "1_000"}, 1000),
    ("int .Values.n", {"n": 2.9}, 2),
    ("int .Values.n", {"n": -2.9}, -2),
    ("int .Values.n", {"n": None}, 0),
    ("int .Values.n", {}, 0),
    ("int .Values.n", {"n": True}, 1),
    ("int .Values.n", {"n": float("inf")}, UNKNOWN),  # Go's conversion is the platform's
    # Go's gt/ge/lt/le: one kind on each side; a `.Values` number is float64, a literal or `int`'s result an int
    ("gt (int .Values.n) 1", {"n": 2}, True),
    ("ge (int .Values.n) 2", {"n": 2}, True),
    ("lt (int .Values.n) 2", {"n": 2}, False),
    ("le .Values.n 2.0", {"n": 2}, True),
    ("gt .Values.n 1", {"n": 2}, UNKNOWN),  # float64 against int: "incompatible types for comparison"
    ("gt .Values.n 1", {"n": None}, UNKNOWN),  # nil: "invalid type for comparison"
    ("gt .Values.n 1", {"n": True}, UNKNOWN),
    ("gt .Values.s \"10\"", {"s": "9"}, True),  # strings in byte order
    ("hasKey .Values.m \"k\"", {"m": {"k": None}}, True),
    ("hasKey .Values.m \"k\"", {"m": {}}, False),
    ("hasKey .Values.m \"k\"", {"m": None}, UNKNOWN),  # a nil value is no map to Go's call: the render fails
    ("hasKey .Values.m \"k\"", {"m": "text"}, UNKNOWN),  # not a map: the render fails
])
def test_the_template_reader_evaluates_as_go_and_sprig_do(expression, values, expected):
    assert evaluate(expression, values) == expected if expected is not UNKNOWN else \
        evaluate(expression, values) is UNKNOWN


@pytest.mark.parametrize("given, rendered", [
    (2, True), (1, False), ("2", True), ("2.0", True), ("010", True), (" 2", False), (1.9, False), (None, False),
])
def test_istiods_budget_guard_reads_autoscale_min_as_sprig_s_int_does(given, rendered):
    """istio 1.30.3 `templates/poddisruptionbudget.yaml`: `gt (int .Values.autoscaleMin) 1` with autoscaling on. A
    wrong `int` drops a budget the chart renders ("2.0", octal "010") or adds one it does not (" 2")."""
    text = (vendored_charts(CHARTS)["istiod"] / "templates/poddisruptionbudget.yaml").read_text()
    values = chart_values({"chart": "istiod", "values": {"autoscaleMin": given}})
    assert [r for _, r in rendered_api_versions(text, values)] == [rendered]


@pytest.mark.parametrize("chart, values", [
    ("nvidia-device-plugin", {"nfd": {"enabled": True, "master": {"podDisruptionBudget": {"enable": True}},
                                      "gc": {"podDisruptionBudget": {"enable": True}}}}),
    ("gpu-operator", {"nfd": {"enabled": True}, "node-feature-discovery": {
        "master": {"podDisruptionBudget": {"enable": True}}, "gc": {"podDisruptionBudget": {"enable": True}}}})])
def test_nfd_budgets_select_the_nfd_pods_the_capacity_model_places(chart, values):
    """node-feature-discovery's master and gc budgets, under either chart, select its one-replica Deployments as
    offline/capacity.py models them (nfd_pods), so their drains are judged; they selected nothing under the device
    plugin's chart before its NFD had a model."""
    budgets = {b.name: (b.workload, b.pod is not None, b.fewest) for b in release_budgets(_release(chart, values))}
    assert budgets == {"node-feature-discovery-master": ("nfd-master", True, 1),
                       "node-feature-discovery-gc": ("nfd-gc", True, 1)}
