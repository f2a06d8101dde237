"""The `postgres` section: the Flexible Server Open-WebUI keeps its data in (a size from the stack's catalog)."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Optional

from llmplatform.choices import POSTGRES_TIERS
from llmplatform.defaults import DEFAULTS as D  # the components' defaults are the stack's defaults
from llmplatform.postgres_options import sku_spelling, sku_tier
from llmplatform.regions import postgres_refuses

from .. import component_rules
from ..catalogs import postgres_skus
from ..reader import Reader, describe


@dataclass(frozen=True)
class PostgresConfig:
    version: str = D["PostgresServer"]["version"]
    tier: str = D["PostgresServer"]["tier"]
    sku_name: str = D["PostgresServer"]["sku_name"]
    storage_size_gb: int = D["PostgresServer"]["storage_size_gb"]
    backup_retention_days: int = D["PostgresServer"]["backup_retention_days"]
    geo_redundant_backup: bool = D["PostgresServer"]["geo_redundant_backup"]
    high_availability: bool = D["PostgresServer"]["high_availability"]
    # false only for a server that exists with HA or geo-redundant backup where the regions table no longer lists them
    check_region_offers: bool = D["PostgresServer"]["check_region_offers"]
    database: str = D["PostgresServer"]["database"]
    entra_admin_group_id: Optional[str] = None  # with its name: the server's Microsoft Entra administrator
    entra_admin_group_name: Optional[str] = None


def parse_postgres(r: Reader, location: str) -> PostgresConfig:
    """`location`: the stack's region, where the cluster and so the server are (what Azure offers there)."""
    d = PostgresConfig()
    cfg = PostgresConfig(
        version=r.str_("version", d.version) or d.version,
        tier=r.str_("tier", d.tier) or d.tier,
        # Azure takes a size in any case (azure-cli `_pg_sku_name_validator` compares lowercased and sends it as
        # given): the catalog's spelling, which the prices and the state then carry whatever the stack file's case
        sku_name=sku_spelling(r.str_("skuName", d.sku_name) or d.sku_name),
        storage_size_gb=r.int_("storageSizeGb", d.storage_size_gb),
        backup_retention_days=r.int_("backupRetentionDays", d.backup_retention_days),
        geo_redundant_backup=r.bool_("geoRedundantBackup", d.geo_redundant_backup),
        high_availability=r.bool_("highAvailability", d.high_availability),
        check_region_offers=r.bool_("checkRegionOffers", d.check_region_offers),
        database=r.str_("database", d.database) or d.database,
        entra_admin_group_id=r.str_("entraAdminGroupId", None),
        entra_admin_group_name=r.str_("entraAdminGroupName", None),
    )
    r.reject_unknown_keys()
    if (cfg.entra_admin_group_id is None) != (cfg.entra_admin_group_name is None):
        r.problem("postgres.entraAdminGroupId and postgres.entraAdminGroupName go together (the group's object id "
                  "and display name)")
    args: dict[str, Any] = {k: v for k, v in asdict(cfg).items() if not k.startswith("entra_")}
    args["cluster"] = {"location": location}  # the server's region: what Azure offers there
    if cfg.entra_admin_group_id:
        args["entra_admin_group"] = {"object_id": cfg.entra_admin_group_id}
    component_rules.check(r, "PostgresServer", args, component_rules.keys("postgres", {
        "entra_admin_group.object_id": "postgres.entraAdminGroupId"}))
    # the stack's size catalog (its prices), for a size the component's rule takes (a size of the tier's family);
    # one of another tier's family the component's rule has named already
    if cfg.tier in POSTGRES_TIERS and sku_tier(cfg.sku_name) == cfg.tier and cfg.sku_name not in postgres_skus(cfg.tier):
        r.problem(f"postgres.skuName {describe(cfg.sku_name)} is not in the stack's catalog of tier {cfg.tier!r} "
                  f"sizes (config/data/postgres_skus.json, which prices them); e.g. "
                  f"{', '.join(postgres_skus(cfg.tier)[:3])}")
    return cfg


def postgres_prod_checks(r: Reader, environment: str, location: str, pg: PostgresConfig) -> None:
    if environment == "prod":
        if pg.backup_retention_days < 35 or not pg.geo_redundant_backup or not pg.high_availability:
            # where Azure offers one of them not at all, the component's rule refuses it too: say where to go
            lacking = [what for what, feature in (("zone-redundant HA", "zone_redundant_ha"),
                                                  ("geo-redundant backup", "geo_redundant_backup"))
                       if postgres_refuses(location, feature)]
            r.problem("postgres in prod needs backupRetentionDays 35, geoRedundantBackup and highAvailability"
                      + (f", and location {location!r} has no {' and no '.join(lacking)} for PostgreSQL flexible "
                         "server: prod needs a location with both" if lacking else ""))

