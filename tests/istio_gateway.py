"""The Service Istio generates for a Gateway of its `istio` class, derived the way istiod 1.30.3 derives it, so the
tests check what lands in the cluster rather than what we annotate.

Transcribed from istio/istio at tag 1.30.3:
- pilot/pkg/config/kube/gatewaycommon/deploymentcontroller.go: the Service type comes from the Gateway's
  `metadata.annotations["networking.istio.io/service-type"]`, else the class's DefaultServiceType (classinfo.go:
  LoadBalancer for `istio`); the Service's annotations are `spec.infrastructure.annotations` when set, else the
  Gateway's own annotations; ports are the status port 15021 and each distinct listener port (extractServicePorts);
  overlays are the class's ConfigMap (label `gateway.istio.io/defaults-for-class`, rendered by istiod's chart from
  `gatewayClasses`), then the ConfigMap `spec.infrastructure.parametersRef` names (core group, same namespace, must
  exist), each strategic-merge-patched in that order (strategicMergePatchYAML:
  strategicpatch.StrategicMergeMapPatchUsingLookupPatchMeta with the Service's Go struct as the schema); an overlay
  key outside deployment/service/serviceAccount/horizontalPodAutoscaler/podDisruptionBudget is an error.
- kubernetes staging/src/k8s.io/apimachinery/pkg/util/strategicpatch/patch.go (mergeSliceWithSpecialElements,
  deleteMatchingEntries): in a list merged by key, a patch element `{"$patch": "delete", <key>: v}` removes the
  original's elements whose key is v; other elements merge into the original's element with the same key, or are
  added. core/v1 ServiceSpec.Ports is such a list (`patchStrategy:"merge" patchMergeKey:"port"`).
- manifests/charts/istio-control/istio-discovery/files/kube-gateway.yaml: the Service template (name
  `<gateway>-istio`, ipFamilyPolicy PreferDualStack, loadBalancerIP from spec.addresses only for LoadBalancer).
- kubernetes pkg/apis/core/validation/validation.go, validateServiceExternalTrafficPolicy: externalTrafficPolicy
  "may only be set for externally-accessible services" (NodePort/LoadBalancer), so a ClusterIP Service with it is
  refused.

And what a Gateway's pods do with a request before it reaches a route's backend (`authorizes`, `forwarded`):
- pilot/pkg/security/authz/builder/builder.go (`build`): the DENY policies' RBAC filter comes before the ALLOW
  policies' one, and a filter is built only for an action some policy has: a request matching a DENY rule is refused,
  and with no ALLOW policy nothing else is. With ALLOW policies a request must match one of their rules; a policy
  without rules gets one that never matches (istio.io "Authorization Policy": allow-nothing).
- pilot/pkg/security/authz/matcher/header.go (`HeaderMatcher`): a `request.headers[...]` value "*" is a presence
  match (any value, empty too), "*x" a suffix, "x*" a prefix, anything else exact; Envoy matches header names in
  lower case (HTTP field names are case-insensitive). The values of one condition are alternatives.
- pilot/pkg/model/policyattachment.go (`GetTargetRefs`, `ShouldAttachPolicy`): a policy with `targetRefs` applies to
  the Gateways it names in its namespace; the program attaches no other way (a selector policy: not modelled).
- pilot/pkg/networking/core/gateway.go: the gateway's connection manager sets `use_remote_address`, so Envoy appends
  its peer's address to X-Forwarded-For (docs/decisions.md, 2026-12-02, "Reviewed against the sources").

And whether the Gateway's Envoy retries a request on its own (`envoy_retry_policy`, `envoy_retries`):
- pilot/pkg/config/kube/gateway/conversion.go (1.30.3): an HTTPRoute rule's `retry` becomes the VirtualService's
  `retries` (attempts, default 2; retryOn "connect-failure,refused-stream,unavailable,cancelled" plus its codes;
  attempts 0 leaves retryOn empty); a rule without `retry` leaves `retries` unset.
- pilot/pkg/networking/core/route/route.go (`applyHTTPRouteDestination`, used for gateways and sidecars alike through
  BuildHTTPRoutesForVirtualService, gateway.go): unset `retries` takes meshConfig `defaultHttpRetryPolicy`
  (unset in pkg/config/mesh/mesh.go DefaultMeshConfig and in the chart), then retry/retry.go `ConvertPolicy`: nil is
  Istio's default (2 retries on "connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes", no
  status code listed, retry_previous_hosts); attempts <= 0 is no retry policy; retryOn's integers with a status
  text are retriable_status_codes (and add "retriable-status-codes"), the rest Envoy retry_on values.
- Envoy source/common/router/retry_state_impl.cc (`wouldRetryFromHeaders`, `wouldRetryFromReset`) and router.cc
  (`maybeRetryReset`: nothing is retried once the response has started downstream): an upstream's answer is retried
  for 5xx (any 5xx), gateway-error (502/503/504), retriable-4xx (409), a listed code, or a listed gRPC status in a
  `grpc-status` header; a reset for reset, reset-before-request (nothing sent yet), 5xx or gateway-error (any reset
  but overflow), refused-stream (HTTP/2 REFUSED_STREAM) and connect-failure (the connection never made: a pool
  failure or connect timeout). x-envoy-retry-on, -max-retries, -retriable-status-codes from a client are removed
  before the router reads them (source/common/http/conn_manager_utility.cc `cleanInternalHeaders`) unless the client
  is internal, and no address is (gateway.go: Envoy 1.33's empty internal_address_config, unless
  ENABLE_HCM_INTERNAL_NETWORKS, default false in pilot/pkg/features/experimental.go).
"""
import http as _http
from typing import Any, Optional

import yaml

SERVICE_TYPE = "networking.istio.io/service-type"
CLASS_DEFAULT_SERVICE_TYPE = {"istio": "LoadBalancer"}
SUPPORTED_OVERLAYS = {"deployment", "service", "serviceAccount", "horizontalPodAutoscaler", "podDisruptionBudget"}
OMITTED_ANNOTATIONS = {"kubectl.kubernetes.io/last-applied-configuration", "gateway.istio.io/name-override",
                       "gateway.istio.io/service-account", "gateway.istio.io/controller-version"}


class IstioRefusal(Exception):
    """Istio would not generate the objects (it reports the error on the Gateway)."""


# list field -> its patch merge key, for the lists a Service overlay may patch (core/v1 ServiceSpec.Ports)
MERGE_KEYS = {"ports": "port"}


def merge_list(original: list[Any], patch: list[Any], key: str) -> list[Any]:
    """A list merged by `key`: `$patch: delete` elements remove the original's matches, others merge or are added.
    `$patch: replace` and the other directives are not modelled: refused here rather than guessed."""
    out = [dict(item) for item in original or []]
    for element in patch:
        if not isinstance(element, dict) or key not in element:
            raise NotImplementedError(f"a list element without its merge key {key!r}: {element!r}")
        directive = element.get("$patch")
        if directive == "delete":
            out = [item for item in out if item.get(key) != element[key]]
        elif directive is not None:
            raise NotImplementedError(f"the {directive!r} directive is not modelled")
        else:
            at = next((i for i, item in enumerate(out) if item.get(key) == element[key]), None)
            if at is None:
                out.append(dict(element))
            else:
                out[at] = strategic_merge(out[at], element)
    return out


def strategic_merge(original: Any, patch: Any, field: str = "") -> Any:
    """Strategic merge patch for what an overlay sets: maps merge, a null deletes the key, the lists of MERGE_KEYS
    merge by their key. Other lists are not modelled: an overlay that patches one is refused here rather than
    guessed."""
    if isinstance(patch, list):
        if field not in MERGE_KEYS:
            raise NotImplementedError(f"list overlays without a known merge key are not modelled ({field!r})")
        return merge_list(original if isinstance(original, list) else [], patch, MERGE_KEYS[field])
    if not isinstance(patch, dict) or not isinstance(original, dict):
        return patch
    out = dict(original)
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = strategic_merge(out.get(key, {}) if isinstance(value, dict) else out.get(key), value, key)
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


def gateway_policies(plan: Any, namespace: str, gateway: str) -> list[dict[str, Any]]:
    """The specs of the plan's AuthorizationPolicies that apply to the Gateway (targetRefs naming it, same
    namespace)."""
    out = []
    for policy in plan.kubernetes_objects():
        if policy.inputs["kind"] != "AuthorizationPolicy" or policy.inputs["metadata"].get("namespace") != namespace:
            continue
        spec = policy.inputs["spec"]
        if "targetRefs" not in spec:
            raise NotImplementedError(f"a policy attached without targetRefs is not modelled: {policy.name}")
        if any((ref.get("group"), ref.get("kind"), ref["name"]) == ("gateway.networking.k8s.io", "Gateway", gateway)
               for ref in spec["targetRefs"]):
            out.append(spec)
    return out


def _value_matches(pattern: str, value: Optional[str]) -> bool:
    if value is None:
        return False
    if pattern == "*":
        return True
    if pattern.startswith("*"):
        return value.endswith(pattern[1:])
    if pattern.endswith("*"):
        return value.startswith(pattern[:-1])
    return value == pattern


def _rule_matches(rule: dict[str, Any], method: str, path: str, headers: dict[str, str]) -> bool:
    if set(rule) - {"to", "when"}:
        raise NotImplementedError(f"not modelled: {rule}")
    ops = [t["operation"] for t in rule.get("to", [])]
    if ops and not any((not op.get("methods") or method in op["methods"])
                       and (not op.get("paths") or any(_value_matches(p, path) for p in op["paths"])) for op in ops):
        return False
    lowered = {name.lower(): value for name, value in headers.items()}
    for condition in rule.get("when", []):
        header = condition["key"].removeprefix("request.headers[").removesuffix("]")
        if condition["key"] != f"request.headers[{header}]" or set(condition) != {"key", "values"}:
            raise NotImplementedError(f"not modelled: {condition}")
        if not any(_value_matches(v, lowered.get(header.lower())) for v in condition["values"]):
            return False
    return True


def authorizes(policies: list[dict[str, Any]], method: str, path: str, headers: dict[str, str]) -> bool:
    """Whether the Gateway's pods pass the request on (False: Istio answers 403), given the policies that apply."""
    actions = {p.get("action", "ALLOW") for p in policies}
    if actions - {"ALLOW", "DENY"}:
        raise NotImplementedError(f"only ALLOW and DENY are modelled: {sorted(actions)}")
    rules = lambda action: [r for p in policies if p.get("action", "ALLOW") == action for r in p.get("rules") or []]
    if any(_rule_matches(rule, method, path, headers) for rule in rules("DENY")):
        return False
    if "ALLOW" not in actions:
        return True
    return any(_rule_matches(rule, method, path, headers) for rule in rules("ALLOW"))


def forwarded(headers: dict[str, str], peer: str) -> dict[str, str]:
    """The request's headers as the gateway forwards them: its peer appended to X-Forwarded-For (`,`, no space)."""
    sent = next((v for k, v in headers.items() if k.lower() == "x-forwarded-for"), None)
    rest = {k: v for k, v in headers.items() if k.lower() != "x-forwarded-for"}
    return {**rest, "X-Forwarded-For": f"{sent},{peer}" if sent else peer}


# Envoy's reset reasons a retry policy reads (Http::StreamResetReason), by what reached the upstream.
CONNECT_FAILURE = "connection failure"  # Local/RemoteConnectionFailure, ConnectionTimeout: nothing was sent
RESETS_AFTER_SENDING = ("connection termination", "remote reset", "local reset", "protocol error")
GRPC_RETRY_ON = {"cancelled": 1, "deadline-exceeded": 4, "resource-exhausted": 8, "internal": 13, "unavailable": 14}
ISTIO_DEFAULT_RETRY_ON = "connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes"


def virtual_service_retries(rule: dict[str, Any]) -> Optional[dict[str, Any]]:
    """The VirtualService `retries` Istio converts an HTTPRoute rule's `retry` to (conversion.go); None unset."""
    retry = rule.get("retry")
    if retry is None:
        return None
    if set(retry) - {"attempts", "codes", "backoff"}:
        raise NotImplementedError(f"not modelled: {retry}")
    attempts = retry.get("attempts", 2)
    retry_on = ["connect-failure", "refused-stream", "unavailable", "cancelled", *map(str, retry.get("codes", []))]
    return {"attempts": attempts, "retryOn": ",".join(retry_on) if attempts else ""}


def envoy_retry_policy(retries: Optional[dict[str, Any]], mesh_config: Optional[dict[str, Any]]
                       ) -> Optional[dict[str, Any]]:
    """The Envoy route's retry_policy (route.go applyHTTPRouteDestination, retry.go ConvertPolicy): None for none."""
    policy = retries if retries is not None else (mesh_config or {}).get("defaultHttpRetryPolicy")
    out = {"num_retries": 2, "retry_on": set(ISTIO_DEFAULT_RETRY_ON.split(",")), "codes": set()}
    if policy is None:
        return out
    if set(policy) - {"attempts", "retryOn", "perTryTimeout", "backoff"}:
        raise NotImplementedError(f"not modelled: {policy}")
    if policy.get("attempts", 0) <= 0:
        return None
    out["num_retries"] = policy["attempts"]
    if policy.get("retryOn"):
        parts = [p.strip() for p in policy["retryOn"].split(",") if p.strip()]
        known = {status.value for status in _http.HTTPStatus}  # Go's http.StatusText(i) != ""
        out["codes"] = {int(p) for p in parts if p.isdigit() and int(p) in known}
        out["retry_on"] = {p for p in parts if not (p.isdigit() and int(p) in known)}
        if out["codes"]:
            out["retry_on"].add("retriable-status-codes")
    return out


def envoy_retries(policy: Optional[dict[str, Any]], *, status: Optional[int] = None,
                  headers: Optional[dict[str, str]] = None, reset: Optional[str] = None,
                  request_sent: bool = True, response_started: bool = False) -> bool:
    """Whether the Gateway's Envoy tries the request again after one attempt ended with the upstream's answer
    (`status`, `headers`) or a `reset` (a reason above), before any of the answer went downstream."""
    if policy is None or response_started:
        return False
    on, headers = policy["retry_on"], {k.lower(): v for k, v in (headers or {}).items()}
    if not on <= {"5xx", "gateway-error", "connect-failure", "retriable-4xx", "refused-stream", "reset",
                  "reset-before-request", "retriable-status-codes", "envoy-ratelimited", *GRPC_RETRY_ON}:
        raise NotImplementedError(f"not modelled: {sorted(on)}")
    if reset is not None:
        if reset == "overflow":
            return False
        if reset == CONNECT_FAILURE and "connect-failure" in on:
            return True
        # else a connection failure goes on as any reset with nothing sent (wouldRetryFromReset falls through)
        if "reset-before-request" in on and (not request_sent or reset == CONNECT_FAILURE):
            return True
        if on & {"reset", "5xx", "gateway-error"}:
            return True
        return "refused-stream" in on and reset == "remote refused stream reset"
    assert status is not None
    if "x-envoy-ratelimited" in headers:
        return "envoy-ratelimited" in on
    grpc = headers.get("grpc-status")
    return (("5xx" in on and 500 <= status <= 599) or ("gateway-error" in on and status in (502, 503, 504))
            or ("retriable-4xx" in on and status == 409)
            or ("retriable-status-codes" in on and status in policy["codes"])
            or (grpc is not None and any(GRPC_RETRY_ON[name] == int(grpc) for name in on & set(GRPC_RETRY_ON))))
