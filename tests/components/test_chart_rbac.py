"""No chart the platform installs gives a service account Secrets it has no use for: KEDA's operator and
kube-state-metrics, read from the pinned charts' RBAC templates with each plan's values (tests/chart_rbac.py). Each
could otherwise list every Secret of the cluster, values included (the gateway's TLS key, cert-manager's ACME
account key, Grafana's admin password, Alertmanager's receivers, Helm's release records, another team's), so code
running in either pod read them all (docs/decisions.md, "2026-12-07: an attacker's review of the dev, prod and llmd
stacks")."""
import pytest

from tests import chart_rbac
from tests.conftest import PLANNED, planned, upstream_dir

CHARTS = upstream_dir() / "charts"


def test_the_transcribed_rules_are_the_pinned_templates_text():
    keda = CHARTS / "keda" / "templates" / "manager"
    assert chart_rbac.KEDA_CLUSTER_SECRETS in (keda / "clusterrole.yaml").read_text()
    minimal = (keda / "minimal-rbac.yaml").read_text()
    assert all(block in minimal for block in chart_rbac.KEDA_NAMESPACE_SECRETS)
    assert minimal.split("kind: Role\n", 1)[1].split("---", 1)[0].count(chart_rbac.KEDA_ROLE_NAMESPACE) == 1
    ksm = CHARTS / "kube-prometheus-stack" / "charts" / "kube-state-metrics" / "templates"
    role = (ksm / "role.yaml").read_text()
    assert chart_rbac.KSM_SECRETS in role and chart_rbac.KSM_CLUSTER_ROLE in role
    assert '{{- $activeCollectors := include "kube-state-metrics.collectors" $ | fromYamlArray }}' in role
    assert chart_rbac.KSM_ACTIVE in (ksm / "_helpers.tpl").read_text()


def test_the_reading_tells_a_restricted_chart_from_an_open_one():
    """The transcription itself: the charts' defaults read every namespace; the restricting values read one or none."""
    keda = {"chart": "keda", "namespace": "keda", "values": {}}
    assert chart_rbac.keda_operator_secret_namespaces(keda) == {chart_rbac.ALL_NAMESPACES}
    keda["values"] = {"permissions": {"operator": {"restrict": {"secret": True}}}}
    assert chart_rbac.keda_operator_secret_namespaces(keda) == {"keda"}
    kps = {"chart": "kube-prometheus-stack", "namespace": "monitoring", "values": {}}
    assert chart_rbac.kube_state_metrics_secret_namespaces(kps) == {chart_rbac.ALL_NAMESPACES}
    kps["values"] = {"kube-state-metrics": {"collectorsExclude": "secrets"}}  # a string is a list of one
    assert chart_rbac.kube_state_metrics_secret_namespaces(kps) == set()
    kps["values"] = {"kube-state-metrics": {"collectorsExclude": ["secrets"], "collectorsExtra": ["secrets"]}}
    assert chart_rbac.kube_state_metrics_secret_namespaces(kps) == {chart_rbac.ALL_NAMESPACES}
    kps["values"] = {"kubeStateMetrics": {"enabled": False}}
    assert chart_rbac.kube_state_metrics_secret_namespaces(kps) == set()


@pytest.mark.parametrize("name", PLANNED)
def test_keda_and_kube_state_metrics_read_no_secret_outside_their_own_namespace(name):
    """KEDA's operator needs no Secret of another namespace: no ScaledObject the platform makes has a
    TriggerAuthentication, and no scale target takes an environment variable from a Secret (its pods read theirs
    from the CSI driver's files), so the operator's resolver has nothing to read there; its own certificates are in
    its namespace. No dashboard, alert or scaling query reads a `kube_secret_*` series. Every plan with either
    release holds both to their own namespace (KEDA) or none (kube-state-metrics)."""
    plan = planned(name)
    releases = {r.inputs["chart"].rsplit("/", 1)[-1]: r.inputs for r in plan.helm_releases()}
    if "keda" in releases:
        assert chart_rbac.keda_operator_secret_namespaces(releases["keda"]) == {releases["keda"]["namespace"]}
    if "kube-prometheus-stack" in releases:
        assert chart_rbac.kube_state_metrics_secret_namespaces(releases["kube-prometheus-stack"]) == set()
    secret_env = [(r.name, c["name"]) for r in plan.kubernetes_objects() if r.inputs["kind"] in ("Deployment",)
                  for c in r.inputs["spec"]["template"]["spec"].get("containers", [])
                  if c.get("envFrom") or any("secretKeyRef" in (e.get("valueFrom") or {}) for e in c.get("env", []))]
    assert secret_env == []  # what KEDA could no longer resolve for a scale target
    assert not [r for r in plan.kubernetes_objects() if r.inputs["kind"] == "TriggerAuthentication"]
