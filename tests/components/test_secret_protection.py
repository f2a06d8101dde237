"""Prod's `protect` on the generated secrets (__main__.py, the in-cluster components' opts): every RandomPassword and
Key Vault secret a prod stack makes is protected as the engine records it, and so is Open-WebUI's uploads claim (a
child takes its parent's protect unless it sets its own: pulumi 3.272.0 resource.py "Infer protection from parent";
the stand-in engine's inheritance, llmplatform.testing), and nothing else those components make is: no other
Kubernetes object, no identity or grant. Dev protects nothing. A region waiting for its edge leaves its gates' own
keys unprotected: joining deletes them."""
from __future__ import annotations

from offline import plan, plan_diff
from tests.conftest import plan_for, variant

SECRET = "azure-native:keyvault:Secret"
PASSWORD = "random:index/randomPassword:RandomPassword"
CLAIM = "kubernetes:core/v1:PersistentVolumeClaim"  # Open-WebUI's uploads: the users' files
# the components that take the stack's protect for their generated secrets alone
IN_CLUSTER = {f"llmplatform:index:{kind}" for kind in ("InferenceStack", "LlmdStack", "OpenWebUi", "Observability")}
# the joined region test_key_vault plans (one plan per session for both)
JOINED = {"edge": {"frontDoorId": "00000000-0000-0000-0000-0000000000fd"}}


def _in_cluster_children(p) -> list:
    """The custom resources with one of IN_CLUSTER among their ancestors."""
    by_urn = {r.urn: r for r in p.resources}

    def inside(r) -> bool:
        parent = by_urn.get(r.parent)
        return parent is not None and (parent.type in IN_CLUSTER or inside(parent))
    return [r for r in p.resources if r.custom and inside(r)]


def test_prod_protects_every_generated_secret_and_no_object_dev_nothing(prod, dev):
    """prod-tls runs llm-d in prod too (its gate's key). A `pulumi destroy --skip-preview` of prod deleted the API
    keys, Open-WebUI's session key and Grafana's password with their Key Vault secrets, and the next `up` made new
    ones (offline/deploy_model/teardown.py counts it)."""
    for p in (prod, variant("prod-tls")):
        generated = [r for r in p.resources if r.type in (SECRET, PASSWORD)]
        assert {"inference-api-key", "inference-webui-secret-key", "observability-grafana-password"} <= {
            r.name for r in generated}
        assert [r.name for r in generated if not r.options["protect"]] == [], p.stack
        assert [r.name for r in p.resources if r.type.startswith("kubernetes:") and r.options["protect"]] == [
            "inference-webui-uploads"]
        children = _in_cluster_children(p)
        assert [r.name for r in children if r.options["protect"] and r.type not in (SECRET, PASSWORD, CLAIM)] == []
        assert {r.type for r in children if r.options["protect"]} == {SECRET, PASSWORD, CLAIM}
    assert any(r.name == "llmd-api-key" and r.options["protect"] for r in variant("prod-tls").of_type(PASSWORD))
    assert [r.name for r in dev.resources if r.options["protect"]] == []


def test_a_region_joins_its_edge_without_a_protected_delete():
    """Before edge.frontDoorId a region's gates make their own key; setting it deletes that key and its two secrets
    (the gates read the edge's key set). The engine refuses a protected delete (pkg/resource/deploy/step.go
    DeleteStep.Apply), so a protected own key stopped the documented join at its `pulumi up`. Once joined, the
    region's secrets are protected like prod's."""
    before, joined = plan_for("prod-westeurope"), plan_for("prod-westeurope", JOINED)
    docs = [plan_diff.resources_by_urn(plan.resources_document(p)) for p in (before, joined)]
    result = plan_diff.diff_documents(*docs)
    gone = {docs[0][u]["name"] for u in result["removed"]}
    assert {"inference-api-key", "inference-api-key-secret", "inference-api-key-map-secret"} <= gone
    assert result["protected"] == []
    assert [r.name for r in joined.resources if r.type in (SECRET, PASSWORD) and not r.options["protect"]] == []


def test_a_backend_switch_in_prod_stops_on_what_the_page_says_to_unprotect():
    """`webui.backend` switched to llmd deletes the Ollama stack's OpenWebUi: in prod its uploads claim, and also its
    session key and first admin's password with their Key Vault secrets, and the component itself, each protected
    (a component's delete is refused too: pulumi/pulumi 1b5949891b step.go `DeleteStep.Apply` asks only
    `old.Protect`). The page (inference-stack.md) said to unprotect the claim alone, and `pulumi up` stopped on the
    rest."""
    from tests.conftest import PROJECT_DIR
    before = plan_diff.resources_by_urn(plan.resources_document(plan_for("prod")))
    after = plan_diff.resources_by_urn(plan.resources_document(
        plan_for("prod", {"webui": {"backend": "llmd"}, "llmd": {"enabled": True}})))
    protected = {before[u]["type"] for u in plan_diff.diff_documents(before, after)["protected"]}
    assert protected == {CLAIM, SECRET, PASSWORD, "llmplatform:index:OpenWebUi"}, protected
    page = " ".join((PROJECT_DIR / "docs" / "components" / "inference-stack.md").read_text().split())
    switching = page.split("Switching an existing stack deletes")[1].split("\n- ")[0].split(" - ")[0]
    for words in ("uploads claim", "session key", "first admin's password", "Key Vault secrets", "component",
                  "pulumi state unprotect", "\"Protected\""):
        assert words in switching, (words, switching)


def test_a_region_waiting_for_its_edge_protects_all_but_its_gates_own_keys():
    """A region waiting for its edge passed its Ollama and llm-d stacks no protect at all, so Open-WebUI's session key,
    first admin's password, their secrets and the uploads claim went with a destroy until it joined, though joining
    deletes only the gates' own keys. The stacks take prod's protect now and `api_key_replaceable` keeps those keys
    (the password and its two secrets) out of it; the join still meets no protected delete."""
    from tests.conftest import PROJECT_DIR
    waiting, joined = plan_for("prod-westeurope"), plan_for("prod-westeurope", JOINED)
    own = {"inference-api-key", "inference-api-key-secret", "inference-api-key-map-secret"}
    held = [r for r in waiting.resources if r.type in (SECRET, PASSWORD) or r.name == "inference-webui-uploads"]
    assert {r.name for r in held if not r.options["protect"]} == own
    assert {"inference-webui-secret-key", "inference-webui-uploads"} <= {r.name for r in held if r.options["protect"]}
    assert [r.options["protect"] for r in joined.of_type(CLAIM) if r.name == "inference-webui-uploads"] == [True]
    docs = [plan_diff.resources_by_urn(plan.resources_document(p)) for p in (waiting, joined)]
    assert plan_diff.diff_documents(*docs)["protected"] == []
    text = " ".join((PROJECT_DIR / "docs" / "operations.md").read_text().split())
    exception = text.split("One exception: a regional stack that waits for its edge")[1].split("The global stack")[0]
    assert "api_key_replaceable" in exception and "uploads claim are protected" in exception, exception


def test_a_region_waiting_for_its_edge_with_llmd_joins_without_a_protected_delete():
    """llm-d in a region behind the edge (`global.llmdRegions`; its UI on llm-d here): while waiting, each gate's own
    key and its two secrets are the only secrets out of protect, llm-d's (`llmd_args` hands the stack
    `api_key_replaceable` too) as Ollama's, so the join, which deletes both gates' keys, meets no protected delete and
    no protected replacement. No planned stack waits with llm-d: a protected llm-d key passed every test."""
    llmd = {"llmd": {"enabled": True, "exposeExternally": True}, "webui": {"backend": "llmd"}}
    waiting, joined = plan_for("prod-westeurope", llmd), plan_for("prod-westeurope", {**llmd, **JOINED})
    own = {f"{gate}-api-key{part}" for gate in ("inference", "llmd") for part in ("", "-secret", "-map-secret")}
    held = [r for r in waiting.resources if r.type in (SECRET, PASSWORD)]
    assert {r.name for r in held if not r.options["protect"]} == own
    assert {"llmd-webui-secret-key", "llmd-webui-secret-key-secret"} <= {r.name for r in held if r.options["protect"]}
    docs = [plan_diff.resources_by_urn(plan.resources_document(p)) for p in (waiting, joined)]
    result = plan_diff.diff_documents(*docs)
    assert {docs[0][u]["name"] for u in result["removed"]} == own
    assert result["protected"] == []


def test_a_waiting_regions_destroy_drops_only_the_own_keys_no_protected_resource_needs_as_the_page_says():
    """operations.md said a destroy of a region waiting for its edge drops its gates' own keys from the state, for the
    next `up` to adopt each: true while nothing else of its stacks was protected. Open-WebUI's secrets are now, and
    they are written after the Ollama gate's key secret, so `--skip-preview` and `--exclude-protected` keep that key
    and its secret (the engine skips what a refused delete depends on: offline/deploy_model/teardown.py) and drop the
    key map's secret alone. The page says which go, and where the plan names the kept."""
    from offline.deploy_model import teardown
    from tests.conftest import PROJECT_DIR
    waiting = plan_for("prod-westeurope")
    own = {"inference-api-key", "inference-api-key-secret", "inference-api-key-map-secret"}
    dropped = {r.name for r in teardown.destroyed(waiting, skip_preview=True)} & own
    kept = {r.name for r in teardown.kept_by_protect(waiting)[1]} & own
    assert (dropped, kept) == ({"inference-api-key-map-secret"}, {"inference-api-key", "inference-api-key-secret"})
    text = " ".join((PROJECT_DIR / "docs" / "operations.md").read_text().split())
    sentence = text.split("A regional stack waiting for its edge (below)")[1].split("Lifting protect")[0]
    for words in ("those of them no protected resource needs", "that line names the ones it keeps",
                  "the Ollama gate's key and its secret", "it drops the key map's secret"):
        assert words in sentence, (words, sentence)


# what the stack's protectStatefulResources description names each kind the policy pack holds protected in prod by
STATEFUL_WORDS = {
    "azure-native:keyvault:Vault": "vault", "azure-native:dbforpostgresql:Server": "database",
    "azure-native:dbforpostgresql:Database": "database", "azure-native:storage:StorageAccount": "model share",
    "azure-native:storage:FileShare": "model share", "azure-native:resources:ResourceGroup": "group",
    "azure-native:containerservice:ManagedCluster": "AKS cluster", "azure-native:network:PublicIPAddress": "public IP",
    "azure-native:cdn:Profile": "Front Door profile", "azure-native:cdn:AFDEndpoint": "endpoint",
    "azure-native:operationalinsights:Workspace": "Log Analytics", "azure-native:monitor:AzureMonitorWorkspace":
        "Azure Monitor workspaces", "azure-native:dashboard:Grafana": "Managed Grafana",
    "azure-native:recoveryservices:Vault": "backup vault", "azure-native:recoveryservices:ProtectedItem":
        "protected item"}


def test_the_protect_keys_description_names_what_prod_protects_and_the_waiting_regions_exception():
    """`protectStatefulResources`'s description (Pulumi.yaml, and docs/configuration.md from it) listed what prod
    protected before 0.27.0: not the AKS cluster nor Open-WebUI's uploads claim, which prod protects now, nor the
    keys a region waiting for its edge leaves out. Each kind the policy pack holds protected in prod is named, the
    claim, and the exception."""
    import yaml
    from policy.policies import STATEFUL
    from tests.conftest import PROJECT_DIR
    assert set(STATEFUL_WORDS) == set(STATEFUL)
    declared = yaml.safe_load((PROJECT_DIR / "Pulumi.yaml").read_text())["config"]["protectStatefulResources"]
    text = declared["description"]
    missing = [w for w in (*STATEFUL_WORDS.values(), "uploads claim", "generated keys and passwords",
                           "region waiting for its edge", "API gates' own keys") if w not in text]
    assert missing == [], (missing, text)
