"""`no-privileged-containers` and the node's own paths and ports (second red-team review, docs/decisions.md,
2026-12-08): a hostPath volume takes the node as surely as a privileged container (a runtime's socket, the kubelet's
credentials, /), and prefill/decode brought the platform's first one, containerd's NRI socket, through which a plugin
adds mounts, devices and OCI hooks to every container the node starts (containerd/nri pkg/api/adjustment.go). The
pack refused privileged containers, host namespaces and added capabilities, and let any node path through."""
import copy
import dataclasses

import pytest

from offline import policy_check
from policy.policies import HOST_PATH_EXEMPTIONS, POLICIES

from tests.conftest import variant

RULE = next(p for p in POLICIES if p.name == "no-privileged-containers")
NRI = "kubernetes:apps/v1:DaemonSet"


def told(reg):
    found = []
    RULE.validate(policy_check.validation_args(reg), lambda message, urn=None: found.append(message))
    return [f.split(" (")[0] for f in found]


def changed(reg, mutate):
    inputs = copy.deepcopy(reg.inputs)
    mutate(inputs)
    return dataclasses.replace(reg, inputs=inputs)


def pod(inputs):
    return inputs["spec"]["template"]["spec"]


def ollama():
    return next(r for r in variant("dev").of_type("kubernetes:apps/v1:Deployment") if r.name == "inference-ollama")


def nri_plugin():
    return next(r for r in variant("llmd-pd").of_type(NRI) if r.inputs["metadata"]["name"] == "nri-plugin-ulimit-adjuster")


def mounting(path, volume="node"):
    def mutate(inputs):
        spec = pod(inputs)
        spec.setdefault("volumes", []).append({"name": volume, "hostPath": {"path": path}})
        spec["containers"][0].setdefault("volumeMounts", []).append({"name": volume, "mountPath": "/host"})
    return mutate


@pytest.mark.parametrize("path", ["/run/containerd/containerd.sock", "/var/lib/kubelet", "/"])
def test_a_workload_mounting_a_node_path_is_refused(path):
    assert told(ollama()) == []
    assert told(changed(ollama(), mounting(path))) == [
        f"volume node mounts the node's {path} without a documented exemption"]


def test_a_container_binding_a_node_port_is_refused():
    def bind(inputs):
        pod(inputs)["containers"][0].setdefault("ports", []).append({"containerPort": 11434, "hostPort": 11434.0})
    assert told(changed(ollama(), bind)) == ["container ollama binds the node's port 11434"]


def test_the_nri_plugin_passes_with_its_socket_alone():
    """The one exemption: the plugin that raises memlock for NIXL (docs/decisions.md says why), its socket and
    nothing else, under its own name."""
    plugin = nri_plugin()
    assert {(v["hostPath"]["path"]) for v in pod(plugin.inputs)["volumes"]} == {"/var/run/nri/nri.sock"}
    assert told(plugin) == [] and set(HOST_PATH_EXEMPTIONS) == {("nri-plugin-ulimit-adjuster", "/var/run/nri/nri.sock")}
    assert told(changed(plugin, mounting("/run/containerd/containerd.sock", "runtime"))) == [
        "volume runtime mounts the node's /run/containerd/containerd.sock without a documented exemption"]
    renamed = changed(plugin, lambda i: i["metadata"].update(name="my-plugin"))
    assert told(renamed) == ["volume nri-socket mounts the node's /var/run/nri/nri.sock without a documented exemption"]


def test_a_plan_whose_workload_mounts_a_node_path_is_refused_by_make_plan(monkeypatch, capsys, tmp_path):
    """Through the entry point: `offline.plan` runs the pack on the plan and refuses it."""
    from offline import plan as plan_cli
    from offline import runner as offline
    dev = variant("dev")  # computed before the patch: the session cache computes it with the real `run`
    mounted = dataclasses.replace(dev, resources=[changed(r, mounting("/")) if r.name == "inference-ollama" else r
                                                  for r in dev.resources])
    monkeypatch.setattr(offline, "run", lambda stack, **kwargs: mounted)  # the CLI path on a changed plan
    assert plan_cli.main(["--stack", "dev", "--out", str(tmp_path)]) == 1
    captured = capsys.readouterr()
    assert "policy VIOLATION: [no-privileged-containers]" in captured.out
    assert "volume node mounts the node's / without a documented exemption" in captured.out
