"""cluster.kubernetesVersion against AKS's release calendar (config/aks_versions.py, config/data/
aks_kubernetes_versions.json): refused when AKS no longer supports the minor on the calendar's own date (no test
depends on the clock), warned of in the plan when its support ends soon or has ended by today, and the calendar
itself warned of when old. Today's date is injected (aks_versions.today) wherever a warning depends on it."""
from __future__ import annotations

import copy
import re
from datetime import date

import pytest

from config import aks_versions, catalogs
from config.advisories import advisories
from config.loader import parse_config
from config.reader import ConfigError
from llmplatform.kubernetes_schemas import AKS_KUBERNETES_VERSIONS
from offline import plan as plan_cli

from tests.config.test_loader import stack_raw
from tests.conftest import upstream_dir

CALENDAR = date(2026, 8, 21)  # the data's `_date`


def _cfg(**cluster):
    return parse_config(stack_raw("dev", {"cluster": cluster}), "p", "dev")


def _plan_warnings(tmp_path, capsys, monkeypatch, today, *sets):
    monkeypatch.setattr(aks_versions, "today", lambda: today)
    argv = ["--stack", "dev", "--out", str(tmp_path / "build")]
    code = plan_cli.main(argv + [arg for s in sets for arg in ("--set", s)])
    out = capsys.readouterr().out
    assert code == 0, out[-2000:]
    return [line[len("warning: "):] for line in out.splitlines() if line.startswith("warning: ")]


def test_the_calendar_is_the_vendored_pages_two_tables_as_written():
    """config/data/aks_kubernetes_versions.json's rows are the page's release calendar and LTS tables, cell by cell
    (tests/upstream/aks/supported-kubernetes-versions.md, the commit the data file names)."""
    page = (upstream_dir() / "aks" / "supported-kubernetes-versions.md").read_text()

    def table(after: str) -> list[list[str]]:
        lines = page.split(after, 1)[1].splitlines()
        start = next(i for i, line in enumerate(lines) if line.startswith("| Kubernetes version"))
        rows = []
        for line in lines[start + 2:]:
            if not line.startswith("|"):
                break
            rows.append([cell.strip() for cell in line.strip("|").split("|")])
        return rows

    data = catalogs.aks_calendar()
    columns = ("version", "upstream", "preview", "ga", "eol")
    assert [[row[c] for c in columns + ("platform_support",)] for row in data["calendar"]] == \
        table("## AKS Kubernetes release calendar and upcoming versions")
    assert [[row[c] for c in columns + ("lts_eol",)] for row in data["lts"]] == table("### LTS versions")
    assert data["_commit"] in data["_source"] and data["_date"] in data["_source"]


def test_calendar_dates_are_read_as_the_page_says():
    """'Unless an explicit date is provided, the End of Life (EOL) date is the last day of the specified month'."""
    assert aks_versions.parse_date("Mar 2026") == date(2026, 3, 31)
    assert aks_versions.parse_date("Feb 2028") == date(2028, 2, 29)
    assert aks_versions.parse_date("Aug 22, 2025") == date(2025, 8, 22)
    assert aks_versions.parse_date("Jun 2026", end=False) == date(2026, 6, 1)
    minors = {m.version: m for m in aks_versions.calendar()[1]}
    assert minors["1.30"].eol == date(2025, 8, 22) and minors["1.30"].lts_eol == date(2026, 7, 31)
    assert minors["1.37"].lts_eol == date(2028, 10, 31) and aks_versions.calendar_date() == CALENDAR


def test_the_window_on_the_calendars_date():
    on = aks_versions.calendar_date()
    assert [m.version for m in aks_versions.supported(on, lts=False)] == ["1.34", "1.35", "1.36"]  # N-2
    assert [m.version for m in aks_versions.supported(on, lts=True)] == ["1.31", "1.32", "1.33", "1.34", "1.35",
                                                                        "1.36"]


@pytest.mark.parametrize("version, tier", [("1.34", "Free"), ("1.36.2", "Standard"), ("1.33", "Premium"),
                                           ("1.31.9", "Premium")])
def test_a_supported_minor_is_taken(version, tier):
    assert _cfg(kubernetesVersion=version, tier=tier).cluster.kubernetes_version == version


@pytest.mark.parametrize("version, tier, why", [
    ("1.20", "Standard", "1.20 is older than every version on the calendar (its oldest: 1.29)"),
    ("1.28", "Premium", "1.28 is older than every version on the calendar (its oldest: 1.29)"),
    ("1.33", "Standard", "1.33's community support ended 2026-07-31; AKS's Long-Term Support (cluster.tier Premium) "
                         "keeps it until 2027-07-31"),
    ("1.31", "Free", "1.31's community support ended 2025-11-01; AKS's Long-Term Support (cluster.tier Premium) "
                     "keeps it until 2026-11-30"),
    ("1.30.14", "Premium", "AKS's support of 1.30 ended 2026-07-31"),
    ("1.29", "Standard", "AKS's support of 1.29 ended 2025-03-31 (its Long-Term Support on 2026-04-30)"),
])
def test_a_minor_aks_no_longer_supports_is_refused_with_the_window(version, tier, why):
    with pytest.raises(ConfigError) as refused:
        _cfg(kubernetesVersion=version, tier=tier)
    [problem] = [p for p in refused.value.problems if p.startswith("cluster.kubernetesVersion")]
    assert problem == (f"cluster.kubernetesVersion '{version}' is invalid; allowed: a minor AKS supports on its "
                       "release calendar of 2026-08-21 (config/data/aks_kubernetes_versions.json): 1.34, 1.35, 1.36 "
                       "(and 1.37, GA Oct 2026), or with cluster.tier Premium (its Long-Term Support) 1.31, 1.32, "
                       "1.33, 1.34, 1.35, 1.36 (and 1.37, GA Oct 2026); "
                       f"{why}")


def test_a_minor_is_supported_from_the_first_day_of_its_ga_month_to_its_last_day():
    """The page's rules at their edges (found by mutation testing): a GA month counts from its first day, an end of
    life written as a month is that month's last day, Long-Term Support's on the Premium tier alike."""
    def window(on, lts=False):
        return [m.version for m in aks_versions.supported(on, lts)]
    assert "1.37" not in window(date(2026, 9, 30)) and "1.37" in window(date(2026, 10, 1))  # GA Oct 2026
    assert "1.34" in window(date(2026, 11, 30)) and "1.34" not in window(date(2026, 12, 1))  # EOL Nov 2026
    assert "1.34" in window(date(2027, 11, 30), lts=True) and "1.34" not in window(date(2027, 12, 1), lts=True)
    assert aks_versions.unsupported("1.34", False, date(2026, 11, 30)) is None
    assert aks_versions.unsupported("1.34", False, date(2027, 11, 30)) == (
        "1.34's community support ended 2026-11-30; AKS's Long-Term Support (cluster.tier Premium) keeps it until "
        "2027-11-30")
    assert aks_versions.unsupported("1.34", False, date(2027, 12, 1)) == \
        "AKS's support of 1.34 ended 2026-11-30 (its Long-Term Support on 2027-11-30)"


def test_a_minor_the_lts_table_lacks_ends_with_its_community_support(monkeypatch):
    """A calendar row without an LTS row (a new minor, as the data file's next refresh may bring): once it ends, it
    is refused on either tier with its end of life alone, no Long-Term Support named."""
    newer = copy.deepcopy(catalogs.aks_calendar())
    newer["calendar"].append({"version": "1.38", "upstream": "Dec 2026", "preview": "Feb 2027", "ga": "Mar 2027",
                              "eol": "Mar 2028", "platform_support": "Until 1.42 GA"})
    monkeypatch.setattr(aks_versions, "aks_calendar", lambda: newer)
    aks_versions.calendar.cache_clear()
    try:
        [soon] = aks_versions.notes("1.38", False, date(2028, 3, 1), "westeurope")  # no LTS to suggest
        assert soon.endswith("(none on 2028-03-01)")
        for lts in (False, True):
            assert aks_versions.unsupported("1.38", lts, date(2028, 3, 31)) is None
            assert aks_versions.unsupported("1.38", lts, date(2028, 4, 1)) == "AKS's support of 1.38 ended 2028-03-31"
    finally:
        monkeypatch.undo()
        aks_versions.calendar.cache_clear()


def test_the_check_reads_the_data_file(monkeypatch):
    """A newer calendar moves the window: nothing is hard-coded but the rules of the page."""
    newer = copy.deepcopy(catalogs.aks_calendar())
    newer["_date"] = "2027-09-15"
    newer["calendar"].append({"version": "1.38", "upstream": "Dec 2026", "preview": "Feb 2027", "ga": "Mar 2027",
                              "eol": "Mar 2028", "platform_support": "Until 1.42 GA"})
    monkeypatch.setattr(aks_versions, "aks_calendar", lambda: newer)
    aks_versions.calendar.cache_clear()
    try:
        with pytest.raises(ConfigError, match=r"calendar of 2027-09-15 \(config/data/aks_kubernetes_versions.json\): "
                                              r"1.37, 1.38, or with cluster.tier Premium \(its Long-Term Support\) "
                                              r"1.34, 1.35, 1.36, 1.37, 1.38; 1.34's community support ended "
                                              r"2026-11-30"):
            _cfg(kubernetesVersion="1.34")
        assert _cfg(kubernetesVersion="1.38").cluster.kubernetes_version == "1.38"
    finally:
        monkeypatch.undo()
        aks_versions.calendar.cache_clear()
    assert _cfg(kubernetesVersion="1.34").cluster.kubernetes_version == "1.34"  # the repository's calendar again


def test_the_schema_versions_the_manifests_are_checked_against_are_minors_aks_supports():
    """llmplatform.kubernetes_schemas validates every manifest against AKS_KUBERNETES_VERSIONS: each must be a
    minor AKS supports on the calendar's date (the stacks leave kubernetesVersion to AKS's default, a GA minor)."""
    window = {m.version for m in aks_versions.supported(aks_versions.calendar_date(), lts=False)}
    assert {aks_versions.minor_of(v) for v in AKS_KUBERNETES_VERSIONS} <= window


@pytest.mark.parametrize("today, version, tier, note", [
    # judged on the calendar's date: no end of life within 60 days, nothing to say
    (CALENDAR, "1.34", "Free", None),
    # 46 days before 1.34's end of life: the date, and where Long-Term Support would take it
    (date(2026, 10, 15), "1.34", "Free", "cluster.kubernetesVersion '1.34': AKS's support of 1.34 ends 2026-11-30, "
     "46 days after 2026-10-15 (AKS's release calendar of 2026-08-21): then AKS creates no cluster with it and this "
     "one runs unsupported; plan the upgrade to a newer minor (1.35, 1.36, 1.37 on 2026-10-15); cluster.tier Premium "
     "(Long-Term Support) keeps it until 2027-11-30"),
    (date(2026, 10, 15), "1.34", "Premium", None),  # LTS until 2027-11-30
    (date(2026, 10, 15), "1.31", "Premium", "AKS's support of 1.31 ends 2026-11-30, 46 days after 2026-10-15"),
    # past its end of life by today (the config check passed it on the calendar's date)
    (date(2026, 12, 2), "1.34", "Standard", "cluster.kubernetesVersion '1.34' has lost AKS's support by today "
     "(2026-12-02), by AKS's release calendar of 2026-08-21: 1.34's community support ended 2026-11-30; AKS's "
     "Long-Term Support (cluster.tier Premium) keeps it until 2027-11-30; AKS creates no cluster with it, so pick a "
     "minor AKS supports on its release calendar of 2026-08-21 (config/data/aks_kubernetes_versions.json) as of "
     "2026-12-02: 1.35, 1.36, 1.37"),
    (CALENDAR, "1.37", "Standard", "cluster.kubernetesVersion '1.37': 1.37 is not GA on AKS's release calendar of "
     "2026-08-21 (preview Sep 2026, GA Oct 2026): until then AKS offers it as a preview at most; check `az aks "
     "get-versions --location westeurope -o table`"),
    (CALENDAR, "1.38", "Standard", "1.38 is newer than every version on AKS's release calendar of 2026-08-21 (the "
     "newest: 1.37, GA Oct 2026)"),
])
def test_end_of_life_warnings_on_todays_date(today, version, tier, note):
    found = [a for a in advisories(_cfg(kubernetesVersion=version, tier=tier), today=today)
             if "kubernetesVersion" in a]
    assert found == [] if note is None else (len(found) == 1 and note in found[0]), found


def test_the_end_of_life_warning_runs_from_60_days_before_to_the_last_day_and_names_lts_only_off_premium():
    """notes() at its edges (found by mutation testing): 60 days before the end of life warns, 61 does not; the last
    day warns, the day after is the refusal's (no note); Long-Term Support is suggested only to a tier without it;
    a minor is GA from the first day of its GA month."""
    def note(version, lts, on):
        return aks_versions.notes(version, lts, on, "westeurope")
    assert note("1.34", False, date(2026, 9, 30)) == [] and note("1.34", False, date(2026, 12, 1)) == []
    for on, days in ((date(2026, 10, 1), 60), (date(2026, 11, 30), 0)):
        [warned] = note("1.34", False, on)
        assert f"ends 2026-11-30, {days} days after {on}" in warned
        assert warned.endswith("; cluster.tier Premium (Long-Term Support) keeps it until 2027-11-30")
    [premium] = note("1.31", True, date(2026, 10, 15))
    assert premium.endswith("(1.32, 1.33, 1.34, 1.35, 1.36, 1.37 on 2026-10-15)")  # on LTS already: nothing more
    assert note("1.37", False, date(2026, 10, 1)) == [] and "is not GA" in note("1.37", False, date(2026, 9, 30))[0]
    assert "(and 1.37, GA Oct 2026)" in aks_versions.window(date(2026, 9, 30))  # coming until its GA day
    assert "1.36, 1.37, or with" in aks_versions.window(date(2026, 10, 1)) and "(and" not in \
        aks_versions.window(date(2026, 10, 1))


def test_an_old_calendar_is_a_plan_warning_not_a_failing_test():
    assert aks_versions.stale(CALENDAR) is None
    assert aks_versions.stale(date(2026, 12, 19)) is None  # 120 days
    note = aks_versions.stale(date(2026, 12, 20))
    assert note and note.startswith("config/data/aks_kubernetes_versions.json, AKS's Kubernetes release calendar, is "
                                    "of 2026-08-21, 121 days before today (2026-12-20)")
    unpinned = parse_config(stack_raw("dev"), "p", "dev")  # every stack: the calendar also backs the schema check
    assert note in advisories(unpinned, today=date(2026, 12, 20))
    assert not [a for a in advisories(unpinned, today=CALENDAR) if "aks_kubernetes_versions" in a]


def test_the_plan_warns_of_an_end_of_life_and_of_an_old_calendar(tmp_path, capsys, monkeypatch):
    """Through `python -m offline.plan --stack dev --set cluster.kubernetesVersion=...` with today's date fixed: the
    program judges its config on that date (both warnings name it). One plan: the day before the warning window is
    the advisories' own (a whole plan of dev for it cost ~0.35 s; docs/performance.md 2026-12-04)."""
    # 1.35's end of life is 80 days away: no warning of it yet
    early = advisories(_cfg(kubernetesVersion="1.35"), today=date(2027, 1, 10))
    assert not [w for w in early if w.startswith("cluster.kubernetesVersion")]
    stale = [w for w in early if w.startswith("config/data/aks_kubernetes_versions.json")]
    assert len(stale) == 1 and "142 days before today (2027-01-10)" in stale[0]
    warnings = _plan_warnings(tmp_path, capsys, monkeypatch, date(2027, 2, 14), "cluster.kubernetesVersion=1.35")
    assert any(re.match(r"cluster.kubernetesVersion '1.35': AKS's support of 1.35 ends 2027-03-31, 45 days after "
                        r"2027-02-14", w) for w in warnings), warnings
    stale = [w for w in warnings if w.startswith("config/data/aks_kubernetes_versions.json")]
    assert len(stale) == 1 and "177 days before today (2027-02-14)" in stale[0], warnings
