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

A pod's grace is its pod spec's terminationGracePeriodSeconds (Kubernetes' default 30 without one); a chart's pod's,
its values' where CHART_GRACES says so, else the chart's default there. DaemonSet pods are left: AKS's drain and
the autoscaler's scale-down leave them running. Pods and pools come from the capacity model (`program_pods`,
`chart_pods`, `may_run_on`), the same placement the fit on the pools uses."""
from typing import Any, Iterator, Optional

from llmplatform.upgrades import AKS_DRAIN_TIMEOUT_MINUTES, DRAIN_TIMEOUT_MAX_MINUTES, PROMETHEUS_GRACE_SECONDS

from .. import capacity
from ..pod_specs import pod_spec
from ..runner import Plan
from .model import Problem

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
FIX = ("the stack's cluster takes its drain timeout from gateway.requestTimeoutSeconds and "
       "autoscaling.coldStartTimeoutSeconds; with components, give AksCluster's drain_timeout_minutes at least "
       "{minutes}")


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


def needed_minutes(grace: int) -> str:
    """The drain timeout a grace needs, or why none does."""
    minutes = -(-grace // 60)
    if minutes > DRAIN_TIMEOUT_MAX_MINUTES:
        return (f"more than AKS's most, {DRAIN_TIMEOUT_MAX_MINUTES} minutes: lower the answer's timeout "
                f"(request_timeout_seconds) so the grace is at most {DRAIN_TIMEOUT_MAX_MINUTES * 60} s")
    return FIX.format(minutes=minutes)


def check_node_drains(plan: Plan) -> list[Problem]:
    """A pod whose grace is longer than what an upgrade's drain or a scale-down waits on a pool it may run on."""
    settings, all_pools = pool_settings(plan), capacity.pools(plan)
    problems = []
    for pods, grace in drained_pods(plan):
        for pool in all_pools:
            if not capacity.may_run_on(pods, pool) or pool.name not in settings:
                continue
            inputs, cluster = settings[pool.name]
            minutes = drain_minutes(inputs)
            if minutes is not None and grace > minutes * 60:
                problems.append(Problem(
                    "node-drain", pods.owner,
                    f"its pods take up to {grace} s to stop (terminationGracePeriodSeconds) and may run on pool "
                    f"{pool.name!r}, whose upgrade waits {minutes} minutes ({minutes * 60} s) per node "
                    f"(upgradeSettings.drainTimeoutInMinutes) and then fails: {needed_minutes(grace)}"))
            seconds = scale_down_seconds(inputs, cluster)
            if seconds is not None and grace > seconds:
                problems.append(Problem(
                    "node-drain", pods.owner,
                    f"its pods take up to {grace} s to stop (terminationGracePeriodSeconds) and may run on pool "
                    f"{pool.name!r}, where a scale-down kills them after {seconds} s (the cluster's autoscaler "
                    f"max-graceful-termination-sec), cutting what they serve: {needed_minutes(grace)}"))
    return problems
