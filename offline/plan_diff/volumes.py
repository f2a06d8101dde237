"""Two PersistentVolumes of one CSI volume at once: a volume created while another with the same driver and
`volumeHandle` is still there (a renamed volume, or one of a renamed namespace, replaced by creating the new one
first).

kubelet stages a CSI volume at a path made from its handle alone (kubernetes/kubernetes 4cb9cbb3
pkg/volume/csi/csi_attacher.go `makeDeviceMountPath`: `<plugin dir>/<driver>/<sha256 of volumeHandle>/globalmount`),
and kubelet refuses to unstage a volume while another mount uses that path and retries until none does
(kubernetes/kubernetes pkg/volume/util/operationexecutor/operation_generator.go, UnmountDevice:
`GetDeviceMountRefs`, "is still mounted by other references"). So on a node that ran pods of both volumes, the old
volume's unstaging waits for the new volume's pods and runs when the last of them leaves the node; a pod of the new
volume that arrives then can be published from the path just unmounted. Draining those nodes once after the update
lets both volumes unstage before a pod of the new one comes back. The Azure Files driver asks for a handle unique
per share in a cluster (kubernetes-sigs/azurefile-csi-driver 7b5ae18e deploy/example/pv-azurefile-nfs.yaml; the
handle's optional `#{uuid}` segment is for that,
docs/driver-parameters.md)."""
from typing import Any, Optional

from ..pod_specs import pod_spec

from .claims import CLAIM
from .documents import object_name

PERSISTENT_VOLUME = "kubernetes:core/v1:PersistentVolume"


def _handle(resource: dict[str, Any]) -> Optional[tuple[str, str]]:
    csi = (resource["inputs"].get("spec") or {}).get("csi") or {}
    if resource["type"] != PERSISTENT_VOLUME or not csi.get("volumeHandle"):
        return None
    return str(csi.get("driver")), str(csi["volumeHandle"])


def shared_handles(old_res: dict[str, dict[str, Any]], new_res: dict[str, dict[str, Any]], added: list[str],
                   replaced: list[str], removed: list[str], delete_first: list[str]) -> dict[str, str]:
    """A check line for each volume created (added, or replaced without deleting first) while an old volume of the
    same CSI handle and another name still exists (removed, or replaced: Pulumi deletes both at the update's end)."""
    going: dict[tuple[str, str], list[str]] = {}
    for urn in [*removed, *replaced]:
        handle = _handle(old_res[urn])
        if handle:
            going.setdefault(handle, []).append(urn)
    found = {}
    for urn in [*added, *(u for u in replaced if u not in delete_first)]:
        handle = _handle(new_res[urn])
        named = object_name(new_res[urn])
        twins = [u for u in going.get(handle, []) if object_name(old_res[u]) != named] if handle else []
        if handle and twins:
            found[urn] = (
                f"its CSI volumeHandle `{handle[1]}` is the handle of `{object_name(old_res[twins[0]])}`, deleted only "
                "at the update's end: kubelet stages both at one path made from the handle and unstages the old "
                "volume once no pod on the node mounts that path, so a pod of the new volume arriving on such a node "
                "just then can be published from the unmounted path. After the update, drain the nodes that ran the "
                "old pods once (`kubectl drain`, then `kubectl uncordon` when their pods have left)")
    return found


BOUND_CLAIM_HOLDS = (
    "its volume `{volume}` is deleted first while this claim, bound to it, stays: Kubernetes keeps a bound volume "
    "(`kubernetes.io/pv-protection`) and pulumi-kubernetes waits for the delete (10 minutes by default), so the "
    "`pulumi up` fails there. The claim names the volume by a value alone: the engine's delete-first chain follows "
    "property dependencies (pulumi/pulumi 1b5949891b step_generator.go `calculateDependentReplacements`), and a "
    "claim whose `spec.volumeName` comes from the volume (`volume.metadata.name`) is deleted first with it, after "
    "the objects that mount it by the claim's own output, and created again after it. Take the name from the volume "
    "and run one `pulumi up` with that before this change; or delete the claim in a change of its own first")


def held_volumes(old_res: dict[str, dict[str, Any]], new_res: dict[str, dict[str, Any]], replaced: list[str],
                 listed_first: set[str]) -> dict[str, str]:
    """Why each claim refuses the change: one bound (`spec.volumeName`) to a volume in `replaced` (those replaced
    delete-first on their own diff: a named object), which stays while the volume is deleted: its `spec` does not
    depend on the volume in the deployed state (the base plan's `propertyDependencies`), so the engine's chain does
    not take it, and it is not among what the volume's replacement deletes first by the state's replaceWith
    (`listed_first`). A claim whose `spec` depends on the volume is in the chain: `calculateDependentReplacements`
    makes that `spec` unknown, and pulumi-kubernetes replaces on the `.spec.volumeName` it nulls (compare.py
    `_unknown_keys_replace`). A base plan that records no property dependencies cannot say: no refusal."""
    volumes = {object_name(old_res[u]): u for u in replaced
               if old_res[u]["type"] == PERSISTENT_VOLUME and object_name(old_res[u])}
    found = {}
    for urn, old in old_res.items():
        volume = volumes.get(str((old["inputs"].get("spec") or {}).get("volumeName") or ""))
        if old["type"] != CLAIM or not volume or urn not in new_res or urn in listed_first:
            continue
        if "propertyDependencies" not in old or volume in ((old["propertyDependencies"] or {}).get("spec") or []):
            continue
        found[urn] = BOUND_CLAIM_HOLDS.format(volume=volume.split("::")[-1])
    return found


CLAIM_IN_USE = (
    "Kubernetes deletes a claim only once no scheduled pod names it, finished ones included "
    "(`kubernetes.io/pvc-protection`; kubernetes/kubernetes pkg/controller/volume/pvcprotection "
    "`podUsesPVC`: any pod with a node), and pulumi-kubernetes waits for the delete (10 minutes by default): before "
    "`pulumi up`, stop the pods that mount it and delete the finished pods of Jobs that did (docs/operations.md)")


# The same claim when the run deletes first, in its delete-first chain, every workload of the program that mounts it:
# each depends on the claim, so the chain deletes it before the claim (pulumi/pulumi 1b5949891b step_generator.go
# `calculateDependentReplacements`, deleted in reverse dependency order), and pulumi-kubernetes deletes with
# foreground propagation by default and waits for the object to go (94977969 provider/pkg/await/await.go
# `Deletion`: `metadata.DeletionPropagation`, "foreground cascading delete by default"), so their pods, a Job's
# finished ones included, are gone first. A cluster replaced under its name takes all of them down so.
CLAIM_FREED_FIRST = (
    "the same run deletes first every workload of the program that mounts it ({workloads}: each depends on it, and "
    "pulumi-kubernetes deletes in the foreground, their pods and a Job's finished pods first), so only pods made "
    "outside the program that name it (your own, a `kubectl run`) can hold it (`kubernetes.io/pvc-protection`): "
    "stop those before `pulumi up`")


def _mounts(resource: dict[str, Any], claim: dict[str, Any]) -> bool:
    """The resource's pods name the claim (a volume `persistentVolumeClaim.claimName` in its namespace)."""
    inputs = resource["inputs"]
    spec = pod_spec(inputs) if isinstance(inputs, dict) else None
    namespace = (inputs.get("metadata") or {}).get("namespace") if isinstance(inputs, dict) else None
    if not spec or namespace != (claim["inputs"].get("metadata") or {}).get("namespace"):
        return False
    return any(((v or {}).get("persistentVolumeClaim") or {}).get("claimName") == object_name(claim)
               for v in spec.get("volumes") or [] if isinstance(v, dict))


def claims_in_use(old_res: dict[str, dict[str, Any]], gone: list[str],
                  chains: Optional[dict[str, frozenset[str]]] = None) -> dict[str, str]:
    """A check line for each claim the change deletes (removed, or replaced: a named object, deleted first); for a
    claim deleted first (`chains`: each resource deleted first -> the roots of the delete-first chains holding it)
    whose every mounting workload of the deployed state depends on it and is deleted first in a chain of the claim's
    own, so before it, the line says only pods outside the program can hold it. Two chains are not enough: each is
    deleted when its root registers, and a workload naming the claim through an ordering edge alone (Ollama's
    Deployment, `value_alone`) is no part of the claim's chain, so the claim goes while its pods still hold it."""
    first = chains or {}
    out = {}
    for urn in gone:
        claim = old_res[urn]
        if claim["type"] != CLAIM:
            continue
        mounting = [u for u, r in old_res.items() if u != urn and _mounts(r, claim)]
        if urn in first and mounting and all(u in first and first[u] & first[urn]
                                             and urn in (old_res[u].get("dependencies") or []) for u in mounting):
            names = sorted(f"{old_res[u]['inputs'].get('kind', '')} `{object_name(old_res[u])}`" for u in mounting)
            out[urn] = CLAIM_FREED_FIRST.format(workloads=", ".join(names))
        else:
            out[urn] = CLAIM_IN_USE
    return out


RETAINED_VOLUME = (
    "bound to `{volume}`, a volume Kubernetes retains (`persistentVolumeReclaimPolicy: Retain`): deleting the claim "
    "deletes no data, and what the volume points at (`{handle}`) goes only where its own line says so")


def retained_bindings(old_res: dict[str, dict[str, Any]], gone: list[str]) -> dict[str, str]:
    """A note for each claim the change deletes that is bound (`spec.volumeName`) to a volume of the deployed state
    whose reclaim policy is Retain: the claim holds no data of its own (kubernetes/kubernetes pkg/controller/volume/
    persistentvolume/pv_controller.go `reclaimVolume`: "policy is Retain, nothing to do" when its claim goes), so the
    line that blocks it says so, beside "its data unless the volume is retained"."""
    volumes = {object_name(r): r for r in old_res.values() if r["type"] == PERSISTENT_VOLUME and object_name(r)}
    out = {}
    for urn in gone:
        claim = old_res[urn]
        if claim["type"] != CLAIM:
            continue
        volume = volumes.get(str((claim["inputs"].get("spec") or {}).get("volumeName") or ""))
        spec = (volume or {}).get("inputs", {}).get("spec") or {}
        if volume and spec.get("persistentVolumeReclaimPolicy") == "Retain":
            handle = (spec.get("csi") or {}).get("volumeHandle") or object_name(volume)
            out[urn] = RETAINED_VOLUME.format(volume=object_name(volume), handle=handle)
    return out
