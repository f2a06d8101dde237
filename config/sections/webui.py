"""The `webui` section: Open-WebUI (its resources are inference's kind, `ResourcesConfig`)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from llmplatform.defaults import DEFAULTS as D  # the components' defaults are the stack's defaults

from ..reader import Reader
from .inference import ResourcesConfig, parse_resources

if TYPE_CHECKING:
    from .llmd import LlmdConfig


@dataclass(frozen=True)
class WebUiConfig:
    enabled: bool = True
    replicas: int = D["InferenceStack"]["webui_replicas"]
    max_replicas: int = D["InferenceStack"]["webui_max_replicas"]
    resources: ResourcesConfig = ResourcesConfig(**D["InferenceStack"]["webui_resources"])
    uploads_size_gib: int = D["InferenceStack"]["webui_uploads_size_gib"]
    uploads_tier: str = D["InferenceStack"]["webui_uploads_tier"]  # premium | standard
    backend: str = "ollama"  # ollama | llmd: the model the UI fronts


WEBUI_BACKENDS = ("ollama", "llmd")  # the model Open-WebUI fronts: Ollama's, or llm-d's through its API gate


def parse_webui(r: Reader) -> WebUiConfig:
    """Read as written; InferenceStack's rules check it (inference_stack_checks)."""
    d = WebUiConfig()
    cfg = WebUiConfig(
        enabled=r.bool_("enabled", d.enabled),
        replicas=r.int_("replicas", d.replicas),
        max_replicas=r.int_("maxReplicas", d.max_replicas),
        resources=parse_resources(r.section("resources"), d.resources),
        uploads_size_gib=r.int_("uploadsSizeGib", d.uploads_size_gib),
        uploads_tier=r.str_("uploadsTier", d.uploads_tier) or d.uploads_tier,
        backend=r.choice("backend", d.backend, WEBUI_BACKENDS),
    )
    r.reject_unknown_keys()
    return cfg


def webui_backend_checks(r: Reader, cfg: WebUiConfig, llmd_cfg: LlmdConfig) -> None:
    """Open-WebUI on llm-d needs the llm-d stack (one UI per stack: it takes the Gateways' UI listener)."""
    if cfg.enabled and cfg.backend == "llmd" and not llmd_cfg.enabled:
        r.problem("webui.backend 'llmd' needs llmd.enabled true (the UI fronts the llm-d model through its API gate)")
