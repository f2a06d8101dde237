"""A stack whose node drains outlast AKS's longest drain timeout is refused by its own keys (config/loader.py
`_drain_within_aks`), not by AksCluster's `drain_timeout_minutes`, an input the stack's user never writes."""
import pytest

from config.loader import parse_config
from config.reader import ConfigError
from llmplatform.upgrades import DRAIN_TIMEOUT_MAX_MINUTES

from tests.config.test_loader import stack_raw

# 40 vLLM replicas on a regular pool surged whole: all of them may be on the nodes one upgrade drains at once
MANY_VLLM = {"gpu": {"priority": "regular", "maxCount": 40, "upgradeMaxSurge": "100%"}, "llmd": {"maxReplicas": 40}}


def test_a_drain_over_akss_maximum_is_refused_naming_the_stack_keys_of_the_longest():
    with pytest.raises(ConfigError) as refused:
        parse_config(stack_raw("llmd", MANY_VLLM), "p", "llmd")
    [problem] = refused.value.problems
    assert problem.startswith(f"the stack's node drains need 1769 minutes, over the {DRAIN_TIMEOUT_MAX_MINUTES} AKS "
                              "waits at most"), problem
    assert "the longest is vLLM (llmd.model's download; llmd.replicas, llmd.maxReplicas, llmd.tensorParallelSize, " \
           "gpu.upgradeMaxSurge), 40 pod(s) of 130 s" in problem, problem
    assert "AksCluster" not in problem and "drain_timeout_minutes" not in problem, problem


def test_the_same_stack_within_akss_maximum_plans_its_drain():
    cfg = parse_config(stack_raw("llmd", {**MANY_VLLM, "llmd": {"maxReplicas": 20}}), "p", "llmd")
    assert cfg.drain_timeout_minutes <= DRAIN_TIMEOUT_MAX_MINUTES
    assert max(cfg.node_drains, key=lambda n: n[1][1] * n[1][2])[0].startswith("vLLM")
