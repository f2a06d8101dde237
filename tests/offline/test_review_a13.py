"""A review of three changes: the global stack's warning of regions sharing maintenance time (h-audit13), a KEDA
handle with port 0 beside a host not known yet, and a model volume mounted at Ollama's key directory."""
from __future__ import annotations

from pathlib import Path

import pytest

from offline import runner

from tests.conftest import PROJECT_DIR, plan_for

SWEDEN_WINDOW = "    maintenanceWindow: {dayOfWeek: Sunday, startTime: '08:00', durationHours: 6, utcOffset: '+00:00'}\n"
WEST_WINDOW = "    maintenanceWindow: {dayOfWeek: Sunday, startTime: '01:00', durationHours: 6, utcOffset: '+00:00'}\n"
ESC = "environment: [platform/llm/regional-maintenance]\nconfig:"


def _project(tmp_path: Path, edits: dict[str, list[tuple[str, str]]]) -> Path:
    """A copy of the project's stack files, each of `edits` with its replacements (old, new) made."""
    for path in PROJECT_DIR.glob("Pulumi.*.yaml"):
        text = path.read_text()
        for old, new in edits.get(path.name[len("Pulumi."):-len(".yaml")], []):
            assert text.count(old) == 1, (path.name, old)
            text = text.replace(old, new)
        (tmp_path / path.name).write_text(text)
    return tmp_path


def _global_warnings(monkeypatch, project: Path) -> list[str]:
    import config.regions
    regional = {r: plan_for(r).outputs for r in ("prod-westeurope", "prod-swedencentral")}
    monkeypatch.setattr(config.regions, "PROJECT_DIR", project)
    return [w for w in runner.run("global", references=regional).warnings if "maintenance" in w]


def test_a_region_behind_the_edge_without_a_maintenance_window_is_warned_of(tmp_path, monkeypatch):
    """Without `cluster.maintenanceWindow` AksCluster makes no `aksManagedNodeOSUpgradeSchedule`, and AKS applies the
    node OS channel's updates at its default cadence ("Typically faster than weekly, AKS determined cadence", which
    "means there's no planned maintenance window applied": azure-aks-docs fb060abe auto-upgrade-node-os-image.md): any hour, West Europe's window included, so both regions
    may drain at once. The global stack compared only the windows files set and said nothing of a region that sets
    none (a window deleted from a copied file)."""
    assert _global_warnings(monkeypatch, _project(tmp_path, {})) == []  # the shipped files take turns
    warned = _global_warnings(monkeypatch, _project(tmp_path, {"prod-swedencentral": [(SWEDEN_WINDOW, "")]}))
    assert len(warned) == 1, warned
    assert "'prod-swedencentral'" in warned[0] and "sets no cluster.maintenanceWindow" in warned[0], warned
    assert "nodeOsUpgradeChannel SecurityPatch" in warned[0]
    # a node OS channel AKS does not schedule (None: no node OS updates) takes no window
    none = _project(tmp_path, {"prod-swedencentral": [(SWEDEN_WINDOW, ""), (
        "nodeOsUpgradeChannel: SecurityPatch", "nodeOsUpgradeChannel: None")]})
    assert _global_warnings(monkeypatch, none) == []


def test_a_window_an_esc_environment_may_set_is_named_not_compared(tmp_path, monkeypatch):
    """An imported ESC environment's `pulumiConfig` merges into the file's keys key by key (pulumi/pulumi pkg/workspace/
    config.go mergeConfig): a key of the window the file leaves out may be the environment's, one shared by both
    regions the worst case (one window). The global stack read such a file's missing keys as config's defaults and
    compared that guess (or, with no window in the file, nothing), without a word."""
    partial = WEST_WINDOW.replace(", utcOffset: '+00:00'", "")
    warned = _global_warnings(monkeypatch, _project(tmp_path, {"prod-westeurope": [("config:", ESC),
                                                                                   (WEST_WINDOW, partial)]}))
    assert len(warned) == 1, warned
    assert "'prod-westeurope'" in warned[0] and "platform/llm/regional-maintenance" in warned[0], warned
    assert "does not set all of cluster.maintenanceWindow" in warned[0]
    assert len(_global_warnings(monkeypatch, _project(tmp_path, {"prod-westeurope": [("config:", ESC),
                                                                                     (WEST_WINDOW, "")]}))) == 1
    # a partial window is not compared as config's defaults for its missing keys: West Europe's Sunday 01:00 for 6 h
    # with utcOffset left to the environment is not Sweden Central's window moved to 01:00 UTC on a guess
    guessed = _project(tmp_path, {"prod-westeurope": [("config:", ESC), (WEST_WINDOW, partial)],
                                  "prod-swedencentral": [(SWEDEN_WINDOW, WEST_WINDOW)]})
    warned = _global_warnings(monkeypatch, guessed)
    assert len(warned) == 1 and "share maintenance time" not in warned[0], warned
    # a node OS channel AKS runs in no window (None) needs none, wherever the window would come from
    off = _project(tmp_path, {"prod-westeurope": [("config:", ESC), (WEST_WINDOW, ""), (
        "nodeOsUpgradeChannel: SecurityPatch", "nodeOsUpgradeChannel: None")]})
    assert _global_warnings(monkeypatch, off) == []
    # the four keys in the file: the environment cannot change them (the file's values win), so they are compared
    assert _global_warnings(monkeypatch, _project(tmp_path, {"prod-westeurope": [("config:", ESC)]})) == []
    clash = _project(tmp_path, {"prod-westeurope": [("config:", ESC)],
                                "prod-swedencentral": [(SWEDEN_WINDOW, WEST_WINDOW)]})
    warned = _global_warnings(monkeypatch, clash)
    assert len(warned) == 1 and "share maintenance time" in warned[0], warned



def test_a_window_held_as_a_secret_is_named_not_skipped(tmp_path, monkeypatch):
    """A `secure:` key of the window reads as ciphertext in the file (no stack key here, as in the CLI without one):
    its window did not parse and the region was left out of the comparison without a word."""
    secret = SWEDEN_WINDOW.replace("startTime: '08:00'", "startTime: {secure: v1:AAAAAAAAAAAAAAAA:bm90LWEtd2luZG93}")
    warned = _global_warnings(monkeypatch, _project(tmp_path, {"prod-swedencentral": [(SWEDEN_WINDOW, secret)]}))
    assert len(warned) == 1, warned
    assert "'prod-swedencentral'" in warned[0] and "cluster.maintenanceWindow.startTime as a secret" in warned[0], \
        warned


@pytest.mark.parametrize("old, new, held", [
    # the whole window one secret: its keys were read as config's defaults (Sunday 02:00 UTC, 4 h) and compared
    (SWEDEN_WINDOW, "    maintenanceWindow: {secure: v1:AAAAAAAAAAAAAAAA:bm90LWEtd2luZG93}\n",
     "holds cluster.maintenanceWindow as a secret"),
    # the whole section one secret: it read as a file that sets no window
    ("aks-llm-platform:cluster:\n", "aks-llm-platform:cluster:\n    secure: v1:AAAAAAAAAAAAAAAA:bm90LWEtd2luZG93\n"
     "  another-project:cluster:\n", "holds cluster as a secret"),
], ids=["window", "section"])
def test_a_window_or_section_held_whole_as_a_secret_is_named_not_guessed(tmp_path, monkeypatch, old, new, held):
    """`cluster.maintenanceWindow` or `cluster` held whole as one `secure:` value: the window read as config's
    defaults (Sunday 02:00 UTC, compared with the other region's as if the file had set it), or as no window at all
    ("sets no cluster.maintenanceWindow"), without a word of the secret."""
    # West Europe's window moved onto the defaults' (Sunday 02:00 UTC): a guess compared would be a clash
    clash = WEST_WINDOW.replace("'01:00', durationHours: 6", "'02:00', durationHours: 4")
    warned = _global_warnings(monkeypatch, _project(tmp_path, {"prod-swedencentral": [(old, new)],
                                                               "prod-westeurope": [(WEST_WINDOW, clash)]}))
    assert len(warned) == 1, warned
    assert "'prod-swedencentral'" in warned[0] and held in warned[0] and "secure:" in warned[0], warned
    assert "share maintenance time" not in warned[0] and "sets no" not in warned[0], warned
