"""Flexible Server's compute families, storage sizes and reserved logins (components/llmplatform/postgres_options.py,
data/postgres_flexible.json), as pure functions."""
import pytest

from config.catalogs import postgres_skus
from llmplatform.choices import POSTGRES_TIERS
from llmplatform.input_rules import postgres_server
from llmplatform.postgres_options import admin_login_problem, any_sku_problem, sku_tier, storage_sizes_gib


def test_every_size_microsoft_learn_lists_belongs_to_its_tier_by_family():
    """The stack's catalog (Microsoft Learn's compute options) read by family: each size's tier, no other."""
    for tier in POSTGRES_TIERS:
        assert postgres_skus(tier) and all(sku_tier(sku) == tier for sku in postgres_skus(tier)), tier


@pytest.mark.parametrize("sku, tier", [
    ("Standard_B1ms", "Burstable"), ("standard_b2s", "Burstable"),  # Azure reads sizes case-insensitively
    ("Standard_D2ds_v6", "GeneralPurpose"), ("Standard_D4s_v3", "GeneralPurpose"),  # a newer version of the family
    ("Standard_E20ads_v5", "MemoryOptimized"), ("Standard_E2ds_v6", "MemoryOptimized"),
    ("Standard_F4s_v2", None), ("Standard_D4_v5", None), ("B1ms", None), ("Standard_NC4as_T4_v3", None),
])
def test_a_compute_size_is_read_by_its_family(sku, tier):
    assert sku_tier(sku) == tier
    assert (any_sku_problem(sku) is None) == (tier is not None)


def test_storage_is_one_of_premium_ssds_sizes():
    assert storage_sizes_gib() == (32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32767)
    assert [p.path for p in postgres_server({"storage_size_gb": 33})] == ["storage_size_gb"]
    assert [p.path for p in postgres_server({"storage_size_gb": 32768})] == ["storage_size_gb"]  # 32,767 is the top
    assert postgres_server({"storage_size_gb": 32767}) == [] and postgres_server({"storage_size_gb": 128}) == []


@pytest.mark.parametrize("login", ["azure_superuser", "azure_pg_admin", "admin", "administrator", "root", "guest",
                                   "public", "pg_owner", "pg_"])
def test_a_login_azure_reserves_is_refused(login):
    assert "Azure reserves them" in admin_login_problem(login)
    assert [p.path for p in postgres_server({"admin_login": login})] == ["admin_login"]


def test_a_login_azure_does_not_reserve_passes():
    for login in ("llmadmin", "admins", "pgadmin", "root_user", "webui"):
        assert admin_login_problem(login) is None and postgres_server({"admin_login": login}) == []


def test_a_size_of_another_tier_names_both_tiers_and_the_default():
    (problem,) = postgres_server({"tier": "GeneralPurpose"})
    assert problem.path == "sku_name" and problem.sentence() == (
        "input sku_name='Standard_B1ms' is invalid; allowed: a GeneralPurpose compute size (Standard_D<vCPUs>...s_v<n>, "
        "e.g. Standard_D2ds_v5, Standard_D4s_v3) with tier GeneralPurpose; Standard_B1ms, the default, is a Burstable "
        "size")
    (problem,) = postgres_server({"sku_name": "Standard_E4ds_v5"})
    assert problem.allowed.endswith("with {tier} Burstable; Standard_E4ds_v5 is a MemoryOptimized size")
    assert postgres_server({"tier": "MemoryOptimized", "sku_name": "Standard_E4ds_v5"}) == []
