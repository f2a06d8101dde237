"""Advice, not a refusal: a NetworkPolicy of the program that denies its pods' egress (`policyTypes` with Egress and no
egress rule) in a namespace where another policy of the program admits egress to every pod of the cluster and every
address outside it (the platform's egress guard: `kube.egress_guard`, which AppNamespace, InferenceStack and the
charts' namespaces get). NetworkPolicies add up: a connection is allowed when any policy selecting the pod allows it
(k8s.io/api networking/v1 types.go, NetworkPolicySpec), so the deny blocks nothing the guard admits, everything but
the node's metadata service and wireserver. The program deploys and works; it is only not as closed as its author
meant. The way: AppNamespace's `egress_guard: false` (the team's own policies then decide, with an egress rule to the
cluster DNS), or egress rules of one's own in the deny's place.

Read per cluster and namespace, from the program's `kubernetes:networking.k8s.io/v1:NetworkPolicy` objects whose
inputs are plain (a preview's unknown selector is not judged). A guard that leaves pods out by a `NotIn` expression
(its `exempt` label) does not void a deny selecting only such pods."""
from typing import Any, Mapping, Optional

from .clusters import _cluster_of, _clusters
from .records import Registration
from .shapes import as_dict

POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
_EVERYWHERE = "0.0.0.0/0"


def _denies_egress(spec: Mapping[str, Any]) -> bool:
    types = spec.get("policyTypes")
    return isinstance(types, list) and "Egress" in types and not spec.get("egress")


def _admits_everything(spec: Mapping[str, Any]) -> bool:
    """Egress to every namespace's pods (a peer of an empty namespaceSelector alone) and to every outside address
    (an ipBlock of 0.0.0.0/0, whatever it excepts), on every port."""
    rules = spec.get("egress")
    if not isinstance(rules, list):
        return False
    peers = [(peer, rule) for rule in rules if isinstance(rule, Mapping) and not rule.get("ports")
             for peer in rule.get("to") or [] if isinstance(peer, Mapping)]
    every_pod = any(peer.get("namespaceSelector") == {} and "podSelector" not in peer and "ipBlock" not in peer
                    for peer, _ in peers)
    every_address = any(as_dict(peer.get("ipBlock")).get("cidr") == _EVERYWHERE for peer, _ in peers)
    return every_pod and every_address


def _leaves_out(guard: Mapping[str, Any], deny: Mapping[str, Any]) -> bool:
    """Whether the guard's selector leaves out every pod the deny's selects: a `NotIn` expression of the guard whose
    label the deny's matchLabels sets to an excluded value. Anything else: assumed to overlap."""
    wanted = as_dict(as_dict(deny.get("podSelector")).get("matchLabels"))
    for entry in as_dict(guard.get("podSelector")).get("matchExpressions") or []:
        expression = as_dict(entry)
        key, excluded = expression.get("key"), expression.get("values") or []
        if expression.get("operator") == "NotIn" and isinstance(key, str) and wanted.get(key) in excluded:
            return True
    return False


def voided_egress_denials(resources: list[Registration]) -> list[str]:
    """The advice of the module docstring, one line per deny policy."""
    clusters = _clusters(resources)
    by_namespace: dict[tuple[Any, str], list[Registration]] = {}
    for reg in resources:
        if reg.type != POLICY or reg.unknown_paths:
            continue
        namespace = as_dict(reg.inputs.get("metadata")).get("namespace")
        if isinstance(namespace, str) and isinstance(reg.inputs.get("spec"), Mapping):
            by_namespace.setdefault((_cluster_of(reg, clusters), namespace), []).append(reg)
    advice = []
    for (_, namespace), policies in by_namespace.items():
        guards = [p for p in policies if _admits_everything(p.inputs["spec"])]
        for deny in (p for p in policies if _denies_egress(p.inputs["spec"])):
            guard: Optional[Registration] = next(
                (g for g in guards if not _leaves_out(g.inputs["spec"], deny.inputs["spec"])), None)
            if guard is None:
                continue
            advice.append(
                f"NetworkPolicy {namespace}/{deny.inputs['metadata'].get('name')} ({deny.name}) denies its pods' "
                f"egress, but {namespace}/{guard.inputs['metadata'].get('name')} ({guard.name}) admits egress to "
                "every pod of the cluster and every outside address but the node's metadata service and wireserver, "
                "and NetworkPolicies add up: the deny blocks nothing else. Give that namespace's AppNamespace "
                "`egress_guard: false` (then admit the cluster DNS yourself), or write the egress rules you mean")
    return advice
