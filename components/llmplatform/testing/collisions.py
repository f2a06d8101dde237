"""What the real engine and the APIs refuse that the SDK's mocks accept: two resources with one URN, one Azure or
Kubernetes name claimed twice, a component split across two clusters, a cluster's pods given another cluster's
volume claim or vault, two autoscalers on one Deployment, Azure inputs azure-native or Azure would
refuse or drop, two writes Azure takes one at a time, subnet ranges Azure refuses."""
from typing import Optional

from pulumi.runtime import rpc

from .. import azure_inputs, subnet_ranges, write_order
from ..rules import go_duration_seconds
from ..kubernetes_schemas import CLUSTER_SCOPED, group_of
from .clusters import _cluster_of, _clusters
from .autoscalers import two_autoscalers
from .reachability import RULE as REACHABILITY, unreachable_services
from .cross_cluster import (claims_of_other_clusters, gateways_of_other_clusters, pools_of_other_clusters,
                            vaults_closed_to_their_readers)
from .records import HELM_RELEASE, Registration, components_above
from .routes import _shadowed_routes, _unrouted_interceptor_hosts
from .stand_ins import _GLOBAL_NAMES, _NAME_INPUTS


def _subscriptions(resources: list[Registration]) -> dict[str, str]:
    """azure-native provider URN -> the subscription it names (its subscriptionId input), for the providers that
    name one; any other reaches the subscription of the environment (az login, ARM_SUBSCRIPTION_ID), as the default
    provider does."""
    return {reg.urn: reg.inputs["subscriptionId"].lower() for reg in resources
            if reg.type == "pulumi:providers:azure-native" and isinstance(reg.inputs.get("subscriptionId"), str)}


def _subscription_of(reg: Registration, subscriptions: dict[str, str]) -> str:
    """The subscription an Azure resource is created in: its provider's, '' for the environment's."""
    provider = reg.options.get("provider")
    return subscriptions.get(provider.rsplit("::", 1)[0], "") if isinstance(provider, str) else ""


def _azure_identity(reg: Registration, subscriptions: Optional[dict[str, str]] = None) -> Optional[tuple]:
    """What Azure keys a resource by: its type and every name along its path (resource group, vault, secret...)
    within its subscription (one group name in two subscriptions is two groups; a name unique in the cloud, a
    vault's or a storage account's, is one in every subscription). Auto-named resources have none; a role
    assignment is keyed by principal, role and scope."""
    kind = reg.type.split(":")[-1]
    if kind == "RoleAssignment":  # ARM ids and GUIDs compare without case: `/resourcegroups/` is `/resourceGroups/`
        return (reg.type, *(_caseless(reg.inputs.get(k)) for k in ("principalId", "roleDefinitionId", "scope")))
    # Azure resource names are case-insensitive; a name that is a DNS name is unique in the cloud, not in its group
    keys = _NAME_INPUTS + (("name",) if kind == "DiagnosticSetting" else ())  # its own name input is `name`
    names = tuple((k, reg.inputs[k].lower()) for k in keys if isinstance(reg.inputs.get(k), str)
                  and not (k == "resourceGroupName" and reg.type in _GLOBAL_NAMES))
    # a resource group's own name is resourceGroupName; every other resource's is a name beside it. Without its own
    # name a resource is auto-named (the logical name and a random suffix): no two collide
    if not any(k != "resourceGroupName" or kind == "ResourceGroup" for k, _ in names):
        return None
    # an extension resource (an association, a diagnostic setting) is named within the resource it extends
    scope = (("resourceUri", _caseless(reg.inputs["resourceUri"])),) if "resourceUri" in reg.inputs else ()
    subscription = _subscription_of(reg, subscriptions or {}) if reg.type not in _GLOBAL_NAMES else ""
    return (reg.type, names + scope + ((("subscription", subscription),) if subscription else ()))


def _caseless(value: object) -> object:
    return value.lower() if isinstance(value, str) else value


def _inline_pools(reg: Registration) -> list[tuple[tuple, str]]:
    """The agent pools a ManagedCluster declares inline (`agentPoolProfiles`: AksCluster's system pool), each keyed
    as an AgentPool of that cluster is: an AgentPool resource of the same name is the same pool (its PUT rewrites
    the inline pool, and the cluster's next update rewrites it back), so the two claim one name."""
    if reg.type != "azure-native:containerservice:ManagedCluster":
        return []
    cluster, group = reg.inputs.get("resourceName"), reg.inputs.get("resourceGroupName")
    if not isinstance(cluster, str) or not isinstance(group, str):
        return []
    return [(("azure-native:containerservice:AgentPool",
              (("agentPoolName", profile["name"].lower()), ("resourceName", cluster.lower()),
               ("resourceGroupName", group.lower()))),
             f"{reg.name} (its inline pool {profile['name']!r})")
            for profile in reg.inputs.get("agentPoolProfiles") or []
            if isinstance(profile, dict) and isinstance(profile.get("name"), str)]


def _two_clusters_in_one_component(resources: list[Registration], clusters: dict[str, str]) -> list[str]:
    """A component whose Azure resources are built for one cluster (its cluster handle: an AgentPool joins it, a
    resource takes an input from it, as a federated credential its OIDC issuer) and whose Kubernetes objects go to
    another (the provider in its opts): in a loop over two clusters, A's handle with B's provider put the GPU pools
    on A and the device plugin on B, where no GPU node ever comes, and a workload identity trusted A's issuer for
    pods on B. Known only where the provider's kubeconfig is one a cluster of this program hands out (the mocks name
    its server after the cluster), and for components with such an Azure resource (GatewayAccess: its IP's role
    assignments; Observability given `monitoring`: its rule associations. Not ModelStore, OllamaServer, nor
    Observability without `monitoring`: nothing of theirs in Azure is built from the cluster resource itself)."""
    by_urn = {reg.urn: reg for reg in resources}
    managed = {reg.urn: str(reg.inputs.get("resourceName")) for reg in resources
               if reg.type == "azure-native:containerservice:ManagedCluster"}
    names = set(managed.values())

    def owner(reg: Registration) -> Optional[Registration]:
        parent = by_urn.get(reg.parent)
        while parent is not None and not parent.type.startswith("llmplatform:"):
            parent = by_urn.get(parent.parent)
        return parent
    pools: dict[str, set[str]] = {}
    reached: dict[str, set[str]] = {}
    for reg in resources:
        component = owner(reg)
        if component is None:
            continue
        if reg.type == "azure-native:containerservice:AgentPool" and str(reg.inputs.get("resourceName")) in names:
            pools.setdefault(component.urn, set()).add(str(reg.inputs["resourceName"]))
        elif reg.type.startswith("azure-native:"):  # built from the cluster: a federated credential's issuer, ...
            built_from = {managed[d] for d in reg.dependencies if d in managed}
            if built_from:
                pools.setdefault(component.urn, set()).update(built_from)
        server = _cluster_of(reg, clusters) if reg.type.startswith("kubernetes:") else None
        cluster = server.split("//", 1)[-1].split(".hcp.", 1)[0] if isinstance(server, str) else None
        if cluster in names:
            reached.setdefault(component.urn, set()).add(cluster)
    return [f"{by_urn[urn].name} ({by_urn[urn].type.rsplit(':', 1)[-1]}) builds its Azure resources for cluster "
            f"{', '.join(sorted(joined))} (its cluster handle: node pools, a workload identity's issuer) but sends its "
            f"Kubernetes objects to cluster {', '.join(sorted(reached[urn]))} (its provider): give it one cluster's "
            f"handle and that cluster's provider"
            for urn, joined in pools.items() if reached.get(urn) and reached[urn] != joined]


def _kubernetes_identity(reg: Registration, clusters: Optional[dict[str, str]] = None) -> Optional[tuple]:
    """What a cluster keys an object by: cluster (its provider's API server, else the provider), API group, kind,
    namespace (none for a cluster-scoped kind, whatever the object was given: `CLUSTER_SCOPED`) and name."""
    provider = _cluster_of(reg, clusters or {})
    if reg.type == HELM_RELEASE:
        return ("helm release", provider, reg.inputs.get("namespace"), reg.inputs.get("name"))
    if not reg.is_kubernetes_object:
        return None
    meta = reg.inputs.get("metadata") or {}
    if not meta.get("name"):
        return None
    group = group_of(str(reg.inputs["apiVersion"]))
    kind = reg.inputs.get("kind")
    namespace = "" if (group, kind) in CLUSTER_SCOPED else meta.get("namespace") or ""
    return (provider, group, kind, namespace, meta["name"])


def _describe(identity: tuple) -> str:
    parts: list[str] = []
    for part in identity:
        if isinstance(part, tuple):
            parts.extend(f"{k}={v}" for k, v in part)
        elif part:
            parts.append(str(part).split("::")[-2] if str(part).startswith("urn:") else str(part))
    return " ".join(parts)


def _outermost_component(reg: Registration, by_urn: dict[str, Registration]) -> Optional[Registration]:
    """The package's outermost component `reg` belongs to (InferenceStack, not its OllamaServer part), if any."""
    return next(reversed(components_above(reg, by_urn)), None)


def _one_per_namespace(resources: list[Registration], twice: list[tuple[Registration, Registration]]) -> list[str]:
    """One line of advice for each two components of one kind whose Kubernetes objects collide in a namespace: such a
    component names its objects the same way in every namespace (ollama, router, ...), so it runs once per
    namespace of a cluster; without this line, the reader gets one collision per object and no reason."""
    by_urn = {r.urn: r for r in resources}
    pairs: dict[tuple[str, str, str, str], list[str]] = {}
    for first, second in twice:
        a, b = _outermost_component(first, by_urn), _outermost_component(second, by_urn)
        namespace = (second.inputs.get("metadata") or {}).get("namespace") if second.is_kubernetes_object else \
            second.inputs.get("namespace")
        if a is None or b is None or a.urn == b.urn or a.type != b.type or not namespace:
            continue
        kind = a.type.rsplit(":", 1)[-1]
        one, other = sorted((a.name, b.name))
        names = pairs.setdefault((kind, one, other, str(namespace)), [])
        name = (second.inputs.get("metadata") or {}).get("name") or second.inputs.get("name")
        if name and name not in names:
            names.append(str(name))
    return [_one_per_namespace_line(kind, a, b, namespace, names) for (kind, a, b, namespace), names in pairs.items()]


# Components whose namespaces are fixed (monitoring and keda; istio-system): a second one on a cluster cannot move
# elsewhere, so the advice is one per cluster, not a namespace of its own.
_FIXED_NAMESPACES = ("Observability", "GatewayAccess")


# How a component of each kind is given a namespace of its own.
_NAMESPACE_HOW = {"InferenceStack": " (for an InferenceStack: the model volume of a ModelStore of its own namespace)",
                  "OllamaServer": " (the model volume of a ModelStore of its own namespace)",
                  "LlmdStack": " (its namespace input)"}


def _plural(kind: str) -> str:
    return kind[:-1] + "ies" if kind.endswith("y") else kind + "es" if kind.endswith("s") else kind + "s"


def _one_per_namespace_line(kind: str, a: str, b: str, namespace: str, names: list[str]) -> str:
    article = "an" if kind[0] in "AEIOU" else "a"
    listed = f"({', '.join(sorted(names)[:6])}{', ...' if len(names) > 6 else ''})"
    if kind in _FIXED_NAMESPACES:
        return (f"one {kind} per cluster: {_plural(kind)} {a!r} and {b!r} both put their objects in namespace "
                f"{namespace!r} of one cluster, which every {kind} uses, naming its objects the same way {listed}; "
                f"build one {kind} per cluster and hand its outputs to every component that needs them")
    return (f"one {kind} per namespace: {_plural(kind)} {a!r} and {b!r} both put their objects in namespace "
            f"{namespace!r} of one cluster, where {article} {kind} names them the same way {listed}; give each its "
            f"own namespace{_NAMESPACE_HOW.get(kind, '')}")


def _unparsed_timeouts(reg: Registration) -> list[str]:
    """customTimeouts the engine cannot read: it parses each given one with Go's time.ParseDuration and fails the
    registration with "unable to parse customTimeout Value <value>" (pulumi/pulumi 1b5949891b
    pkg/resource/deploy/source_eval.go `generateTimeoutInSeconds`); the SDK sends any text."""
    timeouts = (reg.options or {}).get("customTimeouts") or {}
    return [f"{reg.name} ({reg.type}): customTimeouts.{kind} {value!r} is no duration the engine reads (it fails the "
            f"registration: unable to parse customTimeout Value {value}); give a Go duration like '30m', '1h30m' or "
            f"'90s'" for kind, value in sorted(timeouts.items()) if value and go_duration_seconds(value) is None]


# the rules `run(..., unjudged=...)` may leave out: those that read the program alone where objects outside it (a
# policy applied by hand or by another stack) may decide; what no object outside changes (reachability's port
# refusal) they keep
UNJUDGEABLE = (REACHABILITY,)


def refusals(resources: list[Registration], preview: bool = False, unjudged: frozenset[str] = frozenset()) -> list[str]:
    """Registrations the Pulumi engine (duplicate URNs) or Azure/Kubernetes (one name, two owners) would refuse,
    which the SDK's mocks accept silently; Azure inputs that azure-native or Azure would refuse or drop (a value of
    the wrong type, outside a closed enum, a key the type does not have: llmplatform.azure_inputs); custom timeouts
    the engine cannot parse (`_unparsed_timeouts`); two writes Azure takes one at a time that the program leaves free
    to run at once (llmplatform.write_order); and subnet ranges outside their network or overlapping another
    (llmplatform.subnet_ranges).

    `preview`: where an input is unknown until what it comes from is created. Each URN once and the Azure inputs
    (an unknown value left unchecked, as azure-native's Check leaves it) of every registration; the rest (names two
    resources claim, routes, the order of writes, subnet ranges) of the registrations whose inputs are all known
    (the others are judged by the run that answers as `pulumi up`). `unjudged`: rules left out (UNJUDGEABLE)."""
    problems: list[str] = []
    judged = [reg for reg in resources if not rpc.contains_unknowns(reg.inputs)] if preview else resources
    judged_ids = {id(reg) for reg in judged}
    clusters = _clusters(judged)
    subscriptions = _subscriptions(resources)
    seen_urns: set[str] = set()
    seen_names: dict[tuple, str] = {}
    seen_regs: dict[tuple, Registration] = {}
    twice: list[tuple[Registration, Registration]] = []
    doubled: set[str] = set()  # URNs registered twice: the order of their writes is no separate finding
    for reg in resources:
        if reg.urn in seen_urns:
            problems.append(f"duplicate URN {reg.urn}")
            doubled.add(reg.urn)
        seen_urns.add(reg.urn)
        if reg.type.startswith("azure-native:"):
            problems.extend(f"{reg.name} ({reg.type}): {finding}"
                            for finding in azure_inputs.findings(reg.type, reg.inputs) if finding.refused)
        problems.extend(_unparsed_timeouts(reg))
        if id(reg) not in judged_ids:
            continue
        for pool, inline in _inline_pools(reg):  # a cluster's inline pools are agent pools of that cluster too
            if pool in seen_names:
                problems.append(f"{seen_names[pool]} and {inline} are one object: {_describe(pool)}")
            else:
                seen_names[pool] = inline
                seen_regs[pool] = reg
        identity = _azure_identity(reg, subscriptions) if reg.type.startswith("azure-native:") \
            else _kubernetes_identity(reg, clusters)
        if identity is None:
            continue
        if identity in seen_names:
            problems.append(f"{seen_names[identity]} and {reg.name} are one object: {_describe(identity)}")
            twice.append((seen_regs[identity], reg))
        else:
            seen_names[identity] = reg.name
            seen_regs[identity] = reg
    problems[:0] = _one_per_namespace(judged, twice)  # the advice first, each object it explains below
    problems.extend(_shadowed_routes(judged, clusters))
    problems.extend(_unrouted_interceptor_hosts(judged, clusters))
    problems.extend(_two_clusters_in_one_component(judged, clusters))
    problems.extend(claims_of_other_clusters(judged, clusters))
    problems.extend(vaults_closed_to_their_readers(judged, clusters))
    problems.extend(gateways_of_other_clusters(judged, clusters))
    problems.extend(pools_of_other_clusters(judged, clusters))
    problems.extend(two_autoscalers(judged, clusters))
    problems.extend(unreachable_services(judged, clusters, port_only=REACHABILITY in unjudged))
    doubled.update(reg.urn for pair in twice for reg in pair)
    problems.extend(f"{c.resource} {c.message} [{c.rule}]" for c in write_order.conflicts(judged)
                    if not doubled & set(c.between))  # one name twice: renaming it is the fix, not dependsOn
    problems.extend(subnet_ranges.refusals(judged))
    return problems

