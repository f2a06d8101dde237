"""Reusable Pulumi ComponentResources of an LLM inference platform on AKS.

Each component takes a TypedDict of inputs (read by key) and the typed handles other components hand out; none
reads stack config, so any Pulumi project can install and compose them. In-cluster components take the cluster's
Kubernetes provider through `opts` (`pulumi.ResourceOptions(providers=[cluster.provider])`).

    from llmplatform import AksCluster, GpuNodePool
"""
import importlib
from typing import Any

PACKAGE = "llmplatform"
__version__ = "0.4.0"

# name -> module; imported on first use, so `llmplatform.gpu_skus` alone stays light.
COMPONENTS = {
    "AksCluster": "aks_cluster", "GpuNodePool": "gpu_node_pool", "AppNamespace": "app_namespace",
    "ModelStore": "model_store", "KeyVault": "key_vault", "PostgresServer": "postgres",
    "GatewayAccess": "gateway", "InferenceStack": "inference_stack", "AzureMonitoring": "azure_monitoring",
    "Observability": "observability", "ModelAutoscaler": "model_autoscaler", "WorkloadIdentity": "workload_identity",
    "LlmdStack": "llmd_stack", "GlobalEndpoint": "front_door", "FleetUpdates": "fleet",
}
__all__ = ["PACKAGE", "COMPONENTS", "all_components", *COMPONENTS]


def __getattr__(name: str) -> Any:
    if name in COMPONENTS:
        return getattr(importlib.import_module(f".{COMPONENTS[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def all_components() -> list[type]:
    """Every component class, for the component provider and the schema."""
    return [__getattr__(name) for name in COMPONENTS]
