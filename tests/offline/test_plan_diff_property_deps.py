"""A delete-first replacement's chain by property dependencies (pulumi/pulumi 1b5949891b
pkg/resource/deploy/step_generator.go `calculateDependentReplacements`): the engine makes unknown every input of a
dependent whose property dependencies in the state hold the replaced resource, whatever its value, and asks the
provider's Diff. The kit records the request's `propertyDependencies` (pulumi 3.272.0 runtime/resource.py), the plan
writes them, and the check follows them for a delete-first cause; a base plan without them keeps the value matching."""
import copy

import pytest

from offline import plan_diff
from offline.plan_diff import compare

from tests.conftest import PLANNED, plan_for, planned, variant
from tests.offline.plan_diff_cli import check as _check, plan_document, without_property_dependencies

POOL = "azure-native:containerservice:AgentPool"
# the workload pool's VM size, force-new in pulumi-azure-native (offline/data/replacement_rules.json)
BIGGER_POOL = {"cluster": {"workloadPool": {"vmSize": "Standard_D8ads_v5"}}}


def _pool(doc: dict, name: str) -> str:
    (urn,) = [u for u, r in doc.items() if r["type"] == POOL and r["name"] == name]
    return urn


@pytest.fixture(scope="module")
def edited():
    """dev and dev with a bigger CPU workload pool: that pool is replaced under its own name, deleted first."""
    return plan_document(variant("dev")), plan_document(plan_for("dev", BIGGER_POOL))


def _state_of_an_earlier_release(doc: dict) -> dict:
    """dev as the package before 2026-12-05 registered it: AksCluster handed out its `cluster_name` carrying the CPU
    workload pool (`settled`), so the state holds that pool among the GPU pool's `resourceName` dependencies."""
    out = copy.deepcopy(doc)
    deps = out[_pool(out, "gpu-gpu")]["propertyDependencies"]["resourceName"]
    deps[:] = sorted({*deps, _pool(out, "platform-cpu")})
    return out


def test_the_kit_records_each_input_s_property_dependencies(edited):
    """The request's propertyDependencies, per top-level input key, sorted, only keys with any: the GPU pool's
    `resourceName` holds the cluster alone; the CPU pool, written before it (AKS takes one pool operation at a time),
    is among its dependencies only (ClusterHandle.pool_writes_after, the pool turn's depends_on)."""
    base, _ = edited
    gpu, cpu = _pool(base, "gpu-gpu"), _pool(base, "platform-cpu")
    cluster = next(u for u, r in base.items() if r["type"] == "azure-native:containerservice:ManagedCluster")
    deps = base[gpu]["propertyDependencies"]
    assert deps["resourceName"] == [cluster] and cpu in base[gpu]["dependencies"]
    assert not any(cpu in urns for urns in deps.values())
    assert all(urns and urns == sorted(urns) for r in base.values() for urns in r["propertyDependencies"].values())
    # every URN a key holds is among the resource's dependencies (the SDK adds each to them)
    assert all(set(urns) <= set(r["dependencies"]) for r in base.values() for urns in r["propertyDependencies"].values())


def test_a_resized_cpu_pool_replaces_no_gpu_pool(tmp_path, edited):
    """A new CPU VM size replaces that pool alone: no GPU pool's input carries it (the defect the chain found: the
    GPU pools were deleted and created again with it)."""
    base, new = edited
    result = plan_diff.diff_documents(base, new)
    assert _pool(new, "platform-cpu") in result["deleteBeforeReplace"]
    assert not [u for u in result["replaced"] if new[u]["type"] == POOL and u != _pool(new, "platform-cpu")]
    assert not [u for u in result["replaced"] if new[u]["type"].startswith("azure-native:") and
                new[u]["type"] != POOL], result["replaced"]


def test_a_pool_replaced_deleting_first_takes_the_gpu_pool_whose_name_comes_from_it(tmp_path, monkeypatch, edited):
    """In a state an earlier release wrote, the GPU pool's `resourceName` (part of its Azure ID) holds the CPU
    workload pool among its property dependencies, though its value is the cluster's name: the engine, deleting the
    CPU pool first, makes it unknown, pulumi-azure-native's Diff replaces on it, and the GPU pool is deleted first and
    created again (the engine reads the state's dependencies: the first `pulumi up` with this release records the
    new ones). The value matching alone (a planted defect: the plans' property dependencies not read) did not see
    it."""
    base, new = edited
    base = _state_of_an_earlier_release(base)
    cpu, gpu = _pool(new, "platform-cpu"), _pool(new, "gpu-gpu")
    assert "resourceName" in plan_diff.rules()["azureNative"]["types"][POOL]["path"]
    assert new[gpu]["inputs"] == base[gpu]["inputs"]  # nothing of its own changes
    result = plan_diff.diff_documents(base, new)
    assert cpu in result["deleteBeforeReplace"]
    assert gpu in result["replaced"] and gpu in result["deleteBeforeReplace"]
    short = plan_diff.short_urn(plan_diff.engine_urns(new)[cpu])
    assert result["replaced"][gpu] == [f"`resourceName` comes from `{short}`, which is deleted first and replaced (the "
                                       "engine makes it unknown, and the provider's diff replaces on it)"]
    code, out = _check(tmp_path, base, new)
    assert f"Replace: `{plan_diff.short_urn(gpu)}` (deleted first, then created: a gap)" in out
    # blocked for the CPU pool's drain alone (the router has nowhere to go: offline/plan_diff/pool_drains.py)
    assert code != 0 and list(result["refused"]) == [cpu]

    # the planted defect: the value matching alone
    monkeypatch.setattr(compare, "_property_dependencies", lambda *args: None)
    assert gpu not in plan_diff.diff_documents(base, new)["replaced"]


def test_a_create_first_cause_keeps_the_value_matching(edited):
    """A replacement created first hands its dependents the new outputs (no chain): with the CPU pool's
    `delete_before_replace=False` the GPU pool is not replaced (the pool's create is refused instead)."""
    base, new = edited
    base = _state_of_an_earlier_release(base)
    cpu, gpu = _pool(new, "platform-cpu"), _pool(new, "gpu-gpu")
    new = copy.deepcopy(new)
    new[cpu]["options"]["deleteBeforeReplaceDefined"] = True
    result = plan_diff.diff_documents(base, new)
    assert cpu in result["replaced"] and cpu not in result["deleteBeforeReplace"] and cpu in result["refused"]
    assert gpu not in result["replaced"]


def test_a_base_planned_by_an_earlier_kit_keeps_the_value_matching(tmp_path, edited):
    """A base plan without the field (the first pull request after the upgrade) is matched by value, as before: the
    new field shows no replacement by itself, and the edit shows what it showed before."""
    base, new = edited
    base = _state_of_an_earlier_release(base)
    old_base = without_property_dependencies(base)
    result = plan_diff.diff_documents(old_base, new)
    assert _pool(new, "platform-cpu") in result["replaced"] and _pool(new, "gpu-gpu") not in result["replaced"]
    with_field = plan_diff.diff_documents(base, new)
    # what the field adds is the engine's chain alone (the GPU pool, and the Kubernetes objects whose `spec` the
    # node selector's value ties to the CPU pool: an unknown `spec` nulls a force-new field, docs/decisions.md
    # 2026-12-05 "the unknown is no null")
    assert set(result["replaced"]) <= set(with_field["replaced"])
    assert all(any("the engine makes it unknown" in why for why in with_field["replaced"][u])
               for u in set(with_field["replaced"]) - set(result["replaced"])), with_field["replaced"]


@pytest.mark.parametrize("name", PLANNED)
def test_every_stack_s_check_of_an_unchanged_config_shows_nothing(tmp_path, name):
    """Before and after plans of one config: nothing, with the field on both sides and with a base without it."""
    doc = plan_document(planned(name))
    assert all("propertyDependencies" in r for r in doc.values())
    for base in (doc, without_property_dependencies(doc)):
        result = plan_diff.diff_documents(base, copy.deepcopy(doc))
        assert (result["replaced"], result["changed"], result["refused"], result["checks"]) == ({}, {}, {}, {})
        code, out = _check(tmp_path, base, doc)
        assert code == 0 and "0 to update, 0 to replace" in out, out


EARLIER_KIT = "the base plan records no property dependencies"


def _unrecorded(result: dict) -> dict:
    """The check lines an earlier kit's base (no `propertyDependencies`) gets, by resource."""
    return {u: lines for u, lines in result["checks"].items() if any(EARLIER_KIT in line for line in lines)}


def test_a_base_planned_by_an_earlier_kit_names_what_the_engine_s_chain_may_take(tmp_path, edited):
    """The first pull request after an upgrade compares a base plan of the earlier release (0.21.0 records no
    `propertyDependencies`) while the state is still that release's, which tied the GPU pool's `resourceName` to the
    CPU pool (`_state_of_an_earlier_release`). Matched by value the diff lists the CPU pool alone; the engine's chain
    (pulumi/pulumi 1b5949891b step_generator.go `calculateDependentReplacements`, from the state's property
    dependencies) deletes the GPU pool first with it. The check cannot know which input the state ties, so every kept
    resource whose base dependencies hold a delete-first replacement gets a line naming it; a base with the field,
    where the chain is read, gets none."""
    base, new = edited
    state = _state_of_an_earlier_release(base)
    old_base = without_property_dependencies(state)
    cpu, gpu = _pool(new, "platform-cpu"), _pool(new, "gpu-gpu")
    result = plan_diff.diff_documents(old_base, new)
    assert cpu in result["deleteBeforeReplace"] and gpu not in result["replaced"]  # the value matching
    short = plan_diff.short_urn(plan_diff.engine_urns(new)[cpu])
    told = _unrecorded(result)
    # the way round is a command to copy: the replaced resource's engine URN, quoted for the shell (it holds `$`)
    exclude = f"`pulumi up --exclude '{plan_diff.engine_urns(new)[cpu]}'`"
    assert gpu in told and f"`{short}`" in told[gpu][-1] and exclude in told[gpu][-1], told
    # what the chain takes from the state as it is (the field read) is each replaced, or named, or goes with one named
    chained = set(plan_diff.diff_documents(state, new)["replaced"]) - set(result["replaced"])
    assert gpu in chained
    assert all(u in told or set(new[u]["dependencies"]) & set(told) for u in chained), chained - set(told)
    # only resources the state lists a delete-first replacement for, none replaced already
    assert all(set(old_base[u]["dependencies"]) & set(result["deleteBeforeReplace"]) for u in told)
    assert not set(told) & set(result["replaced"])
    assert not _unrecorded(plan_diff.diff_documents(state, new))  # the field: the chain is the engine's, no line
    code, out = _check(tmp_path, old_base, new)
    assert f"- Check before merging: `{plan_diff.short_urn(gpu)}`: {EARLIER_KIT}" in out, out


def test_a_job_replaced_under_its_name_names_the_model_server_the_earlier_state_ties_to_it(dev):
    """The upgrade from 0.21.0 replaces the preload Job under its own name (deleted first: MODEL_SIZES_MIB in its
    immutable template), and 0.21.0's state holds the Job in Ollama's `spec` property dependencies (the claim name
    waited for it), so the engine deletes Ollama's Deployment first and creates it again. A base plan of that
    release cannot show it: the check names Ollama, which waits for the Job (a `depends_on` now)."""
    base = plan_document(dev)
    (job,) = [u for u, r in base.items() if r["type"] == "kubernetes:batch/v1:Job" and r["name"] == "models-preload"]
    (ollama,) = [u for u, r in base.items() if r["type"] == "kubernetes:apps/v1:Deployment"
                 and r["name"] == "inference-ollama"]
    new = copy.deepcopy(base)
    env = new[job]["inputs"]["spec"]["template"]["spec"]["containers"][0]["env"]
    (sizes,) = [e for e in env if e["name"] == "MODEL_SIZES_MIB"]
    sizes["value"] += "1"  # a size corrected
    for old_base in (without_property_dependencies(base), base):
        result = plan_diff.diff_documents(old_base, new)
        assert job in result["deleteBeforeReplace"] and ollama not in result["replaced"]
        assert job in old_base[ollama]["dependencies"]
    assert ollama in _unrecorded(plan_diff.diff_documents(without_property_dependencies(base), new))
    assert not _unrecorded(plan_diff.diff_documents(base, new))
