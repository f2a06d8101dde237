"""AppNamespace: the namespace an application runs in, with its Pod Security level enforced, its pods kept off the
node's metadata service and wireserver (kube.egress_guard), optionally denied every ingress no other policy admits
and, given a route target, the label that lets its HTTPRoutes attach to the platform's Gateways."""
from typing import Optional, TypedDict

import pulumi
import pulumi_kubernetes as k8s
from typing_extensions import NotRequired

from . import PACKAGE
from .defaults import defaults_for
from .checks import called_as_documented, check_shape
from .handles import RouteTarget, field
from .kube import egress_guard, namespace, require_kubernetes_provider

opt = defaults_for("AppNamespace")  # optional inputs: the caller's value, else the default
# its own name: an InferenceStack in the namespace adds its `egress-guard` (the same rules; policies add up)
NAMESPACE_EGRESS_GUARD = "namespace-egress-guard"


class AppNamespaceArgs(TypedDict):
    """Inputs of AppNamespace."""

    namespace: str
    """Namespace name (a DNS label)."""
    pod_security: NotRequired[Optional[str]]
    """Pod Security Admission level enforced: restricted, baseline or privileged (default baseline)."""
    route_target: NotRequired[Optional[pulumi.Input[RouteTarget]]]
    """Gateways the namespace's HTTPRoutes may attach to (GatewayAccess's `route_target`)."""
    egress_guard: NotRequired[Optional[bool]]
    """A NetworkPolicy keeping every pod of the namespace off the node's metadata service (169.254.169.254, where
    the kubelet identity's tokens are) and the Azure wireserver (168.63.129.16); every pod of the cluster and every
    other address stay reachable. Under Cilium it also cuts the nodes' own addresses (the kubelet, host-network
    agents), and a pod with `dnsPolicy: Default` resolves through the wireserver: false for an application that
    needs one of them (default true). Policies add up: while it stands, an egress default-deny of your own in the
    namespace holds back nothing else; false for egress rules of your own (which then need the cluster DNS too)."""
    deny_ingress: NotRequired[Optional[bool]]
    """A default-deny ingress NetworkPolicy (`default-deny-ingress`): a pod of the namespace takes only what another
    policy admits (an OpenWebUi's own policies admit its callers), so a pod without one (a Job's) takes nothing
    (default false)."""


@called_as_documented
class AppNamespace(pulumi.ComponentResource):
    """A namespace for an application, Pod Security enforced, its pods kept off the node's metadata service,
    optionally allowed to publish routes."""

    namespace: pulumi.Output[str]
    """Name of the namespace, once it exists."""

    def __init__(self, name: str, args: AppNamespaceArgs, opts: Optional[pulumi.ResourceOptions] = None):
        args = check_shape("AppNamespace", name, args, AppNamespaceArgs)
        level = opt(args, "pod_security")
        require_kubernetes_provider(opts, "AppNamespace", name)
        super().__init__(f"{PACKAGE}:index:AppNamespace", name, None, opts)
        target = args.get("route_target")
        route_labels: pulumi.Input[dict[str, str]] = field(target, "routes_label") if target else {}
        created = namespace(f"{name}-ns", args["namespace"], level, pulumi.ResourceOptions(parent=self),
                            route_labels)
        self.namespace = created.metadata.name
        if opt(args, "egress_guard"):  # AKS: "all pods ... can access the IMDS endpoint" unless something stops them
            egress_guard(f"{name}-egress-guard", self.namespace, pulumi.ResourceOptions(parent=self),
                         policy_name=NAMESPACE_EGRESS_GUARD)
        if opt(args, "deny_ingress"):
            k8s.networking.v1.NetworkPolicy(
                f"{name}-default-deny", metadata=k8s.meta.v1.ObjectMetaArgs(name="default-deny-ingress",
                                                                         namespace=self.namespace),
                spec=k8s.networking.v1.NetworkPolicySpecArgs(pod_selector=k8s.meta.v1.LabelSelectorArgs(),
                                                             policy_types=["Ingress"]),
                opts=pulumi.ResourceOptions(parent=self))
        self.register_outputs({"namespace": self.namespace})
