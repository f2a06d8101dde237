"""The `modelStore` section: the Azure Files share the models live on, and the Ollama models it preloads: catalogue
names, untagged library names whose `latest` the catalogue knows (`config/models.py`), or any Ollama name with its
declared size (`{name, sizeGib}`)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from llmplatform import ollama_names
from llmplatform.defaults import DEFAULTS as D  # the components' defaults are the stack's defaults
from llmplatform.input_rules import MAX_MODEL_GIB

from .. import component_rules
from ..models import catalogue_size, why_unsized
from ..reader import MAX_STRING, Reader, as_text, describe

DEFAULT_MODELS = ("tinyllama",)


@dataclass(frozen=True)
class ModelStoreConfig:
    protocol: str = D["ModelStore"]["protocol"]  # nfs | smb
    size_gib: int = D["ModelStore"]["size_gib"]
    redundancy: str = D["ModelStore"]["redundancy"]  # LRS | ZRS
    resource_group_name: Optional[str] = None  # a separate group so the share outlives the cluster
    models: tuple[str, ...] = DEFAULT_MODELS
    # each model's download size (GiB), in the order of `models`: declared, else the catalogue's; 0 when unknown
    # (only in a config that is refused)
    model_sizes_gib: tuple[float, ...] = tuple(catalogue_size(m) or 0.0 for m in DEFAULT_MODELS)
    preload: bool = D["ModelStore"]["preload"]
    preload_dry_run: bool = D["ModelStore"]["preload_dry_run"]
    # false only for a share that exists as ZRS where Microsoft's page no longer lists ZRS SSD shares
    check_region_offers: bool = D["ModelStore"]["check_region_offers"]
    # Azure Backup's daily share snapshots (smb only), each kept this many days, taken at this time (UTC)
    snapshots: bool = D["ModelStore"]["snapshots"]
    snapshot_retention_days: int = D["ModelStore"]["snapshot_retention_days"]
    snapshot_time: str = D["ModelStore"]["snapshot_time"]

    @property
    def sizes_gib(self) -> dict[str, float]:
        """Download size (GiB) by model name."""
        return dict(zip(self.models, self.model_sizes_gib))


def _entry(r: Reader, i: int, raw: Any) -> tuple[Optional[str], Optional[float], bool]:
    """One entry of modelStore.models: a name, or {name, sizeGib}; (name, declared size, whether a size was given
    and refused: its refusal names it, and no "declare its size" follows)."""
    key = f"{r.key('models')}[{i}]"
    raw = as_text(raw)
    if isinstance(raw, str):
        if not raw or len(raw) > MAX_STRING or not raw.isprintable():
            r.problem(f"{key} must be a model name of 1-{MAX_STRING} printable characters, got {describe(raw)}")
            return None, None, False
        return raw, None, False
    if not isinstance(raw, dict):
        r.problem(f"{key} must be a model name or an object {{name, sizeGib}}, got {describe(raw)}")
        return None, None, False
    e = r.entry("models", i)
    name = e.str_("name", None)
    before = len(r.problems)
    size: Optional[float] = e.float_("sizeGib", 0.0)
    refused = len(r.problems) > before  # not a number (said)
    if refused or e.raw.get("sizeGib") is None:  # or none declared
        size = None
    e.reject_unknown_keys()
    if name is None and e.raw.get("name") is None:  # (a name of the wrong type: str_ said so)
        r.problem(f"{key}.name is missing: an entry object names its model ({{name: ..., sizeGib: ...}})")
    if size is not None and not 0 < size <= MAX_MODEL_GIB:
        r.problem(f"{key}.sizeGib ({size:g}) must be the model's download size in GiB, above 0 and at most "
                  f"{MAX_MODEL_GIB}")
        size, refused = None, True
    return name, size, refused


def parse_model_store(r: Reader, location: str) -> ModelStoreConfig:
    """`location`: the stack's region, where the cluster and so the share are (what Azure offers there)."""
    d = ModelStoreConfig()
    entries = [_entry(r, i, raw) for i, raw in enumerate(r.entries("models", list(d.models)))]
    models = tuple(name for name, _, _ in entries if name is not None)
    sizes: list[float] = []
    for i, (name, declared, refused) in enumerate(entries):
        if name is None:
            continue
        size = declared if declared is not None else catalogue_size(name)
        # a bad name: the component's rule says why; a refused size: its refusal
        if size is None and not refused and not ollama_names.name_problem(name):
            r.problem(f"{r.key('models')}[{i}] {describe(name)} {why_unsized(name)}")
        sizes.append(size or 0.0)
    cfg = ModelStoreConfig(
        protocol=r.str_("protocol", d.protocol) or d.protocol, size_gib=r.int_("sizeGib", d.size_gib),
        redundancy=r.str_("redundancy", d.redundancy) or d.redundancy,
        resource_group_name=r.str_("resourceGroupName", None), models=models, model_sizes_gib=tuple(sizes),
        preload=r.bool_("preload", d.preload), preload_dry_run=r.bool_("preloadDryRun", d.preload_dry_run),
        check_region_offers=r.bool_("checkRegionOffers", d.check_region_offers),
        snapshots=r.bool_("snapshots", d.snapshots),
        snapshot_retention_days=r.int_("snapshotRetentionDays", d.snapshot_retention_days),
        snapshot_time=r.str_("snapshotTime", d.snapshot_time) or d.snapshot_time,
    )
    r.reject_unknown_keys()
    # the component's rules read the names (Ollama's grammar, each model once), named by their entry's index
    where = [i for i, (name, _, _) in enumerate(entries) if name is not None]
    renames = {f"models[{j}]": f"modelStore.models[{i}]" for j, i in enumerate(where) if i != j}
    # and the share's room, by the sizes known (a catalogue's, or declared; a refused or missing one is said above):
    # the component's one rule and message, not with preload off or a dry run, when nothing is pulled
    component_rules.check(r, "ModelStore", {"protocol": cfg.protocol, "size_gib": cfg.size_gib,
                                            "redundancy": cfg.redundancy, "models": list(models),
                                            "model_sizes_gib": {m: s for m, s in zip(models, sizes) if s > 0},
                                            "preload": cfg.preload, "preload_dry_run": cfg.preload_dry_run,
                                            "check_region_offers": cfg.check_region_offers,
                                            "snapshots": cfg.snapshots,
                                            "snapshot_retention_days": cfg.snapshot_retention_days,
                                            "snapshot_time": cfg.snapshot_time,
                                            "cluster": {"location": location}},
                          component_rules.keys("modelStore", {**renames, "model_sizes_gib": "modelStore.models"}))
    return cfg
