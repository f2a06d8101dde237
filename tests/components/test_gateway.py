"""GatewayAccess (components/llmplatform/gateway.py): internal and external gateways on CPU nodes, routes, TLS, and
a regional gateway behind Front Door that admits only its Front Door."""
from __future__ import annotations

import copy
from typing import Any

import llmplatform
from llmplatform.inference_specs import ROUTER_EDGE_PORT
from llmplatform.testing.stand_ins import cluster_principals
import pytest

from offline import runner as offline
from config import inputs, regions
from config.loader import parse_config

from tests.components.test_components_alone import cluster_handle, provider_opts
from tests.conftest import PLANNED, REGIONS, plan_for, planned, upstream_dir, PROJECT_DIR, variant
from tests.istio_gateway import (CONNECT_FAILURE, RESETS_AFTER_SENDING, envoy_retries, envoy_retry_policy,
                                 virtual_service_retries)
from tests.validation import validate_custom


def test_internal_gateway_without_a_fixed_ip_lets_azure_pick_one():
    plan = offline.run_function(lambda: llmplatform.GatewayAccess("gw", {"cluster": cluster_handle()},
                                                                   provider_opts()))
    internal = next(r for r in plan.of_type("kubernetes:gateway.networking.k8s.io/v1:Gateway")
                    if r.inputs["metadata"]["name"] == "internal-gateway")
    annotations = internal.inputs["spec"]["infrastructure"]["annotations"]
    assert annotations == {"service.beta.kubernetes.io/azure-load-balancer-internal": "true"}


P = "aks-llm-platform"


def _regional(stack, **changes):
    raw = regions.raw_stack_file(PROJECT_DIR / f"Pulumi.{stack}.yaml", P)
    for key, value in changes.items():
        raw[key] = value
    return raw


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
        policy = plan.one(AUTHZ, "gateway-front-door-only")  # (acme-only: the ACME Gateway's, test_global_stack)
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
    through without it are the paths an origin group of the global stack may probe."""
    from tests.components.test_components_alone import cluster_handle, provider_opts
    args = inputs.gateway_args(_joined(global_plan), cluster_handle())
    assert args["front_door_id"] == global_plan.outputs["frontDoorId"]
    assert args["allowed_service_tags"] == ["AzureFrontDoor.Backend"]
    plan = offline.run_function(lambda: llmplatform.GatewayAccess("gateway", args, provider_opts()))
    spec = plan.one(AUTHZ, "gateway-front-door-only").inputs["spec"]
    validate_custom({"apiVersion": "security.istio.io/v1", "kind": "AuthorizationPolicy",
                     "metadata": {"name": "front-door-only", "namespace": "gw"}, "spec": spec}, ISTIO_CRDS)
    header, probes = spec["rules"]
    assert header["when"] == [{"key": "request.headers[X-Azure-FDID]", "values": [global_plan.outputs["frontDoorId"]]}]
    assert "to" not in header  # any path, any method, any listener: the profile's own traffic
    # every path an origin group may probe (the region cannot know whether the edge routes its llm-d)
    from llmplatform.front_door import PROBE_PATHS
    assert set(probes["to"][0]["operation"]["paths"]) == set(PROBE_PATHS.values()) == {"/health", "/healthz/model"}
    assert _probe_paths(global_plan) == {"/health", "/healthz/model"}
    assert probes["to"][0]["operation"]["methods"] == ["GET", "HEAD"] and "when" not in probes
    # as Istio evaluates it: every origin group's probe (its method and path, over HTTPS to the same listeners) passes
    # with or without the header; anything else only with this profile's ID
    for group in global_plan.of_type("azure-native:cdn:AFDOriginGroup"):
        probe = group.inputs["healthProbeSettings"]
        assert _istio_allows([spec], probe["probeRequestType"], probe["probePath"], {})
    fdid = global_plan.outputs["frontDoorId"]
    assert _istio_allows([spec], "POST", "/v1/chat/completions", {"X-Azure-FDID": fdid})
    assert not _istio_allows([spec], "POST", "/v1/chat/completions", {})
    assert not _istio_allows([spec], "GET", "/v1/models", {"X-Azure-FDID": "0b6a3d6e-2f9c-4c1e-9b7a-5d2e8f1a4c3b"})


@pytest.mark.parametrize("front_door_id", ["", "33333333-3333-3333-3333-333333333333"])
def test_behind_front_door_the_internal_gateway_refuses_a_callers_own_x_azure_fdid(front_door_id):
    """Front Door reaches the external Gateway alone; the internal one checked no header, so a caller there (a pod,
    the VNet, a peered VNet or an on-premises network, in any address space) sending X-Azure-FDID was taken by the
    API gates for Front Door and keyed on the X-Forwarded-For entry it wrote. Behind Front Door the internal Gateway
    now refuses every request carrying the header, whatever its value or spelling; the rest passes as before, and
    the external Gateway's own policy is untouched. Without front_door_id (the header means nothing to the gates)
    nothing changes."""
    plan = offline.run_function(lambda: llmplatform.GatewayAccess(
        "gw", {"cluster": cluster_handle(), "front_door_id": front_door_id}, provider_opts()))
    from tests.istio_gateway import authorizes, gateway_policies
    policy = plan.one(AUTHZ, "gw-internal-no-front-door-id")
    validate_custom({"apiVersion": "security.istio.io/v1", "kind": "AuthorizationPolicy", **policy.inputs}, ISTIO_CRDS)
    namespace = policy.inputs["metadata"]["namespace"]
    internal = gateway_policies(plan, namespace, "internal-gateway")
    assert internal == [policy.inputs["spec"]]
    for sent in ({"X-Azure-FDID": "33333333-3333-3333-3333-333333333333"}, {"x-azure-fdid": "anything"},
                 {"X-AZURE-FDID": ""}):
        assert not authorizes(internal, "POST", "/v1/chat/completions", sent), sent
    assert authorizes(internal, "POST", "/v1/chat/completions", {"X-Forwarded-For": "203.0.113.9"})
    assert authorizes(internal, "GET", "/healthz/model", {})
    external = gateway_policies(plan, namespace, "external-gateway")
    assert [p["action"] for p in external] == ["ALLOW"]  # front-door-only alone
    assert authorizes(external, "POST", "/v1/chat/completions", {"X-Azure-FDID": front_door_id}) == bool(front_door_id)
    without = offline.run_function(lambda: llmplatform.GatewayAccess("gw", {"cluster": cluster_handle()},
                                                                      provider_opts()))
    assert without.of_type(AUTHZ) == []
    external_only = offline.run_function(lambda: llmplatform.GatewayAccess(
        "gw", {"cluster": cluster_handle(), "front_door_id": front_door_id, "internal": False}, provider_opts()))
    assert [r.name for r in external_only.of_type(AUTHZ)] == ["gw-front-door-only"]


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
    # a name that is no service tag reached the load balancer's NSG rules, which Azure refuses at pulumi up
    ({"allowed_service_tags": ["AzureFrontDoor.Backend", "NotATag!"]},
     r"allowed_service_tags\[1\]='NotATag!' is invalid; allowed: Azure service tag names"),
])
def test_gateway_front_door_inputs_are_checked(change, message):
    from llmplatform.checks import ComponentInputError, check_shape
    from llmplatform.gateway import GatewayAccessArgs
    with pytest.raises(ComponentInputError, match=message):  # the component's own check (its rules included)
        check_shape("GatewayAccess", "gw", {"cluster": {}, **change}, GatewayAccessArgs)


def gateway_specs(plan):
    return {r.inputs["metadata"]["name"]: r.inputs["spec"]
            for r in plan.of_type("kubernetes:gateway.networking.k8s.io/v1:Gateway")}


def test_gateways_internal_and_external_on_cpu_nodes(prod, dev):
    assert set(gateway_specs(dev)) == {"external-gateway"}  # dev: gateway.mode external, one load balancer
    gateways = gateway_specs(prod)
    assert set(gateways) == {"internal-gateway", "external-gateway"}
    internal = gateways["internal-gateway"]["infrastructure"]["annotations"]
    assert internal["service.beta.kubernetes.io/azure-load-balancer-internal"] == "true"
    assert internal["service.beta.kubernetes.io/azure-load-balancer-ipv4"] == "10.40.15.250"
    external = gateways["external-gateway"]["infrastructure"]["annotations"]
    assert external["service.beta.kubernetes.io/azure-pip-name"] == "pip-llmp-prod-gateway"
    assert all(g["gatewayClassName"] == "istio" for g in gateways.values())
    istiod = next(r for r in prod.helm_releases() if r.inputs["chart"] == "istiod").inputs["values"]
    klass = istiod["gatewayClasses"]["istio"]
    assert klass["deployment"]["spec"]["template"]["spec"]["nodeSelector"] == {"llm-platform/pool": "cpu"}
    assert klass["service"]["spec"]["externalTrafficPolicy"] == "Local"
    assert prod.outputs["gatewayInternalAddress"] == "10.40.15.250" and prod.outputs["gatewayExternalAddress"]
    assert dev.outputs["gatewayInternalAddress"] is None and dev.outputs["gatewayExternalAddress"]


def test_internal_only_gateway_variant():
    plan = variant("dev-smb-nogpu")
    assert plan.outputs["modelApiUrl"] == "http://10.40.15.250:8080"  # no public address: the internal one
    names = {r.inputs["metadata"]["name"] for r in plan.of_type("kubernetes:gateway.networking.k8s.io/v1:Gateway")}
    assert names == {"internal-gateway"} and plan.of_type("azure-native:network:PublicIPAddress") == []
    routes = plan.of_type("kubernetes:gateway.networking.k8s.io/v1:HTTPRoute")
    assert [r.inputs["metadata"]["name"] for r in routes] == ["api-route"]  # no UI when Open-WebUI is off


def test_routes_publish_ui_and_api_with_long_timeouts(prod):
    routes = {r.inputs["metadata"]["name"]: r.inputs["spec"]
              for r in prod.of_type("kubernetes:gateway.networking.k8s.io/v1:HTTPRoute")}
    assert routes["ui-route"]["rules"][0]["backendRefs"] == [{"name": "open-webui", "port": 8080}]
    # the gate's listener for the Gateways, the one that reads X-Forwarded-For
    assert routes["api-route"]["rules"][0]["backendRefs"] == [{"name": "router", "port": ROUTER_EDGE_PORT}]
    assert routes["https-redirect"]["rules"][0]["filters"][0]["requestRedirect"]["scheme"] == "https"  # prod's TLS
    for spec in routes.values():
        assert {p["name"] for p in spec["parentRefs"]} == {"internal-gateway", "external-gateway"}
    for spec in (routes["ui-route"], routes["api-route"]):
        timeouts = spec["rules"][0]["timeouts"]
        assert int(timeouts["request"].rstrip("s")) >= 300 and timeouts["backendRequest"] == timeouts["request"]
    assert {p["sectionName"] for p in routes["api-route"]["parentRefs"]} == {"api"}


def test_tls_variant_issues_a_lets_encrypt_certificate():
    plan = variant("prod-tls")
    assert plan.outputs["webUiUrl"] == "https://llm.example.com"
    assert plan.outputs["modelApiUrl"] == "https://llm.example.com:8443"
    issuer = plan.one("kubernetes:cert-manager.io/v1:ClusterIssuer").inputs["spec"]["acme"]
    assert issuer["email"] == "platform@example.com"
    assert issuer["solvers"][0]["http01"]["gatewayHTTPRoute"]["parentRefs"][0]["sectionName"] == "acme"
    cert = plan.one("kubernetes:cert-manager.io/v1:Certificate").inputs["spec"]
    assert cert["dnsNames"] == ["llm.example.com"]
    gateway = next(r.inputs["spec"] for r in plan.of_type("kubernetes:gateway.networking.k8s.io/v1:Gateway")
                   if r.inputs["metadata"]["name"] == "external-gateway")
    https = [lst for lst in gateway["listeners"] if lst["protocol"] == "HTTPS"]
    assert {lst["port"] for lst in https} == {443, 8443, 8444}  # the UI, the model API, llm-d (exposed externally)
    assert plan.outputs["llmdUrl"] == "https://llm.example.com:8444"
    assert all(lst["tls"]["certificateRefs"][0]["name"] == "gateway-tls" for lst in https)
    redirect = next(r.inputs["spec"] for r in plan.of_type("kubernetes:gateway.networking.k8s.io/v1:HTTPRoute")
                    if r.inputs["metadata"]["name"] == "https-redirect")
    assert redirect["rules"][0]["filters"][0]["requestRedirect"] == {"scheme": "https", "statusCode": 301}


def test_an_unset_name_prefix_holds_the_resource_name_to_the_namespace_rule():
    """GatewayAccess names its namespace <prefix>-gateway: with no name_prefix its resource name must be a lowercase
    DNS label start (a camelCase YAML name, fine for the Azure-only components, is refused here, naming name_prefix)."""
    with pytest.raises(llmplatform.ComponentInputError) as error:
        offline.run_function(lambda: llmplatform.GatewayAccess("edgeGateway", {"cluster": cluster_handle()},
                                                               provider_opts()))
    assert [e["property_path"] for e in error.value.errors] == ["name_prefix"]
    plan = offline.run_function(lambda: llmplatform.GatewayAccess(
        "edgeGateway", {"cluster": cluster_handle(), "name_prefix": "edge"}, provider_opts()))
    assert any(r.inputs["metadata"]["name"] == "edge-gateway" for r in plan.of_type("kubernetes:core/v1:Namespace"))


def test_no_listener_takes_routes_from_every_namespace(prod):
    """The plain-HTTP `acme` listener on the public IP took routes from All namespaces, so any namespace's HTTPRoute
    (no sectionName needed) was published on port 80 without TLS. cert-manager creates its HTTP-01 solver route in
    the Challenge's namespace, the Certificate's (the ClusterIssuer CRD's gatewayHTTPRoute: "create HTTPRoutes ...
    in the same namespace as the challenge"), which is the gateways' own: Same is all it needs."""
    gateways = {r.inputs["metadata"]["name"]: r.inputs for r in
                prod.of_type("kubernetes:gateway.networking.k8s.io/v1:Gateway")}
    for name, gw in gateways.items():
        for listener in gw["spec"]["listeners"]:
            assert listener["allowedRoutes"]["namespaces"]["from"] != "All", (name, listener["name"])
    acme = [lst for gw in gateways.values() for lst in gw["spec"]["listeners"] if lst["name"] == "acme"]
    assert acme and all(lst["allowedRoutes"]["namespaces"] == {"from": "Same"} for lst in acme)
    cert = prod.one("kubernetes:cert-manager.io/v1:Certificate").inputs["metadata"]
    assert {gw["metadata"]["namespace"] for gw in gateways.values()} == {cert["namespace"]}


# ---- the cluster identity's grants (AksCluster's subnet grant, GatewayAccess's address grants) ------------------

ROLE_ASSIGNMENT = "azure-native:authorization:RoleAssignment"


def cluster_identity_grants(plan) -> set[tuple[str, str]]:
    """(scope, role definition id) of every role assignment to the cluster's own identity (the principal id the
    stand-ins give the ManagedCluster's system-assigned identity: `cluster_principals`)."""
    principal = cluster_principals(plan.one("azure-native:containerservice:ManagedCluster"))[0]
    return {(r.inputs["scope"], r.inputs["roleDefinitionId"].rsplit("/", 1)[-1])
            for r in plan.of_type(ROLE_ASSIGNMENT) if r.inputs["principalId"] == principal}


def test_the_cluster_identity_holds_what_its_load_balancers_need_and_nothing_more(any_plan):
    """Read from the planned Services (ours and the ones Istio generates for the Gateways) what AKS's cloud provider
    reads, writes and joins on the cluster identity's behalf outside AKS's node group (tests/cloud_provider_grants.py,
    from cloud-provider-azure's source), and from the built-in roles' actions (vendored) the least role covering each
    scope: the planned grants are exactly those, each at the object itself and not at its group, save the group of
    the public IP, which the cloud provider LISTs (Reader, which writes nothing)."""
    from tests.cloud_provider_grants import builtin_roles, covers, allows, least_role, needs
    wanted = needs(any_plan)
    granted = cluster_identity_grants(any_plan)
    assert granted == {(scope, least_role(actions)) for scope, actions in wanted.items()}
    roles = builtin_roles()
    for scope, actions in wanted.items():  # and the comparison itself: every need is met by a grant
        assert all(any(covers(s, scope) and allows(roles[r], a) for s, r in granted) for a in actions)


def test_the_old_group_wide_network_contributor_fails_the_least_privilege_check(dev):
    """The grant this replaced (Network Contributor on the whole resource group) is refused by the same check."""
    from tests.cloud_provider_grants import group_id, least_role, needs
    wanted = {(scope, least_role(actions)) for scope, actions in needs(dev).items()}
    assert {role for scope, role in wanted if scope == group_id("rg-llmp-dev")} == {
        "acdd72a7-3385-48ef-bd42-f606fba81ae7"}  # Reader: the address lookup lists the group's public IPs
    assert sum("/publicIPAddresses/" in scope for scope, _ in wanted) == 1  # the address itself: read, write, join
    assert (group_id("rg-llmp-dev"), "4d97b98b-1d4f-4787-a291-c67834d212e7") not in wanted


def test_the_external_gateway_waits_for_its_address_grants_and_the_cluster_for_its_subnet_grant(dev):
    grants = {r.name: r for r in dev.of_type(ROLE_ASSIGNMENT)}
    external = next(r for r in dev.of_type("kubernetes:gateway.networking.k8s.io/v1:Gateway")
                    if r.inputs["metadata"]["name"] == "external-gateway")
    assert {grants["gateway-ip-group-reader"].urn, grants["gateway-ip-network"].urn} <= set(external.dependencies)
    assert grants["platform-cluster-subnet"].urn in dev.one("pulumi:providers:kubernetes").dependencies


def test_a_cluster_handle_without_its_identity_gets_no_address_grant():
    plan = offline.run_function(lambda: llmplatform.GatewayAccess("gw", {"cluster": cluster_handle()},
                                                                   provider_opts()))
    assert plan.of_type("azure-native:network:PublicIPAddress") and not plan.of_type(ROLE_ASSIGNMENT)



def _external_gateway(cluster):
    return llmplatform.GatewayAccess("gw", {"cluster": cluster, "external": True}, provider_opts())


def test_an_output_cluster_handle_that_names_its_identity_grants_it_the_address():
    """A handle another language or a stack reference hands over is one output: the grants are built before it
    resolves, and take the principal it carries."""
    import pulumi
    handle = {**cluster_handle(), "identity_principal_id": "44444444-4444-4444-4444-444444444444"}
    plan = offline.run_function(lambda: _external_gateway(pulumi.Output.from_input(handle)))
    grants = plan.of_type(ROLE_ASSIGNMENT)
    assert len(grants) == 2 and {g.inputs.get("principalId") for g in grants} == {handle["identity_principal_id"]}


@pytest.mark.parametrize("whole", [True, False], ids=["handle-an-output", "field-an-output"])
def test_an_output_cluster_identity_that_resolves_to_nothing_is_refused_not_granted_to_no_one(whole):
    """The grants were built while the handle (or its field) was an output; one that resolves without a principal
    was registered as a role assignment with none, which Azure refuses at deploy time (principalId is required):
    refused in the late checks' words, naming the field and both ways out."""
    import pulumi
    from llmplatform.testing import ProgramError
    def cluster():  # outputs are made in the program's loop
        if whole:
            return pulumi.Output.from_input(cluster_handle())  # no identity_principal_id in it
        return {**cluster_handle(), "identity_principal_id": pulumi.Output.from_input("")}
    with pytest.raises(ProgramError) as error:
        offline.run_function(lambda: _external_gateway(cluster()))
    message = str(error.value)
    empty = "nothing" if whole else "an empty value ('')"
    assert message.startswith(f"GatewayAccess gw: cluster.identity_principal_id: resolved to {empty}; give the "
                              "cluster identity's principal ID"), message
    assert "Traceback" not in message and "by hand" in message

# ---- Pod Security in istio-system ---------------------------------------------------------------------------------

def test_the_istiod_transcription_matches_the_pinned_template():
    from tests.istio_pods import SECURITY_CONTEXT_LINES, UNSET_KEYS
    template = (upstream_dir() / "charts" / "istiod" / "templates" / "deployment.yaml").read_text()
    assert SECURITY_CONTEXT_LINES in template
    assert template.count("securityContext:") == 1  # the container's; none on the pod
    assert not [k for k in UNSET_KEYS if k in template]
    kinds = ("emptyDir", "projected", "secret", "configMap", "hostPath", "csi", "nfs", "persistentVolumeClaim")
    volume_kinds = {key for line in template.split("      volumes:", 1)[1].splitlines()
                    for key in [line.strip().removeprefix("- ").rstrip(":")] if key in kinds}
    assert volume_kinds == {"emptyDir", "projected", "secret", "configMap"}


def test_pod_security_checks_catch_what_the_standards_refuse():
    from tests.pod_security import strictest_level, restricted_violations
    ok = {"containers": [{"name": "c", "securityContext": {
        "allowPrivilegeEscalation": False, "runAsNonRoot": True, "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"}}}], "volumes": [{"name": "t", "emptyDir": {}}]}
    assert strictest_level(ok) == "restricted"
    no_seccomp = copy.deepcopy(ok)
    del no_seccomp["containers"][0]["securityContext"]["seccompProfile"]
    assert restricted_violations(no_seccomp) == ["c: seccompProfile not RuntimeDefault/Localhost"]
    assert strictest_level(no_seccomp) == "baseline"
    assert strictest_level({**ok, "hostNetwork": True}) == "privileged"
    assert strictest_level({**ok, "volumes": [{"name": "h", "hostPath": {"path": "/"}}]}) == "privileged"
    escalating = copy.deepcopy(ok)
    escalating["containers"][0]["securityContext"]["capabilities"]["add"] = ["NET_ADMIN"]
    assert strictest_level(escalating) == "privileged"


def test_istio_system_enforces_the_strictest_level_its_pods_pass(any_plan):
    """Every pod in istio-system (istiod, as the pinned chart renders it with our values; and any the plan makes
    there itself) meets `restricted`, and the namespace enforces exactly that."""
    from tests.istio_pods import istiod_pod_spec
    from tests.pod_security import LEVELS, strictest_level
    from offline.pod_specs import pod_spec
    istiod = next(r for r in any_plan.helm_releases() if r.inputs["chart"] == "istiod")
    assert istiod.inputs["namespace"] == "istio-system"
    pods = [istiod_pod_spec(istiod.inputs["values"])]
    pods += [s for r in any_plan.kubernetes_objects() if r.inputs["metadata"].get("namespace") == "istio-system"
             for s in [pod_spec(r.inputs)] if s is not None]
    strictest = max((strictest_level(p) for p in pods), key=LEVELS.index)
    ns = next(r for r in any_plan.kubernetes_objects()
              if r.inputs["kind"] == "Namespace" and r.inputs["metadata"]["name"] == "istio-system")
    assert strictest == "restricted"
    assert ns.inputs["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == strictest
    assert not [r for r in any_plan.helm_releases() if r.inputs["namespace"] == "istio-system"
                and r.inputs["chart"] not in ("base", "istiod")]  # no istio-cni or ztunnel (they need privileged)


@pytest.mark.parametrize("stack", [*REGIONS, "prod-tls", "prod", "dev", "llmd"])
def test_services_sharing_a_public_ip_take_no_port_twice(stack):
    """Behind Front Door with TLS, the ACME Gateway's Service shares the external Gateway's static public IP (same
    azure-pip-name). Istio gives every Gateway's Service its status port 15021 besides the listeners' ports
    (extractServicePorts), and cloud-provider-azure refuses a Service whose port a rule of another Service on the same
    frontend already takes (checkLoadBalancerResourcesConflicts): with both carrying 15021 one of the two never got its
    rules, the certificate was never issued or the region never served. Read from the Services Istio generates
    (tests/istio_gateway.py) and the cloud provider's rule (tests/cloud_provider_frontends.py), not from our
    annotations."""
    from tests.cloud_provider_frontends import plan_port_conflicts
    plan = plan_for(stack) if stack in REGIONS else variant(stack)
    assert plan_port_conflicts(plan) == []


def test_the_acme_gateway_service_serves_port_80_alone_to_any_source_with_the_clients_address_kept():
    """What the cloud provider builds for the ACME Gateway: port 80 only (the status port taken out by the Gateway's
    parametersRef overlay), no service tag (Let's Encrypt publishes no addresses), the client address kept (the
    class's externalTrafficPolicy Local: a health probe of its own on its healthCheckNodePort); the external Gateway
    keeps its TLS ports and admits Front Door's service tag alone."""
    from tests.istio_gateway import api_server_refusal, plan_services
    services = plan_services(plan_for("prod-westeurope"))
    acme, external = services["acme-gateway"], services["external-gateway"]
    assert [p["port"] for p in acme["spec"]["ports"]] == [80] and api_server_refusal(acme) is None
    assert {p["port"] for p in external["spec"]["ports"]} == {15021, 443, 8443}
    tag = "service.beta.kubernetes.io/azure-allowed-service-tags"
    assert tag not in acme["metadata"]["annotations"] and external["metadata"]["annotations"][tag] == \
        "AzureFrontDoor.Backend"
    assert acme["spec"]["externalTrafficPolicy"] == external["spec"]["externalTrafficPolicy"] == "Local"


def test_the_service_overlay_model_deletes_merges_and_refuses_what_it_does_not_model():
    """The strategic merge the Istio model applies (apimachinery strategicpatch: a list merged by key)."""
    from tests.istio_gateway import strategic_merge
    service = {"spec": {"ports": [{"port": 15021, "name": "status-port"}, {"port": 80, "name": "acme"}]}}
    assert strategic_merge(service, {"spec": {"ports": [{"$patch": "delete", "port": 15021}]}}) == {
        "spec": {"ports": [{"port": 80, "name": "acme"}]}}
    assert strategic_merge(service, {"spec": {"ports": [{"port": 80, "nodePort": 30080}]}})["spec"]["ports"][1] == {
        "port": 80, "name": "acme", "nodePort": 30080}
    with pytest.raises(NotImplementedError):
        strategic_merge(service, {"spec": {"ports": [{"$patch": "replace"}]}})
    with pytest.raises(NotImplementedError):
        strategic_merge(service, {"spec": {"externalIPs": ["1.2.3.4"]}})


def _istio_allows(policies: list[dict[str, Any]], method: str, path: str, headers: dict[str, str]) -> bool:
    """Istio's evaluation of a request at a Gateway (tests/istio_gateway.py `authorizes`)."""
    from tests.istio_gateway import authorizes
    return authorizes(policies, method, path, headers)


@pytest.mark.parametrize("stack", ["prod-tls", *REGIONS])
def test_the_lets_encrypt_challenge_reaches_cert_managers_solver_and_the_certificate_serves_the_listeners(stack):
    """Follow the HTTP-01 challenge through what the plan makes, not through our own annotations: the HTTPRoute
    cert-manager v1.21.1 creates for a Challenge (pkg/issuer/acme/http/httproute.go: in the Challenge's namespace,
    the Certificate's; parentRefs copied from the issuer's gatewayHTTPRoute solver; hostnames the DNS name; an Exact
    match on /.well-known/acme-challenge/<token>) must attach to a plain-HTTP listener on port 80 (RFC 8555 8.3) that
    admits its namespace and name, on a Gateway whose Istio AuthorizationPolicies let Let's Encrypt's GET through
    (it carries no X-Azure-FDID) and whose generated Service takes port 80 from any source (no service tag, no source
    ranges: Let's Encrypt publishes no addresses). The Certificate's Secret is the one every HTTPS listener names, in
    its Gateway's namespace, for the listeners' host name (behind Front Door: the region's gatewayHostname output)."""
    from tests.istio_gateway import plan_services
    plan = plan_for(stack) if stack in REGIONS else variant(stack)
    certificate = plan.one("kubernetes:cert-manager.io/v1:Certificate").inputs
    namespace, dns_name = certificate["metadata"]["namespace"], certificate["spec"]["dnsNames"][0]
    solver = plan.one("kubernetes:cert-manager.io/v1:ClusterIssuer").inputs["spec"]["acme"]["solvers"]
    assert len(solver) == 1 and not solver[0].get("selector")
    route_parents = solver[0]["http01"]["gatewayHTTPRoute"]["parentRefs"]
    gateways = {(g.inputs["metadata"]["namespace"], g.inputs["metadata"]["name"]): g.inputs
                for g in plan.of_type("kubernetes:gateway.networking.k8s.io/v1:Gateway")}
    services = plan_services(plan)
    policies = [p.inputs["spec"] for p in plan.of_type(AUTHZ)]
    path = "/.well-known/acme-challenge/evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA"
    assert route_parents
    for ref in route_parents:
        assert ref.get("kind", "Gateway") == "Gateway" and ref.get("group", "gateway.networking.k8s.io") == \
            "gateway.networking.k8s.io"
        gateway = gateways[(ref.get("namespace", namespace), ref["name"])]
        listener = next(lr for lr in gateway["spec"]["listeners"] if lr["name"] == ref["sectionName"])
        assert (listener["protocol"], listener["port"]) == ("HTTP", 80)
        assert listener.get("hostname") in (None, dns_name)
        admitted = listener["allowedRoutes"]["namespaces"]
        assert admitted["from"] == "All" or (admitted["from"] == "Same" and gateway["metadata"]["namespace"] ==
                                             namespace), admitted
        targeting = [p for p in policies if any(t["kind"] == "Gateway" and t["name"] == ref["name"]
                                                for t in p.get("targetRefs", []))]
        assert _istio_allows(targeting, "GET", path, {}), (ref, targeting)
        assert not _istio_allows(targeting, "GET", "/v1/models", {}) or not targeting  # the policy still bites
        service = services[ref["name"]]
        annotations = service["metadata"]["annotations"]
        assert 80 in {p["port"] for p in service["spec"]["ports"]}
        assert "service.beta.kubernetes.io/azure-allowed-service-tags" not in annotations
        assert not service["spec"].get("loadBalancerSourceRanges")
    https = [(ns, lr) for (ns, _), g in gateways.items() for lr in g["spec"]["listeners"] if lr["protocol"] == "HTTPS"]
    assert https and all(lr["hostname"] == dns_name and ns == namespace and lr["tls"]["certificateRefs"] == [
        {"kind": "Secret", "name": certificate["spec"]["secretName"]}] for ns, lr in https)
    if stack in REGIONS:
        assert plan.outputs["gatewayHostname"] == dns_name


# What an upstream behind a Gateway can answer a model request (a POST generating tokens) with, each once the
# request reached it (docs/decisions.md, "what the platform answers, against what its clients do with it").
MODEL_ROUTE_ANSWERS = {
    429: "the gate's rate limit; llm-d's picker refusing a request (an ext_proc reply, ahead of the router)",
    500: "llm-d with no Ready vLLM pod; a model server's own error",
    502: "the gate: its upstream (interceptor, replica) refused or reset",
    503: "Ollama busy past OLLAMA_MAX_QUEUE, passed on by the gate; llm-d's picker past flow control's deadline",
    504: "the gate or the interceptor at a spent deadline (a generation still running, a cold start)",
}


def test_a_gateway_retries_a_request_only_when_it_never_reached_a_backend():
    """Istio gives every Gateway route without a retry policy its default one (2 retries; connect-failure,
    refused-stream, gRPC cancelled/unavailable, retriable-status-codes with no code: tests/istio_gateway.py, from
    istio 1.30.3 and Envoy's router). On every planned HTTPRoute, Envoy at the Gateway must not try a model request
    again once it reached a backend: an answer (429/5xx) or a reset after sending may mean a generation ran or is
    running, and a retry would run it again, add load to a server that said it is full, and make the client wait a
    deadline more. What it may retry (a connection never made) cost the backend nothing."""
    checked: dict[str, int] = {}
    for name in PLANNED:
        plan = planned(name)
        objects = plan.kubernetes_objects()
        assert not [o for o in objects if o.inputs["kind"] == "VirtualService"], "a VirtualService is not modelled"
        istiod = [r.inputs["values"] for r in plan.helm_releases() if r.inputs["chart"] == "istiod"]
        mesh = istiod[0].get("meshConfig") if istiod else None
        for route in plan.of_type("kubernetes:gateway.networking.k8s.io/v1:HTTPRoute"):
            for rule in route.inputs["spec"]["rules"]:
                if not rule.get("backendRefs"):
                    continue  # a redirect: Envoy answers it itself
                assert len(istiod) == 1, name
                policy = envoy_retry_policy(virtual_service_retries(rule), mesh)
                where = (name, route.inputs["metadata"]["name"])
                for status, what in MODEL_ROUTE_ANSWERS.items():
                    assert not envoy_retries(policy, status=status, headers={"content-type": "application/json"}), \
                        (*where, status, what)
                for reason in RESETS_AFTER_SENDING:
                    assert not envoy_retries(policy, reset=reason), (*where, reason)
                assert not envoy_retries(policy, reset=CONNECT_FAILURE, response_started=True)
                checked[name] = checked.get(name, 0) + 1
    assert set(PLANNED) - set(checked) == {"global"}  # every regional stack's routes (the global one has none)
    assert checked["llmd"] >= 4  # the API, UI, llm-d API and the pool's routes


def test_the_retry_transcription_follows_istios_own_cases():
    """tests/istio_gateway.py against istio 1.30.3's own expectations: pilot/pkg/config/kube/gateway/testdata/
    http.yaml(.golden) for the conversion, pilot/pkg/networking/core/route/retry/retry_test.go for ConvertPolicy; and
    Envoy's retry_on values read in retry_state_impl.cc. The cases that retry are ones the route test above fails on."""
    assert virtual_service_retries({"retry": {"attempts": 3, "backoff": "3ms", "codes": [503, 429]}}) == \
        {"attempts": 3, "retryOn": "connect-failure,refused-stream,unavailable,cancelled,503,429"}
    assert virtual_service_retries({"retry": {}}) == \
        {"attempts": 2, "retryOn": "connect-failure,refused-stream,unavailable,cancelled"}
    assert virtual_service_retries({"retry": {"attempts": 0}}) == {"attempts": 0, "retryOn": ""}
    assert virtual_service_retries({}) is None
    default = envoy_retry_policy(None, None)
    assert default == {"num_retries": 2, "codes": set(), "retry_on": {
        "connect-failure", "refused-stream", "unavailable", "cancelled", "retriable-status-codes"}}
    assert envoy_retry_policy({"attempts": 0, "retryOn": ""}, None) is None
    assert envoy_retry_policy({"attempts": 2, "retryOn": "some,fake,5xx,404,conditions,503"}, None) == {
        "num_retries": 2, "codes": {404, 503},
        "retry_on": {"some", "fake", "5xx", "conditions", "retriable-status-codes"}}
    assert envoy_retry_policy({"attempts": 2, "retryOn": "gateway-error,retriable-status-codes,503"}, None)[
        "codes"] == {503}
    assert envoy_retry_policy({"attempts": 2}, None)["retry_on"] == default["retry_on"]
    # the mesh default stands in for a route without one, and a route's own wins over it
    mesh = {"defaultHttpRetryPolicy": {"attempts": 1, "retryOn": "5xx"}}
    assert envoy_retry_policy(None, mesh)["retry_on"] == {"5xx"}
    assert envoy_retry_policy({"attempts": 2, "retryOn": "reset-before-request"}, mesh)["retry_on"] == {
        "reset-before-request"}
    # what each would do to a model request
    assert envoy_retries(default, reset=CONNECT_FAILURE)
    assert not envoy_retries(default, status=503) and not envoy_retries(default, reset="connection termination")
    assert envoy_retries(default, status=200, headers={"grpc-status": "14"})  # gRPC unavailable: no HTTP server's
    assert envoy_retries(envoy_retry_policy(virtual_service_retries({"retry": {"codes": [503]}}), None), status=503)
    assert envoy_retries(envoy_retry_policy(None, mesh), status=504)
    assert envoy_retries(envoy_retry_policy(None, mesh), reset="connection termination")
    assert not envoy_retries(envoy_retry_policy(None, mesh), status=503, headers={"x-envoy-ratelimited": "true"})
    reset_before = envoy_retry_policy({"attempts": 2, "retryOn": "reset-before-request"}, None)
    assert envoy_retries(reset_before, reset="remote reset", request_sent=False)
    assert not envoy_retries(reset_before, reset="remote reset")
    assert not envoy_retries(envoy_retry_policy(None, mesh), status=503, response_started=True)
    # a connection never made is retried under 5xx, gateway-error, reset and reset-before-request too: Envoy's
    # wouldRetryFromReset returns at a connection failure only when connect-failure is on, else reads on
    for retry_on in ("5xx", "gateway-error", "reset", "reset-before-request"):
        assert envoy_retries(envoy_retry_policy({"attempts": 1, "retryOn": retry_on}, None), reset=CONNECT_FAILURE)
    assert not envoy_retries(envoy_retry_policy({"attempts": 1, "retryOn": "retriable-4xx"}, None),
                             reset=CONNECT_FAILURE)


def test_a_protected_gateway_protects_its_public_ip_alone(prod):
    """`protect` in GatewayAccess's options protects the static public IP alone (its docstring: DNS points at it).
    The two grants to the cluster's identity on that address took it too (they set no `protect` of their own, so
    they inherited the component's: pulumi 3.272.0 resource.py "Infer protection from parent"). Their principalId is
    the cluster's system-assigned identity, force-new: a cluster made again ("The cluster lost" in
    docs/operations.md: the refresh drops it, `pulumi up` creates it) has a new one, and the engine refuses to replace
    what both the state and the program protect (pulumi/pulumi 1b5949891b step_generator.go `new.Protect &&
    old.Protect`), so prod's recovery stopped there; a replacement of the cluster itself, its protect lifted, stopped
    on them as dependents deleted first (`dependentResource.Protect`). The cluster is protected by itself now."""
    import pulumi
    handle = {**cluster_handle(), "identity_principal_id": "44444444-4444-4444-4444-444444444444"}
    plan = offline.run_function(lambda: llmplatform.GatewayAccess(
        "gw", {"cluster": handle, "external": True},
        pulumi.ResourceOptions.merge(provider_opts(), pulumi.ResourceOptions(protect=True))))
    assert sorted(r.type for r in plan.resources if r.custom and r.options["protect"]) == [
        "azure-native:network:PublicIPAddress"]
    assert len(plan.of_type(ROLE_ASSIGNMENT)) == 2
    # prod: nothing protected takes a value from the cluster, which a cluster made again changes
    cluster = prod.one("azure-native:containerservice:ManagedCluster")
    held = [r.name for r in prod.resources if r.options.get("protect")
            and any(cluster.urn in urns for urns in r.property_dependencies.values())]
    assert held == [], held
