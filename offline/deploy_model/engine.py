"""The engine's step executor on a first `pulumi up`: at most `--parallel` creates at once, each holding its worker
until its create returns (Pulumi awaits the resource), the others served in the order they became ready.

Read at pulumi/pulumi 1b594989 (pkg/resource/deploy): `newStepExecutor` starts `DegreeOfParallelism()` workers, each
running the chain it takes to its end (`worker`, `executeChain`); `ExecuteSerial` hands a chain to a worker over an
unbuffered channel, and the deployment executor's single event loop calls it (deployment_executor.go
`handleSingleEvent`), so while every worker is busy that loop blocks and later registrations wait behind the first
(first come, first served). The default is `PULUMI_PARALLEL`, else 4 x GOMAXPROCS (pkg/cmd/pulumi/operations/up.go
`defaultParallel`, #14989): 16 on a 4-vCPU machine (GitHub's hosted ubuntu-24.04 runner for a public repository), 8
on a 2-vCPU one.

A step's end may hang on steps that are not its dependencies (the pool its pods land on, a grant's propagation, the
pods a Service's endpoints wait for): it holds its worker meanwhile. When every worker is held so and the steps they
wait for are queued behind them, the engine is stuck until an await's deadline fails its step: a `stall`.
"""
from __future__ import annotations

import heapq
import math
import os
import re
from dataclasses import dataclass, field
from typing import Callable, Iterable, Optional, Union

DEFAULT_PARALLEL = 16  # 4 x 4 vCPUs: the runner the repository's `pulumi up` workflow uses (ubuntu-24.04, public)
UNBOUNDED = 2**31 - 1  # deployment.go `InfiniteParallelism`: math.MaxInt32


def default_parallel(environ: Optional[dict[str, str]] = None) -> int:
    """up.go `defaultParallel`: PULUMI_PARALLEL when it is an integer above 0 (env.go `IntValue`: strconv.ParseInt,
    anything else reads 0), capped at MaxInt32; else 4 x GOMAXPROCS, which the plan cannot know for the machine that
    will run `pulumi up`: DEFAULT_PARALLEL."""
    value = (os.environ if environ is None else environ).get("PULUMI_PARALLEL", "")
    number = int(value) if re.fullmatch(r"[+-]?[0-9]+", value) and abs(int(value)) < 2**63 else 0
    return min(number, UNBOUNDED) if number > 0 else DEFAULT_PARALLEL


def workers(parallel: int) -> Optional[int]:
    """deployment.go `DegreeOfParallelism` (1 below 2) and `InfiniteParallelism` (MaxInt32: None, no limit)."""
    return None if parallel >= UNBOUNDED else max(parallel, 1)


@dataclass
class Timeline:
    """One run of the executor, in seconds from the start of `pulumi up`."""
    start: dict[str, float] = field(default_factory=dict)
    nodes_ready: dict[str, float] = field(default_factory=dict)
    finish: dict[str, float] = field(default_factory=dict)
    freed_by: dict[str, str] = field(default_factory=dict)  # a step that waited for a worker -> the step that freed it
    queued: dict[str, float] = field(default_factory=dict)  # a step that waited for a worker -> how long
    stalls: dict[str, list[str]] = field(default_factory=dict)  # a step its deadline failed while it held a worker
    # -> the steps it waited for, queued behind it


# finish_at(urn, start, timeline, now) -> (nodes ready, finish) once they can be told; else the time to ask again
# (float) or None: when a step it waits for ends
FinishAt = Callable[[str, float, Timeline, float], Union[tuple[float, float], float, None]]


def run(graph: dict[str, set[str]], order: dict[str, int], parallel: Optional[int],
        waits_on: Callable[[str], Iterable[str]], finish_at: FinishAt,
        deadline: Callable[[str], Optional[float]]) -> Timeline:
    """Every step of `graph` (URN -> the URNs it depends on) started when its dependencies have ended and a worker is
    free (`parallel` None: as many as it takes), in the order they became ready, then the program's (`order`); its end
    is `finish_at`'s, `waits_on` names what else it may wait for (a stall's message), `deadline` ends a stalled one."""
    users: dict[str, list[str]] = {}
    for urn, deps in graph.items():
        for dep in deps:
            users.setdefault(dep, []).append(urn)
    left = {urn: len(deps) for urn, deps in graph.items()}
    queue = [(0.0, order[urn], urn) for urn, n in left.items() if n == 0]
    heapq.heapify(queue)
    line = Timeline()
    running: set[str] = set()
    free = parallel if parallel else math.inf
    now, freed = 0.0, ""

    def settle() -> list[float]:
        """The ends now known; the times a running step asks to be asked again."""
        wakes = []
        for urn in sorted(running, key=order.__getitem__):
            if urn not in line.finish:
                told = finish_at(urn, line.start[urn], line, now)
                if isinstance(told, tuple):
                    line.nodes_ready[urn], line.finish[urn] = told
                elif told is not None and told > now:
                    wakes.append(told)
        return wakes

    while queue or running:
        while queue and free > 0 and queue[0][0] <= now:
            ready, _, urn = heapq.heappop(queue)
            line.start[urn] = now
            if now > ready:
                line.queued[urn] = now - ready
                if freed:
                    line.freed_by[urn] = freed
            running.add(urn)
            free -= 1
        ends = settle() + [line.finish[u] for u in running if u in line.finish]
        if free > 0 and queue:
            ends.append(queue[0][0])
        if not ends:  # every running step waits for one that cannot start
            if not running:
                break
            stuck = min(running, key=lambda u: (line.start[u] + (deadline(u) or math.inf), order[u]))
            if parallel is None or deadline(stuck) is None:
                raise ValueError(f"stuck: {sorted(running)} wait for each other")
            line.stalls[stuck] = [w for w in waits_on(stuck) if w not in line.finish]
            line.nodes_ready[stuck] = line.finish[stuck] = line.start[stuck] + (deadline(stuck) or 0.0)
            continue
        now = max(now, min(ends))
        for urn in sorted((u for u in running if line.finish.get(u, math.inf) <= now), key=order.__getitem__):
            running.discard(urn)
            free += 1
            freed = urn
            for user in users.get(urn, ()):
                left[user] -= 1
                if left[user] == 0:
                    heapq.heappush(queue, (max(line.finish[d] for d in graph[user]), order[user], user))
    if len(line.finish) < len(graph):
        cycle = sorted(set(graph) - set(line.finish), key=order.__getitem__)
        raise ValueError(f"dependency cycle through {cycle[0]}")
    return line
