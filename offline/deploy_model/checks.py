"""The plan failures found over the graph: CRD order, name references, GPU waits, principal types, Job outputs,
deadlines."""
from __future__ import annotations

import json
import re
from typing import Any, Optional

from llmplatform.write_order import AGENT_POOL, MANAGED_CLUSTER
from llmplatform.kubernetes_schemas import BUILTIN_GROUPS
from llmplatform.testing import namespaces

from ..pod_specs import pod_spec
from ..runner import DEPLOYER, Plan, Registration
from .model import (CRD_BUNDLES, DeployModel, HELM_RELEASE, Problem, SKIP_AWAIT, TIMEOUT_SECONDS, WAIT_FOR,
                    WORKLOADS)
from .objects import (annotations_of, api_group_of, by_cluster, cluster_keys, kind_of, label_of,
                      managed_clusters, metadata_of, objects_by_name, requests_gpu, storage_classes)
from .pools import pools
from .access import deployer_access
from .awaits import FIRST_CONSUMER, skips_await
from .model import WarmUp
from .warm_readers import Readers, combined, warm_readers
from .templates import rendered_groups


# Which API groups each CRD installer brings. Charts: the CRDs each chart's pinned release ships (tests check the
# vendored CRDs' sources); bundles: by the release file they apply; AKS add-ons: by addonProfiles key.
CHART_CRD_GROUPS: dict[str, tuple[str, ...]] = {
    "kube-prometheus-stack": ("monitoring.coreos.com",),
    "keda": ("keda.sh", "eventing.keda.sh"),
    "keda-add-ons-http": ("http.keda.sh",),
    "cert-manager": ("cert-manager.io", "acme.cert-manager.io"),
    "base": ("networking.istio.io", "security.istio.io", "telemetry.istio.io", "extensions.istio.io"),
    "gpu-operator": ("nvidia.com", "nfd.k8s-sigs.io"),
    "network-operator": ("mellanox.com", "k8s.cni.cncf.io"),
}
BUNDLE_CRD_GROUPS: dict[str, tuple[str, ...]] = {
    "kubernetes-sigs/gateway-api/releases": ("gateway.networking.k8s.io",),
    "kubernetes-sigs/gateway-api-inference-extension/releases": ("inference.networking.k8s.io",
                                                                 "inference.networking.x-k8s.io"),
}
ADDON_CRD_GROUPS: dict[str, tuple[str, ...]] = {
    "azureKeyvaultSecretsProvider": ("secrets-store.csi.x-k8s.io",),
    "azurepolicy": ("templates.gatekeeper.sh", "constraints.gatekeeper.sh"),
}
# AKS dataplanes, by networkProfile.networkDataplane: Cilium's operator registers its CRDs (cilium.io) at start, and
# its agents wait for them before a node turns Ready (cilium/cilium v1.18.3 pkg/k8s/synced/crd.go, SyncCRDs: "These
# CRDs are added by the Cilium Operator. This function will block until it finds all the CRDs"), so they exist
# once AKS has created the cluster with its nodes.
DATAPLANE_CRD_GROUPS: dict[str, tuple[str, ...]] = {
    "cilium": ("cilium.io",),
}

# Principal types by what the principal is (Microsoft.Authorization roleAssignments: principalType defaults to User
# in the REST spec; ARM refuses a mismatch with UnmatchedPrincipalType).
MANAGED_IDENTITY_SOURCES = ("azure-native:managedidentity:UserAssignedIdentity", MANAGED_CLUSTER,
                            "azure-native:dashboard:Grafana")


def crd_installers(plan: Plan) -> dict[str, list[Registration]]:
    """API group -> the plan's resources that install its CRDs."""
    found: dict[str, list[Registration]] = {}
    for reg in plan.resources:
        groups: tuple[str, ...] = ()
        if kind_of(reg) == "CustomResourceDefinition":
            groups = (str((reg.inputs.get("spec") or {}).get("group", "")),)
        elif reg.type == HELM_RELEASE and not reg.inputs.get("skipCrds"):
            groups = CHART_CRD_GROUPS.get(str(reg.inputs.get("chart", "")).rsplit("/", 1)[-1], ())
        elif reg.type in CRD_BUNDLES:
            source = json.dumps(reg.inputs)
            groups = tuple(g for key, gs in BUNDLE_CRD_GROUPS.items() if key in source for g in gs)
        elif reg.type == MANAGED_CLUSTER:
            addons = reg.inputs.get("addonProfiles") or {}
            groups = tuple(g for key, gs in ADDON_CRD_GROUPS.items()
                           if (addons.get(key) or {}).get("enabled") for g in gs)
            dataplane = (reg.inputs.get("networkProfile") or {}).get("networkDataplane")
            groups += DATAPLANE_CRD_GROUPS.get(str(dataplane), ())
        for group in groups:
            found.setdefault(group, []).append(reg)
    return found


def _installs_on(installer: Registration, reg: Registration, where: dict[str, Any],
                 made_from: dict[str, frozenset[str]]) -> bool:
    """Whether an installer's CRDs reach the cluster `reg` is written to: a ManagedCluster's (add-ons, dataplane) its
    own cluster's objects (those whose provider is made from it; any object whose provider is made from no cluster
    of the plan), a chart's, a bundle's or a CRD object's the cluster it is written to."""
    if installer.type == MANAGED_CLUSTER:
        return not made_from.get(reg.urn) or installer.urn in made_from[reg.urn]
    return where.get(installer.urn) == where.get(reg.urn)


def _custom_resources(plan: Plan) -> list[tuple[Registration, str, str]]:
    """(object or release, API group of a custom resource it writes, what writes it): each object of a group that
    is not built in; each release's chart templates that render one of such a group (`templates.rendered_groups`)."""
    found = [(reg, api_group_of(reg), "") for reg in plan.kubernetes_objects()]
    for reg in plan.helm_releases():
        found += [(reg, group, ", ".join(paths)) for group, paths in rendered_groups(reg.inputs).items()]
    return [(reg, group, how) for reg, group, how in found if group not in BUILTIN_GROUPS]


def check_crd_order(plan: Plan, before: dict[str, set[str]]) -> list[Problem]:
    """A custom resource is after what installs its kind's CRDs on its own cluster (another cluster's CRDs do not
    make the kind known to this one's API server). A Helm release whose chart's templates render custom resources
    is after what installs their CRDs unless it installs them itself: Helm maps every object of the manifest before
    it creates any (helm v3.20.2 pkg/action/install.go `KubeClient.Build`), so an unknown kind fails the install at
    once ("resource mapping not found ... ensure CRDs are installed first"), with no retry."""
    installers = crd_installers(plan)
    where, made_from = cluster_keys(plan), managed_clusters(plan)
    problems = []
    for reg, group, templates in _custom_resources(plan):
        found = [i for i in installers.get(group, []) if _installs_on(i, reg, where, made_from)]
        if reg in found:
            continue
        renders = f"renders {group} resources ({templates}) but " if templates else ""
        fails = ("Helm cannot map the kind and the install fails at once" if templates
                 else "Pulumi retries an unknown kind for 31 s, then fails")
        if not found:
            elsewhere = ", ".join(i.name for i in installers.get(group, []))
            problems.append(Problem("crd-order", label_of(reg), f"{renders}no resource of this plan installs the CRDs "
                                    f"of {group}" + (f" on its cluster ({elsewhere} does on another)" if elsewhere
                                                     else "") + f": {fails}; fix: install them on its cluster in "
                                    "this plan (their CustomResourceDefinitions, or the Helm release or AKS add-on "
                                    "that brings them) and depend on that"))
        elif not any(i.urn in before.get(reg.urn, ()) for i in found):
            first = ("the kind is unknown and " + fails if templates
                     else "the kind is unknown for 31 s of retries, then the create fails")
            problems.append(Problem("crd-order", label_of(reg), f"{renders}is not after "
                                    f"{', '.join(i.name for i in found)}, which installs the {group} CRDs: created "
                                    f"first, {first}; fix: depend on it"))
    return problems


# How an object that names another behaves while the named one is missing, per case (ANY_KIND: whatever it names).
ANY_KIND = "*"
TOLERANT = {
    ("pod", "ConfigMap"): "the kubelet retries the volume mount (and a container's env from it) until it exists",
    ("pod", "Secret"): "the kubelet retries the volume mount (and a container's env from it) until it exists",
    ("pod", "PersistentVolumeClaim"): "the scheduler keeps the pod pending until the claim exists",
    ("pod", "SecretProviderClass"): "the CSI driver's mount is retried by the kubelet",
    ("HTTPRoute", "Gateway"): "the route is accepted when its Gateway appears (Gateway API status reconcile)",
    ("HTTPRoute", "Service"): "the backend resolves when the Service appears (ResolvedRefs reconcile)",
    ("InterceptorRoute", "Service"): "the interceptor routes to the Service once it exists (it holds requests until "
                                     "the Service has a ready endpoint)",
    # a scaler reads its target through the /scale subresource whatever its kind, and a missing one is an error
    # the controller retries (kedacore/keda controllers/keda/scaledobject_controller.go checkTargetResourceIsScalable;
    # kubernetes pkg/controller/podautoscaler/horizontal.go reconcileAutoscaler, FailedGetScale)
    ("ScaledObject", ANY_KIND): "KEDA reconciles until the target exists",
    ("HorizontalPodAutoscaler", ANY_KIND): "the HPA reports the missing target and retries",
}
INTOLERANT = {
    ("pod", "ServiceAccount"): "the ReplicaSet/Job controller cannot create a pod for a missing ServiceAccount "
                               "(it backs off, minutes)",
    ("nginx", "Service"): "nginx resolves an upstream `server` name at start and exits 'host not found in "
                          "upstream' (crash-loop)",
}


def config_refs(source: Optional[dict]) -> list[tuple[str, dict]]:
    """The ConfigMap and Secret a projected volume source, an env `valueFrom` or an `envFrom` entry names and needs
    (not marked optional: the kubelet holds the container in CreateContainerConfigError until it exists)."""
    found = []
    for key, kind in (("configMap", "ConfigMap"), ("configMapRef", "ConfigMap"), ("configMapKeyRef", "ConfigMap"),
                      ("secret", "Secret"), ("secretRef", "Secret"), ("secretKeyRef", "Secret")):
        ref = (source or {}).get(key)
        if isinstance(ref, dict) and ref.get("name") and not ref.get("optional"):
            found.append((kind, ref))
    return found


def references(reg: Registration) -> list[tuple[str, str, str, str]]:
    """(consumer role, kind, namespace, name) of every object this one names."""
    ns = str(metadata_of(reg).get("namespace") or "")
    kind = kind_of(reg)
    spec = reg.inputs.get("spec") or {}
    out: list[tuple[str, str, str, str]] = []
    pod = pod_spec(reg.inputs)
    if pod is not None:
        account = pod.get("serviceAccountName")
        if account and account != "default":
            out.append(("pod", "ServiceAccount", ns, str(account)))
        for v in pod.get("volumes") or []:
            if (v.get("configMap") or {}).get("name") and not v["configMap"].get("optional"):
                out.append(("pod", "ConfigMap", ns, str(v["configMap"]["name"])))
            if (v.get("secret") or {}).get("secretName") and not v["secret"].get("optional"):
                out.append(("pod", "Secret", ns, str(v["secret"]["secretName"])))
            if (v.get("persistentVolumeClaim") or {}).get("claimName"):
                out.append(("pod", "PersistentVolumeClaim", ns, str(v["persistentVolumeClaim"]["claimName"])))
            spc = ((v.get("csi") or {}).get("volumeAttributes") or {}).get("secretProviderClass")
            if spc:
                out.append(("pod", "SecretProviderClass", ns, str(spc)))
            for source in (v.get("projected") or {}).get("sources") or []:
                out.extend(("pod", kind, ns, str(ref["name"])) for kind, ref in config_refs(source))
        for container in (pod.get("initContainers") or []) + (pod.get("containers") or []):
            for env in container.get("env") or []:
                out.extend(("pod", kind, ns, str(ref["name"])) for kind, ref in config_refs(env.get("valueFrom")))
            for source in container.get("envFrom") or []:
                out.extend(("pod", kind, ns, str(ref["name"])) for kind, ref in config_refs(source))
    if kind == "HTTPRoute":
        for p in spec.get("parentRefs") or []:
            if p.get("kind", "Gateway") == "Gateway":
                out.append(("HTTPRoute", "Gateway", str(p.get("namespace") or ns), str(p["name"])))
        for rule in spec.get("rules") or []:
            for b in rule.get("backendRefs") or []:
                if b.get("kind", "Service") == "Service" and not b.get("group"):
                    out.append(("HTTPRoute", "Service", str(b.get("namespace") or ns), str(b["name"])))
    if kind in ("ScaledObject", "HorizontalPodAutoscaler"):
        target = spec.get("scaleTargetRef") or {}
        if target.get("name"):
            out.append((kind, str(target.get("kind", "Deployment")), ns, str(target["name"])))
    if kind == "InterceptorRoute" and (spec.get("target") or {}).get("service"):
        out.append((kind, "Service", ns, str(spec["target"]["service"])))
    return out


NGINX_SERVER = re.compile(r"^\s*server\s+([A-Za-z0-9.-]+):\d+", re.M)


def nginx_upstreams(reg: Registration, objects: dict, cluster: Any = None) -> list[tuple[str, str, str, str]]:
    """Upstream host names in the nginx config a workload mounts (resolved once, at start); `objects` as
    `objects_by_name` keys them, the workload's own cluster's read."""
    pod = pod_spec(reg.inputs) or {}
    ns = str(metadata_of(reg).get("namespace") or "")
    if not any("nginx" in str(c.get("image", "")) for c in pod.get("containers") or []):
        return []
    out = []
    for v in pod.get("volumes") or []:
        cm = objects.get((cluster, "ConfigMap", ns, str((v.get("configMap") or {}).get("name", ""))))
        for text in ((cm.inputs.get("data") or {}).values() if cm else ()):
            for host in NGINX_SERVER.findall(str(text)):
                if re.fullmatch(r"[\d.]+", host) or host == "localhost":
                    continue
                parts = host.split(".")
                out.append(("nginx", "Service", parts[1] if len(parts) > 1 else ns, parts[0]))
    return out


def check_references(plan: Plan, before: dict[str, set[str]]) -> list[Problem]:
    objects = objects_by_name(plan)  # each object names others on its own cluster
    where = cluster_keys(plan)
    gateways = {(cluster, ns, name): reg for (cluster, kind, ns, name), reg in objects.items() if kind == "Gateway"}
    charted_namespaces = {(where.get(r.urn), str(r.inputs.get("namespace"))) for r in plan.helm_releases()}
    problems = []
    for reg in plan.kubernetes_objects():
        cluster = where.get(reg.urn)
        refs = references(reg) + nginx_upstreams(reg, objects, cluster)
        for role, kind, ns, name in refs:
            target = objects.get((cluster, kind, ns, name))
            how = ""
            if target is None and kind == "Service" and name.endswith("-istio") \
                    and (cluster, ns, name[:-6]) in gateways:
                gw = gateways[(cluster, ns, name[:-6])]
                target, how = gw, f" (Istio creates it for Gateway {name[:-6]}; only a Gateway awaited with " \
                                  f"{WAIT_FOR} Programmed guarantees it exists)"
                waited = WAIT_FOR in annotations_of(gw)
            else:
                waited = True
            label = f"{kind} {ns + '/' if ns else ''}{name}"
            if target is None:
                if (cluster, ns) in charted_namespaces:
                    continue  # a chart in that namespace may create it
                effect = INTOLERANT.get((role, kind), "what waits for it waits until its deadline")
                problems.append(Problem("name-reference", label_of(reg), f"names {label}, which nothing in this "
                                        f"plan creates (dangling reference: {effect}); fix: create it in this plan "
                                        "and depend on it, or name one that exists"))
                continue
            if (role, kind) in TOLERANT or (role, ANY_KIND) in TOLERANT:
                continue
            reason = INTOLERANT.get((role, kind), "it does not tolerate the absence")
            if target.urn not in before.get(reg.urn, ()) or not waited:
                problems.append(Problem("name-reference", label_of(reg), f"names {label}{how} but is not after it, "
                                        f"and it is not tolerant: {reason}; fix: depend on it"))
    return problems


def check_claim_classes(plan: Plan, before: dict[str, set[str]]) -> list[Problem]:
    """A claim of a WaitForFirstConsumer class the plan creates is after that class. pulumi-kubernetes' claim awaiter
    reads the class when the claim is created (awaiters.go untilCoreV1PersistentVolumeClaimReady, pvcBindMode); while
    the class does not exist it waits for Bound, which such a claim reaches only once a pod using it is scheduled, and
    nothing updates the Pending claim to make it read the class again: with its consumer after it, the 5 minutes end
    the create. (An Immediate class is tolerated: the volume controller retries the claim until the class exists.)"""
    classes = {cluster: storage_classes(objects) for cluster, objects in by_cluster(plan, plan.kubernetes_objects())
               .items()}  # a claim's class is its own cluster's
    where = cluster_keys(plan)
    problems = []
    for reg in plan.kubernetes_objects():
        name = (reg.inputs.get("spec") or {}).get("storageClassName") if kind_of(reg) == "PersistentVolumeClaim" \
            else None
        target = classes.get(where.get(reg.urn), {}).get(str(name)) if name else None
        if target is None or target.inputs.get("volumeBindingMode") != FIRST_CONSUMER or skips_await(reg) \
                or WAIT_FOR in annotations_of(reg) or target.urn in before.get(reg.urn, ()):
            continue
        problems.append(Problem("name-reference", label_of(reg), f"names StorageClass {name} (WaitForFirstConsumer) "
                                "but is not after it: the claim's awaiter reads the class when the claim is created "
                                "and, without it, waits for Bound, which comes only once a pod using the claim is "
                                "scheduled (pulumi-kubernetes awaiters.go pvcBindMode); fix: depend on it"))
    return problems


def check_namespaces(plan: Plan, before: dict[str, set[str]]) -> list[Problem]:
    """Every object and release goes into a namespace the cluster has or the plan creates before it. The API server
    refuses a create into a missing namespace (NotFound); pulumi-kubernetes retries a NotFound create for 31 s
    (provider/pkg/await/await.go Creation: SleepingRetry, 5 retries from 1 s doubling), Helm refuses at once
    ('namespaces "x" not found') unless createNamespace. A release that creates a namespace holds it until its
    chart is ready, far past the 31 s."""
    creators, placed = namespaces(plan.resources)
    problems = []
    for reg, key in placed:
        found, ns = creators.get(key, []), key[1]
        if reg in found:
            continue
        if not found:
            problems.append(Problem("namespace", label_of(reg), f"goes into namespace {ns}, which nothing in this "
                                    "plan creates and a new cluster does not have: the create fails with "
                                    f"'namespaces \"{ns}\" not found'; fix: create the namespace (a Namespace "
                                    "object, or the component that owns it) and depend on it"))
        elif not any(c.urn in before.get(reg.urn, ()) for c in found):
            problems.append(Problem("namespace", label_of(reg), f"goes into namespace {ns} but is not after "
                                    f"{', '.join(c.name for c in found)}, which creates it: the create may meet "
                                    "no namespace; fix: depend on it"))
    return problems


def check_gpu_waits(plan: Plan, graph: dict[str, set[str]]) -> list[Problem]:
    by_urn = {r.urn: r for r in plan.resources}
    gpu_pools = {p.urn for p in pools(plan) if p.driver and by_urn[p.urn].type == AGENT_POOL}

    def needs_gpu(reg: Registration) -> bool:
        spec = pod_spec(reg.inputs)
        return bool(spec and requests_gpu(spec))

    problems = []
    for urn in graph:
        reg = by_urn[urn]
        if not reg.type.startswith("kubernetes:") or needs_gpu(reg):
            continue
        seen: set[str] = set()
        pending, hit = list(graph[urn]), None
        while pending and hit is None:
            dep = pending.pop()
            if dep in seen:
                continue
            seen.add(dep)
            if dep in gpu_pools:
                hit = dep
                break
            if needs_gpu(by_urn[dep]):
                continue  # waiting for a GPU workload is waiting for that workload, not for the pool
            pending.extend(graph.get(dep, ()))
        if hit:
            problems.append(Problem("gpu-wait", label_of(reg), f"needs no GPU node but waits for GPU pool "
                                    f"{by_urn[hit].name} (DaemonSets and controllers install with no node); fix: "
                                    "take the GPU selector and tolerations as plain values, not the pool's "
                                    "outputs"))
    return problems


# kubelogin logins that are an application, never a user; and those that are always a user
APP_LOGINS, USER_LOGINS = ("workloadidentity", "spn", "msi"), ("devicecode",)


def deployer_login(plan: Plan, grant: Optional[Registration] = None) -> Optional[str]:
    """How the Kubernetes provider logs in (kubelogin's --login in its kubeconfig): the identity running `pulumi up`.
    With a deployer's grant, the login of the providers that wait for it (the grant's own cluster's), else the
    first provider's."""
    providers = plan.of_type("pulumi:providers:kubernetes")
    own = [p for p in providers if grant is not None and grant.urn in p.dependencies]
    for reg in own or providers:
        match = re.search(r"--login\W+(\w+)", str(reg.inputs.get("kubeconfig", "")))
        if match:
            return match.group(1)
    return None


def check_principal_types(plan: Plan) -> list[Problem]:
    """principalType must be sent (the REST spec's default is User) and match the principal: managed identities
    (user-assigned, a cluster's or Grafana's system-assigned) are ServicePrincipal; the deployer (getClientConfig's
    object) is a ServicePrincipal when the provider logs in as an application, a User with a device-code login
    (an Azure CLI login can be either: the config says)."""
    by_urn = {r.urn: r for r in plan.resources}
    problems = []
    for reg in plan.of_type("azure-native:authorization:RoleAssignment"):
        login = deployer_login(plan, reg)
        kind = reg.inputs.get("principalType")
        managed = any(by_urn[d].type in MANAGED_IDENTITY_SOURCES for d in reg.dependencies if d in by_urn
                      and str(reg.inputs.get("principalId", "")).endswith("-principal"))
        if not kind:
            problems.append(Problem("principal-type", reg.name, "has no principalType: ARM takes User (the REST "
                                    "spec's default) and refuses any other principal with UnmatchedPrincipalType; "
                                    "fix: set it for the principal's kind"))
        elif managed and kind != "ServicePrincipal":
            problems.append(Problem("principal-type", reg.name, f"principalType {kind} for a managed identity, "
                                    "which is a ServicePrincipal: ARM refuses it with UnmatchedPrincipalType; fix: "
                                    "principalType ServicePrincipal"))
        elif reg.inputs.get("principalId") == DEPLOYER and login in APP_LOGINS + USER_LOGINS:
            wanted = "ServicePrincipal" if login in APP_LOGINS else "User"
            if kind != wanted:
                problems.append(Problem("principal-type", reg.name, f"principalType {kind} for the deployer, who "
                                        f"logs in with kubelogin --login {login} (a {wanted}): ARM refuses it with "
                                        f"UnmatchedPrincipalType; fix: cluster.deployerPrincipalType"))
    return problems


def check_deployer_access(plan: Plan) -> list[Problem]:
    """A provider whose objects need the deployer's new cluster role and nothing holding them back until the role
    has reached the API server: the first creates meet Forbidden, which pulumi-kubernetes does not retry."""
    by_urn = {r.urn: r for r in plan.resources}
    return [Problem("deployer-access", by_urn[urn].name, "its first creates race the deployer's cluster role "
                    "(Azure RBAC propagation, up to 10 min) and fail with Forbidden, which pulumi-kubernetes does not "
                    "retry; fix: hand the provider a kubeconfig through llmplatform.cluster_access.once_allowed (as "
                    "AksCluster does), whose SelfSubjectAccessReview the cluster's API server must answer")
            for urn, state in sorted(deployer_access(plan).items()) if state == "raced"]


def check_job_outputs(plan: Plan, before: dict[str, set[str]]) -> list[Problem]:
    """A workload (a Deployment, StatefulSet, DaemonSet, another Job or a bare Pod) that mounts read-only a claim a
    Job writes needs the Job's output: it must be after the Job, and the Job awaited (a skipAwait Job is 'done' when
    created). A claim is its cluster's: one of the same name on another cluster is another volume."""
    where = cluster_keys(plan)
    writers: dict[tuple[Any, str, str], list[Registration]] = {}
    for reg in plan.kubernetes_objects():
        if kind_of(reg) != "Job":
            continue
        spec = pod_spec(reg.inputs) or {}
        ns = str(metadata_of(reg).get("namespace") or "")
        for v in spec.get("volumes") or []:
            claim = (v.get("persistentVolumeClaim") or {})
            if claim.get("claimName") and not claim.get("readOnly"):
                writers.setdefault((where.get(reg.urn), ns, str(claim["claimName"])), []).append(reg)
    problems = []
    for reg in plan.kubernetes_objects():
        if kind_of(reg) not in WORKLOADS:
            continue
        spec = pod_spec(reg.inputs) or {}
        ns = str(metadata_of(reg).get("namespace") or "")
        for v in spec.get("volumes") or []:
            claim = (v.get("persistentVolumeClaim") or {})
            for job in writers.get((where.get(reg.urn), ns, str(claim.get("claimName"))), []) \
                    if claim.get("readOnly") else []:
                if job.urn != reg.urn and (job.urn not in before.get(reg.urn, ()) or skips_await(job)):
                    problems.append(Problem("job-output", label_of(reg),
                                            f"reads claim {claim['claimName']} read-only, which Job "
                                            f"{metadata_of(job).get('name')} fills, but is not after the awaited Job: "
                                            "it starts on an empty volume; fix: await the Job and depend on it"))
    return problems


def warm_up_outlasts_its_probe(warm: Optional[WarmUp], readers: Optional[int] = None) -> bool:
    """One replica's warm-up, `readers` pods warming at once (default: the first deploy's replicas), is longer than
    one startup probe attempt."""
    return warm is not None and warm.seconds(warm.replicas if readers is None else readers) > warm.attempt_timeout


def check_warm_ups(model: DeployModel, data: dict[str, Any]) -> list[Problem]:
    """OllamaServer's warm-up runs in its startup probe, whose attempt the kubelet kills at timeoutSeconds (containerd
    ExecSync: SIGKILL); Ollama then aborts the load (its client is gone) and the next attempt starts over. A warm-up
    longer than one attempt never passes: the pod is never Ready. The pods warming at once share the share's egress:
    the most the Deployment starts at once over its life counts (a first deploy, a rollout, a scale-up, a node
    upgrade: warm_readers), not only the first deploy's."""
    objects = [step.reg for step in model.steps.values()]
    problems = []
    for step in model.steps.values():
        warm = step.wait.warm_up
        if warm is None:
            continue
        sources = warm_readers(step.reg, warm.replicas, objects, warm.seconds)
        worst = max(sources, key=lambda r: r.count)
        if not warm_up_outlasts_its_probe(warm, worst.count):
            continue
        problems.append(Problem("warm-up", label_of(step.reg), warm_up_message(warm, worst, sources, data)))
    return problems


def warm_up_message(warm: WarmUp, worst: Readers, sources: list[Readers], data: dict[str, Any]) -> str:
    """The refusal: the arithmetic at the most pods warming at once, what starts them, and the keys that fit."""
    load, readers, fits = warm.load_seconds(), worst.count, warm.max_readers()
    read = (f"{readers} x {warm.mb:.0f} MB / {warm.read_mb_s:.0f} MB/s egress" if warm.read_mb_s
            else "no share read counted")
    fixes = []
    if fits:
        fixes.append(combined([r.levers(fits) for r in sources if r.count > fits]))
    size = warm.share_gib_for(data, readers)
    if size is not None and warm.read_mb_s:
        fixes.append(f"modelStore.sizeGib at least {size} (its egress grows with its size)")
    fixes.append("a smaller inference.warmModel, or none (the model then loads on its first request)")
    return (f"its startup probe must {warm.describe(readers)}, when {worst.source}, in attempts of at most "
            f"{warm.attempt_timeout:.0f} s (timeoutSeconds), but one replica's warm-up then takes pessimistic "
            f"{warm.seconds(readers):.0f} s ({read} + {warm.mb:.0f} MB / {warm.load_mb_s.pessimistic:.0f} MB/s load "
            f"= {warm.read_seconds(readers):.0f} + {load:.0f} s): the kubelet kills each attempt at its timeout, "
            "Ollama then aborts the load, so no attempt passes and those pods are never Ready; fix: "
            + "; or ".join(fixes))


def check_timeouts(model: DeployModel, any_pool: bool = True) -> list[Problem]:
    problems = []
    for step in model.steps.values():
        w = step.wait
        if any_pool and w.timeout is not None and not w.pods_on and kind_of(step.reg) in ("Deployment", "StatefulSet",
                                                                                      "Job", "Pod") \
                and "0 replicas" not in w.waits_for:
            problems.append(Problem("timeout", label_of(step.reg), "its pods fit no node pool of this plan (node "
                                    "selector, affinity or tolerations): they stay Pending and the wait runs to its "
                                    "deadline, then fails; fix: place them on a pool"))
            continue
        t = step.wait.timeout
        if t is None or step.elapsed.pessimistic <= t or warm_up_outlasts_its_probe(w.warm_up):
            continue  # a warm-up no probe attempt can finish is check_warm_ups' finding: no deadline helps it
        reg = step.reg
        if reg.type == HELM_RELEASE:
            fix = f"raise the release's timeout to at least {int(step.elapsed.pessimistic) + 1} s"
        elif reg.type.startswith("kubernetes:"):
            fix = (f"set {TIMEOUT_SECONDS} to at least {int(step.elapsed.pessimistic) + 1} (or customTimeouts."
                   f"create), or {SKIP_AWAIT} when Pulumi should not wait")
            if step.wait.warm_up is not None:  # OllamaServer's warm-up: the stack's own levers
                fix += ("; or have fewer replicas warm the model at once (inference.replicas), warm a smaller model "
                        "(inference.warmModel, or none) or provision a larger share (modelStore.sizeGib: its "
                        "egress grows with its size)")
        else:
            fix = f"raise customTimeouts.create above {int(step.elapsed.pessimistic)} s"
        problems.append(Problem("timeout", label_of(reg), f"waits for {step.wait.waits_for}: pessimistic "
                                f"{step.elapsed.pessimistic / 60:.1f} min > its deadline {t / 60:.1f} min "
                                f"({step.wait.timeout_from}); fix: {fix}"))
    return problems
