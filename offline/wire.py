"""Values as the Pulumi engine's wire carries them (google.protobuf Struct): what a plugin really receives."""
from __future__ import annotations

import json
import re
from typing import Any, Optional

from google.protobuf import json_format, struct_pb2
from llmplatform.rules import go_duration_seconds

from .runner import SECRET_SIG, SIG_KEY

# A value not known yet on the engine's wire: what the engine sends an Analyzer for one (pulumi/pulumi 1b5949891b
# pkg/resource/plugin/analyzer_plugin.go `Analyze`/`AnalyzeStack` marshal with `KeepUnknowns: true`;
# sdk/go/common/resource/plugin/rpc.go `marshalUnknownProperty`: a computed value the SDK sent, whose element is a
# string, is `UnknownStringValue`), which pulumi-policy 1.21.0 `proxy.py` reads as unknown
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"


def to_struct(value: dict[str, Any]) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    struct.update(value)  # every number becomes a double, as on the engine's wire
    return struct


def from_struct(struct: struct_pb2.Struct) -> dict[str, Any]:
    return json_format.MessageToDict(struct)


def with_secrets(inputs: dict[str, Any], secret_paths: list[str]) -> dict[str, Any]:
    """Inputs as the engine marshals them with KeepSecrets: each secret value wrapped in the secret signature."""
    wrapped = json.loads(json.dumps(inputs, default=_unknown_on_the_wire))
    for path in secret_paths:
        if path == ".":
            return {SIG_KEY: SECRET_SIG, "value": wrapped}
        parent, key = _walk(wrapped, path)  # a secret not known yet: its value may be dropped
        parent[key] = {SIG_KEY: SECRET_SIG, "value": parent[key] if isinstance(parent, list) else parent.get(key)}
    return wrapped


def _unknown_on_the_wire(value: Any) -> str:
    """A preview's recorded input not known yet (the SDK's `Unknown`) as the wire carries it."""
    if type(value).__name__ == "Unknown":
        return UNKNOWN
    raise TypeError(f"{type(value).__name__} is not a value of the engine's wire")


def with_unknowns(wire: dict[str, Any], unknown_paths: list[str]) -> dict[str, Any]:
    """Inputs on the wire (`with_secrets`) as the engine hands an Analyzer those of a preview: each value a preview
    does not know yet (`Registration.unknown_paths`, recorded on the wire, a secret's `.value` included) the wire's
    unknown value, also where the inputs lack the key (a registration made by hand; the kit's recording keeps an
    unknown as the SDK's `Unknown`, and a null, which it drops, is no unknown: the engine sends it as null). A path's
    keys may hold dots (`azure.workload.identity/client-id`): each is matched against the keys the document has, the
    longest first; a key the inputs lack is the rest of the path (its container is always there)."""
    for path in unknown_paths:
        if path == ".":
            return {}  # a whole object not known yet: the SDK sends no inputs at all
        _put(wire, path, UNKNOWN)
    return wire


def _put(document: Any, path: str, value: Any) -> None:
    container, key = _walk(document, path)
    container[key] = value


def _walk(document: Any, path: str) -> tuple[Any, Any]:
    """The container and key of a recorded path (`spec.data.password`, `env[2].value`, `stringData.tls.crt`): each
    key matched against the keys the document has, the longest first (a key may hold dots: a Secret's `tls.crt`, an
    annotation); one it does not have is the rest of the path (the containers on the way made, a list padded with
    nulls)."""
    rest = path
    while True:
        if isinstance(document, list):
            index, _, rest = rest[1:].partition("]")
            key: Any = int(index)
            while len(document) <= key:
                document.append(None)
        else:
            names = sorted((k for k in document if rest == k or rest.startswith((f"{k}.", f"{k}["))), key=len)
            key = names[-1] if names else re.split(r"[.\[]", rest, maxsplit=1)[0] if "[" in rest else rest
            rest = rest[len(key):]
        if not rest:
            return document, key
        rest = rest[1:] if rest.startswith(".") else rest
        if not isinstance(document[key] if isinstance(document, list) else document.get(key), (dict, list)):
            document[key] = [] if rest.startswith("[") else {}
        document = document[key]


def duration_seconds(duration: Any) -> Optional[float]:
    """A custom timeout as the SDK records it (a Go duration: "10m", "90s", "1h30m", "500ms") in seconds, as the
    engine parses it before handing it to a plugin; None when unset or not a duration."""
    return go_duration_seconds(duration)
