"""Pure statistics for the benchmark: percentiles and the run summary."""
from collections import Counter
from typing import Any, Optional, Sequence


def percentile(values: Sequence[float], q: float) -> Optional[float]:
    """q in [0, 100], linear interpolation between closest ranks (numpy's default); None for no values."""
    if not values:
        return None
    if not 0 <= q <= 100:
        raise ValueError(f"percentile {q} outside 0..100")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def _ms(value: Optional[float]) -> Optional[float]:
    return None if value is None else round(value * 1000, 2)


def _rounded(value: Optional[float]) -> Optional[float]:
    return None if value is None else round(value, 2)


def summarize(results: list[dict[str, Any]], wall_s: float) -> dict[str, Any]:
    """Success rate and failures by kind; latency, TTFT, inter-token latency (ms) and per-request output tokens/s
    over successful requests; with --rate, the waits for a free worker between arrival and send (ms, every request
    sent); throughput counts successful requests only (failures are reported apart), output
    tokens only when every successful request reported its count (None otherwise, never a partial sum)."""
    ok = [r for r in results if r["ok"]]
    latencies = [r["latency_s"] for r in ok]
    ttfts = [r["ttft_s"] for r in ok if r.get("ttft_s") is not None]
    itls = [r["itl_s"] for r in ok if r.get("itl_s") is not None]
    speeds = [r["output_tokens_per_s"] for r in ok if r.get("output_tokens_per_s") is not None]
    # counted only when every success reported its count: a server without usage would read as 0 tokens/s
    counts = [r.get("output_tokens") for r in ok]
    tokens = sum(c for c in counts if c is not None) if ok and None not in counts else None
    # --rate only: each sent request's wait for a free worker after its arrival (in its latency and TTFT already)
    waits = [r["wait_s"] for r in results if r.get("wait_s") is not None]
    return {
        "requests": len(results),
        "succeeded": len(ok),
        "failed": len(results) - len(ok),
        "success_rate": round(len(ok) / len(results), 4) if results else None,  # of no request: none
        "errors": dict(sorted(Counter(r["error"] for r in results if not r["ok"]).items())),
        "latency_ms": {
            "avg": _ms(sum(latencies) / len(latencies)) if latencies else None,
            "p50": _ms(percentile(latencies, 50)), "p90": _ms(percentile(latencies, 90)),
            "p95": _ms(percentile(latencies, 95)), "p99": _ms(percentile(latencies, 99)),
            "max": _ms(max(latencies)) if latencies else None,
        },
        "ttft_ms": {"p50": _ms(percentile(ttfts, 50)), "p95": _ms(percentile(ttfts, 95)),
                    "p99": _ms(percentile(ttfts, 99))},
        "itl_ms": {"p50": _ms(percentile(itls, 50)), "p95": _ms(percentile(itls, 95))},
        "request_tokens_per_s": {"p50": _rounded(percentile(speeds, 50)), "p95": _rounded(percentile(speeds, 95))},
        "wait_ms": {"p50": _ms(percentile(waits, 50)), "p99": _ms(percentile(waits, 99)),
                    "max": _ms(max(waits)) if waits else None},
        "output_tokens": tokens,
        "output_tokens_per_s": round(tokens / wall_s, 2) if wall_s > 0 and tokens is not None else None,
        "requests_per_s": round(len(ok) / wall_s, 2) if wall_s > 0 and ok else None,
        "failed_per_s": round((len(results) - len(ok)) / wall_s, 2) if wall_s > 0 else None,
        "wall_s": round(wall_s, 3),
    }
