"""docs/cost.md's dev workload node row: the pods it names and the requests it states are dev's plan's (the dollar
figures are tests/offline/test_cost.py's)."""
import re
from pathlib import Path

from offline import capacity
from offline.capacity import allocatable
from config.catalogs import vm_shape

ROW = re.compile(r"^\| Workload node, .*? \| \d+ \| (?P<pods>.+?): (?P<cpu>[\d.]+) CPU / (?P<mem>[\d.]+) GiB requested "
                 r"of (?P<cpu_all>[\d.]+) / (?P<mem_all>[\d.]+) allocatable \|$", re.M)


def _row() -> re.Match:
    text = (Path(__file__).resolve().parents[2] / "docs" / "cost.md").read_text()
    row = ROW.search(text.split("Dev idle, from")[1])
    assert row, "docs/cost.md: the dev workload node row"
    return row


def test_the_dev_workload_rows_requests_are_the_capacity_models(dev):
    row, fit = _row(), capacity.idle_capacity(dev)
    cpu_m, mem_mi = fit.requests["cpu"]
    pool = next(p for p in capacity.pools(dev) if p.name == "cpu")
    shape = vm_shape(pool.vm_size)
    cpu_all, mem_all = allocatable(shape.vcpus, shape.memory_gib, pool.max_pods)
    assert (row["cpu"], row["mem"]) == (f"{cpu_m / 1000:.1f}", f"{mem_mi / 1024:.1f}")
    assert (row["cpu_all"], row["mem_all"]) == (f"{cpu_all / 1000:.1f}", f"{mem_all / 1024:.1f}")


def test_the_dev_workload_row_names_valkey_only_where_dev_runs_one(dev):
    """Dev's UI of one replica and one worker has no Valkey (OpenWebUi's default max_replicas 1)."""
    runs_valkey = any(p.owner.endswith("/webui-redis") and p.count for p in capacity.program_pods(dev))
    assert ("Valkey" in _row()["pods"]) == runs_valkey
