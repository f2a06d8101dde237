"""The deploy model's verdicts that mutation round ten (docs/decisions.md) found untested: its deadlines, GPU waits,
claim classes and Job outputs. Each test plants a defect the model, or `make plan`, must refuse naming it, or gives
a right plan it must accept."""
from __future__ import annotations

import copy
from typing import Optional

import pytest

from tests.conftest import plan_for
from tests.offline.test_deploy_model import deployment, k8s, plan_of
from offline import deploy_model as dm
from offline.deploy_model.checks import deployer_login

WAIT_FOR_FIRST_CONSUMER = {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": "fast"},
                           "provisioner": "disk.csi.azure.com", "volumeBindingMode": "WaitForFirstConsumer"}


def _refused(broken, stack: str, tmp_path, capsys, monkeypatch) -> str:
    """`make plan`'s entry point on a planted plan: it must refuse it; what it printed."""
    from offline import plan as plan_cli, runner as offline
    monkeypatch.setattr(offline, "run", lambda *a, **k: broken)
    assert plan_cli.main(["--stack", stack, "--out", str(tmp_path)]) == 1
    return capsys.readouterr().out


def _claim(annotations: dict[str, str]) -> dict:
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
            "metadata": {"name": "data", "namespace": "llm", "annotations": annotations},
            "spec": {"storageClassName": "fast", "accessModes": ["ReadWriteOnce"],
                     "resources": {"requests": {"storage": "1Gi"}}}}


@pytest.mark.parametrize("annotations", [{"pulumi.com/skipAwait": "true"},
                                         {"pulumi.com/waitFor": "jsonpath={.status.phase}=Pending"}])
def test_a_claim_not_awaited_by_its_own_awaiter_may_come_before_its_wait_for_first_consumer_class(annotations):
    """Only pulumi-kubernetes' claim awaiter reads the class (awaiters.go untilCoreV1PersistentVolumeClaimReady,
    pvcBindMode): a claim it does not await (skipAwait) or awaits by its own condition instead (waitFor replaces
    the built-in awaiter) does not wait for a Bound the missing class leaves it without."""
    fast = k8s("fast", WAIT_FOR_FIRST_CONSUMER)
    claim = k8s("data", _claim(annotations))
    assert [p for p in dm.evaluate(plan_of(fast, claim)).problems if p.rule == "name-reference"] == []
    awaited = k8s("data", _claim({}))
    assert [(p.rule, p.resource) for p in dm.evaluate(plan_of(fast, awaited)).problems] == [
        ("name-reference", "PersistentVolumeClaim llm/data")]


def test_a_static_volume_of_a_wait_for_first_consumer_class_may_come_before_the_class():
    """A PersistentVolume's awaiter waits for Available or Bound (awaiters.go untilCoreV1PersistentVolumeInitialized)
    and never reads its class; the volume controller makes an unclaimed volume Available whatever its class. Only a
    claim's class is the claim rule's."""
    fast = k8s("fast", WAIT_FOR_FIRST_CONSUMER)
    volume = k8s("pv", {"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": "pv"},
                        "spec": {"storageClassName": "fast", "capacity": {"storage": "1Gi"},
                                 "accessModes": ["ReadWriteOnce"], "csi": {"driver": "disk.csi.azure.com",
                                                                           "volumeHandle": "disk"}}})
    assert dm.evaluate(plan_of(fast, volume)).problems == []


def _job(volumes: list[dict] | None, annotations: dict[str, str] | None = None) -> dict:
    pod: dict = {"containers": [{"name": "c", "image": "ollama/ollama:1"}], "restartPolicy": "Never"}
    if volumes is not None:
        pod["volumes"] = volumes
    return {"apiVersion": "batch/v1", "kind": "Job",
            "metadata": {"name": "preload", "namespace": "llm", "annotations": annotations or {}},
            "spec": {"template": {"spec": pod}}}


def test_a_claim_a_deployment_writes_is_no_jobs_output_and_a_job_may_mount_nothing():
    """Only a Job fills a claim once, for its readers to wait for: a Deployment writing a claim another reads is no
    output to be after. A Job without volumes (a migration, say) writes nothing and is read as such."""
    writer = k8s("writer", deployment("writer", volumes=[{"name": "m", "persistentVolumeClaim": {
        "claimName": "models"}}]))
    reader = k8s("reader", deployment("reader", volumes=[{"name": "m", "persistentVolumeClaim": {
        "claimName": "models", "readOnly": True}}]))
    pvc = k8s("pvc", {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                      "metadata": {"name": "models", "namespace": "llm"}})
    assert [p for p in dm.evaluate(plan_of(pvc, writer, reader)).problems if p.rule == "job-output"] == []
    migrate = k8s("migrate", _job(None))
    assert [p for p in dm.evaluate(plan_of(migrate, reader)).problems if p.rule == "job-output"] == []
    reading_job = k8s("job", _job([{"name": "m", "persistentVolumeClaim": {"claimName": "models", "readOnly": True}}]))
    assert [p for p in dm.evaluate(plan_of(pvc, reading_job, reader)).problems if p.rule == "job-output"] == []


def test_a_workload_mounting_a_jobs_claim_read_write_is_no_reader_of_its_output():
    """The rule holds back what reads the Job's output read-only, and cannot fill it: a workload mounting the claim
    read-write writes what it needs itself, as the Job does, and need not follow it."""
    models = {"name": "m", "persistentVolumeClaim": {"claimName": "models"}}
    preload = k8s("preload", _job([models]))
    cache = k8s("cache", deployment("cache", volumes=[models]))
    pvc = k8s("pvc", {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                      "metadata": {"name": "models", "namespace": "llm"}})
    assert [p for p in dm.evaluate(plan_of(pvc, preload, cache)).problems if p.rule == "job-output"] == []


def _step(plan, name: str):
    return next(s for s in dm.evaluate(plan).steps.values() if s.reg.name == name)


def _late(name: str, plant, deadline_s: int, label: Optional[str], tmp_path, capsys, monkeypatch):
    """prod's plan with `plant(resource)` giving the resource `name` a deadline of `deadline_s`: its pessimistic time
    must pass it, and `make plan` refuse the plan; (that time, the refusal's line whose `[timeout]`
    label is `label`, or `name` when None)."""
    broken = copy.deepcopy(plan_for("prod"))
    resource = next(r for r in broken.resources if r.name == name)
    plant(resource)
    late = _step(broken, name).elapsed.pessimistic
    assert late > deadline_s
    out = _refused(broken, "prod", tmp_path, capsys, monkeypatch)
    line = next(line for line in out.splitlines() if f"[timeout] {label or name}:" in line)
    return late, line


def test_make_plan_gives_a_late_release_the_release_timeout_to_raise(tmp_path, capsys, monkeypatch):
    """A Helm release's deadline is its own `timeout` (Helm's --timeout): the prod plan with kube-prometheus-stack's
    at 4 minutes fails `make plan`, naming the release, its pessimistic time and deadline in minutes, and the
    timeout to give it (the pessimistic time's next second)."""
    late, line = _late("observability-kube-prometheus-stack", lambda release: release.inputs.update(timeout=240),
                       240, None, tmp_path, capsys, monkeypatch)
    assert line.endswith(f"pessimistic {late / 60:.1f} min > its deadline 4.0 min (timeout); fix: raise the "
                         f"release's timeout to at least {int(late) + 1} s"), line


def test_make_plan_gives_a_late_kubernetes_object_its_annotation_to_raise(tmp_path, capsys, monkeypatch):
    """An object's deadline is pulumi.com/timeoutSeconds (or customTimeouts.create): the prod plan with Open WebUI's
    Deployment at 5 minutes fails `make plan` with the seconds to set, or skipAwait; a workload with no warm-up gets
    none of the warm-up's levers."""
    meta = next(r for r in plan_for("prod").resources if r.name == "inference-webui").inputs["metadata"]
    late, line = _late(
        "inference-webui",
        lambda webui: webui.inputs["metadata"].setdefault("annotations", {}).update(
            {"pulumi.com/timeoutSeconds": "300"}),
        300, f"Deployment {meta['namespace']}/{meta['name']}", tmp_path, capsys, monkeypatch)
    assert line.endswith(f"pessimistic {late / 60:.1f} min > its deadline 5.0 min (pulumi.com/timeoutSeconds); "
                         f"fix: set pulumi.com/timeoutSeconds to at least {int(late) + 1} (or customTimeouts.create), "
                         "or pulumi.com/skipAwait when Pulumi should not wait"), line


def test_make_plan_refuses_kubernetes_objects_whose_provider_waits_for_a_gpu_pool(tmp_path, capsys, monkeypatch):
    """A wait for a GPU pool through something that is not a GPU workload is a wait for the pool: the prod plan with
    its Kubernetes provider made after the GPU pool (a `depends_on` on the pool's outputs) fails `make plan`, each
    object without a GPU named with the pool; the GPU workloads, which wait for the pool anyway, are not."""
    broken = copy.deepcopy(plan_for("prod"))
    provider = broken.one("pulumi:providers:kubernetes")
    pool = next(r for r in broken.resources if r.name == "gpu-gpu")
    provider.dependencies.append(pool.urn)
    out = _refused(broken, "prod", tmp_path, capsys, monkeypatch)
    waits = [line for line in out.splitlines() if "[gpu-wait]" in line]
    assert waits and all("waits for GPU pool gpu-gpu" in line for line in waits), out
    webui, ollama = (next(r for r in broken.resources if r.name == name).inputs["metadata"]
                     for name in ("inference-webui", "inference-ollama"))
    assert any(f"[gpu-wait] Deployment {webui['namespace']}/{webui['name']}:" in line for line in waits), waits
    assert not any(f"Deployment {ollama['namespace']}/{ollama['name']}:" in line for line in waits), waits


@pytest.mark.parametrize("kind", ["Job", "Pod"])
def test_a_job_or_pod_reading_a_jobs_output_must_follow_the_awaited_job(kind):
    """A Job or a bare Pod mounting read-only the claim a Job fills starts on an empty volume unless it is after the
    awaited Job, as a Deployment does; the filling Job, which may read its own claim read-only too, is no reader of
    itself."""
    models = {"name": "m", "persistentVolumeClaim": {"claimName": "models"}}
    read_only = {"name": "r", "persistentVolumeClaim": {"claimName": "models", "readOnly": True}}
    preload = k8s("preload", _job([models, read_only]))
    pod = {"containers": [{"name": "c", "image": "ollama/ollama:1"}], "restartPolicy": "Never", "volumes": [read_only]}
    obj = ({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "eval", "namespace": "llm"},
            "spec": {"template": {"spec": pod}}} if kind == "Job"
           else {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "eval", "namespace": "llm"}, "spec": pod})
    pvc = k8s("pvc", {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                      "metadata": {"name": "models", "namespace": "llm"}})
    early = k8s("eval", obj)
    problems = [(p.rule, p.resource) for p in dm.evaluate(plan_of(pvc, preload, early)).problems]
    assert problems == [("job-output", f"{kind} llm/eval")], problems
    after = k8s("eval", obj, (preload.urn,))
    assert dm.evaluate(plan_of(pvc, preload, after)).problems == []


def _cpu_pool():
    from offline.runner import Registration
    return Registration(urn="urn:cpu", type=dm.AGENT_POOL, name="cpu", parent="", custom=True, inputs={
        "agentPoolName": "cpu", "vmSize": "Standard_D4s_v5", "minCount": 1, "nodeLabels": {"pool": "cpu"}},
        secret_paths=[], dependencies=[], options={})


@pytest.mark.parametrize("how", ["skipAwait", "0 replicas", "DaemonSet", "no pool in the plan"])
def test_pods_that_fit_no_pool_fail_only_a_create_that_waits_for_them(how):
    """Pods no pool of the plan takes stay Pending: that fails the create only when Pulumi waits for them. It does
    not for a skipAwait object, a Deployment of 0 replicas or a DaemonSet (daemonset.go: a pod on each selected
    node, none here); and a plan that creates no pool (an existing cluster's) cannot tell where pods land."""
    lost = deployment("web", replicas=0 if how == "0 replicas" else 1, nodeSelector={"pool": "gpu"},
                      annotations={"pulumi.com/skipAwait": "true"} if how == "skipAwait" else None)
    if how == "DaemonSet":
        lost = {**lost, "kind": "DaemonSet", "spec": {"template": lost["spec"]["template"]}}
    regs = [k8s("web", lost)] if how == "no pool in the plan" else [_cpu_pool(), k8s("web", lost)]
    assert [p for p in dm.evaluate(plan_of(*regs)).problems if p.rule == "timeout"] == []
    waiting = k8s("web", deployment("web", nodeSelector={"pool": "gpu"}))
    assert [p.rule for p in dm.evaluate(plan_of(_cpu_pool(), waiting)).problems] == ["timeout"]


def test_make_plan_gives_a_late_azure_resource_its_custom_timeout_to_raise(tmp_path, capsys, monkeypatch):
    """An Azure resource's deadline is its customTimeouts.create (it has no annotation): the prod plan with the GPU
    pool's at 2 minutes fails `make plan`, naming the pool and the seconds its custom timeout must pass."""
    late, line = _late("gpu-gpu", lambda pool: pool.options.update(customTimeouts={"create": "2m"}), 120, None,
                       tmp_path, capsys, monkeypatch)
    assert line.endswith(f"pessimistic {late / 60:.1f} min > its deadline 2.0 min (customTimeouts.create); fix: "
                         f"raise customTimeouts.create above {int(late)} s"), line


def test_what_waits_for_a_cluster_whose_own_pool_has_gpus_is_no_gpu_wait():
    """The rule is for a separate GPU AgentPool, which nothing without a GPU needs: a cluster's inline pools are
    created with the cluster, which every Kubernetes object waits for anyway, GPUs or not."""
    from offline.runner import Registration
    cluster = Registration(urn="urn:aks", type=dm.MANAGED_CLUSTER, name="aks", parent="", custom=True, inputs={
        "resourceGroupName": "rg", "resourceName": "aks", "agentPoolProfiles": [{
            "name": "system", "mode": "System", "vmSize": "Standard_NC4as_T4_v3", "count": 1,
            "gpuProfile": {"driver": "Install"}}]}, secret_paths=[], dependencies=[], options={})
    config = k8s("cm", {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "llm"}},
                 ("urn:aks",))
    assert [p for p in dm.evaluate(plan_of(cluster, config, cluster="urn:aks")).problems if p.rule == "gpu-wait"] \
        == []


def test_make_plan_gives_a_late_ollama_server_the_stacks_own_levers(tmp_path, capsys, monkeypatch):
    """OllamaServer's replicas warm their model in the startup probe: late, besides the annotation, the fix names
    the stack's levers (fewer replicas at once, a smaller or no warm model, a larger share)."""
    broken = copy.deepcopy(plan_for("prod"))
    ollama = next(r for r in broken.resources if r.name == "inference-ollama")
    ollama.inputs["metadata"]["annotations"]["pulumi.com/timeoutSeconds"] = "1200"
    step = _step(broken, ollama.name)
    assert step.wait.warm_up is not None and step.elapsed.pessimistic > 1200
    out = _refused(broken, "prod", tmp_path, capsys, monkeypatch)
    meta = ollama.inputs["metadata"]
    line = next(line for line in out.splitlines() if f"[timeout] Deployment {meta['namespace']}/{meta['name']}:"
                in line)
    assert line.endswith(f"fix: set pulumi.com/timeoutSeconds to at least {int(step.elapsed.pessimistic) + 1} (or "
                         "customTimeouts.create), or pulumi.com/skipAwait when Pulumi should not wait; or have fewer "
                         "replicas warm the model at once (inference.replicas), warm a smaller model "
                         "(inference.warmModel, or none) or provision a larger share (modelStore.sizeGib: its "
                         "egress grows with its size)"), line


def test_make_plan_takes_a_service_principal_deployer_behind_an_azure_cli_login(tmp_path, capsys, monkeypatch):
    """An Azure CLI login can be a user or a service principal (`az login --service-principal`): the deployer's
    principal type is then the stack's cluster.deployerPrincipalType, which the model cannot contradict. The dev
    stack, which logs in with the Azure CLI, set to ServicePrincipal passes `make plan`."""
    from offline import plan as plan_cli, runner as offline
    plan = plan_for("dev", {"cluster": {"deployerPrincipalType": "ServicePrincipal"}})
    grant = next(r for r in plan.of_type("azure-native:authorization:RoleAssignment")
                 if r.name.endswith("deployer-admin"))
    assert grant.inputs["principalType"] == "ServicePrincipal" and deployer_login(plan, grant) == "azurecli"
    assert deployer_login(plan) == "azurecli"  # no grant named: the first provider's login
    monkeypatch.setattr(offline, "run", lambda *a, **k: plan)
    assert plan_cli.main(["--stack", "dev", "--out", str(tmp_path)]) == 0, capsys.readouterr().out


@pytest.mark.parametrize("login", ["spn", "devicecode"])
def test_only_the_deployers_grant_is_held_to_how_the_provider_logs_in(login):
    """The login says what the deployer is, nothing of another principal: a grant to a group (Managed Grafana's
    viewers) typed Group passes whatever the provider's login; the deployer's own grant is held to it."""
    from offline.runner import DEPLOYER, Plan, Registration
    provider = Registration(urn="urn:k8s", type="pulumi:providers:kubernetes", name="k8s", parent="", custom=True,
                            inputs={"kubeconfig": f"args: [get-token, --login, {login}]"}, secret_paths=[],
                            dependencies=[], options={})

    def grant(name: str, principal: str, kind: str) -> Registration:
        return Registration(urn=f"urn:{name}", type="azure-native:authorization:RoleAssignment", name=name,
                            parent="", custom=True, inputs={"principalId": principal, "principalType": kind},
                            secret_paths=[], dependencies=[], options={})
    viewers = grant("grafana-viewer", "11111111-2222-3333-4444-555555555555", "Group")
    assert dm.check_principal_types(Plan(project="p", stack="t", resources=[provider, viewers])) == []
    wrong = "User" if login == "spn" else "ServicePrincipal"
    deployer = grant("deployer-admin", DEPLOYER, wrong)
    problems = dm.check_principal_types(Plan(project="p", stack="t", resources=[provider, viewers, deployer]))
    assert [p.resource for p in problems] == ["deployer-admin"], problems
