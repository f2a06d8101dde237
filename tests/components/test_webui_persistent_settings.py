"""The stack file's Open-WebUI settings reach an Ollama UI that started before they changed.

Open-WebUI 0.11.0 seeds its persistent settings (config.py DEFAULT_CONFIG) into the database at the first start and
reads them from there afterwards (models/config.py Config.seed_defaults, Config.get): a setting changed in the stack
file changed the pod's environment and nothing in the UI. The migration Job now writes each persistent setting the
UI's plain environment sets, converted as Open-WebUI converts the variable; the values are in the Job's command, so
the Job runs again (a new name) exactly when one changes, and an admin's change in the panel stands until then.
Each test plans the dev stack (Ollama UI, persistent config on) through the stack file and runs the planned Job's
Python against a stand-in for Open-WebUI's Config model (test_open_webui._run_migration).
"""
import pytest

from config.loader import parse_config
from config.reader import ConfigError
from tests.components.test_open_webui import _migration_job, _run_migration
from tests.conftest import plan_for, variant
from tests.config.test_loader import stack_raw

# what the first start of a UI seeded (Open-WebUI's own defaults: ENABLE_SIGNUP 'True', ENABLE_LOGIN_FORM 'True',
# RAG_TOP_K '3', WEBUI_URL ''), and an admin's choices in the panel
FIRST_START = {"ui.enable_signup": True, "ui.enable_login_form": True, "rag.top_k": 3, "webui.url": "",
               "ui.default_user_role": "pending", "ollama.base_urls": ["http://router:8081"]}
EXTRA_ENV = {"ENABLE_LOGIN_FORM": "False", "RAG_TOP_K": "7", "WEBUI_URL": "https://chat.example.com/it's \"ours\"",
             "RAG_ALLOWED_FILE_EXTENSIONS": " pdf, docx,,", "PGVECTOR_INDEX_METHOD": "hnsw"}


def _job_name(plan) -> str:
    return _migration_job(plan)["metadata"]["name"]


def _command(plan) -> str:
    return _migration_job(plan)["spec"]["template"]["spec"]["containers"][0]["command"][-1]


def test_changing_enable_signup_runs_a_new_job_that_writes_it(dev, monkeypatch):
    """webui.enableSignup changed after the first start: a new Job (a new name), whose run leaves ui.enable_signup the
    Python bool Open-WebUI reads from ENABLE_SIGNUP ('false' -> False, 'true' -> True), over what the database held."""
    opened = plan_for("dev", {"webui": {"enableSignup": True}})
    assert _job_name(opened) != _job_name(dev)
    saved, _ = _run_migration(dev, FIRST_START, monkeypatch)
    assert saved["ui.enable_signup"] is False
    saved, upserts = _run_migration(opened, {**FIRST_START, "ui.enable_signup": False}, monkeypatch)
    assert saved["ui.enable_signup"] is True and {"ui.enable_signup": True} in upserts
    # the same Job run again (a retried pod) writes nothing more: it is idempotent
    _, again = _run_migration(opened, saved, monkeypatch)
    assert again == []


def test_extra_env_persistent_settings_are_written_as_open_webui_converts_them(monkeypatch):
    """webui.extraEnv: each variable of Open-WebUI's persistent config is written at its database key, converted as
    config.py converts it (`.lower() == 'true'`, int(), a comma list stripped of blanks, a string as given, quotes
    and all); a variable that is no persistent setting (PGVECTOR_INDEX_METHOD, read by the vector store at each start)
    is not written and leaves the Job's name alone."""
    plan = plan_for("dev", {"webui": {"extraEnv": EXTRA_ENV}})
    saved, upserts = _run_migration(plan, FIRST_START, monkeypatch)
    assert saved["ui.enable_login_form"] is False
    assert saved["rag.top_k"] == 7 and type(saved["rag.top_k"]) is int
    assert saved["webui.url"] == EXTRA_ENV["WEBUI_URL"]
    assert saved["rag.file.allowed_extensions"] == ["pdf", "docx"]
    written = {key for update in upserts for key in update}
    assert not [key for key in written if "pgvector" in key.lower() or "index" in key.lower()], written
    assert not {key for key in saved if key not in FIRST_START} - written - {"models.base_models_cache",
                                                                                "ollama.enable"}
    assert _job_name(plan_for("dev", {"webui": {"extraEnv": {"PGVECTOR_INDEX_METHOD": "hnsw"}}})) == \
        _job_name(variant("dev"))


def test_signup_follows_webui_auth_as_open_webui_reads_it(monkeypatch):
    """config.py: `ENABLE_SIGNUP = False if not WEBUI_AUTH else ...`: with WEBUI_AUTH false the UI's own value is
    False whatever enableSignup says, and so is what the Job writes."""
    plan = plan_for("dev", {"webui": {"enableSignup": True, "extraEnv": {"WEBUI_AUTH": "False"}}})
    saved, _ = _run_migration(plan, FIRST_START, monkeypatch)
    assert saved["ui.enable_signup"] is False


def test_a_secret_never_reaches_the_jobs_command():
    """webui.secretEnv: a persistent setting given from Key Vault (its value never in the plan) is not written by the
    Job, and neither its secret's name nor its key stands in the Job's command; its name is as without it."""
    plan = plan_for("dev", {"webui": {"secretEnv": {"WEBUI_URL": "webui-url-from-vault",
                                                    "LDAP_APP_PASSWORD": "ldap-app-password"}}})
    command = _command(plan)
    assert "webui-url-from-vault" not in command and "ldap-app-password" not in command
    assert "webui.url" not in command and "ldap.server.app_password" not in command
    assert _job_name(plan) == _job_name(variant("dev"))


def test_the_llmd_ui_is_left_with_persistent_config_off():
    """The OpenAI-endpoint UI runs with persistent config off (the environment at each start): its Job writes no
    setting, whatever extraEnv holds."""
    from llmplatform.inference_specs import MIGRATE_COMMAND
    plan = plan_for("llmd", {"webui": {"extraEnv": {"ENABLE_LOGIN_FORM": "false"}}})
    assert _command(plan).endswith(f"exec {MIGRATE_COMMAND}\n")


@pytest.mark.parametrize("value", ["five", "7.5", ""])
def test_an_int_setting_open_webui_cannot_read_is_refused(value):
    """config.py reads RAG_TOP_K with int(): any other text stops Open-WebUI at start (and the Job would write it)."""
    with pytest.raises(ConfigError) as refused:
        parse_config(stack_raw("dev", {"webui": {"extraEnv": {"RAG_TOP_K": value}}}), "p", "dev")
    assert any("webui.extraEnv['RAG_TOP_K']" in p and repr(value) in p and "whole number" in p
               for p in refused.value.problems), refused.value.problems
