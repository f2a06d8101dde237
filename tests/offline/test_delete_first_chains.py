"""offline.maintenance.delete_first_chains as a maintainer runs it (`python -m offline.maintenance.delete_first_chains
build/<stack>`): its output on a part of dev's plan read by hand, and what it says of a folder that holds no plan
(docs/decisions.md "2026-12-05 (night): delete-first chains rescanned")."""
import json
from pathlib import Path

import pytest

from offline import plan
from offline.maintenance import delete_first_chains

from tests.conftest import plan_for

# the platform's group, its network, the model share's volume, claim and preload Job, and Ollama with its autoscaler
PART = {"platform-rg", "platform-vnet", "platform-nodes", "platform-endpoints", "platform-postgres", "models-pv",
        "models-pvc", "models-preload", "inference-ollama", "inference-ollama-svc", "ollama-autoscaler-http",
        "ollama-autoscaler-scaler"}


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    code = delete_first_chains.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _written(folder: Path, resources: list) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "resources.json").write_text(json.dumps({"resources": resources}))
    return folder


def test_the_scan_of_a_plan_read_by_hand(tmp_path, capsys):
    """What each root drags along, as read by hand in dev's plan: the group replaced under its name takes everything
    named in it (Azure deletes a group's contents; the volume names it in `volumeAttributes`), the volume its claim
    (`spec.volumeName`) and the claim the Job mounting it; Ollama's Deployment replaced under its name takes nothing
    (its autoscaler's objects take its name alone). Each dependent's reason names its cause by name, the group too:
    a resource without a parent (`<type>::<name>` in the check's words) was printed whole."""
    doc = plan.resources_document(plan_for("dev"))
    part = [r for r in doc["resources"] if r["urn"].split("::")[-1] in PART or r["type"].startswith("pulumi:providers:")]
    assert {r["urn"].split("::")[-1] for r in part} >= PART
    code, out, err = _run(capsys, str(_written(tmp_path / "dev", part)), "--all")
    assert code == 0 and not err, err
    chains: dict[str, dict[str, str]] = {}
    for line in out.splitlines()[1:]:
        if line.startswith("- "):
            root = chains.setdefault(line[2:].split(" (by ")[0], {})
        else:
            what, _, why = line.strip()[2:].partition(": ")
            root[what] = why
    assert set(chains["ResourceGroup platform-rg"]) == {
        "VirtualNetwork platform-vnet [deleted first]", "Subnet platform-endpoints [deleted first]",
        "Subnet platform-nodes [deleted first]", "Subnet platform-postgres [deleted first]",
        "PersistentVolume models-pv [deleted first]", "PersistentVolumeClaim models-pvc [deleted first]",
        "Job models-preload [deleted first]"}, chains["ResourceGroup platform-rg"]
    assert chains["ResourceGroup platform-rg"]["VirtualNetwork platform-vnet [deleted first]"] == (
        "`resourceGroupName` names `platform-rg`, which is replaced")
    assert not [why for whys in chains.values() for why in whys.values() if "::" in why]
    assert set(chains["PersistentVolume models-pv"]) == {"PersistentVolumeClaim models-pvc [deleted first]",
                                                         "Job models-preload [deleted first]"}
    assert chains["Deployment inference-ollama"] == {} and chains["Service inference-ollama-svc"] == {}


@pytest.mark.parametrize("case", ["missing", "file", "empty folder", "no resources", "not JSON", "not a plan",
                                  "odd shape"])
def test_a_folder_without_a_plan_is_named_without_a_traceback(tmp_path, capsys, case):
    """Each says which folder and what is wrong with it, exit 2; the PR check's own command line says the same of
    such folders (offline/plan_diff/cli.py)."""
    folder = tmp_path / "build" / "dev"
    service = {"urn": "urn:pulumi:dev::p::kubernetes:core/v1:Service::s", "type": "kubernetes:core/v1:Service",
               "inputs": {"apiVersion": "v1", "kind": "Service", "metadata": "s"}, "options": {}}
    given, expected = str(folder), {
        "missing": "the folder does not exist", "file": "is a file, not a plan's folder: give the folder make plan "
        f"wrote ({folder})", "empty folder": "no resources.json", "no resources": "lists no resources",
        "not JSON": "resources.json: not JSON", "not a plan": "resources.json: not a plan",
        "odd shape": "cannot scan"}[case]
    if case != "missing":
        folder.mkdir(parents=True)
    if case == "file":
        _written(folder, [service])
        given = str(folder / "resources.json")
    elif case == "no resources":
        _written(folder, [])
    elif case == "not JSON":
        (folder / "resources.json").write_text("{")
    elif case == "not a plan":
        (folder / "resources.json").write_text("[]")
    elif case == "odd shape":  # read_resources takes it (metadata is no object): the scan does not
        _written(folder, [service])
    code, out, err = _run(capsys, given)
    assert code == 2 and not out, out
    assert err.startswith(given) or err.startswith(f"cannot scan {given}"), err
    assert expected in err and "Traceback" not in err, err
