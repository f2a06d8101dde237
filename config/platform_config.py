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
from llmplatform.inference_specs import answer_drains, gpu_nodes_drained_at_once
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
from .sections.llmd import LlmdConfig
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
    def drain_timeout_minutes(self) -> int:
        """What the cluster's drains wait for a node's pods (AksCluster drain_timeout_minutes): the longest grace, and
        the pods of one workload that may share a node, each next one evicted once the previous one's replacement is
        Ready (the gates' nginx pods, ApiGate's and LlmdStack's two each; Open-WebUI's webui.maxReplicas). Its
        minutes are also the autoscaler's max-graceful-termination-sec (AksCluster), so every pod's grace counts,
        spot or not. docs/decisions.md, "Node drains wait for the longest answer", "Node drains with replicas that
        share a node", "Spot pools' pods in the stack's drain"."""
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
        return list(zip(names, drains)) + list(zip((name for name, _, _ in self._vllm_kinds), self.vllm_drains))

    @property
    def _vllm_kinds(self) -> list[tuple[str, int, int]]:
        """llm-d's vLLM Deployments, each under a disruption budget of its own (kube.disruption_budget selects one
        Deployment's pods by name): its name and stack keys, its most replicas and the GPUs each takes."""
        m = self.llmd
        keys = "llmd.model's download; {}, gpu.upgradeMaxSurge"
        kinds = [("vLLM (" + keys.format("llmd.replicas, llmd.maxReplicas, llmd.tensorParallelSize") + ")",
                  m.max_replicas if m.autoscaling else m.replicas, m.tensor_parallel_size)]
        if m.prefill_decode:
            kinds.append(("vLLM's prefill pods (" + keys.format("llmd.prefillReplicas, llmd.prefillTensorParallelSize")
                          + ")", m.prefill_replicas, m.prefill_tensor_parallel_size))
        return kinds

    @property
    def vllm_drains(self) -> list[tuple[int, int, int]]:
        """llm-d's vLLM pods on the GPU nodes an upgrade drains at once, per Deployment (decode, and prefill under
        P/D: two budgets, so a node's decode and prefill pods are evicted side by side), as many as those nodes' GPUs
        take, each replacement downloading the model again into its own cache (its startup probe's bound:
        kube.vllm_startup_probe). On a spot pool without an on-demand fallback their grace alone: AKS upgrades a spot
        pool with "a cordon and an eviction notice, but no drain" and the autoscaler's scale-down waits no
        replacement (it gives up on a node a budget holds), so no drain there waits for one pod after another
        (docs/decisions.md, "Spot pools' pods in the stack's drain"); LlmdStack's own rule judges their grace alone
        too."""
        sku = find_gpu_sku(self.gpu.vm_size) if self.llmd.enabled and self.gpu.enabled else None
        if sku is None:
            return []
        if not self.gpu_drained_pools:
            return [(VLLM_GRACE_SECONDS, 1, 0) for _ in self._vllm_kinds]
        start = vllm_startup_probe(llmd_weights_gib(self.llmd.model, self.llmd.model_memory_gib) or 0.0)
        ready = ready_bound_seconds(start, {"periodSeconds": 10}, pull_allowance_seconds([VLLM_IMAGE]))
        at_once = self.gpu_nodes_drained_at_once
        return [(VLLM_GRACE_SECONDS, min(pods, max(1, sku.gpus // max(1, gpus)) * at_once), ready)
                for _, pods, gpus in self._vllm_kinds]

    @property
    def gpu_drained_pools(self) -> list[int]:
        """The most nodes of each GPU pool an upgrade drains: the on-demand ones (`gpu.priority: regular`, or the spot
        pool's fallback); a spot pool gets a cordon and an eviction notice, no drain (llmplatform.upgrades)."""
        g = self.gpu
        return ([g.max_count] if g.priority == "regular" else []) + ([g.fallback.max_count] if g.fallback.enabled
                                                                     else [])

    @property
    def gpu_nodes_drained_at_once(self) -> int:
        """The most GPU nodes an upgrade drains at once (upgrades.nodes_drained_at_once of the on-demand pools: one
        in place, as many as gpu.upgradeMaxSurge adds): the replicas they hold share their budgets."""
        return gpu_nodes_drained_at_once(self.gpu_drained_pools, self.gpu.upgrade_max_surge)

    @property
    def ollama_sharing(self) -> int:
        """The most Ollama replicas the nodes an upgrade drains at once may hold: all of them on the CPU pool, on a
        GPU pool as many as those nodes' GPUs take. Counted on a spot GPU pool too, which no upgrade drains: the
        stack's figure is the cluster handle's, against which OllamaServer's rule counts the GPUs a node holds
        whatever the pool's priority (the GPU handle does not say it is not drained), as the gate's and the UI's rules
        count their replicas on a spot CPU pool."""
        inf, most = self.inference, self.most_ollama_replicas
        sku = find_gpu_sku(self.gpu.vm_size) if inf.accelerator == "gpu" and self.gpu.enabled else None
        if sku is None:
            return most
        return min(most, sku.gpus // max(1, inf.gpus_per_replica) * self.gpu_nodes_drained_at_once)

    @property
    def tags(self) -> dict[str, str]:
        return {"project": self.project, "environment": self.environment, "managed-by": "pulumi"}
