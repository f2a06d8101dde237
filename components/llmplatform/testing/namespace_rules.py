"""The namespaces a plan's objects go into and the ones it creates (Namespace objects, releases with
createNamespace, yaml/v2 bundles, the namespaces AKS makes for a cluster's add-ons): the kit's advice on a
namespace nothing creates, and the deploy model's `namespace` rule, read from the same functions."""
import contextlib
import glob
import itertools
from typing import Any

import pulumi
import yaml

from ..kubernetes_schemas import CLUSTER_SCOPED, group_of
from .clusters import _cluster_of, _clusters
from .records import HELM_RELEASE, Registration, reached


# Namespaces every cluster has before a program runs (kube-apiserver's system namespaces controller).
SYSTEM_NAMESPACES = frozenset({"default", "kube-system", "kube-public", "kube-node-lease"})


_MANAGED_CLUSTER = "azure-native:containerservice:ManagedCluster"


def _namespace_input(reg: Registration) -> Any:
    return reg.inputs.get("namespace") if reg.type == HELM_RELEASE else \
        (reg.inputs.get("metadata") or {}).get("namespace")


def _unknown(value: Any) -> bool:
    """A value not known yet (an output of a resource to be created, in a preview)."""
    return isinstance(value, pulumi.output.Unknown)


def namespace_of(reg: Registration) -> str:
    """The namespace a Kubernetes object or Helm release is created in ('' for a cluster-scoped kind, none given
    (the provider's default namespace) or another resource)."""
    if reg.type == HELM_RELEASE:
        return str(reg.inputs.get("namespace") or "")
    if not reg.is_kubernetes_object or (group_of(str(reg.inputs["apiVersion"])), reg.inputs.get("kind")) \
            in CLUSTER_SCOPED:
        return ""
    return str((reg.inputs.get("metadata") or {}).get("namespace") or "")


_YAML_BUNDLES = ("kubernetes:yaml/v2:ConfigGroup", "kubernetes:yaml/v2:ConfigFile")


def _bundle_documents(reg: Registration) -> list[Any]:
    """The objects a yaml/v2 ConfigGroup or ConfigFile creates, as far as the plan shows them: its `objs`, its `yaml`
    text and its local `files`/`file` (read as its provider reads them, relative to the program's directory; a URL or
    a glob matching nothing gives none)."""
    docs: list[Any] = list(reg.inputs.get("objs") or [])
    texts = [reg.inputs["yaml"]] if isinstance(reg.inputs.get("yaml"), str) else []
    paths = [reg.inputs["file"]] if isinstance(reg.inputs.get("file"), str) else list(reg.inputs.get("files") or [])
    for pattern in paths:
        if isinstance(pattern, str) and "://" not in pattern:
            for path in sorted(glob.glob(pattern)):
                with contextlib.suppress(OSError, UnicodeDecodeError):
                    with open(path, encoding="utf-8") as handle:
                        texts.append(handle.read())
    for text in texts:
        with contextlib.suppress(yaml.YAMLError):
            docs.extend(yaml.safe_load_all(text))
    return docs


def _namespaces_created(reg: Registration) -> list[str]:
    """The namespaces a resource creates: a Namespace object (one the program leaves unnamed by the name the kit's
    stand-in gives it, its resource name), a Helm release with createNamespace, the Namespace objects of a yaml/v2
    bundle."""
    if reg.is_kubernetes_object:
        docs = [{**reg.inputs, "metadata": {"name": reg.name, **(reg.inputs.get("metadata") or {})}}]
    elif reg.type == HELM_RELEASE:
        return [namespace_of(reg)] if reg.inputs.get("createNamespace") is True else []
    elif reg.type in _YAML_BUNDLES:
        docs = _bundle_documents(reg)
    else:
        return []
    return [str(doc["metadata"]["name"]) for doc in docs
            if isinstance(doc, dict) and doc.get("kind") == "Namespace" and doc.get("apiVersion") == "v1"
            and isinstance(doc.get("metadata"), dict) and doc["metadata"].get("name")]


def _at(value: Any, *path: str) -> Any:
    """The value at a path of nested objects; None where a step is missing or not an object."""
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    return value


def _enabled(value: Any, *path: str) -> bool:
    return _at(value, *path) is True


def _items(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _addon_namespaces(reg: Registration) -> list[str]:
    """The namespaces AKS itself creates in a ManagedCluster for the add-ons its create turns on: Azure Policy's
    Gatekeeper (`gatekeeper-system`), application routing (`app-routing-system`), the Istio add-on (`aks-istio-system`,
    and `aks-istio-ingress` / an egress gateway's namespace, `aks-istio-egress` by default, for its gateways)."""
    if reg.type != _MANAGED_CLUSTER:
        return []
    inputs = reg.inputs
    found = ["gatekeeper-system"] if _enabled(inputs, "addonProfiles", "azurepolicy", "enabled") else []
    if _enabled(inputs, "ingressProfile", "webAppRouting", "enabled"):
        found.append("app-routing-system")
    if _at(inputs, "serviceMeshProfile", "mode") == "Istio":
        found.append("aks-istio-system")
        components = _at(inputs, "serviceMeshProfile", "istio", "components")
        if any(_enabled(g, "enabled") for g in _items(_at(components, "ingressGateways"))):
            found.append("aks-istio-ingress")
        found += [str(g.get("namespace") or "aks-istio-egress") for g in _items(_at(components, "egressGateways"))
                  if _enabled(g, "enabled")]
    return found


def clusters_made_from(provider: Registration, by_urn: dict[str, Registration]) -> set[str]:
    """The ManagedClusters a Kubernetes provider is made from: those it depends on, directly or through other
    resources (a kubeconfig read after an agent pool of the cluster, say), the walk stopping at a ManagedCluster, so
    a cluster made after another one does not pass the first one's add-ons on to the second's provider."""
    return {reg.urn for reg in reached(provider.dependencies, by_urn.get, lambda reg: reg.type == _MANAGED_CLUSTER)}


def namespaces(resources: list[Registration]) -> tuple[dict[tuple[Any, str], list[Registration]],
                                                         list[tuple[Registration, tuple[Any, str]]]]:
    """Per (cluster, namespace): the resources that create it (`_namespaces_created`; a ManagedCluster its add-ons'
    namespaces, on the cluster its Kubernetes providers reach, those made from it, `clusters_made_from`); and each
    resource placed in a namespace a cluster does not have from the start, with its (cluster, namespace)."""
    clusters = _clusters(resources)
    by_urn = {r.urn: r for r in resources}
    made_from = {urn: clusters_made_from(by_urn[urn], by_urn) for urn in clusters}
    creators: dict[tuple[Any, str], list[Registration]] = {}
    placed: list[tuple[Registration, tuple[Any, str]]] = []
    for reg in resources:
        if added := _addon_namespaces(reg):
            reached = {clusters[urn] for urn, made in made_from.items() if reg.urn in made}
            for cluster, created in itertools.product(reached, added):
                creators.setdefault((cluster, created), []).append(reg)
        cluster = _cluster_of(reg, clusters)
        for created in _namespaces_created(reg):
            creators.setdefault((cluster, created), []).append(reg)
        namespace = namespace_of(reg)
        # a namespace not known yet (a preview: the Namespace's name is an output) is no namespace to advise on
        if namespace and namespace not in SYSTEM_NAMESPACES and not _unknown(_namespace_input(reg)):
            placed.append((reg, (cluster, namespace)))
    return creators, placed


def uncreated_namespaces(resources: list[Registration]) -> list[str]:
    """Advice, not a refusal: resources put in a namespace nothing of the program creates (a ModelStore given
    `team` beside no AppNamespace `team`). It works only if the namespace exists before `pulumi up`: the API server
    refuses a create into a missing namespace, which pulumi-kubernetes retries for 31 s, and Helm refuses it."""
    creators, placed = namespaces(resources)
    missing: dict[tuple[Any, str], list[Registration]] = {}
    for reg, key in placed:
        if key not in creators:
            missing.setdefault(key, []).append(reg)
    twice = {namespace for _, namespace in missing if sum(1 for _, n in missing if n == namespace) > 1}

    def where(cluster: Any, namespace: str) -> str:  # a namespace missing on two clusters: each named by its own
        return f"namespace {namespace}" + (f" on cluster {cluster}" if namespace in twice else "")

    def who(regs: list[Registration]) -> str:
        names = [r.name for r in regs]
        if len(names) == 1:
            return f"{names[0]} goes"
        shown = ", ".join(names[:3]) if len(names) <= 3 else f"{', '.join(names[:3])} and {len(names) - 3} more"
        return f"{shown} go"
    return [f"{where(cluster, namespace)}: {who(regs)} there, and nothing in this program creates it: it must exist "
            "before `pulumi up`, or create it (an AppNamespace, a Namespace object) and depend on it"
            for (cluster, namespace), regs in missing.items()]
