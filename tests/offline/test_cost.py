"""The monthly cost estimate (cost): idle and peak per component and resource from the recorded inputs and a dated price
file; spot prices for spot pools; unknown sizes named, never zero; overrides from config; cost.json written."""

import json
import math
import re
from pathlib import Path

import pytest

from config.catalogs import vm_shape
from offline import cost, plan as plan_cli

from tests.conftest import variant


def test_an_ephemeral_os_disk_costs_nothing_and_a_managed_one_is_charged(prod):
    from offline import cost
    lines = [line for line in cost.estimate(prod, "westeurope", 0.5).lines if line.item.startswith("OS disks")]
    by_resource = {line.resource: line for line in lines}
    assert by_resource["platform-cpu"].item == "OS disks (ephemeral)" and by_resource["platform-cpu"].peak == 0
    assert by_resource["gpu-gpu"].item == "OS disks" and by_resource["gpu-gpu"].peak > 0


PRICES = cost.load_prices("westeurope")


def lines(est, component_prefix):
    return [line for line in est.lines if line.component.startswith(component_prefix)]


def test_dev_idle_and_peak_follow_the_autoscaler_bounds_and_spot_prices():
    est = cost.estimate(variant("dev"), "westeurope", 0.5)
    gpu = [line for line in lines(est, "GpuNodePool") if "Standard_NC4as_T4_v3" in line.item]
    assert len(gpu) == 1 and gpu[0].idle == 0 and "spot" in gpu[0].item
    assert gpu[0].peak == pytest.approx(PRICES["vm_spot_hourly"]["Standard_NC4as_T4_v3"] * 730, abs=0.01)
    system = [line for line in lines(est, "AksCluster") if line.item.startswith("system:")]
    assert system[0].idle == pytest.approx(PRICES["vm_hourly"]["Standard_B2s"] * 730, abs=0.01)
    assert system[0].peak == pytest.approx(2 * system[0].idle, abs=0.02)
    cpu = [line for line in lines(est, "AksCluster") if line.item.startswith("cpu:")]
    assert cpu[0].item == "cpu: Standard_D4ads_v5 spot"
    assert cpu[0].idle == pytest.approx(PRICES["vm_spot_hourly"]["Standard_D4ads_v5"] * 730, abs=0.01)
    by_resource = {(line.resource, line.item): line for line in est.lines}
    # the system pool's 64 GiB managed OS disk is priced at its own tier; the spot pool's is ephemeral
    assert by_resource[("platform-aks", "OS disks")].idle == PRICES["os_disk_monthly"]["64"]
    assert by_resource[("platform-cpu", "OS disks (ephemeral)")].peak == 0
    assert by_resource[("platform-aks", "outbound public IP")].idle == PRICES["public_ip_monthly"]
    uploads = by_resource[("inference-webui-uploads", "Files Standard, at most 10 GiB (dynamic share)")]
    assert uploads.idle == pytest.approx(10 * PRICES["files_standard_gib_month"])
    assert est.unpriced == [] and est.total("idle") < est.total("peak")
    assert {c.split()[0] for c in est.by_component()} >= {"AksCluster", "GpuNodePool", "ModelStore", "PostgresServer",
                                                           "GatewayAccess"}


def test_prod_counts_ha_geo_backup_grafana_defender_and_private_endpoints():
    est = cost.estimate(variant("prod"), "westeurope", 2.0)
    items = " | ".join(line.item for line in est.lines)
    for expected in ("HA standby", "geo-redundant backup", "Azure Managed Grafana", "Defender for Containers",
                     "private endpoint", "AKS Standard tier", "Files Premium_ZRS"):
        assert expected in items, expected


def test_postgres_storage_and_its_geo_backup_are_priced_at_the_size_the_server_is_sent(prod, dev):
    """The server's size is the input `storage.storageSizeGB` (azure-native's Storage type, the REST spec's name):
    prod's 128 GB, not Azure's 32 GB default; a larger size costs more (a day-2 grow showed +0.00). With HA the
    standby has storage of the primary's size of its own (concepts-high-availability.md: "the same virtual machine
    configuration, including vCores, storage"), so prod pays for it twice; dev (no HA) once."""
    server = prod.one("azure-native:dbforpostgresql:Server")
    size = server.inputs["storage"]["storageSizeGB"]
    assert size == 128 and server.inputs["highAvailability"]["mode"] == "ZoneRedundant"  # Pulumi.prod.yaml
    by_item = {line.item: line for line in cost.estimate(prod, "westeurope", 2.0).lines
               if line.resource == server.name}
    assert by_item[f"PostgreSQL storage {size} GB x2 (HA standby)"].idle == pytest.approx(
        2 * size * PRICES["postgres_storage_gib_month"], abs=0.01)
    single = dev.one("azure-native:dbforpostgresql:Server")
    assert (single.inputs.get("highAvailability") or {}).get("mode", "Disabled") == "Disabled"
    dev_size = single.inputs.get("storage", {}).get("storageSizeGB") or 32
    assert [x.idle for x in cost.estimate(dev, "westeurope", 0.5).lines if x.item.startswith("PostgreSQL storage")] \
        == [pytest.approx(dev_size * PRICES["postgres_storage_gib_month"], abs=0.01)]
    assert by_item["geo-redundant backup"].idle == pytest.approx(size * PRICES["postgres_geo_backup_gib_month"], abs=0.01)


def test_an_unpriced_size_is_named_not_counted_as_zero(monkeypatch):
    original = cost.load_prices

    def without_t4(region, overrides=None):
        prices = original(region, overrides)
        del prices["vm_spot_hourly"]["Standard_NC4as_T4_v3"]
        return prices
    monkeypatch.setattr(cost, "load_prices", without_t4)
    est = cost.estimate(variant("dev"), "westeurope", 0.5)
    assert any("Standard_NC4as_T4_v3" in message and "vm_spot_hourly" in message for message in est.unpriced)
    assert not any("Standard_NC4as_T4_v3" in line.item for line in est.lines)
    assert any(line.startswith("cost warning:") for line in cost.report_lines(est))


def test_prices_are_overridable_and_bad_overrides_are_named():
    base = cost.estimate(variant("dev"), "westeurope", 0.5)
    cheaper = cost.estimate(variant("dev"), "westeurope", 0.5, {"load_balancer_monthly": 0,
                                                                 "vm_spot_hourly": {"Standard_D4ads_v5": 0.01}})
    saved = PRICES["load_balancer_monthly"] + (PRICES["vm_spot_hourly"]["Standard_D4ads_v5"] - 0.01) * 730
    assert cheaper.total("idle") == pytest.approx(base.total("idle") - saved, abs=0.02)
    with pytest.raises(cost.CostError, match="cost.prices.no_such_price"):
        cost.load_prices("westeurope", {"no_such_price": 1})
    with pytest.raises(cost.CostError, match="no price file for region 'northeurope'"):
        cost.load_prices("northeurope")


def test_price_file_has_a_date_a_source_and_every_catalog_gpu_size():
    from llmplatform.gpu_skus import known_gpu_sizes
    assert PRICES["_date"] and "not fetched" in PRICES["_source"].lower().replace("NOT", "not")
    for size in known_gpu_sizes():
        assert size in PRICES["vm_hourly"] and size in PRICES["vm_spot_hourly"] and vm_shape(size)
    for size in PRICES["vm_hourly"]:  # every priced size has the vCPU/memory figures the capacity check needs
        assert vm_shape(size), size


def test_make_plan_prints_and_writes_the_estimate(tmp_path, capsys, monkeypatch):
    from offline import runner as offline
    variant("dev")  # computed before the patch: the session cache computes it with the real `run`
    monkeypatch.setattr(offline, "run", lambda stack, **kwargs: variant(stack))  # the CLI path on a cached plan
    assert plan_cli.main(["--stack", "dev", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "Estimated monthly cost (USD, westeurope list prices of" in out
    doc = json.loads((tmp_path / "dev" / "cost.json").read_text())
    assert doc["idleMonthly"] < doc["peakMonthly"] and doc["byComponent"] and doc["unpriced"] == []
    assert plan_cli.main(["--stack", "dev", "--out", str(tmp_path), "--set", "location=northeurope"]) == 0
    out = capsys.readouterr().out
    assert "cost warning: no estimate: no price file for region 'northeurope'" in out
    # what to do about it, and doing it gives the estimate: a stand-in file as the warning describes it
    assert "as it is but for \"region\": \"northeurope\", \"_pricesOf\": \"westeurope\" for an estimate labelled a " \
           "stand-in" in out
    stand_in = {**PRICES, "region": "northeurope", "_pricesOf": "westeurope"}
    monkeypatch.setattr(cost, "PRICES", tmp_path / "prices")
    (tmp_path / "prices").mkdir()
    (tmp_path / "prices" / "northeurope.json").write_text(json.dumps(stand_in))
    assert plan_cli.main(["--stack", "dev", "--out", str(tmp_path), "--set", "location=northeurope"]) == 0
    assert "Estimated monthly cost (USD, westeurope list prices of 2026-11-26 standing in for northeurope's" in \
        capsys.readouterr().out


def test_a_budget_whose_first_notice_is_below_the_idle_estimate_is_told_with_the_figures(tmp_path, capsys,
                                                                                         monkeypatch):
    """Azure notifies when the month's actual (or forecast) cost passes a notification's share of the amount (the
    Consumption Budgets REST spec's `threshold`, percent of the budget): a `observability.monthlyBudget` whose lowest
    share, as the stack's Budget carries it, lies under what the stack spends idle notifies every month, even with
    the amount itself above the idle estimate. `make plan` says so with the figures; a budget whose every share is
    above it draws nothing. A quiet month is idle plus the GPU nodes always-on pods keep up (prod's two Ollama
    replicas keep two A100 spot nodes, which idle leaves out): a first notice between the two comes every month too."""
    from offline import runner as offline
    prod = variant("prod")  # computed before the stand-in below replaces the runner
    monkeypatch.setattr(offline, "run", lambda stack, **kwargs: prod)
    doc = json.loads(json.dumps(_estimate(prod).document()))
    idle, kept = doc["idleMonthly"], doc["alwaysOnGpuMonthly"]
    floor = round(idle + kept, 2)
    # two A100 spot nodes, their 128 GB OS disks and their 48 vCPUs of Defender
    assert kept == pytest.approx(2 * (PRICES["vm_spot_hourly"]["Standard_NC24ads_A100_v4"] * 730
                                      + PRICES["os_disk_monthly"]["128"] + 24 * PRICES["defender_vcore_month"]), abs=0.02)
    share = min(n["threshold"] for n in prod.one("azure-native:consumption:Budget").inputs["notifications"].values())
    amount = math.ceil(floor * 100 / ((share + 100) / 2))  # above a quiet month, its first notice below it
    assert floor < amount and idle < amount * share / 100 < floor  # above idle alone: unwarned before
    assert plan_cli.main(["--stack", "prod", "--out", str(tmp_path), "--set",
                          f"observability.monthlyBudget={amount}"]) == 0
    out = capsys.readouterr().out
    assert f"cost warning: observability.monthlyBudget {amount:,.2f} notifies from {share}% of it" in out
    assert f"below a quiet month's ${floor:,.2f} (the idle estimate ${idle:,.2f} and ${kept:,.2f} for the GPU " \
           "nodes always-on pods keep up)" in out
    assert plan_cli.main(["--stack", "prod", "--out", str(tmp_path), "--set",
                          f"observability.monthlyBudget={math.ceil(floor * 100 / share) + 1}"]) == 0
    assert "monthlyBudget" not in capsys.readouterr().out


def _estimate(plan):
    """The estimate `make plan` prints for a plan: its stack's region, Log Analytics volume and price overrides."""
    from config.loader import parse_config
    from offline import runner
    raw = {k.split(":", 1)[1]: v for k, v in runner.stack_config(plan.stack).items()}
    cfg = parse_config(raw, plan.project, plan.stack)
    return cost.estimate(plan, cfg.location, cfg.cost.log_analytics_gb_per_day, cfg.cost.prices)


def _dollars(text: str) -> int:
    return int(text.replace(",", ""))


def test_every_figure_the_docs_state_is_the_plans(dev, prod):
    """README.md and docs/cost.md state the stacks' idle (and peak) figures; docs/cost.md breaks dev's idle down;
    docs/components/llmd-stack.md states the P/D variant's GPU pool and the rest of its stack: each as the plans
    price them today (rounded as written)."""
    root = Path(__file__).resolve().parents[2]
    estimates = {"dev": _estimate(dev), "prod": _estimate(prod), "llmd": _estimate(variant("llmd"))}
    idle = {s: round(e.total("idle")) for s, e in estimates.items()}
    peak = {s: round(e.total("peak")) for s, e in estimates.items()}
    # idle counts GPU pools at their minimum; what always-on pods keep up on top of that is said beside the figure
    kept = {s: sum(int(n) for note in e.notes for n in re.findall(r"keep (\d+) node\(s\) up, left out of idle", note))
            for s, e in estimates.items()}
    words = {"one": 1, "two": 2, "three": 3, "four": 4}
    for doc in ("README.md", "docs/cost.md"):
        text = (root / doc).read_text()
        stated = {s: _dollars(v) for s, v in re.findall(r"\b(dev|prod|llmd) idle about \$([\d,]+)", text)}
        assert stated == idle, doc
        said = {s: words[n] if n else 0 for s, n in re.findall(
            r"\b(dev|prod|llmd) idle about \$[\d,]+[^(,]*(?:\([^)]*?\bkeeps?\s+(\w+)\s+GPU\s+nodes?\s+up)?", text)}
        assert said == kept, doc
    text = (root / "docs" / "cost.md").read_text()
    assert [_dollars(v) for v in re.findall(r"\(peak \$([\d,]+)", text)] == [peak["dev"], peak["prod"]]
    # the dev breakdown: each row's figure from the estimate's lines, and the rows add up to the total
    table = dict(re.findall(r"^\| (.+?) \| (\d+) \|", text.split("Dev idle, from")[1], re.M))
    lines = estimates["dev"].lines
    rows = {  # the table's row -> the estimate's lines it sums (resource, item prefix)
        "Workload node": lambda x: x.resource == "platform-cpu",
        "System node": lambda x: x.resource == "platform-aks" and (x.item.startswith(("system:", "OS disks"))),
        "Outbound load balancer": lambda x: "load balancer" in x.item or "public IP" in x.item,
        "PostgreSQL": lambda x: x.item.startswith("PostgreSQL") or x.item == "private DNS zone",
        "Model share": lambda x: x.component.startswith("ModelStore"),
        "Prometheus and Grafana": lambda x: " volume " in x.item or "dynamic share" in x.item,
    }
    for start, picks in rows.items():
        row = next(v for k, v in table.items() if k.startswith(start))
        assert int(row) == round(sum(x.idle for x in lines if picks(x))), start
    assert sum(int(v) for v in table.values()) == pytest.approx(idle["dev"], abs=2)  # each row rounded on its own
    assert all(any(picks(x) for picks in rows.values()) for x in lines if x.idle), "a dev idle line in no row"
    # llm-d prefill/decode on H100 spot: a node's month, the pool at its peak, the rest of the stack idle
    pd = _estimate(variant("llmd-pd"))
    gpu = next(x for x in pd.lines if x.component.startswith("GpuNodePool") and "ND96isr_H100_v5 spot" in x.item)
    text = (root / "docs" / "components" / "llmd-stack.md").read_text()
    node, at_peak, rest = re.search(r"about \$([\d,]+) a month per node running, \$([\d,]+) at its peak.*?about "
                                    r"\$([\d,]+) for the rest of the\s+stack idle", text, re.S).groups()
    assert _dollars(node) == round(gpu.peak / 2, -2) and _dollars(at_peak) == round(gpu.peak, -2)
    assert _dollars(rest) == round(pd.total("idle"), -2) and gpu.idle == 0


def test_a_stand_in_price_file_says_whose_prices_it_holds(tmp_path, capsys, monkeypatch):
    """swedencentral.json holds West Europe's prices (its _source says so): the printed line and cost.json say so."""
    from offline import runner
    stand_in = cost.load_prices("swedencentral")
    assert stand_in["_pricesOf"] == "westeurope" and "A STAND-IN" in stand_in["_source"]
    assert {k: v for k, v in stand_in.items() if not k.startswith("_") and k != "region"} == \
        {k: v for k, v in PRICES.items() if not k.startswith("_") and k != "region"}  # the copy it says it is
    plan = variant("prod")
    monkeypatch.setattr(runner, "run", lambda stack, **kwargs: plan)  # the CLI path on a cached plan
    assert plan_cli.main(["--stack", "prod", "--out", str(tmp_path), "--set", "location=swedencentral"]) == 0
    out = capsys.readouterr().out
    label = ("westeurope list prices of 2026-11-26 standing in for swedencentral's (not transcribed: "
             "config/data/prices/swedencentral.json)")
    assert f"Estimated monthly cost (USD, {label};" in out and "swedencentral list prices" not in out
    doc = json.loads((tmp_path / "prod.what-if" / "cost.json").read_text())
    assert doc["region"] == "swedencentral" and doc["pricesOf"] == "westeurope" and doc["prices"] == label
    assert cost.estimate(plan, "westeurope", 0.5).prices_label() == "westeurope list prices of 2026-11-26"


def test_readme_states_the_dev_idle_estimate_and_it_is_at_most_150_dollars(dev):
    """The guardrails issue's budget: dev idle at most $150/month with the GPU pool at zero, as the README says."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    stated = int(re.search(r"\*\*dev idle about \$(\d+)/month\*\*", readme).group(1))
    est = cost.estimate(dev, "westeurope", 0.5)
    assert stated == round(est.total("idle")) and est.total("idle") <= 150
    assert est.capacity.problems == [] and est.unpriced == []
    assert all(line.idle == 0 for line in est.lines if line.component.startswith("GpuNodePool"))


def test_the_global_stack_is_priced(global_plan):
    estimate = cost.estimate(global_plan, "westeurope", 0.0)
    assert any("Front Door Premium_AzureFrontDoor base fee" in line.item for line in estimate.lines)
    assert estimate.total("idle") == pytest.approx(330.0)


@pytest.mark.parametrize("setting, told", [
    ("cost.prices.vm_hourly=3", "cost.prices.vm_hourly is a table of prices, not a single price; set one of its "
                                "entries, like cost.prices.vm_hourly.Standard_B2s"),
    ("cost.prices.os_disk_monthly.big=3", "cost.prices.os_disk_monthly.big: os_disk_monthly's entries are sizes in "
                                          "GB, like cost.prices.os_disk_monthly.64"),
    ("cost.prices.region=3", "cost.prices.region names no price in westeurope.json"),
])
def test_a_price_override_of_the_wrong_shape_is_refused_naming_it(setting, told, tmp_path, capsys):
    """`--set cost.prices.vm_hourly=3` (a table given one number), an OS disk tier that is no size, or a file's
    metadata (its region) given as a price: once a traceback from inside the estimator, then a plan without an
    estimate and a warning after it. The config checks the overrides against the location's price file now, so they
    are refused before planning, as any unknown key is, naming the override."""
    assert plan_cli.main(["--stack", "dev", "--out", str(tmp_path), "--set", setting]) == 1
    captured = capsys.readouterr()
    assert f"  - {told}\n" in captured.err and "Traceback" not in captured.out + captured.err
    assert not (tmp_path / "dev.what-if").exists()


def test_an_os_disk_tier_override_written_as_a_yaml_number_replaces_the_files_tier():
    """`os_disk_monthly: {64: 9}` in a stack file reads as the number 64, the price file's key is the string "64":
    the override replaces that tier (Pulumi hands the program a JSON object, whose keys are strings), not a second
    64 GB tier beside it of which the cheaper one wins."""
    prices = cost.load_prices("westeurope", {"os_disk_monthly": {64: 99.0}})
    assert prices["os_disk_monthly"]["64"] == 99.0 and 64 not in prices["os_disk_monthly"]


def test_a_monitoring_volume_is_a_disk_billed_at_the_next_disk_size_of_its_class(prod, dev):
    """Azure bills a managed disk at the next disk size up (disks-understand-billing.md: a 200 GiB disk "billed as if
    it was 256 GiB"), each disk on its own, of its storage class's type: Prometheus' claim names
    `managed-csi-premium` (Premium SSD), Grafana's none, so it gets AKS's `default` class, Standard SSD
    (azure-aks-docs concepts-storage.md). Summed GiB at a Premium per-GiB rate undercounted prod's 200 GiB volume."""
    def claims(plan):
        values = next(r for r in plan.resources if r.name == "observability-kube-prometheus-stack").inputs["values"]
        spec = values["prometheus"]["prometheusSpec"]["storageSpec"]["volumeClaimTemplate"]["spec"]
        return spec, values["grafana"]["persistence"]
    prometheus, grafana = claims(prod)
    assert (prometheus["resources"]["requests"]["storage"], prometheus["storageClassName"]) == \
        ("200Gi", "managed-csi-premium") and grafana["size"] == "10Gi" and "storageClassName" not in grafana
    by_item = {x.item: x.idle for x in cost.estimate(prod, "westeurope", 0.5).lines
               if x.resource == "observability-kube-prometheus-stack"}
    assert by_item == {"Prometheus volume 200 GiB (Premium SSD, billed as 256 GiB)": PRICES["os_disk_monthly"]["256"],
                       "Grafana volume 10 GiB (Standard SSD, billed as 16 GiB)": PRICES["standard_ssd_monthly"]["16"]}
    # dev's 10 GiB Prometheus disk: P3 (16 GiB), a size the file has no tier for, at the per-GiB rate of its 16 GiB
    by_item = {x.item: x.idle for x in cost.estimate(dev, "westeurope", 0.5).lines
               if x.resource == "observability-kube-prometheus-stack"}
    assert by_item["Prometheus volume 10 GiB (Premium SSD, billed as 16 GiB)"] == \
        pytest.approx(16 * PRICES["premium_ssd_gib_month"], abs=0.01)
    assert [cost.gibibytes(q) for q in ("10Gi", "1Ti", "500Mi", "20G", "x")] == [10, 1024, 1, 19, 0]


def test_log_analytics_retention_past_the_included_31_days_is_billed(prod):
    """Ingestion includes 31 days of retention (learn.microsoft.com azure-monitor/logs/data-retention-configure);
    prod's workspace keeps 90, so 59 days of its daily volume are held at a time and billed per GB-month: 2 GB/day
    keeps 118 GB past the included days. A workspace at 30 days (or no ingestion) draws no such line."""
    workspace = prod.one("azure-native:operationalinsights:Workspace")
    assert workspace.inputs["retentionInDays"] == 90
    retention = [x for x in cost.estimate(prod, "westeurope", 2.0).lines if x.item.startswith("Log Analytics retention")]
    assert [(x.item, x.idle, x.peak) for x in retention] == [
        ("Log Analytics retention 90 days (59 beyond the 31 included)",
         pytest.approx(2.0 * 59 * PRICES["log_analytics_retention_gb_month"], abs=0.01),
         pytest.approx(2.0 * 59 * PRICES["log_analytics_retention_gb_month"], abs=0.01))]
    assert not [x for x in cost.estimate(prod, "westeurope", 0.0).lines if "retention" in x.item]


def test_a_spot_pool_is_priced_at_most_at_its_max_price(dev):
    """A spot VM is never billed above the pool's `spotMaxPrice`: Azure evicts it (or starts none) while the spot
    price is above (azure-aks-docs spot-node-pool.md, "Max price for a Spot pool"). A cap under the price file's spot
    price bounds the pool's peak and is said; -1 (dev's) leaves the file's spot price."""
    from dataclasses import replace
    gpu = dev.one("azure-native:containerservice:AgentPool", "gpu-gpu")
    assert gpu.inputs["scaleSetPriority"] == "Spot" and gpu.inputs["spotMaxPrice"] == -1
    spot = PRICES["vm_spot_hourly"][gpu.inputs["vmSize"]]
    capped = replace(dev, resources=[replace(r, inputs={**r.inputs, "spotMaxPrice": 0.1}) if r is gpu else r
                                     for r in dev.resources])
    for plan, hourly in ((dev, spot), (capped, 0.1)):
        est = cost.estimate(plan, "westeurope", 0.5)
        line = next(x for x in est.lines if x.resource == "gpu-gpu" and "spot" in x.item)
        assert line.peak == pytest.approx(gpu.inputs["maxCount"] * hourly * 730, abs=0.01)
        assert any("spotMaxPrice $0.1/hour is below" in n for n in est.notes) == (plan is capped)


def test_defender_vcores_of_a_size_without_a_vcpu_count_are_named_not_counted_as_none(prod):
    """Defender for Containers bills per vCore of the nodes: a pool whose size has no vCPU count in the catalog
    (a size given through `cost.prices` but not in vm_shapes.json) was counted with none, silently."""
    from dataclasses import replace
    pool = prod.one("azure-native:containerservice:AgentPool", "platform-cpu")
    size = "Standard_D8ds_v9"  # no such size in the catalog
    assert vm_shape(size) is None and vm_shape(pool.inputs["vmSize"])
    plan = replace(prod, resources=[replace(r, inputs={**r.inputs, "vmSize": size}) if r is pool else r
                                    for r in prod.resources])
    est = cost.estimate(plan, "westeurope", 0.5, {"vm_hourly": {size: 0.5}})
    assert [m for m in est.unpriced if "Defender" in m] == [
        f"platform-cpu: no vCPU count for '{size}' (config/data/vm_shapes.json): its nodes' Defender for Containers "
        "vCores are left out"]
    assert not [m for m in cost.estimate(prod, "westeurope", 0.5).unpriced if "Defender" in m]


def test_a_price_too_large_to_sum_is_a_cost_error_not_an_assertion(dev):
    """The config takes any finite price >= 0; one near the float limit (a stack file's `1.7e+308`) overflowed to
    infinity times the month's hours and failed `make plan` on an assertion. It is a `CostError`, which the plan
    prints as one `cost warning: no estimate:` line."""
    with pytest.raises(cost.CostError, match=r"platform-aks system: Standard_B2s: its monthly figure is too large"):
        cost.estimate(dev, "westeurope", 0.5, {"vm_hourly": {"Standard_B2s": 1.7e308}})


def test_a_plan_reads_its_price_file_once(tmp_path, capsys, monkeypatch):
    """The config's check of `cost.prices` (run by the plan CLI before planning and by the program) and the cost
    estimate each read config/data/prices/<region>.json: three reads of one file, which could differ had it changed
    between them. One loader now reads it once; the estimate is the override's."""
    import functools
    from config.sections import cost as cost_section
    cold = functools.lru_cache(cost_section._read_price_file.__wrapped__)  # as a fresh process has it
    monkeypatch.setattr(cost_section, "_read_price_file", cold)
    reads: list[str] = []
    read_text = Path.read_text

    def counted(path, *args, **kwargs):
        if path.parent.name == "prices":
            reads.append(path.name)
        return read_text(path, *args, **kwargs)
    monkeypatch.setattr(Path, "read_text", counted)
    assert plan_cli.main(["--stack", "dev", "--out", str(tmp_path), "--set",
                          "cost.prices.load_balancer_monthly=123"]) == 0, capsys.readouterr().err
    assert reads == ["westeurope.json"]
    doc = json.loads((tmp_path / "dev.what-if" / "cost.json").read_text())
    assert [line["idle"] for line in doc["lines"] if line["item"] == "outbound load balancer"] == [123]


def test_a_decimal_price_as_pulumi_config_set_path_stores_it_is_taken(tmp_path, capsys):
    """`pulumi config set --path` types true/false and whole numbers and keeps every other value a string, so
    `pulumi config set --path cost.prices.load_balancer_monthly 21.5` writes '21.5' in quotes: it was refused as
    "must be a finite price >= 0, got '21.5'", a single price and a table entry alike. It is taken as the number it
    reads as (as every other number key of the config is); a word is still refused."""
    text = (Path(plan_cli.__file__).resolve().parent.parent / "Pulumi.dev.yaml").read_text()
    stack_file = tmp_path / "Pulumi.dev.yaml"
    prices = ("  aks-llm-platform:cost:\n    prices:\n      load_balancer_monthly: '21.5'\n"
              "      vm_hourly:\n        Standard_B2s: '0.125'\n")
    stack_file.write_text(text.replace("config:\n", "config:\n" + prices, 1))
    assert plan_cli.main(["--stack", "dev", "--out", str(tmp_path / "b"), "--stack-file", str(stack_file)]) == 0, \
        capsys.readouterr().err[-800:]
    doc = json.loads((tmp_path / "b" / "dev.what-if" / "cost.json").read_text())
    assert [line["idle"] for line in doc["lines"] if line["item"] == "outbound load balancer"] == [21.5]
    # dev's one system node (Standard_B2s) for the month's 730 hours
    assert [line["idle"] for line in doc["lines"] if line["item"] == "system: Standard_B2s"] == [round(0.125 * 730, 2)]
    stack_file.write_text(text.replace("config:\n", "config:\n" + prices.replace("'21.5'", "cheap"), 1))
    assert plan_cli.main(["--stack", "dev", "--out", str(tmp_path / "b"), "--stack-file", str(stack_file)]) == 1
    err = capsys.readouterr().err
    assert "cost.prices.load_balancer_monthly must be a finite price >= 0, got 'cheap'" in err and "Traceback" not in err


@pytest.mark.parametrize("entry", ["''"])
def test_a_price_table_entry_without_a_name_is_refused_without_a_traceback(tmp_path, capsys, entry):
    """`vm_hourly: {'': 1}` prices no VM size: it was taken without a word. (A null key, `{null: 1}`, is refused by
    the stack-file reader before anything is planned: tests/offline/test_stackfile.py.)"""
    text = (Path(plan_cli.__file__).resolve().parent.parent / "Pulumi.dev.yaml").read_text()
    stack_file = tmp_path / "Pulumi.dev.yaml"
    stack_file.write_text(text.replace(
        "config:\n", f"config:\n  aks-llm-platform:cost:\n    prices:\n      vm_hourly:\n        {entry}: 1\n", 1))
    code = plan_cli.main(["--stack", "dev", "--out", str(tmp_path / "b"), "--stack-file", str(stack_file)])
    err = capsys.readouterr().err
    assert code == 1 and "Traceback" not in err, err[-800:]
    assert "cost.prices.vm_hourly has an entry without a name" in err
