"""GlobalEndpoint: one Azure Front Door endpoint in front of every regional platform, with its WAF.

An origin group per service (the UI, the OpenAI-compatible model API, llm-d's API where a region has it), every
region an origin of each; health probes on the API gate's unauthenticated `/healthz`; latency-based routing that
fails over when a region's probes fail; session affinity for the UI; the longest origin timeout Front Door allows
(streamed answers); HTTPS only at the edge. The WAF policy carries the managed rule sets and a per-client rate limit.
"""
import re
from typing import Optional, TypedDict

import pulumi
from pulumi_azure_native import cdn, frontdoor
from typing_extensions import NotRequired

from . import PACKAGE
from .checks import check_shape
from .defaults import defaults_for
from .handles import known

opt = defaults_for("GlobalEndpoint")

HEALTH_PATH = "/healthz"  # the API gate answers it without a key (api_router)
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
    """Public address (IP or host name) of the region's external gateway."""
    ui_port: NotRequired[int]
    """Port of the web UI listener (default 80)."""
    api_port: NotRequired[int]
    """Port of the model API listener (default 8080)."""
    llmd_port: NotRequired[int]
    """Port of the llm-d API listener; absent: this region has no llm-d."""
    priority: NotRequired[int]
    """1 (serve) or 2 (standby, used only when every priority-1 origin is unhealthy); default 1."""


class GlobalEndpointArgs(TypedDict):
    """Inputs of GlobalEndpoint."""

    resource_group_name: pulumi.Input[str]
    """Resource group of the profile and its WAF policy."""
    name_prefix: str
    """Prefix of the profile, endpoint and policy names."""
    origins: list[RegionalOrigin]
    """Every regional platform, in order of preference for equal latency."""
    sku: NotRequired[str]
    """Premium_AzureFrontDoor (managed WAF rule sets, Private Link origins) or Standard_AzureFrontDoor (default
    Premium: the managed rule sets need it)."""
    waf_mode: NotRequired[str]
    """Prevention (block) or Detection (log only) (default Prevention)."""
    rate_limit_per_minute: NotRequired[int]
    """Requests one client address may send per minute before the edge answers 429-like blocks (default 600)."""
    origin_timeout_seconds: NotRequired[int]
    """How long Front Door waits for an origin's response, 16-240 (default 240: streamed answers)."""
    probe_interval_seconds: NotRequired[int]
    """Health probe interval per edge site, 5-255 s (default 30)."""
    tags: NotRequired[dict[str, str]]
    """Azure tags."""


def services_of(origins: list[RegionalOrigin]) -> list[str]:
    """The services the edge routes: the UI and the API always, llm-d when a region has it."""
    return [s for s in SERVICES if s != "llmd" or any("llmd_port" in o for o in origins)]


def origin_port(origin: RegionalOrigin, service: str) -> Optional[pulumi.Input[int]]:
    return {"ui": origin.get("ui_port", 80), "api": origin.get("api_port", 8080),
            "llmd": origin.get("llmd_port")}[service]


def origin_key(origin: RegionalOrigin, index: int) -> str:
    """The origin's part of resource names: its name, or its position when the name is not known yet."""
    name = known(origin, "name")
    return str(name) if name is not None else str(index)


def rate_limit_rule(per_minute: int) -> frontdoor.CustomRuleArgs:
    """Per client (socket address) across the whole endpoint: any request counts (URI begins with '/')."""
    return frontdoor.CustomRuleArgs(
        name="PerClientRateLimit", priority=100, enabled_state=frontdoor.CustomRuleEnabledState.ENABLED,
        rule_type=frontdoor.RuleType.RATE_LIMIT_RULE, rate_limit_duration_in_minutes=1,
        rate_limit_threshold=per_minute, action=frontdoor.ActionType.BLOCK,
        group_by=[frontdoor.GroupByVariableArgs(variable_name=frontdoor.VariableName.SOCKET_ADDR)],
        match_conditions=[frontdoor.MatchConditionArgs(
            match_variable=frontdoor.MatchVariable.REQUEST_URI, operator=frontdoor.Operator.BEGINS_WITH,
            match_value=["/"])])


class GlobalEndpoint(pulumi.ComponentResource):
    """Azure Front Door (one endpoint, an origin group per service, every region an origin) and its WAF."""

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

    def __init__(self, name: str, args: GlobalEndpointArgs, opts: Optional[pulumi.ResourceOptions] = None):
        check_shape("GlobalEndpoint", name, args, GlobalEndpointArgs)
        origins = list(args["origins"])
        super().__init__(f"{PACKAGE}:index:GlobalEndpoint", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        rg, prefix, tags = args["resource_group_name"], args["name_prefix"], args.get("tags", {})
        sku = opt(args, "sku")
        profile = cdn.Profile(
            f"{name}-profile", profile_name=f"afd-{prefix}", resource_group_name=rg, location="Global",
            sku=cdn.SkuArgs(name=sku), origin_response_timeout_seconds=opt(args, "origin_timeout_seconds"),
            tags=tags, opts=child)
        endpoint = cdn.AFDEndpoint(
            f"{name}-endpoint", endpoint_name=f"{prefix}", profile_name=profile.name, resource_group_name=rg,
            location="Global", enabled_state=cdn.EnabledState.ENABLED, tags=tags, opts=child)
        services = services_of(origins)
        groups: dict[str, cdn.AFDOriginGroup] = {}
        routes: list[cdn.Route] = []
        for service in services:
            patterns, affinity = SERVICES[service]
            group = cdn.AFDOriginGroup(
                f"{name}-{service}", origin_group_name=service, profile_name=profile.name, resource_group_name=rg,
                health_probe_settings=cdn.HealthProbeParametersArgs(
                    probe_path=HEALTH_PATH if service != "ui" else "/", probe_protocol=cdn.ProbeProtocol.HTTP,
                    probe_request_type=cdn.HealthProbeRequestType.GET,
                    probe_interval_in_seconds=opt(args, "probe_interval_seconds")),
                # latency-based: among healthy origins, the fastest and those within 50 ms of it
                load_balancing_settings=cdn.LoadBalancingSettingsParametersArgs(
                    sample_size=4, successful_samples_required=3, additional_latency_in_milliseconds=50),
                session_affinity_state=cdn.EnabledState.ENABLED if affinity else cdn.EnabledState.DISABLED,
                traffic_restoration_time_to_healed_or_new_endpoints_in_minutes=5, opts=child)
            groups[service] = group
            members = []
            for i, origin in enumerate(origins):
                port = origin_port(origin, service)
                if port is None:
                    continue
                members.append(cdn.AFDOrigin(
                    f"{name}-{service}-{origin_key(origin, i)}", origin_name=origin["name"],
                    origin_group_name=group.name,
                    profile_name=profile.name, resource_group_name=rg, host_name=origin["host"],
                    origin_host_header=origin["host"], http_port=port, https_port=443,
                    priority=origin.get("priority", 1), weight=1000, enabled_state=cdn.EnabledState.ENABLED,
                    enforce_certificate_name_check=True, opts=child))
            routes.append(cdn.Route(
                f"{name}-{service}-route", route_name=service, endpoint_name=endpoint.name, profile_name=profile.name,
                resource_group_name=rg, origin_group=cdn.ResourceReferenceArgs(id=group.id),
                patterns_to_match=patterns, supported_protocols=[cdn.AFDEndpointProtocols.HTTP,
                                                                 cdn.AFDEndpointProtocols.HTTPS],
                https_redirect=cdn.HttpsRedirect.ENABLED, forwarding_protocol=cdn.ForwardingProtocol.HTTP_ONLY,
                link_to_default_domain=cdn.LinkToDefaultDomain.ENABLED, enabled_state=cdn.EnabledState.ENABLED,
                rule_sets=[cdn.ResourceReferenceArgs(id=self._strip_prefix(name, profile, rg, child).id)]
                if service == "llmd" else None,
                opts=pulumi.ResourceOptions(parent=self, depends_on=members)))
        waf = frontdoor.Policy(
            f"{name}-waf", policy_name=re.sub(r"[^A-Za-z0-9]", "", f"waf{prefix}")[:128], resource_group_name=rg,
            location="Global", sku=frontdoor.SkuArgs(name=sku),
            policy_settings=frontdoor.PolicySettingsArgs(
                enabled_state=frontdoor.PolicyEnabledState.ENABLED, mode=opt(args, "waf_mode"),
                custom_block_response_status_code=429, request_body_check=frontdoor.PolicyRequestBodyCheck.ENABLED),
            custom_rules=frontdoor.CustomRuleListArgs(rules=[rate_limit_rule(opt(args, "rate_limit_per_minute"))]),
            managed_rules=frontdoor.ManagedRuleSetListArgs(managed_rule_sets=[
                frontdoor.ManagedRuleSetArgs(rule_set_type="Microsoft_DefaultRuleSet", rule_set_version="2.1",
                                             rule_set_action=frontdoor.ManagedRuleSetActionType.BLOCK),
                frontdoor.ManagedRuleSetArgs(rule_set_type="Microsoft_BotManagerRuleSet", rule_set_version="1.1"),
            ]) if sku.startswith("Premium") else None,
            tags=tags, opts=child)
        cdn.SecurityPolicy(
            f"{name}-waf-association", security_policy_name="waf", profile_name=profile.name,
            resource_group_name=rg,
            parameters=cdn.SecurityPolicyWebApplicationFirewallParametersArgs(
                type="WebApplicationFirewall", waf_policy=cdn.ResourceReferenceArgs(id=waf.id),
                associations=[cdn.SecurityPolicyWebApplicationFirewallAssociationArgs(
                    domains=[cdn.ActivatedResourceReferenceArgs(id=endpoint.id)], patterns_to_match=["/*"])]),
            opts=pulumi.ResourceOptions(parent=self, depends_on=routes))

        self.endpoint_host = endpoint.host_name
        self.ui_url = endpoint.host_name.apply(lambda h: f"https://{h}")
        self.api_url = endpoint.host_name.apply(lambda h: f"https://{h}")
        self.llmd_url = endpoint.host_name.apply(lambda h: f"https://{h}/llmd" if "llmd" in groups else None)
        self.front_door_id = profile.front_door_id
        self.origin_groups = pulumi.Output.from_input(list(groups))
        self.register_outputs({"endpoint_host": self.endpoint_host, "ui_url": self.ui_url, "api_url": self.api_url,
                               "llmd_url": self.llmd_url, "front_door_id": self.front_door_id,
                               "origin_groups": self.origin_groups})

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
                 opts=pulumi.ResourceOptions(parent=self))
        return rule_set
