"""The component provider: hosts every component for other Pulumi languages (`pulumi package add`).

The schema is inferred from the components' type annotations and docstrings by the Pulumi SDK's analyzer; this
module adds what the analyzer cannot see (which properties are secret) and serves it.
"""
import json
import sys
from typing import Any

from pulumi.provider import main as serve
from pulumi.provider.experimental.component import ComponentProvider

from . import PACKAGE, __version__, all_components

SECRET_MARK = "Secret."  # a property whose description ends with this is marked secret in the schema


def mark_secrets(schema: dict[str, Any]) -> dict[str, Any]:
    """Set `secret: true` on every input and output property whose docstring says it is secret."""
    def walk(properties: dict[str, Any]) -> None:
        for prop in properties.values():
            if str(prop.get("description", "")).rstrip().endswith(SECRET_MARK):
                prop["secret"] = True
    for resource in schema.get("resources", {}).values():
        walk(resource.get("inputProperties", {}))
        walk(resource.get("properties", {}))
    for type_ in schema.get("types", {}).values():
        walk(type_.get("properties", {}))
    return schema


class PlatformProvider(ComponentProvider):
    def __init__(self, version: str = __version__) -> None:
        super().__init__(all_components(), PACKAGE, None, version)
        self.schema = json.dumps(mark_secrets(json.loads(self.schema)), indent=2, sort_keys=True)


def package_schema() -> dict[str, Any]:
    """The schema `pulumi package add` sees, built offline (no engine, no network)."""
    return json.loads(PlatformProvider().schema)


def main() -> None:
    serve(PlatformProvider(), sys.argv[1:])
