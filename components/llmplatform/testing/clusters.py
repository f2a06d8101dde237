"""Which cluster a Kubernetes object or release reaches: its provider's kubeconfig's API server, so two providers of
one cluster are one cluster."""
import functools
from typing import Any, Optional

import yaml

from .records import Registration


def _clusters(resources: list[Registration]) -> dict[str, str]:
    """Kubernetes provider (`urn::id`, as resources name it) -> the cluster it reaches: its kubeconfig's API server,
    so two providers of one cluster are one cluster; a provider whose kubeconfig names none stands for itself."""
    found = {}
    for reg in resources:
        if reg.type != "pulumi:providers:kubernetes":
            continue
        server = _api_server(str(reg.inputs.get("kubeconfig") or ""))
        if server is not None:
            found[reg.urn] = server
    return found


@functools.lru_cache(maxsize=64)
def _api_server(kubeconfig: str) -> Optional[str]:
    """A kubeconfig's first cluster's API server, or None when it names none; parsed once per kubeconfig (the same
    few kubeconfigs come back in every run of a process)."""
    try:
        config = yaml.safe_load(kubeconfig) or {}
        return str(config["clusters"][0]["cluster"]["server"])
    except (yaml.YAMLError, KeyError, IndexError, TypeError):
        return None


def _cluster_of(reg: Registration, clusters: dict[str, str]) -> Any:
    """The cluster a resource's Kubernetes provider reaches (its API server, `_clusters`), else the provider
    reference itself (`urn::id`), None without one."""
    provider = reg.options.get("provider")
    return clusters.get(provider.rsplit("::", 1)[0], provider) if isinstance(provider, str) else provider
