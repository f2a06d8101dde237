"""The platform's configuration as one frozen, typed object: the top-level keys and every section's dataclass.

The sections' dataclasses are in config/sections/ (the edge section's in config/regions.py); their field defaults are
the defaults of the structured config sections (docs/configuration.md lists them); scalar top-level keys get theirs
from Pulumi.yaml. Components never read stack config: __main__ hands them these.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from llmplatform.defaults import DEFAULTS
from llmplatform.gpu_skus import find_gpu_sku
from llmplatform.inference_specs import answer_drains, gpu_nodes_drained_at_once, interceptor_grace_seconds
from llmplatform.kube import vllm_startup_probe
from llmplatform.llmd_specs import VLLM_GRACE_SECONDS, weights_gib as llmd_weights_gib
from llmplatform.pins import VLLM_IMAGE
from llmplatform.upgrades import longest_drain_minutes, pull_allowance_seconds, ready_bound_seconds

from .regions import EdgeConfig
from .sections.autoscaling import AutoscalingConfig
from .sections.cluster import ClusterConfig
from .sections.cost import CostConfig
from .sections.gateway import GatewayConfig
from .sections.gpu import GpuConfig
from .sections.inference import InferenceConfig
from .sections.key_vault import KeyVaultConfig
from .sections.llmd import LlmdConfig, vllm_pods_per_node
from .sections.model_store import ModelStoreConfig
from .sections.network import NetworkConfig
from .sections.observability import ObservabilityConfig
from .sections.postgres import PostgresConfig
from .sections.security import SecurityConfig
from .sections.webui import WebUiConfig


@dataclass(frozen=True)
class PlatformConfig:
    project: str
    stack: str
    environment: str
    prefix: str
    location: str
    resource_group_name: Optional[str]
    namespace: str
    protect: bool
    # storage account, Key Vault and PostgreSQL server names without the subscription in their hash (stacks deployed
    # before it counted keep theirs: config/resource_names.py `_scope`)
    legacy_global_names: bool = False
    network: NetworkConfig = field(default_factory=NetworkConfig)
    cluster: ClusterConfig = field(default_factory=ClusterConfig)
    gpu: GpuConfig = field(default_factory=GpuConfig)
    model_store: ModelStoreConfig = field(default_factory=ModelStoreConfig)
    inference: InferenceConfig = field(default_factory=InferenceConfig)
    webui: WebUiConfig = field(default_factory=WebUiConfig)
    postgres: PostgresConfig = field(default_factory=PostgresConfig)
    key_vault: KeyVaultConfig = field(default_factory=KeyVaultConfig)
    gateway: GatewayConfig = field(default_factory=GatewayConfig)
    llmd: LlmdConfig = field(default_factory=LlmdConfig)
    security: SecurityConfig = field(default_factory=SecurityConfig)
    cost: CostConfig = field(default_factory=CostConfig)
    observability: ObservabilityConfig = field(default_factory=ObservabilityConfig)
    autoscaling: AutoscalingConfig = field(default_factory=AutoscalingConfig)
    edge: EdgeConfig = field(default_factory=EdgeConfig)

    @property
    def runs_keda(self) -> bool:
        """Whether the stack installs KEDA (and its HTTP add-on, whose interceptor holds a request through a cold
        start)."""
        return self.autoscaling.mode == "requests" or (self.llmd.enabled and self.llmd.autoscaling)

    @property
    def keda_cold_start_seconds(self) -> int:
        """The cold start a request is held through (the KEDA interceptor's), 0 without KEDA."""
        return self.autoscaling.cold_start_timeout_seconds if self.runs_keda else 0

    @property
    def most_ollama_replicas(self) -> int:
        """The most Ollama replicas the stack runs: inference.replicas, or its autoscaler's maximum where one runs."""
        return max(self.inference.replicas,
                   self.autoscaling.max_replicas if self.autoscaling.mode != "none" else 0)

    @property
    def longest_grace_seconds(self) -> int:
        """The longest terminationGracePeriodSeconds of the stack's pods: an answer's wait (the cold start counted
        behind KEDA, as the interceptor's grace counts it) and the shutdown margin, as the router, Ollama, Open-WebUI
        and the interceptor take."""
        return interceptor_grace_seconds(self.gateway.request_timeout_seconds, self.keda_cold_start_seconds)

    @property
    def drain_timeout_minutes(self) -> int:
        """What the cluster's drains wait for a node's pods (AksCluster drain_timeout_minutes): the longest grace, and
        the pods of one workload that may share a node, each next one evicted once the previous one's replacement is
        Ready (the gates' nginx pods, ApiGate's and LlmdStack's two each; Open-WebUI's webui.maxReplicas).
        docs/decisions.md, "Node drains wait for the longest answer", "Node drains with replicas that share a node"."""
        return longest_drain_minutes(drain for _, drain in self.node_drains)

    @property
    def node_drains(self) -> list[tuple[str, tuple[int, int, int]]]:
        """Each workload's node drain (grace, pods that may share a node, a replacement's time to Ready), named by the
        stack keys that set it, in answer_drains' order then vLLM's."""
        cold_start = self.keda_cold_start_seconds
        ui = self.webui.max_replicas if self.webui.enabled else None
        drains = answer_drains(self.gateway.request_timeout_seconds, cold_start, DEFAULTS["ApiGate"]["replicas"], ui,
                               self.ollama_sharing)
        wait = "gateway.requestTimeoutSeconds" + (" + autoscaling.coldStartTimeoutSeconds" if cold_start else "")
        names = [f"the KEDA interceptor ({wait})", f"the gate's nginx pods ({wait})",
                 "Ollama (gateway.requestTimeoutSeconds; its replicas on the nodes drained at once: inference.replicas, "
                 "autoscaling.maxReplicas, gpu.upgradeMaxSurge)",
                 f"Open-WebUI ({wait}; webui.maxReplicas)"]
        vllm = "vLLM (llmd.model's download; llmd.replicas, llmd.maxReplicas, gpu.upgradeMaxSurge)"
        return list(zip(names, drains)) + [(vllm, d) for d in self.vllm_drains]

    @property
    def vllm_drains(self) -> list[tuple[int, int, int]]:
        """llm-d's vLLM pods on a node (config.sections.llmd.vllm_pods_per_node), each replacement downloading the
        model again into its own cache (its startup probe's bound: kube.vllm_startup_probe)."""
        sku = find_gpu_sku(self.gpu.vm_size) if self.llmd.enabled and self.gpu.enabled else None
        if sku is None:
            return []
        start = vllm_startup_probe(llmd_weights_gib(self.llmd.model, self.llmd.model_memory_gib) or 0.0)
        ready = ready_bound_seconds(start, {"periodSeconds": 10}, pull_allowance_seconds([VLLM_IMAGE]))
        m = self.llmd
        pods = (m.max_replicas if m.autoscaling else m.replicas) + (m.prefill_replicas if m.prefill_decode else 0)
        sharing = min(pods, vllm_pods_per_node(m, sku.gpus) * self.gpu_nodes_drained_at_once)
        return [(VLLM_GRACE_SECONDS, sharing, ready)]

    @property
    def gpu_nodes_drained_at_once(self) -> int:
        """The most GPU nodes an upgrade drains at once (upgrades.nodes_drained_at_once of the on-demand pools: one
        in place, as many as gpu.upgradeMaxSurge adds): the replicas they hold share their budgets."""
        g = self.gpu
        pools = ([g.max_count] if g.priority == "regular" else []) + ([g.fallback.max_count] if g.fallback.enabled
                                                                      else [])
        return gpu_nodes_drained_at_once(pools, g.upgrade_max_surge)

    @property
    def ollama_sharing(self) -> int:
        """The most Ollama replicas the nodes an upgrade drains at once may hold: all of them on the CPU pool, on a
        GPU pool as many as those nodes' GPUs take."""
        inf, most = self.inference, self.most_ollama_replicas
        sku = find_gpu_sku(self.gpu.vm_size) if inf.accelerator == "gpu" and self.gpu.enabled else None
        if sku is None:
            return most
        return min(most, sku.gpus // max(1, inf.gpus_per_replica) * self.gpu_nodes_drained_at_once)

    @property
    def tags(self) -> dict[str, str]:
        return {"project": self.project, "environment": self.environment, "managed-by": "pulumi"}
