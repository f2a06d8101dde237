"""ApiGate (components/llmplatform/api_gate.py): the key check and per-client rate limit, the Ollama routes it
forwards, and the gate alone in front of any OpenAI-style endpoint."""
from __future__ import annotations

import math
import re

import pulumi
import pytest
from llmplatform.inference_specs import (OLLAMA_API_ROUTES, OPEN_WEBUI_OLLAMA_ROUTES, ROUTER_PORT, ROUTER_UI_PORT,
                                         router_nginx_conf)
import llmplatform as P
from llmplatform.handles import ModelEndpoint

from config.loader import parse_config
from offline import runner as offline

from tests.conftest import UPSTREAM, VARIANTS, variant
from tests.components.test_inference_stack import deployment
from tests.components.test_components_alone import VAULT, VOLUME, cluster_handle, provider_opts
from tests.components.test_open_webui import _objects, _env


DEPLOYMENT = "kubernetes:apps/v1:Deployment"


# ---- the API gate forwards only Ollama's inference and listing routes ------------------------------------------
OLLAMA_ROUTES = UPSTREAM / "ollama" / "routes.tsv"  # Ollama v0.32.15 server/routes.go, with its section comments
LISTING = {"/api/tags", "/api/show", "/api/version"}  # read-only, in upstream's "Local model cache management"/"General"
MANAGEMENT = {"/api/pull", "/api/push", "/api/create", "/api/delete", "/api/copy", "/api/blobs/:digest"}


def upstream_routes():
    rows = [line.split("\t") for line in OLLAMA_ROUTES.read_text().splitlines() if not line.startswith("#")]
    return [(method, path, section) for method, path, section in rows]


def nginx_locations(conf):
    """(modifier, pattern, body) of each location in the server block, in order."""
    found, pattern = [], re.compile(r'location\s+(=|~\*|~|\^~)?\s*("[^"]*"|\S+)\s*\{')
    for m in pattern.finditer(conf):
        depth, i = 1, m.end()
        while depth:
            depth += {"{": 1, "}": -1}.get(conf[i], 0)
            i += 1
        found.append((m.group(1) or "", m.group(2).strip('"'), conf[m.end():i - 1]))
    return found


def server_block(conf, port):
    """The `server { listen <port>; ... }` block of an nginx.conf (the gate's API listener, its UI listener)."""
    start = conf.index(f"listen {port};")
    depth, i = 1, start
    while depth:
        depth += {"{": 1, "}": -1}.get(conf[i], 0)
        i += 1
    return conf[conf.rindex("server {", 0, start):i]


def nginx_location_for(conf, uri):
    """nginx's location choice (ngx_http_core_module): an exact match; else the longest prefix, unless a regex
    (in order of appearance) matches and the prefix is not ^~."""
    locations = nginx_locations(conf)
    exact = [loc for loc in locations if loc[0] == "=" and loc[1] == uri]
    if exact:
        return exact[0]
    prefixes = sorted((loc for loc in locations if loc[0] in ("", "^~") and uri.startswith(loc[1])),
                      key=lambda loc: len(loc[1]), reverse=True)
    if prefixes and prefixes[0][0] == "^~":
        return prefixes[0]
    for modifier, regex, body in locations:
        if modifier in ("~", "~*") and re.search(regex, uri, re.IGNORECASE if modifier == "~*" else 0):
            return modifier, regex, body
    return prefixes[0] if prefixes else None


def forwarded(conf, route):
    uri = "/".join({":model": "llama3.1:8b"}.get(p, "x1") if p.startswith(":") else p for p in route.split("/"))
    location = nginx_location_for(conf, uri)
    return location is not None and "proxy_pass" in location[2]


def router_conf(p, namespace: str) -> str:
    """The gate's nginx.conf in `namespace`: one ConfigMap, named after its content (api_router.ROUTER_CONFIG_MAP)."""
    from llmplatform.naming import content_suffix
    [(name, data)] = [(r.inputs["metadata"]["name"], r.inputs["data"]) for r in p.of_type("kubernetes:core/v1:ConfigMap")
                      if r.inputs["metadata"].get("namespace") == namespace
                      and r.inputs["metadata"]["name"].startswith("router-nginx")]
    assert name == f"router-nginx-{content_suffix(data['nginx.conf'])}", name
    return data["nginx.conf"]


def nginx_rate_per_second(conf):
    """limit_req_zone's rate (ngx_http_limit_req_module: r/s or r/m) and the location's burst."""
    number, unit = re.search(r"limit_req_zone \S+ zone=per_client:\S+ rate=(\d+)r/([sm]);", conf).groups()
    return int(number) / (60 if unit == "m" else 1), int(re.search(r"limit_req zone=per_client burst=(\d+)", conf)[1])


def test_router_limits_per_client_with_429_and_requires_a_key(dev):
    conf = dev.one("kubernetes:core/v1:ConfigMap", "inference-router-config").inputs["data"]["nginx.conf"]
    assert "limit_req_zone $binary_remote_addr zone=per_client:10m rate=" in conf  # rates: the test below
    assert "limit_req_status 429;" in conf and " nodelay;" in conf
    assert "include /mnt/secrets-store/inference-api-key-map;" in conf and "return 401" in conf
    assert "set_real_ip_from 192.168.0.0/16;" in conf  # timeouts: the chain test in test_model_autoscaler.py
    router = deployment(dev, "router")["spec"]["template"]["spec"]
    assert router["nodeSelector"] == {"llm-platform/pool": "cpu"}
    assert router["containers"][0]["securityContext"]["readOnlyRootFilesystem"] is True


def test_api_gate_forwards_only_ollamas_inference_and_listing_routes(dev, prod):
    routes = upstream_routes()
    wanted = {path for _, path, section in routes
              if section.startswith("Inference") or "compatible" in section or path in LISTING}
    assert MANAGEMENT <= {path for _, path, _ in routes} and not MANAGEMENT & wanted
    for plan in (dev, prod):
        conf = plan.one("kubernetes:core/v1:ConfigMap", "inference-router-config").inputs["data"]["nginx.conf"]
        conf = server_block(conf, ROUTER_PORT)  # the API listener (the UI's, when there is one: below)
        through = {path for _, path, _ in routes if forwarded(conf, path)}
        assert through == wanted, (sorted(through - wanted), sorted(wanted - through))
        refused = nginx_location_for(conf, "/api/pull")[2]
        assert "return 401" in refused and "return 403" in refused  # the key is checked before the refusal


def test_route_checker_sees_an_open_gate():
    """The seed's config (one `location /` proxying everything) forwards the management routes."""
    conf = router_nginx_conf("ollama:11434", 5, 0, False, [], 300)
    assert all(forwarded(conf, path) for path in MANAGEMENT)


@pytest.mark.parametrize("name", ["dev", "prod", "llmd"])
def test_router_pods_together_admit_the_configured_client_rate_with_one_worker_per_cpu(name):
    """nginx keeps a limit_req zone in one instance's shared memory (ngx_http_limit_req_module), so each router pod
    counts a client apart: what a client gets is the per-pod rate times the pods. `worker_processes auto` is the
    number of CPUs the node has online (sysconf), not the container's CPU limit."""
    stack, overrides = VARIANTS[name]
    raw = {k.split(":", 1)[1]: v for k, v in offline.stack_config(stack, overrides).items()}
    gateway = parse_config(raw, "p", stack).gateway
    plan = variant(name)
    for config_map in (r for r in plan.of_type("kubernetes:core/v1:ConfigMap") if r.name.endswith("-router-config")):
        conf = config_map.inputs["data"]["nginx.conf"]
        namespace = config_map.inputs["metadata"]["namespace"]
        router = next(r.inputs for r in plan.of_type(DEPLOYMENT) if r.inputs["metadata"]["name"] == "router"
                      and r.inputs["metadata"]["namespace"] == namespace)
        pods = router["spec"]["replicas"]
        rate, burst = nginx_rate_per_second(conf)
        assert rate * pods == pytest.approx(gateway.rate_limit_per_second, rel=0.05), (namespace, rate, pods)
        assert burst * pods >= gateway.rate_limit_burst and (burst - 1) * pods < gateway.rate_limit_burst
        cpu = router["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["cpu"]
        workers = re.search(r"^worker_processes (\S+);", conf, re.M)[1]
        assert workers != "auto" and 1 <= int(workers) <= max(1, math.ceil(float(cpu)))


VLLM = ModelEndpoint(base_url="http://vllm:8000", api="openai", namespace="serving", service="vllm", port=8000)


def test_api_gate_alone_in_front_of_an_openai_endpoint():
    def program():
        P.ApiGate("gate", {"cluster": cluster_handle(), "endpoint": VLLM, "key_vault": VAULT, "replicas": 3,
                           "resources": {"cpu_request": "500m", "cpu_limit": "2", "memory_request": "128Mi",
                                         "memory_limit": "512Mi"}}, provider_opts())
    p = offline.run_function(program)
    conf = router_conf(p, "serving")
    assert "server vllm:8000;" in conf and "worker_processes 2;" in conf  # two cores of CPU limit: two workers
    # an OpenAI-compatible server is gated whole (Ollama's route list is for Ollama only)
    assert 'location / {' in conf and "/api/pull" not in conf and "return 401" in conf
    assert "rate=200r/m" in conf  # 10 r/s per client shared by 3 pods: 600/3 per pod per minute
    router = _objects(p, "Deployment", "serving")["router"]
    assert router["spec"]["replicas"] == 3
    assert router["spec"]["template"]["spec"]["containers"][0]["resources"] == {
        "requests": {"cpu": "500m", "memory": "128Mi"}, "limits": {"cpu": "2", "memory": "512Mi"}}
    assert not any(r.options.get("aliases") for r in p.resources)  # alone: nothing was ever elsewhere


def test_api_gate_in_front_of_ollama_keeps_model_management_closed():
    def program():
        opts = provider_opts()
        server = P.OllamaServer("llm", {"cluster": cluster_handle(), "model_volume": VOLUME,
                                        "extra_env": {"OLLAMA_CONTEXT_LENGTH": "8192"}}, opts)
        P.ApiGate("llm", {"cluster": cluster_handle(), "endpoint": server.endpoint, "key_vault": VAULT,
                          "api_key_auth": False}, opts)
    p = offline.run_function(program)
    conf = router_conf(p, "llm")
    assert "server ollama:11434;" in conf and "/api/chat" in conf and "return 403" in conf
    assert "/api/pull" not in conf and "api_key_valid" not in conf
    ollama = _objects(p, "Deployment", "llm")["ollama"]["spec"]["template"]["spec"]["containers"][0]
    assert _env(ollama)["OLLAMA_CONTEXT_LENGTH"] == "8192" and ollama["args"] == ["serve"]
    # the gate's pods wait for the Service they proxy to (nginx exits when its upstream does not resolve)
    gate = next(r for r in p.of_type("kubernetes:apps/v1:Deployment") if r.inputs["metadata"]["name"] == "router")
    service = next(r for r in p.of_type("kubernetes:core/v1:Service") if r.inputs["metadata"]["name"] == "ollama")
    assert service.urn in gate.dependencies


@pytest.mark.parametrize("component, key", [("ApiGate", "pod_cidr"), ("ApiGate", "node_subnet_cidr"),
                                            ("ApiGate", "vnet_cidr"), ("GatewayAccess", "node_subnet_cidr")])
def test_a_hand_built_cluster_handle_whose_range_is_no_range_is_refused_by_name(component, key):
    """The router's nginx `allow` line takes the pods' range and, behind Front Door, its private-peer `geo` the node
    subnet and VNet too (nginx would not start), the internal Gateway's address is checked against the node subnet:
    a hand-built handle's 'nope' planned silently."""
    cluster = {**cluster_handle(), key: "nope"}
    endpoint = {"base_url": "http://ollama:11434", "api": "ollama", "namespace": "llm", "service": "ollama",
                "port": 11434}
    build = {"ApiGate": lambda: P.ApiGate("g", {"cluster": cluster, "key_vault": VAULT, "endpoint": endpoint},
                                        provider_opts()),
             "GatewayAccess": lambda: P.GatewayAccess("g", {"cluster": cluster, "internal_ip": "10.0.0.50"},
                                                    provider_opts())}[component]
    with pytest.raises(P.ComponentInputError, match=rf"^{component} g: input cluster.{key}='nope' is invalid; allowed: "
                                                  r"an IPv4 range such as 192.168.0.0/16"):
        offline.run_function(build)


@pytest.mark.parametrize("component", ["ApiGate", "LlmdStack", "InferenceStack"])
@pytest.mark.parametrize("key, value", [("vnet_cidr", "nope"), ("vnet_cidr", ""), ("pod_cidr", "10.0.0.0/33"),
                                        ("vnet_cidr", "fd00::/64")])
@pytest.mark.parametrize("late", [True, False])
def test_a_cluster_range_that_arrives_as_an_output_is_refused_by_name_once_it_resolves(component, key, value, late):
    """A handle whose range is an output (another stack's, through a StackReference; another language's handle)
    skipped the range check: its value went into the gate's nginx.conf as given (`nope 1;` in the Front Door geo,
    `set_real_ip_from 10.0.0.0/33;`), which nginx refuses at start, or was dropped without a word (an empty one).
    InferenceStack's refusal, plain or late, was its gate's ("ApiGate g"), a component the caller never built. An
    IPv6 range was taken though the refusal names an IPv4 one: the VNet's IPv4 space (which AKS's nodes always use)
    was then missing from the gate's private peers."""
    import pulumi
    from llmplatform import testing
    from tests.components.test_components_alone import REQUIRED

    def program():
        args = REQUIRED[component]()
        args["cluster"] = {**args["cluster"], key: pulumi.Output.from_input(value) if late else value}
        getattr(P, component)("g", args, provider_opts())
    refusal = testing.ProgramError if late else P.ComponentInputError
    with pytest.raises(refusal, match=rf"^{component} g: input cluster.{key}={value!r} is invalid; allowed: an IPv4 "
                                      r"range"):
        testing.run(program)


def test_an_ipv6_node_subnet_is_refused_as_the_handles_range_not_as_the_internal_address():
    """GatewayAccess took an IPv6 `node_subnet_cidr` and then refused a sound `internal_ip` as "a usable address of
    the node subnet fd00::/64 ... (fd00:: network, fd00::1 gateway, ...)", an address no IPv4 one can be."""
    from tests.components.test_components_alone import REQUIRED
    args = REQUIRED["GatewayAccess"]()
    args.update(cluster={**args["cluster"], "node_subnet_cidr": "fd00::/64"}, internal_ip="10.0.15.250")
    with pytest.raises(P.ComponentInputError) as refused:
        offline.run_function(lambda: P.GatewayAccess("g", args, provider_opts()))
    assert str(refused.value).startswith("GatewayAccess g: input cluster.node_subnet_cidr='fd00::/64' is invalid; "
                                         "allowed: an IPv4 range")
    assert "internal_ip" not in str(refused.value)


def test_a_gate_in_front_of_your_own_server_forwards_only_the_paths_you_name():
    """vLLM, run by you, serves /metrics and management routes beside inference: `allowed_paths` closes them."""
    def program():
        P.ApiGate("gate", {"cluster": cluster_handle(), "endpoint": VLLM, "key_vault": VAULT,
                           "allowed_paths": ["/v1/chat/completions", "/v1/models", "/v1/models/:model"]},
                  provider_opts())
    conf = router_conf(offline.run_function(program), "serving")
    assert forwarded(conf, "/v1/chat/completions") and forwarded(conf, "/v1/models/:model")
    for closed in ("/metrics", "/v1/load_lora_adapter", "/v1/chat/completions/x", "/v1/models/a/b"):
        assert not forwarded(conf, closed), closed


@pytest.mark.parametrize("paths, wrong", [
    ([], "allowed_paths=[] is invalid; allowed: at least one path"),
    (["v1/chat"], "allowed_paths[0]='v1/chat' is invalid; allowed: an exact path starting with /"),
    (["/v1/*"], "allowed_paths[0]='/v1/*' is invalid"),
    ('/v1/models', "allowed_paths='/v1/models' is invalid; allowed: a list of strings"),
])
def test_allowed_paths_that_nginx_could_not_take_are_refused_by_name(paths, wrong):
    with pytest.raises(P.ComponentInputError, match=re.escape(f"ApiGate gate: input {wrong}")):
        offline.run_function(lambda: P.ApiGate("gate", {"cluster": cluster_handle(), "endpoint": VLLM,
                                                        "key_vault": VAULT, "allowed_paths": paths}, provider_opts()))


# ---- the gate's UI listener: Open-WebUI's way to a model server behind the KEDA interceptor ---------------------
# the Ollama paths Open-WebUI 0.11.0 calls on a connection (backend/open_webui/routers/ollama.py, send_request and
# send_get_request targets, with retrieval/utils.py's /api/embed), read at tag v0.11.0 (f9590b80)
WEBUI_CALLS = {"/api/tags", "/api/ps", "/api/version", "/api/show", "/api/generate", "/api/chat", "/api/embed",
               "/api/embeddings", "/v1/completions", "/v1/chat/completions", "/v1/embeddings", "/v1/messages",
               "/v1/responses"}
WEBUI_MANAGEMENT = {"/api/pull", "/api/push", "/api/create", "/api/copy", "/api/delete", "/api/blobs/:digest"}


def test_the_ui_listener_forwards_what_open_webui_calls_and_no_model_management(dev):
    """The UI listener (no key: the UI's pods alone reach it) forwards exactly the Ollama calls Open-WebUI makes for
    chats, embeddings and its model list; its admin-only model management (pull, push, create, copy, delete, blobs)
    is refused as on the API listener: the servers read the shared store read-only. Every forwarded path is one the
    API listener forwards too. Same upstream, Host and timeouts as the API listener, whose key and 429 it skips."""
    assert set(OPEN_WEBUI_OLLAMA_ROUTES) == WEBUI_CALLS and WEBUI_CALLS <= set(OLLAMA_API_ROUTES)
    conf = dev.one("kubernetes:core/v1:ConfigMap", "inference-router-config").inputs["data"]["nginx.conf"]
    api, ui = server_block(conf, ROUTER_PORT), server_block(conf, ROUTER_UI_PORT)
    routes = {path for _, path, _ in upstream_routes()}
    assert {path for path in routes if forwarded(ui, path)} == WEBUI_CALLS
    assert not any(forwarded(ui, path) for path in WEBUI_MANAGEMENT | {"/", "/healthz/model", "/api/status"})
    assert "api_key_valid" not in ui and "limit_req" not in ui
    for line in ("proxy_set_header Host ollama-scaled.llm;", "proxy_pass http://model_server;",
                 "proxy_set_header Authorization \"\";",
                 *re.findall(r"proxy_(?:read|send)_timeout \d+s;", nginx_location_for(api, "/api/chat")[2])):
        assert line in ui, line
    # the Service and the pods open the port, a policy admits the namespace's Open-WebUI pods and no one else
    service = dev.one("kubernetes:core/v1:Service", "inference-router-svc").inputs["spec"]["ports"]
    assert {"name": "ui", "port": ROUTER_UI_PORT, "targetPort": ROUTER_UI_PORT, "protocol": "TCP"} in service
    policy = dev.one("kubernetes:networking.k8s.io/v1:NetworkPolicy", "inference-router-ui-netpol").inputs["spec"]
    assert policy["podSelector"]["matchLabels"] == {"app.kubernetes.io/name": "router"}
    assert policy["ingress"] == [{"from": [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "open-webui"}}}],
                                  "ports": [{"port": ROUTER_UI_PORT, "protocol": "TCP"}]}]
    ui_env = _env(deployment(dev, "open-webui")["spec"]["template"]["spec"]["containers"][0])
    assert ui_env["OLLAMA_BASE_URL"] == f"http://router:{ROUTER_UI_PORT}"
    # the UI's migration Job (which points a saved connection at the listener) waits for the gate's pods and policy
    [job] = [j for j in dev.of_type("kubernetes:batch/v1:Job") if j.name == "inference-webui-migrate"]
    for waited in ("inference-router", "inference-router-ui-netpol"):
        assert dev.waits_for(job, lambda dep: dep.name == waited), waited


def test_without_keda_the_ui_calls_ollama_and_the_gate_has_no_ui_listener():
    """Without the interceptor the UI calls Ollama's Service in its namespace (whose ingress admits that namespace's
    UI only): no second listener on the gate, and its config is the one it always was."""
    def program():
        opts = provider_opts()
        server = P.OllamaServer("llm", {"cluster": cluster_handle(), "model_volume": VOLUME}, opts)
        gate = P.ApiGate("llm", {"cluster": cluster_handle(), "endpoint": server.endpoint, "key_vault": VAULT}, opts)
        assert gate.ui_endpoint is None
        P.OpenWebUi("llm", {"cluster": cluster_handle(), "key_vault": VAULT, "database_url_secret": "db-url",
                            "endpoint": server.endpoint}, opts)
    p = offline.run_function(program)
    conf = router_conf(p, "llm")
    # the API listeners alone: the in-cluster one and the Gateways' (no policy admits anyone to it unpublished)
    assert f"listen {ROUTER_UI_PORT};" not in conf and len(re.findall(r"^\s*server \{", conf, re.M)) == 2
    ui = _env(_objects(p, "Deployment", "llm")["open-webui"]["spec"]["template"]["spec"]["containers"][0])
    assert ui["OLLAMA_BASE_URL"] == "http://ollama:11434"
    assert not [r for r in p.of_type("kubernetes:networking.k8s.io/v1:NetworkPolicy")
                if r.inputs["metadata"]["name"] == "router-ui-ingress"]


def test_a_ui_listener_in_front_of_an_openai_endpoint_is_refused():
    with pytest.raises(Exception, match="ui_listener"):
        offline.run_function(lambda: P.ApiGate("gate", {"cluster": cluster_handle(), "endpoint": VLLM,
                                                        "key_vault": VAULT, "ui_listener": True}, provider_opts()))


def test_open_webui_given_the_interceptors_endpoint_is_sent_to_the_gates_ui_listener():
    """Open-WebUI cannot send the interceptor's Host header, and the interceptor admits gates alone: an OllamaServer's
    endpoint behind KEDA is refused by name, the gate's `ui_endpoint` taken."""
    from tests.components.test_components_alone import KEDA

    def program(through_gate):
        opts = provider_opts()
        server = P.OllamaServer("llm", {"cluster": cluster_handle(), "model_volume": VOLUME, "keda": KEDA}, opts)
        P.ModelAutoscaler("llm", {"model_server": server.model_server, "keda": KEDA, "mode": "requests",
                                  "min_replicas": 1, "max_replicas": 2}, opts)  # the interceptor's route to it
        gate = P.ApiGate("llm", {"cluster": cluster_handle(), "endpoint": server.endpoint, "key_vault": VAULT,
                                 "ui_listener": True}, opts)
        P.OpenWebUi("llm", {"cluster": cluster_handle(), "key_vault": VAULT, "database_url_secret": "db-url",
                            "endpoint": gate.ui_endpoint if through_gate else server.endpoint}, opts)
    with pytest.raises(Exception, match="endpoint.host_header.*ui_endpoint"):
        offline.run_function(lambda: program(False))
    p = offline.run_function(lambda: program(True))
    ui = _env(_objects(p, "Deployment", "llm")["open-webui"]["spec"]["template"]["spec"]["containers"][0])
    assert ui["OLLAMA_BASE_URL"] == f"http://router:{ROUTER_UI_PORT}" and "OPENAI_API_BASE_URL" not in ui


@pytest.mark.parametrize("component", ["ApiGate", "LlmdStack", "InferenceStack"])
def test_api_key_replaceable_keeps_the_own_key_out_of_protect_and_nothing_else(component):
    """A gate's own key serves a region waiting for its global edge only until the edge's key set replaces it, and
    the engine refuses a protected delete (pulumi/pulumi step.go `deleteProtectedError`): `api_key_replaceable`
    keeps the generated key and its two Key Vault secrets out of the component's `protect`; everything else the
    component protects stays protected (LlmdStack: nothing else; InferenceStack, which hands it to its gate: its UI,
    off here, in tests/components/test_secret_protection.py)."""
    from tests.components.test_components_alone import REQUIRED

    def protected(replaceable):
        def program():
            getattr(P, component)("g", {**REQUIRED[component](), "api_key_replaceable": replaceable},
                                  pulumi.ResourceOptions.merge(provider_opts(), pulumi.ResourceOptions(protect=True)))
        plan = offline.run_function(program)
        return sorted(r.type.rsplit(":", 1)[-1] for r in plan.resources if r.custom and r.options["protect"])
    assert protected(False) == ["RandomPassword", "Secret", "Secret"]
    assert protected(True) == []


@pytest.mark.parametrize("component", ["ApiGate", "LlmdStack", "InferenceStack"])
@pytest.mark.parametrize("extra, allowed", [
    ({"api_key_auth": False}, "only with api_key_auth true: a gate without a key generates none to keep out of "
                              "protect"),
    ({"api_key_map_secret": "edge-api-key-map"}, "only without api_key_map_secret: a gate reading that key map "
                                                 "generates no key of its own to keep out of protect"),
], ids=["no-key", "key-map"])
def test_api_key_replaceable_where_the_gate_generates_no_key_is_refused(component, extra, allowed):
    """`api_key_replaceable` frees the gate's own generated key; with `api_key_auth` false, or reading the edge's key
    map (`api_key_map_secret`), there is none, and the input was taken silently: a caller who set it (a waiting
    region's config passed on after the join) believed a key was kept out of protect. Refused by name, in the
    composite's words too, before anything registers."""
    from tests.components.test_components_alone import IN_CLUSTER, REQUIRED

    def program():
        getattr(P, component)("g", {**REQUIRED[component](), "api_key_replaceable": True, **extra},
                              provider_opts() if component in IN_CLUSTER else None)
    with pytest.raises(P.ComponentInputError) as refused:
        offline.run_function(program)
    assert str(refused.value) == f"{component} g: input api_key_replaceable=True is invalid; allowed: {allowed}"
    for harmless in ({"api_key_replaceable": False, **extra}, {"api_key_replaceable": None, **extra}):
        offline.run_function(lambda: getattr(P, component)("g", {**REQUIRED[component](), **harmless},
                                                            provider_opts()))
