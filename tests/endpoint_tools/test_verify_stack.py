"""llm-verify of a stack that runs both parts, Ollama and llm-d (the llmd stack; a prod region with llm-d, as the
prod-tls variant): through its entry point, with the plans' own outputs, against a loopback Kubernetes API serving
the cluster each plan deploys, healthy (test_verify_ollama.healthy: every object the plan declares; the objects the
llm-d router chart makes from the plan's values: the InferencePool, the endpoint picker and the pool's pods; the GPU
Operator's pods from the recorded llm-d cluster when the plan installs it) and with one part broken."""

import copy
import json

import pytest

from endpoint_tools import verify
from endpoint_tools.loopback_server import MODEL, LoopbackServer

from tests.conftest import variant
from tests.endpoint_tools.test_verify_ollama import healthy
from tests.endpoint_tools.test_usage import refused
from tests.kube_fake import FakeKubeApi, recording

RECORDED_NS, RECORDED_POOL = "llm-d", "llmd"  # the recorded llm-d cluster's (tests/data/kube/llmd-healthy.json)
# a GPU node's status.nodeInfo on containerd 2 (NRI on by default), as a P/D stack's GPU nodes run it
NODE_INFO = {"architecture": "amd64", "bootID": "b", "containerRuntimeVersion": "containerd://2.1.4",
             "kernelVersion": "6.8.0", "kubeProxyVersion": "", "kubeletVersion": "v1.35.0", "machineID": "m",
             "operatingSystem": "linux", "osImage": "Ubuntu 24.04.3 LTS", "systemUUID": "u"}


def router_release(plan):
    return next(r for r in plan.helm_releases() if r.inputs["chart"].endswith("/llm-d-router-gateway"))


def healthy_stack(plan, ollama_replicas=None):
    """The cluster `plan` deploys, both parts healthy."""
    r = healthy(plan, ollama_replicas, 1)
    recorded = recording("llmd-healthy")
    ns, pool, release = plan.outputs["llmdNamespace"], plan.outputs["llmdInferencePool"], router_release(plan)
    # the chart's InferencePool (its release's name) selects the model servers by the values' matchLabels
    selector = release.inputs["values"]["router"]["modelServers"]["matchLabels"]
    found = copy.deepcopy(recorded[f"/apis/inference.networking.k8s.io/v1/namespaces/{RECORDED_NS}/inferencepools/"
                                   f"{RECORDED_POOL}"])
    found["metadata"].update(name=release.inputs["name"], namespace=ns)
    found["spec"]["selector"]["matchLabels"] = dict(selector)
    r[f"/apis/inference.networking.k8s.io/v1/namespaces/{ns}/inferencepools/{pool}"] = found
    epp = copy.deepcopy(recorded[f"/apis/apps/v1/namespaces/{RECORDED_NS}/deployments/{RECORDED_POOL}-epp"])
    epp["metadata"].update(name=f"{release.inputs['name']}-epp", namespace=ns)
    r[f"/apis/apps/v1/namespaces/{ns}/deployments/{release.inputs['name']}-epp"] = epp
    # a Ready pod of each of the plan's model-server Deployments (its template's labels), and the pickers' pods
    vllm_pod, *picker_pods = recorded[f"/api/v1/namespaces/{RECORDED_NS}/pods"]["items"]
    pods = []
    for path, body in r.items():
        labels = body.get("spec", {}).get("template", {}).get("metadata", {}).get("labels", {})
        if f"/namespaces/{ns}/deployments/" in path and selector.items() <= labels.items():
            pod = copy.deepcopy(vllm_pod)
            pod["metadata"].update(name=f"{body['metadata']['name']}-6c9d7-abcde", namespace=ns, labels=labels)
            pods.append(pod)
    assert pods, "no Deployment of the plan matches the pool's selector"
    r[f"/api/v1/namespaces/{ns}/pods"] = {"items": pods + picker_pods}
    charts = {rel.inputs["chart"] for rel in plan.helm_releases()}
    if "gpu-operator" in charts:
        r["/api/v1/namespaces/gpu-operator/pods"] = recorded["/api/v1/namespaces/gpu-operator/pods"]
    if plan.outputs["llmdPrefillDecode"]:  # what the Network Operator and containerd 2 give the GPU nodes
        netop = copy.deepcopy(recorded["/api/v1/namespaces/gpu-operator/pods"])
        for pod in netop["items"]:
            pod["metadata"]["namespace"] = "network-operator"
        r["/api/v1/namespaces/network-operator/pods"] = netop
        for node in r["/api/v1/nodes"]["items"]:
            if node["metadata"]["labels"] == plan.outputs["gpuNodeSelector"]:
                node["status"]["allocatable"]["rdma/ib"] = "1k"
                node["status"]["nodeInfo"] = dict(NODE_INFO)
    return r


def verify_run(tmp_path, capsys, name, responses, argv=(), outputs=None):
    """llm-verify --outputs FILE on the plan's outputs: the kubeconfig reaches the loopback API, each gate's URL a
    loopback LLM server of its own key (the plans' gates read different Key Vault secrets) serving its model.
    Returns the exit code and, per header, its PASS/FAIL lines by check name."""
    plan = variant(name)
    with FakeKubeApi(responses) as api, LoopbackServer("auth", api_key="ollama-key") as ollama, \
            LoopbackServer("auth", api_key="llmd-key") as llmd:
        path = tmp_path / "outputs.json"
        path.write_text(json.dumps({**plan.outputs, **(outputs or {}), "kubeconfig": api.kubeconfig(),
                                    "modelApiUrl": ollama.url, "llmdUrl": llmd.url, "llmdModel": MODEL}))
        code = verify.main(["--outputs", str(path), "--kube-timeout", "5", "--timeout", "10", "--api-key",
                            "ollama-key", "--llmd-api-key", "llmd-key", *argv])
    out = capsys.readouterr().out
    assert "Traceback" not in out
    parts: dict[str, dict[str, str]] = {}
    for line in out.splitlines():
        if line.startswith("verify of "):
            lines = parts[line] = {}
        elif line.startswith(("PASS", "FAIL")):
            lines[line.split()[1]] = line
    return code, parts, out.splitlines()[-1]


OLLAMA_CPU = ["model-claim", "model-preload", "ollama", "keda", "interceptor", "router", "gateways", "smoke"]
OLLAMA_GPU = ["model-claim", "model-preload", "gpus", "dcgm-exporter", "ollama", "keda", "interceptor", "router",
              "open-webui", "gateways", "smoke"]


@pytest.mark.parametrize("name, replicas, ollama_checks, llmd_header, llmd_checks", [
    # llm-d on the GPU Operator's A100 pool, Ollama on CPU beside it (scaled to zero)
    ("llmd", 0, OLLAMA_CPU, "verify of llm-d in namespace llm-d (pool llmd)",
     ["gpus", "gpu-operator", "gateways", "inference-pool", "vllm", "epp", "router", "open-webui", "smoke"]),
    # a prod region with llm-d: the whole Ollama stack on GPUs, llm-d on AKS' driver (no GPU Operator to check)
    ("prod-tls", 2, OLLAMA_GPU, "verify of llm-d in namespace llm-d (pool llmd)",
     ["gpus", "gateways", "inference-pool", "vllm", "epp", "router", "smoke"]),
    # prefill/decode from the output llmdPrefillDecode, no flag
    ("llmd-pd", 0, OLLAMA_CPU, "verify of llm-d in namespace llm-d (pool llmd, prefill/decode)",
     ["gpus", "rdma", "containerd", "gpu-operator", "network-operator", "gateways", "inference-pool",
      "vllm-prefill", "vllm-decode", "epp", "router", "open-webui", "smoke"]),
])
def test_a_healthy_stack_running_both_parts_passes_every_check_of_each(tmp_path, capsys, name, replicas,
                                                                       ollama_checks, llmd_header, llmd_checks):
    code, parts, result = verify_run(tmp_path, capsys, name, healthy_stack(variant(name), replicas))
    (ollama, ollama_lines), (llmd, llmd_lines) = parts.items()
    assert ollama.startswith("verify of the Ollama stack in namespace llm ") and llmd == llmd_header, parts
    assert list(ollama_lines) == ollama_checks and list(llmd_lines) == llmd_checks, parts
    assert code == 0 and result == f"result: all {len(ollama_checks) + len(llmd_checks)} checks passed", parts
    # each part's smoke request went through its own gate with its own key, the wrong key refused by each
    assert "auth: a wrong API key is refused" in ollama_lines["smoke"]
    assert "auth: a wrong API key is refused" in llmd_lines["smoke"]


def epp_missing(r):
    del r["/apis/apps/v1/namespaces/llm-d/deployments/llmd-epp"]


def router_missing(r):
    del r["/apis/apps/v1/namespaces/llm/deployments/router"]


def llmd_router_down(r):  # llm-d's own API gate, in its namespace: no replica ready
    r["/apis/apps/v1/namespaces/llm-d/deployments/router"]["status"]["readyReplicas"] = 0


def llmd_webui_missing(r):  # the llmd stack's Open-WebUI, on the llm-d model in llm-d's namespace
    del r["/apis/apps/v1/namespaces/llm-d/deployments/open-webui"]


def pd_webui_missing(r):  # under prefill/decode the UI runs in a namespace of its own (llmdWebuiNamespace)
    del r["/apis/apps/v1/namespaces/llm-d-webui/deployments/open-webui"]


@pytest.mark.parametrize("name, replicas, mutate, part, failed, fragment", [
    ("prod-tls", 2, epp_missing, "verify of llm-d", "epp", "Deployment llm-d/llmd-epp not found"),
    ("prod-tls", 2, router_missing, "verify of the Ollama stack", "router", "Deployment llm/router not found"),
    ("llmd", 0, llmd_router_down, "verify of llm-d", "router", "0 of 2 replica(s) ready"),
    ("llmd", 0, llmd_webui_missing, "verify of llm-d", "open-webui", "Deployment llm-d/open-webui not found"),
    ("llmd-pd", 0, pd_webui_missing, "verify of llm-d", "open-webui", "Deployment llm-d-webui/open-webui not found"),
])
def test_a_broken_part_fails_the_run_under_its_own_header(tmp_path, capsys, name, replicas, mutate, part, failed,
                                                          fragment):
    responses = healthy_stack(variant(name), replicas)
    mutate(responses)
    code, parts, result = verify_run(tmp_path, capsys, name, responses)
    fails = {header.split(" in namespace")[0]: [n for n, line in lines.items() if line.startswith("FAIL")]
             for header, lines in parts.items()}
    total = sum(len(lines) for lines in parts.values())
    assert code == 1 and result == f"result: 1 of {total} checks failed", (result, parts)
    assert fails == {"verify of the Ollama stack": [failed] if part.endswith("Ollama stack") else [],
                     "verify of llm-d": [failed] if part == "verify of llm-d" else []}, fails
    header = next(h for h in parts if h.startswith(part))
    assert fragment in parts[header][failed]


def test_each_gate_takes_its_own_key_and_one_key_serves_both_when_both_read_the_same_secret(tmp_path, capsys):
    plan = variant("llmd")
    responses = healthy_stack(plan, 0)
    with FakeKubeApi(responses) as api, LoopbackServer("auth", api_key="edge-key") as llm:
        path = tmp_path / "outputs.json"
        outputs = {**plan.outputs, "kubeconfig": api.kubeconfig(), "modelApiUrl": llm.url, "llmdUrl": llm.url,
                   "llmdModel": MODEL}
        path.write_text(json.dumps(outputs))
        argv = ["--outputs", str(path), "--kube-timeout", "5", "--timeout", "10", "--api-key", "edge-key"]
        assert verify.main(argv) == 1  # the gates read different secrets: llm-d's key is asked for by name
        out = capsys.readouterr().out
        assert "FAIL  smoke          no API key: set LLMD_API_KEY to the key in the Key Vault secret the stack " \
               "output llmdApiKeySecret names" in out and out.count("FAIL") == 1, out
        # a program of one's own names the secret's output its own way: the line names it so
        mine = {("frcLlmdKey" if k == "llmdApiKeySecret" else k): v for k, v in outputs.items()}
        path.write_text(json.dumps(mine))
        assert verify.main(argv + ["--output-name", "llmdApiKeySecret=frcLlmdKey"]) == 1
        assert "secret the stack output frcLlmdKey (read as llmdApiKeySecret) names" in capsys.readouterr().out
        path.write_text(json.dumps({**outputs, "llmdApiKeySecret": outputs["apiKeySecret"]}))  # behind the edge
        assert verify.main(argv) == 0, capsys.readouterr().out
    capsys.readouterr()


def test_prefill_decode_comes_from_the_outputs_and_the_flag_only_for_a_stack_without_that_output(tmp_path, capsys):
    """llmd-pd's outputs say prefill/decode: its P/D checks run without --prefill-decode (above); the flag against
    an output that says false is bad usage; on a stack deployed before the output, the flag still turns them on."""
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps({**variant("llmd").outputs, "kubeconfig": "apiVersion: v1"}))
    with pytest.raises(SystemExit) as exited:
        verify.main(["--outputs", str(path), "--prefill-decode"])
    assert exited.value.code == 2 and "--prefill-decode: the stack output llmdPrefillDecode is false" in \
        capsys.readouterr().err
    code, parts, _ = verify_run(tmp_path, capsys, "llmd-pd", healthy_stack(variant("llmd-pd"), 0),
                                ["--prefill-decode"], {"llmdPrefillDecode": None, "gpuDriver": None})
    assert code == 0 and "vllm-decode" in list(parts.values())[1], parts
    path.write_text(json.dumps({**variant("llmd").outputs, "kubeconfig": "apiVersion: v1", "llmdPrefillDecode": 1}))
    assert verify.main(["--outputs", str(path)]) == 1
    assert "stack output llmdPrefillDecode is 1: expected true or false" in capsys.readouterr().out


# every output llm-verify reads (endpoint_tools/verify.py and verify_ollama.py), as this repository's program exports
# them (__main__.py): what a program of one's own must export, or map with --output-name
READ = ("kubeconfig", "gpuNodeSelector", "gpuDriver", "inference", "modelPvc", "modelPreloadJob", "modelApiUrl",
        "apiKeySecret", "llmdNamespace", "llmdInferencePool", "llmdUrl", "llmdModel", "llmdApiKeySecret",
        "llmdPrefillDecode", "llmdWebui", "llmdWebuiNamespace")


def test_a_program_of_ones_own_maps_its_output_names_and_help_lists_what_each_holds(tmp_path, capsys):
    """A consumer's two-region program exports each region's outputs under its own names (frcKubeconfig,
    neuKubeconfig, ...): with --output-name NAME=YOURS for each name read, the first region passes every check it
    passes under the repository's names (the healthy llmd stack above); without, the refusal says how."""
    plan = variant("llmd")
    with FakeKubeApi(healthy_stack(plan, 0)) as api, LoopbackServer("auth", api_key="ollama-key") as ollama, \
            LoopbackServer("auth", api_key="llmd-key") as llmd:
        ours = {**plan.outputs, "kubeconfig": api.kubeconfig(), "modelApiUrl": ollama.url, "llmdUrl": llmd.url,
                "llmdModel": MODEL}
        theirs = {f"{region}{key[0].upper()}{key[1:]}": value for region in ("frc", "neu") for key, value in
                  ours.items() if key in READ}
        theirs["neuKubeconfig"] = "apiVersion: v1"  # the other region's: never read
        path = tmp_path / "outputs.json"
        path.write_text(json.dumps(theirs))
        argv = ["--outputs", str(path), "--kube-timeout", "5", "--timeout", "10", "--api-key", "ollama-key",
                "--llmd-api-key", "llmd-key"]
        assert verify.main(argv) == 1
        refusal = capsys.readouterr().out  # names what it found, and how to map it
        assert "outputs: frcApiKeySecret, " in refusal and "--output-name NAME=YOURS maps its names" in refusal
        code = verify.main(argv + [a for key in READ for a in ("--output-name", f"{key}=frc{key[0].upper()}{key[1:]}")])
    out = capsys.readouterr().out
    assert code == 0 and out.splitlines()[-1] == f"result: all {len(OLLAMA_CPU) + 9} checks passed", out
    assert "verify of llm-d in namespace llm-d (pool llmd)" in out and "PASS  open-webui" in out, out
    with pytest.raises(SystemExit):
        verify.main(["--help"])
    shown = capsys.readouterr().out
    assert all(f"\n  {key}: " in shown for key in READ), shown


@pytest.mark.parametrize("argv, error", [
    (["--output-name", "kubeconfig"], "argument --output-name: 'kubeconfig' is not NAME=YOURS: NAME one of "
                                      "kubeconfig, gpuNodeSelector, "),
    (["--output-name", "kubeConfig=frcKubeconfig"], "argument --output-name: 'kubeConfig=frcKubeconfig' is not "
                                                    "NAME=YOURS: NAME one of kubeconfig, "),
    (["--output-name", "kubeconfig= "], "argument --output-name: 'kubeconfig= ' is not NAME=YOURS"),
    (["--output-name", "kubeconfig=frcKubeconfig"], "--output-name kubeconfig=frcKubeconfig: the outputs have no "
                                                    "frcKubeconfig (outputs: neuKubeconfig)"),
    (["--output-name", "kubeconfig=neuKubeconfig", "--output-name", "kubeconfig=frcKubeconfig"],
     "--output-name kubeconfig=frcKubeconfig: kubeconfig is mapped to neuKubeconfig already (one name each)"),
])
def test_a_bad_output_name_is_bad_usage_naming_the_option_the_value_and_what_is_allowed(tmp_path, capsys, argv,
                                                                                        error):
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps({"neuKubeconfig": "apiVersion: v1"}))
    err = refused(verify.main, ["--outputs", str(path), *argv], capsys)
    assert f"llm-verify: error: {error}" in err, err


@pytest.mark.parametrize("key, value, line", [
    ("llmdNamespace", None, "stack output(s) frcLlmdNamespace (read as llmdNamespace) missing: is llm-d enabled in "
                            "this stack? outputs: {theirs}"),
    ("llmdNamespace", 5, "stack output frcLlmdNamespace (read as llmdNamespace) is 5: expected text (llm-d's "
                         "namespace)"),
    ("modelPvc", "", "stack output(s) frcModelPvc (read as modelPvc) missing; outputs: {theirs}"),
    ("gpuNodeSelector", ["gpu"], "stack output frcGpuNodeSelector (read as gpuNodeSelector) is [\"gpu\"]: expected an "
                                 "object of node label names and values, e.g. {{\"llm-platform/pool\": \"gpu\"}}"),
    ("llmdPrefillDecode", 1, "stack output frcLlmdPrefillDecode (read as llmdPrefillDecode) is 1: expected true or "
                             "false (whether llm-d runs prefill/decode)"),
    ("kubeconfig", None, "no kubeconfig: the stack output frcKubeconfig (read as kubeconfig) is missing or empty; "
                         "pass --kubeconfig"),
])
def test_a_mapped_output_missing_or_malformed_is_named_as_the_users_stack_names_it(tmp_path, capsys, key, value,
                                                                                    line):
    """A program of one's own maps every name (--output-name NAME=frcName): an output of its that is missing or of
    the wrong type is named by its own name (with the one --help describes it under), and the outputs listed are the
    stack's, not the names the mapping reads them as; nothing is checked on the cluster."""
    ours = {**variant("llmd").outputs, "kubeconfig": "apiVersion: v1", key: value}
    theirs = {f"frc{k[0].upper()}{k[1:]}": v for k, v in ours.items() if k in READ}
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(theirs))
    assert verify.main(["--outputs", str(path), *[a for k in READ for a in (
        "--output-name", f"{k}=frc{k[0].upper()}{k[1:]}")]]) == 1
    assert capsys.readouterr().out == f"FAIL  reach          {line.format(theirs=', '.join(sorted(theirs)))}\n"
