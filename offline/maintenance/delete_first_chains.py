"""What each delete-first replacement drags along, by the pull-request check's own model of the engine's chain.

    python -m offline.maintenance.delete_first_chains build/dev build/prod ...    # plan folders (make plan)
    python -m offline.maintenance.delete_first_chains --json out.json build/prod

For every custom resource of a plan that Pulumi replaces deleting it first (an Azure resource whose name is given,
a Kubernetes object with a fixed `metadata.name`: `compare._delete_first`), it makes that resource alone replaced in
a copy of the plan and asks `plan_diff.diff_documents` what else is replaced, with the check's reason for each. The
root is replaced by a change of one of its own force-new inputs (the check's `replace_rules`, never its name or
namespace, which would make another object), or, for a resource without one in its inputs (a ServiceAccount, a
Role), by a changed `replacementTrigger` with `deleteBeforeReplace`: the engine's chain is the same whatever replaces
the root (pulumi/pulumi 1b5949891b pkg/resource/deploy/step_generator.go: `calculateDependentReplacements` runs for
every replacement that deletes first, from the dependents' property dependencies in the state).

A dependent listed here is one a real edit that replaces its root replaces too. Whether it must be (its value changes
with the root: a claim bound to a replaced volume, an object in a replaced namespace) or only carries the root for
its write order is the reader's call: docs/decisions.md "2026-12-05 (night): delete-first chains rescanned" holds
the last reading. Kept as a tool because every new component or handle field can add such a chain.
"""
from __future__ import annotations

import argparse
import copy
import json
import re
import sys
from pathlib import Path
from typing import Any, Optional

from offline.plan_diff.compare import _delete_first, diff_documents
from offline.plan_diff.documents import PLAN_SHAPE_ERRORS, PlanError, read_resources
from offline.plan_diff.claims import HELM_RELEASE
from offline.plan_diff.leaves import leaf_keys
from offline.plan_diff.rules import kube_kind, providers_of, replace_rules, rules, under


def roots(doc: dict[str, dict[str, Any]]) -> list[str]:
    """The resources Pulumi deletes first when it replaces them: named, custom, no provider."""
    return sorted(u for u, r in doc.items() if r.get("custom", True) and not r["type"].startswith("pulumi:providers:")
                  and r["type"] != HELM_RELEASE and _delete_first(r, r))


def _own_name(resource: dict[str, Any]) -> list[str]:
    """The paths naming the object itself: changing one makes another object (created first), not a replacement."""
    azure = rules()["azureNative"]["types"].get(resource["type"])
    if azure:
        return list(azure["path"])
    return ["metadata.name", "metadata.namespace"] if kube_kind(resource["type"]) else []


def _changed(value: Any) -> Any:
    if isinstance(value, bool):
        return not value
    if isinstance(value, (int, float)):
        return value + 1
    return f"{value}-rescan"


def replaced_alone(doc: dict[str, dict[str, Any]], urn: str) -> tuple[dict[str, dict[str, Any]],
                                                                     dict[str, dict[str, Any]], str]:
    """(base, new, how): copies of `doc` where `urn` alone is replaced, and what replaces it."""
    providers = providers_of(doc)
    resource = doc[urn]
    own = _own_name(resource)
    for key, rule in replace_rules(resource, providers):
        if any(under(key, o) or under(o, key) for o in own):
            continue
        leaves = [(p, k, v) for p, k, v in leaf_keys(resource["inputs"]) if under(p, key)
                  and isinstance(v, (str, bool, int, float)) and not (isinstance(v, str) and v.startswith("["))]
        if leaves:
            path, keys, value = leaves[0]
            changed = copy.deepcopy(resource)
            node = changed["inputs"]
            for k in keys[:-1]:
                node = node[k]
            node[keys[-1]] = _changed(value)
            return doc, {**doc, urn: changed}, f"`{path}` ({rule})"
    before, after = copy.deepcopy(resource), copy.deepcopy(resource)
    before["options"] = {**before["options"], "replacementTrigger": "rescan-0"}
    after["options"] = {**after["options"], "replacementTrigger": "rescan-1", "deleteBeforeReplace": True}
    return {**doc, urn: before}, {**doc, urn: after}, "replacementTrigger with deleteBeforeReplace"


def chain(doc: dict[str, dict[str, Any]], urn: str) -> Optional[dict[str, Any]]:
    """What replacing `urn` alone, deleting it first, replaces besides it; None when the check does not find the
    root itself deleted first (then the scan has nothing to say about it)."""
    base, new, how = replaced_alone(doc, urn)
    result = diff_documents(base, new)
    if urn not in result["deleteBeforeReplace"]:
        return None
    first = set(result["deleteBeforeReplace"])
    return {"root": urn, "how": how,
            "dragged": {u: {"why": why, "deletedFirst": u in first}
                        for u, why in sorted(result["replaced"].items()) if u != urn}}


def scan(doc: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    return [found for urn in roots(doc) if (found := chain(doc, urn)) is not None]


def _line(urn: str, doc: dict[str, dict[str, Any]]) -> str:
    """`<type's last part> <resource name>`, short enough for a line per dependent."""
    type_ = doc[urn]["type"] if urn in doc else urn.split("::")[-2]
    return f"{type_.split(':')[-1]} {urn.split('::')[-1]}"


def _reason(why: str) -> str:
    """The check's reason with each URN cut to its resource name: a whole URN, a short one under a parent
    (`<parent type>$<type>::<name>`) and a short one of a resource without a parent (`<type>::<name>`, as the
    check names the platform's resource group)."""
    return re.sub(r"`[^`]*::([^`:]+)`", lambda m: f"`{m.group(1)}`", why)


def _plan(folder: Path) -> tuple[dict[str, dict[str, Any]], Optional[str]]:
    """(the plan's resources, None), or ({}, what is wrong with `folder`, named as given)."""
    if folder.is_file():  # build/dev/resources.json for build/dev: "no resources.json" misled
        return {}, f"{folder} is a file, not a plan's folder: give the folder make plan wrote ({folder.parent})"
    if not folder.is_dir():
        return {}, f"{folder}: the folder does not exist (make plan STACK=<stack> writes build/<stack>)"
    try:
        doc = read_resources(folder)
    except PlanError as error:  # it names the file
        return {}, str(error)
    if not (folder / "resources.json").exists():
        return {}, f"{folder}: no resources.json in it (make plan writes one)"
    if not doc:
        return {}, (f"{folder / 'resources.json'} lists no resources: not a plan make plan writes (it holds at least "
                    "the stack's components)")
    return doc, None


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m offline.maintenance.delete_first_chains",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("plans", nargs="+", type=Path, help="plan folders (make plan's build/<stack>)")
    parser.add_argument("--json", type=Path, help="also write every chain, with its reasons, to this file")
    parser.add_argument("--all", action="store_true", help="list roots that drag nothing along too")
    args = parser.parse_args(argv)
    out: dict[str, list[dict[str, Any]]] = {}
    for folder in args.plans:
        doc, problem = _plan(folder)
        if problem:
            print(problem, file=sys.stderr)
            return 2
        try:
            found = out[str(folder)] = scan(doc)
        except PLAN_SHAPE_ERRORS as error:
            # a plan file of a shape read_resources lets through (as plan_diff's command line says it)
            print(f"cannot scan {folder}: {type(error).__name__}: {str(error)[:200]} (is it written by make plan?)",
                  file=sys.stderr)
            return 2
        print(f"## {folder}: {len(roots(doc))} delete-first roots, {sum(bool(f['dragged']) for f in found)} drag "
              "others along")
        for item in found:
            if not item["dragged"] and not args.all:
                continue
            print(f"- {_line(item['root'], doc)} (by {item['how']})")
            for urn, what in item["dragged"].items():
                first = "deleted first" if what["deletedFirst"] else "created first"
                print(f"    - {_line(urn, doc)} [{first}]: {_reason(what['why'][0])}")
    if args.json:
        try:
            args.json.write_text(json.dumps(out, indent=1, sort_keys=True) + "\n")
        except OSError as error:
            print(f"{args.json}: cannot be written ({error.strerror or error})", file=sys.stderr)
            return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
