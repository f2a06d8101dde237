"""The stack's drain counts only the pods a drain of the cluster's pools waits for one after another: AKS upgrades a
spot pool with "a cordon and an eviction notice, but no drain" (MicrosoftDocs/azure-aks-docs fb060abe
articles/aks/spot-node-pool.md, "Upgrade a Spot node pool"), so llm-d's vLLM pods on a spot GPU pool without an
on-demand fallback count their grace alone (the autoscaler's scale-down, which the same minutes bound); Ollama on a
spot GPU pool stays counted, as OllamaServer's own rule counts it (docs/decisions.md, "Spot pools' pods in the
stack's drain")."""
from config.loader import parse_config
from llmplatform.input_rules.model_server import ollama_server
from tests.conftest import VARIANTS
from tests.config.test_loader import stack_raw


def test_vllm_pods_on_a_spot_pool_alone_count_their_grace_alone():
    """llmd-pd: the ND96isr H100 pool is spot with no fallback, so no upgrade drains its decode and prefill pods one
    after another (130 + 2710 s, 53 minutes, before); the cluster keeps its gate's 37 minutes, which the vLLM grace,
    130 s, fits in a scale-down."""
    stack, overrides = VARIANTS["llmd-pd"]
    cfg = parse_config(stack_raw(stack, overrides), "p", stack)
    assert cfg.gpu.priority == "spot" and not cfg.gpu.fallback.enabled
    assert cfg.vllm_drains == [(130, 1, 0), (130, 1, 0)]
    assert cfg.drain_timeout_minutes == 37


def test_an_on_demand_pool_drains_the_vllm_pods_one_after_another():
    """The same pods where an upgrade drains them, on the spot pool's on-demand fallback (a regular pool:
    test_drain_limit_round16.py), with two decode replicas: both may be on one node and the second goes once the
    first one's replacement is Ready, 130 + 2710 s, 53 minutes (the prefill pod, under its own budget, beside them)."""
    stack, overrides = VARIANTS["llmd-pd"]
    cfg = parse_config(stack_raw(stack, {**overrides, "gpu": {**overrides["gpu"], "fallback": {"enabled": True,
                                                                                               "maxCount": 1}},
                                         "llmd": {**overrides["llmd"], "replicas": 2}}), "p", stack)
    assert cfg.gpu_drained_pools == [1]
    assert cfg.vllm_drains == [(130, 2, 2710), (130, 1, 2710)]
    assert cfg.drain_timeout_minutes == 53


def test_ollama_on_a_spot_gpu_pool_stays_counted_as_its_rule_counts_it():
    """dev with four Ollama replicas on its spot T4 pool of four GPUs a node (no fallback): no upgrade drains them,
    but OllamaServer's rule counts the four a node holds against the cluster handle's drain (the GPU handle does not
    say the pool is spot), so the stack gives the 70 minutes the rule asks for; the gate's 37 would be refused."""
    cfg = parse_config(stack_raw("dev", {"gpu": {"vmSize": "Standard_NC64as_T4_v3", "maxCount": 2},
                                         "inference": {"accelerator": "gpu", "replicas": 4},
                                         "autoscaling": {"mode": "none", "scaleToZero": False, "minReplicas": 1}}),
                       "p", "dev")
    assert cfg.gpu_drained_pools == [] and cfg.ollama_sharing == 4
    assert cfg.drain_timeout_minutes == 70

    def refused(minutes: int) -> list[str]:
        args = {"accelerator": "gpu", "replicas": 4, "gpus_per_replica": 1,
                "request_timeout_seconds": cfg.gateway.request_timeout_seconds,
                "gpu": {"gpus_per_node": 4, "nodes_drained_at_once": cfg.gpu_nodes_drained_at_once},
                "cluster": {"drain_timeout_minutes": minutes}}
        return [p.path for p in ollama_server(args)]
    assert refused(cfg.drain_timeout_minutes) == []
    assert refused(37) == ["request_timeout_seconds"]
