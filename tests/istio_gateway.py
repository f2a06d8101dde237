"""The Service Istio generates for a Gateway of its `istio` class, derived the way istiod 1.30.3 derives it, so the
tests check what lands in the cluster rather than what we annotate.

Transcribed from istio/istio at tag 1.30.3:
- pilot/pkg/config/kube/gatewaycommon/deploymentcontroller.go: the Service type comes from the Gateway's
  `metadata.annotations["networking.istio.io/service-type"]`, else the class's DefaultServiceType (classinfo.go:
  LoadBalancer for `istio`); the Service's annotations are `spec.infrastructure.annotations` when set, else the
  Gateway's own annotations; ports are the status port 15021 and each distinct listener port (extractServicePorts);
  overlays are the class's ConfigMap (label `gateway.istio.io/defaults-for-class`, rendered by istiod's chart from
  `gatewayClasses`), then the ConfigMap `spec.infrastructure.parametersRef` names (core group, same namespace, must
  exist), each strategic-merge-patched in that order; an overlay key outside deployment/service/serviceAccount/
  horizontalPodAutoscaler/podDisruptionBudget is an error.
- manifests/charts/istio-control/istio-discovery/files/kube-gateway.yaml: the Service template (name
  `<gateway>-istio`, ipFamilyPolicy PreferDualStack, loadBalancerIP from spec.addresses only for LoadBalancer).
- kubernetes pkg/apis/core/validation/validation.go, validateServiceExternalTrafficPolicy: externalTrafficPolicy
  "may only be set for externally-accessible services" (NodePort/LoadBalancer), so a ClusterIP Service with it is
  refused.
"""
from typing import Any, Optional

import yaml

SERVICE_TYPE = "networking.istio.io/service-type"
CLASS_DEFAULT_SERVICE_TYPE = {"istio": "LoadBalancer"}
SUPPORTED_OVERLAYS = {"deployment", "service", "serviceAccount", "horizontalPodAutoscaler", "podDisruptionBudget"}
OMITTED_ANNOTATIONS = {"kubectl.kubernetes.io/last-applied-configuration", "gateway.istio.io/name-override",
                       "gateway.istio.io/service-account", "gateway.istio.io/controller-version"}


class IstioRefusal(Exception):
    """Istio would not generate the objects (it reports the error on the Gateway)."""


def strategic_merge(original: Any, patch: Any) -> Any:
    """Strategic merge patch for the map fields an overlay sets: maps merge, a null deletes the key. Lists with merge
    keys (ports) are not modelled: an overlay that patches one is refused here rather than guessed."""
    if not isinstance(patch, dict) or not isinstance(original, dict):
        if isinstance(patch, list):
            raise NotImplementedError("list overlays (merge keys) are not modelled")
        return patch
    out = dict(original)
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = strategic_merge(out.get(key, {}) if isinstance(value, dict) else out.get(key), value)
    return out


def class_overlays(istiod_values: dict[str, Any], class_name: str) -> dict[str, str]:
    """The data of the class's defaults ConfigMap, as istiod's chart renders it (each kind's overlay as YAML)."""
    overlays = (istiod_values.get("gatewayClasses") or {}).get(class_name) or {}
    return {kind: yaml.safe_dump(overlay) for kind, overlay in overlays.items()}


def parameters(gateway: dict[str, Any], config_maps: dict[tuple[str, str], dict[str, str]]) -> Optional[dict[str, str]]:
    """The data of the ConfigMap the Gateway's parametersRef names (fetchParameters and render)."""
    ref = (gateway["spec"].get("infrastructure") or {}).get("parametersRef")
    if ref is None:
        return None
    if (ref.get("group"), ref.get("kind")) != ("", "ConfigMap"):
        raise IstioRefusal(f"unknown infrastructure parameters type {ref.get('group')}/{ref.get('kind')}")
    key = (gateway["metadata"]["namespace"], ref["name"])
    if key not in config_maps:
        raise IstioRefusal(f"parametersRef targeting configmap {key}, but configmap does not exist")
    return config_maps[key]


def generated_service(gateway: dict[str, Any], istiod_values: dict[str, Any],
                      config_maps: dict[tuple[str, str], dict[str, str]]) -> dict[str, Any]:
    meta, spec = gateway["metadata"], gateway["spec"]
    klass = spec["gatewayClassName"]
    own = meta.get("annotations") or {}
    service_type = own.get(SERVICE_TYPE, CLASS_DEFAULT_SERVICE_TYPE[klass])
    infra = spec.get("infrastructure") or {}
    source = infra["annotations"] if infra.get("annotations") is not None else own
    ports = [{"name": "status-port", "port": 15021, "protocol": "TCP", "appProtocol": "tcp"}]
    seen = set()
    for listener in spec["listeners"]:
        if listener["port"] not in seen:
            seen.add(listener["port"])
            ports.append({"name": listener["name"].replace(".", "-")[:63], "port": listener["port"],
                          "protocol": "TCP", "appProtocol": listener["protocol"].lower()})
    service: dict[str, Any] = {
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": f"{meta['name']}-istio", "namespace": meta["namespace"],
                     "annotations": {k: v for k, v in source.items() if k not in OMITTED_ANNOTATIONS}},
        "spec": {"ipFamilyPolicy": "PreferDualStack", "ports": ports,
                 "selector": {"gateway.networking.k8s.io/gateway-name": meta["name"]}, "type": service_type},
    }
    if spec.get("addresses") and service_type == "LoadBalancer":
        service["spec"]["loadBalancerIP"] = spec["addresses"][0]["value"]
    for overlays in (class_overlays(istiod_values, klass), parameters(gateway, config_maps)):
        if not overlays:
            continue
        unsupported = set(overlays) - SUPPORTED_OVERLAYS
        if unsupported:
            raise IstioRefusal(f"unsupported overlay {sorted(unsupported)}")
        if "service" in overlays:
            service = strategic_merge(service, yaml.safe_load(overlays["service"]))
    return service


def api_server_refusal(service: dict[str, Any]) -> Optional[str]:
    """What the API server says about the Service's type-dependent fields (None when it accepts them)."""
    spec = service["spec"]
    external = spec.get("type") in ("NodePort", "LoadBalancer") or bool(spec.get("externalIPs"))
    if not external and spec.get("externalTrafficPolicy"):
        return "spec.externalTrafficPolicy: may only be set for externally-accessible services"
    if spec.get("type") != "LoadBalancer" and spec.get("loadBalancerSourceRanges"):
        return "spec.loadBalancerSourceRanges: may only be used when `type` is 'LoadBalancer'"
    return None


def plan_services(plan: Any) -> dict[str, dict[str, Any]]:
    """Every Service Istio would generate for the plan's istio-class Gateways, by Gateway name."""
    istiod = next(r for r in plan.helm_releases() if r.inputs["chart"] == "istiod").inputs["values"]
    config_maps = {(r.inputs["metadata"].get("namespace"), r.inputs["metadata"]["name"]): r.inputs.get("data") or {}
                   for r in plan.kubernetes_objects() if r.inputs["kind"] == "ConfigMap"}
    return {g.inputs["metadata"]["name"]: generated_service(g.inputs, istiod, config_maps)
            for g in plan.kubernetes_objects()
            if g.inputs["kind"] == "Gateway" and g.inputs["spec"].get("gatewayClassName") == "istio"}
