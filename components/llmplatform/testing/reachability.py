"""Pods that cannot reach the in-cluster Services they are configured to call: the program's NetworkPolicies (and
CiliumNetworkPolicies), read as Cilium reads them (`network_policy`), isolate the Service's pods from the caller, or
the caller's own namespace for egress. The API server takes every object, the pods start and pass their probes, and
each call is dropped: an OpenWebUi in a namespace its gate's `router-ingress` does not admit lists no model, and
nothing says why. Or the URL's bare host resolves in the caller's own namespace, where the program creates no such
Service (it creates it in another namespace): the name does not resolve. Or the URL's port is none of the Service's
ports (a ClusterIP answers its Service's ports alone: a URL on the pods' `targetPort` or on a `nodePort` fails). An
http, https, ws or wss URL is a TCP call: a port listed for UDP or SCTP alone does not answer it; any other scheme's
transport is not known, so it is refused only on a port the Service lists for no protocol.

What is read, per cluster (`clusters._cluster_of`): every pod template the program creates (Deployment, StatefulSet,
DaemonSet, Job, CronJob, Pod) as a caller; in its containers' and init containers' `env[].value` strings and `args`,
each URL `<scheme>://<host>[:<port>]` (http, https, ws, wss by their default port; any other scheme with an explicit
port). The host is read as a pod's resolver reads a Service's DNS name (the Kubernetes DNS specification,
kubernetes/dns docs/specification.md: `<service>.<namespace>.svc.<zone>`, and the search path
`<namespace>.svc.<zone> svc.<zone> <zone>` every pod's resolv.conf carries): `<svc>` in the caller's namespace,
`<svc>.<ns>`, `<svc>.<ns>.svc`, `<svc>.<ns>.svc.cluster.local` (AKS's zone), and a headless Service's
`<pod>.<svc>.<ns>.svc[.cluster.local]`; a host ending in a dot is absolute (the resolver tries no search domain:
hostname(7)), so only the zone's full name ending in a dot names a Service. Where the program creates that Service
on the same cluster with a selector, its pods are the long-running pod templates of its namespace whose labels its
selector matches, and the port they are reached on is the Service port's `targetPort` (a number, or a container
port's name on each pod; absent: the port itself; a headless Service's pods on the URL's port). The connection is
judged with `network_policy.connects` (the caller's egress, the target's ingress) under the program's policies of
that cluster. A caller its namespace's policies isolate for egress must also reach the cluster DNS to resolve the
name (CoreDNS's pods, kube-system, k8s-app=kube-dns, port 53 UDP or TCP, or a node-local cache): one whose policies
admit none is refused (a pod with another dnsPolicy or hostAliases is not judged for it).

Judged only where the plan describes the whole path: caller, Service and target pods all objects of the program, the
URL a plain value (a secret or unknown env value, a `valueFrom`, `envFrom`, a ConfigMap's file are not read), the
policies all ones the model reads (a field it does not model, a named port it cannot resolve, a namespace selector
reading labels of a namespace the program does not create: that connection is not judged), and no policy kind it does
not model on the cluster (CiliumClusterwideNetworkPolicy, AdminNetworkPolicy, BaselineAdminNetworkPolicy, Calico's:
any may allow more), nor a patch of a policy or a policy not known: the cluster's drops are not judged (its ports and
bare hosts are, which are no policy's). Not read: charts' objects (a Helm release's pods, Services and
policies are not in the plan: a URL to a chart's Service is skipped, a chart's policy is not counted), `command`
(scripts name addresses they do not call: the UI's migration Job repoints saved connections from old addresses), a
ConfigMap's files (the API gate's nginx upstream), ExternalName Services (but one aliasing a Service of the program
by its full name, which is followed once), Services without a selector, objects outside the program (a policy applied
by hand or by another stack that would admit the caller). A Service whose pods are only a Job's is not judged (a
Job's pods end); a host-network pod, as caller or target, is not judged (NetworkPolicy behaviour for it is
undefined); in a preview, a pod, policy or Service with a value not known yet (Registration.unknown_paths) is not
judged; a host the pod's `hostAliases` map is not the Service's call. A bare host is not refused where a Helm
release, chart or kustomization the program installs into the caller's namespace (or into the provider's default
one), or a yaml bundle it cannot read, may make the Service, nor where a bundle's own Service of that name is there,
nor from a pod with a search path of its own (`dnsConfig.searches`, or a dnsPolicy other than ClusterFirst).

`run(..., unjudged=["reachability"])` (RULE) leaves out what objects outside the program decide, which the kit cannot
see: the drops and DNS lookups judged under the program's policies (a policy applied by hand, by another stack or by
a chart may admit them) and a bare host's namespace (a Service made outside the program may answer it there); those
refusals name the switch. It keeps the port refusal: no object outside the program adds a port to its Service."""
import re
from typing import Any, Iterator, Mapping, Optional
from urllib.parse import urlsplit

from ..inference_specs import ROUTER_PORT, WEBUI_PORT
from ..kubernetes_schemas import group_of
from ..rules import within
from .clusters import _cluster_of
from .cross_cluster import _WORKLOADS
from .namespace_rules import _YAML_BUNDLES, _bundle_documents
from .network_policy import CILIUM, Node, Outside, Pod, Unmodelled, allowed, connects, selecting
from .records import HELM_RELEASE, Registration, components_above
from .shapes import as_dict, as_list, pod_template

_ZONE = "cluster.local"
_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}
# schemes whose clients connect over TCP (HTTP/1.1 and 2, WebSocket): a Service port listed for UDP or SCTP alone
# answers them nothing. Any other scheme's transport is not known (udp://, syslog://, sctp://, dns://): on a port the
# Service lists for another protocol it is not judged.
_TCP_SCHEMES = frozenset(_DEFAULT_PORTS)
_URL = re.compile(r"\b([A-Za-z][A-Za-z0-9+.-]*)://([^\s/?#'\"\\;,`]+)")
_TARGETS = {"Deployment", "StatefulSet", "DaemonSet", "Pod"}  # long-running: a Job's pods end
_POLICIES = {("networking.k8s.io", "NetworkPolicy"), ("cilium.io", CILIUM)}
# policy kinds this model does not read, any of which may allow what the program's NetworkPolicies deny
_UNREAD_POLICIES = {("cilium.io", "CiliumClusterwideNetworkPolicy"),
                    ("policy.networking.k8s.io", "AdminNetworkPolicy"),
                    ("policy.networking.k8s.io", "BaselineAdminNetworkPolicy"),
                    ("crd.projectcalico.org", "NetworkPolicy"), ("crd.projectcalico.org", "GlobalNetworkPolicy"),
                    ("projectcalico.org", "NetworkPolicy"), ("projectcalico.org", "GlobalNetworkPolicy")}
_NAME_LABEL = "kubernetes.io/metadata.name"
# Makers of Kubernetes objects the plan does not show one by one (the provider renders them): a Service one makes in
# the caller's namespace may answer a bare host. A Helm release (v3 Release, v4 Chart) or kustomization into its
# `namespace`, or, without one, into the provider's default namespace (any, for this rule).
_OPAQUE_MAKERS = (HELM_RELEASE, "kubernetes:helm.sh/v4:Chart", "kubernetes:kustomize/v2:Directory")
_ANY = "*"
# The cluster DNS a pod's resolver asks (its resolv.conf's nameserver, the kube-dns Service): CoreDNS's pods, in
# kube-system, labelled k8s-app=kube-dns, ports `dns` (53/UDP) and `dns-tcp` (53/TCP) (kubernetes/kubernetes
# cluster/addons/dns/coredns/coredns.yaml.base; AKS runs CoreDNS so labelled, azure-aks-docs coredns-custom.md).
# A node-local cache answers on the node (a host-network pod: NodeLocal DNSCache's 169.254.20.10, AKS LocalDNS's
# 169.254.10.10 and .11): an egress rule admitting any of them lets lookups through.
_DNS_PORT = 53
_DNS_PEERS = (Pod("kube-system", {"k8s-app": "kube-dns"}, {"dns": _DNS_PORT, "dns-tcp": _DNS_PORT}),
              Node("node"), Outside("169.254.20.10"), Outside("169.254.10.10"), Outside("169.254.10.11"))
# the input that admits another namespace, by the component that made the isolating policy (its nearest), and inside
# an InferenceStack by the part that made it (the stack hands its inputs to its ApiGate and OpenWebUi renamed)
_CLIENT_INPUTS = {"ApiGate": "client_namespaces", "LlmdStack": "client_namespaces", "OpenWebUi": "client_namespaces"}
_STACK_INPUTS = {"ApiGate": "api_client_namespaces", "OpenWebUi": "webui_client_namespaces"}
# the port each component's client namespaces are admitted on (a gate's API listener, `router-ingress`; the UI's own):
# a gate's UI listener (ROUTER_UI_PORT, `router-ui-ingress`) admits its own namespace's Open-WebUI pods alone, so
# the input is no fix for a call there (api_router.in_cluster_policy)
_CLIENT_PORTS = {"ApiGate": ROUTER_PORT, "LlmdStack": ROUTER_PORT, "OpenWebUi": WEBUI_PORT}


class _Template:
    """A pod template of the program: the object, its kind, namespace, the labels its pods carry and its spec."""

    def __init__(self, reg: Registration, cluster: Any):
        self.reg, self.cluster = reg, cluster
        inputs = reg.inputs
        self.kind = str(inputs.get("kind"))
        meta = as_dict(inputs.get("metadata"))
        self.namespace = meta.get("namespace")
        self.name = meta.get("name")
        template, self.spec = pod_template(inputs)
        labels = as_dict(template.get("labels"))
        self.labels = {k: v for k, v in labels.items() if isinstance(k, str) and isinstance(v, str)}
        if self.kind == "Job" and isinstance(self.name, str):  # the Job controller labels its pods with its name
            self.labels.update({"batch.kubernetes.io/job-name": self.name, "job-name": self.name})
        prefix = {"Pod": "spec", "CronJob": "spec.jobTemplate.spec.template.spec"}.get(self.kind, "spec.template.spec")
        # each container with the path of its fields in the inputs (a secret value's path is in reg.secret_paths)
        self.containers = [(c, f"{prefix}.{key}[{i}]") for key in ("initContainers", "containers")
                           for i, c in enumerate(as_list(self.spec.get(key))) if isinstance(c, dict)]
        self.ports = {str(p["name"]): int(p["containerPort"]) for c, _ in self.containers
                      for p in as_list(c.get("ports")) if isinstance(p, dict) and isinstance(p.get("name"), str)
                      and isinstance(p.get("containerPort"), int)}
        # on the node's network: NetworkPolicy behaviour is undefined for it, and the most common implementation
        # ignores it when matching selectors (kubernetes/website network-policies.md, "NetworkPolicy and
        # hostNetwork pods"): not judged, as caller or target
        self.host_network = self.spec.get("hostNetwork") is True
        # a preview's value not known yet in its labels or namespace (dropped from the inputs): its pods' labels
        # are not known, so neither what selects them nor what they are (not judged, as caller or target)
        labels_at = "metadata.labels" if self.kind == "Pod" else prefix.rsplit(".", 1)[0] + ".metadata"
        # (a value the kit's preview leaves out arrives as None: a label of another type is one not known)
        self.unknown = _unknown_under(reg, "metadata.namespace", labels_at) or len(self.labels) != len(labels)

    @property
    def pod(self) -> Pod:
        return Pod(str(self.namespace), self.labels, self.ports)

    def described(self) -> str:
        return f"{self.kind} {self.namespace}/{self.name}"


def _unknown_under(reg: Registration, *paths: str) -> bool:
    """Whether a preview left a value at or under one of `paths` of reg's inputs unknown (Registration.unknown_paths;
    "." the whole inputs)."""
    return any(u == "." or any(within(u, p) or within(p, u) for p in paths) for u in reg.unknown_paths)


# Settings that name an address for others to use, not one the pod calls (an allowed browser origin, an OAuth
# redirect, the pod's own public URL, a proxy exception): a URL under such a name is not read. Open-WebUI's
# CORS_ALLOW_ORIGIN and WEBUI_URL are of them (open-webui backend/open_webui/config.py, env.py).
_NAMING = ("ORIGIN", "CORS", "REDIRECT", "CALLBACK", "PUBLIC", "ROOT_URL", "EXTERNAL", "WEBUI_URL", "NO_PROXY",
           "ALLOWED", "TRUSTED", "ADVERTISE")


def _names_only(setting: Any) -> bool:
    """Whether an env variable's or a flag's name marks an address given to others (_NAMING)."""
    name = str(setting).lstrip("-").upper().replace("-", "_").replace(".", "_")
    return any(part in name for part in _NAMING)


def _urls(template: _Template) -> Iterator[tuple[str, str, str, int, str]]:
    """(url, scheme, host, port, where) of every URL in the template's env values and args, secret ones and ones
    a setting names rather than calls (_NAMING) left out."""
    secret = template.reg.secret_paths

    def plain(path: str) -> bool:
        return not any(s == "." or within(path, s) for s in secret)

    def flag(args: list[Any], k: int) -> str:
        """The flag an argument gives a value to: `--name=value`, or `--name value`."""
        text = str(args[k])
        if text.startswith("-") and "=" in text:
            return text.split("=", 1)[0]
        previous = args[k - 1] if k else None
        return previous if isinstance(previous, str) and previous.startswith("-") and "=" not in previous else ""
    for container, path in template.containers:
        texts = [(f"env {e.get('name')} of container {container.get('name')}", e["value"])
                 for j, e in enumerate(as_list(container.get("env"))) if isinstance(e, dict)
                 and isinstance(e.get("value"), str) and plain(f"{path}.env[{j}].value")
                 and not _names_only(e.get("name"))]
        args = as_list(container.get("args"))
        texts += [(f"args of container {container.get('name')}", a) for k, a in enumerate(args)
                  if isinstance(a, str) and plain(f"{path}.args[{k}]") and not _names_only(flag(args, k))]
        for where, text in texts:
            for match in _URL.finditer(text):
                scheme, authority = match.group(1).lower(), match.group(2).rsplit("@", 1)[-1]
                try:
                    parts = urlsplit(f"{scheme}://{authority}")
                    host, port = parts.hostname, parts.port
                except ValueError:  # a port that is no number
                    continue
                port = port if port is not None else _DEFAULT_PORTS.get(scheme)
                if host and port and not authority.startswith("["):
                    yield match.group(0), scheme, host, port, where


def _service_name(host: str, namespace: str) -> Optional[tuple[str, str, bool]]:
    """(namespace, service, headless pod name given) a host names from a pod in `namespace`, None for a host that is
    no Service name of the cluster's zone. A name ending in a dot is absolute (the resolver tries no search domain:
    resolv.conf(5)), so it names a Service only with the zone: `api.b.svc.cluster.local.`, not `api.b.`."""
    absolute = host.endswith(".")
    labels = host.lower().rstrip(".").split(".")
    if absolute and labels[-2:] != _ZONE.split("."):
        return None
    if labels[-2:] == _ZONE.split("."):
        labels = labels[:-2]
        if labels[-1:] != ["svc"]:
            return None
    if labels[-1:] == ["svc"]:
        labels = labels[:-1]
        if len(labels) == 2:
            return labels[1], labels[0], False
        if len(labels) == 3:
            return labels[2], labels[1], True
        return None
    if len(labels) == 1:
        return namespace, labels[0], False
    if len(labels) == 2:
        return labels[1], labels[0], False
    return None


def _reads_unknown_namespace(policies: list[Mapping[str, Any]], direction: str, pod: Pod, other: Pod,
                             namespaces: Mapping[str, Mapping[str, str]]) -> bool:
    """Whether a policy selecting `pod` for `direction` has a peer whose namespaceSelector reads a label other than
    the namespace's name of `other`'s namespace, which the program does not create (its labels are not known)."""
    if other.namespace in namespaces:
        return False
    key = "egress" if direction == "Egress" else "ingress"
    peers = "to" if direction == "Egress" else "from"
    for policy in selecting(policies, direction, pod):
        if policy.get("kind") == CILIUM:
            continue
        for rule in policy["spec"].get(key) or []:
            for peer in rule.get(peers) or []:
                selector = peer.get("namespaceSelector") if isinstance(peer, dict) else None
                if isinstance(selector, dict):
                    keys = {*(selector.get("matchLabels") or {}),
                            *(e.get("key") for e in selector.get("matchExpressions") or [])}
                    if keys - {_NAME_LABEL}:
                        return True
    return False


def _component(reg: Registration, by_urn: Mapping[str, Registration]) -> Optional[Registration]:
    """The nearest llmplatform component above a resource."""
    return next(iter(components_above(reg, by_urn)), None)


def _kind_of(component: Registration) -> str:
    return component.type.rsplit(":", 1)[-1]


def _fix(policy: Registration, direction: str, caller: _Template, target: _Template, port: int,
         by_urn: Mapping[str, Registration]) -> str:
    """What lets the call past `policy` (isolating the caller for egress, or the target for ingress): the client
    namespaces of the component that made it, else a policy of the user's. `{policies}` stands for the policy's
    name: the policies one fix serves are named in it together (`_fixes`)."""
    if direction == "Egress":
        return (f"let {caller.described()}'s pods out to namespace {target.namespace} on port {port} (an egress "
                f"rule in namespace {caller.namespace}), or change {{policies}}")
    components = components_above(policy, by_urn)
    nearest = _kind_of(components[0]) if components else None
    stack = next((c for c in components if _kind_of(c) == "InferenceStack"), None)
    component, given = ((stack, _STACK_INPUTS.get(str(nearest))) if stack is not None
                        else (components[0] if components else None, _CLIENT_INPUTS.get(str(nearest))))
    if component is not None and given and caller.namespace != target.namespace:
        if port == _CLIENT_PORTS.get(str(nearest)):
            return (f"give {_kind_of(component)} {component.name!r} the caller's namespace in its {given} "
                    f"([{caller.namespace!r}]), or run the caller in namespace {target.namespace}")
        return (f"run the caller in namespace {target.namespace} ({{policies}} of {_kind_of(component)} "
                f"{component.name!r} {{admit}} no other namespace on port {port}, whatever its {given})")
    return (f"admit it with a NetworkPolicy in namespace {target.namespace} selecting {target.described()}'s pods "
            f"(from namespace {caller.namespace}, port {port}), or change {{policies}}")


def _policy_name(policy: Registration) -> str:
    meta = policy.inputs["metadata"]
    return f"{meta['namespace']}/{meta.get('name')}"


def _policy_names(policies: list[Registration], by_urn: Optional[Mapping[str, Registration]] = None) -> str:
    """The policies a refusal names, each with its kind and, given `by_urn`, the component that made it; a policy of
    a yaml bundle (no registration of its own) as the program's yaml."""
    def named(policy: Registration) -> str:
        made_by = _component(policy, by_urn) if by_urn is not None else None
        return (f"{_policy_name(policy)} ({policy.inputs['kind']}"
                + (f", {_kind_of(made_by)} {made_by.name!r}" if made_by else "") + ")")
    return ", ".join(named(p) for p in policies) or "of the program's yaml"


def _fixes(regs: list[tuple[Registration, str]], caller: _Template, target: _Template, port: int,
           by_urn: Mapping[str, Registration]) -> list[str]:
    """One fix per distinct advice, naming together the policies it serves (two egress policies of the caller's
    namespace, a gate's four policies: one sentence, not one a policy)."""
    served: dict[str, list[str]] = {}
    for policy, direction in regs:
        served.setdefault(_fix(policy, direction, caller, target, port, by_urn), []).append(_policy_name(policy))
    return [advice.replace("{policies}", ", ".join(names)).replace("{admit}", "admits" if len(names) == 1
                                                                     else "admit")
            for advice, names in served.items()]


# `run(..., unjudged=[RULE])` leaves out what objects outside the program decide, which the kit cannot see: a policy
# that admits the calls (applied by hand, by another stack, by a chart), a Service that answers a bare host. It keeps
# the port refusal: no object outside the program adds a port to the program's Service.
RULE = "reachability"
OUTSIDE = (f" (a NetworkPolicy outside the program admits the call? run(..., unjudged=[{RULE!r}]) leaves this rule "
           "out)")


def unreachable_services(resources: list[Registration], clusters: dict[str, str], port_only: bool = False) -> list[str]:
    """Each pod template that calls a Service of the program its pods cannot reach (module docstring); `port_only`
    (`run(..., unjudged=[RULE])`): each that calls one on a port it does not expose."""
    by_urn = {r.urn: r for r in resources}
    kube = [r for r in resources if r.is_kubernetes_object]
    per_cluster: dict[Any, list[Registration]] = {}
    for reg in kube:
        per_cluster.setdefault(_cluster_of(reg, clusters), []).append(reg)
    bundles: dict[Any, list[Any]] = {}
    # per cluster, the namespaces where objects the plan does not show may be (_ANY: any namespace)
    released: dict[Any, set[str]] = {}
    for reg in resources:
        if reg.type in _OPAQUE_MAKERS:
            namespace = reg.inputs.get("namespace")
            released.setdefault(_cluster_of(reg, clusters), set()).add(
                namespace if isinstance(namespace, str) and namespace else _ANY)
        elif reg.type.startswith("kubernetes:yaml/"):
            bundles.setdefault(_cluster_of(reg, clusters), []).extend(_bundle_documents(reg))
            if reg.type in _YAML_BUNDLES and _opaque_bundle(reg):
                released.setdefault(_cluster_of(reg, clusters), set()).add(_ANY)
    several = len(per_cluster) > 1
    problems: list[str] = []
    for cluster, regs in per_cluster.items():
        problems += _judge_cluster(cluster if several else None, regs, bundles.get(cluster, []),
                                   released.get(cluster, set()), by_urn, port_only)
    return problems


def _opaque_bundle(reg: Registration) -> bool:
    """Whether a yaml/v2 bundle may create objects the plan does not show: a file it fetches (a URL), its text or
    objects not known (an output of the preview), a file the kit cannot read."""
    inputs = reg.inputs
    if ("yaml" in inputs and not isinstance(inputs["yaml"], str)) or \
            ("objs" in inputs and not isinstance(inputs["objs"], list)):
        return True
    paths = [inputs["file"]] if "file" in inputs else as_list(inputs.get("files"))
    return any(not isinstance(path, str) or "://" in path for path in paths) or \
        ("files" in inputs and not isinstance(inputs["files"], list))


def _kind(inputs: Mapping[str, Any]) -> tuple[str, Any]:
    return group_of(str(inputs.get("apiVersion"))), inputs.get("kind")


def _patch(reg: Registration) -> bool:
    """A Server-Side Apply patch (pulumi-kubernetes' `<Kind>Patch`, e.g. kubernetes:apps/v1:DeploymentPatch): its
    inputs are the fields it sets on an object that may exist outside the program, not the whole object (its labels,
    its selector, a policy's other rules are the object's)."""
    return reg.type.startswith("kubernetes:") and reg.type.endswith("Patch")


def _judge_cluster(cluster: Any, regs: list[Registration], bundled: list[Any], released: set[str],
                   by_urn: Mapping[str, Registration], port_only: bool = False) -> list[str]:
    """The calls of the cluster's pods judged (module docstring); `port_only`: the port refusal alone
    (`run(..., unjudged=[RULE])`). Where the cluster's policies are not all read, its calls are judged without them:
    a port the Service does not expose and a bare host's namespace are no policy's."""
    policy_regs: list[Registration] = []
    policies: list[Mapping[str, Any]] = []
    # a patch of a policy: the policy's whole spec is not known (it may isolate or admit anything)
    policies_read = not any(_patch(r) and _kind(r.inputs) in _POLICIES for r in regs)
    patched = [r for r in regs if _patch(r)]
    regs = [r for r in regs if not _patch(r)]
    # a patched namespace's labels are not all the program's; a patched Service exists (it answers a bare host)
    patched_names = {(_kind(r.inputs), str(m.get("namespace") or _ANY), str(m.get("name"))) for r in patched
                     for m in [r.inputs.get("metadata")] if isinstance(m, dict)}
    for inputs in [*(r.inputs for r in regs), *(d for d in bundled if isinstance(d, dict))]:
        if _kind(inputs) in _UNREAD_POLICIES:
            policies_read = False  # may allow what the policies below deny: not judged
    for reg in regs:
        if _kind(reg.inputs) in _POLICIES:
            if not isinstance((reg.inputs.get("metadata") or {}).get("namespace"), str) or \
                    not isinstance(reg.inputs.get("spec"), dict) or reg.unknown_paths:
                # a policy of the provider's default namespace, or not known: it may isolate anything
                policies_read = False
            policy_regs.append(reg)
            policies.append(reg.inputs)
    for doc in bundled:
        if isinstance(doc, dict) and _kind(doc) in _POLICIES:
            if not isinstance((doc.get("metadata") or {}).get("namespace"), str) or \
                    not isinstance(doc.get("spec"), dict):
                policies_read = False
            policies.append(doc)
    namespaces = {str(r.inputs["metadata"]["name"]): {k: v for k, v in labels.items() if isinstance(v, str)}
                  for r in regs if _kind(r.inputs) == ("", "Namespace")
                  and isinstance((r.inputs.get("metadata") or {}).get("name"), str)
                  and not _unknown_under(r, "metadata.labels")  # its labels not known: as one not created
                  and (("", "Namespace"), _ANY, r.inputs["metadata"]["name"]) not in patched_names
                  for labels in [r.inputs["metadata"].get("labels") or {}] if isinstance(labels, dict)}
    services: dict[tuple[str, str], Registration] = {}
    unnamed_services = False
    for reg in regs:
        meta = reg.inputs.get("metadata") or {}
        if _kind(reg.inputs) == ("", "Service") and isinstance(meta.get("namespace"), str) \
                and isinstance(meta.get("name"), str):
            services[(meta["namespace"], meta["name"])] = reg
        elif _kind(reg.inputs) == ("", "Service"):
            unnamed_services = True  # a preview's name or namespace not known yet: it may be any
    # Services of yaml bundles (their namespace, or any: the provider's default): they answer a bare host
    bundled_services = {(str(meta.get("namespace") or _ANY), str(meta.get("name"))) for doc in bundled
                        if isinstance(doc, dict) and _kind(doc) == ("", "Service")
                        for meta in [doc.get("metadata")] if isinstance(meta, dict)} | \
        {(namespace, name) for kind, namespace, name in patched_names if kind == ("", "Service")}
    templates = [_Template(r, cluster) for r in regs if r.inputs.get("kind") in _WORKLOADS
                 and _kind(r.inputs)[0] in ("", "apps", "batch") and isinstance(r.inputs.get("metadata"), dict)
                 and isinstance(r.inputs.get("spec") or {}, dict)]
    templates = [t for t in templates if isinstance(t.namespace, str) and not t.unknown]
    problems = []
    on = f" on cluster {cluster}" if cluster is not None else ""
    for caller in templates:
        if caller.host_network:
            continue  # its traffic is the node's: no policy selects it (_Template.host_network)
        seen: set[str] = set()
        dns_judged = False
        # names the pod's /etc/hosts maps (hostAliases): a call to another address, not to the Service
        aliased = {str(h).lower().rstrip(".") for a in as_list(caller.spec.get("hostAliases")) if isinstance(a, dict)
                   for h in as_list(a.get("hostnames"))}
        # a search path of its own (dnsConfig.searches, merged into the dnsPolicy's or, under None, the whole of it:
        # kubernetes/website dns-pod-service.md, "Pod's DNS Config"): a bare host may resolve in another namespace
        own_search = caller.spec.get("dnsPolicy", "ClusterFirst") not in ("ClusterFirst", "ClusterFirstWithHostNet") \
            or bool(as_list(as_dict(caller.spec.get("dnsConfig")).get("searches")))
        for url, scheme, host, port, where in _urls(caller):
            if url in seen or host.lower().rstrip(".") in aliased:
                continue
            seen.add(url)
            named = _service_name(host, str(caller.namespace))
            if named is None:
                continue
            namespace, name, headless_pod = named
            service = services.get((namespace, name))
            if service is None:
                if not port_only and not own_search and "." not in host and not {namespace, _ANY} & released \
                        and not unnamed_services and not {(namespace, name), (_ANY, name)} & bundled_services:
                    elsewhere = sorted(ns for ns, svc in services if svc == name)
                    if elsewhere:
                        problems.append(
                            f"{caller.reg.name} ({caller.described()}){on} calls {url} ({where}): a bare host "
                            f"resolves in the pod's own namespace ({name}.{namespace}.svc.{_ZONE}), where this "
                            f"program creates no Service {name}; it creates {name} in {', '.join(elsewhere)} "
                            f"({services[(elsewhere[0], name)].name}): the name does not resolve and every call "
                            f"fails; qualify the host ({scheme}://{name}.{elsewhere[0]}.svc:{port}) or run "
                            f"{caller.described()} in namespace {elsewhere[0]} (a Service outside the program "
                            f"answers {name} in namespace {namespace}? run(..., unjudged=[{RULE!r}]) leaves this "
                            f"rule out)")
                continue
            if not dns_judged and not port_only and policies_read:  # once a caller: its pods resolve every
                dns_judged = True  # name through one DNS
                problems += _dns_dropped(caller, url, where, policies, policy_regs, namespaces, on)
            target = _aliased(service, services)
            problems += _judge_call(caller, url, where, scheme, port, target, headless_pod, templates, policies,
                                    policy_regs, namespaces, on, by_urn, None if target is service else service,
                                    port_only or not policies_read)
    return problems


def _dns_dropped(caller: _Template, url: str, where: str, policies: list[Mapping[str, Any]],
                 policy_regs: list[Registration], namespaces: Mapping[str, Mapping[str, str]], on: str) -> list[str]:
    """A caller isolated for egress whose policies admit no DNS server (_DNS_PEERS, port 53 UDP or TCP): it calls a
    Service by name, and every lookup times out. Not judged where a policy reads a namespace label the program does
    not set (kube-system's labels are the cluster's) or a part the model does not read."""
    pod = caller.pod
    if caller.spec.get("dnsPolicy", "ClusterFirst") != "ClusterFirst" or caller.spec.get("hostAliases"):
        return []  # another resolver (dnsPolicy Default, None with its dnsConfig), or names in /etc/hosts
    try:
        isolating = selecting(policies, "Egress", pod)
        if not isolating or any(_reads_unknown_namespace(policies, "Egress", pod, peer, namespaces)
                                for peer in _DNS_PEERS if isinstance(peer, Pod)):
            return []
        if any(allowed(policies, "Egress", pod, peer, _DNS_PORT, namespaces, protocol)
               for peer in _DNS_PEERS for protocol in ("UDP", "TCP")):
            return []
    except (Unmodelled, KeyError, TypeError, ValueError, AttributeError):
        return []
    names = _policy_names([r for p in isolating for r in policy_regs if r.inputs is p])
    return [f"{caller.reg.name} ({caller.described()}){on} calls {url} ({where}): its pods resolve the name through "
            f"the cluster DNS, and the NetworkPolicies {names} isolating their egress admit no DNS server: every "
            f"lookup times out and every call fails; add an egress rule in namespace {caller.namespace} to namespace "
            f"kube-system's pods labelled k8s-app: kube-dns on UDP and TCP port {_DNS_PORT}{OUTSIDE}"]


def _aliased(service: Registration, services: Mapping[tuple[str, str], Registration]) -> Registration:
    """The Service an ExternalName Service of the program aliases, where its externalName is another Service's full
    name (`<svc>.<ns>.svc.cluster.local`: CoreDNS answers the alias with a CNAME to it, which the client resolves as
    an absolute name, so only the full name reaches a Service; kubernetes/dns docs/specification.md, 2.5 "Records for
    External Name Services"), else the Service itself. The call goes to that Service's pods on the URL's port: an
    alias keeps the port. One step: an alias of an alias is left."""
    spec = as_dict(service.inputs.get("spec"))
    target = spec.get("externalName")
    if spec.get("type") != "ExternalName" or not isinstance(target, str) or _unknown_under(service, "spec"):
        return service
    labels = target.lower().rstrip(".").split(".")
    if labels[-3:] != ["svc", *_ZONE.split(".")] or len(labels) != 5:
        return service
    return services.get((labels[1], labels[0]), service)


def _judge_call(caller: _Template, url: str, where: str, scheme: str, port: int, service: Registration,
                headless_pod: bool, templates: list[_Template], policies: list[Mapping[str, Any]],
                policy_regs: list[Registration], namespaces: Mapping[str, Mapping[str, str]], on: str,
                by_urn: Mapping[str, Registration], alias: Optional[Registration] = None,
                port_only: bool = False) -> list[str]:
    """The call of `url` to `service` (through the ExternalName `alias`): refused on a port the Service does not
    expose (_port_not_exposed), or where the program's policies let no pod of the caller through to a target pod
    (`port_only`: the port alone)."""
    meta, spec = service.inputs["metadata"], as_dict(service.inputs.get("spec"))
    if _unknown_under(service, "spec"):
        return []  # a preview's selector or port not known yet (dropped: the selector would select more)
    selector = spec.get("selector")
    if spec.get("type") == "ExternalName" or not isinstance(selector, dict) or not selector or \
            not all(isinstance(v, str) for v in selector.values()):
        return []
    headless = spec.get("clusterIP") == "None"
    if headless_pod and not headless:
        return []
    targets = [t for t in templates if t.kind in _TARGETS and t.namespace == meta["namespace"]
               and all(t.labels.get(k) == v for k, v in selector.items())]
    entry = None
    if not headless:
        entries = [p for p in as_list(spec.get("ports")) if isinstance(p, dict)]
        if scheme not in _TCP_SCHEMES and any(p.get("port") == port and p.get("protocol", "TCP") != "TCP"
                                              for p in entries):
            return []  # a scheme whose transport is not known, on a port listed for UDP or SCTP: not judged
        entry = next((p for p in entries if p.get("port") == port and p.get("protocol", "TCP") == "TCP"), None)
        if entry is None:
            return _port_not_exposed(caller, url, where, scheme, port, service, on, targets, alias)
    if port_only:
        return []
    blocked: list[tuple[_Template, int, list[tuple[Registration, str]]]] = []
    for target in targets:
        if target is caller or target.host_network:
            continue
        target_port: Any = port if entry is None else _target_port(entry, target)
        if not isinstance(target_port, int):
            continue  # the pod names no such port: it is no endpoint of the Service
        source, destination = caller.pod, target.pod
        try:
            if _reads_unknown_namespace(policies, "Egress", source, destination, namespaces) or \
                    _reads_unknown_namespace(policies, "Ingress", destination, source, namespaces):
                continue
            if connects(policies, source, destination, target_port, namespaces):
                continue
            isolating = []
            for direction, pod, other in (("Egress", source, destination), ("Ingress", destination, source)):
                if not allowed(policies, direction, pod, other, target_port, namespaces):
                    isolating += [(p, direction) for p in selecting(policies, direction, pod)]
        except (Unmodelled, KeyError, TypeError, ValueError, AttributeError):
            continue  # a policy this model does not read: not judged
        blocked.append((target, target_port, [(r, d) for p, d in isolating for r in policy_regs if r.inputs is p]))
    problems = []
    for target, target_port, regs in blocked:
        names = _policy_names([r for r, _ in regs], by_urn)
        fixes = _fixes(regs, caller, target, target_port, by_urn)
        # what the user sees of a dropped call: an Open-WebUI's model list stays empty
        seen = " (an Open-WebUI lists no model)" if any(
            _kind_of(c) == "OpenWebUi" for c in components_above(caller.reg, by_urn)) else ""
        problems.append(
            f"{caller.reg.name} ({caller.described()}){on} calls {url} ({where}): Service "
            f"{meta['namespace']}/{meta['name']} port {port} reaches {target.described()} on port {target_port}, "
            f"and the NetworkPolicies {names} let no pod of {caller.described()} through: the pods start and every "
            f"call is dropped{seen}; {'; '.join(fixes) or 'admit the call'}{OUTSIDE}")
    return problems


def _target_port(entry: Mapping[str, Any], target: _Template) -> Any:
    """The port of `target`'s pods a Service port entry forwards to: its `targetPort`, a number, a number's text or a
    container port's name on the pod (None where the pod names none such); absent, the entry's `port`."""
    target_port = entry.get("targetPort", entry.get("port"))
    if isinstance(target_port, str):
        return int(target_port) if target_port.isdigit() else target.ports.get(target_port)
    return target_port


def _port_not_exposed(caller: _Template, url: str, where: str, scheme: str, port: int, service: Registration,
                      on: str, targets: list[_Template], alias: Optional[Registration]) -> list[str]:
    """A URL whose port is none of the Service's TCP ports (for a scheme whose transport is not known, _TCP_SCHEMES:
    none of its ports at all): a ClusterIP answers only the ports its Service lists (kube-proxy and Cilium program the
    Service's `port`s; the `targetPort` is the pods', reached through them: kubernetes/website
    concepts/services-networking/service.md, "Port definitions"), so every call fails. Judged only where every port
    entry is readable (a number and a protocol); the message names the ports there are and, where one of them has the
    URL's port as its `nodePort` or forwards to it on the Service's pods (a number, or a name they give it), that
    one. `alias`: the ExternalName Service the caller named, which resolves to `service`."""
    meta, ports = service.inputs["metadata"], as_list(as_dict(service.inputs.get("spec")).get("ports"))
    if not ports or not all(isinstance(p, dict) and isinstance(p.get("port"), int) and not isinstance(p["port"], bool)
                            and isinstance(p.get("protocol", "TCP"), str) for p in ports):
        return []
    listed = ", ".join(f"{p['port']}/{p.get('protocol', 'TCP')}" for p in ports)
    tcp = [p for p in ports if p.get("protocol", "TCP") == "TCP"]
    node_port = [p["port"] for p in tcp if p.get("nodePort") == port]
    forwarding = [p["port"] for p in tcp if p.get("targetPort") in (port, str(port))
                  or any(_target_port(p, t) == port for t in targets)]
    if node_port:
        fix = (f"{port} is the nodePort of its port {node_port[0]}, which the nodes' addresses answer, not the "
               f"Service's name: call port {node_port[0]}")
    elif forwarding:
        fix = f"call port {forwarding[0]}, which forwards to the pods' {port}"
    else:
        fix = f"call one of its ports, or add {port}/TCP to the Service"
    through = ""
    if alias is not None:
        named = as_dict(alias.inputs.get("metadata"))
        through = f" (through {named.get('namespace')}/{named.get('name')}, an ExternalName for it)"
    wanted = f"{port}/TCP" if scheme in _TCP_SCHEMES else str(port)
    return [f"{caller.reg.name} ({caller.described()}){on} calls {url} ({where}): Service "
            f"{meta['namespace']}/{meta['name']}{through} exposes {listed}, not {wanted}: a Service answers on its "
            f"own ports alone, so every call fails; {fix}"]
