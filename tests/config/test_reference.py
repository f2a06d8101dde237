"""The generated configuration reference (config_reference): current, and its defaults, allowed values and bounds are
the ones the loader applies and enforces; Pulumi.yaml declares what the loader defaults to."""
from __future__ import annotations

import re

import pytest

from config import loader, regions, reference as ref
from config.reader import ConfigError
from config.meanings import MEANING

from tests.conftest import variant


PLATFORM = ref.read_settings(loader.parse_config)
GLOBAL = ref.read_settings(regions.parse_global)
ROWS = ref.rows(PLATFORM)


def problems(raw: dict, parse=loader.parse_config) -> list[str]:
    try:
        parse(raw, "project", "stack")
    except ConfigError as error:
        return error.problems
    return []


def nested(key: str, value) -> dict:
    raw: dict = {}
    node = raw
    *parents, last = key.split(".")
    for part in parents:
        node = node.setdefault(part, {})
    node[last] = value
    return raw


def _snake(name: str) -> str:
    return {"protectStatefulResources": "protect"}.get(name) or re.sub(r"([A-Z])", lambda m: "_" + m.group(1).lower(),
                                                                      name)


GLOBAL_ROWS = [s for s in ref.rows(GLOBAL) if s.key.startswith("global.")]
PARSERS = {id(s): loader.parse_config for s in ROWS} | {id(s): regions.parse_global for s in GLOBAL_ROWS}
CHOICES = [s for s in ROWS + GLOBAL_ROWS if s.kind == "choice"]


def _not_allowed(problem: str, setting) -> bool:
    """The loader's own refusal or a component rule's (config/component_rules.py), in one wording: the stack key, the
    value, and the documented set."""
    return f"is invalid; allowed: {', '.join(setting.allowed)}" in problem


BOUNDED = [s for s in ROWS + GLOBAL_ROWS if s.kind == "integer" and s.minimum is not None]


def test_configuration_reference_is_generated_from_the_current_code():
    """Defaults, allowed values, bounds and the prod refusals as the code has them today (`make docs`)."""
    current = ref.REFERENCE.read_text()
    assert ref.render(current) == current, "docs/configuration.md is stale: run `make docs`"


def test_documented_defaults_are_what_an_empty_stack_config_yields():
    """Read back from the PlatformConfig the loader builds (not from the recording): a default the reader is handed
    but the loader replaces, or an 'unset' key that does get a value, fails here."""
    raw: dict = {}
    for s in ROWS:  # objects read only when present (cluster.maintenanceWindow) are set empty, as a user would
        if s.kind == "object" and s.default is ref.UNSET:
            raw.update(nested(s.key, {}))
    cfg = loader.parse_config(raw, "project", "stack")
    checked = 0
    for s in ROWS:
        if s.kind == "object" and s.default is ref.UNSET:
            continue
        value = cfg
        for part in s.key.split("."):
            value = getattr(value, _snake(part))
        expected = None if s.default is ref.UNSET else s.default
        assert value == (dict(expected) if isinstance(expected, dict) else expected), s.key
        checked += 1
    assert checked >= 150


@pytest.mark.parametrize("setting", CHOICES, ids=[s.key for s in CHOICES])
def test_documented_allowed_values_are_the_enforced_ones(setting):
    """A value outside the documented set is refused naming the key; each documented value is accepted."""
    parse = PARSERS[id(setting)]
    refused = problems(nested(setting.key, "not-" + setting.allowed[0]), parse)
    assert any(p.startswith(f"{setting.key} 'not-") and _not_allowed(p, setting) for p in refused), refused
    for value in setting.allowed:
        assert not any(p.startswith(f"{setting.key} ") and _not_allowed(p, setting)
                       for p in problems(nested(setting.key, value), parse)), value


def test_documented_bounds_are_the_enforced_ones():
    for s in BOUNDED:
        parse = PARSERS[id(s)]
        low, high = s.minimum - 1, (s.maximum or 0) + 1
        rule = f"is invalid; allowed: a whole number from {s.minimum} to {s.maximum}"  # a component rule's words
        found = problems(nested(s.key, low), parse)
        assert f"{s.key} ({low}) must be >= {s.minimum}" in found or any(
            p.startswith(f"{s.key} {low} {rule}") for p in found), (s.key, found)
        if s.maximum is not None:
            found = problems(nested(s.key, high), parse)
            assert f"{s.key} ({high}) must be <= {s.maximum}" in found or any(
                p.startswith(f"{s.key} {high} {rule}") for p in found), (s.key, found)


def test_documented_sets_of_whole_numbers_are_the_enforced_ones():
    """A whole number from a set, not a range (PostgreSQL's storage sizes): each documented one is accepted, the
    numbers between them refused naming the key."""
    sets = [s for s in ROWS + GLOBAL_ROWS if s.kind == "integer" and s.allowed]
    assert [s.key for s in sets] == ["postgres.storageSizeGb"]
    for s in sets:
        parse = PARSERS[id(s)]
        for value in s.allowed:
            assert not any(p.startswith(f"{s.key} ") for p in problems(nested(s.key, int(value)), parse)), value
        between = int(s.allowed[0]) + 1
        assert any(p.startswith(f"{s.key} {between} is invalid") for p in problems(nested(s.key, between), parse))


def test_zone_lists_refuse_what_the_reference_does_not_allow():
    lists = [s for s in ROWS if s.kind == "list" and s.allowed]
    assert {s.key for s in lists} >= {"cluster.zones", "gpu.zones"}
    for s in lists:
        assert any(p.startswith((f"{s.key} ", f"{s.key}[")) and ("may only contain" in p or "allowed: one of" in p)
                   for p in problems(nested(s.key, ["9"])))


def test_pulumi_yaml_declares_every_scalar_key_with_the_loaders_type_and_default():
    """`pulumi up` hands the program Pulumi.yaml's defaults; the loader's own must be the same values."""
    declared = ref.pulumi_declarations()
    scalars = {s.key: s for s in ROWS if "." not in s.key}
    assert set(declared) == set(scalars)
    kinds = {"string": ("string", "choice"), "boolean": ("boolean",), "integer": ("integer",)}
    for key, declaration in declared.items():
        setting = scalars[key]
        assert setting.kind in kinds[declaration["type"]], key
        default = None if declaration["default"] == "" else declaration["default"]
        assert default == setting.default, key
        assert declaration.get("description"), key


def test_every_documented_key_has_its_meaning_and_every_meaning_a_key():
    keys = {s.key for s in ROWS if "." in s.key} | {s.key for s in ref.rows(GLOBAL) if s.key.startswith("global.")}
    assert sorted(keys - set(ref.MEANING)) == []
    assert sorted(set(ref.MEANING) - keys) == []
    assert {ref._section_of(s.key) for s in ROWS} == set(ref.SECTIONS)


def test_the_recording_leaves_the_reader_as_it_was():
    from config.reader import Reader
    before = dict(vars(Reader))
    ref.read_settings(loader.parse_config)
    assert dict(vars(Reader)) == before


# Each field AKS keeps for a pool's life (the change-safety check's refusedInPlace rules for AgentPool) and the stack
# keys that set it: a stranger reading configuration.md learns before the pull request that the change needs a new
# pool name (gpu.priority, the spot switch, said only "`spot` or `regular`" and met a blocked diff).
POOL_FIELDS_FIXED = {
    "scaleSetPriority": ("gpu.priority", "cluster.workloadPool.priority"),
    "spotMaxPrice": ("gpu.spotMaxPrice",),
    "gpuProfile": ("gpu.driver",),
    "availabilityZones": ("gpu.zones", "cluster.zones"),
    "maxPods": ("gpu.maxPods", "cluster.workloadPool.maxPods"),
    "osDiskSizeGB": ("gpu.osDiskSizeGb", "cluster.workloadPool.osDiskSizeGb"),
    "enableEncryptionAtHost": ("security.encryptionAtHost",),
    "osDiskType": ("security.ephemeralOsDisk",),
}


@pytest.mark.parametrize("field", sorted(POOL_FIELDS_FIXED))
def test_a_pool_setting_fixed_at_creation_says_so_in_the_reference(field):
    import json
    from tests.conftest import PROJECT_DIR
    rules = json.loads((PROJECT_DIR / "offline" / "data" / "replacement_rules.json").read_text())
    assert field in rules["azureNative"]["refusedInPlace"]["azure-native:containerservice:AgentPool"]
    text = (PROJECT_DIR / "docs" / "configuration.md").read_text()
    for key in POOL_FIELDS_FIXED[field]:
        [row] = [line for line in text.splitlines() if line.startswith(f"| `{key}` |")]
        assert re.search(r"(?i)fixed once|cannot change", row), row


# The inline system pool's settings AKS fixes at creation (ManagedCluster `agentPoolProfiles[]`, refused in place) and
# the pool fields pulumi-azure-native replaces a pool on (AgentPool `forceNew`), with the stack keys that set them:
# configuration.md said "VM size of the system pool" and "MIG slice per GPU" alone, and a stranger resizing prod's
# system pool met a blocked pull request whose procedure (a new pool made beside it, then its name) no row named.
INLINE_POOL_FIELDS_FIXED = {
    "vmSize": ("cluster.systemPool.vmSize",),
    "osDiskSizeGB": ("cluster.systemPool.osDiskSizeGb",),
    "maxPods": ("cluster.systemPool.maxPods",),
}
POOL_FIELDS_REPLACED = {"vmSize": ("gpu.vmSize", "cluster.workloadPool.vmSize"),
                        "gpuInstanceProfile": ("gpu.migProfile",)}


def _row(key: str) -> str:
    from tests.conftest import PROJECT_DIR
    [row] = [line for line in (PROJECT_DIR / "docs" / "configuration.md").read_text().splitlines()
             if line.startswith(f"| `{key}` |")]
    return row


@pytest.mark.parametrize("field", sorted(INLINE_POOL_FIELDS_FIXED))
def test_a_system_pool_setting_fixed_at_creation_names_the_procedure_in_the_reference(field):
    import json
    from tests.conftest import PROJECT_DIR
    rules = json.loads((PROJECT_DIR / "offline" / "data" / "replacement_rules.json").read_text())
    assert f"agentPoolProfiles[].{field}" in rules["azureNative"]["refusedInPlace"][
        "azure-native:containerservice:ManagedCluster"]
    for key in INLINE_POOL_FIELDS_FIXED[field]:
        row = _row(key)
        assert re.search(r"(?i)fixed once", row) and '"Scaling node pools"' in row, row
    # the rename the procedure ends with: a pool that must exist already
    assert "already exists" in _row("cluster.systemPool.name")


@pytest.mark.parametrize("field", sorted(POOL_FIELDS_REPLACED))
def test_a_pool_setting_that_replaces_the_pool_says_so_in_the_reference(field):
    import json
    from tests.conftest import PROJECT_DIR
    rules = json.loads((PROJECT_DIR / "offline" / "data" / "replacement_rules.json").read_text())
    assert field in rules["azureNative"]["types"]["azure-native:containerservice:AgentPool"]["forceNew"]
    for key in POOL_FIELDS_REPLACED[field]:
        row = _row(key)
        assert "replaces the pool" in row and "deleted first" in row, row


def test_the_ui_switch_says_what_a_stack_without_the_ui_keeps():
    """Open-WebUI is PostgreSQL's only user: `webui.enabled: false` plans no server and no database (a reader turning
    the UI off to save the server's cost pays nothing for it), as the reference says."""
    plan = variant("dev-smb-nogpu")  # webui.enabled false
    assert not plan.of_type("llmplatform:index:OpenWebUi")
    assert not plan.of_type("llmplatform:index:PostgresServer") and not [
        r for r in plan.resources if r.type.startswith("azure-native:dbforpostgresql:")]
    assert plan.outputs["postgresFqdn"] is None
    assert variant("dev").of_type("azure-native:dbforpostgresql:Server")  # with the UI, its server
    assert "no server is created" in MEANING["webui.enabled"]
