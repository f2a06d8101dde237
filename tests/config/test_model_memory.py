"""What a model takes in memory once Ollama loads it: its KV cache from its own shape (config/models.py, the catalogue's
`shapes`), as Ollama v0.32.15 estimates it (llm/llama_server.go PredictServerVRAM), in the CPU memory fit and in the
warning where the models to keep loaded do not stay together on the GPU (server/sched.go's 80 % rule)."""
from __future__ import annotations

import json

import pytest

from config.loader import parse_config
from config.models import DATA, catalogue, catalogue_shape, kv_cache_gib
from config.reader import ConfigError
from config.ollama_memory import generation_batch_gib

from tests.config.test_loader import stack_raw

GIB = 2 ** 30


def test_every_catalogue_model_has_the_shape_ollamas_estimate_reads_with_its_source():
    shapes = json.loads(DATA.read_text(encoding="utf-8"))["shapes"]
    assert {m for m in shapes if not m.startswith("_")} == set(catalogue())
    for name, shape in shapes.items():
        if name.startswith("_"):
            continue
        figures = {k: v for k, v in shape.items() if k != "source"}
        assert shape["source"] and all(isinstance(v, int) and v > 0 for v in figures.values()), name
        # Ollama divides in integers; every catalogue model's embedding splits evenly into its heads
        assert shape["embedding_length"] % shape["head_count"] == 0, name


def test_the_kv_cache_is_ollamas_estimate_from_the_models_own_shape():
    """2 x layers x KV heads x (embedding_length / head_count) x 2 bytes a token, the context capped at the model's
    trained one, times numParallel (1 for an embedding model); a model the catalogue does not know has none."""
    assert catalogue_shape("llama3.1:8b").kv_bytes_per_token == 128 * 1024  # 2 x 32 x 8 x 128 x 2
    assert kv_cache_gib("llama3.1:8b", 32768, 4) == 16.0
    assert kv_cache_gib("library/llama3.1:8b", 32768, 4) == 16.0  # one model under any spelling Ollama reads
    assert kv_cache_gib("mistral:7b", 262144, 4) == 16.0  # capped at its trained 32768
    assert kv_cache_gib("phi3.5", 4096, 1) == 1.5  # 32 KV heads of 96: three times an 8B's
    # gemma2:2b: Ollama's estimate reads 2304 / 8 = 288 as the head size, not its key_length 256; trained on 8192
    assert kv_cache_gib("gemma2:2b", 32768, 1) == 2 * 26 * 4 * 288 * 2 * 8192 / GIB
    # nomic-embed-text: x 1 (an embedding model); its GGUF has no attention.head_count_kv, so the estimate reads 1
    # KV head (fs/ggml/ggml.go HeadCountKVMin's default), not its 12 heads
    assert kv_cache_gib("nomic-embed-text", 32768, 4) == 2 * 12 * 1 * 64 * 2 * 2048 / GIB
    assert kv_cache_gib("gpt-oss", 4096, 1) == kv_cache_gib("gpt-oss:20b", 4096, 1)  # `latest` as recorded
    assert kv_cache_gib("hf.co/a/b:Q4_0", 4096, 1) is None and kv_cache_gib("deepseek-r1:1.5b", 4096, 1) is None


@pytest.mark.parametrize("tokens, estimate, available, batch", [
    (131072, 20.6, 79.5, 2.0),  # over 32768 tokens with its 60 % headroom: batch 2048
    (262144, 34.6, 57.4, 0.75),  # no 60 % headroom for 2048 (34.6 > 34.4): 1024, within 75 %
    (16384, 5.0, 14.5, 0.75),  # over 4096: 1024
    (4096, 5.0, 80.0, 0.0),  # 4096 or less: 512, nothing added
    (131072, 12.0, 14.5, 0.0),  # no headroom for either: 512
])
def test_the_generation_batch_ollama_adds_for_a_completion_model(tokens, estimate, available, batch):
    """server/sched.go automaticGenerationBatch and generationBatchSurcharge (v0.32.15, 822-915)."""
    assert generation_batch_gib(tokens, estimate, available) == batch


def _cpu(models: list, inference: dict) -> object:
    return parse_config(stack_raw("dev", {"modelStore": {"models": models}, "inference": inference}), "p", "dev")


def test_the_cpu_fit_counts_each_models_own_cache_at_the_context_it_gets():
    """dev (CPU, 12Gi, numParallel 2). tinyllama is trained on 2048 tokens: at contextLength 65536 its cache is
    2048 x 2 x 22 KiB (88 MiB), not the 8B-class 16 GiB once counted for every model. phi3.5 keeps 32 KV heads of 96
    (384 KiB a token): at 16384 tokens x 2 its cache is 12 GiB, which the 8B-class floor counted as 4."""
    assert _cpu(["tinyllama"], {"contextLength": 65536}).model_store.models == ("tinyllama",)
    with pytest.raises(ConfigError, match=r"modelStore.models 'phi3.5' \(2.05 GiB\) plus Ollama's overhead on CPU "
                                          r"\(~13 GiB: runtime and the KV cache of inference.numParallel 2 x "
                                          r"inference.contextLength 16384 tokens\) needs ~15.05 GiB, over "
                                          r"inference.resources.memoryLimit '12Gi'"):
        _cpu(["phi3.5"], {"contextLength": 16384})
    # a model trained on less than the context given is counted, and named, at its own
    with pytest.raises(ConfigError, match=r"'mistral:7b' \(3.82 GiB\) plus Ollama's overhead on CPU \(~17 GiB: "
                                          r"runtime and the KV cache of inference.numParallel 4 x 32768 \(its trained "
                                          r"context, under inference.contextLength 65536\) tokens\)"):
        _cpu(["mistral:7b"], {"contextLength": 65536, "numParallel": 4})
    # a declared model's shape is unknown: the 8B-class floor, as before
    with pytest.raises(ConfigError, match=r"'hf.co/a/b:Q4_0' \(4 GiB\) plus Ollama's overhead on CPU \(~9 GiB"):
        _cpu([{"name": "hf.co/a/b:Q4_0", "sizeGib": 4}], {"contextLength": 32768})


def test_an_embedding_model_of_unknown_shape_on_cpu_counts_one_request_as_its_refusal_says():
    """Ollama loads an embedding model at numParallel 1 (server/sched.go `load`), catalogued or declared: a declared
    all-minilm at contextLength 65536 takes the 8B-class floor's 8 GiB of cache once, not x numParallel 4 (33 GiB in
    all, which the refusal then called `1 (an embedding model) x 65536 tokens`)."""
    declared = [{"name": "all-minilm", "sizeGib": 0.05}]
    assert _cpu(declared, {"contextLength": 65536, "numParallel": 4}).model_store.models == ("all-minilm",)
    with pytest.raises(ConfigError, match=r"'all-minilm' \(0.05 GiB\) plus Ollama's overhead on CPU \(~17 GiB: "
                                          r"runtime and the KV cache of 1 \(an embedding model\) x "
                                          r"inference.contextLength 131072 tokens\)"):
        _cpu(declared, {"contextLength": 131072, "numParallel": 4})


CONTEXT = "inference.contextLength "


def _context_warnings(stack: str, overrides: dict | None = None) -> list[str]:
    from config.advisories import advisories
    cfg = parse_config(stack_raw(stack, overrides), "p", stack)
    return [a for a in advisories(cfg) if a.startswith(CONTEXT)]


def test_two_models_that_evict_each_other_in_ollamas_32768_tier_are_told_and_the_context_that_keeps_them():
    """Three T4s (45 GiB) are Ollama's 32768-token tier: llama3.1:8b and mistral:7b at numParallel 4 take ~22.6 and
    ~21.9 GiB at load (16 GiB of cache each, the weights and the 2 GiB generation batch), and the second is over
    80 % of what the first leaves. At 16384 tokens they stay."""
    t4s = {"gpu": {"vmSize": "Standard_NC64as_T4_v3"}, "inference": {"contextLength": None, "gpusPerReplica": 3}}
    [told] = _context_warnings("prod", t4s)
    assert told.startswith("inference.contextLength is unset with Ollama on 3 x T4 (45 GiB, gpu.vmSize "
                           "Standard_NC64as_T4_v3): Ollama then gives each request 32,768 tokens"), told
    assert ("modelStore.models take llama3.1:8b ~22.6 GiB, mistral:7b ~21.8 GiB, nomic-embed-text ~0.3 GiB" in told
            and "80 % of the 43.66 GiB Ollama may use" in told
            and "llama3.1:8b, mistral:7b may not stay loaded beside the others (inference.maxLoadedModels 3)" in told
            and "set inference.contextLength to 16384 or less (it keeps them)" in told), told
    assert _context_warnings("prod", {**t4s, "inference": {**t4s["inference"], "contextLength": 16384}}) == []
    # an A100 40 GB (its 32768 tier too) no better
    [a100] = _context_warnings("prod", {"gpu": {"vmSize": "Standard_ND96asr_v4"}, "inference": {"contextLength": None}})
    assert "llama3.1:8b, mistral:7b may not stay loaded" in a100, a100


def test_models_that_stay_loaded_at_ollamas_largest_default_context_are_not_warned():
    """On prod's A100 (262144 tokens by default) at numParallel 1: llama3.1:8b ~22.6 GiB, mistral:7b ~8.6, both
    loaded together; at 2, ~38.6 and ~13.8. At 4 llama3.1:8b alone takes ~68.6 GiB: told, with 65536 as what keeps
    them."""
    unset = {"contextLength": None}
    assert _context_warnings("prod", {"inference": {**unset, "numParallel": 1}}) == []
    assert _context_warnings("prod", {"inference": {**unset, "numParallel": 2}}) == []
    [told] = _context_warnings("prod", {"inference": unset})
    assert "llama3.1:8b ~68.6 GiB" in told and "set inference.contextLength to 65536 or less" in told, told
    assert _context_warnings("prod") == []  # the shipped file's 32768


def test_a_context_length_given_that_keeps_the_models_apart_is_told_too():
    [told] = _context_warnings("prod", {"inference": {"contextLength": 131072}})
    assert told.startswith("inference.contextLength 131072 with Ollama on 1 x A100 (80 GiB, gpu.vmSize "
                           "Standard_NC24ads_A100_v4): each request gets 131,072 tokens"), told
    assert "set inference.contextLength to 65536 or less" in told, told


def test_a_model_of_unknown_shape_keeps_the_warning_certain_without_shapes():
    """A declared model ({name, sizeGib}) has no shape: counted by its weights alone, the least it takes, an eviction
    found is certain; else only no contextLength in the 262144 tier is warned, with an 8B-class model's figure, as
    before the catalogue knew shapes."""
    models = ["llama3.1:8b", {"name": "hf.co/a/b:Q4_0", "sizeGib": 4}]
    unset = {"contextLength": None, "numParallel": 1}
    [told] = _context_warnings("prod", {"inference": unset, "modelStore": {"models": models}})
    assert "(~16 GiB for an 8B-class model trained on 131,072 tokens)" in told, told
    assert _context_warnings("prod", {"modelStore": {"models": models}}) == []  # 32768 given: not known to fail


def test_models_of_known_shape_that_evict_each_other_are_told_beside_one_of_unknown_shape():
    """prod at contextLength 131072: llama3.1:8b (~68.6 GiB) and mistral:7b (~21.8) do not stay together, whatever a
    declared model beside them takes (its weights at least): told, not silenced by that model's unknown shape."""
    models = ["llama3.1:8b", "mistral:7b", {"name": "hf.co/a/b:Q4_0", "sizeGib": 4}]
    [told] = _context_warnings("prod", {"inference": {"contextLength": 131072}, "modelStore": {"models": models}})
    assert ("llama3.1:8b ~68.6 GiB, mistral:7b ~21.8 GiB, hf.co/a/b:Q4_0 ~4 GiB and its KV cache, unknown here" in told
            and "llama3.1:8b, mistral:7b, hf.co/a/b:Q4_0 may not stay loaded" in told
            and "set inference.contextLength to 65536 or less (it keeps them if the KV cache of hf.co/a/b:Q4_0, "
                "unknown here, fits too)" in told), told


def test_only_as_many_models_as_ollama_keeps_loaded_are_counted_together():
    """OLLAMA_MAX_LOADED_MODELS caps the runners (server/sched.go processPending): with inference.maxLoadedModels 2,
    llama3.1:8b (~38.6 GiB at 65536 x 4) is only ever loaded beside one other, mistral:7b (~21.8) at most, and stays
    within 80 % of what that leaves; with 3 it also has qwen2.5:7b (~13.4) beside it, and does not."""
    three = {"modelStore": {"models": ["llama3.1:8b", "mistral:7b", "qwen2.5:7b"]}}
    assert _context_warnings("prod", {**three, "inference": {"contextLength": 65536, "maxLoadedModels": 2}}) == []
    [told] = _context_warnings("prod", {**three, "inference": {"contextLength": 65536, "maxLoadedModels": 3}})
    assert "llama3.1:8b may not stay loaded beside the others (inference.maxLoadedModels 3)" in told, told
