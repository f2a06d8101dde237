"""ModelStore: an Azure Files Premium share holding model weights once for every model-server pod (RWX), bound
into the cluster as a static PersistentVolume, plus a Job that preloads the configured models into it."""
from __future__ import annotations

from typing import Optional, TypedDict

import pulumi
import pulumi_kubernetes as k8s
from pulumi_azure_native import resources, storage
from typing_extensions import NotRequired

from .pins import OLLAMA_IMAGE
from .naming import content_suffix

from . import PACKAGE
from .kube import labels, pod_security, restricted_container_security

MODELS_MOUNT_PATH = "/models"
CSI_DRIVER = "file.csi.azure.com"


class ModelStoreArgs(TypedDict):
    location: str
    resource_group_name: pulumi.Input[str]
    account_name: str
    allowed_subnet_ids: list[pulumi.Input[str]]
    kubernetes_provider: k8s.Provider
    namespace: pulumi.Input[str]
    separate_resource_group: NotRequired[Optional[str]]  # create this group for the store so it outlives the cluster
    share_name: NotRequired[str]
    protocol: NotRequired[str]  # nfs | smb
    size_gib: NotRequired[int]
    redundancy: NotRequired[str]  # LRS | ZRS
    protect: NotRequired[bool]
    models: NotRequired[list[str]]
    preload: NotRequired[bool]
    preload_dry_run: NotRequired[bool]
    preload_node_selector: NotRequired[dict[str, str]]
    tags: NotRequired[dict[str, str]]


def mount_options(protocol: str) -> list[str]:
    if protocol == "nfs":
        # nconnect spreads reads of multi-GB weight files over several TCP connections.
        return ["nconnect=4", "noresvport", "actimeo=30"]
    return ["dir_mode=0755", "file_mode=0644", "mfsymlinks", "cache=strict", "nosharesock", "actimeo=30"]


def volume_attributes(resource_group: str, account: str, share: str, protocol: str) -> dict[str, str]:
    attrs = {"resourceGroup": resource_group, "storageAccount": account, "shareName": share}
    if protocol == "nfs":
        attrs["protocol"] = "nfs"
    return attrs


def preload_script() -> str:
    """Shell run by the preload Job: idempotent (a model already in the share is skipped), DRY_RUN only lists."""
    return """set -eu
if [ "${DRY_RUN}" = "true" ]; then
  for m in ${MODELS}; do echo "would pull: ${m}"; done
  exit 0
fi
ollama serve >/tmp/ollama.log 2>&1 &
for i in $(seq 1 60); do ollama list >/dev/null 2>&1 && break; sleep 2; done
present="$(ollama list | awk 'NR>1 {print $1}')"
for m in ${MODELS}; do
  case "${m}" in *:*) tag="${m}" ;; *) tag="${m}:latest" ;; esac
  if printf '%s\\n' "${present}" | grep -qx "${tag}"; then
    echo "present: ${m}"
  else
    echo "pulling: ${m}"
    ollama pull "${m}"
  fi
done
ollama list
"""


class ModelStore(pulumi.ComponentResource):
    resource_group_name: pulumi.Output[str]
    """Group holding the storage account (separate from the cluster's when asked)."""
    storage_account_name: pulumi.Output[str]
    """Premium FileStorage account name."""
    share_name: pulumi.Output[str]
    """File share holding the model weights."""
    pv_name: pulumi.Output[str]
    """Static PersistentVolume bound to the share."""
    pvc_name: pulumi.Output[str]
    """ReadWriteMany claim model servers mount."""
    mount_path: str
    """Where the preload job (and model servers) mount the share."""
    preload_job_name: Optional[pulumi.Output[str]]
    """Name of the preload Job, when preload is on."""

    def __init__(self, name: str, args: ModelStoreArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__(f"{PACKAGE}:index:ModelStore", name, None, opts)
        protocol = args.get("protocol", "nfs")
        if protocol not in ("nfs", "smb"):
            raise ValueError(f"ModelStore {name}: protocol {protocol!r} must be 'nfs' or 'smb'")
        size = args.get("size_gib", 100)
        share_name = args.get("share_name", "models")
        protect = args.get("protect", False)
        tags = args.get("tags", {})
        stateful = pulumi.ResourceOptions(parent=self, protect=protect)
        k8s_opts = pulumi.ResourceOptions(parent=self, provider=args["kubernetes_provider"])

        rg_name: pulumi.Input[str] = args["resource_group_name"]
        if args.get("separate_resource_group"):
            rg = resources.ResourceGroup(f"{name}-rg", resource_group_name=args["separate_resource_group"],
                                         location=args["location"], tags=tags, opts=stateful)
            rg_name = rg.name

        account = storage.StorageAccount(
            f"{name}-account",
            account_name=args["account_name"],
            resource_group_name=rg_name,
            location=args["location"],
            kind=storage.Kind.FILE_STORAGE,
            sku=storage.SkuArgs(name=storage.SkuName(f"Premium_{args.get('redundancy', 'LRS')}")),
            # NFS 4.1 has no SMB-style encryption in transit, so Azure requires secure transfer off for it;
            # the network rules below keep the share reachable only from the cluster's node subnet.
            enable_https_traffic_only=protocol != "nfs",
            minimum_tls_version=storage.MinimumTlsVersion.TLS1_2,
            allow_blob_public_access=False,
            allow_shared_key_access=protocol == "smb",  # NFS mounts need no account key
            network_rule_set=storage.NetworkRuleSetArgs(
                default_action=storage.DefaultAction.DENY,
                bypass=storage.Bypass.AZURE_SERVICES,
                virtual_network_rules=[storage.VirtualNetworkRuleArgs(virtual_network_resource_id=s)
                                       for s in args["allowed_subnet_ids"]],
            ),
            tags=tags,
            opts=stateful,
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

        node_stage_secret = None
        if protocol == "smb":
            keys = storage.list_storage_account_keys_output(resource_group_name=rg_name, account_name=account.name)
            secret = k8s.core.v1.Secret(
                f"{name}-smb-key",
                metadata=k8s.meta.v1.ObjectMetaArgs(name=f"{share_name}-smb-credentials",
                                                    namespace=args["namespace"]),
                string_data={"azurestorageaccountname": account.name,
                             "azurestorageaccountkey": pulumi.Output.secret(keys.keys[0].value)},
                opts=k8s_opts)
            node_stage_secret = k8s.core.v1.SecretReferenceArgs(name=secret.metadata.name,
                                                                namespace=args["namespace"])

        pv_name = pulumi.Output.concat(args["namespace"], "-", share_name)
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
            metadata=k8s.meta.v1.ObjectMetaArgs(name=share_name, namespace=args["namespace"],
                                                labels=labels("model-store", share_name)),
            spec=k8s.core.v1.PersistentVolumeClaimSpecArgs(
                access_modes=["ReadWriteMany"],
                storage_class_name="",
                volume_name=pv.metadata.name,
                resources=k8s.core.v1.VolumeResourceRequirementsArgs(requests={"storage": f"{size}Gi"}),
            ),
            opts=k8s_opts,
        )

        self.preload_job_name = None
        models = list(args.get("models", []))
        if args.get("preload", True) and models:
            dry_run = args.get("preload_dry_run", False)
            job_name = f"model-preload-{content_suffix(OLLAMA_IMAGE, ' '.join(models), str(dry_run))}"
            job = k8s.batch.v1.Job(
                f"{name}-preload",
                metadata=k8s.meta.v1.ObjectMetaArgs(
                    name=job_name, namespace=args["namespace"], labels=labels("model-preload", "model-preload"),
                    # Pulling tens of GB can outlast `pulumi up`; follow it with `kubectl logs job/<name>`.
                    annotations={"pulumi.com/skipAwait": "true"}),
                spec=k8s.batch.v1.JobSpecArgs(
                    backoff_limit=3,
                    active_deadline_seconds=4 * 3600,
                    template=k8s.core.v1.PodTemplateSpecArgs(
                        metadata=k8s.meta.v1.ObjectMetaArgs(labels=labels("model-preload", "model-preload")),
                        spec=k8s.core.v1.PodSpecArgs(
                            restart_policy="OnFailure",
                            automount_service_account_token=False,
                            node_selector=args.get("preload_node_selector") or None,
                            # Exception to non-root: the share's root directory belongs to root, so the writer
                            # runs as uid 0, with every capability dropped and no privilege escalation.
                            security_context=pod_security(run_as_user=None),
                            containers=[k8s.core.v1.ContainerArgs(
                                name="preload",
                                image=OLLAMA_IMAGE,
                                command=["/bin/sh", "-c", preload_script()],
                                env=[k8s.core.v1.EnvVarArgs(name="MODELS", value=" ".join(models)),
                                     k8s.core.v1.EnvVarArgs(name="DRY_RUN", value=str(dry_run).lower()),
                                     k8s.core.v1.EnvVarArgs(name="OLLAMA_MODELS", value=MODELS_MOUNT_PATH),
                                     k8s.core.v1.EnvVarArgs(name="HOME", value="/tmp")],
                                resources=k8s.core.v1.ResourceRequirementsArgs(
                                    requests={"cpu": "250m", "memory": "512Mi"},
                                    limits={"memory": "2Gi"}),
                                security_context=restricted_container_security(run_as_user=None),
                                volume_mounts=[k8s.core.v1.VolumeMountArgs(name="models",
                                                                           mount_path=MODELS_MOUNT_PATH)],
                            )],
                            volumes=[k8s.core.v1.VolumeArgs(
                                name="models",
                                persistent_volume_claim=k8s.core.v1.PersistentVolumeClaimVolumeSourceArgs(
                                    claim_name=pvc.metadata.name))],
                        ),
                    ),
                ),
                opts=pulumi.ResourceOptions(parent=self, provider=args["kubernetes_provider"],
                                            delete_before_replace=True),
            )
            self.preload_job_name = job.metadata.name

        self.resource_group_name = pulumi.Output.from_input(rg_name)
        self.storage_account_name = account.name
        self.share_name = share.name
        self.pv_name = pv.metadata.name
        self.pvc_name = pvc.metadata.name
        self.mount_path = MODELS_MOUNT_PATH
        self.register_outputs({"storage_account_name": self.storage_account_name, "share_name": self.share_name,
                               "pvc_name": self.pvc_name, "preload_job_name": self.preload_job_name})
