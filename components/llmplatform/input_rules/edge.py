"""The global stack's value rules: GlobalEndpoint (Front Door) and FleetUpdates (Fleet Manager)."""
import re
from typing import Any, Mapping, Optional

from ..choices import (FLEET_CHANNELS, FRONT_DOOR_SKUS, MAX_ORIGIN_TIMEOUT_SECONDS, MAX_ORIGINS_PER_GROUP,
                       MAX_ORIGINS_PER_PROFILE, NODE_IMAGE_SELECTIONS, ORIGIN_PROTOCOLS, WAF_MODES)
from ..regions import azure_region
from ..rules import GUID, Problem, Rules, is_output, pattern, public_dns_name_problem


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


# ---- the WAF's managed rule set, tuned: exclusions and rule overrides of Microsoft_DefaultRuleSet 2.1 ----------------
# Its 17 rule groups as the API names them (`ruleGroupName`; the group in the WAF log's ruleName_s,
# "Microsoft_DefaultRuleSet-2.1-SQLI-942100"), each with what its rule ids start with: a CRS-derived group's three
# digits (CRS numbers a rule after its file, REQUEST-942-APPLICATION-ATTACK-SQLI), Microsoft's threat-intelligence
# groups' 99 (eight digits). Microsoft's rule table (MicrosoftDocs/azure-docs 12371cd9
# articles/web-application-firewall/afds/waf-front-door-drs.md, "DRS 2.1") titles nine of them otherwise
# (APPLICATION-ATTACK-SQLI); the API takes the short names (Front Door's own DRS 2.0 example, `-RuleGroupName 'SQLI'`,
# 044f93f9 waf-front-door-exclusion-configure.md; "RuleGroup 'APPLICATION-ATTACK-LFI' cannot be configured",
# MicrosoftDocs/azure-docs#121060, which lists the API's names for the nine).
DRS_RULE_GROUPS = {"General": "200", "METHOD-ENFORCEMENT": "911", "PROTOCOL-ENFORCEMENT": "920",
                   "PROTOCOL-ATTACK": "921", "LFI": "930", "RFI": "931", "RCE": "932", "PHP": "933", "NODEJS": "934",
                   "XSS": "941", "SQLI": "942", "FIX": "943", "JAVA": "944", "MS-ThreatIntel-WebShells": "99",
                   "MS-ThreatIntel-AppSec": "99", "MS-ThreatIntel-SQLI": "99", "MS-ThreatIntel-CVEs": "99"}
DRS_TABLE_GROUP_NAMES = {"APPLICATION-ATTACK-LFI": "LFI", "APPLICATION-ATTACK-RFI": "RFI",
                         "APPLICATION-ATTACK-RCE": "RCE", "APPLICATION-ATTACK-PHP": "PHP",
                         "APPLICATION-ATTACK-NodeJS": "NODEJS", "APPLICATION-ATTACK-XSS": "XSS",
                         "APPLICATION-ATTACK-SQLI": "SQLI", "APPLICATION-ATTACK-SESSION-FIXATION": "FIX",
                         "APPLICATION-ATTACK-SESSION-JAVA": "JAVA"}
# What an exclusion may name (ManagedRuleExclusion.matchVariable, Microsoft.Network FrontDoor 2025-11-01
# webapplicationfirewall.json at 05887472, the API version pulumi-azure-native 3.29.0's frontdoor.Policy sends) and
# how its selector matches those names (selectorMatchOperator). JSON argument names need DRS 2.0 or later, which 2.1 is.
WAF_EXCLUSION_VARIABLES = ("RequestBodyJsonArgNames", "RequestBodyPostArgNames", "QueryStringArgNames",
                           "RequestHeaderNames", "RequestCookieNames")
WAF_EXCLUSION_OPERATORS = ("Equals", "StartsWith", "EndsWith", "Contains", "EqualsAny")
# What a DRS 2.x rule's override may set it to: it adds to the anomaly score (the rule set's action, Block, acts on a
# total of 5) or only logs; Azure refuses Block, Allow and Redirect there (terraform-provider-azurerm 34ee0d5f
# internal/services/cdn/cdn_frontdoor_firewall_policy_resource.go, "DRS 2.0 and above rules only use action type of
# 'AnomalyScoring' or 'Log'", from its issues #19088 and #19561)
WAF_RULE_ACTIONS = ("AnomalyScoring", "Log")
# Front Door Standard/Premium: "WAF exclusion per policy 100", and 256 characters for a POST parameter, header or
# cookie name (MicrosoftDocs/azure-docs includes/front-door-limits.md, 2023-06-19); the API gives the selector no
# length (webapplicationfirewall.json above)
MAX_WAF_EXCLUSIONS = 100
MAX_WAF_SELECTOR = 256
_RULE_ID = re.compile(r"[0-9]{6}|99[0-9]{6}")
_CASE_BLIND = ("RequestHeaderNames", "RequestCookieNames")  # "Header and cookie names are case insensitive"


def waf_rule_problem(group: Optional[str], rule_id: str) -> Optional[str]:
    """What a DRS 2.1 rule id must be, within its rule group when that is known (`group`); None when it fits."""
    where = ("its ruleName_s in the WAF log ends in it, as Microsoft_DefaultRuleSet-2.1-SQLI-942100 does; see "
             "waf-front-door-drs.md")
    if rule_id.startswith("949"):  # the log's 949110, "Inbound Anomaly Score Exceeded" (waf-front-door-drs.md)
        return (f"a rule that matched the request: {rule_id} is the anomaly score's total (Inbound Anomaly Score "
                "Exceeded), no rule of a group; tune the rules the same request's other log entries name "
                "(trackingReference_s)")
    if not _RULE_ID.fullmatch(rule_id):
        return (f"a DRS 2.1 rule id, 6 digits (942100) or 8 for Microsoft's threat-intelligence rules (99031001): "
                f"{where}")
    if group not in DRS_RULE_GROUPS:
        return None
    owner = next((g for g, start in DRS_RULE_GROUPS.items() if len(start) == 3 and rule_id.startswith(start)), None)
    if (DRS_RULE_GROUPS[group] == "99") != (len(rule_id) == 8) or (owner is not None and owner != group) or \
            (len(rule_id) == 6 and owner is None):
        mine = "an 8-digit rule id (99...)" if DRS_RULE_GROUPS[group] == "99" else \
            f"a rule id starting {DRS_RULE_GROUPS[group]}"
        theirs = f"; {rule_id} is a rule of {owner}" if owner else \
            ("; it is a rule of an MS-ThreatIntel-* group" if len(rule_id) == 8 else "")
        return f"{mine}, a rule of {group}{theirs} ({where})"
    return None


def _rule_group(r: Rules, key: str) -> Optional[str]:
    """A DRS 2.1 rule group by the API's name; the name Microsoft's rule table gives it is refused naming the API's."""
    r.declare(key, allowed=tuple(DRS_RULE_GROUPS))
    group = r.given(key)
    if group is None or group in DRS_RULE_GROUPS:
        return group
    short = DRS_TABLE_GROUP_NAMES.get(group) if isinstance(group, str) else None
    hint = (f" ({short!r} is the API's and the WAF log's name for what Microsoft's rule table calls {group})"
            if short else "")
    r.add(key, group, f"a Microsoft_DefaultRuleSet 2.1 rule group as the API and the WAF log's ruleName_s name it: "
                      f"{', '.join(DRS_RULE_GROUPS)}{hint}")
    return None


def _selector(ex: Rules, operator: Optional[str]) -> Optional[str]:
    """An exclusion's selector: a name (or part of one) for every operator but EqualsAny, which matches every name of
    its kind and whose selector Azure sets to '*' ("the selector value is automatically set to *",
    waf-front-door-exclusion.md): anything else there would come back as '*' on every refresh."""
    selector = ex.given("selector")
    if is_output(ex.args.get("selector")):  # known once it resolves: its shape is checked then
        return None
    if operator == "EqualsAny":
        if selector not in (None, "*"):
            ex.add("selector", selector, f"'*' or unset with operator EqualsAny (it matches every name of its "
                                         f"{ex.ref('match_variable')}; Azure sets the selector to '*')")
        return "*"
    if operator is None:
        return selector if isinstance(selector, str) else None
    if selector is None or selector == "":
        ex.add("selector", selector, f"the name (or part of one) the exclusion matches with operator {operator}, "
                                     f"1-{MAX_WAF_SELECTOR} characters: for a JSON body the field's name, nested "
                                     "names joined by '.' without array indices (messages.content for "
                                     "messages[i].content)")
        return None
    return ex.text("selector", lambda s: None if len(s) <= MAX_WAF_SELECTOR and s.isprintable() and s == s.strip()
                   else f"1-{MAX_WAF_SELECTOR} printable characters without surrounding spaces (Front Door's "
                        "limit for a parameter, header or cookie name)")


def _waf_tuning(r: Rules) -> None:
    """GlobalEndpoint's waf_exclusions and waf_rule_overrides: Microsoft_DefaultRuleSet 2.1's, so Premium only."""
    sku = r.get("sku")
    for key in ("waf_exclusions", "waf_rule_overrides"):
        value = r.given(key)
        if value and isinstance(value, (list, tuple)) and sku is not None and sku != "Premium_AzureFrontDoor":
            r.add(key, f"{len(value)} entries", f"none with {r.ref('sku')} {sku}: it runs no managed rule set to "
                                                "tune (only Premium_AzureFrontDoor runs Microsoft_DefaultRuleSet)")
    exclusions = r.items("waf_exclusions")
    if len(exclusions) > MAX_WAF_EXCLUSIONS:
        r.add("waf_exclusions", f"{len(exclusions)} exclusions", f"at most {MAX_WAF_EXCLUSIONS} (Front Door's "
                                                                 "exclusions per WAF policy)")
    seen: set[tuple[Any, ...]] = set()
    for ex, value in exclusions:
        if not isinstance(value, Mapping):
            continue
        variable = ex.choice("match_variable", WAF_EXCLUSION_VARIABLES)
        operator = ex.choice("operator", WAF_EXCLUSION_OPERATORS)
        selector = _selector(ex, operator)
        group = _rule_group(ex, "rule_group")
        rule = ex.given("rule_id")
        if rule is not None and ex.args.get("rule_group") is None:  # (an output is given: checked once resolved)
            ex.add("rule_id", rule, f"a rule id only with its rule group, {ex.ref('rule_group')} (the group the WAF "
                                    f"log's ruleName_s names before it)")
        elif isinstance(rule, str):
            ex.text("rule_id", lambda v: waf_rule_problem(group, v))
        elif rule is not None:
            ex.add("rule_id", rule, "a string of digits (quote it: '942100')")
        name = selector.lower() if isinstance(selector, str) and variable in _CASE_BLIND else selector
        same = (ex.given("rule_group"), rule, variable, operator, name)
        if None not in (variable, operator, name) and same in seen:
            ex.add("selector", selector, "an exclusion no other entry makes (the same variable, operator, selector "
                                         "and scope twice)")
        seen.add(same)
    overridden: set[tuple[Any, Any]] = set()
    for ov, value in r.items("waf_rule_overrides"):
        if not isinstance(value, Mapping):
            continue
        group = _rule_group(ov, "rule_group")
        rule = ov.given("rule_id")
        if isinstance(rule, str):
            rule = ov.text("rule_id", lambda v: waf_rule_problem(group, v))
        elif rule is not None:
            ov.add("rule_id", rule, "a string of digits (quote it: '942100')")
            rule = None
        action = ov.given("action")
        if action is not None and action not in WAF_RULE_ACTIONS:
            ov.add("action", action, "AnomalyScoring (the rule adds to the request's anomaly score, its default) or "
                                     "Log (it only logs): a DRS 2.x rule takes no other action; the rule set blocks "
                                     "on the score")
        ov.declare("action", allowed=WAF_RULE_ACTIONS)
        ov.flag("enabled")
        if ov.args.get("action") is None and ov.args.get("enabled") is None:  # an output counts as given
            ov.add("rule_id", ov.given("rule_id"), f"an override that sets something: {ov.ref('action')} "
                                                   f"(AnomalyScoring or Log), or {ov.ref('enabled')} (false turns "
                                                   "the rule off, true turns on one DRS 2.1 ships off)")
        if rule is not None and group is not None:
            if (group, rule) in overridden:
                ov.add("rule_id", rule, f"a rule no other entry overrides ({group} {rule} is overridden twice)")
            overridden.add((group, rule))


# ---- the profile's logs ----------------------------------------------------------------------------------------------
# Microsoft.Cdn/profiles' log categories, each into AzureDiagnostics (azure-monitor's supported-logs list for
# Microsoft.Cdn/profiles; MicrosoftDocs/azure-docs 0b8729ea articles/frontdoor/monitor-front-door-reference.md lists
# no other table); AzureCdnAccessLog is classic CDN's, not Front Door's
FRONT_DOOR_LOG_CATEGORIES = ("FrontDoorWebApplicationFirewallLog", "FrontDoorHealthProbeLog", "FrontDoorAccessLog")
# A workspace's ARM id (diagnosticsSettings_API.json 2021-05-01-preview `workspaceId`: "The full ARM resource ID of the
# Log Analytics workspace"); a workspace name is 4-63 letters, digits and hyphens, a letter or digit at each end (Azure
# resource name rules, Microsoft.OperationalInsights); compared without case, as ARM compares ids
WORKSPACE_ID = re.compile(r"/subscriptions/[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}/resourceGroups/[-\w._()]{1,90}"
                          r"/providers/Microsoft\.OperationalInsights/workspaces/[a-z0-9][a-z0-9-]{2,61}[a-z0-9]",
                          re.IGNORECASE)


def workspace_id_problem(value: str) -> Optional[str]:
    """What a Log Analytics workspace's ARM id must be (None when `value` is one)."""
    if WORKSPACE_ID.fullmatch(value):
        return None
    pasted = (" (a GUID alone is the workspace's Workspace ID, which the portal's overview shows and agents use, not "
              "its resource ID)" if GUID(value) is None else "")
    return ("a Log Analytics workspace's resource ID, /subscriptions/<subscription GUID>/resourceGroups/<group>/"
            "providers/Microsoft.OperationalInsights/workspaces/<name> (`az monitor log-analytics workspace show "
            f"--resource-group <group> --workspace-name <name> --query id`){pasted}")


def _logs(r: Rules) -> None:
    """Where the profile's logs go: the caller's workspace, or one the component makes in `location`; what is only
    read for one of them is refused with the other (or with neither), as it would be ignored."""
    if r.args.get("log_analytics_workspace_id") != "":  # "" is none, as the other components read a workspace id
        r.text("log_analytics_workspace_id", workspace_id_problem)
    r.text("location", azure_region)
    r.whole("log_retention_days", 30, 730)  # Log Analytics (PerGB2018) keeps data 30 to 730 days, as AzureMonitoring
    given = bool(r.args.get("log_analytics_workspace_id"))  # "" is none; an output counts as given
    made = not given and r.args.get("location") is not None
    if given and r.args.get("location") is not None:
        r.add("location", r.given("location"), f"unset with {r.ref('log_analytics_workspace_id')}: the component "
                                               "makes no workspace then (the location is only the one it makes)")
    # the default itself passes: a language SDK fills in the schema's default (the component provider's, 30)
    if not made and r.given("log_retention_days") not in (None, r.defaults.get("log_retention_days")):
        why = (f"with {r.ref('log_analytics_workspace_id')} (a workspace given keeps its owner's retention)" if given
               else f"without {r.ref('location')}")
        r.add("log_retention_days", r.given("log_retention_days"),
              f"unset {why}: it is the retention of the workspace the component makes in {r.ref('location')}")
    categories = r.given("log_categories")
    if categories is None:
        return
    if not given and not made:
        r.add("log_categories", categories, f"unset without {r.ref('log_analytics_workspace_id')} or "
                                            f"{r.ref('location')}: without a workspace nothing is logged")
    r.declare("log_categories", allowed=FRONT_DOOR_LOG_CATEGORIES)
    if not isinstance(categories, (list, tuple)) or not categories:
        r.add("log_categories", categories, f"a list of one or more of {', '.join(FRONT_DOOR_LOG_CATEGORIES)}")
        return
    seen: set[Any] = set()
    for i, category in enumerate(categories):
        if category not in FRONT_DOOR_LOG_CATEGORIES:
            r.add(f"log_categories[{i}]", category, f"{', '.join(FRONT_DOOR_LOG_CATEGORIES)} (Front Door's log "
                                                    "categories, as the diagnostic setting names them)")
        elif category in seen:
            r.add(f"log_categories[{i}]", category, "a category no other entry names")
        seen.add(category if isinstance(category, str) else None)


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
    home = r.given("ui_home")
    if home is not None and isinstance(origins, (list, tuple)) and all(isinstance(o, Mapping) for o in origins):
        names = [o.get("name") for o in origins]
        if home not in names and not any(is_output(n) for n in names):  # an output name is refused as such
            r.add("ui_home", home, f"the name of one of {r.ref('origins')} (the region every browser reaches for the "
                                   f"UI): {', '.join(map(repr, names)) or 'none given'}")
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
    _waf_tuning(r)
    _logs(r)
    return r.problems


def fleet_updates(args: Mapping[str, Any]) -> list[Problem]:
    r = Rules(args, "FleetUpdates")
    r.text("location", azure_region)
    channel = r.choice("channel", FLEET_CHANNELS)
    selection = r.choice("node_image_selection", NODE_IMAGE_SELECTIONS)
    if channel == "NodeImage" and selection == "Latest":
        # the NodeImage channel takes no selection: "The Node image channel always uses consistent image"
        # (MicrosoftDocs/azure-aks-docs 02d016f0 articles/kubernetes-fleet/update-automation.md); FleetUpdates sends
        # none with it, so Latest would be dropped without a word
        r.add("node_image_selection", selection, f"Consistent or unset with {r.ref('channel')} NodeImage (Fleet's "
                                                 "NodeImage channel always upgrades to one consistent image); "
                                                 "Latest only with Stable or Rapid")
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
