"""Every component built on its own from its required inputs only, and every component built twice in one program
(two GPU pools on one cluster, two InferenceStacks in two namespaces, two PostgresServers on one vault...), under the
offline runner that refuses duplicate URNs and one Azure or Kubernetes name claimed twice."""

import re
import typing
from typing import Any, Callable

import pulumi
import pulumi_kubernetes as k8s
import pytest
import llmplatform
from llmplatform.checks import ComponentInputError
from llmplatform.rules import WITHHELD
from llmplatform.handles import ClusterHandle, KedaEndpoints, ModelEndpoint, ModelServer, ModelVolume, VaultHandle
from pulumi_azure_native import dbforpostgresql as pulumi_pg

from offline import runner as offline


RG = "rg-test"

NETWORK = {"vnet_cidr": "10.0.0.0/16", "node_subnet_cidr": "10.0.0.0/20", "endpoints_subnet_cidr": "10.0.16.0/24",
           "postgres_subnet_cidr": "10.0.17.0/24", "pod_cidr": "192.168.0.0/16", "service_cidr": "172.16.0.0/16",
           "dns_service_ip": "172.16.0.10"}


def cluster_handle(name: str = "c1", expander: str = "least-waste") -> ClusterHandle:
    sub = f"/subscriptions/s/resourceGroups/{RG}/providers/Microsoft.Network/virtualNetworks/vnet-{name}/subnets"
    return ClusterHandle(
        resource_group_name=RG, location="westeurope", cluster_name=f"aks-{name}", cluster_id=f"/aks/{name}",
        vnet_id=f"/vnet/{name}", node_subnet_id=f"{sub}/nodes", endpoints_subnet_id=f"{sub}/endpoints",
        postgres_subnet_id=f"{sub}/postgres", oidc_issuer_url=f"https://oidc/{name}/", kubernetes_version="",
        zones=[], cpu_node_selector={"llm-platform/pool": "cpu"}, pod_cidr="192.168.0.0/16",
        autoscaler_expander=expander, encryption_at_host=False)


VAULT = VaultHandle(vault_id="/vaults/kv1", vault_name="kv1", vault_uri="https://kv1.vault.azure.net/",
                    tenant_id="00000000-0000-0000-0000-000000000000", resource_group_name=RG)
VOLUME = ModelVolume(namespace="llm", claim_name="models", mount_path="/models")
SERVER = ModelServer(namespace="llm", deployment="ollama", service="ollama", port=11434, hosts=["ollama-scaled.llm"],
                     accelerator="cpu")
GPU = {"node_selector": {"llm-platform/accelerator": "nvidia"}, "gpu_model": "A100", "gpus_per_node": 1,
       "gpu_memory_gib": 80, "driver": "operator", "rdma": False,
       "tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]}
ROUTES = {"namespace": "gw", "gateway_names": ["internal-gateway", "external-gateway"], "ui_listener": "ui",
          "api_listener": "api", "llmd_listener": "llmd", "routes_label": {"llm-platform/gateway-routes": "true"}}
ENDPOINT = ModelEndpoint(base_url="http://ollama:11434", api="ollama", namespace="llm", service="ollama", port=11434)
KEDA = KedaEndpoints(namespace="keda", interceptor_host="interceptor", interceptor_port=8080,
                     external_scaler="scaler:9090", prometheus_url="http://prometheus:9090")

# The required inputs of each component, and nothing more.
REQUIRED: dict[str, Callable[[], dict[str, Any]]] = {
    # a group of its own: the one the hand-built handles name would not exist before the AksCluster creates it
    "AksCluster": lambda: {"cluster_name": "aks-a", "resource_group_name": f"{RG}-aks", "location": "westeurope",
                           "network": NETWORK,
                           "system_pool": {"name": "system", "vm_size": "Standard_D2s_v5", "min_count": 1,
                                           "max_count": 2},
                           "workload_pool": {"name": "cpu", "vm_size": "Standard_D4s_v5", "min_count": 1,
                                             "max_count": 3}},
    "GpuNodePool": lambda: {"cluster": cluster_handle(), "vm_size": "Standard_NC4as_T4_v3"},
    "AppNamespace": lambda: {"namespace": "llm"},
    "ModelStore": lambda: {"cluster": cluster_handle(), "account_name": "stmodels1", "namespace": "llm"},
    "KeyVault": lambda: {"cluster": cluster_handle(), "vault_name": "kv-test-1"},
    "PostgresServer": lambda: {"cluster": cluster_handle(), "key_vault": VAULT, "server_name": "psql-test-1"},
    "GatewayAccess": lambda: {"cluster": cluster_handle()},
    "InferenceStack": lambda: {"cluster": cluster_handle(), "key_vault": VAULT, "model_volume": VOLUME},
    "AzureMonitoring": lambda: {"location": "westeurope", "resource_group_name": RG},
    "Observability": lambda: {"cluster": cluster_handle(), "key_vault": VAULT, "app_namespace": "llm"},
    "ModelAutoscaler": lambda: {"model_server": SERVER, "mode": "cpu", "min_replicas": 1, "max_replicas": 2},
    "WorkloadIdentity": lambda: {"cluster": cluster_handle(), "identity_name": "id-test", "namespace": "llm",
                                 "service_account_name": "app"},
    "LlmdStack": lambda: {"cluster": cluster_handle(), "gpu": GPU, "route_target": ROUTES, "model": "Qwen/Qwen3-8B",
                          "key_vault": VAULT},
    "OllamaServer": lambda: {"cluster": cluster_handle(), "model_volume": VOLUME},
    "ApiGate": lambda: {"cluster": cluster_handle(), "endpoint": ENDPOINT, "key_vault": VAULT},
    "OpenWebUi": lambda: {"cluster": cluster_handle(), "key_vault": VAULT, "endpoint": ENDPOINT,
                          "database_url_secret": "db-url"},
    "GlobalEndpoint": lambda: {"resource_group_name": RG, "name_prefix": "edge-test",
                               "origins": [{"name": "weu", "host": "weu.llm.example.com"}]},
    "FleetUpdates": lambda: {"resource_group_name": RG, "location": "westeurope", "fleet_name": "fleet-test",
                             "members": [{"name": "weu", "cluster_id": "/subscriptions/x/aks-a"}]},
    "CostBudget": lambda: {"amount": 1000.0, "resource_group_names": [RG],
                           "action_group_id": f"/subscriptions/s/resourceGroups/{RG}/providers/microsoft.insights/"
                                              "actionGroups/ag-test"},
}
IN_CLUSTER = {"GpuNodePool", "AppNamespace", "ModelStore", "GatewayAccess", "InferenceStack", "Observability",
              "ModelAutoscaler", "WorkloadIdentity", "LlmdStack", "OllamaServer", "ApiGate", "OpenWebUi"}


def args_type(component: type) -> Any:
    return typing.get_type_hints(component.__init__)["args"]


def provider_opts(name: str = "k8s") -> pulumi.ResourceOptions:
    return pulumi.ResourceOptions(providers=[k8s.Provider(name, kubeconfig="apiVersion: v1")])


def two_of_everything() -> None:
    """One program with two instances of every component, as a platform team composing the package would."""
    P = llmplatform
    clusters = []
    for name in ("a", "b"):
        mon = P.AzureMonitoring(f"mon-{name}", {"location": "westeurope", "resource_group_name": RG,
                                                "name_prefix": f"t-{name}", "alert_emails": ["ops@example.com"]})
        aks = P.AksCluster(f"aks-{name}", {**REQUIRED["AksCluster"](), "cluster_name": f"aks-{name}",
                                           "resource_group_name": f"rg-{name}", "autoscaler_expander": "priority",
                                           "log_analytics_workspace_id": mon.log_analytics_workspace_id})
        clusters.append((aks, mon))
    (a, mon_a), (b, mon_b) = clusters
    for name, aks, mon in (("a", a, mon_a), ("b", b, mon_b)):  # a budget per cluster, over its two groups
        P.CostBudget(f"budget-{name}", {"amount": 500, "resource_group_names": [f"rg-{name}", aks.node_resource_group],
                                        "action_group_id": mon.monitoring["action_group_id"]})
    on_a = pulumi.ResourceOptions(providers=[a.provider])
    on_b = pulumi.ResourceOptions(providers=[b.provider])
    spot = P.GpuNodePool("gpu-spot", {"cluster": a.cluster, "vm_size": "Standard_NC4as_T4_v3",
                                      "fallback": {"enabled": True, "min_count": 0, "max_count": 1}}, on_a)
    P.GpuNodePool("gpu-big", {"cluster": a.cluster, "vm_size": "Standard_NC24ads_A100_v4", "pool_name": "gpubig",
                              "install_device_software": False}, on_a)
    spot_b = P.GpuNodePool("gpu-b", {"cluster": b.cluster, "vm_size": "Standard_NC4as_T4_v3"}, on_b)
    vaults = [P.KeyVault(f"kv{i}", {"cluster": a.cluster, "vault_name": f"kv-test-{i}"}) for i in (1, 2)]
    # cluster b's pods read a vault of their own: a's admits a's node subnet alone (llmplatform.testing refuses the
    # other cluster's, whose CSI mount Key Vault's firewall would answer 403)
    vault_b = P.KeyVault("kv-b", {"cluster": b.cluster, "vault_name": "kv-test-b"})
    pgs = [P.PostgresServer(f"pg{i}", {"cluster": a.cluster, "key_vault": vaults[0].vault,
                                       "server_name": f"psql-test-{i}"}) for i in (1, 2)]
    gateways = [P.GatewayAccess(f"gw-{n}", {"cluster": c.cluster, "inference_extension": True}, o)
                for n, c, o in (("a", a, on_a), ("b", b, on_b))]
    observability = [P.Observability(f"obs-{n}", {"cluster": c.cluster, "monitoring": m.monitoring,
                                                  "key_vault": vaults[1].vault, "app_namespace": "app1",
                                                  "route_target": g.route_target}, o)
                     for n, c, m, g, o in (("a", a, mon_a, gateways[0], on_a), ("b", b, mon_b, gateways[1], on_b))]
    for i in (1, 2):
        ns = P.AppNamespace(f"app{i}", {"namespace": f"app{i}", "route_target": gateways[0].route_target}, on_a)
        store = P.ModelStore(f"models{i}", {"cluster": a.cluster, "account_name": f"stmodels{i}",
                                            "namespace": ns.namespace}, on_a)
        stack = P.InferenceStack(f"stack{i}", {
            "cluster": a.cluster, "key_vault": vaults[0].vault, "model_volume": store.volume,
            "database_url_secret": pgs[i - 1].database_url_secret, "gpu": spot.scheduling, "accelerator": "gpu",
            # one cluster's Gateways take one route per listener and path: the second stack stays in-cluster
            **({"route_target": gateways[0].route_target} if i == 1 else {}),
            "keda": observability[0].keda, "autoscaled": True}, on_a)
        P.ModelAutoscaler(f"scaler{i}", {"model_server": stack.model_server, "mode": "requests", "min_replicas": 0,
                                         "max_replicas": 2, "keda": observability[0].keda}, on_a)
        P.WorkloadIdentity(f"wi{i}", {"cluster": a.cluster, "identity_name": f"id-extra-{i}",
                                      "namespace": ns.namespace, "service_account_name": "extra"}, on_a)
        # an LlmdStack is always published (route_target is required): one per cluster's Gateways
        P.LlmdStack(f"llmd{i}", {"cluster": (a, b)[i - 1].cluster, "gpu": (spot, spot_b)[i - 1].scheduling,
                                 "route_target": gateways[i - 1].route_target, "model": "Qwen/Qwen3-0.6B",
                                 "key_vault": (vaults[0], vault_b)[i - 1].vault, "namespace": f"llm-d-{i}"},
                    (on_a, on_b)[i - 1])
        # two estates' edges and fleets over the same two clusters (e.g. a staging and a prod endpoint)
        P.GlobalEndpoint(f"edge{i}", {"resource_group_name": RG, "name_prefix": f"edge-{i}", "origins": [
            {"name": "a", "host": gateways[0].external_address}, {"name": "b", "host": gateways[1].external_address}],
            "origin_protocol": "Http"})  # gateways without TLS: their addresses, plain HTTP
        P.FleetUpdates(f"fleet{i}", {"resource_group_name": RG, "location": "westeurope", "fleet_name": f"fleet-{i}",
                                     "members": [{"name": "a", "cluster_id": a.cluster["cluster_id"]},
                                                 {"name": "b", "cluster_id": b.cluster["cluster_id"]}]})


# Microsoft Entra sign-in on Flexible Server needs a Microsoft Entra administrator (Azure Database for PostgreSQL docs,
# "Microsoft Entra authentication": only an Entra admin can create the other Entra roles); Managed Grafana admits
# users through the Azure roles Grafana Admin / Editor / Viewer on the workspace (Azure built-in roles).
GRAFANA_ROLES = {"22926164-76b3-42b3-bc55-97df8dab3e41": "Grafana Admin", "a79a5197-3a5c-4973-a920-486035ffd60f":
                 "Grafana Editor", "60921a7e-fef1-4a43-9b16-a26c52ad4769": "Grafana Viewer"}


def entra_mismatches(plan) -> list[str]:
    """Servers whose Entra switch disagrees with having an Entra administrator (of the server's tenant, a valid
    principal type)."""
    admins = plan.of_type("azure-native:dbforpostgresql:AdministratorsMicrosoftEntra")
    wrong = []
    for server in plan.of_type("azure-native:dbforpostgresql:Server"):
        auth = server.inputs["authConfig"]
        mine = [a for a in admins if a.inputs["serverName"] == server.inputs["serverName"]
                and a.inputs["tenantId"] == auth.get("tenantId") and a.inputs["principalType"] in
                {t.value for t in pulumi_pg.PrincipalType} and a.inputs.get("principalName")]
        if (auth["activeDirectoryAuth"] == "Enabled") != bool(mine):
            wrong.append(server.inputs["serverName"])
    return wrong


def test_every_component_has_a_required_inputs_case():
    assert set(REQUIRED) == set(llmplatform.COMPONENTS)


@pytest.mark.parametrize("name", sorted(llmplatform.COMPONENTS))
def test_component_builds_alone_from_its_required_inputs(name):
    component = getattr(llmplatform, name)
    args = REQUIRED[name]()
    assert set(args) == set(args_type(component).__required_keys__), "the case must give exactly the required inputs"

    def program():
        component(f"{name.lower()}-alone", args, provider_opts() if name in IN_CLUSTER else None)

    plan = offline.run_function(program)
    top = plan.one(f"llmplatform:index:{name}")
    children = [r for r in plan.resources if plan.component_of(r) is top]
    assert children, "a component registers its resources"
    # every in-cluster object went to the provider it was handed, never to an ambient default
    for r in children:
        if r.custom and r.type.startswith("kubernetes:"):
            assert "pulumi:providers:kubernetes::k8s::" in (r.options["provider"] or ""), r.name


@pytest.mark.parametrize("name", sorted(IN_CLUSTER))
def test_in_cluster_component_without_a_kubernetes_provider_is_refused(name):
    component = getattr(llmplatform, name)
    with pytest.raises(ComponentInputError, match="no Kubernetes provider"):
        offline.run_function(lambda: component("lonely", REQUIRED[name]()))


@pytest.mark.parametrize("name", sorted(IN_CLUSTER))
def test_in_cluster_component_given_options_as_a_dict_is_refused_by_name(name):
    """`opts` as a dict (`{"providers": [...]}`) was read as ResourceOptions and stopped with an AttributeError
    inside the package; components outside the cluster get the SDK's own TypeError for it."""
    component = getattr(llmplatform, name)
    for opts in (lambda: {"providers": provider_opts().providers}, lambda: {"protect": True}):
        with pytest.raises(ComponentInputError, match=rf"{name} lonely: opts: expects pulumi.ResourceOptions, "
                                                      r"got dict"):
            offline.run_function(lambda: component("lonely", REQUIRED[name](), opts()))


@pytest.mark.parametrize("name, extra, message", [
    ("GpuNodePool", {"vm_size": "Standard_D4s_v5"}, "vm_size='Standard_D4s_v5'"),
    ("GpuNodePool", {"driver": "nouveau"}, "driver='nouveau'"),
    ("GpuNodePool", {"fallback": {"enabled": True, "min_count": 0, "max_count": 1}}, "autoscaler_expander"),
    ("GatewayAccess", {"tls_mode": "letsencrypt"}, "tls_hostname"),
    ("GatewayAccess", {"internal": False, "external": False}, "internal=False"),
    ("InferenceStack", {"accelerator": "gpu"}, "input gpu=None"),
    ("InferenceStack", {"webui_enabled": True}, "database_url_secret"),
    ("ModelAutoscaler", {"mode": "requests"}, "input keda=None"),
    ("ModelStore", {"protocol": "ftp"}, "protocol='ftp'"),
    ("PostgresServer", {"backup_retention_days": 3}, "backup_retention_days=3"),
    ("AksCluster", {"network_policy": "weave"}, "network_policy='weave'"),
    # llm-d: everything checked against the GPU it will run on
    ("LlmdStack", {"tensor_parallel_size": 2, "api_key_auth": False}, "tensor_parallel_size=2"),
    # a 70B model on a one-A100 node: no tensor parallel size helps, the pool is wrong
    ("LlmdStack", {"model": "meta-llama/Llama-3.3-70B-Instruct", "api_key_auth": False}, "input gpu="),
    # on an eight-A100 node it fits once spread over more GPUs
    ("LlmdStack", {"model": "meta-llama/Llama-3.3-70B-Instruct", "api_key_auth": False,
                   "gpu": {**GPU, "gpus_per_node": 8}}, "tensor_parallel_size=1"),
    ("LlmdStack", {"model": "meta-llama/Llama-3.1-8B-Instruct", "api_key_auth": False}, "hf_token_secret=None"),
    ("LlmdStack", {"prefill_decode": True, "api_key_auth": False}, "prefill_decode=True"),
    ("LlmdStack", {"vllm_image": "vllm/vllm-openai:latest", "api_key_auth": False}, "vllm_image="),
    ("LlmdStack", {"epp_image": "ghcr.io/llm-d/llm-d-router-endpoint-picker", "api_key_auth": False}, "epp_image="),
    ("LlmdStack", {"model": "acme/secret-model", "api_key_auth": False}, "model_memory_gib=None"),
    ("LlmdStack", {"model": "acme/secret-model", "model_memory_gib": 10, "api_key_auth": False}, "max_model_len=None"),
    ("LlmdStack", {"epp_replicas": 0, "api_key_auth": False}, "epp_replicas=0"),
    # a key set someone else writes is read by its Key Vault name: a name Key Vault cannot hold is refused up front,
    # the value not shown (a value that is no secret's name may be the secret itself: llmplatform.rules.WITHHELD)
    ("LlmdStack", {"api_key_map_secret": "edge_api_key_map"}, f"api_key_map_secret={WITHHELD!r} is invalid"),
    ("ApiGate", {"api_key_map_secret": "edge_api_key_map"}, f"api_key_map_secret={WITHHELD!r} is invalid"),
    # a budget: a positive amount, Azure's five notifications at most, a start on the first of a month
    ("CostBudget", {"amount": -100}, "amount=-100"),
    ("CostBudget", {"resource_group_names": []}, "resource_group_names=[]"),
    ("CostBudget", {"actual_percents": [50, 80, 100, 120], "forecast_percents": [90, 100]}, "at most 5"),
    ("CostBudget", {"actual_percents": [0]}, "actual_percents[0]=0"),
    ("CostBudget", {"start_date": "2026-12-04"}, "start_date='2026-12-04'"),
    # AKS refuses a cluster whose node resource group, MC_<group>_<cluster>_<region>, passes 80 characters (it does
    # not shorten it: llmplatform.azure_names); 83 here, from a group name within its own limit (63)
    ("AksCluster", {"resource_group_name": "rg-" + "x" * 60}, "cluster_name='aks-a' is invalid; allowed: a name AKS's "
     "node resource group holds: 'MC_rg-" + "x" * 60 + "_aks-a_westeurope' is 83 characters"),
])
def test_component_refuses_a_bad_input_by_name_before_registering(name, extra, message):
    component = getattr(llmplatform, name)

    def program():
        component("bad", {**REQUIRED[name](), **extra}, provider_opts() if name in IN_CLUSTER else None)

    with pytest.raises(ComponentInputError, match=re.escape(message)) as error:
        offline.run_function(program)
    assert str(error.value).startswith(f"{name} bad: input ")


@pytest.mark.parametrize("name", sorted(REQUIRED))
def test_a_required_input_given_as_none_is_missing(name):
    """`config.get("clusterName")` of an unset key is None: a required input given as None is refused as missing,
    by name, before anything registers (it was taken as given: `vnet-None`, or a TypeError from inside)."""
    component = getattr(llmplatform, name)
    for key in sorted(REQUIRED[name]()):
        def program():
            component("bad", {**REQUIRED[name](), key: None}, provider_opts() if name in IN_CLUSTER else None)
        with pytest.raises(ComponentInputError, match=re.escape(f"{key}: is required")):
            offline.run_function(program)


@pytest.mark.parametrize("name, extra, message", [
    ("KeyVault", {"purge_protection": "false"}, "purge_protection: expects true or false, got str 'false'"),
    ("AksCluster", {"existing_resource_group": "yes"}, "existing_resource_group: expects true or false"),
    ("AksCluster", {"tags": {"team": 1}}, "tags: expects an object of strings"),
    ("AksCluster", {"tags": ["team-a"]}, "tags: expects an object of strings, got list"),
    ("AksCluster", {"zones": "12"}, "zones='12' is invalid; allowed: a list of strings"),  # the rule's own words
    ("GatewayAccess", {"allowed_service_tags": "AzureFrontDoor.Backend"}, "allowed_service_tags: expects a list"),
    ("GpuNodePool", {"cluster": {**cluster_handle(), "encryption_at_host": "no"}},
     "cluster.encryption_at_host: expects true or false"),
])
def test_a_plain_value_of_the_wrong_type_is_refused_not_read_by_truthiness(name, extra, message):
    """A string "false" for a bool was on by truthiness (a vault with purge protection, which cannot be undone),
    a string for a list was read letter by letter; each is refused by name before anything registers."""
    component = getattr(llmplatform, name)

    def program():
        component("bad", {**REQUIRED[name](), **extra}, provider_opts() if name in IN_CLUSTER else None)
    with pytest.raises(ComponentInputError, match=re.escape(message)):
        offline.run_function(program)


def test_an_output_where_a_plain_value_names_azure_resources_is_refused():
    """AksCluster's cluster_name names its VNet (`vnet-<cluster_name>`): an Output there printed as "Calling __str__
    on an Output" inside the VNet's name; tier and the like are enums read when the program runs."""
    for key, value in (("cluster_name", "aks-a"), ("tier", "Standard")):
        def program():
            llmplatform.AksCluster("bad", {**REQUIRED["AksCluster"](), key: pulumi.Output.from_input(value)})
        with pytest.raises(ComponentInputError, match=re.escape(f"{key}: must be a plain value")):
            offline.run_function(program)


@pytest.fixture(scope="module")
def two_of_each() -> offline.Plan:
    """two_of_everything, planned once for the tests that read it."""
    return offline.run_function(two_of_everything)


def test_two_of_every_component_compose_without_a_collision(two_of_each):
    plan = two_of_each
    counts = {name: len(plan.of_type(f"llmplatform:index:{name}")) for name in llmplatform.COMPONENTS}
    # InferenceStack builds two WorkloadIdentities of its own per instance
    assert all(n >= 2 for n in counts.values()), counts
    secrets = [s.inputs["secretName"] for s in plan.of_type("azure-native:keyvault:Secret")
               if s.inputs["vaultName"] == "kv-test-1"]
    assert len(secrets) == len(set(secrets)) and "pg1-admin-password" in secrets and "pg2-admin-password" in secrets


def test_the_runner_catches_what_two_naive_instances_would_collide_on():
    """Two device plugin installations on one cluster claim one namespace and one Helm release: refused. (Two GPU
    pools share one installation: tests/components/test_gpu_scheduling.py.)"""
    from llmplatform.gpu_node_pool import NVIDIA_DEVICE_PLUGIN, helm_release, namespace

    def program():
        opts = provider_opts()
        for pool in ("gpua", "gpub"):
            ns = namespace(f"{pool}-ns", "nvidia-device-plugin", "privileged", opts)
            helm_release(f"{pool}-plugin", NVIDIA_DEVICE_PLUGIN, ns.metadata.name, {}, opts, cluster={})

    with pytest.raises(offline.ProgramError, match="are one object: .*Namespace nvidia-device-plugin"):
        offline.run_function(program)


def test_ids_that_come_from_other_resources_may_be_outputs():
    """Entra group ids, authorized ranges and the Front Door id usually come from other resources (an azuread Group,
    a NAT gateway's IP, the GlobalEndpoint's profile): the components take them as outputs (the schema says so:
    not plain), with no name derived from a value that is not known yet."""
    import json
    group, fdid = "00000000-0000-0000-0000-0000000000aa", "11111111-2222-3333-4444-555555555555"

    def program():
        out = pulumi.Output.from_input
        llmplatform.AksCluster("aks", {**REQUIRED["AksCluster"](), "admin_group_object_ids": [out(group)],
                             "api_access_mode": "authorizedIps", "authorized_ip_ranges": [out("203.0.113.0/24")]})
        llmplatform.AzureMonitoring("mon", {**REQUIRED["AzureMonitoring"](), "managed_grafana": True,
                                  "grafana_admin_group_ids": [out(group)], "grafana_viewer_group_ids": [group]})
        llmplatform.GatewayAccess("gw", {**REQUIRED["GatewayAccess"](), "front_door_id": out(fdid)}, provider_opts())
    plan = offline.run_function(program)
    by_name = {r.name: r for r in plan.resources}
    aks = plan.one("azure-native:containerservice:ManagedCluster").inputs
    assert aks["aadProfile"]["adminGroupObjectIDs"] == [group]
    assert aks["apiServerAccessProfile"]["authorizedIPRanges"] == ["203.0.113.0/24"]
    assert by_name["mon-grafana-admin-0"].inputs["principalId"] == group  # by position: the id was an output
    assert "mon-grafana-viewer-00000000" in by_name  # by the id's start: a literal
    policy = by_name["gw-front-door-only"].inputs["spec"]
    assert fdid in json.dumps(policy)
    schema = json.loads((offline.PROJECT_DIR / "components" / "schema.json").read_text())["resources"]
    for resource, prop in (("AksCluster", "adminGroupObjectIds"), ("AksCluster", "authorizedIpRanges"),
                           ("AzureMonitoring", "grafanaAdminGroupIds"), ("GatewayAccess", "frontDoorId")):
        spec = schema[f"llmplatform:index:{resource}"]["inputProperties"][prop]
        assert not spec.get("items", spec).get("plain"), (resource, prop)


def test_two_autoscaled_model_servers_on_one_cluster_route_apart(two_of_each):
    """The KEDA HTTP interceptor's routing table spans the cluster: two namespaces' routes claiming one host (the bare
    `ollama-scaled`) would send one stack's requests to the other's model server. Each gate asks for its own
    namespace's host, and no host is claimed twice."""
    plan = two_of_each
    routes = plan.of_type("kubernetes:http.keda.sh/v1beta1:InterceptorRoute")
    assert len({r.inputs["metadata"]["namespace"] for r in routes}) >= 2
    claimed = [h for r in routes for rule in r.inputs["spec"]["rules"] for h in rule["hosts"]]
    assert len(claimed) == len(set(claimed)), sorted(claimed)
    for route in routes:
        ns = route.inputs["metadata"]["namespace"]
        confs = [c.inputs["data"]["nginx.conf"] for c in plan.of_type("kubernetes:core/v1:ConfigMap")
                 if c.inputs["metadata"]["namespace"] == ns and c.inputs["metadata"]["name"].startswith("router-nginx")]
        hosts = {m for conf in confs for m in re.findall(r"proxy_set_header Host (\S+);", conf)}
        assert hosts and hosts <= set(route.inputs["spec"]["rules"][0]["hosts"]), (ns, hosts)
