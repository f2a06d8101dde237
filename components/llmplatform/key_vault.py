"""KeyVault: an RBAC-authorised Key Vault holding the platform's secrets, reachable only from the cluster."""
from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Optional, TypedDict

import pulumi
from pulumi_azure_native import authorization, keyvault, network, privatedns
from typing_extensions import NotRequired

from . import PACKAGE
from .azure_roles import KEY_VAULT_SECRETS_USER, builtin_role



class KeyVaultArgs(TypedDict):
    location: str
    resource_group_name: pulumi.Input[str]
    vault_name: str
    allowed_subnet_ids: list[pulumi.Input[str]]
    soft_delete_retention_days: NotRequired[int]
    purge_protection: NotRequired[bool]
    public_network_access: NotRequired[bool]  # False: private endpoint only
    private_endpoint_subnet_id: NotRequired[pulumi.Input[str]]
    vnet_id: NotRequired[pulumi.Input[str]]
    tenant_id: NotRequired[pulumi.Input[str]]  # default: the tenant of the identity running Pulumi
    protect: NotRequired[bool]
    tags: NotRequired[dict[str, str]]


def secret_expiry(today: date) -> int:
    """Expiry of secrets written this year: 1 January two years on. Stable for a whole year (no diff on every
    `pulumi up`), and a yearly `pulumi up` rolls it forward."""
    return int(datetime(today.year + 2, 1, 1, tzinfo=timezone.utc).timestamp())


class KeyVault(pulumi.ComponentResource):
    vault_name: pulumi.Output[str]
    """Key Vault name (for SecretProviderClass objects)."""
    vault_id: pulumi.Output[str]
    """Key Vault resource id (scope of role assignments)."""
    vault_uri: pulumi.Output[str]
    """https://<name>.vault.azure.net/"""
    tenant_id: pulumi.Output[str]
    """Entra tenant of the vault."""

    def __init__(self, name: str, args: KeyVaultArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__(f"{PACKAGE}:index:KeyVault", name, None, opts)
        self._name = name
        self._rg = args["resource_group_name"]
        public = args.get("public_network_access", True)
        stateful = pulumi.ResourceOptions(parent=self, protect=args.get("protect", False))
        tenant_id = args.get("tenant_id") or authorization.get_client_config_output().tenant_id
        vault = keyvault.Vault(
            f"{name}-vault",
            vault_name=args["vault_name"],
            resource_group_name=self._rg,
            location=args["location"],
            properties=keyvault.VaultPropertiesArgs(
                tenant_id=tenant_id,
                sku=keyvault.SkuArgs(family=keyvault.SkuFamily.A, name=keyvault.SkuName.STANDARD),
                enable_rbac_authorization=True,  # access through Azure RBAC roles, no access policies
                enable_soft_delete=True,
                soft_delete_retention_in_days=args.get("soft_delete_retention_days", 7),
                # Azure accepts only true or absent: once on, purge protection cannot be turned off.
                enable_purge_protection=True if args.get("purge_protection", False) else None,
                public_network_access=keyvault.PublicNetworkAccess.ENABLED if public
                else keyvault.PublicNetworkAccess.DISABLED,
                network_acls=keyvault.NetworkRuleSetArgs(
                    default_action=keyvault.NetworkRuleAction.DENY,
                    bypass=keyvault.NetworkRuleBypassOptions.AZURE_SERVICES,
                    virtual_network_rules=[keyvault.VirtualNetworkRuleArgs(id=s)
                                           for s in args["allowed_subnet_ids"]],
                ),
            ),
            tags=args.get("tags", {}),
            opts=stateful,
        )
        if not public:
            self._private_endpoint(name, args, vault)
        self.vault_name = vault.name
        self.vault_id = vault.id
        self.vault_uri = vault.properties.apply(lambda p: p.vault_uri)
        self.tenant_id = pulumi.Output.from_input(tenant_id)
        self.register_outputs({"vault_name": self.vault_name, "vault_id": self.vault_id})

    def _private_endpoint(self, name: str, args: KeyVaultArgs, vault: keyvault.Vault) -> None:
        child = pulumi.ResourceOptions(parent=self)
        zone = privatedns.PrivateZone(f"{name}-dns", private_zone_name="privatelink.vaultcore.azure.net",
                                      resource_group_name=self._rg, location="global", opts=child)
        privatedns.VirtualNetworkLink(
            f"{name}-dns-link", private_zone_name=zone.name, resource_group_name=self._rg, location="global",
            virtual_network=privatedns.SubResourceArgs(id=args["vnet_id"]), registration_enabled=False, opts=child)
        endpoint = network.PrivateEndpoint(
            f"{name}-pe", resource_group_name=self._rg, location=args["location"],
            subnet=network.SubnetArgs(id=args["private_endpoint_subnet_id"]),
            private_link_service_connections=[network.PrivateLinkServiceConnectionArgs(
                name="vault", private_link_service_id=vault.id, group_ids=["vault"])],
            opts=child)
        network.PrivateDnsZoneGroup(
            f"{name}-pe-dns", resource_group_name=self._rg, private_endpoint_name=endpoint.name,
            private_dns_zone_group_name="default",
            private_dns_zone_configs=[network.PrivateDnsZoneConfigArgs(name="vault", private_dns_zone_id=zone.id)],
            opts=child)

    def secret(self, secret_name: str, value: pulumi.Input[str], content_type: str,
               today: Optional[date] = None) -> keyvault.Secret:
        """Store a value (always treated as a Pulumi secret) with a content type and an expiry."""
        return keyvault.Secret(
            f"{self._name}-{secret_name}",
            resource_group_name=self._rg,
            vault_name=self.vault_name,
            secret_name=secret_name,
            properties=keyvault.SecretPropertiesArgs(
                value=pulumi.Output.secret(value),
                content_type=content_type,
                attributes=keyvault.SecretAttributesArgs(enabled=True,
                                                         expires=secret_expiry(today or date.today())),
            ),
            opts=pulumi.ResourceOptions(parent=self))

    def grant_secrets_user(self, resource_name: str, principal_id: pulumi.Input[str],
                           parent: pulumi.Resource) -> authorization.RoleAssignment:
        """Let one identity read secret values of this vault (and nothing more)."""
        return authorization.RoleAssignment(
            resource_name,
            principal_id=principal_id,
            principal_type=authorization.PrincipalType.SERVICE_PRINCIPAL,
            role_definition_id=builtin_role(KEY_VAULT_SECRETS_USER),
            scope=self.vault_id,
            opts=pulumi.ResourceOptions(parent=parent))
