"""The other end of the deploy model: what `pulumi destroy` (or an update that deletes) does with the recorded plan.

The engine's delete order (pulumi/pulumi at 1b5949891b3cefcb9974752b24a5ecef0acc86c8): `ScheduleDeletes` in
pkg/resource/deploy/step_generator.go cuts the condemned resources into antichains by peeling, round after round,
those with no condemned dependency left, and reverses the rounds; deployment_executor.go runs one antichain at a time,
its deletes in parallel. A resource's dependencies there are its parent, its `dependencies` (a component among them
also brings its children registered before it), its provider and its `deletedWith` (pkg/resource/graph/
dependency_graph.go `DependenciesOf`, pkg/resource/state.go `GetAllDependencies`). So a resource is deleted in round
`height` (its longest chain of such dependencies), the highest first; two of one height at the same time.

A protected resource's delete fails (step.go `DeleteStep.Apply`: deleteProtectedError, checked before `DryRun`, so in
a preview too), the executor goes on past it (step_executor.go `cancelDueToError` treats deleteProtectedError as
continue-on-error) and skips only what the failed ones depend on (deployment_executor.go: `TransitiveDependenciesOf`
each errored step). `pulumi destroy` previews first (pkg/backend/apply.go `PreviewThenPromptThenExecute`): that
preview fails on the protected deletes and nothing is deleted; only with `--skip-preview` is everything else deleted
before the destroy fails; `--exclude-protected` leaves the protected and what they depend on out
(pkg/cmd/pulumi/operations/destroy.go `getProtectedExcludes`) and deletes the rest without an error.

The checks, each a delete that needs another resource still there, or already gone (`teardown` problems):
- a PersistentVolumeClaim deleted before a workload mounting it, a PersistentVolume before its claim: Kubernetes keeps
  an object in use (`kubernetes.io/pvc-protection`, `kubernetes.io/pv-protection`) and pulumi-kubernetes waits for it
  to go (provider/pkg/await/await.go `Deletion`, 10 minutes) while nothing deletes its user: the destroy fails;
- a public IP a LoadBalancer Service (a Gateway's, which Istio renders) names with azure-pip-name, or a grant on it,
  deleted before what waits for that Service to go (its Namespace; a Service object itself): Azure refuses to delete
  an IP a load balancer still uses (PublicIPAddressInUse), and without the grant the cloud provider cannot release it;
- an AKS agent pool deleted before the PodDisruptionBudgets and releases of its cluster: AKS drains a deleted pool's
  nodes honouring PDBs (AgentPools_Delete `ignore-pod-disruption-budget`, false by default; azure-native sends none).
"""
from __future__ import annotations

from collections import Counter
from typing import Any, Optional

from llmplatform.write_order import AGENT_POOL

from ..pod_specs import pod_spec
from ..runner import Plan, Registration
from .model import HELM_RELEASE, Problem
from .objects import annotations_of, cluster_keys, kind_of, label_of, managed_clusters, metadata_of
from .pools import pool_clusters

PIP_NAME = "service.beta.kubernetes.io/azure-pip-name"
PIP_GROUP = "service.beta.kubernetes.io/azure-load-balancer-resource-group"
PUBLIC_IP = "azure-native:network:PublicIPAddress"
ROLE_ASSIGNMENT = "azure-native:authorization:RoleAssignment"


def delete_graph(plan: Plan) -> dict[str, set[str]]:
    """URN -> what the engine deletes only after it (`DependenciesOf`)."""
    index = {r.urn: i for i, r in enumerate(plan.resources)}
    children: dict[str, list[str]] = {}
    for reg in plan.resources:
        children.setdefault(reg.parent, []).append(reg.urn)

    def descendants(urn: str) -> list[str]:
        found = []
        for child in children.get(urn, []):
            found += [child, *descendants(child)]
        return found

    deps: dict[str, set[str]] = {}
    for i, reg in enumerate(plan.resources):
        ref = reg.options.get("provider")  # `urn::id`; a default provider's by its URN
        named = {*reg.dependencies, str(ref).rsplit("::", 1)[0] if ref else plan.default_provider_of.get(reg.urn, "")}
        for dep in list(named):  # a component named brings its children registered before this one (not a parent)
            if dep in index and not plan.resources[index[dep]].custom:
                named |= {c for c in descendants(dep) if index[c] < i}
        deps[reg.urn] = {d for d in (*named, reg.parent, reg.options.get("deletedWith")) if d and d != reg.urn}
    return deps


def delete_heights(plan: Plan, deps: Optional[dict[str, set[str]]] = None) -> dict[str, int]:
    """URN -> the engine's delete round for a full destroy: the higher deleted first, equal ones at once. A URN the
    plan does not hold (the Stack, a default provider) counts as a dependency of height 0."""
    deps = delete_graph(plan) if deps is None else deps
    memo: dict[str, int] = {}

    def height(urn: str) -> int:
        if urn not in deps:
            return 0
        if urn not in memo:
            memo[urn] = 0  # (a cycle cannot be registered; this only guards the walk)
            memo[urn] = 1 + max((height(d) for d in deps[urn]), default=-1)
        return memo[urn]
    return {r.urn: height(r.urn) for r in plan.resources}


def kept_by_protect(plan: Plan) -> tuple[list[Registration], list[Registration]]:
    """(protected, kept although unprotected): what `pulumi destroy --skip-preview` (or `--exclude-protected`) leaves
    while `protect` stands (a protected component's delete is refused too: its state has `Protect`). Everything else
    it deletes, before it reports the protected ones."""
    deps = delete_graph(plan)
    protected = [r for r in plan.resources if r.options.get("protect")]
    kept: set[str] = set()
    pending = [d for r in protected for d in deps[r.urn]]
    while pending:
        urn = pending.pop()
        if urn in deps and urn not in kept:
            kept.add(urn)
            pending += deps[urn]
    return protected, [r for r in plan.resources if r.urn in kept and r.custom and not r.options.get("protect")]


def destroyed(plan: Plan, skip_preview: bool = False) -> list[Registration]:
    """The custom resources a `pulumi destroy` of the whole plan deletes: none while protect stands unless the preview
    is skipped (its protected deletes fail the preview, and `PreviewThenPromptThenExecute` stops there), else all but
    the protected and what they need."""
    return _destroyed(plan, *kept_by_protect(plan), skip_preview)


def _destroyed(plan: Plan, protected: list[Registration], kept: list[Registration],
               skip_preview: bool) -> list[Registration]:
    if protected and not skip_preview:
        return []
    spared = {r.urn for r in protected + kept}
    return [r for r in plan.resources if r.custom and r.urn not in spared]


def protect_line(plan: Plan) -> Optional[str]:
    """What `make plan` says of a destroy while protect stands (None when nothing is protected). Kinds of equal count
    and the kept names are sorted: the order of registrations (the program's awaits) must not change the line."""
    protected, kept = kept_by_protect(plan)
    if not protected:
        return None
    deleted = Counter("Kubernetes object or release" if r.type.startswith("kubernetes:") else _short(r)
                      for r in _destroyed(plan, protected, kept, skip_preview=True))
    return (f"pulumi destroy while protect stands: its preview fails on the {len(protected)} protected and deletes "
            f"nothing; with --skip-preview it deletes {sum(deleted.values())} resources first "
            f"({', '.join(f'{n} {kind}' for kind, n in sorted(deleted.items(), key=lambda kn: (-kn[1], kn[0])))}), "
            f"then fails on them (--exclude-protected: the same, no error), keeping what they need: "
            f"{', '.join(sorted(r.name for r in kept)) or 'nothing'}")


def _when(height: dict[str, int], first: Registration, then: Registration) -> str:
    return "with" if height[first.urn] == height[then.urn] else "before"


def _short(reg: Registration) -> str:
    return "provider" if reg.type.startswith("pulumi:providers:") else reg.type.rsplit(":", 1)[-1]


def _pods(reg: Registration) -> dict[str, Any]:
    return pod_spec(reg.inputs) or {} if kind_of(reg) in ("Deployment", "StatefulSet", "DaemonSet", "Job", "Pod") \
        else {}


def check_claims_in_use(plan: Plan, height: dict[str, int]) -> list[Problem]:
    where = cluster_keys(plan)
    claims, volumes = {}, {}
    for reg in plan.kubernetes_objects():
        meta = metadata_of(reg)
        if kind_of(reg) == "PersistentVolumeClaim":
            claims[(where.get(reg.urn), str(meta.get("namespace") or ""), str(meta.get("name")))] = reg
        elif kind_of(reg) == "PersistentVolume":
            volumes[(where.get(reg.urn), str(meta.get("name")))] = reg
    problems = []
    for reg in plan.kubernetes_objects():
        ns = str(metadata_of(reg).get("namespace") or "")
        for v in _pods(reg).get("volumes") or []:
            claim = claims.get((where.get(reg.urn), ns, str((v.get("persistentVolumeClaim") or {}).get("claimName"))))
            if claim is not None and height[claim.urn] > height[reg.urn]:
                problems.append(Problem("teardown", label_of(claim), f"is deleted before {label_of(reg)}, whose pods "
                                        "mount it: Kubernetes keeps a claim in use (kubernetes.io/pvc-protection) and "
                                        "pulumi-kubernetes waits 10 min for it to go while nothing deletes the pods: "
                                        "the destroy fails; fix: make the workload depend on the claim"))
        volume = volumes.get((where.get(reg.urn), str((reg.inputs.get("spec") or {}).get("volumeName"))))
        if kind_of(reg) == "PersistentVolumeClaim" and volume is not None and height[volume.urn] > height[reg.urn]:
            problems.append(Problem("teardown", label_of(volume), f"is deleted before {label_of(reg)}, bound to it: "
                                    "Kubernetes keeps a bound volume (kubernetes.io/pv-protection) and the delete "
                                    "waits 10 min, then fails; fix: make the claim depend on the volume"))
    return problems


def check_load_balancer_ips(plan: Plan, height: dict[str, int]) -> list[Problem]:
    """A public IP named by a Service's (or a Gateway's infrastructure) azure-pip-name annotation, and the grants on
    it, go only after what waits for that Service to go: its Namespace when the plan creates it (pulumi-kubernetes
    awaits a Namespace until it is gone, its content with it), else the Service object itself. A Gateway's Service is
    Istio's (manifests/charts/istio-control/istio-discovery/files/kube-gateway.yaml, istio/istio 86c9f01f: owned by
    the Gateway with no blockOwnerDeletion), so the Gateway's foreground delete does not wait for it; the Service
    keeps its `service.kubernetes.io/load-balancer-cleanup` finalizer until the cloud provider has taken the IP off
    the load balancer, which needs the cluster identity's grant on the IP."""
    where = cluster_keys(plan)
    namespaces = {(where.get(r.urn), str(metadata_of(r).get("name"))): r for r in plan.kubernetes_objects()
                  if kind_of(r) == "Namespace"}
    ips = {(str(r.inputs.get("resourceGroupName", "")).lower(), str(r.inputs.get("publicIpAddressName", ""))): r
           for r in plan.of_type(PUBLIC_IP)}
    problems = []
    for reg in plan.kubernetes_objects():
        kind = kind_of(reg)
        if kind == "Gateway":
            notes = ((reg.inputs.get("spec") or {}).get("infrastructure") or {}).get("annotations") or {}
        elif kind == "Service" and (reg.inputs.get("spec") or {}).get("type") == "LoadBalancer":
            notes = annotations_of(reg)
        else:
            continue
        ip = ips.get((str(notes.get(PIP_GROUP, "")).lower(), str(notes.get(PIP_NAME, ""))))
        if ip is None:
            continue
        ns = str(metadata_of(reg).get("namespace") or "")
        holder = namespaces.get((where.get(reg.urn), ns)) or (reg if kind == "Service" else None)
        grants = [g for g in plan.of_type(ROLE_ASSIGNMENT) if ip.urn in g.dependencies]
        for needed in (ip, *grants):
            if holder is None:
                problems.append(Problem("teardown", label_of(reg), f"puts {ip.name} on the load balancer of a Service "
                                        f"Istio makes in namespace {ns}, which the plan does not create: nothing "
                                        f"waits for that Service to go before {needed.name} is deleted "
                                        "(PublicIPAddressInUse); fix: create the namespace in the plan"))
                break
            if height[needed.urn] >= height[holder.urn]:
                problems.append(Problem("teardown", needed.name, f"is deleted {_when(height, needed, holder)} "
                                        f"{label_of(holder)}, whose delete waits for the LoadBalancer Service using "
                                        f"{ip.name}: Azure refuses to delete an IP in use (PublicIPAddressInUse), and "
                                        "without its grants the cloud provider cannot release it; fix: make "
                                        f"{label_of(holder)} depend on {needed.name}"))
    return problems


def check_pool_drains(plan: Plan, height: dict[str, int]) -> list[Problem]:
    """Every PodDisruptionBudget object and Helm release (a chart's PDBs) of a cluster goes before its agent pools."""
    owners, made_from = pool_clusters(plan), managed_clusters(plan)
    problems = []
    for pool in plan.of_type(AGENT_POOL):
        for reg in plan.resources:
            if not (kind_of(reg) == "PodDisruptionBudget" or reg.type == HELM_RELEASE):
                continue
            clusters = made_from.get(reg.urn, frozenset())
            if clusters and not clusters & owners.get(pool.urn, frozenset()):
                continue
            if height[reg.urn] <= height[pool.urn]:
                problems.append(Problem("teardown", pool.name, f"is deleted {_when(height, pool, reg)} "
                                        f"{label_of(reg)}: AKS drains a deleted pool's nodes honouring "
                                        "PodDisruptionBudgets (AgentPools_Delete ignore-pod-disruption-budget is "
                                        "false), so a budget that allows no eviction fails the delete; fix: make "
                                        f"{label_of(reg)} depend on the pool"))
    return problems


def check_teardown(plan: Plan) -> list[Problem]:
    height = delete_heights(plan)
    return check_claims_in_use(plan, height) + check_load_balancer_ips(plan, height) + check_pool_drains(plan, height)
