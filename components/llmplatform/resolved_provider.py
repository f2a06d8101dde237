"""The provider of a package a component's children use, found as ComponentResource resolves it: `providers` (a list or
a dict by package), then `provider`, then the parent's."""
from typing import Mapping, Optional

import pulumi


def provider_for(opts: Optional[pulumi.ResourceOptions], package: str) -> Optional[pulumi.ProviderResource]:
    """The `package` provider `opts` give a component, or None (the default provider; no options, or not options:
    the component's own init refuses those). As Resource._get_providers (pulumi 3.272.0, resource.py) merges them for
    the children: a list is read as {p.package: p for p in providers}, so of two providers of one package the last
    is the one; `provider` only where `providers` has none of its package; then the parent's `_providers`."""
    if not isinstance(opts, pulumi.ResourceOptions):
        return None
    given = opts.providers
    found = given.get(package) if isinstance(given, Mapping) else next(
        (p for p in reversed(list(given or [])) if getattr(p, "package", None) == package), None)
    if found is None and getattr(opts.provider, "package", None) == package:
        found = opts.provider
    if found is None and opts.parent is not None:
        found = (getattr(opts.parent, "_providers", None) or {}).get(package)
    return found
