"""WorkloadIdentity: a user-assigned managed identity federated with one Kubernetes ServiceAccount, so pods using
that account get Entra tokens without any stored credential."""
import asyncio
from typing import Any, Awaitable, Callable, Mapping, Optional, Sequence, TypedDict

import pulumi
import pulumi_kubernetes as k8s
from pulumi_azure_native import authorization, managedidentity
from typing_extensions import NotRequired

from . import PACKAGE
from .checks import called_as_documented, check_shape
from .handles import ClusterHandle, field, value_alone
from .kube import require_kubernetes_provider
from .rules import shown

TOKEN_EXCHANGE_AUDIENCE = "api://AzureADTokenExchange"
USE_LABEL = "azure.workload.identity/use"  # pods carrying this label get the token projected
# On the pod template of a workload whose own process signs in as its identity (through the webhook's AZURE_CLIENT_ID,
# set once, when the pod is created): a replaced identity (a new client id) rolls those pods onto it
# (docs/decisions.md, "A replaced workload identity rolls the pods that sign in as it")
CLIENT_ID_ANNOTATION = "llm-platform/identity-client-id"


class WorkloadIdentityArgs(TypedDict):
    """Inputs of WorkloadIdentity."""

    cluster: pulumi.Input[ClusterHandle]
    """The cluster whose OIDC issuer the identity trusts (its group and region hold the identity)."""
    identity_name: pulumi.Input[str]
    """Name of the user-assigned managed identity."""
    namespace: pulumi.Input[str]
    """Namespace of the ServiceAccount."""
    service_account_name: str
    """ServiceAccount the identity is federated with (created here)."""
    tags: NotRequired[Optional[Mapping[str, pulumi.Input[str]]]]
    """Azure tags."""


def federated_subject(namespace: str, service_account: str) -> str:
    return f"system:serviceaccount:{namespace}:{service_account}"


@called_as_documented
class WorkloadIdentity(pulumi.ComponentResource):
    """A user-assigned managed identity federated with one Kubernetes ServiceAccount: pods using that account get
    Entra tokens without any stored credential."""

    client_id: pulumi.Output[str]
    """Client id of the identity (goes into the ServiceAccount annotation and SecretProviderClass)."""
    principal_id: pulumi.Output[str]
    """Object id, for role assignments."""
    service_account_name: pulumi.Output[str]
    """The federated ServiceAccount. A pod that names it waits for the identity to work: its federated credential,
    the role assignments made as this component's children (a `grant_secrets_user(parent=identity)`) and what
    `once_resolved` makes (Python), which Pulumi would not wait for otherwise. A pod template takes its value alone
    (`value_alone`) with the output in its owner's depends_on (`ordered_after`): through the value, a replaced identity
    (deleted first, with its federation and grants) made the template unknown and replaced its Deployment or Job,
    deleted first too (pulumi/pulumi 1b5949891b step_generator.go calculateDependentReplacements)."""

    def __init__(self, name: str, args: WorkloadIdentityArgs, opts: Optional[pulumi.ResourceOptions] = None):
        args = check_shape("WorkloadIdentity", name, args, WorkloadIdentityArgs)
        require_kubernetes_provider(opts, "WorkloadIdentity", name)
        super().__init__(f"{PACKAGE}:index:WorkloadIdentity", name, None, opts)
        cluster = args["cluster"]
        child = pulumi.ResourceOptions(parent=self)
        identity = managedidentity.UserAssignedIdentity(
            f"{name}-id", resource_name_=args["identity_name"],
            resource_group_name=field(cluster, "resource_group_name"), location=field(cluster, "location"),
            tags=args.get("tags", {}), opts=child)
        federation = managedidentity.FederatedIdentityCredential(
            f"{name}-federation",
            federated_identity_credential_resource_name=f"{args['service_account_name']}-federation",
            resource_name_=identity.name,
            resource_group_name=field(cluster, "resource_group_name"),
            issuer=field(cluster, "oidc_issuer_url"),
            subject=pulumi.Output.from_input(args["namespace"]).apply(
                lambda ns: federated_subject(ns, args["service_account_name"])),
            audiences=[TOKEN_EXCHANGE_AUDIENCE],
            opts=child)
        account = k8s.core.v1.ServiceAccount(
            f"{name}-sa",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=args["service_account_name"], namespace=args["namespace"],
                # the value alone, the identity in the order: an identity replaced (deleted first, as
                # pulumi-azure-native replaces a named resource) updates the annotation in place; through the value,
                # the engine made the account's metadata unknown and replaced it, and every pod template naming it
                # with it (pulumi/pulumi 1b5949891b step_generator.go calculateDependentReplacements)
                annotations={"azure.workload.identity/client-id": value_alone(identity.client_id)}),
            automount_service_account_token=False,  # the projected workload-identity token needs no API token
            opts=pulumi.ResourceOptions(parent=self, depends_on=[identity]))
        self.client_id = identity.client_id
        self.principal_id = identity.principal_id
        self._name = name
        self._later: list[tuple[pulumi.Output[Any], list[pulumi.Resource]]] = []  # once_resolved's, in call order
        self._settled = False  # the name's gates collected: once_resolved comes too late
        # The name carries the federation and the role assignments made as this component's children: a pod
        # created before its federation or Key Vault grant mounts nothing until both exist and propagate; with
        # `pulumi up --parallel 1` it would hold the engine's only worker while they wait behind it, until its
        # await's deadline fails the update (docs/decisions.md, "the deploy model runs the engine's workers"). What
        # is made only once an output resolves (once_resolved) is among them: not a child yet when the account exists.
        # Not the component itself: the SDK expands a component to all its children (rpc._add_dependency), so a
        # child of it naming the account (a RoleBinding, a second federation made with parent=identity) would
        # depend on itself, the SDK's "circular dependency" error.
        self.service_account_name = pulumi.Output.all(
            account.metadata.name, _carrying(self._gates(account, federation))).apply(lambda v: v[0])
        self.register_outputs({"client_id": self.client_id, "principal_id": self.principal_id,
                               "service_account_name": self.service_account_name})

    def once_resolved(self, value: pulumi.Input[Any],
                      make: Callable[[Any], "Optional[pulumi.Resource | Sequence[pulumi.Resource]]"]) -> None:
        """Make what this identity's pods need once `value` resolves, and hold `service_account_name` until it is
        made: `make(resolved)` returns the resource (a grant on a Key Vault secret whose name comes in an output handed
        over whole, from another program or language), a list of them, or None for nothing to make (anything else is
        refused, by its type alone: it may come from a secret). A resource made inside an apply
        is no child yet when the account exists, so the name would not carry it and a pod could start before its
        grant. Call it while building the component that owns the pods, as its other grants are made; `value` must
        not wait for a pod of this account (the pod would wait for it: neither would ever be created; `pulumi up`
        waits forever, `llmplatform.testing.run` and `make plan` say which resources wait).

        In a preview where `value` is not known, `make` is not run (the SDK runs no apply on an unknown, pulumi
        3.272.0 output.py `Output.apply`): nothing is made and the name stays known, carrying none of `value`'s
        resources; `pulumi up` makes it before the pods."""
        if self._settled:
            raise pulumi.RunError(
                f"WorkloadIdentity {self._name}: once_resolved was called after service_account_name resolved: the "
                "pods naming it may exist already; call it while building the component whose pods need it")
        if not callable(make):
            raise pulumi.RunError(f"WorkloadIdentity {self._name}: once_resolved: make is {type(make).__name__} "
                                  f"{shown(make)}, not a function of the resolved value")
        made: list[pulumi.Resource] = []

        def run(resolved: Any) -> None:
            resource: Any = make(resolved)  # checked below: a caller's function may return anything
            resources: list[Any] = list(resource) if isinstance(resource, (list, tuple)) else [resource]
            wrong = next((r for r in resources if r is not None and not isinstance(r, pulumi.Resource)), None)
            if wrong is not None:
                # its type alone: what make returns may come from a secret value
                what = _a(resource) + (f" holding {_a(wrong)}" if resource is not wrong else "")
                raise pulumi.RunError(f"WorkloadIdentity {self._name}: once_resolved: make returned {what}; it "
                                      "returns a Resource, a list of them, or None (nothing to make)")
            made.extend(r for r in resources if r is not None)
        # awaited by the name's gates: its end (not the resource's create, which the pods' dependency awaits)
        self._later.append((pulumi.Output.from_input(value).apply(run), made))

    async def _gates(self, account: pulumi.Resource, federation: pulumi.Resource) -> set[pulumi.Resource]:
        """The federation, what once_resolved made, and the role assignments made as children by the time the account
        exists (a pod's input resolves no earlier; the program has made its other grants by then)."""
        await account.urn.future()
        gates: set[pulumi.Resource] = {federation}
        while self._later:  # each apply's end: a value not known (a preview) ends it with nothing made
            done, made = self._later.pop(0)
            await done.future()
            gates.update(made)
        self._settled = True
        return gates | {c for c in self._childResources if isinstance(c, authorization.RoleAssignment)}


def _a(value: Any) -> str:
    name = "Output" if isinstance(value, pulumi.Output) else type(value).__name__
    return f"{'an' if name[0].lower() in 'aeiou' else 'a'} {name}"


def _carrying(resources: Awaitable[set[pulumi.Resource]]) -> pulumi.Output[None]:
    """A known, empty output whose dependencies are `resources`, once they resolve (its value and knownness are
    settled futures: nothing is left unawaited when a program stops before `resources` resolve)."""
    loop = asyncio.get_event_loop()
    value, known = loop.create_future(), loop.create_future()
    value.set_result(None)
    known.set_result(True)
    return pulumi.Output(resources, value, known)
