"""ModelAutoscaler: how the model server scales.

- `requests`: KEDA on in-flight requests per replica, measured by the KEDA HTTP add-on interceptor that every call
  to the model server passes through; it holds requests while a replica starts, so scale-to-zero is safe. On a
  CPU the ScaledObject adds the CPU signal; on a GPU the requests are the only signal (GPU memory is what a loaded
  model holds, not the load).
- `gpu-memory`: an HPA on per-pod GPU memory utilisation served by Prometheus Adapter from DCGM, with CPU as the
  fallback metric (the seed's design).
- `cpu`: an HPA on CPU (what remains when KEDA is off).
"""
from typing import Any, Optional, TypedDict

import pulumi
import pulumi_kubernetes as k8s
from typing_extensions import NotRequired

from .monitoring import GPU_MEMORY_METRIC

from . import PACKAGE
from .defaults import defaults_for
from .checks import (KEDA_FIELDS, SERVER_TIMEOUT_FIELDS, after_check, called_as_documented, check_shape,
                     given as given_inputs, late_rules)
from .handles import KedaEndpoints, ModelServer, field, handed_timeouts, ordered_after, value_alone
from .inference_specs import wait_budget_seconds
from .kube import cpu_utilization_metric, require_kubernetes_provider
from .shared_names import claim_scaled_server

opt = defaults_for("ModelAutoscaler")  # optional inputs: the caller's value, else the default

# The KEDA HTTP add-on's route API (http-add-on v0.14.0+, beta; chart keda-add-ons-http 0.15.0 installs its CRD):
# routing and the interceptor's per-route timeouts, its requests counted under the route's namespace/name. It replaces
# the deprecated HTTPScaledObject (http.keda.sh/v1alpha1), which the interceptor converts to the same route
# internally (pkg/routing/table.go); scaling stays on our own ScaledObject (docs/decisions.md).
INTERCEPTOR_ROUTE_API, INTERCEPTOR_ROUTE = "http.keda.sh/v1beta1", "InterceptorRoute"
# The in-flight trigger's name: KEDA labels keda_scaler_metrics_value with a trigger's name (else its Go type), which
# the overview dashboard selects (kedacore/keda v2.20.2 pkg/scaling/scale_handler.go:637-638, :571).
IN_FLIGHT_TRIGGER = "in-flight-requests"
# An HPA annotated "false" is passed over by KEDA's admission webhook when it looks for another HPA on a
# ScaledObject's workload (kedacore/keda v2.20.2 apis/keda/v1alpha1/scaledobject_types.go
# ValidationsHpaOwnershipAnnotation)
KEDA_HPA_OWNERSHIP = "validations.keda.sh/hpa-ownership"




class ModelAutoscalerArgs(TypedDict):
    """Inputs of ModelAutoscaler."""

    model_server: pulumi.Input[ModelServer]
    """The model server to scale (InferenceStack's `model_server`)."""
    mode: str
    """requests (KEDA HTTP add-on), gpu-memory (Prometheus Adapter HPA) or cpu (HPA)."""
    min_replicas: int
    """Fewest replicas (0 scales to zero, requests mode only)."""
    max_replicas: int
    """Most replicas."""
    keda: NotRequired[Optional[pulumi.Input[KedaEndpoints]]]
    """KEDA's addresses (Observability's `keda`); needed in requests mode."""
    target_in_flight: NotRequired[Optional[int]]
    """Requests in flight per replica before scaling out, requests mode (default 4)."""
    gpu_memory_target_percent: NotRequired[Optional[int]]
    """GPU memory use per replica before scaling out, gpu-memory mode (default 80; requests mode scales on the
    requests in flight, not on GPU memory, which a loaded model holds whatever the load)."""
    cpu_target_percent: NotRequired[Optional[int]]
    """CPU use per replica before scaling out (default 70)."""
    scale_down_stabilization_seconds: NotRequired[Optional[int]]
    """Quiet time before scaling in (default 600: a model reload costs minutes)."""
    request_timeout_seconds: NotRequired[Optional[int]]
    """Longest answer the interceptor waits for, requests mode: its InterceptorRoute's `timeouts.responseHeader`;
    at least the model server's (default: the model_server handle's `request_timeout_seconds`, else 600)."""
    cold_start_timeout_seconds: NotRequired[Optional[int]]
    """How long requests wait for a replica to start from zero, requests mode (`timeouts.readiness`); at least the
    model server's (default: the model_server handle's `cold_start_timeout_seconds`, else 1200)."""


def scale_behavior(stabilization_seconds: int) -> dict[str, Any]:
    """Up fast (a queue of LLM requests grows quickly), down slowly (a model reload costs minutes)."""
    return {
        "scaleUp": {"stabilizationWindowSeconds": 0, "policies": [{"type": "Pods", "value": 2, "periodSeconds": 60}]},
        "scaleDown": {"stabilizationWindowSeconds": stabilization_seconds,
                      "policies": [{"type": "Pods", "value": 1, "periodSeconds": 300}]},
    }


def behavior_args(behavior: dict[str, Any]) -> k8s.autoscaling.v2.HorizontalPodAutoscalerBehaviorArgs:
    """`scale_behavior`'s rules as an HPA's typed behavior (the ScaledObject, a custom resource, takes the dict)."""
    def rules(rule: dict[str, Any]) -> k8s.autoscaling.v2.HPAScalingRulesArgs:
        return k8s.autoscaling.v2.HPAScalingRulesArgs(
            stabilization_window_seconds=rule["stabilizationWindowSeconds"],
            policies=[k8s.autoscaling.v2.HPAScalingPolicyArgs(type=p["type"], value=p["value"],
                                                              period_seconds=p["periodSeconds"])
                      for p in rule["policies"]])
    return k8s.autoscaling.v2.HorizontalPodAutoscalerBehaviorArgs(scale_up=rules(behavior["scaleUp"]),
                                                                  scale_down=rules(behavior["scaleDown"]))


def scaled_object_name(deployment: str) -> str:
    return f"{deployment}-scaler"


def scaled_object_triggers(name: str, accelerator: str, external_scaler: str, cpu_target: int) -> list[dict[str, Any]]:
    triggers: list[dict[str, Any]] = [
        {"type": "external-push", "name": IN_FLIGHT_TRIGGER,
         "metadata": {"scalerAddress": external_scaler, "interceptorRoute": name}}]
    if accelerator != "gpu":
        triggers.append({"type": "cpu", "metricType": "Utilization", "metadata": {"value": str(cpu_target)}})
    # No second signal on a GPU: an Ollama replica's GPU memory is what its loaded models hold (the weights and the
    # context cache reserved for its parallel requests at load), not its load, and another replica does not lower
    # it. As a trigger it either never asked for more than 2 replicas (KEDA's default AverageValue reads the
    # replicas' average as a total) or, as the per-replica Value the target describes, asked for one more on every
    # check while a loaded model held more than the target plus the HPA's 10 % tolerance, up to maxReplicas, and held
    # them while light traffic kept the models loaded (docs/decisions.md, "GPU memory is no load signal"). The
    # requests in flight are the load; the gpu-memory mode keeps GPU memory for a stack that asks for it.
    return triggers


@called_as_documented
class ModelAutoscaler(pulumi.ComponentResource):
    """How a model server scales: on requests in flight (KEDA HTTP add-on, scale to zero safe), on GPU memory
    (Prometheus Adapter HPA) or on CPU (HPA)."""

    mode: pulumi.Output[str]
    """Scaling mode in force."""

    def __init__(self, name: str, args: ModelAutoscalerArgs, opts: Optional[pulumi.ResourceOptions] = None):
        # its timeouts not given: the model server's, which its handle carries (a plain figure; else the default,
        # judged against the figure once it resolves)
        checked = check_shape("ModelAutoscaler", name,
                              handed_timeouts(given_inputs(args, ModelAutoscalerArgs), "model_server"),
                              ModelAutoscalerArgs)
        given = args["model_server"]  # the caller's handle, not the checked copy (whose outputs are new ones)
        args = checked
        mode = args["mode"]
        require_kubernetes_provider(opts, "ModelAutoscaler", name)
        claim_scaled_server(name, mode, given, opts)
        super().__init__(f"{PACKAGE}:index:ModelAutoscaler", name, None, opts)
        self.mode = pulumi.Output.from_input(mode)
        server = args["model_server"]
        namespace, deployment = field(server, "namespace"), field(server, "deployment")
        # who owns the replica count, and what the pods run on: a model server handle that arrives as an output
        # (another language's) is checked once it resolves, before the HPA registers
        server_check = late_rules("ModelAutoscaler", name, args, "model_server",
                                  ("autoscaled", "accelerator", *SERVER_TIMEOUT_FIELDS), ModelAutoscalerArgs)
        namespace = after_check(server_check, namespace)
        # The handle's Deployment name waits for the server's Deployment and Service: each object's name (force-new)
        # takes the name alone, the objects the wait as a depends_on, or the server's Deployment deleted first and
        # created again under its name replaced them with it (pulumi/pulumi 1b5949891b step_generator.go
        # calculateDependentReplacements; docs/decisions.md "2026-12-05 (night): delete-first chains rescanned")
        named = value_alone(deployment)
        k8s_opts = ordered_after(pulumi.ResourceOptions(parent=self), deployment)
        behavior = scale_behavior(opt(args, "scale_down_stabilization_seconds"))
        target = {"apiVersion": "apps/v1", "kind": "Deployment", "name": deployment}
        if mode == "requests":
            keda = args["keda"]
            timeout = opt(args, "request_timeout_seconds")
            route = k8s.apiextensions.CustomResource(
                f"{name}-http", api_version=INTERCEPTOR_ROUTE_API, kind=INTERCEPTOR_ROUTE,
                metadata=k8s.meta.v1.ObjectMetaArgs(name=named, namespace=namespace),
                spec={
                    "target": {"service": field(server, "service"), "port": field(server, "port")},
                    # after the add-on's release, which installs the InterceptorRoute CRD (keda's fields wait for it)
                    # (a keda handle that arrives as an output is checked once it resolves)
                    # (a model server handle that arrives as an output is checked once it resolves: built with
                    # keda, so its requests pass the interceptor, and its hosts ones the route guard admits in its
                    # namespace)
                    "rules": [{"hosts": pulumi.Output.all(after_check(late_rules(
                        "ModelAutoscaler", name, args, "model_server", ("hosts", "namespace"), ModelAutoscalerArgs),
                        field(server, "hosts")), after_check(
                        late_rules("ModelAutoscaler", name, args, "keda", KEDA_FIELDS, ModelAutoscalerArgs),
                        field(keda, "namespace"))).apply(lambda v: v[0])}],
                    "scalingMetric": {"concurrency": {"targetValue": opt(args, "target_in_flight")}},
                    # per-route overrides of the interceptor's readiness wait, header wait and total deadline. The
                    # total (else the chart's requestTimeout: Observability's cold start plus answer) wraps the
                    # other two (http-add-on v0.15.0 interceptor/proxy.go, middleware/routing.go), so the route
                    # carries its own sum: waits longer than Observability's are not cut short
                    "timeouts": {"responseHeader": f"{timeout}s",
                                 "readiness": f"{opt(args, 'cold_start_timeout_seconds')}s",
                                 "request": f"{wait_budget_seconds(timeout, opt(args, 'cold_start_timeout_seconds'))}s"},
                },
                opts=k8s_opts)
            # Keeps the name it had beside the HTTPScaledObject (whose reconciler removed a namesake ScaledObject):
            # the dashboard and llm-verify read it, and a new name would replace it. After the route: the external
            # scaler looks the route up by the trigger's `interceptorRoute` and fails while it is missing.
            k8s.apiextensions.CustomResource(
                f"{name}-scaler", api_version="keda.sh/v1alpha1", kind="ScaledObject",
                metadata=k8s.meta.v1.ObjectMetaArgs(name=named.apply(scaled_object_name), namespace=namespace),
                spec={
                    "scaleTargetRef": target,
                    "minReplicaCount": args["min_replicas"],
                    "maxReplicaCount": args["max_replicas"],
                    "pollingInterval": 15,
                    "cooldownPeriod": opt(args, "scale_down_stabilization_seconds"),
                    "advanced": {"horizontalPodAutoscalerConfig": {"behavior": behavior}},
                    "triggers": pulumi.Output.all(
                        deployment, field(server, "accelerator"), field(keda, "external_scaler")).apply(
                            lambda v: scaled_object_triggers(v[0], v[1], v[2], opt(args, "cpu_target_percent"))),
                },
                opts=pulumi.ResourceOptions.merge(k8s_opts, pulumi.ResourceOptions(depends_on=[route])))
        else:
            metrics = [cpu_utilization_metric(opt(args, "cpu_target_percent"))]
            if mode == "gpu-memory":  # GPU memory first, CPU as the fallback signal
                metrics.insert(0, k8s.autoscaling.v2.MetricSpecArgs(
                    type="Pods", pods=k8s.autoscaling.v2.PodsMetricSourceArgs(
                        metric=k8s.autoscaling.v2.MetricIdentifierArgs(name=GPU_MEMORY_METRIC),
                        target=k8s.autoscaling.v2.MetricTargetArgs(
                            type="AverageValue", average_value=str(opt(args, "gpu_memory_target_percent"))))))
            # Opts out of KEDA's webhook HPA check (kedacore/keda v2.20.2 scaledobject_webhook.go verifyHpas skips
            # an HPA annotated "false"): a switch to requests mode creates the ScaledObject before Pulumi deletes this
            # HPA (deletes run last), and the webhook refuses a ScaledObject on a workload another HPA scales
            k8s.autoscaling.v2.HorizontalPodAutoscaler(
                f"{name}-hpa",
                metadata=k8s.meta.v1.ObjectMetaArgs(name=named, namespace=namespace,
                                                    annotations={KEDA_HPA_OWNERSHIP: "false"}),
                spec=k8s.autoscaling.v2.HorizontalPodAutoscalerSpecArgs(
                    scale_target_ref=k8s.autoscaling.v2.CrossVersionObjectReferenceArgs(**{
                        "api_version": "apps/v1", "kind": "Deployment", "name": deployment}),
                    min_replicas=max(1, args["min_replicas"]), max_replicas=args["max_replicas"],
                    metrics=metrics,
                    behavior=behavior_args(behavior)),
                opts=k8s_opts)
        self.register_outputs({"mode": self.mode})
