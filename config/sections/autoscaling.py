"""The `autoscaling` section: the Ollama model server's autoscaler (ModelAutoscaler; `none`: no autoscaler)."""
from __future__ import annotations

from dataclasses import asdict, dataclass

from llmplatform.choices import AUTOSCALING_MODES as COMPONENT_AUTOSCALING_MODES
from llmplatform.defaults import DEFAULTS as D  # the components' defaults are the stack's defaults

from .. import component_rules
from ..reader import Reader


@dataclass(frozen=True)
class AutoscalingConfig:
    mode: str = "requests"  # requests (KEDA HTTP add-on) | gpu-memory (adapter + HPA) | cpu (HPA) | none
    min_replicas: int = 1
    max_replicas: int = 3
    target_in_flight: int = D["ModelAutoscaler"]["target_in_flight"]
    scale_to_zero: bool = False
    gpu_memory_target_percent: int = D["ModelAutoscaler"]["gpu_memory_target_percent"]
    cpu_target_percent: int = D["ModelAutoscaler"]["cpu_target_percent"]
    scale_down_stabilization_seconds: int = D["ModelAutoscaler"]["scale_down_stabilization_seconds"]
    cold_start_timeout_seconds: int = 1200
    interceptor_replicas: int = D["Observability"]["interceptor_replicas"]  # KEDA HTTP interceptor pods (requests)


AUTOSCALING_MODES = (*COMPONENT_AUTOSCALING_MODES, "none")  # none: the stack runs no autoscaler


def parse_autoscaling(r: Reader) -> AutoscalingConfig:
    """Read as written; ModelAutoscaler's rules check it (mode `none`, no autoscaler, is the stack's own)."""
    d = AutoscalingConfig()
    cfg = AutoscalingConfig(
        mode=r.choice("mode", d.mode, AUTOSCALING_MODES),
        min_replicas=r.int_("minReplicas", d.min_replicas),
        max_replicas=r.int_("maxReplicas", d.max_replicas),
        target_in_flight=r.int_("targetInFlight", d.target_in_flight),
        scale_to_zero=r.bool_("scaleToZero", d.scale_to_zero),
        gpu_memory_target_percent=r.int_("gpuMemoryTargetPercent", d.gpu_memory_target_percent),
        cpu_target_percent=r.int_("cpuTargetPercent", d.cpu_target_percent),
        scale_down_stabilization_seconds=r.int_("scaleDownStabilizationSeconds", d.scale_down_stabilization_seconds),
        # the stack's bound: a cold start over an hour is a broken model server, not a slow one
        cold_start_timeout_seconds=r.int_("coldStartTimeoutSeconds", d.cold_start_timeout_seconds, 60, 3600),
        interceptor_replicas=r.int_("interceptorReplicas", d.interceptor_replicas),
    )
    r.reject_unknown_keys()
    args = {k: v for k, v in asdict(cfg).items() if k not in ("scale_to_zero", "interceptor_replicas")}
    if cfg.mode == "none":
        args.pop("mode")
    elif cfg.mode == "requests":
        args["keda"] = {"namespace": "keda"}  # the program wires Observability's KEDA (a stack rule says so)
    component_rules.check(r, "ModelAutoscaler", args, component_rules.keys("autoscaling"))
    component_rules.check(r, "Observability", {"interceptor_replicas": cfg.interceptor_replicas},
                          component_rules.keys("autoscaling"))
    if cfg.min_replicas == 0 and not cfg.scale_to_zero:
        r.problem("autoscaling.minReplicas 0 needs autoscaling.scaleToZero true")
    if cfg.scale_to_zero and cfg.min_replicas > 0:
        r.problem(f"autoscaling.scaleToZero needs autoscaling.minReplicas 0 (it is {cfg.min_replicas})")
    if cfg.scale_to_zero and cfg.mode != "requests":
        r.problem(f"autoscaling.scaleToZero needs autoscaling.mode 'requests' (requests are held while a pod "
                  f"starts); mode is {cfg.mode!r}")
    return cfg
