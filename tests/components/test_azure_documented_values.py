"""Azure values no schema holds are held to what Microsoft documents for them.

pulumi-azure-native's Check and the REST specs' constraints leave these inputs plain strings and numbers
(tests/data/azure_constraints.json lists them 'unconstrained'), and the offline mocks take anything: a WAF rate-limit
window of 2 minutes, a rule group evaluated every 30 seconds, a Container Insights interval of 45m, a diagnostic
setting's metric category the resource has not, an image-cleaner interval under a day would all pass the plan and fail
(or be quietly replaced) in Azure. tests/data/azure_documented_values.json holds what is allowed for each and where
Microsoft says so; every planned variant and stack is held to it."""
import json
import re
from typing import Any, Iterator

import pytest

from tests.conftest import PLANNED, PROJECT_DIR, planned

DATA = json.loads((PROJECT_DIR / "tests" / "data" / "azure_documented_values.json").read_text(encoding="utf-8"))
CHECKS: list[dict[str, Any]] = DATA["checks"]

# A diagnostic setting's target, from its resourceUri: Azure's own type segment, or the mocks' type token.
TARGETS = {
    "Microsoft.KeyVault/vaults": re.compile(r"/providers/Microsoft\.KeyVault/(vaults|Vault)/[^/]+$", re.I),
    "Microsoft.DBforPostgreSQL/flexibleServers":
        re.compile(r"/providers/Microsoft\.DBforPostgreSQL/(flexibleServers|Server)/[^/]+$", re.I),
    "Microsoft.Storage/storageAccounts/fileServices": re.compile(r"/fileServices/default$", re.I),
}
ISO_MINUTES = re.compile(r"PT([0-9]+)M")
MINUTES = re.compile(r"([0-9]+)m")


def values_at(node: Any, path: str) -> Iterator[Any]:
    """Every value at `path` (dots; `name[]` each item of a list; `name[key=value]` the items whose key is value)."""
    if not path:
        yield node
        return
    head, _, rest = path.partition(".")
    match = re.fullmatch(r"([^\[]+)(\[([^=\]]*)(=([^\]]*))?\])?", head)
    assert match, f"unreadable path step {head!r}"
    name, is_list, key, value = match.group(1), match.group(2), match.group(3), match.group(5)
    if not isinstance(node, dict) or node.get(name) is None:
        return
    child = node[name]
    if not is_list:
        yield from values_at(child, rest)
        return
    for item in child:
        if key and (not isinstance(item, dict) or str(item.get(key)) != value):
            continue
        yield from values_at(item, rest)


def refusal(check: dict[str, Any], value: Any) -> str:
    """Why `value` is not what the check's source allows; '' when it is."""
    if "oneOf" in check:
        return "" if value in check["oneOf"] else f"not one of {check['oneOf']}"
    if "oneOfNoCase" in check:
        return "" if str(value).lower() in check["oneOfNoCase"] else f"not one of {check['oneOfNoCase']} (any case)"
    if "setOf" in check:
        names = [part.strip().lower() for part in str(value).split(",")]
        unknown = [name for name in names if name not in check["setOf"]]
        return f"{unknown} not in the documented list" if unknown or not value else ""
    if "count" in check:
        low, high = check["count"]
        return "" if low <= len(value) <= high else f"{len(value)} items, allowed {low}-{high}"
    if "range" in check:
        low, high = check["range"]
        return "" if isinstance(value, int) and low <= value <= high else f"allowed {low}-{high}"
    if "pattern" in check:
        return "" if isinstance(value, str) and re.fullmatch(check["pattern"], value) else \
            f"does not match {check['pattern']}"
    for kind, grammar in (("isoMinutes", ISO_MINUTES), ("minutes", MINUTES)):
        if kind in check:
            low, high = check[kind]
            match = grammar.fullmatch(str(value))
            if not match:
                return f"not whole minutes ({grammar.pattern})"
            minutes = int(match.group(1))
            return "" if minutes >= low and (high is None or minutes <= high) else \
                f"{minutes} minutes, allowed {low}-{high if high is not None else ''}"
    raise AssertionError(f"a check of no known kind: {check}")


def applies(check: dict[str, Any], inputs: dict[str, Any]) -> bool:
    """Whether a check of the resource's type is about this resource (its target, its configuration name)."""
    if "target" in check and not TARGETS[check["target"]].search(str(inputs.get("resourceUri", ""))):
        return False
    return "configuration" not in check or inputs.get("configurationName") == check["configuration"]


def refusals(resources: list[Any]) -> list[str]:
    out = []
    for reg in resources:
        for check in CHECKS:
            if check["type"] != reg.type or not applies(check, reg.inputs):
                continue
            for value in values_at(reg.inputs, check["path"]):
                if why := refusal(check, value):
                    source = DATA["sources"][check["source"]]
                    out.append(f"{reg.type} {reg.name}: {check['path']} = {value!r}: {why} "
                               f"({source['repository']} {source.get('path') or source['thread']})")
    return out


@pytest.mark.parametrize("name", PLANNED)
def test_every_planned_value_is_one_microsoft_documents(name):
    broken = refusals(planned(name).resources)
    assert not broken, "\n".join(broken)


def test_every_check_meets_a_planned_value():
    """A check no plan reaches holds nothing (a path misspelt, a target pattern that matches no URI)."""
    met = set()
    for name in PLANNED:
        for reg in planned(name).resources:
            for i, check in enumerate(CHECKS):
                if check["type"] == reg.type and applies(check, reg.inputs) and \
                        next(values_at(reg.inputs, check["path"]), None) is not None:
                    met.add(i)
    assert met == set(range(len(CHECKS))), [CHECKS[i]["path"] for i in set(range(len(CHECKS))) - met]


class _Reg:
    def __init__(self, type_: str, inputs: dict[str, Any]):
        self.type, self.name, self.inputs = type_, "planted", inputs


@pytest.mark.parametrize("type_, inputs, expected", [
    ("azure-native:frontdoor:Policy", {"customRules": {"rules": [{"rateLimitDurationInMinutes": 2}]}},
     "rateLimitDurationInMinutes = 2: not one of [1, 5]"),
    ("azure-native:alertsmanagement:PrometheusRuleGroup", {"interval": "PT30S", "rules": [{"expression": "1"}]},
     "interval = 'PT30S': not whole minutes"),
    ("azure-native:alertsmanagement:PrometheusRuleGroup", {"interval": "PT1M", "rules": [{"expression": "1"}] * 21},
     "rules = ["),
    ("azure-native:monitor:DataCollectionRule", {"dataSources": {"extensions": [{
        "extensionName": "ContainerInsights", "extensionSettings": {"dataCollectionSettings": {"interval": "45m"}}}]}},
     "interval = '45m': 45 minutes, allowed 1-30"),
    ("azure-native:monitor:DiagnosticSetting", {
        "resourceUri": "/subscriptions/0/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/st/"
                       "fileServices/default", "metrics": [{"category": "Capacity"}]},
     "metrics[].category = 'Capacity': not one of ['Transaction']"),
    ("azure-native:dbforpostgresql:Configuration", {"configurationName": "azure.extensions", "value": "VECTOR,pgvector"},
     "['pgvector'] not in the documented list"),
    ("azure-native:containerservice:ManagedCluster", {"securityProfile": {"imageCleaner": {"intervalHours": 12}}},
     "intervalHours = 12: allowed 24-2160"),
    ("azure-native:containerservice:ManagedCluster", {"autoScalerProfile": {"scaleDownUnneededTime": "600s"}},
     "scaleDownUnneededTime = '600s': does not match"),
])
def test_a_value_microsoft_does_not_allow_is_named(type_, inputs, expected):
    found = refusals([_Reg(type_, inputs)])
    assert len(found) == 1 and expected in found[0], found


def test_every_source_is_read_at_a_commit_or_a_thread():
    for key, source in DATA["sources"].items():
        assert source["repository"] and source["quote"], key
        assert re.fullmatch("[0-9a-f]{40}", source.get("commit") or "") and source["path"] or source.get("thread"), key
    assert {check["source"] for check in CHECKS} <= set(DATA["sources"])
