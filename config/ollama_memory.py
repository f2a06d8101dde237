"""Ollama's memory estimate on GPUs and its scheduler's rule for loading a model beside others (Ollama v0.32.15): what
`make plan`'s default-context warning counts (config/sections/inference.py `default_context_advisory`)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Optional

from llmplatform.gpu_skus import GpuSku
from llmplatform.inference_specs import OLLAMA_GPU_RESERVE_MIB
from llmplatform.units import MIB_PER_GIB

from .models import catalogue_shape, is_embedding, kv_cache_gib, parallel_for, served_context

if TYPE_CHECKING:
    from .sections.model_store import ModelStoreConfig

# Ollama's scheduler loads a model beside loaded ones only if its estimate is within 80 % of the memory they leave
# (v0.32.15 server/sched.go `load`, 544-552)
SCHEDULER_SHARE = 0.8


def ollama_gpu_memory_gib(sku: GpuSku, gpus_per_replica: int) -> float:
    """What Ollama may fill on a replica's GPUs: each GPU's memory as the driver reports it, less the share its
    scheduler keeps."""
    return (sku.gpu_memory_mib - OLLAMA_GPU_RESERVE_MIB) * gpus_per_replica / MIB_PER_GIB


def generation_batch_gib(tokens: int, estimate_gib: float, available_gib: float) -> float:
    """What Ollama adds to a completion model's estimate for the generation batch it picks on a GPU with flash
    attention (on by default for CUDA compute capability 6 and up but 7.2: every GPU size here), by the context x
    numParallel the model serves and the memory left (v0.32.15 server/sched.go automaticGenerationBatch, 822-915):
    batch 2048 (+2 GiB) over 32768 tokens and 1024 (+768 MiB) over 4096, each only with its headroom, else 512 (+0)."""
    for over_tokens, batch_gib, headroom in ((32768, 2.0, 0.60), (4096, 0.75, 0.75)):
        if tokens > over_tokens and estimate_gib <= available_gib * headroom \
                and batch_gib <= available_gib * SCHEDULER_SHARE - estimate_gib:
            return batch_gib
    return 0.0


def load_gib(model: str, size_gib: float, context: int, num_parallel: int, available_gib: float) -> Optional[float]:
    """What Ollama's scheduler counts to load `model` on GPUs with `available_gib` free: its estimate, the file's size
    and the KV cache (llm/llama_server.go PredictServerVRAM), plus a completion model's generation batch; None for a
    model of unknown shape."""
    kv = kv_cache_gib(model, context, num_parallel)
    if kv is None:
        return None
    estimate = size_gib + kv
    if is_embedding(model):
        return estimate
    tokens = served_context(model, context) * parallel_for(model, num_parallel)
    return estimate + generation_batch_gib(tokens, estimate, available_gib)


def least_load_gib(model: str, size_gib: float, context: int, num_parallel: int, available_gib: float) -> float:
    """`load_gib`, or for a model of unknown shape the least it can be: its weights (its cache and batch unknown)."""
    load = load_gib(model, size_gib, context, num_parallel, available_gib)
    return size_gib if load is None else load


def loads_gib(store: ModelStoreConfig, context: int, num_parallel: int, memory_gib: float) -> dict[str, float]:
    """Each model's load (`least_load_gib`) as the first on GPUs with `memory_gib`."""
    return {m: least_load_gib(m, size, context, num_parallel, memory_gib) for m, size in store.sizes_gib.items()}


def unknown_shapes(store: ModelStoreConfig) -> list[str]:
    """The models whose KV shape the catalogue does not know (a declared {name, sizeGib})."""
    return [m for m in store.models if catalogue_shape(m) is None]


def evicted_models(store: ModelStoreConfig, context: int, num_parallel: int, memory_gib: float,
                   max_loaded: int) -> list[str]:
    """The generating models Ollama's scheduler would not load beside the others it may keep loaded with them (its
    80 % rule, each loaded last, the others as they load first: the largest `max_loaded` - 1, since
    OLLAMA_MAX_LOADED_MODELS caps the runners, embedding ones too, server/sched.go processPending). A model of unknown
    shape counts its weights alone, the least it takes: an eviction found is certain."""
    loads = loads_gib(store, context, num_parallel, memory_gib)
    evicted = []
    for m in (m for m in store.models if not is_embedding(m)):
        beside = sorted((load for other, load in loads.items() if other != m), reverse=True)[:max(max_loaded - 1, 0)]
        left = memory_gib - sum(beside)
        need = least_load_gib(m, store.sizes_gib[m], context, num_parallel, max(left, 0.0))
        if need > SCHEDULER_SHARE * left:
            evicted.append(m)
    return evicted


def context_that_keeps(store: ModelStoreConfig, context: int, num_parallel: int, memory_gib: float,
                       max_loaded: int) -> Optional[int]:
    """The largest power of two under `context`, from 2048, at which no model is evicted; None if none."""
    tokens = 1 << (context.bit_length() - 1)
    tokens = tokens // 2 if tokens == context else tokens
    while tokens >= 2048:
        if not evicted_models(store, tokens, num_parallel, memory_gib, max_loaded):
            return tokens
        tokens //= 2
    return None
