"""refuse_now: every problem of what is known when the program runs, at once, as one ComponentInputError: the
inputs' shapes, the component's value rules (input_rules.RULES), the name an unset name_prefix falls back to."""
from typing import Any, Callable, Mapping, Optional

from ..azure_names import azure_name_start
from ..errors import ComponentInputError
from ..input_rules import RULES
from ..rules import Problem, has_output, within
from .shapes import _shape


Rules = Callable[[Mapping[str, Any]], list[Problem]]


def refuse_now(component: str, name: str, args: Any, args_type: type, rules: Optional[Rules] = None,
               prefix_rule: Callable[[str], Optional[str]] = azure_name_start) -> None:
    """check_shape's checks of what is known now, without making late checks of the outputs (a late check that
    runs them again once a handle resolved: the other outputs already have theirs)."""
    problems: list[tuple[str, str]] = []
    typed: list[tuple[str, str]] = []  # plain values of the wrong type: a rule's own words for the path win
    _shape(args, args_type, "", problems, typed)
    lines = [f"{path or 'args'}: {why}" for path, why in problems]
    rules = rules or RULES.get(component)
    if rules is not None:
        try:
            found = rules(args if isinstance(args, Mapping) else {})
        except (TypeError, KeyError, AttributeError, ValueError):
            if not problems and not typed:  # a rule that fails on well-shaped inputs is a defect: show it
                raise
            found = []  # inputs of the wrong shape: their shape problems are the message
        shaped = [path for path, _ in problems]
        for problem in found:
            # a rule's verdict on a list or map holding an output item refused by path ("[<output>] is invalid")
            # is the output's: the refusal says it
            if not any(within(problem.path, p) or has_output(problem.value) and within(p, problem.path)
                       for p in shaped):
                problems.append((problem.path, problem.reason()))
                lines.append(problem.sentence())
    ruled = [path for path, _ in problems]
    for path, why in typed:
        if not any(within(path, p) or within(p, path) for p in ruled):
            problems.append((path, why))
            lines.append(f"{path}: {why}")
    # a component without `name_prefix` names its Azure resources after its own resource name: held to a name rule
    keys = getattr(args_type, "__required_keys__", frozenset()) | getattr(args_type, "__optional_keys__", frozenset())
    if "name_prefix" in keys and isinstance(args, Mapping) and "name_prefix" not in args:
        wrong = prefix_rule(name)
        if wrong:
            problems.append(("name_prefix", f"not given, so the resource name {name!r} is the prefix of its Azure "
                                            f"names; allowed: {wrong}"))
            lines.append(f"name_prefix is not given, so the resource name {name!r} names its Azure resources; "
                         f"give a name_prefix ({wrong})")
    if problems:
        raise ComponentInputError(f"{component} {name}: {'; '.join(lines)}", problems=problems)
