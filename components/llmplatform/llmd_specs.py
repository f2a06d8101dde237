"""Pure decisions of LlmdStack: which models fit which GPUs, how vLLM is started, and the llm-d router chart's values.

Kept apart from the component so they are unit-tested without Pulumi.
"""
import re
from typing import Any, Optional

from .pins import parse_image

VLLM_PORT = 8000
EPP_PORT = 9002  # the chart's router.epp.extProcPort default
EPP_METRICS_PORT = 9090  # the chart's router.metricsPort default (its Service names the port http-metrics)
GPU_MEMORY_UTILIZATION = 0.9  # vLLM's default share of GPU memory it takes
KV_HEADROOM = 1.2  # weights plus at least 20 % for the KV cache and activations
POOL_LABEL = "llm-d.ai/inferenceServing"
MODEL_LABEL = "llm-d.ai/model"

# Hugging Face models llm-d is commonly run with: bf16 weight size (GiB, from the model cards' safetensors
# totals; gpt-oss ships MXFP4) and whether the repository is gated (a token that accepted the licence is needed).
KNOWN_MODELS: dict[str, dict[str, Any]] = {
    "Qwen/Qwen3-0.6B": {"weights_gib": 1.5, "gated": False},
    "Qwen/Qwen3-8B": {"weights_gib": 16.4, "gated": False},
    "Qwen/Qwen3-32B": {"weights_gib": 65.5, "gated": False},
    "meta-llama/Llama-3.1-8B-Instruct": {"weights_gib": 16.1, "gated": True},
    "meta-llama/Llama-3.3-70B-Instruct": {"weights_gib": 141.0, "gated": True},
    "mistralai/Mistral-7B-Instruct-v0.3": {"weights_gib": 14.5, "gated": True},
    "openai/gpt-oss-20b": {"weights_gib": 13.8, "gated": False},
    "openai/gpt-oss-120b": {"weights_gib": 65.3, "gated": False},
    "deepseek-ai/DeepSeek-R1-Distill-Llama-70B": {"weights_gib": 141.0, "gated": False},
}

_RELEASE_TAG = re.compile(r"v?[0-9]+\.[0-9]+(\.[0-9]+)?([.-][0-9A-Za-z.-]+)?")
_DIGEST = re.compile(r"^[^@]+@sha256:[0-9a-f]{64}$")


def image_is_pinned(image: str) -> bool:
    """A release tag (v0.10.0, 0.19.1, 1.2) or a digest; never `latest`, `main` or no tag at all. A registry port
    (registry:5000/...) is not a tag: the tag is after the last ':' with no '/' behind it."""
    if _DIGEST.match(image):
        return True
    name, sep, tag = image.rpartition(":")
    return bool(sep and name and "/" not in tag and _RELEASE_TAG.fullmatch(tag))


def served_name(model: str) -> str:
    """The name clients send as `model` (the last part of the Hugging Face id, lowercased)."""
    return model.rsplit("/", 1)[-1].lower()


def fits(weights_gib: float, gpu_memory_gib: float, tensor_parallel: int) -> bool:
    """Weights plus KV headroom fit in the memory vLLM takes on `tensor_parallel` GPUs."""
    return weights_gib * KV_HEADROOM <= gpu_memory_gib * tensor_parallel * GPU_MEMORY_UTILIZATION


def shm_gib(tensor_parallel: int) -> int:
    """/dev/shm for NCCL between tensor-parallel ranks (vLLM's guides use 10-20 GiB on multi-GPU pods)."""
    return 2 if tensor_parallel == 1 else 16


def vllm_args(model: str, served: str, tensor_parallel: int, max_model_len: Optional[int],
              prefill_decode: bool) -> list[str]:
    args = ["serve", model, "--port", str(VLLM_PORT), "--served-model-name", served,
            "--tensor-parallel-size", str(tensor_parallel), "--gpu-memory-utilization", str(GPU_MEMORY_UTILIZATION),
            "--disable-uvicorn-access-log"]
    if max_model_len:
        args += ["--max-model-len", str(max_model_len)]
    if prefill_decode:  # KV-cache transfer between prefill and decode pods over RDMA (NIXL)
        args += ["--kv-transfer-config", '{"kv_connector":"NixlConnector","kv_role":"kv_both"}']
    return args


def router_values(epp_image: str, selector: dict[str, str], cpu_affinity: dict[str, Any],
                  failure_mode: str, cpu_tolerations: list[dict[str, str]] = ()) -> dict[str, Any]:
    """Values of the llm-d-router-gateway chart (subchart routerlib, aliased `router`).

    - `router.modelServers` is null in the parent chart, which removes routerlib's defaults (Helm drops a key a
      parent sets to null), so all four keys are set.
    - The EPP image is pinned (the chart defaults to the moving `main` tag, pulled Always).
    - The EPP's default requests (8 CPU) do not fit a 4-vCPU node: sized for one model pool.
    - `provider.name: istio` renders the DestinationRule the EPP's TLS needs; the chart's own HTTPRoute (which
      matches / on every listener) stays off: LlmdStack writes its own.
    - Metrics without the chart's token auth, scraped by our own ServiceMonitor (validated against its CRD).
    """
    ref = parse_image(epp_image)
    # the chart writes registry/repository:tag, so a digest rides on the tag
    registry, repository, tag = ref.registry, ref.repository, ref.tag + (f"@{ref.digest}" if ref.digest else "")
    return {
        "provider": {"name": "istio"},
        "httpRoute": {"create": False},
        "router": {
            "modelServers": {"matchLabels": selector, "type": "vllm", "protocol": "http",
                             "targetPorts": [{"number": VLLM_PORT}]},
            "inferencePool": {"create": True, "failureMode": failure_mode},
            "epp": {
                "image": {"registry": registry, "repository": repository, "tag": tag, "pullPolicy": "IfNotPresent"},
                "resources": {"requests": {"cpu": "500m", "memory": "1Gi"}, "limits": {"memory": "4Gi"}},
                "affinity": cpu_affinity,
                **({"tolerations": list(cpu_tolerations)} if cpu_tolerations else {}),
                "flags": {"v": 1},
            },
            "monitoring": {"prometheus": {"enabled": False, "auth": {"enabled": False}}},
        },
    }


def node_affinity(selector: dict[str, str]) -> dict[str, Any]:
    """A required node affinity equal to a node selector (the chart takes affinity, not nodeSelector)."""
    return {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
        {"matchExpressions": [{"key": k, "operator": "In", "values": [v]} for k, v in selector.items()]}]}}}


def pool_gateway_overlays() -> dict[str, str]:
    """Data of the pool gateway's parametersRef ConfigMap: Istio strategic-merges each key (deployment, service,
    ...) into the object it generates, after the GatewayClass's defaults. The platform's class sets
    externalTrafficPolicy: Local for its load balancers; a null deletes it, since the API server refuses the field
    on a ClusterIP Service."""
    return {"service": "spec:\n  externalTrafficPolicy: null\n"}
