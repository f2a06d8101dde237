"""An earlier testing kit's stand-in ARM ids, and what the kit answers in their place now.

Kits before the vendored templates (llmplatform/data/arm_id_templates.json, commit "testing kit: real ARM ids")
gave every azure-native resource the id `/subscriptions/<sub>/resourceGroups/<group>/providers/Microsoft.<module>/
<Type>/<name>` (stand_ins `token_shaped_id`) and made its per-resource stand-ins of that id's digest: an identity's
principal and client ids, a cluster's kubelet identity and resourceUID, an address, a Front Door's id. The kit now
fills the type's ARM id template (stand_ins `arm_id`), so a base plan made by an earlier kit differs from a head
plan wherever such a value is an input: every role assignment's `scope` and `principalId` (both force-new in
pulumi-azure-native), a diagnostic setting's `resourceUri`, a pool's `vnetSubnetID`, a Kubernetes provider's
`clusterIdentifier` (a cluster's resourceUID), a fleet member's `clusterResourceId` (read from a regional stack).
None is real: `pulumi up` diffs the ids and outputs held in the state, which a kit changing its stand-ins does not
touch. Without this, a plan diff across the change listed 75 (dev), 84 (prod) and 100 (llmd) replacements, the
Kubernetes provider's among them.

`earlier_kit_pairs` maps each such earlier value to the one this kit gives the same resource: both computed from the
head plan's own resources (type, logical name, inputs) in each subscription the plans name, so a value is paired
only with the one of the same resource; a real move (another group, another name) computes another pair and is
still reported. `reshaped` reads an id no head resource made (another stack's output) by its shape alone.
"""
import re
from typing import Any, Iterable, Mapping

from llmplatform.testing.records import SUBSCRIPTION
from llmplatform.testing.stand_ins import arm_id, arm_id_template, azure_outputs, token_shaped_id

from .leaves import leaf_items

_TOKEN_SHAPED = re.compile(r"/subscriptions/([^/]+)/resourceGroups/([^/]+)/providers/Microsoft\.([a-z0-9]+)/"
                           r"([A-Za-z0-9]+)/([^/]+)")
_PARAMETER = re.compile(r"\{([^}]+)\}")
_SUBSCRIPTION_IN_ID = re.compile(r"/subscriptions/([0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12})")


def _subscriptions(resources: Iterable[dict[str, Any]]) -> set[str]:
    """The kit's own subscription and every one an id in the plans' inputs names (an explicit provider's)."""
    found = {SUBSCRIPTION}
    for resource in resources:
        for _, value in leaf_items(resource.get("inputs") or {}):
            if isinstance(value, str):
                found.update(_SUBSCRIPTION_IN_ID.findall(value))
    return found


def earlier_kit_pairs(old_res: Mapping[str, dict[str, Any]], new_res: Mapping[str, dict[str, Any]]) -> dict[str, str]:
    """Earlier kit's stand-in value -> this kit's, for each azure-native resource of the head plan."""
    pairs: dict[str, str] = {}
    subscriptions = _subscriptions([*old_res.values(), *new_res.values()])
    for resource in new_res.values():
        type_, inputs = resource.get("type", ""), resource.get("inputs") or {}
        if not type_.startswith("azure-native:") or resource.get("custom") is False:
            continue
        for subscription in sorted(subscriptions):
            was, was_name = token_shaped_id(type_, resource.get("name", ""), inputs, subscription)
            now, now_name = arm_id(type_, resource.get("name", ""), inputs, subscription)
            if was == now:
                continue
            pairs.setdefault(was, now)
            before = dict(leaf_items(azure_outputs(type_, inputs, was, was_name)))
            after = dict(leaf_items(azure_outputs(type_, inputs, now, now_name)))
            for path, value in before.items():  # `name` is the Azure name, not a stand-in
                if path != "name" and isinstance(value, str) and isinstance(after.get(path), str) \
                        and value != after[path]:
                    pairs.setdefault(value, after[path])
    return pairs


def as_this_kit_gives(value: str, pairs: Mapping[str, str]) -> str:
    """An earlier kit's value as this kit gives it: the value itself if it is one of theirs, else each earlier id
    within it (a scope under a resource, a `<cluster id>-agentpool`) replaced, longest first."""
    if value in pairs:
        return pairs[value]
    for was in sorted((k for k in pairs if k.startswith("/subscriptions/") and k in value), key=len, reverse=True):
        value = value.replace(was, pairs[was])
    return value


def reshaped(before: str, now: str) -> bool:
    """`before` an earlier kit's token-shaped id and `now` the same resource's id in its type's template: the same
    subscription, group (where the template has one) and name (its last parameter). For an id no resource of the
    head plan made: another stack's output read through a StackReference (a regional cluster's id in the global
    stack's fleet members)."""
    match = _TOKEN_SHAPED.fullmatch(before)
    if match is None:
        return False
    template = arm_id_template(f"azure-native:{match[3]}:{match[4]}")
    if template is None:
        return False
    parameters = _PARAMETER.findall(template)
    pattern = "".join(re.escape(part) if i % 2 == 0 else "(.+?)" if parameters[i // 2] in ("scope", "resourceUri")
                      else "([^/]+)" for i, part in enumerate(_PARAMETER.split(template)))
    filled = re.fullmatch(pattern, now, re.IGNORECASE)
    if filled is None:
        return False
    values = dict(zip(parameters, filled.groups()))
    own = parameters[-1] if template.endswith("}") else None
    return values.get("subscriptionId") == match[1] and values.get("resourceGroupName", match[2]) == match[2] \
        and (own is None or values[own] == match[5])


def same_stand_in(before: Any, now: Any, pairs: Mapping[str, str]) -> bool:
    """`before` an earlier kit's stand-in for what `now` is this kit's stand-in of."""
    return isinstance(before, str) and isinstance(now, str) and before != now and (
        as_this_kit_gives(before, pairs) == now or reshaped(before, now))
