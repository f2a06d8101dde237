"""The smoke test and benchmark against a local server of the tests' own that misbehaves the way real gateways and
model servers do: each behaviour maps to a named failure kind, deadlines fire on time, and no input or endpoint
behaviour ever gives a traceback."""
import json
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from endpoint_tools import bench, smoke
from endpoint_tools.llm_api import ApiError, Deadlines, LlmClient, detect_api
from endpoint_tools.loopback_server import MODEL, OUTPUT_TOKENS, LoopbackServer

HERE = Path(__file__).resolve().parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---- error paths against the tests' own server ------------------------------------------------------------------

def stream_kind(mode: str, deadlines: Deadlines = Deadlines(5.0), **server) -> str:
    with LoopbackServer(mode, **server) as srv:
        with pytest.raises(ApiError) as caught:
            LlmClient(srv.url, "openai", deadlines=deadlines).chat_stream(MODEL, "hi", 8)
    return caught.value.kind


@pytest.mark.parametrize("mode,kind", [
    ("ratelimit", "rate_limited"), ("error", "server_error"), ("close", "closed"), ("html", "unterminated"),
    ("badsse", "bad_stream"), ("empty", "empty_stream"), ("unterminated", "unterminated"),
])
def test_every_stream_failure_has_a_named_kind(mode, kind):
    assert stream_kind(mode) == kind


def test_three_deadlines_are_told_apart_and_honoured():
    started = time.perf_counter()
    assert stream_kind("hang", Deadlines(0.4), hang_s=4.0) == "timeout_headers"
    # headers come at once, the first token after 4 s: the 1 s first-token deadline fires (slack for busy machines)
    assert stream_kind("slowfirst", Deadlines(8.0, ttft_s=1.0), hang_s=4.0) == "timeout_ttft"
    # a server trickling a token every 0.3 s for 3 s fails a 1 s total deadline (a per-read timeout would pass)
    assert stream_kind("trickle", Deadlines(1.0), trickle_s=0.3, trickle_n=10) == "timeout_total"
    assert time.perf_counter() - started < 6.0, "each deadline fires on time, not when the server finishes"
    with LoopbackServer("trickle", trickle_s=0.05, trickle_n=6) as srv:
        done = LlmClient(srv.url, "openai", deadlines=Deadlines(5.0, ttft_s=1.0)).chat_stream(MODEL, "hi", 8)
    assert done.chunks == 6 and 0.03 < done.inter_token_s < 0.5 and done.ttft_s < done.latency_s


@pytest.mark.parametrize("mode,kind,fragment", [
    ("html", "non_json", "not JSON (text/html)"), ("badshape", "bad_shape", "expected {\"data\""),
    ("error", "server_error", "answered 500: CUDA out of memory"),
])
def test_non_streamed_failures_carry_the_kind_and_the_servers_words(mode, kind, fragment):
    with LoopbackServer(mode) as srv:
        with pytest.raises(ApiError) as caught:
            LlmClient(srv.url, "openai").list_models()
    assert caught.value.kind == kind and fragment in str(caught.value)


def test_api_detection_reports_every_probe():
    with LoopbackServer("loading") as srv:
        with pytest.raises(ApiError) as caught:
            detect_api(srv.url)
    message = str(caught.value)
    assert caught.value.kind == "server_error" and "503: Loading model" in message and "404" in message


@pytest.mark.parametrize("mode,kind", [("ratelimit", "rate_limited"), ("error", "server_error"),
                                       ("close", "closed"), ("empty", "empty_stream")])
def test_bench_counts_each_failure_kind_and_never_as_success(mode, kind):
    with LoopbackServer(mode) as server:
        b = bench.Bench(server.url, "openai", MODEL, None, Deadlines(5.0), 2)
        results, wall, interrupted = b.run(6, "hi", 8, progress=False)
    assert [r["error"] for r in results] == [kind] * 6 and not any(r["ok"] for r in results) and not interrupted
    from endpoint_tools.stats import summarize
    summary = summarize(results, wall)
    assert summary["requests_per_s"] is None and summary["failed"] == 6 and summary["latency_ms"]["avg"] is None


def test_bench_reports_timeouts_before_headers():
    with LoopbackServer("hang", hang_s=2.0) as server:
        results, _, _ = bench.Bench(server.url, "openai", MODEL, None, Deadlines(0.3), 2).run(2, "hi", 8,
                                                                                              progress=False)
    assert [r["error"] for r in results] == ["timeout_headers", "timeout_headers"]


def run_bench(tmp_path, url, *extra, name="run"):
    out = tmp_path / name
    code = bench.main([url, "--no-progress", "--no-plot", "--out", str(out), *extra])
    report = json.loads(Path(f"{out}.json").read_text()) if Path(f"{out}.json").exists() else None
    return code, report


def test_bench_exit_code_follows_min_success(tmp_path):
    with LoopbackServer("ratelimit") as limited:
        code, report = run_bench(tmp_path, limited.url, "--api", "openai", "--model", MODEL, "-n", "4")
        assert code == 1 and report["summary"]["success_rate"] == 0
        code, _ = run_bench(tmp_path, limited.url, "--api", "openai", "--model", MODEL, "-n", "4",
                            "--min-success", "0")
        assert code == 0
    with LoopbackServer("ok") as ok:
        assert run_bench(tmp_path, ok.url, "-n", "4")[0] == 0


def test_bench_warmup_duration_and_rate_modes(tmp_path):
    with LoopbackServer("ok") as server:
        code, warm = run_bench(tmp_path, server.url, "-n", "5", "--warmup", "3", name="warm")
        assert code == 0 and warm["summary"]["requests"] == 5 and [r["index"] for r in warm["results"]] == list(
            range(5))
        code, timed = run_bench(tmp_path, server.url, "--duration", "0.5", "-c", "2", name="timed")
        assert code == 0 and timed["summary"]["requests"] > 5 and timed["params"]["duration_s"] == 0.5
        # nothing starts long after the duration (generous slack: the machine may be busy)
        assert max(r["start_s"] for r in timed["results"]) < 0.5 + 2.0
        code, opened = run_bench(tmp_path, server.url, "--rate", "40", "-n", "20", "--seed", "7", name="open")
    assert code == 0 and opened["summary"]["requests"] == 20
    arrivals = [r["scheduled_s"] for r in opened["results"]]
    assert arrivals == sorted(arrivals) and 0.1 < arrivals[-1] < 2.0  # ~20 Poisson arrivals at 40/s
    # requests start at their arrival time, not when a previous one finishes
    assert all(abs(r["start_s"] - r["scheduled_s"]) < 1.0 for r in opened["results"])


def test_bench_out_keeps_dots_in_the_stem(tmp_path):
    with LoopbackServer("ok") as server:
        assert bench.main([server.url, "-n", "2", "--no-progress", "--out", str(tmp_path / "qwen2.5-c8")]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["qwen2.5-c8.csv", "qwen2.5-c8.json", "qwen2.5-c8.png"]


def test_plot_with_no_success_draws_no_fake_request(tmp_path):
    with LoopbackServer("error") as server:
        code = bench.main([server.url, "--api", "openai", "--model", MODEL, "-n", "2", "--no-progress",
                           "--out", str(tmp_path / "failed")])
    assert code == 1 and (tmp_path / "failed.png").read_bytes()[:4] == b"\x89PNG"
    report = json.loads((tmp_path / "failed.json").read_text())
    assert report["summary"]["requests_per_s"] is None and report["summary"]["errors"] == {"server_error": 2}


@pytest.mark.parametrize("argv", [
    ["--timeout", "0"], ["--timeout", "-1"], ["--timeout", "nan"], ["--timeout", "inf"], ["--max-tokens", "0"],
    ["-n", "0"], ["-c", "x"], ["--min-success", "150"], ["--rate", "0"], ["--duration", "-2"], ["--warmup", "-1"],
    [],
])
def test_bench_refuses_bad_usage_with_exit_2_and_no_traceback(argv, capsys):
    with pytest.raises(SystemExit) as exited:
        bench.main((["http://127.0.0.1:9"] if argv else []) + argv)
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "error:" in err


@pytest.mark.parametrize("argv", [["--timeout", "0"], ["--max-tokens", "-3"], ["--rate-limit-burst", "x"]])
def test_smoke_refuses_bad_usage_with_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as exited:
        smoke.main(["http://127.0.0.1:9", *argv])
    assert exited.value.code == 2 and "Traceback" not in capsys.readouterr().err
    assert smoke.main([]) == 2


@pytest.mark.parametrize("mode,fragment", [
    ("html", "[non_json]"), ("badshape", "[bad_shape]"), ("badsse", "[bad_stream]"), ("empty", "[empty_stream]"),
    ("loading", "Loading model"),
])
def test_smoke_names_every_misbehaviour_without_traceback(mode, fragment, capsys):
    with LoopbackServer(mode) as server:
        assert smoke.main([server.url, "--timeout", "5"]) == 1
    captured = capsys.readouterr()
    assert fragment in captured.out and "Traceback" not in captured.out + captured.err


def test_bench_start_up_failures_are_one_line(capsys):
    with LoopbackServer("html") as server:
        assert bench.main([server.url, "-n", "2", "--no-progress", "--no-plot", "--out", "/nonexistent/x"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("cannot start the benchmark: [non_json]") and "Traceback" not in err


def test_ctrl_c_stops_bench_promptly_and_writes_partial_results(tmp_path):
    out = tmp_path / "partial"
    with LoopbackServer("trickle", trickle_s=0.5, trickle_n=40) as server:
        process = subprocess.Popen([sys.executable, "-m", "endpoint_tools.bench", server.url, "--api", "openai",
                                    "--model", MODEL, "-n", "50", "-c", "2", "--no-progress", "--no-plot",
                                    "--out", str(out)],
                                   cwd=HERE.parent, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(1.5)
        interrupted_at = time.monotonic()
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=15)
    assert time.monotonic() - interrupted_at < 6, "Ctrl-C stops the run promptly"
    assert process.returncode == 130 and "Traceback" not in stderr and "PARTIAL" in stdout
    report = json.loads(Path(f"{out}.json").read_text())
    assert report["partial"] is True and report["summary"]["requests"] < 50


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


def test_compare_shows_runs_by_label_with_load_model_and_errors(tmp_path, capsys):
    with LoopbackServer("ok") as server, LoopbackServer("ratelimit") as limited:
        run_bench(tmp_path, server.url, "-n", "4", "-c", "2", "--label", "ollama-cpu", name="a/run")
        run_bench(tmp_path, limited.url, "--api", "openai", "--model", MODEL, "-n", "3", "-c", "1",
                  "--label", "vllm-gpu", name="b/run")
    capsys.readouterr()
    assert bench.main(["--compare", str(tmp_path / "a" / "run.json"), str(tmp_path / "b" / "run.json")]) == 0
    table = capsys.readouterr().out.splitlines()
    assert "ollama-cpu" in table[0] and "vllm-gpu" in table[0]  # two run.json files, told apart by label
    rows = {line[:16].strip(): line[16:].split() for line in table[1:]}
    assert rows["requests (n)"] == ["4", "3"] and rows["load"] == ["c=2", "c=1"]
    assert rows["success rate"] == ["100.0%", "0.0%"] and rows["errors"] == ["none", "rate_limited:3"]
    assert rows["model"] == [MODEL, MODEL]
    assert bench.main(["--compare", str(tmp_path / "missing.json")]) == 2


def test_api_error_carries_status():
    with LoopbackServer("error") as server:
        with pytest.raises(ApiError) as caught:
            LlmClient(server.url, "openai").list_models()
    assert caught.value.status == 500 and caught.value.kind == "server_error"
