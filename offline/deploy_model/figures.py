"""How long an image pull, a container start and a model load take, from the durations file."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Optional

from config.models import catalogue_size
from llmplatform.inference_specs import warm_up_command
from llmplatform.kube import model_transfer_seconds
from llmplatform.llmd_specs import weights_gib
from llmplatform.model_store import MODEL_SIZES_ANNOTATION as MODEL_SIZES
from llmplatform.pins import image_repository
from llmplatform.units import GB_PER_GIB, MB_PER_GIB, MB_PER_MIB

from ..runner import Plan, Registration
from .model import Span, WarmUp, ZERO
from .objects import annotations_of, kind_of


def image_size_mb(data: dict[str, Any], image: str) -> float:
    sizes = data["image_pull"]["sizes_mb"]
    repo = image_repository(image)
    for key, size in sizes.items():
        if key != "default" and (repo == key or repo.endswith("/" + key) or repo.endswith(key)):
            return float(size)
    return float(sizes["default"])


def image_pull(data: dict[str, Any], images: list[str]) -> Span:
    """Pulling a pod's images (in parallel on one node: the largest dominates), download then extraction."""
    if not images:
        return ZERO
    size = max(image_size_mb(data, i) for i in images)
    pull = data["image_pull"]
    return Span(size / pull["throughput_mb_s"]["median"] + size / pull["extract_mb_s"]["median"],
                size / pull["throughput_mb_s"]["pessimistic"] + size / pull["extract_mb_s"]["pessimistic"])


def container_start(data: dict[str, Any], images: list[str]) -> Span:
    starts = data["container_start"]
    found = [Span.of(v) for k, v in starts.items() if not k.startswith("_") and k != "default"
             and any(image_repository(i).endswith(k) for i in images)]
    return max(found, key=lambda s: s.pessimistic) if found else Span.of(starts["default"])


def model_weights_gb(model: str, recorded_bytes: Optional[str] = None) -> Optional[float]:
    """The Hugging Face weights (GB) vLLM downloads before it is ready: what LlmdStack records on its Deployment (the
    size its deadline is sized by: the stack's llmd.modelMemoryGib, else the package's list), else the package's list
    (llmd_specs.weights_gib, as the component reads it), else bf16 by the parameter count in the name (a vLLM
    Deployment of another program)."""
    if recorded_bytes and recorded_bytes.isdigit():
        return int(recorded_bytes) / 1e9
    gib = weights_gib(model)
    if gib:
        return gib * GB_PER_GIB
    match = re.search(r"(\d+(?:\.\d+)?)[Bb]\b", model.split("/")[-1])
    return 2.0 * float(match.group(1)) if match else None


def model_load(data: dict[str, Any], weights_gb: float) -> Span:
    """Downloading and loading `weights_gb` into GPU memory: the arithmetic of vLLM's deadline (kube), at the median
    and pessimistic rates (the latter the deadline's floors: load_durations)."""
    load, mb = data["model_load"], weights_gb * 1000
    median, pessimistic = (model_transfer_seconds(mb, load["download_mb_s"][k], load["gpu_load_mb_s"][k])
                           for k in ("median", "pessimistic"))
    return Span(median, pessimistic)


@dataclass(frozen=True)
class ModelShare:
    """The model share as the deploy model needs it: how fast it takes writes (the preload) and serves reads (a
    warm-up), MB/s, and the model sizes the preload Job records (GiB)."""
    write_mb_s: Optional[float] = None
    read_mb_s: Optional[float] = None
    sizes_gib: tuple[tuple[str, float], ...] = ()

    def size_gib(self, model: str) -> float:
        return dict(self.sizes_gib).get(model) or catalogue_size(model) or 0.0


def declared_model_sizes(reg: Registration) -> dict[str, float]:
    """The model sizes (GiB) a preload Job records (the MODEL_SIZES annotation: the stack's declared or catalogue
    sizes)."""
    return {m: float(v) for m, v in json.loads(annotations_of(reg).get(MODEL_SIZES, "{}")).items()}


def model_share(plan: Plan, data: dict[str, Any]) -> ModelShare:
    sizes = {m: v for r in plan.kubernetes_objects() if kind_of(r) == "Job" for m, v in declared_model_sizes(r).items()}
    return ModelShare(store_throughput_mb_s(plan, data), store_throughput_mb_s(plan, data, "read"),
                      tuple(sorted(sizes.items())))


def ollama_warm_up(data: dict[str, Any], spec: dict[str, Any], share: ModelShare,
                   replicas: int = 1) -> Optional[WarmUp]:
    """An Ollama container whose startup probe is the warm-up (OllamaServer's `warm_model`) is Ready only once it has
    read the model from the share and loaded it: the share's egress, then the load into memory. The `replicas` pods a
    first deploy starts at once (each on its own node: no page cache shared) read it through that one egress, so each
    is Ready after all of them have read it; the most a rollout, a scale-up or a node upgrade starts at once are
    `[warm-up]`'s (warm_readers)."""
    prefix = warm_up_command("")[:-1]
    for c in spec.get("containers") or []:
        probe = c.get("startupProbe") or {}
        command = (probe.get("exec") or {}).get("command") or []
        if len(command) == len(prefix) + 1 and command[:-1] == prefix:
            model = str(command[-1])
            timeout = probe.get("timeoutSeconds")
            return WarmUp(model, share.size_gib(model) * MB_PER_GIB, max(1, replicas), share.read_mb_s,
                          Span.of(data["model_load"]["gpu_load_mb_s"]),
                          # a probe's timeoutSeconds defaults to 1 (core/v1 Probe)
                          float(timeout) if isinstance(timeout, (int, float)) else 1.0)
    return None


def vllm_model(spec: dict[str, Any]) -> Optional[str]:
    for c in spec.get("containers") or []:
        if "vllm" in str(c.get("image", "")):
            args = [str(a) for a in (c.get("args") or [])]
            if "serve" in args and args.index("serve") + 1 < len(args):
                return args[args.index("serve") + 1]
            return args[0] if args else None
    return None


def store_throughput_mb_s(plan: Plan, data: dict[str, Any], direction: str = "write") -> Optional[float]:
    """How fast the model share takes writes (Azure Files premium ingress) or serves reads (egress): base + per
    provisioned GiB, MiB/s; in MB/s."""
    figure = data["model_load"]["azure_files_premium_mib_s"]
    quotas = [float(r.inputs["shareQuota"]) for r in plan.of_type("azure-native:storage:FileShare")
              if isinstance(r.inputs.get("shareQuota"), (int, float))]
    base, per_gib = figure[f"{direction}_base"], figure[f"{direction}_per_gib"]
    return min((base + per_gib * q) * MB_PER_MIB for q in quotas) if quotas else None
