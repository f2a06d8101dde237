"""The mistakes a newcomer makes with the package, each refused by the component itself before it registers
anything, with the package's input error naming the input (and the nearest valid name where there is one)."""
import ast
import inspect

import pytest

import llmplatform
from llmplatform import ComponentInputError
from llmplatform.testing import run

from .test_components_alone import REQUIRED, cluster_handle, provider_opts

IN_CLUSTER = {"AppNamespace", "GatewayAccess", "GpuNodePool", "InferenceStack", "LlmdStack", "ModelAutoscaler",
              "ModelStore", "Observability", "WorkloadIdentity"}


def refused(component: str, args: dict) -> ComponentInputError:
    def program():
        getattr(llmplatform, component)("newcomer", args, provider_opts() if component in IN_CLUSTER else None)
    with pytest.raises(ComponentInputError) as error:
        run(program)
    return error.value


def paths(error: ComponentInputError) -> list[str]:
    return [e["property_path"] for e in error.errors or []]


MISTAKES = [
    # (component, how the required inputs are made wrong, the paths named, a phrase of the message)
    ("KeyVault", lambda a: {**a, "cluster": "aks"}, ["cluster"], "expects an object (ClusterHandle)"),
    ("KeyVault", lambda a: {**a, "cluster": object()}, ["cluster"], "expects an object (ClusterHandle)"),
    ("KeyVault", lambda a: {**a, "vaultName": a.pop("vault_name")}, ["vaultName"], "did you mean 'vault_name'"),
    ("GpuNodePool", lambda a: {**a, "max_nodes": 3}, ["max_nodes"], "is not an input"),
    ("GpuNodePool", lambda a: {**a, "vmSize": a.pop("vm_size")}, ["vmSize"], "did you mean 'vm_size'"),
    ("GpuNodePool", lambda a: {k: v for k, v in a.items() if k != "vm_size"}, ["vm_size"], "is required"),
    ("InferenceStack", lambda a: {k: v for k, v in a.items() if k != "model_volume"}, ["model_volume"],
     "is required"),
    ("InferenceStack", lambda a: {**a, "model_volume": {"namespace": "llm"}},
     ["model_volume.claim_name", "model_volume.mount_path"], "is required"),
    ("InferenceStack", lambda a: {**a, "resources": {"cpu": "4"}}, ["resources.cpu"], "is not an input"),
    ("AksCluster", lambda a: {**a, "network": {**a["network"], "vnetCidr": "10.0.0.0/8"}}, ["network.vnetCidr"],
     "did you mean 'vnet_cidr'"),
    ("AksCluster", lambda a: {**a, "system_pool": "Standard_D2s_v5"}, ["system_pool"],
     "expects an object (NodePoolSpec)"),
    ("AksCluster", lambda a: {**a, "system_pool": {**a["system_pool"], "minCount": 1}},
     ["system_pool.minCount"], "did you mean 'min_count'"),
    ("GlobalEndpoint", lambda a: {**a, "origins": {"name": "weu", "host": "x"}}, ["origins"],
     "expects a list of RegionalOrigin"),
    ("GlobalEndpoint", lambda a: {**a, "origins": [{"name": "weu"}]}, ["origins[0].host"], "is required"),
    ("FleetUpdates", lambda a: {**a, "members": [{"name": "weu", "clusterId": "/x"}]},
     ["members[0].clusterId"], "did you mean 'cluster_id'"),
    ("LlmdStack", lambda a: {**a, "gpu": a["cluster"]}, ["gpu.autoscaler_expander"], "is not an input"),
    ("LlmdStack", lambda a: {**a, "model": "meta-llama/Llama-3.3-70B-Instruct", "hf_token_secret": "hf",
                             "gpu": {**a["gpu"], "gpu_model": "T4", "gpus_per_node": 1, "gpu_memory_gib": 16}},
     ["gpu"], "a GPU pool whose nodes hold"),
    ("LlmdStack", lambda a: {**a, "route_target": {**a["route_target"], "llmd_listener": ""}}, ["route_target"],
     "inference_extension on"),
    ("ModelAutoscaler", lambda a: {**a, "model_server": "ollama"}, ["model_server"],
     "expects an object (ModelServer)"),
    ("WorkloadIdentity", lambda a: {**a, "serviceAccount": "app"}, ["serviceAccount"], "is not an input"),
]


@pytest.mark.parametrize("component, mistake, expected_paths, phrase", MISTAKES,
                         ids=[f"{m[0]}-{'+'.join(m[2])}" for m in MISTAKES])
def test_a_newcomer_mistake_is_refused_naming_the_input(component, mistake, expected_paths, phrase):
    error = refused(component, mistake(dict(REQUIRED[component]())))
    assert set(expected_paths) <= set(paths(error)), paths(error)
    assert phrase in str(error) and str(error).startswith(f"{component} newcomer: ")


def test_every_problem_is_named_at_once():
    args = {**REQUIRED["AksCluster"](), "tier": "Gold", "clusterName": "x", "zones": "1"}
    error = refused("AksCluster", args)
    assert {"clusterName"} <= set(paths(error))  # the shape problems together, before any value check


def test_the_shape_check_comes_before_anything_a_component_registers():
    """check_shape is the first statement of every component's __init__, so a refused component leaves nothing."""
    for name in llmplatform.COMPONENTS:
        source = inspect.getsource(getattr(llmplatform, name).__init__)
        first = ast.parse(inspect.cleandoc("\n" + source)).body[0].body[0]
        call = first.value if isinstance(first, ast.Expr) else None
        assert isinstance(call, ast.Call) and getattr(call.func, "id", None) == "check_shape", name


def test_a_correct_handle_passes_the_shape_check():
    run(lambda: llmplatform.KeyVault("vault", {"cluster": cluster_handle(), "vault_name": "kv-ok-1"}))
