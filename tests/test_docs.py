"""The README's config reference lists every key the loader accepts, and the docs cover every component."""
from __future__ import annotations

import re

from config import loader, reader

from .conftest import PROJECT_DIR


def accepted_keys(monkeypatch) -> set[str]:
    seen: set[str] = set()
    original = reader.Reader._get

    def recording(self, name):
        seen.add(self.key(name))
        return original(self, name)

    monkeypatch.setattr(reader.Reader, "_get", recording)
    loader.parse_config({"cluster": {"maintenanceWindow": {}}}, "p", "s")
    return seen


def test_readme_documents_every_config_key(monkeypatch):
    readme = (PROJECT_DIR / "README.md").read_text()
    documented = set(re.findall(r"`([a-zA-Z.]+)`", readme))
    for group in re.findall(r"`([a-zA-Z.]+)\.\{([a-zA-Z,]+)\}`", readme):
        documented |= {f"{group[0]}.{k}" for k in group[1].split(",")}
    for slash in re.findall(r"`([a-zA-Z.]+)` / `([a-zA-Z.]+)`", readme):
        documented |= set(slash)
    missing = sorted(k for k in accepted_keys(monkeypatch) if k not in documented)
    assert missing == []


def test_every_component_has_a_docs_page_linking_its_generated_reference():
    import llmplatform
    pages = " ".join(p.read_text() for p in (PROJECT_DIR / "docs" / "components").glob("*.md")
                     if p.name != "reference.md")
    reference = (PROJECT_DIR / "docs" / "components" / "reference.md").read_text()
    for name in llmplatform.COMPONENTS:
        assert f"(reference.md#{name.lower()})" in pages, name
        assert f"\n## {name}\n" in reference, name
