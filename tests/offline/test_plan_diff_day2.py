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
