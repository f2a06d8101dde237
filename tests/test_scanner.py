"""checkov's Kubernetes framework over every object the program creates, in every planned variant: no failed check,
every skip carries a reason and is listed in docs/decisions.md, and the scanner demonstrably scans (a control
manifest with known faults fails). checkov runs from its own virtualenv (.venv-scan, made by `make test`): it pins
`packaging<24`, which pulumi (>=26) cannot share."""
import json
import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from tools import plan as plan_tool

from .conftest import PROJECT_DIR, VARIANTS, variant


CHECKOV = PROJECT_DIR / ".venv-scan" / "bin" / "checkov"
DECISIONS = PROJECT_DIR / "docs" / "decisions.md"
# A pod with faults the scanner must find: privileged, host network, no limits, an unpinned image.
CONTROL = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "control", "namespace": "control"},
           "spec": {"hostNetwork": True, "containers": [{"name": "bad", "image": "nginx:latest",
                                                          "securityContext": {"privileged": True}}]}}


@pytest.fixture(scope="module")
def scan(tmp_path_factory) -> dict:
    assert CHECKOV.is_file(), f"{CHECKOV} is missing: `make test` installs the scanner (requirements-scan.txt)"
    root = tmp_path_factory.mktemp("manifests")
    for name in VARIANTS:
        folder = root / name
        folder.mkdir()
        for file_name, obj in plan_tool.manifests(variant(name)):
            (folder / file_name).write_text(yaml.dump(obj, Dumper=yaml.CSafeDumper, sort_keys=False))
    (root / "control").mkdir()
    (root / "control" / "pod.yaml").write_text(yaml.safe_dump(CONTROL))
    # BC_SKIP_MAPPING: no download of check metadata (these machines have no internet; nor does a fork's CI need it)
    done = subprocess.run([str(CHECKOV), "-d", str(root), "--framework", "kubernetes", "--compact", "-o", "json"],
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, "BC_SKIP_MAPPING": "TRUE", "LOG_LEVEL": "WARNING"})
    report = json.loads(done.stdout)
    report["root"] = str(root)
    return report


def in_control(check: dict) -> bool:
    return "/control/" in check["file_path"]


def test_no_object_fails_a_check(scan):
    failed = [f"{c['check_id']} {c['check_name']}: {c['resource']} ({c['file_path']})"
              for c in scan["results"]["failed_checks"] if not in_control(c)]
    assert not failed, "\n".join(failed)


def test_the_scanner_saw_every_object_and_finds_known_faults(scan):
    expected = sum(len(plan_tool.manifests(variant(name))) for name in VARIANTS) + 1
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
