"""The prod cluster rebuilt by a change that replaces it (a new network policy engine: `networkProfile.networkPolicy`
is force-new in pulumi-azure-native), as an operator meets it: the pull-request check on the two plans
(offline.plan_diff's CLI, what `make plan` and the workflow run) and docs/operations.md, "Rebuilding the cluster (a
change that replaces it)". The state that must survive is the model share, PostgreSQL with Open-WebUI's data and Key
Vault with its secrets; the new cluster must get its workload identities' federated credentials anew."""
from __future__ import annotations

import re
import shlex
from typing import Any

import pytest

from offline import plan, plan_diff
from offline.plan_diff.volumes import CLAIM_IN_USE

from tests.conftest import plan_for
from tests.offline.plan_diff_cli import check
from tests.offline.test_day2_procedures import section

CLUSTER = "azure-native:containerservice:ManagedCluster"
FEDERATION = "azure-native:managedidentity:FederatedIdentityCredential"
IDENTITY = "azure-native:managedidentity:UserAssignedIdentity"
GRANT = "azure-native:authorization:RoleAssignment"
CLAIM = "kubernetes:core/v1:PersistentVolumeClaim"
REBUILT = {"cluster": {"networkPolicy": "calico"}}
# what must outlive the cluster: the model store's account and share, the database server and database, the vault
# and its secrets, the generated keys and passwords
KEPT = ("azure-native:storage:StorageAccount", "azure-native:storage:FileShare",
        "azure-native:dbforpostgresql:Server", "azure-native:dbforpostgresql:Database",
        "azure-native:keyvault:Vault", "azure-native:keyvault:Secret", "random:index/randomPassword:RandomPassword")


def _doc(p) -> dict[str, dict[str, Any]]:
    return plan_diff.resources_by_urn(plan.resources_document(p))


@pytest.fixture(scope="module")
def docs(prod) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    return _doc(prod), _doc(plan_for("prod", REBUILT))


def _line(out: str, kind: str, urn: str, engine: dict[str, str]) -> str:
    short = plan_diff.short_urn(engine.get(urn, urn))
    lines = [x for x in out.splitlines() if x.startswith(f"- {kind}: `{short}`")]
    assert len(lines) == 1, (kind, short, out)
    return lines[0]


def test_the_check_updates_each_federated_credential_to_the_new_clusters_issuer(tmp_path, docs):
    """AKS gives each cluster its own OIDC issuer (`https://<region>.oic.prod-aks.azure.com/<tenant>/<uuid>/`, the
    uuid the cluster's), so a cluster made again under its old name has another, and each workload identity's
    federated credential must take it or its pods get no token (the API gate, Open-WebUI and its database bootstrap
    read Key Vault so). The engine does: the credential's `issuer` comes from the cluster (a property dependency),
    unknown in the preview and the new value in the update. The check listed `0 to update` and no credential; it now
    lists each on an Update line, and what keeps its value (the node resource group's name in the budget's filter,
    the cluster's ID in the alert rules' scopes) on none."""
    base, new = docs
    engine = plan_diff.engine_urns(new)
    code, out = check(tmp_path, base, new)
    assert code == 1  # the cluster and what goes with it are blocked until allowed (below)
    cluster = next(u for u, r in new.items() if r["type"] == CLUSTER)
    federations = [u for u, r in new.items() if r["type"] == FEDERATION]
    assert len(federations) == 3 and all(new[u]["propertyDependencies"]["issuer"] == [cluster] for u in federations)
    for urn in federations:
        line = _line(out, "Update", urn, engine)
        assert "`issuer`: a new value from" in line and plan_diff.short_urn(engine[cluster]) in line, line
    assert f"**0 to add, {len(federations)} to update," in out, out.splitlines()[4]
    result = plan_diff.diff_documents(base, new)
    assert set(result["changed"]) - set(result["replaced"]) == set(federations)
    # the identities and their grants stay: the same principal, so Key Vault still admits each
    identities = {u for u, r in new.items() if r["type"] == IDENTITY}
    grants_to_them = {u for u, r in new.items() if r["type"] == GRANT
                      and set(r["dependencies"]) & identities}
    assert identities and grants_to_them
    assert not (identities | grants_to_them) & (set(result["replaced"]) | set(result["changed"]))
    # and what must outlive the cluster is neither replaced nor changed
    kept = {u for u, r in new.items() if r["type"] in KEPT}
    assert kept and not kept & (set(result["replaced"]) | set(result["changed"]) | set(result["removed"]))


def test_the_same_plan_again_updates_no_credential(tmp_path, docs):
    """Nothing replaced, nothing follows: the issuer stand-in is a value of the cluster's, not a change."""
    base, _ = docs
    code, out = check(tmp_path, base, base)
    assert code == 0 and "**0 to add, 0 to update, 0 to replace, 0 to delete**" in out, out


def test_the_claims_say_the_run_frees_them_itself(docs):
    """Both claims go with the old cluster. Every workload of the program that mounts one depends on it and is in
    the same delete-first chain (its provider is replaced), and pulumi-kubernetes deletes in the foreground, so the
    run frees the claims itself: the check no longer tells the operator to stop Ollama and the UI and delete the
    preload Job's pods by hand, and says what could still hold them. A claim whose model servers stay (a new share
    protocol) keeps the general line."""
    base, new = docs
    result = plan_diff.diff_documents(base, new)
    claims = {new[u]["inputs"]["metadata"]["name"]: u for u, r in new.items() if r["type"] == CLAIM}
    models, uploads = result["checks"][claims["models"]], result["checks"][claims["open-webui-data"]]
    assert CLAIM_IN_USE not in models + uploads
    assert "Deployment `ollama`" in models[0] and "Job `model-preload-" in models[0]
    assert "Deployment `open-webui`" in uploads[0] and "only pods made outside the program" in uploads[0]
    smb = plan_diff.diff_documents(base, _doc(plan_for("prod", {"modelStore": {"protocol": "smb"}})))
    assert CLAIM_IN_USE in smb["checks"][claims["models"]]
    # the models claim is bound to a retained volume on the share: its blocking line says it deletes no data; the
    # uploads claim's volume (dynamic, the class's Delete) gets no such note
    blocked = dict(plan_diff.blocking(result, set(), False))
    assert "a volume Kubernetes retains (`persistentVolumeReclaimPolicy: Retain`): deleting the claim deletes no " \
        "data" in blocked[claims["models"]], blocked[claims["models"]]
    assert "retains" not in blocked[claims["open-webui-data"]]


def flat_text(text: str) -> str:
    return " ".join(text.split())


def _commands(text: str) -> list[list[str]]:
    """The shell lines of the section's code blocks, split as the shell splits them (comments dropped)."""
    blocks = re.findall(r"```bash\n(.*?)```", text, re.S)
    return [shlex.split(line, comments=True) for block in blocks for line in block.splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


def test_the_procedure_lifts_protect_from_exactly_what_the_check_lists_as_protected(tmp_path, docs):
    """The section's `pulumi state unprotect` lines, their URN patterns matched against the stack's engine URNs as
    `pulumi stack --show-urns` prints them, name each resource the check lists as Protected (the `pulumi up` stops
    at any left) and nothing else; and its counts are the check's."""
    base, new = docs
    text = section("Rebuilding the cluster (a change that replaces it)")
    result = plan_diff.diff_documents(base, new)
    engine = plan_diff.engine_urns(base)
    protected = {engine[u] for u in result["protected"]}
    lifted: set[str] = set()
    for words in _commands(text):
        if words[:3] == ["pulumi", "state", "unprotect"]:
            pattern = re.search(r"grep -o '([^']+)'", " ".join(words)) or re.search(r"grep -o ([^ )]+)", words[3])
            assert pattern, words
            matched = {u for u in engine.values() if re.search(pattern[1], u)}
            assert len(matched) == 1, (pattern[1], matched)
            lifted |= matched
    assert lifted == protected, (sorted(lifted), sorted(protected))
    # the run that deletes lifts nothing else: `--ignore-protect` on an `up` would lift the stores' protect too
    assert not [w for w in _commands(text) if w[:2] == ["pulumi", "up"] and "--ignore-protect" in w]
    assert "`pulumi preview --ignore-protect`" in flat_text(text)
    blocked = plan_diff.blocking(result, set(), False)
    flat = " ".join(text.split())
    assert f"replaces {len(result['replaced'])} resources and blocks {len(blocked)} of them" in flat, (
        len(result["replaced"]), len(blocked))
    assert f"updates the {len([u for u in result['changed'] if u not in result['replaced']])} federated" in flat


@pytest.mark.parametrize("typed, meant", [("network.networkPolicy", "cluster.networkPolicy"),
                                          ("networkPolicy", "cluster.networkPolicy"),
                                          ("cluster.podCidr", "network.podCidr")])
def test_a_rebuilding_key_in_the_wrong_section_is_named_where_it_belongs(tmp_path, capsys, typed, meant):
    """The engine is `cluster.networkPolicy` and the ranges are `network.*`: an operator trying the change with
    `--set network.networkPolicy=calico` read "known: dnsServiceIp, endpointsSubnetCidr, ..." (no networkPolicy),
    one with `networkPolicy` at the top "did you mean 'network'?", the wrong section. The message names the key's
    section; a name many sections hold (`enabled`) keeps the nearest same-section names."""
    from offline import plan as plan_cli
    assert plan_cli.main(["--stack", "prod", "--out", str(tmp_path), "--set", f"{typed}=x"]) != 0
    err = capsys.readouterr().err
    assert f"{typed} is not a known key; it is a key of another section: '{meant}'" in err, err
    assert "Traceback" not in err
    assert plan_cli.main(["--stack", "prod", "--out", str(tmp_path), "--set", "cluster.enabled=true"]) != 0
    err = capsys.readouterr().err
    assert "cluster.enabled is not a known key; known: adminGroupObjectIds" in err, err
