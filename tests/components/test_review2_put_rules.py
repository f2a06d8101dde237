"""Review of the put rules (components/llmplatform/put_rules.py): the whole DCsv2 series refused on Azure CNI Overlay,
and a spot price the value rules refuse never reaching the decimal-places rule as a traceback."""
from __future__ import annotations

import pytest

import llmplatform
from llmplatform.checks import ComponentInputError
from llmplatform.put_rules import aks_cluster as aks_put_rules

from tests.components.test_components_alone import REQUIRED


def _paths(component: str, args: dict) -> list[str]:
    with pytest.raises(ComponentInputError) as caught:
        getattr(llmplatform, component)("review2", args)
    return [e["property_path"] for e in caught.value.errors or []]


# DCsv2-series sizes (learn.microsoft.com/azure/virtual-machines/dcv2-series): the largest is Standard_DC8_v2, with no
# "s"; Azure CNI Overlay refuses the series in a node pool (MicrosoftDocs/azure-aks-docs
# articles/aks/concepts-network-azure-cni-overlay.md, "Limitations with Azure CNI Overlay").
@pytest.mark.parametrize("size", ["Standard_DC1s_v2", "Standard_DC2s_v2", "Standard_DC4s_v2", "Standard_DC8_v2"])
def test_every_dcsv2_size_is_refused_on_the_overlay_network(size):
    args = REQUIRED["AksCluster"]()
    args["workload_pool"] = {**args["workload_pool"], "vm_size": size}
    assert [p.path for p in aks_put_rules(args)] == ["workload_pool.vm_size"]


@pytest.mark.parametrize("size", ["Standard_DC8s_v3", "Standard_DC8as_v5", "Standard_DC8ads_v5", "Standard_D8s_v2"])
def test_other_confidential_and_v2_sizes_are_not_dcsv2(size):
    args = REQUIRED["AksCluster"]()
    args["workload_pool"] = {**args["workload_pool"], "vm_size": size}
    assert [p.path for p in aks_put_rules(args) if p.path.endswith("vm_size")] == []


def test_a_spot_price_too_large_for_a_float_is_refused_by_the_value_rules_not_a_traceback():
    """An int spot price was turned into a float to count its decimals: 10**400 raised OverflowError (a traceback from
    a component's constructor) instead of the value rules' refusal of a price above their bound."""
    base = REQUIRED["GpuNodePool"]()
    assert _paths("GpuNodePool", {**base, "spot_max_price": 10 ** 400}) == ["spot_max_price"]
    assert _paths("GpuNodePool", {**base, "spot_max_price": 0.123456}) == ["spot_max_price"]  # still counted
