"""Kubernetes building blocks shared by the components: labels, namespaces, workloads, policies (hardened security
contexts are in hardening.py)."""
from typing import Any, Mapping, Optional

import pulumi
import pulumi_kubernetes as k8s

from .checks import ComponentInputError
from .handles import Toleration, field, known, order_after, value_alone
from .images import chart_mirror_values, format_registry, mirror_problem, mirrored
from .inference_specs import SECRETS_MOUNT
from .mappings import deep_merge
from .pins import ChartRef
from .taints import SPOT_TAINT_KEY
from .units import MB_PER_GIB

PART_OF = "llm-platform"
CPU_POOL_LABEL = "llm-platform/pool"  # set on the CPU workload pool's nodes; value "cpu"
SPOT_TOLERATION: Toleration = {"key": SPOT_TAINT_KEY, "operator": "Equal", "value": "spot",
                   "effect": "NoSchedule"}


def labels(component: str, name: str) -> dict[str, str]:
    return {
        "app.kubernetes.io/name": name,
        "app.kubernetes.io/component": component,
        "app.kubernetes.io/part-of": PART_OF,
        "app.kubernetes.io/managed-by": "pulumi",
    }


# Server-side apply on a day-2 `pulumi up`, which refreshes first (Pulumi.yaml `options.refresh: always`): a field
# the program sets that someone else has since written (`kubectl scale`, `kubectl label --overwrite`, KEDA's count
# after autoscaling is turned off) is owned by that writer, and pulumi-kubernetes applies unforced unless the object
# says otherwise, so once the object has had an update the API server refuses the preview's dry-run apply with a
# conflict and the up fails; the update itself takes a `kubectl-*` writer's fields of the object over first, not a
# scale-subresource writer's (pulumi-kubernetes 94977969d provider/pkg/await/await.go `ssaUpdate`,
# `fixCSAFieldManagers`, `patchForce`; structured-merge-diff v6.4.2 merge/update.go `Updater.update`).
# Namespaces and Deployments, where those hands meet the program's fields, are applied forced: the next up takes the
# field back, as a refresh that shows drift promises. A field an autoscaler owns and the resource ignores
# (`spec.replicas`) is left out of the apply before the force counts (await.go `handleSSAIgnoreFields`), so the
# autoscaler keeps it (docs/decisions.md "2026-12-05: server-side apply: who owns each field on day 2").
PATCH_FORCE = {"pulumi.com/patchForce": "true"}


def service_url(service: pulumi.Input[str], namespace_name: pulumi.Input[str], port: int) -> pulumi.Output[str]:
    """`http://<service>.<namespace>.svc:<port>`, as a component hands out a Service's URL: it resolves from a pod of
    any namespace whose resolv.conf searches `cluster.local` (dnsPolicy ClusterFirst, the default, or
    ClusterFirstWithHostNet); a pod of dnsPolicy Default, or on the host network with ClusterFirst, resolves through
    the node's resolver, and one of dnsPolicy None through its own dnsConfig (Kubernetes, "DNS for Services and
    Pods", Pod's DNS policy): there no in-cluster name resolves without the cluster DNS and its search path."""
    return pulumi.Output.concat("http://", service, ".", namespace_name, ".svc:", str(port))


def namespace(resource_name: str, name: str, pod_security_level: str, opts: pulumi.ResourceOptions,
              extra_labels: Optional[pulumi.Input[dict[str, str]]] = None) -> k8s.core.v1.Namespace:
    """A namespace with its Pod Security Admission level enforced (restricted, baseline or privileged); its labels
    applied forced (PATCH_FORCE)."""
    base = {
        "pod-security.kubernetes.io/enforce": pod_security_level,
        "pod-security.kubernetes.io/warn": pod_security_level,
        "app.kubernetes.io/part-of": PART_OF,
    }
    return k8s.core.v1.Namespace(
        resource_name,
        metadata=k8s.meta.v1.ObjectMetaArgs(
            name=name, labels=pulumi.Output.from_input(extra_labels or {}).apply(lambda extra: {**base, **extra}),
            annotations=PATCH_FORCE),
        opts=opts,
    )


def tolerations_args(tolerations: pulumi.Input[list]) -> pulumi.Output[list[k8s.core.v1.TolerationArgs]]:
    """Typed tolerations (an unknown field fails here, not at `pulumi up`) from a plain or handed-over list."""
    return pulumi.Output.from_input(tolerations).apply(lambda ts: [k8s.core.v1.TolerationArgs(**t) for t in ts])


def placement(node_selector: pulumi.Input[dict[str, str]], tolerations: pulumi.Input[list]
              ) -> pulumi.Output[dict[str, Any]]:
    """Where a pod runs, in pod-spec (and chart-values) spelling: nodeSelector, and tolerations when there are any
    (no `tolerations` key otherwise, the charts' own default)."""
    return pulumi.Output.all(node_selector, tolerations).apply(
        lambda v: {"nodeSelector": v[0], **({"tolerations": list(v[1])} if v[1] else {})})


def cpu_placement(cluster: Any) -> pulumi.Output[dict[str, Any]]:
    """The placement on the CPU workload pool: its node selector and, when the pool is spot, the spot toleration."""
    return placement(field(cluster, "cpu_node_selector"), field(cluster, "cpu_tolerations", []))


def placement_args(placement: pulumi.Input[dict[str, Any]]) -> dict[str, pulumi.Output[Any]]:
    """A placement as PodSpecArgs keywords (node_selector, typed tolerations), its value alone: give the resource
    `handles.ordered_after(opts, placement)` too. A placement carries the pool its pods wait for (AksCluster's
    cpu_node_selector, GpuNodePool's node_selector); in a pod spec, a pool replaced deleting first (a new VM size)
    made that spec unknown in the engine's chain and replaced the workload with it, deleted first too
    (docs/decisions.md "2026-12-05 (night): a pool replaced takes no workload with it")."""
    out = value_alone(placement)
    return {"node_selector": out.apply(lambda p: p["nodeSelector"]),
            "tolerations": tolerations_args(out.apply(lambda p: p.get("tolerations", []))).apply(lambda t: t or None)}


def require_kubernetes_provider(opts: Optional[pulumi.ResourceOptions], kind: str, name: str) -> None:
    """In-cluster components take the cluster's provider through opts (providers=[cluster.provider]), as the
    component provider hands it to them from other languages. Without one, objects would go to whatever cluster
    the ambient kubeconfig names: refuse that, before the component registers anything (providers come from
    `providers`, `provider` or the parent, as a ComponentResource merges them)."""
    if opts is not None and not isinstance(opts, pulumi.ResourceOptions):  # a dict: read below as options
        raise ComponentInputError(
            f"{kind} {name}: opts: expects pulumi.ResourceOptions, got {type(opts).__name__} {opts!r}; e.g. "
            "pulumi.ResourceOptions(providers=[cluster.provider])")
    given = opts.providers if opts is not None else None
    packages = set(given) if isinstance(given, dict) else {getattr(p, "package", None) for p in given or []}
    if opts is not None and opts.provider is not None:
        packages.add(getattr(opts.provider, "package", None))
    if opts is not None and opts.parent is not None:
        packages.update(getattr(opts.parent, "_providers", None) or {})
    if "kubernetes" not in packages:
        # a component in the list (the AksCluster itself for its `provider`): named, with the provider it holds
        holders = [p for p in [*(given if isinstance(given, (list, tuple)) else ()), opts.provider if opts else None]
                   if isinstance(p, pulumi.ComponentResource) and isinstance(getattr(p, "provider", None),
                                                                              k8s.Provider)]
        if holders:
            holder, variable = holders[0], getattr(holders[0], "_name", "")
            variable = variable if isinstance(variable, str) and variable.isidentifier() else "cluster"
            raise ComponentInputError(
                f"{kind} {name}: no Kubernetes provider; providers holds the {type(holder).__name__} component "
                f"{getattr(holder, '_name', '')!r}, not a provider: pass its `provider` ({variable}.provider)")
        raise ComponentInputError(
            f"{kind} {name}: no Kubernetes provider; pass the cluster's in its resource options: in Python "
            "pulumi.ResourceOptions(providers=[cluster.provider]), in YAML `options: {providers: {kubernetes: "
            "${<cluster>.provider}}}`, in another language its providers option")


def checked_registry(registry: Any) -> str:
    """A cluster handle's mirror registry ('' for none), checked: a handle built by hand (from a stack reference,
    say) is not AksCluster's, whose rules checked it."""
    problem = mirror_problem(registry)
    if problem:
        raise ComponentInputError(f"cluster.image_registry={registry!r} is invalid; allowed: {problem}",
                                  "cluster.image_registry", problem)
    return registry or ""


def image_registry(cluster: Any) -> pulumi.Output[str]:
    """The cluster handle's mirror registry ('' for none). The handle is a component's input: a plain one was checked
    by check_shape, one that is an output waits for its late check (the same rule, `HANDLE_VALUE_RULES`)."""
    return field(cluster, "image_registry", "").apply(lambda registry: registry or "")


def pulled(cluster: Any, image: str) -> pulumi.Output[str]:
    """`image` as `cluster` pulls it: from its mirror registry when it has one."""
    return image_registry(cluster).apply(lambda registry: mirrored(image, registry))


def helm_release(resource_name: str, chart: ChartRef, namespace_name: pulumi.Input[str],
                 values: pulumi.Input[dict[str, Any]], opts: pulumi.ResourceOptions, *, cluster: Any,
                 release_name: Optional[str] = None,
                 mirror_values: Optional[dict[str, Any]] = None) -> k8s.helm.v3.Release:
    """A pinned chart under a fixed release name (so object names the chart derives from it are predictable), its
    images from `cluster`'s mirror registry when it has one: the chart's data file's values, or `mirror_values` for
    a chart the package has no data for (values with a "{registry}" placeholder for the mirror host). An OCI chart
    is addressed as oci://registry/path/chart, with no repository."""
    oci = chart.repo.startswith("oci://")

    def redirected(registry: str) -> dict[str, Any]:
        if not registry:
            return {}
        return format_registry(mirror_values, registry) if mirror_values is not None else \
            chart_mirror_values(chart, registry)
    # a bad mirror, or a chart it cannot cover, is refused before anything registers
    redirected(checked_registry(known(cluster, "image_registry")))
    values = pulumi.Output.all(pulumi.Output.from_input(values), image_registry(cluster)).apply(
        lambda v: deep_merge(v[0], redirected(v[1])))
    return k8s.helm.v3.Release(
        resource_name,
        k8s.helm.v3.ReleaseArgs(
            name=release_name or chart.chart, chart=f"{chart.repo}/{chart.chart}" if oci else chart.chart,
            version=chart.version,
            repository_opts=None if oci else k8s.helm.v3.RepositoryOptsArgs(repo=chart.repo),
            namespace=namespace_name, values=values, atomic=True, cleanup_on_fail=True, timeout=900),
        opts=opts)


# pulumi-kubernetes awaits a Deployment 10 minutes by default (provider/pkg/await/await.go). A GPU replica from zero
# waits for a spot node (or, with no spot capacity, the autoscaler's 15-minute max-node-provision-time and an
# on-demand node), the GPU driver, a multi-GB image and its model: the deploy model's pessimistic figures reach about
# 35 minutes (Ollama, prod) and 46 (Ollama, prod, with the GPU Operator installing the driver on the new node). vLLM's
# start with the GPU Operator on an H100 pool with an on-demand fallback is 62.3 minutes before its model: 15 for the
# spot attempt, 15 for the on-demand node, 15 for the driver, 12.3 for the 13 GB image, 5 for the start
# (config/data/deploy_durations.json, audited 2026-12-07); so 65 for the Operator's start.
GPU_START_TIMEOUT_SECONDS = 2700
GPU_OPERATOR_START_TIMEOUT_SECONDS = 3900
# vLLM downloads its model after that start: the slowest Hugging Face download and GPU load its deadline still waits
# for. The deploy model's pessimistic figures are these (offline/deploy_model load_durations reads them here;
# config/data/deploy_durations.json `model_load` writes only the median). A 70B model's 141 GB (131 GiB) take 59
# minutes to download at the floor and 64 with the GPU load.
MODEL_DOWNLOAD_FLOOR_MB_S, MODEL_LOAD_FLOOR_MB_S = 40, 500
# A pod mounting Key Vault secrets (CSI driver) signs in as its workload identity: the mount fails until the
# identity's federated credential and Key Vault grant have propagated (up to ten minutes each; Pulumi waits for
# neither) and the kubelet retries it with a backoff capped near two minutes (config/data/deploy_durations.json).
# A gate created as soon as its pool is up (no KEDA before it: autoscaling.mode none or cpu on a regular pool) would
# pass the 10-minute default, so this deadline.
IDENTITY_MOUNT_TIMEOUT_SECONDS = 1200


def model_transfer_seconds(mb: float, download_mb_s: float, load_mb_s: float) -> float:
    """`mb` MB of weights downloaded at `download_mb_s`, then loaded into GPU memory at `load_mb_s` (the deadline's
    floors here, the deploy model's median and pessimistic figures there)."""
    return mb / download_mb_s + mb / load_mb_s


def model_download_seconds(weights_gib: float) -> int:
    """`weights_gib` downloaded and loaded into GPU memory at the floors, in whole minutes."""
    seconds = model_transfer_seconds(weights_gib * MB_PER_GIB, MODEL_DOWNLOAD_FLOOR_MB_S, MODEL_LOAD_FLOOR_MB_S)
    return int(-(-seconds // 60) * 60)


def vllm_startup_probe(weights_gib: float) -> dict[str, int]:
    """vLLM's startup probe (REST names): a first start downloads the model, 30 min, or its download and load at the
    floors and 10 min more, before liveness counts (a restart mid-download would start it again). A replacement
    after a drain downloads it again (each pod's cache is its own emptyDir): upgrades.ready_bound_seconds reads it."""
    return {"periodSeconds": 30, "timeoutSeconds": 10,
            "failureThreshold": max(60, -(-(model_download_seconds(weights_gib) + 600) // 30))}


def model_download_deadline_seconds(weights_gib: float) -> int:
    """How long `pulumi up` waits for a vLLM Deployment: a GPU node from zero with the Operator's driver
    (GPU_OPERATOR_START_TIMEOUT_SECONDS), then the model's download and load at the floors."""
    return GPU_OPERATOR_START_TIMEOUT_SECONDS + model_download_seconds(weights_gib)


def gpu_start_deadline(gpu: bool, seconds: int = GPU_START_TIMEOUT_SECONDS) -> dict[str, str]:
    """The await deadline annotation of a workload whose pods start on GPU nodes from zero (none on CPU)."""
    return {"pulumi.com/timeoutSeconds": str(seconds)} if gpu else {}


def gpu_driver_start_seconds(driver: Any) -> int:
    """The GPU start deadline for a pool's driver: the GPU Operator installs the driver on each new node."""
    return GPU_OPERATOR_START_TIMEOUT_SECONDS if driver == "operator" else GPU_START_TIMEOUT_SECONDS


def spread(match_labels: dict[str, str]) -> list[k8s.core.v1.TopologySpreadConstraintArgs]:
    """Replicas spread over nodes and zones; ScheduleAnyway so a small pool still schedules them all."""
    selector = k8s.meta.v1.LabelSelectorArgs(match_labels=match_labels)
    return [k8s.core.v1.TopologySpreadConstraintArgs(max_skew=1, topology_key=key, label_selector=selector,
                                                     when_unsatisfiable="ScheduleAnyway")
            for key in ("kubernetes.io/hostname", "topology.kubernetes.io/zone")]


def env_vars(values: Mapping[str, pulumi.Input[str]]) -> list[k8s.core.v1.EnvVarArgs]:
    return [k8s.core.v1.EnvVarArgs(name=k, value=v) for k, v in values.items()]


def http_probe(path: str, port: int, period: int, failures: int, timeout: int = 5) -> k8s.core.v1.ProbeArgs:
    return k8s.core.v1.ProbeArgs(http_get=k8s.core.v1.HTTPGetActionArgs(path=path, port=port),
                                 period_seconds=period, failure_threshold=failures, timeout_seconds=timeout)


def disruption_budget(resource_name: str, name: str, namespace: pulumi.Input[str], match_labels: dict[str, str],
                      opts: pulumi.ResourceOptions) -> k8s.policy.v1.PodDisruptionBudget:
    """One replica at a time in a voluntary disruption (a drain, an eviction). `maxUnavailable: 1`, never
    `minAvailable: 1`: the disruption controller counts maxUnavailable from the controller's current scale and
    minAvailable from a fixed number (kubernetes/kubernetes 189c34a7 pkg/controller/disruption/disruption.go
    `getExpectedPodCount`, `updatePdbStatus`), so at two or more replicas both keep one up, but a Deployment an
    autoscaler has taken to one replica allows no eviction under `minAvailable: 1` and its node's drain waits until
    AKS's drain timeout fails the upgrade. `unhealthyPodEvictionPolicy: AlwaysAllow`: a Running pod that is not Ready
    (a model server crash-looping or never passing its readiness probe) serves nothing, and the default
    IfHealthyBudget refuses its eviction whenever the budget is short (a lone replica: 0 healthy, 0 desired, 0
    allowed), stalling the drain the same way; Ready pods stay guarded as before (pkg/registry/core/pod/storage/
    eviction.go `Create`; docs/decisions.md "Disruption budgets count from the scale")."""
    return k8s.policy.v1.PodDisruptionBudget(
        resource_name,
        metadata=k8s.meta.v1.ObjectMetaArgs(name=name, namespace=namespace),
        spec=k8s.policy.v1.PodDisruptionBudgetSpecArgs(
            selector=k8s.meta.v1.LabelSelectorArgs(match_labels=match_labels), max_unavailable=1,
            unhealthy_pod_eviction_policy="AlwaysAllow"),
        opts=opts)


def allow_ingress(resource_name: str, name: pulumi.Input[str], namespace: pulumi.Input[str],
                  target: pulumi.Input[dict[str, str]], port: pulumi.Input[int],
                  sources: list[k8s.networking.v1.NetworkPolicyPeerArgs],
                  opts: pulumi.ResourceOptions) -> k8s.networking.v1.NetworkPolicy:
    """The `target` pods isolated for ingress, `port` open to `sources` alone. No sources admits no one: a rule with
    an empty `from` would admit every pod of the cluster and every address outside it (networking.k8s.io/v1
    NetworkPolicyIngressRule: "If this field is empty or missing, this rule matches all sources")."""
    rules = [k8s.networking.v1.NetworkPolicyIngressRuleArgs(
        from_=sources, ports=[k8s.networking.v1.NetworkPolicyPortArgs(port=port, protocol="TCP")])] if sources else []
    return k8s.networking.v1.NetworkPolicy(
        resource_name,
        metadata=k8s.meta.v1.ObjectMetaArgs(name=name, namespace=namespace),
        spec=k8s.networking.v1.NetworkPolicySpecArgs(
            pod_selector=k8s.meta.v1.LabelSelectorArgs(match_labels=target),
            policy_types=["Ingress"],
            ingress=rules),
        opts=opts)


def namespace_peer(name: pulumi.Input[str],
                   pods: Optional[k8s.meta.v1.LabelSelectorArgs] = None) -> k8s.networking.v1.NetworkPolicyPeerArgs:
    """The pods of the namespace `name` (its `kubernetes.io/metadata.name` label, which the API server sets): every
    one, or those `pods` selects."""
    return k8s.networking.v1.NetworkPolicyPeerArgs(namespace_selector=k8s.meta.v1.LabelSelectorArgs(
        match_labels={"kubernetes.io/metadata.name": name}), pod_selector=pods)


# Link-local and host addresses on every Azure VM that a pod reaches unless a policy stops it: the Instance Metadata
# Service hands out the node's managed identities' tokens (the kubelet identity pulls images and, on AKS, often holds
# more); the wireserver is the host's channel to the VM agent (extension settings). Workloads authenticate with
# workload identity (Entra ID over the internet), resolve names through CoreDNS, and need neither.
IMDS_CIDR = "169.254.169.254/32"
WIRESERVER_CIDR = "168.63.129.16/32"


def egress_guard(resource_name: str, namespace: pulumi.Input[str], opts: pulumi.ResourceOptions,
                 exempt: Optional[tuple[str, str]] = None,
                 policy_name: str = "egress-guard") -> k8s.networking.v1.NetworkPolicy:
    """Every pod of `namespace` may reach every pod of the cluster (CoreDNS, the services it calls, the KEDA
    interceptor, istiod) and every address outside it but the node's metadata service and wireserver. In-cluster
    peers by selector, not by address: Cilium's CIDR rules never select pods or nodes (its "IP/CIDR based" policy
    docs), so an ipBlock alone would cut a pod off from its own namespace; the outside world by an ipBlock with the
    two host addresses excepted, which the AKS API server (outside the cluster), PostgreSQL's and Key Vault's
    VNet addresses, Entra ID and the model registries all fall in. Nodes' own addresses (the kubelet, host-network
    pods) are admitted by neither rule under Cilium: the pods labelled `exempt` (key, value), which need them, are
    left out of the policy (not selected, so not isolated for egress). `policy_name`: another name, for a second
    component guarding the same namespace (policies add up, so two identical ones allow what one does)."""
    np = k8s.networking.v1
    selector = k8s.meta.v1.LabelSelectorArgs(match_expressions=[k8s.meta.v1.LabelSelectorRequirementArgs(
        key=exempt[0], operator="NotIn", values=[exempt[1]])] if exempt else None)
    return np.NetworkPolicy(
        resource_name,
        metadata=k8s.meta.v1.ObjectMetaArgs(name=policy_name, namespace=namespace),
        spec=np.NetworkPolicySpecArgs(
            pod_selector=selector,
            policy_types=["Egress"],
            egress=[np.NetworkPolicyEgressRuleArgs(to=[np.NetworkPolicyPeerArgs(
                        namespace_selector=k8s.meta.v1.LabelSelectorArgs())]),
                    np.NetworkPolicyEgressRuleArgs(to=[np.NetworkPolicyPeerArgs(ip_block=np.IPBlockArgs(
                        cidr="0.0.0.0/0", except_=[IMDS_CIDR, WIRESERVER_CIDR]))])]),
        opts=opts)


# Cilium's label for a pod's namespace (every endpoint of a pod carries it, `k8s:` its source): a CiliumNetworkPolicy
# selector naming the key is not narrowed to the policy's namespace (cilium/cilium v1.18.3
# pkg/k8s/apis/cilium.io/utils/utils.go, getEndpointSelector), so `Exists` selects the pods of every namespace.
CILIUM_NAMESPACE_LABEL = "k8s:io.kubernetes.pod.namespace"


def cilium_egress_guard(resource_name: str, name: str, namespace: pulumi.Input[str], pod_labels: dict[str, str],
                        opts: pulumi.ResourceOptions) -> k8s.apiextensions.CustomResource:
    """egress_guard for pods that also call the nodes' own addresses (the kubelet, host-network exporters), which no
    NetworkPolicy can admit under Cilium: a CiliumNetworkPolicy (cilium.io/v2, whose CRD the cilium-operator of a
    cluster with the Cilium dataplane registers) selecting the pods of `namespace` labelled `pod_labels`. Selected by
    a rule with an egress section, they are denied every egress the rules do not allow (Cilium's "Endpoint default
    policy"); the rules allow every pod of the cluster (as egress_guard's selector rule), the nodes (the `host` and
    `remote-node` entities, which no CIDR rule selects), the API server (the `kube-apiserver` entity) and every
    address outside the cluster but the node's metadata service and wireserver (as egress_guard's ipBlock)."""
    return k8s.apiextensions.CustomResource(
        resource_name, api_version="cilium.io/v2", kind="CiliumNetworkPolicy",
        metadata=k8s.meta.v1.ObjectMetaArgs(name=name, namespace=namespace),
        spec={"description": "Keeps the selected pods off the node's metadata service and wireserver; every pod, "
                             "node, the API server and the outside world stay reachable.",
              "endpointSelector": {"matchLabels": dict(pod_labels)},
              "egress": [{"toEndpoints": [{"matchExpressions": [{"key": CILIUM_NAMESPACE_LABEL,
                                                                 "operator": "Exists"}]}]},
                         {"toEntities": ["host", "remote-node", "kube-apiserver"]},
                         {"toCIDRSet": [{"cidr": "0.0.0.0/0", "except": [IMDS_CIDR, WIRESERVER_CIDR]}]}]},
        opts=opts)


def secret_provider_class(resource_name: str, name: str, namespace: pulumi.Input[str], vault: Any,
                          client_id: pulumi.Input[str], objects: pulumi.Input[str],
                          opts: pulumi.ResourceOptions) -> k8s.apiextensions.CustomResource:
    """Key Vault secrets of `vault` (a VaultHandle) mounted into pods as files by the Secrets Store CSI driver,
    authenticated with workload identity. Never synced into a Kubernetes Secret: the values stay in Key Vault and the
    pod's in-memory mount. Made after the vault's first write (its private endpoint: the handle's writes_after, a
    dependency only)."""
    spec: dict[str, Any] = {
        "provider": "azure",
        "parameters": {"usePodIdentity": "false", "clientID": client_id, "keyvaultName": field(vault, "vault_name"),
                       "tenantId": field(vault, "tenant_id"), "objects": objects},
    }
    return k8s.apiextensions.CustomResource(
        resource_name, api_version="secrets-store.csi.x-k8s.io/v1", kind="SecretProviderClass",
        metadata=k8s.meta.v1.ObjectMetaArgs(name=name, namespace=namespace), spec=spec,
        opts=order_after(opts, vault, "writes_after"))


def csi_secrets_volume(class_name: str) -> k8s.core.v1.VolumeArgs:
    return k8s.core.v1.VolumeArgs(name="secrets-store", csi=k8s.core.v1.CSIVolumeSourceArgs(
        driver="secrets-store.csi.k8s.io", read_only=True, volume_attributes={"secretProviderClass": class_name}))


def csi_secrets_mount() -> k8s.core.v1.VolumeMountArgs:
    """Where a container reads the files of csi_secrets_volume (SECRETS_MOUNT, read-only)."""
    return k8s.core.v1.VolumeMountArgs(name="secrets-store", mount_path=SECRETS_MOUNT, read_only=True)


def deployment(resource_name: str, name: str, namespace: pulumi.Input[str], component_labels: dict[str, str],
               replicas: int, pod_spec: k8s.core.v1.PodSpecArgs, opts: pulumi.ResourceOptions,
               pod_labels: Optional[dict[str, str]] = None,
               pod_annotations: Optional[pulumi.Input[Mapping[str, pulumi.Input[str]]]] = None,
               annotations: Optional[Mapping[str, pulumi.Input[str]]] = None) -> k8s.apps.v1.Deployment:
    """A Deployment selecting its pods by app.kubernetes.io/name (the selector never changes with other labels);
    `annotations` on the Deployment itself (the scanner's skips, llmplatform.hardening.scanner_annotations), with
    PATCH_FORCE: applied forced. An autoscaled one ignores `spec.replicas` (its opts' ignore_changes)."""
    return k8s.apps.v1.Deployment(
        resource_name,
        metadata=k8s.meta.v1.ObjectMetaArgs(name=name, namespace=namespace, labels=component_labels,
                                            annotations={**(annotations or {}), **PATCH_FORCE}),
        spec=k8s.apps.v1.DeploymentSpecArgs(
            replicas=replicas,
            selector=k8s.meta.v1.LabelSelectorArgs(match_labels={"app.kubernetes.io/name": name}),
            template=k8s.core.v1.PodTemplateSpecArgs(
                metadata=k8s.meta.v1.ObjectMetaArgs(labels={**component_labels, **(pod_labels or {})},
                                                    annotations=pod_annotations),
                spec=pod_spec)),
        opts=opts)


def cpu_utilization_metric(percent: int) -> k8s.autoscaling.v2.MetricSpecArgs:
    """HPA metric: average CPU utilisation of the target's pods."""
    return k8s.autoscaling.v2.MetricSpecArgs(type="Resource", resource=k8s.autoscaling.v2.ResourceMetricSourceArgs(
        name="cpu", target=k8s.autoscaling.v2.MetricTargetArgs(type="Utilization", average_utilization=percent)))
