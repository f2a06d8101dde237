"""A Key Vault closed to public access in the run that creates its private endpoint: what the pull request's check says
of the pods that mount its secrets in between, which the vault's update and the endpoint's create alone do not tell.

The endpoint is made from the vault's id, so it can only come after the vault (KeyVault: `private_link_service_id=
vault.id`); on a first `pulumi up` that is the vault's create, before any pod, but on a vault that exists the update
closing it starts at once, while the endpoint (1 min, up to 5), its DNS zone group (20 s, up to 2 min) and the zone's
link to the network are created after it (config/data/deploy_durations.json). Closed, the vault answers only its
private endpoints and trusted services (pulumi-azure-native 3.29.0 `VaultPropertiesArgs.public_network_access`, the
REST spec's text: "This will override the set firewall rules"), and its name resolves to its private address only once
the zone holds the endpoint's record and is linked to the network."""
from typing import Any

from llmplatform.write_order import ancestors

from ..pod_specs import mounted_provider_classes, pod_spec
from .documents import object_name
from .urns import short_urn

VAULT = "azure-native:keyvault:Vault"
ENDPOINT = "azure-native:network:PrivateEndpoint"
ZONE_GROUP = "azure-native:network:PrivateDnsZoneGroup"
ZONE = "azure-native:privatedns:PrivateZone"
LINK = "azure-native:privatedns:VirtualNetworkLink"
PROVIDER_CLASS = "kubernetes:secrets-store.csi.x-k8s.io/v1:SecretProviderClass"
KEY_VAULT = "llmplatform:index:KeyVault$"  # KeyVault's vault: `public_network_access` is keyVault.publicNetworkAccess
MOST_NAMED = 4


def closed(vault: dict[str, Any]) -> bool:
    """The vault answers no caller but its private endpoints and trusted services: public network access disabled,
    or a firewall that denies by default with no network or address rule."""
    properties = vault["inputs"].get("properties") or {}
    acls = properties.get("networkAcls") or {}
    return str(properties.get("publicNetworkAccess")).lower() == "disabled" or (
        str(acls.get("defaultAction")).lower() == "deny" and not acls.get("virtualNetworkRules")
        and not acls.get("ipRules"))


def _endpoints_to(urn: str, vault: dict[str, Any], new_res: dict[str, dict[str, Any]], added: list[str]) -> list[str]:
    """The private endpoints to the vault this change creates (depending on it, or naming its id)."""
    name = str(vault["inputs"].get("vaultName") or "").lower()

    def names_it(endpoint: dict[str, Any]) -> bool:
        return any(str(c.get("privateLinkServiceId") or "").lower().endswith(f"/vaults/{name}")
                   for c in endpoint["inputs"].get("privateLinkServiceConnections") or [] if isinstance(c, dict))
    return [a for a in added if new_res[a]["type"] == ENDPOINT
            and (urn in (new_res[a].get("dependencies") or []) or (name and names_it(new_res[a])))]


def _dns_of(endpoints: list[str], new_res: dict[str, dict[str, Any]], added: list[str]) -> list[str]:
    """The endpoints' new DNS zone groups, and the new links to the network of the zones they write to."""
    groups = [a for a in added if new_res[a]["type"] == ZONE_GROUP
              and set(new_res[a].get("dependencies") or []) & set(endpoints)]
    zones = {d for g in groups for d in new_res[g].get("dependencies") or []
             if (new_res.get(d) or {}).get("type") == ZONE}
    links = [a for a in added if new_res[a]["type"] == LINK and set(new_res[a].get("dependencies") or []) & zones]
    return groups + links


def _readers(vault: dict[str, Any], new_res: dict[str, dict[str, Any]]) -> list[str]:
    """The workloads whose pods mount the vault's secrets through the Secrets Store CSI driver (a volume naming a
    SecretProviderClass of their namespace whose `keyvaultName` is the vault's)."""
    name = vault["inputs"].get("vaultName")
    classes = {((r["inputs"].get("metadata") or {}).get("namespace"), object_name(r)) for r in new_res.values()
               if r["type"] == PROVIDER_CLASS
               and ((r["inputs"].get("spec") or {}).get("parameters") or {}).get("keyvaultName") == name}
    found = []
    for urn, res in sorted(new_res.items()):
        spec = pod_spec(res["inputs"]) if res["type"].startswith("kubernetes:") else None
        namespace = (res["inputs"].get("metadata") or {}).get("namespace")
        if spec and any((namespace, name) in classes for name in mounted_provider_classes(spec)):
            found.append(object_name(res))
    return found


def closing_before_endpoint(old_res: dict[str, dict[str, Any]], new_res: dict[str, dict[str, Any]],
                            added: list[str], engine: dict[str, str]) -> dict[str, str]:
    """Vault URN -> a check line, for a vault this change closes while it creates the private endpoint (and its DNS)
    that the vault's update does not wait for; `engine`: the engine's URNs, for the commands the line gives."""
    out: dict[str, str] = {}
    closing = [u for u, r in sorted(new_res.items())
               if r["type"] == VAULT and u in old_res and not closed(old_res[u]) and closed(r)]
    upstream = ancestors({u: set(r.get("dependencies") or []) for u, r in new_res.items()}) if closing else {}
    for urn in closing:
        vault = new_res[urn]
        endpoints = _endpoints_to(urn, vault, new_res, added)
        first = {*endpoints, *_dns_of(endpoints, new_res, added)}
        if not endpoints or first <= upstream.get(urn, set()):
            continue
        # a targeted run creates what they need that this change adds too (the zone), or it refuses the targets
        first |= {d for u in first for d in upstream.get(u, set()) if d in added}
        readers = _readers(vault, new_res)
        why = "public network access disabled overrides its firewall's rules" if str(
            (vault["inputs"].get("properties") or {}).get("publicNetworkAccess")).lower() == "disabled" else \
            "its firewall denies by default, with no rule left"
        key = " (stack key `keyVault.publicNetworkAccess`)" if KEY_VAULT in urn else ""
        pods = (f" ({', '.join(f'`{r}`' for r in readers[:MOST_NAMED])}"
                f"{f' and {len(readers) - MOST_NAMED} more' if len(readers) > MOST_NAMED else ''})") if readers else ""
        targets = " ".join(f"--target '{engine.get(u, u)}'" for u in sorted(first))
        out[urn] = (
            f"closed to public access{key} in the run that creates its private endpoint "
            f"{', '.join(f'`{short_urn(engine.get(e, e))}`' for e in endpoints)}, which is made from the vault's id "
            "and so comes after the vault's update, with its DNS zone group and the zone's network link: from the "
            "update's end until they exist (about 1.5 minutes, 7 pessimistic) the vault refuses the nodes' calls "
            f"({why}) while its name does not resolve to the endpoint yet, so a pod that "
            f"starts then and mounts its secrets through the Secrets Store CSI driver{pods} waits, its mount failing "
            "and retried by the kubelet, and the driver's rotation fails (running pods keep what they mounted). To "
            f"leave no such window, create them first, `pulumi up {targets}`, then run `pulumi up`")
    return out

