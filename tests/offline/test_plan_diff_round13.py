"""What the PR check's gate and value findings said that no test held (mutation testing, round thirteen:
docs/decisions.md "Mutation round thirteen"): each test here fails on a mutant of offline/plan_diff/gate.py or of
values.py's `_finding` that every other test passed, and passes on the code. Each goes through the check's entry
point: two plan folders -> the report and its exit code."""
import pytest

from offline import plan_diff
from offline.plan_diff import values

from tests.offline.plan_diff_cli import check
from tests.offline.test_plan_diff_round4 import SHARE_INPUTS, SHARE_TYPE, _doc, _line, _resource

DEPLOYMENT = _resource("kubernetes:apps/v1:Deployment", "web",
                       {"metadata": {"name": "web", "namespace": "apps"}, "spec": {"replicas": 1}})


def _share(protocol: str) -> dict:
    return _resource(SHARE_TYPE, "share", {**SHARE_INPUTS, "enabledProtocols": protocol})


def test_only_what_the_check_refuses_is_marked_allowed_by_the_label_or_the_file(tmp_path):
    """A stateful replacement (the share, a new protocol) blocks until the label or the file allows it, and its line
    then says which; a Deployment deleted loses nothing, so neither the label nor a file entry naming it "allows" it:
    its line carries no such mark and the entry is reported as allowing nothing. Without the label, nothing reads as
    allowed by it."""
    base, new = _doc(_share("SMB"), DEPLOYMENT), _doc(_share("NFS"))
    code, out = check(tmp_path, base, new)
    assert code == 1 and "**allowed**" not in out, out
    allow = tmp_path / plan_diff.ALLOW_FILE
    allow.write_text(DEPLOYMENT["urn"] + "\n")
    code, out = check(tmp_path, base, new, "--allow-stateful", "--allow-file", str(allow))
    assert code == 0, out
    assert f"**allowed** by the `{plan_diff.ALLOW_LABEL}` label" in _line(out, "Replace", "share"), out
    assert "allowed" not in _line(out, "Delete", "web"), out
    assert f"**1 `{plan_diff.ALLOW_FILE}` entry allows nothing in this diff**" in out, out
    assert [x for x in out.splitlines() if x.startswith("- :warning: ")] == [
        "- :warning: `urn:pulumi:dev::p::kubernetes:apps/v1:Deployment::web`"], out  # the URN as the engine writes it


def _blocked_line(out: str, name: str) -> str:
    return next(x for x in out.splitlines() if x.startswith("- :x: ") and f"::{name}`" in x).rstrip()


def test_a_blocked_replacement_names_its_first_three_causes_and_marks_more(tmp_path):
    """The line that blocks says why: up to three causes, then `; ...` only when there are more (the Replace line
    below lists four)."""
    causes = ["`accountName` (part of the Azure resource ID)", "`enabledProtocols` (force-new in pulumi-azure-native)",
              "`resourceGroupName` (part of the Azure resource ID)", "`shareName` (part of the Azure resource ID)"]
    edits = {"accountName": "st2", "enabledProtocols": "NFS", "shareName": "m2"}
    base = _doc(_resource(SHARE_TYPE, "share", SHARE_INPUTS))
    code, out = check(tmp_path, base, _doc(_resource(SHARE_TYPE, "share", {**SHARE_INPUTS, **edits})))
    three = [causes[0], causes[1], causes[3]]
    assert code == 1 and _blocked_line(out, "share").endswith(f"why: {'; '.join(three)}"), out
    edits["resourceGroupName"] = "rg2"
    code, out = check(tmp_path, base, _doc(_resource(SHARE_TYPE, "share", {**SHARE_INPUTS, **edits})))
    assert code == 1 and _blocked_line(out, "share").endswith(f"why: {'; '.join(causes[:3])}; ..."), out


def test_a_value_rule_naming_a_check_the_code_lacks_is_an_error_that_names_it(monkeypatch):
    """A `check` of offline/data/replacement_rules.json's valueRules that `_finding` does not know (a typo) is an
    error naming it and the file, not a rule that silently passes every change (the last known check's answer)."""
    typo = {**plan_diff.rules(), "valueRules": {SHARE_TYPE: [
        {"path": "enabledProtocols", "check": "noDowngrad", "blocks": True, "why": "x", "config": "modelStore"}]}}
    monkeypatch.setattr(values, "rules", lambda: typo)
    with pytest.raises(ValueError, match="unknown value check 'noDowngrad' in replacement_rules.json"):
        values.value_findings(SHARE_TYPE, {"enabledProtocols": "SMB"}, {"enabledProtocols": "NFS"},
                              ["enabledProtocols"])
