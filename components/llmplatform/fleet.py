"""FleetUpdates: Azure Kubernetes Fleet Manager over the regional clusters, upgrading one region at a time.

Every cluster is a member in an update group of its own; the update strategy has one stage per region (in the
order given) with a soak wait after each but the last; an auto-upgrade profile starts an update run on that strategy
whenever AKS releases a version on the chosen channel. Member clusters must leave upgrades to the fleet (their own
`upgradeChannel` none), or the two would fight; the stack config enforces that on the regional stacks.
"""
from typing import Mapping, Optional, Sequence, TypedDict

import pulumi
from pulumi_azure_native import containerservice
from typing_extensions import NotRequired

from . import PACKAGE
from .checks import called_as_documented, check_shape
from .defaults import defaults_for
from .naming import indexed_name

opt = defaults_for("FleetUpdates")



class FleetMemberSpec(TypedDict):
    """One regional cluster joining the fleet."""

    name: str
    """Member name (lowercase letters, digits, hyphens): the region's short name."""
    cluster_id: pulumi.Input[str]
    """Resource id of the member's AKS cluster."""


class FleetUpdatesArgs(TypedDict):
    """Inputs of FleetUpdates."""

    resource_group_name: pulumi.Input[str]
    """Resource group of the fleet."""
    location: pulumi.Input[str]
    """Region of the fleet resource (its metadata only; members may be anywhere)."""
    fleet_name: str
    """Fleet name, 1-63 lowercase letters, digits and hyphens."""
    members: list[FleetMemberSpec]
    """The regional clusters, in upgrade order: the first is upgraded first."""
    channel: NotRequired[Optional[str]]
    """Auto-upgrade channel: Stable (N-1 minor's latest patch), Rapid or NodeImage (default Stable)."""
    node_image_selection: NotRequired[Optional[str]]
    """Latest (each cluster the newest image) or Consistent (the same image everywhere) (default Consistent). With
    channel NodeImage only Consistent: that channel always takes one consistent image, and the profile is sent
    without a selection."""
    wait_between_regions_seconds: NotRequired[Optional[int]]
    """Soak time after each region before the next starts, 0-604800 (default 3600)."""
    tags: NotRequired[Optional[Mapping[str, pulumi.Input[str]]]]
    """Azure tags."""


def update_stages(member_names: Sequence[pulumi.Input[str]],
                  wait_seconds: int) -> list[containerservice.UpdateStageArgs]:
    """One stage per region in order, each with the region's group; a soak wait after every stage but the last."""
    return [containerservice.UpdateStageArgs(
        name=f"stage-{i + 1}", groups=[containerservice.UpdateGroupArgs(name=member)],
        after_stage_wait_in_seconds=wait_seconds if i < len(member_names) - 1 else None)
        for i, member in enumerate(member_names)]


@called_as_documented
class FleetUpdates(pulumi.ComponentResource):
    """A Fleet Manager fleet (no hub cluster), its members, a staged update strategy and an auto-upgrade profile."""

    fleet_id: pulumi.Output[str]
    """Resource id of the fleet."""
    strategy_id: pulumi.Output[str]
    """Resource id of the update strategy (for manual update runs too)."""
    members: pulumi.Output[list[str]]
    """Member names in upgrade order."""

    def __init__(self, name: str, args: FleetUpdatesArgs, opts: Optional[pulumi.ResourceOptions] = None):
        args = check_shape("FleetUpdates", name, args, FleetUpdatesArgs)
        members = list(args["members"])
        super().__init__(f"{PACKAGE}:index:FleetUpdates", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        rg = args["resource_group_name"]
        fleet = containerservice.Fleet(
            f"{name}-fleet", fleet_name=args["fleet_name"], resource_group_name=rg, location=args["location"],
            tags=args.get("tags", {}), opts=child)
        joined = []
        names = [m["name"] for m in members]  # update groups are named after the members
        previous: list[pulumi.Resource] = []
        for i, member in enumerate(members):  # the fleet takes one member operation at a time
            joined.append(containerservice.FleetMember(
                f"{name}-{member['name']}", fleet_member_name=member["name"], fleet_name=fleet.name,
                resource_group_name=rg, cluster_resource_id=member["cluster_id"], group=member["name"],
                opts=pulumi.ResourceOptions(parent=self, depends_on=previous, aliases=indexed_name(name, i, names))))
            previous = [joined[-1]]
        strategy = containerservice.FleetUpdateStrategy(
            f"{name}-strategy", update_strategy_name="region-by-region", fleet_name=fleet.name,
            resource_group_name=rg,
            strategy=containerservice.UpdateRunStrategyArgs(
                stages=update_stages(names, opt(args, "wait_between_regions_seconds"))),
            opts=pulumi.ResourceOptions(parent=self, depends_on=joined))
        containerservice.AutoUpgradeProfile(
            f"{name}-auto-upgrade", auto_upgrade_profile_name=opt(args, "channel").lower(), fleet_name=fleet.name,
            resource_group_name=rg, channel=opt(args, "channel"), update_strategy_id=strategy.id,
            node_image_selection=containerservice.AutoUpgradeNodeImageSelectionArgs(
                type=opt(args, "node_image_selection")) if opt(args, "channel") != "NodeImage" else None,
            disabled=False, opts=child)
        self.fleet_id = fleet.id
        self.strategy_id = strategy.id
        self.members = pulumi.Output.from_input(names)
        self.register_outputs({"fleet_id": self.fleet_id, "strategy_id": self.strategy_id, "members": self.members})
