"""The offline plan machinery: the program under the Pulumi SDK's mocks (runner), the plan CLI and diff, the deploy
model, cost and capacity, the policy runner and plugin host. Run from the repository: `make plan` or `.venv/bin/python -m offline.plan`."""
import sys
from pathlib import Path

# A command of this clone run with `-m` (offline.plan, plan_diff, scan, images, bench_plan): its stacks' program,
# and the checks, import this clone's `config` package. `python -m` puts the working folder first on the
# path, which may be a program of one's own with a config.py of its own (a consumer's folder, where docs/operations.md's
# kit_plan.py runs with the clone on PYTHONPATH): from there `plan --help`, every plan and every `plan_diff` ended in
# a traceback ('config' is not a package). The clone goes first while `python -m` locates the command: sys.argv[0] is
# "-m" then (the Python docs, "-m": "while the module file is being located, the first element will be set to
# '-m'"), never when a program or a test imports this package.
if sys.argv[:1] == ["-m"]:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
