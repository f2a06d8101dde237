"""The dependency graph and the schedule: when each create starts and ends, and the critical path."""
from __future__ import annotations

import json
import re
from typing import Any, Optional, Union

from llmplatform.azure_roles import ACR_PULL, KEY_VAULT_SECRETS_USER, READER
from llmplatform.testing.api_server import grants_deployer_admin
from llmplatform.testing.stand_ins import cluster_principals
from llmplatform.write_order import FEDERATION, MANAGED_CLUSTER, ancestors, predecessors

from ..pod_specs import mounted_provider_classes, pod_spec
from ..runner import Plan, Registration
from .model import (CRD_BUNDLES, DeployModel, HELM_RELEASE, Problem, Span, Step, WORKLOADS, Wait, ZERO,
                    load_durations)
from .objects import (annotations_of, cluster_keys, containers_of, kind_of, managed_clusters, metadata_of,
                      objects_by_name)
from .figures import model_share
from .pools import cluster_pools, node_provision_limit, pool_clusters, pools
from .access import deployer_access
from .awaits import (_replicas as replicas, awaits_address, cluster_bind_modes, gateway_load_balancer,
                     release_skips_wait, service_wait, skips_await, wait_of)
from .charts import release_load_balancers
from .engine import DEFAULT_PARALLEL, FinishAt, Timeline, run


def selected_workloads(plan: Plan) -> dict[str, str]:
    """Service URN -> the Deployment/StatefulSet whose pods its selector picks (same cluster and namespace)."""
    workloads = [r for r in plan.kubernetes_objects() if kind_of(r) in ("Deployment", "StatefulSet")]
    where = cluster_keys(plan)
    found = {}
    for svc in plan.kubernetes_objects():
        selector = (svc.inputs.get("spec") or {}).get("selector") if kind_of(svc) == "Service" else None
        if not selector:
            continue
        ns = metadata_of(svc).get("namespace")
        for wl in workloads:
            labels = ((((wl.inputs.get("spec") or {}).get("template") or {}).get("metadata") or {}).get("labels")
                      or {})
            if where.get(wl.urn) == where.get(svc.urn) and metadata_of(wl).get("namespace") == ns \
                    and all(labels.get(k) == v for k, v in selector.items()):
                found[svc.urn] = wl.urn
                break
    return found


def is_step(reg: Registration) -> bool:
    return reg.custom or reg.type in CRD_BUNDLES


def dependencies(plan: Plan) -> dict[str, set[str]]:
    """Each step's direct predecessors: its dependencies (a component's stand for its steps) and its provider."""
    return predecessors(plan.resources, is_step)


IDENTITY = "azure-native:managedidentity:UserAssignedIdentity"


def identity_gates(plan: Plan, data: dict[str, Any]) -> dict[str, list[tuple[str, Span]]]:
    """Workload URN -> (URN, propagation) pairs its pods wait for before their Key Vault volume mounts: a pod
    mounting a SecretProviderClass signs in as the class's workload identity, so it needs the identity's federated
    credential and its Key Vault Secrets User grant to have propagated; Pulumi waits for neither (both creates return
    before). Until then the CSI mount fails and the kubelet retries it with a growing backoff, and the kubelet pulls
    the images only once the volumes are mounted."""
    objects = objects_by_name(plan)
    where = cluster_keys(plan)
    by_urn = {r.urn: r for r in plan.resources}
    federation = Span.of(data["federated_credential_propagation"])
    grant = Span.of(data["role_assignment_propagation"])
    gates: dict[str, list[tuple[str, Span]]] = {}
    for reg in plan.resources:
        if kind_of(reg) not in WORKLOADS or (spec := pod_spec(reg.inputs)) is None:
            continue
        namespace = str(metadata_of(reg).get("namespace") or "")
        identities = set()
        for name in mounted_provider_classes(spec):
            provider_class = objects.get((where.get(reg.urn), "SecretProviderClass", namespace, str(name)))
            if provider_class is not None:
                identities |= {d for d in provider_class.dependencies if d in by_urn and by_urn[d].type == IDENTITY}
        if not identities:
            continue
        gates[reg.urn] = sorted(
            [(r.urn, federation) for r in plan.of_type(FEDERATION) if identities & set(r.dependencies)]
            + [(r.urn, grant) for r in plan.of_type("azure-native:authorization:RoleAssignment")
               if identities & set(r.dependencies)
               and str(r.inputs.get("roleDefinitionId", "")).endswith(KEY_VAULT_SECRETS_USER)],
            key=lambda gate: gate[0])
    return gates


ROLE_ASSIGNMENT = "azure-native:authorization:RoleAssignment"
INTERNAL_LB = "service.beta.kubernetes.io/azure-load-balancer-internal"
_REGISTRY = re.compile(r"/registries/([^/]+)$", re.IGNORECASE)
_GROUP = re.compile(r"/subscriptions/[^/]+/resourceGroups/([^/]+)/?", re.IGNORECASE)
REGISTRY = "azure-native:containerregistry:Registry"


def _role(reg: Registration) -> str:
    return str(reg.inputs.get("roleDefinitionId", "")).rsplit("/", 1)[-1].lower()


def registry_grants(plan: Plan) -> dict[str, tuple[tuple[str, ...], str]]:
    """AcrPull grant URN -> (the login servers of the registries it covers, `<name>.azurecr.io`; the ManagedCluster
    whose nodes it lets pull). A grant on a registry covers that registry; one on a resource group covers the
    registries the plan creates in that group (a role assignment is inherited by every resource under its scope;
    registries the plan does not create are unknown to it). Only a grant to a cluster's kubelet identity counts: the
    kubelet pulls as the identity AKS names in the cluster's `identityProfile.kubeletidentity` (its `objectId` is what
    AksCluster grants AcrPull to); a grant to any other principal (a person, the cluster's own identity, another
    cluster's kubelet) lets no node of this cluster pull."""
    kubelets = {cluster_principals(c)[1]: c.urn for c in plan.of_type(MANAGED_CLUSTER)}
    by_group: dict[str, list[str]] = {}
    for registry in plan.of_type(REGISTRY):
        if registry.inputs.get("registryName"):  # auto-named: its login server is not known before the create
            by_group.setdefault(str(registry.inputs.get("resourceGroupName", "")).lower(), []).append(
                f"{str(registry.inputs['registryName']).lower()}.azurecr.io")
    found: dict[str, tuple[tuple[str, ...], str]] = {}
    for reg in plan.of_type(ROLE_ASSIGNMENT):
        scope = str(reg.inputs.get("scope", ""))
        cluster = kubelets.get(str(reg.inputs.get("principalId")))
        if _role(reg) != ACR_PULL or not cluster:
            continue
        if match := _REGISTRY.search(scope):
            found[reg.urn] = ((f"{match.group(1).lower()}.azurecr.io",), cluster)
        elif (group := _GROUP.fullmatch(scope)) and by_group.get(group.group(1).lower()):
            found[reg.urn] = (tuple(sorted(by_group[group.group(1).lower()])), cluster)
    return found


def cloud_provider_grants(plan: Plan) -> dict[str, list[Registration]]:
    """ManagedCluster URN -> the grants to its own identity (`identity.principalId`), which its cloud provider builds
    load balancers as, but an AcrPull or a Key Vault Secrets User grant (no network right)."""
    principals = {cluster_principals(c)[0]: c.urn for c in plan.of_type(MANAGED_CLUSTER)}
    found: dict[str, list[Registration]] = {}
    for reg in plan.of_type(ROLE_ASSIGNMENT):
        cluster = principals.get(str(reg.inputs.get("principalId")))
        if cluster and _role(reg) not in (ACR_PULL, KEY_VAULT_SECRETS_USER) and not grants_deployer_admin(reg):
            found.setdefault(cluster, []).append(reg)
    return found


def awaits_pods(reg: Registration) -> bool:
    """Whether a workload's create waits for its pods, and so for their volume mounts and image pulls: not with
    skipAwait, nor with 0 replicas (nothing to be ready: `awaits.workload_wait`); a DaemonSet has no count."""
    return not skips_await(reg) and (kind_of(reg) == "DaemonSet" or bool(replicas(reg)))


def _joins_a_subnet(grant: Registration) -> bool:
    """A grant an internal load balancer may need: its frontend joins a subnet, which a write role on the subnet,
    its network or a group above grants; a public IP's grants and a Reader's do not."""
    return _role(grant) != READER and "/publicipaddresses/" not in str(grant.inputs.get("scope", "")).lower()


def _load_balancer(reg: Registration, data: dict[str, Any]) -> Optional[bool]:
    """None when Pulumi awaits no load-balancer address on this object's create, else whether it is internal (a
    release: whether all its chart's LoadBalancer Services are)."""
    if reg.type == HELM_RELEASE:
        if release_skips_wait(reg):
            return None
        balancers = release_load_balancers(reg)
        return all(internal for _, internal in balancers) if balancers else None
    kind = kind_of(reg)
    if not kind or skips_await(reg):
        return None
    spec = reg.inputs.get("spec") or {}
    if kind == "Service" and "load-balancer IP" in service_wait(reg, data).waits_for \
            and not annotations_of(reg).get("pulumi.com/waitFor"):
        annotations = annotations_of(reg)
    elif kind == "Gateway" and awaits_address(str(annotations_of(reg).get("pulumi.com/waitFor") or "")) \
            and gateway_load_balancer(reg):
        annotations = {**((spec.get("infrastructure") or {}).get("annotations") or {}), **annotations_of(reg)}
    elif kind == "Ingress" and not annotations_of(reg).get("pulumi.com/waitFor"):
        annotations = {}
    else:
        return None
    return str(annotations.get(INTERNAL_LB, "")).lower() == "true"


def grant_gates(plan: Plan, data: dict[str, Any]) -> dict[str, list[tuple[str, Span, str]]]:
    """Object URN -> (grant URN, propagation plus the user's retry, who uses it) for the Azure RBAC grants an
    awaited create needs beyond the Key Vault mounts (`identity_gates`); Pulumi waits for no grant's propagation.
    An object or release is on the clusters its provider is made from (`managed_clusters`) and waits for those
    clusters' grants only; one whose provider is made from no cluster of the plan waits for none.

    - AcrPull to the cluster's kubelet identity: a pod (a workload's whose create awaits it, `awaits_pods`; a Helm
      release's with `wait`) whose image is on that registry cannot be pulled until the grant has propagated; the
      kubelet retries with its image back-off (10 s doubling to 300 s);
    - the cluster identity's grants (the node subnet; a public IP and its group): a load balancer Service, an
      Ingress, an Istio Gateway awaited until Programmed, or an awaited Helm release whose chart renders a
      LoadBalancer Service with its values (helm's wait needs its address: `charts`) gets its address only once
      the cloud provider's reconcile stops failing AuthorizationFailed; the service controller retries it with
      5 s doubling to 300 s. An internal load balancer needs the grants that let it join the subnet only (not a
      public IP's, not a Reader's). A Gateway awaited until Accepted needs no address."""
    registries = registry_grants(plan)
    provider_grants = cloud_provider_grants(plan)
    on = managed_clusters(plan)
    propagation = Span.of(data["role_assignment_propagation"])
    pull = propagation + Span.of(data["image_pull_retry"])
    balancer = propagation + Span.of(data["load_balancer_retry"])
    gates: dict[str, list[tuple[str, Span, str]]] = {}
    for reg in plan.resources:
        clusters = on.get(reg.urn, frozenset())
        if not clusters:
            continue
        found: list[tuple[str, Span, str]] = []
        kind = kind_of(reg)
        if kind in WORKLOADS or reg.type == HELM_RELEASE:
            if reg.type == HELM_RELEASE:
                pulls = "" if release_skips_wait(reg) else json.dumps(reg.inputs.get("values") or {})
            else:  # a create that awaits no pod returns before any pull
                spec = pod_spec(reg.inputs) or {}
                pulls = " ".join(str(c.get("image", "")).split("/", 1)[0] for c in containers_of(spec)) \
                    if awaits_pods(reg) else ""
            found += [(urn, pull, "image pull (AcrPull)") for urn, (servers, cluster) in registries.items()
                      if cluster in clusters and not skips_await(reg) and any(
                          re.search(rf'(^|[ "/]){re.escape(server)}($|[ "/:])', pulls) for server in servers)]
        grants = [g for cluster in sorted(clusters) for g in provider_grants.get(cluster, [])]
        internal = _load_balancer(reg, data) if grants else None
        if internal is not None:
            found += [(g.urn, balancer, "load-balancer address (cluster identity)") for g in grants
                      if not internal or _joins_a_subnet(g)]
        if found:
            gates[reg.urn] = sorted(found, key=lambda gate: gate[0])
    return gates


def schedule(plan: Plan, data: Optional[dict[str, Any]] = None, awaited: bool = True,
             parallel: Optional[int] = DEFAULT_PARALLEL) -> DeployModel:
    """The first `pulumi up` as the plan runs it, `parallel` creates at once at most (`engine`; None: no limit); with
    `awaited` False, as if every Kubernetes object and release were done once created (pulumi.com/skipAwait
    everywhere): the floor Azure's operations set. The median and the pessimistic figures are two runs of the
    executor; the pessimistic run lands a pod on the pool the median run found first."""
    data = data or load_durations()
    all_pools, owners, on = pools(plan), pool_clusters(plan), managed_clusters(plan)
    graph = dependencies(plan)
    by_urn = {r.urn: r for r in plan.resources}
    order = {r.urn: i for i, r in enumerate(plan.resources)}
    share, classes, where = model_share(plan, data), cluster_bind_modes(plan), cluster_keys(plan)
    access = deployer_access(plan)

    def wait(reg: Registration) -> Wait:
        """The resource's wait, with its own cluster's pools, autoscaler limit and storage classes."""
        clusters = on.get(reg.urn, frozenset())
        return wait_of(reg, data, cluster_pools(all_pools, owners, clusters), node_provision_limit(plan, clusters),
                       share, classes.get(where.get(reg.urn), {}), access)
    steps = {u: Step(by_urn[u], wait(by_urn[u]) if awaited or not by_urn[u].type.startswith("kubernetes:") else
                     Wait("created (nothing awaited)", Span.of(data["kubernetes"]["object"]), None)) for u in graph}
    before = ancestors(graph)
    retry = Span.of(data["volume_mount_retry"])
    # a create that awaits no pod (skipAwait, 0 replicas) returns before any mount: it waits for no identity
    gates = {urn: [(g, propagation + retry) for g, propagation in found]
             for urn, found in identity_gates(plan, data).items() if awaits_pods(by_urn[urn])} if awaited else {}
    if awaited:
        for urn, found in grant_gates(plan, data).items():
            gates.setdefault(urn, []).extend((g, delay) for g, delay, _ in found)
    follows = {svc: wl for svc, wl in selected_workloads(plan).items()
               if svc in steps and wl in steps and svc not in before.get(wl, ()) and "settled" in
               steps[svc].wait.waits_for}
    landing: dict[str, str] = {}  # the pool the median run lands a step's pods on
    held_by: dict[str, str] = {}  # what last held a step's median end past its start: a pool, a grant, its pods

    def lands(urn: str) -> list[str]:
        wait = steps[urn].wait
        return sorted(wait.pods_on) if wait.node_delay is not None and wait.pods_on else []

    def waits_on(urn: str) -> list[str]:
        return lands(urn) + [g for g, _ in gates.get(urn, ())] + ([follows[urn]] if urn in follows else [])

    def finish_at(which: str) -> FinishAt:
        def at(urn: str, start: float, line: Timeline, now: float) -> Union[tuple[float, float], float, None]:
            step, ends = steps[urn], line.finish
            if any(g not in ends for g, _ in gates.get(urn, ())):
                return None
            pools_ = lands(urn)
            if pools_ and which != "median" and urn in landing:
                pools_ = [landing[urn]]  # the pessimistic run lands its pods where the median run did
            if any(p not in ends for p in pools_):
                # its pods land on the first pool with nodes: once one has ended, one still to come (its end, when
                # it comes, no earlier than now) cannot give nodes sooner, so they do not wait for it (a fallback
                # pool queued behind the create would otherwise hold its worker until its deadline)
                if not any(ends.get(p, now + 1) <= now for p in pools_):
                    return None
                pools_ = [p for p in pools_ if p in ends]
            ready, held = start, None
            if pools_ and step.wait.node_delay is not None:
                delay = getattr(step.wait.node_delay[0], which)
                if which == "median" or urn not in landing:  # the first of the earliest, in sorted order
                    landing[urn] = min(pools_, key=lambda p: max(start, ends[p]) + delay)
                held = landing[urn] if ends[landing[urn]] > start else None
                ready = max(start, ends[landing[urn]]) + delay
            for gate, delay_span in gates.get(urn, ()):  # the grants' propagation and the retry after it
                if ends[gate] + getattr(delay_span, which) > ready:
                    held, ready = gate, ends[gate] + getattr(delay_span, which)
            settled = getattr(step.wait.span, which)
            if urn in follows:
                # service.go: endpoints settle only when no selected pod is unready; a pod counts once it is
                # scheduled (it has an IP): pending pods (no node yet), or none yet, let the Service finish once
                # settled; pods scheduled by then hold it until they are ready.
                wl, settles = follows[urn], start + settled
                known = (line.nodes_ready[wl], ends.get(wl)) if wl in line.nodes_ready else None
                if known is None and wl in line.start:  # its pods' end, as told at this instant (in any order)
                    told = at(wl, line.start[wl], line, now)
                    known = told if isinstance(told, tuple) else None
                if known is not None and known[0] <= settles:
                    if known[1] is None:
                        return None
                    held = wl if known[1] > ready + settled else held
                    return ended(urn, held, ready, max(ready + settled, known[1]))
                if known is None and now < settles:
                    return settles
            return ended(urn, held, ready, ready + settled)

        def ended(urn: str, held: Optional[str], ready: float, finish: float) -> tuple[float, float]:
            """The step's end, and in the median run what held it (its critical-path link)."""
            if which == "median":
                held_by.pop(urn, None)
                if held:
                    held_by[urn] = held
            return ready, finish
        return at

    def deadline(urn: str) -> Optional[float]:
        return steps[urn].wait.timeout

    median, pessimistic = (run(graph, order, parallel, waits_on, finish_at(which), deadline)
                           for which in ("median", "pessimistic"))
    for urn, step in steps.items():
        step.start = Span(median.start[urn], pessimistic.start[urn])
        step.nodes_ready = Span(median.nodes_ready[urn], pessimistic.nodes_ready[urn])
        step.finish = Span(median.finish[urn], pessimistic.finish[urn])
        if urn in follows:
            step.wait.waits_for += f" (pods of {by_urn[follows[urn]].name})"
    for urn, step in steps.items():
        step.after = _gate(urn, steps, graph, median, held_by)
    stalled = {**pessimistic.stalls, **median.stalls}
    problems = [Problem("parallel", by_urn[urn].name, _stall(
        steps[urn], [by_urn[w].name for w in waited], parallel, urn in median.stalls)) for urn, waited in
        sorted(stalled.items(), key=lambda item: order[item[0]])]
    path: list[str] = []
    if steps:
        current: Optional[str] = max(sorted(steps), key=lambda u: steps[u].finish.median)
        while current is not None and current not in path:
            path.append(current)
            steps[current].critical = True
            current = steps[current].after
    path.reverse()
    return DeployModel(steps=steps, critical_path=path, problems=problems, parallel=parallel,
                       queued={by_urn[u].name: t for u, t in median.queued.items()})


def _gate(urn: str, steps: dict[str, Step], graph: dict[str, set[str]], median: Timeline,
          held_by: dict[str, str]) -> Optional[str]:
    """What the step's median end waited for last: its latest dependency, the step whose end freed it a worker, or
    what held it once started (`held_by`: the pool its pods landed on, a grant's propagation, the pods its Service
    waited for): the critical path's links."""
    gate, start = None, ZERO
    for dep in sorted(graph[urn]):  # sets iterate in hash order: sorted keeps ties (and so the plan) stable
        f = steps[dep].finish
        if f.median > start.median or (gate is None and f.pessimistic > start.pessimistic):
            gate = dep
        start = Span(max(start.median, f.median), max(start.pessimistic, f.pessimistic))
    if steps[urn].start.median > start.median and urn in median.freed_by:
        gate = median.freed_by[urn]
    if urn in median.stalls:  # its deadline ended it, not what it waited for
        return gate
    return held_by.get(urn, gate)


def _stall(step: Step, waited: list[str], parallel: Optional[int], median: bool) -> str:
    held = "the only worker" if parallel == 1 else f"one of the {parallel} workers"
    return (f"its create holds {held} of `pulumi up --parallel {parallel}` while "
            f"{', '.join(waited)}, which it waits for ({step.wait.waits_for}), is queued behind it, so its deadline "
            f"({(step.wait.timeout or 0) / 60:.0f} min) fails it ({'median' if median else 'pessimistic'} figures); "
            "fix: make what it waits for a dependency (depends_on) so it is created first, or run `pulumi up` with "
            "a larger --parallel (PULUMI_PARALLEL)")
