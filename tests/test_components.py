"""Behaviour that matters, asserted on what the real program registers under mocks."""
from __future__ import annotations

import re

import pytest

from llmplatform.hardening import NON_ROOT_UID

from .conftest import variant

MC = "azure-native:containerservice:ManagedCluster"
POOL = "azure-native:containerservice:AgentPool"
RELEASE = "kubernetes:helm.sh/v3:Release"
SPOT_TOLERATION = {"key": "kubernetes.azure.com/scalesetpriority", "operator": "Equal", "value": "spot",
                   "effect": "NoSchedule"}
GPU_TOLERATION = {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}


def release(plan, chart):
    return next(r for r in plan.helm_releases() if r.inputs["chart"] == chart)


def gpu_release(plan):
    return next(r for r in plan.helm_releases() if r.inputs["chart"] in ("nvidia-device-plugin", "gpu-operator"))


def pool(plan, name):
    return next(r for r in plan.of_type(POOL) if r.inputs["agentPoolName"] == name)


def test_system_pool_is_the_only_inline_pool(any_plan):
    profiles = any_plan.one(MC).inputs["agentPoolProfiles"]
    assert [p["mode"] for p in profiles] == ["System"]
    assert {r.inputs["agentPoolName"] for r in any_plan.of_type(POOL)} >= {"cpu"}


def test_autoscaler_owned_counts_are_ignored(any_plan):
    assert "agentPoolProfiles[0].count" in any_plan.one(MC).options["ignoreChanges"]
    assert all("count" in r.options["ignoreChanges"] for r in any_plan.of_type(POOL))


def test_dev_gpu_pool_is_separate_scales_from_zero_on_spot_and_tainted(dev):
    gpu = pool(dev, "gpu")
    assert gpu.inputs["minCount"] == 0 and gpu.inputs["maxCount"] == 1 and gpu.inputs["enableAutoScaling"]
    assert gpu.inputs["scaleSetPriority"] == "Spot" and gpu.inputs["scaleSetEvictionPolicy"] == "Delete"
    assert gpu.inputs["spotMaxPrice"] == -1
    assert "nvidia.com/gpu=present:NoSchedule" in gpu.inputs["nodeTaints"]
    assert gpu.inputs["gpuProfile"] == {"driver": "Install"}
    assert dev.one(MC).inputs["sku"]["tier"] == "Free"


def test_cluster_security_baseline(any_plan):
    mc = any_plan.one(MC).inputs
    assert mc["aadProfile"]["managed"] and mc["aadProfile"]["enableAzureRBAC"]
    assert mc["oidcIssuerProfile"]["enabled"] and mc["securityProfile"]["workloadIdentity"]["enabled"]
    net = mc["networkProfile"]
    assert (net["networkPlugin"], net["networkPluginMode"], net["networkPolicy"]) == ("azure", "overlay", "cilium")
    assert net["networkDataplane"] == "cilium"
    kv = mc["addonProfiles"]["azureKeyvaultSecretsProvider"]
    assert kv["enabled"] and kv["config"]["enableSecretRotation"] == "true"
    assert mc["autoUpgradeProfile"]["upgradeChannel"] in ("patch", "stable")


def test_prod_has_zones_standard_tier_entra_only_maintenance_and_authorized_ips(prod):
    mc = prod.one(MC).inputs
    assert mc["agentPoolProfiles"][0]["availabilityZones"] == ["1", "2", "3"]
    assert all(r.inputs["availabilityZones"] == ["1", "2", "3"] for r in prod.of_type(POOL))
    assert mc["sku"]["tier"] == "Standard" and mc["disableLocalAccounts"] is True
    assert mc["agentPoolProfiles"][0]["nodeTaints"] == ["CriticalAddonsOnly=true:NoSchedule"]
    assert mc["apiServerAccessProfile"]["authorizedIPRanges"] == ["203.0.113.0/24"]
    windows = {r.inputs["configName"] for r in prod.of_type("azure-native:containerservice:MaintenanceConfiguration")}
    assert windows == {"aksManagedAutoUpgradeSchedule", "aksManagedNodeOSUpgradeSchedule"}


def test_priority_expander_only_with_its_configmap(any_plan):
    expander = any_plan.one(MC).inputs["autoScalerProfile"]["expander"]
    has_priorities = any(r.inputs["metadata"]["name"] == "cluster-autoscaler-priority-expander"
                         for r in any_plan.of_type("kubernetes:core/v1:ConfigMap"))
    assert (expander == "priority") == has_priorities


def test_dev_has_no_maintenance_window_and_no_system_taint(dev):
    assert dev.of_type("azure-native:containerservice:MaintenanceConfiguration") == []
    assert not dev.one(MC).inputs["agentPoolProfiles"][0].get("nodeTaints")


def test_prod_spot_pool_has_on_demand_fallback_preferred_last(prod):
    spot, fallback = pool(prod, "gpu"), pool(prod, "gpuod")
    assert fallback.inputs["scaleSetPriority"] == "Regular" and "spotMaxPrice" not in fallback.inputs
    assert fallback.inputs["nodeLabels"] == spot.inputs["nodeLabels"]
    assert fallback.inputs["nodeTaints"] == ["nvidia.com/gpu=present:NoSchedule"]
    assert prod.one(MC).inputs["autoScalerProfile"]["expander"] == "priority"
    expander = prod.one("kubernetes:core/v1:ConfigMap", "gpu-priority-expander").inputs
    assert expander["metadata"] == {"name": "cluster-autoscaler-priority-expander", "namespace": "kube-system"}
    priorities = __import__("yaml").safe_load(expander["data"]["priorities"])

    def rank(node_group):  # the autoscaler takes the highest priority whose regex matches the node group
        return max(p for p, patterns in priorities.items() if any(re.fullmatch(x, node_group) for x in patterns))

    assert rank("aks-gpu-12345678-vmss") > rank("aks-gpuod-12345678-vmss") > rank("aks-cpu-12345678-vmss")


def test_device_plugin_tolerates_gpu_and_spot_taints_and_targets_gpu_nodes(dev):
    values = release(dev, "nvidia-device-plugin").inputs["values"]
    assert GPU_TOLERATION in values["tolerations"] and SPOT_TOLERATION in values["tolerations"]
    terms = values["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
    assert terms == [{"matchExpressions": [{"key": "llm-platform/accelerator", "operator": "In",
                                            "values": ["nvidia"]}]}]


def test_operator_mode_leaves_driver_to_the_gpu_operator():
    plan = variant("dev-operator")
    assert pool(plan, "gpu").inputs["gpuProfile"] == {"driver": "None"}
    operator = release(plan, "gpu-operator").inputs
    assert operator["values"]["driver"]["rdma"]["enabled"] is True
    assert SPOT_TOLERATION in operator["values"]["daemonsets"]["tolerations"]
    assert all(r.inputs["chart"] != "nvidia-device-plugin" for r in plan.helm_releases())


def test_gpu_outputs_are_what_workloads_need(dev):
    # the pool's own label selects it (and its fallback); the accelerator label stays for every-GPU-node software
    assert dev.outputs["gpuNodeSelector"] == {"llm-platform/pool": "gpu"}
    labels = pool(dev, "gpu").inputs["nodeLabels"]
    assert labels["llm-platform/pool"] == "gpu" and labels["llm-platform/accelerator"] == "nvidia"


def test_kubeconfig_output_is_secret_and_uses_kubelogin(any_plan):
    assert "kubeconfig" in any_plan.secret_outputs
    provider = any_plan.one("pulumi:providers:kubernetes")
    assert "kubeconfig" in provider.secret_paths
    assert "--login" in provider.inputs["kubeconfig"] and "kubelogin" in provider.inputs["kubeconfig"]


def test_in_cluster_resources_use_the_cluster_provider(any_plan):
    for r in any_plan.resources:
        if r.type.startswith("kubernetes:"):
            assert r.options["provider"] and "platform-k8s" in r.options["provider"], r.name


def test_deployer_gets_cluster_admin_before_the_provider_is_used(any_plan):
    grant = any_plan.one("azure-native:authorization:RoleAssignment", "platform-deployer-admin")
    assert grant.inputs["roleDefinitionId"].endswith("b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b")
    assert grant.urn in any_plan.one("pulumi:providers:kubernetes").dependencies


def test_pvc_is_rwx_and_bound_to_the_share(any_plan):
    pv = any_plan.one("kubernetes:core/v1:PersistentVolume").inputs
    pvc = any_plan.one("kubernetes:core/v1:PersistentVolumeClaim", "models-pvc").inputs
    share = any_plan.one("azure-native:storage:FileShare").inputs
    account = any_plan.one("azure-native:storage:StorageAccount").inputs
    assert pvc["spec"]["accessModes"] == ["ReadWriteMany"] == pv["spec"]["accessModes"]
    assert pvc["spec"]["volumeName"] == pv["metadata"]["name"] and pvc["spec"]["storageClassName"] == ""
    assert pv["spec"]["persistentVolumeReclaimPolicy"] == "Retain"
    csi = pv["spec"]["csi"]
    assert csi["driver"] == "file.csi.azure.com"
    assert csi["volumeAttributes"]["shareName"] == share["shareName"]
    assert csi["volumeAttributes"]["storageAccount"] == account["accountName"]
    assert account["kind"] == "FileStorage" and account["sku"]["name"].startswith("Premium_")
    assert share["shareQuota"] >= 100


def test_nfs_share_is_locked_to_the_node_subnet(dev):
    account = dev.one("azure-native:storage:StorageAccount").inputs
    rules = account["networkRuleSet"]
    assert rules["defaultAction"] == "Deny"
    [rule] = rules["virtualNetworkRules"]
    assert rule["virtualNetworkResourceId"].endswith("/Subnet/nodes")  # the mock id of the node subnet
    assert account["allowSharedKeyAccess"] is False and account["enableHttpsTrafficOnly"] is False
    assert dev.one("azure-native:storage:FileShare").inputs["enabledProtocols"] == "NFS"


def test_smb_variant_uses_a_secret_key_and_https():
    plan = variant("dev-smb-nogpu")
    account = plan.one("azure-native:storage:StorageAccount").inputs
    assert account["enableHttpsTrafficOnly"] is True
    secret = plan.one("kubernetes:core/v1:Secret", "models-smb-key")
    assert any("stringData.azurestorageaccountkey".startswith(p) for p in secret.secret_paths)
    assert plan.of_type(POOL) and all(r.inputs["agentPoolName"] == "cpu" for r in plan.of_type(POOL))
    assert not any(r.inputs["chart"] in ("nvidia-device-plugin", "gpu-operator") for r in plan.helm_releases())


def test_prod_state_is_protected_and_store_outlives_cluster(prod, dev):
    for kind in ("azure-native:storage:StorageAccount", "azure-native:storage:FileShare"):
        assert prod.one(kind).options["protect"] and not dev.one(kind).options["protect"]
    store_rg = prod.one("azure-native:resources:ResourceGroup", "models-rg")
    assert store_rg.options["protect"] and store_rg.inputs["resourceGroupName"] == "rg-llmp-prod-models"
    assert prod.one("azure-native:storage:StorageAccount").inputs["resourceGroupName"] == "rg-llmp-prod-models"


def test_preload_job_runs_on_cpu_pool_hardened_and_dry_run_only_lists(dev):
    job = dev.one("kubernetes:batch/v1:Job", "models-preload").inputs
    pod = job["spec"]["template"]["spec"]
    assert pod["nodeSelector"] == {"llm-platform/pool": "cpu"}
    assert pod["automountServiceAccountToken"] is False
    container = pod["containers"][0]
    assert not container["image"].endswith(":latest") and ":" in container["image"]
    sc = container["securityContext"]
    assert sc["allowPrivilegeEscalation"] is False and sc["capabilities"]["drop"] == ["ALL"]
    assert sc["seccompProfile"]["type"] == "RuntimeDefault"
    env = {e["name"]: e["value"] for e in container["env"]}
    assert env["MODELS"] == "tinyllama" and env["DRY_RUN"] == "false" and env["OLLAMA_MODELS"] == "/models"
    dry = variant("dev-smb-nogpu").one("kubernetes:batch/v1:Job").inputs
    assert {e["name"]: e["value"] for e in dry["spec"]["template"]["spec"]["containers"][0]["env"]}["DRY_RUN"] == "true"
    assert dry["metadata"]["name"] != job["metadata"]["name"]  # a changed Job gets a new name (Jobs are immutable)


def test_subnets_are_created_one_after_another(dev):
    subnets = {r.name: r for r in dev.of_type("azure-native:network:Subnet")}
    assert subnets["platform-nodes"].urn in subnets["platform-endpoints"].dependencies
    assert subnets["platform-endpoints"].urn in subnets["platform-postgres"].dependencies
    delegation = subnets["platform-postgres"].inputs["delegations"][0]
    assert delegation["serviceName"] == "Microsoft.DBforPostgreSQL/flexibleServers"


def test_every_child_is_parented_to_its_component(any_plan):
    components = {r.urn for r in any_plan.resources if r.type.startswith("llmplatform:")}
    for r in any_plan.resources:
        if r.type.startswith(("azure-native:", "pulumi:providers")) and r.name != "platform-rg":
            assert r.parent in components, r.name
    # the shared resource group is the composition's own first step
    assert any_plan.one("azure-native:resources:ResourceGroup", "platform-rg").parent.endswith("-" + any_plan.stack)


# kubernetes-sigs/azurefile-csi-driver v1.35.7 (19cda160): pkg/azurefile/azurefile_options.go sets
# --mount-permissions to 0777 by default; pkg/azurefile/nodeserver.go (NodeStageVolume) chmods an NFS mount's root to
# the volume attribute mountPermissions (octal, any key case) or that default, and skips the chmod for "0" (the
# share's root then stays root's). An SMB mount belongs to the uid= of its mount options.
def share_writable_by(uid: int, pv_spec: dict) -> bool:
    attrs = {k.lower(): v for k, v in pv_spec["csi"]["volumeAttributes"].items()}
    if uid == 0:
        return True
    if attrs.get("protocol") == "nfs":
        mode = int(attrs.get("mountpermissions", "0777"), 8)
        return mode != 0 and bool(mode & 0o002)
    return f"uid={uid}" in pv_spec.get("mountOptions", [])


@pytest.mark.parametrize("name", ["dev", "dev-smb-nogpu"])
def test_preload_job_writes_the_share_as_the_model_servers_non_root_uid(name):
    plan = variant(name)
    job = next(j for j in plan.of_type("kubernetes:batch/v1:Job") if j.name == "models-preload").inputs
    pod = job["spec"]["template"]["spec"]
    uid = pod["containers"][0]["securityContext"].get("runAsUser", pod["securityContext"].get("runAsUser"))
    ollama = next(d.inputs for d in plan.of_type("kubernetes:apps/v1:Deployment")
                  if d.inputs["metadata"]["name"] == "ollama")["spec"]["template"]["spec"]
    assert uid == ollama["securityContext"]["runAsUser"] == NON_ROOT_UID and pod["securityContext"]["runAsNonRoot"]
    assert share_writable_by(uid, plan.one("kubernetes:core/v1:PersistentVolume").inputs["spec"])
    skipped = {v.split("=", 1)[0] for k, v in job["metadata"]["annotations"].items() if k.startswith("checkov.io/")}
    assert not skipped & {"CKV_K8S_23", "CKV_K8S_40"}  # no root exception left


def test_share_rule_refuses_a_non_root_writer_without_the_drivers_chmod():
    nfs = {"csi": {"volumeAttributes": {"protocol": "nfs", "mountPermissions": "0"}}}
    assert not share_writable_by(NON_ROOT_UID, nfs) and share_writable_by(0, nfs)
    assert not share_writable_by(NON_ROOT_UID, {"csi": {"volumeAttributes": {"protocol": "nfs",
                                                                             "mountPermissions": "0755"}}})
