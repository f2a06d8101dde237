"""What Pulumi waits for on each resource's create and under which deadline: pulumi-kubernetes' await rules per
kind, Helm releases, Azure long-running operations."""
from __future__ import annotations

import json
import re
from typing import Any, Optional

from llmplatform.access_review import DEADLINE_S
from llmplatform.llmd_specs import MODEL_WEIGHTS_ANNOTATION
from llmplatform.units import MB_PER_GIB
from llmplatform.write_order import AGENT_POOL

from ..pod_specs import pod_spec
from ..runner import Plan, Registration
from ..wire import duration_seconds
from .model import (CRD_BUNDLES, DEFAULT_K8S_TIMEOUT, HELM_DEFAULT_TIMEOUT, HELM_RELEASE, SKIP_AWAIT, Span,
                    TIMEOUT_SECONDS, WAIT_FOR, WORKLOADS, Wait, ZERO)
from .charts import release_load_balancers
from .objects import annotations_of, by_cluster, containers_of, gpus_of, kind_of, requests_gpu, storage_classes
from .figures import (ModelShare, container_start, declared_model_sizes, image_pull, model_load, model_weights_gb,
                      ollama_warm_up, vllm_model)
from .pools import Pool, landing_pools, node_family, node_wait, nodes_from, pool_of


def _custom_timeout(reg: Registration) -> Optional[float]:
    return duration_seconds((reg.options.get("customTimeouts") or {}).get("create"))


# Go's strconv.Atoi: an optional sign and decimal digits, nothing around them
_ATOI = re.compile(r"[+-]?[0-9]+")


def k8s_timeout(reg: Registration) -> tuple[float, str]:
    """provider/pkg/metadata/overrides.go TimeoutDuration: customTimeouts first unless 0 (`resourceTimeoutSeconds
    != 0`), then the annotation as strconv.Atoi reads it (a sign allowed, no spaces; unreadable is ignored), else
    the awaiter's 10 minutes."""
    custom = _custom_timeout(reg)
    if custom:
        return custom, "customTimeouts.create"
    raw = annotations_of(reg).get(TIMEOUT_SECONDS)
    if raw is not None and _ATOI.fullmatch(str(raw)):
        return float(int(str(raw))), TIMEOUT_SECONDS
    return float(DEFAULT_K8S_TIMEOUT), "pulumi-kubernetes default (10 min)"


def skips_await(reg: Registration) -> bool:
    return str(annotations_of(reg).get(SKIP_AWAIT, "")).lower() == "true"


def _replicas(reg: Registration) -> int:
    spec = reg.inputs.get("spec") or {}
    if kind_of(reg) in ("Job", "Pod"):
        return 1
    value = spec.get("replicas", 1)
    return int(value) if isinstance(value, (int, float)) else 1


def workload_wait(reg: Registration, data: dict[str, Any], all_pools: list[Pool], provision_limit: float,
                  share: ModelShare = ModelShare()) -> Wait:
    kind = kind_of(reg)
    spec = pod_spec(reg.inputs) or {}
    timeout, source = k8s_timeout(reg)
    obj = data["kubernetes"]["object"]
    if skips_await(reg):
        return Wait(f"nothing ({SKIP_AWAIT})", Span.of(obj), None)
    if kind != "DaemonSet" and _replicas(reg) == 0:
        return Wait(f"{kind} with 0 replicas: nothing to be ready", Span.of(obj), timeout, source)
    images = [str(c.get("image", "")) for c in containers_of(spec)]
    gpu = requests_gpu(spec)
    span = image_pull(data, images) + container_start(data, images)
    what = {"Deployment": "all replicas ready", "StatefulSet": "all replicas ready", "Job": "Complete",
            "Pod": "Ready", "DaemonSet": "a ready pod on every node it selects"}[kind]
    parts = ["image pull", "start"]
    model = vllm_model(spec)
    weights = model_weights_gb(model, annotations_of(reg).get(MODEL_WEIGHTS_ANNOTATION)) if model else None
    if weights:
        span = span + model_load(data, weights)
        parts.append(f"download and load {model} (~{weights:.0f} GB)")
    warm = ollama_warm_up(data, spec, share, _replicas(reg))
    if warm:
        span = span + warm.span
        parts.append(warm.describe())
    if kind == "Job":
        work = job_work(reg, data, share.write_mb_s)
        span = span + work[0]
        parts.append(work[1])
    if kind == "DaemonSet":
        # ready on the nodes that exist: none yet on a pool at zero
        return Wait(f"DaemonSet {what}", span, timeout, source)
    candidates = landing_pools(spec, all_pools)
    gpus_needed = gpus_of(spec) * _replicas(reg)
    wait = Wait(f"{kind} {what} ({', '.join(parts)})", span, timeout, source,
                pods_on=sorted({p.urn for p in nodes_from(candidates, gpus_needed)}), warm_up=warm)
    if candidates:
        wait.node_delay = node_wait(data, candidates, gpu, provision_limit, gpus_needed)
    return wait


def job_work(reg: Registration, data: dict[str, Any], store_mb_s: Optional[float] = None) -> tuple[Span, str]:
    """The model preload Job: the models it pulls (MODELS env) from the registry into the share, at the slower of
    the pull throughput and the share's. Their sizes are the Job's own record (the MODEL_SIZES annotation: the
    stack's declared or catalogue sizes), else the catalogue's."""
    spec = pod_spec(reg.inputs) or {}
    env = {e.get("name"): str(e.get("value", "")) for c in spec.get("containers") or [] for e in c.get("env") or []}
    if env.get("DRY_RUN") == "true" or not env.get("MODELS", "").strip():
        return ZERO, "no models to pull"
    recorded = ModelShare(sizes_gib=tuple(declared_model_sizes(reg).items()))
    gib = sum(recorded.size_gib(m) for m in env["MODELS"].split())
    mb = gib * MB_PER_GIB
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


def release_skips_wait(reg: Registration) -> bool:
    """A Helm release Pulumi does not wait for: `skipAwait` without `atomic` (atomic sets wait: helm_release.go)."""
    return bool(reg.inputs.get("skipAwait") and not reg.inputs.get("atomic"))


def helm_wait(reg: Registration, data: dict[str, Any], cpu_pools: list[Pool]) -> Wait:
    i = reg.inputs
    chart = str(i.get("chart", "")).rsplit("/", 1)[-1]
    charts = data["helm_charts"]
    span = Span.of(charts.get(chart) or charts["default"])
    if release_skips_wait(reg):
        return Wait(f"helm install {chart} (skipAwait: not waited)", Span.of(data["kubernetes"]["object"]), None)
    timeout = float(i.get("timeout") or HELM_DEFAULT_TIMEOUT)
    source = "timeout" if i.get("timeout") else "helm.sh/v3 Release default (300 s)"
    values = json.dumps(i.get("values") or {})
    on = [p for p in cpu_pools if any(f'"{k}": "{v}"' in values for k, v in p.labels)]
    what = "its workloads ready"
    balancers = release_load_balancers(reg)
    if balancers:  # helm pkg/kube/ready.go serviceReady: a LoadBalancer Service is ready once it has an address
        span = span + Span.of(data["kubernetes"]["load_balancer_ip"])
        what += f" and a load-balancer address for its Service ({', '.join(path for path, _ in balancers)})"
    return Wait(f"helm install {chart} --wait ({what})", span, timeout, source,
                pods_on=sorted({p.urn for p in on}), node_delay=(ZERO, "nodes of the pool") if on else None)


def azure_wait(reg: Registration, data: dict[str, Any]) -> Wait:
    custom = _custom_timeout(reg)
    source = "customTimeouts.create" if custom is not None else ""
    if reg.type == AGENT_POOL:
        p = pool_of(reg.urn, reg.inputs)
        if p.start_nodes > 0:
            span = Span.of(data["agent_pool"]["empty"]) + Span.of(node_family(data, p.vm_size)["spot" if p.spot
                                                                                              else "regular"])
            what = f"AKS adds pool {p.name} and boots its {p.start_nodes} node(s)"
        else:
            span = Span.of(data["agent_pool"]["empty"])
            what = f"AKS adds pool {p.name} (no nodes)"
        return Wait(what, span, custom, source)
    entry = data["azure"].get(reg.type) or data["azure"]["default"]
    span, what = Span.of(entry), reg.type.split(':')[-1]
    if "high_availability" in entry and \
            str((reg.inputs.get("highAvailability") or {}).get("mode", "Disabled")) != "Disabled":
        span, what = span + Span.of(entry["high_availability"]), f"{what} with its standby"
    return Wait(f"Azure long-running operation ({what})", span, custom, source)


# AKS's built-in classes whose volumeBindingMode is WaitForFirstConsumer, the disk classes (`default`, AKS's default
# class, among them); the file classes are Immediate (Microsoft's k8s-on-azure-workshop, module 3 "AKS Storage
# Implementation", built-in StorageClasses table)
AKS_FIRST_CONSUMER_CLASSES = frozenset({"default", "managed", "managed-premium", "managed-csi", "managed-csi-premium"})
FIRST_CONSUMER = "WaitForFirstConsumer"


# The annotation that makes a class the cluster's default; in `bind_modes` (no class name has a '/') it maps to the
# name of the plan's default class
DEFAULT_CLASS = "storageclass.kubernetes.io/is-default-class"


def bind_modes(plan_objects: list[Registration]) -> dict[str, str]:
    """StorageClass name -> volumeBindingMode, for the classes the plan creates (Immediate when not given); under
    DEFAULT_CLASS the last one the plan marks default: with several defaults (AKS's `default` and the plan's), the
    DefaultStorageClass admission plugin gives a claim without a class the newest (Kubernetes "Default
    StorageClass"), and the plan's are created after the cluster's."""
    classes = storage_classes(plan_objects)
    found = {name: str(r.inputs.get("volumeBindingMode") or "Immediate") for name, r in classes.items()}
    defaults = [name for name, r in classes.items() if str(annotations_of(r).get(DEFAULT_CLASS)) == "true"]
    return {**found, **({DEFAULT_CLASS: defaults[-1]} if defaults else {})}


def cluster_bind_modes(plan: Plan) -> dict[Any, dict[str, str]]:
    """`bind_modes` per cluster (`cluster_keys`): a claim reads the classes of its own cluster only."""
    return {cluster: bind_modes(objects) for cluster, objects in by_cluster(plan, plan.kubernetes_objects()).items()}


def pvc_wait(reg: Registration, data: dict[str, Any], classes: dict[str, str]) -> Wait:
    """awaiters.go untilCoreV1PersistentVolumeClaimReady (5 minutes): on a create, a claim of a WaitForFirstConsumer
    class is ready while Pending (it binds once a pod using it is scheduled), any other is ready when Bound. The
    class is the claim's storageClassName, none given the cluster's default (the DefaultStorageClass admission
    plugin sets it: the plan's default class, else AKS's `default`); its mode from a StorageClass the plan creates,
    else AKS's built-ins. An empty name (a static volume; `pvcBindMode` finds no class) and a class unknown here
    wait for Bound."""
    spec = reg.inputs.get("spec") or {}
    name = spec.get("storageClassName", classes.get(DEFAULT_CLASS, "default"))
    mode = classes.get(name) or (FIRST_CONSUMER if name in AKS_FIRST_CONSUMER_CLASSES else "")
    if mode == FIRST_CONSUMER:
        return Wait(f"PVC Pending ({name}: {FIRST_CONSUMER}, bound when its first pod is scheduled)",
                    Span.of(data["kubernetes"]["object"]), 300.0, "awaiters.go (5 min)")
    return Wait("PVC Bound", Span.of(data["kubernetes"]["pvc_bind"]), 300.0, "awaiters.go (5 min)")


def awaits_address(wait_for: str) -> bool:
    """A Gateway's `pulumi.com/waitFor` that needs its address: Programmed (Istio keeps it False, AddressNotAssigned,
    until the Service has one) or the addresses themselves; Accepted does not."""
    return "Programmed" in wait_for or "addresses" in wait_for


def provider_wait(reg: Registration, data: dict[str, Any], access: dict[str, str]) -> Wait:
    """A Kubernetes provider is ready for its first create once the deployer's cluster role has propagated: awaited
    when its kubeconfig is gated (llmplatform.cluster_access, under its deadline), else a race (`deployer-access`)."""
    propagation = Span.of(data["role_assignment_propagation"])
    state = access.get(reg.urn)
    if state == "gated":
        return Wait("the deployer's cluster role reaching the API server (a SelfSubjectAccessReview asked until "
                    "allowed)", propagation, DEADLINE_S,
                    f"llmplatform.cluster_access ({DEADLINE_S / 60:.0f} min)")
    if state == "raced":
        return Wait("Azure RBAC propagation of the deployer's cluster role (nothing waits for it: a create before it "
                    "answers Forbidden)", propagation, None)
    return Wait("nothing (the deployer's access to the cluster is given outside this plan)",
                Span.of(data["kubernetes"]["object"]), None)


ISTIO_SERVICE_TYPE = "networking.istio.io/service-type"


def gateway_load_balancer(reg: Registration) -> bool:
    """An Istio Gateway whose generated Service is of type LoadBalancer (Istio's default, unless the Gateway's
    `networking.istio.io/service-type` annotation names another type). Istio reports it Programmed only once that
    Service has an address (pilot/pkg/config/kube/gateway: AddressNotAssigned, "address pending" until then)."""
    return (kind_of(reg) == "Gateway" and str((reg.inputs.get("spec") or {}).get("gatewayClassName")) == "istio"
            and str(annotations_of(reg).get(ISTIO_SERVICE_TYPE, "LoadBalancer")) == "LoadBalancer")


def wait_of(reg: Registration, data: dict[str, Any], all_pools: list[Pool], provision_limit: float,
            share: ModelShare = ModelShare(), bind_modes: Optional[dict[str, str]] = None,
            access: Optional[dict[str, str]] = None) -> Wait:
    """What Pulumi waits for on this resource's create, how long once it may start, and under which deadline
    (`bind_modes`: the plan's storage classes, `bind_modes()`; `access`: the providers' `deployer_access()`)."""
    if reg.type.startswith("azure-native:"):
        return azure_wait(reg, data)
    if reg.type == "pulumi:providers:kubernetes":
        return provider_wait(reg, data, access or {})
    if reg.type == HELM_RELEASE:
        return helm_wait(reg, data, [p for p in all_pools if p.start_nodes > 0 and not p.driver])
    if reg.type in CRD_BUNDLES:
        return Wait("CRDs applied (no await for CustomResourceDefinition)", Span.of(data["kubernetes"]["object"]),
                    None)
    k = data["kubernetes"]
    kind = kind_of(reg)
    timeout, source = k8s_timeout(reg)
    if kind and skips_await(reg):
        return Wait(f"nothing ({SKIP_AWAIT})", Span.of(k["object"]), None)
    # metadata.ReadyCondition: skipAwait, else waitFor, replaces the kind's built-in awaiter (await.go Creation uses
    # it only when neither is set), under the same deadline (no PVC/PV 5 minutes, no Service endpoints); an empty
    # annotation is none (ReadyCondition: `if val == ""`, the kind's awaiter then)
    custom = (annotations_of(reg).get(WAIT_FOR) or None) if kind else None
    if kind in WORKLOADS:
        wait = workload_wait(reg, data, all_pools, provision_limit, share)
        if custom is not None:  # the condition is the user's; its pods are taken to start as the awaiter's would
            wait.waits_for = f"{WAIT_FOR}: {custom} (in place of the awaiter's {wait.waits_for})"
        return wait
    if custom is not None:
        figure = Span.of(k["gateway_programmed"] if kind == "Gateway" else k["object"])
        if kind == "Gateway" and awaits_address(custom) and gateway_load_balancer(reg):
            figure = figure + Span.of(k["load_balancer_ip"])  # Programmed once its Service has an address
        return Wait(f"{WAIT_FOR}: {custom}", figure, timeout, source)
    if kind == "Service":
        return service_wait(reg, data)
    if kind == "Ingress":  # ingress.go: endpoints for every backend Service and a status.loadBalancer.ingress entry
        return Wait("Ingress: backend endpoints and a load-balancer address", Span.of(k["service_settle"])
                    + Span.of(k["load_balancer_ip"]), timeout, source)
    if kind == "CustomResourceDefinition":
        return Wait("CustomResourceDefinition: created (no awaiter; Established is not waited for)",
                    Span.of(k["object"]), None)
    if kind == "PersistentVolumeClaim":
        return pvc_wait(reg, data, bind_modes or {})
    if kind == "PersistentVolume":
        return Wait("PV Available", Span.of(k["pv_available"]), 300.0, "awaiters.go (5 min)")
    if kind:
        return Wait(f"{kind}: created (no awaiter for this kind)", Span.of(k["object"]), None)
    return Wait("nothing", ZERO, None)
