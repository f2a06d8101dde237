"""KeyVault: an RBAC-authorised Key Vault holding the platform's secrets, reachable only from the cluster."""
import inspect
from datetime import date, datetime, timezone
from typing import Mapping, Optional, Sequence, TypedDict

import pulumi
from pulumi_azure_native import authorization, keyvault, network, privatedns
from typing_extensions import NotRequired

from . import PACKAGE, azure_names
from .azure_roles import KEY_VAULT_SECRETS_USER, builtin_role
from .defaults import defaults_for
from .rules import WITHHELD
from .checks import called_as_documented, check_shape, fail
from .diagnostics import to_log_analytics
from .handles import ClusterHandle, VaultHandle, field, order_after
from .run_state import Turn

opt = defaults_for("KeyVault")  # optional inputs: the caller's value, else the default



class KeyVaultArgs(TypedDict):
    """Inputs of KeyVault."""

    cluster: pulumi.Input[ClusterHandle]
    """The cluster whose node subnet (and, when private, endpoints subnet and VNet) reach the vault."""
    vault_name: pulumi.Input[str]
    """Vault name: 3-24 letters, digits and hyphens, globally unique."""
    soft_delete_retention_days: NotRequired[Optional[int]]
    """Days a deleted vault or secret stays recoverable, 7-90 (default 7)."""
    purge_protection: NotRequired[Optional[bool]]
    """Forbid purging deleted secrets before retention ends; cannot be turned off again (default False)."""
    public_network_access: NotRequired[Optional[bool]]
    """False: reachable only through a private endpoint in the cluster's VNet (default True, still firewalled)."""
    log_analytics_workspace_id: NotRequired[Optional[pulumi.Input[str]]]
    """Send the vault's audit logs and metrics to this Log Analytics workspace (a diagnostic setting)."""
    tenant_id: NotRequired[Optional[pulumi.Input[str]]]
    """Entra tenant (default: the tenant of the identity running Pulumi)."""
    tags: NotRequired[Optional[Mapping[str, pulumi.Input[str]]]]
    """Azure tags."""


def secret_expiry(today: date) -> int:
    """Expiry of secrets written this year: 1 January two years on. Stable for a whole year (no diff on every
    `pulumi up`), and a yearly `pulumi up` rolls it forward."""
    return int(datetime(today.year + 2, 1, 1, tzinfo=timezone.utc).timestamp())


# Key Vault takes one write at a time: parallel ones fail with ConflictError ("serialize the operations so that only
# one operation is performed ... at a time"; pulumi-azure-native#1013). The secrets a run writes into one vault
# (resource group and name) are chained in the order their values become ready, whichever component writes them:
# each waits for the one before it, and a secret whose value waits for a slow resource joins the chain late instead
# of holding the others. The record is per run (llmplatform.run_state); the component provider keeps one per
# deployment, so secrets of components built through it are chained across them too. A private vault's endpoint
# comes first: the handle's writes_after, a dependency of the turn, not of the secret's vaultName (part of its Azure
# id: carried in the name, a replaced endpoint, deleted first, replaced every secret).
def vault_secret(resource_name: str, vault: pulumi.Input[VaultHandle], secret_name: pulumi.Input[str],
                 value: pulumi.Input[str], content_type: str, parent: pulumi.Resource,
                 today: Optional[date] = None, aliases: Optional[list[pulumi.Alias]] = None,
                 protect: Optional[bool] = None) -> keyvault.Secret:
    """Store a value (always a Pulumi secret) in a vault, with a content type and an expiry, after the run's previous
    write to that vault. The caller owns the secret: it is its child and named from its own name, so two callers
    never register one URN. A secret name known now is checked here, at the call (Key Vault's object names: 1-127
    letters, digits and hyphens; Microsoft Learn, "About keys, secrets, and certificates", object identifiers), so a
    program calling this itself learns it before `pulumi up`. The secret takes its parent's `protect` (the SDK's
    inheritance), so a component given `protect` protects the secrets it writes; `protect=False` keeps one
    replaceable under a protected parent."""
    if not isinstance(secret_name, pulumi.Output) and not inspect.isawaitable(secret_name):  # known now
        wrong = azure_names.key_vault_secret(secret_name) if isinstance(secret_name, str) else \
            "a string of 1-127 letters, digits and hyphens (a Key Vault secret name)"
        if wrong:
            fail("vault_secret", resource_name, "secret_name", WITHHELD, wrong)  # it may be the secret itself
    turn = Turn("key_vault.writes", pulumi.Output.all(field(vault, "resource_group_name"), field(vault, "vault_name")),
                ready=pulumi.Output.all(value, field(vault, "writes_after", None)))
    return turn.held_by(keyvault.Secret(
        resource_name,
        resource_group_name=field(vault, "resource_group_name"),
        vault_name=field(vault, "vault_name"),
        secret_name=secret_name,
        properties=keyvault.SecretPropertiesArgs(
            value=pulumi.Output.secret(value),
            content_type=content_type,
            attributes=keyvault.SecretAttributesArgs(enabled=True, expires=secret_expiry(today or date.today())),
        ),
        # retained on delete: pulumi-azure-native deletes a secret through the vault's data plane, not ARM
        # (provider/pkg/resources/customresources/custom_keyvault.go, `DeleteSecret` on https://<vault>.vault.azure.net,
        # commit 006a62afe), which the platform's vaults keep from the deployer (network rules admit the node subnet
        # alone, no data-plane role): a removed or replaced secret failed its `pulumi up` or `destroy` with 403. The
        # engine calls no Delete for it (pulumi/pulumi 1b5949891b pkg/resource/deploy/step.go DeleteStep.Apply); it
        # stays in the vault until the vault goes, readable by every grant still on it (offline/plan_diff RETAINED)
        opts=pulumi.ResourceOptions(parent=parent, aliases=aliases, depends_on=turn.after, retain_on_delete=True,
                                    protect=protect)))


def grant_secrets_user(resource_name: str, vault: pulumi.Input[VaultHandle], principal_id: pulumi.Input[str],
                       parent: pulumi.Resource, secret_name: Optional[pulumi.Input[str]] = None,
                       after: Optional[Sequence[pulumi.Input[pulumi.Resource]]] = None) -> authorization.RoleAssignment:
    """Let one identity read secret values of a vault (and nothing more); with `secret_name`, of that one secret
    only (Key Vault RBAC takes a secret as the scope: `<vault id>/secrets/<name>`), so the identity cannot read the
    vault's other secrets (the PostgreSQL admin password, other workloads' keys). `after`: the secret's writer, when
    this program writes it, so the grant's scope exists when it is made."""
    scope: pulumi.Input[str] = field(vault, "vault_id")
    if secret_name is not None:
        scope = pulumi.Output.concat(field(vault, "vault_id"), "/secrets/", secret_name)
    return authorization.RoleAssignment(
        resource_name,
        principal_id=principal_id,
        principal_type=authorization.PrincipalType.SERVICE_PRINCIPAL,
        role_definition_id=builtin_role(KEY_VAULT_SECRETS_USER, parent),
        scope=scope,
        opts=pulumi.ResourceOptions(parent=parent, depends_on=list(after) if after else None))


@called_as_documented
class KeyVault(pulumi.ComponentResource):
    """An RBAC-authorised Key Vault reachable only from the cluster. Others write their own secrets into it
    (in Python `vault_secret`, `grant_secrets_user`; in another language an azure-native `keyvault:Secret`
    and a role assignment) from the `vault` handle."""

    vault: VaultHandle
    """Id, name, URI, tenant and group of the vault, for the components that keep secrets in it."""
    vault_name: pulumi.Output[str]
    """Key Vault name."""

    def __init__(self, name: str, args: KeyVaultArgs, opts: Optional[pulumi.ResourceOptions] = None):
        args = check_shape("KeyVault", name, args, KeyVaultArgs)
        super().__init__(f"{PACKAGE}:index:KeyVault", name, None, opts)
        cluster = args["cluster"]
        rg = field(cluster, "resource_group_name")
        location = field(cluster, "location")
        public = opt(args, "public_network_access")
        # the vault's network rule, DNS link and private endpoint come after the cluster's network writes, as a
        # dependency only (ClusterHandle.network_writes_after): the subnet and VNet ids depend on their own resource
        network_done = order_after(pulumi.ResourceOptions(parent=self), cluster, "network_writes_after")
        # asked of the component's own azure-native provider (given with `providers`), as its children are made
        tenant_id = args.get("tenant_id") or authorization.get_client_config_output(
            opts=pulumi.InvokeOutputOptions(parent=self)).tenant_id
        vault = keyvault.Vault(
            f"{name}-vault",
            vault_name=args["vault_name"],
            resource_group_name=rg,
            location=location,
            properties=keyvault.VaultPropertiesArgs(
                tenant_id=tenant_id,
                sku=keyvault.SkuArgs(family=keyvault.SkuFamily.A, name=keyvault.SkuName.STANDARD),
                enable_rbac_authorization=True,  # access through Azure RBAC roles, no access policies
                enable_soft_delete=True,
                soft_delete_retention_in_days=opt(args, "soft_delete_retention_days"),
                # Azure accepts only true or absent: once on, purge protection cannot be turned off.
                enable_purge_protection=True if opt(args, "purge_protection") else None,
                public_network_access=keyvault.PublicNetworkAccess.ENABLED if public
                else keyvault.PublicNetworkAccess.DISABLED,
                network_acls=keyvault.NetworkRuleSetArgs(
                    default_action=keyvault.NetworkRuleAction.DENY,
                    bypass=keyvault.NetworkRuleBypassOptions.AZURE_SERVICES,
                    virtual_network_rules=[keyvault.VirtualNetworkRuleArgs(id=field(cluster, "node_subnet_id"))],
                ),
            ),
            tags=args.get("tags", {}),
            opts=network_done,
        )
        # The private endpoint is the vault's first write after its create: the handle's writes_after, so every
        # secret written through the handle (from any program or language) comes after it. The name depends on the
        # vault alone: a name carrying the endpoint made every secret's vaultName (part of its Azure id) depend on
        # it, so an endpoint deleted first and created again replaced every secret with it.
        endpoint = None if public else self._private_endpoint(name, cluster, rg, location, vault, network_done)
        if workspace := args.get("log_analytics_workspace_id"):
            to_log_analytics(f"{name}-diagnostics", vault.id, workspace, self)
        self.vault_name = vault.name
        self.vault = VaultHandle(vault_id=vault.id, vault_name=self.vault_name,
                                 vault_uri=vault.properties.apply(lambda p: p.vault_uri),
                                 tenant_id=pulumi.Output.from_input(tenant_id), resource_group_name=rg)
        if endpoint is not None:
            self.vault["writes_after"] = endpoint.id
        self.register_outputs({"vault": self.vault, "vault_name": self.vault_name})

    def _private_endpoint(self, name: str, cluster: pulumi.Input[ClusterHandle], rg: pulumi.Input[str],
                          location: pulumi.Input[str], vault: keyvault.Vault,
                          network_done: pulumi.ResourceOptions) -> network.PrivateEndpoint:
        child = pulumi.ResourceOptions(parent=self)
        zone = privatedns.PrivateZone(f"{name}-dns", private_zone_name="privatelink.vaultcore.azure.net",
                                      resource_group_name=rg, location="global", opts=child)
        privatedns.VirtualNetworkLink(
            f"{name}-dns-link", private_zone_name=zone.name, resource_group_name=rg, location="global",
            virtual_network=privatedns.SubResourceArgs(id=field(cluster, "vnet_id")), registration_enabled=False,
            opts=network_done)
        endpoint = network.PrivateEndpoint(
            f"{name}-pe", resource_group_name=rg, location=location,
            subnet=network.SubnetArgs(id=field(cluster, "endpoints_subnet_id")),
            private_link_service_connections=[network.PrivateLinkServiceConnectionArgs(
                name="vault", private_link_service_id=vault.id, group_ids=["vault"])],
            opts=network_done)
        network.PrivateDnsZoneGroup(
            f"{name}-pe-dns", resource_group_name=rg, private_endpoint_name=endpoint.name,
            private_dns_zone_group_name="default",
            private_dns_zone_configs=[network.PrivateDnsZoneConfigArgs(name="vault", private_dns_zone_id=zone.id)],
            opts=child)
        return endpoint
