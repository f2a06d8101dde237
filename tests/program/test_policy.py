"""The policy pack: every rule passes on the real resource it guards and fails on that resource made wrong; dev,
prod and llmd pass the whole pack; `make plan` refuses a plan with a mandatory violation."""
import copy
import dataclasses
import json

import pytest
from pulumi_policy import EnforcementLevel

from policy.policies import POLICIES
from offline import policy_check

from tests.conftest import PLANNED, plan_for, planned, variant, variant_or_stack


def by_name(name):
    return next(p for p in POLICIES if p.name == name)


def violations(policy, reg):
    found = []
    policy.validate(policy_check.validation_args(reg), lambda message, urn=None: found.append(message))
    return found


def real(plan_name, type_, name=None, where=lambda r: True):
    plan = variant_or_stack(plan_name)
    return next(r for r in plan.of_type(type_) if (name is None or r.name == name) and where(r))


def changed(reg, mutate, **options):
    inputs = copy.deepcopy(reg.inputs)
    mutate(inputs)
    return dataclasses.replace(reg, inputs=inputs, options={**reg.options, **options})


def _pod(inputs):
    return inputs["spec"]["template"]["spec"]


def _first_container(inputs):
    return _pod(inputs)["containers"][0]


GPU_POOL = ("dev", "azure-native:containerservice:AgentPool", "gpu-gpu")
PROD_GPU_POOL = ("prod", "azure-native:containerservice:AgentPool", "gpu-gpu")
OLLAMA = ("dev", "kubernetes:apps/v1:Deployment", "inference-ollama")
ROUTER_CM = ("dev", "kubernetes:core/v1:ConfigMap", "inference-router-config")
VAULT = ("dev", "azure-native:keyvault:Vault", None)
PROD_VAULT = ("prod", "azure-native:keyvault:Vault", None)
STORAGE = ("dev", "azure-native:storage:StorageAccount", None)
PG_SERVER = ("dev", "azure-native:dbforpostgresql:Server", None)
PG_TLS = ("dev", "azure-native:dbforpostgresql:Configuration", "postgres-require-secure-transport")
PROD_SHARE = ("prod", "azure-native:storage:FileShare", None)
PROD_AKS = ("prod", "azure-native:containerservice:ManagedCluster", None)
HELM = ("dev", "kubernetes:helm.sh/v3:Release", "gateway-istiod")
PROD_GATEWAY = ("prod", "kubernetes:gateway.networking.k8s.io/v1:Gateway", "gateway-external")
AUTHZ = "kubernetes:security.istio.io/v1:AuthorizationPolicy"
GROUP_READER = ("dev", "azure-native:authorization:RoleAssignment", "gateway-ip-group-reader")
READER_ID = "acdd72a7-3385-48ef-bd42-f606fba81ae7"


def _plain_http(inputs):
    """The external Gateway as prod built it before TLS: its ui and api listeners on HTTP, no ACME listener."""
    listeners = inputs["spec"]["listeners"]
    listeners[:] = [{"name": l["name"], "protocol": "HTTP", "port": {"ui": 80, "api": 8080}[l["name"]],
                     "allowedRoutes": l["allowedRoutes"]} for l in listeners if l["name"] in ("ui", "api")]

# (policy, the real resource, how to make it wrong, options to change)
CASES = [
    ("gpu-pools-autoscaled-and-tainted", GPU_POOL, lambda i: i.update(enableAutoScaling=False), {}),
    ("gpu-pools-autoscaled-and-tainted", GPU_POOL, lambda i: i.update(nodeTaints=[]), {}),
    ("gpu-pools-scale-to-zero", GPU_POOL, lambda i: i.update(minCount=1), {}),
    ("gpu-pools-scale-to-zero-prod", PROD_GPU_POOL, lambda i: i.update(minCount=2), {}),
    ("containers-have-requests-limits-and-pinned-images", OLLAMA,
     lambda i: _first_container(i).update(image="docker.io/ollama/ollama:latest"), {}),
    ("containers-have-requests-limits-and-pinned-images", OLLAMA,
     lambda i: _first_container(i)["resources"].pop("requests"), {}),
    ("containers-have-requests-limits-and-pinned-images", OLLAMA,
     lambda i: _first_container(i)["resources"]["limits"].pop("memory"), {}),
    ("no-privileged-containers", OLLAMA, lambda i: _first_container(i)["securityContext"].update(privileged=True), {}),
    ("no-privileged-containers", OLLAMA, lambda i: _pod(i).update(hostNetwork=True), {}),
    ("no-privileged-containers", OLLAMA,
     lambda i: _first_container(i)["securityContext"]["capabilities"].update(add=["NET_ADMIN"]), {}),
    ("no-secret-literals", OLLAMA,
     lambda i: _first_container(i)["env"].append({"name": "DB_PASSWORD", "value": "hunter2"}), {}),
    ("no-secret-literals", ROUTER_CM, lambda i: i["data"].update(api_key="abc"), {}),
    # a token pasted into a variable that should name its file is still a literal
    ("no-secret-literals", OLLAMA,
     lambda i: _first_container(i)["env"].append({"name": "HF_TOKEN_PATH", "value": "hf_abcdefghijklmnop"}), {}),
    ("key-vault-rbac", VAULT, lambda i: i["properties"].update(enableRbacAuthorization=False), {}),
    ("key-vault-purge-protection", PROD_VAULT, lambda i: i["properties"].pop("enablePurgeProtection"), {}),
    ("storage-tls-private-deny", STORAGE, lambda i: i.update(minimumTlsVersion="TLS1_0"), {}),
    ("storage-tls-private-deny", STORAGE, lambda i: i.update(allowBlobPublicAccess=True), {}),
    ("storage-tls-private-deny", STORAGE, lambda i: i["networkRuleSet"].update(defaultAction="Allow"), {}),
    ("postgres-private-and-tls", PG_SERVER, lambda i: i["network"].update(publicNetworkAccess="Enabled"), {}),
    ("postgres-private-and-tls", PG_TLS, lambda i: i.update(value="OFF"), {}),
    ("prod-stateful-protected", PROD_SHARE, lambda i: None, {"protect": False}),
    # a new workspace starts empty, Managed Grafana's dashboards are its users' own
    ("prod-stateful-protected", ("prod", "azure-native:operationalinsights:Workspace", None), lambda i: None,
     {"protect": False}),
    ("prod-stateful-protected", ("prod", "azure-native:monitor:AzureMonitorWorkspace", None), lambda i: None,
     {"protect": False}),
    ("prod-stateful-protected", ("prod-westeurope", "azure-native:dashboard:Grafana", None), lambda i: None,
     {"protect": False}),
    # a deleted cluster takes every object in it and AKS's node resource group with its claims' volumes; clients and
    # DNS point at the gateway's address
    ("prod-stateful-protected", PROD_AKS, lambda i: None, {"protect": False}),
    ("prod-stateful-protected", ("prod-swedencentral", "azure-native:network:PublicIPAddress", None), lambda i: None,
     {"protect": False}),
    # the users' uploaded files: a claim with a volume made for it takes the volume with it (reclaim `Delete`)
    ("prod-stateful-protected", ("prod", "kubernetes:core/v1:PersistentVolumeClaim", "inference-webui-uploads"),
     lambda i: None, {"protect": False}),
    ("prod-aks-hardened", PROD_AKS, lambda i: i.update(disableLocalAccounts=False), {}),
    ("prod-aks-hardened", PROD_AKS, lambda i: i["sku"].update(tier="Free"), {}),
    ("prod-aks-hardened", PROD_AKS, lambda i: i["agentPoolProfiles"][0].pop("availabilityZones"), {}),
    ("helm-releases-pinned", HELM, lambda i: i.update(version=""), {}),
    ("prod-public-gateway-https", PROD_GATEWAY, _plain_http, {}),
    ("helm-releases-pinned", HELM, lambda i: i.update(version="^1.30"), {}),
    # the gateway identity's Reader on its address's group made Owner there (a preview knows the role: the
    # subscription comes from getClientConfig)
    ("role-assignments-least-privilege", GROUP_READER, lambda i: i.update(
        roleDefinitionId=i["roleDefinitionId"].replace(READER_ID, "8e3af657-a8ff-443c-a75c-2fe8c4bcb635")), {}),
]


@pytest.mark.parametrize("policy_name, resource, mutate, options", CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_rule_passes_the_real_resource_and_fails_it_made_wrong(policy_name, resource, mutate, options):
    policy = by_name(policy_name)
    reg = real(*resource)
    assert violations(policy, reg) == [], "the real resource passes"
    found = violations(policy, changed(reg, mutate, **options))
    assert found and policy.description in found[0]  # each violation carries the rule's one-line reason


def test_a_gateway_without_tls_passes_only_when_private_or_answering_the_acme_challenge_alone():
    """An internal Gateway stays in the network, and the ACME Gateway of a region behind Front Door serves only the
    challenge listener: neither is the plain-HTTP public gateway the rule refuses. A regional prod gateway behind
    Front Door is no longer exempt (Front Door reaches it over HTTPS): without TLS it is refused like any other."""
    policy = by_name("prod-public-gateway-https")
    regional = {r.name: r for r in plan_for("prod-westeurope").of_type(PROD_GATEWAY[1])}
    assert violations(policy, regional["gateway-external"]) == [] and violations(policy, regional["gateway-acme"]) == []
    assert violations(policy, changed(regional["gateway-external"], _plain_http))  # the service tag exempts nothing
    serving = changed(regional["gateway-acme"], lambda i: i["spec"]["listeners"][0].update(
        allowedRoutes={"namespaces": {"from": "All"}}))  # any namespace's routes on plain HTTP: no longer the ACME's
    assert violations(policy, serving)
    internal = real("prod", PROD_GATEWAY[1], "gateway-internal")
    assert violations(policy, changed(internal, _plain_http)) == []


def test_llmd_pool_gateway_on_a_prod_stack_is_not_a_public_gateway():
    """LlmdStack's pool gateway is plain HTTP behind the API gate, and Istio gives it a ClusterIP Service (its
    `networking.istio.io/service-type` annotation: istio/istio pilot/pkg/config/kube/gatewaycommon/
    deploymentcontroller.go): no public address, so a prod stack running llm-d (a region behind the edge with
    `llmd.enabled`, as docs/components/global-endpoint-and-fleet.md plans it) passes; without the annotation Istio
    makes the class's LoadBalancer and the rule refuses it."""
    policy = by_name("prod-public-gateway-https")
    pool = real("llmd", PROD_GATEWAY[1], "llmd-pool-gateway")
    on_prod = dataclasses.replace(pool, urn=pool.urn.replace("urn:pulumi:llmd::", "urn:pulumi:prod::"))
    assert violations(policy, on_prod) == []
    assert violations(policy, changed(on_prod, lambda i: i["metadata"]["annotations"].pop(
        "networking.istio.io/service-type")))


def test_nonprod_purge_protection_is_advisory_and_passes_once_on():
    policy = by_name("key-vault-purge-protection-nonprod")
    reg = real(*VAULT)  # dev leaves it off on purpose: a torn-down vault name can be reused at once
    assert violations(policy, reg) and policy.enforcement_level == EnforcementLevel.ADVISORY
    assert violations(policy, changed(reg, lambda i: i["properties"].update(enablePurgeProtection=True))) == []


def test_stack_rule_flags_gpu_workloads_only_when_no_gpu_pool_is_planned():
    plan = variant("prod")  # Ollama on GPU
    stack_names = lambda p: [v.resource for v in policy_check.evaluate(p) if v.policy == "gpu-workloads-have-a-gpu-pool"]
    assert stack_names(plan) == []
    without_pools = dataclasses.replace(plan, resources=[r for r in plan.resources if not (
        r.type == "azure-native:containerservice:AgentPool" and str(r.inputs.get("vmSize")).startswith("Standard_N"))])
    assert "inference-ollama" in stack_names(without_pools)
    assert by_name("gpu-workloads-have-a-gpu-pool").enforcement_level == EnforcementLevel.ADVISORY


def test_an_azure_resource_refreshed_as_failed_fails_the_run_and_a_state_not_known_yet_does_not():
    """A stack policy reads outputs: a node pool Azure left Failed (refreshed as such, then sent nothing) ends the
    run red, naming it and the runbook; Succeeded passes; a preview's unknown state is no finding."""
    from pulumi_policy import PolicyResource, StackValidationArgs
    from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, unknown_checking_proxy
    plan = variant("prod")
    pool = next(r for r in plan.resources if r.type == "azure-native:containerservice:AgentPool")

    def verdicts(state):
        changed = dataclasses.replace(pool, inputs={**pool.inputs, "provisioningState": state})
        return [v for v in policy_check.evaluate(dataclasses.replace(
            plan, resources=[changed if r is pool else r for r in plan.resources]))
            if v.policy == "azure-resources-not-failed"]
    (failed,) = verdicts("Failed")
    assert failed.mandatory and failed.resource == pool.name and "docs/operations.md" in failed.message
    assert pool.inputs["agentPoolName"] in failed.message
    assert verdicts("Succeeded") == [] and verdicts("Updating") == []
    found = []
    unknown = PolicyResource("azure-native:containerservice:AgentPool",
                             unknown_checking_proxy({"provisioningState": UNKNOWN_STRING_VALUE}), "urn:x", "x",
                             None, None, None, [], {})
    by_name("azure-resources-not-failed").validate(StackValidationArgs([unknown]), lambda *a: found.append(a))
    assert found == []


def unprotected_secrets(plan, change=lambda reg: reg):
    """prod-generated-secrets-protected's findings on `plan`, each resource passed through `change` first."""
    found = []
    args = policy_check.stack_args(dataclasses.replace(plan, resources=[change(r) for r in plan.resources]))
    by_name("prod-generated-secrets-protected").validate(args, lambda message, urn=None: found.append(urn))
    return [urn.rsplit("::", 1)[-1] for urn in found]


def test_a_prod_program_with_an_unprotected_generated_secret_is_refused():
    """Prod protects every generated secret (the API key, Open-WebUI's, Grafana's, and the Key Vault secrets written
    from them): one left unprotected, as a program of one's own that protects only the stores, is refused; dev's
    unprotected ones pass."""
    bare = lambda names: lambda r: changed(r, lambda i: None, protect=False) if r.name in names else r
    assert unprotected_secrets(variant("prod")) == []
    assert unprotected_secrets(variant("prod"), bare({"inference-api-key"})) == ["inference-api-key"]
    assert unprotected_secrets(variant("prod-tls"), bare({"observability-grafana-password-secret"})) == [
        "observability-grafana-password-secret"]
    assert unprotected_secrets(variant("dev")) == []
    assert by_name("prod-generated-secrets-protected").enforcement_level == EnforcementLevel.MANDATORY


def test_the_edge_key_set_and_a_region_nobody_can_reach_yet_pass_unprotected_and_nothing_else():
    """Global's key set is unprotected on purpose (a key name removed deletes its password and secrets): exempt as
    GlobalEndpoint's, not as the global stack's (the same password parented elsewhere is refused). A region before
    its edge.frontDoorId leaves its gates' own keys unprotected (the join deletes them; api_key_replaceable), and
    nothing else: its external Gateway admits
    nobody (Istio's allow-nothing policy) and it passes; the moment that Gateway admits Front Door (the joined
    policy), or a second ALLOW policy with a rule targets it, the same keys are refused."""
    edge = plan_for("global")
    stack = next(r.urn for r in policy_check.stack_resources(edge) if r.type == policy_check.STACK_TYPE)
    assert unprotected_secrets(edge) == []
    assert unprotected_secrets(edge, lambda r: dataclasses.replace(r, parent=stack) if r.type.startswith(
        "random:") else r) == ["edge-api-key-clients-2026-11"]
    region = plan_for("prod-westeurope")
    assert unprotected_secrets(region) == []
    from llmplatform.gateway import front_door_policy
    joined = front_door_policy("external-gateway", "00000000-0000-0000-0000-0000000000fd", ["/healthz"])
    admitting = lambda r: changed(r, lambda i: i.update(spec=joined)) if r.name == "gateway-front-door-only" else r
    refused = unprotected_secrets(region, admitting)
    assert "inference-api-key" in refused and "inference-api-key-map-secret" in refused
    # protected from the start: Grafana's password, and Open-WebUI's (the join deletes no UI secret)
    assert "observability-grafana-password" not in refused and "inference-webui-secret-key-secret" not in refused
    policy = region.one(AUTHZ, "gateway-front-door-only")
    second = dataclasses.replace(policy, urn=policy.urn + "-probes", name="probes", inputs={
        **policy.inputs, "metadata": {**policy.inputs["metadata"], "name": "probes"}, "spec": joined})
    assert "inference-api-key" in unprotected_secrets(dataclasses.replace(region, resources=[*region.resources,
                                                                                            second]))


def test_a_region_waiting_for_its_edge_with_an_internal_gateway_too_passes():
    """gateway.mode both, which edge.globalStack admits (config/regions.py): before edge.frontDoorId the external
    Gateway admits nobody, the internal one serves the VNet with the gates' own keys, and the program leaves those
    unprotected all the same (the join deletes them). The internal Gateway is GatewayAccess's, as it makes it."""
    from llmplatform.gateway import lb_annotations
    region = plan_for("prod-westeurope")
    external = region.one("kubernetes:gateway.networking.k8s.io/v1:Gateway", "gateway-external")
    internal = changed(dataclasses.replace(external, urn=external.urn.replace("external", "internal"),
                                           name="gateway-internal"), lambda i: (
        i["metadata"].update(name="internal-gateway"),
        i["spec"].update(infrastructure={"annotations": lb_annotations("internal", "10.41.15.250", "", "")})))
    both = dataclasses.replace(region, resources=[*region.resources, internal])
    assert unprotected_secrets(both) == []


def test_a_region_whose_gateway_another_istio_policy_opens_is_not_waiting_for_its_edge():
    """Istio applies an ALLOW policy without targetRefs (a workload selector, or none: the whole namespace) in the
    Gateway's namespace or the root namespace to a Gateway API gateway's pods too (ShouldAttachPolicy, its selector
    fallback on by default): with a rule beside the rule-less front-door-only policy, clients get through and the
    region's keys must be protected. A rule-less one shuts nothing more: the region still passes; so does its
    front-door-only policy in the older single-`targetRef` form, which Istio reads as targetRefs (GetTargetRefs)."""
    region = plan_for("prod-westeurope")
    policy = region.one(AUTHZ, "gateway-front-door-only")
    namespace = policy.inputs["metadata"]["namespace"]
    rule = [{"from": [{"source": {"namespaces": ["monitoring"]}}]}]

    def beside(where, spec):
        extra = dataclasses.replace(policy, urn=policy.urn + "-extra", name="extra", inputs={
            **policy.inputs, "metadata": {"namespace": where, "name": "extra"}, "spec": spec})
        return unprotected_secrets(dataclasses.replace(region, resources=[*region.resources, extra]))
    assert "inference-api-key" in beside(namespace, {"action": "ALLOW", "rules": rule})
    assert "inference-api-key" in beside("istio-system", {"rules": rule})
    assert "inference-api-key" in beside(namespace, {"selector": {"matchLabels": {"app": "x"}}, "rules": rule})
    assert beside("other", {"rules": rule}) == beside(namespace, {"action": "ALLOW"}) == []
    legacy = {"targetRef": policy.inputs["spec"]["targetRefs"][0], "action": "ALLOW", "rules": []}
    assert unprotected_secrets(region, lambda r: changed(r, lambda i: i.update(spec=legacy)) if r is policy else r) \
        == []


def test_an_istio_dry_run_policy_neither_shuts_nor_opens_a_gateway():
    """A policy annotated `istio.io/dry-run` true is only logged, never enforced (istio/istio builder.go `isDryRun`,
    ParseBool): a dry-run rule-less front-door-only policy leaves the Gateway open (the region's keys must be
    protected), a dry-run policy with a rule beside the enforced one opens nothing; a value ParseBool refuses keeps
    the policy enforced."""
    region = plan_for("prod-westeurope")
    policy = region.one(AUTHZ, "gateway-front-door-only")
    annotated = lambda value: lambda r: changed(r, lambda i: i["metadata"].update(
        annotations={"istio.io/dry-run": value})) if r is policy else r
    assert "inference-api-key" in unprotected_secrets(region, annotated("true"))
    assert "inference-api-key" in unprotected_secrets(region, annotated("1"))
    assert unprotected_secrets(region, annotated("yes")) == unprotected_secrets(region, annotated("false")) == []
    extra = dataclasses.replace(policy, urn=policy.urn + "-extra", name="extra", inputs={
        **policy.inputs, "metadata": {"namespace": policy.inputs["metadata"]["namespace"], "name": "extra",
                                      "annotations": {"istio.io/dry-run": "True"}},
        "spec": {"rules": [{"from": [{"source": {"namespaces": ["monitoring"]}}]}]}})
    assert unprotected_secrets(dataclasses.replace(region, resources=[*region.resources, extra])) == []


def test_every_rule_has_a_failing_case_and_a_reason():
    # the global edge's rules have their cases in tests/components/test_front_door.py, on the global stack's real resources
    edge_rules = {"front-door-https-only", "front-door-minimum-tls", "waf-on-and-blocking-in-prod",
                  "fleet-upgrades-region-by-region", "front-door-endpoints-behind-waf",
                  "prod-front-door-origins-https"}
    configured = {"images-from-allowed-registries"}  # its cases below: it needs the pack's configuration
    assert {c[0] for c in CASES} | {"key-vault-purge-protection-nonprod", "gpu-workloads-have-a-gpu-pool",
                                    "azure-resources-not-failed", "prod-generated-secrets-protected",
                                    # its cases: tests/offline/test_pdns_privileged_namespace.py, on the llmd-pd plan
                                    "privileged-namespaces-hold-only-what-needs-it"} | \
        edge_rules | configured == {p.name for p in POLICIES}
    assert all(p.description and p.enforcement_level in (EnforcementLevel.MANDATORY, EnforcementLevel.ADVISORY)
               for p in POLICIES)


def test_a_documented_capability_exemption_passes():
    reg = real(*OLLAMA)
    vllm = changed(reg, lambda i: _first_container(i).update(
        name="vllm", securityContext={"capabilities": {"drop": ["ALL"], "add": ["IPC_LOCK"]}}))
    assert violations(by_name("no-privileged-containers"), vllm) == []


def test_a_postgres_firewall_rule_is_refused():
    reg = real(*PG_SERVER)
    rule = dataclasses.replace(reg, type="azure-native:dbforpostgresql:FirewallRule",
                               inputs={"startIpAddress": "0.0.0.0", "endIpAddress": "255.255.255.255"}, secret_paths=[])
    assert violations(by_name("postgres-private-and-tls"), rule)


@pytest.mark.parametrize("name", PLANNED)
def test_stacks_pass_the_whole_pack(name):
    """Every stack and every config variant (each a configuration a user may take) passes the whole pack."""
    mandatory = [v for v in policy_check.evaluate(planned(name)) if v.mandatory]
    assert mandatory == []


def test_plan_refuses_a_mandatory_violation(monkeypatch, capsys, tmp_path):
    from offline import plan as plan_cli
    from offline import runner as offline
    variant("dev")  # computed before the patch: the session cache computes it with the real `run`
    monkeypatch.setattr(offline, "run", lambda stack, **kwargs: variant(stack))  # the CLI path on a cached plan
    original = policy_check.evaluate
    monkeypatch.setattr(policy_check, "evaluate", lambda plan, given=None: original(plan, given) + [
        policy_check.Violation("helm-releases-pinned", True, "x", "unpinned")])
    assert plan_cli.main(["--stack", "dev", "--out", str(tmp_path)]) == 1
    captured = capsys.readouterr()
    assert "policy VIOLATION: [helm-releases-pinned]" in captured.out and "refuses this plan" in captured.err


def test_the_pack_entry_point_is_the_only_place_that_serves_it():
    """Importing the policies must not start the gRPC server (PolicyPack() does): the offline runner imports them."""
    from pathlib import Path
    from tests.conftest import PROJECT_DIR
    text = (PROJECT_DIR / "policy" / "policies.py").read_text()
    assert "PolicyPack(" not in text and "PolicyPack(" in (PROJECT_DIR / "policy" / "__main__.py").read_text()
    assert Path(PROJECT_DIR / "policy" / "PulumiPolicy.yaml").is_file()


def test_images_come_from_the_allowed_registries_once_the_pack_is_told_which():
    """--policy-pack-config {"images-from-allowed-registries": {"allowedRegistries": [...]}}; `make plan` writes it from
    cluster.imageRegistry. Unconfigured (its schema's default: none) it allows any registry."""
    from tests.conftest import MIRROR
    mirror = MIRROR["imageRegistry"]
    configured = {"images-from-allowed-registries": {"allowedRegistries": [mirror]}}

    def names(plan, given):
        return sorted({v.resource for v in policy_check.evaluate(plan, given)
                       if v.policy == "images-from-allowed-registries"})
    assert names(variant("prod-tls"), configured) == []  # every workload of the mirrored variant pulls from it
    assert names(variant("prod"), {}) == []
    upstream = names(variant("prod"), configured)
    assert "inference-ollama" in upstream and "inference-webui" in upstream
    ollama = real("prod-tls", "kubernetes:apps/v1:Deployment", "inference-ollama")
    planted = changed(ollama, lambda i: _first_container(i).update(image="docker.io/ollama/ollama:0.32.15"))
    found = []
    by_name("images-from-allowed-registries").validate(
        policy_check.validation_args(planted, policy_check.pack_config(configured)["images-from-allowed-registries"]),
        lambda message, urn=None: found.append(message))
    assert len(found) == 1 and "'docker.io/ollama/ollama:0.32.15' is not from " + mirror in found[0]
    # a misspelt key would allow every registry (the engine's schema check lets it through): refused instead
    typo = {"images-from-allowed-registries": {"allowedRegistry": [mirror]}}
    assert "inference-ollama" in names(variant("prod-tls"), typo)
    with pytest.raises(ValueError, match="properties only"):
        policy_check.pack_config({"all": "advisory"})
    # a registry under a path allows that path only
    path_config = {"images-from-allowed-registries": {"allowedRegistries": [f"{mirror}/other"]}}
    assert "inference-ollama" in names(variant("prod-tls"), path_config)


def test_a_gated_llm_d_model_whose_token_is_a_mounted_file_passes_the_pack(tmp_path, capsys):
    """llmd.hfTokenSecret (needed for gated models such as Llama 3.3 70B) mounts the token from Key Vault and points
    vLLM at it with HF_TOKEN_PATH, a file path: no secret literal. The pack refused every such plan."""
    from offline import plan as plan_cli
    code = plan_cli.main(["--stack", "llmd", "--out", str(tmp_path), "--set", "llmd.hfTokenSecret=hf-token"])
    out, err = capsys.readouterr()
    assert "policy VIOLATION" not in out + err and code == 0, (out + err)[-3000:]
    # that plan's Deployments as it registered them (resources.json: inputs, only secrets redacted)
    registered = json.loads((tmp_path / "llmd.what-if" / "resources.json").read_text())["resources"]
    env = [e for r in registered if r["type"] == "kubernetes:apps/v1:Deployment" for c in
           r["inputs"]["spec"]["template"]["spec"]["containers"] for e in c.get("env") or []]
    assert any(e["name"] == "HF_TOKEN_PATH" and e.get("value", "").startswith("/") for e in env)  # what was refused


def test_the_global_stacks_stores_are_held_to_prods_protect():
    """The global stack protects what a replacement or a delete would take from every region at once: its resource
    group, the Front Door profile (a new one has a new Front Door ID, which each region's gateway refuses), its
    endpoint (a new host name) and the edge's Log Analytics workspace (the WAF's and requests' logs so far); the pack
    holds them in a prod-named stack, as the regional stacks' workspaces. What a region's leaving or a key's rotation
    deletes (origins, routes, keys, the secrets they write) stays replaceable, and the pack asks nothing of it."""
    policy = by_name("prod-stateful-protected")
    edge = plan_for("global")
    held = {r.type for r in edge.resources if r.custom and r.options.get("protect")}
    assert held == {"azure-native:resources:ResourceGroup", "azure-native:cdn:Profile", "azure-native:cdn:AFDEndpoint",
                    "azure-native:operationalinsights:Workspace"}
    for type_ in sorted(held):
        store = real("global", type_)
        assert violations(policy, store) == [], type_
        assert violations(policy, changed(store, lambda i: None, protect=False)), type_
    replaceable = [r for r in edge.resources if r.custom and r.type not in held]
    assert {"azure-native:cdn:AFDOrigin", "azure-native:cdn:Route", "random:index/randomPassword:RandomPassword",
            "azure-native:keyvault:Secret"} <= {r.type for r in replaceable}
    assert all(r.options["protect"] is False and violations(policy, r) == [] for r in replaceable)
    regional = real("prod-westeurope", "azure-native:operationalinsights:Workspace")
    assert regional.options["protect"] is True and violations(policy, regional) == []
    assert violations(policy, changed(regional, lambda i: None, protect=False))


def test_the_global_stack_is_told_by_what_it_makes_not_by_its_name(tmp_path, monkeypatch):
    """The global stack is the stack file with a `global` key (config/regions.py `is_global`), named by its regions'
    `edge.globalStack`: config takes `prod-global`, which the pack holds to prod's rules by its name. Its edge
    workspace (GlobalEndpoint's, unprotected then, as its Front Door profile was) was refused by
    prod-stateful-protected, which exempted only a stack named `global`; and a platform stack named `global` (prod by
    name: config holds it to environment prod) had its own monitoring stores exempted. Whatever its name, the global
    stack now protects its edge workspace as the pack asks."""
    import yaml
    from config import regions
    from offline import runner as offline
    from tests.components.test_gateway import _regional
    from tests.conftest import PROJECT_DIR, REGIONS
    project = tmp_path / "project"
    project.mkdir()
    for region in REGIONS:
        raw = _regional(region)
        raw["edge"] = {**raw["edge"], "globalStack": "prod-global"}
        (project / f"Pulumi.{region}.yaml").write_text(yaml.safe_dump({"config": {
            f"aks-llm-platform:{k}": v for k, v in raw.items()}}))
    files = regions.project_stack_files
    monkeypatch.setattr(regions, "project_stack_files", lambda project_dir=None: files(project))
    edge = offline.run("prod-global", stack_file=PROJECT_DIR / "Pulumi.global.yaml",
                       references={r: plan_for(r) for r in REGIONS})
    edge_logs = next(r for r in edge.of_type("azure-native:operationalinsights:Workspace"))
    assert edge_logs.urn.startswith("urn:pulumi:prod-global::") and edge_logs.options["protect"] is True
    assert [v for v in policy_check.evaluate(edge) if v.mandatory] == []

    policy = by_name("prod-stateful-protected")
    for type_ in ("azure-native:operationalinsights:Workspace", "azure-native:monitor:AzureMonitorWorkspace",
                  "azure-native:dashboard:Grafana"):
        store = real("prod-westeurope", type_)
        named_global = dataclasses.replace(
            changed(store, lambda i: None, protect=False),
            urn=store.urn.replace("urn:pulumi:prod-westeurope::", "urn:pulumi:global::"),
            parent=store.parent.replace("urn:pulumi:prod-westeurope::", "urn:pulumi:global::"))
        assert violations(policy, named_global), type_


def test_a_claim_bound_to_a_volume_it_names_is_not_held_and_dev_claims_are_not_held():
    """The model share's claim names its volume (the static one over the Files share, `persistentVolumeReclaimPolicy`
    Retain): replacing it loses nothing, so prod leaves it unprotected and the pack asks nothing of it. A provisioned
    claim is held in prod only; and a prod claim made to name a volume with no class (`storageClassName: ""`, a
    volume no provisioner made) is no longer held."""
    policy = by_name("prod-stateful-protected")
    share_claim = real("prod", "kubernetes:core/v1:PersistentVolumeClaim", "models-pvc")
    assert share_claim.inputs["spec"]["volumeName"] and share_claim.options["protect"] is False
    assert violations(policy, share_claim) == []
    dev_uploads = real("dev", "kubernetes:core/v1:PersistentVolumeClaim", "inference-webui-uploads")
    assert "volumeName" not in dev_uploads.inputs["spec"] and violations(policy, dev_uploads) == []
    prod_uploads = real("prod", "kubernetes:core/v1:PersistentVolumeClaim", "inference-webui-uploads")
    named = changed(prod_uploads, lambda i: i["spec"].update(volumeName="pv-uploads", storageClassName=""),
                    protect=False)
    assert violations(policy, named) == []


HELD = ["stateful PersistentVolumeClaim is not protected (a `pulumi destroy` or a rename must never delete prod data)"]


def test_a_claim_naming_a_volume_of_a_storage_class_is_held_in_prod():
    """A claim that names a volume and a storage class may name one that class's provisioner made (a PersistentVolume
    made for an earlier claim, rebound): its reclaim policy is the class's, `Delete` for every class AKS ships, so the
    volume and its files go with the claim. Only `storageClassName: ""` with the volume named binds to a volume no
    provisioner made (a PersistentVolume made by hand, as the model share's): that claim holds nothing of its own. A
    claim cloned from another (`dataSource`) names no volume: it is provisioned, and held."""
    policy = by_name("prod-stateful-protected")
    prod_uploads = real("prod", "kubernetes:core/v1:PersistentVolumeClaim", "inference-webui-uploads")
    assert prod_uploads.inputs["spec"]["storageClassName"]
    rebound = changed(prod_uploads, lambda i: i["spec"].update(volumeName="pvc-0f3a"), protect=False)
    assert violations(policy, rebound) == HELD
    unclassed = changed(prod_uploads, lambda i: i["spec"].pop("storageClassName"), protect=False)
    unclassed = changed(unclassed, lambda i: i["spec"].update(volumeName="pvc-0f3a"), protect=False)
    assert violations(policy, unclassed) == HELD
    static = changed(prod_uploads, lambda i: i["spec"].update(volumeName="pv-uploads", storageClassName=""),
                     protect=False)
    assert violations(policy, static) == []
    cloned = changed(prod_uploads, lambda i: i["spec"].update(
        dataSource={"kind": "PersistentVolumeClaim", "name": "open-webui-data-old"}), protect=False)
    assert violations(policy, cloned) == HELD


def test_a_gpu_pools_node_count_is_told_as_a_whole_number():
    """The engine's wire carries every number as a double: a pool kept at one node is told as 1, not 1.0."""
    found = violations(by_name("gpu-pools-scale-to-zero"), changed(real(*GPU_POOL), lambda i: i.update(minCount=1.0)))
    assert [f.split(" (")[0] for f in found] == ["GPU pool gpu keeps 1 node(s) running"], found


def test_a_pod_of_ones_own_is_read_as_a_workload():
    """A bare Pod's containers are in its own spec (no template): each container rule reads them there."""
    deployment = real(*OLLAMA)
    pod = dataclasses.replace(changed(deployment, lambda i: i.update(
        kind="Pod", spec=copy.deepcopy(_pod(i)))), type="kubernetes:core/v1:Pod")
    for name in ("containers-have-requests-limits-and-pinned-images", "no-privileged-containers"):
        assert violations(by_name(name), pod) == [], name
    assert violations(by_name("containers-have-requests-limits-and-pinned-images"), changed(
        pod, lambda i: i["spec"]["containers"][0].update(image="docker.io/ollama/ollama:latest")))
    assert violations(by_name("no-privileged-containers"), changed(pod, lambda i: i["spec"].update(hostPID=True)))


def test_a_container_without_resources_or_a_security_context_is_told_not_raised():
    """Containers of one's own may leave out `resources`, `limits`, `securityContext` or its `capabilities`: the
    rules say what is missing (or nothing), never raise."""
    basics = by_name("containers-have-requests-limits-and-pinned-images")
    privilege = by_name("no-privileged-containers")
    bare = changed(real(*OLLAMA), lambda i: _first_container(i).pop("resources"))
    assert [f.split(" (")[0] for f in violations(basics, bare)] == [
        "container ollama has no cpu and memory requests", "container ollama has no memory limit"]
    unlimited = changed(real(*OLLAMA), lambda i: _first_container(i)["resources"].pop("limits"))
    assert [f.split(" (")[0] for f in violations(basics, unlimited)] == ["container ollama has no memory limit"]
    assert violations(privilege, changed(real(*OLLAMA), lambda i: _first_container(i).pop("securityContext"))) == []
    assert violations(privilege, changed(real(*OLLAMA), lambda i: _first_container(i)["securityContext"].pop(
        "capabilities"))) == []


def test_init_containers_and_a_cron_jobs_containers_are_held_to_the_rules():
    """An init container runs on the node as the others do, and a CronJob's pods come from its jobTemplate: each
    container rule reads them."""
    unpinned = lambda c: c.update(image="docker.io/ollama/ollama:latest")
    init = changed(real(*OLLAMA), lambda i: _pod(i).update(initContainers=[
        {**copy.deepcopy(_first_container(i)), "name": "warm"}]))
    assert violations(by_name("containers-have-requests-limits-and-pinned-images"), init) == []
    refused = violations(by_name("containers-have-requests-limits-and-pinned-images"),
                         changed(init, lambda i: unpinned(_pod(i)["initContainers"][0])))
    assert [f.split(" image")[0] for f in refused] == ["container warm"], refused
    deployment = real(*OLLAMA)
    cron = dataclasses.replace(changed(deployment, lambda i: i.update(kind="CronJob", spec={
        "schedule": "0 3 * * *", "jobTemplate": {"spec": {"template": copy.deepcopy(i["spec"]["template"])}}})),
        type="kubernetes:batch/v1:CronJob")
    assert violations(by_name("containers-have-requests-limits-and-pinned-images"), cron) == []
    assert violations(by_name("no-privileged-containers"), changed(cron, lambda i: i["spec"]["jobTemplate"]["spec"][
        "template"]["spec"]["containers"][0]["securityContext"].update(privileged=True)))


@pytest.mark.parametrize("name, value", [("DB_PASSWORD", "/hunter2"), ("HF_TOKEN_FILE", "/ hf_abcdefghijklmnop"),
                                         ("HF_TOKEN_PATH", "/run/secrets/hf token")])
def test_a_secret_literal_that_only_looks_like_a_path_is_refused(name, value):
    """Only a variable named for a file (`_PATH`, `_FILE`) whose value is an absolute path with no space is a
    mounted secret's path; a secret's own name with a leading slash, or a value with a space in it, is a literal."""
    reg = changed(real(*OLLAMA), lambda i: _first_container(i)["env"].append({"name": name, "value": value}))
    assert violations(by_name("no-secret-literals"), reg), (name, value)
    path = changed(real(*OLLAMA), lambda i: _first_container(i)["env"].append(
        {"name": "HF_TOKEN_PATH", "value": "/run/secrets/hf-token"}))
    assert violations(by_name("no-secret-literals"), path) == []


def test_a_claim_with_no_class_that_names_no_volume_is_held_in_prod():
    """`storageClassName: ""` without a volume named binds to whichever class-less volume is free: which one, and
    its reclaim policy, is not known from the claim, so it is held as a provisioned one is."""
    prod_uploads = real("prod", "kubernetes:core/v1:PersistentVolumeClaim", "inference-webui-uploads")
    unnamed = changed(prod_uploads, lambda i: i["spec"].update(storageClassName=""), protect=False)
    assert violations(by_name("prod-stateful-protected"), unnamed) == HELD


def _second_pool_without_zones(inputs):
    inputs["agentPoolProfiles"].append({**copy.deepcopy(inputs["agentPoolProfiles"][0]), "name": "extra",
                                        "availabilityZones": None})


def _acme_without(key):
    def edit(inputs):
        listener = inputs["spec"]["listeners"][0]
        if key == "namespaces":
            listener["allowedRoutes"].pop("namespaces")
        elif key in ("from", "from: null"):  # `from` absent, or null: pruned before defaulting (not nullable)
            listener["allowedRoutes"]["namespaces"] = {} if key == "from" else {"from": None}
        else:
            listener.pop("allowedRoutes")
    return edit


# a field a program of one's own may leave out: what the rule then says (None: it passes), never an exception
LEFT_OUT = [
    ("gpu-pools-autoscaled-and-tainted", GPU_POOL, lambda i: i.pop("nodeTaints"),
     "GPU pool gpu lacks the taint nvidia.com/gpu=present:NoSchedule"),
    ("key-vault-rbac", VAULT, lambda i: i.pop("properties"), "Key Vault does not use Azure RBAC authorisation"),
    ("key-vault-purge-protection", PROD_VAULT, lambda i: i.pop("properties"), "Key Vault has no purge protection"),
    ("storage-tls-private-deny", STORAGE, lambda i: i.pop("networkRuleSet"),
     "storage account network default is not Deny"),
    ("postgres-private-and-tls", PG_SERVER, lambda i: i.pop("network"),
     "PostgreSQL server has public network access"),
    ("prod-aks-hardened", PROD_AKS, lambda i: i.pop("sku"), "the Free tier has no uptime SLA"),  # AKS's default tier
    ("prod-aks-hardened", PROD_AKS, _second_pool_without_zones, None),  # the system pool's zones are what counts
    ("no-secret-literals", ROUTER_CM, lambda i: i.pop("data"), None),  # binaryData only
    ("no-secret-literals", OLLAMA, lambda i: _first_container(i)["env"].append({"name": "DB_PASSWORD", "value": ""}),
     None),  # an empty value holds no secret
    # the Gateway CRD's defaults (the API server writes them): `namespaces: {from: Same}`, still the ACME's alone
    ("prod-public-gateway-https", ("prod-westeurope", PROD_GATEWAY[1], "gateway-acme"), _acme_without("namespaces"),
     None),
    ("prod-public-gateway-https", ("prod-westeurope", PROD_GATEWAY[1], "gateway-acme"),
     _acme_without("allowedRoutes"), None),
    ("prod-public-gateway-https", ("prod-westeurope", PROD_GATEWAY[1], "gateway-acme"), _acme_without("from"), None),
    ("prod-public-gateway-https", ("prod-westeurope", PROD_GATEWAY[1], "gateway-acme"), _acme_without("from: null"),
     None),
    # the default makes only the ACME listener the ACME's: another name, or routes of other namespaces, are served
    ("prod-public-gateway-https", ("prod-westeurope", PROD_GATEWAY[1], "gateway-acme"),
     lambda i: i["spec"]["listeners"][0].update(name="http", allowedRoutes=None),
     "public Gateway acme-gateway serves plain HTTP only (http on 80)"),
    ("prod-public-gateway-https", ("prod-westeurope", PROD_GATEWAY[1], "gateway-acme"),
     lambda i: i["spec"]["listeners"][0].update(allowedRoutes={"namespaces": {"from": "Selector", "selector": {}}}),
     "public Gateway acme-gateway serves plain HTTP only (acme on 80)"),
    ("prod-public-gateway-https", PROD_GATEWAY, lambda i: (_plain_http(i), i["spec"].pop("infrastructure", None)),
     "public Gateway external-gateway serves plain HTTP only"),
    ("helm-releases-pinned", HELM, lambda i: i.pop("version"), "Helm release "),
]


@pytest.mark.parametrize("policy_name, resource, mutate, expected", LEFT_OUT,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(LEFT_OUT)])
def test_a_field_left_out_is_told_not_raised(policy_name, resource, mutate, expected):
    found = violations(by_name(policy_name), changed(real(*resource), mutate))
    assert (found == [] if expected is None else len(found) == 1 and found[0].startswith(expected)), found


def test_an_application_listener_beside_the_acme_one_is_a_public_plain_http_gateway():
    """Only a Gateway whose every listener is the ACME challenge's is exempt: one more plain-HTTP listener for
    any namespace's routes serves them in plain HTTP."""
    acme = real("prod-westeurope", PROD_GATEWAY[1], "gateway-acme")
    served = changed(acme, lambda i: i["spec"]["listeners"].append(
        {"name": "app", "port": 8080, "protocol": "HTTP", "allowedRoutes": {"namespaces": {"from": "All"}}}))
    found = violations(by_name("prod-public-gateway-https"), served)
    assert len(found) == 1 and found[0].startswith("public Gateway acme-gateway serves plain HTTP only"), found


@pytest.mark.parametrize("version, refused", [("latest", True), ("*", True), ("1.x", True), ("~1.30", True),
                                              ("1.30.2", False)])
def test_a_helm_release_needs_an_exact_chart_version(version, refused):
    reg = changed(real(*HELM), lambda i: i.update(version=version))
    assert bool(violations(by_name("helm-releases-pinned"), reg)) is refused


def test_the_gpu_pool_and_vault_rules_of_one_kind_of_stack_say_nothing_on_the_other():
    """Each of the twin rules applies to its own stacks only: a warm GPU node is refused outside prod and only
    reviewed in prod; purge protection is refused off in prod and only advised outside it, and only of a vault."""
    warm = lambda pool: changed(real(*pool), lambda i: i.update(minCount=1))
    names = lambda reg, *rules: [name for name in rules if violations(by_name(name), reg)]
    gpu_rules = ("gpu-pools-scale-to-zero", "gpu-pools-scale-to-zero-prod")
    assert names(warm(GPU_POOL), *gpu_rules) == ["gpu-pools-scale-to-zero"]
    assert names(warm(PROD_GPU_POOL), *gpu_rules) == ["gpu-pools-scale-to-zero-prod"]
    vault_rules = ("key-vault-purge-protection", "key-vault-purge-protection-nonprod")
    unprotected = changed(real(*PROD_VAULT), lambda i: i["properties"].pop("enablePurgeProtection"))
    assert names(unprotected, *vault_rules) == ["key-vault-purge-protection"]
    assert names(real(*VAULT), *vault_rules) == ["key-vault-purge-protection-nonprod"]
    assert names(real(*STORAGE), *vault_rules) == []


def test_the_edges_origin_rule_holds_prod_only():
    """prod-front-door-origins-https is prod's: the global stack's route forwarding plain HTTP is refused, the same
    route in a stack of another name is not (the edge's HTTPS-only rules hold everywhere)."""
    policy = by_name("prod-front-door-origins-https")
    route = changed(real("global", "azure-native:cdn:Route"), lambda i: i.update(forwardingProtocol="HttpOnly"))
    assert violations(policy, route)
    staging = dataclasses.replace(route, urn=route.urn.replace("urn:pulumi:global::", "urn:pulumi:edge-staging::"))
    assert violations(policy, staging) == []
