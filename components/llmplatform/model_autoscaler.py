"""ModelAutoscaler: how the model server scales.

- `requests`: KEDA on in-flight requests per replica, measured by the KEDA HTTP add-on interceptor that every call
  to the model server passes through; it holds requests while a replica starts, so scale-to-zero is safe. The
  ScaledObject adds the GPU-memory (GPU mode) or CPU (CPU mode) signal to the request signal.
- `gpu-memory`: an HPA on per-pod GPU memory utilisation served by Prometheus Adapter from DCGM, with CPU as the
  fallback metric (the seed's design).
- `cpu`: an HPA on CPU (what remains when KEDA is off).
"""
from __future__ import annotations

from typing import Any, Optional, TypedDict

import pulumi
import pulumi_kubernetes as k8s
from typing_extensions import NotRequired

from .monitoring import GPU_MEMORY_METRIC, gpu_memory_percent_query

from . import PACKAGE
from .kube import cpu_utilization_metric

SKIP_SCALED_OBJECT = "httpscaledobject.keda.sh/skip-scaledobject-creation"


class ModelAutoscalerArgs(TypedDict):
    kubernetes_provider: k8s.Provider
    namespace: str
    deployment: str
    service: str
    port: int
    mode: str  # requests | gpu-memory | cpu
    min_replicas: int
    max_replicas: int
    accelerator: NotRequired[str]
    hosts: NotRequired[list[str]]
    target_in_flight: NotRequired[int]
    gpu_memory_target_percent: NotRequired[int]
    cpu_target_percent: NotRequired[int]
    scale_down_stabilization_seconds: NotRequired[int]
    request_timeout_seconds: NotRequired[int]
    cold_start_timeout_seconds: NotRequired[int]
    prometheus_url: NotRequired[str]
    external_scaler: NotRequired[str]
    depends_on: NotRequired[list[pulumi.Resource]]


def scale_behavior(stabilization_seconds: int) -> dict[str, Any]:
    """Up fast (a queue of LLM requests grows quickly), down slowly (a model reload costs minutes)."""
    return {
        "scaleUp": {"stabilizationWindowSeconds": 0, "policies": [{"type": "Pods", "value": 2, "periodSeconds": 60}]},
        "scaleDown": {"stabilizationWindowSeconds": stabilization_seconds,
                      "policies": [{"type": "Pods", "value": 1, "periodSeconds": 300}]},
    }


def scaled_object_name(deployment: str) -> str:
    return f"{deployment}-scaler"


def scaled_object_triggers(name: str, namespace: str, accelerator: str, external_scaler: str, prometheus_url: str,
                           gpu_target: int, cpu_target: int) -> list[dict[str, Any]]:
    triggers: list[dict[str, Any]] = [
        {"type": "external-push", "metadata": {"scalerAddress": external_scaler, "httpScaledObject": name}}]
    if accelerator == "gpu":
        triggers.append({"type": "prometheus", "metadata": {
            "serverAddress": prometheus_url, "query": gpu_memory_percent_query(namespace, name),
            "threshold": str(gpu_target)}})
    else:
        triggers.append({"type": "cpu", "metricType": "Utilization", "metadata": {"value": str(cpu_target)}})
    return triggers


class ModelAutoscaler(pulumi.ComponentResource):
    mode: str
    """Scaling mode in force."""

    def __init__(self, name: str, args: ModelAutoscalerArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__(f"{PACKAGE}:index:ModelAutoscaler", name, None, opts)
        self.mode = args["mode"]
        if self.mode not in ("requests", "gpu-memory", "cpu"):
            raise ValueError(f"ModelAutoscaler {name}: mode {self.mode!r} must be requests, gpu-memory or cpu")
        k8s_opts = pulumi.ResourceOptions(parent=self, provider=args["kubernetes_provider"],
                                          depends_on=args.get("depends_on", []))
        behavior = scale_behavior(args.get("scale_down_stabilization_seconds", 600))
        target = {"apiVersion": "apps/v1", "kind": "Deployment", "name": args["deployment"]}
        if self.mode == "requests":
            timeout = args.get("request_timeout_seconds", 600)
            k8s.apiextensions.CustomResource(
                f"{name}-http", api_version="http.keda.sh/v1alpha1", kind="HTTPScaledObject",
                metadata=k8s.meta.v1.ObjectMetaArgs(name=args["deployment"], namespace=args["namespace"],
                                                    annotations={SKIP_SCALED_OBJECT: "true"}),
                spec={
                    "hosts": args.get("hosts", []),
                    "scaleTargetRef": {**target, "service": args["service"], "port": args["port"]},
                    "replicas": {"min": args["min_replicas"], "max": args["max_replicas"]},
                    "scalingMetric": {"concurrency": {"targetValue": args.get("target_in_flight", 4)}},
                    "scaledownPeriod": args.get("scale_down_stabilization_seconds", 600),
                    # answers stream for minutes; a GPU node can take a quarter of an hour to arrive from zero
                    "timeouts": {"responseHeader": f"{timeout}s",
                                 "conditionWait": f"{args.get('cold_start_timeout_seconds', 1200)}s"},
                },
                opts=k8s_opts)
            # Named apart from the HTTPScaledObject: the add-on's reconciler removes a ScaledObject of the same name.
            k8s.apiextensions.CustomResource(
                f"{name}-scaler", api_version="keda.sh/v1alpha1", kind="ScaledObject",
                metadata=k8s.meta.v1.ObjectMetaArgs(name=scaled_object_name(args["deployment"]),
                                                    namespace=args["namespace"]),
                spec={
                    "scaleTargetRef": target,
                    "minReplicaCount": args["min_replicas"],
                    "maxReplicaCount": args["max_replicas"],
                    "pollingInterval": 15,
                    "cooldownPeriod": args.get("scale_down_stabilization_seconds", 600),
                    "advanced": {"horizontalPodAutoscalerConfig": {"behavior": behavior}},
                    "triggers": scaled_object_triggers(
                        args["deployment"], args["namespace"], args.get("accelerator", "cpu"),
                        args.get("external_scaler", ""), args.get("prometheus_url", ""),
                        args.get("gpu_memory_target_percent", 80), args.get("cpu_target_percent", 70)),
                },
                opts=k8s_opts)
        else:
            metrics = [cpu_utilization_metric(args.get("cpu_target_percent", 70))]
            if self.mode == "gpu-memory":  # GPU memory first, CPU as the fallback signal
                metrics.insert(0, k8s.autoscaling.v2.MetricSpecArgs(
                    type="Pods", pods=k8s.autoscaling.v2.PodsMetricSourceArgs(
                        metric=k8s.autoscaling.v2.MetricIdentifierArgs(name=GPU_MEMORY_METRIC),
                        target=k8s.autoscaling.v2.MetricTargetArgs(
                            type="AverageValue", average_value=str(args.get("gpu_memory_target_percent", 80))))))
            k8s.autoscaling.v2.HorizontalPodAutoscaler(
                f"{name}-hpa",
                metadata=k8s.meta.v1.ObjectMetaArgs(name=args["deployment"], namespace=args["namespace"]),
                spec=k8s.autoscaling.v2.HorizontalPodAutoscalerSpecArgs(
                    scale_target_ref=k8s.autoscaling.v2.CrossVersionObjectReferenceArgs(**{
                        "api_version": "apps/v1", "kind": "Deployment", "name": args["deployment"]}),
                    min_replicas=max(1, args["min_replicas"]), max_replicas=args["max_replicas"],
                    metrics=metrics,
                    behavior=k8s.autoscaling.v2.HorizontalPodAutoscalerBehaviorArgs(
                        scale_up=k8s.autoscaling.v2.HPAScalingRulesArgs(
                            stabilization_window_seconds=0, policies=[k8s.autoscaling.v2.HPAScalingPolicyArgs(
                                type="Pods", value=2, period_seconds=60)]),
                        scale_down=k8s.autoscaling.v2.HPAScalingRulesArgs(
                            stabilization_window_seconds=args.get("scale_down_stabilization_seconds", 600),
                            policies=[k8s.autoscaling.v2.HPAScalingPolicyArgs(type="Pods", value=1,
                                                                              period_seconds=300)]))),
                opts=k8s_opts)
        self.register_outputs({"mode": self.mode})
