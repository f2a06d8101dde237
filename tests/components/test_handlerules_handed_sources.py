"""A refusal of a timeout InferenceStack took from its keda handle names where it came from (docs/decisions.md,
"The handles' timeouts reviewed", Left): the handle's field (`keda.cold_start_timeout_seconds`), not the stack's own
input its caller never gave, and the fix (the stack's own timeouts, or Observability's shorter). Observability holds
its two timeouts to the 86400 s an InferenceStack behind it waits at most, so its 86400 + 86400 s is refused where it
is given, not as the stack's "cold_start_timeout_seconds ... at most 0"."""
from typing import Any, Callable

import pulumi
import pytest

import llmplatform
from llmplatform import testing
from llmplatform.checks import ComponentInputError
from llmplatform.testing import ProgramError
from tests.components.test_components_alone import KEDA, REQUIRED, cluster_handle, provider_opts

TOOK_BOTH = ("(not given, this component took request_timeout_seconds and cold_start_timeout_seconds from keda, the "
             "handle's figures: Observability's request_timeout_seconds and cold_start_timeout_seconds, or a "
             "hand-built handle's; give this component its own, or Observability shorter ones)")


def _refusal(program: Callable[[], None]) -> tuple[str, list[str]]:
    with pytest.raises((ComponentInputError, ProgramError)) as caught:
        testing.run(program)
    error = caught.value
    return str(error), [e["property_path"] for e in getattr(error, "errors", None) or []]


def _stack(keda: dict[str, Any], minutes: Any = None, **given: Any) -> Callable[[], None]:
    def program() -> None:
        cluster = cluster_handle() if minutes is None else {
            **cluster_handle(), "drain_timeout_minutes": minutes() if callable(minutes) else minutes}
        llmplatform.InferenceStack("llm", {**REQUIRED["InferenceStack"](), "cluster": cluster, "keda": keda, **given},
                                   provider_opts())
    return program


def _observability(**given: Any) -> Callable[[], None]:
    return lambda: llmplatform.Observability("obs", {**REQUIRED["Observability"](), **given}, provider_opts())


def test_observability_holds_its_two_timeouts_to_what_a_stack_behind_it_waits():
    """86400 + 86400 s planned, and every InferenceStack behind it given no timeouts was refused for them."""
    message, paths = _refusal(_observability(request_timeout_seconds=86400, cold_start_timeout_seconds=86400))
    assert message == ("Observability obs: input cold_start_timeout_seconds=86400 is invalid; allowed: a cold start "
                       "that fits beside request_timeout_seconds: an InferenceStack behind its keda handle takes both "
                       "when not given its own, and its gate waits request_timeout_seconds + "
                       "cold_start_timeout_seconds (86400 + 86400 = 172800 s), at most 86400 s; lower both to at most "
                       "86400 s together"), message
    assert paths == ["cold_start_timeout_seconds"]


def test_observability_names_the_timeout_its_caller_gave():
    """Given the answer's timeout alone (the cold start its default, 1200 s): the answer is named."""
    message, paths = _refusal(_observability(request_timeout_seconds=86000))
    assert paths == ["request_timeout_seconds"] and "allowed: at most 85200: an InferenceStack" in message, message
    testing.run(_observability(request_timeout_seconds=85200))  # the sum at 86400: planned


def test_a_stack_that_took_both_timeouts_is_refused_naming_the_handles_figures():
    """A hand-built keda handle of 86400 + 86400 s (each in range, which its field rules admit), the stack given
    none: refused as the handle's cold start with where the figures came from (before: "input
    cold_start_timeout_seconds=86400 ... at most 0", an input its caller did not give)."""
    message, paths = _refusal(_stack({**KEDA, "request_timeout_seconds": 86400, "cold_start_timeout_seconds": 86400}))
    assert paths == ["keda.cold_start_timeout_seconds"], (paths, message)
    assert message == ("InferenceStack llm: input keda.cold_start_timeout_seconds=86400 is invalid; allowed: a cold "
                       "start that fits beside request_timeout_seconds: with keda the gate waits "
                       "request_timeout_seconds + cold_start_timeout_seconds (86400 + 86400 = 172800 s), at most "
                       f"86400 s; lower both to at most 86400 s together {TOOK_BOTH}"), message
    assert "at most 0" not in message


def test_a_stack_that_gave_one_timeout_is_refused_naming_it_and_where_the_other_came_from():
    message, paths = _refusal(_stack({**KEDA, "request_timeout_seconds": 1000, "cold_start_timeout_seconds": 86000},
                                     request_timeout_seconds=600))
    assert paths == ["request_timeout_seconds"], (paths, message)
    assert ("input request_timeout_seconds=600 is invalid; allowed: at most 400: with keda the gate waits "
            "request_timeout_seconds + cold_start_timeout_seconds (600 + 86000 = 86600 s), at most 86400 s (not "
            "given, this component took cold_start_timeout_seconds from keda") in message, message


HANDED = {**KEDA, "request_timeout_seconds": 1800, "cold_start_timeout_seconds": 1200}
DRAIN_WORDS = ("is invalid; allowed: a value whose pods fit the cluster's drain: the gate's nginx pods take up to 3030 s "
               "to stop")


def test_a_drain_refusal_of_timeouts_taken_from_the_handle_names_the_handles_field():
    """1800 + 1200 s from the handle, a drain of 51 minutes (the gate's two pods need 3090 s): the handle's cold start
    is named, and where both came from (before: `cold_start_timeout_seconds`, which the caller never gave)."""
    message, paths = _refusal(_stack(HANDED, 51))
    assert paths == ["keda.cold_start_timeout_seconds"], (paths, message)
    assert message.startswith(f"InferenceStack llm: input keda.cold_start_timeout_seconds=1200 {DRAIN_WORDS}"), message
    assert message.endswith(TOOK_BOTH), message


def test_the_same_figures_given_are_named_as_the_stacks_own():
    message, paths = _refusal(_stack(HANDED, 51, request_timeout_seconds=1800, cold_start_timeout_seconds=1200))
    assert paths == ["cold_start_timeout_seconds"] and "took" not in message, message
    assert message.startswith(f"InferenceStack llm: input cold_start_timeout_seconds=1200 {DRAIN_WORDS}"), message


def test_a_late_drain_refusal_names_the_handles_field_in_the_same_words():
    """The drain another stack's cluster handle carries (an output): judged once it resolves, by the same rules with
    the same knowledge of what the stack took."""
    plain, _ = _refusal(_stack(HANDED, 51))
    late, _ = _refusal(_stack(HANDED, lambda: pulumi.Output.from_input(51)))
    assert plain.split("InferenceStack llm: ", 1)[1] in late, (plain, late)
