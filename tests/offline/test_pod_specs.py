"""One reader of where a Kubernetes object keeps its pod spec, for the image list, the deploy model and the pools'
fit (offline/pod_specs.py)."""
from offline.pod_specs import pod_spec

POD = {"containers": [{"name": "app", "image": "nginx:1.27"}]}


def test_each_kind_keeps_its_pod_spec_where_kubernetes_puts_it():
    assert pod_spec({"kind": "Pod", "spec": POD}) is POD
    for kind in ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"):
        assert pod_spec({"kind": kind, "spec": {"template": {"spec": POD}}}) is POD, kind
    assert pod_spec({"kind": "CronJob", "spec": {"jobTemplate": {"spec": {"template": {"spec": POD}}}}}) is POD
    # a custom resource embedding a pod template (an Argo Rollout) is read the same way
    assert pod_spec({"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "spec": {"template": {"spec": POD}}}) \
        is POD


def test_an_object_without_one_or_of_the_wrong_shape_has_none():
    assert pod_spec({"kind": "Service", "spec": {"ports": [{"port": 80}]}}) is None
    assert pod_spec({"kind": "ConfigMap", "data": {"a": "b"}}) is None
    assert pod_spec({"kind": "Deployment", "spec": {"template": ["not", "a", "map"]}}) is None
    assert pod_spec({"kind": "CronJob", "spec": {"template": {"spec": POD}}}) is None  # a CronJob's is deeper
    assert pod_spec({}) is None
