"""The deploy model's schedule verdicts that mutation round eight (docs/decisions.md) found untested: what a Service's
end links to on the critical path and which dependency is a step's link, a pool that ends the instant its pods' create
starts, a stall's figures, which grants a Key Vault mount and a load balancer wait for."""
from __future__ import annotations

import pytest

from tests.conftest import PLANNED, planned
from tests.offline.test_deploy_engine import _gpu_plan
from tests.offline.test_deploy_model import (AKS_KUBELET, DATA, PROVIDER, _azure, _grant, bare_plan_of,
                                             cluster_identity_grants, deployment, k8s, key_vault_mount, plan_of)
from tests.offline.test_deploy_model_round7 import _service, _web
from offline import deploy_model as dm
from offline.pod_specs import pod_spec
from offline.runner import Plan, Registration


def test_a_service_whose_scheduled_pods_end_after_it_settles_links_to_them_on_the_critical_path():
    """service.go: a Service's endpoints settle once no scheduled pod is unready; its workload's pods are scheduled
    at once (no pool: nothing to wait for) and ready after Open WebUI's image pull, well past the 10 s settle, so the
    Service ends with them and its link (`after`, the critical path's) is the workload, not what it came after."""
    service, web = k8s("web", _service("web")), _web()
    web.inputs["spec"]["template"]["spec"]["containers"][0]["image"] = "ghcr.io/open-webui/open-webui:0.6.5"
    steps = dm.schedule(plan_of(service, web), DATA).steps
    assert steps[web.urn].nodes_ready.median == steps[web.urn].start.median  # scheduled at once
    assert steps[service.urn].start.median + steps[service.urn].wait.span.median < steps[web.urn].finish.median
    assert steps[service.urn].finish == steps[web.urn].finish
    assert steps[service.urn].after == web.urn


def test_a_service_whose_pods_are_ready_before_it_settles_links_to_its_own_dependency():
    """Created after a PostgreSQL server, the Service finds its pods ready: it settles in its own time, and its link
    is the server it was created after, not the workload."""
    server = _azure("db", "azure-native:dbforpostgresql:Server")
    service, web = k8s("web", _service("web"), ("urn:db",)), _web()
    steps = dm.schedule(plan_of(server, service, web), DATA).steps
    assert steps[web.urn].finish.median < steps[service.urn].start.median == steps["urn:db"].finish.median
    assert steps[service.urn].finish.median == steps[service.urn].start.median + steps[service.urn].wait.span.median
    assert steps[service.urn].after == "urn:db"


def test_pods_created_the_instant_their_pool_ends_land_on_it_with_the_fallback_queued_behind_them():
    """One worker: the GPU Deployment starts the instant its spot pool's create returns, and the on-demand fallback
    its pods also tolerate (ready then too, registered after it) queues behind it. A pool that ended at this very
    instant gives the pods nodes as one that ended before would: the create does not wait for the fallback, which
    would be a stall of the model's own (its worker held to its deadline)."""
    def pool(name: str, **inputs) -> Registration:
        return _azure(name, dm.AGENT_POOL, ("urn:spot",) if name == "od" else (), vmSize="Standard_NC24ads_A100_v4",
                      minCount=0, gpuProfile={"driver": "Install"}, nodeTaints=["nvidia.com/gpu=present:NoSchedule"],
                      **inputs)
    ollama = k8s("ollama", deployment("ollama", gpu=True, image="ollama/ollama:0.32.15",
                                      annotations={"pulumi.com/timeoutSeconds": "3600"},
                                      tolerations=[{"operator": "Exists"}]), ("urn:spot",))
    ollama.inputs["metadata"]["namespace"] = "default"  # AKS's: no Namespace to create first
    plan = bare_plan_of(pool("spot", agentPoolName="gpu", scaleSetPriority="Spot"), ollama,
                        pool("od", agentPoolName="gpuod"))
    model = dm.evaluate(plan, DATA, parallel=1)
    assert model.problems == []
    step, spot = model.steps[ollama.urn], model.steps["urn:spot"]
    assert step.start == spot.finish and model.steps["urn:od"].start == step.finish
    assert step.wait.node_delay is not None and step.nodes_ready == step.start + step.wait.node_delay[0]


def test_a_stall_names_the_figures_it_happens_with():
    """The planted stall (one worker, the GPU pool queued behind the Deployment that waits for it) happens with the
    median figures, and the message says so."""
    [problem] = dm.evaluate(_gpu_plan(), DATA, parallel=1).problems
    assert "fails it (median figures)" in problem.message


@pytest.mark.parametrize("name", PLANNED)
def test_each_link_of_the_critical_path_ends_when_the_next_step_starts_or_later(name):
    """The critical path `make plan` prints, and the floor's: each step's link is what its median start or end
    waited for last (its latest dependency in the median figures, the step that freed it a worker, or what held it
    once started), so the link ends no earlier than the step starts. A dependency that ends later only in the
    pessimistic figures is no link (dev's inference-webui-migrate waits for inference-router, not for the database
    bootstrap Job that is slower only pessimistically)."""
    model = dm.evaluate(planned(name))
    assert model.floor is not None
    for schedule in (model, model.floor):
        path = schedule.critical_path
        assert path and schedule.steps[path[-1]].finish.median == schedule.total.median
        for link, step in zip(path, path[1:]):
            assert schedule.steps[link].finish.median >= schedule.steps[step].start.median, (name, link, step)


def test_a_steps_link_is_its_latest_dependency_in_the_median_figures():
    """A secret after the cluster (7 min median, 15 pessimistic) and a grant after a Grafana (5 min median, 15
    pessimistic: with the grant, later than the cluster only pessimistically): its link is the cluster, whose median
    end it starts at."""
    cluster = _azure("aks", dm.MANAGED_CLUSTER, resourceGroupName="rg", resourceName="aks")
    grafana = _azure("grafana", "azure-native:dashboard:Grafana")
    grant = _azure("grant", "azure-native:authorization:RoleAssignment", ("urn:grafana",))
    secret = _azure("secret", "azure-native:keyvault:Secret", ("urn:aks", "urn:grant"))
    model = dm.schedule(bare_plan_of(cluster, grafana, grant, secret), DATA)
    steps = model.steps
    assert steps["urn:grant"].finish.median < steps["urn:aks"].finish.median == steps["urn:secret"].start.median
    assert steps["urn:grant"].finish.pessimistic > steps["urn:aks"].finish.pessimistic
    assert steps["urn:secret"].after == "urn:aks" and model.critical_path == ["urn:aks", "urn:secret"]


def test_a_dependency_done_at_the_start_of_the_up_holds_nothing_and_is_no_link():
    """The global stack's API-key map secrets come after the key list, a resource with nothing to wait for (done at
    0 s): they start at once, so nothing held them and the critical path begins with them."""
    clients = Registration(urn="urn:clients", type="random:index/randomUuid:RandomUuid", name="clients", parent="",
                           custom=True, inputs={}, secret_paths=[], dependencies=[], options={})
    secret = _azure("secret", "azure-native:keyvault:Secret", ("urn:clients",))
    model = dm.schedule(bare_plan_of(clients, secret), DATA)
    assert model.steps["urn:clients"].finish == dm.Span(0, 0) and model.steps["urn:secret"].start == dm.Span(0, 0)
    assert model.steps["urn:secret"].after is None and model.critical_path == ["urn:secret"]


def _mounting_key_vault(workload: dict, *others: Registration) -> tuple[Plan, Registration]:
    """`workload` with a volume of a SecretProviderClass that signs in as a workload identity, created with the
    identity's federated credential and Key Vault Secrets User grant (test_deploy_model.key_vault_mount)."""
    (identity, federation, grant), spc, volume = key_vault_mount()
    pod = pod_spec(workload)
    assert pod is not None
    pod["volumes"] = [volume]
    app = k8s("app", workload, (spc.urn, "urn:fic", "urn:grant"))
    return plan_of(identity, federation, grant, *others, spc, app), app


def _cron_job(image: str) -> dict:
    return {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "app", "namespace": "llm"},
            "spec": {"schedule": "0 3 * * *", "jobTemplate": {"spec": {"template": {"spec": {
                "restartPolicy": "Never", "containers": [{"name": "c", "image": image}]}}}}}}


def test_a_cron_job_mounting_key_vault_waits_for_no_identity_on_its_create():
    """A CronJob's create has no awaiter (it runs no pod when created), so the identity its Jobs' pods mount Key
    Vault with holds nothing; the same pod spec in a Deployment, which Pulumi awaits, is held."""
    deployed, held = _mounting_key_vault(deployment("app"))
    assert held.urn in dm.identity_gates(deployed, DATA)
    plan, app = _mounting_key_vault(_cron_job("nginxinc/nginx-unprivileged:1.29"))
    assert app.urn not in dm.identity_gates(plan, DATA)
    step = dm.schedule(plan, DATA).steps[app.urn]
    assert step.finish == step.start + dm.Span.of(DATA["kubernetes"]["object"])


def test_a_pod_mounting_key_vault_waits_for_its_identitys_key_vault_grant_not_its_other_grants():
    """The CSI driver reads secrets with the identity's Key Vault Secrets User grant; another grant to the identity
    (a monitoring role its pods use once running, made late) is no part of the mount."""
    from llmplatform.azure_roles import MONITORING_DATA_READER
    late = _azure("late", "azure-native:dashboard:Grafana")
    other = _grant("reader", MONITORING_DATA_READER, "/subscriptions/s/resourceGroups/rg", ("urn:id", "urn:late"),
                   principal="id-principal")
    plan, app = _mounting_key_vault(deployment("app"), late, other)
    assert [g for g, _ in dm.identity_gates(plan, DATA)[app.urn]] == ["urn:fic", "urn:grant"]
    steps = dm.schedule(plan, DATA).steps
    assert steps[app.urn].finish.median < steps["urn:reader"].finish.median


def _load_balancer_plan(*objects: Registration) -> Plan:
    """`objects` on cluster aks, whose identity is granted the node subnet, a public IP and (Reader) its group, all
    made with the cluster (test_deploy_model.cluster_identity_grants)."""
    return plan_of(*cluster_identity_grants(), *objects, cluster="urn:aks")


def test_an_istio_gateway_made_internal_by_its_infrastructure_annotations_waits_for_the_subnet_grant_only():
    """Gateway API's `spec.infrastructure.annotations` go onto the Service Istio generates for the Gateway: with the
    internal load-balancer annotation there, its address is a frontend in the node subnet, so of the cluster
    identity's grants it needs the subnet's, not the public IP's or the Reader's."""
    gateway = k8s("gw", {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway",
                         "metadata": {"name": "gw", "namespace": "llm",
                                      "annotations": {"pulumi.com/waitFor": "condition=Programmed"}},
                         "spec": {"gatewayClassName": "istio", "listeners": [], "infrastructure": {"annotations": {
                             "service.beta.kubernetes.io/azure-load-balancer-internal": "true"}}}})
    gates = dm.grant_gates(_load_balancer_plan(gateway), DATA)
    assert [g for g, _, _ in gates[gateway.urn]] == ["urn:subnet"]


def test_a_cluster_ip_service_or_a_load_balancer_one_awaited_otherwise_waits_for_no_load_balancer_grant():
    """A ClusterIP Service's await settles its endpoints; no address, so none of the cluster identity's grants. A
    LoadBalancer Service with a `pulumi.com/waitFor` condition is awaited for that condition in place of its address
    (metadata.ReadyCondition replaces the Service awaiter): none either."""
    service = k8s("web", _service("web"))
    assert dm.grant_gates(_load_balancer_plan(service), DATA) == {}
    balancer = _service("web", {"pulumi.com/waitFor": "jsonpath={.spec.clusterIP}"})
    balancer["spec"]["type"] = "LoadBalancer"
    assert dm.grant_gates(_load_balancer_plan(k8s("web", balancer)), DATA) == {}


@pytest.mark.parametrize("name", PLANNED)
def test_only_what_awaits_a_load_balancers_address_waits_for_the_cluster_identitys_grants(name):
    """On every planned stack: a load-balancer Service, an Ingress, a Gateway or a Helm release rendering one; no
    ClusterIP Service (each stack's Ollama and router Services would otherwise wait out the grants' propagation)."""
    plan = planned(name)
    by_urn = {r.urn: r for r in plan.resources}
    for urn, found in dm.grant_gates(plan, DATA).items():
        if any(why.startswith("load-balancer address") for _, _, why in found):
            reg = by_urn[urn]
            assert reg.type == dm.HELM_RELEASE or dm.kind_of(reg) in ("Gateway", "Ingress") or (
                dm.kind_of(reg) == "Service" and (reg.inputs.get("spec") or {}).get("type") == "LoadBalancer"), reg.name


def test_a_cron_job_or_a_create_with_skip_await_pulling_from_the_mirror_waits_for_no_acr_pull_grant():
    """No pod runs when a CronJob is created, and a create with skipAwait returns before its pods pull: the kubelet's
    AcrPull grant holds neither (a Deployment of the same image awaited waits for the grant's propagation)."""
    from llmplatform.azure_roles import ACR_PULL
    registry = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/MirrorX"
    image = "mirrorx.azurecr.io/library/nginx:1.29"
    cluster = _azure("aks", dm.MANAGED_CLUSTER, resourceGroupName="rg", resourceName="aks")
    grant = _grant("acr", ACR_PULL, registry, ("urn:aks",), principal=AKS_KUBELET)
    cron, app = k8s("cron", _cron_job(image)), k8s("app", deployment("app", image=image))
    lazy = k8s("lazy", deployment("lazy", image=image, annotations={"pulumi.com/skipAwait": "true"}))
    gates = dm.grant_gates(plan_of(cluster, grant, cron, app, lazy, cluster="urn:aks"), DATA)
    assert list(gates) == [app.urn]


def _ingress(annotations: dict) -> Registration:
    return k8s("web", {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
                       "metadata": {"name": "web", "namespace": "llm", "annotations": annotations},
                       "spec": {"rules": [{"http": {"paths": [{"path": "/", "pathType": "Prefix", "backend": {
                           "service": {"name": "web", "port": {"number": 80}}}}]}}]}})


def test_an_awaited_ingress_waits_for_every_load_balancer_grant_and_one_awaited_otherwise_or_not_for_none():
    """ingress.go awaits a status.loadBalancer.ingress entry, an address the cloud provider builds as the cluster's
    identity: every grant of it (an Ingress names no internal load balancer); a `pulumi.com/waitFor` condition
    replaces that await, and with it the address; skipAwait waits for nothing."""
    awaited, conditioned = _ingress({}), _ingress({"pulumi.com/waitFor": "jsonpath={.metadata.generation}"})
    gates = dm.grant_gates(_load_balancer_plan(awaited), DATA)
    assert [g for g, _, _ in gates[awaited.urn]] == ["urn:group", "urn:ip", "urn:subnet"]
    assert dm.grant_gates(_load_balancer_plan(conditioned), DATA) == {}
    assert dm.grant_gates(_load_balancer_plan(_ingress({"pulumi.com/skipAwait": "true"})), DATA) == {}


def test_a_service_follows_the_deployments_pods_not_a_jobs_of_the_same_labels():
    """A Job run before the Deployment (a schema migration) may label its pods as the app's: its pods complete and
    leave the endpoints (a Succeeded pod is never ready), so the Service's endpoints wait for the Deployment's."""
    job = k8s("migrate", {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "migrate", "namespace": "llm"},
                          "spec": {"template": {"metadata": {"labels": {"app": "web"}}, "spec": {
                              "restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox:1.37"}]}}}})
    service, web = k8s("web", _service("web")), _web()
    steps = dm.schedule(plan_of(job, service, web), DATA).steps
    assert steps[service.urn].wait.waits_for.endswith("(pods of web)")


@pytest.mark.parametrize("name", PLANNED)
def test_a_service_follows_the_pods_of_its_own_namespace(name):
    """A selector picks pods of the Service's namespace only: on llmd, inference-router-svc waits for the pods of
    inference-router, not llmd-router's (the same labels in namespace llm-d); deploy.json's `waitsFor` names them."""
    plan = planned(name)
    model = dm.evaluate(plan)
    namespaces = {r.name: (r.inputs.get("metadata") or {}).get("namespace") for r in plan.kubernetes_objects()}
    followed = {s.reg.name: s.wait.waits_for.rsplit("(pods of ", 1)[1].rstrip(")")
                for s in model.steps.values() if "(pods of " in s.wait.waits_for}
    assert {svc: namespaces[wl] for svc, wl in followed.items()} == {
        svc: namespaces[svc] for svc in followed}
    if name == "llmd":
        assert followed["inference-router-svc"] == "inference-router"


def test_a_deployment_of_no_replicas_waits_for_no_acr_pull_grant_and_meets_its_deadline():
    """0 replicas: the Deployment's create is done once the object is (nothing to be ready), so no pod pulls from the
    mirror before it returns. The model held it until the kubelet's AcrPull grant, made later, had propagated and
    the image back-off had retried (17 min pessimistic) and refused the plan for its 10-minute deadline."""
    from llmplatform.azure_roles import ACR_PULL
    registry = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/MirrorX"
    cluster = _azure("aks", dm.MANAGED_CLUSTER, resourceGroupName="rg", resourceName="aks")
    slow = _azure("slow", dm.VAULT, ("urn:aks",))  # the grant follows a Key Vault made after the cluster
    grant = _grant("acr", ACR_PULL, registry, ("urn:aks", "urn:slow"), principal=AKS_KUBELET)
    idle = k8s("idle", deployment("idle", replicas=0, image="mirrorx.azurecr.io/library/nginx:1.29"))
    plan = plan_of(cluster, slow, grant, idle, cluster="urn:aks")
    assert dm.grant_gates(plan, DATA) == {}
    model = dm.evaluate(plan, DATA)
    assert [p for p in model.problems if p.rule == "timeout"] == []
    step = model.steps[idle.urn]
    assert step.start.median < model.steps["urn:acr"].finish.median
    assert step.finish == step.start + dm.Span.of(DATA["kubernetes"]["object"])


def test_only_an_acr_pull_grant_to_the_kubelet_lets_its_pods_pull():
    """A grant to the kubelet identity on the registry of a role with no pull right (a monitoring reader) lets no
    pod pull: it is no pull grant, and a Deployment created before it does not wait for it."""
    from llmplatform.azure_roles import MONITORING_DATA_READER
    registry = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/MirrorX"
    cluster = _azure("aks", dm.MANAGED_CLUSTER, resourceGroupName="rg", resourceName="aks")
    grant = _grant("reader", MONITORING_DATA_READER, registry, ("urn:aks",), principal=AKS_KUBELET)
    app = k8s("app", deployment("app", image="mirrorx.azurecr.io/library/nginx:1.29"))
    plan = plan_of(cluster, grant, app, cluster="urn:aks")
    assert dm.grant_gates(plan, DATA) == {}


def test_an_acr_pull_grant_on_a_group_with_no_registry_of_the_plan_gates_nothing():
    """A grant on a resource group covers the registries in it; the plan creates none there, so which login servers
    it covers is unknown to the plan: no pull waits for it (and the plan is read, not refused)."""
    from llmplatform.azure_roles import ACR_PULL
    cluster = _azure("aks", dm.MANAGED_CLUSTER, resourceGroupName="rg", resourceName="aks")
    grant = _grant("acr", ACR_PULL, "/subscriptions/s/resourceGroups/rg-images", ("urn:aks",), principal=AKS_KUBELET)
    app = k8s("app", deployment("app", image="mirrorx.azurecr.io/library/nginx:1.29"))
    assert dm.grant_gates(plan_of(cluster, grant, app, cluster="urn:aks"), DATA) == {}
