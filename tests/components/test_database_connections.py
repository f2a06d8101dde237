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


def test_the_worst_case_counts_two_replacements_still_terminating_the_jobs_and_the_administrator():
    # the maximum running while two replacements' pods (each up to the maximum) keep their pools until they exit
    assert webui_connections(2) == 3 * 2 * 7 + JOB_CONNECTIONS + ADMIN_CONNECTIONS == 47
    assert webui_connections(1) == 3 * 1 * 7 + 5 == 26
    assert webui_connections(2, workers=2) == 3 * 2 * 14 + 5
    for available in range(0, 200):
        most = most_webui_replicas(available)
        assert most == 0 or webui_connections(most) <= available
        assert webui_connections(most + 1) > available


def test_the_default_ui_fits_the_default_server_and_one_more_replica_does_not():
    assert open_webui({"database_sku_name": "Standard_B1ms"}) == []  # max_replicas 1: 3 pods x 7 + 5 = 26 of 35
    problems = open_webui({"database_sku_name": "Standard_B1ms", "max_replicas": 2})
    assert [p.path for p in problems] == ["max_replicas"]
    text = problems[0].allowed_text()
    assert text.startswith("at most 1 with database_sku_name Standard_B1ms, or a larger database_sku_name "
                           "(Standard_B2s: 414 user connections): ")
    assert "= 47 connections, and Standard_B1ms admits 35 (its 50 max_connections less the 15 Azure reserves)" in text
    assert open_webui({"database_sku_name": "Standard_B2s", "max_replicas": 19}) == []  # 57 x 7 + 5 = 404 of 414
    assert [p.path for p in open_webui({"database_sku_name": "Standard_B2s", "max_replicas": 20})] == ["max_replicas"]
    assert open_webui({"max_replicas": 50}) == []  # no server size named: not judged
    assert open_webui({"database_sku_name": "Standard_D2ds_v6", "max_replicas": 50}) == []  # not in the table


def test_uvicorn_workers_multiply_a_pods_pools():
    problems = open_webui({"database_sku_name": "Standard_B1ms", "max_replicas": 1,
                           "extra_env": {"UVICORN_WORKERS": "2"}})  # 3 pods x 14 + 5 = 47
    assert [p.path for p in problems] == ["max_replicas"]
    assert "no replica count fits" in problems[0].allowed and "fewer UVICORN_WORKERS in {extra_env} (2)" in \
        problems[0].allowed
    assert open_webui({"database_sku_name": "Standard_B2s", "max_replicas": 9,
                       "extra_env": {"UVICORN_WORKERS": "2"}}) == []  # 27 pods x 14 + 5 = 383
    bad = open_webui({"extra_env": {"UVICORN_WORKERS": "two"}})
    assert [(p.path, p.value) for p in bad] == [("extra_env['UVICORN_WORKERS']", "two")]


def test_inference_stack_names_the_ui_inputs_as_its_own():
    problems = inference_stack({"database_url_secret": "db", "database_sku_name": "Standard_B1ms",
                                "webui_max_replicas": 4})
    assert [p.path for p in problems] == ["webui_max_replicas"]
    assert "{database_sku_name}" in problems[0].allowed


def test_a_maximum_whose_pods_two_replacements_would_outgrow_the_server_is_refused_with_them_counted():
    """A rollout of 2 replicas while the autoscaler's scale-in and scale-out (or a node upgrade's evictions, or an
    earlier rollout) still drains: 2 running + 2 + 2 Terminating keep their pools until their process exits (no
    controller waits for a Terminating pod; KEP-5882's policy is alpha, docs/decisions.md): 6 pods, 47 connections,
    which a Standard_B1ms (35) cannot take. Counting one replacement (4 pods, 33) let the default maximum through."""
    problems = open_webui({"database_sku_name": "Standard_B1ms", "max_replicas": 2})
    assert [(p.path, p.value) for p in problems] == [("max_replicas", 2)]
    assert "(2 replicas + 4 Terminating ones still holding theirs while they finish their answers: two replacements " \
           "of the pods within one drain, a rollout, the autoscaler's scale-in and out or a node upgrade's " \
           "evictions) x 7 per pod" in problems[0].allowed_text()
    stack = inference_stack({"database_url_secret": "db", "database_sku_name": "Standard_B1ms", "webui_replicas": 1,
                             "webui_max_replicas": 2})
    assert [p.path for p in stack] == ["webui_max_replicas"] and "= 47 connections" in stack[0].allowed_text()


def test_make_plan_refuses_a_second_ui_pod_on_devs_server_naming_both_ways_out(tmp_path, capsys):
    """Through `make plan`'s entry point: dev (Standard_B1ms, the UI's default maximum 1) plans; its UI at 2 is
    refused by its stack keys, with the numbers and both ways out, and plans on Standard_B2s."""
    from offline import plan as plan_cli
    code = plan_cli.main(["--stack", "dev", "--out", str(tmp_path), "--set", "webui.maxReplicas=2"])
    err = capsys.readouterr().err
    assert code == 1
    assert "webui.maxReplicas 2 is invalid; allowed: at most 1 with postgres.skuName Standard_B1ms, or a larger " \
           "postgres.skuName (Standard_B2s: 414 user connections): Open-WebUI may hold (2 replicas + 4 " \
           "Terminating" in err
    assert "= 47 connections, and Standard_B1ms admits 35" in err
    code = plan_cli.main(["--stack", "dev", "--out", str(tmp_path), "--set", "webui.maxReplicas=2",
                          "--set", "postgres.skuName=Standard_B2s"])
    assert code == 0, capsys.readouterr().err
