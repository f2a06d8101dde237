"""Gateway routes and the KEDA interceptor's hosts: two HTTPRoutes matching the same requests on one listener (the
Gateway serves the older alone), a model server behind the interceptor whose Host no InterceptorRoute claims (every
request a 404), a gate that waits longer for an answer through the interceptor than the interceptor does, and a model
server its alert (OllamaDown, VllmDown) does not watch."""
import json
import re
from typing import Any, Optional

from ..inference_specs import SCALED_SERVICE, scaled_host
from ..keda_http import KEDA_HTTP_RELEASE
from ..monitoring import VLLM_DEPLOYMENTS
from ..kubernetes_schemas import group_of
from .clusters import _cluster_of, _clusters
from .namespace_rules import _unknown
from .records import HELM_RELEASE, Registration


def _route_matches(route: Registration, clusters: dict[str, str]) -> list[tuple[tuple, str]]:
    """What an HTTPRoute claims on its Gateways: per parent listener, hostnames and rule match, the key two routes
    collide on, with the words that say it."""
    cluster = _cluster_of(route, clusters)
    meta, spec = route.inputs.get("metadata") or {}, route.inputs.get("spec") or {}
    hostnames = tuple(sorted(str(h).lower() for h in spec.get("hostnames") or []))
    claims = []
    for parent in spec.get("parentRefs") or []:
        if not isinstance(parent, dict) or parent.get("kind", "Gateway") != "Gateway":
            continue
        gateway = (parent.get("namespace") or meta.get("namespace") or "default", parent.get("name"))
        listener = (parent.get("sectionName"), parent.get("port"))
        for rule in spec.get("rules") or []:
            # a rule without matches matches every path (Gateway API: PathPrefix /)
            for match in (rule.get("matches") if isinstance(rule, dict) else None) or [{}]:
                path = match.get("path") or {}
                how = (path.get("type", "PathPrefix"), path.get("value", "/"))
                rest = json.dumps({k: v for k, v in match.items() if k != "path"}, sort_keys=True)
                words = (f"{how[0]} {how[1]}{' (' + rest + ')' if rest != '{}' else ''} on "
                         f"{'listener ' + str(listener[0]) + ' of ' if listener[0] else ''}Gateway "
                         f"{gateway[0]}/{gateway[1]} "
                         f"{'for ' + ', '.join(hostnames) if hostnames else 'for every hostname'}")
                claims.append(((cluster, gateway, listener, hostnames, how, rest), words))
    return claims


def _shadowed_routes(resources: list[Registration], clusters: dict[str, str]) -> list[str]:
    """Two HTTPRoutes (not one object: that is refused above) that match the same requests on one Gateway listener.
    The API server takes both and the Gateway API sends such a request to the oldest route only ("the oldest Route
    based on creation timestamp", HTTPRouteRule's matching precedence), so the other's backend never gets a request
    and nothing says so: two InferenceStacks (or ApiGates, OpenWebUis, LlmdStacks) on one route target."""
    seen: dict[tuple, Registration] = {}
    pairs: dict[tuple[str, str], tuple[Registration, Registration, list[str]]] = {}
    for reg in resources:
        if not (reg.is_kubernetes_object and reg.inputs.get("kind") == "HTTPRoute"
                and group_of(str(reg.inputs.get("apiVersion"))) == "gateway.networking.k8s.io"):
            continue
        for key, words in _route_matches(reg, clusters):
            first = seen.setdefault(key, reg)
            if first is reg or _route_name(first) == _route_name(reg):
                continue  # one object twice: refused above
            pairs.setdefault((first.urn, reg.urn), (first, reg, []))[2].append(words)
    return [f"{first.name} and {second.name} route the same requests ({'; '.join(claims)}): HTTPRoutes "
            f"{_route_name(first)} and {_route_name(second)}; the Gateway sends them to the older route only, and "
            "the other's backend gets none. One cluster's Gateways take one route per listener and path: publish one "
            "of the two there (leave the other's route_target out; it stays reachable inside the cluster; an "
            "LlmdStack, whose route_target is required, is one per cluster's Gateways)"
            for first, second, claims in pairs.values()]


def _unrouted_interceptor_hosts(resources: list[Registration], clusters: dict[str, str]) -> list[str]:
    """A model server behind the KEDA HTTP interceptor (OllamaServer or InferenceStack given `keda`: its gate calls
    the `ollama-scaled` alias with Host `ollama-scaled.<namespace>`) that no InterceptorRoute on its cluster claims
    the host of. The interceptor routes only the hosts its routes list and answers any other 404 (kedacore/http-add-on
    `interceptor/middleware/routing.go`: no route in the table, `http.StatusNotFound`), so every request to that
    server failed while the plan passed: the stack's `model_server` was given to no ModelAutoscaler in requests mode,
    the only component that declares the route."""
    routed: set[tuple[Any, str]] = set()
    aliases: list[tuple[Registration, Any, str, str]] = []
    for reg in resources:
        if not reg.is_kubernetes_object:
            continue
        kind, meta, spec = reg.inputs.get("kind"), reg.inputs.get("metadata") or {}, reg.inputs.get("spec") or {}
        cluster = _cluster_of(reg, clusters)
        if kind == "InterceptorRoute" and group_of(str(reg.inputs.get("apiVersion"))) == "http.keda.sh":
            routed.update((cluster, str(host).lower()) for rule in spec.get("rules") or [] if isinstance(rule, dict)
                          for host in rule.get("hosts") or [])
        elif kind == "Service" and spec.get("type") == "ExternalName" and meta.get("name") == SCALED_SERVICE:
            namespace = str(meta.get("namespace") or "default")
            aliases.append((reg, cluster, namespace, scaled_host(namespace)))
    return [f"{reg.name}: requests to the model server in namespace {namespace} go through the KEDA interceptor "
            f"(Host {host}), and no InterceptorRoute on its cluster claims that host, so the interceptor answers "
            "every one 404: give the stack's model_server to a ModelAutoscaler in requests mode (it declares the "
            "route), or leave the stack's keda out"
            for reg, cluster, namespace, host in aliases if (cluster, host) not in routed]


_GATE_WAIT = re.compile(r"proxy_read_timeout (\d+)s;")
_SECONDS = re.compile(r"(\d+)s")


def _seconds(value: Any) -> Optional[int]:
    """A Go duration in whole seconds as the components write them (`1800s`), else None."""
    found = _SECONDS.fullmatch(str(value))
    return int(found.group(1)) if found else None


def _mapping(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _items(value: Any) -> list:
    return value if isinstance(value, list) else []


def interceptor_cuts_answers(resources: list[Registration]) -> list[str]:
    """Advice, not a refusal: an nginx gate (InferenceStack's, ApiGate's) whose model server is behind the KEDA HTTP
    interceptor (Host `ollama-scaled.<namespace>`) waits longer for an answer (its `proxy_read_timeout`: the stack's
    request_timeout_seconds + cold_start_timeout_seconds) than the interceptor does: the total deadline from the
    request's arrival, the InterceptorRoute's `timeouts.request` for that host (ModelAutoscaler's
    request_timeout_seconds + cold_start_timeout_seconds), else the chart's `interceptor.requestTimeout`
    (Observability's) (http-add-on v0.15.0 `interceptor/middleware/routing.go`). The interceptor then answers 504
    first and the stack's longer timeout serves nothing: an InferenceStack given 1800 s beside a ModelAutoscaler left
    at its 600 waited 3000 s for what the interceptor cut at 1800 s, the plan silent. Totals alone: a split
    otherwise with the same sum is not seen, where the route's `responseHeader` (ModelAutoscaler's
    request_timeout_seconds) cuts a warm answer sooner."""
    clusters = _clusters(resources)
    chart: dict[Any, int] = {}
    routes: dict[tuple[Any, str], int] = {}
    gates: list[tuple[Registration, Any, str, int]] = []
    for reg in resources:  # in a preview any part may be unknown yet: only what is known is judged
        cluster = _cluster_of(reg, clusters)
        kind, spec = reg.inputs.get("kind"), _mapping(reg.inputs.get("spec"))
        if reg.type == HELM_RELEASE and reg.inputs.get("chart") == KEDA_HTTP_RELEASE:
            total = _seconds(_mapping(_mapping(reg.inputs.get("values")).get("interceptor")).get("requestTimeout"))
            if total is not None:
                chart[cluster] = total
        elif not reg.is_kubernetes_object:
            continue
        elif kind == "InterceptorRoute" and group_of(str(reg.inputs.get("apiVersion"))) == "http.keda.sh":
            total = _seconds(_mapping(spec.get("timeouts")).get("request"))
            hosts = [host for rule in _items(spec.get("rules")) for host in _items(_mapping(rule).get("hosts"))]
            routes.update(((cluster, str(host).lower()), total) for host in hosts if total is not None)
        elif kind == "ConfigMap":
            namespace = _mapping(reg.inputs.get("metadata")).get("namespace")
            if not isinstance(namespace, str):
                continue
            through = f"proxy_set_header Host {scaled_host(namespace)};"
            for text in _mapping(reg.inputs.get("data")).values():
                waits = _GATE_WAIT.findall(text) if isinstance(text, str) and through in text else []
                if waits:
                    gates.append((reg, cluster, namespace, max(int(w) for w in waits)))
    advice = []
    for reg, cluster, namespace, wait in gates:
        own = routes.get((cluster, scaled_host(namespace)))
        deadline = own if own is not None else chart.get(cluster)
        if deadline is None or wait <= deadline:
            continue
        whose = ("its InterceptorRoute's timeouts.request: the ModelAutoscaler's" if own is not None
                 else "its requestTimeout: Observability's")
        advice.append(f"{reg.name}: the gate in namespace {namespace} waits up to {wait} s for an answer through the "
                      f"KEDA interceptor (the stack's request_timeout_seconds + cold_start_timeout_seconds), and the "
                      f"interceptor gives up at {deadline} s ({whose} request_timeout_seconds + "
                      "cold_start_timeout_seconds), answering 504 first: give the ModelAutoscaler and Observability "
                      "the request_timeout_seconds and cold_start_timeout_seconds of the stack")
    return advice


_WATCHED = re.compile(r'namespace(=~?)"([^"]*)",deployment=~?"[^"]*"')
# each model server's Deployments, the alert of Observability's PrometheusRule that watches them, the input naming
# their namespaces: an LlmdStack's vLLM has no VllmDown until Observability is given `vllm_namespaces`
_SERVERS = {"ollama": ("Ollama", "OllamaDown", "app_namespace {ns!r}, or add it to other_app_namespaces"),
            **{name: ("vLLM", "VllmDown", "vllm_namespaces [{ns!r}, ...]") for name in VLLM_DEPLOYMENTS}}


def unwatched_model_servers(resources: list[Registration]) -> list[str]:
    """Advice, not a refusal: a model server's Deployment (Ollama's, an LlmdStack's vLLM) in a namespace that its
    alert (OllamaDown, VllmDown) of the Observability on its cluster does not watch (`app_namespace` and
    `other_app_namespaces`; `vllm_namespaces`; the alerts select by namespace, `monitoring.ollama_matchers`,
    `vllm_matchers`). The plan and the deploy work, and no alert fires for that server: a stack built in `team` beside
    an Observability told `app_namespace: llm`, an LlmdStack beside one told no `vllm_namespaces`."""
    clusters = _clusters(resources)
    watched: dict[Any, dict[str, set[str]]] = {}  # cluster -> alert -> namespaces (a cluster with Observability)
    servers: list[tuple[Registration, Any, str, str]] = []
    for reg in resources:
        if not reg.is_kubernetes_object:
            continue
        kind, meta = reg.inputs.get("kind"), reg.inputs.get("metadata") or {}
        cluster = _cluster_of(reg, clusters)
        if kind == "PrometheusRule":
            for group in (reg.inputs.get("spec") or {}).get("groups") or []:
                for rule in (group.get("rules") or []) if isinstance(group, dict) else []:
                    alert = rule.get("alert") if isinstance(rule, dict) else None
                    if alert in ("OllamaDown", "VllmDown"):
                        alerts = watched.setdefault(cluster, {})
                        for how, names in _WATCHED.findall(str(rule.get("expr", ""))):
                            alerts.setdefault(alert, set()).update(names.split("|") if how == "=~" else [names])
        elif kind == "Deployment" and meta.get("name") in _SERVERS and reg.inputs.get("apiVersion") == "apps/v1" \
                and not _unknown(meta.get("namespace")):  # a namespace not known yet (a preview): none to judge
            servers.append((reg, cluster, str(meta.get("namespace") or "default"), str(meta["name"])))
    advice = []
    for reg, cluster, namespace, deployment in servers:
        what, alert, hint = _SERVERS[deployment]
        if cluster not in watched:  # no Observability on its cluster: nothing to point to
            continue
        seen = watched[cluster].get(alert, set())
        if namespace not in seen:
            watching = f"it watches {', '.join(sorted(seen))}" if seen else "it has none"
            advice.append(f"{reg.name}: the {what} server in namespace {namespace} is not watched by the {alert} alert "
                          f"of this cluster's Observability ({watching}): give Observability "
                          f"{hint.format(ns=namespace)}")
    return advice


def _route_name(route: Registration) -> str:
    meta = route.inputs.get("metadata") or {}
    return f"{meta.get('namespace') or 'default'}/{meta.get('name')}"
