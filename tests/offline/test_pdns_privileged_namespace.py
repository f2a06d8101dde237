"""Prefill/decode's UI out of the privileged namespace (docs/decisions.md, "Prefill/decode's UI out of the privileged
namespace", 2026-12-08). Under prefill/decode llm-d's namespace enforces Pod Security `privileged` (vLLM's IPC_LOCK
for NIXL is above baseline), and the llmd stack's Open-WebUI ran there: whoever may create pods in it may create
privileged ones, beside the UI the Gateways publish. The UI now runs in `<llmd.namespace>-webui` at `baseline`, and
the pack refuses a workload that needs nothing above baseline in a namespace the stack creates at `privileged`."""
import copy
import dataclasses

from offline import policy_check
from policy.policies import POLICIES, PRIVILEGED_NAMESPACE_COMPANIONS

from tests.conftest import variant
from tests.pod_security import LEVELS, baseline_violations, strictest_level

RULE = "privileged-namespaces-hold-only-what-needs-it"
PD_SETS = ["--set", "gpu.vmSize=Standard_ND96isr_H100_v5", "--set", "llmd.prefillDecode=true",
           "--set", "llmd.autoscaling=false"]
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "Pod")
PSA = "pod-security.kubernetes.io/"


def objects(plan):
    return [r for r in plan.resources
            if r.type.startswith("kubernetes:") and isinstance(r.inputs.get("metadata"), dict)]


def levels(plan):
    return {r.inputs["metadata"]["name"]: r.inputs["metadata"]["labels"] for r in plan.of_type(
        "kubernetes:core/v1:Namespace")}


def workloads(plan, namespace):
    return {(r.type.rsplit(":", 1)[-1], r.inputs["metadata"]["name"]): r for r in objects(plan)
            if r.type.rsplit(":", 1)[-1] in WORKLOAD_KINDS and r.inputs["metadata"].get("namespace") == namespace}


def pod(reg):
    return reg.inputs["spec"]["template"]["spec"]


def violations(plan):
    return [v for v in policy_check.evaluate(plan) if v.policy == RULE]


def test_the_pd_plan_keeps_the_ui_out_of_llm_ds_privileged_namespace():
    plan = variant("llmd-pd")
    labels = levels(plan)
    assert labels["llm-d"][f"{PSA}enforce"] == labels["llm-d"][f"{PSA}warn"] == "privileged"
    ui = labels["llm-d-webui"]
    assert ui[f"{PSA}enforce"] == ui[f"{PSA}warn"] == "baseline"
    assert ui["llm-platform/gateway-routes"] == "true"  # its HTTPRoute may attach to the Gateways' UI listener
    # llm-d's namespace holds vLLM (IPC_LOCK) and the stack's gate alone of the program's pods
    assert set(workloads(plan, "llm-d")) == {("Deployment", "vllm-prefill"), ("Deployment", "vllm-decode"),
                                             ("Deployment", "router")}
    moved = workloads(plan, "llm-d-webui")
    assert {name.split("-db-")[0].split("-migrate")[0] for _, name in moved} == {"open-webui"} and len(moved) == 3
    for reg in moved.values():  # each passes baseline; the UI's image runs as root, so baseline is the strictest
        assert baseline_violations(pod(reg)) == [], reg.name
    assert max((strictest_level(pod(r)) for r in moved.values()), key=LEVELS.index) == "baseline"
    # what else the UI had in llm-d came along: its route, claim, secrets, policies, in llm-d-webui and not in llm-d
    in_ui = {(r.type.rsplit(":", 1)[-1], r.inputs["metadata"]["name"]) for r in objects(plan)
             if r.inputs["metadata"].get("namespace") == "llm-d-webui"}
    assert {("HTTPRoute", "ui-route"), ("PersistentVolumeClaim", "open-webui-data"), ("Service", "open-webui"),
            ("SecretProviderClass", "open-webui-secrets"), ("NetworkPolicy", "open-webui-ingress"),
            ("NetworkPolicy", "default-deny-ingress"), ("NetworkPolicy", "namespace-egress-guard"),
            ("ConfigMap", "postgres-root-cas")} <= in_ui
    in_llmd = [r.inputs["metadata"]["name"] for r in objects(plan) if r.inputs["metadata"].get("namespace") == "llm-d"]
    assert not [name for name in in_llmd if "webui" in name], in_llmd
    # the workload identities' federated credentials name the UI's namespace (Key Vault through workload identity)
    subjects = {r.inputs["subject"] for r in plan.of_type("azure-native:managedidentity:FederatedIdentityCredential")
                if "webui" in r.inputs["subject"] or "open-webui" in r.inputs["subject"]}
    assert subjects == {"system:serviceaccount:llm-d-webui:open-webui",
                        "system:serviceaccount:llm-d-webui:open-webui-db-bootstrap"}
    assert plan.outputs["llmdWebuiNamespace"] == "llm-d-webui" and plan.outputs["llmdWebui"] is True


def ui_ingress(plan):
    return next(r for r in plan.of_type("kubernetes:networking.k8s.io/v1:NetworkPolicy")
                if r.inputs["metadata"]["name"] == "router-ui-ingress")


def test_the_keyless_listener_admits_the_uis_pods_of_its_namespace_alone():
    """The gate's UI listener (no key) keeps its protection across namespaces: one peer, both selectors, so the
    `open-webui` pods of llm-d-webui and no other pod there or anywhere else."""
    pd = ui_ingress(variant("llmd-pd")).inputs["spec"]["ingress"]
    assert pd == [{"from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "llm-d-webui"}},
                             "podSelector": {"matchLabels": {"app.kubernetes.io/name": "open-webui"}}}],
                   "ports": [{"port": 8081, "protocol": "TCP"}]}]
    ui = next(r for r in variant("llmd-pd").of_type("kubernetes:apps/v1:Deployment")
              if r.inputs["metadata"]["name"] == "open-webui")
    env = {e["name"]: e.get("value") for e in pod(ui)["containers"][0]["env"]}
    assert env["OPENAI_API_BASE_URL"] == "http://router.llm-d.svc:8081/v1"  # qualified from its namespace


def test_without_prefill_decode_the_ui_stays_in_llm_ds_baseline_namespace():
    """Nothing moves on the shipped llmd stack: its namespace is baseline, and moving the UI would replace its
    uploads claim (the users' files go with it)."""
    plan = variant("llmd")
    assert levels(plan)["llm-d"][f"{PSA}enforce"] == "baseline" and "llm-d-webui" not in levels(plan)
    assert ("Deployment", "open-webui") in workloads(plan, "llm-d")
    assert ui_ingress(plan).inputs["spec"]["ingress"][0]["from"] == [
        {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "open-webui"}}}]
    assert plan.outputs["llmdWebuiNamespace"] is None


def test_every_planned_stack_passes_the_rule():
    for name in ("dev", "prod", "llmd", "llmd-pd", "dev-operator", "prod-tls"):
        assert violations(variant(name)) == [], name


def moved_into(plan, namespace, *names):
    """The plan with the named workloads moved into `namespace` (the UI back where it ran before the fix)."""
    def move(reg):
        if reg.inputs.get("metadata", {}).get("name", "").startswith(names) and \
                reg.type.rsplit(":", 1)[-1] in WORKLOAD_KINDS:
            inputs = copy.deepcopy(reg.inputs)
            inputs["metadata"]["namespace"] = namespace
            return dataclasses.replace(reg, inputs=inputs)
        return reg
    return dataclasses.replace(plan, resources=[move(r) for r in plan.resources])


def test_a_ui_pod_planted_in_the_privileged_namespace_is_refused():
    found = violations(moved_into(variant("llmd-pd"), "llm-d", "open-webui"))
    assert {v.resource for v in found} == {"llmd-webui", "llmd-webui-migrate", "llmd-webui-db-bootstrap"}
    assert all(v.mandatory for v in found)
    message = next(v.message for v in found if v.resource == "llmd-webui")
    assert "Deployment llm-d/open-webui runs in namespace llm-d, which enforces Pod Security `privileged`" in message
    # a pod that needs it (vLLM's IPC_LOCK, a node path) passes there; the documented companion too
    assert violations(moved_into(variant("llmd-pd"), "llm-d", "nri-plugin")) == []
    assert ("llmplatform:index:LlmdStack", "Deployment", "router") in PRIVILEGED_NAMESPACE_COMPANIONS
    # the companion is LlmdStack's gate, not any Deployment named `router`: ApiGate's (InferenceStack's) is refused
    assert [v.resource for v in violations(moved_into(variant("llmd-pd"), "llm-d", "router"))] == ["inference-router"]
    # any other workload that needs nothing above baseline is refused in any privileged namespace the stack creates
    assert [v.resource for v in violations(moved_into(variant("llmd-pd"), "nri-plugins", "ollama"))] == \
        ["inference-ollama"]
    assert [v.resource for v in violations(moved_into(variant("dev"), "monitoring", "ollama"))] == ["inference-ollama"]


def test_the_program_with_its_ui_back_in_llm_d_is_refused_by_make_plan(monkeypatch, capsys, tmp_path):
    """The fix undone in the real program (the UI namespace's naming answering none: the layout before it):
    `offline.plan` runs the pack and refuses the plan, naming the UI's Deployment."""
    import config.inputs
    from offline import plan as plan_cli
    monkeypatch.setattr(config.inputs, "llmd_webui_namespace", lambda cfg: None)
    assert plan_cli.main(["--stack", "llmd", "--out", str(tmp_path), *PD_SETS]) == 1
    out = capsys.readouterr().out
    assert f"policy VIOLATION: [{RULE}]" in out and "Deployment llm-d/open-webui runs in namespace llm-d" in out


def test_the_rule_is_in_the_pack_mandatory():
    rule = next(p for p in POLICIES if p.name == RULE)
    assert rule.enforcement_level.value == "mandatory" and "privileged" in rule.description
