"""The benchmark (bench) against a local server of the tests' own that misbehaves the way real gateways and model
servers do: each failure kind counted, never as success, and no input or endpoint behaviour ever gives a traceback."""

import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

import pytest

from endpoint_tools import bench
from endpoint_tools.api_errors import Deadlines
from endpoint_tools.loopback_server import MODEL, LoopbackServer, _Handler


HERE = Path(__file__).resolve().parent.parent  # tests/


# llm-bench as a user starts it, Ctrl-C included: with SIGINT's default handler whatever this suite inherited (a
# shell without job control starts a background command with SIGINT and SIGQUIT ignored, and Python keeps an ignored
# SIGINT ignored: `make test &` then saw these runs ignore the signal and time out)
def with_ctrl_c(command: str, module: str) -> list[str]:
    return [sys.executable, "-c", "import runpy, signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
            f"sys.argv[0] = {command!r}; runpy.run_module({module!r}, run_name='__main__')"]


BENCH_WITH_CTRL_C = with_ctrl_c("llm-bench", "endpoint_tools.bench")


def ctrl_c_once(process: "subprocess.Popen[str]", ready: Callable[[], bool], wait_s: float = 20,
                settle_s: float = 0.0, timeout_s: float = 15) -> tuple[str, str, float]:
    """Ctrl-C to `process` once `ready()` holds (or `wait_s` has passed), `settle_s` after: its stdout, its stderr and
    the seconds it took to end after the signal. The process is killed on the way out, whatever happened."""
    try:
        deadline = time.monotonic() + wait_s
        while not ready() and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(settle_s)
        interrupted_at = time.monotonic()
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=timeout_s)
        return stdout, stderr, time.monotonic() - interrupted_at
    finally:
        process.kill()


def run_bench(tmp_path, url, *extra, name="run"):
    out = tmp_path / name
    code = bench.main([url, "--no-progress", "--no-plot", "--out", str(out), *extra])
    report = json.loads(Path(f"{out}.json").read_text()) if Path(f"{out}.json").exists() else None
    return code, report


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


def test_bench_exit_code_follows_min_success(tmp_path, capsys):
    with LoopbackServer("ratelimit") as limited:
        code, report = run_bench(tmp_path, limited.url, "--api", "openai", "--model", MODEL, "-n", "4")
        assert code == 1 and report["summary"]["success_rate"] == 0
        # said why, with what the server answered: the summary counted kinds alone, and exit 1 came silently
        err = capsys.readouterr().err
        assert "exit 1: success rate 0.00% (0 of 4 requests) is below --min-success 100%" in err, err
        assert re.search(r"^  rate_limited: .*429", err, flags=re.M) and "gateway.rateLimitPerSecond" in err, err
    with LoopbackServer("error") as failing:
        assert run_bench(tmp_path, failing.url, "--api", "openai", "--model", MODEL, "-n", "2",
                         "--min-success", "50")[0] == 1
        err = capsys.readouterr().err
        assert "below --min-success 50%" in err and re.search(r"^  server_error: .*500.*CUDA out of memory", err,
                                                               flags=re.M), err
        assert "rateLimitPerSecond" not in err and "Traceback" not in err, err
        code, _ = run_bench(tmp_path, limited.url, "--api", "openai", "--model", MODEL, "-n", "4",
                            "--min-success", "0")
        assert code == 0
    with LoopbackServer("ok") as ok:
        assert run_bench(tmp_path, ok.url, "-n", "4")[0] == 0


class _FirstChatFails(_Handler):
    """The first chat request answers 500, every other one as the "ok" server does."""

    def do_POST(self) -> None:  # noqa: N802
        with self.server.lock:
            first, self.server.failed_once = not getattr(self.server, "failed_once", False), True
        if first:
            self._body()
            self._json(500, {"error": {"message": "CUDA out of memory", "type": "server_error"}})
            return
        super().do_POST()


@pytest.mark.parametrize("floor, code", [("66.67", 1), ("66.667", 1), ("66.66", 0)])
def test_bench_min_success_is_judged_on_the_counts_and_said_without_rounding_up(tmp_path, capsys, floor, code):
    """2 of 3 (66.666...%): the exit code followed the summary's rate, rounded to 4 digits (66.67 %), so a floor of
    66.667 passed (as 1 failure in 20,000 passed 100 %), and a floor of 66.7 was told "66.7% is below 66.7%"."""
    with LoopbackServer("ok") as server:
        server.RequestHandlerClass = _FirstChatFails
        assert run_bench(tmp_path, server.url, "--api", "openai", "--model", MODEL, "-n", "3", "-c", "1",
                         "--min-success", floor)[0] == code
    err = capsys.readouterr().err
    if code:
        assert f"exit 1: success rate 66.66% (2 of 3 requests) is below --min-success {floor}%" in err, err
        assert re.search(r"^  server_error: .*500.*CUDA out of memory", err, flags=re.M), err
    else:
        assert "exit 1" not in err, err


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
    # bounds: `--rate 1e-300` overflowed time.sleep, `--rate 1e-10` waited for ever
    ["--rate", "1e-300"], ["--rate", "1e-10"], ["--rate", "1e9"], ["--rate", "nan"], ["-c", "100000"],
    ["-n", "1000000000"], ["--warmup", "1000000000"], ["--duration", "1e300"], ["--max-tokens", "1000000000"],
])
def test_bench_refuses_bad_usage_with_exit_2_and_no_traceback(argv, capsys):
    with pytest.raises(SystemExit) as exited:
        bench.main((["http://127.0.0.1:9"] if argv else []) + argv)
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "error:" in err


def test_bench_start_up_failures_are_one_line(capsys, tmp_path):
    # a results path whose folders are still to be made, and that any user can make (the CI runner is no root)
    out = tmp_path / "not-yet" / "x"
    with LoopbackServer("html") as server:
        assert bench.main([server.url, "-n", "2", "--no-progress", "--no-plot", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("cannot start the benchmark: [non_json]") and "Traceback" not in err
    assert not out.parent.exists()  # nothing written when it could not start


def test_ctrl_c_stops_bench_promptly_and_writes_partial_results(tmp_path):
    out = tmp_path / "partial"
    with LoopbackServer("trickle", trickle_s=0.1, trickle_n=200) as server:  # 20 s an answer, as 40 tokens at 0.5 s
        process = subprocess.Popen([*BENCH_WITH_CTRL_C, server.url, "--api", "openai",
                                    "--model", MODEL, "-n", "50", "-c", "2", "--no-progress", "--no-plot",
                                    "--out", str(out)],
                                   cwd=HERE.parent, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        # mid-run: both workers' requests sent and streaming (a fixed 1.5 s sleep idled ~1.3 s after they were), a
        # few tokens of each answer streamed
        stdout, stderr, exited_s = ctrl_c_once(process, lambda: server.received >= 2, settle_s=0.3)
    assert exited_s < 6, "Ctrl-C stops the run promptly"
    assert process.returncode == 130 and "Traceback" not in stderr and "PARTIAL" in stdout
    report = json.loads(Path(f"{out}.json").read_text())
    assert report["partial"] is True and report["summary"]["requests"] < 50


def test_ctrl_c_with_requests_stuck_on_the_server_counts_them_cancelled_and_exits_at_once(tmp_path):
    """A server that never answers (no headers): Ctrl-C writes the results within a second or so, counts the requests
    in flight as cancelled (they were once left out: `Requests: 0`) and the process ends without waiting for them
    to time out (--timeout 60 here; before, it stayed up until then)."""
    out = tmp_path / "stuck"
    with LoopbackServer("hang", hang_s=60) as server:
        process = subprocess.Popen([*BENCH_WITH_CTRL_C, server.url, "--api", "openai",
                                    "--model", MODEL, "-n", "4", "-c", "2", "--timeout", "60", "--no-progress",
                                    "--no-plot", "--out", str(out)],
                                   cwd=HERE.parent, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        # both workers wait for an answer
        stdout, stderr, exited_s = ctrl_c_once(process, lambda: server.received >= 2, settle_s=0.2)
    assert exited_s < 4, f"the process ended {exited_s:.1f} s after Ctrl-C"
    assert process.returncode == 130 and "Traceback" not in stderr and "PARTIAL" in stdout, (stdout, stderr)
    assert "Requests: 2  succeeded: 0  failed: 2" in stdout and "Errors by kind: cancelled: 2" in stdout, stdout
    report = json.loads(Path(f"{out}.json").read_text())
    assert report["partial"] is True and report["summary"]["errors"] == {"cancelled": 2}
    assert [(r["index"], r["error"]) for r in report["results"]] == [(0, "cancelled"), (1, "cancelled")]
    assert all(r["start_s"] is not None and "in flight" in r["message"] for r in report["results"])
    assert Path(f"{out}.csv").read_text().count(",cancelled,") == 2


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
    with pytest.raises(SystemExit) as exited:
        bench.main(["--compare", str(tmp_path / "missing.json")])
    assert exited.value.code == 2 and "llm-bench: error: cannot compare: " in capsys.readouterr().err
    (tmp_path / "notes.txt").write_text("not a result\n")  # e.g. the run's .csv or a typo'd glob
    with pytest.raises(SystemExit):
        bench.main(["--compare", str(tmp_path / "notes.txt")])
    assert f"cannot compare: {tmp_path / 'notes.txt'} is not a benchmark result (not JSON" in capsys.readouterr().err


def test_an_unwritable_out_is_refused_before_any_request(tmp_path, capsys):
    """The results must not be lost after a whole run: `--out` under a file, or naming a folder, is bad usage (2),
    checked before the endpoint is contacted (port 9: nothing listens, so a request would fail with 1)."""
    (tmp_path / "afile").write_text("")
    for out, fragment in ((tmp_path / "afile" / "run", "is a file"), (f"{tmp_path}/", "names a folder")):
        with pytest.raises(SystemExit) as exit_:
            bench.main(["http://127.0.0.1:9", "-n", "1", "--out", str(out)])
        assert exit_.value.code == 2
        assert fragment in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == [tmp_path / "afile"]  # nothing created
    for out, fragment in (("", "--out '' is empty"), ("/", "--out '/' names a folder")):
        with pytest.raises(SystemExit) as exit_:
            bench.main(["http://127.0.0.1:9", "-n", "1", "--out", out])
        err = capsys.readouterr().err
        # the example is a relative path (it was `/run1`, a file at the filesystem's root)
        assert exit_.value.code == 2 and f"{fragment}" in err and "(e.g. results/run1)" in err, err


def test_on_a_python_the_plot_library_does_not_support_the_run_says_why_there_is_no_plot(tmp_path, capsys,
                                                                                       monkeypatch):
    """On Python 3.10 the [bench] extra installs no matplotlib (its 3.11 needs 3.11; pyproject.toml's marker): the
    install advice would send the user round in circles; the message says which Python the plot needs."""
    real = bench.importlib.util.find_spec
    monkeypatch.setattr(bench.importlib.util, "find_spec",
                        lambda name, *a: None if name == "matplotlib" else real(name, *a))
    monkeypatch.setattr(bench.sys, "version_info", (3, 10, 13, "final", 0))
    with LoopbackServer("ok") as server:
        assert bench.main([server.url, "-n", "2", "--no-progress", "--out", str(tmp_path / "run")]) == 0
    err = capsys.readouterr().err
    assert "no plot: matplotlib, the [bench] extra's, needs Python 3.11 or later (this is 3.10)" in err, err
    assert "pip install" not in err


def test_without_the_bench_extra_the_run_goes_on_without_progress_bar_and_plot(tmp_path, capsys, monkeypatch):
    """`pip install ./endpoint-tools` without [bench] has no tqdm or matplotlib: said once, not a traceback."""
    real = bench.importlib.util.find_spec
    monkeypatch.setattr(bench.importlib.util, "find_spec",
                        lambda name, *a: None if name in ("tqdm", "matplotlib") else real(name, *a))
    with LoopbackServer("ok") as server:
        assert bench.main([server.url, "-n", "2", "--out", str(tmp_path / "run")]) == 0
    err = capsys.readouterr().err
    assert "tqdm is not installed" in err and "matplotlib is not installed" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.csv", "run.json"]
    # how to install it from this repository (the distribution is not published on an index), as the guide says
    install = 'pip install "./endpoint-tools[bench]"'
    assert err.count(install) == 2 and "llmplatform-endpoint-tools[bench]" not in err, err
    from tests.conftest import PROJECT_DIR
    guide = " ".join((PROJECT_DIR / "docs" / "operations.md").read_text().split())
    assert install in guide and "the benchmark runs without them" in guide


def test_a_bad_rate_is_named_in_its_own_unit(capsys):
    with pytest.raises(SystemExit):
        bench.main(["http://127.0.0.1:9", "--rate", "-1"])
    assert "'-1' must be a number of requests per second from 0.01 to 100000" in capsys.readouterr().err


def test_the_printed_summary_shows_every_figure_the_operations_guide_lists(tmp_path, capsys):
    """docs/operations.md says what the bench reports; each figure it lists is printed, with the value the JSON
    holds (before: no latency P95 and no TTFT P99 on the console)."""
    from tests.conftest import PROJECT_DIR
    guide = (PROJECT_DIR / "docs" / "operations.md").read_text()
    bullet = " ".join(guide[guide.index("- **Bench** "):].split("\n- ")[0].split())
    printed = {"latency": ("Latency ms", "latency_ms"), "TTFT": ("TTFT ms", "ttft_ms"),
               "inter-token latency": ("ITL ms", "itl_ms"),
               "per-request output tokens/s": ("Per-request output tokens/s", "request_tokens_per_s")}
    listed = {name: re.search(rf"\b{re.escape(name)} ((?:avg|max|P\d+)(?:/(?:avg|max|P\d+))*)", bullet)
              for name in printed}
    assert all(listed.values()), listed  # the guide still lists each of them
    with LoopbackServer("ok") as server:
        code, report = run_bench(tmp_path, server.url, "-n", "6", "-c", "2")
    assert code == 0
    lines = dict(line.split(": ", 1) for line in capsys.readouterr().out.splitlines() if ": " in line)
    for name, (title, key) in printed.items():
        shown = dict(pair.split(" ") for pair in lines[title].split("  "))  # "avg 2.1  p50 2.0  ..."
        for figure in (f.lower() for f in listed[name][1].split("/")):
            assert shown.get(figure) == str(report["summary"][key][figure]) != "None", (name, figure, shown)
    throughput = lines["Throughput (successful requests)"]
    assert f"{report['summary']['requests_per_s']} req/s" in throughput
    assert f"{report['summary']['output_tokens_per_s']} output tokens/s" in throughput


def test_deeply_nested_json_is_a_named_failure_not_a_traceback(tmp_path, capsys):
    """`[` x 100000 in a 200: as a model list it stops the start-up with one line, as stream events each request
    fails bad_stream (not `error`), and as a saved result --compare refuses it; never a RecursionError."""
    with LoopbackServer("deep") as deep:
        assert bench.main([deep.url, "-n", "3", "--no-progress", "--no-plot", "--out", str(tmp_path / "x")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("cannot start the benchmark: [non_json]") and "nested too deeply" in err, err
    with LoopbackServer("deepanswer") as deep:
        code, report = run_bench(tmp_path, deep.url, "--api", "openai", "--model", MODEL, "-n", "3")
    assert code == 1 and report["summary"]["errors"] == {"bad_stream": 3}
    assert "nested too deeply" in report["results"][0]["message"]
    (tmp_path / "deep.json").write_text("[" * 100_000)
    with pytest.raises(SystemExit) as exited:
        bench.main(["--compare", str(tmp_path / "deep.json")])
    err = capsys.readouterr().err
    assert exited.value.code == 2 and "is not a benchmark result (not JSON: JSON nested too deeply" in err, err


def test_a_folder_in_the_way_of_a_result_file_or_no_file_name_is_refused_before_any_request(tmp_path, capsys):
    """`--out d1/r` with a folder d1/r.json (or r.csv, r.png) would lose the run when writing; `--out .json` would
    write the hidden files .json and .csv: both bad usage (2) before the endpoint is contacted (port 9)."""
    for kind in ("json", "csv", "png"):
        (tmp_path / kind / f"r.{kind}").mkdir(parents=True)
        with pytest.raises(SystemExit) as exit_:
            bench.main(["http://127.0.0.1:9", "-n", "1", "--out", str(tmp_path / kind / "r")])
        err = capsys.readouterr().err
        assert exit_.value.code == 2 and f"r.{kind} is a folder, in the way of the {kind.upper()} results" in err
    # without a plot the PNG's name is not in the way
    assert bench.output_problem(str(tmp_path / "png" / "r"), plot=False) is None
    for out, example in ((".json", "results/run1"), (f"{tmp_path}/.csv", f"{tmp_path}/run1"),
                         ("runs/..png", "runs/run1")):
        with pytest.raises(SystemExit) as exit_:
            bench.main(["http://127.0.0.1:9", "-n", "1", "--out", out])
        err = capsys.readouterr().err
        assert exit_.value.code == 2 and f"--out {out!r} has no file name before its suffix" in err, err
        assert f"(e.g. {example})" in err
    assert not list(Path(".").glob(".json")) and not (tmp_path / ".csv").exists()


full_disk = pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (Linux)")


@full_disk
def test_a_full_disk_after_the_run_keeps_the_measurements_in_the_temp_folder(tmp_path, capsys, monkeypatch):
    """A result file that cannot be written after the run (a full disk: r.json links to /dev/full) loses no
    measurement: the results go to a file in the temp folder, one line says where, and the exit code is 3."""
    temp = tmp_path / "temp"
    temp.mkdir()
    monkeypatch.setattr(bench.tempfile, "tempdir", str(temp))
    (tmp_path / "r.json").symlink_to("/dev/full")
    with LoopbackServer("ok") as server:
        assert bench.main([server.url, "-n", "3", "--no-progress", "--out", str(tmp_path / "r")]) == 3
    captured = capsys.readouterr()
    kept = list(temp.glob("llm-bench-*.json"))
    assert len(kept) == 1 and "Traceback" not in captured.err
    assert captured.err.strip() == f"cannot write {tmp_path / 'r.json'} (No space left on device): the results are " \
                                   f"kept in {kept[0]}"
    report = json.loads(kept[0].read_text())
    assert report["summary"]["requests"] == 3 and len(report["results"]) == 3
    # no temp folder either: the JSON goes to stdout, the one place left
    monkeypatch.setattr(bench.tempfile, "tempdir", str(tmp_path / "no-such-folder"))
    with LoopbackServer("ok") as server:
        assert bench.main([server.url, "-n", "2", "--no-progress", "--no-plot", "--out", str(tmp_path / "r")]) == 3
    captured = capsys.readouterr()
    assert "the results follow on stdout as JSON" in captured.err and "Traceback" not in captured.err
    printed = json.loads(captured.out[captured.out.index("\n{") + 1:])
    assert printed["summary"]["requests"] == 2


@full_disk
def test_a_csv_that_cannot_be_written_says_the_json_holds_the_measurements(tmp_path, capsys):
    (tmp_path / "r.csv").symlink_to("/dev/full")
    with LoopbackServer("ok") as server:
        assert bench.main([server.url, "-n", "2", "--no-progress", "--no-plot", "--out", str(tmp_path / "r")]) == 3
    err = capsys.readouterr().err
    assert err.strip() == f"cannot write {tmp_path / 'r.csv'} (No space left on device): the measurements are all " \
                          f"in {tmp_path / 'r.json'}"
    assert json.loads((tmp_path / "r.json").read_text())["summary"]["requests"] == 2


def test_dollar_signs_in_the_label_or_the_servers_header_are_text_not_mathtext(tmp_path, capsys, monkeypatch):
    """The plot's title names the run, the model and the server's `Server` header (which any endpoint sets):
    matplotlib's mathtext once parsed `$\nosuchcmd$` and the run ended in a traceback after the JSON and CSV."""
    from endpoint_tools import loopback_server
    monkeypatch.setattr(loopback_server._Handler, "server_version", r"hostile/$\alsonosuchcmd$")
    with LoopbackServer("ok") as server:
        assert bench.main([server.url, "-n", "2", "--no-progress", "--label", r"run $\nosuchcmd$ a_b ^x",
                           "--out", str(tmp_path / "r")]) == 0
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err and f"wrote {tmp_path / 'r.png'}" in captured.out, captured
    assert (tmp_path / "r.png").read_bytes()[:4] == b"\x89PNG"
    assert json.loads((tmp_path / "r.json").read_text())["server"].startswith(r"hostile/$\alsonosuchcmd$")


def test_a_plot_that_fails_is_one_line_and_keeps_the_runs_results_and_exit_code(tmp_path, capsys, monkeypatch):
    def broken(report, path):
        raise ValueError("\nrun $\\x$\n    ^\nParseFatalException: Unknown symbol: \\x")
    monkeypatch.setattr(bench, "plot_report", broken)
    with LoopbackServer("ok") as server:
        assert bench.main([server.url, "-n", "2", "--no-progress", "--out", str(tmp_path / "r")]) == 0
    err = capsys.readouterr().err
    assert err.strip() == f"no plot: cannot draw {tmp_path / 'r.png'} (ValueError: ParseFatalException: Unknown " \
                          f"symbol: \\x)"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.csv", "r.json"]


def test_a_password_in_the_url_is_never_printed_or_recorded(tmp_path, capsys):
    """`http://admin:hunter2@host`: the results record and the output show the URL as endpoint.shown_url does,
    in params.url and in each failure's message, and at start-up."""
    with LoopbackServer("ok") as ok, LoopbackServer("close") as closing, LoopbackServer("html") as html:
        secret = [server.url.replace("http://", "http://admin:hunter2@") for server in (ok, closing, html)]
        code, report = run_bench(tmp_path, secret[0], "-n", "2", name="ok")
        assert code == 0 and report["params"]["url"] == ok.url.replace("http://", "http://admin:***@")
        code, report = run_bench(tmp_path, secret[1], "--api", "openai", "--model", MODEL, "-n", "2", name="closed")
        assert code == 1 and report["summary"]["errors"] == {"closed": 2}
        assert all("admin:***@" in r["message"] for r in report["results"]), report["results"]
        assert bench.main([secret[2], "-n", "1", "--no-progress", "--out", str(tmp_path / "x")]) == 1
    captured = capsys.readouterr()
    assert "cannot start the benchmark: [non_json]" in captured.err and "admin:***@" in captured.err
    written = "".join(p.read_text() for p in tmp_path.iterdir() if p.suffix in (".json", ".csv"))
    assert "hunter2" not in captured.out + captured.err + written


@pytest.mark.parametrize("edit, fragment", [
    (lambda r: r["summary"].update(errors=[]), "summary.errors is []: expected an object of failure kinds"),
    (lambda r: r["summary"].update(itl_ms=[]), "summary.itl_ms is []: expected an object"),
    (lambda r: r.update(params=None), "params is null: expected an object"),
    (lambda r: r["summary"].pop("requests"), "no summary.requests (expected a whole number >= 0)"),
    (lambda r: r["summary"].update(success_rate="95%"), 'summary.success_rate is "95%": expected a number from 0'),
    (lambda r: r["summary"]["latency_ms"].update(p50=[1]), "summary.latency_ms.p50 is [1]: expected a number or null"),
    (lambda r: r["params"].update(rate="fast"), 'params.rate is "fast": expected a number or null'),
    (lambda r: r.pop("summary"), "no summary (expected an object)"),
])
def test_compare_names_the_file_and_the_key_of_an_edited_result(tmp_path, capsys, edit, fragment):
    """A result file edited by hand gave AttributeError tracebacks (`"errors": []`) or `cannot compare:
    'requests'`; each is bad usage naming the file, the key, what it holds and what it must be."""
    with LoopbackServer("ok") as server:
        code, report = run_bench(tmp_path, server.url, "-n", "2")
    edit(report)
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(report))
    capsys.readouterr()
    with pytest.raises(SystemExit) as exited:
        bench.main(["--compare", str(tmp_path / "run.json"), str(path)])
    err = capsys.readouterr().err
    assert exited.value.code == 2 and "Traceback" not in err
    assert f"cannot compare: {path} is not a benchmark result: {fragment}" in err, err


def test_compare_reads_an_older_result_without_itl(tmp_path, capsys):
    with LoopbackServer("ok") as server:
        code, report = run_bench(tmp_path, server.url, "-n", "2")
    del report["summary"]["itl_ms"]
    (tmp_path / "old.json").write_text(json.dumps(report))
    capsys.readouterr()
    assert bench.main(["--compare", str(tmp_path / "old.json")]) == 0
    assert "ITL p50 ms" in capsys.readouterr().out


def closed_pipe():
    """A pipe whose reader is gone, as stdout after `| head -0`: every write to it fails with EPIPE."""
    import os
    read, write = os.pipe()
    os.close(read)
    return write


def test_a_closed_stdout_stops_the_printing_not_the_run(tmp_path):
    """`llm-bench ... | head -2`: no BrokenPipeError traceback, and the results are still written (the summary is
    printed before the files are)."""
    import os
    out = tmp_path / "run"
    stdout = closed_pipe()
    with LoopbackServer("ok") as server:
        try:
            done = subprocess.run([sys.executable, "-m", "endpoint_tools.bench", server.url, "-n", "2",
                                   "--no-progress", "--no-plot", "--out", str(out)],
                                  cwd=HERE.parent, stdout=stdout, stderr=subprocess.PIPE, text=True, timeout=60)
            helped = subprocess.run([sys.executable, "-m", "endpoint_tools.bench", "--help"], cwd=HERE.parent,
                                    stdout=stdout, stderr=subprocess.PIPE, text=True, timeout=60)
        finally:
            os.close(stdout)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    assert json.loads(Path(f"{out}.json").read_text())["summary"]["requests"] == 2 and Path(f"{out}.csv").exists()
    # argparse drops the help it cannot write: a quiet exit either way
    assert helped.returncode in (0, 141) and helped.stderr == "", helped.stderr
