"""FrontDoor (components/llmplatform/front_door.py) in the global stack: every region an origin at its gateway address,
probes, latency routing, HTTPS only, the WAF, custom domains, the edge rules against the real resources, and the
key map of the global API keys.

The global stack plans offline from the regional stacks' own offline plans (StackReferences answered with their
outputs)."""

import copy
import dataclasses
import re

import pulumi
import pytest
import llmplatform

from config import inputs, regions
from config.reader import ConfigError
from offline import plan as plan_cli, plan_diff, policy_check, runner as offline

from tests.conftest import REGIONS, plan_for, PROJECT_DIR


P = "aks-llm-platform"


def by_name(plan, type_):
    return {r.name: r for r in plan.of_type(type_)}


def _violations(plan, reg, mutate):
    inputs = copy.deepcopy(reg.inputs)
    mutate(inputs)
    changed = dataclasses.replace(reg, inputs=inputs)
    changed_plan = dataclasses.replace(plan, resources=[changed if r is reg else r for r in plan.resources])
    return [v for v in policy_check.evaluate(changed_plan) if v.resource == reg.name]


def test_every_region_is_an_origin_of_every_service_over_https_at_its_certificates_name(global_plan):
    """Front Door reaches each prod region over HTTPS: at the name the region's certificate is for (its
    gatewayHostname output, gateway.tls.hostname), on GatewayAccess's TLS listeners (443 UI, 8443 API), with the
    certificate name checked (Front Door sends the origin host name as SNI and checks the certificate against it:
    MicrosoftDocs articles/frontdoor/troubleshoot-issues.md, end-to-end-tls.md); the routes forward HttpsOnly and the
    origin groups probe over HTTPS. Before, the routes forwarded HttpOnly to each region's IP: prompts, answers and
    API keys crossed the internet in plain text between the edge and the region."""
    hosts = {plan_for(r).outputs["gatewayHostname"] for r in REGIONS}
    assert hosts == {"westeurope.llm.example.com", "swedencentral.llm.example.com"}
    groups = by_name(global_plan, "azure-native:cdn:AFDOriginGroup")
    assert {g.inputs["originGroupName"] for g in groups.values()} == {"ui", "api"}  # no region has llm-d
    assert {g.inputs["healthProbeSettings"]["probeProtocol"] for g in groups.values()} == {"Https"}
    assert {r.inputs["forwardingProtocol"] for r in global_plan.of_type("azure-native:cdn:Route")} == {"HttpsOnly"}
    origins = global_plan.of_type("azure-native:cdn:AFDOrigin")
    for service, port in (("ui", 443), ("api", 8443)):
        mine = [o for o in origins if o.inputs["originGroupName"] == service]
        assert {o.inputs["hostName"] for o in mine} == hosts and {o.inputs["httpsPort"] for o in mine} == {port}
        assert all(o.inputs["originHostHeader"] == o.inputs["hostName"] for o in mine)  # SNI, Host and the check
        assert all(o.inputs["enforceCertificateNameCheck"] is True for o in mine)
        assert {o.inputs["originName"] for o in mine} == {"westeurope", "swedencentral"}


@pytest.mark.parametrize("origin_protocol", [None, "Https"])
def test_an_ip_address_origin_over_https_is_refused_naming_the_host(origin_protocol):
    """An IP address can never match the certificate Front Door checks (it sends the origin host as SNI): with
    HTTPS to the origins, the default, the component refuses it before anything is built."""
    extra = {"origin_protocol": origin_protocol} if origin_protocol else {}

    def program():
        llmplatform.GlobalEndpoint("edge", {"resource_group_name": "rg", "name_prefix": "edge", **extra,
                                            "origins": [{"name": "weu", "host": "20.0.0.1"}]})
    with pytest.raises(Exception, match=r"origins\[0\]\.host='20\.0\.0\.1' is invalid; allowed: a DNS name the "
                                        r"region's certificate is for"):
        offline.run_function(program)


@pytest.mark.parametrize("count, sku, llmd, refused", [
    (51, None, 0, True), (50, None, 50, False), (50, "Standard_AzureFrontDoor", 0, False),
    (50, "Standard_AzureFrontDoor", 1, True)])
def test_more_origins_than_front_door_takes_are_refused_before_anything_is_built(count, sku, llmd, refused):
    """Every region is an origin of the ui and api groups (and llmd's with its port): past Front Door's 50 origins a
    group or 100 (Standard) / 200 (Premium) a profile, the component refuses the list, not Azure after the profile."""
    origins = [{"name": f"r{i}", "host": f"r{i}.llm.example.com", **({"llmd_port": 8443} if i < llmd else {})}
               for i in range(count)]

    def program():
        llmplatform.GlobalEndpoint("edge", {"resource_group_name": "rg", "name_prefix": "edge", "origins": origins,
                                            **({"sku": sku} if sku else {})})
    if not refused:
        assert len(offline.run_function(program).of_type("azure-native:cdn:AFDOrigin")) == 2 * count + llmd
        return
    with pytest.raises(Exception, match=rf"origins='{count} regions \({llmd} with llm-d\)' is invalid; allowed: at "
                                        r"most 50 regions"):
        offline.run_function(program)


def test_plain_http_to_the_origins_is_the_callers_explicit_choice():
    """origin_protocol Http: the regions' plain listeners (80, 8080) at their addresses, forwarded and probed over
    HTTP, as before HTTPS became the default."""
    def program():
        llmplatform.GlobalEndpoint("edge", {"resource_group_name": "rg", "name_prefix": "edge",
                                            "origin_protocol": "Http",
                                            "origins": [{"name": "weu", "host": "20.0.0.1"}]})
    plan = offline.run_function(program)
    ports = {o.inputs["originGroupName"]: o.inputs["httpPort"] for o in plan.of_type("azure-native:cdn:AFDOrigin")}
    assert ports == {"ui": 80, "api": 8080}
    assert {r.inputs["forwardingProtocol"] for r in plan.of_type("azure-native:cdn:Route")} == {"HttpOnly"}
    assert {g.inputs["healthProbeSettings"]["probeProtocol"]
            for g in plan.of_type("azure-native:cdn:AFDOriginGroup")} == {"Http"}


def test_probes_latency_routing_affinity_and_streaming_timeout(global_plan):
    groups = {g.inputs["originGroupName"]: g.inputs for g in global_plan.of_type("azure-native:cdn:AFDOriginGroup")}
    api_probe = groups["api"]["healthProbeSettings"]
    assert api_probe["probePath"] == "/healthz/model" and api_probe["probeRequestType"] == "GET"
    assert groups["ui"]["sessionAffinityState"] == "Enabled" and groups["api"]["sessionAffinityState"] == "Disabled"
    assert groups["api"]["loadBalancingSettings"]["additionalLatencyInMilliseconds"] == 50
    profile = global_plan.one("azure-native:cdn:Profile").inputs
    assert profile["sku"]["name"] == "Premium_AzureFrontDoor" and profile["originResponseTimeoutSeconds"] == 240


def test_the_api_probe_fails_when_the_regions_model_server_does_not_answer(global_plan):
    """Front Door fails a region over only on a probe that is not a 200: the API origin group's path must reach the
    model server through each region's gate (a 502/504 when no replica answers), not nginx's own 200, and without
    the key or the per-client limit (probes carry neither a key nor one client's address)."""
    from tests.components.test_api_gate import nginx_location_for
    groups = {g.inputs["originGroupName"]: g.inputs for g in global_plan.of_type("azure-native:cdn:AFDOriginGroup")}
    path = groups["api"]["healthProbeSettings"]["probePath"]
    for region in REGIONS:
        conf = plan_for(region).one("kubernetes:core/v1:ConfigMap", "inference-router-config").inputs["data"][
            "nginx.conf"]
        modifier, _, body = nginx_location_for(conf, path)
        assert "proxy_pass http://model_server/v1/models;" in body, (region, path, body)
        assert "return 401" not in body and "limit_req" not in body and "proxy_read_timeout 5s;" in body
        assert "limit_except GET" in body and modifier == "="
        # the KEDA interceptor (requests mode) routes on the Host header: the probe carries the API's
        api_host = re.search(r"proxy_set_header Host \S+;", nginx_location_for(conf, "/v1/chat/completions")[2])
        assert api_host and api_host[0] in body


def test_regional_gates_key_their_rate_limit_on_the_client_front_door_saw():
    """A regional gateway behind Front Door (edge.frontDoorId) hands its routes `front_door`, so the API gate keys
    its limit on the client address Front Door appended, not on the Front Door server's; prod, not behind Front
    Door, keys on the peer address."""
    for stack, key in (*((r, "$rate_limit_client") for r in REGIONS), ("prod", "$binary_remote_addr")):
        conf = plan_for(stack).one("kubernetes:core/v1:ConfigMap", "inference-router-config").inputs["data"][
            "nginx.conf"]
        assert f"limit_req_zone {key} zone=per_client" in conf, (stack, conf)


def test_the_api_url_is_the_edge_base_the_tools_append_v1_to(global_plan):
    assert global_plan.outputs["modelApiUrl"] == global_plan.outputs["uiUrl"]
    assert global_plan.outputs["modelApiUrl"].startswith("https://") and "/v1" not in global_plan.outputs["modelApiUrl"]


def test_routes_are_https_only_at_the_edge(global_plan):
    routes = {r.inputs["routeName"]: r.inputs for r in global_plan.of_type("azure-native:cdn:Route")}
    assert routes["ui"]["patternsToMatch"] == ["/*"] and routes["api"]["patternsToMatch"] == ["/v1/*"]
    assert all(r["httpsRedirect"] == "Enabled" and "Https" in r["supportedProtocols"] for r in routes.values())


def test_waf_blocks_with_managed_rules_and_limits_each_client(global_plan):
    waf = global_plan.one("azure-native:frontdoor:Policy").inputs
    assert waf["policySettings"]["mode"] == "Prevention" and waf["policySettings"]["enabledState"] == "Enabled"
    assert {s["ruleSetType"] for s in waf["managedRules"]["managedRuleSets"]} == {"Microsoft_DefaultRuleSet",
                                                                                   "Microsoft_BotManagerRuleSet"}
    rate = waf["customRules"]["rules"][0]
    assert rate["ruleType"] == "RateLimitRule" and rate["rateLimitThreshold"] == 600
    assert rate["groupBy"] == [{"variableName": "SocketAddr"}]
    endpoint = global_plan.one("azure-native:cdn:AFDEndpoint")
    association = global_plan.one("azure-native:cdn:SecurityPolicy").inputs["parameters"]["associations"][0]
    assert association["domains"][0]["id"].endswith(endpoint.inputs["endpointName"])


def edge_block_answer(policy_settings: dict, blocked_by: str) -> int:
    """The status Front Door's WAF answers a block with, as Microsoft documents it: a custom status or body is the
    policy's for every block ("all blocked requests get the same custom response status and response message",
    MicrosoftDocs/azure-docs 04d64497 waf-front-door-policy-settings.md); without a body, "403 Forbidden for normal
    WAF blocks and 429 Too many requests for rate limit blocks" (16930cd4 waf-front-door-configure-custom-response-
    code.md, its IMPORTANT note)."""
    custom = policy_settings.get("customBlockResponseStatusCode")
    if custom is not None:
        return custom
    if policy_settings.get("customBlockResponseBody"):
        return 403
    return 429 if blocked_by == "RateLimitRule" else 403


def test_the_edge_answers_its_rate_limit_429_and_a_managed_rule_block_403(global_plan):
    """A client backs off a 429 (the OpenAI SDKs retry it twice by default); a prompt a managed rule blocks (quoted
    SQL or script) must not look like the rate limit, or it is sent again for the same block."""
    settings = global_plan.one("azure-native:frontdoor:Policy").inputs["policySettings"]
    assert edge_block_answer(settings, "RateLimitRule") == 429
    assert edge_block_answer(settings, "Microsoft_DefaultRuleSet") == 403, settings


def waf_variable(request: dict, variable: str, selector=None):
    """What Front Door's WAF compares a custom rule's match variable with, as Microsoft documents it: RequestUri is
    the full URI, scheme, host and port first ("Full URI of the request", `https://<host>:443/?q=...`, MicrosoftDocs/
    azure-docs 03e5750a articles/web-application-firewall/afds/waf-front-door-monitor.md; a rule on a path "doesn't
    work unless i fully qualify it", Microsoft Q&A 2264564), RequestHeader the named header's value (every request
    carries Host, waf-front-door-rate-limit.md), RequestMethod the method."""
    scheme = request["scheme"]
    port = {"https": 443, "http": 80}[scheme]
    headers = {k.lower(): v for k, v in {"Host": request["host"], **request.get("headers", {})}.items()}
    return {"RequestUri": f"{scheme}://{request['host']}:{port}{request['path']}",
            "RequestHeader": headers.get((selector or "").lower()),
            "RequestMethod": request["method"]}[variable]


def waf_condition_matches(condition: dict, request: dict) -> bool:
    """A custom rule's match condition (webapplicationfirewall.json 2025-11-01 MatchCondition: matchValue ORed, the
    size operators on the value's length in bytes, waf-front-door-custom-rules.md), negated when it says so."""
    value = waf_variable(request, condition["matchVariable"], condition.get("selector"))
    for transform in condition.get("transforms") or []:
        value = {"Lowercase": str.lower, "Uppercase": str.upper, "Trim": str.strip}[transform](value)
    sizes = {"LessThan": int.__lt__, "GreaterThan": int.__gt__, "LessThanOrEqual": int.__le__,
             "GreaterThanOrEqual": int.__ge__}
    strings = {"Equal": str.__eq__, "Contains": str.__contains__, "BeginsWith": str.startswith,
               "EndsWith": str.endswith, "RegEx": lambda v, m: re.search(m, v) is not None}
    operator = condition["operator"]
    if value is None:
        found = False
    elif operator == "Any":
        found = True
    elif operator in sizes:
        found = any(sizes[operator](len(value.encode()), int(m)) for m in condition["matchValue"])
    else:
        found = any(strings[operator](value, m) for m in condition["matchValue"])
    return found != bool(condition.get("negateCondition"))


def test_the_edge_rate_limit_counts_every_request_through_the_endpoint(global_plan):
    """The per-client limit must see every request the endpoint takes, the UI's and the API's, over HTTP and HTTPS.
    Its condition was RequestUri BeginsWith '/', which no request's RequestUri does (the WAF's is the full URI,
    `https://<host>:443/...`): the limit never applied, and a client could send the regions as much as it liked."""
    host = global_plan.outputs["uiUrl"].removeprefix("https://")
    rule = next(r for r in global_plan.one("azure-native:frontdoor:Policy").inputs["customRules"]["rules"]
                if r["ruleType"] == "RateLimitRule")
    routes = [r.inputs["patternsToMatch"] for r in global_plan.of_type("azure-native:cdn:Route")]
    assert ["/v1/*"] in routes and ["/*"] in routes
    requests = [{"scheme": scheme, "host": host, "method": method, "path": path}
                for scheme in ("https", "http")
                for method, path in (("GET", "/"), ("POST", "/v1/chat/completions"), ("GET", "/v1/models"),
                                     ("POST", "/api/chat/completions"), ("GET", "/llmd/v1/models?x=1"))]
    for request in requests:
        assert all(waf_condition_matches(c, request) for c in rule["matchConditions"]), (request, rule)
    # the model reads the variables as Microsoft documents them: a path-prefix condition matches none
    by_path = {"matchVariable": "RequestUri", "operator": "BeginsWith", "matchValue": ["/"]}
    assert not any(waf_condition_matches(by_path, r) for r in requests)
    assert all(waf_condition_matches({**by_path, "matchValue": [f"https://{host}:443/"]}, r)
               for r in requests if r["scheme"] == "https")


def test_llmd_regions_get_their_own_route_with_the_prefix_rewritten():
    def program():
        llmplatform.GlobalEndpoint("edge", {"resource_group_name": "rg", "name_prefix": "edge", "origins": [
            {"name": "weu", "host": "weu.llm.example.com", "llmd_port": 8444},
            {"name": "sec", "host": "sec.llm.example.com"}]})
    plan = offline.run_function(program)
    llmd = [o for o in plan.of_type("azure-native:cdn:AFDOrigin") if o.inputs["originGroupName"] == "llmd"]
    assert [o.inputs["originName"] for o in llmd] == ["weu"] and llmd[0].inputs["httpsPort"] == 8444
    # probed through the llm-d gate to a Ready vLLM pod, not the gate's own /healthz (test_llmd_upstream.py)
    [group] = [g.inputs for g in plan.of_type("azure-native:cdn:AFDOriginGroup")
               if g.inputs["originGroupName"] == "llmd"]
    assert group["healthProbeSettings"]["probePath"] == "/healthz/model"
    rewrite = plan.one("azure-native:cdn:Rule").inputs["actions"][0]["parameters"]
    assert (rewrite["sourcePattern"], rewrite["destination"]) == ("/llmd/", "/")


@pytest.mark.parametrize("type_, policy, mutate", [
    ("azure-native:cdn:Route", "front-door-https-only", lambda i: i.update(httpsRedirect="Disabled")),
    ("azure-native:cdn:Route", "front-door-https-only", lambda i: i.update(supportedProtocols=["Http"])),
    ("azure-native:frontdoor:Policy", "waf-on-and-blocking-in-prod",
     lambda i: i["policySettings"].update(mode="Detection")),
    ("azure-native:frontdoor:Policy", "waf-on-and-blocking-in-prod",
     lambda i: i["policySettings"].update(enabledState="Disabled")),
    ("azure-native:containerservice:FleetUpdateStrategy", "fleet-upgrades-region-by-region",
     lambda i: i["strategy"].update(stages=i["strategy"]["stages"][:1])),
    ("azure-native:containerservice:FleetUpdateStrategy", "fleet-upgrades-region-by-region",
     lambda i: i["strategy"]["stages"][0].pop("afterStageWaitInSeconds")),
    ("azure-native:cdn:Route", "prod-front-door-origins-https", lambda i: i.update(forwardingProtocol="HttpOnly")),
    ("azure-native:cdn:Route", "prod-front-door-origins-https", lambda i: i.update(forwardingProtocol="MatchRequest")),
    ("azure-native:cdn:AFDOriginGroup", "prod-front-door-origins-https",
     lambda i: i["healthProbeSettings"].update(probeProtocol="Http")),
    ("azure-native:cdn:AFDOrigin", "prod-front-door-origins-https",
     lambda i: i.update(enforceCertificateNameCheck=False)),
])
def test_edge_rules_pass_the_real_resource_and_fail_it_made_wrong(global_plan, type_, policy, mutate):
    reg = global_plan.of_type(type_)[0]
    assert not [v for v in policy_check.evaluate(global_plan) if v.policy == policy]
    assert [v.policy for v in _violations(global_plan, reg, mutate)] == [policy]


def test_custom_domains_need_tls_1_2(global_plan):
    route = global_plan.of_type("azure-native:cdn:Route")[0]
    domain = dataclasses.replace(route, type="azure-native:cdn:AFDCustomDomain", secret_paths=[],
                                 inputs={"hostName": "llm.example.com", "tlsSettings": {"minimumTlsVersion": "TLS10"}})
    found = policy_check.evaluate(dataclasses.replace(global_plan, resources=[domain]))
    # alone in its plan, no SecurityPolicy names it either: a custom domain is a domain the WAF must cover too
    assert sorted(v.policy for v in found) == ["front-door-endpoints-behind-waf", "front-door-minimum-tls"]


def test_an_endpoint_without_its_waf_security_policy_is_refused(global_plan):
    without = dataclasses.replace(global_plan, resources=[
        r for r in global_plan.resources if r.type != "azure-native:cdn:SecurityPolicy"])
    found = [v for v in policy_check.evaluate(without) if v.policy == "front-door-endpoints-behind-waf"]
    assert found and found[0].mandatory


def test_the_waf_rule_reads_the_outputs_a_stack_policy_gets():
    """The engine hands a stack policy each resource's outputs, not its inputs: an endpoint's Azure name is `name`
    there (its input `endpointName` is a path parameter, in no output), and Azure returns its ids whole, in its own
    case. The plan's association passes as such; one naming a same-named endpoint of another profile does not."""
    endpoint = plan_for("global").of_type("azure-native:cdn:AFDEndpoint")[0]
    outputs = policy_check.stack_properties(endpoint)
    assert outputs["name"] == endpoint.inputs["endpointName"] and "endpointName" not in outputs
    assert outputs["profileName"] == endpoint.inputs["profileName"] and "resourceGroupName" not in outputs

    def with_domain(domain_id):
        plan = plan_for("global")
        policy = plan.of_type("azure-native:cdn:SecurityPolicy")[0]
        inputs = copy.deepcopy(policy.inputs)
        inputs["parameters"]["associations"][0]["domains"] = [{"id": domain_id}]
        changed = dataclasses.replace(policy, inputs=inputs)
        return [v.resource for v in policy_check.evaluate(dataclasses.replace(
            plan, resources=[changed if r is policy else r for r in plan.resources]))
            if v.policy == "front-door-endpoints-behind-waf"]
    arm = "/subscriptions/0/resourceGroups/RG-LLMP-GLOBAL/providers/Microsoft.Cdn/profiles/{}/afdEndpoints/{}"
    assert with_domain(arm.format(endpoint.inputs["profileName"].upper(), endpoint.inputs["endpointName"])) == []
    assert with_domain(arm.format("another-profile", endpoint.inputs["endpointName"])) == [endpoint.name]
    assert with_domain(arm.format(endpoint.inputs["profileName"], "another-endpoint")) == [endpoint.name]
    in_a_group_named_profiles = arm.replace("RG-LLMP-GLOBAL", "profiles")
    assert with_domain(in_a_group_named_profiles.format(endpoint.inputs["profileName"],
                                                       endpoint.inputs["endpointName"])) == []


def test_the_key_map_accepts_every_listed_key_and_a_rotation_keeps_both():
    from llmplatform.front_door import key_map
    from llmplatform.inference_specs import api_key_map_line
    assert key_map(["old", "new"]) == api_key_map_line("old") + api_key_map_line("new")
    with pytest.raises(ConfigError, match="global.apiKeys"):
        raw = regions.raw_stack_file(PROJECT_DIR / "Pulumi.global.yaml", P)
        regions.parse_global({**raw, "global": {**raw["global"], "apiKeys": ["a", "a"]}}, P, "global")


def _documented_unsupported(type_):
    """camelCase inputs whose SDK Args docstring says Azure does not support them yet ("This property is currently
    not supported."): the mock and Azure accept them, and Azure does nothing with them."""
    import importlib
    _, module, resource = type_.split(":")
    args = getattr(importlib.import_module(f"pulumi_azure_native.{module}"), f"{resource}Args")
    found = set()
    for line in (args.__init__.__doc__ or "").split(":param ")[1:]:
        head, _, text = line.partition(": ")
        if "currently not supported" in " ".join(text.split()):
            snake = head.split()[-1]
            found.add(re.sub(r"_([a-z0-9])", lambda m: m[1].upper(), snake))
    return found


def test_the_edge_sets_no_input_azure_documents_as_not_supported(global_plan):
    """An origin group's traffic restoration time is "currently not supported" (afdx.json 2025-06-01, the SDK's
    docstring): setting it promised a 5-minute ramp Front Door does not make."""
    assert "trafficRestorationTimeToHealedOrNewEndpointsInMinutes" in _documented_unsupported(
        "azure-native:cdn:AFDOriginGroup")  # the check reads the docstrings it means to
    for plan in (global_plan, *(plan_for(r) for r in REGIONS)):
        for res in plan.resources:
            if res.type.startswith("azure-native:"):
                unsupported = _documented_unsupported(res.type) & set(res.inputs)
                assert not unsupported, (res.name, sorted(unsupported))


def front_door_picks(group: list[dict], healthy: set[str], latency_ms: dict[str, int], band_ms: int) -> set[str]:
    """The origins a Front Door edge site may send a new session's request to, by Microsoft's decision flow
    (MicrosoftDocs/azure-docs 0a0e05ea articles/frontdoor/routing-methods.md, "Overall decision flow"): the enabled
    origins whose probes pass, of those the top priority (lowest value), of those the ones within the origin group's
    latency sensitivity of the fastest, then round-robin by weight among them (session affinity keeps a browser on
    the one it got first, for one browser session)."""
    available = [o for o in group if o["enabledState"] == "Enabled" and o["originName"] in healthy]
    top = min(o["priority"] for o in available)
    candidates = [o for o in available if o["priority"] == top]
    fastest = min(latency_ms[o["originName"]] for o in candidates)
    return {o["originName"] for o in candidates if latency_ms[o["originName"]] <= fastest + band_ms}


# latencies an edge site measures to each region's gateway, ms: near West Europe, between the two, near Sweden
EDGE_SITES = ({"westeurope": 8, "swedencentral": 30}, {"westeurope": 20, "swedencentral": 22},
              {"westeurope": 35, "swedencentral": 6})


def test_every_browser_reaches_the_ui_in_one_region_while_its_probes_pass(global_plan):
    """Each region's Open-WebUI keeps its users and chats in its own PostgreSQL and signs the browser's token with
    its own generated session key, so a browser sent to the other region is signed out there and often has no account
    there. Front Door must send every browser to one region and use another only when that one fails its probes;
    the APIs (one key set, no state) keep latency routing across every region. Before, the UI's origins had one
    priority: every edge site within the 50 ms band picked either region in turn, and the affinity cookie held only
    for one browser session."""
    regional = {region: plan_for(region) for region in REGIONS}
    servers = {r.inputs["serverName"] for plan in regional.values()
               for r in plan.of_type("azure-native:dbforpostgresql:Server")}
    keys = [r for plan in regional.values() for r in plan.of_type("random:index/randomPassword:RandomPassword")
            if r.name.endswith("webui-secret-key")]
    assert len(servers) == 2 and len(keys) == 2  # a database and a session key in each region
    groups = {g.inputs["originGroupName"]: g.inputs for g in global_plan.of_type("azure-native:cdn:AFDOriginGroup")}
    origins = global_plan.of_type("azure-native:cdn:AFDOrigin")
    ui = [o.inputs for o in origins if o.inputs["originGroupName"] == "ui"]
    api = [o.inputs for o in origins if o.inputs["originGroupName"] == "api"]
    band = groups["ui"]["loadBalancingSettings"]["additionalLatencyInMilliseconds"]
    everyone = {"westeurope", "swedencentral"}
    for latency in EDGE_SITES:
        assert front_door_picks(ui, everyone, latency, band) == {"westeurope"}  # global.regions' first: the home
        assert front_door_picks(ui, {"swedencentral"}, latency, band) == {"swedencentral"}  # its failover
    assert front_door_picks(api, everyone, EDGE_SITES[1], band) == everyone  # the APIs: still the latency band
    assert groups["ui"]["sessionAffinityState"] == "Enabled"


@pytest.mark.parametrize("priorities, home, expected", [
    ((None, None, None), None, [1, 2, 3]), ((2, 1, None), None, [3, 1, 2]), ((1,) * 7, None, [1, 2, 3, 4, 5, 5, 5]),
    ((None, None, None), "r2", [2, 3, 1]), ((None, None, None), "r0", [1, 2, 3]), ((2, 1, None), "r0", [1, 2, 3]),
    ((1, 2, 1), "r1", [2, 1, 3])])
def test_the_ui_home_is_the_first_origin_of_the_lowest_priority(priorities, home, expected):
    """Through the component: the UI's origin group ranks the regions in the order of preference (the origin's own
    priority, then its place), 1-5 as the API takes; `ui_home` puts priority 1 on the origin it names, whatever its own
    priority, the others following in that order; the API's group keeps the origins' own priorities."""
    origins = [{"name": f"r{i}", "host": f"r{i}.example.com", **({"priority": p} if p else {})}
               for i, p in enumerate(priorities)]

    def program():
        llmplatform.GlobalEndpoint("edge", {"resource_group_name": "rg", "name_prefix": "llm", "origins": origins,
                                            **({"ui_home": home} if home else {})})

    plan = offline.run_function(program)
    got = {(o.inputs["originGroupName"], o.inputs["originName"]): o.inputs.get("priority")
           for o in plan.of_type("azure-native:cdn:AFDOrigin")}
    assert [got[("ui", f"r{i}")] for i in range(len(origins))] == expected
    assert [got[("api", f"r{i}")] for i in range(len(origins))] == [p or 1 for p in priorities]


@pytest.mark.parametrize("home, message", [
    ("weu2", r"input ui_home='weu2' is invalid; allowed: the name of one of origins \(the region every browser "
             r"reaches for the UI\): 'weu', 'swe'"),
    ("", r"input ui_home='' is invalid; allowed: the name of one of origins"),
])
def test_a_ui_home_that_names_no_origin_is_refused_before_anything_is_built(home, message):
    """A home that is none of the origins would leave the UI ranked as if it were unset: refused, naming the input,
    the value and the origins' names, before any resource is registered."""
    def program():
        llmplatform.GlobalEndpoint("edge", {"resource_group_name": "rg", "name_prefix": "llm", "ui_home": home,
                                            "origins": [{"name": "weu", "host": "weu.example.com"},
                                                        {"name": "swe", "host": "swe.example.com"}]})
    with pytest.raises(Exception, match=message):
        offline.run_function(program)


def test_a_ui_home_given_as_an_output_is_refused_naming_it():
    """The home names a plain origin name (it decides every UI origin's priority): an output is refused, as an
    origin's own name is."""
    import pulumi

    def program():
        llmplatform.GlobalEndpoint("edge", {"resource_group_name": "rg", "name_prefix": "llm",
                                            "ui_home": pulumi.Output.from_input("weu"),
                                            "origins": [{"name": "weu", "host": "weu.example.com"}]})
    with pytest.raises(Exception, match=r"ui_home: must be a plain value known when the program runs \(a string\), "
                                        r"not an Output"):
        offline.run_function(program)


def _documents(plan):
    return plan_diff.resources_by_urn(plan_cli.resources_document(plan))


def test_global_ui_home_region_moves_the_ui_home_and_leaves_the_apis_and_fleets_order(global_plan):
    """A platform team upgrades a canary region first (Fleet's order is global.regions') and keeps the UI's users in
    the region that matters most: global.uiHomeRegion prod-swedencentral puts priority 1 on Sweden Central's `ui`
    origin (every browser there while its probes pass, West Europe standing by), while the APIs' latency routing and
    Fleet's stages stay as global.regions has them. The PR check reads it as the two `ui` origins' `priority` updated
    in place, nothing replaced."""
    moved = plan_for("global", {"global": {"uiHomeRegion": "prod-swedencentral"}})
    origins = moved.of_type("azure-native:cdn:AFDOrigin")
    ui = [o.inputs for o in origins if o.inputs["originGroupName"] == "ui"]
    band = {g.inputs["originGroupName"]: g.inputs for g in moved.of_type("azure-native:cdn:AFDOriginGroup")}[
        "ui"]["loadBalancingSettings"]["additionalLatencyInMilliseconds"]
    for latency in EDGE_SITES:
        assert front_door_picks(ui, {"westeurope", "swedencentral"}, latency, band) == {"swedencentral"}
        assert front_door_picks(ui, {"westeurope"}, latency, band) == {"westeurope"}  # its failover
    before, after = _documents(global_plan), _documents(moved)
    result = plan_diff.diff_documents(before, after)
    ui_urns = {u for u, r in after.items() if r["type"] == "azure-native:cdn:AFDOrigin" and "::edge-ui-" in u}
    assert set(result["changed"]) == ui_urns and len(ui_urns) == 2, result
    assert all(paths == ["priority"] for paths in result["changed"].values()), result["changed"]
    assert not result["added"] and not result["replaced"] and not result["removed"], result
    assert not plan_diff.blocking(result, set(), False)
    api = [u for u, r in before.items() if r["type"] == "azure-native:cdn:AFDOrigin" and "::edge-api-" in u]
    fleet = [u for u, r in before.items() if r["type"].startswith("azure-native:containerservice:")]
    assert len(api) == 2 and len(fleet) == 5 and all(before[u]["inputs"] == after[u]["inputs"] for u in api + fleet)
    [strategy] = [r for r in after.values() if r["type"] == "azure-native:containerservice:FleetUpdateStrategy"]
    assert [g["name"] for stage in strategy["inputs"]["strategy"]["stages"] for g in stage["groups"]] == [
        "westeurope", "swedencentral"]  # the canary first, as global.regions lists it


def test_global_ui_home_region_set_to_the_first_region_plans_as_the_default(global_plan):
    """The default is the first of global.regions: naming it plans the same resources, input for input, so every
    stack without the key keeps its plan."""
    assert _documents(plan_for("global", {"global": {"uiHomeRegion": REGIONS[0]}})) == _documents(global_plan)


def test_the_component_pages_ui_home_example_is_a_config_the_global_stack_takes():
    """The YAML the component page shows for a canary upgraded first and the UI elsewhere validates, with a home
    other than the first of global.regions (docs/components/global-endpoint-and-fleet.md, "The browser's path")."""
    import textwrap
    import yaml
    page = (PROJECT_DIR / "docs" / "components" / "global-endpoint-and-fleet.md").read_text()
    [block] = [b for b in re.findall(r"```yaml\n(.*?)```", page, re.S) if "uiHomeRegion" in b]
    section = yaml.safe_load(textwrap.dedent(block))[f"{P}:global"]
    raw = regions.raw_stack_file(PROJECT_DIR / "Pulumi.global.yaml", P)
    cfg = regions.parse_global({**raw, "global": {**raw["global"], **section}}, P, "global")
    assert cfg.ui_home_region == section["uiHomeRegion"] != cfg.regions[0]


def test_a_region_leaving_and_a_key_rotation_meet_no_protect_and_a_new_prefix_does(global_plan):
    """Prod's global stack protects its group, the Front Door profile, the endpoint and the edge's workspace; what
    the documented day-2 steps delete stays replaceable. A region leaving (global.regions) deletes its origins, and
    the last step of a key rotation (the old name dropped from global.apiKeys) deletes that key and its secrets:
    the engine refuses a delete of what the state protects (pulumi/pulumi step.go `deleteProtectedError`), so a
    protect inherited by those would have stopped both `pulumi up`s. A new prefix replaces the profile (a new Front
    Door ID for every region) and the rest: that the engine refuses, and the PR check says so."""
    before = _documents(global_plan)
    one_region = plan_for("global", {"global": {"regions": ["prod-westeurope"]}})
    rotated = plan_for("global", {"global": {"apiKeys": ["clients-2026-12"]}})
    for changed in (one_region, rotated):
        result = plan_diff.diff_documents(before, _documents(changed))
        assert result["removed"] and result["protected"] == [], result
    left = plan_diff.diff_documents(before, _documents(one_region))["removed"]
    assert {before[u]["type"] for u in left} >= {"azure-native:cdn:AFDOrigin", "azure-native:keyvault:Secret"}
    dropped = plan_diff.diff_documents(before, _documents(rotated))["removed"]
    assert "random:index/randomPassword:RandomPassword" in {before[u]["type"] for u in dropped}

    renamed = plan_diff.diff_documents(before, _documents(plan_for("global", {"prefix": "llmq"})))
    held = {before[u]["type"] for u in renamed["protected"]}
    assert held >= {"azure-native:cdn:Profile", "azure-native:cdn:AFDEndpoint",
                    "azure-native:operationalinsights:Workspace", "azure-native:resources:ResourceGroup"}, renamed


def test_a_protected_edge_protects_its_stores_alone():
    """A GlobalEndpoint given `protect` (as prod's global stack gives it) passes it to its profile, endpoint and own
    workspace, and to nothing else: origins, origin groups, routes, the llm-d rule set, the WAF policy and its
    association, the diagnostic setting, the keys and the secrets they write carry `protect: false`."""
    def program():
        llmplatform.GlobalEndpoint("edge", {
            "resource_group_name": "rg", "name_prefix": "edge", "location": "westeurope", "api_keys": ["clients"],
            "origins": [{"name": "weu", "host": "weu.llm.example.com", "llmd_port": 8444, "key_vault_name": "kv-weu",
                         "key_vault_resource_group": "rg-weu"},
                        {"name": "sec", "host": "sec.llm.example.com", "key_vault_name": "kv-sec",
                         "key_vault_resource_group": "rg-sec"}]}, pulumi.ResourceOptions(protect=True))
    plan = offline.run_function(program)
    protected = sorted(r.type for r in plan.resources if r.custom and r.options["protect"])
    assert protected == ["azure-native:cdn:AFDEndpoint", "azure-native:cdn:Profile",
                         "azure-native:operationalinsights:Workspace"]
    kinds = {r.type for r in plan.resources if r.custom and not r.options["protect"]}
    assert {"azure-native:cdn:AFDOrigin", "azure-native:cdn:AFDOriginGroup", "azure-native:cdn:Route",
            "azure-native:cdn:RuleSet", "azure-native:cdn:Rule", "azure-native:frontdoor:Policy",
            "azure-native:cdn:SecurityPolicy", "random:index/randomPassword:RandomPassword",
            "azure-native:keyvault:Secret"} <= kinds, kinds
    assert any("DiagnosticSetting" in kind for kind in kinds)


def test_a_switch_to_a_central_workspace_stops_on_the_edge_workspace_and_the_page_says_how_past_it(global_plan):
    """Setting global.logAnalyticsWorkspaceId on an edge that runs on its own workspace deletes that workspace, which
    prod protects: `pulumi up` stops on it (pulumi/pulumi 1b5949891b step.go `deleteProtectedError`) until `pulumi
    state unprotect` lifts it. The page ("The edge's logs") named the PR check alone."""
    central = ("/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-central/providers/"
               "Microsoft.OperationalInsights/workspaces/log-central")
    before = _documents(global_plan)
    after = _documents(plan_for("global", {"global": {"logAnalyticsWorkspaceId": central, "logRetentionDays": None}}))
    result = plan_diff.diff_documents(before, after)
    assert [before[u]["name"] for u in result["protected"]] == ["edge-logs"]
    page = " ".join((PROJECT_DIR / "docs" / "components" / "global-endpoint-and-fleet.md").read_text().split())
    switching = page.split("Switching an estate that runs on its own workspace to a central one")[1].split(". The ")[0]
    assert "pulumi state unprotect" in switching and "edge-logs" in switching, switching
