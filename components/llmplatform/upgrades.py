"""How AKS replaces a pool's nodes on an upgrade (Kubernetes version, node image from the node OS channel, a Fleet
update run), per pool: plain data, no Pulumi import (the config's quota advisory reads it too).

AKS's rules (Azure/azure-rest-api-specs @cd1a17dc specification/containerservice/resource-manager/
Microsoft.ContainerService/aks/stable/2025-09-01/managedClusters.json `AgentPoolUpgradeSettings`, the REST API version
pulumi-azure-native 3.29.0 uses; MicrosoftDocs/azure-aks-docs @328920288e articles/aks/upgrade-aks-node-pools-rolling.md,
@31e1f80a articles/aks/spot-node-pool.md; docs/decisions.md "Node pool upgrades: surge, quota, spot"):
- a regular pool surges: maxSurge nodes are added first (the spec's default 10%, rounded up, of the pool's nodes at
  the time: one node up to ten), each against the subscription's quota, and as many old nodes are drained;
- maxSurge 0 with maxUnavailable n upgrades in place, n nodes cordoned and drained at a time, no node added
  (maxUnavailable 0, the default, needs maxSurge above 0); not on a System pool;
- a spot pool is upgraded without surge nodes (cordon and an eviction notice, no drain), and AKS refuses a maxSurge
  on it ("Spot pools can't set max surge", InvalidParameter), and a maxUnavailable ("Spot pools can't set
  maxUnavailable": hashicorp/terraform-provider-azurerm#31129, 2025-11), so a spot pool sends no upgradeSettings;
- a drain waits `drainTimeoutInMinutes` per node (1-1440, default 30) "on eviction of pods and graceful termination
  ... If this time is exceeded, the upgrade fails": every pod a regular pool may run must stop within it, its
  terminationGracePeriodSeconds included (docs/decisions.md "Node drains wait for the longest answer"). Not sent to a
  spot pool: AKS drains none there, and no source shows it takes the setting.
The cluster autoscaler's scale-down evicts with the pod's grace cut to `max-graceful-termination-sec` (AKS's default
600; kubernetes/autoscaler cluster-autoscaler core/scaledown/actuation/drain.go `evictPod`), so the cluster's value
follows the same drain timeout (`scale_down_grace_seconds`).
"""
import math
import re
from typing import Any, Iterable, Mapping, Optional

from .pins import image_repository

DEFAULT_MAX_SURGE = "10%"  # the spec's "If not specified, the default is 10%" (2025-09-01)

# A GPU pool that is not spot is upgraded in place: no GPU quota or capacity beyond its maxCount (a surge A100 may not
# exist, and a family quota sized to maxCount would fail every upgrade's quota check), one node, so one model-server
# replica, down at a time (the model servers' disruption budgets allow one: docs/decisions.md).
IN_PLACE = {"maxSurge": "0", "maxUnavailable": "1"}

# A surge a pool is given (GpuNodePool upgrade_max_surge): AKS's "an integer (e.g. '5') or a percentage (e.g. '50%')"
# of the pool's nodes, above 0 (maxUnavailable is then 0, and "when maxUnavailable is 0, AKS requires maxSurge to be
# greater than 0": azure-aks-docs @fb060abe6 upgrade-aks-node-pools-rolling.md); at most 100%, and 1,000 nodes, a scale
# set's most ("Azure Virtual Machine Scale Sets (VMSS) allow a maximum of 1,000 instances per scale set", ibid.).
_MAX_SURGE = re.compile(r"(?P<count>[1-9][0-9]{0,3})(?P<percent>%?)")
MAX_SURGE_ALLOWED = "a number of nodes from 1 to 1000 ('1') or a percentage of the pool's nodes from 1% to 100% ('33%')"


def max_surge_problem(value: str) -> Optional[str]:
    """What a surge must be, when `value` is not one (else None)."""
    found = _MAX_SURGE.fullmatch(value)
    ok = found is not None and int(found["count"]) <= (100 if found["percent"] else 1000)
    return None if ok else MAX_SURGE_ALLOWED


AKS_DRAIN_TIMEOUT_MINUTES = 30  # the spec's default drainTimeoutInMinutes (2025-09-01)
DRAIN_TIMEOUT_MAX_MINUTES = 1440  # the spec's maximum: AKS waits no longer for one node
# Beyond the node's modelled drain (node_drain_seconds): the eviction's retries (kubectl's drain retries a refused
# eviction every 5 s), the replacement's scheduling and its node's start of the pod
DRAIN_MARGIN_MINUTES = 5
# A replacement's image pull on a node that never ran it (a surge node), by image repository: the kubelet sets no
# deadline on a pull. Each covers the deploy model's pessimistic pull of the image (config/data/deploy_durations.json
# image_pull: its size at 25 MB/s, extracted at 60 MB/s; open-webui's 1.8 GB: 102 s, nginx's 75 MB: 5 s, vLLM's 13 GB:
# 737 s) with room for a larger tag; tests/offline/test_node_drains.py holds the two together
PULL_ALLOWANCE_SECONDS = {"open-webui/open-webui": 180, "nginxinc/nginx-unprivileged": 30, "vllm/vllm-openai": 900}
DEFAULT_PULL_ALLOWANCE_SECONDS = 180  # any other image
# Kubernetes' probe defaults (core/v1 Probe): periodSeconds 10, failureThreshold 3, initialDelaySeconds 0
PROBE_PERIOD_SECONDS, PROBE_FAILURES = 10, 3


# Prometheus's pods stop within prometheus-operator's DefaultTerminationGracePeriodSeconds (package pkg/prometheus),
# as kube-prometheus-stack's `prometheusSpec.terminationGracePeriodSeconds: ~` leaves them: Observability's longest
# fixed grace
PROMETHEUS_GRACE_SECONDS = 600


def pull_allowance_seconds(images: Iterable[str]) -> int:
    """A replacement pod's pull of its images on a fresh node (the largest allowance: the kubelet pulls them in
    turn, but the largest dominates)."""
    def allowance(image: str) -> int:
        repository = image_repository(image)
        return next((seconds for name, seconds in PULL_ALLOWANCE_SECONDS.items()
                     if repository == name or repository.endswith("/" + name)), DEFAULT_PULL_ALLOWANCE_SECONDS)
    return max((allowance(i) for i in images), default=0)


def ready_bound_seconds(startup: Optional[Mapping[str, Any]], readiness: Optional[Mapping[str, Any]],
                        pull_seconds: int) -> int:
    """The longest a replacement pod takes from its creation to Ready, its probes as the pod spec writes them
    (initialDelaySeconds, periodSeconds, failureThreshold, timeoutSeconds): its image pull (`pull_seconds`), the
    startup probe's bound (its attempts failing fast, period x failures, or one that succeeds at its timeout, as an
    Ollama warm-up may; past the failures the kubelet restarts the container, which then misses any drain's clock)
    and the readiness probe's first success (a period after its delay). An init container is inside the startup
    bound or not counted, and so are attempts that each run to their timeout."""
    def field(probe: Mapping[str, Any], key: str, default: int) -> int:
        value = probe.get(key)
        return value if isinstance(value, int) and not isinstance(value, bool) else default

    period = PROBE_PERIOD_SECONDS if not startup else field(startup, "periodSeconds", PROBE_PERIOD_SECONDS)
    started = 0 if not startup else field(startup, "initialDelaySeconds", 0) + max(
        period * field(startup, "failureThreshold", PROBE_FAILURES), field(startup, "timeoutSeconds", 1) + period)
    ready = 0 if not readiness else field(readiness, "initialDelaySeconds", 0) + field(
        readiness, "periodSeconds", PROBE_PERIOD_SECONDS)
    return pull_seconds + started + ready


def node_drain_seconds(grace: int, sharing: int = 1, ready_seconds: int = 0) -> int:
    """How long a drain takes a node holding `sharing` replicas of one workload whose pods take up to `grace` s to
    stop: the drain evicts every pod of the node at once and retries those the workload's budget (maxUnavailable 1)
    refuses, and the budget frees the next one only once the previous one's replacement is Ready elsewhere (up to
    `ready_seconds`), so the last one stops (sharing - 1) replacements after the first (docs/decisions.md, "Node
    drains with replicas that share a node")."""
    return grace + (max(sharing, 1) - 1) * ready_seconds


def drain_minutes_for(grace: int, sharing: int = 1, ready_seconds: int = 0) -> int:
    """The drain timeout a pool needs for a workload whose pods take up to `grace` s to stop, `sharing` of them on
    one node (node_drain_seconds): that drain in whole minutes, plus the margin, never under AKS's default (which a
    shorter drain keeps). Above the maximum AKS takes when the drain needs it, which AksCluster's rules refuse."""
    seconds = node_drain_seconds(grace, sharing, ready_seconds)
    return max(AKS_DRAIN_TIMEOUT_MINUTES, math.ceil(seconds / 60) + DRAIN_MARGIN_MINUTES)


def longest_drain_minutes(workloads: Iterable[tuple[int, int, int]]) -> int:
    """The drain timeout a pool needs for all of `workloads`, each (grace, sharing, ready_seconds) as
    drain_minutes_for takes them: the drains of different workloads on one node run side by side."""
    return max((drain_minutes_for(*w) for w in workloads), default=AKS_DRAIN_TIMEOUT_MINUTES)


def scale_down_grace_seconds(drain_minutes: int) -> str:
    """The autoscaler profile's max-graceful-termination-sec for pools drained within `drain_minutes`: a scale-down
    gives each pod its grace up to this, as an upgrade does up to the drain timeout (a string, as the API takes it)."""
    return str(drain_minutes * 60)


def drained_pool_upgrade(spot: bool, drain_minutes: Optional[int]) -> Optional[dict[str, Any]]:
    """A CPU pool's upgradeSettings: AKS's surge defaults, with the drain timeout when one is given; none on spot."""
    if spot or drain_minutes is None:
        return None
    return {"drainTimeoutInMinutes": drain_minutes}


def gpu_pool_upgrade(spot: bool, max_surge: Optional[str] = None,
                     drain_minutes: Optional[int] = None) -> Optional[dict[str, Any]]:
    """A GPU pool's upgradeSettings (REST names): none on spot (AKS upgrades it without surge and refuses maxSurge);
    on a regular (on-demand, or the fallback) pool, in place unless it is given a surge (then no node is down before
    its replacement is up: maxUnavailable 0), with the drain timeout when one is given."""
    if spot:
        return None
    settings: dict[str, Any] = {"maxSurge": max_surge, "maxUnavailable": "0"} if max_surge else dict(IN_PLACE)
    return {**settings, **(drained_pool_upgrade(False, drain_minutes) or {})}


def surge_nodes(nodes: int, spot: bool, settings: Optional[dict[str, Any]] = None) -> int:
    """The nodes AKS adds to upgrade a pool of `nodes` nodes: none on spot, else maxSurge (an integer, or a percentage
    of the pool's nodes rounded up), no more than the nodes to upgrade."""
    if spot or nodes <= 0:
        return 0
    return _node_count((settings or {}).get("maxSurge") or DEFAULT_MAX_SURGE, nodes)


def _node_count(value: str, nodes: int) -> int:
    """maxSurge's or maxUnavailable's nodes: an integer, or a percentage of the pool's nodes rounded up, no more
    than the pool has."""
    count = -(-nodes * int(value[:-1]) // 100) if value.endswith("%") else int(value)
    return min(count, nodes)


def nodes_drained_at_once(nodes: int, settings: Optional[dict[str, Any]] = None) -> int:
    """How many of a regular pool's `nodes` an upgrade cordons and drains at the same time: as many as its surge
    nodes (learn.microsoft.com azure/aks/upgrade-aks-node-pools-rolling, step 2: "when using max surge, nodes are
    cordoned and drained at once, as many as the buffer nodes") and its maxUnavailable, at least one. AKS does not
    say what both set give; GKE's UpgradeSettings documents their sum, which bounds either reading.
    The replicas of one workload on those nodes share one budget, so they are evicted one after another whichever
    node holds them (node_drain_seconds counts them together)."""
    if nodes <= 0:
        return 1
    unavailable = (settings or {}).get("maxUnavailable") or "0"
    return max(1, min(nodes, surge_nodes(nodes, False, settings) + _node_count(unavailable, nodes)))
