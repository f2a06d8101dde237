"""What the PR check's value rules said that no test held (mutation testing, round twelve: docs/decisions.md
"Mutation testing, round twelve"): each test here fails on a mutant of offline/plan_diff/values.py (or on the code
before its fix) and passes on the code. Each goes through the check's entry point: two plan folders -> the report
and its exit code."""
from tests.offline.plan_diff_cli import check
from tests.offline.test_plan_diff_round4 import _cluster, _doc, _resource

POOL_TYPE = "azure-native:containerservice:AgentPool"


def _pool(version=None) -> dict:
    inputs = {"resourceGroupName": "rg", "resourceName": "aks", "agentPoolName": "gpu",
              **({} if version is None else {"orchestratorVersion": version})}
    return _resource(POOL_TYPE, "gpu", inputs)


def _cluster_and_pools(version) -> dict:
    system = {"name": "system", **({} if version is None else {"orchestratorVersion": version})}
    return _doc(_cluster("none", version, agentPoolProfiles=[system]), _pool(version))


def test_a_pool_version_given_as_its_own_minor_is_no_downgrade_as_the_clusters_is_not(tmp_path):
    """`cluster.kubernetesVersion` 1.34.2 -> 1.34 sets the cluster's and every pool's version: AKS reads a minor
    alone as that minor's newest patch and "updating ... with the same (major.minor) once it has been created (e.g.
    1.14.x -> 1.14) will not trigger an upgrade" (AgentPool.orchestratorVersion, Azure REST API reference), so the
    pools' noDowngrade refuses it no more than the cluster's kubernetesUpgrade does. A patch below, or a minor below,
    stays refused on each."""
    code, out = check(tmp_path, _cluster_and_pools("1.34.2"), _cluster_and_pools("1.34"))
    assert code == 0 and "a downgrade" not in out, out
    for lower in ("1.34.1", "1.33"):
        code, out = check(tmp_path, _cluster_and_pools("1.34.2"), _cluster_and_pools(lower))
        assert code == 1, (lower, out)
        for where in ("`kubernetesVersion`", "`agentPoolProfiles[0].orchestratorVersion`", "`orchestratorVersion`"):
            assert f'{where} "1.34.2" -> "{lower}"' in out and "a downgrade" in out, (lower, where, out)
