"""A workload identity replaced (a new `name_prefix`: a new identity name, a new client id), each component that makes
one driven through the kit and its two plans put through the PR check (offline.plan_diff), as `pulumi up` would run
the change. pulumi-azure-native replaces a named resource deleted first, and the engine then replaces every resource
whose inputs came from it and whose provider's Diff replaces on an unknown (pulumi/pulumi 1b5949891b step_generator.go
calculateDependentReplacements): the ServiceAccount (its client-id annotation in `metadata`) and through it, and the
federation and grants the account's name carries, every Deployment and Job of that account, deleted first too (the
API gate, vLLM and the UI down for the run). Now the identity, its federation and grants are replaced, and the account
and the SecretProviderClass updated in place: no workload is replaced (docs/decisions.md, "A replaced workload
identity rolls the pods that sign in as it")."""
from __future__ import annotations

import functools
from typing import Any

import pytest
import llmplatform as P

from offline import plan, plan_diff
from offline import runner as offline
from tests.components.test_components_alone import REQUIRED, provider_opts
from tests.offline.plan_diff_cli import check

IDENTITY, ACCOUNT = "azure-native:managedidentity:UserAssignedIdentity", "kubernetes:core/v1:ServiceAccount"
CLASS = "kubernetes:secrets-store.csi.x-k8s.io/v1:SecretProviderClass"
DEPLOYMENT, JOB = "kubernetes:apps/v1:Deployment", "kubernetes:batch/v1:Job"
# each component that makes a WorkloadIdentity, with the input that makes it, and the pod templates that change with
# a new one: (kind, name in the cluster)
CASES: dict[str, tuple[dict[str, Any], set[tuple[str, str]]]] = {
    "OpenWebUi": ({"admin_database_url_secret": "admin-url"}, set()),
    "OpenWebUi-database": ({"database_name": "chat"}, set()),
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
def test_a_replaced_identity_replaces_no_workload(tmp_path, case):
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
    # no pod template changes
    rolled = {_object(new, u) for u, paths in updated.items() if any(p.startswith("spec.template") for p in paths)}
    assert rolled == CASES[case][1], rolled
    # what the PR check prints: no Deployment or Job Replaced
    code, out = check(tmp_path, base, new)
    assert code == 0, out  # nothing stateful replaced: the check passes as it is
    lines = out.splitlines()
    assert not any(line.startswith("- Replace:") and ("Deployment" in line or "Job" in line) for line in lines), out


@pytest.mark.parametrize("case", sorted(CASES))
def test_an_unchanged_identity_rolls_nothing(case):
    """The same program planned again: the client id is known and the same, so no `pulumi up` rolls a pod for it."""
    first = _doc(_plan(case, "a"))
    _plan.cache_clear()  # planned anew, not the cached plan
    again = _doc(_plan(case, "a"))
    result = plan_diff.diff_documents(first, again)
    assert not result["changed"] and not result["replaced"], result["changed"]

