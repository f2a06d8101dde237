"""The names Azure wants unique across every subscription (storage account, Key Vault, PostgreSQL server), through
the program: a new stack hashes them with the deploying subscription's id, as the Azure provider's getClientConfig
answers it (the stand-in answers the stack's `azure-native:subscriptionId`, as the provider's own config does), and
so does everything that reads them; a stack deployed before keeps its names with `legacyGlobalNames: true`."""
import runpy

import pytest

from config import resource_names as naming
from offline import runner
from tests.conftest import PROJECT_DIR, VARIANTS, variant

NAMES = {"azure-native:storage:StorageAccount": ("accountName", naming.storage_account_name),
         "azure-native:keyvault:Vault": ("vaultName", naming.key_vault_name),
         "azure-native:dbforpostgresql:Server": ("serverName", naming.postgres_server_name)}
SPC = "kubernetes:secrets-store.csi.x-k8s.io/v1:SecretProviderClass"


def _names(plan) -> dict[str, str]:
    return {type_: plan.one(type_).inputs[key] for type_, (key, _) in NAMES.items()}


def _expected(stack: str, overrides: dict, subscription) -> dict[str, str]:
    config = runner.stack_config(stack, overrides)
    project = runner.project_name()
    scope = [config[f"{project}:{k}"] for k in ("prefix", "environment", "location")]
    return {type_: derive(*scope, subscription) for type_, (_, derive) in NAMES.items()}


def _readers_agree(plan, names: dict[str, str]) -> None:
    """The vault's readers (every SecretProviderClass) and the share's volume name the same names."""
    vaults = {r.inputs["spec"]["parameters"]["keyvaultName"] for r in plan.of_type(SPC)}
    assert vaults == {names["azure-native:keyvault:Vault"]}
    volume = plan.one("kubernetes:core/v1:PersistentVolume").inputs["spec"]["csi"]["volumeAttributes"]
    assert volume["storageAccount"] == names["azure-native:storage:StorageAccount"]


@pytest.mark.parametrize("name", ["prod-tls", "llmd-pd"])
def test_a_new_stack_hashes_its_names_with_its_subscription(name):
    stack, overrides = VARIANTS[name]
    plan = variant(name)
    names = _names(plan)
    assert names == _expected(stack, overrides, runner.SUBSCRIPTION)
    _readers_agree(plan, names)


def test_the_shipped_stack_files_keep_the_names_they_were_deployed_with():
    plan = variant("prod")
    assert _names(plan) == _expected("prod", {}, None)
    _readers_agree(plan, _names(plan))


def test_two_subscriptions_with_one_prefix_never_ask_azure_for_one_name():
    other = "0b1f6471-1bf0-4dda-aec3-cb9272f09590"
    overrides = {"legacyGlobalNames": False}
    config = {**runner.stack_config("dev", overrides), "azure-native:subscriptionId": other}
    plan = runner.run_function(lambda: runpy.run_path(str(PROJECT_DIR / "__main__.py"), run_name="__main__"),
                               runner.project_name(), "dev", config, {}, False)
    names = _names(plan)
    assert names == _expected("dev", overrides, other)
    assert not set(names.values()) & set(_expected("dev", overrides, runner.SUBSCRIPTION).values())
    _readers_agree(plan, names)


GRAFANA = "azure-native:dashboard:Grafana"


def _grafana(plan) -> str:
    return plan.one(GRAFANA).inputs["workspaceName"]


def test_managed_grafana_is_named_for_its_subscription_and_the_shipped_stacks_keep_theirs():
    """Managed Grafana's name is refused taken in another subscription (NameNotUnique): a new stack's (prod-tls) carries
    its subscription's hash, a second subscription's differs; the shipped prod keeps `graf-llmp-prod`."""
    assert _grafana(variant("prod")) == "graf-llmp-prod"
    stack, overrides = VARIANTS["prod-tls"]
    config = runner.stack_config(stack, overrides)
    scope = [config[f"{runner.project_name()}:{k}"] for k in ("prefix", "environment", "location")]
    assert _grafana(variant("prod-tls")) == naming.grafana_name(*scope, runner.SUBSCRIPTION)
    other = "0b1f6471-1bf0-4dda-aec3-cb9272f09590"
    config = {**config, "azure-native:subscriptionId": other}
    plan = runner.run_function(lambda: runpy.run_path(str(PROJECT_DIR / "__main__.py"), run_name="__main__"),
                               runner.project_name(), stack, config, {}, False)
    assert _grafana(plan) == naming.grafana_name(*scope, other) != _grafana(variant("prod-tls"))


def test_a_workspace_named_before_the_hash_keeps_its_name_with_observability_grafana_name():
    """A stack deployed after the other three names took the subscription's hash but before Grafana's did holds
    `graf-<prefix>-<env>` with `legacyGlobalNames` unset: `observability.grafanaName` gives it back that name (the
    key would also rename its account, vault and server); the stack config holds the key to the service's rule."""
    from config.loader import parse_config
    from config.reader import ConfigError
    from tests.config.test_loader import stack_raw

    stack, overrides = VARIANTS["prod-tls"]
    kept = {**overrides, "observability": {**overrides.get("observability", {}), "grafanaName": "graf-llmp-prod"}}
    assert _grafana(runner.run_function(
        lambda: runpy.run_path(str(PROJECT_DIR / "__main__.py"), run_name="__main__"), runner.project_name(), stack,
        runner.stack_config(stack, kept), {}, False)) == "graf-llmp-prod"
    for raw, words in (({"observability": {"grafanaName": "graf_llmp"}},
                        "observability.grafanaName 'graf_llmp' is invalid; allowed: 2-30 letters, digits and hyphens"),
                       ({"observability": {"grafanaName": "graf-llmp-dev", "managedGrafana": False}},
                        "observability.grafanaName 'graf-llmp-dev' is invalid; allowed: unset without "
                        "observability.managedGrafana true")):
        with pytest.raises(ConfigError) as caught:
            parse_config(stack_raw("dev", raw), "p", "dev")
        assert words in str(caught.value), str(caught.value)
    assert parse_config(stack_raw("prod", {"observability": {"grafanaName": "graf-llmp-prod"}}), "p",
                        "prod").observability.grafana_name == "graf-llmp-prod"
