"""Load benchmark of an LLM endpoint.

`llm-bench URL -n 100 -c 10 [--out results/run]` (or `python -m endpoint_tools.bench ...`).

Streams every request to measure time to first token (TTFT), inter-token latency (ITL), per-request output
tokens/s and total latency, under a total and a TTFT deadline per request. Three load shapes: N requests at
concurrency C (closed loop), `--duration T` seconds at concurrency C, or `--rate R` requests/s with Poisson arrivals
(open loop: queueing shows up in latency instead of slowing the arrivals; an arrival that finds the -c workers all
busy waits for one, and its latency and TTFT count from its arrival). `--warmup N` requests run first and are
left out of the statistics. Throughput counts successful requests; failures are reported apart, by kind.
Writes JSON, CSV and a PNG plot. Ctrl-C stops at once: requests in flight are counted as `cancelled`, what was
measured is written, marked partial, and the process exits without waiting for the server.
`llm-bench --compare a.json b.json` prints runs side by side.

Exit codes: 0 success rate >= --min-success, 1 below it (or the endpoint unreachable), 2 bad usage,
3 a result file could not be written where --out says (the measurements are then kept in the temp folder, or
printed, as the message says; before 130), 130 interrupted (partial results written). A closed stdout
(`llm-bench ... | head -2`) stops the printing, not the run: the results are still written.
"""
import argparse
import csv
import importlib.util
import json
import os
import queue
import random
import sys
import tempfile
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, wait
from pathlib import Path
from typing import Any, Callable, Optional

import requests
from requests.adapters import HTTPAdapter

from .endpoint import EndpointError, file_problem, read_text, shown_url
from .api_errors import KINDS, ApiError, Deadlines, parse_json, printable, redact
from .failures import describe_exception
from .llm_api import MAX_TOKENS, LlmClient
from .transport import cancel_all
from .smoke import (BUFFERED_MIN_CHUNKS, BUFFERED_SPREAD_S, arrived_at_once, connect, endpoint_arguments,
                    endpoint_given, failure_text, key_hint, named, new_parser, run_cli, silence_stdout, url_user,
                    utf8)
from .stats import summarize

CSV_FIELDS = ("index", "ok", "status", "error", "message", "scheduled_s", "start_s", "wait_s", "latency_s", "ttft_s",
              "itl_s", "output_tokens_per_s", "output_tokens", "chunks", "held_back")
OUTPUT_SUFFIXES = (".json", ".csv", ".png")
# After Ctrl-C, how long requests in flight get to return on their own (a stream being read stops at once: its socket
# is shut down); the ones still waiting for a server that does not answer are then recorded as cancelled.
CANCEL_GRACE_S = 0.5
# A result file that cannot be written where --out says (the measurements are kept elsewhere, as said on stderr).
NOT_WRITTEN = 3
# Bounds of the numeric flags: beyond them a value is a typo, not a benchmark (`--rate 1e-300` overflowed
# time.sleep, `--rate 1e-10` waited for ever, `-c 100000` would ask for 100000 threads).
MAX_REQUESTS = 1_000_000
# The most of a file --compare reads: more than any result llm-bench writes (MAX_REQUESTS rows of about 330 bytes, a
# failure's message a few hundred more); a pipe that never ends is cut there.
MAX_RESULT_BYTES = 2**30
MAX_CONCURRENCY = 1000
MAX_DURATION_S = 7 * 24 * 3600.0
RATE_RANGE = (0.01, 100_000.0)  # requests/s: at 0.01 the mean gap between arrivals is 100 s
# With --rate, a request that waited longer than this for a free worker (all -c busy) is said on stderr: the server
# then saw fewer arrivals than the rate, and the wait is in the latency (measured from the arrival).
WAIT_SAID_S = 0.1


def number_in(unit: str, low: float, high: float, above: bool = False) -> Callable[[str], float]:
    """An argparse type: a number of `unit` from `low` (or above it, with `above`) to `high`."""
    allowed = f"{'above' if above else 'from'} {low:g} {'and at most' if above else 'to'} {high:g}"

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number of {unit}") from None
        if not ((low < value if above else low <= value) and value <= high):  # nan fails both
            raise argparse.ArgumentTypeError(f"{text!r} must be a number of {unit} {allowed}")
        return value
    return parse


def count_in(low: int, high: int) -> Callable[[str], int]:
    """An argparse type: a whole number from `low` to `high`."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{text!r} must be a whole number from {low} to {high}")
        return value
    return parse


def say(text: str) -> None:
    """Print to stdout; a closed stdout stops the printing, never the run (the results are still written)."""
    try:
        print(text, flush=True)
    except BrokenPipeError:
        silence_stdout()


def output_stem(out: str) -> str:
    """`--out` without a .json/.csv/.png suffix it ends in."""
    stem = out
    for suffix in OUTPUT_SUFFIXES:
        if stem.endswith(suffix):
            stem = stem[: -len(suffix)]
    return stem


def output_paths(out: str) -> dict[str, Path]:
    """`--out results/qwen2.5-c8` writes results/qwen2.5-c8.json, .csv and .png (a dot in the name is kept);
    a name that already ends in .json/.csv/.png loses that suffix first."""
    stem = output_stem(out)
    return {suffix[1:]: Path(stem + suffix) for suffix in OUTPUT_SUFFIXES}


class DaemonPool:
    """The benchmark's worker threads, as daemon threads: after Ctrl-C the results are written and the process exits
    at once, while a request waiting for a server that never answers would keep a ThreadPoolExecutor's workers (which
    the interpreter joins at exit) alive until its deadline. Threads start as work comes, up to `workers`."""

    def __init__(self, workers: int):
        self.workers = workers
        self._queue: "queue.SimpleQueue[Optional[tuple[Future, Callable[..., Any], tuple]]]" = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future:
        future: Future = Future()
        self._queue.put((future, fn, args))
        if len(self._threads) < self.workers:
            thread = threading.Thread(target=self._work, name=f"llm-bench-{len(self._threads)}", daemon=True)
            thread.start()
            self._threads.append(thread)
        return future

    def _work(self) -> None:
        while (item := self._queue.get()) is not None:
            future, fn, args = item
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(fn(*args))
            except BaseException as error:  # noqa: BLE001 - handed to whoever waits on the future
                future.set_exception(error)

    def shutdown(self) -> None:
        """Idle workers end; busy ones end after their request (or with the process)."""
        for _ in self._threads:
            self._queue.put(None)


class Bench:
    """Streamed requests against one endpoint; one pooled Session per worker thread, so connections are reused."""

    def __init__(self, url: str, api: str, model: str, api_key: Optional[str], deadlines: Deadlines,
                 concurrency: int):
        self.url, self.api, self.model, self.api_key, self.deadlines = url, api, model, api_key, deadlines
        self.concurrency = concurrency
        self.server: Optional[str] = None
        self.key_dropped_at: Optional[str] = None  # where a redirect left the API key behind, on an answer that came
        self.refused = False  # a 401/403 of the endpoint itself (not after a redirect that left the key behind)
        self.stopping = threading.Event()
        self._local = threading.local()
        self._started: dict[int, float] = {}  # request index -> when its worker picked it up
        self._t0 = time.perf_counter()

    def _client(self) -> LlmClient:
        client = getattr(self._local, "client", None)
        if client is None:
            session = requests.Session()
            session.mount("http://", HTTPAdapter(pool_connections=1, pool_maxsize=1))
            session.mount("https://", HTTPAdapter(pool_connections=1, pool_maxsize=1))
            client = self._local.client = LlmClient(self.url, self.api, self.api_key, self.deadlines, session)
        return client

    def _wait(self, scheduled_s: Optional[float], start: Optional[float]) -> Optional[float]:
        """With --rate, how long a request waited between its arrival and its send (all workers busy): counted in its
        latency and TTFT, as an open loop counts queueing (a client that sent late would hide the server's
        slowness: coordinated omission); None in a closed loop, which has no arrivals."""
        if scheduled_s is None or start is None:
            return None
        return max(0.0, start - self._t0 - scheduled_s)

    def _row(self, index: int, scheduled_s: Optional[float], start: Optional[float]) -> dict[str, Any]:
        wait = self._wait(scheduled_s, start)
        return {"index": index, "ok": False, "status": None, "error": None, "message": None,
                "scheduled_s": scheduled_s, "start_s": None if start is None else round(start - self._t0, 6),
                "wait_s": None if wait is None else round(wait, 6),
                "latency_s": None, "ttft_s": None, "itl_s": None, "output_tokens_per_s": None,
                "output_tokens": None, "chunks": 0, "held_back": None}

    def cancelled(self, index: int, scheduled_s: Optional[float]) -> dict[str, Any]:
        """The row of a request still in flight (or queued) when Ctrl-C came: failed, kind `cancelled`."""
        start = self._started.get(index)
        return {**self._row(index, scheduled_s, start), "error": "cancelled",
                "message": f"{KINDS['cancelled']} with the request in flight" if start is not None
                else f"{KINDS['cancelled']} before the request was sent",
                "latency_s": None if start is None else time.perf_counter() - start
                + (self._wait(scheduled_s, start) or 0.0)}

    def one(self, index: int, prompt: str, max_tokens: int, scheduled_s: Optional[float] = None) -> dict[str, Any]:
        if self.stopping.is_set():  # taken from the queue after Ctrl-C: never sent, no wait (wait_ms is of those sent)
            return self.cancelled(index, scheduled_s)
        start = self._started[index] = time.perf_counter()
        row = self._row(index, scheduled_s, start)
        wait = row["wait_s"] or 0.0  # from the arrival, with --rate: latency and TTFT count the wait for a worker
        client = self._client()
        try:
            done = client.chat_stream(self.model, prompt, max_tokens)
        except Exception as error:  # noqa: BLE001 - one bad response must not stop the run
            failure = describe_exception(error, self.url) if not isinstance(error, ApiError) else error
            if self.stopping.is_set():
                failure = ApiError("cancelled", KINDS["cancelled"])
            if failure.kind == "unauthorized" and not failure.key_dropped and not failure.other_scheme:
                self.refused = True
            return {**row, "status": failure.status, "error": failure.kind, "message": str(failure)[:300],
                    "latency_s": time.perf_counter() - start + wait}
        if self.server is None:
            self.server = done.server
        if self.key_dropped_at is None and client.key_dropped_at:
            self.key_dropped_at = client.key_dropped_at
        return {**row, "ok": True, "status": 200, "latency_s": done.latency_s + wait,
                "ttft_s": None if done.ttft_s is None else done.ttft_s + wait,
                "itl_s": done.inter_token_s, "output_tokens_per_s": done.output_tokens_per_s,
                "output_tokens": done.output_tokens, "chunks": done.chunks,
                # its chunks came together (smoke's verdict of a buffering proxy): its ITL is no decode speed
                "held_back": arrived_at_once(done.chunk_times_s)}

    # ---- load shapes ------------------------------------------------------------------------------------------
    def run(self, requests_total: int, prompt: str, max_tokens: int, progress: bool = True,
            duration_s: Optional[float] = None, rate: Optional[float] = None, seed: int = 0,
            first_index: int = 0) -> tuple[list[dict[str, Any]], float, bool]:
        """Run one load shape; returns (results, wall seconds, interrupted). Ctrl-C stops new requests, cancels
        those in flight (each a `cancelled` row) and returns within CANCEL_GRACE_S, without waiting for the server."""
        bar = None
        if progress:
            from tqdm import tqdm  # type: ignore[import-untyped]  # tqdm ships no type information (no py.typed)
            bar = tqdm(total=None if duration_s else requests_total, unit="req", file=sys.stderr, leave=False)
        results: list[dict[str, Any]] = []
        self._t0 = start = time.perf_counter()
        pool = DaemonPool(self.concurrency)
        pending: set[Future] = set()
        submitted: dict[Future, tuple[int, Optional[float]]] = {}  # what each pending future is: index, arrival
        interrupted = False

        def collect(done: set[Future]) -> None:
            for future in done:
                results.append(future.result())
                submitted.pop(future, None)
                if bar is not None:
                    bar.update(1)

        try:
            for index, scheduled in self._schedule(requests_total, duration_s, rate, seed):
                if rate:  # open loop: wait for the arrival time, never for a free worker
                    delay = scheduled - (time.perf_counter() - start)
                    if delay > 0:
                        done, pending = wait(pending, timeout=delay, return_when=FIRST_COMPLETED) \
                            if pending else (set(), pending)
                        collect(done)
                        remaining = scheduled - (time.perf_counter() - start)
                        if remaining > 0:
                            time.sleep(remaining)
                else:  # closed loop: at most `concurrency` requests in flight
                    while len(pending) >= self.concurrency:
                        done, pending = wait(pending, return_when=FIRST_COMPLETED)
                        collect(done)
                    if duration_s and time.perf_counter() - start >= duration_s:
                        break
                arrival = round(scheduled, 6) if rate else None
                future = pool.submit(self.one, first_index + index, prompt, max_tokens, arrival)
                submitted[future] = (first_index + index, arrival)
                pending.add(future)
            while pending:
                done, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
                collect(done)
        except KeyboardInterrupt:
            interrupted = True
            self.stopping.set()  # queued requests return `cancelled` without sending
            cancel_all()  # streams being read stop at once
            done, pending = wait(pending, timeout=CANCEL_GRACE_S)
            collect(done)
            for future in pending:  # still waiting for the server: recorded as cancelled, left to the daemon threads
                future.cancel()
                results.append(self.cancelled(*submitted[future]))
        finally:
            pool.shutdown()
            if bar is not None:
                bar.close()
        return sorted(results, key=lambda r: r["index"]), time.perf_counter() - start, interrupted

    @staticmethod
    def _schedule(requests_total: int, duration_s: Optional[float], rate: Optional[float], seed: int):
        """(index, arrival time) pairs: Poisson arrivals for --rate, else as fast as the workers allow."""
        rng = random.Random(seed)
        at, index = 0.0, 0
        while True:
            if duration_s is None and index >= requests_total:
                return
            if rate:
                at += rng.expovariate(rate)
                if duration_s is not None and at >= duration_s:
                    return
            yield index, at
            index += 1


def output_problem(out: str, plot: bool = True) -> Optional[str]:
    """Why the results could not be written to `--out` (checked before the run, so no measurement is lost; a full
    disk shows only when writing, see write_outputs)."""
    try:
        return _output_problem(out, plot)
    except OSError as error:  # a name the system refuses (over 255 bytes), a folder it may not look in
        return f"--out {out!r}: {_reason(error)}"


def _output_problem(out: str, plot: bool) -> Optional[str]:
    paths = output_paths(out)
    folder = out.rstrip("/\\")
    example = f"{folder}/run1" if folder.strip() else "results/run1"  # relative: never a file at the root
    if not out.strip():
        return f"--out {out!r} is empty: give a file name for the results (e.g. {example})"
    if out.endswith(("/", "\\")) or Path(out).is_dir():
        return f"--out {out!r} names a folder, not a file name for the results (e.g. {example})"
    stem = output_stem(out)
    name = stem.replace("\\", "/").rpartition("/")[2]
    if name in ("", ".", ".."):  # `--out .json` would write the hidden files .json and .csv
        folder = stem[: len(stem) - len(name)].rstrip("/\\")
        example = f"{folder}/run1" if folder.strip() else "results/run1"
        return f"--out {out!r} has no file name before its suffix: give one (e.g. {example})"
    for kind, path in paths.items():
        if kind == "png" and not plot:
            continue
        if path.is_dir():
            return f"--out {out!r}: {path} is a folder, in the way of the {kind.upper()} results"
        if path.exists() and not os.access(path, os.W_OK):
            return f"--out {out!r}: {path} exists and is not writable"
    existing = paths["json"].parent.absolute()
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent  # the folders below it are created when the results are written
    if not existing.is_dir():
        return f"--out {out!r}: {existing} is a file, not a folder"
    if not os.access(existing, os.W_OK | os.X_OK):
        return f"--out {out!r}: {existing} is not writable"
    return None


def write_json(path: Path, report: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


def write_csv(path: Path, report: dict[str, Any]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=CSV_FIELDS)
        writer.writeheader()
        writer.writerows({k: r.get(k) for k in CSV_FIELDS} for r in report["results"])


def _reason(error: OSError) -> str:
    return error.strerror or str(error)


def keep_elsewhere(report: dict[str, Any], path: Path, error: OSError) -> None:
    """The JSON could not be written where --out says (a full disk, a folder in the way since the check): the
    measurements go to a file in the temp folder, or as a last resort to stdout; one line says where."""
    text = json.dumps(report, indent=2) + "\n"
    fallback = None
    try:
        handle, fallback = tempfile.mkstemp(prefix="llm-bench-", suffix=".json")
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
    except OSError as second:
        if fallback:
            Path(fallback).unlink(missing_ok=True)
        print(f"cannot write {path} ({_reason(error)}), nor a file in {tempfile.gettempdir()} ({_reason(second)}): "
              f"the results follow on stdout as JSON", file=sys.stderr)
        say(text)
        return
    print(f"cannot write {path} ({_reason(error)}): the results are kept in {fallback}", file=sys.stderr)


def write_outputs(out: str, report: dict[str, Any], plot: bool = True) -> bool:
    """Each file said as soon as it is written: the JSON and CSV first, the plot (matplotlib is slow to load) last.
    False when the JSON or the CSV could not be written where asked (the measurements are then kept elsewhere);
    a plot that fails is said and skipped (it is drawn from the JSON's figures)."""
    paths = output_paths(out)
    try:
        write_json(paths["json"], report)
    except OSError as error:
        keep_elsewhere(report, paths["json"], error)
        return False
    say(f"wrote {paths['json']}")
    written = True
    try:
        write_csv(paths["csv"], report)
        say(f"wrote {paths['csv']}")
    except OSError as error:
        print(f"cannot write {paths['csv']} ({_reason(error)}): the measurements are all in {paths['json']}",
              file=sys.stderr)
        written = False
    if plot:
        try:
            say(f"wrote {plot_report(report, paths['png'])}")
        except Exception as error:  # noqa: BLE001 - whatever matplotlib raises, the results are already written
            detail = (str(error).strip().splitlines() or [""])[-1][:160]  # mathtext's message ends with the cause
            print(f"no plot: cannot draw {paths['png']} ({type(error).__name__}{': ' * bool(detail)}{detail})",
                  file=sys.stderr)
    return written


def plot_report(report: dict[str, Any], path: Path) -> Path:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ok = [r for r in report["results"] if r["ok"]]
    fig, axes = plt.subplots(1, 3, figsize=(15, 4))
    panels = (("Total latency", "latency_s", "tab:blue"), ("Time to first token", "ttft_s", "tab:orange"),
              ("Inter-token latency", "itl_s", "tab:green"))
    for axis, (title, key, colour) in zip(axes, panels):
        values = [r[key] * 1000 for r in ok if r.get(key) is not None]
        if values:
            axis.hist(values, bins=30, color=colour)
        else:  # nothing succeeded: say so instead of drawing a request at 0 ms
            axis.text(0.5, 0.5, "no successful requests", ha="center", va="center", transform=axis.transAxes)
        axis.set(title=title, xlabel="ms", ylabel="requests")
    s, p = report["summary"], report["params"]
    load = f"rate {p['rate']}/s" if p.get("rate") else f"c={p['concurrency']}"
    # parse_math off: the label, the model and the server's header are text, not matplotlib mathtext (`$\\x$`)
    fig.suptitle(f"{report['label']} - {report['model']} on {report['server']}  n={s['requests']} {load}  "
                 f"success {_percent(s['success_rate'], 0)}" + ("  (partial)" if report.get("partial") else ""),
                 parse_math=False)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def _num(value: Any, unit: str = "") -> str:
    return "n/a" if value is None else f"{value}{unit}"


def _percent(rate: Optional[float], digits: int = 1) -> str:
    """A success rate as a percentage; n/a for a run that sent no request."""
    return "n/a" if rate is None else f"{rate:.{digits}%}"


def format_summary(summary: dict[str, Any]) -> str:
    """What docs/operations.md lists: every figure of the summary's latency, TTFT, ITL and tokens/s tables."""
    errors = ", ".join(f"{k}: {v}" for k, v in summary["errors"].items()) or "none"

    def figures(title: str, key: str) -> str:
        return f"{title}: " + "  ".join(f"{name} {_num(value)}" for name, value in summary[key].items())
    return "\n".join([
        f"Requests: {summary['requests']}  succeeded: {summary['succeeded']}  failed: {summary['failed']}  "
        f"success rate: {_percent(summary['success_rate'])}",
        f"Errors by kind: {errors}",
        figures("Latency ms", "latency_ms"),
        figures("TTFT ms", "ttft_ms"),
        figures("ITL ms", "itl_ms"),
        figures("Per-request output tokens/s", "request_tokens_per_s"),
        *([figures("Wait for a worker ms (--rate: arrival to send, in latency and TTFT)", "wait_ms")]
          if (summary.get("wait_ms") or {}).get("max") is not None else []),
        f"Throughput (successful requests): {_num(summary['requests_per_s'])} req/s, "
        f"{_num(summary['output_tokens_per_s'])} output tokens/s over {summary['wall_s']} s",
    ])


COMPARE_ROWS: list[tuple[str, Callable[[dict], Any]]] = [
    ("model", lambda r: r.get("model")),
    ("requests (n)", lambda r: r["summary"]["requests"]),
    ("load", lambda r: f"rate {r['params']['rate']}/s" if r["params"].get("rate")
     else f"c={r['params'].get('concurrency')}"),
    ("success rate", lambda r: _percent(r["summary"]["success_rate"])),
    ("errors", lambda r: ", ".join(f"{k}:{v}" for k, v in r["summary"]["errors"].items()) or "none"),
    ("latency p50 ms", lambda r: r["summary"]["latency_ms"]["p50"]),
    ("latency p99 ms", lambda r: r["summary"]["latency_ms"]["p99"]),
    ("TTFT p50 ms", lambda r: r["summary"]["ttft_ms"]["p50"]),
    ("TTFT p95 ms", lambda r: r["summary"]["ttft_ms"]["p95"]),
    ("ITL p50 ms", lambda r: (r["summary"].get("itl_ms") or {}).get("p50")),
    ("ITL p95 ms", lambda r: (r["summary"].get("itl_ms") or {}).get("p95")),
    # --rate's wait for a worker, in the latency and TTFT above since it was recorded; n/a for a closed loop and for
    # a result of an older release, whose --rate latency counted from the send
    ("wait p99 ms", lambda r: (r["summary"].get("wait_ms") or {}).get("p99")),
    ("requests/s", lambda r: r["summary"]["requests_per_s"]),
    ("output tokens/s", lambda r: r["summary"]["output_tokens_per_s"]),
    ("partial", lambda r: "yes" if r.get("partial") else "no"),
]


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


OBJECT = (lambda v: isinstance(v, dict), "an object")
FIGURE = (lambda v: v is None or _is_number(v), "a number or null")
# What --compare reads of a result file, parents first: (key, (check, what it must be), required); older results
# lack itl_ms and wait_ms, and a figure of a table that is missing is n/a.
RESULT_SHAPE: list[tuple[str, tuple[Callable[[Any], bool], str], bool]] = [
    ("summary", OBJECT, True),
    ("params", OBJECT, True),
    ("params.rate", FIGURE, False),
    ("summary.requests", (lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0,
                          "a whole number >= 0"), True),
    ("summary.success_rate", (lambda v: v is None or (_is_number(v) and 0 <= v <= 1),
                              "a number from 0 to 1, or null"), True),
    ("summary.errors", (lambda v: isinstance(v, dict) and all(_is_number(n) for n in v.values()),
                        "an object of failure kinds and counts"), True),
    ("summary.latency_ms", OBJECT, True),
    ("summary.ttft_ms", OBJECT, True),
    ("summary.itl_ms", OBJECT, False),
    ("summary.wait_ms", OBJECT, False),
    ("summary.wait_ms.p99", FIGURE, False),
    *((f"summary.{table}.{figure}", FIGURE, True) for table, figures in (
        ("latency_ms", ("p50", "p99")), ("ttft_ms", ("p50", "p95")), ("itl_ms", ("p50", "p95")))
      for figure in figures),
    ("summary.requests_per_s", FIGURE, True),
    ("summary.output_tokens_per_s", FIGURE, True),
]


def _excerpt(value: Any, width: int = 60) -> str:
    text = json.dumps(value)
    return text if len(text) <= width else text[: width - 3] + "..."


def result_problem(report: Any) -> Optional[str]:
    """What --compare cannot read in a saved result (a file edited by hand, another tool's JSON): the key, what it
    holds and what it must be; None when the result is fine."""
    if not isinstance(report, dict):
        return f"the file holds {_excerpt(report)}, not a result object"
    for path, (valid, expected), required in RESULT_SHAPE:
        *parents, key = path.split(".")
        parent: Any = report
        for name in parents:
            parent = parent.get(name) if isinstance(parent, dict) else None
        if not isinstance(parent, dict):  # an optional table missing: its figures are n/a
            continue
        if key not in parent:
            if required:
                return f"no {path} (expected {expected})"
        elif not valid(parent[key]):
            return f"{path} is {_excerpt(parent[key])}: expected {expected}"
    return None


def _result(path: str) -> Any:
    """A result file's JSON; ValueError naming the file and what is wrong. A device (/dev/zero) was read until memory
    ran out, and a folder or a file the system cannot read was named by its error alone."""
    problem = file_problem(path)
    if problem:
        raise ValueError(f"{path}: {problem}")
    try:
        text = read_text(path, MAX_RESULT_BYTES)
    except OSError as error:
        raise ValueError(f"cannot read {path}: {error.strerror or error}") from None
    except UnicodeDecodeError as error:
        raise ValueError(f"{path} is not a benchmark result (not JSON: {error})") from None
    except ValueError as error:
        raise ValueError(f"{path} is not a benchmark result: {error}, more than any llm-bench writes") from None
    try:
        return parse_json(text)
    except ValueError as error:  # json's own message names neither the file nor what it expected
        raise ValueError(f"{path} is not a benchmark result (not JSON: {error})") from None


def compare(paths: list[str]) -> str:
    """Runs side by side, each column named by the label stored in its result (file name for older results)."""
    reports = []
    for p in paths:
        report = _result(p)
        problem = result_problem(report)
        if problem:
            raise ValueError(f"{p} is not a benchmark result: {problem}")
        reports.append(report)
    names: list[str] = []
    for path, report in zip(paths, reports):
        name = printable(str(report.get("label") or Path(path).stem))  # a label may be a server's model name
        names.append(name if name not in names else f"{name} ({len(names) + 1})")
    cells = [[printable(str(_num(value(r)))) for r in reports] for _, value in COMPARE_ROWS]
    width = max(14, *(len(n) for n in names), *(len(c) for row in cells for c in row))
    lines = [f"{'':<16}" + "".join(f"{n:>{width + 2}}" for n in names)]
    for (label, _), row in zip(COMPARE_ROWS, cells):
        lines.append(f"{label:<16}" + "".join(f"{c:>{width + 2}}" for c in row))
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    parser = new_parser("llm-bench", "endpoint_tools.bench", __doc__, "Failure kinds: " + ", ".join(KINDS))
    endpoint_arguments(parser)
    how_long = parser.add_mutually_exclusive_group()  # a fixed number of requests, or a duration: not both
    how_long.add_argument("-n", "--requests", type=count_in(1, MAX_REQUESTS), default=100, help="requests to send")
    parser.add_argument("-c", "--concurrency", type=count_in(1, MAX_CONCURRENCY), default=10,
                        help="requests in flight at once (with --rate: the most the client keeps in flight; an "
                             "arrival waits for a free one, counted in its latency)")
    how_long.add_argument("--duration", type=number_in("seconds", 0, MAX_DURATION_S, above=True), default=None,
                          metavar="SECONDS", help="run for this long instead of a fixed number of requests")
    parser.add_argument("--rate", type=number_in("requests per second", *RATE_RANGE), default=None,
                        metavar="PER_SECOND",
                        help="open loop: Poisson arrivals at this mean rate instead of a fixed concurrency")
    parser.add_argument("--seed", type=int, default=0, help="seed of the Poisson arrivals (--rate)")
    parser.add_argument("--warmup", type=count_in(0, MAX_REQUESTS), default=0, metavar="N",
                        help="requests sent first and left out of the statistics (a cold server's first "
                             "request is an outlier)")
    parser.add_argument("--min-success", type=float, default=100.0, metavar="PERCENT",
                        help="exit 1 when fewer requests than this succeed")
    parser.add_argument("--prompt", default="Explain quantum computing in one sentence.", type=utf8("the prompt"),
                        help="the user message")
    parser.add_argument("--max-tokens", type=count_in(1, MAX_TOKENS), default=64,
                        help="tokens asked for in each answer")
    parser.add_argument("--label", type=utf8("a run name", named("a run name")),
                        help="name of this run in --compare (default: model and concurrency/rate)")
    parser.add_argument("--out", default="bench-results",
                        help="file stem: writes STEM.json, STEM.csv and STEM.png")
    parser.add_argument("--no-plot", action="store_true", help="skip the PNG")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--compare", nargs="+", metavar="RESULT.json", help="print saved runs side by side")
    return parser


# The oldest Python on which the `[bench]` extra installs each of its modules (pyproject.toml's markers): matplotlib
# 3.11 needs 3.11, and the tools run on 3.10.
EXTRA_PYTHON = {"matplotlib": (3, 11)}


def extra_installed(module: str, feature: str) -> bool:
    """Whether the `[bench]` extra's `module` is there; without it the run goes on without `feature`, said once."""
    if importlib.util.find_spec(module) is not None:
        return True
    needs = EXTRA_PYTHON.get(module)
    if needs and sys.version_info < needs:
        print(f"no {feature}: {module}, the [bench] extra's, needs Python {needs[0]}.{needs[1]} or later "
              f"(this is {sys.version_info[0]}.{sys.version_info[1]})", file=sys.stderr)
    else:
        print(f"{module} is not installed (the [bench] extra; from the repository's root: "
              f"pip install \"./endpoint-tools[bench]\"): no {feature}", file=sys.stderr)
    return False


def main(argv: Optional[list[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)  # bad usage exits 2 with argparse's message
    if args.compare:
        try:
            say(compare(args.compare))
            return 0
        except (OSError, ValueError, KeyError, TypeError) as error:
            parser.error(f"cannot compare: {error}")
    if not 0 <= args.min_success <= 100:
        parser.error(f"--min-success {args.min_success} must be a percentage from 0 to 100")
    endpoint_given(parser, args)
    problem = output_problem(args.out, plot=not args.no_plot)
    if problem:
        parser.error(problem)
    progress = not args.no_progress and extra_installed("tqdm", "progress bar")
    plot = not args.no_plot and extra_installed("matplotlib", "plot")
    deadlines = Deadlines(args.timeout, args.ttft_timeout)
    try:
        url, api = connect(args)
        model = args.model or LlmClient(url, api, args.api_key, deadlines).list_models()[0]
    except (EndpointError, ApiError) as error:
        reason = failure_text(error, bool(args.api_key), url_user(args.url)) if isinstance(error, ApiError) \
            else str(error)
        print(f"cannot start the benchmark: {redact(reason)}", file=sys.stderr)
        return 1
    except IndexError:
        print("cannot start the benchmark: the endpoint lists no model; pass --model", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted before the benchmark started", file=sys.stderr)
        return 130
    bench = Bench(url, api, model, args.api_key, deadlines, args.concurrency)
    interrupted = False
    if args.warmup:
        _, _, interrupted = bench.run(args.warmup, args.prompt, args.max_tokens, progress=False,
                                      first_index=-args.warmup)
    results: list[dict[str, Any]] = []
    wall = 0.0
    if not interrupted:
        results, wall, interrupted = bench.run(args.requests, args.prompt, args.max_tokens,
                                               progress=progress, duration_s=args.duration,
                                               rate=args.rate, seed=args.seed)
    for row in results:  # failure messages name the URL, password and all
        row["message"] = row["message"] and redact(row["message"])
    load = f"rate{args.rate:g}" if args.rate else f"c{args.concurrency}"
    summary = summarize(results, wall)
    report = {"label": args.label or f"{model} {load}", "model": model, "server": bench.server or "unknown",
              "partial": interrupted,
              "params": {"url": shown_url(url), "api": api, "requests": args.requests, "concurrency": args.concurrency,
                         "duration_s": args.duration, "rate": args.rate, "seed": args.seed, "warmup": args.warmup,
                         "max_tokens": args.max_tokens, "timeout_s": args.timeout,
                         "ttft_timeout_s": args.ttft_timeout, "min_success": args.min_success,
                         "prompt": args.prompt},
              "summary": summary, "results": results}
    say(("PARTIAL (interrupted)\n" if interrupted else "") + format_summary(summary))
    # the key, or a URL's user:password (requests' Basic auth), which a redirect leaves behind alike
    sent = "the API key was" if args.api_key else "the URL's user and password (HTTP Basic auth) were"
    dropped = (f"llm-bench: {sent} not sent to {bench.key_dropped_at}: a redirect to another host, port or "
               f"scheme left {'it' if args.api_key else 'them'} behind (requests sends no Authorization header "
               f"there) and the server there answered without one; what was measured is that server, "
               f"{'keyless' if args.api_key else 'without them'}: give the URL it redirects to"
               if (args.api_key or url_user(args.url)) and bench.key_dropped_at else None)
    for note in (waited_for_workers(results, args.rate, args.concurrency), held_back(results), dropped):
        if note:
            print(note, file=sys.stderr)
    if not write_outputs(args.out, report, plot=plot):
        return NOT_WRITTEN
    if interrupted:
        return 130
    if not results:
        print("no request was sent: the duration ended before the first one (with --rate, before the first "
              "arrival)", file=sys.stderr)
        return 1
    # counted, not the summary's rate: rounded to 4 digits, 1 failure in 20,000 read as 100 % and exited 0
    succeeded = sum(1 for row in results if row["ok"])
    if succeeded * 100 >= args.min_success * len(results):
        return 0
    # no request before the run when --model and --api are given: its 401s say where a key comes from here
    print(below_min_success(results, args.min_success, key_hint(bool(args.api_key), url_user(args.url))
                            if bench.refused else None), file=sys.stderr)
    return 1


def waited_for_workers(results: list[dict[str, Any]], rate: Optional[float], concurrency: int) -> Optional[str]:
    """With --rate, the requests that waited over WAIT_SAID_S for a free worker: the -c cap made the load partly a
    closed loop (the server saw fewer arrivals than the rate); None when none did."""
    waits = [row["wait_s"] for row in results if row.get("wait_s") is not None]
    late = [wait for wait in waits if wait > WAIT_SAID_S]
    if not rate or not late:
        return None
    return (f"llm-bench: {len(late)} of {len(waits)} requests waited over {WAIT_SAID_S * 1000:g} ms (up to "
            f"{max(late):.2f} s) for one of the -c {concurrency} workers after their arrival: the server saw fewer "
            f"than --rate {rate:g}/s. Their latency and TTFT count from the arrival; raise -c for the rate to be sent "
            f"as asked")


def held_back(results: list[dict[str, Any]]) -> Optional[str]:
    """The successful streams whose chunks all came together (a proxy that buffers responses, as llm-smoke's stream
    check tells): their TTFT is the whole answer's and their inter-token time and tokens/s are no decode speed (a
    buffered stream read 180,000 tokens/s); None when none did."""
    rows = [row for row in results if row["ok"]]
    together = sum(1 for row in rows if row.get("held_back"))
    if not together:
        return None
    return (f"llm-bench: {together} of {len(rows)} successful streams arrived all at once (at least "
            f"{BUFFERED_MIN_CHUNKS} chunks within {BUFFERED_SPREAD_S * 1000:g} ms): something between here and the "
            f"model server held them back until they ended (a proxy that buffers responses), so their TTFT is the "
            f"whole answer's and their ITL and tokens/s are not the model's decode speed; llm-smoke's stream check "
            f"says the same")


def below_min_success(results: list[dict[str, Any]], min_success: float, refused: Optional[str] = None) -> str:
    """Why a finished run exits 1: the rate against --min-success, and each failure kind's first message (the
    summary counts kinds only; the message, say the gate's 429 or the server's 500 body, was in the JSON alone).
    The rate with its counts, rounded down: rounded to the nearest, 2 of 3 read "66.7% is below 66.7%". `refused`:
    what the endpoint's 401/403 says of the key (smoke.key_hint), when one came."""
    first: dict[str, str] = {}
    for row in results:
        if not row["ok"]:
            first.setdefault(str(row["error"] or "unknown"), row["message"] or "no message")
    succeeded = len(results) - sum(1 for row in results if not row["ok"])
    rate = succeeded * 10000 // len(results) / 100
    lines = [f"llm-bench: exit 1: success rate {rate:.2f}% ({succeeded} of {len(results)} requests) is below "
             f"--min-success {min_success:g}%; the first failure of each kind:"]
    lines += [f"  {kind}: {printable(message)[:300]}" for kind, message in sorted(first.items())]
    if "rate_limited" in first:
        lines.append("  (429: a rate limit, such as the platform's gate per client and gate pod, "
                     "gateway.rateLimitPerSecond: lower -c or --rate)")
    if refused and "unauthorized" in first:
        lines.append(f"  (401/403: {refused})")
    if "blocked" in first:
        lines.append("  (403 from a WAF in front, not the key: through the global endpoint a managed rule of Front "
                     "Door's WAF matched the prompt; FrontDoorWebApplicationFirewallLog names it)")
    return "\n".join(lines)


def cli() -> None:
    """The `llm-bench` command (console script): `python -m endpoint_tools.bench`; a second Ctrl-C while writing is
    130, a closed stdout ends nothing before the results are written."""
    run_cli(main)


if __name__ == "__main__":
    cli()
