"""Pure decisions of LlmdStack: which models fit which GPUs, how vLLM is started, and the llm-d router chart's values.

Kept apart from the component so they are unit-tested without Pulumi.
"""
import math
import re
from typing import Any, Optional, Sequence

import yaml

from .pins import parse_image
from .units import BYTES_PER_GIB, fit_texts, need_text

VLLM_PORT = 8000
# vLLM's pods: the requests in flight finish (the chart's EPP waits as long)
VLLM_GRACE_SECONDS = 130
EPP_PORT = 9002  # the chart's router.epp.extProcPort default
EPP_METRICS_PORT = 9090  # the chart's router.metricsPort default (its Service names the port http-metrics)
GPU_MEMORY_UTILIZATION = 0.9  # vLLM's default share of GPU memory it takes
KV_HEADROOM = 1.2  # weights plus at least 20 % for the KV cache and activations
POOL_LABEL = "llm-d.ai/inferenceServing"
MODEL_LABEL = "llm-d.ai/model"

# The vLLM routes the llm-d gate forwards: vLLM 0.19.1's OpenAI- and Anthropic-compatible inference routes whose path
# the pinned picker parses (llm-d-router v0.10.0's default parsers claim path suffixes; a body on any other path gets
# the picker's 400), and the model list (no body: the picker sends it to any Ready pod). Refused (403 after the key):
# vLLM's administration and debugging routes, reached without a body whatever the path (`/metrics`, `/load`,
# `/version`, `/openapi.json`, `/docs`, `/scale_elastic_ep`, and with VLLM_SERVER_DEV_MODE `/sleep`, `/pause`,
# `/reset_prefix_cache`, `/server_info`, ...), SageMaker's `/invocations` and `/ping`, the render and tokenize tools,
# and the stored-response routes, which a random pod cannot answer for another. Sources:
# tests/upstream/vllm/routes.tsv, tests/upstream/recipes/llm-d-router-request-paths.tsv.
LLMD_API_ROUTES = (
    "/v1/chat/completions", "/v1/completions", "/v1/responses", "/v1/embeddings", "/v1/messages",
    "/v1/messages/count_tokens", "/v1/models",
)

# The vLLM routes Open-WebUI 0.11.0 calls on its OpenAI connection, OPENAI_API_BASE_URL (the gate's /v1), as the PyPI
# wheel's open_webui/routers/openai.py writes them: `{url}/models` (the model list), `{url}/chat/completions`, or
# `{url}/responses` for a connection set to the Responses API (`api_type`), and `{url}/embeddings`. What LlmdStack's
# keyless UI listener forwards (`ui_listener`); any other path answers 403 there. Not the text completions nor the
# Anthropic route (Open-WebUI answers its own /api/v1/messages through chat completions); its retrieval, image and
# audio settings default to api.openai.com, not this connection (config.py: OPENAI_API_BASE_URL is set to it at line
# 357, before RAG_, IMAGES_ and AUDIO_*_OPENAI_API_BASE_URL default to it); its passthrough proxy (`/{path}`) is off
# unless ENABLE_OPENAI_API_PASSTHROUGH. A subset of LLMD_API_ROUTES.
OPEN_WEBUI_OPENAI_ROUTES = ("/v1/models", "/v1/chat/completions", "/v1/responses", "/v1/embeddings")

# Hugging Face models llm-d is commonly run with: the bytes of the weights vLLM downloads (the safetensors files its
# index lists: `model.safetensors.index.json` `metadata.total_size`, or the one file's size; gpt-oss ships MXFP4, so
# its 20B parameters weigh 13.8 GB), whether the repository is gated (a token that accepted the licence is needed), and
# the context length vLLM takes by default (config.json max_position_embeddings), which the EPP's prefix matching is
# sized to. Bytes, not GB or GiB: Hugging Face shows decimal GB (a 70B bf16 model's "141 GB" is 131.4 GiB); sources
# in docs/decisions.md ("Model sizes in bytes").
KNOWN_MODELS: dict[str, dict[str, Any]] = {
    "Qwen/Qwen3-0.6B": {"weights_bytes": 1_503_300_328, "gated": False, "context": 40960},
    "Qwen/Qwen3-8B": {"weights_bytes": 16_381_470_720, "gated": False, "context": 40960},
    "Qwen/Qwen3-32B": {"weights_bytes": 65_524_246_528, "gated": False, "context": 40960},
    "meta-llama/Llama-3.1-8B-Instruct": {"weights_bytes": 16_060_522_496, "gated": True, "context": 131072},
    "meta-llama/Llama-3.3-70B-Instruct": {"weights_bytes": 141_107_412_992, "gated": True, "context": 131072},
    "mistralai/Mistral-7B-Instruct-v0.3": {"weights_bytes": 14_483_464_192, "gated": True, "context": 32768},
    "openai/gpt-oss-20b": {"weights_bytes": 13_761_264_768, "gated": False, "context": 131072},
    "openai/gpt-oss-120b": {"weights_bytes": 65_248_815_744, "gated": False, "context": 131072},
    "deepseek-ai/DeepSeek-R1-Distill-Llama-70B": {"weights_bytes": 141_107_412_992, "gated": False, "context": 131072},
}
# The vLLM Deployment's record of the weights (bytes) its deadline and startup probe are sized by (`weights_gib`),
# which the deploy model reads: a model the list does not know is sized only by the stack's llmd.modelMemoryGib.
MODEL_WEIGHTS_ANNOTATION = "llm-platform/model-weights-bytes"


def weights_gib(model: str, declared_gib: Optional[float] = None) -> Optional[float]:
    """The weights vLLM downloads and loads for `model`, GiB: the declared size (`model_memory_gib`) first, else the
    built-in list's; None when neither knows them."""
    if declared_gib:
        return float(declared_gib)
    known = KNOWN_MODELS.get(model, {}).get("weights_bytes")
    return known / BYTES_PER_GIB if known else None


# What each replica's download cache (an emptyDir, HF_HOME) holds beyond the weights: the repository's config,
# tokenizer and index files and hf_xet's logs, well under this. hf_xet's chunk cache, also under HF_HOME, is off in
# the hf_xet wheels the image resolves (docs/decisions.md "2026-12-05: vLLM's download across restarts").
MODEL_CACHE_ROOM_GIB = 1


def model_cache_needed_gib(weights: float) -> int:
    """The smallest `model_cache_gib` that holds `weights` GiB of downloaded weights: the kubelet evicts a pod whose
    emptyDir passes its size limit, and the replacement pod starts the download again from an empty cache."""
    return math.ceil(round(weights + MODEL_CACHE_ROOM_GIB, 6))


def model_cache_shortfall(weights: float) -> str:
    """Why a smaller cache never finishes the download (the refusal's allowed text, after 'at least N')."""
    return (f"the {need_text(weights)} of weights vLLM downloads into it plus {MODEL_CACHE_ROOM_GIB} GiB for the "
            f"repository's other files: the kubelet evicts a pod whose cache passes its limit, and the new pod "
            f"downloads from nothing again, so vLLM would never become Ready")


# The EPP sized as llm-d's router recipe (guides/recipes/router/base.values.yaml): CPU limit unset for bursts.
EPP_RESOURCES = {"requests": {"cpu": "4", "memory": "8Gi"}, "limits": {"memory": "16Gi"}}
EPP_PLUGINS_FILE = "optimized-baseline-plugins.yaml"
# The optimized-baseline scorers and weights of llm-d-router v0.10.0 (test/perf/config/router-configs/
# optimized-baseline.yaml at that tag); every plugin type is registered by that release's EPP.
OPTIMIZED_BASELINE_WEIGHTS = (("queue-scorer", 2), ("kv-cache-utilization-scorer", 2), ("prefix-cache-scorer", 3),
                              ("no-hit-lru-scorer", 2))

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
    """Weights plus KV headroom fit in the memory vLLM takes on `tensor_parallel` GPUs: its --gpu-memory-utilization
    share of each GPU's total as the driver reports it (vLLM multiplies the total torch.cuda.mem_get_info returns;
    `gpu_memory_gib` is the catalog's nvidia-smi figure, never the marketing GB)."""
    return weights_gib * KV_HEADROOM <= gpu_memory_gib * tensor_parallel * GPU_MEMORY_UTILIZATION


def shortfall_text(weights_gib: float, gpu_memory_gib: float, tensor_parallel: int) -> str:
    """Why `fits` says no, in figures that cannot contradict it (units.fit_texts: the need rounded up, the room
    down): '60.01 GiB of weights plus 20 % for the KV cache need 72.02 GiB, over the 72 GiB vLLM takes of 1 GPU(s)
    (0.9 of each)'."""
    need, room = fit_texts(weights_gib * KV_HEADROOM, gpu_memory_gib * tensor_parallel * GPU_MEMORY_UTILIZATION)
    return (f"{need_text(weights_gib)} of weights plus {round((KV_HEADROOM - 1) * 100)} % for the KV cache need "
            f"{need}, over the {room} vLLM takes of {tensor_parallel} GPU(s) ({GPU_MEMORY_UTILIZATION:g} of each)")


def shm_gib(tensor_parallel: int) -> int:
    """/dev/shm for NCCL between tensor-parallel ranks (vLLM's guides use 10-20 GiB on multi-GPU pods)."""
    return 2 if tensor_parallel == 1 else 16


# What vLLM is told by the component (its inputs decide them); `extra_args` and `extra_env` may not repeat them.
MANAGED_VLLM_FLAGS = ("--port", "--served-model-name", "--tensor-parallel-size", "--gpu-memory-utilization",
                      "--max-model-len", "--kv-transfer-config")
MANAGED_VLLM_ENV = ("HF_HOME", "VLLM_NO_USAGE_STATS", "HF_TOKEN_PATH", "VLLM_NIXL_SIDE_CHANNEL_HOST",
                    "VLLM_NIXL_SIDE_CHANNEL_PORT")


# Where vLLM's download lands, when given: off the per-replica cache (HF_HOME, an emptyDir of model_cache_gib) onto
# the container's writable layer, which a restarted container loses, with no size limit (huggingface_hub constants.py:
# HF_HUB_CACHE, else HUGGINGFACE_HUB_CACHE, else HF_HOME/hub; vLLM's --download-dir). VLLM_USE_MODELSCOPE moves it
# too, for one value only ('true'): input_rules/llmd.py VLLM_DOWNLOAD_ALIASES.
DOWNLOAD_VLLM_FLAGS = ("--download-dir",)
DOWNLOAD_VLLM_ENV = ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE")

# vLLM 0.19.1's short spellings of the flags above (engine/arg_utils.py `add_argument("--tensor-parallel-size", "-tp")`).
SHORT_VLLM_FLAGS = {"-tp": "--tensor-parallel-size"}


def vllm_flags_among(extra: Sequence[Any], names: Sequence[str]) -> list[str]:
    """The arguments of `extra`, as given (before any '='), that vLLM 0.19.1 reads as one of the flags `names`:
    its FlexibleArgumentParser (utils/argparse_utils.py `parse_known_args`) turns '_' into '-' before the first '.',
    and `--flag.key` sets one key of a JSON flag; argparse, its `allow_abbrev` left on, takes a prefix of a flag for
    the flag (no other vLLM flag starts with any of these: a prefix is this flag or an ambiguous one vLLM exits on);
    `-tp` is --tensor-parallel-size, and so is its prefix `-t`: argparse completes a single-dash option's prefix too
    (no other vLLM option starts with `-t`), and later CPython releases split `-t=4` at '=' before matching it."""
    found = set()
    for key in (str(arg).split("=", 1)[0] for arg in extra):
        if key.startswith("--") and len(key) > 2:
            flag = "--" + key[2:].split(".", 1)[0].replace("_", "-")
            if any(name.startswith(flag) for name in names):
                found.add(key)
        elif len(key) > 1 and any(short.startswith(key) and flag in names for short, flag in SHORT_VLLM_FLAGS.items()):
            found.add(key)
    return sorted(found)


def managed_flags(extra: Sequence[Any]) -> list[str]:
    """The arguments of `extra` that set a flag vllm_args sets itself, in any spelling vLLM reads."""
    return vllm_flags_among(extra, MANAGED_VLLM_FLAGS)


def vllm_args(model: str, served: str, tensor_parallel: int, max_model_len: Optional[int],
              prefill_decode: bool, port: int = VLLM_PORT, extra: Sequence[str] = ()) -> list[str]:
    args = ["serve", model, "--port", str(port), "--served-model-name", served,
            "--tensor-parallel-size", str(tensor_parallel), "--gpu-memory-utilization", str(GPU_MEMORY_UTILIZATION),
            "--disable-uvicorn-access-log"]
    if max_model_len:
        args += ["--max-model-len", str(max_model_len)]
    if prefill_decode:  # KV-cache transfer between prefill and decode pods over RDMA (NIXL)
        args += ["--kv-transfer-config", '{"kv_connector":"NixlConnector","kv_role":"kv_both"}']
    return args + list(extra)  # the user's escape hatch last: vLLM's parser takes them like any flag


def context_length(model: str, max_model_len: Optional[int]) -> Optional[int]:
    """The longest context vLLM accepts: the configured one, else the model's own (None when unknown)."""
    return max_model_len or KNOWN_MODELS.get(model, {}).get("context")


def epp_plugins(max_prefix_tokens: int, flow_control_ttl_seconds: Optional[int] = None) -> str:
    """The EPP's EndpointPickerConfig: the optimized baseline (approximate prefix cache matched over the whole
    context vLLM accepts, queue and KV-cache load, LRU spreading of cache misses). With a TTL, flow control holds
    requests the pool cannot take yet (also while it has no endpoints, scale from zero) for that long."""
    config: dict[str, Any] = {
        "apiVersion": "llm-d.ai/v1alpha1", "kind": "EndpointPickerConfig",
        "plugins": [{"type": "queue-scorer"}, {"type": "kv-cache-utilization-scorer"},
                    {"type": "approx-prefix-cache-producer",
                     "parameters": {"maxPrefixTokensToMatch": max_prefix_tokens}},
                    {"type": "prefix-cache-scorer"}, {"type": "no-hit-lru-scorer"}],
        "schedulingProfiles": [{"name": "default", "plugins": [
            {"pluginRef": ref, "weight": weight} for ref, weight in OPTIMIZED_BASELINE_WEIGHTS]}],
    }
    if flow_control_ttl_seconds is not None:
        config = {"apiVersion": config["apiVersion"], "kind": config["kind"], "featureGates": ["flowControl"],
                  **{k: v for k, v in config.items() if k not in ("apiVersion", "kind")},
                  "flowControl": {"defaultRequestTTL": f"{flow_control_ttl_seconds}s"}}
    return yaml.safe_dump(config, sort_keys=False)


def epp_affinity(node_affinity_: dict[str, Any], epp_label: dict[str, str]) -> dict[str, Any]:
    """CPU nodes, and the leader-elected replicas on different nodes where there are enough (preferred, so a
    one-node pool still runs them)."""
    key, value = next(iter(epp_label.items()))
    return {**node_affinity_, "podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [{
        "weight": 100, "podAffinityTerm": {"topologyKey": "kubernetes.io/hostname", "labelSelector": {
            "matchLabels": {key: value}}}}]}}


def router_values(epp_image: str, selector: dict[str, str], cpu_affinity: dict[str, Any],
                  failure_mode: str, cpu_tolerations: Sequence[dict[str, str]] = (), plugins: Optional[str] = None,
                  epp_replicas: int = 1) -> dict[str, Any]:
    """Values of the llm-d-router-gateway chart (subchart routerlib, aliased `router`).

    - `router.modelServers` is null in the parent chart, which removes routerlib's defaults (Helm drops a key a
      parent sets to null), so all four keys are set.
    - The EPP image is pinned (the chart defaults to the moving `main` tag, pulled Always).
    - The EPP sized as llm-d's router recipe (4 CPU, 8 GiB) rather than the chart's 8 CPUs; more than one replica
      makes the chart run them leader-elected (--ha-enable-leader-election, and the leases Role).
    - The optimized-baseline scorers in a plugins file of our own (the chart's `pluginsCustomConfig`).
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
                "replicas": epp_replicas,
                "image": {"registry": registry, "repository": repository, "tag": tag, "pullPolicy": "IfNotPresent"},
                "resources": EPP_RESOURCES,
                **({"pluginsConfigFile": EPP_PLUGINS_FILE, "pluginsCustomConfig": {EPP_PLUGINS_FILE: plugins}}
                   if plugins else {}),
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


# llm-d's workload-autoscaling guide, KEDA on EPP metrics (guides/workload-autoscaling/keda-epp, queue signal):
# requests waiting in the EPP's flow-control queue (per-replica target 1) raced against requests running (16).
QUEUE_TARGET, RUNNING_TARGET = 1, 16
# Flow control's queue doubles as a scale-from-zero waiting room from this llm-d-router release on
# (pkg/epp/flowcontrol/controller/internal/processor.go at v0.10.0: a request waits while the pool has no endpoints).
HOLDS_AT_ZERO_SINCE = (0, 10, 0)


def holds_requests_at_zero(epp_image: str) -> bool:
    """Whether the picker image is a release known to hold requests while no model server is ready."""
    tag = parse_image(epp_image).tag
    match = re.fullmatch(r"v?([0-9]+)\.([0-9]+)\.([0-9]+)", tag)
    return match is not None and tuple(int(p) for p in match.groups()) >= HOLDS_AT_ZERO_SINCE


def epp_queries(namespace: str, epp_service: str) -> dict[str, str]:
    """PromQL over the picker's metrics as Prometheus labels them (the ServiceMonitor adds namespace and service);
    each returns one value for the single pool of the stack."""
    where = f'namespace="{namespace}",service="{epp_service}"'
    return {"epp-queue-size": f"sum(llm_d_epp_flow_control_queue_size{{{where}}})",
            "epp-running-requests": f"sum(llm_d_epp_request_running{{{where}}})"}


def epp_triggers(prometheus_url: str, namespace: str, epp_service: str) -> list[dict[str, Any]]:
    """KEDA Prometheus triggers, per-replica targets (AverageValue): the HPA takes the larger desired count. At zero
    replicas a queued request activates the target (activation above 0)."""
    targets = {"epp-queue-size": QUEUE_TARGET, "epp-running-requests": RUNNING_TARGET}
    return [{"type": "prometheus", "name": name, "metricType": "AverageValue",
             "metadata": {"serverAddress": prometheus_url, "query": query, "threshold": str(targets[name])}}
            for name, query in epp_queries(namespace, epp_service).items()]


def vllm_scale_behavior(up_seconds: int, down_seconds: int) -> dict[str, Any]:
    """The guide's HPA behaviour: doubling at most every 15 s, damped by stabilisation windows sized near a cold
    start, since a replica still loading serves nothing and demand stays high until it is Ready."""
    policies = [{"type": "Percent", "value": 100, "periodSeconds": 15}]
    return {"scaleUp": {"stabilizationWindowSeconds": up_seconds, "policies": policies},
            "scaleDown": {"stabilizationWindowSeconds": down_seconds, "policies": policies}}
