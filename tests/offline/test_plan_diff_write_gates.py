"""Write-order gates no longer carried in values, proved through the PR check: a resource the engine replaces
deleting it first makes unknown every input whose property dependencies in the state hold it, and the provider's
Diff then replaces a dependent whose force-new input that is (pulumi/pulumi 1b5949891b
pkg/resource/deploy/step_generator.go `calculateDependentReplacements`). The handles' ordering-only fields
(ClusterHandle.network_writes_after, VaultHandle.writes_after) and the consumers' `order_of` keep each write order in
the dependencies alone. Each edit below replaces a gate's owner deleting it first: the check lists only the true
replacements, and, given a base whose property dependencies are the earlier release's (the state such a stack still
holds until its next `pulumi up`), the chain it found before."""
import copy

import pytest

from offline import plan, plan_diff

from tests.conftest import plan_for, variant
from tests.offline.plan_diff_cli import check as _check

SUBNET = "azure-native:network:Subnet"
ENDPOINT = "azure-native:network:PrivateEndpoint"
SECRET = "azure-native:keyvault:Secret"
POOL = "azure-native:containerservice:AgentPool"
GRANT = "azure-native:authorization:RoleAssignment"
CONFIG_MAP = "kubernetes:core/v1:ConfigMap"
RELEASE = "kubernetes:helm.sh/v3:Release"
# real config edits that replace a gate's owner under its own name (deleted first)
SMB_STORE = {"modelStore": {"protocol": "smb"}}  # the share, its PersistentVolume and claim, the preload Job
NEW_DATABASE = {"postgres": {"database": "chat"}}  # the PostgreSQL database (its name is part of its Azure id)


def _doc(p) -> dict:
    return plan_diff.resources_by_urn(plan.resources_document(p))


def _one(doc: dict, name: str, type_: str = "") -> str:
    (urn,) = [u for u, r in doc.items() if r["name"] == name and (not type_ or r["type"] == type_)]
    return urn


def _of_type(doc: dict, type_: str) -> list[str]:
    return sorted(u for u, r in doc.items() if r["type"] == type_)


def _held(doc: dict, urn: str, key: str, *owners: str) -> dict:
    """The document with `owners` added to `urn`'s property dependencies under `key`: what the earlier release
    (a value carrying its write-order gate, `settled`) recorded in the state."""
    out = copy.deepcopy(doc)
    deps = out[urn]["propertyDependencies"].setdefault(key, [])
    deps[:] = sorted({*deps, *owners})
    return out


def _renamed_subnet(doc: dict, subnet: str, new_name: str, references: bool = True) -> dict:
    """The document with one of AksCluster's subnets under another name (as a release renaming it would plan it):
    with `references`, every input naming its id names the new one; without, they keep the old id, as the engine's
    delete-first chain sees them (it makes them unknown before the provider's Diff, whatever they become)."""
    out = copy.deepcopy(doc)
    old_name = out[subnet]["inputs"]["subnetName"]
    out[subnet]["inputs"]["subnetName"] = new_name
    if not references:
        return out
    old_id, new_id = f"/subnets/{old_name}", f"/subnets/{new_name}"

    def rename(value):
        if isinstance(value, dict):
            return {k: rename(v) for k, v in value.items()}
        if isinstance(value, list):
            return [rename(v) for v in value]
        return value.replace(old_id, new_id) if isinstance(value, str) and value.endswith(old_id) else value
    for urn, resource in out.items():
        if urn != subnet:
            resource["inputs"] = rename(resource["inputs"])
    return out


@pytest.fixture(scope="module")
def prod() -> dict:
    return _doc(variant("prod"))


def test_the_gates_order_writes_as_dependencies_alone(prod):
    """Each gate's owner is among its consumers' dependencies (the write order: private endpoints and AKS refuse a
    network in Updating state, Key Vault takes one write at a time, the bootstrap connects to the database, the
    gate's nginx resolves the KEDA interceptor) and in none of their inputs' property dependencies."""
    dev = _doc(variant("dev"))
    postgres_subnet = _one(prod, "platform-postgres", SUBNET)
    endpoint = _one(prod, "secrets-pe", ENDPOINT)
    database = _one(prod, "postgres-db")
    ordered = {postgres_subnet: [endpoint, _one(prod, "secrets-dns-link"), _one(prod, "secrets-vault"),
                                 _one(prod, "postgres-dns-link"), _one(prod, "models-account"),
                                 *[u for u in _of_type(prod, POOL) if prod[u]["name"].startswith("gpu-")]],
               endpoint: [*_of_type(prod, SECRET), _one(prod, "inference-webui-secrets")],
               database: [_one(prod, "inference-webui-db-bootstrap-kv-admin-url", GRANT)]}
    for owner, users in ordered.items():
        for user in users:
            assert owner in prod[user]["dependencies"], (prod[owner]["name"], prod[user]["name"])
            assert not any(owner in urns for urns in prod[user]["propertyDependencies"].values()), \
                (prod[owner]["name"], prod[user]["name"], prod[user]["propertyDependencies"])
    config = _one(dev, "inference-router-config", CONFIG_MAP)
    # not the model claim: ModelVolume's namespace is the namespace as given (docs/decisions.md 2026-12-05, "the
    # unknown is no null"), so nothing in it depends on the claim
    assert _one(dev, "models-pvc") not in dev[config]["dependencies"]
    for owner in [_one(dev, "observability-keda", RELEASE), _one(dev, "observability-keda-http", RELEASE)]:
        assert owner in dev[config]["dependencies"] and owner not in dev[config]["propertyDependencies"].get(
            "data", []), dev[owner]["name"]


def test_a_renamed_postgres_subnet_replaces_no_endpoint_pool_or_secret(tmp_path, prod):
    """The PostgreSQL subnet, the network's last write, replaced under another name (deleted first): nothing that
    writes the network after it is replaced with it. The handle's subnet ids carried it before (`settled`): the Key
    Vault's private endpoint (`subnet`, force-new) was replaced, and every secret with it (the vault's name carried
    the endpoint)."""
    subnet = _one(prod, "platform-postgres", SUBNET)
    new = _renamed_subnet(prod, subnet, "postgresql")
    result = plan_diff.diff_documents(prod, new)
    assert subnet in result["replaced"] and subnet in result["deleteBeforeReplace"]
    caught = [prod[u]["name"] for u in result["replaced"] if prod[u]["type"] in (ENDPOINT, SECRET, POOL)]
    assert not caught, caught
    code, out = _check(tmp_path, prod, new, "--allow-stateful")
    assert f"Replace: `{plan_diff.short_urn(_one(prod, 'secrets-pe'))}`" not in out, out

    endpoint = _one(prod, "secrets-pe", ENDPOINT)
    earlier = _held(prod, endpoint, "subnet", subnet)
    for secret in _of_type(prod, SECRET):
        earlier = _held(earlier, secret, "vaultName", endpoint)
    result = plan_diff.diff_documents(earlier, new)
    assert endpoint in result["replaced"] and set(_of_type(prod, SECRET)) <= set(result["replaced"])


def test_a_replaced_private_endpoint_replaces_no_secret(tmp_path, prod):
    """The endpoints subnet under another name replaces the Key Vault's private endpoint (its `subnet`, force-new),
    deleted first with the subnet: the secrets written through the vault handle stay (their vaultName depends on
    the vault alone; the endpoint orders them through the handle's writes_after)."""
    subnet, endpoint = _one(prod, "platform-endpoints", SUBNET), _one(prod, "secrets-pe", ENDPOINT)
    # the endpoint's subnet id as the chain sees it: its replacement is the subnet's, deleted first with it (with a
    # new id in the document too, test_plan_diff_own_and_chain.py)
    new = _renamed_subnet(prod, subnet, "endpoints", references=False)
    result = plan_diff.diff_documents(prod, new)
    assert endpoint in result["replaced"] and endpoint in result["deleteBeforeReplace"]
    assert not [prod[u]["name"] for u in result["replaced"] if prod[u]["type"] == SECRET]

    earlier = prod
    for secret in _of_type(prod, SECRET):
        earlier = _held(earlier, secret, "vaultName", endpoint)
    assert set(_of_type(prod, SECRET)) <= set(plan_diff.diff_documents(earlier, new)["replaced"])


def test_a_model_store_on_smb_replaces_no_router_config(tmp_path):
    """`modelStore.protocol: smb` replaces the share, its PersistentVolume and claim (each under its own name,
    deleted first) and the preload Job; the API gate's ConfigMap, whose text names Ollama's namespace (the claim's)
    and the KEDA interceptor's port, is not replaced: its data no longer holds the claim (and the KEDA releases)."""
    base, new = _doc(variant("dev")), _doc(plan_for("dev", SMB_STORE))
    claim, config = _one(base, "models-pvc"), _one(base, "inference-router-config", CONFIG_MAP)
    result = plan_diff.diff_documents(base, new)
    assert claim in result["replaced"] and claim in result["deleteBeforeReplace"]
    assert config not in result["replaced"], result["replaced"].get(config)
    # the engine's chain by property dependency (an unknown `spec` or `metadata` replaces a Kubernetes object whose
    # old inputs held a force-new field under it: docs/decisions.md 2026-12-05, "the unknown is no null"): the claim
    # and the Job that names it; the Deployments mounting the claim wait for the Job by `depends_on` alone and stay
    assert sorted(base[u]["name"] for u in result["replaced"]) == [
        "models-preload", "models-pv", "models-pvc", "models-share"]
    code, out = _check(tmp_path, base, new, "--allow-stateful")
    assert "inference-router-config" not in out and code == 0, out

    earlier = _held(base, config, "data", claim)
    assert config in plan_diff.diff_documents(earlier, new)["replaced"]


def test_a_new_database_name_replaces_no_bootstrap_grant(tmp_path, prod):
    """`postgres.database` replaces the database (its name is part of its Azure id; created first since the UI's
    Jobs follow it, tests/offline/test_database_rename.py) and, of what the bootstrap runs under, nothing: the grant
    on the administrator's URL secret keeps its scope, which no longer holds the database the secret's name carried
    (PostgresServer's admin_database_url_secret waits for it); the replaced Jobs are the UI's own (new names)."""
    new = _doc(plan_for("prod", NEW_DATABASE))
    database = _one(prod, "postgres-db")
    grant = _one(prod, "inference-webui-db-bootstrap-kv-admin-url", GRANT)
    result = plan_diff.diff_documents(prod, new)
    assert [u for u in result["replaced"] if new[u]["type"] != "kubernetes:batch/v1:Job"] == [database]
    assert database not in result["deleteBeforeReplace"]
    code, out = _check(tmp_path, prod, new, "--allow-stateful")
    assert "kv-admin-url" not in out, out
    # nor from the state an earlier release wrote (the scope holding the database): a replacement created first
    # makes no dependent unknown (the engine's chain follows a delete-first one alone); with the database deleted
    # first, as before, the chain takes the grant
    assert grant not in plan_diff.diff_documents(_held(prod, grant, "scope", database), new)["replaced"]
    first = {u: ({**r, "options": {k: v for k, v in r["options"].items() if not k.startswith("deleteBeforeReplace")}}
                 if u == database else r) for u, r in new.items()}
    assert grant in plan_diff.diff_documents(_held(prod, grant, "scope", database), first)["replaced"]
