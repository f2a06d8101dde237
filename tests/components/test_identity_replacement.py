"""A workload identity replaced (a new `name_prefix`: a new identity name, a new client id), each component that makes
one driven through the kit and its two plans put through the PR check (offline.plan_diff), as `pulumi up` would run
the change. pulumi-azure-native replaces a named resource deleted first, and the engine then replaces every resource
whose inputs came from it and whose provider's Diff replaces on an unknown (pulumi/pulumi 1b5949891b step_generator.go
calculateDependentReplacements): the ServiceAccount (its client-id annotation in `metadata`) and through it, and the
federation and grants the account's name carries, every Deployment and Job of that account, deleted first too (the
API gate, vLLM and the UI down for the run). Now the identity, its federation and grants are replaced, the account
and the SecretProviderClass updated in place, and only the pods whose own process signs in as the identity roll:
Open-WebUI's (the webhook set AZURE_CLIENT_ID when each pod was created, and an Azure OpenAI connection with Microsoft
Entra ID auth signs in with it). The others read Key Vault through the CSI driver alone, whose rotation takes the
class's new clientID on its next poll with no restart (docs/decisions.md, "A replaced workload identity rolls the
pods that sign in as it")."""
from __future__ import annotations

import functools
from typing import Any

import pytest
import llmplatform as P
from pulumi.output import Unknown
from llmplatform.testing.stand_ins import identity_ids
from llmplatform.workload_identity import CLIENT_ID_ANNOTATION

from offline import plan, plan_diff
from offline import runner as offline
from offline.deploy_model import teardown
from offline.pod_specs import pod_spec
from tests.components.test_components_alone import REQUIRED, provider_opts
from tests.offline.plan_diff_cli import check

IDENTITY, ACCOUNT = "azure-native:managedidentity:UserAssignedIdentity", "kubernetes:core/v1:ServiceAccount"
CLASS = "kubernetes:secrets-store.csi.x-k8s.io/v1:SecretProviderClass"
DEPLOYMENT, JOB = "kubernetes:apps/v1:Deployment", "kubernetes:batch/v1:Job"
ROLLED = f"spec.template.metadata.annotations.{CLIENT_ID_ANNOTATION}"
# each component that makes a WorkloadIdentity, with the input that makes it, and the pod templates that roll onto a
# new one: (kind, name in the cluster)
CASES: dict[str, tuple[dict[str, Any], set[tuple[str, str]]]] = {
    "OpenWebUi": ({"admin_database_url_secret": "admin-url"}, {(DEPLOYMENT, "open-webui")}),
    # a given database: the UI's annotations are one output (pod_annotations) rather than a map of them
    "OpenWebUi-database": ({"database_name": "chat"}, {(DEPLOYMENT, "open-webui")}),
    "ApiGate": ({}, set()),
    "LlmdStack": ({"hf_token_secret": "hf-token"}, set()),
    "Observability": ({"alert_receiver": {"kind": "msteams", "secret": "alerts-teams-url"}}, set()),
}


@functools.lru_cache(maxsize=None)
def _plan(case: str, prefix: str, preview: bool = False) -> offline.Plan:
    component = case.split("-")[0]
    extra = CASES[case][0]
    return offline.run_function(lambda: getattr(P, component)(
        "x", {**REQUIRED[component](), **extra, "name_prefix": prefix}, provider_opts()), preview=preview)


def _doc(p: offline.Plan) -> dict[str, dict[str, Any]]:
    return plan_diff.resources_by_urn(plan.resources_document(p))


def _object(doc: dict[str, dict[str, Any]], urn: str) -> tuple[str, str]:
    return doc[urn]["type"], doc[urn]["inputs"]["metadata"]["name"]


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_replaced_identity_rolls_the_pods_that_sign_in_as_it_and_replaces_no_workload(tmp_path, case):
    base, new = _doc(_plan(case, "a")), _doc(_plan(case, "b"))
    result = plan_diff.diff_documents(base, new)
    identities = {u for u, r in new.items() if r["type"] == IDENTITY}
    assert identities and identities <= set(result["replaced"])  # the premise: a new identity, a new client id
    # the identity, its federation and its grants are replaced (each deleted first), nothing in the cluster
    kube = {u for u in result["replaced"] if new[u]["type"].startswith("kubernetes:")}
    assert not kube, kube
    # the account and the class take the new client id in place: pods created from now on sign in as it
    updated = {u: paths for u, paths in result["changed"].items() if u not in result["replaced"]}
    accounts = {u for u, r in new.items() if r["type"] == ACCOUNT and "azure.workload.identity/client-id"
                in (r["inputs"]["metadata"].get("annotations") or {})}
    assert accounts and all(updated.get(u) == ["metadata.annotations.azure.workload.identity/client-id"]
                            for u in accounts), {u: updated.get(u) for u in accounts}
    assert all(updated.get(u) == ["spec.parameters.clientID"] for u, r in new.items() if r["type"] == CLASS)
    # the pod templates that roll: the client id's annotation and nothing else; no other template changes
    rolled = {_object(new, u) for u, paths in updated.items() if any(p.startswith("spec.template") for p in paths)}
    assert rolled == CASES[case][1], rolled
    assert all(updated[u] == [ROLLED] for u in updated if _object(new, u) in rolled)
    # what the PR check prints: every rolled Deployment on an Update line with the path, none Replaced
    code, out = check(tmp_path, base, new)
    assert code == 0, out  # nothing stateful replaced: the check passes as it is
    lines = out.splitlines()
    for urn in (u for u in updated if _object(new, u) in rolled):
        assert any(line.startswith("- Update:") and plan_diff.short_urn(urn) in line and ROLLED in line
                   for line in lines), out
    assert not any(line.startswith("- Replace:") and ("Deployment" in line or "Job" in line) for line in lines), out


@pytest.mark.parametrize("case", sorted(CASES))
def test_an_unchanged_identity_rolls_nothing(case):
    """The same program planned again: the client id is known and the same, so no `pulumi up` rolls a pod for it."""
    first = _doc(_plan(case, "a"))
    _plan.cache_clear()  # planned anew, not the cached plan
    again = _doc(_plan(case, "a"))
    result = plan_diff.diff_documents(first, again)
    assert not result["changed"] and not result["replaced"], result["changed"]

def test_the_uis_template_carries_the_client_id_of_its_own_identity_and_the_preview_leaves_it_unknown():
    """The value is the UI identity's client id, not the bootstrap Job's; a preview of a new stack (nothing created:
    the client id unknown) still shows the Deployment, its annotation unknown (the kit's preview answers azure-native's
    PreviewOutputs: an output no input gives is unknown)."""
    p = _plan("OpenWebUi", "a")
    (identity,) = [r for r in p.resources if r.type == IDENTITY and r.inputs["resourceName"] == "id-a-open-webui"]
    (ui,) = [r for r in p.resources if r.type == DEPLOYMENT and r.inputs["metadata"]["name"] == "open-webui"]
    assert ui.inputs["spec"]["template"]["metadata"]["annotations"][CLIENT_ID_ANNOTATION] == identity_ids(identity)[0]
    preview = _plan("OpenWebUi", "a", preview=True)
    (shown,) = [r for r in preview.resources if r.type == DEPLOYMENT and r.inputs["metadata"]["name"] == "open-webui"]
    assert isinstance(shown.inputs["spec"]["template"]["metadata"]["annotations"][CLIENT_ID_ANNOTATION], Unknown)


def test_an_identity_updated_in_place_rolls_no_pod():
    """New tags update the identity in place: its client id stays, and `pulumi up` rolls no pod for it. (The preview of
    that update shows the annotation unknown, as it shows the account's and the class's: pulumi-azure-native's Update
    answers a preview with the inputs and the old name and location alone; docs/decisions.md.)"""
    def planned(tags: dict[str, str]) -> dict[str, dict[str, Any]]:
        return _doc(offline.run_function(lambda: P.OpenWebUi("x", {**REQUIRED["OpenWebUi"](), "name_prefix": "a",
                                                                    "tags": tags}, provider_opts())))
    tagged = planned({"team": "chat"})
    result = plan_diff.diff_documents(planned({}), tagged)
    changed = {tagged[u]["type"] for u in result["changed"]}
    assert IDENTITY in changed and not result["replaced"]
    assert not {t for t in changed if t.startswith("kubernetes:")}, changed


FEDERATION = "azure-native:managedidentity:FederatedIdentityCredential"
GRANT = "azure-native:authorization:RoleAssignment"
RELEASE = "kubernetes:helm.sh/v3:Release"


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_destroy_deletes_the_workloads_then_their_account_federation_and_grants_then_the_identity(case):
    """The account's annotation and the pod templates hold no property dependency on the identity any more: the
    order lives in `dependencies` alone (the account's `depends_on=[identity]`, the templates' `ordered_after`). The
    engine's delete order reads those too (pulumi/pulumi 1b5949891b step_generator.go `ScheduleDeletes` through
    graph/dependency_graph.go `DependenciesOf`, resource/state.go `GetAllDependencies`: parent, `Dependencies`,
    `PropertyDependencies`, deletedWith, provider), as the teardown model does (offline/deploy_model/teardown.py):
    a `pulumi destroy` deletes every workload naming an account (or a release running under it) before the account,
    its federation and its grants, and those before the identity. Without the account's depends_on it went with the
    identity, in one round; without a template's, the workload with its federation and grants."""
    p = _plan(case, "a")
    height = teardown.delete_heights(p)
    by_urn = {r.urn: r for r in p.resources}
    identities = p.of_type(IDENTITY)
    assert identities
    for identity in identities:
        (account,) = [r for r in p.of_type(ACCOUNT) if r.parent == identity.parent]
        name, namespace = account.inputs["metadata"]["name"], account.inputs["metadata"].get("namespace")
        gates = [r for r in [*p.of_type(FEDERATION), *p.of_type(GRANT)] if identity.urn in r.dependencies]
        assert {r.type for r in gates} == {FEDERATION, GRANT}, gates
        workloads = [r for r in p.kubernetes_objects() if (spec := pod_spec(r.inputs)) is not None
                     and spec.get("serviceAccountName") == name
                     and r.inputs["metadata"].get("namespace") == namespace]
        workloads += [r for r in p.of_type(RELEASE) if account.urn in r.dependencies]  # Alertmanager's chart
        assert workloads, (case, name)
        later = {by_urn[u].name: height[u] for u in (account.urn, *(g.urn for g in gates))}
        assert all(h > height[identity.urn] for h in later.values()), (identity.name, height[identity.urn], later)
        for workload in workloads:
            assert all(height[workload.urn] > h for h in later.values()), (workload.name, height[workload.urn], later)
