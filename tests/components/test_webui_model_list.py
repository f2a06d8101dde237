"""Open-WebUI's model list while the stack's Ollama is at zero replicas (dev's default): what the planned UI, after
its planned migration Job, shows and does, modelled on Open-WebUI 0.11.0 (the PyPI wheel of the pinned image;
docs/decisions.md, "2026-12-05 (late): Open-WebUI's model list while Ollama is at zero")."""
from __future__ import annotations

import pytest

import llmplatform as P
from config.loader import parse_config
from config.reader import ConfigError
from offline import runner as offline

from tests.components.test_components_alone import REQUIRED, provider_opts
from tests.components.test_inference_stack import deployment
from tests.components.test_open_webui import _env, _run_migration
from tests.conftest import variant
from tests.config.test_loader import stack_raw

from llmplatform.open_webui import MODELS_ANNOTATION

CACHE_KEY = "models.base_models_cache"
MODEL = "tinyllama:latest"  # dev's modelStore.models, as Ollama's /api/tags names it


class ModelNotFound(Exception):
    """Open-WebUI's refusal of a chat whose model it cannot place (HTTP 400 "model not found")."""


class Ollama:
    """The UI's Ollama connection: its /api/tags answers while a replica runs; at zero the KEDA interceptor holds the
    request for the cold start, and Open-WebUI gives up after AIOHTTP_CLIENT_TIMEOUT_MODEL_LIST (env.py lines 610-617,
    10 s): a failed fetch. `asked` counts the list requests, each one such a wait while at zero."""

    def __init__(self, up: bool):
        self.up, self.asked = up, 0

    def tags(self) -> list[str]:
        self.asked += 1
        return [MODEL] if self.up else []


class WebUiProcess:
    """One Open-WebUI 0.11.0 process, as it lists models and places a chat's model, over the database's config rows
    `saved` and the Ollama connection."""

    def __init__(self, env: dict, saved: dict, ollama: Ollama, shared: dict):
        # config.py line 3186 ENABLE_PERSISTENT_CONFIG ('True' unless set); line 364 ENABLE_BASE_MODELS_CACHE
        # (`.lower() == 'true'`), DEFAULT_CONFIG's `models.base_models_cache` (line 2797); models/config.py
        # seed_defaults inserts a key the database lacks and keeps a row it holds, Config.get reads the row (else
        # the default) at each call
        self._persistent = str(env.get("ENABLE_PERSISTENT_CONFIG", "True")).lower() == "true"
        self._default = str(env.get("ENABLE_BASE_MODELS_CACHE", "False")).lower() == "true"
        if self._persistent:
            saved.setdefault(CACHE_KEY, self._default)
        self.saved, self.ollama = saved, ollama
        self.base_models: list[str] = []  # app.state.BASE_MODELS (main.py line 560), this process's
        self.ollama_models: dict[str, list[int]] = {}  # app.state.OLLAMA_MODELS (main.py line 511), this process's
        self.models = shared  # app.state.MODELS: a RedisDict in Valkey with WEBSOCKET_MANAGER redis (socket/main.py)
        if self._cache():  # main.py lines 378-397: the lifespan fetches the list once, before the app serves
            self.list_models()

    def _cache(self) -> bool:
        return bool(self.saved.get(CACHE_KEY, self._default)) if self._persistent else self._default

    def _fetch(self) -> list[str]:
        """routers/ollama.py get_all_models (lines 380-451): /api/tags of each connection; OLLAMA_MODELS becomes what
        answered (line 450), empty when nothing did."""
        answered = self.ollama.tags()
        self.ollama_models = {model: [0] for model in answered}
        return answered

    def list_models(self) -> list[str]:
        """utils/models.py get_all_models (lines 67-88, 417-426): the kept list while the cache is on and one is kept,
        else a fetch, falling back to the kept list when the fetch finds nothing."""
        if self.models and self.base_models and self._cache():
            base = self.base_models
        else:
            base = self._fetch()
            if base:
                self.base_models = base
            else:
                base = self.base_models
        if not base:
            return []
        self.models.clear()
        self.models.update({model: {"owned_by": "ollama"} for model in base})
        return list(base)

    def chat(self, model: str) -> int:
        """main.py chat_completion (lines 1052-1071): the model must be in MODELS; routers/ollama.py get_ollama_url
        (lines 1068-1083): its connection from OLLAMA_MODELS, fetched again when it is not there. The request is then
        sent (send_request, no total timeout: AIOHTTP_CLIENT_TIMEOUT unset) and waits the cold start at the
        interceptor. Returns the connection's index."""
        if not self.models:
            self.list_models()
        if model not in self.models:
            raise ModelNotFound(model)
        if model not in self.ollama_models:
            self._fetch()
        if model not in self.ollama_models:
            raise ModelNotFound(model)
        return self.ollama_models[model][0]


def _ui(plan) -> dict:
    return _env(deployment(plan, "open-webui")["spec"]["template"]["spec"]["containers"][0])


@pytest.mark.parametrize("first_start", ["before", "after"])
def test_the_ui_lists_the_stacks_model_at_once_and_a_chat_waits_the_cold_start(dev, monkeypatch, first_start):
    """dev's Ollama scales to zero when idle. A UI process that has listed the model once shows it on every later page
    without asking Ollama (each ask waits 10 s at the interceptor and finds nothing), and a chat finds the model's
    connection at once, then waits the cold start; it was refused "model not found" while the replica started. A
    database a UI first started on before the component kept the list (the setting saved off) is turned on by the
    migration Job; a new one is seeded on from the UI's environment."""
    earlier = {"ollama.base_urls": ["http://router:8081"]}
    if first_start == "before":
        earlier[CACHE_KEY] = False
    saved, _ = _run_migration(dev, earlier, monkeypatch)
    ollama, shared = Ollama(up=True), {}
    ui = WebUiProcess(_ui(dev), dict(saved), ollama, shared)
    assert ui.list_models() == [MODEL]
    ollama.up, ollama.asked = False, 0  # idle: scaled to zero
    for _page in range(3):
        assert ui.list_models() == [MODEL]
    assert ollama.asked == 0, "each page's model list waited for the cold start"
    assert ui.chat(MODEL) == 0
    assert ollama.asked == 0


def test_a_process_that_never_saw_ollama_up_lists_the_model_once_it_is(dev, monkeypatch):
    """What remains (inference-stack.md): a UI process started while Ollama was at zero has no list to keep; its
    first lists find nothing (each request wakes Ollama), and once a replica answers the list is kept for good."""
    saved, _ = _run_migration(dev, {}, monkeypatch)
    ollama = Ollama(up=False)
    ui = WebUiProcess(_ui(dev), dict(saved), ollama, {})
    assert ui.list_models() == [] and ollama.asked == 2  # the lifespan's fetch and the page's
    with pytest.raises(ModelNotFound):
        ui.chat(MODEL)
    ollama.up = True
    assert ui.list_models() == [MODEL]
    ollama.up, ollama.asked = False, 0
    assert ui.list_models() == [MODEL] and ui.chat(MODEL) == 0 and ollama.asked == 0


def test_a_new_database_is_seeded_from_the_uis_environment_alone(dev):
    """Without the Job's write (a UI whose database the Job has not reached), the first start seeds the setting on
    from the UI's environment; an OpenAI UI (persistent config off, llm-d's) is left as it was."""
    saved: dict = {}
    WebUiProcess(_ui(dev), saved, Ollama(up=True), {})
    assert saved == {CACHE_KEY: True}
    llmd = _ui(variant("llmd"))
    assert llmd["ENABLE_PERSISTENT_CONFIG"] == "false" and "ENABLE_BASE_MODELS_CACHE" not in llmd


def test_the_migration_job_turns_the_kept_list_on_once(dev, monkeypatch):
    """Idempotent: a database that keeps the list already is not written."""
    for before in ({}, {CACHE_KEY: False}, {CACHE_KEY: None}):
        saved, upserts = _run_migration(dev, before, monkeypatch)
        assert saved[CACHE_KEY] is True and [u for u in upserts if CACHE_KEY in u] == [{CACHE_KEY: True}], before
    saved, upserts = _run_migration(dev, {CACHE_KEY: True}, monkeypatch)
    assert saved[CACHE_KEY] is True and not [u for u in upserts if CACHE_KEY in u]


def test_the_setting_the_component_sets_is_refused_in_extra_env():
    """Through the component, InferenceStack and the stack config: named, with its value and what is allowed."""
    from llmplatform import ComponentInputError
    for build, key in ((lambda: P.OpenWebUi("ui", {**REQUIRED["OpenWebUi"](), "extra_env": {
            "ENABLE_BASE_MODELS_CACHE": "false"}}, provider_opts()), "extra_env"),
                       (lambda: P.InferenceStack("stack", {**REQUIRED["InferenceStack"](), "webui_extra_env": {
                           "ENABLE_BASE_MODELS_CACHE": "false"}}, provider_opts()), "webui_extra_env")):
        with pytest.raises(ComponentInputError) as refused:
            offline.run_function(build)
        message = str(refused.value)
        assert f"input {key}=" in message and "'ENABLE_BASE_MODELS_CACHE'" in message, message
        assert "allowed: variables other than" in message and "ENABLE_BASE_MODELS_CACHE," in message, message
    with pytest.raises(ConfigError) as refused:
        parse_config(stack_raw("dev", {"webui": {"extraEnv": {"ENABLE_BASE_MODELS_CACHE": False}}}), "p", "dev")
    assert [p for p in refused.value.problems if p.startswith(
        "webui.extraEnv ['ENABLE_BASE_MODELS_CACHE'] is invalid; allowed: variables other than")], \
        refused.value.problems


def _listed(plan) -> tuple[str | None, list[str]]:
    """The UI pod template's listed models, and the Deployment's dependencies."""
    [ui] = [r for r in plan.of_type("kubernetes:apps/v1:Deployment") if r.inputs["metadata"]["name"] == "open-webui"]
    return (ui.inputs["spec"]["template"]["metadata"].get("annotations") or {}).get(MODELS_ANNOTATION), \
        sorted(ui.dependencies)


def test_a_model_added_to_the_store_restarts_the_ui_once_it_is_pulled(dev):
    """A kept list never learns of a new model: a change of modelStore.models changes the UI's pod template (a
    rolling restart: each new process fetches the list anew), and the UI waits for the preload Job that pulls it, so
    the new processes find it on the store."""
    listed, after = _listed(dev)
    assert listed == "tinyllama"
    [preload] = [r for r in dev.of_type("kubernetes:batch/v1:Job")
                 if r.inputs["metadata"]["name"].startswith("model-preload-")]
    assert preload.urn in after, after
    more = offline.run("dev", overrides={"modelStore": {"models": ["tinyllama", "llama3.2:1b"]}})
    assert _listed(more)[0] == "tinyllama llama3.2:1b"
