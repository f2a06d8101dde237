"""The deploy model with the cluster each object is on: a grant gates its own cluster's objects only (the kubelet's
AcrPull, the cluster identity's network grants), cluster-scoped objects are looked up by (cluster, name), and a Helm
release whose chart renders a LoadBalancer Service waits for its address."""
from __future__ import annotations

import copy
import dataclasses
import functools

import pytest

from offline import deploy_model as dm
from offline.deploy_model.charts import release_load_balancers
from offline.deploy_model.schedule import registry_grants
from offline.runner import Plan, Registration
from tests.conftest import MIRROR, PLANNED, planned
from tests.offline.test_deploy_model import (AKS_KUBELET, AKS_PRINCIPAL, DATA, _azure, _grant, deployment, k8s,
                                             plan_of)

REGISTRY = MIRROR["imageRegistryId"]
IMAGE = f"{MIRROR['imageRegistry']}/library/nginx:1.29"


def gated_by(plan: Plan, reg: Registration) -> list[str]:
    return [plan.by_urn(g).name for g, _, _ in dm.grant_gates(plan, DATA).get(reg.urn, [])]


def test_only_an_acr_pull_grant_to_the_clusters_kubelet_gates_its_pulls():
    """The kubelet pulls as the cluster's kubelet identity (identityProfile.kubeletidentity.objectId, the principal
    AksCluster grants AcrPull to): a grant of AcrPull on the same registry to someone else lets no node pull, so
    nothing waits for it."""
    from llmplatform.azure_roles import ACR_PULL
    cluster = _azure("aks", dm.MANAGED_CLUSTER, resourceGroupName="rg", resourceName="aks")
    kubelet = _grant("kubelet", ACR_PULL, REGISTRY, ("urn:aks",), principal=AKS_KUBELET)
    person = _grant("person", ACR_PULL, REGISTRY, ("urn:aks",), principal="11111111-1111-1111-1111-111111111111")
    own = _grant("own", ACR_PULL, REGISTRY, ("urn:aks",), principal=AKS_PRINCIPAL)  # the cluster's own identity
    app = k8s("app", deployment("app", image=IMAGE))
    plan = plan_of(cluster, kubelet, person, own, app, cluster="urn:aks")
    assert gated_by(plan, app) == ["kubelet"]


def test_an_acr_pull_grant_on_a_resource_group_gates_pulls_from_the_registries_the_plan_creates_in_it():
    """A role assignment is inherited by everything under its scope: AcrPull on a resource group lets the kubelet
    pull from each registry in that group, once it has propagated. The plan knows the registries it creates (and
    their login servers when named); a registry in another group, or one Pulumi will name, is not this grant's."""
    from llmplatform.azure_roles import ACR_PULL
    cluster = _azure("aks", dm.MANAGED_CLUSTER, resourceGroupName="rg", resourceName="aks")
    mirror = _azure("mirror", "azure-native:containerregistry:Registry", resourceGroupName="RG-Images",
                    registryName="TeamMirror")
    elsewhere = _azure("elsewhere", "azure-native:containerregistry:Registry", resourceGroupName="rg-other",
                       registryName="othermirror")
    unnamed = _azure("unnamed", "azure-native:containerregistry:Registry", resourceGroupName="rg-images")
    group = "/subscriptions/s/resourceGroups/rg-images"
    grant = _grant("group", ACR_PULL, group, ("urn:aks",), principal=AKS_KUBELET)
    deeper = _grant("deeper", ACR_PULL, f"{group}/providers/Microsoft.Storage/storageAccounts/x", ("urn:aks",),
                    principal=AKS_KUBELET)
    apps = [k8s(name, deployment(name, image=f"{server}/library/nginx:1.29"))
            for name, server in (("mine", "teammirror.azurecr.io"), ("other", "othermirror.azurecr.io"))]
    plan = plan_of(cluster, mirror, elsewhere, unnamed, grant, deeper, *apps, cluster="urn:aks")
    assert registry_grants(plan) == {"urn:group": (("teammirror.azurecr.io",), "urn:aks")}
    assert [gated_by(plan, app) for app in apps] == [["group"], []]


def two_clusters() -> None:
    """Two AKS clusters pulling from one mirror, each with a public LoadBalancer Service, a workload from the mirror
    and a StorageClass `fast` of its own (a: WaitForFirstConsumer, b: Immediate) with a claim on it."""
    import pulumi
    import pulumi_kubernetes as k8s_sdk
    import llmplatform
    from tests.components.test_components_alone import NETWORK, REQUIRED
    meta = k8s_sdk.meta.v1.ObjectMetaArgs
    for name, mode in (("a", "WaitForFirstConsumer"), ("b", "Immediate")):
        aks = llmplatform.AksCluster(f"aks-{name}", {
            **REQUIRED["AksCluster"](), "cluster_name": f"aks-{name}", "resource_group_name": f"rg-{name}",
            "network": NETWORK, "image_registry": MIRROR["imageRegistry"], "image_registry_id": REGISTRY})
        on = pulumi.ResourceOptions(provider=aks.provider)
        labels = {"app": f"web-{name}"}
        k8s_sdk.apps.v1.Deployment(f"web-{name}", metadata=meta(name="web", namespace="default"), spec={
            "selector": {"matchLabels": labels}, "template": {"metadata": {"labels": labels}, "spec": {
                "containers": [{"name": "web", "image": IMAGE}]}}}, opts=on)
        k8s_sdk.core.v1.Service(f"lb-{name}", metadata=meta(name="web", namespace="default"), spec={
            "type": "LoadBalancer", "selector": labels, "ports": [{"port": 80}]}, opts=on)
        fast = k8s_sdk.storage.v1.StorageClass(f"fast-{name}", metadata=meta(name="fast"),
                                               provisioner="file.csi.azure.com", volume_binding_mode=mode, opts=on)
        k8s_sdk.core.v1.PersistentVolumeClaim(f"claim-{name}", metadata=meta(name="data", namespace="default"), spec={
            "storageClassName": "fast", "accessModes": ["ReadWriteMany"],
            "resources": {"requests": {"storage": "1Gi"}}}, opts=pulumi.ResourceOptions(
                provider=aks.provider, depends_on=[fast]))


@functools.lru_cache(maxsize=1)
def two() -> Plan:
    from llmplatform.testing import run
    return run(two_clusters)


def test_each_clusters_objects_wait_for_their_own_clusters_grants_only():
    """Cluster a's pulls wait for a's kubelet grant, its load balancer for a's identity's grants; b's grants (another
    kubelet, another identity) let nothing of a's through, and the reverse. The cluster is the one the object's
    provider is made from."""
    plan = two()
    for name in ("a", "b"):
        web, lb = plan.one("kubernetes:apps/v1:Deployment", f"web-{name}"), plan.one("kubernetes:core/v1:Service",
                                                                                      f"lb-{name}")
        assert gated_by(plan, web) == [f"aks-{name}-acr-pull"]
        assert gated_by(plan, lb) == [f"aks-{name}-cluster-subnet"]


def test_each_claim_reads_its_own_clusters_storage_class():
    """Two clusters each with a StorageClass `fast`: a's claim is Pending on a's WaitForFirstConsumer class, b's
    waits for Bound on b's Immediate one (a class is a cluster's, not the plan's)."""
    model = dm.evaluate(two())
    waits = {s.reg.name: s.wait.waits_for for s in model.steps.values()}
    assert waits["claim-a"].startswith("PVC Pending (fast: WaitForFirstConsumer")
    assert waits["claim-b"] == "PVC Bound"
    assert [p for p in model.problems if p.rule == "name-reference"] == []


def _release(name: str, chart: str, values: dict, **inputs) -> Registration:
    reg = k8s(name, {"kind": "x", "chart": chart, "values": values, "atomic": True, "timeout": 900, **inputs},
              type_=dm.HELM_RELEASE)
    reg.inputs.pop("kind")
    return reg


def test_a_release_whose_chart_renders_a_load_balancer_waits_for_its_address_and_the_clusters_grants():
    """Helm's wait holds a LoadBalancer Service until it has an address (helm v3.20.2 pkg/kube/ready.go
    serviceReady), so an awaited release whose chart renders one with its values (the vendored chart's defaults,
    ours over them) waits for the cluster identity's grants and the address; read from the values, not the name:
    ingress-nginx's controller Service is a LoadBalancer by default, kube-prometheus-stack's Grafana only when we
    say so, its external Thanos Service (LoadBalancer) only when enabled; an internal one needs the subnet grant."""
    from llmplatform.azure_roles import NETWORK_CONTRIBUTOR
    cluster = _azure("aks", dm.MANAGED_CLUSTER, resourceGroupName="rg", resourceName="aks")
    subnet = _grant("subnet", NETWORK_CONTRIBUTOR, "/subscriptions/s/resourceGroups/rg/providers/"
                    "Microsoft.Network/virtualNetworks/v/subnets/nodes", ("urn:aks",), AKS_PRINCIPAL)
    ip = _grant("ip", NETWORK_CONTRIBUTOR, "/subscriptions/s/resourceGroups/rg/providers/"
                "Microsoft.Network/publicIPAddresses/pip", ("urn:aks",), AKS_PRINCIPAL)
    internal = {"service.beta.kubernetes.io/azure-load-balancer-internal": "true"}
    releases = {
        "nginx": _release("nginx", "ingress-nginx", {}),
        "nginx-local": _release("nginx-local", "ingress-nginx", {"controller": {"service": {"type": "ClusterIP"}}}),
        "nginx-internal": _release("nginx-internal", "ingress-nginx",
                                   {"controller": {"service": {"annotations": internal}}}),
        "grafana-lb": _release("grafana-lb", "kube-prometheus-stack", {"grafana": {"service": {
            "type": "LoadBalancer"}}}),
        "grafana-off": _release("grafana-off", "kube-prometheus-stack", {"grafana": {
            "enabled": False, "service": {"type": "LoadBalancer"}}}),
        "stack": _release("stack", "kube-prometheus-stack", {}),
        "thanos": _release("thanos", "kube-prometheus-stack", {"prometheus": {"thanosServiceExternal": {
            "enabled": True}}}),
        "lazy": _release("lazy", "ingress-nginx", {}, atomic=False, skipAwait=True),
    }
    plan = plan_of(cluster, subnet, ip, *releases.values(), cluster="urn:aks")
    gates = {name: gated_by(plan, reg) for name, reg in releases.items()}
    assert gates == {"nginx": ["ip", "subnet"], "nginx-local": [], "nginx-internal": ["subnet"],
                     "grafana-lb": ["ip", "subnet"], "grafana-off": [], "stack": [], "thanos": ["ip", "subnet"],
                     "lazy": []}
    lb_ip = DATA["kubernetes"]["load_balancer_ip"]["pessimistic"]
    waits = {name: dm.helm_wait(reg, DATA, []) for name, reg in releases.items()}
    assert waits["nginx"].span.pessimistic == waits["nginx-local"].span.pessimistic + lb_ip
    assert "load-balancer address" in waits["thanos"].waits_for and "load-balancer" not in waits["stack"].waits_for
    steps = dm.schedule(plan, DATA).steps
    built = steps["urn:ip"].finish.pessimistic + DATA["role_assignment_propagation"]["pessimistic"] \
        + DATA["load_balancer_retry"]["pessimistic"]
    assert steps[releases["nginx"].urn].nodes_ready.pessimistic == built


def test_istios_defaults_are_under_their_key_and_ours_win():
    """Istio's charts keep their defaults under `_internal_defaults_do_not_set` and merge the user's values over
    them (the vendored values.yaml's own comment): a value we set at the top wins over the default there."""
    defaults = {"service": {"type": "LoadBalancer"}}
    reg = _release("gw", "not-vendored", {"_internal_defaults_do_not_set": defaults})
    assert release_load_balancers(reg) == [("service.type", False)]
    reg.inputs["values"]["service"] = {"type": "ClusterIP"}
    assert release_load_balancers(reg) == []


@pytest.mark.parametrize("name", PLANNED)
def test_no_release_of_the_plans_renders_a_load_balancer(name):
    """Every release of every planned stack and variant (the regional stacks are prod's) renders ClusterIP Services
    only with the values we set, so none waits for an address: the gateways' load balancers are the Services Istio
    makes for the Gateways, which Pulumi does not await."""
    plan = planned(name)
    assert {r.name: release_load_balancers(r) for r in plan.helm_releases()} == \
        {r.name: [] for r in plan.helm_releases()}


def _on(reg: Registration, provider: str) -> Registration:
    """The object in `default` (a namespace every cluster has), written by `provider`."""
    reg.inputs["metadata"]["namespace"] = "default"
    return dataclasses.replace(reg, options={**reg.options, "provider": f"{provider}::id"})


def _two_cluster_plan(*objects: Registration) -> Plan:
    """Clusters a (one pool `work`, from zero, spot with an on-demand fallback, a 15-minute provision limit) and b
    (a pool `work` keeping a node, a 5-minute limit), a provider made from each, and the objects."""
    def pool(name, spot, count):
        return {"name": name, "vmSize": "Standard_D4s_v5", "nodeLabels": {"role": "work"}, "minCount": count,
                "scaleSetPriority": "Spot" if spot else "Regular"}
    a = _azure("aks-a", dm.MANAGED_CLUSTER, resourceGroupName="rg", resourceName="aks-a",
               agentPoolProfiles=[pool("spot", True, 0), pool("work", False, 0)],
               autoScalerProfile={"maxNodeProvisionTime": "15m"})
    b = _azure("aks-b", dm.MANAGED_CLUSTER, resourceGroupName="rg", resourceName="aks-b",
               agentPoolProfiles=[pool("work", False, 1)], autoScalerProfile={"maxNodeProvisionTime": "5m"})
    providers = [Registration(urn=f"urn:p{c}", type="pulumi:providers:kubernetes", name=f"p{c}", parent="",
                              custom=True, inputs={}, secret_paths=[], dependencies=[f"urn:aks-{c}"], options={})
                 for c in "ab"]
    return Plan(project="p", stack="t", resources=[a, b, *providers, *objects])


def test_a_pod_lands_on_its_own_clusters_pools_under_its_autoscalers_limit():
    """A pod can run only on the nodes of the cluster it is created in: a's pods wait for a spot node of a's pool
    from zero (pessimistic: a's 15-minute provision limit, then on-demand), though b has a node ready for the same
    selector; b's pods find b's node."""
    selector = {"nodeSelector": {"role": "work"}, "tolerations": [  # the taint AKS puts on a spot pool's nodes
        {"key": "kubernetes.azure.com/scalesetpriority", "operator": "Equal", "value": "spot", "effect": "NoSchedule"}]}
    on_a = _on(k8s("web-a", deployment("web", **selector)), "urn:pa")
    on_b = _on(k8s("web-b", deployment("web", **selector)), "urn:pb")
    steps = dm.schedule(_two_cluster_plan(on_a, on_b), DATA).steps
    assert steps[on_a.urn].wait.pods_on == ["urn:aks-a"] and steps[on_b.urn].wait.pods_on == ["urn:aks-b"]
    spot = dm.node_family(DATA, "Standard_D4s_v5")
    assert steps[on_a.urn].wait.node_delay[0] == dm.Span(spot["spot"]["median"],
                                                         900 + spot["regular"]["pessimistic"])
    assert steps[on_b.urn].wait.node_delay[0] == dm.Span(0.0, 0.0)


def test_names_resolve_within_the_objects_own_cluster():
    """A ServiceAccount and a Service's pods are looked up on the object's own cluster: the same name on the other
    cluster is another object (a pod on a naming an account only b has is a dangling reference; b's Service does
    not wait for a's pods)."""
    pod = {"serviceAccountName": "runner"}
    web = _on(k8s("web-a", deployment("web", **pod)), "urn:pa")
    web.inputs["spec"]["template"]["metadata"] = {"labels": {"app": "web"}}
    account = _on(k8s("runner-b", {"apiVersion": "v1", "kind": "ServiceAccount",
                                   "metadata": {"name": "runner", "namespace": "default"}}), "urn:pb")
    svc = _on(k8s("svc-b", {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "default"},
                            "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}}), "urn:pb")
    plan = _two_cluster_plan(web, account, svc)
    problems = [(p.rule, p.resource, "nothing in this plan creates" in p.message) for p in dm.evaluate(plan).problems
                if p.rule == "name-reference"]
    assert problems == [("name-reference", "Deployment default/web", True)]
    assert dm.schedule(plan, DATA).steps[svc.urn].wait.waits_for.endswith("no unready pod")


def _crd_problems(*regs: Registration) -> list[tuple[str, str]]:
    return [(p.resource, p.message) for p in dm.evaluate(plan_of(*regs)).problems if p.rule == "crd-order"]


# the fix every crd-order refusal with no installer on the object's cluster ends with
FIX = ("; fix: install them on its cluster in this plan (their CustomResourceDefinitions, or the Helm release or AKS "
       "add-on that brings them) and depend on that")


def test_a_release_whose_templates_render_another_charts_custom_resources_comes_after_their_crds():
    """keda-add-ons-http's chart renders a keda.sh ScaledObject for its interceptor whatever its values (kedacore/
    charts v2.20.2 `http-add-on/templates/interceptor/scaledobject.yaml`, vendored): Helm maps every object before it
    creates any, so installed before keda's CRDs the release fails at once. It must come after the keda release."""
    keda = _release("keda", "keda", {})
    http = _release("http", "keda-add-ons-http", {})
    assert _crd_problems(http) == [("http", "renders keda.sh resources (templates/interceptor/scaledobject.yaml) but "
                                    "no resource of this plan installs the CRDs of keda.sh: Helm cannot map the kind "
                                    "and the install fails at once" + FIX)]
    assert _crd_problems(keda, http) == [("http", "renders keda.sh resources (templates/interceptor/scaledobject.yaml)"
                                          " but is not after keda, which installs the keda.sh CRDs: created first, the "
                                          "kind is unknown and Helm cannot map the kind and the install fails at once; "
                                          "fix: depend on it")]
    http.dependencies.append(keda.urn)
    assert _crd_problems(keda, http) == []


def test_what_a_release_renders_is_read_from_its_values_over_the_charts_defaults():
    """The templates' own conditions decide: dcgm-exporter renders a ServiceMonitor by default (4.8.2 values
    `serviceMonitor.enabled: true`, `deployment/templates/service-monitor.yaml`), not with ours; llm-d's router chart
    an Istio DestinationRule only for provider istio (`templates/istio.yaml`) and its InferencePool unless
    `router.inferencePool.create` is false, from its library's template (`routerlib/templates/_inferencepool.yaml`);
    cert-manager's ServiceMonitor in the `else if` branch of its template, not when both monitors are asked for
    (that branch is the chart's `fail`)."""
    from offline.deploy_model.templates import rendered_groups
    assert rendered_groups({"chart": "dcgm-exporter"}) == {"monitoring.coreos.com": ["templates/service-monitor.yaml"]}
    assert rendered_groups({"chart": "dcgm-exporter", "values": {"serviceMonitor": {"enabled": False}}}) == {}
    istio = {"provider": {"name": "istio"}}
    assert rendered_groups({"chart": "llm-d-router-gateway", "values": istio}) == {
        "inference.networking.k8s.io": ["charts/routerlib/templates/_inferencepool.yaml"],
        "networking.istio.io": ["templates/istio.yaml"]}
    assert "networking.istio.io" not in rendered_groups({"chart": "llm-d-router-gateway", "values": {
        "provider": {"name": "none"}}})
    monitors = {"prometheus": {"enabled": True, "servicemonitor": {"enabled": True}}}
    assert rendered_groups({"chart": "cert-manager", "values": monitors}) == {
        "monitoring.coreos.com": ["templates/servicemonitor.yaml"]}
    monitors["prometheus"]["podmonitor"] = {"enabled": True}
    assert rendered_groups({"chart": "cert-manager", "values": monitors}) == {}
    stack = _release("stack", "kube-prometheus-stack", {})
    exporter = _release("dcgm", "dcgm-exporter", {})
    assert [r for r, _ in _crd_problems(stack, exporter)] == ["dcgm"]
    exporter.inputs["values"] = {"serviceMonitor": {"enabled": False}}
    assert _crd_problems(stack, exporter) == []


def test_the_router_chart_comes_after_istios_crds_and_the_inference_extensions():
    """The llmd plan's router release renders a DestinationRule (networking.istio.io, Istio's base chart) and an
    InferencePool (inference.networking.k8s.io, the extension's CRD bundle): without its dependencies on them the
    check names both."""
    plan = copy.deepcopy(planned("llmd"))
    router = next(r for r in plan.helm_releases() if r.inputs["chart"].endswith("/llm-d-router-gateway"))
    router.dependencies[:] = [u for u in router.dependencies if u.endswith(("-ns", "platform-cpu"))]
    problems = {p.message.split(" (")[0] for p in dm.evaluate(plan).problems
                if p.rule == "crd-order" and p.resource == router.name}
    assert problems == {"renders inference.networking.k8s.io resources", "renders networking.istio.io resources"}


def test_a_library_subcharts_values_are_under_its_alias_though_vendored_under_another_folder():
    """llm-d's router chart depends on the library chart `router` (alias router), vendored as charts/routerlib (its
    folder upstream): its defaults are the chart's `router` values."""
    from offline.deploy_model.charts import chart_values
    values = chart_values({"chart": "oci://ghcr.io/llm-d/charts/llm-d-router-gateway"})
    assert values["router"]["inferencePool"] == {"create": True, "failureMode": "FailOpen"}


def test_a_custom_resource_needs_its_crds_on_its_own_cluster():
    """kube-prometheus-stack installed on cluster b makes PodMonitor known to b's API server only: a PodMonitor on
    a, even after that release, meets an unknown kind (31 s of retries, then the create fails)."""
    chart = _on(k8s("kps", {"kind": "x", "chart": "kube-prometheus-stack", "timeout": 900, "atomic": True,
                            "metadata": {}}, type_=dm.HELM_RELEASE), "urn:pb")
    chart.inputs.pop("kind")
    chart.inputs.pop("metadata")
    monitor = {"apiVersion": "monitoring.coreos.com/v1", "kind": "PodMonitor", "metadata": {"name": "vllm"},
               "spec": {}}
    on_a = _on(k8s("mon-a", monitor, (chart.urn,)), "urn:pa")
    on_b = _on(k8s("mon-b", copy.deepcopy(monitor), (chart.urn,)), "urn:pb")
    problems = [(p.resource, p.message) for p in dm.evaluate(_two_cluster_plan(chart, on_a, on_b)).problems
                if p.rule == "crd-order"]
    assert problems == [("PodMonitor default/vllm", "no resource of this plan installs the CRDs of "
                         "monitoring.coreos.com on its cluster (kps does on another): Pulumi retries an unknown kind "
                         "for 31 s, then fails" + FIX)]


def test_each_deployer_grant_is_held_to_its_own_clusters_login():
    """The deployer's principal type follows how the provider waiting for that grant logs in: cluster a's provider
    as an application (workloadidentity: ServicePrincipal), b's with a device code (a User); each grant matches its
    own cluster's login, not the first provider's."""
    from llmplatform.azure_roles import AKS_RBAC_CLUSTER_ADMIN
    from offline.runner import DEPLOYER
    plan = _two_cluster_plan()
    for provider, login, kind in (("pa", "workloadidentity", "ServicePrincipal"), ("pb", "devicecode", "User")):
        cluster = provider[-1]
        grant = _grant(f"admin-{cluster}", AKS_RBAC_CLUSTER_ADMIN, f"/subscriptions/s/resourceGroups/rg/providers/"
                       f"Microsoft.ContainerService/managedClusters/aks-{cluster}", (f"urn:aks-{cluster}",),
                       principal=DEPLOYER)
        grant.inputs["principalType"] = kind
        reg = plan.by_urn(f"urn:{provider}")
        reg.inputs["kubeconfig"] = f"users: [{{user: {{exec: {{args: [get-token, --login, {login}]}}}}}}]"
        reg.dependencies.append(grant.urn)
        plan.resources.append(grant)
    assert dm.check_principal_types(plan) == []
