"""The kit's stand-ins for the engine and the clouds: what each resource and invoke answers under the mocks (ids,
names, a cluster's kubeconfig, FQDN and OIDC issuer in its region), and the mock monitor that records every
registration as the engine receives it."""
import base64
import collections.abc
import contextlib
import contextvars
import functools
import hashlib
import json
import logging
import re
import threading
import typing
import urllib.parse
import uuid
from pathlib import Path
from typing import Any, Callable, Iterator, Optional, Union

import yaml
from google.protobuf import json_format

import pulumi
from pulumi.runtime import mocks as pulumi_mocks, rpc

from .. import azure_inputs
from ..azure_names import node_resource_group
from ..kubeconfig import cached_for_text
from ..mappings import whole_numbers
from .api_server import FAKE_CA_DATA, ClusterEndpoint, token_for
from .records import (DEPLOYER, REDACTED, RESOURCE_REF_SIG, Plan, ProgramError, Registration, SECRET_SIG, SIG_KEY,
                      Secret, SUBSCRIPTION, TENANT)


# Most specific first: a FileShare has accountName and shareName, an AgentPool resourceName and agentPoolName.
# Types whose name is a DNS name (<name>.vault.azure.net, .blob.core.windows.net, .postgres.database.azure.com,
# .azurecr.io, .azurefd.net): Azure refuses it taken in any resource group or subscription. Managed Grafana's name is
# refused taken in another subscription too (NameNotUnique, Azure/ARO-HCP#5813).
_GLOBAL_NAMES = ("azure-native:keyvault:Vault", "azure-native:storage:StorageAccount",
                 "azure-native:dbforpostgresql:Server", "azure-native:containerregistry:Registry",
                 "azure-native:cdn:AFDEndpoint", "azure-native:dashboard:Grafana")


_NAME_INPUTS = ("subnetName", "shareName", "agentPoolName", "configName", "secretName", "databaseName",
                "configurationName", "federatedIdentityCredentialResourceName", "virtualNetworkLinkName",
                "privateDnsZoneGroupName", "privateEndpointName", "publicIpAddressName", "privateZoneName",
                "workspaceName", "actionGroupName", "azureMonitorWorkspaceName", "dataCollectionEndpointName",
                "dataCollectionRuleName", "associationName", "ruleGroupName", "ruleName",
                "originName", "routeName", "securityPolicyName", "originGroupName", "endpointName", "ruleSetName",
                "fleetMemberName", "updateStrategyName", "autoUpgradeProfileName", "profileName", "policyName",
                "fleetName", "accountName", "vaultName", "serverName", "virtualNetworkName", "resourceName",
                "resourceGroupName")


def _server_of(cluster: str, location: str) -> str:
    return f"https://{cluster}.hcp.{location}.azmk8s.io:443"


@cached_for_text(maxsize=256)
def _fake_kubeconfig(cluster: Any, location: Any = "westeurope") -> str:
    """A kubeconfig as AKS hands it out (API server `https://<name>.hcp.<region>.azmk8s.io:443`, kubelogin). Dumped
    once per cluster and region in a process (the same few come back in every run); a name that is no string (an
    input the program got wrong) is dumped as given, each time."""
    doc = {
        "apiVersion": "v1", "kind": "Config", "current-context": cluster,
        "clusters": [{"name": cluster, "cluster": {"server": _server_of(cluster, location),
                                                   "certificate-authority-data": FAKE_CA_DATA}}],
        "contexts": [{"name": cluster, "context": {"cluster": cluster, "user": f"clusterUser_{cluster}"}}],
        "users": [{"name": f"clusterUser_{cluster}", "user": {"exec": {
            "apiVersion": "client.authentication.k8s.io/v1beta1", "command": "kubelogin",
            "args": ["get-token", "--login", "devicecode", "--server-id", "6dae42f8-4368-4678-94ff-3960e28e3630",
                     "--client-id", "80faf920-1908-4b52-b5ef-a8e7bedfc67a", "--tenant-id", TENANT,
                     "--environment", "AzurePublicCloud"]}}}],
    }
    return yaml.safe_dump(doc)


# Each azure-native resource type's ARM id template (data/arm_id_templates.json, from pulumi-azure-native's
# reports/tokenPaths.json; components/maintenance/arm_id_templates.py writes it and names the commit): the path the
# provider PUTs to, its braces filled from the resource's inputs of those names and subscriptionId from the provider's
# config; the filled path is the resource's id (pulumi-azure-native provider/pkg/provider/crud/crud.go
# `PrepareAzureRESTIdAndQuery` at 0354c94d: a parameter marked x-ms-skip-url-encoding, a sub-path such as `{scope}` or
# `{resourceUri}`, is trimmed of its slashes, every other one path-escaped).
_TEMPLATES_FILE = Path(__file__).resolve().parent.parent / "data" / "arm_id_templates.json"
_PARAMETER = re.compile(r"\{([^}]+)\}")


@functools.lru_cache(maxsize=1)
def arm_id_templates() -> dict[str, str]:
    """Resource token (`azure-native:network:Subnet`) -> its ARM id template, as vendored."""
    return dict(json.loads(_TEMPLATES_FILE.read_text())["templates"])


def arm_id_template(type_: str) -> Optional[str]:
    """The ARM id template of an azure-native resource token; a versioned token (a local package's
    `azure-native:network/v20240501:Subnet`) reads its type's (an ARM id is the same in every API version). None
    for a type the file does not list."""
    parts = type_.split(":")
    if len(parts) != 3 or parts[0] != "azure-native":
        return None
    return arm_id_templates().get(f"azure-native:{parts[1].split('/')[0]}:{parts[2]}")


def arm_id_template_problems(templates: dict[str, str]) -> list[str]:
    """What the installed SDK contradicts in templates, one line per token: no resource class of that token, or a
    path parameter none of its inputs (the provider fills each from the input of its name; subscriptionId from its
    config)."""
    found = []
    for token, template in sorted(templates.items()):
        args = azure_inputs._args_class(token)
        if args is None:
            found.append(f"{token}: no resource class of that token in the installed pulumi-azure-native")
            continue
        missing = [p for p in _PARAMETER.findall(template)
                   if p != "subscriptionId" and p not in azure_inputs._properties(args)]
        if missing:
            found.append(f"{token}: path parameter(s) {', '.join(missing)} of {template} are no input of "
                         f"{args.__name__}")
    return found


def _path_value(value: str) -> str:
    """A path parameter's value as the provider writes it into the id: a sub-path (an id given as `scope`) trimmed
    of its slashes, a name escaped as Go's url.PathEscape does (`/`, `;`, `,`, `?` and what is not unreserved)."""
    return value.strip("/") if "/" in value else urllib.parse.quote(value, safe="$&+:=@")


def token_shaped_id(type_: str, name: str, inputs: dict[str, Any],
                    subscription: str = SUBSCRIPTION) -> tuple[str, str]:
    """(id, Azure name) as kits before the vendored templates gave every azure-native resource, and as this one
    still gives a type the templates do not list: `/subscriptions/<sub>/resourceGroups/<group>/providers/
    Microsoft.<module as in the token>/<Type as in the token>/<name>`, the name the first name input of
    `_NAME_INPUTS` given (else the logical name). The right prefix, not the type's path: an input rule that checks
    the type's path refuses it (offline/plan_diff reads earlier kits' plans with it)."""
    module, kind = type_.split(":")[1:3]
    azure_name = next((inputs[k] for k in _NAME_INPUTS if isinstance(inputs.get(k), str)
                       and not (k == "resourceGroupName" and kind != "ResourceGroup")), name)
    group = inputs.get("resourceGroupName", azure_name)
    return f"/subscriptions/{subscription}/resourceGroups/{group}/providers/Microsoft.{module}/{kind}/{azure_name}", \
        azure_name


def arm_id(type_: str, name: str, inputs: dict[str, Any], subscription: str = SUBSCRIPTION) -> tuple[str, str]:
    """(id, Azure name) of an azure-native resource as the provider makes them: its type's template filled from
    its inputs (`inputs` in clear, as a provider reads them). The template's last parameter is the resource's own
    name, the logical name where the input is not given (azure-native auto-names it, a random suffix added; the
    kit keeps the name as given, as it always has); a template ending in a literal (`.../tags/default`) names a
    singleton of that name. `subscriptionId` from the inputs if given (the provider reads its inputs first), else
    the provider's. A parameter with no value stays `{name}` in the id, as the provider leaves it. A type the
    templates do not list: `token_shaped_id` (add it with components/maintenance/arm_id_templates.py)."""
    template = arm_id_template(type_)
    if template is None:
        return token_shaped_id(type_, name, inputs, subscription)
    parameters = _PARAMETER.findall(template)
    own = parameters[-1] if parameters and template.endswith("}") else None
    azure_name = (inputs[own] if isinstance(inputs.get(own), str) else name) if own else template.rsplit("/", 1)[-1]
    values = {"subscriptionId": subscription, **{p: inputs[p] for p in parameters if isinstance(inputs.get(p), str)}}
    if own:
        values[own] = azure_name
    return _PARAMETER.sub(lambda m: _path_value(values[m[1]]) if m[1] in values else m[0], template), azure_name


def _digest(rid: str) -> str:
    """The hex SHA-256 of an ARM id (case-insensitive, as ARM ids are): what every per-resource stand-in is made of."""
    return hashlib.sha256(rid.lower().encode()).hexdigest()


def _identity_id(rid: str, azure_name: str, what: str) -> str:
    """A stand-in principal or client id: `<name>-<hash of the ARM id>-<what>`, one per resource as Entra gives one
    (two clusters named alike in two resource groups have two kubelet identities; with the name alone their AcrPull
    grants on one registry were refused as one role assignment)."""
    return f"{azure_name}-{_digest(rid)[:6]}-{what}"


def _address(rid: str) -> str:
    """A stand-in public address, one per ARM id as Azure allocates one (two regions' gateways behind one Front Door
    had one address, so an origin naming the other region's looked right)."""
    digest = bytes.fromhex(_digest(rid)[:6])
    return f"20.{digest[0]}.{digest[1]}.{digest[2] % 254 + 1}"


def azure_outputs(type_: str, inputs: dict[str, Any], rid: str, azure_name: str) -> dict[str, Any]:
    """The outputs the stand-ins give an azure-native resource of that id and Azure name beside its inputs: `name`,
    `id`, and per kind what Azure computes (a cluster's identities, FQDN and OIDC issuer, an address, a vault URI),
    each one per resource: made of its id's digest (`_digest`) where Azure makes one per resource. `inputs` in clear."""
    kind = type_.split(":")[2]
    state: dict[str, Any] = {"name": azure_name, "id": rid}
    rg = inputs.get("resourceGroupName", azure_name)
    if kind == "ManagedCluster":
        region = str(inputs["location"]) if isinstance(inputs.get("location"), str) else "westeurope"
        state["oidcIssuerProfile"] = {"enabled": True,
                                      "issuerURL": f"https://{region}.oic.prod-aks.azure.com/{TENANT}/x/"}
        # each cluster's kubelet identity its own (two clusters' AcrPull grants are two principals)
        kubelet = {"clientId": _identity_id(rid, azure_name, "kubelet-client"),
                   "objectId": _identity_id(rid, azure_name, "kubelet-principal"), "resourceId": f"{rid}-agentpool"}
        state["identityProfile"] = {"kubeletidentity": kubelet}
        state["fqdn"] = f"{azure_name}.hcp.{region}.azmk8s.io"
        # the group AKS creates for the nodes, unless the cluster names one (llmplatform.azure_names)
        state["nodeResourceGroup"] = inputs.get("nodeResourceGroup") or node_resource_group(rg, azure_name, region)
        # AKS's id of this cluster's life (a cluster created again under the same ARM id gets another)
        state["resourceUID"] = _digest(rid)[:24]
        state["identity"] = {**inputs.get("identity", {}), "tenantId": TENANT,
                             "principalId": _identity_id(rid, azure_name, "principal")}
    elif kind == "UserAssignedIdentity":
        state.update(clientId=_identity_id(rid, azure_name, "client"),
                     principalId=_identity_id(rid, azure_name, "principal"), tenantId=TENANT)
    elif kind == "PublicIPAddress":
        state["ipAddress"] = _address(rid)
    elif kind == "Server":
        state["fullyQualifiedDomainName"] = f"{azure_name}.postgres.database.azure.com"
    elif kind == "Grafana":
        state["properties"] = {**inputs.get("properties", {}),
                               "endpoint": f"https://{azure_name}.grafana.azure.com"}
        state["identity"] = {**inputs.get("identity", {}),
                             "principalId": _identity_id(rid, azure_name, "principal")}
    elif kind == "Profile":
        state["frontDoorId"] = str(uuid.UUID(_digest(rid)[:32]))
    elif kind == "AFDEndpoint":
        state["hostName"] = f"{azure_name}-offline.z01.azurefd.net"
    elif kind == "Vault":
        state["properties"] = {**inputs.get("properties", {}), "vaultUri": f"https://{azure_name}.vault.azure.net/"}
    return state


def _mock_state(type_: str, name: str, wire_inputs: dict[str, Any],
                subscription: str = SUBSCRIPTION) -> tuple[str, dict[str, Any]]:
    # The state keeps each input's secrecy (as the engine does); names and ids are made from plaintext, as a
    # provider sees it (the SDK's mock monitor hands over secret inputs still wrapped).
    state, inputs = dict(wire_inputs), _unwrap_secrets(wire_inputs)
    if type_.startswith("azure-native:"):
        rid, azure_name = arm_id(type_, name, inputs, subscription)
        state.update(azure_outputs(type_, inputs, rid, azure_name))
        return rid, state
    if type_.startswith("random:"):
        state["result"] = "offline-random-value"
        return f"{name}-id", state
    if type_.startswith("kubernetes:") and isinstance(inputs.get("metadata"), dict):
        state["metadata"] = {"name": name, **inputs["metadata"]}
    elif type_.startswith("kubernetes:") and "apiVersion" in inputs:  # no metadata given: the provider names it
        state["metadata"] = {"name": name}
    return f"{name}-id", state


# What `pulumi preview` answers for a create (pulumi/pulumi `pkg/resource/deploy/step.go` `CreateStep.Apply` at
# 1b5949891b calls the provider's Create with `Preview: DryRun`; docs/decisions.md "A fresh stack's preview").
_UNKNOWN = rpc.UNKNOWN  # the wire's unknown value: the SDK reads it as an unknown output, nested ones too


def preview_state(type_: str, name: str, wire_inputs: dict[str, Any], custom: bool = True,
                  provider_configured: bool = True) -> tuple[str, dict[str, Any]]:
    """A create's id and outputs as its provider answers a preview (the id "" reads as unknown, as does each key
    left out of the outputs):
    - azure-native: its inputs projected on its output properties, every other output unknown, no id
      (pulumi-azure-native `provider/pkg/provider/provider.go` `Create`: `if req.GetPreview()` returns
      `PreviewOutputs(inputs, res.Response)` and no Id; `provider/pkg/convert/previewOutputs.go`), so its `name`
      (an output no input is called) and every computed output (a principal id, an FQDN, a vault URI) is unknown;
    - a provider: id unknown, its inputs as outputs (`pkg/resource/deploy/providers/registry.go` `Create`);
    - kubernetes: under a provider whose config is not known (a kubeconfig from a cluster still to be created) no
      output at all (`sdk/go/common/resource/plugin/provider_plugin.go` `Create`: `!pcfg.known` returns an empty
      map), else the object as the stand-ins name it without `status` (pulumi-kubernetes
      `provider/pkg/provider/provider.go` `Create` at 9497796: the dry-run object, status removed, no id);
    - random (bridged Terraform): its inputs, `result` and `bcryptHash` unknown, no id;
    - a component: as in an update (the engine creates nothing for it)."""
    if not custom:
        return _mock_state(type_, name, wire_inputs)
    if type_.startswith(_PROVIDER_TYPE):
        return _UNKNOWN, dict(wire_inputs)
    if type_.startswith("azure-native:"):
        resource = azure_inputs._resource_class(type_)
        if resource is not None:
            return "", _projected_object(wire_inputs, resource)
    if type_.startswith("kubernetes:"):
        if not provider_configured:
            return "", {}
        state = _mock_state(type_, name, wire_inputs)[1]
        state.pop("status", None)
        return "", state
    state = dict(wire_inputs)
    if type_.startswith("random:"):
        for computed in ("result", "bcryptHash"):
            state.pop(computed, None)
    return "", state


def _projected_object(inputs: dict[str, Any], sdk_class: type) -> dict[str, Any]:
    """pulumi-azure-native `PreviewOutputs`: each output property of the class, from the input of its name when
    there is one of a fitting shape, else unknown."""
    return {key: _projected(inputs[key], annotation) if key in inputs else _UNKNOWN
            for key, annotation in _output_annotations(sdk_class).items()}


def _projected(value: Any, annotation: Any) -> Any:
    """pulumi-azure-native `previewOutputValue`: an input of the output's type kept (a list item by item, an
    object of an output type property by property, a map value by value), an input of another shape unknown; an
    untyped or union output keeps its input. A secret input stays secret."""
    if isinstance(value, dict) and value.get(SIG_KEY) == SECRET_SIG:
        return {SIG_KEY: SECRET_SIG, "value": _projected(value.get("value"), annotation)}
    if value is None or value == _UNKNOWN or type(value).__name__ == "Unknown":
        return _UNKNOWN
    kind, args = _output_kind(annotation)
    if kind == "any":
        return value
    if kind == "primitive":
        return value if isinstance(value, args) and not (isinstance(value, bool) and bool not in args) \
            else _UNKNOWN
    if kind == "list":
        return [_projected(item, args) for item in value] if isinstance(value, list) else _UNKNOWN
    if kind == "map":
        return {k: _projected(v, args) for k, v in value.items()} if isinstance(value, dict) else _UNKNOWN
    if kind == "object":
        return _projected_object(value, args) if isinstance(value, dict) else _UNKNOWN
    return _UNKNOWN


@functools.lru_cache(maxsize=None)
def _output_annotations(sdk_class: type) -> dict[str, Any]:
    """Output property (camelCase) -> its type, `Output[...]` unwrapped, of an SDK resource class or output type."""
    return {key: _unwrapped(typing.get_type_hints(getter)["return"])
            for key, getter in azure_inputs.output_getters(sdk_class).items()}


def _unwrapped(annotation: Any) -> Any:
    """An annotation without its `Output[...]` and `Optional[...]`."""
    while True:
        origin, args = typing.get_origin(annotation), typing.get_args(annotation)
        if origin is pulumi.Output:
            annotation = args[0]
        elif origin is typing.Union and type(None) in args and len(args) == 2:
            annotation = next(a for a in args if a is not type(None))
        else:
            return annotation


@functools.lru_cache(maxsize=None)
def _output_kind(annotation: Any) -> tuple[str, Any]:
    """("primitive", types) | ("list", item) | ("map", value) | ("object", output type) | ("any", None)."""
    annotation = _unwrapped(annotation)
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if annotation in (str, bool, int, float):
        return "primitive", (int, float) if annotation in (int, float) else (annotation,)
    if origin in (list, collections.abc.Sequence):
        return "list", args[0] if args else Any
    if origin in (dict, collections.abc.Mapping):
        return "map", args[1] if len(args) == 2 else Any
    if isinstance(annotation, type) and azure_inputs.output_getters(annotation):
        return "object", annotation
    return "any", None  # Any, a union (oneOf): the input as given


def provider_outputs(type_: str, name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    """What a custom resource holds as outputs once created, as the stand-ins answer its registration and in its
    provider's output shape: what the engine hands a stack policy (pulumi/pulumi `pkg/resource/deploy/
    step_generator.go` `AnalyzeResources`: "AnalyzeStack is called on the final outputs of each resource"), not its
    inputs. An azure-native resource keeps only its SDK class's output properties (`azure_inputs.output_names`):
    no path parameters, its Azure name as `name`. `inputs` as recorded, or as on the wire (secrets wrapped, kept)."""
    state = _mock_state(type_, name, inputs)[1]
    names = azure_inputs.output_names(type_)
    return state if names is None else {key: value for key, value in state.items() if key in names}


def cluster_principals(cluster: Registration) -> tuple[str, str]:
    """The principal ids the stand-ins give a recorded ManagedCluster: its own identity's (`identity.principalId`,
    which its cloud provider builds load balancers as) and its kubelet identity's (`identityProfile.kubeletidentity.
    objectId`, which its nodes pull images as), so a reader of a plan can tell whose a role assignment is."""
    state = _mock_state(cluster.type, cluster.name, cluster.inputs)[1]
    return str(state["identity"]["principalId"]), str(state["identityProfile"]["kubeletidentity"]["objectId"])


def identity_ids(identity: Registration) -> tuple[str, str]:
    """The client id and principal id the stand-ins give a recorded UserAssignedIdentity (what a workload's
    ServiceAccount annotation or a SecretProviderClass names, and what its role assignments grant)."""
    state = _mock_state(identity.type, identity.name, identity.inputs)[1]
    return str(state["clientId"]), str(state["principalId"])


# The invokes the kit answers itself (the components' own); a program's other invokes are the test's to answer.
ANSWERED_INVOKES = ("listManagedClusterUserCredentials", "getClientToken", "getClientConfig", "listStorageAccountKeys")

InvokeAnswer = Union[dict[str, Any], Callable[[dict[str, Any]], dict[str, Any]]]


class UnansweredInvoke(NotImplementedError):
    """An invoke of the program's own that neither the kit nor the test (`run`'s `invokes`) answers."""


class OfflineMocks(pulumi_mocks.Mocks):
    def __init__(self, references: Optional[dict[str, "dict[str, Any] | Plan"]] = None, preview: bool = False,
                 invokes: Optional[dict[str, InvokeAnswer]] = None) -> None:
        self.references = references or {}  # stack (as referenced, or its stack name) -> its outputs, or its Plan
        # token -> what the test answers for the program's own invokes (a cluster of its own read with
        # getManagedCluster, a subnet, a vault): a dict for every call, or a function of the call's arguments
        self.answers = invokes or {}
        self.preview = preview  # every create answered as in `pulumi preview` of a stack with nothing created yet
        self.locations: dict[tuple[str, str], str] = {}  # (resource group, cluster) -> region, for its kubeconfig
        self.api_servers: dict[str, ClusterEndpoint] = {}  # each kubeconfig's server -> its cluster (the stand-in API)
        self.invokes: list[tuple[str, str]] = []  # (token, provider reference) of every invoke, in call order
        # an azure-native provider's URN -> the subscriptionId it was given. Providers are known by URN, as the
        # engine knows a provider by its reference `<URN>::<id>` (pulumi/pulumi 1b5949891b
        # sdk/go/common/providers/reference.go `Reference`, the key of pkg/resource/deploy/providers/registry.go's
        # `providers` map): two named alike under two parents are two (by name, one's subscription was the other's)
        self.subscriptions: dict[str, str] = {}
        self.provider_locations: dict[str, str] = {}  # an azure-native provider's URN -> the location it was given
        # in a preview: providers whose config is not known yet (by URN), the Azure resources created (resource
        # group, name, lower case; a group not known yet, as `rg.name` is in a preview, as ""), the resource groups
        # created, and each invoke sent that names an Azure resource (token, resource group, names)
        self.unconfigured: set[str] = set()
        self.created: set[tuple[str, str]] = set()
        self.created_groups: set[str] = set()
        self.reads: list[tuple[str, str, list[str]]] = []

    def new_resource(self, args: pulumi_mocks.MockResourceArgs):
        if args.typ == "pulumi:pulumi:StackReference":
            return self._stack_reference(args)
        if args.typ == "azure-native:containerservice:ManagedCluster":
            group, cluster, location = (args.inputs.get(k) for k in ("resourceGroupName", "resourceName", "location"))
            if isinstance(group, str) and isinstance(cluster, str) and isinstance(location, str):
                self.locations[(group.lower(), cluster.lower())] = location
        if args.typ == "pulumi:providers:azure-native":
            for key, found in (("subscriptionId", self.subscriptions), ("location", self.provider_locations)):
                if isinstance(args.inputs.get(key), str):
                    found[_registering_urn(args)] = args.inputs[key]
        elif args.custom and args.typ.startswith("azure-native:") and "location" not in args.inputs:
            location = self._default_location(args)
            if location is not None:  # what the provider's Check hands Create, in an up and in a preview
                args.inputs = {**args.inputs, "location": location}
        if not self.preview or args.resource_id:  # a read or an import: the resource exists
            return _mock_state(args.typ, args.name, args.inputs, self._subscription_of(args.provider))
        if args.typ.startswith(_PROVIDER_TYPE) and rpc.contains_unknowns(args.inputs):
            self.unconfigured.add(_registering_urn(args))
        # the Azure name it will have (the stand-ins' up answer), for reads of it sent in the preview
        state = _mock_state(args.typ, args.name, args.inputs)[1] if args.custom and \
            args.typ.startswith("azure-native:") else {}
        if isinstance(state.get("name"), str):
            group = args.inputs.get("resourceGroupName")
            self.created.add((group.lower() if isinstance(group, str) else "", state["name"].lower()))
            if args.typ == "azure-native:resources:ResourceGroup":
                self.created_groups.add(state["name"].lower())
        return preview_state(args.typ, args.name, args.inputs, bool(args.custom),
                             _provider_key(args.provider, self.unconfigured) not in self.unconfigured)

    def _default_location(self, args: pulumi_mocks.MockResourceArgs) -> Optional[str]:
        """The location pulumi-azure-native's Check gives a resource whose body takes one and that was given none
        (provider/pkg/provider/provider.go `applyDefaults` -> `getDefaultLocation`, stored version 006a62afe4): its
        provider's `location` config (an explicit provider's `location` input; the default provider's is the stack's
        `azure-native:location`, pulumi/pulumi `target.go` `GetPackageConfig`). Create then answers it as an output,
        in a preview too (`PreviewOutputs` projects the checked inputs). Without that config Check reads the resource
        group's location from Azure; the stand-ins leave it unset."""
        args_class = azure_inputs._args_class(args.typ)
        if args_class is None or "location" not in azure_inputs._properties(args_class):
            return None
        if args.provider:
            return self.provider_locations.get(_provider_key(args.provider, self.provider_locations))
        return pulumi.Config("azure-native").get("location")

    def _subscription_of(self, provider: Optional[str]) -> str:
        """The subscription of the azure-native provider a reference (`<urn>::<id>`) names: its `subscriptionId`;
        for the default provider (no reference) the stack's `azure-native:subscriptionId`, its config (pulumi/pulumi
        `target.go` `GetPackageConfig`); else the kit's one."""
        if not _provider_urn(provider):
            return pulumi.Config("azure-native").get("subscriptionId") or SUBSCRIPTION
        return self.subscriptions.get(_provider_key(provider, self.subscriptions), SUBSCRIPTION)

    def refused_reads(self) -> list[str]:
        """An azure-native invoke other than the caller's own identity's GETs or POSTs the ARM path its arguments
        name (pulumi-azure-native `provider/pkg/provider/provider.go` `Invoke`, its default case): sent in a preview
        for a resource this stack creates, Azure answers 404 and the preview fails (pulumi/pulumi-azure-native#3617).
        The engine sends an invoke whose arguments are all known and whose dependencies exist (pulumi/pulumi
        `pkg/resource/deploy/source_eval.go` `Invoke`: `HasUnresolved` -> unknown): one given a name as plain text
        reaches the provider; whether the resource is created before or after the invoke is sent, it does not exist
        in a preview. A read in a resource group the stack creates is answered 404 too (ResourceGroupNotFound),
        whatever it names: the usual program gives its resources the group's `name` output, not known in a preview."""
        def where(group: str, name: str) -> Optional[str]:
            if (group.lower(), name.lower()) in self.created:
                return ", which this stack creates"
            return f", in resource group {group}, which this stack creates" if group.lower() in self.created_groups \
                else None
        return [f"{token} reads {group}/{name}{found}: sent in `pulumi preview` of a new stack, Azure answers 404 "
                "Not Found (give the invoke the resource's outputs, not its name as text)"
                for token, group, names in self.reads for name in (names or [group])
                if (found := where(group, name)) is not None]

    def _stack_reference(self, args: pulumi_mocks.MockResourceArgs):
        """A StackReference answered from the referenced stack's outputs, given under the name the program
        references (org/project/stack) or its stack name alone: a dict (a `Secret` value is a secret output) or
        that stack's Plan (its `secret_outputs` secret). As the engine's builtin provider reads one (pulumi/pulumi
        `pkg/resource/deploy/builtins.go` `readStackReference` at 1b5949891b): `outputs` keeps each secret as a
        secret, `secretOutputNames` lists, sorted, each output that is or holds one (`HasSecrets`); the SDK then
        makes `outputs` secret whole when any is, and get_output/require_output secret for a listed name (pulumi
        3.272.0 `runtime/rpc.py` `deserialize_property`, `stack_reference.py` `__is_secret_name`)."""
        name = str(args.inputs.get("name", ""))
        stack = name.rsplit("/", 1)[-1]
        outputs = self.references.get(name, self.references.get(stack))
        if outputs is None:
            keys = repr(name) if name == stack else f"{name!r} or {stack!r}"
            raise ProgramError(f"StackReference {name!r}: no outputs of that stack given to read (references keys "
                               f"them by {keys}; given: {', '.join(sorted(self.references)) or 'none'})", 0)
        wire = stack_outputs_as_sent(outputs) if isinstance(outputs, Plan) else \
            {k: _secrets_wrapped(v) for k, v in outputs.items()}
        return f"{name}", {"name": name, "outputs": wire,
                           "secretOutputNames": sorted(k for k, v in wire.items() if _secret_paths(v))}

    def call(self, args: pulumi_mocks.MockCallArgs):
        token = args.token
        self.invokes.append((token, args.provider))
        if self.preview:
            self.reads.append((token, str(args.args.get("resourceGroupName", "")), [
                str(args.args[k]) for k in _NAME_INPUTS
                if k != "resourceGroupName" and isinstance(args.args.get(k), str)]))
        if token.endswith(":listManagedClusterUserCredentials"):
            cluster, group = args.args["resourceName"], str(args.args.get("resourceGroupName", ""))
            location = self.locations.get((group.lower(), str(cluster).lower())) or "westeurope"
            kubeconfig = _fake_kubeconfig(cluster, location)
            self.api_servers[_server_of(cluster, location)] = ClusterEndpoint(
                arm_id("azure-native:containerservice:ManagedCluster", str(cluster),
                       {"resourceGroupName": group, "resourceName": cluster}, self._subscription_of(args.provider))[0],
                base64.b64decode(FAKE_CA_DATA))
            return {"kubeconfigs": [{"name": "clusterUser", "value": base64.b64encode(kubeconfig.encode()).decode()}]}
        if token.endswith(":getClientToken"):
            return {"token": token_for(args.args.get("endpoint"))}
        if token.endswith(":getClientConfig"):
            return {"clientId": "deployer-client", "objectId": DEPLOYER,
                    "subscriptionId": self._subscription_of(args.provider),
                    "tenantId": TENANT}
        if token.endswith(":listStorageAccountKeys"):
            return {"keys": [{"keyName": "key1", "value": "offline-fake-key", "permissions": "FULL"}]}
        if token in self.answers:
            answer = self.answers[token]
            return dict(answer(dict(args.args)) if callable(answer) else answer)
        raise UnansweredInvoke(
            f"offline runner has no stand-in for invoke {token} (called with {dict(args.args)}): give the answer "
            f"Azure would return in run(..., invokes={{{token!r}: {{...}}}}), its fields as the REST API spells them "
            "(location, oidcIssuerProfile: {issuerURL: ...}, networkProfile: {podCidr: ...}; a field spelt otherwise "
            "reads as None), or a function of the call's arguments")


def _provider_urn(reference: Optional[str]) -> str:
    """The URN of the provider a reference (`<urn>::<id>`) names ("" for none)."""
    return str(reference or "").rsplit("::", 1)[0] if reference else ""


def _provider_key(reference: Optional[str], known: collections.abc.Collection[str]) -> str:
    """Where `known` holds the provider a reference names: its URN, else (registered through the SDK's own
    MockMonitor, whose MockResourceArgs carry no parent: `_registering_urn`) its URN without the parents' types."""
    urn = _provider_urn(reference)
    if urn in known or not urn:
        return urn
    stack, project, types, name = urn.split("::", 3)
    return "::".join((stack, project, types.rsplit("$", 1)[-1], name))


# The URN of the resource the recording monitor is registering, for the mocks (the SDK's MockResourceArgs has no
# URN nor parent).
_REGISTERING: "contextvars.ContextVar[str]" = contextvars.ContextVar("llmplatform_registering", default="")


def _registering_urn(args: pulumi_mocks.MockResourceArgs) -> str:
    """The URN of the resource being registered: as the recording monitor made it, else (the SDK's own monitor, as
    `pulumi.runtime.set_mocks(OfflineMocks())` uses it) without its parents' types, which `_provider_key` drops from
    a reference too: two providers named alike under two parents are then one, as the kit had them before."""
    return _REGISTERING.get() or f"urn:pulumi:{pulumi.get_stack()}::{pulumi.get_project()}::{args.typ}::{args.name}"


def stack_outputs_as_sent(plan: Plan) -> dict[str, Any]:
    """A plan's stack outputs as the engine holds them (a StackReference's answer, the root Stack's outputs for a
    stack policy): each secret output wrapped as a secret on the wire."""
    return {k: _secrets_wrapped(Secret(v)) if k in plan.secret_outputs else v for k, v in plan.outputs.items()}


def _secrets_wrapped(value: Any) -> Any:
    """A referenced output as the engine sends it: each `Secret` in it as a secret on the wire."""
    if isinstance(value, Secret):
        return {SIG_KEY: SECRET_SIG, "value": _secrets_wrapped(value.value)}
    if isinstance(value, dict):
        return {k: _secrets_wrapped(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_secrets_wrapped(v) for v in value]
    return value


def _unwrap_secrets(value: Any) -> Any:
    if isinstance(value, dict):
        if value.get(SIG_KEY) == SECRET_SIG:
            return _unwrap_secrets(value.get("value"))
        return {k: _unwrap_secrets(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unwrap_secrets(v) for v in value]
    return value


_SECRET_BYTES = SECRET_SIG.encode()


def _references_marshalled(value: Any) -> Any:
    """A value with each resource reference as the engine marshals it for a policy (`MarshalOptions.KeepResources`
    false: its id when it has one, else its URN; pulumi/pulumi `sdk/go/common/resource/plugin/rpc.go`
    `MarshalPropertyValue`)."""
    if isinstance(value, dict):
        if value.get(SIG_KEY) == RESOURCE_REF_SIG:
            return value.get("id") or value.get("urn")
        return {k: _references_marshalled(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_references_marshalled(v) for v in value]
    return value


def _secret_paths(value: Any, path: str = "") -> list[str]:
    if isinstance(value, dict):
        if value.get(SIG_KEY) == SECRET_SIG:
            return [path or "."]
        return [p for k, v in value.items() for p in _secret_paths(v, f"{path}.{k}" if path else k)]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _secret_paths(v, f"{path}[{i}]")]
    return []


def _unknown_paths(value: Any, path: str = "") -> list[str]:
    """The paths of the values a preview does not know yet, as sent: the wire's unknown value (an unknown secret's
    `.value` too), nothing else. A null is a null, the program's own or one read from an output a preview's create
    left out (`metadata.uid` of an object the provider answers with its inputs): the engine keeps it a null
    (pulumi/pulumi 1b5949891b `pkg/resource/deploy/source_eval.go` `RegisterResource` unmarshals the request without
    `SkipNulls`; `sdk/go/common/resource/plugin/rpc.go` marshals a null as a null, and `analyzer_plugin.go`'s
    `Analyze` and `AnalyzeStack` skip none), and so does pulumi-kubernetes (`provider/pkg/provider/provider.go` at
    94977969: `Check`, `Diff` and `Create` unmarshal with `KeepUnknowns: true, SkipNulls: false`; a preview's
    `Create` whose inputs hold an unknown, or that skips the dry run, answers the inputs as sent). The SDK's
    deserialization drops a null from the recorded inputs; a value not known yet it keeps as an `Unknown`."""
    if value == _UNKNOWN:
        return [path or "."]
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _unknown_paths(v, f"{path}.{k}" if path else k)]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _unknown_paths(v, f"{path}[{i}]")]
    return []


class _WarningCollector(logging.Handler):
    """Keeps what the program logs with pulumi.log.warn (the mock engine hands it to Python logging)."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def _moving_aliases(aliases: Any) -> list[dict[str, Any]]:
    """The aliases that move or rename (alias.proto `Alias`: a URN, or a spec naming more than a type)."""
    return [json_format.MessageToDict(a) for a in aliases
            if a.urn or any(getattr(a.spec, k) for k in ("name", "parentUrn", "noParent", "stack", "project"))]


_AS_SENT: "contextvars.ContextVar[bool]" = contextvars.ContextVar("llmplatform_references_as_sent", default=False)
_SWAP_LOCK = threading.Lock()
_swap: dict[str, Any] = {"calls": 0, "rebuild": rpc.deserialize_resource}


def _deserialize_resource(ref_struct: Any, keep_unknowns: Optional[bool] = None) -> Any:
    """Inside a monitor call (this context only), a resource reference as sent (its signature, urn, id,
    packageVersion); elsewhere the SDK's own: the program's side, another thread's, another run's."""
    if _AS_SENT.get():
        return json_format.MessageToDict(ref_struct)
    return _swap["rebuild"](ref_struct, keep_unknowns)


@contextlib.contextmanager
def _references_as_sent() -> Iterator[None]:
    """For one call to the monitor, resource references in the request stay references, as a provider behind the
    engine receives them. The SDK's mock monitor rebuilds each as a Resource (pulumi 3.272.0 `runtime/rpc.py`
    `deserialize_resource`, a module global `deserialize_property` calls) whose URN and id come later, so that
    serializing its answer waited for them: from inside the call, by turning the run's loop one level deeper per
    such call (a RecursionError for 100 of them). The answer hands the reference back as sent; the program's SDK
    rebuilds it, as from the engine's answer. The SDK's function is put back after the last call in flight (the
    plugin host's monitors answer from gRPC threads, one call at a time each)."""
    with _SWAP_LOCK:
        if _swap["calls"] == 0:
            _swap["rebuild"], rpc.deserialize_resource = rpc.deserialize_resource, _deserialize_resource
        _swap["calls"] += 1
    token = _AS_SENT.set(True)
    try:
        yield
    finally:
        _AS_SENT.reset(token)
        with _SWAP_LOCK:
            _swap["calls"] -= 1
            if _swap["calls"] == 0:
                rpc.deserialize_resource = _swap["rebuild"]


class RecordingMonitor(pulumi_mocks.MockMonitor):
    """The SDK's mock monitor, also keeping what a registration asked for: parent, dependencies, options."""

    def __init__(self, mocks: pulumi_mocks.Mocks, config: Optional[dict[str, Any]] = None):
        super().__init__(mocks)
        self.registrations: list[Registration] = []
        self.config = config or {}  # 'namespace:key' -> value: a default provider's inputs are its package's keys
        self.default_providers: dict[str, Registration] = {}  # by URN, in the order first used
        self.default_provider_of: dict[str, str] = {}  # a resource's URN -> its default provider's
        self._options_of: dict[str, dict[str, Any]] = {}  # a registered URN -> its options, as recorded

    def Invoke(self, request):
        if not request.provider:
            self._default_provider(request.tok.split(":", 1)[0], request.version, request.pluginDownloadURL)
        with _references_as_sent():
            return super().Invoke(request)

    def ReadResource(self, request):
        if not request.provider and not request.type.startswith(_PROVIDER_TYPE):
            self._default_provider(request.type.split(":", 1)[0], request.version, request.pluginDownloadURL)
        with _references_as_sent():
            return super().ReadResource(request)

    def _default_provider(self, package: str, version: str, download_url: str) -> str:
        """The URN of the default provider the engine makes for a package at a version when something uses it
        naming no provider (pulumi/pulumi `pkg/resource/deploy/default_providers.go` at 1b5949891b,
        `newRegisterDefaultProviderEvent`): no parent, named `default_<major>_<minor>_<patch>` (`providers.go`
        `DefaultName`), its inputs the stack's config of that package (`target.go` `GetPackageConfig`, values as
        text) and the version. The engine registers it once per package and version."""
        name = default_provider_name(version, download_url)
        urn = self.make_urn("", _PROVIDER_TYPE + package, name)
        if urn not in self.default_providers:
            inputs: dict[str, Any] = {key.split(":", 1)[1]: value for key, value in self.config.items()
                                      if key.split(":", 1)[0] == package}
            _engines_provider_inputs(inputs, version, download_url)
            self.default_providers[urn] = Registration(
                urn=urn, type=_PROVIDER_TYPE + package, name=name, parent="", custom=True, inputs=inputs,
                secret_paths=[], dependencies=[], options={
                    "protect": False, "ignoreChanges": [], "deleteBeforeReplace": False, "retainOnDelete": False,
                    "provider": None, "replaceOnChanges": [], "customTimeouts": {}})
        return urn

    def RegisterResource(self, request):
        with _references_as_sent():
            return self._register(request)

    def RegisterResourceOutputs(self, request):
        """A component's outputs, kept on its registration: the engine holds them as its state's outputs and hands
        them to a stack policy (pulumi/pulumi `pkg/resource/deploy/step_executor.go`
        `ExecuteRegisterResourceOutputs`)."""
        found = next((r for r in reversed(self.registrations) if r.urn == request.urn), None)
        if found is not None:
            found.outputs = _references_marshalled(json_format.MessageToDict(request.outputs))
        return super().RegisterResourceOutputs(request)

    def _register(self, request):
        registering = _REGISTERING.set(self.make_urn(request.parent, request.type, request.name))
        try:
            response = super().RegisterResource(request)
        finally:
            _REGISTERING.reset(registering)
        if (request.custom and not request.type.startswith(_PROVIDER_TYPE) or request.remote) and not request.provider:
            self.default_provider_of[response.urn] = self._default_provider(
                request.type.split(":", 1)[0], request.version, request.pluginDownloadURL)
        if request.type != "pulumi:pulumi:Stack":
            # the paths as sent (the SDK's deserialization moves a secret's mark up to its list or object); a
            # message without the secret signature has none, and is not converted
            wire = request.object.SerializeToString()
            raw = json_format.MessageToDict(request.object) if _SECRET_BYTES in wire else {}
            unknown = _unknown_paths(json_format.MessageToDict(request.object)) if _UNKNOWN.encode() in wire else []
            inputs = whole_numbers(_unwrap_secrets(rpc.deserialize_properties(request.object)))
            if request.type.startswith(_PROVIDER_TYPE):
                _engines_provider_inputs(inputs, request.version, request.pluginDownloadURL)
            timeouts = request.customTimeouts
            # The engine gives a resource the parent's protect, retainOnDelete and deletedWith where the request
            # leaves them unset (pulumi/pulumi `pkg/resource/deploy/source_eval.go` `inheritFromParent` at
            # 1b5949891b, in every engine since v3.225.0). The Python SDK sends its own parent's protect (pulumi
            # 3.272.0 `resource.py`), not the other two: a child of a component given retain_on_delete or
            # deleted_with is sent without them, and the engine keeps it retained, or deleted with that resource.
            inherited = self._options_of.get(request.parent, {})
            self.registrations.append(Registration(
                urn=response.urn, type=request.type, name=request.name, parent=request.parent,
                custom=request.custom, inputs=inputs, secret_paths=_secret_paths(raw), unknown_paths=unknown,
                # a set to the engine; the SDK sends it in the order of a set of Resources (by memory address)
                dependencies=sorted(request.dependencies),
                property_dependencies={key: sorted(deps.urns) for key, deps in sorted(
                    request.propertyDependencies.items()) if deps.urns},
                options={
                    # as the engine keeps them: one the request leaves unset is the parent's (below)
                    "protect": bool(request.protect if request.HasField("protect") else inherited.get("protect")),
                    "ignoreChanges": list(request.ignoreChanges),
                    "deleteBeforeReplace": bool(request.deleteBeforeReplace),
                    "retainOnDelete": bool(request.retainOnDelete if request.HasField("retainOnDelete")
                                           else inherited.get("retainOnDelete")),
                    **({"deletedWith": deleted_with} if (deleted_with := request.deletedWith
                                                         or inherited.get("deletedWith")) else {}),
                    "provider": request.provider or None,
                    "replaceOnChanges": list(request.replaceOnChanges),
                    "customTimeouts": {k: getattr(timeouts, k) for k in ("create", "update", "delete")
                                       if getattr(timeouts, k)},
                    # aliases that move or rename a resource, as sent ({"urn": ...} or {"spec": {name, type,
                    # parentUrn, noParent...}}), for tools that compare plans; the type-only aliases provider SDKs
                    # add to every resource (their older API versions) are left out
                    **({"aliases": moves} if (moves := _moving_aliases(request.aliases)) else {}),
                    # an adopted resource (`import_`): the engine reads it, it exists already
                    **({"import": request.importId} if request.importId else {}),
                    **_replacement_options(request),
                }))
            self._options_of[response.urn] = self.registrations[-1].options
        return response


_PROVIDER_TYPE = "pulumi:providers:"


def _replacement_options(request: Any) -> dict[str, Any]:
    """The options that decide a replacement besides those above, as pulumi 3.272.0 sends them
    (`runtime/resource.py` `RegisterResourceRequest`), each only when set, so a plan that uses none is the same file:
    - `deleteBeforeReplaceDefined`: an explicit `delete_before_replace=False` (the SDK sends `deleteBeforeReplace`
      false and `deleteBeforeReplaceDefined` true), which the engine puts over the provider's answer to delete first
      (pulumi/pulumi 1b5949891b `pkg/resource/deploy/source_eval.go` RegisterResource, `step_generator.go`
      `continueStepsFromDiff`: `goal.DeleteBeforeReplace`); the engine reads true alike with or without the flag;
    - `replaceWith`: the URNs whose replacement replaces this resource too (`step_generator.go` `diff`);
    - `replacementTrigger`: a value whose change replaces it (`step_generator.go` `shouldTriggerReplace`), as the
      engine compares it: a secret part as the plan files show one (`[secret]`, its shape kept: the engine compares
      the values within, which no plan may show), an unknown as the wire's unknown value; a trigger that resolves to
      null is none (the engine's "no replacement trigger");
    - `hideDiffs`: the property paths whose diff the CLI's display leaves out (`pkg/backend/display/object_diff.go`,
      `pkg/engine/detailedDiff.go`); it changes no step."""
    options: dict[str, Any] = {}
    if request.deleteBeforeReplaceDefined and not request.deleteBeforeReplace:
        options["deleteBeforeReplaceDefined"] = True
    if request.replace_with:
        options["replaceWith"] = list(request.replace_with)
    if request.HasField("replacement_trigger"):
        trigger = json_format.MessageToDict(request.replacement_trigger)
        if trigger is not None:
            options["replacementTrigger"] = whole_numbers(_secrets_masked(_references_marshalled(trigger)))
    if request.hideDiffs:
        options["hideDiffs"] = list(request.hideDiffs)
    return options


def _secrets_masked(value: Any, masked: bool = False) -> Any:
    """A value as sent with each secret's scalars as the plan files show a secret (REDACTED), its shape kept."""
    if isinstance(value, dict):
        if value.get(SIG_KEY) == SECRET_SIG:
            return _secrets_masked(value.get("value"), True)
        return {k: _secrets_masked(v, masked) for k, v in value.items()}
    if isinstance(value, list):
        return [_secrets_masked(v, masked) for v in value]
    # an unknown stays one (the SDK sends a secret not known yet as a secret holding it: pulumi 3.272.0 rpc.py
    # `serialize_property`), as the engine, which unwraps the secret, takes it for a change
    return REDACTED if masked and value != _UNKNOWN else value


def _engines_provider_inputs(inputs: dict[str, Any], version: str, download_url: str) -> None:
    """What the engine adds to a provider's inputs, a default one's or one the program registers: the plugin's
    version and download URL the request names (pulumi/pulumi 1b5949891b `pkg/resource/deploy/source_eval.go`
    `RegisterResource`, `providers.SetProviderVersion`/`SetProviderURL`; a generated SDK's Provider sends its own
    package's version), so the state, a policy and a plan diff see a provider plugin's upgrade as its update."""
    if version:
        inputs["version"] = version
    if download_url:
        inputs["pluginDownloadURL"] = download_url


def default_provider_name(version: str, download_url: str = "") -> str:
    """pulumi/pulumi `pkg/resource/deploy/providers/provider.go` `DefaultName` at 1b5949891b: `default`, then
    `_<major>_<minor>_<patch>` and `_<part>` per pre-release and build part of the version, then `_<download URL as
    a QName>` (`tokens.IntoQName`: empty `/`-separated parts dropped, each character outside
    `[A-Za-z0-9_.-]` as `_`)."""
    name = "default"
    version_parts = re.fullmatch(r"(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+([0-9A-Za-z.-]+))?", version)
    if version_parts:
        major, minor, patch, pre, build = version_parts.groups()
        name += f"_{int(major)}_{int(minor)}_{int(patch)}"
        name += "".join(f"_{part}" for part in [*(pre or "").split("."), *(build or "").split(".")] if part)
    if download_url:
        name += "_" + ("/".join(re.sub(r"[^A-Za-z0-9_.-]", "_", part) for part in download_url.split("/") if part)
                       or "_")
    return name
