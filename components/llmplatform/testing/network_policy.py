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
other field raises `Unmodelled`, so a policy this model cannot read is noticed (the suite fails; the testing kit's
reachability rule, `reachability`, leaves a connection it cannot judge unjudged).

One copy for the testing kit and this repository's suite (which imported it as tests/network_policy.py before).
A pod here is its namespace, its labels and its named container ports: what a policy can select and name."""

import ipaddress
from dataclasses import dataclass, field
from typing import Any, Mapping, Optional, Union


class Unmodelled(Exception):
    """A policy (or a selector, a port) this model does not read: its verdict would be a guess."""


@dataclass(frozen=True)
class Pod:
    """A pod of the cluster: its namespace, labels and named container ports (name -> number, what a policy's named
    port resolves to on the pod that receives the traffic)."""

    namespace: str
    labels: Mapping[str, str] = field(default_factory=dict)
    ports: Mapping[str, int] = field(default_factory=dict, compare=False)

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
    match = selector.get("matchLabels") or {}
    if not all(isinstance(v, str) for v in match.values()):  # a value not known (a preview's), or no label value
        raise Unmodelled(f"matchLabels {match!r}: a value that is no string")
    if any(labels.get(k) != v for k, v in match.items()):
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
            raise Unmodelled(f"unknown selector operator {operator!r}")
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


def port_matches(ports: Optional[list[Mapping[str, Any]]], port: int, protocol: str,
                 named: Optional[Mapping[str, int]] = None) -> bool:
    """Whether a rule's ports take `port`. A named port is a container port's name on the pod that receives the
    traffic (`named`: its ports; types.go NetworkPolicyPort.Port "a numerical or named port on a pod"): one that pod
    does not name is not resolved here (Unmodelled)."""
    if not ports:
        return True
    for entry in ports:
        if entry.get("protocol", "TCP") != protocol:
            continue
        number = entry.get("port")
        if isinstance(number, str):
            if number not in (named or {}):
                raise Unmodelled(f"named port {number!r}: not a named port of the receiving pod")
            number = (named or {})[number]
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
    if rest and source not in ("k8s", "any"):
        raise Unmodelled(f"label source {source!r}: not modelled")
    key = rest or key
    # labels Cilium derives (io.cilium.k8s.namespace.labels.*, io.cilium.k8s.policy.*, io.kubernetes.pod.* but the
    # namespace): the model's pods carry Kubernetes labels and the namespace key only
    if key != CILIUM_NAMESPACE_KEY and key.startswith(("io.cilium.", "io.kubernetes.pod.")):
        raise Unmodelled(f"label {key!r}: Cilium derives it; not modelled")
    return key


def _cilium_selector(selector: Optional[Mapping[str, Any]]) -> dict[str, Any]:
    selector = selector or {}
    return {"matchLabels": {_cilium_key(k): v for k, v in (selector.get("matchLabels") or {}).items()},
            "matchExpressions": [{**e, "key": _cilium_key(e["key"])} for e in selector.get("matchExpressions") or []]}


def _cilium_spec(policy: Mapping[str, Any]) -> Mapping[str, Any]:
    spec = policy["spec"]
    if not set(spec) <= CILIUM_SPEC_FIELDS:
        raise Unmodelled(f"{sorted(set(spec) - CILIUM_SPEC_FIELDS)}: not modelled")
    for rule in spec.get("egress") or []:
        if not set(rule) <= CILIUM_EGRESS_FIELDS:
            raise Unmodelled(f"{sorted(set(rule) - CILIUM_EGRESS_FIELDS)}: not modelled")
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
        if not set(rule["toEntities"]) <= set(ENTITIES):
            raise Unmodelled(f"entities {sorted(set(rule['toEntities']) - set(ENTITIES))}: not modelled")
        return any(isinstance(other, ENTITIES[entity]) for entity in rule["toEntities"])
    if "toCIDR" in rule or "toCIDRSet" in rule:
        return any(_cidr_matches(c, [], other) for c in rule.get("toCIDR") or []) or any(
            _cidr_matches(c["cidr"], c.get("except") or [], other) for c in rule.get("toCIDRSet") or [])
    return "toPorts" in rule  # an L4-only rule allows every peer on its ports; an empty rule allows nothing


def _cilium_port_matches(rule: Mapping[str, Any], port: int, protocol: str) -> bool:
    if not rule.get("toPorts"):
        return True
    for to_ports in rule["toPorts"]:
        for entry in to_ports.get("ports") or []:
            if not str(entry.get("port", "")).isdigit() or "endPort" in entry:
                raise Unmodelled(f"toPorts port {entry.get('port')!r}: numbers alone are modelled")
            if int(entry["port"]) == port and entry.get("protocol", "ANY") in ("ANY", protocol):
                return True
    return False


def allowed(policies: list[Mapping[str, Any]], direction: str, pod: Pod, other: Peer, port: int,
            namespaces: Mapping[str, Mapping[str, str]], protocol: str = "TCP") -> bool:
    """Whether `pod` may send to (direction "Egress") or receive from ("Ingress") `other` on `port` (a named port
    of a rule: the receiving pod's, `other`'s for egress, `pod`'s for ingress)."""
    rules_key, peers_key = ("egress", "to") if direction == "Egress" else ("ingress", "from")
    found = selecting(policies, direction, pod)
    if not found:
        return True
    receiver = pod if direction == "Ingress" else other
    named = receiver.ports if isinstance(receiver, Pod) else {}
    return any(_cilium_port_matches(rule, port, protocol)
               and _cilium_peer_matches(rule, p["metadata"]["namespace"], other)
               if p.get("kind") == CILIUM else
               port_matches(rule.get("ports"), port, protocol, named)
               and (not rule.get(peers_key) or any(peer_matches(peer, p["metadata"]["namespace"], other, namespaces)
                                                   for peer in rule[peers_key]))
               for p in found for rule in p["spec"].get(rules_key) or [])


def connects(policies: list[Mapping[str, Any]], source: Pod, target: Peer, port: int,
             namespaces: Mapping[str, Mapping[str, str]], protocol: str = "TCP") -> bool:
    """A connection from a pod: its egress, and, to a pod, that pod's ingress."""
    return allowed(policies, "Egress", source, target, port, namespaces, protocol) and (
        not isinstance(target, Pod) or allowed(policies, "Ingress", target, source, port, namespaces, protocol))
