"""Post-deploy check of a real cluster running a platform stack: every part the stack runs, the Ollama stack (dev,
prod) and llm-d (llmd, or a prod region with llmd.enabled), each under its own header in one report.

`llm-verify --stack prod` (or `python -m endpoint_tools.verify --stack prod`).

Reads the stack's outputs (the Pulumi CLI's `pulumi stack output --json --show-secrets`, or a file of them with
--outputs; OUTPUTS lists each one read, --output-name maps a program's own names to them) and asks the cluster through
the official Kubernetes client, with the stack's kubeconfig output (or --kubeconfig). The outputs, not the stack's
name, say which parts it runs (parts_of): the Ollama stack when they carry `inference`, llm-d when they name its
namespace or pool; the llmd stack runs both, as does a prod region with llm-d. Whether llm-d runs prefill/decode is
the output `llmdPrefillDecode` (--prefill-decode: for a stack deployed before that output existed).

Ollama stack (verify_ollama.py): the model claim Bound, the preload Job complete; with Ollama on GPU, GPUs
allocatable on the GPU nodes (none needed while a scale-to-zero Ollama is at zero) and the DCGM exporter ready;
Ollama ready or, at zero replicas under KEDA, fine; KEDA's InterceptorRoute and ScaledObject Ready and its
interceptor up (requests mode), the HPA scaling (gpu-memory, cpu) and the custom metrics API serving the metric
the GPU-memory HPA reads; the router and Open-WebUI ready, every Gateway programmed with an address.

llm-d: GPUs allocatable on the GPU nodes, the GPU Operator's pods ready (unless `gpuDriver` is aks), every Gateway
programmed with an address, the InferencePool accepted with ready endpoints, vLLM, the endpoint picker and llm-d's
API gate (its `router` Deployment) ready, and Open-WebUI on llm-d's model when the output `llmdWebui` says it runs
(webui.backend llmd; the Ollama stack's `inference.webui` is then false), in the namespace `llmdWebuiNamespace` names
(a namespace of its own under prefill/decode) or else in llm-d's; with prefill/decode also
`rdma/ib` allocatable on the GPU nodes, the Network Operator's pods ready, containerd 2 (NRI) on the GPU nodes, and
the prefill and decode Deployments instead of the single vLLM one.

Each part ends with a smoke request through its API gate: the Ollama stack's key from --api-key or $LLM_API_KEY,
llm-d's from --llmd-api-key or $LLMD_API_KEY (else the same key, when llm-d is the only part or both gates read the
same Key Vault secret). One PASS/FAIL line per check, one result line for the whole run. Exit codes, as the smoke
tool's: 0 all passed, 1 a check of any part failed or the cluster could not be reached, 2 bad usage. Never a
traceback.
"""
import argparse
import json
import re
import textwrap
from dataclasses import dataclass
from typing import Any, Callable, Optional

from . import verify_ollama
from .bench import number_in
from .checks import (GPU, Cluster, ClusterError, Gate, allocatable_on_gpu_nodes, check_deployment, check_gateways,
                     check_smoke, condition, kube_client, pod_ready, run_steps, selector_text, true_now,
                     verdict_text)
from .endpoint import EndpointError, file_problem, read_text, stack_outputs
from .api_errors import parse_json
from .smoke import (KEY_OPTION, Check, HelpFormatter, api_key_given, named, namespace, new_parser, positive,
                    print_checks, result, run_cli, stack_name)
from .verify_ollama import Outputs, excerpt, listed, secret_text, selector_output, shown, text_output

RDMA = "rdma/ib"  # the Network Operator's RDMA shared device plugin (LlmdStack's NicClusterPolicy)
INFERENCE_POOL_API = ("inference.networking.k8s.io", "v1", "inferencepools")
# gateway-api-inference-extension v1.6.0 api/v1/inferencepool_types.go: a parent's condition types
POOL_ACCEPTED, POOL_RESOLVED_REFS = "Accepted", "ResolvedRefs"
# --kube-timeout's bound: beyond it a value is a typo (1e10 overflowed the socket's timeout). --timeout is
# smoke's and bench's own option, worded and bounded as theirs (smoke.positive).
MAX_KUBE_TIMEOUT_S = 600.0
LLMD_KEY_ENV = "LLMD_API_KEY"  # llm-d's gate's key, when it is not the Ollama gate's
# Every stack output read here and in verify_ollama.py, and what it must hold: the contract of a program of one's own
# (this repository's __main__.py exports each under this name; another program exports them, or maps its own names
# with --output-name). --help and docs/operations.md list it; the component attribute each comes from is named.
OUTPUTS = {
    "kubeconfig": "text, the cluster's kubeconfig YAML (AksCluster.kubeconfig); not read with --kubeconfig",
    "gpuNodeSelector": "object of node label names and values selecting the GPU nodes "
                       "(GpuNodePool.scheduling['node_selector']); none: every node",
    "gpuDriver": "aks or operator, GpuNodePool's driver input; none: operator (the GPU Operator's pods are checked)",
    "inference": "set: the Ollama part is checked; an object with namespace, deployment and accelerator (cpu or "
                 "gpu) of InferenceStack.model_server, autoscaling (requests, gpu-memory, cpu or none: its autoscaling "
                 "mode) and webui (true when Open-WebUI runs beside it)",
    "modelPvc": "text, with inference: the model claim (ModelStore.volume['claim_name'])",
    "modelPreloadJob": "text, with inference: the preload Job (ModelStore.preload_job_name)",
    "modelApiUrl": "text, the Ollama gate's URL (GatewayAccess.api_url); none: no gateways or smoke line",
    "apiKeySecret": "text, the Key Vault secret of the Ollama gate's key (InferenceStack.api_key_secret); none: the "
                    "gate takes no key",
    "llmdNamespace": "text, llm-d's namespace (LlmdStack.namespace); it or llmdInferencePool set: the llm-d part "
                     "is checked, and both are needed",
    "llmdInferencePool": "text, the InferencePool (LlmdStack.inference_pool)",
    "llmdUrl": "text, llm-d's gate URL (GatewayAccess.llmd_url); none: llm-d's smoke line fails",
    "llmdModel": "text, the model llm-d serves (LlmdStack.served_model_name); none: the first the gate lists",
    "llmdApiKeySecret": "text, the Key Vault secret of llm-d's gate key (LlmdStack.api_key_secret); the same as "
                        "apiKeySecret: one key serves both gates",
    "llmdPrefillDecode": "true or false, LlmdStack's prefill_decode input; none: --prefill-decode says it",
    "llmdWebui": "true or false, whether Open-WebUI runs on llm-d's model; none: not checked",
    "llmdWebuiNamespace": "text, the namespace of that Open-WebUI (its own under prefill/decode); none: llm-d's",
}
OUTPUT_NAME = "--output-name"


@dataclass
class Target:
    """What is checked, from the stack's outputs."""

    namespace: str
    pool: str
    gpu_selector: dict[str, str]
    url: Optional[str]
    model: Optional[str]
    operator_namespace: str = "gpu-operator"
    prefill_decode: bool = False
    network_operator_namespace: str = "network-operator"
    gpu_operator: bool = True  # False: AKS' driver and device plugin (gpuDriver aks), no GPU Operator to check
    webui: bool = False  # Open-WebUI runs on llm-d's model (llmdWebui)
    webui_namespace: Optional[str] = None  # its namespace (llmdWebuiNamespace); None: llm-d's
    gate_outputs: tuple[str, str] = ("llmdUrl", "llmdApiKeySecret")  # as the user's stack names them (shown)


def target_from_outputs(outputs: dict[str, Any], operator_namespace: str = "gpu-operator",
                        prefill_decode: bool = False) -> Target:
    """Every output read is checked for its type here, named when it is wrong (an outputs file edited by hand)."""
    namespace = text_output(outputs, "llmdNamespace", "llm-d's namespace")
    pool = text_output(outputs, "llmdInferencePool", "the InferencePool's name")
    if namespace is None or pool is None:
        missing = [shown(outputs, key) for key, value in (("llmdNamespace", namespace), ("llmdInferencePool", pool))
                   if value is None]
        raise EndpointError(f"stack output(s) {', '.join(missing)} missing: is llm-d enabled in this stack? "
                            f"outputs: {listed(outputs)}")
    driver = text_output(outputs, "gpuDriver", "the GPU driver: aks or operator")
    if driver not in (None, "aks", "operator"):  # anything else read as operator: a wrong line, never a skipped one
        raise EndpointError(f"stack output {shown(outputs, 'gpuDriver')} is {excerpt(driver)}: expected aks or "
                            f"operator (GpuNodePool's driver)")
    webui = outputs.get("llmdWebui")  # none: a stack deployed before the output (its UI, if any, goes unchecked)
    if webui is not None and not isinstance(webui, bool):
        raise EndpointError(f"stack output {shown(outputs, 'llmdWebui')} is {excerpt(webui)}: expected true or false "
                            f"(whether Open-WebUI runs on llm-d's model)")
    return Target(namespace=namespace, pool=pool, gpu_selector=selector_output(outputs),
                  url=text_output(outputs, "llmdUrl", "llm-d's URL through the gateway"),
                  model=text_output(outputs, "llmdModel", "the model llm-d serves"),
                  operator_namespace=operator_namespace, prefill_decode=prefill_decode,
                  # gpuDriver none: a stack deployed before the output, as llm-d's was
                  gpu_operator=driver != "aks", webui=bool(webui),
                  webui_namespace=text_output(outputs, "llmdWebuiNamespace", "the namespace of llm-d's Open-WebUI"),
                  gate_outputs=(shown(outputs, "llmdUrl"), shown(outputs, "llmdApiKeySecret")))


def prefill_decode_of(outputs: dict[str, Any], flag: bool) -> Optional[bool]:
    """Whether llm-d runs prefill/decode: the output llmdPrefillDecode, or --prefill-decode for a stack deployed
    before that output existed; None when the flag contradicts the output (the caller's usage error)."""
    value = outputs.get("llmdPrefillDecode")
    if value is None:
        return flag
    if not isinstance(value, bool):
        raise EndpointError(f"stack output {shown(outputs, 'llmdPrefillDecode')} is {excerpt(value)}: expected true or "
                            f"false (whether llm-d runs prefill/decode)")
    return None if flag and not value else value


def check_gpus(cluster: Cluster, target: Target) -> Check:
    return allocatable_on_gpu_nodes(
        cluster, target.gpu_selector, "gpus", GPU,
        f"no node matches {selector_text(target.gpu_selector) or 'the GPU selector'} (a GPU pool at zero has none "
        f"until a replica asks for one)", "driver or device plugin not ready",
        "{total} GPU(s) allocatable on {nodes} node(s)")


def check_rdma(cluster: Cluster, target: Target) -> Check:
    """P/D: every GPU node offers `rdma/ib` (DOCA-OFED loaded, the RDMA shared device plugin running)."""
    return allocatable_on_gpu_nodes(cluster, target.gpu_selector, "rdma", RDMA, "no GPU node to offer rdma/ib",
                                    "Network Operator's DOCA driver or RDMA device plugin not ready",
                                    f"{RDMA} allocatable on {{nodes}} node(s)")


def containerd_major(runtime: str) -> int:
    """containerd's major version from a node's status.nodeInfo.containerRuntimeVersion, which the kubelet writes as
    `<runtime name>://<version>` ("containerd://2.1.4", "containerd://1.7.27-1"); 0 for another runtime or a version
    it cannot read."""
    name, _, version = runtime.partition("://")
    major = re.match(r"v?(\d+)\.", version)
    return int(major.group(1)) if name == "containerd" and major else 0


def check_containerd(cluster: Cluster, target: Target) -> Check:
    """P/D: the memlock plugin needs NRI, on by default from containerd 2.0."""
    nodes = cluster.call(cluster.core.list_node, label_selector=selector_text(target.gpu_selector)).items
    runtimes = {n.metadata.name: ((n.status.node_info.container_runtime_version if n.status.node_info else None)
                                  or "unknown") for n in nodes}
    old = sorted(f"{name} ({runtime})" for name, runtime in runtimes.items() if containerd_major(runtime) < 2)
    if not nodes or old:
        return Check("containerd", False, f"NRI is off by default before containerd 2.0: {', '.join(old) or 'no node'}"
                                          f" (enable it in containerd's config, as llm-d's AKS guide shows)")
    return Check("containerd", True, f"containerd 2 (NRI on) on {len(nodes)} node(s)")


def check_operator(cluster: Cluster, target: Target, check: str = "gpu-operator",
                   namespace: Optional[str] = None) -> Check:
    namespace = namespace or target.operator_namespace
    pods = cluster.call(cluster.core.list_namespaced_pod, namespace).items
    if not pods:
        return Check(check, False, f"no pods in namespace {namespace}")
    waiting = sorted(p.metadata.name for p in pods if not pod_ready(p))
    if waiting:
        return Check(check, False, f"{len(waiting)} of {len(pods)} pods not ready: {', '.join(waiting[:4])}")
    return Check(check, True, f"{len(pods)} pods ready or completed")


def check_pool(cluster: Cluster, target: Target) -> Check:
    """Each gateway that uses the pool reports on it under status.parents (InferencePool v1): at least one has it
    Accepted with its references (the endpoint picker's Service) resolved, for the pool's current generation; and a
    pod of spec.selector.matchLabels is Running and Ready."""
    pool = cluster.call(cluster.custom.get_namespaced_custom_object, *INFERENCE_POOL_API[:2], target.namespace,
                        INFERENCE_POOL_API[2], target.pool)
    if pool is None:
        return Check("inference-pool", False, f"InferencePool {target.namespace}/{target.pool} not found")
    parents = (pool.get("status") or {}).get("parents") or []
    usable, problems = 0, []
    for parent in parents:
        name = (parent.get("parentRef") or {}).get("name") or "a gateway"
        accepted = condition(parent.get("conditions"), POOL_ACCEPTED)
        resolved = condition(parent.get("conditions"), POOL_RESOLVED_REFS)
        if not true_now(pool, accepted):
            problems.append(f"{name}: not accepted ({verdict_text(pool, accepted, 'no Accepted condition')})")
        elif resolved is not None and not true_now(pool, resolved):  # a gateway may not report ResolvedRefs
            problems.append(f"{name}: references not resolved ({verdict_text(pool, resolved)})")
        else:
            usable += 1
    if not usable:
        return Check("inference-pool", False, f"not accepted by a gateway ({'; '.join(problems) or 'no parents'})")
    labels = ((pool.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
    if not labels:  # the v1 schema requires one label at least: an empty selector would list every pod
        return Check("inference-pool", False, "the pool's spec.selector.matchLabels is empty: no pod is its member")
    pods = cluster.call(cluster.core.list_namespaced_pod, target.namespace, label_selector=selector_text(labels))
    ready = [p for p in pods.items if pod_ready(p, completed_ok=False)]
    if not ready:
        return Check("inference-pool", False, f"accepted, but no ready endpoint ({len(pods.items)} pod(s) match)")
    return Check("inference-pool", True, f"accepted by {usable} gateway(s), {len(ready)} ready endpoint(s)")


def run(cluster: Cluster, target: Target, api_key: Optional[str], smoke_timeout_s: float,
        key_option: tuple[str, str] = KEY_OPTION, shown: Callable[[Check], None] = lambda check: None) -> list[Check]:
    """llm-d's checks, each handed to `shown` as it is made; `key_option`: where the smoke check's key comes from,
    named when it is missing."""
    pd = target.prefill_decode
    checks = run_steps([
        ("gpus", lambda: check_gpus(cluster, target)),
        *([("rdma", lambda: check_rdma(cluster, target)),
           ("containerd", lambda: check_containerd(cluster, target))] if pd else []),
        *([("gpu-operator", lambda: check_operator(cluster, target))] if target.gpu_operator else []),
        *([("network-operator", lambda: check_operator(cluster, target, "network-operator",
                                                       target.network_operator_namespace))] if pd else []),
        ("gateways", lambda: check_gateways(cluster, target.namespace)),
        ("inference-pool", lambda: check_pool(cluster, target)),
        *([(name, lambda name=name: check_deployment(cluster, target.namespace, name, name))
           for name in (("vllm-prefill", "vllm-decode") if pd else ("vllm",))]),
        ("epp", lambda: check_deployment(cluster, target.namespace, "epp", f"{target.pool}-epp")),
        # the components' own names, as the Ollama stack's: LlmdStack's API gate (api_router) and its OpenWebUi
        ("router", lambda: check_deployment(cluster, target.namespace, "router", "router")),
        *([("open-webui", lambda: check_deployment(cluster, target.webui_namespace or target.namespace, "open-webui",
                                                   "open-webui"))]
          if target.webui else []),
    ], shown)
    gate = Gate(target.url, *target.gate_outputs, target.model, key_option)
    smoke = check_smoke(gate, api_key, smoke_timeout_s)
    shown(smoke)
    return checks + [smoke]


def parts_of(outputs: dict[str, Any]) -> list[str]:
    """Every part the stack runs, from its outputs (not the stack's name), in the order checked: `ollama` when they
    carry the Ollama stack's `inference`, `llmd` when they name llm-d's namespace or pool (the llmd stack runs
    Ollama beside llm-d; a prod region with llmd.enabled runs the whole Ollama stack and llm-d)."""
    parts = [part for part, keys in (("ollama", ("inference",)), ("llmd", ("llmdNamespace", "llmdInferencePool")))
             if any(outputs.get(key) for key in keys)]
    if parts:
        return parts
    raise EndpointError(f"the stack outputs name neither llm-d ({llmd_names(outputs)}) nor the Ollama stack "
                        f"({shown(outputs, 'inference')}; a stack deployed before that output existed gets it with its "
                        f"next `pulumi up`): outputs: {listed(outputs)} (a program of your own: "
                        f"{OUTPUT_NAME} NAME=YOURS maps its names, --help lists what each must hold)")


def llmd_names(outputs: dict[str, Any]) -> str:
    return ", ".join(shown(outputs, key) for key in ("llmdNamespace", "llmdInferencePool"))


def output_name(text: str) -> tuple[str, str]:
    """An argparse type: --output-name NAME=YOURS, NAME an output llm-verify reads (OUTPUTS)."""
    name, equals, yours = text.partition("=")
    if not equals or name not in OUTPUTS or not yours.strip():
        raise argparse.ArgumentTypeError(f"{text!r} is not NAME=YOURS: NAME one of {', '.join(OUTPUTS)}; YOURS the "
                                         f"name your program exports it under")
    return name, yours


def mapped(outputs: dict[str, Any], pairs: list[tuple[str, str]],
           parser: argparse.ArgumentParser) -> Outputs:
    """The outputs with each --output-name NAME=YOURS read as NAME (the others under their own names; every line
    names it YOURS); a name given twice, or YOURS not among the outputs, is bad usage."""
    names: dict[str, str] = {}
    for name, yours in pairs:
        if names.setdefault(name, yours) != yours:
            parser.error(f"{OUTPUT_NAME} {name}={yours}: {name} is mapped to {names[name]} already (one name each)")
        if yours not in outputs:
            parser.error(f"{OUTPUT_NAME} {name}={yours}: the outputs have no {yours} (outputs: "
                         f"{', '.join(sorted(outputs)) or 'none'})")
    return Outputs(outputs, names)


class ListFormatter(HelpFormatter):
    """Keeps the epilog's lines (one per output), each wrapped on its own."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        return "\n".join(textwrap.fill(line, width, initial_indent=indent, subsequent_indent=indent + (
            "    " if line.startswith(" ") else "")) for line in text.splitlines())


def load_outputs(args: argparse.Namespace) -> dict[str, Any]:
    if args.outputs:
        try:
            text = read_text(args.outputs)
        except (OSError, ValueError) as error:
            raise EndpointError(f"cannot read outputs from {args.outputs}: {error}") from None
        try:
            outputs = parse_json(text)
        except ValueError as error:
            raise EndpointError(f"{args.outputs} is not JSON ({error}): write it with `pulumi stack output --json "
                                f"--show-secrets > FILE`") from None
        if not isinstance(outputs, dict):
            raise EndpointError(f"{args.outputs} is not a JSON object of stack outputs")
        return outputs
    # --outputs replaces --stack (main refuses the two together): the advice says so, and names the stack's outputs
    return stack_outputs(args.stack, secrets=True,
                         instead=f"--outputs FILE instead of --stack {args.stack}, FILE holding what `pulumi stack "
                                 f"output --stack {args.stack} --json --show-secrets` prints where the CLI is")


def main(argv: Optional[list[str]] = None) -> int:
    parser = new_parser("llm-verify", "endpoint_tools.verify", __doc__, "\n".join(
        [f"Stack outputs read (a program of your own exports them under these names, or maps its own with "
         f"{OUTPUT_NAME}):"] + [f"  {name}: {what}" for name, what in OUTPUTS.items()]))
    parser.formatter_class = ListFormatter
    parser.add_argument("--stack", type=stack_name,
                        help="Pulumi stack whose outputs name what to check (e.g. dev, prod, llmd)")
    parser.add_argument("--outputs", metavar="FILE", type=named("a file name"),
                        help="a JSON file of the stack's outputs (`pulumi stack output --json --show-secrets`) "
                             "instead of asking the Pulumi CLI; a pipe too, e.g. "
                             "<(pulumi stack output --json --show-secrets)")
    parser.add_argument(OUTPUT_NAME, metavar="NAME=YOURS", type=output_name, action="append",
                        help="read the output NAME (one this tool reads: listed below) from your program's output "
                             "YOURS, e.g. kubeconfig=frcKubeconfig (its lines then name YOURS); repeat it for each "
                             "name")
    parser.add_argument("--kubeconfig", metavar="FILE", type=named("a file name"),
                        help="kubeconfig file (default: the stack's kubeconfig output)")
    parser.add_argument("--gpu-operator-namespace", type=namespace, default="gpu-operator", metavar="NAMESPACE",
                        help="namespace of the GPU Operator (llm-d)")
    parser.add_argument("--prefill-decode", action="store_true",
                        help="for a stack deployed before its outputs said so (llmdPrefillDecode): llm-d runs "
                             "prefill/decode (llmd.prefillDecode): check rdma/ib, the Network Operator, containerd 2 "
                             "and the prefill and decode Deployments")
    parser.add_argument("--api-key", help="bearer key of the stack's API gate (default: $LLM_API_KEY, never "
                                          "printed; whitespace around it is dropped)")
    parser.add_argument("--llmd-api-key", help=f"bearer key of llm-d's gate (default: ${LLMD_KEY_ENV}, else the "
                                               f"--api-key when llm-d is the only part checked or both gates read the "
                                               f"same Key Vault secret)")
    parser.add_argument("--timeout", type=positive, default=120.0, metavar="SECONDS",
                        help="deadline of the smoke request (a cold replica may take minutes)")
    parser.add_argument("--kube-timeout", type=number_in("seconds", 0, MAX_KUBE_TIMEOUT_S, above=True), default=15.0,
                        metavar="SECONDS", help="deadline of each Kubernetes API call")
    args = parser.parse_args(argv)  # bad usage exits 2 with argparse's message
    api_key_given(parser, args)  # as llm-smoke's and llm-bench's: a key that cannot be sent is bad usage
    api_key_given(parser, args, "llmd_api_key", LLMD_KEY_ENV)
    if not args.stack and not args.outputs:
        parser.error("give --stack NAME or --outputs FILE")
    if args.stack and args.outputs:
        parser.error(f"give --stack {args.stack} or --outputs {args.outputs}, not both")
    for flag, path in (("--outputs", args.outputs), ("--kubeconfig", args.kubeconfig)):
        problem = path and file_problem(path)
        if problem:  # a mistyped path is bad usage, as llm-bench --compare's
            parser.error(f"{flag} {path}: {problem}")
    try:
        outputs = mapped(load_outputs(args), args.output_name or [], parser)
        parts = parts_of(outputs)
        if "llmd" not in parts and args.prefill_decode:
            parser.error(f"--prefill-decode is for an llm-d stack: these outputs name no llm-d "
                         f"({llmd_names(outputs)})")
        ollama = verify_ollama.target_from_outputs(outputs) if "ollama" in parts else None
        llmd = None
        if "llmd" in parts:
            pd = prefill_decode_of(outputs, args.prefill_decode)
            if pd is None:
                parser.error(f"--prefill-decode: the stack output {shown(outputs, 'llmdPrefillDecode')} is false, "
                             f"this stack's llm-d runs no prefill/decode (the outputs say it: the flag is only for a "
                             f"stack deployed before that output existed)")
            llmd = target_from_outputs(outputs, args.gpu_operator_namespace, pd)
        # kube_client reads it: a value that is not YAML text, or none, is named here as the stack names it
        if not args.kubeconfig and not secret_text(outputs, "kubeconfig", "the cluster's kubeconfig YAML"):
            raise EndpointError(f"no kubeconfig: the stack output {shown(outputs, 'kubeconfig')} is missing or "
                                f"empty; pass --kubeconfig")
        cluster = Cluster(kube_client(args.kubeconfig, outputs), args.kube_timeout)
    except (EndpointError, ClusterError) as error:
        print(f"FAIL  reach          {error}")
        return 1
    checks: list[Check] = []

    def line(check: Check) -> None:  # each check's line as it ends: a Ctrl-C keeps those made
        print_checks([check], 14)
    if ollama:
        print(verify_ollama.describe(ollama), flush=True)
        checks += verify_ollama.run(cluster, ollama, args.api_key, args.timeout, line)
    if llmd:
        one_key = not ollama or outputs.get("apiKeySecret") == outputs.get("llmdApiKeySecret")
        print(f"verify of llm-d in namespace {llmd.namespace} (pool {llmd.pool}"
              f"{', prefill/decode' if llmd.prefill_decode else ''})", flush=True)
        checks += run(cluster, llmd, args.llmd_api_key or (args.api_key if one_key else None), args.timeout,
                      KEY_OPTION if one_key else ("--llmd-api-key", LLMD_KEY_ENV), line)
    return result(checks)


def cli() -> None:
    """The `llm-verify` command (console script): `python -m endpoint_tools.verify`; `| head -2` ends it quietly."""
    run_cli(main)


if __name__ == "__main__":
    cli()
