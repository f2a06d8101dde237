"""Who owns each field on day 2: the plans' Kubernetes objects through a `pulumi up` after something else wrote them,
as the engine, pulumi-kubernetes and the API server's server-side apply handle it (tests/server_side_apply.py,
transcribed from their sources; docs/decisions.md "2026-12-05: server-side apply: who owns each field on day 2").

Every `up` here refreshes first, as Pulumi.yaml's `options.refresh: always` makes every `pulumi up` and `preview` do.
"""
import copy
from typing import Any

import pytest
from tests.conftest import plan_for, variant
from tests.server_side_apply import (PATCH_FORCE, SCALE, ApiServer, Conflict, Provider, State, build, get, leaves,
                                     set_path, up)

PLANS = ("dev", "prod", "llmd")
# and every autoscaling mode: KEDA on requests (dev, prod), the GPU-memory HPA (dev-gpu-hpa), the CPU HPA
# (dev-smb-nogpu), KEDA on the picker's signals (llmd)
AUTOSCALED_PLANS = (*PLANS, "dev-gpu-hpa", "dev-smb-nogpu")
KEDA, HPA_CONTROLLER, PERSON = "keda-operator", "kube-controller-manager", "kubectl-edit"
# a person's writes as kubectl records them: `kubectl set image`, `kubectl label`, `kubectl rollout restart` on the
# object itself, `kubectl scale` through the scale subresource (it sends no field manager, so the API server records
# its user agent's first word, `kubectl`: apiserver endpoints/handlers/rest.go `managerOrUserAgent`); and any of them
# with `--field-manager=ops`
KUBECTL_SET, KUBECTL_LABEL, KUBECTL_ROLLOUT, KUBECTL_SCALE, OWN_NAME = (
    "kubectl-set", "kubectl-label", "kubectl-rollout", "kubectl", "ops")


def objects(plan_name: str, kind: str) -> list[tuple[str, dict[str, Any], list[str]]]:
    """(resource name, inputs as sent, ignoreChanges) of each `kind` the plan creates."""
    return [(r.name, copy.deepcopy(r.inputs), list(r.options.get("ignoreChanges") or []))
            for r in variant(plan_name).resources if r.is_kubernetes_object and r.inputs.get("kind") == kind]


def created(inputs: dict[str, Any], ignore: list[str]) -> tuple[ApiServer, Provider, State]:
    server = ApiServer()
    provider = Provider(server)
    first = up(provider, None, inputs, ignore)
    return server, provider, first.state


def key(inputs: dict[str, Any]) -> str:
    return ApiServer.key(inputs)


def scale(replicas: int):
    def change(obj: dict[str, Any]) -> None:
        obj["spec"]["replicas"] = replicas
    return change


def scale_write(server: ApiServer, inputs: dict[str, Any], replicas: int, manager: str) -> None:
    """A write of the scale subresource (KEDA, the HPA controller, `kubectl scale`)."""
    server.write(key(inputs), scale(replicas), manager, subresource=SCALE)


def new_image(inputs: dict[str, Any]) -> dict[str, Any]:
    """The program's next version: the first container's image changed (a template change, a rollout)."""
    changed = copy.deepcopy(inputs)
    container = changed["spec"]["template"]["spec"]["containers"][0]
    container["image"] = container["image"] + "-next"
    return changed


# ---------------------------------------------------------------------------------------------------------------
# The transcription against Kubernetes' own account of field ownership

def test_an_apply_conflicts_with_a_writer_and_a_forced_one_takes_the_field():
    """The example of Kubernetes' "Server-Side Apply" page (Conflicts): a replica count another manager wrote fails a
    later apply of a different count unless forced; forced, the applier owns it alone; an equal value never
    conflicts."""
    server = ApiServer()
    obj = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "a", "namespace": "n"},
           "spec": {"replicas": 1}}
    server.create(obj, "pulumi-kubernetes")
    server.replace_managers(key(obj), [("pulumi-kubernetes", "Update")], "me")
    scale_write(server, obj, 3, HPA_CONTROLLER)
    assert server.objects[key(obj)].managed_by(("spec", "replicas")) == {(HPA_CONTROLLER, "Update", SCALE)}
    with pytest.raises(Conflict, match="spec.replicas"):
        server.apply(obj, "me", force=False)
    server.apply({**obj, "spec": {"replicas": 3}}, "me", force=False)  # the live value: no conflict
    server.apply(obj, "me", force=True)
    assert server.objects[key(obj)].obj["spec"]["replicas"] == 1
    assert server.objects[key(obj)].managed_by(("spec", "replicas")) == {("me", "Apply", "")}


def test_an_applier_that_drops_a_field_it_owned_removes_it_but_not_one_another_wrote():
    server = ApiServer()
    obj = {"kind": "Namespace", "metadata": {"name": "n", "labels": {"a": "1", "b": "2"}}}
    server.create(obj, "pulumi-kubernetes")
    server.replace_managers(key(obj), [("pulumi-kubernetes", "Update")], "me")
    server.write(key(obj), lambda o: o["metadata"]["labels"].update({"c": "3"}), PERSON)
    server.apply({"kind": "Namespace", "metadata": {"name": "n", "labels": {"a": "1"}}}, "me", force=False)
    assert server.objects[key(obj)].obj["metadata"]["labels"] == {"a": "1", "c": "3"}


def test_leaves_and_build_are_inverse_over_the_plans_objects():
    for name, inputs, _ in objects("llmd", "Deployment") + objects("dev", "Namespace"):
        assert build(leaves(inputs)) == inputs, name


# ---------------------------------------------------------------------------------------------------------------
# Deployments whose replica count an autoscaler owns

def autoscaled(plan_name: str) -> list[tuple[str, dict[str, Any], list[str]]]:
    """The Deployments a ScaledObject or a HorizontalPodAutoscaler of the plan scales, with their own ignoreChanges
    (whatever they are: the tests below hold them to what the autoscaler needs)."""
    targets = {(o["metadata"].get("namespace"), o["spec"]["scaleTargetRef"]["name"])
               for kind in ("ScaledObject", "HorizontalPodAutoscaler") for _, o, _ in objects(plan_name, kind)
               if o["spec"]["scaleTargetRef"].get("kind", "Deployment") == "Deployment"}
    return [o for o in objects(plan_name, "Deployment")
            if (o[1]["metadata"].get("namespace"), o[1]["metadata"]["name"]) in targets]


def test_every_plan_has_autoscaled_deployments_to_check():
    """The cases below are not vacuous: Ollama (KEDA) and Open-WebUI (HPA) on dev and prod, and on llmd vLLM (KEDA)
    beside them."""
    names = {p: sorted(n for n, _, _ in autoscaled(p)) for p in PLANS}
    assert all("spec.replicas" in ignore for p in PLANS for _, _, ignore in autoscaled(p))
    assert names == {"dev": ["inference-ollama", "inference-webui"], "prod": ["inference-ollama", "inference-webui"],
                     "llmd": ["inference-ollama", "llmd-vllm", "llmd-webui"]}, names


@pytest.mark.parametrize("plan_name", AUTOSCALED_PLANS)
@pytest.mark.parametrize("scaled", [0, 5])
def test_an_autoscalers_replica_count_survives_day_2(plan_name, scaled):
    """First up: the configured count, ours. KEDA (to zero) or the HPA (to 5) takes it through the scale subresource.
    A preview of the unchanged program shows nothing; a template change previews and applies without a conflict and
    leaves the autoscaler's count (handleSSAIgnoreFields drops a field another manager owns from the apply), the
    first update (which adopts the create's client-side manager) and a later one alike."""
    for name, inputs, ignore in autoscaled(plan_name):
        server, provider, state = created(inputs, ignore)
        live = server.objects[key(inputs)]
        assert live.obj["spec"]["replicas"] == inputs["spec"]["replicas"], name
        scale_write(server, inputs, scaled, KEDA if scaled == 0 else HPA_CONTROLLER)

        assert up(provider, state, inputs, ignore, preview=True).changes == set(), name
        program = new_image(inputs)
        preview = up(provider, state, program, ignore, preview=True)
        assert preview.error is None and preview.changes and all(
            c.startswith("spec.template.") for c in preview.changes), (name, preview)
        for step in (program, new_image(program)):
            done = up(provider, state, step, ignore)
            assert done.error is None, (name, done.error)
            state = done.state
            live = server.objects[key(inputs)]
            assert live.obj["spec"]["replicas"] == scaled, (name, "the autoscaler's count was taken back")
            assert live.obj["spec"]["template"]["spec"]["containers"][0]["image"] == \
                step["spec"]["template"]["spec"]["containers"][0]["image"], name


@pytest.mark.parametrize("plan_name", ["dev", "llmd"])
def test_an_apply_that_sent_the_replica_count_would_fail_or_take_it(plan_name):
    """What the ignore prevents: the same template change without it conflicts with the autoscaler (without
    patchForce) or takes its count back (with it)."""
    for name, inputs, ignore in autoscaled(plan_name):
        server, provider, state = created(inputs, ignore)
        scale_write(server, inputs, 0, KEDA)
        done = up(provider, state, new_image(inputs), ignore=[])
        forced = ((inputs["metadata"].get("annotations") or {}).get(PATCH_FORCE) == "true")
        if forced:
            assert done.error is None and server.objects[key(inputs)].obj["spec"]["replicas"] == \
                inputs["spec"]["replicas"], name
        else:
            assert isinstance(done.error, Conflict), name


def test_turning_autoscaling_off_takes_the_count_back():
    """dev's Ollama under KEDA, scaled to zero; the stack then turns autoscaling off (`autoscaling.mode: none`): the
    Deployment's next apply sends its configured count, which KEDA's manager owns. The up succeeds and runs the
    configured count (without patchForce it fails with the conflict)."""
    [(name, inputs, ignore)] = [o for o in autoscaled("dev") if o[0] == "inference-ollama"]
    server, provider, state = created(inputs, ignore)
    scale_write(server, inputs, 0, KEDA)
    off = plan_for("dev", {"autoscaling": {"mode": "none", "scaleToZero": False, "minReplicas": 1}})
    [after] = [r for r in off.resources if r.name == name]
    assert not after.options.get("ignoreChanges"), "autoscaling none still ignores the count"
    done = up(provider, state, copy.deepcopy(after.inputs), [])
    assert done.error is None, done.error
    assert server.objects[key(inputs)].obj["spec"]["replicas"] == after.inputs["spec"]["replicas"]


# ---------------------------------------------------------------------------------------------------------------
# A person's change to a field the program sets: the next up (which refreshes) shows it and takes it back

def person_edits(kind: str, inputs: dict[str, Any], ignore: list[str]) -> list[tuple[str, Any, str, str]]:
    """(path, value, manager, subresource) a person writes by hand into fields the program sets: `kubectl scale` of a
    fixed count (the scale subresource), `kubectl set image`, `kubectl label --overwrite` of a Pod Security level,
    and each of the object's own fields once more under a name of the person's own (`--field-manager=ops`, or a tool
    that names itself otherwise)."""
    if kind == "Namespace":
        level = inputs["metadata"]["labels"]["pod-security.kubernetes.io/enforce"]
        edits = [("metadata.labels.pod-security.kubernetes.io/enforce",
                  "privileged" if level != "privileged" else "baseline", KUBECTL_LABEL, "")]
    else:
        edits = [("spec.template.spec.containers.0.image", "example.com/debug:1", KUBECTL_SET, "")]
        if "spec.replicas" not in ignore:
            edits.append(("spec.replicas", inputs["spec"]["replicas"] + 3, KUBECTL_SCALE, SCALE))
    return edits + [(path, value, OWN_NAME, "") for path, value, _, sub in edits if not sub]


def write_path(obj: dict[str, Any], path: str, value: Any) -> None:
    if path.startswith("metadata.labels."):
        obj["metadata"]["labels"][path[len("metadata.labels."):]] = value
    elif path == "spec.template.spec.containers.0.image":
        obj["spec"]["template"]["spec"]["containers"][0]["image"] = value
    else:
        set_path(obj, path.split("."), value)


def read_path(obj: dict[str, Any], path: str) -> Any:
    if path.startswith("metadata.labels."):
        return obj["metadata"]["labels"][path[len("metadata.labels."):]]
    if path == "spec.template.spec.containers.0.image":
        return obj["spec"]["template"]["spec"]["containers"][0]["image"]
    return get(obj, path.split("."))[1]


def updated_once(inputs: dict[str, Any], ignore: list[str]) -> tuple[ApiServer, Provider, State]:
    """The object after its first update (a label of the program's added): the create's client-side manager has
    been taken over, so previews are no longer forced for it (await.go `patchForce`)."""
    server, provider, state = created(inputs, ignore)
    program = copy.deepcopy(inputs)
    program["metadata"].setdefault("labels", {})["example.com/team"] = "a"
    done = up(provider, state, program, ignore)
    assert done.error is None, done.error
    assert not any(m[0] == "pulumi-kubernetes" for m in server.objects[key(inputs)].managers)
    return server, provider, done.state


@pytest.mark.parametrize("plan_name", PLANS)
@pytest.mark.parametrize("kind", ["Deployment", "Namespace"])
@pytest.mark.parametrize("when", ["before the first update", "after the first update"])
def test_a_hand_edit_is_drift_the_next_up_reverts(plan_name, kind, when):
    """The refresh reads the edit back, the preview shows it, and the up applies the program's value, whoever wrote
    it and whenever: the objects carry `pulumi.com/patchForce` (docs/decisions.md "Refresh before every operation"
    promises the revert)."""
    for name, inputs, ignore in objects(plan_name, kind):
        for path, value, manager, subresource in person_edits(kind, inputs, ignore):
            server, provider, state = (created if when.startswith("before") else updated_once)(inputs, ignore)
            server.write(key(inputs), lambda o: write_path(o, path, value), manager, subresource)
            preview = up(provider, state, inputs, ignore, preview=True)
            assert preview.error is None and preview.changes, (name, path, manager, preview.error)
            done = up(provider, state, inputs, ignore)
            assert done.error is None, (name, path, manager, str(done.error))
            assert read_path(server.objects[key(inputs)].obj, path) == read_path(inputs, path), (name, path)
            assert up(provider, done.state, inputs, ignore, preview=True).changes == set(), (name, path)


@pytest.mark.parametrize("plan_name", ["dev", "llmd"])
@pytest.mark.parametrize("kind", ["Deployment", "Namespace"])
def test_without_patch_force_a_hand_edit_fails_the_preview_once_the_object_was_updated(plan_name, kind):
    """What the annotation is for. Without it, an update takes every `kubectl-*` writer's fields of the object
    itself over first (fluxcd ssa's prefix match), so a `kubectl set`/`label` edit is reverted, but a `kubectl scale`
    (the scale subresource) or a writer named otherwise conflicts. The preview (a dry run, which takes nothing over)
    forces until the object's first update and conflicts with every one of them after it, so `pulumi up` stops at
    its preview from then on."""
    for name, inputs, ignore in objects(plan_name, kind):
        bare = copy.deepcopy(inputs)
        bare["metadata"]["annotations"].pop(PATCH_FORCE)
        for path, value, manager, subresource in person_edits(kind, bare, ignore):
            taken_over = manager.startswith("kubectl") and not subresource
            for start in (created, updated_once):
                server, provider, state = start(bare, ignore)
                server.write(key(bare), lambda o: write_path(o, path, value), manager, subresource)
                preview = up(provider, state, bare, ignore, preview=True)
                if start is created:
                    assert preview.error is None, (name, path, manager, preview.error)
                else:
                    assert isinstance(preview.error, Conflict) and manager in str(preview.error), (name, manager)
                update = up(provider, state, bare, ignore)
                assert (update.error is None) == taken_over, (name, path, manager, update.error)


# ---------------------------------------------------------------------------------------------------------------
# Fields only others write: no diff and no conflict (with or without patchForce); removed by the next update when
# a `kubectl-*` manager wrote them

@pytest.mark.parametrize("plan_name", PLANS)
def test_labels_others_add_to_a_namespace(plan_name):
    """Keys the program does not set never show in a preview. The API server's `kubernetes.io/metadata.name` and a
    label a person wrote under a name of their own (`kubectl label --field-manager=ops`) survive an update of the
    namespace; one `kubectl label` wrote (manager `kubectl-label`) is taken over by that update (fixCSAFieldManagers)
    and, as the program does not send it, removed by the same apply (structured-merge-diff `prune`)."""
    for name, inputs, ignore in objects(plan_name, "Namespace"):
        server, provider, state = created(inputs, ignore)
        server.write(key(inputs), lambda o: o["metadata"]["labels"].update(
            {"kubernetes.io/metadata.name": inputs["metadata"]["name"]}), "kube-apiserver")
        server.write(key(inputs), lambda o: o["metadata"]["labels"].update({"istio-injection": "enabled"}), OWN_NAME)
        server.write(key(inputs), lambda o: o["metadata"]["labels"].update({"example.com/owner": "b"}),
                     KUBECTL_LABEL)
        assert up(provider, state, inputs, ignore, preview=True).changes == set(), name
        program = copy.deepcopy(inputs)
        program["metadata"]["labels"]["example.com/team"] = "a"
        assert up(provider, state, program, ignore, preview=True).error is None, name
        assert "example.com/owner" in server.objects[key(inputs)].obj["metadata"]["labels"], "a preview removed it"
        done = up(provider, state, program, ignore)
        assert done.error is None, (name, done.error)
        labels = server.objects[key(inputs)].obj["metadata"]["labels"]
        assert labels["istio-injection"] == "enabled" and "kubernetes.io/metadata.name" in labels, name
        assert "example.com/owner" not in labels, name


@pytest.mark.parametrize("plan_name", PLANS)
def test_annotations_others_add_to_deployments(plan_name):
    """The Deployment controller's revision annotation is not the program's: no diff, and a template change keeps it.
    `kubectl rollout restart`'s template annotation shows no diff either, but the next update of the Deployment takes
    it over (manager `kubectl-rollout`) and removes it: a changed pod template, one more rolling restart. Restarted
    under a name of one's own (`--field-manager`), it stays."""
    for name, inputs, ignore in objects(plan_name, "Deployment"):
        for restarter, kept in ((KUBECTL_ROLLOUT, False), (OWN_NAME, True)):
            server, provider, state = created(inputs, ignore)
            server.write(key(inputs), lambda o: o["metadata"].setdefault("annotations", {}).update(
                {"deployment.kubernetes.io/revision": "2"}), HPA_CONTROLLER)
            server.write(key(inputs), lambda o: o["spec"]["template"]["metadata"].setdefault("annotations", {}).update(
                {"kubectl.kubernetes.io/restartedAt": "2026-12-05T09:00:00Z"}), restarter)
            assert up(provider, state, inputs, ignore, preview=True).changes == set(), name
            program = copy.deepcopy(inputs)
            program["metadata"]["labels"]["example.com/team"] = "a"  # an update that leaves the template alone
            done = up(provider, state, program, ignore)
            assert done.error is None, (name, done.error)
            live = server.objects[key(inputs)].obj
            assert live["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "2", name
            restarted = (live["spec"]["template"]["metadata"].get("annotations") or {})
            assert ("kubectl.kubernetes.io/restartedAt" in restarted) == kept, (name, restarter)


@pytest.mark.parametrize("plan_name", ["dev", "prod"])
def test_the_model_volume_binding_stays_with_the_binder(plan_name):
    """The model store's PersistentVolume names no claim (the claim names the volume): the binder's `spec.claimRef`
    is its alone, so a grown share (the volume's capacity) applies without a conflict and keeps the binding. The
    claim's request is ignored (model_store.py): a larger size previews as no change and the request stays."""
    [(pv_name, pv, pv_ignore)] = objects(plan_name, "PersistentVolume")
    server, provider, state = created(pv, pv_ignore)
    claim_ref = {"kind": "PersistentVolumeClaim", "namespace": "llm", "name": "models", "uid": "1234",
                 "apiVersion": "v1", "resourceVersion": "42"}
    server.write(key(pv), lambda o: o["spec"].update({"claimRef": claim_ref}), HPA_CONTROLLER)
    assert up(provider, state, pv, pv_ignore, preview=True).changes == set()
    grown = copy.deepcopy(pv)
    grown["spec"]["capacity"]["storage"] = "2048Gi"
    done = up(provider, state, grown, pv_ignore)
    assert done.error is None, done.error
    assert server.objects[key(pv)].obj["spec"]["claimRef"] == claim_ref
    assert server.objects[key(pv)].obj["spec"]["capacity"]["storage"] == "2048Gi"

    [(pvc_name, pvc, pvc_ignore)] = [o for o in objects(plan_name, "PersistentVolumeClaim")
                                     if o[1]["metadata"]["name"] == "models"]
    server, provider, state = created(pvc, pvc_ignore)
    bigger = copy.deepcopy(pvc)
    bigger["spec"]["resources"]["requests"]["storage"] = "4096Gi"
    assert up(provider, state, bigger, pvc_ignore, preview=True).changes == set()
    assert up(provider, state, bigger, pvc_ignore).error is None
    assert server.objects[key(pvc)].obj["spec"]["resources"]["requests"]["storage"] == \
        pvc["spec"]["resources"]["requests"]["storage"]


@pytest.mark.parametrize("plan_name", PLANS)
def test_istio_and_gateway_api_writes_on_gateways_stay(plan_name):
    """Istio annotates each Gateway with its controller version (deploymentcontroller.go setGatewayControllerVersion)
    and writes its status: neither is the program's, so no diff, and an update keeps both."""
    for name, inputs, ignore in objects(plan_name, "Gateway"):
        server, provider, state = created(inputs, ignore)

        def istio(obj: dict[str, Any]) -> None:
            obj["metadata"].setdefault("annotations", {})["gateway.istio.io/controller-version"] = "5"
            obj["status"] = {"conditions": [{"type": "Programmed", "status": "True"}]}
        server.write(key(inputs), istio, "pilot-discovery")
        assert up(provider, state, inputs, ignore, preview=True).changes == set(), name
        program = copy.deepcopy(inputs)
        program["metadata"].setdefault("labels", {})["example.com/team"] = "a"
        assert up(provider, state, program, ignore).error is None, name
        live = server.objects[key(inputs)].obj
        assert live["metadata"]["annotations"]["gateway.istio.io/controller-version"] == "5", name
        assert live["status"]["conditions"][0]["type"] == "Programmed", name


@pytest.mark.parametrize("plan_name", PLANS)
def test_prometheus_rules_give_the_mutating_webhook_nothing_to_rewrite(plan_name):
    """kube-prometheus-stack's PrometheusRule webhook (admissionWebhooks.enabled, its default) replaces every rule
    label or annotation value that is not a string by its string form (prometheus-operator pkg/admission/jsonpatch.go
    `generatePatchesForNonStringLabelsAnnotations`): the live rule would then differ from the program's on every
    refresh, a diff no up removes. Every value the plans send is already a string."""
    rules = objects(plan_name, "PrometheusRule")
    assert rules
    rewritten = [f"{name}: {group['name']}/{rule.get('alert') or rule.get('record')} {part}.{k}={v!r}"
                 for name, obj, _ in rules for group in obj["spec"]["groups"] for rule in group["rules"]
                 for part in ("labels", "annotations") for k, v in (rule.get(part) or {}).items()
                 if v is not None and not isinstance(v, str)]
    assert rewritten == []
