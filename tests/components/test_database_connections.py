"""Open-WebUI's connections to its PostgreSQL server (components/llmplatform/postgres_access.py: the pools it is
given; postgres_options.py and data/postgres_flexible.json: what each compute size admits) and the rule that the
worst case fits (input_rules.database_connections_rule), as pure functions: no Pulumi."""
import pytest

from config.catalogs import postgres_skus
from llmplatform.choices import POSTGRES_TIERS
from llmplatform.inference_specs import MIGRATIONS_SWITCH, webui_env
from llmplatform.input_rules import inference_stack, open_webui
from llmplatform.postgres_access import (ADMIN_CONNECTIONS, JOB_CONNECTIONS, connections_per_pod, most_webui_replicas,
                                         webui_connections)
from llmplatform.postgres_options import max_connections, reserved_connections, smallest_size_for, user_connections


def engine_limits(env: dict) -> list[int]:
    """The most connections each of Open-WebUI 0.11.0's engines opens in one process, read as it reads `env`
    (open-webui/open-webui v0.11.0, f9590b80): env.py 302-324, DATABASE_POOL_SIZE unset is None and
    DATABASE_POOL_MAX_OVERFLOW defaults to 0; internal/db.py 315-329 (sync) and 388-408 (async): a size above 0 is
    QueuePool(size, max_overflow), 0 NullPool (no bound at all), unset SQLAlchemy's default QueuePool 5 + 10;
    config.py 638 PGVECTOR_DB_URL defaults to DATABASE_URL and 662-698 reads PGVECTOR_POOL_* the same way;
    retrieval/vector/dbs/pgvector.py 94-108 builds its own engine from them."""
    def one(prefix: str) -> int:
        size = env.get(f"{prefix}_POOL_SIZE")
        if size is None:
            return 5 + 10  # SQLAlchemy's create_engine default pool
        assert int(size) > 0, f"{prefix}_POOL_SIZE 0 is NullPool: unbounded"
        return int(size) + int(env.get(f"{prefix}_POOL_MAX_OVERFLOW", 0))
    return [one("DATABASE"), one("DATABASE"), one("PGVECTOR")]


@pytest.mark.parametrize("api", ["ollama", "openai"])
def test_open_webui_is_given_pools_and_holds_what_the_budget_counts(api):
    env = webui_env(api, "http://m", "/d", MIGRATIONS_SWITCH, {})
    assert sum(engine_limits(env)) == connections_per_pod() == 7
    assert sum(engine_limits({})) == 45  # upstream's defaults: what the pods held before


def test_every_size_the_stack_takes_has_microsofts_connection_limit():
    """Microsoft Learn's 'Limits' table: each size's default max_connections, 15 of them Azure's."""
    assert reserved_connections() == 15
    for tier in POSTGRES_TIERS:
        for sku in postgres_skus(tier):
            assert user_connections(sku) == max_connections(sku) - 15 > 0, sku
    assert (max_connections("Standard_B1ms"), user_connections("Standard_B1ms")) == (50, 35)
    assert user_connections("standard_b2s") == 414 and user_connections("Standard_D2ds_v5") == 844
    assert user_connections("Standard_E2ads_v5") == 1703 and user_connections("Standard_D96ads_v5") == 4985
    assert user_connections("Standard_D2ds_v6") is None  # a size the table leaves out is not guessed
    assert smallest_size_for("Burstable", 36) == "Standard_B2s"
    assert smallest_size_for("GeneralPurpose", 845) in {f"Standard_D4{f}" for f in ("s_v3", "ds_v4", "ds_v5",
                                                                                   "ads_v5")}
    assert smallest_size_for("Burstable", 5000) is None


def test_the_worst_case_counts_the_old_pods_still_terminating_the_jobs_and_the_administrator():
    # a rolling update's new pods while every old one keeps its pools until its process exits: twice the maximum
    assert webui_connections(2) == 2 * 2 * 7 + JOB_CONNECTIONS + ADMIN_CONNECTIONS == 33
    assert webui_connections(2, workers=2) == 2 * 2 * 14 + 5
    for available in range(0, 200):
        most = most_webui_replicas(available)
        assert most == 0 or webui_connections(most) <= available
        assert webui_connections(most + 1) > available


def test_the_default_ui_fits_the_default_server_and_one_more_replica_does_not():
    assert open_webui({"database_sku_name": "Standard_B1ms"}) == []  # max_replicas 2: 4 pods x 7 + 5 = 33 of 35
    problems = open_webui({"database_sku_name": "Standard_B1ms", "max_replicas": 3})
    assert [p.path for p in problems] == ["max_replicas"]
    text = problems[0].allowed_text()
    assert text.startswith("at most 2 with database_sku_name Standard_B1ms, or a larger database_sku_name "
                           "(Standard_B2s: 414 user connections): ")
    assert "= 47 connections, and Standard_B1ms admits 35 (its 50 max_connections less the 15 Azure reserves)" in text
    assert open_webui({"database_sku_name": "Standard_B2s", "max_replicas": 29}) == []  # 58 x 7 + 5 = 411 of 414
    assert [p.path for p in open_webui({"database_sku_name": "Standard_B2s", "max_replicas": 30})] == ["max_replicas"]
    assert open_webui({"max_replicas": 50}) == []  # no server size named: not judged
    assert open_webui({"database_sku_name": "Standard_D2ds_v6", "max_replicas": 50}) == []  # not in the table


def test_uvicorn_workers_multiply_a_pods_pools():
    problems = open_webui({"database_sku_name": "Standard_B1ms", "max_replicas": 1,
                           "extra_env": {"UVICORN_WORKERS": "3"}})
    assert [p.path for p in problems] == ["max_replicas"]
    assert "no replica count fits" in problems[0].allowed and "fewer UVICORN_WORKERS in {extra_env} (3)" in \
        problems[0].allowed
    assert open_webui({"database_sku_name": "Standard_B1ms", "max_replicas": 1,
                       "extra_env": {"UVICORN_WORKERS": "2"}}) == []  # 2 pods x 14 + 5 = 33
    bad = open_webui({"extra_env": {"UVICORN_WORKERS": "two"}})
    assert [(p.path, p.value) for p in bad] == [("extra_env['UVICORN_WORKERS']", "two")]


def test_inference_stack_names_the_ui_inputs_as_its_own():
    problems = inference_stack({"database_url_secret": "db", "database_sku_name": "Standard_B1ms",
                                "webui_max_replicas": 4})
    assert [p.path for p in problems] == ["webui_max_replicas"]
    assert "{database_sku_name}" in problems[0].allowed


def test_a_maximum_whose_terminating_pods_would_outgrow_the_server_is_refused_with_them_counted():
    """A rolling update of 3 replicas starts its new pods while the 3 old ones, Terminating, keep their pools until
    their process exits (the Deployment controller counts no Terminating pod; KEP-3973, docs/decisions.md): 6 pods,
    47 connections, which a Standard_B1ms (35) cannot take. Counting a rollout's surge alone (4 pods, 33) let it
    through."""
    problems = open_webui({"database_sku_name": "Standard_B1ms", "max_replicas": 3})
    assert [(p.path, p.value) for p in problems] == [("max_replicas", 3)]
    assert "(3 replicas + 3 old ones still holding theirs, running or Terminating, while a rolling update or the " \
           "autoscaler starts their replacements) x 7 per pod" in problems[0].allowed_text()
    stack = inference_stack({"database_url_secret": "db", "database_sku_name": "Standard_B1ms", "webui_replicas": 2,
                             "webui_max_replicas": 3})
    assert [p.path for p in stack] == ["webui_max_replicas"] and "= 47 connections" in stack[0].allowed_text()
