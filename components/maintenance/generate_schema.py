"""`make schema`: write the component provider's schema (components/schema.json) and the input/output reference
generated from it (docs/components/reference.md). Tests fail when either drifts from the code.

Usage: python -m components.maintenance.generate_schema [--check]
"""
import argparse
import json
import sys
from pathlib import Path
from typing import Any

from llmplatform.provider import package_schema

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = ROOT / "components" / "schema.json"
REFERENCE = ROOT / "docs" / "components" / "reference.md"


def schema_text(schema: dict[str, Any] | None = None) -> str:
    """components/schema.json's text: of `schema` when given (a caller that already inferred it: ~0.2 s each), else
    of the package's."""
    return json.dumps(package_schema() if schema is None else schema, indent=2, sort_keys=True) + "\n"


def _type_of(prop: dict[str, Any]) -> str:
    if "$ref" in prop:
        location, _, fragment = prop["$ref"].partition("#")
        if fragment == "/provider":  # `/kubernetes/v4.34.2/schema.json#/provider`: that package's provider
            return f"{location.strip('/').split('/')[0]} provider"
        return prop["$ref"].rsplit(":", 1)[-1].rsplit("/", 1)[-1]
    if prop.get("type") == "array":
        return f"list[{_type_of(prop.get('items', {}))}]"
    if prop.get("type") == "object" and "additionalProperties" in prop:
        return f"map[{_type_of(prop['additionalProperties'])}]"
    return prop.get("type", "any")


def _table(properties: dict[str, Any], required: list[str]) -> list[str]:
    rows = ["| name | type | required | default | description |", "|---|---|---|---|---|"]
    for name in sorted(properties):
        prop = properties[name]
        description = " ".join(str(prop.get("description", "")).split()).replace("|", "\\|")
        secret = " (secret)" if prop.get("secret") else ""
        default = f"`{json.dumps(prop['default'])}`" if "default" in prop else ""
        rows.append(f"| `{name}` | {_type_of(prop)}{secret} | {'yes' if name in required else ''} | {default} | "
                    f"{description} |")
    return rows


def reference_text(schema: dict[str, Any] | None = None) -> str:
    """docs/components/reference.md's text, from `schema` when given, else the package's."""
    schema = package_schema() if schema is None else schema
    lines = ["# Component reference", "",
             "Generated from the component provider's schema by `make schema`",
             "(`components/maintenance/generate_schema.py`); a test fails when it drifts from the code. Names are the",
             "schema's (camelCase); Python takes the snake_case of each.",
             ""]
    for token in sorted(schema["resources"]):
        resource = schema["resources"][token]
        lines += [f"## {token.rsplit(':', 1)[-1]}", "", f"`{token}`", "",
                  " ".join(str(resource.get("description", "")).split()), "", "Inputs:", ""]
        lines += _table(resource.get("inputProperties", {}), resource.get("requiredInputs", []))
        lines += ["", "Outputs:", ""]
        lines += _table(resource.get("properties", {}), [])
        lines.append("")
    lines += ["## Types", ""]
    for token in sorted(schema["types"]):
        type_ = schema["types"][token]
        lines += [f"### {token.rsplit(':', 1)[-1]}", "", " ".join(str(type_.get("description", "")).split()), ""]
        if "enum" in type_:
            lines.append("One of: " + ", ".join(f"`{e['value']}`" for e in type_["enum"]) + ".")
        else:
            lines += _table(type_.get("properties", {}), type_.get("required", []))
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when a generated file is out of date")
    args = parser.parse_args(argv)
    stale, schema = [], package_schema()
    for path, text in ((SCHEMA, schema_text(schema)), (REFERENCE, reference_text(schema))):
        if path.exists() and path.read_text() == text:
            continue
        stale.append(path.relative_to(ROOT))
        if not args.check:
            path.write_text(text)
    if args.check and stale:
        print(f"out of date: {', '.join(map(str, stale))}; run `make schema`", file=sys.stderr)
        return 1
    print(f"{'stale' if args.check else 'wrote'}: {', '.join(map(str, stale)) or 'nothing (up to date)'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
