"""The error every component raises for an input it cannot build from (its own module: the rules and data modules
that raise it sit below `checks`, which imports them)."""
from typing import Optional

import pulumi


class ComponentInputError(pulumi.InputPropertiesError, pulumi.RunError, ValueError):
    """An input a component cannot build from. `errors` holds the property paths (dotted Python input names, as the
    component reads them) and reasons; the message is the whole sentence a Python user reads. A RunError too: the
    Python language host prints a RunError's message alone, any other exception with its traceback (the component
    provider answers with the property errors instead)."""

    def __init__(self, message: str, property_path: Optional[str] = None, reason: Optional[str] = None,
                 problems: Optional[list[tuple[str, str]]] = None):
        found = list(problems or []) or ([(property_path, reason or message)] if property_path else [])
        errors = [{"property_path": path, "reason": why} for path, why in found] or None
        super().__init__(message, errors)  # type: ignore[arg-type]


class LateInputError(pulumi.RunError):
    """An input found wrong only once an output it arrived in resolved (a handle from another language comes as one
    output): raised inside an apply, where the Pulumi SDK wraps a ValueError in its own "While processing ..."
    ValueErrors (`pulumi/runtime/rpc.py`, `resource.py`), which the language host prints with a traceback. A
    RunError that is no ValueError reaches the user as its message alone, the same sentence as ComponentInputError's."""

    def __init__(self, message: str, problems: Optional[list[tuple[str, str]]] = None):
        super().__init__(message)
        self.message = message
        self.problems = list(problems or [])
        """(property path, reason) of each problem, Python names: the component provider hands them on as
        per-property errors, as it does a ComponentInputError's."""

    @classmethod
    def of(cls, error: ComponentInputError) -> "LateInputError":
        """The early check's refusal `error`, raised where a value resolved: the same words and problems."""
        return cls(str(error), [(e["property_path"], e["reason"]) for e in error.errors or []])
