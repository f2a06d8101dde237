"""The deploy model's types (a wait, a warm-up, a step, the schedule, a problem), its durations file and the await
constants of pulumi-kubernetes it reads."""
from __future__ import annotations

import datetime
import functools
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from llmplatform.units import MB_PER_MIB

from ..runner import Registration

DURATIONS = Path(__file__).resolve().parents[2] / "config" / "data" / "deploy_durations.json"
DEFAULT_K8S_TIMEOUT = 600  # provider/pkg/await/await.go: `timeout := 10 * time.Minute`
HELM_DEFAULT_TIMEOUT = 300  # provider/pkg/provider/helm_release.go: defaultTimeoutSeconds
SKIP_AWAIT = "pulumi.com/skipAwait"
TIMEOUT_SECONDS = "pulumi.com/timeoutSeconds"
WAIT_FOR = "pulumi.com/waitFor"
GPU_RESOURCE = "nvidia.com/gpu"
HELM_RELEASE = "kubernetes:helm.sh/v3:Release"
CRD_BUNDLES = ("kubernetes:yaml/v2:ConfigFile", "kubernetes:yaml/v2:ConfigGroup")
WORKLOADS = ("Deployment", "StatefulSet", "DaemonSet", "Job", "Pod")

class DurationsError(Exception):
    """The durations file is missing or lacks a figure the model needs."""


@functools.lru_cache(maxsize=4)
def load_durations(path: Path = DURATIONS) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise DurationsError(f"cannot read {path}: {error}") from None
    for key in ("azure", "agent_pool", "node_from_zero", "gpu_driver", "image_pull", "container_start",
                "model_load", "kubernetes", "helm_charts", "role_assignment_propagation",
                "federated_credential_propagation", "volume_mount_retry", "image_pull_retry",
                "load_balancer_retry"):
        if key not in data:
            raise DurationsError(f"{path.name} has no '{key}' section")
    figure_sources(data, path.name)
    package_floors(data, path.name)
    return data


def figure_sources(data: dict[str, Any], name: str) -> None:
    """Every figure of the durations file names where it comes from: a `source` (or, for a floor the package holds,
    `pessimistic_is`) on its own entry or on one enclosing it; and the file says when it was recorded
    (`_recorded`, a date): the figures are dated estimates, corrected from a real `pulumi up`'s timings."""
    recorded = str(data.get("_recorded", ""))
    try:  # a calendar date, not the shape alone ("2026-13-45" passed)
        dated = bool(re.fullmatch(r"\d{4}-\d{2}-\d{2}", recorded)) and bool(datetime.date.fromisoformat(recorded))
    except ValueError:
        dated = False
    if not dated:
        raise DurationsError(f"{name} has no '_recorded' date (YYYY-MM-DD), {recorded!r}: say when its figures were "
                             "recorded")

    def says(node: dict[str, Any], key: str) -> bool:  # a word of it: "source": "" (or null) passed as a source
        return isinstance(node.get(key), str) and bool(node[key].strip())

    def walk(node: Any, path: str, sourced: bool) -> None:
        if isinstance(node, dict):
            sourced = sourced or says(node, "source") or says(node, "pessimistic_is")
            if not sourced and ("median" in node or "pessimistic" in node):
                raise DurationsError(f"{name}: the figure {path} has no source; give it a 'source' saying where "
                                     "it comes from (a page, a file and version, field reports), as the others do")
            for key, value in node.items():
                if not key.startswith("_") and key not in ("source", "pessimistic_is"):
                    walk(value, f"{path}.{key}" if path else key, sourced)
        elif isinstance(node, list):
            for index, value in enumerate(node):
                walk(value, f"{path}[{index}]", sourced)
        elif isinstance(node, (int, float)) and not isinstance(node, bool) and not sourced:
            raise DurationsError(f"{name}: the figure {path} ({node}) has no source; give it a 'source' saying "
                                 "where it comes from (a page, a file and version, field reports), as the others do")

    walk(data, "", False)


# The slowest model download and GPU load the model takes are the floors vLLM's await deadline is sized by, one figure
# each in the package (which cannot read this repository's files): the durations file writes only their median.
PACKAGE_FLOORS = {"download_mb_s": "MODEL_DOWNLOAD_FLOOR_MB_S", "gpu_load_mb_s": "MODEL_LOAD_FLOOR_MB_S"}


def package_floors(data: dict[str, Any], name: str) -> None:
    """Sets model_load's pessimistic download and load rates to the package's floors (llmplatform.kube)."""
    from llmplatform import kube
    for key, constant in PACKAGE_FLOORS.items():
        entry = data["model_load"].get(key)
        if not isinstance(entry, dict) or "median" not in entry:
            raise DurationsError(f"{name} has no model_load.{key}.median")
        if "pessimistic" in entry:
            raise DurationsError(f"{name} model_load.{key} writes a pessimistic figure: it is llmplatform.kube."
                                 f"{constant} ({getattr(kube, constant)} MB/s, the floor vLLM's deadline is sized by); "
                                 "change it there")
        data["model_load"][key] = {**entry, "pessimistic": getattr(kube, constant)}


@dataclass(frozen=True)
class Span:
    """A duration in seconds, median and pessimistic."""
    median: float
    pessimistic: float

    def __add__(self, other: "Span") -> "Span":
        return Span(self.median + other.median, self.pessimistic + other.pessimistic)

    @staticmethod
    def of(entry: dict[str, Any]) -> "Span":
        return Span(float(entry["median"]), float(entry["pessimistic"]))


ZERO = Span(0.0, 0.0)


@dataclass(frozen=True)
class WarmUp:
    """One replica's warm-up (OllamaServer's `warm_model` startup probe): read `mb` MB of `model` through the share's
    egress, which the pods warming at once share, then load it; each probe attempt is cut at `attempt_timeout` s.
    `replicas` is what a first deploy starts at once (the wait Pulumi sees); later rollouts and scale-ups may start
    more (warm_readers)."""
    model: str
    mb: float
    replicas: int
    read_mb_s: Optional[float]
    load_mb_s: Span
    attempt_timeout: float

    @property
    def span(self) -> Span:
        """The first deploy's warm-up, its `replicas` reading at once."""
        read = self.read_seconds(self.replicas)
        return Span(read + self.mb / self.load_mb_s.median, read + self.load_seconds())

    def read_seconds(self, readers: int) -> float:
        """Reading the model with `readers` pods reading it at once through the share's one egress (each on its own
        node: no page cache shared)."""
        return max(1, readers) * self.mb / self.read_mb_s if self.read_mb_s else 0.0

    def seconds(self, readers: int) -> float:
        """One replica's warm-up with `readers` pods warming at once (pessimistic)."""
        return self.read_seconds(readers) + self.load_seconds()

    def describe(self, readers: Optional[int] = None) -> str:
        readers = self.replicas if readers is None else readers
        shared = (f", {readers} replicas at once through its {self.read_mb_s:.0f} MB/s egress"
                  if readers > 1 and self.read_mb_s else "")
        return f"read and load {self.model} from the share{shared}"

    def load_seconds(self) -> float:
        """The load into memory once read (pessimistic)."""
        return self.mb / self.load_mb_s.pessimistic

    def read_room(self) -> float:
        """Seconds of an attempt left for reading the model once its load is counted (pessimistic)."""
        return self.attempt_timeout - self.load_seconds()

    def max_readers(self) -> int:
        """The most pods warming at once whose warm-up still fits one attempt (pessimistic), 0 when even one does
        not."""
        return max(0, int(self.read_room() * self.read_mb_s / self.mb)) if self.read_mb_s and self.mb else 0

    def share_gib_for(self, data: dict[str, Any], readers: Optional[int] = None) -> Optional[int]:
        """The provisioned share size (GiB) whose egress lets `readers` pods (default: the first deploy's replicas)
        warm the model at once in one attempt (pessimistic); None when the load alone does not fit."""
        room = self.read_room()
        if room <= 0:
            return None
        figure = data["model_load"]["azure_files_premium_mib_s"]
        need_mib_s = (self.replicas if readers is None else readers) * self.mb / room / MB_PER_MIB
        return max(0, math.ceil((need_mib_s - figure["read_base"]) / figure["read_per_gib"]))


@dataclass
class Wait:
    """What Pulumi waits for on one resource's create."""
    waits_for: str
    span: Span  # the wait itself, once everything before it is there
    timeout: Optional[float]  # seconds; None: no deadline
    timeout_from: str = ""
    pods_on: list[str] = field(default_factory=list)  # pool URNs the pods can land on (their nodes gate the wait)
    node_delay: Optional[tuple[Span, str]] = None  # nodes from zero (and GPU driver) once a pool exists
    warm_up: Optional[WarmUp] = None  # an Ollama startup probe's warm-up: each attempt must fit its timeout


@dataclass
class Problem:
    rule: str
    resource: str
    message: str

    def __str__(self) -> str:
        return f"[{self.rule}] {self.resource}: {self.message}"


@dataclass
class Step:
    reg: Registration
    wait: Wait
    start: Span = ZERO
    finish: Span = ZERO
    after: Optional[str] = None  # URN of what gated the start (median schedule)
    critical: bool = False
    nodes_ready: Span = ZERO  # when the pods can be scheduled (they get an IP and show in Endpoints)

    @property
    def elapsed(self) -> Span:
        """How long Pulumi's own clock runs on this resource (its create to its wait's end)."""
        return Span(self.finish.median - self.start.median, self.finish.pessimistic - self.start.pessimistic)


@dataclass
class DeployModel:
    steps: dict[str, Step]
    critical_path: list[str]
    problems: list[Problem]
    floor: Optional["DeployModel"] = None
    """The same plan with nothing in the cluster awaited (every Kubernetes object and release done once created):
    what Azure's own operations take, the bound no await setting can beat."""
    teardown: Optional[str] = None  # what a `pulumi destroy` deletes while protect stands (teardown.protect_line)
    parallel: Optional[int] = None  # the engine's workers the schedule ran with (`pulumi up --parallel`; None: any)
    queued: dict[str, float] = field(default_factory=dict)  # name -> seconds it waited for a worker (median run)

    @property
    def total(self) -> Span:
        return Span(max((s.finish.median for s in self.steps.values()), default=0.0),
                    max((s.finish.pessimistic for s in self.steps.values()), default=0.0))

    def summary(self) -> str:
        total = self.total
        names = [self.steps[u].reg.name for u in self.critical_path]
        return (f"fresh pulumi up: ~{round(total.median / 60)} min (pessimistic {round(total.pessimistic / 60)}); "
                f"critical path: {' > '.join(names)}")

    def floor_line(self) -> Optional[str]:
        if self.floor is None:
            return None
        names = [self.floor.steps[u].reg.name for u in self.floor.critical_path]
        return (f"with nothing in the cluster awaited: ~{round(self.floor.total.median / 60)} min (the floor Azure's "
                f"operations set); critical path: {' > '.join(names)}")

    def parallel_line(self) -> str:
        """What the engine's worker limit did to the schedule (engine.py)."""
        if self.parallel is None:
            return "engine: as many creates at once as are ready (pulumi up --parallel 2147483647)"
        creates = "one create" if self.parallel == 1 else f"{self.parallel} creates"
        head = (f"engine: at most {creates} at once (pulumi up --parallel {self.parallel}; unset, the "
                "CLI takes PULUMI_PARALLEL, else 4 x the CPUs of the machine that runs it)")
        if not self.queued:
            return f"{head}: none waits for a worker"
        name, longest = max(sorted(self.queued.items()), key=lambda item: item[1])
        waiting = "one waits" if len(self.queued) == 1 else f"{len(self.queued)} wait"
        return f"{head}: {waiting} for a worker, the longest {name} ({longest / 60:.1f} min)"

    def document(self) -> dict[str, Any]:
        def minutes(s: float) -> float:
            return round(s / 60, 1)
        total = self.total
        return {
            "summary": self.summary(), "expectedMinutes": minutes(total.median),
            "pessimisticMinutes": minutes(total.pessimistic),
            "criticalPath": [self.steps[u].reg.name for u in self.critical_path],
            **({"floorMinutes": minutes(self.floor.total.median),
                "floorPath": [self.floor.steps[u].reg.name for u in self.floor.critical_path]} if self.floor else {}),
            **({"teardown": self.teardown} if self.teardown else {}),
            "parallel": self.parallel,
            "queuedForWorker": {name: minutes(t) for name, t in sorted(self.queued.items())},
            "problems": [{"rule": p.rule, "resource": p.resource, "message": p.message} for p in self.problems],
            "resources": [{
                "name": s.reg.name, "type": s.reg.type,
                "waitsFor": s.wait.waits_for + (f"; nodes: {s.wait.node_delay[1]}" if s.wait.node_delay else ""),
                "startMinutes": minutes(s.start.median), "expectedMinutes": minutes(s.elapsed.median),
                "pessimisticMinutes": minutes(s.elapsed.pessimistic),
                "timeoutMinutes": None if s.wait.timeout is None else minutes(s.wait.timeout),
                "timeoutFrom": s.wait.timeout_from or None, "onCriticalPath": s.critical,
            } for s in sorted(self.steps.values(), key=lambda s: (s.start.median, s.reg.name))],
        }
