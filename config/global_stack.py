"""What the global stack reads from each regional stack (StackReference outputs) and hands to GlobalEndpoint and
FleetUpdates. A regional stack whose outputs lack what the edge needs stops the global stack with one message
naming the stack, the output and why it is needed."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

import pulumi

from llmplatform.defaults import DEFAULTS
from llmplatform.gateway import API_LISTENER, PLAIN_PORTS, TLS_PORTS, UI_LISTENER

from . import regions
from .regions import short_name  # origin and fleet member names (checked by parse_global)
from .sections.cluster import MaintenanceWindowConfig  # the window's defaults a regional stack's config takes
from .stack_yaml import esc_environments

if TYPE_CHECKING:  # names only: importing the component package here would load every component
    from llmplatform import FleetMemberSpec, RegionalOrigin

# output -> why the global stack needs it
REQUIRED_OUTPUTS = {
    "gatewayExternalAddress": "Front Door's origin for this region over plain HTTP (gateway.mode external or both)",
    "gatewayHostname": "Front Door's origin for this region over HTTPS: the name its certificate is for "
                       "(gateway.tls.hostname), which Front Door sends as SNI and checks the certificate against",
    "clusterId": "the Fleet Manager member (regional stacks export it when edge.globalStack is set)",
    "location": "the region's Azure location in its `regions` output",
    "keyVaultName": "the Key Vault the edge writes its API key set into (the region's API gate reads it there)",
    "resourceGroupName": "the resource group of that Key Vault",
    "llmdPort": "Front Door's /llmd route (global.llmdRegions lists it): the region's llm-d listener, which it exports "
                "with llmd.enabled and llmd.exposeExternally",
}


def region_output(ref: pulumi.StackReference, region: str, key: str) -> pulumi.Output[Any]:
    def present(value: Any) -> Any:
        if value is None or value == "":
            fix = ("set llmd.enabled and llmd.exposeExternally in that regional stack and bring it up again (offline: "
                   f"in Pulumi.{region}.yaml), or leave it out of global.llmdRegions" if key == "llmdPort"
                   else f"bring the regional stack up again with its gateway.tls set (Pulumi.{region}.yaml has it: "
                        "the deployed stack predates it)" if key == "gatewayHostname"
                   else "bring the regional stack up with edge.globalStack set")
            raise pulumi.RunError(f"regional stack {region} has no output {key!r}, which the global stack needs for "
                                  f"{REQUIRED_OUTPUTS[key]}: {fix}")
        return value
    return ref.get_output(key).apply(present)


def regional_origins(refs: dict[str, pulumi.StackReference], llmd_regions: tuple[str, ...] = (),
                     https: bool = True) -> list[RegionalOrigin]:
    """Each region's external gateway: over HTTPS at its TLS hostname on GatewayAccess's TLS listeners (443, 8443),
    else at its address on the plain ones (80, 8080); its llm-d listener where `llmd_regions` names it (the port the
    region exports, its TLS one with TLS), and the Key Vault its API gates read the edge's key set from."""
    origins: list[RegionalOrigin] = []
    ports = TLS_PORTS if https else PLAIN_PORTS
    for region, ref in refs.items():
        origin: RegionalOrigin = {
            "name": short_name(region),
            "host": region_output(ref, region, "gatewayHostname" if https else "gatewayExternalAddress"),
            "ui_port": ports[UI_LISTENER], "api_port": ports[API_LISTENER]}
        if region in llmd_regions:
            origin["llmd_port"] = region_output(ref, region, "llmdPort")
        origin["key_vault_name"] = region_output(ref, region, "keyVaultName")
        origin["key_vault_resource_group"] = region_output(ref, region, "resourceGroupName")
        origins.append(origin)
    return origins


def upgrades_itself(region: str, project: str, project_dir: Optional[Path] = None) -> bool:
    """The regional stack's file sets `edge.fleet` false: its cluster follows its own `cluster.upgradeChannel`, which
    config lets it keep only then (config/regions.py `edge_cross_checks`), so Fleet Manager must not upgrade it too.
    Read from the stack file as that stack's own config reads it (regions.edge), as global.llmdRegions' check
    reads its keys: a member is a resource the program declares or not, so it cannot wait for a StackReference's
    output. A file that does not read, or leaves the key to an ESC environment, is a member (the default)."""
    files = regions.project_stack_files(regions.PROJECT_DIR if project_dir is None else project_dir)
    return regions.leaves_fleet(regions.region_file(files, region, project))


def fleet_left_to_environments(region_stacks: tuple[str, ...], project: str,
                               project_dir: Optional[Path] = None) -> list[str]:
    """A warning for each region whose stack file imports Pulumi ESC environments and does not set `edge.fleet`
    itself. An environment's `pulumiConfig` merges into the file's own `edge` key by key (pulumi/pulumi 1b5949891b
    pkg/workspace/config.go `mergeConfig`: "Uses JSON merge patch semantics ... Prefers stack values over env
    values"), so its `edge.fleet: false` reaches the region, which then keeps its own `cluster.upgradeChannel`, while
    `upgrades_itself`, reading the file, makes it a member: Fleet's runs and AKS's channel would both upgrade it. The
    file alone cannot tell, so the warning asks for the key in the file (a file that does not read is
    listed_region_problems')."""
    files = regions.project_stack_files(regions.PROJECT_DIR if project_dir is None else project_dir)
    found = []
    for region in region_stacks:
        imports = esc_environments(files[region]) if region in files else []
        raw = regions.region_file(files, region, project) if imports else None
        if raw is None:
            continue
        edge = raw.get("edge")
        if isinstance(edge, dict) and "fleet" in edge:
            continue
        found.append(f"global.regions entry {region!r}: {files[region].name} imports the Pulumi ESC environment(s) "
                     f"{', '.join(imports)} and does not set edge.fleet itself, so the global stack makes it a Fleet "
                     "member and an update stage (the default). An environment's `edge.fleet: false` would reach "
                     "that region all the same (its pulumiConfig merges into the file's `edge` key by key), and the "
                     "region would keep its own cluster.upgradeChannel: Fleet's runs and AKS's channel would both "
                     f"upgrade it. Set it in the file itself: `pulumi config set --path edge.fleet true --stack "
                     f"{region}` (or false, to leave it out of the fleet)")
    return found


def fleet_members(refs: dict[str, pulumi.StackReference], project_dir: Optional[Path] = None) -> list[FleetMemberSpec]:
    """A Fleet member per regional stack, in global.regions' order (Fleet's upgrade order), but for a region whose
    file sets `edge.fleet` false: that one upgrades itself on its own channel, and a member would be upgraded by the
    fleet's runs as well (the fight `edge.fleet` exists to avoid). None at all when every region upgrades itself:
    the global stack then makes no fleet."""
    project = pulumi.get_project()
    return [{"name": short_name(region), "cluster_id": region_output(ref, region, "clusterId")}
            for region, ref in refs.items() if not upgrades_itself(region, project, project_dir)]


_WEEK_MINUTES = 7 * 24 * 60
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _weekly_window(raw: dict[str, Any]) -> Optional[tuple[int, int, str]]:
    """A regional stack file's `cluster.maintenanceWindow` as (start in minutes of the UTC week from Monday 00:00,
    length in minutes, the window as written); None when the file sets none, or one that does not read (its own plan
    refuses that). Unset fields take config's defaults (config/sections/cluster.py MaintenanceWindowConfig)."""
    window = (raw.get("cluster") or {}).get("maintenanceWindow") if isinstance(raw.get("cluster"), dict) else None
    if not isinstance(window, dict):
        return None
    d = MaintenanceWindowConfig()
    day, start = window.get("dayOfWeek") or d.day_of_week, window.get("startTime") or d.start_time
    hours, offset = window.get("durationHours", d.duration_hours), window.get("utcOffset") or d.utc_offset
    try:
        hh, mm = (int(part) for part in str(start).split(":"))
        sign = -1 if str(offset).startswith("-") else 1
        oh, om = (int(part) for part in str(offset).lstrip("+-").split(":"))
        local = _DAYS.index(day) * 24 * 60 + hh * 60 + mm
        length = int(hours) * 60
    except (ValueError, TypeError):
        return None
    return (local - sign * (oh * 60 + om)) % _WEEK_MINUTES, length, f"{day} {start} {offset}, {hours} h"


def _overlap(a: tuple[int, int, str], b: tuple[int, int, str]) -> bool:
    """Two weekly windows share a minute (each a start on the week's circle and a length)."""
    return (b[0] - a[0]) % _WEEK_MINUTES < a[1] or (a[0] - b[0]) % _WEEK_MINUTES < b[1]


_WINDOW_KEYS = ("dayOfWeek", "startTime", "durationHours", "utcOffset")
# node OS channels whose patches AKS applies in aksManagedNodeOSUpgradeSchedule, or at its own time without one
_SCHEDULED_NODE_OS = ("NodeImage", "SecurityPatch")


def _left_to_environments(raw: dict[str, Any], imports: list[str]) -> bool:
    """The file imports ESC environments and leaves a key of `cluster.maintenanceWindow` out (the window, or the
    section, not written): an environment may set it, so the file alone does not give the window."""
    cluster = raw.get("cluster", {})
    window = cluster.get("maintenanceWindow") if isinstance(cluster, dict) else None
    return bool(imports) and isinstance(cluster, dict) and isinstance(window, (dict, type(None))) and (
        window is None or any(key not in window for key in _WINDOW_KEYS))


def _window_unseen(raw: dict[str, Any], imports: list[str]) -> Optional[str]:
    """Why a regional stack file's maintenance window cannot be compared with the others', or None when it can, or
    when the file's node OS channel is one AKS does not run in a window (None, Unmanaged). A file importing Pulumi
    ESC environments that leaves a key of the window out (`_left_to_environments`) may have it from them (their
    `pulumiConfig` merges into the file's keys key by key: pulumi/pulumi 1b5949891b pkg/workspace/config.go
    `mergeConfig`), which no file shows. A file setting no window and none
    imported gives its cluster no node OS schedule: AKS then patches at its "default cadence", which "means there's
    no planned maintenance window applied" (SecurityPatch: "Typically faster than weekly, AKS determined cadence";
    azure-aks-docs fb060abe articles/aks/auto-upgrade-node-os-image.md, "Update ownership and cadence by channel"),
    any hour of the week, another region's window included."""
    cluster = raw.get("cluster", {})
    window = cluster.get("maintenanceWindow") if isinstance(cluster, dict) else None
    # a `secure:` value reads as ciphertext here (as in the CLI without the stack's key): the whole section, the
    # whole window, or a key of it (the section's or window's other keys read as config's defaults for what it holds)
    held = "cluster" if _secure(cluster) else "cluster.maintenanceWindow" if _secure(window) else ", ".join(
        f"cluster.maintenanceWindow.{key}" for key in _WINDOW_KEYS if isinstance(window, dict)
        and _secure(window.get(key)))
    if held:
        return (f"holds {held} as a secret (secure:), which the global stack cannot read, so its window is not "
                "compared with the other regions'. A maintenance window is no secret: set it in plain text "
                "(pulumi config set --path without --secret)")
    if not isinstance(cluster, dict) or not isinstance(window, (dict, type(None))):
        return None  # not a section: that stack's own plan refuses it
    channel = cluster.get("nodeOsUpgradeChannel", DEFAULTS["AksCluster"]["node_os_upgrade_channel"])
    if channel not in _SCHEDULED_NODE_OS:
        return None  # AKS updates no node OS on its own (None, Unmanaged; another value is that plan's to refuse)
    if _left_to_environments(raw, imports):
        return (f"imports the Pulumi ESC environment(s) {', '.join(imports)} and does not set all of "
                f"cluster.maintenanceWindow ({', '.join(_WINDOW_KEYS)}) itself: an environment may set it, which "
                "the global stack cannot read, so its window is not compared with the other regions'. Set the "
                "window's four keys in the file itself")
    if window is None:
        return (f"sets no cluster.maintenanceWindow: its cluster has no node OS schedule, and AKS applies its node "
                f"OS updates (nodeOsUpgradeChannel {channel}, reimaging and draining nodes) at a time of its own "
                "choosing, any hour of the week, the other regions' windows included. Give it a window after the "
                "other regions' (docs/operations.md, \"Adding a region\")")
    return None


def _secure(value: Any) -> bool:
    """A stack file's `secure:` value (`{secure: v1:...}`, Pulumi's ciphertext of a secret)."""
    return isinstance(value, dict) and set(value) == {"secure"}


def shared_maintenance_windows(region_stacks: tuple[str, ...], project: str,
                               project_dir: Optional[Path] = None) -> list[str]:
    """A warning for each two regions behind the edge whose stack files set overlapping `cluster.maintenanceWindow`s,
    and, where two or more regions' files read, for each one whose window cannot be compared (`_window_unseen`: no
    window, so AKS's own time, or one left to ESC environments).
    AksCluster makes that window both `aksManagedAutoUpgradeSchedule` and `aksManagedNodeOSUpgradeSchedule`; AKS
    applies each cluster's node OS security patches (nodeOsUpgradeChannel SecurityPatch: a reimage "honoring
    maintenance windows and surge settings" when a kernel package needs it) in the latter on its own, not through a
    fleet run (MicrosoftDocs/azure-aks-docs fb060abe articles/aks/auto-upgrade-node-os-image.md,
    planned-maintenance.md), so overlapping windows can drain both regions at once, the failover's standby
    included; and Fleet's next stage, which waits for the first region and the soak, must find its region's window
    still open (update runs honour the windows: articles/kubernetes-fleet/concepts-update-orchestration.md).
    Files that do not read are left out (listed_region_problems reports them)."""
    files = regions.project_stack_files(regions.PROJECT_DIR if project_dir is None else project_dir)
    readable = {region: raw for region in region_stacks
                if (raw := regions.region_file(files, region, project)) is not None}
    windows, found = {}, []
    for region, raw in readable.items():
        imports = esc_environments(files[region])
        why = _window_unseen(raw, imports)
        # a window partly an environment's is not the file's: config's defaults for its missing keys are a guess
        window = None if why or _left_to_environments(raw, imports) else _weekly_window(raw)
        if window is not None:
            windows[region] = window
        elif why and len(readable) > 1:
            found.append(f"global.regions entry {region!r}: {files[region].name} {why}")
    names = list(windows)
    for i, first in enumerate(names):
        for second in names[i + 1:]:
            if _overlap(windows[first], windows[second]):
                found.append(
                    f"regional stacks {first} and {second} share maintenance time (cluster.maintenanceWindow "
                    f"{windows[first][2]}; {windows[second][2]}): AKS applies each cluster's node OS security "
                    "patches (SecurityPatch) in its window on its own, outside Fleet's stages, so both regions may "
                    "drain nodes at once, the standby Front Door fails over to included, and Fleet's next stage "
                    "must still find its region's window open after the first region and the soak. Give the later "
                    "region a window that starts after the earlier one ends plus global.fleet."
                    "waitBetweenRegionsSeconds (the shipped files: West Europe Sunday 01:00-07:00 UTC, Sweden "
                    "Central 08:00-14:00)")
    return found
