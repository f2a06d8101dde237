"""Azure inputs read against the installed pulumi-azure-native SDK's own types (llmplatform.azure_inputs): the
refusals the testing kit adds for what the mocks accept and azure-native or Azure would not, and every value of
every planned variant outside an SDK enum accounted for with its Azure source."""
import json
import re

import pulumi
import pulumi_azure_native.containerservice as containerservice
import pulumi_azure_native.resources as resources
import pulumi_azure_native.storage as storage
import pytest

from llmplatform import azure_inputs
from llmplatform.choices import FLEET_CHANNELS
from llmplatform.testing import ProgramError, run

from tests.conftest import PLANNED, PROJECT_DIR, planned

OPEN_ENUM_VALUES = json.loads((PROJECT_DIR / "tests" / "data" / "azure_open_enum_values.json").read_text())["values"]
RG = "rg-test"


def refused(program) -> str:
    with pytest.raises(ProgramError) as error:
        run(program)
    return str(error.value)


def test_a_typo_in_a_nested_dict_is_refused_where_args_classes_would_have_caught_it():
    """A dict literal reaches the provider as it is; azure-native's Check validates only the properties its type has
    and sends only those (provider/pkg/provider/provider.go validateType), so `nmae` would vanish silently."""
    def program():
        storage.StorageAccount("sa", resource_group_name=RG, kind="StorageV2",
                               sku={"nmae": "Standard_LRS"})  # type: ignore[typeddict-unknown-key]
    message = refused(program)
    assert "sa (azure-native:storage:StorageAccount): sku.nmae = 'Standard_LRS'" in message
    assert "not a property of SkuArgs" in message


def test_a_value_outside_a_closed_enum_is_refused_with_the_allowed_values():
    def program():
        storage.StorageAccount("sa", resource_group_name=RG, kind="StorageV2",
                               sku=storage.SkuArgs(name="Standard_LRS"),
                               network_rule_set=storage.NetworkRuleSetArgs(default_action="Block"))
    message = refused(program)
    assert "networkRuleSet.defaultAction = 'Block': not one of Allow, Deny (DefaultAction)" in message
    # the same value in another case is reported, not refused: many resource providers match enums that way
    (case,) = azure_inputs.findings("azure-native:storage:StorageAccount",
                                    {"resourceGroupName": RG, "kind": "StorageV2", "sku": {"name": "Standard_LRS"},
                                     "networkRuleSet": {"defaultAction": "deny"}})
    assert case.kind == "enum-case" and not case.refused


def test_a_string_where_the_api_takes_a_number_is_refused_as_azure_natives_check_would():
    def program():
        containerservice.AgentPool("pool", resource_group_name=RG, resource_name_="aks", count="3")  # type: ignore
    message = refused(program)
    assert re.search(r"count = '3': the API expects a number, not a string", message), message


def test_every_problem_of_a_program_is_named_at_once_and_valid_inputs_pass():
    def program():
        resources.ResourceGroup("rg", location="westeurope")
        storage.StorageAccount("sa", resource_group_name=RG, kind="StorageV2", enable_https_traffic_only=True,
                               sku=storage.SkuArgs(name=storage.SkuName.STANDARD_LRS),
                               network_rule_set={"default_action": "Block", "bypas": "AzureServices",
                                                 "virtual_network_rules": [{"virtual_network_resource_id": "/x",
                                                                            "action": "Allow", "state": "ok"}]})
    message = refused(program)
    # the SDK translates a dict's snake_case keys it knows, so only the misspelt one is unknown
    assert "networkRuleSet.bypas = 'AzureServices': not a property of NetworkRuleSetArgs" in message
    assert "networkRuleSet.defaultAction = 'Block'" in message
    assert message.count("(azure-native:storage:StorageAccount)") == 2
    # an open enum's value (State admits any string) and a valid resource are no refusals
    assert "state" not in message and "azure-native:resources:ResourceGroup" not in message


def test_a_value_outside_an_open_enum_is_a_finding_not_a_refusal():
    """An open enum admits any string: the SDK's list may lag Azure or, on a name collision, be another enum's."""
    (finding,) = azure_inputs.findings("azure-native:containerservice:AutoUpgradeProfile",
                                       {"channel": "Stable", "fleetName": "f", "resourceGroupName": RG})
    assert finding.kind == "open-enum" and not finding.refused and "(UpgradeChannel)" in finding.detail
    assert azure_inputs.findings("azure-native:nosuchmodule:Thing", {"x": 1}) == []


def test_a_discriminated_union_is_read_with_the_member_that_fits():
    """A metric alert's criteria is one of three types told apart by odata.type; a multi-metric criteria with allOf
    fits its own member, and a criterion no member has is still found."""
    inputs = {"resourceGroupName": RG, "severity": 2, "enabled": True, "scopes": ["/x"], "evaluationFrequency": "PT1M",
              "windowSize": "PT5M", "criteria": {
                  "odataType": "Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria",
                  "allOf": [{"criterionType": "StaticThresholdCriterion", "name": "c", "metricName": "m",
                             "operator": "GreaterThan", "threshold": 1, "timeAggregation": "Average"}]}}
    assert azure_inputs.findings("azure-native:monitor:MetricAlert", inputs) == []
    inputs["criteria"]["allOf"][0]["treshold"] = inputs["criteria"]["allOf"][0].pop("threshold")
    (finding,) = azure_inputs.findings("azure-native:monitor:MetricAlert", inputs)
    assert finding.kind == "unknown-key" and finding.path == "criteria.allOf[0].treshold"
    assert "MetricCriteriaArgs" in finding.detail


def _pattern(path: str) -> str:
    return re.sub(r"\[\d+\]", "[]", path)  # offline/plan_diff.py's spelling of any list index


@pytest.mark.parametrize("name", PLANNED)
def test_every_value_outside_an_sdk_enum_is_one_azure_documents(name):
    """The runner already refuses the defects; what is left, values an open enum lacks, each has its source."""
    plan = planned(name)
    known: dict[tuple[str, str], set[str]] = {}
    for entry in OPEN_ENUM_VALUES:
        known.setdefault((entry["type"], entry["path"]), set()).update(entry["values"])
    unexplained = [f"{reg.name} ({reg.type}): {finding}" for reg in plan.resources
                   for finding in azure_inputs.findings(reg.type, reg.inputs)
                   if finding.value not in known.get((reg.type, _pattern(finding.path)), set())]
    assert not unexplained, "add each with its Azure source to tests/data/azure_open_enum_values.json, or fix it:\n" \
                            + "\n".join(unexplained)


def test_each_documented_value_is_used_and_sourced():
    used = {(reg.type, _pattern(f.path), f.value) for name in PLANNED for reg in planned(name).resources
            for f in azure_inputs.findings(reg.type, reg.inputs)}
    for entry in OPEN_ENUM_VALUES:
        assert entry["source"] and entry["why"]
        assert any((entry["type"], entry["path"], value) in used for value in entry["values"]), entry
    # every Fleet channel the config offers is one of Fleet's own (not the SDK's AKS enum)
    (fleet,) = [e for e in OPEN_ENUM_VALUES if e["type"].endswith(":AutoUpgradeProfile")]
    assert set(FLEET_CHANNELS) <= set(fleet["values"])
    assert not set(FLEET_CHANNELS) & {m.value for m in containerservice.UpgradeChannel}


def test_a_required_input_given_as_an_output_that_resolves_to_nothing_is_refused():
    """The SDK's constructor refuses a required input given as None, not an output that resolves to None: the mocks
    then record a role assignment with no principalId, which Azure refuses at deploy time."""
    import pulumi
    from pulumi_azure_native import authorization

    def program():
        authorization.RoleAssignment("ra", principal_id=pulumi.Output.from_input(None).apply(lambda v: v),
                                     role_definition_id="/providers/Microsoft.Authorization/roleDefinitions/r",
                                     scope="/subscriptions/s")
    message = refused(program)
    assert "ra (azure-native:authorization:RoleAssignment): principalId = None: required" in message, message
    assert [f.path for f in azure_inputs.findings("azure-native:authorization:RoleAssignment", {
        "roleDefinitionId": "r", "scope": "s"}) if f.refused] == ["principalId"]
