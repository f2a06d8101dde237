"""Post-deploy check of a real cluster running the llmd stack.

`llm-verify --stack llmd` (or `python -m endpoint_tools.verify --stack llmd`).

Reads the stack's outputs (the Pulumi CLI's `pulumi stack output --json --show-secrets`, or a file of them with
--outputs) and asks the cluster through the official Kubernetes client, with the stack's kubeconfig output (or
--kubeconfig): GPUs allocatable on the GPU nodes, the GPU Operator's pods ready, every Gateway programmed with an
address, the InferencePool accepted with ready endpoints, vLLM and the endpoint picker ready, then a smoke request
through the API gate (key from $LLM_API_KEY); with --prefill-decode also `rdma/ib` allocatable on the GPU nodes,
the Network Operator's pods ready, containerd 2 (NRI) on the GPU nodes, and the prefill and decode Deployments
instead of the single vLLM one. One PASS/FAIL line per check. Exit codes, as the smoke tool's: 0 all
passed, 1 a check failed or the cluster could not be reached, 2 bad usage. Never a traceback.
"""
import argparse
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional

import requests
import yaml

from .endpoint import EndpointError, stack_outputs, url_problem
from .llm_api import ApiError, Deadlines, LlmClient
from .smoke import Check, named, namespace, new_parser, positive, report, run_checks, run_cli, stack_name

GPU = "nvidia.com/gpu"
RDMA = "rdma/ib"  # the Network Operator's RDMA shared device plugin (LlmdStack's NicClusterPolicy)
GATEWAY_API = ("gateway.networking.k8s.io", "v1", "gateways")
INFERENCE_POOL_API = ("inference.networking.k8s.io", "v1", "inferencepools")


class ClusterError(Exception):
    """The cluster could not be asked (connection, TLS, credentials): one line, never a traceback."""


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


def target_from_outputs(outputs: dict[str, Any], operator_namespace: str = "gpu-operator",
                        prefill_decode: bool = False) -> Target:
    missing = [key for key in ("llmdNamespace", "llmdInferencePool") if not outputs.get(key)]
    if missing:
        raise EndpointError(f"stack output(s) {', '.join(missing)} missing: is llm-d enabled in this stack? "
                            f"outputs: {', '.join(sorted(outputs)) or 'none'}")
    return Target(namespace=outputs["llmdNamespace"], pool=outputs["llmdInferencePool"],
                  gpu_selector=dict(outputs.get("gpuNodeSelector") or {}), url=outputs.get("llmdUrl"),
                  model=outputs.get("llmdModel"), operator_namespace=operator_namespace,
                  prefill_decode=prefill_decode)


def selector_text(labels: dict[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items()))


def pod_ready(pod: Any) -> bool:
    if pod.status is None:
        return False
    if pod.status.phase == "Succeeded":  # the operator's validation jobs end this way
        return True
    return pod.status.phase == "Running" and any(
        c.type == "Ready" and c.status == "True" for c in (pod.status.conditions or []))


def condition(conditions: Optional[list[dict[str, Any]]], kind: str) -> Optional[dict[str, Any]]:
    return next((c for c in conditions or [] if c.get("type") == kind), None)


class Cluster:
    """The Kubernetes API through the official client; every failure to ask becomes a ClusterError."""

    def __init__(self, api_client: Any, timeout_s: float):
        from kubernetes import client
        self.core, self.apps = client.CoreV1Api(api_client), client.AppsV1Api(api_client)
        self.custom = client.CustomObjectsApi(api_client)
        self.timeout = timeout_s

    def call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        from kubernetes.client.exceptions import ApiException
        from urllib3.exceptions import HTTPError
        try:
            return fn(*args, _request_timeout=self.timeout, **kwargs)
        except ApiException as error:
            if error.status == 404:
                return None
            reason = (error.reason or "").strip()
            raise ClusterError(f"the API server answered {error.status} {reason}".rstrip()) from None
        except (HTTPError, OSError) as error:
            raise ClusterError(f"cannot reach the API server: {type(error).__name__}: {str(error)[:160]}") from None


def allocatable_on_gpu_nodes(cluster: Cluster, target: Target, name: str, resource: str, none: str,
                             not_ready: str, offered: str) -> Check:
    """Every node of the GPU selector offers at least one `resource`."""
    nodes = cluster.call(cluster.core.list_node, label_selector=selector_text(target.gpu_selector)).items
    if not nodes:
        return Check(name, False, none)
    counts = {n.metadata.name: int((n.status.allocatable or {}).get(resource, "0")) for n in nodes}
    without = sorted(node for node, count in counts.items() if count < 1)
    if without:
        return Check(name, False, f"no allocatable {resource} on {', '.join(without)} ({not_ready})")
    return Check(name, True, offered.format(total=sum(counts.values()), nodes=len(counts)))


def check_gpus(cluster: Cluster, target: Target) -> Check:
    return allocatable_on_gpu_nodes(
        cluster, target, "gpus", GPU,
        f"no node matches {selector_text(target.gpu_selector) or 'the GPU selector'} (a GPU pool at zero has none "
        f"until a replica asks for one)", "driver or device plugin not ready",
        "{total} GPU(s) allocatable on {nodes} node(s)")


def check_rdma(cluster: Cluster, target: Target) -> Check:
    """P/D: every GPU node offers `rdma/ib` (DOCA-OFED loaded, the RDMA shared device plugin running)."""
    return allocatable_on_gpu_nodes(cluster, target, "rdma", RDMA, "no GPU node to offer rdma/ib",
                                    "Network Operator's DOCA driver or RDMA device plugin not ready",
                                    f"{RDMA} allocatable on {{nodes}} node(s)")


def check_containerd(cluster: Cluster, target: Target) -> Check:
    """P/D: the memlock plugin needs NRI, on by default from containerd 2.0."""
    nodes = cluster.call(cluster.core.list_node, label_selector=selector_text(target.gpu_selector)).items
    runtimes = {n.metadata.name: ((n.status.node_info.container_runtime_version if n.status.node_info else None)
                                  or "unknown") for n in nodes}
    old = sorted(f"{name} ({runtime})" for name, runtime in runtimes.items()
                 if not runtime.startswith("containerd://2."))
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


def check_gateways(cluster: Cluster, target: Target) -> Check:
    found = cluster.call(cluster.custom.list_cluster_custom_object, *GATEWAY_API)
    gateways = (found or {}).get("items") or []
    if not any(g["metadata"]["namespace"] == target.namespace for g in gateways):
        return Check("gateways", False, f"no Gateway in {target.namespace} (the pool gateway)")
    bad = []
    for g in gateways:
        name = f"{g['metadata']['namespace']}/{g['metadata']['name']}"
        programmed = condition((g.get("status") or {}).get("conditions"), "Programmed")
        if not programmed or programmed.get("status") != "True":
            bad.append(f"{name} not programmed ({(programmed or {}).get('reason', 'no status yet')})")
        elif not (g.get("status") or {}).get("addresses"):
            bad.append(f"{name} has no address")
    if bad:
        return Check("gateways", False, "; ".join(bad))
    return Check("gateways", True, f"{len(gateways)} programmed, each with an address")


def check_pool(cluster: Cluster, target: Target) -> Check:
    pool = cluster.call(cluster.custom.get_namespaced_custom_object, *INFERENCE_POOL_API[:2], target.namespace,
                        INFERENCE_POOL_API[2], target.pool)
    if pool is None:
        return Check("inference-pool", False, f"InferencePool {target.namespace}/{target.pool} not found")
    # each gateway that uses the pool reports on it under status.parents (InferencePool v1)
    parents = (pool.get("status") or {}).get("parents") or []
    verdicts = [condition(p.get("conditions"), "Accepted") or {} for p in parents]
    accepted = [v for v in verdicts if v.get("status") == "True"]
    if not accepted:
        reasons = [v.get("reason", "no Accepted condition") for v in verdicts]
        return Check("inference-pool", False, f"not accepted by a gateway ({', '.join(reasons) or 'no parents'})")
    labels = ((pool.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
    pods = cluster.call(cluster.core.list_namespaced_pod, target.namespace, label_selector=selector_text(labels))
    ready = [p for p in pods.items if pod_ready(p)]
    if not ready:
        return Check("inference-pool", False, f"accepted, but no ready endpoint ({len(pods.items)} pod(s) match)")
    return Check("inference-pool", True, f"accepted by {len(accepted)} gateway(s), {len(ready)} ready endpoint(s)")


def check_deployment(cluster: Cluster, target: Target, check: str, name: str) -> Check:
    found = cluster.call(cluster.apps.read_namespaced_deployment, name, target.namespace)
    if found is None:
        return Check(check, False, f"Deployment {target.namespace}/{name} not found")
    ready, wanted = found.status.ready_replicas or 0, found.spec.replicas or 0
    if ready < 1:
        return Check(check, False, f"0 of {wanted} replica(s) ready")
    return Check(check, True, f"{ready} of {wanted} replica(s) ready")


def check_smoke(target: Target, api_key: Optional[str], timeout_s: float) -> Check:
    if not target.url:
        return Check("smoke", False, "stack output llmdUrl is empty")
    problem = url_problem(target.url)
    if problem:
        return Check("smoke", False, f"stack output llmdUrl: {problem}")
    if not api_key:
        return Check("smoke", False, "no API key: set LLM_API_KEY (the Key Vault secret named by llmdApiKeySecret)")
    client = LlmClient(target.url, "openai", api_key, Deadlines(timeout_s), requests.Session())
    checks = run_checks(client, target.model, 16, auth=True, burst=0)
    failed = [c for c in checks if not c.ok]
    detail = "; ".join(f"{c.name}: {c.detail}" for c in (failed or checks))
    return Check("smoke", not failed, f"{target.url}: {detail}")


def run(cluster: Cluster, target: Target, api_key: Optional[str], smoke_timeout_s: float) -> list[Check]:
    checks: list[Check] = []
    pd = target.prefill_decode
    steps: list[tuple[str, Callable[[], Check]]] = [
        ("gpus", lambda: check_gpus(cluster, target)),
        *([("rdma", lambda: check_rdma(cluster, target)),
           ("containerd", lambda: check_containerd(cluster, target))] if pd else []),
        ("gpu-operator", lambda: check_operator(cluster, target)),
        *([("network-operator", lambda: check_operator(cluster, target, "network-operator",
                                                       target.network_operator_namespace))] if pd else []),
        ("gateways", lambda: check_gateways(cluster, target)),
        ("inference-pool", lambda: check_pool(cluster, target)),
        *([(name, lambda name=name: check_deployment(cluster, target, name, name))
           for name in (("vllm-prefill", "vllm-decode") if pd else ("vllm",))]),
        ("epp", lambda: check_deployment(cluster, target, "epp", f"{target.pool}-epp")),
    ]
    for name, step in steps:
        try:
            checks.append(step())
        except ClusterError as error:
            checks.append(Check(name, False, str(error)))
    try:
        checks.append(check_smoke(target, api_key, smoke_timeout_s))
    except ApiError as error:
        checks.append(Check("smoke", False, f"[{error.kind}] {error}"))
    return checks


def kube_client(kubeconfig: Optional[str], outputs: dict[str, Any]) -> Any:
    """An ApiClient from --kubeconfig, else the stack's kubeconfig output."""
    from kubernetes import config
    from kubernetes.config.config_exception import ConfigException
    try:
        if kubeconfig:
            return config.new_client_from_config(config_file=kubeconfig)
        text = outputs.get("kubeconfig")
        if not text:
            raise ClusterError("no kubeconfig: the stack has no kubeconfig output; pass --kubeconfig")
        return config.new_client_from_config_dict(yaml.safe_load(text))
    except (ConfigException, OSError, yaml.YAMLError, TypeError, ValueError) as error:
        raise ClusterError(f"the kubeconfig is not usable: {str(error)[:200]}") from None


def load_outputs(args: argparse.Namespace) -> dict[str, Any]:
    if args.outputs:
        try:
            outputs = json.loads(Path(args.outputs).read_text())
        except (OSError, ValueError) as error:
            raise EndpointError(f"cannot read outputs from {args.outputs}: {error}") from None
        if not isinstance(outputs, dict):
            raise EndpointError(f"{args.outputs} is not a JSON object of stack outputs")
        return outputs
    return stack_outputs(args.stack, secrets=True,
                         instead="--outputs FILE (what `pulumi stack output --json --show-secrets` prints)")


def main(argv: Optional[list[str]] = None) -> int:
    parser = new_parser("llm-verify", "endpoint_tools.verify", __doc__)
    parser.add_argument("--stack", type=stack_name, help="Pulumi stack whose outputs name what to check (e.g. llmd)")
    parser.add_argument("--outputs", metavar="FILE", type=named("a file name"),
                        help="a JSON file of the stack's outputs (`pulumi stack output --json --show-secrets`) "
                             "instead of asking the Pulumi CLI")
    parser.add_argument("--kubeconfig", metavar="FILE", type=named("a file name"),
                        help="kubeconfig file (default: the stack's kubeconfig output)")
    parser.add_argument("--gpu-operator-namespace", type=namespace, default="gpu-operator", metavar="NAMESPACE",
                        help="namespace of the GPU Operator")
    parser.add_argument("--prefill-decode", action="store_true",
                        help="the stack runs llm-d's prefill/decode disaggregation (llmd.prefillDecode): check "
                             "rdma/ib, the Network Operator, containerd 2 and the prefill and decode Deployments")
    parser.add_argument("--api-key", default=os.environ.get("LLM_API_KEY"),
                        help="bearer key of the llm-d API (default: $LLM_API_KEY, never printed)")
    parser.add_argument("--timeout", type=positive, default=120.0, metavar="SECONDS",
                        help="deadline of the smoke request (a cold replica may take minutes)")
    parser.add_argument("--kube-timeout", type=positive, default=15.0, metavar="SECONDS",
                        help="deadline of each Kubernetes API call")
    args = parser.parse_args(argv)  # bad usage exits 2 with argparse's message
    if not args.stack and not args.outputs:
        parser.error("give --stack NAME or --outputs FILE")
    if args.stack and args.outputs:
        parser.error(f"give --stack {args.stack} or --outputs {args.outputs}, not both")
    if args.outputs and not Path(args.outputs).is_file():  # a mistyped path is bad usage, as llm-bench --compare's
        parser.error(f"--outputs {args.outputs}: no such file")
    try:
        outputs = load_outputs(args)
        target = target_from_outputs(outputs, args.gpu_operator_namespace, args.prefill_decode)
        cluster = Cluster(kube_client(args.kubeconfig, outputs), args.kube_timeout)
    except (EndpointError, ClusterError) as error:
        print(f"FAIL  reach          {error}")
        return 1
    print(f"verify of llm-d in namespace {target.namespace} (pool {target.pool})")
    checks = run(cluster, target, args.api_key, args.timeout)
    return report(checks, 14)


def cli() -> None:
    """The `llm-verify` command (console script): `python -m endpoint_tools.verify`."""
    run_cli(main)


if __name__ == "__main__":
    cli()
