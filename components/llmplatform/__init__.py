"""Reusable Pulumi ComponentResources of an LLM inference platform on AKS.

Each component takes a TypedDict of inputs (read by key) and the typed handles other components hand out; none
reads stack config, so any Pulumi project can install and compose them. In-cluster components take the cluster's
Kubernetes provider through `opts` (`pulumi.ResourceOptions(providers=[cluster.provider])`).

    from llmplatform import AksCluster, AksClusterArgs, ClusterHandle, ComponentInputError, GpuNodePool

Type checkers see every public name below as the real class (the `TYPE_CHECKING` imports). At run time each is
imported on first use, so `llmplatform.choices` or `llmplatform.gpu_skus` alone (what a stack's config layer reads)
does not load the Azure and Kubernetes SDKs.
"""
import importlib
from typing import TYPE_CHECKING, Any

PACKAGE = "llmplatform"
__version__ = "0.5.0"

# component -> module
COMPONENTS = {
    "AksCluster": "aks_cluster", "GpuNodePool": "gpu_node_pool", "AppNamespace": "app_namespace",
    "ModelStore": "model_store", "KeyVault": "key_vault", "PostgresServer": "postgres",
    "GatewayAccess": "gateway", "InferenceStack": "inference_stack", "AzureMonitoring": "azure_monitoring",
    "Observability": "observability", "ModelAutoscaler": "model_autoscaler", "WorkloadIdentity": "workload_identity",
    "LlmdStack": "llmd_stack", "GlobalEndpoint": "front_door", "FleetUpdates": "fleet",
    "OllamaServer": "ollama_server", "ApiGate": "api_gate", "OpenWebUi": "open_webui",
}
# every other public name -> module: each component's Args, the specs inside them, the handles, the input error
TYPES = {
    **{f"{name}Args": module for name, module in COMPONENTS.items()},
    "NetworkSpec": "aks_cluster", "NodePoolSpec": "aks_cluster", "MaintenanceWindowSpec": "aks_cluster",
    "GpuFallbackSpec": "gpu_node_pool", "GpuSkuSpec": "gpu_node_pool", "ResourcesSpec": "inference_stack",
    "RegionalOrigin": "front_door", "FleetMemberSpec": "fleet", "EntraGroup": "postgres",
    "ClusterHandle": "handles", "GpuScheduling": "handles", "VaultHandle": "handles", "ModelVolume": "handles",
    "RouteTarget": "handles", "ModelServer": "handles", "KedaEndpoints": "handles", "MonitoringHandle": "handles",
    "Toleration": "handles", "ComponentInputError": "checks", "ModelEndpoint": "handles",
}
__all__ = ["PACKAGE", "COMPONENTS", "TYPES", "all_components", *COMPONENTS, *TYPES]

if TYPE_CHECKING:  # the same names, eagerly, for mypy and pyright
    from .aks_cluster import AksCluster, AksClusterArgs, MaintenanceWindowSpec, NetworkSpec, NodePoolSpec
    from .app_namespace import AppNamespace, AppNamespaceArgs
    from .azure_monitoring import AzureMonitoring, AzureMonitoringArgs
    from .checks import ComponentInputError
    from .fleet import FleetMemberSpec, FleetUpdates, FleetUpdatesArgs
    from .front_door import GlobalEndpoint, GlobalEndpointArgs, RegionalOrigin
    from .gateway import GatewayAccess, GatewayAccessArgs
    from .gpu_node_pool import GpuFallbackSpec, GpuNodePool, GpuNodePoolArgs, GpuSkuSpec
    from .handles import (ClusterHandle, GpuScheduling, KedaEndpoints, ModelServer, ModelVolume, MonitoringHandle,
                          RouteTarget, Toleration, VaultHandle)
    from .inference_stack import InferenceStack, InferenceStackArgs, ResourcesSpec
    from .key_vault import KeyVault, KeyVaultArgs
    from .llmd_stack import LlmdStack, LlmdStackArgs
    from .model_autoscaler import ModelAutoscaler, ModelAutoscalerArgs
    from .model_store import ModelStore, ModelStoreArgs
    from .observability import Observability, ObservabilityArgs
    from .postgres import EntraGroup, PostgresServer, PostgresServerArgs
    from .workload_identity import WorkloadIdentity, WorkloadIdentityArgs
    from .api_gate import ApiGate, ApiGateArgs
    from .handles import ModelEndpoint
    from .ollama_server import OllamaServer, OllamaServerArgs
    from .open_webui import OpenWebUi, OpenWebUiArgs


def __getattr__(name: str) -> Any:
    module = COMPONENTS.get(name) or TYPES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value  # imported once
    return value


def all_components() -> list[type]:
    """Every component class, for the component provider and the schema."""
    return [__getattr__(name) for name in COMPONENTS]
