"""This project's own tests, written with the package's testing kit: the program runs under Pulumi's mocks with
the engine's refusals, and the tests read what it would register."""
import runpy
import sys
from pathlib import Path

import pytest
from llmplatform import ComponentInputError
from llmplatform.testing import ProgramError, run

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # the program imports its own `config` and `components`


def program() -> None:
    runpy.run_path(str(HERE / "__main__.py"), run_name="__main__")


@pytest.fixture(scope="module")
def plan():
    return run(program, project="team-a-llm", stack="dev")


def test_gpu_pool_is_spot_and_scales_to_zero(plan):
    gpu = [r.inputs for r in plan.of_type("azure-native:containerservice:AgentPool")
           if r.inputs["vmSize"].startswith("Standard_N")]
    assert gpu and all(p["minCount"] == 0 and p["scaleSetPriority"] == "Spot" for p in gpu)


def test_the_platform_is_there_and_only_the_kubeconfig_is_secret(plan):
    types = {r.type for r in plan.resources}
    assert {"llmplatform:index:AksCluster", "llmplatform:index:GpuNodePool", "llmplatform:index:InferenceStack",
            "kubernetes:apps/v1:Deployment"} <= types
    assert plan.secret_outputs == ["kubeconfig"] and "apiKeySecret" in plan.outputs


def test_ollama_lands_on_the_gpu_pool(plan):
    ollama = next(r for r in plan.of_type("kubernetes:apps/v1:Deployment") if r.name.endswith("ollama"))
    limits = ollama.inputs["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]
    assert limits["nvidia.com/gpu"] == "1"


def test_a_mistake_is_refused_with_the_input_named_and_nothing_registered():
    def wrong() -> None:
        from llmplatform import AppNamespace
        AppNamespace("app", {"namespace": "llm", "pod_security": "open"})
    with pytest.raises(ComponentInputError, match="pod_security='open' is invalid") as error:
        run(wrong)
    assert [e["property_path"] for e in error.value.errors or []] == ["pod_security"]


def test_two_resources_with_one_azure_name_are_refused_as_azure_would():
    def twice() -> None:
        from llmplatform import KeyVault
        import config
        from llmplatform import AksCluster
        from components import pool
        aks = AksCluster("aks", {"cluster_name": "aks-x", "resource_group_name": "rg-x", "location": config.REGION,
                                 "network": config.NETWORK, "system_pool": pool("system", "Standard_D2s_v5", 1, 2),
                                 "workload_pool": pool("cpu", "Standard_D4s_v5", 1, 3)})
        for name in ("a", "b"):
            KeyVault(name, {"cluster": aks.cluster, "vault_name": "kv-team-a-same"})
    with pytest.raises(ProgramError, match="are one object"):
        run(twice)


def test_every_kubernetes_object_passes_the_api_servers_strict_schemas(plan):
    from llmplatform import kubernetes_schemas  # needs the testing extra: pip install "llmplatform[testing]"
    assert kubernetes_schemas.problems(plan) == []
