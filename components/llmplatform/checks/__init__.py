"""Input checks every component runs on itself: the error names the component, the input, the value and what is
allowed, before any child resource is registered. The stack's config layer reuses the same allowed values.

The error is a `pulumi.InputPropertiesError` carrying the property path, so the component provider hands it to
other languages as a per-property error (the engine prints the path and the reason) instead of a traceback.

The parts: `component_args` (`check_shape`, the first check of a component's Args), `known_now` (what is known
when the program runs), `shapes`, `plain_values`, `annotations` and `handle_types` (what an Args TypedDict allows),
`late_values`, `rechecks` and `awaiting` (inputs given as Outputs, checked once they resolve), `late_handles`
(`late_rules`, `late_rules_of` and the handle fields they read), `messages` (a value shown or hidden in a problem's reason),
`refusals` (`fail` and the other checks a component makes itself), `documented_calls` (`called_as_documented`).
"""

from ..errors import ComponentInputError, LateInputError
from .awaiting import CONSTRUCT_CHECKS, awaited
from .component_args import check_shape, given
from .documented_calls import called_as_documented
from .handle_types import component_given, handed_out, other_handle
from .known_now import Rules, refuse_now
from .late_handles import (CLUSTER_SUBNET_FIELDS, DRAIN_FIELDS, ENDPOINT_FIELDS, EXPANDER_FIELDS, GPU_FIELDS, KEDA_FIELDS,
                           NAMESPACE_FIELDS, ROUTE_FIELDS, ROUTER_RANGE_FIELDS, SERVER_TIMEOUT_FIELDS, VOLUME_FIELDS,
                           after_check,
                           handle_after_check, late_rules, late_rules_of)
from .late_values import EMPTY_IS_A_VALUE, PRESENCE_DECIDES, given_once_resolved, late_shapes
from .messages import hidden
from .rechecks import Recheck
from .refusals import fail, fail_when_known, in_range, one_of, problems_message, raise_problems, required
from .shapes import HANDLE_VALUE_RULES

__all__ = ["CLUSTER_SUBNET_FIELDS", "CONSTRUCT_CHECKS", "DRAIN_FIELDS", "ComponentInputError", "EMPTY_IS_A_VALUE", "ENDPOINT_FIELDS",
           "EXPANDER_FIELDS", "GPU_FIELDS", "HANDLE_VALUE_RULES", "KEDA_FIELDS", "LateInputError", "NAMESPACE_FIELDS",
           "PRESENCE_DECIDES",
           "ROUTE_FIELDS", "ROUTER_RANGE_FIELDS", "Recheck", "SERVER_TIMEOUT_FIELDS", "Rules", "VOLUME_FIELDS",
           "after_check", "awaited",
           "called_as_documented", "check_shape", "component_given", "fail", "fail_when_known", "given",
           "given_once_resolved", "handed_out", "handle_after_check", "hidden", "in_range", "late_rules", "late_rules_of",
           "late_shapes", "one_of", "other_handle", "problems_message", "raise_problems", "refuse_now", "required"]
