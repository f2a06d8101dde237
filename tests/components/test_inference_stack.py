"""InferenceStack (components/llmplatform/inference_stack.py) as the real program registers it: CPU or GPU, network
policies, outputs; and the split into parts keeps every identity through an alias, resolved as the Pulumi engine
resolves it (plan_diff alias_matches, after pulumi/pulumi pkg/resource/deploy/step_generator.go)."""
from __future__ import annotations

import copy

import pytest

from offline import plan, plan_diff

from tests.conftest import variant


DEPLOYMENT = "kubernetes:apps/v1:Deployment"


def deployment(plan, name):
    return next(r for r in plan.of_type(DEPLOYMENT) if r.inputs["metadata"]["name"] == name).inputs


def diff_paths(a, b, path=""):
    if isinstance(a, dict) and isinstance(b, dict):
        return [p for k in sorted(set(a) | set(b)) for p in diff_paths(a.get(k), b.get(k), f"{path}.{k}")]
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [p for i, (x, y) in enumerate(zip(a, b, strict=True)) for p in diff_paths(x, y, f"{path}[{i}]")]
    return [] if a == b else [path]


def test_cpu_to_gpu_changes_only_scheduling_and_resources():
    cpu, gpu = deployment(variant("dev"), "ollama"), deployment(variant("dev-gpu"), "ollama")
    changed = diff_paths(cpu, gpu)
    assert changed and all(p.startswith((".spec.template.spec.nodeSelector", ".spec.template.spec.tolerations",
                                         ".spec.template.spec.containers[0].resources",
                                         # the await deadline of a GPU start from zero (the deploy model's rule)
                                         ".metadata.annotations.pulumi.com/timeoutSeconds")) for p in changed), changed
    pod = gpu["spec"]["template"]["spec"]
    assert pod["nodeSelector"] == {"llm-platform/pool": "gpu"}
    assert {"key": "kubernetes.azure.com/scalesetpriority", "operator": "Equal", "value": "spot",
            "effect": "NoSchedule"} in pod["tolerations"]
    assert pod["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] == "1"
    assert cpu["spec"]["template"]["spec"]["nodeSelector"] == {"llm-platform/pool": "cpu"}


def test_network_policies_admit_only_the_interceptor_to_ollama_under_keda(dev):
    """Who else may call whom: tests/components/test_network_paths.py, over every pod of the plans."""
    policies = {r.inputs["metadata"]["name"]: r.inputs["spec"] for r in
                dev.of_type("kubernetes:networking.k8s.io/v1:NetworkPolicy")}
    assert policies["default-deny-ingress"] == {"podSelector": {}, "policyTypes": ["Ingress"]}
    ollama = policies["ollama-ingress"]
    assert ollama["podSelector"]["matchLabels"] == {"app.kubernetes.io/name": "ollama"}
    [source] = ollama["ingress"][0]["from"]
    assert source["namespaceSelector"] == {"matchLabels": {"kubernetes.io/metadata.name": "keda"}}
    assert source["podSelector"]["matchLabels"]["app.kubernetes.io/component"] == "interceptor"
    assert "namespaceSelector" in policies["open-webui-ingress"]["ingress"][0]["from"][0]
    # the in-cluster listener: the namespace's own pods; the Gateways' listener: the Gateways' namespace
    assert [peer.get("namespaceSelector") for peer in policies["router-ingress"]["ingress"][0]["from"]] == [None]
    assert [peer.get("namespaceSelector") for peer in policies["router-edge-ingress"]["ingress"][0]["from"]] == [
        {"matchLabels": {"kubernetes.io/metadata.name": "llmp-dev-gateway"}}]


@pytest.mark.parametrize("name, ui, api", [("dev", "http://", ":8080"), ("prod", "https://llm.example.com", ":8443")])
def test_outputs_name_the_endpoints(name, ui, api):
    outputs = variant(name).outputs
    assert outputs["webUiUrl"].startswith(ui) and outputs["modelApiUrl"].endswith(api)
    assert outputs["apiKeySecret"] == "inference-api-key"


def test_a_stack_without_the_ui_exports_no_ui_url():
    """`webui.enabled: false` (dev-smb-nogpu, internal gateway) leaves the gateway's `ui` listener with no route on it:
    a URL there answers 404, so the stack names none, as it names no llm-d URL without llm-d; the UI on llm-d's model
    (the llmd stack) keeps its URL."""
    plan = variant("dev-smb-nogpu")
    routes = plan.of_type("kubernetes:gateway.networking.k8s.io/v1:HTTPRoute")
    assert not [r.name for r in routes if any(p.get("sectionName") == "ui" for p in r.inputs["spec"]["parentRefs"])]
    assert plan.outputs["webUiUrl"] is None and plan.outputs["modelApiUrl"]
    assert variant("llmd").outputs["webUiUrl"]


PARTS = ("llmplatform:index:OllamaServer", "llmplatform:index:ApiGate", "llmplatform:index:OpenWebUi")


def test_every_moved_resource_aliases_its_place_under_inference_stack(dev):
    doc = plan_diff.resources_by_urn(plan.resources_document(dev))
    stack = dev.one("llmplatform:index:InferenceStack")
    parts = {r.urn for r in dev.resources if r.type in PARTS}
    assert len(parts) == 3 and all(doc[u]["parent"] == stack.urn for u in parts)
    moved = [r for r in doc.values() if r["parent"] in parts]
    assert moved and all(r["options"].get("aliases") == [{"spec": {"parentUrn": stack.urn}}] for r in moved)
    # the pre-split plan: each of them a direct child of InferenceStack, the parts absent
    make = plan_diff.urn_scheme(doc)
    old = {}
    for urn, r in doc.items():
        if urn in parts:
            continue
        r = copy.deepcopy(r)
        if r["parent"] in parts:
            r["parent"] = stack.urn
            r["urn"] = make(stack.urn, r["type"], r["name"], "dev", dev.project)
            r["options"].pop("aliases")
        old[r["urn"]] = r
    assert len(old) == len(doc) - 3
    result = plan_diff.diff_documents(old, doc)
    assert result["removed"] == [] and result["replaced"] == {} and result["changed"] == {}
    assert sorted(result["added"]) == sorted(parts) and len(result["moved"]) == len(moved)
    assert plan_diff.blocking(result, set(), False) == []


def test_aliases_resolve_as_the_engine_does():
    """pulumi/pulumi step_generator.go: an alias's unset parent is the resource's own, a parent that matched through
    an alias stands for its old URN, and a child inherits its parent's alias with the parent's old name as the prefix
    of its own (the engine's example: newapp-function under newapp, aliased from app, was app-function)."""
    base = "urn:pulumi:s::p::"
    old = {u: {"urn": u, "type": u.split("::")[2].split("$")[-1], "name": u.split("::")[3], "inputs": {},
               "options": {}, "parent": None, "custom": True, "dependencies": []} for u in (
        f"{base}my:index:App::app", f"{base}my:index:App$aws:s3/bucket:Bucket::app-function",
        f"{base}my:index:Stack$kubernetes:core/v1:Service::web")}
    old[f"{base}my:index:App$aws:s3/bucket:Bucket::app-function"]["parent"] = f"{base}my:index:App::app"

    def res(urn, parent, aliases=None):
        return {"urn": urn, "type": urn.split("::")[2].split("$")[-1], "name": urn.split("::")[3], "inputs": {},
                "parent": parent, "custom": True, "dependencies": [],
                "options": {"aliases": aliases} if aliases else {}}
    new = {u: res(u, p, a) for u, p, a in (
        (f"{base}my:index:App::newapp", None, [{"spec": {"name": "app"}}]),
        (f"{base}my:index:App$aws:s3/bucket:Bucket::newapp-function", f"{base}my:index:App::newapp", None),
        (f"{base}my:index:Stack::st", None, None),
        (f"{base}my:index:Stack$my:index:Part::st", f"{base}my:index:Stack::st", None),
        (f"{base}my:index:Stack$my:index:Part$kubernetes:core/v1:Service::web",
         f"{base}my:index:Stack$my:index:Part::st", [{"spec": {"parentUrn": f"{base}my:index:Stack::st"}}]))}
    assert plan_diff.urn_scheme(new) is plan_diff.engine_urn  # these URNs carry the parent's whole type chain
    assert plan_diff.alias_matches(old, new) == {
        f"{base}my:index:App::newapp": f"{base}my:index:App::app",
        f"{base}my:index:App$aws:s3/bucket:Bucket::newapp-function":
            f"{base}my:index:App$aws:s3/bucket:Bucket::app-function",
        f"{base}my:index:Stack$my:index:Part$kubernetes:core/v1:Service::web":
            f"{base}my:index:Stack$kubernetes:core/v1:Service::web"}
    result = plan_diff.diff_documents(old, new)
    assert result["removed"] == [] and result["replaced"] == {}
