"""Names two kinds of component would both claim, refused by name before the second registers (llmplatform.run_state
keeps the claims per run):

- a namespace's API gate: InferenceStack (its ApiGate) and LlmdStack each run the API gate (api_router) under fixed
  names in their namespace (the Deployment and Service `router`, the NetworkPolicies `router-ingress` and
  `egress-guard`, the ServiceAccount `router`...), so two of them in one namespace of a cluster claim one set of
  objects; the API server refuses the second create at `pulumi up`, after everything before it.
- a resource group the program creates: AksCluster (unless existing_resource_group) and ModelStore's
  separate_resource_group each create theirs. azure-native refuses to create a group that exists ("cannot create
  already existing resource", `CanCreate`, provider/pkg/azure/client_azcore.go), and two creates sent at once both
  pass that check: then each component owns the one group, and deleting either deletes everything in it.

- a model server's Deployment: one ModelAutoscaler each (claim_scaled_server).

A value not known when the program runs (an output) is not claimed: the testing kit names those collisions."""
from typing import Any, Optional

import pulumi

from .checks import fail
from .resolved_provider import cluster_key, kubernetes_provider, provider_for
from .run_state import per_run


def _azure_provider(opts: Optional[pulumi.ResourceOptions]) -> str:
    """The azure-native provider a component's Azure resources use, by name ('' for the default one): two explicit
    providers may be two subscriptions, where one group name is two groups."""
    found = provider_for(opts, "azure-native")
    return getattr(found, "_name", "") if found is not None else ""


def handed_namespace(output: Any, namespace: Any) -> None:
    """A handle's namespace `output` (LlmdStack's and OllamaServer's endpoint hand one out) holds the plain
    `namespace`: an ApiGate given that handle reads where it runs from here (the output itself resolves only later)."""
    if isinstance(output, pulumi.Output) and isinstance(namespace, str):
        per_run("shared_names.handed_namespaces")[output] = namespace


def endpoint_namespace(endpoint: Any) -> Optional[str]:
    """The namespace a model endpoint handle (the caller's, not check_shape's copy) names, when known now: a plain
    value, or an output a component of this run handed out with a plain namespace (handed_namespace)."""
    namespace = endpoint.get("namespace") if isinstance(endpoint, dict) else None
    if isinstance(namespace, pulumi.Output):
        namespace = per_run("shared_names.handed_namespaces").get(namespace) or _sent_value(namespace)
    return namespace if isinstance(namespace, str) else None


def claim_gate_namespace(component: str, name: str, key: str, namespace: Any,
                         opts: Optional[pulumi.ResourceOptions], how: str, owner: Any = None) -> None:
    """`component` `name` (the object `owner`) runs the API gate in `namespace` (its input `key`) of the cluster its
    Kubernetes provider reaches; refused when another InferenceStack, LlmdStack or ApiGate of this run does there
    (an ApiGate whose parent is the component holding the namespace is that component's own gate). `how`: how
    this component is given a namespace of its own."""
    provider = kubernetes_provider(opts)
    if not isinstance(namespace, str) or provider is None:
        return
    taken = per_run("shared_names.gate_namespaces")
    slot = (*cluster_key(provider), namespace)
    other = taken.get(slot)
    if other is None:
        taken[slot] = (component, name, owner)
        return
    if other[:2] == (component, name) or (other[2] is not None and isinstance(opts, pulumi.ResourceOptions)
                                          and opts.parent is other[2]):
        return
    fail(component, name, key, namespace,
         f"a namespace where no other InferenceStack, LlmdStack or ApiGate on this cluster runs: {other[0]} "
         f"{other[1]!r} runs in {namespace!r}, and both run the API gate there under the same names (the Deployment "
         f"and Service router, the NetworkPolicies router-ingress and egress-guard): {how}")


def claim_resource_group(component: str, name: str, key: str, group: Any,
                         opts: Optional[pulumi.ResourceOptions], how: str) -> None:
    """`component` `name` creates resource group `group` (its input `key`); refused when another component of this
    run creates it too (caseless, as Azure compares group names). `how`: what to give instead."""
    group = _sent_value(group)
    if not isinstance(group, str):
        return
    taken = per_run("shared_names.resource_groups")
    slot = (pulumi.get_project(), pulumi.get_stack(), _azure_provider(opts), group.lower())
    other = taken.get(slot)
    if other is None:
        taken[slot] = (component, name, key, group)
        return
    if other[:3] == (component, name, key):
        return
    fail(component, name, key, group,
         f"a group no other component of this program creates: {other[0]} {other[1]!r} creates {other[3]!r} (its "
         f"{other[2]}), and azure-native creates a group only where none exists (two creates at once both pass, "
         f"and deleting either component deletes the group with everything in it); {how}")


def claim_scaled_server(name: str, mode: str, server: Any, opts: Optional[pulumi.ResourceOptions]) -> None:
    """ModelAutoscaler `name` scales the Deployment of `server` (the caller's model server handle) on the cluster its
    Kubernetes provider reaches; refused when another ModelAutoscaler of this run scales it. Two on one Deployment
    make two HPAs (a ScaledObject's own, `keda-hpa-<name>`, among them) selecting the same pods, and Kubernetes' HPA
    controller then scales with neither (AmbiguousSelector, "pods by selector ... are controlled by multiple HPAs",
    pkg/controller/podautoscaler/horizontal.go); KEDA's admission webhook lets it happen, as the HPA modes' HPAs carry
    `validations.keda.sh/hpa-ownership: "false"` (keda v2.20.2 apis/keda/v1alpha1/scaledobject_webhook.go
    verifyHpas skips them). Two of one mode name the same objects."""
    provider = kubernetes_provider(opts)
    if provider is None or not isinstance(server, dict):
        return
    # a handle's namespace and Deployment name are outputs of the server's (they wait for it): the same handle (or
    # its fields) handed to two autoscalers holds the same outputs, which then stand for the names
    namespace, deployment = server.get("namespace"), server.get("deployment")
    if not all(isinstance(v, (str, pulumi.Output)) for v in (namespace, deployment)):
        return
    taken = per_run("shared_names.scaled_servers")
    # through the component provider each Construct call builds the handle's outputs anew (a handle another
    # component handed out carries its dependencies, so it arrives as outputs): there their values, which the
    # engine sent, name the server
    sent = tuple(_sent_value(v) for v in (namespace, deployment))
    slots = [(*cluster_key(provider), namespace, deployment)]
    if all(isinstance(v, str) for v in sent) and sent != (namespace, deployment):
        slots.append((*cluster_key(provider), *sent))
    other = next((taken[s] for s in slots if s in taken and taken[s][0] != name), None)
    for slot in slots:
        taken.setdefault(slot, (name, mode))
    if other is None:
        return
    namespace, deployment = (v if isinstance(v, str) else s for v, s in zip((namespace, deployment), sent))
    where = f"the model server {namespace}/{deployment}" if isinstance(namespace, str) and \
        isinstance(deployment, str) else f"the model server ModelAutoscaler {other[0]!r} scales"
    fail("ModelAutoscaler", name, "model_server", where,
         f"a model server no other ModelAutoscaler scales: {other[0]!r} scales it (mode {other[1]}); one autoscaler "
         f"per model server, as two make two HPAs on one Deployment (a ScaledObject's own among them), which stops "
         f"both (Kubernetes' HPA controller: AmbiguousSelector), or, of one mode, name the same objects: keep one "
         f"of the two")


def remember_sent(output: Any, value: Any) -> None:
    """`output` (an input the component provider mapped, which resolves only later) holds `value`, a plain name the
    engine sent known: a claim compares it by that value (each Construct call builds its outputs anew)."""
    if isinstance(output, pulumi.Output) and isinstance(value, str):
        per_run("shared_names.sent")[output] = value


def _sent_value(value: Any) -> Any:
    """A plain value as it is; an output's value when the engine sent it known (remember_sent), else None."""
    if not isinstance(value, pulumi.Output):
        return value
    return per_run("shared_names.sent").get(value)


def plain_field(handle: Any, key: str) -> Optional[str]:
    """A handle's field `key` when known now: a plain name, or one the engine sent known through the component
    provider; None for any other value."""
    value = _sent_value(handle.get(key)) if isinstance(handle, dict) else None
    return value if isinstance(value, str) else None
