"""How fast the benchmark tool itself is: `python -m endpoint_tools.bench_loopback [-n 2000] [-c 8]`.

Runs endpoint_tools.bench against the instant loopback server on 127.0.0.1, so the figure is the tool's own ceiling.
"""
import argparse

from .bench import Bench, format_summary
from .api_errors import Deadlines
from .loopback_server import MODEL, LoopbackServer
from .stats import summarize


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("-n", "--requests", type=int, default=2000)
    parser.add_argument("-c", "--concurrency", type=int, default=8)
    args = parser.parse_args()
    with LoopbackServer("ok") as server:
        results, wall, _ = Bench(server.url, "openai", MODEL, None, Deadlines(10.0), args.concurrency).run(
            args.requests, "hi", 8, progress=False)
    print(format_summary(summarize(results, wall)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
