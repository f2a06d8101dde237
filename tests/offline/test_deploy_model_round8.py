"""The deploy model's schedule verdicts that mutation round eight (docs/decisions.md) found untested: what a Service's
end links to on the critical path and which dependency is a step's link, a pool that ends the instant its pods' create
starts, a stall's figures, the identity gates of a create with no awaiter."""
from __future__ import annotations

import pytest

from tests.conftest import PLANNED, planned
from tests.offline.test_deploy_engine import _gpu_plan
from tests.offline.test_deploy_model import DATA, PROVIDER, _azure, bare_plan_of, deployment, k8s, plan_of
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


def _mounting_key_vault(workload: dict) -> tuple[Plan, Registration]:
    """`workload` with a volume of a SecretProviderClass that signs in as a workload identity, created with the
    identity's federated credential and Key Vault Secrets User grant (as in
    test_a_pod_mounting_key_vault_secrets_waits_for_its_identitys_propagation)."""
    identity = _azure("id", dm.IDENTITY, resourceGroupName="rg", resourceName="id")
    federation = _azure("fic", dm.FEDERATION, ("urn:id",), resourceGroupName="rg", resourceName="id",
                        issuer="https://oidc/", subject="system:serviceaccount:llm:app")
    grant = _azure("grant", "azure-native:authorization:RoleAssignment", ("urn:id", PROVIDER),
                   principalType="ServicePrincipal", principalId="id-principal", scope="/vault",
                   roleDefinitionId=f"/providers/Microsoft.Authorization/roleDefinitions/{dm.KEY_VAULT_SECRETS_USER}")
    spc = k8s("spc", {"apiVersion": "secrets-store.csi.x-k8s.io/v1", "kind": "SecretProviderClass",
                      "metadata": {"name": "app-secrets", "namespace": "llm"}, "spec": {"provider": "azure"}},
              ("urn:id",))
    volume = {"name": "s", "csi": {"driver": "secrets-store.csi.k8s.io", "readOnly": True,
                                   "volumeAttributes": {"secretProviderClass": "app-secrets"}}}
    pod = pod_spec(workload)
    assert pod is not None
    pod["volumes"] = [volume]
    app = k8s("app", workload, (spc.urn, "urn:fic", "urn:grant"))
    return plan_of(identity, federation, grant, spc, app), app


def test_a_cron_job_mounting_key_vault_waits_for_no_identity_on_its_create():
    """A CronJob's create has no awaiter (it runs no pod when created), so the identity its Jobs' pods mount Key
    Vault with holds nothing; the same pod spec in a Deployment, which Pulumi awaits, is held."""
    deployed, held = _mounting_key_vault(deployment("app"))
    assert held.urn in dm.identity_gates(deployed, DATA)
    cron = {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "app", "namespace": "llm"},
            "spec": {"schedule": "0 3 * * *", "jobTemplate": {"spec": {"template": {"spec": {
                "restartPolicy": "Never",
                "containers": [{"name": "c", "image": "nginxinc/nginx-unprivileged:1.29"}]}}}}}}
    plan, app = _mounting_key_vault(cron)
    assert app.urn not in dm.identity_gates(plan, DATA)
    step = dm.schedule(plan, DATA).steps[app.urn]
    assert step.finish == step.start + dm.Span.of(DATA["kubernetes"]["object"])
