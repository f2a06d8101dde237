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
