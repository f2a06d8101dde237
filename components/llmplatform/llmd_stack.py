"""LlmdStack: llm-d on AKS — vLLM on the GPU pool, the llm-d inference scheduler (EPP) choosing a replica for every
request through an InferencePool, behind the same API-key and rate-limit gate as the Ollama path.

Request path: platform Gateway (the `llmd` listener; internal by default) -> HTTPRoute -> the API router (bearer
key, 429 per client) -> an in-namespace ClusterIP Istio Gateway -> HTTPRoute to the InferencePool -> the EPP picks
a vLLM pod (prefix-cache and load aware). NetworkPolicies make that the only way in: the ClusterIP gateway accepts
traffic from the router alone, vLLM from that gateway, the EPP and Prometheus alone.

With prefill_decode (InfiniBand sizes): a prefill and a decode Deployment; the EPP's P/D profiles pick a decode pod
and, for a prompt whose uncached part is long enough, a prefill pod; the llm-d routing sidecar in front of decode's
vLLM sends the prompt to that prefill pod first, and decode pulls its KV cache over RDMA (NIXL). The Network
Operator, its NicClusterPolicy and the NRI memlock plugin come along (rdma_network.py).
"""
from typing import Any, Mapping, Optional, TypedDict

import pulumi
import pulumi_kubernetes as k8s
from typing_extensions import NotRequired

from . import PACKAGE
from .api_router import UI_CLIENT, RouterSpec, api_router, hands_out_key, in_cluster_policy, router_endpoint
from .checks import (DRAIN_FIELDS, GPU_FIELDS, KEDA_FIELDS, ROUTE_FIELDS, ROUTER_RANGE_FIELDS, after_check,
                     called_as_documented, check_shape, handle_after_check, late_rules)
from .defaults import defaults_for, or_default
from .handles import (ClusterHandle, GpuScheduling, KedaEndpoints, ModelEndpoint, RouteTarget, VaultHandle, field,
                      ordered_after, value_alone)
from .hardening import container_security, pod_security, root_image, scanner_annotations, writable_root
from .input_rules.llmd import unread_inputs
from .inference_specs import (ROUTER_EDGE_PORT, ROUTER_PORT, ROUTER_UI_PORT, SECRETS_MOUNT, gate_route_timeouts,
                              key_vault_objects)
from .key_vault import grant_secrets_user
from .observability import prometheus_peer
from .kube import (pulled, cpu_placement, csi_secrets_mount, csi_secrets_volume, deployment,
                   disruption_budget, egress_guard, helm_release, http_probe, gpu_start_deadline, labels,
                   model_download_deadline_seconds, namespace, namespace_peer, placement,
                   placement_args, require_kubernetes_provider, secret_provider_class, service_url, vllm_startup_probe)
from .llmd_specs import (EPP_METRICS_PORT, EPP_PORT, LLMD_API_ROUTES, MODEL_LABEL, MODEL_WEIGHTS_ANNOTATION,
                         OPEN_WEBUI_OPENAI_ROUTES, POOL_LABEL, VLLM_GRACE_SECONDS, VLLM_PORT, context_length,
                         epp_affinity, epp_plugins, epp_triggers, node_affinity, pool_gateway_overlays, router_values,
                         served_name, shm_gib, vllm_args, vllm_scale_behavior, weights_gib)
from .shared_names import claim_gate_namespace, handed_namespace
from .pd_specs import (DECODE, DECODE_VLLM_PORT, PREFILL, RDMA_RESOURCE, ROLE_LABEL, SIDECAR_PORT, gib_bytes,
                       memlock_annotation, nixl_env, pd_plugins, sidecar_args)
from .pins import LLM_D_ROUTER_GATEWAY, LLMD_PD_SIDECAR_IMAGE
from .rdma_network import rdma_network
from .units import BYTES_PER_GIB
from .workload_identity import USE_LABEL, WorkloadIdentity

opt = defaults_for("LlmdStack")  # optional inputs: the caller's value, else the default

RELEASE = "llmd"  # the chart names the EPP <release>-epp and the InferencePool <release>
POOL_GATEWAY = "llmd-gateway"  # in-namespace ClusterIP gateway; Istio names its Service <gateway>-istio
POOL_GATEWAY_PARAMS = "llmd-gateway-params"  # its parametersRef ConfigMap (Istio's per-Gateway overlays)
ISTIO_SERVICE_TYPE = "networking.istio.io/service-type"
EPP_LABEL = {"llm-d-router-gateway": f"{RELEASE}-epp"}  # the chart's EPP selector label
HF_TOKEN_FILE = "hf-token"  # the token's file in the CSI mount (objectAlias); huggingface_hub reads HF_TOKEN_PATH


class LlmdStackArgs(TypedDict):
    """Inputs of LlmdStack."""

    cluster: pulumi.Input[ClusterHandle]
    """The cluster (CPU pool for the scheduler and the router, OIDC issuer for workload identity)."""
    gpu: pulumi.Input[GpuScheduling]
    """The GPU pool vLLM runs on (GpuNodePool's `scheduling`): an A100, H100 or H200 size."""
    route_target: pulumi.Input[RouteTarget]
    """The platform Gateways (GatewayAccess's `route_target`, with the inference extension on)."""
    model: str
    """Hugging Face model id vLLM serves, e.g. Qwen/Qwen3-8B."""
    key_vault: pulumi.Input[VaultHandle]
    """Vault holding the API key and, with hf_token_secret, the Hugging Face token."""
    namespace: NotRequired[Optional[str]]
    """Namespace of the stack (default llm-d)."""
    hf_token_secret: NotRequired[Optional[str]]
    """Key Vault secret with a Hugging Face token, for gated models (mounted through the CSI driver, never config)."""
    tensor_parallel_size: NotRequired[Optional[int]]
    """GPUs per vLLM replica (default 1); at most the GPUs of one node. With prefill_decode: per decode replica."""
    replicas: NotRequired[Optional[int]]
    """vLLM replicas (default 1). With prefill_decode: decode replicas."""
    autoscaling: NotRequired[Optional[bool]]
    """Scale vLLM with KEDA on the picker's queue and running requests (llm-d's workload-autoscaling guide); turns
    on the picker's flow control (default False: `replicas` fixed)."""
    min_replicas: NotRequired[Optional[int]]
    """Fewest vLLM replicas under autoscaling (default 1); 0 scales to zero, where the picker holds requests while
    a replica starts."""
    max_replicas: NotRequired[Optional[int]]
    """Most vLLM replicas under autoscaling (default 2)."""
    scale_up_stabilization_seconds: NotRequired[Optional[int]]
    """Scale-up stabilisation window, near one replica's cold start (default 300)."""
    scale_down_stabilization_seconds: NotRequired[Optional[int]]
    """Scale-down stabilisation window, and the quiet time before scaling to zero (default 300)."""
    keda: NotRequired[Optional[pulumi.Input[KedaEndpoints]]]
    """KEDA's addresses (Observability's `keda`): its Prometheus, for the triggers; needed with autoscaling."""
    epp_replicas: NotRequired[Optional[int]]
    """Endpoint picker replicas (default 2): above one the chart runs them leader-elected (one active, the others
    standing by)."""
    model_memory_gib: NotRequired[Optional[float]]
    """Weight size of a model the built-in list does not know, GiB (for the fit check)."""
    max_model_len: NotRequired[Optional[int]]
    """Longest context vLLM accepts (default: the model's)."""
    model_cache_gib: NotRequired[Optional[int]]
    """Size limit of each replica's model download cache (an emptyDir), GiB; at least the weights plus 1 GiB, since a
    pod whose cache passes its limit is evicted and its successor downloads from nothing (default 200)."""
    prefill_decode: NotRequired[Optional[bool]]
    """Prefill/decode disaggregation (default False): prefill and decode Deployments, the llm-d routing sidecar on
    decode, the picker's P/D profiles, KV cache over InfiniBand (NIXL, `rdma/ib`), with the NVIDIA Network Operator
    and the NRI memlock plugin; needs an InfiniBand size (ND96) with the GPU Operator driver, autoscaling off."""
    prefill_replicas: NotRequired[Optional[int]]
    """Prefill replicas with prefill_decode (default 1)."""
    prefill_tensor_parallel_size: NotRequired[Optional[int]]
    """GPUs per prefill replica with prefill_decode (default 1); at most the GPUs of one node."""
    vllm_image: NotRequired[Optional[str]]
    """vLLM image, pinned to a release (default: the package's pin)."""
    extra_args: NotRequired[Optional[list[str]]]
    """More `vllm serve` arguments, after the component's own (e.g. ["--enable-prefix-caching", "--max-num-seqs",
    "128"]); flags the component sets from its inputs are refused in any spelling vLLM reads as them, and so are
    `--api-key` and `--hf-token` (plain text in the Deployment: a gated model's token is `hf_token_secret`) and
    `--download-dir` (the download stays in the sized cache) (default none)."""
    extra_env: NotRequired[Optional[dict[str, str]]]
    """More environment variables for vLLM (e.g. {"VLLM_LOGGING_LEVEL": "DEBUG"}); variables the component sets are
    refused, and so are names that look like a secret (HF_TOKEN, VLLM_API_KEY, ...: plain text in the Deployment; a
    gated model's token is `hf_token_secret`), HF_HUB_CACHE / HUGGINGFACE_HUB_CACHE and VLLM_USE_MODELSCOPE 'true'
    (the download stays in the sized cache), and with `hf_token_secret` HF_HUB_DISABLE_IMPLICIT_TOKEN and
    HUGGINGFACE_CO_STAGING when on (the mounted token stays the one sent) (default none)."""
    epp_image: NotRequired[Optional[str]]
    """llm-d endpoint picker image, pinned to a release (default: the package's pin)."""
    failure_mode: NotRequired[Optional[str]]
    """What the gateway does when the picker is down: FailOpen (any replica) or FailClose (default FailOpen)."""
    expose_externally: NotRequired[Optional[bool]]
    """Attach the API to the external Gateway too (default False: internal only)."""
    api_key_auth: NotRequired[Optional[bool]]
    """Require a bearer API key (default True)."""
    api_key_secret: NotRequired[Optional[str]]
    """Key Vault secret name of the API key (default <name>-api-key)."""
    client_namespaces: NotRequired[Optional[list[str]]]
    """Other namespaces whose pods may call the gate (`endpoint`) in-cluster, with the key; the gate admits this
    namespace's Open-WebUI pods (on `ui_endpoint` with ui_listener, else on `endpoint`), and the Gateways' namespace
    on a listener of its own (port 8082, the only one that reads a client's address from X-Forwarded-For) (default
    none)."""
    ui_listener: NotRequired[Optional[bool]]
    """A keyless listener (port 8081) for this namespace's Open-WebUI, handed out as `ui_endpoint`: only its pods may
    reach it (NetworkPolicy), each held to the per-client rate limit, and it forwards the routes Open-WebUI calls
    (the model list, chat completions, responses, embeddings), so the UI mounts no key and a key rotation needs no
    restart of it; the UI's pods then no longer reach `endpoint` (default False: the UI calls `endpoint` with the
    key)."""
    ui_namespace: NotRequired[Optional[str]]
    """With ui_listener: the namespace of the OpenWebUi the keyless listener admits (its `open-webui` pods there
    alone), for a UI kept out of this namespace, which enforces Pod Security `privileged` with prefill_decode (default:
    this namespace)."""
    api_key_map_secret: NotRequired[Optional[str]]
    """Key Vault secret name of an nginx key map written by someone else (the global edge's key set, valid in every
    region): the gate reads it and generates no key of its own (default: its own key)."""
    api_key_replaceable: NotRequired[Optional[bool]]
    """Keep the gate's own generated key and its two Key Vault secrets out of the component's `protect`: a key that
    serves only until `api_key_map_secret` replaces it (a region waiting for its global edge, whose joining deletes
    it: the engine refuses a protected delete) (default False: the key takes `protect`). Only with `api_key_auth` true
    and no `api_key_map_secret` (refused otherwise: the gate generates no key of its own)."""
    rate_limit_per_second: NotRequired[Optional[int]]
    """Requests per second per client before 429 (default 10)."""
    rate_limit_burst: NotRequired[Optional[int]]
    """Burst above the rate (default 20)."""
    request_timeout_seconds: NotRequired[Optional[int]]
    """Longest answer the gateways and the router wait for (default 600)."""
    metrics: NotRequired[Optional[bool]]
    """PodMonitor for vLLM and ServiceMonitor for the picker. They need the Prometheus Operator's CRDs, which
    Observability installs: default on when `prometheus_url` or `keda` (Observability's) is given, which they wait
    for; on without either is refused (no CRD to wait for: `pulumi up` would fail on them)."""
    prometheus_url: NotRequired[Optional[pulumi.Input[str]]]
    """Observability's `prometheus_url`: the monitors wait for it, as it waits for the chart bringing their CRDs."""
    name_prefix: NotRequired[Optional[str]]
    """Start of Azure names (identities id-<prefix>-...; default: the name)."""
    tags: NotRequired[Optional[Mapping[str, pulumi.Input[str]]]]
    """Azure tags."""


def check_args(name: str, args: LlmdStackArgs) -> dict[str, Any]:
    """What the build derives from the inputs (their rules are input_rules.llmd_stack, run by check_shape)."""
    tp = opt(args, "tensor_parallel_size")
    prefill_tp = opt(args, "prefill_tensor_parallel_size") if opt(args, "prefill_decode") else tp
    return {"tp": tp, "context": context_length(args["model"], args.get("max_model_len")), "prefill_tp": prefill_tp}


def metrics_on(args: Mapping[str, Any]) -> bool:
    """The monitors: as given, else when something that waits for the Prometheus Operator's CRDs is given
    (Observability's `prometheus_url` or `keda`); without either nothing in the program brings their CRDs."""
    given = args.get("metrics")
    if given is not None:
        return bool(given)
    return args.get("prometheus_url") not in (None, "") or bool(args.get("keda"))


@called_as_documented
class LlmdStack(pulumi.ComponentResource):
    """llm-d on AKS: vLLM on the GPU pool, the llm-d inference scheduler and InferencePool, reached only through
    the API-key and rate-limit router, on the platform Gateways' `llmd` listener (internal by default). The `protect`
    option protects the router's generated key and its two Key Vault secrets; everything else stays
    replaceable."""

    namespace: pulumi.Output[str]
    """Namespace of the stack."""
    served_model_name: pulumi.Output[str]
    """The `model` value clients send."""
    inference_pool: pulumi.Output[str]
    """Name of the InferencePool (the chart's, named after the release)."""
    router_service: pulumi.Output[str]
    """In-cluster URL of the key-protected, rate-limited llm-d API (`http://<service>.<namespace>.svc:<port>`)."""
    api_key_secret: pulumi.Output[Optional[str]]
    """Key Vault secret holding the API's bearer key (None when auth is off)."""
    endpoint: ModelEndpoint
    """The key-protected OpenAI-compatible API, for clients in `client_namespaces` (and an OpenWebUi in the stack's
    namespace without ui_listener)."""
    ui_endpoint: Optional[ModelEndpoint]
    """With ui_listener: the keyless listener for an OpenWebUi in the stack's namespace, or in ui_namespace (`openai`,
    no key); else None."""

    def __init__(self, name: str, args: LlmdStackArgs, opts: Optional[pulumi.ResourceOptions] = None):
        args = check_shape("LlmdStack", name, args, LlmdStackArgs)
        checked = check_args(name, args)
        require_kubernetes_provider(opts, "LlmdStack", name)
        claim_gate_namespace("LlmdStack", name, "namespace", opt(args, "namespace"), opts,
                             "give the LlmdStack a namespace of its own (its namespace input; default llm-d)", self)
        super().__init__(f"{PACKAGE}:index:LlmdStack", name, None, opts)
        for note in unread_inputs(args):
            pulumi.log.warn(f"LlmdStack {name}: {note}", self)
        self._args, self._name = args, name
        # handles that arrive as outputs (another language's): their checks run once they resolve, and what they
        # feed waits for them (the vLLM pods' placement, the KEDA scaler, the route's listener)
        self._late = {key: late_rules("LlmdStack", name, args, key, fields, LlmdStackArgs) for key, fields in
                      (("gpu", GPU_FIELDS), ("keda", KEDA_FIELDS), ("route_target", ROUTE_FIELDS),
                       ("cluster", (*ROUTER_RANGE_FIELDS, *DRAIN_FIELDS)))}
        self._k8s = pulumi.ResourceOptions(parent=self, protect=False)
        cluster, target = args["cluster"], args["route_target"]
        pd = opt(args, "prefill_decode")
        # IPC_LOCK (pinned memory for NIXL) is above Pod Security baseline: only a P/D namespace is privileged
        ns = namespace(f"{name}-ns", opt(args, "namespace"), "privileged" if pd else "baseline", self._k8s,
                       field(target, "routes_label"))
        self._ns = ns.metadata.name
        handed_namespace(self._ns, opt(args, "namespace"))  # its endpoint's, for an ApiGate given it
        served = served_name(args["model"])
        if pd:  # InfiniBand first: the pods ask for rdma/ib and a raised memlock limit
            rdma = rdma_network(self, name, cluster)
            servers = [self._vllm(name, served, checked["prefill_tp"], checked["context"], PREFILL, rdma),
                       self._vllm(name, served, checked["tp"], checked["context"], DECODE, rdma)]
        else:
            servers = [self._vllm(name, served, checked["tp"], checked["context"])]
        autoscaled = opt(args, "autoscaling")
        # under autoscaling flow control holds what the pool cannot take yet, as long as the gateways wait
        plugins = pd_plugins(checked["context"]) if pd else epp_plugins(
            checked["context"], opt(args, "request_timeout_seconds") if autoscaled else None)
        # the chart creates the InferencePool: it waits for the platform's Inference Extension CRDs and istiod
        # (the route target resolves after them) and for the vLLM Deployment the pool selects
        values = pulumi.Output.all(cpu_placement(cluster), field(target, "namespace")).apply(
            lambda v: router_values(opt(args, "epp_image"), self._selector(served),
                                    epp_affinity(node_affinity(v[0]["nodeSelector"]), EPP_LABEL),
                                    opt(args, "failure_mode"), v[0].get("tolerations", []), plugins,
                                    opt(args, "epp_replicas")))
        release = helm_release(f"{name}-router-chart", LLM_D_ROUTER_GATEWAY, self._ns, values,
                               pulumi.ResourceOptions(parent=self, protect=False, depends_on=servers), cluster=cluster,
                               release_name=RELEASE)
        pool_gateway = self._pool_route(name, target, release)
        if autoscaled:
            self._autoscaler(name, servers[0], release)
        gateway_ns = field(target, "namespace")
        ui = opt(args, "ui_listener")
        peers = [  # an OpenWebUi on `endpoint`, in this namespace: through the gate like any client (unless it has
            # a listener of its own, ui_listener: then on that one alone, api_router's `router-ui-ingress`, which
            # admits the UI's pods of ui_namespace when it is given)
            *([] if ui else [k8s.networking.v1.NetworkPolicyPeerArgs(pod_selector=k8s.meta.v1.LabelSelectorArgs(
                match_labels={"app.kubernetes.io/name": UI_CLIENT}))]),
            *(namespace_peer(n) for n in args.get("client_namespaces") or [])]
        router = RouterSpec(
            name=name, namespace=self._ns, upstream_host=f"{POOL_GATEWAY}-istio",
            cluster=handle_after_check(self._late["cluster"], cluster, ROUTER_RANGE_FIELDS),  # nginx writes them
            upstream_port=80, upstream_host_header=None, client_peers=peers, edge_namespace=gateway_ns,
            api_key_auth=opt(args, "api_key_auth"), rate_limit_per_second=opt(args, "rate_limit_per_second"),
            rate_limit_burst=opt(args, "rate_limit_burst"),
            request_timeout_seconds=opt(args, "request_timeout_seconds"),
            vault=args.get("key_vault"), api_key_secret=args.get("api_key_secret"),
            api_key_map_secret=args.get("api_key_map_secret"),
            key_replaceable=opt(args, "api_key_replaceable"),
            identity_prefix=or_default(args.get("name_prefix"), name),
            # vLLM's inference routes and its model list; its administration routes stay closed (LLMD_API_ROUTES)
            allowed_routes=list(LLMD_API_ROUTES),
            tags=args.get("tags", {}), after=[pool_gateway], front_door=field(target, "front_door", False),
            # the UI's own listener: the routes Open-WebUI calls, no key, the limit it met with the key
            ui_routes=OPEN_WEBUI_OPENAI_ROUTES if ui else None, ui_rate_limited=True,
            ui_namespace=args.get("ui_namespace") if ui else None)
        service, self.api_key_secret, router_ready = api_router(self, router)
        self.router_service = service_url(service, self._ns, ROUTER_PORT)
        in_cluster_policy(self, router, self._api_route(name, target, router_ready))
        self._network_policies(name, served, pd)
        if metrics_on(args):
            self._monitors(name, served)
        self.namespace = self._ns
        self.served_model_name = pulumi.Output.from_input(served)
        self.inference_pool = release.name
        self.endpoint = router_endpoint(service, self._ns, "openai", self.api_key_secret, hands_out_key(
            opt(args, "api_key_auth"), args.get("api_key_secret"), args.get("api_key_map_secret")))
        # its `service` resolves once the gate's pods run the listener and `router-ui-ingress` admits the UI's pods:
        # the UI's pods, which are handed this address, start after both. No `api_key_secret` (ModelEndpoint: none):
        # an empty one handed over as an output (another language's program) is refused as a name resolved empty
        self.ui_endpoint = ModelEndpoint(
            base_url=pulumi.Output.concat("http://", router_ready, ":", str(ROUTER_UI_PORT)), api="openai",
            namespace=self._ns, service=router_ready, port=ROUTER_UI_PORT) if ui else None
        self.register_outputs({"endpoint": self.endpoint, **({"ui_endpoint": self.ui_endpoint} if ui else {}),
                               "namespace": self.namespace,
                               "served_model_name": self.served_model_name,
                               "inference_pool": self.inference_pool, "router_service": self.router_service,
                               "api_key_secret": self.api_key_secret})

    @staticmethod
    def _selector(served: str) -> dict[str, str]:
        return {POOL_LABEL: "true", MODEL_LABEL: served}

    # ---- vLLM ---------------------------------------------------------------------------------------------------
    def _vllm(self, name: str, served: str, tp: int, context: int, role: Optional[str] = None,
              after: Optional[list[pulumi.Resource]] = None) -> k8s.apps.v1.Deployment:
        """One vLLM Deployment: the aggregated one, or with P/D the prefill or the decode one (`role`); decode's
        vLLM listens behind the routing sidecar, which takes the pool's port."""
        a, ns = self._args, self._ns
        gpu = a["gpu"]
        # the download's size sets how long `pulumi up` waits (a model the list does not know declares its own)
        weights = weights_gib(a["model"], a.get("model_memory_gib")) or 0.0
        start = vllm_startup_probe(weights)
        app = f"vllm-{role}" if role else "vllm"
        port = DECODE_VLLM_PORT if role == DECODE else VLLM_PORT
        env = [k8s.core.v1.EnvVarArgs(name="HF_HOME", value="/models-cache"),
               k8s.core.v1.EnvVarArgs(name="VLLM_NO_USAGE_STATS", value="1")]
        volumes = [k8s.core.v1.VolumeArgs(name="shm", empty_dir=k8s.core.v1.EmptyDirVolumeSourceArgs(
                       medium="Memory", size_limit=f"{shm_gib(tp)}Gi")),
                   k8s.core.v1.VolumeArgs(name="models-cache", empty_dir=k8s.core.v1.EmptyDirVolumeSourceArgs(
                       size_limit=f"{opt(a, 'model_cache_gib')}Gi"))]
        mounts = [k8s.core.v1.VolumeMountArgs(name="shm", mount_path="/dev/shm"),
                  k8s.core.v1.VolumeMountArgs(name="models-cache", mount_path="/models-cache")]
        account: Any = None
        pod_labels = {**self._selector(served), **({ROLE_LABEL: role} if role else {})}
        if hf_token := a.get("hf_token_secret"):
            account = self._hf_token(name, hf_token)
            # a file, not an env var or a Kubernetes Secret: only Key Vault and the pod's in-memory mount hold it
            env.append(k8s.core.v1.EnvVarArgs(name="HF_TOKEN_PATH", value=f"{SECRETS_MOUNT}/{HF_TOKEN_FILE}"))
            volumes.append(csi_secrets_volume("hf-token"))
            mounts.append(csi_secrets_mount())
            pod_labels = {**pod_labels, USE_LABEL: "true"}
        per_gpu_cpu, per_gpu_memory = 4, 24
        # one rdma/ib per pod whatever its GPUs (llm-d's AKS guide): the NIC is shared, GPUDirect reaches every GPU
        rdma = {RDMA_RESOURCE: "1"} if role else {}
        resources = k8s.core.v1.ResourceRequirementsArgs(
            requests={"cpu": str(per_gpu_cpu * tp), "memory": f"{per_gpu_memory * tp}Gi", "nvidia.com/gpu": str(tp),
                      **rdma},
            limits={"cpu": str(2 * per_gpu_cpu * tp), "memory": f"{2 * per_gpu_memory * tp}Gi",
                    "nvidia.com/gpu": str(tp), **rdma})
        env += [k8s.core.v1.EnvVarArgs(name=k, value=v) for k, v in sorted(opt(a, "extra_env").items())]
        pod_annotations = None
        if role:  # NIXL's side channel on the pod address; memlock raised by NRI up to the memory limit
            env += [k8s.core.v1.EnvVarArgs(**e) if "value" in e else k8s.core.v1.EnvVarArgs(
                name=e["name"], value_from=k8s.core.v1.EnvVarSourceArgs(field_ref=k8s.core.v1.ObjectFieldSelectorArgs(
                    field_path=e["valueFrom"]["fieldRef"]["fieldPath"]))) for e in nixl_env()]
            pod_annotations = memlock_annotation("vllm", gib_bytes(2 * per_gpu_memory * tp))
        replicas = opt(a, "prefill_replicas") if role == PREFILL else opt(a, "replicas")
        match = {"app.kubernetes.io/name": app}
        images = [opt(a, "vllm_image"), *([LLMD_PD_SIDECAR_IMAGE] if role == DECODE else [])]
        on_gpu = placement(after_check(self._late["gpu"], field(gpu, "node_selector")), field(gpu, "tolerations"))
        created = deployment(
            f"{name}-{app}", app, ns, labels("model-server", app), replicas,
            k8s.core.v1.PodSpecArgs(
                # the account's name alone, its gates in the order (WorkloadIdentity.service_account_name)
                service_account_name=value_alone(account) if account is not None else None,
                automount_service_account_token=False,
                # the vLLM image runs as root and writes its caches; every capability is dropped (IPC_LOCK for P/D)
                security_context=pod_security(run_as_user=None),
                **placement_args(on_gpu),
                # held to the cluster's drain, once a drain known only at deploy time resolves
                termination_grace_period_seconds=after_check(self._late["cluster"], VLLM_GRACE_SECONDS),
                init_containers=[self._sidecar()] if role == DECODE else None,
                containers=[k8s.core.v1.ContainerArgs(
                    name="vllm", image=pulled(a["cluster"], opt(a, "vllm_image")), command=["vllm"],
                    args=vllm_args(a["model"], served, tp, context, role is not None, port, opt(a, "extra_args")),
                    ports=[k8s.core.v1.ContainerPortArgs(name="http", container_port=port)],
                    env=env, resources=resources,
                    startup_probe=http_probe("/health", port, period=start["periodSeconds"],
                                             timeout=start["timeoutSeconds"], failures=start["failureThreshold"]),
                    readiness_probe=http_probe("/health", port, period=10, failures=3),
                    liveness_probe=http_probe("/health", port, period=30, failures=5, timeout=10),
                    security_context=container_security(run_as_user=None, read_only_root=False,
                                                        add_capabilities=["IPC_LOCK"] if role else None),
                    volume_mounts=mounts)],
                volumes=volumes),
            ordered_after(pulumi.ResourceOptions(parent=self, protect=False,
                                                 ignore_changes=["spec.replicas"] if opt(a, "autoscaling") else None,
                                                 depends_on=after),
                          on_gpu, *([account] if account is not None else [])),
            pod_labels=pod_labels, pod_annotations=pod_annotations,
            annotations={
                **gpu_start_deadline(True, model_download_deadline_seconds(weights)),
                **({MODEL_WEIGHTS_ANNOTATION: str(round(weights * BYTES_PER_GIB))} if weights else {}),
                **scanner_annotations(images, [
                    *root_image("the upstream vLLM image runs as root (as llm-d's own guides run it); a non-root "
                                "vLLM is not verified on these offline machines"),
                    *writable_root("vLLM, Triton and FlashInfer compile kernels into caches under the image's home"),
                    *([("CKV_K8S_25", "IPC_LOCK for NIXL's pinned RDMA buffers, as llm-d's P/D guides give vLLM; "
                                      "every other capability dropped")] if role else [])])})
        disruption_budget(f"{name}-{app}-pdb", app, ns, match, self._k8s)
        return created

    def _sidecar(self) -> k8s.core.v1.ContainerArgs:
        """llm-d's routing sidecar as a native sidecar (an init container that keeps running, as upstream's decode
        Deployment has it): the pool's port, the prompt to the prefill pod the picker named, then decode locally."""
        return k8s.core.v1.ContainerArgs(
            name="routing-sidecar", image=pulled(self._args["cluster"], LLMD_PD_SIDECAR_IMAGE),
            image_pull_policy="IfNotPresent",
            args=sidecar_args(), restart_policy="Always",
            ports=[k8s.core.v1.ContainerPortArgs(name="sidecar-http", container_port=SIDECAR_PORT)],
            resources=k8s.core.v1.ResourceRequirementsArgs(requests={"cpu": "250m", "memory": "256Mi"},
                                                           limits={"cpu": "2", "memory": "1Gi"}),
            readiness_probe=k8s.core.v1.ProbeArgs(
                tcp_socket=k8s.core.v1.TCPSocketActionArgs(port=SIDECAR_PORT), period_seconds=10),
            liveness_probe=k8s.core.v1.ProbeArgs(
                tcp_socket=k8s.core.v1.TCPSocketActionArgs(port=SIDECAR_PORT), period_seconds=30, failure_threshold=5),
            security_context=container_security())

    def _autoscaler(self, name: str, vllm: k8s.apps.v1.Deployment, release: k8s.helm.v3.Release) -> None:
        """KEDA on the picker's demand signals (the generated HPA owns vLLM's replica count); the GPU pool's
        cluster autoscaler follows the pods left pending."""
        a = self._args
        k8s.apiextensions.CustomResource(
            f"{name}-vllm-scaler", api_version="keda.sh/v1alpha1", kind="ScaledObject",
            # after KEDA's release, which installs the ScaledObject CRD (the keda handle's namespace waits for it)
            metadata=k8s.meta.v1.ObjectMetaArgs(name="vllm", namespace=pulumi.Output.all(
                self._ns, after_check(self._late["keda"], field(a["keda"], "namespace"))).apply(lambda v: v[0])),
            spec={"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": vllm.metadata.name},
                  "pollingInterval": 15,
                  "cooldownPeriod": opt(a, "scale_down_stabilization_seconds"),  # the quiet time before zero
                  "minReplicaCount": opt(a, "min_replicas"), "maxReplicaCount": opt(a, "max_replicas"),
                  "advanced": {"horizontalPodAutoscalerConfig": {"behavior": vllm_scale_behavior(
                      opt(a, "scale_up_stabilization_seconds"), opt(a, "scale_down_stabilization_seconds"))}},
                  # the picker's Service the chart names <release>-epp, scraped by our ServiceMonitor
                  "triggers": pulumi.Output.all(field(a["keda"], "prometheus_url"), self._ns, release.name).apply(
                      lambda v: epp_triggers(v[0], v[1], f"{v[2]}-epp"))},
            opts=self._k8s)

    def _hf_token(self, name: str, secret: str) -> pulumi.Output[str]:
        """The Hugging Face token reaches vLLM from Key Vault through the CSI driver and workload identity."""
        a = self._args
        identity = WorkloadIdentity(f"{name}-vllm-identity", {
            "cluster": a["cluster"], "identity_name": f"id-{a.get('name_prefix', name)}-vllm",
            "namespace": self._ns, "service_account_name": "vllm", "tags": a.get("tags", {}),
        }, pulumi.ResourceOptions(parent=self, protect=False))
        # the token it mounts and no other secret of the vault (its admin password, the API key maps)
        grant_secrets_user(f"{name}-vllm-kv-reader", a["key_vault"], identity.principal_id, identity, secret)
        vault = a["key_vault"]
        objects = key_vault_objects([secret], {secret: HF_TOKEN_FILE})
        secret_provider_class(
            f"{name}-hf-token", "hf-token", self._ns, vault, identity.client_id, objects, self._k8s)
        return identity.service_account_name

    # ---- routes -----------------------------------------------------------------------------------------------
    def _pool_route(self, name: str, target: Any, release: k8s.helm.v3.Release) -> pulumi.Resource:
        """A ClusterIP Istio Gateway of the stack's own and its route to the InferencePool: reachable only from the
        router (NetworkPolicy), so nothing reaches the pool without a key and under the rate limit."""
        timeout = f"{opt(self._args, 'request_timeout_seconds')}s"
        # Istio overlays this Gateway's generated Service with the ConfigMap after the class-wide one: the class's
        # externalTrafficPolicy (LoadBalancer only) is removed, which the API server demands of a ClusterIP Service
        params = k8s.core.v1.ConfigMap(
            f"{name}-pool-gateway-params", metadata=k8s.meta.v1.ObjectMetaArgs(name=POOL_GATEWAY_PARAMS,
                                                                               namespace=self._ns),
            data=pool_gateway_overlays(), opts=self._k8s)
        # Awaited until Programmed: Istio has then created <gateway>-istio, the Service the router's nginx resolves.
        gateway = k8s.apiextensions.CustomResource(
            f"{name}-pool-gateway", api_version="gateway.networking.k8s.io/v1", kind="Gateway",
            # Istio reads the Service type from the Gateway's own annotations (not spec.infrastructure's);
            # waits for the platform's Istio and CRDs (the route target resolves after them)
            # (the target in the order alone: its namespace carries the platform Gateways and Istio, which a
            # delete-first replacement would otherwise take this Gateway along with, through its metadata; pulumi/pulumi
            # 1b5949891b step_generator.go calculateDependentReplacements)
            metadata=k8s.meta.v1.ObjectMetaArgs(name=POOL_GATEWAY, namespace=self._ns, annotations={
                ISTIO_SERVICE_TYPE: "ClusterIP", "pulumi.com/waitFor": "condition=Programmed"}),
            spec={"gatewayClassName": "istio",
                  "infrastructure": {"parametersRef": {"group": "", "kind": "ConfigMap", "name": POOL_GATEWAY_PARAMS}},
                  "listeners": [{"name": "http", "port": 80, "protocol": "HTTP",
                                 "allowedRoutes": {"namespaces": {"from": "Same"}}}]},
            opts=ordered_after(pulumi.ResourceOptions(parent=self, protect=False, depends_on=[params]),
                               field(target, "namespace")))
        k8s.apiextensions.CustomResource(
            f"{name}-pool-route", api_version="gateway.networking.k8s.io/v1", kind="HTTPRoute",
            metadata=k8s.meta.v1.ObjectMetaArgs(name="llmd-pool", namespace=self._ns),
            spec={"parentRefs": [{"name": POOL_GATEWAY, "sectionName": "http"}],
                  "rules": [{"matches": [{"path": {"type": "PathPrefix", "value": "/"}}],
                             # the InferencePool the chart creates, in this namespace; no port for a pool
                             "backendRefs": [{"group": "inference.networking.k8s.io", "kind": "InferencePool",
                                              "name": release.name}],
                             "timeouts": {"request": timeout, "backendRequest": timeout}}]},
            opts=self._k8s)
        return gateway

    def _api_route(self, name: str, target: Any, router: pulumi.Output[str]) -> k8s.apiextensions.CustomResource:
        """The platform Gateways' llmd listener -> the router's listener for them (internal Gateway only unless
        exposed); `router`: its Service's name once its pods listen there and their policy admits the Gateways."""
        external = opt(self._args, "expose_externally")
        parents = pulumi.Output.all(field(target, "gateway_names"), field(target, "namespace"),
                                    after_check(self._late["route_target"], field(target, "llmd_listener"))).apply(
            lambda v: [{"name": gw, "namespace": v[1], "sectionName": v[2]} for gw in v[0]
                       if external or gw.startswith("internal")])
        return k8s.apiextensions.CustomResource(
            f"{name}-api-route", api_version="gateway.networking.k8s.io/v1", kind="HTTPRoute",
            metadata=k8s.meta.v1.ObjectMetaArgs(name="llmd-api", namespace=self._ns),
            spec={"parentRefs": parents,
                  "rules": [{"matches": [{"path": {"type": "PathPrefix", "value": "/"}}],
                             "backendRefs": [{"name": router, "port": ROUTER_EDGE_PORT}],
                             # past the gate's deadline: its 504, marked not to be retried, reaches the client
                             "timeouts": gate_route_timeouts(opt(self._args, "request_timeout_seconds"))}]},
            opts=self._k8s)

    # ---- who may talk to whom ------------------------------------------------------------------------------------
    def _network_policies(self, name: str, served: str, pd: bool) -> None:
        ns = self._ns
        np = k8s.networking.v1

        def pods(**match: str) -> k8s.networking.v1.NetworkPolicyPeerArgs:
            return np.NetworkPolicyPeerArgs(pod_selector=k8s.meta.v1.LabelSelectorArgs(match_labels=match))

        monitoring = prometheus_peer()  # Prometheus alone: vLLM's metrics port is its keyless inference port
        pool_gateway = pods(**{"gateway.networking.k8s.io/gateway-name": POOL_GATEWAY})
        epp = pods(**EPP_LABEL)
        # with P/D both Deployments: every pod of the pool (the gateway reaches decode's sidecar on the pool port)
        vllm_pods = self._selector(served) if pd else {"app.kubernetes.io/name": "vllm"}
        rules = [
            ("default-deny", {}, []),
            ("vllm-ingress", vllm_pods,
             [([pool_gateway, epp], VLLM_PORT), ([monitoring], VLLM_PORT),
              *([([monitoring], DECODE_VLLM_PORT)] if pd else [])]),
            ("epp-ingress", EPP_LABEL,
             [([pool_gateway], EPP_PORT), ([monitoring], EPP_METRICS_PORT)]),
            ("pool-gateway-ingress", {"gateway.networking.k8s.io/gateway-name": POOL_GATEWAY},
             [([pods(**{"app.kubernetes.io/name": "router"})], 80), ([monitoring], 15020)]),
        ]
        for policy, target, ingress in rules:
            np.NetworkPolicy(
                f"{name}-{policy}", metadata=k8s.meta.v1.ObjectMetaArgs(name=policy, namespace=ns),
                spec=np.NetworkPolicySpecArgs(
                    pod_selector=k8s.meta.v1.LabelSelectorArgs(match_labels=target or None),
                    policy_types=["Ingress"],
                    ingress=[np.NetworkPolicyIngressRuleArgs(
                        from_=sources, ports=[np.NetworkPolicyPortArgs(port=port, protocol="TCP")])
                        for sources, port in ingress] or None),
                opts=self._k8s)
        # no pod of the namespace reaches the node's metadata service (the picker's API server is outside the cluster)
        egress_guard(f"{name}-egress-guard", ns, self._k8s)
        if pd:  # decode's sidecar -> prefill's vLLM, NIXL's side channel and UCX between the pool's pods (any port)
            np.NetworkPolicy(
                f"{name}-vllm-peers", metadata=k8s.meta.v1.ObjectMetaArgs(name="vllm-peers", namespace=ns),
                spec=np.NetworkPolicySpecArgs(
                    pod_selector=k8s.meta.v1.LabelSelectorArgs(match_labels=vllm_pods), policy_types=["Ingress"],
                    ingress=[np.NetworkPolicyIngressRuleArgs(from_=[pods(**vllm_pods)])]),
                opts=self._k8s)

    def _monitors(self, name: str, served: str) -> None:
        # after the Prometheus Operator's CRDs (kube-prometheus-stack, through Observability's prometheus_url)
        # (or keda's, the same Prometheus: an autoscaled stack's triggers read it)
        keda = self._args.get("keda")
        prometheus = self._args.get("prometheus_url") or (field(keda, "prometheus_url") if keda else None)
        ns = pulumi.Output.all(self._ns, prometheus).apply(lambda v: v[0])
        k8s.apiextensions.CustomResource(
            f"{name}-vllm-monitor", api_version="monitoring.coreos.com/v1", kind="PodMonitor",
            metadata=k8s.meta.v1.ObjectMetaArgs(name="vllm", namespace=ns),
            spec={"selector": {"matchLabels": self._selector(served)},
                  "podMetricsEndpoints": [{"port": "http", "path": "/metrics", "interval": "15s"}]},
            opts=self._k8s)
        k8s.apiextensions.CustomResource(
            f"{name}-epp-monitor", api_version="monitoring.coreos.com/v1", kind="ServiceMonitor",
            metadata=k8s.meta.v1.ObjectMetaArgs(name="llmd-epp", namespace=ns),
            spec={"selector": {"matchLabels": {"app.kubernetes.io/name": f"{RELEASE}-epp"}},
                  "endpoints": [{"port": "http-metrics", "path": "/metrics", "interval": "15s"}]},
            opts=self._k8s)
