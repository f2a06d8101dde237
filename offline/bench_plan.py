"""Budget check for `make plan`: wall time of the offline plan vs. merely importing the SDK modules it uses.

Usage: python -m offline.bench_plan [--stack prod] [--runs 3]. Each figure is the best of N fresh processes. The module
list is measured, not guessed: a first run records every SDK module the plan loads, and the baseline imports exactly
those.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time

from .runner import PROJECT_DIR
from .stacks import find_stack_file

SDK_PACKAGES = ("pulumi", "pulumi_azure_native", "pulumi_kubernetes", "pulumi_random", "yaml", "grpc", "google")

RECORD = """
import json, sys
from offline import runner
runner.run({stack!r})
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in {packages!r})))
"""

IMPORT_ONLY = """
import importlib, json, sys
for name in json.loads(sys.argv[1]):
    importlib.import_module(name)
"""


class RunFailed(Exception):
    """A measured run that did not succeed: its exit code and what it printed on stderr."""

    def __init__(self, code: int, stderr: str):
        super().__init__(stderr)
        self.code = code


def best_of(command: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run(command, cwd=PROJECT_DIR, capture_output=True, text=True)
        if done.returncode:
            raise RunFailed(done.returncode, done.stderr)
        times.append(time.perf_counter() - start)
    return min(times)


def runs_count(text: str) -> int:
    """--runs: a whole number of at least 1 (the best of no run is no figure)."""
    if not text.strip().isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be a whole number of at least 1")
    return int(text)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m offline.bench_plan")
    parser.add_argument("--stack", default="prod")
    parser.add_argument("--runs", type=runs_count, default=3)
    args = parser.parse_args()
    try:  # the name goes into the recording program's text too, and a stack without a file plans nothing
        find_stack_file(args.stack)
    except FileNotFoundError as error:
        print(error, file=sys.stderr)
        return 2
    try:
        # the plan CLI first: a stack that does not plan stops here with the CLI's own message (the recording
        # program, which runs the plan inside, would end in a traceback)
        with tempfile.TemporaryDirectory() as out:
            plan = best_of([sys.executable, "-m", "offline.plan", "--stack", args.stack, "--out", out], args.runs)
        recorded = subprocess.run([sys.executable, "-c", RECORD.format(stack=args.stack, packages=SDK_PACKAGES)],
                                  cwd=PROJECT_DIR, capture_output=True, text=True)
        if recorded.returncode:
            raise RunFailed(recorded.returncode, recorded.stderr)
    except RunFailed as failed:
        print(f"{failed}".rstrip(), file=sys.stderr)
        print(f"bench_plan: the plan of stack {args.stack!r} failed (exit {failed.code}): nothing measured",
              file=sys.stderr)
        return 1
    modules = recorded.stdout.strip().splitlines()[-1]
    imports = best_of([sys.executable, "-c", IMPORT_ONLY, modules], args.runs)
    imports_no_gc = best_of([sys.executable, "-c", "import gc; gc.disable()\n" + IMPORT_ONLY, modules], args.runs)
    print(f"make plan {args.stack}: {plan:.2f} s ({len(json.loads(modules))} SDK modules loaded)")
    print(f"import those SDK modules: {imports:.2f} s (ratio {plan / imports:.2f}x); "
          f"with the GC off as the plan runs: {imports_no_gc:.2f} s (ratio {plan / imports_no_gc:.2f}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
