"""The API router's nginx.conf, as the plans register it, run in a real nginx in front of a stub model server
(tests/nginx_gate.py): keys, allowed routes, the health routes, the UI listener and the rate limit's 429 with
Retry-After, as nginx itself answers them."""
import http
import http.server
import json
import re
import subprocess
import threading
import time

import pytest
import requests

from llmplatform.inference_specs import (MODEL_HEALTH_PATH, MODEL_HEALTH_UPSTREAM_PATH, ROUTER_EDGE_PORT, ROUTER_PORT,
                                         ROUTER_UI_PORT, retry_after_seconds)

from config import regions
from tests.conftest import PLANNED, PROJECT_DIR, REGIONS, plan_for, planned, variant
from tests.istio_gateway import authorizes, forwarded, gateway_policies
from tests.nginx_gate import EDGE_KEYS, KEY, NGINX, STREAM_LINES, local_conf, running_router


@pytest.fixture(scope="module")
def router(dev, tmp_path_factory):
    with running_router(dev, tmp_path_factory.mktemp("router")) as running:
        yield running


@pytest.fixture(scope="module")
def edge_router(tmp_path_factory):
    """A region behind Front Door (its gate keys the limit on the client Front Door saw, on the Gateways' listener)."""
    # one request a minute: a client's spent burst stays spent however slowly the machine sends the next one
    with running_router(plan_for(REGIONS[0]), tmp_path_factory.mktemp("edge-router"), per_minute=1) as running:
        yield running


# A region whose VNet and pod range are public address space (Azure takes any range for a VNet; the config's and
# AksCluster's rules refuse only AKS's reserved ranges), outside every range nginx flags as private by itself.
PUBLIC_SPACE = {"vnetCidr": "40.90.0.0/16", "nodeSubnetCidr": "40.90.0.0/20", "endpointsSubnetCidr": "40.90.16.0/24",
                "postgresSubnetCidr": "40.90.17.0/24", "podCidr": "52.200.0.0/16"}


@pytest.fixture(scope="module")
def public_space_router(tmp_path_factory):
    """A region behind Front Door whose VNet and pods use public address space (PUBLIC_SPACE)."""
    with running_router(plan_for(REGIONS[0], {"network": PUBLIC_SPACE}), tmp_path_factory.mktemp("public-router"),
                        per_minute=1) as running:
        yield running


FRONT_DOOR_ID = "55ce4ed1-4b06-4bf1-b40e-4638452104da"


def both_gateways_joined():
    """The first region with both Gateways (gateway.mode both, which edge.globalStack admits) after the join
    (edge.frontDoorId set): Front Door on the external Gateway, the VNet and its peers on the internal one."""
    raw = regions.raw_stack_file(PROJECT_DIR / f"Pulumi.{REGIONS[0]}.yaml", "aks-llm-platform")
    return plan_for(REGIONS[0], {"gateway": {**raw["gateway"], "mode": "both"},
                                 "edge": {**raw["edge"], "frontDoorId": FRONT_DOOR_ID}})


@pytest.fixture(scope="module")
def both_gateways(tmp_path_factory):
    """Requests through one of the plan's Gateways to its gate's edge listener in nginx: 403 where the Gateway's
    Istio policies refuse a request (tests/istio_gateway.py), else forwarded with the Gateway's peer appended."""
    plan = both_gateways_joined()
    (route,) = [r.inputs["spec"] for r in plan.of_type("kubernetes:gateway.networking.k8s.io/v1:HTTPRoute")
                if r.inputs["metadata"]["name"] == "api-route"]
    assert [b["port"] for b in route["rules"][0]["backendRefs"]] == [ROUTER_EDGE_PORT]
    parents = {p["name"]: p["namespace"] for p in route["parentRefs"]}
    assert set(parents) == {"internal-gateway", "external-gateway"}
    with running_router(plan, tmp_path_factory.mktemp("both-router"), per_minute=1) as running:
        def send(gateway: str, peer: str, each: list[dict[str, str]]) -> list[int]:
            policies = gateway_policies(plan, parents[gateway], gateway)
            with requests.Session() as session:
                return [session.post(f"{running['edge']}/api/chat", json={}, timeout=5, headers=forwarded(
                    {**headers, "Authorization": f"Bearer {KEY}"}, peer)).status_code
                        if authorizes(policies, "POST", "/api/chat", headers) else 403 for headers in each]
        yield send


def test_behind_front_door_a_peered_network_in_public_space_cannot_pass_as_front_door_through_the_internal_gateway(
        both_gateways):
    """A caller of the internal Gateway from a peered VNet or an on-premises network on public address space (which
    the gate cannot know) sending X-Azure-FDID and a new X-Forwarded-For entry with each request was taken for Front
    Door (its peer is public) and keyed on the entry it wrote: never the 429. The internal Gateway refuses the header
    (its AuthorizationPolicy), in any spelling and with any value; without it the caller meets the 429 on its own
    address. Front Door through the external Gateway is still keyed on each client it saw."""
    peered = "20.61.4.4"  # public space, none of the stack's ranges
    clients = [f"203.0.113.{i}" for i in range(150, 190)]
    for fdid in (FRONT_DOOR_ID, "anything", ""):
        for name in ("X-Azure-FDID", "x-azure-fdid"):
            statuses = both_gateways("internal-gateway", peered,
                                     [{name: fdid, "X-Forwarded-For": client} for client in clients])
            assert set(statuses) == {403}, f"{name}: {fdid!r} through the internal Gateway: {statuses}"
    assert 429 in both_gateways("internal-gateway", peered, [{"X-Forwarded-For": client} for client in clients])
    # spelled with underscores the header passes Istio's check (another name) and nginx ignores it (an invalid name:
    # underscores_in_headers off, ignore_invalid_headers on, nginx's defaults)
    assert 429 in both_gateways("internal-gateway", "20.61.4.5",
                                [{"X_Azure_FDID": FRONT_DOOR_ID, "X-Forwarded-For": client} for client in clients])
    front_door = "147.243.9.10"
    seen = [f"198.51.100.{i}" for i in range(150, 190)]
    assert set(both_gateways("external-gateway", front_door,
                             [{"X-Azure-FDID": FRONT_DOOR_ID, "X-Forwarded-For": c} for c in seen])) == {200}
    assert set(both_gateways("external-gateway", front_door, [{"X-Forwarded-For": seen[0]}])) == {403}


@pytest.fixture(scope="module")
def llmd_router(tmp_path_factory):
    """llm-d's gate: an OpenAI-style endpoint, its routes the OpenAI API's, in front of the pool's Istio gateway."""
    with running_router(variant("llmd"), tmp_path_factory.mktemp("llmd-router"), "llmd-router-config") as running:
        yield running


def chat(base: str, key: str = "", client=requests) -> requests.Response:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return client.post(f"{base}/api/chat", json={"model": "m", "messages": []}, headers=headers, timeout=5)


def test_the_api_listener_wants_the_key_and_passes_only_the_model_routes(router):
    stub, api = router["stub"], router["api"]
    before = len(stub.seen)
    assert chat(api).status_code == 401 and chat(api, "wrong").status_code == 401
    assert len(stub.seen) == before  # nothing without the key reached the model server
    # a 401 names the scheme it takes (RFC 9110 11.6.1 MUST; RFC 6750 bearer), no other answer carries it
    assert chat(api).headers.get("WWW-Authenticate") == 'Bearer realm="llm-platform"'
    keyed = chat(api, KEY)
    assert keyed.status_code == 200 and "WWW-Authenticate" not in keyed.headers
    assert stub.seen[-1] == ("POST", "/api/chat", router["host"], "")  # its Host, the key not passed on
    for path in ("/api/pull", "/api/delete", "/metrics"):
        unkeyed = requests.post(f"{api}{path}", timeout=5)
        assert unkeyed.status_code == 401 and unkeyed.headers.get("WWW-Authenticate", "").startswith("Bearer ")
        keyed = requests.post(f"{api}{path}", headers={"Authorization": f"Bearer {KEY}"}, timeout=5)
        assert keyed.status_code == 403 and "WWW-Authenticate" not in keyed.headers
    assert len(stub.seen) == before + 1


def test_a_streamed_answer_passes_the_gate_as_it_comes(router):
    """Each line of a streamed answer reaches the client when the model server writes it (`proxy_buffering off`):
    a buffered proxy would hold the first line until the answer ends, and a chat UI would show nothing until then."""
    with requests.post(f"{router['api']}/api/chat", json={"model": "m", "stream": True}, stream=True, timeout=10,
                       headers={"Authorization": f"Bearer {KEY}"}) as answer:
        assert answer.status_code == 200
        arrivals = [time.monotonic() for _ in answer.iter_lines()]
    written = router["stub"].stream_written
    assert len(arrivals) == len(written) == STREAM_LINES
    # each line reached the client before the stub wrote the next (a gap later): causal, not a stopwatch, so
    # a loaded machine's slow connect cannot fail it, and a buffered proxy (all lines at the end) cannot pass it
    assert all(arrived < next_written for arrived, next_written in zip(arrivals, written[1:])), (arrivals, written)


def test_the_health_routes_answer_without_a_key(router):
    assert requests.get(f"{router['api']}/healthz", timeout=5).text == "ok\n"
    assert requests.get(f"{router['api']}{MODEL_HEALTH_PATH}", timeout=5).status_code == 200
    assert router["stub"].seen[-1][:2] == ("GET", MODEL_HEALTH_UPSTREAM_PATH)
    assert requests.post(f"{router['api']}{MODEL_HEALTH_PATH}", timeout=5).status_code == 403  # GET only


def test_the_ui_listener_takes_no_key_and_only_the_uis_routes(router):
    """Open-WebUI's listener: no key, its routes only, and the Host the KEDA interceptor routes on, whatever the UI
    sent (a UI of another namespace cannot pick this namespace's Ollama by its Host)."""
    assert requests.post(f"{router['ui']}/api/chat", json={}, headers={"Host": "ollama-scaled.other"},
                         timeout=5).status_code == 200
    assert router["stub"].seen[-1] == ("POST", "/api/chat", router["host"], "")
    assert requests.post(f"{router['ui']}/api/pull", timeout=5).status_code == 403


def openai_sdk_retries(answer: requests.Response) -> bool:
    """Whether the OpenAI Python SDK retries this answer: `_should_retry` in openai-python 3.63.0 `_base_client.py`
    (1.109.1's is the same but for Retry-After's ceiling, 60 s there): not past a Retry-After over 120 s; then as
    `x-should-retry` says, `true` or `false`, before any status; then 408, 409, 429 and every status >= 500."""
    retry_after = answer.headers.get("retry-after")
    if retry_after is not None and retry_after.isdigit() and int(retry_after) > 120:
        return False
    said = answer.headers.get("x-should-retry")
    if said in ("true", "false"):
        return said == "true"
    return answer.status_code in (408, 409, 429) or answer.status_code >= 500


class QuietHandler(http.server.BaseHTTPRequestHandler):
    """A stub upstream's handler: `answer` writes a whole response; nothing is logged."""

    def answer(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


class StubServer(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address) -> None:
        pass  # the gate gave up on a stalled answer and closed the connection: the stub's write fails, as expected


class DeadlineStub(StubServer):
    """A model server's upstream as the gate meets it at a deadline: a JSON body `{"status": n}` is answered n, as
    the KEDA interceptor answers 504 when no header came within the generation time or no replica was Ready within
    the cold start (http-add-on v0.15.0 interceptor/handler/upstream.go, middleware/endpoint_resolver.go: `http.Error`
    with the status text), or 502 when nothing answered; `{"stall": s}` answers after s seconds (past the gate's
    read timeout, which then answers 504 itself)."""

    def __init__(self) -> None:
        class Handler(QuietHandler):
            def do_POST(self) -> None:
                asked = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                time.sleep(asked.get("stall", 0))
                status = asked.get("status", 200)
                phrase = f"{http.HTTPStatus(status).phrase}\n".encode()
                self.answer(status, b'{"ok": true}' if status == 200 else phrase)

        super().__init__(("127.0.0.1", 0), Handler)


@pytest.fixture(scope="module", params=["dev", "llmd"])
def deadline_gate(request, tmp_path_factory):
    """dev's gate (in front of the KEDA interceptor) and llm-d's (in front of the pool's Istio gateway), each in front
    of a DeadlineStub and waiting 1 s for an answer instead of the planned minutes."""
    stub = DeadlineStub()
    threading.Thread(target=stub.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    config_map = "inference-router-config" if request.param == "dev" else "llmd-router-config"
    try:
        with running_router(variant(request.param), tmp_path_factory.mktemp(f"deadline-{request.param}"), config_map,
                            upstream=f"127.0.0.1:{stub.server_address[1]}", read_timeout=1) as running:
            yield running
    finally:
        stub.shutdown()


def test_a_spent_deadline_answers_504_that_the_openai_sdks_do_not_retry(deadline_gate):
    """A 504 the gate answers on a model route comes after minutes of waiting, for a generation that a retry starts
    again from the beginning (or for a cold start that did not end in its time). The OpenAI SDKs retry every 5xx twice
    by default: three generations, or three cold-start waits, for one question, then the error anyway. The gate
    marks its own 504 and its upstream's `X-Should-Retry: false`, which the SDKs obey before the status; every other
    answer goes out unmarked, so a 502 (nothing answered: a restart) and a 503 are retried as before."""
    def ask(base: str, **body) -> requests.Response:
        return requests.post(f"{base}/v1/chat/completions", json=body, timeout=15,
                             headers={"Authorization": f"Bearer {KEY}"})

    for listener in ("api", "edge"):  # in-cluster callers, and the Gateways'
        base = deadline_gate[listener]
        for timed_out in (ask(base, status=504), ask(base, stall=3)):  # the upstream's deadline, the gate's own
            assert timed_out.status_code == 504
            assert timed_out.headers.get("X-Should-Retry") == "false"
            assert not openai_sdk_retries(timed_out)
        for status in (200, 500, 502, 503):
            answer = ask(base, status=status)
            assert answer.status_code == status and "X-Should-Retry" not in answer.headers
            assert openai_sdk_retries(answer) == (status != 200)
        refused = requests.post(f"{base}/v1/chat/completions", json={}, timeout=5)  # no key: the gate's 401
        assert refused.status_code == 401 and not openai_sdk_retries(refused)


class KeptAliveStub(StubServer):
    """An upstream over kept-alive connections (HTTP/1.1, as the gate's `keepalive 32` pool keeps them): in `mode`
    "answer" a connection's first request is answered 200, in "stall" after 3 s (past the gate's 1 s read timeout); a
    connection's second request is met with the connection closed, unanswered, as when the upstream (the KEDA
    interceptor, a Go server) closed an idle connection just as the gate sent on it, or restarted."""

    def __init__(self) -> None:
        stub = self
        self.mode, self.connections = "answer", 0

        class Handler(QuietHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                self.answered = 0
                stub.connections += 1

            def do_GET(self) -> None:
                if self.answered:  # a kept connection used again: closed unanswered
                    self.close_connection = True
                    return
                self.answered += 1
                if stub.mode == "stall":
                    time.sleep(3)
                self.answer(200, b'{"object": "list", "data": []}')

        super().__init__(("127.0.0.1", 0), Handler)


def test_a_spent_deadline_after_a_dead_kept_connection_is_marked_too(tmp_path):
    """nginx tries an idempotent request again on a new connection when a kept-alive one fails (ngx_http_upstream.c
    ngx_http_upstream_next: `u->peer.cached && ft_type == NGX_HTTP_UPSTREAM_FT_ERROR` adds a try, even with one
    server), and $upstream_status then lists each try: "502, 504" when the second one ran out of time. A GET of the
    model list at a cold start (the SDKs' `models.list()`) met that after the upstream closed an idle connection: the
    504 went out unmarked, and the SDKs asked twice more, each a cold start's wait again."""
    stub = KeptAliveStub()
    threading.Thread(target=stub.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        with running_router(variant("dev"), tmp_path, upstream=f"127.0.0.1:{stub.server_address[1]}",
                            read_timeout=1) as gate:
            for listener in ("api", "edge"):
                models = f"{gate[listener]}/v1/models"
                stub.mode = "answer"
                assert requests.get(models, headers={"Authorization": f"Bearer {KEY}"}, timeout=15).ok
                stub.mode, before = "stall", stub.connections
                timed_out = requests.get(models, headers={"Authorization": f"Bearer {KEY}"}, timeout=15)
                assert stub.connections == before + 1  # the kept connection, then a new one that stalled
                assert timed_out.status_code == 504, timed_out.status_code
                assert timed_out.headers.get("X-Should-Retry") == "false", listener
                assert not openai_sdk_retries(timed_out)
    finally:
        stub.shutdown()


def test_a_gateway_waits_past_its_gates_deadline():
    """The Gateways' route to a gate waits longer than the gate does for the model (the regional gate, ApiGate's,
    llm-d's): with equal timeouts Envoy's clock, started first, ran out first, and its own 504 ("upstream request
    timeout", unmarked) reached the client, which retried it, instead of the gate's 504 marked not to be retried."""
    from tests.components.test_api_gate import nginx_location_for, router_conf
    checked = 0
    for name in PLANNED:
        plan = planned(name)
        for route in plan.of_type("kubernetes:gateway.networking.k8s.io/v1:HTTPRoute"):
            rules = [rule for rule in route.inputs["spec"]["rules"]
                     if any(ref.get("port") == ROUTER_EDGE_PORT for ref in rule.get("backendRefs", []))]
            if not rules:
                continue
            conf = router_conf(plan, route.inputs["metadata"]["namespace"])
            (gate,) = {int(t) for t in re.findall(r"proxy_read_timeout (\d+)s;",
                                                  nginx_location_for(conf, "/v1/chat/completions")[2])}
            for rule in rules:
                waits = {key: int(re.fullmatch(r"(\d+)s", rule["timeouts"][key])[1])
                         for key in ("request", "backendRequest")}
                assert min(waits.values()) > gate, (name, route.inputs["metadata"]["name"], waits, gate)
                checked += 1
    assert checked >= len(PLANNED)  # every stack's gate route, llm-d's too


def test_past_the_burst_a_client_gets_429_with_retry_after(router):
    """The per-client limit (dev: 300 requests a minute, a burst of 10, nodelay) answers 429 from nginx itself, with
    Retry-After: the seconds until the next request is admitted; admitted answers carry none."""
    (rate,) = [line for line in router["conf"].splitlines() if "limit_req_zone" in line and "zone=per_caller" in line]
    per_minute = int(rate.rsplit("rate=", 1)[1].split("r/m")[0])
    stub, seen = router["stub"], len(router["stub"].seen)
    with requests.Session() as client:  # kept alive: 40 requests well inside the time one more is admitted (0.2 s)
        answers = [chat(router["api"], KEY, client) for _ in range(40)]
    limited = [a for a in answers if a.status_code == 429]
    admitted = [a for a in answers if a.status_code == 200]
    assert limited and admitted and len(limited) + len(admitted) == len(answers)
    assert {a.headers.get("Retry-After") for a in limited} == {str(retry_after_seconds(per_minute))}
    assert all(openai_sdk_retries(a) for a in limited)  # after Retry-After: the SDKs wait what it says, to 120 s
    assert all("Retry-After" not in a.headers for a in admitted)
    assert len(stub.seen) - seen == len(admitted)  # a refused request never reached the model server
    assert json.loads(admitted[0].text) == {"ok": True}


class LimitReq:
    """One client's bucket in nginx's limit_req, `nodelay`, as ngx_http_limit_req_module.c computes it (nginx/nginx
    release-1.29.1 0024724f2f, the router image's; the same in 1.22.1): the zone keeps the rate in requests per 1000 s,
    truncated (ngx_http_limit_req_zone: `ctx->rate = rate * 1000 / scale`), the burst times 1000
    (ngx_http_limit_req: `limit->burst = burst * 1000`); a request finds `excess = lr->excess - ctx->rate * ms / 1000
    + 1000` (not below 0), is refused above the burst without touching the node, else stores it, and `last` when
    time passed (ngx_http_limit_req_lookup, the one limit accounted there)."""

    def __init__(self, per_minute: int, burst: int) -> None:
        self.rate, self.burst = per_minute * 1000 // 60, burst * 1000
        self.excess = self.last = None

    def admits(self, now_ms: int) -> bool:
        if self.last is None:  # a new node: excess 0, admitted
            self.excess, self.last = 0, now_ms
            return True
        ms = now_ms - self.last
        excess = max(0, self.excess - self.rate * ms // 1000 + 1000)
        if excess > self.burst:
            return False
        self.excess, self.last = excess, (now_ms if ms else self.last)
        return True


def test_retry_after_is_the_wait_for_the_next_admitted_request():
    """A client that spent its burst in one instant and retries after Retry-After is admitted, and one whole second
    sooner it is not, at every per-pod rate up to 100 requests a second (a gate's per_pod_limit gives 1 r/m and up:
    1 r/s over 3 replicas is 20 r/m, whose next request nginx admits after 3.004 s, not 3)."""
    for per_minute in range(1, 6001):
        bucket, wait = LimitReq(per_minute, 10), retry_after_seconds(per_minute)
        assert all(bucket.admits(0) for _ in range(11)) and not bucket.admits(0)
        assert wait == 1 or not bucket.admits((wait - 1) * 1000), f"{per_minute} r/m: {wait} s is longer than needed"
        assert bucket.admits(wait * 1000), f"{per_minute} r/m: still refused {wait} s on"


def test_behind_front_door_each_client_front_door_saw_has_its_own_limit(edge_router):
    """The key is the address Front Door appended to X-Forwarded-For (before the Front Door server's, which the
    gateway appends): one client spends its burst without touching another's, and an X-Forwarded-For the client sent
    itself does not move it to another's limit; without X-Azure-FDID the limit keys on the caller's own address."""
    edge = "147.243.1.2"

    def burst(client: str, sent: str = "", fdid: str = "55ce4ed1-4b06-4bf1-b40e-4638452104da") -> list[int]:
        forwarded = f"{sent}, {client},{edge}" if sent else f"{client},{edge}"
        headers = {"Authorization": f"Bearer {KEY}", "X-Forwarded-For": forwarded, **({"X-Azure-FDID": fdid}
                                                                                      if fdid else {})}
        with requests.Session() as session:
            return [session.post(f"{edge_router['edge']}/api/chat", json={}, headers=headers, timeout=5).status_code
                    for _ in range(40)]

    assert 429 in burst("198.51.100.7")
    assert burst("198.51.100.7", sent="198.51.100.8")[0] == 429  # still keyed on what Front Door saw
    assert burst("198.51.100.8", sent="198.51.100.7")[0] == 200  # another client: a limit of its own
    # not through Front Door: the address realip took (the gateway's peer, the last entry), a fresh limit
    assert burst("198.51.100.7", fdid="")[0] == 200


def test_behind_front_door_a_caller_of_the_internal_gateway_cannot_name_its_client_with_x_azure_fdid(edge_router):
    """A region behind Front Door keeps its internal Gateway (gateway.mode both), which any pod or VNet address
    reaches with whatever headers it likes: sending an X-Azure-FDID of its own and a new X-Forwarded-For entry with
    each request, it was keyed on the entry it wrote (FRONT_DOOR_CLIENT) and never met the 429. The entry before the
    last is Front Door's client only when the last, the gateway's peer, is no private address (Front Door connects
    from its public backend ranges); a private peer is keyed on itself."""
    def statuses(peer: str) -> list[int]:  # forty client addresses no other test of this gate spends
        with requests.Session() as session:
            return [session.post(f"{edge_router['edge']}/api/chat", json={}, timeout=5, headers={
                "Authorization": f"Bearer {KEY}", "X-Azure-FDID": "55ce4ed1-4b06-4bf1-b40e-4638452104da",
                "X-Forwarded-For": f"203.0.113.{i}, {peer}"}).status_code for i in range(101, 141)]

    for peer in ("10.224.0.77", "172.16.5.5", "192.168.1.9", "100.64.3.3", "fd00::5"):
        assert 429 in statuses(peer), f"a caller at {peer} escaped its limit with forged client addresses"
    assert set(statuses("147.243.9.9")) == {200}  # a Front Door server's: forty clients it saw


def test_behind_front_door_a_caller_from_the_stacks_own_public_ranges_is_keyed_on_itself(public_space_router):
    """The private flag covered only RFC 1918, 100.64.0.0/10 and fc00::/7: in a region whose VNet (node subnet
    included) or pod range is public space, a caller of the internal Gateway (a VM of the VNet, a node, a pod the
    gateway sees unmasked) passed as a Front Door server and named a new client with each request. The stack's own
    ranges, from its `network` section through the cluster handle, are flagged too; Front Door's servers are still
    read through."""
    def statuses(peer: str) -> list[int]:
        with requests.Session() as session:
            return [session.post(f"{public_space_router['edge']}/api/chat", json={}, timeout=5, headers={
                "Authorization": f"Bearer {KEY}", "X-Azure-FDID": "55ce4ed1-4b06-4bf1-b40e-4638452104da",
                "X-Forwarded-For": f"203.0.113.{i}, {peer}"}).status_code for i in range(101, 141)]

    for what, peer in (("the node subnet", "40.90.0.77"), ("the VNet, outside the node subnet", "40.90.200.9"),
                       ("the pod range", "52.200.3.3")):
        assert 429 in statuses(peer), f"a caller from {what} ({peer}) escaped its limit with forged client addresses"
    assert set(statuses("147.243.9.9")) == {200}  # a Front Door server's: forty clients it saw


def test_llmds_gate_passes_the_openai_routes_and_not_vllms_own(llmd_router):
    """vLLM also serves /metrics, /tokenize, /v1/load_lora_adapter and more to whoever reaches it: the gate passes
    only the OpenAI API's routes, with the key."""
    api, stub = llmd_router["api"], llmd_router["stub"]
    key = {"Authorization": f"Bearer {KEY}"}
    assert requests.post(f"{api}/v1/chat/completions", json={}, timeout=5).status_code == 401
    assert requests.post(f"{api}/v1/chat/completions", json={}, headers=key, timeout=5).status_code == 200
    assert stub.seen[-1][:2] == ("POST", "/v1/chat/completions") and stub.seen[-1][3] == ""
    assert requests.get(f"{api}/v1/models", headers=key, timeout=5).status_code == 200
    seen = len(stub.seen)
    for path in ("/metrics", "/tokenize", "/v1/load_lora_adapter", "/health", "/v1/chat/completions/x"):
        assert requests.post(f"{api}{path}", headers=key, timeout=5).status_code == 403, path
    assert len(stub.seen) == seen


@pytest.fixture(scope="module")
def llmd_ui_router(tmp_path_factory):
    """llm-d's gate with its keyless listener for the llmd stack's Open-WebUI (webui.backend llmd), a limit of its own
    apart from the other tests' (the UI listener keys the limit on the UI pod's address, here 127.0.0.1)."""
    with running_router(variant("llmd"), tmp_path_factory.mktemp("llmd-ui-router"), "llmd-router-config") as running:
        yield running


def test_llmds_ui_listener_takes_no_key_passes_open_webuis_routes_and_keeps_the_limit(llmd_ui_router):
    """The UI calls it without a key: Open-WebUI's routes reach the pool gateway (the Authorization it may send not
    passed on), vLLM's other routes and the API's others are refused; past the burst the UI pod gets the keyed
    listener's 429 with Retry-After, as it did when it called that listener with the key."""
    from llmplatform.llmd_specs import LLMD_API_ROUTES, OPEN_WEBUI_OPENAI_ROUTES
    ui, stub = llmd_ui_router["ui"], llmd_ui_router["stub"]
    assert requests.get(f"{llmd_ui_router['api']}/v1/models", headers={"Authorization": f"Bearer {KEY}"},
                        timeout=5).status_code == 200
    host = stub.seen[-1][2]  # what the keyed listener sends the pool gateway (whose route matches any host)
    assert requests.get(f"{ui}/v1/models", timeout=5).status_code == 200
    assert stub.seen[-1] == ("GET", "/v1/models", host, "")
    assert requests.post(f"{ui}/v1/chat/completions", json={}, headers={"Authorization": "Bearer anything"},
                         timeout=5).status_code == 200
    assert stub.seen[-1] == ("POST", "/v1/chat/completions", host, "")
    seen = len(stub.seen)
    for path in (*sorted(set(LLMD_API_ROUTES) - set(OPEN_WEBUI_OPENAI_ROUTES)), "/metrics", "/tokenize", "/health",
                 MODEL_HEALTH_PATH, "/v1/chat/completions/x"):
        assert requests.post(f"{ui}{path}", json={}, timeout=5).status_code == 403, path
    assert len(stub.seen) == seen
    (rate,) = [line for line in llmd_ui_router["conf"].splitlines() if "zone=per_caller:" in line]
    per_minute = int(rate.rsplit("rate=", 1)[1].split("r/m")[0])
    with requests.Session() as client:  # kept alive: 40 requests well inside the time one more is admitted
        answers = [client.post(f"{ui}/v1/chat/completions", json={}, timeout=5) for _ in range(40)]
    limited = [a for a in answers if a.status_code == 429]
    admitted = [a for a in answers if a.status_code == 200]
    assert limited and admitted and len(limited) + len(admitted) == len(answers)
    assert {a.headers.get("Retry-After") for a in limited} == {str(retry_after_seconds(per_minute))}
    assert len(stub.seen) - seen == len(admitted)  # a refused request never reached the pool


def test_every_planned_router_conf_loads_in_nginx(tmp_path):
    """`nginx -t` on every distinct nginx.conf any planned stack or variant registers (Front Door keying, a UI
    listener, no key, llm-d's, each team's), its key map holding as many keys of the generated length as the global
    stack hands out: each loads as nginx reads it, not only the ones run above."""
    confs = sorted({r.inputs["data"]["nginx.conf"] for name in PLANNED
                    for r in planned(name).of_type("kubernetes:core/v1:ConfigMap")
                    if "nginx.conf" in (r.inputs.get("data") or {})})
    assert len(confs) >= 4
    for i, conf in enumerate(confs):
        root = tmp_path / str(i)
        root.mkdir()
        keys = tuple(f"{i:02d}{KEY[2:]}" for i in range(EDGE_KEYS))
        (root / "nginx.conf").write_text(local_conf(conf, root, "127.0.0.1:9", ROUTER_PORT, ROUTER_UI_PORT,
                                                    ROUTER_EDGE_PORT, keys))
        done = subprocess.run([str(NGINX), "-t", "-q", "-p", f"{root}/", "-c", str(root / "nginx.conf"),
                               "-e", str(root / "logs" / "error.log")], capture_output=True, text=True, timeout=30)
        assert done.returncode == 0, (done.stderr + (root / "logs" / "error.log").read_text())[-2000:] + conf


@pytest.mark.parametrize("stack", ["dev", "global"])
def test_the_test_key_is_as_long_as_the_keys_the_plan_generates(stack):
    """The gates above run with KEY in their key map: it must be as long as the API keys the plan generates (the
    gate's own, the edge's set), since nginx refuses a map whose longest key its buckets do not hold."""
    lengths = {r.inputs["length"] for r in plan_for(stack).of_type("random:index/randomPassword:RandomPassword")
               if "api-key" in r.name}
    assert lengths == {len(KEY)}, lengths


@pytest.fixture(scope="module")
def slow_router(dev, tmp_path_factory):
    """dev's gate at one request a minute: a spent burst stays spent however slowly the machine sends."""
    with running_router(dev, tmp_path_factory.mktemp("slow-router"), per_minute=1) as running:
        yield running


def test_an_in_cluster_caller_cannot_escape_its_limit_with_its_own_x_forwarded_for(slow_router):
    """The API listener serves in-cluster callers (the gate's namespace, `client_namespaces`: pods, whose addresses
    are in the pod range nginx trusts as proxies). Trusted there, a key holder sending a new X-Forwarded-For with
    each request was a new client each time and was never limited. It is keyed on its own address; only the
    Gateways' listener, which the NetworkPolicy opens to the Gateways' namespace alone, reads X-Forwarded-For, and
    there the entry the gateway appended (the last) is the client, whatever the client put before it, even when that
    entry is a pod's (a pod calling a Gateway)."""
    def statuses(base: str, forwarded: list[str]) -> list[int]:
        with requests.Session() as session:
            return [session.post(f"{base}/api/chat", json={}, timeout=5, headers={
                "Authorization": f"Bearer {KEY}", "X-Forwarded-For": value}).status_code for value in forwarded]

    forged = [f"198.51.100.{i}" for i in range(1, 41)]
    assert 429 in statuses(slow_router["api"], forged)  # one caller, however many addresses it claims
    assert set(statuses(slow_router["edge"], forged)) == {200}  # forty clients the Gateway saw, one request each
    assert 429 in statuses(slow_router["edge"], [f"203.0.113.{i}, 192.0.2.9" for i in range(1, 41)])
    # an in-cluster pod calling a Gateway: the gateway appends the pod's own address, in the trusted pod range (here
    # 127.0.0.1); nginx keys on that entry, not on what the pod wrote before it
    assert 429 in statuses(slow_router["edge"], [f"198.51.100.{i}, 127.0.0.1" for i in range(1, 41)])
