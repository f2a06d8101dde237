"""The Ollama models whose download size the stack knows (`config/data/ollama_models.json`), and how a name in
`modelStore.models` gets its size.

A name is read as the pinned Ollama reads it (`llmplatform.ollama_names`, Ollama v0.32.15 types/model/name.go):
`gpt-oss:20b`, `library/gpt-oss:20b` and `registry.ollama.ai/library/gpt-oss:20b` are one model. Its size is the
catalogue's for that model; an untagged library name (`<model>`, i.e. `<model>:latest`) has the size of the tag the
catalogue records `latest` pointing to, and no size when it records none. Any other model has the size its entry
declares. The sizes let config validation refuse a share too small or a model server too small for the models, and
set the preload Job's deadline, before anything is created.
"""
from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from llmplatform import ollama_names

DATA = Path(__file__).resolve().parent / "data" / "ollama_models.json"


@functools.lru_cache(maxsize=None)
def _data() -> dict[str, Any]:
    return json.loads(DATA.read_text(encoding="utf-8"))


# The catalogue writes ollama.com's figures, decimal GB; every size the stack counts is GiB (modelStore.sizeGib,
# a declared sizeGib, the memory fits, the preload Job's record).
from llmplatform.units import BYTES_PER_GIB, GB_PER_GIB


def catalogue() -> dict[str, float]:
    """Download size (GiB) by catalogue name, from the GB the catalogue writes."""
    return {name: float(size_gb) / GB_PER_GIB for name, size_gb in _data()["models_gb"].items()}


def is_embedding(name: str) -> bool:
    """A model the catalogue records as embedding-only (no text generation), under any of its tags: a model's
    capabilities are its family's (`nomic-embed-text:v1.5` embeds as `nomic-embed-text` does)."""
    if ollama_names.name_problem(name):
        return False
    return _untagged(name) in {_untagged(m) for m in _data()["embedding"]["models"]}


def _untagged(name: str) -> tuple[str, str, str]:
    host, namespace, model, _ = ollama_names.parse(name)
    return host, namespace, model


def latest_tags() -> dict[str, str]:
    """What each untagged library model's `latest` is, where a source shows it: model -> catalogue tag."""
    return {model: entry["tag"] for model, entry in _data()["latest"].items() if not model.startswith("_")}


@functools.lru_cache(maxsize=None)
def _by_listed_name() -> dict[str, str]:
    """Catalogue names by the name `ollama list` shows for each (`tinyllama:latest` -> `tinyllama`)."""
    return {ollama_names.display_shortest(name): name for name in catalogue()}


def _catalogue_name(name: str) -> Optional[str]:
    """The catalogue's name for `name` under any spelling Ollama reads as it, or the tag an untagged library model's
    recorded `latest` points to; None otherwise (and for a name Ollama would refuse)."""
    if ollama_names.name_problem(name):
        return None
    listed = _by_listed_name()
    shown = ollama_names.display_shortest(name)
    if shown in listed:
        return listed[shown]
    parsed = ollama_names.parse(name)
    if ollama_names.is_library(name) and parsed.tag == ollama_names.DEFAULT_TAG:
        return latest_tags().get(parsed.model)
    return None


def catalogue_size(name: str) -> Optional[float]:
    """The download size (GiB) of a model the catalogue knows (`_catalogue_name`); None otherwise."""
    known = _catalogue_name(name)
    return catalogue()[known] if known is not None else None


@dataclass(frozen=True)
class ModelShape:
    """What Ollama's memory estimate reads from a model's GGUF (the catalogue's `shapes`)."""
    block_count: int
    embedding_length: int
    head_count: int
    head_count_kv: int
    context_length: int  # the trained context, which caps the context a request gets

    @property
    def kv_bytes_per_token(self) -> int:
        """Ollama v0.32.15 llm/llama_server.go PredictServerVRAM: 2 (K and V) x layers x KV heads x
        (embedding_length / head_count) x 2 bytes (f16, whatever OLLAMA_KV_CACHE_TYPE says)."""
        head_size = self.embedding_length // self.head_count if self.head_count > 0 else 0
        return 2 * self.block_count * max(self.head_count_kv, 1) * head_size * 2


def catalogue_shape(name: str) -> Optional[ModelShape]:
    """The shape of a model the catalogue knows (`_catalogue_name`); None otherwise."""
    known = _catalogue_name(name)
    entry = _data()["shapes"].get(known) if known is not None else None
    return ModelShape(**{k: v for k, v in entry.items() if k != "source"}) if entry else None


def served_context(name: str, context: int) -> int:
    """The context a request for `name` gets: `context`, capped at the model's trained one where the catalogue
    knows it (llm/server.go NewLlamaServer)."""
    shape = catalogue_shape(name)
    return min(context, shape.context_length) if shape and shape.context_length > 0 else context


def parallel_for(name: str, num_parallel: int) -> int:
    """The requests a loaded model serves at once: OLLAMA_NUM_PARALLEL, 1 for an embedding model (server/sched.go
    `load`)."""
    return 1 if is_embedding(name) else max(num_parallel, 1)


def kv_cache_gib(name: str, context: int, num_parallel: int) -> Optional[float]:
    """The KV cache Ollama reserves when it loads `name` (its own estimate, f16), in GiB: the context each request
    gets, capped at the model's trained one, times the requests served at once; None for a model of unknown shape."""
    shape = catalogue_shape(name)
    if shape is None:
        return None
    tokens = served_context(name, context) * parallel_for(name, num_parallel)
    return shape.kv_bytes_per_token * tokens / BYTES_PER_GIB


def known_tags(name: str) -> list[str]:
    """The catalogue's tags of the library model `name` names (any tag)."""
    if ollama_names.name_problem(name) or not ollama_names.is_library(name):
        return []
    model = ollama_names.parse(name).model
    return [n for n in catalogue() if ollama_names.parse(n).model == model]


def why_unsized(name: str) -> str:
    """Why `name` (a valid name) has no catalogue size, and what to write instead."""
    tags = known_tags(name)
    parsed = ollama_names.parse(name)
    if tags and parsed.tag == ollama_names.DEFAULT_TAG:
        return (f"names no tag, and the catalogue does not know what {parsed.model}:latest is (the library moves "
                f"it); name a known tag ({', '.join(tags)}) or declare its size: {{name: {name}, sizeGib: <GiB>}}")
    return (f"is not in the model catalogue (config/data/ollama_models.json: {', '.join(catalogue())}"
            f"{', and untagged ' + ', '.join(latest_tags()) if latest_tags() else ''}); declare its download "
            f"size: {{name: {name}, sizeGib: <GiB>}}")
