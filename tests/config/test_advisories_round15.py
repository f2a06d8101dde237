"""Mutation round fifteen (docs/decisions.md, "Mutation round fifteen: the UI's connection budget, PostgreSQL
spellings, advisories"): what its survivors showed no test read in config/advisories.py's lines on settings nothing
reads, through the stack file (`parse_config`) and `advisories`, as `make plan` shows them."""
import pytest

from config.advisories import advisories
from config.sections.autoscaling import AutoscalingConfig
from config.loader import parse_config

from tests.config.test_loader import stack_raw

UNREAD = "so nothing reads"
# llmd's own stack file with its autoscaling keys at the defaults: the switch's line then names the key under test alone
LLMD_AT_DEFAULTS = {"minReplicas": 1, "maxReplicas": 2, "scaleUpStabilizationSeconds": 300,
                    "scaleDownStabilizationSeconds": 300}
# prefill/decode on an InfiniBand size (tests/conftest.py "llmd-pd"), autoscaling off as that case has it
PREFILL_ON = {"gpu": {"vmSize": "Standard_ND96isr_H100_v5"}, "llmd": {"prefillDecode": True, "autoscaling": False}}


def _unread_lines(stack: str, overrides: dict) -> list[str]:
    return [a for a in advisories(parse_config(stack_raw(stack, overrides), "p", stack)) if UNREAD in a]


@pytest.mark.parametrize("key, value", [("minReplicas", 0), ("maxReplicas", 1), ("scaleUpStabilizationSeconds", 120),
                                        ("scaleDownStabilizationSeconds", 900)])
def test_each_autoscaling_key_of_llmd_given_with_its_switch_off_is_named_alone(key, value):
    """Each of the four keys `llmd.autoscaling` alone reads (config/inputs.py `llmd_args`), given with the switch off:
    one line naming it and nothing else (a key dropped from the list was said by nothing; the line's other keys,
    llmd.replicas and the model, are read)."""
    lines = _unread_lines("llmd", {"llmd": {**LLMD_AT_DEFAULTS, "autoscaling": False, key: value}})
    assert lines == [f"llmd.{key} set but llmd.autoscaling is false: vLLM runs llmd.replicas, a fixed count, so "
                     f"nothing reads it; set llmd.autoscaling, or remove it"], lines
    assert _unread_lines("llmd", {"llmd": {**LLMD_AT_DEFAULTS, "autoscaling": True, key: value}}) == []


@pytest.mark.parametrize("key, value", [("prefillReplicas", 2), ("prefillTensorParallelSize", 2)])
def test_each_prefill_key_given_with_prefill_decode_off_is_named_alone(key, value):
    lines = _unread_lines("llmd", {"llmd": {**LLMD_AT_DEFAULTS, key: value}})
    assert lines == [f"llmd.{key} set but llmd.prefillDecode is false: vLLM runs one Deployment, so nothing reads "
                     f"it; set llmd.prefillDecode, or remove it"], lines
    on = {**PREFILL_ON, "llmd": {**LLMD_AT_DEFAULTS, **PREFILL_ON["llmd"], key: value}}
    assert _unread_lines("llmd", on) == []


def test_both_switches_off_give_one_line_each_in_the_plural():
    lines = _unread_lines("llmd", {"llmd": {**LLMD_AT_DEFAULTS, "autoscaling": False, "maxReplicas": 1,
                                            "minReplicas": 0, "prefillReplicas": 2, "prefillTensorParallelSize": 2}})
    assert lines == [
        "llmd.minReplicas, llmd.maxReplicas set but llmd.autoscaling is false: vLLM runs llmd.replicas, a fixed "
        "count, so nothing reads them; set llmd.autoscaling, or remove them",
        "llmd.prefillReplicas, llmd.prefillTensorParallelSize set but llmd.prefillDecode is false: vLLM runs one "
        "Deployment, so nothing reads them; set llmd.prefillDecode, or remove them"], lines


def test_llmds_switched_keys_with_llmd_off_are_told_once_by_the_enabled_line():
    """With llm-d off, llmd.enabled's line names every llmd key given; the switches' lines add no second one."""
    lines = _unread_lines("prod-westeurope", {"llmd": {"maxReplicas": 4, "prefillReplicas": 2}})
    assert lines == ["llmd.prefillReplicas, llmd.maxReplicas set but llmd.enabled is false: no llm-d is deployed, so "
                     "nothing reads them; set llmd.enabled, or remove them"], lines


def _drains(stack: str, overrides: dict) -> list[str]:
    return [a for a in advisories(parse_config(stack_raw(stack, overrides), "p", stack))
            if a.startswith("gpu.upgradeMaxSurge is unset")]


def test_an_in_place_drain_names_no_vllm_where_llm_d_is_off():
    """prod's on-demand fallback of two-GPU nodes, one Ollama replica a node (gpusPerReplica 2): nothing to say,
    whatever llmd.replicas says while llm-d is off (a vLLM that is not deployed would be told to stall the drain)."""
    two_gpus = {"gpu": {"vmSize": "Standard_NC48ads_A100_v4"}, "inference": {"gpusPerReplica": 2}}
    assert _drains("prod", {**two_gpus, "llmd": {"replicas": 2}}) == []


def _autoscaling_line(stack: str, autoscaling: dict) -> str:
    cfg = parse_config(stack_raw(stack, {"autoscaling": autoscaling}), "p", stack)
    [line] = [a for a in advisories(cfg) if "which does not read" in a]
    return line


def test_the_gpu_remark_is_requests_modes_alone():
    """"on a GPU" explains why requests mode leaves cpuTargetPercent unread there; `none` reads it nowhere, so a
    stack on a GPU in `none` is not told it is about the GPU."""
    line = _autoscaling_line("prod", {"mode": "none", "cpuTargetPercent": 50})
    assert "autoscaling.cpuTargetPercent" in line and "set but autoscaling.mode is 'none', which" in line, line
    assert "on a GPU" not in line, line


def test_the_interceptor_remark_needs_interceptor_replicas_among_the_keys_named():
    """dev in cpu mode given autoscaling.targetInFlight: the line names that key, not the interceptor's modes."""
    line = _autoscaling_line("dev", {"mode": "cpu", "minReplicas": 1, "scaleToZero": False, "targetInFlight": 3,
                                     "interceptorReplicas": AutoscalingConfig().interceptor_replicas})
    assert line.startswith("autoscaling.targetInFlight set but autoscaling.mode is 'cpu'"), line
    assert "interceptor" not in line, line


TWO_GPUS_REGULAR = {"vmSize": "Standard_NC48ads_A100_v4", "priority": "regular"}  # two 1-GPU replicas a node


def test_an_in_place_drain_counts_the_autoscalers_maximum_only_where_an_autoscaler_runs():
    """Ollama in `none` runs inference.replicas (one here) whatever autoscaling.maxReplicas says; vLLM without
    llmd.autoscaling runs llmd.replicas, with it up to llmd.maxReplicas: one replica a server has no second to stall
    the drain, two do."""
    ollama = {"gpu": TWO_GPUS_REGULAR, "inference": {"accelerator": "gpu", "replicas": 1},
              "autoscaling": {"mode": "none", "minReplicas": 1, "maxReplicas": 2, "scaleToZero": False}}
    assert _drains("dev", ollama) == []
    fixed = {"gpu": TWO_GPUS_REGULAR, "llmd": {**LLMD_AT_DEFAULTS, "autoscaling": False, "replicas": 1}}
    assert _drains("llmd", fixed) == []
    [scaled] = _drains("llmd", {"gpu": TWO_GPUS_REGULAR, "llmd": {**LLMD_AT_DEFAULTS, "autoscaling": True,
                                                                  "replicas": 1}})
    assert "holds up to 2 vLLM replicas of 1 GPU(s) (llmd.tensorParallelSize)" in scaled, scaled


def test_an_in_place_drain_names_prefill_and_decode_replicas_that_share_a_node():
    """Prefill/decode runs two Deployments of fixed replicas, each with its own budget of one (kube.py
    `disruption_budget`) and no spread: two of either on one node of a regular pool upgraded in place stall its
    drain as vLLM's single Deployment would. Before: the advisory skipped prefill/decode (round fifteen's adv 39)."""
    regular = {**PREFILL_ON["gpu"], "priority": "regular", "maxCount": 4}
    four = {"tensorParallelSize": 4, "prefillTensorParallelSize": 4}  # two pods of each on an 8-GPU node
    lines = _drains("llmd", {"gpu": regular, "llmd": {**PREFILL_ON["llmd"], **four, "replicas": 2,
                                                       "prefillReplicas": 2}})
    assert [("vLLM decode" in a, "vLLM prefill" in a) for a in lines] == [(True, False), (False, True)], lines
    assert "2 vLLM decode replicas of 4 GPU(s) (llmd.tensorParallelSize)" in lines[0], lines
    assert "2 vLLM prefill replicas of 4 GPU(s) (llmd.prefillTensorParallelSize)" in lines[1], lines
    # one pod of each a node (8 GPUs each), or one replica of each: nothing to say
    eight = {"tensorParallelSize": 8, "prefillTensorParallelSize": 8}
    assert _drains("llmd", {"gpu": regular, "llmd": {**PREFILL_ON["llmd"], **eight, "replicas": 2,
                                                      "prefillReplicas": 2}}) == []
    assert _drains("llmd", {"gpu": regular, "llmd": {**PREFILL_ON["llmd"], **four, "replicas": 1,
                                                      "prefillReplicas": 1}}) == []
