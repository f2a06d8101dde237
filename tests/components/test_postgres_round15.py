"""Mutation round fifteen (docs/decisions.md, "Mutation round fifteen: the UI's connection budget, PostgreSQL
spellings, advisories"): what its survivors showed no test read in components/llmplatform/postgres_options.py and
postgres_access.py, through the stack file, the component's inputs and the pure functions PostgresServer's and
OpenWebUi's rules read."""
import inspect

import pytest
from sqlalchemy.pool import QueuePool

import llmplatform as P
from config.loader import parse_config
from config.reader import ConfigError
from offline import runner as offline

from tests.components.test_components_alone import ENDPOINT, VAULT, cluster_handle, provider_opts
from tests.components.test_open_webui_pools import pod_env
from tests.config.test_loader import stack_raw


# ---- postgres_options.sku_spelling ------------------------------------------------------------------------------
@pytest.mark.parametrize("typed, meant", [("B_Standard_B1ms", "Standard_B1ms"), ("gp_standard_d2s_v3",
                                                                                   "standard_d2s_v3")])
def test_a_stack_files_size_of_no_tier_is_refused_as_typed_naming_the_size_meant(typed, meant):
    """A size of no tier's family keeps its spelling: the refusal names what the stack file says (re-spelled by the
    naming convention, `B_Standard_B1ms` read as `Standard_Rd_b1ms`, and the Terraform prefix's advice lost)."""
    with pytest.raises(ConfigError) as refused:
        parse_config(stack_raw("dev", {"postgres": {"skuName": typed}}), "p", "dev")
    [problem] = [p for p in refused.value.problems if "skuName" in p]
    assert f"postgres.skuName {typed!r} is invalid" in problem, problem
    assert f"the size without Terraform's tier prefix, {meant}" in problem, problem



def test_a_tier_prefix_before_a_size_of_no_tier_is_not_advised_away():
    """`MO_Standard_M8ms` has Terraform's prefix, but Standard_M8ms is no Flexible Server size either: dropping the
    prefix would not help, so the refusal says only what is allowed (it advised `Standard_M8ms`)."""
    with pytest.raises(ConfigError) as refused:
        parse_config(stack_raw("dev", {"postgres": {"skuName": "MO_Standard_M8ms"}}), "p", "dev")
    [problem] = [p for p in refused.value.problems if "skuName" in p]
    assert "postgres.skuName 'MO_Standard_M8ms' is invalid; allowed: a Flexible Server compute size" in problem, problem
    assert "Terraform" not in problem and "Standard_M8ms (" not in problem, problem


# ---- postgres_access: Open-WebUI's pools as its pods get them -----------------------------------------------------
def _ui_env(**inputs) -> dict[str, str]:
    """The Open-WebUI container's environment of an OpenWebUi given `inputs`."""
    return pod_env(offline.run_function(lambda: P.OpenWebUi("ui", {
        "cluster": cluster_handle(), "key_vault": VAULT, "endpoint": ENDPOINT, "database_url_secret": "db-url",
        **inputs}, provider_opts())))


def test_a_ui_on_a_server_with_room_gets_sqlalchemys_own_overflow_and_upstreams_timeouts():
    """The pods' pools as the plan writes them, on a server with room (Standard_D2ds_v5, 844 user connections, one
    replica): the request engine 2 + SQLAlchemy's own QueuePool default overflow (read from the installed SQLAlchemy,
    not from our constant), pgvector's 1 + 0, and Open-WebUI 0.11.0's own timeout (30 s) and recycle (3600 s)
    (backend/open_webui/env.py). A constant off by one went unseen: the tests compared the env with the constants."""
    sqlalchemy_overflow = inspect.signature(QueuePool.__init__).parameters["max_overflow"].default
    env = _ui_env(database_sku_name="Standard_D2ds_v5", max_replicas=1)
    pools = {name: value for name, value in env.items() if "_POOL_" in name}
    assert pools == {"DATABASE_POOL_SIZE": "2", "DATABASE_POOL_MAX_OVERFLOW": str(sqlalchemy_overflow),
                     "DATABASE_POOL_TIMEOUT": "30", "DATABASE_POOL_RECYCLE": "3600", "PGVECTOR_POOL_SIZE": "1",
                     "PGVECTOR_POOL_MAX_OVERFLOW": "0", "PGVECTOR_POOL_TIMEOUT": "30",
                     "PGVECTOR_POOL_RECYCLE": "3600"}, pools
    assert sqlalchemy_overflow == 10
    # no server named: the floor, 2 + 1
    assert _ui_env()["DATABASE_POOL_MAX_OVERFLOW"] == "1"


@pytest.mark.parametrize("overrides, workers", [({"webui": {"maxReplicas": 2}}, "in 1 uvicorn worker)"),
                                                ({"webui": {"extraEnv": {"UVICORN_WORKERS": 2}}},
                                                 "in 2 uvicorn workers)")])
def test_the_connection_refusal_counts_the_workers_in_words_that_read_right(overrides, workers):
    """dev's server (Standard_B1ms) refusing a second replica, or a second uvicorn worker: the sum names the workers
    as many as there are (one read "in 1 uvicorn workers", two "in 2 uvicorn worker")."""
    with pytest.raises(ConfigError) as refused:
        parse_config(stack_raw("dev", overrides), "p", "dev")
    [problem] = [p for p in refused.value.problems if "Open-WebUI may hold" in p]
    assert workers in problem, problem
