"""The pull-request comment: the monthly cost before and after, and the Markdown of the diff."""
from pathlib import Path
from typing import Any, Optional

from .documents import PlanError, read_json
from .urns import short_urn
from .rules import ignored_hints
from .gate import ALLOW_FILE, ALLOW_LABEL, REFUSED, REFUSED_REPLACEMENT, stateful


def _cost(folder: Path) -> dict[str, Any]:
    path = folder / "cost.json"
    doc = read_json(path) if path.exists() else {}
    if not isinstance(doc, dict) or "idleMonthly" not in doc:
        return {}
    figures = [doc.get("idleMonthly"), doc.get("peakMonthly"),
               *(part.get(k) if isinstance(part, dict) else None
                 for part in (doc.get("byComponent") or {}).values() for k in ("idle", "peak"))]
    texts = [doc.get("unpriced") or [], doc.get("capacityNotes") or []]
    if not all(isinstance(f, (int, float)) and not isinstance(f, bool) for f in figures) or not isinstance(
            doc.get("byComponent") or {}, dict) or not all(
            isinstance(t, list) and all(isinstance(u, str) for u in t) for t in texts):
        raise PlanError(f"{path}: not a cost estimate as make plan writes it (idleMonthly, peakMonthly and each "
                        "byComponent entry's idle and peak are numbers, unpriced and capacityNotes lists of texts)")
    return doc


def _capacity_lines(old: dict[str, Any], now: dict[str, Any]) -> list[str]:
    """The capacity notes that differ: GPU nodes kept up by always-on pods are left out of the idle figure (GPU pools
    count at their minimum, docs/cost.md), so a change that keeps one more A100 up (llm-d enabled, more replicas on
    the GPU) shows +0.00 in the totals; the note says what it keeps up."""
    before, after = old.get("capacityNotes") or [], now.get("capacityNotes") or []
    was, kept = old.get("alwaysOnGpuMonthly"), now.get("alwaysOnGpuMonthly")  # absent from a base older than it
    delta = [f"- GPU nodes always-on pods keep up (left out of idle): ${was:,.2f} -> ${kept:,.2f} a month "
             f"({kept - was:+,.2f})"] if isinstance(was, (int, float)) and isinstance(kept, (int, float)) and \
        was != kept else []
    return delta + [f"- capacity, base: {n}" for n in before if n not in after] + \
        [f"- capacity, head: {n}" for n in after if n not in before]


MOST_ITEMS = 4  # a component's priced items named on its line, the largest changes first


def _item_changes(old: dict[str, Any], now: dict[str, Any]) -> dict[str, str]:
    """Per component, the priced items (cost.json `lines`) whose figures the change moves: a GPU size moves
    AksCluster's line too (Defender for Containers is billed per node vCore), which the component's total alone left
    a reviewer to guess. Empty where either side has no valid `lines` (a base older than them)."""
    def by_item(doc: dict[str, Any]) -> Optional[dict[tuple[str, str, str], tuple[float, float]]]:
        found: dict[tuple[str, str, str], tuple[float, float]] = {}
        lines = doc.get("lines")
        if not isinstance(lines, list):  # absent, or not what make plan writes (a number failed the whole diff)
            return None
        for line in lines:
            if not isinstance(line, dict) or not all(isinstance(line.get(k), str) for k in ("component", "item")) \
                    or not all(isinstance(line.get(k), (int, float)) and not isinstance(line.get(k), bool)
                               for k in ("idle", "peak")):
                return None
            key = (line["component"], str(line.get("resource", "")), line["item"])
            idle, peak = found.get(key, (0.0, 0.0))
            found[key] = (idle + line["idle"], peak + line["peak"])
        return found
    was, is_ = by_item(old), by_item(now)
    if not was or not is_:
        return {}
    moved: dict[str, list[tuple[float, str]]] = {}
    for key in sorted(set(was) | set(is_)):
        (a_idle, a_peak), (b_idle, b_peak) = was.get(key, (0.0, 0.0)), is_.get(key, (0.0, 0.0))
        idle, peak = round(b_idle - a_idle, 2), round(b_peak - a_peak, 2)
        if idle or peak:
            figures = ", ".join(f"{name} {value:+,.2f}" for name, value in (("idle", idle), ("peak", peak)) if value)
            moved.setdefault(key[0], []).append((max(abs(idle), abs(peak)), f"{key[2]}: {figures}"))
    out = {}
    for component, changes in moved.items():
        changes.sort(key=lambda c: -c[0])
        more = len(changes) - MOST_ITEMS
        out[component] = "; ".join(text for _, text in changes[:MOST_ITEMS]) + (f"; {more} more" if more > 0 else "")
    return out


def _no_estimate(folder: Path) -> Optional[str]:
    """Why a plan has no estimate: make plan writes cost.json as `{"error": ...}` then (a region without a price
    file), or None."""
    path = folder / "cost.json"
    doc = read_json(path) if path.exists() else {}
    error = doc.get("error") if isinstance(doc, dict) else None
    return error if isinstance(error, str) and error else None


def cost_lines(base: Path, new: Path) -> list[str]:
    old, now = _cost(base), _cost(new)
    missing = _no_estimate(new)
    if missing:  # said, not left out: a reviewer read no cost line as no cost change (a stranger's northeurope stack)
        return [f"Monthly cost: no estimate for this change's plan ({missing})", ""]
    if not now:
        return []
    if not old:
        return [f"Monthly cost: idle ${now['idleMonthly']:,.2f}, peak ${now['peakMonthly']:,.2f} "
                "(no base estimate)", ""]
    in_base, in_head = set(old.get("unpriced") or []), set(now.get("unpriced") or [])
    unpriced = sorted(in_base | in_head)
    if in_base != in_head:
        # one side leaves out what the other prices (a VM size with no price, say): a larger VM read as a saving
        side = {m: "base and head" if m in in_base and m in in_head else "base" if m in in_base else "head"
                for m in unpriced}
        return [f"Monthly cost: idle ${old['idleMonthly']:,.2f} -> ${now['idleMonthly']:,.2f}, peak "
                f"${old['peakMonthly']:,.2f} -> ${now['peakMonthly']:,.2f}: not comparable, no difference shown "
                "(what one side leaves out unpriced is below)"] + \
            [f"- not priced in the {side[m]}, so left out of its figures: {m}" for m in unpriced] + [""]
    lines = [f"Monthly cost: idle ${old['idleMonthly']:,.2f} -> ${now['idleMonthly']:,.2f} "
             f"({now['idleMonthly'] - old['idleMonthly']:+,.2f}), peak ${old['peakMonthly']:,.2f} -> "
             f"${now['peakMonthly']:,.2f} ({now['peakMonthly'] - old['peakMonthly']:+,.2f})"]
    before, after = old.get("byComponent", {}), now.get("byComponent", {})
    items = _item_changes(old, now)
    for component in sorted(set(before) | set(after)):
        a, b = before.get(component, {"idle": 0, "peak": 0}), after.get(component, {"idle": 0, "peak": 0})
        if a != b:
            lines.append(f"- {component}: idle {b['idle'] - a['idle']:+,.2f}, peak {b['peak'] - a['peak']:+,.2f}"
                         + (f" ({items[component]})" if component in items else ""))
    # another region's prices standing in (a price file with `_pricesOf`): said, as make plan's header says it, so a
    # reviewer does not take West Europe's figures for the stack's region (a stranger's northeurope stack)
    stand_in = [f"- prices: {now['prices']}"] if now.get("pricesOf") not in (None, now.get("region")) and \
        isinstance(now.get("prices"), str) else []
    return lines + _capacity_lines(old, now) + [f"- not priced, so left out of the figures: {m}" for m in unpriced] \
        + stand_in + [""]


# what allowing a change refused in place does (docs/guardrails.md, "Change safety"): the heading said only "list
# the URN", the one act that does not make the change
REFUSED_IN_PLACE_ALLOWED = ("; a change refused in place is refused (or not carried out) by Azure or the API server "
                            "whatever the file says: allowing it only lets the pull request through, so make the "
                            "change the way its line says (often a new name) or drop it, and allow it only once that "
                            "remedy is done")


def markdown(result: dict[str, Any], title: str, blocked: Optional[list[tuple[str, str]]] = None,
             allowed: Optional[dict[str, str]] = None, unmatched: Optional[list[str]] = None,
             allow_file: str = ALLOW_FILE, follow: Optional[list[str]] = None) -> str:
    """The comment; `follow`: the lines that say what the global stack must run after this one
    (global_reads.global_stack_lines), told after what blocks."""
    lines = [f"### {title}", ""]
    allowed = allowed or {}
    engine = result.get("engineUrns", {})

    def full(urn: str) -> str:  # the engine's URN, as Pulumi's own commands take it
        return engine.get(urn, urn)

    def _short_(urn: str) -> str:
        return short_urn(full(urn))
    if not result["base_found"]:
        lines.append("_A new stack (the base branch has no such stack file): every resource is new._")
    updated = [u for u in result["changed"] if u not in result["replaced"]]
    counts = (f"{len(result['added'])} to add, {len(updated)} to update, {len(result['replaced'])} to replace, "
              f"{len(result['removed'])} to delete")
    lines += [f"**{counts}**", ""]
    if blocked:
        # the label covers only these
        any_stateful = any(not why.startswith((REFUSED, REFUSED_REPLACEMENT)) for _, why in blocked)
        any_refused = any(why.startswith(REFUSED) for _, why in blocked)
        lines += [f"**Blocked: {len(blocked)} change(s) need an explicit allowance** (list the URN in "
                  f"`{ALLOW_FILE}`" + (f", or label the pull request `{ALLOW_LABEL}` for stateful replacements"
                                       if any_stateful else "") + (REFUSED_IN_PLACE_ALLOWED if any_refused else "")
                  + "; see docs/guardrails.md, \"Change safety\"):", ""]
        lines += [f"- :x: `{_short_(u)}` {why}  \n  `{full(u)}`" for u, why in blocked] + [""]
    if unmatched:
        lines += [f"**{len(unmatched)} `{allow_file}` entr{'y allows' if len(unmatched) == 1 else 'ies allow'} nothing "
                  "in this diff** (a mistyped URN, or a line left after its change merged: remove it):", ""]
        lines += [f"- :warning: `{full(u)}`" for u in unmatched] + [""]
    lines += follow or []
    start = len(lines)  # the list of changes, resource by resource

    def mark(urn: str) -> str:
        if urn not in allowed:
            return ""
        what = stateful(result, urn)
        return f" :warning: **allowed** by {allowed[urn]}" + (f" ({what})" if what else "")
    def hidden(urn: str) -> str:  # what the reviewer's `pulumi preview` leaves out (hideDiffs: display only)
        paths = (result.get("hidden") or {}).get(urn)
        return f"; `pulumi preview` hides {', '.join(f'`{p}`' for p in paths[:4])} (its hideDiffs)" if paths else ""
    shown = {u for u, _ in blocked or []}  # a blocked refusal is told in full above, once
    refused = result["refused"]

    def refusal(urn: str) -> str:
        return "blocked above" if urn in shown else '; '.join(refused[urn])
    for urn, reasons in result["replaced"].items():
        first = "" if urn not in result["deleteBeforeReplace"] else \
            " (deleted first, then run again)" if result["types"][urn] == "kubernetes:batch/v1:Job" else \
            " (deleted first, then created: a gap)"  # a Job runs to its end: no service waits on it meanwhile
        lines.append(f"- Replace: `{_short_(urn)}`{mark(urn)}{first}: {'; '.join(reasons[:4])}"
                     f"{'; ...' if len(reasons) > 4 else ''}" + "".join(f"; {n}" for n in result["notes"].get(urn, []))
                     + hidden(urn) + (f"; refused: {refusal(urn)}" if urn in refused else ""))
    for urn in result["removed"]:
        lines.append(f"- Delete: `{_short_(urn)}`{mark(urn)}" + "".join(f": {n}" for n in result["notes"].get(urn, [])))
    lines += [f"- Add: `{_short_(u)}`" for u in result["added"]]
    if result.get("moved"):
        lines.append(f"- Moved through aliases (same resources, new URNs): {len(result['moved'])}")
    # a refused update is told on its Update line (once more in full under Blocked when it blocks), and what a new
    # pod template does to a workload's pods (rollouts.py)
    rollouts = result.get("rollouts") or {}
    lines += [f"- Update: `{_short_(u)}` ({', '.join(result['changed'][u][:6])}"
              f"{', ...' if len(result['changed'][u]) > 6 else ''})" + (f"; {rollouts[u]}" if u in rollouts else "")
              + (f"; refused in place{mark(u)}: {refusal(u)}" if u in refused else "") + hidden(u) for u in updated]
    # a refused replacement is told on its Replace line
    lines += [f"- Refused in place: `{_short_(u)}`{mark(u)}: {refusal(u)}" for u in refused
              if u not in updated and u not in result["replaced"]]
    lines += [f"- Check before merging: `{_short_(u)}`: {'; '.join(c)}" for u, c in result.get("checks", {}).items()]
    lines += [f"- Ignored (its `ignoreChanges`: `pulumi up` keeps the deployed value): `{_short_(u)}` ({', '.join(p)})"
              + "".join(f"; {hint}" for hint in ignored_hints(p)) for u, p in result.get("ignored", {}).items()]
    # quantities spelled anew, which pulumi-kubernetes' Diff compares as the API server stores them (normalised.py)
    # (no restart to tell where they are all its changes; one with an Update line says what that update does)
    lines += [f"- Spelled anew, stored as before (pulumi-kubernetes' Diff compares a quantity in the API server's "
              f"form: no update for these, nothing sent{'' if u in result['changed'] else ', no pod restarts'}): "
              f"`{_short_(u)}` ({'; '.join(q)})" for u, q in (result.get("normalised") or {}).items()]
    lines += [f"- Protected (`pulumi up` stops here until `protect` is lifted): `{_short_(u)}`"
              for u in result["protected"]]
    if (follow or blocked or unmatched) and len(lines) > start:
        # a list right after the blocked, unmatched or global stack's list would continue it (CommonMark: a blank line
        # between items makes one loose list), each Replace line read as blocked or as an output the global stack
        # reads: a paragraph ends that list
        lines.insert(start, "**Each change:**")
        lines.insert(start + 1, "")
    return "\n".join(lines) + "\n"
