"""Node drains for the package's consumers: AksCluster's default drain timeout is what the workloads need with their
own defaults, and each workload given a cluster handle whose drain_timeout_minutes is a plain value refuses a grace
that outlasts it, naming both inputs, both figures and the fix, before anything registers (docs/decisions.md "Node
drains reviewed, and the package's consumers covered")."""
import re
from typing import Any

import pytest

import llmplatform
from llmplatform import testing
from llmplatform.checks import ComponentInputError
from offline.deploy_model.node_drains import check_node_drains
from tests.components.test_azaudit_put_rules import aks_args
from tests.components.test_components_alone import REQUIRED, cluster_handle, provider_opts
from tests.components.test_stranger4_consumer import platform, store

POOL = "azure-native:containerservice:AgentPool"
CLUSTER = "azure-native:containerservice:ManagedCluster"


def _defaults_composed() -> None:
    """A stranger's program with every default: AksCluster, Observability (KEDA and its HTTP add-on on), an
    InferenceStack behind KEDA (its gate waits the cold start too) and the ModelAutoscaler that declares its route."""
    aks, k8s, vault = platform()
    obs = llmplatform.Observability("obs", {"cluster": aks.cluster, "key_vault": vault.vault, "app_namespace": "acme"},
                                    k8s)
    stack = llmplatform.InferenceStack("llm", {"cluster": aks.cluster, "key_vault": vault.vault, "keda": obs.keda,
                                               "model_volume": store(aks, k8s).volume}, k8s)
    llmplatform.ModelAutoscaler("scale", {"model_server": stack.model_server, "mode": "requests", "min_replicas": 0,
                                          "max_replicas": 2, "keda": obs.keda}, k8s)


def test_the_defaults_composed_drain_whole():
    """The interceptor holds a request through a cold start and its answer (600 + 1200 s), the gate waits as long, and
    both take 1830 s to stop; the gate's two nginx pods may share a node, the second evicted once the first one's
    replacement is Ready (up to 60 s): AksCluster's default waits 37 minutes per node (AKS's 30 failed the upgrade of
    their node) and gives a scale-down 2220 s (AKS's 600 cut them), and the plan check finds no pod outlasting a
    drain."""
    plan = testing.run(_defaults_composed)
    (pool,) = plan.of_type(POOL)
    assert pool.inputs["upgradeSettings"] == {"drainTimeoutInMinutes": 37}
    (cluster,) = plan.of_type(CLUSTER)
    assert cluster.inputs["autoScalerProfile"]["maxGracefulTerminationSec"] == "2220"
    assert [p.message for p in check_node_drains(plan)] == []


def _refusal(component: str, args: dict[str, Any]) -> str:
    def program() -> None:
        getattr(llmplatform, component)("w", args, provider_opts())

    with pytest.raises(ComponentInputError) as caught:
        testing.run(program)
    return str(caught.value)


def _on(minutes: Any, **args: Any) -> dict[str, Any]:
    return {**args, "cluster": {**cluster_handle(), "drain_timeout_minutes": minutes}}


OUTLASTS = ("take up to {grace} s to stop ({spent}, their terminationGracePeriodSeconds), longer than the 30 minutes "
            "(1800 s) cluster.drain_timeout_minutes gives a drain of their node (an upgrade then fails; a scale-down "
            "kills them at 1800 s, their answers cut)")
# the gate's two nginx pods on one node: the second goes once the first one's replacement is Ready (60 s)
GATES = ("take up to 1830 s to stop ({spent}, their terminationGracePeriodSeconds); up to 2 of them may share a node "
         "and its drain evicts each next one only once the previous one's replacement is Ready (up to 60 s: image pull "
         "and probes), so the node's drain takes up to 1890 s, longer than the 30 minutes (1800 s) "
         "cluster.drain_timeout_minutes gives a drain of their node (an upgrade then fails; a scale-down kills them at "
         "1800 s, their answers cut)")


@pytest.mark.parametrize("component, given, refused", [
    ("ApiGate", {"request_timeout_seconds": 1800},
     "input request_timeout_seconds=1800 is invalid; allowed: a value whose pods fit the cluster's drain: the gate's "
     "nginx pods " + GATES.format(spent="request_timeout_seconds + 30 s") + "; lower "
     "request_timeout_seconds to at most 1710, or give the AksCluster drain_timeout_minutes=37 "
     "(upgrades.drain_minutes_for(1830, 2, 60))"),
    ("OllamaServer", {"request_timeout_seconds": 1800},
     "input request_timeout_seconds=1800 is invalid; allowed: a value whose pods fit the cluster's drain: the model "
     "server's pods " + OUTLASTS.format(grace=1830, spent="request_timeout_seconds + 30 s")),
    ("OpenWebUi", {"request_timeout_seconds": 3600},
     "input request_timeout_seconds=3600 is invalid; allowed: a value whose pods fit the cluster's drain: the UI's "
     "pods " + OUTLASTS.format(grace=3585, spent="request_timeout_seconds (at most 3555) + 30 s") + "; lower "
     "request_timeout_seconds to at most 1770, "),
    # behind KEDA the gate waits the cold start too: InferenceStack's defaults (600 + 1200 s) outlast AKS's 30
    ("InferenceStack", {"keda": {"namespace": "keda", "interceptor_host": "interceptor", "interceptor_port": 8080,
                                 "external_scaler": "scaler:9090", "prometheus_url": "http://prometheus:9090"}},
     "input cold_start_timeout_seconds=1200 is invalid; allowed: a value whose pods fit the cluster's drain: the "
     "gate's nginx pods " + GATES.format(spent="request_timeout_seconds + cold_start_timeout_seconds + 30 s with keda")
     + "; lower cold_start_timeout_seconds to at most 1110, or give the AksCluster drain_timeout_minutes=37 "
     "(upgrades.drain_minutes_for(1830, 2, 60))"),
    ("Observability", {},
     "input request_timeout_seconds=600 is invalid; allowed: a value whose pods fit the cluster's drain: the KEDA "
     "HTTP interceptor's pods " + OUTLASTS.format(
         grace=1830, spent="request_timeout_seconds + cold_start_timeout_seconds + 30 s")),
])
def test_a_workload_whose_grace_outlasts_the_clusters_drain_is_refused_by_name(component, given, refused):
    message = _refusal(component, _on(30, **{**REQUIRED[component](), **given}))
    assert refused in message, message
    assert message.startswith(f"{component} w: input ")


def test_a_fixed_grace_names_the_drain_to_raise():
    """Prometheus's 600 s (prometheus-operator's default) and vLLM's 130 s are no input of theirs: the drain is
    named."""
    assert ("input cluster.drain_timeout_minutes=5 is invalid; allowed: a drain Prometheus's pods fit in: Prometheus's "
            "pods take up to 600 s to stop (prometheus-operator's default, their terminationGracePeriodSeconds)"
            ) in _refusal("Observability", _on(5, **REQUIRED["Observability"](), keda=False))
    message = _refusal("LlmdStack", _on(2, **REQUIRED["LlmdStack"](), request_timeout_seconds=30))
    assert re.search(r"input cluster\.drain_timeout_minutes=2 is invalid; allowed: a drain the vLLM pods fit in: .*"
                     r"give the AksCluster drain_timeout_minutes=30 ", message), message
    assert "request_timeout_seconds" not in message  # the gate's two pods, 60 s + a 60 s replacement, fit 120 s


def test_a_grace_no_drain_holds_names_the_timeout_alone():
    message = _refusal("ApiGate", _on(1440, **REQUIRED["ApiGate"](), request_timeout_seconds=86400))
    assert "lower request_timeout_seconds to at most 86310 (no drain holds 86490 s: AKS waits at most 1440 minutes)" \
        in message, message


@pytest.mark.parametrize("component", ["ApiGate", "OllamaServer", "OpenWebUi", "Observability", "LlmdStack"])
def test_the_defaults_fit_the_default_drain(component):
    """Every workload with its own defaults on a cluster handle carrying AksCluster's default (InferenceStack behind
    KEDA: test_the_defaults_composed_drain_whole)."""
    minutes = llmplatform.defaults.DEFAULTS["AksCluster"]["drain_timeout_minutes"]
    testing.run(lambda: getattr(llmplatform, component)("w", _on(minutes, **REQUIRED[component]()), provider_opts()))


def test_a_drain_not_given_is_left_to_the_plan_check():
    """A handle without the timeout (a cluster made otherwise) is not judged: an upgrade of a program that planned
    before this check with such a handle is not refused. (One known only at deploy time, another stack's, is judged
    once it resolves: tests/components/test_late_drain.py.)"""
    def program() -> None:
        llmplatform.ApiGate("w", {**REQUIRED["ApiGate"](), "cluster": cluster_handle(), "request_timeout_seconds": 3600},
                            provider_opts())
    testing.run(program)


def test_ui_replicas_that_may_share_a_node_count_in_its_drain():
    """Open-WebUI's hostname spread is ScheduleAnyway: all six replicas may sit on one node, and the drain frees each
    next one only once the previous one's replacement is Ready (a 180 s pull allowance, a start of up to 300 s, a
    readiness period: 490 s). 630 + 5 x 490 = 3080 s outlast 36 minutes whatever the answer's timeout: the fix is the
    drain drain_minutes_for names; on it, the UI plans."""
    ui = {**REQUIRED["OpenWebUi"](), "max_replicas": 6}
    message = _refusal("OpenWebUi", _on(36, **ui))
    assert ("the UI's pods take up to 630 s to stop (request_timeout_seconds (at most 3555) + 30 s, their "
            "terminationGracePeriodSeconds); up to 6 of them may share a node and its drain evicts each next one only "
            "once the previous one's replacement is Ready (up to 490 s: image pull and probes), so the node's drain "
            "takes up to 3080 s, longer than the 36 minutes (2160 s) cluster.drain_timeout_minutes gives a drain of "
            "their node (an upgrade then fails); no request_timeout_seconds fits while 6 of them may share a node, or "
            "give the AksCluster drain_timeout_minutes=57 (upgrades.drain_minutes_for(630, 6, 490))"
            ) in message, message
    testing.run(lambda: llmplatform.OpenWebUi("w", _on(57, **ui), provider_opts()))


def test_the_ui_behind_keda_counts_its_replicas_on_the_cold_start():
    """InferenceStack behind KEDA hands its UI the cold start's wait too (1800 s, a grace of 1830 s), which the UI's
    own rule, given the answer's timeout alone, does not see: three UI pods on one node drain in 1830 + 2 x 490 s,
    over AksCluster's default 37 minutes; refused on the cold start's input, with the drain that holds them."""
    keda = {"namespace": "keda", "interceptor_host": "interceptor", "interceptor_port": 8080,
            "external_scaler": "scaler:9090", "prometheus_url": "http://prometheus:9090"}
    stack = {**REQUIRED["InferenceStack"](), "keda": keda, "database_url_secret": "db-url", "webui_max_replicas": 3}
    message = _refusal("InferenceStack", _on(37, **stack))
    assert ("input cold_start_timeout_seconds=1200 is invalid; allowed: a value whose pods fit the cluster's drain: "
            "the UI's pods take up to 1830 s to stop (request_timeout_seconds + cold_start_timeout_seconds (at most "
            "3555) + 30 s with keda, their terminationGracePeriodSeconds); up to 3 of them may share a node and its "
            "drain evicts each next one only once the previous one's replacement is Ready (up to 490 s: image pull and "
            "probes), so the node's drain takes up to 2810 s, longer than the 37 minutes (2220 s) "
            "cluster.drain_timeout_minutes gives a drain of their node (an upgrade then fails); lower "
            "cold_start_timeout_seconds to at most 610, or give the AksCluster drain_timeout_minutes=52 "
            "(upgrades.drain_minutes_for(1830, 3, 490))") in message, message
