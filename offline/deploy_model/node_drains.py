"""Node drains against the pods' graces: a pod that may stop slower than its node's drain waits cuts the answer it
streams, or fails the upgrade.

- An upgrade (a Kubernetes version, a node image, a Fleet run) drains a regular pool's nodes one by one and waits
  `upgradeSettings.drainTimeoutInMinutes` per node (default 30) "on eviction of pods and graceful termination ... If
  this time is exceeded, the upgrade fails" (Azure/azure-rest-api-specs, Microsoft.ContainerService 2025-09-01
  `AgentPoolUpgradeSettings`). A spot pool is not drained ("a cordon and an eviction notice, but no drain":
  llmplatform.upgrades), so it is not checked here.
- A scale-down evicts with each pod's grace cut to the autoscaler profile's `max-graceful-termination-sec` (default
  600), every autoscaled pool, spot included (kubernetes/autoscaler cluster-autoscaler core/scaledown/actuation/
  drain.go `evictPod`: `if maxTermination > 0 && termination > maxTermination { termination = maxTermination }`).

An upgrade's drain evicts every pod of the node at once and retries those a budget refuses; under the budgets'
maxUnavailable 1 the next replica of one workload goes only once the previous one's replacement is Ready elsewhere,
so a node holding n replicas takes (n - 1) x a replacement's time to Ready + the grace (llmplatform.upgrades
`node_drain_seconds`, the formula the components' rules and the stack's default use). n is the most replicas of the
workload (its HPA's or ScaledObject's maximum, KEDA's 100 where a ScaledObject gives none, else its
replicas), no more than the nodes an upgrade drains at once
(one, or as many as its surge or maxUnavailable: their replicas share the budget) hold by its requests: a
ScheduleAnyway spread bounds nothing. The time to Ready is `ready_bound_seconds` of its probes and
images. A chart's pods are counted one a node (their probes are in the chart; docs/decisions.md "Node drains with
replicas that share a node"). A scale-down gives up on a node whose eviction a budget refuses (after 2 minutes) and
cuts nothing, so it is judged on the grace alone.

A pod's grace is its pod spec's terminationGracePeriodSeconds (Kubernetes' default 30 without one); a chart's pod's,
its values' where CHART_GRACES says so, else the chart's default there. DaemonSet pods are left: AKS's drain and
the autoscaler's scale-down leave them running. Pods and pools come from the capacity model (`program_pods`,
`chart_pods`, `may_run_on`), the same placement the fit on the pools uses."""
from typing import Any, Iterator, NamedTuple, Optional

from config.catalogs import vm_shape
from llmplatform.gpu_skus import find_gpu_sku
from llmplatform.upgrades import (AKS_DRAIN_TIMEOUT_MINUTES, DRAIN_TIMEOUT_MAX_MINUTES, PROMETHEUS_GRACE_SECONDS,
                                  drain_minutes_for, node_drain_seconds, nodes_drained_at_once, pull_allowance_seconds,
                                  ready_bound_seconds)

from .. import capacity
from ..pod_specs import pod_spec
from ..runner import Plan
from .model import Problem
from .scaler_ranges import SCALERS, replica_range, target

DEFAULT_GRACE_SECONDS = 30  # core/v1 PodSpec terminationGracePeriodSeconds' default
AUTOSCALER_GRACE_SECONDS = 600  # AKS's max-graceful-termination-sec default (ManagedClusterPropertiesAutoScalerProfile)
# chart -> workload (as capacity.CHART_PODS names it) -> (its values path of the grace, the chart's default there)
CHART_GRACES: dict[str, dict[str, tuple[str, int]]] = {
    # tests/upstream/charts/keda-add-ons-http/values.yaml `interceptor.terminationGracePeriodSeconds: 45`
    "keda-add-ons-http": {"interceptor": ("interceptor.terminationGracePeriodSeconds", 45)},
    # `~` in kube-prometheus-stack's values: prometheus-operator's default (llmplatform.upgrades)
    "kube-prometheus-stack": {"prometheus": ("prometheus.prometheusSpec.terminationGracePeriodSeconds",
                                             PROMETHEUS_GRACE_SECONDS)},
}
FIX = ("the stack's cluster takes its drain timeout from gateway.requestTimeoutSeconds, "
       "autoscaling.coldStartTimeoutSeconds and webui.maxReplicas; with components, give AksCluster's "
       "drain_timeout_minutes={minutes} (upgrades.drain_minutes_for({figures}))")

class Replacement(NamedTuple):
    """How a workload's pods come back after an eviction: the most of them, and a replacement's time to Ready."""
    most: int
    ready_seconds: int
    why: str  # where the figures come from, for the message


def program_graces(plan: Plan) -> dict[str, int]:
    """capacity.program_pods' owner name -> the grace of the Deployment's or StatefulSet's pods."""
    graces = {}
    for kind in ("Deployment", "StatefulSet"):
        for reg in plan.of_type(f"kubernetes:apps/v1:{kind}"):
            meta = reg.inputs.get("metadata") or {}
            grace = capacity.whole((pod_spec(reg.inputs) or {}).get("terminationGracePeriodSeconds"))
            graces[f"{kind} {meta.get('namespace')}/{meta.get('name')}"] = \
                DEFAULT_GRACE_SECONDS if grace is None else grace
    return graces


def chart_graces(plan: Plan) -> dict[str, int]:
    """capacity.chart_pods' owner name -> the grace its chart gives the pods, for the charts CHART_GRACES reads."""
    graces = {}
    for reg in plan.helm_releases():
        chart = str(reg.inputs.get("chart") or "").rstrip("/").rsplit("/", 1)[-1]
        for workload, (path, default) in CHART_GRACES.get(chart, {}).items():
            given = capacity.whole(capacity._at(reg.inputs.get("values") or {}, path))
            graces[f"chart {chart}: {workload}"] = default if given is None else given
    return graces


def drained_pods(plan: Plan) -> Iterator[tuple[capacity.Pods, int]]:
    """Every pod a drain evicts (no DaemonSet's), with its grace."""
    graces = {**program_graces(plan), **chart_graces(plan)}
    for pods in capacity.program_pods(plan) + capacity.chart_pods(plan, []):
        if not pods.daemon:
            yield pods, graces.get(pods.owner, DEFAULT_GRACE_SECONDS)


def pool_settings(plan: Plan) -> dict[str, tuple[dict[str, Any], dict[str, Any]]]:
    """Pool name -> (its inputs, its cluster's inputs), as capacity.pools names them."""
    names = {reg.urn: reg.name for reg in plan.resources}
    declared = capacity.declared_pools((reg.urn, reg.type, reg.inputs) for reg in plan.resources)
    return {(d.inputs.get("name", "") if d.inline else d.inputs.get("agentPoolName", names[d.urn])):
            (d.inputs, d.cluster) for d in declared}


def drain_minutes(pool: dict[str, Any]) -> Optional[int]:
    """The minutes an upgrade waits for one of the pool's nodes; None for a spot pool, which is not drained."""
    if pool.get("scaleSetPriority") == "Spot":
        return None
    given = capacity.whole((pool.get("upgradeSettings") or {}).get("drainTimeoutInMinutes"))
    return AKS_DRAIN_TIMEOUT_MINUTES if given is None else given


def scale_down_seconds(pool: dict[str, Any], cluster: dict[str, Any]) -> Optional[int]:
    """The grace the autoscaler gives a pod it evicts from the pool; None where it does not scale the pool."""
    if not pool.get("enableAutoScaling"):
        return None
    given = (cluster.get("autoScalerProfile") or {}).get("maxGracefulTerminationSec")
    return int(given) if isinstance(given, str) and given.isdigit() else AUTOSCALER_GRACE_SECONDS


def _most_replicas(plan: Plan) -> dict[tuple[Any, Any, Any], int]:
    """(namespace, kind, workload name) -> the most replicas its autoscalers take it to (scaler_ranges: KEDA's 100
    where a ScaledObject gives no maximum; an HPA without one is refused by the API server and scales nothing)."""
    most: dict[tuple[Any, Any, Any], int] = {}
    for kind in SCALERS:
        for reg in plan.of_type(kind):
            found = replica_range(kind, reg.inputs.get("spec") or {})
            if found is not None:
                key = target(kind, reg.inputs)
                most[key] = max(most.get(key, 0), found.most)
    return most


def replacements(plan: Plan) -> dict[str, Replacement]:
    """capacity.program_pods' owner name -> its replicas' most and a replacement's time to Ready (the longest of its
    containers': probes and the image's pull allowance)."""
    scaled, found = _most_replicas(plan), {}
    for kind in ("Deployment", "StatefulSet"):
        for reg in plan.of_type(f"kubernetes:apps/v1:{kind}"):
            meta, spec = reg.inputs.get("metadata") or {}, pod_spec(reg.inputs) or {}
            key = (meta.get("namespace"), kind, meta.get("name"))
            replicas = capacity.whole((reg.inputs.get("spec") or {}).get("replicas"))
            most = max(scaled.get(key, 0), 1 if replicas is None else replicas)
            containers = [c for c in spec.get("containers") or [] if isinstance(c, dict)]
            images = [str(c.get("image")) for c in (spec.get("containers") or []) + (spec.get("initContainers") or [])
                      if isinstance(c, dict) and c.get("image")]
            ready = max((ready_bound_seconds(c.get("startupProbe"), c.get("readinessProbe"),
                                             pull_allowance_seconds(images)) for c in containers), default=0)
            why = "its autoscaler's maximum" if key in scaled else "its replicas"
            found[f"{kind} {key[0]}/{key[2]}"] = Replacement(most, ready, why)
    return found


def node_holds(pods: capacity.Pods, pool: capacity.Pool) -> Optional[int]:
    """How many of these pods one empty node of the pool holds by their requests (None: the size's figures are not
    known); DaemonSets not subtracted, so it is never below the truth."""
    shape = vm_shape(pool.vm_size)
    if shape is None:
        return None
    cpu, mem = capacity.allocatable(shape.vcpus, shape.memory_gib, pool.max_pods)
    sku = find_gpu_sku(pool.vm_size)
    room = [pool.max_pods, cpu // pods.cpu_m if pods.cpu_m else None, mem // pods.mem_mi if pods.mem_mi else None,
            ((sku.gpus if sku else 0) // pods.gpus) if pods.gpus else None]
    return min(r for r in room if r is not None)


def sharing_on(pods: capacity.Pods, pool: capacity.Pool, replacement: Optional[Replacement],
               settings: Optional[dict[str, Any]] = None) -> int:
    """How many replicas of the workload the nodes an upgrade drains at once (upgrades.nodes_drained_at_once of the
    pool's most nodes and its upgradeSettings) may hold, evicted one after another under its budget (1 for a chart's
    pods: not modelled)."""
    if replacement is None:
        return 1
    holds = node_holds(pods, pool)
    at_once = nodes_drained_at_once(pool.max_count, settings)
    return max(1, replacement.most if holds is None else min(replacement.most, holds * at_once))


def needed_minutes(grace: int, sharing: int = 1, ready_seconds: int = 0) -> str:
    """The drain timeout a node's drain needs (upgrades.drain_minutes_for, the figure the components' rules name),
    or why none does."""
    minutes = drain_minutes_for(grace, sharing, ready_seconds)
    if minutes > DRAIN_TIMEOUT_MAX_MINUTES:
        most = node_drain_seconds(grace, sharing, ready_seconds)
        return (f"more than AKS's most, {DRAIN_TIMEOUT_MAX_MINUTES} minutes, for a drain of {most} s: lower the "
                f"answer's timeout (request_timeout_seconds) or the replicas that may share a node")
    figures = f"{grace}" if sharing <= 1 else f"{grace}, {sharing}, {ready_seconds}"
    return FIX.format(minutes=minutes, figures=figures)


def _shared_text(sharing: int, replacement: Replacement, seconds: int) -> str:
    held = "" if sharing == replacement.most else \
        f", of which the nodes an upgrade drains at once hold {sharing} by their requests"
    return (f"; up to {sharing} of them may share a node ({replacement.why}, {replacement.most}{held}) and the drain "
            f"evicts each next one only once the previous one's replacement is Ready (up to "
            f"{replacement.ready_seconds} s: its image's pull allowance and probes), so the node's drain takes up to "
            f"{seconds} s")


def check_node_drains(plan: Plan) -> list[Problem]:
    """A pod whose node's drain is longer than what an upgrade's drain waits, or whose grace is longer than what a
    scale-down waits, on a pool it may run on."""
    settings, all_pools, ready = pool_settings(plan), capacity.pools(plan), replacements(plan)
    problems = []
    for pods, grace in drained_pods(plan):
        for pool in all_pools:
            if not capacity.may_run_on(pods, pool) or pool.name not in settings:
                continue
            inputs, cluster = settings[pool.name]
            minutes = drain_minutes(inputs)
            replacement = ready.get(pods.owner)
            sharing = sharing_on(pods, pool, replacement, inputs.get("upgradeSettings"))
            counted = (sharing, replacement.ready_seconds) if replacement and sharing > 1 else (1, 0)
            seconds = node_drain_seconds(grace, *counted)
            if minutes is not None and seconds > minutes * 60:
                shared = _shared_text(sharing, replacement, seconds) if counted[0] > 1 and replacement else ""
                problems.append(Problem(
                    "node-drain", pods.owner,
                    f"its pods take up to {grace} s to stop (terminationGracePeriodSeconds){shared} and may run on "
                    f"pool {pool.name!r}, whose upgrade waits {minutes} minutes ({minutes * 60} s) per node "
                    f"(upgradeSettings.drainTimeoutInMinutes) and then fails: {needed_minutes(grace, *counted)}"))
            scale_down = scale_down_seconds(inputs, cluster)
            if scale_down is not None and grace > scale_down:
                problems.append(Problem(
                    "node-drain", pods.owner,
                    f"its pods take up to {grace} s to stop (terminationGracePeriodSeconds) and may run on pool "
                    f"{pool.name!r}, where a scale-down kills them after {scale_down} s (the cluster's autoscaler "
                    f"max-graceful-termination-sec), cutting what they serve: {needed_minutes(grace)}"))
    return problems
