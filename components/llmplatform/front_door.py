"""GlobalEndpoint: one Azure Front Door endpoint in front of every regional platform, with its WAF.

An origin group per service (the UI, the OpenAI-compatible model API, llm-d's API where a region has it), every
region an origin of each; health probes on paths each service answers without a key (`PROBE_PATHS`); latency-based
routing that fails over when a region's probes fail for the APIs, and for the UI one home region that every browser
reaches while its probes pass, the others standing by in order (`ui_priorities`: each region's Open-WebUI has its own
users, chats and session key), with session affinity; the longest origin timeout Front Door allows (streamed
answers); HTTPS only at the edge, and by default from the edge to each region too (each
origin's certificate checked against its host name). The WAF policy carries the managed rule sets, the operator's
exclusions and rule overrides of the default rule set (what its log shows blocking legitimate prompts) and a
per-client rate limit. With `api_keys`, one set of client API keys valid in every region: generated here and written
into each region's Key Vault, where that region's API gate reads it. The profile's WAF, health probe and access logs
go to a Log Analytics workspace: the caller's (`log_analytics_workspace_id`), or one made here in `location`.
"""
import re
from typing import Mapping, Optional, TypedDict, cast

import pulumi
import pulumi_random as random
from pulumi_azure_native import cdn, frontdoor, operationalinsights
from typing_extensions import NotRequired

from . import PACKAGE
from .checks import called_as_documented, check_shape
from .defaults import defaults_for
from .diagnostics import categories_to_log_analytics
from .gateway import API_LISTENER, PLAIN_PORTS, TLS_PORTS, UI_LISTENER
from .handles import VaultHandle
from .inference_specs import API_KEY_LENGTH, KEY_MAP_CONTENT_TYPE, MODEL_HEALTH_PATH, api_key_map_line
from .key_vault import vault_secret
from .naming import indexed_name

opt = defaults_for("GlobalEndpoint")

# service -> the path its origin group probes: answered without a key or a login. The API's and llm-d's are the
# gate's MODEL_HEALTH_PATH, which asks the model server behind it: the gate's own /healthz answers 200 while every
# model replica is down, and Front Door fails a region over only on a probe that is not a 200. Behind the llm-d gate
# the picker sends that bodiless GET to a random Ready vLLM pod and answers 500 itself when none is Ready
# (llm-d-router v0.10.0, tests/upstream/recipes/llm-d-router-request-paths.tsv). The UI's is Open-WebUI's /health. A
# regional gateway that checks X-Azure-FDID lets these paths through (GatewayAccess front_door_probe_paths).
PROBE_PATHS = {"ui": "/health", "api": MODEL_HEALTH_PATH, "llmd": MODEL_HEALTH_PATH}
# The key set's secrets in every region's Key Vault: the nginx key map the API gates read, and the newest key.
API_KEY_MAP_SECRET, API_KEY_SECRET = "edge-api-key-map", "edge-api-key"
SERVICES = {  # service -> (path patterns at the edge, session affinity)
    "ui": (["/*"], True),
    "api": (["/v1/*"], False),
    "llmd": (["/llmd/*"], False),
}


class RegionalOrigin(TypedDict):
    """One regional platform as Front Door reaches it (from the regional stack's outputs)."""

    name: str
    """Origin name: the region's short name (letters, digits, hyphens)."""
    host: pulumi.Input[str]
    """Public address of the region's external gateway: with origin_protocol Https (the default) the DNS name its
    certificate is for (Front Door resolves it, sends it as SNI and Host, and checks the certificate against it);
    with Http also an IP address."""
    ui_port: NotRequired[Optional[int]]
    """Port of the web UI listener (default 443 with origin_protocol Https, 80 with Http)."""
    api_port: NotRequired[Optional[int]]
    """Port of the model API listener (default 8443 with origin_protocol Https, 8080 with Http)."""
    llmd_port: NotRequired[Optional[pulumi.Input[int]]]
    """Port of the llm-d API listener (its TLS listener with origin_protocol Https); absent: this region has no
    llm-d."""
    priority: NotRequired[Optional[int]]
    """1 (serve) or 2 (standby, used only when every priority-1 origin is unhealthy); default 1. The APIs' origin
    groups take it as given; the UI's serves from `ui_home` alone, by default the first origin of the lowest priority
    (`ui_priorities`)."""
    key_vault_name: NotRequired[Optional[pulumi.Input[str]]]
    """The region's Key Vault, where the edge writes its API key set (needed with api_keys)."""
    key_vault_resource_group: NotRequired[Optional[pulumi.Input[str]]]
    """Resource group of that Key Vault (needed with api_keys)."""


class WafExclusion(TypedDict):
    """Request fields Microsoft_DefaultRuleSet 2.1 does not inspect (their names still are): for every rule of the
    set, of one rule group, or of one rule. For the whole WAF policy, every route alike (the UI's Open-WebUI API too).
    Read the field and the rule from the WAF log (docs/components/global-endpoint-and-fleet.md)."""

    match_variable: str
    """What the selector names: RequestBodyJsonArgNames (a JSON body's field: nested names joined by '.', without
    array indices, so `messages.content` for `messages[i].content`), RequestBodyPostArgNames, QueryStringArgNames,
    RequestHeaderNames or RequestCookieNames."""
    operator: str
    """How the selector matches those names: Equals, StartsWith, EndsWith, Contains, or EqualsAny (every name of that
    kind; the selector is then `*` or unset). Header and cookie names match without case, the others with it."""
    selector: NotRequired[Optional[str]]
    """The name (or part of it) to exclude, at most 256 characters; unset only with EqualsAny."""
    rule_group: NotRequired[Optional[str]]
    """Only for this DRS 2.1 rule group, as the API and the WAF log's ruleName_s name it (SQLI, XSS, RCE, LFI, ...,
    MS-ThreatIntel-SQLI): every rule of it, each left on or off as before; unset: every rule of the set."""
    rule_id: NotRequired[Optional[str]]
    """Only for this rule of `rule_group` (its id, e.g. `942100`); the rule is sent enabled."""


class WafRuleOverride(TypedDict):
    """One Microsoft_DefaultRuleSet 2.1 rule set otherwise than the rule set ships it."""

    rule_group: str
    """Its rule group, as the API and the WAF log's ruleName_s name it (`Microsoft_DefaultRuleSet-2.1-SQLI-942100`:
    SQLI)."""
    rule_id: str
    """Its id (`942100`)."""
    action: NotRequired[Optional[str]]
    """AnomalyScoring (it adds to the request's anomaly score, on which the rule set blocks; its default) or Log (it
    only logs). A DRS 2.x rule takes no other action."""
    enabled: NotRequired[Optional[bool]]
    """false turns the rule off; true turns on one the rule set ships off (default true)."""


class GlobalEndpointArgs(TypedDict):
    """Inputs of GlobalEndpoint."""

    resource_group_name: pulumi.Input[str]
    """Resource group of the profile and its WAF policy."""
    name_prefix: str
    """Prefix of the profile, endpoint and policy names."""
    origins: list[RegionalOrigin]
    """Every regional platform, in order of preference: for equal latency (the APIs), and the UI's standby order."""
    ui_home: NotRequired[Optional[str]]
    """The origin (one of `origins`' names) every browser reaches for the web UI while its probes pass, whatever its
    own priority: each region's Open-WebUI has its own users, chats and session key, so the UI has one home region.
    The others stand by in the order of preference (their own priority, then their place in `origins`). The APIs'
    origin groups do not read it. Default: the first origin of the lowest priority."""
    origin_protocol: NotRequired[Optional[str]]
    """How Front Door reaches every origin: Https (forwarding and health probes over TLS, each origin's certificate
    checked against its host, which must be a DNS name with a publicly trusted certificate) or Http (plain text
    between the edge and the regions: prompts, answers and API keys unencrypted on that path). Default Https."""
    sku: NotRequired[Optional[str]]
    """Premium_AzureFrontDoor (managed WAF rule sets, Private Link origins) or Standard_AzureFrontDoor (default
    Premium_AzureFrontDoor: the managed rule sets need it)."""
    waf_mode: NotRequired[Optional[str]]
    """Prevention (block) or Detection (log only) (default Prevention)."""
    waf_exclusions: NotRequired[Optional[list[WafExclusion]]]
    """Request fields Microsoft_DefaultRuleSet does not inspect, for the whole set, a rule group or a rule: what the
    WAF log shows blocking legitimate requests (a prompt quoting SQL or shell). At most 100. Premium only. Default:
    none."""
    waf_rule_overrides: NotRequired[Optional[list[WafRuleOverride]]]
    """Microsoft_DefaultRuleSet rules turned off, on, or to log only. Premium only. Default: none."""
    rate_limit_per_minute: NotRequired[Optional[int]]
    """Requests one client address may send per minute before the edge answers 429 (default 600). The window is fixed
    and Front Door's servers count apart, so below about 200 some requests over the limit get through (Microsoft's
    WAF rate-limit page, waf-front-door-rate-limit.md)."""
    origin_timeout_seconds: NotRequired[Optional[int]]
    """How long Front Door waits for an origin's response, 16-240 (default 240: streamed answers)."""
    probe_interval_seconds: NotRequired[Optional[int]]
    """Health probe interval per edge site, 5-255 s (default 30)."""
    api_keys: NotRequired[Optional[list[str]]]
    """Names of the clients' API keys, valid in every region: each a generated key; their nginx key map is written
    into every origin's Key Vault as `edge-api-key-map` (what the regional API gates read) and the last (newest) key
    as `edge-api-key`. Rotate by adding a name, then removing the old one. Default: none (each region keeps its own
    keys)."""
    log_analytics_workspace_id: NotRequired[Optional[pulumi.Input[str]]]
    """The Log Analytics workspace the profile's logs go to (`log_categories`), by its ARM resource ID
    (/subscriptions/<id>/resourceGroups/<group>/providers/Microsoft.OperationalInsights/workspaces/<name>): a
    central one. Unset: the component makes one in `location`."""
    location: NotRequired[Optional[pulumi.Input[str]]]
    """Without log_analytics_workspace_id: the Azure region of the workspace the component makes for the logs,
    `log-<name_prefix>` (PerGB2018, in resource_group_name; Front Door itself is global). Neither given: the profile
    logs nowhere, so no WAF log shows what the WAF blocked."""
    log_retention_days: NotRequired[Optional[int]]
    """Retention of the workspace the component makes, 30-730 days (default 30); only with `location`."""
    log_categories: NotRequired[Optional[list[str]]]
    """Front Door's log categories sent to the workspace: FrontDoorWebApplicationFirewallLog (each request a WAF rule
    matched), FrontDoorHealthProbeLog (each failed probe, from every edge site) and FrontDoorAccessLog (every request:
    client, route, origin, status, latency; the bulk of the volume). Each once, at least one; default all three. Into
    the AzureDiagnostics table (Front Door has no resource-specific tables)."""
    tags: NotRequired[Optional[Mapping[str, pulumi.Input[str]]]]
    """Azure tags."""


def key_map(keys: list[str]) -> str:
    """The nginx map the regional API gates include: one line per valid key (api_router reads it from Key Vault)."""
    return "".join(api_key_map_line(k) for k in keys)


def services_of(origins: list[RegionalOrigin]) -> list[str]:
    """The services the edge routes: the UI and the API always, llm-d when a region has it."""
    return [s for s in SERVICES if s != "llmd" or any("llmd_port" in o for o in origins)]


def origin_port(origin: RegionalOrigin, service: str, https: bool = True) -> Optional[pulumi.Input[int]]:
    """The port of the regional gateway's listener for a service: the origin's own, else GatewayAccess's TLS or plain
    listener of that name (its services and listeners share their names)."""
    defaults = TLS_PORTS if https else PLAIN_PORTS
    return {"ui": origin.get("ui_port", defaults[UI_LISTENER]),
            "api": origin.get("api_port", defaults[API_LISTENER]), "llmd": origin.get("llmd_port")}[service]


def ui_priorities(origins: list[RegionalOrigin], home: Optional[str] = None) -> list[int]:
    """Each origin's priority in the UI's origin group: 1 for the home region (the origin named `home`, else the first
    of the lowest priority), then the others' rank in the order of preference (the origin's own priority, then its
    place in `origins`), at most 5 (the API's range). Every region's Open-WebUI has its
    own PostgreSQL (users, chats) and its own generated session key (WEBUI_SECRET_KEY, which signs the browser's
    token), so the UI cannot be spread across regions as the APIs are: with latency routing every region within the
    50 ms band got browsers in turn (Microsoft's decision flow takes the top priority, then the latency band, then
    round-robin by weight: MicrosoftDocs/azure-docs 0a0e05ea articles/frontdoor/routing-methods.md), and the ASLBSA
    affinity cookie lasts one browser session, so a returning user reached either region, where the token in the
    browser (localStorage) and often the account itself did not exist. Now a standby serves the UI only while every
    region before it fails its probes: a failover that asks for a new sign-in, in that region's own accounts."""
    order = sorted(range(len(origins)), key=lambda i: (origins[i]["name"] != home, origins[i].get("priority") or 1, i))
    rank = {index: min(place + 1, 5) for place, index in enumerate(order)}
    return [rank[i] for i in range(len(origins))]


def origin_protocols(https: bool) -> tuple[cdn.ForwardingProtocol, cdn.ProbeProtocol]:
    """The routes' forwarding protocol and the origin groups' probe protocol: one for every region (a route's
    forwarding protocol covers every origin of its group)."""
    if https:
        return cdn.ForwardingProtocol.HTTPS_ONLY, cdn.ProbeProtocol.HTTPS
    return cdn.ForwardingProtocol.HTTP_ONLY, cdn.ProbeProtocol.HTTP




def waf_exclusion(exclusion: WafExclusion) -> frontdoor.ManagedRuleExclusionArgs:
    """One exclusion as the API takes it; EqualsAny's selector is '*', which Azure sets it to anyway."""
    operator = frontdoor.ManagedRuleExclusionSelectorMatchOperator(exclusion["operator"])
    return frontdoor.ManagedRuleExclusionArgs(
        match_variable=frontdoor.ManagedRuleExclusionMatchVariable(exclusion["match_variable"]),
        selector_match_operator=operator,
        selector="*" if operator == frontdoor.ManagedRuleExclusionSelectorMatchOperator.EQUALS_ANY
        else exclusion.get("selector") or "")


def default_rule_set(exclusions: list[WafExclusion], overrides: list[WafRuleOverride]) -> frontdoor.ManagedRuleSetArgs:
    """Microsoft_DefaultRuleSet 2.1 blocking on the anomaly score, with the exclusions at the level each names (set,
    group, rule) and the overrides, one group override per group and one rule override per rule, in the order the
    entries first name them. A rule override always says whether the rule is on: the API defaults an unset
    enabledState to Disabled (webapplicationfirewall.json 2025-11-01, ManagedRuleOverride), so a rule given only an
    exclusion or an action is sent Enabled.

    A group-level exclusion is a group override with `exclusions` and no `rules`, and that leaves the group's rules as
    they are. It is what Microsoft's own CLI sends for `az network front-door waf-policy managed-rules exclusion add
    --rule-group-id SQLI` without `--rule-id` (Azure/azure-cli-extensions src/front-door/azext_front_door
    custom_waf.py 0fae0836, AddExclusionAzureManagedRuleSet: the override gets the exclusion, `rules` stays empty);
    its recorded run against the service (tests/latest/recordings/test_waf_exclusions.yaml 17b5ff25, api-version
    2020-04-01) sends `{"ruleGroupName": "SQLI", "exclusions": [...]}` and gets it back with `"rules": []`, nothing
    added. Learn's Front Door exclusion page: a rule-group exclusion applies "to all the rules of a particular
    category". A group override left without rules kept the group's rules enabled (terraform-provider-azurerm#21415).
    The spec's "List of rules that will be disabled. If none specified, all rules in the group will be disabled"
    (ManagedRuleGroupOverride.rules, prose from before group overrides had exclusions) does not describe it. So a
    group override here always carries exclusions or rules, and `rules` lists only the rules an entry names."""
    on_set: list[frontdoor.ManagedRuleExclusionArgs] = []
    on_group: dict[str, list[frontdoor.ManagedRuleExclusionArgs]] = {}  # group -> its exclusions, groups in order
    on_rule: dict[str, dict[str, list[frontdoor.ManagedRuleExclusionArgs]]] = {}  # group -> rule -> its exclusions
    overridden: dict[tuple[str, str], WafRuleOverride] = {}
    for exclusion in exclusions:
        group, rule = exclusion.get("rule_group"), exclusion.get("rule_id")
        if not group:
            on_set.append(waf_exclusion(exclusion))
            continue
        in_group = on_group.setdefault(group, [])
        rules = on_rule.setdefault(group, {})
        (rules.setdefault(rule, []) if rule else in_group).append(waf_exclusion(exclusion))
    for override in overrides:
        on_group.setdefault(override["rule_group"], [])
        on_rule.setdefault(override["rule_group"], {}).setdefault(override["rule_id"], [])
        overridden[(override["rule_group"], override["rule_id"])] = override
    group_overrides = []
    for group, group_exclusions in on_group.items():
        rule_overrides = []
        for rule_id, rule_exclusions in on_rule[group].items():
            chosen = overridden.get((group, rule_id))
            action = chosen.get("action") if chosen else None
            off = chosen is not None and chosen.get("enabled") is False
            rule_overrides.append(frontdoor.ManagedRuleOverrideArgs(
                rule_id=rule_id, action=frontdoor.ActionType(action) if action else None,
                enabled_state=frontdoor.ManagedRuleEnabledState.DISABLED if off
                else frontdoor.ManagedRuleEnabledState.ENABLED,
                exclusions=rule_exclusions or None))
        group_overrides.append(frontdoor.ManagedRuleGroupOverrideArgs(
            rule_group_name=group, exclusions=group_exclusions or None, rules=rule_overrides or None))
    return frontdoor.ManagedRuleSetArgs(rule_set_type="Microsoft_DefaultRuleSet", rule_set_version="2.1",
                                        rule_set_action=frontdoor.ManagedRuleSetActionType.BLOCK,
                                        exclusions=on_set or None, rule_group_overrides=group_overrides or None)


def rate_limit_rule(per_minute: int) -> frontdoor.CustomRuleArgs:
    """Per client (socket address) across the whole endpoint: every request counts. The condition is Microsoft's own
    match-all for a rate limit, a Host header of 0 bytes or more ("Because all valid HTTP requests for Azure Front
    Door contain a Host header, this match condition has the effect of matching all HTTP requests", MicrosoftDocs/
    azure-docs 03e5750a articles/web-application-firewall/afds/waf-front-door-rate-limit.md). Not RequestUri
    BeginsWith '/': the WAF's RequestUri is the full URI, scheme, host and port first ("Full URI of the request",
    `https://<host>:443/?q=...` in the same commit's waf-front-door-monitor.md; a rule matching a path there "doesn't
    work unless i fully qualify it", Microsoft Q&A 2264564), so that condition matched no request and the limit
    never applied."""
    return frontdoor.CustomRuleArgs(
        name="PerClientRateLimit", priority=100, enabled_state=frontdoor.CustomRuleEnabledState.ENABLED,
        rule_type=frontdoor.RuleType.RATE_LIMIT_RULE, rate_limit_duration_in_minutes=1,
        rate_limit_threshold=per_minute, action=frontdoor.ActionType.BLOCK,
        group_by=[frontdoor.GroupByVariableArgs(variable_name=frontdoor.VariableName.SOCKET_ADDR)],
        match_conditions=[frontdoor.MatchConditionArgs(
            match_variable=frontdoor.MatchVariable.REQUEST_HEADER, selector="Host",
            operator=frontdoor.Operator.GREATER_THAN_OR_EQUAL, match_value=["0"])])


@called_as_documented
class GlobalEndpoint(pulumi.ComponentResource):
    """Azure Front Door (one endpoint, an origin group per service, every region an origin) and its WAF. `protect`
    in its resource options protects the profile (its Front Door ID is what each region's gateway admits), the
    endpoint (its host name is the one clients call) and the Log Analytics workspace made here (the edge's logs so
    far) alone: origins, routes, the WAF policy, the diagnostic setting, the API keys and the secrets they write stay
    replaceable, so a region leaves and a key name is dropped without lifting it."""

    endpoint_host: pulumi.Output[str]
    """Host name of the global endpoint (<name>-<hash>.z01.azurefd.net)."""
    ui_url: pulumi.Output[str]
    """The web UI through the edge."""
    api_url: pulumi.Output[str]
    """Base URL of the OpenAI-compatible model API through the edge (its paths start with /v1; Ollama's native
    /api/* paths belong to the UI at the edge)."""
    llmd_url: pulumi.Output[Optional[str]]
    """llm-d's API through the edge (/llmd), when a region has it."""
    front_door_id: pulumi.Output[str]
    """The profile's Front Door ID, the X-Azure-FDID header value regional gateways check."""
    origin_groups: pulumi.Output[list[str]]
    """Origin group names, one per service."""
    api_key: pulumi.Output[Optional[str]]
    """The newest client API key, valid in every region; None without api_keys. Secret."""
    api_key_secret: pulumi.Output[Optional[str]]
    """Key Vault secret name of the newest key in every region's vault; None without api_keys."""
    api_key_map_secret: pulumi.Output[Optional[str]]
    """Key Vault secret name of the key map the regional API gates read; None without api_keys."""
    log_analytics_workspace_id: pulumi.Output[Optional[str]]
    """The workspace the profile's logs go to (the one given, or the one made here); None when they go nowhere."""

    def __init__(self, name: str, args: GlobalEndpointArgs, opts: Optional[pulumi.ResourceOptions] = None):
        args = check_shape("GlobalEndpoint", name, args, GlobalEndpointArgs)
        origins = list(args["origins"])
        super().__init__(f"{PACKAGE}:index:GlobalEndpoint", name, None, opts)
        stores = pulumi.ResourceOptions(parent=self)  # the component's protect (the SDK's inheritance)
        child = pulumi.ResourceOptions(parent=self, protect=False)
        rg, prefix, tags = args["resource_group_name"], args["name_prefix"], args.get("tags", {})
        sku = opt(args, "sku")
        profile = cdn.Profile(
            f"{name}-profile", profile_name=f"afd-{prefix}", resource_group_name=rg, location="Global",
            sku=cdn.SkuArgs(name=sku), origin_response_timeout_seconds=opt(args, "origin_timeout_seconds"),
            tags=tags, opts=stores)
        endpoint = cdn.AFDEndpoint(
            f"{name}-endpoint", endpoint_name=f"{prefix}", profile_name=profile.name, resource_group_name=rg,
            location="Global", enabled_state=cdn.EnabledState.ENABLED, tags=tags, opts=stores)
        services = services_of(origins)
        https = opt(args, "origin_protocol") == "Https"
        forwarding, probing = origin_protocols(https)
        names = [origin["name"] for origin in origins]
        ui_ranks = ui_priorities(origins, args.get("ui_home"))
        groups: dict[str, cdn.AFDOriginGroup] = {}
        routes: list[cdn.Route] = []
        for service in services:
            patterns, affinity = SERVICES[service]
            group = cdn.AFDOriginGroup(
                f"{name}-{service}", origin_group_name=service, profile_name=profile.name, resource_group_name=rg,
                health_probe_settings=cdn.HealthProbeParametersArgs(
                    probe_path=PROBE_PATHS[service], probe_protocol=probing,
                    probe_request_type=cdn.HealthProbeRequestType.GET,
                    probe_interval_in_seconds=opt(args, "probe_interval_seconds")),
                # latency-based: among healthy origins, the fastest and those within 50 ms of it
                load_balancing_settings=cdn.LoadBalancingSettingsParametersArgs(
                    sample_size=4, successful_samples_required=3, additional_latency_in_milliseconds=50),
                # no traffic_restoration_time_to_healed_or_new_endpoints_in_minutes: "currently not supported"
                # (afdx.json 2025-06-01): a region takes traffic again once its probes pass
                session_affinity_state=cdn.EnabledState.ENABLED if affinity else cdn.EnabledState.DISABLED, opts=child)
            groups[service] = group
            members = []
            for i, origin in enumerate(origins):
                port = origin_port(origin, service, https)
                if port is None:
                    continue
                members.append(cdn.AFDOrigin(
                    f"{name}-{service}-{origin['name']}", origin_name=origin["name"],
                    origin_group_name=group.name,
                    profile_name=profile.name, resource_group_name=rg, host_name=origin["host"],
                    # the host is also the SNI and the name the certificate is checked against (with Https)
                    origin_host_header=origin["host"], http_port=80 if https else port,
                    https_port=port if https else 443,
                    priority=ui_ranks[i] if service == "ui" else origin.get("priority", 1), weight=1000,
                    enabled_state=cdn.EnabledState.ENABLED,
                    enforce_certificate_name_check=True,
                    opts=pulumi.ResourceOptions(parent=self, protect=False,
                                                aliases=indexed_name(f"{name}-{service}", i, names))))
            routes.append(cdn.Route(
                f"{name}-{service}-route", route_name=service, endpoint_name=endpoint.name, profile_name=profile.name,
                resource_group_name=rg, origin_group=cdn.ResourceReferenceArgs(id=group.id),
                patterns_to_match=patterns, supported_protocols=[cdn.AFDEndpointProtocols.HTTP,
                                                                 cdn.AFDEndpointProtocols.HTTPS],
                https_redirect=cdn.HttpsRedirect.ENABLED, forwarding_protocol=forwarding,
                link_to_default_domain=cdn.LinkToDefaultDomain.ENABLED, enabled_state=cdn.EnabledState.ENABLED,
                rule_sets=[cdn.ResourceReferenceArgs(id=self._strip_prefix(name, profile, rg, child).id)]
                if service == "llmd" else None,
                opts=pulumi.ResourceOptions(parent=self, protect=False, depends_on=members)))
        waf = frontdoor.Policy(
            f"{name}-waf", policy_name=re.sub(r"[^A-Za-z0-9]", "", f"waf{prefix}")[:128], resource_group_name=rg,
            location="Global", sku=frontdoor.SkuArgs(name=sku),
            # No custom block response: Front Door then answers a rate-limit block 429 and any other block 403 with
            # its tracking reference; a custom status or body is the policy's for every block, so 429 made a prompt
            # a managed rule blocks look like the rate limit, and clients retried it (MicrosoftDocs/azure-docs
            # 16930cd4 waf-front-door-configure-custom-response-code.md, 04d64497 waf-front-door-policy-settings.md)
            policy_settings=frontdoor.PolicySettingsArgs(
                enabled_state=frontdoor.PolicyEnabledState.ENABLED, mode=opt(args, "waf_mode"),
                request_body_check=frontdoor.PolicyRequestBodyCheck.ENABLED),
            custom_rules=frontdoor.CustomRuleListArgs(rules=[rate_limit_rule(opt(args, "rate_limit_per_minute"))]),
            managed_rules=frontdoor.ManagedRuleSetListArgs(managed_rule_sets=[
                default_rule_set(list(args.get("waf_exclusions") or []), list(args.get("waf_rule_overrides") or [])),
                frontdoor.ManagedRuleSetArgs(rule_set_type="Microsoft_BotManagerRuleSet", rule_set_version="1.1"),
            ]) if sku.startswith("Premium") else None,
            # Azure keeps a WAF policy's tier ('sku' is read-only once set; terraform's sku_name is ForceNew), and
            # pulumi-azure-native would PUT it in place: replaced instead, deleted first (its name is fixed)
            tags=tags, opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(
                replace_on_changes=["sku"], delete_before_replace=True)))
        cdn.SecurityPolicy(
            f"{name}-waf-association", security_policy_name="waf", profile_name=profile.name,
            resource_group_name=rg,
            parameters=cdn.SecurityPolicyWebApplicationFirewallParametersArgs(
                type="WebApplicationFirewall", waf_policy=cdn.ResourceReferenceArgs(id=waf.id),
                associations=[cdn.SecurityPolicyWebApplicationFirewallAssociationArgs(
                    domains=[cdn.ActivatedResourceReferenceArgs(id=endpoint.id)], patterns_to_match=["/*"])]),
            opts=pulumi.ResourceOptions(parent=self, protect=False, depends_on=routes))
        workspace = self._logs(name, args, profile, stores)

        self.endpoint_host = endpoint.host_name
        self.ui_url = endpoint.host_name.apply(lambda h: f"https://{h}")
        self.api_url = endpoint.host_name.apply(lambda h: f"https://{h}")
        self.llmd_url = endpoint.host_name.apply(lambda h: f"https://{h}/llmd" if "llmd" in groups else None)
        self.front_door_id = profile.front_door_id
        self.origin_groups = pulumi.Output.from_input(list(groups))
        keys = args.get("api_keys")
        self.api_key = self._key_set(name, keys, origins) if keys else pulumi.Output.from_input(None)
        self.api_key_secret = pulumi.Output.from_input(API_KEY_SECRET if keys else None)
        self.api_key_map_secret = pulumi.Output.from_input(API_KEY_MAP_SECRET if keys else None)
        self.log_analytics_workspace_id = pulumi.Output.from_input(workspace)
        self.register_outputs({"endpoint_host": self.endpoint_host, "ui_url": self.ui_url, "api_url": self.api_url,
                               "llmd_url": self.llmd_url, "front_door_id": self.front_door_id,
                               "origin_groups": self.origin_groups, "api_key": self.api_key,
                               "api_key_secret": self.api_key_secret, "api_key_map_secret": self.api_key_map_secret,
                               "log_analytics_workspace_id": self.log_analytics_workspace_id})

    def _logs(self, name: str, args: GlobalEndpointArgs, profile: cdn.Profile,
              stores: pulumi.ResourceOptions) -> Optional[pulumi.Input[str]]:
        """The profile's logs to the caller's workspace, or to one made here in `location` (PerGB2018, as
        AzureMonitoring's); the workspace's id, or None when neither is given. Logs only, no metrics: Front Door's
        metrics stay in Azure Monitor's metrics store at no charge."""
        workspace: Optional[pulumi.Input[str]] = args.get("log_analytics_workspace_id")  # "" is none, as elsewhere
        if not workspace and args.get("location"):
            workspace = operationalinsights.Workspace(
                f"{name}-logs", workspace_name=f"log-{args['name_prefix']}",
                resource_group_name=args["resource_group_name"], location=args["location"],
                sku=operationalinsights.WorkspaceSkuArgs(name="PerGB2018"),
                retention_in_days=opt(args, "log_retention_days"), tags=args.get("tags", {}), opts=stores).id
        if not workspace:
            return None
        categories_to_log_analytics(f"{name}-diagnostics", profile.id, workspace, opt(args, "log_categories"), self,
                                    protect=False)
        return workspace

    def _key_set(self, name: str, keys: list[str], origins: list[RegionalOrigin]) -> pulumi.Output[str]:
        """One key per name; every region's vault gets the map of all of them and the newest one. A region's gate
        loads the map again by itself once its copy in the region's vault changes (api_router's key-map reloader)."""
        values = [random.RandomPassword(f"{name}-api-key-{key}", length=API_KEY_LENGTH, special=False,
                                        opts=pulumi.ResourceOptions(parent=self, protect=False)).result
                  for key in keys]
        mapped = pulumi.Output.all(*values).apply(key_map)
        names = [origin["name"] for origin in origins]
        for i, origin in enumerate(origins):
            # vault_secret reads only a vault's name and resource group: all a region's origin gives
            vault = cast(VaultHandle, {"vault_name": origin["key_vault_name"],
                                       "resource_group_name": origin["key_vault_resource_group"]})
            region = origin["name"]
            vault_secret(f"{name}-{region}-api-key-map", vault, API_KEY_MAP_SECRET, mapped, KEY_MAP_CONTENT_TYPE, self,
                         aliases=indexed_name(name, i, names, "-api-key-map"), protect=False)
            vault_secret(f"{name}-{region}-api-key", vault, API_KEY_SECRET, values[-1], "text/plain", self,
                         aliases=indexed_name(name, i, names, "-api-key"), protect=False)
        return pulumi.Output.secret(values[-1])

    def _strip_prefix(self, name: str, profile: cdn.Profile, rg: pulumi.Input[str],
                      child: pulumi.ResourceOptions) -> cdn.RuleSet:
        """llm-d's API is served at / by its regional listener: the edge's /llmd prefix is rewritten away."""
        rule_set = cdn.RuleSet(f"{name}-llmd-rules", rule_set_name="llmdrewrite", profile_name=profile.name,
                               resource_group_name=rg, opts=child)
        cdn.Rule(f"{name}-llmd-strip-prefix", rule_name="stripprefix", rule_set_name=rule_set.name,
                 profile_name=profile.name, resource_group_name=rg, order=1, conditions=[],
                 actions=[cdn.UrlRewriteActionArgs(name="UrlRewrite", parameters=cdn.UrlRewriteActionParametersArgs(
                     type_name="DeliveryRuleUrlRewriteActionParameters", source_pattern="/llmd/",
                     destination="/", preserve_unmatched_path=True))],
                 opts=pulumi.ResourceOptions(parent=self, protect=False))
        return rule_set
