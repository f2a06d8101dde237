"""The policy pack run as `pulumi preview --policy-pack policy` runs it: an Analyzer plugin over gRPC, started by
the CLI's command line, fed every resource of every kind of stack as the engine marshals it. No RPC may fail, and
its verdicts must equal the offline runner's (`make plan`): one set of rules, two runners that provably agree."""
import copy
import dataclasses

import pytest

from policy.policies import POLICIES, RESOURCE_POLICIES, STACK_POLICIES, WORKLOADS
from tests.program.test_policy import CASES, changed, real
from offline import plugin_host, policy_check

from tests.conftest import VARIANTS, plan_for, preview_for, variant, variant_or_stack


@pytest.fixture(scope="module")
def analyzers():
    """One plugin process per stack name, as each `pulumi preview --stack X` starts its own."""
    started: dict[str, plugin_host.AnalyzerHost] = {}

    def get(plan):
        if plan.stack not in started:
            started[plan.stack] = plugin_host.AnalyzerHost(plan.project, plan.stack)
        return started[plan.stack]
    yield get
    for host in started.values():
        errors = host.engine.errors()
        stderr = host.close()
        assert not errors, errors
        assert "Traceback" not in stderr, stderr


def offline_verdicts(plan):
    """A policy that read a value not known yet (a preview) is a note with pulumi-policy's message alone, on the
    resource analyzed, or with no URN (the Stack's) for a stack policy."""
    described = {p.name: p.description for p in POLICIES}
    stack_policies = {p.name for p in STACK_POLICIES}
    resource, stack = set(), set()
    for v in policy_check.evaluate(plan):
        urn = v.urn or ("" if v.unjudged else next(r.urn for r in plan.resources if r.name == v.resource))
        verdict = (v.policy, v.mandatory, urn, v.message if v.unjudged else f"{described[v.policy]}\n{v.message}")
        (stack if v.policy in stack_policies else resource).add(verdict)
    return resource, stack


def plugin_verdicts(host, plan):
    # the engine puts a diagnostic of Analyze on the resource analyzed, whatever its URN (analyze_snapshot.go)
    resource = {(d.policy, d.mandatory, d.urn or reg.urn, d.message)
                for reg in policy_check.analyzed(plan) for d in host.analyze(reg, plan)}  # components, providers too
    stack = {(d.policy, d.mandatory, d.urn, d.message) for d in host.analyze_stack(plan)}
    return resource, stack


def test_the_plugin_lists_every_policy_with_its_enforcement(analyzers):
    info = analyzers(variant("dev")).info()
    assert info.name == "llm-platform-guardrails"
    listed = {p.name: p.enforcementLevel for p in info.policies}
    expected = {p.name: (1 if p.enforcement_level.value == "mandatory" else 0) for p in POLICIES}  # proto enum
    assert listed == expected


STACKS = ("dev", "prod", "llmd", "global")  # every stack file's kind (the regional stacks are prod's program)


@pytest.mark.parametrize("name", STACKS)
def test_every_resource_passes_through_the_analyzer_with_the_offline_verdicts(analyzers, name):
    plan = plan_for(name)
    assert plugin_verdicts(analyzers(plan), plan) == offline_verdicts(plan)


def _planted(plan):
    """The prod plan made wrong in ways each runner must see: an unpinned image on a secret-bearing workload, a GPU
    pool that keeps a node, and (stack-wide) GPU workloads with every GPU pool gone and the API key unprotected."""
    resources = []
    for reg in plan.resources:
        if reg.type == "azure-native:containerservice:AgentPool" and str(reg.inputs.get("vmSize")).startswith("Standard_N"):
            continue
        if reg.name == "inference-ollama":
            inputs = copy.deepcopy(reg.inputs)
            inputs["spec"]["template"]["spec"]["containers"][0]["image"] = "docker.io/ollama/ollama:latest"
            reg = dataclasses.replace(reg, inputs=inputs)
        if reg.name == "inference-api-key":
            reg = dataclasses.replace(reg, options={**reg.options, "protect": False})
        resources.append(reg)
    return dataclasses.replace(plan, resources=resources)


def test_planted_violations_get_the_same_verdicts_from_both_runners(analyzers):
    plan = _planted(variant("prod"))
    resource, stack = plugin_verdicts(analyzers(plan), plan)
    assert (resource, stack) == offline_verdicts(plan)
    assert any(v[0] == "containers-have-requests-limits-and-pinned-images" and v[1] for v in resource)
    assert any(v[0] == "gpu-workloads-have-a-gpu-pool" and "inference-ollama" in v[2] for v in stack)
    assert any(v[0] == "prod-generated-secrets-protected" and v[1] and v[2].endswith("::inference-api-key")
               for v in stack)


def test_every_policy_runs_in_the_plugin():
    assert {p.name for p in RESOURCE_POLICIES} | {p.name for p in STACK_POLICIES} == {p.name for p in POLICIES}


def test_the_pack_configured_as_the_engine_configures_it_agrees_with_the_offline_runner(analyzers):
    """`make plan` and `pulumi preview --policy-pack-config build/<stack>/policy-config.json` (the engine sends every
    policy its defaults and the file's properties over them) judge a mirrored stack alike, and a planted upstream
    image alike."""
    from offline.plan import policy_config
    from tests.conftest import MIRROR
    config = policy_config(MIRROR["imageRegistry"])
    plan = variant("prod-tls")
    planted = _planted(plan)
    host = analyzers(plan)  # the stack's plugin process, configured for this test and back after it
    host.configure(config)
    try:
        for p in (plan, planted):
            ours = {v for v in policy_check.evaluate(p, config) if v.policy == "images-from-allowed-registries"}
            theirs = {(d.policy, d.urn) for reg in p.resources if reg.type in WORKLOADS  # what the policy reads
                      for d in host.analyze(reg, p) if d.policy == "images-from-allowed-registries"}
            assert theirs == {(v.policy, v.urn) for v in ours}
        assert theirs and all(d[1].endswith("::inference-ollama") for d in theirs)  # the planted docker.io image
    finally:
        host.configure({})


def test_the_pack_runs_in_the_repositorys_virtualenv_as_the_language_host_starts_it(tmp_path):
    """PulumiPolicy.yaml names the virtualenv the Makefile fills (.venv): without one the language host would pick a
    python that may not have pulumi-policy; the offline host starts the pack with the one it names."""
    from tests.conftest import PROJECT_DIR
    assert plugin_host.pack_python(plugin_host.POLICY_DIR) == PROJECT_DIR / ".venv" / "bin" / "python"
    assert "VENV := .venv" in (PROJECT_DIR / "Makefile").read_text()
    (tmp_path / "PulumiPolicy.yaml").write_text("runtime: python\n")
    with pytest.raises(plugin_host.PluginError, match="names no virtualenv"):
        plugin_host.pack_python(tmp_path)
    (tmp_path / "PulumiPolicy.yaml").write_text("runtime:\n  name: python\n  options:\n    virtualenv: nowhere\n")
    with pytest.raises(plugin_host.PluginError, match="is not a virtualenv"):
        plugin_host.pack_python(tmp_path)


_PARENTS_PACK = '''from pulumi_policy import EnforcementLevel, PolicyPack, StackValidationPolicy


def parents(args, report_violation):
    for r in args.resources:
        if r.resource_type in ("kubernetes:apps/v1:Deployment", "llmplatform:index:AksCluster"):
            chain, parent = [], r.parent
            while parent is not None:
                chain.append(parent.resource_type)
                parent = parent.parent
            report_violation(" > ".join(chain) + " | " + ",".join(sorted(r.props)), r.urn)


def providers(args, report_violation):
    for r in args.resources:
        if r.resource_type.startswith("pulumi:providers:"):
            report_violation("provider " + repr(sorted(r.props.items())), r.urn)
        elif r.resource_type == "azure-native:resources:ResourceGroup":
            report_violation("run by " + (r.provider.urn if r.provider else "none"), r.urn)


PolicyPack(name="parents", policies=[StackValidationPolicy(name="parents", description="each resource's parents",
                                                           validate=parents,
                                                           enforcement_level=EnforcementLevel.ADVISORY),
                                     StackValidationPolicy(name="providers", description="providers",
                                                           validate=providers,
                                                           enforcement_level=EnforcementLevel.ADVISORY)])
'''


def test_a_stack_policy_is_handed_every_resource_with_its_parents_as_the_engine_hands_them(tmp_path):
    """AnalyzeStack gets every resource of the deployment (`step_generator.go` `AnalyzeResources` ranges over
    `deployment.news`): components with the outputs they registered, and the Stack. pulumi-policy links a
    resource's parent only to one it was handed, so with custom resources alone a stack policy saw no parent at all
    (a rule such as "a GPU workload belongs to an InferenceStack" would have judged nothing the engine judges). A
    planted pack, through the plugin, and the same function offline, see each Deployment's chain up to the Stack."""
    from tests.conftest import PROJECT_DIR
    (tmp_path / "PulumiPolicy.yaml").write_text(
        f"runtime:\n  name: python\n  options:\n    virtualenv: {PROJECT_DIR / '.venv'}\n")
    (tmp_path / "__main__.py").write_text(_PARENTS_PACK)
    plan = variant("dev")
    host = plugin_host.AnalyzerHost(plan.project, plan.stack, policy_dir=tmp_path)
    try:
        through_plugin = {d.urn: d.message.split("\n", 1)[1] for d in host.analyze_stack(plan)}  # less its description
        assert host.engine.errors() == []
    finally:
        assert "Traceback" not in host.close()
    offline_ = {}
    namespace: dict = {}
    exec(_PARENTS_PACK.split("\n\nPolicyPack(")[0], namespace)  # the pack's function, without serving it
    for policy in ("parents", "providers"):
        namespace[policy](policy_check.stack_args(plan), lambda message, urn: offline_.__setitem__(urn, message))
    assert through_plugin == offline_
    deployments = {u: m for u, m in through_plugin.items() if "kubernetes:apps/v1:Deployment::" in u}
    assert deployments and all(m.split(" | ")[0].endswith("> pulumi:pulumi:Stack") and
                               m.startswith("llmplatform:index:") for m in deployments.values()), deployments
    (aks,) = [m for u, m in through_plugin.items() if "llmplatform:index:AksCluster::" in u]
    assert aks.split(" | ")[1].split(",") == ["cluster", "cluster_name", "kubeconfig", "kubelet_identity_object_id",
                                              "node_resource_group", "oidc_issuer_url", "resource_group_name"], aks
    # The default providers the engine makes for the resources that name none are resources of the deployment,
    # handed over with their inputs (the version), and each such resource names its own as its provider
    # (default_providers.go `newRegisterDefaultProviderEvent`, providers.go `DefaultName`).
    from pulumi_azure_native import _utilities
    version = _utilities.get_version()
    default = f"urn:pulumi:dev::{plan.project}::pulumi:providers:azure-native::default_{version.replace('.', '_')}"
    assert through_plugin[default] == f"provider [('version', '{version}')]"
    (group,) = [u for u in through_plugin if "azure-native:resources:ResourceGroup::" in u]
    assert through_plugin[group] == f"run by {default}"
    assert [m[:10] for u, m in through_plugin.items() if u.endswith("pulumi:providers:kubernetes::platform-k8s")] \
        == ["provider ["]  # the program's own provider, as before


_DBR_PACK = '''from pulumi_policy import EnforcementLevel, PolicyPack, StackValidationPolicy


def delete_first(args, report_violation):
    for r in args.resources:
        if r.resource_type == "azure-native:storage:FileShare":
            report_violation(repr(r.opts.delete_before_replace), r.urn)


PolicyPack(name="dbr", policies=[StackValidationPolicy(name="dbr", description="deleteBeforeReplace",
                                                       validate=delete_first,
                                                       enforcement_level=EnforcementLevel.ADVISORY)])
'''


def test_a_policy_sees_an_explicit_delete_before_replace_false_as_set(tmp_path):
    """The engine hands a policy `deleteBeforeReplaceDefined` for a set option, true or an explicit false (pulumi/pulumi
    1b5949891b pkg/resource/plugin/analyzer_plugin.go `marshalResourceOptions`: `opts.DeleteBeforeReplace != nil`),
    and pulumi-policy 1.21.0 makes it `opts.delete_before_replace` (None only when unset). The pack host derived the
    flag from the bool, so a policy saw an explicit `delete_before_replace=False` as unset: through the plugin and
    offline, the three states of one resource type."""
    from tests.conftest import PROJECT_DIR
    (tmp_path / "PulumiPolicy.yaml").write_text(
        f"runtime:\n  name: python\n  options:\n    virtualenv: {PROJECT_DIR / '.venv'}\n")
    (tmp_path / "__main__.py").write_text(_DBR_PACK)
    plan = copy.deepcopy(variant("dev"))
    shares = [r for r in plan.resources if r.type == "azure-native:storage:FileShare"]
    assert shares
    share = shares[0]
    seen = {}
    for options, expected in (({"deleteBeforeReplace": False}, "None"),
                              ({"deleteBeforeReplace": False, "deleteBeforeReplaceDefined": True}, "False"),
                              ({"deleteBeforeReplace": True}, "True")):
        share.options = {**{k: v for k, v in share.options.items() if not k.startswith("deleteBeforeReplace")},
                         **options}
        host = plugin_host.AnalyzerHost(plan.project, plan.stack, policy_dir=tmp_path)
        try:
            through_plugin = {d.urn: d.message.split("\n", 1)[1] for d in host.analyze_stack(plan)}
            assert host.engine.errors() == []
        finally:
            assert "Traceback" not in host.close()
        offline_: dict = {}
        namespace: dict = {}
        exec(_DBR_PACK.split("\n\nPolicyPack(")[0], namespace)
        namespace["delete_first"](policy_check.stack_args(plan),
                                  lambda message, urn: offline_.__setitem__(urn, message))
        seen[expected] = (through_plugin[share.urn], offline_[share.urn])
    assert seen == {state: (state, state) for state in ("None", "False", "True")}


# ---- a pull request's `pulumi preview` of a new stack: values not known yet ---------------------------------------
# Every stack file's program as `pulumi preview` of the stack with nothing created yet (tests/conftest.py preview_for),
# a regional prod stack too (prod's program behind the edge). pulumi-policy stops a policy that reads a value not known
# yet and answers an advisory note for it (docs/decisions.md "The policy pack in a preview"): what each preview cannot
# judge, by design, and why.
WEBUI_ENV = ("no-secret-literals", "Open-WebUI's env is made in one apply on its endpoint's API (its variables differ "
             "for Ollama and OpenAI-compatible endpoints), not known before the gate exists; what a user adds there "
             "(extraEnv) OpenWebUi itself refuses when it looks like a secret, in the preview too")
REGION_EDGE = ("prod-generated-secrets-protected", "the Gateways and Istio policies of a cluster still to be created "
               "have no outputs in a preview, so whether the region waits for its edge (its keys left unprotected on "
               "purpose) cannot be told")
KV_SCOPE = ("role-assignments-least-privilege", "a Key Vault Secrets User grant's scope is the id of a secret (or "
            "a vault) this run creates, so whether it is one secret or the whole vault cannot be told")
# the grants each stack's identities get on one secret each (the gate's key map; the UI's and its bootstrap's)
UI_SECRETS = ("open-webui-kv-database-url", "webui-db-bootstrap-kv-database-url", "webui-db-bootstrap-kv-admin-url",
              "open-webui-kv-session-key")


def _kv_grants(prefix, *more):
    return {(KV_SCOPE[0], f"{prefix}-{grant}") for grant in (*UI_SECRETS, *more)}


UNJUDGED = {"dev": {(WEBUI_ENV[0], "inference-webui"), *_kv_grants("inference", "router-kv-reader")},
            "prod": {(WEBUI_ENV[0], "inference-webui"),
                     *_kv_grants("inference", "router-kv-reader", "open-webui-kv-admin-password")},
            "llmd": {(WEBUI_ENV[0], "llmd-webui"), *_kv_grants("llmd", "router-kv-reader"),
                     (KV_SCOPE[0], "inference-router-kv-reader")},
            "global": set(),
            "prod-westeurope": {(WEBUI_ENV[0], "inference-webui"), (REGION_EDGE[0], "prod-westeurope"),
                                *_kv_grants("inference", "router-kv-reader", "open-webui-kv-admin-password")}}


@pytest.mark.parametrize("name", sorted(UNJUDGED))
def test_a_new_stacks_preview_gets_the_same_verdicts_from_both_runners_and_refuses_nothing_up_passes(analyzers, name):
    """Inputs with the values a preview does not know yet, as the engine marshals them (`KeepUnknowns`), and each
    resource's outputs as its provider answers the preview's create: the plugin and the offline runner agree, the
    preview refuses nothing `up` passes (a PR gate refusing a sound change), and what it cannot judge is named."""
    plan = preview_for(name)
    assert plan.preview and any(r.unknown_paths for r in plan.resources)
    assert plugin_verdicts(analyzers(plan), plan) == offline_verdicts(plan)
    verdicts = policy_check.evaluate(plan)
    assert [v for v in verdicts if v.mandatory] == []
    assert {(v.policy, v.resource) for v in verdicts if v.unjudged} == UNJUDGED[name]
    assert all("can't be known during preview" in v.message for v in verdicts if v.unjudged)


def test_unknowns_reach_a_policy_where_the_preview_recorded_them():
    """The engine marshals a value not known yet as the wire's unknown (analyzer_plugin.go `KeepUnknowns`), which
    pulumi-policy's proxy raises on: at each recorded path, a key holding dots, a list item, a secret's value and a
    value the inputs lack (a hand-made registration: its container is there, its key, dots and all, is the rest of
    the path), and nowhere else."""
    from pulumi_policy.proxy import UnknownValueError
    from offline import wire
    from offline.runner import Registration
    from pulumi.output import Unknown
    reg = Registration(urn="urn:pulumi:dev::p::kubernetes:core/v1:ServiceAccount::sa", type="t", name="sa", parent="",
                       custom=True, secret_paths=["password"], dependencies=[], options={},
                       inputs={"metadata": {"annotations": {"azure.workload.identity/client-id": Unknown(), "k": "v"}},
                               "ids": ["a", Unknown()], "password": Unknown(), "spec": {"known": 1}},
                       unknown_paths=["metadata.annotations.azure.workload.identity/client-id", "ids[1]",
                                      "password.value", "spec.dropped.key"])
    sent = policy_check.wire_inputs(reg)
    assert sent == {"metadata": {"annotations": {"azure.workload.identity/client-id": wire.UNKNOWN, "k": "v"}},
                    "ids": ["a", wire.UNKNOWN], "password": {wire.SIG_KEY: wire.SECRET_SIG, "value": wire.UNKNOWN},
                    "spec": {"known": 1, "dropped.key": wire.UNKNOWN}}  # a dropped key: the rest of its path
    props = policy_check.analyzer_props(reg)
    assert props["metadata"]["annotations"]["k"] == "v" and props["spec"]["known"] == 1.0 and props["ids"][0] == "a"
    for read in (lambda: props["metadata"]["annotations"].get("azure.workload.identity/client-id"),
                 lambda: props["ids"][1], lambda: props.get("password"), lambda: props["spec"]["dropped.key"]):
        with pytest.raises(UnknownValueError):
            read()


def _preview_of(plan_name):
    stack, overrides = VARIANTS.get(plan_name, (plan_name, None))
    return preview_for(stack, overrides)


def _prod_resource(type_):
    return ("prod", type_, None)


# every rule's planted defect (tests/program/test_policy.py CASES) and prod's stores left unprotected
PLANTED = [*CASES,  # prod's model share and cluster among them
           *(("prod-stateful-protected", _prod_resource(t), lambda i: None, {"protect": False})
             for t in ("azure-native:dbforpostgresql:Server", "azure-native:keyvault:Vault"))]


def test_every_planted_defect_up_refuses_the_preview_refuses_too(analyzers):
    """Each defect planted in a resource of the `up` plan and in the same resource of the new stack's preview: the
    preview's verdict is the `up` plan's (the rule decides on what the preview knows), through the plugin as
    offline."""
    for policy_name, resource, mutate, options in PLANTED:
        up_reg = real(*resource)
        preview = _preview_of(resource[0])
        found = {}
        for kind, plan, reg in (("up", variant_or_stack(resource[0]), up_reg),
                                ("preview", preview, preview.by_urn(up_reg.urn))):
            wrong = changed(reg, mutate, **options)
            one = dataclasses.replace(plan, resources=[wrong])
            offline_ = {(v.mandatory, v.unjudged) for v in policy_check.evaluate(one) if v.policy == policy_name}
            through = {(d.mandatory, d.message.startswith("can't run policy"))
                       for d in analyzers(plan).analyze(wrong, one) if d.policy == policy_name}
            assert through == offline_, (policy_name, kind, resource)
            found[kind] = offline_
        assert found["up"] and all(not unjudged for _, unjudged in found["up"]), (policy_name, resource)
        assert found["preview"] == found["up"], (policy_name, resource, found)


def test_a_secret_variable_set_from_a_value_not_known_yet_is_refused_in_the_preview(analyzers):
    """A secret-named variable whose value comes from another resource (a generated password: not known in a preview)
    is in the object all the same: refused in the preview as its known value is in `up`; one named as a mounted
    file's path (`*_PATH`) may be a path, and is left to `up` (not judged). The one value as the SDK's `Unknown`, the
    other as a null the recording dropped (only its path kept): the plugin is sent both as unknowns."""
    from pulumi.output import Unknown
    preview = preview_for("dev")
    ollama = preview.one("kubernetes:apps/v1:Deployment", "inference-ollama")
    env = ollama.inputs["spec"]["template"]["spec"]["containers"][0]["env"]
    verdicts = {}
    for name, value in (("DB_PASSWORD", {}), ("HF_TOKEN_PATH", {"value": Unknown()})):
        wrong = changed(ollama, lambda i: i["spec"]["template"]["spec"]["containers"][0]["env"].append(
            {"name": name, **value}))
        wrong.unknown_paths = [*ollama.unknown_paths, f"spec.template.spec.containers[0].env[{len(env)}].value"]
        one = dataclasses.replace(preview, resources=[wrong])
        offline_ = {(v.mandatory, v.unjudged) for v in policy_check.evaluate(one) if v.policy == "no-secret-literals"}
        through = {(d.mandatory, d.message.startswith("can't run policy"))
                   for d in analyzers(preview).analyze(wrong, one) if d.policy == "no-secret-literals"}
        assert through == offline_
        verdicts[name] = offline_
    assert verdicts == {"DB_PASSWORD": {(True, False)}, "HF_TOKEN_PATH": {(False, True)}}


def test_the_planted_stack_wide_defects_are_refused_or_named_in_the_preview(analyzers):
    """prod's planted plan (an unpinned image, every GPU pool gone, the API key unprotected) and the edge with an
    endpoint no WAF policy covers: what `up` refuses the preview refuses. The unprotected key too: prod has no Istio
    ALLOW policy that could shut a Gateway, so its Gateways without outputs in the preview hide nothing (REGION_EDGE
    is a regional stack's)."""
    prod = _planted(preview_for("prod"))
    verdicts = policy_check.evaluate(prod)
    assert plugin_verdicts(analyzers(prod), prod) == offline_verdicts(prod)
    assert any(v.policy == "containers-have-requests-limits-and-pinned-images" and v.mandatory for v in verdicts)
    assert [(v.urn.rsplit("::", 1)[-1], v.mandatory, v.unjudged) for v in verdicts if v.policy == REGION_EDGE[0]] \
        == [("inference-api-key", True, False)]
    edge = preview_for("global")
    endpoint = next(r for r in edge.resources if r.type == "azure-native:cdn:AFDEndpoint")
    for plan in (edge, plan_for("global")):
        bare = dataclasses.replace(plan, resources=[r for r in plan.resources
                                                    if r.type != "azure-native:cdn:SecurityPolicy"])
        refused = {(v.urn, v.mandatory) for v in policy_check.evaluate(bare)
                   if v.policy == "front-door-endpoints-behind-waf"}
        assert refused == {(endpoint.urn, True)}, plan.preview
    assert {v.policy for v in policy_check.evaluate(edge) if v.policy == "front-door-endpoints-behind-waf"} == set()



def test_a_secret_under_a_key_with_dots_reaches_both_runners(analyzers):
    """A ConfigMap's `app.conf` (a key holding dots) set from a secret output, in `up` and in a preview where it is not
    known yet: the runners wrap it where it is (the recorded path `data.app.conf` splits on no dot of a key; it
    raised KeyError) and judge the object, no traceback; its secret-looking `api.token` refused both times."""
    import pulumi
    import pulumi_kubernetes as k8s
    import pulumi_random as random
    from llmplatform.testing import run
    from offline import wire

    def program():
        key = random.RandomPassword("key", length=16, opts=pulumi.ResourceOptions(protect=True))
        k8s.core.v1.ConfigMap("cm", data={"app.conf": pulumi.Output.secret(key.result), "api.token": "t"})
    for preview in (False, True):
        plan = run(program, stack="prod", preview=preview)
        cm = plan.one("kubernetes:core/v1:ConfigMap", "cm")
        assert cm.secret_paths == ["data.app.conf"]
        sent = policy_check.wire_inputs(cm)["data"]
        assert sent["app.conf"][wire.SIG_KEY] == wire.SECRET_SIG and sent["api.token"] == "t"
        assert (sent["app.conf"]["value"] == wire.UNKNOWN) == preview
        verdicts = {(v.policy, v.resource, v.mandatory) for v in policy_check.evaluate(plan)}
        assert ("no-secret-literals", "cm", True) in verdicts
        assert plugin_verdicts(analyzers(plan), plan) == offline_verdicts(plan)


def test_a_preview_judges_generated_secrets_where_no_istio_policy_could_shut_a_gateway():
    """prod-generated-secrets-protected in a preview whose Gateways have no outputs yet (their cluster still to be
    created): with no Istio policy in the stack nothing shuts them, so a bare key is refused as in `up`; with a policy
    that might (its outputs known or not) whether the region waits for its edge cannot be told: not judged."""
    from types import SimpleNamespace
    from pulumi_policy import PolicyResource, StackValidationArgs
    from pulumi_policy.proxy import UnknownValueError, unknown_checking_proxy
    from offline import wire
    from policy.policies import AUTHZ, GATEWAY, _generated_secrets_protected

    def resource(type_, name, props, protect=False):
        return PolicyResource(type_, props, f"urn:pulumi:prod-x::p::{type_}::{name}", name,
                              SimpleNamespace(protect=protect), None, None, [], {})
    stack = resource("pulumi:pulumi:Stack", "p-prod-x", {})
    key = resource("random:index/randomPassword:RandomPassword", "key", {"result": "x"})
    gateway = resource(GATEWAY, "external", {})
    target = {"kind": "Gateway", "name": "external-gateway"}
    shut = resource(AUTHZ, "front-door-only", {"metadata": {"namespace": "gw"}, "spec": {"targetRefs": [target]}})
    for policies, judged in (([], True), ([shut], False), ([resource(AUTHZ, "front-door-only", {})], False)):
        found = []
        args = StackValidationArgs([stack, key, gateway, *policies], None)
        if judged:
            _generated_secrets_protected(args, lambda message, urn: found.append(urn))
            assert found == [key.urn]
        else:
            with pytest.raises(UnknownValueError):
                _generated_secrets_protected(args, lambda message, urn: found.append(urn))
    # the region's Gateway known and shut by a policy without rules, beside a policy on it whose rules are not known
    # yet (they may admit clients): not judged, where the unknown policy was skipped and the region read as waiting
    facing = resource(GATEWAY, "external", {"metadata": {"namespace": "gw", "name": "external-gateway"},
                                            "spec": {"listeners": [{"name": "api", "port": 443, "protocol": "HTTPS"}]}})
    opened = resource(AUTHZ, "opened", unknown_checking_proxy({
        "metadata": {"namespace": "gw"}, "spec": {"targetRefs": [{"kind": "Gateway", "name": "external-gateway"}],
                                                   "rules": wire.UNKNOWN}}))
    found = []
    _generated_secrets_protected(StackValidationArgs([stack, key, facing, shut], None),
                                 lambda message, urn: found.append(urn))
    assert found == []  # waiting for its edge: the keys left to the join
    with pytest.raises(UnknownValueError):
        _generated_secrets_protected(StackValidationArgs([stack, key, facing, shut, opened], None),
                                     lambda message, urn: found.append(urn))


def test_a_pull_request_adding_an_endpoint_no_waf_policy_covers_is_refused_in_its_preview():
    """The edge's stack as it stands (its SecurityPolicy's domain ids known) and a pull request adding an endpoint
    to no association: in the preview the new endpoint's `name` and `profileName` are not known yet (azure-native's
    preview create), which no known id can name. Refused as `up` would refuse it (after creating it: a stack policy
    runs after the run), not left unjudged by a read of its name."""
    from pulumi_policy import PolicyResource, StackValidationArgs
    from pulumi_policy.proxy import unknown_checking_proxy
    from offline import wire
    from policy.policies import _endpoints_behind_waf
    existing = policy_check.stack_args(plan_for("global")).resources
    (endpoint,) = [r for r in existing if r.resource_type == "azure-native:cdn:AFDEndpoint"]
    added = PolicyResource(endpoint.resource_type, unknown_checking_proxy(
        {"name": wire.UNKNOWN, "profileName": wire.UNKNOWN, "hostName": wire.UNKNOWN, "enabledState": "Enabled"}),
        endpoint.urn.replace("::edge-endpoint", "::edge-endpoint-2"), "edge-endpoint-2", endpoint.opts,
        endpoint.provider, endpoint.parent, [], {})
    found = []
    _endpoints_behind_waf(StackValidationArgs([*existing, added], None), lambda message, urn: found.append(urn))
    assert found == [added.urn]
    # the same pull request adding the endpoint to the association too: the updated SecurityPolicy's preview
    # outputs (pulumi-azure-native `Update` with `Preview`: its inputs projected) hold the known id and one not
    # known yet, its `parameters` depending on both endpoints; passes, as `up` will
    (policy,) = [r for r in existing if r.resource_type == "azure-native:cdn:SecurityPolicy"]
    parameters = policy_check.stack_properties(
        next(r for r in plan_for("global").resources if r.urn == policy.urn))["parameters"]
    parameters["associations"][0]["domains"].append({"id": wire.UNKNOWN})
    updated = PolicyResource(policy.resource_type, unknown_checking_proxy({"parameters": parameters,
                                                                          "profileName": policy.props["profileName"]}),
                             policy.urn, policy.name, policy.opts, policy.provider, policy.parent, [],
                             {"parameters": [*policy.property_dependencies["parameters"], added]})
    found = []
    _endpoints_behind_waf(StackValidationArgs([*(r for r in existing if r is not policy), added, updated], None),
                          lambda message, urn: found.append(urn))
    assert found == []


def test_a_gateway_with_https_passes_its_preview_whatever_its_annotations(analyzers):
    """prod-public-gateway-https reads the listeners first: a Gateway serving HTTPS passes in a preview where its load
    balancer annotations are one value not known yet (a map made in an apply), and a plain-HTTP one there is not
    judged (internal or not cannot be told), through the plugin as offline."""
    from pulumi.output import Unknown
    preview = preview_for("prod")
    gateway = preview.one("kubernetes:gateway.networking.k8s.io/v1:Gateway", "gateway-external")
    verdicts = {}
    for label, listeners in (("https", None), ("http", [{"name": "ui", "port": 80, "protocol": "HTTP"}])):
        def mutate(i, listeners=listeners):
            i["spec"]["infrastructure"]["annotations"] = Unknown()
            if listeners:
                i["spec"]["listeners"] = listeners
        wrong = changed(gateway, mutate)
        wrong.unknown_paths = ["spec.infrastructure.annotations"]
        one = dataclasses.replace(preview, resources=[wrong])
        offline_ = {(v.mandatory, v.unjudged) for v in policy_check.evaluate(one)
                    if v.policy == "prod-public-gateway-https"}
        through = {(d.mandatory, d.message.startswith("can't run policy"))
                   for d in analyzers(preview).analyze(wrong, one) if d.policy == "prod-public-gateway-https"}
        assert through == offline_
        verdicts[label] = offline_
    assert verdicts == {"https": set(), "http": {(False, True)}}


def test_a_claim_of_a_class_named_by_another_resource_is_judged_in_the_preview(analyzers):
    """prod-stateful-protected on a claim whose storageClassName comes from another resource (not known in a
    preview): a class not known yet is a class, so the claim is a provisioned one and must be protected, refused in
    the preview as in `up` (it raised, and the preview left it unjudged)."""
    import pulumi_kubernetes as k8s
    import pulumi_random as random
    from llmplatform.testing import run

    def program():
        cls = random.RandomString("cls", length=6, special=False, upper=False)
        k8s.core.v1.PersistentVolumeClaim("data", spec=k8s.core.v1.PersistentVolumeClaimSpecArgs(
            storage_class_name=cls.result, access_modes=["ReadWriteOnce"],
            resources=k8s.core.v1.VolumeResourceRequirementsArgs(requests={"storage": "1Gi"})))
    for preview in (False, True):
        plan = run(program, stack="prod", preview=preview)
        assert (plan.one("kubernetes:core/v1:PersistentVolumeClaim", "data").unknown_paths != []) == preview
        verdicts = {(v.policy, v.resource, v.mandatory, v.unjudged) for v in policy_check.evaluate(plan)
                    if v.policy == "prod-stateful-protected"}
        assert verdicts == {("prod-stateful-protected", "data", True, False)}, preview
        assert plugin_verdicts(analyzers(plan), plan) == offline_verdicts(plan)


def _edge_program(domains_of, custom_domain=False, made_in_an_apply=None):
    """A Front Door edge written as a program would: a profile, endpoints `a` and `b` (and a custom domain `c` served
    by a route, with `custom_domain`), a WAF policy and one SecurityPolicy whose association's domains are
    `domains_of(a, b, c)`; with `made_in_an_apply` ("domains" or "parameters") that input is made in an apply over
    the ids, so a preview knows it not at all (the wire's unknown in place of the list or of the whole object)."""
    import pulumi
    import pulumi_azure_native.cdn as cdn
    import pulumi_azure_native.frontdoor as frontdoor

    def program():
        rg = "rg-edge"
        profile = cdn.Profile("profile", profile_name="afd-edge", resource_group_name=rg, location="Global",
                              sku=cdn.SkuArgs(name="Premium_AzureFrontDoor"))
        a, b = (cdn.AFDEndpoint(name, endpoint_name=name, profile_name=profile.name, resource_group_name=rg,
                                location="Global") for name in ("a", "b"))
        c = None
        if custom_domain:
            c = cdn.AFDCustomDomain("c", custom_domain_name="c", host_name="llm.example.com",
                                    profile_name=profile.name, resource_group_name=rg,
                                    tls_settings=cdn.AFDDomainHttpsParametersArgs(
                                        certificate_type="ManagedCertificate", minimum_tls_version="TLS12"))
            group = cdn.AFDOriginGroup("g", origin_group_name="g", profile_name=profile.name,
                                       resource_group_name=rg)
            cdn.Route("r", route_name="r", endpoint_name=a.name, profile_name=profile.name, resource_group_name=rg,
                      origin_group=cdn.ResourceReferenceArgs(id=group.id),
                      custom_domains=[cdn.ActivatedResourceReferenceArgs(id=c.id)])
        waf = frontdoor.Policy("waf", policy_name="wafedge", resource_group_name=rg, location="Global",
                               sku=frontdoor.SkuArgs(name="Premium_AzureFrontDoor"),
                               policy_settings=frontdoor.PolicySettingsArgs(enabled_state="Enabled",
                                                                            mode="Prevention"))
        def parameters(waf_id, ids):
            return cdn.SecurityPolicyWebApplicationFirewallParametersArgs(
                type="WebApplicationFirewall", waf_policy=cdn.ResourceReferenceArgs(id=waf_id),
                associations=[cdn.SecurityPolicyWebApplicationFirewallAssociationArgs(
                    domains=ids if isinstance(ids, pulumi.Output) else [
                        cdn.ActivatedResourceReferenceArgs(id=i) for i in ids], patterns_to_match=["/*"])])
        ids = domains_of(a, b, c)
        if made_in_an_apply == "domains":
            made = pulumi.Output.all(*ids).apply(lambda known: [cdn.ActivatedResourceReferenceArgs(id=i)
                                                                for i in known])
            given = parameters(waf.id, made)
        elif made_in_an_apply == "parameters":
            given = pulumi.Output.all(waf.id, *ids).apply(lambda known: parameters(known[0], known[1:]))
        else:
            given = parameters(waf.id, ids)
        cdn.SecurityPolicy("waf-association", security_policy_name="waf", profile_name=profile.name,
                           resource_group_name=rg, parameters=given)
    return program


def _waf_refusals(plan):
    return sorted((v.urn.rsplit("::", 1)[-1], v.mandatory, v.unjudged) for v in policy_check.evaluate(plan)
                  if v.policy == "front-door-endpoints-behind-waf")


@pytest.mark.parametrize("case", ["one id for two endpoints", "a custom domain left out", "both covered"])
def test_a_new_edges_preview_refuses_a_domain_no_waf_association_can_name(analyzers, case):
    """A fresh stack's preview knows no domain id, only what each SecurityPolicy's `parameters` depend on (the
    engine's property dependencies). An id not known yet names one domain: an association naming "the first
    endpoint's id" (one id made from both endpoints' ids) leaves one endpoint open, and a custom domain a route serves
    but no association lists is open; `up` refuses both, and the preview did not (every endpoint the parameters
    depended on counted as covered, custom domains were not looked at). A program covering every domain passes both."""
    import pulumi
    from llmplatform.testing import run
    program = {
        "one id for two endpoints": _edge_program(lambda a, b, c: [pulumi.Output.all(a.id, b.id).apply(
            lambda ids: ids[0])]),
        "a custom domain left out": _edge_program(lambda a, b, c: [a.id, b.id], custom_domain=True),
        "both covered": _edge_program(lambda a, b, c: [a.id, b.id, c.id], custom_domain=True),
    }[case]
    up, preview = run(program, stack="global"), run(program, stack="global", preview=True)
    assert preview.preview and not up.preview
    expected = {"one id for two endpoints": ({("b", True, False)}, {("waf-association", True, False)}),
                "a custom domain left out": ({("c", True, False)}, {("c", True, False)}),
                "both covered": (set(), set())}[case]
    assert (set(_waf_refusals(up)), set(_waf_refusals(preview))) == expected
    for plan in (up, preview):
        assert plugin_verdicts(analyzers(plan), plan) == offline_verdicts(plan)


def test_the_waf_rule_matches_ids_to_domains_of_their_kind_and_profile_and_counts_ids_not_known_yet():
    """Known ids name a domain of their kind (`customDomains/edge` is no endpoint `edge`); an id not known yet names
    one domain of those its SecurityPolicy's `parameters` depend on, not one a known profile puts elsewhere, and one
    id is counted once however many policies' dependencies share a domain (the group refused names them all)."""
    from types import SimpleNamespace
    from pulumi_policy import PolicyResource, StackValidationArgs
    from pulumi_policy.proxy import unknown_checking_proxy
    from offline import wire
    from policy.policies import _endpoints_behind_waf

    def resource(type_, name, props, depends=()):
        return PolicyResource(f"azure-native:cdn:{type_}", unknown_checking_proxy(props),
                              f"urn:pulumi:global::p::azure-native:cdn:{type_}::{name}", name,
                              SimpleNamespace(protect=False), None, None, [],
                              {"parameters": list(depends)} if depends else {})

    def endpoint(name, profile=wire.UNKNOWN):
        return resource("AFDEndpoint", name, {"name": name if profile != wire.UNKNOWN else wire.UNKNOWN,
                                              "profileName": profile})

    def policy(name, ids, depends, profile=wire.UNKNOWN):
        return resource("SecurityPolicy", name, {"profileName": profile, "parameters": {
            "associations": [{"domains": [{"id": i} for i in ids]}]}}, depends)

    def refused(*resources):
        found = []
        _endpoints_behind_waf(StackValidationArgs(list(resources), None),
                              lambda message, urn: found.append((urn.rsplit("::", 1)[-1], message)))
        return found
    arm = "/subscriptions/0/resourceGroups/rg/providers/Microsoft.Cdn/profiles/afd/{}/edge"
    edge = endpoint("edge", "afd")
    assert refused(edge, policy("p", [arm.format("afdEndpoints")], [])) == []
    assert [u for u, _ in refused(edge, policy("p", [arm.format("customDomains")], []))] == ["edge"]
    a, b, c = endpoint("a"), endpoint("b"), endpoint("c")
    assert refused(a, b, policy("p", [wire.UNKNOWN, wire.UNKNOWN], [a, b])) == []
    assert [u for u, _ in refused(a, b, c, policy("p", [wire.UNKNOWN], [a, b]),
                                  policy("q", [wire.UNKNOWN], [a, b]))] == ["c"]
    (group,) = refused(a, b, c, policy("p", [wire.UNKNOWN], [a, b, c]), policy("q", [wire.UNKNOWN], [a, b, c]))
    assert group[0] == "p" and all(f"endpoint {n}" in group[1] for n in "abc"), group
    # a profile known on both sides: an endpoint of another profile is not among an unknown id's domains
    elsewhere = endpoint("d", "afd-other")
    assert [u for u, _ in refused(elsewhere, policy("p", [wire.UNKNOWN], [elsewhere], profile="afd"))] == ["d"]
    assert refused(elsewhere, policy("p", [wire.UNKNOWN], [elsewhere])) == []


@pytest.mark.parametrize("made_in_an_apply", ["domains", "parameters"])
@pytest.mark.parametrize("case", ["an endpoint left out", "both covered"])
def test_a_waf_association_made_in_an_apply_is_judged_in_a_new_edges_preview(analyzers, made_in_an_apply, case):
    """An association's `domains` (or the whole `parameters`) made in an apply over the endpoints' ids is the wire's
    unknown in a fresh preview: how many ids it holds is not known, but only the domains its `parameters` depend on
    can be among them. Reading it stopped the whole rule (pulumi-policy's "can't run policy" note for the stack), so
    an endpoint no SecurityPolicy depends on at all passed the preview that `up` refuses, and a program covering
    both endpoints got a note instead of a pass. Now: the endpoint left out is refused in both, the covered
    program passes both, through both runners."""
    import pulumi
    from llmplatform.testing import run
    domains_of = {"an endpoint left out": lambda a, b, c: [a.id], "both covered": lambda a, b, c: [a.id, b.id]}[case]
    program = _edge_program(domains_of, made_in_an_apply=made_in_an_apply)
    up, preview = run(program, stack="global"), run(program, stack="global", preview=True)
    expected = {"an endpoint left out": [("b", True, False)], "both covered": []}[case]
    assert (_waf_refusals(up), _waf_refusals(preview)) == (expected, expected)
    for plan in (up, preview):
        assert plugin_verdicts(analyzers(plan), plan) == offline_verdicts(plan)


def _waf_resource(type_, name, props, depends=()):
    from types import SimpleNamespace
    from pulumi_policy import PolicyResource
    from pulumi_policy.proxy import unknown_checking_proxy
    return PolicyResource(f"azure-native:cdn:{type_}", unknown_checking_proxy(props),
                          f"urn:pulumi:global::p::azure-native:cdn:{type_}::{name}", name,
                          SimpleNamespace(protect=False), None, None, [],
                          {"parameters": list(depends)} if depends else {})


def _waf_found(*resources):
    from pulumi_policy import StackValidationArgs
    from policy.policies import _endpoints_behind_waf
    found = []
    _endpoints_behind_waf(StackValidationArgs(list(resources), None),
                          lambda message, urn: found.append((urn.rsplit("::", 1)[-1], message)))
    return found


def test_the_waf_rule_reports_each_domain_once_where_ids_not_known_yet_run_short():
    """Three new endpoints and one id not known yet that any of them may be: one group is short (Hall's condition
    fails for all three together), refused once on the SecurityPolicy naming each endpoint once. The groups were
    searched from each domain left over apart, so `a` (matched) was named in two refusals, one with `b`, one with
    `c`, each saying "at most 1 of them"."""
    from offline import wire

    def endpoint(name):
        return _waf_resource("AFDEndpoint", name, {"name": wire.UNKNOWN, "profileName": wire.UNKNOWN})
    a, b, c, d = (endpoint(n) for n in "abcd")

    def policy(name, ids, depends):
        return _waf_resource("SecurityPolicy", name, {"profileName": wire.UNKNOWN, "parameters": {
            "associations": [{"domains": [{"id": i} for i in ids]}]}}, depends)
    (found,) = _waf_found(a, b, c, policy("p", [wire.UNKNOWN], [a, b, c]))
    assert found[0] == "p" and found[1].startswith(
        "Front Door endpoint a, Front Door endpoint b, Front Door endpoint c: at most 1 of them"), found
    # two policies' ids, four endpoints: p's one id and q's one id for a..c, d q's alone: one group of four, 2 ids
    (found,) = _waf_found(a, b, c, d, policy("p", [wire.UNKNOWN], [a, b, c]), policy("q", [wire.UNKNOWN], [b, c, d]))
    assert found[1].startswith("Front Door endpoint a, Front Door endpoint b, Front Door endpoint c, Front Door "
                               "endpoint d: at most 2 of them") and "SecurityPolicy p, q" in found[1], found


@pytest.mark.parametrize("parameters", [
    {"associations": [{"domains": ["/profiles/afd/afdEndpoints/e"]}]},  # a domain that is an id, not an object
    {"associations": [{"domains": [None]}]},
    {"associations": [{"domains": "/profiles/afd/afdEndpoints/e"}]},
    {"associations": ["/profiles/afd/afdEndpoints/e"]},
    {"associations": [{"domains": [{"id": None}]}]},  # an id that is null names no endpoint called "None"
    ["/profiles/afd/afdEndpoints/e"],
    "WebApplicationFirewall",
])
def test_the_waf_rule_reads_an_association_of_another_shape_as_naming_nothing(parameters):
    """A stack policy reads outputs as the provider answered them; a shape the rule does not expect is no domain
    named, not a traceback ("'str' object has no attribute 'get'" ended the pack's AnalyzeStack): the endpoint is
    refused as having no WAF security policy."""
    endpoint = _waf_resource("AFDEndpoint", "none", {"name": "none", "profileName": "afd"})
    policy = _waf_resource("SecurityPolicy", "p", {"profileName": "afd", "parameters": parameters})
    assert [u for u, _ in _waf_found(endpoint, policy)] == ["none"]


def test_a_null_request_or_limit_is_no_request_or_limit_whether_the_engine_sends_it_or_drops_it(analyzers):
    """A container's `limits: {"memory": None}` (a program's value left unset) reaches the engine as a null.
    pulumi-kubernetes' Check keeps it where the object holds a value not known yet (provider/pkg/provider/provider.go
    at 94977969: `normalizeInputs` skips the typed round trip when `hasComputedValue`, and the inputs are marshalled
    with `SkipNulls: false`), the engine hands Analyze those checked inputs (pulumi/pulumi 1b5949891b
    step_generator.go: `inputs = resp.Properties` before `analyzeAll`), and pulumi-policy's deserialisation keeps a
    None. The kit's recording drops it. The rule counted the keys: the engine's shape passed a container with no
    memory request and no memory limit that the offline runner refused; now a null is read as absent in both."""
    import pulumi
    import pulumi_kubernetes as k8s
    import pulumi_random as random
    from llmplatform.testing import run
    from policy.policies import POLICIES as ALL

    def program():
        release = random.RandomString("release", length=8, special=False).result
        k8s.apps.v1.Deployment("app", metadata={"name": "app", "namespace": "a"}, spec={
            "selector": {"matchLabels": {"app": "app"}},
            "template": {"metadata": {"labels": {"app": "app", "release": release}}, "spec": {"containers": [{
                "name": "app", "image": "example/app:1",
                "resources": {"requests": {"cpu": "100m", "memory": None}, "limits": {"memory": None}}}]}}},
            opts=pulumi.ResourceOptions(provider=k8s.Provider("k8s", kubeconfig="apiVersion: v1")))
    plan = run(program, preview=True)
    kit = plan.one("kubernetes:apps/v1:Deployment", "app")
    assert kit.unknown_paths == ["spec.template.metadata.labels.release"]
    engines = dataclasses.replace(kit, inputs=copy.deepcopy(kit.inputs))
    resources = engines.inputs["spec"]["template"]["spec"]["containers"][0]["resources"]
    resources["requests"]["memory"] = resources["limits"]["memory"] = None  # as the engine sends them
    (basics,) = [p for p in ALL if p.name == "containers-have-requests-limits-and-pinned-images"]
    expected = ["container app has no cpu and memory requests", "container app has no memory limit"]
    host = analyzers(plan)
    for reg in (kit, engines):
        found = []
        basics.validate(policy_check.validation_args(reg),
                        lambda message, urn=None: found.append(message.split(" (")[0]))
        assert found == expected, (reg is kit, found)
        sent = [d.message.rsplit("\n", 1)[-1].split(" (")[0] for d in host.analyze(reg, plan)
                if d.policy == basics.name]
        assert sent == expected, (reg is kit, sent)
