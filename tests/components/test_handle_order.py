"""handles.value_alone and handles.order_of, the two halves of a write-order gate kept out of a force-new input: the
input takes the value as it resolves (known or not, secret or not) and no resource, the resource's `depends_on` the
resources the value carries. Read from what the SDK sends (pulumi 3.272.0 `runtime/rpc.py` serialize_property,
`runtime/_depends_on.py` `_resolve_depends_on`), in a run and in a preview, where an unknown value still orders."""
import pulumi
import pytest
from pulumi_azure_native import resources

from llmplatform.handles import order_of, value_alone
from llmplatform.testing import Secret, run

REFERENCE = "org/other/prod"


def _program():
    gate = resources.ResourceGroup("gate", resource_group_name="rg-gate")
    other = resources.ResourceGroup("other", resource_group_name="rg-other")
    ref = pulumi.StackReference(REFERENCE)
    values = {
        "output": gate.name,
        "secret": pulumi.Output.secret(gate.name),
        "nested": gate.name.apply(lambda n: other.name.apply(lambda m: f"{n}-{m}")),
        "reference": ref.get_output("name"),
        "secret-reference": ref.get_output("password"),
    }
    for key, value in values.items():
        resources.ResourceGroup(f"user-{key}", resource_group_name=f"rg-user-{key}", tags={"v": value_alone(value)},
                                opts=pulumi.ResourceOptions(depends_on=[order_of(value)]))


@pytest.mark.parametrize("preview", [False, True], ids=["run", "preview"])
def test_the_value_alone_keeps_value_unknown_and_secret_and_the_order_keeps_the_resources(preview):
    plan = run(_program, preview=preview,
               references={REFERENCE: {"name": "rg-ref", "password": Secret("s3cret")}})
    by_name = {r.name: r for r in plan.resources}
    gate, other = by_name["gate"].urn, by_name["other"].urn
    # a StackReference is read, not registered: its URN, as the program's SDK names it (a child of the stack)
    ref = f"urn:pulumi:{plan.stack}::{plan.project}::pulumi:pulumi:Stack$pulumi:pulumi:StackReference::{REFERENCE}"
    # what each value's resources are (a nested output's inner one only once the outer is known: not in a preview)
    carried = {"output": {gate}, "secret": {gate}, "nested": {gate} if preview else {gate, other},
               "reference": {ref}, "secret-reference": {ref}}
    for key, urns in carried.items():
        user = by_name[f"user-{key}"]
        assert urns <= set(user.dependencies), (key, user.dependencies)
        assert not user.property_dependencies.get("tags"), (key, user.property_dependencies)
        assert ("tags.v" in user.secret_paths) == (key in ("secret", "secret-reference")), (key, user.secret_paths)
    known = {"reference": "rg-ref", "secret-reference": "s3cret"}
    if not preview:
        known.update({"output": "rg-gate", "secret": "rg-gate", "nested": "rg-gate-rg-other"})
    for key in carried:
        value = by_name[f"user-{key}"].inputs["tags"]["v"]
        assert (value == known[key]) if key in known else not isinstance(value, str), (key, value)


def test_an_order_of_nothing_orders_nothing():
    """A handle's ordering-only field left out (`field(handle, key, None)`): no dependency, no failure."""
    def program():
        resources.ResourceGroup("alone", resource_group_name="rg-alone",
                                opts=pulumi.ResourceOptions(depends_on=[order_of(None)]))
    (alone,) = [r for r in run(program).resources if r.name == "alone"]
    assert alone.dependencies == []
