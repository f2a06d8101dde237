"""The provider of a package a component's children use, found as ComponentResource resolves it: `providers` (a list or
a dict by package), then `provider`, then the parent's; and the cluster a Kubernetes provider stands for."""
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


def kubernetes_provider(opts: Optional[pulumi.ResourceOptions]) -> Optional[pulumi.ProviderResource]:
    """The Kubernetes provider a component gets, as ComponentResource resolves it: `providers`, `provider`, then
    the parent's."""
    return provider_for(opts, "kubernetes")


def cluster_key(provider: pulumi.ProviderResource) -> tuple[str, str, str]:
    """One cluster within one deployment: the project, the stack and the Kubernetes provider's name (the name in its
    URN; through the component provider the provider arrives rehydrated from that URN, under the same name)."""
    return pulumi.get_project(), pulumi.get_stack(), getattr(provider, "_name", "") or "kubernetes"
