"""What the autoscaling modes need of the other sections (inference, observability), and the prod rules: read
after every section is parsed, so no section imports another for it."""
from __future__ import annotations

from ..reader import Reader
from .autoscaling import AutoscalingConfig
from .inference import InferenceConfig
from .observability import ObservabilityConfig


def autoscaling_cross_checks(r: Reader, environment: str, obs: ObservabilityConfig, scaling: AutoscalingConfig,
                             inf: InferenceConfig) -> None:
    """The prod rules, and what the modes need of inference and observability."""
    if environment == "prod":
        if scaling.scale_to_zero:
            r.problem("autoscaling.scaleToZero is for dev: a prod model server keeps at least one replica")
        if scaling.mode == "requests" and scaling.interceptor_replicas < 2:
            r.problem(f"autoscaling.interceptorReplicas ({scaling.interceptor_replicas}) must be >= 2 when "
                      f"environment is 'prod': every model request passes the KEDA interceptor")
    if scaling.mode == "gpu-memory" and inf.accelerator != "gpu":
        r.problem("autoscaling.mode 'gpu-memory' needs inference.accelerator 'gpu'")
    if scaling.mode in ("requests", "gpu-memory") and not obs.enabled:
        r.problem(f"autoscaling.mode {scaling.mode!r} needs observability.enabled (KEDA / Prometheus run there)")
