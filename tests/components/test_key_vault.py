"""KeyVault (components/llmplatform/key_vault.py): secrets with content type and expiry, identities that may only
read, and the global stack's key set written into every regional vault and read by each region's API gate."""
from __future__ import annotations

import asyncio

import pulumi
import pytest

from config import inputs, regions
from config.loader import parse_config
from offline import runner as offline

from tests.conftest import REGIONS, plan_for, variant, PROJECT_DIR
from tests.components.test_gateway import _regional, _joined


P = "aks-llm-platform"


def test_the_global_stack_writes_one_key_set_into_every_regional_vault(global_plan):
    """Each region's vault (its keyVaultName and resourceGroupName outputs) gets the key map and the newest key,
    both as secrets; the keys are generated once (one RandomPassword per configured name), not per region."""
    secrets = global_plan.of_type("azure-native:keyvault:Secret")
    vaults = {(plan_for(r).outputs["resourceGroupName"], plan_for(r).outputs["keyVaultName"]) for r in REGIONS}
    for name in ("edge-api-key-map", "edge-api-key"):
        mine = [s for s in secrets if s.inputs["secretName"] == name]
        assert {(s.inputs["resourceGroupName"], s.inputs["vaultName"]) for s in mine} == vaults
        assert all(any("properties.value".startswith(path) for path in s.secret_paths) for s in mine)
    keys = global_plan.of_type("random:index/randomPassword:RandomPassword")
    names = regions.parse_global(regions.raw_stack_file(PROJECT_DIR / "Pulumi.global.yaml", P), P, "global").api_keys
    assert len(keys) == len(names) >= 1
    assert global_plan.outputs["apiKeySecret"] == "edge-api-key"
    assert "apiKey" in global_plan.secret_outputs  # the key leaves the stack only as a Pulumi secret


def test_a_joined_regions_api_gate_reads_the_key_set_the_global_stack_writes(global_plan):
    """The names the regional config hands the gate are the secrets the global plan writes; the gate then mounts
    that map and generates no key of its own (the router alone, under the offline runner)."""
    from types import SimpleNamespace
    from llmplatform.api_router import RouterSpec, api_router
    from tests.components.test_components_alone import VAULT, cluster_handle, provider_opts
    written = {s.inputs["secretName"] for s in global_plan.of_type("azure-native:keyvault:Secret")}
    handles = SimpleNamespace(database_url_secret="db", admin_database_url_secret="db-admin", database="openwebui",
                              scheduling={}, route_target=None)
    joined = inputs.inference_args(_joined(global_plan), {}, VAULT, {}, handles, None, None, None)
    assert {joined["api_key_map_secret"], joined["api_key_secret"]} == written
    alone = inputs.inference_args(parse_config(_regional("prod-westeurope"), P, "prod-westeurope"), {}, VAULT, {},
                                  handles, None, None, None)
    assert "api_key_map_secret" not in alone  # before the global stack is up: the region's own key

    class Owner(pulumi.ComponentResource):
        def __init__(self):
            super().__init__("test:index:Owner", "owner", None, provider_opts())
            api_router(self, RouterSpec(
                name="inference", namespace="llm", cluster=cluster_handle(), upstream_host="ollama",
                upstream_port=11434, upstream_host_header=None, client_peers=[], api_key_auth=True,
                rate_limit_per_second=10, rate_limit_burst=20, request_timeout_seconds=600, vault=VAULT,
                api_key_secret=joined["api_key_secret"], api_key_map_secret=joined["api_key_map_secret"]))
    plan = offline.run_function(Owner)
    assert not plan.of_type("random:index/randomPassword:RandomPassword")
    assert not plan.of_type("azure-native:keyvault:Secret")
    spc = plan.one("kubernetes:secrets-store.csi.x-k8s.io/v1:SecretProviderClass").inputs["spec"]["parameters"]
    assert "objectName: edge-api-key-map" in spc["objects"]
    conf = plan.one("kubernetes:core/v1:ConfigMap").inputs["data"]["nginx.conf"]
    assert "/edge-api-key-map;" in conf


def test_key_vault_secrets_have_content_type_and_expiry(dev):
    secrets = dev.of_type("azure-native:keyvault:Secret")
    assert {s.inputs["secretName"] for s in secrets} >= {"postgres-admin-password", "postgres-database-url",
                                                          "inference-webui-secret-key", "inference-api-key",
                                                          "inference-api-key-map"}
    for s in secrets:
        assert s.inputs["properties"]["contentType"] and s.inputs["properties"]["attributes"]["expires"] > 0


def test_identities_may_only_read_secrets(dev):
    readers = [r for r in dev.of_type("azure-native:authorization:RoleAssignment") if "-kv-" in r.name]
    # the gate's key map; the UI's database URL and session key (Ollama's needs no key); the UI's role bootstrap:
    # the administrator's URL and the UI's
    assert len(readers) == 5
    for r in readers:
        assert r.inputs["roleDefinitionId"].endswith("4633458b-17de-408a-b874-0445c86b69e6")
        # one secret of the vault, never the vault (test_every_identity_reads_exactly_the_secrets_it_mounts)
        vault, _, secret = r.inputs["scope"].partition("/secrets/")
        assert vault.endswith("/providers/Microsoft.KeyVault/vaults/kv-llmp-dev-7a1ba17d2ce9") and secret, \
            r.inputs["scope"]


def test_every_write_to_one_vault_waits_for_the_one_before_it():
    """Key Vault refuses parallel writes (ConflictError, pulumi-azure-native#1013): a private vault's endpoint comes
    first (the handle's name waits for it), then each secret, whichever component writes it, after the previous
    one; a second vault's writes are chained apart from the first's."""
    import llmplatform
    from llmplatform.key_vault import vault_secret
    from tests.components.test_components_alone import cluster_handle

    class Owner(pulumi.ComponentResource):
        def __init__(self, name, vault, secrets, value="value"):
            super().__init__("test:index:Owner", name, None)
            self.written = [vault_secret(f"{name}-{secret}", vault, secret, value, "text/plain", self)
                            for secret in secrets]

    def program():
        private = llmplatform.KeyVault("kv", {"cluster": cluster_handle(), "vault_name": "kv-test-1",
                                              "public_network_access": False})
        other = llmplatform.KeyVault("kv2", {"cluster": cluster_handle(), "vault_name": "kv-test-2"})
        # a value ready only once the other writes are done (as a server's FQDN after its create): declared first
        slow_value = asyncio.get_event_loop().create_future()
        Owner("slow", private.vault, ["five"], pulumi.Output.from_input(slow_value))
        Owner("a", private.vault, ["one", "two"])
        Owner("b", other.vault, ["three"])
        last = Owner("c", private.vault, ["four"]).written[0]
        last.urn.apply(lambda _: slow_value.set_result("late"))

    plan = offline.run_function(program)
    urn = {r.name: r.urn for r in plan.resources}
    deps = {r.name: set(r.dependencies) for r in plan.resources}
    assert urn["kv-pe"] in deps["a-one"]
    assert urn["a-one"] in deps["a-two"] and urn["a-two"] in deps["c-four"]
    assert not {urn["a-one"], urn["a-two"], urn["c-four"]} & deps["b-three"]
    # declared first, its value ready last: it joins the queue at its end instead of holding the others (a chain
    # in declaration order would have the others wait for it while it waits for them: a run that never ends)
    assert urn["c-four"] in deps["slow-five"] and urn["slow-five"] not in deps["a-one"]
    from offline import deploy_model as dm
    assert [p for p in dm.evaluate(plan).problems if p.rule == "vault-writes"] == []


def test_a_consumers_own_secret_beside_the_platforms_is_refused_with_the_way_out():
    """A stranger adds a secret of their own to the platform's vault with a raw keyvault.Secret: nothing orders it
    against the components' secrets, which Azure would refuse at `pulumi up`; the testing kit refuses it first,
    names the queueing writer, and says which of the program's own resources to make wait for which component."""
    import pytest
    from pulumi_azure_native import keyvault
    import llmplatform
    from llmplatform.testing import ProgramError
    from tests.components.test_components_alone import cluster_handle

    def program(mine_waits: bool):
        vault = llmplatform.KeyVault("kv", {"cluster": cluster_handle(), "vault_name": "kv-test-1"})
        database = llmplatform.PostgresServer("pg", {"cluster": cluster_handle(), "key_vault": vault.vault,
                                                     "server_name": "psql-test-1"})
        keyvault.Secret("mine", resource_group_name="rg-test", vault_name=vault.vault_name, secret_name="mine",
                        properties=keyvault.SecretPropertiesArgs(value=pulumi.Output.secret("x")),
                        opts=pulumi.ResourceOptions(depends_on=[database] if mine_waits else None))

    with pytest.raises(ProgramError) as refused:
        offline.run_function(lambda: program(False))
    message = str(refused.value)
    assert "may write Key Vault kv-test-1 while" in message and "[vault-writes]" in message
    assert "llmplatform.key_vault.vault_secret" in message
    assert "(in this program: give Secret 'mine' a depends_on on PostgresServer 'pg')" in message
    offline.run_function(lambda: program(True))  # the way out the message gives


def test_the_api_gates_identity_reads_only_its_key_map(prod, dev, global_plan):
    """The router faces the internet; with "Key Vault Secrets User" on the whole vault its identity (a token any
    process in the pod can get through workload identity) read every secret there, the PostgreSQL admin password and
    database URL included. It is granted its key map alone (a secret as the scope, `<vault id>/secrets/<name>`),
    after the map is written; a joined region's gate, the global key set's map."""
    for plan in (prod, dev, variant("llmd")):
        readers = [r for r in plan.of_type("azure-native:authorization:RoleAssignment")
                   if r.name.endswith("router-kv-reader")]
        assert readers
        for r in readers:
            vault_scope, _, secret = r.inputs["scope"].partition("/secrets/")
            assert vault_scope.endswith(plan.outputs["keyVaultName"]) and secret.endswith("api-key-map"), r.inputs
            writer = [w for w in plan.of_type("azure-native:keyvault:Secret") if w.inputs["secretName"] == secret]
            assert [w.urn for w in writer if w.urn in r.dependencies] == [w.urn for w in writer]
    joined = plan_for("prod-westeurope", {"edge": {"frontDoorId": "00000000-0000-0000-0000-0000000000fd"}})
    reader, = [r for r in joined.of_type("azure-native:authorization:RoleAssignment")
               if r.name.endswith("router-kv-reader")]
    assert reader.inputs["scope"].endswith("/secrets/edge-api-key-map")


def _mounted_objects(spc: dict) -> list[str]:
    import yaml
    return [yaml.safe_load(item)["objectName"]
            for item in yaml.safe_load(spc["spec"]["parameters"]["objects"])["array"]]


def _gated_llmd_plan():
    import llmplatform
    from tests.components.test_components_alone import REQUIRED, provider_opts

    def program():
        llmplatform.LlmdStack("gated", {**REQUIRED["LlmdStack"](), "model": "meta-llama/Llama-3.1-8B-Instruct",
                                        "hf_token_secret": "hf-token-prod"}, provider_opts())
    return offline.run_function(program)


def _identity_name(stand_in_id: str, suffix: str) -> str:
    """The identity's name in a stand-in principal or client id (`<name>-<hash of its ARM id>-<suffix>`)."""
    return stand_in_id.removesuffix(suffix).rsplit("-", 1)[0]


@pytest.mark.parametrize("name", ["dev", "prod", "prod-tls", "llmd", "llmd-keyless", "dev-smb-nogpu", "gated-llmd"])
def test_every_identity_reads_exactly_the_secrets_it_mounts(name):
    """Open-WebUI's and vLLM's identities were "Key Vault Secrets User" on the whole vault: the PostgreSQL admin
    password, every gate's key map and any secret added later were theirs to read. Now every workload identity holds
    the role on exactly the secrets its SecretProviderClass mounts (the CSI driver's Azure provider GETs each named
    object, nothing is listed), each granted after the program writes it."""
    plan = _gated_llmd_plan() if name == "gated-llmd" else plan_for("llmd", {"gateway": {"apiKeyAuth": False}}) \
        if name == "llmd-keyless" else variant(name)
    grants: dict[str, set[str]] = {}
    for r in plan.of_type("azure-native:authorization:RoleAssignment"):
        if r.inputs["roleDefinitionId"].endswith("4633458b-17de-408a-b874-0445c86b69e6"):  # Key Vault Secrets User
            vault, _, secret = r.inputs["scope"].partition("/secrets/")
            assert secret, f"{r.name} reads the whole vault {vault}"
            grants.setdefault(_identity_name(r.inputs["principalId"], "-principal"), set()).add(secret)
            writers = [w.urn for w in plan.of_type("azure-native:keyvault:Secret") if w.inputs["secretName"] == secret]
            assert all(plan.waits_for(r, lambda d, urn=urn: d.urn == urn) for urn in writers), (r.name, secret)
    mounts: dict[str, set[str]] = {}
    for spc in (r.inputs for r in plan.kubernetes_objects() if r.inputs["kind"] == "SecretProviderClass"):
        mounts.setdefault(_identity_name(spc["spec"]["parameters"]["clientID"], "-client"), set()).update(
            _mounted_objects(spc))
    assert grants == mounts and (mounts or name == "dev-smb-nogpu")  # that variant has no UI and no key
    if name == "llmd-keyless":  # a gate without a key hands the UI none to mount or read
        assert not any(s.endswith("api-key") for v in grants.values() for s in v), grants
    if name == "prod-tls":  # the first admin's password and a secret_env secret are among them
        ui = next(v for k, v in grants.items() if k.endswith("open-webui"))
        assert {s for s in ui if s.endswith("webui-admin-password")} and "webui-entra-client-secret" in ui, ui
    if name == "gated-llmd":
        assert any(v == {"hf-token-prod"} for k, v in grants.items() if k.endswith("vllm")), grants


@pytest.mark.parametrize("whole", [False, True], ids=["dict handles", "one-output handles"])
def test_hand_built_handles_order_writes_through_their_ordering_fields(whole):
    """A program's own network, its last subnet given as the cluster handle's network_writes_after, a private KeyVault
    on it and a secret of the program's own written through the vault handle: the endpoint waits for the subnet, the
    secret and the SecretProviderClass for the endpoint (the vault handle's writes_after), for handles given as dicts
    and as one output each (another language, a stack reference). Through a dict no input holds the gate: its
    replacement, deleted first, replaces neither."""
    from pulumi_azure_native import network
    import llmplatform
    from llmplatform.key_vault import vault_secret
    from llmplatform.kube import secret_provider_class
    from tests.components.test_components_alone import RG, cluster_handle, provider_opts

    class Mine(pulumi.ComponentResource):
        def __init__(self):
            super().__init__("test:index:Mine", "mine", None, provider_opts())
            last = network.Subnet("mine-last", resource_group_name=RG, virtual_network_name="vnet-c1",
                                  subnet_name="last", address_prefix="10.0.18.0/24",
                                  opts=pulumi.ResourceOptions(parent=self))
            handle = {**cluster_handle(), "network_writes_after": last.id}
            kv = llmplatform.KeyVault("kv", {"cluster": pulumi.Output.from_input(handle) if whole else handle,
                                             "vault_name": "kv-test-1", "public_network_access": False},
                                      pulumi.ResourceOptions(parent=self))
            vault = pulumi.Output.from_input(kv.vault) if whole else kv.vault
            vault_secret("mine-secret", vault, "mine", "value", "text/plain", self)
            secret_provider_class("mine-spc", "mine", "llm", vault, "client", "objects",
                                  pulumi.ResourceOptions(parent=self))

    planned = offline.run_function(Mine)
    subnet = planned.one("azure-native:network:Subnet", "mine-last")
    endpoint = planned.one("azure-native:network:PrivateEndpoint")
    for gate, users in ((subnet, [endpoint, planned.one("azure-native:keyvault:Vault")]),
                        (endpoint, [planned.one("azure-native:keyvault:Secret", "mine-secret"),
                                    planned.one("kubernetes:secrets-store.csi.x-k8s.io/v1:SecretProviderClass")])):
        for user in users:
            assert gate.urn in user.dependencies, (gate.name, user.name)
            if not whole:
                assert not any(gate.urn in urns for urns in user.property_dependencies.values()), \
                    (gate.name, user.name, user.property_dependencies)
