"""`make plan`'s node-drain check and the stack's drain agree on which pods a drain waits for one after another: none
on a spot pool (AKS: "a cordon and an eviction notice, but no drain"; docs/decisions.md "Spot pools' pods in the
stack's drain"), and per disruption budget on a pool an upgrade drains (llm-d's decode and prefill Deployments have
one each)."""
import dataclasses
from typing import Any

from llmplatform.upgrades import IN_PLACE
from offline import deploy_model
from offline.deploy_model.node_drains import check_node_drains
from offline.runner import Plan
from tests.conftest import VARIANTS, plan_for

POOL = "azure-native:containerservice:AgentPool"
CLUSTER = "azure-native:containerservice:ManagedCluster"


def _two_decode_replicas() -> Plan:
    """llmd-pd (P/D on a spot eight-H100 pool, no fallback) with two decode replicas beside its prefill one."""
    stack, overrides = VARIANTS["llmd-pd"]
    return plan_for(stack, {**overrides, "llmd": {**overrides["llmd"], "replicas": 2}})


def _gpu_pool_regular(plan: Plan, minutes: int) -> Plan:
    """The plan with its GPU pool on-demand, upgraded in place and waiting `minutes` per node (a copy)."""
    def regular(inputs: dict[str, Any]) -> dict[str, Any]:
        if inputs.get("scaleSetPriority") != "Spot":
            return inputs
        return {**inputs, "scaleSetPriority": "Regular",
                "upgradeSettings": {**IN_PLACE, "drainTimeoutInMinutes": minutes}}
    return dataclasses.replace(plan, resources=[dataclasses.replace(r, inputs=regular(r.inputs)) if r.type == POOL
                                                else r for r in plan.resources])


def test_vllm_pods_on_a_spot_pool_leave_the_clusters_drain_at_its_gates():
    """No upgrade drains the spot pool, so the decode pods' 130 + 2710 s (and 98 minutes, counting the prefill pod
    with them, before) are in no pool's drain: the CPU pool and the autoscaler keep the gate's 37 minutes, and the
    check finds no pod outlasting a drain (the vLLM grace, 130 s, fits the scale-down's 2220 s)."""
    plan = _two_decode_replicas()
    drains = {r.inputs.get("agentPoolName") or r.name: (r.inputs.get("upgradeSettings") or {}).get(
        "drainTimeoutInMinutes") for r in plan.of_type(POOL)}
    assert drains == {"cpu": 37, "gpu": None}
    (cluster,) = plan.of_type(CLUSTER)
    assert cluster.inputs["autoScalerProfile"]["maxGracefulTerminationSec"] == "2220"
    assert [p for p in deploy_model.evaluate(plan).problems if p.rule == "node-drain"] == []


def test_an_upgrade_drains_the_decode_pods_one_after_another_and_prefill_beside_them():
    """Planted: the same pool on-demand at the gate's 37 minutes. The two decode pods share a budget (the second goes
    once the first one's replacement is Ready: 2840 s, 53 minutes, what the stack gives a regular pool); the prefill
    pod, under its own budget, goes beside them and is not named."""
    planted = _gpu_pool_regular(_two_decode_replicas(), 37)
    problems = [p for p in check_node_drains(planted)]
    assert [p.resource for p in problems] == ["Deployment llm-d/vllm-decode"]
    assert "up to 2 of them may share a node" in problems[0].message
    assert "drain_timeout_minutes=53 (upgrades.drain_minutes_for(130, 2, 2710))" in problems[0].message
    assert check_node_drains(_gpu_pool_regular(_two_decode_replicas(), 53)) == []
