"""PostgresServer: Azure Database for PostgreSQL Flexible Server with pgvector, private (VNet) access, TLS only,
Entra authentication, and its admin password and connection URL kept in Key Vault."""
from typing import Mapping, Optional, TypedDict
import pulumi
import pulumi_random as random
from pulumi_azure_native import dbforpostgresql as pg, privatedns
from typing_extensions import NotRequired

from . import PACKAGE
from .defaults import defaults_for, or_default
from .checks import after_check, called_as_documented, check_shape, late_rules
from .diagnostics import to_log_analytics
from .handles import ClusterHandle, VaultHandle, field, order_after, settled
from .key_vault import vault_secret
from .naming import secret_name
from .postgres_access import APP_LOGIN, database_url
from .postgres_options import sku_spelling

opt = defaults_for("PostgresServer")  # optional inputs: the caller's value, else the default

ADMIN_LOGIN = "llmadmin"


class EntraGroup(TypedDict):
    """A Microsoft Entra group."""

    object_id: pulumi.Input[str]
    """The group's object id."""
    display_name: pulumi.Input[str]
    """The group's display name (PostgreSQL creates a role of that name for it)."""


class PostgresServerArgs(TypedDict):
    """Inputs of PostgresServer."""

    cluster: pulumi.Input[ClusterHandle]
    """The cluster whose VNet reaches the server (its delegated postgres subnet and private DNS)."""
    key_vault: pulumi.Input[VaultHandle]
    """Vault that receives the admin password and the application's connection URL."""
    server_name: pulumi.Input[str]
    """Server name: 3-63 lowercase letters, digits and hyphens, globally unique."""
    version: NotRequired[Optional[str]]
    """PostgreSQL major version, 16, 17 or 18 (default 16)."""
    tier: NotRequired[Optional[str]]
    """Burstable, GeneralPurpose or MemoryOptimized (default Burstable)."""
    sku_name: NotRequired[Optional[str]]
    """Compute size, any of the tier's VM family: Standard_B... (Burstable), Standard_D...s_v... (GeneralPurpose),
    Standard_E...s_v... (MemoryOptimized) (default Standard_B1ms)."""
    storage_size_gb: NotRequired[Optional[int]]
    """Storage, GiB: one of Premium SSD's sizes, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384 or 32767
    (default 32; grows automatically)."""
    backup_retention_days: NotRequired[Optional[int]]
    """Point-in-time restore window, 7-35 days (default 7)."""
    geo_redundant_backup: NotRequired[Optional[bool]]
    """Backups in the paired region (default False); set at creation only, and refused where Microsoft's regions
    table shows none for the cluster's location."""
    check_region_offers: NotRequired[Optional[bool]]
    """Refuse `high_availability` and `geo_redundant_backup` where Microsoft's regions table shows the cluster's
    location without them (default True). False only for a server that exists with them: one created while the table
    listed them keeps them, and geo-redundant backup cannot be turned off in place."""
    high_availability: NotRequired[Optional[bool]]
    """Zone-redundant standby (default False); not on Burstable, nor where Microsoft's regions table shows no
    zone-redundant HA for the cluster's location."""
    database: NotRequired[Optional[str]]
    """Application database (default openwebui)."""
    admin_login: NotRequired[Optional[str]]
    """Administrator login, a lowercase PostgreSQL role name; not one Azure reserves (azure_superuser,
    azure_pg_admin, admin, administrator, root, guest, public, pg_...) (default llmadmin)."""
    admin_password_secret: NotRequired[Optional[str]]
    """Key Vault secret name of the admin password (default <name>-admin-password)."""
    database_url_secret: NotRequired[Optional[str]]
    """Key Vault secret name of the application's connection URL, as its own role (default <name>-database-url)."""
    log_analytics_workspace_id: NotRequired[Optional[pulumi.Input[str]]]
    """Send the server's logs and metrics to this Log Analytics workspace (a diagnostic setting)."""
    entra_admin_group: NotRequired[Optional[EntraGroup]]
    """Entra group made the server's Microsoft Entra administrator; Entra authentication is on only with one (none:
    password authentication only)."""
    tags: NotRequired[Optional[Mapping[str, pulumi.Input[str]]]]
    """Azure tags."""


# The zones Azure picks when none is named (the SDK sends ""), and swaps on a zone-redundant failover (the server's
# `availabilityZone` then reports the new primary's; a server revived under its name may land elsewhere too): the
# refresh copies the change into the stored inputs, and `availabilityZone` is force-new in pulumi-azure-native, so
# without this the next `pulumi up` would replace the server (docs/decisions.md, "A disaster-recovery drill").
AZURE_PLACED_ZONES = ("availabilityZone", "highAvailability.standbyAvailabilityZone")

# Server parameters: pgvector allow-listed, TLS enforced.
SERVER_PARAMETERS = {"azure.extensions": "VECTOR", "require_secure_transport": "ON"}


@called_as_documented
class PostgresServer(pulumi.ComponentResource):
    """Azure Database for PostgreSQL Flexible Server with pgvector, private (VNet) access, TLS only, Entra
    authentication with `entra_admin_group` (passwords only without one), and its admin password and connection URL
    kept in Key Vault. The `protect` option protects it."""

    server_name: pulumi.Output[str]
    """Server name."""
    server_id: pulumi.Output[str]
    """Server resource id (scope of metric alerts)."""
    fqdn: pulumi.Output[str]
    """Private DNS name of the server."""
    database: pulumi.Output[str]
    """Application database name (OpenWebUi's `database_name`: its Jobs and pods follow a new one)."""
    database_url_secret: pulumi.Output[str]
    """Key Vault secret holding the application's connection URL: its own role (openwebui_app), TLS verified."""
    admin_password_secret: pulumi.Output[str]
    """Key Vault secret holding the admin password."""
    admin_database_url_secret: pulumi.Output[str]
    """Key Vault secret holding the administrator's URL to the application database, for the bootstrap that
    creates the application's role (OpenWebUi's `admin_database_url_secret`); resolves once the database exists."""

    def __init__(self, name: str, args: PostgresServerArgs, opts: Optional[pulumi.ResourceOptions] = None):
        args = check_shape("PostgresServer", name, args, PostgresServerArgs)
        component = "PostgresServer"
        super().__init__(f"{PACKAGE}:index:{component}", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        cluster = args["cluster"]
        rg = field(cluster, "resource_group_name")
        database_name = opt(args, "database")
        admin_login = or_default(args.get("admin_login"), ADMIN_LOGIN)
        password = random.RandomPassword(f"{name}-admin-password", length=40, special=True,
                                         override_special="-_", min_lower=2, min_upper=2, min_numeric=2,
                                         opts=child)
        # random marks `result` secret itself, but say so here too: the mocks (and readers) see it explicitly.
        admin_password: pulumi.Output[str] = pulumi.Output.secret(password.result)
        # Private access: the zone name must end in .postgres.database.azure.com.
        zone = privatedns.PrivateZone(
            f"{name}-dns",
            private_zone_name=pulumi.Output.concat(args["server_name"], ".private.postgres.database.azure.com"),
            resource_group_name=rg, location="global", opts=child)
        link = privatedns.VirtualNetworkLink(
            f"{name}-dns-link", private_zone_name=zone.name, resource_group_name=rg, location="global",
            virtual_network=privatedns.SubResourceArgs(id=field(cluster, "vnet_id")), registration_enabled=False,
            # after the cluster's network writes, as a dependency only (ClusterHandle.network_writes_after)
            opts=order_after(child, cluster, "network_writes_after"))
        ha = opt(args, "high_availability")
        entra_admin = args.get("entra_admin_group")
        # a cluster handle whose location is an output (another language's, a stack reference's): the region rules
        # (HA, geo-redundant backup) run once it resolves, before the server is created
        region_check = late_rules("PostgresServer", name, args, "cluster", ("location",), PostgresServerArgs)
        server = pg.Server(
            f"{name}-server",
            server_name=args["server_name"],
            resource_group_name=rg,
            location=after_check(region_check, field(cluster, "location")),
            version=pg.PostgresMajorVersion(opt(args, "version")),
            # Azure's spelling, whatever the case given (Azure reads sizes case-insensitively): one spelling in the
            # state, the plan's price lookup and the PR check's diff (docs/decisions.md, "Component inputs: case")
            sku=pg.SkuArgs(name=sku_spelling(opt(args, "sku_name")), tier=pg.SkuTier(opt(args, "tier"))),
            storage=pg.StorageArgs(storage_size_gb=opt(args, "storage_size_gb"),
                                   auto_grow=pg.StorageAutoGrow.ENABLED),
            backup=pg.BackupArgs(
                backup_retention_days=opt(args, "backup_retention_days"),
                geo_redundant_backup=pg.GeographicallyRedundantBackup.ENABLED
                if opt(args, "geo_redundant_backup") else pg.GeographicallyRedundantBackup.DISABLED),
            high_availability=pg.HighAvailabilityArgs(
                mode=pg.PostgreSqlFlexibleServerHighAvailabilityMode.ZONE_REDUNDANT if ha
                else pg.PostgreSqlFlexibleServerHighAvailabilityMode.DISABLED),
            network=pg.NetworkArgs(delegated_subnet_resource_id=field(cluster, "postgres_subnet_id"),
                                   private_dns_zone_arm_resource_id=zone.id,
                                   public_network_access=pg.ServerPublicNetworkAccessState.DISABLED),
            # Entra sign-in needs a Microsoft Entra administrator to create the other Entra roles: on with one only
            auth_config=pg.AuthConfigArgs(active_directory_auth=pg.MicrosoftEntraAuth.ENABLED if entra_admin
                                          else pg.MicrosoftEntraAuth.DISABLED,
                                          password_auth=pg.PasswordBasedAuth.ENABLED,
                                          tenant_id=field(args["key_vault"], "tenant_id")),
            administrator_login=admin_login,
            administrator_login_password=admin_password,
            create_mode=pg.CreateMode.CREATE,
            tags=args.get("tags", {}),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[link],
                                        ignore_changes=["createMode", *AZURE_PLACED_ZONES]),
        )
        # Flexible Server takes one write to its parameters, administrators and databases at a time: chain them
        # (terraform-provider-azurerm locks the server for each of these writes).
        previous: list[pulumi.Resource] = [server]
        for parameter, value in SERVER_PARAMETERS.items():
            previous = [pg.Configuration(
                f"{name}-{parameter.replace('.', '-').replace('_', '-')}", configuration_name=parameter,
                server_name=server.name, resource_group_name=rg, value=value, source="user-override",
                opts=pulumi.ResourceOptions(parent=self, depends_on=previous))]
        if entra_admin:
            previous = [pg.AdministratorsMicrosoftEntra(
                f"{name}-entra-admin", resource_group_name=rg, server_name=server.name,
                object_id=entra_admin["object_id"], principal_name=entra_admin["display_name"],
                principal_type=pg.PrincipalType.GROUP, tenant_id=field(args["key_vault"], "tenant_id"),
                opts=pulumi.ResourceOptions(parent=self, depends_on=previous))]
        # A new name (postgres.database) is a new, empty database: created first, so OpenWebUi's bootstrap and
        # migration Jobs run on it and its pods move onto it (its `database_name`) while the old one still serves,
        # and the old one deleted at the end of the run, once no pod of the UI holds a connection to it (PostgreSQL
        # refuses to drop a database in use, 55006 "is being accessed by other users", which Azure's delete returns
        # too: microsoft/vscode-cosmosdb#1504). pulumi-azure-native asks to delete a named resource first (its Diff:
        # DeleteBeforeReplace for every replacement of a given name); the option goes over that answer (pulumi/pulumi
        # 1b5949891b pkg/resource/deploy/step_generator.go `continueStepsFromDiff`: `goal.DeleteBeforeReplace`). Only
        # the name replaces the database on its own diff; a new server or group takes it along in their delete-first
        # chain, whatever this option, and the PR check refuses a create-first replacement under a kept name.
        database = pg.Database(f"{name}-db", database_name=database_name, server_name=server.name,
                               resource_group_name=rg, charset="UTF8", collation="en_US.utf8",
                               opts=pulumi.ResourceOptions(parent=self, depends_on=previous,
                                                           delete_before_replace=False))

        vault = args["key_vault"]
        password_secret = args.get("admin_password_secret") or secret_name(name, "admin-password")
        url_secret = args.get("database_url_secret") or secret_name(name, "database-url")
        vault_secret(f"{name}-admin-password-secret", vault, password_secret, admin_password, "text/plain", self)
        # The host is the server's name under postgres.database.azure.com, what fullyQualifiedDomainName returns with
        # private access too (azure-cli's `flexible-server create` into a subnet prints it as `host`, PR #29457),
        # where the linked private zone answers it (the public cloud's suffix, as the zone's name above): known before
        # the 10-minute create, so the secret takes an early turn in the vault's queue, in a real run and in the
        # recorded plan alike (under mocks every value is ready at once, so the queue follows declaration order).
        fqdn = pulumi.Output.concat(args["server_name"], ".postgres.database.azure.com")
        # The application connects as a role of its own, which owns its database and nothing else; the administrator's
        # URL is only for the bootstrap that creates that role (OpenWebUi's, in the cluster: this program has no SQL
        # path into the VNet). Both verify the server's certificate (postgres_access.database_url).
        app_password = random.RandomPassword(f"{name}-app-password", length=40, special=True, override_special="-_",
                                             min_lower=2, min_upper=2, min_numeric=2, opts=child)
        app_secret: pulumi.Output[str] = pulumi.Output.secret(app_password.result)
        url_written = vault_secret(f"{name}-database-url-secret", vault, url_secret,
                                   pulumi.Output.all(app_secret, fqdn).apply(
                                       lambda v: database_url(APP_LOGIN, v[0], v[1], database_name)),
                                   "application/x-postgresql-url", self)
        admin_url_secret = secret_name(name, "admin-database-url")
        admin_url_written = vault_secret(f"{name}-admin-database-url-secret", vault, admin_url_secret,
                                         pulumi.Output.all(admin_password, fqdn).apply(
                                             lambda v: database_url(admin_login, v[0], v[1], database_name)),
                                         "application/x-postgresql-url", self)
        if workspace := args.get("log_analytics_workspace_id"):
            to_log_analytics(f"{name}-diagnostics", server.id, workspace, self)
        self.server_name = server.name
        self.server_id = server.id
        self.fqdn = fqdn
        self.database = pulumi.Output.from_input(database_name)
        self.admin_password_secret = pulumi.Output.from_input(password_secret)
        # a reader granted this one secret (an OpenWebUi) is granted once it exists: the name carries its write
        self.database_url_secret = settled(url_secret, url_written)
        # the bootstrap connects to the database: it waits for the database's create as well as the secret's write
        self.admin_database_url_secret = settled(settled(admin_url_secret, admin_url_written), database)
        self.register_outputs({"server_name": self.server_name, "server_id": self.server_id, "fqdn": self.fqdn,
                               "database": self.database, "admin_password_secret": self.admin_password_secret,
                               "database_url_secret": self.database_url_secret,
                               "admin_database_url_secret": self.admin_database_url_secret})
