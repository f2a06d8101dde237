"""Every component's value rules, one function per component over its inputs (as the component reads them: snake_case
keys, nested specs as dicts), returning every Problem at once. `check_shape` runs them after the shape check, so a
component refuses all of its bad inputs together before it registers anything; the stack's config layer runs the
same functions on its values and names each problem by its stack key (one source for each rule).

A value known only at deploy time (an output, or a handle arriving through the component provider as one output)
is left alone. Each of InferenceStack's parts (OllamaServer, ApiGate, OpenWebUi) has its rules over its own inputs;
InferenceStack runs them on the inputs it hands each part, named as its own, so each rule has one source.

The rules by component: `cluster` (AksCluster, GpuNodePool), `stateful` (ModelStore, KeyVault, PostgresServer),
`gateway`, `model_server`, `api_gate`, `webui` and `inference` (InferenceStack and its parts), `llmd`, `edge`
(GlobalEndpoint, FleetUpdates), `smaller` (the rest); `shared` holds what several use.
"""
from typing import Any, Mapping, Optional

from ..rules import Problem
from .api_gate import api_gate
from .cluster import aks_cluster, gpu_node_pool
from .edge import EDGE_NAME, FLEET_NAME, fleet_updates, front_door_origins_problem, global_endpoint
from .gateway import gateway_access
from .inference import inference_stack
from .llmd import llmd_stack
from .model_server import MANAGED_OLLAMA_ENV, ollama_server
from .shared import MAX_MODEL_GIB
from .smaller import (app_namespace, azure_monitoring, cost_budget, model_autoscaler, observability,
                      workload_identity)
from .stateful import key_vault, model_store, postgres_server
from .webui import MANAGED_WEBUI_ENV, database_connections_rule, open_webui


RULES = {
    "AksCluster": aks_cluster, "GpuNodePool": gpu_node_pool, "AppNamespace": app_namespace,
    "ModelStore": model_store, "KeyVault": key_vault, "PostgresServer": postgres_server,
    "GatewayAccess": gateway_access, "InferenceStack": inference_stack, "AzureMonitoring": azure_monitoring,
    "Observability": observability, "ModelAutoscaler": model_autoscaler, "WorkloadIdentity": workload_identity,
    "LlmdStack": llmd_stack, "GlobalEndpoint": global_endpoint, "FleetUpdates": fleet_updates,
    "CostBudget": cost_budget,
    # InferenceStack's parts, each with the rules of what it owns
    "OllamaServer": ollama_server, "ApiGate": api_gate, "OpenWebUi": open_webui,
}


def problems_of(component: str, args: Mapping[str, Any]) -> list[Problem]:
    """The rules of one component by name (the config layer's entry point)."""
    return RULES[component](args)


def rendered(problems: list[Problem], name: Optional[Any] = None) -> list[str]:
    return [p.sentence(name or str) for p in problems]


__all__ = ["EDGE_NAME", "FLEET_NAME", "MANAGED_OLLAMA_ENV", "MANAGED_WEBUI_ENV", "MAX_MODEL_GIB", "RULES",
           "aks_cluster", "api_gate", "app_namespace", "azure_monitoring", "cost_budget", "database_connections_rule",
           "fleet_updates", "front_door_origins_problem",
           "gateway_access", "global_endpoint", "gpu_node_pool", "inference_stack", "key_vault", "llmd_stack",
           "model_autoscaler", "model_store", "observability", "ollama_server", "open_webui", "postgres_server",
           "problems_of", "rendered", "workload_identity"]
