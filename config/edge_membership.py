"""A regional stack's place in its global stack's file: what a region's own plan can tell from Pulumi.<global>.yaml.

A region that has joined the edge (`edge.frontDoorId` set) reads the global stack's key set from its own Key Vault
(`edge-api-key-map`, with a grant of its own on that secret). The global stack writes it there only for the regions
its `global.regions` lists. A copy of a joined region's file for a new region (docs/operations.md, "Adding or
removing a region", step 1) carries that region's `edge.frontDoorId`: on its first `pulumi up` the API gate mounts a
secret that does not exist yet and does not start (docs/decisions.md: "Before joining a region keeps its own key,
because a gate whose map does not exist yet would not start on the region's first `pulumi up`"). A region taken out
of `global.regions` keeps its file's ID too while it drains (the secret is retained, so it still serves until its
stack is removed). Both plan, so this is a warning, not a refusal.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

from . import regions
from .platform_config import PlatformConfig
from .reader import ConfigError


def _listed_regions(global_file: Path, project: str) -> Optional[list[str]]:
    """The global stack file's `global.regions`, or None where the file is not a readable global stack's (its own plan
    says what is wrong with it)."""
    try:
        raw = regions.raw_stack_file(global_file, project)
    except ConfigError:
        return None
    section: Any = raw.get("global")
    listed = section.get("regions") if isinstance(section, dict) else None
    if not isinstance(listed, list) or not all(isinstance(s, str) for s in listed):
        return None
    return listed


def unlisted_join(cfg: PlatformConfig, project_dir: Optional[Path] = None) -> list[str]:
    """A warning when the stack has joined the edge (`edge.frontDoorId` set) but its global stack's file does not list
    it in `global.regions`; nothing when the stack is not regional, has not joined, or the global stack's file is not
    in the project (`project_dir`, by default the program's)."""
    if not cfg.edge.joined:
        return []
    folder = regions.PROJECT_DIR if project_dir is None else project_dir
    global_stack = cfg.edge.global_stack
    global_file = regions.project_stack_files(folder).get(global_stack)
    if global_file is None:
        return []
    listed = _listed_regions(global_file, cfg.project)
    if listed is None or cfg.stack in listed:
        return []
    return [f"edge.frontDoorId is set ({cfg.edge.front_door_id}), but {global_file.name} does not list stack "
            f"{cfg.stack!r} in global.regions ({', '.join(listed) or 'none'}): the global stack writes its key set "
            "(edge-api-key-map) into the vaults of the regions it lists only, and Front Door sends this region "
            "nothing. On a new region's first `pulumi up` the API gate then mounts that secret before it exists and "
            "does not start, and the run fails waiting for it: remove edge.frontDoorId (a copy of a joined region's "
            f"file carries it) until global.regions lists {cfg.stack} and `pulumi up -s {global_stack}` has run. A "
            "region being removed keeps serving with the retained secrets until its stack is removed "
            "(docs/operations.md, \"Adding or removing a region\")."]


def missing_global_file(cfg: PlatformConfig, project_dir: Optional[Path] = None) -> list[str]:
    """A warning when the stack's `edge.globalStack` names no stack file of the project: the global stack reads its
    regions through StackReferences of this project and is planned from its file (`make plan STACK=<it>`), so a
    misspelt name (`globl`) leaves the region behind no edge at all, its external gateway admitting only Front Door
    and serving nothing, without a word from its own plan (a stranger's staging region, 2026-12-06). A warning, not a
    refusal: the regions go up first (docs/operations.md, deploy order) and the global stack's file may follow."""
    if not cfg.edge.enabled:
        return []
    folder = regions.PROJECT_DIR if project_dir is None else project_dir
    files = regions.project_stack_files(folder)
    named = files.get(cfg.edge.global_stack)
    globals_here = sorted(name for name, path in files.items() if _is_global_file(path, cfg.project))
    here = f"global stacks here: {', '.join(globals_here) or 'none'}"
    if named is None:
        return [f"edge.globalStack names stack {cfg.edge.global_stack!r}, which has no stack file in the project "
                f"(Pulumi.{cfg.edge.global_stack}.yaml; {here}): until that stack lists this one in global.regions and "
                "is up, no Front Door reaches this region and its external gateway admits nothing else; fix the name, "
                "or write that file before the edge goes up (docs/operations.md, \"Regional stacks and the global "
                "stack: deploy order\")"]
    if _reads(named, cfg.project) and not _is_global_file(named, cfg.project):
        # a platform stack's name (`prod` for `global`): its file is there, and it will never list this region
        return [f"edge.globalStack names stack {cfg.edge.global_stack!r}, whose file {named.name} is no global "
                f"stack's (it has no `global` section; {here}): no Front Door will reach this region and its external "
                "gateway admits nothing else; name the global stack whose global.regions lists this one"]
    return []  # a global stack's file, or one that does not read (its own plan says why)


def _reads(path: Path, project: str) -> bool:
    try:
        regions.raw_stack_file(path, project)
    except ConfigError:
        return False
    return True


def _is_global_file(path: Path, project: str) -> bool:
    """A stack file with a `global` section (one that does not read is its own plan's concern)."""
    try:
        return regions.is_global(regions.raw_stack_file(path, project))
    except ConfigError:
        return False
