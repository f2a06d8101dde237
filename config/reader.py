"""A typed reader over raw config that records every problem instead of stopping at the first one."""
import math
import re
from typing import Any, Callable, Iterable, Optional

MAX_STRING = 253  # the longest DNS name; no setting of this program needs more
MAX_INT = 10 ** 15  # far above any count, size or duration here; keeps huge numbers out of int()/float()
_ASCII_INT = re.compile(r"-?[0-9]{1,16}")


def as_text(value: Any) -> Any:
    """A whole number where a string is expected, as its digits: `pulumi config set --path postgres.version 17` (and
    `cluster.zones[0] 1`) stores an integer, since the CLI types plain integers, and YAML reads `version: 17` as one.
    A float is left alone (refused): `1.30` would come back as "1.3"."""
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


class ConfigError(ValueError):
    """Every problem found in a stack's config, one per line."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__("invalid stack config:\n" + "\n".join(f"  - {p}" for p in self.problems))


_MISSING = object()
# the longest text a true/false key's refusal shows ('disabled', 'enabled', 'yes', 'off')
BOOL_TEXT_SHOWN = 8


def _without_credentials(text: str) -> str:
    """A URL's credential masked as the components mask it (llmplatform.rules.without_password)."""
    from llmplatform.rules import without_password  # here: ConfigError and the stack-file reader stay SDK-free
    return without_password(text)


def as_number(value: Any) -> Optional[float]:
    """A finite number written as one or as text (`pulumi config set --path` stores a decimal as a string), else
    None."""
    number = None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        number = float(value) if abs(value) <= MAX_INT else None
    elif isinstance(value, str) and re.fullmatch(r"-?[0-9]{1,16}(\.[0-9]{1,16})?", value.strip()):
        number = float(value)
    return number if number is not None and math.isfinite(number) else None


def describe(value: Any) -> str:
    """A value as a message shows it: bounded in length, never failing (a huge number has no safe str()), a URL's
    password (`https://user:secret@host`) as `***` (refusals go into CI logs)."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int) and abs(value) > MAX_INT:
        return "a number too large to be a setting"
    if isinstance(value, str):
        value = _without_credentials(value)
        return repr(value if len(value) <= 60 else value[:60] + "...")
    text = _without_credentials(repr(value) if isinstance(value, (list, dict)) else str(value))
    return text if len(text) <= 80 else text[:80] + "..."


def _withheld() -> str:
    """What a refusal shows in place of a value that may be a secret (llmplatform.rules.WITHHELD)."""
    from llmplatform.rules import WITHHELD  # here: ConfigError and the stack-file reader stay SDK-free
    return str(WITHHELD)


def _with_trailing_zero(value: float) -> str:
    """1.3 -> '1.30' (what a version such as Kubernetes' 1.30 read as a number was, most likely); 1.35 -> '1.35'."""
    text = repr(value)
    return text + "0" if re.fullmatch(r"\d+\.[1-9]", text) else text


class Reader:
    """Reads keys of one section (a dict) and appends a message to `problems` for each bad value."""

    def __init__(self, raw: Any, path: str, problems: list[str], withhold: bool = False,
                 root: Optional["Reader"] = None):
        self.path = path
        self.problems = problems
        self.root = root or self  # the stack's own keys' reader: which kind of stack this is, what it read at the top
        if raw is None:
            raw = {}
        if not isinstance(raw, dict):
            self.problem(f"{path} must be an object (key: value), got {_withheld() if withhold else describe(raw)}")
            raw = {}
        if not path:  # the stack's own keys
            raw = self._without_blank_keys(raw)
        self.raw = raw
        self._read: set[str] = set()

    def _without_blank_keys(self, raw: dict[str, Any]) -> dict[str, Any]:
        """A stack key left blank (`prefix:`, `~`, `null`) is refused, not read as its default or as a name: the
        Pulumi CLI hands the program a YAML null as the text "null" (pulumi/pulumi 1b5949891b
        sdk/go/common/resource/config/object.go `MarshalString`: a nil is marshalled as JSON), which a prefix,
        namespace or group name would take (a blank prefix named every resource rg-null-...); the offline reader
        gives the file's null itself."""
        blank = [name for name, value in raw.items() if value is None or value == "null"]
        for name in blank:
            self.problem(f"{name} has no value (a key left blank in the stack file, `~` or `null`, reaches the "
                         f"program as the text 'null'); give it a value or leave the key out")
        return {name: value for name, value in raw.items() if name not in blank}

    def key(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name

    def problem(self, message: str) -> None:
        self.problems.append(message)

    def _get(self, name: str) -> Any:
        self._read.add(name)
        return self.raw.get(name, _MISSING)

    def section(self, name: str, withhold: bool = False) -> "Reader":
        """`withhold`: a section whose values may be secrets or their names (not an object: the value not shown)."""
        self._read.add(name)
        return Reader(self.raw.get(name), self.key(name), self.problems, withhold, root=self.root)

    def has(self, name: str) -> bool:
        return name in self.raw

    def str_(self, name: str, default: Optional[str], allow_empty: bool = False,
             withhold: bool = False) -> Optional[str]:
        """A string; an empty one is an error unless empty is a documented value of the key. A whole number is
        taken as its digits (see `as_text`). `withhold`: a key naming a secret, whose refusals do not show the
        value (it may be the secret itself, pasted in place of its name)."""
        value = as_text(self._get(name))
        if value is _MISSING or value is None:
            return default
        if isinstance(value, float) and not withhold:  # YAML (and --set) read an unquoted 1.30 as the number 1.3
            self.problem(f"{self.key(name)} must be a string, got the number {describe(value)}: YAML reads an unquoted "
                         f"value like 1.30 as a number and drops its trailing zeros; quote it ({name}: "
                         f"\"{_with_trailing_zero(value)}\")")
            return default
        if not isinstance(value, str):
            self.problem(f"{self.key(name)} must be a string, got {_withheld() if withhold else describe(value)}")
            return default
        if value == "":
            if not allow_empty:
                self.problem(f"{self.key(name)} is empty; leave it out to use the default"
                             + (f" ({default!r})" if default else ""))
            return default
        if len(value) > MAX_STRING or not value.isprintable():
            shown = _withheld() if withhold else f"{describe(value[:40])}{'...' if len(value) > 40 else ''}"
            what = f"at most {MAX_STRING} printable characters" if len(value) > MAX_STRING else \
                "printable characters only (no newline, tab or other control character)"
            self.problem(f"{self.key(name)} must be {what}, got {shown}")
            return default
        return value

    def choice(self, name: str, default: str, allowed: Iterable[str]) -> str:
        allowed = list(allowed)
        value = self.str_(name, default)
        if value not in allowed:
            self.problem(f"{self.key(name)} {describe(value)} is invalid; allowed: {', '.join(allowed)}")
            return default
        return value

    def optional_choice(self, name: str, allowed: Iterable[str]) -> Optional[str]:
        """One of `allowed`, or None when the key is absent."""
        allowed = list(allowed)
        value = self.str_(name, None)
        if value is not None and value not in allowed:
            self.problem(f"{self.key(name)} {describe(value)} is invalid; allowed: {', '.join(allowed)}")
            return None
        return value

    def int_(self, name: str, default: int, minimum: Optional[int] = None, maximum: Optional[int] = None) -> int:
        value = self._get(name)
        if value is _MISSING or value is None:
            return default
        if isinstance(value, str) and _ASCII_INT.fullmatch(value.strip()):  # ASCII digits only, bounded length
            value = int(value.strip())
        if isinstance(value, float) and math.isfinite(value) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int) or abs(value) > MAX_INT:
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
        number = as_number(value)
        if number is None:
            self.problem(f"{self.key(name)} must be a finite number, got {describe(value)}")
            return default
        return number

    def bool_(self, name: str, default: bool) -> bool:
        value = self._get(name)
        if value is _MISSING or value is None:
            return default
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        if not isinstance(value, bool):
            # a long text where a switch belongs is more likely a pasted key (gateway.apiKeyAuth) than a word
            given = f"a text of {len(value)} characters, not shown" \
                if isinstance(value, str) and len(value) > BOOL_TEXT_SHOWN else describe(value)
            self.problem(f"{self.key(name)} must be true or false, got {given}")
            return default
        return value

    def str_list(self, name: str, default: tuple[str, ...], allowed: Iterable[str] = (),
                 withhold: bool = False, show: Callable[[str], str] = lambda text: text,
                 most: int = 100) -> tuple[str, ...]:
        """A list of strings; with `allowed`, each entry one of them. `withhold`: names of secrets, a refusal of
        the list's shape does not show it (see `str_`); else its strings are shown as `show` has them. At most
        `most` entries: a guard against a runaway list, raised where Azure takes more (the rule then says why)."""
        value = self._get(name)
        if value is _MISSING or value is None:
            return default
        value = [as_text(v) for v in value] if isinstance(value, list) else value
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            hint = (f" (a string: give each entry its own path, e.g. --set '{self.key(name)}[0]=...' or `pulumi "
                    f"config set --path '{self.key(name)}[0]' ...`)") if isinstance(value, str) else ""
            given = show(value) if isinstance(value, str) else \
                [show(v) if isinstance(v, str) else v for v in value] if isinstance(value, list) else value
            self.problem(f"{self.key(name)} must be a list of non-empty strings, got "
                         f"{_withheld() if withhold else describe(given)}{hint}")
            return default
        if len(value) > most or any(len(v) > MAX_STRING or not v.isprintable() for v in value):
            self.problem(f"{self.key(name)} must hold at most {most} entries of at most {MAX_STRING} printable "
                         f"characters")
            return default
        allowed = list(allowed)
        if allowed and any(v not in allowed for v in value):
            self.problem(f"{self.key(name)} {list(value)} may only contain {', '.join(allowed)}")
            return default
        return tuple(value)

    def entries(self, name: str, default: list[Any]) -> list[Any]:
        """A list whose entries the caller reads one by one (strings, or objects through `entry`); `default` when
        absent or refused."""
        value = self._get(name)
        if value is _MISSING or value is None:
            return list(default)
        if not isinstance(value, list):
            hint = (f" (a string: give each entry its own path, e.g. --set '{self.key(name)}[0]=...' or `pulumi "
                    f"config set --path '{self.key(name)}[0]' ...`)") if isinstance(value, str) else ""
            self.problem(f"{self.key(name)} must be a list, got {describe(value)}{hint}")
            return list(default)
        if len(value) > 100:
            self.problem(f"{self.key(name)} must hold at most 100 entries, got {len(value)}")
            return list(default)
        return value

    def entry(self, name: str, index: int) -> "Reader":
        """Entry `index` of the list `name` (given, and read with `entries`) as an object's reader, its keys named
        `<key>[<index>].<field>`."""
        return Reader(self.raw[name][index], f"{self.key(name)}[{index}]", self.problems, root=self.root)

    def declare(self, key: str, **facts: Any) -> None:
        """What the components' rules allow for a stack key (allowed=(...) or minimum=, maximum=): nothing to do
        when reading; the config reference generator records it (config/reference.py)."""

    def reject_unknown_keys(self) -> None:
        """A typo like `gpu.maxCont` is an error, not a silently ignored key. A name this section does not hold but
        another section of this kind of stack does (or its top level) is named there, and a close name of this
        section's own still follows it (`postgres.sizeGib`: the model share's `modelStore.sizeGib`, or this section's
        `storageSizeGb`, which the other section's name alone hid)."""
        from llmplatform.rules import nearest_names, nearest_or_all  # here: the stack-file reader stays SDK-free
        for name in sorted(set(self.raw) - self._read, key=str):
            elsewhere = self._elsewhere(name)
            near = nearest_names(name, sorted(self._read)) if elsewhere else []
            hint = (f"it is {elsewhere}" + (f" (or did you mean {' or '.join(repr(n) for n in near)}?)" if near else "")
                    if elsewhere else nearest_or_all(name, self._read))
            self.problem(f"{self.key(name)} is not a known key; {hint}")

    def _elsewhere(self, name: Any) -> str:
        """Where else a key named `name` is (`networkPolicy` given under `network` or at the top: "a key of another
        section: 'cluster.networkPolicy'"; `location` under `cluster`: "a top-level key: 'location'"), when one or two
        places hold it; "" when none or more (`enabled`: that says nothing). Only keys this kind of stack reads: a
        regional stack's sections and top-level keys, or the global stack's `global.*` and `cost.*` and the top-level
        keys it reads (the loaders choose by a `global` section, config/regions.py `is_global`): naming
        `global.regions` to a regional stack, or `cluster.networkPolicy` to the global one, sent the key where that
        stack refuses it."""
        from config.meanings import MEANING, SECTIONS  # the words of docs/configuration.md's tables: every stack key
        if not isinstance(name, str):
            return ""
        root = self.root
        is_global = "global" in root.raw
        here = self.key(name)
        sections = sorted(k for k in MEANING if "." in k and k.rsplit(".", 1)[1] == name and k != here
                          and (k.split(".", 1)[0] in ("global", "cost") if is_global else not k.startswith("global.")))
        # a top-level key this stack read before this section (each loader reads them first), not a section's name
        top = self is not root and name in root._read and name not in SECTIONS and name != "global"
        if not 0 < len(sections) + top <= 2:
            return ""
        places = [f"a key of another section: {' or '.join(repr(k) for k in sections)}"] if sections else []
        return ", or ".join(places + ([f"a top-level key: {name!r}"] if top else []))
