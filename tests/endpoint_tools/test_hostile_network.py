"""llm-smoke, llm-bench and llm-verify against what real gateways, proxies and half-up servers send: a spec-valid
event stream in a form the tools had not met, a 401 asking for another scheme than a bearer key, a Retry-After that
is none, a number too long to convert, an error body or a Content-Length without an end, an interim 1xx, a TLS port or
a proxy that never answers, headers cut by a close, an API server asking to retry later. Each is read as it is, or
named, never misread, waited out past its deadline or blamed on the key (docs/decisions.md, "The endpoint tools
against a hostile network")."""

import json
import socketserver
import threading
import time
from typing import Optional

import pytest

from endpoint_tools import smoke
from endpoint_tools.llm_api import LlmClient
from endpoint_tools.loopback_server import BackgroundServer, QuietDisconnects

from tests.endpoint_tools.test_bench import run_bench
from tests.endpoint_tools.test_first_use import no_proxy_settings  # noqa: F401 - a fixture
from tests.endpoint_tools.test_hostile import Answer, Scripted, openai
from tests.endpoint_tools.test_verify import QuietHandler, verify_against


def starlette_sse(*events: dict, done: bool = True) -> bytes:
    """A stream as sse-starlette writes data holding line breaks (sse_starlette/event.py `ServerSentEvent.encode`):
    one `data:` line per line of it, CRLF line ends; here each event's JSON pretty-printed."""
    texts = [json.dumps(event, indent=2) for event in events] + (["[DONE]"] if done else [])
    return b"".join(b"".join(b"data: %s\r\n" % line.encode() for line in text.splitlines()) + b"\r\n"
                    for text in texts)


USAGE = {"choices": [], "usage": {"prompt_tokens": 1, "completion_tokens": 2}}


def delta_event(text: str) -> dict:
    return {"choices": [{"index": 0, "delta": {"content": text}}]}


def test_an_event_of_several_data_lines_is_one_event_as_sse_joins_them(tmp_path, capsys):
    """SSE joins an event's `data:` lines with a line feed (html.spec.whatwg.org, "Interpreting an event stream";
    openai-python's SSEDecoder does): a server writing pretty-printed JSON through sse-starlette failed the stream
    check and every benchmark request as bad_stream ("an event is not JSON: '{'")."""
    stream = starlette_sse(delta_event("a"), delta_event("b"), USAGE)
    with Scripted(openai(stream=stream)) as server:
        assert smoke.main([server.url, "--api", "openai", "--timeout", "5"]) == 0
        out = capsys.readouterr().out
        assert "PASS  stream      2 chunks" in out, out
        code, report = run_bench(tmp_path, server.url, "-n", "2", "-c", "1", "--api", "openai", "--model", "m")
    assert code == 0 and report["summary"]["succeeded"] == 2 and report["summary"]["output_tokens"] == 4


class _Pieces:
    """What the stream reader takes of a requests.Response: its body in the pieces iter_content hands over."""

    def __init__(self, *pieces: bytes):
        self.pieces, self.raw, self.headers = pieces, object(), {}

    def iter_content(self, size):
        return iter(self.pieces)


def test_a_crlf_split_over_two_reads_ends_one_line_not_an_event_of_several():
    """A CRLF whose LF came in the next read was an empty line too, which in SSE ends an event: an event of several
    data lines (CRLF is sse-starlette's line end) was cut in two at a network read's boundary."""
    body = starlette_sse(delta_event("a"))
    cut = body.index(b"\r\n", body.index(b"\r\n") + 2) + 1  # between the CR and the LF of the second line
    events = list(LlmClient("http://127.0.0.1:9", "openai")._events(_Pieces(body[:cut], body[cut:]), "u"))
    assert events == [delta_event("a"), {"__done__": True}]


def test_an_event_of_several_data_lines_that_is_no_json_is_named_whole(capsys):
    """Lines joined that still make no JSON are the one bad event, quoted from its first line."""
    def answer(path: str, request: Optional[dict]) -> Answer:
        if request and request.get("stream"):
            return 200, "text/event-stream", b'data: {"choices":\ndata: oops\n\ndata: [DONE]\n\n'
        return openai()(path, request)
    with Scripted(answer) as server:
        assert smoke.main([server.url, "--api", "openai", "--timeout", "5"]) == 1
    out = capsys.readouterr().out
    assert "FAIL  stream      [bad_stream]" in out and "an event is not JSON: '{\"choices\":\\noops'" in out, out


def with_header(name: str, value: str, answer) -> Scripted:
    """A Scripted server whose every answer carries the header `name: value` too."""
    from tests.endpoint_tools.test_hostile import _Scripted

    class Handler(_Scripted):
        def send_header(self, keyword: str, text: str) -> None:
            super().send_header(keyword, text)
            if keyword == "Content-Type":
                super().send_header(name, value)
    server = Scripted(answer)
    server.RequestHandlerClass = Handler
    return server


def challenged(challenge: str) -> Scripted:
    """A server whose every answer is a 401 asking for `challenge` (WWW-Authenticate)."""
    return with_header("WWW-Authenticate", challenge, lambda path, request: (
        401, "text/html", b"<html><body>401 Authorization Required</body></html>"))


@pytest.mark.parametrize("argv", [[], ["--api-key", "sk-right-key"]])
@pytest.mark.parametrize("challenge", ['Basic realm="corp"', "Negotiate, NTLM"])
def test_a_401_asking_for_another_scheme_than_a_key_says_so_not_that_the_key_is_missing_or_wrong(
        challenge, argv, tmp_path, capsys):
    """An ingress or a proxy with a login of its own answers 401 asking for Basic (or Kerberos) authentication: the
    tools said "no key was given: pass --api-key" or "the key given was refused", and a right key was blamed. The
    platform's gate asks for Bearer (CHALLENGE_MAP, components/llmplatform/inference_specs.py)."""
    scheme = challenge.split()[0].rstrip(",")
    with challenged(challenge) as server:
        assert smoke.main([server.url, "--api", "openai", "--timeout", "5", *argv]) == 1
        out = capsys.readouterr().out
        code, _ = run_bench(tmp_path, server.url, "-n", "1", "--api", "openai", "--model", "m", *argv)
    err = capsys.readouterr().err
    assert code == 1
    for said in (out, err):
        assert f"(WWW-Authenticate: {challenge})" in said and f"it asks for {scheme} authentication" in said, said
        assert "no key was given" not in said and "was refused" not in said and "sk-right-key" not in said, said


def test_a_401_asking_for_a_bearer_token_keeps_the_key_hint_and_shows_the_servers_reason(capsys):
    """A Bearer challenge is the gate's kind: the hint on the key stays, and the challenge's words (an
    error_description, RFC 6750 3) are shown."""
    challenge = 'Bearer realm="llm-platform", error="invalid_token", error_description="The key has expired"'
    with challenged(challenge) as server:
        assert smoke.main([server.url, "--api", "openai", "--timeout", "5", "--api-key", "sk-old"]) == 1
    out = capsys.readouterr().out
    assert f"(WWW-Authenticate: {challenge})" in out and "the key given (--api-key or $LLM_API_KEY) was refused" in out


@pytest.mark.parametrize("value", ["-5", "1.5", "soon"])
def test_a_retry_after_that_is_no_delay_nor_date_is_said_to_be_none(value, tmp_path, capsys):
    """Retry-After is a whole number of seconds or an HTTP date (RFC 9110 10.2.3): a gate's `-5`, `1.5` or `soon` was
    shown, and counted by the rate-limit check, as if it told when to retry (openai-python waits its own backoff for
    a delay it cannot read or that is not above 0: `_calculate_retry_timeout`)."""
    models = {"count": 0}

    def answer(path: str, request: Optional[dict]) -> Answer:
        if path == "/v1/models" and models["count"]:
            return 429, "text/plain", b"slow down"
        models["count"] += path == "/v1/models"
        return openai()(path, request) if request is None or not request.get("stream") else (429, "text/plain", b"")
    with with_header("Retry-After", value, answer) as server:
        assert smoke.main([server.url, "--api", "openai", "--timeout", "5", "--rate-limit-burst", "2"]) == 1
        out = capsys.readouterr().out
        code, _ = run_bench(tmp_path, server.url, "-n", "1", "--api", "openai", "--model", "m")
    err = capsys.readouterr().err
    note = f"{value}, not a whole number of seconds nor an HTTP date (RFC 9110 10.2.3)"
    assert f"PASS  rate-limit  2 of 2 burst requests answered 429, with Retry-After {note}" in out, out
    assert code == 1 and f"answered 429 (Retry-After: {note})" in err, err


@pytest.mark.parametrize("value", ["0", "120", "99999999999999999999", "Wed, 21 Oct 2015 07:28:00 GMT"])
def test_a_retry_after_of_either_form_is_shown_as_sent(value):
    """A delay in seconds, however long, and an HTTP date, even one past, are what the header allows: shown as sent."""
    from endpoint_tools.api_errors import readable_retry_after
    assert readable_retry_after(value) == value


HUGE = "9" * 5000  # past CPython's limit on converting digits to an int (4300: sys.get_int_max_str_digits)


def test_a_number_too_long_to_convert_is_json_still(capsys):
    """json.loads raises ValueError on an integer of over 4,300 digits (CPython 3.11+, CVE-2020-10735): a model list
    or a stream event holding one in a field the tools never read was "not JSON"; one in a token count is that
    count, named."""
    models = f'{{"data": [{{"id": "m", "created": {HUGE}}}]}}'
    event = json.dumps(delta_event("a"))[:-1] + f', "created": {HUGE}}}'
    stream = f"data: {event}\n\ndata: {json.dumps(delta_event('b'))}\n\ndata: {json.dumps(USAGE)}\n\ndata: [DONE]\n\n"
    with Scripted(openai(models=models, stream=stream.encode(),
                         usage=f'{{"prompt_tokens": 1, "completion_tokens": {HUGE}}}')) as server:
        assert smoke.main([server.url, "--api", "openai", "--timeout", "5"]) == 1
    out = capsys.readouterr().out
    assert "PASS  models      1 model(s); using 'm'" in out and "PASS  stream      2 chunks" in out, out
    assert "FAIL  completion  [bad_shape]" in out and "completion_tokens is Infinity: expected a whole number" in out


def read_until_closed(connection, timeout_s: float) -> None:
    """Reads and drops what the client sends until it closes the connection (or `timeout_s` passes between reads)."""
    connection.settimeout(timeout_s)
    try:
        while connection.recv(65536):
            pass
    except OSError:
        pass


class _HeldOpen(socketserver.BaseRequestHandler):
    """Reads a request, sends the server's `reply` bytes as they are, and keeps the connection open (as a kept-alive
    one is) until the client closes it."""

    def handle(self) -> None:
        self.request.recv(65536)
        self.request.sendall(self.server.reply)  # type: ignore[attr-defined]
        read_until_closed(self.request, 10)


class HeldOpen(QuietDisconnects, socketserver.ThreadingTCPServer):
    daemon_threads = True

    def __init__(self, reply: bytes):
        super().__init__(("127.0.0.1", 0), _HeldOpen)
        self.reply = reply

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def __enter__(self) -> "HeldOpen":
        threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.shutdown()
        self.server_close()


@pytest.mark.parametrize("reply, said", [
    (b"HTTP/1.1 429 Too Many Requests\r\nContent-Length: 100\r\nRetry-After: 1\r\n\r\nslow down",
     "answered 429: slow down (Retry-After: 1)"),
    (b"HTTP/1.1 500 Internal Server Error\r\nTransfer-Encoding: chunked\r\n\r\n12\r\nCUDA out of memory\r\n",
     "answered 500: CUDA out of memory"),
])
def test_an_error_answer_whose_body_does_not_end_is_told_at_once_with_its_words(reply, said, capsys):
    """An error answer whose body never ends on a kept-alive connection (a Content-Length longer than what is sent,
    a chunked body without its last chunk): reading its first 4 KiB for the server's words waited the whole
    first-token deadline (120 s by default), then lost the words that had come."""
    with HeldOpen(reply) as server:
        started = time.perf_counter()
        assert smoke.main([server.url, "--api", "openai", "--timeout", "30"]) == 1
        elapsed = time.perf_counter() - started
    out = capsys.readouterr().out
    assert f"GET {server.url}/v1/models {said}" in out and elapsed < 10, (elapsed, out)


@pytest.mark.parametrize("length", ["abc", "-1", "1e3"])
def test_a_content_length_that_is_no_number_is_a_malformed_answer_not_a_wait_for_the_deadline(length, capsys):
    """RFC 9112 6.3: a response with an invalid Content-Length has no framing and a client must treat it as an
    error; urllib3 2.8.0 (response.py `_init_length`) reads such a body until the connection closes, so on a
    kept-alive connection the tools waited the whole total deadline and said "the answer did not complete"."""
    body = b'{"data": [{"id": "m"}]}'
    with HeldOpen(b"HTTP/1.1 200 OK\r\nContent-Length: %s\r\n\r\n%s" % (length.encode(), body)) as server:
        started = time.perf_counter()
        assert smoke.main([server.url, "--api", "openai", "--timeout", "30"]) == 1
        elapsed = time.perf_counter() - started
    out = capsys.readouterr().out
    assert f"[error] GET {server.url}/v1/models answered with a malformed HTTP response (Content-Length " \
           f"'{length}' is no number of bytes" in out and elapsed < 10, (elapsed, out)


@pytest.mark.parametrize("via_proxy", [False, True])
@pytest.mark.parametrize("interim", [b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n",
                                     b"HTTP/1.1 102 Processing\r\n\r\n" * 2])
def test_an_interim_answer_before_the_final_one_is_passed_over(interim, via_proxy, tmp_path,
                                                               no_proxy_settings, capsys):  # noqa: F811
    """A client must read past any 1xx before the final answer (RFC 9110 15.2); http.client skips 100 Continue only
    (CPython 3.11 Lib/http/client.py `HTTPResponse.begin`): a CDN's 103 Early Hints or a WebDAV-minded server's 102
    Processing was taken for the answer ("answered 103 with a body that is not JSON"), the real one never read.
    Through a proxy ($HTTP_PROXY) too: its connections are the proxy manager's (requests 2.34.2 adapters.py
    `proxy_manager_for`), which the tools' own connections did not reach."""
    from tests.endpoint_tools.test_hostile import _Scripted

    class Handler(_Scripted):
        def parse_request(self) -> bool:
            parsed = super().parse_request()
            self.path = "/" + self.path.split("://", 1)[1].split("/", 1)[1] if "://" in self.path else self.path
            return parsed

        def send_response(self, code: int, message: Optional[str] = None) -> None:
            self.wfile.write(interim)
            super().send_response(code, message)
    server = Scripted(openai())
    server.RequestHandlerClass = Handler
    with server:
        url = server.url
        if via_proxy:  # the server answers as a plain-HTTP proxy does, to the absolute URL
            no_proxy_settings.setenv("HTTP_PROXY", server.url)
            url = "http://llm.example.invalid"
        assert smoke.main([url, "--timeout", "5"]) == 0, capsys.readouterr().out
        assert "result: all 3 checks passed" in capsys.readouterr().out
        code, report = run_bench(tmp_path, url, "-n", "2", "--api", "openai", "--model", "m")
    assert code == 0 and report["summary"]["succeeded"] == 2


class _Mute(socketserver.BaseRequestHandler):
    """Takes the connection and says nothing: a TLS port with nothing behind it answers no ClientHello."""

    def handle(self) -> None:
        read_until_closed(self.request, 5)


@pytest.mark.parametrize("argv, connect_s, said", [
    (["--timeout", "0.3"], None, "within 0.3 s (the total deadline)"),
    (["--timeout", "30"], 0.3, "within 0.3 s: "),  # the connect timeout (10 s), shortened here
])
def test_a_tls_handshake_that_never_completes_is_a_connect_timeout_not_a_wait_for_headers(
        argv, connect_s, said, monkeypatch, capsys):
    """urllib3 raises a handshake that timed out as a read timeout (ReadTimeoutError over the ssl module's
    "The handshake operation timed out"): after the 10 s connect timeout the line said "no response headers within
    120 s (the total deadline); raise it with --timeout", a wait it did not make and a flag that does not help."""
    from endpoint_tools import api_errors, failures
    if connect_s:
        monkeypatch.setattr(api_errors, "CONNECT_TIMEOUT_S", connect_s)
        monkeypatch.setattr(failures, "CONNECT_TIMEOUT_S", connect_s)
    server = HeldOpen(b"")
    server.RequestHandlerClass = _Mute
    with server:
        url = server.url.replace("http://", "https://")
        assert smoke.main([url, "--api", "openai", *argv]) == 1
    out = capsys.readouterr().out
    assert f"[connect_timeout] no TLS handshake with {url}/v1/models {said}" in out, out
    assert "response headers" not in out and ("--timeout" in out) == (connect_s is None), out


@pytest.mark.parametrize("status", [302, 304])
def test_a_redirect_status_without_a_location_is_named_not_read_as_a_body(status, capsys):
    """A 3xx without a Location (a gateway's misconfigured redirect rule) is no redirect requests can follow
    (requests 2.34.2 `Response.is_redirect` needs the header): it was read as the answer, "answered 302 with a body
    that is not JSON", and as a stream that "ended without its final event"."""
    with Scripted(lambda path, request: (status, "text/html", b"<p>Moved</p>")) as server:
        assert smoke.main([server.url, "--api", "openai", "--timeout", "5"]) == 1
    out = capsys.readouterr().out
    assert f"[error] GET {server.url}/v1/models answered {status} without a Location to follow" in out, out


class _Busy(QuietHandler):
    """An API server (or a proxy before it) answering every GET with the server's (status, Retry-After)."""

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        status, retry_after = self.server.answer  # type: ignore[attr-defined]
        body = json.dumps({"kind": "Status", "apiVersion": "v1", "status": "Failure", "message": "busy",
                           "code": status}).encode()
        self.reply(status, "application/json", body, (("Retry-After", retry_after),))


@pytest.mark.parametrize("status, retry_after", [(503, "3"), (429, "-5")])
def test_an_api_server_asking_to_retry_later_fails_each_check_within_its_deadline(status, retry_after, tmp_path,
                                                                                  capsys):
    """The Kubernetes client's connections retried every GET 3 times, sleeping each 429's or 503's Retry-After
    (urllib3 2.8.0 Retry.DEFAULT, which kubernetes-client/python 37.0.2 rest.py uses when its configuration sets no
    retries): each call took 4 times --kube-timeout, and a Retry-After of days (or a date years ahead) held
    llm-verify for as long; a `-5` read "cannot reach the API server: -5" (urllib3's InvalidHeader). One call is one
    request within --kube-timeout; its answer is the line."""
    server = BackgroundServer(("127.0.0.1", 0), _Busy)
    server.answer = (status, retry_after)  # type: ignore[attr-defined]
    with server:
        code, cluster_lines, elapsed = verify_against(server.url, tmp_path, capsys)
    assert code == 1 and len(cluster_lines) >= 4 and elapsed < 20, (elapsed, cluster_lines)  # it slept 3 x 3 s a call
    assert all(f"the API server answered {status} " in line for line in cluster_lines), cluster_lines


def test_an_api_server_that_never_answers_is_named_with_the_kube_timeout(tmp_path, capsys):
    """A call that timed out read "cannot reach the API server at URL: Read timed out. (read timeout=0.2995...",
    urllib3's words cut inside a float; it names the wait and the flag that sets it."""
    with HeldOpen(b"") as server:
        code, cluster_lines, _ = verify_against(server.url, tmp_path, capsys, kube_timeout="0.3")
    assert code == 1 and len(cluster_lines) >= 4 and all(
        line.endswith(f"no answer from the API server at {server.url} within 0.3 s (--kube-timeout)")
        for line in cluster_lines), cluster_lines


@pytest.mark.parametrize("argv, connect_s, said", [
    (["--timeout", "0.3"], None, "within 0.3 s (the total deadline): "),
    (["--timeout", "30"], 0.3, "within 0.3 s: "),  # the connect timeout (10 s), shortened here
])
def test_a_proxy_that_never_answers_the_tunnels_connect_is_named_not_the_endpoint(
        argv, connect_s, said, no_proxy_settings, capsys):  # noqa: F811 - the fixture
    """HTTPS through a proxy that takes the connection and never answers its CONNECT: urllib3 raises it as a read
    timeout before the request is sent, and the line said "no response headers within 120 s" of the endpoint after
    the 10 s connect timeout, naming neither the proxy nor the wait it made."""
    from endpoint_tools import api_errors, failures
    if connect_s:
        monkeypatch = no_proxy_settings
        monkeypatch.setattr(api_errors, "CONNECT_TIMEOUT_S", connect_s)
        monkeypatch.setattr(failures, "CONNECT_TIMEOUT_S", connect_s)
    proxy = HeldOpen(b"")
    with proxy:
        no_proxy_settings.setenv("HTTPS_PROXY", proxy.url)
        url = "https://llm.example.invalid"
        assert smoke.main([url, "--api", "openai", *argv]) == 1
    out = capsys.readouterr().out
    assert f"[connect_timeout] no tunnel to {url}/v1/models through the proxy {proxy.url} ($HTTPS_PROXY) {said}" \
           f"it took the connection but did not answer the tunnel's CONNECT" in out, out
    assert "response headers" not in out and ("--timeout" in out) == (connect_s is None), out


@pytest.mark.parametrize("reply", [b"HTTP/1.1 200 OK\r\nContent-Type: app", b"HTTP/1.1 200 OK\r\n"])
def test_a_connection_closed_inside_the_headers_is_closed_not_an_empty_answer(reply, capsys):
    """http.client ends the headers at the connection's close without a word (CPython 3.11 Lib/http/client.py
    `_read_headers` stops at b""): a server gone in the middle of its headers read as a complete 200 without a body,
    "answered 200 with a body that is not JSON (app): ''"."""
    from tests.endpoint_tools.test_hostile import RawServer
    with RawServer(reply) as server:
        assert smoke.main([server.url, "--api", "openai", "--timeout", "5"]) == 1
    out = capsys.readouterr().out
    assert f"[closed] {server.url}/v1/models closed the connection without a complete answer" in out, out


class _ClosesKeptAlive(_Busy):
    """An API server that closes each kept-alive connection when the second request arrives on it, unanswered: an
    idle connection closed by the server (or a load balancer) just as the client sends its next call on it."""

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        self.answered = getattr(self, "answered", 0) + 1
        if self.answered > 1:
            self.close_connection = True  # no answer: the client reads "Remote end closed connection"
            return
        super().do_GET()


def test_a_call_sent_on_a_connection_closed_under_it_is_sent_again_once(tmp_path, capsys):
    """Each Kubernetes API call one request (no retry of a timeout, a 429 or a 503) dropped urllib3's retry of a
    kept-alive connection the server closed as the call went out (urllib3 2.8.0 connectionpool.py checks a pooled
    connection before reuse, but a close racing the request is a ProtocolError only its Retry recovers): every
    other check of llm-verify failed as "cannot reach the API server: Remote end closed connection"."""
    server = BackgroundServer(("127.0.0.1", 0), _ClosesKeptAlive)
    server.answer = (503, "3")  # type: ignore[attr-defined]
    with server:
        code, cluster_lines, elapsed = verify_against(server.url, tmp_path, capsys)
    assert code == 1 and len(cluster_lines) >= 4 and elapsed < 20, (elapsed, cluster_lines)
    assert all("the API server answered 503 " in line for line in cluster_lines), cluster_lines


class _Interims(socketserver.BaseRequestHandler):
    """A proxy that answers a tunnel's CONNECT with interim answers only, one every 50 ms, for 4 s."""

    def handle(self) -> None:
        self.request.recv(65536)
        ends = time.monotonic() + 4
        try:
            while time.monotonic() < ends:
                self.request.sendall(b"HTTP/1.1 102 Processing\r\n\r\n")
                time.sleep(0.05)
        except OSError:
            pass


def test_a_proxy_answering_connect_with_interim_answers_only_is_told_not_waited_on(no_proxy_settings,  # noqa: F811
                                                                                    capsys):
    """Interim answers are passed over to the final one within the headers' deadline, which the tunnel's CONNECT,
    read while connecting, is not under: each 102 came within the connect timeout (the socket's, per read), and
    passing them over waited as long as the proxy sent them, past --timeout. The CONNECT's answer is the first."""
    server = HeldOpen(b"")
    server.RequestHandlerClass = _Interims
    with server:
        no_proxy_settings.setenv("HTTPS_PROXY", server.url)
        started = time.perf_counter()
        assert smoke.main(["https://llm.example.invalid", "--api", "openai", "--timeout", "0.5"]) == 1
        elapsed = time.perf_counter() - started
    out = capsys.readouterr().out
    assert elapsed < 2.5 and "Tunnel connection failed: 102 Processing" in out, (elapsed, out)


class _Tunnel(socketserver.BaseRequestHandler):
    """A proxy that does its work: answers a CONNECT with 200 and pipes the bytes both ways to the server's `to`."""

    def handle(self) -> None:
        import socket
        self.request.recv(65536)
        upstream = socket.create_connection(self.server.to)  # type: ignore[attr-defined]
        self.request.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")

        def pipe(source, sink) -> None:
            try:
                while data := source.recv(65536):
                    sink.sendall(data)
            except OSError:
                pass
            for end in (source, sink):
                end.close()
        threading.Thread(target=pipe, args=(upstream, self.request), daemon=True).start()
        pipe(self.request, upstream)


def test_an_endpoint_that_sends_no_headers_through_a_working_proxy_is_not_blamed_on_the_proxy(
        tmp_path, no_proxy_settings, capsys):  # noqa: F811 - the fixture
    """Through $HTTPS_PROXY the tools' connections were urllib3's own (requests' proxy manager), so the request never
    counted as sent: an endpoint that took it and sent no headers read "no tunnel ... through the proxy ...: it took
    the connection but did not answer the tunnel's CONNECT", though the proxy had answered it."""
    from tests.endpoint_tools.test_operator_review import over_tls, self_signed
    cert, key = self_signed(tmp_path, "-addext", "subjectAltName=DNS:localhost")
    no_proxy_settings.setenv("REQUESTS_CA_BUNDLE", cert)
    endpoint = HeldOpen(b"")
    url = over_tls(endpoint, cert, key).replace("127.0.0.1", "localhost")
    proxy = HeldOpen(b"")
    proxy.RequestHandlerClass = _Tunnel
    proxy.to = endpoint.server_address  # type: ignore[attr-defined]
    with endpoint, proxy:
        no_proxy_settings.setenv("HTTPS_PROXY", proxy.url)
        assert smoke.main([url, "--api", "openai", "--timeout", "0.5"]) == 1
    out = capsys.readouterr().out
    assert "[timeout_headers]" in out and "tunnel" not in out, out
