"""Pure decisions of LlmdStack's prefill/decode (P/D) disaggregation: the roles the picker filters on, the llm-d
routing sidecar in front of decode, the picker's P/D scheduling profiles, NIXL's KV transfer over InfiniBand, the
NVIDIA Network Operator's NicClusterPolicy, and the memlock limit NIXL needs on AKS.

Upstream facts (cited in docs/decisions.md):
- llm-d/llm-d-router v0.10.0: `deploy/components/vllm-decode/deployment.yaml` and
  `deploy/environments/dev/p-d/patch-decode.yaml` (the sidecar as a native sidecar on :8000 in front of vLLM on
  :8200, `--kv-connector`, `--secure-proxy=false`), `pkg/sidecar/proxy/options.go` (default model-server port 8200,
  secure serving on unless turned off), `pkg/sidecar/constants/constants.go` (`nixlv2`), `deploy/config/
  pd-epp-config.yaml` (the P/D profiles), `pkg/epp/framework/plugins/scheduling/filter/bylabel/roles.go` (label
  `llm-d.ai/role`), `cmd/epp/runner/runner.go` (the plugin types the picker registers; `pd-profile-handler` is
  deprecated there in favour of `disagg-profile-handler`).
- llm-d/llm-d `docs/infra-providers/aks/README.md`: DOCA-OFED through the Network Operator, the GPU Operator's
  driver with nvidia-peermem, one `rdma/ib` per pod, memlock raised through NRI's ulimit-adjuster.
- containerd/nri `plugins/ulimit-adjuster` (annotation `ulimits.noderesource.dev/container.<name>`) and
  `contrib/kustomize/ulimit-adjuster` (the DaemonSet, image tag v0.10.0 in its image-stable component).
- Mellanox/network-operator v26.4.1: `hack/release.yaml` (component versions), the NicClusterPolicy CRD.
"""
from typing import Any

import yaml

from .images import mirrored_repository
from .units import BYTES_PER_GIB

ROLE_LABEL = "llm-d.ai/role"  # bylabel.RoleLabel
PREFILL, DECODE = "prefill", "decode"  # roles prefill-filter and decode-filter accept
SIDECAR_PORT = 8000  # the routing sidecar's --port: the InferencePool's target port on decode pods
DECODE_VLLM_PORT = 8200  # the sidecar's default --model-server-port: vLLM behind it on decode pods
NIXL_SIDE_CHANNEL_PORT = 5600  # vLLM's VLLM_NIXL_SIDE_CHANNEL_PORT default (the NIXL handshake)
KV_CONNECTOR = "nixlv2"  # the sidecar's connector for vLLM's NixlConnector
RDMA_RESOURCE = "rdma/ib"  # the shared RDMA device plugin's resource: <resourcePrefix>/<resourceName>
ULIMIT_ANNOTATION = "ulimits.noderesource.dev/container."  # containerd/nri ulimit-adjuster's key prefix

# Mellanox/network-operator v26.4.1 hack/release.yaml: the DOCA-OFED driver and the RDMA shared device plugin.
DOCA_DRIVER = {"repository": "nvcr.io/nvidia/mellanox", "image": "doca-driver", "version": "doca3.4.1-26.04-1.1.0.0-1"}
RDMA_DEVICE_PLUGIN = {"repository": "nvcr.io/nvidia/mellanox", "image": "k8s-rdma-shared-dev-plugin",
                      "version": "network-operator-v26.4.1"}
# as the operator composes them (<repository>/<image>:<version>, the driver's tag completed with the node's OS)
NIC_CLUSTER_POLICY_IMAGES = tuple(f"{d['repository']}/{d['image']}:{d['version']}"
                                  for d in (DOCA_DRIVER, RDMA_DEVICE_PLUGIN))
NIC_CLUSTER_POLICY = "nic-cluster-policy"  # the one NicClusterPolicy the operator reconciles
MELLANOX_VENDOR = "15b3"  # PCI vendor id of NVIDIA (Mellanox) NICs
# node-feature-discovery's label for a node with such a NIC: the GPU Operator's NFD lists PCI class 0207
# (InfiniBand) with the vendor as label field (gpu-operator v26.7.0 values.yaml, deviceClassWhitelist)
IB_NODE_LABEL = {f"feature.node.kubernetes.io/pci-{MELLANOX_VENDOR}.present": "true"}
# pods sharing one InfiniBand NIC: the Network Operator's example NicClusterPolicy (v26.4.1) and Azure's
# aks-rdma-infiniband config both allow 63
PODS_PER_NIC = 63
NODE_DAEMON_TOLERATIONS = [{"operator": "Exists"}]  # node daemons run on every matching node, whatever its taints


def sidecar_args() -> list[str]:
    """The routing sidecar as upstream's P/D environment runs it: listening on the pool's port, NIXL v2 (vLLM's
    NixlConnector), plain HTTP inside the pod network (the sidecar serves TLS by default)."""
    return [f"--port={SIDECAR_PORT}", f"--kv-connector={KV_CONNECTOR}", "--secure-proxy=false"]


def pd_plugins(max_prefix_tokens: int) -> str:
    """The picker's EndpointPickerConfig for P/D: llm-d-router v0.10.0's deploy/config/pd-epp-config.yaml, its
    prefix matching sized to the context vLLM accepts. The disagg-profile-handler runs the decode profile first and
    asks the prefix-based decider whether the uncached part of the prompt is worth a remote prefill."""
    config = {
        "apiVersion": "llm-d.ai/v1alpha1", "kind": "EndpointPickerConfig",
        "plugins": [
            {"type": "approx-prefix-cache-producer",
             "parameters": {"maxPrefixTokensToMatch": max_prefix_tokens, "lruCapacityPerServer": 31250}},
            {"type": "prefix-cache-scorer"}, {"type": "queue-scorer"},
            {"type": "prefill-filter"}, {"type": "decode-filter"}, {"type": "max-score-picker"},
            {"type": "disagg-profile-handler", "parameters": {"deciders": {"prefill": "prefix-based-pd-decider"}}},
            {"type": "prefix-based-pd-decider", "parameters": {"nonCachedTokens": 16}},
        ],
        "schedulingProfiles": [
            {"name": role, "plugins": [{"pluginRef": f"{role}-filter"}, {"pluginRef": "max-score-picker"},
                                       {"pluginRef": "prefix-cache-scorer", "weight": 2},
                                       {"pluginRef": "queue-scorer", "weight": 1}]}
            for role in (PREFILL, DECODE)],
    }
    return yaml.safe_dump(config, sort_keys=False)


def nixl_env() -> list[dict[str, Any]]:
    """NIXL's side channel on the pod's own address (vLLM's default is localhost, unreachable from the peer)."""
    return [{"name": "VLLM_NIXL_SIDE_CHANNEL_HOST", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
            {"name": "VLLM_NIXL_SIDE_CHANNEL_PORT", "value": str(NIXL_SIDE_CHANNEL_PORT)}]


def memlock_annotation(container: str, limit_bytes: int) -> dict[str, str]:
    """The ulimit-adjuster's pod annotation raising RLIMIT_MEMLOCK of one container (AKS' default is 64 KiB): up to
    the container's memory limit, more than it can ever pin."""
    limits = [{"type": "RLIMIT_MEMLOCK", "soft": limit_bytes, "hard": limit_bytes}]
    return {f"{ULIMIT_ANNOTATION}{container}": yaml.safe_dump(limits, sort_keys=False)}


def gib_bytes(gib: int) -> int:
    return gib * BYTES_PER_GIB


def network_operator_values(node_selector: dict[str, str], tolerations: list[dict[str, str]]) -> dict[str, Any]:
    """Values of the network-operator chart: the operator on the CPU pool; no second node-feature-discovery (the
    GPU Operator runs one, and the NicClusterPolicy selects the GPU pool by its own label, not NFD's)."""
    return {
        "nfd": {"enabled": False, "deployNodeFeatureRules": False},
        "operator": {"nodeSelector": node_selector, "tolerations": tolerations},
    }


def nic_cluster_policy_spec(registry: str = "") -> dict[str, Any]:
    """DOCA-OFED on the nodes with an InfiniBand NIC (the AKS image carries no InfiniBand driver) and the RDMA
    shared device plugin advertising those NICs as `rdma/ib`. Selected by NFD's label, as Azure's
    aks-rdma-infiniband NicClusterPolicy does, so nothing waits for the GPU pool: the DaemonSets land on its nodes
    as they come. The operator pulls `<repository>/<image>:<version>` (the driver's version with the node's OS as a
    suffix): with a mirror `registry`, the repositories are its copies."""
    plugin_config = {"configList": [{
        "resourcePrefix": RDMA_RESOURCE.split("/")[0], "resourceName": RDMA_RESOURCE.split("/")[1],
        "rdmaHcaMax": PODS_PER_NIC,
        "selectors": {"vendors": [MELLANOX_VENDOR], "linkTypes": ["infiniband"]}}]}
    terms = [{"matchExpressions": [{"key": k, "operator": "In", "values": [v]} for k, v in IB_NODE_LABEL.items()]}]
    return {
        "nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": terms}},
        "tolerations": NODE_DAEMON_TOLERATIONS,
        "ofedDriver": {**DOCA_DRIVER, "repository": mirrored_repository(DOCA_DRIVER["repository"], registry),
                       "upgradePolicy": {"autoUpgrade": True, "maxParallelUpgrades": 1,
                                         "drain": {"enable": True, "force": True, "deleteEmptyDir": True,
                                                   "timeoutSeconds": 300}},
                       "startupProbe": {"initialDelaySeconds": 10, "periodSeconds": 20},
                       "livenessProbe": {"initialDelaySeconds": 30, "periodSeconds": 30},
                       "readinessProbe": {"initialDelaySeconds": 10, "periodSeconds": 30}},
        "rdmaSharedDevicePlugin": {**RDMA_DEVICE_PLUGIN,
                                   "repository": mirrored_repository(RDMA_DEVICE_PLUGIN["repository"], registry),
                                   "config": yaml.safe_dump(plugin_config, sort_keys=False)},
    }
