"""Key Vault secrets whose value changes where the plan cannot show it: a secret's value is `[secret]` in every plan
file, so a new value (a new API key's password, one dropped from the key map) shows only as the resource it comes
from added or deleted. Such a secret gets a new version; a pod reads a Key Vault secret mounted by the Secrets Store
CSI driver when it starts (the driver's rotation, where enabled, rewrites the file), so what mounts it needs a
restart, but for an API gate's nginx key map: the gate's key-map reloader has nginx load it again."""
from typing import Any

from llmplatform.front_door import API_KEY_SECRET as EDGE_KEY_SECRET
from llmplatform.inference_specs import KEY_MAP_CONTENT_TYPE

from .urns import short_urn

RELOADED = ("which every API gate that mounts it loads again by itself within about two and a half minutes (the CSI "
            "driver's rotation poll, then the gate's key-map reloader): after `pulumi up`, check a request with the "
            "new key (docs/operations.md, \"The clients' API key\")")
RESTARTED = ("and a pod reads a mounted Key Vault secret when it starts: after `pulumi up`, restart what mounts it "
             "(the API gates load their key map by themselves; docs/operations.md, \"Rotating secrets\")")

# the global stack's newest client key in every region's vault (GlobalEndpoint): no pod of the platform mounts it,
# the regions' gates read the key map (docs/operations.md, "The clients' API key": nothing to restart)
EDGE_KEY = ("which no pod of the platform mounts (the regions' API gates read the key map): nothing to restart; it is "
            "the newest key for clients inside a region's network, and a workload of yours that mounts it reads the "
            "new one when it starts (docs/operations.md, \"The clients' API key\")")
EDGE_ENDPOINT = "llmplatform:index:GlobalEndpoint$"

SECRET = "azure-native:keyvault:Secret"
# what a secret depends on for where it is written and when, never for its value: its vault, the vault's group, the
# vault's private endpoint (a private vault's first write waits for it) and the secret written before it (one vault
# takes one write at a time, so llmplatform.key_vault.vault_secret chains each write after the run's previous one)
WHERE_AND_WHEN = (SECRET, "azure-native:keyvault:Vault", "azure-native:network:PrivateEndpoint",
                  "azure-native:resources:ResourceGroup")


def secret_sources(old_res: dict[str, dict[str, Any]], new_res: dict[str, dict[str, Any]], common: list[str],
                   added: list[str], removed: list[str]) -> dict[str, str]:
    """A check line for each Key Vault secret kept by the change whose value depends on a resource added or deleted."""
    changed = {u for u in set(added) | set(removed) if (new_res.get(u) or old_res[u])["type"] not in WHERE_AND_WHEN}
    found = {}
    for urn in common:
        if new_res[urn]["type"] != SECRET:
            continue
        sources = sorted((set(new_res[urn].get("dependencies") or []) | set(old_res[urn].get("dependencies") or []))
                         & changed)
        if sources:
            name = new_res[urn]["inputs"].get("secretName") or new_res[urn].get("name")
            found[urn] = (f"its value comes from {', '.join(f'`{short_urn(s)}`' for s in sources)}, added or deleted "
                          f"here (the plan files show secret values as `[secret]`): `{name}` gets a new version, "
                          + (RELOADED if (new_res[urn]["inputs"].get("properties") or {}).get("contentType")
                             == KEY_MAP_CONTENT_TYPE else EDGE_KEY if name == EDGE_KEY_SECRET
                             and EDGE_ENDPOINT in urn.split("::")[2] else RESTARTED))
    return found
