"""`python -m offline.plan_diff BASE_DIR NEW_DIR`: the command line."""
import argparse
import sys
from pathlib import Path
from typing import Optional

from config.stack_names import stack_name_problem

from .documents import PLAN_SHAPE_ERRORS, PlanError, read_resources, stacks_of
from .compare import EARLIER_KIT, diff_documents, earlier_state_chain
from .crd_bundles import compare as bundle_changes, read_record
from .earlier_state import recover
from .global_reads import global_stack_lines, read_outputs
from .gate import ALLOW_FILE, ALLOW_LABEL, allowances, blocking, read_allow_file, unmatched_allowances
from .report import cost_lines, markdown


def main(argv: Optional[list[str]] = None) -> int:
    summary = (sys.modules[__package__].__doc__ or "").splitlines()[0]  # the package says what the command does
    parser = argparse.ArgumentParser(prog="python -m offline.plan_diff", description=summary)
    parser.add_argument("base", type=Path, help="build/<stack> of the base branch")
    parser.add_argument("new", type=Path, help="build/<stack> of this change")
    parser.add_argument("--title", default="Offline plan diff",
                        help="the report's heading (the workflow's pull-request comment names the stack)")
    parser.add_argument("--allow-file", type=Path, metavar="PATH",
                        help=f"URNs (one a line, # comments) whose replacement or deletion is intended ({ALLOW_FILE})")
    parser.add_argument("--allow-stateful", action="store_true",
                        help=f"allow every stateful replacement or deletion (the `{ALLOW_LABEL}` label)")
    parser.add_argument("--new-stack", action="store_true",
                        help="the base branch has no such stack (no stack file): BASE is not read and every "
                             "resource is new; without it, a BASE without a plan is an error")
    args = parser.parse_args(argv)
    for given in (args.base, args.new):
        if given.is_file():  # `build/dev/resources.json` for `build/dev`: "no resources.json in it" misled
            print(f"{given} is a file, not a plan's folder: give the folder `make plan` wrote ({given.parent})",
                  file=sys.stderr)
            return 2
    if not (args.new / "resources.json").exists():
        print(f"no plan at {args.new} (run make plan first; a what-if run that fails writes none)", file=sys.stderr)
        return 2
    base_plan = (args.base / "resources.json").exists()
    if args.new_stack and base_plan:
        print(f"--new-stack, but {args.base} holds a plan: the base branch has this stack (drop --new-stack)",
              file=sys.stderr)
        return 2
    if not args.new_stack and not base_plan:
        missing = "the folder does not exist" if not args.base.exists() else "no resources.json in it"
        # the README's what-if compares build/<stack> with build/<stack>.what-if: BASE is then the stack's own plan
        stack = "<stack>" if stack_name_problem(args.base.name) else args.base.name  # not `..` of `build/..`
        print(f"no plan at {args.base} ({missing}), the plan to compare with: run `make plan STACK={stack}` first "
              "(for a what-if, the stack's own plan; in a pull request's check, on the base branch; a plan that "
              "fails leaves no folder); for a stack the base branch does not have, pass --new-stack",
              file=sys.stderr)
        return 2
    if args.allow_file and not args.allow_file.exists():
        print(f"note: --allow-file {args.allow_file} does not exist, so nothing is allowed", file=sys.stderr)
    try:
        allow_entries = read_allow_file(args.allow_file)
    except (OSError, UnicodeDecodeError) as error:
        print(f"cannot read --allow-file {args.allow_file}: {getattr(error, 'strerror', None) or error} (a text "
              "file of URNs, one a line)", file=sys.stderr)
        return 2
    try:
        old_res, new_res = {} if args.new_stack else read_resources(args.base), read_resources(args.new)
        for folder, doc in ((args.new, new_res), *(() if args.new_stack else ((args.base, old_res),))):
            if not doc:  # make plan always registers the stack's resources; an empty list would read as all added
                print(f"{folder / 'resources.json'} lists no resources: not a plan make plan writes (it holds at "
                      "least the stack's components); plan the stack again" + ("" if folder == args.new else
                      ", or pass --new-stack for a stack the base branch does not have"), file=sys.stderr)
                return 2
        old_stacks, new_stacks = stacks_of(old_res), stacks_of(new_res)
        if old_stacks and new_stacks and old_stacks != new_stacks:
            print(f"{args.base} is a plan of {', '.join(old_stacks)} and {args.new} of {', '.join(new_stacks)}: "
                  "plan_diff compares two plans of one stack (the base branch's and this change's, or a stack's "
                  "and its what-if in build/<stack>.what-if); across stacks every URN differs, so every resource "
                  "would read as deleted and added", file=sys.stderr)
            return 2
        result = diff_documents(old_res, new_res)
        if any(EARLIER_KIT in line for lines in result["checks"].values() for line in lines):
            # an earlier kit's base: the state's property dependencies from the base checkout's own program
            state, why_not = recover(args.base, old_res, old_stacks[0].split("/", 1)[1])
            if state is not None:
                print(f"note: {args.base} records no property dependencies (an earlier release's kit): read from "
                      "its checkout's program, planned again by its own kit", file=sys.stderr)
                result = diff_documents(state, new_res)
                for urn, line in earlier_state_chain(state, new_res, result).items():
                    result["checks"].setdefault(urn, []).append(line)
            else:
                for lines in result["checks"].values():
                    lines[:] = [f"{line} (the check could not read the state's own: {why_not})"
                                if EARLIER_KIT in line else line for line in lines]
        result["base_found"] = not args.new_stack
        # the CRDs of the ConfigFiles' files (crd-bundles.json), which resources.json does not hold
        bundle_notes = bundle_changes(result, old_res, new_res, None if args.new_stack else read_record(args.base),
                                      read_record(args.new))
        to_offline = {engine: offline for offline, engine in result["engineUrns"].items()}
        allow_list = {to_offline.get(entry, entry) for entry in allow_entries}
        blocked = blocking(result, allow_list, args.allow_stateful)
        allow_name = args.allow_file.name if args.allow_file else ALLOW_FILE
        # a regional stack's outputs the global stack reads, renewed by this change: what it must run next
        follow = [] if args.new_stack else global_stack_lines(result, old_res, new_res, read_outputs(args.base),
                                                              read_outputs(args.new), args.new)
        text = markdown(result, args.title, blocked, allowances(result, allow_list, args.allow_stateful, allow_name),
                        unmatched_allowances(result, allow_list), allow_name, follow)
        head, _, body = text.partition("\n\n")
        print("\n".join([head, "", *cost_lines(args.base, args.new), body]), end="")
        for note in bundle_notes:
            print(note, file=sys.stderr)
        if blocked and not args.allow_file:
            # the report says "list the URN in allow-replace.txt", and the pull request's check reads that file
            # (the workflow passes --allow-file): run without it, a URN just listed there changed nothing
            print(f"note: no --allow-file given, so `{ALLOW_FILE}` was not read; the pull request's check passes "
                  f"`--allow-file {ALLOW_FILE}`: add it to this command to see what the file allows", file=sys.stderr)
    except PlanError as error:
        print(f"cannot read a plan: {error}", file=sys.stderr)
        return 2
    except PLAN_SHAPE_ERRORS as error:
        # a plan file of a shape the checks above let through: an error of the check, never a "blocked" (exit 1)
        print(f"cannot diff {args.base} and {args.new}: {type(error).__name__}: {str(error)[:200]} (are both "
              "written by make plan?)", file=sys.stderr)
        return 2
    return 1 if blocked else 0
