"""cluster-autoscaler's scale-down rules, transcribed, over the pods a plan runs on each user pool: can the autoscaler
remove a GPU (or CPU) node once the model servers are at their floor?

Read at the cluster-autoscaler AKS runs for the minors the platform validates against (1.35 and 1.36:
`llmplatform.kubernetes_schemas.AKS_KUBERNETES_VERSIONS`), kubernetes/autoscaler tags cluster-autoscaler-1.36.1
(35e8a280425c76a4040f57ae0fa232a952c02024) and cluster-autoscaler-1.35.2 (2d42588803c71fe9b35dcd9e3669ac6bb550ca22);
the two differ here only by the on-completion rule (1.36), which no pod of the platform uses:

- `core/static_autoscaler.go` lists pods through `utils/kubernetes/listers.go` `AllPodLister`, which drops every
  Succeeded or Failed pod (`listed`); `simulator/drain.go` `GetPodsToMove`: every listed pod of the node through the
  drainability rules, the first blocking pod stops the node's removal;
- `simulator/drainability/rules/rules.go` `Default`: the rules in this order, the first outcome other than undefined
  wins (no default rule sets `Overrides`): Mirror (skip: `kubernetes.io/config.mirror` annotation), LongTerminating
  (skip: deleted longer ago than its grace period, default 30 s, and 30 s more), ReplicaCount (only with
  `skip-nodes-with-custom-controller-pods`; needs listers, none of our controllers is missing), DaemonSet (drainable:
  controller kind DaemonSet or the `cluster-autoscaler.kubernetes.io/daemonset-pod: "true"` annotation,
  `utils/pod/pod.go`), SafeToEvict (drainable: `cluster-autoscaler.kubernetes.io/safe-to-evict: "true"`), Terminal
  (drainable: Failed, or Succeeded with restartPolicy Never or OnFailure, `utils/drain/drain.go` `IsPodTerminal`),
  OnCompletion (1.36: wait), then the blocking ones: Replicated (no controller, or with
  `skip-nodes-with-custom-controller-pods` one whose kind is not ReplicationController, Job, ReplicaSet or
  StatefulSet: NotReplicated), System (only with `skip-nodes-with-system-pods`: a kube-system pod no
  PodDisruptionBudget selects: UnmovableKubeSystemPod, until `--blocking-system-pod-distruption-timeout`, 1 h, after
  its creation, then drainable, ahead of the rules below), NotSafeToEvict (`safe-to-evict: "false"`), LocalStorage
  (only with `skip-nodes-with-local-storage`: a hostPath, or an emptyDir whose medium is not Memory, not named in
  `cluster-autoscaler.kubernetes.io/safe-to-evict-local-volumes`, `utils/drain/drain.go` `HasBlockingLocalStorage`),
  PDB (a selecting budget with `disruptionsAllowed` < 1: NotEnoughPdb);
- `config/flags/flags.go`: `skip-nodes-with-custom-controller-pods` true and `min-replica-count` 0 (AKS's profile
  sets neither);
- `core/scaledown/eligibility/eligibility.go` and `simulator/utilization/info.go` `Calculate`: a node the cloud
  provider reports a GPU on (Azure: the `kubernetes.azure.com/accelerator` label, `cloudprovider/azure/
  azure_cloud_provider.go` `GPULabel`) counts the GPU requests alone against `scale-down-gpu-utilization-threshold`
  (0.5), and an unready GPU counts 0: pods that request no GPU never keep a GPU node "utilized", they must be moved;
- `simulator/cluster.go` (`FindNodesToRemove`): the pods to move must fit on other nodes, so a pod whose only pools
  are GPU pools keeps a GPU node for as long as it runs.

AKS's profile defaults: MicrosoftDocs/azure-aks-docs fb060abe6a8fef960d4c487b543bf7b1e97808fe
`articles/aks/cluster-autoscaler.md`, "Cluster autoscaler profile settings".

Not modelled: whether the moved pods fit elsewhere beyond "some other pool admits them" (bin packing, a zonal disk's
zone), AKS's own kube-system pods (not in the plan), the charts' pods beyond the repository's model of them
(`offline/capacity.py` CHART_PODS: placement and replicas, not volumes, annotations or budgets; the charts' budgets the
plans render, istiod's above one replica and the KEDA HTTP add-on interceptor's, `maxUnavailable: 1`, each allow one
eviction at their floor: offline/deploy_model/chart_budgets.py). The GPU Operator's
own pods are its ClusterPolicy's DaemonSets and the validator's CUDA workload pod on each GPU node
(`validation_pods`), which has finished once the node's GPUs pass and is then not listed.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any, Optional

from llmplatform.pins import ALL_CHARTS
from offline import capacity, runner as offline
from offline.deploy_model.budgets import budget_selects
from offline.pod_specs import pod_metadata, pod_spec

from tests.components.test_disruption_budgets import disruptions_allowed, replica_range
from tests.components.test_gpu_scheduling import gpu_pools, node_pools, schedulable
from tests.conftest import UPSTREAM
from tests.validation import chart_values

# AKS's cluster autoscaler profile where the cluster sets nothing (azure-aks-docs fb060abe, cluster-autoscaler.md)
AKS_PROFILE_DEFAULTS = {"skip-nodes-with-local-storage": "false", "skip-nodes-with-system-pods": "true",
                        "scale-down-unneeded-time": "10m", "scale-down-utilization-threshold": "0.5",
                        "expander": "random", "daemonset-eviction-for-empty-nodes": "false",
                        "ignore-daemonsets-utilization": "false", "balance-similar-node-groups": "false",
                        "max-node-provision-time": "15m"}

SAFE_TO_EVICT = "cluster-autoscaler.kubernetes.io/safe-to-evict"
SAFE_TO_EVICT_LOCAL_VOLUMES = "cluster-autoscaler.kubernetes.io/safe-to-evict-local-volumes"
DAEMONSET_POD = "cluster-autoscaler.kubernetes.io/daemonset-pod"
MIRROR = "kubernetes.io/config.mirror"
BSP_DISRUPTION_TIMEOUT_S = 3600  # flags.go --blocking-system-pod-distruption-timeout (AKS's profile does not set it)
LONG_TERMINATING_EXTRA_S = 30  # utils/drain/drain.go PodLongTerminatingExtraThreshold
DEFAULT_GRACE_S = 30  # core/v1 DefaultTerminationGracePeriodSeconds
REPLICATED_KINDS = {"ReplicationController", "Job", "ReplicaSet", "StatefulSet"}  # rules/replicated/rule.go
# the controller a pod of each workload kind has (the Deployment controller makes a ReplicaSet, a CronJob a Job)
CONTROLLER_OF = {"Deployment": "ReplicaSet", "ReplicaSet": "ReplicaSet", "StatefulSet": "StatefulSet", "Job": "Job",
                 "CronJob": "Job", "DaemonSet": "DaemonSet", "ReplicationController": "ReplicationController"}
MODEL_SERVER = capacity.MODEL_SERVER  # what the platform labels its model servers with


@dataclass(frozen=True)
class DeleteOptions:
    """The scale-down options AKS runs the autoscaler with (`options.NodeDeleteOptions`)."""

    skip_nodes_with_local_storage: bool
    skip_nodes_with_system_pods: bool
    skip_nodes_with_custom_controller_pods: bool = True  # flags.go default; not in AKS's profile


@dataclass
class PodModel:
    """One pod (or the pods of one workload) as the autoscaler sees it on a node."""

    name: str  # what a message names: "Deployment llm-d/vllm", "chart keda: operator"
    namespace: str
    spec: dict[str, Any]  # the pod spec (placement, volumes); a chart's pod: its placement only
    controller: Optional[str]  # the controller's kind, None for a bare pod
    floor: int  # fewest replicas its controller or autoscaler runs (a Job: 1 while it runs)
    ceiling: int
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    budgets: list[dict[str, Any]] = field(default_factory=list)  # the PodDisruptionBudget specs selecting it
    autoscaler: Optional[str] = None  # the kind of what scales it: ScaledObject (KEDA, to zero) or an HPA (from one)
    phase: str = "Running"
    age_s: float = 0.0  # since its creation (the System rule's timeout counts from it)
    deleting_for_s: Optional[float] = None  # since its deletionTimestamp, if it is being deleted
    pinned: Optional[str] = None  # the pool of the node its spec.nodeName names (a pod made for that one node)

    @property
    def model_server(self) -> bool:
        return self.labels.get(MODEL_SERVER[0]) == MODEL_SERVER[1]

    @property
    def daemonset(self) -> bool:  # utils/pod/pod.go IsDaemonSetPod
        return self.controller == "DaemonSet" or self.annotations.get(DAEMONSET_POD) == "true"


@dataclass(frozen=True)
class Verdict:
    outcome: str  # drainable, blocked, skip, undefined (rules.go: no rule decided, so the pod is moved)
    rule: str = ""
    reason: str = ""


def truthy(text: Any) -> bool:
    return str(text).strip().lower() == "true"


def profile(plan: offline.Plan) -> dict[str, str]:
    """The cluster's autoscaler profile in the autoscaler's flag names: AKS's defaults, then what the plan sets."""
    (cluster,) = plan.of_type("azure-native:containerservice:ManagedCluster")
    given = cluster.inputs.get("autoScalerProfile") or {}
    kebab = {re.sub(r"(?<!^)([A-Z])", r"-\1", k).lower(): str(v) for k, v in given.items()}
    return {**AKS_PROFILE_DEFAULTS, **kebab}


def delete_options(plan: offline.Plan) -> DeleteOptions:
    p = profile(plan)
    return DeleteOptions(skip_nodes_with_local_storage=truthy(p["skip-nodes-with-local-storage"]),
                         skip_nodes_with_system_pods=truthy(p["skip-nodes-with-system-pods"]))


def blocking_local_volumes(pod: PodModel) -> list[str]:
    """utils/drain/drain.go HasBlockingLocalStorage: hostPath, or emptyDir not in memory, not named as safe."""
    safe = set(filter(None, pod.annotations.get(SAFE_TO_EVICT_LOCAL_VOLUMES, "").split(",")))
    return [v["name"] for v in pod.spec.get("volumes") or []
            if ("hostPath" in v or ("emptyDir" in v and (v["emptyDir"] or {}).get("medium") != "Memory"))
            and v["name"] not in safe]


def terminal(pod: PodModel) -> bool:
    """utils/drain/drain.go IsPodTerminal: finished for good by its restart policy (default Always), or Failed."""
    policy = pod.spec.get("restartPolicy", "Always")
    return (pod.phase == "Failed" or (policy == "Never" and pod.phase == "Succeeded")
            or (policy == "OnFailure" and pod.phase == "Succeeded"))


def listed(pods: list[PodModel]) -> list[PodModel]:
    """The pods the autoscaler sees: core/static_autoscaler.go lists them through utils/kubernetes/listers.go
    `AllPodLister`, which drops every Succeeded or Failed pod before any rule runs."""
    return [p for p in pods if p.phase not in ("Succeeded", "Failed")]


def drainable(pod: PodModel, options: DeleteOptions, replicas: Optional[int] = None) -> Verdict:
    """rules.Default(options).Drainable for the pod, its budgets' disruptionsAllowed taken at `replicas` Ready
    replicas (default: its floor, at least one)."""
    n = max(pod.floor, 1) if replicas is None else replicas
    if MIRROR in pod.annotations:
        return Verdict("skip", "Mirror")
    grace = pod.spec.get("terminationGracePeriodSeconds", DEFAULT_GRACE_S)
    if pod.deleting_for_s is not None and pod.deleting_for_s > grace + LONG_TERMINATING_EXTRA_S:
        return Verdict("skip", "LongTerminating")  # drain.go IsPodLongTerminating
    if pod.daemonset:
        return Verdict("drainable", "DaemonSet")
    if pod.annotations.get(SAFE_TO_EVICT) == "true":
        return Verdict("drainable", "SafeToEvict")
    if terminal(pod):
        return Verdict("drainable", "Terminal")
    if pod.annotations.get(SAFE_TO_EVICT) == "on-completion":
        return Verdict("wait", "OnCompletion")
    if pod.controller is None or (options.skip_nodes_with_custom_controller_pods
                                  and pod.controller not in REPLICATED_KINDS):
        return Verdict("blocked", "Replicated",
                       f"NotReplicated: no controller the autoscaler recreates pods with ({pod.controller or 'none'})")
    if options.skip_nodes_with_system_pods and pod.namespace == "kube-system" and not pod.budgets:
        if pod.age_s > BSP_DISRUPTION_TIMEOUT_S:  # system/rule.go isBspPassedDisruptionTimeout
            return Verdict("drainable", "System")
        return Verdict("blocked", "System", "UnmovableKubeSystemPod: a kube-system pod no disruption budget selects "
                                            "(skip-nodes-with-system-pods), for its first hour")
    if pod.annotations.get(SAFE_TO_EVICT) == "false":
        return Verdict("blocked", "NotSafeToEvict", f"NotSafeToEvictAnnotation: {SAFE_TO_EVICT}: \"false\"")
    if options.skip_nodes_with_local_storage and (local := blocking_local_volumes(pod)):
        return Verdict("blocked", "LocalStorage",
                       f"LocalStorageRequested: volumes {local} (hostPath or emptyDir on disk) with "
                       f"skip-nodes-with-local-storage true and no {SAFE_TO_EVICT_LOCAL_VOLUMES}")
    for budget in pod.budgets:
        if disruptions_allowed(budget, n, n) < 1:
            return Verdict("blocked", "PDB", f"NotEnoughPdb: its disruption budget {budget} allows no eviction at "
                                             f"{n} replica(s)")
    return Verdict("undefined")


# ---- the pods of a plan -------------------------------------------------------------------------------------------

WORKLOAD_KINDS = ("Deployment", "StatefulSet", "ReplicaSet", "Job", "CronJob", "DaemonSet", "Pod",
                  "ReplicationController")


def program_pods(plan: offline.Plan) -> list[PodModel]:
    """Every pod the program's own objects make, with the budgets selecting it and its replica range."""
    objects = [o for o in plan.kubernetes_objects() if isinstance(o.inputs.get("metadata"), dict)]
    budgets = [o.inputs for o in objects if o.inputs["kind"] == "PodDisruptionBudget"]
    autoscalers = {(o.inputs["metadata"].get("namespace"), (o.inputs["spec"].get("scaleTargetRef") or {}).get("name")):
                   o.inputs["kind"] for o in objects if o.inputs["kind"] in ("ScaledObject", "HorizontalPodAutoscaler")}
    pods = []
    for o in objects:
        kind = o.inputs["kind"]
        if kind not in WORKLOAD_KINDS:
            continue
        meta, namespace = o.inputs["metadata"], o.inputs["metadata"].get("namespace", "default")
        pod_meta, spec = pod_metadata(o.inputs), pod_spec(o.inputs) or {}
        labels = pod_meta.get("labels") or {}
        if kind in ("Deployment", "StatefulSet", "ReplicaSet", "ReplicationController"):
            counts = replica_range(objects, o)
            floor, ceiling = counts.start, counts.stop - 1
        else:  # a Job's pod while it runs, a bare pod, one DaemonSet pod a node
            floor = ceiling = 1
        # as the eviction API selects (matchLabels and matchExpressions, an empty selector every pod)
        selecting = [b["spec"] for b in budgets if budget_selects(b, meta.get("namespace"), labels)]
        pods.append(PodModel(name=f"{kind} {namespace}/{meta['name']}", namespace=namespace, spec=spec,
                             controller=CONTROLLER_OF.get(kind), floor=floor, ceiling=ceiling, labels=labels,
                             annotations=pod_meta.get("annotations") or {}, budgets=selecting,
                             autoscaler=autoscalers.get((namespace, meta["name"]))))
    return pods


def chart_pods(plan: offline.Plan) -> list[PodModel]:
    """The charts' pods as the repository models them (`offline/capacity.py` CHART_PODS: each chart's workloads,
    where its values keep their replicas and placement, which are DaemonSets; and the Gateways' pods istiod makes),
    read from the chart's defaults with the release's values merged as Helm merges them, so a default toleration
    counts too. Their volumes and annotations are the templates' and are not rendered; their controller is taken as
    a ReplicaSet or StatefulSet (a chart renders Deployments and StatefulSets), in the release's namespace."""
    pods = []
    for release in plan.helm_releases():
        chart = release.inputs["chart"].rstrip("/").rsplit("/", 1)[-1]
        upstream = next(c.upstream_dir for c in ALL_CHARTS if c.chart == chart)
        values = offline.deep_merge(chart_values(UPSTREAM / "charts" / upstream), release.inputs.get("values") or {})
        alone = offline.Plan(plan.project, plan.stack, [replace(release, inputs={**release.inputs, "values": values})])
        problems: list[str] = []
        modelled = capacity.chart_pods(alone, problems)
        assert not problems, problems  # every chart the plans install is in CHART_PODS
        pods.extend(_from_capacity(p, release.inputs.get("namespace") or "default") for p in modelled)
        if chart == "gpu-operator":
            pods.extend(validation_pods(plan, values, release.inputs.get("namespace") or "default"))
    gateways = {f"Gateway {(g.inputs.get('metadata') or {}).get('name')}": (g.inputs.get("metadata") or {})
                .get("namespace", "default") for g in plan.of_type("kubernetes:gateway.networking.k8s.io/v1:Gateway")}
    pods.extend(_from_capacity(p, gateways[p.owner]) for p in capacity.gateway_pods(plan))
    return pods


def validation_pods(plan: offline.Plan, values: dict[str, Any], namespace: str) -> list[PodModel]:
    """The GPU Operator's own non-DaemonSet pods on each GPU pool (NVIDIA/gpu-operator v26.7.0, 10ee5b36): its
    validator DaemonSet's `cuda-validation` init container creates `nvidia-cuda-validator-*` on its node
    (cmd/nvidia-validator/main.go: `spec.nodeName` set, the DaemonSet's owner references copied, so its controller is
    the ClusterPolicy; validator/manifests/cuda-workload-validation.yaml: `restartPolicy: OnFailure`) and waits for it
    to succeed; `plugin-validation` creates `nvidia-device-plugin-validator-*` the same way only with `WITH_WORKLOAD`
    true in `validator.plugin.env` (assets/state-operator-validation/0500_daemonset.yaml sets it false). As planned
    they have finished (Succeeded)."""
    plugin_env = {e.get("name"): str(e.get("value")) for e in (values.get("validator") or {}).get("plugin", {})
                  .get("env") or []}
    kinds = ["nvidia-cuda-validator"] + (["nvidia-device-plugin-validator"]
                                         if truthy(plugin_env.get("WITH_WORKLOAD", "false")) else [])
    return [PodModel(name=f"gpu-operator: {kind}", namespace=namespace, spec={"restartPolicy": "OnFailure"},
                     controller="ClusterPolicy", floor=1, ceiling=1, phase="Succeeded", pinned=pool)
            for pool in sorted(gpu_pools(plan)) for kind in kinds]


def _from_capacity(pods: capacity.Pods, namespace: str) -> PodModel:
    tolerations = [{"operator": "Exists"}] if pods.tolerate_all else pods.tolerations
    return PodModel(name=pods.owner, namespace=namespace,
                    spec={"nodeSelector": pods.node_selector, "tolerations": tolerations},
                    controller="DaemonSet" if pods.daemon else "ReplicaSet", floor=pods.count, ceiling=pods.count)


def at_zero(pods: list[PodModel]) -> list[PodModel]:
    """The pods with every model server KEDA scales at a floor of zero (KEDA's minReplicaCount may be 0; an HPA's
    minReplicas may not without the alpha HPAScaleToZero gate, which AKS does not turn on)."""
    return [replace(p, floor=0) if p.model_server and p.autoscaler == "ScaledObject" else p for p in pods]


# ---- pools -------------------------------------------------------------------------------------------------------

def user_pools(plan: offline.Plan) -> dict[str, tuple[dict[str, str], list[dict[str, str]], int, int]]:
    """The autoscaled user pools (AgentPools): labels, taints, minCount, maxCount."""
    looks = node_pools(plan)
    return {p.inputs["agentPoolName"]: (*looks[p.inputs["agentPoolName"]][:2], p.inputs.get("minCount", 0),
                                        p.inputs.get("maxCount", 0))
            for p in plan.of_type("azure-native:containerservice:AgentPool")}


def pools_of(pod: PodModel, plan: offline.Plan) -> set[str]:
    """The pools whose nodes the scheduler would place the pod on (the system pool included); a pinned pod's own."""
    if pod.pinned is not None:
        return {pod.pinned}
    return {name for name, (labels, taints, _) in node_pools(plan).items() if schedulable(pod.spec, labels, taints)}


@dataclass(frozen=True)
class Holder:
    pool: str
    pod: str
    rule: str
    reason: str

    def __str__(self) -> str:
        return f"{self.pod} holds a node of pool {self.pool!r}: {self.rule}: {self.reason}"


def gpu_holders(plan: offline.Plan, pods: Optional[list[PodModel]] = None) -> list[Holder]:
    """What keeps a GPU pool node from being removed with every workload at its floor (`pods`, default the plan's own
    and its charts' as planned; the autoscaler lists no finished pod): a non-DaemonSet pod still running there with
    nowhere else to go (the pods to move must fit on another node; a pod pinned to its node is not moved but judged by
    the rules alone), or one the drainability rules block."""
    options, gpus = delete_options(plan), gpu_pools(plan)
    held = []
    for pod in listed(pods if pods is not None else program_pods(plan) + chart_pods(plan)):
        if pod.daemonset or pod.floor == 0:
            continue
        landing = pools_of(pod, plan)
        for pool in sorted(landing & gpus):
            if not landing - gpus and pod.pinned is None:
                held.append(Holder(pool, pod.name, "nowhere else to go",
                                   f"it runs on GPU pools only ({sorted(landing)}) and keeps {pod.floor} replica(s)"))
            verdict = drainable(pod, options)
            if verdict.outcome == "blocked":
                held.append(Holder(pool, pod.name, verdict.rule, verdict.reason))
    return held


def drain_blockers(plan: offline.Plan, pools: set[str], pods: Optional[list[PodModel]] = None) -> list[Holder]:
    """The non-DaemonSet pods that may run on `pools` and that the drainability rules block at some replica count
    they may run (from the floor, or one, to the ceiling): a node holding one is never removed."""
    options = delete_options(plan)
    held = []
    for pod in listed(pods if pods is not None else program_pods(plan) + chart_pods(plan)):
        if pod.daemonset:
            continue
        for pool in sorted(pools_of(pod, plan) & pools):
            verdicts = {drainable(pod, options, n) for n in range(max(pod.floor, 1), max(pod.ceiling, 1) + 1)}
            held.extend(Holder(pool, pod.name, v.rule, v.reason) for v in sorted(verdicts, key=str)
                        if v.outcome == "blocked")
    return held


def cpu_user_pools(plan: offline.Plan) -> set[str]:
    return set(user_pools(plan)) - gpu_pools(plan)
