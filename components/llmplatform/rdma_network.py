"""InfiniBand for prefill/decode disaggregation on AKS, as llm-d's AKS guide sets it up (docs/infra-providers/aks):
the NVIDIA Network Operator with a NicClusterPolicy (DOCA-OFED driver, `rdma/ib` from the RDMA shared device
plugin) on the GPU pool, and containerd's NRI ulimit-adjuster raising the memlock limit NIXL needs (AKS: 64 KiB).

The GPU Operator's driver with RDMA (nvidia-peermem) comes from GpuNodePool (`gpu_operator_values(..., rdma)` on an
InfiniBand size). Not a component of its own: LlmdStack creates these as its children when prefill_decode is on.
"""
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from .handles import field
from .hardening import container_security, pod_security, root_image, scanner_annotations
from .kube import cpu_placement, egress_guard, helm_release, pulled, labels, namespace, tolerations_args
from .pd_specs import (IB_NODE_LABEL, NIC_CLUSTER_POLICY, NODE_DAEMON_TOLERATIONS, network_operator_values,
                       nic_cluster_policy_spec)
from .pins import NETWORK_OPERATOR, NRI_ULIMIT_ADJUSTER_IMAGE

NETWORK_OPERATOR_NAMESPACE = "network-operator"  # where llm-d's AKS guide (and seed 004) installs it
NRI_NAMESPACE = "nri-plugins"
NRI_SOCKET = "/var/run/nri/nri.sock"  # containerd's default NRI socket_path


def no_probe_endpoint() -> list[tuple[str, str]]:
    reason = "the NRI plugin serves no endpoint to probe (a client of containerd's socket, it exits when that drops)"
    return [("CKV_K8S_8", reason), ("CKV_K8S_9", reason)]


def rdma_network(parent: pulumi.Resource, name: str, cluster: Any) -> list[pulumi.Resource]:
    """The Network Operator, its NicClusterPolicy and the memlock plugin; returns what RDMA pods wait for."""
    child = pulumi.ResourceOptions(parent=parent, protect=False)
    ns = namespace(f"{name}-network-operator-ns", NETWORK_OPERATOR_NAMESPACE, "privileged", child)
    egress_guard(f"{name}-network-operator-egress-guard", ns.metadata.name, child)
    values = cpu_placement(cluster).apply(
        lambda p: network_operator_values(p["nodeSelector"], p.get("tolerations", [])))
    release = helm_release(f"{name}-network-operator", NETWORK_OPERATOR, ns.metadata.name, values, child, cluster=cluster)
    # the CRD comes with the chart (crds/)
    policy = k8s.apiextensions.CustomResource(
        f"{name}-nic-cluster-policy", api_version="mellanox.com/v1alpha1", kind="NicClusterPolicy",
        metadata=k8s.meta.v1.ObjectMetaArgs(name=NIC_CLUSTER_POLICY),
        spec=field(cluster, "image_registry", "").apply(nic_cluster_policy_spec),
        opts=pulumi.ResourceOptions(parent=parent, protect=False, depends_on=[release]))
    adjuster = _ulimit_adjuster(parent, name, cluster)
    return [policy, adjuster]


def _ulimit_adjuster(parent: pulumi.Resource, name: str, cluster: Any) -> k8s.apps.v1.DaemonSet:
    """containerd/nri's ulimit-adjuster on the InfiniBand nodes (contrib/kustomize/ulimit-adjuster): it applies the
    `ulimits.noderesource.dev/container.<name>` annotations of the pods there. NRI is on by default from containerd
    2.0 (the runtime of AKS' Ubuntu 24.04 images)."""
    child = pulumi.ResourceOptions(parent=parent, protect=False)
    ns = namespace(f"{name}-nri-ns", NRI_NAMESPACE, "privileged", child)  # a hostPath socket: above baseline
    egress_guard(f"{name}-nri-egress-guard", ns.metadata.name, child)
    app = "nri-plugin-ulimit-adjuster"
    return k8s.apps.v1.DaemonSet(
        f"{name}-nri-ulimit-adjuster",
        metadata=k8s.meta.v1.ObjectMetaArgs(
            name=app, namespace=ns.metadata.name, labels=labels("node-plugin", app),
            annotations=scanner_annotations([NRI_ULIMIT_ADJUSTER_IMAGE], [*root_image(
                "the NRI plugin connects to containerd's root-owned socket (upstream's DaemonSet runs it as root, "
                "every capability dropped)"), *no_probe_endpoint()])),
        spec=k8s.apps.v1.DaemonSetSpecArgs(
            selector=k8s.meta.v1.LabelSelectorArgs(match_labels={"app.kubernetes.io/name": app}),
            template=k8s.core.v1.PodTemplateSpecArgs(
                metadata=k8s.meta.v1.ObjectMetaArgs(labels=labels("node-plugin", app)),
                spec=k8s.core.v1.PodSpecArgs(
                    priority_class_name="system-node-critical", automount_service_account_token=False,
                    security_context=pod_security(run_as_user=None),
                    node_selector=IB_NODE_LABEL, tolerations=tolerations_args(NODE_DAEMON_TOLERATIONS),
                    containers=[k8s.core.v1.ContainerArgs(
                        name="plugin", image=pulled(cluster, NRI_ULIMIT_ADJUSTER_IMAGE), args=["-idx", "10"],
                        image_pull_policy="IfNotPresent",
                        resources=k8s.core.v1.ResourceRequirementsArgs(
                            requests={"cpu": "2m", "memory": "5Mi"}, limits={"cpu": "100m", "memory": "32Mi"}),
                        security_context=container_security(run_as_user=None),
                        volume_mounts=[k8s.core.v1.VolumeMountArgs(name="nri-socket", mount_path=NRI_SOCKET)])],
                    volumes=[k8s.core.v1.VolumeArgs(name="nri-socket", host_path=k8s.core.v1.HostPathVolumeSourceArgs(
                        path=NRI_SOCKET, type="Socket"))]))),
        opts=child)
