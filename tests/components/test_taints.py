"""llmplatform.taints: the one copy of AKS's pool taints and kube-scheduler's toleration match that the components,
the testing kit and the offline capacity model and deploy model read."""
import importlib

from llmplatform.taints import SPOT_TAINT, pool_taints, tolerates
from llmplatform.testing import cross_cluster
from offline import capacity


def test_the_kit_the_capacity_model_and_the_deploy_model_read_one_copy():
    pools = importlib.import_module("offline.deploy_model.pools")
    assert cross_cluster.tolerates is capacity.tolerates is pools.tolerates is tolerates
    assert cross_cluster.pool_taints is capacity.pool_taints is pools.pool_taints is pool_taints


def test_a_toleration_matches_as_toleration_go_does():
    """k8s.io/api core/v1 toleration.go `ToleratesTaint` (kubernetes/kubernetes 19c6083b): an empty key matches
    every key, an empty operator is Equal, a value is compared as written (a YAML 0 is "0")."""
    assert tolerates([{"key": "tier", "value": 0}], "tier=0:NoSchedule")  # the kit read a 0 as ""
    assert not tolerates([{"key": "tier", "value": 0}], "tier:NoSchedule")
    assert tolerates([{"operator": "", "value": "spot"}], SPOT_TAINT)
    assert not tolerates([{"key": "other", "operator": "Exists"}], SPOT_TAINT)
    assert tolerates([], "soft=yes:PreferNoSchedule") and not tolerates([], "hard=yes:NoExecute")


def test_a_spot_pool_carries_aks_taint_once_whether_declared_or_not():
    assert pool_taints({"scaleSetPriority": "Spot"}) == [SPOT_TAINT]
    assert pool_taints({"scaleSetPriority": "Spot", "nodeTaints": [SPOT_TAINT, "a=b:NoSchedule"]}) == [
        SPOT_TAINT, "a=b:NoSchedule"]
    assert pool_taints({"nodeTaints": "not a list"}) == []
