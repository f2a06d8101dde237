"""What a change does to the plan: `python -m tools.plan_diff BASE_DIR NEW_DIR` compares two `build/<stack>/` folders
(resources.json and cost.json) and prints Markdown for a pull-request comment: the monthly cost before and after
(idle and peak, per component that changed), and the resources added, removed and changed (with the input keys that
changed). A base that does not exist (a new stack) shows every resource as added."""
import argparse
import json
import sys
from pathlib import Path
from typing import Any, Optional


def _resources(folder: Path) -> dict[str, dict[str, Any]]:
    path = folder / "resources.json"
    if not path.exists():
        return {}
    return {r["urn"]: r for r in json.loads(path.read_text())["resources"]}


def _changed_keys(old: Any, new: Any, path: str = "") -> list[str]:
    if isinstance(old, dict) and isinstance(new, dict):
        keys: list[str] = []
        for key in sorted(set(old) | set(new)):
            keys += _changed_keys(old.get(key), new.get(key), f"{path}.{key}" if path else key)
        return keys
    return [] if old == new else [path or "."]


def diff(base: Path, new: Path) -> dict[str, Any]:
    old_res, new_res = _resources(base), _resources(new)
    changed = {}
    for urn in sorted(set(old_res) & set(new_res)):
        keys = _changed_keys(old_res[urn]["inputs"], new_res[urn]["inputs"])
        if old_res[urn]["options"].get("protect") != new_res[urn]["options"].get("protect"):
            keys.append("(protect)")
        if keys:
            changed[urn] = keys
    return {"added": sorted(set(new_res) - set(old_res)), "removed": sorted(set(old_res) - set(new_res)),
            "changed": changed, "base_found": bool(old_res)}


def _cost(folder: Path) -> dict[str, Any]:
    path = folder / "cost.json"
    doc = json.loads(path.read_text()) if path.exists() else {}
    return doc if "idleMonthly" in doc else {}


def cost_lines(base: Path, new: Path) -> list[str]:
    old, now = _cost(base), _cost(new)
    if not now:
        return []
    if not old:
        return [f"Monthly cost: idle ${now['idleMonthly']:,.2f}, peak ${now['peakMonthly']:,.2f} "
                "(no base estimate)", ""]
    lines = [f"Monthly cost: idle ${old['idleMonthly']:,.2f} -> ${now['idleMonthly']:,.2f} "
             f"({now['idleMonthly'] - old['idleMonthly']:+,.2f}), peak ${old['peakMonthly']:,.2f} -> "
             f"${now['peakMonthly']:,.2f} ({now['peakMonthly'] - old['peakMonthly']:+,.2f})"]
    before, after = old.get("byComponent", {}), now.get("byComponent", {})
    for component in sorted(set(before) | set(after)):
        a, b = before.get(component, {"idle": 0, "peak": 0}), after.get(component, {"idle": 0, "peak": 0})
        if a != b:
            lines.append(f"- {component}: idle {b['idle'] - a['idle']:+,.2f}, peak {b['peak'] - a['peak']:+,.2f}")
    return lines + [""]


def _short(urn: str) -> str:
    return "::".join(urn.split("::")[-2:])


def markdown(result: dict[str, Any], title: str) -> str:
    lines = [f"### {title}", ""]
    if not result["base_found"]:
        lines.append("_No plan of the base branch (a new stack?): every resource is new._")
    counts = f"{len(result['added'])} to add, {len(result['changed'])} to change, {len(result['removed'])} to delete"
    lines += [f"**{counts}**", ""]
    for label, urns in (("Add", result["added"]), ("Delete", result["removed"])):
        lines += [f"- {label}: `{_short(u)}`" for u in urns]
    lines += [f"- Change: `{_short(u)}` ({', '.join(keys[:6])}{', ...' if len(keys) > 6 else ''})"
              for u, keys in result["changed"].items()]
    return "\n".join(lines) + "\n"


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.plan_diff", description=__doc__.splitlines()[0])
    parser.add_argument("base", type=Path, help="build/<stack> of the base branch")
    parser.add_argument("new", type=Path, help="build/<stack> of this change")
    parser.add_argument("--title", default="Offline plan diff")
    args = parser.parse_args(argv)
    if not (args.new / "resources.json").exists():
        print(f"no plan at {args.new} (run make plan first)", file=sys.stderr)
        return 2
    try:
        text = markdown(diff(args.base, args.new), args.title)
        head, _, body = text.partition("\n\n")
        print("\n".join([head, "", *cost_lines(args.base, args.new), body]), end="")
    except (ValueError, KeyError, TypeError) as error:
        print(f"cannot read a plan: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
