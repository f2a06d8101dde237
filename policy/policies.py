"""The platform's guardrails as pulumi-policy resource policies: one set of rules for two runners.

`pulumi preview --policy-pack policy` runs them through PolicyPack (`__main__.py`); `make plan` calls each policy's
validate function on the inputs the offline plan records (`offline/policy_check.py`). They read only what both give:
the resource type, its input properties, its options, the stack name in its URN, and the pack's configuration
(`--policy-pack-config`; `make plan` writes build/<stack>/policy-config.json from the stack). Every rule is mandatory
unless marked advisory; each says in one line why it exists.
"""
import json
import re
from collections.abc import Mapping, Sequence
from itertools import chain
from pathlib import Path
from typing import Any, Callable, Iterator, Optional, Union

from pulumi_policy import (EnforcementLevel, PolicyConfigSchema, PolicyResource, ReportViolation,
                           ResourceValidationArgs, ResourceValidationPolicy, StackValidationArgs, StackValidationPolicy)
from pulumi_policy.proxy import UNKNOWN_OBJECT_VALUE, UnknownValueError

PROD_STACKS = ("prod", "global")  # and every regional stack prod-<region>
GPU_TAINT = "nvidia.com/gpu=present:NoSchedule"
WORKLOADS = {"kubernetes:apps/v1:Deployment", "kubernetes:apps/v1:StatefulSet", "kubernetes:apps/v1:DaemonSet",
             "kubernetes:batch/v1:Job", "kubernetes:batch/v1:CronJob", "kubernetes:core/v1:Pod"}
# Capabilities a container may add, each with why (documented in docs/decisions.md).
CAPABILITY_EXEMPTIONS = {("vllm", "IPC_LOCK"): "vLLM's NIXL KV transfer pins memory for RDMA (prefill/decode only)"}
# Node paths a workload may mount (hostPath), by the workload's name and the path, each with why (docs/decisions.md).
# A node path can take the node as surely as a privileged container: a runtime's socket (containerd's, its NRI
# plugins' socket: an NRI plugin adds mounts, devices and OCI hooks to every container the node starts, containerd/nri
# pkg/api/adjustment.go), the kubelet's credentials, / itself.
HOST_PATH_EXEMPTIONS = {("nri-plugin-ulimit-adjuster", "/var/run/nri/nri.sock"):
                        "containerd/nri's ulimit-adjuster raises memlock for NIXL's pinned RDMA memory through "
                        "containerd's NRI socket (prefill/decode only; llm-d's AKS guide)"}
# Pods that run in a namespace enforcing Pod Security `privileged` without needing it, by the component that makes
# them (its type, the URN's parent), kind and name, each with why (docs/decisions.md, "Prefill/decode's UI out of the
# privileged namespace"); every other such pod is refused, a consumer's own Deployment named `router` among them.
PRIVILEGED_NAMESPACE_COMPANIONS = {("llmplatform:index:LlmdStack", "Deployment", "router"):
                                   "LlmdStack's API gate beside vLLM under prefill/decode: the stack's own trust path "
                                   "(its key, its pool gateway); moving it out of llm-d's namespace is left"}
PRIVILEGED = "privileged"
BASELINE_CAPABILITIES = {"AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD",
                         "NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT"}
_SECRET_NAME = re.compile(r"(password|passwd|secret|token|api[_-]?key|private[_-]?key|credential)", re.I)
_PINNED = re.compile(r"^[^@]+@sha256:[0-9a-f]{64}$|^.+:(?!latest$|main$|master$)[A-Za-z0-9_][A-Za-z0-9._-]*$")


def whole(value: Any) -> Any:
    """A number as a person writes it: the engine's wire carries every number as a double (1.0)."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def stack_of(args: ResourceValidationArgs) -> str:
    """urn:pulumi:<stack>::<project>::<type>::<name>"""
    return args.urn.split("::", 1)[0].rsplit(":", 1)[-1]


def is_prod(args: ResourceValidationArgs) -> bool:
    stack = stack_of(args)
    return stack in PROD_STACKS or stack.startswith("prod-")


def _kind(*types: str) -> Callable[[ResourceValidationArgs], bool]:
    return lambda args: args.resource_type in types


def _policy(name: str, reason: str, applies: Callable[[ResourceValidationArgs], bool],
            check: Callable[[ResourceValidationArgs], Iterator[str]],
            level: EnforcementLevel = EnforcementLevel.MANDATORY,
            config: Optional[PolicyConfigSchema] = None) -> ResourceValidationPolicy:
    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        if applies(args):
            for problem in check(args):
                report_violation(f"{problem} ({reason})", args.urn)
    return ResourceValidationPolicy(name=name, description=reason, validate=validate, enforcement_level=level,
                                    config_schema=config)


# ---- GPU pools ------------------------------------------------------------------------------------------------
def _is_gpu_pool(args: Union[ResourceValidationArgs, PolicyResource]) -> bool:  # a resource, or one of the stack's
    return args.resource_type == "azure-native:containerservice:AgentPool" and \
        str(args.props.get("vmSize", "")).startswith("Standard_N")


def _gpu_autoscaled_tainted(args: ResourceValidationArgs) -> Iterator[str]:
    if not args.props.get("enableAutoScaling"):
        yield f"GPU pool {args.props.get('agentPoolName')} is not autoscaled"
    if GPU_TAINT not in (args.props.get("nodeTaints") or []):
        yield f"GPU pool {args.props.get('agentPoolName')} lacks the taint {GPU_TAINT}"


def _gpu_scales_to_zero(args: ResourceValidationArgs) -> Iterator[str]:
    if (args.props.get("minCount") or 0) != 0:
        yield f"GPU pool {args.props.get('agentPoolName')} keeps {whole(args.props.get('minCount'))} node(s) running"


# ---- containers -----------------------------------------------------------------------------------------------
def pod_specs(props: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    spec = props.get("spec") or {}
    if "containers" in spec:
        yield spec
    template = ((spec.get("jobTemplate") or {}).get("spec") or spec).get("template") or {}
    if template.get("spec"):
        yield template["spec"]


def containers(props: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    for pod in pod_specs(props):
        # pulumi-policy hands validators read-only Mapping/Sequence proxies, not dicts and lists: chain, never add
        yield from chain(pod.get("initContainers") or (), pod.get("containers") or ())


def _given(values: Any) -> set[str]:
    """The keys of a map given a value: a null is none, as Kubernetes reads it. The engine sends a program's null
    (pulumi-kubernetes' Check keeps it where the object holds a value not known yet: provider/pkg/provider/
    provider.go at 94977969, `normalizeInputs` skips the typed round trip when `hasComputedValue`; `SkipNulls: false`)
    where the offline runners send none; a value not known yet is given."""
    return {key for key in values if _read(values, key) is not None} if isinstance(values, Mapping) else set()


def _container_basics(args: ResourceValidationArgs) -> Iterator[str]:
    for c in containers(args.props):
        resources = c.get("resources") or {}
        requests, limits = _given(resources.get("requests")), _given(resources.get("limits"))
        if not {"cpu", "memory"} <= requests:
            yield f"container {c.get('name')} has no cpu and memory requests"
        if "memory" not in limits:
            yield f"container {c.get('name')} has no memory limit"
        if not _PINNED.match(str(c.get("image", ""))):
            yield f"container {c.get('name')} image {c.get('image')!r} is not pinned to a tag or digest"


ALLOWED_REGISTRIES_POLICY = "images-from-allowed-registries"
ALLOWED_REGISTRIES = "allowedRegistries"
ALLOWED_REGISTRIES_SCHEMA = PolicyConfigSchema(properties={ALLOWED_REGISTRIES: {
    "type": "array", "items": {"type": "string", "minLength": 1}, "default": [],
    "description": "Registries (host, optional port and path) every container image must come from; empty: any"}})


def _from_allowed_registries(args: ResourceValidationArgs) -> Iterator[str]:
    config = args.get_config()
    unknown = sorted(set(config) - {ALLOWED_REGISTRIES})
    if unknown:  # the engine's schema check lets any key through (no additionalProperties): a typo would allow all
        yield f"the pack's configuration of {ALLOWED_REGISTRIES_POLICY} has unknown keys {unknown}: only " \
              f"{ALLOWED_REGISTRIES}"
    allowed = [str(r) for r in config.get(ALLOWED_REGISTRIES) or ()]
    if not allowed:
        return
    for c in containers(args.props):
        image = str(c.get("image", ""))
        if not image.startswith(tuple(f"{registry}/" for registry in allowed)):
            yield f"container {c.get('name')} image {image!r} is not from {' or '.join(allowed)}"


def _privileges(props: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any], Any]]:
    """What a workload's pods take of the node or beyond a plain container, pods first, then containers, in their
    order: (what, the pod, volume or container, the detail): "host" (the host namespace's key), "hostPath" (the node
    path), "privileged", "capability" (the one added), "hostPort" (the port). Read by `no-privileged-containers`
    (what is not exempted) and the privileged-namespace rule (what baseline refuses)."""
    for pod in pod_specs(props):
        for key in ("hostNetwork", "hostPID", "hostIPC"):
            if pod.get(key):
                yield "host", pod, key
        for volume in pod.get("volumes") or ():
            if volume.get("hostPath") is not None:
                yield "hostPath", volume, volume["hostPath"].get("path")
    for c in containers(props):
        context = c.get("securityContext") or {}
        if context.get("privileged"):
            yield "privileged", c, None
        for capability in (context.get("capabilities") or {}).get("add") or []:
            yield "capability", c, capability
        for port in c.get("ports") or ():
            if port.get("hostPort"):
                yield "hostPort", c, port.get("hostPort")


def _no_privilege(args: ResourceValidationArgs) -> Iterator[str]:
    for what, item, detail in _privileges(args.props):
        if what == "host":
            yield f"pod uses {detail}"
        # the workload's name read only for a node path: a preview may not know it (a Job named after its contents)
        elif what == "hostPath" and ((args.props.get("metadata") or {}).get("name"), detail) not in \
                HOST_PATH_EXEMPTIONS:
            yield f"volume {item.get('name')} mounts the node's {detail} without a documented exemption"
        elif what == "privileged":
            yield f"container {item.get('name')} is privileged"
        elif what == "capability" and (item.get("name"), detail) not in CAPABILITY_EXEMPTIONS:
            yield f"container {item.get('name')} adds capability {detail} without a documented exemption"
        elif what == "hostPort":
            yield f"container {item.get('name')} binds the node's port {whole(detail)}"


def _names_a_secret_file(name: str, value: Any) -> bool:
    """A variable naming where a secret is mounted (`HF_TOKEN_PATH`, `POSTGRES_PASSWORD_FILE`), not the secret: its
    name ends in _PATH or _FILE and its value is an absolute path."""
    return name.upper().endswith(("_PATH", "_FILE")) and isinstance(value, str) and value.startswith("/") \
        and not any(ch.isspace() for ch in value)


def _no_secret_literals(args: ResourceValidationArgs) -> Iterator[str]:
    for c in containers(args.props):
        for env in c.get("env") or []:
            name = str(env.get("name", ""))
            if not _SECRET_NAME.search(name):
                continue
            try:
                value = env.get("value")
            except UnknownValueError:
                # a preview: the value comes from another resource (a generated password), into the object all the
                # same; only a variable that may name a mounted file is left to `up` to judge
                if name.upper().endswith(("_PATH", "_FILE")):
                    raise
                yield f"container {c.get('name')} sets {name} from another resource's output as a literal; use a " \
                      "Secret reference"
                continue
            if value and not _names_a_secret_file(name, value):
                yield f"container {c.get('name')} sets {name} as a literal; use a Secret reference"
    if args.resource_type == "kubernetes:core/v1:ConfigMap":
        for key in (args.props.get("data") or {}):
            if _SECRET_NAME.search(key):
                yield f"ConfigMap key {key} looks like a secret; keep it in a Secret or Key Vault"


# ---- Azure data services --------------------------------------------------------------------------------------
def _key_vault_rbac(args: ResourceValidationArgs) -> Iterator[str]:
    if not (args.props.get("properties") or {}).get("enableRbacAuthorization"):
        yield "Key Vault does not use Azure RBAC authorisation"


def _key_vault_purge_protection(args: ResourceValidationArgs) -> Iterator[str]:
    if not (args.props.get("properties") or {}).get("enablePurgeProtection"):
        yield "Key Vault has no purge protection"


def _storage_secure(args: ResourceValidationArgs) -> Iterator[str]:
    p = args.props
    if p.get("minimumTlsVersion") not in ("TLS1_2", "TLS1_3"):
        yield f"storage account accepts TLS below 1.2 ({p.get('minimumTlsVersion')})"
    if p.get("allowBlobPublicAccess") is not False:
        yield "storage account allows public blob access"
    if (p.get("networkRuleSet") or {}).get("defaultAction") != "Deny":
        yield "storage account network default is not Deny"


def _postgres_private(args: ResourceValidationArgs) -> Iterator[str]:
    if args.resource_type.endswith(":FirewallRule"):
        yield "PostgreSQL firewall rules open the server to networks outside the VNet"
    elif args.resource_type.endswith(":Server"):
        if (args.props.get("network") or {}).get("publicNetworkAccess") != "Disabled":
            yield "PostgreSQL server has public network access"
    elif args.props.get("configurationName") == "require_secure_transport" and \
            str(args.props.get("value", "")).upper() != "ON":
        yield "PostgreSQL does not require TLS (require_secure_transport)"


# ---- prod -----------------------------------------------------------------------------------------------------
STATEFUL = ("azure-native:keyvault:Vault", "azure-native:dbforpostgresql:Server",
            "azure-native:dbforpostgresql:Database", "azure-native:storage:StorageAccount",
            "azure-native:storage:FileShare", "azure-native:resources:ResourceGroup",
            # every object in the cluster, and the volumes its claims made (AKS deletes its node resource group);
            # the address clients and DNS point at
            "azure-native:containerservice:ManagedCluster", "azure-native:network:PublicIPAddress",
            # the edge: a new profile has a new Front Door ID, which every region's gateway refuses until its stack is
            # set to it; a new endpoint a new host name, the one clients call
            "azure-native:cdn:Profile", "azure-native:cdn:AFDEndpoint",
            # a cluster's (or the edge's) logs and metrics so far, and the dashboards Managed Grafana's users made: a
            # new one starts empty
            "azure-native:operationalinsights:Workspace", "azure-native:monitor:AzureMonitorWorkspace",
            "azure-native:dashboard:Grafana",
            # the model share's recovery points: deleting the protected item (snapshots turned off) deletes them, and
            # the vault holds the item and its soft-deleted data
            "azure-native:recoveryservices:Vault", "azure-native:recoveryservices:ProtectedItem")


PVC = "kubernetes:core/v1:PersistentVolumeClaim"


def _prod_state(args: ResourceValidationArgs) -> bool:
    return is_prod(args) and (args.resource_type in STATEFUL or _provisioned_claim(args))


def _provisioned_claim(args: ResourceValidationArgs) -> bool:
    """A claim whose volume a provisioner made (Open-WebUI's uploads; one cloned from a `dataSource` too): the volume
    and the files on it go with the claim, under the reclaim policy `Delete` of every class AKS ships (azurefile-csi,
    managed-csi and their -premium twins). Only a claim that names its volume and `storageClassName: ""` (the model
    share's) is bound to a volume no provisioner made (a provisioned one always carries its class, and binding matches
    the class): that claim holds no data of its own, the volume and its share stay when the claim goes. A claim that
    names a volume of a class may name one its provisioner made for an earlier claim, reclaimed with the claim."""
    if args.resource_type != PVC:
        return False
    spec = args.props.get("spec") or {}
    try:
        if spec.get("storageClassName") != "":
            return True
    except UnknownValueError:  # a preview: a class named after another resource (a StorageClass the program makes)
        return True
    try:
        return not spec.get("volumeName")
    except UnknownValueError:  # a preview: a volume named after another resource (the model share's), named alike
        return False


def _protected(args: ResourceValidationArgs) -> Iterator[str]:
    if not args.opts.protect:
        yield f"stateful {args.resource_type.rsplit(':', 1)[-1]} is not protected"


def _prod_aks(args: ResourceValidationArgs) -> Iterator[str]:
    p = args.props
    if not p.get("disableLocalAccounts"):
        yield "local accounts are enabled (Entra ID only in prod)"
    if (p.get("sku") or {}).get("tier") in (None, "Free"):
        yield "the Free tier has no uptime SLA"
    if not any(profile.get("availabilityZones") for profile in p.get("agentPoolProfiles") or []):
        yield "the system pool spans no availability zones"


GATEWAY = "kubernetes:gateway.networking.k8s.io/v1:Gateway"
# cloud-provider-azure's Service annotations, which Istio copies from a Gateway's spec.infrastructure.annotations
INTERNAL_LB = "service.beta.kubernetes.io/azure-load-balancer-internal"
ALLOWED_SERVICE_TAGS = "service.beta.kubernetes.io/azure-allowed-service-tags"
# Istio makes a Gateway's Service of the type this annotation of the Gateway itself names, over the class's
# LoadBalancer (istio/istio pilot/pkg/config/kube/gatewaycommon/deploymentcontroller.go at 86c9f01f,
# `annotation.NetworkingServiceType`): ClusterIP has no address outside the cluster (LlmdStack's pool gateway)
ISTIO_SERVICE_TYPE = "networking.istio.io/service-type"


def _acme_only(listener: dict) -> bool:
    """GatewayAccess's ACME challenge listener: plain HTTP on 80 for routes of the Gateway's own namespace (where
    cert-manager puts the challenge route), no application route."""
    # a listener's allowedRoutes left out, or its `namespaces` or `from`, is `from: Same`: the Gateway CRD's defaults,
    # which the API server writes (gateway-api v1.6.1 standard-install.yaml, gateways' spec.listeners.allowedRoutes)
    namespaces = (listener.get("allowedRoutes") or {}).get("namespaces") or {}
    return (listener.get("name"), listener.get("port"), listener.get("protocol"), namespaces.get("from") or "Same") \
        == ("acme", 80, "HTTP", "Same")


def _public_gateway_https(args: ResourceValidationArgs) -> Iterator[str]:
    """A Gateway on a public address with no HTTPS listener: every request, its bearer key and every sign-in, in
    plain HTTP. A private one (an internal load balancer) is exempt, and so is one that only answers the ACME
    HTTP-01 challenge (GatewayAccess's acme-gateway behind Front Door). One behind Front Door is not: Front Door
    reaches a prod region over HTTPS (its prompts, answers and keys cross the internet from the edge). An HTTP
    listener beside HTTPS ones is the ACME challenge and the redirect to HTTPS. A Gateway whose Service is ClusterIP
    (LlmdStack's pool gateway, behind the API gate) has no address outside the cluster: exempt too."""
    spec = args.props.get("spec") or {}
    # the listeners first: a Gateway with HTTPS passes whatever its load balancer's annotations, which a preview may
    # not know yet (an address's name and group, outputs of resources still to be created)
    listeners = spec.get("listeners") or []
    if not listeners or all(_acme_only(listener) for listener in listeners) or \
            any(listener.get("protocol") in ("HTTPS", "TLS") for listener in listeners):
        return
    annotations = (spec.get("infrastructure") or {}).get("annotations") or {}
    if str(annotations.get(INTERNAL_LB, "")).lower() == "true":
        return
    if ((args.props.get("metadata") or {}).get("annotations") or {}).get(ISTIO_SERVICE_TYPE) == "ClusterIP":
        return
    name = (args.props.get("metadata") or {}).get("name")
    # a number reaches a policy as a float (a protobuf Struct's number_value): port 80, not 80.0
    ports = ", ".join(f"{listener.get('name')} on {whole(listener.get('port'))}" for listener in listeners)
    yield f"public Gateway {name} serves plain HTTP only ({ports})"


def _helm_pinned(args: ResourceValidationArgs) -> Iterator[str]:
    version = str(args.props.get("version") or "")
    if not version or version in ("latest", "*") or any(c in version for c in "^~<>*x"):
        yield f"Helm release {args.props.get('name')} has no exact chart version ({version!r})"


# ---- Azure role assignments -----------------------------------------------------------------------------------
# Microsoft's built-in roles by their fixed ids, vendored with their source (policy/builtin_roles.json)
BUILTIN_ROLES = json.loads((Path(__file__).parent / "builtin_roles.json").read_text())
PRIVILEGED_ROLES: dict[str, str] = BUILTIN_ROLES["privileged"]
KEY_VAULT_DATA_ROLES: dict[str, str] = BUILTIN_ROLES["keyVaultData"]
ROLE_ASSIGNMENT = re.compile(r"azure-native:authorization(/v[0-9a-z]+)?:RoleAssignment")  # versioned modules too
ROLE_POLICY = "role-assignments-least-privilege"
ROLE_EXEMPTIONS = "exemptions"
ROLE_EXEMPTIONS_SCHEMA = PolicyConfigSchema(properties={ROLE_EXEMPTIONS: {
    "type": "array", "default": [],
    "description": "Role assignments allowed what the rule refuses, each by the RoleAssignment's Pulumi resource name, "
                   "the role definition GUID it grants and why",
    "items": {"type": "object", "required": ["resource", "role", "reason"], "additionalProperties": False,
              "properties": {"resource": {"type": "string", "minLength": 1},
                             "role": {"type": "string", "pattern": "^[0-9a-fA-F-]{36}$"},
                             "reason": {"type": "string", "minLength": 1}}}}})
_GUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# a scope covering a whole subscription, a management group or the tenant's root ("/"), in ARM's any case
_WIDE_SCOPE = re.compile(r"(/subscriptions/[^/]+|/providers/microsoft\.management/managementgroups/[^/]+)?")
# one secret, key or certificate of a vault (Key Vault RBAC takes each as a scope: azure-docs
# articles/key-vault/general/rbac-guide.md, "Secret scope role assignment")
_VAULT_OBJECT = re.compile(r".*/providers/microsoft\.keyvault/vaults/[^/]+/(secrets|keys|certificates)/[^/]+")


def _role_named(guid: str) -> str:
    name = PRIVILEGED_ROLES.get(guid) or KEY_VAULT_DATA_ROLES.get(guid)
    return f"{name} ({guid})" if name else f"role {guid}"


def _least_privilege(args: ResourceValidationArgs) -> Iterator[str]:
    """A role assignment grants no privileged role (full access, or the right to grant access), nothing on a whole
    subscription or management group, and no Key Vault data role on more than one secret, key or certificate (the
    program grants Key Vault Secrets User per secret). The role is read first: a preview knows it (the subscription
    comes from getClientConfig); a scope it does not know is an id of a resource this run creates, so it can be a
    whole vault, not told until `up` (a Key Vault data role: not judged), and a subscription or management group only
    where the program creates that too (any other role: passed, `up` judges it)."""
    config = args.get_config()
    unknown = sorted(set(config) - {ROLE_EXEMPTIONS})
    if unknown:  # the engine's schema check lets any key through (no additionalProperties): a typo would allow all
        yield f"the pack's configuration of {ROLE_POLICY} has unknown keys {unknown}: only {ROLE_EXEMPTIONS}"
    role_id = str(args.props.get("roleDefinitionId") or "")
    guid = role_id.rstrip("/").rsplit("/", 1)[-1].lower()
    if not _GUID.fullmatch(guid) or any((str(e.get("resource")), str(e.get("role")).lower()) == (args.name, guid)
                                        for e in config.get(ROLE_EXEMPTIONS) or ()):
        return  # exempted, or no role definition id (which role, unknown: tests/components/test_azure_role_ids.py)
    named = f"role assignment {args.name} grants {_role_named(guid)}"
    exempt = f"or list it under {ROLE_POLICY}.{ROLE_EXEMPTIONS} in the pack's configuration with the reason"
    if guid in PRIVILEGED_ROLES:
        yield f"{named}, a privileged role (full access, or the right to grant access): grant the role that does " \
              f"the one job (Network Contributor, a data role) on the one resource, {exempt}"
    try:
        scope = str(args.props.get("scope") or "").rstrip("/")
    except UnknownValueError as error:
        if guid in KEY_VAULT_DATA_ROLES:
            error.message = f"the scope of role assignment {args.name} ({_role_named(guid)}) can't be known during " \
                            "preview, so whether it is one secret or the whole vault can't be told"
            raise
        return
    if _WIDE_SCOPE.fullmatch(scope.lower()):
        yield f"{named} on {scope or '/'}, a whole subscription, management group or tenant: scope it to the " \
              f"resource group or the resource it needs, {exempt}"
    elif guid in KEY_VAULT_DATA_ROLES and not _VAULT_OBJECT.fullmatch(scope.lower()):
        yield f"{named} on {scope}, every secret, key and certificate of a vault (or of every vault under it): " \
              "scope it to the one secret " \
              f"(<vault id>/secrets/<name>; grant_secrets_user with secret_name), {exempt}"


# ---- the global edge ------------------------------------------------------------------------------------------
def _front_door_route_https(args: ResourceValidationArgs) -> Iterator[str]:
    if args.props.get("httpsRedirect") != "Enabled":
        yield f"Front Door route {args.props.get('routeName')} does not redirect HTTP to HTTPS"
    if "Https" not in (args.props.get("supportedProtocols") or ()):
        yield f"Front Door route {args.props.get('routeName')} does not accept HTTPS"


def _front_door_origin_https(args: ResourceValidationArgs) -> Iterator[str]:
    """Front Door reaches a prod region over HTTPS, checking its certificate: the edge's routes forward over HTTPS,
    its origin groups probe over HTTPS and its origins check the certificate's name."""
    props, kind = args.props, args.resource_type.rsplit(":", 1)[-1]
    if kind == "Route" and props.get("forwardingProtocol") != "HttpsOnly":
        yield f"Front Door route {props.get('routeName')} forwards {props.get('forwardingProtocol')} to the origins"
    if kind == "AFDOriginGroup" and (props.get("healthProbeSettings") or {}).get("probeProtocol") != "Https":
        yield f"Front Door origin group {props.get('originGroupName')} probes its origins without TLS"
    if kind == "AFDOrigin" and props.get("enforceCertificateNameCheck") is not True:
        yield f"Front Door origin {props.get('originName')} does not check the certificate's name"


def _front_door_custom_domain_tls(args: ResourceValidationArgs) -> Iterator[str]:
    if (args.props.get("tlsSettings") or {}).get("minimumTlsVersion") not in ("TLS12", "TLS13"):
        yield f"Front Door custom domain {args.props.get('hostName')} accepts TLS below 1.2"


def _waf_enabled(args: ResourceValidationArgs) -> Iterator[str]:
    settings = args.props.get("policySettings") or {}
    if settings.get("enabledState") != "Enabled":
        yield "the WAF policy is not enabled"
    if is_prod(args) and settings.get("mode") != "Prevention":
        yield f"the WAF policy only logs ({settings.get('mode')}); prod blocks (Prevention)"
    if is_prod(args):
        # Prevention blocks only on what a rule set says: without the default rule set (a Standard tier runs none),
        # or with its action Log (ManagedRuleSet.ruleSetAction: Block, Log or Redirect, webapplicationfirewall.json
        # 2025-11-01), the policy blocks nothing but the rate limit
        sets = ((args.props.get("managedRules") or {}).get("managedRuleSets")) or ()
        drs = [s for s in sets if s.get("ruleSetType") == "Microsoft_DefaultRuleSet"]
        if not drs:
            yield "the WAF policy runs no Microsoft_DefaultRuleSet: prod blocks injection and the like (Premium)"
        elif any(s.get("ruleSetAction") != "Block" for s in drs):
            yield (f"the WAF policy's Microsoft_DefaultRuleSet's ruleSetAction is "
                   f"{', '.join(str(s.get('ruleSetAction')) for s in drs)}; prod blocks (Block)")


def _fleet_staged(args: ResourceValidationArgs) -> Iterator[str]:
    stages = ((args.props.get("strategy") or {}).get("stages")) or ()
    if len(stages) < 2:
        yield "the fleet update strategy has fewer than two stages: every region would upgrade at once"
    elif any(not s.get("afterStageWaitInSeconds") for s in list(stages)[:-1]):
        yield "a fleet update stage has no soak wait before the next region"


# ---- the stack as a whole -------------------------------------------------------------------------------------
def _requests_gpu(resource: Any) -> bool:
    for c in containers(resource.props):
        resources = c.get("resources") or {}
        if any("nvidia.com/gpu" in (resources.get(part) or {}) for part in ("limits", "requests")):
            return True
    return False


# Front Door's domains a WAF SecurityPolicy's association names (an ActivatedResourceReference: "The Resource Id of the
# Front Door Custom Domain or Front Door Endpoint", hashicorp/terraform-provider-azurerm ed4e392d
# website/docs/r/cdn_frontdoor_security_policy.html.markdown): each type and its ARM id's segment before the name
FRONT_DOOR_DOMAINS = {"azure-native:cdn:AFDEndpoint": "afdendpoints",
                      "azure-native:cdn:AFDCustomDomain": "customdomains"}
SECURITY_POLICY = "azure-native:cdn:SecurityPolicy"


def _associated(domain_id: str, domain: PolicyResource) -> bool:
    """Whether a security policy's domain id (`/subscriptions/../profiles/<profile>/afdEndpoints/<name>`, or
    `../customDomains/<name>`; ARM ids in any case) names this endpoint or custom domain. A stack policy reads
    outputs: its Azure name is `name` (the input `endpointName` or `customDomainName` is a path parameter, in no
    output), its profile `profileName`."""
    parts = domain_id.lower().rstrip("/").split("/")
    # an endpoint created in this run has no name in a preview: no id known yet names it (a pull request adding an
    # endpoint to a stack whose SecurityPolicy's ids are known, without adding it to an association: refused)
    name, profile = (str(_known(domain.props, key, "") or "").lower() for key in ("name", "profileName"))
    # the last `profiles` segment before the name: a resource group may be named "profiles" too
    at = max((i for i, part in enumerate(parts[:-1]) if part == "profiles"), default=None)
    in_profile = at is None or parts[at + 1] == profile
    # a custom domain named like the endpoint is another resource (`customDomains/edge` is not `afdEndpoints/edge`)
    of_its_kind = len(parts) < 2 or parts[-2] == FRONT_DOOR_DOMAINS[domain.resource_type]
    return bool(name) and parts[-1] == name and in_profile and of_its_kind


def _domain_named(domain: PolicyResource) -> str:
    kind = "endpoint" if domain.resource_type.endswith("AFDEndpoint") else "custom domain"
    return f"Front Door {kind} {_known(domain.props, 'name', domain.name)}"


def _endpoints_behind_waf(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    """Each Front Door endpoint and custom domain is a domain of a SecurityPolicy's association.

    In a preview of a new edge the association's domain ids and the domains' names are not known yet (outputs of
    resources still to be created). What is known: each id not known yet names one domain at most, and only one its
    SecurityPolicy's `parameters` depend on (the engine's property dependencies: per top-level input, so every
    resource any part of `parameters` came from). So the domains no known id names must each be named by an unknown
    id of a SecurityPolicy depending on it, no id counted twice (a matching); a domain no such id can name, or more
    domains than the ids that can name them, is refused. Which id came from which output is not known: a domain set
    from an endpoint's `hostName` instead of its `id` passes the preview, and `up` refuses it. A list not known yet
    (`domains`, `associations` or the whole `parameters` made in an apply) holds any number of ids: as many as the
    domains its SecurityPolicy depends on, so every one of those may be named, and a domain it does not depend on is
    judged as ever (reading it stopped the whole rule, pulumi-policy's "can't run policy" note, before)."""
    domains = [r for r in args.resources if r.resource_type in FRONT_DOOR_DOMAINS]
    known: list[str] = []
    pending: list[tuple[PolicyResource, set[str]]] = []  # one per id not known yet: its policy, the domains it may name
    for r in args.resources:
        if r.resource_type != SECURITY_POLICY:
            continue
        profile = str(_known(r.props, "profileName", "") or "").lower()
        candidates = {d.urn for d in (r.property_dependencies or {}).get("parameters") or ()
                      if d.resource_type in FRONT_DOOR_DOMAINS and not _other_profile(d, profile)}
        named, unknown = _domain_ids(r.props)
        known += named
        pending += [(r, candidates)] * (len(candidates) if unknown is None else unknown)
    uncovered = [d for d in domains if not any(_associated(i, d) for i in known)]
    for group, ids in _unmatched(uncovered, pending):
        if not ids:
            for d in group:
                report_violation(f"{_domain_named(d)} has no WAF security policy", d.urn)
            continue
        policies = sorted({p.name for p, _ in ids})
        report_violation(
            f"{', '.join(_domain_named(d) for d in group)}: at most {len(ids)} of them behind a WAF security policy; "
            f"SecurityPolicy {', '.join(policies)} names {len(ids)} domain(s) not known yet among them (the ones "
            "its `parameters` depend on): list each by its `id` output", ids[0][0].urn)


_NOT_KNOWN = object()  # a value a preview does not know yet (`_read`)


def _read(container: Any, key: Any) -> Any:
    """`container[key]` (a mapping's key, a list's index): `_NOT_KNOWN` where a preview does not know it yet, None
    where the container is of another shape (a stack policy reads outputs as the provider answered them) or lacks
    it."""
    try:
        if isinstance(container, Mapping):
            return container.get(key)
        if isinstance(container, Sequence) and not isinstance(container, str) and isinstance(key, int):
            return container[key] if -len(container) <= key < len(container) else None
    except UnknownValueError:
        return _NOT_KNOWN
    return None


def _items(value: Any) -> list[Any]:
    """A list's items (each through `_read`); none for a value of another shape or not known yet."""
    if value is _NOT_KNOWN or not isinstance(value, Sequence) or isinstance(value, str):
        return []
    return [_read(value, i) for i in range(len(value))]


def _domain_ids(props: Mapping[str, Any]) -> tuple[list[str], Optional[int]]:
    """A SecurityPolicy's association domain ids (outputs: `parameters.associations[].domains[].id`): those known
    (strings: a null or another shape names no domain), and how many are not known yet, None where a list of them
    (or what holds it) is not known yet, so how many is not known either."""
    known: list[str] = []
    unknown = 0
    parameters = _read(props, "parameters")
    associations = _read(parameters, "associations")
    unbounded = parameters is _NOT_KNOWN or associations is _NOT_KNOWN
    for association in _items(associations):
        domains = _read(association, "domains")
        unbounded = unbounded or association is _NOT_KNOWN or domains is _NOT_KNOWN
        for domain in _items(domains):
            domain_id = domain if domain is _NOT_KNOWN else _read(domain, "id")
            if domain_id is _NOT_KNOWN:
                unknown += 1
            elif isinstance(domain_id, str):
                known.append(domain_id)
    return known, None if unbounded else unknown


def _other_profile(domain: PolicyResource, profile: str) -> bool:
    """Whether a domain is known to be of another profile than a SecurityPolicy's (`profile`, "" when not known)."""
    its = str(_known(domain.props, "profileName", "") or "").lower()
    return bool(profile) and bool(its) and its != profile


def _unmatched(domains: list[PolicyResource], pending: list[tuple[PolicyResource, set[str]]]
               ) -> list[tuple[list[PolicyResource], list[tuple[PolicyResource, set[str]]]]]:
    """The domains the ids not known yet cannot all name: a largest matching of domains to ids (an id names one
    domain, of its candidates), then from each domain left over every domain and id an alternating path reaches
    (a set of domains with fewer ids than domains that could name them: Hall's condition fails there); the reaches
    of two domains left over that share an id are one group (its ids, all matched, fewer than its domains), so each
    domain is in one group. Each group once, in the stack's order, with those ids; a domain no id could name is a
    group with none."""
    owner: dict[int, str] = {}  # id index -> the domain (URN) it names
    naming: dict[str, list[int]] = {}  # domain (URN) -> the ids that may name it
    for i, (_, candidates) in enumerate(pending):
        for urn in candidates:
            naming.setdefault(urn, []).append(i)

    def augment(urn: str, seen: set[int]) -> bool:
        for i in naming.get(urn, ()):
            if i not in seen:
                seen.add(i)
                if i not in owner or augment(owner[i], seen):
                    owner[i] = urn
                    return True
        return False
    left = [d for d in domains if not augment(d.urn, set())]
    groups: list[tuple[set[str], set[int]]] = []
    for d in left:  # a domain left over is in no other's reach (a reach adds only domains an id names)
        reached, todo = {d.urn}, [d.urn]
        ids: set[int] = set()
        while todo:
            urn = todo.pop()
            for i in naming.get(urn, ()):
                if i not in ids:
                    ids.add(i)
                    if owner[i] not in reached:
                        reached.add(owner[i])
                        todo.append(owner[i])
        for group in [g for g in groups if g[1] & ids]:  # a shared id: a shared domain, the one it names
            groups.remove(group)
            reached |= group[0]
            ids |= group[1]
        groups.append((reached, ids))
    order = {r.urn: i for i, r in enumerate(domains)}
    groups.sort(key=lambda group: min(order[urn] for urn in group[0]))
    return [([r for r in domains if r.urn in reached], [pending[i] for i in sorted(ids)]) for reached, ids in groups]


def _known(props: Mapping[str, Any], key: str, otherwise: Any) -> Any:
    """A value to name a resource by in a message, or `otherwise` where a preview does not know it yet."""
    try:
        return props.get(key)
    except UnknownValueError:
        return otherwise


def _gpu_workloads_have_a_pool(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    if any(_is_gpu_pool(r) for r in args.resources):
        return
    for r in args.resources:
        if r.resource_type in WORKLOADS and _requests_gpu(r):
            report_violation(f"{r.resource_type.rsplit(':', 1)[-1]} {r.name} requests nvidia.com/gpu but the stack "
                             "has no GPU node pool: its pods stay Pending unless the cluster has one from elsewhere",
                             r.urn)


def _needs_privileged(props: Mapping[str, Any]) -> bool:
    """Whether a workload's pods need what Pod Security baseline refuses (kubernetes.io/docs/concepts/security/
    pod-security-standards, baseline): a host namespace, a node path or port, a privileged container or a capability
    beyond baseline's (vLLM's IPC_LOCK under prefill/decode). A value not known yet counts as needing it (unjudged)."""
    try:
        return any(what != "capability" or detail not in BASELINE_CAPABILITIES
                   for what, _, detail in _privileges(props))
    except UnknownValueError:
        return True


def _parent_type(urn: str) -> str:
    """The type of the component a resource's URN names as its parent ("" for a resource of the stack itself):
    `urn:pulumi:<stack>::<project>::<parent type>$<type>::<name>`."""
    chain = urn.split("::")[2] if urn.count("::") >= 3 else ""
    return chain.split("$")[-2] if "$" in chain else ""


def _privileged_namespaces(resources: list[PolicyResource]) -> set[str]:
    """The namespaces the stack creates that enforce Pod Security `privileged` (a name or label not known yet: none)."""
    names = set()
    for r in resources:
        if r.resource_type != "kubernetes:core/v1:Namespace":
            continue
        try:
            metadata = r.props.get("metadata") or {}
            if (metadata.get("labels") or {}).get("pod-security.kubernetes.io/enforce") == PRIVILEGED:
                names.add(str(metadata.get("name")))
        except UnknownValueError:
            continue
    return names


def _privileged_namespaces_hold_what_needs_it(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    """A namespace at `privileged` admits any pod: whoever may create pods there may create privileged ones, and a pod
    that needs nothing above baseline (an internet-facing UI, its Jobs) belongs in a namespace that enforces baseline
    or restricted. Only the stack's own namespaces and workloads are judged; a value not known yet is no finding."""
    privileged = _privileged_namespaces(args.resources)
    for r in args.resources:
        if r.resource_type not in WORKLOADS:
            continue
        try:
            namespace = (r.props.get("metadata") or {}).get("namespace")
        except UnknownValueError:
            continue
        if namespace not in privileged or _needs_privileged(r.props):
            continue
        kind = r.resource_type.rsplit(":", 1)[-1]
        name = _known(r.props.get("metadata") or {}, "name", r.name)
        if (_parent_type(r.urn), kind, name) not in PRIVILEGED_NAMESPACE_COMPANIONS:
            report_violation(f"{kind} {namespace}/{name} runs in namespace {namespace}, which enforces Pod Security "
                             f"`privileged` (any pod may run there privileged), and needs nothing above baseline: "
                             f"run it in a namespace that enforces baseline or restricted", r.urn)


FAILED_STATES = ("failed", "canceled")


def _azure_resources_provisioned(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    """An azure-native resource whose create or update failed in an earlier run is refreshed with provisioningState
    Failed; its inputs unchanged, the run sends it nothing and ends green (docs/operations.md, "When a first
    `pulumi up` stops"). A state not known yet (a preview's new resource) is no finding."""
    for r in args.resources:
        if not r.resource_type.startswith("azure-native:"):
            continue
        try:
            state = str(r.props.get("provisioningState") or "")
        except UnknownValueError:
            continue
        if state.lower() in FAILED_STATES:
            report_violation(f"{r.resource_type.rsplit(':', 1)[-1]} {r.props.get('name') or r.name} is "
                             f"{state} in Azure and this run sends it nothing: see \"When a first `pulumi up` stops\" "
                             "in docs/operations.md (one `pulumi up --refresh=false`, or `az resource update`)", r.urn)


# ---- prod: generated secrets ---------------------------------------------------------------------------------
GENERATED = ("random:index/randomPassword:RandomPassword", "azure-native:keyvault:Secret")
AUTHZ = "kubernetes:security.istio.io/v1:AuthorizationPolicy"
ISTIO_ROOT_NAMESPACE = "istio-system"  # meshConfig.rootNamespace's default: its policies apply to every workload
# GlobalEndpoint's key set rotates by deletion: removing a `global.apiKeys` name deletes that key's RandomPassword and
# the secrets written from it (docs/decisions.md, "Front Door's keys stay unprotected"); protected, it would stop
ROTATED_BY_DELETION = "llmplatform:index:GlobalEndpoint"


def _made_by(resource: PolicyResource, component: str) -> bool:
    parent = resource.parent
    while parent is not None:
        if parent.resource_type == component:
            return True
        parent = parent.parent
    return False


def _istio_dry_run(annotations: Any) -> bool:
    """An Istio policy's `istio.io/dry-run` annotation read as istiod reads it (Go's strconv.ParseBool; a value it
    cannot parse leaves the policy enforced)."""
    return bool(annotations) and str(annotations.get("istio.io/dry-run")) in {"1", "t", "T", "TRUE", "true", "True"}


def _waiting_for_its_edge(resources: list[PolicyResource]) -> bool:
    """A Gateway a client could reach refuses every request: it is the target of Istio ALLOW policies that all have
    no rules (Istio gives such a policy one that never matches, and a workload with ALLOW policies refuses what none
    matches: istio/istio 86c9f01f pilot/pkg/security/authz/builder/builder.go, `rbacPolicyMatchNever`). Not a
    Gateway only the ACME challenge reaches, nor one with a ClusterIP Service (LlmdStack's pool gateway, behind the
    API gate). A region behind the edge before its edge.frontDoorId: GatewayAccess's `front-door-only` policy. One
    shut Gateway is enough: with gateway.mode both the internal one serves the VNet with the gates' own keys, which
    the join deletes all the same (the program leaves them unprotected: __main__.py `own_keys`).
    An ALLOW policy with no targetRefs (a workload selector, or none: the whole namespace) in the Gateway's namespace
    or the mesh's root one applies to its pods too (istio/istio 1.30.3 `pilot/pkg/model/policyattachment.go`
    `ShouldAttachPolicy`, ENABLE_SELECTOR_BASED_K8S_GATEWAY_POLICY true by default; `authorization.go`
    `ListAuthorizationPolicies` reads the root and the workload's namespaces): with rules, counted as admitting
    (the pods' labels are not seen, so a selector is taken to match). A policy annotated `istio.io/dry-run` true
    is only logged (builder.go `isDryRun`, Go's ParseBool: its shadow rules are never enforced): neither shuts nor
    admits, so it is not counted."""
    allow: dict[tuple[Any, Any], list[bool]] = {}  # (namespace, Gateway) -> whether each ALLOW policy has rules
    loose: dict[Any, list[bool]] = {}  # namespace -> whether each ALLOW policy without targetRefs has rules
    facing = []
    unsure = []  # read a value not known yet (a preview)
    for r in resources:
        try:
            if r.resource_type == AUTHZ:
                spec = r.props.get("spec") or {}
                metadata = r.props.get("metadata") or {}
                # ALLOW is Istio's default action
                if spec.get("action", "ALLOW") == "ALLOW" and not _istio_dry_run(metadata.get("annotations")):
                    namespace = metadata.get("namespace")
                    # targetRef: the field's older, single form (`GetTargetRefs` reads it when targetRefs is empty)
                    refs = spec.get("targetRefs") or ([spec["targetRef"]] if spec.get("targetRef") else [])
                    if not refs:
                        loose.setdefault(namespace, []).append(bool(spec.get("rules")))
                    for ref in refs:
                        if ref.get("kind") == "Gateway":
                            allow.setdefault((namespace, ref.get("name")), []).append(bool(spec.get("rules")))
            elif r.resource_type == GATEWAY:
                metadata = r.props.get("metadata") or {}
                listeners = (r.props.get("spec") or {}).get("listeners") or []
                if (metadata.get("annotations") or {}).get(ISTIO_SERVICE_TYPE) != "ClusterIP" and \
                        not (listeners and all(_acme_only(listener) for listener in listeners)):
                    facing.append((metadata.get("namespace"), metadata.get("name")))
        except UnknownValueError:
            unsure.append(r)
    # a policy not known yet may shut a Gateway or admit clients to one another shuts, and a Gateway not known yet may
    # be one a policy shuts: the answer is not known either (pulumi-policy's note), not a guess either way
    doubt = _in_doubt(unsure, resources)
    if doubt is not None:
        raise _edge_unknown(doubt, "a value of it can't be known during preview")

    def shut(gateway: tuple[Any, Any]) -> bool:
        namespaces = {gateway[0], ISTIO_ROOT_NAMESPACE}
        return bool(allow.get(gateway)) and not any(chain(allow[gateway], *(loose.get(n, []) for n in namespaces)))
    return any(shut(gateway) for gateway in facing)


def _in_doubt(unknown: list[PolicyResource], resources: list[PolicyResource]) -> Optional[PolicyResource]:
    """Of the resources a preview does not know (`unknown`), the one that keeps whether a region waits for its edge
    from being told: an Istio policy, else any other where the stack has an Istio policy (only an ALLOW policy shuts a
    Gateway); None when none does."""
    return next((r for r in unknown if r.resource_type == AUTHZ), None) or \
        next((r for r in unknown if any(p.resource_type == AUTHZ for p in resources)), None)


def _edge_unknown(resource: PolicyResource, why: str) -> UnknownValueError:
    """pulumi-policy's error for a value not known yet, naming the resource that keeps whether a region waits for its
    edge from being told."""
    error = UnknownValueError(UNKNOWN_OBJECT_VALUE, [])
    error.message = f"{resource.resource_type.rsplit(':', 1)[-1]} {resource.name}: {why}, so whether the region " \
                    "waits for its edge can't be told"
    return error


def _generated_secrets_protected(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    """A prod stack protects every RandomPassword and Key Vault secret it makes, except GlobalEndpoint's key set
    (rotated by deletion) and in a region not yet joined to its edge (a Gateway shut: the join deletes its gates'
    own keys, which a protect would stop)."""
    resources = list(args.resources)
    if not resources or not is_prod(resources[0]):  # type: ignore[arg-type]
        return
    bare = [r for r in resources if r.resource_type in GENERATED and not (r.opts and r.opts.protect)
            and not _made_by(r, ROTATED_BY_DELETION)]
    if not bare or _waiting_for_its_edge(resources):
        return
    # A preview of a new region: its Gateways and Istio policies, under a Kubernetes provider whose cluster is still
    # to be created, have no outputs at all (pulumi/pulumi provider_plugin.go `Create` with an unknown config), so
    # whether the region waits for its edge cannot be told: not judged (pulumi-policy's advisory note), not refused.
    # Only an ALLOW policy shuts a Gateway: a stack with none (prod itself) is judged, hidden Gateways or not.
    hidden = _in_doubt([r for r in resources if r.resource_type in (AUTHZ, GATEWAY) and not len(r.props)], resources)
    if hidden is not None:
        raise _edge_unknown(hidden, "its outputs can't be known during preview (its cluster is still to be created)")
    for r in bare:
        report_violation(f"generated {r.resource_type.rsplit(':', 1)[-1]} {r.name} is not protected", r.urn)


STACK_POLICIES = [
    StackValidationPolicy(name="front-door-endpoints-behind-waf",
                          description="a global endpoint or custom domain without a WAF policy is open to every "
                                      "bot and flood",
                          validate=_endpoints_behind_waf, enforcement_level=EnforcementLevel.MANDATORY),
    StackValidationPolicy(name="gpu-workloads-have-a-gpu-pool",
                          description="a GPU workload with no GPU pool to land on never starts; advisory, since a "
                                      "consumer's cluster may get its pools from another stack",
                          validate=_gpu_workloads_have_a_pool, enforcement_level=EnforcementLevel.ADVISORY),
    StackValidationPolicy(name="privileged-namespaces-hold-only-what-needs-it",
                          description="whoever may create pods in a namespace at Pod Security `privileged` may "
                                      "create privileged ones: a pod that needs nothing above baseline (a UI "
                                      "published on the Gateways) keeps out of it",
                          validate=_privileged_namespaces_hold_what_needs_it,
                          enforcement_level=EnforcementLevel.MANDATORY),
    StackValidationPolicy(name="azure-resources-not-failed",
                          description="a resource Azure left Failed is refreshed as such and then sent nothing: the "
                                      "run would end green over a broken cluster, pool or server",
                          validate=_azure_resources_provisioned, enforcement_level=EnforcementLevel.MANDATORY),
    StackValidationPolicy(name="prod-generated-secrets-protected",
                          description="a `pulumi destroy` of prod must not hand every client a new API key and sign "
                                      "every user out, nor leave the kept vault holding the secrets (retained on "
                                      "delete) whose creates the next `pulumi up` fails on",
                          validate=_generated_secrets_protected, enforcement_level=EnforcementLevel.MANDATORY),
]

RESOURCE_POLICIES = [
    _policy("gpu-pools-autoscaled-and-tainted", "GPU nodes cost most; only GPU workloads may land on them and only "
            "while needed", _is_gpu_pool, _gpu_autoscaled_tainted),
    _policy("gpu-pools-scale-to-zero", "an idle GPU pool outside prod must cost nothing",
            lambda a: _is_gpu_pool(a) and not is_prod(a), _gpu_scales_to_zero),
    _policy("gpu-pools-scale-to-zero-prod", "in prod a warm GPU node may be worth its cost: reviewed, not refused",
            lambda a: _is_gpu_pool(a) and is_prod(a), _gpu_scales_to_zero, EnforcementLevel.ADVISORY),
    _policy("containers-have-requests-limits-and-pinned-images", "the scheduler needs requests, a memory leak needs "
            "a ceiling, and a moving tag changes what runs without a diff", _kind(*WORKLOADS), _container_basics),
    _policy(ALLOWED_REGISTRIES_POLICY, "an Azure Policy that allows only these registries refuses the pod at run "
            "time, after `pulumi up` reported success", _kind(*WORKLOADS), _from_allowed_registries,
            config=ALLOWED_REGISTRIES_SCHEMA),
    _policy("no-privileged-containers", "a privileged container, host namespace, node path or added capability can "
            "take the node, and a node port answers for it", _kind(*WORKLOADS), _no_privilege),
    _policy("no-secret-literals", "a secret in an env literal or a ConfigMap is readable by anyone who can read the "
            "object", _kind(*WORKLOADS, "kubernetes:core/v1:ConfigMap"), _no_secret_literals),
    _policy("key-vault-rbac", "access policies bypass Azure RBAC and its audit", _kind("azure-native:keyvault:Vault"),
            _key_vault_rbac),
    _policy("key-vault-purge-protection", "a deleted vault must be recoverable in prod",
            lambda a: a.resource_type == "azure-native:keyvault:Vault" and is_prod(a), _key_vault_purge_protection),
    _policy("key-vault-purge-protection-nonprod", "purge protection is off outside prod so a vault name can be "
            "reused after a teardown", lambda a: a.resource_type == "azure-native:keyvault:Vault" and not is_prod(a),
            _key_vault_purge_protection, EnforcementLevel.ADVISORY),
    _policy("storage-tls-private-deny", "model weights stay on TLS 1.2+, private, reachable from the cluster only",
            _kind("azure-native:storage:StorageAccount"), _storage_secure),
    _policy("postgres-private-and-tls", "the chat history database is reachable only inside the VNet, over TLS",
            _kind("azure-native:dbforpostgresql:Server", "azure-native:dbforpostgresql:FirewallRule",
                  "azure-native:dbforpostgresql:Configuration"), _postgres_private),
    _policy("prod-stateful-protected", "a `pulumi destroy` or a rename must never delete prod data",
            _prod_state, _protected),
    _policy("prod-aks-hardened", "prod AKS: Entra ID only, an uptime SLA, zone redundancy",
            lambda a: a.resource_type == "azure-native:containerservice:ManagedCluster" and is_prod(a), _prod_aks),
    _policy("prod-public-gateway-https", "bearer API keys and sign-ins must not cross the internet in plain HTTP",
            lambda a: a.resource_type == GATEWAY and is_prod(a), _public_gateway_https),
    _policy("front-door-https-only", "model traffic and API keys cross the internet to the edge: HTTPS only",
            _kind("azure-native:cdn:Route"), _front_door_route_https),
    _policy("prod-front-door-origins-https", "prompts, answers and API keys cross the internet from the edge to "
            "each region too: HTTPS, certificate checked",
            lambda a: a.resource_type in ("azure-native:cdn:Route", "azure-native:cdn:AFDOriginGroup",
                                          "azure-native:cdn:AFDOrigin") and is_prod(a), _front_door_origin_https),
    _policy("front-door-minimum-tls", "TLS below 1.2 is broken; custom domains must refuse it",
            _kind("azure-native:cdn:AFDCustomDomain"), _front_door_custom_domain_tls),
    _policy("waf-on-and-blocking-in-prod", "a WAF that is off, or only logs in prod, protects nothing",
            _kind("azure-native:frontdoor:Policy"), _waf_enabled),
    _policy("fleet-upgrades-region-by-region", "an upgrade that breaks one region must not reach the others before "
            "someone sees it", _kind("azure-native:containerservice:FleetUpdateStrategy"), _fleet_staged,
            EnforcementLevel.ADVISORY),
    _policy("helm-releases-pinned", "an unpinned chart changes the cluster without a code change",
            _kind("kubernetes:helm.sh/v3:Release"), _helm_pinned),
    _policy(ROLE_POLICY, "a workload's identity, or whoever holds it, gets only what its one job needs: no role "
            "that grants access or everything, nothing subscription-wide, one secret rather than the vault",
            lambda a: bool(ROLE_ASSIGNMENT.fullmatch(a.resource_type)), _least_privilege,
            config=ROLE_EXEMPTIONS_SCHEMA),
]


POLICIES = [*RESOURCE_POLICIES, *STACK_POLICIES]


def policy_names() -> list[str]:
    return [p.name for p in POLICIES]


def enforcement(name: str) -> Optional[EnforcementLevel]:
    return next((p.enforcement_level for p in POLICIES if p.name == name), None)
