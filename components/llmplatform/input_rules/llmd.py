"""LlmdStack's value rules: the model's fit, prefill/decode on InfiniBand sizes, autoscaling."""
from typing import Any, Mapping, Optional

from .. import azure_names as names
from ..choices import FAILURE_MODES
from ..gpu_skus import GPU_SKUS, gpu_memory_problem, memory_text
from ..inference_specs import ROUTER_RANGE_FIELDS
from ..llmd_specs import (DOWNLOAD_VLLM_ENV, DOWNLOAD_VLLM_FLAGS, KNOWN_MODELS, MANAGED_VLLM_ENV, MANAGED_VLLM_FLAGS,
                          context_length, fits, holds_requests_at_zero, image_is_pinned, managed_flags,
                          model_cache_needed_gib, model_cache_shortfall, shortfall_text, vllm_flags_among,
                          weights_gib)
from ..pins import image_reference_problem, parse_image
from ..rules import HF_MODEL, Problem, Rules, known, shown
from .shared import (EnvAlias, env_alias_rule, handle_range_rule, keda_rule, listener_rule, not_true, own_key_rule,
                     plain_env_rule, route_target_rule)
from .shared import drain_rule, router_drain_rule
from ..llmd_specs import VLLM_GRACE_SECONDS

# vLLM 0.19.1's flags whose value is a credential (tests/upstream/settings/vllm.txt: `--api-key`, the bearer key its
# OpenAI server asks for; `--hf-token`, the Hugging Face token): as an argument it is plain text in the Deployment,
# in Pulumi state and in the plan files
SECRET_VLLM_FLAGS = ("--api-key", "--hf-token")
LLMD_GATE_REPLICAS = 2  # its gate's nginx pods: api_router.RouterSpec's replicas, which LlmdStack keeps

_HF_TRUE = ("1", "ON", "YES", "TRUE")  # huggingface_hub constants.py ENV_VARS_TRUE_VALUES, compared upper-cased


def _hf_off(value: str) -> bool:
    """A huggingface_hub switch left off: constants.py `_is_true`, `value.upper() in ENV_VARS_TRUE_VALUES`."""
    return value.upper() not in _HF_TRUE


# What the vLLM container reads as another way to the Hugging Face token the component mounts (HF_TOKEN_PATH, given
# hf_token_secret): huggingface_hub v0.34.0 and v1.28.0 (the oldest transformers>=4.56 accepts, and the newest
# stored; the image holds one in between) read both alike. Sources in docs/decisions.md ("2026-12-05: settings the
# software reads under another name").
VLLM_TOKEN_ALIASES = {
    "HF_HUB_DISABLE_IMPLICIT_TOKEN": EnvAlias(
        "HF_TOKEN_PATH (the Hugging Face token from Key Vault)",
        "'1', 'ON', 'YES' or 'TRUE' (any case) makes huggingface_hub (constants.py, utils/_headers.py "
        "get_token_to_send) send no token its caller does not pass, and vLLM 0.19.1 passes none (its --hf-token "
        "unset): the token file goes unsent and a gated model's download is refused", _hf_off),
    "HUGGINGFACE_CO_STAGING": EnvAlias(
        "HF_TOKEN_PATH (the Hugging Face token from Key Vault)",
        "'1', 'ON', 'YES' or 'TRUE' (any case) makes huggingface_hub (constants.py) read its token from "
        "~/.cache/huggingface_staging/token in place of HF_TOKEN_PATH, and download from hub-ci.huggingface.co",
        _hf_off),
}
# What moves vLLM 0.19.1's download off the per-replica cache under another name than the cache's own
# (llmd_specs.DOWNLOAD_VLLM_ENV): VLLM_USE_MODELSCOPE, read as `os.environ.get("VLLM_USE_MODELSCOPE",
# "False").lower() == "true"` (envs.py).
VLLM_DOWNLOAD_ALIASES = {
    "VLLM_USE_MODELSCOPE": EnvAlias(
        "download cache (HF_HOME, an emptyDir sized by model_cache_gib)",
        "'true' (any case) makes vLLM 0.19.1 (envs.py; model_executor/model_loader/weight_utils.py "
        "maybe_download_from_modelscope) download the model from ModelScope with modelscope's snapshot_download, "
        "into modelscope's own cache (~/.cache/modelscope/hub) on the container's writable layer, which a restarted "
        "container loses and no size limit bounds",
        not_true),
}


def download_kept(setting: str) -> str:
    """The refusal of a download moved off the per-replica cache (llmd_specs.DOWNLOAD_VLLM_FLAGS, DOWNLOAD_VLLM_ENV)."""
    return (f"no {setting}: vLLM downloads into the per-replica cache the component mounts (HF_HOME, sized by "
            f"model_cache_gib); elsewhere the weights land on the container's writable layer, which a restarted "
            f"container loses (it downloads from nothing again) and no size limit bounds")


def llmd_escape_hatches(r: Rules) -> None:
    """vLLM's extra arguments and environment: anything but what the component sets from its inputs."""
    extra = r.given("extra_args")
    if isinstance(extra, (list, tuple)):
        if any(not isinstance(a, str) for a in extra):
            r.add("extra_args", extra, "a list of strings (vllm serve arguments)")
        else:  # every problem at once: a managed flag and a credential are two
            if managed_flags(extra):
                r.add("extra_args", managed_flags(extra), f"flags other than {', '.join(MANAGED_VLLM_FLAGS)}, which "
                                                          "the component sets from its inputs (in any spelling vLLM "
                                                          "reads: '_' for '-', a prefix, -tp or -t, --flag.key)")
            moved = vllm_flags_among(extra, DOWNLOAD_VLLM_FLAGS)
            if moved:
                r.add("extra_args", moved, download_kept(", ".join(DOWNLOAD_VLLM_FLAGS)))
            secret_flags = vllm_flags_among(extra, SECRET_VLLM_FLAGS)
            if secret_flags:
                r.add("extra_args", secret_flags, f"no credential as an argument ({', '.join(SECRET_VLLM_FLAGS)}): "
                                                  f"a gated model's Hugging Face token comes from Key Vault, named in "
                                                  f"{r.ref('hf_token_secret')}; clients' keys are the API gate's "
                                                  f"({r.ref('api_key_auth')})")
    env = r.given("extra_env")
    moved = sorted(set(map(str, env)) & set(DOWNLOAD_VLLM_ENV)) if isinstance(env, Mapping) else []
    if moved:
        r.add("extra_env", moved, download_kept(" or ".join(DOWNLOAD_VLLM_ENV)))
    aliased = env_alias_rule(r, "extra_env", VLLM_DOWNLOAD_ALIASES)
    if r.given("hf_token_secret"):  # without it no token is mounted, and these change nothing the component sets
        aliased += env_alias_rule(r, "extra_env", VLLM_TOKEN_ALIASES)
    # a secret: HF_TOKEN, VLLM_API_KEY, S3_SECRET_ACCESS_KEY (vllm.txt, huggingface_hub.txt)
    plain_env_rule(r, MANAGED_VLLM_ENV, "sets itself",
                   f"; a Hugging Face token goes into Key Vault, named in {r.ref('hf_token_secret')}", aliased)


# The inputs a switch turns on (LlmdStack reads them only then), with their ranges
AUTOSCALING_RANGES = {"min_replicas": (0, 64), "max_replicas": (1, 64), "scale_up_stabilization_seconds": (0, 3600),
                      "scale_down_stabilization_seconds": (0, 3600)}
PREFILL_RANGES = {"prefill_replicas": (1, 64), "prefill_tensor_parallel_size": (1, 8)}


def wholes(r: Rules, ranges: Mapping[str, tuple[int, int]]) -> dict[str, Optional[int]]:
    """Each input of `ranges` checked against its range: its value (the default when absent), None when refused."""
    return {key: r.whole(key, low, high) for key, (low, high) in ranges.items()}


def unread_inputs(args: Mapping[str, Any]) -> list[str]:
    """What an LlmdStack is given and leaves unread, its switch off: one sentence per switch, which the component
    says as a warning (other components refuse what a switch turns off; this one warned first because the stack
    handed its autoscaling values on whatever the switch, which config/inputs.py `llmd_args` no longer does, so the
    stack's own plans never reach it). A default is no choice of the caller's (a language SDK sends it)."""
    r = Rules(args, "LlmdStack")
    notes = []
    for switch, ranges, instead in (("autoscaling", AUTOSCALING_RANGES, "vLLM runs `replicas`, a fixed count"),
                                    ("prefill_decode", PREFILL_RANGES, "vLLM runs one Deployment")):
        if r.get(switch) is not False:
            continue
        unread = [f"{key}={shown(r.given(key))}" for key in ranges
                  if r.given(key) is not None and r.given(key) != r.defaults.get(key)]
        if unread:
            verb = "is" if len(unread) == 1 else "are"
            notes.append(f"{', '.join(unread)} {verb} ignored: read only with {switch} true ({instead})")
    return notes


def usable_memory(gpu: Any) -> Optional[float]:
    """The GPU handle's memory per GPU to judge a fit by; None when not known yet or refused (by the handle's shape
    check, which names it: no fit check of it after)."""
    memory = known(gpu, "gpu_memory_gib")
    return None if memory is None or gpu_memory_problem(memory) else memory


def llmd_stack(args: Mapping[str, Any]) -> list[Problem]:
    """Every input checked against the GPU it will run on."""
    r = Rules(args, "LlmdStack")
    for key in ROUTER_RANGE_FIELDS:  # its router's nginx writes them (realip, the Front Door flag)
        handle_range_rule(r, key)
    route_target_rule(r)
    model = r.text("model", HF_MODEL)
    r.text("namespace", names.new_namespace)
    r.secret_name("hf_token_secret")
    r.secret_name("api_key_secret")
    r.secret_name("api_key_map_secret")
    own_key_rule(r)
    r.text("name_prefix", names.name_prefix)
    r.texts("client_namespaces", names.dns_label)
    # the namespace whose Open-WebUI pods the keyless listener admits: read with ui_listener alone
    if r.text("ui_namespace", names.dns_label) is not None and r.get("ui_listener") is False:
        r.add("ui_namespace", r.get("ui_namespace"), f"left out unless {r.ref('ui_listener')} is true (it names the "
                                                     "namespace of the UI the keyless listener admits)")
    tp = r.whole("tensor_parallel_size", 1, 8)
    r.whole("replicas", 1, 64)
    r.whole("epp_replicas", 1, 5)
    cache = r.whole("model_cache_gib", 10, 4096)
    r.whole("max_model_len", 256, 1_048_576)
    weights_given = r.number("model_memory_gib", 0.001, 4096, "a size in GiB above 0, at most 4096")
    r.choice("failure_mode", FAILURE_MODES)
    r.whole("rate_limit_per_second", 1, 100000)
    r.whole("rate_limit_burst", 0, 100000)
    router_drain_rule(r, r.whole("request_timeout_seconds", 1, 86400), LLMD_GATE_REPLICAS)
    drain_rule(r, "the vLLM pods", VLLM_GRACE_SECONDS, "the component's, for the requests in flight")
    gpu = r.args.get("gpu")
    gpus, memory = known(gpu, "gpus_per_node"), usable_memory(gpu)
    gpu_model = known(gpu, "gpu_model")
    if known(gpu, "mig_profile"):
        r.add("gpu", f"a pool with mig_profile {known(gpu, 'mig_profile')}", "a pool of whole GPUs (vLLM's "
                                                                           "tensor parallelism spans whole GPUs)")
    elif gpus is not None and tp is not None and tp > gpus:
        r.add("tensor_parallel_size", tp, f"at most the {gpus} GPU(s) of one {gpu_model} node")
    if known(r.args.get("route_target"), "llmd_listener") == "":  # an HTTPRoute with sectionName "" attaches nowhere
        r.add("route_target", "llmd_listener=''", "the route target of a GatewayAccess with inference_extension on "
                                                  "(it adds the llmd listener)")
    else:
        listener_rule(r, "llmd_listener")
    gateways = known(r.args.get("route_target"), "gateway_names")
    if isinstance(gateways, (list, tuple)) and gateways and r.get("expose_externally") is False \
            and not any(isinstance(g, str) and g.startswith("internal") for g in gateways):
        # the llmd route takes the internal Gateway alone unless exposed: without one it would attach to none
        r.add("expose_externally", False, f"true on a route target without an internal Gateway "
                                          f"({', '.join(map(repr, gateways))}): the API is published on the internal "
                                          "Gateway unless exposed externally, and would be on none")
    facts = KNOWN_MODELS.get(model or "", {})
    weights = weights_gib(model or "", weights_given)
    if model is not None and weights is None and r.given("model_memory_gib") is None:
        r.add("model_memory_gib", None, f"the weight size of {model!r}, which the built-in list does not know "
                                        f"({', '.join(KNOWN_MODELS)})")
    if weights is not None and memory is not None and gpus is not None and not fits(weights, memory, gpus):
        r.add("gpu", f"{gpus} x {gpu_model} ({memory_text(memory)} each, as the driver reports it)",
              f"a GPU pool whose nodes hold {model} even with every GPU of a node in tensor parallel "
              f"({shortfall_text(weights, memory, gpus)})")
    elif weights is not None and memory is not None and tp is not None and (gpus is None or tp <= gpus) \
            and not fits(weights, memory, tp):
        r.add("tensor_parallel_size", tp, f"enough {gpu_model} GPUs ({memory_text(memory)} each, as the driver "
                                          f"reports it) for {model} ({shortfall_text(weights, memory, tp)}): "
                                          f"raise it or pick a larger GPU")
    if model is not None and weights is not None and cache is not None and cache < model_cache_needed_gib(weights):
        r.add("model_cache_gib", cache, f"at least {model_cache_needed_gib(weights)} for {model}: "
                                        f"{model_cache_shortfall(weights)}")
    if model is not None and context_length(model, r.given("max_model_len")) is None:
        r.add("max_model_len", None, f"the context length of {model!r}, which the built-in list does not know "
                                     f"(vLLM and the picker's prefix matching are sized to it)")
    if facts.get("gated") and not r.args.get("hf_token_secret"):
        r.add("hf_token_secret", None, f"a Key Vault secret with a Hugging Face token: {model} is gated")
    llmd_escape_hatches(r)
    prefill = wholes(r, PREFILL_RANGES)  # wrong: refused whatever its switch; right but unread: unread_inputs
    if r.get("prefill_decode"):
        llmd_prefill_decode(r, weights, prefill["prefill_tensor_parallel_size"])
    for key in ("vllm_image", "epp_image"):
        r.text(key, lambda image: image_reference_problem(image) or (None if image_is_pinned(image) else
               "an image pinned to a release tag (v1.2.3) or a digest, never latest/main"))
    epp = r.get("epp_image")
    if isinstance(epp, str) and image_is_pinned(epp):
        try:  # the chart takes the EPP image as registry, repository and tag
            parse_image(epp)
        except ValueError:
            r.add("epp_image", epp, "registry/repository:tag (the registry host named)")
    if (r.args.get("hf_token_secret") or r.get("api_key_auth")) and not r.args.get("key_vault"):
        r.add("key_vault", None, f"a vault handle when {r.ref('api_key_auth')} or {r.ref('hf_token_secret')} is set")
    scaling = wholes(r, AUTOSCALING_RANGES)  # likewise
    if r.get("autoscaling"):
        llmd_autoscaling(r, scaling["min_replicas"], scaling["max_replicas"])
    elif r.given("metrics") is True and r.args.get("prometheus_url") in (None, "") and not r.args.get("keda"):
        r.add("metrics", True, f"true with {r.ref('prometheus_url')} (Observability's): the PodMonitor and "
                               "ServiceMonitor need the Prometheus Operator's CRDs, which it waits for; or false")
    return r.problems


def rdma_sizes() -> str:
    return ", ".join(s.vm_size for s in GPU_SKUS.values() if s.rdma)


def llmd_prefill_decode(r: Rules, weights: Optional[float], prefill_tp: Optional[int]) -> None:
    """P/D needs InfiniBand (NIXL's KV transfer), the GPU Operator's driver (nvidia-peermem for GPUDirect RDMA;
    the AKS-managed driver does not load it) and fixed replica counts; the prefill replicas fit like decode's."""
    gpu = r.args.get("gpu")
    gpus, memory, rdma = known(gpu, "gpus_per_node"), usable_memory(gpu), known(gpu, "rdma")
    driver, gpu_model = known(gpu, "driver"), known(gpu, "gpu_model")
    if rdma is False:
        r.add("prefill_decode", True, f"an InfiniBand (RDMA) GPU size ({rdma_sizes()}); this {gpu_model} pool has "
                                      f"none, so NIXL cannot move the KV cache")
    if driver == "aks":
        r.add("gpu", "driver=aks", f"a pool with driver 'operator' for {r.ref('prefill_decode')}: the GPU Operator's "
                                   f"driver loads nvidia-peermem (GPUDirect RDMA), the AKS-managed one does not")
    if r.get("autoscaling"):
        r.add("autoscaling", True, f"false with {r.ref('prefill_decode')}: prefill and decode are sized apart "
                                   f"({r.ref('prefill_replicas')}, {r.ref('replicas')}), KEDA scales one Deployment")
    if prefill_tp is not None and gpus is not None and prefill_tp > gpus:
        r.add("prefill_tensor_parallel_size", prefill_tp, f"at most the {gpus} GPU(s) of one {gpu_model} node")
    elif prefill_tp is not None and memory is not None and weights is not None and not fits(weights, memory,
                                                                                              prefill_tp):
        r.add("prefill_tensor_parallel_size", prefill_tp, f"enough {gpu_model} GPUs ({memory_text(memory)} each) "
                                                          f"for {r.get('model')} "
                                                          f"({shortfall_text(weights, memory, prefill_tp)}): raise it")


def llmd_autoscaling(r: Rules, low: Optional[int], high: Optional[int]) -> None:
    """What KEDA's scaling needs: its bounds around the starting count, its Prometheus, the picker's metrics."""
    if low is not None and high is not None:
        replicas = r.get("replicas")
        if high < max(low, 1):
            r.add("max_replicas", high, f"at least {r.ref('min_replicas')} ({low}) and 1")
        elif isinstance(replicas, int) and not max(low, 1) <= replicas <= high:
            r.add("replicas", replicas, f"the starting count, between {max(low, 1)} and {r.ref('max_replicas')} "
                                        f"({high})")
    if not r.args.get("keda"):
        r.add("keda", None, "Observability's keda endpoints (its Prometheus) when autoscaling")
    keda_rule(r)
    if r.get("metrics") is False:
        r.add("metrics", False, "true when autoscaling: the triggers read the picker's metrics, which the "
                                "ServiceMonitor has Prometheus scrape")
    epp = r.get("epp_image")
    if low == 0 and isinstance(epp, str) and image_is_pinned(epp) and not holds_requests_at_zero(epp):
        r.add("min_replicas", 0, "at least 1 with this picker image: scale to zero needs a picker that holds "
                                 "requests while no replica is ready (flow control's queue, llm-d-router v0.10.0 and "
                                 "later); without it the first request after idling fails at once while a replica "
                                 "starts")
