"""A model server's replicas on the GPU nodes an upgrade drains at once share one budget: GpuNodePool's handle carries
how many it drains at once (GpuScheduling.nodes_drained_at_once), and OllamaServer's drain rule counts them as the
plan check (offline/deploy_model/node_drains.py) and the stack (PlatformConfig.ollama_sharing) do (docs/decisions.md,
"The answer's timeouts travel with the handles"). Before, the rule counted one node's GPUs."""
from typing import Any

import pytest

import llmplatform
from llmplatform import testing
from llmplatform.checks import ComponentInputError
from llmplatform.testing import ProgramError
from tests.components.test_components_alone import REQUIRED, cluster_handle, provider_opts


def _program(surge: Any, drain: int = 37) -> Any:
    """Four one-GPU nodes upgraded `surge` at a time, and an Ollama replica on each."""
    def program() -> None:
        k8s = provider_opts()
        cluster = {**cluster_handle(), "drain_timeout_minutes": drain}
        pool = llmplatform.GpuNodePool("gpu", {"cluster": cluster, "vm_size": "Standard_NC4as_T4_v3",
                                               "priority": "regular", "max_count": 4,
                                               **({"upgrade_max_surge": surge} if surge else {})}, k8s)
        llmplatform.OllamaServer("ollama", {**REQUIRED["OllamaServer"](), "cluster": cluster, "accelerator": "gpu",
                                            "gpu": pool.scheduling, "replicas": 4}, k8s)
    return program


def test_replicas_on_the_nodes_an_upgrade_drains_at_once_count_in_the_rule():
    """Four T4 nodes upgraded four at a time: the four replicas stop one after another (630 + 3 x 1090 = 3900 s),
    over the 37 minutes; the fix names what drain_minutes_for counts (70). Upgraded a node at a time, they fit."""
    with pytest.raises((ComponentInputError, ProgramError)) as caught:
        testing.run(_program("4"))
    message = str(caught.value)
    assert "OllamaServer ollama: input request_timeout_seconds=600 is invalid" in message, message
    assert "up to 4 of them may share a node" in message and "drain_timeout_minutes=70 " \
        "(upgrades.drain_minutes_for(630, 4, 1090))" in message, message
    testing.run(_program(None))
    testing.run(_program("4", drain=70))


def test_a_hand_built_gpu_handles_count_out_of_range_is_refused_as_the_handles():
    gpu = {"node_selector": {"llm-platform/accelerator": "nvidia"}, "gpu_model": "T4", "gpus_per_node": 1,
           "gpu_memory_gib": 15.0, "driver": "aks", "rdma": False, "tolerations": [], "nodes_drained_at_once": 0}
    with pytest.raises((ComponentInputError, ProgramError), match=r"gpu\.nodes_drained_at_once.*from 1 to 1000"):
        testing.run(lambda: llmplatform.OllamaServer("ollama", {**REQUIRED["OllamaServer"](), "accelerator": "gpu",
                                                                "gpu": gpu}, provider_opts()))
