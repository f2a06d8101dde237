"""The deploy model: what a first `pulumi up` of a plan waits for, how long, and in which order.

For every resource of the recorded plan it says what Pulumi waits for on create and under which deadline, estimates
how long that takes on a fresh subscription (`config/data/deploy_durations.json`: median and pessimistic, each with
its source), schedules the dependency graph (a resource starts when everything it depends on has finished; a pod
also waits for nodes of a pool it can run on) and finds the critical path. Each of these is a plan failure:

- a wait whose pessimistic time exceeds its deadline (`timeout`);
- a custom resource not after what installs its CRD (`crd-order`);
- an object that names another neither after it nor tolerant of its absence, or naming nothing (`name-reference`);
- software that needs no GPU node waiting for a GPU pool (`gpu-wait`);
- two agent-pool writes of one AKS cluster, or one of its pools or maintenance configurations and the cluster's own
  create, that may run at once (`cluster-writes`);
- an AKS cluster or agent pool created while something else may write its virtual network: a subnet, another
  cluster's or pool's create; a private endpoint created while a subnet of its network may be written
  (`vnet-writes`);
- two federated identity credentials of one user-assigned identity that may be written at once, or that share an
  issuer and subject (`identity-writes`);
- two writes to one PostgreSQL flexible server's parameters, administrators or databases that may run at once
  (`server-writes`);
- two writes to one Key Vault (its secrets, a private endpoint to it) that may run at once (`vault-writes`);
- a RoleAssignment whose principalType is missing or does not match the identity (`principal-type`);
- a workload reading a volume a Job writes, neither after the awaited Job nor tolerant of an empty volume
  (`job-output`).

Await rules are pulumi-kubernetes' (provider/pkg/await, read at the release the SDK pin matches, see
docs/decisions.md): Deployment/StatefulSet/DaemonSet ready, Job complete, Service endpoints settled, PVC bound, a
kind without an awaiter created at once; 10 minutes unless `customTimeouts.create` or `pulumi.com/timeoutSeconds`;
`pulumi.com/skipAwait` skips it; a kind the API server does not know is retried for 31 s, then fails. A Helm release
(helm.sh/v3) waits for its chart's workloads unless `skipAwait`, for `timeout` seconds (300 by default). Azure
resources are awaited until their long-running operation ends, with no deadline unless `customTimeouts`.
Pure Python over the recorded plan (the standard library, offline.runner and the model catalogue's sizes): no SDK
import, a few milliseconds per stack.
"""
from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from config.models import catalogue_size
from llmplatform.azure_roles import KEY_VAULT_SECRETS_USER
from llmplatform.write_order import (AGENT_POOL, FEDERATION, MANAGED_CLUSTER, PRIVATE_ENDPOINT,  # noqa: F401
                                     SUBNET, VAULT, ancestors, conflicts, predecessors, provider_urn)
from llmplatform.inference_specs import warm_up_command
from llmplatform.kubernetes_schemas import BUILTIN_GROUPS, group_of  # API groups every cluster serves (no CRD needed)
from llmplatform.model_store import MODEL_SIZES_ANNOTATION as MODEL_SIZES

from .pod_specs import pod_spec
from .runner import DEPLOYER, Plan, Registration
from .wire import duration_seconds

DURATIONS = Path(__file__).resolve().parent.parent / "config" / "data" / "deploy_durations.json"
DEFAULT_K8S_TIMEOUT = 600  # provider/pkg/await/await.go: `timeout := 10 * time.Minute`
HELM_DEFAULT_TIMEOUT = 300  # provider/pkg/provider/helm_release.go: defaultTimeoutSeconds
SKIP_AWAIT = "pulumi.com/skipAwait"
TIMEOUT_SECONDS = "pulumi.com/timeoutSeconds"
WAIT_FOR = "pulumi.com/waitFor"
GPU_RESOURCE = "nvidia.com/gpu"
HELM_RELEASE = "kubernetes:helm.sh/v3:Release"
CRD_BUNDLES = ("kubernetes:yaml/v2:ConfigFile", "kubernetes:yaml/v2:ConfigGroup")
WORKLOADS = ("Deployment", "StatefulSet", "DaemonSet", "Job", "Pod")

# Which API groups each CRD installer brings. Charts: the CRDs each chart's pinned release ships (tests check the
# vendored CRDs' sources); bundles: by the release file they apply; AKS add-ons: by addonProfiles key.
CHART_CRD_GROUPS: dict[str, tuple[str, ...]] = {
    "kube-prometheus-stack": ("monitoring.coreos.com",),
    "keda": ("keda.sh", "eventing.keda.sh"),
    "keda-add-ons-http": ("http.keda.sh",),
    "cert-manager": ("cert-manager.io", "acme.cert-manager.io"),
    "base": ("networking.istio.io", "security.istio.io", "telemetry.istio.io", "extensions.istio.io"),
    "gpu-operator": ("nvidia.com", "nfd.k8s-sigs.io"),
    "network-operator": ("mellanox.com", "k8s.cni.cncf.io"),
}
BUNDLE_CRD_GROUPS: dict[str, tuple[str, ...]] = {
    "kubernetes-sigs/gateway-api/releases": ("gateway.networking.k8s.io",),
    "kubernetes-sigs/gateway-api-inference-extension/releases": ("inference.networking.k8s.io",
                                                                 "inference.networking.x-k8s.io"),
}
ADDON_CRD_GROUPS: dict[str, tuple[str, ...]] = {
    "azureKeyvaultSecretsProvider": ("secrets-store.csi.x-k8s.io",),
    "azurepolicy": ("templates.gatekeeper.sh", "constraints.gatekeeper.sh"),
}

# Principal types by what the principal is (Microsoft.Authorization roleAssignments: principalType defaults to User
# in the REST spec; ARM refuses a mismatch with UnmatchedPrincipalType).
MANAGED_IDENTITY_SOURCES = ("azure-native:managedidentity:UserAssignedIdentity", MANAGED_CLUSTER,
                            "azure-native:dashboard:Grafana")


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
                "federated_credential_propagation", "volume_mount_retry"):
        if key not in data:
            raise DurationsError(f"{path.name} has no '{key}' section")
    return data


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


@dataclass
class Wait:
    """What Pulumi waits for on one resource's create."""
    waits_for: str
    span: Span  # the wait itself, once everything before it is there
    timeout: Optional[float]  # seconds; None: no deadline
    timeout_from: str = ""
    pods_on: list[str] = field(default_factory=list)  # pool URNs the pods can land on (their nodes gate the wait)
    node_delay: Optional[tuple[Span, str]] = None  # nodes from zero (and GPU driver) once a pool exists


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


# ---- reading the plan ------------------------------------------------------------------------------------------

def _meta(reg: Registration) -> dict[str, Any]:
    return reg.inputs.get("metadata") or {}


def _annotations(reg: Registration) -> dict[str, str]:
    return _meta(reg).get("annotations") or {}


def _kind(reg: Registration) -> str:
    return str(reg.inputs.get("kind", "")) if reg.is_kubernetes_object else ""


def _group(reg: Registration) -> str:
    return group_of(str(reg.inputs.get("apiVersion", "")))


def _label(reg: Registration) -> str:
    kind = _kind(reg)
    meta = _meta(reg)
    namespace = meta.get("namespace")
    return f"{kind} {namespace + '/' if namespace else ''}{meta.get('name', reg.name)}" if kind else reg.name


def _containers(spec: dict[str, Any]) -> list[dict[str, Any]]:
    return list(spec.get("initContainers") or []) + list(spec.get("containers") or [])


def requests_gpu(spec: dict[str, Any]) -> bool:
    return any(GPU_RESOURCE in ((c.get("resources") or {}).get(part) or {})
               for c in spec.get("containers") or [] for part in ("requests", "limits"))


def _repository(image: str) -> str:
    base = image.split("@")[0]
    head, _, tail = base.rpartition(":")
    return head if head and "/" not in tail else base


def _image_size(data: dict[str, Any], image: str) -> float:
    sizes = data["image_pull"]["sizes_mb"]
    repo = _repository(image)
    for key, size in sizes.items():
        if key != "default" and (repo == key or repo.endswith("/" + key) or repo.endswith(key)):
            return float(size)
    return float(sizes["default"])


def image_pull(data: dict[str, Any], images: list[str]) -> Span:
    """Pulling a pod's images (in parallel on one node: the largest dominates), download then extraction."""
    if not images:
        return ZERO
    size = max(_image_size(data, i) for i in images)
    pull = data["image_pull"]
    return Span(size / pull["throughput_mb_s"]["median"] + size / pull["extract_mb_s"]["median"],
                size / pull["throughput_mb_s"]["pessimistic"] + size / pull["extract_mb_s"]["pessimistic"])


def container_start(data: dict[str, Any], images: list[str]) -> Span:
    starts = data["container_start"]
    found = [Span.of(v) for k, v in starts.items() if not k.startswith("_") and k != "default"
             and any(_repository(i).endswith(k) for i in images)]
    return max(found, key=lambda s: s.pessimistic) if found else Span.of(starts["default"])


# Hugging Face model weights (GB, bf16) vLLM downloads before it is ready; larger models by the parameter count.
def model_weights_gb(model: str) -> Optional[float]:
    match = re.search(r"(\d+(?:\.\d+)?)[Bb]\b", model.split("/")[-1])
    return 2.0 * float(match.group(1)) if match else None


def model_load(data: dict[str, Any], weights_gb: float) -> Span:
    load = data["model_load"]
    mb = weights_gb * 1000
    return Span(mb / load["download_mb_s"]["median"] + mb / load["gpu_load_mb_s"]["median"],
                mb / load["download_mb_s"]["pessimistic"] + mb / load["gpu_load_mb_s"]["pessimistic"])


@dataclass(frozen=True)
class ModelShare:
    """The model share as the deploy model needs it: how fast it takes writes (the preload) and serves reads (a
    warm-up), MB/s, and the model sizes the preload Job records (GiB)."""
    write_mb_s: Optional[float] = None
    read_mb_s: Optional[float] = None
    sizes_gib: tuple[tuple[str, float], ...] = ()

    def size_gib(self, model: str) -> float:
        return dict(self.sizes_gib).get(model) or catalogue_size(model) or 0.0


def _declared_sizes(reg: Registration) -> dict[str, float]:
    """The model sizes (GiB) a preload Job records (the MODEL_SIZES annotation: the stack's declared or catalogue
    sizes)."""
    return {m: float(v) for m, v in json.loads(_annotations(reg).get(MODEL_SIZES, "{}")).items()}


def model_share(plan: Plan, data: dict[str, Any]) -> ModelShare:
    sizes = {m: v for r in plan.kubernetes_objects() if _kind(r) == "Job" for m, v in _declared_sizes(r).items()}
    return ModelShare(store_throughput_mb_s(plan, data), store_throughput_mb_s(plan, data, "read"),
                      tuple(sorted(sizes.items())))


def ollama_warm_up(data: dict[str, Any], spec: dict[str, Any], share: ModelShare) -> Optional[tuple[Span, str]]:
    """An Ollama container whose startup probe is the warm-up (OllamaServer's `warm_model`) is Ready only once it has
    read the model from the share and loaded it: the share's egress, then the load into memory."""
    prefix = warm_up_command("")[:-1]
    for c in spec.get("containers") or []:
        command = ((c.get("startupProbe") or {}).get("exec") or {}).get("command") or []
        if len(command) == len(prefix) + 1 and command[:-1] == prefix:
            model = str(command[-1])
            mb = share.size_gib(model) * 1074
            load = data["model_load"]["gpu_load_mb_s"]
            read = mb / share.read_mb_s if share.read_mb_s else 0.0
            return (Span(read + mb / load["median"], read + mb / load["pessimistic"]),
                    f"read and load {model} from the share")
    return None


def _vllm_model(spec: dict[str, Any]) -> Optional[str]:
    for c in spec.get("containers") or []:
        if "vllm" in str(c.get("image", "")):
            args = [str(a) for a in (c.get("args") or [])]
            if "serve" in args and args.index("serve") + 1 < len(args):
                return args[args.index("serve") + 1]
            return args[0] if args else None
    return None


# ---- pools: where pods can land, and when their nodes are there --------------------------------------------------

@dataclass(frozen=True)
class Pool:
    urn: str  # the AgentPool, or the ManagedCluster for its inline pools
    name: str
    vm_size: str
    labels: tuple[tuple[str, str], ...]
    taints: tuple[str, ...]
    min_count: int
    spot: bool
    driver: Optional[str]  # 'aks' / 'operator' on GPU pools


def _pool(urn: str, p: dict[str, Any]) -> Pool:
    gpu = (p.get("gpuProfile") or {}).get("driver")
    return Pool(urn=urn, name=str(p.get("agentPoolName") or p.get("name")), vm_size=str(p.get("vmSize", "")),
                labels=tuple(sorted((p.get("nodeLabels") or {}).items())), taints=tuple(p.get("nodeTaints") or []),
                min_count=int(p.get("minCount") or p.get("count") or 0),
                spot=str(p.get("scaleSetPriority", "")).lower() == "spot",
                driver={"Install": "aks", "None": "operator"}.get(gpu) if gpu else None)


def pools(plan: Plan) -> list[Pool]:
    found: list[Pool] = []
    for reg in plan.resources:
        if reg.type == MANAGED_CLUSTER:
            found.extend(_pool(reg.urn, p) for p in reg.inputs.get("agentPoolProfiles") or [])
        elif reg.type == AGENT_POOL:
            found.append(_pool(reg.urn, reg.inputs))
    return found


def _tolerates(taint: str, tolerations: list[dict[str, Any]]) -> bool:
    key, _, rest = taint.partition("=")
    value, _, effect = rest.rpartition(":") if ":" in rest else (rest, "", "")
    if not rest and ":" in key:
        key, effect = key.split(":", 1)
    for t in tolerations:
        if t.get("effect") and effect and t["effect"] != effect:
            continue
        if t.get("operator") == "Exists" and (not t.get("key") or t.get("key") == key):
            return True
        if t.get("key") == key and str(t.get("value", "")) == value:
            return True
    return False


def _affinity_labels(spec: dict[str, Any]) -> dict[str, str]:
    terms = ((((spec.get("affinity") or {}).get("nodeAffinity") or {})
              .get("requiredDuringSchedulingIgnoredDuringExecution") or {}).get("nodeSelectorTerms") or [])
    found: dict[str, str] = {}
    for term in terms[:1]:
        for e in term.get("matchExpressions") or []:
            if e.get("operator") == "In" and len(e.get("values") or []) == 1:
                found[e["key"]] = str(e["values"][0])
    return found


def landing_pools(spec: dict[str, Any], all_pools: list[Pool]) -> list[Pool]:
    """The pools a pod may run on: its node selector (and required single-value affinity) matches, its
    tolerations cover the taints. AKS labels every node with its pool name (kubernetes.azure.com/agentpool)."""
    wanted = {**_affinity_labels(spec), **(spec.get("nodeSelector") or {})}
    tolerations = spec.get("tolerations") or []
    gpu = requests_gpu(spec)
    fits = []
    for pool in all_pools:
        labels = {**dict(pool.labels), "kubernetes.azure.com/agentpool": pool.name}
        if any(labels.get(k) != v for k, v in wanted.items() if k != "kubernetes.io/os"):
            continue
        if not all(_tolerates(t, tolerations) for t in pool.taints):
            continue
        if gpu and not pool.driver:
            continue
        fits.append(pool)
    return fits


def node_family(data: dict[str, Any], vm_size: str) -> dict[str, Any]:
    for family in data["node_from_zero"]["families"]:
        if re.search(family["match"], vm_size):
            return family
    raise DurationsError(f"no node_from_zero family matches {vm_size}")


def _provision_limit(plan: Plan) -> float:
    for reg in plan.of_type(MANAGED_CLUSTER):
        value = str((reg.inputs.get("autoScalerProfile") or {}).get("maxNodeProvisionTime", "15m"))
        match = re.fullmatch(r"(\d+)([ms])", value)
        if match:
            return float(match.group(1)) * (60 if match.group(2) == "m" else 1)
    return 900.0  # cluster-autoscaler's default --max-node-provision-time


def node_wait(data: dict[str, Any], candidates: list[Pool], gpu: bool, provision_limit: float) -> tuple[Span, str]:
    """Nodes for the pods once their pools exist: none from zero when a pool keeps nodes, else the autoscaler
    adds one (spot first when there is an on-demand fallback: pessimistic = spot gives up after the provision
    limit, then an on-demand node), plus the GPU driver on a new GPU node."""
    if not gpu and any(p.min_count > 0 for p in candidates):
        return ZERO, "nodes of the pool"
    warm = [p for p in candidates if p.min_count > 0]
    pick = warm or candidates
    spot = [p for p in pick if p.spot]
    regular = [p for p in pick if not p.spot]
    if warm:
        nodes, how = ZERO, "nodes of the pool"
    elif spot:
        family = node_family(data, spot[0].vm_size)
        nodes = Span.of(family["spot"])
        how = f"a spot {spot[0].vm_size} node from zero"
        if regular:
            fallback = Span.of(node_family(data, regular[0].vm_size)["regular"])
            nodes = Span(nodes.median, provision_limit + fallback.pessimistic)
            how += f" (pessimistic: no spot capacity, {round(provision_limit / 60)} min, then on-demand)"
    else:
        nodes = Span.of(node_family(data, regular[0].vm_size)["regular"])
        how = f"a {regular[0].vm_size} node from zero"
    if gpu:
        driver = next((p.driver for p in pick if p.driver), "aks")
        nodes = nodes + (ZERO if warm else Span.of(data["gpu_driver"][driver]))
        how += f" + the {'GPU Operator' if driver == 'operator' else 'AKS-managed'} GPU driver" if not warm else ""
    return nodes, how


# ---- the await rules --------------------------------------------------------------------------------------------

def _custom_timeout(reg: Registration) -> Optional[float]:
    return duration_seconds((reg.options.get("customTimeouts") or {}).get("create"))


def k8s_timeout(reg: Registration) -> tuple[float, str]:
    """provider/pkg/metadata/overrides.go TimeoutDuration: customTimeouts first, then the annotation, else the
    awaiter's 10 minutes."""
    custom = _custom_timeout(reg)
    if custom is not None:
        return custom, "customTimeouts.create"
    raw = _annotations(reg).get(TIMEOUT_SECONDS)
    if raw is not None and str(raw).strip().isdigit():
        return float(raw), TIMEOUT_SECONDS
    return float(DEFAULT_K8S_TIMEOUT), "pulumi-kubernetes default (10 min)"


def skips_await(reg: Registration) -> bool:
    return str(_annotations(reg).get(SKIP_AWAIT, "")).lower() == "true"


def _replicas(reg: Registration) -> int:
    spec = reg.inputs.get("spec") or {}
    if _kind(reg) in ("Job", "Pod"):
        return 1
    value = spec.get("replicas", 1)
    return int(value) if isinstance(value, (int, float)) else 1


def workload_wait(reg: Registration, data: dict[str, Any], all_pools: list[Pool], provision_limit: float,
                  share: ModelShare = ModelShare()) -> Wait:
    kind = _kind(reg)
    spec = pod_spec(reg.inputs) or {}
    timeout, source = k8s_timeout(reg)
    obj = data["kubernetes"]["object"]
    if skips_await(reg):
        return Wait(f"nothing ({SKIP_AWAIT})", Span.of(obj), None)
    if kind != "DaemonSet" and _replicas(reg) == 0:
        return Wait(f"{kind} with 0 replicas: nothing to be ready", Span.of(obj), timeout, source)
    images = [str(c.get("image", "")) for c in _containers(spec)]
    gpu = requests_gpu(spec)
    span = image_pull(data, images) + container_start(data, images)
    what = {"Deployment": "all replicas ready", "StatefulSet": "all replicas ready", "Job": "Complete",
            "Pod": "Ready", "DaemonSet": "a ready pod on every node it selects"}[kind]
    parts = ["image pull", "start"]
    model = _vllm_model(spec)
    weights = model_weights_gb(model) if model else None
    if weights:
        span = span + model_load(data, weights)
        parts.append(f"download and load {model} (~{weights:.0f} GB)")
    warm = ollama_warm_up(data, spec, share)
    if warm:
        span = span + warm[0]
        parts.append(warm[1])
    if kind == "Job":
        work = _job_work(reg, data, share.write_mb_s)
        span = span + work[0]
        parts.append(work[1])
    if kind == "DaemonSet":
        # ready on the nodes that exist: none yet on a pool at zero
        return Wait(f"DaemonSet {what}", span, timeout, source)
    candidates = landing_pools(spec, all_pools)
    wait = Wait(f"{kind} {what} ({', '.join(parts)})", span, timeout, source,
                pods_on=sorted({p.urn for p in candidates}))
    if candidates:
        wait.node_delay = node_wait(data, candidates, gpu, provision_limit)
    return wait


def store_throughput_mb_s(plan: Plan, data: dict[str, Any], direction: str = "write") -> Optional[float]:
    """How fast the model share takes writes (Azure Files premium ingress) or serves reads (egress): base + per
    provisioned GiB, MiB/s; in MB/s."""
    figure = data["model_load"]["azure_files_premium_mib_s"]
    quotas = [float(r.inputs["shareQuota"]) for r in plan.of_type("azure-native:storage:FileShare")
              if isinstance(r.inputs.get("shareQuota"), (int, float))]
    base, per_gib = figure[f"{direction}_base"], figure[f"{direction}_per_gib"]
    return min((base + per_gib * q) * 1.048576 for q in quotas) if quotas else None


def _job_work(reg: Registration, data: dict[str, Any], store_mb_s: Optional[float] = None) -> tuple[Span, str]:
    """The model preload Job: the models it pulls (MODELS env) from the registry into the share, at the slower of
    the pull throughput and the share's. Their sizes are the Job's own record (the MODEL_SIZES annotation: the
    stack's declared or catalogue sizes), else the catalogue's."""
    spec = pod_spec(reg.inputs) or {}
    env = {e.get("name"): str(e.get("value", "")) for c in spec.get("containers") or [] for e in c.get("env") or []}
    if env.get("DRY_RUN") == "true" or not env.get("MODELS", "").strip():
        return ZERO, "no models to pull"
    recorded = ModelShare(sizes_gib=tuple(_declared_sizes(reg).items()))
    gib = sum(recorded.size_gib(m) for m in env["MODELS"].split())
    mb = gib * 1074
    pull = data["image_pull"]["throughput_mb_s"]
    cap = store_mb_s or float("inf")
    return (Span(mb / min(pull["median"], cap), mb / min(pull["pessimistic"], cap)),
            f"pull {gib:.1f} GiB of models into the share")


def service_wait(reg: Registration, data: dict[str, Any]) -> Wait:
    spec = reg.inputs.get("spec") or {}
    timeout, source = k8s_timeout(reg)
    k = data["kubernetes"]
    if skips_await(reg):
        return Wait(f"nothing ({SKIP_AWAIT})", Span.of(k["object"]), None)
    if spec.get("type") == "ExternalName" or spec.get("clusterIP") == "None" or not spec.get("selector"):
        return Wait("Service: nothing (headless, ExternalName or no selector)", Span.of(k["object"]), timeout, source)
    span = Span.of(k["service_settle"])
    what = "Service endpoints settled with no unready pod"
    if spec.get("type") == "LoadBalancer":
        span = span + Span.of(k["load_balancer_ip"])
        what += " and a load-balancer IP"
    return Wait(what, span, timeout, source)


def helm_wait(reg: Registration, data: dict[str, Any], cpu_pools: list[Pool]) -> Wait:
    i = reg.inputs
    chart = str(i.get("chart", "")).rsplit("/", 1)[-1]
    charts = data["helm_charts"]
    span = Span.of(charts.get(chart) or charts["default"])
    if i.get("skipAwait") and not i.get("atomic"):  # atomic sets wait (helm_release.go)
        return Wait(f"helm install {chart} (skipAwait: not waited)", Span.of(data["kubernetes"]["object"]), None)
    timeout = float(i.get("timeout") or HELM_DEFAULT_TIMEOUT)
    source = "timeout" if i.get("timeout") else "helm.sh/v3 Release default (300 s)"
    values = json.dumps(i.get("values") or {})
    on = [p for p in cpu_pools if any(f'"{k}": "{v}"' in values for k, v in p.labels)]
    return Wait(f"helm install {chart} --wait (its workloads ready)", span, timeout, source,
                pods_on=sorted({p.urn for p in on}), node_delay=(ZERO, "nodes of the pool") if on else None)


def azure_wait(reg: Registration, data: dict[str, Any]) -> Wait:
    custom = _custom_timeout(reg)
    source = "customTimeouts.create" if custom is not None else ""
    if reg.type == AGENT_POOL:
        p = _pool(reg.urn, reg.inputs)
        if p.min_count > 0:
            span = Span.of(data["agent_pool"]["empty"]) + Span.of(node_family(data, p.vm_size)["spot" if p.spot
                                                                                              else "regular"])
            what = f"AKS adds pool {p.name} and boots its {p.min_count} node(s)"
        else:
            span = Span.of(data["agent_pool"]["empty"])
            what = f"AKS adds pool {p.name} (no nodes)"
        return Wait(what, span, custom, source)
    entry = data["azure"].get(reg.type) or data["azure"]["default"]
    span = Span.of(entry)
    if reg.type == "azure-native:dbforpostgresql:Server" and \
            str((reg.inputs.get("highAvailability") or {}).get("mode", "Disabled")) != "Disabled":
        span = Span(span.median * 1.5, span.pessimistic * 1.5)  # a standby in another zone
    return Wait(f"Azure long-running operation ({reg.type.split(':')[-1]})", span, custom, source)


def wait_of(reg: Registration, data: dict[str, Any], all_pools: list[Pool], provision_limit: float,
            share: ModelShare = ModelShare()) -> Wait:
    """What Pulumi waits for on this resource's create, how long once it may start, and under which deadline."""
    if reg.type.startswith("azure-native:"):
        return azure_wait(reg, data)
    if reg.type == "pulumi:providers:kubernetes":
        return Wait("Azure RBAC propagation of the deployer's cluster role (Pulumi does not wait: a call before it "
                    "answers Forbidden)", Span.of(data["role_assignment_propagation"]), None)
    if reg.type == HELM_RELEASE:
        return helm_wait(reg, data, [p for p in all_pools if p.min_count > 0 and not p.driver])
    if reg.type in CRD_BUNDLES:
        return Wait("CRDs applied (no await for CustomResourceDefinition)", Span.of(data["kubernetes"]["object"]),
                    None)
    k = data["kubernetes"]
    kind = _kind(reg)
    if kind in WORKLOADS:
        return workload_wait(reg, data, all_pools, provision_limit, share)
    if kind == "Service":
        return service_wait(reg, data)
    timeout, source = k8s_timeout(reg)
    if kind and skips_await(reg):
        return Wait(f"nothing ({SKIP_AWAIT})", Span.of(k["object"]), None)
    if kind == "Ingress":  # ingress.go: endpoints for every backend Service and a status.loadBalancer.ingress entry
        return Wait("Ingress: backend endpoints and a load-balancer address", Span.of(k["service_settle"])
                    + Span.of(k["load_balancer_ip"]), timeout, source)
    if kind == "CustomResourceDefinition":
        return Wait("CustomResourceDefinition: created (no awaiter; Established is not waited for)",
                    Span.of(k["object"]), None)
    if kind == "PersistentVolumeClaim":
        return Wait("PVC Bound", Span.of(k["pvc_bind"]), 300.0, "awaiters.go (5 min)")
    if kind == "PersistentVolume":
        return Wait("PV Available", Span.of(k["pv_available"]), 300.0, "awaiters.go (5 min)")
    if kind and WAIT_FOR in _annotations(reg):
        figure = k["gateway_programmed"] if kind == "Gateway" else k["object"]
        return Wait(f"{WAIT_FOR}: {_annotations(reg)[WAIT_FOR]}", Span.of(figure), timeout, source)
    if kind:
        return Wait(f"{kind}: created (no awaiter for this kind)", Span.of(k["object"]), None)
    return Wait("nothing", ZERO, None)


# ---- the graph and the schedule ---------------------------------------------------------------------------------

def selected_workloads(plan: Plan) -> dict[str, str]:
    """Service URN -> the Deployment/StatefulSet whose pods its selector picks (same namespace)."""
    workloads = [r for r in plan.kubernetes_objects() if _kind(r) in ("Deployment", "StatefulSet")]
    found = {}
    for svc in plan.kubernetes_objects():
        selector = (svc.inputs.get("spec") or {}).get("selector") if _kind(svc) == "Service" else None
        if not selector:
            continue
        ns = _meta(svc).get("namespace")
        for wl in workloads:
            labels = ((((wl.inputs.get("spec") or {}).get("template") or {}).get("metadata") or {}).get("labels")
                      or {})
            if _meta(wl).get("namespace") == ns and all(labels.get(k) == v for k, v in selector.items()):
                found[svc.urn] = wl.urn
                break
    return found


def is_step(reg: Registration) -> bool:
    return reg.custom or reg.type in CRD_BUNDLES


def dependencies(plan: Plan) -> dict[str, set[str]]:
    """Each step's direct predecessors: its dependencies (a component's stand for its steps) and its provider."""
    return predecessors(plan.resources, is_step)


SECRETS_STORE_DRIVER = "secrets-store.csi.k8s.io"
IDENTITY = "azure-native:managedidentity:UserAssignedIdentity"


def identity_gates(plan: Plan, data: dict[str, Any]) -> dict[str, list[tuple[str, Span]]]:
    """Workload URN -> (URN, propagation) pairs its pods wait for before their Key Vault volume mounts: a pod
    mounting a SecretProviderClass signs in as the class's workload identity, so it needs the identity's federated
    credential and its Key Vault Secrets User grant to have propagated; Pulumi waits for neither (both creates return
    before). Until then the CSI mount fails and the kubelet retries it with a growing backoff, and the kubelet pulls
    the images only once the volumes are mounted."""
    objects = _objects(plan)
    by_urn = {r.urn: r for r in plan.resources}
    federation = Span.of(data["federated_credential_propagation"])
    grant = Span.of(data["role_assignment_propagation"])
    gates: dict[str, list[tuple[str, Span]]] = {}
    for reg in plan.resources:
        if _kind(reg) not in WORKLOADS or (spec := pod_spec(reg.inputs)) is None:
            continue
        namespace = str(_meta(reg).get("namespace") or "")
        identities = set()
        for volume in spec.get("volumes") or []:
            csi = volume.get("csi") or {}
            if csi.get("driver") != SECRETS_STORE_DRIVER:
                continue
            provider_class = objects.get(("SecretProviderClass", namespace,
                                          str((csi.get("volumeAttributes") or {}).get("secretProviderClass"))))
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


def schedule(plan: Plan, data: Optional[dict[str, Any]] = None, awaited: bool = True) -> DeployModel:
    """The first `pulumi up` as the plan runs it; with `awaited` False, as if every Kubernetes object and release
    were done once created (pulumi.com/skipAwait everywhere): the floor Azure's operations set."""
    data = data or load_durations()
    all_pools = pools(plan)
    limit = _provision_limit(plan)
    graph = dependencies(plan)
    by_urn = {r.urn: r for r in plan.resources}
    share = model_share(plan, data)
    steps = {u: Step(by_urn[u], wait_of(by_urn[u], data, all_pools, limit, share) if awaited
                     or not by_urn[u].type.startswith("kubernetes:") else
                     Wait("created (nothing awaited)", Span.of(data["kubernetes"]["object"]), None)) for u in graph}
    before = ancestors(graph)
    gates = identity_gates(plan, data)
    follows = {svc: wl for svc, wl in selected_workloads(plan).items()
               if svc in steps and wl in steps and svc not in before.get(wl, ()) and "settled" in
               steps[svc].wait.waits_for}
    done: set[str] = set()

    def place(urn: str, trail: tuple[str, ...] = ()) -> None:
        if urn in done:
            return
        if urn in trail:
            raise ValueError(f"dependency cycle through {by_urn[urn].name}")
        step = steps[urn]
        gate, start = None, ZERO
        for dep in sorted(graph[urn]):  # sets iterate in hash order: sorted keeps ties (and so the plan) stable
            place(dep, trail + (urn,))
            f = steps[dep].finish
            if f.median > start.median or (gate is None and f.pessimistic > start.pessimistic):
                gate = dep
            start = Span(max(start.median, f.median), max(start.pessimistic, f.pessimistic))
        step.start, step.after = start, gate
        ready, pool_gate = start, None
        if step.wait.node_delay is not None and step.wait.pods_on:
            delay = step.wait.node_delay[0]
            nodes: list[tuple[Span, str]] = []  # when each pool the pods may run on has nodes for them
            for pool_urn in sorted(step.wait.pods_on):
                place(pool_urn, trail + (urn,))
                pf = steps[pool_urn].finish
                nodes.append((Span(max(start.median, pf.median) + delay.median,
                                   max(start.pessimistic, pf.pessimistic) + delay.pessimistic), pool_urn))
            ready, pool_gate = min(nodes, key=lambda n: n[0].median)  # the first of the earliest, in sorted order
            if steps[pool_gate].finish.median > start.median:
                step.after = pool_gate
        if awaited and urn in gates:  # the volume mounts wait for the identity's propagation, then the pull
            retry = Span.of(data["volume_mount_retry"])
            for gate_urn, propagation in gates[urn]:
                place(gate_urn, trail + (urn,))
                mounted = steps[gate_urn].finish + propagation + retry
                if mounted.median > ready.median:
                    step.after = gate_urn
                ready = Span(max(ready.median, mounted.median), max(ready.pessimistic, mounted.pessimistic))
        step.nodes_ready = ready
        step.finish = ready + step.wait.span
        if urn in follows:
            # service.go: endpoints settle only when no selected pod is unready; a pod counts once it is scheduled
            # (it has an IP): pending pods (no node yet) let the Service finish, scheduled ones hold it.
            wl = steps[follows[urn]]
            place(follows[urn], trail + (urn,))
            settle = step.wait.span
            m = wl.finish.median if wl.nodes_ready.median <= start.median + settle.median else step.finish.median
            p = wl.finish.pessimistic if wl.nodes_ready.pessimistic <= start.pessimistic + settle.pessimistic \
                else step.finish.pessimistic
            if m > step.finish.median:
                step.after = follows[urn]
            step.finish = Span(max(step.finish.median, m), max(step.finish.pessimistic, p))
            step.wait.waits_for += f" (pods of {wl.reg.name})"
        done.add(urn)

    for urn in graph:
        place(urn)
    path: list[str] = []
    if steps:
        current: Optional[str] = max(sorted(steps), key=lambda u: steps[u].finish.median)
        while current is not None:
            path.append(current)
            steps[current].critical = True
            current = steps[current].after
    path.reverse()
    return DeployModel(steps=steps, critical_path=path, problems=[])


# ---- ordering and consistency checks -----------------------------------------------------------------------------

def crd_installers(plan: Plan) -> dict[str, list[Registration]]:
    """API group -> the plan's resources that install its CRDs."""
    found: dict[str, list[Registration]] = {}
    for reg in plan.resources:
        groups: tuple[str, ...] = ()
        if _kind(reg) == "CustomResourceDefinition":
            groups = (str((reg.inputs.get("spec") or {}).get("group", "")),)
        elif reg.type == HELM_RELEASE and not reg.inputs.get("skipCrds"):
            groups = CHART_CRD_GROUPS.get(str(reg.inputs.get("chart", "")).rsplit("/", 1)[-1], ())
        elif reg.type in CRD_BUNDLES:
            source = json.dumps(reg.inputs)
            groups = tuple(g for key, gs in BUNDLE_CRD_GROUPS.items() if key in source for g in gs)
        elif reg.type == MANAGED_CLUSTER:
            addons = reg.inputs.get("addonProfiles") or {}
            groups = tuple(g for key, gs in ADDON_CRD_GROUPS.items()
                           if (addons.get(key) or {}).get("enabled") for g in gs)
        for group in groups:
            found.setdefault(group, []).append(reg)
    return found


def check_crd_order(plan: Plan, before: dict[str, set[str]]) -> list[Problem]:
    installers = crd_installers(plan)
    problems = []
    for reg in plan.kubernetes_objects():
        group = _group(reg)
        if group in BUILTIN_GROUPS:
            continue
        found = installers.get(group, [])
        if not found:
            problems.append(Problem("crd-order", _label(reg), f"no resource of this plan installs the CRDs of "
                                    f"{group}: Pulumi retries an unknown kind for 31 s, then fails"))
        elif not any(i.urn in before.get(reg.urn, ()) for i in found):
            problems.append(Problem("crd-order", _label(reg), f"is not after {', '.join(i.name for i in found)}, "
                                    f"which installs the {group} CRDs: created first, the kind is unknown for 31 s "
                                    f"of retries, then the create fails; fix: depend on it"))
    return problems


# How an object that names another behaves while the named one is missing, per case.
TOLERANT = {
    ("pod", "ConfigMap"): "the kubelet retries the volume mount until it exists",
    ("pod", "Secret"): "the kubelet retries the volume mount until it exists",
    ("pod", "PersistentVolumeClaim"): "the scheduler keeps the pod pending until the claim exists",
    ("pod", "SecretProviderClass"): "the CSI driver's mount is retried by the kubelet",
    ("HTTPRoute", "Gateway"): "the route is accepted when its Gateway appears (Gateway API status reconcile)",
    ("HTTPRoute", "Service"): "the backend resolves when the Service appears (ResolvedRefs reconcile)",
    ("HTTPScaledObject", "Deployment"): "the add-on's operator reconciles until the target exists",
    ("HTTPScaledObject", "Service"): "the interceptor routes to the Service once it exists",
    ("ScaledObject", "Deployment"): "KEDA reconciles until the target exists",
    ("HorizontalPodAutoscaler", "Deployment"): "the HPA reports the missing target and retries",
}
INTOLERANT = {
    ("pod", "ServiceAccount"): "the ReplicaSet/Job controller cannot create a pod for a missing ServiceAccount "
                               "(it backs off, minutes)",
    ("nginx", "Service"): "nginx resolves an upstream `server` name at start and exits 'host not found in "
                          "upstream' (crash-loop)",
}


def _objects(plan: Plan) -> dict[tuple[str, str, str], Registration]:
    found = {}
    for reg in plan.kubernetes_objects():
        meta = _meta(reg)
        if meta.get("name"):
            found[(str(reg.inputs.get("kind")), str(meta.get("namespace") or ""), str(meta["name"]))] = reg
    return found


def references(reg: Registration) -> list[tuple[str, str, str, str]]:
    """(consumer role, kind, namespace, name) of every object this one names."""
    ns = str(_meta(reg).get("namespace") or "")
    kind = _kind(reg)
    spec = reg.inputs.get("spec") or {}
    out: list[tuple[str, str, str, str]] = []
    pod = pod_spec(reg.inputs)
    if pod is not None:
        account = pod.get("serviceAccountName")
        if account and account != "default":
            out.append(("pod", "ServiceAccount", ns, str(account)))
        for v in pod.get("volumes") or []:
            if (v.get("configMap") or {}).get("name") and not v["configMap"].get("optional"):
                out.append(("pod", "ConfigMap", ns, str(v["configMap"]["name"])))
            if (v.get("secret") or {}).get("secretName") and not v["secret"].get("optional"):
                out.append(("pod", "Secret", ns, str(v["secret"]["secretName"])))
            if (v.get("persistentVolumeClaim") or {}).get("claimName"):
                out.append(("pod", "PersistentVolumeClaim", ns, str(v["persistentVolumeClaim"]["claimName"])))
            spc = ((v.get("csi") or {}).get("volumeAttributes") or {}).get("secretProviderClass")
            if spc:
                out.append(("pod", "SecretProviderClass", ns, str(spc)))
    if kind == "HTTPRoute":
        for p in spec.get("parentRefs") or []:
            if p.get("kind", "Gateway") == "Gateway":
                out.append(("HTTPRoute", "Gateway", str(p.get("namespace") or ns), str(p["name"])))
        for rule in spec.get("rules") or []:
            for b in rule.get("backendRefs") or []:
                if b.get("kind", "Service") == "Service" and not b.get("group"):
                    out.append(("HTTPRoute", "Service", str(b.get("namespace") or ns), str(b["name"])))
    if kind in ("HTTPScaledObject", "ScaledObject", "HorizontalPodAutoscaler"):
        target = spec.get("scaleTargetRef") or {}
        if target.get("name"):
            out.append((kind, str(target.get("kind", "Deployment")), ns, str(target["name"])))
        if kind == "HTTPScaledObject" and target.get("service"):
            out.append((kind, "Service", ns, str(target["service"])))
    return out


NGINX_SERVER = re.compile(r"^\s*server\s+([A-Za-z0-9.-]+):\d+", re.M)


def nginx_upstreams(reg: Registration, objects: dict) -> list[tuple[str, str, str, str]]:
    """Upstream host names in the nginx config a workload mounts (resolved once, at start)."""
    pod = pod_spec(reg.inputs) or {}
    ns = str(_meta(reg).get("namespace") or "")
    if not any("nginx" in str(c.get("image", "")) for c in pod.get("containers") or []):
        return []
    out = []
    for v in pod.get("volumes") or []:
        cm = objects.get(("ConfigMap", ns, str((v.get("configMap") or {}).get("name", ""))))
        for text in ((cm.inputs.get("data") or {}).values() if cm else ()):
            for host in NGINX_SERVER.findall(str(text)):
                if re.fullmatch(r"[\d.]+", host) or host == "localhost":
                    continue
                parts = host.split(".")
                out.append(("nginx", "Service", parts[1] if len(parts) > 1 else ns, parts[0]))
    return out


def check_references(plan: Plan, before: dict[str, set[str]]) -> list[Problem]:
    objects = _objects(plan)
    gateways = {(ns, name): reg for (kind, ns, name), reg in objects.items() if kind == "Gateway"}
    charted_namespaces = {str(r.inputs.get("namespace")) for r in plan.helm_releases()}
    problems = []
    for reg in plan.kubernetes_objects():
        refs = references(reg) + nginx_upstreams(reg, objects)
        for role, kind, ns, name in refs:
            target = objects.get((kind, ns, name))
            how = ""
            if target is None and kind == "Service" and name.endswith("-istio") and (ns, name[:-6]) in gateways:
                gw = gateways[(ns, name[:-6])]
                target, how = gw, f" (Istio creates it for Gateway {name[:-6]}; only a Gateway awaited with " \
                                  f"{WAIT_FOR} Programmed guarantees it exists)"
                waited = WAIT_FOR in _annotations(gw)
            else:
                waited = True
            label = f"{kind} {ns + '/' if ns else ''}{name}"
            if target is None:
                if ns in charted_namespaces:
                    continue  # a chart in that namespace may create it
                problems.append(Problem("name-reference", _label(reg), f"names {label}, which nothing in this "
                                        "plan creates (dangling reference)"))
                continue
            if (role, kind) in TOLERANT:
                continue
            reason = INTOLERANT.get((role, kind), "it does not tolerate the absence")
            if target.urn not in before.get(reg.urn, ()) or not waited:
                problems.append(Problem("name-reference", _label(reg), f"names {label}{how} but is not after it, "
                                        f"and it is not tolerant: {reason}; fix: depend on it"))
    return problems


def check_gpu_waits(plan: Plan, graph: dict[str, set[str]]) -> list[Problem]:
    by_urn = {r.urn: r for r in plan.resources}
    gpu_pools = {p.urn for p in pools(plan) if p.driver and by_urn[p.urn].type == AGENT_POOL}

    def needs_gpu(reg: Registration) -> bool:
        spec = pod_spec(reg.inputs)
        return bool(spec and requests_gpu(spec))

    problems = []
    for urn in graph:
        reg = by_urn[urn]
        if not reg.type.startswith("kubernetes:") or needs_gpu(reg):
            continue
        seen: set[str] = set()
        pending, hit = list(graph[urn]), None
        while pending and hit is None:
            dep = pending.pop()
            if dep in seen:
                continue
            seen.add(dep)
            if dep in gpu_pools:
                hit = dep
                break
            if needs_gpu(by_urn[dep]):
                continue  # waiting for a GPU workload is waiting for that workload, not for the pool
            pending.extend(graph.get(dep, ()))
        if hit:
            problems.append(Problem("gpu-wait", _label(reg), f"needs no GPU node but waits for GPU pool "
                                    f"{by_urn[hit].name} (DaemonSets and controllers install with no node); fix: "
                                    "take the GPU selector and tolerations as plain values, not the pool's "
                                    "outputs"))
    return problems


# kubelogin logins that are an application, never a user; and those that are always a user
APP_LOGINS, USER_LOGINS = ("workloadidentity", "spn", "msi"), ("devicecode",)


def deployer_login(plan: Plan) -> Optional[str]:
    """How the Kubernetes provider logs in (kubelogin's --login in its kubeconfig): the identity running `pulumi up`."""
    for reg in plan.of_type("pulumi:providers:kubernetes"):
        match = re.search(r"--login\W+(\w+)", str(reg.inputs.get("kubeconfig", "")))
        if match:
            return match.group(1)
    return None


def check_principal_types(plan: Plan) -> list[Problem]:
    """principalType must be sent (the REST spec's default is User) and match the principal: managed identities
    (user-assigned, a cluster's or Grafana's system-assigned) are ServicePrincipal; the deployer (getClientConfig's
    object) is a ServicePrincipal when the provider logs in as an application, a User with a device-code login
    (an Azure CLI login can be either: the config says)."""
    by_urn = {r.urn: r for r in plan.resources}
    login = deployer_login(plan)
    problems = []
    for reg in plan.of_type("azure-native:authorization:RoleAssignment"):
        kind = reg.inputs.get("principalType")
        managed = any(by_urn[d].type in MANAGED_IDENTITY_SOURCES for d in reg.dependencies if d in by_urn
                      and str(reg.inputs.get("principalId", "")).endswith("-principal"))
        if not kind:
            problems.append(Problem("principal-type", reg.name, "has no principalType: ARM takes User (the REST "
                                    "spec's default) and refuses any other principal with UnmatchedPrincipalType; "
                                    "fix: set it for the principal's kind"))
        elif managed and kind != "ServicePrincipal":
            problems.append(Problem("principal-type", reg.name, f"principalType {kind} for a managed identity, "
                                    "which is a ServicePrincipal"))
        elif reg.inputs.get("principalId") == DEPLOYER and login in APP_LOGINS + USER_LOGINS:
            wanted = "ServicePrincipal" if login in APP_LOGINS else "User"
            if kind != wanted:
                problems.append(Problem("principal-type", reg.name, f"principalType {kind} for the deployer, who "
                                        f"logs in with kubelogin --login {login} (a {wanted}): ARM refuses it with "
                                        f"UnmatchedPrincipalType; fix: cluster.deployerPrincipalType"))
    return problems


def check_job_outputs(plan: Plan, before: dict[str, set[str]]) -> list[Problem]:
    """A workload that mounts read-only a claim a Job writes needs the Job's output: it must be after the Job, and
    the Job awaited (a skipAwait Job is 'done' when created)."""
    writers: dict[tuple[str, str], list[Registration]] = {}
    for reg in plan.kubernetes_objects():
        if _kind(reg) != "Job":
            continue
        spec = pod_spec(reg.inputs) or {}
        ns = str(_meta(reg).get("namespace") or "")
        for v in spec.get("volumes") or []:
            claim = (v.get("persistentVolumeClaim") or {})
            if claim.get("claimName") and not claim.get("readOnly"):
                writers.setdefault((ns, str(claim["claimName"])), []).append(reg)
    problems = []
    for reg in plan.kubernetes_objects():
        if _kind(reg) not in ("Deployment", "StatefulSet", "DaemonSet"):
            continue
        spec = pod_spec(reg.inputs) or {}
        ns = str(_meta(reg).get("namespace") or "")
        for v in spec.get("volumes") or []:
            claim = (v.get("persistentVolumeClaim") or {})
            for job in writers.get((ns, str(claim.get("claimName"))), []) if claim.get("readOnly") else []:
                if job.urn not in before.get(reg.urn, ()) or skips_await(job):
                    problems.append(Problem("job-output", _label(reg), f"reads claim {claim['claimName']} read-only, "
                                            f"which Job {_meta(job).get('name')} fills, but is not after the awaited "
                                            "Job: it starts on an empty volume; fix: await the Job and depend on it"))
    return problems


def check_timeouts(model: DeployModel, any_pool: bool = True) -> list[Problem]:
    problems = []
    for step in model.steps.values():
        w = step.wait
        if any_pool and w.timeout is not None and not w.pods_on and _kind(step.reg) in ("Deployment", "StatefulSet",
                                                                                      "Job", "Pod") \
                and "0 replicas" not in w.waits_for:
            problems.append(Problem("timeout", _label(step.reg), "its pods fit no node pool of this plan (node "
                                    "selector, affinity or tolerations): they stay Pending and the wait runs to its "
                                    "deadline, then fails; fix: place them on a pool"))
            continue
        t = step.wait.timeout
        if t is None or step.elapsed.pessimistic <= t:
            continue
        reg = step.reg
        if reg.type == HELM_RELEASE:
            fix = f"raise the release's timeout to at least {int(step.elapsed.pessimistic) + 1} s"
        elif reg.type.startswith("kubernetes:"):
            fix = (f"set {TIMEOUT_SECONDS} to at least {int(step.elapsed.pessimistic) + 1} (or customTimeouts."
                   f"create), or {SKIP_AWAIT} when Pulumi should not wait")
        else:
            fix = f"raise customTimeouts.create above {int(step.elapsed.pessimistic)} s"
        problems.append(Problem("timeout", _label(reg), f"waits for {step.wait.waits_for}: pessimistic "
                                f"{step.elapsed.pessimistic / 60:.1f} min > its deadline {t / 60:.1f} min "
                                f"({step.wait.timeout_from}); fix: {fix}"))
    return problems


def evaluate(plan: Plan, data: Optional[dict[str, Any]] = None) -> DeployModel:
    """The schedule and every check, for `make plan` and the tests."""
    data = data or load_durations()
    model = schedule(plan, data)
    model.floor = schedule(plan, data, awaited=False)
    graph = dependencies(plan)
    before = ancestors(graph)
    model.problems = (check_timeouts(model, bool(pools(plan))) + check_crd_order(plan, before)
                      + check_references(plan, before)
                      + check_gpu_waits(plan, graph)
                      + [Problem(c.rule, c.resource, c.message) for c in conflicts(plan.resources, before)]
                      + check_principal_types(plan) + check_job_outputs(plan, before))
    return model


def report_lines(model: DeployModel) -> list[str]:
    lines = [model.summary(), *([line] if (line := model.floor_line()) else [])]
    lines.extend(f"deploy model: {p}" for p in model.problems)
    return lines
