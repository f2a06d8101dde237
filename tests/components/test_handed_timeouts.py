"""The answer's timeouts travel with the handles (docs/decisions.md, "The answer's timeouts travel with the handles"):
Observability's `keda` carries the interceptor's two figures, InferenceStack and OllamaServer take them when not given
their own and hand theirs on in `model_server`, which a ModelAutoscaler takes as its own or refuses shorter ones. A
handle built by hand without them plans as before; one whose figures are outputs is judged once they resolve."""
import re
from typing import Any, Callable

import pulumi
import pytest

import llmplatform
from llmplatform import testing
from llmplatform.checks import ComponentInputError
from llmplatform.testing import ProgramError
from tests.components.test_components_alone import KEDA, REQUIRED, SERVER, cluster_handle, provider_opts

ROUTE = "kubernetes:http.keda.sh/v1beta1:InterceptorRoute"
CONFIG_MAP = "kubernetes:core/v1:ConfigMap"


def _route_timeouts(plan: Any) -> dict[str, str]:
    (route,) = plan.of_type(ROUTE)
    return route.inputs["spec"]["timeouts"]


def _gate_read_timeouts(plan: Any) -> set[str]:
    """The proxy_read_timeout figures of the gate's nginx config (its model location)."""
    found: set[str] = set()
    for cm in plan.of_type(CONFIG_MAP):
        for text in (cm.inputs.get("data") or {}).values():
            found.update(re.findall(r"proxy_read_timeout (\d+)s;", str(text)))
    return found


def _composed(obs_timeout: int, stack: dict[str, Any], autoscaler: dict[str, Any]) -> Callable[[], None]:
    """Observability (KEDA on, the answer's timeout `obs_timeout`), an InferenceStack behind its keda and the
    ModelAutoscaler of its model server, on a hand-built cluster handle without a drain (none judged)."""
    def program() -> None:
        k8s = provider_opts()
        obs = llmplatform.Observability("obs", {**REQUIRED["Observability"](), "request_timeout_seconds": obs_timeout},
                                        k8s)
        inf = llmplatform.InferenceStack("llm", {**REQUIRED["InferenceStack"](), "keda": obs.keda, **stack}, k8s)
        llmplatform.ModelAutoscaler("scale", {"model_server": inf.model_server, "mode": "requests",
                                              "min_replicas": 0, "max_replicas": 2, "keda": obs.keda, **autoscaler},
                                    k8s)
    return program


def test_the_figures_flow_from_observability_to_the_autoscalers_route():
    """Observability's 1800 s answers, nothing else given: the stack's gate waits 1800 + 1200 s (before: its own
    600 + 1200) and the autoscaler's route waits 1800 s for an answer's headers and 3000 s in all (before: 600 and
    1800, cutting the answers the gate waits for)."""
    plan = testing.run(_composed(1800, {}, {}))
    assert _route_timeouts(plan) == {"responseHeader": "1800s", "readiness": "1200s", "request": "3000s"}
    assert "3000" in _gate_read_timeouts(plan), _gate_read_timeouts(plan)


def test_the_stacks_own_figures_reach_the_autoscaler():
    """An InferenceStack given its own (shorter) figures hands them on in `model_server`."""
    plan = testing.run(_composed(1800, {"request_timeout_seconds": 900, "cold_start_timeout_seconds": 600}, {}))
    assert _route_timeouts(plan) == {"responseHeader": "900s", "readiness": "600s", "request": "1500s"}


def _refused(program: Callable[[], None]) -> str:
    with pytest.raises((ComponentInputError, ProgramError)) as caught:
        testing.run(program)
    return str(caught.value)


def test_an_autoscaler_shorter_than_its_server_is_refused_naming_both():
    message = _refused(lambda: llmplatform.ModelAutoscaler("scale", {
        "model_server": {**SERVER, "request_timeout_seconds": 1800, "cold_start_timeout_seconds": 1200},
        "mode": "requests", "min_replicas": 0, "max_replicas": 2, "keda": KEDA, "request_timeout_seconds": 600,
        "cold_start_timeout_seconds": 300}, provider_opts()))
    assert message.startswith("ModelAutoscaler scale: input "), message
    assert ("input request_timeout_seconds=600 is invalid; allowed: at least model_server.request_timeout_seconds "
            "(1800 s), what the model server's clients wait: the InterceptorRoute this autoscaler writes "
            "(responseHeader, the wait for an answer's headers) would cut them at 600 s; leave "
            "request_timeout_seconds out to take the server's, or give at least 1800") in message, message
    assert ("input cold_start_timeout_seconds=300 is invalid; allowed: at least "
            "model_server.cold_start_timeout_seconds (1200 s)") in message, message


def test_a_hand_built_server_handle_without_figures_plans_as_before():
    plan = testing.run(lambda: llmplatform.ModelAutoscaler("scale", {
        "model_server": SERVER, "mode": "requests", "min_replicas": 0, "max_replicas": 2, "keda": KEDA},
        provider_opts()))
    assert _route_timeouts(plan) == {"responseHeader": "600s", "readiness": "1200s", "request": "1800s"}


def test_a_server_figure_known_only_at_deploy_time_is_judged_once_it_resolves():
    """Another stack's model server (an output figure) sets no default: the autoscaler's 600 stands and is refused
    once 1800 resolves, a LateInputError in the same words, with the value to give."""
    message = _refused(lambda: llmplatform.ModelAutoscaler("scale", {
        "model_server": {**SERVER, "request_timeout_seconds": pulumi.Output.from_input(1800)},
        "mode": "requests", "min_replicas": 0, "max_replicas": 2, "keda": KEDA}, provider_opts()))
    assert ("input request_timeout_seconds=600 is invalid; allowed: at least model_server.request_timeout_seconds "
            "(1800 s)") in message, message
    assert "give request_timeout_seconds=1800 (the handle's figure was not known when the autoscaler was built" \
        in message, message


def test_a_stack_waiting_longer_than_the_interceptors_drain_is_refused_naming_both():
    """The interceptor lets the requests in flight run its drainTimeout when one of its pods stops (Observability's
    600 + 1200 s); a gate waiting 1800 + 1200 s had those answers cut then (before: planned, the kit's advice only)."""
    keda = {**KEDA, "request_timeout_seconds": 600, "cold_start_timeout_seconds": 1200}
    message = _refused(lambda: llmplatform.InferenceStack("llm", {
        **REQUIRED["InferenceStack"](), "keda": keda, "request_timeout_seconds": 1800}, provider_opts()))
    assert ("InferenceStack llm: input request_timeout_seconds=1800 is invalid; allowed: at most 600: with keda the "
            "gate waits request_timeout_seconds + cold_start_timeout_seconds (1800 + 1200 = 3000 s), longer than the "
            "KEDA HTTP interceptor lets the requests in flight run when one of its pods stops (its drainTimeout, "
            "keda.request_timeout_seconds + keda.cold_start_timeout_seconds: 600 + 1200 = 1800 s, Observability's two "
            "timeouts)") in message, message
    assert "give Observability request_timeout_seconds=1800 and cold_start_timeout_seconds=1200" in message


def test_a_stack_behind_a_late_keda_is_judged_once_it_resolves():
    message = _refused(lambda: llmplatform.InferenceStack("llm", {
        **REQUIRED["InferenceStack"](), "request_timeout_seconds": 1800, "keda": {
            **KEDA, "request_timeout_seconds": pulumi.Output.from_input(600), "cold_start_timeout_seconds": 1200}},
        provider_opts()))
    assert "input request_timeout_seconds=1800 is invalid; allowed: at most 600: with keda the gate waits" in message


def test_ollama_alone_takes_the_interceptors_answer_and_hands_it_on():
    def program() -> None:
        keda, k8s = {**KEDA, "request_timeout_seconds": 1500, "cold_start_timeout_seconds": 900}, provider_opts()
        server = llmplatform.OllamaServer("ollama", {**REQUIRED["OllamaServer"](), "keda": keda}, k8s)
        llmplatform.ModelAutoscaler("scale", {"model_server": server.model_server, "mode": "requests",
                                              "min_replicas": 0, "max_replicas": 2, "keda": keda}, k8s)
    plan = testing.run(program)
    assert _route_timeouts(plan) == {"responseHeader": "1500s", "readiness": "900s", "request": "2400s"}
    (deployment,) = [d for d in plan.of_type("kubernetes:apps/v1:Deployment") if d.name == "ollama-ollama"]
    assert deployment.inputs["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] == 1530


@pytest.mark.parametrize("field", ["request_timeout_seconds", "cold_start_timeout_seconds"])
def test_a_hand_built_handles_figure_out_of_range_is_refused_as_the_handles(field):
    message = _refused(lambda: llmplatform.ModelAutoscaler("scale", {
        "model_server": {**SERVER, field: 0}, "mode": "requests", "min_replicas": 0, "max_replicas": 2,
        "keda": KEDA}, provider_opts()))
    assert f"model_server.{field}" in message and "from 1 to 86400" in message, message


def test_the_first_drain_refusal_behind_keda_names_the_drain_that_holds_the_ui():
    """Six UI pods behind KEDA, 1800 s answers, on a 36-minute drain: the composite judged the gate's two pods first
    (3030 + 60 s: 57 minutes) and, having refused the cold start's input once, not the UI's; given 57, it then asked
    for 97 (3030 + 5 x 490 s). Now the first refusal names the drain that holds both."""
    stack = {**REQUIRED["InferenceStack"](), "keda": KEDA, "database_url_secret": "db-url", "webui_max_replicas": 6,
             "request_timeout_seconds": 1800, "cluster": {**cluster_handle(), "drain_timeout_minutes": 36}}
    message = _refused(lambda: llmplatform.InferenceStack("llm", stack, provider_opts()))
    assert "the UI's pods take up to 3030 s" in message, message
    assert "drain_timeout_minutes=97 (upgrades.drain_minutes_for(3030, 6, 490))" in message, message
    assert "drain_timeout_minutes=57" not in message, message

    def on_97() -> None:
        k8s = provider_opts()
        inf = llmplatform.InferenceStack("llm", {**stack, "cluster": {**cluster_handle(), "drain_timeout_minutes": 97}},
                                         k8s)
        llmplatform.ModelAutoscaler("scale", {"model_server": inf.model_server, "mode": "requests",
                                              "min_replicas": 0, "max_replicas": 2, "keda": KEDA}, k8s)
    testing.run(on_97)


def test_the_gates_part_rule_no_longer_refuses_first_on_the_answer_alone():
    """2100 s answers behind KEDA on a 36-minute drain, no UI: the gate's part rule (the answer alone: 2130 + 60 s)
    refused first asking for 42 minutes, and kept the composite's rule (3330 + 60 s with the cold start) from running;
    given 42, the caller was refused again, for 62. Now 62 at once."""
    stack = {**REQUIRED["InferenceStack"](), "keda": KEDA, "request_timeout_seconds": 2100,
             "cluster": {**cluster_handle(), "drain_timeout_minutes": 36}}
    message = _refused(lambda: llmplatform.InferenceStack("llm", stack, provider_opts()))
    assert "drain_timeout_minutes=62 (upgrades.drain_minutes_for(3330, 2, 60))" in message, message
    assert "drain_timeout_minutes=42" not in message, message
