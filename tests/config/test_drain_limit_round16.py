"""Mutation round sixteen: the stack's node drains read through the stack file (config/loader.py `_drain_within_aks`,
PlatformConfig's drain properties), at AKS's limit and where Ollama's replicas are the longest drain."""
import pytest

from config.loader import parse_config
from config.reader import ConfigError
from llmplatform.upgrades import DRAIN_TIMEOUT_MAX_MINUTES

from tests.config.test_loader import stack_raw


def _ollama_on_one_node(timeout: int) -> dict:
    """dev (Ollama on the CPU pool, all its replicas on one node) at 79 replicas: each next one evicted once the
    previous one's replacement is Ready (1090 s), so the node's drain is the answer's grace + 78 x 1090 s."""
    return {"gateway": {"requestTimeoutSeconds": timeout}, "autoscaling": {"maxReplicas": 79}}


def test_a_drain_of_exactly_akss_most_is_taken():
    """1030 + 78 x 1090 = 86050 s, 1435 minutes and the margin: 1440, what AKS takes (drainTimeoutInMinutes 1-1440)."""
    cfg = parse_config(stack_raw("dev", _ollama_on_one_node(1000)), "p", "dev")
    assert cfg.drain_timeout_minutes == DRAIN_TIMEOUT_MAX_MINUTES == 1440


def test_a_drain_a_minute_over_names_ollama_its_replicas_and_figures():
    """1081 + 78 x 1090 = 86101 s: 1441 minutes, refused naming the longest drain, Ollama's (not the gate's, whose
    name sorts last, nor the shortest), with its replicas, grace and replacement time."""
    with pytest.raises(ConfigError) as refused:
        parse_config(stack_raw("dev", _ollama_on_one_node(1051)), "p", "dev")
    [problem] = refused.value.problems
    assert problem.startswith("the stack's node drains need 1441 minutes"), problem
    assert ("the longest is Ollama (gateway.requestTimeoutSeconds; its replicas on the nodes drained at once: "
            "inference.replicas, autoscaling.maxReplicas, gpu.upgradeMaxSurge), 79 pod(s) of 1081 s to stop that may "
            "share the nodes drained at once, each next one after a replacement Ready in up to 1090 s") in problem, \
        problem


def test_one_model_server_a_node_waits_no_replacement():
    """prod without the UI and without KEDA: Ollama's pods take the fallback's one A100 a node, so its drain is its
    grace alone (630 s), not a replacement's 1090 s more; the gate's two pods (630 + 60 s) keep AKS's 30 minutes."""
    cfg = parse_config(stack_raw("prod", {"webui": {"enabled": False}, "autoscaling": {"mode": "none"}}), "p", "prod")
    assert cfg.ollama_sharing == 1
    assert cfg.drain_timeout_minutes == 30


def test_llmds_replicas_with_llmd_off_lengthen_no_drain():
    """dev-operator's eight-GPU ND96asr_v4 pool with `llmd.replicas: 8` given while llm-d is off (the advisories name
    the key unread): no vLLM pod runs, so none is drained; the cluster keeps the 37 minutes of its gate's pods (eight
    vLLM replicas on a node would need 130 + 7 x 2710 s, 324 minutes)."""
    from tests.conftest import VARIANTS
    stack, overrides = VARIANTS["dev-operator"]
    cfg = parse_config(stack_raw(stack, {**overrides, "llmd": {"replicas": 8}}), "p", stack)
    assert not cfg.llmd.enabled and cfg.vllm_drains == []
    assert cfg.drain_timeout_minutes == 37


def test_prefill_and_decode_pods_drain_side_by_side_each_under_its_budget():
    """llm-d's prefill/decode variant (an eight-GPU ND96isr_H100_v5, one-GPU decode and prefill replicas) on a regular
    pool, which an upgrade drains (the variant's spot pool is not drained: test_drainpools_spot.py): decode and
    prefill are two Deployments under two budgets, so a node's decode pods wait for one another (two: 130 + 2710 s,
    48 minutes and the margin, 53) and its prefill pod goes beside them, not after them (one, 130 s)."""
    from tests.conftest import VARIANTS
    stack, overrides = VARIANTS["llmd-pd"]
    cfg = parse_config(stack_raw(stack, {**overrides, "gpu": {**overrides["gpu"], "priority": "regular"},
                                         "llmd": {**overrides["llmd"], "replicas": 2}}), "p", stack)
    assert cfg.vllm_drains == [(130, 2, 2710), (130, 1, 2710)]
    assert cfg.drain_timeout_minutes == 53
    one_each = parse_config(stack_raw(stack, {**overrides, "gpu": {**overrides["gpu"], "priority": "regular"}}), "p",
                            stack)
    assert one_each.vllm_drains == [(130, 1, 2710), (130, 1, 2710)]
    assert one_each.drain_timeout_minutes == 37


@pytest.mark.parametrize("timeout, minutes", [(1530, 32), (1531, 33)])
def test_without_keda_the_drains_wait_the_answer_alone(timeout, minutes):
    """prod without KEDA (autoscaling.mode none) and without the UI: no cold start is held, so the gate's pods stop
    within the answer and 30 s (1560 or 1561 s) and the second one's replacement is Ready in 60 s more: 1620 s is 27
    minutes whole, a second more takes 28; with the margin 32 and 33."""
    cfg = parse_config(stack_raw("prod", {"webui": {"enabled": False}, "autoscaling": {"mode": "none"},
                                          "gateway": {"requestTimeoutSeconds": timeout}}), "p", "prod")
    assert cfg.keda_cold_start_seconds == 0
    assert cfg.drain_timeout_minutes == minutes


def test_the_fallbacks_surge_drains_its_model_servers_together():
    """prod's spot A100 pool with its on-demand fallback given gpu.upgradeMaxSurge 2: an upgrade drains two fallback
    nodes at once, so prod's two Ollama replicas (autoscaling.mode none: inference.replicas) one a node share the
    budget, 630 + 1090 = 1720 s: 29 minutes and the margin, 34 (one node at a time kept AKS's 30)."""
    cfg = parse_config(stack_raw("prod", {"webui": {"enabled": False}, "autoscaling": {"mode": "none"},
                                          "gpu": {"upgradeMaxSurge": "2"}}), "p", "prod")
    assert cfg.gpu_nodes_drained_at_once == 2 and cfg.ollama_sharing == 2
    assert cfg.drain_timeout_minutes == 34


def test_an_autoscalers_maximum_given_without_an_autoscaler_adds_no_replica():
    """dev with autoscaling.mode none and `autoscaling.maxReplicas: 20` (unread there): Ollama runs its
    inference.replicas, one, so no replica waits for another's replacement and dev keeps AKS's 30 minutes."""
    cfg = parse_config(stack_raw("dev", {"autoscaling": {"mode": "none", "scaleToZero": False, "minReplicas": 1,
                                                         "maxReplicas": 20}}), "p", "dev")
    assert cfg.most_ollama_replicas == 1
    assert cfg.drain_timeout_minutes == 30


def test_ollama_replicas_on_a_gpu_node_are_its_gpus_over_each_replicas():
    """dev-operator's eight-A100 ND96asr_v4 nodes with Ollama on the GPU at three GPUs a replica and up to 4
    replicas: a node holds 8 // 3 = 2 of them (not 8, 3 or 2.67), 630 + 1090 = 1720 s, within the 37 minutes the
    gate's and the UI's pods need already."""
    from tests.conftest import VARIANTS
    stack, overrides = VARIANTS["dev-operator"]
    cfg = parse_config(stack_raw(stack, {**overrides, "inference": {"accelerator": "gpu", "gpusPerReplica": 3},
                                         "autoscaling": {"maxReplicas": 4}}), "p", stack)
    assert cfg.ollama_sharing == 2
    assert cfg.drain_timeout_minutes == 37


def test_the_vllm_refusal_names_a_replacements_time_to_ready():
    """The 40 vLLM replicas of test_drain_limit: each replacement pulls vLLM's image on a fresh node (its 900 s
    allowance), downloads the model within its startup probe's bound (1800 s) and is Ready a readiness period (10 s)
    later: 2710 s, the figure the refusal names."""
    from tests.config.test_drain_limit import MANY_VLLM
    with pytest.raises(ConfigError) as refused:
        parse_config(stack_raw("llmd", MANY_VLLM), "p", "llmd")
    [problem] = refused.value.problems
    assert "40 pod(s) of 130 s to stop that may share the nodes drained at once, each next one after a replacement " \
           "Ready in up to 2710 s" in problem, problem


def test_vllm_without_its_autoscaler_counts_its_replicas_alone():
    """llm-d without its autoscaler (llmd.autoscaling false: `llmd.maxReplicas: 4` unread) and without P/D, two
    replicas on a regular eight-A100 pool surged two nodes at a time: the two pods may share the drain, no more (not
    the unread maximum's four, nor a prefill pod P/D is off for): 130 + 2710 s, 53 minutes."""
    cfg = parse_config(stack_raw("llmd", {
        "gpu": {"priority": "regular", "upgradeMaxSurge": "2", "vmSize": "Standard_ND96asr_v4"},
        "llmd": {"autoscaling": False, "replicas": 2, "maxReplicas": 4}}), "p", "llmd")
    assert cfg.vllm_drains == [(130, 2, 2710)]
    assert cfg.drain_timeout_minutes == 53
