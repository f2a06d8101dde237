"""The API gate's nginx.conf, as a plan registers it, run in a real nginx (Debian's, which `make test` unpacks into
.venv/debian; the router's image runs nginx too): in front of a stub model server that records what reaches it, or
of a real one. Only addresses and paths are rewritten (listen ports, the upstream, the mounted key map, /tmp, the
access log), each asserted to be there."""
import contextlib
import http.server
import re
import socket
import subprocess
import threading
import time
from pathlib import Path
from typing import Iterator, Optional

from llmplatform.inference_specs import (API_KEY_LENGTH, MODEL_HEALTH_TIMEOUT_SECONDS, ROUTER_EDGE_PORT, ROUTER_PORT,
                                         ROUTER_UI_PORT, SECRETS_MOUNT, api_key_map_line)

from tests.conftest import PROJECT_DIR
from tests.ports import free_port

NGINX = PROJECT_DIR / ".venv" / "debian" / "usr" / "sbin" / "nginx"
# as long as the keys the program generates (RandomPassword, letters and digits): nginx sizes its map's buckets by
# the longest key, so a short test key would hide a map that real keys do not fit
KEY = ("testkey" + "0123456789abcdefghijklmnopqrstuvwxyz" * 2)[:API_KEY_LENGTH]
EDGE_KEYS = 10  # the most global.apiKeys lists: every region's key map holds them all


STREAM_LINES, STREAM_GAP_S = 3, 0.3  # a streamed answer of the stub: its lines, and the pause before each later one


class StubModelServer(http.server.ThreadingHTTPServer):
    """Answers every request 200 and records what reached it: (method, path, Host, Authorization). A body asking
    `"stream": true` is answered as a model streams, a line at a time, STREAM_GAP_S apart (no length: the answer
    ends when the connection closes, as an HTTP/1.0 server's does)."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, str, str]] = []
        self.stream_written: list[float] = []  # time.monotonic() as each streamed line was written, the last answer's
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                asked = self.rfile.read(length)
                server.seen.append((self.command, self.path, self.headers.get("Host", ""),
                                    self.headers.get("Authorization", "")))
                if b'"stream": true' in asked:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/x-ndjson")
                    self.end_headers()
                    server.stream_written = []
                    for i in range(STREAM_LINES):
                        time.sleep(STREAM_GAP_S if i else 0)
                        self.wfile.write(b'{"message": {"content": "token"}, "done": %s}\n'
                                         % (b"true" if i == STREAM_LINES - 1 else b"false"))
                        self.wfile.flush()
                        server.stream_written.append(time.monotonic())
                    return
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


def local_conf(conf: str, root: Path, upstream: str, api: int, ui: int, edge: int,
               keys: tuple[str, ...] = (KEY,)) -> str:
    """`conf` with only its addresses and paths made local under `root`: the listen ports, the upstream, the mounted
    key map (holding `keys`), /tmp, an access log (Debian's build logs to /var/log/nginx by default, the image's to
    its stdout), and the trusted proxies' range: the pod range becomes 127.0.0.1, as every caller of the test's
    nginx stands for a pod (a Gateway's, or an in-cluster client's: which one, the listener it calls says)."""
    (root / "logs").mkdir(exist_ok=True)
    (root / "secrets").mkdir(exist_ok=True)
    for key_map in re.findall(rf"include {SECRETS_MOUNT}/(\S+);", conf):
        (root / "secrets" / key_map).write_text("".join(map(api_key_map_line, keys)))
    (server,) = re.findall(r"^\s*server (\S+);$", conf, re.M)  # the upstream block's one server
    trusted = sorted(set(re.findall(r"set_real_ip_from (\S+);", conf)))
    return rewritten(conf, {"/tmp/": f"{root}/",  # first: root is under /tmp too
                            **{f"set_real_ip_from {cidr};": "set_real_ip_from 127.0.0.1;" for cidr in trusted},
                            f"listen {ROUTER_PORT};": f"listen 127.0.0.1:{api};",
                            **({f"listen {ROUTER_UI_PORT};": f"listen 127.0.0.1:{ui};"}
                               if f"listen {ROUTER_UI_PORT};" in conf else {}),  # the UI's listener, if any
                            **({f"listen {ROUTER_EDGE_PORT};": f"listen 127.0.0.1:{edge};"}
                               if f"listen {ROUTER_EDGE_PORT};" in conf else {}),  # the Gateways' listener
                            f"server {server};": f"server {upstream};",
                            **({f"{SECRETS_MOUNT}/": f"{root}/secrets/"} if SECRETS_MOUNT in conf else {}),
                            "http {\n": f"http {{\n    access_log {root}/logs/access.log;\n"})


@contextlib.contextmanager
def running_router(plan, root: Path, config_map: str = "inference-router-config", per_minute: int = 0,
                   upstream: Optional[str] = None, read_timeout: int = 0, master: bool = False) -> Iterator[dict]:
    """A router nginx.conf of the plan in nginx, with KEY in its key map, in front of `upstream` (host:port of a real
    model server) or else of a stub model server (its record under "stub"); `per_minute`: the rate limit's rate set
    to it (a test of the limit's keying, not its rate, then does not depend on how fast the machine sends a
    burst); `read_timeout`: the model routes' wait for the model server, in seconds, instead of the planned one;
    `master`: a master process, as the image runs nginx (it writes the pid file and loads the configuration again
    on SIGHUP), instead of one process."""
    assert NGINX.exists(), f"{NGINX} is missing: `make test` unpacks Debian's nginx there"
    (conf,) = [r.inputs["data"]["nginx.conf"] for r in plan.of_type("kubernetes:core/v1:ConfigMap")
               if r.name == config_map]
    (planned_upstream,) = re.findall(r"^\s*server (\S+);$", conf, re.M)  # the upstream block's one server
    stub = None if upstream else StubModelServer()
    if stub is not None:
        threading.Thread(target=stub.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    api, ui, edge = free_port(), free_port(), free_port()
    conf = local_conf(conf, root, upstream or f"127.0.0.1:{stub.server_address[1]}", api, ui, edge)
    if per_minute:
        conf, found = re.subn(r"rate=\d+r/m;", f"rate={per_minute}r/m;", conf)
        assert found, "the rate limit's zones are no longer `rate=<n>r/m`: update this test's rewrite"
    if read_timeout:
        planned_wait = {int(t) for t in re.findall(r"proxy_read_timeout (\d+)s;", conf)}
        planned_wait.discard(MODEL_HEALTH_TIMEOUT_SECONDS)  # the probe location's, not a model route's
        assert len(planned_wait) == 1, f"the model routes' proxy_read_timeout is not one value: {planned_wait}"
        conf = conf.replace(f"proxy_read_timeout {planned_wait.pop()}s;", f"proxy_read_timeout {read_timeout}s;")
    (root / "nginx.conf").write_text(conf)
    # one process in the foreground, as the user running the tests (a master runs as that user too); its error log
    # (a line per refused request: limit_req, deny) to a file: a pipe nobody reads fills (64 KiB, or one page past
    # the user's pipe-user-pages-soft) and nginx blocks in write(2), every request then timing out
    errors = root / "logs" / "error.log"
    with errors.open("a") as log:
        proc = subprocess.Popen([str(NGINX), "-p", f"{root}/", "-c", str(root / "nginx.conf"), "-e", str(errors),
                                 "-g", "daemon off;" if master else "daemon off; master_process off;"],
                                stdout=log, stderr=log)
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
        yield {"api": f"http://127.0.0.1:{api}", "ui": f"http://127.0.0.1:{ui}", "edge": f"http://127.0.0.1:{edge}",
               "stub": stub,
               "host": planned_upstream.rsplit(":", 1)[0], "conf": conf}
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if stub is not None:
            stub.shutdown()
