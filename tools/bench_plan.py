"""Budget check for `make plan`: wall time of the offline plan vs. merely importing the SDK modules it uses.

Usage: python -m tools.bench_plan [--stack prod] [--runs 3]. Each figure is the best of N fresh processes.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time

from .offline import PROJECT_DIR

# Importing these (and touching one class, which makes the SDK load the lazily imported module) is what the
# program's imports cost; everything on top of it is the program and the mocks.
IMPORT_ONLY = """
import pulumi, pulumi.runtime.mocks, yaml, pulumi_kubernetes as k8s
from pulumi_azure_native import authorization, containerservice, network, resources, storage
for mod, attr in [(authorization, "RoleAssignment"), (containerservice, "ManagedCluster"),
                  (network, "VirtualNetwork"), (resources, "ResourceGroup"), (storage, "StorageAccount"),
                  (k8s.core.v1, "Namespace"), (k8s.batch.v1, "Job"), (k8s.helm.v3, "Release"),
                  (k8s.meta.v1, "ObjectMetaArgs")]:
    getattr(mod, attr)
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
    with tempfile.TemporaryDirectory() as out:
        plan = best_of([sys.executable, "-m", "tools.plan", "--stack", args.stack, "--out", out], args.runs)
    imports = best_of([sys.executable, "-c", IMPORT_ONLY], args.runs)
    imports_no_gc = best_of([sys.executable, "-c", "import gc; gc.disable()\n" + IMPORT_ONLY], args.runs)
    print(f"make plan {args.stack}: {plan:.2f} s")
    print(f"import SDK modules: {imports:.2f} s (ratio {plan / imports:.2f}x); "
          f"with the GC off as the plan runs: {imports_no_gc:.2f} s (ratio {plan / imports_no_gc:.2f}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
