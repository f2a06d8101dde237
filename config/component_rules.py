"""The components' own input rules run on the stack's values, each problem named by its stack key: the package is
the one source of every rule about a component's input (ranges, choices, Azure names, networks, inputs that
contradict each other); config/ adds only what is about a stack."""
import re
from typing import Any, Callable, Mapping

from llmplatform.input_rules import problems_of
from llmplatform.rules import within

from .reader import Reader, describe

# an input's name, or a quoted key of a map input (a name the user wrote as it is: kept)
_IDENTIFIER = re.compile(r"""(\[(?:'[^']*'|"[^"]*")\])|[a-z][a-z0-9_]*""")


def camel(path: str) -> str:
    """`system_pool.min_count` -> `systemPool.minCount` (the stack config's spelling); a map's keys as given
    (`insights_agent_settings['log_collection_settings']` -> `insightsAgentSettings['log_collection_settings']`)."""
    def one(match: "re.Match[str]") -> str:
        if match.group(1):
            return match.group(1)
        head, *rest = match.group().split("_")
        return head + "".join(p[:1].upper() + p[1:] for p in rest)
    return _IDENTIFIER.sub(one, path)


def keys(section: str, renames: Mapping[str, str] = {}) -> Callable[[str], str]:
    """Component input path -> stack key: a renamed input (or its subtree), else `<section>.<camelCase path>`."""
    def key(path: str) -> str:
        for old, new in renames.items():
            if within(path, old):
                return new + camel(path[len(old):])
        return f"{section}.{camel(path)}" if section else camel(path)
    return key


def check(r: Reader, component: str, args: dict[str, Any], key: Callable[[str], str],
          skip: tuple[str, ...] = ()) -> None:
    """Record every problem `component`'s rules find in `args`, named by stack key (`skip`: inputs the config
    reports in a stack's own words)."""
    found = problems_of(component, args)
    for problem in found:
        if problem.path.split(".")[0].split("[")[0] in skip:
            continue
        r.problem(f"{key(problem.path)} {describe(problem.value)} is invalid; allowed: {problem.allowed_text(key)}")
    for path, facts in getattr(found, "declared", {}).items():  # the limits the rules applied, for the reference
        if path in args or path.split(".")[0] in args:
            r.declare(key(path), **facts)
