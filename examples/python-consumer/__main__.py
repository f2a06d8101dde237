"""A team's own platform: an AKS cluster, a spot GPU pool, a model store and Ollama behind an API key."""
import pulumi
from llmplatform import AksCluster, AppNamespace, GpuNodePool, InferenceStack, KeyVault, ModelStore

import config
from components import pool

aks = AksCluster("aks", {
    "cluster_name": f"aks-{config.NAME}", "resource_group_name": f"rg-{config.NAME}", "location": config.REGION,
    "network": config.NETWORK, "system_pool": pool("system", "Standard_D2s_v5", 1, 2),
    "workload_pool": pool("cpu", "Standard_D4s_v5", 1, 3),
})
in_cluster = pulumi.ResourceOptions(providers=[aks.provider])
gpu = GpuNodePool("gpu", {"cluster": aks.cluster, "vm_size": "Standard_NC4as_T4_v3", "max_count": 2}, in_cluster)
app = AppNamespace("app", {"namespace": "llm"}, in_cluster)
store = ModelStore("models", {"cluster": aks.cluster, "account_name": "stteamamodels", "namespace": app.namespace,
                              "models": ["qwen2.5:0.5b"]}, in_cluster)
vault = KeyVault("vault", {"cluster": aks.cluster, "vault_name": "kv-team-a-llm"})
llm = InferenceStack("llm", {"cluster": aks.cluster, "key_vault": vault.vault, "model_volume": store.volume,
                             "gpu": gpu.scheduling, "accelerator": "gpu"}, in_cluster)
pulumi.export("kubeconfig", aks.kubeconfig)
pulumi.export("apiKeySecret", llm.api_key_secret)
