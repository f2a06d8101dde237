"""Values as the Pulumi engine's wire carries them (google.protobuf Struct): what a plugin really receives."""
from __future__ import annotations

import json
from typing import Any, Optional

from google.protobuf import json_format, struct_pb2
from llmplatform.rules import go_duration_seconds

from .runner import SECRET_SIG, SIG_KEY


def to_struct(value: dict[str, Any]) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    struct.update(value)  # every number becomes a double, as on the engine's wire
    return struct


def from_struct(struct: struct_pb2.Struct) -> dict[str, Any]:
    return json_format.MessageToDict(struct)


def with_secrets(inputs: dict[str, Any], secret_paths: list[str]) -> dict[str, Any]:
    """Inputs as the engine marshals them with KeepSecrets: each secret value wrapped in the secret signature."""
    wrapped = json.loads(json.dumps(inputs))
    for path in secret_paths:
        if path == ".":
            return {SIG_KEY: SECRET_SIG, "value": wrapped}
        parent, key = _locate(wrapped, path)
        parent[key] = {SIG_KEY: SECRET_SIG, "value": parent[key]}
    return wrapped


def _locate(document: Any, path: str) -> tuple[Any, Any]:
    """The container and key of a recorded secret path (`spec.data.password`, `env[2].value`)."""
    steps: list[Any] = []
    for part in path.split("."):
        name, *indexes = part.split("[")
        if name:
            steps.append(name)
        steps.extend(int(i.rstrip("]")) for i in indexes)
    for step in steps[:-1]:
        document = document[step]
    return document, steps[-1]


def duration_seconds(duration: Any) -> Optional[float]:
    """A custom timeout as the SDK records it (a Go duration: "10m", "90s", "1h30m", "500ms") in seconds, as the
    engine parses it before handing it to a plugin; None when unset or not a duration."""
    return go_duration_seconds(duration)
