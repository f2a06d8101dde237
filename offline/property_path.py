"""Pulumi's property paths as the engine parses them (pulumi/pulumi 1b594989
`sdk/go/common/resource/properties_path.go` `parsePropertyPath`, not strict): ignoreChanges
(plan_diff/ignore_changes.py) and the paths of a policy's violations (plugin_host.py)."""
from __future__ import annotations

import re
from typing import Any, Optional


def parse_path(path: str) -> Optional[list[Any]]:
    """`ParsePropertyPath` (not strict): names, `[<index>]`, `["<quoted name>"]`, `*` and `[*]`; None where the
    engine's parse fails (the engine then skips the path)."""
    parts: list[Any] = []
    if path.startswith("."):
        return None
    while path:
        if path[0] == ".":
            path = path[1:]
            if not path:
                return None
        elif path[0] == "[":
            if path[1:2] == '"':
                key, i = "", 2
                while True:
                    if i >= len(path):
                        return None
                    if path[i] == '"':
                        i += 1
                        break
                    if path[i] == "\\" and path[i + 1:i + 2] == '"':
                        key, i = key + '"', i + 2
                    else:
                        key, i = key + path[i], i + 1
                if path[i:i + 1] != "]":
                    return None
                parts.append(key)
                path = path[i + 1:]
            else:
                end = path.find("]")
                if end == -1:
                    return None
                segment = path[1:end]
                if segment == "*":
                    parts.append("*")
                elif re.fullmatch(r"[+-]?[0-9]+", segment):  # strconv.ParseInt(segment, 10, 0)
                    parts.append(int(segment))
                else:
                    return None
                path = path[end + 1:]
        else:
            i = 0
            while i < len(path) and path[i] not in ".[":
                i += 1
            parts.append(path[:i])
            path = path[i:]
    return parts
