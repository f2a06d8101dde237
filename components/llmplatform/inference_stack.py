"""InferenceStack: Ollama (CPU first, GPU by one flag) on the shared model store, an nginx router enforcing API keys
and per-client rate limits on the raw model API, Open-WebUI on PostgreSQL/pgvector with secrets from Key Vault, and
the HTTPRoutes that publish both through the platform's Gateways."""
from typing import Optional, TypedDict

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random
from typing_extensions import NotRequired

from .pins import OLLAMA_IMAGE, OPEN_WEBUI_IMAGE, VALKEY_IMAGE

from . import PACKAGE
from .defaults import defaults_for
from .api_router import RouterSpec, api_router
from .checks import check_shape, fail, in_range, one_of
from .choices import ACCELERATORS, MAX_PREMIUM_SHARE_GIB, MIN_PREMIUM_SHARE_GIB, UPLOADS_STORAGE_CLASSES
from .handles import (ClusterHandle, GpuScheduling, KedaEndpoints, ModelServer, ModelVolume, RouteTarget, VaultHandle,
                      field)
from .inference_specs import (MIGRATE_COMMAND, MIGRATIONS_SWITCH, OLLAMA_API_ROUTES, OLLAMA_PORT, ROUTER_PORT,
                              SCALED_SERVICE, SECRETS_MOUNT, SHUTDOWN_MARGIN_SECONDS, WEBUI_PORT, drain_script,
                              exec_with_secret_files, key_vault_objects, ollama_env, ollama_scheduling, resources,
                              scaled_hosts, wait_budget_seconds)
from .key_vault import grant_secrets_user, vault_secret
from .hardening import (container_security, pod_security, root_image, scanner_annotations, scratch_volume,
                        writable_root)
from .kube import (allow_ingress, cpu_utilization_metric, csi_secrets_mount, csi_secrets_volume, deployment,
                   disruption_budget, env_vars, http_probe, labels, require_kubernetes_provider, secret_provider_class,
                   cpu_placement, gpu_start_deadline, placement, placement_args, spread)
from .naming import content_suffix, secret_name
from .workload_identity import USE_LABEL, WorkloadIdentity

opt = defaults_for("InferenceStack")  # optional inputs: the caller's value, else the default

# Open-WebUI reads its database URL and session key only from its environment: exported at start from the files the
# CSI driver mounts (fixed names through objectAlias), never held in a Kubernetes Secret.
DATABASE_URL_FILE, SESSION_KEY_FILE = "database-url", "webui-secret-key"
WEBUI_DATA_DIR = "/app/backend/data"  # the image's DATA_DIR, where it also bakes its model caches
APP_DATA_COPY = "/tmp/app-data"  # where the init container sees the data volume
WEBUI_SECRET_FILES = {"DATABASE_URL": DATABASE_URL_FILE, "PGVECTOR_DB_URL": DATABASE_URL_FILE,
                      "WEBUI_SECRET_KEY": SESSION_KEY_FILE}


class ResourcesSpec(TypedDict):
    """Requests and limits of one container."""

    cpu_request: str
    """CPU request (Kubernetes quantity)."""
    memory_request: str
    """Memory request."""
    memory_limit: str
    """Memory limit."""
    cpu_limit: NotRequired[str]
    """CPU limit (none: may use idle CPU)."""


class InferenceStackArgs(TypedDict):
    """Inputs of InferenceStack."""

    cluster: pulumi.Input[ClusterHandle]
    """The cluster (CPU pool, OIDC issuer for workload identity, pod range for trusted proxies)."""
    key_vault: pulumi.Input[VaultHandle]
    """Vault holding this stack's secrets (API key, Open-WebUI key) and the database URL."""
    model_volume: pulumi.Input[ModelVolume]
    """The shared model store (ModelStore's `volume`); the stack runs in its namespace."""
    database_url_secret: NotRequired[pulumi.Input[str]]
    """Key Vault secret with Open-WebUI's PostgreSQL URL (PostgresServer's `database_url_secret`); Open-WebUI runs
    when it is given."""
    gpu: NotRequired[pulumi.Input[GpuScheduling]]
    """GPU scheduling (GpuNodePool's `scheduling`); needed with accelerator gpu."""
    route_target: NotRequired[pulumi.Input[RouteTarget]]
    """Gateways to publish the UI and the raw API on (GatewayAccess's `route_target`); none: in-cluster only."""
    keda: NotRequired[pulumi.Input[KedaEndpoints]]
    """KEDA HTTP add-on (Observability's `keda`): every request to the model server goes through its interceptor,
    which counts requests in flight and holds them during a cold start."""
    name_prefix: NotRequired[str]
    """Start of Azure names (identities id-<prefix>-<app>; default: the name)."""
    accelerator: NotRequired[str]
    """cpu or gpu: where Ollama runs (default cpu)."""
    replicas: NotRequired[int]
    """Ollama replicas (default 1)."""
    resources: NotRequired[ResourcesSpec]
    """Ollama's requests and limits."""
    gpus_per_replica: NotRequired[int]
    """GPUs each Ollama replica takes in GPU mode (default 1)."""
    num_parallel: NotRequired[int]
    """Requests one Ollama replica serves at once (default 2)."""
    keep_alive: NotRequired[str]
    """How long a model stays loaded after its last request (default 30m)."""
    max_loaded_models: NotRequired[int]
    """Models loaded at once per replica (default 1)."""
    webui_enabled: NotRequired[bool]
    """Run Open-WebUI (default: when database_url_secret is given)."""
    webui_replicas: NotRequired[int]
    """Open-WebUI minimum replicas (default 1)."""
    webui_max_replicas: NotRequired[int]
    """Open-WebUI maximum replicas under its HPA (default 3)."""
    webui_resources: NotRequired[ResourcesSpec]
    """Open-WebUI's requests and limits."""
    webui_uploads_size_gib: NotRequired[int]
    """Open-WebUI's shared uploads volume, GiB (default 100; at least 100 on premium)."""
    webui_uploads_tier: NotRequired[str]
    """premium (Azure Files Premium, provisioned) or standard (Azure Files Standard, billed by use; a cheaper dev
    choice) for the uploads volume (default premium)."""
    rate_limit_per_second: NotRequired[int]
    """Requests per second per client on the raw API before 429 (default 10)."""
    rate_limit_burst: NotRequired[int]
    """Burst above the rate (default 20)."""
    api_key_auth: NotRequired[bool]
    """Require a bearer API key on the raw API (default True)."""
    api_key_secret: NotRequired[str]
    """Key Vault secret name of the API key (default <name>-api-key)."""
    api_key_map_secret: NotRequired[str]
    """Key Vault secret name of an nginx key map written by someone else (the global edge's key set, valid in every
    region): the gate reads it and generates no key of its own (default: its own key)."""
    webui_secret_key_secret: NotRequired[str]
    """Key Vault secret name of Open-WebUI's session key (default <name>-webui-secret-key)."""
    request_timeout_seconds: NotRequired[int]
    """Longest answer the gateway and router wait for (default 600)."""
    cold_start_timeout_seconds: NotRequired[int]
    """With keda: how long a request may wait at the interceptor for a replica to start from zero; the router and
    the gateway wait this long on top of request_timeout_seconds (default 1200)."""
    autoscaled: NotRequired[bool]
    """An autoscaler owns Ollama's replica count (default False)."""
    tags: NotRequired[dict[str, str]]
    """Azure tags."""


def webui_enabled(args: InferenceStackArgs) -> bool:
    return args.get("webui_enabled", bool(args.get("database_url_secret")))


def check_args(name: str, args: InferenceStackArgs) -> str:
    """Inputs that contradict each other, refused by name; returns the accelerator."""
    component = "InferenceStack"
    accelerator = one_of(component, name, "accelerator", opt(args, "accelerator"), ACCELERATORS)
    if accelerator == "gpu" and not args.get("gpu"):
        fail(component, name, "gpu", None, "GpuNodePool's scheduling when accelerator is gpu")
    if webui_enabled(args) and not args.get("database_url_secret"):
        fail(component, name, "database_url_secret", None, "a Key Vault secret name when webui_enabled is true")
    in_range(component, name, "replicas", opt(args, "replicas"), 0, 100)
    tier = one_of(component, name, "webui_uploads_tier", opt(args, "webui_uploads_tier"), UPLOADS_STORAGE_CLASSES)
    in_range(component, name, "webui_uploads_size_gib", opt(args, "webui_uploads_size_gib"),
             MIN_PREMIUM_SHARE_GIB if tier == "premium" else 1, MAX_PREMIUM_SHARE_GIB)
    in_range(component, name, "rate_limit_per_second", opt(args, "rate_limit_per_second"), 1, 100000)
    in_range(component, name, "request_timeout_seconds", opt(args, "request_timeout_seconds"), 1, 86400)
    in_range(component, name, "cold_start_timeout_seconds", opt(args, "cold_start_timeout_seconds"), 1, 86400)
    return accelerator


def wait_seconds(args: InferenceStackArgs) -> int:
    """How long the gateway and the router wait for an answer (the cold start counts only behind KEDA)."""
    return wait_budget_seconds(opt(args, "request_timeout_seconds"),
                               opt(args, "cold_start_timeout_seconds") if args.get("keda") else 0)




class InferenceStack(pulumi.ComponentResource):
    """Ollama (CPU first, GPU by one input) on the shared model store, an nginx router enforcing API keys and
    per-client rate limits on the raw model API, Open-WebUI on PostgreSQL/pgvector with secrets from Key Vault, and
    the HTTPRoutes that publish both through the platform's Gateways."""

    model_server: ModelServer
    """The Ollama Deployment and Service, for ModelAutoscaler."""
    ollama_service: pulumi.Output[str]
    """In-cluster URL of the model server (OpenAI-compatible under /v1, Ollama native under /api)."""
    router_service: pulumi.Output[str]
    """In-cluster URL of the rate-limited, key-protected raw API."""
    webui_service: pulumi.Output[Optional[str]]
    """In-cluster URL of Open-WebUI (None when disabled)."""
    api_key_secret: pulumi.Output[Optional[str]]
    """Key Vault secret holding the raw API's bearer key (None when auth is off)."""

    def __init__(self, name: str, args: InferenceStackArgs, opts: Optional[pulumi.ResourceOptions] = None):
        check_shape("InferenceStack", name, args, InferenceStackArgs)
        accelerator = check_args(name, args)
        require_kubernetes_provider(opts, "InferenceStack", name)
        super().__init__(f"{PACKAGE}:index:InferenceStack", name, None, opts)
        self._args = args
        self._k8s = pulumi.ResourceOptions(parent=self)
        self._cluster = args["cluster"]
        self._vault = args["key_vault"]
        self._cpu = cpu_placement(self._cluster)
        volume = args["model_volume"]
        ns = field(volume, "namespace")
        self._ns = ns
        self._ollama(name, accelerator, volume)
        self._model_endpoint = self._scaled_access(name)
        self._router(name)
        self.webui_service = self._webui(name) if webui_enabled(args) \
            else pulumi.Output.from_input(None)
        self._routes(name)
        k8s.networking.v1.NetworkPolicy(
            f"{name}-default-deny",
            metadata=k8s.meta.v1.ObjectMetaArgs(name="default-deny-ingress", namespace=ns),
            spec=k8s.networking.v1.NetworkPolicySpecArgs(pod_selector=k8s.meta.v1.LabelSelectorArgs(),
                                                         policy_types=["Ingress"]),
            opts=self._k8s)
        self.register_outputs({"model_server": self.model_server, "ollama_service": self.ollama_service,
                               "router_service": self.router_service, "webui_service": self.webui_service,
                               "api_key_secret": self.api_key_secret})

    # ---- Ollama --------------------------------------------------------------------------------------------------
    def _ollama(self, name: str, accelerator: str, volume: pulumi.Input[ModelVolume]) -> None:
        a, ns = self._args, self._ns
        select = labels("model-server", "ollama")
        match = {"app.kubernetes.io/name": "ollama"}
        gpu = a.get("gpu")
        scheduling = ollama_scheduling(
            accelerator, self._cpu, placement(field(gpu, "node_selector"), field(gpu, "tolerations")) if gpu else None,
            opt(a, "gpus_per_replica"))
        mount_path = field(volume, "mount_path")
        res = opt(a, "resources")
        replicas = opt(a, "replicas")
        account = k8s.core.v1.ServiceAccount(
            f"{name}-ollama-sa", metadata=k8s.meta.v1.ObjectMetaArgs(name="ollama", namespace=ns),
            automount_service_account_token=False, opts=self._k8s)
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
                termination_grace_period_seconds=opt(a, "request_timeout_seconds") + SHUTDOWN_MARGIN_SECONDS,
                containers=[k8s.core.v1.ContainerArgs(
                    name="ollama",
                    lifecycle=k8s.core.v1.LifecycleArgs(pre_stop=k8s.core.v1.LifecycleHandlerArgs(
                        exec_=k8s.core.v1.ExecActionArgs(command=["/bin/sh", "-c", drain_script(
                            OLLAMA_PORT, opt(a, "request_timeout_seconds"))]))),
                    image=OLLAMA_IMAGE,
                    args=["serve"],
                    ports=[k8s.core.v1.ContainerPortArgs(name="http", container_port=OLLAMA_PORT)],
                    env=mount_path.apply(lambda path: env_vars(ollama_env(
                        path, opt(a, "num_parallel"), opt(a, "keep_alive"), opt(a, "max_loaded_models")))),
                    resources=k8s.core.v1.ResourceRequirementsArgs(**resources(
                        res["cpu_request"], res.get("cpu_limit"), res["memory_request"], res["memory_limit"],
                        scheduling["extra_limits"])),
                    # Loading a multi-GB model from the share can take minutes: up to 15 min to start.
                    startup_probe=http_probe("/", OLLAMA_PORT, period=10, failures=90),
                    readiness_probe=http_probe("/api/version", OLLAMA_PORT, period=10, failures=3),
                    liveness_probe=http_probe("/", OLLAMA_PORT, period=20, failures=6, timeout=10),
                    # writes only its key pair under HOME=/tmp
                    security_context=container_security(),
                    volume_mounts=[k8s.core.v1.VolumeMountArgs(name="models", read_only=True,
                                                               mount_path=mount_path),
                                   k8s.core.v1.VolumeMountArgs(name="tmp", mount_path="/tmp")],
                )],
                volumes=[k8s.core.v1.VolumeArgs(
                    name="models", persistent_volume_claim=k8s.core.v1.PersistentVolumeClaimVolumeSourceArgs(
                        claim_name=field(volume, "claim_name"), read_only=True)), scratch_volume()],
            ),
            pulumi.ResourceOptions(parent=self, ignore_changes=["spec.replicas"] if a.get("autoscaled") else None),
            annotations={**scanner_annotations([OLLAMA_IMAGE]), **gpu_start_deadline(accelerator == "gpu")})
        service = self._service(f"{name}-ollama-svc", "ollama", match, OLLAMA_PORT)
        self._upstream: pulumi.Resource = service  # what the router's nginx resolves at start
        disruption_budget(f"{name}-ollama-pdb", "ollama", ns, match, replicas, self._k8s)
        peers = [k8s.networking.v1.NetworkPolicyPeerArgs(pod_selector=k8s.meta.v1.LabelSelectorArgs(
            match_expressions=[k8s.meta.v1.LabelSelectorRequirementArgs(
                key="app.kubernetes.io/name", operator="In", values=["router", "open-webui"])])),
            # the namespace's own Jobs (Kubernetes labels every Job pod with its job name)
            k8s.networking.v1.NetworkPolicyPeerArgs(pod_selector=k8s.meta.v1.LabelSelectorArgs(
                match_expressions=[k8s.meta.v1.LabelSelectorRequirementArgs(
                    key="batch.kubernetes.io/job-name", operator="Exists")]))]
        if a.get("keda"):  # requests arrive through the KEDA HTTP interceptor
            peers.append(k8s.networking.v1.NetworkPolicyPeerArgs(namespace_selector=k8s.meta.v1.LabelSelectorArgs(
                match_labels={"kubernetes.io/metadata.name": field(a["keda"], "namespace")})))
        allow_ingress(f"{name}-ollama-netpol", "ollama-ingress", ns, match, OLLAMA_PORT, peers, self._k8s)
        self.ollama_service = pulumi.Output.concat("http://", service.metadata.name, ".",
                                                   pulumi.Output.from_input(ns), ".svc:", str(OLLAMA_PORT))
        ready = pulumi.Output.all(deployed.metadata.name, service.metadata.name)
        self.model_server = ModelServer(
            namespace=ns, deployment=ready.apply(lambda v: v[0]), service=ready.apply(lambda v: v[1]),
            port=OLLAMA_PORT, hosts=pulumi.Output.from_input(ns).apply(scaled_hosts), accelerator=accelerator)

    def _scaled_access(self, name: str) -> tuple[str, int, Optional[str]]:
        """(host, port, Host header) clients use to reach Ollama: directly, or through the KEDA interceptor."""
        keda = self._args.get("keda")
        if not keda:
            return "ollama", OLLAMA_PORT, None
        self._upstream = k8s.core.v1.Service(
            f"{name}-ollama-scaled",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=SCALED_SERVICE, namespace=self._ns),
            spec=k8s.core.v1.ServiceSpecArgs(type="ExternalName", external_name=field(keda, "interceptor_host")),
            opts=self._k8s)
        return SCALED_SERVICE, field(keda, "interceptor_port"), SCALED_SERVICE

    def _service(self, resource_name: str, name: str, match: dict[str, str], port: int) -> k8s.core.v1.Service:
        return k8s.core.v1.Service(
            resource_name,
            metadata=k8s.meta.v1.ObjectMetaArgs(name=name, namespace=self._ns),
            spec=k8s.core.v1.ServiceSpecArgs(type="ClusterIP", selector=match, ports=[
                k8s.core.v1.ServicePortArgs(name="http", port=port, target_port=port, protocol="TCP")]),
            opts=self._k8s)

    def _gateway_peers(self) -> list[k8s.networking.v1.NetworkPolicyPeerArgs]:
        target = self._args.get("route_target")
        if not target:
            return []
        gw_ns = field(target, "namespace")
        return [k8s.networking.v1.NetworkPolicyPeerArgs(namespace_selector=k8s.meta.v1.LabelSelectorArgs(
            match_labels={"kubernetes.io/metadata.name": gw_ns}))]

    def _identity(self, name: str, component: str) -> WorkloadIdentity:
        a = self._args
        identity = WorkloadIdentity(f"{name}-{component}-identity", {
            "cluster": self._cluster, "identity_name": f"id-{a.get('name_prefix', name)}-{component}",
            "namespace": self._ns, "service_account_name": component, "tags": a.get("tags", {}),
        }, pulumi.ResourceOptions(parent=self))
        grant_secrets_user(f"{name}-{component}-kv-reader", self._vault, identity.principal_id, identity)
        return identity

    # ---- Router (raw model API) ------------------------------------------------------------------------------------
    def _router(self, name: str) -> None:
        a = self._args
        host, port, host_header = self._model_endpoint
        self.router_service, self.api_key_secret = api_router(self, RouterSpec(
            name=name, namespace=self._ns, cluster=self._cluster, upstream_host=host, upstream_port=port,
            upstream_host_header=host_header, gateway_peers=self._gateway_peers(),
            api_key_auth=opt(a, "api_key_auth"), rate_limit_per_second=opt(a, "rate_limit_per_second"),
            rate_limit_burst=opt(a, "rate_limit_burst"), request_timeout_seconds=wait_seconds(a),
            vault=self._vault, api_key_secret=a.get("api_key_secret"),
            api_key_map_secret=a.get("api_key_map_secret"), identity_prefix=a.get("name_prefix", name),
            tags=a.get("tags", {}), allowed_routes=OLLAMA_API_ROUTES, after=[self._upstream]))

    # ---- Open-WebUI ------------------------------------------------------------------------------------------------
    def _webui(self, name: str) -> pulumi.Output[str]:
        a, ns = self._args, self._ns
        vault = self._vault
        select = labels("ui", "open-webui")
        match = {"app.kubernetes.io/name": "open-webui"}
        replicas = opt(a, "webui_replicas")
        res = opt(a, "webui_resources")
        secret_key = random.RandomPassword(f"{name}-webui-secret-key", length=64, special=False,
                                           opts=pulumi.ResourceOptions(parent=self))
        key_secret = a.get("webui_secret_key_secret") or secret_name(name, "webui-secret-key")
        vault_secret(f"{name}-webui-secret-key-secret", vault, key_secret, secret_key.result, "text/plain", self)
        identity = self._identity(name, "open-webui")
        database_url = pulumi.Output.from_input(a["database_url_secret"])
        secrets = secret_provider_class(
            f"{name}-webui-secrets", "open-webui-secrets", ns, field(vault, "vault_name"), field(vault, "tenant_id"),
            identity.client_id, database_url.apply(lambda url: key_vault_objects(
                [url, key_secret], {url: DATABASE_URL_FILE, key_secret: SESSION_KEY_FILE})), self._k8s)
        uploads = k8s.core.v1.PersistentVolumeClaim(
            f"{name}-webui-uploads",
            metadata=k8s.meta.v1.ObjectMetaArgs(name="open-webui-data", namespace=ns),
            spec=k8s.core.v1.PersistentVolumeClaimSpecArgs(
                access_modes=["ReadWriteMany"],
                storage_class_name=UPLOADS_STORAGE_CLASSES[opt(a, "webui_uploads_tier")],
                resources=k8s.core.v1.VolumeResourceRequirementsArgs(
                    requests={"storage": f"{opt(a, 'webui_uploads_size_gib')}Gi"})),
            opts=self._k8s)

        shared_state = self._webui_state(name) if opt(a, "webui_max_replicas") > 1 else {}
        migrated = self._webui_migration(name, identity, secrets)

        deployment(
            f"{name}-webui", "open-webui", ns, select, replicas,
            k8s.core.v1.PodSpecArgs(
                service_account_name=identity.service_account_name,
                automount_service_account_token=False,
                # Exception to non-root: the image writes under /app as root; every capability is dropped.
                security_context=pod_security(run_as_user=None),
                **placement_args(self._cpu),
                topology_spread_constraints=spread(match),
                # The image bakes its embedding, whisper and tokenizer caches into DATA_DIR, which the volume
                # hides: copy them in first, never over what is there (upstream chart's copy-app-data)
                init_containers=[k8s.core.v1.ContainerArgs(
                    name="copy-app-data", image=OPEN_WEBUI_IMAGE,
                    command=["sh", "-c", f"cp -R -n {WEBUI_DATA_DIR}/* {APP_DATA_COPY}/"],
                    resources=k8s.core.v1.ResourceRequirementsArgs(
                        requests={"cpu": "50m", "memory": "64Mi"}, limits={"cpu": "1", "memory": "256Mi"}),
                    security_context=container_security(run_as_user=None),
                    volume_mounts=[k8s.core.v1.VolumeMountArgs(name="data", mount_path=APP_DATA_COPY)])],
                containers=[k8s.core.v1.ContainerArgs(
                    name="open-webui", image=OPEN_WEBUI_IMAGE,
                    working_dir="/app/backend",  # the image's own WORKDIR and CMD (bash start.sh)
                    command=["/bin/sh", "-c", exec_with_secret_files(
                        {var: f"{SECRETS_MOUNT}/{file}" for var, file in WEBUI_SECRET_FILES.items()},
                        "bash start.sh")],
                    ports=[k8s.core.v1.ContainerPortArgs(name="http", container_port=WEBUI_PORT)],
                    env=[*env_vars({
                        "OLLAMA_BASE_URL": pulumi.Output.concat(
                            "http://", self._model_endpoint[0], ":", pulumi.Output.from_input(
                                self._model_endpoint[1]).apply(str)),
                        "VECTOR_DB": "pgvector",
                        "DATA_DIR": WEBUI_DATA_DIR,
                        "ENABLE_OLLAMA_API": "true",
                        MIGRATIONS_SWITCH: "false",  # the migration Job alone upgrades the schema
                        **shared_state,
                    })],
                    resources=k8s.core.v1.ResourceRequirementsArgs(**resources(
                        res["cpu_request"], res.get("cpu_limit"), res["memory_request"], res["memory_limit"])),
                    startup_probe=http_probe("/health", WEBUI_PORT, period=10, failures=30),
                    readiness_probe=http_probe("/health", WEBUI_PORT, period=10, failures=3),
                    liveness_probe=http_probe("/health", WEBUI_PORT, period=20, failures=3),
                    security_context=container_security(run_as_user=None, read_only_root=False),
                    volume_mounts=[
                        k8s.core.v1.VolumeMountArgs(name="data", mount_path=WEBUI_DATA_DIR),
                        csi_secrets_mount()],
                )],
                volumes=[k8s.core.v1.VolumeArgs(
                    name="data", persistent_volume_claim=k8s.core.v1.PersistentVolumeClaimVolumeSourceArgs(
                        claim_name=uploads.metadata.name)), csi_secrets_volume("open-webui-secrets")],
            ),
            # the HPA owns the replica count; pods start on the schema the migration Job left
            pulumi.ResourceOptions(parent=self, ignore_changes=["spec.replicas"], depends_on=[migrated]),
            pod_labels={USE_LABEL: "true"},
            annotations=scanner_annotations([OPEN_WEBUI_IMAGE], [
                *root_image("the upstream image is built for uid 0 (it owns /app and /root); a non-root run needs an "
                            "image rebuilt with its UID build argument"),
                *writable_root("start.sh and the server write under /app/backend (server.log, static assets, "
                               "caches)")]))
        service = self._service(f"{name}-webui-svc", "open-webui", match, WEBUI_PORT)
        disruption_budget(f"{name}-webui-pdb", "open-webui", ns, match, replicas, self._k8s)
        k8s.autoscaling.v2.HorizontalPodAutoscaler(
            f"{name}-webui-hpa",
            metadata=k8s.meta.v1.ObjectMetaArgs(name="open-webui", namespace=ns),
            spec=k8s.autoscaling.v2.HorizontalPodAutoscalerSpecArgs(
                scale_target_ref=k8s.autoscaling.v2.CrossVersionObjectReferenceArgs(
                    api_version="apps/v1", kind="Deployment", name="open-webui"),
                min_replicas=replicas, max_replicas=opt(a, "webui_max_replicas"),
                metrics=[cpu_utilization_metric(70)]),
            opts=self._k8s)
        allow_ingress(f"{name}-webui-netpol", "open-webui-ingress", ns, match, WEBUI_PORT, self._gateway_peers(),
                      self._k8s)
        return pulumi.Output.concat("http://", service.metadata.name, ":", str(WEBUI_PORT))

    def _webui_migration(self, name: str, identity: WorkloadIdentity,
                         secrets: k8s.apiextensions.CustomResource) -> k8s.batch.v1.Job:
        """Every Open-WebUI process upgrades the schema at start unless told not to, so replicas starting together
        race on one database. One Job per image version migrates; the Deployment waits for it and its replicas run
        with migrations off."""
        select = labels("ui-migration", "open-webui-migrate")
        return k8s.batch.v1.Job(
            f"{name}-webui-migrate",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=f"open-webui-migrate-{content_suffix(OPEN_WEBUI_IMAGE, MIGRATE_COMMAND)}", namespace=self._ns,
                labels=select, annotations=scanner_annotations([OPEN_WEBUI_IMAGE], root_image(
                    "the upstream image is built for uid 0 (it owns /app and /root)"))),
            spec=k8s.batch.v1.JobSpecArgs(
                backoff_limit=6,  # retries (10 s doubling to 5 min) while the new server's database is created
                active_deadline_seconds=1800,
                template=k8s.core.v1.PodTemplateSpecArgs(
                    metadata=k8s.meta.v1.ObjectMetaArgs(labels={**select, USE_LABEL: "true"}),
                    spec=k8s.core.v1.PodSpecArgs(
                        restart_policy="OnFailure",
                        service_account_name=identity.service_account_name,
                        automount_service_account_token=False,
                        security_context=pod_security(run_as_user=None),
                        **placement_args(self._cpu),
                        containers=[k8s.core.v1.ContainerArgs(
                            name="migrate", image=OPEN_WEBUI_IMAGE, working_dir="/app/backend",
                            command=["/bin/sh", "-c", exec_with_secret_files(
                                {var: f"{SECRETS_MOUNT}/{file}" for var, file in WEBUI_SECRET_FILES.items()},
                                MIGRATE_COMMAND)],
                            env=env_vars({MIGRATIONS_SWITCH: "true", "HOME": "/tmp"}),
                            resources=k8s.core.v1.ResourceRequirementsArgs(
                                requests={"cpu": "100m", "memory": "512Mi"}, limits={"cpu": "1", "memory": "1Gi"}),
                            security_context=container_security(run_as_user=None),
                            volume_mounts=[csi_secrets_mount(), k8s.core.v1.VolumeMountArgs(name="tmp",
                                                                                            mount_path="/tmp")])],
                        volumes=[csi_secrets_volume("open-webui-secrets"), scratch_volume()]))),
            opts=pulumi.ResourceOptions(parent=self, delete_before_replace=True, depends_on=[secrets],
                                        custom_timeouts=pulumi.CustomTimeouts(create="30m", update="30m")))

    def _webui_state(self, name: str) -> dict[str, str]:
        """Open-WebUI replicas share websocket sessions and app state through Redis; without it, a user's socket on
        one replica misses events from another. An in-memory Valkey reachable only from Open-WebUI pods."""
        ns = self._ns
        select = labels("ui-state", "webui-redis")
        match = {"app.kubernetes.io/name": "webui-redis"}
        deployment(
            f"{name}-webui-redis", "webui-redis", ns, select, 1,
            k8s.core.v1.PodSpecArgs(
                automount_service_account_token=False,
                security_context=pod_security(),
                **placement_args(self._cpu),
                containers=[k8s.core.v1.ContainerArgs(
                    name="valkey", image=VALKEY_IMAGE,
                    # nothing to persist (sessions are ephemeral); the NetworkPolicy is the access control
                    args=["valkey-server", "--save", "", "--appendonly", "no", "--protected-mode", "no"],
                    ports=[k8s.core.v1.ContainerPortArgs(name="redis", container_port=6379)],
                    resources=k8s.core.v1.ResourceRequirementsArgs(requests={"cpu": "50m", "memory": "64Mi"},
                                                                   limits={"cpu": "500m", "memory": "256Mi"}),
                    readiness_probe=k8s.core.v1.ProbeArgs(tcp_socket=k8s.core.v1.TCPSocketActionArgs(port=6379),
                                                          period_seconds=10),
                    liveness_probe=k8s.core.v1.ProbeArgs(tcp_socket=k8s.core.v1.TCPSocketActionArgs(port=6379),
                                                         period_seconds=20, failure_threshold=3),
                    # the image's entrypoint drops to its own user only when started as root; as any other uid
                    # it runs Valkey directly, writing only /data
                    security_context=container_security(),
                    volume_mounts=[k8s.core.v1.VolumeMountArgs(name="data", mount_path="/data")])],
                volumes=[scratch_volume("data")]),
            self._k8s, annotations=scanner_annotations([VALKEY_IMAGE]))
        k8s.core.v1.Service(
            f"{name}-webui-redis-svc", metadata=k8s.meta.v1.ObjectMetaArgs(name="webui-redis", namespace=ns),
            spec=k8s.core.v1.ServiceSpecArgs(type="ClusterIP", selector=match, ports=[
                k8s.core.v1.ServicePortArgs(name="redis", port=6379, target_port=6379, protocol="TCP")]),
            opts=self._k8s)
        disruption_budget(f"{name}-webui-redis-pdb", "webui-redis", ns, match, 1, self._k8s)
        allow_ingress(f"{name}-webui-redis-netpol", "webui-redis-ingress", ns, match, 6379,
                      [k8s.networking.v1.NetworkPolicyPeerArgs(pod_selector=k8s.meta.v1.LabelSelectorArgs(
                          match_labels={"app.kubernetes.io/name": "open-webui"}))], self._k8s)
        url = "redis://webui-redis:6379/0"
        return {"ENABLE_WEBSOCKET_SUPPORT": "true", "WEBSOCKET_MANAGER": "redis", "WEBSOCKET_REDIS_URL": url,
                "REDIS_URL": url}

    # ---- HTTPRoutes --------------------------------------------------------------------------------------------------
    def _routes(self, name: str) -> None:
        a = self._args
        target = a.get("route_target")
        if not target:
            return
        timeout = f"{wait_seconds(a)}s"
        targets = [("api", "api_listener", "router", ROUTER_PORT)]
        if webui_enabled(a):
            targets.append(("ui", "ui_listener", "open-webui", WEBUI_PORT))
        for route, listener_key, backend, port in targets:
            parents = pulumi.Output.all(field(target, "gateway_names"), field(target, "namespace"),
                                        field(target, listener_key)).apply(
                lambda v: [{"name": gw, "namespace": v[1], "sectionName": v[2]} for gw in v[0]])
            k8s.apiextensions.CustomResource(
                f"{name}-{route}-route", api_version="gateway.networking.k8s.io/v1", kind="HTTPRoute",
                metadata=k8s.meta.v1.ObjectMetaArgs(name=f"{route}-route", namespace=self._ns),
                spec={
                    "parentRefs": parents,
                    "rules": [{
                        "matches": [{"path": {"type": "PathPrefix", "value": "/"}}],
                        "backendRefs": [{"name": backend, "port": port}],
                        # streamed LLM answers run for minutes: never cut them at the gateway
                        "timeouts": {"request": timeout, "backendRequest": timeout},
                    }],
                },
                opts=self._k8s)
