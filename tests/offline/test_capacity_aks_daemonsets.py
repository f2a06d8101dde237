"""AKS's own DaemonSets each take a pod slot of every node they run on.

config/data/aks_system_pods.json's rows are resource figures per cluster feature; a row stands for several
DaemonSets (its `per_node.daemonsets`, sourced in `_daemonsets`), each a pod on every node and a slot of the node's
maxPods. The model counted one slot per row: prod's nodes ran 6 DaemonSet pods in it where they run 13 (the base
row alone is eight: cilium, azure-cns, azure-ip-masq-agent, cloud-node-manager, the two CSI nodes, the Key Vault
driver and provider), so a pool whose maxPods is near that count was given room its nodes do not have."""
from __future__ import annotations

import json

from offline import capacity
from tests.conftest import variant


def test_each_rows_daemonsets_are_named_and_counted():
    table = capacity._aks_table()
    assert "_daemonsets" in table and all(
        isinstance(row["per_node"]["daemonsets"], list) for row in table["features"].values())
    cluster = next(iter(variant("prod").of_type("azure-native:containerservice:ManagedCluster"))).inputs
    per_node = {p.owner: p.per_node for p in capacity.aks_pods(cluster) if p.daemon}
    assert per_node == {"AKS base (per node)": 8, "AKS managed_prometheus (per node)": 1,
                        "AKS container_insights (per node)": 1, "AKS azure_policy (per node)": 0,
                        "AKS defender (per node)": 2}


def test_a_pool_with_max_pods_near_the_daemonsets_count_idles_at_more_nodes(tmp_path, capsys):
    """Through `make plan`: prod with its CPU pool at maxPods 20 (AKS takes 10 and up). A node runs 13 DaemonSet
    pods (AKS's 12, node-exporter), leaving 7 slots: prod's 31 always-on pods there need 5 nodes, not the 3 the
    model counted with one slot per row (14 left a node)."""
    from offline import plan as plan_cli
    code = plan_cli.main(["--stack", "prod", "--out", str(tmp_path), "--set", "cluster.workloadPool.maxPods=20"])
    assert code == 0
    cost = json.loads((tmp_path / "prod.what-if" / "cost.json").read_text())
    assert cost["idleNodes"]["cpu"] == 5, cost["idleNodes"]
    assert "capacity: pool cpu: idles at 5 nodes, not its minimum 3" in capsys.readouterr().out
