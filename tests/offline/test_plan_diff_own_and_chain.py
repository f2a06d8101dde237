"""A resource its own diff replaces is still deleted first when a delete-first replacement's chain reaches it: the
engine deletes every dependent `calculateDependentReplacements` finds when the root's step is made, before the
dependent registers, and recreates it when it does (pulumi/pulumi 1b5949891b pkg/resource/deploy/step_generator.go:
`sg.deletes[urn]` -> "re-create replaced resource ... deleted due to dependent DBR"), whatever the dependent's own
diff would have done. The check had skipped the chain for a resource already replaced on its own diff, so it said
"created first", and missed that the chain refuses a protected one on the state's flag. And what a replaced
resource's name in another object's inputs is not: a label's value."""
import copy

from offline import plan_diff

from tests.conftest import variant
from tests.offline.plan_diff_cli import check
from tests.offline.test_plan_diff_write_gates import ENDPOINT, SUBNET, _doc, _one, _renamed_subnet


def test_a_private_endpoint_on_a_renamed_subnet_is_deleted_first_with_it(tmp_path):
    """The endpoints subnet renamed (deleted first: its name is given) and the Key Vault's private endpoint on the
    new one: the endpoint's own diff replaces it (`subnet.id`, force-new) and, auto-named, would create it first;
    but its `subnet` depends on the subnet in the state, so the subnet's chain deletes it first. In prod both are
    protected, which the chain refuses on the state's flag."""
    prod = _doc(variant("prod"))
    subnet, endpoint = _one(prod, "platform-endpoints", SUBNET), _one(prod, "secrets-pe", ENDPOINT)
    new = _renamed_subnet(prod, subnet, "endpoints")
    result = plan_diff.diff_documents(prod, new)
    assert subnet in result["deleteBeforeReplace"]
    assert endpoint in result["replaced"] and endpoint in result["deleteBeforeReplace"], result["replaced"][endpoint]
    assert any("deleted first" in why for why in result["replaced"][endpoint]), result["replaced"][endpoint]
    assert endpoint in result["protected"]
    code, out = check(tmp_path, prod, new, "--allow-stateful")
    line = next(x for x in out.splitlines() if plan_diff.short_urn(endpoint) in x and "Replace" in x)
    assert "delet" in line and "first" in line, line

    # without that dependency in the state (an input set from a literal), the endpoint's own diff stands: created
    # first, auto-named, nothing refused
    loose = {**prod, endpoint: {**prod[endpoint], "propertyDependencies": {}}}
    result = plan_diff.diff_documents(loose, new)
    assert endpoint in result["replaced"] and endpoint not in result["deleteBeforeReplace"]


def _replaced_deleting_first(doc: dict, urn: str) -> tuple[dict, dict]:
    """(base, head) documents in which `urn` alone is replaced, deleting it first (a changed replacementTrigger with
    deleteBeforeReplace: the engine's own replacement of it, whatever its inputs)."""
    base, head = copy.deepcopy(doc), copy.deepcopy(doc)
    base[urn]["options"]["replacementTrigger"] = "a"
    head[urn]["options"].update(replacementTrigger="b", deleteBeforeReplace=True)
    return base, head


def test_a_label_spelling_a_replaced_objects_name_is_no_reference_to_it():
    """A Deployment's selector label `app.kubernetes.io/name: ollama` spells the name of the ServiceAccount `ollama`,
    which it does not reference: replacing that account listed Ollama's Deployment as replaced ("names ... which is
    replaced"). A label is a value; a real reference by name (a Job's serviceAccountName) still counts."""
    prod = _doc(variant("prod"))
    account = _one(prod, "inference-ollama-sa")
    ollama = _one(prod, "inference-ollama")
    assert prod[ollama]["inputs"]["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"] == \
        prod[account]["inputs"]["metadata"]["name"]  # the coincidence the test is about
    result = plan_diff.diff_documents(*_replaced_deleting_first(prod, account))
    assert account in result["replaced"], result["replaced"]
    # replaced by the engine's chain (its `spec` comes from the account: unknown, `.spec.selector` nulled), never
    # because the label spells the account's name
    assert not any("matchLabels" in why or "names" in why for why in result["replaced"].get(ollama, [])), \
        result["replaced"].get(ollama)

    webui_account, migrate = _one(prod, "inference-open-webui-identity-sa"), _one(prod, "inference-webui-migrate")
    result = plan_diff.diff_documents(*_replaced_deleting_first(prod, webui_account))
    assert any("serviceAccountName" in why for why in result["replaced"][migrate]), result["replaced"]
