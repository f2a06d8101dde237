"""The docs say what the code does: the generated config reference is current and its values are the ones the loader
applies and enforces, Pulumi.yaml declares what the loader defaults to, every link between the docs resolves, the
architecture page's "where is X" table points at files that hold X, and every component has a docs page."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from config import loader, regions
from config.reader import ConfigError
from config import reference as ref

from .conftest import PROJECT_DIR

PLATFORM = ref.read_settings(loader.parse_config)
GLOBAL = ref.read_settings(regions.parse_global)
ROWS = ref.rows(PLATFORM)
DOCS = [PROJECT_DIR / "README.md", *sorted((PROJECT_DIR / "docs").rglob("*.md"))]


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


def test_configuration_reference_is_generated_from_the_current_code():
    """Defaults, allowed values, bounds and the prod refusals as the code has them today (`make docs`)."""
    current = ref.REFERENCE.read_text()
    assert ref.render(current) == current, "docs/configuration.md is stale: run `make docs`"


def _snake(name: str) -> str:
    return {"protectStatefulResources": "protect"}.get(name) or re.sub(r"([A-Z])", lambda m: "_" + m.group(1).lower(),
                                                                      name)


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


GLOBAL_ROWS = [s for s in ref.rows(GLOBAL) if s.key.startswith("global.")]
PARSERS = {id(s): loader.parse_config for s in ROWS} | {id(s): regions.parse_global for s in GLOBAL_ROWS}
CHOICES = [s for s in ROWS + GLOBAL_ROWS if s.kind == "choice"]


@pytest.mark.parametrize("setting", CHOICES, ids=[s.key for s in CHOICES])
def test_documented_allowed_values_are_the_enforced_ones(setting):
    """A value outside the documented set is refused naming the key; each documented value is accepted."""
    parse = PARSERS[id(setting)]
    refused = problems(nested(setting.key, "not-" + setting.allowed[0]), parse)
    assert any(p.startswith(f"{setting.key} 'not-") and _not_allowed(p, setting) for p in refused), refused
    for value in setting.allowed:
        assert not any(p.startswith(f"{setting.key} ") and _not_allowed(p, setting)
                       for p in problems(nested(setting.key, value), parse)), value


def _not_allowed(problem: str, setting) -> bool:
    """The loader's own refusal, or a component rule's (config/component_rules.py) naming the stack key and the
    documented set."""
    return "is not allowed" in problem or f"is invalid; allowed: {', '.join(setting.allowed)}" in problem


BOUNDED = [s for s in ROWS + GLOBAL_ROWS if s.kind == "integer" and s.minimum is not None]


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


def _links(path: Path) -> list[str]:
    text = re.sub(r"```.*?```", "", path.read_text(), flags=re.S)
    return re.findall(r"\]\(([^)\s]+)\)", text)


def _anchors(path: Path) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens."""
    headings = re.findall(r"^#+ (.+)$", re.sub(r"```.*?```", "", path.read_text(), flags=re.S), re.M)
    return {re.sub(r"[^a-z0-9 _-]", "", h.strip().lower()).replace(" ", "-") for h in headings}


def test_every_relative_link_in_the_docs_resolves():
    broken = []
    for page in DOCS:
        for link in _links(page):
            if re.match(r"[a-z]+:", link):
                continue
            target, _, anchor = link.partition("#")
            path = (page.parent / target).resolve() if target else page
            if not path.exists():
                broken.append(f"{page.relative_to(PROJECT_DIR)}: {link}")
            elif anchor and path.suffix == ".md" and anchor not in _anchors(path):
                broken.append(f"{page.relative_to(PROJECT_DIR)}: {link} (no such heading)")
    assert broken == []


def test_readme_links_every_docs_page():
    readme = (PROJECT_DIR / "README.md").read_text()
    for page in sorted((PROJECT_DIR / "docs").glob("*.md")):
        assert f"(docs/{page.name})" in readme, page.name


def test_where_is_x_names_files_that_hold_x():
    """Each row of the architecture page's "Where is X" table links a file and names (in backticks) what in it owns X;
    the file must hold that name, so a move or a rename fails here until the table follows."""
    page = PROJECT_DIR / "docs" / "architecture.md"
    table = page.read_text().split("## Where is X", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in table.splitlines() if line.startswith("| ") and not line.startswith("| What")]
    assert len(rows) >= 15
    for row in rows:
        owner = row.split("|")[2]
        files = re.findall(r"\]\(([^)#]+)\)", owner)
        names = re.findall(r"`([^`]+)`", re.sub(r"\[`[^`]+`\]\([^)]*\)", "", owner))
        assert files and names, row
        text = "".join((page.parent / f).read_text() for f in files)
        for name in names:
            assert name in text, f"{name} not in {files}"


def test_every_component_has_a_docs_page_linking_its_generated_reference():
    import llmplatform
    pages = " ".join(p.read_text() for p in (PROJECT_DIR / "docs" / "components").glob("*.md")
                     if p.name != "reference.md")
    reference = (PROJECT_DIR / "docs" / "components" / "reference.md").read_text()
    for name in llmplatform.COMPONENTS:
        assert f"(reference.md#{name.lower()})" in pages, name
        assert f"\n## {name}\n" in reference, name
