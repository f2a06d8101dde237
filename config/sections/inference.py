"""The `inference` section (Ollama), the pod resources it shares with webui, InferenceStack's rules over the
sections it reads, and the checks of the model server against the GPU pool and the models to preload."""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Callable, Optional

from llmplatform.defaults import DEFAULTS as D  # the components' defaults are the stack's defaults
from llmplatform.gpu_skus import find_gpu_sku, memory_text
from llmplatform.inference_specs import OLLAMA_CONTEXT_TIERS, OLLAMA_GPU_RESERVE_MIB, ollama_default_context
from llmplatform.units import fit_texts, need_text

from llmplatform import ollama_names

from .. import component_rules
from ..catalogs import vm_shape
from ..models import is_embedding, kv_cache_gib, parallel_for, served_context
from ..ollama_memory import context_that_keeps, evicted_models, loads_gib, ollama_gpu_memory_gib, unknown_shapes
from ..quantities import parse_quantity
from ..reader import Reader, describe
from .resources import ResourcesConfig, parse_resources

if TYPE_CHECKING:
    from .autoscaling import AutoscalingConfig
    from .cluster import ClusterConfig
    from .gateway import GatewayConfig
    from .gpu import GpuConfig
    from .model_store import ModelStoreConfig
    from .webui import WebUiConfig


@dataclass(frozen=True)
class InferenceConfig:
    accelerator: str = D["InferenceStack"]["accelerator"]  # cpu | gpu: the one flag that moves Ollama onto the GPU pool
    replicas: int = D["InferenceStack"]["replicas"]
    resources: ResourcesConfig = ResourcesConfig(**D["InferenceStack"]["resources"])
    gpus_per_replica: int = D["InferenceStack"]["gpus_per_replica"]
    num_parallel: int = D["InferenceStack"]["num_parallel"]
    keep_alive: str = D["InferenceStack"]["keep_alive"]
    max_loaded_models: int = D["InferenceStack"]["max_loaded_models"]
    context_length: Optional[int] = None  # OLLAMA_CONTEXT_LENGTH; None: Ollama's own default by the GPU's memory
    # a model of modelStore.models each replica loads before it is Ready, or "none"; "auto" until resolve_warm_model
    warm_model: str = "auto"


def parse_inference(r: Reader) -> InferenceConfig:
    """Read as written; InferenceStack's rules check it (inference_stack_checks)."""
    d = InferenceConfig()
    cfg = InferenceConfig(
        accelerator=r.str_("accelerator", d.accelerator) or d.accelerator,
        replicas=r.int_("replicas", d.replicas),
        resources=parse_resources(r.section("resources"), d.resources),
        gpus_per_replica=r.int_("gpusPerReplica", d.gpus_per_replica),
        num_parallel=r.int_("numParallel", d.num_parallel),
        keep_alive=r.str_("keepAlive", d.keep_alive) or d.keep_alive,
        max_loaded_models=r.int_("maxLoadedModels", d.max_loaded_models),
        # 0 reaches OllamaServer's rule, which names what is allowed; a value that is no whole number is the reader's
        # one problem (unset after it, not a 0 the stack never gave)
        context_length=(r.int_("contextLength", None)  # type: ignore[arg-type]
                        if r.has("contextLength") else d.context_length),
        warm_model=r.str_("warmModel", d.warm_model) or d.warm_model,
    )
    r.reject_unknown_keys()
    return cfg


def _pulled(store: ModelStoreConfig) -> list[str]:
    return list(store.models) if store.preload and not store.preload_dry_run else []


def effective_warm_model(inf: InferenceConfig, store: ModelStoreConfig) -> Optional[str]:
    """The model OllamaServer warms: `inference.warmModel` as written, `auto` the first model the store preloads
    that is not embedding-only (none when nothing is pulled), `none` none."""
    if inf.warm_model == "auto":
        return next((m for m in _pulled(store) if not is_embedding(m)), None)
    return None if inf.warm_model == "none" else inf.warm_model


def warm_model_checks(r: Reader, inf: InferenceConfig, store: ModelStoreConfig) -> None:
    """A model named must be one the store preloads (a replica warming a model the store lacks never becomes Ready)
    and not embedding-only (Ollama's warm-up cannot load those)."""
    pulled = _pulled(store)
    if inf.warm_model in ("auto", "none"):
        return
    if ollama_names.name_problem(inf.warm_model):
        return  # OllamaServer's rule names what is allowed (inference_stack_checks)
    if not any(ollama_names.same_model(m, inf.warm_model) for m in pulled):
        r.problem(f"inference.warmModel {describe(inf.warm_model)} is not a model the store preloads "
                  f"(modelStore.models {list(store.models)}"
                  + (", and modelStore.preloadDryRun pulls none" if store.preload_dry_run else "")
                  + (", and modelStore.preload is false" if not store.preload else "")
                  + "): replicas would never become Ready; name one of them, or 'none'")
    elif is_embedding(inf.warm_model):
        r.problem(f"inference.warmModel {describe(inf.warm_model)} is an embedding model, which Ollama's warm-up "
                  "cannot load (`ollama run` needs text for it): name a text model, or 'none'")


def inference_stack_checks(r: Reader, inf: InferenceConfig, web: WebUiConfig, gw: GatewayConfig,
                           scaling: AutoscalingConfig, database_sku_name: str) -> None:
    """InferenceStack's rules (its Ollama, API gate and Open-WebUI parts) on the stack's inference, webui, gateway
    and autoscaling values, and the database's size Open-WebUI's connections must fit (postgres.skuName), named by
    their stack keys; and GatewayAccess's on the gateway's."""
    args = {"accelerator": inf.accelerator, "replicas": inf.replicas, "resources": asdict(inf.resources),
            "gpus_per_replica": inf.gpus_per_replica, "num_parallel": inf.num_parallel, "keep_alive": inf.keep_alive,
            "max_loaded_models": inf.max_loaded_models,
            "context_length": inf.context_length,  # None is not given (so its limits still reach the reference)
            **({"warm_model": inf.warm_model} if inf.warm_model not in ("auto", "none") else {}),
            "rate_limit_per_second": gw.rate_limit_per_second, "rate_limit_burst": gw.rate_limit_burst,
            "request_timeout_seconds": gw.request_timeout_seconds, "api_client_namespaces": list(gw.client_namespaces),
            "cold_start_timeout_seconds": scaling.cold_start_timeout_seconds}
    # the program hands InferenceStack the webui keys with the UI off too (config/inputs.py inference_args), whose
    # rules read them whatever webui_enabled is: checked here either way, so a refusal names the stack key
    args.update(webui_replicas=web.replicas, webui_max_replicas=web.max_replicas,
                webui_resources=asdict(web.resources), webui_uploads_size_gib=web.uploads_size_gib,
                webui_uploads_tier=web.uploads_tier, webui_model_access=web.model_access,
                webui_enable_signup=web.enable_signup, webui_default_user_role=web.default_user_role,
                webui_admin_email=web.admin_email, webui_extra_env=web.extra_env,
                webui_secret_env=web.secret_env, webui_client_namespaces=list(web.client_namespaces))
    if web.enabled:
        args.update(database_sku_name=database_sku_name)
    renames = {k: f"inference.{component_rules.camel(k)}" for k in
               ("accelerator", "replicas", "resources", "gpus_per_replica", "num_parallel", "keep_alive",
                "max_loaded_models", "context_length", "warm_model")}
    renames.update({f"webui_{k}": f"webui.{component_rules.camel(k)}" for k in
                    ("replicas", "max_replicas", "resources", "uploads_size_gib", "uploads_tier", "model_access",
                     "enable_signup", "default_user_role", "admin_email", "extra_env", "secret_env",
                     "client_namespaces")})
    renames.update({k: f"gateway.{component_rules.camel(k)}" for k in
                    ("rate_limit_per_second", "rate_limit_burst", "request_timeout_seconds")})
    renames["api_client_namespaces"] = "gateway.clientNamespaces"
    renames["cold_start_timeout_seconds"] = "autoscaling.coldStartTimeoutSeconds"
    renames["database_sku_name"] = "postgres.skuName"
    # gpu and the database are wired by the program from gpu.enabled and postgres (their stack rules say so, and
    # PostgresServer's what postgres.skuName may be)
    component_rules.check(r, "InferenceStack", args, component_rules.keys("", renames),
                          skip=("gpu", "database_url_secret", "database_sku_name"))
    if gw.mode != "none":
        component_rules.check(r, "GatewayAccess", {"replicas": gw.replicas}, component_rules.keys("gateway"))


def inference_prod_checks(r: Reader, environment: str, inf: InferenceConfig) -> None:
    if environment == "prod":
        if inf.replicas < 1:
            r.problem(f"inference.replicas ({inf.replicas}) must be >= 1 when environment is 'prod'")


# Ollama's memory beyond the weights on CPU (Ollama v0.32.15): the server and runner processes and their compute graph,
# ~1 GiB, plus the KV cache, which grows with the context: with no GPU the default context is 4096 tokens
# (server/routes.go: `s.defaultNumCtx = 4096` under 23 GiB of VRAM), else inference.contextLength
# (OLLAMA_CONTEXT_LENGTH, api/types.go DefaultOptions), capped at the model's trained context (llm/server.go
# NewLlamaServer), times OLLAMA_NUM_PARALLEL (server/sched.go effectiveLlamaServerContext), 1 for an embedding model:
# Ollama's own estimate of it from the model's shape (config/models.py `kv_cache_gib`). A model of unknown shape
# (a declared {name, sizeGib}) counts an 8B-class model's f16 cache, 0.5 GiB per 4096 tokens (2 x 32 layers x 8 KV
# heads x 128 x 4096 x 2 bytes): a floor, not a fit.
CPU_RUNTIME_GIB = 1.0
CPU_DEFAULT_CONTEXT = ollama_default_context(0.0)
UNKNOWN_SHAPE_KV_GIB_PER_4096_TOKENS = 0.5
# the trained context of an 8B-class library model (llama3.1:8b's GGUF context_length), for the warning's example
EXAMPLE_TRAINED_CONTEXT = 131072


def cpu_context(context_length: Optional[int]) -> int:
    """The context each request gets on CPU: inference.contextLength, else Ollama's default without a GPU."""
    return context_length if context_length is not None and context_length > 0 else CPU_DEFAULT_CONTEXT


def cpu_overhead_gib(model: str, num_parallel: int, context_length: Optional[int] = None) -> float:
    """Memory Ollama takes on CPU beyond the weights of `model` (see above)."""
    tokens = cpu_context(context_length)
    kv = kv_cache_gib(model, tokens, num_parallel)
    if kv is None:
        kv = UNKNOWN_SHAPE_KV_GIB_PER_4096_TOKENS * tokens * parallel_for(model, num_parallel) / 4096
    return CPU_RUNTIME_GIB + kv


def models_over(store: ModelStoreConfig, memory_gib: float,
                overhead_gib: Callable[[str], float]) -> list[tuple[str, float]]:
    """The models to preload whose weights plus their `overhead_gib` exceed `memory_gib`, largest need first."""
    over = [(m, size) for m, size in store.sizes_gib.items() if size > 0 and size + overhead_gib(m) > memory_gib]
    return sorted(over, key=lambda item: -(item[1] + overhead_gib(item[0])))


def inference_fit_checks(r: Reader, gpu: GpuConfig, store: ModelStoreConfig, inf: InferenceConfig,
                         cluster: ClusterConfig) -> None:
    """Ollama on the GPU pool: the pool exists, and each replica's GPUs hold the models to preload. Ollama on CPU:
    its memory limit holds the largest of them with Ollama's overhead. One rule for both (`models_over`); on the GPU
    the overhead is 0, since Ollama puts on the CPU the layers the GPU cannot hold (only weights alone over the GPU
    memory never load on it), while on CPU nothing is left to spill to: the container is OOM-killed."""
    if inf.accelerator == "gpu":
        if not gpu.enabled:
            r.problem("inference.accelerator 'gpu' needs gpu.enabled true (a GPU pool to run on)")
        sku = find_gpu_sku(gpu.vm_size)
        if sku is not None:
            if gpu.mig_profile:  # OllamaServer's rule says why (ollama/ollama#13800)
                r.problem(f"inference.accelerator 'gpu' needs a pool of whole GPUs: gpu.migProfile "
                          f"{gpu.mig_profile} gives MIG instances, which Ollama drops when it validates its CUDA "
                          f"devices, and then runs on the CPU (ollama/ollama#13800); unset gpu.migProfile")
                return
            if inf.gpus_per_replica > sku.gpus:
                r.problem(f"inference.gpusPerReplica ({inf.gpus_per_replica}) exceeds the {sku.gpus} GPU(s) of "
                          f"{sku.vm_size}")
            memory = ollama_gpu_memory_gib(sku, inf.gpus_per_replica)
            too_big = [m for m, _ in models_over(store, memory, lambda _: 0.0)]
            if too_big:
                r.problem(f"modelStore.models {too_big} do not fit in the {memory_text(memory)} of GPU memory "
                          f"Ollama may use ({inf.gpus_per_replica} x {sku.gpu_model} of {sku.vm_size}: "
                          f"{sku.gpu_memory_mib} MiB each as the driver reports it, less the "
                          f"{OLLAMA_GPU_RESERVE_MIB} MiB Ollama keeps); preload smaller models, or give each replica "
                          f"more GPU memory (inference.gpusPerReplica, gpu.vmSize)")
        return
    limit = parse_quantity(inf.resources.memory_limit)
    if limit is None:
        return  # not a quantity: InferenceStack's rules say so
    limit_gib = float(limit) / 2 ** 30
    over = models_over(store, limit_gib, lambda m: cpu_overhead_gib(m, inf.num_parallel, inf.context_length))
    if over:
        name, size = over[0]
        overhead = cpu_overhead_gib(name, inf.num_parallel, inf.context_length)
        needed = size + overhead
        node = vm_shape(cluster.workload_pool.vm_size)
        pool = (f" (and a cluster.workloadPool.vmSize with more memory: {cluster.workload_pool.vm_size} has "
                f"{node.memory_gib:g} GiB per node)" if node and node.memory_gib < needed else "")
        need, room = fit_texts(needed, limit_gib)  # never "needs ~12.0 GiB, over ... (12 GiB)"
        r.problem(f"modelStore.models {describe(name)} ({need_text(size)}) plus Ollama's overhead on CPU "
                  f"(~{round(overhead, 2):g} GiB: runtime and the KV cache of {_cpu_cache_text(name, inf)}) needs "
                  f"~{need}, over inference.resources.memoryLimit "
                  f"{describe(inf.resources.memory_limit)} ({room}) with inference.accelerator 'cpu': Ollama would "
                  f"be OOM-killed loading it; "
                  f"fix: preload a smaller model, or raise inference.resources.memoryLimit to at least "
                  f"{math.ceil(needed)}Gi{pool}")


def _cpu_cache_text(model: str, inf: InferenceConfig) -> str:
    """What the CPU overhead's KV cache counts, for its refusal."""
    context = cpu_context(inf.context_length)
    given = f"inference.contextLength {context}" if inf.context_length else f"{context}"
    served = served_context(model, context)
    tokens = given if served == context else f"{served} (its trained context, under {given})"
    parallel = "1 (an embedding model)" if is_embedding(model) else f"inference.numParallel {inf.num_parallel}"
    return f"{parallel} x {tokens} tokens"


def default_context_advisory(gpu: GpuConfig, store: ModelStoreConfig, inf: InferenceConfig) -> list[str]:
    """Ollama on the GPU pool with two generating models or more to keep loaded (inference.maxLoadedModels 2 or
    more): at each load Ollama reserves the KV cache of the context each request gets (inference.contextLength, else
    its default by the GPUs' memory: 262144 tokens from 47 GiB, 32768 from 23, else 4096; capped at each model's
    trained context) times numParallel, and its scheduler loads a model beside others only within 80 % of the memory
    they leave (v0.32.15 server/sched.go 544-552): on prod's A100 llama3.1:8b and mistral:7b unloaded each other on
    every switch (CHANGELOG 0.34.0). Counted with each model's shape (`evicted_models`), a model of unknown shape by
    its weights alone; when that finds no eviction, only the case certain without shapes is warned (no
    contextLength, the 262144 tier). A warning, not a refusal."""
    sku = find_gpu_sku(gpu.vm_size)
    if inf.accelerator != "gpu" or not gpu.enabled or sku is None or gpu.mig_profile or inf.max_loaded_models < 2:
        return []
    generating = [m for m in store.models if not is_embedding(m)]
    if len(generating) < 2:
        return []
    gpus = f"{inf.gpus_per_replica} x {sku.gpu_model} ({memory_text(sku.gpu_memory_gib * inf.gpus_per_replica)}, " \
           f"gpu.vmSize {sku.vm_size})"
    tokens = inf.context_length or ollama_default_context(sku.gpu_memory_gib * inf.gpus_per_replica)
    memory = ollama_gpu_memory_gib(sku, inf.gpus_per_replica)
    evicted = evicted_models(store, tokens, inf.num_parallel, memory, inf.max_loaded_models)
    unknown = unknown_shapes(store)
    if not evicted:
        return _unknown_shape_advisory(inf, gpus, tokens, generating) if unknown else []
    loads = loads_gib(store, tokens, inf.num_parallel, memory)
    keeps = context_that_keeps(store, tokens, inf.num_parallel, memory, inf.max_loaded_models)
    given = (f"inference.contextLength {tokens} with Ollama on {gpus}: each request gets {tokens:,} tokens"
             if inf.context_length else
             f"inference.contextLength is unset with Ollama on {gpus}: Ollama then gives each request {tokens:,} "
             f"tokens")
    # with a shape unknown, that context keeps them only if that model's cache fits too
    keeps_them = f"it keeps them if the KV cache of {', '.join(unknown)}, unknown here, fits too" if unknown else \
        "it keeps them"
    fix = (f"set inference.contextLength to {keeps} or less ({keeps_them}), lower inference.numParallel, or preload "
           f"fewer models" if keeps else
           "preload fewer or smaller models, lower inference.numParallel, or give each replica more GPU memory "
           "(inference.gpusPerReplica, gpu.vmSize)")
    return [f"{given} (capped at each model's trained context) x inference.numParallel {inf.num_parallel}, and by "
            f"Ollama's own estimate at each load (weights, that f16 KV cache and its generation batch) "
            f"modelStore.models take {', '.join(_load_text(m, g, unknown) for m, g in loads.items())}, while its "
            f"scheduler loads a model beside others only within 80 % of the {memory_text(memory)} Ollama may use "
            f"that they leave: {', '.join(evicted)} may not stay loaded beside the others "
            f"(inference.maxLoadedModels {inf.max_loaded_models}), each switch unloading one and reading the other "
            f"from the share again; {fix}"]


def _load_text(model: str, gib: float, unknown: list[str]) -> str:
    """A model's load for the warning; one of unknown shape shows its weights, the least it takes."""
    return f"{model} ~{round(gib, 1):g} GiB" + (" and its KV cache, unknown here" if model in unknown else "")


def _unknown_shape_advisory(inf: InferenceConfig, gpus: str, tokens: int, generating: list[str]) -> list[str]:
    """A model of unknown KV shape among them: only Ollama's 262144-token default, certain to hold two 8B-class
    models apart, is warned, with such a model's figure as the example."""
    if inf.context_length is not None or tokens < OLLAMA_CONTEXT_TIERS[0][1]:
        return []
    example = UNKNOWN_SHAPE_KV_GIB_PER_4096_TOKENS * EXAMPLE_TRAINED_CONTEXT / 4096 * inf.num_parallel
    return [f"inference.contextLength is unset with Ollama on {gpus}: Ollama then gives each request {tokens:,} tokens "
            f"(capped at the model's trained context) and reserves their KV cache times inference.numParallel "
            f"{inf.num_parallel} at every load (~{example:g} GiB for an 8B-class model trained on "
            f"{EXAMPLE_TRAINED_CONTEXT:,} tokens), so modelStore.models {', '.join(generating)} may not stay loaded "
            f"together (inference.maxLoadedModels {inf.max_loaded_models}): each switch between them unloads one and "
            f"reads the other from the share again; set inference.contextLength (prod sets 32768)"]
