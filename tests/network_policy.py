"""The KEDA HTTP add-on chart's pod labels, as the pinned chart renders them, for the suite's NetworkPolicy checks. The
NetworkPolicy model itself (Pod, connects, allowed, selecting, ...) is the package's, one copy for the testing kit and
the suite: llmplatform.testing.network_policy."""
from __future__ import annotations

import functools
import re


def keda_http_pod_labels(component: str, release: str = "keda-add-ons-http") -> dict[str, str]:
    """The labels the pinned chart gives the pods of `component` under `release` (`_keda_http_pod_labels`), a fresh
    dict each call: rendered once per process (the chart's values.yaml took ~25 ms to parse, for ~70 calls a run)."""
    return dict(_keda_http_pod_labels(component, release))


@functools.lru_cache(maxsize=None)
def _keda_http_pod_labels(component: str, release: str) -> dict[str, str]:
    """The labels the pinned keda-add-ons-http chart gives the pods of `component` (interceptor, scaler) under
    `release`: its template lines (tests/upstream/recipes/keda-add-ons-http-pod-labels.txt) rendered with its
    Chart.yaml and values.yaml as Helm would (include, .Chart, .Release, .Values, printf/replace/trunc/trimSuffix).
    A construct this renderer does not know fails: a chart that labels its pods differently is noticed."""
    import yaml
    from tests.conftest import UPSTREAM
    chart = yaml.safe_load((UPSTREAM / "charts" / "keda-add-ons-http" / "Chart.yaml").read_text())
    values = yaml.safe_load((UPSTREAM / "charts" / "keda-add-ons-http" / "values.yaml").read_text())
    sections: dict[str, list[str]] = {}
    current: list[str] = []
    for line in (UPSTREAM / "recipes" / "keda-add-ons-http-pod-labels.txt").read_text().splitlines():
        if line.startswith("["):
            current = sections.setdefault(line[1:line.index("]")], [])
        elif not line.startswith("#"):
            current.append(line)
    chart_label = f"{chart['name']}-{chart['version']}".replace("+", "_")[:63].rstrip("-")
    assert sections["keda-http-add-on.chart"] == [
        '{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}']
    scalars = {"{{ .Chart.Name }}": chart["name"], "{{ .Release.Service }}": "Helm", "{{ .Release.Name }}": release,
               "{{ .Values.images.tag | default .Chart.AppVersion }}":
                   values["images"].get("tag") or chart["appVersion"],
               '{{ include "keda-http-add-on.chart" . }}': chart_label}

    def render(section: str) -> list[str]:
        lines, skipping = [], False
        for line in sections[section]:
            include = re.fullmatch(r'\{\{- include "([\w.-]+)" \.( \| indent \d+)? \}\}', line)
            if include:
                lines += render(include.group(1))
            elif line == "{{- if .Values.additionalLabels }}":
                skipping = not values.get("additionalLabels")
                assert skipping, "additionalLabels set: render them"
            elif line == "{{- end }}":
                skipping = False
            elif not skipping:
                for expression, value in scalars.items():
                    line = line.replace(expression, str(value))
                assert "{{" not in line, f"unknown template construct: {line}"
                lines.append(line)
        return lines

    return dict(line.split(": ", 1) for line in render(component))
