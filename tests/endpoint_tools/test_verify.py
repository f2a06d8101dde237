"""verify of llm-d's part against a loopback Kubernetes API serving the cluster the llmd plan deploys
(test_verify_stack.healthy_stack: the plan's own objects, healthy) and broken variants of it, through the official
client, with the plan's llm-d outputs alone, and a loopback LLM API behind a key for the smoke request."""

import contextlib
import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler

import pytest

from endpoint_tools import verify
from endpoint_tools.loopback_server import BackgroundServer, LoopbackServer

from tests.conftest import variant
from tests.endpoint_tools.test_verify_stack import healthy_stack
from tests.kube_fake import FakeKubeApi


NS = "llm-d"  # the llmd plan's llmdNamespace (its pool: llmd)
# the outputs llm-d's part reads (the Ollama part's checks are test_verify_ollama's and test_verify_stack's)
LLMD_OUTPUTS = ("gpuNodeSelector", "gpuDriver", "llmdNamespace", "llmdInferencePool", "llmdApiKeySecret",
                "llmdPrefillDecode", "llmdWebui", "llmdWebuiNamespace")


def llmd_outputs(name: str = "llmd") -> dict:
    return {key: variant(name).outputs[key] for key in LLMD_OUTPUTS}


def healthy_llmd() -> dict:
    """The cluster the llmd plan deploys, healthy (Ollama scaled to zero beside llm-d)."""
    return healthy_stack(variant("llmd"), 0)


def gpu_node(r: dict) -> dict:
    return next(n for n in r["/api/v1/nodes"]["items"] if n["metadata"]["name"] == "aks-gpu-1")


def pd_cluster(runtime="containerd://2.1.4", rdma="8", netop_ready=True):
    """The cluster the llmd-pd plan deploys (prefill and decode Deployments, the Network Operator), its GPU node
    with `rdma` rdma/ib (None: none) on `runtime`, the Network Operator's pods ready or not."""
    r = healthy_stack(variant("llmd-pd"), 0)
    gpu = gpu_node(r)
    gpu["status"]["allocatable"].pop("rdma/ib")
    if rdma:
        gpu["status"]["allocatable"]["rdma/ib"] = rdma
    gpu["status"]["nodeInfo"]["containerRuntimeVersion"] = runtime
    if not netop_ready:
        for pod in r["/api/v1/namespaces/network-operator/pods"]["items"]:
            pod["status"]["conditions"] = [{"type": "Ready", "status": "False"}]
    return r


def test_verify_checks_rdma_the_network_operator_containerd_and_both_deployments():
    # one pass over the loopback API (no key, so no smoke request): the P/D parts broken, the rest healthy
    with FakeKubeApi(pd_cluster(runtime="containerd://1.7.27-1", rdma=None, netop_ready=False)) as api:
        outputs = {**llmd_outputs("llmd-pd"), "kubeconfig": api.kubeconfig()}
        target = verify.target_from_outputs(outputs, prefill_decode=True)
        checks = verify.run(verify.Cluster(verify.kube_client(None, outputs), 5), target, None, 5)
    lines = {c.name: c for c in checks}
    assert list(lines) == ["gpus", "rdma", "containerd", "gpu-operator", "network-operator", "gateways",
                           "inference-pool", "vllm-prefill", "vllm-decode", "epp", "router", "open-webui", "smoke"]
    failed = {c.name for c in checks if not c.ok}
    assert failed == {"rdma", "containerd", "network-operator", "smoke"}, checks  # smoke: no URL given
    assert "no allocatable rdma/ib on aks-gpu-1" in lines["rdma"].detail
    assert "containerd://1.7.27-1" in lines["containerd"].detail
    # and the healthy P/D parts pass, as pure checks over the same recorded objects
    from kubernetes import client
    node = client.V1Node(metadata=client.V1ObjectMeta(name="aks-gpu-1"), status=client.V1NodeStatus(
        allocatable={"rdma/ib": "8"}, node_info=client.V1NodeSystemInfo(
            architecture="amd64", boot_id="b", container_runtime_version="containerd://2.1.4", kernel_version="6.8",
            kube_proxy_version="", kubelet_version="v1.35.0", machine_id="m", operating_system="linux",
            os_image="Ubuntu 24.04", system_uuid="u")))

    class Nodes:  # a Cluster answering every call with that node
        core = type("Core", (), {"list_node": None})

        @staticmethod
        def call(fn, *args, **kwargs):
            return client.V1NodeList(items=[node])
    target = verify.Target("llm-d", "llmd", {"llm-platform/accelerator": "nvidia"}, None, None, prefill_decode=True)
    assert verify.check_rdma(Nodes, target).ok and verify.check_containerd(Nodes, target).ok


PODS = f"/api/v1/namespaces/{NS}/pods"


def outputs(api: FakeKubeApi, llm: LoopbackServer) -> dict:
    """The llmd plan's llm-d outputs, as `pulumi stack output --json --show-secrets` prints them once deployed: the
    kubeconfig reaches the loopback API, llmdUrl the loopback LLM server."""
    return {**llmd_outputs(), "kubeconfig": api.kubeconfig(), "llmdUrl": llm.url, "llmdModel": "loopback:latest"}


def verify_run(tmp_path, capsys, responses, key="loopback-key", unauthorized=False, llm_mode="auth"):
    with FakeKubeApi(responses, unauthorized) as api, LoopbackServer(llm_mode) as llm:
        path = tmp_path / "outputs.json"
        path.write_text(json.dumps(outputs(api, llm)))
        code = verify.main(["--outputs", str(path), "--kube-timeout", "5", "--timeout", "10",
                            *(["--api-key", key] if key else [])])
    lines = capsys.readouterr().out.splitlines()
    return code, {line.split()[1]: line for line in lines if line.startswith(("PASS", "FAIL"))}


def broken(mutate):
    responses = healthy_llmd()
    mutate(responses)
    return responses


def no_gpus(r):
    del gpu_node(r)["status"]["allocatable"]["nvidia.com/gpu"]


def crashing_driver(r):
    pod = r["/api/v1/namespaces/gpu-operator/pods"]["items"][1]
    pod["status"]["conditions"] = [{"type": "Ready", "status": "False", "reason": "ContainersNotReady"}]


def unprogrammed_gateway(r):
    gateway = next(g for g in r["/apis/gateway.networking.k8s.io/v1/gateways"]["items"]
                   if g["metadata"]["name"] == "llmd-gateway")
    gateway["status"] = {"conditions": [{"type": "Programmed", "status": "False", "reason": "AddressNotAssigned",
                                         "message": "", "lastTransitionTime": "2026-11-30T12:00:00Z"}]}


def pool_not_accepted(r):
    pool = r[f"/apis/inference.networking.k8s.io/v1/namespaces/{NS}/inferencepools/llmd"]
    pool["status"]["parents"][0]["conditions"][0].update(  # GIE v1.6.0 InferencePoolReasonNotSupportedByParent
        status="False", reason="NotSupportedByParent", message="")


def vllm_loading(r):
    r[f"/apis/apps/v1/namespaces/{NS}/deployments/vllm"]["status"]["readyReplicas"] = 0
    r[PODS]["items"][0]["status"]["conditions"][1]["status"] = "False"


def epp_missing(r):
    del r[f"/apis/apps/v1/namespaces/{NS}/deployments/llmd-epp"]


def router_down(r):  # llm-d's API gate: its pods not ready (nginx cannot resolve the pool gateway, say)
    r[f"/apis/apps/v1/namespaces/{NS}/deployments/router"]["status"]["readyReplicas"] = 0


def webui_loading(r):  # the llmd stack's Open-WebUI, on the llm-d model: its one replica not ready yet
    r[f"/apis/apps/v1/namespaces/{NS}/deployments/open-webui"]["status"]["readyReplicas"] = 0


def test_a_healthy_cluster_passes_every_check(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("LLM_API_KEY", raising=False)
    code, lines = verify_run(tmp_path, capsys, healthy_llmd())
    assert code == 0, lines
    assert list(lines) == ["gpus", "gpu-operator", "gateways", "inference-pool", "vllm", "epp", "router",
                           "open-webui", "smoke"]
    assert all(line.startswith("PASS") for line in lines.values())
    assert "1 GPU(s) allocatable on 1 node(s)" in lines["gpus"]  # the CPU node is not selected
    assert "1 of 2 replica(s) ready" in lines["epp"]  # leader-elected: the standby is not Ready


@pytest.mark.parametrize("mutate, failed, fragment", [
    (no_gpus, ["gpus"], "no allocatable nvidia.com/gpu on aks-gpu-1"),
    (crashing_driver, ["gpu-operator"], "1 of 4 pods not ready: nvidia-driver-daemonset-x1"),
    (unprogrammed_gateway, ["gateways"], "llm-d/llmd-gateway not programmed (AddressNotAssigned)"),
    (pool_not_accepted, ["inference-pool"], "not accepted by a gateway (llmd-gateway: not accepted "
                                            "(NotSupportedByParent))"),
    (vllm_loading, ["inference-pool", "vllm"], "0 of 1 replica(s) ready"),
    (epp_missing, ["epp"], "Deployment llm-d/llmd-epp not found"),
    (router_down, ["router"], "0 of 2 replica(s) ready"),
    (webui_loading, ["open-webui"], "0 of 1 replica(s) ready"),
])
def test_each_broken_part_fails_its_own_check_only(tmp_path, capsys, mutate, failed, fragment):
    code, lines = verify_run(tmp_path, capsys, broken(mutate))
    assert code == 1
    assert [name for name, line in lines.items() if line.startswith("FAIL")] == failed
    assert fragment in lines[failed[-1]]


def test_the_api_gate_and_the_api_server_failing_are_named(tmp_path, capsys):
    code, lines = verify_run(tmp_path, capsys, healthy_llmd(), key="wrong-key")
    assert code == 1 and "unauthorized" in lines["smoke"] and lines["vllm"].startswith("PASS")
    code, lines = verify_run(tmp_path, capsys, healthy_llmd(), key=None)
    assert code == 1 and "set LLM_API_KEY" in lines["smoke"]
    code, lines = verify_run(tmp_path, capsys, healthy_llmd(), unauthorized=True)
    assert code == 1 and "answered 401 Unauthorized" in lines["gpus"]


def test_unreachable_cluster_and_bad_usage(tmp_path, capsys):
    path = tmp_path / "outputs.json"
    with FakeKubeApi({}) as api:
        gone = {"kubeconfig": api.kubeconfig(), "llmdNamespace": NS, "llmdInferencePool": "llmd"}
    path.write_text(json.dumps(gone))  # the server is closed: nothing listens on its port
    assert verify.main(["--outputs", str(path), "--kube-timeout", "2", "--api-key", "k"]) == 1
    out = capsys.readouterr().out
    assert "FAIL  gpus" in out and "cannot reach the API server" in out and "Traceback" not in out
    gpus = next(line for line in out.splitlines() if line.startswith("FAIL  gpus"))
    assert "Connection refused" in gpus and "Max retries" not in gpus and "HTTPConnection" not in gpus  # the cause
    server = json.loads(gone["kubeconfig"])["clusters"][0]["cluster"]["server"]
    assert f"cannot reach the API server at {server}: " in gpus, gpus  # which one: the kubeconfig may be stale
    path.write_text("[" * 100000 + "]" * 100000)  # nested past Python's JSON decoder: a line, no RecursionError
    assert verify.main(["--outputs", str(path)]) == 1 and "nested too deeply" in capsys.readouterr().out
    with pytest.raises(SystemExit) as usage:
        verify.main(["--outputs", str(path), "--kubeconfig", str(tmp_path / "nosuch.yaml")])
    assert usage.value.code == 2 and f"--kubeconfig {tmp_path / 'nosuch.yaml'}: no such file" in capsys.readouterr().err
    path.write_text(json.dumps({"kubeconfig": "apiVersion: v1", "llmdNamespace": NS}))
    assert verify.main(["--outputs", str(path)]) == 1
    assert "llmdInferencePool missing: is llm-d enabled" in capsys.readouterr().out
    path.write_text("[]")
    assert verify.main(["--outputs", str(path)]) == 1 and "not a JSON object" in capsys.readouterr().out


def test_without_the_pulumi_cli_verify_says_what_to_pass_instead(capsys, monkeypatch, tmp_path):
    """verify takes no endpoint URL: without the Pulumi CLI its advice is --outputs in place of --stack (the two
    together are refused), with the stack's own outputs; followed as written, the run reads the file."""
    monkeypatch.setenv("PATH", "")
    assert verify.main(["--stack", "llmd"]) == 1
    out = capsys.readouterr().out
    assert "pass --outputs FILE instead of --stack llmd," in out and "endpoint URL" not in out, out
    assert "`pulumi stack output --stack llmd --json --show-secrets`" in out, out
    outputs = tmp_path / "llmd.json"  # the advice followed: --stack left out, the file read (here: names nothing)
    outputs.write_text("{}")
    assert verify.main(["--outputs", str(outputs)]) == 1
    out = capsys.readouterr().out
    assert "Pulumi CLI" not in out and "name neither llm-d" in out, out


def test_a_key_that_cannot_be_sent_is_bad_usage_as_for_the_other_tools(capsys, monkeypatch):
    """$LLM_API_KEY or --api-key with a character an HTTP header cannot carry: exit 2 before anything is read,
    naming where the key came from, never the key; a key file's trailing newline is dropped, not refused."""
    monkeypatch.setenv("LLM_API_KEY", "sk-secret\u20ac")
    with pytest.raises(SystemExit) as done:
        verify.main(["--stack", "llmd"])
    err = capsys.readouterr().err
    assert done.value.code == 2 and "$LLM_API_KEY" in err and "secret" not in err, err
    with pytest.raises(SystemExit):
        verify.main(["--stack", "llmd", "--api-key", "sk-a b"])
    assert "argument --api-key" in capsys.readouterr().err
    monkeypatch.setenv("LLM_API_KEY", "sk-secret\r\n")
    monkeypatch.setenv("PATH", "")  # no Pulumi CLI: the run stops at reading the outputs, after the key passed
    assert verify.main(["--stack", "llmd"]) == 1


def test_an_llmd_url_output_that_is_not_an_http_url_fails_the_smoke_check_by_name():
    gate = verify.Gate("llmd.internal:8080", "llmdUrl", "llmdApiKeySecret")
    check = verify.check_smoke(gate, "key", 5)
    assert not check.ok and check.detail.startswith("stack output llmdUrl: 'llmd.internal:8080' does not start")


@pytest.mark.parametrize("key, value, fragment", [
    ("gpuNodeSelector", "abc", 'stack output gpuNodeSelector is "abc": expected an object of node label names'),
    ("gpuNodeSelector", [1, 2], "stack output gpuNodeSelector is [1, 2]: expected an object of node label names"),
    ("llmdNamespace", 7, "stack output llmdNamespace is 7: expected text (llm-d's namespace)"),
    ("llmdInferencePool", ["llmd"], 'stack output llmdInferencePool is ["llmd"]: expected text'),
    ("llmdUrl", 5, "stack output llmdUrl is 5: expected text (llm-d's URL through the gateway)"),
    ("llmdModel", {"name": "m"}, 'stack output llmdModel is {"name": "m"}: expected text'),
    ("llmdWebui", "yes", 'stack output llmdWebui is "yes": expected true or false (whether Open-WebUI runs'),
    # read as operator: the GPU Operator's pods checked on a cluster that runs AKS's driver
    ("gpuDriver", "AKS", 'stack output gpuDriver is "AKS": expected aks or operator (GpuNodePool\'s driver)'),
])
def test_an_llmd_outputs_file_with_a_wrong_type_is_named_not_a_traceback(tmp_path, capsys, key, value, fragment):
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps({"kubeconfig": "apiVersion: v1", "llmdNamespace": NS, "llmdInferencePool": "llmd",
                                "llmdUrl": "http://127.0.0.1:9", key: value}))
    assert verify.main(["--outputs", str(path), "--api-key", "k"]) == 1
    out = capsys.readouterr().out
    assert out.startswith(f"FAIL  reach          {fragment}") and "Traceback" not in out, out


@pytest.mark.parametrize("flag, value", [("--kube-timeout", "1e10"), ("--kube-timeout", "601"),
                                         ("--kube-timeout", "nan"), ("--kube-timeout", "-1")])
def test_the_kube_timeout_is_bounded(tmp_path, capsys, flag, value):
    """`--kube-timeout 1e10` overflowed the socket's timeout inside the Kubernetes client (an OverflowError
    traceback): bad usage beyond its bound."""
    path = tmp_path / "outputs.json"
    path.write_text("{}")
    with pytest.raises(SystemExit) as exited:
        verify.main(["--outputs", str(path), flag, value])
    err = capsys.readouterr().err
    assert exited.value.code == 2 and f"argument {flag}: '{value}' must be a number of seconds above 0 and at most" \
        in err, err


def test_a_closed_stdout_ends_verify_quietly(tmp_path):
    """`llm-verify ... | head -2`: no BrokenPipeError traceback (nor Python's `Exception ignored` at exit)."""
    import os
    import subprocess
    import sys
    from tests.conftest import PROJECT_DIR
    path = tmp_path / "outputs.json"
    path.write_text("[]")  # one FAIL line, then the exit
    read, write = os.pipe()
    os.close(read)
    try:
        done = subprocess.run([sys.executable, "-m", "endpoint_tools.verify", "--outputs", str(path)],
                              cwd=PROJECT_DIR, stdout=write, stderr=subprocess.PIPE, text=True, timeout=60)
    finally:
        os.close(write)
    assert done.returncode == 141 and done.stderr == "", done.stderr


BROKEN_KUBECONFIG = "apiVersion: v1\nusers:\n- name: admin\n  user:\n    token: s3cr3t-t0ken: x\n"


def test_a_kubeconfig_that_is_not_yaml_is_one_line_that_never_quotes_it(tmp_path, capsys):
    """PyYAML's error quotes the line it stopped at, under a caret, over several lines: for the stack's kubeconfig
    output (a secret the tools never print) that line may hold its token, as here. One line: the problem and where."""
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps({"kubeconfig": BROKEN_KUBECONFIG, "llmdNamespace": NS, "llmdInferencePool": "llmd"}))
    assert verify.main(["--outputs", str(path)]) == 1
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(BROKEN_KUBECONFIG)
    assert verify.main(["--outputs", str(path), "--kubeconfig", str(kubeconfig)]) == 1
    out = capsys.readouterr().out
    expected = ("FAIL  reach          the kubeconfig is not usable: not YAML (mapping values are not allowed here, at "
                "line 5, column 24)\n")
    assert out == expected * 2, out


@contextlib.contextmanager
def piped(data: bytes):
    """A pipe's /dev/fd path with `data` being written into it (what `--outputs <(pulumi stack output ...)` gives)."""
    read, write = os.pipe()

    def feed():
        try:
            for start in range(0, len(data), 1 << 20):
                os.write(write, data[start:start + (1 << 20)])
        except OSError:  # the reader stopped reading
            pass
        finally:
            os.close(write)
    threading.Thread(target=feed, daemon=True).start()
    try:
        yield f"/dev/fd/{read}"
    finally:
        os.close(read)


def test_outputs_from_a_pipe_are_read_and_a_folder_is_named(tmp_path, capsys):
    """`--outputs <(pulumi stack output --json --show-secrets)` (no secret written to disk) and `--outputs
    /dev/stdin` were refused as "no such file", as was a folder; a pipe is read (at most 16 MiB: `<(yes)` ends)."""
    with piped(b"[]") as path:
        assert verify.main(["--outputs", path]) == 1
    assert "is not a JSON object of stack outputs" in capsys.readouterr().out
    with piped(b" " * (17 << 20)) as path:
        assert verify.main(["--outputs", path]) == 1
    assert "is larger than 16 MiB" in capsys.readouterr().out
    outputs = tmp_path / "outputs.json"
    outputs.write_text("clusterName: aks-x\n")  # a YAML or text copy of the outputs, not `--json`'s
    assert verify.main(["--outputs", str(outputs)]) == 1
    assert f"{outputs} is not JSON (" in capsys.readouterr().out
    outputs.write_text("{}")
    for argv in (["--outputs", str(tmp_path)], ["--outputs", str(outputs), "--kubeconfig", str(tmp_path)]):
        with pytest.raises(SystemExit) as usage:
            verify.main(argv)
        assert usage.value.code == 2 and f"{argv[-2]} {tmp_path}: is a folder, not a file" in capsys.readouterr().err


def test_an_allocatable_count_in_kubernetes_quantity_form_is_read_as_one():
    """The API server writes a quantity of 1000 as `1k` (the RDMA shared device plugin's rdmaHcaMax is often 1000):
    int("1k") crashed llm-verify with a ValueError traceback."""
    with FakeKubeApi(pd_cluster(rdma="1k")) as api:
        outputs = {**llmd_outputs("llmd-pd"), "kubeconfig": api.kubeconfig()}
        target = verify.target_from_outputs(outputs, prefill_decode=True)
        cluster = verify.Cluster(verify.kube_client(None, outputs), 5)
        assert verify.check_rdma(cluster, target).ok


def gateway_without_metadata(r):
    r["/apis/gateway.networking.k8s.io/v1/gateways"]["items"].append({"status": {"conditions": ["Programmed"]}})


def pool_parents_not_objects(r):
    r[f"/apis/inference.networking.k8s.io/v1/namespaces/{NS}/inferencepools/llmd"]["status"] = {"parents": [1]}


def gpus_not_a_quantity(r):
    gpu_node(r)["status"]["allocatable"]["nvidia.com/gpu"] = "lots"


@pytest.mark.parametrize("mutate, failed, fragment", [
    (gateway_without_metadata, "gateways", "KeyError: 'metadata'"),
    (pool_parents_not_objects, "inference-pool", "AttributeError: 'int' object has no attribute 'get'"),
    (gpus_not_a_quantity, "gpus", "nvidia.com/gpu on aks-gpu-1 is 'lots', not a quantity"),
])
def test_an_answer_of_an_unexpected_shape_fails_its_check_by_name_not_with_a_traceback(tmp_path, capsys, mutate,
                                                                                      failed, fragment):
    """A custom resource or an aggregated API's answer the checks cannot read (no metadata, conditions that are not
    objects, a count that is no quantity) was a traceback that ended llm-verify; it fails its own check."""
    code, lines = verify_run(tmp_path, capsys, broken(mutate))
    assert code == 1 and [name for name, line in lines.items() if line.startswith("FAIL")] == [failed], lines
    assert fragment in lines[failed], lines[failed]


class QuietHandler(BaseHTTPRequestHandler):
    """An HTTP/1.1 server's handler that logs nothing; `reply` sends one whole answer."""
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:
        pass

    def reply(self, status: int, kind: str, body: bytes, headers: tuple[tuple[str, str], ...] = ()) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _Answers(QuietHandler):
    """Answers every GET 200 with the server's one body: not the Kubernetes API (a web server, a proxy's page)."""

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        kind, body = self.server.answer  # type: ignore[attr-defined]
        self.reply(200, kind, body)


def kubeconfig_of(server_url: str, user: dict) -> dict:
    """A kubeconfig of one context: the cluster's API server at `server_url`, logged in as `user`."""
    return {"apiVersion": "v1", "kind": "Config", "current-context": "c",
            "clusters": [{"name": "c", "cluster": {"server": server_url}}], "users": [{"name": "u", "user": user}],
            "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}]}


def verify_against(server_url: str, tmp_path, capsys, kube_timeout: str = "5") -> tuple[int, list[str], float]:
    """llm-verify of the llmd stack's outputs with a token kubeconfig naming `server_url` as the API server: its exit
    code, the FAIL lines of the cluster's checks (the endpoint's smoke lines left out) and the seconds it took."""
    path = tmp_path / "outputs.json"
    kubeconfig = kubeconfig_of(server_url, {"token": "t"})
    path.write_text(json.dumps({**llmd_outputs(), "kubeconfig": json.dumps(kubeconfig)}))
    started = time.perf_counter()
    code = verify.main(["--outputs", str(path), "--kube-timeout", kube_timeout, "--api-key", "k"])
    elapsed = time.perf_counter() - started
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("FAIL")]
    return code, [line for line in lines if not line.startswith("FAIL  smoke")], elapsed


@pytest.mark.parametrize("kind, body, said", [
    ("text/html", b"<html><body>Sign in to continue</body></html>",
     "a body that is not JSON (text/html): '<html><body>Sign in to continue</body></html>'"),
    ("application/json", b"", "an empty body (application/json)"),
    ("application/json", b"null", "JSON that is not an object (application/json): null"),
    ("application/json", b"[1, 2]", "JSON that is not an object (application/json): [1, 2]"),
])
def test_a_server_that_is_not_the_kubernetes_api_is_named_with_what_it_answered(tmp_path, capsys, kind, body, said):
    """A kubeconfig whose server answers 200 with something other than a Kubernetes object (an HTML page, an empty
    or `null` body) failed each check in pydantic's words ("1 validation error for V1NodeList"), with a Python
    error ("'str' object has no attribute 'get'"), or as a wrong fact (`null`: "no Gateway in the cluster"); each
    line names the server and what it answered."""
    server = BackgroundServer(("127.0.0.1", 0), _Answers)
    server.answer = (kind, body)  # type: ignore[attr-defined]
    with server:
        code, cluster_lines, _ = verify_against(server.url, tmp_path, capsys)
    assert code == 1 and len(cluster_lines) >= 4, cluster_lines
    expected = (f"the API server at {server.url} answered 200 with {said} where a Kubernetes object belongs: is the "
                f"kubeconfig's server the cluster's API server?")
    assert all(line.split(None, 2)[2] == expected for line in cluster_lines), cluster_lines


@pytest.mark.parametrize("command, why", [
    ("llm-verify-test-no-such-plugin", "[Errno 2] No such file or directory: 'llm-verify-test-no-such-plugin'"),
    ("false", "exec: process returned 1"),
])
def test_a_kubeconfig_whose_login_plugin_fails_says_so_in_one_line(tmp_path, capsys, command, why):
    """The stack's kubeconfig logs in with an exec plugin (kubelogin). Missing or failing, the Kubernetes client
    only logged `ERROR:root:...` (which also set up the root logger: urllib3's retries printed after it) and went on
    without credentials, so every check failed as 401 Unauthorized; the reason is now the one line."""
    with FakeKubeApi(healthy_llmd(), unauthorized=True) as api:
        kubeconfig = kubeconfig_of(api.url, {"exec": {
            "apiVersion": "client.authentication.k8s.io/v1beta1", "command": command,
            "args": ["get-token", "--login", "azurecli"]}})
        path = tmp_path / "outputs.json"
        path.write_text(json.dumps({**llmd_outputs(), "kubeconfig": json.dumps(kubeconfig)}))
        assert verify.main(["--outputs", str(path), "--kube-timeout", "5", "--api-key", "k"]) == 1
    captured = capsys.readouterr()
    assert captured.out == (f"FAIL  reach          the kubeconfig's login failed: {why} (its exec plugin, kubelogin "
                            f"for the stack's kubeconfig: on PATH and logged in? docs/operations.md, \"Reaching the "
                            f"cluster (kubelogin)\")\n"), captured.out
    assert "ERROR:root" not in captured.err
