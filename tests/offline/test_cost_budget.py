"""The stack's cost budget as Azure reads it, on prod's plan (Pulumi.prod.yaml sets observability.monthlyBudget):
the groups its filter counts against where Azure bills the stack, its notifications against the REST spec's limits,
and its start date across months (Microsoft.Consumption stable/2024-08-01 consumption.json; docs/decisions.md,
"A cost budget per stack")."""
from __future__ import annotations

import copy
import datetime
import re

from pulumi_azure_native import consumption

from llmplatform.cost_budget import first_of_month
from offline import plan, plan_diff

BUDGET = "azure-native:consumption:Budget"
CLUSTER = "azure-native:containerservice:ManagedCluster"


def test_the_budget_counts_every_group_azure_bills_the_stack_in(prod):
    budget = prod.one(BUDGET).inputs
    # a subscription scope (the spec's '/subscriptions/{subscriptionId}/'): a filter by group needs one above them
    assert re.fullmatch(r"/subscriptions/[0-9a-f-]{36}/?", budget["scope"])
    assert set(budget["filter"]) == {"dimensions"}  # one expression: no AND with another that would narrow it
    dimension = budget["filter"]["dimensions"]
    assert (dimension["name"], dimension["operator"]) == ("ResourceGroupName", "In")
    counted = {g.lower() for g in dimension["values"]}
    # where each Azure resource is billed: its group; the pools' VMs in AKS's node group, named MC_<group>_<cluster>_
    # <region> when the cluster sets none (AKS FAQ, "Why are two resource groups created with AKS?")
    cluster = prod.one(CLUSTER).inputs
    node_group = cluster.get("nodeResourceGroup") or \
        f"MC_{cluster['resourceGroupName']}_{cluster['resourceName']}_{cluster['location']}"
    billed = {r.inputs["resourceGroupName"].lower() for r in prod.resources if r.custom and
              r.type.startswith("azure-native:") and isinstance(r.inputs.get("resourceGroupName"), str)}
    assert "rg-llmp-prod-models" in billed  # prod's model store has a group of its own
    assert billed | {node_group.lower()} <= counted
    # each as Azure names it and lower-cased (whether the filter ignores case is undocumented), once each
    assert {node_group, node_group.lower()} <= set(dimension["values"])
    assert len(dimension["values"]) == len(set(dimension["values"]))


def test_notifications_are_within_azure_limits_and_reach_the_on_call_action_group(prod):
    budget = prod.one(BUDGET)
    notifications = budget.inputs["notifications"]
    action_group = prod.one("azure-native:monitor:ActionGroup")
    group = action_group.inputs
    # contactGroups takes action groups' ARM ids: the on-call group's own `id` output (the stand-ins' id form is
    # theirs, so what counts is where the value comes from: that resource, waited for)
    assert action_group.urn in budget.dependencies
    assert 0 < len(notifications) <= 5  # "Budget can have up to five notifications"
    assert {n["thresholdType"] for n in notifications.values()} == {"Actual", "Forecasted"}
    for n in notifications.values():
        assert 0 < n["threshold"] <= 1000 and n["enabled"]  # "always percent and has to be between 0 and 1000"
        assert n["operator"] in {o.value for o in consumption.OperatorType}
        assert n["thresholdType"] in {t.value for t in consumption.ThresholdType}
        # contactEmails is required in the body; at subscription scope a contact group is enough
        assert n["contactEmails"] == [] and len(n["contactGroups"]) == 1
        contact = n["contactGroups"][0].lower()
        assert f"/resourcegroups/{group['resourceGroupName']}/providers/".lower() in contact
        assert contact.endswith(f"/{group['actionGroupName']}".lower()), contact


def _next_month(day: datetime.date) -> datetime.date:
    return (day.replace(day=1) + datetime.timedelta(days=32)).replace(day=1)


def test_the_start_is_this_months_first_and_next_months_run_keeps_it(prod):
    budget = prod.one(BUDGET)
    start = budget.inputs["timePeriod"]["startDate"]
    now = datetime.datetime.now(datetime.timezone.utc)
    # a past start must lie within the time grain (the current month); a month's first
    assert start in {first_of_month(now.date()), first_of_month((now - datetime.timedelta(minutes=5)).date())}
    # next month the program asks for next month's first: the diff keeps the deployed start, no update
    old = plan_diff.resources_by_urn(plan.resources_document(prod))
    new = copy.deepcopy(old)
    urn = next(u for u, r in new.items() if r["type"] == BUDGET)
    new[urn]["inputs"]["timePeriod"]["startDate"] = first_of_month(_next_month(now.date()))
    result = plan_diff.diff_documents(old, new)
    assert result["ignored"] == {urn: ["timePeriod.startDate"]}
    assert urn not in result["changed"] and urn not in result["replaced"]
    assert plan_diff.blocking(result, set(), False) == []


def test_a_budget_name_is_one_stack_s_in_the_subscription(prod):
    """A budget's name is unique in its scope, the subscription, and pulumi-azure-native's Create refuses a budget
    that exists (`CanCreate`): the second of two stacks with one name stops at its first `pulumi up`. The stack's is
    named after its platform group, which Azure keeps unique in the subscription (two regional stacks may share prefix
    and environment and differ by `resourceGroupName` alone: config/regions.py `regional_conflicts`); the component's
    default carries the project and stack (a program deployed as dev and prod in one subscription)."""
    from llmplatform.naming import budget_name

    from llmplatform import CostBudget
    from llmplatform.azure_names import budget as budget_rule
    from llmplatform.testing import run

    group = prod.one("azure-native:resources:ResourceGroup", "platform-rg").inputs["resourceGroupName"]
    assert group in prod.one(BUDGET).inputs["budgetName"]
    long = ["rg-" + "x" * 85 + end for end in ("a", "b")]  # 89 characters each, an Azure group name's length
    assert len({budget_name(g) for g in long}) == 2 and not any(budget_rule(budget_name(g)) for g in long)

    def program() -> None:
        CostBudget("cost", {"amount": 100, "resource_group_names": ["rg-a"], "action_group_id": "/subscriptions/s/"
                            "resourceGroups/rg-a/providers/microsoft.insights/actionGroups/ag"})
    names = {run(program, stack=stack).one(BUDGET).inputs["budgetName"] for stack in ("dev", "prod")}
    assert len(names) == 2 and not any(budget_rule(n) for n in names), names
