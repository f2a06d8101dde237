"""The gate in front of a model API: nginx enforcing bearer API keys (from Key Vault through the Secrets Store CSI
driver and workload identity) and a per-client rate limit answering 429, with timeouts long enough for streamed
answers. ApiGate (InferenceStack's gate) puts it in front of any model endpoint, LlmdStack in front of the llm-d
inference gateway, so no model API is published without both."""
from dataclasses import dataclass
from typing import Any, Mapping, Optional

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from .handles import ModelEndpoint, field, ordered_after, settled, value_alone
from .inference_specs import (API_KEY_LENGTH, KEY_MAP_CONTENT_TYPE, ROUTER_CPU_LIMIT, ROUTER_EDGE_PORT, ROUTER_PORT,
                              ROUTER_UI_PORT, OWN_RANGE_FIELDS, SECRETS_MOUNT,
                              api_key_map_line, key_map_reloader, key_vault_objects, nginx_workers, router_nginx_conf,
                              stop_grace_seconds)
from .key_vault import grant_secrets_user, vault_secret
from .hardening import container_security, pod_security, scanner_annotations, scratch_volume
from .kube import (IDENTITY_MOUNT_TIMEOUT_SECONDS, pulled, allow_ingress, csi_secrets_mount, csi_secrets_volume,
                   deployment, disruption_budget, http_probe, cpu_placement, labels, namespace_peer, placement_args,
                   secret_provider_class, spread)
from .naming import content_suffix, secret_name
from .pins import ROUTER_IMAGE
from .workload_identity import USE_LABEL, WorkloadIdentity


@dataclass
class RouterSpec:
    """What one router needs: where it runs, what it guards, and its limits."""

    name: str  # resource-name prefix (the owner's name)
    namespace: pulumi.Input[str]
    cluster: Any  # ClusterHandle
    upstream_host: pulumi.Input[str]  # resolved by the pod's DNS search path at start
    upstream_port: pulumi.Input[int]
    upstream_host_header: pulumi.Input[Optional[str]]
    client_peers: list[k8s.networking.v1.NetworkPolicyPeerArgs]  # in-cluster callers of ROUTER_PORT
    api_key_auth: bool
    rate_limit_per_second: int
    rate_limit_burst: int
    request_timeout_seconds: int
    vault: Any = None  # VaultHandle, needed with api_key_auth
    api_key_secret: Optional[str] = None  # default <name>-api-key
    api_key_map_secret: Optional[str] = None  # a key map someone else writes (the global edge's): no key of our own
    key_replaceable: bool = False  # the own key and its secrets out of the owner's protect (api_key_replaceable)
    identity_prefix: str = ""  # identities are id-<prefix>-router
    tags: Optional[Mapping[str, pulumi.Input[str]]] = None
    replicas: int = 2
    allowed_routes: pulumi.Input[Optional[list[str]]] = None  # paths forwarded (inference_specs.route_regex); None: all
    after: Optional[list[pulumi.Resource]] = None  # what creates upstream_host: nginx exits when it cannot resolve it
    ready: Any = None  # an Input that resolves once upstream_host exists (the pods wait for it, as for `after`)
    resources: Optional[dict[str, dict[str, str]]] = None  # nginx's requests/limits (default ROUTER_RESOURCES)
    aliases: Optional[list[pulumi.Alias]] = None  # where the owner's children were before (pulumi.Alias)
    front_door: pulumi.Input[bool] = False  # the gateways are behind Azure Front Door (RouteTarget front_door)
    # paths of a keyless listener (ROUTER_UI_PORT) for the namespace's Open-WebUI pods alone; None: no such listener
    ui_routes: Optional[tuple[str, ...]] = None
    ui_rate_limited: bool = False  # the UI listener held to the in-cluster listener's per-caller limit (LlmdStack's)
    # the namespace of the Open-WebUI pods the UI listener admits; None: the router's own
    ui_namespace: Optional[pulumi.Input[str]] = None
    # the Gateways' namespace, the one caller of ROUTER_EDGE_PORT (the HTTPRoutes' backend port, where nginx reads
    # X-Forwarded-For); None: the gate is not published and no one may call that listener
    edge_namespace: Optional[pulumi.Input[str]] = None


def hands_out_key(api_key_auth: bool, api_key_secret: Optional[str], api_key_map_secret: Optional[str]) -> bool:
    """Whether a gate hands its clients a key secret to mount: its own generated key, or, reading a key map someone
    else writes, the key secret named beside it (known when the gate is built: a client knows whether to read one)."""
    return api_key_auth and (not api_key_map_secret or bool(api_key_secret))


UI_CLIENT = "open-webui"  # app.kubernetes.io/name of the pods the UI listener admits (OpenWebUi's, same namespace)
ROUTER_CONFIG_MAP = "router-nginx"  # the gate's nginx.conf, under this name and a hash of its content

ROUTER_RESOURCES = {"requests": {"cpu": "100m", "memory": "64Mi"},
                    "limits": {"cpu": str(ROUTER_CPU_LIMIT), "memory": "256Mi"}}
RELOADER_RESOURCES = {"requests": {"cpu": "5m", "memory": "8Mi"}, "limits": {"cpu": "50m", "memory": "32Mi"}}


def key_map_reloader_container(image: pulumi.Input[str], key_map: str,
                               mounts: list[k8s.core.v1.VolumeMountArgs]) -> k8s.core.v1.ContainerArgs:
    """The container beside nginx that has it load its key map again when Key Vault's copy changes
    (inference_specs.key_map_reloader), from the same image (its busybox sh; no other pull). `mounts`: nginx's
    scratch folder (the pid file) and the CSI driver's secrets. Its probes: the mounted key map is readable."""
    path = f"{SECRETS_MOUNT}/{key_map}"
    readable = k8s.core.v1.ProbeArgs(exec_=k8s.core.v1.ExecActionArgs(command=["/bin/sh", "-c", f"test -r {path}"]),
                                     period_seconds=30, failure_threshold=3, timeout_seconds=5)
    return k8s.core.v1.ContainerArgs(
        name="key-map-reloader", image=image, command=["/bin/sh", "-c", key_map_reloader(path)],
        resources=k8s.core.v1.ResourceRequirementsArgs(**RELOADER_RESOURCES),
        readiness_probe=readable, liveness_probe=readable,
        security_context=container_security(), volume_mounts=mounts)


def in_cluster_policy(owner: pulumi.ComponentResource, spec: RouterSpec,
                      route: Optional[pulumi.Resource]) -> k8s.networking.v1.NetworkPolicy:
    """`router-ingress`: ROUTER_PORT open to spec.client_peers alone. After `route`, the HTTPRoute onto
    ROUTER_EDGE_PORT: a gate planned before that listener admitted the Gateways here, and this policy's update takes
    them out, so it waits until the route has moved (else every request through the Gateways is refused while the
    gate's pods roll, which the route waits for). Every caller of api_router creates it."""
    opts = pulumi.ResourceOptions(parent=owner, aliases=spec.aliases, protect=False,
                                  depends_on=[route] if route is not None else None)
    return allow_ingress(f"{spec.name}-router-netpol", "router-ingress", spec.namespace,
                         {"app.kubernetes.io/name": "router"}, ROUTER_PORT, spec.client_peers, opts)


def api_router(owner: pulumi.ComponentResource,
               spec: RouterSpec) -> tuple[pulumi.Output[str], pulumi.Output, pulumi.Output[str]]:
    """Create the router's objects as children of `owner` but `router-ingress` (in_cluster_policy, after the caller's
    HTTPRoute); returns (the Service's name, Key Vault secret name or None,
    the Service's name once the Deployment has rolled out and the policies are there: for a client that must find
    the current config, the UI listener's, or the HTTPRoute onto the Gateways' listener)."""
    name, ns = spec.name, spec.namespace
    # `protect` in the owner's opts reaches the key and its secrets alone (they inherit it, pulumi resource.py "Infer
    # protection from parent"): the objects, the identity and its grant stay replaceable
    k8s_opts = pulumi.ResourceOptions(parent=owner, aliases=spec.aliases, protect=False)
    res = spec.resources or ROUTER_RESOURCES
    select = labels("router", "router")
    match = {"app.kubernetes.io/name": "router"}
    key_map = secret_name(name, "api-key-map")
    volumes: list[k8s.core.v1.VolumeArgs] = [scratch_volume()]
    scratch = k8s.core.v1.VolumeMountArgs(name="tmp", mount_path="/tmp")
    mounts = [k8s.core.v1.VolumeMountArgs(name="config", mount_path="/etc/nginx/nginx.conf", sub_path="nginx.conf",
                                          read_only=True), scratch]
    account_name: Any = None
    sidecars: list[k8s.core.v1.ContainerArgs] = []
    pod_labels: dict[str, str] = {}
    key_secret_name: pulumi.Output = pulumi.Output.from_input(None)
    if spec.api_key_auth:
        vault = spec.vault
        map_writer: list[pulumi.Resource] = []  # the map's writer when this gate writes it
        if spec.api_key_map_secret:  # keys valid beyond this gate (one set for every region): read, never written
            key_map = spec.api_key_map_secret
            key_secret_name = pulumi.Output.from_input(spec.api_key_secret)
        else:
            key_protect = False if spec.key_replaceable else None  # None: the owner's protect
            key = random.RandomPassword(f"{name}-api-key", length=API_KEY_LENGTH, special=False,
                                        opts=pulumi.ResourceOptions(parent=owner, aliases=spec.aliases,
                                                                    protect=key_protect))
            key_secret = spec.api_key_secret or secret_name(name, "api-key")
            # clients that mount the key (an OpenWebUi) are granted it once it exists: the name carries its write
            key_secret_name = settled(key_secret, vault_secret(f"{name}-api-key-secret", vault, key_secret,
                                                               key.result, "text/plain", owner, aliases=spec.aliases,
                                                               protect=key_protect))
            map_writer = [vault_secret(f"{name}-api-key-map-secret", vault, key_map,
                                       key.result.apply(api_key_map_line), KEY_MAP_CONTENT_TYPE, owner,
                                       aliases=spec.aliases, protect=key_protect)]
        identity = WorkloadIdentity(f"{name}-router-identity", {
            "cluster": spec.cluster, "identity_name": f"id-{spec.identity_prefix or name}-router",
            "namespace": ns, "service_account_name": "router", "tags": spec.tags or {},
        }, k8s_opts)
        # the gate faces the internet: its identity reads the key map it mounts and no other secret of the vault
        grant_secrets_user(f"{name}-router-kv-reader", vault, identity.principal_id, identity, key_map, map_writer)
        secret_provider_class(f"{name}-router-secrets", "router-secrets", ns, vault, identity.client_id,
                              key_vault_objects([key_map]), k8s_opts)
        volumes.append(csi_secrets_volume("router-secrets"))
        mounts.append(csi_secrets_mount())
        # a new key map (a key rotated, added or dropped) reaches nginx without a restart of the gate's pods
        sidecars.append(key_map_reloader_container(pulled(spec.cluster, ROUTER_IMAGE), key_map,
                                                   [scratch, csi_secrets_mount()]))
        account_name = identity.service_account_name
        pod_labels[USE_LABEL] = "true"
    workers = nginx_workers(res["limits"].get("cpu"))
    # behind Front Door, callers from the stack's own ranges are keyed on themselves, public address space or not
    own_ranges = pulumi.Output.all(*(field(spec.cluster, key, None) for key in OWN_RANGE_FIELDS)).apply(
        lambda ranges: [r for r in ranges if r])
    conf = pulumi.Output.all(spec.upstream_host, spec.upstream_port, field(spec.cluster, "pod_cidr"),
                             spec.upstream_host_header, spec.allowed_routes, spec.front_door, own_ranges).apply(
        lambda v: router_nginx_conf(
            f"{v[0]}:{v[1]}", spec.rate_limit_per_second, spec.rate_limit_burst, spec.api_key_auth,
            [v[2]], spec.request_timeout_seconds, v[3] or None, key_map, tuple(v[4]) if v[4] else None,
            spec.replicas, workers, bool(v[5]), spec.ui_routes, own_cidrs=v[6], ui_rate_limited=spec.ui_rate_limited))
    # a config change rolls the pods (nginx reads its config only at start); the hash also makes them wait for `ready`
    config_hash = (pulumi.Output.all(conf, spec.ready).apply(lambda v: content_suffix(v[0])) if spec.ready is not None
                   else conf.apply(content_suffix))
    # named after its content: pulumi-kubernetes replaces a ConfigMap whose data changes, and under one fixed name it
    # must delete the old one first, so a gate pod starting in between would find no config; a new name is created
    # before the old one is deleted, and the pods roll over to it. The text holds the gates its values carry on their
    # way through the handles (the KEDA releases behind the interceptor's port, the model store's claim behind the
    # namespace): the data takes the text alone and the ConfigMap those gates as a depends_on, so its write order
    # stays and a claim or release deleted first and created again does not make the data (force-new) unknown and
    # the ConfigMap replaced (pulumi/pulumi 1b5949891b step_generator.go calculateDependentReplacements)
    text = value_alone(conf)
    config_map = k8s.core.v1.ConfigMap(
        f"{name}-router-config", metadata=k8s.meta.v1.ObjectMetaArgs(
            name=text.apply(lambda t: f"{ROUTER_CONFIG_MAP}-{content_suffix(t)}"), namespace=ns),
        data={"nginx.conf": text},
        opts=ordered_after(k8s_opts, conf))
    volumes.insert(0, k8s.core.v1.VolumeArgs(name="config", config_map=k8s.core.v1.ConfigMapVolumeSourceArgs(
        name=config_map.metadata.name)))
    on_cpu = cpu_placement(spec.cluster)
    rolled = deployment(
        f"{name}-router", "router", ns, select, spec.replicas,
        k8s.core.v1.PodSpecArgs(
            # the account's name alone, its gates in the order (WorkloadIdentity.service_account_name)
            service_account_name=value_alone(account_name) if account_name is not None else None,
            automount_service_account_token=False,
            # the reloader signals nginx's master (same uid): one process namespace for the pod
            share_process_namespace=True if sidecars else None,
            security_context=pod_security(),
            **placement_args(on_cpu),
            topology_spread_constraints=spread(match),
            # the image stops nginx with SIGQUIT (graceful: open requests finish); give them the longest answer
            termination_grace_period_seconds=stop_grace_seconds(spec.request_timeout_seconds),
            containers=[k8s.core.v1.ContainerArgs(
                name="nginx", image=pulled(spec.cluster, ROUTER_IMAGE),
                ports=[k8s.core.v1.ContainerPortArgs(name="http", container_port=ROUTER_PORT),
                       k8s.core.v1.ContainerPortArgs(name="edge", container_port=ROUTER_EDGE_PORT),
                       *([k8s.core.v1.ContainerPortArgs(name="ui", container_port=ROUTER_UI_PORT)]
                         if spec.ui_routes else [])],
                resources=k8s.core.v1.ResourceRequirementsArgs(**res),
                readiness_probe=http_probe("/healthz", ROUTER_PORT, period=5, failures=3),
                liveness_probe=http_probe("/healthz", ROUTER_PORT, period=10, failures=3),
                # nginx-unprivileged runs under any uid; it writes only /tmp (pid, temp paths)
                security_context=container_security(),
                volume_mounts=mounts), *sidecars],
            volumes=volumes,
        ),
        # the hash waits for `ready` (the upstream's Service, the KEDA releases behind the interceptor's port): in
        # the order, not on the pod template, or one of them deleted first and created again under its name (the
        # text the same) replaced the gate's Deployment with it (pulumi/pulumi 1b5949891b step_generator.go
        # calculateDependentReplacements; docs/decisions.md "2026-12-05 (night): delete-first chains rescanned")
        ordered_after(pulumi.ResourceOptions(parent=owner, depends_on=spec.after or None, aliases=spec.aliases,
                                             protect=False), config_hash, on_cpu,
                      *([account_name] if account_name is not None else [])),
        pod_labels=pod_labels, pod_annotations={"llm-platform/config-hash": value_alone(config_hash)},
        annotations={**({"pulumi.com/timeoutSeconds": str(IDENTITY_MOUNT_TIMEOUT_SECONDS)} if spec.api_key_auth
                        else {}), **scanner_annotations([ROUTER_IMAGE])})
    service = k8s.core.v1.Service(
        f"{name}-router-svc", metadata=k8s.meta.v1.ObjectMetaArgs(name="router", namespace=ns),
        spec=k8s.core.v1.ServiceSpecArgs(type="ClusterIP", selector=match, ports=[
            k8s.core.v1.ServicePortArgs(name="http", port=ROUTER_PORT, target_port=ROUTER_PORT, protocol="TCP"),
            k8s.core.v1.ServicePortArgs(name="edge", port=ROUTER_EDGE_PORT, target_port=ROUTER_EDGE_PORT,
                                        protocol="TCP"),
            *([k8s.core.v1.ServicePortArgs(name="ui", port=ROUTER_UI_PORT, target_port=ROUTER_UI_PORT, protocol="TCP")]
              if spec.ui_routes else [])]),
        opts=k8s_opts)
    disruption_budget(f"{name}-router-pdb", "router", ns, match, k8s_opts)
    ready = [rolled.metadata.name, service.metadata.name]
    if spec.edge_namespace is not None:  # the listener that believes X-Forwarded-For: the Gateways' pods alone
        ready.append(allow_ingress(f"{name}-router-edge-netpol", "router-edge-ingress", ns, match, ROUTER_EDGE_PORT,
                                   [namespace_peer(spec.edge_namespace)], k8s_opts).metadata.name)
    if spec.ui_routes:  # the keyless listener: the UI's pods of this namespace (no namespaceSelector: this one only)
        ui_pods = k8s.meta.v1.LabelSelectorArgs(match_labels={"app.kubernetes.io/name": UI_CLIENT})
        # or of the UI's own namespace alone (both selectors in one peer: its pods there, no other)
        ui_peer = namespace_peer(spec.ui_namespace, ui_pods) if spec.ui_namespace is not None else \
            k8s.networking.v1.NetworkPolicyPeerArgs(pod_selector=ui_pods)
        ready.append(allow_ingress(f"{name}-router-ui-netpol", "router-ui-ingress", ns, match, ROUTER_UI_PORT,
                                   [ui_peer], k8s_opts).metadata.name)
    return service.metadata.name, key_secret_name, pulumi.Output.all(*ready).apply(lambda v: v[1])


def router_endpoint(service: pulumi.Output[str], namespace_name: pulumi.Input[str], api: str,
                    key_secret: pulumi.Output, hands_out_key_secret: bool) -> ModelEndpoint:
    """The router's key-protected API as a client in its namespace calls it (ApiGate's and LlmdStack's `endpoint`)."""
    return ModelEndpoint(
        base_url=pulumi.Output.concat("http://", service, ":", str(ROUTER_PORT)), api=api, namespace=namespace_name,
        service=service, port=ROUTER_PORT, host_header="",
        api_key_secret=key_secret.apply(lambda s: s or "") if hands_out_key_secret else "")
