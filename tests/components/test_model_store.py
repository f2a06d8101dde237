"""ModelStore (components/llmplatform/model_store.py): the shared RWX share, its network lock, SMB and NFS, protection
in prod, and the preload Job that fills it."""
from __future__ import annotations

import pytest
from llmplatform.hardening import NON_ROOT_UID

from tests.conftest import plan_for, variant


POOL = "azure-native:containerservice:AgentPool"


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
    assert rule["virtualNetworkResourceId"].endswith("/virtualNetworks/vnet-llmp-dev/subnets/nodes")  # the node subnet
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


HF = "hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M"


def test_the_preload_deadline_grows_with_the_model_sizes_and_the_job_records_them(dev):
    """The Job is given an hour, or the time to pull its models at 10 MB/s; the deploy model reads the sizes from the
    Job's annotation, so a model outside the catalogue counts with its declared size."""
    import json

    import llmplatform as P
    from llmplatform.model_store import MODEL_SIZES_ANNOTATION, preload_timeout_seconds
    from offline import deploy_model as dm
    from offline import runner as offline
    from tests.components.test_components_alone import cluster_handle, provider_opts

    assert preload_timeout_seconds(0) == preload_timeout_seconds(30) == 3600
    assert preload_timeout_seconds(150) == 16140  # 150 GiB = 161061 MB at 10 MB/s, in whole minutes
    assert dm.MODEL_SIZES == MODEL_SIZES_ANNOTATION
    job = dev.one("kubernetes:batch/v1:Job", "models-preload").inputs
    # the catalogue's 0.64 GB (ollama.com's figure), in GiB as every size the stack counts
    sizes = json.loads(job["metadata"]["annotations"][MODEL_SIZES_ANNOTATION])
    assert sizes == {"tinyllama": pytest.approx(0.64e9 / 1024 ** 3)}
    assert job["metadata"]["annotations"]["pulumi.com/timeoutSeconds"] == "3600"

    plan = offline.run_function(lambda: P.ModelStore("models", {
        "cluster": cluster_handle(), "account_name": "stmodels1", "namespace": "llm", "size_gib": 200,
        "models": ["tinyllama", HF], "model_sizes_gib": {"tinyllama": 0.64, HF: 150.0}}, provider_opts()))
    reg = plan.one("kubernetes:batch/v1:Job", "models-preload")
    annotations, spec = reg.inputs["metadata"]["annotations"], reg.inputs["spec"]
    assert json.loads(annotations[MODEL_SIZES_ANNOTATION]) == {"tinyllama": 0.64, HF: 150.0}
    assert annotations["pulumi.com/timeoutSeconds"] == "16200" and spec["activeDeadlineSeconds"] == 4 * 16200
    env = {e["name"]: e["value"] for e in spec["template"]["spec"]["containers"][0]["env"]}
    assert env["MODELS"] == f"tinyllama {HF}"
    work, what = dm.job_work(reg, dm.load_durations())
    assert "150.6 GiB" in what and work.pessimistic > 3600  # the declared size, not 0 for an unknown name


def test_a_store_given_a_group_and_a_group_to_create_is_refused_naming_both():
    """resource_group_name (an existing group) and separate_resource_group (one to create) both place the account:
    given both, the created group won and the other was dropped without a word."""
    import llmplatform
    from offline import runner as offline
    from tests.components.test_components_alone import cluster_handle, provider_opts

    def program() -> None:
        llmplatform.ModelStore("models", {"cluster": cluster_handle(), "account_name": "stmodels1", "namespace": "llm",
                                          "resource_group_name": "rg-shared", "separate_resource_group": "rg-models"},
                               provider_opts())
    with pytest.raises(llmplatform.ComponentInputError,
                       match=r"separate_resource_group='rg-models' is invalid; allowed: only without "
                             r"resource_group_name \('rg-shared'\)") as error:
        offline.run_function(program)
    assert [e["property_path"] for e in error.value.errors or []] == ["separate_resource_group"]


@pytest.mark.parametrize("selector, path, message", [
    ({"bad key": "x"}, "preload_node_selector['bad key']", "a label key"),
    ({"example.com/a/b": "x"}, "preload_node_selector['example.com/a/b']", "a label key"),
    ({"llm-platform/pool": "cpu pool"}, "preload_node_selector['llm-platform/pool']", "a label value"),
    ({"llm-platform/pool": "-cpu"}, "preload_node_selector['llm-platform/pool']", "a label value"),
])
def test_a_preload_node_selector_that_is_no_label_is_refused_before_anything_registers(selector, path, message):
    """The preload Job's nodeSelector: the API server refuses keys and values that are not labels' (PodSpec
    validation, ValidateLabels), only at `pulumi up`; the mocks and the strict schemas take any string."""
    import llmplatform
    from offline import runner as offline
    from tests.components.test_components_alone import cluster_handle, provider_opts

    def program() -> None:
        llmplatform.ModelStore("models", {"cluster": cluster_handle(), "account_name": "stmodels1", "namespace": "llm",
                                          "preload_node_selector": selector}, provider_opts())
    with pytest.raises(llmplatform.ComponentInputError, match=message) as error:
        offline.run_function(program)
    assert [e["property_path"] for e in error.value.errors or []] == [path]


def test_a_preload_node_selector_of_labels_places_the_job():
    import llmplatform
    from offline import runner as offline
    from tests.components.test_components_alone import cluster_handle, provider_opts

    selector = {"kubernetes.io/os": "linux", "agentpool": "cpu2", "example.com/tier": ""}

    def program() -> None:
        llmplatform.ModelStore("models", {"cluster": cluster_handle(), "account_name": "stmodels1", "namespace": "llm",
                                          "models": ["qwen2.5:0.5b"], "preload_node_selector": selector},
                               provider_opts())
    job = offline.run_function(program).one("kubernetes:batch/v1:Job")
    assert job.inputs["spec"]["template"]["spec"]["nodeSelector"] == selector


def test_the_nfs_share_keeps_no_root_squash_as_root_is_only_the_csi_drivers(any_plan):
    """Why the share stays NoRootSquash (docs/decisions.md, "The model share stays NoRootSquash"): every pod that
    mounts the claim runs as the non-root NON_ROOT_UID, so RootSquash (uid 0 mapped to the anonymous uid, Azure Files
    nfs-root-squash) would change none of their access; the one root on the share is the CSI node plugin, which chmods
    the share's root to mountPermissions (unset here: the driver's 0777) at every stage where the mode differs, and an
    error fails the mount (azurefile-csi-driver nodeserver.go, chmodIfPermissionMismatch): squashed, that chmod is
    the anonymous uid's. And rootSquash is not create-only (plan_diff's rules: no replacement of the share)."""
    from offline.plan_diff.rules import rules as replacement_rules
    from offline.pod_specs import pod_spec
    share = any_plan.one("azure-native:storage:FileShare").inputs
    if share["enabledProtocols"] != "NFS":
        assert "rootSquash" not in share
        return
    assert share["rootSquash"] == "NoRootSquash"
    pv = any_plan.one("kubernetes:core/v1:PersistentVolume").inputs["spec"]
    assert "mountpermissions" not in {k.lower() for k in pv["csi"]["volumeAttributes"]}  # the driver chmods 0777
    claim = any_plan.one("kubernetes:core/v1:PersistentVolumeClaim", "models-pvc").inputs["metadata"]["name"]
    mounting = [spec for r in any_plan.kubernetes_objects() for spec in [pod_spec(r.inputs)] if spec and any(
        (v.get("persistentVolumeClaim") or {}).get("claimName") == claim for v in spec.get("volumes", []))]
    assert mounting  # the preload Job and the model servers
    for spec in mounting:
        for container in spec["containers"]:
            sc = {**(spec.get("securityContext") or {}), **(container.get("securityContext") or {})}
            assert sc.get("runAsUser") == NON_ROOT_UID and sc.get("runAsNonRoot") is True
    rule = replacement_rules()["azureNative"]["types"]["azure-native:storage:FileShare"]
    assert "rootSquash" not in rule["forceNew"] + rule["path"]


@pytest.mark.parametrize("size_gib, preload, refused", [(100, True, True), (100, False, False), (111, True, False)])
def test_a_store_too_small_for_its_models_is_refused_before_anything_registers(size_gib, preload, refused):
    """The stack refuses a modelStore.sizeGib that leaves under 10 % free above its models; the component took any
    size, and its preload Job then found no room at `pulumi up`, after the account and the share were made. 100 GiB
    for 99.5 GiB of models: refused, naming the size that fits (111); with preload off nothing is pulled."""
    import llmplatform
    from offline import runner as offline
    from tests.components.test_components_alone import cluster_handle, provider_opts

    def program() -> None:
        llmplatform.ModelStore("models", {"cluster": cluster_handle(), "account_name": "stmodels1", "namespace": "llm",
                                          "size_gib": size_gib, "preload": preload,
                                          "models": ["tinyllama", "hf.co/org/big:Q8"],
                                          "model_sizes_gib": {"tinyllama": 0.5, "hf.co/org/big:Q8": 99}},
                               provider_opts())
    if not refused:
        offline.run_function(program)
        return
    with pytest.raises(llmplatform.ComponentInputError,
                       match=r"size_gib=100 is invalid; allowed: at least 111 GiB: 10 % of the share free above the ~100 GiB of "
                             r"the models to preload \(model_sizes_gib\)") as error:
        offline.run_function(program)
    assert [e["property_path"] for e in error.value.errors or []] == ["size_gib"]


@pytest.mark.parametrize("sizes, size_gib, says", [
    ([94.5], 100, "at least 105 GiB: 10 % of the share free"),  # 105 holds 94.5 with 10.5 GiB free: not 106
    ([94.5], 105, None),
    ([91], 101, "at least 102 GiB: 10 % of the share free"),  # 101.1 GiB rounds up, never to the nearest (101)
    ([4096.0] * 22 + [2048.0], 102399, "at least 102400 GiB: 10 % of the share free"),  # the largest share holds it
    ([4096.0] * 23, 102400, "fewer models: the largest share (102400 GiB) holds 92160 GiB of them"),  # not "at least
])                                                                                                   # 104676 GiB"
def test_the_share_room_names_the_least_share_that_holds_the_models(sizes, size_gib, says):
    """The refusal named one GiB more than the least share that fits when the models' size over 0.9 is whole
    (94.5 / 0.9 = 105: "at least 106"), and a size above Azure's largest share when no share holds them."""
    import llmplatform
    from offline import runner as offline
    from tests.components.test_components_alone import cluster_handle, provider_opts
    names = [f"hf.co/org/m{i}:Q8_0" for i in range(len(sizes))]

    def program() -> None:
        llmplatform.ModelStore("models", {"cluster": cluster_handle(), "account_name": "stmodels1", "namespace": "llm",
                                          "size_gib": size_gib, "models": names,
                                          "model_sizes_gib": dict(zip(names, sizes))}, provider_opts())
    if says is None:
        offline.run_function(program)
        return
    with pytest.raises(llmplatform.ComponentInputError) as error:
        offline.run_function(program)
    assert says in str(error.value) and [e["property_path"] for e in error.value.errors or []] == ["size_gib"]


@pytest.mark.parametrize("size_gib, sizes, refused", [
    (50, {"a": 60}, ["size_gib"]),  # below Azure's smallest share: that refusal alone, not also "at least 67 GiB"
    (100, {"a": 10, "unlisted": 200}, ["model_sizes_gib['unlisted']"]),  # a size of a model not preloaded
    (100, {"a": 5000}, ["model_sizes_gib['a']"]),  # above MAX_MODEL_GIB: a typo, not counted
    (100, {"a": 90, "b": True}, ["model_sizes_gib['b']"]),  # true is no size (counted as 1 GiB it needs 102)
])
def test_a_bad_size_is_refused_once_on_its_own_key_and_not_counted_in_the_share_room(size_gib, sizes, refused):
    """The room rule counts only the sizes the other rules accept, of the models preloaded, for a share size Azure
    offers: a bad input is one problem on its own key, not a second one on `size_gib`."""
    import llmplatform
    from offline import runner as offline
    from tests.components.test_components_alone import cluster_handle, provider_opts

    def program() -> None:
        llmplatform.ModelStore("models", {"cluster": cluster_handle(), "account_name": "stmodels1", "namespace": "llm",
                                          "size_gib": size_gib, "models": sorted(set(sizes) - {"unlisted"}),
                                          "model_sizes_gib": sizes}, provider_opts())
    with pytest.raises(llmplatform.ComponentInputError) as error:
        offline.run_function(program)
    assert [e["property_path"] for e in error.value.errors or []] == refused, str(error.value)


# ---- share snapshots (Azure Backup, SMB only) -------------------------------------------------------------------
RS = "azure-native:recoveryservices:"


def test_a_store_takes_no_snapshots_unless_asked(dev, prod):
    """Off by default, in every shipped stack: the NFS shares of dev and prod cannot have Azure Backup's."""
    assert not [r for plan in (dev, prod) for r in plan.resources if r.type.startswith(RS)]


def test_smb_snapshots_register_the_account_and_protect_the_share_by_a_daily_policy():
    """`modelStore.snapshots` on an SMB share (the dev-smb-nogpu variant): one vault in the store's group, a daily
    policy at 02:00 UTC keeping 30 days, the account registered as Azure Backup names it (after the share exists: the
    registration is what lists its shares to the vault) and the share protected under its own name by that policy."""
    plan = variant("dev-smb-nogpu")
    account = plan.one("azure-native:storage:StorageAccount")
    group, name = account.inputs["resourceGroupName"], account.inputs["accountName"]
    vault = plan.one(RS + "Vault").inputs
    assert vault["vaultName"] == f"rsv-{name}" and vault["resourceGroupName"] == group
    assert vault["location"] == account.inputs["location"] and vault["sku"] == {"name": "RS0", "tier": "Standard"}
    policy = plan.one(RS + "ProtectionPolicy").inputs["properties"]
    assert policy["workLoadType"] == "AzureFileShare" and policy["timeZone"] == "UTC"
    assert policy["schedulePolicy"] == {"schedulePolicyType": "SimpleSchedulePolicy", "scheduleRunFrequency": "Daily",
                                        "scheduleRunTimes": ["2020-01-01T02:00:00Z"]}
    assert policy["retentionPolicy"]["dailySchedule"]["retentionDuration"] == {"count": 30, "durationType": "Days"}
    container = plan.one(RS + "ProtectionContainer")
    assert container.inputs["containerName"] == f"StorageContainer;Storage;{group};{name}"
    assert container.inputs["properties"]["sourceResourceId"].endswith(f"/storageAccounts/{name}")
    assert account.urn in container.property_dependencies["properties"]
    # dev, torn down with its stack: no delete lock on the account
    assert container.inputs["properties"]["acquireStorageAccountLock"] == "NotAcquire"
    assert plan.waits_for(container, lambda r: r.type == "azure-native:storage:FileShare")
    item = plan.one(RS + "ProtectedItem")
    assert item.inputs["protectedItemName"] == plan.one("azure-native:storage:FileShare").inputs["shareName"]
    assert item.inputs["containerName"] == container.inputs["containerName"]
    assert item.inputs["properties"]["protectedItemType"] == "AzureFileShareProtectedItem"
    assert plan.one(RS + "ProtectionPolicy").urn in item.property_dependencies["properties"]
    assert plan.waits_for(item, lambda r: r.type == RS + "ProtectionContainer")
    assert plan.outputs["modelSnapshotVault"] == f"rsv-{name}"


def test_prod_snapshots_are_protected_and_lock_the_account():
    """prod's snapshot resources take the store's `protect`, as its account and share do, and Azure Backup's delete
    lock keeps the account (and so its snapshots) from a deletion outside Pulumi."""
    plan = plan_for("prod", {"modelStore": {"protocol": "smb", "snapshots": True, "snapshotRetentionDays": 90,
                                            "snapshotTime": "23:30"}})
    backup = [r for r in plan.resources if r.type.startswith(RS)]
    assert len(backup) == 4 and all(r.options["protect"] for r in backup)
    assert plan.one(RS + "ProtectionContainer").inputs["properties"]["acquireStorageAccountLock"] == "Acquire"
    policy = plan.one(RS + "ProtectionPolicy").inputs["properties"]
    assert policy["schedulePolicy"]["scheduleRunTimes"] == ["2020-01-01T23:30:00Z"]
    assert policy["retentionPolicy"]["dailySchedule"]["retentionDuration"]["count"] == 90


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_no_vault_asks_azure_for_a_soft_delete_state(stack):
    """Secure by default enforces soft delete on every Recovery Services vault in Azure's public regions and refuses
    to turn it off (MicrosoftDocs/azure-docs articles/backup/secure-by-default.md: "You cannot disable soft delete in
    the regions where secure by default assurance is in public preview for Recovery Services Vaults";
    backup-azure-security-feature-cloud.md: in preview "across all public regions"): a vault that asks for `Disabled`
    (dev's wish, to be torn down whole) is refused or drifts on every refresh, and one that writes `Enabled` over an
    `AlwaysON` vault asks Azure to weaken it. Neither stack sends a soft-delete setting."""
    plan = plan_for(stack, {"modelStore": {"protocol": "smb", "snapshots": True}})
    vault = plan.one(RS + "Vault").inputs["properties"]
    assert "securitySettings" not in vault, vault


@pytest.mark.parametrize("given, path, says", [
    ({}, "snapshots", "false with protocol nfs: Azure Backup does not back up NFS file shares"),
    ({"protocol": "smb", "snapshot_retention_days": 201}, "snapshot_retention_days", "a whole number from 1 to 200"),
    ({"protocol": "smb", "snapshot_retention_days": 0}, "snapshot_retention_days", "a whole number from 1 to 200"),
    ({"protocol": "smb", "snapshot_time": "02:15"}, "snapshot_time", "on the hour or half hour"),
    ({"protocol": "smb", "snapshot_time": "2:00"}, "snapshot_time", "HH:MM"),
])
def test_snapshots_azure_backup_cannot_take_are_refused_by_name_before_anything_registers(given, path, says):
    """Azure Backup's Azure Files support matrix (MicrosoftDocs/azure-docs, 2026-02-17): no NFS share, daily snapshots
    kept at most 200 days; its policy runs on the hour or half hour. Each refused by its input, nothing registered."""
    import llmplatform
    from offline import runner as offline
    from tests.components.test_components_alone import cluster_handle, provider_opts

    def program() -> None:
        llmplatform.ModelStore("models", {"cluster": cluster_handle(), "account_name": "stmodels1", "namespace": "llm",
                                          "snapshots": True, **given}, provider_opts())
    with pytest.raises(llmplatform.ComponentInputError, match=says) as error:
        offline.run_function(program)
    assert [e["property_path"] for e in error.value.errors or []] == [path]


def test_the_stack_refuses_snapshots_of_its_nfs_share_naming_the_keys(tmp_path, capsys):
    """`make plan`'s --set: `modelStore.snapshots` on the stack's NFS share stops the plan with the component's
    refusal in the stack's words, before the program runs."""
    from offline import plan as plan_cli
    code = plan_cli.main(["--stack", "dev", "--out", str(tmp_path), "--set", "modelStore.snapshots=true"])
    out = capsys.readouterr()
    assert code != 0 and not list(tmp_path.glob("*/resources.json"))
    assert ("modelStore.snapshots true is invalid; allowed: false with modelStore.protocol nfs: Azure Backup does not "
            "back up NFS file shares") in out.out + out.err


def test_a_shorter_snapshot_retention_is_checked_before_merging_as_it_deletes_the_older_snapshots(tmp_path):
    """Azure Backup marks the snapshots older than a shortened daily retention for deletion at its next clean-up
    (its Azure Files backup FAQ): the PR check says so on a check line naming the stack key, and a longer one is
    an update without a word."""
    from tests.offline.plan_diff_cli import check, plan_document
    base = plan_document(variant("dev-smb-nogpu"))
    code, out = check(tmp_path, base, plan_document(plan_for("dev", _smb_variant_with(snapshotRetentionDays=7))))
    [line] = [l for l in out.splitlines() if l.startswith("- Check before merging:") and "snapshot-policy" in l]
    assert code == 0 and "30 -> 7" in line and "modelStore.snapshotRetentionDays" in line, out
    assert "marked for deletion in the next cleanup" in line
    code, out = check(tmp_path, base, plan_document(plan_for("dev", _smb_variant_with(snapshotRetentionDays=60))))
    assert code == 0 and not [l for l in out.splitlines() if "snapshot-policy" in l and "Check" in l], out


def _smb_variant_with(**model_store) -> dict:
    """The dev-smb-nogpu variant's overrides with more modelStore keys."""
    from tests.conftest import VARIANTS
    _, overrides = VARIANTS["dev-smb-nogpu"]
    return {**overrides, "modelStore": {**overrides["modelStore"], **model_store}}


@pytest.mark.parametrize("preview", [False, True])
def test_a_strangers_smb_store_takes_snapshots_in_its_first_preview_and_up(preview):
    """Through the kit as a stranger runs it (`llmplatform.testing.run`, also as the first `pulumi preview` of a new
    stack): the four backup resources, none made inside an apply, the vault named from the account."""
    import llmplatform
    from llmplatform.testing import run
    from tests.components.test_components_alone import cluster_handle, provider_opts

    def program() -> None:
        llmplatform.ModelStore("models", {"cluster": cluster_handle(), "account_name": "stmodels1", "namespace": "llm",
                                          "protocol": "smb", "snapshots": True, "snapshot_retention_days": 14},
                               provider_opts())
    plan = run(program, preview=preview)
    assert sorted(r.type for r in plan.resources if r.type.startswith(RS)) == [
        RS + "ProtectedItem", RS + "ProtectionContainer", RS + "ProtectionPolicy", RS + "Vault"]
    assert plan.one(RS + "Vault").inputs["vaultName"] == "rsv-stmodels1"
