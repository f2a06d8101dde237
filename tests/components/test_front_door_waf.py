"""GlobalEndpoint's WAF tuning (components/llmplatform/front_door.py, input_rules/edge.py) and the global stack's
`global.frontDoor.wafExclusions` / `wafRuleOverrides` (config/regions.py): Microsoft_DefaultRuleSet 2.1's exclusions
and rule overrides as the operator sets them from the WAF log, in the shape Azure takes them, every refusal naming
the input, its value and what is allowed, and a change an in-place update of the policy for the pull-request check.

Before, the program offered no input for either: a false positive fixed in the portal (a prompt quoting SQL
blocked 403) was taken back by the next `pulumi up`."""

import pytest
import llmplatform

from offline import plan as plan_cli, plan_diff, policy_check, runner as offline

from tests.conftest import PROJECT_DIR, plan_for

PROMPTS = {"match_variable": "RequestBodyJsonArgNames", "operator": "Equals", "selector": "messages.content",
           "rule_group": "SQLI"}


def _edge(**waf) -> offline.Plan:
    def program():
        llmplatform.GlobalEndpoint("edge", {"resource_group_name": "rg", "name_prefix": "edge",
                                            "origins": [{"name": "weu", "host": "weu.llm.example.com"}], **waf})
    return offline.run_function(program)


def _default_rule_set(plan: offline.Plan) -> dict:
    sets = plan.one("azure-native:frontdoor:Policy").inputs["managedRules"]["managedRuleSets"]
    [drs] = [s for s in sets if s["ruleSetType"] == "Microsoft_DefaultRuleSet"]
    return drs


def _refusal(**waf) -> str:
    with pytest.raises(Exception) as refused:
        _edge(**waf)
    return str(refused.value)


def test_exclusions_and_overrides_reach_the_policy_at_the_level_each_names_in_azures_shape():
    """A set-level exclusion on the rule set, a group-level one on its group override, a rule-level one on the
    rule's override, merged with that rule's own override; one group override per group (webapplicationfirewall.json
    2025-11-01: ManagedRuleSet.exclusions, ManagedRuleGroupOverride.exclusions/rules, ManagedRuleOverride)."""
    drs = _default_rule_set(_edge(
        waf_exclusions=[PROMPTS,
                        {"match_variable": "RequestHeaderNames", "operator": "EqualsAny"},
                        {"match_variable": "RequestBodyJsonArgNames", "operator": "StartsWith", "selector": "prompt",
                         "rule_group": "SQLI", "rule_id": "942100"}],
        waf_rule_overrides=[{"rule_group": "SQLI", "rule_id": "942100", "action": "Log"},
                            {"rule_group": "RCE", "rule_id": "932100", "enabled": False}]))
    assert drs["ruleSetVersion"] == "2.1" and drs["ruleSetAction"] == "Block"
    # EqualsAny's selector is '*', what Azure sets it to (waf-front-door-exclusion.md)
    assert drs["exclusions"] == [{"matchVariable": "RequestHeaderNames", "selectorMatchOperator": "EqualsAny",
                                  "selector": "*"}]
    sqli, rce = drs["ruleGroupOverrides"]
    assert sqli["ruleGroupName"] == "SQLI" and sqli["exclusions"] == [
        {"matchVariable": "RequestBodyJsonArgNames", "selectorMatchOperator": "Equals", "selector": "messages.content"}]
    assert sqli["rules"] == [{"ruleId": "942100", "enabledState": "Enabled", "action": "Log", "exclusions": [
        {"matchVariable": "RequestBodyJsonArgNames", "selectorMatchOperator": "StartsWith", "selector": "prompt"}]}]
    assert rce == {"ruleGroupName": "RCE", "rules": [{"ruleId": "932100", "enabledState": "Disabled"}]}


def test_a_rule_given_only_an_exclusion_is_sent_enabled_not_left_to_the_apis_default():
    """The API defaults an unset enabledState to Disabled (ManagedRuleOverride, "Defaults to Disabled if not
    specified"): a rule override carrying only an exclusion would have turned the rule off."""
    drs = _default_rule_set(_edge(waf_exclusions=[{**PROMPTS, "rule_id": "942200"}]))
    [group] = drs["ruleGroupOverrides"]
    assert group["rules"] == [{"ruleId": "942200", "enabledState": "Enabled", "exclusions": [
        {"matchVariable": "RequestBodyJsonArgNames", "selectorMatchOperator": "Equals",
         "selector": "messages.content"}]}]
    assert "exclusions" not in drs  # nothing at the set level


# Entries an operator may combine: set-level, group-level (no rule id) and rule-level exclusions, and overrides.
_SET_LEVEL = {"match_variable": "RequestHeaderNames", "operator": "Equals", "selector": "x-trace"}
_GROUP_LEVEL = [PROMPTS, {"match_variable": "QueryStringArgNames", "operator": "StartsWith", "selector": "q",
                          "rule_group": "RCE"}]
_RULE_LEVEL = {"match_variable": "RequestBodyJsonArgNames", "operator": "Equals", "selector": "prompt",
               "rule_group": "SQLI", "rule_id": "942200"}
_OVERRIDES = [{"rule_group": "XSS", "rule_id": "941100", "action": "Log"},
              {"rule_group": "SQLI", "rule_id": "942100", "enabled": False}]


@pytest.mark.parametrize("exclusions, overrides", [
    ([PROMPTS], []),
    (_GROUP_LEVEL, []),
    ([_SET_LEVEL, *_GROUP_LEVEL], []),
    ([_SET_LEVEL], _OVERRIDES),
    ([*_GROUP_LEVEL, _RULE_LEVEL], []),
    (_GROUP_LEVEL, _OVERRIDES),
    ([_SET_LEVEL, *_GROUP_LEVEL, _RULE_LEVEL], _OVERRIDES),
])
def test_a_group_override_carries_what_the_entries_name_and_lists_only_the_rules_they_name(exclusions, overrides):
    """A group-level exclusion is a group override with exclusions and no rules: the shape Microsoft's CLI sends
    for `exclusion add --rule-group-id` without `--rule-id` (azure-cli-extensions custom_waf.py 0fae0836; its
    recording test_waf_exclusions.yaml 17b5ff25 has the service take it and answer `"rules": []`), which leaves the
    group's rules as they are. So every group override carries an exclusion or a rule (one with neither is a no-op
    at best, and the spec's prose reads it as the group turned off), it names a group some entry names, and its
    `rules` are exactly the rules an entry names: a rule the user did not name, listed by the component, would be
    sent with a state and action of the component's choosing."""
    drs = _default_rule_set(_edge(waf_exclusions=exclusions, waf_rule_overrides=overrides))
    named_groups = {e["rule_group"] for e in exclusions if e.get("rule_group")} | {
        o["rule_group"] for o in overrides}
    named_rules = {(e["rule_group"], e["rule_id"]) for e in exclusions if e.get("rule_id")} | {
        (o["rule_group"], o["rule_id"]) for o in overrides}
    groups = drs.get("ruleGroupOverrides", [])
    assert [g["ruleGroupName"] for g in groups] == list(dict.fromkeys(  # one per group, in the entries' order
        [e["rule_group"] for e in exclusions if e.get("rule_group")] + [o["rule_group"] for o in overrides]))
    assert {g["ruleGroupName"] for g in groups} == named_groups
    for group in groups:
        assert group.get("exclusions") or group.get("rules"), group
        assert all(r["enabledState"] in ("Enabled", "Disabled") for r in group.get("rules", [])), group
    sent_rules = [(g["ruleGroupName"], r["ruleId"]) for g in groups for r in g.get("rules", [])]
    assert sorted(sent_rules) == sorted(named_rules)  # each named rule once, no other
    for group in groups:
        at_group = [e for e in exclusions if e.get("rule_group") == group["ruleGroupName"] and not e.get("rule_id")]
        assert len(group.get("exclusions", [])) == len(at_group), group
        if not any(rule[0] == group["ruleGroupName"] for rule in named_rules):
            assert set(group) == {"ruleGroupName", "exclusions"}, group  # the CLI's group-exclusion shape


def test_without_tuning_the_default_rule_set_is_as_before():
    drs = _default_rule_set(_edge())
    assert drs == {"ruleSetType": "Microsoft_DefaultRuleSet", "ruleSetVersion": "2.1", "ruleSetAction": "Block"}


@pytest.mark.parametrize("waf, message", [
    ({"waf_exclusions": [{**PROMPTS, "match_variable": "RequestBodyJson"}]},
     r"input waf_exclusions[0].match_variable='RequestBodyJson' is invalid; allowed: RequestBodyJsonArgNames, "
     r"RequestBodyPostArgNames, QueryStringArgNames, RequestHeaderNames, RequestCookieNames"),
    ({"waf_exclusions": [{**PROMPTS, "operator": "Equal"}]},
     "input waf_exclusions[0].operator='Equal' is invalid; allowed: Equals, StartsWith, EndsWith, Contains, "
     "EqualsAny"),
    ({"waf_exclusions": [{**PROMPTS, "selector": ""}]},
     "input waf_exclusions[0].selector='' is invalid; allowed: the name (or part of one) the exclusion matches with "
     "operator Equals"),
    ({"waf_exclusions": [{**PROMPTS, "selector": "x" * 257}]},
     "allowed: 1-256 printable characters without surrounding spaces"),
    ({"waf_exclusions": [{"match_variable": "RequestHeaderNames", "operator": "EqualsAny", "selector": "x-user"}]},
     "input waf_exclusions[0].selector='x-user' is invalid; allowed: '*' or unset with operator EqualsAny (it "
     "matches every name of its waf_exclusions[0].match_variable"),
    ({"waf_exclusions": [{**PROMPTS, "rule_group": "APPLICATION-ATTACK-SQLI"}]},
     "input waf_exclusions[0].rule_group='APPLICATION-ATTACK-SQLI' is invalid; allowed: a Microsoft_DefaultRuleSet "
     "2.1 rule group as the API and the WAF log's ruleName_s name it: General, METHOD-ENFORCEMENT"),
    ({"waf_exclusions": [{**PROMPTS, "rule_group": "APPLICATION-ATTACK-SQLI"}]},
     "('SQLI' is the API's and the WAF log's name for what Microsoft's rule table calls APPLICATION-ATTACK-SQLI)"),
    ({"waf_exclusions": [{k: v for k, v in PROMPTS.items() if k != "rule_group"} | {"rule_id": "942100"}]},
     "input waf_exclusions[0].rule_id='942100' is invalid; allowed: a rule id only with its rule group, "
     "waf_exclusions[0].rule_group"),
    ({"waf_exclusions": [{**PROMPTS, "rule_group": "XSS", "rule_id": "942100"}]},
     "input waf_exclusions[0].rule_id='942100' is invalid; allowed: a rule id starting 941, a rule of XSS; 942100 is "
     "a rule of SQLI"),
    ({"waf_exclusions": [PROMPTS, dict(PROMPTS)]},
     "input waf_exclusions[1].selector='messages.content' is invalid; allowed: an exclusion no other entry makes"),
    ({"waf_exclusions": [{**PROMPTS, "match_variable": "RequestHeaderNames", "selector": "X-User"},
                         {**PROMPTS, "match_variable": "RequestHeaderNames", "selector": "x-user"}]},
     "input waf_exclusions[1].selector='x-user' is invalid; allowed: an exclusion no other entry makes"),
    ({"waf_exclusions": [{**PROMPTS, "selector": f"field{i}"} for i in range(101)]},
     "input waf_exclusions='101 exclusions' is invalid; allowed: at most 100 (Front Door's exclusions per WAF "
     "policy)"),
    ({"waf_rule_overrides": [{"rule_group": "SQLI", "rule_id": "942100", "action": "Block"}]},
     "input waf_rule_overrides[0].action='Block' is invalid; allowed: AnomalyScoring (the rule adds to the request's "
     "anomaly score, its default) or Log (it only logs): a DRS 2.x rule takes no other action"),
    ({"waf_rule_overrides": [{"rule_group": "SQLI", "rule_id": "94210x", "enabled": False}]},
     "input waf_rule_overrides[0].rule_id='94210x' is invalid; allowed: a DRS 2.1 rule id, 6 digits (942100) or 8 "
     "for Microsoft's threat-intelligence rules (99031001)"),
    ({"waf_rule_overrides": [{"rule_group": "SQLI", "rule_id": "949110", "enabled": False}]},
     "input waf_rule_overrides[0].rule_id='949110' is invalid; allowed: a rule that matched the request: 949110 is "
     "the anomaly score's total (Inbound Anomaly Score Exceeded)"),
    ({"waf_rule_overrides": [{"rule_group": "MS-ThreatIntel-SQLI", "rule_id": "942100", "enabled": False}]},
     "input waf_rule_overrides[0].rule_id='942100' is invalid; allowed: an 8-digit rule id (99...), a rule of "
     "MS-ThreatIntel-SQLI; 942100 is a rule of SQLI"),
    ({"waf_rule_overrides": [{"rule_group": "SQLI", "rule_id": "99031001", "enabled": False}]},
     "input waf_rule_overrides[0].rule_id='99031001' is invalid; allowed: a rule id starting 942, a rule of SQLI; it "
     "is a rule of an MS-ThreatIntel-* group"),
    ({"waf_rule_overrides": [{"rule_group": "SQLI", "rule_id": "942100", "enabled": False},
                             {"rule_group": "SQLI", "rule_id": "942100", "action": "Log"}]},
     "input waf_rule_overrides[1].rule_id='942100' is invalid; allowed: a rule no other entry overrides (SQLI 942100 "
     "is overridden twice)"),
    ({"waf_rule_overrides": [{"rule_group": "RCE", "rule_id": "932100"}]},
     "input waf_rule_overrides[0].rule_id='932100' is invalid; allowed: an override that sets something: "
     "waf_rule_overrides[0].action (AnomalyScoring or Log), or waf_rule_overrides[0].enabled"),
    ({"sku": "Standard_AzureFrontDoor", "waf_exclusions": [PROMPTS]},
     "input waf_exclusions='1 entries' is invalid; allowed: none with sku Standard_AzureFrontDoor: it runs no "
     "managed rule set to tune"),
    ({"sku": "Standard_AzureFrontDoor", "waf_rule_overrides": [{"rule_group": "SQLI", "rule_id": "942100",
                                                                "enabled": False}]},
     "input waf_rule_overrides='1 entries' is invalid; allowed: none with sku Standard_AzureFrontDoor"),
])
def test_the_component_refuses_what_azure_would_naming_the_input_the_value_and_what_is_allowed(waf, message):
    text = _refusal(**waf)
    assert message in text and "GlobalEndpoint edge" in text and "Traceback" not in text, text


def test_every_rule_group_takes_its_own_rules_and_the_threat_intelligence_groups_theirs():
    """The rule groups and ids of Microsoft's DRS 2.1 table (waf-front-door-drs.md 12371cd9), one rule of each, pass
    in their own group; the same id in a group it does not belong to is refused."""
    from llmplatform.input_rules.edge import DRS_RULE_GROUPS, waf_rule_problem
    samples = {"General": "200002", "METHOD-ENFORCEMENT": "911100", "PROTOCOL-ENFORCEMENT": "920100",
               "PROTOCOL-ATTACK": "921110", "LFI": "930100", "RFI": "931100", "RCE": "932100", "PHP": "933100",
               "NODEJS": "934100", "XSS": "941100", "SQLI": "942100", "FIX": "943100", "JAVA": "944100",
               "MS-ThreatIntel-WebShells": "99005002", "MS-ThreatIntel-AppSec": "99030001",
               "MS-ThreatIntel-SQLI": "99031001", "MS-ThreatIntel-CVEs": "99001001"}
    assert set(samples) == set(DRS_RULE_GROUPS)
    for group, rule in samples.items():
        assert waf_rule_problem(group, rule) is None, (group, rule)
        assert waf_rule_problem("SQLI" if group != "SQLI" else "XSS", rule) is not None, (group, rule)
    overrides = [{"rule_group": g, "rule_id": r, "action": "Log"} for g, r in samples.items()]
    assert len(_default_rule_set(_edge(waf_rule_overrides=overrides))["ruleGroupOverrides"]) == 17


# ---- the global stack: global.frontDoor.wafExclusions / wafRuleOverrides through the program -----------------------
STACK_EXCLUSION = {"matchVariable": "RequestBodyJsonArgNames", "operator": "Equals", "selector": "messages.content",
                   "ruleGroup": "SQLI"}


def test_the_stack_keys_reach_the_global_stacks_waf_policy():
    """YAML's `ruleId: 942100` is a number: taken as its digits."""
    plan = plan_for("global", {"global": {"frontDoor": {
        "wafExclusions": [STACK_EXCLUSION],
        "wafRuleOverrides": [{"ruleGroup": "SQLI", "ruleId": 942110, "enabled": True}]}}})
    [group] = _default_rule_set(plan)["ruleGroupOverrides"]
    assert group == {"ruleGroupName": "SQLI", "exclusions": [{"matchVariable": "RequestBodyJsonArgNames",
                                                              "selectorMatchOperator": "Equals",
                                                              "selector": "messages.content"}],
                     "rules": [{"ruleId": "942110", "enabledState": "Enabled"}]}


def test_a_group_level_stack_exclusion_reaches_the_policy_as_a_group_override_without_rules():
    """`global.frontDoor.wafExclusions` entries with `ruleGroup` and no `ruleId` (Pulumi.global.yaml's keys) become
    each group's override carrying only the exclusion: the rules of SQLI and RCE are left as DRS 2.1 ships them, no
    rule of theirs is sent (a rule override would set its state and action)."""
    plan = plan_for("global", {"global": {"frontDoor": {"wafExclusions": [
        STACK_EXCLUSION, {"matchVariable": "QueryStringArgNames", "operator": "EqualsAny", "ruleGroup": "RCE"}]}}})
    assert _default_rule_set(plan)["ruleGroupOverrides"] == [
        {"ruleGroupName": "SQLI", "exclusions": [{"matchVariable": "RequestBodyJsonArgNames",
                                                  "selectorMatchOperator": "Equals", "selector": "messages.content"}]},
        {"ruleGroupName": "RCE", "exclusions": [{"matchVariable": "QueryStringArgNames",
                                                 "selectorMatchOperator": "EqualsAny", "selector": "*"}]}]


@pytest.mark.parametrize("frontdoor, message", [
    ({"wafExclusions": [{**STACK_EXCLUSION, "matchVariable": "Body"}]},
     "global.frontDoor.wafExclusions[0].matchVariable 'Body' is invalid; allowed: RequestBodyJsonArgNames, "
     "RequestBodyPostArgNames, QueryStringArgNames, RequestHeaderNames, RequestCookieNames"),
    ({"wafExclusions": [{**STACK_EXCLUSION, "selector": ""}]},
     "global.frontDoor.wafExclusions[0].selector '' is invalid; allowed: the name (or part of one) the exclusion "
     "matches with operator Equals"),
    ({"wafExclusions": [{**STACK_EXCLUSION, "rulegroup": "SQLI"}]},
     "global.frontDoor.wafExclusions[0].rulegroup is not a known key; did you mean 'ruleGroup'?"),
    ({"wafExclusions": [{**STACK_EXCLUSION, "ruleGroup": "XSS", "ruleId": 942100}]},
     "global.frontDoor.wafExclusions[0].ruleId '942100' is invalid; allowed: a rule id starting 941, a rule of XSS"),
    ({"wafExclusions": [{**STACK_EXCLUSION, "ruleGroup": None, "ruleId": "942100"}]},
     "global.frontDoor.wafExclusions[0].ruleId '942100' is invalid; allowed: a rule id only with its rule group, "
     "global.frontDoor.wafExclusions[0].ruleGroup"),
    ({"wafExclusions": "messages.content"},
     "global.frontDoor.wafExclusions must be a list, got 'messages.content'"),
    ({"wafRuleOverrides": [{"ruleGroup": "SQLI", "ruleId": "942100", "action": "Block"}]},
     "global.frontDoor.wafRuleOverrides[0].action 'Block' is invalid; allowed: AnomalyScoring"),
    ({"wafRuleOverrides": [{"ruleGroup": "SQLI", "ruleId": "942100", "enabled": "nope"}]},
     "global.frontDoor.wafRuleOverrides[0].enabled must be true or false, got 'nope'"),
    ({"wafRuleOverrides": [{"ruleGroup": "APPLICATION-ATTACK-RCE", "ruleId": "932100", "enabled": False}]},
     "global.frontDoor.wafRuleOverrides[0].ruleGroup 'APPLICATION-ATTACK-RCE' is invalid; allowed: a "
     "Microsoft_DefaultRuleSet 2.1 rule group"),
    ({"wafRuleOverrides": [{"ruleGroup": "SQLI", "ruleId": "942100"}]},
     "global.frontDoor.wafRuleOverrides[0].ruleId '942100' is invalid; allowed: an override that sets something: "
     "global.frontDoor.wafRuleOverrides[0].action (AnomalyScoring or Log), or "
     "global.frontDoor.wafRuleOverrides[0].enabled"),
    ({"sku": "Standard_AzureFrontDoor", "wafExclusions": [STACK_EXCLUSION]},
     "global.frontDoor.wafExclusions '1 entries' is invalid; allowed: none with global.frontDoor.sku "
     "Standard_AzureFrontDoor"),
    # an entry without what the component requires is named by its stack key (it was a KeyError traceback in the
    # prod warnings for an override, and the component's own input name for an exclusion)
    ({"wafRuleOverrides": [{"ruleGroup": "SQLI", "enabled": False}]},
     "global.frontDoor.wafRuleOverrides[0].ruleId is missing: an override names its rule by ruleGroup and ruleId"),
    ({"wafRuleOverrides": [{"ruleId": "942100", "action": "Log"}]},
     "global.frontDoor.wafRuleOverrides[0].ruleGroup is missing: an override names its rule by ruleGroup and "
     "ruleId"),
    ({"wafExclusions": [{"operator": "Equals", "selector": "prompt"}]},
     "global.frontDoor.wafExclusions[0].matchVariable is missing: an exclusion names what its selector matches"),
    # a blank list item (`-`, `null`) is refused, not dropped
    ({"wafExclusions": [STACK_EXCLUSION, None]},
     "global.frontDoor.wafExclusions[1] must be an object ({matchVariable, operator, selector"),
    # the rules' refusal of an entry after a refused one still names the entry's own index
    ({"wafExclusions": [None, {**STACK_EXCLUSION, "ruleGroup": "XSS", "ruleId": "942100"}]},
     "global.frontDoor.wafExclusions[1].ruleId '942100' is invalid; allowed: a rule id starting 941"),
    # `ruleId: 0942100` is the number 942100.0 to go-yaml: the hint is the rule's digits, not "942100.0"
    ({"wafRuleOverrides": [{"ruleGroup": "SQLI", "ruleId": 942100.0, "enabled": False}]},
     "global.frontDoor.wafRuleOverrides[0].ruleId must be the rule's digits, quoted (ruleId: '942100')"),
])
def test_a_bad_waf_key_stops_the_global_plan_before_any_region_is_planned(tmp_path, capsys, frontdoor, message):
    import yaml
    stack_file = tmp_path / "Pulumi.global.yaml"
    doc = yaml.safe_load((PROJECT_DIR / "Pulumi.global.yaml").read_text())
    section = doc["config"]["aks-llm-platform:global"]
    section["frontDoor"] = {k: v for k, v in {**section["frontDoor"], **frontdoor}.items() if v is not None}
    for entry in section["frontDoor"].get("wafExclusions") or ():
        if isinstance(entry, dict) and entry.get("ruleGroup") is None:
            entry.pop("ruleGroup", None)
    stack_file.write_text(yaml.safe_dump(doc))
    out = tmp_path / "build"
    code = plan_cli.main(["--stack", "global", "--out", str(out), "--stack-file", str(stack_file)])
    captured = capsys.readouterr()
    assert code == 1 and message in captured.err, captured.err
    assert "Traceback" not in captured.out + captured.err
    assert "OFFLINE PLAN" not in captured.out and not out.exists()  # no region planned, nothing written


def test_the_program_itself_refuses_a_bad_waf_key_before_registering_anything():
    with pytest.raises(offline.ProgramError) as refused:
        offline.run("global", {"global": {"frontDoor": {"wafRuleOverrides": [
            {"ruleGroup": "SQLI", "ruleId": "949110", "enabled": False}]}}},
            references={r: plan_for(r) for r in ("prod-westeurope", "prod-swedencentral")})
    assert refused.value.registered == 0
    assert "global.frontDoor.wafRuleOverrides[0].ruleId '949110' is invalid" in str(refused.value)


def test_a_prod_rule_turned_off_or_to_log_is_named_at_every_plan_and_the_waf_still_blocks():
    """Allowed in prod (the operator chose it from the WAF log; the program is the only place a change survives
    `pulumi up`), but named; the policy pack's waf-on-and-blocking-in-prod still holds: the policy is enabled and in
    Prevention, and the rule set still blocks on the anomaly score."""
    tuned = plan_for("global", {"global": {"frontDoor": {"wafRuleOverrides": [
        {"ruleGroup": "SQLI", "ruleId": "942100", "action": "Log"},
        {"ruleGroup": "RCE", "ruleId": "932100", "enabled": False}]}}})
    [warning] = [w for w in tuned.warnings if "wafRuleOverrides" in w]
    assert "takes 2 Microsoft_DefaultRuleSet rule(s) out of the prod WAF's blocking: SQLI 942100 (log only), RCE " \
           "932100 (off)" in warning
    assert not [w for w in plan_for("global").warnings if "wafRuleOverrides" in w]
    assert not [v for v in policy_check.evaluate(tuned) if v.policy == "waf-on-and-blocking-in-prod"]
    assert _default_rule_set(tuned)["ruleSetAction"] == "Block"


def test_a_prod_exclusion_of_every_name_of_a_kind_from_every_rule_is_named():
    tuned = plan_for("global", {"global": {"frontDoor": {"wafExclusions": [
        {"matchVariable": "RequestBodyJsonArgNames", "operator": "EqualsAny"}]}}})
    assert any("excludes every RequestBodyJsonArgNames name from every Microsoft_DefaultRuleSet rule" in w
               for w in tuned.warnings), tuned.warnings


def test_a_changed_exclusion_is_an_in_place_update_of_the_waf_policy_for_the_pull_request_check():
    """The PR check (offline/plan_diff) reads the WAF policy's managedRules as an update (nothing in
    webapplicationfirewall.json marks it otherwise, replacement_rules.json): adding an exclusion, then changing its
    selector, updates the policy in place and replaces nothing; the check passes."""
    def doc(exclusions):
        plan = plan_for("global", {"global": {"frontDoor": {"wafExclusions": exclusions}}} if exclusions else None)
        return plan_diff.resources_by_urn(plan_cli.resources_document(plan))
    base, added = doc(None), doc([STACK_EXCLUSION])
    changed = doc([{**STACK_EXCLUSION, "selector": "prompt"}])
    for old, new in ((base, added), (added, changed)):
        result = plan_diff.diff_documents(old, new)
        [waf] = [u for u, r in new.items() if r["type"] == "azure-native:frontdoor:Policy"]
        assert waf in result["changed"] and not result["replaced"] and not result["removed"], result
        assert not plan_diff.blocking(result, set(), False)


def test_the_docs_example_is_a_config_the_global_stack_takes():
    """The YAML the component page tells an operator to copy (docs/components/global-endpoint-and-fleet.md, "Tuning
    the WAF") validates and reaches the policy."""
    import re
    import textwrap
    import yaml
    page = (PROJECT_DIR / "docs" / "components" / "global-endpoint-and-fleet.md").read_text()
    [block] = [b for b in re.findall(r"```yaml\n(.*?)```", page, re.S) if "wafExclusions" in b]
    front_door = yaml.safe_load(textwrap.dedent(block))["aks-llm-platform:global"]["frontDoor"]
    drs = _default_rule_set(plan_for("global", {"global": {"frontDoor": front_door}}))
    assert {g["ruleGroupName"] for g in drs["ruleGroupOverrides"]} == {
        e.get("ruleGroup") for e in front_door["wafExclusions"] + front_door["wafRuleOverrides"]}


@pytest.mark.parametrize("mutate, message", [
    (lambda i: i.pop("managedRules"), "runs no Microsoft_DefaultRuleSet"),
    (lambda i: i["managedRules"].update(managedRuleSets=[s for s in i["managedRules"]["managedRuleSets"]
                                                         if s["ruleSetType"] != "Microsoft_DefaultRuleSet"]),
     "runs no Microsoft_DefaultRuleSet"),
    (lambda i: i["managedRules"]["managedRuleSets"][0].update(ruleSetAction="Log"),
     "Microsoft_DefaultRuleSet's ruleSetAction is Log"),
])
def test_the_policy_pack_refuses_a_prod_waf_in_prevention_whose_default_rule_set_does_not_block(mutate, message):
    """waf-on-and-blocking-in-prod read only policySettings: a prod policy in Prevention with no default rule set
    (a Standard tier, which a prod-named global stack of another environment could plan) or with the set's action
    Log blocked nothing but the rate limit, and passed. webapplicationfirewall.json 2025-11-01: ManagedRuleSet
    .ruleSetAction is Block, Log or Redirect."""
    import copy
    import dataclasses
    plan = plan_for("global")
    [waf] = plan.of_type("azure-native:frontdoor:Policy")
    assert not [v for v in policy_check.evaluate(plan) if v.policy == "waf-on-and-blocking-in-prod"]
    inputs = copy.deepcopy(waf.inputs)
    mutate(inputs)
    changed = dataclasses.replace(plan, resources=[dataclasses.replace(waf, inputs=inputs) if r is waf else r
                                                   for r in plan.resources])
    found = [v for v in policy_check.evaluate(changed) if v.policy == "waf-on-and-blocking-in-prod"]
    assert found and message in found[0].message, found

