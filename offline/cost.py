"""Monthly cost estimate of a plan, from the resource inputs the offline plan records and a price file per region
(`config/data/prices/<region>.json`, with its date and source; any price overridable with `cost.prices`).

Two figures per resource: idle (autoscaler minimums, GPU pools at zero) and peak (autoscaler maxima), spot prices
where a pool is spot. A CPU pool idles at more than its minimum when the pods that always run need more nodes by
their requests (offline/capacity.py). A size with no price is named, never counted as zero.
"""
import math
from dataclasses import asdict, dataclass, field
from typing import Any, Optional

from config.catalogs import vm_shape
from config.quantities import parse_quantity
from config.sections.cost import PRICES, price_file, price_override_problems
from llmplatform.defaults import DEFAULTS

from .capacity import GPU_TAINT_KEY, Capacity, idle_capacity, pool_minimum
from .runner import Plan, Registration

DAYS_PER_MONTH = 30.4
LA_INCLUDED_DAYS = 31  # Log Analytics (Analytics plan) retention the ingestion price includes


# AKS's built-in Azure Files classes: Premium is billed as provisioned; Standard by use (counted as if full).
DYNAMIC_SHARES = {
    "azurefile-csi-premium": lambda p: ("Files Premium", p["files_premium_gib_month"]["Premium_LRS"]),
    "azurefile-csi": lambda p: ("Files Standard, at most", p["files_standard_gib_month"]),
}


# Azure's managed-disk sizes, GiB (the P/E tiers 1-80): a disk is billed at the next one up (`_Estimator.disk`)
DISK_SIZES = (4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32767)
# AKS's built-in disk classes: `default` and `managed-csi` are Standard SSD, the `-premium` ones Premium SSD
# (MicrosoftDocs/azure-aks-docs articles/aks/concepts-storage.md at fb060abe, storage classes table)
DISK_CLASSES = {"default": "Standard SSD", "managed-csi": "Standard SSD", "managed": "Standard SSD",
                "managed-csi-premium": "Premium SSD", "managed-premium": "Premium SSD"}


def gibibytes(quantity: Any) -> int:
    """A Kubernetes storage quantity in whole GiB, rounded up ("10Gi", "1Ti", "500Mi", "20G"); 0 if it is none."""
    value = parse_quantity(str(quantity))
    return 0 if value is None or value <= 0 else math.ceil(value / 2 ** 30)


class CostError(ValueError):
    """No price file for the region, or an override that names no price."""


@dataclass
class Line:
    component: str
    resource: str
    item: str
    idle: float
    peak: float


@dataclass
class Estimate:
    region: str
    prices_date: str
    lines: list[Line] = field(default_factory=list)
    unpriced: list[str] = field(default_factory=list)
    capacity: Capacity = field(default_factory=Capacity)
    notes: list[str] = field(default_factory=list)
    prices_of: str = ""  # the region whose prices stand in for this one's (its price file's `_pricesOf`), or ""
    # the month of the GPU nodes always-on pods keep up (VMs, OS disks, Defender), which idle leaves out by
    # definition (GPU pools at their minimum) but a month without traffic is billed for
    always_on_gpu: float = 0.0

    def prices_label(self) -> str:
        """Whose list prices these are: the region's own, or another region's standing in."""
        if self.prices_of and self.prices_of != self.region:
            return (f"{self.prices_of} list prices of {self.prices_date} standing in for {self.region}'s (not "
                    f"transcribed: config/data/prices/{self.region}.json)")
        return f"{self.region} list prices of {self.prices_date}"

    def total(self, which: str) -> float:
        return round(sum(getattr(line, which) for line in self.lines), 2)

    def quiet_month(self) -> float:
        """A month without traffic: idle and the GPU nodes always-on pods keep up, which idle leaves out."""
        return round(self.total("idle") + self.always_on_gpu, 2)

    def by_component(self) -> dict[str, tuple[float, float]]:
        out: dict[str, list[float]] = {}
        for line in self.lines:
            sums = out.setdefault(line.component, [0.0, 0.0])
            sums[0] += line.idle
            sums[1] += line.peak
        return {k: (round(v[0], 2), round(v[1], 2)) for k, v in sorted(out.items())}

    def document(self) -> dict[str, Any]:
        return {"region": self.region, "currency": "USD", "pricesDate": self.prices_date,
                "pricesOf": self.prices_of or self.region, "prices": self.prices_label(),
                "idleMonthly": self.total("idle"), "peakMonthly": self.total("peak"),
                "alwaysOnGpuMonthly": round(self.always_on_gpu, 2),
                "byComponent": {k: {"idle": v[0], "peak": v[1]} for k, v in self.by_component().items()},
                # sorted: resources register concurrently, so their order differs from run to run
                "lines": [asdict(line) for line in sorted(self.lines, key=lambda x: (x.component, x.resource, x.item))],
                "unpriced": sorted(self.unpriced),
                "idleNodes": dict(sorted(self.capacity.idle_nodes.items())),
                "capacityNotes": self.notes, "capacityProblems": self.capacity.problems}


def budget_lines(est: Estimate, budget: Optional[float]) -> list[str]:
    """A monthly budget (`observability.monthlyBudget`) whose first notice comes below what the stack spends idle
    notifies every month: said, with the figures to set it from. The stack's budget notifies at CostBudget's default
    shares (actual 80 % and 100 %, forecast 100 %: llmplatform.defaults), so the lowest of them, not the amount, is
    what an idle month's spend crosses. The budget is in the billing account's currency, the estimate in USD list
    prices: a budget whose notices start between idle and peak is a choice (they then tell of a month at scale)."""
    idle, peak = est.total("idle"), est.total("peak")
    # a quiet month also pays for the GPU nodes always-on pods keep up, which idle leaves out
    floor, kept = est.quiet_month(), round(est.always_on_gpu, 2)
    share = min(DEFAULTS["CostBudget"]["actual_percents"] + DEFAULTS["CostBudget"]["forecast_percents"]) / 100
    if budget is None or budget * share >= floor:
        return []
    spent = (f"the idle estimate ${idle:,.2f}" if not kept else f"a quiet month's ${floor:,.2f} (the idle estimate "
             f"${idle:,.2f} and ${kept:,.2f} for the GPU nodes always-on pods keep up)")
    return [f"cost warning: observability.monthlyBudget {budget:,.2f} notifies from {share:.0%} of it "
            f"({budget * share:,.2f}), below {spent} (USD list prices): Azure would send its "
            f"notices every month, runaway or not; set it to at least {peak / share:,.2f} (the peak ${peak:,.2f} "
            f"over {share:.0%}) to hear only of spend past the autoscaler maxima, or from {floor / share:,.2f} to "
            f"hear of a month at scale"]


def load_prices(region: str, overrides: Optional[dict[str, Any]] = None) -> dict[str, Any]:
    prices = price_file(region, PRICES)
    if prices is None:
        known = ", ".join(sorted(p.stem for p in PRICES.glob("*.json")))
        raise CostError(f"no price file for region {region!r} (config/data/prices/{region}.json); have: {known}; add "
                        f"it: a copy of westeurope.json with {region}'s list prices, or as it is but for "
                        f"\"region\": \"{region}\", \"_pricesOf\": \"westeurope\" for an estimate labelled a "
                        f"stand-in (docs/cost.md)")
    problems = price_override_problems(prices, overrides or {}, f"{region}.json")
    if problems:  # the config refuses these for a region with a price file (config/sections/cost.py)
        raise CostError(problems[0])
    for key, value in (overrides or {}).items():  # into price_file's own copy
        if isinstance(value, dict):
            prices[key].update({str(k): v for k, v in value.items()})
        else:
            prices[key] = value
    return prices


class _Estimator:
    def __init__(self, plan: Plan, prices: dict[str, Any], la_gb_per_day: float,
                 capacity: Optional[Capacity] = None):
        self.plan, self.p, self.la = plan, prices, la_gb_per_day
        self.hours = prices["hours_per_month"]
        self.shapeless: list[str] = []  # pools whose size has no vCPU count
        self.kept_cores = 0  # vCPUs of the GPU nodes always-on pods keep up (Defender bills them)
        self.est = Estimate(prices["region"], prices["_date"],
                            capacity=capacity if capacity is not None else idle_capacity(plan),
                            prices_of=prices.get("_pricesOf", ""))

    def add(self, reg: Registration, item: str, idle: float, peak: Optional[float] = None) -> None:
        top = self.plan.component_of(reg)
        component = f"{top.type.rsplit(':', 1)[-1]} {top.name}" if top else "(stack)"
        self.est.lines.append(Line(component, reg.name, item, round(idle, 2), round(idle if peak is None else peak, 2)))

    def price(self, table: str, key: str, where: str) -> Optional[float]:
        value = self.p.get(table, {}).get(key)
        if value is None:
            self.est.unpriced.append(f"{where}: no {table} price for {key!r} in the {self.p['region']} price file "
                                     f"(add it there or set cost.prices.{table}.{key})")
        return value

    def disk(self, size_gib: int, standard: bool = False) -> tuple[int, float]:
        """A managed disk's billed size and month: Azure bills the next disk size up ("the size you set is rounded
        up to the next largest provisioned Disk Size, and you're billed for that larger provisioned Disk Size":
        MicrosoftDocs/azure-docs articles/virtual-machines/disks-understand-billing.md at 06d33bb1), each disk on
        its own. Premium SSD from `os_disk_monthly` (a size it has no tier for: `premium_ssd_gib_month` per billed
        GiB), Standard SSD from `standard_ssd_monthly`."""
        billed = next((s for s in DISK_SIZES if size_gib <= s), DISK_SIZES[-1])
        tiers = {int(k): v for k, v in self.p["standard_ssd_monthly" if standard else "os_disk_monthly"].items()}
        if billed in tiers:
            return billed, tiers[billed]
        if standard:
            return billed, tiers[min((s for s in tiers if s >= billed), default=max(tiers))]
        return billed, billed * self.p["premium_ssd_gib_month"]

    def nodes(self, reg: Registration, pool: dict[str, Any], spot: bool) -> tuple[int, int]:
        size = pool.get("vmSize", "")
        hourly = self.price("vm_spot_hourly" if spot else "vm_hourly", size, reg.name)
        name = str(pool.get("name") or pool.get("agentPoolName"))
        cap = pool.get("spotMaxPrice")
        if spot and hourly is not None and isinstance(cap, (int, float)) and 0 < cap < hourly:
            # a spot VM is evicted, or not started, while the spot price is above the pool's max price, and never
            # billed above it (MicrosoftDocs/azure-aks-docs articles/aks/spot-node-pool.md at fb060abe, "Max price
            # for a Spot pool"); -1 bills the lower of the spot and the on-demand price, which the file's spot is
            self.est.notes.append(f"pool {name}: spotMaxPrice ${cap:g}/hour is below the price file's spot price "
                                  f"${hourly:g} of {size}: Azure evicts its nodes, or starts none, while the spot "
                                  f"price is above it; priced at ${cap:g}")
            hourly = cap
        low, high = pool_minimum(pool), int(pool.get("maxCount") or 0)
        high = max(high, low)
        needed = self.est.capacity.idle_nodes.get(name, 0)
        gpu = any(str(t).startswith(GPU_TAINT_KEY) for t in pool.get("nodeTaints") or [])
        cpu_m, mem_mi = self.est.capacity.requests.get(name, (0, 0))
        kept = 0
        if needed > low and gpu:  # idle keeps GPU pools at their minimum by definition: say what that leaves out
            self.est.notes.append(f"pool {name}: always-on pods ({cpu_m / 1000:g} CPU, {mem_mi / 1024:.1f} GiB) keep "
                                  f"{needed} node(s) up, left out of idle (GPU pools count at their minimum, {low})")
            kept = min(needed, high) - low
        elif needed > low:
            self.est.notes.append(f"pool {name}: idles at {needed} nodes, not its minimum {low}: always-on pods "
                                  f"request {cpu_m / 1000:g} CPU and {mem_mi / 1024:.1f} GiB")
            low = min(needed, high)
        if hourly is not None:
            label = f"{name}: {size}{' spot' if spot else ''}"
            self.add(reg, label, low * hourly * self.hours, high * hourly * self.hours)
            self.est.always_on_gpu += kept * hourly * self.hours
        if pool.get("osDiskType") == "Ephemeral":  # on the VM's local disk: no managed-disk charge
            self.add(reg, "OS disks (ephemeral)", 0.0, 0.0)
        else:
            disk = self.disk(int(pool.get("osDiskSizeGB") or 128))[1]
            self.add(reg, "OS disks", low * disk, high * disk)
            self.est.always_on_gpu += kept * disk
        shape = vm_shape(size)
        if shape is None:  # Defender bills per vCore: said at the end if it is on, never counted as none
            self.shapeless.append(f"{reg.name}: no vCPU count for {size!r} (config/data/vm_shapes.json)")
        vcpus = shape.vcpus if shape else 0
        self.kept_cores += kept * vcpus
        return low * vcpus, high * vcpus

    def run(self) -> Estimate:
        cores = [0, 0]
        defender = False
        for reg in self.plan.resources:
            kind, inputs = reg.type, reg.inputs
            if kind == "azure-native:containerservice:ManagedCluster":
                tier = (inputs.get("sku") or {}).get("tier", "Free")
                self.add(reg, f"AKS {tier} tier", self.p["aks_tier_hourly"].get(tier, 0.0) * self.hours)
                self.add(reg, "outbound load balancer", self.p["load_balancer_monthly"])
                self.add(reg, "outbound public IP", self.p["public_ip_monthly"])
                for profile in inputs.get("agentPoolProfiles") or []:
                    idle, peak = self.nodes(reg, profile, spot=False)
                    cores[0] += idle
                    cores[1] += peak
                defender = bool((inputs.get("securityProfile") or {}).get("defender"))
            elif kind == "azure-native:containerservice:AgentPool":
                idle, peak = self.nodes(reg, inputs, spot=inputs.get("scaleSetPriority") == "Spot")
                cores[0] += idle
                cores[1] += peak
            elif kind == "azure-native:storage:FileShare":
                account = next((r for r in self.plan.of_type("azure-native:storage:StorageAccount")
                                if r.inputs.get("accountName") == inputs.get("accountName")), None)
                sku = ((account.inputs.get("sku") or {}).get("name") if account else None) or "Premium_LRS"
                per_gib = self.price("files_premium_gib_month", sku, reg.name)
                if per_gib is not None:
                    self.add(reg, f"Files {sku} {inputs.get('shareQuota')} GiB provisioned",
                             per_gib * int(inputs.get("shareQuota") or 0))
            elif kind == "azure-native:recoveryservices:ProtectedItem":
                # no price file holds them (not transcribed): named, not counted as zero
                self.est.unpriced.append(f"{reg.name}: Azure Backup's protected-instance fee for the share and its "
                                         "snapshots' storage (the changed data, billed by Azure Files) are not priced")
            elif kind == "azure-native:dbforpostgresql:Server":
                self.postgres(reg, inputs)
            elif kind == "azure-native:network:PublicIPAddress":
                self.add(reg, "static public IP", self.p["public_ip_monthly"])
            elif kind == "azure-native:network:PrivateEndpoint":
                self.add(reg, "private endpoint", self.p["private_endpoint_monthly"])
            elif kind == "azure-native:privatedns:PrivateZone":
                self.add(reg, "private DNS zone", self.p["private_dns_zone_monthly"])
            elif kind == "azure-native:operationalinsights:Workspace":
                self.add(reg, f"Log Analytics {self.la:g} GB/day",
                         self.la * DAYS_PER_MONTH * self.p["log_analytics_per_gb"])
                # ingestion includes 31 days of retention; beyond them the workspace holds `retention - 31` days of
                # data at a time, billed per GB-month (learn.microsoft.com/azure/azure-monitor/logs/
                # data-retention-configure: "31 days of interactive retention are included in the ingestion price")
                days = int(inputs.get("retentionInDays") or 30)
                if days > LA_INCLUDED_DAYS and self.la:
                    self.add(reg, f"Log Analytics retention {days} days ({days - LA_INCLUDED_DAYS} beyond the "
                                  f"{LA_INCLUDED_DAYS} included)",
                             self.la * (days - LA_INCLUDED_DAYS) * self.p["log_analytics_retention_gb_month"])
            elif kind == "azure-native:monitor:DiagnosticSetting" and not self.plan.waits_for(
                    reg, lambda r: r.type == "azure-native:operationalinsights:Workspace"):
                # logs into a workspace the stack does not make (a central one, GlobalEndpoint's
                # log_analytics_workspace_id): ingested and billed there, so this estimate names it and counts nothing
                self.add(reg, f"logs to {inputs.get('workspaceId')}: ingestion billed to that workspace, not counted",
                         0.0)
            elif kind == "azure-native:cdn:Profile":
                sku = (inputs.get("sku") or {}).get("name", "")
                base = self.price("front_door_base_monthly", sku, reg.name)
                if base is not None:  # requests and data transfer are billed by use and not counted
                    self.add(reg, f"Front Door {sku} base fee (WAF included in Premium)", base)
            elif kind == "azure-native:frontdoor:Policy" and \
                    (inputs.get("sku") or {}).get("name") == "Standard_AzureFrontDoor":
                rules = len((inputs.get("customRules") or {}).get("rules") or [])
                self.add(reg, f"WAF policy, {rules} custom rule(s)", self.p["front_door_waf_policy_monthly"]
                         + rules * self.p["front_door_waf_custom_rule_monthly"])
            elif kind == "azure-native:containerservice:Fleet":
                self.add(reg, "Fleet Manager without a hub cluster (no charge)", 0.0)
            elif kind == "azure-native:dashboard:Grafana":
                self.add(reg, "Azure Managed Grafana", self.p["managed_grafana_monthly"])
            elif kind == "kubernetes:gateway.networking.k8s.io/v1:Gateway" and \
                    (inputs.get("spec", {}).get("infrastructure", {}).get("annotations") or {}).get(
                        "service.beta.kubernetes.io/azure-load-balancer-internal") == "true":
                self.add(reg, "internal load balancer", self.p["load_balancer_monthly"])
            elif kind == "kubernetes:helm.sh/v3:Release":
                self.volumes(reg, inputs)
            elif kind == "kubernetes:core/v1:PersistentVolumeClaim" and \
                    (inputs.get("spec") or {}).get("storageClassName") in DYNAMIC_SHARES:
                gib = gibibytes(inputs["spec"]["resources"]["requests"]["storage"])
                label, per_gib = DYNAMIC_SHARES[inputs["spec"]["storageClassName"]](self.p)
                self.add(reg, f"{label} {gib} GiB (dynamic share)", gib * per_gib)
        if defender:
            cluster = self.plan.one("azure-native:containerservice:ManagedCluster")
            self.add(cluster, "Defender for Containers (per vCore)", cores[0] * self.p["defender_vcore_month"],
                     cores[1] * self.p["defender_vcore_month"])
            self.est.unpriced += [f"{where}: its nodes' Defender for Containers vCores are left out"
                                  for where in self.shapeless]
            self.est.always_on_gpu += self.kept_cores * self.p["defender_vcore_month"]
        return self.est

    def postgres(self, reg: Registration, inputs: dict[str, Any]) -> None:
        sku = (inputs.get("sku") or {}).get("name", "")
        hourly = self.price("postgres_hourly", sku, reg.name)
        ha = (inputs.get("highAvailability") or {}).get("mode", "Disabled") != "Disabled"
        if hourly is not None:
            self.add(reg, f"PostgreSQL {sku}{' + HA standby' if ha else ''}", hourly * self.hours * (2 if ha else 1))
        # the input is `storageSizeGB` (azure-native dbforpostgresql Server `Storage.storageSizeGB`, the REST spec's
        # name); 32 GB is Azure's default when it is not sent
        storage = int((inputs.get("storage") or {}).get("storageSizeGB") or 32)
        # the HA standby has its own storage of the primary's size ("The primary server and the standby replica use
        # the same virtual machine configuration, including vCores, storage": MicrosoftDocs/azure-databases-docs
        # articles/postgresql/high-availability/concepts-high-availability.md at 0ad90fdd), billed like the primary's
        self.add(reg, f"PostgreSQL storage {storage} GB{' x2 (HA standby)' if ha else ''}",
                 storage * self.p["postgres_storage_gib_month"] * (2 if ha else 1))
        if (inputs.get("backup") or {}).get("geoRedundantBackup") == "Enabled":
            self.add(reg, "geo-redundant backup", storage * self.p["postgres_geo_backup_gib_month"])

    def volumes(self, reg: Registration, inputs: dict[str, Any]) -> None:
        """Managed-disk volumes the monitoring chart's values ask for (Prometheus, Grafana), each a disk of its own
        and of its storage class's type: Grafana's `persistence` names no class, so it gets the cluster's default."""
        values = inputs.get("values") or {}
        spec = (values.get("prometheus") or {}).get("prometheusSpec") or {}
        claim = (((spec.get("storageSpec") or {}).get("volumeClaimTemplate") or {}).get("spec") or {})
        claims = [("Prometheus", claim.get("resources", {}).get("requests", {}).get("storage"),
                   claim.get("storageClassName"))] * int(spec.get("replicas") or 1)
        grafana = (values.get("grafana") or {}).get("persistence") or {}
        if grafana.get("enabled"):
            claims.append(("Grafana", grafana.get("size"), grafana.get("storageClassName")))
        for name, size, storage_class in claims:
            if not size:
                continue
            gib = gibibytes(size)
            kind = DISK_CLASSES.get(storage_class or "default")
            if kind is None:
                self.est.unpriced.append(f"{reg.name}: no price for a {name} volume of storage class "
                                         f"{storage_class!r} (priced: {', '.join(sorted(DISK_CLASSES))})")
                continue
            billed, month = self.disk(gib, standard=kind == "Standard SSD")
            self.add(reg, f"{name} volume {gib} GiB ({kind}, billed as {billed} GiB)", month)


def estimate(plan: Plan, region: str, la_gb_per_day: float,
             overrides: Optional[dict[str, Any]] = None, capacity: Optional[Capacity] = None) -> Estimate:
    """`capacity`: the plan's idle capacity when the caller has it already (else computed here)."""
    prices = load_prices(region, overrides)
    result = _Estimator(plan, prices, la_gb_per_day, capacity).run()
    for x in result.lines:  # a price override near the float limit (the config takes any finite one) overflows
        if not (math.isfinite(x.idle) and math.isfinite(x.peak)):
            raise CostError(f"{x.resource} {x.item}: its monthly figure is too large to be a cost; check the "
                            f"prices in cost.prices")
    return result


def report_lines(est: Estimate) -> list[str]:
    lines = [f"Estimated monthly cost (USD, {est.prices_label()}; idle = autoscaler "
             f"minimums, GPU at zero; peak = maxima): idle ${est.total('idle'):,.2f}, peak ${est.total('peak'):,.2f}"]
    for component, (idle, peak) in est.by_component().items():
        lines.append(f"    {component:<40} idle ${idle:>10,.2f}   peak ${peak:>10,.2f}")
    if est.always_on_gpu:
        lines.append(f"    {'(GPU nodes always-on pods keep up)':<40} +${est.always_on_gpu:>9,.2f} a month on top of "
                     f"idle, ${est.quiet_month():,.2f} a month without traffic")
    lines += [f"cost warning: {message}" for message in est.unpriced]
    lines += [f"capacity: {note}" for note in est.notes]
    lines += [f"capacity warning: {problem}" for problem in est.capacity.problems]
    return lines
