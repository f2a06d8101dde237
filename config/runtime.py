"""Reads this project's stack config from the Pulumi runtime (real engine or offline mocks) as plain data."""
from __future__ import annotations

import json
from typing import Any

import pulumi
from pulumi.runtime import config as runtime_config

from .loader import parse_config
from .schema import PlatformConfig


def _decode(value: Any) -> Any:
    # The engine hands structured values (set with `pulumi config set --path`) over as JSON text.
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def raw_project_config(project: str) -> dict[str, Any]:
    merged = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    prefix = f"{project}:"
    return {k[len(prefix):]: _decode(v) for k, v in merged.items() if k.startswith(prefix)}


def load_platform_config() -> PlatformConfig:
    """Validated config of the running stack; raises ConfigError (every problem at once) when it is bad."""
    project, stack = pulumi.get_project(), pulumi.get_stack()
    return parse_config(raw_project_config(project), project, stack)
