"""A stranger's composition, written with the package's testing kit as a consumer would: ONE AKS cluster, two teams'
InferenceStacks (namespaces team-a and team-b), each with its gate and Open-WebUI, both autoscaled through the one
Observability's KEDA, an LlmdStack on a second (A100) GPU pool, all behind the one GatewayAccess. What a real cluster
would do with it that the mocks alone accept is checked here (docs/decisions.md, "Two teams on one cluster")."""
import functools
from typing import Any

import pulumi
from pulumi_azure_native import resources
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
    # the workspaces before the cluster, in a group made first (docs/components/observability.md)
    group = resources.ResourceGroup("rg", resource_group_name="rg-shared", location="westeurope").name
    mon = P.AzureMonitoring("mon", {"location": "westeurope", "resource_group_name": group,
                                    "name_prefix": "shared", "alert_emails": ["ops@example.com"]})
    aks = P.AksCluster("aks", {"cluster_name": "aks-shared", "resource_group_name": group,
                               "existing_resource_group": True,
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


def _pod(plan, namespace: str, name: str):
    from llmplatform.testing.network_policy import Pod
    [template] = [r.inputs["spec"]["template"] for r in plan.of_type("kubernetes:apps/v1:Deployment")
                  if r.inputs["metadata"]["namespace"] == namespace and r.inputs["metadata"]["name"] == name]
    return Pod(namespace, template["metadata"]["labels"]), template["spec"]


def test_a_teams_ui_reaches_no_model_server_but_its_own_through_its_own_gate(plan):
    """The shared KEDA interceptor routes by Host header and authenticates no one (docs/decisions.md, "Open-WebUI
    reaches the interceptor through its gate"): a team's Open-WebUI, whose admins run Python tools and functions
    server-side, once reached it and could send `Host: ollama-scaled.<other team>`, past the other team's key and
    429. Only each team's gate (nginx, a fixed Host) reaches the interceptor now; the UI calls its gate's keyless UI
    listener, which admits that namespace's UI pods alone and sends that namespace's Host."""
    from llmplatform.inference_specs import ROUTER_UI_PORT, scaled_host
    from llmplatform.keda_http import INTERCEPTOR_PORT
    from llmplatform.testing.network_policy import Pod, connects
    from tests.network_policy import keda_http_pod_labels
    objects = [r.inputs for r in plan.kubernetes_objects()]
    policies = [o for o in objects if o["kind"] == "NetworkPolicy"]
    namespaces = {o["metadata"]["name"]: o["metadata"].get("labels") or {} for o in objects if o["kind"] == "Namespace"}
    interceptor = Pod("keda", keda_http_pod_labels("interceptor"))
    for team, other in (TEAMS, TEAMS[::-1]):
        (ui, ui_spec), (router, _) = _pod(plan, team, "open-webui"), _pod(plan, team, "router")
        (other_ui, _), (other_router, _) = _pod(plan, other, "open-webui"), _pod(plan, other, "router")
        # the hole: the UI's pods no longer reach the interceptor (so no Host of theirs reaches another team)
        assert not connects(policies, ui, interceptor, INTERCEPTOR_PORT, namespaces)
        assert connects(policies, router, interceptor, INTERCEPTOR_PORT, namespaces)
        # the gate's UI listener: this team's UI pods only, not the other team's UI or gate, nor its own Ollama
        assert connects(policies, ui, router, ROUTER_UI_PORT, namespaces)
        assert not [p for p in (other_ui, other_router, _pod(plan, team, "ollama")[0], Pod(team, {}))
                    if connects(policies, p, router, ROUTER_UI_PORT, namespaces)]
        # nor does the UI reach the other team's keyless listener or model server (the other gate's API listener
        # asks for that team's key)
        assert not connects(policies, ui, other_router, ROUTER_UI_PORT, namespaces)
        assert not connects(policies, ui, _pod(plan, other, "ollama")[0], 11434, namespaces)
        env = {e["name"]: e.get("value") for e in ui_spec["containers"][0]["env"]}
        assert env["OLLAMA_BASE_URL"] == f"http://router:{ROUTER_UI_PORT}"
        conf = next(r.inputs["data"]["nginx.conf"] for r in plan.of_type("kubernetes:core/v1:ConfigMap")
                    if r.inputs["metadata"]["namespace"] == team
                    and r.inputs["metadata"]["name"].startswith("router-nginx"))
        ui_server = conf[conf.index(f"listen {ROUTER_UI_PORT};"):]
        assert f"proxy_set_header Host {scaled_host(team)};" in ui_server
        assert "api_key_valid" not in ui_server and "limit_req" not in ui_server
