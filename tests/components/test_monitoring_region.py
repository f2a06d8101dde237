"""Observability's data collection endpoint and rules are made in the cluster's region, and Azure Monitor wants the
endpoint that ingests managed Prometheus's metrics in the Azure Monitor workspace's region (and Container insights
its Log Analytics workspace in the cluster's): workspaces of another region are refused before anything registers
(docs/decisions.md, "Upstream facts verified: Managed Grafana's names, a DCR's region, authConfig.tenantId")."""
from typing import Any

import pulumi
import pytest

from llmplatform import AzureMonitoring, ComponentInputError, Observability
from llmplatform.input_rules import problems_of
from llmplatform.testing import ProgramError, run

from tests.components.test_components_alone import VAULT, cluster_handle, provider_opts

WORDS = ("the cluster's location {where!r}: Observability makes its data collection endpoint and rules there, and "
         "Azure Monitor wants that endpoint in the Azure Monitor workspace's region for metrics ingestion (Container "
         "insights its Log Analytics workspace too); give workspaces made in the cluster's region (AzureMonitoring's "
         "location), or {{azure_data_collection}} false and collect with your own rules")


def _monitoring(location: Any = "westeurope", **extra: Any) -> dict:
    handle = {"log_analytics_workspace_id": "/law/1", "monitor_workspace_id": "/amw/1", "action_group_id": "",
              **extra}
    return handle if location is None else {**handle, "location": location}


def _problems(cluster_at: Any, monitoring: Any, **args: Any) -> list:
    given = {"cluster": {"location": cluster_at}, "key_vault": {}, "monitoring": monitoring, **args}
    return [(p.path, p.value, p.allowed) for p in problems_of("Observability", given)]


@pytest.mark.parametrize("cluster_at, workspaces_at", [("westeurope", "swedencentral"), ("eastus2", "eastus"),
                                                       ("ukwest", "uksouth")])
def test_workspaces_of_another_region_are_refused(cluster_at, workspaces_at):
    """ukwest -> uksouth is one of Container insights' mapped pairs for Log Analytics, but the one endpoint also
    ingests metrics for the Azure Monitor workspace, which must be in its own region: refused too."""
    assert _problems(cluster_at, _monitoring(workspaces_at)) == [
        ("monitoring.location", workspaces_at, WORDS.format(where=cluster_at))]


def test_the_same_region_in_any_spelling_a_handle_without_its_region_and_no_data_collection_pass():
    assert _problems("westeurope", _monitoring("westeurope")) == []
    assert _problems("westeurope", _monitoring("West Europe")) == []  # ARM's display spelling of the same region
    assert _problems("West Europe", _monitoring("westeurope")) == []
    assert _problems("westeurope", _monitoring(None)) == []  # another caller's handle: not checked, Azure decides
    assert _problems("westeurope", _monitoring("swedencentral"), azure_data_collection=False) == []
    assert _problems("westeurope", None) == []
    # an output (unknown now) is left to the late recheck below
    assert problems_of("Observability", {"cluster": {}, "key_vault": {}, "monitoring": _monitoring("eastus")}) == []


def _outcome(build) -> tuple:
    try:
        run(build)
    except (ComponentInputError, ProgramError) as error:
        return str(error), type(error)
    return "", None


def _observability(cluster_at: str, workspaces_at: str, as_output: str = "", **args: Any):
    def build() -> None:
        cluster = {**cluster_handle(), "location": cluster_at}
        monitoring = _monitoring(workspaces_at)
        Observability("obs", {
            "cluster": pulumi.Output.from_input(cluster) if as_output == "cluster" else cluster,
            "monitoring": pulumi.Output.from_input(monitoring) if as_output == "monitoring" else monitoring,
            "key_vault": VAULT, "app_namespace": "acme", **args}, provider_opts())
    return build


@pytest.mark.parametrize("as_output", ["cluster", "monitoring"])
def test_a_region_given_as_an_output_is_checked_once_it_resolves(as_output):
    """A handle from another language or a stack reference arrives as one output: the same sentence once it resolves,
    no traceback, before the endpoint is registered; the same region plans."""
    early, early_type = _outcome(_observability("westeurope", "swedencentral"))
    late, late_type = _outcome(_observability("westeurope", "swedencentral", as_output))
    assert early_type is ComponentInputError and late_type is ProgramError, (early, late)
    assert late == early and "Traceback" not in late and "monitoring.location" in late
    assert _outcome(_observability("westeurope", "westeurope", as_output)) == ("", None)
    assert _outcome(_observability("westeurope", "swedencentral", as_output, azure_data_collection=False)) == \
        ("", None)


def test_azure_monitoring_hands_out_its_region_and_observability_takes_it():
    """The handle AzureMonitoring gives carries the workspaces' location, so a caller wiring it to a cluster of
    another region is refused; wired to its own region's cluster, the endpoint and rules are made there."""
    def build(workspaces_at: str):
        def program() -> None:
            monitoring = AzureMonitoring("mon", {"location": workspaces_at, "resource_group_name": "rg1"}).monitoring
            pulumi.export("location", monitoring["location"])
            Observability("obs", {"cluster": cluster_handle(), "monitoring": monitoring, "key_vault": VAULT,
                                  "app_namespace": "acme"}, provider_opts())
        return program

    plan = run(build("westeurope"))
    assert plan.outputs["location"] == "westeurope"
    endpoints = [r for r in plan.resources if r.type == "azure-native:monitor:DataCollectionEndpoint"]
    assert [r.inputs["location"] for r in endpoints] == ["westeurope"]
    refused, kind = _outcome(build("swedencentral"))
    assert kind is ComponentInputError and "monitoring.location" in refused and "'swedencentral'" in refused


def _both_late(cluster_at: str, workspaces_at: str, shape: str, **args: Any):
    """Both handles' regions unknown when Observability is built: each handle one output (two handles another
    language's program passes through the component provider, or read through stack references), or each handle's
    `location` an output (a Python caller's `resource_group.location` given to AksCluster and AzureMonitoring)."""
    def build() -> None:
        cluster, monitoring = {**cluster_handle(), "location": cluster_at}, _monitoring(workspaces_at)
        if shape == "handles":
            cluster, monitoring = pulumi.Output.from_input(cluster), pulumi.Output.from_input(monitoring)
        else:
            cluster["location"] = pulumi.Output.from_input(cluster_at)
            monitoring["location"] = pulumi.Output.from_input(workspaces_at)
        Observability("obs", {"cluster": cluster, "monitoring": monitoring, "key_vault": VAULT,
                              "app_namespace": "acme", **args}, provider_opts())
    return build


@pytest.mark.parametrize("shape", ["handles", "fields"])
def test_both_regions_given_as_outputs_are_compared_once_both_resolve(shape):
    """Each handle's late check alone read the other's region as unknown and passed: with both late, workspaces of
    another region planned, and the endpoint and rule were made where the Azure Monitor workspace is not."""
    early, _ = _outcome(_observability("westeurope", "swedencentral"))
    late, late_type = _outcome(_both_late("westeurope", "swedencentral", shape))
    assert late_type is ProgramError and late == early and "Traceback" not in late, late
    assert _outcome(_both_late("westeurope", "West Europe", shape)) == ("", None)
    assert _outcome(_both_late("westeurope", "swedencentral", shape, azure_data_collection=False)) == ("", None)
