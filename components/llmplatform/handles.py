"""Typed handles the components hand each other: one output of one component, one input of the next.

A handle is a TypedDict of `pulumi.Input` values, so it is serialisable (other languages pass it too) and each
field keeps its own dependencies: a consumer of `cluster["oidc_issuer_url"]` waits for the cluster. No handle holds a
secret: across the engine's wire one secret field makes the whole value secret (the Python SDK's
`rpc.deserialize_property` pushes secretness up to the enclosing object), so every field a component reads from it,
Azure names included, would turn secret. In Python a handle is a dict of outputs; through the component provider it
arrives as one output of a dict. `field` reads either.

A handle another language's program exported, or a YAML stack's read through a `pulumi.StackReference`, is in the
component provider's output shape: the schema's camelCase names (`clusterName`) and FIELD_DEPENDENCIES. A Python
component takes it as it is (`checks.handle_types.python_named`: each schema name read as its Python name).
"""
from typing import Any, Awaitable, Callable, Generator, TypedDict, cast

import pulumi
from typing_extensions import NotRequired

from .rules import known  # noqa: F401 (components read handle fields through it)


class Toleration(TypedDict):
    """A Kubernetes toleration (core/v1 Toleration, the fields the platform uses)."""

    key: str
    """Taint key."""
    operator: str
    """Exists or Equal."""
    effect: str
    """NoSchedule, PreferNoSchedule or NoExecute."""
    value: NotRequired[str]
    """Taint value (with operator Equal)."""


class ClusterHandle(TypedDict):
    """What components built on an AKS cluster need to know about it. Handed out by AksCluster as `cluster`; for a
    cluster made otherwise (Terraform, your own code), built by hand: docs/components/own-cluster.md."""

    resource_group_name: pulumi.Input[str]
    """Resource group of the cluster, its network and the Azure resources built beside it."""
    location: pulumi.Input[str]
    """Azure region of the cluster."""
    cluster_name: pulumi.Input[str]
    """AKS cluster name."""
    pool_writes_after: NotRequired[pulumi.Input[str]]
    """Resource id of the cluster's last agent-pool write (AksCluster's CPU workload pool): GpuNodePool writes its
    pools after it (AKS takes one pool operation at a time) through `depends_on`, never through an input, so replacing
    that pool does not replace theirs (the engine replaces, with a resource it deletes first, every dependent whose
    force-new input takes a value carrying it; through the component provider too: the handle's fieldDependencies
    give each field its own). Leave it out for a cluster whose pools are all written."""
    cluster_id: pulumi.Input[str]
    """AKS cluster resource id."""
    network_writes_after: NotRequired[pulumi.Input[str]]
    """Resource id of the last write to the cluster's network by whoever built it (AksCluster: its last subnet, the
    PostgreSQL one): what a component writes to the network or links to it (KeyVault's private endpoint, DNS link and
    network rule, ModelStore's network rule, PostgresServer's DNS link, GpuNodePool's pools) comes after it through
    `depends_on`, never through an input (private endpoints and AKS refuse a network or subnet in Updating state), so
    replacing that subnet replaces none of them: vnet_id, node_subnet_id and endpoints_subnet_id depend on their own
    resource alone (through the component provider too: the handle's fieldDependencies give each field its own;
    a handle built there by hand without them gives every field all of its dependencies). Leave it out for a
    network whose writes are all done."""
    vnet_id: pulumi.Input[str]
    """VNet of the nodes."""
    vnet_cidr: NotRequired[pulumi.Input[str]]
    """IPv4 address space of that VNet. Behind Front Door, an API gate keys a caller from it (or from node_subnet_cidr
    or pod_cidr) on the caller's own address, as it does callers from private ranges: give it when the VNet uses
    public address space."""
    vnet_name: NotRequired[pulumi.Input[str]]
    """Name of that VNet (in resource_group_name), for a subnet of your own in it. AKS refuses another write to the
    network while it creates the cluster or a pool: a subnet of yours needs a depends_on on the AksCluster, every
    GpuNodePool of the cluster and every component that puts a private endpoint in the network (KeyVault);
    llmplatform.testing names each one missing. The name carries no such write (it depends on the VNet alone), so
    replacing a pool (a new VM size) does not replace your subnet with it."""
    node_subnet_id: pulumi.Input[str]
    """Subnet of every node pool."""
    node_subnet_cidr: NotRequired[pulumi.Input[str]]
    """IPv4 address range of that subnet, where an internal load balancer takes its address (GatewayAccess checks a
    fixed internal_ip against it)."""
    endpoints_subnet_id: pulumi.Input[str]
    """Subnet for private endpoints (Key Vault, storage)."""
    postgres_subnet_id: pulumi.Input[str]
    """Subnet delegated to PostgreSQL Flexible Server."""
    oidc_issuer_url: pulumi.Input[str]
    """OIDC issuer for workload-identity federated credentials."""
    kubernetes_version: pulumi.Input[str]
    """Kubernetes version the stack asks for (empty: AKS's default)."""
    upgrade_channel: NotRequired[str]
    """AKS's auto-upgrade channel: with `none` pools added to the cluster follow kubernetes_version, otherwise AKS
    upgrades them (default: an auto channel)."""
    network_policy: NotRequired[str]
    """The cluster's network policy engine: cilium, calico or azure (AksCluster's network_policy; none is refused: the
    components' NetworkPolicies would not be enforced). With cilium,
    Observability keeps its Prometheus servers off the node's metadata service by a CiliumNetworkPolicy, the one kind
    of policy that can still let them reach the nodes (absent or not known when Observability is built: no such
    policy, the servers' egress stays open)."""
    zones: pulumi.Input[list[str]]
    """Availability zones of the cluster's pools (empty: no zones)."""
    cpu_node_selector: pulumi.Input[dict[str, str]]
    """Node selector that places a pod on the CPU workload pool."""
    cpu_tolerations: NotRequired[pulumi.Input[list[Toleration]]]
    """Tolerations a pod needs on the CPU workload pool: the spot taint's when the pool is spot (default none)."""
    pod_cidr: pulumi.Input[str]
    """Overlay pod range, IPv4 (trusted proxy addresses for in-cluster hops)."""
    autoscaler_expander: pulumi.Input[str]
    """Cluster-autoscaler expander in force (a GPU pool with an on-demand fallback needs 'priority')."""
    drain_timeout_minutes: NotRequired[pulumi.Input[int]]
    """Minutes AKS waits for a node's pods to stop when it drains it (AksCluster's drain_timeout_minutes): GpuNodePool
    gives its regular pools this drainTimeoutInMinutes; a pod whose terminationGracePeriodSeconds is longer fails
    an upgrade of its node, and the workloads given this handle refuse such a grace (one known only at deploy time,
    another stack's, once it resolves). Absent: AKS's default, 30, GpuNodePool sends none and the workloads check
    nothing (the pools' owner knows their timeout)."""
    encryption_at_host: pulumi.Input[bool]
    """Node disks are encrypted at the host; pools added to the cluster follow it."""
    ephemeral_os_disk: NotRequired[pulumi.Input[bool]]
    """Pools added to the cluster put their OS disk on the VM's local disk where the size allows."""
    image_registry: NotRequired[pulumi.Input[str]]
    """Mirror registry the cluster pulls every image from (empty or absent: each image's upstream registry)."""
    pool_names: NotRequired[list[str]]
    """Names of the agent pools the cluster itself has (its system pool and CPU workload pool): a GpuNodePool of
    this cluster refuses one of them as its pool name (AKS names a pool by cluster and name)."""
    identity_principal_id: NotRequired[pulumi.Input[str]]
    """Principal id of the cluster's own (control-plane) managed identity, as which AKS's cloud provider manages
    load balancers: GatewayAccess grants it the static public IP it puts the external Gateway on. Absent: no grant is
    made, and the identity needs Reader on the address's resource group and Network Contributor on the address."""


class GpuScheduling(TypedDict):
    """How a workload lands on a GpuNodePool's nodes. Handed out by GpuNodePool as `scheduling`."""

    node_selector: pulumi.Input[dict[str, str]]
    """Node selector matching this pool and its on-demand fallback alike, and no other pool (the pool's own label)."""
    tolerations: pulumi.Input[list[Toleration]]
    """Tolerations for the GPU taint and the spot taint."""
    gpu_model: pulumi.Input[str]
    """GPU model of the pool (T4, A10, A100, H100...)."""
    gpus_per_node: pulumi.Input[int]
    """GPUs on each node."""
    gpu_memory_gib: pulumi.Input[float]
    """Memory of one GPU (or of one MIG instance) as the driver reports it, GiB (an A100 80GB's 81920 MiB: 80.0; an
    H100 80GB's 81559 MiB: 79.64), not the marketing GB figure."""
    driver: str
    """Who installed the NVIDIA driver: aks or operator (the operator brings its own DCGM exporter)."""
    rdma: pulumi.Input[bool]
    """The nodes have RDMA (InfiniBand), as prefill/decode disaggregation needs."""
    mig_profile: NotRequired[str]
    """The pool's MIG profile, when it has one: each nvidia.com/gpu is then one GPU instance, and a process uses one
    (NVIDIA MIG user guide, CUDA device enumeration)."""
    fallback_pool: NotRequired[str]
    """AKS name of the pool's on-demand fallback (`<pool_name>od`), when it has one: its nodes carry the pool's own
    label too, so the node selector lands a workload there when spot is short, and Observability alerts when they
    keep running (GpuFallbackNodesRunning)."""
    fallback_min_count: NotRequired[int]
    """The fallback's autoscaler minimum: that many on-demand nodes run whatever spot does (with fallback_pool;
    default 0)."""
    nodes_drained_at_once: NotRequired[int]
    """The most of the pool's nodes an upgrade drains at the same time (its on-demand nodes: as many as its
    upgrade_max_surge adds, llmplatform.upgrades.nodes_drained_at_once; default 1, a node at a time): a model
    server's replicas on those nodes share one disruption budget and stop one after another, which its drain rule
    counts."""


class VaultHandle(TypedDict):
    """A Key Vault others write their secrets into. Handed out by KeyVault as `vault`."""

    vault_id: pulumi.Input[str]
    """Key Vault resource id (scope of role assignments)."""
    vault_name: pulumi.Input[str]
    """Key Vault name."""
    vault_uri: pulumi.Input[str]
    """https://<name>.vault.azure.net/"""
    tenant_id: pulumi.Input[str]
    """Entra tenant of the vault."""
    resource_group_name: pulumi.Input[str]
    """Resource group of the vault."""
    writes_after: NotRequired[pulumi.Input[str]]
    """Resource id of the vault's first write after its create (KeyVault without public network access: its private
    endpoint, whose connection the vault records; Key Vault takes one write at a time): every secret written through
    the handle (vault_secret) and every SecretProviderClass reading it comes after it through `depends_on`, never
    through vault_name, so replacing the endpoint replaces no secret (through the component provider too: the
    handle's fieldDependencies give each field its own). Leave it out when nothing else writes the vault."""


class ModelVolume(TypedDict):
    """The shared model store as pods mount it. Handed out by ModelStore as `volume`."""

    namespace: pulumi.Input[str]
    """Namespace of the volume claim."""
    claim_name: pulumi.Input[str]
    """ReadWriteMany PersistentVolumeClaim of the model share (its name, never empty); it waits for the store's preload Job. A server that
    mounts it takes the value alone in its pod template and the wait as a `depends_on` (`value_alone`, `order_of`,
    as OllamaServer does): in the template, a new Job (a model added, deleted first) would replace the server."""
    mount_path: pulumi.Input[str]
    """Where model servers mount it: an absolute path, not `/`, not `/tmp` (the server's own scratch), not
    `/tmp/.ollama` or a path under it (where Ollama writes its key pair)."""
    models: NotRequired[list[str]]
    """The models its preload Job pulls (absent: not known, e.g. a store filled some other way): a model server
    that warms a model checks it is one of them."""


class ModelShare(TypedDict):
    """The model store's Azure Files share, for alerts on it. Handed out by ModelStore as `share`."""

    file_service_id: pulumi.Input[str]
    """Resource id of the storage account's file service (`<account id>/fileServices/default`): the scope of its
    metrics (FileCapacity, ...)."""
    share_name: pulumi.Input[str]
    """The share's name: the value of those metrics' FileShare dimension."""
    quota_gib: pulumi.Input[int]
    """The share's provisioned size (quota), GiB: a write past it fails."""


class RouteTarget(TypedDict):
    """Where HTTPRoutes attach. Handed out by GatewayAccess as `route_target`; waits for the Gateways."""

    namespace: pulumi.Input[str]
    """Namespace of the Gateways."""
    gateway_names: pulumi.Input[list[str]]
    """Gateways to attach to (internal and/or external; at least one, each once, each a Kubernetes object name)."""
    ui_listener: pulumi.Input[str]
    """Listener (section name: a DNS subdomain, as the Gateway's listener is named) for browser traffic."""
    api_listener: pulumi.Input[str]
    """Listener (section name: a DNS subdomain, as the Gateway's listener is named) for the raw model API."""
    llmd_listener: pulumi.Input[str]
    """Listener (section name: a DNS subdomain) for the llm-d API (empty unless GatewayAccess has the inference
    extension)."""
    routes_label: pulumi.Input[dict[str, str]]
    """Label a namespace needs before its routes may attach."""
    front_door: NotRequired[pulumi.Input[bool]]
    """The external Gateway admits only Azure Front Door (GatewayAccess front_door_id): gates behind it key their
    rate limits on the client address Front Door saw, not on Front Door's own (default False)."""


class ModelServer(TypedDict):
    """A model server an autoscaler can drive. Handed out by InferenceStack as `model_server`."""

    namespace: pulumi.Input[str]
    """Namespace of the model server."""
    deployment: pulumi.Input[str]
    """Deployment to scale."""
    service: pulumi.Input[str]
    """Service in front of it."""
    port: pulumi.Input[int]
    """Service port."""
    hosts: pulumi.Input[list[str]]
    """Host headers clients use when requests go through the KEDA HTTP interceptor (empty: they do not, the server
    was built without keda; a ModelAutoscaler in requests mode refuses it)."""
    accelerator: pulumi.Input[str]
    """cpu or gpu: which load signal accompanies the request count."""
    autoscaled: NotRequired[bool]
    """Pulumi leaves the Deployment's replica count to an autoscaler (the server's `autoscaled`); false: Pulumi keeps
    it, and a ModelAutoscaler refuses the server (absent: not known, not checked)."""
    request_timeout_seconds: NotRequired[pulumi.Input[int]]
    """Longest answer the server's clients wait for (InferenceStack's and OllamaServer's `request_timeout_seconds`):
    a ModelAutoscaler given this handle takes it as its own when it is not given one (its InterceptorRoute's
    `timeouts.responseHeader`) and refuses a shorter one, which would cut those answers (absent: not checked)."""
    cold_start_timeout_seconds: NotRequired[pulumi.Input[int]]
    """How long the server's clients wait for a replica to start from zero at the KEDA interceptor (InferenceStack's
    `cold_start_timeout_seconds`; OllamaServer's: its keda handle's): a ModelAutoscaler takes it as its own when it
    is not given one (`timeouts.readiness`) and refuses a shorter one (absent: not checked)."""


class ModelEndpoint(TypedDict):
    """An in-cluster model API: what serves it and how a client (a gate, a UI) calls it. Handed out by OllamaServer
    and ApiGate as `endpoint`, and by LlmdStack as `endpoint` (its key-protected OpenAI-compatible API)."""

    base_url: pulumi.Input[str]
    """http://<host>:<port> as a client in `namespace` reaches it (no path; OpenAI-compatible routes under /v1)."""
    api: str
    """openai (OpenAI-compatible only) or ollama (Ollama's native /api routes, and /v1 too)."""
    namespace: pulumi.Input[str]
    """Namespace the host name resolves in."""
    service: pulumi.Input[str]
    """The Service clients resolve; waits until it exists (a gate's nginx refuses to start without it)."""
    port: pulumi.Input[int]
    """Port of `base_url`."""
    host_header: NotRequired[pulumi.Input[str]]
    """Host header the endpoint routes on (the KEDA HTTP interceptor; a host name with an optional `:port`; empty:
    the URL's host)."""
    api_key_secret: NotRequired[pulumi.Input[str]]
    """Key Vault secret holding the bearer key the endpoint requires (empty: none)."""


class KedaEndpoints(TypedDict):
    """Addresses of KEDA and its HTTP add-on. Handed out by Observability as `keda`; waits for KEDA."""

    namespace: pulumi.Input[str]
    """Namespace of KEDA."""
    interceptor_host: pulumi.Input[str]
    """In-cluster host of the HTTP add-on's interceptor proxy."""
    interceptor_port: pulumi.Input[int]
    """Port of the interceptor proxy."""
    external_scaler: pulumi.Input[str]
    """host:port of the HTTP add-on's external scaler."""
    prometheus_url: pulumi.Input[str]
    """In-cluster Prometheus, for Prometheus triggers."""
    interceptor_pod_labels: NotRequired[pulumi.Input[dict[str, str]]]
    """Labels of the interceptor's pods, which a model server's NetworkPolicy admits and a client namespace's opens
    the proxy port on (default the keda-add-ons-http chart's, with Observability's release name: a KEDA installed
    otherwise gives its own)."""
    request_timeout_seconds: NotRequired[pulumi.Input[int]]
    """Longest answer the interceptor waits for (Observability's `request_timeout_seconds`): an InferenceStack or
    OllamaServer given this handle takes it as its own when it is not given one (absent: their default, 600)."""
    cold_start_timeout_seconds: NotRequired[pulumi.Input[int]]
    """How long the interceptor holds a request while a replica starts (Observability's
    `cold_start_timeout_seconds`): an InferenceStack takes it as its own when it is not given one (absent: its
    default, 1200). The interceptor lets the requests in flight run the sum of both when one of its pods stops (its
    `drainTimeout`), so an InferenceStack whose gate waits longer is refused: its answers would be cut then."""


class MonitoringHandle(TypedDict):
    """Azure-side monitoring destinations. Handed out by AzureMonitoring as `monitoring`."""

    log_analytics_workspace_id: pulumi.Input[str]
    """Log Analytics workspace (Container Insights)."""
    monitor_workspace_id: pulumi.Input[str]
    """Azure Monitor workspace (managed Prometheus)."""
    action_group_id: pulumi.Input[str]
    """Action group alerts notify (empty: none)."""
    location: NotRequired[pulumi.Input[str]]
    """Azure region of both workspaces (AzureMonitoring's `location`): Observability's data collection needs the
    cluster's (a handle without it is not checked)."""


# The property the component provider adds to every handle it outputs: by field (schema names), the URNs of the
# resources the field's value comes from (provider.py `handle_dependencies`, spent by `spread`). Dropped from a
# handle given to a component whatever its shape, in Python as through the provider; no property of a spec.
FIELD_DEPENDENCIES = "fieldDependencies"

_REQUIRED = object()


def field(handle: Any, key: str, default: Any = _REQUIRED) -> pulumi.Output[Any]:
    """One field of a handle, with its own dependencies (a dict of outputs) or the handle's (one output); `default`
    for an optional (NotRequired) field the handle may lack. The handle is a component's input, so check_shape has
    checked its shape, or, where it holds outputs, made them wait for that check (whole numbers as ints again)."""
    def get(h: Any) -> Any:
        return h[key] if default is _REQUIRED else h.get(key, default)
    if isinstance(handle, dict):
        return pulumi.Output.from_input(get(handle))
    return pulumi.Output.from_input(handle).apply(get)


def settled(value: pulumi.Input[Any], last_write: pulumi.CustomResource) -> pulumi.Output[Any]:
    """`value`, carrying a dependency on `last_write`: whoever takes it (from any language) waits until that write
    is done. Only for a value no consumer puts in a force-new input (part of an Azure id, a Kubernetes name, a
    ConfigMap's data): the engine, replacing `last_write` deleting it first, makes every input holding it unknown and
    replaces a dependent that needs a new one for it (pulumi/pulumi 1b5949891b pkg/resource/deploy/step_generator.go
    `calculateDependentReplacements`). A handle orders such writes through an ordering-only field instead
    (ClusterHandle.pool_writes_after, network_writes_after, VaultHandle.writes_after), which consumers take through
    `order_of`."""
    return pulumi.Output.all(value, last_write.id).apply(lambda v: v[0])


def order_of(*values: pulumi.Input[Any]) -> pulumi.Output[pulumi.Resource]:
    """An item of a `depends_on` list: every resource the values carry, and no resource of its own (it resolves to
    None, which the SDK skips; unknown in a preview, its resources still count: pulumi 3.272.0
    runtime/_depends_on.py `_resolve_depends_on` adds an item's `resources()`, then its value when not None). The
    dependencies go to the resource's `dependencies` alone, never to an input's property dependencies, so a
    delete-first replacement of one of them replaces nothing through it. For an ordering-only handle field, give
    `field(handle, key, None)`: absent, nothing is ordered."""
    return cast(pulumi.Output[pulumi.Resource], pulumi.Output.all(*values).apply(lambda _: None))


def ordered_after(opts: pulumi.ResourceOptions, *values: pulumi.Input[Any]) -> pulumi.ResourceOptions:
    """`opts` with a `depends_on` on every resource `values` carry (`order_of`): for a resource that takes them as
    values alone (`value_alone`), or not at all."""
    return pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[order_of(*values)]))


def order_after(opts: pulumi.ResourceOptions, handle: Any, key: str) -> pulumi.ResourceOptions:
    """`opts` with a `depends_on` on an ordering-only handle field (ClusterHandle.network_writes_after,
    VaultHandle.writes_after): none for a dict handle without it, else `order_of` the field."""
    if isinstance(handle, dict) and handle.get(key) is None:
        return opts
    return ordered_after(opts, field(handle, key, None))


HANDED_TIMEOUTS = ("request_timeout_seconds", "cold_start_timeout_seconds")


def handed_timeouts(args: Any, key: str, timeouts: tuple[str, ...] = HANDED_TIMEOUTS) -> Any:
    """`args` (a component's inputs) with each of `timeouts` it is not given taken from its handle `key`'s field of
    that name (KedaEndpoints, ModelServer), when the field is a plain whole number: the figures travel with the handle
    from Observability to the model server and on to its autoscaler. A field not known yet (an output: another
    stack's, the component provider's) sets nothing: the component's default stands, and its rules judge it against
    the field once it resolves (checks.late_rules)."""
    if not isinstance(args, dict) or not isinstance(args.get(key), dict):
        return args
    handed = {t: v for t in timeouts if args.get(t) is None
              and isinstance(v := args[key].get(t), int) and not isinstance(v, bool)
              and 1 <= v <= 86400}  # a hand-built handle's figure out of range: refused as the handle's
    return {**args, **handed} if handed else args


def value_alone(value: pulumi.Input[Any]) -> pulumi.Output[Any]:
    """`value` as it resolves (known or not, secret or not), without the resources it carries: for a force-new input
    whose value holds gates on its way through handles (a ConfigMap's data built from several components' fields),
    with `order_of(value)` in the resource's `depends_on` so that its write order stays."""
    out = pulumi.Output.from_input(value)
    return pulumi.Output(set(), out.future(with_unknowns=True), _Awaited(out.is_known), _Awaited(out.is_secret))


class _Awaited:
    """An awaitable that calls `make` only when awaited: pulumi.Output awaits its known and secret flags after its
    value (pulumi 3.272.0 output.py `compute_data`), so coroutines made up front were never awaited when the value
    failed (a late refusal) and each left a RuntimeWarning at collection."""

    def __init__(self, make: Callable[[], Awaitable[bool]]):
        self._make = make

    def __await__(self) -> Generator[Any, None, bool]:
        return self._make().__await__()
