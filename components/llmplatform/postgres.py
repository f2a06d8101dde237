"""PostgresServer: Azure Database for PostgreSQL Flexible Server with pgvector, private (VNet) access, TLS only,
Entra authentication, and its admin password and connection URL kept in Key Vault."""
from __future__ import annotations

from typing import Optional, TypedDict
from urllib.parse import quote

import pulumi
import pulumi_random as random
from pulumi_azure_native import dbforpostgresql as pg, privatedns
from typing_extensions import NotRequired

from . import PACKAGE
from .key_vault import KeyVault

ADMIN_LOGIN = "llmadmin"


class PostgresServerArgs(TypedDict):
    location: str
    resource_group_name: pulumi.Input[str]
    server_name: str
    delegated_subnet_id: pulumi.Input[str]
    vnet_id: pulumi.Input[str]
    key_vault: KeyVault
    version: NotRequired[str]
    tier: NotRequired[str]
    sku_name: NotRequired[str]
    storage_size_gb: NotRequired[int]
    backup_retention_days: NotRequired[int]
    geo_redundant_backup: NotRequired[bool]
    high_availability: NotRequired[bool]
    database: NotRequired[str]
    protect: NotRequired[bool]
    tags: NotRequired[dict[str, str]]


def database_url(login: str, password: str, host: str, database: str) -> str:
    """libpq URL with TLS required; the password is percent-encoded."""
    return f"postgresql://{quote(login, safe='')}:{quote(password, safe='')}@{host}:5432/{database}?sslmode=require"


# Server parameters: pgvector allow-listed, TLS enforced.
SERVER_PARAMETERS = {"azure.extensions": "VECTOR", "require_secure_transport": "ON"}


class PostgresServer(pulumi.ComponentResource):
    server_name: pulumi.Output[str]
    """Server name."""
    server_id: pulumi.Output[str]
    """Server resource id (scope of metric alerts)."""
    fqdn: pulumi.Output[str]
    """Private DNS name of the server."""
    database: str
    """Application database name."""
    database_url_secret: str
    """Key Vault secret holding the application's connection URL."""
    admin_password_secret: str
    """Key Vault secret holding the admin password."""

    def __init__(self, name: str, args: PostgresServerArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__(f"{PACKAGE}:index:PostgresServer", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        protect = args.get("protect", False)
        rg = args["resource_group_name"]
        database_name = args.get("database", "openwebui")
        password = random.RandomPassword(f"{name}-admin-password", length=40, special=True,
                                         override_special="-_", min_lower=2, min_upper=2, min_numeric=2,
                                         opts=child)
        # random marks `result` secret itself, but say so here too: the mocks (and readers) see it explicitly.
        admin_password = pulumi.Output.secret(password.result)
        # Private access: the zone name must end in .postgres.database.azure.com.
        zone = privatedns.PrivateZone(
            f"{name}-dns", private_zone_name=f"{args['server_name']}.private.postgres.database.azure.com",
            resource_group_name=rg, location="global", opts=child)
        link = privatedns.VirtualNetworkLink(
            f"{name}-dns-link", private_zone_name=zone.name, resource_group_name=rg, location="global",
            virtual_network=privatedns.SubResourceArgs(id=args["vnet_id"]), registration_enabled=False, opts=child)
        ha = args.get("high_availability", False)
        server = pg.Server(
            f"{name}-server",
            server_name=args["server_name"],
            resource_group_name=rg,
            location=args["location"],
            version=pg.PostgresMajorVersion(args.get("version", "16")),
            sku=pg.SkuArgs(name=args.get("sku_name", "Standard_B1ms"), tier=pg.SkuTier(args.get("tier", "Burstable"))),
            storage=pg.StorageArgs(storage_size_gb=args.get("storage_size_gb", 32),
                                   auto_grow=pg.StorageAutoGrow.ENABLED),
            backup=pg.BackupArgs(
                backup_retention_days=args.get("backup_retention_days", 7),
                geo_redundant_backup=pg.GeographicallyRedundantBackup.ENABLED
                if args.get("geo_redundant_backup", False) else pg.GeographicallyRedundantBackup.DISABLED),
            high_availability=pg.HighAvailabilityArgs(
                mode=pg.PostgreSqlFlexibleServerHighAvailabilityMode.ZONE_REDUNDANT if ha
                else pg.PostgreSqlFlexibleServerHighAvailabilityMode.DISABLED),
            network=pg.NetworkArgs(delegated_subnet_resource_id=args["delegated_subnet_id"],
                                   private_dns_zone_arm_resource_id=zone.id,
                                   public_network_access=pg.ServerPublicNetworkAccessState.DISABLED),
            auth_config=pg.AuthConfigArgs(active_directory_auth=pg.MicrosoftEntraAuth.ENABLED,
                                          password_auth=pg.PasswordBasedAuth.ENABLED,
                                          tenant_id=args["key_vault"].tenant_id),
            administrator_login=ADMIN_LOGIN,
            administrator_login_password=admin_password,
            create_mode=pg.CreateMode.CREATE,
            tags=args.get("tags", {}),
            opts=pulumi.ResourceOptions(parent=self, protect=protect, depends_on=[link],
                                        ignore_changes=["createMode"]),
        )
        # Flexible Server applies one parameter change at a time: chain them.
        previous: list[pulumi.Resource] = [server]
        for parameter, value in SERVER_PARAMETERS.items():
            previous = [pg.Configuration(
                f"{name}-{parameter.replace('.', '-').replace('_', '-')}", configuration_name=parameter,
                server_name=server.name, resource_group_name=rg, value=value, source="user-override",
                opts=pulumi.ResourceOptions(parent=self, depends_on=previous))]
        pg.Database(f"{name}-db", database_name=database_name, server_name=server.name, resource_group_name=rg,
                    charset="UTF8", collation="en_US.utf8",
                    opts=pulumi.ResourceOptions(parent=self, protect=protect, depends_on=previous))

        vault = args["key_vault"]
        self.admin_password_secret = "postgres-admin-password"
        self.database_url_secret = "openwebui-database-url"
        vault.secret(self.admin_password_secret, admin_password, "text/plain")
        fqdn = server.fully_qualified_domain_name
        vault.secret(self.database_url_secret,
                     pulumi.Output.all(admin_password, fqdn).apply(
                         lambda v: database_url(ADMIN_LOGIN, v[0], v[1], database_name)),
                     "application/x-postgresql-url")
        self.server_name = server.name
        self.server_id = server.id
        self.fqdn = fqdn
        self.database = database_name
        self.register_outputs({"server_name": self.server_name, "fqdn": self.fqdn})
