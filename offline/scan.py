"""Scan a stack's Kubernetes objects with checkov: `python -m offline.scan --stack dev` (`make scan STACK=dev`).

Reads the manifests `make plan` wrote to build/<stack>/manifests/ and runs checkov's Kubernetes framework over them
from its own virtualenv (.venv-scan; checkov's pins conflict with pulumi's). Prints each failed check; a skip
carries its reason in the object's `checkov.io/skipN` annotation. Exit codes: 0 no failed check, 1 a failed check
or no manifests to scan, 2 bad usage.
"""
import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Optional

PROJECT_DIR = Path(__file__).resolve().parent.parent
CHECKOV = PROJECT_DIR / ".venv-scan" / "bin" / "checkov"


def run_checkov(folder: Path, checkov: Path = CHECKOV) -> dict[str, Any]:
    """checkov's JSON report of every manifest under folder (no metadata download: BC_SKIP_MAPPING)."""
    done = subprocess.run([str(checkov), "-d", str(folder), "--framework", "kubernetes", "--compact", "-o", "json"],
                          capture_output=True, text=True, timeout=600,
                          env={**os.environ, "BC_SKIP_MAPPING": "TRUE", "LOG_LEVEL": "WARNING"})
    try:
        report = json.loads(done.stdout)
    except ValueError:
        raise RuntimeError(f"checkov printed no report (exit {done.returncode}): {done.stderr.strip()[-500:]}")
    # one framework gives one report; checkov answers a list when it ran several
    return report[0] if isinstance(report, list) else report


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m offline.scan", description=__doc__.splitlines()[0])
    parser.add_argument("--stack", default="dev", help="the stack whose build/<stack>/manifests to scan")
    parser.add_argument("--out", type=Path, default=PROJECT_DIR / "build", help="where `make plan` wrote them")
    args = parser.parse_args(argv)
    from offline.runner import check_stack_name  # the SDK behind it: imported only when a scan runs
    try:  # the plan's folder is named after its stack: '../x' is no stack, not a folder to look in
        check_stack_name(args.stack)
    except FileNotFoundError as error:
        print(f"scan: {error}", file=sys.stderr)
        return 2
    folder = args.out / args.stack / "manifests"
    if not any(folder.glob("*.yaml")):
        if (args.out / args.stack / "resources.json").is_file():  # planned, and nothing of it runs in a cluster
            print(f"scan: the {args.stack} stack creates no Kubernetes objects ({folder} is empty): nothing to scan")
            return 0
        print(f"scan: no manifests in {folder}: run `make plan STACK={args.stack}` first", file=sys.stderr)
        return 1
    if not CHECKOV.is_file():
        print(f"scan: {CHECKOV} is missing: `make scan` installs it (requirements-scan.txt)", file=sys.stderr)
        return 1
    try:
        report = run_checkov(folder)
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as error:
        print(f"scan: {error}", file=sys.stderr)
        return 1
    summary = report.get("summary", {})
    failed = report.get("results", {}).get("failed_checks", [])
    for check in failed:
        print(f"FAIL  {check['check_id']} {check['check_name']}: {check['resource']} "
              f"({Path(check['file_path']).name})")
    print(f"checkov over {folder}: {summary.get('passed', 0)} passed, {len(failed)} failed, "
          f"{summary.get('skipped', 0)} skipped with a reason")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
