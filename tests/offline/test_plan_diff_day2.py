"""Day-2 edits a platform engineer makes, planned with `--set`-style overrides and diffed by the pull-request check,
where an adversarial review (2026-12-05) found the check's verdict other than the engine's. Each expectation comes
from the providers' and the engine's own sources, named in the test; the edits the review found right are listed in
docs/decisions.md ("2026-12-05: day-2 edits against the check")."""
from offline import plan, plan_diff

from tests.conftest import plan_for
from tests.offline.plan_diff_cli import check as _check

POOL = "azure-native:containerservice:AgentPool"
JOB = "kubernetes:batch/v1:Job"
# the CPU workload pool's VM size, force-new in pulumi-azure-native (PR #3655; offline/data/replacement_rules.json);
# the same edit as tests/offline/test_plan_diff_property_deps.py, so the plan is shared
BIGGER_POOL = {"cluster": {"workloadPool": {"vmSize": "Standard_D8ads_v5"}}}


def _doc(p) -> dict:
    return plan_diff.resources_by_urn(plan.resources_document(p))


def _pool(doc: dict, name: str) -> str:
    (urn,) = [u for u, r in doc.items() if r["type"] == POOL and r["name"] == name]
    return urn


def test_a_resized_cpu_pool_runs_no_job_again_for_the_node_selector_that_names_its_pool(tmp_path, dev):
    """`cluster.workloadPool.vmSize` replaces the CPU pool, deleted first under its own name. The preload, database
    bootstrap and migration Jobs select that pool by its label `llm-platform/pool: cpu`, which spells the pool's name:
    a label value, not a reference, and the new pool keeps it, so nothing of the Jobs changes in `pulumi up`. The
    engine's delete-first chain (pulumi/pulumi 1b5949891b step_generator.go `calculateDependentReplacements`) makes
    their `spec` unknown, as it depends on the pool, and pulumi-kubernetes' Diff (94977969 provider.go
    `convertPatchToDiff`, openapi/match.go `PatchPropertiesChanged`) finds no `.spec.template` under a null `spec`:
    an update at most. The check listed the three Jobs replaced ("deleted first, then run again") because the value
    matched the pool's name."""
    base, new = _doc(dev), _doc(plan_for("dev", BIGGER_POOL))
    cpu = _pool(new, "platform-cpu")
    pool_name = new[cpu]["inputs"]["agentPoolName"]
    jobs = [u for u, r in new.items() if r["type"] == JOB
            and (r["inputs"]["spec"]["template"]["spec"].get("nodeSelector") or {}).get("llm-platform/pool") == pool_name]
    assert len(jobs) >= 2  # the premise: Jobs on the CPU pool, selecting it by the label its name spells
    assert all(cpu in (new[j].get("propertyDependencies") or {}).get("spec", []) for j in jobs)
    assert all(new[j]["inputs"] == base[j]["inputs"] for j in jobs)  # nothing of theirs changes
    result = plan_diff.diff_documents(base, new)
    assert cpu in result["replaced"] and cpu in result["deleteBeforeReplace"]
    assert [j for j in jobs if j in result["replaced"]] == []
    code, out = _check(tmp_path, base, new)
    assert code == 0 and "1 to replace" in out and "run again" not in out, out


# ---- a claim bound to a volume replaced under its name ---------------------------------------------------------

SMB_STORE = {"modelStore": {"protocol": "smb"}}  # the share, its PersistentVolume and claim, the preload Job
PV, PVC = "kubernetes:core/v1:PersistentVolume", "kubernetes:core/v1:PersistentVolumeClaim"


def _static_volume(share: str, claim_goes_with_it: bool) -> None:
    """A consumer's own static volume and its claim, as ModelStore makes them (both named)."""
    import pulumi
    import pulumi_kubernetes as k8s
    provider = k8s.Provider("k8s", kubeconfig="{}")
    volume = k8s.core.v1.PersistentVolume("data-pv", metadata={"name": "data"}, spec={
        "capacity": {"storage": "10Gi"}, "access_modes": ["ReadWriteMany"], "storage_class_name": "",
        "csi": {"driver": "file.csi.azure.com", "volume_handle": f"rg#acct#{share}",
                "volume_attributes": {"shareName": share}}}, opts=pulumi.ResourceOptions(provider=provider))
    with_it = pulumi.ResourceOptions(replace_with=[volume], delete_before_replace=True) if claim_goes_with_it else None
    k8s.core.v1.PersistentVolumeClaim("data-pvc", metadata={"name": "data", "namespace": "app"}, spec={
        "access_modes": ["ReadWriteMany"], "storage_class_name": "", "volume_name": volume.metadata.name,
        "resources": {"requests": {"storage": "10Gi"}}},
        opts=pulumi.ResourceOptions.merge(pulumi.ResourceOptions(provider=provider), with_it))


def _static_docs(claim_goes_with_it: bool) -> tuple[dict, dict]:
    from llmplatform.testing import run
    return tuple(_doc(run(lambda share=share: _static_volume(share, claim_goes_with_it)))  # type: ignore[return-value]
                 for share in ("data", "data2"))


def test_a_volume_replaced_under_its_name_is_refused_while_its_claim_would_hold_it():
    """A new share replaces the volume (`.spec.csi`, force-new in pulumi-kubernetes 94977969 diff.go), deleted first
    under its name. Its claim keeps its inputs, and the engine's chain, which makes the claim's `spec` unknown, does
    not replace it (no force-new `.spec.volumeName` under an unknown `spec`): the claim stays bound, Kubernetes keeps
    the volume (`kubernetes.io/pv-protection`) and pulumi-kubernetes' delete waits until it gives up. Only the
    volume's own cascade, the claims the deployed state lists it in by replaceWith (pulumi/pulumi 1b5949891b
    step_generator.go `findDependentCascadeReplacements`), deletes the claim first."""
    base, new = _static_docs(claim_goes_with_it=False)
    result = plan_diff.diff_documents(base, new)
    (volume,), (claim,) = ([u for u in new if new[u]["type"] == kind] for kind in (PV, PVC))
    assert volume in result["replaced"] and volume in result["deleteBeforeReplace"]
    assert "kubernetes.io/pv-protection" in " ".join(result["refused"].get(claim, []))
    base, new = _static_docs(claim_goes_with_it=True)  # its state lists the volume: deleted first, created again
    result = plan_diff.diff_documents(base, new)
    assert claim not in result["refused"] and claim in result["deleteBeforeReplace"]


def test_a_model_store_on_another_protocol_deletes_its_claim_before_its_volume(tmp_path, dev):
    """`modelStore.protocol: smb` replaces the model volume on its own diff (its CSI attributes), deleted first:
    ModelStore's claim names the volume in its replaceWith, so the volume's replacement deletes it first and it is
    created again after it. Without, the claim held the volume and `pulumi up` failed there (the test above)."""
    base, new = _doc(dev), _doc(plan_for("dev", SMB_STORE))
    (claim,) = [u for u in new if new[u]["type"] == PVC and new[u]["name"] == "models-pvc"]
    code, out = _check(tmp_path, base, new, "--allow-stateful")
    assert code == 0 and "pv-protection" not in out, out
    result = plan_diff.diff_documents(base, new)
    assert claim in result["deleteBeforeReplace"]
    # the new claim is an empty store: the preload Job runs again because it names the claim in its replaceWith (the
    # engine's own replacement), not because its inputs change (they name the claim by its kept name)
    (job,) = [u for u in new if new[u]["type"] == JOB and new[u]["name"] == "models-preload"]
    assert any("its replaceWith" in why and "models-pvc" in why for why in result["replaced"][job])
    # and the claim goes only once no pod names it, finished ones included (pvc-protection)
    assert any("finished ones included" in line for line in result["checks"][claim])
