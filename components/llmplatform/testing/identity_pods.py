"""Advice, not a refusal: a pod template of the program that runs as a WorkloadIdentity's ServiceAccount (that
account's namespace and name, on the same cluster) and either

- takes a value from the identity (its `propertyDependencies` name the identity, its federation, a grant made as the
  identity's child or the account: `serviceAccountName` or an annotation given the output as it is). A new identity
  (a new `identity_name`, `name_prefix`, group or region) is replaced deleting first, and the engine replaces every
  resource whose inputs came from it, deleted first too (pulumi/pulumi 1b5949891b step_generator.go
  `calculateDependentReplacements`): the workload is down for the run; or
- waits for none of its federation (`dependencies`): a first `pulumi up` may start its pods before the federated
  credential exists, and their sign-in fails until it does (Entra AADSTS70021).

The way, as the package's components do it: the account's name and the client id's annotation each by its value alone
(`llmplatform.handles.value_alone`) and the account's name in the workload's `depends_on`
(`llmplatform.handles.ordered_after`): docs/components/key-vault-and-postgres.md, "Your own pods that sign in as a
WorkloadIdentity". Read from the program's pod templates (Deployment, StatefulSet, DaemonSet, Job, CronJob, Pod) whose
`serviceAccountName` is known."""
from typing import Any

from .clusters import _cluster_of, _clusters
from .records import Registration
from .shapes import as_dict, pod_template

WORKLOAD_IDENTITY = "llmplatform:index:WorkloadIdentity"
ACCOUNT = "kubernetes:core/v1:ServiceAccount"
FEDERATION = "azure-native:managedidentity:FederatedIdentityCredential"
GUIDE = ("docs/components/key-vault-and-postgres.md, \"Your own pods that sign in as a WorkloadIdentity\"")


def _namespace(reg: Registration) -> Any:
    return as_dict(reg.inputs.get("metadata")).get("namespace")


def identity_pod_advice(resources: list[Registration]) -> list[str]:
    """The advice of the module docstring, one line per workload and rule."""
    clusters = _clusters(resources)
    identities = {r.urn: r for r in resources if r.type == WORKLOAD_IDENTITY}
    children: dict[str, list[Registration]] = {}
    for reg in resources:
        if reg.parent in identities:
            children.setdefault(reg.parent, []).append(reg)
    accounts: dict[tuple[Any, Any, Any], Registration] = {}
    for urn, parts in children.items():
        for account in (r for r in parts if r.type == ACCOUNT):
            name = as_dict(account.inputs.get("metadata")).get("name")
            accounts[(_cluster_of(account, clusters), _namespace(account), name)] = identities[urn]
    advice = []
    for reg in resources:
        if not reg.is_kubernetes_object or reg.parent in identities:
            continue
        metadata, spec = pod_template(reg.inputs)
        name = spec.get("serviceAccountName")
        if not isinstance(name, str) or not (spec or metadata):
            continue
        identity = accounts.get((_cluster_of(reg, clusters), _namespace(reg), name))
        if identity is None:
            continue
        own = {r.urn for r in children[identity.urn]}
        what = f"{reg.inputs.get('kind', reg.type)} {reg.name} (namespace {_namespace(reg)})"
        held = sorted(key for key, urns in reg.property_dependencies.items() if own & set(urns))
        if held:
            advice.append(
                f"{what} runs as WorkloadIdentity {identity.name}'s account {name} and its "
                f"{'inputs' if len(held) > 1 else 'input'} {', '.join(f'`{key}`' for key in held)} "
                f"{'take' if len(held) > 1 else 'takes'} values from the identity's resources: a new identity (a new "
                "identity_name) replaces it, "
                "deleted first, with the identity. Give the account's name and the client id each by its value "
                "alone (llmplatform.handles.value_alone) and the account's name to ordered_after: " + GUIDE)
        federations = {r.urn for r in children[identity.urn] if r.type == FEDERATION}
        if federations and not federations & set(reg.dependencies):
            advice.append(
                f"{what} runs as WorkloadIdentity {identity.name}'s account {name} but waits for none of "
                "its federation: a first `pulumi up` may start its pods before the federated credential exists "
                "(their sign-in fails until it does). Put the account's name in its depends_on "
                "(llmplatform.handles.ordered_after(opts, identity.service_account_name)): " + GUIDE)
    return advice
