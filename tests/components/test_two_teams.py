"""A stranger's composition, written with the package's testing kit as a consumer would: ONE AKS cluster, two teams'
InferenceStacks (namespaces team-a and team-b), each with its gate and Open-WebUI, both autoscaled through the one
Observability's KEDA, an LlmdStack on a second (A100) GPU pool, all behind the one GatewayAccess. What a real cluster
would do with it that the mocks alone accept is checked here (docs/decisions.md, "Two teams on one cluster")."""
import functools
from typing import Any

import pulumi
import pytest
import llmplatform as P
from llmplatform.testing import ProgramError, run

NETWORK = {"vnet_cidr": "10.0.0.0/16", "node_subnet_cidr": "10.0.0.0/20", "endpoints_subnet_cidr": "10.0.16.0/24",
           "postgres_subnet_cidr": "10.0.17.0/24", "pod_cidr": "192.168.0.0/16", "service_cidr": "172.16.0.0/16",
           "dns_service_ip": "172.16.0.10"}
TEAMS = ("team-a", "team-b")


def pool(name: str, size: str, low: int, high: int) -> dict[str, Any]:
    return {"name": name, "vm_size": size, "min_count": low, "max_count": high}


def two_teams(publish_both: bool = False, watch_both: bool = True) -> None:
    mon = P.AzureMonitoring("mon", {"location": "westeurope", "resource_group_name": "rg-shared",
                                    "name_prefix": "shared", "alert_emails": ["ops@example.com"]})
    aks = P.AksCluster("aks", {"cluster_name": "aks-shared", "resource_group_name": "rg-shared",
                               "location": "westeurope", "network": NETWORK,
                               "system_pool": pool("system", "Standard_D2s_v5", 1, 2),
                               "workload_pool": pool("cpu", "Standard_D4s_v5", 1, 3),
                               "log_analytics_workspace_id": mon.log_analytics_workspace_id})
    on = pulumi.ResourceOptions(providers=[aks.provider])
    gpu = P.GpuNodePool("gpu", {"cluster": aks.cluster, "vm_size": "Standard_NC4as_T4_v3"}, on)
    big = P.GpuNodePool("gpu-big", {"cluster": aks.cluster, "vm_size": "Standard_NC24ads_A100_v4",
                                    "pool_name": "gpubig"}, on)
    vault = P.KeyVault("vault", {"cluster": aks.cluster, "vault_name": "kv-shared-llm"})
    pg = P.PostgresServer("pg", {"cluster": aks.cluster, "key_vault": vault.vault, "server_name": "psql-shared-llm"})
    gw = P.GatewayAccess("gw", {"cluster": aks.cluster, "inference_extension": True}, on)
    obs = P.Observability("obs", {"cluster": aks.cluster, "monitoring": mon.monitoring, "key_vault": vault.vault,
                                  "app_namespace": TEAMS[0], "route_target": gw.route_target, "gpu": gpu.scheduling,
                                  **({"other_app_namespaces": list(TEAMS[1:])} if watch_both else {})}, on)
    for team in TEAMS:
        # one cluster's Gateways take one route per listener and path (the kit refuses the second): team-b's stack
        # stays in-cluster unless publish_both
        published = {"route_target": gw.route_target} if team == TEAMS[0] or publish_both else {}
        ns = P.AppNamespace(team, {"namespace": team, **published}, on)
        store = P.ModelStore(f"{team}-models", {"cluster": aks.cluster, "account_name": f"st{team.replace('-', '')}m",
                                                "namespace": ns.namespace}, on)
        stack = P.InferenceStack(team, {
            "cluster": aks.cluster, "key_vault": vault.vault, "model_volume": store.volume,
            "database_url_secret": pg.database_url_secret, "gpu": gpu.scheduling, "accelerator": "gpu",
            "keda": obs.keda, "autoscaled": True, **published}, on)
        P.ModelAutoscaler(f"{team}-scaler", {"model_server": stack.model_server, "mode": "requests",
                                             "min_replicas": 0, "max_replicas": 2, "keda": obs.keda}, on)
    P.LlmdStack("llmd", {"cluster": aks.cluster, "gpu": big.scheduling, "route_target": gw.route_target,
                         "model": "Qwen/Qwen3-0.6B", "key_vault": vault.vault, "keda": obs.keda,
                         "autoscaling": True}, on)


@pytest.fixture(scope="module")
def plan():
    return run(two_teams)


def test_both_teams_published_on_one_gateway_are_refused_naming_both_routes():
    """Gateway API: routes tied on path and hostname go to the oldest Route (HTTPRouteRule matching precedence), so
    team-b's API and UI would silently get nothing; the kit refuses it, naming both HTTPRoutes."""
    with pytest.raises(ProgramError) as error:
        run(functools.partial(two_teams, publish_both=True))
    for route in ("api-route", "ui-route"):
        assert f"team-a/{route} and team-b/{route}" in str(error.value)


def ollama_down(plan) -> str:
    rule = plan.one("kubernetes:monitoring.coreos.com/v1:PrometheusRule", "obs-platform-rules")
    (alert,) = [r for r in rule.inputs["spec"]["groups"][0]["rules"] if r["alert"] == "OllamaDown"]
    return alert["expr"]


def test_ollama_down_fires_for_each_teams_model_server(plan):
    """One Observability per cluster (its namespaces are fixed), so its OllamaDown must watch both teams' Ollama:
    given app_namespace alone it watched team-a only, and team-b's outage never alerted."""
    expr = ollama_down(plan)
    assert 'namespace=~"team-a|team-b",deployment="ollama"' in expr, expr
    summary = next(r for r in plan.one("kubernetes:monitoring.coreos.com/v1:PrometheusRule").inputs["spec"]["groups"][0]
                   ["rules"] if r["alert"] == "OllamaDown")["annotations"]["summary"]
    assert "{{ $labels.namespace }}" in summary


def test_one_namespace_keeps_the_exact_match():
    plan = run(functools.partial(two_teams, watch_both=False))
    assert 'namespace="team-a",deployment="ollama"' in ollama_down(plan)


def test_two_teams_interceptor_hosts_are_disjoint_and_each_gate_asks_for_its_own(plan):
    routes = plan.of_type("kubernetes:http.keda.sh/v1beta1:InterceptorRoute")
    hosts = {r.inputs["metadata"]["namespace"]: {h for rule in r.inputs["spec"]["rules"] for h in rule["hosts"]}
             for r in routes}
    assert set(TEAMS) <= set(hosts) and not hosts["team-a"] & hosts["team-b"]


def test_every_kubernetes_object_passes_the_api_servers_strict_schemas(plan):
    from llmplatform import kubernetes_schemas
    assert kubernetes_schemas.problems(plan) == []
