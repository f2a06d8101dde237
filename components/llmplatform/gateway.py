"""GatewayAccess: the Kubernetes Gateway API served by Istio (its gateway controller only, no sidecars), with an
internal listener on a private Azure load balancer and an external one on a static public IP, gateway pods on CPU
nodes only, and optional TLS from Let's Encrypt through cert-manager.

Istio is the implementation llm-d's InferencePool works with on AKS, so the same Gateways serve llm-d later.
"""
from __future__ import annotations

from typing import Any, Optional, TypedDict

import pulumi
import pulumi_kubernetes as k8s
from pulumi_azure_native import network
from typing_extensions import NotRequired

from .pins import CERT_MANAGER, GATEWAY_API_CRDS_URL, ISTIO_BASE, ISTIOD

from . import PACKAGE
from .kube import helm_release, namespace

GATEWAY_CLASS = "istio"
ROUTES_LABEL = "llm-platform/gateway-routes"  # namespaces allowed to attach routes carry this label = "true"
UI_LISTENER, API_LISTENER = "ui", "api"
UI_PORT, API_PORT = 80, 8080
TLS_SECRET = "gateway-tls"


class GatewayAccessArgs(TypedDict):
    kubernetes_provider: k8s.Provider
    cpu_node_selector: dict[str, str]
    location: str
    resource_group_name: pulumi.Input[str]
    name_prefix: str
    internal: NotRequired[bool]
    external: NotRequired[bool]
    internal_ip: NotRequired[str]
    replicas: NotRequired[int]
    zones: NotRequired[list[str]]
    tls_mode: NotRequired[str]  # none | letsencrypt
    tls_hostname: NotRequired[Optional[str]]
    tls_email: NotRequired[Optional[str]]
    protect: NotRequired[bool]  # keep the static public IP (DNS points at it)
    tags: NotRequired[dict[str, str]]


def istiod_values(node_selector: dict[str, str], replicas: int) -> dict[str, Any]:
    """istiod on CPU nodes; every Gateway deployment Istio generates for the `istio` class on CPU nodes too, with
    client IPs preserved (externalTrafficPolicy Local) so per-client rate limits see real addresses."""
    return {
        "nodeSelector": node_selector,
        "autoscaleMin": replicas,
        "gatewayClasses": {GATEWAY_CLASS: {
            "deployment": {"spec": {"replicas": replicas, "template": {"spec": {"nodeSelector": node_selector}}}},
            "service": {"spec": {"externalTrafficPolicy": "Local"}},
        }},
        "pdb": {"minAvailable": 1},
    }


def lb_annotations(kind: str, internal_ip: str, pip_name: str, pip_resource_group: str) -> dict[str, str]:
    if kind == "internal":
        return {"service.beta.kubernetes.io/azure-load-balancer-internal": "true",
                "service.beta.kubernetes.io/azure-load-balancer-ipv4": internal_ip}
    return {"service.beta.kubernetes.io/azure-pip-name": pip_name,
            "service.beta.kubernetes.io/azure-load-balancer-resource-group": pip_resource_group}


def listeners(tls: bool, hostname: Optional[str]) -> list[dict[str, Any]]:
    """A UI listener and a raw-model-API listener (Open-WebUI owns /api/* paths, so the two are split by port)."""
    allowed = {"namespaces": {"from": "Selector", "selector": {"matchLabels": {ROUTES_LABEL: "true"}}}}
    out = []
    for name, port in ((UI_LISTENER, UI_PORT), (API_LISTENER, API_PORT)):
        listener: dict[str, Any] = {"name": name, "port": port, "protocol": "HTTP", "allowedRoutes": allowed}
        if tls:
            listener.update(port=443 if name == UI_LISTENER else 8443, protocol="HTTPS",
                            tls={"mode": "Terminate", "certificateRefs": [{"kind": "Secret", "name": TLS_SECRET}]})
        if hostname:
            listener["hostname"] = hostname
        out.append(listener)
    if tls:  # plain HTTP stays open on port 80 only for the ACME HTTP-01 challenge route
        out.append({"name": "acme", "port": 80, "protocol": "HTTP", "allowedRoutes": {"namespaces": {"from": "All"}}})
    return out


def endpoint_urls(address: str, tls_hostname: Optional[str]) -> tuple[str, str]:
    """(UI URL, raw model API URL) clients use: the TLS hostname when there is one, else the address."""
    if tls_hostname:
        return f"https://{tls_hostname}", f"https://{tls_hostname}:8443"
    return f"http://{address}", f"http://{address}:{API_PORT}"


class GatewayAccess(pulumi.ComponentResource):
    namespace: pulumi.Output[str]
    """Namespace of the Gateways."""
    gateways: dict[str, str]
    """Enabled Gateways by kind ('internal', 'external') -> Gateway name."""
    internal_address: Optional[str]
    """Private IP of the internal load balancer (None when disabled)."""
    external_address: Optional[pulumi.Output[str]]
    """Static public IP of the external load balancer (None when disabled)."""
    ui_url: Optional[pulumi.Output[str]]
    """Where people open Open-WebUI (external gateway if enabled, else internal)."""
    api_url: Optional[pulumi.Output[str]]
    """Base URL of the raw model API (OpenAI-compatible under /v1, Ollama native under /api)."""
    routes_label: dict[str, str]
    """Label a namespace needs before its HTTPRoutes may attach."""
    ready: list[pulumi.Resource]
    """Resources routes must wait for (Gateway API CRDs and the Gateways)."""

    def __init__(self, name: str, args: GatewayAccessArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__(f"{PACKAGE}:index:GatewayAccess", name, None, opts)
        provider = args["kubernetes_provider"]
        k8s_opts = pulumi.ResourceOptions(parent=self, provider=provider)
        tls = args.get("tls_mode", "none") == "letsencrypt"
        node_selector = args["cpu_node_selector"]

        crds = k8s.yaml.v2.ConfigFile(f"{name}-gateway-api-crds", file=GATEWAY_API_CRDS_URL, opts=k8s_opts)
        istio_ns = namespace(f"{name}-istio-ns", "istio-system", "privileged", k8s_opts)
        base = helm_release(f"{name}-istio-base", ISTIO_BASE, istio_ns.metadata.name, {"defaultRevision": "default"},
                            pulumi.ResourceOptions(parent=self, provider=provider, depends_on=[crds]))
        istiod = helm_release(f"{name}-istiod", ISTIOD, istio_ns.metadata.name,
                              istiod_values(node_selector, args.get("replicas", 1)),
                              pulumi.ResourceOptions(parent=self, provider=provider, depends_on=[base]))
        gw_ns = namespace(f"{name}-ns", f"{args['name_prefix']}-gateway", "baseline", k8s_opts)
        after_istio = pulumi.ResourceOptions(parent=self, provider=provider, depends_on=[istiod, crds])

        self.ready = [crds, istiod]
        if tls:
            self._cert_manager(name, args, gw_ns.metadata.name, k8s_opts, after_istio)

        self.gateways = {}
        self.internal_address = None
        self.external_address = None
        pip = None
        if args.get("external", True):
            pip = network.PublicIPAddress(
                f"{name}-external-ip", public_ip_address_name=f"pip-{args['name_prefix']}-gateway",
                resource_group_name=args["resource_group_name"], location=args["location"],
                sku=network.PublicIPAddressSkuArgs(name=network.PublicIPAddressSkuName.STANDARD),
                public_ip_allocation_method=network.IPAllocationMethod.STATIC,
                zones=args.get("zones") or None, tags=args.get("tags", {}),
                opts=pulumi.ResourceOptions(parent=self, protect=args.get("protect", False)))
            self.external_address = pip.ip_address
        for kind in ("internal", "external"):
            if not args.get(kind, True):
                continue
            gateway_name = f"{kind}-gateway"
            annotations: Any = lb_annotations(kind, args.get("internal_ip", ""), "", "") if kind == "internal" \
                else pulumi.Output.all(pip.name, args["resource_group_name"]).apply(
                    lambda v: lb_annotations("external", "", v[0], v[1]))
            gateway = k8s.apiextensions.CustomResource(
                f"{name}-{kind}",
                api_version="gateway.networking.k8s.io/v1",
                kind="Gateway",
                metadata=k8s.meta.v1.ObjectMetaArgs(name=gateway_name, namespace=gw_ns.metadata.name),
                spec={
                    "gatewayClassName": GATEWAY_CLASS,
                    "infrastructure": {"annotations": annotations},
                    "listeners": listeners(tls, args.get("tls_hostname")),
                },
                opts=after_istio)
            self.gateways[kind] = gateway_name
            self.ready.append(gateway)
            if kind == "internal":
                self.internal_address = args.get("internal_ip")
        if tls:  # plain HTTP on port 80 answers with a redirect to HTTPS (the ACME challenge route is more specific)
            k8s.apiextensions.CustomResource(
                f"{name}-https-redirect", api_version="gateway.networking.k8s.io/v1", kind="HTTPRoute",
                metadata=k8s.meta.v1.ObjectMetaArgs(name="https-redirect", namespace=gw_ns.metadata.name),
                spec={"parentRefs": [{"name": g, "sectionName": "acme"} for g in self.gateways.values()],
                      "rules": [{"filters": [{"type": "RequestRedirect",
                                              "requestRedirect": {"scheme": "https", "statusCode": 301}}]}]},
                opts=pulumi.ResourceOptions(parent=self, provider=provider, depends_on=self.ready))
        self.namespace = gw_ns.metadata.name
        address = self.external_address if self.external_address is not None else self.internal_address
        urls = None if address is None else pulumi.Output.from_input(address).apply(
            lambda a: endpoint_urls(a, args.get("tls_hostname") if tls else None))
        self.ui_url = urls.apply(lambda u: u[0]) if urls is not None else None
        self.api_url = urls.apply(lambda u: u[1]) if urls is not None else None
        self.routes_label = {ROUTES_LABEL: "true"}
        self.register_outputs({"namespace": self.namespace, "gateways": self.gateways,
                               "internal_address": self.internal_address,
                               "external_address": self.external_address, "ui_url": self.ui_url,
                               "api_url": self.api_url})

    def _cert_manager(self, name: str, args: GatewayAccessArgs, gw_namespace: pulumi.Output[str],
                      k8s_opts: pulumi.ResourceOptions, after_istio: pulumi.ResourceOptions) -> None:
        provider = args["kubernetes_provider"]
        cm_ns = namespace(f"{name}-cert-manager-ns", "cert-manager", "restricted", k8s_opts)
        release = helm_release(
            f"{name}-cert-manager", CERT_MANAGER, cm_ns.metadata.name,
            {"crds": {"enabled": True}, "nodeSelector": args["cpu_node_selector"],
             "config": {"apiVersion": "controller.config.cert-manager.io/v1alpha1", "kind": "ControllerConfiguration",
                        "enableGatewayAPI": True}},
            pulumi.ResourceOptions(parent=self, provider=provider, depends_on=after_istio.depends_on))
        after = pulumi.ResourceOptions(parent=self, provider=provider, depends_on=[release])
        issuer = k8s.apiextensions.CustomResource(
            f"{name}-letsencrypt", api_version="cert-manager.io/v1", kind="ClusterIssuer",
            metadata=k8s.meta.v1.ObjectMetaArgs(name="letsencrypt"),
            spec={"acme": {
                "server": "https://acme-v02.api.letsencrypt.org/directory",
                "email": args.get("tls_email"),
                "privateKeySecretRef": {"name": "letsencrypt-account-key"},
                "solvers": [{"http01": {"gatewayHTTPRoute": {"parentRefs": [
                    {"name": "external-gateway", "namespace": f"{args['name_prefix']}-gateway",
                     "kind": "Gateway", "sectionName": "acme"}]}}}],
            }},
            opts=after)
        k8s.apiextensions.CustomResource(
            f"{name}-certificate", api_version="cert-manager.io/v1", kind="Certificate",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=TLS_SECRET, namespace=gw_namespace),
            spec={"secretName": TLS_SECRET, "dnsNames": [args.get("tls_hostname")],
                  "issuerRef": {"name": "letsencrypt", "kind": "ClusterIssuer", "group": "cert-manager.io"},
                  "privateKey": {"algorithm": "ECDSA", "size": 256, "rotationPolicy": "Always"}},
            opts=pulumi.ResourceOptions(parent=self, provider=provider, depends_on=[issuer]))
