"""Every Azure input value the plans send meets the constraints pulumi-azure-native's Check enforces: a string's
pattern, minLength and maxLength, a number's minimum and maximum, path parameters (names) included.

The constraints are the Azure REST API specs' own, at the API version the pinned provider uses for each type, vendored
in tests/data/azure_constraints.json with the spec file and commit each was read at. `violations` mirrors the
provider's validateProperty (provider/pkg/provider/provider.go):

- a string's length is its UTF-8 byte count (Go's len), inclusive bounds;
- a pattern is compiled as Go's regexp (RE2) would: one Go cannot compile (a lookaround such as `(?!-)`, a
  backreference, an atomic group, a possessive quantifier: ECMA-262 constructs the specs sometimes use) is SKIPPED, as
  the provider skips it; a compiled pattern is matched with an unanchored search (Go's MatchString), `\\w`, `\\d` and
  `\\s` ASCII-only (re.ASCII) and `$` at the very end only (Go has no "before a final newline");
- a number is compared with minimum and maximum, inclusive.

The patterns Check skips are still Azure's: a separate test holds the planned values to them with Python's `re`, which
supports those constructs.
"""
import collections.abc
import enum
import json
import re
import typing
from dataclasses import dataclass
from typing import Any, Iterator, Optional

import pytest
from hypothesis import given, settings, strategies as st

from llmplatform import azure_inputs, azure_names

from tests.conftest import PLANNED, PROJECT_DIR, planned

DATA = json.loads((PROJECT_DIR / "tests" / "data" / "azure_constraints.json").read_text())
TYPES: dict[str, dict[str, Any]] = DATA["types"]
RULES = json.loads((PROJECT_DIR / "offline" / "data" / "replacement_rules.json").read_text())

# RE2 (Go regexp) rejects these Perl/ECMA constructs; regexp.Compile fails and Check skips the pattern.
_NOT_RE2 = [(re.compile(r"\(\?[=!]"), "lookahead"), (re.compile(r"\(\?<[=!]"), "lookbehind"),
            (re.compile(r"\(\?>"), "atomic group"), (re.compile(r"\\[1-9]|\\k<"), "backreference"),
            (re.compile(r"(?<!\\)[*+?}]\+"), "possessive quantifier")]


def not_go_regexp(pattern: str) -> Optional[str]:
    """Why Go's regexp.Compile refuses the pattern (so Check skips it), or None when it compiles."""
    return next((why for construct, why in _NOT_RE2 if construct.search(pattern)), None)


def _go_semantics(pattern: str) -> str:
    """The pattern with each unescaped `$` outside a character class as `\\Z`: Go's `$` (no multi-line flag) matches
    only at the end of the text, Python's also before a final newline."""
    out, in_class, escaped = [], False, False
    for char in pattern:
        if escaped:
            out.append(char)
            escaped = False
        elif char == "\\":
            out.append(char)
            escaped = True
        elif char == "[" and not in_class:
            in_class = True
            out.append(char)
        elif char == "]" and in_class:
            in_class = False
            out.append(char)
        else:
            out.append("\\Z" if char == "$" and not in_class else char)
    return "".join(out)


def violations(constraint: dict[str, Any], value: Any) -> list[str]:
    """What Check would refuse in `value` under `constraint` (one spec entry), as the provider words it; [] when it
    passes. A value of the wrong kind is azure_inputs' business (tests/components/test_azure_inputs.py)."""
    found = []
    if isinstance(value, str):
        length = len(value.encode())
        if "minLength" in constraint and length < constraint["minLength"]:
            found.append(f"too short ({length}): at least {constraint['minLength']} characters required")
        if "maxLength" in constraint and length > constraint["maxLength"]:
            found.append(f"too long ({length}): at most {constraint['maxLength']} characters allowed")
        pattern = constraint.get("pattern")
        if pattern is not None and not_go_regexp(pattern) is None \
                and not re.search(_go_semantics(pattern), value, re.ASCII):
            found.append(f"does not match expression '{pattern}'")
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        if "minimum" in constraint and value < constraint["minimum"]:
            found.append(f"too low ({value} < {constraint['minimum']})")
        if "maximum" in constraint and value > constraint["maximum"]:
            found.append(f"too high ({value} > {constraint['maximum']})")
    return found


def values_at(inputs: Any, path: str) -> Iterator[tuple[str, Any]]:
    """(concrete path, value) for every value a constraint path reaches in recorded inputs; `[]` is any list index,
    absent values are not yielded."""
    head, _, rest = path.partition(".")
    key, is_list = (head[:-2], True) if head.endswith("[]") else (head, False)
    if not isinstance(inputs, dict) or inputs.get(key) is None:
        return
    found = inputs[key]
    items = list(enumerate(found)) if is_list and isinstance(found, list) else [] if is_list else [(None, found)]
    for index, item in items:
        here = key if index is None else f"{key}[{index}]"
        if rest:
            yield from ((f"{here}.{sub}", value) for sub, value in values_at(item, rest))
        else:
            yield here, item


def _source(type_: str, constraint: dict[str, Any]) -> str:
    spec = DATA["specs"][constraint.get("spec", TYPES[type_]["spec"])]
    return f"{spec['file']}@{spec['commit'][:12]} {constraint['at']}"


@dataclass(frozen=True)
class Refusal:
    path: str
    value: Any
    reason: str
    constraint: dict[str, Any]
    source: str

    def __str__(self) -> str:
        shown = {k: v for k, v in self.constraint.items() if k in ("pattern", "minLength", "maxLength", "minimum",
                                                                      "maximum")}
        return f"{self.path} = {self.value!r}: {self.reason} {shown} [{self.source}]"


def refusals(type_: str, inputs: dict[str, Any]) -> list[Refusal]:
    """Every constraint of the type's vendored spec entries that the recorded inputs break, as Check would refuse."""
    found = []
    for path, constraint in TYPES.get(type_, {}).get("constraints", {}).items():
        for concrete, value in values_at(inputs, path):
            found += [Refusal(concrete, value, reason, constraint, _source(type_, constraint))
                      for reason in violations(constraint, value)]
    return found


@pytest.mark.parametrize("name", PLANNED)
def test_every_planned_azure_value_meets_the_specs_constraints(name):
    broken = [f"{name}: {reg.name} ({reg.type}) {refusal}" for reg in planned(name).resources
              for refusal in refusals(reg.type, reg.inputs)]
    assert not broken, "pulumi-azure-native's Check would refuse (fix the component or config rule that sets it):\n" \
                       + "\n".join(broken)


@pytest.mark.parametrize("name", PLANNED)
def test_the_patterns_check_skips_are_met_too(name):
    """A pattern Go cannot compile is skipped by Check, not by Azure: the values meet it as Python's `re` reads it."""
    broken = []
    for reg in planned(name).resources:
        for path, constraint in TYPES.get(reg.type, {}).get("constraints", {}).items():
            pattern = constraint.get("pattern")
            if pattern is None or not_go_regexp(pattern) is None:
                continue
            broken += [f"{name}: {reg.name} ({reg.type}) {concrete} = {value!r} does not match '{pattern}' "
                       f"[{_source(reg.type, constraint)}]"
                       for concrete, value in values_at(reg.inputs, path)
                       if isinstance(value, str) and not re.search(pattern, value, re.ASCII)]
    assert not broken, "\n".join(broken)


# Planted violations, each refused by the same function the plans go through.
def test_a_too_long_name_is_refused_with_its_spec():
    (refusal,) = [r for r in refusals("azure-native:containerservice:AgentPool",
                                      {"agentPoolName": "gpupoolnumber1", "resourceName": "aks-llmp-dev"})
                  if "too long" in r.reason]
    assert refusal.path == "agentPoolName" and refusal.reason == "too long (14): at most 12 characters allowed"
    assert "managedClusters.json@1041da1a500c parameters.AgentPoolNameParameter" in str(refusal)
    # and the same name breaks the pattern too ({0,11} after the first letter), as Check reports both
    assert [r.reason for r in refusals("azure-native:containerservice:AgentPool", {"agentPoolName": "gpupoolnumber1"})
            ] == ["too long (14): at most 12 characters allowed", "does not match expression '^[a-z][a-z0-9]{0,11}$'"]


def test_a_pattern_breach_is_refused_nested_and_in_lists():
    inputs = {"resourceGroupName": "rg", "resourceName": "aks",
              "agentPoolProfiles": [{"name": "system"}, {"name": "Gpu"}],
              "networkProfile": {"podCidr": "192.168.0.0/16", "serviceCidr": "172.16.0.0/33", "dnsServiceIP": "172.16.0.10"}}
    found = {(r.path, r.value) for r in refusals("azure-native:containerservice:ManagedCluster", inputs)}
    assert found == {("agentPoolProfiles[1].name", "Gpu"), ("networkProfile.serviceCidr", "172.16.0.0/33")}
    # a resource group name ARM accepts elsewhere, refused where the spec is stricter (Front Door's WAF policy: 80)
    (refusal,) = refusals("azure-native:frontdoor:Policy", {"resourceGroupName": "r" * 81, "policyName": "waf"})
    assert refusal.reason == "too long (81): at most 80 characters allowed"


def test_a_number_out_of_range_is_refused():
    found = [str(r) for r in refusals("azure-native:containerservice:MaintenanceConfiguration", {
        "maintenanceWindow": {"durationHours": 2, "startTime": "1:00", "utcOffset": "+00:00",
                              "schedule": {"weekly": {"intervalWeeks": 5, "dayOfWeek": "Sunday"}}}})]
    assert found == [
        "maintenanceWindow.durationHours = 2: too low (2 < 4) {'minimum': 4, 'maximum': 24} "
        "[specification/containerservice/resource-manager/Microsoft.ContainerService/aks/stable/2025-09-01/"
        "managedClusters.json@1041da1a500c definitions.MaintenanceWindow.durationHours]",
        "maintenanceWindow.schedule.weekly.intervalWeeks = 5: too high (5 > 4) {'minimum': 1, 'maximum': 4} "
        "[specification/containerservice/resource-manager/Microsoft.ContainerService/aks/stable/2025-09-01/"
        "managedClusters.json@1041da1a500c definitions.WeeklySchedule.intervalWeeks]",
        "maintenanceWindow.startTime = '1:00': does not match expression '^\\d{2}:\\d{2}$' {'pattern': "
        "'^\\\\d{2}:\\\\d{2}$'} [specification/containerservice/resource-manager/Microsoft.ContainerService/aks/"
        "stable/2025-09-01/managedClusters.json@1041da1a500c definitions.MaintenanceWindow.startTime]"]
    assert [r.reason for r in refusals("azure-native:cdn:AFDOrigin", {"httpPort": 0, "weight": 1000, "priority": 6})
            ] == ["too low (0 < 1)", "too high (6 > 5)"]


def test_a_grafana_name_cut_short_does_not_end_on_a_hyphen():
    """AzureMonitoring cuts `graf-<prefix>` to 23 characters; a prefix with a hyphen at the cut made a name that ends
    in '-', which the spec's workspaceName pattern refuses (found by this check; azure_monitoring.py now trims it)."""
    import llmplatform
    from offline import runner as offline

    prefix = "llmp-westeurope-a-b2"  # valid name_prefix; its 18th character is the hyphen the cut lands on
    assert azure_names.name_prefix(prefix) is None and f"graf-{prefix}"[:23].endswith("-")
    plan = offline.run_function(lambda: llmplatform.AzureMonitoring(
        "m", {"location": "westeurope", "resource_group_name": "rg-test", "name_prefix": prefix, "managed_grafana": True}))
    grafana = plan.one("azure-native:dashboard:Grafana")
    assert grafana.inputs["workspaceName"] == "graf-llmp-westeurope-a"
    assert refusals(grafana.type, grafana.inputs) == []
    assert [r.reason for r in refusals(grafana.type, {"workspaceName": f"graf-{prefix}"[:23]})] == [
        "does not match expression '^[a-zA-Z][a-z0-9A-Z-]{0,28}[a-z0-9A-Z]$'"]


def test_go_regexp_semantics():
    """Check's patterns are Go's: unanchored search, ASCII classes, `$` only at the very end; the ones Go cannot
    compile refuse nothing."""
    pg = TYPES["azure-native:dbforpostgresql:Server"]["constraints"]["serverName"]
    assert violations(pg, "psql_a!") == []  # no end anchor: only the first character is held to it
    assert violations(pg, "-psql") == ["does not match expression '^[a-zA-Z0-9]+(-[a-zA-Z0-9]+)*'"]
    rg = TYPES["azure-native:containerservice:ManagedCluster"]["constraints"]["resourceGroupName"]
    assert violations(rg, "rg-café") == ["does not match expression '^[-\\w\\._\\(\\)]+$'"]  # \w is ASCII in Go
    assert violations(rg, "rg\n") == ["does not match expression '^[-\\w\\._\\(\\)]+$'"]
    assert violations({"maxLength": 3}, "ééé") == ["too long (6): at most 3 characters allowed"]  # bytes, as Go's len
    amw = TYPES["azure-native:monitor:AzureMonitorWorkspace"]["constraints"]["azureMonitorWorkspaceName"]
    assert not_go_regexp(amw["pattern"]) == "lookahead" and violations(amw, "-amw-") == []
    assert not_go_regexp(r"^(?<!-)a$") == "lookbehind" and not_go_regexp(r"(a)\1") == "backreference"
    assert not_go_regexp(r"^[a-z]{1,3}$") is None and violations({"minimum": 0}, True) == []


def test_every_vendored_pattern_compiles_and_only_the_known_ones_are_skipped_by_check():
    skipped = set()
    for type_, entry in TYPES.items():
        for path, constraint in entry["constraints"].items():
            assert set(constraint) <= {"in", "pattern", "minLength", "maxLength", "minimum", "maximum", "at", "spec"}
            assert constraint["at"] and constraint.get("spec", entry["spec"]) in DATA["specs"]
            if "pattern" in constraint:
                re.compile(constraint["pattern"])
                if not_go_regexp(constraint["pattern"]):
                    skipped.add((type_, path))
    assert skipped == {("azure-native:monitor:AzureMonitorWorkspace", "azureMonitorWorkspaceName")}


def _api_version(spec_file: str) -> str:
    return re.search(r"/(\d{4}-\d{2}-\d{2}(?:-preview)?)/", spec_file).group(1)


def test_each_type_is_one_the_program_uses_at_the_provider_api_version():
    rule_types = RULES["azureNative"]["types"]
    for type_, entry in TYPES.items():
        assert entry["apiVersion"] == rule_types[type_]["apiVersion"], type_
        if entry["spec"] is None:  # not read: no claim about any of its paths
            assert not entry["constraints"] and not entry["unconstrained"] and entry["notRead"], type_
            continue
        spec = DATA["specs"][entry["spec"]]
        assert re.fullmatch("[0-9a-f]{40}", spec["commit"]), type_
        if "readAround" in entry:
            # the API version's own file is not stored: the versions just before and after it were read and agree on
            # every entry of the type (its notes say so)
            before, after = (_api_version(DATA["specs"][key]["file"]) for key in entry["readAround"])
            assert entry["spec"] in entry["readAround"] and before < entry["apiVersion"] < after, type_
        else:
            assert f"/{entry['apiVersion']}/" in spec["file"], type_
        for path, constraint in entry["constraints"].items():
            # a name's constraint is on one of the type's own path parameters
            assert (constraint.get("in") == "path") == (path in rule_types[type_]["path"]), (type_, path)


def _checked_paths(value: Any, annotation: Any, path: str, unchecked: tuple[str, ...]) -> Iterator[str]:
    """The input paths ('[]' for list indexes) of the strings and numbers Check could hold to a constraint: not an
    enum's (the provider's metadata keeps none for enums), nor a boolean, a map's value, a primitive list item (its
    metadata keeps only the item's type) or anything under a union of types (no type reference to validate with)."""
    if value is None or any(path == u or path.startswith(u + ".") for u in unchecked):
        return
    alternatives = azure_inputs._alternatives(annotation)
    classes = [a for a in alternatives if isinstance(a, type) and getattr(a, "_pulumi_input_type", False)]
    if isinstance(value, dict):
        if len(classes) == 1:
            properties = azure_inputs._properties(classes[0])
            for key, item in value.items():
                if key in properties:
                    yield from _checked_paths(item, properties[key], f"{path}.{key}" if path else key, unchecked)
    elif isinstance(value, list):
        sequences = [a for a in alternatives if typing.get_origin(a) in (list, collections.abc.Sequence)]
        for item in value:
            if isinstance(item, (dict, list)) and sequences:
                yield from _checked_paths(item, typing.get_args(sequences[0])[0], f"{path}[]", unchecked)
    elif isinstance(value, (str, int, float)) and not isinstance(value, bool) \
            and not any(isinstance(a, type) and issubclass(a, enum.Enum) for a in alternatives):
        yield path


def _planned_paths() -> dict[str, set[str]]:
    paths: dict[str, set[str]] = {}
    for name in PLANNED:
        for reg in planned(name).resources:
            if reg.type.startswith("azure-native:"):
                args = azure_inputs._args_class(reg.type)
                unchecked = tuple(TYPES.get(reg.type, {}).get("uncheckedByProvider", {}))
                paths.setdefault(reg.type, set()).update(_checked_paths(reg.inputs, args, "", unchecked))
    return paths


def test_every_string_and_number_the_plans_send_was_looked_up():
    """A property a component starts to set is looked up in its spec (constraints, none, or said not to be read)."""
    missing = [f"{type_}: {path}" for type_, paths in sorted(_planned_paths().items()) for path in sorted(paths)
               if type_ not in TYPES or path not in {*TYPES[type_]["constraints"], *TYPES[type_]["unconstrained"],
                                                      *TYPES[type_]["notRead"]}]
    assert not missing, "look these up in the type's REST API spec (tests/data/azure_constraints.json):\n" \
                        + "\n".join(missing)


def test_every_vendored_entry_names_an_input_some_plan_sets():
    set_paths = _planned_paths()
    dead = [f"{type_}: {path}" for type_, entry in TYPES.items()
            for path in [*entry["constraints"], *entry["unconstrained"], *entry["notRead"]]
            if path not in set_paths.get(type_, set())]
    unchecked_dead = [f"{type_}: {prefix}" for type_, entry in TYPES.items() for prefix in entry.get("uncheckedByProvider", {})
                      if not any(reg.type == type_ and prefix.split(".")[0] in reg.inputs
                                 for name in PLANNED for reg in planned(name).resources)]
    assert not dead and not unchecked_dead, "no plan sets these any more:\n" + "\n".join(dead + unchecked_dead)


# azure_names.py refuses a bad name before Pulumi runs: a name it accepts must pass Check's constraint for the same
# parameter (ours may be stricter). Names are drawn from our rule's own regex, ASCII only: its `\w` is Unicode (see
# the report in docs/decisions.md), Go's is not.
NAME_RULES = [
    (azure_names.storage_account, r"[a-z0-9]{3,24}", "azure-native:storage:StorageAccount", "accountName"),
    (azure_names.key_vault, r"[A-Za-z][A-Za-z0-9-]{1,22}[A-Za-z0-9]", "azure-native:keyvault:Vault", "vaultName"),
    (azure_names.key_vault_secret, r"[0-9A-Za-z-]{1,127}", "azure-native:keyvault:Secret", "secretName"),
    (azure_names.postgres_server, r"[a-z0-9][a-z0-9-]{1,61}[a-z0-9]", "azure-native:dbforpostgresql:Server", "serverName"),
    (azure_names.postgres_database, r"[a-z_][a-z0-9_]{0,62}", "azure-native:dbforpostgresql:Database", "databaseName"),
    (azure_names.aks_cluster, r"[A-Za-z0-9]([A-Za-z0-9-]{0,52}[A-Za-z0-9])?", "azure-native:containerservice:ManagedCluster",
     "resourceName"),
    (azure_names.agent_pool, r"[a-z][a-z0-9]{0,11}", "azure-native:containerservice:AgentPool", "agentPoolName"),
    (azure_names.resource_group, r"[A-Za-z0-9_().-]{0,89}[A-Za-z0-9_()-]", "azure-native:storage:StorageAccount",
     "resourceGroupName"),
    (azure_names.file_share, r"[a-z0-9]([a-z0-9-]{1,61}[a-z0-9])", "azure-native:storage:FileShare", "shareName"),
]


@pytest.mark.parametrize("rule, ascii_regex, type_, parameter", NAME_RULES, ids=[r[3] for r in NAME_RULES])
@settings(max_examples=50, deadline=None)
@given(data=st.data())
def test_a_name_azure_names_accepts_passes_checks_constraint(rule, ascii_regex, type_, parameter, data):
    name = data.draw(st.from_regex(ascii_regex, fullmatch=True))
    if rule(name) is None:  # ours accepts it (its extra rules, such as no '--', may refuse it)
        assert violations(TYPES[type_]["constraints"][parameter], name) == [], (parameter, name)
