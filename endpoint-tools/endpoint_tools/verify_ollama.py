"""llm-verify's Ollama part: the checks of a cluster running the Ollama stack (dev, prod, and beside llm-d in the llmd
stack or a prod region with llm-d), run when the stack's outputs carry `inference` (verify.parts_of).

From the outputs: `inference` (the model server's namespace, Deployment and accelerator, the autoscaling mode,
whether Open-WebUI runs), `modelPvc`, `modelPreloadJob`, `gpuNodeSelector`, `modelApiUrl` and `apiKeySecret`. The
names the stack does not export are the components' own: the gate's `router` and the UI's `open-webui` Deployments,
the autoscaler's ScaledObject `<deployment>-scaler`, the KEDA HTTP add-on's interceptor, the DCGM exporter's
DaemonSet and the metric the GPU-memory HPA reads; the tests check each against the dev and prod plans.
"""
import json
from dataclasses import dataclass
from typing import Any, Callable, Optional

from .checks import (GPU, Cluster, Gate, allocatable_on_gpu_nodes, check_deployment, check_gateways, check_smoke,
                     condition, condition_text, run_steps, selector_text, true_now, verdict_text)
from .endpoint import EndpointError
from .smoke import Check

# the KEDA HTTP add-on's route (http.keda.sh/v1beta1, add-on 0.14.0+): ModelAutoscaler names it after the Deployment
INTERCEPTOR_ROUTE = ("http.keda.sh", "v1beta1", "interceptorroutes", "InterceptorRoute")
SCALED_OBJECT = ("keda.sh", "v1alpha1", "scaledobjects", "ScaledObject")
# the KEDA HTTP add-on chart's interceptor Deployment (`{{ .Chart.Name }}-interceptor`), in Observability's namespace
INTERCEPTOR = ("keda", "keda-add-ons-http-interceptor")
# NVIDIA's dcgm-exporter chart released as `dcgm-exporter` (driver aks), or the GPU Operator's own (driver operator)
DCGM_EXPORTERS = (("monitoring", "dcgm-exporter"), ("gpu-operator", "nvidia-dcgm-exporter"))
# what the gpu-memory HPA reads: Prometheus Adapter's rule over DCGM_FI_DEV_FB_USED/FREE (Observability)
GPU_MEMORY_METRIC = "gpu_memory_utilization"
CUSTOM_METRICS = "/apis/custom.metrics.k8s.io/v1beta1"  # the version Prometheus Adapter's APIService registers
# The condition types read, each the upstream controller's constant (tests/upstream/status/ lists them):
# kedacore/http-add-on v0.15.0 and kedacore/keda v2.20.2 (Ready, Active, Paused, Fallback, HPAActive),
# kubernetes/api v0.35.7 batch/v1 (a Job's Complete and Failed; from 1.31 SuccessCriteriaMet comes first, and
# Complete only once the pods are gone) and autoscaling/v2 (ScalingActive, AbleToScale)
KEDA_READY, KEDA_ACTIVE, KEDA_PAUSED, KEDA_FALLBACK, KEDA_HPA_ACTIVE = "Ready", "Active", "Paused", "Fallback", \
    "HPAActive"
JOB_COMPLETE, JOB_FAILED = "Complete", "Failed"
HPA_SCALING_ACTIVE, HPA_ABLE_TO_SCALE = "ScalingActive", "AbleToScale"
# what `inference` may say (llmplatform.choices ACCELERATORS, AUTOSCALING_MODES and the stack's `none`): the checks
# made follow them, so a value outside them (a hand-edited file, a program of your own) is named, never read as cpu
# and no autoscaler, which skipped the GPU and autoscaler checks and could pass
ACCELERATORS = ("cpu", "gpu")
AUTOSCALING = ("requests", "gpu-memory", "cpu", "none")


@dataclass
class Target:
    """What is checked, from the stack's outputs."""

    namespace: str
    deployment: str
    accelerator: str  # cpu | gpu
    autoscaling: str  # requests | gpu-memory | cpu | none
    webui: bool
    claim: str
    preload_job: str
    gpu_selector: dict[str, str]
    gate: Gate


def excerpt(value: Any, width: int = 80) -> str:
    """A stack output's value in an error line, as JSON, cut to `width` (never a secret's: see secret_text)."""
    text = json.dumps(value)
    return text if len(text) <= width else text[: width - 3] + "..."


class Outputs(dict):
    """A stack's outputs read under llm-verify's names (verify.OUTPUTS), each one --output-name maps read from the
    program's own output: `shown` and `listed` name them as the user's stack has them."""

    def __init__(self, found: dict[str, Any], yours: dict[str, str]):
        super().__init__({**found, **{name: found[theirs] for name, theirs in yours.items()}})
        self.yours, self.found = yours, sorted(found)


def shown(outputs: dict[str, Any], key: str) -> str:
    """An output's name in a user-facing line: the user's own when --output-name maps it, with the name --help
    describes it under ("frcNs (read as llmdNamespace)"); a plain dict of outputs: the name itself."""
    yours = getattr(outputs, "yours", {}).get(key)
    return f"{yours} (read as {key})" if yours else key


def listed(outputs: dict[str, Any]) -> str:
    """The outputs the stack has, by their own names (not the names --output-name adds), for an error line."""
    return ", ".join(getattr(outputs, "found", None) or sorted(outputs)) or "none"


def text_output(outputs: dict[str, Any], key: str, what: str) -> Optional[str]:
    """A stack output that is text (`what` it names), None when absent, null or empty; any other value is an
    EndpointError naming the output (an outputs file edited by hand, or another stack's)."""
    value = outputs.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise EndpointError(f"stack output {shown(outputs, key)} is {excerpt(value)}: expected text ({what})")
    return value


def secret_text(outputs: dict[str, Any], key: str, what: str) -> Optional[str]:
    """As text_output, for an output whose value is never printed (the kubeconfig): only its type is named."""
    value = outputs.get(key)
    if value == "[secret]":  # how `pulumi stack output --json` prints a secret without --show-secrets
        raise EndpointError(f"stack output {shown(outputs, key)} is \"[secret]\": the outputs were written without "
                            f"--show-secrets; write them with `pulumi stack output --json --show-secrets > FILE`, or "
                            f"pass --kubeconfig")
    if value is None or value == "" or isinstance(value, str):
        return value or None
    kind = {bool: "true or false", int: "a number", float: "a number", list: "a list", dict: "an object"}
    raise EndpointError(f"stack output {shown(outputs, key)} is {kind.get(type(value), type(value).__name__)}: "
                        f"expected text ({what})")


def selector_output(outputs: dict[str, Any], key: str = "gpuNodeSelector") -> dict[str, str]:
    """The GPU nodes' label selector: an object of label names and values (none: every node)."""
    value = outputs.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise EndpointError(f"stack output {shown(outputs, key)} is {excerpt(value)}: expected an object of node "
                            f"label names and values, e.g. {{\"llm-platform/pool\": \"gpu\"}}")
    return dict(value)


def target_from_outputs(outputs: dict[str, Any]) -> Target:
    inference = outputs.get("inference")
    fields = ("namespace", "deployment", "accelerator", "autoscaling")
    if not isinstance(inference, dict) or not all(isinstance(inference.get(k), str) and inference[k]
                                                  for k in fields):
        raise EndpointError(f"stack output {shown(outputs, 'inference')} is {excerpt(inference)}: expected an object "
                            f"with {', '.join(fields)} (and webui)")
    for field, allowed in (("accelerator", ACCELERATORS), ("autoscaling", AUTOSCALING)):
        if inference[field] not in allowed:
            raise EndpointError(f"stack output {shown(outputs, 'inference')}'s {field} is {excerpt(inference[field])}: "
                                f"expected one of {', '.join(allowed)}")
    if inference.get("webui") is not None and not isinstance(inference["webui"], bool):
        raise EndpointError(f"stack output {shown(outputs, 'inference')}'s webui is {excerpt(inference['webui'])}: "
                            f"expected true or false (whether Open-WebUI runs)")
    claim = text_output(outputs, "modelPvc", "the model claim's name")
    preload_job = text_output(outputs, "modelPreloadJob", "the preload Job's name")
    if claim is None or preload_job is None:
        missing = [shown(outputs, key) for key, value in (("modelPvc", claim), ("modelPreloadJob", preload_job))
                   if value is None]
        raise EndpointError(f"stack output(s) {', '.join(missing)} missing; outputs: {listed(outputs)}")
    # none: the gate takes no key
    key_secret = text_output(outputs, "apiKeySecret", "a Key Vault secret's name") and shown(outputs, "apiKeySecret")
    return Target(namespace=inference["namespace"], deployment=inference["deployment"],
                  accelerator=inference["accelerator"], autoscaling=inference["autoscaling"],
                  webui=bool(inference.get("webui")), claim=claim, preload_job=preload_job,
                  gpu_selector=selector_output(outputs),
                  gate=Gate(text_output(outputs, "modelApiUrl", "the API gate's URL"), shown(outputs, "modelApiUrl"),
                            key_secret))


def describe(t: Target) -> str:
    return (f"verify of the Ollama stack in namespace {t.namespace} (Ollama on {t.accelerator}, autoscaling "
            f"{t.autoscaling})" + ("" if t.gate.url else f"; no Gateway ({t.gate.url_output} is empty): no gateways or "
                                                          f"smoke check, smoke Ollama through a port-forward with "
                                                          f"llm-smoke"))


def scaled_to_zero(cluster: Cluster, t: Target) -> bool:
    """Ollama at zero replicas under the KEDA HTTP add-on (which starts one with the first request)."""
    if t.autoscaling != "requests":
        return False
    found = cluster.call(cluster.apps.read_namespaced_deployment, t.deployment, t.namespace)
    return found is not None and not found.spec.replicas


def check_claim(cluster: Cluster, t: Target) -> Check:
    claim = cluster.call(cluster.core.read_namespaced_persistent_volume_claim, t.claim, t.namespace)
    if claim is None:
        return Check("model-claim", False, f"PersistentVolumeClaim {t.namespace}/{t.claim} not found")
    if claim.status is None or claim.status.phase != "Bound":
        return Check("model-claim", False, f"{t.claim} is {(claim.status and claim.status.phase) or 'not bound'}")
    size = (claim.status.capacity or {}).get("storage", "?")
    return Check("model-claim", True, f"{t.claim} Bound to {claim.spec.volume_name} ({size})")


def check_preload(cluster: Cluster, t: Target) -> Check:
    """The Job that lays the model store out and pulls the models, awaited by `pulumi up`: complete."""
    job = cluster.call(cluster.batch.read_namespaced_job, t.preload_job, t.namespace)
    if job is None:
        return Check("model-preload", False, f"Job {t.namespace}/{t.preload_job} not found")
    status, logs = job.status, f"kubectl -n {t.namespace} logs job/{t.preload_job}"
    failed = condition(status and status.conditions, JOB_FAILED)
    if failed and failed["status"] == "True":
        return Check("model-preload", False, f"{t.preload_job} failed ({condition_text(failed)}); {logs}")
    complete = condition(status and status.conditions, JOB_COMPLETE)
    if not complete or complete["status"] != "True":
        running = (status and status.active) or 0
        return Check("model-preload", False, f"{t.preload_job} not complete ({running} pod(s) running); {logs} -f")
    return Check("model-preload", True, f"{t.preload_job} complete")


def check_gpus(cluster: Cluster, t: Target) -> Check:
    idle = scaled_to_zero(cluster, t)
    selector = selector_text(t.gpu_selector) or "the GPU selector"
    return allocatable_on_gpu_nodes(
        cluster, t.gpu_selector, "gpus", GPU,
        f"no node matches {selector}: Ollama is scaled to zero (the pool starts a node with the first request)"
        if idle else f"no node matches {selector}, and Ollama wants a replica on one",
        "driver or device plugin not ready", "{total} GPU(s) allocatable on {nodes} node(s)", none_ok=idle)


def check_dcgm(cluster: Cluster, t: Target) -> Check:
    """The DCGM exporter on every GPU node: the GPU-memory signal of the autoscaler and the dashboards."""
    for namespace, name in DCGM_EXPORTERS:
        exporter = cluster.call(cluster.apps.read_namespaced_daemon_set, name, namespace)
        if exporter is not None:
            break
    else:
        return Check("dcgm-exporter", False, "no DCGM exporter DaemonSet (" + ", ".join(
            f"{ns}/{name}" for ns, name in DCGM_EXPORTERS) + ")")
    nodes = len(cluster.call(cluster.core.list_node, label_selector=selector_text(t.gpu_selector)).items)
    wanted, ready = exporter.status.desired_number_scheduled, exporter.status.number_ready
    where = f"{namespace}/{name}"
    if wanted < nodes:
        return Check("dcgm-exporter", False, f"{where} scheduled on {wanted} of {nodes} GPU node(s) (its node "
                                             f"selector or tolerations?)")
    if ready < wanted:
        return Check("dcgm-exporter", False, f"{where}: {ready} of {wanted} pod(s) ready")
    return Check("dcgm-exporter", True, f"{where}: {ready} of {wanted} pod(s) ready" if wanted else
                 f"{where}: no GPU node yet (a pod lands on each as it starts)")


def check_keda(cluster: Cluster, t: Target) -> Check:
    """requests mode: the InterceptorRoute (the interceptor's route and request count) Ready for its current
    generation (the add-on's operator sets Ready for each generation it has seen: here, that it runs and has read
    the route), and the ScaledObject beside it (requests plus GPU memory or CPU) Ready, not paused, not on fallback
    replicas and its HPA scaling; at zero replicas, Active says whether a request is waiting."""
    route = cluster.call(cluster.custom.get_namespaced_custom_object, *INTERCEPTOR_ROUTE[:2], t.namespace,
                         INTERCEPTOR_ROUTE[2], t.deployment)
    if route is None:  # a stack deployed before the platform moved off the deprecated HTTPScaledObject has none
        return Check("keda", False, f"InterceptorRoute {t.namespace}/{t.deployment} not found (a stack last deployed "
                                    "with an HTTPScaledObject gets it from `pulumi up`)")
    ready = condition((route.get("status") or {}).get("conditions"), KEDA_READY)
    if not true_now(route, ready):
        return Check("keda", False, f"InterceptorRoute {t.deployment} not ready ({verdict_text(route, ready)})")
    name = f"{t.deployment}-scaler"
    scaled = cluster.call(cluster.custom.get_namespaced_custom_object, *SCALED_OBJECT[:2], t.namespace,
                          SCALED_OBJECT[2], name)
    if scaled is None:
        return Check("keda", False, f"ScaledObject {t.namespace}/{name} not found")
    conditions = (scaled.get("status") or {}).get("conditions")
    ready = condition(conditions, KEDA_READY)
    if not ready or ready.get("status") != "True":  # KEDA's own Condition type: no observedGeneration
        return Check("keda", False, f"ScaledObject {name} not ready ({condition_text(ready)})")
    # each condition that, True or False, means KEDA is not scaling Ollama as declared (keda v2.20.2
    # apis/keda/v1alpha1/condition_types.go): paused by annotation, replicas pinned to the fallback count because a
    # trigger fails, or the HPA KEDA made unable to read its metrics (HPAActive: Ready no longer says so since
    # kedacore/keda#7914)
    for kind, bad, what in ((KEDA_PAUSED, "True", "paused"), (KEDA_FALLBACK, "True", "on fallback replicas"),
                            (KEDA_HPA_ACTIVE, "False", "its HPA is not scaling")):
        found = condition(conditions, kind)
        if found and found.get("status") == bad:
            return Check("keda", False, f"ScaledObject {name} {what} ({condition_text(found)})")
    active = condition(conditions, KEDA_ACTIVE) or {}
    spec = scaled.get("spec") or {}
    state = "active" if active.get("status") == "True" else "idle (no request in flight)"
    return Check("keda", True, f"InterceptorRoute and ScaledObject ready, {spec.get('minReplicaCount')}-"
                               f"{spec.get('maxReplicaCount')} replica(s), {state}")


def check_hpa(cluster: Cluster, t: Target) -> Check:
    """The HPA can fetch its metrics and compute a replica count (ScalingActive) and can read and update the
    Deployment's scale (AbleToScale: False on FailedGetScale/FailedUpdateScale, kubernetes/api autoscaling/v2)."""
    hpa = cluster.call(cluster.autoscaling.read_namespaced_horizontal_pod_autoscaler, t.deployment, t.namespace)
    if hpa is None:
        return Check("hpa", False, f"HorizontalPodAutoscaler {t.namespace}/{t.deployment} not found")
    conditions = hpa.status and hpa.status.conditions
    active = condition(conditions, HPA_SCALING_ACTIVE)
    if not active or active["status"] != "True":
        return Check("hpa", False, f"not scaling ({condition_text(active)})")
    able = condition(conditions, HPA_ABLE_TO_SCALE)
    if able and able["status"] == "False":
        return Check("hpa", False, f"not able to scale ({condition_text(able)})")
    return Check("hpa", True, f"scaling active: {hpa.status.current_replicas} replica(s), "
                              f"{hpa.spec.min_replicas}-{hpa.spec.max_replicas}")


def check_custom_metrics(cluster: Cluster, t: Target) -> Check:
    """gpu-memory mode: the custom metrics API answers the HPA's own query (the metric for the Deployment's pods)."""
    found = cluster.call(cluster.apps.read_namespaced_deployment, t.deployment, t.namespace)
    if found is None:
        return Check("custom-metrics", False, f"Deployment {t.namespace}/{t.deployment} not found")
    selector = selector_text(found.spec.selector.match_labels or {})
    metrics = cluster.get(f"{CUSTOM_METRICS}/namespaces/{t.namespace}/pods/*/{GPU_MEMORY_METRIC}",
                          labelSelector=selector)
    if metrics is None:
        return Check("custom-metrics", False, f"{GPU_MEMORY_METRIC} not served for pods in {t.namespace} "
                                              f"(Prometheus Adapter's rule, or no DCGM series yet)")
    items = metrics.get("items") or []
    if not items:
        return Check("custom-metrics", False, f"no {GPU_MEMORY_METRIC} value for the pods of {selector} (are DCGM's "
                                              f"series labelled with their pod?)")
    values = ", ".join(f"{i['describedObject']['name']} {i['value']}" for i in items[:4])
    return Check("custom-metrics", True, f"{GPU_MEMORY_METRIC}: {values}")


def run(cluster: Cluster, t: Target, api_key: Optional[str], smoke_timeout_s: float,
        shown: Callable[[Check], None] = lambda check: None) -> list[Check]:
    """The Ollama stack's checks, each handed to `shown` as it is made."""
    gpu, mode = t.accelerator == "gpu", t.autoscaling
    idle = "scaled to zero (the KEDA interceptor holds the first request while a replica starts)" \
        if mode == "requests" else None
    checks = run_steps([
        ("model-claim", lambda: check_claim(cluster, t)),
        ("model-preload", lambda: check_preload(cluster, t)),
        *([("gpus", lambda: check_gpus(cluster, t)), ("dcgm-exporter", lambda: check_dcgm(cluster, t))]
          if gpu else []),
        ("ollama", lambda: check_deployment(cluster, t.namespace, "ollama", t.deployment, idle)),
        *([("keda", lambda: check_keda(cluster, t)),
           ("interceptor", lambda: check_deployment(cluster, INTERCEPTOR[0], "interceptor", INTERCEPTOR[1]))]
          if mode == "requests" else []),
        *([("hpa", lambda: check_hpa(cluster, t))] if mode in ("gpu-memory", "cpu") else []),
        *([("custom-metrics", lambda: check_custom_metrics(cluster, t))] if mode == "gpu-memory" else []),
        ("router", lambda: check_deployment(cluster, t.namespace, "router", "router")),
        *([("open-webui", lambda: check_deployment(cluster, t.namespace, "open-webui", "open-webui"))]
          if t.webui else []),
        *([("gateways", lambda: check_gateways(cluster))] if t.gate.url else []),
    ], shown)
    if not t.gate.url:
        return checks
    smoke = check_smoke(t.gate, api_key, smoke_timeout_s)
    shown(smoke)
    return checks + [smoke]
