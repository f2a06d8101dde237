"""Azure resource names derived from the stack's prefix and environment.

Azure's naming rules differ per resource type; each function returns a name that obeys its type's rule, so a bad
prefix is caught by config validation instead of by a failed `pulumi up` halfway through.
"""
from __future__ import annotations

import re
from typing import Optional

from llmplatform import azure_names  # Azure's naming rules: the components' own, one source
# a budget's name is unique in its scope (the subscription), as the platform's resource group is: the stack names it
# `budget_name(<platform group>)`, since two stacks of one prefix and environment may differ by resourceGroupName alone
from llmplatform.naming import budget_name  # noqa: F401  (one rule for both layers)
from llmplatform.naming import content_suffix, short_hash as _short_hash  # noqa: F401  (one hash for both layers)
from llmplatform.regions import azure_region  # the components' rule for every `location` input

from .reader import Reader, describe

PREFIX_PATTERN = re.compile(r"^[a-z][a-z0-9]{1,9}$")
ENVIRONMENTS = ("dev", "staging", "prod")

def read_environment_prefix_location(top: Reader, environment_default: str) -> tuple[str, str, str]:
    """A stack file's `environment`, `prefix` and `location`, each refused by its key where invalid (a regional stack's
    loader and the global stack's read them alike; the names above are derived from them)."""
    environment = top.choice("environment", environment_default, ENVIRONMENTS)
    prefix = top.str_("prefix", "llmp") or "llmp"
    if not PREFIX_PATTERN.fullmatch(prefix):
        top.problem(f"prefix {describe(prefix)} must be 2-10 lowercase letters/digits starting with a letter")
    location = top.str_("location", "westeurope") or "westeurope"
    region_problem = azure_region(location)
    if region_problem:
        top.problem(f"location {describe(location)} is invalid; allowed: {region_problem}")
    return environment, prefix, location

def resource_group_name(prefix: str, env: str, purpose: str = "") -> str:
    return "-".join(p for p in ("rg", prefix, env, purpose) if p)

def cluster_name(prefix: str, env: str) -> str:
    return f"aks-{prefix}-{env}"

def vnet_name(prefix: str, env: str) -> str:
    return f"vnet-{prefix}-{env}"

def _scope(prefix: str, env: str, location: str, subscription_id: Optional[str]) -> tuple[str, ...]:
    """What a globally unique name's hash covers: the stack's prefix, environment and region, and the subscription's
    id (as ARM's `uniqueString(subscription().subscriptionId, ...)`), so two subscriptions never ask Azure for one
    name; None leaves the subscription out (`legacyGlobalNames`: the names of stacks deployed before it counted)."""
    return (prefix, env, location) + ((subscription_id.lower(),) if subscription_id is not None else ())

def _storage_base(prefix: str, env: str) -> str:
    return re.sub(r"[^a-z0-9]", "", f"st{prefix}{env}")[:16]

def storage_account_name(prefix: str, env: str, location: str, subscription_id: Optional[str] = None) -> str:
    """3-24 lowercase alphanumerics, globally unique: a stable hash of the stack's scope (`_scope`)."""
    base = _storage_base(prefix, env)
    return f"{base}{_short_hash(*_scope(prefix, env, location, subscription_id), length=24 - len(base))}"[:24]

def is_valid_storage_account_name(name: str) -> bool:
    return azure_names.storage_account(name) is None

def is_valid_node_pool_name(name: str) -> bool:
    return azure_names.agent_pool(name) is None

def dns_label(*parts: str, max_len: int = 63) -> str:
    """A Kubernetes/DNS-1123 label built from parts (lowercase, hyphens, at most 63 chars)."""
    label = re.sub(r"[^a-z0-9-]+", "-", "-".join(parts).lower()).strip("-")
    return label[:max_len].rstrip("-")

def _key_vault_base(prefix: str, env: str) -> str:
    return f"kv-{prefix}-{env}-"[:16]

def key_vault_name(prefix: str, env: str, location: str, subscription_id: Optional[str] = None) -> str:
    """3-24 letters, digits and hyphens, globally unique, starting with a letter (hash: `_scope`)."""
    base = _key_vault_base(prefix, env)
    return f"{base}{_short_hash('kv', *_scope(prefix, env, location, subscription_id), length=24 - len(base))}"

def _postgres_base(prefix: str, env: str) -> str:
    return f"psql-{prefix}-{env}-"

def postgres_server_name(prefix: str, env: str, location: str, subscription_id: Optional[str] = None) -> str:
    """3-63 lowercase letters, digits and hyphens, globally unique (it becomes a DNS name; hash: `_scope`)."""
    return f"{_postgres_base(prefix, env)}{_short_hash('pg', *_scope(prefix, env, location, subscription_id))}"

def _grafana_base(prefix: str, env: str) -> str:
    return f"graf-{prefix}-{env}"

def grafana_name(prefix: str, env: str, location: str, subscription_id: Optional[str] = None) -> str:
    """2-30 letters, digits and hyphens, starting with a letter (AzureMonitoring's `grafana_name`). Azure refuses a
    name another workspace holds beyond the resource group (NameNotUnique, also from another subscription:
    Azure/ARO-HCP#5813), so a new stack's carries a hash of `_scope` (at most 30: a prefix of 10, `staging`, 6 of
    hash); the legacy form (None: `legacyGlobalNames`) is the one AzureMonitoring gave a stack before, no hash."""
    base = _grafana_base(prefix, env)
    if subscription_id is None:
        return base
    return f"{base}-{_short_hash('graf', *_scope(prefix, env, location, subscription_id))}"

GRAFANA_KIND = "Managed Grafana workspace"

# kind -> (its name, the part before the hash, what every such name starts with)
GLOBAL_NAMES = {"storage account": (storage_account_name, _storage_base, "st"),
                "Key Vault": (key_vault_name, _key_vault_base, "kv-"),
                "PostgreSQL server": (postgres_server_name, _postgres_base, "psql-"),
                GRAFANA_KIND: (grafana_name, _grafana_base, "graf-")}

def legacy_names(kind: str, name: str, location: str) -> set[str]:
    """What `legacyGlobalNames: true` names the resource of this kind that `name` names at `location`: the name
    without the subscription of each prefix and environment `name` was derived from (its base and length); none for a
    name of another shape. The key gives a deployed stack its old name back only when that old name is among these:
    a new prefix, environment or region renames the resource whatever the key says."""
    derive, base, head = GLOBAL_NAMES[kind]
    rest = name[len(head):] if name.startswith(head) else ""
    found = set()
    for prefix in {rest[:n] for n in range(2, 11)}:
        for env in ENVIRONMENTS:
            legacy = derive(prefix, env, location)
            # the legacy name has the new one's length (its hash without the subscription), or, for Grafana's, is the
            # new one without its `-<hash>`
            shaped = len(legacy) == len(name) if legacy != base(prefix, env) else \
                name == legacy or (name.startswith(f"{legacy}-") and len(name) == len(legacy) + 7)
            if PREFIX_PATTERN.fullmatch(prefix) and name.startswith(base(prefix, env)) and shaped:
                found.add(legacy)
    return found

def is_valid_key_vault_name(name: str) -> bool:
    return azure_names.key_vault(name) is None


def is_valid_postgres_server_name(name: str) -> bool:
    return azure_names.postgres_server(name) is None


def is_valid_grafana_name(name: str) -> bool:
    return azure_names.grafana_workspace(name) is None
