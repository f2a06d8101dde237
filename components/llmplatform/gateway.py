"""GatewayAccess: the Kubernetes Gateway API served by Istio (its gateway controller only, no sidecars), with an
internal listener on a private Azure load balancer and an external one on a static public IP, gateway pods on CPU
nodes only, and optional TLS from Let's Encrypt through cert-manager.

Istio is the implementation llm-d's InferencePool works with on AKS, so the same Gateways serve llm-d later.
"""
import json
from typing import Any, Mapping, Optional, TypedDict

import pulumi
import pulumi_kubernetes as k8s
from pulumi_azure_native import authorization, network
from typing_extensions import NotRequired

from .pins import CERT_MANAGER, GATEWAY_API_CRDS_URL, INFERENCE_EXTENSION_CRDS_URL, ISTIO_BASE, ISTIOD

from . import PACKAGE, azure_names
from .azure_roles import NETWORK_CONTRIBUTOR, READER, builtin_role
from .defaults import defaults_for, or_default
from .checks import (CLUSTER_SUBNET_FIELDS, after_check, called_as_documented, check_shape, given_once_resolved,
                     late_rules)
from .handles import ClusterHandle, RouteTarget, field, order_of, value_alone
from .kube import cpu_placement, egress_guard, helm_release, namespace, require_kubernetes_provider

opt = defaults_for("GatewayAccess")  # optional inputs: the caller's value, else the default

GATEWAY_CLASS = "istio"
ROUTES_LABEL = "llm-platform/gateway-routes"  # namespaces allowed to attach routes carry this label = "true"
UI_LISTENER, API_LISTENER, LLMD_LISTENER = "ui", "api", "llmd"
UI_PORT, API_PORT, LLMD_PORT = 80, 8080, 8000
LLMD_TLS_PORT = 8444
PLAIN_PORTS = {UI_LISTENER: UI_PORT, API_LISTENER: API_PORT, LLMD_LISTENER: LLMD_PORT}  # listener -> its port
TLS_PORTS = {UI_LISTENER: 443, API_LISTENER: 8443, LLMD_LISTENER: LLMD_TLS_PORT}  # ... with TLS
ACME_GATEWAY = "acme-gateway"  # behind Front Door with TLS: port 80 for the HTTP-01 challenge only, from anywhere
ACME_CHALLENGE_PATHS = "/.well-known/acme-challenge/*"  # RFC 8555 8.3: where the CA fetches the key authorization
ACME_SERVICE_OVERLAY = "acme-gateway-service"  # the ConfigMap the ACME Gateway's parametersRef names
ISTIO_STATUS_PORT = 15021  # on every Service Istio generates for a Gateway (deploymentcontroller extractServicePorts)
INFERENCE_EXTENSION_FLAG = "ENABLE_GATEWAY_API_INFERENCE_EXTENSION"  # istiod: program InferencePool backends
TLS_SECRET = "gateway-tls"
ISTIO_SYSTEM_POD_SECURITY = "restricted"  # istiod with the seccomp profile istiod_values gives it
FRONT_DOOR_ID_HEADER = "X-Azure-FDID"  # Front Door sets it on what it forwards to an origin (its profile's ID)


class GatewayAccessArgs(TypedDict):
    """Inputs of GatewayAccess."""

    cluster: pulumi.Input[ClusterHandle]
    """The cluster (gateway pods go to its CPU pool; the public IP to its group, region and zones)."""
    name_prefix: NotRequired[Optional[str]]
    """Start of the Azure and namespace names (<prefix>-gateway, pip-<prefix>-gateway; default: the name)."""
    internal: NotRequired[Optional[bool]]
    """An internal Gateway on a private Azure load balancer (default True)."""
    external: NotRequired[Optional[bool]]
    """An external Gateway on a static public IP (default True)."""
    internal_ip: NotRequired[Optional[str]]
    """Fixed private IPv4 address of the internal load balancer, in the cluster's node subnet and none of the five
    addresses Azure reserves in it (default: one Azure picks)."""
    replicas: NotRequired[Optional[int]]
    """Gateway and istiod replicas (default 1)."""
    tls_mode: NotRequired[Optional[str]]
    """none or letsencrypt (default none); letsencrypt needs the external Gateway, tls_hostname and tls_email."""
    tls_hostname: NotRequired[Optional[str]]
    """DNS name the certificate is for."""
    tls_email: NotRequired[Optional[str]]
    """ACME account e-mail."""
    inference_extension: NotRequired[Optional[bool]]
    """Install the Gateway API Inference Extension CRDs (InferencePool) and turn on Istio's support for them, plus
    an `llmd` listener for LlmdStack (default False)."""
    allowed_service_tags: NotRequired[Optional[list[str]]]
    """Azure service tags the external gateway's load balancer admits, nothing else (e.g. AzureFrontDoor.Backend
    behind Azure Front Door); default: any source."""
    front_door_id: NotRequired[Optional[pulumi.Input[str]]]
    """Behind Azure Front Door: the profile's Front Door ID (a GUID). The external gateway then serves only requests
    whose X-Azure-FDID header carries it (an Istio AuthorizationPolicy on the external Gateway), plus the
    front_door_probe_paths. "" (the ID is not known yet) serves nothing. The internal Gateway, which Front Door never
    reaches, then refuses every request carrying that header (a caller's own: the API gates would key it on the
    client it names). Default: no header check."""
    front_door_probe_paths: NotRequired[Optional[list[str]]]
    """Paths Front Door's health probes use (GET or HEAD), let through without the header (its probes are not
    documented to carry it); only with front_door_id."""
    tags: NotRequired[Optional[Mapping[str, pulumi.Input[str]]]]
    """Azure tags."""


def front_door_policy(gateway: str, front_door_id: str, probe_paths: list[str]) -> dict[str, Any]:
    """The spec of an Istio AuthorizationPolicy (security.istio.io/v1) that lets only one Front Door profile through
    the external Gateway: ALLOW rules (anything they do not match is refused with 403) for requests whose
    X-Azure-FDID is that profile's ID, and for GET/HEAD on the health probe paths. Attached to the Gateway by
    `targetRefs`: Istio 1.30 ignores a selector-based policy on a Gateway API gateway's pods (policyattachment.go,
    ShouldAttachPolicy). An empty ID (not known yet) leaves no rule: Istio's allow-nothing policy."""
    rules: list[dict[str, Any]] = []
    if front_door_id:
        # Envoy compares the value exactly and case-sensitively (Istio's matcher.HeaderMatcher): Azure's own spelling
        rules.append({"when": [{"key": f"request.headers[{FRONT_DOOR_ID_HEADER}]",
                                "values": sorted({front_door_id, front_door_id.lower()})}]})
        if probe_paths:
            rules.append({"to": [{"operation": {"methods": ["GET", "HEAD"], "paths": sorted(set(probe_paths))}}]})
    return {"targetRefs": [{"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": gateway}],
            "action": "ALLOW", "rules": rules}


def no_front_door_id_policy(gateway: str) -> dict[str, Any]:
    """The spec of an Istio AuthorizationPolicy that refuses (403) every request carrying X-Azure-FDID, whatever its
    value, empty included: for the internal Gateway behind Front Door, which Front Door never reaches (the header is
    a caller's own) and which checks no header, so the API gates never take a request through it for Front Door's
    and key it on the client it names (api_router's FRONT_DOOR_CLIENT). A DENY policy only refuses what it matches
    (Istio builds its DENY filter before the ALLOW one and, with no ALLOW policy on the Gateway, no ALLOW filter);
    "*" is Istio's presence match (matcher.HeaderMatcher: PresentMatch). Attached by `targetRefs`, as
    front_door_policy."""
    return {"targetRefs": [{"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": gateway}],
            "action": "DENY",
            "rules": [{"when": [{"key": f"request.headers[{FRONT_DOOR_ID_HEADER}]", "values": ["*"]}]}]}


def acme_only_policy(gateway: str) -> dict[str, Any]:
    """The spec of an Istio AuthorizationPolicy that lets only the ACME HTTP-01 challenge through a Gateway: GET/HEAD
    under /.well-known/acme-challenge/ (Let's Encrypt fetches the token there over port 80, from addresses it does
    not publish); anything else is refused with 403. Attached by `targetRefs`, as front_door_policy."""
    return {"targetRefs": [{"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": gateway}],
            "action": "ALLOW",
            "rules": [{"to": [{"operation": {"methods": ["GET", "HEAD"], "paths": [ACME_CHALLENGE_PATHS]}}]}]}


def acme_apart(tls: bool, external: bool, allowed_service_tags: tuple[str, ...], front_door: bool) -> bool:
    """The ACME challenge listener gets a Gateway (and Service) of its own on the external address: the external
    Gateway admits only some service tags (its Service's NSG rules, for every port it has) or only one Front Door's
    requests (an AuthorizationPolicy on the whole Gateway), and Let's Encrypt validates HTTP-01 on port 80 from
    addresses it does not publish. Its Service shares the static public IP (cloud-provider-azure: services naming one
    azure-pip-name share it; each gets NSG rules for its own ports and sources)."""
    return tls and external and (bool(allowed_service_tags) or front_door)


def acme_service_overlay() -> dict[str, str]:
    """The data of the ConfigMap the ACME Gateway's `infrastructure.parametersRef` names: Istio strategic-merge-patches
    its `service` over the Service it generates (istio 1.30.3 deploymentcontroller.go applyOverlay), here deleting the
    status port 15021 Istio gives every Gateway's Service. The external Gateway's Service on the same public IP has it
    too, and cloud-provider-azure refuses a Service whose port another Service's rule on the same frontend already
    takes (checkLoadBalancerResourcesConflicts): with both, one of the two never got its load-balancing rules. The
    load balancer does not need it: with externalTrafficPolicy Local it probes each Service's healthCheckNodePort."""
    return {"service": json.dumps({"spec": {"ports": [{"$patch": "delete", "port": ISTIO_STATUS_PORT}]}})}


def istiod_values(placement: dict[str, Any], replicas: int,
                  inference_extension: bool = False) -> dict[str, Any]:
    """istiod on CPU nodes; every Gateway deployment Istio generates for the `istio` class on CPU nodes too, with
    client IPs preserved (externalTrafficPolicy Local) so per-client rate limits see real addresses. With the
    inference extension, istiod accepts InferencePool backends (without the flag it rejects them)."""
    return {
        **({"env": {INFERENCE_EXTENSION_FLAG: "true"}} if inference_extension else {}),
        **placement,
        "autoscaleMin": replicas,
        "gatewayClasses": {GATEWAY_CLASS: {
            "deployment": {"spec": {"replicas": replicas, "template": {"spec": dict(placement)}}},
            "service": {"spec": {"externalTrafficPolicy": "Local"}},
        }},
        "pdb": {"minAvailable": 1},
        # istiod's container sets no seccomp profile unless given one (istio-discovery templates/deployment.yaml at
        # 1.30.3): with RuntimeDefault its pod meets Pod Security `restricted`, the level istio-system enforces
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def lb_annotations(kind: str, internal_ip: str, pip_name: "pulumi.Input[str]", pip_resource_group: "pulumi.Input[str]",
                   allowed_service_tags: tuple[str, ...] = ()) -> dict[str, Any]:
    """A Gateway's load balancer annotations, each value on its own (an address's name an output): the keys known in
    a preview, so the policy pack's prod-public-gateway-https reads that an external Gateway is not internal there too
    (a whole map made in an apply is one value not known yet: docs/decisions.md "The policy pack in a preview")."""
    if kind == "internal":
        fixed = {"service.beta.kubernetes.io/azure-load-balancer-internal": "true"}
        return {**fixed, "service.beta.kubernetes.io/azure-load-balancer-ipv4": internal_ip} if internal_ip else fixed
    # cloud-provider-azure turns azure-allowed-service-tags into NSG rules admitting only those tags' addresses
    allowed = {"service.beta.kubernetes.io/azure-allowed-service-tags": ",".join(allowed_service_tags)} \
        if allowed_service_tags else {}
    return {"service.beta.kubernetes.io/azure-pip-name": pip_name,
            "service.beta.kubernetes.io/azure-load-balancer-resource-group": pip_resource_group, **allowed}


def internal_annotations(name: str, args: Any, internal_ip: str) -> Any:
    """The internal Gateway's load balancer annotations; with a fixed address and a node subnet not known yet, they
    wait for GatewayAccess's rules to check the address against the subnet once it resolves (an address outside it,
    or one Azure reserves, is refused: input_rules.gateway_access)."""
    annotations = lb_annotations("internal", internal_ip, "", "")
    if not internal_ip:
        return annotations
    return after_check(late_rules("GatewayAccess", name, args, "cluster", CLUSTER_SUBNET_FIELDS, GatewayAccessArgs),
                       annotations)


def listeners(tls: bool, hostname: Optional[str], llmd: bool = False, acme: bool = True) -> list[dict[str, Any]]:
    """A UI listener and a raw-model-API listener (Open-WebUI owns /api/* paths, so the two are split by port), and
    the llm-d API on a port of its own when LlmdStack is in use; with TLS, the ACME challenge listener unless it is on
    a Gateway of its own (`acme` False)."""
    allowed = {"namespaces": {"from": "Selector", "selector": {"matchLabels": {ROUTES_LABEL: "true"}}}}
    out = []
    names = [UI_LISTENER, API_LISTENER] + ([LLMD_LISTENER] if llmd else [])
    for name in names:
        listener: dict[str, Any] = {"name": name, "port": PLAIN_PORTS[name], "protocol": "HTTP",
                                    "allowedRoutes": allowed}
        if tls:
            listener.update(port=TLS_PORTS[name], protocol="HTTPS",
                            tls={"mode": "Terminate", "certificateRefs": [{"kind": "Secret", "name": TLS_SECRET}]})
        if hostname:
            listener["hostname"] = hostname
        out.append(listener)
    if tls and acme:
        out.append(acme_listener())
    return out


def acme_listener() -> dict[str, Any]:
    """Plain HTTP on port 80 only for the ACME HTTP-01 challenge route, which cert-manager creates in the Challenge's
    namespace: the Certificate's, the gateways' own (Same; All would publish any namespace's route on the public IP
    without TLS)."""
    return {"name": "acme", "port": 80, "protocol": "HTTP", "allowedRoutes": {"namespaces": {"from": "Same"}}}


def endpoint_urls(address: str, tls_hostname: Optional[str]) -> tuple[str, str]:
    """(UI URL, raw model API URL) clients use: the TLS hostname when there is one, else the address."""
    if tls_hostname:
        return f"https://{tls_hostname}", f"https://{tls_hostname}:{TLS_PORTS[API_LISTENER]}"
    return f"http://{address}", f"http://{address}:{API_PORT}"


def llmd_url(address: str, tls_hostname: Optional[str]) -> str:
    """Where clients reach the llm-d API: the llmd listener of the gateway address (or the TLS hostname)."""
    return f"https://{tls_hostname}:{LLMD_TLS_PORT}" if tls_hostname else f"http://{address}:{LLMD_PORT}"


@called_as_documented
class GatewayAccess(pulumi.ComponentResource):
    """The Kubernetes Gateway API served by Istio (gateway controller only, no sidecars): an internal Gateway on a
    private Azure load balancer and an external one on a static public IP, gateway pods on CPU nodes, optional
    Let's Encrypt TLS through cert-manager. The `protect` option protects the static public IP (DNS points at it)."""

    route_target: RouteTarget
    """Where HTTPRoutes attach (namespace, Gateways, listeners); consumers wait for the Gateways through it."""
    internal_address: pulumi.Output[Optional[str]]
    """Private IP of the internal load balancer (None when disabled or picked by Azure)."""
    external_address: pulumi.Output[Optional[str]]
    """Static public IP of the external load balancer (None when disabled)."""
    ui_url: pulumi.Output[Optional[str]]
    """Where people open Open-WebUI (external gateway if enabled, else internal; None on an internal Gateway
    whose address Azure picks: give internal_ip to know it)."""
    api_url: pulumi.Output[Optional[str]]
    """Base URL of the raw model API (OpenAI-compatible under /v1, Ollama native under /api); the gateway ui_url
    is on, None when that is an internal Gateway whose address Azure picks."""
    llmd_url: pulumi.Output[Optional[str]]
    """Base URL of the llm-d API on the internal Gateway (external when there is no internal one); None without
    the inference extension, and None on an internal Gateway whose address Azure picks (the default): give
    internal_ip to know it."""

    def __init__(self, name: str, args: GatewayAccessArgs, opts: Optional[pulumi.ResourceOptions] = None):
        # its namespace is <prefix>-gateway: a Kubernetes name, lowercase
        args = check_shape("GatewayAccess", name, args, GatewayAccessArgs, prefix_rule=azure_names.name_prefix)
        tls = opt(args, "tls_mode") == "letsencrypt"
        require_kubernetes_provider(opts, "GatewayAccess", name)
        super().__init__(f"{PACKAGE}:index:GatewayAccess", name, None, opts)
        cluster = args["cluster"]
        prefix = or_default(args.get("name_prefix"), name)
        # Only the public IP takes the component's protect: everything in the cluster stays replaceable.
        k8s_opts = pulumi.ResourceOptions(parent=self, protect=False)
        placement = cpu_placement(cluster)

        inference = opt(args, "inference_extension")
        crds = k8s.yaml.v2.ConfigFile(f"{name}-gateway-api-crds", file=GATEWAY_API_CRDS_URL, opts=k8s_opts)
        crd_bundles: list[pulumi.Resource] = [crds]
        if inference:  # InferencePool CRDs exist before istiod starts watching them and before any pool
            crd_bundles.append(k8s.yaml.v2.ConfigFile(f"{name}-inference-extension-crds",
                                                      file=INFERENCE_EXTENSION_CRDS_URL, opts=k8s_opts))
        # istiod is the only pod the base and istiod charts run here (no sidecars, so no istio-cni; no ambient, so no
        # ztunnel: both would need privileged); the Gateways' pods run in the gateway namespace
        istio_ns = namespace(f"{name}-istio-ns", "istio-system", ISTIO_SYSTEM_POD_SECURITY, k8s_opts)
        # istiod and the Gateways' pods (Envoy on the public address) do not reach the node's metadata service
        egress_guard(f"{name}-istio-egress-guard", istio_ns.metadata.name, k8s_opts)
        base = helm_release(f"{name}-istio-base", ISTIO_BASE, istio_ns.metadata.name, {"defaultRevision": "default"},
                            pulumi.ResourceOptions(parent=self, protect=False, depends_on=crd_bundles), cluster=cluster)
        istiod = helm_release(f"{name}-istiod", ISTIOD, istio_ns.metadata.name,
                              placement.apply(lambda p: istiod_values(p, opt(args, "replicas"), inference)),
                              pulumi.ResourceOptions(parent=self, protect=False, depends_on=[base, *crd_bundles]),
                              cluster=cluster)
        gw_ns = namespace(f"{name}-ns", f"{prefix}-gateway", "baseline", k8s_opts)
        egress_guard(f"{name}-egress-guard", gw_ns.metadata.name, k8s_opts)
        after_istio = pulumi.ResourceOptions(parent=self, protect=False, depends_on=[istiod, crds])

        allowed = tuple(args.get("allowed_service_tags") or ())
        front_door_id = args.get("front_door_id")
        behind_front_door = front_door_id is not None  # only that profile reaches the external Gateway
        apart = acme_apart(tls, opt(args, "external"), allowed, behind_front_door)
        if tls:
            self._cert_manager(name, args, prefix, gw_ns.metadata.name, placement, after_istio,
                               ACME_GATEWAY if apart else "external-gateway")

        gateways: dict[str, k8s.apiextensions.CustomResource] = {}
        internal_ip = args.get("internal_ip") or ""
        pip: Any = None
        if opt(args, "external"):
            pip = network.PublicIPAddress(
                f"{name}-external-ip", public_ip_address_name=f"pip-{prefix}-gateway",
                resource_group_name=field(cluster, "resource_group_name"), location=field(cluster, "location"),
                sku=network.PublicIPAddressSkuArgs(name=network.PublicIPAddressSkuName.STANDARD),
                public_ip_allocation_method=network.IPAllocationMethod.STATIC,
                zones=field(cluster, "zones").apply(lambda z: list(z) or None), tags=args.get("tags", {}),
                opts=pulumi.ResourceOptions(parent=self))
        ip_grants = self._ip_grants(name, cluster, pip) if pip is not None else []
        for kind in ("internal", "external"):
            if not args.get(kind, True):
                continue
            annotations: Any = internal_annotations(name, args, internal_ip) if kind == "internal" \
                else lb_annotations("external", "", pip.name, field(cluster, "resource_group_name"), allowed)
            gateways[kind] = k8s.apiextensions.CustomResource(
                f"{name}-{kind}",
                api_version="gateway.networking.k8s.io/v1",
                kind="Gateway",
                metadata=k8s.meta.v1.ObjectMetaArgs(name=f"{kind}-gateway", namespace=gw_ns.metadata.name),
                spec={
                    "gatewayClassName": GATEWAY_CLASS,
                    "infrastructure": {"annotations": annotations},
                    "listeners": listeners(tls, args.get("tls_hostname"), inference,
                                           acme=not (apart and kind == "external")),
                },
                # the external load balancer is built once the cluster's identity may use the address
                opts=pulumi.ResourceOptions.merge(after_istio, pulumi.ResourceOptions(
                    depends_on=ip_grants if kind == "external" else [])))
        names = [f"{kind}-gateway" for kind in gateways]
        if front_door_id is not None:  # behind_front_door, as a type checker reads it
            k8s.apiextensions.CustomResource(
                f"{name}-front-door-only", api_version="security.istio.io/v1", kind="AuthorizationPolicy",
                metadata=k8s.meta.v1.ObjectMetaArgs(name="front-door-only", namespace=gw_ns.metadata.name),
                spec=pulumi.Output.from_input(front_door_id).apply(  # the profile's frontDoorId, an output
                    lambda fdid: front_door_policy("external-gateway", fdid,
                                                   list(args.get("front_door_probe_paths") or []))),
                opts=pulumi.ResourceOptions(parent=self, protect=False, depends_on=[base, gateways["external"]]))
            if "internal" in gateways:  # a caller's own X-Azure-FDID never reaches the gates through it
                k8s.apiextensions.CustomResource(
                    f"{name}-internal-no-front-door-id", api_version="security.istio.io/v1",
                    kind="AuthorizationPolicy",
                    metadata=k8s.meta.v1.ObjectMetaArgs(name="internal-no-front-door-id",
                                                        namespace=gw_ns.metadata.name),
                    spec=no_front_door_id_policy("internal-gateway"),
                    opts=pulumi.ResourceOptions(parent=self, protect=False, depends_on=[base, gateways["internal"]]))
        if apart:  # the ACME challenge from anywhere on port 80 of the external address, and nothing else
            self._acme_gateway(name, gw_ns.metadata.name, pip, cluster, after_istio, ip_grants, base)
        ready = [*crd_bundles, istiod, *gateways.values()]
        redirected = [g for g in names if not (apart and g == "external-gateway")]  # the gateways with `acme`
        if tls and redirected:  # plain HTTP on port 80 answers with a redirect to HTTPS (the ACME challenge route
            # is more specific); not on the ACME Gateway: its HTTPS address admits only Front Door
            k8s.apiextensions.CustomResource(
                f"{name}-https-redirect", api_version="gateway.networking.k8s.io/v1", kind="HTTPRoute",
                metadata=k8s.meta.v1.ObjectMetaArgs(name="https-redirect", namespace=gw_ns.metadata.name),
                spec={"parentRefs": [{"name": g, "sectionName": "acme"} for g in redirected],
                      "rules": [{"filters": [{"type": "RequestRedirect",
                                              "requestRedirect": {"scheme": "https", "statusCode": 301}}]}]},
                opts=pulumi.ResourceOptions(parent=self, protect=False, depends_on=ready))
        # Routes that take this target wait for the CRDs, istiod and the Gateways (data dependencies).
        waited = pulumi.Output.all(gw_ns.metadata.name, *[c.urn for c in crd_bundles], istiod.status,
                                   *[g.id for g in gateways.values()])
        self.route_target = RouteTarget(
            namespace=waited.apply(lambda v: v[0]), gateway_names=waited.apply(lambda _: names),
            ui_listener=UI_LISTENER, api_listener=API_LISTENER, llmd_listener=LLMD_LISTENER if inference else "",
            routes_label={ROUTES_LABEL: "true"}, front_door=behind_front_door)
        self.internal_address = pulumi.Output.from_input(internal_ip or None if "internal" in gateways else None)
        self.external_address = pip.ip_address if pip is not None else pulumi.Output.from_input(None)
        address = self.external_address if pip is not None else self.internal_address
        urls = pulumi.Output.from_input(address).apply(
            lambda a: endpoint_urls(a, args.get("tls_hostname") if tls else None) if a else (None, None))
        self.ui_url = urls.apply(lambda u: u[0])
        self.api_url = urls.apply(lambda u: u[1])
        llmd_address = self.internal_address if "internal" in gateways else self.external_address
        self.llmd_url = pulumi.Output.from_input(llmd_address).apply(
            lambda a: llmd_url(a, args.get("tls_hostname") if tls else None) if a and inference else None)
        self.register_outputs({"route_target": self.route_target, "internal_address": self.internal_address,
                               "external_address": self.external_address, "ui_url": self.ui_url,
                               "api_url": self.api_url, "llmd_url": self.llmd_url})

    def _ip_grants(self, name: str, cluster: Any, pip: network.PublicIPAddress) -> list[pulumi.Resource]:
        """What AKS's cloud provider needs to put the external Gateway's load balancer on our static public IP (the
        Service names it with azure-pip-name in azure-load-balancer-resource-group): it LISTs the public IPs of that
        group to find it (cloud-provider-azure pkg/provider/azure_publicip_repo.go: newPIPCache lists
        `PublicIPAddressClient().List(pipResourceGroup)`, getPublicIPAddress reads that list), so Reader on the group,
        which changes nothing; and it reads, updates (tags) and joins the address itself, so Network Contributor on
        the address alone. None when the cluster handle does not name its identity (a handle built by hand)."""
        if isinstance(cluster, Mapping) and "identity_principal_id" not in cluster:
            return []
        # an output (the handle, or the field): known once it resolves; the grants are built by then
        principal = field(cluster, "identity_principal_id", None)
        if isinstance(principal, pulumi.Output):
            principal = given_once_resolved(
                f"GatewayAccess {name}", "cluster.identity_principal_id", principal,
                "the cluster identity's principal ID (AksCluster's handle carries it), or a handle without the field "
                "(then grant that identity Network Contributor on the public IP by hand)")
        # the group's id, which the address replaced under its name (a new zone list, deleted first) keeps: the
        # value alone in the scope (force-new), the address in the order, or the engine's chain (pulumi/pulumi
        # 1b5949891b step_generator.go calculateDependentReplacements) replaced the group's grant with the address
        group = pip.id.apply(lambda i: i.split("/providers/")[0])
        # not the component's protect (the address's alone): the principal is the cluster's system-assigned identity
        # (force-new), so a cluster made again replaces both, as a protected state would refuse
        return [authorization.RoleAssignment(
                    f"{name}-{suffix}", principal_id=principal,
                    principal_type=authorization.PrincipalType.SERVICE_PRINCIPAL,
                    role_definition_id=builtin_role(role, self), scope=scope,
                    opts=pulumi.ResourceOptions(parent=self, protect=False, depends_on=after))
                for suffix, role, scope, after in (("ip-group-reader", READER, value_alone(group), [order_of(group)]),
                                                   ("ip-network", NETWORK_CONTRIBUTOR, pip.id, None))]

    def _acme_gateway(self, name: str, namespace: pulumi.Output[str], pip: Any, cluster: Any,
                      after_istio: pulumi.ResourceOptions, ip_grants: list[pulumi.Resource],
                      base: pulumi.Resource) -> None:
        """A Gateway with the `acme` listener alone, its load balancer Service on the external Gateway's static public
        IP (same azure-pip-name) admitting any source on port 80 alone (acme_service_overlay), and a policy letting
        only the challenge path through."""
        annotations = lb_annotations("external", "", pip.name, field(cluster, "resource_group_name"))
        overlay = k8s.core.v1.ConfigMap(
            f"{name}-acme-service", metadata=k8s.meta.v1.ObjectMetaArgs(name=ACME_SERVICE_OVERLAY, namespace=namespace),
            data=acme_service_overlay(), opts=pulumi.ResourceOptions(parent=self, protect=False))
        gateway = k8s.apiextensions.CustomResource(
            f"{name}-acme", api_version="gateway.networking.k8s.io/v1", kind="Gateway",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=ACME_GATEWAY, namespace=namespace),
            spec={"gatewayClassName": GATEWAY_CLASS,
                  "infrastructure": {"annotations": annotations, "parametersRef": {
                      "group": "", "kind": "ConfigMap", "name": ACME_SERVICE_OVERLAY}},
                  "listeners": [acme_listener()]},
            # Istio renders nothing for a Gateway whose parametersRef names a ConfigMap it cannot find
            opts=pulumi.ResourceOptions.merge(after_istio, pulumi.ResourceOptions(depends_on=[*ip_grants, overlay])))
        k8s.apiextensions.CustomResource(
            f"{name}-acme-only", api_version="security.istio.io/v1", kind="AuthorizationPolicy",
            metadata=k8s.meta.v1.ObjectMetaArgs(name="acme-only", namespace=namespace),
            spec=acme_only_policy(ACME_GATEWAY),
            opts=pulumi.ResourceOptions(parent=self, protect=False, depends_on=[base, gateway]))

    def _cert_manager(self, name: str, args: GatewayAccessArgs, prefix: str, gw_namespace: pulumi.Output[str],
                      placement: pulumi.Output[dict[str, Any]], after_istio: pulumi.ResourceOptions,
                      solver_gateway: str) -> None:
        cm_ns = namespace(f"{name}-cert-manager-ns", "cert-manager", "restricted",
                          pulumi.ResourceOptions(parent=self, protect=False))
        egress_guard(f"{name}-cert-manager-egress-guard", cm_ns.metadata.name,
                     pulumi.ResourceOptions(parent=self, protect=False))
        release = helm_release(
            f"{name}-cert-manager", CERT_MANAGER, cm_ns.metadata.name,
            placement.apply(lambda p: {
                "crds": {"enabled": True}, **p,
                "config": {"apiVersion": "controller.config.cert-manager.io/v1alpha1",
                           "kind": "ControllerConfiguration", "enableGatewayAPI": True}}),
            pulumi.ResourceOptions(parent=self, protect=False, depends_on=after_istio.depends_on),
            cluster=args["cluster"])
        after = pulumi.ResourceOptions(parent=self, protect=False, depends_on=[release])
        issuer = k8s.apiextensions.CustomResource(
            f"{name}-letsencrypt", api_version="cert-manager.io/v1", kind="ClusterIssuer",
            metadata=k8s.meta.v1.ObjectMetaArgs(name="letsencrypt"),
            spec={"acme": {
                "server": "https://acme-v02.api.letsencrypt.org/directory",
                "email": args.get("tls_email"),
                "privateKeySecretRef": {"name": "letsencrypt-account-key"},
                "solvers": [{"http01": {"gatewayHTTPRoute": {"parentRefs": [
                    {"name": solver_gateway, "namespace": f"{prefix}-gateway",
                     "kind": "Gateway", "sectionName": "acme"}]}}}],
            }},
            opts=after)
        k8s.apiextensions.CustomResource(
            f"{name}-certificate", api_version="cert-manager.io/v1", kind="Certificate",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=TLS_SECRET, namespace=gw_namespace),
            spec={"secretName": TLS_SECRET, "dnsNames": [args.get("tls_hostname")],
                  "issuerRef": {"name": "letsencrypt", "kind": "ClusterIssuer", "group": "cert-manager.io"},
                  "privateKey": {"algorithm": "ECDSA", "size": 256, "rotationPolicy": "Always"}},
            opts=pulumi.ResourceOptions(parent=self, protect=False, depends_on=[issuer]))
