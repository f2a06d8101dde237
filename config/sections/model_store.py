"""The `modelStore` section: the Azure Files share the models live on, and the Ollama models it preloads (their
catalogue and sizes: `config/models.py`)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from llmplatform.choices import MAX_PREMIUM_SHARE_GIB, MIN_PREMIUM_SHARE_GIB
from llmplatform.defaults import DEFAULTS as D  # the components' defaults are the stack's defaults

from .. import component_rules
from ..models import OLLAMA_MODELS, total_size_gib
from ..reader import Reader


@dataclass(frozen=True)
class ModelStoreConfig:
    protocol: str = D["ModelStore"]["protocol"]  # nfs | smb
    size_gib: int = D["ModelStore"]["size_gib"]
    redundancy: str = D["ModelStore"]["redundancy"]  # LRS | ZRS
    resource_group_name: Optional[str] = None  # a separate group so the share outlives the cluster
    models: tuple[str, ...] = ("tinyllama",)
    preload: bool = D["ModelStore"]["preload"]
    preload_dry_run: bool = D["ModelStore"]["preload_dry_run"]


def parse_model_store(r: Reader) -> ModelStoreConfig:
    d = ModelStoreConfig()
    models = r.str_list("models", d.models)
    unknown = [m for m in models if m not in OLLAMA_MODELS]
    if unknown:  # the stack preloads only models whose size it knows
        r.problem(f"modelStore.models has unknown model(s) {', '.join(map(repr, unknown))}; known: "
                  f"{', '.join(OLLAMA_MODELS)}")
    cfg = ModelStoreConfig(
        protocol=r.str_("protocol", d.protocol) or d.protocol, size_gib=r.int_("sizeGib", d.size_gib),
        redundancy=r.str_("redundancy", d.redundancy) or d.redundancy,
        resource_group_name=r.str_("resourceGroupName", None), models=models,
        preload=r.bool_("preload", d.preload), preload_dry_run=r.bool_("preloadDryRun", d.preload_dry_run),
    )
    r.reject_unknown_keys()
    component_rules.check(r, "ModelStore", {"protocol": cfg.protocol, "size_gib": cfg.size_gib,
                                            "redundancy": cfg.redundancy, "models": list(models)},
                          component_rules.keys("modelStore"))
    if not unknown and MIN_PREMIUM_SHARE_GIB <= cfg.size_gib <= MAX_PREMIUM_SHARE_GIB:
        needed = total_size_gib(models)
        if needed > cfg.size_gib * 0.9:
            r.problem(f"modelStore.sizeGib ({cfg.size_gib}) leaves under 10% free for the models to preload "
                      f"(~{needed:.0f} GiB); raise it to at least {int(needed / 0.9) + 1}")
    return cfg
