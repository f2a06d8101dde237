"""The `cost` section: the cost estimate's assumptions and price overrides (a regional or the global stack)."""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from ..reader import Reader, describe


@dataclass(frozen=True)
class CostConfig:
    log_analytics_gb_per_day: float = 0.5  # Container Insights + diagnostics ingestion the estimate assumes
    prices: dict = field(default_factory=dict)  # overrides of config/data/prices/<region>.json entries


def parse_cost(r: Reader) -> CostConfig:
    d = CostConfig()
    gb = r.float_("logAnalyticsGbPerDay", d.log_analytics_gb_per_day)
    if not 0 <= gb <= 10000:
        r.problem(f"cost.logAnalyticsGbPerDay ({gb:g}) must be between 0 and 10000")
    raw = r.raw.get("prices") if isinstance(r.raw.get("prices"), dict) else {}
    r.section("prices")  # read as a whole below; its keys are price names, not settings
    prices: dict = {}
    if r.has("prices") and not isinstance(r.raw.get("prices"), dict):
        r.problem("cost.prices must be an object of price names to numbers")
    for key, value in raw.items():
        entries = value if isinstance(value, dict) else {None: value}
        for sub_key, number in entries.items():
            where = f"cost.prices.{key}" + (f".{sub_key}" if sub_key else "")
            if isinstance(number, bool) or not isinstance(number, (int, float)) or not math.isfinite(number) \
                    or number < 0:
                r.problem(f"{where} must be a finite price >= 0, got {describe(number)}")
        prices[str(key)] = dict(value) if isinstance(value, dict) else value
    r.reject_unknown_keys()
    return CostConfig(log_analytics_gb_per_day=gb, prices=prices)
