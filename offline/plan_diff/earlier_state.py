"""The deployed state's property dependencies when the base plan does not record them (a kit of 0.21.0 or before).

The engine's chain of a delete-first replacement reads them (pulumi/pulumi 1b5949891b
pkg/resource/deploy/step_generator.go `calculateDependentReplacements`): a dependent is replaced only when its provider
or `deletedWith` is, or when an input key whose `PropertyDependencies` hold a replaced resource, made unknown, makes
its provider's Diff replace it. A `depends_on` edge alone (in `Dependencies`, in no key's list) replaces nothing:
`hasDependencyInReplaceSet` stays false (Open-WebUI's Deployment waiting for its migration Job). And the provider
decides on the keys: pulumi-kubernetes' Release Diff replaces on `.name` and `.namespace` alone (94977969
provider/pkg/provider/helm_release.go `forceNewFields`), so a release whose `values` come from a pool is updated, not
replaced. An earlier kit's plan lists `dependencies` only, which cannot tell those apart.

The SDK sends them on every registration, `depends_on` kept out of them (pulumi 3.272.0, which 0.21.0 pins too,
runtime/resource.py `prepare_resource`: `dependencies` is the explicit ones and every key's), and the earlier kit's
mock monitor receives them; it only did not write them. So the base checkout's own
program, run by its own kit with the monitor also keeping them, gives the state's: `recover` runs the base checkout's
interpreter (`<checkout>/.venv/bin/python`, what `make plan` made there) on its own `offline.plan`, and takes the
result only when that plan is the base plan (the same resources, inputs and dependencies)."""
import json
import subprocess
import tempfile
from pathlib import Path
from typing import Any, Optional

from .documents import PLAN_SHAPE_ERRORS, PlanError, read_resources

# Run as `python -c` by the base checkout's interpreter in that checkout (so its `offline` and `config` are the ones
# imported, and nothing of this checkout): its kit's RecordingMonitor (llmplatform.testing.stand_ins, 0.21.0 and this
# release alike) also keeps each request's propertyDependencies by the URN it answers, then its offline.plan writes
# the plan to argv[2] and the dependencies go to argv[3].
RECORDER = r"""
import json, sys
sys.path.insert(0, ".")
try:
    from llmplatform.testing import stand_ins
    from offline import plan
    monitor = stand_ins.RecordingMonitor
    register = monitor.RegisterResource
except (ImportError, AttributeError) as error:
    print(f"its kit has no RecordingMonitor.RegisterResource to record with ({error})", file=sys.stderr)
    sys.exit(3)
found = {}
def recording(self, request):
    response = register(self, request)
    found[response.urn] = {key: sorted(deps.urns) for key, deps in sorted(request.propertyDependencies.items())
                           if deps.urns}
    return response
monitor.RegisterResource = recording
code = plan.main(["--stack", sys.argv[1], "--out", sys.argv[2]])
with open(sys.argv[3], "w") as out:
    json.dump(found, out)
sys.exit(code or 0)
"""

# The base checkout's plan takes seconds (dev, prod and global, each with its regions, 3 to 4 s here): a re-plan
# still running after this is hung, and is reported as such while the offline workflow's plan job (20 minutes for
# two virtualenvs' installs, two plans and a preview) still has the time to write its report. 600 s did not leave it.
REPLAN_SECONDS = 120


def base_checkout(base: Path) -> Optional[Path]:
    """The checkout a base plan folder `<checkout>/build/<stack>` belongs to, when it holds a program, its own
    `offline.plan` and the interpreter `make plan` made there; else None."""
    root = base.resolve().parent.parent
    if base.resolve().parent.name != "build":
        return None
    if all((root / part).exists() for part in ("Pulumi.yaml", "offline/plan.py", ".venv/bin/python")):
        return root
    return None


def _same_plan(old_res: dict[str, dict[str, Any]], again: dict[str, dict[str, Any]]) -> Optional[str]:
    """Why the base checkout's plan made again is not the base plan, or None when it is."""
    if set(old_res) != set(again):
        extra, missing = sorted(set(again) - set(old_res)), sorted(set(old_res) - set(again))
        return f"it registers other resources ({(extra or missing)[0]})"
    for urn, resource in old_res.items():
        for key in ("type", "inputs", "dependencies"):
            if resource.get(key) != again[urn].get(key):
                return f"`{urn}` has other {key}"
    return None


def recover(base: Path, old_res: dict[str, dict[str, Any]], stack: str) -> tuple[Optional[dict[str, Any]], str]:
    """The base plan with the deployed state's `propertyDependencies` on every resource, from its checkout's program
    planned again by its own kit; else None and why not (a clause for the report)."""
    root = base_checkout(base)
    if root is None:
        return None, (f"{base} is not `build/<stack>` of a checkout whose `make plan` made `.venv` (the pull request's "
                      "check plans the base branch in one)")
    with tempfile.TemporaryDirectory(prefix="plan-diff-base-") as tmp:
        deps_file = Path(tmp) / "property-dependencies.json"
        try:
            # its output read as UTF-8 whatever it holds (bytes that are not would raise here, past every except)
            run = subprocess.run([str(root / ".venv/bin/python"), "-c", RECORDER, stack, str(Path(tmp) / "plan"),
                                  str(deps_file)], cwd=root, capture_output=True, encoding="utf-8",
                                 errors="replace", timeout=REPLAN_SECONDS, check=False)
        except subprocess.TimeoutExpired:  # its message is the whole command, the RECORDER script with it
            return None, f"its checkout {root} did not plan it again within {REPLAN_SECONDS} s"
        except (OSError, subprocess.SubprocessError) as error:
            return None, f"its checkout {root} could not plan it again ({type(error).__name__}: {error})"
        if run.returncode != 0 or not deps_file.exists():
            last = (run.stderr.strip().splitlines() or run.stdout.strip().splitlines() or ["no output"])[-1]
            return None, f"its checkout {root} could not plan it again (exit {run.returncode}: {last[:200]})"
        try:
            # the stack's own folder: a global stack's plan writes its regions' beside it (offline.plan plans them
            # first, into the same --out)
            if not (Path(tmp) / "plan" / stack / "resources.json").is_file():
                raise PlanError(f"no plan of {stack} written")
            again = read_resources(Path(tmp) / "plan" / stack)
            found = json.loads(deps_file.read_text())
        except (PlanError, OSError, json.JSONDecodeError, *PLAN_SHAPE_ERRORS) as error:
            return None, f"its checkout {root} planned it again, unreadably ({error})"
    differs = _same_plan(old_res, again)
    if differs:
        return None, f"its checkout {root}, planned again, is not this base plan: {differs}"
    return {urn: {**resource, "propertyDependencies": found.get(urn, {})} for urn, resource in old_res.items()}, ""
