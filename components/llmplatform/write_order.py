"""Writes Azure takes one at a time (and a resource group before what goes in it), and whether a program orders
them: the mocks (and the engine) run every two resources neither of which waits for the other at once, and for these
Azure refuses the second with an error no provider retries. Read over a run's registrations (llmplatform.testing
refuses a program that breaks one; the repository's deploy model reports them too). Each rule's source is in its
docstring."""
from typing import TYPE_CHECKING, Callable, NamedTuple, Optional

if TYPE_CHECKING:
    from .testing.records import Registration

AGENT_POOL = "azure-native:containerservice:AgentPool"
MANAGED_CLUSTER = "azure-native:containerservice:ManagedCluster"
# Sub-resources of an AKS cluster, written after its create (agent pools also one at a time).
MAINTENANCE = "azure-native:containerservice:MaintenanceConfiguration"
CLUSTER_WRITES = (AGENT_POOL, MAINTENANCE)
SUBNET = "azure-native:network:Subnet"
FEDERATION = "azure-native:managedidentity:FederatedIdentityCredential"
PRIVATE_ENDPOINT = "azure-native:network:PrivateEndpoint"
VAULT = "azure-native:keyvault:Vault"
RESOURCE_GROUP = "azure-native:resources:ResourceGroup"
K8S_PROVIDER = "pulumi:providers:kubernetes"


class Conflict(NamedTuple):
    """Two writes Azure refuses at once: the rule, the later resource's name, what to do, and the two URNs."""
    rule: str
    resource: str
    message: str
    between: tuple[str, ...] = ()


def provider_urn(reg: "Registration") -> Optional[str]:
    ref = reg.options.get("provider")
    return ref.rsplit("::", 1)[0] if ref else None


def predecessors(resources: list["Registration"],
                 is_step: Callable[["Registration"], bool] = lambda r: r.custom) -> dict[str, set[str]]:
    """Each step's direct predecessors: its dependencies (a component's stand for its steps), those of the components
    it is inside (a child registers only once its parent has, and a component registers only after its own
    `depends_on`), and its provider."""
    by_urn = {r.urn: r for r in resources}
    children: dict[str, list[str]] = {}
    for r in resources:
        children.setdefault(r.parent, []).append(r.urn)
    k8s_providers = [r.urn for r in resources if r.type == K8S_PROVIDER]

    def expand(urn: str) -> set[str]:
        reg = by_urn.get(urn)
        if reg is None:
            return set()
        if is_step(reg):
            return {urn}
        return {u for c in children.get(urn, []) for u in expand(c)}

    def enclosing(reg: "Registration") -> list["Registration"]:
        found, parent = [], by_urn.get(reg.parent)
        while parent is not None and not is_step(parent):
            found.append(parent)
            parent = by_urn.get(parent.parent)
        return found

    graph: dict[str, set[str]] = {}
    for reg in resources:
        if not is_step(reg):
            continue
        deps = {u for d in reg.dependencies for u in expand(d)}
        for component in enclosing(reg):  # (its own steps aside: a component never waits for what it holds)
            deps |= {u for d in component.dependencies for u in expand(d)} - expand(component.urn)
        provider = provider_urn(reg)
        if provider in by_urn:
            deps.add(provider)
        elif reg.type.startswith("kubernetes:") and len(k8s_providers) == 1:
            deps.add(k8s_providers[0])
        deps.discard(reg.urn)
        graph[reg.urn] = deps
    return graph


def ancestors(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """Everything each step waits for, directly or not."""
    memo: dict[str, set[str]] = {}

    def walk(urn: str) -> set[str]:
        if urn not in memo:
            memo[urn] = set()
            found: set[str] = set()
            for dep in graph.get(urn, ()):
                found.add(dep)
                found |= walk(dep)
            memo[urn] = found
        return memo[urn]
    for urn in graph:
        walk(urn)
    return memo


def conflicts(resources: list["Registration"], before: Optional[dict[str, set[str]]] = None) -> list[Conflict]:
    """Every pair of writes Azure refuses at once that the program leaves unordered (`before`: `ancestors` of
    `predecessors`, computed when not given)."""
    if before is None:
        before = ancestors(predecessors(resources))
    found = (check_cluster_writes(resources, before) + check_vnet_writes(resources, before)
             + check_identity_writes(resources, before) + check_server_writes(resources, before)
             + check_vault_writes(resources, before) + check_group_first(resources, before))
    by_urn = {r.urn: r for r in resources}
    return [_with_the_way_out(c, by_urn) for c in found]


def _with_the_way_out(conflict: Conflict, by_urn: dict[str, "Registration"]) -> Conflict:
    """When one of the two is inside a component of this package and the other is not (a program's own resource
    beside the platform's), say which of the program's own to make wait, and for what."""

    def owner(urn: str) -> Optional["Registration"]:  # the top-level component holding it, or itself
        reg = by_urn.get(urn)
        while reg is not None and reg.parent in by_urn and by_urn[reg.parent].type != "pulumi:pulumi:Stack":
            reg = by_urn[reg.parent]
        return reg
    owners = [owner(urn) for urn in conflict.between]
    ours = [o for o in owners if o is not None and o.type.startswith("llmplatform:")]
    theirs = [o for o in owners if o is not None and not o.type.startswith("llmplatform:")]
    if len(ours) != 1 or len(theirs) != 1:
        return conflict
    mine, platform = theirs[0], ours[0]
    return conflict._replace(message=f"{conflict.message} (in this program: give {mine.type.split(':')[-1]} "
                                     f"'{mine.name}' a depends_on on {platform.type.split(':')[-1]} "
                                     f"'{platform.name}')")


def _of_type(resources: list["Registration"], type_: str) -> list["Registration"]:
    return [r for r in resources if r.type == type_]


def check_cluster_writes(resources: list["Registration"], before: dict[str, set[str]]) -> list[Conflict]:
    """AKS refuses a write while another operation holds the cluster or the pool ('OperationNotAllowed: Another
    operation is in progress', troubleshoot/azure/azure-kubernetes/create-upgrade-delete/operationnotallowed) and
    pulumi-azure-native retries only 409 AnotherOperationInProgress; which writes to different pools collide is not
    documented, so a cluster's pools go one at a time (the VNet rule below requires it of pools in one network
    anyway), each after the cluster's create. A maintenance configuration waits for the cluster's create only: its
    PUT is synchronous (200/201, no long-running operation left to hold the cluster: the 2025-10-01 API as
    terraform-provider-azurerm's generated client calls it), terraform-provider-azurerm writes them after the
    create with no lock, and Microsoft's verified modules (Azure/bicep-registry-modules
    avm/res/container-service/managed-cluster, its Terraform twin) write them beside the agent pools."""
    # the cluster's own create too: a pool or configuration named after a cluster it does not wait for
    writes = _grouped([r for r in resources if r.type in CLUSTER_WRITES + (MANAGED_CLUSTER,)], "resourceName")
    conflicts = _one_at_a_time("cluster-writes", "cluster", writes, before,
                               "AKS refuses a second operation in progress (OperationNotAllowed)")
    type_of = {r.urn: r.type for r in resources}
    pairs = [{type_of[urn] for urn in c.between} for c in conflicts]
    return [c for c, types in zip(conflicts, pairs) if MAINTENANCE not in types or MANAGED_CLUSTER in types]


def _grouped(regs: list["Registration"], name_input: str) -> dict[tuple[str, str], list["Registration"]]:
    """regs by (resource group, the parent their `name_input` names), in plan order."""
    groups: dict[tuple[str, str], list["Registration"]] = {}
    for reg in regs:
        groups.setdefault((str(reg.inputs.get("resourceGroupName")), str(reg.inputs.get(name_input))), []).append(reg)
    return groups


def _one_at_a_time(rule: str, what: str, groups: dict[tuple[str, str], list["Registration"]],
                   before: dict[str, set[str]], refusal: str, fix: str = "chain them with dependsOn") -> list[Conflict]:
    """A problem for each pair of writes to one parent that a first `pulumi up` may run at once."""
    return [Conflict(rule, b.name, f"may write {what} {parent} while {a.name} does: {refusal}; fix: {fix}",
                     (a.urn, b.urn))
            for (_, parent), writes in groups.items() for a, b in _unordered(writes, before)]


def _unordered(regs: list["Registration"], before: dict[str, set[str]]) -> list[tuple["Registration", "Registration"]]:
    """Pairs of regs neither of which waits for the other: a first `pulumi up` may run them at once."""
    return [(a, b) for i, a in enumerate(regs) for b in regs[i + 1:]
            if a.urn not in before.get(b.urn, ()) and b.urn not in before.get(a.urn, ())]


def network_writers(resources: list["Registration"]) -> dict[tuple[str, str], list["Registration"]]:
    """The creates that write each virtual network (resource group, name): its subnets, and the AKS clusters, agent
    pools and private endpoints placed on one of them (a dependency on the subnet, whose id they take)."""
    network_of = {r.urn: (str(r.inputs.get("resourceGroupName")), str(r.inputs.get("virtualNetworkName")))
                  for r in resources if r.type == SUBNET}
    writers: dict[tuple[str, str], list["Registration"]] = {}
    for reg in resources:
        if reg.type == SUBNET:
            networks = {network_of[reg.urn]}
        elif reg.type in (MANAGED_CLUSTER, AGENT_POOL, PRIVATE_ENDPOINT):
            networks = {network_of[d] for d in reg.dependencies if d in network_of}
        else:
            continue
        for key in sorted(networks):
            writers.setdefault(key, []).append(reg)
    return writers


def check_vnet_writes(resources: list["Registration"], before: dict[str, set[str]]) -> list[Conflict]:
    """AKS sets its ownership of a bring-your-own virtual network on every cluster and agent-pool create and fails
    when the network is not in Succeeded state ('SetVNetOwnershipFailed ... VirtualNetworkNotInSucceededState: ... is
    in Updating state', Azure/AKS#4522, 2024: two pools created at once on one subnet); a subnet write puts its
    network in Updating; Microsoft's troubleshooting page for VirtualNetworkNotInSucceededState (2025-08) names any
    create, update or delete still running on the network, and parallel cluster or pool deployments on it.
    terraform-provider-azurerm serialises pool creates on one subnet (PRs #29537, #32001; a network-wide lock is
    proposed in PR #32682 after regression report #30769). A private endpoint's create fails
    the same way on a subnet in Updating state ('RetryableError' / 'ReferencedResourceNotProvisioned ...
    PutSubnetOperation', terraform-provider-azurerm #21293 and #30197, whose private endpoint create retries
    those codes since PR #28112); pulumi-azure-native retries no failed long-running operation."""
    problems = []
    aks = (MANAGED_CLUSTER, AGENT_POOL)
    for (_, network), writers in network_writers(resources).items():
        for a, b in _unordered(writers, before):
            if PRIVATE_ENDPOINT in (a.type, b.type) and (a.type in aks or b.type in aks):
                continue  # no report of an endpoint holding the network in Updating state against AKS
            if a.type in aks or b.type in aks:
                creator, other = (a, b) if a.type in aks else (b, a)
                problems.append(Conflict("vnet-writes", creator.name, f"may be created while {other.name} writes "
                                        f"virtual network {network}: AKS fails setting its ownership of a network "
                                        "in Updating state (SetVNetOwnershipFailed); fix: dependsOn, one write to "
                                        "the network at a time", (creator.urn, other.urn)))
            elif PRIVATE_ENDPOINT in (a.type, b.type) and SUBNET in (a.type, b.type):
                endpoint, subnet = (a, b) if a.type == PRIVATE_ENDPOINT else (b, a)
                problems.append(Conflict("vnet-writes", endpoint.name, f"may be created while subnet {subnet.name} of "
                                        f"virtual network {network} is written: the endpoint fails on a subnet in "
                                        "Updating state (ReferencedResourceNotProvisioned, terraform-provider-azurerm "
                                        "#21293), which azure-native does not retry; fix: dependsOn the network's "
                                        "last subnet", (endpoint.urn, subnet.urn)))
    return problems


def check_server_writes(resources: list["Registration"], before: dict[str, set[str]]) -> list[Conflict]:
    """A PostgreSQL flexible server takes one write to its children at a time: terraform-provider-azurerm locks the
    server's name around every create of a configuration, database, firewall rule, Entra administrator, backup and
    virtual endpoint (internal/services/postgres/postgresql_flexible_server_*_resource.go, locks.ByName(
    FlexibleServerName))."""
    children = [r for r in resources
                if r.type.startswith("azure-native:dbforpostgresql:") and "serverName" in r.inputs]
    writes = _grouped(children, "serverName")
    return _one_at_a_time("server-writes", "PostgreSQL server", writes, before, "the server takes one change at a time")


def check_vault_writes(resources: list["Registration"], before: dict[str, set[str]]) -> list[Conflict]:
    """Key Vault takes one write at a time: parallel secret writes fail with ConflictError ('serialize the operations
    so that only one operation is performed ... at a time', pulumi-azure-native#1013, open, whose workaround is a
    dependsOn chain), and so does a private endpoint to the vault, whose connection the vault records
    (terraform-provider-azurerm PRs #32095 and #32261, 2026). The endpoint is the vault's when it waits for it."""
    vaults = {r.urn: (str(r.inputs.get("resourceGroupName")), str(r.inputs.get("vaultName")))
              for r in _of_type(resources, VAULT)}
    groups: dict[tuple[str, str], list["Registration"]] = {}
    for reg in resources:  # in plan order: the later of two writes is the one named
        # the vault's own create too: a secret naming a vault it does not wait for
        if reg.type in ("azure-native:keyvault:Secret", VAULT):
            keys = {(str(reg.inputs.get("resourceGroupName")), str(reg.inputs.get("vaultName")))}
        else:
            keys = {vaults[d] for d in reg.dependencies if d in vaults} if reg.type == PRIVATE_ENDPOINT else set()
        for key in sorted(keys):
            groups.setdefault(key, []).append(reg)
    return _one_at_a_time("vault-writes", "Key Vault", groups, before, "the vault refuses parallel writes "
                          "(ConflictError)", "write secrets with llmplatform.key_vault.vault_secret, which queues "
                          "every write to a vault, or chain them with dependsOn")


def check_identity_writes(resources: list["Registration"], before: dict[str, set[str]]) -> list[Conflict]:
    """Entra ID, 'Important considerations and restrictions for federated identity credentials': creating several
    under one user-assigned identity at once fails with 409 Conflict ('concurrent write request ... has been
    denied'; create them sequentially, with dependsOn), and an issuer and subject pair already on the identity is
    refused (400)."""
    groups = _grouped(_of_type(resources, FEDERATION), "resourceName")
    problems = _one_at_a_time("identity-writes", "the federated credentials of identity", groups, before,
                              "Entra ID refuses concurrent writes under one identity (409 Conflict)")
    for (_, identity), creds in groups.items():
        pairs: dict[tuple[str, str], str] = {}
        for reg in creds:
            pair = (str(reg.inputs.get("issuer")), str(reg.inputs.get("subject")))
            if pair in pairs:
                problems.append(Conflict("identity-writes", reg.name, f"repeats {pairs[pair]}'s issuer and subject "
                                        f"{pair[1]} under identity {identity}: refused ('Issuer and subject "
                                        "combination already exists for this Managed Identity')"))
            pairs.setdefault(pair, reg.name)
    return problems


def check_group_first(resources: list["Registration"], before: dict[str, set[str]]) -> list[Conflict]:
    """A resource created in a resource group that the same program creates must wait for that group: Azure Resource
    Manager refuses the create of a resource in a group that does not exist yet (404 ResourceGroupNotFound,
    "Resource group '...' could not be found", as terraform-provider-azurerm reports it), and a resource created at
    the same time as what it needs fails as not found (MicrosoftDocs/azure-docs @09c559f7 articles/
    azure-resource-manager/troubleshooting/error-not-found.md, "Solution 2 - set dependencies"); pulumi-azure-native
    does not retry it. A group's name taken as its `name` output makes the resource wait; the same name as a plain
    string (AzureMonitoring given "rg-x" beside an AksCluster that creates "rg-x") does not. Group names are
    case-insensitive. A group the program adopts (`import_`) exists before the run: the engine's import step only
    reads it (pulumi/pulumi `pkg/resource/deploy/step.go` `ImportStep`), so nothing in it waits for it. A group is
    one subscription's: a resource whose provider names another `subscriptionId` is in another group of that name
    (providers that name none share the ambient subscription)."""
    by_urn = {r.urn: r for r in resources}

    def subscription(reg: "Registration") -> str:
        provider = by_urn.get(provider_urn(reg) or "")
        value = provider.inputs.get("subscriptionId") if provider is not None else None
        return value.lower() if isinstance(value, str) else ""

    groups: dict[tuple[str, str], "Registration"] = {}
    for reg in _of_type(resources, RESOURCE_GROUP):
        if reg.options.get("import"):
            continue
        groups.setdefault((subscription(reg), str(reg.inputs.get("resourceGroupName", "")).lower()), reg)
    problems = []
    for reg in resources:
        group = reg.inputs.get("resourceGroupName") if reg.custom and reg.type.startswith("azure-native:") else None
        creator = groups.get((subscription(reg), group.lower())) if isinstance(group, str) and group else None
        if creator is None or reg.type == RESOURCE_GROUP or creator.urn in before.get(reg.urn, ()):
            continue
        problems.append(Conflict("group-first", reg.name, f"may be created before resource group {group}, which "
                                 f"{creator.name} creates: Azure refuses a resource in a group that does not exist "
                                 "yet (404 ResourceGroupNotFound); fix: take the group's name from the resource that "
                                 "creates it (an output; AksCluster: existing_resource_group with a group of your "
                                 "own), or dependsOn it", (creator.urn, reg.urn)))
    return problems
