"""ApiGate: the gate in front of any model endpoint (an OllamaServer's, LlmdStack's, or one of your own): bearer API
keys from Key Vault, a per-client rate limit answering 429, timeouts long enough for streamed answers, and the
HTTPRoute publishing it on the platform Gateways' API listener. Hands out the gated `endpoint`."""
from typing import Mapping, Optional, TypedDict

import pulumi
import pulumi_kubernetes as k8s
from typing_extensions import NotRequired

from . import PACKAGE
from .api_router import RouterSpec, api_router, hands_out_key, in_cluster_policy, router_endpoint
from .checks import (DRAIN_FIELDS, ENDPOINT_FIELDS, NAMESPACE_FIELDS, ROUTER_RANGE_FIELDS, after_check,
                     called_as_documented, check_shape, handle_after_check, late_rules)
from .defaults import defaults_for, or_default
from .handles import ClusterHandle, ModelEndpoint, RouteTarget, VaultHandle, field, known
from .inference_specs import (OLLAMA_API_ROUTES, OPEN_WEBUI_OLLAMA_ROUTES, ROUTER_EDGE_PORT, ROUTER_PORT,
                              ROUTER_UI_PORT, gate_route_timeouts, resources)
from .kube import namespace_peer, require_kubernetes_provider, service_url
from .shared_names import claim_gate_namespace, endpoint_namespace
from .ollama_server import ResourcesSpec, _moved

opt = defaults_for("ApiGate")  # optional inputs: the caller's value, else the default

class ApiGateArgs(TypedDict):
    """Inputs of ApiGate."""

    cluster: pulumi.Input[ClusterHandle]
    """The cluster (CPU pool, OIDC issuer for the gate's workload identity, pod range for trusted proxies)."""
    endpoint: pulumi.Input[ModelEndpoint]
    """The model API to guard (OllamaServer's `endpoint`, or your own server's); the gate runs in its namespace, where
    no other gate runs (an LlmdStack's `endpoint` is its gate already)."""
    key_vault: pulumi.Input[VaultHandle]
    """Vault the API key is written to (unused when api_key_auth is false)."""
    route_target: NotRequired[Optional[pulumi.Input[RouteTarget]]]
    """Gateways to publish the gate on, on their API listener (GatewayAccess's `route_target`); none: in-cluster
    only."""
    client_namespaces: NotRequired[Optional[list[str]]]
    """Other namespaces whose pods may call the gate's API listener in-cluster (with the key, under the rate limit).
    The listener admits the gate's own namespace (its `endpoint`'s clients); no other (default none). With
    route_target the Gateways' namespace calls a listener of its own (port 8082), the only one that reads a client's
    address from X-Forwarded-For."""
    name_prefix: NotRequired[Optional[str]]
    """Start of Azure names (the identity id-<prefix>-router; default: the name)."""
    api_key_auth: NotRequired[Optional[bool]]
    """Require a bearer API key (default True)."""
    api_key_secret: NotRequired[Optional[str]]
    """Key Vault secret name of the API key (default <name>-api-key)."""
    api_key_map_secret: NotRequired[Optional[str]]
    """Key Vault secret name of an nginx key map written by someone else (the global edge's key set, valid in every
    region): the gate reads it and generates no key of its own (default: its own key)."""
    api_key_replaceable: NotRequired[Optional[bool]]
    """Keep the gate's own generated key and its two Key Vault secrets out of the component's `protect`: a key that
    serves only until `api_key_map_secret` replaces it (a region waiting for its global edge, whose joining deletes
    it: the engine refuses a protected delete) (default False: the key takes `protect`). Only with `api_key_auth` true
    and no `api_key_map_secret` (refused otherwise: the gate generates no key of its own)."""
    allowed_paths: NotRequired[Optional[list[str]]]
    """Paths the gate forwards (exact; a `:name` segment is any one segment), every other answering 403 after the
    key check. Default: Ollama's inference and listing routes for an `ollama` endpoint; every path for an `openai`
    one, whose server's routes the gate cannot know (name your server's inference routes: vLLM, for one, also
    serves /metrics and management routes to whoever reaches it)."""
    ui_listener: NotRequired[Optional[bool]]
    """A second, keyless listener (port 8081) that only the namespace's Open-WebUI pods may reach, forwarding the
    Ollama routes Open-WebUI calls (not model management) with the endpoint's Host header and the gate's timeouts:
    the UI's way to an `ollama` endpoint behind the KEDA interceptor, which authenticates no one and so admits the
    gate alone. Handed out as `ui_endpoint` (default False)."""
    rate_limit_per_second: NotRequired[Optional[int]]
    """Requests per second per client before 429 (default 10)."""
    rate_limit_burst: NotRequired[Optional[int]]
    """Burst above the rate (default 20)."""
    request_timeout_seconds: NotRequired[Optional[int]]
    """Longest answer the gate and the gateway wait for, cold starts included (default 600)."""
    replicas: NotRequired[Optional[int]]
    """Gate pods (default 2); the rate limit is shared out between them."""
    resources: NotRequired[Optional[ResourcesSpec]]
    """nginx's requests and limits (one worker process per whole core of the CPU limit)."""
    tags: NotRequired[Optional[Mapping[str, pulumi.Input[str]]]]
    """Azure tags."""


def client_peers(other_namespaces: list[str]) -> list[k8s.networking.v1.NetworkPolicyPeerArgs]:
    """Who may call a gate's in-cluster API listener: the pods of its own namespace (no namespaceSelector: the
    policy's) and the namespaces named (the Gateways call a listener of their own, RouterSpec edge_namespace). Never
    an empty list, which a NetworkPolicy rule reads as every pod of the cluster and every address outside it."""
    return [k8s.networking.v1.NetworkPolicyPeerArgs(pod_selector=k8s.meta.v1.LabelSelectorArgs()),
            *(namespace_peer(name) for name in other_namespaces)]


@called_as_documented
class ApiGate(pulumi.ComponentResource):
    """API keys, a per-client 429 and LLM-length timeouts in front of any model endpoint, published on the
    platform Gateways' API listener. The `protect` option protects the generated key and its two Key Vault secrets; the
    Kubernetes objects, the identity and its grant stay replaceable."""

    router_service: pulumi.Output[str]
    """In-cluster URL of the gate, `http://<service>.<namespace>.svc:<port>` (resolves from a pod of any namespace
    under dnsPolicy ClusterFirst)."""
    api_key_secret: pulumi.Output[Optional[str]]
    """Key Vault secret holding the bearer key (None when auth is off)."""
    endpoint: ModelEndpoint
    """The gated API, for clients in the namespace (an OpenWebUi): same flavour, key required."""
    ui_endpoint: Optional[ModelEndpoint]
    """With ui_listener: the keyless listener for the namespace's OpenWebUi (an `ollama` endpoint); else None."""

    def __init__(self, name: str, args: ApiGateArgs, opts: Optional[pulumi.ResourceOptions] = None, *,
                 moved_from: Optional[pulumi.Resource] = None):
        checked = check_shape("ApiGate", name, args, ApiGateArgs)
        given = args["endpoint"]  # the caller's handle, not the checked copy (whose outputs are new ones)
        args = checked
        require_kubernetes_provider(opts, "ApiGate", name)
        claim_gate_namespace("ApiGate", name, "endpoint.namespace", endpoint_namespace(given), opts,
                             "give the gate the endpoint of a model server in a namespace of its own (an LlmdStack's "
                             "endpoint is gated already: hand it to its clients as it is)", self)
        super().__init__(f"{PACKAGE}:index:ApiGate", name, None, opts)
        a = args
        aliases = _moved(moved_from)
        upstream = a["endpoint"]
        # a namespace that arrives as an output is checked once it resolves, in this component's words, before the
        # gate (its workload identity too) runs there
        ns = after_check(late_rules("ApiGate", name, a, "endpoint", NAMESPACE_FIELDS, ApiGateArgs),
                         field(upstream, "namespace"))
        api = known(upstream, "api")
        # an endpoint that arrives as an output has its flavour checked once it resolves, in this component's words;
        # what the gate hands on carries the check, so a UI behind it is not refused for the gate's input
        endpoint_check = late_rules("ApiGate", name, a, "endpoint", ENDPOINT_FIELDS, ApiGateArgs)
        checked_api = after_check(endpoint_check, field(upstream, "api"))
        target = a.get("route_target")
        peers = client_peers(a.get("client_namespaces") or [])
        res = opt(a, "resources")
        timeout = opt(a, "request_timeout_seconds")
        ui = opt(a, "ui_listener")
        address = field(upstream, "base_url").apply(lambda url: url.split("://", 1)[-1].rstrip("/"))
        # a cluster handle whose ranges arrive as outputs has them checked once they resolve: nginx would not start
        # on one that is no range, and the config it writes waits for the check
        # (and its drain, which the pods' grace is held to)
        ranges_check = late_rules("ApiGate", name, a, "cluster", (*ROUTER_RANGE_FIELDS, *DRAIN_FIELDS), ApiGateArgs)
        router = RouterSpec(
            name=name, namespace=ns, cluster=handle_after_check(ranges_check, a["cluster"], ROUTER_RANGE_FIELDS),
            upstream_host=address.apply(lambda v: v.rsplit(":", 1)[0]),
            upstream_port=address.apply(lambda v: int(v.rsplit(":", 1)[1]) if ":" in v else 80),
            # written into nginx's config as given: checked first when it arrives as an output
            upstream_host_header=after_check(endpoint_check, field(upstream, "host_header", "")), client_peers=peers,
            edge_namespace=field(target, "namespace") if target else None,
            api_key_auth=opt(a, "api_key_auth"), rate_limit_per_second=opt(a, "rate_limit_per_second"),
            rate_limit_burst=opt(a, "rate_limit_burst"), request_timeout_seconds=timeout,
            vault=a.get("key_vault"), api_key_secret=a.get("api_key_secret"),
            api_key_map_secret=a.get("api_key_map_secret"),
            key_replaceable=opt(a, "api_key_replaceable"),
            identity_prefix=or_default(a.get("name_prefix"), name), tags=a.get("tags", {}),
            # Ollama's model-management routes stay closed; an OpenAI-compatible server answers only inference
            allowed_routes=list(paths) if (paths := a.get("allowed_paths")) is not None else checked_api.apply(
                lambda flavour: list(OLLAMA_API_ROUTES) if flavour == "ollama" else None),
            ready=field(upstream, "service"), replicas=opt(a, "replicas"),
            resources=resources(res["cpu_request"], res.get("cpu_limit"), res["memory_request"],
                                res["memory_limit"]),
            aliases=aliases, front_door=field(target, "front_door", False) if target else False,
            ui_routes=OPEN_WEBUI_OLLAMA_ROUTES if ui else None)
        service, self.api_key_secret, rolled_out = api_router(self, router)
        self.router_service = service_url(service, ns, ROUTER_PORT)
        route = None
        if target:
            # the Gateways and their listener, when they arrive as outputs, checked once known before the route has them
            gateways = after_check(late_rules("ApiGate", name, a, "route_target", ("gateway_names", "api_listener"),
                                              ApiGateArgs), field(target, "gateway_names"))
            parents = pulumi.Output.all(gateways, field(target, "namespace"), field(target, "api_listener")).apply(
                lambda v: [{"name": gw, "namespace": v[1], "sectionName": v[2]} for gw in v[0]])
            route = k8s.apiextensions.CustomResource(
                f"{name}-api-route", api_version="gateway.networking.k8s.io/v1", kind="HTTPRoute",
                metadata=k8s.meta.v1.ObjectMetaArgs(name="api-route", namespace=ns),
                spec={"parentRefs": parents,
                      "rules": [{"matches": [{"path": {"type": "PathPrefix", "value": "/"}}],
                                 # once the pods listen there and their policy admits the Gateways
                                 "backendRefs": [{"name": rolled_out, "port": ROUTER_EDGE_PORT}],
                                 # streamed LLM answers run for minutes: never cut them at the gateway, and
                                 # wait past the gate's own deadline so that its 504 is the one a client gets
                                 "timeouts": gate_route_timeouts(timeout)}]},
                opts=pulumi.ResourceOptions(parent=self, aliases=aliases, protect=False))
        in_cluster_policy(self, router, route)
        self.endpoint = router_endpoint(service, ns, api if api is not None else checked_api, self.api_key_secret,
                                        hands_out_key(opt(a, "api_key_auth"), a.get("api_key_secret"),
                                                      a.get("api_key_map_secret")))
        self.ui_endpoint = None
        if ui:
            # its `service` resolves once the pods run the listener and its policy is there: the UI's migration Job
            # waits for it before pointing the UI at it
            self.ui_endpoint = ModelEndpoint(
                base_url=pulumi.Output.concat("http://", rolled_out, ":", str(ROUTER_UI_PORT)), api="ollama",
                namespace=ns, service=rolled_out, port=ROUTER_UI_PORT, host_header="")
        self.register_outputs({"router_service": self.router_service, "api_key_secret": self.api_key_secret,
                               "endpoint": self.endpoint, **({"ui_endpoint": self.ui_endpoint} if ui else {})})
