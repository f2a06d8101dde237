"""CostBudget: an Azure Consumption budget over a platform's resource groups that notifies an action group when the
month's actual or forecast cost crosses a share of the amount.

One subscription-scope budget filtered to the groups (not one per group): AKS bills the node VMs, the GPU pools among
them, in its node resource group (`AksCluster.node_resource_group`), not in the cluster's group, and one amount over
all the groups is what the stack's cost estimate models. Sources: docs/decisions.md, "A cost budget per stack".
"""
import datetime
from typing import Optional, TypedDict

import pulumi
from pulumi_azure_native import authorization, consumption
from typing_extensions import NotRequired

from . import PACKAGE
from .checks import called_as_documented, check_shape
from .defaults import defaults_for
from . import naming

opt = defaults_for("CostBudget")

# The column a budget filter names for resource groups (terraform-provider-azurerm consumption_budget_subscription
# docs list the dimension names Cost Management takes: ResourceGroupName among them)
GROUP_DIMENSION = "ResourceGroupName"


def first_of_month(today: Optional[datetime.date] = None) -> str:
    """The first of the current month (UTC), as Azure takes a budget's start: a Monthly budget's start is the first of
    a month, and a past start must lie within the current month (the REST spec's timePeriod)."""
    day = today or datetime.datetime.now(datetime.timezone.utc).date()
    return f"{day.year:04d}-{day.month:02d}-01T00:00:00Z"


def both_cases(names: list[str]) -> list[str]:
    """Each group name as given and lower-cased, once each: AKS names its node group `MC_...` while Cost
    Management's usage rows often carry groups lower-cased, and whether a budget filter's `In` ignores case is not
    documented; a second spelling of one group adds nothing to the cost counted."""
    return list(dict.fromkeys(spelling for name in names for spelling in (name, name.lower())))


def notification_key(threshold_type: str, percent: int) -> str:
    """`Actual_GreaterThan_80_Percent`: the key form of the REST spec's own example (CreateOrUpdateBudget.json)."""
    return f"{threshold_type}_GreaterThan_{percent}_Percent"


class CostBudgetArgs(TypedDict):
    """Inputs of CostBudget."""

    amount: float
    """The monthly amount, in the billing account's currency (Cost Management compares it with the billed cost; the
    stack's offline estimate is in USD list prices). Greater than 0."""
    resource_group_names: list[pulumi.Input[str]]
    """The resource groups whose cost counts, each once: the platform's, the cluster's node group
    (`AksCluster.node_resource_group`) and any other the stack bills in (a separate model store's)."""
    action_group_id: pulumi.Input[str]
    """The action group each notification goes to (AzureMonitoring's `monitoring["action_group_id"]`), in the same
    subscription."""
    budget_name: NotRequired[Optional[str]]
    """Budget name, 1-63 letters, digits, '-' and '_', unique in the subscription (default `budget-<project>-<stack>-
    <component name>`: a second budget of one name in the subscription is refused)."""
    actual_percents: NotRequired[Optional[list[int]]]
    """Shares of the amount (percent, 1-1000) whose actual cost notifies (default [80, 100])."""
    forecast_percents: NotRequired[Optional[list[int]]]
    """Shares of the amount (percent, 1-1000) whose forecast cost notifies (default [100]). At most five notifications
    in all with `actual_percents`."""
    start_date: NotRequired[Optional[str]]
    """The first month counted, `YYYY-MM-01` (default: the current month, when the budget is created). Azure takes a
    start within the current month or up to twelve months ahead; once created it is kept (ignoreChanges)."""


@called_as_documented
class CostBudget(pulumi.ComponentResource):
    """An Azure Consumption budget (monthly, subscription scope) over the resource groups given, notifying an action
    group at shares of the amount, actual and forecast."""

    budget_id: pulumi.Output[str]
    """ARM id of the budget."""
    budget_name: pulumi.Output[str]
    """Name of the budget."""

    def __init__(self, name: str, args: CostBudgetArgs, opts: Optional[pulumi.ResourceOptions] = None):
        args = check_shape("CostBudget", name, args, CostBudgetArgs)
        super().__init__(f"{PACKAGE}:index:CostBudget", name, None, opts)
        start = args.get("start_date")
        start = f"{start}T00:00:00Z" if start else first_of_month()
        group = args["action_group_id"]
        notifications = {
            notification_key(kind.value, percent): consumption.NotificationArgs(
                enabled=True, operator=consumption.OperatorType.GREATER_THAN, threshold=percent, threshold_type=kind,
                # at subscription scope an action group suffices (contactEmails is required in the body, may be
                # empty: "at least one contact email or contact group")
                contact_emails=[], contact_groups=[group])
            for kind, percents in ((consumption.ThresholdType.ACTUAL, opt(args, "actual_percents")),
                                   (consumption.ThresholdType.FORECASTED, opt(args, "forecast_percents")))
            for percent in percents}
        # the subscription the component's azure-native provider deploys to
        subscription = authorization.get_client_config_output(
            opts=pulumi.InvokeOutputOptions(parent=self)).subscription_id
        # unique in the subscription, the budget's scope: the stack's name in it (Create refuses an existing budget)
        budget_name = args.get("budget_name") or naming.budget_name(pulumi.get_project(), pulumi.get_stack(), name)
        budget = consumption.Budget(
            f"{name}-budget", budget_name=budget_name,
            scope=subscription.apply(lambda s: f"/subscriptions/{s}"),
            amount=float(args["amount"]), category=consumption.CategoryType.COST,
            time_grain=consumption.TimeGrainType.MONTHLY,
            time_period=consumption.BudgetTimePeriodArgs(start_date=start),
            filter=consumption.BudgetFilterArgs(dimensions=consumption.BudgetComparisonExpressionArgs(
                name=GROUP_DIMENSION, operator=consumption.BudgetOperatorType.IN_,
                values=pulumi.Output.all(*args["resource_group_names"]).apply(both_cases))),
            notifications=notifications,
            # the start is the creation month's first: next month's run would move it (a monthly update), and a
            # budget cannot start before the current month. The engine keeps the old input on an update only
            # (pulumi/pulumi step_generator.go processIgnoreChanges, applied when the resource exists)
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=["timePeriod"]))
        self.budget_id = budget.id
        self.budget_name = budget.name
        self.register_outputs({"budget_id": self.budget_id, "budget_name": self.budget_name})
