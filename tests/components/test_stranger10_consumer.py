"""What a stranger composing an InferenceStack with its Open-WebUI in a namespace of its own, an OpenWebUi on an
LlmdStack and a pod of their own calling the gate met (round ten, 2026-12-07), through the package's testing kit as
the README tells a consumer (docs/decisions.md, "A stranger composes the package, round ten")."""
from typing import Any

import pulumi
import pytest

from llmplatform import (AksCluster, AppNamespace, ComponentInputError, GpuNodePool, InferenceStack, KeyVault,
                         ModelStore, OpenWebUi, PostgresServer)
from llmplatform.testing import run

NETWORK: Any = {"vnet_cidr": "10.60.0.0/16", "node_subnet_cidr": "10.60.0.0/20",
                "endpoints_subnet_cidr": "10.60.16.0/24", "postgres_subnet_cidr": "10.60.17.0/24",
                "pod_cidr": "192.168.0.0/16", "service_cidr": "172.16.0.0/16", "dns_service_ip": "172.16.0.10"}


def cluster() -> tuple[AksCluster, pulumi.ResourceOptions]:
    """The team's cluster and the options of what runs in it."""
    aks = AksCluster("aks", {
        "cluster_name": "aks-ui-team", "resource_group_name": "rg-ui-team", "location": "northeurope",
        "network": NETWORK,
        "system_pool": {"name": "system", "vm_size": "Standard_D2s_v5", "min_count": 1, "max_count": 2},
        "workload_pool": {"name": "cpu", "vm_size": "Standard_D4s_v5", "min_count": 1, "max_count": 3}})
    return aks, pulumi.ResourceOptions(providers=[aks.provider])


def ui_in_its_own_namespace() -> None:
    """InferenceStack without its own UI, admitting namespace `ui`; an OpenWebUi there on the stack's gate."""
    aks, in_cluster = cluster()
    gpu = GpuNodePool("gpu", {"cluster": aks.cluster, "vm_size": "Standard_NC4as_T4_v3"}, in_cluster)
    app = AppNamespace("app", {"namespace": "llm"}, in_cluster)
    ui_namespace = AppNamespace("ui", {"namespace": "ui"}, in_cluster)
    store = ModelStore("models", {"cluster": aks.cluster, "account_name": "stuiteammodels",
                                  "namespace": app.namespace, "models": ["qwen2.5:0.5b"]}, in_cluster)
    vault = KeyVault("vault", {"cluster": aks.cluster, "vault_name": "kv-ui-team-llm"})
    database = PostgresServer("pg", {"cluster": aks.cluster, "key_vault": vault.vault, "server_name": "pg-ui-team",
                                     "sku_name": "Standard_B2s"})
    llm = InferenceStack("llm", {"cluster": aks.cluster, "key_vault": vault.vault, "model_volume": store.volume,
                                 "gpu": gpu.scheduling, "accelerator": "gpu", "api_client_namespaces": ["ui"]},
                         in_cluster)
    OpenWebUi("ui", {"cluster": aks.cluster, "key_vault": vault.vault, "endpoint": llm.endpoint,
                     "namespace": ui_namespace.namespace, "database_url_secret": database.database_url_secret,
                     "admin_database_url_secret": database.admin_database_url_secret,
                     "database_name": database.database, "database_sku_name": "Standard_B2s"}, in_cluster)


def test_an_inference_stacks_gate_endpoint_serves_an_open_webui_in_another_namespace() -> None:
    """Before: InferenceStack handed out no gate endpoint (`router_service` is a URL, OpenWebUi takes a
    ModelEndpoint): `llm.endpoint` was an AttributeError, and the page's "Open-WebUI in another namespace" could be
    followed only by composing OllamaServer, ApiGate and OpenWebUi by hand."""
    plan = run(ui_in_its_own_namespace)
    ui = [r.inputs for r in plan.of_type("kubernetes:apps/v1:Deployment")
          if r.inputs["metadata"].get("namespace") == "ui" and r.inputs["metadata"].get("name") == "open-webui"]
    assert len(ui) == 1
    env = {e["name"]: e.get("value") for e in ui[0]["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["OLLAMA_BASE_URL"] == "http://router.llm.svc:8080"
    assert not [r for r in plan.of_type("kubernetes:apps/v1:Deployment")
                if r.inputs["metadata"].get("namespace") == "llm" and r.inputs["metadata"].get("name") == "open-webui"]


# ---- a compute size written as Terraform writes it ----------------------------------------------------------------
@pytest.mark.parametrize("component, key, size", [
    ("PostgresServer", "sku_name", "B_Standard_B2s"), ("PostgresServer", "sku_name", "GP_Standard_D2s_v3"),
    ("OpenWebUi", "database_sku_name", "B_Standard_B2s"),
    ("InferenceStack", "database_sku_name", "mo_Standard_E2s_v3")])
def test_a_terraform_tier_prefixed_size_names_the_size_it_means(component: str, key: str, size: str) -> None:
    """Before: the shapes of the three tiers, nothing about the `B_`/`GP_`/`MO_` prefix a Terraform user types
    (azurerm_postgresql_flexible_server's `sku_name`, e.g. GP_Standard_D4s_v3), which Azure's `sku.name` lacks."""
    def program() -> None:
        aks, in_cluster = cluster()
        app = AppNamespace("app", {"namespace": "llm"}, in_cluster)
        store = ModelStore("models", {"cluster": aks.cluster, "account_name": "stuiteammodels",
                                      "namespace": app.namespace}, in_cluster)
        vault = KeyVault("vault", {"cluster": aks.cluster, "vault_name": "kv-ui-team-llm"})
        if component == "PostgresServer":
            PostgresServer("pg", {"cluster": aks.cluster, "key_vault": vault.vault, "server_name": "pg-ui-team",
                                  "sku_name": size})
            return
        stack_args: Any = {"cluster": aks.cluster, "key_vault": vault.vault, "model_volume": store.volume,
                           "api_client_namespaces": ["ui"]}
        if component == "InferenceStack":
            stack_args |= {"database_url_secret": "pg-database-url", "database_sku_name": size}
        llm = InferenceStack("llm", stack_args, in_cluster)
        if component == "OpenWebUi":
            OpenWebUi("ui", {"cluster": aks.cluster, "key_vault": vault.vault, "endpoint": llm.endpoint,
                             "namespace": "ui", "database_url_secret": "pg-database-url",
                             "database_sku_name": size}, in_cluster)
    with pytest.raises(ComponentInputError) as error:
        run(program)
    message = str(error.value)
    assert f"{key}={size!r} is invalid" in message
    assert f"the size without Terraform's tier prefix, {size.split('_', 1)[1]}" in message
