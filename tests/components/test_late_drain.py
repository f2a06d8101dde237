"""A drain timeout that is an output (another stack's cluster handle) is judged once it resolves: each workload
component with a drain rule waits for `cluster.drain_timeout_minutes` (checks.late_rules) and refuses a grace that
outlasts it as it refuses a plain one, a LateInputError in the same words (docs/decisions.md, "The answer's timeouts
travel with the handles"). Before, such a drain was not judged at all."""
from typing import Any, Callable

import pulumi
import pytest

import llmplatform
from llmplatform import testing
from llmplatform.checks import ComponentInputError
from llmplatform.testing import ProgramError
from tests.components.test_components_alone import KEDA, REQUIRED, cluster_handle, provider_opts


def _message(component: str, given: dict[str, Any], minutes: Callable[[], Any]) -> tuple[type, str]:
    def program() -> None:
        cluster = {**cluster_handle(), "drain_timeout_minutes": minutes()}
        getattr(llmplatform, component)("w", {**REQUIRED[component](), **given, "cluster": cluster}, provider_opts())

    with pytest.raises((ComponentInputError, ProgramError)) as caught:
        testing.run(program)
    return type(caught.value), str(caught.value)


@pytest.mark.parametrize("component, given", [
    ("ApiGate", {"request_timeout_seconds": 1800}),
    ("OllamaServer", {"request_timeout_seconds": 1800}),
    ("OpenWebUi", {"request_timeout_seconds": 3600}),
    ("Observability", {}),
    ("LlmdStack", {"request_timeout_seconds": 30, "_drain": 2}),
    ("InferenceStack", {"keda": KEDA}),
])
def test_a_drain_known_only_at_deploy_time_is_judged_once_it_resolves(component, given):
    """The same refusal as the drain given plainly, named by the same input, once the output resolves."""
    minutes = given.pop("_drain", 30)
    plain_type, plain = _message(component, given, lambda: minutes)
    late_type, late = _message(component, given, lambda: pulumi.Output.from_input(minutes))
    assert plain_type is ComponentInputError and late_type is ProgramError, (plain, late)
    sentence = plain.split(f"{component} w: ", 1)[1].split("; on a cluster of your own")[0]
    assert sentence in late, (plain, late)


def test_a_late_drain_that_fits_plans():
    def program() -> None:
        cluster = {**cluster_handle(), "drain_timeout_minutes": pulumi.Output.from_input(37)}
        llmplatform.ApiGate("w", {**REQUIRED["ApiGate"](), "cluster": cluster}, provider_opts())
    testing.run(program)
