"""Stack names as the Pulumi CLI allows them; no SDK behind it, so the plan CLI refuses a bad name before it imports
one (offline/stacks.py), and the program checks the stack names its config gives (config/regions.py)."""
import re
from typing import Optional

# A stack name as the Pulumi CLI allows it (pulumi/pulumi pkg/backend/filestate/backend.go validateStackName:
# `^[A-Za-z0-9_.-]{1,100}$`, no slashes); '.' and '..' are refused as well, since tools make folders named after
# stacks and those two name the folder itself and its parent.
STACK_NAME = re.compile(r"[A-Za-z0-9_.-]{1,100}")
STACK_NAME_ALLOWED = "1-100 letters, digits, '_', '.' and '-', as the Pulumi CLI allows, and not '.' or '..'"


def stack_name_problem(name: object) -> Optional[str]:
    """Why `name` cannot be a stack's name (None when it can)."""
    if isinstance(name, str) and STACK_NAME.fullmatch(name) and name not in (".", ".."):
        return None
    return f"stack name {name!r} is not valid: {STACK_NAME_ALLOWED}"
