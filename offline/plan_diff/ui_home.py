"""The UI's home region of a global stack: which region's Open-WebUI every browser reaches.

GlobalEndpoint ranks the origins of its `ui` origin group (llmplatform.front_door `ui_priorities`): priority 1 is the
home region, the others stand by. Each region's Open-WebUI has its own accounts, chats and session key, so a change
that gives another origin priority 1 (a new `global.uiHomeRegion`; unset, `global.regions` reordered, or its first
region taken out or put before) moves every browser to another region's UI, signed out there, as a failover does. In
the diff that is only an update of two origins' `priority`, the same in-place update a standby's reordering makes:
this says which it is. A home origin under another name with the same host is the same region's gateway (a regional
stack renamed): no browser moves, and nothing is said.
"""
from typing import Any, Optional

from pulumi.runtime.rpc import UNKNOWN

ORIGIN, GROUP = "azure-native:cdn:AFDOrigin", "azure-native:cdn:AFDOriginGroup"
UI_GROUP = "ui"  # the origin group GlobalEndpoint names after the service (llmplatform.front_door SERVICES)
DOC = "docs/components/global-endpoint-and-fleet.md, \"The browser's path\""


def _profile(inputs: dict[str, Any]) -> tuple[Any, Any]:
    return inputs.get("resourceGroupName"), inputs.get("profileName")


def _homes(res: dict[str, dict[str, Any]]) -> dict[tuple[Any, Any], tuple[str, Optional[str], Any]]:
    """Per Front Door profile with a `ui` origin group: the group's URN, its home origin's name (None when no one
    enabled origin has the lowest priority alone) and that origin's host (the region's gateway)."""
    groups = {_profile(r["inputs"]): urn for urn, r in res.items()
              if r["type"] == GROUP and r["inputs"].get("originGroupName") == UI_GROUP}
    ranks: dict[tuple[Any, Any], list[tuple[int, str, Any]]] = {}
    for r in res.values():
        inputs = r["inputs"]
        if r["type"] != ORIGIN or inputs.get("originGroupName") != UI_GROUP or inputs.get("enabledState") == "Disabled":
            continue
        priority, name = inputs.get("priority", 1), inputs.get("originName")
        if isinstance(priority, int) and isinstance(name, str):
            ranks.setdefault(_profile(inputs), []).append((priority, name, inputs.get("hostName")))
    homes: dict[tuple[Any, Any], tuple[str, Optional[str], Any]] = {}
    for key, urn in groups.items():
        ranked = sorted(ranks.get(key, []), key=lambda rank: rank[:2])
        alone = ranked and (len(ranked) == 1 or ranked[0][0] < ranked[1][0])
        homes[key] = (urn, ranked[0][1], ranked[0][2]) if alone else (urn, None, None)
    return homes


def ui_home_moves(old_res: dict[str, dict[str, Any]], new_res: dict[str, dict[str, Any]]) -> dict[str, str]:
    """A check line on the `ui` origin group of each profile whose home region changes."""
    old_homes, found = _homes(old_res), {}
    for key, (urn, home, host) in _homes(new_res).items():
        _, before, before_host = old_homes.get(key, (None, None, None))
        if before is None or home is None or before == home:
            continue
        if isinstance(host, str) and host not in ("", UNKNOWN) and host == before_host:
            # another name for the same gateway (a regional stack renamed, its gateway.tls.hostname kept: config
            # refuses two regions of one name), so the same Open-WebUI: no browser moves
            continue
        kept = any(r["type"] == ORIGIN and _profile(r["inputs"]) == key and r["inputs"].get("originGroupName")
                   == UI_GROUP and r["inputs"].get("originName") == before for r in new_res.values())
        moved = (f"the UI's home region moves from `{before}` to `{home}` (the `ui` origin of priority 1): "
                 f"{'every new' if kept else 'every'} browser goes to `{home}`'s Open-WebUI, which has its own "
                 "accounts, chats and session key, so its users are signed out and meet that region's accounts, as "
                 "in a failover")
        found[urn] = moved + (
            f"; a browser already on `{before}`, which stands by from now on, follows when its browser session "
            f"ends. Intended only if the UI's users are to move; otherwise keep the home with "
            f"`global.uiHomeRegion` ({DOC})" if kept else
            f", once the change reaches Front Door's edge: `{before}` leaves the `ui` origin group, and the accounts "
            f"and chats in its database go with its stack. Give the users an account in `{home}` first (Entra ID "
            f"sign-up, or the admin), or name the home you mean with `global.uiHomeRegion` ({DOC})")
    return found
