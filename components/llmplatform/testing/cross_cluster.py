"""A cluster's objects given what another cluster of the program holds: a volume claim this program creates on
another cluster only (ModelStore's `volume` handed to a model server on the wrong cluster), a Key Vault whose network
rules admit another cluster's nodes only (KeyVault built for one cluster's handle, its `vault` handed to components
on another), a Gateway of another cluster (GatewayAccess's `route_target`: the route attaches nowhere), and a node
label that only another cluster's pools carry (GpuNodePool's `scheduling` handed to a model server on the wrong
cluster: no node matches its selector). The API server and Azure take every create; the pods never start (a claim
not found or a selector no node matches leaves them Pending, the vault's firewall answers the Secrets Store CSI
driver 403 and the mount fails), so `pulumi up` waits out each Deployment's deadline and fails, and a route is served
by no Gateway. Judged only where both sides are this program's: a claim, a vault, a Gateway or a pool the program
does not create may exist already."""
from typing import Any, NamedTuple, Optional

from ..monitoring import POOL_NODE_LABELS
from ..taints import pool_taints, tolerates
from .clusters import _cluster_of
from .records import Registration
from .shapes import pod_template

_WORKLOADS = {"Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "Pod"}
_VAULT = "azure-native:keyvault:Vault"
_VAULT_ZONE = "privatelink.vaultcore.azure.net"


def _claims(reg: Registration) -> list[str]:
    return [str(v["persistentVolumeClaim"]["claimName"]) for v in pod_template(reg.inputs)[1].get("volumes") or []
            if isinstance(v, dict) and isinstance((v.get("persistentVolumeClaim") or {}).get("claimName"), str)]


def _namespace(reg: Registration) -> Optional[str]:
    namespace = (reg.inputs.get("metadata") or {}).get("namespace")
    return namespace if isinstance(namespace, str) else None


def claims_of_other_clusters(resources: list[Registration], clusters: dict[str, str]) -> list[str]:
    """A pod template on one cluster mounting a claim (namespace, name) this program creates on other clusters only."""
    created: dict[tuple[str, str], dict[Any, Registration]] = {}
    for reg in resources:
        if reg.is_kubernetes_object and reg.inputs.get("kind") == "PersistentVolumeClaim":
            name, namespace = (reg.inputs.get("metadata") or {}).get("name"), _namespace(reg)
            if isinstance(name, str) and namespace is not None:
                created.setdefault((namespace, name), {})[_cluster_of(reg, clusters)] = reg
    problems = []
    for reg in resources:
        if not (reg.is_kubernetes_object and reg.inputs.get("kind") in _WORKLOADS):
            continue
        cluster, namespace = _cluster_of(reg, clusters), _namespace(reg)
        for claim in _claims(reg):
            elsewhere = created.get((namespace or "", claim)) or {}
            if elsewhere and cluster not in elsewhere:
                other, pvc = next(iter(elsewhere.items()))
                problems.append(
                    f"{reg.name} on cluster {cluster} mounts claim {namespace}/{claim}, which this program creates on "
                    f"cluster {other} only ({pvc.name}): on {cluster} its pods stay Pending (no such claim) and "
                    f"`pulumi up` waits out their deadline; give it a volume of its own cluster (a ModelStore built "
                    f"with that cluster's handle and provider)")
    return problems


def _cluster_subnets(resources: list[Registration]) -> dict[str, set[str]]:
    """AKS cluster name (lower case) -> its pools' subnet ids (lower case): the inline pools and the AgentPools."""
    found: dict[str, set[str]] = {}
    for reg in resources:
        if reg.type == "azure-native:containerservice:ManagedCluster":
            pools = [p for p in reg.inputs.get("agentPoolProfiles") or [] if isinstance(p, dict)]
        elif reg.type == "azure-native:containerservice:AgentPool":
            pools = [reg.inputs]
        else:
            continue
        name = reg.inputs.get("resourceName")
        if isinstance(name, str):
            found.setdefault(name.lower(), set()).update(
                p["vnetSubnetID"].lower() for p in pools if isinstance(p.get("vnetSubnetID"), str))
    return found


def _aks_name(cluster: Any) -> Optional[str]:
    """The AKS cluster an API server address names (the mocks' and AKS's `<dns prefix>.hcp.<region>.azmk8s.io`, the
    prefix its name in AksCluster), or None for any other address."""
    if not isinstance(cluster, str) or ".hcp." not in cluster:
        return None
    return cluster.split("//", 1)[-1].split(".hcp.", 1)[0].lower()


def _linked_vnets(resources: list[Registration]) -> set[str]:
    """VNets (lower-case ids) linked to a Key Vault private DNS zone of this program."""
    linked = set()
    for reg in resources:
        if reg.type.endswith(":VirtualNetworkLink") and str(reg.inputs.get("privateZoneName", "")).lower() == \
                _VAULT_ZONE:
            vnet = (reg.inputs.get("virtualNetwork") or {}).get("id")
            if isinstance(vnet, str):
                linked.add(vnet.lower())
    return linked


def vaults_closed_to_their_readers(resources: list[Registration], clusters: dict[str, str]) -> list[str]:
    """A SecretProviderClass on one cluster reading a vault of this program that the cluster's nodes cannot reach:
    no private DNS zone of the program links their VNet (a private endpoint's traffic passes Key Vault's firewall:
    learn.microsoft.com azure/key-vault/general/overview-vnet-service-endpoints), and public access is off or the
    firewall (default Deny) admits none of their subnets."""
    vaults = {str(r.inputs["vaultName"]).lower(): r for r in resources
              if r.type == _VAULT and isinstance(r.inputs.get("vaultName"), str)}
    subnets, linked = _cluster_subnets(resources), _linked_vnets(resources)
    problems = []
    for reg in resources:
        if not (reg.is_kubernetes_object and reg.inputs.get("kind") == "SecretProviderClass"):
            continue
        name = ((reg.inputs.get("spec") or {}).get("parameters") or {}).get("keyvaultName")
        vault = vaults.get(name.lower()) if isinstance(name, str) else None
        cluster = _cluster_of(reg, clusters)
        nodes = subnets.get(_aks_name(cluster) or "")
        if vault is None or not nodes:
            continue
        props = vault.inputs.get("properties") or {}
        acls = props.get("networkAcls") or {}
        vnets = {s.split("/subnets/", 1)[0] for s in nodes}
        if props.get("publicNetworkAccess") == "Disabled":
            if not vnets & linked:
                problems.append(
                    f"{reg.name} on cluster {cluster} reads vault {name}, which takes private endpoint traffic alone "
                    f"({vault.name}: public network access off) and whose private DNS zone links no VNet of that "
                    f"cluster: there {name}.vault.azure.net answers with the public address the vault refuses, the "
                    f"Secrets Store CSI driver's mount fails and the pods never start; give the components on that "
                    f"cluster a KeyVault built with its own cluster handle")
            continue
        rules = [r.get("id") for r in acls.get("virtualNetworkRules") or [] if isinstance(r, dict)]
        if acls.get("defaultAction") != "Deny" or acls.get("ipRules") or not all(isinstance(r, str) for r in rules):
            continue  # open, or admitting addresses the nodes' egress may be: not judged
        if vnets & linked:
            continue  # a private endpoint's traffic passes the firewall (a VNet linked to the vault's zone reaches one)
        if not nodes & {str(r).lower() for r in rules}:
            problems.append(
                f"{reg.name} on cluster {cluster} reads vault {name}, whose firewall ({vault.name}: default Deny) "
                f"admits only {', '.join(sorted(map(str, rules))) or 'nothing'}, none of that cluster's node "
                f"subnets: Key Vault answers the Secrets Store CSI driver on its nodes 403 (ForbiddenByFirewall), "
                f"the mount fails and the pods never start; give the components on that cluster a KeyVault built "
                f"with its own cluster handle")
    return problems


def gateways_of_other_clusters(resources: list[Registration], clusters: dict[str, str]) -> list[str]:
    """An HTTPRoute on one cluster attached to a Gateway (namespace, name) this program creates on other clusters
    only (GatewayAccess's `route_target` handed to a component on another cluster): there no Gateway takes the
    route, and on a cluster without GatewayAccess the HTTPRoute kind itself is unknown (no Gateway API CRDs), so
    its create fails."""
    created: dict[tuple[str, str], dict[Any, Registration]] = {}
    for reg in resources:
        if reg.is_kubernetes_object and reg.inputs.get("kind") == "Gateway" and \
                str(reg.inputs.get("apiVersion", "")).startswith("gateway.networking.k8s.io/"):
            name, namespace = (reg.inputs.get("metadata") or {}).get("name"), _namespace(reg)
            if isinstance(name, str) and namespace is not None:
                created.setdefault((namespace, name), {})[_cluster_of(reg, clusters)] = reg
    problems = []
    for reg in resources:
        if not (reg.is_kubernetes_object and reg.inputs.get("kind") == "HTTPRoute"):
            continue
        cluster, namespace = _cluster_of(reg, clusters), _namespace(reg) or "default"
        foreign: dict[tuple[str, str], tuple[Any, Registration]] = {}
        for parent in (reg.inputs.get("spec") or {}).get("parentRefs") or []:
            if not isinstance(parent, dict) or parent.get("kind", "Gateway") != "Gateway":
                continue
            gateway = (str(parent.get("namespace") or namespace), str(parent.get("name")))
            elsewhere = created.get(gateway) or {}
            if elsewhere and cluster not in elsewhere:
                foreign.setdefault(gateway, next(iter(elsewhere.items())))
        if foreign:
            other = next(iter(foreign.values()))[0]
            named = ", ".join(f"{ns}/{gw} ({found.name})" for (ns, gw), (_, found) in foreign.items())
            problems.append(
                f"{reg.name} on cluster {cluster} attaches to Gateway{'s' if len(foreign) > 1 else ''} {named}, "
                f"which this program creates on cluster {other} only: no Gateway there takes the route (and without "
                f"GatewayAccess on that cluster the API server knows no HTTPRoute); give it the route_target of a "
                f"GatewayAccess on its own cluster")
    return problems


class _Pool(NamedTuple):
    name: str
    labels: dict[str, str]  # the node labels it gives its nodes, AKS's pool-name labels included
    taints: list[str]  # `key[=value]:Effect`, as AKS's nodeTaints, AKS's spot taint included


_MANAGED_CLUSTER = "azure-native:containerservice:ManagedCluster"
_AGENT_POOL = "azure-native:containerservice:AgentPool"


def _pools(resources: list[Registration]) -> dict[str, list[_Pool]]:
    """AKS cluster name (lower case) -> the pools this program gives it: the AgentPools and the inline pools."""
    found: dict[str, list[_Pool]] = {}
    for reg in resources:
        if reg.type == _MANAGED_CLUSTER:
            profiles = [p for p in reg.inputs.get("agentPoolProfiles") or [] if isinstance(p, dict)]
            name_key = "name"
        elif reg.type == _AGENT_POOL:
            profiles, name_key = [reg.inputs], "agentPoolName"
        else:
            continue
        cluster = reg.inputs.get("resourceName")
        if not isinstance(cluster, str):
            continue
        for profile in profiles:
            name, given = profile.get(name_key), profile.get("nodeLabels")
            if not isinstance(name, str):
                continue
            labels = {str(k): str(v) for k, v in (given if isinstance(given, dict) else {}).items()}
            labels.update({key: name for key in POOL_NODE_LABELS})
            found.setdefault(cluster.lower(), []).append(_Pool(name, labels, pool_taints(profile)))
    return found


def _clusters_of_known_pools(resources: list[Registration]) -> set[str]:
    """AKS clusters (name, lower case) whose every node comes from a pool of this program: the ones it creates
    (ManagedCluster), unless node auto-provisioning (`nodeProvisioningProfile.mode: Auto`, Karpenter) adds nodes
    of no pool. A cluster it does not create (own-cluster.md: GPU pools added to a team's cluster) has pools of its
    own that the program does not declare."""
    known = set()
    for reg in resources:
        name = reg.inputs.get("resourceName")
        if reg.type != _MANAGED_CLUSTER or not isinstance(name, str):
            continue
        provisioning = reg.inputs.get("nodeProvisioningProfile")
        if str((provisioning if isinstance(provisioning, dict) else {}).get("mode") or "").lower() != "auto":
            known.add(name.lower())
    return known


def _stranded(reg: Registration) -> str:
    """What becomes of a workload's pods that no node takes. pulumi-kubernetes 4.34.2 awaits a DaemonSet's kstatus
    (provider/pkg/await/daemonset.go), Current at once when it is due on no node, and has no awaiter for a CronJob."""
    kind = reg.inputs.get("kind")
    if kind == "DaemonSet":
        return "the DaemonSet places no pod (its controller passes over every node) and runs nowhere, unnoticed"
    pending = "pods stay Pending (the autoscaler has no pool to grow for them)"
    if kind == "CronJob":
        return f"each run's {pending}, after `pulumi up`, which does not wait for a CronJob's runs"
    return f"its {pending} and `pulumi up` waits out their deadline"


def pools_of_other_clusters(resources: list[Registration], clusters: dict[str, str]) -> list[str]:
    """A pod template on a cluster this program creates that no pool of that cluster takes: it selects a node label
    (`nodeSelector`) that pools of this program carry on other clusters only (GpuNodePool's `scheduling` handed to a
    model server, an LlmdStack or a pod of the user's on another cluster), or every pool its selector matches has a
    taint it does not tolerate (ModelStore's `preload_node_selector` naming a GPU pool: the Job does not carry the
    GPU taint's toleration). The scheduler leaves its pods Pending and the cluster autoscaler adds no node for them
    (no pool's template fits either), so `pulumi up` waits out their deadline; a DaemonSet runs nowhere and a
    CronJob's runs stay Pending, neither awaited (`_stranded`). Judged on clusters whose every pool the program
    declares (`_clusters_of_known_pools`)."""
    pools, known = _pools(resources), _clusters_of_known_pools(resources)
    problems = []
    for reg in resources:
        if not (reg.is_kubernetes_object and reg.inputs.get("kind") in _WORKLOADS):
            continue
        cluster = _cluster_of(reg, clusters)
        name = _aks_name(cluster) or ""
        if name not in known:
            continue  # pools the program does not declare may take the pod
        own = pools.get(name) or []
        spec = pod_template(reg.inputs)[1]
        selector, tolerations = spec.get("nodeSelector"), spec.get("tolerations")
        selector, tolerations = selector if isinstance(selector, dict) else {}, \
            tolerations if isinstance(tolerations, list) else []
        wanted = {str(k): str(v) for k, v in selector.items()}
        # a key no pool here lists is one of the labels AKS gives every node (`kubernetes.io/os`): left out, the
        # pools it matches may be more than the scheduler's, never fewer, so a taint barring them all still bars it
        listed = {k: v for k, v in wanted.items() if any(k in p.labels for found in pools.values() for p in found)}
        matching = [p for p in own if listed.items() <= p.labels.items()]
        missing = [(k, v) for k, v in wanted.items() if not any(p.labels.get(k) == v for p in own)]
        elsewhere = [(k, v, other, p.name) for k, v in missing for other, found in sorted(pools.items())
                     for p in found if p.labels.get(k) == v]
        if elsewhere:
            key, value, other, pool = elsewhere[0]
            problems.append(
                f"{reg.name} on cluster {cluster} selects nodes labelled {key}={value}, which in this program only "
                f"pool {pool} of cluster {other} carries: no node of that cluster matches, {_stranded(reg)}; give it "
                f"the scheduling of a GpuNodePool built with its own cluster's handle and provider")
            continue
        barred = {p.name: [t for t in p.taints if not tolerates(tolerations, t)] for p in matching}
        if matching and all(barred.values()):
            named = "; ".join(f"{name}: {', '.join(taints)}" for name, taints in barred.items())
            problems.append(
                f"{reg.name} on cluster {cluster} selects {selector or 'any node'}, and every pool of the cluster "
                f"there carries a taint it does not tolerate ({named}): {_stranded(reg)}; select an untainted pool "
                f"(the cluster handle's cpu_node_selector) or add the tolerations (a GpuNodePool's scheduling carries "
                f"its pool's)")
    return problems
