"""Kubernetes NetworkPolicy (networking.k8s.io/v1) evaluated over a plan's manifests: may this pod reach that peer?

The semantics are the API's (k8s.io/api/networking/v1 types.go: a pod is isolated for a direction once a policy of
its namespace selects it with that policy type; then a connection is allowed when some rule of some selecting
policy matches both its port and its peer; a peer without namespaceSelector is in the policy's own namespace), read
as the strictest engine the platform allows does: Cilium's CIDR rules never select what the cluster manages (pods,
nodes), so an in-cluster peer is reached only through namespace/pod selectors, and an ipBlock only ever matches an
address outside the cluster (Cilium docs, security/policy/layer3.rst "IP/CIDR based"; AKS, "Migrate from NPM to
Cilium", "NetworkPolicy with ipBlock"). What this allows, Calico and Azure NPM allow too: they also match selectors,
and their ipBlocks select more, never less.

CiliumNetworkPolicies (cilium.io/v2) are read with them, as Cilium merges both kinds into one rule set: a pod one
selects for egress is isolated for egress, and any rule of either kind may allow a connection. Only the parts the
platform writes are modelled (endpointSelector; egress toEndpoints, toEntities, toCIDR, toCIDRSet, toPorts); any
other field fails, so a policy this model cannot read is noticed."""
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


CILIUM = "CiliumNetworkPolicy"
# The fields of a CiliumNetworkPolicy this model reads; cilium.io/v2 has more (deny rules, L7, FQDNs, services, ...).
CILIUM_SPEC_FIELDS = {"description", "endpointSelector", "egress"}
CILIUM_EGRESS_FIELDS = {"toEndpoints", "toEntities", "toCIDR", "toCIDRSet", "toPorts"}
# Cilium's label of a pod's namespace (k8s.io/... `io.kubernetes.pod.namespace`, on every pod's endpoint).
CILIUM_NAMESPACE_KEY = "io.kubernetes.pod.namespace"


def _cilium_key(key: str) -> str:
    """A selector key without its label source (`k8s:`, `any:`): the model's pods carry Kubernetes labels only."""
    source, _, rest = key.partition(":")
    assert not rest or source in ("k8s", "any"), f"label source {source!r}: not modelled"
    return rest or key


def _cilium_selector(selector: Optional[Mapping[str, Any]]) -> dict[str, Any]:
    selector = selector or {}
    return {"matchLabels": {_cilium_key(k): v for k, v in (selector.get("matchLabels") or {}).items()},
            "matchExpressions": [{**e, "key": _cilium_key(e["key"])} for e in selector.get("matchExpressions") or []]}


def _cilium_spec(policy: Mapping[str, Any]) -> Mapping[str, Any]:
    spec = policy["spec"]
    assert set(spec) <= CILIUM_SPEC_FIELDS, f"{sorted(set(spec) - CILIUM_SPEC_FIELDS)}: not modelled"
    for rule in spec.get("egress") or []:
        assert set(rule) <= CILIUM_EGRESS_FIELDS, f"{sorted(set(rule) - CILIUM_EGRESS_FIELDS)}: not modelled"
    return spec


def _directions(policy: Mapping[str, Any]) -> list[str]:
    if policy.get("kind") == CILIUM:  # "If any rule selects an endpoint and the rule has an egress section, the
        return ["Egress"] if _cilium_spec(policy).get("egress") else []  # endpoint goes into default-deny mode"
    return policy_types(policy["spec"])


def selecting(policies: list[Mapping[str, Any]], direction: str, pod: Pod) -> list[Mapping[str, Any]]:
    """The policies of `pod`'s namespace that select it for `direction`: each isolates it for that direction."""
    def selects_pod(p: Mapping[str, Any]) -> bool:
        if p.get("kind") == CILIUM:  # the endpointSelector applies to the policy's namespace only
            return selects(_cilium_selector(p["spec"].get("endpointSelector")), pod.labels)
        return selects(p["spec"].get("podSelector"), pod.labels)
    return [p for p in policies if p["metadata"]["namespace"] == pod.namespace and direction in _directions(p)
            and selects_pod(p)]


def _cidr_matches(cidr: str, excepted: list[str], other: Peer) -> bool:
    if not isinstance(other, Outside):  # CIDR rules select no cluster-managed endpoint, pod or node
        return False
    address = ipaddress.ip_address(other.address)
    return address in ipaddress.ip_network(cidr) and not any(
        address in ipaddress.ip_network(e) for e in excepted)


# What each entity Cilium defines selects among the model's peers (cilium/cilium v1.18.3
# Documentation/security/policy/language.rst, "Entities based"): the nodes are `host` and `remote-node`, `cluster`
# is every pod and node, `world` every address outside the cluster. `kube-apiserver` selects nothing here: the API
# server of the model is an Outside address, which a CIDR rule must admit (the stricter reading).
ENTITIES = {"host": (Node,), "remote-node": (Node,), "cluster": (Pod, Node), "world": (Outside,),
            "all": (Pod, Node, Outside), "kube-apiserver": ()}


def _cilium_peer_matches(rule: Mapping[str, Any], policy_namespace: str, other: Peer) -> bool:
    if "toEndpoints" in rule:
        if not isinstance(other, Pod):
            return False
        labels = {**other.labels, CILIUM_NAMESPACE_KEY: other.namespace}
        for selector in rule["toEndpoints"]:
            selector = _cilium_selector(selector)
            keys = {*selector["matchLabels"], *(e["key"] for e in selector["matchExpressions"])}
            # a selector without the namespace key is narrowed to the policy's namespace (getEndpointSelector)
            if (CILIUM_NAMESPACE_KEY in keys or other.namespace == policy_namespace) and selects(selector, labels):
                return True
        return False
    if "toEntities" in rule:
        return any(isinstance(other, ENTITIES[entity]) for entity in rule["toEntities"])
    if "toCIDR" in rule or "toCIDRSet" in rule:
        return any(_cidr_matches(c, [], other) for c in rule.get("toCIDR") or []) or any(
            _cidr_matches(c["cidr"], c.get("except") or [], other) for c in rule.get("toCIDRSet") or [])
    return "toPorts" in rule  # an L4-only rule allows every peer on its ports; an empty rule allows nothing


def _cilium_port_matches(rule: Mapping[str, Any], port: int, protocol: str) -> bool:
    if not rule.get("toPorts"):
        return True
    return any(int(entry["port"]) == port and entry.get("protocol", "ANY") in ("ANY", protocol)
               for to_ports in rule["toPorts"] for entry in to_ports.get("ports") or [])


def allowed(policies: list[Mapping[str, Any]], direction: str, pod: Pod, other: Peer, port: int,
            namespaces: Mapping[str, Mapping[str, str]], protocol: str = "TCP") -> bool:
    """Whether `pod` may send to (direction "Egress") or receive from ("Ingress") `other` on `port`."""
    rules_key, peers_key = ("egress", "to") if direction == "Egress" else ("ingress", "from")
    found = selecting(policies, direction, pod)
    if not found:
        return True
    return any(_cilium_port_matches(rule, port, protocol)
               and _cilium_peer_matches(rule, p["metadata"]["namespace"], other)
               if p.get("kind") == CILIUM else
               port_matches(rule.get("ports"), port, protocol)
               and (not rule.get(peers_key) or any(peer_matches(peer, p["metadata"]["namespace"], other, namespaces)
                                                   for peer in rule[peers_key]))
               for p in found for rule in p["spec"].get(rules_key) or [])


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
