"""LlmdStack's autoscaling and prefill/decode inputs, which a stranger saw go unchecked while their switch was off
(docs/decisions.md, "A stranger composes the package, round ten"; fixed in "Component inputs: case, switches, and
the gate's key in your own pod"), through `llmplatform.testing.run`, as a consumer's program runs."""
from typing import Any

import pytest

from llmplatform import ComponentInputError, LlmdStack
from llmplatform.defaults import DEFAULTS
from llmplatform.testing import run

from tests.components.test_components_alone import KEDA, REQUIRED, provider_opts
from tests.conftest import variant


def llmd(**given: Any) -> list[str]:
    """An LlmdStack given `given` over its required inputs, planned as a consumer's program: its warnings."""
    return run(lambda: LlmdStack("llmd", {**REQUIRED["LlmdStack"](), **given}, provider_opts())).warnings


@pytest.mark.parametrize("given, wrong", [
    ({"max_replicas": 0}, "max_replicas=0 is invalid; allowed: a whole number from 1 to 64"),
    ({"min_replicas": -1}, "min_replicas=-1 is invalid; allowed: a whole number from 0 to 64"),
    ({"scale_down_stabilization_seconds": 7200}, "scale_down_stabilization_seconds=7200 is invalid; allowed: a whole "
                                                 "number from 0 to 3600"),
    ({"prefill_replicas": 0}, "prefill_replicas=0 is invalid; allowed: a whole number from 1 to 64"),
    ({"prefill_tensor_parallel_size": 16}, "prefill_tensor_parallel_size=16 is invalid; allowed: a whole number "
                                           "from 1 to 8")])
def test_a_wrong_value_is_refused_whatever_its_switch(given, wrong):
    """Before: read only with `autoscaling` (or `prefill_decode`) on, so `max_replicas` 0 planned with it off."""
    with pytest.raises(ComponentInputError) as error:
        llmd(**given)
    assert wrong in str(error.value)
    assert str(error.value).count("is invalid") == 1  # named once, by its range


def ignored(warnings: list[str]) -> list[str]:
    return [w for w in warnings if "ignored: read only with" in w]


@pytest.mark.parametrize("given, said", [
    ({"max_replicas": 4}, "LlmdStack llmd: max_replicas=4 is ignored: read only with autoscaling true (vLLM runs "
                          "`replicas`, a fixed count)"),
    ({"min_replicas": 0, "scale_up_stabilization_seconds": 60},
     "LlmdStack llmd: min_replicas=0, scale_up_stabilization_seconds=60 are ignored: read only with autoscaling true"),
    ({"prefill_replicas": 2, "prefill_tensor_parallel_size": 2},
     "LlmdStack llmd: prefill_replicas=2, prefill_tensor_parallel_size=2 are ignored: read only with prefill_decode "
     "true (vLLM runs one Deployment)")])
def test_an_input_its_switch_leaves_unread_is_named_as_ignored(given, said):
    """Before: nothing said. Not refused: the llmd stack keeps its autoscaling values while a `--set
    llmd.autoscaling=false` turns prefill/decode on, and hands them to LlmdStack whatever the switch."""
    (warning,) = ignored(llmd(**given))
    assert warning.startswith(said), warning


def test_the_defaults_pass_unsaid_with_the_switches_off_and_every_input_acts_with_them_on():
    """A generated SDK (YAML, TypeScript through the component provider) sends the schema's defaults: not the
    caller's choice, nothing said."""
    assert ignored(llmd(**{key: DEFAULTS["LlmdStack"][key] for key in (
        "min_replicas", "max_replicas", "scale_up_stabilization_seconds", "scale_down_stabilization_seconds",
        "prefill_replicas", "prefill_tensor_parallel_size")}, autoscaling=False, prefill_decode=False)) == []
    assert ignored(llmd(autoscaling=True, keda=KEDA, min_replicas=1, max_replicas=4,
                        scale_up_stabilization_seconds=60)) == []


def test_the_stacks_own_llmd_without_autoscaling_sends_no_ignored_input():
    """The stack program is a consumer too: with `llmd.autoscaling` false (llmd-pd, as Pulumi.llmd.yaml's comment
    turns prefill/decode on) it sent the autoscaling keys' values anyway, and its plan warned in component input
    names the user never typed; the stack's own advisory names the keys (config/inputs.py `llmd_args`)."""
    plan = variant("llmd-pd")
    assert not ignored(plan.warnings), plan.warnings
