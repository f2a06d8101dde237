"""The capacity model's node labels and maxPods default checked against upstream (a review of 5e63c00e).

- AKS's reserved labels (MicrosoftDocs/azure-aks-docs @fb060abe use-labels.md, "Reserved system labels") include
  `kubernetes.azure.com/priority` (`spot` or `regular`, which the page prefers to `scalesetpriority`) and
  `kubernetes.azure.com/role: agent` on every node;
- a Grace-based GPU size (Standard_ND128isr_NDR_GB200_v6) is Arm although its name has no `p`: AKS boots it from an
  arm64 image (Azure/AgentBaker @06836ee2 pkg/agent/datamodel/types.go);
- a cluster naming no network plugin is Azure CNI Overlay from Kubernetes 1.30 (Azure/azure-rest-api-specs#30844
  removed the API's `default: kubenet`; azure-aks-docs azure-cni-overlay.md), so its pools' default maxPods is 250."""
from __future__ import annotations

import pytest

from offline import capacity
from offline import deploy_model as dm

from tests.offline.test_capacity_node_labels import (GPU_POOLS, SELECTED, _cpu_offer, _prod_cpu_pool, _refused,
                                                     refuses_webui_beyond_a_250_pod_node)
from tests.offline.test_deploy_model_round9 import OLLAMA_NO_POOL, _ollamas_pools, _prod_with_ollamas_pod


@pytest.mark.parametrize("selector, pools", [
    ({"kubernetes.azure.com/priority": "spot"}, ["gpu-gpu"]),
    ({"kubernetes.azure.com/priority": "regular"}, ["gpu-gpuod"]),
    ({"kubernetes.azure.com/role": "agent"}, GPU_POOLS),
], ids=lambda s: ",".join(f"{k}={v}" for k, v in s.items()) if isinstance(s, dict) else "")
def test_a_pod_selecting_aks_priority_or_role_lands_on_the_pools_carrying_it(selector, pools):
    """prod's Ollama selecting AKS's priority label (as use-labels.md recommends) landed on no pool: the deploy
    model refused a plan a cluster runs."""
    landed, model = _ollamas_pools(_prod_with_ollamas_pod(nodeSelector={**SELECTED, **selector}))
    assert landed == pools and not _refused(model), model.problems


def test_a_pod_selecting_another_priority_lands_nowhere():
    landed, model = _ollamas_pools(_prod_with_ollamas_pod(
        nodeSelector={**SELECTED, "kubernetes.azure.com/priority": "low"}))
    assert landed == [] and _refused(model) == [OLLAMA_NO_POOL]


@pytest.mark.parametrize("size", ["Standard_ND128isr_NDR_GB200_v6", "Standard_ND128isr_GB300_v6"])
def test_a_grace_gpu_size_is_arm64(size):
    """The naming convention's `p` misses NVIDIA's Grace sizes: a pod pinned to amd64 was placed on their arm64
    nodes (where its image cannot run), one pinned to arm64 refused."""
    assert capacity.node_arch(size) == "arm64"
    pool = dm.Pool("urn:gb", "gb", size, (), (), 1, False, None)
    assert dm.landing_pools({"nodeSelector": {"kubernetes.io/arch": "amd64"}}, [pool]) == []
    assert dm.landing_pools({"nodeSelector": {"kubernetes.io/arch": "arm64"}}, [pool]) == [pool]


def test_an_x86_gpu_size_stays_amd64():
    assert capacity.node_arch("Standard_ND96isr_H100_v5") == "amd64"
    assert capacity.node_arch("Standard_NC24ads_A100_v4") == "amd64"


@pytest.mark.parametrize("network, default", [
    ({}, 250),  # no plugin named: AKS's default from 1.30 is Azure CNI Overlay
    ({"networkPluginMode": "overlay"}, 250),
    ({"networkPlugin": "none"}, 110),  # a CNI brought by the user: kubelet's default
])
def test_a_cluster_naming_no_network_plugin_gives_overlays_default(network, default):
    assert _cpu_offer(_prod_cpu_pool(None, network)) == _cpu_offer(_prod_cpu_pool(default, network))


def test_a_pod_the_real_node_cannot_hold_is_refused_on_a_cluster_naming_no_plugin(monkeypatch, capsys, tmp_path):
    """Through `make plan`: prod's cluster with a networkProfile naming no plugin (AKS makes it overlay, 250 pods,
    5050 MiB kube-reserved on a D8ds_v5), its CPU pool without maxPods, and Open WebUI asking for one MiB more than
    such a node offers: the model read kubenet (110 pods) and counted the pod on a node that cannot hold it."""
    refuses_webui_beyond_a_250_pod_node(_prod_cpu_pool(None, {"loadBalancerSku": "standard"}), monkeypatch, capsys,
                                        tmp_path)
