"""The `cost` section: the cost estimate's assumptions and price overrides (a regional or the global stack)."""
from __future__ import annotations

import copy
import functools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from ..reader import Reader, as_number, describe


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
    r.section("prices")  # read as a whole below (the Reader refuses one that is no object); keys are price names
    prices: dict = {}
    for key, value in raw.items():
        entries = value if isinstance(value, dict) else {None: value}
        numbers = {}
        for sub_key, given in entries.items():
            where = f"cost.prices.{key}" + (f".{sub_key}" if sub_key is not None else "")
            if isinstance(value, dict) and (sub_key is None or not str(sub_key).strip()):
                r.problem(f"cost.prices.{key} has an entry without a name ({describe(sub_key)}): name the VM size "
                          f"or disk size it prices")
                continue
            number = as_number(given)
            if number is None or number < 0:
                r.problem(f"{where} must be a finite price >= 0, got {describe(given)}")
            numbers[sub_key] = given if number is None else number
        prices[str(key)] = numbers if isinstance(value, dict) else numbers[None]
    r.reject_unknown_keys()
    return CostConfig(log_analytics_gb_per_day=gb, prices=prices)


PRICES = Path(__file__).resolve().parent.parent / "data" / "prices"  # one price file per region, with its date


@functools.lru_cache(maxsize=None)
def _read_price_file(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


def price_file(region: str, folder: Path = PRICES) -> Optional[dict[str, Any]]:
    """The region's price file (config/data/prices/<region>.json), or None when there is none. Read once per process
    (the config's check of `cost.prices` and the cost estimate share it); each caller gets its own copy."""
    path = folder / f"{region}.json"
    return copy.deepcopy(_read_price_file(path)) if path.is_file() else None


def price_override_problems(prices: dict[str, Any], overrides: dict[str, Any], file_name: str) -> list[str]:
    """Why `cost.prices` overrides do not fit a price file: a name it has no price of (a typo), a table given one
    number, one price given a table, a disk size that is not one."""
    problems = []
    for key, value in overrides.items():
        if key not in prices or key.startswith("_") or isinstance(prices[key], str):  # region, currency: no prices
            problems.append(f"cost.prices.{key} names no price in {file_name}")
        elif isinstance(value, dict) and not isinstance(prices[key], dict):
            problems.append(f"cost.prices.{key} is a single price, not a table")
        elif isinstance(value, dict):
            problems += [f"cost.prices.{key}.{entry}: {key}'s entries are sizes in GB, like "
                         f"cost.prices.{key}.{next(iter(prices[key]))}" for entry in value
                         if all(k.isdigit() for k in prices[key]) and not str(entry).isdigit()]  # os_disk_monthly
        elif isinstance(prices[key], dict):
            problems.append(f"cost.prices.{key} is a table of prices, not a single price; set one of its entries, "
                            f"like cost.prices.{key}.{next(iter(prices[key]))}")
    return problems


def cost_price_checks(r: Reader, cost: CostConfig, location: str) -> None:
    """`cost.prices` against the location's price file, when it has one (without, the plan says there is no
    estimate): a misspelt price name is refused, as any unknown key is, not dropped from the estimate unseen."""
    prices = price_file(location) if cost.prices else None
    if prices is not None:
        for problem in price_override_problems(prices, cost.prices, f"{location}.json"):
            r.problem(problem)
