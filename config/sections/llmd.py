"""The `llmd` section: the llm-d stack (vLLM behind the inference gateway's picker), its fit on the GPU pool,
prefill/decode disaggregation and KEDA autoscaling."""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Optional

from llmplatform.azure_names import dns_label
from llmplatform.defaults import DEFAULTS as D  # the components' defaults are the stack's defaults
from llmplatform.gpu_skus import GPU_SKUS, GpuSku, find_gpu_sku, gpu_units, memory_text
from llmplatform.llmd_specs import (KNOWN_MODELS, fits as llmd_fits, model_cache_needed_gib, model_cache_shortfall,
                                   shortfall_text, weights_gib as llmd_weights_gib)
from llmplatform.rules import HF_MODEL, WITHHELD
from llmplatform.units import need_text

from .. import component_rules
from ..reader import Reader, describe

if TYPE_CHECKING:
    from .gateway import GatewayConfig
    from .gpu import GpuConfig


@dataclass(frozen=True)
class LlmdConfig:
    enabled: bool = False
    namespace: str = D["LlmdStack"]["namespace"]  # its clash with the program's other namespaces: config/loader.py
    model: str = "Qwen/Qwen3-8B"
    model_memory_gib: Optional[float] = None  # weights of a model the built-in list does not know
    tensor_parallel_size: int = D["LlmdStack"]["tensor_parallel_size"]
    replicas: int = D["LlmdStack"]["replicas"]
    hf_token_secret: Optional[str] = None  # Key Vault secret with a Hugging Face token (gated models)
    max_model_len: Optional[int] = None
    model_cache_gib: int = D["LlmdStack"]["model_cache_gib"]
    prefill_decode: bool = D["LlmdStack"]["prefill_decode"]  # prefill and decode Deployments over InfiniBand
    prefill_replicas: int = D["LlmdStack"]["prefill_replicas"]
    prefill_tensor_parallel_size: int = D["LlmdStack"]["prefill_tensor_parallel_size"]
    expose_externally: bool = D["LlmdStack"]["expose_externally"]
    failure_mode: str = D["LlmdStack"]["failure_mode"]
    autoscaling: bool = D["LlmdStack"]["autoscaling"]  # KEDA on the picker's queue and running requests
    min_replicas: int = D["LlmdStack"]["min_replicas"]
    max_replicas: int = D["LlmdStack"]["max_replicas"]
    scale_up_stabilization_seconds: int = D["LlmdStack"]["scale_up_stabilization_seconds"]
    scale_down_stabilization_seconds: int = D["LlmdStack"]["scale_down_stabilization_seconds"]


_KV_SECRET = re.compile(r"[0-9A-Za-z-]{1,127}")
LLMD_GPU_MODELS = ("A100", "H100", "H200")


def parse_llmd(r: Reader) -> LlmdConfig:
    d = LlmdConfig()
    namespace = r.str_("namespace", d.namespace) or d.namespace
    wrong = dns_label(namespace)  # LlmdStack's own rule for its `namespace` input
    if wrong:
        r.problem(f"llmd.namespace {describe(namespace)} is invalid; allowed: {wrong}")
    model = r.str_("model", d.model) or d.model
    wrong = HF_MODEL(model)
    if wrong:
        r.problem(f"llmd.model {describe(model)} is invalid; allowed: {wrong}")
    token = r.str_("hfTokenSecret", None, withhold=True)
    if token is not None and not _KV_SECRET.fullmatch(token):
        r.problem(f"llmd.hfTokenSecret {WITHHELD} is not a Key Vault secret name (letters, digits, '-')")
    # unset when absent or left blank (`maxModelLen: ~`, which once reached LlmdStack as 0); the sizes are LlmdStack's
    # rule's (a weight of 1e-300 GiB passed a `> 0` here and was refused by the component after registrations)
    memory: Optional[float] = r.float_("modelMemoryGib", None)  # type: ignore[arg-type]
    if memory is not None:
        before = len(r.problems)
        component_rules.check(r, "LlmdStack", {"model_memory_gib": memory}, component_rules.keys("llmd"),
                              skip=("key_vault",))
        memory = memory if len(r.problems) == before else None  # refused once: no fit check of it after
    max_len = r.int_("maxModelLen", None, 256, 1_048_576)  # type: ignore[arg-type]
    cfg = LlmdConfig(
        enabled=r.bool_("enabled", d.enabled), namespace=namespace, model=model, model_memory_gib=memory,
        tensor_parallel_size=r.int_("tensorParallelSize", d.tensor_parallel_size, 1, 8),
        replicas=r.int_("replicas", d.replicas, 1, 64), hf_token_secret=token, max_model_len=max_len,
        model_cache_gib=r.int_("modelCacheGib", d.model_cache_gib, 10, 4096),
        prefill_decode=r.bool_("prefillDecode", d.prefill_decode),
        prefill_replicas=r.int_("prefillReplicas", d.prefill_replicas, 1, 64),
        prefill_tensor_parallel_size=r.int_("prefillTensorParallelSize", d.prefill_tensor_parallel_size, 1, 8),
        expose_externally=r.bool_("exposeExternally", d.expose_externally),
        failure_mode=r.choice("failureMode", d.failure_mode, ("FailOpen", "FailClose")),
        autoscaling=r.bool_("autoscaling", d.autoscaling),
        min_replicas=r.int_("minReplicas", d.min_replicas, 0, 64),
        max_replicas=r.int_("maxReplicas", d.max_replicas, 1, 64),
        scale_up_stabilization_seconds=r.int_("scaleUpStabilizationSeconds", d.scale_up_stabilization_seconds, 0,
                                              3600),
        scale_down_stabilization_seconds=r.int_("scaleDownStabilizationSeconds", d.scale_down_stabilization_seconds,
                                                0, 3600),
    )
    r.reject_unknown_keys()
    return cfg


def llmd_autoscaling_checks(r: Reader, cfg: LlmdConfig, gpu: GpuConfig, observability_enabled: bool) -> None:
    """KEDA reads the picker's metrics from Prometheus; every replica it may ask for must fit the GPU pool."""
    if not cfg.autoscaling:
        return
    if not observability_enabled:
        r.problem("llmd.autoscaling needs observability.enabled (KEDA and the Prometheus its triggers read)")
    if cfg.max_replicas < max(cfg.min_replicas, 1):
        r.problem(f"llmd.maxReplicas ({cfg.max_replicas}) must be at least llmd.minReplicas ({cfg.min_replicas}) "
                  f"and 1")
    elif not max(cfg.min_replicas, 1) <= cfg.replicas <= cfg.max_replicas:
        r.problem(f"llmd.replicas ({cfg.replicas}) is the starting count under llmd.autoscaling: between "
                  f"{max(cfg.min_replicas, 1)} and llmd.maxReplicas ({cfg.max_replicas})")
    sku = find_gpu_sku(gpu.vm_size)
    if sku is not None and cfg.max_replicas * cfg.tensor_parallel_size > gpu.max_count * sku.gpus:
        r.problem(f"llmd.maxReplicas ({cfg.max_replicas}) x {cfg.tensor_parallel_size} GPU(s) exceeds the "
                  f"{gpu.max_count} x {sku.gpus} GPU(s) gpu.maxCount allows; raise gpu.maxCount or lower "
                  f"llmd.maxReplicas")


def _given(r: Reader, key: str) -> bool:
    """Whether the stack file (or a --set) gives llmd.`key` a value (`r` the top-level reader)."""
    section = r.raw.get("llmd")
    return isinstance(section, dict) and section.get(key) is not None


def llmd_cross_checks(r: Reader, cfg: LlmdConfig, gpu: GpuConfig, gateway: GatewayConfig) -> None:
    """llm-d needs a large-GPU pool and a gateway; the model must fit the GPUs it gets."""
    if not cfg.enabled:
        return
    if not gpu.enabled:
        r.problem("llmd.enabled needs gpu.enabled true (vLLM runs on the GPU pool)")
        return
    if gateway.mode == "none":
        r.problem("llmd.enabled needs a gateway (gateway.mode internal, external or both)")
    if cfg.expose_externally and not gateway.external:
        r.problem("llmd.exposeExternally needs the external gateway (gateway.mode both or external)")
    if not cfg.expose_externally and not gateway.internal:
        r.problem(f"gateway.mode {gateway.mode!r} is invalid with llmd.enabled; allowed: internal or both (llm-d "
                  "is published on the internal gateway), or set llmd.exposeExternally true to publish it on the "
                  "external one")
    sku = find_gpu_sku(gpu.vm_size)
    if sku is None:
        return
    if sku.gpu_model not in LLMD_GPU_MODELS:
        r.problem(f"llmd needs an {', '.join(LLMD_GPU_MODELS)} GPU pool; gpu.vmSize {sku.vm_size} has "
                  f"{sku.gpu_model} GPUs")
    if cfg.tensor_parallel_size > sku.gpus:
        r.problem(f"llmd.tensorParallelSize ({cfg.tensor_parallel_size}) exceeds the {sku.gpus} GPU(s) of "
                  f"{sku.vm_size}")
    known = KNOWN_MODELS.get(cfg.model)
    weights = llmd_weights_gib(cfg.model, cfg.model_memory_gib)
    if weights is None and not _given(r, "modelMemoryGib"):  # given and refused: its refusal names it
        r.problem(f"llmd.modelMemoryGib is needed for {cfg.model!r} (not in the built-in list: "
                  f"{', '.join(KNOWN_MODELS)})")
    elif weights is not None and cfg.tensor_parallel_size <= sku.gpus:
        _fit_check(r, cfg.model, weights, sku, cfg.tensor_parallel_size, "llmd.tensorParallelSize or pick a larger GPU")
    if weights is not None and cfg.model_cache_gib < model_cache_needed_gib(weights):
        r.problem(f"llmd.modelCacheGib ({cfg.model_cache_gib}) must be at least {model_cache_needed_gib(weights)} "
                  f"for {cfg.model}: {model_cache_shortfall(weights)}")
    if weights is not None:
        _os_disk_check(r, cfg, gpu, sku, weights)
    if known is None and cfg.max_model_len is None:
        r.problem(f"llmd.maxModelLen is needed for {cfg.model!r} (its context length: vLLM and the picker's prefix "
                  f"matching are sized to it)")
    if known and known["gated"] and not cfg.hf_token_secret:
        r.problem(f"llmd.hfTokenSecret is needed: {cfg.model} is gated on Hugging Face (a Key Vault secret "
                  f"holding a token that accepted its licence)")
    if cfg.prefill_decode:
        llmd_prefill_decode_checks(r, cfg, gpu, sku, weights)
    if gpu.mig_profile:
        r.problem("llmd serves whole GPUs (tensor parallelism); gpu.migProfile must be unset")


# The kubelet's hard eviction threshold on the node filesystem (nodefs.available<10%), which AKS keeps as its floor
# (Azure's KubeletHardEvictionThreshold.nodeFsAvailable: "at least the system default of 10%").
NODEFS_EVICTION_SHARE = 0.10


def vllm_pods_per_node(cfg: LlmdConfig, gpus: int) -> int:
    """The most vLLM pods one GPU node can hold: each downloads the weights into its own emptyDir on that node's OS
    disk (prefill pods first when they take fewer GPUs, a greedy fill that maximises the count)."""
    most = cfg.max_replicas if cfg.autoscaling else cfg.replicas
    kinds = [(cfg.tensor_parallel_size, most)]
    if cfg.prefill_decode:
        kinds.append((cfg.prefill_tensor_parallel_size, cfg.prefill_replicas))
    free, pods = gpus, 0
    for tp, count in sorted(kinds):
        fit = min(count, free // tp)
        pods, free = pods + fit, free - fit * tp
    return max(pods, 1)


def _os_disk_check(r: Reader, cfg: LlmdConfig, gpu: GpuConfig, sku: GpuSku, weights: float) -> None:
    """vLLM's download cache is an emptyDir on the GPU node's OS disk (AKS's kubeletDiskType OS, which the pool
    keeps): the pods of one node filling it past the kubelet's eviction threshold are evicted, and their successors
    download from nothing, so vLLM is never Ready. A floor: the OS and the images share the disk too."""
    pods = vllm_pods_per_node(cfg, sku.gpus)
    usable = gpu.os_disk_size_gb * (1 - NODEFS_EVICTION_SHARE)
    if pods * weights > usable:
        needed = math.ceil(pods * weights / (1 - NODEFS_EVICTION_SHARE))
        r.problem(f"gpu.osDiskSizeGb ({gpu.os_disk_size_gb}) cannot hold vLLM's downloads of {cfg.model}: "
                  f"{pods} vLLM pod(s) on one {sku.vm_size} node, each with {need_text(weights)} of weights in its "
                  f"own cache on the node's OS disk, pass the {100 - round(NODEFS_EVICTION_SHARE * 100)} % the "
                  f"kubelet fills before it evicts pods, and an evicted pod's successor downloads from nothing; "
                  f"raise gpu.osDiskSizeGb to at least {needed} plus room for the OS and the vLLM image")


def _fit_check(r: Reader, model: str, weights: float, sku: GpuSku, tensor_parallel: int, fix: str) -> None:
    """LlmdStack's fit rule on the figure GpuNodePool's handle gives it (to the hundredth, rounded down), so no model
    passes here and is then refused by the component, in its words, once resources are registered."""
    memory = gpu_units(sku, None).gpu_memory_gib
    if not llmd_fits(weights, memory, tensor_parallel):
        r.problem(f"llmd.model {model} does not fit {tensor_parallel} x {memory_text(memory)} {sku.gpu_model} "
                  f"({sku.vm_size}: {sku.gpu_memory_mib} MiB per GPU as the driver reports it): "
                  f"{shortfall_text(weights, memory, tensor_parallel)}; raise {fix}")


def llmd_prefill_decode_checks(r: Reader, cfg: LlmdConfig, gpu: GpuConfig, sku: GpuSku,
                               weights: Optional[float]) -> None:
    """P/D moves the KV cache over InfiniBand with GPUDirect RDMA: an ND96 size, the GPU Operator's driver (it loads
    nvidia-peermem), fixed replica counts, room in the pool for both Deployments, and prefill replicas that hold
    the model as decode's do (`weights`: None when not known)."""
    if not sku.rdma:
        rdma = ", ".join(s.vm_size for s in GPU_SKUS.values() if s.rdma)
        r.problem(f"llmd.prefillDecode needs an RDMA (InfiniBand) GPU size ({rdma}); {sku.vm_size} has none")
        return
    if gpu.driver != "operator":
        r.problem(f"llmd.prefillDecode needs gpu.driver 'operator' (the GPU Operator loads nvidia-peermem for "
                  f"GPUDirect RDMA; the AKS-managed driver does not); it is {gpu.driver!r}")
    if cfg.autoscaling:
        r.problem("llmd.prefillDecode needs llmd.autoscaling false: prefill and decode are sized apart "
                  "(llmd.prefillReplicas, llmd.replicas)")
    if cfg.prefill_tensor_parallel_size > sku.gpus:
        r.problem(f"llmd.prefillTensorParallelSize ({cfg.prefill_tensor_parallel_size}) exceeds the {sku.gpus} "
                  f"GPU(s) of {sku.vm_size}")
    elif weights is not None:
        _fit_check(r, cfg.model, weights, sku, cfg.prefill_tensor_parallel_size, "llmd.prefillTensorParallelSize")
    wanted = cfg.prefill_replicas * cfg.prefill_tensor_parallel_size + cfg.replicas * cfg.tensor_parallel_size
    if wanted > gpu.max_count * sku.gpus:
        r.problem(f"llmd.prefillReplicas x llmd.prefillTensorParallelSize plus llmd.replicas x "
                  f"llmd.tensorParallelSize ({wanted} GPUs) exceed the {gpu.max_count} x {sku.gpus} GPU(s) "
                  f"gpu.maxCount allows")
