"""checkov's Kubernetes framework over every object the program creates, in every planned variant: no failed check,
every skip carries a reason and is listed in docs/decisions.md, and the scanner demonstrably scans (a control
manifest with known faults fails). checkov runs from its own virtualenv (.venv-scan, made by `make test`): it pins
`packaging<24`, which pulumi (>=26) cannot share."""
import json
import re
from pathlib import Path

import pytest
import yaml

from offline import plan as plan_tool, scan as scan_tool

from tests.conftest import PROJECT_DIR, REGIONS, VARIANTS, variant_or_stack

SCANNED = [*VARIANTS, *REGIONS]  # every config variant and the regional stacks (their Front Door and ACME policies)


CHECKOV = scan_tool.CHECKOV
DECISIONS = PROJECT_DIR / "docs" / "decisions.md"
# A pod with faults the scanner must find: privileged, host network, no limits, an unpinned image.
CONTROL = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "control", "namespace": "control"},
           "spec": {"hostNetwork": True, "containers": [{"name": "bad", "image": "nginx:latest",
                                                          "securityContext": {"privileged": True}}]}}


@pytest.fixture(scope="module")
def scan(tmp_path_factory) -> dict:
    """One checkov run (offline.scan's, as `make scan` runs it) over every plan's manifests and the control pod,
    laid out as `make plan` writes them: <root>/<name>/manifests/."""
    assert CHECKOV.is_file(), f"{CHECKOV} is missing: `make test` installs the scanner (requirements-scan.txt)"
    root = tmp_path_factory.mktemp("build")
    seen: set[str] = set()
    for name in SCANNED:  # an object the same in several plans is scanned once
        folder = root / name / "manifests"
        plan_tool.write_manifests(variant_or_stack(name), folder)
        for path in sorted(folder.iterdir()):
            if path.read_text() in seen:
                path.unlink()
            else:
                seen.add(path.read_text())
    (root / "control" / "manifests").mkdir(parents=True)
    (root / "control" / "manifests" / "pod.yaml").write_text(yaml.safe_dump(CONTROL))
    report = scan_tool.run_checkov(root)
    report["root"] = str(root)
    return report


def test_each_manifest_file_loads_as_the_object_the_plan_holds(scan):
    """The files are written with libyaml's emitter, which folds long strings elsewhere than PyYAML's own: what a
    reader (checkov, kubectl, a reviewer) loads must still be the object the program registered."""
    root = Path(scan["root"])
    for name in SCANNED:
        written = {path.name: yaml.safe_load(path.read_text()) for path in (root / name / "manifests").iterdir()}
        expected = dict(plan_tool.manifests(variant_or_stack(name)))
        assert written and all(written[file] == expected[file] for file in written), name


def in_control(check: dict) -> bool:
    return "/control/" in check["file_path"]


def test_no_object_fails_a_check(scan):
    failed = [f"{c['check_id']} {c['check_name']}: {c['resource']} ({c['file_path']})"
              for c in scan["results"]["failed_checks"] if not in_control(c)]
    assert not failed, "\n".join(failed)


def test_the_scanner_saw_every_object_and_finds_known_faults(scan):
    distinct = {json.dumps(obj, sort_keys=True) for name in SCANNED for _, obj in plan_tool.manifests(variant_or_stack(name))}
    expected = len(distinct) + 1
    assert scan["summary"]["parsing_errors"] == 0
    # checkov counts each workload once more for its pod template's containers; never fewer than we wrote
    assert scan["summary"]["resource_count"] >= expected
    control = {c["check_id"] for c in scan["results"]["failed_checks"] if in_control(c)}
    assert {"CKV_K8S_16", "CKV_K8S_19", "CKV_K8S_14", "CKV_K8S_13"} <= control  # privileged, hostNetwork, :latest, limits


def documented_skips() -> set[tuple[str, str]]:
    """(subject, check) from the scanner-skip table of docs/decisions.md; subject 'Kind name-prefix' or 'every'."""
    text = DECISIONS.read_text()
    section = text.split("### Scanner skips", 1)[1].split("\n## ", 1)[0]
    rows = set()
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and re.match(r"CKV_K8S_\d+", cells[1]):
            subject = "every" if cells[0].startswith("every") else cells[0].strip("`")
            rows.update((subject, check.strip()) for check in cells[1].split(","))
    return rows


def test_every_skip_has_a_reason_and_is_documented(scan):
    rows = documented_skips()
    skipped = scan["results"]["skipped_checks"]
    assert skipped, "no skip annotation reached the scanner"
    missing = []
    for c in skipped:
        reason = c["check_result"].get("suppress_comment")
        assert reason and reason != "No comment provided", f"{c['check_id']} on {c['resource']} has no reason"
        kind, _, name = c["resource"].split(".", 2)  # Kind.namespace.name
        documented = ("every", c["check_id"]) in rows or any(
            subject.split(" ")[0] == kind and name.startswith(subject.split(" ", 1)[1]) and check == c["check_id"]
            for subject, check in rows if subject != "every")
        if not documented:
            missing.append(f"{c['check_id']} on {c['resource']}")
    assert not missing, "skips not listed under 'Scanner skips' in docs/decisions.md: " + ", ".join(sorted(set(missing)))


def test_make_scan_prints_each_failed_check_and_fails(scan, monkeypatch, capsys):
    root = Path(scan["root"])
    monkeypatch.setattr(scan_tool, "run_checkov", lambda folder: scan)  # the real report of the run above
    assert scan_tool.main(["--stack", "control", "--out", str(root)]) == 1
    out = capsys.readouterr().out
    assert "FAIL  CKV_K8S_16" in out and "Pod.control.control" in out and "failed" in out.splitlines()[-1]


def test_make_scan_without_a_plan_says_what_to_run(tmp_path, capsys):
    assert scan_tool.main(["--stack", "dev", "--out", str(tmp_path)]) == 1
    assert "run `make plan STACK=dev` first" in capsys.readouterr().err


def test_a_planned_stack_with_no_kubernetes_objects_has_nothing_to_scan(tmp_path, capsys):
    """The global stack (Front Door, Fleet) creates no Kubernetes object: after its plan, `make scan` says so and
    passes; a stack never planned is still told to plan first."""
    (tmp_path / "global" / "manifests").mkdir(parents=True)
    (tmp_path / "global" / "resources.json").write_text('{"resources": []}')
    assert scan_tool.main(["--stack", "global", "--out", str(tmp_path)]) == 0
    assert "creates no Kubernetes objects" in capsys.readouterr().out
    assert scan_tool.main(["--stack", "dev", "--out", str(tmp_path)]) == 1
    assert "run `make plan STACK=dev` first" in capsys.readouterr().err


@pytest.mark.parametrize("stack", ["../dev", "", "dev/manifests"])
def test_make_scan_refuses_a_name_that_is_no_stack(tmp_path, capsys, stack):
    """`make scan STACK=../dev` names no stack: refused as bad usage, naming the rule and the stacks there are,
    rather than reading another folder's manifests (or telling the user to plan a stack that cannot exist)."""
    (tmp_path / "dev" / "manifests").mkdir(parents=True)
    (tmp_path / "dev" / "manifests" / "x.yaml").write_text("kind: Pod\n")
    assert scan_tool.main(["--stack", stack, "--out", str(tmp_path / "sub")]) == 2
    err = capsys.readouterr().err
    assert f"stack name {stack!r} is not valid" in err and "stacks: " in err and "prod" in err
