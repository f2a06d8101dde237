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
