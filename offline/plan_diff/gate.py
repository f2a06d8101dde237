"""The gate: which replacements and deletions need an explicit allowance, and what allowed them."""
import re
from pathlib import Path
from typing import Any, Optional

from .rules import NEW_VALUE, STATEFUL
from .urns import short_urn


ALLOW_FILE = "allow-replace.txt"


ALLOW_LABEL = "allow-stateful-replace"


def read_allow_file(path: Optional[Path]) -> set[str]:
    """The URNs a pull request allows to be replaced or deleted; none when the file does not exist (a repository
    without one, as the workflow passes the conventional name whether or not it exists)."""
    if not path or not path.exists():
        return set()
    return {line.split("#", 1)[0].strip() for line in path.read_text().splitlines()} - {""}


REFUSED = "refused in place: "
# a replacement the check refuses (a pool whose drain stalls, a name the old resource still holds): not in place, its
# Replace line says what replaces it
REFUSED_REPLACEMENT = "refused: "


def stateful(result: dict[str, Any], urn: str) -> Optional[str]:
    """What a replacement or deletion of the resource loses, if it is stateful: a stateful type (STATEFUL), a
    generated value replaced or renamed (NEW_VALUE), or a namespace or Helm release that takes volume claims with it
    (the diff's `claims`, offline/plan_diff/claims.py)."""
    type_ = result["types"][urn]
    if type_ in NEW_VALUE and (urn in result["replaced"] or urn in (result.get("renamed") or {})):
        return NEW_VALUE[type_]
    return STATEFUL.get(type_) or (result.get("claims") or {}).get(urn)


def blocking(result: dict[str, Any], allowed: set[str], allow_stateful: bool) -> list[tuple[str, str]]:
    """(urn, why) for every change the check refuses: a stateful resource replaced or deleted (a namespace or Helm
    release taking volume claims with it too), an in-place change the cloud refuses; minus what the pull request
    allows."""
    out = []
    for urn in sorted(set(result["replaced"]) | set(result["removed"])):
        what = stateful(result, urn)
        if what and not allow_stateful and urn not in allowed:
            if urn in result["replaced"]:  # the cause on the line that blocks, not only among the Replace lines below
                reasons = result["replaced"][urn]
                out.append((urn, f"replaced: {what}; why: {'; '.join(reasons[:3])}"
                                 f"{'; ...' if len(reasons) > 3 else ''}"
                                 + "".join(f"; {n}" for n in result["notes"].get(urn, []))))
            elif result["types"][urn] in NEW_VALUE and urn in (result.get("renamed") or {}):  # a new value
                out.append((urn, f"replaced by `{short_urn(result['renamed'][urn])}` with a new value: {what}"))
            else:
                out.append((urn, f"deleted: {what}"))
    for urn, reasons in result["refused"].items():
        if urn not in allowed:
            out.append((urn, (REFUSED_REPLACEMENT if urn in result["replaced"] else REFUSED) + "; ".join(reasons)))
    return out


def allowances(result: dict[str, Any], allowed: set[str], allow_stateful: bool,
               allow_file: str = ALLOW_FILE) -> dict[str, str]:
    """urn -> what allowed it, for every change the check would refuse but the pull request allows: the reviewer
    still reads that the database goes."""
    out = {}
    for urn in sorted(set(result["replaced"]) | set(result["removed"])):
        if stateful(result, urn):
            if urn in allowed:
                out[urn] = f"`{allow_file}`"
            elif allow_stateful:
                out[urn] = f"the `{ALLOW_LABEL}` label (`--allow-stateful`)"
    for urn in result["refused"]:
        if urn in allowed:
            out[urn] = f"`{allow_file}`"
    return out


def unmatched_allowances(result: dict[str, Any], allowed: set[str]) -> list[str]:
    """Allow-file entries of this diff's stack (or no URN at all) that allow nothing in it: a mistyped URN, or a line
    left after its change merged. An entry of another stack is that stack's diff's business (one file serves all)."""
    stacks = {_urn_stack(u) for u in result["types"]}
    needed = {u for u in set(result["replaced"]) | set(result["removed"]) if stateful(result, u)}
    return sorted(u for u in allowed - needed - set(result["refused"])
                  if _urn_stack(u) is None or _urn_stack(u) in stacks)


def _urn_stack(urn: str) -> Optional[str]:
    """The stack of `urn:pulumi:<stack>::<project>::<type>::<name>`, or None for anything else."""
    match = re.fullmatch(r"urn:pulumi:([^:]+)::[^:]+::.+::.+", urn)
    return match.group(1) if match else None
