"""The smoke test (smoke) against a local server of the tests' own that misbehaves the way real gateways and model
servers do: each misbehaviour named, and no input or endpoint behaviour ever gives a traceback."""

import socket

import pytest

from endpoint_tools import smoke
from endpoint_tools.llm_api import LlmClient, detect_api
from endpoint_tools.loopback_server import MODEL, OUTPUT_TOKENS, LoopbackServer

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
