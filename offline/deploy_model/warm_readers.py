"""How many pods of a Deployment warm its model at once over its life, each reading it through the share's one
egress: a first deploy, a rolling update at the autoscaler's maximum, an autoscaler's scale-up (steps that come
faster than one warm-up ends overlap), and a node upgrade (a drain the disruption budget paces; a spot pool's, none).
Pure arithmetic first, then what the plan's objects say (docs/decisions.md, "Ollama's warm-up over rollouts and
scale-ups")."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Optional

from llmplatform.rollouts import IntOrPercent, rollout_starts, scaled

from ..pod_specs import pod_spec
from ..runner import Registration
from .budgets import BUDGET_KIND, budget_selects, pod_labels
from .objects import kind_of, metadata_of
from .pools import Pool, landing_pools, pools_of
from .scaler_ranges import SCALED_OBJECT, SCALERS, replica_range, target


@dataclass(frozen=True)
class ScalePolicy:
    """An HPA scaling policy: `value` pods (Pods) or percent of the replicas (Percent) per `period` seconds."""
    kind: str
    value: int
    period: int


# An HPA's scaleUp and scaleDown as the API server fills what a behavior leaves unset (kubernetes/kubernetes @a689afaa
# pkg/apis/autoscaling/v2/defaults.go `defaultHPAScaleUpRules`, `defaultHPAScaleDownRules`): up 4 pods or 100 % every
# 15 s, whichever adds more; down 100 % every 15 s
DEFAULT_SELECT = "Max"
DEFAULT_SCALE_UP = (ScalePolicy("Pods", 4, 15), ScalePolicy("Percent", 100, 15))
DEFAULT_SCALE_DOWN = (ScalePolicy("Percent", 100, 15),)


def scale_rules(behavior: Optional[dict[str, Any]], direction: str = "scaleUp") -> tuple[str, tuple[ScalePolicy, ...]]:
    """behavior.scaleUp's (or scaleDown's) selectPolicy and policies, each unset one the API server's default."""
    rules = (behavior or {}).get(direction) or {}
    given = rules.get("policies")
    policies = (DEFAULT_SCALE_UP if direction == "scaleUp" else DEFAULT_SCALE_DOWN) if given is None else tuple(
        ScalePolicy(str(p.get("type")), int(p.get("value", 0)), int(p.get("periodSeconds", 15))) for p in given)
    return str(rules.get("selectPolicy") or DEFAULT_SELECT), policies


def taken_back(behavior: Optional[dict[str, Any]], up: tuple[ScalePolicy, ...], replicas: int) -> int:
    """The most pods the HPA's scale-down may have taken within a scale-up period before a step, which that step adds
    back on top of its policy: since kubernetes/kubernetes#109058 (2022) `calculateScaleUpLimitWithScalingRules`
    starts a period at the current replicas less those added and plus those deleted within it. Without a behavior
    the controller keeps no scale events (`storeScaleEvent`) and limits each step by the current replicas: none."""
    if behavior is None:
        return 0
    select, down = scale_rules(behavior, "scaleDown")
    return added_within(select, down, max((p.period for p in up), default=0), replicas)


def added_within(select: str, policies: Iterable[ScalePolicy], seconds: float, replicas: int) -> int:
    """The most pods the HPA adds within `seconds` from a first step (at least that step), up to `replicas` replicas:
    each policy allows its pods once per period, counted over a sliding window (kubernetes/kubernetes @00067268
    pkg/controller/podautoscaler/horizontal.go `calculateScaleUpLimitWithScalingRules`: the replicas at the window's
    start plus Pods, or times 1 + Percent/100 rounded up); selectPolicy Min holds every policy (the least count),
    Disabled adds none, Max lets each step take the policy allowing most: of one period, the largest count; of
    different periods, one policy's steps come within another's period, so only their sum bounds it (4 pods per
    15 s beside 10 per 60 s add 10 + 3 x 4 in 60 s). A Percent policy counts `replicas` as its base, the most it
    can meet."""
    if select == "Disabled":
        return 0
    timed = [p for p in policies if p.period > 0]
    counts = [_per_period(p, replicas) * max(1, math.ceil(seconds / p.period)) for p in timed]
    if not counts:
        return 0
    if select == "Min":
        return min(counts)
    return max(counts) if len({p.period for p in timed}) == 1 else sum(counts)


def _per_period(policy: ScalePolicy, replicas: int) -> int:
    return policy.value if policy.kind == "Pods" else math.ceil(replicas * policy.value / 100)


def scale_up_readers(select: str, policies: tuple[ScalePolicy, ...], min_replicas: int, max_replicas: int,
                     warm_seconds: Callable[[int], float], taken: int = 0) -> int:
    """Pods warming at once while an autoscaler scales up from its minimum: the steps that come before the first
    step's pods are warm, which is longer the more read at once (the least count that holds). From zero, KEDA's
    activation starts one pod (kedacore/keda v2.20.2 pkg/scaling/executor/scale_scaledobjects.go
    `scaleFromZeroOrIdle`) and its HPA, whose minimum is then 1 (controllers/keda/hpa.go `getHPAMinReplicas`), adds
    the rest in its steps. The first step also adds back the `taken` pods a scale-down took just before
    (`taken_back`): counted once, not fed into the overlap (a one-off, where the fixed point's pessimism, every
    reader sharing the egress for the whole warm-up, turns one pod more near the egress's saturation into the whole
    room: llama3.2:3b from a 100 GiB share, 2 pods per 60 s from 1 to 22, counts 4 readers and 21 with it fed in,
    for a real peak of about 5)."""
    activated = 1 if min_replicas <= 0 else 0
    room = max(0, max_replicas - max(1, min_replicas))
    readers = activated + min(room, added_within(select, policies, 0, max_replicas))
    while readers:
        more = activated + min(room, added_within(select, policies, warm_seconds(readers), max_replicas))
        if more <= readers:
            break
        readers = more
    return activated + min(room, readers - activated + taken)


def drain_readers(replicas: int, spot: bool, max_unavailable: Optional[IntOrPercent] = None,
                  min_available: Optional[IntOrPercent] = None) -> int:
    """Pods a node upgrade restarts at once. A drain evicts through the disruption budget, which allows its
    maxUnavailable (rounded up) of the replicas, or the replicas above its minAvailable, to be down at once
    (kubernetes/kubernetes 189c34a7 pkg/controller/disruption/disruption.go `getExpectedPodCount`,
    `updatePdbStatus`); no budget, all of them. A spot pool's upgrade drains nothing ("AKS internally issues a
    cordon and an eviction notice, but no drain is applied": MicrosoftDocs/azure-aks-docs @31e1f80a
    articles/aks/spot-node-pool.md), and an eviction of spot VMs gives 30 s notice (Scheduled Events' Preempt,
    articles/virtual-machines/linux/scheduled-events.md): AKS's node auto-drain tries a drain (articles/aks/
    node-auto-drain.md), but the VM goes at the notice's end, budget or not: every replica there may restart at
    once."""
    if spot:
        return replicas
    if max_unavailable is not None:
        return min(replicas, max(1, scaled(max_unavailable, replicas, True)))
    if min_available is not None:
        return min(replicas, max(1, replicas - scaled(min_available, replicas, True)))
    return replicas


@dataclass(frozen=True)
class Bound:
    """A stack key at most, or at least, a value."""
    key: str
    most: bool
    value: int

    def __str__(self) -> str:
        return f"{self.key} at {'most' if self.most else 'least'} {self.value}"


@dataclass(frozen=True)
class Readers:
    """Pods warming at once, what starts them and the stack keys that bound them."""
    count: int
    source: str
    levers: Callable[[int], tuple[Bound, ...]]  # the bounds, any one of them, that keep `count` at most a number


def combined(groups: list[tuple[Bound, ...]]) -> str:
    """A fix for every source at once, each source's group its alternatives: a key every group bounds, at the
    tightest of its bounds (any such key fixes them all), else each group's alternatives in turn."""
    def same(a: Bound, b: Bound) -> bool:
        return a.key == b.key and a.most == b.most
    common = [b for b in (groups[0] if groups else ()) if all(any(same(b, o) for o in g) for g in groups[1:])]
    if common:
        return " or ".join(str(Bound(b.key, b.most, (min if b.most else max)(
            o.value for g in groups for o in g if same(b, o)))) for b in common)
    return " and ".join(f"({' or '.join(map(str, g))})" if len(g) > 1 else str(g[0]) for g in groups if g)


@dataclass(frozen=True)
class Scaler:
    """An autoscaler of the Deployment (an HPA, or the one KEDA makes from a ScaledObject)."""
    min_replicas: int
    max_replicas: int
    select: str
    policies: tuple[ScalePolicy, ...]
    taken: int  # pods its scale-down may have taken within a scale-up period before a step (taken_back)


def _named(reg: Registration) -> tuple[str, str]:
    meta = metadata_of(reg)
    return str(meta.get("namespace") or ""), str(meta.get("name") or "")


def scaler_of(deployment: Registration, objects: Iterable[Registration]) -> Optional[Scaler]:
    """The HPA or ScaledObject whose target is `deployment`, its range as scaler_ranges reads it (the fields' defaults;
    an HPA without its required maximum, or a kind left out where it is required, scales nothing)."""
    namespace, name = _named(deployment)
    for reg in objects:
        if reg.type not in SCALERS or target(reg.type, reg.inputs) != (namespace, "Deployment", name):
            continue
        spec = reg.inputs.get("spec") or {}
        found = replica_range(reg.type, spec)
        if found is None:
            continue
        behavior = ((spec.get("advanced") or {}).get("horizontalPodAutoscalerConfig") or {}).get("behavior") \
            if reg.type == SCALED_OBJECT else spec.get("behavior")
        select, policies = scale_rules(behavior)
        return Scaler(found.fewest, found.most, select, policies, taken_back(behavior, policies, found.most))
    return None


def budget_of(deployment: Registration, objects: Iterable[Registration]) -> Optional[dict[str, Any]]:
    """The spec of the PodDisruptionBudget that selects the Deployment's pods (as the API server matches them)."""
    namespace, labels = pod_labels(deployment.inputs)
    return next((reg.inputs.get("spec") or {} for reg in objects
                 if kind_of(reg) == BUDGET_KIND and budget_selects(reg.inputs, namespace, labels)), None)


def _strategy(deployment: Registration) -> tuple[str, IntOrPercent, IntOrPercent]:
    strategy = (deployment.inputs.get("spec") or {}).get("strategy") or {}
    rolling = strategy.get("rollingUpdate") or {}
    return (str(strategy.get("type") or "RollingUpdate"), rolling.get("maxSurge", "25%"),
            rolling.get("maxUnavailable", "25%"))


def _most(bound: Callable[[int], int], fits: int, start: int) -> int:
    """The largest value from `start` down to 0 whose bound is at most `fits` (-1: none)."""
    value = start
    while value >= 0 and bound(value) > fits:
        value -= 1
    return value


def warm_readers(deployment: Registration, first_deploy: int, objects: list[Registration],
                 warm_seconds: Callable[[int], float]) -> list[Readers]:
    """Every way the Deployment starts pods that warm at once, with its count and the keys that bound it."""
    scaler = scaler_of(deployment, objects)
    most = scaler.max_replicas if scaler else first_deploy  # the most replicas a rollout meets
    key = "autoscaling.maxReplicas" if scaler else "inference.replicas"
    found = [Readers(first_deploy, "a first deploy starts inference.replicas",
                     lambda fits: (Bound("inference.replicas", True, fits),))]
    found.append(_rollout_readers(deployment, most, key))
    started = _started(deployment, first_deploy)
    if scaler and scaler.min_replicas > started:
        found.append(_raised(scaler, started))
    if scaler:
        found.append(_scale_up(scaler, warm_seconds))
    found.append(_node_readers(deployment, objects, most, key))
    return found


def _rollout_readers(deployment: Registration, most: int, key: str) -> Readers:
    kind, surge, unavailable = _strategy(deployment)

    def rollout(replicas: int) -> int:
        return replicas if kind == "Recreate" else rollout_starts(replicas, surge, unavailable)
    how = "the Recreate strategy" if kind == "Recreate" else f"maxSurge {surge} and maxUnavailable {unavailable}"
    return Readers(rollout(most), f"a rolling update at {key} {most} starts them, {how} of {most}",
                   lambda fits: (Bound(key, True, _most(rollout, fits, most)),))


def _started(deployment: Registration, first_deploy: int) -> int:
    """The replicas the Deployment is created with (`spec.replicas`; `first_deploy` when not a number)."""
    replicas = (deployment.inputs.get("spec") or {}).get("replicas")
    return replicas if isinstance(replicas, int) and not isinstance(replicas, bool) else first_deploy


def _raised(scaler: Scaler, started: int) -> Readers:
    """The autoscaler, made once the first deploy's pods are Ready (it targets the Deployment's name, an output of
    its wait), finds fewer replicas than its minimum and sets the minimum at once: kubernetes/kubernetes @00067268
    pkg/controller/podautoscaler/horizontal.go `reconcileAutoscaler` ("Current number of replicas below
    Spec.MinReplicas": no scale-up limit applies), and KEDA's executor as much (kedacore/keda
    pkg/scaling/executor/scale_scaledobjects.go `RequestScale`, its branch `currentReplicas < minReplicas`, as the
    code index holds it, commit not pinned)."""
    def fixes(fits: int) -> tuple[Bound, ...]:
        more = scaler.min_replicas - fits  # inference.replicas that leave at most `fits` to raise, if they fit
        return (Bound("autoscaling.minReplicas", True, started + fits),
                *((Bound("inference.replicas", False, more),) if more <= fits else ()))
    return Readers(scaler.min_replicas - started,
                   f"the autoscaler raises inference.replicas {started} to autoscaling.minReplicas "
                   f"{scaler.min_replicas} at once (no scale-up limit below its minimum)", fixes)


def _scale_up(scaler: Scaler, warm_seconds: Callable[[int], float]) -> Readers:
    def up(low: int, high: int) -> int:
        return scale_up_readers(scaler.select, scaler.policies, low, high, warm_seconds, scaler.taken)
    steps = ", ".join(f"{p.value}{' pods' if p.kind == 'Pods' else ' %'} per {p.period} s" for p in scaler.policies)
    return Readers(up(scaler.min_replicas, scaler.max_replicas),
                   f"a scale-up from autoscaling.minReplicas {scaler.min_replicas} to autoscaling.maxReplicas "
                   f"{scaler.max_replicas} starts them in steps of {steps or 'none'}, selectPolicy {scaler.select}, "
                   "while the first are warming" + (f", the first adding back up to {scaler.taken} a scale-down took "
                                                    "within its period" if scaler.taken else ""),
                   lambda fits: _scale_up_levers(up, scaler, fits))


def _node_readers(deployment: Registration, objects: list[Registration], most: int, key: str) -> Readers:
    budget = budget_of(deployment, objects) or {}
    spot = any(p.spot for p in _landing(deployment, objects))
    return Readers(drain_readers(most, spot, budget.get("maxUnavailable"), budget.get("minAvailable")),
                   "a node upgrade or a spot eviction restarts them at once on a spot pool, with no drain and no "
                   "disruption budget" if spot else
                   "a node upgrade's drain evicts them as the disruption budget allows",
                   lambda fits: (Bound(key, True, fits),))


def _scale_up_levers(up: Callable[[int, int], int], scaler: Scaler, fits: int) -> tuple[Bound, ...]:
    low = next((m for m in range(scaler.min_replicas, scaler.max_replicas + 1) if up(m, scaler.max_replicas) <= fits),
               scaler.max_replicas)
    # at least 1: up(min, min) is 0, and from zero up(0, 1) is the activation pod alone
    high = _most(lambda m: up(scaler.min_replicas, m), fits, scaler.max_replicas)
    return Bound("autoscaling.minReplicas", False, low), Bound("autoscaling.maxReplicas", True, high)


def _landing(deployment: Registration, objects: list[Registration]) -> list[Pool]:
    return landing_pools(pod_spec(deployment.inputs) or {}, pools_of((r.urn, r.type, r.inputs) for r in objects))
