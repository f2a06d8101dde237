"""The smoke test (smoke) against a local server of the tests' own that misbehaves the way real gateways and model
servers do: each misbehaviour named, and no input or endpoint behaviour ever gives a traceback."""

import subprocess
import sys
import time
from http.server import BaseHTTPRequestHandler

import pytest

from endpoint_tools import bench, smoke
from endpoint_tools.api_errors import ApiError, status_kind
from endpoint_tools.llm_api import Completion, LlmClient, detect_api
from endpoint_tools.loopback_server import MODEL, OUTPUT_TOKENS, BackgroundServer, LoopbackServer

from tests.endpoint_tools.test_bench import run_bench
from tests.ports import free_port


@pytest.mark.parametrize("argv", [["--timeout", "0"], ["--max-tokens", "-3"], ["--rate-limit-burst", "x"]])
def test_smoke_refuses_bad_usage_with_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as exited:
        smoke.main(["http://127.0.0.1:9", *argv])
    err = capsys.readouterr().err
    assert exited.value.code == 2 and "Traceback" not in err and "llm-smoke: error: argument" in err


@pytest.mark.parametrize("mode,fragment", [
    ("html", "[non_json]"), ("badshape", "[bad_shape]"), ("badsse", "[bad_stream]"), ("empty", "[empty_stream]"),
    ("loading", "Loading model"),
])
def test_smoke_names_every_misbehaviour_without_traceback(mode, fragment, capsys):
    with LoopbackServer(mode) as server:
        assert smoke.main([server.url, "--timeout", "5"]) == 1
    captured = capsys.readouterr()
    assert fragment in captured.out and "Traceback" not in captured.out + captured.err


def test_smoke_names_connection_refused_without_traceback(capsys):
    port = free_port()
    assert smoke.main([f"http://127.0.0.1:{port}"]) == 1
    out = capsys.readouterr().out
    assert "[refused] connection refused" in out and "Traceback" not in out


def test_smoke_names_tls_error(capsys):
    with LoopbackServer("ok") as server:
        assert smoke.main([server.url.replace("http://", "https://"), "--timeout", "5"]) == 1
    assert "[tls] TLS error" in capsys.readouterr().out


@pytest.mark.parametrize("mode,fragment", [("ratelimit", "answered 429"), ("error", "answered 500")])
def test_smoke_fails_on_error_status(mode, fragment, capsys):
    with LoopbackServer(mode) as server:
        assert smoke.main([server.url, "--api", "openai"]) == 1
    out = capsys.readouterr().out
    assert "FAIL  models" in out and fragment in out


def test_smoke_timeout_is_reported(capsys):
    with LoopbackServer("hang", hang_s=2.0) as server:
        assert smoke.main([server.url, "--api", "openai", "--timeout", "0.3"]) == 1
    assert "[timeout_headers] timed out" in capsys.readouterr().out


def test_smoke_checks_auth_and_rate_limit(capsys, tmp_path):
    with LoopbackServer("auth", api_key="s3cret") as server:
        assert smoke.main([server.url, "--api-key", "s3cret"]) == 0
        assert "PASS  auth" in capsys.readouterr().out
        assert smoke.main([server.url]) == 1  # no key: refused, named
        out = capsys.readouterr().out
        # and where a key comes from: a newcomer read "401: invalid api key" with none given and no way on
        assert "401" in out and "no key was given: pass --api-key or set $LLM_API_KEY" in out, out
        assert smoke.main([server.url, "--api-key", "wrong"]) == 1
        out = capsys.readouterr().out
        assert "401" in out and "the key given (--api-key or $LLM_API_KEY) was refused" in out and "wrong" not in out
        assert bench.main([server.url, "-n", "1", "--no-plot", "--no-progress"]) == 1
        err = capsys.readouterr().err
        assert "cannot start the benchmark: [unauthorized]" in err and "no key was given: pass --api-key" in err, err
        # with --api given there is no detection: the model list is the first request, and its 401 says it too
        assert smoke.main([server.url, "--api", "openai"]) == 1
        out = capsys.readouterr().out
        assert "FAIL  models" in out and "no key was given: pass --api-key or set $LLM_API_KEY" in out, out
        assert smoke.main([server.url, "--api", "openai", "--api-key", "wrong"]) == 1
        out = capsys.readouterr().out
        assert "FAIL  models" in out and "the key given (--api-key or $LLM_API_KEY) was refused" in out, out
        # llm-bench with --model and --api sends nothing before the run: its requests' 401s say it at the end
        for given, said in (([], "(401/403: no key was given: pass --api-key or set $LLM_API_KEY"),
                            (["--api-key", "wrong"], "(401/403: the key given (--api-key or $LLM_API_KEY) was refused)")):
            assert bench.main([server.url, "--api", "openai", "--model", "m", "-n", "1", "--no-plot",
                               "--no-progress", "--out", str(tmp_path / "bench"), *given]) == 1
            err = capsys.readouterr().err
            assert "unauthorized: POST" in err and said in err and "wrong" not in err, err
        # llm-verify's smoke request: the key given refused, by the option this gate's key comes from
        from endpoint_tools.checks import Gate, check_smoke
        for option in (smoke.KEY_OPTION, ("--llmd-api-key", "LLMD_API_KEY")):
            check = check_smoke(Gate(server.url, "modelApiUrl", "apiKeySecret", key_option=option), "wrong", 5)
            assert not check.ok and f"the key given ({option[0]} or ${option[1]}) was refused" in check.detail, check
    with LoopbackServer("ratelimit") as limited, LoopbackServer("ok") as unlimited:
        client = LlmClient(limited.url, "openai")
        check = smoke.check_rate_limit(client, 5)
        assert check.ok and check.detail == "5 of 5 burst requests answered 429, with Retry-After 1"
        assert not smoke.check_rate_limit(LlmClient(unlimited.url, "openai"), 5).ok


class _Refusing:
    """A client whose every request is answered 429 with the Retry-After given (None: no header, or no readable
    one: api_errors.readable_retry_after)."""

    def __init__(self, retry_after):
        self.retry_after = retry_after

    def list_models(self):
        raise ApiError("rate_limited", "GET /v1/models answered 429", 429, retry_after=self.retry_after)


@pytest.mark.parametrize("header, told", [
    ("1", "with Retry-After 1"), (None, "without Retry-After (the platform's gates send it"),
    ("\x1b[31m1", "without Retry-After"), ("x" * 41, "without Retry-After")])
def test_the_rate_limit_check_says_whether_the_429s_said_when_to_retry(header, told):
    from endpoint_tools.api_errors import readable_retry_after
    check = smoke.check_rate_limit(_Refusing(readable_retry_after(header)), 3)
    assert check.ok and check.detail.startswith("3 of 3 burst requests answered 429, ") and told in check.detail


def test_ollama_native_api_paths(capsys, tmp_path):
    with LoopbackServer("ok") as server:
        assert detect_api(server.url) == "openai"  # served both: the OpenAI API is preferred
        client = LlmClient(server.url, "ollama")
        assert client.list_models() == [MODEL]
        streamed = client.chat_stream(MODEL, "hi", 8)
        assert streamed.chunks == OUTPUT_TOKENS and streamed.output_tokens == OUTPUT_TOKENS and streamed.finished
        assert client.generate(MODEL, "hi").content
        assert smoke.main([server.url, "--api", "ollama"]) == 0
        assert "PASS  generate" in capsys.readouterr().out
        code, report = run_bench(tmp_path, server.url, "--api", "ollama", "-n", "10", "-c", "3", name="ollama")
    assert code == 0
    assert report["summary"]["success_rate"] == 1.0 and report["summary"]["output_tokens"] == 10 * OUTPUT_TOKENS


@pytest.mark.parametrize("mode,api,fragments", [
    ("deep", "auto", ["FAIL  reach", "[non_json]", "JSON nested too deeply to parse"]),
    ("deep", "openai", ["FAIL  models", "[non_json] GET", "/v1/models answered 200 with JSON nested too deeply"]),
    ("deep", "ollama", ["FAIL  models", "[non_json] GET", "/api/tags answered 200 with JSON nested too deeply"]),
    ("deepanswer", "openai", ["PASS  models", "FAIL  completion  [non_json]", "FAIL  stream      [bad_stream]"]),
    ("deepanswer", "ollama", ["FAIL  completion  [non_json]", "FAIL  stream      [bad_stream]",
                              "FAIL  generate    [non_json]"]),
    ("deeperror", "openai", ["FAIL  models", "[server_error] GET", "answered 500: [[["]),
])
def test_deeply_nested_json_is_a_named_failure_not_a_traceback(mode, api, fragments, capsys):
    """A 200 of `[` x 100000 (a broken or hostile server): json.loads raises RecursionError, not ValueError, on it;
    the tools call it non-JSON (bad_stream in a stream) like any other body they cannot parse."""
    with LoopbackServer(mode) as server:
        assert smoke.main([server.url, "--api", api, "--timeout", "5"]) == 1
    captured = capsys.readouterr()
    assert all(f in captured.out for f in fragments), captured.out
    assert "Traceback" not in captured.out + captured.err


class _Quiet(BaseHTTPRequestHandler):
    """A test server's handler: HTTP/1.1, no request log."""
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:
        pass


class _Redirect(_Quiet):
    """Answers every request with a 302 to the same path under the server's `target` (a load balancer's redirect)."""
    def do_GET(self) -> None:  # noqa: N802
        self.send_response(302)
        self.send_header("Location", self.server.target + self.path)  # type: ignore[attr-defined]
        self.send_header("Content-Length", "0")
        self.end_headers()


def redirecting(target: str) -> BackgroundServer:
    server = BackgroundServer(("127.0.0.1", 0), _Redirect)
    server.target = target  # type: ignore[attr-defined]
    return server


def test_a_failure_after_a_redirect_names_where_it_failed(capsys):
    """A 302 to a closed port fails at the redirect's target: the message names it (it once named only the URL
    asked for, where something did answer), and the URL asked for too."""
    closed = f"http://127.0.0.1:{free_port()}"
    with redirecting(closed) as server:
        assert smoke.main([server.url, "--timeout", "5"]) == 1
        out = capsys.readouterr().out
        assert (f"[refused] connection refused by {closed}/v1/models (redirected from {server.url}/v1/models)"
                in out), out
    with LoopbackServer("ok") as upstream, redirecting(upstream.url + "/moved") as server:
        assert smoke.main([server.url, "--api", "openai", "--timeout", "5"]) == 1
        out = capsys.readouterr().out
    assert (f"[client_error] GET {upstream.url}/moved/v1/models (redirected from {server.url}/v1/models) "
            f"answered 404") in out, out


@pytest.mark.parametrize("suffix,api", [("/v1", "openai"), ("/v1/", "auto"), ("/v1", "ollama")])
def test_a_base_url_ending_in_v1_is_taken_as_an_openai_clients_and_said_so(suffix, api, capsys, tmp_path):
    """`http://host/v1` is what OpenAI clients call the base URL; the tools add /v1 themselves, so they drop it
    (once: /v1/v1/models, a 404 with no hint) and say so on stderr."""
    with LoopbackServer("ok") as server:
        assert smoke.main([server.url + suffix, "--api", api, "--timeout", "5"]) == 0
        captured = capsys.readouterr()
        assert f"smoke test of {server.url} (" in captured.out
        assert (f"note: {server.url}{suffix} ends in /v1 (an OpenAI client's base URL); the tools add /v1 "
                f"themselves: using {server.url}\n") in captured.err, captured.err
        code, report = run_bench(tmp_path, server.url + suffix, "--api", api, "-n", "2")
    assert code == 0 and report["params"]["url"] == server.url and report["summary"]["succeeded"] == 2


@pytest.mark.parametrize("key", ["sk-secret123\r", "sk-secret123\r\n", " sk-secret123\n"])
def test_a_key_with_a_line_end_around_it_is_taken_without_it(key, capsys, monkeypatch):
    """A key file with Windows line endings (`LLM_API_KEY=$'sk-secret123\\r'`) once failed every check with
    `InvalidHeader ... 'Bearer sk-secret123\\r'` on the FAIL line: whitespace around a key is dropped, from the
    environment and from --api-key alike."""
    with LoopbackServer("auth", api_key="sk-secret123") as server:
        monkeypatch.setenv("LLM_API_KEY", key)
        assert smoke.main([server.url, "--timeout", "5"]) == 0
        monkeypatch.delenv("LLM_API_KEY")
        assert smoke.main([server.url, "--api-key", key, "--timeout", "5"]) == 0
    captured = capsys.readouterr()
    assert "PASS  auth" in captured.out and "secret123" not in captured.out + captured.err


@pytest.mark.parametrize("given, source", [
    (["--api-key", "sk-\u20acuro"], "argument --api-key"), (["--api-key", "sk-sec ret"], "argument --api-key"),
    ("sk-sec\rret", "$LLM_API_KEY"), ("sk-sec\x1bret", "$LLM_API_KEY"), ("sk-s\u00e9cret", "$LLM_API_KEY"),
])
def test_a_key_that_no_header_can_carry_is_bad_usage_naming_where_it_came_from_not_its_value(given, source, capsys,
                                                                                             monkeypatch):
    """`--api-key 'sk-€uro'` crashed with UnicodeEncodeError (a header is Latin-1 at most); a CR inside a key was
    quoted in the error. Now: exit 2, the flag or variable named, the key never shown, no request sent."""
    argv = ["http://127.0.0.1:9"]
    if isinstance(given, list):
        argv += given
    else:
        monkeypatch.setenv("LLM_API_KEY", given)
    with pytest.raises(SystemExit) as exited:
        smoke.main(argv)
    captured = capsys.readouterr()
    assert exited.value.code == 2 and not captured.out and "Traceback" not in captured.err
    assert f"llm-smoke: error: {source}: the API key contains " in captured.err, captured.err
    assert "sec" not in captured.err and "uro" not in captured.err and "cret" not in captured.err


class _EchoKey(_Quiet):
    """A gateway that quotes the Authorization header it got in its 401 (some do, to say which key failed)."""
    def do_GET(self) -> None:  # noqa: N802
        body = f'{{"error": "invalid key: {self.headers.get("Authorization")}"}}'.encode()
        self.send_response(401)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def test_a_key_a_server_echoes_is_never_printed(capsys):
    with BackgroundServer(("127.0.0.1", 0), _EchoKey) as server:
        assert smoke.main([server.url, "--api", "openai", "--api-key", "sk-secret123", "--timeout", "5"]) == 1
    out = capsys.readouterr().out
    assert "[unauthorized]" in out and "invalid key: Bearer ***" in out and "secret123" not in out, out


def test_a_password_in_the_url_is_never_printed(capsys):
    """`smoke test of http://admin:hunter2@...` and every FAIL line printed the password."""
    with LoopbackServer("ok") as server:
        secret = server.url.replace("http://", "http://admin:hunter2@")
        assert smoke.main([secret + "/v1", "--timeout", "5"]) == 0
        captured = capsys.readouterr()
        assert f"smoke test of {server.url.replace('http://', 'http://admin:***@')} (openai API)" in captured.out
        assert "note: http://admin:***@" in captured.err
        assert smoke.main([secret + "/moved", "--api", "openai", "--timeout", "5"]) == 1
        out = capsys.readouterr().out
        assert "[client_error] GET http://admin:***@" in out
    refused = f"http://admin:hunter2@127.0.0.1:{free_port()}"
    assert smoke.main([refused]) == 1
    with redirecting(refused) as server:
        assert smoke.main([server.url, "--api", "openai", "--timeout", "5"]) == 1
    with pytest.raises(SystemExit):
        smoke.main(["http://admin:hunter2@host/?q=1"])  # bad usage quotes the URL, not the password
    with pytest.raises(SystemExit):
        smoke.main(["http://admin:hunter2@host", "--stack-output", "x"])
    captured = capsys.readouterr()
    assert "[refused] connection refused by http://admin:***@" in captured.out
    assert "hunter2" not in captured.out + captured.err and captured.err.count("admin:***@") == 2, captured


def test_credentials_in_the_url_and_an_api_key_are_refused_together(capsys):
    """requests sends a URL's user[:password]@ as HTTP Basic auth, replacing the key's bearer header: the key would
    silently not be sent (a 401 that names nothing); asked for both, the tools say so at once."""
    for url in ("http://admin:hunter2@host:8080", "http://admin@host"):
        with pytest.raises(SystemExit) as done:
            smoke.main([url, "--api-key", "sk-secret123"])
        err = capsys.readouterr().err
        assert done.value.code == 2 and "not both" in err and "Basic auth" in err
        assert "hunter2" not in err and "secret123" not in err, err


def test_the_api_detection_waits_as_long_as_every_request(capsys, monkeypatch):
    """The detection's model listing is the request KEDA's interceptor holds until a replica is up: it was capped at
    30 s whatever --timeout said (the guide's `--timeout 900` for dev's cold start failed after 30 s)."""
    seen = []
    real = smoke.detect_api
    monkeypatch.setattr(smoke, "detect_api", lambda url, key, deadlines: seen.append(deadlines) or real(url, key,
                                                                                                        deadlines))
    with LoopbackServer("ok") as server:
        assert smoke.main([server.url, "--timeout", "900"]) == 0
        assert smoke.main([server.url, "--timeout", "900", "--ttft-timeout", "60"]) == 0
    assert [(d.total_s, d.ttft_s) for d in seen] == [(900.0, None), (900.0, 60.0)]


@pytest.mark.parametrize("argv, deadline", [
    (["--timeout", "0.3"], "within 0.3 s (the total deadline); raise it with --timeout SECONDS"),
    (["--ttft-timeout", "0.3"], "within 0.3 s (the first-token deadline); raise it with --ttft-timeout SECONDS"),
])
@pytest.mark.parametrize("api", ["auto", "openai"])
def test_a_timeout_names_its_deadline_and_the_flag_that_raises_it(argv, deadline, api, capsys):
    with LoopbackServer("hang", hang_s=2.0) as server:
        assert smoke.main([server.url, "--api", api, *argv]) == 1
    out = capsys.readouterr().out
    assert f"[timeout_headers] timed out waiting for {server.url}/v1/models: no response headers {deadline}" in out, out


class _Endless(_Quiet):
    """A model list, then answers that never end: a chunked JSON body, or a stream whose first line never ends
    (`server.event_lines`: endless small events instead)."""
    def do_GET(self) -> None:  # noqa: N802
        body = b'{"data": [{"id": "m"}]}'
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:  # noqa: N802
        stream = b'"stream": true' in self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(200)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        piece = b"x" * 65536
        if stream and self.server.event_lines:  # type: ignore[attr-defined]
            piece = b'data: {"choices": [{"delta": {"content": "%s"}}]}\n\n' % (b"x" * 65000)
        try:
            if not (stream and self.server.event_lines):  # type: ignore[attr-defined]
                self.wfile.write(b"%x\r\n%s\r\n" % (6, b"data: " if stream else b'{"a":"'))
            while True:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
        except OSError:
            self.close_connection = True


@pytest.mark.parametrize("event_lines, stream_says", [
    (False, "a line passed 16 MiB without its end"), (True, "the content passed 16 MiB"),
])
def test_an_endless_answer_is_cut_at_16_mib_not_read_until_the_deadline(event_lines, stream_says, capsys):
    """`_json` read a whole body (`response.content`) until the deadline: an endless one drove memory to 2 GB."""
    server = BackgroundServer(("127.0.0.1", 0), _Endless)
    server.event_lines = event_lines  # type: ignore[attr-defined]
    started = time.perf_counter()
    with server:
        assert smoke.main([server.url, "--api", "openai", "--timeout", "60"]) == 1
    out = capsys.readouterr().out
    assert time.perf_counter() - started < 30, "cut at the limit, not at the deadline"
    assert (f"FAIL  completion  [too_large] POST {server.url}/v1/chat/completions: the body is larger than 16 MiB, "
            f"the most the tools read of a JSON answer") in out, out
    assert f"FAIL  stream      [too_large] stream from {server.url}/v1/chat/completions: {stream_says}" in out, out


class _Huge(_Quiet):
    """A model list that says it is a terabyte long."""
    def do_GET(self) -> None:  # noqa: N802
        self.send_response(200)
        self.send_header("Content-Length", str(2**40))
        self.end_headers()
        self.wfile.write(b"[")


def test_a_body_said_to_be_too_large_is_refused_before_reading_it(capsys):
    with BackgroundServer(("127.0.0.1", 0), _Huge) as server:
        assert smoke.main([server.url, "--api", "ollama", "--timeout", "60"]) == 1
    assert f"[too_large] GET {server.url}/api/tags: the body is larger than 16 MiB" in capsys.readouterr().out


def test_a_closed_stdout_ends_quietly(tmp_path):
    """`llm-smoke URL | head -2` sometimes ended with a BrokenPipeError traceback from report(): now no word on
    stderr and 141, as a program stopped by SIGPIPE."""
    with LoopbackServer("ok") as server:
        process = subprocess.Popen([sys.executable, "-m", "endpoint_tools.smoke", server.url, "--timeout", "5"],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path)
        process.stdout.close()  # the reader is gone before the first line is written
        _, err = process.communicate(timeout=60)
    assert process.returncode == 141 and err == b"", err


def test_a_url_that_requests_quotes_is_no_redirect_and_a_bad_shape_names_where_it_answered(capsys):
    """`%zz` goes out as `%25zz`: that once read as "(redirected from ...)". And a bad_shape after a redirect named
    the URL asked for, not the one that answered."""
    with LoopbackServer("ok") as server:
        assert smoke.main([server.url + "/%zz", "--api", "openai", "--timeout", "5"]) == 1
        out = capsys.readouterr().out
    assert f"GET {server.url}/%zz/v1/models answered 404" in out and "redirected" not in out, out
    with LoopbackServer("badshape") as upstream, redirecting(upstream.url) as server:
        assert smoke.main([server.url, "--api", "openai", "--timeout", "5"]) == 1
        out = capsys.readouterr().out
    assert (f"[bad_shape] GET {upstream.url}/v1/models (redirected from {server.url}/v1/models): expected"
            in out), out


def test_llm_verifys_smoke_request_cleans_the_key_and_never_shows_it_or_a_url_password():
    """llm-verify reads its own --api-key/$LLM_API_KEY and smokes through checks.check_smoke: the same rules."""
    from endpoint_tools.checks import Gate, check_smoke
    with LoopbackServer("auth", api_key="sk-secret123") as server, LoopbackServer("ok") as plain:
        gate = Gate(server.url, "modelApiUrl", "apiKeySecret")
        passed = check_smoke(gate, "sk-secret123\r\n", 5.0)
        refused = check_smoke(gate, "sk-secret\u20ac", 5.0)
        shown = check_smoke(Gate(plain.url.replace("http://", "http://admin:hunter2@"), "modelApiUrl", None), None, 5)
    assert passed.ok and "PASS" not in passed.detail and "auth: a wrong API key is refused" in passed.detail
    assert shown.ok and shown.detail.startswith(plain.url.replace("http://", "http://admin:***@") + ": ")
    assert not refused.ok and refused.detail == (
        "the API key (--api-key or $LLM_API_KEY) contains a character outside ASCII (U+20AC); an API key is "
        "printable ASCII without spaces (the key itself is not shown)")
    assert "secret" not in passed.detail + refused.detail and "hunter2" not in shown.detail


def test_a_model_the_server_does_not_list_is_named_with_the_nearest_listed_not_the_whole_list():
    from endpoint_tools.smoke import not_listed
    many = [f"model-{i}:latest" for i in range(40)] + ["llama3.1:8b", "llama3.2:3b"]
    said = not_listed("llama3.1", many)
    assert said.startswith("'llama3.1' is not among the 42 model(s) the server lists (nearest: 'llama3.1:8b'")
    assert "model-7" not in said
    assert not_listed("x", ["a:1", "b:2"]) == "'x' is not among the 2 model(s) the server lists (listed: 'a:1', 'b:2')"
    assert "(the first 5: 'model-0:latest'" in not_listed("zzzz", many[:40])


class _EdgeWaf(_Quiet):
    """Answers as Azure Front Door's WAF blocks a request when its policy sets no custom response: 403 with "The
    request is blocked." and a tracking reference (MicrosoftDocs/azure-docs waf-front-door-policy-settings.md); the
    markup around the words is not documented, so it is a guess: the tools read the words alone."""
    def do_GET(self) -> None:  # noqa: N802
        body = (b"<!DOCTYPE html><html><body><h2>The request is blocked.</h2>"
                b"<p>20261205T081500Z-r1a2b3c4d5e6f7g8h9i0</p></body></html>")
        self.send_response(403)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Azure-Ref", "20261205T081500Z-r1a2b3c4d5e6f7g8h9i0")
        self.end_headers()
        self.wfile.write(body)


@pytest.mark.parametrize("key", [None, "a-key"])
def test_a_block_by_front_doors_waf_is_not_told_as_a_wrong_or_missing_key(key, capsys):
    """Behind the global endpoint a prompt a managed rule matches is refused 403 by the edge: the tools said the key
    was refused (or none given), and a user rotated a key that was fine."""
    with BackgroundServer(("127.0.0.1", 0), _EdgeWaf) as edge:
        argv = [edge.url, "--api", "openai"] + (["--api-key", key] if key else [])
        assert smoke.main(argv) == 1
        out = capsys.readouterr().out
        assert "[blocked]" in out and "not the API key" in out and "FrontDoorWebApplicationFirewallLog" in out, out
        # the page's words and its tracking reference, not its markup
        assert "answered 403: The request is blocked. 20261205T081500Z-r1a2b3c4d5e6f7g8h9i0;" in out, out
        assert "was refused" not in out and "no key was given" not in out, out
        assert bench.main(argv + ["-n", "1", "--no-plot", "--no-progress"]) == 1
        err = capsys.readouterr().err
        assert "cannot start the benchmark: [blocked]" in err and "no key was given" not in err, err
    # a 403 without those words is still the key's (the platform's gate, any other server)
    assert status_kind(403, b'{"error": "RBAC: access denied"}') == "unauthorized"
    assert status_kind(403, b"<h2>The request is BLOCKED.</h2>") == "blocked"


def test_a_stream_a_proxy_held_back_until_its_end_fails_the_stream_check(capsys):
    """A buffering proxy (Front Door documents Server-Sent Events as unsupported) hands the whole stream over at once:
    the check says so, where before it passed on its chunk count."""
    with LoopbackServer("buffered", trickle_n=12) as server:
        assert smoke.main([server.url, "--api", "openai", "--timeout", "5"]) == 1
    out = capsys.readouterr().out
    assert "PASS  completion" in out and "FAIL  stream" in out
    assert "all 12 chunks arrived together" in out and "held the answer back until it ended" in out


def test_a_stream_written_token_by_token_passes_with_its_spread(capsys):
    with LoopbackServer("trickle", trickle_s=0.01, trickle_n=10) as server:
        assert smoke.main([server.url, "--api", "openai", "--timeout", "5"]) == 0
    line = next(line for line in capsys.readouterr().out.splitlines() if "stream" in line)
    assert line.startswith("PASS  stream") and "10 chunks over " in line
    assert int(line.split("chunks over ")[1].split(" ms")[0]) >= 80  # nine gaps of 10 ms, as written


@pytest.mark.parametrize("times, at_once", [
    ([1.0] * 7, False),  # too few chunks to tell a fast server's short answer from a held one
    ([1.0] * 8, True), ([1.0 + i * 0.0005 for i in range(8)], True),
    ([1.0 + i * 0.0007 for i in range(8)], True), ([1.0 + i * 0.001 for i in range(8)], False),
    ([0.0] * 7 + [0.005], False),  # 5 ms apart is not "within 5 ms"
    ([0.5] + [1.0] * 7, False),  # a slow first token, then a burst: the whole answer spreads
    ([1.0] * 7 + [1.5], False),  # a burst, then a late last chunk
])
def test_a_stream_counts_as_held_back_only_with_enough_chunks_inside_five_ms(times, at_once):
    assert smoke.arrived_at_once(times) is at_once


class _Answered:
    """A client whose answers are the Completions given (what the checks read of them, without a server)."""

    def __init__(self, answer=None, streamed=None):
        self.answer, self.streamed = answer, streamed

    def chat(self, model, prompt, max_tokens):
        return self.answer

    def chat_stream(self, model, prompt, max_tokens):
        return self.streamed


@pytest.mark.parametrize("answer, ok, detail", [
    (Completion(content="Hi.", output_tokens=3, latency_s=0.25), True, "3 tokens in 250 ms"),
    (Completion(content=" \n ", output_tokens=3), False, "empty content"),
    (Completion(content="Hi.", output_tokens=None), False, "no usage (output token count) in the answer"),
    (Completion(content="Hi.", output_tokens=0), False, "the answer has text but its usage counts 0 output tokens "
     "(completion_tokens, or Ollama's eval_count): the server's token count is wrong, and llm-bench's tokens/s with it"),
])
def test_the_completion_check_fails_an_answer_without_text_or_without_a_token_count(answer, ok, detail):
    check = smoke.check_completion(_Answered(answer=answer), MODEL, 8)
    assert (check.name, check.ok, check.detail) == ("completion", ok, detail)


@pytest.mark.parametrize("streamed, ok, detail", [
    # usage but no content (chat_stream returns it: the empty_stream failure is for neither)
    (Completion(chunks=0, output_tokens=5, finished=True), False, "no content chunks before the stream ended"),
    (Completion(content="Hi", chunks=1, ttft_s=0.1, chunk_times_s=[0.1], finished=True), True,
     "1 chunk over 0 ms, first after 100 ms, terminated"),  # one chunk is content: no verdict on its spread
    (Completion(content="abc", chunks=3, ttft_s=0.1, chunk_times_s=[0.1, 1.2, 2.1], finished=True), True,
     "3 chunks over 2000 ms, first after 100 ms, terminated"),
])
def test_the_stream_check_reads_the_chunks_spread_from_the_first_to_the_last(streamed, ok, detail):
    check = smoke.check_stream(_Answered(streamed=streamed), MODEL, 8)
    assert (check.name, check.ok) == ("stream", ok) and check.detail.endswith(detail)


def test_a_stream_whose_body_the_connections_close_ends_is_read_as_it_arrives(capsys):
    """A body neither chunked nor of a stated length (RFC 9112 section 6.3: it ends when the server closes) was read
    by requests' iter_content(64 KiB), which waits for 64 KiB or the end: a server streaming token by token was told
    as held back by a proxy, and its first token timed at the end."""
    with LoopbackServer("unframed", trickle_s=0.02, trickle_n=10) as server:
        assert smoke.main([server.url, "--api", "openai", "--timeout", "5"]) == 0
        done = LlmClient(server.url).chat_stream(MODEL, "Count.", 32)
    line = next(line for line in capsys.readouterr().out.splitlines() if "stream" in line)
    assert line.startswith("PASS  stream") and "10 chunks over " in line
    assert done.chunks == 10 and done.content == "".join(f" w{i}" for i in range(10))
    assert done.chunk_times_s[-1] - done.chunk_times_s[0] >= 0.15  # nine gaps of 20 ms, as written
    assert done.latency_s - done.ttft_s >= 0.15  # the first token timed when it came, not with the last
