"""Where a pod may land given a node's taints: the taints AKS puts on a pool's nodes and whether a pod's tolerations
cover one, as kube-scheduler decides. Plain data, no Pulumi import: the components, the testing kit and the
repository's offline capacity model and deploy model read this one copy."""
from typing import Any

SPOT_TAINT_KEY = "kubernetes.azure.com/scalesetpriority"
SPOT_TAINT = f"{SPOT_TAINT_KEY}=spot:NoSchedule"  # AKS puts this on every spot node
# The effects kube-scheduler's TaintToleration filter keeps a pod off for; PreferNoSchedule only scores
BARRING_EFFECTS = ("NoSchedule", "NoExecute")


def taint_key(taint: str) -> str:
    """A taint's key, as AKS's nodeTaints write it (`key=value:Effect`, `key:Effect`)."""
    return taint.split(":", 1)[0].split("=", 1)[0]


def pool_taints(profile: dict[str, Any]) -> list[str]:
    """A pool's nodeTaints (an AgentPool's inputs or a ManagedCluster's agentPoolProfiles entry), with the taint AKS
    puts on a spot pool's nodes whether declared or not ("Add an Azure Spot node pool to an AKS cluster",
    learn.microsoft.com; AksCluster and GpuNodePool declare it so that Pulumi sees no drift)."""
    given = profile.get("nodeTaints")
    taints = [str(t) for t in given] if isinstance(given, list) else []
    spot = str(profile.get("scaleSetPriority") or "").lower() == "spot"
    if spot and not any(taint_key(t) == SPOT_TAINT_KEY for t in taints):
        taints.append(SPOT_TAINT)
    return taints


def tolerates(tolerations: list[Any], taint: str) -> bool:
    """Whether a taint (`key[=value]:Effect`) lets a pod with these tolerations onto the node: a PreferNoSchedule
    taint keeps no pod off (kube-scheduler's TaintToleration filter counts NoSchedule and NoExecute), else one
    toleration must match it as k8s.io/api core/v1 toleration.go `ToleratesTaint` does (kubernetes/kubernetes
    19c6083b): an empty effect matches every effect, an empty key every key, `Exists` any value, `Equal` or an empty
    operator the value alone (a missing value is "")."""
    pair, _, effect = taint.rpartition(":")
    if effect not in BARRING_EFFECTS:
        return True
    key, _, value = pair.partition("=")
    for t in tolerations:
        if not isinstance(t, dict) or t.get("effect") not in (None, "", effect) or t.get("key") not in (None, "", key):
            continue
        given = "" if t.get("value") is None else str(t.get("value"))
        if t.get("operator") == "Exists" or (t.get("operator") in (None, "", "Equal") and given == value):
            return True
    return False
