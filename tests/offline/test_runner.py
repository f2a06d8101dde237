"""The offline runner refuses what the real engine and APIs refuse, though the SDK's mocks accept it."""
from offline.runner import Registration, refusals


K8S = "urn:pulumi:s::p::pulumi:providers:kubernetes::k8s::id"
K2 = "urn:pulumi:s::p::pulumi:providers:kubernetes::k2::id"


# The required inputs these tests leave out, as the SDK registers them (the runner refuses a required input missing)
REQUIRED_INPUTS = {"azure-native:keyvault:Secret": {"properties": {"value": "v"}},
                   "azure-native:keyvault:Vault": {"properties": {"tenantId": "t",
                                                                  "sku": {"family": "A", "name": "standard"}}}}


def reg(urn_name: str, type_: str, inputs: dict, provider: str = K8S):
    inputs = {**REQUIRED_INPUTS.get(type_, {}), **inputs}
    return Registration(urn=f"urn:pulumi:s::p::{type_}::{urn_name}", type=type_, name=urn_name, parent="",
                        custom=True, inputs=inputs, secret_paths=[], dependencies=[], options={"provider": provider})


SECRET = "azure-native:keyvault:Secret"
CM = "kubernetes:core/v1:ConfigMap"


def test_duplicate_urn_is_refused():
    a = reg("x", SECRET, {"resourceGroupName": "rg", "vaultName": "kv1", "secretName": "a"})
    b = reg("x", SECRET, {"resourceGroupName": "rg", "vaultName": "kv2", "secretName": "b"})
    assert refusals([a, b]) == ["duplicate URN urn:pulumi:s::p::azure-native:keyvault:Secret::x"]


def test_one_azure_name_claimed_twice_is_refused_and_names_both_resources():
    a = reg("pg1-secret", SECRET, {"resourceGroupName": "rg", "vaultName": "kv", "secretName": "admin"})
    b = reg("pg2-secret", SECRET, {"resourceGroupName": "rg", "vaultName": "kv", "secretName": "admin"})
    b.dependencies.append(a.urn)  # one vault takes one write at a time: ordered, they are only one name twice
    [problem] = refusals([a, b])
    assert "pg1-secret and pg2-secret" in problem and "secretName=admin" in problem and "vaultName=kv" in problem


def test_two_writes_azure_takes_one_at_a_time_are_refused_unordered():
    """llmplatform.write_order's rules are refusals too: two secrets of one vault neither waiting for the other."""
    a = reg("one", SECRET, {"resourceGroupName": "rg", "vaultName": "kv", "secretName": "a"})
    b = reg("two", SECRET, {"resourceGroupName": "rg", "vaultName": "kv", "secretName": "b"})
    [problem] = refusals([a, b])
    assert problem.startswith("two may write Key Vault kv while one does") and problem.endswith("[vault-writes]")
    b.dependencies.append(a.urn)
    assert refusals([a, b]) == []


def test_same_secret_name_in_two_vaults_is_fine():
    a = reg("a", SECRET, {"resourceGroupName": "rg", "vaultName": "kv1", "secretName": "admin"})
    b = reg("b", SECRET, {"resourceGroupName": "rg", "vaultName": "kv2", "secretName": "admin"})
    assert refusals([a, b]) == []


def test_auto_named_azure_resources_never_collide():
    a = reg("a", "azure-native:network:PublicIPAddress", {"resourceGroupName": "rg"})
    b = reg("b", "azure-native:network:PublicIPAddress", {"resourceGroupName": "rg"})
    assert refusals([a, b]) == []
    # a resource group auto-named too (no resourceGroupName): two are two groups; two of one name are one
    group = "azure-native:resources:ResourceGroup"
    assert refusals([reg("g1", group, {}), reg("g2", group, {"location": "westeurope"})]) == []
    named = [reg(urn_name, group, {"resourceGroupName": name}) for urn_name, name in (("g1", "rg"), ("g2", "RG"))]
    assert len(refusals(named)) == 1


def test_identical_role_assignments_are_refused():
    inputs = {"principalId": "p", "roleDefinitionId": "r", "scope": "s"}
    assert len(refusals([reg("a", "azure-native:authorization:RoleAssignment", inputs),
                         reg("b", "azure-native:authorization:RoleAssignment", dict(inputs))])) == 1


def cm(urn_name: str, namespace: str, name: str, provider: str = K8S):
    return reg(urn_name, CM, {"apiVersion": "v1", "kind": "ConfigMap",
                              "metadata": {"name": name, "namespace": namespace}}, provider)


def test_one_kubernetes_object_claimed_twice_is_refused_per_cluster():
    assert len(refusals([cm("a", "kube-system", "cluster-autoscaler-priority-expander"),
                         cm("b", "kube-system", "cluster-autoscaler-priority-expander")])) == 1
    # the same name in another namespace, or in another cluster, is another object
    assert refusals([cm("a", "ns1", "x"), cm("b", "ns2", "x")]) == []
    assert refusals([cm("a", "ns", "x"), cm("b", "ns", "x", provider=K2)]) == []


def test_extension_resources_are_named_within_the_resource_they_extend():
    dcra = "azure-native:monitor:DataCollectionRuleAssociation"
    on = lambda urn_name, cluster: reg(urn_name, dcra, {"associationName": "configurationAccessEndpoint",  # noqa
                                                        "resourceUri": cluster})
    assert refusals([on("a", "/aks/1"), on("b", "/aks/2")]) == []
    assert len(refusals([on("a", "/aks/1"), on("b", "/aks/1")])) == 1


def test_a_childs_write_waits_for_what_its_component_depends_on():
    """A child registers only once its parent component has, and the component only after its `depends_on`: a
    secret inside a component that depends on another secret is ordered after it (no conflict)."""
    first = reg("first", SECRET, {"resourceGroupName": "rg", "vaultName": "kv", "secretName": "a"})
    owner = Registration(urn="urn:pulumi:s::p::my:index:Owner::owner", type="my:index:Owner", name="owner",
                         parent="", custom=False, inputs={}, secret_paths=[], dependencies=[first.urn], options={})
    child = reg("child", SECRET, {"resourceGroupName": "rg", "vaultName": "kv", "secretName": "b"})
    child.parent = owner.urn
    assert refusals([first, owner, child]) == []
    owner.dependencies.clear()
    assert [p.endswith("[vault-writes]") for p in refusals([first, owner, child])] == [True]


def test_two_providers_of_one_cluster_are_one_cluster():
    """Objects are keyed by the cluster a provider reaches (its kubeconfig's API server), not by the provider: two
    providers of one cluster claiming one namespace is one object twice."""
    def provider(name, server):
        kubeconfig = f"apiVersion: v1\nclusters:\n- name: c\n  cluster:\n    server: {server}\n"
        return Registration(urn=f"urn:pulumi:s::p::pulumi:providers:kubernetes::{name}",
                            type="pulumi:providers:kubernetes", name=name, parent="", custom=True,
                            inputs={"kubeconfig": kubeconfig}, secret_paths=[], dependencies=[], options={})

    def namespace(name, via):
        return reg(name, "kubernetes:core/v1:Namespace", {"apiVersion": "v1", "kind": "Namespace",
                                                           "metadata": {"name": "gpu"}}, via.urn + "::id")

    one, two = provider("k8s", "https://aks-a:443"), provider("mine", "https://aks-a:443")
    [problem] = refusals([one, two, namespace("a", one), namespace("b", two)])
    assert "a and b are one object" in problem and "https://aks-a:443" in problem
    other = provider("other", "https://aks-b:443")
    assert refusals([one, other, namespace("a", one), namespace("b", other)]) == []


def test_a_write_naming_a_parent_it_does_not_wait_for_is_refused():
    """A secret that names its vault, or a pool that names its cluster, by a plain string and waits for neither
    would be written while the parent is still being created."""
    vault = reg("vault", "azure-native:keyvault:Vault", {"resourceGroupName": "rg", "vaultName": "kv"})
    secret = reg("secret", SECRET, {"resourceGroupName": "rg", "vaultName": "kv", "secretName": "a"})
    assert [p.endswith("[vault-writes]") for p in refusals([vault, secret])] == [True]
    secret.dependencies.append(vault.urn)
    assert refusals([vault, secret]) == []
    cluster = reg("aks", "azure-native:containerservice:ManagedCluster", {"resourceGroupName": "rg",
                                                                          "resourceName": "aks"})
    pool = reg("pool", "azure-native:containerservice:AgentPool", {"resourceGroupName": "rg", "resourceName": "aks",
                                                                   "agentPoolName": "gpu"})
    assert [p.endswith("[cluster-writes]") for p in refusals([cluster, pool])] == [True]


def test_a_subnet_outside_its_network_or_overlapping_another_is_refused():
    """NetcfgSubnetRangeOutsideVnet and NetcfgSubnetRangesOverlap: whoever declares the subnets (a program's own
    beside the platform's), Azure refuses the range."""
    vnet = reg("vnet", "azure-native:network:VirtualNetwork", {"resourceGroupName": "rg", "virtualNetworkName": "v",
                                                               "addressSpace": {"addressPrefixes": ["10.70.0.0/16"]}})

    def subnet(name, prefix, vnet_name="v"):
        return reg(name, "azure-native:network:Subnet", {"resourceGroupName": "rg", "virtualNetworkName": vnet_name,
                                                         "subnetName": name, "addressPrefix": prefix})

    nodes = subnet("nodes", "10.70.0.0/20")
    assert refusals([vnet, nodes, subnet("mine", "10.70.16.0/24")]) == []
    [overlap] = refusals([vnet, nodes, subnet("mine", "10.70.1.0/24")])
    assert overlap.startswith("mine: subnet 10.70.1.0/24 overlaps nodes's 10.70.0.0/20") and "RangesOverlap" in overlap
    [outside] = refusals([vnet, nodes, subnet("far", "10.99.0.0/24")])
    assert "outside virtual network v's address space 10.70.0.0/16" in outside
    assert refusals([vnet, nodes, subnet("other", "10.70.1.0/24", vnet_name="w")]) == []  # another network


def test_a_maintenance_configuration_waits_for_its_cluster_only():
    """A maintenance configuration PUT is synchronous (no operation left holding the cluster): it may go beside an
    agent pool's create, and beside the other configuration, but not before the cluster exists."""
    cluster = reg("aks", "azure-native:containerservice:ManagedCluster", {"resourceGroupName": "rg",
                                                                          "resourceName": "aks"})

    def child(name, type_, *after):
        key = "agentPoolName" if type_ == "AgentPool" else "configName"
        write = reg(name, f"azure-native:containerservice:{type_}", {"resourceGroupName": "rg", "resourceName": "aks",
                                                                     key: name})
        write.dependencies.extend(a.urn for a in after)
        return write

    pool, other_pool = child("cpu", "AgentPool", cluster), child("gpu", "AgentPool", cluster)
    window = child("auto", "MaintenanceConfiguration", cluster)
    node_os = child("os", "MaintenanceConfiguration", cluster)
    assert refusals([cluster, pool, window, node_os]) == []
    # two pools still go one at a time, and a configuration still waits for the cluster's create
    assert [p.split()[0] for p in refusals([cluster, pool, other_pool])] == ["gpu"]
    early = child("early", "MaintenanceConfiguration")
    [problem] = refusals([cluster, early])
    assert problem.startswith("early may write cluster aks while aks does") and problem.endswith("[cluster-writes]")


def test_azure_names_collide_whatever_their_case_and_dns_names_in_any_group():
    """Azure names are case-insensitive (RG-A is rg-a), and a vault's, a storage account's or a PostgreSQL server's
    name is a DNS name, taken in every resource group: each pair is one name claimed twice."""
    def vault(urn_name, group, name):
        return reg(urn_name, "azure-native:keyvault:Vault", {"resourceGroupName": group, "vaultName": name})

    [problem] = refusals([vault("a", "rg-a", "kv-shared"), vault("b", "rg-b", "kv-shared")])
    assert "a and b are one object" in problem and "vaultname=kv-shared" in problem.lower()
    group = "azure-native:resources:ResourceGroup"
    assert len(refusals([reg("a", group, {"resourceGroupName": "RG-A"}),
                         reg("b", group, {"resourceGroupName": "rg-a"})])) == 1
    subnet = "azure-native:network:Subnet"  # a name unique within its group is still fine in another group
    in_group = {"virtualNetworkName": "v", "subnetName": "s"}
    assert refusals([reg("a", subnet, {"resourceGroupName": "rg-a", **in_group}),
                     reg("b", subnet, {"resourceGroupName": "rg-b", **in_group})]) == []


def test_one_role_assignment_or_diagnostic_setting_whatever_the_case_of_its_ids():
    """Azure keys a role assignment by principal, role and scope, and an extension resource by the id it extends,
    each compared without case (an ARM id built from a group's own id says `/resourcegroups/`, one cut from a child's
    `/resourceGroups/`): the second create is refused as the first's (RoleAssignmentExists)."""
    scope = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-a"
    role = "/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7"

    def grant(name, on, principal="AAAA-1111"):
        return reg(name, "azure-native:authorization:RoleAssignment",
                   {"principalId": principal, "roleDefinitionId": role, "scope": on})
    [problem] = refusals([grant("a", scope), grant("b", scope.replace("resourceGroups", "resourcegroups"),
                                                   "aaaa-1111")])
    assert "a and b are one object" in problem
    assert refusals([grant("a", scope), grant("b", scope + "-other")]) == []

    def setting(name, uri):
        return reg(name, "azure-native:monitor:DiagnosticSetting", {"name": "to-logs", "resourceUri": uri})
    vault = scope + "/providers/Microsoft.KeyVault/vaults/kv"
    assert len(refusals([setting("a", vault), setting("b", vault.upper())])) == 1  # one name on one resource
    assert refusals([setting("a", vault), setting("b", vault + "2")]) == []


def test_a_shared_plan_changed_in_place_is_named_when_the_worker_ends():
    """Every test reads the same cached plan of a stack; one that edits it in place (not a copy) changes what later
    tests on its worker read, so they pass or fail by the order tests run in (seen: a helper overwrote the cached dev
    cluster's ignoreChanges). conftest's `plans_left_as_made` fails the session naming the plan; its check, here on a
    change undone before the test ends."""
    from tests.conftest import changed_plans, plan_for
    dev = plan_for("dev")
    options = dev.resources[0].options
    before = dict(options)
    try:
        options["protect"] = not options.get("protect")
        assert changed_plans() == ["dev {}"]
    finally:
        options.clear()
        options.update(before)
    assert changed_plans() == []
