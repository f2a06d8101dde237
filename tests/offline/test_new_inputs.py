"""The inputs added or changed on 2026-12-04 (llm-d's model size, the cluster handle's VNet range, ...), given
wrong values through the entry points users touch: each refusal is one message naming the key or input, the value
and what is allowed, and no second message repeats it in other words."""
from __future__ import annotations

import pytest


def _plan_cli(tmp_path, capsys, stack: str, *sets: str) -> tuple[int, list[str]]:
    """`python -m offline.plan --stack <stack> --set ...`: its exit code and the lines of its refusal."""
    from offline import plan as plan_cli
    code = plan_cli.main(["--stack", stack, "--out", str(tmp_path), *[a for s in sets for a in ("--set", s)]])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, [line.strip() for line in (out + err).splitlines() if line.strip().startswith("- ")]


@pytest.mark.parametrize("given, refusal", [
    ("0", "llmd.modelMemoryGib 0.0 is invalid; allowed: a size in GiB above 0, at most 4096"),
    ("4097", "llmd.modelMemoryGib 4097.0 is invalid; allowed: a size in GiB above 0, at most 4096"),
    ("abc", "llmd.modelMemoryGib must be a finite number, got 'abc'"),
    ("NaN", "llmd.modelMemoryGib must be a finite number, got 'NaN'"),
])
def test_a_refused_llmd_model_size_is_named_once(tmp_path, capsys, given, refusal):
    """A model the built-in list does not know, sized wrong: the size's refusal was followed by "llmd.modelMemoryGib
    is needed" (it was given) or by a fit check of the refused size ("4097.0 GiB ... does not fit")."""
    code, problems = _plan_cli(tmp_path, capsys, "llmd", "llmd.model=acme/private-model", "llmd.maxModelLen=8192",
                               f"llmd.modelMemoryGib={given}")
    assert code != 0 and problems == [f"- {refusal}"], problems


def test_an_unknown_llmd_model_without_a_size_is_still_asked_for_one(tmp_path, capsys):
    code, problems = _plan_cli(tmp_path, capsys, "llmd", "llmd.model=acme/private-model", "llmd.maxModelLen=8192")
    assert code != 0 and len(problems) == 1 and problems[0].startswith(
        "- llmd.modelMemoryGib is needed for 'acme/private-model'"), problems


@pytest.mark.parametrize("given, refusal", [
    ("0", "modelStore.models[1].sizeGib (0) must be the model's download size in GiB, above 0 and at most 4096"),
    ("abc", "modelStore.models[1].sizeGib must be a finite number, got 'abc'"),
    ("1e3", "modelStore.models[1].sizeGib must be a finite number, got '1e3'"),
])
def test_a_refused_model_size_in_the_store_is_named_once(tmp_path, capsys, given, refusal):
    """A model outside the catalogue, its size refused: "... is not in the model catalogue ...; declare its size"
    followed, asking for what the entry gave."""
    code, problems = _plan_cli(tmp_path, capsys, "dev", "modelStore.models[1].name=hf.co/acme/model-GGUF:Q4_K_M",
                               f"modelStore.models[1].sizeGib={given}")
    assert code != 0 and problems == [f"- {refusal}"], problems


def test_a_model_outside_the_catalogue_without_a_size_is_still_asked_for_one(tmp_path, capsys):
    code, problems = _plan_cli(tmp_path, capsys, "dev", "modelStore.models[1]=hf.co/acme/model-GGUF:Q4_K_M")
    assert code != 0 and len(problems) == 1 and "is not in the model catalogue" in problems[0], problems
