"""The KEDA HTTP add-on as this platform installs it (keda-add-ons-http, Observability's release): its ports and its
pods' labels, and the NetworkPolicy that opens its interceptor's proxy to a client namespace. Here, not in
Observability, so the model servers that sit behind the interceptor read them without importing the monitoring
stack."""
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from .handles import field
from .kube import allow_ingress, namespace_peer

KEDA_HTTP_RELEASE = "keda-add-ons-http"  # the HTTP add-on's release name (its chart's name too)
INTERCEPTOR_PORT = 8080  # the chart's interceptor.proxy.port
INTERCEPTOR_ADMIN_PORT = 9090  # the chart's interceptor.admin.port: the external scaler reads queue counts there
# its Prometheus /metrics, on by default (http-add-on v0.15.0 pkg/observability/config.go: OTEL_PROM_EXPORTER_PORT)
INTERCEPTOR_METRICS_PORT = 2223


# The pods of the add-on, by the labels its templates give them (keda-add-ons-http 0.15.0, interceptor/ and
# scaler/deployment.yaml with _helpers.tpl's matchLabels; tests/upstream/recipes/keda-add-ons-http-pod-labels.txt)
def _add_on_pod_labels(component: str) -> dict[str, str]:
    return {"app.kubernetes.io/component": component, "app.kubernetes.io/name": "http-add-on",
            "app.kubernetes.io/instance": KEDA_HTTP_RELEASE}


INTERCEPTOR_POD_LABELS, SCALER_POD_LABELS = _add_on_pod_labels("interceptor"), _add_on_pod_labels("scaler")


def interceptor_pod_labels(keda: Any) -> pulumi.Input[dict[str, str]]:
    """The labels of the interceptor pods of `keda` (a KedaEndpoints): its own, else those Observability's release
    gives them."""
    return field(keda, "interceptor_pod_labels", INTERCEPTOR_POD_LABELS)


def interceptor_clients(resource_name: str, keda: Any, namespace: pulumi.Input[str], apps: list[str],
                        opts: pulumi.ResourceOptions) -> k8s.networking.v1.NetworkPolicy:
    """Let the pods of `namespace` named one of `apps` (app.kubernetes.io/name) call the KEDA HTTP interceptor's proxy
    port: a NetworkPolicy in KEDA's namespace (`keda`: Observability's handle), one per client namespace, beside the
    interceptor-ingress policy that isolates the interceptor pods (policies add up)."""
    named = k8s.meta.v1.LabelSelectorArgs(match_expressions=[k8s.meta.v1.LabelSelectorRequirementArgs(
        key="app.kubernetes.io/name", operator="In", values=apps)])
    return allow_ingress(
        resource_name, pulumi.Output.concat("interceptor-from-", namespace), field(keda, "namespace"),
        interceptor_pod_labels(keda), field(keda, "interceptor_port"), [namespace_peer(namespace, named)], opts)
