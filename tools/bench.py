"""Load benchmark of an LLM endpoint: `python -m tools.bench URL -n 100 -c 10 [--out results]`.

Streams every request to measure time to first token and total latency; reports success rate, errors by kind,
latency avg/P50/P90/P99/max, TTFT P50/P95, output tokens/s and requests/s; writes JSON, CSV and a PNG plot.
`python -m tools.bench --compare a.json b.json` prints two runs side by side.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import Any, Optional

import requests
from requests.adapters import HTTPAdapter

from .endpoint import EndpointError, resolve
from .llm_api import APIS, ApiError, LlmClient, describe_exception, detect_api
from .stats import summarize

CSV_FIELDS = ("index", "ok", "status", "error", "latency_s", "ttft_s", "output_tokens", "chunks")


class Bench:
    """N streamed requests at concurrency C; one pooled Session per worker thread, so connections are reused."""

    def __init__(self, url: str, api: str, model: str, api_key: Optional[str], timeout: float, concurrency: int):
        self.url, self.api, self.model, self.api_key, self.timeout = url, api, model, api_key, timeout
        self.concurrency = concurrency
        self._local = threading.local()

    def _client(self) -> LlmClient:
        client = getattr(self._local, "client", None)
        if client is None:
            session = requests.Session()
            session.mount("http://", HTTPAdapter(pool_connections=1, pool_maxsize=1))
            session.mount("https://", HTTPAdapter(pool_connections=1, pool_maxsize=1))
            client = self._local.client = LlmClient(self.url, self.api, self.api_key, self.timeout, session)
        return client

    def one(self, index: int, prompt: str, max_tokens: int) -> dict[str, Any]:
        start = time.perf_counter()
        try:
            done = self._client().chat_stream(self.model, prompt, max_tokens)
        except ApiError as error:
            return {"index": index, "ok": False, "status": error.status, "error": error.kind,
                    "latency_s": time.perf_counter() - start, "ttft_s": None, "output_tokens": None, "chunks": 0}
        except Exception as error:  # noqa: BLE001 - one bad response must not stop the run
            kind = describe_exception(error, self.url).kind
            return {"index": index, "ok": False, "status": None, "error": kind,
                    "latency_s": time.perf_counter() - start, "ttft_s": None, "output_tokens": None, "chunks": 0}
        return {"index": index, "ok": True, "status": 200, "error": None, "latency_s": done.latency_s,
                "ttft_s": done.ttft_s, "output_tokens": done.output_tokens, "chunks": done.chunks}

    def run(self, requests_total: int, prompt: str, max_tokens: int, progress: bool = True) -> tuple[list, float]:
        bar = None
        if progress:
            from tqdm import tqdm
            bar = tqdm(total=requests_total, unit="req", file=sys.stderr, leave=False)
        results: list[dict[str, Any]] = []
        start = time.perf_counter()
        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            futures = [pool.submit(self.one, i, prompt, max_tokens) for i in range(requests_total)]
            for future in as_completed(futures):
                results.append(future.result())
                if bar is not None:
                    bar.update(1)
        wall = time.perf_counter() - start
        if bar is not None:
            bar.close()
        return sorted(results, key=lambda r: r["index"]), wall


def write_outputs(out: Path, report: dict[str, Any], plot: bool = True) -> list[Path]:
    out.parent.mkdir(parents=True, exist_ok=True)
    written = [out.with_suffix(".json"), out.with_suffix(".csv")]
    written[0].write_text(json.dumps(report, indent=2) + "\n")
    with written[1].open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=CSV_FIELDS)
        writer.writeheader()
        writer.writerows({k: r.get(k) for k in CSV_FIELDS} for r in report["results"])
    if plot:
        written.append(plot_report(report, out.with_suffix(".png")))
    return written


def plot_report(report: dict[str, Any], path: Path) -> Path:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ok = [r for r in report["results"] if r["ok"]]
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    left.hist([r["latency_s"] * 1000 for r in ok] or [0], bins=30, color="tab:blue")
    left.set(title="Total latency", xlabel="ms", ylabel="requests")
    right.hist([r["ttft_s"] * 1000 for r in ok if r["ttft_s"] is not None] or [0], bins=30, color="tab:orange")
    right.set(title="Time to first token", xlabel="ms")
    s = report["summary"]
    fig.suptitle(f"{report['params']['url']}  n={s['requests']} c={report['params']['concurrency']}  "
                 f"success {s['success_rate']:.0%}")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def format_summary(summary: dict[str, Any]) -> str:
    lat, ttft = summary["latency_ms"], summary["ttft_ms"]
    errors = ", ".join(f"{k}: {v}" for k, v in summary["errors"].items()) or "none"
    return "\n".join([
        f"Requests: {summary['requests']}  succeeded: {summary['succeeded']}  "
        f"success rate: {summary['success_rate']:.1%}",
        f"Errors by kind: {errors}",
        f"Latency ms: avg {lat['avg']}  p50 {lat['p50']}  p90 {lat['p90']}  p99 {lat['p99']}  max {lat['max']}",
        f"TTFT ms: p50 {ttft['p50']}  p95 {ttft['p95']}",
        f"Throughput: {summary['requests_per_s']} req/s, {summary['output_tokens_per_s']} output tokens/s "
        f"over {summary['wall_s']} s",
    ])


COMPARE_ROWS = [
    ("success rate", lambda s: f"{s['success_rate']:.1%}"),
    ("latency avg ms", lambda s: s["latency_ms"]["avg"]), ("latency p50 ms", lambda s: s["latency_ms"]["p50"]),
    ("latency p90 ms", lambda s: s["latency_ms"]["p90"]), ("latency p99 ms", lambda s: s["latency_ms"]["p99"]),
    ("latency max ms", lambda s: s["latency_ms"]["max"]), ("TTFT p50 ms", lambda s: s["ttft_ms"]["p50"]),
    ("TTFT p95 ms", lambda s: s["ttft_ms"]["p95"]), ("requests/s", lambda s: s["requests_per_s"]),
    ("output tokens/s", lambda s: s["output_tokens_per_s"]),
]


def compare(paths: list[str]) -> str:
    reports = [json.loads(Path(p).read_text()) for p in paths]
    names = [Path(p).stem for p in paths]
    width = max(16, *(len(n) for n in names))
    lines = [f"{'':<16}" + "".join(f"{n:>{width + 2}}" for n in names)]
    for label, value in COMPARE_ROWS:
        lines.append(f"{label:<16}" + "".join(f"{str(value(r['summary'])):>{width + 2}}" for r in reports))
    return "\n".join(lines)


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.bench", description=__doc__.splitlines()[0])
    parser.add_argument("url", nargs="?")
    parser.add_argument("--stack-output")
    parser.add_argument("--stack")
    parser.add_argument("--api", choices=("auto",) + APIS, default="auto")
    parser.add_argument("--model")
    parser.add_argument("--api-key", default=os.environ.get("LLM_API_KEY"))
    parser.add_argument("-n", "--requests", type=int, default=100)
    parser.add_argument("-c", "--concurrency", type=int, default=10)
    parser.add_argument("--prompt", default="Explain quantum computing in one sentence.")
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--timeout", type=float, default=120.0, help="per-request timeout in seconds")
    parser.add_argument("--out", default="bench-results", help="file stem for .json/.csv/.png")
    parser.add_argument("--no-plot", action="store_true")
    parser.add_argument("--no-progress", action="store_true")
    parser.add_argument("--compare", nargs="+", metavar="RESULT.json")
    args = parser.parse_args(argv)
    if args.compare:
        try:
            print(compare(args.compare))
            return 0
        except (OSError, ValueError, KeyError) as error:
            print(f"cannot compare: {error}", file=sys.stderr)
            return 2
    if args.requests < 1 or args.concurrency < 1:
        print("--requests and --concurrency must be >= 1", file=sys.stderr)
        return 2
    try:
        url = resolve(args.url, args.stack_output, args.stack)
        api = args.api if args.api != "auto" else detect_api(url, args.api_key, min(args.timeout, 30))
        model = args.model or LlmClient(url, api, args.api_key, args.timeout).list_models()[0]
    except (EndpointError, ApiError, IndexError) as error:
        print(f"cannot start the benchmark: {error or 'no model listed'}", file=sys.stderr)
        return 1
    bench = Bench(url, api, model, args.api_key, args.timeout, args.concurrency)
    results, wall = bench.run(args.requests, args.prompt, args.max_tokens, progress=not args.no_progress)
    report = {"params": {"url": url, "api": api, "model": model, "requests": args.requests,
                         "concurrency": args.concurrency, "max_tokens": args.max_tokens, "timeout_s": args.timeout,
                         "prompt": args.prompt},
              "summary": summarize(results, wall), "results": results}
    print(format_summary(report["summary"]))
    for path in write_outputs(Path(args.out), report, plot=not args.no_plot):
        print(f"wrote {path}")
    return 0 if report["summary"]["succeeded"] else 1


if __name__ == "__main__":
    sys.exit(main())
