"""The smoke test (smoke) against a local server of the tests' own that misbehaves the way real gateways and model
servers do: each misbehaviour named, and no input or endpoint behaviour ever gives a traceback."""

import socket
from http.server import BaseHTTPRequestHandler

import pytest

from endpoint_tools import smoke
from endpoint_tools.llm_api import LlmClient, detect_api
from endpoint_tools.loopback_server import MODEL, OUTPUT_TOKENS, BackgroundServer, LoopbackServer

from tests.endpoint_tools.test_bench import run_bench


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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
    port = _free_port()
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


def test_smoke_checks_auth_and_rate_limit(capsys):
    with LoopbackServer("auth", api_key="s3cret") as server:
        assert smoke.main([server.url, "--api-key", "s3cret"]) == 0
        assert "PASS  auth" in capsys.readouterr().out
        assert smoke.main([server.url]) == 1  # no key: refused, named
        assert "401" in capsys.readouterr().out
    with LoopbackServer("ratelimit") as limited, LoopbackServer("ok") as unlimited:
        client = LlmClient(limited.url, "openai")
        assert smoke.check_rate_limit(client, 5).ok
        assert not smoke.check_rate_limit(LlmClient(unlimited.url, "openai"), 5).ok


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


class _Redirect(BaseHTTPRequestHandler):
    """Answers every request with a 302 to the same path under the server's `target` (a load balancer's redirect)."""
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:
        pass

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
    closed = f"http://127.0.0.1:{_free_port()}"
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
