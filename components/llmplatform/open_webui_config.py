"""Open-WebUI 0.11.0's persistent settings an environment variable seeds, and the value each is seeded with.

data/open_webui_persistent_config.json is written from the released wheel by components/maintenance/
open_webui_persistent_config.py (its `source`: the wheel's name and sha256): for each variable of `open_webui/config.py`
whose DEFAULT_CONFIG entry it read (`path`, the database key) and the conversion of its one assignment (`kind`, `line`).
Open-WebUI seeds a missing key from its environment at start (models/config.py Config.seed_defaults) and reads the
database afterwards (Config.get), so a variable changed in the stack file after the first start reached the pod and
not the UI: the migration Job now writes these values (inference_specs.STACK_SETTINGS_CODE).
"""
import json
from functools import lru_cache
from importlib.resources import files
from typing import Any, Mapping

from .input_rules.shared import is_true


@lru_cache(maxsize=1)
def persistent_config_table() -> dict[str, Any]:
    """The vendored table: {"source": {...}, "variables": {ENV: {"path", "kind", "default", "line"}}}."""
    return json.loads(files("llmplatform").joinpath("data/open_webui_persistent_config.json").read_text())


def convert(kind: str, value: str, env: Mapping[str, str]) -> Any:
    """`value` as Open-WebUI 0.11.0's config.py turns its variable into the setting's default (the `kind`s are the
    shapes the generator recognises; `env` for the one that reads another variable). An int that int() refuses
    raises ValueError, as Open-WebUI's start would (OpenWebUi's rules refuse it first)."""
    if kind == "str":
        return value
    if kind == "bool":
        return is_true(value)  # config.py's `os.getenv(ENV, default).lower() == 'true'`
    if kind == "bool_if_auth":  # ENABLE_SIGNUP: `False if not WEBUI_AUTH else ...` (WEBUI_AUTH: env.py, 'True')
        return is_true(env.get("WEBUI_AUTH", "True")) and is_true(value)
    if kind == "int":
        return int(value)
    if kind == "csv":
        return [part.strip() for part in value.split(",") if part.strip()]
    raise ValueError(f"unknown conversion {kind!r}")


@lru_cache(maxsize=1)
def int_settings() -> frozenset[str]:
    """The variables config.py reads with int(): a value int() refuses stops Open-WebUI at start."""
    return frozenset(var for var, entry in persistent_config_table()["variables"].items() if entry["kind"] == "int")


def persistent_settings(env: Mapping[str, str]) -> dict[str, Any]:
    """Database key -> value for each variable of `env` (a UI container's plain environment) that seeds one of
    Open-WebUI 0.11.0's persistent settings, converted as Open-WebUI converts it. Plain values only: secret_env's
    never pass here (they would stand in the Job's command, which the plan shows)."""
    table = persistent_config_table()["variables"]
    return {table[var]["path"]: convert(table[var]["kind"], value, env)
            for var, value in sorted(env.items()) if var in table and isinstance(value, str)}
