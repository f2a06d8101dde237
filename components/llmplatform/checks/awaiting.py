"""The late checks that one Construct of the component provider awaits before it answers."""
import contextvars
from typing import Any, Optional

import pulumi


# The late checks made during one Construct of the component provider (None elsewhere): it awaits them all before it
# answers, as the Python language host awaits every outstanding task before a program ends, so a check of a field
# no code reads still refuses (the SDK's Construct awaits only the outputs it returns and the RPCs under way).
CONSTRUCT_CHECKS: contextvars.ContextVar[Optional[list[pulumi.Output[Any]]]] = contextvars.ContextVar(
    "llmplatform_construct_checks", default=None)


def awaited(check: pulumi.Output[Any]) -> pulumi.Output[Any]:
    """`check`, awaited before the Construct that made it answers (nothing outside one)."""
    pending = CONSTRUCT_CHECKS.get()
    if pending is not None:
        pending.append(check)
    return check
