"""GPU memory as the driver reports it: the catalog held the size pages' marketing GB under `gpu_memory_gib` (a T4's
"16", an H100 NVL's "94"), so every fit check counted memory CUDA never offers (nvidia-smi: 15360 MiB, 95830 MiB).
Each test plants nothing: it plans through `python -m offline.plan` or the components' inputs, and the model
between the two figures is the one the old catalog let through."""
from __future__ import annotations

import math

import pulumi
import pytest
from hypothesis import given, settings, strategies as st

import llmplatform
from llmplatform.checks import ComponentInputError
from llmplatform.gpu_skus import find_gpu_sku
from offline import runner as offline
from tests.components.test_components_alone import REQUIRED, cluster_handle, provider_opts

H100_NVL = "Standard_NC40ads_H100_v5"  # one H100 NVL: "94 GB" on the size page, 95830 MiB in nvidia-smi


def _plan_cli(tmp_path, capsys, stack: str, *sets: str) -> tuple[int, str]:
    from offline import plan as plan_cli
    code = plan_cli.main(["--stack", stack, "--out", str(tmp_path), *[a for s in sets for a in ("--set", s)]])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out + err


def test_the_catalog_holds_what_nvidia_smi_reports_not_the_size_pages_gb():
    reported = {"Standard_NC4as_T4_v3": 15360, "Standard_NV36ads_A10_v5": 23028, "Standard_NC24ads_A100_v4": 81920,
                "Standard_ND96asr_v4": 40960, H100_NVL: 95830, "Standard_ND96isr_H100_v5": 81559}
    for size, mib in reported.items():
        sku = find_gpu_sku(size)
        assert sku is not None and sku.gpu_memory_mib == mib and sku.gpu_memory_gib == mib / 1024


def test_an_llmd_model_that_fits_the_gb_figure_but_not_the_reported_memory_is_refused_naming_it(tmp_path, capsys):
    """70.3 GiB of weights plus 20 % KV headroom is 84.4 GiB: under vLLM's 0.9 of "94 GiB" (84.6), over its 0.9 of
    the 93.58 GiB the driver reports (84.2), where vLLM would start with less KV cache than the check promised."""
    base = [f"gpu.vmSize={H100_NVL}", "llmd.model=acme/private-model", "llmd.maxModelLen=8192"]
    code, out = _plan_cli(tmp_path, capsys, "llmd", *base, "llmd.modelMemoryGib=70.3")
    assert code != 0 and "llmd.model acme/private-model does not fit 1 x 93.58 GiB H100 (" \
                          f"{H100_NVL}: 95830 MiB per GPU as the driver reports it): 70.3 GiB of weights plus 20 % " \
                          "for the KV cache need 84.36 GiB, over the 84.22 GiB vLLM takes of 1 GPU(s)" in out, \
        out[-3000:]
    code, out = _plan_cli(tmp_path, capsys, "llmd", *base, "llmd.modelMemoryGib=70.1")
    assert code == 0, out[-3000:]


@pytest.mark.parametrize("vm_size, weights_gib", [(H100_NVL, 70.187), ("Standard_ND96isr_H100_v5", 59.735)])
def test_the_stack_files_fit_judges_the_memory_the_pools_handle_gives_llmd_stack(tmp_path, capsys, vm_size,
                                                                                weights_gib):
    """The stack file's check counted 95830 MiB as 93.5839 GiB, the handle LlmdStack judges by carries 93.58 (to the
    hundredth, rounded down): a model between the two passed the stack file's check and was refused by LlmdStack,
    in the component's words (`input gpu=...`), after the resources before it were registered."""
    base = [f"gpu.vmSize={vm_size}", "llmd.model=acme/private-model", "llmd.maxModelLen=8192", "llmd.replicas=1",
            "llmd.tensorParallelSize=1"]
    code, out = _plan_cli(tmp_path, capsys, "llmd", *base, f"llmd.modelMemoryGib={weights_gib}")
    assert code != 0 and "llmd.model acme/private-model does not fit 1 x " in out, out[-3000:]
    assert "a component refused its input" not in out and "input gpu=" not in out, out[-3000:]


def test_the_stack_files_prefill_replicas_are_held_to_the_fit_llmd_stack_holds_them_to(tmp_path, capsys):
    """Prefill/decode: LlmdStack refuses prefill replicas too small for the model; the stack file's check did not
    look, so `make plan` stopped in the component's words (`input prefill_tensor_parallel_size=1`) once resources
    were registered. Now the stack file names its key."""
    pd = ["gpu.vmSize=Standard_ND96isr_H100_v5", "gpu.driver=operator", "llmd.prefillDecode=true",
          "llmd.autoscaling=false", "llmd.model=deepseek-ai/DeepSeek-R1-Distill-Llama-70B", "llmd.replicas=1",
          "llmd.prefillReplicas=1", "llmd.tensorParallelSize=4", "gpu.osDiskSizeGb=512"]
    code, out = _plan_cli(tmp_path, capsys, "llmd", *pd, "llmd.prefillTensorParallelSize=1")
    assert code != 0 and "does not fit 1 x 79.64 GiB H100" in out and "raise llmd.prefillTensorParallelSize" in out
    assert "a component refused its input" not in out and "input prefill_tensor_parallel_size=" not in out, out
    code, out = _plan_cli(tmp_path, capsys, "llmd", *pd, "llmd.prefillTensorParallelSize=4")
    assert code == 0, out[-3000:]


def test_ollamas_gpu_fit_counts_the_reported_memory_less_what_its_scheduler_keeps(tmp_path, capsys):
    """dev's T4: 15360 MiB as the driver reports it, less the 457 MiB Ollama's scheduler sets aside per CUDA device,
    is 14.55 GiB; the catalog's "16" let a 15 GiB model through."""
    gpu = ["gpu.enabled=true", "inference.accelerator=gpu", "modelStore.models[1].name=hf.co/acme/model-GGUF:F16"]
    code, out = _plan_cli(tmp_path, capsys, "dev", *gpu, "modelStore.models[1].sizeGib=15")
    assert code != 0 and "modelStore.models ['hf.co/acme/model-GGUF:F16'] do not fit in the 14.55 GiB of GPU " \
                          "memory Ollama may use (1 x T4 of Standard_NC4as_T4_v3: 15360 MiB each as the driver " \
                          "reports it, less the 457 MiB Ollama keeps)" in out, out[-3000:]
    code, out = _plan_cli(tmp_path, capsys, "dev", *gpu, "modelStore.models[1].sizeGib=14.5")
    assert "do not fit in the" not in out, out[-3000:]


def _pool_and_llmd(vm_size: str, weights_gib: float, pool_extra: dict | None = None):
    def program() -> None:
        opts = provider_opts()
        pool = llmplatform.GpuNodePool("gpu", {"cluster": cluster_handle(), "vm_size": vm_size, "driver": "operator",
                                               **(pool_extra or {})}, opts)
        pulumi.export("memory", pool.scheduling["gpu_memory_gib"])
        llmplatform.LlmdStack("llmd", {**REQUIRED["LlmdStack"](), "gpu": pool.scheduling,
                                       "model": "acme/private-model", "model_memory_gib": weights_gib,
                                       "max_model_len": 8192}, opts)
    return program


def test_gpu_node_pools_handle_gives_llmd_stack_the_reported_memory():
    """A component user's LlmdStack on a GpuNodePool's scheduling handle: the same refusal, in the handle's GiB."""
    with pytest.raises(ComponentInputError) as refused:
        offline.run_function(_pool_and_llmd(H100_NVL, 70.3))
    assert "1 x H100 (93.58 GiB each, as the driver reports it)" in str(refused.value)
    plan = offline.run_function(_pool_and_llmd(H100_NVL, 70.1))
    assert plan.outputs["memory"] == 93.58


def test_a_described_size_takes_the_reported_gib_as_a_decimal():
    """`gpu_sku.gpu_memory_gib` of a size the catalog does not list takes a decimal (an A10's 23028 MiB: 22.48); the
    handle carries it, rounded down to the hundredth."""
    described = {"gpu_sku": {"gpu_model": "H100", "gpus": 1, "gpu_memory_gib": 93.58}}
    plan = offline.run_function(_pool_and_llmd("Standard_NCC40ads_H100_v5", 70.1, described))
    assert plan.outputs["memory"] == 93.58
    with pytest.raises(ComponentInputError) as refused:
        offline.run_function(_pool_and_llmd("Standard_NCC40ads_H100_v5", 1.0, {"gpu_sku": {
            "gpu_model": "H100", "gpus": 1, "gpu_memory_gib": 0.5}}))
    assert "gpu_sku.gpu_memory_gib" in str(refused.value) and "nvidia-smi's memory.total (MiB) / 1024" in \
        str(refused.value)


@pytest.mark.parametrize("vm_size, profile, expected", [
    ("Standard_NC24ads_A100_v4", "MIG3g", {"gpus_per_node": 2, "gpu_memory_gib": 40.0}),  # 81920 MiB / 2
    ("Standard_ND96isr_H100_v5", "MIG3g", {"gpus_per_node": 16, "gpu_memory_gib": 39.82}),  # 81559 MiB / 2
    ("Standard_ND96isr_H100_v5", "MIG1g", {"gpus_per_node": 56, "gpu_memory_gib": 9.95}),  # 81559 MiB / 8
])
def test_a_mig_instance_gets_its_eighths_of_the_reported_memory(vm_size, profile, expected):
    def program() -> None:
        pool = llmplatform.GpuNodePool("gpu", {"cluster": cluster_handle(), "vm_size": vm_size,
                                               "mig_profile": profile}, provider_opts())
        pulumi.export("units", {k: pool.scheduling[k] for k in ("gpus_per_node", "gpu_memory_gib")})
    assert offline.run_function(program).outputs["units"] == expected



@pytest.mark.parametrize("component", ["LlmdStack", "InferenceStack"])
@pytest.mark.parametrize("memory", [float("nan"), float("inf"), -1, 0.5, 1e12 + 0.5, True])
@pytest.mark.parametrize("late", [False, True])
def test_a_hand_built_gpu_handles_memory_out_of_range_is_refused_by_name(component, memory, late):
    """A GpuScheduling built by hand (or read from another stack) with a memory no GPU reports: NaN stopped LlmdStack
    with "ValueError: cannot convert float NaN to integer" (or the SDK's "While processing input" when late), -1 GiB
    was refused as the GPU pool not holding the model, and 10^12 GiB, or any value on an Ollama server, was taken."""
    from llmplatform import testing
    from tests.components.test_components_alone import GPU

    def program() -> None:
        args = {**REQUIRED[component](), "gpu": {**GPU, "gpu_memory_gib": pulumi.Output.from_input(memory)
                                                 if late else memory}}
        getattr(llmplatform, component)("g", {**args, **({} if component == "LlmdStack" else
                                                         {"accelerator": "gpu"})}, provider_opts())
    with pytest.raises(testing.ProgramError if late else ComponentInputError) as refused:
        testing.run(program)
    assert str(refused.value) == (
        f"{component} g: gpu.gpu_memory_gib: {memory!r} is invalid; allowed: GiB from 1 to 1024 as the driver "
        "reports them: nvidia-smi's memory.total (MiB) / 1024, e.g. 22.48 for an A10"), str(refused.value)


def test_a_hand_built_gpu_handle_with_a_real_gpus_memory_is_taken():
    from llmplatform import testing
    from tests.components.test_components_alone import GPU

    testing.run(lambda: llmplatform.LlmdStack("g", {**REQUIRED["LlmdStack"](), "gpu": {**GPU, "gpu_memory_gib": 79.64}},
                                              provider_opts()))


def _need_and_room(message: str) -> tuple[float, float]:
    import re
    need, room = re.search(r"need ([0-9.]+) GiB, over the ([0-9.]+) GiB", message).groups()  # type: ignore[union-attr]
    return float(need), float(room)


@pytest.mark.parametrize("weights_gib", [60.01, 60.0001, 60.000000001])
def test_a_fit_refusal_never_reads_as_if_the_model_fitted(weights_gib):
    """60 GiB of weights fill the 72 GiB vLLM takes of an 80 GiB A100 with the 20 % KV headroom. One a hair over read
    "(60.0 GiB of weights plus KV cache) does not fit 1 x 80 GiB A100": the need printed was what fits, and the room it
    missed was not printed at all. The need is now rounded up and the room down, in as many decimals as tell them
    apart: the stack file's check and LlmdStack's rule both."""
    from config.loader import parse_config
    from config.reader import ConfigError
    from tests.config.test_loader import stack_raw
    raw = stack_raw("llmd", {"llmd": {"model": "acme/private-model", "modelMemoryGib": weights_gib,
                                      "maxModelLen": 8192}})
    with pytest.raises(ConfigError, match="llmd.model acme/private-model does not fit 1 x 80 GiB A100") as refused:
        parse_config(raw, "p", "llmd")
    need, room = _need_and_room(str(refused.value))
    assert need > room == 72 and need <= weights_gib * 1.2 + 0.01, str(refused.value)

    def program():
        args = {**REQUIRED["LlmdStack"](), "model": "acme/private-model", "model_memory_gib": weights_gib,
                "max_model_len": 8192}
        llmplatform.LlmdStack("m", args, provider_opts())
    with pytest.raises(ComponentInputError, match=r"input gpu='1 x A100 \(80 GiB each") as refused:
        offline.run_function(program)
    need, room = _need_and_room(str(refused.value))
    assert need > room == 72, str(refused.value)


def _gib(text: str) -> float:
    assert text.endswith(" GiB"), text
    return float(text[:-len(" GiB")])


@settings(max_examples=300, deadline=None)
@given(st.floats(min_value=1e-6, max_value=1e6), st.integers(min_value=1, max_value=4),
       st.sampled_from([0.0, 1e-12, 1e-9, 1e-6, 1e-3]))
def test_fit_figures_never_contradict_the_refusal_at_any_size(room, steps, relative):
    """Every fit refusal's figures (units.fit_texts): the need reads over the room, never below or equal, and neither
    under the need nor over the room (but for float noise, which the rounding drops), from a need a float step over
    the room to one a thousandth over. A need a few steps over a room under ~2 GiB read '1 GiB' and '1 GiB' (nine
    decimals did not tell them apart)."""
    from llmplatform.units import fit_texts
    need = room * (1 + relative)
    for _ in range(steps):
        need = math.nextafter(need, math.inf)
    need_text, room_text = fit_texts(need, room)
    assert _gib(need_text) > _gib(room_text), (need, room, need_text, room_text)
    assert _gib(need_text) >= need - 1e-8 and _gib(room_text) <= room + 1e-8, (need, room, need_text, room_text)
