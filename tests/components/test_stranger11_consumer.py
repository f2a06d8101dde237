"""A stranger's program (2026-12-06) upgraded from 0.27.1 to 0.28.0 with CHANGELOG.md and
docs/components/key-vault-and-postgres.md ("A replaced identity") alone: an AksCluster, a KeyVault, an OpenWebUi and
a WorkloadIdentity for a Deployment of their own whose process signs in with `DefaultAzureCredential`. Its
`identity_name` renamed, the two plans put through the PR check (offline.plan_diff) as `pulumi up` would run them.

The page told such a pod to take the client id's annotation by its value alone, and nothing of its account: with the
annotation alone, `serviceAccountName` given as the output carries the federation, which a new identity replaces
deleting first, and the engine replaced the Deployment with it, deleted first (pulumi/pulumi 1b5949891b
step_generator.go `calculateDependentReplacements`); the imports were not named (CLIENT_ID_ANNOTATION lives in
`llmplatform.workload_identity`). The page now shows the whole recipe (annotation and account name by value alone,
`ordered_after` on the account's name), and these tests run it as written."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Callable

import pulumi
import pulumi_kubernetes as k8s

from llmplatform import AksCluster, KeyVault, ModelEndpoint, OpenWebUi, WorkloadIdentity
from llmplatform.handles import value_alone
from llmplatform.testing import Plan, run
from llmplatform.workload_identity import CLIENT_ID_ANNOTATION, USE_LABEL

from offline import plan, plan_diff
from tests.components.test_stranger7_consumer import cluster
from tests.offline.plan_diff_cli import check

PAGE = Path(__file__).parents[2] / "docs" / "components" / "key-vault-and-postgres.md"
SECTION = "**Your own pods that sign in as a WorkloadIdentity**"
DEPLOYMENT, IDENTITY = "kubernetes:apps/v1:Deployment", "azure-native:managedidentity:UserAssignedIdentity"
FEDERATION = "azure-native:managedidentity:FederatedIdentityCredential"
ROLLED = f"spec.template.metadata.annotations.{CLIENT_ID_ANNOTATION}"


def page_block() -> str:
    """The Python block of the page's recipe for a pod of one's own that signs in as an identity."""
    assert SECTION in PAGE.read_text(), "the page gives no recipe for a pod of one's own"
    section = PAGE.read_text().split(SECTION, 1)[1].split("\n**", 1)[0]
    (block,) = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    return block


def the_page_as_written(aks: AksCluster, identity: WorkloadIdentity) -> None:
    exec(compile(page_block(), "key-vault-and-postgres.md", "exec"), {"aks": aks, "identity": identity})  # noqa: S102


def worker_deployment(aks: AksCluster, identity: WorkloadIdentity, account: pulumi.Input[str]) -> None:
    """The consumer's own Deployment, written by hand: the client id by value alone, the account's name as given, no
    `ordered_after`."""
    labels = {"app.kubernetes.io/name": "worker"}
    k8s.apps.v1.Deployment("worker", metadata={"namespace": "apps"}, spec={
        "selector": {"matchLabels": labels},
        "template": {"metadata": {"labels": {**labels, USE_LABEL: "true"},
                                  "annotations": {CLIENT_ID_ANNOTATION: value_alone(identity.client_id)}},
                     "spec": {"serviceAccountName": account,
                              "containers": [{"name": "worker", "image": "nginx:1.27"}]}}},
        opts=pulumi.ResourceOptions(provider=aks.provider))


def the_annotation_alone(aks: AksCluster, identity: WorkloadIdentity) -> None:
    """What the page's one sentence said before: the annotation by value alone, the account's name as it is."""
    worker_deployment(aks, identity, identity.service_account_name)


def consumer(identity_name: str, worker: Callable[[AksCluster, WorkloadIdentity], None]) -> Plan:
    def program() -> None:
        aks = cluster("team", "rg-team")
        on = pulumi.ResourceOptions(providers=[aks.provider])
        vault = KeyVault("kv", {"cluster": aks.cluster, "vault_name": "kv-team-llm-01"})
        apps = k8s.core.v1.Namespace("apps", metadata={"name": "apps"}, opts=pulumi.ResourceOptions(
            provider=aks.provider))
        identity = WorkloadIdentity("worker-id", {"cluster": aks.cluster, "identity_name": identity_name,
                                                  "namespace": "apps", "service_account_name": "worker"},
                                    pulumi.ResourceOptions.merge(on, pulumi.ResourceOptions(depends_on=[apps])))
        worker(aks, identity)
        OpenWebUi("ui", {"cluster": aks.cluster, "key_vault": vault.vault, "database_url_secret": "db-url",
                         "endpoint": ModelEndpoint(base_url="http://ollama.llm:11434", api="ollama", namespace="llm",
                                                   service="ollama", port=11434)}, on)
    # the model server is another program's: its Service is not in this one
    return run(program, unjudged=["reachability"])


def docs(worker: Callable[[AksCluster, WorkloadIdentity], None]) -> tuple[dict[str, Any], dict[str, Any]]:
    return tuple(plan_diff.resources_by_urn(plan.resources_document(consumer(name, worker)))  # type: ignore
                 for name in ("id-team-worker", "id-team-worker-2"))


def worker_urn(doc: dict[str, Any]) -> str:
    (urn,) = [u for u, r in doc.items() if r["type"] == DEPLOYMENT and r["name"] == "worker"]
    return urn


def test_the_pages_recipe_rolls_the_deployment_onto_a_renamed_identity_and_replaces_nothing_in_the_cluster(tmp_path):
    base, new = docs(the_page_as_written)
    result = plan_diff.diff_documents(base, new)
    urn = worker_urn(new)
    assert any(r["type"] == IDENTITY for u, r in new.items() if u in result["replaced"])  # the premise
    kube = [u for u in result["replaced"] if new[u]["type"].startswith("kubernetes:")]
    assert not kube, kube
    assert result["changed"].get(urn) == [ROLLED], result["changed"].get(urn)
    annotations = new[urn]["inputs"]["spec"]["template"]["metadata"]
    assert annotations["labels"][USE_LABEL] == "true"
    code, out = check(tmp_path, base, new)
    assert code == 0, out
    assert any(line.startswith("- Update:") and "Deployment::worker" in line and ROLLED in line
               for line in out.splitlines()), out


def test_the_pages_recipe_waits_for_the_federation_and_takes_no_value_from_the_identity():
    """`dependencies` order the first `pulumi up` (the pods start once their federation exists); no
    `propertyDependencies` on the identity's resources, through which the engine's chain replaces."""
    p = consumer("id-team-worker", the_page_as_written)
    (worker,) = [r for r in p.of_type(DEPLOYMENT) if r.name == "worker"]
    (federation,) = [r for r in p.of_type(FEDERATION) if r.name == "worker-id-federation"]
    assert federation.urn in worker.dependencies, worker.dependencies
    held = {k: v for k, v in worker.property_dependencies.items() if any("WorkloadIdentity" in u for u in v)}
    assert not held, held
    spec = worker.inputs["spec"]["template"]["spec"]
    assert spec["serviceAccountName"] == "worker" and worker.inputs["metadata"]["namespace"] == "apps"


def test_the_annotation_alone_still_replaces_the_deployment_deleted_first(tmp_path):
    """Why the page names the account too: given as the output, its name carries the federation, which a new
    identity name replaces deleting first; the PR check names the Deployment as replaced with a gap."""
    base, new = docs(the_annotation_alone)
    result = plan_diff.diff_documents(base, new)
    assert worker_urn(new) in result["replaced"]
    code, out = check(tmp_path, base, new)
    assert any(line.startswith("- Replace:") and "Deployment::worker" in line and "deleted first" in line
               for line in out.splitlines()), out


def test_the_recipe_taken_in_the_run_that_renames_the_identity_still_replaces_and_in_a_run_of_its_own_rolls_nothing(
        tmp_path):
    """The page's order: the engine follows the dependencies the state recorded (the 0.27.1 program's, the account's
    name as it is), so the recipe and the rename in one run replace the Deployment, deleted first,
    and the PR check names it from the base plan; the recipe alone changes no value, so nothing is updated."""
    old = plan_diff.resources_by_urn(plan.resources_document(consumer("id-team-worker", the_annotation_alone)))
    recipe, renamed = docs(the_page_as_written)
    code, out = check(tmp_path, old, renamed)
    assert any(line.startswith("- Replace:") and "Deployment::worker" in line and "deleted first" in line
               for line in out.splitlines()), out
    result = plan_diff.diff_documents(old, recipe)
    assert worker_urn(recipe) not in result["changed"] and worker_urn(recipe) not in result["replaced"], result


def the_account_as_it_is(aks: AksCluster, identity: WorkloadIdentity) -> None:
    """A pod written to 0.22.0's page: the account's name as it is (it carries the federation), no annotation."""
    labels = {"app.kubernetes.io/name": "worker"}
    k8s.apps.v1.Deployment("worker", metadata={"namespace": "apps"}, spec={
        "selector": {"matchLabels": labels},
        "template": {"metadata": {"labels": {**labels, USE_LABEL: "true"}},
                     "spec": {"serviceAccountName": identity.service_account_name,
                              "containers": [{"name": "worker", "image": "nginx:1.27"}]}}},
        opts=pulumi.ResourceOptions(provider=aks.provider))


def test_the_recipe_rolls_a_pod_written_to_an_earlier_page_once_and_replaces_nothing():
    """A consumer upgrading from 0.22.0 (a stranger's, 0.22.0 to 0.28.1): its pod template had no annotation, so the
    recipe's run updates it (the pods roll once) where the page said that run changes no value; nothing replaced."""
    text = " ".join(PAGE.read_text().split())
    assert ("one written to an earlier release's docs, which gave no annotation, gains it and rolls once (an Update "
            "of that path)") in text
    old = plan_diff.resources_by_urn(plan.resources_document(consumer("id-team-worker", the_account_as_it_is)))
    recipe = plan_diff.resources_by_urn(plan.resources_document(consumer("id-team-worker", the_page_as_written)))
    result = plan_diff.diff_documents(old, recipe)
    assert result["replaced"] == {} and ROLLED in result["changed"].get(worker_urn(recipe), []), result


def the_recipe_unordered(aks: AksCluster, identity: WorkloadIdentity) -> None:
    """Both values alone, and no `ordered_after`: nothing orders the pods after their federation."""
    worker_deployment(aks, identity, value_alone(identity.service_account_name))


def identity_advice(worker: Callable[[AksCluster, WorkloadIdentity], None]) -> list[str]:
    return [w for w in consumer("id-team-worker", worker).warnings if "runs as WorkloadIdentity" in w]


def test_the_kit_advises_a_pod_that_takes_the_identitys_values_or_does_not_wait_for_its_federation():
    """The kit said nothing of either: the first is seen only by the PR check of a rename (the Deployment replaced,
    deleted first), the second by nothing offline (a first `pulumi up` whose pods start before their federation)."""
    guide = 'docs/components/key-vault-and-postgres.md, "Your own pods that sign in as a WorkloadIdentity"'
    (taken,) = identity_advice(the_annotation_alone)
    assert taken.startswith("Deployment worker (namespace apps) runs as WorkloadIdentity worker-id's account worker "
                            "and its input `spec` takes values from the identity's resources: a new identity (a new "
                            "identity_name) replaces it, deleted first, with the identity."), taken
    assert taken.endswith(guide)
    (unordered,) = identity_advice(the_recipe_unordered)
    assert "waits for none of its federation" in unordered and "ordered_after" in unordered, unordered
    assert unordered.endswith(guide)
    assert identity_advice(the_page_as_written) == []  # the page's recipe, and OpenWebUi's own pods: no advice


def test_the_pages_way_to_the_pr_check_on_ones_own_program(tmp_path):
    """As the page says: each kit plan's `resources_document` written whole as `<folder>/resources.json`, the two
    folders given to `offline.plan_diff` (its CLI's main, as `python -m offline.plan_diff` runs it)."""
    import contextlib
    import io
    import json
    text = " ".join(PAGE.read_text().split())
    assert ("`<folder>/resources.json` (`json.dumps(offline.plan.resources_document(plan))`), with `.venv/bin/python "
            "-m offline.plan_diff <base-folder> <new-folder>`") in text
    folders = []
    for folder, name in (("base", "id-team-worker"), ("new", "id-team-worker-2")):
        (tmp_path / folder).mkdir()
        document = plan.resources_document(consumer(name, the_page_as_written))
        (tmp_path / folder / "resources.json").write_text(json.dumps(document))
        folders.append(str(tmp_path / folder))
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = plan_diff.main(folders)
    assert code == 0, out.getvalue()
    assert any(line.startswith("- Update:") and "Deployment::worker" in line and ROLLED in line
               for line in out.getvalue().splitlines()), out.getvalue()
