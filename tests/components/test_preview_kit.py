"""The kit's preview (`llmplatform.testing.run(..., preview=True)`): each create answered as its provider answers
`pulumi preview` of a new stack (docs/decisions.md "A fresh stack's preview"), so what a program does with values not
known until `pulumi up` is tried before a pull request's preview tries it."""
import functools

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random
import pytest
from pulumi_azure_native import authorization, containerservice as cs, resources

from llmplatform.testing import ProgramError, run

ROLE = "/subscriptions/00000000-0000-0000-0000-000000000000/providers/Microsoft.Authorization/roleDefinitions/r"


def _program(ran: list[str], read_by_name: bool = False, group_of_rg: bool = False) -> None:
    """A resource group, a cluster, a grant to the cluster's identity, a password, and a namespace and a ConfigMap in
    it on the cluster (its provider's kubeconfig read from the cluster, as AksCluster reads it); `ran` gets the name of
    each apply that ran. `group_of_rg`: the cluster's group given as `rg.name` (unknown in a preview), not as text."""
    def seen(what: str):
        return lambda value: ran.append(what) or value
    rg = resources.ResourceGroup("rg", resource_group_name="rg-app", location="westeurope")
    cluster = cs.ManagedCluster("aks", resource_group_name=rg.name if group_of_rg else "rg-app",
                                resource_name_="aks-app", location="westeurope",
                                dns_prefix="aks", identity=cs.ManagedClusterIdentityArgs(type="SystemAssigned"),
                                opts=pulumi.ResourceOptions(depends_on=[rg]))
    rg.location.apply(seen("location"))  # an input of the output's name: known in a preview
    rg.name.apply(seen("name"))  # no input is called `name`: Azure's answer
    cluster.identity.apply(seen("identity"))  # its principalId is Azure's
    authorization.RoleAssignment("grant", principal_id=cluster.identity.apply(lambda i: i.principal_id),
                                 principal_type="ServicePrincipal", role_definition_id=ROLE, scope=rg.id)
    random.RandomPassword("pw", length=16).result.apply(seen("password"))
    credentials = cs.list_managed_cluster_user_credentials_output(
        resource_group_name="rg-app", resource_name="aks-app" if read_by_name else cluster.name)
    provider = k8s.Provider("k8s", kubeconfig=credentials.kubeconfigs.apply(lambda k: k[0].value))
    ns = k8s.core.v1.Namespace("ns", metadata={"name": "team"}, opts=pulumi.ResourceOptions(provider=provider))
    ns.metadata.apply(seen("namespace"))
    k8s.core.v1.ConfigMap("config", metadata={"name": "config", "namespace": ns.metadata.name},
                          data={"a": "b"}, opts=pulumi.ResourceOptions(provider=provider))


@functools.lru_cache(maxsize=None)
def _ran(preview: bool):
    ran: list[str] = []
    return run(lambda: _program(ran), preview=preview), ran


def test_a_preview_knows_only_what_the_providers_preview_answers():
    """azure-native projects a create's inputs on its outputs and leaves the rest unknown (its `name`, an identity's
    principal id); a Kubernetes provider whose kubeconfig is not known answers no output at all; random's result is
    made at the create. The same program as `pulumi up` runs every apply."""
    up, ran_up = _ran(False)
    preview, ran = _ran(True)
    assert sorted(ran_up) == ["identity", "location", "name", "namespace", "password"]
    assert ran == ["location"]
    assert [r.urn for r in preview.resources] == [r.urn for r in up.resources]


def test_a_preview_sends_no_invoke_of_a_resource_it_creates_and_refuses_one_named_as_text():
    """The credentials of a cluster not created yet are not asked for (its name is not known, and the engine answers
    an invoke whose dependency is still to be created as unknown); named as plain text the invoke is sent and Azure
    answers 404, which a preview of a new stack fails on."""
    up, _ = _ran(False)
    preview, _ = _ran(True)
    token = "azure-native:containerservice:listManagedClusterUserCredentials"
    assert token in {t for t, _ in up.invokes} and token not in {t for t, _ in preview.invokes}
    with pytest.raises(ProgramError, match=f"{token} reads rg-app/aks-app, which this stack creates"):
        run(lambda: _program([], read_by_name=True), preview=True)
    # the usual program gives the cluster `rg.name`, not known in a preview: the read is in a group not created yet
    with pytest.raises(ProgramError, match=f"{token} reads rg-app/aks-app, in resource group rg-app, which this "
                                           "stack creates"):
        run(lambda: _program([], read_by_name=True, group_of_rg=True), preview=True)


def test_a_urn_registered_twice_with_inputs_not_known_yet_is_refused():
    """The engine refuses a second registration of one URN whatever its inputs; a preview leaves the names and
    routes of objects with unknown inputs to the up run, not that."""
    def program() -> None:
        group = resources.ResourceGroup("rg", location="westeurope")
        for _ in range(2):
            k8s.core.v1.ConfigMap("config", metadata={"namespace": "team"}, data={"group": group.name})
    with pytest.raises(ProgramError, match="duplicate URN .*ConfigMap::config"):
        run(program, preview=True)


def test_the_kits_checks_and_advice_leave_values_not_known_yet_alone():
    """A grant whose principal and scope are not known yet is no input of the wrong type (azure-native checks no
    unknown value); a ConfigMap in a namespace whose name is not known yet is no advice to create that namespace."""
    preview, _ = _ran(True)
    assert preview.warnings == []
    assert "grant" in {r.name for r in preview.resources}


def test_a_location_left_to_the_providers_config_is_known_in_a_preview_and_an_up():
    """pulumi-azure-native's Check gives a resource whose body takes a location and was given none its provider's
    `location` config (provider.go `applyDefaults` -> `getDefaultLocation`): the default provider's is the stack's
    `azure-native:location`, an explicit provider's its `location` input. Create answers it as an output, in a
    preview too (`PreviewOutputs` projects the checked inputs); the kit left it unknown in a preview, None in an up.
    What Azure itself answers (`azureApiVersion`, not in the provider's response metadata; `type`, no constant)
    stays unknown in a preview."""
    import pulumi_azure_native as azure_native

    def program() -> None:
        explicit = pulumi.ComponentResource("test:index:Region", "north")
        provider = azure_native.Provider("p", location="norwayeast", opts=pulumi.ResourceOptions(parent=explicit))
        default = resources.ResourceGroup("default", resource_group_name="rg-default")
        other = resources.ResourceGroup("other", resource_group_name="rg-other", opts=pulumi.ResourceOptions(
            parent=explicit, provider=provider))
        pulumi.export("default", default.location)
        pulumi.export("explicit", other.location)
        pulumi.export("version", default.azure_api_version)
        pulumi.export("type", default.type)
        pulumi.export("id", default.id)
    # the stack's subscription too: the default provider's config (an explicit one given none keeps the kit's)
    config = {"azure-native:location": "swedencentral", "azure-native:subscriptionId": "1" * 8 + "-1111-1111-1111-"
              + "1" * 12}
    preview = run(program, config=config, preview=True)
    assert (preview.outputs, sorted(preview.unknown_outputs)) == (
        {"default": "swedencentral", "explicit": "norwayeast"}, ["id", "type", "version"])
    # the group's id in the stack's subscription: /subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}
    # (Azure REST API, Resource Groups - Get), compared without case as ARM compares ids
    outputs = run(program, config=config).outputs
    assert {k: v for k, v in outputs.items() if k in ("default", "explicit")} == {
        "default": "swedencentral", "explicit": "norwayeast"}
    assert outputs["id"].lower() == f"/subscriptions/{config['azure-native:subscriptionId']}/resourcegroups/rg-default"


def test_a_programs_own_null_is_recorded_as_null_and_a_value_not_known_yet_as_unknown():
    """What pulumi-kubernetes and the engine do in a preview (docs/decisions.md, "The kit's preview records what the
    provider does"): a null the program writes is a null (the engine's RegisterResource and pulumi-kubernetes'
    Check and Create unmarshal with `SkipNulls: false`; a Create whose inputs hold an unknown answers them as given),
    and only the wire's unknown is a value not known yet. The kit recorded every null of a Kubernetes object in a
    preview as unknown (a Deployment's `tolerations: None`, as kube.py writes it), and of any resource whose inputs
    held an unknown elsewhere (a cluster's `osDiskType: None` beside a group's name not known yet)."""
    from offline import policy_check, wire

    def program() -> None:
        rg = resources.ResourceGroup("rg", resource_group_name="rg-app", location="westeurope")
        cs.ManagedCluster("aks", resource_group_name=rg.name, resource_name_="aks-app", location="westeurope",
                          dns_prefix="aks", identity=cs.ManagedClusterIdentityArgs(type="SystemAssigned"),
                          agent_pool_profiles=[cs.ManagedClusterAgentPoolProfileArgs(
                              name="system", mode="System", vm_size="Standard_D2s_v5", count=1, os_disk_type=None)])
        release = random.RandomString("release", length=8, special=False).result
        provider = k8s.Provider("k8s", kubeconfig="apiVersion: v1")
        k8s.apps.v1.Deployment("app", metadata={"name": "app", "namespace": "a"}, spec={
            "selector": {"matchLabels": {"app": "app"}},
            "template": {"metadata": {"labels": {"app": "app", "release": release}},
                         "spec": {"tolerations": None, "containers": [{"name": "app", "image": "example/app:1"}]}}},
            opts=pulumi.ResourceOptions(provider=provider))
    for preview in (False, True):
        plan = run(program, preview=preview)
        app, aks = plan.one("kubernetes:apps/v1:Deployment", "app"), plan.one(
            "azure-native:containerservice:ManagedCluster", "aks")
        assert app.unknown_paths == (["spec.template.metadata.labels.release"] if preview else []), app.unknown_paths
        assert aks.unknown_paths == (["resourceGroupName"] if preview else []), aks.unknown_paths
        sent = policy_check.wire_inputs(app)["spec"]["template"]
        assert "tolerations" not in sent["spec"]  # the engine's null, read by a policy as None either way
        assert sent["metadata"]["labels"]["release"] == (wire.UNKNOWN if preview else "offline-random-value")
