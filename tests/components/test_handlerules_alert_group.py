"""ModelStore's `alert_action_group_id` given as an output (another stack's action group, AzureMonitoring's
`monitoring["action_group_id"]` read through a stack reference, another language's program) is judged by the same
rule as a plain one, once it resolves: the rule lives with ModelStore's others (input_rules/stateful.py), which the
late checks run again. Before, only "" was refused late (checks.PRESENCE_DECIDES): an id of a workspace or a bare
name planned and reached Azure as the alert processing rule's action group."""
import pulumi
import pytest

import llmplatform
from llmplatform.testing import run
from offline import runner as offline

from tests.components.test_components_alone import cluster_handle, provider_opts
from tests.components.test_snapshot_watch import GROUP, RULE, WORKSPACE


def _store(group, **inputs):
    def program() -> None:
        llmplatform.ModelStore("models", {"cluster": cluster_handle(), "account_name": "stmodels1", "namespace": "llm",
                                          "protocol": "smb", "snapshots": True,
                                          "alert_action_group_id": group() if callable(group) else group,
                                          **inputs}, provider_opts())
    return program


def _plain_words(value, **inputs) -> str:
    with pytest.raises(llmplatform.ComponentInputError) as refused:
        offline.run_function(_store(value, **inputs))
    return str(refused.value)


@pytest.mark.parametrize("value", ["ag-oncall", WORKSPACE, GROUP + "/"])
def test_an_action_group_id_given_as_an_output_is_refused_once_it_resolves_in_the_plain_words(value):
    plain = _plain_words(value)
    with pytest.raises(Exception) as refused:
        run(_store(lambda: pulumi.Output.from_input(value)))
    assert plain.startswith("ModelStore models: input alert_action_group_id=") and "an action group's resource " \
        "ID, /subscriptions/<subscription GUID>" in plain
    assert plain in str(refused.value)  # the same sentence, once it resolved


def test_an_action_group_id_given_as_an_output_that_resolves_to_an_id_plans():
    plan = run(_store(lambda: pulumi.Output.from_input(GROUP)))
    [rule] = plan.of_type(RULE)
    assert rule.inputs["properties"]["actions"][0]["actionGroupIds"] == [GROUP]


def test_an_output_given_without_snapshots_is_refused_at_once():
    """Without snapshots there is no vault whose alerts it routes: a plain id is refused, and so is an output now,
    which whatever it resolves to was refused later ("" as an empty value asking for an action group id, an id as
    this), in the plain one's words."""
    with pytest.raises(llmplatform.ComponentInputError) as refused:
        offline.run_function(_store(lambda: pulumi.Output.from_input(GROUP), snapshots=False))
    assert [e["property_path"] for e in refused.value.errors or []] == ["alert_action_group_id"]
    assert "unset without snapshots true: it receives the snapshot vault's alerts, and there is no vault" in \
        str(refused.value)
