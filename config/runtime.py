"""Reads this project's stack config from the Pulumi runtime (real engine or offline mocks) as plain data."""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime import config as runtime_config

from . import regions
from .go_yaml import go_time_problems
from .loader import parse_config
from .reader import ConfigError
from .stack_yaml import null_key_problems
from .platform_config import PlatformConfig
from .regions import GlobalConfig


def _decode(value: Any) -> Any:
    # The engine hands structured values (set with `pulumi config set --path`) over as JSON text.
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def raw_project_config(project: str) -> dict[str, Any]:
    """This project's keys as the engine hands them over; a secret one is refused, by name (ConfigError)."""
    merged = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    prefix = f"{project}:"
    raw = {k[len(prefix):]: _decode(v) for k, v in merged.items() if k.startswith(prefix)}
    secret = sorted(k for k in raw if _is_secret(prefix + k))
    if secret:
        raise ConfigError([f"{k} holds a secret value (`pulumi config set --secret`, or an ESC environment's "
                           f"secret); this program has no secret settings (secrets are generated and kept in Key "
                           f"Vault; an Open-WebUI setting whose value is secret goes into a Key Vault secret named "
                           f"in webui.secretEnv): the value is not shown" for k in secret])
    # the engine's name for a null key, and Go's text of an unquoted date, in the stack file (offline, the
    # stack-file reader refuses either as it reads the file)
    problems = null_key_problems(raw) + go_time_problems(raw)
    if problems:
        raise ConfigError(problems)
    return raw


def _is_secret(key: str) -> bool:
    """`key` holds a secret: the engine decrypts secret config and hands it over as plain text beside it, listing the
    secret keys, a top-level key whose object holds one at any depth included (pulumi/pulumi 1b5949891b
    sdk/go/common/resource/config/object.go `MarshalString` returns `c.Secure()`, map.go `SecureKeys`,
    pkg/resource/deploy/source_eval.go `ConfigSecretKeys`): to a `pulumi up` program as PULUMI_CONFIG_SECRET_KEYS
    (sdk/python/cmd/pulumi-language-python/main.go `constructConfigSecretKeys`), to an Automation API or provider
    run through `set_all_config`. The offline reader refuses the stack file's `secure:` values itself
    (offline/stackfile.py); a real run had read them as plain values: a pod spec's literal, a refusal's text."""
    return key in runtime_config.get_config_secret_keys_env() or runtime_config.is_config_secret(key)


def load_platform_config() -> PlatformConfig:
    """Validated config of the running stack; raises ConfigError (every problem at once) when it is bad."""
    project, stack = pulumi.get_project(), pulumi.get_stack()
    return checked_regional(parse_config(raw_project_config(project), project, stack))


def checked_regional(cfg: PlatformConfig, project_dir: Path = regions.PROJECT_DIR) -> PlatformConfig:
    """A regional stack is also checked against the project's other regional stack files (global names, VNets)."""
    if not cfg.edge.enabled:
        return cfg
    siblings, problems, standalone = regions.sibling_regional_configs(cfg.stack, cfg.project, parse_config,
                                                                      project_dir)
    problems += regions.regional_conflicts(cfg.stack, cfg, siblings)
    problems += regions.standalone_conflicts(cfg, standalone)
    if problems:
        raise ConfigError(problems)
    return cfg


def is_global_stack() -> bool:
    """The global stack (Front Door and Fleet over the regional stacks) has a `global` section."""
    return regions.is_global(raw_project_config(pulumi.get_project()))


def load_global_config(project_dir: Path = regions.PROJECT_DIR) -> GlobalConfig:
    """The global stack's config, with each listed region a regional stack file of this project that names this
    stack as its global stack, each global.llmdRegions entry one that publishes llm-d, and with TLS (gateway.tls) in
    prod."""
    project, stack = pulumi.get_project(), pulumi.get_stack()
    cfg = regions.parse_global(raw_project_config(project), project, stack)
    problems = regions.region_file_problems(cfg, project, stack, project_dir)
    cfg, tls_problems = regions.origin_tls(cfg, regions.regions_without_tls(cfg, project, project_dir))
    if problems or tls_problems:
        raise ConfigError(problems + tls_problems)
    # the regional stacks live in the global stack's organization unless it says otherwise: the engine hands the
    # program its stack's organization, "organization" on a self-managed backend (pulumi/pulumi 1b5949891b
    # pkg/resource/deploy/source_eval.go RunInfo Organization, pkg/backend/diy/state.go), its own on Pulumi Cloud
    return dataclasses.replace(cfg, organization=cfg.organization or pulumi.get_organization() or "organization")
