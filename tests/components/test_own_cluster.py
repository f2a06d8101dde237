"""A platform team's own AKS cluster, made by Terraform or other Pulumi code, not by AksCluster: the cluster handle
built by hand from `containerservice.get_managed_cluster`, GPU pools, a model store, the inference stack and
Observability added to it, tested with the package's kit as docs/components/own-cluster.md says."""
import re
from pathlib import Path
from typing import Any, Callable

import pytest
from llmplatform import ComponentInputError
from llmplatform.testing import SUBSCRIPTION, ProgramError, run

OWN_CLUSTER_PAGE = Path(__file__).resolve().parents[2] / "docs" / "components" / "own-cluster.md"
GROUP, CLUSTER = "rg-plat-weu", "aks-plat-weu"
CLUSTER_ID = (f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{GROUP}/providers/Microsoft.ContainerService/"
              f"managedClusters/{CLUSTER}")
ISSUER = "https://westeurope.oic.prod-aks.azure.com/tenant/cluster/"


def managed_cluster(**changes: Any) -> dict[str, Any]:
    """What Azure answers getManagedCluster for a cluster made elsewhere (REST names)."""
    answer = {
        "id": CLUSTER_ID, "name": CLUSTER, "location": "westeurope", "kubernetesVersion": "1.33.5",
        "oidcIssuerProfile": {"enabled": True, "issuerURL": ISSUER},
        "securityProfile": {"workloadIdentity": {"enabled": True}},
        "addonProfiles": {"azureKeyvaultSecretsProvider": {"enabled": True}},
        "networkProfile": {"networkPlugin": "azure", "networkPluginMode": "overlay", "networkPolicy": "cilium",
                           "networkDataplane": "cilium", "podCidr": "192.168.0.0/16"},
        "autoUpgradeProfile": {"upgradeChannel": "patch"},
        "autoScalerProfile": {"expander": "random"},
        "agentPoolProfiles": [
            {"name": "system", "mode": "System", "availabilityZones": ["1", "2", "3"],
             "vnetSubnetID": f"/subscriptions/{SUBSCRIPTION}/resourceGroups/rg-net-weu/providers/Microsoft.Network/"
                             "virtualNetworks/vnet-plat-weu/subnets/snet-aks-nodes"},
            {"name": "apps", "mode": "User", "availabilityZones": ["1", "2", "3"]}],
        "identity": {"principalId": "11111111-1111-1111-1111-111111111111", "type": "SystemAssigned"},
    }
    return {**answer, **changes}


def invokes(**changes: Any) -> dict[str, Any]:
    return {"azure-native:containerservice:getManagedCluster": managed_cluster(**changes)}


def page_program() -> str:
    """The whole program of the page, as a user copies it."""
    blocks = re.findall(r"```python\n(.*?)```", OWN_CLUSTER_PAGE.read_text(), flags=re.S)
    return next(b for b in blocks if "get_managed_cluster_output" in b and "llmplatform.testing" not in b)


def as_program(code: str) -> Callable[[], None]:
    return lambda: exec(compile(code, str(OWN_CLUSTER_PAGE), "exec"), {"__name__": "__main__"})  # noqa: S102


def test_the_pages_program_runs_on_the_answered_cluster_with_its_issuer_zones_and_subnet():
    plan = run(as_program(page_program()), invokes=invokes())
    pools = [r.inputs for r in plan.of_type("azure-native:containerservice:AgentPool")]
    assert pools and all(p["resourceName"] == CLUSTER and p["resourceGroupName"] == GROUP for p in pools)
    assert all(p["availabilityZones"] == ["1", "2", "3"] and p["vnetSubnetID"].endswith("/snet-aks-nodes")
               for p in pools)
    credentials = plan.of_type("azure-native:managedidentity:FederatedIdentityCredential")
    assert credentials and {c.inputs["issuer"] for c in credentials} == {ISSUER}
    # the cluster's own monitoring stays its own: alert rules only, no second collection of the same agents
    assert plan.of_type("azure-native:alertsmanagement:PrometheusRuleGroup")
    assert not plan.of_type("azure-native:monitor:DataCollectionRuleAssociation")
    assert not plan.of_type("azure-native:monitor:DataCollectionEndpoint")


def test_the_pages_program_previews_what_it_creates():
    """`pulumi preview` of the new stack: the invoke is sent (its arguments are known), so the preview shows every
    resource `pulumi up` creates."""
    up = run(as_program(page_program()), invokes=invokes())
    preview = run(as_program(page_program()), invokes=invokes(), preview=True)
    assert sorted((r.type, r.name) for r in preview.resources) == sorted((r.type, r.name) for r in up.resources)


def test_a_cluster_on_aks_own_vnet_is_refused_naming_the_subnet():
    pools = [{k: v for k, v in pool.items() if k != "vnetSubnetID"} for pool in managed_cluster()["agentPoolProfiles"]]
    refused = r"(GpuNodePool gpu|ModelStore models): cluster\.node_subnet_id: is required"
    with pytest.raises(ProgramError, match=refused):
        run(as_program(page_program()), invokes=invokes(agentPoolProfiles=pools))


def test_a_cluster_without_an_oidc_issuer_is_refused_naming_the_field():
    with pytest.raises(ProgramError, match=r"cluster\.oidc_issuer_url: '' is invalid; allowed: the cluster's OIDC "
                                           r"issuer, an https:// URL") as refused:
        run(as_program(page_program()), invokes=invokes(oidcIssuerProfile={"enabled": False}))
    assert str(refused.value).startswith("InferenceStack llm: ")  # as the page quotes it


def test_a_cluster_without_a_network_policy_engine_read_as_an_output_is_refused_once_it_resolves():
    def policy_of_the_cluster() -> Any:
        import pulumi
        return pulumi.Output.from_input(CLUSTER).apply(lambda _: "none")  # e.g. networkProfile.networkPolicy
    with pytest.raises(ProgramError, match=r"cluster\.network_policy: 'none' is invalid; allowed: one of cilium, "
                                           r"calico, azure.*stored and not enforced"):
        run(_hand_built(network_policy=policy_of_the_cluster))


def test_an_issuer_read_as_an_output_that_resolves_empty_is_refused_once_it_resolves():
    """The page's `... else None` is refused as missing; a stranger's `else ""` (mypy's choice, the handle's field
    being a str) planned a federated credential with no issuer, which Entra refuses at `pulumi up`."""
    def no_issuer() -> Any:
        import pulumi
        return pulumi.Output.from_input(CLUSTER).apply(lambda _: "")
    with pytest.raises(ProgramError, match=r"cluster\.oidc_issuer_url: '' is invalid; allowed: the cluster's OIDC "
                                           r"issuer, an https:// URL"):
        run(_hand_built(oidc_issuer_url=no_issuer))


def test_an_invoke_nobody_answers_stops_the_run_naming_it_and_the_way_to_answer_it():
    with pytest.raises(ProgramError, match=r"no stand-in for invoke azure-native:containerservice:getManagedCluster "
                                           r".*'resourceName': 'aks-plat-weu'.*run\(\.\.\., invokes="):
        run(as_program(page_program()))


def test_an_answer_may_be_a_function_of_the_invokes_arguments():
    seen: list[dict[str, Any]] = []

    def answer(arguments: dict[str, Any]) -> dict[str, Any]:
        seen.append(arguments)
        return managed_cluster()
    run(as_program(page_program()), invokes={"azure-native:containerservice:getManagedCluster": answer})
    assert seen and seen[0] == {"resourceGroupName": GROUP, "resourceName": CLUSTER}


@pytest.mark.parametrize("invokes_given, refused", [
    ({"azure-native:authorization:getClientConfig": {}}, "an invoke the kit does not answer itself"),
    ({"getManagedCluster": {}}, "invoke tokens as the provider names them"),
    ({"azure-native:containerservice:getManagedCluster": "aks"}, "the invoke's result"),
    (["azure-native:containerservice:getManagedCluster"], "a dict of each invoke's token"),
])
def test_run_refuses_invokes_it_cannot_use_before_anything_runs(invokes_given, refused):
    with pytest.raises(TypeError, match=f"run: invokes.*{re.escape(refused)}"):
        run(lambda: None, invokes=invokes_given)


def _hand_built(**fields: Any) -> Callable[[], None]:
    def program() -> None:
        import pulumi
        import pulumi_kubernetes as k8s
        from llmplatform import ClusterHandle, GpuNodePool
        sub = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/rg-net/providers/Microsoft.Network/virtualNetworks/v"
        cluster: ClusterHandle = {
            "resource_group_name": GROUP, "location": "westeurope", "cluster_name": CLUSTER, "cluster_id": CLUSTER_ID,
            "vnet_id": sub, "node_subnet_id": f"{sub}/subnets/nodes", "endpoints_subnet_id": f"{sub}/subnets/pe",
            "postgres_subnet_id": f"{sub}/subnets/pg", "oidc_issuer_url": ISSUER, "kubernetes_version": "",
            "zones": [], "cpu_node_selector": {"kubernetes.azure.com/agentpool": "apps"},
            "pod_cidr": "192.168.0.0/16", "autoscaler_expander": "random", "encryption_at_host": False,
            **{k: v() if callable(v) else v for k, v in fields.items()}}  # type: ignore[typeddict-item]
        provider = k8s.Provider("ours", kubeconfig="apiVersion: v1\nkind: Config\n")
        GpuNodePool("gpu", {"cluster": cluster, "vm_size": "Standard_NC4as_T4_v3"},
                    pulumi.ResourceOptions(providers=[provider]))
    return program


@pytest.mark.parametrize("fields, refused", [
    ({"network_policy": "Calico"},
     "cluster.network_policy: 'Calico' is invalid; allowed: one of cilium, calico, azure"),
    ({"network_policy": "none"}, "stored and not enforced"),
    ({"upgrade_channel": "off"}, "cluster.upgrade_channel: 'off' is invalid; allowed: one of none, patch, stable"),
    # an issuer every federated credential trusts: "" (a cluster without one, typed as mypy takes it) planned
    ({"oidc_issuer_url": ""}, "cluster.oidc_issuer_url: '' is invalid; allowed: the cluster's OIDC issuer, an https://"),
    ({"oidc_issuer_url": "http://oidc.example/"}, "cluster.oidc_issuer_url: 'http://oidc.example/' is invalid"),
    # read with its line's newline, or no host, or a space: none is the `iss` the cluster's tokens carry
    ({"oidc_issuer_url": ISSUER + "\n"}, f"cluster.oidc_issuer_url: {ISSUER + chr(10)!r} is invalid; allowed: the "
                                          "cluster's OIDC issuer, an https:// URL with a host, no space, query"),
    ({"oidc_issuer_url": "https:///"}, "cluster.oidc_issuer_url: 'https:///' is invalid"),
    ({"oidc_issuer_url": "https://oidc example/"}, "cluster.oidc_issuer_url: 'https://oidc example/' is invalid"),
    ({"oidc_issuer_url": ISSUER + "?x=1"}, f"cluster.oidc_issuer_url: '{ISSUER}?x=1' is invalid"),
    ({"oidc_issuer_url": "https://[::1/"}, "cluster.oidc_issuer_url: 'https://[::1/' is invalid"),
])
def test_a_hand_built_handles_engine_and_channel_are_the_values_aks_names(fields, refused):
    with pytest.raises(ComponentInputError, match=re.escape(refused)) as error:
        run(_hand_built(**fields))
    assert error.value.errors and error.value.errors[0]["property_path"] == f"cluster.{next(iter(fields))}"


@pytest.mark.parametrize("issuer", [
    "https://chinanorth3.oic.prod-aks.azure.cn/tenant/cluster/",  # Azure China's AKS
    "https://usgovvirginia.oic.prod-aks.azure.us/tenant/cluster/",  # Azure Government's
    "https://westeurope.oic.prod-aks.azure.com/tenant/cluster",  # without the trailing slash
    "https://oidc.example.org:8443/clusters/a",  # not AKS's form: any https issuer Entra can read
])
def test_a_hand_built_handles_issuer_is_any_https_issuer_not_aks_public_clouds_alone(issuer):
    assert run(_hand_built(oidc_issuer_url=issuer)).of_type("azure-native:containerservice:AgentPool")


def test_a_hand_built_handles_valid_engine_and_channel_plan():
    assert run(_hand_built(network_policy="azure", upgrade_channel="none")).of_type(
        "azure-native:containerservice:AgentPool")


def _observability(monitoring: dict[str, Any], **args: Any) -> Callable[[], None]:
    def program() -> None:
        import pulumi
        import pulumi_kubernetes as k8s
        from llmplatform import Observability
        from tests.components.test_components_alone import VAULT, cluster_handle
        provider = k8s.Provider("ours", kubeconfig="apiVersion: v1\nkind: Config\n")
        Observability("obs", {"cluster": cluster_handle(), "key_vault": VAULT, "app_namespace": "llm",
                              "monitoring": monitoring, **args}, pulumi.ResourceOptions(providers=[provider]))
    return program


WORKSPACES = {"log_analytics_workspace_id": f"/subscriptions/{SUBSCRIPTION}/resourceGroups/rg-ops/providers/"
                                            "Microsoft.OperationalInsights/workspaces/law",
              "monitor_workspace_id": f"/subscriptions/{SUBSCRIPTION}/resourceGroups/rg-ops/providers/"
                                      "Microsoft.Monitor/accounts/amw", "action_group_id": ""}


@pytest.mark.parametrize("empty", ["log_analytics_workspace_id", "monitor_workspace_id"])
def test_a_hand_built_monitoring_handle_with_an_empty_workspace_is_refused_by_name(empty):
    with pytest.raises(ComponentInputError, match=f"monitoring.{empty}: '' is invalid; allowed: the workspace's"):
        run(_observability({**WORKSPACES, empty: ""}))


def test_without_azure_data_collection_only_the_alert_rules_are_created_on_the_clusters_own_pipeline():
    def azure(plan: Any) -> set[str]:
        return {r.type.split(":", 1)[1] for r in plan.resources if r.type.startswith("azure-native:")}
    collecting = run(_observability(WORKSPACES))
    alerting = run(_observability(WORKSPACES, azure_data_collection=False))
    assert {"monitor:DataCollectionEndpoint", "monitor:DataCollectionRule",
            "monitor:DataCollectionRuleAssociation"} <= azure(collecting)
    assert azure(alerting) == azure(collecting) - {"monitor:DataCollectionEndpoint", "monitor:DataCollectionRule",
                                                   "monitor:DataCollectionRuleAssociation"}
    # the cluster's own pipeline keeps its own agent ConfigMap (one per cluster): ours would take its place
    def agent_config(plan: Any) -> list[str]:
        return [r.inputs["metadata"]["name"] for r in plan.of_type("kubernetes:core/v1:ConfigMap")
                if r.inputs["metadata"].get("namespace") == "kube-system"]
    assert agent_config(collecting) == ["container-azm-ms-agentconfig"] and agent_config(alerting) == []
    def groups(plan: Any) -> set[str]:
        rule_groups = plan.of_type("azure-native:alertsmanagement:PrometheusRuleGroup")
        return {str(r.inputs["ruleGroupName"]) for r in rule_groups}
    # Microsoft's recording-rule groups carry the names `az aks update --enable-azure-monitor-metrics` gives them
    assert groups(alerting) == {"prg-obs-platform"}
    assert {g for g in groups(collecting) if g.startswith("NodeRecordingRulesRuleGroup-")}
