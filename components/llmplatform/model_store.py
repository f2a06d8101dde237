"""ModelStore: an Azure Files Premium share holding model weights once for every model-server pod (RWX), bound
into the cluster as a static PersistentVolume, plus a Job that preloads the configured models into it."""
import json
import math
from typing import Any, Mapping, Optional, TypedDict

import pulumi
import pulumi_kubernetes as k8s
from pulumi_azure_native import resources, storage
from typing_extensions import NotRequired

from . import PACKAGE
from .defaults import defaults_for
from .checks import after_check, called_as_documented, check_shape, fail, late_rules
from .resolved_provider import cluster_key, kubernetes_provider
from .run_state import claim
from .shared_names import claim_resource_group, plain_field
from .diagnostics import to_log_analytics
from .handles import ClusterHandle, ModelShare, ModelVolume, field, order_after, ordered_after
from .hardening import NON_ROOT_UID, container_security, pod_security, scanner_annotations, scratch_volume
from .kube import pulled, cpu_placement, labels, placement, placement_args, require_kubernetes_provider
from .naming import content_suffix
from .pins import OLLAMA_IMAGE
from .share_snapshots import protect_share
from .units import MB_PER_GIB

opt = defaults_for("ModelStore")  # optional inputs: the caller's value, else the default

MODELS_MOUNT_PATH = "/models"
CSI_DRIVER = "file.csi.azure.com"




class ModelStoreArgs(TypedDict):
    """Inputs of ModelStore."""

    cluster: pulumi.Input[ClusterHandle]
    """The cluster whose nodes mount the share (its node subnet is the only network allowed in)."""
    account_name: pulumi.Input[str]
    """Storage account name: 3-24 lowercase letters and digits, globally unique."""
    namespace: pulumi.Input[str]
    """Namespace of the volume claim (and the preload Job). The store does not create it: AppNamespace's
    `namespace` output (which also orders the claim after it), or a namespace already on the cluster; one named
    here that does not exist fails `pulumi up` at the claim, after the account and share are created."""
    resource_group_name: NotRequired[Optional[pulumi.Input[str]]]
    """Existing group for the account (default: the cluster's)."""
    separate_resource_group: NotRequired[Optional[str]]
    """Create this group for the store, so the weights outlive the cluster and its group: not the cluster's group,
    nor one another component of the program creates (for stores of several clusters in one group, create it once
    and give each store resource_group_name)."""
    share_name: NotRequired[Optional[str]]
    """File share name (default models)."""
    protocol: NotRequired[Optional[str]]
    """nfs or smb (default nfs)."""
    size_gib: NotRequired[Optional[int]]
    """Provisioned size, GiB (Premium bills provisioned size; default 100)."""
    redundancy: NotRequired[Optional[str]]
    """LRS or ZRS (default LRS); ZRS only where Azure offers it for SSD file shares in the cluster's location."""
    check_region_offers: NotRequired[Optional[bool]]
    """Refuse `redundancy` ZRS where Microsoft's page shows SSD file shares in the cluster's location with LRS only
    (default True). False only for a share that exists as ZRS: one created while the page listed ZRS there keeps it."""
    models: NotRequired[Optional[list[str]]]
    """Ollama models the preload Job pulls into the share (Ollama's name grammar: `[host/][namespace/]model[:tag]`,
    e.g. `qwen2.5:7b` or `hf.co/<org>/<repo>:<quant>`)."""
    model_sizes_gib: NotRequired[Optional[dict[str, float]]]
    """Download size (GiB) of models in `models`: the preload Job's deadline grows with their sum (at least 1 hour,
    else the time to pull them at 10 MB/s), and the Job records them in its `llm-platform/model-sizes-gib`
    annotation. The models it pulls must leave 10 % of `size_gib` free (refused before anything registers)."""
    preload: NotRequired[Optional[bool]]
    """Run the preload Job (default True, when there are models)."""
    preload_dry_run: NotRequired[Optional[bool]]
    """The Job only lists what it would pull (default False)."""
    preload_node_selector: NotRequired[Optional[pulumi.Input[dict[str, str]]]]
    """Where the preload Job runs (default: the cluster's CPU pool). The Job tolerates no taint: an untainted
    pool's labels, not a GPU pool's (its GPU and spot taints keep the Job Pending)."""
    snapshots: NotRequired[Optional[bool]]
    """Daily snapshots of the share by Azure Backup (default False): a Recovery Services vault `rsv-<account_name>`
    in the store's group, a daily policy, the account registered with the vault and the share protected by it.
    SMB only: Azure Backup does not back up NFS shares (refused by name with `protocol` nfs). The snapshots stay in
    the account; a restore is the operator's (docs/operations.md). Where the store is `protect`ed, Azure Backup also
    locks the account against deletion. Azure keeps deleted backup data 14 days (soft delete, enforced)."""
    snapshot_retention_days: NotRequired[Optional[int]]
    """Days each daily snapshot is kept (default 30; 1-200, Azure Files backup's limit for daily recovery points)."""
    snapshot_time: NotRequired[Optional[str]]
    """When the daily snapshot is taken, HH:MM UTC on the hour or half hour (02:00 when left out)."""
    alert_action_group_id: NotRequired[Optional[pulumi.Input[str]]]
    """With `snapshots`: the action group (its resource ID, e.g. AzureMonitoring's `monitoring["action_group_id"]`)
    the snapshot vault's Azure Monitor alerts go to, by an alert processing rule on the vault: a failed snapshot or
    restore job, and Azure Backup's security alerts. Without it the alerts fire in the portal (Azure Monitor, Alerts)
    and reach no one. "" is none. Refused without `snapshots`; an output is judged once it resolves ("" refused then)."""
    log_analytics_workspace_id: NotRequired[Optional[pulumi.Input[str]]]
    """Send the share's (file service) logs and metrics to this Log Analytics workspace (a diagnostic setting), and
    with `snapshots` the vault's Azure Backup logs (its jobs, alerts, policies, protected items and storage) to its
    resource-specific tables (CoreAzureBackup, AddonAzureBackup*)."""
    tags: NotRequired[Optional[Mapping[str, pulumi.Input[str]]]]
    """Azure tags."""


def mount_options(protocol: str) -> list[str]:
    if protocol == "nfs":
        # nconnect spreads reads of multi-GB weight files over several TCP connections.
        return ["nconnect=4", "noresvport", "actimeo=30"]
    # SMB has no owners of its own: the mount presents every file as the platform's non-root uid, so the preload
    # Job writes without root and model servers (any uid) read.
    return ["dir_mode=0755", "file_mode=0644", f"uid={NON_ROOT_UID}", f"gid={NON_ROOT_UID}", "mfsymlinks",
            "cache=strict", "nosharesock", "actimeo=30"]


def volume_attributes(resource_group: str, account: str, share: str, protocol: str) -> dict[str, str]:
    attrs = {"resourceGroup": resource_group, "storageAccount": account, "shareName": share}
    if protocol == "nfs":
        attrs["protocol"] = "nfs"
    return attrs


PRELOAD_TIMEOUT_SECONDS = 3600  # the least the Job gets (the deploy model's pessimistic pull of prod's models: 10 min)
PRELOAD_FLOOR_MB_S = 10  # the slowest pull the deadline still waits for (the deploy model's pessimistic figure: 25)
MODEL_SIZES_ANNOTATION = "llm-platform/model-sizes-gib"


def preload_timeout_seconds(total_gib: float) -> int:
    """How long `pulumi up` waits for the preload Job: an hour, or the time to pull `total_gib` at the floor
    throughput, in whole minutes."""
    pull = total_gib * MB_PER_GIB / PRELOAD_FLOOR_MB_S
    return max(PRELOAD_TIMEOUT_SECONDS, int(math.ceil(pull / 60)) * 60)


def sizes_mib(models: list[str], sizes: Mapping[str, float]) -> str:
    """The preload script's MODEL_SIZES_MIB: `<name>=<MiB>` of each model with a declared size, rounded up."""
    return " ".join(f"{m}={math.ceil(sizes[m] * 1024)}" for m in models if m in sizes)


def preload_script() -> str:
    """Shell run by the preload Job: idempotent (a model already in the share is skipped); DRY_RUN asks Ollama the
    same way, lists what it would pull and whether it fits, and pulls nothing. The
    names are Ollama model names (the input rules hold them to Ollama's grammar: no space, quote, glob or '='
    character), so the unquoted ${MODELS} splits into exactly them, and MODEL_SIZES_MIB pairs `<name>=<MiB>`.

    Before pulling, the models missing from the share must fit in its free space: nothing deletes a model the list
    dropped (Ollama's pull replaces only the layers of the name it pulls), so the stack's room check, which counts the
    listed models, does not hold for the share on a later run. A pull that does not fit would fail only when the share
    is full (ENOSPC), after downloading what fits; the Job fails first, naming what the share holds."""
    return """set -eu
# Ollama creates blobs/ at start (MkdirAll) and exits on a read-only store without it: lay it out first.
mkdir -p "${OLLAMA_MODELS}/blobs" "${OLLAMA_MODELS}/manifests"
log="${TMPDIR:-/tmp}/ollama.log"
ollama serve >"${log}" 2>&1 &
for i in $(seq 1 60); do ollama list >/dev/null 2>&1 && break; sleep 2; done
if ! ollama list >/dev/null 2>&1; then
  echo "ollama serve did not answer within 2 minutes; its log:" >&2
  cat "${log}" >&2
  exit 1
fi
missing="" need=0
for m in ${MODELS}; do
  # Ollama resolves the name itself (default host, namespace and tag, any case): a model is present when it shows
  if ollama show "${m}" >/dev/null 2>&1; then
    echo "present: ${m}"
  else
    missing="${missing} ${m}"
    for s in ${MODEL_SIZES_MIB:-}; do if [ "${s%=*}" = "${m}" ]; then need=$((need + ${s##*=})); fi; done
  fi
done
# The room left on the share (statfs, as the CSI driver reports the volume's), plus partial downloads a pull resumes
free=$(df -Pk "${OLLAMA_MODELS}" 2>/dev/null | awk 'NR == 2 {print int($4 / 1024)}')
partial=$(du -ck "${OLLAMA_MODELS}"/blobs/*-partial 2>/dev/null | awk 'END {print int($1 / 1024)}')
short=false
if [ -n "${free}" ] && [ "${need}" -gt $((free + ${partial:-0})) ]; then short=true; fi
if [ "${DRY_RUN}" = "true" ]; then
  for m in ${missing}; do echo "would pull: ${m}"; done
  if [ "${short}" = true ]; then echo "would not fit: ~${need} MiB to pull, ${free} MiB free"; fi
  exit 0
fi
if [ "${short}" = true ]; then
  echo "the share has ${free} MiB free (and ${partial:-0} MiB of partial downloads), the models to pull need" \
    "~${need} MiB:${missing}" >&2
  echo "models on the share (a model the list dropped stays until removed):" >&2
  ollama list >&2
  echo "grow modelStore.sizeGib (the share's quota), or remove models no longer listed" \
    "(ollama rm, from a pod mounting the share read-write)" >&2
  exit 1
fi
for m in ${missing}; do
  echo "pulling: ${m}"
  ollama pull "${m}"
done
ollama list
"""


def claim_namespace(name: str, namespace: Any, share_name: Any, opts: Optional[pulumi.ResourceOptions]) -> None:
    """One ModelStore per namespace and share name of a cluster: its volume (`<namespace>-<share_name>`) and claim
    (`<share_name>`) are named from them, so a second store with both the same would claim the first one's objects
    (the API server refuses the second create at `pulumi up`, after both stores' Azure resources exist). Refused by
    name when both are known now and the cluster is the same Kubernetes provider of this deployment
    (resolved_provider.cluster_key), as InferenceStack's namespace; otherwise `llmplatform.testing` names the
    collision."""
    provider = kubernetes_provider(opts)
    if not isinstance(namespace, str) or not isinstance(share_name, str) or provider is None:
        return
    other = claim("model_store.namespaces", (*cluster_key(provider), namespace, share_name), name)
    if other is not None:
        fail("ModelStore", name, "namespace", namespace,
             f"a namespace no other ModelStore on this cluster uses with share_name {share_name!r}: {other!r} uses "
             f"it (its volume {namespace}-{share_name} and claim {share_name} are named from both); give this store "
             f"a namespace of its own or another share_name, or hand the volume of {other!r} to every model server "
             "there")


def claim_separate_group(name: str, args: Any, cluster: Any, opts: Optional[pulumi.ResourceOptions]) -> None:
    """separate_resource_group is a group the store creates: not the cluster's own (known now: the caller's
    `cluster` handle holds it plain, or the engine sent it known), nor one another component of this program
    creates (llmplatform.shared_names)."""
    group = args.get("separate_resource_group")
    if not isinstance(group, str) or not group:
        return
    own = plain_field(cluster, "resource_group_name")
    if isinstance(own, str) and own.lower() == group.lower():
        fail("ModelStore", name, "separate_resource_group", group,
             f"a group other than the cluster's ({own!r}), which exists already (azure-native creates a group only "
             "where none exists): leave separate_resource_group out to keep the store in the cluster's group, or "
             "name a new group")
    claim_resource_group("ModelStore", name, "separate_resource_group", group, opts,
                         "create the group once (a ResourceGroup of your own) and give each store its name as "
                         "resource_group_name")


@called_as_documented
class ModelStore(pulumi.ComponentResource):
    """Azure Files Premium share holding model weights once for every model-server pod (ReadWriteMany), bound into
    the cluster as a static PersistentVolume, and a Job that preloads the configured models. The `protect` option
    protects the account, the share and the separate group; the Kubernetes objects stay replaceable."""

    volume: ModelVolume
    """The claim model servers mount (namespace, claim name, mount path)."""
    resource_group_name: pulumi.Output[str]
    """Group holding the storage account (separate from the cluster's when asked)."""
    storage_account_name: pulumi.Output[str]
    """Premium FileStorage account name."""
    share_name: pulumi.Output[str]
    """File share holding the model weights."""
    preload_job_name: pulumi.Output[Optional[str]]
    """Name of the preload Job (with preload off it only lays the store out)."""
    share: ModelShare
    """The Azure Files share (its file service, name and quota), for Observability's alert on its fill level."""
    snapshot_vault_name: pulumi.Output[Optional[str]]
    """The Recovery Services vault holding the share's snapshot schedule (with `snapshots`; else None)."""

    def __init__(self, name: str, args: ModelStoreArgs, opts: Optional[pulumi.ResourceOptions] = None):
        checked = check_shape("ModelStore", name, args, ModelStoreArgs)
        given = args["cluster"]  # the caller's handle, not the checked copy (whose outputs are new ones)
        args = checked
        component = "ModelStore"
        protocol, redundancy, size = opt(args, "protocol"), opt(args, "redundancy"), opt(args, "size_gib")
        require_kubernetes_provider(opts, component, name)
        claim_namespace(name, args["namespace"], opt(args, "share_name"), opts)
        claim_separate_group(name, args, given, opts)
        super().__init__(f"{PACKAGE}:index:{component}", name, None, opts)
        share_name = opt(args, "share_name")
        tags = args.get("tags", {})
        cluster = args["cluster"]
        # a cluster handle whose location is an output (another language's, a stack reference's): the region rule
        # (ZRS) runs once it resolves, before the account (and its group) is created
        location = after_check(late_rules("ModelStore", name, args, "cluster", ("location",), ModelStoreArgs),
                               field(cluster, "location"))
        namespace = args["namespace"]
        stateful = pulumi.ResourceOptions(parent=self)  # takes the component's protect
        k8s_opts = pulumi.ResourceOptions(parent=self, protect=False)

        # the cluster's group unless one is given; one given as an output that resolves to nothing (a stack
        # reference's output the other stack lacks) falls back once known, as leaving it out does
        rg_name: pulumi.Input[str] = pulumi.Output.all(args.get("resource_group_name"), field(
            cluster, "resource_group_name")).apply(lambda names: names[0] or names[1])
        if args.get("separate_resource_group"):
            rg = resources.ResourceGroup(f"{name}-rg", resource_group_name=args["separate_resource_group"],
                                         location=location, tags=tags, opts=stateful)
            rg_name = rg.name

        account = storage.StorageAccount(
            f"{name}-account",
            account_name=args["account_name"],
            resource_group_name=rg_name,
            location=location,
            kind=storage.Kind.FILE_STORAGE,
            sku=storage.SkuArgs(name=storage.SkuName(f"Premium_{redundancy}")),
            # NFS 4.1 has no SMB-style encryption in transit, so Azure requires secure transfer off for it;
            # the network rules below keep the share reachable only from the cluster's node subnet.
            enable_https_traffic_only=protocol != "nfs",
            minimum_tls_version=storage.MinimumTlsVersion.TLS1_2,
            allow_blob_public_access=False,
            allow_shared_key_access=protocol == "smb",  # NFS mounts need no account key
            network_rule_set=storage.NetworkRuleSetArgs(
                default_action=storage.DefaultAction.DENY,
                bypass=storage.Bypass.AZURE_SERVICES,
                virtual_network_rules=[storage.VirtualNetworkRuleArgs(
                    virtual_network_resource_id=field(cluster, "node_subnet_id"))],
            ),
            tags=tags,
            # after the cluster's network writes, as a dependency only (ClusterHandle.network_writes_after)
            opts=order_after(stateful, cluster, "network_writes_after"),
        )
        share = storage.FileShare(
            f"{name}-share",
            account_name=account.name,
            resource_group_name=rg_name,
            share_name=share_name,
            share_quota=size,
            enabled_protocols=storage.EnabledProtocols.NFS if protocol == "nfs" else storage.EnabledProtocols.SMB,
            root_squash=storage.RootSquashType.NO_ROOT_SQUASH if protocol == "nfs" else None,
            opts=stateful,
        )

        self.snapshot_vault_name = pulumi.Output.from_input(None)
        if opt(args, "snapshots"):
            # guarded where Pulumi's `protect` guards the account too: a store torn down with its stack (dev) is
            # deleted without Azure Backup's lock (removed only some time after the unregistration).
            # The caller's names, not the account's and share's outputs: known in a first preview (the registration
            # waits for the share, the item for the registration)
            self.snapshot_vault_name = protect_share(
                name, self, resource_group_name=rg_name, location=location, account=account,
                account_name=args["account_name"], share=share, share_name=share_name,
                retention_days=opt(args, "snapshot_retention_days"), time_utc=opt(args, "snapshot_time"),
                guarded=bool(opts and opts.protect), tags=tags,
                workspace_id=args.get("log_analytics_workspace_id") or None,
                action_group_id=args.get("alert_action_group_id") or None)

        file_service_id = pulumi.Output.concat(account.id, "/fileServices/default")
        if workspace := args.get("log_analytics_workspace_id"):
            to_log_analytics(f"{name}-diagnostics", file_service_id, workspace, self,
                             metric_category="Transaction")

        node_stage_secret = None
        if protocol == "smb":
            # asked of the provider that made the account (the component's own, given with `providers`)
            keys = storage.list_storage_account_keys_output(resource_group_name=rg_name, account_name=account.name,
                                                            opts=pulumi.InvokeOutputOptions(parent=self))
            secret = k8s.core.v1.Secret(
                f"{name}-smb-key",
                metadata=k8s.meta.v1.ObjectMetaArgs(name=f"{share_name}-smb-credentials",
                                                    namespace=namespace),
                string_data={"azurestorageaccountname": account.name,
                             "azurestorageaccountkey": pulumi.Output.secret(keys.keys[0].value)},
                opts=k8s_opts)
            node_stage_secret = k8s.core.v1.SecretReferenceArgs(name=secret.metadata.name,
                                                                namespace=namespace)

        pv_name = pulumi.Output.concat(namespace, "-", share_name)
        pv = k8s.core.v1.PersistentVolume(
            f"{name}-pv",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=pv_name, labels=labels("model-store", share_name)),
            spec=k8s.core.v1.PersistentVolumeSpecArgs(
                capacity={"storage": f"{size}Gi"},
                access_modes=["ReadWriteMany"],
                persistent_volume_reclaim_policy="Retain",  # deleting the claim never deletes the weights
                storage_class_name="",
                mount_options=mount_options(protocol),
                csi=k8s.core.v1.CSIPersistentVolumeSourceArgs(
                    driver=CSI_DRIVER,
                    volume_handle=pulumi.Output.all(rg_name, account.name, share.name).apply(
                        lambda p: "#".join(p)),
                    volume_attributes=pulumi.Output.all(rg_name, account.name, share.name).apply(
                        lambda p: volume_attributes(p[0], p[1], p[2], protocol)),
                    node_stage_secret_ref=node_stage_secret,
                ),
            ),
            opts=k8s_opts,
        )
        pvc = k8s.core.v1.PersistentVolumeClaim(
            f"{name}-pvc",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=share_name, namespace=namespace,
                                                labels=labels("model-store", share_name)),
            spec=k8s.core.v1.PersistentVolumeClaimSpecArgs(
                access_modes=["ReadWriteMany"],
                storage_class_name="",
                volume_name=pv.metadata.name,
                resources=k8s.core.v1.VolumeResourceRequirementsArgs(requests={"storage": f"{size}Gi"}),
            ),
            # The request stays what it was at creation: Kubernetes' resize admission refuses to grow a claim
            # without an expandable storage class (this one is bound to the volume above), and the share's quota
            # and the volume's capacity are what grow the store.
            # No replace_with: the engine's delete-first chain takes the claim with a volume replaced under its name
            # (its `spec` comes from the volume: `calculateDependentReplacements` makes it unknown and pulumi-kubernetes
            # replaces on the `.spec.volumeName` that nulls, docs/decisions.md 2026-12-05 "the unknown is no null"),
            # with the preload Job before it (reverse dependency order); the model servers wait for it by
            # `depends_on` alone, so their pods are stopped first (docs/operations.md). A replaceWith naming the
            # volume put the claim again at the end of that list (`findDependentCascadeReplacements`), so it was
            # deleted first of all, before even the Job that mounts it (`kubernetes.io/pvc-protection`).
            opts=pulumi.ResourceOptions.merge(k8s_opts, pulumi.ResourceOptions(
                ignore_changes=["spec.resources.requests.storage"])),
        )

        # Always a Job, awaited: it lays the store out (and pulls the models when preload is on), and the claim
        # handed to model servers waits for it, so a server never starts on a store it cannot use.
        models = list(args.get("models") or []) if opt(args, "preload") else []
        sizes = {m: float(v) for m, v in (args.get("model_sizes_gib") or {}).items() if m in models}
        timeout = preload_timeout_seconds(sum(sizes.values()))

        def preload_job() -> k8s.batch.v1.Job:
            dry_run = opt(args, "preload_dry_run")
            selector = args.get("preload_node_selector")
            where = placement(selector, []) if selector else cpu_placement(cluster)
            job_name = f"model-preload-{content_suffix(OLLAMA_IMAGE, ' '.join(models), str(dry_run))}"
            job = k8s.batch.v1.Job(
                f"{name}-preload",
                metadata=k8s.meta.v1.ObjectMetaArgs(
                    name=job_name, namespace=namespace, labels=labels("model-preload", "model-preload"),
                    # Awaited (`kubectl logs job/<name>` follows it): tens of GB at a throttled registry take long.
                    # A Job that failed (or still runs) is replaced by the next `pulumi up`, which would otherwise
                    # only await it again (pulumi-kubernetes provider.go Diff, replaceUnready): the new pod resumes
                    # the partial downloads.
                    annotations={"pulumi.com/timeoutSeconds": str(timeout), "pulumi.com/replaceUnready": "true",
                                 **({MODEL_SIZES_ANNOTATION: json.dumps(sizes, sort_keys=True)} if sizes else {}),
                                 **scanner_annotations([OLLAMA_IMAGE])}),
                spec=k8s.batch.v1.JobSpecArgs(
                    backoff_limit=3,
                    active_deadline_seconds=4 * timeout,  # room for the retries of backoff_limit
                    template=k8s.core.v1.PodTemplateSpecArgs(
                        metadata=k8s.meta.v1.ObjectMetaArgs(labels=labels("model-preload", "model-preload")),
                        spec=k8s.core.v1.PodSpecArgs(
                            restart_policy="OnFailure",
                            automount_service_account_token=False,
                            **placement_args(where),
                            # Non-root, the model servers' uid: SMB presents the share as that uid (mount_options);
                            # on NFS the CSI driver makes the mount's root 0777 (its mountPermissions default)
                            security_context=pod_security(NON_ROOT_UID),
                            containers=[k8s.core.v1.ContainerArgs(
                                name="preload",
                                image=pulled(cluster, OLLAMA_IMAGE),
                                command=["/bin/sh", "-c", preload_script()],
                                env=[k8s.core.v1.EnvVarArgs(name="MODELS", value=" ".join(models)),
                                     k8s.core.v1.EnvVarArgs(name="MODEL_SIZES_MIB", value=sizes_mib(models, sizes)),
                                     k8s.core.v1.EnvVarArgs(name="DRY_RUN", value=str(dry_run).lower()),
                                     k8s.core.v1.EnvVarArgs(name="OLLAMA_MODELS", value=MODELS_MOUNT_PATH),
                                     # as the servers: no start-time prune, which drops the records of a partial
                                     # download older than an hour and breaks its resume after a restart
                                     k8s.core.v1.EnvVarArgs(name="OLLAMA_NOPRUNE", value="true"),
                                     k8s.core.v1.EnvVarArgs(name="HOME", value="/tmp")],
                                resources=k8s.core.v1.ResourceRequirementsArgs(
                                    requests={"cpu": "250m", "memory": "512Mi"},
                                    limits={"cpu": "2", "memory": "2Gi"}),
                                security_context=container_security(NON_ROOT_UID),  # writes /tmp and the share
                                volume_mounts=[k8s.core.v1.VolumeMountArgs(name="models",
                                                                           mount_path=MODELS_MOUNT_PATH),
                                               k8s.core.v1.VolumeMountArgs(name="tmp", mount_path="/tmp")],
                            )],
                            volumes=[k8s.core.v1.VolumeArgs(
                                name="models",
                                persistent_volume_claim=k8s.core.v1.PersistentVolumeClaimVolumeSourceArgs(
                                    claim_name=pvc.metadata.name)), scratch_volume()],
                        ),
                    ),
                ),
                # a claim replaced deleting first (its volume replaced) takes this Job with it: its `spec` comes from
                # the claim, so the engine's chain replaces it (`.spec.template` nulled) and it fills the new store
                opts=ordered_after(pulumi.ResourceOptions(parent=self, protect=False, delete_before_replace=True),
                                   where),
            )
            return job

        job = preload_job()
        self.preload_job_name = job.metadata.name
        claim_name = pulumi.Output.all(pvc.metadata.name, job.metadata.name).apply(lambda v: v[0])

        self.resource_group_name = pulumi.Output.from_input(rg_name)
        self.storage_account_name = account.name
        self.share_name = share.name
        # the namespace as given, not the claim's output: every object a consumer puts in it would otherwise depend on
        # the claim, and a claim replaced deleting first (a new share) would take them all with it in the engine's
        # chain (an unknown `metadata` nulls `.metadata.name`): the UI's uploads claim among them
        self.volume = ModelVolume(namespace=namespace, claim_name=claim_name,
                                  mount_path=MODELS_MOUNT_PATH)
        self.share = ModelShare(file_service_id=file_service_id, share_name=share.name, quota_gib=size)
        if models and not opt(args, "preload_dry_run"):  # what a model server may warm (dry run: nothing pulled)
            self.volume["models"] = models
        self.register_outputs({"volume": self.volume, "resource_group_name": self.resource_group_name,
                               "storage_account_name": self.storage_account_name, "share_name": self.share_name,
                               "preload_job_name": self.preload_job_name, "share": self.share,
                               "snapshot_vault_name": self.snapshot_vault_name})
