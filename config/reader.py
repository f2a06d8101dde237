"""A typed reader over raw config that records every problem instead of stopping at the first one."""
from __future__ import annotations

from typing import Any, Iterable, Optional


class ConfigError(ValueError):
    """Every problem found in a stack's config, one per line."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__("invalid stack config:\n" + "\n".join(f"  - {p}" for p in self.problems))


_MISSING = object()


def describe(value: Any) -> str:
    return repr(value) if isinstance(value, str) else str(value).lower() if isinstance(value, bool) else str(value)


class Reader:
    """Reads keys of one section (a dict) and appends a message to `problems` for each bad value."""

    def __init__(self, raw: Any, path: str, problems: list[str]):
        self.path = path
        self.problems = problems
        if raw is None:
            raw = {}
        if not isinstance(raw, dict):
            self.problem(f"{path} must be an object (key: value), got {describe(raw)}")
            raw = {}
        self.raw = raw
        self._read: set[str] = set()

    def key(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name

    def problem(self, message: str) -> None:
        self.problems.append(message)

    def _get(self, name: str) -> Any:
        self._read.add(name)
        return self.raw.get(name, _MISSING)

    def section(self, name: str) -> "Reader":
        self._read.add(name)
        return Reader(self.raw.get(name), self.key(name), self.problems)

    def has(self, name: str) -> bool:
        return name in self.raw

    def str_(self, name: str, default: Optional[str]) -> Optional[str]:
        value = self._get(name)
        if value is _MISSING or value is None or value == "":
            return default
        if not isinstance(value, str):
            self.problem(f"{self.key(name)} must be a string, got {describe(value)}")
            return default
        return value

    def choice(self, name: str, default: str, allowed: Iterable[str]) -> str:
        allowed = list(allowed)
        value = self.str_(name, default)
        if value not in allowed:
            self.problem(f"{self.key(name)} {describe(value)} is not allowed; allowed: {', '.join(allowed)}")
            return default
        return value

    def int_(self, name: str, default: int, minimum: Optional[int] = None, maximum: Optional[int] = None) -> int:
        value = self._get(name)
        if value is _MISSING or value is None:
            return default
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            value = int(value)
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            self.problem(f"{self.key(name)} must be a whole number, got {describe(value)}")
            return default
        if minimum is not None and value < minimum:
            self.problem(f"{self.key(name)} ({value}) must be >= {minimum}")
        if maximum is not None and value > maximum:
            self.problem(f"{self.key(name)} ({value}) must be <= {maximum}")
        return value

    def float_(self, name: str, default: float) -> float:
        value = self._get(name)
        if value is _MISSING or value is None:
            return default
        try:
            if isinstance(value, bool):
                raise ValueError
            return float(value)
        except (TypeError, ValueError):
            self.problem(f"{self.key(name)} must be a number, got {describe(value)}")
            return default

    def bool_(self, name: str, default: bool) -> bool:
        value = self._get(name)
        if value is _MISSING or value is None:
            return default
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        if not isinstance(value, bool):
            self.problem(f"{self.key(name)} must be true or false, got {describe(value)}")
            return default
        return value

    def str_list(self, name: str, default: tuple[str, ...]) -> tuple[str, ...]:
        value = self._get(name)
        if value is _MISSING or value is None:
            return default
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.problem(f"{self.key(name)} must be a list of strings, got {describe(value)}")
            return default
        return tuple(value)

    def reject_unknown_keys(self) -> None:
        """A typo like `gpu.maxCont` is an error, not a silently ignored key."""
        for name in sorted(set(self.raw) - self._read):
            self.problem(f"{self.key(name)} is not a known key; known: {', '.join(sorted(self._read))}")
