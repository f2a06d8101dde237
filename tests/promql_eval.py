"""A small instant-query PromQL evaluator over a handful of modelled series, for the panels whose meaning (not just
their names) needs checking: selectors and matchers, comparison filters against a number, and/or/unless (with
on(...)), and the count/max/sum/min aggregations, as Prometheus evaluates them (prometheus/promql/engine.go:
VectorAnd/VectorOr/VectorUnless match on the on() labels, else on all labels but the metric name; an aggregation
without `by` keeps no label). An offset is ignored and max/min/last_over_time over a range is the one sample the
range holds: the model has one instant. Anything else raises."""
from __future__ import annotations

import operator
import re
from typing import Optional

import promql_parser as P

Series = tuple[dict[str, str], float]  # labels (with __name__), value

_COMPARE = {">": operator.gt, "<": operator.lt, ">=": operator.ge, "<=": operator.le, "==": operator.eq,
            "!=": operator.ne}
_AGGREGATE = {"count": len, "max": max, "min": min, "sum": sum}
_ONE_SAMPLE_OVER_TIME = {"max_over_time", "min_over_time", "last_over_time"}


def _selected(matcher, value: str) -> bool:
    op = matcher.op
    if op == P.MatchOp.Equal:
        return value == matcher.value
    if op == P.MatchOp.NotEqual:
        return value != matcher.value
    found = re.fullmatch(matcher.value, value) is not None
    return found if op == P.MatchOp.Re else not found


def _signature(labels: dict[str, str], on: Optional[list[str]]) -> tuple:
    if on is not None:
        return tuple(labels.get(k, "") for k in sorted(on))
    return tuple(sorted((k, v) for k, v in labels.items() if k != "__name__"))


def evaluate(query: str, series: list[Series]) -> list[Series]:
    """The instant vector `query` yields over `series`."""
    return _eval(P.parse(query), series)


def _eval(node, series: list[Series]):
    if isinstance(node, P.ParenExpr):
        return _eval(node.expr, series)
    if isinstance(node, P.NumberLiteral):
        return node.val
    if isinstance(node, P.VectorSelector):
        return [(labels, value) for labels, value in series if labels["__name__"] == node.name
                and all(_selected(m, labels.get(m.name, "")) for m in node.matchers.matchers)]
    if (isinstance(node, P.Call) and node.func.name in _ONE_SAMPLE_OVER_TIME
            and isinstance(node.args[0], P.MatrixSelector)):
        # a function's result drops the metric name (promql/functions.go, the *_over_time family)
        return [({k: v for k, v in labels.items() if k != "__name__"}, value)
                for labels, value in _eval(node.args[0].vector_selector, series)]
    if isinstance(node, P.AggregateExpr) and str(node.op) in _AGGREGATE and node.param is None:
        groups: dict[tuple, list[Series]] = {}
        by = list(node.modifier.labels) if node.modifier is not None else []
        if node.modifier is not None and node.modifier.type != P.AggModifierType.By:
            raise NotImplementedError("without(...)")
        for labels, value in _eval(node.expr, series):
            groups.setdefault(_signature(labels, by), []).append((labels, value))
        return [({k: members[0][0][k] for k in by if k in members[0][0]},
                 float(_AGGREGATE[str(node.op)]([v for _, v in members]))) for members in groups.values()]
    if isinstance(node, P.BinaryExpr):
        op = str(node.op)
        lhs, rhs = _eval(node.lhs, series), _eval(node.rhs, series)
        matching = node.modifier.matching if node.modifier is not None else None
        if matching is not None and matching.type != P.LabelModifierType.Include:
            raise NotImplementedError("ignoring(...)")
        on = list(matching.labels) if matching is not None else None
        if op in ("and", "unless", "or"):
            right = {_signature(labels, on) for labels, _ in rhs}
            if op == "and":
                return [s for s in lhs if _signature(s[0], on) in right]
            if op == "unless":
                return [s for s in lhs if _signature(s[0], on) not in right]
            left = {_signature(labels, on) for labels, _ in lhs}
            return lhs + [s for s in rhs if _signature(s[0], on) not in left]
        if op in _COMPARE and isinstance(rhs, float) and not (node.modifier and node.modifier.return_bool):
            return [(labels, value) for labels, value in lhs if _COMPARE[op](value, rhs)]
    raise NotImplementedError(f"no evaluation rule for {node}")


def render_legend(legend: str, labels: dict[str, str]) -> str:
    """Grafana's legendFormat: each {{label}} replaced by the series' value of it."""
    return re.sub(r"{{\s*([A-Za-z_][A-Za-z0-9_]*)\s*}}", lambda m: labels.get(m.group(1), ""), legend)
