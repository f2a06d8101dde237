"""A distribution's declared floors (`>=`) against what its own dependencies, as installed, ask of the same
distributions: a floor below theirs names versions no install can hold, never tried."""
import importlib.metadata
from typing import Iterable, Optional

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version


def floor(specifier: SpecifierSet) -> Optional[Version]:
    """The `>=` (or `~=`) version of a specifier set, if it has one."""
    floors = [Version(spec.version) for spec in specifier if spec.operator in (">=", "~=")]
    return max(floors) if floors else None


def floors_below_dependents(requirements: Iterable[str]) -> tuple[set[str], set[str]]:
    """(each requirement whose floor is below what another of them, as installed, asks of it, said with who asks;
    the requirements that ask anything of another). Markers are evaluated here, with no extra."""
    declared = {canonicalize_name(Requirement(text).name): text for text in requirements}
    too_low, asking = set(), set()
    for name in declared:
        for req in map(Requirement, importlib.metadata.requires(name) or []):
            ours = declared.get(canonicalize_name(req.name))
            if ours is None or (req.marker is not None and not req.marker.evaluate({"extra": ""})):
                continue
            asking.add(name)
            theirs, mine = floor(req.specifier), floor(Requirement(ours).specifier)
            if theirs and (mine is None or mine < theirs):
                too_low.add(f"{ours} (asked by {name}: {req})")
    return too_low, asking
