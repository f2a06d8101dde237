"""The PodDisruptionBudgets a Helm release's chart renders, with the pods each one selects: where they land, how
many run, and what the budget lets a drain evict.

A chart's budget guards its pods exactly as the program's own do: AKS drains a node (an upgrade, a pool's delete)
through the eviction API, which honours every budget of the cluster whoever wrote it. The plan holds only the
release, so each budget template the pinned charts ship is vendored verbatim under tests/upstream/charts/<chart>/
(tests/upstream/SOURCES.md) and read here:

- whether it renders: the `if`/`with` around its `apiVersion:` line, evaluated with the release's values over the
  chart's defaults (`templates.rendered_api_versions`, `charts.chart_values`; a subchart's template with the values
  under its key, none when its condition drops it);
- its `minAvailable` / `maxUnavailable`: how each template writes them from its values, transcribed in `STYLES`
  (the templates' spec lines are `toYaml` of a values block or a few `if`s, which the condition reader does not
  render);
- the pods it selects: the chart's workload as `offline/capacity.py` CHART_PODS models it (where the values keep
  its replicas and placement), so its node selector, required node affinity and tolerations; its count is the
  chart's own autoscaler's range where the chart renders one (istiod's HorizontalPodAutoscaler, the KEDA HTTP
  add-on's interceptor ScaledObject: both vendored and read the same way), else its replicas.

Charts and budgets (every chart the stacks install; the pinned commits in SOURCES.md): istiod's (istio 1.30.3,
rendered only when `autoscaleMin` > 1 with autoscaling on, or `replicaCount` > 1 without), the HTTP add-on's
interceptor's (kedacore/charts v2.20.2, on by default: `maxUnavailable: 1`), KEDA's operator, metrics apiserver and
webhooks (off unless `podDisruptionBudget` sets a number), kube-prometheus-stack's Prometheus, Alertmanager and
operator, its kube-state-metrics' and Grafana's (all off by default), prometheus-adapter's and cert-manager's three
(off by default), and node-feature-discovery's master and gc in the gpu-operator and nvidia-device-plugin charts (off
by default). kube-prometheus-stack's ThanosRuler and admission-webhook Deployment budgets are vendored but their
workloads are off in every plan and not modelled (`workload` None). The Istio Gateway deployments' own budget
(istio-discovery `files/kube-gateway.yaml`) is created only with a `podDisruptionBudget` overlay, from istiod's
`gatewayClasses` values or the Gateway's parametersRef (pilot/pkg/config/kube/gatewaycommon/deploymentcontroller.go
`requiredOverlays`); the program gives `deployment` and `service` overlays only. dcgm-exporter, nvidia-device-plugin
itself, gpu-operator itself, the llm-d router chart and istio's base chart render no budget."""
from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, Optional

from llmplatform.images import values_at

from .. import capacity
from ..runner import Plan, Registration
from .charts import CHARTS, chart_name, chart_values, vendored_charts
from .templates import rendered_api_versions


def _numbers(block: dict[str, Any], present: Callable[[str], bool]) -> dict[str, Any]:
    return {k: block[k] for k in ("minAvailable", "maxUnavailable") if present(k)}


def _truthy(block: dict[str, Any]) -> dict[str, Any]:
    """`{{- if .X.minAvailable }} minAvailable: ...` and the same for maxUnavailable (Go's truth: 0 writes nothing)."""
    return _numbers(block, lambda k: bool(block.get(k)))


def _to_yaml(block: dict[str, Any]) -> dict[str, Any]:
    """`toYaml (omit .X "enabled")`: every key written as given (a null one is no number)."""
    return _numbers(block, lambda k: block.get(k) is not None)


def _istio(block: dict[str, Any]) -> dict[str, Any]:
    """istiod: minAvailable when set and no `maxUnavailable` key, else maxUnavailable when set."""
    if block.get("minAvailable") and "maxUnavailable" not in block:
        return {"minAvailable": block["minAvailable"]}
    return {"maxUnavailable": block["maxUnavailable"]} if block.get("maxUnavailable") else {}


def _cert_manager(block: dict[str, Any]) -> dict[str, Any]:
    """cert-manager: each key the block has (`hasKey`), `minAvailable: 1` when it has neither."""
    given = _numbers(block, lambda k: k in block)
    return given or {"minAvailable": 1}


def _keda(component: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """KEDA: the chart-wide numbers, then the component's own (written after them, so they win)."""
    def spec(block: dict[str, Any]) -> dict[str, Any]:
        own = block.get(component)
        return {**_truthy(block), **(_truthy(own) if isinstance(own, dict) else {})}
    return spec


@dataclass(frozen=True)
class ChartScaler:
    """The chart's own autoscaler of the workload: its template, and the values of its minimum and maximum."""
    template: str
    kind: str
    minimum: str
    maximum: str
    otherwise: Optional[str] = None  # the replicas without the autoscaler (istiod: `replicaCount`)


@dataclass(frozen=True)
class BudgetTemplate:
    template: str  # relative to the chart's vendored folder
    name: str  # the budget's name as the program's values make it
    workload: Optional[str]  # the CHART_PODS workload it selects (None: not modelled)
    block: str  # values path of the numbers (in the template's own `.Values`)
    spec: Callable[[dict[str, Any]], dict[str, Any]]
    subchart: str = ""  # the values key of the subchart whose template it is
    scaler: Optional[ChartScaler] = None


TEMPLATES: dict[str, tuple[BudgetTemplate, ...]] = {
    "istiod": (BudgetTemplate(
        "templates/poddisruptionbudget.yaml", "istiod", "istiod", "pdb", _istio, scaler=ChartScaler(
            "templates/autoscale.yaml", "HorizontalPodAutoscaler", "autoscaleMin", "autoscaleMax", "replicaCount")),),
    "keda-add-ons-http": (BudgetTemplate(
        "templates/interceptor/poddisruptionbudget.yaml", "keda-add-ons-http-interceptor", "interceptor",
        "interceptor.pdb", _truthy, scaler=ChartScaler("templates/interceptor/scaledobject.yaml", "ScaledObject",
                                                       "interceptor.replicas.min", "interceptor.replicas.max")),),
    "keda": (
        BudgetTemplate("templates/manager/poddisruptionbudget.yaml", "keda-operator", "keda-operator",
                       "podDisruptionBudget", _keda("operator")),
        BudgetTemplate("templates/metrics-server/poddisruptionbudget.yaml", "keda-operator-metrics-apiserver",
                       "keda-metrics-apiserver", "podDisruptionBudget", _keda("metricServer")),
        BudgetTemplate("templates/webhooks/poddisruptionbudget.yaml", "keda-admission-webhooks",
                       "keda-admission-webhooks", "podDisruptionBudget", _keda("webhooks"))),
    "kube-prometheus-stack": (
        BudgetTemplate("templates/prometheus/podDisruptionBudget.yaml", "kps-prometheus", "prometheus",
                       "prometheus.podDisruptionBudget", _to_yaml),
        BudgetTemplate("templates/alertmanager/podDisruptionBudget.yaml", "kps-alertmanager", "alertmanager",
                       "alertmanager.podDisruptionBudget", _to_yaml),
        BudgetTemplate("templates/prometheus-operator/pdb.yaml", "kps-operator", "operator",
                       "prometheusOperator.podDisruptionBudget", _to_yaml),
        BudgetTemplate("templates/prometheus-operator/admission-webhooks/deployment/pdb.yaml", "kps-operator-webhook",
                       None, "prometheusOperator.admissionWebhooks.deployment.podDisruptionBudget", _to_yaml),
        BudgetTemplate("templates/thanos-ruler/podDisruptionBudget.yaml", "kps-thanos-ruler", None,
                       "thanosRuler.podDisruptionBudget", _to_yaml),
        BudgetTemplate("charts/kube-state-metrics/templates/pdb.yaml", "kube-prometheus-stack-kube-state-metrics",
                       "kube-state-metrics", "podDisruptionBudget", _to_yaml, subchart="kube-state-metrics"),
        BudgetTemplate("charts/grafana/templates/poddisruptionbudget.yaml", "kube-prometheus-stack-grafana", "grafana",
                       "podDisruptionBudget", _truthy, subchart="grafana")),
    "prometheus-adapter": (BudgetTemplate("templates/pdb.yaml", "prometheus-adapter", "prometheus-adapter",
                                          "podDisruptionBudget", _truthy),),
    "cert-manager": (
        BudgetTemplate("templates/poddisruptionbudget.yaml", "cert-manager", "controller", "podDisruptionBudget",
                       _cert_manager),
        BudgetTemplate("templates/webhook-poddisruptionbudget.yaml", "cert-manager-webhook", "webhook",
                       "webhook.podDisruptionBudget", _cert_manager),
        BudgetTemplate("templates/cainjector-poddisruptionbudget.yaml", "cert-manager-cainjector", "cainjector",
                       "cainjector.podDisruptionBudget", _cert_manager)),
    "gpu-operator": (
        BudgetTemplate("charts/node-feature-discovery/templates/master-pdb.yaml", "node-feature-discovery-master",
                       "nfd-master", "master.podDisruptionBudget", _to_yaml, subchart="node-feature-discovery"),
        BudgetTemplate("charts/node-feature-discovery/templates/nfd-gc-pdb.yaml", "node-feature-discovery-gc",
                       "nfd-gc", "gc.podDisruptionBudget", _to_yaml, subchart="node-feature-discovery")),
    # its NFD (alias nfd) runs only with `nfd.enabled` or `gfd.enabled` (capacity.CHART_PODS: its `enabled`)
    "nvidia-device-plugin": (
        BudgetTemplate("charts/node-feature-discovery/templates/master-pdb.yaml", "node-feature-discovery-master",
                       "nfd-master", "master.podDisruptionBudget", _to_yaml, subchart="nfd"),
        BudgetTemplate("charts/node-feature-discovery/templates/nfd-gc-pdb.yaml", "node-feature-discovery-gc",
                       "nfd-gc", "gc.podDisruptionBudget", _to_yaml, subchart="nfd")),
}


@dataclass(frozen=True)
class ChartBudget:
    """A budget a release renders and the chart workload whose pods it selects."""
    release: str  # the Helm release's name
    chart: str
    namespace: str
    name: str
    template: str
    block: str  # the values path its numbers come from, as the release's values spell it
    spec: dict[str, Any]  # minAvailable / maxUnavailable
    workload: Optional[str]
    pod: Optional[dict[str, Any]]  # nodeSelector, affinity and tolerations of its pods (None: not modelled)
    fewest: int
    most: int
    scaler: Optional[ChartScaler]  # the chart's autoscaler that sets its count (None: its replicas)


@functools.lru_cache(maxsize=64)
def _text(path: Path) -> str:
    return path.read_text()


def _renders(path: Path, values: dict[str, Any]) -> bool:
    """Whether a vendored template renders its object with these values (unknown counts as rendered)."""
    return path.exists() and any(rendered is not False for _, rendered in rendered_api_versions(_text(path), values))


def _count(value: Any, default: int) -> int:
    """A replica count as the template writes it (`minReplicas: {{ .Values.autoscaleMin }}`): a number, or a string
    of digits, which renders as the same YAML integer."""
    if isinstance(value, str) and value.strip().lstrip("+-").isdigit():
        return int(value.strip())
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else default


def _pods(reg: Registration, values: dict[str, Any]) -> dict[str, capacity.Pods]:
    """The chart's workloads as `offline/capacity.py` models them, over the release's merged values."""
    alone = Plan("", "", [replace(reg, inputs={**reg.inputs, "values": values})])
    return {p.owner.split(": ", 1)[-1]: p for p in capacity.chart_pods(alone, [])}


def release_budgets(reg: Registration, root: Path = CHARTS) -> list[ChartBudget]:
    """The budgets a Helm release's chart renders with its values, each with the pods it selects."""
    chart = chart_name(reg.inputs)
    directory = vendored_charts(root).get(chart)
    rules = TEMPLATES.get(chart, ())
    if directory is None or not rules:
        return []
    values = chart_values(reg.inputs, root)
    pods = _pods(reg, values)
    found = []
    for rule in rules:
        own = values.get(rule.subchart) if rule.subchart else values
        if not isinstance(own, dict) or not _renders(directory / rule.template, own):
            continue
        block = values_at(own, rule.block)
        pod = pods.get(rule.workload) if rule.workload else None
        fewest = most = pod.count if pod is not None else 0
        how = None
        if rule.scaler is not None:
            if _renders(directory / rule.scaler.template, own):
                fewest = _count(values_at(own, rule.scaler.minimum), fewest)
                most = max(fewest, _count(values_at(own, rule.scaler.maximum), fewest))
                how = rule.scaler
            elif rule.scaler.otherwise:
                fewest = most = _count(values_at(own, rule.scaler.otherwise), 1)
        placed = None if pod is None else {
            "nodeSelector": pod.node_selector,
            "affinity": pod.affinity,
            "tolerations": [{"operator": "Exists"}] if pod.tolerate_all else pod.tolerations}
        found.append(ChartBudget(
            release=str(reg.inputs.get("name") or reg.name), chart=chart,
            namespace=str(reg.inputs.get("namespace") or "default"), name=rule.name, template=rule.template,
            block=".".join(p for p in (rule.subchart, rule.block) if p),
            spec=rule.spec(block if isinstance(block, dict) else {}), workload=rule.workload, pod=placed,
            fewest=fewest, most=most, scaler=how))
    return found


def vendored_budget_templates(root: Path = CHARTS) -> list[tuple[str, str]]:
    """(chart, template) of every vendored template that renders a PodDisruptionBudget."""
    found = []
    for chart, directory in vendored_charts(root).items():
        for path in sorted(directory.rglob("*.yaml")):
            if "templates" in path.parts and "kind: PodDisruptionBudget" in _text(path):
                found.append((chart, str(path.relative_to(directory))))
    return found
