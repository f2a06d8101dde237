"""Past one cluster: regional stacks behind one global endpoint (Azure Front Door) upgraded by Fleet Manager.

The global stack plans offline from the regional stacks' own offline plans (StackReferences answered with their
outputs); these tests read the resources it registers, the regional side of the contract, the config refusals
across regional stack files and the guardrails on Front Door and Fleet."""
import copy
import dataclasses
import shutil
from pathlib import Path

import pulumi
import pytest

import llmplatform
from config import inputs
from config.reader import ConfigError
from config.runtime import checked_regional
from config.loader import parse_config
from config import regions
from offline import cost, policy_check, runner as offline

from .conftest import plan_for, upstream_dir
from .validation import validate_custom

PROJECT_DIR = Path(__file__).resolve().parent.parent
REGIONS = ("prod-westeurope", "prod-swedencentral")
P = "aks-llm-platform"


@pytest.fixture(scope="module")
def global_plan():
    return plan_for("global")


def by_name(plan, type_):
    return {r.name: r for r in plan.of_type(type_)}


# ---- the edge ------------------------------------------------------------------------------------------------

def test_every_region_is_an_origin_of_every_service_at_its_gateway_address(global_plan):
    addresses = {plan_for(r).outputs["gatewayExternalAddress"] for r in REGIONS}
    groups = by_name(global_plan, "azure-native:cdn:AFDOriginGroup")
    assert {g.inputs["originGroupName"] for g in groups.values()} == {"ui", "api"}  # no region has llm-d
    origins = global_plan.of_type("azure-native:cdn:AFDOrigin")
    for service, port in (("ui", 80), ("api", 8080)):
        mine = [o for o in origins if o.inputs["originGroupName"] == service]
        assert {o.inputs["hostName"] for o in mine} == addresses and {o.inputs["httpPort"] for o in mine} == {port}
        assert {o.inputs["originName"] for o in mine} == {"westeurope", "swedencentral"}


def test_probes_latency_routing_affinity_and_streaming_timeout(global_plan):
    groups = {g.inputs["originGroupName"]: g.inputs for g in global_plan.of_type("azure-native:cdn:AFDOriginGroup")}
    api_probe = groups["api"]["healthProbeSettings"]
    assert api_probe["probePath"] == "/healthz" and api_probe["probeRequestType"] == "GET"
    assert groups["ui"]["sessionAffinityState"] == "Enabled" and groups["api"]["sessionAffinityState"] == "Disabled"
    assert groups["api"]["loadBalancingSettings"]["additionalLatencyInMilliseconds"] == 50
    profile = global_plan.one("azure-native:cdn:Profile").inputs
    assert profile["sku"]["name"] == "Premium_AzureFrontDoor" and profile["originResponseTimeoutSeconds"] == 240


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


def test_llmd_regions_get_their_own_route_with_the_prefix_rewritten():
    def program():
        llmplatform.GlobalEndpoint("edge", {"resource_group_name": "rg", "name_prefix": "edge", "origins": [
            {"name": "weu", "host": "20.0.0.1", "llmd_port": 8081}, {"name": "sec", "host": "20.0.0.2"}]})
    plan = offline.run_function(program)
    llmd = [o for o in plan.of_type("azure-native:cdn:AFDOrigin") if o.inputs["originGroupName"] == "llmd"]
    assert [o.inputs["originName"] for o in llmd] == ["weu"] and llmd[0].inputs["httpPort"] == 8081
    rewrite = plan.one("azure-native:cdn:Rule").inputs["actions"][0]["parameters"]
    assert (rewrite["sourcePattern"], rewrite["destination"]) == ("/llmd/", "/")


# ---- the fleet -----------------------------------------------------------------------------------------------

def test_fleet_members_are_the_regional_clusters_upgraded_one_region_at_a_time(global_plan):
    members = {m.inputs["fleetMemberName"]: m.inputs for m in global_plan.of_type(
        "azure-native:containerservice:FleetMember")}
    assert {m["clusterResourceId"] for m in members.values()} == {plan_for(r).outputs["clusterId"] for r in REGIONS}
    stages = global_plan.one("azure-native:containerservice:FleetUpdateStrategy").inputs["strategy"]["stages"]
    assert [s["groups"][0]["name"] for s in stages] == ["westeurope", "swedencentral"]  # global.regions order
    assert stages[0]["afterStageWaitInSeconds"] == 3600 and "afterStageWaitInSeconds" not in stages[1]
    profile = global_plan.one("azure-native:containerservice:AutoUpgradeProfile").inputs
    assert profile["channel"] == "Stable" and profile["nodeImageSelection"] == {"type": "Consistent"}
    # a member joins at a time: the fleet takes one member operation at once
    first, second = global_plan.of_type("azure-native:containerservice:FleetMember")
    assert global_plan.waits_for(second, lambda d: d.urn == first.urn) or \
        global_plan.waits_for(first, lambda d: d.urn == second.urn)


def test_regional_clusters_leave_upgrades_to_the_fleet_and_admit_only_front_door():
    for region in REGIONS:
        plan = plan_for(region)
        aks = plan.one("azure-native:containerservice:ManagedCluster").inputs
        assert aks["autoUpgradeProfile"]["upgradeChannel"] == "none"
        gateway = next(g for g in plan.of_type("kubernetes:gateway.networking.k8s.io/v1:Gateway")
                       if g.inputs["metadata"]["name"] == "external-gateway")
        annotations = gateway.inputs["spec"]["infrastructure"]["annotations"]
        assert annotations["service.beta.kubernetes.io/azure-allowed-service-tags"] == "AzureFrontDoor.Backend"
        assert plan.outputs["location"] == region.split("-", 1)[1] and plan.outputs["clusterId"]


def test_a_region_without_the_outputs_the_edge_needs_stops_the_global_plan():
    references = {r: dict(plan_for(r).outputs) for r in REGIONS}
    del references["prod-swedencentral"]["clusterId"]
    with pytest.raises(offline.ProgramError, match="regional stack prod-swedencentral has no output 'clusterId'"):
        offline.run("global", references=references)


def test_a_global_stack_naming_a_stack_that_is_not_its_region_is_refused():
    with pytest.raises(offline.ProgramError, match="'prod': its edge.globalStack is None, not 'global'"):
        offline.run("global", {"global": {"regions": ["prod-westeurope", "prod"]}},
                    references={r: plan_for(r).outputs for r in REGIONS})


def test_the_global_stack_is_priced(global_plan):
    estimate = cost.estimate(global_plan, "westeurope", 0.0)
    assert any("Front Door Premium_AzureFrontDoor base fee" in line.item for line in estimate.lines)
    assert estimate.total("idle") == pytest.approx(330.0)


# ---- config across regional stack files -----------------------------------------------------------------------

def _regional(stack, **changes):
    raw = regions.raw_stack_file(PROJECT_DIR / f"Pulumi.{stack}.yaml", P)
    for key, value in changes.items():
        raw[key] = value
    return raw


def _project_with(tmp_path, files):
    (tmp_path / "Pulumi.yaml").write_text((PROJECT_DIR / "Pulumi.yaml").read_text())
    for stack, raw in files.items():
        import yaml
        (tmp_path / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump({"config": {f"{P}:{k}": v
                                                                                  for k, v in raw.items()}}))
    return tmp_path


def test_the_repository_regional_stacks_do_not_collide():
    for stack in REGIONS:
        checked_regional(parse_config(_regional(stack), P, stack))


def test_regional_stacks_that_would_collide_are_refused(tmp_path):
    west = _regional("prod-westeurope")
    clash = _regional("prod-swedencentral", prefix=west["prefix"], location=west["location"],
                      network={**west["network"]})
    clash["modelStore"] = {**clash["modelStore"], "resourceGroupName": west["modelStore"]["resourceGroupName"]}
    project = _project_with(tmp_path, {"prod-westeurope": west, "prod-swedencentral": clash})
    with pytest.raises(ConfigError) as error:
        checked_regional(parse_config(clash, P, "prod-swedencentral"), project)
    text = str(error.value)
    for expected in ("resource group name 'rg-llmweu-prod' is also stack prod-westeurope's resource group",
                     "storage account name", "Key Vault name", "model store resource group name",
                     "overlaps stack prod-westeurope's 10.41.0.0/16", "one regional stack per region"):
        assert expected in text, expected


def test_a_broken_sibling_regional_stack_is_named(tmp_path):
    broken = _regional("prod-westeurope", prefix="Bad Prefix")
    project = _project_with(tmp_path, {"prod-westeurope": broken, "prod-swedencentral": _regional(
        "prod-swedencentral")})
    with pytest.raises(ConfigError, match="regional stack prod-westeurope .* does not validate"):
        checked_regional(parse_config(_regional("prod-swedencentral"), P, "prod-swedencentral"), project)


@pytest.mark.parametrize("change, message", [
    ({"cluster": {"upgradeChannel": "stable"}}, "fights Fleet Manager's auto-upgrade"),
    ({"gateway": {"mode": "internal"}}, "Front Door reaches a region through its external gateway"),
    ({"gateway": {"tls": {"mode": "letsencrypt", "hostname": "a.example.com", "email": "a@example.com"}}},
     "cannot renew behind Front Door"),
    ({"edge": {"globalStack": "global", "frontDoorId": "not-a-guid"}}, "must be the Front Door profile's ID"),
])
def test_regional_edge_rules(change, message):
    raw = copy.deepcopy(_regional("prod-westeurope"))
    for key, value in change.items():
        raw[key] = offline.deep_merge(raw.get(key) or {}, value)
    with pytest.raises(ConfigError, match=message):
        parse_config(raw, P, "prod-westeurope")


@pytest.mark.parametrize("change, message", [
    ({"frontDoor": {"wafMode": "Detection"}}, "wafMode must be 'Prevention' when environment is 'prod'"),
    ({"frontDoor": {"sku": "Standard_AzureFrontDoor"}}, "must be 'Premium_AzureFrontDoor' when environment"),
    ({"regions": []}, "global.regions must list the regional stacks"),
    ({"regions": ["prod-westeurope", "prod-westeurope"]}, "lists a stack twice"),
    ({"frontDoor": {"originTimeoutSeconds": 600}}, "originTimeoutSeconds"),
    ({"fleet": {"channel": "Patch"}}, "global.fleet.channel"),
    ({"typo": 1}, "global.typo is not a known key"),
])
def test_global_config_rules(change, message):
    raw = regions.raw_stack_file(PROJECT_DIR / "Pulumi.global.yaml", P)
    raw["global"] = offline.deep_merge(raw["global"], change) if "regions" not in change else \
        {**raw["global"], **change}
    with pytest.raises(ConfigError, match=message):
        regions.parse_global(raw, P, "global")


# ---- guardrails on the edge ------------------------------------------------------------------------------------

def _violations(plan, reg, mutate):
    inputs = copy.deepcopy(reg.inputs)
    mutate(inputs)
    changed = dataclasses.replace(reg, inputs=inputs)
    changed_plan = dataclasses.replace(plan, resources=[changed if r is reg else r for r in plan.resources])
    return [v for v in policy_check.evaluate(changed_plan) if v.resource == reg.name]


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
    assert [v.policy for v in found] == ["front-door-minimum-tls"]


def test_an_endpoint_without_its_waf_security_policy_is_refused(global_plan):
    without = dataclasses.replace(global_plan, resources=[
        r for r in global_plan.resources if r.type != "azure-native:cdn:SecurityPolicy"])
    found = [v for v in policy_check.evaluate(without) if v.policy == "front-door-endpoints-behind-waf"]
    assert found and found[0].mandatory


def test_regional_stacks_get_the_prod_rules():
    plan = plan_for("prod-westeurope")
    share = plan.one("azure-native:storage:FileShare")
    unprotected = dataclasses.replace(share, options={**share.options, "protect": False})
    changed = dataclasses.replace(plan, resources=[unprotected if r is share else r for r in plan.resources])
    assert [v.policy for v in policy_check.evaluate(changed) if v.resource == share.name] == \
        ["prod-stateful-protected"]


# ---- only this Front Door reaches a region; one key set valid in every region ----------------------------------

AUTHZ = "kubernetes:security.istio.io/v1:AuthorizationPolicy"
ISTIO_CRDS = upstream_dir() / "crds" / "security.istio.io"  # only Istio's CRD is indexed: cheap


def _joined(global_plan, stack="prod-westeurope"):
    """A regional stack's config after the global stack is up (edge.frontDoorId from the global stack's output)."""
    raw = copy.deepcopy(_regional(stack))
    raw["edge"] = {**raw["edge"], "frontDoorId": global_plan.outputs["frontDoorId"]}
    return parse_config(raw, P, stack)


def _probe_paths(global_plan):
    return {g.inputs["healthProbeSettings"]["probePath"] for g in global_plan.of_type("azure-native:cdn:AFDOriginGroup")}


def test_a_regional_gateway_serves_nothing_until_it_knows_its_front_door():
    """Before edge.frontDoorId is set (the repository's regional stack files): Istio's allow-nothing policy on the
    external Gateway (an ALLOW policy without rules refuses every request), attached to a Gateway the plan creates."""
    for region in REGIONS:
        plan = plan_for(region)
        policy = plan.one(AUTHZ)
        gateways = {(g.inputs["metadata"]["namespace"], g.inputs["metadata"]["name"])
                    for g in plan.of_type("kubernetes:gateway.networking.k8s.io/v1:Gateway")}
        obj = {"apiVersion": "security.istio.io/v1", "kind": "AuthorizationPolicy", **policy.inputs}
        validate_custom(obj, ISTIO_CRDS)
        spec = policy.inputs["spec"]
        assert spec["action"] == "ALLOW" and spec["rules"] == []
        [target] = spec["targetRefs"]
        assert (target["group"], target["kind"]) == ("gateway.networking.k8s.io", "Gateway")
        assert (policy.inputs["metadata"]["namespace"], target["name"]) in gateways
        assert target["name"] == "external-gateway" and "selector" not in spec  # CRD rule: targetRefs or selector


def test_a_joined_region_admits_its_front_door_by_header_and_the_probes_by_path(global_plan):
    """The header value is the global stack's frontDoorId output, as the regional config carries it; the paths let
    through without it are exactly the paths the global stack's origin groups probe."""
    from .test_components_alone import cluster_handle, provider_opts
    args = inputs.gateway_args(_joined(global_plan), cluster_handle())
    assert args["front_door_id"] == global_plan.outputs["frontDoorId"]
    assert args["allowed_service_tags"] == ["AzureFrontDoor.Backend"]
    plan = offline.run_function(lambda: llmplatform.GatewayAccess("gateway", args, provider_opts()))
    spec = plan.one(AUTHZ).inputs["spec"]
    validate_custom({"apiVersion": "security.istio.io/v1", "kind": "AuthorizationPolicy",
                     "metadata": {"name": "front-door-only", "namespace": "gw"}, "spec": spec}, ISTIO_CRDS)
    header, probes = spec["rules"]
    assert header["when"] == [{"key": "request.headers[X-Azure-FDID]", "values": [global_plan.outputs["frontDoorId"]]}]
    assert "to" not in header  # any path, any method, any listener: the profile's own traffic
    assert set(probes["to"][0]["operation"]["paths"]) == _probe_paths(global_plan) == {"/health", "/healthz"}
    assert probes["to"][0]["operation"]["methods"] == ["GET", "HEAD"] and "when" not in probes


def test_the_authorization_policy_check_catches_a_wrong_shape():
    import jsonschema
    from llmplatform.gateway import front_door_policy
    spec = front_door_policy("external-gateway", "33333333-3333-3333-3333-333333333333", ["/healthz"])
    spec["rules"][0]["when"][0]["value"] = spec["rules"][0]["when"][0].pop("values")  # singular: not Istio's field
    with pytest.raises(jsonschema.ValidationError):
        validate_custom({"apiVersion": "security.istio.io/v1", "kind": "AuthorizationPolicy",
                         "metadata": {"name": "p", "namespace": "gw"}, "spec": spec}, ISTIO_CRDS)


@pytest.mark.parametrize("change, message", [
    ({"front_door_id": "not-a-guid"}, "front_door_id='not-a-guid' is invalid"),
    ({"front_door_id": "", "external": False}, "only with the external Gateway"),
    ({"front_door_probe_paths": ["/healthz"]}, "only with front_door_id"),
    ({"front_door_id": "", "front_door_probe_paths": ["healthz"]}, "exact paths starting with /"),
])
def test_gateway_front_door_inputs_are_checked(change, message):
    from llmplatform.checks import ComponentInputError, check_shape
    from llmplatform.gateway import GatewayAccessArgs
    with pytest.raises(ComponentInputError, match=message):  # the component's own check (its rules included)
        check_shape("GatewayAccess", "gw", {"cluster": {}, **change}, GatewayAccessArgs)


def test_the_global_stack_writes_one_key_set_into_every_regional_vault(global_plan):
    """Each region's vault (its keyVaultName and resourceGroupName outputs) gets the key map and the newest key,
    both as secrets; the keys are generated once (one RandomPassword per configured name), not per region."""
    secrets = global_plan.of_type("azure-native:keyvault:Secret")
    vaults = {(plan_for(r).outputs["resourceGroupName"], plan_for(r).outputs["keyVaultName"]) for r in REGIONS}
    for name in ("edge-api-key-map", "edge-api-key"):
        mine = [s for s in secrets if s.inputs["secretName"] == name]
        assert {(s.inputs["resourceGroupName"], s.inputs["vaultName"]) for s in mine} == vaults
        assert all(any("properties.value".startswith(path) for path in s.secret_paths) for s in mine)
    keys = global_plan.of_type("random:index/randomPassword:RandomPassword")
    names = regions.parse_global(regions.raw_stack_file(PROJECT_DIR / "Pulumi.global.yaml", P), P, "global").api_keys
    assert len(keys) == len(names) >= 1
    assert global_plan.outputs["apiKeySecret"] == "edge-api-key"
    assert "apiKey" in global_plan.secret_outputs  # the key leaves the stack only as a Pulumi secret


def test_a_joined_regions_api_gate_reads_the_key_set_the_global_stack_writes(global_plan):
    """The names the regional config hands the gate are the secrets the global plan writes; the gate then mounts
    that map and generates no key of its own (the router alone, under the offline runner)."""
    from types import SimpleNamespace
    from llmplatform.api_router import RouterSpec, api_router
    from .test_components_alone import VAULT, cluster_handle, provider_opts
    written = {s.inputs["secretName"] for s in global_plan.of_type("azure-native:keyvault:Secret")}
    handles = SimpleNamespace(database_url_secret="db", scheduling={}, route_target=None)
    joined = inputs.inference_args(_joined(global_plan), {}, VAULT, {}, handles, None, None, None)
    assert {joined["api_key_map_secret"], joined["api_key_secret"]} == written
    alone = inputs.inference_args(parse_config(_regional("prod-westeurope"), P, "prod-westeurope"), {}, VAULT, {},
                                  handles, None, None, None)
    assert "api_key_map_secret" not in alone  # before the global stack is up: the region's own key

    class Owner(pulumi.ComponentResource):
        def __init__(self):
            super().__init__("test:index:Owner", "owner", None, provider_opts())
            api_router(self, RouterSpec(
                name="inference", namespace="llm", cluster=cluster_handle(), upstream_host="ollama",
                upstream_port=11434, upstream_host_header=None, gateway_peers=[], api_key_auth=True,
                rate_limit_per_second=10, rate_limit_burst=20, request_timeout_seconds=600, vault=VAULT,
                api_key_secret=joined["api_key_secret"], api_key_map_secret=joined["api_key_map_secret"]))
    plan = offline.run_function(Owner)
    assert not plan.of_type("random:index/randomPassword:RandomPassword")
    assert not plan.of_type("azure-native:keyvault:Secret")
    spc = plan.one("kubernetes:secrets-store.csi.x-k8s.io/v1:SecretProviderClass").inputs["spec"]["parameters"]
    assert "objectName: edge-api-key-map" in spc["objects"]
    conf = plan.one("kubernetes:core/v1:ConfigMap").inputs["data"]["nginx.conf"]
    assert "/edge-api-key-map;" in conf


def test_the_key_map_accepts_every_listed_key_and_a_rotation_keeps_both():
    from llmplatform.front_door import key_map
    from llmplatform.inference_specs import api_key_map_line
    assert key_map(["old", "new"]) == api_key_map_line("old") + api_key_map_line("new")
    with pytest.raises(ConfigError, match="global.apiKeys"):
        raw = regions.raw_stack_file(PROJECT_DIR / "Pulumi.global.yaml", P)
        regions.parse_global({**raw, "global": {**raw["global"], "apiKeys": ["a", "a"]}}, P, "global")
