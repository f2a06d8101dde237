"""Which Kubernetes minor versions AKS supports, from its release calendar (config/data/aks_kubernetes_versions.json,
with its date and source).

`cluster.kubernetesVersion` is refused (config/sections/cluster.py) when AKS no longer supports its minor on the
calendar's own date: a fixed date, so a stack that plans today plans tomorrow, and no test depends on the clock. What
depends on today's date is a warning of the plan (config/advisories.py): a version whose end of life the calendar
puts before today or within EOL_SOON_DAYS of it, and a calendar older than STALE_AFTER_DAYS.

AKS's rules (the calendar's page, MicrosoftDocs/azure-aks-docs articles/aks/supported-kubernetes-versions.md, and
long-term-support.md): an end of life written as a month is its last day; AKS creates no cluster with a version past
its end of life; the Premium tier with the AKSLongTermSupport plan (AksCluster sets them together) supports a version,
new clusters included, until its LTS end of life.
"""
from __future__ import annotations

import calendar as months
import functools
from datetime import date, datetime
from typing import NamedTuple, Optional

from .catalogs import aks_calendar

EOL_SOON_DAYS = 60  # an end of life this close is a warning: the upgrade wants planning and testing
STALE_AFTER_DAYS = 120  # about one Kubernetes minor's cadence (the community releases one roughly every four months)
DATA_FILE = "config/data/aks_kubernetes_versions.json"


class Minor(NamedTuple):
    version: str  # "1.33"
    preview: str  # as written: "May 2025"
    ga: str  # as written: "Jun 2025"
    eol: date  # the end of community support
    lts_eol: Optional[date]  # the end of Long-Term Support (Premium tier); None when the LTS table lacks the version

    @property
    def ga_month(self) -> date:
        return parse_date(self.ga, end=False)

    def end(self, lts: bool) -> date:
        """The last day AKS supports it: its LTS end of life on the Premium tier, else its end of life."""
        return self.lts_eol if lts and self.lts_eol else self.eol


def today() -> date:
    """Today's date, for the plan's warnings only (tests replace it)."""
    return date.today()


def parse_date(text: str, end: bool = True) -> date:
    """The calendar's dates: 'Aug 22, 2025' is that day; 'Mar 2026' is the month's last day (the page: 'Unless an
    explicit date is provided, the End of Life (EOL) date is the last day of the specified month'), or its first
    with `end` false (a GA month)."""
    try:
        return datetime.strptime(text, "%b %d, %Y").date()
    except ValueError:
        month = datetime.strptime(text, "%b %Y").date()
    return month.replace(day=months.monthrange(month.year, month.month)[1]) if end else month


def _key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def minor_of(version: str) -> str:
    """'1.33.2' -> '1.33'."""
    return ".".join(version.split(".")[:2])


@functools.lru_cache(maxsize=None)
def calendar() -> tuple[date, tuple[Minor, ...]]:
    """The calendar's date and its minors, oldest first: the release calendar's rows and the LTS table's, one per
    minor (the LTS table adds the LTS end of life, and the minors past their community support)."""
    data = aks_calendar()
    rows: dict[str, dict[str, str]] = {}
    for row in data["lts"] + data["calendar"]:
        rows.setdefault(row["version"], {}).update(row)
    minors = tuple(Minor(v, row["preview"], row["ga"], parse_date(row["eol"]),
                         parse_date(row["lts_eol"]) if "lts_eol" in row else None)
                   for v, row in sorted(rows.items(), key=lambda item: _key(item[0])))
    return date.fromisoformat(data["_date"]), minors


def calendar_date() -> date:
    return calendar()[0]


def supported(on: date, lts: bool) -> list[Minor]:
    """The minors AKS supports on `on`: GA by then, their end of life not passed."""
    return [m for m in calendar()[1] if m.ga_month <= on <= m.end(lts)]


def _listed(minors: list[Minor]) -> str:
    return ", ".join(m.version for m in minors) or "none"


def _coming(on: date) -> str:
    """The calendar's minors not GA on `on`, which config accepts too (`unsupported` refuses only an ended one)."""
    later = [m for m in calendar()[1] if on < m.ga_month]
    return f" (and {', '.join(f'{m.version}, GA {m.ga}' for m in later)})" if later else ""


def window(on: date) -> str:
    """What AKS supports on `on`, by the calendar, in the words of an error's `allowed`: the minors GA and supported
    then, and those it lists as coming (a stack may name them: AKS creates them once GA; the plan warns before)."""
    when = "" if on == calendar_date() else f" as of {on}"
    return (f"a minor AKS supports on its release calendar of {calendar_date()} ({DATA_FILE}){when}: "
            f"{_listed(supported(on, False))}{_coming(on)}, or with cluster.tier Premium (its Long-Term Support) "
            f"{_listed(supported(on, True))}{_coming(on)}")


def unsupported(version: str, lts: bool, on: date) -> Optional[str]:
    """Why AKS does not support `version`'s minor on `on`, or None (supported, or newer than the calendar or not yet
    GA on it: those the calendar cannot refuse, see `notes`)."""
    minors = calendar()[1]
    minor = minor_of(version)
    known = {m.version: m for m in minors}
    if minor in known:
        m = known[minor]
        if on <= m.end(lts):
            return None
        if not lts and m.lts_eol and on <= m.lts_eol:
            return (f"{minor}'s community support ended {m.eol}; AKS's Long-Term Support (cluster.tier Premium) "
                    f"keeps it until {m.lts_eol}")
        return f"AKS's support of {minor} ended {m.end(lts)}" + (
            f" (its Long-Term Support on {m.lts_eol})" if m.lts_eol and m.lts_eol != m.end(lts) else "")
    if _key(minor) < _key(minors[0].version):
        return f"{minor} is older than every version on the calendar (its oldest: {minors[0].version})"
    return None


def notes(version: str, lts: bool, on: date, location: str) -> list[str]:
    """Warnings about a version AKS supports on `on` (or may: newer than the calendar, or not GA on it yet)."""
    minors = calendar()[1]
    minor, stamp = minor_of(version), calendar_date()
    known = {m.version: m for m in minors}
    check = f"check `az aks get-versions --location {location} -o table`"
    if minor not in known:
        if _key(minor) > _key(minors[-1].version):
            return [f"cluster.kubernetesVersion {version!r}: {minor} is newer than every version on AKS's release "
                    f"calendar of {stamp} (the newest: {minors[-1].version}, GA {minors[-1].ga}): AKS creates "
                    f"clusters only with versions it offers in the region; {check}, and refresh {DATA_FILE}"]
        return []
    m = known[minor]
    if on < m.ga_month:
        return [f"cluster.kubernetesVersion {version!r}: {minor} is not GA on AKS's release calendar of {stamp} "
                f"(preview {m.preview}, GA {m.ga}): until then AKS offers it as a preview at most; {check}"]
    end = m.end(lts)
    newer = [n for n in supported(on, lts) if _key(n.version) > _key(minor)]
    if on <= end and (end - on).days <= EOL_SOON_DAYS:
        longer = (f"; cluster.tier Premium (Long-Term Support) keeps it until {m.lts_eol}"
                  if not lts and m.lts_eol and m.lts_eol > end else "")
        return [f"cluster.kubernetesVersion {version!r}: AKS's support of {minor} ends {end}, {(end - on).days} days "
                f"after {on} (AKS's release calendar of {stamp}): then AKS creates no cluster with it and this one "
                f"runs unsupported; plan the upgrade to a newer minor ({_listed(newer)} on {on}){longer}"]
    return []


def stale(now: date) -> Optional[str]:
    """A warning when the calendar is older than STALE_AFTER_DAYS on `now`."""
    stamp = calendar_date()
    age = (now - stamp).days
    if age <= STALE_AFTER_DAYS:
        return None
    return (f"{DATA_FILE}, AKS's Kubernetes release calendar, is of {stamp}, {age} days before today ({now}): AKS "
            f"has likely released a minor since and moved support dates, so cluster.kubernetesVersion is checked "
            f"against old dates; refresh it from MicrosoftDocs/azure-aks-docs articles/aks/"
            f"supported-kubernetes-versions.md (its `_source` says how)")
