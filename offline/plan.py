"""`make plan STACK=<stack>`: run the program offline under mocks, print a preview-like tree, write build/<stack>/.

Usage: python -m offline.plan --stack dev [--out build] [--set gpu.driver=operator ...] [--stack-file PATH] [--preview]

Exit codes: 0 planned, 1 the config or the program was refused (one message, nothing written), 2 bad usage (an
unknown stack, an --out that cannot hold the plan).

The plan's folder is emptied before planning: a plan that fails leaves none (and says so), never a previous run's
files for a reader or plan_diff to take as this config's. Only a plan's folder is ever removed: the stack must have a
stack file first, and a folder of its name that holds no plan (no .offline-plan, which each plan writes first) is
refused, not emptied. A folder is written whole into a new folder beside it, then renamed into its place, and a
previous one is renamed aside before it is removed: a reader, or another plan into the same --out at once (two
stacks, a global stack planning its regions' folders too), never finds a half-written, half-removed or mixed folder;
of two plans of one folder, the one finished last stays.

Ctrl-C stops it with one line and exit code 130, a partly written plan removed; a closed stdout (`make plan | head`)
silences the rest of the report, and the plan is still written, as with `> /dev/null`.

Every refusal that needs no program run (bad usage, an invalid or unknown stack, an --out that cannot hold the plan, a
folder that holds no plan, a stack file that does not read) is told before the Pulumi SDK and the component package
are imported (about 3 s of CPU): this module imports them in the functions that plan, and its early checks use
offline/stacks.py and the stack-file reader alone. A refused --set waits for them: its message lists every other
problem the config check finds, and that check is the component package's rules.
"""
from __future__ import annotations

import argparse
import errno
import gc
import json
import os
import re
import shutil
import signal
import sys
import tempfile
import uuid
from collections import Counter, defaultdict
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, TypeVar

import yaml

# stacks (the stack program's config package, `config`) is imported where it is used: a consumer's program that has
# a `config` module of its own (examples/python-consumer) imports this module for resources_document to write its
# kit plan for the PR check (docs/components/key-vault-and-postgres.md), and `config` at import time was the clone's
# package or its own module, whichever came first: one of the two failed
from . import crd_bundles
from .quiet_stdout import QuietWhenClosed

# libyaml's emitter (PyYAML's wheels ship it): ~6x faster than the pure-Python one over a plan's manifests. It folds
# long quoted strings at other places, so the files differ in bytes, never in what they load as (a test holds it).
MANIFEST_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)

if TYPE_CHECKING:  # imported where they are used: the SDK behind them is not needed to refuse a mistyped command
    from . import runner

REDACTED = "[secret]"


def _mask(value: Any) -> Any:
    """Hide every scalar, keep the shape, so a redacted object still has the type its schema wants."""
    if isinstance(value, dict):
        return {k: _mask(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask(v) for v in value]
    return REDACTED


def _redact(value: Any, paths: list[str], here: str = "") -> Any:
    if here in paths or (not here and "." in paths):
        return _mask(value)
    if isinstance(value, dict):
        return {k: _redact(v, paths, f"{here}.{k}" if here else k) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact(v, paths, f"{here}[{i}]") for i, v in enumerate(value)]
    return value


def _sorted(plan: runner.Plan) -> list[runner.Registration]:
    def key(r: runner.Registration):
        top = plan.component_of(r)
        return (top.name if top else "", r.type, r.name)
    return sorted(plan.resources, key=key)


def resources_document(plan: runner.Plan) -> dict[str, Any]:
    return {
        "project": plan.project, "stack": plan.stack, "offline": True,
        "resources": [{
            "urn": r.urn, "type": r.type, "name": r.name, "parent": r.parent or None, "custom": r.custom,
            "inputs": _redact(r.inputs, r.secret_paths), "secretInputs": r.secret_paths,
            "dependencies": sorted(r.dependencies), "options": r.options,  # same file for the same plan
            # per top-level input key, the resources its value comes from (the kit's, sorted; {} when none): the PR
            # check follows a delete-first replacement through them as the engine does (offline/plan_diff)
            "propertyDependencies": r.property_dependencies,
        } for r in _sorted(plan)],
        "outputs": {k: REDACTED if k in plan.secret_outputs else v for k, v in plan.outputs.items()},
    }


def manifests(plan: runner.Plan) -> list[tuple[str, dict[str, Any]]]:
    """Every Kubernetes object the program creates (not Helm-rendered ones), as (file name, object)."""
    out = []
    for i, r in enumerate(o for o in _sorted(plan) if o.is_kubernetes_object):
        redacted = _redact(r.inputs, r.secret_paths)
        head = {k: redacted[k] for k in ("apiVersion", "kind", "metadata") if k in redacted}
        obj = {**head, **{k: v for k, v in redacted.items() if k not in head}}
        kind = obj.get("kind", "Object").lower()
        name = (obj.get("metadata") or {}).get("name", r.name)
        out.append((f"{i:03d}-{kind}-{name}.yaml", obj))
    return out


def write_manifests(plan: runner.Plan, manifest_dir: Path) -> int:
    """The plan's Kubernetes objects as one YAML file each in manifest_dir (emptied first); their count."""
    manifest_dir.mkdir(parents=True, exist_ok=True)
    for old in manifest_dir.glob("*.yaml"):
        old.unlink()
    objects = manifests(plan)
    for file_name, obj in objects:
        (manifest_dir / file_name).write_text(yaml.dump(obj, Dumper=MANIFEST_DUMPER, sort_keys=False))
    return len(objects)




def plan_dir(out: str, stack: str, sets: list[str], stack_file: Path | None) -> Path:
    """Where a plan is written: <out>/<stack>/, or <out>/<stack>.what-if/ with --set or --stack-file. Only a valid
    stack name (stacks.check_stack_name) names a folder: '..' or '' would be --out's parent or --out itself, which
    clear() removes."""
    from . import stacks  # here, not at the top: see the import there
    problem = stacks.stack_name_problem(stack)
    if problem:
        raise ValueError(problem)
    return Path(out) / (stack + (stacks.WHAT_IF if sets or stack_file is not None else ""))


def unwritable(out: str) -> str | None:
    """Why --out cannot hold plans (a file, or no folder can be made there), or None: checked before planning."""
    path = Path(out)
    existing = path
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        return f"{existing} is not a folder"
    try:  # a folder made and removed where the plan's would go: what permissions and /proc-like trees allow
        os.rmdir(tempfile.mkdtemp(prefix=".plan-check-", dir=existing))
    except OSError as error:
        return f"no folder can be made in {existing} ({error.strerror or error})"
    return None


# Written first into every plan's folder: only a folder holding it (or an older plan's resources.json) is removed.
PLAN_MARKER = ".offline-plan"


class NotAPlanFolder(Exception):
    """<out>/<stack> exists and is not a plan's folder: never removed."""


def clear(target: Path) -> bool:
    """Remove a previous plan's folder; whether there was one. A link in its place is removed, not what it points
    at; a folder that holds no plan (no PLAN_MARKER, no resources.json) is refused, never emptied."""
    if target.is_symlink():
        target.unlink(missing_ok=True)
        return True
    if not target.exists():
        return False
    if not is_plan_folder(target):
        raise NotAPlanFolder(f"{target} exists and holds no plan (no {PLAN_MARKER} in it): not removed; move it, "
                             "or give --out a folder of plans")
    _discard(target)
    return True


def _beside(target: Path, doing: str) -> Path:
    """A name of this run's own beside `target`, hidden (`.dev.writing-<pid>-<random>`)."""
    return target.parent / f".{target.name}.{doing}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


def _abandoned(target: Path) -> list[Path]:
    """The hidden folders beside `target` that a plan process killed outright (SIGKILL, a lost machine: no Ctrl-C
    handler ran) left: `_beside`'s names whose process is gone. A live process's, another plan's at work, are not."""
    found = []
    for folder in target.parent.glob(f".{target.name}.*-*-*"):
        parts = re.fullmatch(rf"\.{re.escape(target.name)}\.(?:writing|removing)-([0-9]+)-[0-9a-f]{{8}}", folder.name)
        if parts and folder.is_dir() and not folder.is_symlink() and not _running(int(parts[1])):
            found.append(folder)
    return found


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's process: running
        return True
    except OverflowError:  # no process id (a folder named so by hand): not ours to remove
        return True
    return True


def _discard(target: Path) -> None:
    """A plan's folder moved out of its place in one rename, then removed (what marks it as a plan last)."""
    aside = _beside(target, "removing")
    CTRL_C.scratch.add(aside)  # before the rename: a Ctrl-C right after it still removes the folder moved aside
    try:
        target.rename(aside)
    except FileNotFoundError:  # another plan into the same --out moved it first
        CTRL_C.scratch.discard(aside)
        return
    try:
        remove_plan(aside)
    except OSError:  # one the user may not remove (another user's files): back where the refusal names it
        _put_back(aside, target)
        raise
    finally:
        CTRL_C.scratch.discard(aside)


def _put_back(aside: Path, target: Path) -> None:
    """A plan folder that could not be removed, renamed back into its place (where the refusal names it, and where
    the user removes it), unless another plan took that place meanwhile."""
    try:
        aside.rename(target)
    except OSError:
        pass


Written = TypeVar("Written")


def write_whole(target: Path, fill: Callable[[Path], Written]) -> Written:
    """`fill` writes a plan into a new folder beside `target`, which then takes target's place in one rename; what
    fill returns. A plan another run put there meanwhile is replaced (the last one finished stays); a folder that
    holds no plan is refused (NotAPlanFolder), as clear() refuses it."""
    target.parent.mkdir(parents=True, exist_ok=True)
    for folder in _abandoned(target):
        shutil.rmtree(folder, ignore_errors=True)
    staging = _beside(target, "writing")
    CTRL_C.scratch.add(staging)  # before it is made: a Ctrl-C right after the mkdir still removes it
    try:
        staging.mkdir()  # with the mode a folder made here gets (mkdtemp's would be 0700)
        written = fill(staging)
        while True:
            try:
                staging.rename(target)  # takes a free name (or an empty folder's) at once
                break
            except OSError as error:
                if error.errno not in (errno.EEXIST, errno.ENOTEMPTY, errno.ENOTDIR):
                    raise
            clear(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)  # gone already once renamed
        CTRL_C.scratch.discard(staging)
    return written


def is_plan_folder(target: Path) -> bool:
    return target.is_dir() and ((target / PLAN_MARKER).is_file() or (target / "resources.json").is_file())


def _unremovable(target: Path, error: OSError) -> str:
    return f"{target}: the previous plan cannot be removed ({error.strerror or error}): nothing planned"


def remove_plan(target: Path) -> None:
    """Remove a plan's folder, what marks it as one last: a removal cut short leaves a folder the next plan (or
    Ctrl-C's handler) still knows as a plan's, never one it must refuse."""
    marks = (target / "resources.json", target / PLAN_MARKER)
    for child in target.iterdir():
        if child not in marks:
            shutil.rmtree(child, ignore_errors=True) if child.is_dir() and not child.is_symlink() else \
                child.unlink(missing_ok=True)
    for mark in marks:
        mark.unlink(missing_ok=True)
    shutil.rmtree(target, ignore_errors=True)


class CtrlC:
    """SIGINT for the plan CLI (installed when the module runs as a script), ended where it lands, not raised as a
    KeyboardInterrupt. Raised, it could land where Python cannot raise it (a finalizer, a weakref callback: reported
    as unraisable, and the run went on) or where the mocks' event loop caught it half-way, which left the loop
    waiting for a future nothing would complete (`make plan` hung now and then on a loaded machine: the main thread
    idle in `select()` under `run_until_complete`), and the abandoned run's coroutines, collected on the way out,
    printed "never awaited" warnings and a traceback. Here the handler reports and exits itself: each plan folder this
    run emptied and did not finish writing (its last file, POLICY_CONFIG, is missing) is removed, one line says so,
    and the process exits 130 without waiting for anything it left."""

    def __init__(self) -> None:
        self.folders: dict[Path, bool] = {}  # each plan folder this run empties: whether it held a previous plan
        self.scratch: set[Path] = set()  # folders beside them this run is writing or removing (write_whole, clear)

    def emptying(self, target: Path) -> bool:
        """clear(target) for a plan this run writes, known to the handler from the start of the removal."""
        # a folder that holds no plan is refused by clear(): never the run's, so never known to the handler
        if not target.exists() or target.is_symlink() or is_plan_folder(target):
            self.folders[target] = target.exists() or target.is_symlink()  # what clear() is about to remove
        removed = self.folders[target] = clear(target)
        return removed

    def report(self) -> list[str]:
        """Remove what the run left unfinished; the lines that say so."""
        for folder in list(self.scratch):
            shutil.rmtree(folder, ignore_errors=True)
        lines = []
        for target, removed in self.folders.items():
            if (target / POLICY_CONFIG).is_file():
                continue  # written whole before Ctrl-C
            if is_plan_folder(target):
                remove_plan(target)
            elif target.is_dir() and not any(target.iterdir()):
                target.rmdir()  # made, not yet marked
            lines.append(f"interrupted: no plan written in {target}/" + _removed(removed, target))
        return lines or ["interrupted"]

    def __call__(self, signum: int, frame: Any) -> None:
        try:
            sys.stdout.flush()
        except Exception:  # a write the signal cut short holds the stream (a reentrant call): its text is lost
            pass
        os.write(2, ("\n" + "\n".join(self.report()) + "\n").encode())
        os._exit(130)


CTRL_C = CtrlC()


def write(plan: runner.Plan, target: Path) -> int:
    """resources.json and the manifests in `target`; the number of manifests."""
    target.mkdir(parents=True, exist_ok=True)
    (target / PLAN_MARKER).write_text("a stack's offline plan (make plan): removed and written anew by each plan\n")
    count = write_manifests(plan, target / "manifests")
    (target / "resources.json").write_text(json.dumps(resources_document(plan), indent=2, sort_keys=False) + "\n")
    return count


def tree(plan: runner.Plan) -> str:
    groups: dict[str, list[runner.Registration]] = defaultdict(list)
    for r in plan.resources:
        top = plan.component_of(r)
        if top is None and r.type.startswith("llmplatform:"):
            continue  # a top-level component is the group heading itself
        groups[f"{top.type} {top.name}" if top else "(stack)"].append(r)
    lines = [f"Stack {plan.project}/{plan.stack}: {len(plan.resources)} resources"]
    for label in sorted(groups, key=lambda g: (g == "(stack)", g)):
        members = groups[label]
        lines.append(f"+ {label}  ({len(members)})")
        for type_, count in sorted(Counter(r.type for r in members).items()):
            lines.append(f"    {count:>3}  {type_}")
    lines.append("Outputs:")
    for key, value in plan.outputs.items():
        shown = REDACTED if key in plan.secret_outputs else json.dumps(value)
        lines.append(f"    {key}: {shown}")
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    from . import stacks  # here, not at the top: see the import there
    parser = argparse.ArgumentParser(prog="python -m offline.plan", description=__doc__.splitlines()[0])
    parser.add_argument("--stack", required=True,
                        help="the stack to plan: Pulumi.<stack>.yaml beside Pulumi.yaml (dev, prod, llmd, global, ...)")
    parser.add_argument("--out", default=str(stacks.PROJECT_DIR / "build"),
                        help="the folder the plan is written under, as <out>/<stack>/ (default: build/)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config value for this run only, as `pulumi config set --path` would: "
                             "gpu.driver=operator, modelStore.models[1]=llama3.2:1b, 'webui.extraEnv[\"A.B\"]=x', "
                             "aks-llm-platform:gpu.maxCount=3 (true/false and plain "
                             "integers are typed, anything else is a string); the plan is written to "
                             "<out>/<stack>.what-if/, beside the stack's own plan")
    parser.add_argument("--stack-file", type=Path, metavar="PATH",
                        help="read the stack's config from this file instead of Pulumi.<stack>.yaml (written to "
                             "<out>/<stack>.what-if/ too)")
    parser.add_argument("--preview", action="store_true",
                        help="also run the program as `pulumi preview` of the stack with nothing created yet (the "
                             "first command on a new stack, a pull request's check) and refuse the plan where that "
                             "preview would show otherwise than `pulumi up` does or the policy pack refuses it; "
                             "each rule the pack cannot judge there is named (`make plan PREVIEW=1`)")
    parser.add_argument("--parallel", type=int32, metavar="N",
                        help="the deploy model's `pulumi up --parallel N`: at most N creates at once (1 and below: "
                             "one; 2147483647: no limit); unset, PULUMI_PARALLEL as the CLI reads it, else 4 x the "
                             "4 vCPUs of the runner the deploy workflow uses")
    return parser


def int32(value: str) -> int:
    """`--parallel` as `pulumi up` takes it: an int32 (its flag is Int32VarP, pkg/cmd/pulumi/operations/up.go)."""
    number = int(value)  # argparse names the option and the value when this raises ValueError
    if not -2**31 <= number <= 2**31 - 1:
        raise argparse.ArgumentTypeError(f"{value}: pulumi up takes --parallel up to 2147483647 (no limit), "
                                         "1 and below run one create at a time")
    return number


def main(argv: list[str] | None = None) -> int:
    from . import stacks  # here, not at the top: see the import there
    args = build_parser().parse_args(argv)
    # A short-lived process that allocates many small objects: the cyclic GC only costs time here.
    gc.disable()
    try:  # before anything is removed: the plan's folder is named after the stack, which must be one
        stacks.find_stack_file(args.stack, stack_file=args.stack_file)
    except FileNotFoundError as error:
        print(error, file=sys.stderr)
        return 2
    problem = unwritable(args.out)
    if problem:
        print(f"--out {args.out}: cannot hold the plan's folder: {problem}", file=sys.stderr)
        return 2
    target = plan_dir(args.out, args.stack, args.set, args.stack_file)
    # a plan that fails must not leave the previous one behind, for a reader (cost.json) or plan_diff to take as
    # this config's
    try:
        removed = CTRL_C.emptying(target)
    except NotAPlanFolder as error:
        print(error, file=sys.stderr)
        return 2
    except OSError as error:
        print(_unremovable(target, error), file=sys.stderr)
        return 2
    # the stack file as the Pulumi CLI reads it, still without the SDK: the same read (and refusal) as
    # runner.stack_config's, which reads it again from the parse cache
    from config.reader import ConfigError
    from .stackfile import read_stack_file
    try:
        read_stack_file(stacks.find_stack_file(args.stack, stack_file=args.stack_file), stacks.project_name())
    except ConfigError as error:
        print(str(error) + _removed(removed, target), file=sys.stderr)
        return 1
    except FileNotFoundError as error:
        print(error, file=sys.stderr)
        return 2
    return _plan(args, removed, target)


def _plan(args: argparse.Namespace, removed: bool, target: Path) -> int:
    """main's planning, once every refusal that needs no program run has been told: the stack's config checked, the
    regions of a global stack planned first, then the stack."""
    from config import regions
    from config.reader import ConfigError

    from . import runner
    try:
        config = runner.stack_config(args.stack, sets=args.set, stack_file=args.stack_file)
    except ConfigError as error:  # a stack file or --set the CLI refuses too (runner.StackFileError is this class)
        print(with_other_problems(error, args.stack, args.set, args.stack_file) + _removed(removed, target),
              file=sys.stderr)
        return 1
    except FileNotFoundError as error:
        print(error, file=sys.stderr)
        return 2
    regional = runner.referenced_stacks(config, runner.project_name())
    if regional:  # the global stack's own config first: a typo there must not wait for every region's plan
        try:
            global_cfg = regions.parse_global(_project_keys(config), runner.project_name(), args.stack)
            listed = regions.region_file_problems(global_cfg, runner.project_name(), args.stack)
            if listed:  # a listed stack that is no regional stack of this one (or runs no llm-d for /llmd): before
                # planning any region
                raise ConfigError(listed)
        except ConfigError as error:
            print(str(error) + _removed(removed, target), file=sys.stderr)
            return 1
    references = {}
    for region in regional:  # the stacks a global stack reads go up first: plan and check them first too
        rc, region_plan = plan_one(region, args.out, [], None, {}, parallel=args.parallel)
        if region_plan is None:
            print(f"\nregional stack {region} does not plan, so the global stack {args.stack} cannot"
                  + _removed(removed, target), file=sys.stderr)
            return rc
        references[region] = region_plan  # its secret outputs read secret, as the engine's StackReference reads them
        print()
    if regional:
        print(f"stack order for a fresh estate: {', '.join(regional)} (in any order), then {args.stack} "
              "(it reads their outputs), then each region again with edge.frontDoorId set to its frontDoorId output "
              "(the regional gateway then admits only that Front Door and the global key set: docs/operations.md)\n")
    rc, _ = plan_one(args.stack, args.out, args.set, args.stack_file, references, removed, args.preview,
                     args.parallel)
    return rc


def _removed(removed: bool, target: Path) -> str:
    return (f"\n(the previous plan in {target}/ was removed: a plan that fails leaves none behind for plan_diff or a "
            "reader to take as this config's)") if removed else ""


def _project_keys(config: dict[str, Any]) -> dict[str, Any]:
    """A stack's config under the project's namespace, keys without it, as the program reads them."""
    from . import stacks  # here, not at the top: see the import there
    project = stacks.project_name()
    return {k.split(":", 1)[1]: v for k, v in config.items() if k.startswith(f"{project}:")}


def with_other_problems(error: Exception, stack: str, sets: list[str], stack_file: Path | None) -> str:
    """A --set the CLI refuses, with what the config check finds in the rest (the good --set paths applied): every
    problem at once, as for any other config error."""
    from . import stacks  # here, not at the top: see the import there
    config = getattr(error, "config", None)
    if config is None:
        return str(error)
    from config import regions
    from config.loader import parse_config
    from config.reader import ConfigError
    raw = _project_keys(config)
    try:
        (regions.parse_global if regions.is_global(raw) else parse_config)(raw, stacks.project_name(), stack)
    except ConfigError as more:
        return str(ConfigError(list(error.problems) + more.problems))  # type: ignore[attr-defined]
    return str(error)


POLICY_CONFIG = "policy-config.json"


def policy_config(registry: str | None) -> dict[str, dict[str, list[str]]]:
    """The policy pack's configuration for a stack: with a mirror registry, every image must come from it."""
    from policy.policies import ALLOWED_REGISTRIES, ALLOWED_REGISTRIES_POLICY
    return {ALLOWED_REGISTRIES_POLICY: {ALLOWED_REGISTRIES: [registry]}} if registry else {}


def plan_one(stack: str, out: str, sets: list[str], stack_file: Path | None,
             references: dict[str, Any], removed: bool | None = None,
             preview: bool = False, parallel: int | None = None) -> tuple[int, runner.Plan | None]:
    """Plan one stack, print it and write build/<stack>/: (exit code, the plan when it was written). The folder is
    emptied first (`removed`: whether the caller already did and found one); a failure says it is gone. `preview`:
    the fresh stack's `pulumi preview` checked too (offline.fresh_preview); `parallel`: the deploy model's
    `pulumi up --parallel` (deploy_model.evaluate)."""
    from . import stacks  # here, not at the top: see the import there
    target = Path(out) / stack  # named in a refusal before plan_dir has named it
    try:  # a global stack's regions are stacks named in its config
        stacks.find_stack_file(stack, stack_file=stack_file)
        target = plan_dir(out, stack, sets, stack_file)
        if removed is None:
            removed = CTRL_C.emptying(target)
    except (FileNotFoundError, NotAPlanFolder) as error:
        print(error, file=sys.stderr)
        return 2, None
    except OSError as error:  # the previous plan's folder (a region's, under a global stack)
        print(_unremovable(target, error), file=sys.stderr)
        return 2, None
    rc, plan = _plan_one(stack, out, sets, stack_file, references, preview, parallel)
    if plan is None and removed:
        print(_removed(removed, target).lstrip("\n"), file=sys.stderr)
    return rc, plan


def _plan_one(stack: str, out: str, sets: list[str], stack_file: Path | None,
              references: dict[str, Any], preview: bool = False,
              parallel: int | None = None) -> tuple[int, runner.Plan | None]:
    from config import regions
    from config.loader import parse_config
    from config.platform_config import PlatformConfig
    from config.reader import ConfigError
    from llmplatform.checks import ComponentInputError

    from . import capacity, cost, deploy_model, ignored_inputs, images, policy_check, runner, stackfile
    print(f"OFFLINE PLAN for stack '{stack}': the real __main__.py under Pulumi SDK mocks.")
    print("No Pulumi CLI, no Azure credentials, no cluster: nothing is created; cloud-side values are stand-ins.\n")
    esc = stackfile.esc_note(stack_file or runner.PROJECT_DIR / f"Pulumi.{stack}.yaml")
    if esc:  # before the run: a config error may well be a setting the environment holds
        print(f"warning: {esc}", file=sys.stderr)
    try:
        plan = runner.run(stack, sets=sets, stack_file=stack_file, references=references)
    except (runner.ProgramError, ConfigError) as error:
        registered = getattr(error, "registered", 0)
        print(str(error) + (f"\n({registered} resources had been registered before this error)" if registered
                            else ""), file=sys.stderr)
        return 1, None
    except ComponentInputError as error:  # a component refused an input the config layer let through
        print(f"a component refused its input: {error}", file=sys.stderr)
        return 1, None
    except FileNotFoundError as error:
        print(error, file=sys.stderr)
        return 2, None
    print(tree(plan))
    for warning in plan.warnings:
        print(f"warning: {warning}")
    raw = {k.split(":", 1)[1]: v for k, v in runner.stack_config(stack, sets=sets, stack_file=stack_file).items()}
    try:  # the config the program read (the reader hands both the keys as Pulumi's JSON names them): one refusal
        cfg = (regions.parse_global if regions.is_global(raw) else parse_config)(raw, plan.project, plan.stack)
    except ConfigError as error:
        print(error, file=sys.stderr)
        return 1, None
    path = stack_file or runner.PROJECT_DIR / f"Pulumi.{stack}.yaml"
    defaults = {r.type.split(":", 1)[0] for r in plan.resources if r.custom and not r.options.get("provider")}
    for note in stackfile.provider_advisories(stackfile.provider_config(path), path.name, plan.project,
                                              cfg.location, defaults):
        print(f"warning: {note}")
    if isinstance(cfg, PlatformConfig) and not cfg.edge.enabled:  # a regional stack is refused instead (config)
        for note in regions.standalone_shared_names(cfg, plan.project, parse_config, runner.PROJECT_DIR):
            print(f"warning: {note}")
    stale = ignored_inputs.refresh_warning(plan, runner.project_file(runner.PROJECT_DIR))
    if stale:
        print(f"warning: {stale}")
    fit = capacity.idle_capacity(plan)
    try:
        estimate = cost.estimate(plan, cfg.location, cfg.cost.log_analytics_gb_per_day, cfg.cost.prices, fit)
        cost_document = estimate.document()
        cost_lines = cost.report_lines(estimate) + cost.budget_lines(
            estimate, cfg.observability.monthly_budget if isinstance(cfg, PlatformConfig) else None)
    except cost.CostError as error:  # no estimate is not a failed plan: say why instead
        cost_document, cost_lines = {"error": str(error)}, [f"cost warning: no estimate: {error}"]
    print()
    for line in cost_lines:
        print(line)
    if fit.errors:  # a pod that fits no node: a model server never serves, and `pulumi up` waits for any other
        for unfit in fit.errors:
            print(f"capacity: {unfit}", file=sys.stderr)
        print("\nthe capacity check refuses this plan: a pod larger than every node it may run on (a model server's, "
              "or one `pulumi up` waits for)", file=sys.stderr)
        return 1, None
    registry = cfg.cluster.image_registry if isinstance(cfg, PlatformConfig) else None
    pack_config = policy_config(registry)
    violations = policy_check.evaluate(plan, pack_config)
    for line in policy_check.report_lines(violations):
        print(line)
    if any(v.mandatory for v in violations):
        print("\nthe policy pack refuses this plan (pulumi preview --policy-pack policy would too)", file=sys.stderr)
        return 1, None
    try:
        deploy = deploy_model.evaluate(plan, parallel=parallel)
    except deploy_model.DurationsError as error:
        print(f"deploy model: {error}", file=sys.stderr)
        return 1, None
    print()
    for line in deploy_model.report_lines(deploy):
        print(line)
    if deploy.problems:
        print("\nthe deploy model refuses this plan: a first `pulumi up` would fail or not converge (each line names "
              "the resource, the wait or reference, and the fix)", file=sys.stderr)
        return 1, None
    if preview and not _previews_as_up(plan, stack, sets, stack_file, references, pack_config):
        return 1, None
    target = plan_dir(out, stack, sets, stack_file)
    read = None if sets else stack_file or runner.PROJECT_DIR / f"Pulumi.{stack}.yaml"  # what the list is made from
    pulled = images.document(plan, registry, read)
    bundles = crd_bundles.record({"urn": r.urn, "type": r.type, "name": r.name, "inputs": r.inputs}
                                 for r in plan.resources)

    def fill(folder: Path) -> int:
        count = write(plan, folder)
        (folder / "cost.json").write_text(json.dumps(cost_document, indent=2) + "\n")
        (folder / "deploy.json").write_text(json.dumps(deploy.document(), indent=2) + "\n")
        (folder / "images.json").write_text(json.dumps(pulled, indent=2) + "\n")
        # the CRDs of each yaml/v2 ConfigFile's file, which the plan does not hold (the PR check compares them)
        (folder / crd_bundles.RECORD).write_text(json.dumps(bundles, indent=2) + "\n")
        # what `make preview` and the preview workflow hand `pulumi preview --policy-pack-config` ({} configures
        # nothing); the plan's last file (a plan folder without it is a partial one, which Ctrl-C's handler removes)
        (folder / POLICY_CONFIG).write_text(json.dumps(pack_config, indent=2) + "\n")
        return count
    try:
        count = write_whole(target, fill)
    except NotAPlanFolder as error:  # made by someone else while this plan ran
        print(error, file=sys.stderr)
        return 2, None
    except OSError as error:  # a full disk, a folder taken away: nothing of this plan is left (write_whole)
        print(f"{target}: the plan cannot be written ({error.strerror or error}); nothing of it is left there",
              file=sys.stderr)
        return 2, None
    print(f"\nWrote {target}/resources.json ({len(plan.resources)} resources), {target}/cost.json, "
          f"{target}/deploy.json, {target}/images.json ({len(pulled['images'])} images), "
          f"{target}/{crd_bundles.RECORD}, {target}/{POLICY_CONFIG} and {count} manifests in {target}/manifests/")
    if pulled["registry"]:
        print(f"Images to copy into {pulled['registry']} before `pulumi up`: make images STACK={target.name}")
    if target.name.endswith(runner.WHAT_IF):
        stack_dir = plan_dir(out, stack, [], None)
        base = "" if (stack_dir / "resources.json").is_file() else \
            f"; plan the stack itself there first: .venv/bin/python -m offline.plan --stack {stack} --out {out}"
        print(f"(a what-if: --set/--stack-file plans are written beside {stack_dir}/, not over it; what the change "
              f"adds, replaces or deletes: .venv/bin/python -m offline.plan_diff {stack_dir} {target}{base})")
    return 0, plan


def _previews_as_up(plan: runner.Plan, stack: str, sets: list[str], stack_file: Path | None,
                    references: dict[str, Any], pack_config: dict[str, Any] | None = None) -> bool:
    """The stack's `pulumi preview` with nothing created yet, run and compared with the plan of its `up`: its line
    printed, or each difference (and False). The policy pack over it as `pulumi preview --policy-pack` runs it (values
    not known yet are unknowns there): each rule it cannot judge named, and a mandatory violation `up` does not have
    refused (the pull request's gate would refuse a plan `make plan` passes)."""
    from llmplatform.checks import ComponentInputError

    from . import fresh_preview, policy_check, runner
    try:
        preview = runner.run(stack, sets=sets, stack_file=stack_file, references=references, preview=True)
    except (runner.ProgramError, ComponentInputError) as error:  # a component refusing a value not known yet
        print(f"fresh pulumi preview: {error}", file=sys.stderr)
        return False
    problems = fresh_preview.differences(plan, preview)
    print()
    if problems:
        return _preview_refused(problems, "a new stack's `pulumi preview` would show otherwise than `pulumi up` does")
    print(fresh_preview.summary(preview))
    violations = policy_check.evaluate(preview, pack_config)
    for v in violations:
        if v.unjudged:
            print(f"fresh pulumi preview: the policy pack cannot judge [{v.policy}] on {v.resource} (`make plan` and "
                  f"`pulumi up` do): {v.message.split('during preview: ', 1)[-1]}")
    refused = [f"policy VIOLATION: [{v.policy}] {v.resource}: {v.message}" for v in violations if v.mandatory]
    if refused:
        return _preview_refused(refused, "the policy pack refuses the new stack's `pulumi preview` (a pull request's "
                                "gate), which `up`'s plan passes")
    return True


def _preview_refused(problems: list[str], why: str) -> bool:
    """Prints each problem of the fresh preview and why the check refuses the plan; False."""
    for problem in problems:
        print(f"fresh pulumi preview: {problem}", file=sys.stderr)
    print(f"\nthe preview check refuses this plan: {why}", file=sys.stderr)
    return False


if __name__ == "__main__":
    sys.stdout = QuietWhenClosed(sys.stdout)
    if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:  # a caller that ignores Ctrl-C (nohup) keeps it so
        signal.signal(signal.SIGINT, CTRL_C)
    code = main()
    # Everything is written and closed: the interpreter's teardown (a final collection of the run's objects, with
    # the cyclic GC off, and every module's) only costs time, ~1.2 s after prod's plan, and a Ctrl-C during it
    # killed the process by signal once Python had put SIGINT back to its default for the teardown.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
