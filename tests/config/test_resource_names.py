"""Azure resource names (config/resource_names.py): Azure's naming rules, prefix and environment, stable suffixes."""
from config import resource_names as naming


def test_storage_account_name_obeys_azure_rule_and_is_stable():
    a = naming.storage_account_name("llmp", "prod", "westeurope")
    assert naming.is_valid_storage_account_name(a) and len(a) <= 24
    assert a == naming.storage_account_name("llmp", "prod", "westeurope")
    assert a != naming.storage_account_name("llmp", "prod", "northeurope")
    assert naming.is_valid_storage_account_name(naming.storage_account_name("abcdefghij", "staging", "eastus2"))


def test_names_follow_prefix_and_environment():
    assert naming.cluster_name("llmp", "dev") == "aks-llmp-dev"
    assert naming.resource_group_name("llmp", "dev") == "rg-llmp-dev"
    assert naming.resource_group_name("llmp", "prod", "models") == "rg-llmp-prod-models"


def test_node_pool_names():
    assert naming.is_valid_node_pool_name("gpuod")
    assert not naming.is_valid_node_pool_name("GPU")
    assert not naming.is_valid_node_pool_name("averyverylongname")


def test_dns_label_and_content_suffix():
    assert naming.dns_label("Model Preload", "X_1") == "model-preload-x-1"
    assert len(naming.dns_label("a" * 100)) == 63
    assert naming.content_suffix("a", "b") != naming.content_suffix("a", "c")


# The names stacks deployed before the subscription counted hold in Azure (computed by the code of ecd9687):
# `legacyGlobalNames: true` must keep them to the character, or their `pulumi up` replaces the vault, the model share
# and the database.
LEGACY = {"storage account": ("stllmpprodef9d0297c9f0c5", "stllmpprod", naming.storage_account_name),
          "Key Vault": ("kv-llmp-prod-aa294bfdb55", "kv-llmp-prod-", naming.key_vault_name),
          "PostgreSQL server": ("psql-llmp-prod-0cb157", "psql-llmp-prod-", naming.postgres_server_name)}


def test_legacy_global_names_are_the_names_deployed_stacks_hold():
    for what, (held, _, derive) in LEGACY.items():
        assert derive("llmp", "prod", "westeurope") == held, what


def test_a_subscription_gives_every_global_name_its_own_hash():
    one, other = "00000000-0000-0000-0000-000000000000", "0b1f6471-1bf0-4dda-aec3-cb9272f09590"
    for what, (held, base, derive) in LEGACY.items():
        mine, theirs = (derive("llmp", "prod", "westeurope", s) for s in (one, other))
        assert len({held, mine, theirs}) == 3, what  # two subscriptions, one prefix: never one name
        # the same rule's shape (config checks the legacy form's validity): only the hash differs
        assert len(mine) == len(held) and mine.startswith(base), what
        # Azure writes a subscription id in either case (az prints it lower-case): one subscription, one name
        assert derive("llmp", "prod", "westeurope", other.upper()) == theirs, what


def test_the_legacy_name_is_told_only_where_the_key_gives_it_back():
    """The PR check tells a renamed vault, account or server that `legacyGlobalNames: true` keeps its name only when
    the old name is the one the key gives under the new config; a new prefix, environment or region renames it anyway."""
    sub = "0b1f6471-1bf0-4dda-aec3-cb9272f09590"
    for what, (held, _, derive) in LEGACY.items():
        assert naming.legacy_names(what, derive("llmp", "prod", "westeurope", sub), "westeurope") == {held}, what
        assert naming.legacy_names(what, held, "westeurope") == {held}, what  # the key already set: the same name
        for moved in (("llmq", "prod", "westeurope"), ("llmp", "staging", "westeurope"), ("llmp", "prod", "eastus")):
            assert held not in naming.legacy_names(what, derive(*moved, sub), moved[2]), (what, moved)
        assert naming.legacy_names(what, "someothername", "westeurope") == set(), what


def test_grafana_names_keep_the_deployed_one_and_hash_a_new_one_within_the_services_rule():
    """Managed Grafana refuses a name another workspace holds, from another subscription too (NameNotUnique,
    Azure/ARO-HCP#5813): a new stack's name carries its subscription's hash; `legacyGlobalNames` keeps the name
    AzureMonitoring gave before (`graf-<prefix>-<env>`); every form is within the service's 2-30 rule."""
    one, other = "00000000-0000-0000-0000-000000000000", "0b1f6471-1bf0-4dda-aec3-cb9272f09590"
    assert naming.grafana_name("llmp", "prod", "westeurope") == "graf-llmp-prod"
    mine, theirs = (naming.grafana_name("llmp", "prod", "westeurope", s) for s in (one, other))
    assert len({"graf-llmp-prod", mine, theirs}) == 3 and mine.startswith("graf-llmp-prod-")
    assert naming.grafana_name("llmp", "prod", "westeurope", other.upper()) == theirs
    for prefix in ("ab", "abcdefghij"):
        for env in naming.ENVIRONMENTS:
            for sub in (None, one):
                name = naming.grafana_name(prefix, env, "westeurope", sub)
                assert naming.is_valid_grafana_name(name) and len(name) <= 30, name
    for bad in ("g", "1graf", "graf-", "graf_x", "g" * 31):
        assert not naming.is_valid_grafana_name(bad), bad
    # the PR check's note: the key gives a renamed workspace its old name back only under the same prefix and env
    assert naming.legacy_names("Managed Grafana workspace", theirs, "westeurope") == {"graf-llmp-prod"}
    assert naming.legacy_names("Managed Grafana workspace", "graf-llmp-prod", "westeurope") == {"graf-llmp-prod"}
    moved = naming.grafana_name("llmq", "prod", "westeurope", other)
    assert "graf-llmp-prod" not in naming.legacy_names("Managed Grafana workspace", moved, "westeurope")
    assert naming.legacy_names("Managed Grafana workspace", "graf-someone-else-x", "westeurope") == set()
