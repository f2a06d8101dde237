"""The comparison: what a change adds, updates, replaces and deletes, and why."""
import functools
import re
from pathlib import Path
from typing import Any, Optional

from llmplatform.testing.stand_ins import provider_outputs
from llmplatform.write_order import ancestors

from .claims import HELM_RELEASE, NAMESPACE, claims_lost
from .secrets import secret_sources
from .ui_home import ui_home_moves
from .pool_drains import spot_refuges, stalled_drains
from .device_software import driver_switches
from .stand_in_ids import earlier_kit_pairs
from .volumes import claims_in_use, held_volumes, retained_bindings, shared_handles
from .documents import object_name, read_resources
from .ignore_changes import ENGINE_INFO, process_ignore_changes
from .internal_address import moved_address_findings
from .urns import alias_matches, engine_urns, provider_urn, short_urn
from .vault_closing import closing_before_endpoint
from .rules import (CLUSTER_TYPE, DATA_PLANE_CHECK, DATA_PLANE_DELETE, GLOBAL_NAMES, LEFT_BEHIND, NEW_VALUE,
                    PROTECTED_DATA_PLANE_CHECK, REDACTED, RETAINED, changed_keys, kit_artifacts, kube_kind,
                    kubernetes_provider_replaces, leaf_items, legacy_name_note, lost_legacy_name,
                    provider_switch_replaces,
                    providers_of, refused_rules, replace_rules, rules, trigger_change, under)
from .chart_bumps import chart_bump_findings, crd_bundle_findings, migration_findings
from .normalised import same_value, stored_alike
from .pool_keys import own_keys
from .preload import dropped_model_findings
from .rollouts import rollout_note
from .served_models import dropped_name_findings
from .values import channel_exit_findings, ignored_findings, update_findings, value_findings


# A replacement only `replaceOnChanges` asks for: both providers answer deleteBeforeReplace only for replacements
# their own Diff finds (pulumi-kubernetes provider.go Diff: `len(replaces) > 0 && ...`; pulumi-azure-native
# provider.go Diff: `len(replaces) > 0`), and the engine keeps the provider's answer when it adds the option's keys
# (pulumi/pulumi pkg/resource/deploy/step_generator.go applyReplaceOnChanges: `DeleteBeforeReplace:
# diff.DeleteBeforeReplace`), so without the deleteBeforeReplace option the new object is created first.
def created_first_collides(why: str) -> str:
    """The refusal of a replacement the engine makes create-first under the name the old object still holds, `why`
    saying what puts the create first."""
    return (f"its replacement fails: {why}, so Pulumi creates the new object while the old one still holds its "
            "name (pulumi-kubernetes 4.29+: AlreadyExists; a Helm release: Helm's 'cannot re-use a name that is still "
            "in use', pulumi-kubernetes' Release Diff never asking to delete first; pulumi-azure-native: 'cannot "
            "create already existing resource'): give it the `deleteBeforeReplace` option (a gap while it is "
            "recreated) or a new name")


ENGINE_ONLY_COLLIDES = created_first_collides(
    "only its `replaceOnChanges` replaces it, and the provider, whose own diff finds no replacement, does not ask to "
    "delete first")
# The engine's own replacements, decided before any provider is asked (pulumi/pulumi 1b5949891b step_generator.go
# `generateStepsFromDiff`: a changed replacementTrigger sets `triggerReplace` and skips the provider's Diff; `diff`:
# a replaced resource in replaceWith, a replaced deletedWith, answered with no DeleteBeforeReplace), so no provider
# asks to delete first: only the deleteBeforeReplace option does (`goal.DeleteBeforeReplace`).
ENGINE_OWN = "{} replaces it, which the engine decides before asking the provider, so nothing asks to delete first"
# An explicit `delete_before_replace=False` (the request's deleteBeforeReplaceDefined): the engine puts it over the
# provider's answer (step_generator.go `continueStepsFromDiff`: `if goal.DeleteBeforeReplace != nil`), so a named
# object the provider would delete first is created first.
DEFINED_FALSE = ("its `deleteBeforeReplace` option is false, which the engine puts over the provider's answer to "
                 "delete first (drop the option, or set it true)")


# A replacement keeping the name of an object the old state retains on delete: the engine calls no provider Delete
# for it, deleteBeforeReplace or not (pulumi/pulumi 1b5949891b pkg/resource/deploy/step.go DeleteStep.Apply, with the
# old state's options), so the object still holds its name when the new one is created.
RETAINED_COLLIDES = (
    "its replacement fails: the state retains it on delete, so Pulumi calls no Delete for it (with "
    "deleteBeforeReplace neither) and it still holds its name when the new one is created (pulumi-azure-native: "
    "'cannot create already existing resource'; pulumi-kubernetes 4.29+: AlreadyExists): make the change without a "
    "replacement, or drop the old one from the state and adopt the object (`pulumi state delete`, then `pulumi "
    "import`), so the run updates it")


def _calls_delete(urn: str, old_res: dict[str, dict[str, Any]], new_res: dict[str, dict[str, Any]],
                  deleted: set[str], unprotected: bool = False) -> bool:
    """Whether the engine calls the provider's Delete for a resource the change removes or replaces, by the old
    state's options (pulumi/pulumi 1b5949891b pkg/resource/deploy/step.go `DeleteStep.Apply`): not for one retained on
    delete, nor one `deletedWith` a resource deleted in the same run (`isDeletedWith`); a protected one's delete is
    refused first (`deleteProtectedError`), and its replacement while the program protects it too
    (step_generator.go: `new.Protect && old.Protect`); `unprotected`: once that `protect` is lifted."""
    old = old_res[urn]["options"]
    if old.get("retainOnDelete") or old.get("deletedWith") in deleted:
        return False
    return unprotected or not (old.get("protect") and (urn not in new_res or new_res[urn]["options"].get("protect")))


def _provider_switch(old: dict[str, Any], now: dict[str, Any], old_res: dict[str, dict[str, Any]],
                     new_res: dict[str, dict[str, Any]], moved: dict[str, str]) -> Optional[list[str]]:
    """None when the resource keeps its provider resource (one replaced is `_cascade`'s); else why the engine
    replaces it for the move to another provider, [] when it does not (rules.provider_switch_replaces: the new
    provider's DiffConfig decides; a provider moved through its alias is the same one). A reference's ID (a
    default provider's, or one replaced) is left aside: the plans' IDs are the offline kit's stand-ins."""
    new_of = {was: urn for urn, was in moved.items()}  # an old URN -> the new URN it moved to through an alias
    was = provider_urn(old["options"].get("provider"))
    was, now_at = new_of.get(was, was), provider_urn(now["options"].get("provider"))
    if was == now_at:
        return None
    before, after = old_res.get(was) if was else None, new_res.get(now_at) if now_at else None
    if now_at:  # its package from the provider's type, `pulumi:providers:<package>` (none from a damaged URN)
        parts = now_at.split("::")
        package = parts[2].split("$")[-1].split(":")[-1] if len(parts) > 3 else ""
    else:
        package = now["type"].split(":", 1)[0]

    def clusters(provider: Optional[dict[str, Any]], document: dict[str, dict[str, Any]]) -> set[str]:
        deps = [new_of.get(d, d) for d in (provider or {}).get("dependencies") or []]
        return {d for d in deps if (document.get(d) or new_res.get(d) or {}).get("type") == CLUSTER_TYPE}
    return provider_switch_replaces(package, before, after, clusters(before, old_res), clusters(after, new_res))


def _identity(resource: dict[str, Any]) -> Optional[str]:
    """The name other resources use to point at this one: an Azure resource's own (last) path parameter, a Kubernetes
    object's metadata.name."""
    inputs = resource["inputs"]
    azure = rules()["azureNative"]["types"].get(resource["type"])
    if azure:
        value = inputs.get(azure["path"][-1])
        return value if isinstance(value, str) and value else None
    if kube_kind(resource["type"]):
        name = (inputs.get("metadata") or {}).get("name")
        return name if isinstance(name, str) and name else None
    return None


# Outputs Azure makes one per resource where the kit's stand-in is one per region: an AKS cluster's OIDC issuer URL is
# `https://<region>.oic.prod-aks.azure.com/<tenant>/<uuid>/`, the uuid the cluster's own (Microsoft Learn, "Migrate
# from pod managed-identity to workload identity", "Get OIDC issuer URL": "{uuid} represents the OIDC key"), so a
# cluster made again, under its old name too, has another, and every federated credential naming the old one
# must take the new (AKS workload identity: the token's `iss` must match the credential's issuer).
MADE_PER_RESOURCE = {"azure-native:containerservice:ManagedCluster": ("oidcIssuerProfile.issuerURL",)}
# Outputs Azure forms from inputs alone, each with the inputs it forms it from (the resource's name among them): a
# resource made again with those inputs unchanged gets the same value, so a kept resource holding it is not updated
# (docs/decisions.md, "Outputs named from the inputs"):
# - AKS names the node resource group `MC_<group>_<cluster>_<region>` unless the cluster names one
#   (llmplatform.azure_names `node_resource_group`). A reference to it by name keeps working (a budget's filter); the
#   group itself is new.
# - a vault's URI is `https://<vault name>.vault.azure.net/`, its DNS name (the REST spec's `vaultUri`, "The URI of
#   the vault for performing operations on keys and secrets"; Azure SDK for .NET SecretClientSettings.VaultUri:
#   "Appears as \"DNS Name\" in the Azure portal", e.g. https://my-keyvault-name.vault.azure.net);
# - a flexible server's FQDN is `<server name>.postgres.database.azure.com` (Az.PostgreSql
#   Get-AzPostgreSqlFlexibleServerConnectionString: server `postgresql-test` ->
#   `Server=postgresql-test.postgres.database.azure.com`);
# - a Front Door endpoint's host name is `<endpoint name>-<hash>.z01.azurefd.net`, the hash the same for an endpoint
#   of the same name within its `autoGeneratedDomainNameLabelScope`: TenantReuse (the default, and the program's),
#   SubscriptionReuse, ResourceGroupReuse (its group is then an input of it); NoReuse gives a new one each time
#   (Microsoft Learn, "Endpoints in Azure Front Door", "Endpoint domain name reuse"). `_named_from` reads the scope.
NAMED_FROM_INPUTS: dict[str, dict[str, tuple[str, ...]]] = {
    "azure-native:containerservice:ManagedCluster": {
        "nodeResourceGroup": ("resourceGroupName", "resourceName", "location", "nodeResourceGroup")},
    "azure-native:keyvault:Vault": {"properties.vaultUri": ("vaultName",)},
    "azure-native:dbforpostgresql:Server": {"fullyQualifiedDomainName": ("serverName",)},
    "azure-native:cdn:AFDEndpoint": {"hostName": ("endpointName", "autoGeneratedDomainNameLabelScope")},
}
AFD_ENDPOINT = "azure-native:cdn:AFDEndpoint"


def _named_from(resource: dict[str, Any]) -> dict[str, tuple[str, ...]]:
    """The resource's outputs Azure forms from its inputs alone -> those inputs (NAMED_FROM_INPUTS); a Front Door
    endpoint's host name by its label scope: none under NoReuse (a new hash each create), its resource group too
    under ResourceGroupReuse."""
    named = dict(NAMED_FROM_INPUTS.get(resource["type"], {}))
    if resource["type"] == AFD_ENDPOINT:
        scope = resource["inputs"].get("autoGeneratedDomainNameLabelScope") or "TenantReuse"
        # in any case (`noreuse`: the SDK takes any string, and Azure may read it as the enum): a new host name
        if not isinstance(scope, str) or scope.lower() == "noreuse":
            named.pop("hostName")
        elif scope.lower() == "resourcegroupreuse":
            named["hostName"] += ("resourceGroupName",)
    return named


def _made_at_create(resource: dict[str, Any], kept_from: Optional[dict[str, Any]] = None) -> frozenset[str]:
    """The values an Azure resource's create makes (its outputs no input gives: a principal id, a resourceUID, an
    OIDC issuer URL), as the offline stand-ins answer them. A replacement makes new ones, and an input of another
    resource that comes from one is unknown in the preview and new in the update (pulumi/pulumi 1b5949891b
    step_generator.go `calculateDependentReplacements` puts an unknown there and asks the provider's Diff; a
    create-before-delete replacement hands its dependents the new outputs): at a force-new path it replaces that
    resource too, elsewhere it updates it (`_new_values_in_place`). `kept_from`, the resource as deployed (the base
    plan's): leaves out the outputs Azure forms from inputs alone (NAMED_FROM_INPUTS) whose inputs it shares with it,
    as a resource made again with them gets the same value."""
    azure = rules()["azureNative"]["types"].get(resource["type"])
    if not azure or not resource.get("custom", True):
        return frozenset()
    type_, name, inputs = resource["type"], resource.get("name") or "", resource["inputs"]
    given = {value for _, value in leaf_items(inputs)}
    # what another resource of the type would get alike (a tenant id, a region's suffix) is no value of this one's
    other = {**inputs, azure["path"][-1]: f"{inputs.get(azure['path'][-1])}-other"}
    alike = {value for _, value in leaf_items(provider_outputs(type_, f"{name}-other", other))}
    outputs = dict(leaf_items(provider_outputs(type_, name, inputs)))
    own = {outputs[p] for p in MADE_PER_RESOURCE.get(type_, ()) if isinstance(outputs.get(p), str)}
    before = (kept_from or {}).get("inputs") or {}
    # an auto-named resource (no name input: the provider names it `<logical name>-<random>`) is made again under
    # another name, so with another URI or host name
    named = set() if kept_from is None or _identity(resource) is None or _identity(kept_from) is None else {
        outputs[p] for p, sources in _named_from(resource).items()
        if p in outputs and all(before.get(k) == inputs.get(k) for k in sources)}
    return frozenset(value for value in outputs.values()
                     if isinstance(value, str) and len(value) >= 8 and value != REDACTED and value not in named
                     and (value in own or value not in given | alike))


def _new_values_in_place(old_res: dict[str, dict[str, Any]], new_res: dict[str, dict[str, Any]], common: list[str],
                         replaced: dict[str, list[str]], changed: dict[str, list[str]]) -> dict[str, list[str]]:
    """The inputs updated in place because they hold a value a replaced resource's create makes anew (a federated
    credential's `issuer`, the new cluster's issuer URL), at a path that does not replace: the plans hold the same
    stand-in on both sides, but the engine makes the input unknown in the preview and sends the new value in the
    update (pulumi/pulumi 1b5949891b step_generator.go: a dependent of a delete-first replacement gets unknowns and
    its provider's Diff, `calculateDependentReplacements`; once the new resource exists, the dependent registers with
    its new outputs and is diffed against the state). A path the resource's ignoreChanges holds keeps the deployed
    value; one already changed is listed as it is. urn -> the lines, for the Update list.

    The replaced resource may be a dependency of a dependency: a value taken alone (llmplatform.handles
    `value_alone`, the resources it carries dropped, its order kept through another resource's `depends_on`) reaches
    the input without an edge of its own, as Open-WebUI's pod template holds its identity's client id
    (`llm-platform/identity-client-id`, depending on the identity's ServiceAccount): the program still sends the new
    value, and the Deployment rolls its pods onto the new identity."""
    if not replaced:
        return {}
    engine = engine_urns(new_res)
    out: dict[str, list[str]] = {}
    # every resource each depends on, directly or through others
    upstream = ancestors({u: set(r.get("dependencies") or []) for u, r in new_res.items()})
    for urn in common:
        res = new_res[urn]
        if urn in replaced or not res.get("custom", True):
            continue
        sources = {d: _made_at_create(new_res[d], kept_from=old_res.get(d)) for d in upstream.get(urn, ())
                   if d in replaced and d in new_res}
        if not any(sources.values()):
            continue
        held = set(changed.get(urn, [])) | set(res.get("secretInputs") or [])
        ignored = res["options"].get("ignoreChanges") or []
        for path, value in leaf_items(res["inputs"]):
            if not isinstance(value, str) or path in held or any(under(path, i) for i in ignored):
                continue
            dep = next((d for d, made in sorted(sources.items()) if value in made), None)
            if dep:
                out.setdefault(urn, []).append(
                    f"`{path}`: a new value from `{short_urn(engine.get(dep, dep))}`, which is replaced (its create "
                    "makes another)")
    return out


# A Kubernetes label or a label selector's value (`spec.selector.matchLabels.app.kubernetes.io/name`, a node
# selector's `spec.template.spec.nodeSelector.llm-platform/pool`, an expression's `matchExpressions[0].values[0]`): a
# value, not a reference, however it spells another object's name (a Deployment's `app.kubernetes.io/name: ollama`
# beside the ServiceAccount `ollama`; a Job's `llm-platform/pool: cpu` beside the AgentPool `cpu`, which a new VM size
# replaces under that name: the label stays, and the Job with it). A label value a replaced resource's create makes
# anew still counts (`_made_at_create`).
_LABEL_PATH = re.compile(r"(^|\.)(labels|matchLabels|nodeSelector)\.|(^|\.)matchExpressions\[\d+\]\.values\[")


def _points_at(value: Any, name: str, path: str = "") -> bool:
    """The value is the name, or an Azure resource ID with the name as a segment; never at a label's `path`."""
    if not isinstance(value, str) or _LABEL_PATH.search(path):
        return False
    return value == name or (value.startswith("/subscriptions/") and f"/{name}/" in value + "/")


def diff(base: Path, new: Path) -> dict[str, Any]:
    return diff_documents(read_resources(base), read_resources(new))


def diff_documents(old_res: dict[str, dict[str, Any]], new_res: dict[str, dict[str, Any]]) -> dict[str, Any]:
    alias_conflicts: dict[str, str] = {}
    moved = alias_matches(old_res, new_res, alias_conflicts)
    if moved:  # an aliased resource is the old one under its new URN: compared, never deleted and created
        renamed = {new: old_res[old] for new, old in moved.items()}
        old_res = {**{u: r for u, r in old_res.items() if u not in set(moved.values())}, **renamed}
    providers = providers_of(new_res)
    common = sorted(set(old_res) & set(new_res))
    changed: dict[str, list[str]] = {}
    replaced: dict[str, list[str]] = {}
    refused: dict[str, list[str]] = {}
    checks: dict[str, list[str]] = {}
    ignored: dict[str, list[str]] = {}
    notes: dict[str, list[str]] = {}
    engine_only: set[str] = set()  # replaced by Pulumi's options alone: the provider's Diff found no replacement
    provider_switched: set[str] = set()  # replaced for a move to another provider: created first, as via_provider
    engine_own: dict[str, str] = {}  # replaced by the engine before any provider's Diff -> the option that does
    migrations: dict[str, list[str]] = {}  # Open-WebUI's migration Job on a new image (chart_bumps.migration_findings)
    rollouts: dict[str, str] = {}  # a workload's new pod template: what its pods do (rollouts.rollout_note)
    normalised: dict[str, list[str]] = {}  # quantities spelled anew, stored alike (normalised.stored_alike)
    hidden: dict[str, list[str]] = {}  # changed paths under the resource's hideDiffs, which `pulumi preview` hides
    pairs: Optional[dict[str, str]] = None  # an earlier kit's stand-in value -> this kit's (stand_in_ids)
    for urn in common:
        old, now = old_res[urn], new_res[urn]
        inputs, unheld = process_ignore_changes(old["inputs"], now["inputs"], now["options"].get("ignoreChanges") or [])
        if unheld:
            checks.setdefault(urn, []).append(
                f"its ignoreChanges cannot hold {', '.join(f'`{p}`' for p in unheld)} (an element of the path is added "
                f"or removed): `pulumi up` says \"{ENGINE_INFO}\" and sends what the program has there (nothing where "
                "the path is gone), not the deployed value")
        paths = changed_keys(old["inputs"], inputs)
        if paths and pairs is None:  # an earlier kit's stand-in ids: computed once, where anything changed
            pairs = earlier_kit_pairs(old_res, new_res)
        artifacts = kit_artifacts(now["type"], old["inputs"], inputs, paths, pairs) if paths else set()
        paths = [p for p in paths if p not in artifacts]  # an earlier kit's stand-ins: no change for the engine
        if inputs is not now["inputs"]:
            ignored_paths = [p for p in changed_keys(old["inputs"], now["inputs"]) if p not in paths
                             and p not in artifacts]
            if ignored_paths:
                ignored[urn] = ignored_paths
                checks.setdefault(urn, []).extend(ignored_findings(now["type"], old["inputs"], now["inputs"],
                                                                   ignored_paths))
        alike = stored_alike(old["inputs"], inputs, paths) if paths and now["type"].startswith("kubernetes:") else {}
        if alike:  # a quantity spelled anew, which the API server stores as before: no change for the provider's Diff
            normalised[urn] = list(alike.values())
            paths = [p for p in paths if p not in alike]
        bundle = crd_bundle_findings(now["type"], old["inputs"], inputs, paths)  # a component: no provider diff
        if bundle:
            checks.setdefault(urn, []).extend(bundle)
        keys = list(paths)
        if old["options"].get("protect") != now["options"].get("protect"):
            keys.append(f"protect {'on' if now['options'].get('protect') else 'off'}")  # the option, not an input
        why: list[str] = []
        provider_replaces = False
        if now.get("custom", True):
            rules_here = replace_rules(now, providers)
            for path in paths:
                by_rule = [f"`{path}` ({rule})" for key, rule in rules_here if under(path, key)][:1]
                why += by_rule
                provider_replaces = provider_replaces or bool(by_rule)
                why += [f"`{path}` (its replaceOnChanges)" for key in now["options"].get("replaceOnChanges") or []
                        if under(path, key)]
                refused.setdefault(urn, []).extend(
                    f"`{path}`: {own_keys(urn, old_res, new_res, reason)}"
                    for key, reason in refused_rules(now["type"]).items() if under(path, key))
            refusals, notices = value_findings(now["type"], old["inputs"], inputs, paths)
            notices = notices + update_findings(now["type"], inputs, paths) + channel_exit_findings(
                now["type"], old["inputs"], inputs, paths) + chart_bump_findings(
                now["type"], old["inputs"], inputs, paths) + moved_address_findings(
                urn, now["type"], old["inputs"], inputs)
            migration = migration_findings(now["type"], old["inputs"], inputs, paths) + dropped_model_findings(
                now["type"], old["inputs"], inputs) + dropped_name_findings(urn, now["type"], old["inputs"], inputs)
            if migration:  # kept for a replaced resource too (a Job with a new image or list, a vLLM Deployment)
                migrations[urn] = migration
            rollout = rollout_note(now["type"], inputs, paths, same_value(old["inputs"], inputs, paths))
            if rollout:  # told on its Update line
                rollouts[urn] = rollout
            refused.setdefault(urn, []).extend(refusals)
            if notices:
                checks.setdefault(urn, []).extend(notices)
            switched = _provider_switch(old, now, old_res, new_res, moved)
            if switched:
                why += switched
                keys.append("(provider)")
                provider_switched.add(urn)
            elif switched is not None:
                notes.setdefault(urn, []).append(
                    f"its provider changes to `{short_urn(provider_urn(now['options'].get('provider')) or 'default')}`"
                    ", which the provider's DiffConfig takes as the same cluster or account: no replacement")
        trigger, unseen = trigger_change(old["options"], now["options"])
        if trigger:  # asked before the provider's Diff, which is then never asked (nor its deleteBeforeReplace)
            why.append(trigger)
            keys.append("(replacementTrigger)")
            engine_own[urn] = "its `replacementTrigger`"
        elif unseen:
            checks.setdefault(urn, []).append(unseen)
        # hideDiffs changes no step, only what the CLI displays (pkg/backend/display/object_diff.go)
        hidden_paths = [p for p in paths if any(under(p, key) for key in now["options"].get("hideDiffs") or [])]
        if hidden_paths:
            hidden[urn] = hidden_paths
        if urn in moved:
            notes.setdefault(urn, []).append(f"moved from `{moved[urn]}` through its alias (the same resource)")
        elif (old.get("parent") or "") != (now.get("parent") or ""):
            notes.setdefault(urn, []).append("new parent of the same type (the URN is unchanged)")
        if why:
            replaced[urn] = sorted(set(why))
            if not provider_replaces and "(provider)" not in keys:
                engine_only.add(urn)
        if keys:
            changed[urn] = keys
    refused = {u: sorted(set(r)) for u, r in refused.items() if r and u not in replaced}
    causes: dict[str, set[str]] = {}  # a resource the cascade replaces -> the replaced ones it comes from
    own_first: dict[str, bool] = {}  # a replaced resource -> whether its own replacement deletes first

    def deletes_first(urn: str, via: set[str]) -> bool:
        """Whether Pulumi deletes the replaced resource before it creates it, by what replaces it so far."""
        if urn not in own_first:
            own_first[urn] = _delete_first(old_res[urn], new_res[urn])
        return own_first[urn] and (
            urn not in via | provider_switched and urn not in engine_only and urn not in engine_own
            or bool(new_res[urn]["options"].get("deleteBeforeReplace")))
    via_provider = _cascade(old_res, new_res, common, replaced, causes, engine_own,
                            _FirstChain(deletes_first, causes, _property_dependencies(old_res, new_res, moved)))
    for urn, lines in _new_values_in_place(old_res, new_res, common, replaced, changed).items():
        changed[urn] = changed.get(urn, []) + lines
    removed, added = sorted(set(old_res) - set(new_res)), sorted(set(new_res) - set(old_res))
    taken = _taken_names(old_res, new_res, removed, added)
    for urn in removed:
        type_, retained = old_res[urn]["type"], bool(old_res[urn]["options"].get("retainOnDelete"))
        if retained and type_ in RETAINED:
            notes.setdefault(urn, []).append(RETAINED[type_])
        elif type_ in LEFT_BEHIND:
            notes.setdefault(urn, []).append(LEFT_BEHIND[type_])
    new_urn: dict[str, str] = {}  # a removed URN -> the added one it became
    for urn in removed:  # a URN that changed: the same type and physical name or inputs under another URN
        twin = next((a for a in added if new_res[a]["type"] == old_res[urn]["type"]
                     and (new_res[a]["inputs"] == old_res[urn]["inputs"] or (
                         _physical_name(old_res[urn]) and _physical_name(new_res[a]) == _physical_name(old_res[urn])))),
                    None)
        if twin:
            new_urn[urn] = twin
            if old_res[urn]["type"] in NEW_VALUE:  # the same inputs, another value: made at the new one's create
                notes.setdefault(urn, []).append(
                    f"`{short_urn(twin)}` (another name or parent) replaces it with a new generated value: Pulumi "
                    "creates that one during the update and deletes this one at its end, so a new value replaces "
                    "this one and whoever holds it (an API key's clients) must get the new value, unless the new "
                    "resource carries an alias of this URN (which keeps the value)")
                continue
            notes.setdefault(urn, []).append(
                f"its URN changed to `{short_urn(twin)}` (renamed or re-parented): Pulumi creates the new one during "
                "the update and deletes this one at its end (what the program no longer declares goes last), unless "
                "the new resource carries an alias of the old URN")
            continue
        successor = next((a for a in added if _same_object_other_kind(old_res[urn], new_res[a])), None)
        if successor and successor in taken:
            notes.setdefault(urn, []).append(
                f"`{short_urn(successor)}` is the same object in another version, so its create fails while this one "
                "exists (refused below)")
        elif successor:
            notes.setdefault(urn, []).append(
                f"`{short_urn(successor)}` takes its place (the same namespace and name in the same API group, another "
                "kind, so another URN): Pulumi creates that one during the update and deletes this one at "
                "its end (what the program no longer declares goes last), so both exist in between")
    lost = [urn for urn in replaced
            if lost_legacy_name(new_res[urn]["type"], old_res[urn]["inputs"], new_res[urn]["inputs"])]
    for urn in lost:
        type_ = new_res[urn]["type"]
        others = any(new_res[u]["type"] != type_ for u in lost)  # another kind of the four loses its legacy name too
        name = old_res[urn]["inputs"].get(GLOBAL_NAMES[type_][0])
        notes.setdefault(urn, []).append(legacy_name_note(type_, name, others))
    checks = {u: c for u, c in checks.items() if c and u not in replaced}
    for urn, lines in migrations.items():
        checks.setdefault(urn, []).extend(lines)
    # A replacement holds no ignored path: the engine checks the program's own inputs again for the new resource
    # (pulumi/pulumi 1b5949891b step_generator.go `continueStepsFromDiff`: `prov.Check` of `goal.Properties`, "we
    # need to recompute the default values"), so it is created with the program's values there.
    for urn in [u for u in ignored if u in replaced]:
        paths = ignored.pop(urn)
        notes.setdefault(urn, []).append(
            f"the new one is created with the program's {', '.join(f'`{p}`' for p in paths)} (its ignoreChanges holds "
            "nothing through a replacement: the engine checks the program's inputs again)")
    deleted = set(removed) | set(replaced)
    for urn in sorted(deleted):
        if old_res[urn]["type"] not in DATA_PLANE_DELETE:
            continue
        if _calls_delete(urn, old_res, new_res, deleted):
            checks.setdefault(urn, []).append(DATA_PLANE_CHECK)
        elif _calls_delete(urn, old_res, new_res, deleted, unprotected=True):
            # protected: `pulumi up` stops first, and the Protected line says to lift it; then the engine calls
            # the delete (pulumi state unprotect changes no plan, so no later check would say so)
            checks.setdefault(urn, []).append(PROTECTED_DATA_PLANE_CHECK)
    for urn, line in secret_sources(old_res, new_res, common, added, removed).items():
        checks.setdefault(urn, []).append(line)
    for urn, line in closing_before_endpoint(old_res, new_res, added, engine_urns(new_res)).items():
        checks.setdefault(urn, []).append(line)
    for urn, line in ui_home_moves(old_res, new_res).items():
        if urn not in replaced:  # a profile replaced is blocked and said so: every browser's session goes with it
            checks.setdefault(urn, []).append(line)
    # Pulumi deletes these before it creates them again: the resource's answer, unless the provider's own
    # replacement or the engine's option alone asks for the replacement (then the new one is created first)
    deleting_first = {u for u in replaced if deletes_first(u, via_provider)}
    # A delete-first replacement deletes, before itself, every replacement it drags along (pulumi/pulumi 1b5949891b
    # step_generator.go `calculateDependentReplacements`: its dependents whose provider, deletedWith or replacing
    # input it replaces, deleted in reverse dependency order; each is created again when it registers): a cluster
    # replaced under its own name takes its Kubernetes provider and every object on it down first.
    own_roots = set(deleting_first)
    grew = True
    while grew:
        grew = False
        for urn, came_from in causes.items():
            if urn not in deleting_first and came_from & deleting_first:
                deleting_first.add(urn)
                grew = True
    # ... and refuses that chain on the state's flag alone: a dependent it deletes first was protected when the state
    # was written, whatever the program now says (1b5949891b step_generator.go `continueStepsFromDiff`: "unable to
    # replace resource ... as part of replacing ...", `dependentResource.Protect`, the old state's, before the
    # dependent registers)
    dragged = {u for u, came_from in causes.items() if came_from & deleting_first}
    roots = own_roots - dragged
    listed = _listed_first(old_res, new_res, replaced, roots, notes)
    deleting_first |= listed
    dragged |= listed
    delete_first = sorted(deleting_first)
    for urn, line in unrecorded_chain(old_res, new_res, replaced, deleting_first, moved).items():
        checks.setdefault(urn, []).append(line)
    # volumes deleted first on their own answer (one dragged along is in a chain, with what depends on it)
    for urn, holds in held_volumes(old_res, new_res, sorted(roots), listed).items():
        refused.setdefault(urn, []).append(holds)
    stalls, may_stall = stalled_drains(old_res, new_res, deleting_first)
    for urn, stall in stalls.items():
        refused.setdefault(urn, []).append(stall)
    for urn, stall in may_stall.items():
        checks.setdefault(urn, []).append(stall)
    for urn, line in claims_in_use(old_res, sorted(set(removed) | set(replaced)),
                                   _chain_roots(deleting_first, causes)).items():
        checks.setdefault(urn, []).append(line)
    for urn, line in shared_handles(old_res, new_res, added, list(replaced), removed, delete_first).items():
        checks.setdefault(urn, []).append(line)
    for urn, line in driver_switches(old_res, new_res, removed, added).items():
        checks.setdefault(urn, []).append(line)
    for urn, line in spot_refuges(old_res, new_res, removed).items():
        checks.setdefault(urn, []).append(line)
    claims: dict[str, str] = {}
    gone = frozenset(object_name(old_res[u]) for u in set(removed) | set(replaced) if old_res[u]["type"] == NAMESPACE)
    for urn in sorted(set(removed) | set(replaced)):
        goes, stays = claims_lost(urn, old_res, gone)
        if goes:
            claims[urn] = goes
        if stays:
            notes.setdefault(urn, []).append(stays)
    for urn, note in retained_bindings(old_res, sorted(set(removed) | set(replaced))).items():
        notes.setdefault(urn, []).append(note)
    for urn, reason in taken.items():
        refused[urn] = [reason]
    for urn, reason in alias_conflicts.items():
        refused.setdefault(urn, []).append(reason)
    def keeps_its_name(urn: str) -> bool:  # the replacement is created under the name the old one still holds
        return bool(_physical_name(new_res[urn])) and _physical_name(old_res[urn]) == _physical_name(new_res[urn])
    for urn in sorted(set(replaced) - deleting_first):  # created first under the name the old one holds
        if not keeps_its_name(urn):
            continue
        if urn in engine_only and urn not in engine_own:
            refused[urn] = [ENGINE_ONLY_COLLIDES]
        elif urn in engine_own:
            refused[urn] = [created_first_collides(ENGINE_OWN.format(engine_own[urn]))]
        elif _defined_false(new_res[urn]) and urn not in via_provider | provider_switched:
            refused[urn] = [created_first_collides(DEFINED_FALSE)]
    for urn in sorted(u for u in replaced if old_res[u]["options"].get("retainOnDelete")):
        if keeps_its_name(urn):  # retained: no Delete at all, so no deleteBeforeReplace frees the name
            refused[urn] = [RETAINED_COLLIDES]
        elif old_res[urn]["type"] in RETAINED:
            notes.setdefault(urn, []).append(f"the old one, under its old name, is {RETAINED[old_res[urn]['type']]}")
    return {"added": added, "removed": removed, "changed": changed, "replaced": replaced, "refused": refused,
            "checks": checks, "ignored": ignored, "notes": notes, "base_found": bool(old_res), "moved": moved,
            "hidden": hidden, "rollouts": rollouts, "normalised": normalised,
            "renamed": new_urn,
            "claims": claims,
            "deleteBeforeReplace": delete_first,
            "types": {**{u: r["type"] for u, r in old_res.items()}, **{u: r["type"] for u, r in new_res.items()}},
            "engineUrns": {**engine_urns(old_res), **engine_urns(new_res)},
            # the engine refuses a delete of what the state protects (step.go deleteProtectedError), a replacement
            # only while the program protects it too (step_generator.go: `new.Protect && old.Protect`), one a
            # delete-first replacement drags along on the state's flag alone (`dragged`)
            "protected": sorted(u for u in set(replaced) | set(removed) if old_res[u]["options"].get("protect") and (
                u in removed or u in dragged or new_res[u]["options"].get("protect")))}


def _physical_name(resource: dict[str, Any]) -> Optional[tuple[str, ...]]:
    """What names the object where it lives: an Azure resource's type and every path parameter (its resource ID), a
    Kubernetes object's API group, kind, namespace and name (any version: one object, served in each), a Helm
    release's namespace and name; None when a part is not given (a name the provider generates)."""
    type_, inputs = resource["type"], resource["inputs"]
    azure = rules()["azureNative"]["types"].get(type_)
    if azure:
        values = [inputs.get(p) for p in azure["path"]]
        return (type_, *values) if all(isinstance(v, str) and v for v in values) else None
    if type_ == HELM_RELEASE:  # Helm installs no second release of a name in a namespace
        name = inputs.get("name")
        return ("helm", str(inputs.get("namespace") or ""), name) if isinstance(name, str) and name else None
    kind = kube_kind(type_)
    if kind:
        meta = inputs.get("metadata") or {}
        name = meta.get("name")
        group, kind_name = kind.rsplit("/", 2)[0], kind.rsplit("/", 1)[1]
        return (group, kind_name, str(meta.get("namespace") or ""), name) if isinstance(name, str) and name else None
    return None


def _taken_names(old_res: dict[str, dict[str, Any]], new_res: dict[str, dict[str, Any]], removed: list[str],
                 added: list[str]) -> dict[str, str]:
    """Added resources whose create fails because a removed one holds their name: the engine creates what is new
    during the update and deletes what the program no longer declares at its end, so the old object still exists;
    pulumi-azure-native's Create refuses an existing resource (CanCreate) and pulumi-kubernetes' (since 4.29.0, without
    the provider's upsertExistingObjects) gets AlreadyExists from the API server; a Release's is a Helm install
    (helm_release.go helmCreate, `replace` unset), which refuses a release name in use in its namespace."""
    holders = {key: urn for urn in removed if (key := _physical_name(old_res[urn]))}
    out = {}
    for urn in added:
        held = holders.get(_physical_name(new_res[urn]) or ())
        if held:
            when = ("the state retains it on delete, so Pulumi never deletes it" if
                    old_res[held]["options"].get("retainOnDelete") else
                    "Pulumi deletes it only at the update's end, after the creates")
            out[urn] = (f"its create fails: `{short_urn(held)}`, which the program no longer declares, is the same "
                        f"object (one name where it lives) and {when} (pulumi-kubernetes 4.29+: AlreadyExists; "
                        "pulumi-azure-native: 'cannot create already existing resource'): give the new resource an "
                        "alias of the old URN (an update then, not a create)")
    return out


def _kube_group(type_: str) -> Optional[str]:
    """The API group of a Kubernetes object's type (`core` for the core group), None for anything else."""
    kind = kube_kind(type_)
    return kind.rsplit("/", 2)[0] if kind else None


def _same_object_other_kind(old: dict[str, Any], new: dict[str, Any]) -> bool:
    """`new` is `old`'s successor under another type: both Kubernetes objects of one API group, with one namespace
    and name, of another kind or version (an API moved from v1alpha1 to v1beta1, or to a new kind)."""
    group = _kube_group(old["type"])
    meta_old, meta_new = old["inputs"].get("metadata") or {}, new["inputs"].get("metadata") or {}
    return bool(group) and group == _kube_group(new["type"]) and old["type"] != new["type"] and bool(
        meta_old.get("name")) and all(meta_old.get(k) == meta_new.get(k) for k in ("name", "namespace"))


class _FirstChain:
    """What the cascade asks of delete-first replacements: whether a replaced resource is deleted first (its own
    answer, or a cause of its replacement that is: the chain), and the old plan's property dependencies by the new
    plan's URNs (None when a plan lacks them: one an earlier kit made)."""

    def __init__(self, own: Any, causes: dict[str, set[str]],
                 property_deps: Optional[dict[str, dict[str, set[str]]]]):
        self.own, self.causes, self.property_deps = own, causes, property_deps

    def deletes_first(self, urn: str, via: set[str]) -> bool:
        seen, pending = set(), [urn]
        while pending:
            at = pending.pop()
            if at in seen:
                continue
            seen.add(at)
            if self.own(at, via):
                return True
            pending.extend(self.causes.get(at, ()))
        return False


def _property_dependencies(old_res: dict[str, dict[str, Any]], new_res: dict[str, dict[str, Any]],
                           moved: dict[str, str]) -> Optional[dict[str, dict[str, set[str]]]]:
    """The old plan's `propertyDependencies` (the state's, which the engine's delete-first chain reads), each URN as
    the new plan names it (through an alias); None when either plan lacks the field (a plan of a kit before it
    recorded them): the check then matches values alone, as before, so the first change after the upgrade shows
    no replacement the field's arrival would make up."""
    if not all("propertyDependencies" in r for r in old_res.values()) or not all(
            "propertyDependencies" in r for r in new_res.values()):
        return None
    new_of = {was: urn for urn, was in moved.items()}
    return {urn: {key: {new_of.get(u, u) for u in urns} for key, urns in (r["propertyDependencies"] or {}).items()}
            for urn, r in old_res.items()}


def exclude_flags(urns: list[str], engine: dict[str, str]) -> str:
    """`pulumi up`'s `--exclude` flags leaving `urns` out, by their engine URNs in single quotes (they hold `$`): the
    command itself, not a `<URN>` the reader must find in the right form (the plans' own are the SDK mocks')."""
    return " ".join(f"--exclude '{engine.get(u, u)}'" for u in urns)


# The fallback line's opening: the check finds it to say why it could not read the state's own dependencies (cli)
EARLIER_KIT = "the base plan records no property dependencies"


def unrecorded_chain(old_res: dict[str, dict[str, Any]], new_res: dict[str, dict[str, Any]],
                     replaced: dict[str, list[str]], deleting_first: set[str],
                     moved: dict[str, str]) -> dict[str, str]:
    """A line for each resource the diff keeps whose base dependencies hold a delete-first replacement, when the base
    plan records no `propertyDependencies` (an earlier release's kit: 0.21.0 and before) and the check cannot read the
    state's from the base checkout (cli: earlier_state.recover, then `earlier_state_chain`). The engine's chain
    (pulumi/pulumi 1b5949891b step_generator.go `calculateDependentReplacements`) makes unknown the inputs whose
    property dependencies in the state hold the replaced resource, which such a base cannot tell, and an earlier
    release's state tied more to its values than this one does (0.21.0: Ollama's pod spec to the preload Job, the GPU
    pools' name and every workload's pod spec to the CPU pool): matched by value, the diff listed none of them.

    The way round, read in the same engine: `--exclude` gives the excluded resource a same step with its old state
    (deploy/step_generator.go: not `isIncludedInOperation`, so no Diff and no `calculateDependentReplacements` for
    it), its dependents are diffed as ever unless `--exclude-dependents` (`isExcludedFromUpdate`), and every step's
    new state, a same step's too, carries the program's `dependencies` and `propertyDependencies` into the state
    (pkg/backend/snapshot.go `sameSnapshotMutation.End` marks `step.New()`; a write elided there is flushed by the
    next or at Close). So the next run's chain reads this release's dependencies: the diff's own."""
    if not old_res or all("propertyDependencies" in r for r in old_res.values()):
        return {}
    new_of = {was: urn for urn, was in moved.items()}
    engine = engine_urns(new_res)
    providers = providers_of(new_res)
    out = {}
    for urn in sorted(set(old_res) & set(new_res)):
        old = old_res[urn]
        if urn in replaced or not old.get("custom", True):
            continue
        firsts = sorted({new_of.get(d, d) for d in old.get("dependencies") or []} & deleting_first - {urn})
        if not firsts:
            continue
        # Each input key may hold each of them in the state (the most the base's `dependencies` allow): the
        # provider's Diff still decides on the keys (`_unknown_keys_replace`: a Release on `name` and `namespace`
        # alone, helm_release.go `forceNewFields`), so a resource no unknown key replaces is left out
        tops = sorted({top for _, hit in _unknown_keys_replace(
            urn, new_res[urn], old, replace_rules(new_res[urn], providers),
            {top: set(firsts) for top in old["inputs"]}, replaced, new_res, lambda u: u in deleting_first)
            for top in hit})
        if not tops:
            continue
        keys = " or ".join(f"`{t}`" for t in tops[:3]) + (" (or another input)" if len(tops) > 3 else "")
        names = ", ".join(f"`{short_urn(engine.get(u, u))}`" for u in firsts[:3]) + (
            f" and {len(firsts) - 3} more" if len(firsts) > 3 else "")
        one, it = ("one of them", "them") if len(firsts) > 1 else ("it", "it")
        exclude = exclude_flags(firsts, engine)
        out[urn] = (f"{EARLIER_KIT} (an earlier release's kit made it), and the "
                    f"deployed state lists {names} among this resource's dependencies, deleted first and replaced "
                    f"here: where its {keys} comes from {one} in the state, the engine deletes and creates it "
                    "again with it, and what the state ties to it in turn (pulumi/pulumi 1b5949891b "
                    "step_generator.go `calculateDependentReplacements` reads the state's dependencies, not the "
                    "values this diff matches), which this diff cannot list. Run one `pulumi up` of this release "
                    f"that leaves {it} out first (`pulumi up {exclude}`, without `--exclude-dependents`, "
                    "which would leave this resource out too): it records this release's dependencies, and the "
                    f"next `pulumi up` replaces {it} with no more than this diff lists (CHANGELOG, Upgrading)")
    return out


def earlier_state_chain(state: dict[str, dict[str, Any]], new_res: dict[str, dict[str, Any]],
                        result: dict[str, Any]) -> dict[str, str]:
    """A line for each resource that `result` (the diff from the deployed `state`, an earlier release's, its property
    dependencies read from its own program: earlier_state.recover) replaces only through what that state ties to a
    delete-first replacement: replaced with those ties, and not once a run of this release has written its own
    (0.21.0's Ollama `spec` to the preload Job). The way round is `unrecorded_chain`'s: a run that leaves the
    delete-first replacements it comes from out (`--exclude`: a same step, no `calculateDependentReplacements`, and
    the program's dependencies written), then the run that replaces them."""
    later = diff_documents({u: {**r, "propertyDependencies": new_res[u].get("propertyDependencies") or {}}
                            if u in new_res else r for u, r in state.items()}, new_res)
    only = set(result["replaced"]) - set(later["replaced"])
    firsts = set(result["deleteBeforeReplace"]) - only
    engine = result["engineUrns"]
    out = {}
    for urn in sorted(only):
        roots, seen, pending = set(), set(), [urn]
        while pending:  # through what is itself replaced only so (0.21.0's ScaledObject through Ollama)
            at = pending.pop()
            for dep in (state.get(at) or {}).get("dependencies") or []:
                if dep in firsts:
                    roots.add(dep)
                elif dep in only and dep not in seen:
                    seen.add(dep)
                    pending.append(dep)
        if not roots:
            continue
        through = sorted(set(state[urn].get("dependencies") or []) & only)  # what it lists, replaced so too
        names = ", ".join(f"`{short_urn(engine.get(u, u))}`" for u in sorted(roots)) + (
            f" (through {', '.join(f'`{short_urn(engine.get(u, u))}`' for u in through[:2])}, replaced so too)"
            if through and not roots & set(state[urn].get("dependencies") or []) else "")
        exclude = exclude_flags(sorted(roots), engine)
        it = "them" if len(roots) > 1 else "it"
        out[urn] = (f"replaced only because the deployed state, an earlier release's, ties it to {names}, deleted "
                    "first and replaced (the state's property dependencies, read from the base checkout's own "
                    "program; this release's program does not tie it so). Run one `pulumi up` of this release that "
                    f"leaves {it} out first (`pulumi up {exclude}`, without `--exclude-dependents`): it records this "
                    f"release's dependencies, and the next `pulumi up` replaces {it} without this resource (CHANGELOG, "
                    "Upgrading)")
    return out


def _unknown_keys_replace(urn: str, res: dict[str, Any], old: dict[str, Any], keys: list[tuple[str, str]],
                          by_key: dict[str, set[str]], replaced: dict[str, list[str]],
                          new_res: dict[str, dict[str, Any]], deletes_first: Any) -> list[tuple[str, list[str]]]:
    """(a delete-first replaced resource, the top-level input keys whose being unknown replaces this resource), by
    the old plan's property dependencies `by_key` (the state's: `calculateDependentReplacements` reads the old
    inputs and dependencies). A key replaces when a force-new path of the resource (its provider's rules, its
    replaceOnChanges) lies at or above it, or under it: an unknown object in pulumi-azure-native's Diff is counted as
    changing every force-new path within it. pulumi-kubernetes (94977969 provider/pkg/provider/provider.go `Diff`)
    puts the unknown in its object as the SDK's `resource.Computed` struct (`propMapToUnstructured`, pulumi
    sdk/go/common/resource/properties.go `MapRepl`: `v.Input()`), which encoding/json writes as
    `{"Element":{"V":""}}` (apimachinery unstructured/helpers.go `doEncode`), not null: the merge patch nulls every
    field the old inputs held under the key, `convertPatchToDiff` records each a DELETE (its new input is missing, not
    `resource.Computed`), and openapi/match.go `PatchPropertiesChanged` finds a force-new path that is such a field
    (`.spec.volumeName`, a Job's `.spec.template`, a Deployment's `.spec.selector`, `.metadata.name`) under the null;
    one deeper (`.spec.selector.matchLabels`) it does not. A path the old ignoreChanges holds is left out (the
    provider drops it from the detailed diff)."""
    ignored = old["options"].get("ignoreChanges") or []
    forcing = [key for key, _ in keys] + list(old["options"].get("replaceOnChanges") or [])
    kube = bool(kube_kind(res["type"]))
    hits: dict[str, list[str]] = {}
    for top, urns in sorted(by_key.items()):
        if top not in old["inputs"] or any(under(top, i) for i in ignored):
            continue
        held = old["inputs"][top]
        nulled = [f"{top}.{field}" for field in held] if kube and isinstance(held, dict) else []
        if not any((under(top, p) or (p in nulled if kube else under(p, top)))
                   and not any(under(p, i) for i in ignored) for p in forcing):
            continue
        for dep in sorted(u for u in urns if u != urn and u in replaced and u in new_res and deletes_first(u)):
            hits.setdefault(dep, []).append(top)
    return sorted(hits.items())


def _cascade(old_res: dict[str, dict[str, Any]], new_res: dict[str, dict[str, Any]], common: list[str],
             replaced: dict[str, list[str]], causes: dict[str, set[str]], engine_own: dict[str, str],
             chain: Optional[_FirstChain] = None) -> set[str]:
    """What a replacement drags along: every resource of a replaced provider; a Kubernetes provider whose kubeconfig
    or cluster identifier comes from a replaced cluster; a resource whose replacing input names a replaced resource it
    depends on; a resource whose `replaceWith` lists a replaced resource, or whose `deletedWith` is replaced; one
    whose `replacementTrigger` holds a value a replaced resource's create makes anew; with `chain`'s property
    dependencies, a dependent of a delete-first replacement by those alone (below). Returns the resources replaced
    because their provider, replaceWith or deletedWith is (the engine's own replacement, no provider's: it creates
    those before it deletes); `causes` gets, for each resource the cascade replaces, the replaced resources its
    replacement comes from (a delete-first one deletes those first with it); `engine_own` the option that replaces
    one the engine decides on before its provider is asked."""
    providers = providers_of(new_res)
    engine = engine_urns(new_res)  # a reason names a resource as the report's lines do: by its engine URN

    def short(urn: str) -> str:
        return short_urn(engine.get(urn, urn))
    pairs: Optional[dict[str, str]] = None  # an earlier kit's stand-in value -> this kit's (stand_in_ids)
    via_provider: set[str] = set()

    def chain_causes(urn: str, res: dict[str, Any], keys: list[tuple[str, str]], why: list[str]) -> bool:
        """A delete-first replacement's chain is the engine's by property dependencies, whatever the values
        (pulumi/pulumi 1b5949891b step_generator.go `calculateDependentReplacements`): every input of a custom
        dependent whose dependencies in the state hold a replaced resource is made unknown whole, and the dependent's
        provider Diff (its ignoreChanges and replaceOnChanges applied) asked. So a `location` taken from a resource
        group replaced under its own name replaces it, which no value shows. The values (`_cascade`) still count (a
        create-first replacement hands its dependents the new outputs; for a delete-first one they are kept, the
        check's side being the safe one). Adds each new cause to `causes` and its line to `why`; whether any."""
        if not chain or chain.property_deps is None or not res.get("custom", True):
            return False
        found, before = causes.get(urn, set()), len(why)
        first = functools.partial(chain.deletes_first, via=via_provider)
        for dep, tops in _unknown_keys_replace(urn, res, old_res[urn], keys, chain.property_deps.get(urn, {}),
                                               replaced, new_res, first):
            if dep in found:
                continue
            why += [f"`{top}` comes from `{short(dep)}`, which is deleted first and replaced (the engine makes "
                    "it unknown, and the provider's diff replaces on it)" for top in tops[:2]]
            causes.setdefault(urn, set()).add(dep)
        return len(why) > before
    grew = True
    while grew:
        grew = False
        for urn in common:
            res = new_res[urn]
            why: list[str] = []
            # The engine's own replacements, decided before the resource's provider is asked (pulumi/pulumi
            # 1b5949891b step_generator.go `diff`), so its answer (deleteBeforeReplace) is never asked either: a
            # replaced resource its replaceWith lists, a replaced deletedWith (#23818, 5cd93859e8, 2026-08-21, after
            # v3.259.0), then a replaced provider. A delete-first replacement deletes the first two with it
            # (`findDependentCascadeReplacements`), and the third (`calculateDependentReplacements`).
            provider = provider_urn(res["options"].get("provider"))
            deleted_with = res["options"].get("deletedWith")
            with_ = [u for u in res["options"].get("replaceWith") or [] if u in replaced]
            engine_why = [f"its replaceWith `{short(u)}` is replaced" for u in with_]
            engine_why += [f"its deletedWith `{short(deleted_with)}` is replaced"] if deleted_with in replaced else []
            by_option = engine_why[:]
            engine_why += [f"its provider `{short(provider)}` is replaced"] if provider in replaced else []
            if engine_why and urn not in via_provider:
                via_provider.add(urn)
                # not its replaceWith: a delete-first root takes down first what the state lists it for (_listed_first)
                causes.setdefault(urn, set()).update(d for d in (deleted_with, provider) if d in replaced)
                if by_option and provider not in replaced and urn not in engine_own:
                    engine_own[urn] = f"its replaceWith `{short(with_[0])}`" if with_ else \
                        f"its deletedWith `{short(deleted_with)}`"
                replaced[urn] = sorted(set(replaced.get(urn, [])) | set(engine_why))
                grew = True
            keys = replace_rules(res, providers)
            if urn in replaced:
                # replaced on its own diff too: the engine still deletes it first with a delete-first root whose
                # chain reaches it (below), before that root registers it again (`sg.deletes`: recreated)
                if urn not in via_provider and chain_causes(urn, res, keys, why):
                    replaced[urn] = sorted(set(replaced[urn]) | set(why))
                    grew = True
                continue
            deps = [d for d in res.get("dependencies", []) if d in replaced and d in new_res]
            if res["type"] == "pulumi:providers:kubernetes":
                cluster = next((short(d) for d in deps
                                if new_res[d]["type"] == CLUSTER_TYPE), None)
                if pairs is None:
                    pairs = earlier_kit_pairs(old_res, new_res)
                why += kubernetes_provider_replaces(old_res[urn]["inputs"], res["inputs"], cluster, pairs)
                if why:
                    causes.setdefault(urn, set()).update(d for d in deps if new_res[d]["type"] == CLUSTER_TYPE)
            azure = rules()["azureNative"]["types"].get(res["type"])
            own = azure["path"][-1] if azure else "metadata.name"  # its own name is no reference to another
            for dep in deps:
                name, made = _identity(new_res[dep]), _made_at_create(new_res[dep])
                replacing = [(path, value) for path, value in leaf_items(res["inputs"])
                             if path != own and any(under(path, key) for key, _ in keys)]
                hits = [path for path, value in replacing if name and _points_at(value, name, path)]
                named = [p for p in hits if re.search(r"(Name|namespace|[iI][dD]|scope|subnet)$", p)]
                from_dep = [f"`{path}` names `{short(dep)}`, which is replaced" for path in (named or hits)[:2]]
                from_dep += [f"`{path}` comes from `{short(dep)}`, which is replaced (a new value its create makes)"
                             for path, value in replacing if path not in hits and isinstance(value, str)
                             and value in made][:2]
                # A secret input the plans show as `[secret]` hides where its value comes from (a generated
                # password's `result`, a storage key): from a resource it depends on that is replaced, it is unknown
                # in the preview and, from a create, new in the update, so at a force-new path it replaces too.
                if not from_dep:
                    from_dep = [f"`{path}` is secret (the plans cannot show it) and comes from `{short(dep)}`, which "
                                "is replaced" for path in res.get("secretInputs") or []
                                if any(under(path, key) or under(key, path) for key, _ in keys)][:1]
                if from_dep:
                    why += from_dep
                    causes.setdefault(urn, set()).add(dep)
            chain_causes(urn, res, keys, why)  # the engine's delete-first chain, by property dependency
            # A trigger holding a value a replaced resource's create makes (an ID, a principal) is unknown in the
            # preview and new in the update: `shouldTriggerReplace` replaces, before the provider's Diff. The SDK
            # sends no dependency of the trigger (pulumi 3.272.0 runtime/resource.py serializes it apart from the
            # inputs), so every replaced resource may be its source; the delete-first chain does not follow it
            # (`calculateDependentReplacements` follows inputs), so it is no cause.
            trigger = res["options"].get("replacementTrigger")
            if trigger is not None and old_res[urn]["options"].get("replacementTrigger") is not None:
                values = {v for _, v in leaf_items(trigger) if isinstance(v, str)}
                source = next((d for d in sorted(replaced) if d in new_res and values & _made_at_create(new_res[d])),
                              None)
                if source:
                    why.append(f"its replacementTrigger comes from `{short(source)}`, which is replaced (a new value "
                               "its create makes)")
                    engine_own[urn] = "its `replacementTrigger`"
                    via_provider.add(urn)
            if why:
                replaced[urn] = sorted(set(why))
                grew = True
    return via_provider


# The options the kit records only when set (components/llmplatform/testing/stand_ins.py `_replacement_options`): a
# base plan holding none of them anywhere may come from a kit that did not record them
RECORDED_WHEN_SET = ("replaceWith", "replacementTrigger", "hideDiffs", "deleteBeforeReplaceDefined")


def _chain_roots(deleting_first: set[str], causes: dict[str, set[str]]) -> dict[str, frozenset[str]]:
    """Each resource deleted first -> the replacements deleting first on their own answer whose chain holds it (itself
    when it is one): the engine deletes a chain's members when its root registers, in reverse dependency order
    (pulumi/pulumi 1b5949891b step_generator.go `continueStepsFromDiff`, "Deletions must occur in reverse dependency
    order"), and two chains one after the other as their roots register. One deleted first through `replaceWith`
    alone (`_listed_first`) counts as its own root (the safe side for what needs its chain's order)."""
    out: dict[str, frozenset[str]] = {}

    def roots(urn: str, seen: frozenset[str]) -> frozenset[str]:
        if urn not in out:
            came_from = (causes.get(urn) or set()) & deleting_first - seen - {urn}
            # (the causes follow the dependencies, so no cycle: `seen` only guards; a walk cut short finds fewer
            # roots, the safe side)
            out[urn] = frozenset().union(*(roots(c, seen | {urn}) for c in sorted(came_from))) if came_from else \
                frozenset({urn})
        return out[urn]
    for urn in sorted(deleting_first):
        roots(urn, frozenset())
    return out


def _listed_first(old_res: dict[str, dict[str, Any]], new_res: dict[str, dict[str, Any]],
                  replaced: dict[str, list[str]], roots: set[str], notes: dict[str, list[str]]) -> set[str]:
    """What the delete-first replacements in `roots` (each deleting first on its own answer, not dragged along by
    another) delete first for `replaceWith`: each resource the deployed state lists one of them in, whatever the
    program lists now, and only those (pulumi/pulumi 1b5949891b step_generator.go `continueStepsFromDiff` calls
    `findDependentCascadeReplacements`, which reads `sg.deployment.olds`, one level: a resource it deletes is created
    again when it registers, the `recreating` case, with no cascade of its own, so what lists that one is replaced
    as the engine's own replacement, created first). One the program no longer lists it in is replaced all the
    same. A base plan of a kit that recorded no replaceWith cannot say what the state lists: the program's list is
    taken, with a note."""
    engine = engine_urns(new_res)
    recorded = any(key in r["options"] for r in old_res.values() for key in RECORDED_WHEN_SET)
    out: set[str] = set()
    for urn in sorted(set(old_res) & set(new_res)):
        old_options = old_res[urn]["options"]
        unknown = "replaceWith" not in old_options and not recorded
        listing = (new_res[urn]["options"] if unknown else old_options).get("replaceWith") or []
        root = next((u for u in listing if u in roots), None)
        if root is None:
            continue
        out.add(urn)
        if urn not in replaced:
            replaced[urn] = [f"the replacement of `{short_urn(engine.get(root, root))}`, deleted first, deletes it "
                             "first as the deployed state lists that one in its replaceWith, and it is created again"]
        elif unknown:
            notes.setdefault(urn, []).append(
                "deleted first if the deployed state lists the resource in its replaceWith (the base plan predates "
                "the check recording it); if this change adds it, Pulumi creates it first under its name")
    return out


def _defined_false(resource: dict[str, Any]) -> bool:
    """The program sets `delete_before_replace=False` (the kit records the request's deleteBeforeReplaceDefined)."""
    return bool(resource["options"].get("deleteBeforeReplaceDefined")) and not resource["options"].get(
        "deleteBeforeReplace")


def _delete_first(old: dict[str, Any], new: dict[str, Any]) -> bool:
    """Pulumi deletes before it creates: the deleteBeforeReplace option, true or false (the engine puts it over the
    provider's answer, for a replacement a replaced provider causes too: pkg/resource/deploy/step_generator.go
    `continueStepsFromDiff`, `goal.DeleteBeforeReplace != nil`); an Azure resource whose name is given
    (pulumi-azure-native Diff answers deleteBeforeReplace for every replacement but of a name it generated at
    random); a named Kubernetes object keeping its name and namespace (pulumi-kubernetes Diff)."""
    if new["options"].get("deleteBeforeReplace"):
        return True
    if _defined_false(new):
        return False
    azure = rules()["azureNative"]["types"].get(new["type"])
    if azure:
        return bool(new["inputs"].get(azure["path"][-1]))
    if not kube_kind(new["type"]):
        return False
    meta_old, meta_new = old["inputs"].get("metadata") or {}, new["inputs"].get("metadata") or {}
    return bool(meta_new.get("name")) and all(meta_old.get(k) == meta_new.get(k) for k in ("name", "namespace"))
