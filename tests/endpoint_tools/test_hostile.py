"""llm-smoke and llm-bench, through their command lines, against endpoints that answer with well-formed HTTP but
content no real server should send (token counts that are not counts, error events inside a stream...): each is a
named failure, never a PASS, a traceback or a figure the tools did not measure."""

import json
import re
import socket
import socketserver
import threading
import time
from http.server import BaseHTTPRequestHandler
from typing import Callable, Optional

import pytest

from endpoint_tools import bench, smoke
from endpoint_tools.loopback_server import MODEL, BackgroundServer, LoopbackServer, QuietDisconnects

from tests.endpoint_tools.test_bench import run_bench

# What a handler answers: (status, content type, body).
Answer = tuple[int, str, bytes]


class _Scripted(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:
        pass

    def _reply(self, request: Optional[dict]) -> None:
        status, content_type, body = self.server.answer(self.path, request)  # type: ignore[attr-defined]
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802
        self._reply(None)

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("Content-Length") or 0)
        self._reply(json.loads(self.rfile.read(length) or b"{}"))


class Scripted(BackgroundServer):
    """A loopback server whose every answer comes from `answer(path, request JSON or None for a GET)`."""

    def __init__(self, answer: Callable[[str, Optional[dict]], Answer]):
        super().__init__(("127.0.0.1", 0), _Scripted)
        self.answer = answer


def sse(*events: str, done: bool = True) -> bytes:
    """An OpenAI stream of these `data:` events (JSON text as given), ended by [DONE] unless `done` is False."""
    return "".join(f"data: {e}\n\n" for e in events + (("[DONE]",) if done else ())).encode()


def delta(text: str) -> str:
    return json.dumps({"choices": [{"index": 0, "delta": {"content": text}}]})


def openai(usage: str = '{"prompt_tokens": 1, "completion_tokens": 2}', stream: Optional[bytes] = None,
           models: str = '{"data": [{"id": "m"}]}') -> Callable[[str, Optional[dict]], Answer]:
    """An OpenAI-compatible server listing `models`, answering a completion with `usage` (JSON text, as sent) and a
    stream with `stream` (default: two chunks, then that usage and [DONE])."""
    chat = f'{{"choices": [{{"message": {{"content": "ab"}}}}], "usage": {usage}}}'.encode()
    streamed = stream if stream is not None else sse(delta("a"), delta("b"), f'{{"choices": [], "usage": {usage}}}')

    def answer(path: str, request: Optional[dict]) -> Answer:
        if path == "/v1/models":
            return 200, "application/json", models.encode()
        if path == "/v1/chat/completions" and request is not None:
            return (200, "text/event-stream", streamed) if request.get("stream") else (200, "application/json", chat)
        return 404, "application/json", b'{"error": "not found"}'
    return answer


def ollama(final: str = '{"done": true, "prompt_eval_count": 1, "eval_count": 2}',
           lines: Optional[list[str]] = None) -> Callable[[str, Optional[dict]], Answer]:
    """An Ollama-native server (no /v1) whose answers end with `final` (JSON text, as sent: the fields of the last
    line of a stream, of a chat and of a generate answer) and whose chat stream is `lines` before it."""
    fields = json.loads(final)
    chunks = lines if lines is not None else ['{"message": {"content": "a"}, "done": false}']
    streamed = "".join(f"{line}\n" for line in chunks + [json.dumps({"message": {"content": ""}, **fields})])

    def answer(path: str, request: Optional[dict]) -> Answer:
        if path == "/api/tags":
            return 200, "application/json", b'{"models": [{"name": "m"}]}'
        if path == "/api/chat" and request is not None:
            if request.get("stream"):
                return 200, "application/x-ndjson", streamed.encode()
            return 200, "application/json", json.dumps({"message": {"content": "ab"}, **fields}).encode()
        if path == "/api/generate":
            return 200, "application/json", json.dumps({"response": "ab", **fields}).encode()
        return 404, "application/json", b'{"error": "not found"}'
    return answer


def no_traceback(captured) -> bool:
    return "Traceback" not in captured.out + captured.err


@pytest.mark.parametrize("count", ['"7"', "true", "-7", "NaN", "Infinity", "1.5", '{"x": 1}', "1" + "0" * 400])
def test_a_token_count_that_is_no_whole_number_fails_by_name_in_smoke_and_bench(count, tmp_path, capsys):
    """A `completion_tokens` of "7", true, -7, NaN, 1.5 or an object: smoke passed the completion ("{'x': 1} tokens",
    "-7 tokens"), llm-bench crashed with a TypeError traceback on a string or an object and reported negative, NaN
    or infinite output tokens/s for the rest; 10^400 crashed it with an OverflowError (no float holds it). It is
    bad_shape, named, in both."""
    with Scripted(openai(usage=f'{{"prompt_tokens": 1, "completion_tokens": {count}}}')) as server:
        assert smoke.main([server.url, "--timeout", "5"]) == 1
        out = capsys.readouterr().out
        assert "FAIL  completion  [bad_shape]" in out and "FAIL  stream      [bad_shape]" in out, out
        assert "completion_tokens is" in out and "expected a whole number of tokens" in out, out
        code, report = run_bench(tmp_path, server.url, "-n", "2", "-c", "1", "--api", "openai")
    assert code == 1 and report["summary"]["errors"] == {"bad_shape": 2}
    assert report["summary"]["output_tokens_per_s"] is None
    assert no_traceback(capsys.readouterr())


def test_an_ollama_token_count_that_is_no_whole_number_fails_by_name(capsys):
    with Scripted(ollama('{"done": true, "prompt_eval_count": 1, "eval_count": "2"}')) as server:
        assert smoke.main([server.url, "--timeout", "5"]) == 1
    captured = capsys.readouterr()
    for check in ("completion", "stream", "generate"):
        assert f"FAIL  {check:<11} [bad_shape]" in captured.out, captured.out
    assert 'eval_count is "2": expected a whole number of tokens' in captured.out and no_traceback(captured)


def test_output_tokens_per_s_is_not_reported_when_no_token_count_was(tmp_path, capsys):
    """A stream without usage (a server ignoring stream_options): llm-bench printed and wrote "0.0 output tokens/s",
    a figure it never measured; it is n/a (null), as when nothing succeeded."""
    with Scripted(openai(stream=sse(delta("a"), delta("b")))) as server:
        code, report = run_bench(tmp_path, server.url, "-n", "2", "-c", "1", "--api", "openai")
    summary = report["summary"]
    assert code == 0 and summary["succeeded"] == 2
    assert summary["output_tokens_per_s"] is None and summary["output_tokens"] is None
    assert "n/a output tokens/s" in capsys.readouterr().out


@pytest.mark.parametrize("stream", [
    sse(delta("a"), '{"error": {"message": "CUDA error: out of memory", "type": "InternalServerError", "code": 500}}'),
    sse(delta("a"), '{"error": {"message": "CUDA error: out of memory"}}', done=False),
    b'data: ' + delta("a").encode() + b'\n\nerror: {"code": 500, "message": "CUDA error: out of memory"}\n\n',
])
def test_an_error_event_inside_a_stream_fails_it_with_the_servers_words(stream, tmp_path, capsys):
    """vLLM sends a failure after the headers as `data: {"error": ...}` (then [DONE]), llama.cpp as an `error:`
    event: smoke passed the stream ("1 chunks ... terminated") or called it unterminated without the server's
    words, and llm-bench counted it a success."""
    with Scripted(openai(stream=stream)) as server:
        assert smoke.main([server.url, "--timeout", "5"]) == 1
        out = capsys.readouterr().out
        assert "FAIL  stream      [server_error]" in out, out
        assert "an error mid-stream: CUDA error: out of memory" in out, out
        code, report = run_bench(tmp_path, server.url, "-n", "2", "-c", "1", "--api", "openai")
    assert code == 1 and report["summary"]["errors"] == {"server_error": 2}


def test_an_ollama_error_line_inside_a_stream_fails_it_with_the_servers_words(capsys):
    with Scripted(ollama(lines=['{"message": {"content": "a"}, "done": false}', '{"error": "model runner crashed"}']
                         )) as server:
        assert smoke.main([server.url, "--timeout", "5"]) == 1
    out = capsys.readouterr().out
    assert "FAIL  stream      [server_error]" in out and "an error mid-stream: model runner crashed" in out, out


def test_a_model_listed_with_an_empty_name_fails_the_model_list_not_skips_the_checks(tmp_path, capsys):
    """`{"data": [{"id": ""}]}`: smoke took the empty name as "no model", skipped the completion and the stream and
    reported "all 1 checks passed" (exit 0); llm-bench benchmarked the model "". Both name the empty id."""
    with Scripted(openai(models='{"data": [{"id": ""}]}')) as server:
        assert smoke.main([server.url, "--api", "openai", "--timeout", "5"]) == 1
        out = capsys.readouterr().out
        assert "FAIL  models      [bad_shape]" in out and "a model with an empty id" in out, out
        code, report = run_bench(tmp_path, server.url, "-n", "2", "--api", "openai")
    assert code == 1 and report is None
    err = capsys.readouterr().err
    assert "cannot start the benchmark: [bad_shape]" in err and "a model with an empty id" in err, err


def test_an_ollama_done_that_is_not_true_does_not_finish_an_answer(capsys):
    """`"done": "false"` (a string, truthy in Python) finished the stream and the generate answer: both passed."""
    with Scripted(ollama('{"done": "false", "prompt_eval_count": 1, "eval_count": 2}')) as server:
        assert smoke.main([server.url, "--timeout", "5"]) == 1
    out = capsys.readouterr().out
    assert "FAIL  stream      [unterminated]" in out and "FAIL  generate    empty or unfinished" in out, out


class _Trickle(socketserver.BaseRequestHandler):
    """Sends a status line, then one header byte every 50 ms for 3 s (or until the client hangs up)."""

    def handle(self) -> None:
        self.request.recv(65536)
        try:
            self.request.sendall(b"HTTP/1.1 200 OK\r\nX-Slow: ")
            for _ in range(60):
                self.request.sendall(b"a")
                time.sleep(0.05)
        except OSError:
            pass


class TrickleServer(QuietDisconnects, socketserver.ThreadingTCPServer):
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _Trickle)

    def __enter__(self):
        threading.Thread(target=self.serve_forever, kwargs={"poll_interval": BackgroundServer.POLL_S},
                         daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.shutdown()
        self.server_close()


@pytest.mark.parametrize("argv,deadline", [(["--timeout", "0.25"], "0.25 s (the total deadline)"),
                                           (["--ttft-timeout", "0.25"], "0.25 s (the first-token deadline)")])
def test_headers_trickled_a_byte_at_a_time_are_cut_at_the_deadline(argv, deadline, capsys):
    """requests' read timeout restarts with every byte: a server sending its headers a byte every 50 ms held
    `--timeout 2` for as long as it kept sending (26 s measured, without end for a longer header); the header
    deadline is a deadline."""
    with TrickleServer() as server:
        started = time.perf_counter()
        url = f"http://127.0.0.1:{server.server_address[1]}"
        assert smoke.main([url, "--api", "openai", *argv]) == 1
        elapsed = time.perf_counter() - started
    out = capsys.readouterr().out
    assert "FAIL  models      [timeout_headers]" in out and f"no response headers within {deadline}" in out, out
    assert elapsed < 2.0, elapsed


@pytest.fixture
def no_connection():
    """A port whose listen queue is full (backlog 0, a connection already waiting, never accepted): the kernel
    drops the next SYN, so a connection attempt waits until its timeout."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    queued = socket.create_connection(server.getsockname())
    yield f"http://127.0.0.1:{server.getsockname()[1]}"
    queued.close()
    server.close()


@pytest.mark.parametrize("argv,seconds", [(["--timeout", "0.25"], "0.25"), (["--ttft-timeout", "0.25"], "0.25")])
def test_a_connection_that_never_comes_waits_no_longer_than_the_deadlines(no_connection, argv, seconds, capsys):
    """The connect timeout was 10 s even under `--ttft-timeout 0.5` (which bounds the response headers, so nothing
    can come after it), and the message said "within 10 s" under `--timeout 0.5` too."""
    started = time.perf_counter()
    assert smoke.main([no_connection, "--api", "openai", *argv]) == 1
    elapsed = time.perf_counter() - started
    out = capsys.readouterr().out
    assert f"[connect_timeout] no connection to {no_connection}/v1/models within {seconds} s" in out, out
    assert elapsed < 2.0, elapsed


FORGED = "\x1b[2K\rPASS  models      1 model(s)\x1b[8m"  # erase the line, write a PASS, hide what follows


@pytest.mark.parametrize("status,stream", [(500, None), (200, sse(json.dumps({"error": {"message": FORGED}})))])
def test_control_characters_in_a_servers_words_are_shown_escaped_not_sent_to_the_terminal(status, stream, capsys):
    """An error body (or an error event) holding terminal escapes was printed as is: a server could erase its FAIL
    line and print a PASS in its place. Control characters are shown escaped (`\\x1b`)."""
    def answer(path: str, request: Optional[dict]) -> Answer:
        if status != 200:
            return status, "text/plain", FORGED.encode()
        return openai(stream=stream)(path, request)
    with Scripted(answer) as server:
        assert smoke.main([server.url, "--api", "openai", "--timeout", "5"]) == 1
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\r" not in out and "\\x1b[2K" in out, repr(out)


def test_control_characters_in_a_result_files_label_are_shown_escaped_by_compare(tmp_path, capsys):
    """A label is the user's or the server's model name: --compare printed it as is."""
    with Scripted(openai(models=json.dumps({"data": [{"id": FORGED}]}))) as server:
        assert run_bench(tmp_path, server.url, "-n", "1", "--api", "openai")[0] == 0
    capsys.readouterr()
    assert bench.main(["--compare", str(tmp_path / "run.json")]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\r" not in out and "\\x1b[2K" in out, repr(out)


class _Raw(socketserver.BaseRequestHandler):
    """Reads a request, sends the server's `reply` bytes as they are, closes."""

    def handle(self) -> None:
        self.request.recv(65536)
        self.request.sendall(self.server.reply)  # type: ignore[attr-defined]


class RawServer(TrickleServer):
    def __init__(self, reply: bytes):
        socketserver.ThreadingTCPServer.__init__(self, ("127.0.0.1", 0), _Raw)
        self.reply = reply

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


@pytest.mark.parametrize("reply,named", [
    (b"HTTP/1.1 abc\r\n\r\n", "BadStatusLine: HTTP/1.1 abc\\r\\n"),
    (b"SSH-2.0-OpenSSH_9.6\r\n", "BadStatusLine: SSH-2.0-OpenSSH_9.6\\r\\n"),  # the wrong port
    (b"HTTP/1.1 200 OK\r\nX: " + b"a" * 70_000 + b"\r\n\r\n", "LineTooLong: got more than 65536 bytes"),
    (b"HTTP/1.1 200 OK\r\n" + b"".join(b"X-%d: a\r\n" % i for i in range(101)) + b"\r\n",
     "HTTPException: got more than 100 headers"),
    (b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 5\r\n\r\nhello",
     "does not decode as its Content-Encoding says (gzip)"),
])
def test_a_malformed_http_answer_is_named_not_called_a_closed_connection(reply, named, capsys):
    """A status line that is not HTTP (another protocol on the port), a header line over 64 KiB, over 100 headers,
    a body its Content-Encoding does not decode: each was "closed the connection without a complete answer"."""
    with RawServer(reply) as server:
        assert smoke.main([server.url, "--api", "openai", "--timeout", "5"]) == 1
    out = capsys.readouterr().out
    assert "[error]" in out and named in out and "closed the connection" not in out, out


class _RedirectTo(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802
        self.send_response(302)
        self.send_header("Location", self.server.location)  # type: ignore[attr-defined]
        self.send_header("Content-Length", "0")
        self.end_headers()


@pytest.mark.parametrize("location,why", [
    ("ftp://files.example/models", "redirected to 'ftp://files.example/models', which the tools cannot follow"),
    ("http://[::1/models", "redirected to 'http://[::1/models', which the tools cannot follow"),
    ("/v1/models", "redirected more than 30 times"),
])
def test_a_redirect_the_tools_cannot_follow_is_named_as_the_servers(location, why, capsys):
    """A 302 to another scheme or to a URL that does not parse read "InvalidSchema talking to <the URL asked for>: No
    connection adapters..." or "ValueError talking to <it>: Invalid IPv6 URL", as if the URL given were wrong."""
    server = BackgroundServer(("127.0.0.1", 0), _RedirectTo)
    server.location = location  # type: ignore[attr-defined]
    with server:
        assert smoke.main([server.url, "--api", "openai", "--timeout", "5"]) == 1
    out = capsys.readouterr().out
    assert f"[error] GET {server.url}/v1/models {why}" in out, out


def test_no_request_succeeds_with_a_latency_above_its_deadline(tmp_path):
    """The deadlines were enforced only by the alarm thread: an answer read before it fired (a small body is read
    at once) was a success, with `--timeout 1e-9` too (latency 7.6 ms, success rate 50 %)."""
    with LoopbackServer("ok") as server:
        code, report = run_bench(tmp_path, server.url, "-n", "20", "-c", "2", "--api", "openai", "--model", MODEL,
                                 "--timeout", "1e-9")
    assert code == 1 and report["summary"]["succeeded"] == 0, report["summary"]
    # a deadline that small may pass while connecting, too (seen on a busy machine)
    assert set(report["summary"]["errors"]) <= {"connect_timeout", "timeout_headers", "timeout_ttft", "timeout_total"}


def test_a_trickle_past_the_total_deadline_fails_even_when_the_alarm_is_late(monkeypatch, capsys):
    """A stream whose every token comes within the read timeout but whose whole answer comes after the total
    deadline: with the alarm thread late (a busy machine), it passed; the latency measured decides as well."""
    from endpoint_tools import transport

    class Late:  # an alarm thread that never gets to run
        def schedule(self, delay_s, callback):
            return 0

        def cancel(self, alarm):
            pass
    monkeypatch.setattr(transport, "_ALARMS", Late())
    with LoopbackServer("trickle", trickle_s=0.1, trickle_n=5) as server:
        assert smoke.main([server.url, "--api", "openai", "--timeout", "0.3"]) == 1
    out = capsys.readouterr().out
    assert "FAIL  stream      [timeout_total]" in out and "the answer did not complete within 0.3 s" in out, out


def test_a_run_that_sent_no_request_reports_no_success_rate(tmp_path, capsys):
    """`--rate 0.01 --duration 0.2`: the first arrival falls after the duration, so nothing is sent; the run printed
    and wrote "success rate: 0.0%", a figure of no request. It is n/a (null), said on stderr, exit 1; --compare
    shows the result file as n/a too."""
    with LoopbackServer("ok") as server:
        code, report = run_bench(tmp_path, server.url, "--rate", "0.01", "--duration", "0.2")
    captured = capsys.readouterr()
    assert code == 1 and report["summary"]["requests"] == 0 and report["summary"]["success_rate"] is None
    assert "success rate: n/a" in captured.out and "no request was sent" in captured.err, captured
    assert bench.main(["--compare", str(tmp_path / "run.json")]) == 0
    assert re.search(r"success rate +n/a", capsys.readouterr().out)


def test_a_stream_answered_with_one_json_body_says_the_server_did_not_stream(tmp_path, capsys):
    """A server (or a proxy in front of it) that ignores `"stream": true` and answers the whole completion as one
    JSON body: the stream failed as "ended without its final event (0 content chunks)", which reads as a truncated
    stream. It says what came instead."""
    chat = b'{"choices": [{"message": {"content": "ab"}}], "usage": {"prompt_tokens": 1, "completion_tokens": 2}}'

    def answer(path: str, request: Optional[dict]) -> Answer:
        if path == "/v1/chat/completions":
            return 200, "application/json", chat
        return openai()(path, request)
    with Scripted(answer) as server:
        assert smoke.main([server.url, "--api", "openai", "--timeout", "5"]) == 1
    out = capsys.readouterr().out
    assert "FAIL  stream      [unterminated]" in out, out
    assert "answered with one JSON body (application/json), not an event stream" in out, out


def test_a_tls_error_names_the_cause_not_urllib3s_pool(capsys):
    """HTTPS to a plain-HTTP port: the line was urllib3's "HTTPSConnectionPool(host=..., port=...): Max retries
    exceeded with url: ... (Caused by SSLError(SSLError(1, '[SSL: WRONG_VERSION_NUMBER] ..." cut at 200 characters;
    it is the TLS library's own reason."""
    with LoopbackServer("ok") as server:
        url = server.url.replace("http://", "https://")
        assert smoke.main([url, "--api", "openai", "--timeout", "5"]) == 1
    out = capsys.readouterr().out
    assert f"[tls] TLS error talking to {url}/v1/models: [SSL: " in out, out
    assert "Pool(" not in out and "Max retries" not in out, out


def test_a_connection_error_names_the_systems_reason_not_urllib3s_pool(capsys):
    """A link-local address without its interface (`[fe80::1]`): the line was "cannot talk to ...: _Pool(host=...):
    Max retries exceeded with url: ... (Caused by NewConnectionError(..." cut at 200 characters, before the cause."""
    assert smoke.main(["http://[fe80::1]:9", "--api", "openai", "--timeout", "5"]) == 1
    out = capsys.readouterr().out
    assert "cannot talk to http://[fe80::1]:9/v1/models: [Errno " in out, out  # 22 Invalid argument, or no IPv6
    assert "Pool(" not in out and "Max retries" not in out, out


def test_a_plain_http_request_closed_without_an_answer_suggests_https(capsys):
    """A TLS listener (the gateway on 443) closes a plain-HTTP request without answering: the message said only
    "closed the connection", and `http://` for an HTTPS endpoint is the usual slip."""
    with RawServer(b"") as server:
        assert smoke.main([server.url, "--api", "openai", "--timeout", "5"]) == 1
    out = capsys.readouterr().out
    assert "closed the connection without a complete answer (if it serves HTTPS, use https://)" in out, out
