"""Stack names as the Pulumi CLI allows them; no SDK behind it, so the plan CLI refuses a bad name before it imports
one (offline/stacks.py), and the program checks the stack names its config gives (config/regions.py)."""
import re
from typing import Optional

# A stack name as the Pulumi CLI allows it (pulumi/pulumi 1b5949891b sdk/go/common/tokens/stack_name.go
# ParseStackName: not empty, at most 100 characters of `[A-Za-z0-9_.-]`, no slashes); '.' and '..' are refused as
# well, since tools make folders named after stacks and those two name the folder itself and its parent.
STACK_NAME = re.compile(r"[A-Za-z0-9_.-]{1,100}")
STACK_NAME_ALLOWED = "1-100 letters, digits, '_', '.' and '-', as the Pulumi CLI allows, and not '.' or '..'"


# An organization as a stack reference names it, <organization>/<project>/<stack> (pulumi/pulumi 1b5949891b
# pkg/backend/httpstate/backend.go stackOwnerRegexp, the owner rule of the Pulumi Cloud backend's ValidateStackName;
# its GetStackOutputs wants exactly two '/' in the name). A self-managed backend takes only 'organization'
# (pkg/backend/diy/store.go projectReferenceStore.ParseReference), which this allows.
ORGANIZATION = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_-]{1,38}[a-zA-Z0-9]")
ORGANIZATION_ALLOWED = ("3-40 letters, digits, '-' and '_', starting and ending with a letter or digit, as Pulumi "
                        "allows an organization in a stack reference (on a self-managed backend only "
                        "'organization')")


def organization_problem(name: str) -> Optional[str]:
    """Why `name` cannot be the organization of a stack reference (None when it can)."""
    return None if ORGANIZATION.fullmatch(name) else f"allowed: {ORGANIZATION_ALLOWED}"


def stack_name_problem(name: object) -> Optional[str]:
    """Why `name` cannot be a stack's name (None when it can)."""
    if isinstance(name, str) and STACK_NAME.fullmatch(name) and name not in (".", ".."):
        return None
    return f"stack name {name!r} is not valid: {STACK_NAME_ALLOWED}"


# The stacks the policy pack holds to prod's rules by their name (policy/policies.py PROD_STACKS and is_prod: the pack
# sees resources, not config, and keys prod on the stack in each URN); tests/config/test_loader.py keeps the two equal.
PROD_STACK_NAMES = ("prod", "global")


def is_prod_stack_name(name: str) -> bool:
    """Whether the policy pack judges a stack of this name as prod."""
    return name in PROD_STACK_NAMES or name.startswith("prod-")


def prod_name_problem(stack: str, environment: str) -> Optional[str]:
    """A stack the policy pack judges as prod by its name, configured as another environment (or none: Pulumi.yaml's
    default is dev): the config's prod rules would not apply, and the plan would be refused after planning by every
    prod policy at once (protection, the AKS tier, HTTPS, purge protection); None when the two agree."""
    if environment == "prod" or not is_prod_stack_name(stack):
        return None
    return (f"environment {environment!r} is invalid for stack {stack!r}; allowed: prod, since the policy pack "
            f"(`pulumi preview --policy-pack policy`, and the offline plan) holds stacks named "
            f"{', '.join(PROD_STACK_NAMES)} and prod-<region> to prod's rules and would refuse the plan; set "
            f"environment: prod, or give a {environment} stack another name")
