"""Kubernetes NetworkPolicy (networking.k8s.io/v1) evaluated over a plan's manifests: may this pod reach that peer?

The semantics are the API's (k8s.io/api/networking/v1 types.go: a pod is isolated for a direction once a policy of
its namespace selects it with that policy type; then a connection is allowed when some rule of some selecting
policy matches both its port and its peer; a peer without namespaceSelector is in the policy's own namespace), read
as the strictest engine the platform allows does: Cilium's CIDR rules never select what the cluster manages (pods,
nodes), so an in-cluster peer is reached only through namespace/pod selectors, and an ipBlock only ever matches an
address outside the cluster (Cilium docs, security/policy/layer3.rst "IP/CIDR based"; AKS, "Migrate from NPM to
Cilium", "NetworkPolicy with ipBlock"). What this allows, Calico and Azure NPM allow too: they also match selectors,
and their ipBlocks select more, never less."""
from __future__ import annotations

import functools
import ipaddress
import re
from dataclasses import dataclass, field
from typing import Any, Mapping, Optional, Union


@dataclass(frozen=True)
class Pod:
    """A pod of the cluster: its namespace and labels."""

    namespace: str
    labels: Mapping[str, str] = field(default_factory=dict)

    def __hash__(self) -> int:
        return hash((self.namespace, tuple(sorted(self.labels.items()))))


@dataclass(frozen=True)
class Outside:
    """An address outside the cluster (no pod, no node): the internet, another VNet resource, the host's link-local
    services."""

    address: str


@dataclass(frozen=True)
class Node:
    """A node's own address: the kubelet, a host-network pod (node-exporter). Cilium gives it the host or remote-node
    identity, which no NetworkPolicy peer selects: selectors select pods, and an ipBlock selects no node unless the
    agent runs with policy-cidr-match-mode=nodes, which AKS does not set ("It isn't currently possible to specify a
    NetworkPolicy with an ipBlock to allow traffic to node IPs", azure-aks-docs
    articles/aks/azure-cni-powered-by-cilium.md). So a pod any egress policy selects reaches no node."""

    address: str


Peer = Union[Pod, Outside, Node]


def selects(selector: Optional[Mapping[str, Any]], labels: Mapping[str, str]) -> bool:
    """A LabelSelector (matchLabels and matchExpressions, ANDed); an empty one selects everything."""
    selector = selector or {}
    if any(labels.get(k) != v for k, v in (selector.get("matchLabels") or {}).items()):
        return False
    for expression in selector.get("matchExpressions") or []:
        key, operator, values = expression["key"], expression["operator"], expression.get("values") or []
        present = key in labels
        if operator == "In" and not (present and labels[key] in values):
            return False
        if operator == "NotIn" and present and labels[key] in values:
            return False
        if operator == "Exists" and not present:
            return False
        if operator == "DoesNotExist" and present:
            return False
        if operator not in ("In", "NotIn", "Exists", "DoesNotExist"):
            raise AssertionError(f"unknown selector operator {operator!r}")
    return True


def namespace_labels(namespace: str, declared: Mapping[str, Mapping[str, str]]) -> dict[str, str]:
    """A namespace's labels: the ones the plan gives it and the name label the API server sets on every namespace
    (kubernetes.io/metadata.name, NamespaceDefaultLabelName)."""
    return {**declared.get(namespace, {}), "kubernetes.io/metadata.name": namespace}


def peer_matches(peer: Mapping[str, Any], policy_namespace: str, other: Peer,
                 namespaces: Mapping[str, Mapping[str, str]]) -> bool:
    if "ipBlock" in peer:
        if not isinstance(other, Outside):  # Cilium: CIDR rules select no cluster-managed endpoint, pod or node
            return False
        address = ipaddress.ip_address(other.address)
        block = peer["ipBlock"]
        return address in ipaddress.ip_network(block["cidr"]) and not any(
            address in ipaddress.ip_network(excepted) for excepted in block.get("except") or [])
    if not isinstance(other, Pod):  # selectors select pods only
        return False
    if "namespaceSelector" in peer:
        if not selects(peer["namespaceSelector"], namespace_labels(other.namespace, namespaces)):
            return False
    elif other.namespace != policy_namespace:
        return False
    return "podSelector" not in peer or selects(peer["podSelector"], other.labels)


def port_matches(ports: Optional[list[Mapping[str, Any]]], port: int, protocol: str) -> bool:
    if not ports:
        return True
    for entry in ports:
        if entry.get("protocol", "TCP") != protocol:
            continue
        number = entry.get("port")
        if isinstance(number, str):
            raise AssertionError(f"named port {number!r}: this model resolves numbers only")
        if number is None or number == port or (entry.get("endPort") and number <= port <= entry["endPort"]):
            return True
    return False


def policy_types(spec: Mapping[str, Any]) -> list[str]:
    """policyTypes, or the API's default: Ingress, and Egress when the policy has egress rules."""
    return spec.get("policyTypes") or ["Ingress", *(["Egress"] if spec.get("egress") else [])]


def allowed(policies: list[Mapping[str, Any]], direction: str, pod: Pod, other: Peer, port: int,
            namespaces: Mapping[str, Mapping[str, str]], protocol: str = "TCP") -> bool:
    """Whether `pod` may send to (direction "Egress") or receive from ("Ingress") `other` on `port`."""
    rules_key, peers_key = ("egress", "to") if direction == "Egress" else ("ingress", "from")
    selecting = [p for p in policies if p["metadata"]["namespace"] == pod.namespace
                 and direction in policy_types(p["spec"]) and selects(p["spec"].get("podSelector"), pod.labels)]
    if not selecting:
        return True
    return any(port_matches(rule.get("ports"), port, protocol)
               and (not rule.get(peers_key) or any(peer_matches(peer, p["metadata"]["namespace"], other, namespaces)
                                                   for peer in rule[peers_key]))
               for p in selecting for rule in p["spec"].get(rules_key) or [])


def connects(policies: list[Mapping[str, Any]], source: Pod, target: Peer, port: int,
             namespaces: Mapping[str, Mapping[str, str]], protocol: str = "TCP") -> bool:
    """A connection from a pod: its egress, and, to a pod, that pod's ingress."""
    return allowed(policies, "Egress", source, target, port, namespaces, protocol) and (
        not isinstance(target, Pod) or allowed(policies, "Ingress", target, source, port, namespaces, protocol))


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
