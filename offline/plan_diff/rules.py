"""The providers' and Pulumi's replacement rules (offline/data/replacement_rules.json, its sources in the file), and
why a path is in the components' `ignoreChanges` (the engine's reset of those paths: ignore_changes.py)."""
import functools
import json
import re
from pathlib import Path
from typing import Any, Iterator, Mapping, Optional

from llmplatform.aks_cluster import OTHERS_TURN_ON
from llmplatform.testing.records import REDACTED  # a secret as the plan files show it (the kit's trigger too)
from pulumi.runtime.rpc import UNKNOWN  # the wire's unknown, as the kit records an unknown replacement trigger

from config.resource_names import GRAFANA_KIND, legacy_names

from .leaves import leaf_items
from .stand_in_ids import same_stand_in
from .urns import provider_urn, short_urn


RULES_FILE = Path(__file__).resolve().parents[1] / "data" / "replacement_rules.json"


# Resources whose replacement or deletion loses data or an address others depend on: our policy, not upstream data.
STATEFUL = {
    "azure-native:dbforpostgresql:Server": "the PostgreSQL server and every database on it",
    # a new name is a new, empty database: the old one goes with the data (docs/operations.md, "Renaming Open-WebUI's
    # database", moves it)
    "azure-native:dbforpostgresql:Database": "an application database with Open-WebUI's data (a new one starts "
                                             "empty: docs/operations.md, \"Renaming Open-WebUI's database\")",
    "azure-native:storage:StorageAccount": "the storage account and every share in it (the models)",
    "azure-native:storage:FileShare": "the share holding the models",
    "azure-native:keyvault:Vault": "the Key Vault and its secrets (soft-deleted, the name stays taken)",
    "azure-native:network:PublicIPAddress": "a static public IP (clients and DNS point at it)",
    "azure-native:cdn:Profile": "the Front Door profile and every endpoint, route and origin under it; a new profile "
                                "has a new Front Door ID, and each region's gateway admits only the old one "
                                "(X-Azure-FDID, edge.frontDoorId) until its stack is set to the new one and brought up",
    # a new endpoint name is a new host name (<name>-<hash>.z01.azurefd.net), the one clients and CNAMEs call
    "azure-native:cdn:AFDEndpoint": "the global endpoint's host name, the one every client (and a CNAME) calls",
    "azure-native:containerservice:ManagedCluster": "the AKS cluster and everything running in it",
    # the program provisions no dashboard there (its dashboards are the in-cluster Grafana's ConfigMaps): what is in
    # it, its admins made (`az grafana dashboard sync` copies them to another instance first, learn.microsoft.com
    # cli/azure/grafana/dashboard)
    "azure-native:dashboard:Grafana": "Azure Managed Grafana with the dashboards, folders and alert rules its users "
                                      "made in it",
    "azure-native:resources:ResourceGroup": "a resource group and everything in it",
    # Azure Backup deletes an item's recovery points with it (the share's snapshots it took): turning the store's
    # snapshots off is a deletion to allow knowingly
    "azure-native:recoveryservices:ProtectedItem": "the model share's protection and its recovery points (the "
                                                   "snapshots Azure Backup took)",
    "azure-native:recoveryservices:Vault": "the Recovery Services vault holding the model share's backup items",
    # a new workspace starts empty: the cluster's logs (Container Insights, diagnostics) and metrics (managed
    # Prometheus) kept so far stay with the old one, recoverable only while it is soft-deleted (Log Analytics: 14
    # days, learn.microsoft.com azure-monitor/logs/delete-workspace)
    "azure-native:operationalinsights:Workspace": "the Log Analytics workspace with the logs so far (a cluster's; the "
                                                  "edge's WAF, probe and request logs in the global stack)",
    "azure-native:monitor:AzureMonitorWorkspace": "the Azure Monitor workspace with the cluster's metrics so far",
    "kubernetes:core/v1:PersistentVolumeClaim": "a volume claim (its data unless the volume is retained)",
    # a yaml/v2 ConfigFile's CRD too (offline/plan_diff/crd_bundles.py): its objects are anyone's, not only ours
    "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition": "a CustomResourceDefinition: the API server "
        "deletes every object of its kind with it, in every namespace, whoever made them",
}


# Resources whose value is made at their create, so a replacement (or a new URN without an alias: a delete and a
# create) hands everyone who holds it a new one: stateful when replaced or renamed. A deletion is the change's own
# doing (a key name removed from global.apiKeys, a region joining its edge, the UI turned off): listed, not blocked.
NEW_VALUE = {
    "random:index/randomPassword:RandomPassword": "a generated key or password, made anew: every client of an API "
                                                  "key needs the new one, Open-WebUI's session key signs every user "
                                                  "out, a PostgreSQL password changes what connects with it",
}


# The names Azure wants unique across subscriptions, which the stack hashes with its subscription's id unless
# `legacyGlobalNames` (config/resource_names.py `_scope`): a stack deployed before that sees each one renamed.
# type -> (the input naming it, its kind in config/resource_names.py GLOBAL_NAMES)
GRAFANA = "azure-native:dashboard:Grafana"
GLOBAL_NAMES = {"azure-native:keyvault:Vault": ("vaultName", "Key Vault"),
                "azure-native:storage:StorageAccount": ("accountName", "storage account"),
                "azure-native:dbforpostgresql:Server": ("serverName", "PostgreSQL server"),
                GRAFANA: ("workspaceName", GRAFANA_KIND)}
GLOBAL_NAME_NOTE = ("its name changed: a stack deployed before the subscription's id went into the storage account, "
                    "Key Vault and PostgreSQL server names keeps them with `legacyGlobalNames: true` in its stack "
                    "file (CHANGELOG, Upgrading)")
# Managed Grafana's name took the subscription's id later than the other three: a stack deployed between the two has
# their hashed names and Grafana's hashless one. There `legacyGlobalNames: true` would give the workspace its name back
# and rename the other three, so the line names the key that keeps the workspace alone, with the name it holds; where
# the other three lose their legacy names in the same plan (a stack deployed before any hash), the one key keeps all four


def legacy_name_note(type_: str, old_name: object, others_renamed: bool) -> str:
    """The note on a replaced resource that loses the name `legacyGlobalNames: true` gives it (`lost_legacy_name`):
    `old_name` the name it holds, `others_renamed` whether another of the four global names loses its legacy name in
    the same plan."""
    if type_ != GRAFANA:
        return GLOBAL_NAME_NOTE
    keep = f"`observability.grafanaName: {old_name}`" if isinstance(old_name, str) else \
        "`observability.grafanaName` set to the name it holds"
    if others_renamed:
        return ("its name changed: a stack deployed before the subscription's id went into the storage account, Key "
                "Vault, PostgreSQL server and Managed Grafana names keeps all four with `legacyGlobalNames: true` in "
                f"its stack file (CHANGELOG, Upgrading); {keep} keeps the workspace's alone")
    return ("its name changed: a stack whose Managed Grafana was created before the subscription's id went into its "
            f"name keeps it with {keep} in its stack file (not `legacyGlobalNames: true`, which would rename the "
            "storage account, Key Vault and PostgreSQL server this plan keeps)")


def lost_legacy_name(type_: str, old: dict[str, Any], new: dict[str, Any]) -> bool:
    """The resource's old name is the one `legacyGlobalNames: true` gives it under the new config (its prefix,
    environment and region): the key keeps it. Another rename (a new prefix, environment or region) is not told so."""
    if type_ not in GLOBAL_NAMES:
        return False
    key, kind = GLOBAL_NAMES[type_]
    before, now, location = old.get(key), new.get(key), new.get("location")
    return isinstance(now, str) and isinstance(location, str) and before != now \
        and before in legacy_names(kind, now, location)


# What a deletion leaves behind that a later create of the same name runs into: told on the Delete line.
LEFT_BEHIND = {
    "azure-native:keyvault:Secret": "Key Vault soft-deletes it and pulumi-azure-native does not purge it "
                                    "(pulumi/pulumi-azure-native#1174, by design): its name stays taken in the vault "
                                    "for the vault's retention period (with purge protection no purge shortens it), so "
                                    "a secret of the same name added back later fails its create until then",
}
# ... and what the engine leaves when the resource is retained on delete (it calls no Delete: pulumi/pulumi
# step.go DeleteStep.Apply): the object itself, in place.
RETAINED = {
    "azure-native:keyvault:Secret": "retained on delete: it leaves the state and stays in the vault until the vault "
                                    "goes, readable by every grant on it still standing (another stack's too: a "
                                    "region's gates' grants on the global stack's key set); its name stays taken "
                                    "while it does, so a "
                                    "secret of the same name added back is adopted with `pulumi import` first (with "
                                    "`--parent`, its component, or it lands under another URN)",
}
# Deletes pulumi-azure-native makes through a Key Vault's own endpoint, not Resource Manager
# (provider/pkg/resources/customresources/custom_keyvault.go at 006a62afe: "DELETE is implemented via the KeyVault
# data plane API, because it isn't available via ARM"): the deployer needs a data-plane role and a network path to
# the vault, which the platform's vaults give no one (network rules for the node subnet, roles for workloads).
DATA_PLANE_DELETE = frozenset({"azure-native:keyvault:Secret", "azure-native:keyvault:Key"})
DATA_PLANE_CHECK = ("deleting it is a call to the vault itself (pulumi-azure-native deletes Key Vault secrets and "
                    "keys through the vault's data plane, not Resource Manager), which this platform's vaults refuse "
                    "the deployer (403: network rules, no data-plane role), and the state does not retain it on "
                    "delete: run one `pulumi up` of this version before the change (it records the components' "
                    "retainOnDelete), or make the delete from inside the vault's network with Key Vault Secrets "
                    "Officer")
PROTECTED_DATA_PLANE_CHECK = "once its `protect` is lifted (`pulumi up` stops on it first), " + DATA_PLANE_CHECK


_INDEX = re.compile(r"\[\d+\]")


# The offline kit's stand-in identity ids changed scheme (llmplatform.testing.stand_ins `_identity_id`, commit 9932bad):
# 0.21's kit answered `<azure name>-principal` / `-client`, and `kubelet-obj` / `kubelet-client` for every cluster's
# kubelet; later kits `<azure name>-<6 hex of the ARM id>-<what>`. The real ids are the identities' own, kept in the
# state, so a base plan of the earlier kit differs from a later one only on paper: without this, a stack's upgrade
# listed every role assignment replaced (`principalId` is force-new) and, in prod, protected ones as stopping `pulumi
# up`. Likewise 0.21's kit recorded no `version` of an explicit provider, which the engine always writes into its
# inputs (pulumi/pulumi 1b5949891b pkg/resource/deploy/source_eval.go: SetProviderVersion for a provider resource).
_STAND_IN_ID = re.compile(r"(?P<name>.+)-[0-9a-f]{6}-(?P<what>kubelet-principal|kubelet-client|principal|client)")
_OLD_KUBELET = {"kubelet-principal": "kubelet-obj", "kubelet-client": "kubelet-client"}


def kit_artifacts(type_: str, old: dict[str, Any], new: dict[str, Any], paths: list[str],
                  renamed: Optional[Mapping[str, str]] = None) -> set[str]:
    """The changed paths that only an earlier offline kit's plan makes: a stand-in identity id in its old scheme, an
    explicit provider's `version` it did not record, and (`renamed`: stand_in_ids `earlier_kit_pairs`) a stand-in
    ARM id of the token's shape or a value made of its digest where this kit gives the same resource's real id and
    what is made of that. No real `pulumi up` sees them change."""
    if type_.startswith("pulumi:providers:") and "version" in paths and "version" not in old:
        found = {"version"}
    else:
        found = set()
    olds, news = dict(leaf_items(old)), dict(leaf_items(new))
    for path in paths:
        before, now = olds.get(path), news.get(path)
        match = _STAND_IN_ID.fullmatch(now) if isinstance(now, str) else None
        if match and before == _OLD_KUBELET.get(match["what"], f"{match['name']}-{match['what']}"):
            found.add(path)
        elif renamed is not None and same_stand_in(before, now, renamed):
            found.add(path)
    return found


@functools.lru_cache(maxsize=1)
def rules() -> dict[str, Any]:
    return json.loads(RULES_FILE.read_text())


def changed_keys(old: Any, new: Any, path: str = "") -> list[str]:
    """Input paths that differ, leaf by leaf (an absent object counts as empty, a list of the same length item by
    item, `a.b[0].c`); a list whose length changed is one path."""
    if isinstance(old, dict) or isinstance(new, dict):
        if (old is None or isinstance(old, dict)) and (new is None or isinstance(new, dict)):
            old, new = old or {}, new or {}
            keys: list[str] = []
            for key in sorted(set(old) | set(new)):
                keys += changed_keys(old.get(key), new.get(key), f"{path}.{key}" if path else key)
            return keys
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        return [k for i, (a, b) in enumerate(zip(old, new)) for k in changed_keys(a, b, f"{path}[{i}]")]
    return [] if old == new else [path or "."]


def indexless(path: str) -> str:
    """A path with each list index written `[]`, as rules' paths are (`spec.dnsNames[0]` -> `spec.dnsNames[]`)."""
    return _INDEX.sub("[]", path)


def under(path: str, key: str) -> bool:
    """A changed path falls under a rule's path: equal, or inside it (`[]` matches any index)."""
    norm = indexless(path)
    return norm == key or norm.startswith(key + ".") or norm.startswith(key + "[")


def kube_kind(type_: str) -> Optional[str]:
    """`kubernetes:apps/v1:Deployment` -> `apps/v1/Deployment`; None for other providers and Helm/YAML."""
    if not type_.startswith("kubernetes:") or type_.startswith(("kubernetes:helm.sh/", "kubernetes:yaml/")):
        return None
    _, group_version, kind = type_.split(":")
    return f"{group_version}/{kind}"


def providers_of(doc: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """A plan's provider resources by URN: what `replace_rules` reads a resource's provider from."""
    return {u: r for u, r in doc.items() if r["type"].startswith("pulumi:providers:")}


def replace_rules(resource: dict[str, Any], providers: dict[str, dict[str, Any]]) -> list[tuple[str, str]]:
    """(path, rule) pairs: a change at or under the path replaces the resource."""
    type_, data = resource["type"], rules()
    azure = data["azureNative"]["types"].get(type_)
    if azure:
        return ([(p, "part of the Azure resource ID") for p in azure["path"]]
                + [(p, "force-new in pulumi-azure-native") for p in azure["forceNew"]])
    if type_ == "kubernetes:helm.sh/v3:Release":
        return [(p, "pulumi-kubernetes replaces a Release on it") for p in data["kubernetes"]["helmRelease"]]
    kind = kube_kind(type_)
    if kind:
        kube = data["kubernetes"]
        paths = list(kube["always"]) + list(kube["kinds"].get(kind, []))
        provider_inputs = providers.get(provider_urn(resource["options"].get("provider")), {}).get("inputs", {})
        immutable = resource["inputs"].get("immutable") is True
        # the flag makes the contents mutable, not a Secret's type (diff.go forceNewProperties: with the flag on, a
        # Secret falls to its kind's own list, `.type`)
        for kind_name, flag, contents in (("core/v1/ConfigMap", "enableConfigMapMutable", ("data", "binaryData")),
                                          ("core/v1/Secret", "enableSecretMutable", ("data", "stringData"))):
            if kind == kind_name and str(provider_inputs.get(flag)).lower() == "true" and not immutable:
                paths = [p for p in paths if p not in contents]
        return [(p, "pulumi-kubernetes replaces on it") for p in paths]
    random = data["random"]["types"].get(type_)
    if random:
        return [(p, "RequiresReplace in terraform-provider-random") for p in random]
    return []


def kubernetes_provider_replaces(old: dict[str, Any], new: dict[str, Any], new_cluster: Optional[str],
                                 renamed: Optional[Mapping[str, str]] = None) -> list[str]:
    """Why pulumi-kubernetes' DiffConfig replaces a Kubernetes provider (and the engine every object of it), from its
    old and new inputs; `new_cluster` names the replaced cluster its kubeconfig (and identifier) come from, unknown at
    preview until that cluster exists. provider/pkg/provider/provider.go (pulumi/pulumi-kubernetes at 9497796): a
    `clusterIdentifier` present on both sides decides alone (replaced when it changes; unknown is a change), one added
    or removed decides nothing; otherwise an unknown kubeconfig replaces, as does a change of its active cluster entry
    (server, CA: not visible in a plan, which keeps the kubeconfig secret)."""
    had, has = old.get("clusterIdentifier"), new.get("clusterIdentifier")
    if had is not None and has is not None:
        if new_cluster:
            return [f"its clusterIdentifier comes from `{new_cluster}`, which is replaced "
                    "(a new cluster's resourceUID)"]
        # an earlier kit's stand-in resourceUID is no change (`renamed`)
        changed = had != has and not (renamed is not None and same_stand_in(had, has, renamed))
        return [f"its clusterIdentifier changes ({had} -> {has})"] if changed else []
    if new_cluster:
        return [f"its kubeconfig comes from `{new_cluster}`, which is replaced (unknown until it exists: "
                "pulumi-kubernetes DiffConfig replaces)"]
    return []


CLUSTER_TYPE = "azure-native:containerservice:ManagedCluster"
# pulumi-kubernetes' provider inputs DiffConfig reads to find the active cluster, and the one whose change replaces
_ACTIVE_CLUSTER_KEYS = ("kubeconfig", "context", "cluster")


def provider_switch_replaces(package: str, old: Optional[dict[str, Any]], new: Optional[dict[str, Any]],
                             old_clusters: set[str], new_clusters: set[str]) -> list[str]:
    """Why the engine replaces a resource moved from one provider resource to another; [] when it does not.

    pulumi/pulumi 1b5949891b pkg/resource/deploy/step_generator.go `providerChanged`: the engine asks the *new*
    provider's DiffConfig with the old provider's inputs and the new one's, and replaces the resource only when that
    answers a replacement (an old provider aliased to the new one is no change at all). So since v3.151.0 (#18509,
    3c56d4eb51); before, a move to or from an explicit provider replaced every time. What DiffConfig answers:
    pulumi-azure-native never a change (provider/pkg/provider/provider.go `DiffConfig` at 006a62afe: DIFF_NONE);
    pulumi-kubernetes (provider.go `DiffConfig` at 9497796) a `clusterIdentifier` on both sides alone (the same one
    never replaces, another one does), else `renderYamlToDirectory` changed or the kubeconfig's active cluster
    changed (`kubeconfig`, `context`, `cluster`). `old`/`new`: the provider resources (None: a default provider,
    whose configuration a plan does not hold); `old_clusters`/`new_clusters`: the AKS clusters each one depends on
    (where its kubeconfig comes from; the plans show a kubeconfig as `[secret]`), in the new plan's URNs."""
    if package == "azure-native":
        return []
    if package != "kubernetes":
        return ["its provider changed (that provider's DiffConfig, which decides, is not modelled here: counted as a "
                "replacement)"]
    if old is None or new is None:
        return ["its provider changed to or from one whose configuration the plan does not hold (a default "
                "provider), so whether pulumi-kubernetes' DiffConfig finds another cluster is unknown: counted as a "
                "replacement"]
    before, after = old.get("inputs") or {}, new.get("inputs") or {}
    had, has = before.get("clusterIdentifier"), after.get("clusterIdentifier")
    if had is not None and has is not None:
        return [] if had == has else [f"its provider changed to one of another clusterIdentifier ({had} -> {has})"]
    why = []
    if before.get("renderYamlToDirectory") != after.get("renderYamlToDirectory"):
        why.append("its provider changed to one rendering to another directory (renderYamlToDirectory)")
    same_inputs = all(before.get(k) == after.get(k) for k in _ACTIVE_CLUSTER_KEYS)
    if len(old_clusters) == 1 and len(new_clusters) == 1:
        if old_clusters != new_clusters:
            why.append(f"its provider changed to one whose kubeconfig comes from `{short_urn(min(new_clusters))}`, the "
                       f"old one's from `{short_urn(min(old_clusters))}` (another active cluster to pulumi-kubernetes' "
                       "DiffConfig)")
        elif not all(before.get(k) == after.get(k) for k in ("context", "cluster")):
            why.append("its provider changed to one naming another kubeconfig context or cluster")
    elif not same_inputs or any(before.get(k) == REDACTED for k in _ACTIVE_CLUSTER_KEYS):
        why.append("its provider changed, and the plan cannot show whether the new one's kubeconfig names the same "
                   "cluster (pulumi-kubernetes' DiffConfig replaces when its active cluster changes): counted as a "
                   "replacement")
    return why


def trigger_change(old: dict[str, Any], new: dict[str, Any]) -> tuple[Optional[str], Optional[str]]:
    """(why the engine replaces a resource for its `replacementTrigger` option, None when it does not; what the
    plans cannot show, a line for the reviewer) from the old and new options. pulumi/pulumi 1b5949891b
    pkg/resource/deploy/step_generator.go `shouldTriggerReplace`, asked before anything else of an existing resource
    (`generateStepsFromDiff`): an unknown on either side always replaces (a preview's; `pulumi up` stops on one,
    "replacement trigger contains unknowns"); then no trigger (null) on either side never does (one set for the
    first time, or dropped); else the values compared with every secret unwrapped (`unwrapSecretsAndOutputs`:
    "regardless of how they were wrapped"). The plans show a secret part as `[secret]`: a change elsewhere still
    replaces, one inside cannot be seen (lifecycletest `replacement_trigger_test.go`: TestReplacementTrigger,
    ...WithSecret, ...WithComputed)."""
    before, after = old.get("replacementTrigger"), new.get("replacementTrigger")
    values = [v for _, v in leaf_items(before)] + [v for _, v in leaf_items(after)]
    if UNKNOWN in values:
        return "its replacementTrigger is unknown (the engine takes an unknown trigger for a change)", None
    if before is None or after is None:
        return None, None
    olds, news = dict(leaf_items(before)), dict(leaf_items(after))
    # every difference the plans show, typed as the engine's values are (false is no 0, {} no {"a": {}}); a leaf
    # with `[secret]` on one side and a value on the other may be the same value; a key or item on one side only, or
    # another shape, is a change however secret
    differing = [] if _same_value(before, after) else changed_keys(before, after) or ["."]
    seen = [p for p in differing if not (p.lstrip(".") in olds and p.lstrip(".") in news
                                         and REDACTED in (olds[p.lstrip(".")], news[p.lstrip(".")]))]
    if seen == ["."]:  # a value, not an object or list: both values shown
        return (f"its replacementTrigger changes ({json.dumps(before)[:60]} -> {json.dumps(after)[:60]})",
                None)
    if seen:
        shown = ", ".join(f"`replacementTrigger{'' if p.startswith('[') else '.'}{p}`" for p in seen[:3])
        return f"its replacementTrigger changes ({shown}{', ...' if len(seen) > 3 else ''})", None
    if REDACTED in values:
        return None, ("its replacementTrigger is secret (`[secret]` in the plans), so the check cannot see whether it "
                      "changes: the engine compares the values within, and a new one replaces it")
    return None, None


def _same_value(old: Any, new: Any) -> bool:
    """Equal as the engine's property values are (`property.Value.Equals`): a bool is no number, 1 and 1.0 are one
    number (JSON's), objects with the same keys, lists of the same length."""
    if isinstance(old, dict) and isinstance(new, dict):
        return old.keys() == new.keys() and all(_same_value(old[k], new[k]) for k in old)
    if isinstance(old, list) and isinstance(new, list):
        return len(old) == len(new) and all(_same_value(a, b) for a, b in zip(old, new))
    if isinstance(old, bool) or isinstance(new, bool):
        return type(old) is type(new) and old == new
    if isinstance(old, (int, float)) and isinstance(new, (int, float)):
        return old == new
    return type(old) is type(new) and old == new


def refused_rules(type_: str) -> dict[str, str]:
    """Paths the provider updates in place but the cloud or the API server refuses: the update would fail."""
    data = rules()
    kind = kube_kind(type_)
    if kind:
        return data["kubernetes"]["refusedInPlace"].get(kind, {})
    return data["azureNative"]["refusedInPlace"].get(type_, {})


# why a path is in the components' ignoreChanges, and what to do when the edit should happen
IGNORED_WHY = {
    "kubernetesVersion": "AKS's auto-upgrade channel owns the version (`stable` and `rapid` move the minor, `patch` "
                         "only patches; `cluster.upgradeChannel: none` lets the stack drive it, every pool following)",
    "orchestratorVersion": "AKS's auto-upgrade channel owns the pool's version (`cluster.upgradeChannel: none` lets "
                           "the stack drive it)",
    "count": "the cluster autoscaler owns the node count (change minCount/maxCount instead)",
    "spec.replicas": "an autoscaler owns the replica count (change its minimum/maximum instead)",
    "spec.resources.requests.storage": "a claim bound to a pre-created volume keeps its request; the share's quota "
                                       "and the volume's capacity carry the size",
    **dict.fromkeys((path for paths in OTHERS_TURN_ON.values() for path in paths),
                    "the cluster leaves Defender, the Azure Policy and Container Insights add-ons and managed "
                    "Prometheus to whoever turns them on (an Azure Policy, Defender for Cloud) while the stack does "
                    "not: one the stack turned on and now leaves off stays on until `az aks` turns it off "
                    "(docs/components/aks-cluster.md, \"Behaviour worth knowing\")"),
}


def ignored_why_key(path: str) -> Optional[str]:
    """The IGNORED_WHY key an ignored path (or a changed path under one) falls under: an inline pool's field by its
    own name, any other path by itself or the key it lies under; None when no reason is known."""
    leaf = path.rsplit(".", 1)[-1] if path.startswith("agentPoolProfiles") else path
    return next((key for key in IGNORED_WHY if leaf == key or leaf.startswith((f"{key}.", f"{key}["))), None)


def ignored_hints(paths: list[str]) -> list[str]:
    """The reasons behind ignored paths, once each, in the order of IGNORED_WHY."""
    keys = {ignored_why_key(p) for p in paths}
    if "kubernetesVersion" in keys:  # the cluster's line: its inline pool's version goes with it
        keys.discard("orchestratorVersion")
    return list(dict.fromkeys(why for key, why in IGNORED_WHY.items() if key in keys))
