"""InferenceStack: Ollama (CPU first, GPU by one flag) on the shared model store, an nginx gate enforcing API keys
and per-client rate limits on the raw model API, Open-WebUI on PostgreSQL/pgvector with secrets from Key Vault, and
the HTTPRoutes that publish both through the platform's Gateways.

A thin composition of three parts any program can take alone: OllamaServer, ApiGate (in front of its endpoint) and
OpenWebUi (on its endpoint). Their resources keep the names and, through aliases, the identities they had when this
component created them directly, so an existing stack updates nothing.
"""
from typing import Any, Mapping, Optional, TypedDict

import pulumi
import pulumi_kubernetes as k8s
from typing_extensions import NotRequired

from . import PACKAGE
from .api_gate import ApiGate
from .checks import (DRAIN_FIELDS, ROUTER_RANGE_FIELDS, Rules, called_as_documented, check_shape, fail,
                     given as given_inputs, handle_after_check, late_rules)
from .resolved_provider import cluster_key, kubernetes_provider
from .defaults import defaults_for, or_default
from .handles import (ClusterHandle, GpuScheduling, KedaEndpoints, ModelEndpoint, ModelServer, ModelVolume, RouteTarget,
                      HANDED_TIMEOUTS, VaultHandle, field, handed_timeouts, known)
from .inference_specs import wait_budget_seconds
from .input_rules.inference import stack_rules
from .inference_parts import WEBUI_RENAMED as WEBUI_INPUTS
from .kube import egress_guard, require_kubernetes_provider
from .ollama_server import OllamaServer, ResourcesSpec, late_checks, with_timeouts
from .run_state import claim
from .shared_names import claim_gate_namespace, plain_field
from .open_webui import OpenWebUi

__all__ = ["InferenceStack", "InferenceStackArgs", "ResourcesSpec"]

opt = defaults_for("InferenceStack")  # optional inputs: the caller's value, else the default


class InferenceStackArgs(TypedDict):
    """Inputs of InferenceStack."""

    cluster: pulumi.Input[ClusterHandle]
    """The cluster (CPU pool, OIDC issuer for workload identity, pod range for trusted proxies)."""
    key_vault: pulumi.Input[VaultHandle]
    """Vault holding this stack's secrets (API key, Open-WebUI key) and the database URL."""
    model_volume: pulumi.Input[ModelVolume]
    """The shared model store (ModelStore's `volume`); the stack runs in its namespace."""
    database_url_secret: NotRequired[Optional[pulumi.Input[str]]]
    """Key Vault secret with Open-WebUI's PostgreSQL URL (PostgresServer's `database_url_secret`); Open-WebUI runs
    when it is given."""
    admin_database_url_secret: NotRequired[Optional[pulumi.Input[str]]]
    """Key Vault secret with the server administrator's URL (PostgresServer's `admin_database_url_secret`): Open-WebUI
    gets a role of its own, created by a bootstrap Job (OpenWebUi's input of that name) (default none)."""
    database_name: NotRequired[Optional[pulumi.Input[str]]]
    """The database database_url_secret names (PostgresServer's `database`): Open-WebUI's bootstrap and migration Jobs
    run again on a new one before its pods restart onto it (OpenWebUi's input of that name) (default none)."""
    database_sku_name: NotRequired[Optional[str]]
    """The PostgreSQL server's compute size (PostgresServer's `sku_name`): Open-WebUI's most connections must fit
    what it admits (OpenWebUi's input of that name) (default none: not checked)."""
    gpu: NotRequired[Optional[pulumi.Input[GpuScheduling]]]
    """GPU scheduling (GpuNodePool's `scheduling`); needed with accelerator gpu."""
    route_target: NotRequired[Optional[pulumi.Input[RouteTarget]]]
    """Gateways to publish the UI and the raw API on (GatewayAccess's `route_target`); none: in-cluster only."""
    keda: NotRequired[Optional[pulumi.Input[KedaEndpoints]]]
    """KEDA HTTP add-on (Observability's `keda`): every request to the model server goes through its interceptor,
    which counts requests in flight and holds them during a cold start; the gate alone calls it, Open-WebUI through
    the gate's UI listener."""
    name_prefix: NotRequired[Optional[str]]
    """Start of Azure names (identities id-<prefix>-<app>; default: the name)."""
    accelerator: NotRequired[Optional[str]]
    """cpu or gpu: where Ollama runs (default cpu)."""
    replicas: NotRequired[Optional[int]]
    """Ollama replicas (default 1)."""
    resources: NotRequired[Optional[ResourcesSpec]]
    """Ollama's requests and limits."""
    gpus_per_replica: NotRequired[Optional[int]]
    """GPUs each Ollama replica takes in GPU mode (default 1)."""
    num_parallel: NotRequired[Optional[int]]
    """Requests one Ollama replica serves at once (default 2)."""
    keep_alive: NotRequired[Optional[str]]
    """How long a model stays loaded after its last request (default 30m)."""
    max_loaded_models: NotRequired[Optional[int]]
    """Models loaded at once per replica (default 1)."""
    context_length: NotRequired[Optional[int]]
    """Tokens of context an Ollama request gets unless it, or its model's Modelfile, sets num_ctx
    (OLLAMA_CONTEXT_LENGTH; each model's trained length caps it). Default: Ollama's own by the GPU's memory:
    262144 tokens from 47 GiB, whose KV cache (times num_parallel) keeps two 8B models from sharing an 80 GB GPU,
    so Ollama unloads one for the other on every switch (docs/decisions.md, "2026-12-07: Ollama's default
    context"); 32768 from 23 GiB; 4096 on a CPU or a smaller GPU."""
    warm_model: NotRequired[Optional[str]]
    """A model in the store each Ollama replica loads before it is Ready (Ollama's preload in its startup probe), so
    a new replica takes its first request warm; not an embedding model. Default: none (loaded by the first
    request)."""
    webui_enabled: NotRequired[Optional[bool]]
    """Run Open-WebUI (default: when database_url_secret is given)."""
    webui_replicas: NotRequired[Optional[int]]
    """Open-WebUI minimum replicas (default 1)."""
    webui_max_replicas: NotRequired[Optional[int]]
    """Open-WebUI maximum replicas under its HPA (default 1: what the smallest server, Standard_B1ms, holds)."""
    webui_resources: NotRequired[Optional[ResourcesSpec]]
    """Open-WebUI's requests and limits."""
    webui_uploads_size_gib: NotRequired[Optional[int]]
    """Open-WebUI's shared uploads volume, GiB (default 100; at least 100 on premium)."""
    webui_uploads_tier: NotRequired[Optional[str]]
    """premium (Azure Files Premium, provisioned) or standard (Azure Files Standard, billed by use; a cheaper dev
    choice) for the uploads volume (default premium)."""
    rate_limit_per_second: NotRequired[Optional[int]]
    """Requests per second per client on the raw API before 429 (default 10)."""
    rate_limit_burst: NotRequired[Optional[int]]
    """Burst above the rate (default 20)."""
    api_key_auth: NotRequired[Optional[bool]]
    """Require a bearer API key on the raw API (default True)."""
    api_key_secret: NotRequired[Optional[str]]
    """Key Vault secret name of the API key (default <name>-api-key)."""
    api_client_namespaces: NotRequired[Optional[list[str]]]
    """Other namespaces whose pods may call the raw API's gate in-cluster, with the key (ApiGate's
    `client_namespaces`); the gate admits its own namespace and, with route_target, the Gateways' (default none)."""
    api_key_map_secret: NotRequired[Optional[str]]
    """Key Vault secret name of an nginx key map written by someone else (the global edge's key set, valid in every
    region): the gate reads it and generates no key of its own (default: its own key)."""
    api_key_replaceable: NotRequired[Optional[bool]]
    """Keep the gate's own generated key and its two Key Vault secrets out of the component's `protect`: a key that
    serves only until `api_key_map_secret` replaces it (a region waiting for its global edge, whose joining deletes
    it: the engine refuses a protected delete) (default False: the key takes `protect`). Only with `api_key_auth` true
    and no `api_key_map_secret` (refused otherwise: the gate generates no key of its own)."""
    webui_secret_key_secret: NotRequired[Optional[str]]
    """Key Vault secret name of Open-WebUI's session key (default <name>-webui-secret-key)."""
    webui_model_access: NotRequired[Optional[str]]
    """all (every signed-in user sees every model) or granted (Open-WebUI's per-model grants; a model with none is
    listed to admins only) (default all)."""
    webui_enable_signup: NotRequired[Optional[bool]]
    """Let anyone who reaches Open-WebUI create an account (default False: the admin adds users); written to
    Open-WebUI's database when it changes here, its admin panel decides in between."""
    webui_default_user_role: NotRequired[Optional[str]]
    """Role of a new Open-WebUI account: pending (an admin approves it) or user (default pending)."""
    webui_admin_email: NotRequired[Optional[str]]
    """Open-WebUI's first admin, created at start with a generated password in Key Vault
    (<name>-webui-admin-password) while the UI has no account (default none: the first to sign up is admin)."""
    webui_extra_env: NotRequired[Optional[dict[str, str]]]
    """More Open-WebUI settings, plain values only; what OpenWebUi sets, names that look like secrets and names
    Open-WebUI reads in place of one OpenWebUi sets (OpenWebUi's `extra_env`: OLLAMA_BASE_URLS, PORT, ...) are
    refused."""
    webui_secret_env: NotRequired[Optional[dict[str, str]]]
    """Open-WebUI settings whose values are Key Vault secrets: variable -> secret name in key_vault; the names
    refused in webui_extra_env as read in place of OpenWebUi's settings are refused here too."""
    webui_client_namespaces: NotRequired[Optional[list[str]]]
    """Namespaces whose pods may open Open-WebUI (OpenWebUi's `client_namespaces`); with route_target the
    Gateways' namespace may too (default none)."""
    request_timeout_seconds: NotRequired[Optional[int]]
    """Longest answer the gateway and router wait for (default: the keda handle's `request_timeout_seconds`, else
    600)."""
    cold_start_timeout_seconds: NotRequired[Optional[int]]
    """With keda: how long a request may wait at the interceptor for a replica to start from zero; the router and
    the gateway wait this long on top of request_timeout_seconds (default: the keda handle's
    `cold_start_timeout_seconds`, else 1200). With keda both together at most the sum of the handle's two, which is
    how long the interceptor lets a request in flight run when one of its pods stops."""
    autoscaled: NotRequired[Optional[bool]]
    """An autoscaler owns Ollama's replica count (default: when keda is given, whose interceptor routes only what
    a ModelAutoscaler in requests mode declares; false with keda is refused)."""
    tags: NotRequired[Optional[Mapping[str, pulumi.Input[str]]]]
    """Azure tags."""


def webui_enabled(args: InferenceStackArgs) -> bool:
    return or_default(args.get("webui_enabled"), bool(args.get("database_url_secret")))


def wait_seconds(args: InferenceStackArgs) -> int:
    """How long the gateway and the router wait for an answer (the cold start counts only behind KEDA)."""
    return wait_budget_seconds(opt(args, "request_timeout_seconds"),
                               opt(args, "cold_start_timeout_seconds") if args.get("keda") else 0)



def claim_namespace(name: str, args: InferenceStackArgs, opts: Optional[pulumi.ResourceOptions]) -> None:
    """One InferenceStack per namespace of a cluster: its objects have fixed names there (the ollama and router
    Deployments and Services, their policies), so a second one in the same namespace would claim the first one's
    objects. Refused by name when the namespace is known now and the cluster is the same Kubernetes provider of this
    deployment (resolved_provider.cluster_key); otherwise `llmplatform.testing` names the collision."""
    namespace = known(args.get("model_volume"), "namespace")
    provider = kubernetes_provider(opts)
    if not isinstance(namespace, str) or provider is None:
        return
    other = claim("inference_stack.namespaces", (*cluster_key(provider), namespace), name)
    if other is not None:
        fail("InferenceStack", name, "model_volume.namespace", namespace,
             f"a namespace no other InferenceStack on this cluster runs in: {other!r} runs in {namespace!r} (one "
             f"InferenceStack per namespace, its objects have fixed names there: give it the volume of a ModelStore "
             f"in a namespace of its own)")


def _took_rules(args: Any) -> Optional[Rules]:
    """InferenceStack's rules knowing which timeouts it takes from its keda handle, not given them
    (input_rules.inference.stack_rules; None: it takes none)."""
    own = given_inputs(args, InferenceStackArgs)
    handed = handed_timeouts(own, "keda")
    if not isinstance(own, dict) or not isinstance(handed, dict):
        return None
    return stack_rules(frozenset(k for k in HANDED_TIMEOUTS if own.get(k) is None and handed.get(k) is not None))


@called_as_documented
class InferenceStack(pulumi.ComponentResource):
    """Ollama (CPU first, GPU by one input) on the shared model store, an nginx gate enforcing API keys and
    per-client rate limits on the raw model API, Open-WebUI on PostgreSQL/pgvector with secrets from Key Vault, and
    the HTTPRoutes that publish both through the platform's Gateways: OllamaServer, ApiGate and OpenWebUi composed.
    The `protect` option protects the generated secrets (the API key, Open-WebUI's session key and first admin's
    password) with their Key Vault copies, through ApiGate and OpenWebUi; everything else stays replaceable."""

    model_server: ModelServer
    """The Ollama Deployment and Service, for ModelAutoscaler."""
    ollama_service: pulumi.Output[str]
    """In-cluster URL of the model server (OpenAI-compatible under /v1, Ollama native under /api). This and the
    other two URLs are `http://<service>.<namespace>.svc:<port>`: they resolve from a pod of any namespace under
    dnsPolicy ClusterFirst."""
    router_service: pulumi.Output[str]
    """In-cluster URL of the rate-limited, key-protected raw API."""
    endpoint: ModelEndpoint
    """The gate's endpoint (ApiGate's `endpoint`: key required), for an OpenWebUi of your own, e.g. in a namespace
    named in `api_client_namespaces`, the stack's own UI left out (no `database_url_secret`)."""
    webui_service: pulumi.Output[Optional[str]]
    """In-cluster URL of Open-WebUI (None when disabled)."""
    api_key_secret: pulumi.Output[Optional[str]]
    """Key Vault secret holding the raw API's bearer key (None when auth is off)."""

    def __init__(self, name: str, args: InferenceStackArgs, opts: Optional[pulumi.ResourceOptions] = None):
        # its timeouts not given: the KEDA interceptor's, which the keda handle carries (plain figures); a refusal
        # of one it took names the handle's field (its rules, early and late, know which: `rules`)
        checked = check_shape("InferenceStack", name, handed_timeouts(given_inputs(args, InferenceStackArgs), "keda"),
                              InferenceStackArgs, rules := _took_rules(args))
        caller_volume = args.get("model_volume")  # the caller's handle, not the checked copy (whose outputs are new ones)
        args = checked
        accelerator = opt(args, "accelerator")  # its rules: input_rules.inference_stack (and its parts')
        require_kubernetes_provider(opts, "InferenceStack", name)
        claim_namespace(name, args, opts)
        claim_gate_namespace("InferenceStack", name, "model_volume.namespace",
                             plain_field(caller_volume, "namespace"), opts,
                             "give it the volume of a ModelStore in a namespace of its own", self)
        super().__init__(f"{PACKAGE}:index:InferenceStack", name, None, opts)
        a = args
        # the gate and the UI take the component's protect for their generated secrets; nothing else takes it
        part = pulumi.ResourceOptions(parent=self)
        replaceable = pulumi.ResourceOptions(parent=self, protect=False)
        inputs: Mapping[str, Any] = a  # read by names the parts share
        if a.get("route_target") is not None:  # its Gateways and listeners, when they arrive as outputs, checked in
            listened = ("gateway_names", "api_listener", "ui_listener")  # our words before the parts' routes take them
            inputs = {**a, "route_target": handle_after_check(
                late_rules("InferenceStack", name, a, "route_target", listened, InferenceStackArgs, rules),
                a["route_target"], listened)}
        given = lambda *keys: {k: inputs[k] for k in keys if inputs.get(k) is not None}  # noqa: E731
        volume = a["model_volume"]
        ollama = OllamaServer(name, {
            "cluster": a["cluster"], "model_volume": volume, "accelerator": accelerator,
            **given("gpu", "keda", "replicas", "resources", "gpus_per_replica", "num_parallel", "keep_alive",
                    "max_loaded_models", "context_length", "warm_model", "autoscaled"),
            "request_timeout_seconds": opt(a, "request_timeout_seconds"),
        }, replaceable, moved_from=self,
            # handles that arrive as outputs are checked once they resolve, named as this component's inputs
            checked_by=late_checks("InferenceStack", name, a, InferenceStackArgs, rules))
        # behind the KEDA interceptor (which authenticates no one, and admits the gate alone) the UI reaches the model
        # server through the gate's keyless listener for its namespace's UI pods
        through_gate = bool(a.get("keda")) and webui_enabled(a)
        # renamed (api_client_namespaces -> client_namespaces), so untyped here: ApiGate checks it (check_shape)
        gate_renamed: Any = {"client_namespaces": a["api_client_namespaces"]} \
            if a.get("api_client_namespaces") else {}
        # the cluster's ranges, when they arrive as outputs, checked in our words before the gate's nginx takes them,
        # and its drain before the gate's and the UI's pods take their grace (their own checks then pass)
        cluster_fields = (*ROUTER_RANGE_FIELDS, *DRAIN_FIELDS)
        cluster_check = late_rules("InferenceStack", name, a, "cluster", cluster_fields, InferenceStackArgs, rules)
        gate_cluster = handle_after_check(cluster_check, a["cluster"], cluster_fields)
        gate = ApiGate(name, {
            "cluster": gate_cluster, "endpoint": ollama.endpoint, "key_vault": a["key_vault"],
            "ui_listener": through_gate,
            # the parts carry this component's name: an unset name_prefix falls back to it there too, under the
            # rule this component checked it by (a resource name may hold capitals, an explicit prefix may not)
            **given("name_prefix", "route_target", "api_key_secret", "api_key_map_secret", "api_key_replaceable",
                    "rate_limit_per_second",
                    "rate_limit_burst", "api_key_auth"),
            **gate_renamed,
            "request_timeout_seconds": wait_seconds(a), "tags": a.get("tags", {}),
        }, part, moved_from=self)
        # what the gate's clients wait, for a ModelAutoscaler's route: the answer, and with keda this cold start
        self.model_server = with_timeouts(ollama.model_server, opt(a, "request_timeout_seconds"),
                                          opt(a, "cold_start_timeout_seconds") if a.get("keda") else None)
        self.ollama_service = ollama.ollama_service
        self.router_service, self.api_key_secret = gate.router_service, gate.api_key_secret
        self.endpoint = gate.endpoint
        self.webui_service = pulumi.Output.from_input(None)
        database_url = a.get("database_url_secret")
        if webui_enabled(a) and database_url is not None:  # the rules refuse webui_enabled without it
            # renamed at run time, so untyped here: OpenWebUi checks them (check_shape)
            renamed: Any = {new: inputs[old] for old, new in WEBUI_INPUTS.items() if inputs.get(old) is not None}
            # the UI keeps the model list it fetched (inference_specs.BASE_MODELS_CACHE_SETTING): the store's models,
            # once its preload Job has pulled them (the claim's name waits for it), restart it when they change
            models = known(volume, "models")
            listed = pulumi.Output.from_input(field(volume, "claim_name")).apply(lambda _: " ".join(models)) \
                if isinstance(models, list) and models else None
            ui = OpenWebUi(name, {
                "cluster": handle_after_check(cluster_check, a["cluster"], DRAIN_FIELDS), "key_vault": a["key_vault"],
                "endpoint": gate.ui_endpoint or ollama.endpoint,
                "database_url_secret": database_url,
                **given("name_prefix", "route_target", "admin_database_url_secret", "database_name",
                        "database_sku_name"), **renamed,
                "request_timeout_seconds": wait_seconds(a), "tags": a.get("tags", {}),
            }, part, moved_from=self, listed_models=listed)
            self.webui_service = ui.webui_service
        k8s.networking.v1.NetworkPolicy(
            f"{name}-default-deny",
            metadata=k8s.meta.v1.ObjectMetaArgs(name="default-deny-ingress", namespace=field(volume, "namespace")),
            spec=k8s.networking.v1.NetworkPolicySpecArgs(pod_selector=k8s.meta.v1.LabelSelectorArgs(),
                                                         policy_types=["Ingress"]),
            opts=replaceable)
        # no pod of the namespace (Open-WebUI runs users' tools and functions) reaches the node's metadata service
        egress_guard(f"{name}-egress-guard", field(volume, "namespace"), replaceable)
        self.register_outputs({"model_server": self.model_server, "ollama_service": self.ollama_service,
                               "router_service": self.router_service, "endpoint": self.endpoint,
                               "webui_service": self.webui_service,
                               "api_key_secret": self.api_key_secret})

