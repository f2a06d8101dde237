"""Mutation round sixteen: the plan check of node drains (offline/deploy_model/node_drains.py) and what it reads of
llmplatform.upgrades, on prod's plan with one thing planted, as `make plan` (deploy_model.evaluate) reads it."""
from __future__ import annotations

from typing import Any

import pytest

from offline import deploy_model
from offline.deploy_model.node_drains import check_node_drains
from tests.offline.test_node_drains import CLUSTER, POOL, _edited, prometheus_grace


def _messages(plan) -> list[str]:
    return [f"{p.resource}: {p.message}" for p in check_node_drains(plan)]


def _scale_down_grace(plan, seconds: str):
    return _edited(plan, CLUSTER, lambda i: {**i, "autoScalerProfile": {**i["autoScalerProfile"],
                                                                       "maxGracefulTerminationSec": seconds}})


def test_a_pod_without_a_grace_takes_kubernetes_default_of_30_seconds(prod):
    """Open-WebUI's Redis (valkey) sets no terminationGracePeriodSeconds: Kubernetes gives it 30 s (core/v1 PodSpec
    `terminationGracePeriodSeconds`: "Defaults to 30 seconds"). A scale-down that gives 29 s cuts it, one of 30 does
    not."""
    redis = [m for m in _messages(_scale_down_grace(prod, "29")) if m.startswith("Deployment llm/webui-redis:")]
    assert len(redis) == 1 and "its pods take up to 30 s to stop" in redis[0], redis
    assert [m for m in _messages(_scale_down_grace(prod, "30")) if "webui-redis" in m] == []


def test_a_pool_the_autoscaler_does_not_scale_is_not_judged_by_its_grace(prod):
    """Planted: prod's pools without the cluster autoscaler and its profile without maxGracefulTerminationSec (AKS's
    600 s): no scale-down evicts from them, so the pods that take 1830 s to stop are not refused for it (their
    upgrade's drain, 77 minutes, still holds them)."""
    fixed = _edited(prod, POOL, lambda i: {**i, "enableAutoScaling": False})
    fixed = _edited(fixed, CLUSTER, lambda i: {**i, "autoScalerProfile": {
        k: v for k, v in i["autoScalerProfile"].items() if k != "maxGracefulTerminationSec"}})
    assert _messages(fixed) == []


def test_a_pool_of_a_size_the_catalog_does_not_know_counts_every_replica_on_a_node(prod):
    """Planted: prod's GPU fallback pool on a size the VM catalog does not hold: how many Ollama pods a node takes is
    not known, so all 4 (its autoscaler's maximum) are counted on one node, 630 + 3 x 1090 = 3900 s within the 77
    minutes; no traceback, no refusal. At 60 minutes a node it is refused with those figures."""
    unknown = _edited(prod, POOL, lambda i: {**i, "vmSize": "Standard_Q8s_v9"} if i.get("agentPoolName") == "gpuod"
                      else i)
    assert _messages(unknown) == []
    short = _edited(unknown, POOL, lambda i: {**i, "upgradeSettings": {**i["upgradeSettings"],
                                                                       "drainTimeoutInMinutes": 60}}
                    if i.get("agentPoolName") == "gpuod" else i)
    [ollama] = [m for m in _messages(short) if "'gpuod'" in m]
    assert "up to 4 of them may share a node (its autoscaler's maximum, 4)" in ollama and "3900 s" in ollama, ollama


def _with_init_image(image: str):
    """The router's pods given an init container of `image` (a consumer's sidecar, say)."""
    def edit(inputs: dict[str, Any]) -> dict[str, Any]:
        if inputs["metadata"].get("name") != "router":
            return inputs
        template = inputs["spec"]["template"]
        spec = {**template["spec"], "initContainers": [{"name": "fetch", "image": image}]}
        return {**inputs, "spec": {**inputs["spec"], "template": {**template, "spec": spec}}}
    return edit


def test_a_pods_replacement_waits_for_its_slowest_image(prod):
    """Planted: the gate's pods (nginx, a 30 s pull allowance) with a vLLM image beside it (900 s) and the CPU pool at
    30 minutes: the replacement's time to Ready is the slowest pull's, 930 s (not nginx's 60 s), 1830 + 930 =
    2760 s beyond 1800."""
    planted = _edited(prod, "kubernetes:apps/v1:Deployment", _with_init_image("docker.io/vllm/vllm-openai:v0.11.0"))
    planted = _edited(planted, POOL, lambda i: {**i, "upgradeSettings": {**(i.get("upgradeSettings") or {}),
                                                                         "drainTimeoutInMinutes": 30}}
                      if i.get("scaleSetPriority") != "Spot" else i)
    [router] = [m for m in _messages(planted) if m.startswith("Deployment llm/router:") and "'cpu'" in m]
    assert "Ready (up to 930 s" in router and "takes up to 2760 s" in router, router
    assert any(p.rule == "node-drain" and "llm/router" in p.resource
               for p in deploy_model.evaluate(planted).problems)


def test_a_pod_whose_containers_name_no_image_is_read_without_a_traceback(prod):
    """A container without `image` (optional in core/v1 Container, for a controller that sets it): its pod is counted
    with no pull, not a ValueError out of the plan check."""
    def imageless(inputs: dict[str, Any]) -> dict[str, Any]:
        if inputs["metadata"].get("name") != "router":
            return inputs
        template = inputs["spec"]["template"]
        containers = [{k: v for k, v in c.items() if k != "image"} for c in template["spec"]["containers"]]
        spec = {**template["spec"], "containers": containers}
        return {**inputs, "spec": {**inputs["spec"], "template": {**template, "spec": spec}}}
    planted = _edited(prod, "kubernetes:apps/v1:Deployment", imageless)
    assert _messages(planted) == []
    # at 10 minutes a node: nothing to pull, Ready a readiness period (30 s) after it starts
    short = _edited(planted, POOL, lambda i: {**i, "upgradeSettings": {**(i.get("upgradeSettings") or {}),
                                                                       "drainTimeoutInMinutes": 10}}
                    if i.get("scaleSetPriority") != "Spot" else i)
    [router] = [m for m in _messages(short) if m.startswith("Deployment llm/router:") and "'cpu'" in m]
    assert "Ready (up to 30 s" in router, router


def _router_probes(startup: Any, readiness: Any):
    """The router's containers given these probes (None: none)."""
    def edit(inputs: dict[str, Any]) -> dict[str, Any]:
        if inputs["metadata"].get("name") != "router":
            return inputs
        template = inputs["spec"]["template"]
        containers = []
        for c in template["spec"]["containers"]:
            c = {k: v for k, v in c.items() if k not in ("startupProbe", "readinessProbe")}
            containers.append({**c, **({"startupProbe": startup} if startup else {}),
                               **({"readinessProbe": readiness} if readiness else {})})
        spec = {**template["spec"], "containers": containers}
        return {**inputs, "spec": {**inputs["spec"], "template": {**template, "spec": spec}}}
    return edit


@pytest.mark.parametrize("startup, readiness, ready", [
    # a readiness probe's first success: its delay and a period after it (nginx's 30 s pull + 100 + 30)
    (None, {"initialDelaySeconds": 100, "periodSeconds": 30}, 160),
    # a startup probe's delay and its longest attempt, one that succeeds at its timeout (50 + 10 > 3 x 10): 30 + 20 +
    # 60 + a readiness period of 10 (Kubernetes' default)
    ({"initialDelaySeconds": 20, "periodSeconds": 10, "failureThreshold": 3, "timeoutSeconds": 50},
     {"failureThreshold": 3}, 120),
    # Kubernetes' defaults (core/v1 Probe: timeoutSeconds 1): one failure allowed, an attempt of 1 s + 10; no readiness
    # probe, so Ready once started: 30 + 11
    ({"periodSeconds": 10, "failureThreshold": 1}, None, 41),
])
def test_a_replacements_time_to_ready_follows_its_probes(prod, startup, readiness, ready):
    """Planted: the gate's pods with other probes (as a consumer's own pods may write them) on a CPU pool waiting 10
    minutes a node: the plan check reads each probe field into the replacement's time to Ready it names."""
    planted = _edited(prod, "kubernetes:apps/v1:Deployment", _router_probes(startup, readiness))
    planted = _edited(planted, POOL, lambda i: {**i, "upgradeSettings": {**(i.get("upgradeSettings") or {}),
                                                                         "drainTimeoutInMinutes": 10}}
                      if i.get("scaleSetPriority") != "Spot" else i)
    [router] = [m for m in _messages(planted) if m.startswith("Deployment llm/router:") and "'cpu'" in m]
    assert f"Ready (up to {ready} s: its image's pull allowance and probes)" in router, router


def test_a_scaled_object_without_its_maximum_scales_to_kedas_default():
    """Planted: prod's Ollama ScaledObject without maxReplicaCount (as a consumer's may leave it): KEDA scales it up
    to 100 replicas ("maxReplicaCount: 100 # Optional. Default: 100": kedacore/keda-docs
    content/docs/2.15/reference/scaledobject-spec.md), not to its Deployment's replicas."""
    from offline.deploy_model.node_drains import replacements
    from tests.conftest import plan_for
    prod = plan_for("prod")
    bare = _edited(prod, "kubernetes:keda.sh/v1alpha1:ScaledObject", lambda i: {**i, "spec": {
        k: v for k, v in i["spec"].items() if k != "maxReplicaCount"}})
    ollama = replacements(bare)["Deployment llm/ollama"]
    assert (ollama.most, ollama.why) == (100, "its autoscaler's maximum")


def test_a_daemonsets_pods_are_left_to_run_through_a_drain(prod):
    """A scale-down giving 29 s flags the pods that take Kubernetes' default 30 s, never a DaemonSet's (AKS's drain and
    the autoscaler's scale-down leave them running)."""
    from offline import capacity
    daemons = {p.owner for p in capacity.program_pods(prod) + capacity.chart_pods(prod, []) if p.daemon}
    assert daemons
    flagged = {p.resource for p in check_node_drains(_scale_down_grace(prod, "29"))}
    assert flagged and not flagged & daemons, flagged & daemons


def test_a_scale_down_grace_that_is_no_number_is_akss_default(prod):
    """A profile whose max-graceful-termination-sec is not digits (an unknown value, a typo) reads as AKS's 600 s,
    not a ValueError out of the plan check: the pods that take 1830 s are cut."""
    messages = _messages(_scale_down_grace(prod, "10m"))
    assert any("llm/router" in m and "kills them after 600 s" in m for m in messages), messages


def test_the_chart_grace_defaults_are_the_vendored_charts():
    """Where a release's values leave a chart pod's grace, the check takes the chart's own: keda-add-ons-http's
    values.yaml `interceptor.terminationGracePeriodSeconds` (vendored), and kube-prometheus-stack's `~`, which leaves
    it to prometheus-operator."""
    import yaml

    from offline.deploy_model.node_drains import CHART_GRACES
    from tests.conftest import upstream_dir
    for chart, workloads in CHART_GRACES.items():
        values = yaml.safe_load((upstream_dir() / "charts" / chart / "values.yaml").read_text())
        for path, default in workloads.values():
            node: Any = values
            for key in path.split("."):
                node = node[key]
            if chart == "kube-prometheus-stack":
                assert node is None  # `~`: prometheus-operator's DefaultTerminationGracePeriodSeconds
            else:
                assert node == default, (chart, path, node)


def test_a_drain_of_exactly_akss_most_is_the_fix_it_names(prod):
    """Planted: Prometheus given 86100 s to stop: 1435 minutes and the margin, 1440, AKS's most, which it takes: the
    fix names drain_timeout_minutes=1440, not "more than AKS's most"."""
    messages = _messages(_edited(prod, "kubernetes:helm.sh/v3:Release", prometheus_grace(86100)))
    assert messages and all(m.endswith("drain_timeout_minutes=1440 (upgrades.drain_minutes_for(86100))")
                            for m in messages), messages


def test_a_statefulsets_pods_are_read_as_a_deployments(prod):
    """Planted: the gate's pods as a StatefulSet (a consumer's own server may be one) on a CPU pool waiting 10 minutes
    a node: its grace (1830 s), its replicas and its replacement's time to Ready are read alike."""
    import dataclasses
    planted = dataclasses.replace(prod, resources=[
        dataclasses.replace(r, type="kubernetes:apps/v1:StatefulSet", inputs={**r.inputs, "kind": "StatefulSet"})
        if r.type == "kubernetes:apps/v1:Deployment" and r.inputs["metadata"].get("name") == "router" else r
        for r in prod.resources])
    planted = _edited(planted, POOL, lambda i: {**i, "upgradeSettings": {**(i.get("upgradeSettings") or {}),
                                                                         "drainTimeoutInMinutes": 10}}
                      if i.get("scaleSetPriority") != "Spot" else i)
    [router] = [m for m in _messages(planted) if m.startswith("StatefulSet llm/router:") and "'cpu'" in m]
    assert "take up to 1830 s" in router and "up to 2 of them may share a node (its replicas, 2)" in router, router
    assert "Ready (up to 60 s" in router, router


def _ui(requests: dict[str, str], most: int = 6, max_pods: int = 110):
    """prod with the UI's pods requesting `requests`, its HPA at `most`, the CPU pool at `max_pods` pods a node and
    10 minutes a node."""
    def pods(inputs: dict[str, Any]) -> dict[str, Any]:
        if inputs["metadata"].get("name") != "open-webui":
            return inputs
        template = inputs["spec"]["template"]
        containers = [{**c, "resources": {**c.get("resources", {}), "requests": {
            **c.get("resources", {}).get("requests", {}), **requests}}} if i == 0 else c
            for i, c in enumerate(template["spec"]["containers"])]
        spec = {**template["spec"], "containers": containers}
        return {**inputs, "spec": {**inputs["spec"], "template": {**template, "spec": spec}}}

    def edit(plan):
        plan = _edited(plan, "kubernetes:apps/v1:Deployment", pods)
        plan = _edited(plan, "kubernetes:autoscaling/v2:HorizontalPodAutoscaler",
                       lambda i: {**i, "spec": {**i["spec"], "maxReplicas": most}}
                       if i["spec"]["scaleTargetRef"]["name"] == "open-webui" else i)
        return _edited(plan, POOL, lambda i: {**i, "maxPods": max_pods, "upgradeSettings": {
            **(i.get("upgradeSettings") or {}), "drainTimeoutInMinutes": 10}}
            if i.get("agentPoolName") == "cpu" else i)
    return edit


@pytest.mark.parametrize("requests, most, max_pods, held", [
    # a D8ds_v5 node's 8 vCPUs, less AKS's reservation, hold 3 pods of 2 CPUs (their 512 Mi would fit 50)
    ({"cpu": "2"}, 6, 110, 3),
    # its 32 GiB, less AKS's reservation and eviction threshold, hold 3 of 8 GiB (their 250m would fit 31)
    ({"memory": "8Gi"}, 6, 110, 3),
    # 20 replicas, each small, on a pool of 10 pods a node: 10
    ({}, 20, 10, 10),
])
def test_the_replicas_a_node_holds_are_bound_by_each_of_its_resources(prod, requests, most, max_pods, held):
    """Planted: the UI's pods larger, or more of them on a pool of fewer pods a node: as many share a node as its
    CPU, its memory or its pod slots take, whichever is fewest, and the refusal names that figure."""
    [ui] = [m for m in _messages(_ui(requests, most, max_pods)(prod))
            if m.startswith("Deployment llm/open-webui:") and "'cpu'" in m]
    assert (f"up to {held} of them may share a node (its autoscaler's maximum, {most}, of which the nodes an upgrade "
            f"drains at once hold {held} by their requests)") in ui, ui


def test_a_pod_that_stops_exactly_at_the_drain_timeout_fits(prod):
    """Planted: Prometheus given 4620 s to stop, prod's 77 minutes a node exactly: the upgrade waits that long, so
    it is no problem for the upgrade (one second more is), only for a scale-down's 4620 s neither."""
    def grace(seconds: int) -> list[str]:
        return _messages(_edited(prod, "kubernetes:helm.sh/v3:Release", prometheus_grace(seconds)))
    assert grace(4620) == []
    assert len(grace(4621)) == 2  # the upgrade's 77 minutes and the scale-down's 4620 s
