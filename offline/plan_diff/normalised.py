"""Kubernetes quantities spelled anew: what the API server and pulumi-kubernetes make of `cpu: 1` -> `1000m`.

The API server stores a quantity (a request or limit, an emptyDir's sizeLimit, a claim's storage, a quota: every
field its schema types resource.Quantity) in the form llmplatform.rules `canonical_quantity` gives, one form for
most spellings of a value. pulumi-kubernetes (94977969, after v4.32.0; the same at v4.20.0)
provider/pkg/provider/provider.go `Check` and `Diff` -> `normalizeInputs` -> provider/pkg/clients unstructured.go
`Normalize` read a built-in kind's new inputs into its Go type and back, which writes each quantity in that form,
and `Diff` compares them with the live object (in that form too): two spellings of one stored form are no change, so
`pulumi preview` and `pulumi up` show no update and send nothing (when no input is unknown: an unknown skips the
normalising). Two spellings of one value in other forms (`1Gi` and `1073741824`) are an update, which the API server
stores; a Deployment compares its template by value (kubernetes pkg/registry/apps/deployment/strategy.go
`PrepareForUpdate` and pkg/controller/deployment/util `EqualIgnoreHash`: apiequality.Semantic, whose Quantity
equality is `a.Cmp(b) == 0`), so it keeps its generation and ReplicaSet and restarts no pod, and so does a DaemonSet
(its template generation kept, which its pods' label matches: rollouts.py); a StatefulSet's revision compares the
stored bytes (pkg/controller/history `EqualRevision`: `bytes.Equal(lhs.Data.Raw, rhs.Data.Raw) && ...`), so it takes
a new revision and rolls its pods. The stored form is the spelling itself where the API server's parser keeps it
(`+4`, `2.500`, `1E3`: `canonical_quantity`), an update then too."""
from typing import Any, Iterator

from pulumi.runtime.rpc import UNKNOWN

from config.quantities import canonical_quantity, parse_quantity
from llmplatform.kubernetes_schemas import is_quantity

from .leaves import leaf_items, leaf_keys


def _quantity_changes(old_inputs: dict[str, Any], new_inputs: dict[str, Any],
                      paths: list[str]) -> Iterator[tuple[str, Any, Any]]:
    """(path, old value, new value) of each changed path at a Quantity field of the built-in object, both sides a
    quantity."""
    olds = {path: (keys, value) for path, keys, value in leaf_keys(old_inputs)}
    news = {path: (keys, value) for path, keys, value in leaf_keys(new_inputs)}
    for path in paths:
        if path in olds and path in news and is_quantity(new_inputs, news[path][0]):
            before, after = olds[path][1], news[path][1]
            if not isinstance(before, bool) and not isinstance(after, bool):
                yield path, before, after


def stored_alike(old_inputs: dict[str, Any], new_inputs: dict[str, Any], paths: list[str]) -> dict[str, str]:
    """Each changed path whose old and new quantities the API server stores alike -> what the check says of it
    (`` `...cpu` 4 -> `4000m` ``, both stored `4`): no change for pulumi-kubernetes' Diff."""
    if any(value == UNKNOWN for _, value in leaf_items(new_inputs)):  # Diff then compares them as given
        return {}
    found = {}
    for path, before, after in _quantity_changes(old_inputs, new_inputs, paths):
        stored = canonical_quantity(str(before))
        if stored is not None and stored == canonical_quantity(str(after)):
            found[path] = f"`{path}` `{before}` -> `{after}`, both stored `{stored}`"
    return found


def same_value(old_inputs: dict[str, Any], new_inputs: dict[str, Any], paths: list[str]) -> list[str]:
    """The changed paths whose quantities are one value, each side stored in its own form (`1Gi`, `1073741824`)."""
    return [path for path, before, after in _quantity_changes(old_inputs, new_inputs, paths)
            if parse_quantity(str(before)) is not None and parse_quantity(str(before)) == parse_quantity(str(after))]
