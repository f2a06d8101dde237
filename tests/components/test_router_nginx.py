"""The API router's nginx.conf, as dev's plan registers it, run in a real nginx (Debian's, which `make test` unpacks
into .venv/debian; the router's image runs nginx too) in front of a stub model server: keys, allowed routes, the health
routes, the UI listener and the rate limit's 429 with Retry-After, as nginx itself answers them. Only addresses and
paths are rewritten (listen ports, the upstream, the mounted key map, /tmp), each asserted to be there."""
import contextlib
import http.server
import json
import re
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest
import requests

from llmplatform.inference_specs import (MODEL_HEALTH_PATH, MODEL_HEALTH_UPSTREAM_PATH, ROUTER_PORT, ROUTER_UI_PORT,
                                         SECRETS_MOUNT, api_key_map_line, retry_after_seconds)

from tests.conftest import PLANNED, PROJECT_DIR, REGIONS, plan_for, planned, variant
from tests.ports import free_port

NGINX = PROJECT_DIR / ".venv" / "debian" / "usr" / "sbin" / "nginx"
KEY = "test-key-0123456789"


class StubModelServer(http.server.ThreadingHTTPServer):
    """Answers every request 200 and records what reached it: (method, path, Host, Authorization)."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, str, str]] = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                server.seen.append((self.command, self.path, self.headers.get("Host", ""),
                                    self.headers.get("Authorization", "")))
                body = b'{"ok": true}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = answer

            def log_message(self, *args) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)


def rewritten(conf: str, swaps: dict[str, str]) -> str:
    for old, new in swaps.items():
        assert old in conf, f"{old!r} is no longer in the router's nginx.conf: update this test's rewrite"
        conf = conf.replace(old, new)
    return conf


def local_conf(conf: str, root: Path, upstream: str, api: int, ui: int) -> str:
    """`conf` with only its addresses and paths made local under `root`: the listen ports, the upstream, the mounted
    key map (holding KEY), /tmp, and an access log (Debian's build logs to /var/log/nginx by default, the image's to
    its stdout)."""
    (root / "logs").mkdir(exist_ok=True)
    (root / "secrets").mkdir(exist_ok=True)
    for key_map in re.findall(rf"include {SECRETS_MOUNT}/(\S+);", conf):
        (root / "secrets" / key_map).write_text(api_key_map_line(KEY))
    (server,) = re.findall(r"^\s*server (\S+);$", conf, re.M)  # the upstream block's one server
    return rewritten(conf, {"/tmp/": f"{root}/",  # first: root is under /tmp too
                            f"listen {ROUTER_PORT};": f"listen 127.0.0.1:{api};",
                            **({f"listen {ROUTER_UI_PORT};": f"listen 127.0.0.1:{ui};"}
                               if f"listen {ROUTER_UI_PORT};" in conf else {}),  # the UI's listener, if any
                            f"server {server};": f"server {upstream};",
                            **({f"{SECRETS_MOUNT}/": f"{root}/secrets/"} if SECRETS_MOUNT in conf else {}),
                            "http {\n": f"http {{\n    access_log {root}/logs/access.log;\n"})


@contextlib.contextmanager
def running_router(plan, root: Path, config_map: str = "inference-router-config", per_minute: int = 0):
    """A router nginx.conf of the plan in nginx, with a stub model server behind it and KEY in its key map;
    `per_minute`: the rate limit's rate set to it (a test of the limit's keying, not its rate, then does not depend on
    how fast the machine sends a burst)."""
    assert NGINX.exists(), f"{NGINX} is missing: `make test` unpacks Debian's nginx there"
    (conf,) = [r.inputs["data"]["nginx.conf"] for r in plan.of_type("kubernetes:core/v1:ConfigMap")
               if r.name == config_map]
    (upstream,) = re.findall(r"^\s*server (\S+);$", conf, re.M)  # the upstream block's one server
    stub = StubModelServer()
    threading.Thread(target=stub.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    api, ui = free_port(), free_port()
    conf = local_conf(conf, root, f"127.0.0.1:{stub.server_address[1]}", api, ui)
    if per_minute:
        conf, found = re.subn(r"rate=\d+r/m;", f"rate={per_minute}r/m;", conf)
        assert found == 1, "the rate limit's zone is no longer `rate=<n>r/m`: update this test's rewrite"
    (root / "nginx.conf").write_text(conf)
    # one process in the foreground, as the user running the tests (no master dropping to `nobody`); its error log
    # (a line per refused request: limit_req, deny) to a file: a pipe nobody reads fills (64 KiB, or one page past
    # the user's pipe-user-pages-soft) and nginx blocks in write(2), every request then timing out
    errors = root / "logs" / "error.log"
    with errors.open("a") as log:
        proc = subprocess.Popen([str(NGINX), "-p", f"{root}/", "-c", str(root / "nginx.conf"), "-e", str(errors),
                                 "-g", "daemon off; master_process off;"], stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", api), timeout=0.2).close()
                break
            except OSError:
                assert proc.poll() is None, f"nginx refused the router's conf: {errors.read_text()}"
                assert time.monotonic() < deadline, "nginx did not listen within 10 s"
                time.sleep(0.02)
        # the Host the KEDA interceptor routes on
        yield {"api": f"http://127.0.0.1:{api}", "ui": f"http://127.0.0.1:{ui}", "stub": stub,
               "host": upstream.rsplit(":", 1)[0], "conf": conf}
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        stub.shutdown()


@pytest.fixture(scope="module")
def router(dev, tmp_path_factory):
    with running_router(dev, tmp_path_factory.mktemp("router")) as running:
        yield running


@pytest.fixture(scope="module")
def edge_router(tmp_path_factory):
    """A region behind Front Door (its gate keys the limit on the client Front Door saw)."""
    # one request a minute: a client's spent burst stays spent however slowly the machine sends the next one
    with running_router(plan_for(REGIONS[0]), tmp_path_factory.mktemp("edge-router"), per_minute=1) as running:
        yield running


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
    assert chat(api, KEY).status_code == 200
    assert stub.seen[-1] == ("POST", "/api/chat", router["host"], "")  # its Host, the key not passed on
    for path in ("/api/pull", "/api/delete", "/metrics"):
        assert requests.post(f"{api}{path}", timeout=5).status_code == 401
        assert requests.post(f"{api}{path}", headers={"Authorization": f"Bearer {KEY}"}, timeout=5).status_code == 403
    assert len(stub.seen) == before + 1


def test_the_health_routes_answer_without_a_key(router):
    assert requests.get(f"{router['api']}/healthz", timeout=5).text == "ok\n"
    assert requests.get(f"{router['api']}{MODEL_HEALTH_PATH}", timeout=5).status_code == 200
    assert router["stub"].seen[-1][:2] == ("GET", MODEL_HEALTH_UPSTREAM_PATH)
    assert requests.post(f"{router['api']}{MODEL_HEALTH_PATH}", timeout=5).status_code == 403  # GET only


def test_the_ui_listener_takes_no_key_and_only_the_uis_routes(router):
    assert chat(router["ui"]).status_code == 200
    assert router["stub"].seen[-1][:2] == ("POST", "/api/chat")
    assert requests.post(f"{router['ui']}/api/pull", timeout=5).status_code == 403


def test_past_the_burst_a_client_gets_429_with_retry_after(router):
    """The per-client limit (dev: 300 requests a minute, a burst of 10, nodelay) answers 429 from nginx itself, with
    Retry-After: the seconds until the next request is admitted; admitted answers carry none."""
    (rate,) = [line for line in router["conf"].splitlines() if "limit_req_zone" in line]
    per_minute = int(rate.rsplit("rate=", 1)[1].split("r/m")[0])
    stub, seen = router["stub"], len(router["stub"].seen)
    with requests.Session() as client:  # kept alive: 40 requests well inside the time one more is admitted (0.2 s)
        answers = [chat(router["api"], KEY, client) for _ in range(40)]
    limited = [a for a in answers if a.status_code == 429]
    admitted = [a for a in answers if a.status_code == 200]
    assert limited and admitted and len(limited) + len(admitted) == len(answers)
    assert {a.headers.get("Retry-After") for a in limited} == {str(retry_after_seconds(per_minute))}
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
            return [session.post(f"{edge_router['api']}/api/chat", json={}, headers=headers, timeout=5).status_code
                    for _ in range(40)]

    assert 429 in burst("198.51.100.7")
    assert burst("198.51.100.7", sent="198.51.100.8")[0] == 429  # still keyed on what Front Door saw
    assert burst("198.51.100.8", sent="198.51.100.7")[0] == 200  # another client: a limit of its own
    assert burst("198.51.100.7", fdid="")[0] == 200  # not through Front Door: the caller's address (127.0.0.1)


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


def test_every_planned_router_conf_loads_in_nginx(tmp_path):
    """`nginx -t` on every distinct nginx.conf any planned stack or variant registers (Front Door keying, a UI
    listener, no key, llm-d's, each team's): each loads as nginx reads it, not only the ones run above."""
    confs = sorted({r.inputs["data"]["nginx.conf"] for name in PLANNED
                    for r in planned(name).of_type("kubernetes:core/v1:ConfigMap")
                    if "nginx.conf" in (r.inputs.get("data") or {})})
    assert len(confs) >= 4
    for i, conf in enumerate(confs):
        root = tmp_path / str(i)
        root.mkdir()
        (root / "nginx.conf").write_text(local_conf(conf, root, "127.0.0.1:9", ROUTER_PORT, ROUTER_UI_PORT))
        done = subprocess.run([str(NGINX), "-t", "-q", "-p", f"{root}/", "-c", str(root / "nginx.conf"),
                               "-e", str(root / "logs" / "error.log")], capture_output=True, text=True, timeout=30)
        assert done.returncode == 0, (done.stderr + (root / "logs" / "error.log").read_text())[-2000:] + conf
