"""The global stack's value rules: GlobalEndpoint (Front Door) and FleetUpdates (Fleet Manager)."""
from typing import Any, Mapping, Optional

from ..choices import (FLEET_CHANNELS, FRONT_DOOR_SKUS, MAX_ORIGIN_TIMEOUT_SECONDS, MAX_ORIGINS_PER_GROUP,
                       MAX_ORIGINS_PER_PROFILE, NODE_IMAGE_SELECTIONS, ORIGIN_PROTOCOLS, WAF_MODES)
from ..regions import azure_region
from ..rules import Problem, Rules, pattern, public_dns_name_problem


# A Front Door origin's (and endpoint prefix's) name, and a Fleet member's: the global stack derives both from each
# regional stack's name (config/regions.py edge_name_problems)
EDGE_NAME = pattern(r"[a-z]([a-z0-9-]{0,40}[a-z0-9])?", "1-42 lowercase letters, digits and hyphens, starting with "
                                                        "a letter")
FLEET_NAME = pattern(r"[a-z0-9]([-a-z0-9]{0,48}[a-z0-9])?", "1-50 lowercase letters, digits and hyphens, starting "
                                                            "and ending with a letter or digit")


def front_door_origins_problem(regions: int, llmd_regions: int, sku: str) -> Optional[str]:
    """What Front Door refuses of `regions` regional origins, `llmd_regions` of them also serving llm-d: each region is
    an origin of the `ui` and `api` origin groups (and of `llmd`), counted against Front Door's origins per group and
    per profile (MAX_ORIGINS_PER_GROUP, MAX_ORIGINS_PER_PROFILE); None when they fit."""
    per_profile = MAX_ORIGINS_PER_PROFILE.get(sku, min(MAX_ORIGINS_PER_PROFILE.values()))
    if regions <= MAX_ORIGINS_PER_GROUP and 2 * regions + llmd_regions <= per_profile:
        return None
    return (f"at most {MAX_ORIGINS_PER_GROUP} regions (Front Door's origins per origin group, every region being one "
            f"in the ui and api groups) and at most {per_profile} origins in all on {sku} (2 per region, 1 more per "
            f"llm-d region; Azure Front Door limits, MicrosoftDocs azure-docs includes/front-door-limits.md)")


def _https_host_problem(host: str, protocol: str) -> Optional[str]:
    """An HTTPS origin's host: Front Door sends it as SNI and checks the certificate's names against it (an IP address
    never matches); the region's certificate is for its gateway.tls.hostname, which Let's Encrypt issues for."""
    wrong = public_dns_name_problem(host)
    return None if wrong is None else (
        f"a DNS name the region's certificate is for ({protocol} Https: Front Door sends it as SNI and checks the "
        f"certificate's names against it; an IP address never matches): {wrong}; or {protocol} Http")


def global_endpoint(args: Mapping[str, Any]) -> list[Problem]:
    r = Rules(args, "GlobalEndpoint")
    r.choice("sku", FRONT_DOOR_SKUS)
    r.choice("waf_mode", WAF_MODES)
    https = r.choice("origin_protocol", ORIGIN_PROTOCOLS) == "Https"
    r.whole("rate_limit_per_minute", 10, 1_000_000)
    r.whole("origin_timeout_seconds", 16, MAX_ORIGIN_TIMEOUT_SECONDS)
    r.whole("probe_interval_seconds", 5, 255)
    r.text("name_prefix", EDGE_NAME)
    origins = r.args.get("origins")
    if isinstance(origins, (list, tuple)) and not origins:
        r.add("origins", [], "at least one region")
    if isinstance(origins, (list, tuple)):
        llmd = sum(isinstance(o, Mapping) and o.get("llmd_port") is not None for o in origins)
        limit = front_door_origins_problem(len(origins), llmd, r.get("sku") or "")
        if limit:
            r.add("origins", f"{len(origins)} regions ({llmd} with llm-d)", limit)
    seen: set[str] = set()
    serving = 0
    for origin, value in r.items("origins"):
        name = origin.text("name", EDGE_NAME)
        if name is not None and name in seen:
            origin.add("name", name, "a name no other origin has")
        seen.add(name or "")
        if https:
            origin.text("host", lambda h: _https_host_problem(h, r.ref("origin_protocol")))
        for port in ("ui_port", "api_port", "llmd_port"):
            origin.whole(port, 1, 65535)
        priority = origin.choice("priority", (1, 2))
        serving += isinstance(value, Mapping) and (priority in (1, None) and origin.given("priority") != 2)
    if origins and isinstance(origins, (list, tuple)) and all(isinstance(o, Mapping) for o in origins) \
            and serving == 0:
        r.add("origins", "no priority-1 origin", "at least one serving region (priority 1)")
    keys = r.given("api_keys")
    if keys is not None:  # one key set valid in every region, written into each region's Key Vault
        if not isinstance(keys, (list, tuple)) or not 1 <= len(keys) <= 10 or len(set(keys)) != len(keys) \
                or not all(isinstance(k, str) and EDGE_NAME(k) is None for k in keys):
            r.add("api_keys", keys, "1-10 unique names of lowercase letters, digits and hyphens")
        for origin, value in r.items("origins"):
            for key in ("key_vault_name", "key_vault_resource_group"):
                if isinstance(value, Mapping) and not value.get(key):
                    origin.add(key, None, f"a value when {r.ref('api_keys')} is set (the key set is written into "
                                          f"every region's Key Vault)")
    return r.problems


def fleet_updates(args: Mapping[str, Any]) -> list[Problem]:
    r = Rules(args, "FleetUpdates")
    r.text("location", azure_region)
    r.choice("channel", FLEET_CHANNELS)
    r.choice("node_image_selection", NODE_IMAGE_SELECTIONS)
    r.whole("wait_between_regions_seconds", 0, 604800)
    r.text("fleet_name", pattern(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?", "1-63 lowercase letters, digits and "
                                                                       "hyphens, starting and ending with a letter "
                                                                       "or digit"))
    members = r.args.get("members")
    if isinstance(members, (list, tuple)) and not members:
        r.add("members", [], "at least one cluster")
    seen: set[str] = set()
    for member, _ in r.items("members"):
        name = member.text("name", FLEET_NAME)
        if name is not None and name in seen:
            member.add("name", name, "a name no other member has")
        seen.add(name or "")
    return r.problems
