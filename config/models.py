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
from pathlib import Path
from typing import Any, Optional

from llmplatform import ollama_names

DATA = Path(__file__).resolve().parent / "data" / "ollama_models.json"


@functools.lru_cache(maxsize=None)
def _data() -> dict[str, Any]:
    return json.loads(DATA.read_text(encoding="utf-8"))


# The catalogue writes ollama.com's figures, decimal GB; every size the stack counts is GiB (modelStore.sizeGib,
# a declared sizeGib, the memory fits, the preload Job's record).
from llmplatform.units import GB_PER_GIB


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
def _by_listed_name() -> dict[str, float]:
    """Sizes by the name `ollama list` shows for each catalogue entry (`tinyllama` -> `tinyllama:latest`)."""
    return {ollama_names.display_shortest(name): size for name, size in catalogue().items()}


def catalogue_size(name: str) -> Optional[float]:
    """The size of a model the catalogue knows under any spelling Ollama reads as it, or of an untagged library
    model through its recorded `latest`; None otherwise (and for a name Ollama would refuse)."""
    if ollama_names.name_problem(name):
        return None
    sizes = _by_listed_name()
    listed = ollama_names.display_shortest(name)
    if listed in sizes:
        return sizes[listed]
    parsed = ollama_names.parse(name)
    if ollama_names.is_library(name) and parsed.tag == ollama_names.DEFAULT_TAG:
        tag = latest_tags().get(parsed.model)
        if tag is not None:
            return sizes[ollama_names.display_shortest(tag)]
    return None


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
