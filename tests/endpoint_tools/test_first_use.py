"""llm-smoke and llm-bench used as the docs say, for the first time, against endpoints and networks that misbehave in
ways the other files do not cover: a redirect that changes the request (another host drops the key; a 301 makes the
POST a GET), a proxy from the environment, a CA bundle from the environment, a stream cut inside an event, a
Ctrl-C during smoke's burst, an open-loop run whose workers cannot keep up, HTML error pages, Retry-After. Each
was found by the stranger's review of the tools (docs/decisions.md, "2026-12-06: a stranger's review of the
endpoint tools")."""

import importlib.util
import json
import shutil
import socket
import socketserver
import ssl
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Optional

import pytest

from endpoint_tools import bench, smoke
from endpoint_tools.loopback_server import BackgroundServer, LoopbackServer, _Handler
from endpoint_tools.stats import percentile

from tests.endpoint_tools.test_bench import ctrl_c_once, run_bench, with_ctrl_c
from tests.endpoint_tools.test_hostile import delta, no_traceback

ROOT = Path(__file__).resolve().parents[2]  # the repository: no tests/endpoint_tools in the way
KEY = "sk-first-use-7f3a9c"
CHAT = b'{"choices": [{"message": {"content": "hi"}}], "usage": {"prompt_tokens": 1, "completion_tokens": 1}}'
PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class _Quiet(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:
        pass

    def _send(self, status: int, body: bytes = b"", headers: Optional[dict] = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _read_body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))


class _Redirects(_Quiet):
    """Every request: `status` to the same path under the server's `target`."""

    def do_GET(self) -> None:  # noqa: N802
        self._read_body()
        server = self.server
        self._send(server.status, headers={"Location": server.target + self.path})  # type: ignore[attr-defined]

    do_POST = do_GET


def redirecting(target: str, status: int = 302) -> BackgroundServer:
    server = BackgroundServer(("127.0.0.1", 0), _Redirects)
    server.target, server.status = target, status  # type: ignore[attr-defined]
    return server


class _KeyGate(_Quiet):
    """401 to a request without the bearer KEY (recording each Authorization header it got); the models and a
    completion to one with it. Only a GET is served: a POST that arrives as a GET is answered 405."""

    def do_GET(self) -> None:  # noqa: N802
        self.server.seen.append(self.headers.get("Authorization"))  # type: ignore[attr-defined]
        if self.server.keyed and self.headers.get("Authorization") != f"Bearer {KEY}":  # type: ignore[attr-defined]
            self._send(401, b'{"error": {"message": "missing or invalid API key"}}')
        elif self.path == "/v1/models":
            self._send(200, b'{"data": [{"id": "m"}]}')
        else:
            self._send(405, b'{"error": "Method Not Allowed"}')

    def do_POST(self) -> None:  # noqa: N802
        self._read_body()
        self._send(200, CHAT)


def key_gate(keyed: bool = True) -> BackgroundServer:
    server = BackgroundServer(("127.0.0.1", 0), _KeyGate)
    server.seen, server.keyed = [], keyed  # type: ignore[attr-defined]
    return server


def test_a_redirect_to_another_host_left_the_key_behind_and_says_so_not_that_it_was_refused(capsys):
    """A 302 to another host: requests drops the Authorization header (requests 2.34.2 `should_strip_auth`), so the
    key never reached the server that answered 401; the line said "the key given (--api-key or $LLM_API_KEY) was
    refused", sending the operator after a key that is right."""
    with key_gate() as gate:
        target = f"http://localhost:{gate.server_address[1]}"  # another host name for the same server
        with redirecting(target) as server:
            assert smoke.main([server.url, "--api-key", KEY, "--timeout", "5"]) == 1
    out = capsys.readouterr().out
    assert gate.seen == [None], gate.seen  # the key went nowhere but the server it was given for
    assert "[unauthorized]" in out and "the API key was not sent there" in out, out
    assert f"give the URL it redirects to ({target})" in out and "was refused" not in out, out
    assert KEY not in out


def test_a_301_that_made_the_post_a_get_says_so(capsys):
    """A 301 (an ingress sending http:// to https://) answers the POST of a completion: requests follows it with a
    GET without the body, as browsers do (`rebuild_method`), and the target's 405 was told as "POST ... answered
    405", a request the tools never sent there."""
    with key_gate(keyed=False) as gate, redirecting(f"http://127.0.0.1:{gate.server_address[1]}", 301) as server:
        assert smoke.main([server.url, "--api", "openai", "--timeout", "5"]) == 1
    out = capsys.readouterr().out
    assert "PASS  models" in out, out  # a GET redirected stays a GET
    assert ("answered 405: Method Not Allowed; the 301 redirect made the POST a GET, without its body: give the URL "
            f"it redirects to (http://127.0.0.1:{gate.server_address[1]})") in out, out


class _CutStream(_Quiet):
    """A model list, a completion, and a stream whose body ends with the connection (no length, not chunked), cut
    inside its second event."""

    def do_GET(self) -> None:  # noqa: N802
        self._send(200, b'{"data": [{"id": "m"}]}')

    def do_POST(self) -> None:  # noqa: N802
        if not json.loads(self._read_body()).get("stream"):
            self._send(200, CHAT)
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(f"data: {delta('a')}\n\ndata: {delta('b')[:20]}".encode())
        self.close_connection = True


def test_a_stream_cut_inside_an_event_is_a_closed_connection_not_a_bad_event(tmp_path, capsys):
    """A stream whose connection closed in the middle of an event (its body ends at the close, RFC 9112 6.3) was
    `bad_stream` "an event is not JSON", blaming the server's JSON for a cut connection."""
    with BackgroundServer(("127.0.0.1", 0), _CutStream) as server:
        assert smoke.main([server.url, "--api", "openai", "--timeout", "5"]) == 1
        out = capsys.readouterr().out
        code, report = run_bench(tmp_path, server.url, "--api", "openai", "-n", "2", "-c", "1")
    assert "FAIL  stream      [closed]" in out and "the connection closed in the middle of an event" in out, out
    assert code == 1 and report["summary"]["errors"] == {"closed": 2}


@pytest.fixture
def no_proxy_settings(monkeypatch):
    """The environment without proxy settings of its own (either case), for a test to set its own."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    return monkeypatch


class _Proxy407(_Quiet):
    """A proxy that wants credentials: 407 to a CONNECT and to a plain-HTTP request alike."""

    def do_CONNECT(self) -> None:  # noqa: N802
        self._send(407, headers={"Proxy-Authenticate": 'Basic realm="corp"'})

    def do_GET(self) -> None:  # noqa: N802
        self._send(407, b"<html><body>Proxy authentication required</body></html>",
                   {"Proxy-Authenticate": 'Basic realm="corp"'})


def test_a_proxy_that_refuses_or_wants_credentials_is_named_not_the_endpoint(no_proxy_settings, capsys):
    """HTTPS_PROXY (or HTTP_PROXY) naming a proxy that is down read "connection refused by <the endpoint> (is the
    port-forward or gateway up?)", and one that wants credentials "cannot talk to <the endpoint>: Tunnel connection
    failed: 407": the operator looked at the endpoint. The proxy is named, without its password, with the variable
    that set it and NO_PROXY."""
    dead = f"http://proxyuser:proxy-pass-5e1@127.0.0.1:{free_port()}"
    no_proxy_settings.setenv("HTTPS_PROXY", dead)
    assert smoke.main(["https://llm.example.invalid", "--api", "openai", "--timeout", "5"]) == 1
    out = capsys.readouterr().out
    assert ("[refused] connection refused by the proxy http://proxyuser:***@127.0.0.1:"
            in out and "($HTTPS_PROXY; hosts in $NO_PROXY are reached directly), on the way to "
            "https://llm.example.invalid/v1/models" in out), out
    with BackgroundServer(("127.0.0.1", 0), _Proxy407) as proxy:
        no_proxy_settings.setenv("HTTPS_PROXY", proxy.url)
        assert smoke.main(["https://llm.example.invalid", "--api", "openai", "--timeout", "5"]) == 1
        out = capsys.readouterr().out
        assert f"the proxy {proxy.url} ($HTTPS_PROXY" in out and "refused to open a tunnel to" in out, out
        assert "407 Proxy Authentication Required; it wants a user and password" in out, out
        no_proxy_settings.setenv("HTTP_PROXY", proxy.url.replace("//", "//u:proxy-pass-5e1@"))
        assert smoke.main(["http://llm.example.invalid", "--api", "openai", "--timeout", "5"]) == 1
        out = capsys.readouterr().out
        assert "answered 407: Proxy authentication required; 407 is the answer of the proxy http://u:***@" in out, out
        assert "it refused the user and password in $HTTP_PROXY" in out, out
        no_proxy_settings.setenv("NO_PROXY", "127.0.0.1")  # around the proxy: the endpoint itself is tried
        assert smoke.main([f"http://127.0.0.1:{free_port()}", "--api", "openai", "--timeout", "5"]) == 1
        out = capsys.readouterr().out
    assert "[refused] connection refused by http://127.0.0.1:" in out and "proxy" not in out, out
    assert "proxy-pass-5e1" not in out


def test_a_ca_bundle_that_is_not_there_is_a_tls_failure_not_a_traceback(tmp_path, monkeypatch, capsys):
    """REQUESTS_CA_BUNDLE naming a file that is not there (a path from another machine): requests raises a plain
    OSError before connecting (adapters.py `cert_verify`), which escaped both tools as a traceback."""
    missing = tmp_path / "corp-ca.pem"
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(missing))
    url = f"https://127.0.0.1:{free_port()}"
    assert smoke.main([url, "--timeout", "5"]) == 1
    captured = capsys.readouterr()
    assert (f"[tls] cannot check the certificate of {url}/v1/models: $REQUESTS_CA_BUNDLE ('{missing}') is no file "
            "or folder of certificates") in captured.out, captured.out
    assert run_bench(tmp_path, url, "-n", "1") == (1, None)
    captured = capsys.readouterr()
    assert "cannot start the benchmark: [tls]" in captured.err and no_traceback(captured), captured


def test_a_certificate_no_ca_given_vouches_for_says_how_to_trust_it(tmp_path, monkeypatch, capsys):
    """A self-signed (or private-CA) certificate: the line named the TLS library's CERTIFICATE_VERIFY_FAILED and
    nothing an operator can do; it says REQUESTS_CA_BUNDLE, and with that set to the certificate the checks pass."""
    if shutil.which("openssl") is None:
        pytest.skip("no openssl to make a certificate with")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out",
                    str(cert), "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    server = LoopbackServer("ok")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    url = server.url.replace("http://", "https://")
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    with server:
        assert smoke.main([url, "--api", "openai", "--timeout", "5"]) == 1
        out = capsys.readouterr().out
        assert "CERTIFICATE_VERIFY_FAILED" in out and "set REQUESTS_CA_BUNDLE to its certificate (a PEM file)" in out
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert))
        assert smoke.main([url, "--api", "openai", "--timeout", "5"]) == 0, capsys.readouterr().out


class _BurstHangs(_Handler):
    """The loopback server's answers, except that every model list after the first never comes: smoke's rate-limit
    burst waits on all of them."""

    def do_GET(self) -> None:  # noqa: N802
        with self.server.lock:
            self.server.lists += 1  # type: ignore[attr-defined]
            first = self.server.lists == 1  # type: ignore[attr-defined]
        if first:
            super().do_GET()
        else:
            time.sleep(30)


SMOKE_WITH_CTRL_C = with_ctrl_c("llm-smoke", "endpoint_tools.smoke")


def test_ctrl_c_during_the_rate_limit_burst_ends_at_once_keeping_the_checks_done(capsys):
    """Ctrl-C while the burst's requests waited for a server that did not answer: llm-smoke stayed until each reached
    its deadline (its thread pool is joined on the way out: `--timeout 40` held it 38 s), and then printed only
    "interrupted": the checks already made were printed at the end, so none was shown."""
    server = BackgroundServer(("127.0.0.1", 0), _BurstHangs)
    server.mode, server.received, server.lock, server.lists = "ok", 0, threading.Lock(), 0  # type: ignore[attr-defined]
    with server:
        process = subprocess.Popen([*SMOKE_WITH_CTRL_C, server.url, "--api", "openai", "--rate-limit-burst", "4",
                                    "--timeout", "40"], cwd=ROOT, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True)
        # the burst's 4 lists are out
        stdout, stderr, exited_s = ctrl_c_once(process, lambda: server.lists >= 5, timeout_s=30)
    assert exited_s < 4, f"llm-smoke ended {exited_s:.1f} s after Ctrl-C"
    assert process.returncode == 130 and stderr == "interrupted\n", (stdout, stderr)
    for check in ("models", "completion", "stream"):
        assert f"PASS  {check}" in stdout, stdout


class _Scripted(_Quiet):
    """A model server whose every stream takes its time: headers at once, the first token after `first_s`, then
    `tokens - 1` more `gap_s` apart, the usage and [DONE]; the request's arrival recorded."""

    def do_GET(self) -> None:  # noqa: N802
        self._send(200, b'{"data": [{"id": "m"}]}')

    def do_POST(self) -> None:  # noqa: N802
        self._read_body()
        server = self.server
        with server.lock:  # type: ignore[attr-defined]
            first_s = server.first_s[server.count % len(server.first_s)]  # type: ignore[attr-defined]
            server.count += 1  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.wfile.flush()

        def send(text: str) -> None:
            data = text.encode()
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()
        time.sleep(first_s)
        for token in range(server.tokens):  # type: ignore[attr-defined]
            if token:
                time.sleep(server.gap_s)  # type: ignore[attr-defined]
            send(f"data: {delta(f't{token}')}\n\n")
        send(f'data: {{"choices": [], "usage": {{"prompt_tokens": 1, "completion_tokens": {server.tokens}}}}}\n\n')
        send("data: [DONE]\n\n")
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()


def scripted(first_s: list[float], tokens: int = 5, gap_s: float = 0.02) -> BackgroundServer:
    server = BackgroundServer(("127.0.0.1", 0), _Scripted)
    server.first_s, server.tokens, server.gap_s = first_s, tokens, gap_s  # type: ignore[attr-defined]
    server.count, server.lock = 0, threading.Lock()  # type: ignore[attr-defined]
    return server


def test_the_figures_of_a_closed_loop_run_are_what_the_server_was_scripted_to_take(tmp_path):
    """One at a time, five streams whose first token comes after 50, 100, 200, 400 and 300 ms and then 5 tokens 20 ms
    apart: latency, TTFT, ITL, per-request tokens/s and throughput as computed by hand (numpy's linear percentile),
    with the client's and the loopback's own time as the only difference (held the first time)."""
    first = [0.05, 0.10, 0.20, 0.40, 0.30]
    with scripted(first) as server:
        code, report = run_bench(tmp_path, server.url, "--api", "openai", "--model", "m", "-n", "5", "-c", "1")
    summary, latencies = report["summary"], [f + 4 * 0.02 for f in first]
    assert code == 0 and summary["succeeded"] == 5 and summary["output_tokens"] == 25
    # never below what the server took; above it by no more than the client's and the loopback's own time, as the
    # client measured it per request (a full suite on a busy 2-core machine stretched it from ~5 to ~800 ms: a fixed
    # margin failed there); a percentile of values each within [scripted, scripted + d] is within that of the scripted
    rows = sorted(report["results"], key=lambda row: row["start_s"])
    over_s = max(max(row["latency_s"] - lat, row["ttft_s"] - f) for row, lat, f in zip(rows, latencies, first))
    assert 0 <= over_s < 2 and all(row["ttft_s"] >= f and row["latency_s"] >= lat
                                   for row, lat, f in zip(rows, latencies, first)), rows
    slack_ms = over_s * 1000 + 0.01  # the summary's rounding to 0.01 ms
    for q in (50, 90, 95, 99):
        assert 0 <= summary["latency_ms"][f"p{q}"] - percentile(latencies, q) * 1000 <= slack_ms, summary
    for q in (50, 95, 99):
        assert 0 <= summary["ttft_ms"][f"p{q}"] - percentile(first, q) * 1000 <= slack_ms, summary
    assert 0 <= summary["latency_ms"]["max"] - 480 <= slack_ms and 0 <= summary["latency_ms"]["avg"] - 290 <= slack_ms
    assert 19.5 <= summary["itl_ms"]["p50"] < 60 and 16 < summary["request_tokens_per_s"]["p50"] <= 51.3, summary
    # throughput: the successes and their tokens over the run's wall time, which the five latencies fill
    wall = summary["wall_s"]  # rounded to the ms, the rates computed before
    assert 1.45 <= wall < 1.45 + 5 * slack_ms / 1000 + 0.5 and abs(summary["requests_per_s"] - 5 / wall) < 0.02, summary
    assert abs(summary["output_tokens_per_s"] - 25 / wall) < 0.05, summary
    assert summary["wait_ms"] == {"p50": None, "p99": None, "max": None}  # a closed loop has no arrivals


def test_an_open_loop_counts_the_wait_for_a_worker_in_latency_and_says_the_rate_was_not_sent(tmp_path, capsys):
    """`--rate 10 -c 1` against answers of 0.3 s: arrivals queued for the one worker for up to a second and more, and
    the run reported a p99 latency of 0.3 s: the open loop, documented as showing queueing in latency, hid it and
    sent at the pace of the answers (coordinated omission), without a word."""
    with scripted([0.3], tokens=1) as server:
        code, report = run_bench(tmp_path, server.url, "--api", "openai", "--model", "m", "--rate", "10",
                                 "--duration", "0.6", "-c", "1", "--seed", "3")
    rows, captured = report["results"], capsys.readouterr()
    assert code == 0 and len(rows) >= 4, rows
    for row in rows:  # each row: its wait after its arrival, then its 0.3 s
        assert abs(row["wait_s"] - (row["start_s"] - row["scheduled_s"])) < 0.002, row
        assert row["latency_s"] - row["wait_s"] >= 0.3 and row["ttft_s"] - row["wait_s"] >= 0.3, row
    assert max(r["wait_s"] for r in rows) > 0.5 and report["summary"]["latency_ms"]["max"] > 800, report["summary"]
    assert report["summary"]["wait_ms"]["max"] == round(max(r["wait_s"] for r in rows) * 1000, 2)
    assert ("for one of the -c 1 workers after their arrival: the server saw fewer than --rate 10/s"
            in captured.err), captured.err
    assert "Wait for a worker ms (--rate: arrival to send, in latency and TTFT): p50" in captured.out, captured.out
    assert "wait_s" in Path(tmp_path / "run.csv").read_text().splitlines()[0]


class _HtmlErrors(_Quiet):
    """Python's own HTML error page (its title repeats the heading, its words hold entities), with Retry-After."""

    def do_GET(self) -> None:  # noqa: N802
        self.send_error(503, "Service Unavailable", "Upstream isn't ready & the pool is empty")

    def send_response(self, code, message=None) -> None:
        super().send_response(code, message)
        self.send_header("Retry-After", self.server.retry_after)  # type: ignore[attr-defined]


@pytest.mark.parametrize("retry_after", ["7", "Wed, 21 Oct 2026 07:28:00 GMT"])
def test_an_html_error_page_is_shown_by_its_words_with_the_retry_after(retry_after, capsys):
    """The page's title came twice ("Error response Error response Error code: 503") and its entities raw
    (`isn&#x27;t ready &amp; the pool`); a 429's or 503's Retry-After, in either form, was not shown."""
    server = BackgroundServer(("127.0.0.1", 0), _HtmlErrors)
    server.retry_after = retry_after  # type: ignore[attr-defined]
    with server:
        assert smoke.main([server.url, "--api", "openai", "--timeout", "5"]) == 1
    out = capsys.readouterr().out
    assert ("answered 503: Error response Error code: 503 Message: Service Unavailable. Error code explanation: "
            "503 - Upstream isn't ready & the pool is empty. (Retry-After: " + retry_after + ")") in out, out


class _Thinking(_Quiet):
    """A reasoning model (gpt-oss, deepseek-r1, Qwen3 behind a reasoning parser): `thoughts` tokens of reasoning under
    the server's `key`, then `words` tokens of answer, `gap_s` apart, the usage counting both; non-streamed, the
    whole of it in one message (`"content": null` when no answer came, as vLLM sends). Ollama's native API (key
    `thinking`) in its own shapes."""

    def do_GET(self) -> None:  # noqa: N802
        native = self.server.key == "thinking"  # type: ignore[attr-defined]
        self._send(200, b'{"models": [{"name": "m"}]}' if native else b'{"data": [{"id": "m"}]}')

    def do_POST(self) -> None:  # noqa: N802
        server, request = self.server, json.loads(self._read_body())
        key, thoughts, words = server.key, server.thoughts, server.words  # type: ignore[attr-defined]
        native = key == "thinking"
        pieces = [(key, f"r{i} ") for i in range(thoughts)] + [("content", f"w{i} ") for i in range(words)]
        total = {"prompt_tokens": 1, "completion_tokens": thoughts + words}
        final = {"done": True, "prompt_eval_count": 1, "eval_count": thoughts + words}
        if not request.get("stream"):
            answer = "".join(text for field, text in pieces if field == "content")
            thought = "".join(text for field, text in pieces if field == key)
            if self.path == "/api/generate":
                body = {"response": answer, "thinking": thought, **final}
            elif native:
                body = {"message": {"role": "assistant", "content": answer, "thinking": thought}, **final}
            else:
                body = {"choices": [{"message": {"role": "assistant", "content": answer or None, key: thought}}],
                        "usage": total}
            self._send(200, json.dumps(body).encode())
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/x-ndjson" if native else "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

        def send(event: dict) -> None:
            data = (json.dumps(event) + "\n" if native else f"data: {json.dumps(event)}\n\n").encode()
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()
        for n, (field, text) in enumerate(pieces):
            if n:
                time.sleep(server.gap_s)  # type: ignore[attr-defined]
            send({"message": {"role": "assistant", field: text}, "done": False} if native
                 else {"choices": [{"delta": {field: text}}]})
        if native:
            send({"message": {"role": "assistant", "content": ""}, **final})
        else:
            send({"choices": [], "usage": total})
            self.wfile.write(b"%x\r\n%s\r\n" % (len(b"data: [DONE]\n\n"), b"data: [DONE]\n\n"))
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()


def thinking(key: str, thoughts: int, words: int, gap_s: float = 0.0) -> BackgroundServer:
    server = BackgroundServer(("127.0.0.1", 0), _Thinking)
    server.key, server.thoughts, server.words, server.gap_s = key, thoughts, words, gap_s  # type: ignore[attr-defined]
    return server


@pytest.mark.parametrize("key", ["reasoning_content", "reasoning", "thinking"])
def test_a_reasoning_models_answer_cut_inside_its_reasoning_passes_saying_so(key, capsys):
    """gpt-oss and deepseek-r1 (the catalogue's) think before they answer, in a field of their own; with smoke's 32
    tokens the answer had not begun: "FAIL completion empty content" and "FAIL stream no content chunks" (and, on
    Ollama's API, "FAIL generate empty or unfinished") for a model that works."""
    with thinking(key, thoughts=12, words=0, gap_s=0.002) as server:  # spread: no buffering proxy
        assert smoke.main([server.url, "--timeout", "5"]) == 0, capsys.readouterr().out
    out = capsys.readouterr().out
    checks = ("completion", "stream", "generate") if key == "thinking" else ("completion", "stream")
    for check in checks:
        assert f"PASS  {check:<11}" in out and "all of its reasoning (the answer had not begun within --max-tokens)" \
            in out.split(f"PASS  {check:<11}")[1].splitlines()[0], out
    assert "12 tokens" in out, out


def test_a_reasoning_models_first_token_and_token_gaps_count_its_reasoning(tmp_path):
    """20 tokens of reasoning then 4 of answer, 20 ms apart: TTFT was timed at the first token of the answer
    (~400 ms), and the inter-token time spread the answer's 3 gaps over all 23 (2.6 ms: 380 tokens/s for a model
    that makes 50). The first token is the reasoning's; the gaps are the 20 ms the server took."""
    with thinking("reasoning_content", thoughts=20, words=4, gap_s=0.02) as server:
        code, report = run_bench(tmp_path, server.url, "--api", "openai", "-n", "2", "-c", "1")
    summary = report["summary"]
    assert code == 0 and summary["output_tokens"] == 48, summary
    assert summary["ttft_ms"]["p50"] < 250 and 19.5 <= summary["itl_ms"]["p50"] < 60, summary
    assert 16 < summary["request_tokens_per_s"]["p50"] <= 51.3 and report["results"][0]["chunks"] == 24, summary


VERIFY_WITH_CTRL_C = with_ctrl_c("llm-verify", "endpoint_tools.verify")


def test_ctrl_c_during_llm_verifys_smoke_request_keeps_the_cluster_checks_made(tmp_path):
    """The smoke request through the gate comes last and may wait minutes (a replica scaled to zero); Ctrl-C there
    printed only the header: a part's checks were printed once all of them had run, so the cluster's were lost."""
    from tests.conftest import variant
    from tests.endpoint_tools.test_verify_ollama import healthy, outputs
    from tests.kube_fake import FakeKubeApi
    plan = variant("dev-smb-nogpu")  # no API key on its gate
    with FakeKubeApi(healthy(plan)) as api, LoopbackServer("hang", hang_s=30) as llm:
        path = tmp_path / "outputs.json"
        path.write_text(json.dumps(outputs(plan, api, llm)))
        process = subprocess.Popen([*VERIFY_WITH_CTRL_C, "--outputs", str(path), "--kube-timeout", "5",
                                    "--timeout", "30"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   text=True)
        # the smoke request waits on the gate
        stdout, stderr, exited_s = ctrl_c_once(process, lambda: llm.received >= 1, wait_s=30, timeout_s=30)
    assert exited_s < 4 and process.returncode == 130 and stderr == "interrupted\n", (exited_s, stdout, stderr)
    for check in ("model-claim", "model-preload", "ollama", "hpa", "router", "gateways"):
        assert f"PASS  {check}" in stdout, stdout
    assert "smoke" not in stdout, stdout


def test_bench_says_when_streams_were_held_back_by_a_buffering_proxy(tmp_path, capsys):
    """A proxy that buffers whole answers: llm-smoke's stream check fails it, but llm-bench reported the chunks that
    came together as 0.01 ms between tokens and 180,000 output tokens/s a request, without a word."""
    with LoopbackServer("buffered", trickle_n=20) as server:
        code, report = run_bench(tmp_path, server.url, "--api", "openai", "-n", "3", "-c", "1")
    err = capsys.readouterr().err
    assert code == 0 and all(row["held_back"] for row in report["results"]), report["results"]
    assert "3 of 3 successful streams arrived all at once (at least 8 chunks within 5 ms)" in err, err
    assert "their ITL and tokens/s are not the model's decode speed" in err, err
    with LoopbackServer("trickle", trickle_s=0.002, trickle_n=10) as server:  # token by token: no word
        code, report = run_bench(tmp_path, server.url, "--api", "openai", "-n", "2", "-c", "1", name="spread")
    assert code == 0 and not any(row["held_back"] for row in report["results"])
    assert "arrived all at once" not in capsys.readouterr().err


class _EchoAuthorization(_Quiet):
    """401 to everything, quoting the Authorization header it got and the password (a debugging proxy's page)."""

    def do_GET(self) -> None:  # noqa: N802
        self._read_body()
        self._send(401, json.dumps({"error": f"bad credentials: {self.headers.get('Authorization')} "
                                             f"(password {'s3cr/t-pw'!r})"}).encode())

    do_POST = do_GET


def test_a_url_password_a_server_echoes_in_basic_auth_form_is_never_printed(tmp_path, capsys):
    """A URL's user:password goes as HTTP Basic auth; a server echoing the Authorization header it got printed
    `Basic YWxpY2U6czNjci90LXB3`, the password a base64 decode away (the URL itself was shown with `***`)."""
    with BackgroundServer(("127.0.0.1", 0), _EchoAuthorization) as server:
        url = f"http://alice:s3cr%2Ft-pw@127.0.0.1:{server.server_address[1]}"
        assert smoke.main([url, "--api", "openai", "--timeout", "5"]) == 1
        code, report = run_bench(tmp_path, url, "--api", "openai", "--model", "m", "-n", "1")
    out = capsys.readouterr().out
    assert "answered 401: bad credentials: Basic *** (password '***')" in out, out
    assert "YWxpY2U6czNjci90LXB3" not in out and "s3cr/t-pw" not in out
    written = Path(tmp_path / "run.json").read_text() + Path(tmp_path / "run.csv").read_text()
    assert code == 1 and "Basic ***" in written and "YWxpY2U6czNjci90LXB3" not in written and "s3cr" not in written


@pytest.mark.parametrize("variable, proxy, said", [
    ("ALL_PROXY", "socks5://u:proxy-pass-5e1@127.0.0.1:1080", "cannot use the proxy socks5://u:***@127.0.0.1:1080 "
     "($ALL_PROXY) for http://llm.example.invalid/v1/models: Missing dependencies for SOCKS support; SOCKS needs "
     "PySocks"),
    ("HTTP_PROXY", "ftp://127.0.0.1:21", "cannot use the proxy ftp://127.0.0.1:21 ($HTTP_PROXY) for "
     "http://llm.example.invalid/v1/models: Proxy URL had unsupported scheme ftp"),
])
def test_a_proxy_variable_requests_cannot_use_is_named(variable, proxy, said, no_proxy_settings, capsys):
    """A SOCKS proxy (requests needs PySocks for it) or another scheme in the environment read "InvalidSchema talking
    to <the endpoint>: Missing dependencies for SOCKS support.", naming neither the proxy nor its variable."""
    if proxy.startswith("socks") and importlib.util.find_spec("socks") is not None:
        pytest.skip("PySocks is installed here: requests speaks SOCKS")
    no_proxy_settings.setenv(variable, proxy)
    assert smoke.main(["http://llm.example.invalid", "--api", "openai", "--timeout", "5"]) == 1
    out = capsys.readouterr().out
    assert f"[error] {said}" in out and "proxy-pass-5e1" not in out, out


def test_a_body_read_that_times_out_is_the_deadline_it_was_not_a_connection_error():
    """The socket's timeout while reading a body is the rest of the total deadline; requests raises it as a
    ConnectionError wrapping urllib3's ReadTimeoutError (models.py iter_content), which read "[error] cannot talk to
    ...: timed out" whenever the alarm thread came late (seen in a full suite run: test_hostile's late-alarm test)."""
    import requests
    import urllib3

    from endpoint_tools.api_errors import Deadlines
    from endpoint_tools.failures import describe_exception
    read = urllib3.exceptions.ReadTimeoutError(None, "/v1/chat/completions", "Read timed out.")
    error = describe_exception(requests.exceptions.ConnectionError(read), "http://h/v1/chat/completions", "total",
                               Deadlines(0.3))
    assert error.kind == "timeout_total" and error.deadline == "total", str(error)
    assert str(error) == ("timed out waiting for http://h/v1/chat/completions: the answer did not complete within "
                          "0.3 s (the total deadline)")


def test_a_body_in_an_encoding_the_tools_did_not_ask_for_says_so(capsys):
    """A server (or a CDN) answering in brotli though the request asked for gzip and deflate: the line showed the
    compressed bytes as "a body that is not JSON", as if the server had sent garbage."""
    from tests.endpoint_tools.test_hostile import RawServer
    body = b"\x1b\x0b\x00\xf8\xa5\x82\x00\x00"
    with RawServer(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: br\r\n"
                   b"Content-Length: %d\r\n\r\n%s" % (len(body), body)) as server:
        assert smoke.main([server.url, "--api", "openai", "--timeout", "5"]) == 1
    out = capsys.readouterr().out
    if "it is encoded br" not in out and importlib.util.find_spec("brotli") is not None:
        pytest.skip("brotli is installed here: urllib3 decodes br")
    assert "[non_json]" in out and "; it is encoded br (Content-Encoding), which the tools did not ask for" in out, out


class _BadChunk(socketserver.BaseRequestHandler):
    """A model list, then to every POST a chunked body whose first chunk length is no hex number."""

    def handle(self) -> None:
        while data := self.request.recv(65536):
            if data.startswith(b"GET"):
                body = b'{"data": [{"id": "m"}]}'
                self.request.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
            else:
                self.request.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                                     b"Transfer-Encoding: chunked\r\n\r\nZZZ\r\ndata: x\r\n")
                return


def test_a_chunk_length_that_is_no_number_is_a_malformed_answer_not_a_closed_connection(capsys):
    """urllib3 raises a chunk length that is not hex as InvalidChunkLength, as it does a connection ending before
    one; both read "closed the connection mid-response", which sends an operator after the network, not the server."""
    from tests.endpoint_tools.test_hostile import TrickleServer

    class Server(TrickleServer):
        def __init__(self):
            socketserver.ThreadingTCPServer.__init__(self, ("127.0.0.1", 0), _BadChunk)
    with Server() as server:
        assert smoke.main([f"http://127.0.0.1:{server.server_address[1]}", "--api", "openai", "--timeout", "5"]) == 1
    out = capsys.readouterr().out
    for check in ("completion", "stream"):
        assert (f"FAIL  {check:<11} [error]" in out and "answered with a malformed HTTP response (a chunked body's "
                "chunk length is b'ZZZ\\r\\n', no hex number)" in out), out
    assert "closed the connection" not in out, out
