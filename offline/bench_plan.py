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

from .runner import PROJECT_DIR, check_stack_name

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


def best_of(command: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, cwd=PROJECT_DIR, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--stack", default="prod")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    try:  # the name goes into the recording program's text too
        check_stack_name(args.stack)
    except FileNotFoundError as error:
        print(error, file=sys.stderr)
        return 2
    recorded = subprocess.run([sys.executable, "-c", RECORD.format(stack=args.stack, packages=SDK_PACKAGES)],
                              cwd=PROJECT_DIR, check=True, capture_output=True, text=True)
    modules = recorded.stdout.strip().splitlines()[-1]
    with tempfile.TemporaryDirectory() as out:
        plan = best_of([sys.executable, "-m", "offline.plan", "--stack", args.stack, "--out", out], args.runs)
    imports = best_of([sys.executable, "-c", IMPORT_ONLY, modules], args.runs)
    imports_no_gc = best_of([sys.executable, "-c", "import gc; gc.disable()\n" + IMPORT_ONLY, modules], args.runs)
    print(f"make plan {args.stack}: {plan:.2f} s ({len(json.loads(modules))} SDK modules loaded)")
    print(f"import those SDK modules: {imports:.2f} s (ratio {plan / imports:.2f}x); "
          f"with the GC off as the plan runs: {imports_no_gc:.2f} s (ratio {plan / imports_no_gc:.2f}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
