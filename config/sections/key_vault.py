"""The `keyVault` section: the platform's Key Vault."""
from __future__ import annotations

from dataclasses import dataclass

from llmplatform.defaults import DEFAULTS as D  # the components' defaults are the stack's defaults

from .. import component_rules
from ..reader import Reader


@dataclass(frozen=True)
class KeyVaultConfig:
    soft_delete_retention_days: int = D["KeyVault"]["soft_delete_retention_days"]
    purge_protection: bool = D["KeyVault"]["purge_protection"]
    public_network_access: bool = D["KeyVault"]["public_network_access"]  # on, firewalled to the nodes


def parse_key_vault(r: Reader) -> KeyVaultConfig:
    d = KeyVaultConfig()
    cfg = KeyVaultConfig(
        soft_delete_retention_days=r.int_("softDeleteRetentionDays", d.soft_delete_retention_days),
        purge_protection=r.bool_("purgeProtection", d.purge_protection),
        public_network_access=r.bool_("publicNetworkAccess", d.public_network_access),
    )
    r.reject_unknown_keys()
    component_rules.check(r, "KeyVault", {"soft_delete_retention_days": cfg.soft_delete_retention_days},
                          component_rules.keys("keyVault"))
    return cfg


def key_vault_prod_checks(r: Reader, environment: str, kv: KeyVaultConfig) -> None:
    if environment == "prod":
        if not kv.purge_protection:
            r.problem("keyVault.purgeProtection must be true when environment is 'prod'")
        if kv.public_network_access:
            r.problem("keyVault.publicNetworkAccess must be false when environment is 'prod' (private endpoint)")

