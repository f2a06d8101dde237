"""Past one cluster: the `edge` section of a regional stack, the `global` section of the global stack, and the
checks across regional stack files (names that must be unique in Azure, VNets that may be peered later).

A regional stack is today's platform with its own region, CIDRs and names, and an `edge` section saying which global
stack fronts it. The global stack has only a `global` section: it reads the regional stacks' outputs through
StackReferences and builds Azure Front Door and Azure Kubernetes Fleet Manager over them.
"""
from __future__ import annotations

import contextlib
import ipaddress
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Optional, cast

from llmplatform.choices import (FLEET_CHANNELS as CHANNELS, FRONT_DOOR_SKUS as SKUS,
                                 MAX_ORIGIN_TIMEOUT_SECONDS, NODE_IMAGE_SELECTIONS, WAF_MODES)
from llmplatform.defaults import DEFAULTS as D
from llmplatform.input_rules import EDGE_NAME, FLEET_NAME, front_door_origins_problem

from . import component_rules, resource_names
from .reader import ConfigError, Reader, describe
from .stack_names import PROD_STACK_NAMES, is_prod_stack_name, organization_problem, stack_name_problem
from .stack_yaml import esc_environments, null_key_problems, parse_yaml
from .sections.cost import CostConfig, cost_price_checks, parse_cost
from .sections.llmd import LlmdConfig

if TYPE_CHECKING:  # GlobalEndpoint's own types: the config layer does not import the Azure SDK when it runs
    from llmplatform.front_door import WafExclusion, WafRuleOverride

PROJECT_DIR = Path(__file__).resolve().parent.parent
_GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
_KEY_NAME = re.compile(r"^[a-z]([a-z0-9-]{0,40}[a-z0-9])?$")
FD, FLEET = D["GlobalEndpoint"], D["FleetUpdates"]


@dataclass(frozen=True)
class EdgeConfig:
    """A regional stack's place behind the global endpoint."""

    global_stack: str = ""  # empty: not a regional stack
    front_door_id: str = ""  # the X-Azure-FDID value; empty until the global stack is up (docs/operations.md, two steps)
    fleet: bool = True  # Fleet Manager drives upgrades: the cluster's own auto-upgrade must be off

    @property
    def enabled(self) -> bool:
        return bool(self.global_stack)

    @property
    def joined(self) -> bool:
        """The global stack is up (its Front Door ID is known): the gateway admits that Front Door, the API gate
        reads the edge's key set."""
        return self.enabled and bool(self.front_door_id)


def is_global(raw: dict[str, Any]) -> bool:
    return "global" in raw


def edge(r: Reader) -> EdgeConfig:
    d = EdgeConfig()
    global_stack = r.str_("globalStack", d.global_stack, allow_empty=True) or ""
    if global_stack and stack_name_problem(global_stack):
        r.problem(f"{r.key('globalStack')} {describe(global_stack)} is not a stack name")
    fd_id = r.str_("frontDoorId", d.front_door_id, allow_empty=True) or ""
    if fd_id and not _GUID.fullmatch(fd_id):
        r.problem(f"{r.key('frontDoorId')} {describe(fd_id)} must be the Front Door profile's ID (a GUID: `pulumi "
                  "stack output frontDoorId -s <global stack>`)")
    cfg = EdgeConfig(global_stack=global_stack, front_door_id=fd_id, fleet=r.bool_("fleet", d.fleet))
    r.reject_unknown_keys()
    return cfg


def edge_cross_checks(r: Reader, edge_cfg: EdgeConfig, upgrade_channel: str, gateway_external: bool,
                      kubernetes_version: Optional[str] = None) -> None:
    if not edge_cfg.enabled:
        return
    if edge_cfg.fleet and upgrade_channel != "none":
        r.problem(f"cluster.upgradeChannel {describe(upgrade_channel)} fights Fleet Manager's auto-upgrade "
                  "(edge.fleet is true): set it to 'none' and let the fleet's update strategy upgrade this region")
    if edge_cfg.fleet and kubernetes_version:
        r.problem(f"cluster.kubernetesVersion {describe(kubernetes_version)} fights Fleet Manager's update runs "
                  "(edge.fleet is true): they move the cluster and its pools past it, and the next `pulumi up` would "
                  "ask AKS to go back, which it refuses; leave it unset and let the fleet upgrade this region")
    if not gateway_external:
        r.problem("edge.globalStack needs gateway.mode 'external' or 'both': Front Door reaches a region through "
                  "its external gateway")


@dataclass(frozen=True)
class GlobalConfig:
    project: str
    stack: str
    environment: str
    prefix: str
    location: str
    regions: tuple[str, ...]
    # the regional stack every browser reaches for the UI while its probes pass (GlobalEndpoint ui_home, by its origin
    # name); parse_global sets the first of `regions` when global.uiHomeRegion is unset
    ui_home_region: str = ""
    # the StackReferences' organization: None is the global stack's own (config/runtime.py load_global_config)
    organization: Optional[str] = None
    sku: str = D["GlobalEndpoint"]["sku"]
    waf_mode: str = D["GlobalEndpoint"]["waf_mode"]
    rate_limit_per_minute: int = D["GlobalEndpoint"]["rate_limit_per_minute"]
    origin_timeout_seconds: int = D["GlobalEndpoint"]["origin_timeout_seconds"]
    fleet_channel: str = D["FleetUpdates"]["channel"]
    node_image_selection: str = D["FleetUpdates"]["node_image_selection"]
    wait_between_regions_seconds: int = D["FleetUpdates"]["wait_between_regions_seconds"]
    api_keys: tuple[str, ...] = ("clients",)  # the edge's client API keys, valid in every region (newest last)
    llmd_regions: tuple[str, ...] = ()  # regional stacks whose llm-d API the edge serves at /llmd
    # regional stacks whose files set no gateway.tls (refused in prod; elsewhere the edge reaches every region over
    # plain HTTP then: one route's forwarding protocol covers all of them): origin_tls sets it
    plain_regions: tuple[str, ...] = ()
    # global.frontDoor.wafExclusions and wafRuleOverrides as GlobalEndpoint takes them (waf_exclusions,
    # waf_rule_overrides: snake_case keys), each checked by its rules
    waf_exclusions: tuple["WafExclusion", ...] = ()
    waf_rule_overrides: tuple["WafRuleOverride", ...] = ()
    # where the profile's logs go: a central workspace (its ARM id), else one the stack makes in `location` with this
    # retention (GlobalEndpoint log_analytics_workspace_id, location, log_retention_days, log_categories)
    log_analytics_workspace_id: str = ""
    log_retention_days: int = D["GlobalEndpoint"]["log_retention_days"]
    log_categories: tuple[str, ...] = tuple(D["GlobalEndpoint"]["log_categories"])
    # protectStatefulResources: `protect` on the resource group, the Front Door profile (its Front Door ID, which
    # every region's gateway admits), its endpoint (the host name clients call) and the edge's own workspace
    protect: bool = False
    cost: CostConfig = field(default_factory=lambda: CostConfig(log_analytics_gb_per_day=0.0))

    @property
    def tags(self) -> dict[str, str]:
        return {"project": self.project, "environment": self.environment, "managed-by": "pulumi"}

    @property
    def origin_protocol(self) -> str:
        """How Front Door reaches the regions (GlobalEndpoint origin_protocol): HTTPS unless a region has no TLS."""
        return "Http" if self.plain_regions else "Https"

    def reference(self, region_stack: str) -> str:
        """The StackReference name of a regional stack (same project)."""
        return f"{self.organization}/{self.project}/{region_stack}"


def short_name(region: str) -> str:
    """prod-westeurope -> westeurope: the name of a regional stack's Front Door origins, Fleet member and update
    stage (the stack name past its first '-')."""
    return region.split("-", 1)[1] if "-" in region else region


def edge_name_problems(regions: tuple[str, ...] | list[str], stack: str) -> list[str]:
    """global.regions entries whose derived names Front Door or Fleet Manager would refuse: a name they do not take,
    or one two regions share (each is an origin name in every origin group and a Fleet member's name)."""
    problems: list[str] = []
    by_name: dict[str, list[str]] = {}
    for region in dict.fromkeys(regions):  # each once: a stack listed twice is its own problem
        if stack_name_problem(region) or region == stack:
            continue
        name = short_name(region)
        wrong = EDGE_NAME(name) or FLEET_NAME(name)  # the components' own rules for an origin's and a member's name
        if wrong:
            problems.append(f"global.regions entry {describe(region)} names its Front Door origins and Fleet member "
                            f"{describe(name)} (the stack name past its first '-'), which they do not take: {wrong}; "
                            "name the regional stack <environment>-<region>, e.g. prod-westeurope")
        by_name.setdefault(name, []).append(region)
    for name, stacks in by_name.items():
        if len(stacks) > 1:
            problems.append(f"global.regions entries {', '.join(describe(s) for s in stacks)} all name their Front "
                            f"Door origins and Fleet member {describe(name)} (the stack name past its first '-'): "
                            "give each regional stack its own name past the first '-', e.g. prod-westeurope and "
                            "prod-northeurope")
    return problems


# global.frontDoor's WAF tuning: each entry's keys (the stack's spelling) and GlobalEndpoint's field for each; the keys
# an entry must give (WafExclusion's and WafRuleOverride's required fields) and what an entry is, for a refusal
_WAF_EXCLUSION_KEYS = {"matchVariable": "match_variable", "operator": "operator", "selector": "selector",
                       "ruleGroup": "rule_group", "ruleId": "rule_id"}
_WAF_OVERRIDE_KEYS = {"ruleGroup": "rule_group", "ruleId": "rule_id", "action": "action", "enabled": "enabled"}
_COMPONENT_INPUT = {"wafExclusions": "waf_exclusions", "wafRuleOverrides": "waf_rule_overrides"}
_WAF_REQUIRED = {"wafExclusions": ("matchVariable", "operator"), "wafRuleOverrides": ("ruleGroup", "ruleId")}
_WAF_ENTRY = {"wafExclusions": "{matchVariable, operator, selector}, optionally ruleGroup and ruleId",
              "wafRuleOverrides": "{ruleGroup, ruleId} with action and/or enabled"}
_WAF_MISSING = {"wafExclusions": "an exclusion names what its selector matches (matchVariable) and how (operator)",
                "wafRuleOverrides": "an override names its rule by ruleGroup and ruleId, as the WAF log's ruleName_s "
                                    "gives them (Microsoft_DefaultRuleSet-2.1-SQLI-942100: SQLI, '942100')"}


def _waf_entries(fd: Reader, name: str, fields: dict[str, str]) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """The entries of global.frontDoor.<name>, each an object of `fields` (a rule id written as a number is taken as
    its digits, as YAML reads `ruleId: 942100`), in GlobalEndpoint's field names; the values are the component's
    rules' to judge (parse_global runs them). An entry that is no object, lacks a required key or has a value of the
    wrong type is refused here, by its stack key, and left out of what the rules see (they would only say again
    that it lacks what was refused); returned with it the renames of the rules' indices to the stack's."""
    entries: list[dict[str, Any]] = []
    renames: dict[str, str] = {}
    for i, raw in enumerate(fd.entries(name, [])):
        where = f"{fd.key(name)}[{i}]"
        if not isinstance(raw, dict):  # a blank item (`-`, `null`) too, which a Reader would take as {}
            fd.problem(f"{where} must be an object ({_WAF_ENTRY[name]}), got {describe(raw)}")
            continue
        e = fd.entry(name, i)
        before = len(fd.problems)
        entry: dict[str, Any] = {}
        for key, field_name in fields.items():  # each read, present or not: a typo is refused naming them all
            given = raw.get(key)
            value = e.bool_(key, cast(bool, None)) if key == "enabled" else e.str_(key, None, allow_empty=True)
            if key == "ruleId" and isinstance(given, float):  # `0942100` is a number to go-yaml: 942100.0
                fd.problems[-1] = (f"{where}.ruleId must be the rule's digits, quoted (ruleId: '942100'), got the "
                                   f"number {describe(given)}: YAML reads an unquoted 0942100 or 942100.0 as a number")
            if value is None and given == "":
                value = ""  # an empty selector is the rules' to refuse, saying what it must name
            if value is not None:
                entry[field_name] = value
        e.reject_unknown_keys()
        for key in _WAF_REQUIRED[name]:
            if raw.get(key) is None:
                fd.problem(f"{where}.{key} is missing: {_WAF_MISSING[name]}")
        if len(fd.problems) > before:
            continue
        renames[f"{_COMPONENT_INPUT[name]}[{len(entries)}]"] = where
        entries.append(entry)
    return entries, renames


def waf_tuning_advisories(cfg: "GlobalConfig") -> list[str]:
    """What a prod edge's WAF tuning gives up, said at every plan: rules turned off or to log only, and exclusions of
    every name of a kind from every rule. Allowed (the operator chose them from the WAF log, and the program is the
    only place a change survives the next `pulumi up`), but named."""
    if cfg.environment != "prod" and not is_prod_stack_name(cfg.stack):
        return []
    found = []
    weakened = [f"{o['rule_group']} {o['rule_id']} ({'off' if o.get('enabled') is False else 'log only'})"
                for o in cfg.waf_rule_overrides if o.get("enabled") is False or o.get("action") == "Log"]
    if weakened:
        found.append(f"global.frontDoor.wafRuleOverrides takes {len(weakened)} Microsoft_DefaultRuleSet rule(s) out "
                     f"of the prod WAF's blocking: {', '.join(weakened)}; a request they match counts for nothing "
                     "toward the block. An exclusion of the field the WAF log names (wafExclusions, with ruleGroup "
                     "and ruleId) keeps the rule for every other field")
    broad = [f"{e['match_variable']}" for e in cfg.waf_exclusions
             if e.get("operator") == "EqualsAny" and not e.get("rule_group")]
    if broad:
        found.append(f"global.frontDoor.wafExclusions excludes every {' and every '.join(broad)} name from every "
                     "Microsoft_DefaultRuleSet rule of the prod WAF (operator EqualsAny, no ruleGroup): those parts of "
                     "every request are not inspected; name the field and the rule group the WAF log shows instead")
    return found


def _no_regions(stack: str, regional: list[str]) -> str:
    """A `global` section without `global.regions`: a key set in the wrong stack (a regional stack's file, which
    `regional` names the sections of when it sets any), or a global stack not naming its regions."""
    if regional:
        return (f"global is the global stack's section (its file names global.regions), but stack {stack!r} sets a "
                f"regional stack's sections ({', '.join(regional)}) and no global.regions: set global.* in the global "
                f"stack's file (Pulumi.global.yaml here), or remove it from this one")
    return (f"stack {stack!r} sets global.* but no global.regions: in a regional stack, set global.* in the global "
            "stack's file (Pulumi.global.yaml here) and remove it from this one; in the global stack, list its "
            "regional stacks in global.regions (e.g. [prod-westeurope, prod-swedencentral])")


def parse_global(raw: dict[str, Any], project: str, stack: str) -> GlobalConfig:
    """The global stack's config: every problem at once. A file with a `global` section but no `global.regions` (a
    key set in the wrong stack, or a regional stack's file setting top-level keys only) is one problem saying so, not
    every regional section reported as unknown; a global stack's file (it names its regions) with a regional key has
    that key reported as unknown."""
    from .meanings import SECTIONS  # the regional stack's sections, kept equal to the loader's by the docs' test
    regional = sorted(set(raw) & (set(SECTIONS) - {"", "cost"}))
    named = isinstance(raw.get("global"), dict) and "regions" in raw["global"]  # a global stack: its stray keys below
    if regional and not named:  # only this problem: every regional section would read as an unknown key
        raise ConfigError([_no_regions(stack, regional)])
    problems: list[str] = []
    top = Reader(raw, "", problems)
    # Pulumi.yaml's default, which the CLI hands every stack that sets none (the global stack's own "prod" here was never
    # read: a staging edge's file without `environment` planned as dev while docs/configuration.md said prod, 2026-12-06)
    environment, prefix, location = resource_names.read_environment_prefix_location(top, "dev")
    protect = top.bool_("protectStatefulResources", False)
    if environment == "prod" and not protect:
        top.problem("protectStatefulResources must be true when environment is 'prod' (the global stack protects its "
                    "resource group, the Front Door profile whose ID every region's gateway admits, its endpoint's "
                    f"host name and the edge's log workspace): `pulumi config set protectStatefulResources true "
                    f"--stack {stack}` adds it to the stack's file")
    g = top.section("global")
    regions = g.str_list("regions", ())
    if not named:  # a global stack missing its regions, or a regional stack's file of top-level keys only
        g.problem(_no_regions(stack, []))
    elif len(regions) < 1:
        g.problem("global.regions must list the regional stacks (e.g. [prod-westeurope, prod-swedencentral])")
    for region in regions:
        if stack_name_problem(region) or region == stack:
            g.problem(f"global.regions entry {describe(region)} is not another stack's name")
    if len(set(regions)) != len(regions):
        g.problem(f"global.regions lists a stack twice: {list(regions)}")
    for problem in edge_name_problems(regions, stack):
        g.problem(problem)
    # the UI's home region, apart from the upgrade order (Fleet's canary first, the UI's users in the region that
    # matters most): one of global.regions, by default the first
    ui_home_region = g.str_("uiHomeRegion", None)
    if ui_home_region is not None and regions and ui_home_region not in regions:
        g.problem(f"global.uiHomeRegion {describe(ui_home_region)} is invalid; allowed: one of global.regions "
                  f"({', '.join(regions)}), the regional stack every browser reaches for the UI while its probes pass")
    organization = g.str_("organization", None)
    wrong_org = organization is not None and organization_problem(organization)
    if wrong_org:
        g.problem(f"global.organization {describe(organization)} is not a Pulumi organization name; {wrong_org}")
    # the clients' API keys, one set valid in every region (newest last): add a name to rotate, then drop the old one
    api_keys = g.str_list("apiKeys", ("clients",), withhold=True)
    # an entry that is no key name is not shown: it may be a key itself, pasted in place of its name
    names = [k if _KEY_NAME.fullmatch(k) else "***" for k in api_keys]
    if not 1 <= len(api_keys) <= 10 or len(set(api_keys)) != len(api_keys) or "***" in names:
        g.problem(f"global.apiKeys {describe(names)} must list 1-10 unique key names (lowercase letters, digits, "
                  "hyphens), the newest last" + (" (*** is an entry that is no key name, not shown: it may be a "
                                                 "key itself)" if "***" in names else ""))
    llmd_regions = g.str_list("llmdRegions", ())
    strays = [s for s in llmd_regions if s not in regions]
    if strays or len(set(llmd_regions)) != len(llmd_regions):
        g.problem(f"global.llmdRegions {describe(list(llmd_regions))} must list stacks of global.regions, each once "
                  f"(regions: {', '.join(regions) or 'none'})")
    fd, fl = g.section("frontDoor"), g.section("fleet")
    sku = fd.choice("sku", FD["sku"], SKUS)
    too_many = front_door_origins_problem(len(regions), len(set(llmd_regions)), sku)
    if too_many:
        g.problem(f"global.regions lists {len(regions)} regional stacks ({len(set(llmd_regions))} of them in "
                  f"global.llmdRegions), too many for one Front Door; allowed: {too_many}")
    cost = parse_cost(top.section("cost"))  # prices may be overridden like any stack's
    cost_price_checks(top, cost, location)
    # the default rule set's tuning, held to GlobalEndpoint's own rules (one source), named by stack key
    waf_exclusions, excluded_at = _waf_entries(fd, "wafExclusions", _WAF_EXCLUSION_KEYS)
    waf_rule_overrides, overridden_at = _waf_entries(fd, "wafRuleOverrides", _WAF_OVERRIDE_KEYS)
    component_rules.check(fd, "GlobalEndpoint", {"sku": sku, "waf_exclusions": waf_exclusions,
                                                 "waf_rule_overrides": waf_rule_overrides},
                          component_rules.keys("global.frontDoor", {**excluded_at, **overridden_at}), skip=("sku",))
    # the profile's logs: a central workspace, or the stack's own in `location` (GlobalEndpoint's rules, by stack key)
    workspace_id = g.str_("logAnalyticsWorkspaceId", "", allow_empty=True) or ""
    retention: Optional[int] = g.int_("logRetentionDays", cast(int, None))  # None: unset
    log_categories = fd.str_list("logCategories", tuple(FD["log_categories"]))
    component_rules.check(g, "GlobalEndpoint", {
        "log_analytics_workspace_id": workspace_id or None, "location": None if workspace_id else location,
        "log_retention_days": retention, "log_categories": list(log_categories)},
        component_rules.keys("global", {"location": "location", "log_categories": "global.frontDoor.logCategories"}),
        skip=("location",))
    fleet_channel = fl.choice("channel", FLEET["channel"], CHANNELS)
    node_image_selection = fl.choice("nodeImageSelection", FLEET["node_image_selection"], NODE_IMAGE_SELECTIONS)
    # FleetUpdates' own rules on the two together (NodeImage takes no Latest), named by stack key
    component_rules.check(fl, "FleetUpdates", {"channel": fleet_channel, "node_image_selection": node_image_selection},
                          component_rules.keys("global.fleet"), skip=("channel",))
    cfg = GlobalConfig(
        project=project, stack=stack, environment=environment, prefix=prefix, location=location, regions=regions,
        ui_home_region=ui_home_region or (regions[0] if regions else ""), organization=organization,
        sku=sku, waf_mode=fd.choice("wafMode", FD["waf_mode"], WAF_MODES),
        rate_limit_per_minute=fd.int_("rateLimitPerMinute", FD["rate_limit_per_minute"], 10, 1_000_000),
        origin_timeout_seconds=fd.int_("originTimeoutSeconds", FD["origin_timeout_seconds"], 16,
                                       MAX_ORIGIN_TIMEOUT_SECONDS),
        fleet_channel=fleet_channel, node_image_selection=node_image_selection,
        wait_between_regions_seconds=fl.int_("waitBetweenRegionsSeconds", FLEET["wait_between_regions_seconds"],
                                             0, 604800), api_keys=tuple(api_keys),
        llmd_regions=tuple(llmd_regions), waf_exclusions=cast(tuple["WafExclusion", ...], tuple(waf_exclusions)),
        waf_rule_overrides=cast(tuple["WafRuleOverride", ...], tuple(waf_rule_overrides)),
        log_analytics_workspace_id=workspace_id,
        log_retention_days=FD["log_retention_days"] if retention is None else retention,
        log_categories=tuple(log_categories), protect=protect, cost=cost)
    fd.reject_unknown_keys()
    fl.reject_unknown_keys()
    g.reject_unknown_keys()
    _platform_only_keys(top)
    top.reject_unknown_keys()
    if environment != "prod" and is_prod_stack_name(stack):
        # the one prod rule of the pack that a global stack's config reaches (waf-on-and-blocking-in-prod), by name:
        # Prevention, and a Premium tier (Standard runs no managed rule set: its WAF blocks only the rate limit)
        held = [("wafMode", cfg.waf_mode, "Prevention", "Prevention"),
                ("sku", cfg.sku, "Premium_AzureFrontDoor", "Premium_AzureFrontDoor (Standard runs no managed rule set)")]
        for key, value, wanted, allowed in held:
            if value != wanted:
                fd.problem(f"global.frontDoor.{key} {value!r} is invalid for stack {stack!r}; allowed: {allowed}, "
                           f"since the policy pack holds stacks named {', '.join(PROD_STACK_NAMES)} and prod-<region> "
                           f"to prod's rules and would refuse the plan; or give a {environment} global stack another "
                           "name")
        if not protect:  # prod-stateful-protected, by name too
            top.problem(f"protectStatefulResources false is invalid for stack {stack!r}; allowed: true, since the "
                        f"policy pack holds stacks named {', '.join(PROD_STACK_NAMES)} and prod-<region> to prod's "
                        f"rules (the Front Door profile and endpoint protected) and would refuse the plan; or give a "
                        f"{environment} global stack another name")
    if environment == "prod":
        if cfg.waf_mode != "Prevention":
            fd.problem("global.frontDoor.wafMode must be 'Prevention' when environment is 'prod' (Detection only logs)")
        if cfg.sku != "Premium_AzureFrontDoor":
            fd.problem("global.frontDoor.sku must be 'Premium_AzureFrontDoor' when environment is 'prod': the managed "
                       "WAF rule sets need Premium")
    if problems:
        raise ConfigError(problems)
    return cfg


# Pulumi.yaml gives every stack these keys with their defaults; the global stack reads none of them, so another value
# is a setting it would ignore (its group is rg-<prefix>-global, it creates no namespace, vault or database)
_PLATFORM_ONLY = {"namespace": ("llm", "the global stack creates no Kubernetes namespace"),
                  "legacyGlobalNames": (False, "the global stack has no storage account, vault or database"),
                  "resourceGroupName": ("", "the global stack creates its own group, rg-<prefix>-global")}


def _platform_only_keys(top: Reader) -> None:
    """Refuse a platform key the global stack's file sets to a value of its own: it would be ignored unseen."""
    for name, (default, why) in _PLATFORM_ONLY.items():
        value: Any = top.bool_(name, default) if isinstance(default, bool) else \
            top.str_(name, str(default), allow_empty=True)
        if value not in (default, None):
            top.problem(f"{name} {describe(value)} is not read by the global stack ({why}); remove it from the "
                        f"global stack's file (a regional stack's setting)")


# ---- across regional stack files ---------------------------------------------------------------------------

def project_stack_files(project_dir: Path = PROJECT_DIR) -> dict[str, Path]:
    return {p.name[len("Pulumi."):-len(".yaml")]: p for p in sorted(project_dir.glob("Pulumi.*.yaml"))}


def raw_stack_file(path: Path, project: str) -> dict[str, Any]:
    """A stack file's plain config keys of this project (secure values stay as they are; none is read here), read as
    the Pulumi CLI reads it (stack_yaml). Another stack's file is read too (a regional stack checks its siblings):
    one that does not read, or has a key its own plan refuses as null, is a ConfigError naming it, never a traceback
    in this stack's run."""
    raw = _stack_file_values(path, project)
    nulls = null_key_problems(raw, path.name)
    if nulls:  # as that stack's own plan refuses it (offline/stackfile.py)
        raise ConfigError(nulls)
    return raw


def _stack_file_values(path: Path, project: str) -> dict[str, Any]:
    """raw_stack_file's reading, null keys ('<nil>') kept: a ConfigError only for a file that does not read."""
    try:
        doc = parse_yaml(path.read_bytes(), path.name)
        doc = {} if doc is None else doc  # an empty file: no config, as the CLI reads it
    except OSError as error:
        raise ConfigError([f"{path.name}: cannot be read ({error.strerror or error})"]) from None
    config = doc.get("config") if isinstance(doc, dict) else None
    if not isinstance(doc, dict) or not isinstance(config, (dict, type(None))):
        raise ConfigError([f"{path.name}: must be a mapping with a `config:` mapping"])
    prefix = f"{project}:"
    return {k[len(prefix):]: v for k, v in (config or {}).items()  # keys as the program's (parse_yaml names them)
            if isinstance(k, str) and k.startswith(prefix)}


def global_names(cfg: Any) -> dict[str, str]:
    """Names that must be unique across the regional stacks of one subscription (resource groups, the cost budget) or
    of all of Azure (storage account, vault, PostgreSQL server: each is a DNS name; Managed Grafana's workspace)."""
    prefix, env, location = cfg.prefix, cfg.environment, cfg.location
    names = {
        "resource group": cfg.resource_group_name or resource_names.resource_group_name(prefix, env),
        "storage account": resource_names.storage_account_name(prefix, env, location),
        "Key Vault": resource_names.key_vault_name(prefix, env, location),
        "PostgreSQL server": resource_names.postgres_server_name(prefix, env, location),
    }
    if cfg.model_store.resource_group_name:
        names["model store resource group"] = cfg.model_store.resource_group_name
    observability = cfg.observability
    if observability.monthly_budget is not None and observability.enabled and observability.azure_monitor:
        # the one name the subscription scopes (as __main__.py makes it): two groups may give one budget name
        # (budget_name turns '.', '(' and ')' into '-')
        names["budget"] = resource_names.budget_name(names["resource group"])
    if observability.managed_grafana and observability.enabled and observability.azure_monitor:
        # refused taken in another resource group or subscription (NameNotUnique). As __main__.py names it: the key's
        # name, `graf-<prefix>-<env>` with legacyGlobalNames (no region in it: one prefix collides in every region),
        # else hashed with the region and the subscription, shown here by what sets it apart (in one subscription,
        # equal where the prefix, environment and region are)
        names[GRAFANA] = observability.grafana_name or (
            resource_names.grafana_name(prefix, env, location) if cfg.legacy_global_names
            else f"{resource_names.grafana_name(prefix, env, location)}-<hash of {location} and the subscription>")
    return names


GRAFANA = resource_names.GRAFANA_KIND
GRAFANA_REMEDY = ("each stack needs its own prefix or observability.grafanaName (Azure refuses a workspace name another "
                  "workspace holds, in any resource group or subscription: NameNotUnique)")


def shared_names(cfg: Any, other_stack: str, other: Any, remedy: str) -> list[str]:
    """The global names (global_names) this stack shares with `other`, compared as Azure compares them, without case
    ("Resource and resource group names are case-insensitive ... Always perform a case-insensitive comparison of
    names": learn.microsoft.com, azure-resource-manager/management/resource-name-rules); a shared group's budget is
    the group's problem."""
    mine = {v.lower(): (k, v) for k, v in global_names(cfg).items()}
    theirs = global_names(other)
    same_group = theirs["resource group"].lower() in mine
    problems = []
    for kind, name in theirs.items():
        if name.lower() in mine and not (same_group and kind == "budget"):
            my_kind, my_name = mine[name.lower()]
            same = repr(my_name) if my_name == name else f"{my_name!r} (Azure ignores case: {name!r})"
            problems.append(f"{my_kind} name {same} is also stack {other_stack}'s {kind}: "
                            f"{GRAFANA_REMEDY if kind == GRAFANA else remedy}")
    return problems


def regional_conflicts(stack: str, cfg: Any, siblings: dict[str, Any]) -> list[str]:
    """Problems between this regional stack and the other regional stacks of the project (parsed configs)."""
    problems = []
    vnet = ipaddress.ip_network(cfg.network.vnet_cidr)
    for other_stack, other in sorted(siblings.items()):
        problems += shared_names(cfg, other_stack, other, "regional stacks need their own prefix (or resource group "
                                                          "names)")
        other_vnet = ipaddress.ip_network(other.network.vnet_cidr)
        if vnet.overlaps(other_vnet):
            problems.append(f"network.vnetCidr {vnet} overlaps stack {other_stack}'s {other_vnet}: regional VNets must "
                            "not overlap (they may be peered later)")
        # one region per location behind one edge (its origins and Fleet stages); another global stack's region, a
        # staging edge beside prod's, may share it (its names and VNet apart, as above)
        if other.location == cfg.location and other.edge.global_stack == cfg.edge.global_stack:
            problems.append(f"location {cfg.location} is also stack {other_stack}'s, behind the same global stack "
                            f"{cfg.edge.global_stack}: one regional stack per region (each is an edge's origin and "
                            "Fleet update stage for its region); give this stack another Azure region (`pulumi config "
                            f"set location <region> --stack {stack}`), or put it behind another global stack "
                            f"(edge.globalStack, a staging edge: docs/operations.md, \"A staging edge beside prod's\")")
        host, other_host = cfg.gateway.tls.hostname, other.gateway.tls.hostname
        if host and host == other_host:  # lowercase, no final dot: the hostname rule (config/sections/gateway.py)
            problems.append(f"gateway.tls.hostname {host!r} is also stack {other_stack}'s: Front Door reaches each "
                            "region at its own name (one DNS A record, one address), so both origins would reach one "
                            "region and the other's certificate would never issue; give each region its own name")
    return problems


def standalone_conflicts(cfg: Any, others: dict[str, Any]) -> list[str]:
    """Names this regional stack shares with a stack of the project that is not regional (a copy of Pulumi.prod.yaml
    made regional with `prefix` kept): the resource group and the budget in one subscription, the storage account,
    vault and server names in all of Azure where both hash the same inputs."""
    return [problem for other_stack, other in sorted(others.items())
            for problem in shared_names(cfg, other_stack, other, "a regional stack needs its own prefix (or resource "
                                                                 "group names), apart from the project's other "
                                                                 "stacks too")]


# the names one subscription holds once (global_names' kinds): a stack in another subscription may share them
_SUBSCRIPTION_KINDS = ("resource group", "model store resource group")


def standalone_shared_names(cfg: Any, project: str, parse: Callable[[dict[str, Any], str, str], Any],
                            project_dir: Path = PROJECT_DIR) -> list[str]:
    """A stack that is not regional whose resource groups another platform stack file of the project names too: in
    one subscription the later stack's first `pulumi up` meets the other's group and its cluster. Advice, not a
    refusal (two stacks in two subscriptions may share them; a regional stack is refused, `regional_conflicts`): a
    stranger's staging stack copied from Pulumi.dev.yaml with the default prefix took Pulumi.llmd.yaml's
    rg-llmp-staging and aks-llmp-staging without a word (2026-12-06). Files that do not validate are left out."""
    mine = {cfg.resource_group_name or resource_names.resource_group_name(cfg.prefix, cfg.environment): "resource group"}
    if cfg.model_store.resource_group_name:
        mine[cfg.model_store.resource_group_name] = "model store resource group"
    mine_lower = {name.lower(): (name, kind) for name, kind in mine.items()}
    group_rule = "1-90 letters, digits, '_', '-', '.', '(', ')', not ending in '.'"  # config/loader.py's
    # the key that sets each name, so the remedy changes it: a staging copy of Pulumi.prod.yaml given a prefix of its
    # own keeps prod's modelStore.resourceGroupName (rg-llmp-prod-models), which no prefix renames
    remedies = {
        "resource group": (f"set this stack's resourceGroupName to a group of its own (`pulumi config set "
                           f"resourceGroupName <{group_rule}> --stack {cfg.stack}`)" if cfg.resource_group_name else
                           f"give this stack its own prefix (`pulumi config set prefix <2-10 lowercase letters/digits> "
                           f"--stack {cfg.stack}`)"),
        "model store resource group": (f"set this stack's modelStore.resourceGroupName to a group of its own "
                                       f"(`pulumi config set --path modelStore.resourceGroupName <{group_rule}> "
                                       f"--stack {cfg.stack}`)")}
    notes = []
    for other, path in project_stack_files(project_dir).items():
        if other == cfg.stack:
            continue
        try:
            raw = _stack_file_values(path, project)
            if is_global(raw) or null_key_problems(raw):
                continue
            theirs = global_names(parse(raw, project, other))
        except ConfigError:
            continue
        for kind in _SUBSCRIPTION_KINDS:
            name = theirs.get(kind)
            if name is None or name.lower() not in mine_lower:
                continue
            my_name, my_kind = mine_lower[name.lower()]
            notes.append(f"{my_kind} {my_name!r} is also stack {other}'s {kind} ({path.name}): in one subscription "
                         f"this stack's first `pulumi up` meets {other}'s group"
                         + (f" and its cluster {resource_names.cluster_name(cfg.prefix, cfg.environment)!r}"
                            if kind == "resource group" and my_kind == "resource group" and not cfg.resource_group_name
                            else "")
                         + f"; {remedies[my_kind]}, unless the two deploy to different subscriptions")
    return notes


def listed_region_problems(cfg: GlobalConfig, project: str, stack: str, project_dir: Path = PROJECT_DIR) -> list[str]:
    """Each global.regions entry must be a regional stack file of this project that names this stack as its global
    stack (checked by the program, and by `make plan` before it plans any region)."""
    files = project_stack_files(project_dir)
    problems = []
    for region in cfg.regions:
        if region not in files:
            problems.append(f"global.regions entry {region!r} has no stack file Pulumi.{region}.yaml")
            continue
        try:
            edge = raw_stack_file(files[region], project).get("edge") or {}
        except ConfigError as error:
            problems.append(f"global.regions entry {region!r}: {error.problems[0]}")
            continue
        named = edge.get("globalStack") if isinstance(edge, dict) else None
        if named != stack:
            problems.append(
                f"global.regions entry {region!r}: "
                + (f"Pulumi.{region}.yaml has no edge.globalStack set, so it is no regional stack behind a global "
                   "one" if named is None else f"Pulumi.{region}.yaml sets edge.globalStack {named!r}, not {stack!r}")
                + f"; set it there (`{project}:edge: {{globalStack: {stack}}}` under `config:`, or `pulumi config "
                f"set --path edge.globalStack {stack} --stack {region}`), or list only regional stacks in "
                "global.regions")
    return problems


def region_file(files: dict[str, Path], region: str, project: str) -> Optional[dict[str, Any]]:
    """A regional stack file's config as written there (raw_stack_file), or None when the project has no file of
    that stack or it does not read (listed_region_problems reports those)."""
    if region not in files:
        return None
    try:
        return raw_stack_file(files[region], project)
    except ConfigError:
        return None


def serves_tls(raw: dict[str, Any]) -> bool:
    """A regional stack file's config (region_file) sets gateway.tls.mode 'letsencrypt': its gateway serves a
    certificate Front Door can check."""
    gateway = raw.get("gateway")
    tls = gateway.get("tls") if isinstance(gateway, dict) else None
    return isinstance(tls, dict) and tls.get("mode") == "letsencrypt"


def leaves_fleet(raw: Optional[dict[str, Any]]) -> bool:
    """A regional stack file's config (region_file; None: it does not read) sets `edge.fleet` false, as that stack's
    own config reads it (`edge`); a file that does not read, or leaves the key out, is a member (the default)."""
    edge = (raw or {}).get("edge")
    return Reader(edge, "edge", []).bool_("fleet", EdgeConfig().fleet) is False


def regions_without_tls(cfg: GlobalConfig, project: str, project_dir: Path = PROJECT_DIR) -> list[str]:
    """The global.regions entries whose stack files set no gateway.tls.mode 'letsencrypt': their gateways serve no
    certificate Front Door could check (entries without a readable file are listed_region_problems')."""
    files = project_stack_files(project_dir)
    return [region for region in cfg.regions
            if (raw := region_file(files, region, project)) is not None and not serves_tls(raw)]


def llmd_region_problems(cfg: GlobalConfig, project: str, project_dir: Path = PROJECT_DIR) -> list[str]:
    """Each global.llmdRegions entry's stack file must publish llm-d (llmd.enabled and llmd.exposeExternally, read as
    that stack reads them): only then does the region export the `llmdPort` Front Door's /llmd route forwards to
    (entries without a readable file are listed_region_problems'). A file that imports Pulumi ESC environments is
    judged only on what it sets itself: a key it leaves out may be the environments' (their `pulumiConfig` is stack
    config under the file's own values), which no file shows; the run-time check of the llmdPort output remains."""
    files = project_stack_files(project_dir)
    problems = []
    for region in cfg.llmd_regions:
        raw = region_file(files, region, project)
        if raw is None:
            continue
        section, imports = raw.get("llmd"), esc_environments(files[region])
        written = section if isinstance(section, dict) else {}
        llmd, d = Reader(section, "llmd", []), LlmdConfig()  # its bad values are that stack's to report
        off = [key for key, default in (("enabled", d.enabled), ("exposeExternally", d.expose_externally))
               if not llmd.bool_(key, default) and (key in written or not imports)]
        if off:
            problems.append(
                f"global.llmdRegions entry {region!r}: Pulumi.{region}.yaml leaves "
                f"{' and '.join('llmd.' + k for k in off)} false, so that region publishes no llm-d and exports no "
                f"llmdPort for Front Door's /llmd route; set `{project}:llmd: {{enabled: true, exposeExternally: "
                f"true}}` there (`pulumi config set --path llmd.enabled true --stack {region}`, and the same for "
                "llmd.exposeExternally), or leave it out of global.llmdRegions")
    return problems


def global_group_name(prefix: str) -> str:
    """The global stack's resource group (__main__.py `global_stack`): the prefix alone, no environment, so a second
    global stack (a staging edge beside prod's) takes prod's group unless its prefix differs."""
    return f"rg-{prefix}-global"


def other_global_problems(cfg: GlobalConfig, project: str, stack: str, project_dir: Path = PROJECT_DIR) -> list[str]:
    """Another global stack file of the project with this one's prefix: both name their resource group, Front Door
    profile, endpoint, workspace and fleet `*-<prefix>-global` (no environment in them), so in one subscription the
    later stack's first `pulumi up` meets the other's group (found by a stranger's staging edge copied from
    Pulumi.global.yaml, 2026-12-06), and in any subscription of one tenant its endpoint asks for the other's host name
    (Front Door hashes it from the tenant and the endpoint's name alone: autoGeneratedDomainNameLabelScope TenantReuse,
    the default). A refusal, then, where the regional stacks' shared groups are only a warning. Either stack is
    refused, so the remedy names both: a deployed edge's new prefix would replace its protected group, profile and
    endpoint. A file that does not read is that stack's own concern; one that imports Pulumi ESC environments and
    sets no prefix itself is not judged (an environment may set it, as llmd_region_problems)."""
    mine = global_group_name(cfg.prefix).lower()
    problems = []
    for other, path in project_stack_files(project_dir).items():
        if other == stack:
            continue
        try:
            raw = _stack_file_values(path, project)
        except ConfigError:
            continue
        if not is_global(raw) or ("prefix" not in raw and esc_environments(path)):
            continue
        prefix = raw.get("prefix") or "llmp"
        if isinstance(prefix, str) and global_group_name(prefix).lower() == mine:
            # the stack that protects its edge (prod's) is the one likely deployed: the other is named first
            protects_not = raw.get("protectStatefulResources") is not True
            stacks = [other, stack] if cfg.protect and protects_not else [stack, other]
            problems.append(f"prefix {cfg.prefix!r} is also global stack {other}'s ({path.name}): both would name "
                            f"their resource group {global_group_name(cfg.prefix)!r}, Front Door profile "
                            f"'afd-{cfg.prefix}-global', endpoint '{cfg.prefix}-global' and workspace "
                            f"'log-{cfg.prefix}-global' (a global stack's names carry its prefix, not its "
                            "environment), and the endpoint's host name is one per tenant (Front Door hashes it from "
                            "the tenant and the endpoint's name alone), so two subscriptions do not set them apart; "
                            "give the global stack that is not deployed yet a prefix of its own (`pulumi config set "
                            f"prefix <2-10 lowercase letters/digits, a letter first> --stack {stacks[0]}`, or "
                            f"--stack {stacks[1]}): a deployed edge given a new prefix replaces its group, profile "
                            "and endpoint, the host name its clients call")
    return problems


def region_file_problems(cfg: GlobalConfig, project: str, stack: str, project_dir: Path = PROJECT_DIR) -> list[str]:
    """What the global stack finds wrong in its regions' stack files and the project's other global stack files, before
    any region is planned or anything is registered (the program, and `make plan` before it plans the regions)."""
    return (listed_region_problems(cfg, project, stack, project_dir) + llmd_region_problems(cfg, project, project_dir)
            + other_global_problems(cfg, project, stack, project_dir))


def origin_tls(cfg: GlobalConfig, plain: list[str]) -> tuple[GlobalConfig, list[str]]:
    """Front Door reaches the regions over HTTPS, checking each one's certificate against its gateway.tls.hostname.
    A region without TLS is refused in prod; elsewhere the whole edge falls back to plain HTTP (one forwarding
    protocol per route, for every region), which global_advisories warns of."""
    # prod by its environment, or by its name alone (the pack's prod-front-door-origins-https judges the stack in
    # each URN): a stack named `global` without `environment` is dev (Pulumi.yaml's default), and its plain regions
    # planned with a warning, then met four violations of the pack
    why = "environment is 'prod'" if cfg.environment == "prod" else (
        f"stack {cfg.stack!r} is one the policy pack holds to prod's rules by its name (stacks named "
        f"{', '.join(PROD_STACK_NAMES)} and prod-<region>; environment {cfg.environment!r} here), which would refuse "
        "the plan")
    problems = [
        f"global.regions entry {region!r}: Pulumi.{region}.yaml sets no gateway.tls, and {why}: Front "
        "Door reaches prod regions over HTTPS only, checking the region's certificate, so that prompts, answers and "
        "API keys do not cross the internet as plain text between the edge and the region; set "
        f"`{cfg.project}:gateway: {{tls: {{mode: letsencrypt, hostname: <name>, email: <address>}}}}` there (the "
        "name's DNS A record: that stack's gatewayExternalAddress)"
        + ("" if cfg.environment == "prod" else f", or give a {cfg.environment} global stack another name")
        for region in plain] if cfg.environment == "prod" or is_prod_stack_name(cfg.stack) else []
    return replace(cfg, plain_regions=tuple(plain)), problems


def global_advisories(cfg: GlobalConfig) -> list[str]:
    plain = [f"Front Door reaches every region over plain HTTP: {', '.join(cfg.plain_regions)} set(s) no gateway.tls "
             "(one forwarding protocol covers every region of a route), so prompts, answers and API keys cross the "
             "internet unencrypted between the edge and the regions; set gateway.tls.mode 'letsencrypt' with a "
             "hostname in those stack files (environment 'prod' refuses this)"] if cfg.plain_regions else []
    return plain + waf_tuning_advisories(cfg)


def sibling_regional_configs(stack: str, project: str, parse: Callable[[dict[str, Any], str, str], Any],
                             project_dir: Path = PROJECT_DIR) -> tuple[dict[str, Any], list[str], dict[str, Any]]:
    """Every other regional stack file's parsed config, a problem for each that does not parse, and the parsed
    configs of the project's other platform stacks, not regional (one that does not validate is left out: it is
    checked when it runs)."""
    found, problems, standalone = {}, [], {}
    for other, path in project_stack_files(project_dir).items():
        if other == stack:
            continue
        try:
            raw = _stack_file_values(path, project)
        except ConfigError as error:  # it may be a regional stack: unread, it cannot be checked against this one
            problems.append(f"stack file {error.problems[0]}; a regional stack is checked against every other "
                            "stack file of the project: fix it or remove it")
            continue
        nulls = null_key_problems(raw)  # a value that stack's own plan refuses, as any that does not validate
        if not isinstance(raw.get("edge"), dict) or not raw["edge"].get("globalStack"):
            if not is_global(raw) and not nulls:
                with contextlib.suppress(ConfigError):
                    standalone[other] = parse(raw, project, other)
            continue
        try:
            if nulls:
                raise ConfigError(nulls)
            found[other] = parse(raw, project, other)
        except ConfigError as error:
            problems.append(f"regional stack {other} ({path.name}) does not validate, so it cannot be checked against "
                            f"this one: {error.problems[0]}")
    return found, problems, standalone
