"""OllamaServer: Ollama (CPU first, GPU by one input) serving the shared model store read-only, with its Service,
disruption budget and the NetworkPolicy naming who may call it. Hands out a `ModelEndpoint` (for an ApiGate or an
OpenWebUi) and a `ModelServer` (for ModelAutoscaler)."""
from typing import Any, Mapping, Optional, TypedDict

import pulumi
import pulumi_kubernetes as k8s
from typing_extensions import NotRequired

from . import PACKAGE
from .checks import (DRAIN_FIELDS, GPU_FIELDS, KEDA_FIELDS, NAMESPACE_FIELDS, VOLUME_FIELDS, after_check,
                     Rules, called_as_documented, check_shape, given, late_rules)
from .defaults import defaults_for
from .handles import (ClusterHandle, GpuScheduling, KedaEndpoints, ModelEndpoint, ModelServer, ModelVolume, field,
                      handed_timeouts, known, ordered_after, value_alone)
from .hardening import container_security, pod_security, scanner_annotations, scratch_volume
from .inference_specs import (OLLAMA_PORT, OLLAMA_SCRATCH_DIR, SCALED_SERVICE,
                              WARM_UP_TIMEOUT_SECONDS, drain_script, ollama_env, ollama_scheduling, resources,
                              scaled_host, scaled_hosts, stop_grace_seconds, warm_up_command)
from .kube import (pulled, allow_ingress, cpu_placement, deployment, disruption_budget, env_vars,
                   gpu_driver_start_seconds, gpu_start_deadline, http_probe, labels, namespace_peer, placement,
                   placement_args, require_kubernetes_provider, service_url, spread)
from .keda_http import interceptor_clients, interceptor_pod_labels
from .pins import OLLAMA_IMAGE
from .shared_names import handed_namespace

opt = defaults_for("OllamaServer")  # optional inputs: the caller's value, else the default

# who may call Ollama directly when it is not scaled on requests: its namespace's gate and UI. No Job of the
# platform calls it (the preload Job runs an `ollama serve` of its own on localhost, the UI's Jobs touch the database
# only); scaled on requests (`keda`), the KEDA interceptor alone, so that every request is counted and one to a
# server at zero replicas waits for it instead of failing (the gate and, through the gate's UI listener, the UI go
# through the interceptor)
CLIENT_APPS = ["router", "open-webui"]
# who may call the KEDA interceptor for this namespace: the gate alone, whose nginx sends this namespace's Host. The
# interceptor routes by Host header and authenticates no one, so a UI (which runs its admins' Python tools and
# functions) admitted there could name another namespace's host; it reaches the interceptor through the gate's UI
# listener (ApiGate `ui_listener`)
INTERCEPTOR_CLIENT_APPS = ["router"]


class ResourcesSpec(TypedDict):
    """Requests and limits of one container."""

    cpu_request: str
    """CPU request (Kubernetes quantity)."""
    memory_request: str
    """Memory request."""
    memory_limit: str
    """Memory limit."""
    cpu_limit: NotRequired[Optional[str]]
    """CPU limit (none: may use idle CPU)."""


class OllamaServerArgs(TypedDict):
    """Inputs of OllamaServer."""

    cluster: pulumi.Input[ClusterHandle]
    """The cluster (CPU pool placement)."""
    model_volume: pulumi.Input[ModelVolume]
    """The shared model store (ModelStore's `volume`); the server runs in its namespace."""
    gpu: NotRequired[Optional[pulumi.Input[GpuScheduling]]]
    """GPU scheduling (GpuNodePool's `scheduling`); needed with accelerator gpu."""
    keda: NotRequired[Optional[pulumi.Input[KedaEndpoints]]]
    """KEDA HTTP add-on (Observability's `keda`): the endpoint handed out goes through its interceptor, which counts
    requests in flight and holds them during a cold start."""
    accelerator: NotRequired[Optional[str]]
    """cpu or gpu: where Ollama runs (default cpu)."""
    replicas: NotRequired[Optional[int]]
    """Replicas (default 1)."""
    resources: NotRequired[Optional[ResourcesSpec]]
    """Requests and limits."""
    gpus_per_replica: NotRequired[Optional[int]]
    """GPUs each replica takes in GPU mode (default 1)."""
    num_parallel: NotRequired[Optional[int]]
    """Requests one replica serves at once (default 2)."""
    keep_alive: NotRequired[Optional[str]]
    """How long a model stays loaded after its last request (default 30m)."""
    max_loaded_models: NotRequired[Optional[int]]
    """Models loaded at once per replica (default 1)."""
    context_length: NotRequired[Optional[int]]
    """Tokens of context a request gets unless it, or its model's Modelfile, sets num_ctx (OLLAMA_CONTEXT_LENGTH;
    each model's trained length caps it). Default: Ollama's own by the GPU's memory:
    262144 tokens from 47 GiB, whose KV cache (times num_parallel) keeps two 8B models from sharing an 80 GB GPU,
    so Ollama unloads one for the other on every switch (docs/decisions.md, "2026-12-07: Ollama's default
    context"); 32768 from 23 GiB; 4096 on a CPU or a smaller GPU."""
    warm_model: NotRequired[Optional[str]]
    """A model in the store each replica loads before it is Ready (its startup probe runs Ollama's preload,
    `ollama run <model> ""`), so a new replica takes its first request warm. Not an embedding model (Ollama's CLI
    needs text for those); a model missing from the store keeps the replica from becoming Ready. Default: none (the
    first request loads its model)."""
    request_timeout_seconds: NotRequired[Optional[int]]
    """Longest answer: a stopping replica lets the answers in flight finish this long (default: the keda handle's
    `request_timeout_seconds`, else 600)."""
    autoscaled: NotRequired[Optional[bool]]
    """An autoscaler owns the replica count (default: when keda is given, whose interceptor routes only what a
    ModelAutoscaler in requests mode declares; false with keda is refused)."""
    extra_env: NotRequired[Optional[dict[str, str]]]
    """More OLLAMA_* settings (Ollama takes its settings only from the environment: `ollama serve` has no flags),
    e.g. OLLAMA_FLASH_ATTENTION, OLLAMA_KV_CACHE_TYPE; the ones the component sets are refused (OLLAMA_CONTEXT_LENGTH
    too when context_length is given), and so are names
    that look like a secret (OLLAMA_API_KEY, a proxy URL with a password: plain text in the Deployment)."""


def autoscaled(args: Mapping[str, Any]) -> bool:
    """An autoscaler owns the replica count: as given, else when requests go through the KEDA interceptor (only a
    ModelAutoscaler in requests mode gives the interceptor a route to the server, and it owns the count)."""
    given = args.get("autoscaled")
    return bool(given) if given is not None else bool(args.get("keda"))


def with_timeouts(server: ModelServer, answer: int, cold_start: Any) -> ModelServer:
    """A copy of a ModelServer handle with what its clients wait, which a ModelAutoscaler's route must not cut: the
    answer's timeout, and the cold start's when it is a plain whole number (else none: not checked)."""
    timed = ModelServer(**server)
    timed["request_timeout_seconds"] = answer
    timed.pop("cold_start_timeout_seconds", None)
    if isinstance(cold_start, int) and not isinstance(cold_start, bool):
        timed["cold_start_timeout_seconds"] = cold_start
    return timed


def _moved(moved_from: Optional[pulumi.Resource]) -> Optional[list[pulumi.Alias]]:
    """Aliases of a part's children that were once direct children of `moved_from` (InferenceStack before it was
    split): the same name and type under the old parent, so `pulumi up` finds them and changes nothing."""
    return [pulumi.Alias(parent=moved_from)] if moved_from is not None else None


# The handles whose fields the server's rules read, checked again once they resolve when they arrive as outputs (each
# check by its name: the volume's namespace has one of its own, which what runs there waits for alone; so do its
# claim, which waits for the store's preload Job, and its mount path, which the pod template takes: a check of both
# would hold the template's mount path until the Job is done)
LATE_HANDLES = (("gpu", "gpu", GPU_FIELDS), ("keda", "keda", KEDA_FIELDS),
                ("model_volume", "model_volume", VOLUME_FIELDS), ("namespace", "model_volume", NAMESPACE_FIELDS),
                ("claim_name", "model_volume", ("claim_name",)), ("mount_path", "model_volume", ("mount_path",)),
                ("drain", "cluster", DRAIN_FIELDS))


def late_checks(component: str, name: str, args: Any, args_type: type,
                rules: Optional[Rules] = None) -> dict[str, Optional[pulumi.Output[Any]]]:
    """`component`'s rules (or `rules`) run again as each handle of LATE_HANDLES resolves (checks.late_rules): the
    server's own, or a composite's (InferenceStack's, in the words of its own inputs), which hands them to the
    server."""
    return {check: late_rules(component, name, args, key, fields, args_type, rules)
            for check, key, fields in LATE_HANDLES}


@called_as_documented
class OllamaServer(pulumi.ComponentResource):
    """Ollama (CPU first, GPU by one input) on the shared model store: Deployment, Service, disruption budget and
    NetworkPolicy. Its `endpoint` goes through the KEDA HTTP interceptor when `keda` is given."""

    model_server: ModelServer
    """The Deployment and Service, for ModelAutoscaler."""
    endpoint: ModelEndpoint
    """Where clients in the namespace call it (through the KEDA interceptor when scaled on requests)."""
    ollama_service: pulumi.Output[str]
    """In-cluster URL of the server itself, `http://<service>.<namespace>.svc:<port>` (OpenAI-compatible under /v1,
    Ollama native under /api)."""

    def __init__(self, name: str, args: OllamaServerArgs, opts: Optional[pulumi.ResourceOptions] = None, *,
                 moved_from: Optional[pulumi.Resource] = None,
                 checked_by: Optional[dict[str, Optional[pulumi.Output[Any]]]] = None):
        # its answer's timeout not given: the KEDA interceptor's, which the keda handle carries (a plain figure)
        args = check_shape("OllamaServer", name, handed_timeouts(given(args, OllamaServerArgs), "keda",
                                                                 ("request_timeout_seconds",)), OllamaServerArgs)
        checks = checked_by if checked_by is not None else late_checks("OllamaServer", name, args, OllamaServerArgs)
        accelerator = opt(args, "accelerator")  # its rules: input_rules.ollama_server
        require_kubernetes_provider(opts, "OllamaServer", name)
        super().__init__(f"{PACKAGE}:index:OllamaServer", name, None, opts)
        a = args
        aliases = _moved(moved_from)
        child = pulumi.ResourceOptions(parent=self, aliases=aliases)
        volume = a["model_volume"]
        # a namespace that arrives as an output is checked once it resolves, in the words of the caller's input,
        # before anything (the gate's and UI's workload identities too) runs there
        ns = after_check(checks["namespace"], field(volume, "namespace"))
        handed_namespace(ns, known(volume, "namespace"))  # its endpoint's, for an ApiGate given it
        select = labels("model-server", "ollama")
        match = {"app.kubernetes.io/name": "ollama"}
        gpu = a.get("gpu")
        scheduling = ollama_scheduling(
            accelerator, cpu_placement(a["cluster"]),
            placement(after_check(checks["gpu"], field(gpu, "node_selector")), field(gpu, "tolerations"))
            if gpu else None,
            opt(a, "gpus_per_replica"))
        # given as outputs, each checked once it resolves, in the words of the caller's input, before the pod takes it
        mount_path = after_check(checks["mount_path"], field(volume, "mount_path"))
        claim = after_check(checks["claim_name"], field(volume, "claim_name"))
        res = opt(a, "resources")
        replicas = opt(a, "replicas")
        timeout = opt(a, "request_timeout_seconds")
        extra_env = opt(a, "extra_env")
        account = k8s.core.v1.ServiceAccount(
            f"{name}-ollama-sa", metadata=k8s.meta.v1.ObjectMetaArgs(name="ollama", namespace=ns),
            automount_service_account_token=False, opts=child)
        # on GPU Operator pools the Operator installs the driver on each new node: a longer await deadline
        deadline: Mapping[str, pulumi.Input[str]] = {"pulumi.com/timeoutSeconds": field(gpu, "driver", None).apply(
            lambda driver: str(gpu_driver_start_seconds(driver)))} if gpu and accelerator == "gpu" \
            else gpu_start_deadline(accelerator == "gpu")
        deployed = deployment(
            f"{name}-ollama", "ollama", ns, select, replicas,
            k8s.core.v1.PodSpecArgs(
                service_account_name=account.metadata.name,
                automount_service_account_token=False,
                # Non-root: the server only reads the shared store (the preload Job writes it).
                security_context=pod_security(),
                **placement_args(scheduling["placement"]),
                topology_spread_constraints=spread(match),
                # Ollama drops every connection at SIGTERM: the preStop hook first lets the answers in flight
                # finish (at most the longest answer), and the grace period covers the hook and the shutdown
                termination_grace_period_seconds=after_check(checks["drain"], stop_grace_seconds(timeout)),
                containers=[k8s.core.v1.ContainerArgs(
                    name="ollama",
                    lifecycle=k8s.core.v1.LifecycleArgs(pre_stop=k8s.core.v1.LifecycleHandlerArgs(
                        exec_=k8s.core.v1.ExecActionArgs(command=["/bin/sh", "-c", drain_script(
                            OLLAMA_PORT, timeout)]))),
                    image=pulled(a["cluster"], OLLAMA_IMAGE),
                    args=["serve"],
                    ports=[k8s.core.v1.ContainerPortArgs(name="http", container_port=OLLAMA_PORT)],
                    env=mount_path.apply(lambda path: env_vars({**ollama_env(
                        path, opt(a, "num_parallel"), opt(a, "keep_alive"), opt(a, "max_loaded_models"),
                        a.get("context_length")),
                        **extra_env})),
                    resources=k8s.core.v1.ResourceRequirementsArgs(**resources(
                        res["cpu_request"], res.get("cpu_limit"), res["memory_request"], res["memory_limit"],
                        scheduling["extra_limits"])),
                    startup_probe=self._startup_probe(a.get("warm_model"), a["model_volume"],
                                                      checks["model_volume"]),
                    readiness_probe=http_probe("/api/version", OLLAMA_PORT, period=10, failures=3),
                    liveness_probe=http_probe("/", OLLAMA_PORT, period=20, failures=6, timeout=10),
                    # writes only its key pair under HOME=/tmp
                    security_context=container_security(),
                    volume_mounts=[k8s.core.v1.VolumeMountArgs(name="models", read_only=True,
                                                               mount_path=mount_path),
                                   k8s.core.v1.VolumeMountArgs(name="tmp", mount_path=OLLAMA_SCRATCH_DIR)],
                )],
                volumes=[k8s.core.v1.VolumeArgs(
                    name="models", persistent_volume_claim=k8s.core.v1.PersistentVolumeClaimVolumeSourceArgs(
                        claim_name=value_alone(claim), read_only=True)), scratch_volume()],
            ),
            # the claim's name waits for the store's preload Job (ModelStore): in the order, not in the pod spec, or
            # a new Job (a model added: a new name, deleted first) replaced this Deployment with it, deleted first
            # too (the engine's chain makes a `spec` carrying it unknown, and pulumi-kubernetes replaces on the
            # `.spec.selector` that nulls: docs/decisions.md "2026-12-05 (evening): the unknown is no null")
            ordered_after(pulumi.ResourceOptions(parent=self, aliases=aliases,
                                                 ignore_changes=["spec.replicas"] if autoscaled(a) else None),
                          claim, scheduling["placement"]),
            annotations={**scanner_annotations([OLLAMA_IMAGE]), **deadline})
        service = k8s.core.v1.Service(
            f"{name}-ollama-svc",
            metadata=k8s.meta.v1.ObjectMetaArgs(name="ollama", namespace=ns),
            spec=k8s.core.v1.ServiceSpecArgs(type="ClusterIP", selector=match, ports=[
                k8s.core.v1.ServicePortArgs(name="http", port=OLLAMA_PORT, target_port=OLLAMA_PORT,
                                            protocol="TCP")]),
            opts=child)
        disruption_budget(f"{name}-ollama-pdb", "ollama", ns, match, child)
        keda = a.get("keda")
        if keda:  # requests arrive through the KEDA HTTP interceptor alone, which admits this namespace's gate only
            peers = [namespace_peer(field(keda, "namespace"),
                                    k8s.meta.v1.LabelSelectorArgs(match_labels=interceptor_pod_labels(keda)))]
            interceptor_clients(f"{name}-interceptor-clients", keda, ns, INTERCEPTOR_CLIENT_APPS, child)
        else:
            peers = [k8s.networking.v1.NetworkPolicyPeerArgs(pod_selector=k8s.meta.v1.LabelSelectorArgs(
                match_expressions=[k8s.meta.v1.LabelSelectorRequirementArgs(
                    key="app.kubernetes.io/name", operator="In", values=CLIENT_APPS)]))]
        allow_ingress(f"{name}-ollama-netpol", "ollama-ingress", ns, match, OLLAMA_PORT, peers, child)
        self.ollama_service = service_url(service.metadata.name, ns, OLLAMA_PORT)
        ready = pulumi.Output.all(deployed.metadata.name, service.metadata.name)
        self.model_server = with_timeouts(ModelServer(
            namespace=ns, deployment=ready.apply(lambda v: v[0]), service=ready.apply(lambda v: v[1]),
            port=OLLAMA_PORT, accelerator=accelerator, autoscaled=autoscaled(a),
            # the Host headers the interceptor routes on: none when requests do not pass it (no keda)
            hosts=pulumi.Output.from_input(ns).apply(scaled_hosts) if keda else []),
            # its answer, and behind the interceptor the interceptor's cold start (the keda handle's plain figure)
            timeout, known(keda, "cold_start_timeout_seconds") if keda else None)
        self.endpoint = self._endpoint(name, ns, service, keda, checks["keda"], child)
        self.register_outputs({"model_server": self.model_server, "endpoint": self.endpoint,
                               "ollama_service": self.ollama_service})

    @staticmethod
    def _startup_probe(warm_model: Optional[str], volume: pulumi.Input[ModelVolume],
                       check: Optional[pulumi.Output[Any]]) -> k8s.core.v1.ProbeArgs:
        """90 failures 10 s apart: HTTP, up to 15 min to start. With a warm-up each attempt may run up to
        WARM_UP_TIMEOUT_SECONDS (the kubelet starts the next only when one ends): Ollama answers at once, but a
        warm-up reads a multi-GB model from the share into memory first (readiness and liveness wait for this probe),
        and that warm-up must fit one attempt: the kubelet kills an attempt at its timeout and Ollama then aborts the
        load, so the next starts over (the plan's `[warm-up]` check). The model is checked against the store's once
        its list is known (`check`: a volume handle from another language; input_rules checks a Python caller's)."""
        if not warm_model:
            return http_probe("/", OLLAMA_PORT, period=10, failures=90)
        command = after_check(check, field(volume, "models", None)).apply(lambda _: warm_up_command(warm_model))
        return k8s.core.v1.ProbeArgs(exec_=k8s.core.v1.ExecActionArgs(command=command),
                                     period_seconds=10, failure_threshold=90, timeout_seconds=WARM_UP_TIMEOUT_SECONDS)

    @staticmethod
    def _endpoint(name: str, ns: pulumi.Input[str], service: k8s.core.v1.Service,
                  keda: Optional[pulumi.Input[KedaEndpoints]], check: Optional[pulumi.Output[Any]],
                  child: pulumi.ResourceOptions) -> ModelEndpoint:
        """Ollama directly, or through the KEDA interceptor (an ExternalName Service the interceptor routes on by
        Host header)."""
        port: pulumi.Input[int]
        host: pulumi.Input[str]
        header: pulumi.Input[str]
        if not keda:
            host, port, header, waits = "ollama", OLLAMA_PORT, "", service
        else:
            waits = k8s.core.v1.Service(
                f"{name}-ollama-scaled",
                metadata=k8s.meta.v1.ObjectMetaArgs(name=SCALED_SERVICE, namespace=ns),
                spec=k8s.core.v1.ServiceSpecArgs(
                    type="ExternalName",
                    # an empty host (an Observability with keda off) is refused by `check` once known
                    external_name=after_check(check, field(keda, "interceptor_host"))),
                opts=child)
            # the endpoint carries the check: a gate behind it is not refused for this input
            host = header = pulumi.Output.from_input(ns).apply(scaled_host)
            port = after_check(check, field(keda, "interceptor_port"))
        return ModelEndpoint(
            base_url=pulumi.Output.concat("http://", host, ":", pulumi.Output.from_input(port).apply(str)),
            api="ollama", namespace=ns, service=waits.metadata.name, port=port, host_header=header)
