"""Review of stranger12 (the prod cluster rebuilt with its state kept): what the pull-request check lists as updated
in place when a replaced resource's create makes a value anew, and the config loader's message for a key given in
the wrong section (docs/decisions.md, "Review of the rebuild procedure and the PR check's updates")."""
from __future__ import annotations

import copy
from typing import Any

import pytest

from offline import plan, plan_diff

IDENTITY = "azure-native:managedidentity:UserAssignedIdentity"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
CLIENT_ID_ANNOTATION = "spec.template.metadata.annotations.llm-platform/identity-client-id"


def _doc(p) -> dict[str, dict[str, Any]]:
    return plan_diff.resources_by_urn(plan.resources_document(p))


def test_a_value_taken_alone_from_a_replaced_identity_is_listed_as_an_update(prod):
    """Open-WebUI's pod template holds its identity's client id (`llm-platform/identity-client-id`, so that a
    replaced identity rolls the pods that sign in as it) as a value taken alone (llmplatform.handles `value_alone`):
    the Deployment depends on the identity's ServiceAccount, not on the identity. With the identity replaced under
    its name (its `location` is force-new: pulumi-azure-native deletes it first and Entra makes a new client id),
    the check listed the ServiceAccount's and the SecretProviderClass's new client id and said nothing of the
    Deployment, whose pods the same `up` rolls; it looked for the replaced resource among the direct dependencies
    only. A resource that depends on nothing replaced gets no line."""
    base = _doc(prod)
    new = copy.deepcopy(base)
    identity = next(u for u, r in new.items() if r["type"] == IDENTITY and u.endswith("::inference-open-webui-identity-id"))
    new[identity]["inputs"]["location"] = "northeurope"
    webui = next(u for u, r in new.items() if r["type"] == DEPLOYMENT and u.endswith("::inference-webui"))
    assert identity not in new[webui]["dependencies"]  # the value reaches it alone, through the ServiceAccount
    result = plan_diff.diff_documents(base, new)
    assert identity in result["replaced"] and webui not in result["replaced"]
    lines = result["changed"].get(webui) or []
    assert any(line.startswith(f"`{CLIENT_ID_ANNOTATION}`: a new value from") and "inference-open-webui-identity-id"
               in line for line in lines), lines
    # the other identities' workloads, and the Ollama Deployment, hold none of its values
    others = {u for u, r in new.items() if r["type"] == DEPLOYMENT and u != webui}
    assert others and not others & set(result["changed"])


@pytest.mark.parametrize("stack, setting, wanted, unwanted", [
    # a regional stack: the global stack's keys are no place to send it (a `global` section makes it the global stack)
    ("prod", "regions=x", "regions is not a known key", "global.regions"),
    ("prod", "edge.regions=x", "edge.regions is not a known key", "global.regions"),
    # the global stack reads no cluster, observability or namespace
    ("global", "global.networkPolicy=x", "global.networkPolicy is not a known key", "cluster.networkPolicy"),
    ("global", "monthlyBudget=3", "monthlyBudget is not a known key", "observability"),
    ("global", "global.namespace=x", "global.namespace is not a known key", "top-level"),
    # another section's key of that name does not hide this section's close one
    ("prod", "postgres.sizeGib=64", "it is a key of another section: 'modelStore.sizeGib' (or did you mean "
                                    "'storageSizeGb'?)", None),
    # a top-level key given in a section is named where it belongs
    ("prod", "cluster.location=swedencentral", "cluster.location is not a known key; it is a top-level key: "
                                               "'location'", "known:"),
    ("global", "global.location=swedencentral", "it is a top-level key: 'location'", None),
    # the stranger12 cases keep their message
    ("prod", "network.networkPolicy=calico", "network.networkPolicy is not a known key; it is a key of another "
                                             "section: 'cluster.networkPolicy'", None),
    # a regional stack given global.regions is read as a global stack: its sections are not a global key's
    ("prod", "global.regions[0]=prod-westeurope", "autoscaling is not a known key", "llmd.autoscaling"),
])
def test_a_key_in_the_wrong_section_is_sent_only_where_this_stack_reads_it(tmp_path, capsys, stack, setting, wanted,
                                                                          unwanted):
    """stranger12 named a key of another section by its last name among every stack key of docs/configuration.md:
    a regional stack's `regions` was sent to `global.regions` (a `global` section makes the stack the global one,
    and every regional section an unknown key, `autoscaling` then sent to `llmd.autoscaling`), the global stack's
    `global.networkPolicy` to `cluster.networkPolicy` and `monthlyBudget` to `observability.monthlyBudget`, which
    the global stack refuses; `postgres.sizeGib` read only "it is a key of another section: 'modelStore.sizeGib'",
    the model share's, where the section's own `storageSizeGb` was meant; and `cluster.location` got the cluster's
    keys, not the top-level `location`. Through `offline.plan`'s CLI, as `make plan` runs it: no traceback."""
    from offline import plan as plan_cli
    assert plan_cli.main(["--stack", stack, "--out", str(tmp_path), "--set", setting]) != 0
    err = capsys.readouterr().err
    assert wanted in err, err
    assert "Traceback" not in err
    if unwanted:
        assert unwanted not in " ".join(line for line in err.splitlines() if "is not a known key" in line), err


def test_a_claim_and_its_workload_in_two_delete_first_chains_keep_the_general_line(prod):
    """The claim's line says the run frees it itself only when each workload mounting it is deleted first in the
    claim's own chain: the engine deletes a delete-first replacement's dependents before it, in reverse dependency
    order, when that replacement registers (pulumi/pulumi 1b5949891b step_generator.go `continueStepsFromDiff`,
    `calculateDependentReplacements`). Ollama's Deployment names the models claim as a value alone (an ordering edge,
    no property dependency), so a claim replaced on its own answer (its access mode, force-new) does not drag it
    along; with the Deployment replaced delete-first on its own answer too (its selector, immutable), the claim is
    deleted when it registers, before the Deployment registers, while Ollama's pods still hold it
    (`kubernetes.io/pvc-protection`: pulumi-kubernetes waits its 10 minutes). The check said "the same run deletes
    first every workload of the program that mounts it": both were merely delete-first. The cluster's rebuild, one
    chain, keeps its line (test_stranger12_rebuild)."""
    from offline.plan_diff.volumes import CLAIM_IN_USE
    base = _doc(prod)
    new = copy.deepcopy(base)
    claim = next(u for u in new if u.endswith("PersistentVolumeClaim::models-pvc"))
    ollama = next(u for u, r in new.items() if r["type"] == DEPLOYMENT and u.endswith("::inference-ollama"))
    new[claim]["inputs"]["spec"]["accessModes"] = ["ReadWriteOnce"]
    for labels in (new[ollama]["inputs"]["spec"]["selector"]["matchLabels"],
                   new[ollama]["inputs"]["spec"]["template"]["metadata"]["labels"]):
        labels["llm-platform/rev"] = "2"
    result = plan_diff.diff_documents(base, new)
    assert claim in result["replaced"] and ollama in result["replaced"]
    assert claim not in (base[ollama].get("propertyDependencies") or {}).get("spec", [])
    assert result["checks"][claim] == [CLAIM_IN_USE], result["checks"][claim]
