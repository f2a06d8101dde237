"""Test a program that composes llmplatform components, offline, as this repository tests its own.

    from llmplatform.testing import run

    def test_my_platform():
        plan = run(my_program)                    # your program as a function, under the Pulumi SDK's mocks
        pools = plan.of_type("azure-native:containerservice:AgentPool")
        assert ...

`run` answers the invokes the components make (cluster credentials, client config, storage keys) with stand-ins,
records every registration with its inputs, dependencies and options, and refuses what the real engine or Azure /
Kubernetes would refuse but the SDK's mocks accept: two resources with one URN, one Azure or Kubernetes name
claimed twice, two HTTPRoutes matching the same requests on one Gateway listener (the Gateway silently serves the
older), a model server behind the KEDA interceptor whose Host no InterceptorRoute claims (it answers 404), an Azure
input of the wrong type, outside a closed enum or under a key its type does not have (a
dict literal's typo, which azure-native would drop) (ProgramError, naming them all). A program that stops with `pulumi.RunError` raises ProgramError; a
component's refused input raises its `ComponentInputError` (property path and message) as it is. `plan.warnings`
holds the program's warnings and the kit's advice on what works but misses something (an Ollama server that
Observability's OllamaDown alert does not watch; objects in a namespace nothing of the program creates).
Each run has a fresh event loop and context, so one pytest process can run many programs.
"""

import asyncio
import base64
import concurrent.futures
import contextlib
import contextvars
import functools
import glob
import hashlib
import itertools
import json
import logging
import re
import weakref
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Optional

import yaml
from google.protobuf import json_format

import pulumi
from pulumi import resource as pulumi_sdk_resource
from pulumi.runtime import mocks as pulumi_mocks, resource as pulumi_resource, rpc, settings as pulumi_settings
from pulumi.runtime.proto import source_pb2
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from . import azure_inputs, subnet_ranges, write_order
from .checks import ComponentInputError
from .inference_specs import SCALED_SERVICE, scaled_host
from .kubernetes_schemas import CLUSTER_SCOPED, group_of
from .mappings import whole_numbers

HELM_RELEASE = "kubernetes:helm.sh/v3:Release"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
SIG_KEY = "4dabf18193072939515e22adb298388d"
SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"
TENANT = "11111111-1111-1111-1111-111111111111"
DEPLOYER = "22222222-2222-2222-2222-222222222222"


class ProgramError(Exception):
    """The program stopped with a clean error (a pulumi.RunError, e.g. a config problem)."""

    def __init__(self, message: str, registered: int):
        super().__init__(message)
        self.registered = registered


@dataclass
class Registration:
    urn: str
    type: str
    name: str
    parent: str
    custom: bool
    inputs: dict[str, Any]
    secret_paths: list[str]
    dependencies: list[str]
    options: dict[str, Any]

    @property
    def is_kubernetes_object(self) -> bool:
        return (self.type.startswith("kubernetes:") and not self.type.startswith("kubernetes:helm.sh")
                and "apiVersion" in self.inputs)


@dataclass
class Plan:
    project: str
    stack: str
    resources: list[Registration] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)
    secret_outputs: list[str] = field(default_factory=list)

    def of_type(self, type_: str) -> list[Registration]:
        return [r for r in self.resources if r.type == type_]

    def one(self, type_: str, name: Optional[str] = None) -> Registration:
        found = [r for r in self.of_type(type_) if name is None or r.name == name]
        if len(found) != 1:
            raise AssertionError(f"expected one {type_} {name or ''}, found {[r.name for r in found]}")
        return found[0]

    def by_urn(self, urn: str) -> Optional[Registration]:
        return next((r for r in self.resources if r.urn == urn), None)

    def waits_for(self, reg: Registration, predicate: Callable[[Registration], bool]) -> bool:
        """Whether reg waits, directly or through what it waits for, on a resource the predicate picks."""
        seen: set[str] = set()
        pending = list(reg.dependencies)
        while pending:
            urn = pending.pop()
            dep = None if urn in seen else self.by_urn(urn)
            seen.add(urn)
            if dep is not None:
                if predicate(dep):
                    return True
                pending.extend(dep.dependencies)
        return False

    def kubernetes_objects(self) -> list[Registration]:
        return [r for r in self.resources if r.is_kubernetes_object]

    def helm_releases(self) -> list[Registration]:
        return self.of_type(HELM_RELEASE)

    def component_of(self, reg: Registration) -> Optional[Registration]:
        """The outermost component above a resource (None for resources right under the stack)."""
        top, current = None, self.by_urn(reg.parent)
        while current is not None:
            top = current
            current = self.by_urn(current.parent)
        return top



# ---- mocks ------------------------------------------------------------------------------------------------------

# Most specific first: a FileShare has accountName and shareName, an AgentPool resourceName and agentPoolName.
# Types whose name is a DNS name (<name>.vault.azure.net, .blob.core.windows.net, .postgres.database.azure.com,
# .azurecr.io, .azurefd.net): Azure refuses it taken in any resource group or subscription.
_GLOBAL_NAMES = ("azure-native:keyvault:Vault", "azure-native:storage:StorageAccount",
                 "azure-native:dbforpostgresql:Server", "azure-native:containerregistry:Registry",
                 "azure-native:cdn:AFDEndpoint")
_NAME_INPUTS = ("subnetName", "shareName", "agentPoolName", "configName", "secretName", "databaseName",
                "configurationName", "federatedIdentityCredentialResourceName", "virtualNetworkLinkName",
                "privateDnsZoneGroupName", "privateEndpointName", "publicIpAddressName", "privateZoneName",
                "workspaceName", "actionGroupName", "azureMonitorWorkspaceName", "dataCollectionEndpointName",
                "dataCollectionRuleName", "associationName", "ruleGroupName", "ruleName",
                "originName", "routeName", "securityPolicyName", "originGroupName", "endpointName", "ruleSetName",
                "fleetMemberName", "updateStrategyName", "autoUpgradeProfileName", "profileName", "policyName",
                "fleetName", "accountName", "vaultName", "serverName", "virtualNetworkName", "resourceName",
                "resourceGroupName")


def _fake_kubeconfig(cluster: str, location: str = "westeurope") -> str:
    """A kubeconfig as AKS hands it out (API server `https://<name>.hcp.<region>.azmk8s.io:443`, kubelogin)."""
    doc = {
        "apiVersion": "v1", "kind": "Config", "current-context": cluster,
        "clusters": [{"name": cluster, "cluster": {"server": f"https://{cluster}.hcp.{location}.azmk8s.io:443",
                                                   "certificate-authority-data": "TU9DSw=="}}],
        "contexts": [{"name": cluster, "context": {"cluster": cluster, "user": f"clusterUser_{cluster}"}}],
        "users": [{"name": f"clusterUser_{cluster}", "user": {"exec": {
            "apiVersion": "client.authentication.k8s.io/v1beta1", "command": "kubelogin",
            "args": ["get-token", "--login", "devicecode", "--server-id", "6dae42f8-4368-4678-94ff-3960e28e3630",
                     "--client-id", "80faf920-1908-4b52-b5ef-a8e7bedfc67a", "--tenant-id", TENANT,
                     "--environment", "AzurePublicCloud"]}}}],
    }
    return yaml.safe_dump(doc)


def _mock_state(type_: str, name: str, wire_inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    # The state keeps each input's secrecy (as the engine does); names and ids are made from plaintext, as a
    # provider sees it (the SDK's mock monitor hands over secret inputs still wrapped).
    state, inputs = dict(wire_inputs), _unwrap_secrets(wire_inputs)
    if type_.startswith("azure-native:"):
        module, kind = type_.split(":")[1:3]
        azure_name = next((inputs[k] for k in _NAME_INPUTS if isinstance(inputs.get(k), str)
                           and not (k == "resourceGroupName" and kind != "ResourceGroup")), name)
        rg = inputs.get("resourceGroupName", azure_name)
        rid = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{rg}/providers/Microsoft.{module}/{kind}/{azure_name}"
        state.update(name=azure_name, id=rid)
        if kind == "ManagedCluster":
            region = inputs.get("location") if isinstance(inputs.get("location"), str) else "westeurope"
            state["oidcIssuerProfile"] = {"enabled": True,
                                          "issuerURL": f"https://{region}.oic.prod-aks.azure.com/{TENANT}/x/"}
            state["identityProfile"] = {"kubeletidentity": {"clientId": "kubelet-client", "objectId": "kubelet-obj",
                                                            "resourceId": f"{rid}-agentpool"}}
            state["fqdn"] = f"{azure_name}.hcp.{region}.azmk8s.io"
            # AKS's id of this cluster's life (a cluster created again under the same ARM id gets another)
            state["resourceUID"] = hashlib.sha256(rid.lower().encode()).hexdigest()[:24]
            state["identity"] = {**inputs.get("identity", {}), "principalId": f"{azure_name}-principal",
                                 "tenantId": TENANT}
        elif kind == "UserAssignedIdentity":
            state.update(clientId=f"{azure_name}-client", principalId=f"{azure_name}-principal", tenantId=TENANT)
        elif kind == "PublicIPAddress":
            state["ipAddress"] = "20.0.0.10"
        elif kind == "Server":
            state["fullyQualifiedDomainName"] = f"{azure_name}.postgres.database.azure.com"
        elif kind == "Grafana":
            state["properties"] = {**inputs.get("properties", {}), "endpoint": f"https://{azure_name}.grafana.azure.com"}
            state["identity"] = {**inputs.get("identity", {}), "principalId": f"{azure_name}-principal"}
        elif kind == "Profile":
            state["frontDoorId"] = "33333333-3333-3333-3333-333333333333"
        elif kind == "AFDEndpoint":
            state["hostName"] = f"{azure_name}-offline.z01.azurefd.net"
        elif kind == "Vault":
            state["properties"] = {**inputs.get("properties", {}), "vaultUri": f"https://{azure_name}.vault.azure.net/"}
        return rid, state
    if type_.startswith("random:"):
        state["result"] = "offline-random-value"
        return f"{name}-id", state
    if type_.startswith("kubernetes:") and isinstance(inputs.get("metadata"), dict):
        state["metadata"] = {"name": name, **inputs["metadata"]}
    elif type_.startswith("kubernetes:") and "apiVersion" in inputs:  # no metadata given: the provider names it
        state["metadata"] = {"name": name}
    return f"{name}-id", state


class OfflineMocks(pulumi_mocks.Mocks):
    def __init__(self, references: Optional[dict[str, dict[str, Any]]] = None) -> None:
        self.references = references or {}  # stack (as referenced, or its stack name) -> its outputs
        self.locations: dict[tuple[str, str], str] = {}  # (resource group, cluster) -> region, for its kubeconfig

    def new_resource(self, args: pulumi_mocks.MockResourceArgs):
        if args.typ == "pulumi:pulumi:StackReference":
            return self._stack_reference(args)
        if args.typ == "azure-native:containerservice:ManagedCluster":
            group, cluster, location = (args.inputs.get(k) for k in ("resourceGroupName", "resourceName", "location"))
            if isinstance(group, str) and isinstance(cluster, str) and isinstance(location, str):
                self.locations[(group.lower(), cluster.lower())] = location
        return _mock_state(args.typ, args.name, args.inputs)

    def _stack_reference(self, args: pulumi_mocks.MockResourceArgs):
        """A StackReference answered from the referenced stack's outputs, given under the name the program
        references (org/project/stack) or its stack name alone."""
        name = str(args.inputs.get("name", ""))
        stack = name.rsplit("/", 1)[-1]
        outputs = self.references.get(name, self.references.get(stack))
        if outputs is None:
            keys = repr(name) if name == stack else f"{name!r} or {stack!r}"
            raise ProgramError(f"StackReference {name!r}: no outputs of that stack given to read (references keys "
                               f"them by {keys}; given: {', '.join(sorted(self.references)) or 'none'})", 0)
        return f"{name}", {"name": name, "outputs": outputs, "secretOutputNames": []}

    def call(self, args: pulumi_mocks.MockCallArgs):
        token = args.token
        if token.endswith(":listManagedClusterUserCredentials"):
            cluster = args.args["resourceName"]
            location = self.locations.get((str(args.args.get("resourceGroupName", "")).lower(), str(cluster).lower()))
            value = base64.b64encode(_fake_kubeconfig(cluster, location or "westeurope").encode()).decode()
            return {"kubeconfigs": [{"name": "clusterUser", "value": value}]}
        if token.endswith(":getClientConfig"):
            return {"clientId": "deployer-client", "objectId": DEPLOYER, "subscriptionId": SUBSCRIPTION,
                    "tenantId": TENANT}
        if token.endswith(":listStorageAccountKeys"):
            return {"keys": [{"keyName": "key1", "value": "offline-fake-key", "permissions": "FULL"}]}
        raise NotImplementedError(f"offline runner has no stand-in for invoke {token}")



def _unwrap_secrets(value: Any) -> Any:
    if isinstance(value, dict):
        if value.get(SIG_KEY) == SECRET_SIG:
            return _unwrap_secrets(value.get("value"))
        return {k: _unwrap_secrets(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unwrap_secrets(v) for v in value]
    return value


def _secret_paths(value: Any, path: str = "") -> list[str]:
    if isinstance(value, dict):
        if value.get(SIG_KEY) == SECRET_SIG:
            return [path or "."]
        return [p for k, v in value.items() for p in _secret_paths(v, f"{path}.{k}" if path else k)]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _secret_paths(v, f"{path}[{i}]")]
    return []


class _WarningCollector(logging.Handler):
    """Keeps what the program logs with pulumi.log.warn (the mock engine hands it to Python logging)."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def _moving_aliases(aliases: Any) -> list[dict[str, Any]]:
    out = [json_format.MessageToDict(a) for a in aliases]
    return [a for a in out if a.get("urn") or any(a.get("spec", {}).get(k) for k in ("name", "parentUrn", "noParent",
                                                                                         "stack", "project"))]


class RecordingMonitor(pulumi_mocks.MockMonitor):
    """The SDK's mock monitor, also keeping what a registration asked for: parent, dependencies, options."""

    def __init__(self, mocks: pulumi_mocks.Mocks):
        super().__init__(mocks)
        self.registrations: list[Registration] = []

    def RegisterResource(self, request):
        response = super().RegisterResource(request)
        if request.type != "pulumi:pulumi:Stack":
            raw = json_format.MessageToDict(request.object)
            inputs = whole_numbers(_unwrap_secrets(rpc.deserialize_properties(request.object)))
            timeouts = request.customTimeouts
            self.registrations.append(Registration(
                urn=response.urn, type=request.type, name=request.name, parent=request.parent,
                custom=request.custom, inputs=inputs, secret_paths=_secret_paths(raw),
                # a set to the engine; the SDK sends it in the order of a set of Resources (by memory address)
                dependencies=sorted(request.dependencies),
                options={
                    "protect": bool(request.protect),
                    "ignoreChanges": list(request.ignoreChanges),
                    "deleteBeforeReplace": bool(request.deleteBeforeReplace),
                    "retainOnDelete": bool(request.retainOnDelete),
                    "provider": request.provider or None,
                    "replaceOnChanges": list(request.replaceOnChanges),
                    "customTimeouts": {k: getattr(timeouts, k) for k in ("create", "update", "delete")
                                       if getattr(timeouts, k)},
                    # aliases that move or rename a resource, as sent ({"urn": ...} or {"spec": {name, type,
                    # parentUrn, noParent...}}), for tools that compare plans; the type-only aliases provider SDKs
                    # add to every resource (their older API versions) are left out
                    **({"aliases": moves} if (moves := _moving_aliases(request.aliases)) else {}),
                }))
        return response


# ---- what the real engine and the APIs refuse ------------------------------------------------------------------

def _azure_identity(reg: Registration) -> Optional[tuple]:
    """What Azure keys a resource by: its type and every name along its path (resource group, vault, secret...).
    Auto-named resources have none; a role assignment is keyed by principal, role and scope."""
    kind = reg.type.split(":")[-1]
    if kind == "RoleAssignment":
        return (reg.type, reg.inputs.get("principalId"), reg.inputs.get("roleDefinitionId"), reg.inputs.get("scope"))
    # Azure resource names are case-insensitive; a name that is a DNS name is unique in the cloud, not in its group
    names = tuple((k, reg.inputs[k].lower()) for k in _NAME_INPUTS if isinstance(reg.inputs.get(k), str)
                  and not (k == "resourceGroupName" and reg.type in _GLOBAL_NAMES))
    # a resource group's own name is resourceGroupName; every other resource's is a name beside it. Without its own
    # name a resource is auto-named (the logical name and a random suffix): no two collide
    if not any(k != "resourceGroupName" or kind == "ResourceGroup" for k, _ in names):
        return None
    # an extension resource (an association, a diagnostic setting) is named within the resource it extends
    scope = (("resourceUri", reg.inputs["resourceUri"]),) if "resourceUri" in reg.inputs else ()
    return (reg.type, names + scope)


def _inline_pools(reg: Registration) -> list[tuple[tuple, str]]:
    """The agent pools a ManagedCluster declares inline (`agentPoolProfiles`: AksCluster's system pool), each keyed
    as an AgentPool of that cluster is: an AgentPool resource of the same name is the same pool (its PUT rewrites
    the inline pool, and the cluster's next update rewrites it back), so the two claim one name."""
    if reg.type != "azure-native:containerservice:ManagedCluster":
        return []
    cluster, group = reg.inputs.get("resourceName"), reg.inputs.get("resourceGroupName")
    if not isinstance(cluster, str) or not isinstance(group, str):
        return []
    return [(("azure-native:containerservice:AgentPool",
              (("agentPoolName", profile["name"].lower()), ("resourceName", cluster.lower()),
               ("resourceGroupName", group.lower()))),
             f"{reg.name} (its inline pool {profile['name']!r})")
            for profile in reg.inputs.get("agentPoolProfiles") or []
            if isinstance(profile, dict) and isinstance(profile.get("name"), str)]


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


# Namespaces every cluster has before a program runs (kube-apiserver's system namespaces controller).
SYSTEM_NAMESPACES = frozenset({"default", "kube-system", "kube-public", "kube-node-lease"})


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


def _enabled(value: Any, *path: str) -> bool:
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    return value is True


def _addon_namespaces(reg: Registration) -> list[str]:
    """The namespaces AKS itself creates in a ManagedCluster for the add-ons its create turns on: Azure Policy's
    Gatekeeper (`gatekeeper-system`), application routing (`app-routing-system`), the Istio add-on (`aks-istio-system`,
    and `aks-istio-ingress` / an egress gateway's namespace, `aks-istio-egress` by default, for its gateways)."""
    if reg.type != "azure-native:containerservice:ManagedCluster":
        return []
    inputs = reg.inputs
    found = ["gatekeeper-system"] if _enabled(inputs, "addonProfiles", "azurepolicy", "enabled") else []
    if _enabled(inputs, "ingressProfile", "webAppRouting", "enabled"):
        found.append("app-routing-system")
    mesh = inputs.get("serviceMeshProfile") or {}
    if isinstance(mesh, dict) and mesh.get("mode") == "Istio":
        found.append("aks-istio-system")
        components = (mesh.get("istio") or {}).get("components") or {}
        if any(_enabled(g, "enabled") for g in components.get("ingressGateways") or []):
            found.append("aks-istio-ingress")
        found += [str(g.get("namespace") or "aks-istio-egress") for g in components.get("egressGateways") or []
                  if _enabled(g, "enabled")]
    return found


def namespaces(resources: list[Registration]) -> tuple[dict[tuple[Any, str], list[Registration]],
                                                         list[tuple[Registration, tuple[Any, str]]]]:
    """Per (cluster, namespace): the resources that create it (`_namespaces_created`; a ManagedCluster its add-ons'
    namespaces, on the cluster its Kubernetes providers reach, those made from it); and each resource placed in a
    namespace a cluster does not have from the start, with its (cluster, namespace)."""
    clusters = _clusters(resources)
    creators: dict[tuple[Any, str], list[Registration]] = {}
    placed: list[tuple[Registration, tuple[Any, str]]] = []
    for reg in resources:
        if added := _addon_namespaces(reg):
            reached = {clusters[p.urn] for p in resources if p.urn in clusters and reg.urn in p.dependencies}
            for cluster, created in itertools.product(reached, added):
                creators.setdefault((cluster, created), []).append(reg)
        cluster = _cluster_of(reg, clusters)
        for created in _namespaces_created(reg):
            creators.setdefault((cluster, created), []).append(reg)
        namespace = namespace_of(reg)
        if namespace and namespace not in SYSTEM_NAMESPACES:
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


def _two_clusters_in_one_component(resources: list[Registration], clusters: dict[str, str]) -> list[str]:
    """A component whose Azure resources are built for one cluster (its cluster handle: an AgentPool joins it, a
    resource takes an input from it, as a federated credential its OIDC issuer) and whose Kubernetes objects go to
    another (the provider in its opts): in a loop over two clusters, A's handle with B's provider put the GPU pools
    on A and the device plugin on B, where no GPU node ever comes, and a workload identity trusted A's issuer for
    pods on B. Known only where the provider's kubeconfig is one a cluster of this program hands out (the mocks name
    its server after the cluster), and for components with such an Azure resource (GatewayAccess: its IP's role
    assignments; Observability given `monitoring`: its rule associations. Not ModelStore, OllamaServer, nor
    Observability without `monitoring`: nothing of theirs in Azure is built from the cluster resource itself)."""
    by_urn = {reg.urn: reg for reg in resources}
    managed = {reg.urn: str(reg.inputs.get("resourceName")) for reg in resources
               if reg.type == "azure-native:containerservice:ManagedCluster"}
    names = set(managed.values())

    def owner(reg: Registration) -> Optional[Registration]:
        parent = by_urn.get(reg.parent)
        while parent is not None and not parent.type.startswith("llmplatform:"):
            parent = by_urn.get(parent.parent)
        return parent
    pools: dict[str, set[str]] = {}
    reached: dict[str, set[str]] = {}
    for reg in resources:
        component = owner(reg)
        if component is None:
            continue
        if reg.type == "azure-native:containerservice:AgentPool" and str(reg.inputs.get("resourceName")) in names:
            pools.setdefault(component.urn, set()).add(str(reg.inputs["resourceName"]))
        elif reg.type.startswith("azure-native:"):  # built from the cluster: a federated credential's issuer, ...
            built_from = {managed[d] for d in reg.dependencies if d in managed}
            if built_from:
                pools.setdefault(component.urn, set()).update(built_from)
        server = _cluster_of(reg, clusters) if reg.type.startswith("kubernetes:") else None
        cluster = server.split("//", 1)[-1].split(".hcp.", 1)[0] if isinstance(server, str) else None
        if cluster in names:
            reached.setdefault(component.urn, set()).add(cluster)
    return [f"{by_urn[urn].name} ({by_urn[urn].type.rsplit(':', 1)[-1]}) builds its Azure resources for cluster "
            f"{', '.join(sorted(joined))} (its cluster handle: node pools, a workload identity's issuer) but sends its "
            f"Kubernetes objects to cluster {', '.join(sorted(reached[urn]))} (its provider): give it one cluster's "
            f"handle and that cluster's provider"
            for urn, joined in pools.items() if reached.get(urn) and reached[urn] != joined]


def _kubernetes_identity(reg: Registration, clusters: Optional[dict[str, str]] = None) -> Optional[tuple]:
    """What a cluster keys an object by: cluster (its provider's API server, else the provider), API group, kind,
    namespace (none for a cluster-scoped kind, whatever the object was given: `CLUSTER_SCOPED`) and name."""
    provider = _cluster_of(reg, clusters or {})
    if reg.type == HELM_RELEASE:
        return ("helm release", provider, reg.inputs.get("namespace"), reg.inputs.get("name"))
    if not reg.is_kubernetes_object:
        return None
    meta = reg.inputs.get("metadata") or {}
    if not meta.get("name"):
        return None
    group = group_of(str(reg.inputs["apiVersion"]))
    kind = reg.inputs.get("kind")
    namespace = "" if (group, kind) in CLUSTER_SCOPED else meta.get("namespace") or ""
    return (provider, group, kind, namespace, meta["name"])


def _describe(identity: tuple) -> str:
    parts: list[str] = []
    for part in identity:
        if isinstance(part, tuple):
            parts.extend(f"{k}={v}" for k, v in part)
        elif part:
            parts.append(str(part).split("::")[-2] if str(part).startswith("urn:") else str(part))
    return " ".join(parts)


def _outermost_component(reg: Registration, by_urn: dict[str, Registration]) -> Optional[Registration]:
    """The package's outermost component `reg` belongs to (InferenceStack, not its OllamaServer part), if any."""
    found, parent = None, by_urn.get(reg.parent)
    while parent is not None:
        if parent.type.startswith("llmplatform:index:"):
            found = parent
        parent = by_urn.get(parent.parent)
    return found


def _one_per_namespace(resources: list[Registration], twice: list[tuple[Registration, Registration]]) -> list[str]:
    """One line of advice for each two components of one kind whose Kubernetes objects collide in a namespace: such a
    component names its objects the same way in every namespace (ollama, router, ...), so it runs once per
    namespace of a cluster; without this line, the reader gets one collision per object and no reason."""
    by_urn = {r.urn: r for r in resources}
    pairs: dict[tuple[str, str, str, str], list[str]] = {}
    for first, second in twice:
        a, b = _outermost_component(first, by_urn), _outermost_component(second, by_urn)
        namespace = (second.inputs.get("metadata") or {}).get("namespace") if second.is_kubernetes_object else \
            second.inputs.get("namespace")
        if a is None or b is None or a.urn == b.urn or a.type != b.type or not namespace:
            continue
        kind = a.type.rsplit(":", 1)[-1]
        one, other = sorted((a.name, b.name))
        names = pairs.setdefault((kind, one, other, str(namespace)), [])
        name = (second.inputs.get("metadata") or {}).get("name") or second.inputs.get("name")
        if name and name not in names:
            names.append(str(name))
    return [_one_per_namespace_line(kind, a, b, namespace, names) for (kind, a, b, namespace), names in pairs.items()]


# Components whose namespaces are fixed (monitoring and keda; istio-system): a second one on a cluster cannot move
# elsewhere, so the advice is one per cluster, not a namespace of its own.
_FIXED_NAMESPACES = ("Observability", "GatewayAccess")
# How a component of each kind is given a namespace of its own.
_NAMESPACE_HOW = {"InferenceStack": " (for an InferenceStack: the model volume of a ModelStore of its own namespace)",
                  "OllamaServer": " (the model volume of a ModelStore of its own namespace)",
                  "LlmdStack": " (its namespace input)"}


def _plural(kind: str) -> str:
    return kind[:-1] + "ies" if kind.endswith("y") else kind + "es" if kind.endswith("s") else kind + "s"


def _one_per_namespace_line(kind: str, a: str, b: str, namespace: str, names: list[str]) -> str:
    article = "an" if kind[0] in "AEIOU" else "a"
    listed = f"({', '.join(sorted(names)[:6])}{', ...' if len(names) > 6 else ''})"
    if kind in _FIXED_NAMESPACES:
        return (f"one {kind} per cluster: {_plural(kind)} {a!r} and {b!r} both put their objects in namespace "
                f"{namespace!r} of one cluster, which every {kind} uses, naming its objects the same way {listed}; "
                f"build one {kind} per cluster and hand its outputs to every component that needs them")
    return (f"one {kind} per namespace: {_plural(kind)} {a!r} and {b!r} both put their objects in namespace "
            f"{namespace!r} of one cluster, where {article} {kind} names them the same way {listed}; give each its "
            f"own namespace{_NAMESPACE_HOW.get(kind, '')}")


def _route_matches(route: Registration, clusters: dict[str, str]) -> list[tuple[tuple, str]]:
    """What an HTTPRoute claims on its Gateways: per parent listener, hostnames and rule match, the key two routes
    collide on, with the words that say it."""
    cluster = _cluster_of(route, clusters)
    meta, spec = route.inputs.get("metadata") or {}, route.inputs.get("spec") or {}
    hostnames = tuple(sorted(str(h).lower() for h in spec.get("hostnames") or []))
    claims = []
    for parent in spec.get("parentRefs") or []:
        if not isinstance(parent, dict) or parent.get("kind", "Gateway") != "Gateway":
            continue
        gateway = (parent.get("namespace") or meta.get("namespace") or "default", parent.get("name"))
        listener = (parent.get("sectionName"), parent.get("port"))
        for rule in spec.get("rules") or []:
            # a rule without matches matches every path (Gateway API: PathPrefix /)
            for match in (rule.get("matches") if isinstance(rule, dict) else None) or [{}]:
                path = match.get("path") or {}
                how = (path.get("type", "PathPrefix"), path.get("value", "/"))
                rest = json.dumps({k: v for k, v in match.items() if k != "path"}, sort_keys=True)
                words = (f"{how[0]} {how[1]}{' (' + rest + ')' if rest != '{}' else ''} on "
                         f"{'listener ' + str(listener[0]) + ' of ' if listener[0] else ''}Gateway "
                         f"{gateway[0]}/{gateway[1]} "
                         f"{'for ' + ', '.join(hostnames) if hostnames else 'for every hostname'}")
                claims.append(((cluster, gateway, listener, hostnames, how, rest), words))
    return claims


def _shadowed_routes(resources: list[Registration], clusters: dict[str, str]) -> list[str]:
    """Two HTTPRoutes (not one object: that is refused above) that match the same requests on one Gateway listener.
    The API server takes both and the Gateway API sends such a request to the oldest route only ("the oldest Route
    based on creation timestamp", HTTPRouteRule's matching precedence), so the other's backend never gets a request
    and nothing says so: two InferenceStacks (or ApiGates, OpenWebUis, LlmdStacks) on one route target."""
    seen: dict[tuple, Registration] = {}
    pairs: dict[tuple[str, str], tuple[Registration, Registration, list[str]]] = {}
    for reg in resources:
        if not (reg.is_kubernetes_object and reg.inputs.get("kind") == "HTTPRoute"
                and group_of(str(reg.inputs.get("apiVersion"))) == "gateway.networking.k8s.io"):
            continue
        for key, words in _route_matches(reg, clusters):
            first = seen.setdefault(key, reg)
            if first is reg or _route_name(first) == _route_name(reg):
                continue  # one object twice: refused above
            pairs.setdefault((first.urn, reg.urn), (first, reg, []))[2].append(words)
    return [f"{first.name} and {second.name} route the same requests ({'; '.join(claims)}): HTTPRoutes "
            f"{_route_name(first)} and {_route_name(second)}; the Gateway sends them to the older route only, and "
            "the other's backend gets none. One cluster's Gateways take one route per listener and path: publish one "
            "of the two there (leave the other's route_target out; it stays reachable inside the cluster; an "
            "LlmdStack, whose route_target is required, is one per cluster's Gateways)"
            for first, second, claims in pairs.values()]


def _unrouted_interceptor_hosts(resources: list[Registration], clusters: dict[str, str]) -> list[str]:
    """A model server behind the KEDA HTTP interceptor (OllamaServer or InferenceStack given `keda`: its gate calls
    the `ollama-scaled` alias with Host `ollama-scaled.<namespace>`) that no InterceptorRoute on its cluster claims
    the host of. The interceptor routes only the hosts its routes list and answers any other 404 (kedacore/http-add-on
    `interceptor/middleware/routing.go`: no route in the table, `http.StatusNotFound`), so every request to that
    server failed while the plan passed: the stack's `model_server` was given to no ModelAutoscaler in requests mode,
    the only component that declares the route."""
    routed: set[tuple[Any, str]] = set()
    aliases: list[tuple[Registration, Any, str, str]] = []
    for reg in resources:
        if not reg.is_kubernetes_object:
            continue
        kind, meta, spec = reg.inputs.get("kind"), reg.inputs.get("metadata") or {}, reg.inputs.get("spec") or {}
        cluster = _cluster_of(reg, clusters)
        if kind == "InterceptorRoute" and group_of(str(reg.inputs.get("apiVersion"))) == "http.keda.sh":
            routed.update((cluster, str(host).lower()) for rule in spec.get("rules") or [] if isinstance(rule, dict)
                          for host in rule.get("hosts") or [])
        elif kind == "Service" and spec.get("type") == "ExternalName" and meta.get("name") == SCALED_SERVICE:
            namespace = str(meta.get("namespace") or "default")
            aliases.append((reg, cluster, namespace, scaled_host(namespace)))
    return [f"{reg.name}: requests to the model server in namespace {namespace} go through the KEDA interceptor "
            f"(Host {host}), and no InterceptorRoute on its cluster claims that host, so the interceptor answers "
            "every one 404: give the stack's model_server to a ModelAutoscaler in requests mode (it declares the "
            "route), or leave the stack's keda out"
            for reg, cluster, namespace, host in aliases if (cluster, host) not in routed]


_WATCHED = re.compile(r'namespace(=~?)"([^"]*)",deployment="ollama"')


def unwatched_model_servers(resources: list[Registration]) -> list[str]:
    """Advice, not a refusal: an Ollama Deployment in a namespace that the OllamaDown alert of the Observability on
    its cluster does not watch (its `app_namespace` and `other_app_namespaces`; the alert selects by namespace,
    `monitoring.ollama_matchers`). The plan and the deploy work, and the alert never fires for that server: a stack
    built in `team` beside an Observability told `app_namespace: llm`."""
    clusters = _clusters(resources)
    watched: dict[Any, set[str]] = {}
    servers: list[tuple[Registration, Any, str]] = []
    for reg in resources:
        if not reg.is_kubernetes_object:
            continue
        kind, meta = reg.inputs.get("kind"), reg.inputs.get("metadata") or {}
        cluster = _cluster_of(reg, clusters)
        if kind == "PrometheusRule":
            for group in (reg.inputs.get("spec") or {}).get("groups") or []:
                for rule in (group.get("rules") or []) if isinstance(group, dict) else []:
                    if isinstance(rule, dict) and rule.get("alert") == "OllamaDown":
                        for how, names in _WATCHED.findall(str(rule.get("expr", ""))):
                            watched.setdefault(cluster, set()).update(names.split("|") if how == "=~" else [names])
        elif kind == "Deployment" and meta.get("name") == "ollama" and (reg.inputs.get("apiVersion") == "apps/v1"):
            servers.append((reg, cluster, str(meta.get("namespace") or "default")))
    return [f"{reg.name}: the Ollama server in namespace {namespace} is not watched by the OllamaDown alert of this "
            f"cluster's Observability (it watches {', '.join(sorted(watched[cluster]))}): give Observability "
            f"app_namespace {namespace!r}, or add it to other_app_namespaces"
            for reg, cluster, namespace in servers if cluster in watched and namespace not in watched[cluster]]


def _route_name(route: Registration) -> str:
    meta = route.inputs.get("metadata") or {}
    return f"{meta.get('namespace') or 'default'}/{meta.get('name')}"


def refusals(resources: list[Registration]) -> list[str]:
    """Registrations the Pulumi engine (duplicate URNs) or Azure/Kubernetes (one name, two owners) would refuse,
    which the SDK's mocks accept silently; Azure inputs that azure-native or Azure would refuse or drop (a value of
    the wrong type, outside a closed enum, a key the type does not have: llmplatform.azure_inputs); two writes
    Azure takes one at a time that the program leaves free to run at once (llmplatform.write_order); and subnet
    ranges outside their network or overlapping another (llmplatform.subnet_ranges)."""
    problems: list[str] = []
    clusters = _clusters(resources)
    seen_urns: set[str] = set()
    seen_names: dict[tuple, str] = {}
    seen_regs: dict[tuple, Registration] = {}
    twice: list[tuple[Registration, Registration]] = []
    doubled: set[str] = set()  # URNs registered twice: the order of their writes is no separate finding
    for reg in resources:
        if reg.urn in seen_urns:
            problems.append(f"duplicate URN {reg.urn}")
            doubled.add(reg.urn)
        seen_urns.add(reg.urn)
        if reg.type.startswith("azure-native:"):
            problems.extend(f"{reg.name} ({reg.type}): {finding}"
                            for finding in azure_inputs.findings(reg.type, reg.inputs) if finding.refused)
        for pool, inline in _inline_pools(reg):  # a cluster's inline pools are agent pools of that cluster too
            if pool in seen_names:
                problems.append(f"{seen_names[pool]} and {inline} are one object: {_describe(pool)}")
            else:
                seen_names[pool] = inline
                seen_regs[pool] = reg
        identity = _azure_identity(reg) if reg.type.startswith("azure-native:") \
            else _kubernetes_identity(reg, clusters)
        if identity is None:
            continue
        if identity in seen_names:
            problems.append(f"{seen_names[identity]} and {reg.name} are one object: {_describe(identity)}")
            twice.append((seen_regs[identity], reg))
        else:
            seen_names[identity] = reg.name
            seen_regs[identity] = reg
    problems[:0] = _one_per_namespace(resources, twice)  # the advice first, each object it explains below
    problems.extend(_shadowed_routes(resources, clusters))
    problems.extend(_unrouted_interceptor_hosts(resources, clusters))
    problems.extend(_two_clusters_in_one_component(resources, clusters))
    doubled.update(reg.urn for pair in twice for reg in pair)
    problems.extend(f"{c.resource} {c.message} [{c.rule}]" for c in write_order.conflicts(resources)
                    if not doubled & set(c.between))  # one name twice: renaming it is the fix, not dependsOn
    problems.extend(subnet_ranges.refusals(resources))
    return problems



def run(program: Callable[[], None], project: str = "test", stack: str = "test",
        config: Optional[dict[str, Any]] = None, references: Optional[dict[str, dict[str, Any]]] = None) -> Plan:
    """Run a Python function as a Pulumi program under the mocks and the engine's refusals, in a fresh context
    and event loop. `config` is what `pulumi.Config` reads (keys 'project:key'), `references` answers
    StackReferences (the stack as the program references it, org/project/stack, or its stack name -> its
    outputs). Raises ProgramError when the program stops or would be refused."""
    try:
        with _no_unread_sdk_work():
            return contextvars.Context().run(_run, project, stack, config or {}, program, references)
    finally:
        _forget_outputs()


@contextlib.contextmanager
def _no_unread_sdk_work() -> Iterator[None]:
    """For the run, two computations of the SDK whose results the mock monitor never reads (each put back after it):
    - the stack walk at each registration (pulumi 3.272.0 `pulumi/runtime/resource.py` `_get_stack_trace`, every
      frame turned into a file URI) for the resource's source position and stack trace, which only the engine's
      diagnostics show: about a tenth of a run's CPU under a test runner's deep stack;
    - every alias's URN, built when a resource is constructed (`pulumi/resource.py` `Resource.__init__` fills
      `_aliases` with `collapse_alias_to_urn`, an Output chain per alias; azure-native gives each resource an alias
      per other API version of its type). `_aliases` is read only by `runtime/resource.py` `all_aliases`, which
      `prepare_aliases` calls only for a monitor without alias specs; the mock monitor has them, as the engine does,
      and each alias goes out as a spec built from the resource's options. About 60 % of an Azure component's run."""
    # another SDK may name them otherwise: then the work is done
    swaps = [(module, name, getattr(module, name), stand_in) for module, name, stand_in in _UNREAD_SDK_WORK
             if hasattr(module, name)]
    for module, name, _, stand_in in swaps:
        setattr(module, name, stand_in)
    try:
        yield
    finally:
        for module, name, original, _ in swaps:
            setattr(module, name, original)


def _unread_alias_urn(alias: Any, *_: Any) -> Any:
    """What a resource keeps in `_aliases` in a run under the mocks: the alias as given, no URN computed."""
    return alias


_UNREAD_SDK_WORK = ((pulumi_resource, "_get_stack_trace", source_pb2.StackTrace),  # empty: no source position
                    (pulumi_sdk_resource, "collapse_alias_to_urn", _unread_alias_urn))


def _run(project: str, stack: str, config: dict[str, Any], program: Callable[[], None],
         references: Optional[dict[str, dict[str, Any]]] = None) -> Plan:
    loop = asyncio.new_event_loop()
    tasks = _tasks_of(loop)
    executor = _OneCallAtATime()
    loop.set_default_executor(executor)
    asyncio.set_event_loop(loop)
    errors = _QuietRunErrors()
    loop.set_exception_handler(errors)
    failed = True
    try:
        # The engine hands every config value over as text, structured ones as JSON.
        pulumi.runtime.set_all_config({k: v if isinstance(v, str) else json.dumps(v) for k, v in config.items()})
        mocks = OfflineMocks(references)  # one for registrations and invokes: a kubeconfig names its cluster's region
        monitor = RecordingMonitor(mocks)
        warnings = _WarningCollector()
        logger = logging.getLogger(f"offline-plan-{project}-{stack}")
        logger.propagate = False
        logger.handlers = [warnings]
        pulumi_mocks.set_mocks(mocks, project=project, stack=stack, preview=False, monitor=monitor,
                               logger=logger)
        try:
            _sync_await(run_pulumi_func(program))
        except ComponentInputError:
            raise  # a component's refusal, with its property paths (a RunError too)
        except pulumi.RunError as error:
            raise ProgramError(str(error), len(monitor.registrations)) from None
        refused = refusals(monitor.registrations)
        if refused:
            raise ProgramError("the real engine or API would refuse this program:\n  " + "\n  ".join(refused),
                               len(monitor.registrations))
        plan = Plan(project=project, stack=stack, resources=monitor.registrations,
                    warnings=warnings.messages + unwatched_model_servers(monitor.registrations)
                    + uncreated_namespaces(monitor.registrations))
        root = pulumi_settings.get_root_resource()
        for key, value in (getattr(root, "outputs", None) or {}).items():
            output = pulumi.Output.from_input(value)
            plan.outputs[key] = whole_numbers(_sync_await(output.future()))
            if _sync_await(output.is_secret()):
                plan.secret_outputs.append(key)
        failed = False
        return plan
    except (KeyboardInterrupt, SystemExit):  # Ctrl-C: the run is abandoned, not drained (below)
        errors.interrupted = True
        raise
    finally:
        # A run stopped by an error in an apply leaves tasks behind; cancel them here, or the next run in this
        # process would wait on futures of a closed loop. Not after an interrupt: a task it cut short mid-step may
        # never finish, and waiting for it hung the process it was meant to stop.
        pending = {task for task in tasks if not task.done()}
        for task in pending:
            task.cancel()
        if not errors.interrupted:
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        errors.finish(loop, failed)
        loop.close()
        executor.shutdown(wait=not errors.interrupted, cancel_futures=errors.interrupted)
        asyncio.set_event_loop(None)
        _forget_outputs()


def _tasks_of(loop: asyncio.AbstractEventLoop) -> "weakref.WeakSet[asyncio.Task[Any]]":
    """The tasks created on this run's loop (the SDK makes every one with create_task or ensure_future, which use the
    loop's task factory). asyncio.all_tasks(loop) walks every task alive in the process instead: in a process running
    many plans (a test suite), hundreds of thousands left by earlier runs, until a garbage collection frees them."""
    tasks: "weakref.WeakSet[asyncio.Task[Any]]" = weakref.WeakSet()

    def factory(loop: asyncio.AbstractEventLoop, coro: Any, **kwargs: Any) -> "asyncio.Task[Any]":
        task = asyncio.Task(coro, loop=loop, **kwargs)
        tasks.add(task)
        return task
    loop.set_task_factory(factory)
    return tasks


class _OneCallAtATime(concurrent.futures.ThreadPoolExecutor):
    """The SDK sends each call to the (mock) monitor through the loop's default executor, a thread pool: the calls
    then completed in the order the threads happened to finish, so writes that queue in the order their inputs
    resolve (llmplatform.run_state.Turn: a vault's secrets) took a different order run to run, and two plans of one
    program differed. Here each call runs on the executor's one thread while the loop waits for it: `submit` returns
    a finished future, so the answers reach the loop in call order.

    Not in the loop's own thread: the SDK's mock monitor serializes each answer with `_sync_await`, which, on a
    running loop, pumps that loop from inside the call; the other registrations it then runs make calls of their own
    that pump it again, one level deeper each, and a program creating some 70 resources at once stopped with a
    RecursionError. On its own thread the monitor's `_sync_await` runs a loop of that thread, as with the SDK's pool."""

    def __init__(self) -> None:
        super().__init__(max_workers=1, thread_name_prefix="llmplatform-mocks")

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> "concurrent.futures.Future[Any]":
        future = super().submit(fn, *args, **kwargs)
        concurrent.futures.wait([future])  # the error too is handed to the awaiting coroutine, as the pool would
        return future


class _QuietRunErrors:
    """The run loop's exception handler. A RunError the program raised in an apply is the run's one clean message
    (ProgramError); the same error left on sibling futures must not be printed again as a traceback. Nor, after a
    run that failed, any error a future or task of it holds that nothing awaited: an error inside the SDK (an output
    of the wrong type, say) is left on the futures of every output of that resource, which asyncio printed as "Future
    exception was never retrieved", with a traceback each, whenever they were collected: hundreds, during later
    tests. After a run that succeeded such a report is a failure nothing else shows (a task the program started and
    never awaited): it is reported as asyncio would. Reports made while the run is still going are held until it is
    known how it ended. After a run cut short by Ctrl-C, nothing is reported: the tasks it left pending ("Task was
    destroyed but it is pending!") are the interrupt's, which the caller reports. (The loop keeps this handler after
    it is closed.)"""

    def __init__(self) -> None:
        self.running, self.failed, self.interrupted = True, False, False
        self.held: list[dict[str, Any]] = []

    def __call__(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        if self.interrupted or isinstance(context.get("exception"), pulumi.RunError):
            return
        if "exception was never retrieved" in str(context.get("message", "")):
            if self.running:
                self.held.append(context)
                return
            if self.failed:
                return
        loop.default_exception_handler(context)

    def finish(self, loop: asyncio.AbstractEventLoop, failed: bool) -> None:
        self.running, self.failed = False, failed
        held, self.held = self.held, []
        for context in held if not failed else ():
            loop.default_exception_handler(context)


def _forget_outputs() -> None:
    """The SDK keeps every Output's task in a settings set that falls back to one process-wide default outside a
    configured context; tasks of a finished run's loop left there would be awaited by the next run."""
    with pulumi_settings.SETTINGS.lock:
        pulumi_settings.SETTINGS.outputs.clear()
