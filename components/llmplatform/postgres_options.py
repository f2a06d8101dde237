"""What Azure Database for PostgreSQL flexible server takes, from `data/postgres_flexible.json` (shipped in the
package, with its sources): each tier's compute size family, Premium SSD's storage sizes, the administrator logins
Azure reserves, each size's default connection limit. Pure (no Pulumi import): PostgresServer's rules and their unit
tests read it."""
import functools
import json
import re
from importlib import resources
from typing import Any, Optional


@functools.lru_cache(maxsize=None)
def _spec() -> dict[str, Any]:
    text = resources.files(__package__).joinpath("data", "postgres_flexible.json").read_text(encoding="utf-8")
    return json.loads(text)


def storage_sizes_gib() -> tuple[int, ...]:
    """Premium SSD's sizes, the storage a server without a storage type gets (Premium_LRS)."""
    return tuple(_spec()["premium_ssd_storage_gib"])


def sku_tier(sku_name: str) -> Optional[str]:
    """The tier whose compute family `sku_name` is (Azure reads size names case-insensitively), or None."""
    return next((tier for tier, regex in _spec()["sku_patterns"].items()
                 if re.fullmatch(regex, sku_name, re.IGNORECASE | re.ASCII)), None)


def sku_spelling(sku_name: Any) -> Any:
    """A compute size as Azure spells it (`standard_b2s` -> `Standard_B2s`): Microsoft's table's spelling, else the
    naming convention's every tier's pattern follows (`Standard_`, the family's capital, the rest in lower case);
    anything else (a name of no tier's family, a value not known yet) unchanged."""
    if not isinstance(sku_name, str) or sku_tier(sku_name) is None:
        return sku_name
    listed = {name.lower(): name for name in _spec()["max_connections"]}
    size = sku_name[len("Standard_"):]
    return listed.get(sku_name.lower(), f"Standard_{size[0].upper()}{size[1:].lower()}")


def sku_shape(tier: str) -> str:
    return f"a {tier} compute size ({_spec()['sku_shapes'][tier]})"


def any_sku_problem(sku_name: str) -> Optional[str]:
    """What is allowed when `sku_name` is a compute size of no tier (None when it is one of some tier's)."""
    if sku_tier(sku_name) is not None:
        return None
    allowed = "a Flexible Server compute size: " + "; ".join(sku_shape(t) for t in _spec()["sku_shapes"])
    # Terraform's azurerm_postgresql_flexible_server writes the tier before the size (B_Standard_B1ms, GP_..., MO_...)
    tier_prefix = re.fullmatch(r"(?:B|GP|MO)_(.+)", sku_name, re.IGNORECASE | re.ASCII)
    if tier_prefix and sku_tier(tier_prefix.group(1)) is not None:
        return (f"{allowed}; the size without Terraform's tier prefix, {tier_prefix.group(1)} (the tier is the "
                f"tier input)")
    return allowed


def admin_login_problem(login: str) -> Optional[str]:
    """What is allowed when Azure reserves `login` for itself or PostgreSQL (None when it does not)."""
    spec = _spec()
    if login.lower() in spec["reserved_admin_logins"] or login.lower().startswith(spec["reserved_admin_login_prefix"]):
        return (f"a login other than {', '.join(spec['reserved_admin_logins'])} and not starting with "
                f"{spec['reserved_admin_login_prefix']} (Azure reserves them)")
    return None


def user_connections(sku_name: str) -> Optional[int]:
    """The connections a server of compute size `sku_name` admits for users: its default max_connections less the
    ones Azure reserves for replication and monitoring (None for a size Microsoft's table leaves out)."""
    spec = _spec()
    table = {name.lower(): count for name, count in spec["max_connections"].items()}
    total = table.get(sku_name.lower())
    return None if total is None else total - reserved_connections()


def reserved_connections() -> int:
    """The connections Azure keeps for replication and monitoring (reserved + superuser_reserved_connections)."""
    return int(_spec()["reserved_connections"])


def max_connections(sku_name: str) -> Optional[int]:
    """The default max_connections of a server created at compute size `sku_name` (None when not in the table)."""
    found = user_connections(sku_name)
    return None if found is None else found + reserved_connections()


def smallest_size_for(tier: str, connections: int) -> Optional[str]:
    """The tier's size with the fewest user connections that still admits `connections` (None: none does)."""
    fits = [(user_connections(name) or 0, name) for name in _spec()["max_connections"]
            if sku_tier(name) == tier and (user_connections(name) or 0) >= connections]
    return min(fits)[1] if fits else None
