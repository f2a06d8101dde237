"""The handles' timeouts reviewed (docs/decisions.md, "The handles' timeouts reviewed"): a hand-built keda handle's
figure out of range is refused as the handle's field (a second "KedaEndpoints" key in checks/shapes.py's
HANDLE_VALUE_RULES had dropped its rule), and InferenceStack's refusal of a gate that outlasts the interceptor's
drain never asks for a figure below 1, nor tells a caller who gave no timeouts to leave them out."""
import ast
import pathlib
from typing import Any, Callable

import pulumi
import pytest

import llmplatform
from llmplatform import testing
from llmplatform.checks import ComponentInputError
from llmplatform.testing import ProgramError
from tests.components.test_components_alone import KEDA, REQUIRED, provider_opts

PACKAGE = pathlib.Path(llmplatform.__file__).parent


def test_no_dict_literal_in_the_package_repeats_a_key():
    """A dict literal that names a key twice keeps the last value alone (Python raises nothing): HANDLE_VALUE_RULES
    held "KedaEndpoints" twice, and the keda handle's timeout rules were lost."""
    repeated = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Dict):
                keys = [k.value for k in node.keys if isinstance(k, ast.Constant)]
                repeated += [f"{path.relative_to(PACKAGE)}:{node.lineno} {k!r}" for k in set(keys)
                             if keys.count(k) > 1]
    assert not repeated, repeated


def _outcome(program: Callable[[], None]) -> tuple[str, Any]:
    try:
        testing.run(program)
    except (ComponentInputError, ProgramError) as error:
        return str(error), type(error)
    return "", None


def _stack_behind(keda: Callable[[], Any], **inputs: Any) -> Callable[[], None]:
    """An InferenceStack behind `keda` (built inside the run) and the ModelAutoscaler of its model server."""
    def program() -> None:
        k8s = provider_opts()
        handle = keda()
        inf = llmplatform.InferenceStack("llm", {**REQUIRED["InferenceStack"](), "keda": handle, **inputs}, k8s)
        llmplatform.ModelAutoscaler("scale", {"model_server": inf.model_server, "mode": "requests",
                                              "min_replicas": 0, "max_replicas": 2, "keda": KEDA}, k8s)
    return program


@pytest.mark.parametrize("late", [False, True])
@pytest.mark.parametrize("field", ["request_timeout_seconds", "cold_start_timeout_seconds"])
@pytest.mark.parametrize("value", [0, -5, 10 ** 12])
def test_a_hand_built_keda_handles_figure_out_of_range_is_refused_as_the_handles_alone(value, field, late):
    """Before: -5 was refused as InferenceStack's own timeout, "at most -5", 0 as "at most 0", and 10^12 planned."""
    figures = {"request_timeout_seconds": 600, "cold_start_timeout_seconds": 1200, field: value}
    message, kind = _outcome(_stack_behind(lambda: {
        **KEDA, **{k: pulumi.Output.from_input(v) if late and k == field else v for k, v in figures.items()}}))
    assert message == (f"InferenceStack llm: keda.{field}: {value} is invalid; allowed: a whole number of seconds "
                       "from 1 to 86400 (Observability's, InferenceStack's own range), or leave it out"), message
    assert kind is (ProgramError if late else ComponentInputError)


def _drain_refusal(keda: dict[str, Any], **inputs: Any) -> str:
    message, kind = _outcome(_stack_behind(lambda: {**KEDA, **keda}, **inputs))
    assert kind is ComponentInputError, message
    return message


def test_the_input_named_takes_the_excess_alone():
    """A gate waiting 700 + 5000 s behind an interceptor draining 600 + 1200 s: the answer is longer than the
    handle's, but no answer fits beside a cold start of 5000 s. Before: "request_timeout_seconds=700 ... at most
    -3200"; now the cold start, at most 1100 (700 + 1100 = 1800)."""
    message = _drain_refusal({"request_timeout_seconds": 600, "cold_start_timeout_seconds": 1200},
                             request_timeout_seconds=700, cold_start_timeout_seconds=5000)
    assert "input cold_start_timeout_seconds=5000 is invalid; allowed: at most 1100: with keda the gate waits" \
        in message, message
    assert "at most -" not in message, message


def test_when_neither_input_alone_fits_both_are_named_at_the_handles_figures():
    """Before: "request_timeout_seconds=1000 ... at most -900"."""
    message = _drain_refusal({"request_timeout_seconds": 50, "cold_start_timeout_seconds": 50},
                             request_timeout_seconds=1000, cold_start_timeout_seconds=1000)
    assert ("input request_timeout_seconds=1000 is invalid; allowed: at most 50, and cold_start_timeout_seconds at "
            "most 50 (neither alone fits): with keda the gate waits") in message, message
    assert "at most -" not in message, message


def test_a_late_keda_below_the_stacks_defaults_asks_for_the_handles_figures():
    """Another stack's Observability at 300 + 300 s (output figures set no default): the stack's own 600 + 1200 s
    stood and are refused once they resolve, a LateInputError with no traceback. Before, it asked for "at most -600"
    and told a caller who gave no timeouts to leave them out."""
    message, kind = _outcome(_stack_behind(lambda: pulumi.Output.from_input(
        {**KEDA, "request_timeout_seconds": 300, "cold_start_timeout_seconds": 300})))
    assert kind is ProgramError and "Traceback" not in message and "While processing" not in message, message
    assert message.startswith("InferenceStack llm: input request_timeout_seconds=600 is invalid; allowed: at most "
                              "300, and cold_start_timeout_seconds at most 300 (neither alone fits)"), message
    assert message.endswith("give this component request_timeout_seconds=300 and cold_start_timeout_seconds=300 (the "
                            "handle's figures were not known when it was built, so its defaults stood), or give "
                            "Observability request_timeout_seconds=600 and cold_start_timeout_seconds=1200"), message


def test_the_handles_figures_given_to_the_stack_plan_with_the_late_handle():
    """The fix the late refusal names plans."""
    assert _outcome(_stack_behind(lambda: pulumi.Output.from_input(
        {**KEDA, "request_timeout_seconds": 300, "cold_start_timeout_seconds": 300}),
        request_timeout_seconds=300, cold_start_timeout_seconds=300)) == ("", None)
