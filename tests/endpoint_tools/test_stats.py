"""Statistics (stats) as pure functions: percentiles and the summary."""

import pytest

from endpoint_tools.stats import percentile, summarize


def test_percentile_interpolates_like_numpy_linear():
    values = [1.0, 2.0, 3.0, 4.0]
    assert percentile(values, 0) == 1.0 and percentile(values, 100) == 4.0
    assert percentile(values, 50) == 2.5
    assert percentile(values, 90) == pytest.approx(3.7)
    assert percentile([5.0], 99) == 5.0 and percentile([], 50) is None
    with pytest.raises(ValueError):
        percentile(values, 101)


def test_summary_counts_errors_by_kind_and_orders_percentiles():
    results = [{"ok": True, "latency_s": x / 10, "ttft_s": x / 100, "output_tokens": 4, "error": None}
               for x in range(1, 11)]
    results += [{"ok": False, "latency_s": 1.0, "ttft_s": None, "output_tokens": None, "error": k}
                for k in ("timeout", "timeout", "rate_limited")]
    s = summarize(results, wall_s=2.0)
    assert s["requests"] == 13 and s["succeeded"] == 10 and s["success_rate"] == pytest.approx(10 / 13, abs=1e-4)
    assert s["errors"] == {"rate_limited": 1, "timeout": 2}
    lat = s["latency_ms"]
    assert lat["p50"] <= lat["p90"] <= lat["p99"] <= lat["max"] == 1000.0
    # throughput counts successful requests only; failures are reported apart
    assert s["output_tokens"] == 40 and s["output_tokens_per_s"] == 20.0 and s["requests_per_s"] == 5.0
    assert s["failed"] == 3 and s["failed_per_s"] == 1.5


def test_summary_figures_are_numpys_percentiles_rounded_as_reported():
    """Every figure of the report, exactly: each percentile of its own list (numpy's linear percentiles of the same
    values, rounded as the report shows them: ms and tokens/s to 2 places, the success rate to 4, the wall to 3)."""
    rows = [(0.05, 0.005, 0.0005, 5.0), (0.1234567, 0.0111111, 0.0012345, 10.123456), (0.3, 0.03, 0.003, 30.0)]
    results = [{"ok": True, "latency_s": lat, "ttft_s": ttft, "itl_s": itl, "output_tokens_per_s": speed,
                "output_tokens": 7, "error": None, "wait_s": wait}
               for (lat, ttft, itl, speed), wait in zip(rows, (0.004, 0.0, 0.25))]
    # --rate's waits for a worker are of every request sent, failed ones too: 0, 4, 10, 20, 100, 250, 1500 ms
    results += [{"ok": False, "latency_s": 0.5, "error": kind, "wait_s": wait}
                for kind, wait in zip(("timeout", "timeout", "rate_limited", "server_error"), (0.02, 1.5, 0.1, 0.01))]
    assert summarize(results, wall_s=3.14159) == {
        "requests": 7, "succeeded": 3, "failed": 4, "success_rate": 0.4286,
        "errors": {"rate_limited": 1, "server_error": 1, "timeout": 2},
        "latency_ms": {"avg": 157.82, "p50": 123.46, "p90": 264.69, "p95": 282.35, "p99": 296.47, "max": 300.0},
        "ttft_ms": {"p50": 11.11, "p95": 28.11, "p99": 29.62}, "itl_ms": {"p50": 1.23, "p95": 2.82},
        "request_tokens_per_s": {"p50": 10.12, "p95": 28.01},
        "wait_ms": {"p50": 20.0, "p99": 1425.0, "max": 1500.0},
        "output_tokens": 21, "output_tokens_per_s": 6.68, "requests_per_s": 0.95, "failed_per_s": 1.27,
        "wall_s": 3.142}


def test_summary_of_nothing_measured_has_no_figure_and_no_division_by_zero():
    """No request, no success, no count from the server or no wall time: the figures are None, never a 0 that reads
    as measured, nor a ZeroDivisionError."""
    empty = summarize([], wall_s=0.0)
    assert (empty["requests"], empty["success_rate"], empty["latency_ms"]["avg"], empty["latency_ms"]["max"],
            empty["output_tokens"], empty["requests_per_s"], empty["failed_per_s"]) == (0, None, None, None, None,
                                                                                       None, None)
    one = [{"ok": True, "latency_s": 0.2, "output_tokens": 4, "error": None}]
    assert summarize(one, wall_s=0.0)["output_tokens_per_s"] is None  # a wall of 0: no rate
    assert summarize(one, wall_s=0.0)["requests_per_s"] is None and summarize(one, 0.0)["failed_per_s"] is None
    failed = summarize([{"ok": False, "latency_s": 1.0, "error": "timeout"}], wall_s=0.5)
    assert (failed["requests_per_s"], failed["failed_per_s"], failed["output_tokens"]) == (None, 2.0, None)
    uncounted = summarize(one + [{"ok": True, "latency_s": 0.3, "output_tokens": None, "error": None}], wall_s=1.0)
    assert (uncounted["output_tokens"], uncounted["output_tokens_per_s"]) == (None, None)  # never a partial sum
    for q in (-1, -0.5, 100.5):
        with pytest.raises(ValueError):
            percentile([1.0, 2.0], q)
