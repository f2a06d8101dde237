"""Whole numbers written as floats in a Python program (1800.0 for a handle's `request_timeout_seconds`, 30.0 for a
cluster handle's `drain_timeout_minutes`, an input's 600.0) are read as the whole numbers they are, as the shape check
admits them (another language's numbers arrive as doubles) and as the late checks read an output's (8080.0 -> 8080):
taken as defaults, judged by the rules and written as ints. Before, a hand-built handle's float passed the shape
check and was then neither taken nor judged: the default stood and a drain it broke planned."""
from typing import Any, Callable

import pytest

import llmplatform
from llmplatform import testing
from llmplatform.checks import ComponentInputError
from llmplatform.testing import ProgramError
from tests.components.test_components_alone import KEDA, REQUIRED, cluster_handle, provider_opts
from tests.components.test_handed_timeouts import _gate_read_timeouts, _route_timeouts


def _stack(keda: dict[str, Any], **stack: Any) -> Callable[[], None]:
    def program() -> None:
        k8s = provider_opts()
        inf = llmplatform.InferenceStack("llm", {**REQUIRED["InferenceStack"](), "keda": keda, **stack}, k8s)
        llmplatform.ModelAutoscaler("scale", {"model_server": inf.model_server, "mode": "requests",
                                              "min_replicas": 0, "max_replicas": 2, "keda": keda}, k8s)
    return program


def _refused(program: Callable[[], None]) -> str:
    with pytest.raises((ComponentInputError, ProgramError)) as caught:
        testing.run(program)
    return str(caught.value)


def test_a_hand_built_keda_handles_float_figures_are_taken_as_the_whole_numbers_they_are():
    """1800.0 and 1200.0: the stack's gate waits 3000 s and the autoscaler's route 1800/1200 s, as with 1800 and
    1200 (before: the stack's own 600 + 1200 stood, the route 600-based)."""
    whole = testing.run(_stack({**KEDA, "request_timeout_seconds": 1800, "cold_start_timeout_seconds": 1200}))
    floats = testing.run(_stack({**KEDA, "request_timeout_seconds": 1800.0, "cold_start_timeout_seconds": 1200.0}))
    assert _route_timeouts(floats) == _route_timeouts(whole) == {"responseHeader": "1800s", "readiness": "1200s",
                                                                 "request": "3000s"}
    assert "3000" in _gate_read_timeouts(floats)


def test_a_hand_built_handles_float_figure_out_of_range_is_refused_as_the_handles_field():
    message = _refused(_stack({**KEDA, "request_timeout_seconds": 0.0, "cold_start_timeout_seconds": 1200.0}))
    assert "keda.request_timeout_seconds: 0 is invalid; allowed: a whole number of seconds from 1 to 86400" in \
        message, message


def test_a_float_drain_is_judged_as_the_whole_number_it_is():
    """A cluster handle's drain of 30.0 minutes under an ApiGate whose answers run 3000 s: refused as with 30."""
    def program(minutes: Any) -> Callable[[], None]:
        return lambda: llmplatform.ApiGate("w", {**REQUIRED["ApiGate"](), "request_timeout_seconds": 3000,
                                                 "cluster": {**cluster_handle(), "drain_timeout_minutes": minutes}},
                                           provider_opts())
    assert _refused(program(30.0)) == _refused(program(30))
    assert "longer than the 30 minutes (1800 s) cluster.drain_timeout_minutes gives" in _refused(program(30.0))


def test_an_inputs_float_is_read_as_its_whole_number_and_a_fraction_is_refused():
    """An input's 900.0 plans as 900 (before: refused "a whole number from 1 to 86400", the number it is); 900.5 is
    no whole number."""
    whole = testing.run(_stack(KEDA, request_timeout_seconds=900, cold_start_timeout_seconds=600))
    floats = testing.run(_stack(KEDA, request_timeout_seconds=900.0, cold_start_timeout_seconds=600.0))
    assert _route_timeouts(floats) == _route_timeouts(whole) == {"responseHeader": "900s", "readiness": "600s",
                                                                 "request": "1500s"}
    assert "input request_timeout_seconds=900.5 is invalid; allowed: a whole number from 1 to 86400" in \
        _refused(_stack(KEDA, request_timeout_seconds=900.5))
