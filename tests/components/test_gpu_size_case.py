"""A GPU pool's size in another case (docs/decisions.md, "GPU sizes' spelling and the agent's settings"): a catalog
size is sent as the catalog spells it; a size `gpu_sku` describes is sent as given, so one Azure spells otherwise is
refused naming its spelling, as a CPU pool's is; an agent pool's `vmSize` is force-new, so a spelling corrected after
the first `pulumi up` would replace the pool. Through a consumer's program (`llmplatform.testing.run`), the PR check
and the stack's `make plan`."""
import copy
import json

import pytest

from llmplatform import AksCluster, ComponentInputError, GpuNodePool
from llmplatform.testing import run
from offline import plan_diff, plan as plan_cli
from offline.plan import resources_document as plan_document

from tests.components.test_components_alone import REQUIRED, cluster_handle, provider_opts

POOL = "azure-native:containerservice:AgentPool"
H100 = {"gpu_model": "H100", "gpus": 2, "gpu_memory_gib": 94}


def pool_args(vm_size: str, described: bool) -> dict:
    return {"cluster": cluster_handle(), "vm_size": vm_size, **({"gpu_sku": H100} if described else {})}


def sent_size(vm_size: str, described: bool) -> str:
    """The `vmSize` a GpuNodePool given `vm_size` (described by `gpu_sku` or not) sends to Azure."""
    return run(lambda: GpuNodePool("gpu", pool_args(vm_size, described), provider_opts())).one(POOL).inputs["vmSize"]


@pytest.mark.parametrize("typed, described, sent", [
    ("standard_nc24ads_a100_v4", False, "Standard_NC24ads_A100_v4"),  # the catalog's, looked up in any case
    ("Standard_NC24ads_A100_v4", True, "Standard_NC24ads_A100_v4"),
    ("Standard_NC80adis_H100_v5", True, "Standard_NC80adis_H100_v5"),
    ("Standard_NCC40ads_H100_v5", True, "Standard_NCC40ads_H100_v5"),  # a family of three letters: no shape known
])
def test_a_size_sent_is_azures_spelling(typed, described, sent):
    assert sent_size(typed, described) == sent


@pytest.mark.parametrize("typed, refusal", [
    ("standard_nc24ads_a100_v4", "the catalog's spelling (GpuNodePool sends it without gpu_sku): did you mean "
                                 "'Standard_NC24ads_A100_v4'?"),
    ("STANDARD_NC4AS_T4_V3", "the catalog's spelling (GpuNodePool sends it without gpu_sku): did you mean "
                             "'Standard_NC4as_T4_v3'?"),
    ("standard_nc80adis_h100_v5", "the size as Azure spells it: did you mean 'Standard_NC80adis_H100_v5'?"),
    ("Standard_ND96is_Mi300x_v5", "the size as Azure spells it: did you mean 'Standard_ND96is_MI300X_v5'?"),
])
def test_a_described_size_in_another_case_is_refused_naming_azures_spelling(typed, refusal):
    """Before: sent as typed (`standard_nc24ads_a100_v4` planned so), and the same size without `gpu_sku` in the
    catalog's spelling; taking it as Azure spells it instead would replace a pool deployed in another case."""
    with pytest.raises(ComponentInputError) as error:
        run(lambda: GpuNodePool("gpu", pool_args(typed, described=True), provider_opts()))
    assert f"vm_size={typed!r} is invalid; allowed: {refusal} (an agent pool's vmSize replaces the pool" \
        in str(error.value)


def test_the_pr_check_replaces_a_pool_whose_size_changed_in_case_alone():
    """Why another case is refused rather than taken: the PR check (offline.plan_diff, pulumi-azure-native's forceNew
    on `vmSize`) between a pool sent `standard_nc80adis_h100_v5` and one sent Azure's spelling replaces the pool."""
    now = plan_diff.resources_by_urn(plan_document(run(
        lambda: GpuNodePool("gpu", pool_args("Standard_NC80adis_H100_v5", described=True), provider_opts()))))
    before = copy.deepcopy(now)
    (pool,) = [urn for urn, r in before.items() if r["type"] == POOL]
    before[pool]["inputs"]["vmSize"] = "standard_nc80adis_h100_v5"
    assert pool in plan_diff.diff_documents(before, now)["replaced"]


def test_the_stack_sends_a_catalog_size_in_another_case_as_the_catalog_spells_it(tmp_path):
    assert plan_cli.main(["--stack", "dev", "--out", str(tmp_path),
                          "--set", "gpu.vmSize=standard_nc24ads_a100_v4"]) == 0
    resources = json.loads(next(tmp_path.glob("*/resources.json")).read_text())["resources"]
    assert {r["inputs"]["vmSize"] for r in resources if r["type"] == POOL and "gpu" in r["inputs"]["agentPoolName"]} \
        == {"Standard_NC24ads_A100_v4"}


def test_a_size_with_a_part_azure_spells_in_lower_case_is_taken_as_spelt():
    """`Standard_DC4as_cc_v5` (confidential child-capable): its `cc` is Azure's; before, the CPU pool's rule upper-cased
    every part after the first underscore and refused Azure's own spelling (did you mean 'Standard_DC4as_CC_v5'?)."""
    args = REQUIRED["AksCluster"]()
    args["workload_pool"] = {**args["workload_pool"], "vm_size": "Standard_DC4as_cc_v5"}
    run(lambda: AksCluster("aks", args))
    args["workload_pool"]["vm_size"] = "standard_dc4as_CC_v5"
    with pytest.raises(ComponentInputError, match="did you mean 'Standard_DC4as_cc_v5'"):
        run(lambda: AksCluster("aks", args))
