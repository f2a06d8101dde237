"""What the real exporters emit, read from tests/upstream/metrics/ (upstream files and lists read out of upstream source
at the pinned versions; tests/upstream/SOURCES.md names each), and the labels a series carries once Prometheus has
scraped it through the monitor the platform points at it.

A query is checked in two steps: every metric it names is a series one exporter emits, and every label it names
(matchers, by/without, on/ignoring/group_left, a legend's {{label}}, an alert's $labels.x) is on the series where
the query uses it, following the labels through aggregations and joins (`labels_of`).
"""
from __future__ import annotations

import csv
import functools
import re
from dataclasses import dataclass, field
from typing import Iterable, Optional

import promql_parser
import yaml

from tests.conftest import upstream_dir

METRICS = "metrics"


@dataclass(frozen=True)
class ExtractList:
    """One tests/upstream/metrics/*.tsv: a header naming its source, then series, labels, file:line, note."""

    name: str
    header: dict[str, str]
    series: dict[str, frozenset[str]]
    notes: dict[str, str]


@functools.lru_cache(maxsize=None)
def extract_list(name: str) -> ExtractList:
    header: dict[str, str] = {}
    series: dict[str, frozenset[str]] = {}
    notes: dict[str, str] = {}
    for line in (upstream_dir() / METRICS / f"{name}.tsv").read_text().splitlines():
        if line.startswith("#"):
            key, _, value = line[1:].strip().partition(": ")
            header[key] = value
        elif line.strip():
            cells = line.split("\t")
            series[cells[0]] = frozenset(filter(None, cells[1].split(",")))
            notes[cells[0]] = cells[3] if len(cells) > 3 else ""
    return ExtractList(name, header, series, notes)


def table_rows(name: str) -> list[list[str]]:
    """Rows of a cited table (tests/upstream/metrics/<name>.tsv): header lines skipped."""
    return [line.split("\t") for line in (upstream_dir() / METRICS / f"{name}.tsv").read_text().splitlines()
            if line.strip() and not line.startswith("#")]


def dcgm_counters(csv_name: str) -> dict[str, str]:
    """Field -> type of the counters a DCGM exporter CSV turns on (commented lines are off); `label` fields are
    labels on every metric, not series."""
    rows = (upstream_dir() / METRICS / csv_name).read_text().splitlines()
    found: dict[str, str] = {}
    for row in csv.reader(r for r in rows if r.strip() and not r.lstrip().startswith("#")):
        found[row[0].strip()] = row[1].strip()
    return found


def dcgm_series(csv_name: str) -> dict[str, frozenset[str]]:
    counters = dcgm_counters(csv_name)
    labels = {row[0] for row in table_rows("dcgm-exporter-labels")}
    labels |= {f for f, kind in counters.items() if kind == "label"}
    return {f: frozenset(labels) for f, kind in counters.items() if kind != "label"}


# a label as the kube-state-metrics tables spell it, `name`=&lt;...&gt; and, in kube_node_spec_taint's row (v2.20.0
# docs/metrics/cluster/node-metrics.md), `value=`&lt;...&gt;
KSM_LABEL = re.compile(r"`([a-z_A-Z]+)(?:`=|=`)")


def ksm_series(node_label_allowlist: Iterable[str]) -> dict[str, frozenset[str]]:
    """kube-state-metrics 2.20.0's documented metrics (docs/metrics/*.md tables) with their labels; kube_node_labels
    carries label_<key> for the keys its --metric-labels-allowlist names (`label_NODE_LABEL` in the table)."""
    found: dict[str, frozenset[str]] = {}
    allowed = {"label_" + re.sub(r"[^a-zA-Z0-9_]", "_", key) for key in node_label_allowlist}
    for path in sorted((upstream_dir() / METRICS / "kube-state-metrics").glob("*.md")):
        for line in path.read_text().splitlines():
            cells = [c.strip() for c in line.split("|")]
            if len(cells) < 4 or not re.fullmatch(r"kube_[a-z_]+", cells[1]):
                continue
            labels = set(KSM_LABEL.findall(line))
            if "label_NODE_LABEL" in labels:
                labels = (labels - {"label_NODE_LABEL"}) | allowed
            found[cells[1]] = frozenset(labels)
    return found


def ksm_allowlist_keys(allowlist: list[str], resource: str) -> list[str]:
    """The keys `resource=[a,b]` entries of a kube-state-metrics metricLabelsAllowlist grant."""
    keys: list[str] = []
    for entry in allowlist:
        kind, _, rest = entry.partition("=")
        if kind == resource:
            keys += [k for k in rest.strip("[]").split(",") if k]
    return keys


def target_labels(kind: str) -> frozenset[str]:
    """The labels prometheus-operator's scrape configuration puts on every target of a ServiceMonitor/PodMonitor."""
    return frozenset(row[1] for row in table_rows("prometheus-operator-target-labels") if row[0] == kind)


@dataclass(frozen=True)
class Scrape:
    """How a monitor scrapes an exporter: its kind, honor_labels, the target labels its relabelings drop, and the
    series its metricRelabelings drop by name."""

    kind: str
    honor_labels: bool = False
    dropped_labels: frozenset[str] = frozenset()
    dropped_names: tuple[str, ...] = ()

    @staticmethod
    def of(kind: str, endpoint: dict) -> "Scrape":
        dropped: set[str] = set()
        for rule in endpoint.get("relabelings") or []:
            if rule.get("action") == "labeldrop":
                dropped |= {t for t in target_labels(kind) if re.fullmatch(rule["regex"], t)}
        names = tuple(r["regex"] for r in endpoint.get("metricRelabelings") or []
                      if r.get("action") == "drop" and r.get("sourceLabels") == ["__name__"])
        return Scrape(kind, bool(endpoint.get("honorLabels")), frozenset(dropped), names)

    def scraped(self, emitted: frozenset[str]) -> frozenset[str]:
        """The labels a series has in Prometheus: without honor_labels an exporter label that a target label
        shadows is renamed exported_<name> (Prometheus' scrape configuration)."""
        targets = target_labels(self.kind) - self.dropped_labels
        if self.honor_labels:
            return emitted | targets
        return targets | {f"exported_{label}" if label in targets else label for label in emitted}

    def keeps(self, series: str) -> bool:
        return not any(re.fullmatch(regex, series) for regex in self.dropped_names)


@dataclass
class Exporter:
    name: str
    series: dict[str, frozenset[str]]
    scrape: Scrape
    source: str

    def labels(self, series: str) -> Optional[frozenset[str]]:
        if series not in self.series or not self.scrape.keeps(series):
            return None
        return self.scrape.scraped(self.series[series])


@dataclass
class Catalog:
    exporters: list[Exporter] = field(default_factory=list)

    def find(self, series: str) -> list[Exporter]:
        return [e for e in self.exporters if e.labels(series) is not None]

    def labels(self, series: str) -> frozenset[str]:
        found = self.find(series)
        assert found, f"{series} is emitted by no exporter this platform scrapes (tests/upstream/metrics/)"
        return frozenset().union(*(e.labels(series) or frozenset() for e in found))


# ---- labels through a PromQL expression ------------------------------------------------------------------------

class LabelError(AssertionError):
    pass


def _labels(node, catalog: Catalog, where: str) -> Optional[frozenset[str]]:
    """The labels of the series `node` yields (None: a scalar); raises LabelError for a label used where it is not."""
    P = promql_parser
    if isinstance(node, P.VectorSelector):
        labels = catalog.labels(node.name)
        for matcher in node.matchers.matchers:
            if matcher.name not in labels and not _matches_empty(matcher):
                raise LabelError(f"{where}: {node.name} has no label {matcher.name!r} (it has {sorted(labels)})")
        return labels
    if isinstance(node, P.MatrixSelector):
        return _labels(node.vector_selector, catalog, where)
    if isinstance(node, (P.ParenExpr, P.UnaryExpr, P.SubqueryExpr)):
        return _labels(node.expr, catalog, where)
    if isinstance(node, (P.NumberLiteral, P.StringLiteral)):
        return None
    if isinstance(node, P.Call):
        args = [_labels(a, catalog, where) for a in node.args]
        vectors = [a for a in args if a is not None]
        name = node.func.name
        if name == "vector":
            return frozenset()
        if name == "histogram_quantile":
            inner = args[1] or frozenset()
            if "le" not in inner:
                raise LabelError(f"{where}: histogram_quantile over series without `le` ({sorted(inner)})")
            return inner - {"le"}
        return vectors[0] if vectors else None
    if isinstance(node, P.AggregateExpr):
        inner = _labels(node.expr, catalog, where) or frozenset()
        if node.param is not None:
            _labels(node.param, catalog, where)
        modifier = node.modifier
        if modifier is None:
            return frozenset()
        grouping = frozenset(modifier.labels)
        missing = grouping - inner
        if missing:
            raise LabelError(f"{where}: grouping by {sorted(missing)} that the series lack (they have {sorted(inner)})")
        return grouping if modifier.type == P.AggModifierType.By else inner - grouping
    if isinstance(node, P.BinaryExpr):
        lhs, rhs = _labels(node.lhs, catalog, where), _labels(node.rhs, catalog, where)
        if lhs is None or rhs is None:
            return lhs if rhs is None else rhs
        modifier = node.modifier
        matching = modifier.matching if modifier is not None else None
        if matching is not None and matching.type == P.LabelModifierType.Include:  # on(...)
            for side, labels in (("left", lhs), ("right", rhs)):
                missing = frozenset(matching.labels) - labels
                if missing:
                    raise LabelError(f"{where}: on({', '.join(matching.labels)}): the {side} side has no "
                                     f"{sorted(missing)}")
        if modifier is not None and modifier.card == P.VectorMatchCardinality.ManyToOne:
            extra = frozenset(modifier.group_labels or ())
            if extra - rhs:
                raise LabelError(f"{where}: group_left({sorted(extra - rhs)}) copies labels the right side lacks")
            return lhs | extra
        if str(node.op) == "or":
            return lhs | rhs
        return lhs
    raise LabelError(f"{where}: no label rule for {type(node).__name__}")


def _matches_empty(matcher) -> bool:
    """A matcher on a label the series lacks still selects it when it accepts the empty value (pod!="x", a="")."""
    P = promql_parser
    op = matcher.op
    if op == P.MatchOp.Equal:
        return matcher.value == ""
    if op == P.MatchOp.NotEqual:
        return matcher.value != ""
    regex = re.compile(matcher.value)
    full = regex.fullmatch("") is not None
    return full if op == P.MatchOp.Re else not full


def metrics_of(query: str) -> set[str]:
    names: set[str] = set()

    def visit(node):
        if isinstance(node, promql_parser.VectorSelector) and node.name:
            names.add(node.name)
        return True

    promql_parser.walk(promql_parser.parse(query), visit)
    return names


def check_query(query: str, catalog: Catalog, where: str, used_labels: Iterable[str] = ()) -> frozenset[str]:
    """Every metric of `query` emitted, every label it names present; `used_labels` (a legend's, an annotation's)
    must be on its result. Returns the result's labels."""
    for metric in metrics_of(query):
        assert catalog.find(metric), f"{where}: {metric} is emitted by no exporter this platform scrapes"
    labels = _labels(promql_parser.parse(query), catalog, where) or frozenset()
    missing = set(used_labels) - labels
    assert not missing, f"{where}: {sorted(missing)} is not on the result (it has {sorted(labels)})"
    return labels


def legend_labels(legend: str) -> set[str]:
    return set(re.findall(r"{{\s*([A-Za-z_][A-Za-z0-9_]*)\s*}}", legend or ""))


def annotation_labels(text: str) -> set[str]:
    return set(re.findall(r"\$labels\.([A-Za-z_][A-Za-z0-9_]*)", text))


def values_of(chart_values: str) -> dict:
    """A vendored chart's values, read with libyaml's loader as tests/validation.py reads chart values (the pure-Python
    one took ~0.2 s for kube-prometheus-stack's)."""
    return yaml.load((upstream_dir() / "charts" / chart_values).read_text(), Loader=yaml.CSafeLoader)
