"""Reusable Pulumi ComponentResources of an LLM inference platform on AKS.

Each component takes a TypedDict of inputs (read by key) and the typed handles other components hand out; none
reads stack config, so any Pulumi project can install and compose them. In-cluster components take the cluster's
Kubernetes provider through `opts` (`pulumi.ResourceOptions(providers=[cluster.provider])`).

    from llmplatform import AksCluster, AksClusterArgs, ClusterHandle, ComponentInputError, GpuNodePool

Every public name is imported here, eagerly, and listed in `__all__`: type checkers see the real classes (pyright
treats a typed package's imports as private unless `__all__` lists them). To add a component, import it with its
Args and the specs it defines, and list them in `__all__`; `COMPONENTS` and `all_components()` follow from it.
"""
import pulumi

PACKAGE = "llmplatform"
__version__ = "0.44.0"

# below PACKAGE: the component modules read it while this module imports them
from .aks_cluster import AksCluster, AksClusterArgs, MaintenanceWindowSpec, NetworkSpec, NodePoolSpec  # noqa: E402
from .api_gate import ApiGate, ApiGateArgs  # noqa: E402
from .app_namespace import AppNamespace, AppNamespaceArgs  # noqa: E402
from .azure_monitoring import AzureMonitoring, AzureMonitoringArgs  # noqa: E402
from .checks import ComponentInputError  # noqa: E402
from .cost_budget import CostBudget, CostBudgetArgs  # noqa: E402
from .errors import LateInputError  # noqa: E402
from .fleet import FleetMemberSpec, FleetUpdates, FleetUpdatesArgs  # noqa: E402
from .front_door import (GlobalEndpoint, GlobalEndpointArgs, RegionalOrigin, WafExclusion,  # noqa: E402
                         WafRuleOverride)
from .gateway import GatewayAccess, GatewayAccessArgs  # noqa: E402
from .gpu_node_pool import GpuFallbackSpec, GpuNodePool, GpuNodePoolArgs, GpuSkuSpec  # noqa: E402
from .handles import (ClusterHandle, GpuScheduling, KedaEndpoints, ModelEndpoint, ModelServer,  # noqa: E402
                      ModelShare, ModelVolume, MonitoringHandle, RouteTarget, Toleration, VaultHandle)
from .inference_stack import InferenceStack, InferenceStackArgs, ResourcesSpec  # noqa: E402
from .key_vault import KeyVault, KeyVaultArgs  # noqa: E402
from .llmd_stack import LlmdStack, LlmdStackArgs  # noqa: E402
from .model_autoscaler import ModelAutoscaler, ModelAutoscalerArgs  # noqa: E402
from .model_store import ModelStore, ModelStoreArgs  # noqa: E402
from .observability import AlertReceiver, Observability, ObservabilityArgs  # noqa: E402
from .ollama_server import OllamaServer, OllamaServerArgs  # noqa: E402
from .open_webui import OpenWebUi, OpenWebUiArgs  # noqa: E402
from .postgres import EntraGroup, PostgresServer, PostgresServerArgs  # noqa: E402
from .workload_identity import WorkloadIdentity, WorkloadIdentityArgs  # noqa: E402

# A literal list: type checkers read it as it is written.
__all__ = [
    "PACKAGE", "COMPONENTS", "all_components",
    # the components (in schema order), each with its Args and the specs inside them
    "AksCluster", "AksClusterArgs", "NetworkSpec", "NodePoolSpec", "MaintenanceWindowSpec",
    "GpuNodePool", "GpuNodePoolArgs", "GpuFallbackSpec", "GpuSkuSpec",
    "AppNamespace", "AppNamespaceArgs",
    "ModelStore", "ModelStoreArgs",
    "KeyVault", "KeyVaultArgs",
    "PostgresServer", "PostgresServerArgs", "EntraGroup",
    "GatewayAccess", "GatewayAccessArgs",
    "InferenceStack", "InferenceStackArgs", "ResourcesSpec",
    "AzureMonitoring", "AzureMonitoringArgs",
    "CostBudget", "CostBudgetArgs",
    "Observability", "ObservabilityArgs", "AlertReceiver",
    "ModelAutoscaler", "ModelAutoscalerArgs",
    "WorkloadIdentity", "WorkloadIdentityArgs",
    "LlmdStack", "LlmdStackArgs",
    "GlobalEndpoint", "GlobalEndpointArgs", "RegionalOrigin", "WafExclusion", "WafRuleOverride",
    "FleetUpdates", "FleetUpdatesArgs", "FleetMemberSpec",
    "OllamaServer", "OllamaServerArgs",
    "ApiGate", "ApiGateArgs",
    "OpenWebUi", "OpenWebUiArgs",
    # the handles components hand each other, and the input errors components raise (when built; once an output
    # resolves)
    "ClusterHandle", "GpuScheduling", "VaultHandle", "ModelVolume", "ModelShare", "RouteTarget", "ModelServer",
    "KedaEndpoints", "MonitoringHandle", "Toleration", "ModelEndpoint",
    "ComponentInputError", "LateInputError",
]


def _is_component(value: object) -> bool:
    return isinstance(value, type) and issubclass(value, pulumi.ComponentResource)


# component name -> its module, in `__all__` order
COMPONENTS: dict[str, str] = {name: globals()[name].__module__.rsplit(".", 1)[-1]
                              for name in __all__ if _is_component(globals().get(name))}


def all_components() -> list[type[pulumi.ComponentResource]]:
    """Every component class, for the component provider and the schema."""
    return [globals()[name] for name in COMPONENTS]


def _describe_constructors() -> None:
    """Each component's `__init__` had no docstring of its own, so `help(LlmdStack)` and an editor's hover showed
    pulumi.ComponentResource's, whose parameters (`t`, `props`, `remote`, `package_ref`) a component does not take.
    Set at import, not in the source: the provider's schema is read from the source, which this leaves alone."""
    import inspect
    for name in COMPONENTS:
        init = globals()[name].__init__
        internal = [p for p in inspect.signature(init).parameters.values() if p.kind is p.KEYWORD_ONLY]
        if init.__doc__ is None:
            init.__doc__ = (
                f"{name}(name, args, opts=None).\n\n"
                f":param str name: the component's Pulumi name; its resources' names start with it.\n"
                f":param {name}Args args: the inputs, a dict read by key (every input, its type and default: "
                f"docs/components/reference.md, or the `{name}Args` TypedDict's source); a bad one raises "
                f"ComponentInputError naming the input, the value and what is allowed, before anything registers.\n"
                f":param pulumi.ResourceOptions opts: resource options; an in-cluster component takes the cluster's "
                f"Kubernetes provider here, `pulumi.ResourceOptions(providers=[aks.provider])`."
                + (f"\n\n{', '.join(p.name for p in internal)}: keyword-only, for InferenceStack, which composes "
                   f"this part; leave them out." if internal else ""))


_describe_constructors()
