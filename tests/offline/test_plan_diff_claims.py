"""Change safety for volume claims Pulumi does not register: a Helm release's uninstall deletes the claims its chart
templates (helm/helm v3.20.2 pkg/action/uninstall.go, unless `helm.sh/resource-policy`), a StatefulSet's claims
outlive it (Kubernetes' default retention policy Retain) and a deleted namespace takes every claim in it. Real edits
are planned (observability off in dev, the app namespace renamed) and diffed against the unedited plan; the claims
expected are read from the plan's own release values, as the charts at their pinned versions make them."""
import copy

import pytest

from offline import plan, plan_diff
from offline.plan_diff.claims import release_claims

from tests.conftest import plan_for
from tests.offline.plan_diff_cli import check as _check


RELEASE = "kubernetes:helm.sh/v3:Release"
NAMESPACE = "kubernetes:core/v1:Namespace"
CLAIM = "kubernetes:core/v1:PersistentVolumeClaim"
# observability off in dev: its request autoscaling needs KEDA, so the model server scales on CPU instead
OFF = {"observability": {"enabled": False}, "autoscaling": {"mode": "cpu", "scaleToZero": False, "minReplicas": 1}}


def _doc(p) -> dict:
    return plan_diff.resources_by_urn(plan.resources_document(p))


@pytest.fixture(scope="module")
def base(dev) -> dict:
    return _doc(dev)


@pytest.fixture(scope="module")
def off() -> dict:
    return _doc(plan_for("dev", OFF))


def _one(doc: dict, type_: str, name: str) -> str:
    urns = [u for u, r in doc.items() if r["type"] == type_ and r["name"] == name]
    assert len(urns) == 1, (type_, name, urns)
    return urns[0]


def _blocked(base: dict, new: dict, allowed: frozenset = frozenset(), label: bool = False) -> dict[str, str]:
    return dict(plan_diff.blocking(plan_diff.diff_documents(base, new), set(allowed), label))


def test_turning_observability_off_is_refused_for_the_claims_its_namespace_and_release_take(tmp_path, base, off):
    """The monitoring namespace goes, and with it Prometheus' claim (its StatefulSet's volumeClaimTemplates, which
    the uninstall leaves) and Grafana's (the chart's pvc.yaml, which the uninstall deletes); the release's own
    deletion takes Grafana's. Both fail the check, named; the releases and the namespace that hold no claim (KEDA,
    its HTTP add-on, the adapter, the DCGM exporter) do not, so allowing these two lets the change through."""
    stack = _one(base, RELEASE, "observability-kube-prometheus-stack")
    values = base[stack]["inputs"]["values"]
    assert values["prometheus"]["prometheusSpec"]["storageSpec"]["volumeClaimTemplate"]  # what the claims come from
    assert values["grafana"]["persistence"]["enabled"] is True and "useStatefulSet" not in values["grafana"]
    monitoring = _one(base, NAMESPACE, "observability-ns")
    assert base[monitoring]["inputs"]["metadata"]["name"] == "monitoring"
    blocked = _blocked(base, off)
    assert set(blocked) == {monitoring, stack}
    assert blocked[monitoring].startswith("deleted: the namespace `monitoring` and every volume claim in it")
    assert "Prometheus' (its metrics" in blocked[monitoring] and "Grafana's (its dashboards" in blocked[monitoring]
    assert "Grafana's" in blocked[stack] and "Prometheus'" not in blocked[stack]  # Prometheus' claim outlives it
    for name in ("observability-keda", "observability-keda-http", "observability-prometheus-adapter",
                 "observability-dcgm-exporter"):
        urn = _one(base, RELEASE, name)
        assert urn not in off and urn not in blocked and release_claims(base[urn]["inputs"]) == []
    assert _one(base, NAMESPACE, "observability-keda-ns") not in blocked

    code, out = _check(tmp_path, base, off)
    assert code == 1 and "**Blocked: 2 change(s)" in out
    code, out = _check(tmp_path, base, off, "--allow-stateful")
    assert code == 0 and "**Blocked" not in out
    line = next(x for x in out.splitlines() if x.startswith("- Delete: ") and "::observability-ns`" in x)
    assert f"**allowed** by the `{plan_diff.ALLOW_LABEL}` label" in line and "Prometheus' (its metrics" in line
    allow = tmp_path / plan_diff.ALLOW_FILE
    allow.write_text(f"{monitoring}\n{stack}\n")
    code, out = _check(tmp_path, base, off, "--allow-file", str(allow))
    assert code == 0 and "allow nothing" not in out


def test_what_the_values_say_decides_which_claims_go(base, off):
    """From the release's values over the chart's defaults: Grafana's claim marked `helm.sh/resource-policy` stays
    on uninstall (Helm leaves it out of the deletion) but not when its namespace goes; Prometheus' goes with the
    release when its retention policy says Delete; Grafana in a StatefulSet keeps its claim past the uninstall; an
    emptyDir storage makes no claim."""
    stack = _one(base, RELEASE, "observability-kube-prometheus-stack")
    monitoring = _one(base, NAMESPACE, "observability-ns")
    kept = copy.deepcopy(base)
    kept[stack]["inputs"]["values"]["grafana"]["persistence"]["annotations"] = {"helm.sh/resource-policy": "keep"}
    blocked = _blocked(kept, off)
    assert stack not in blocked and "Grafana's" in blocked[monitoring]
    deleting = copy.deepcopy(base)
    spec = deleting[stack]["inputs"]["values"]["prometheus"]["prometheusSpec"]
    spec["persistentVolumeClaimRetentionPolicy"] = {"whenDeleted": "Delete"}
    assert "Prometheus' (its metrics" in _blocked(deleting, off)[stack]
    in_set = copy.deepcopy(base)
    in_set[stack]["inputs"]["values"]["grafana"]["useStatefulSet"] = True  # its claim from a claim template
    blocked = _blocked(in_set, off)
    assert stack not in blocked and "Grafana's (its dashboards, users and settings; made by its StatefulSet" in \
        blocked[monitoring]
    release_only = {u: r for u, r in base.items() if u != stack}  # the release goes, its namespace stays
    result = plan_diff.diff_documents(base, release_only)
    assert stack in _blocked(base, release_only)
    assert any("its uninstall leaves Prometheus'" in n for n in result["notes"][stack])
    empty = copy.deepcopy(base)
    empty[stack]["inputs"]["values"]["prometheus"]["prometheusSpec"]["storageSpec"] = {"emptyDir": {}}
    empty[stack]["inputs"]["values"]["grafana"]["persistence"]["enabled"] = False
    assert monitoring not in _blocked(empty, off) and stack not in _blocked(empty, off)


def test_a_statefulset_with_claim_templates_makes_its_namespace_stateful(base, off):
    """A StatefulSet's claims are made by its controller, not by Pulumi: a namespace holding one is refused too."""
    keda_ns = _one(base, NAMESPACE, "observability-keda-ns")
    with_set = copy.deepcopy(base)
    urn = keda_ns.replace("kubernetes:core/v1:Namespace::observability-keda-ns", "kubernetes:apps/v1:StatefulSet::db")
    with_set[urn] = {"urn": urn, "type": "kubernetes:apps/v1:StatefulSet", "name": "db", "options": {},
                     "inputs": {"metadata": {"name": "db", "namespace": "keda"},
                                "spec": {"volumeClaimTemplates": [{"metadata": {"name": "data"}}]}}}
    assert "StatefulSet `db`'s volumeClaimTemplates" in _blocked(with_set, off)[keda_ns]


def test_a_release_replaced_under_a_new_name_is_refused_for_the_claims_its_uninstall_deletes(base):
    """pulumi-kubernetes replaces a Release on a new name: it installs the new one, then uninstalls the old one,
    deleting the claims its chart templated."""
    stack = _one(base, RELEASE, "observability-kube-prometheus-stack")
    renamed = copy.deepcopy(base)
    renamed[stack]["inputs"]["name"] = "kps"
    result = plan_diff.diff_documents(base, renamed)
    assert stack in result["replaced"]
    why = _blocked(base, renamed)[stack]
    assert why.startswith("replaced: volume claims its Helm uninstall deletes: Grafana's") and "`name`" in why
    assert _blocked(base, renamed, label=True) == {}
    # the claims its uninstall leaves are told on its Replace line, as on a Delete line
    replace = next(line for line in plan_diff.markdown(result, "t", []).splitlines() if line.startswith("- Replace"))
    assert "its uninstall leaves Prometheus'" in replace


def test_a_renamed_app_namespace_is_refused_for_every_claim_in_it(base):
    """`namespace` (the stack key) names the inference namespace: a new name replaces it, and deleting the old one
    deletes every claim in it."""
    new = _doc(plan_for("dev", {"namespace": "llm2"}))
    ns = _one(base, NAMESPACE, "inference-ns")
    claims = sorted(r["inputs"]["metadata"]["name"] for r in base.values()
                    if r["type"] == CLAIM and r["inputs"]["metadata"]["namespace"] == "llm")
    assert claims  # the model store's and Open-WebUI's uploads
    why = _blocked(base, new)[ns]
    assert why.startswith("replaced: the namespace `llm` and every volume claim in it")
    assert all(f"claim `{c}`" in why for c in claims)


def _claims_with(base: dict, **values) -> dict[str, tuple[str, bool]]:
    """kube-prometheus-stack's claims (who -> what makes it, whether its uninstall deletes it) with the dev plan's
    release values changed: each `values` key a dotted path set to its value."""
    inputs = copy.deepcopy(base[_one(base, RELEASE, "observability-kube-prometheus-stack")]["inputs"])
    for path, value in values.items():
        *parents, last = path.split("__")
        at = inputs["values"]
        for key in parents:
            at = at.setdefault(key, {})
        at[last] = value
    return {c.who: (c.made_by, c.uninstall_deletes) for c in release_claims(inputs)}


def test_which_claims_the_operator_and_grafana_make_follows_each_value_the_charts_read(base):
    """Each value the charts read, one at a time (prometheus-operator v0.93.0 pkg/prometheus/server/statefulset.go
    and pkg/thanos/statefulset.go, kube-prometheus-stack-88.5.3's templates, grafana-12.11.1's pvc.yaml and
    statefulset.yaml): the plan's own values make Prometheus' claim (its StatefulSet's, kept on uninstall) and
    Grafana's (the chart's pvc.yaml, deleted on uninstall)."""
    prometheus = ("made by its StatefulSet from `prometheus.prometheusSpec.storageSpec`", False)
    templated = ("templated by the chart from `grafana.persistence`", True)
    assert _claims_with(base) == {"Prometheus'": prometheus, "Grafana's": templated}
    # a component turned off makes no claim, whatever its storage says
    assert "Prometheus'" not in _claims_with(base, prometheus__enabled=False)
    # an ephemeral volume is the pod's, like emptyDir: no claim outlives it
    ephemeral = {"ephemeral": {"volumeClaimTemplate": {"spec": {"resources": {"requests": {"storage": "1Gi"}}}}}}
    assert "Prometheus'" not in _claims_with(base, prometheus__prometheusSpec__storageSpec=ephemeral)
    # a spec or a storage that is no object (null, a word) makes no claim, and no traceback
    assert "Prometheus'" not in _claims_with(base, prometheus__prometheusSpec=None)
    assert "Prometheus'" not in _claims_with(base, prometheus__prometheusSpec__storageSpec="none")
    # the chart passes ThanosRuler no retention policy: its claim outlives the uninstall whatever the values say
    storage = {"volumeClaimTemplate": {"spec": {"resources": {"requests": {"storage": "1Gi"}}}}}
    assert _claims_with(base, thanosRuler__enabled=True, thanosRuler__thanosRulerSpec__storage=storage,
                        thanosRuler__thanosRulerSpec__persistentVolumeClaimRetentionPolicy={"whenDeleted": "Delete"}
                        )["Thanos Ruler's"] == ("made by its StatefulSet from `thanosRuler.thanosRulerSpec.storage`",
                                                False)
    # only `helm.sh/resource-policy` keeps Grafana's claim on uninstall, not any annotation
    assert _claims_with(base, grafana__persistence__annotations={"example.com/owner": "platform"})[
        "Grafana's"] == templated
    # a StatefulSet by its persistence type (without an existing claim, and enabled), not only by useStatefulSet
    in_set = ("made by its StatefulSet from `grafana.persistence`", False)
    assert _claims_with(base, grafana__persistence__type="sts")["Grafana's"] == in_set
    assert "Grafana's" not in _claims_with(base, grafana__persistence__type="sts", grafana__persistence__enabled=False)
    assert "Grafana's" not in _claims_with(base, grafana__persistence__type="sts",
                                           grafana__persistence__existingClaim="grafana-data")
    # an existing claim the chart neither templates nor makes: the release owns no claim of Grafana's
    assert "Grafana's" not in _claims_with(base, grafana__persistence__existingClaim="grafana-data")
    assert "Grafana's" not in _claims_with(base, grafana__persistence__type="none")
    # Grafana turned off (the chart's condition drops its values), or its values not an object: no claim of its
    assert set(_claims_with(base, grafana__enabled=False)) == {"Prometheus'"}
    assert set(_claims_with(base, grafana=None)) == set(_claims_with(base, grafana__persistence=None)) == {
        "Prometheus'"}


def test_a_deleted_release_notes_only_the_claims_that_outlive_it_and_not_where_its_namespace_goes(base, off):
    """The note on a deleted release names the claims its uninstall leaves (Prometheus', not Grafana's, which it
    deletes and which blocks); none when every claim goes with it; none when its namespace is deleted too (the
    namespace's line tells every claim in it)."""
    stack = _one(base, RELEASE, "observability-kube-prometheus-stack")
    release_only = {u: r for u, r in base.items() if u != stack}
    notes = [n for n in plan_diff.diff_documents(base, release_only)["notes"].get(stack, [])
             if "its uninstall leaves" in n]
    assert len(notes) == 1 and "Prometheus'" in notes[0] and "Grafana's" not in notes[0]
    no_kept = copy.deepcopy(base)
    no_kept[stack]["inputs"]["values"]["prometheus"]["prometheusSpec"]["storageSpec"] = {"emptyDir": {}}
    assert not any("its uninstall leaves" in n
                   for n in plan_diff.diff_documents(no_kept, release_only)["notes"].get(stack, []))
    assert not any("its uninstall leaves" in n for n in plan_diff.diff_documents(base, off)["notes"].get(stack, []))
