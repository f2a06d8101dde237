"""What a run of the testing kit records: each registration with its inputs, dependencies and options, and the plan
that holds them; the error a program that stops or would be refused raises."""
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Mapping, Optional, Protocol, TypeVar


HELM_RELEASE = "kubernetes:helm.sh/v3:Release"


SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"


SIG_KEY = "4dabf18193072939515e22adb298388d"


# pulumi.runtime.rpc `_special_output_value_sig` and `_special_resource_sig`: an output value and a resource
# reference on the wire, beside SIG_KEY as the secret signature above
OUTPUT_VALUE_SIG = "d0e6a833031e9bbcd3f4e8bde6ca49a4"


RESOURCE_REF_SIG = "5cf8f73096256a8f31e491e813e4eb8e"


# a secret value as the plan files show it (offline/plan.py), and the kit records a secret replacement trigger
REDACTED = "[secret]"


SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"


TENANT = "11111111-1111-1111-1111-111111111111"


DEPLOYER = "22222222-2222-2222-2222-222222222222"


@dataclass(frozen=True)
class Secret:
    """A referenced stack's output that stack holds as a secret, in `run(references=...)`: `{"prod": {"kubeconfig":
    Secret(text), "clusterName": "aks-1"}}`. The program's StackReference then reads it as the engine answers (a
    secret Output from get_output, require_output and `outputs`); a plain value stays plain. (A pulumi.Output cannot
    be given: it belongs to no run's event loop.)"""
    value: Any


class ProgramError(Exception):
    """The program stopped with a clean error (a pulumi.RunError, e.g. a config problem)."""

    def __init__(self, message: str, registered: int):
        super().__init__(message)
        self.registered = registered


@dataclass
class Registration:
    urn: str
    type: str
    name: str
    parent: str
    custom: bool
    inputs: dict[str, Any]
    secret_paths: list[str]
    dependencies: list[str]
    options: dict[str, Any]
    outputs: Optional[dict[str, Any]] = None
    """A component's outputs as it registered them (`register_outputs`), as sent: secrets wrapped, resource references
    as the engine marshals them for a policy (an id, or a component's URN). None for a custom resource (its outputs
    are its provider's) and for a component that registered none."""
    unknown_paths: list[str] = field(default_factory=list)
    """In a preview, the paths of the inputs not known yet (`spec.template.metadata.labels.app`), as sent: where the
    wire holds its unknown value, and only there (a null, the program's or an output's, is a null to the engine and
    the providers: docs/decisions.md, "The kit's preview records what the provider does")."""
    property_dependencies: dict[str, list[str]] = field(default_factory=dict)
    """The request's `propertyDependencies` (pulumi 3.272.0 `runtime/resource.py`: per top-level input key, the URNs of
    the resources its value came from, a component's expanded to its custom children), sorted, only the keys with
    any: the engine keeps them in the state and, before a delete-first replacement, makes unknown every input of a
    dependent whose keys hold the replaced resource (pulumi/pulumi 1b5949891b `pkg/resource/deploy/step_generator.go`
    `calculateDependentReplacements`)."""

    @property
    def is_kubernetes_object(self) -> bool:
        return (self.type.startswith("kubernetes:") and not self.type.startswith("kubernetes:helm.sh")
                and "apiVersion" in self.inputs)


def components_above(reg: Registration, by_urn: Mapping[str, Registration]) -> list[Registration]:
    """The llmplatform components a registration belongs to, the nearest first (InferenceStack after its ApiGate)."""
    found, current = [], by_urn.get(reg.parent)
    while current is not None:
        if current.type.startswith("llmplatform:index:"):
            found.append(current)
        current = by_urn.get(current.parent)
    return found


@dataclass
class Plan:
    project: str
    stack: str
    resources: list[Registration] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)
    secret_outputs: list[str] = field(default_factory=list)
    unknown_outputs: list[str] = field(default_factory=list)  # in a preview: the stack outputs not known yet
    # each SelfSubjectAccessReview a cluster's stand-in API server answered (testing.api_server.Review)
    access_reviews: list[Any] = field(default_factory=list)
    # (token, provider reference) of each invoke the program made, in call order
    invokes: list[tuple[str, str]] = field(default_factory=list)
    # The providers the engine makes itself, one per package and version that a custom resource, a remote component, a
    # read or an invoke uses without naming a provider (pulumi/pulumi `pkg/resource/deploy/default_providers.go`):
    # the engine registers each as a resource of the deployment, so each is analyzed and handed to a stack policy
    # like any other, but the program never registered them (not in `resources`, nor in the plan file). Each
    # resource's own by its URN in `default_provider_of`.
    default_providers: list[Registration] = field(default_factory=list)
    default_provider_of: dict[str, str] = field(default_factory=dict)
    # a run as `pulumi preview` of a stack with nothing created yet (`run(..., preview=True)`): each custom resource's
    # outputs are then its provider's preview answer (stand_ins.preview_state), not its outputs once created
    preview: bool = False

    def of_type(self, type_: str) -> list[Registration]:
        return [r for r in self.resources if r.type == type_]

    def one(self, type_: str, name: Optional[str] = None) -> Registration:
        found = [r for r in self.of_type(type_) if name is None or r.name == name]
        if len(found) != 1:
            raise AssertionError(f"expected one {type_} {name or ''}, found {[r.name for r in found]}")
        return found[0]

    def by_urn(self, urn: str) -> Optional[Registration]:
        return next((r for r in self.resources if r.urn == urn), None)

    def provider_of(self, reg: Registration) -> Optional[Registration]:
        """The provider resource the engine runs reg with: the one it names (`urn::id`), else its package's default
        provider; None for a component or a provider."""
        ref = reg.options.get("provider")
        if ref:
            return self.by_urn(str(ref).rsplit("::", 1)[0])
        urn = self.default_provider_of.get(reg.urn)
        return next((p for p in self.default_providers if p.urn == urn), None)

    def waits_for(self, reg: Registration, predicate: Callable[[Registration], bool]) -> bool:
        """Whether reg waits, directly or through what it waits for, on a resource the predicate picks."""
        return next(reached(reg.dependencies, self.by_urn, predicate), None) is not None

    def kubernetes_objects(self) -> list[Registration]:
        return [r for r in self.resources if r.is_kubernetes_object]

    def helm_releases(self) -> list[Registration]:
        return self.of_type(HELM_RELEASE)

    def component_of(self, reg: Registration) -> Optional[Registration]:
        """The outermost component above a resource (None for resources right under the stack)."""
        top, current = None, self.by_urn(reg.parent)
        while current is not None:
            top = current
            current = self.by_urn(current.parent)
        return top


class Depending(Protocol):
    """What `reached` walks: a Registration, or a plan document's resource seen as one."""
    @property
    def dependencies(self) -> list[str]: ...


Node = TypeVar("Node", bound=Depending)


def reached(dependencies: list[str], lookup: Callable[[str], Optional[Node]],
            picks: Callable[[Node], bool]) -> Iterator[Node]:
    """The resources `picks` chooses among those `dependencies` lead to, directly or through other resources; the
    walk goes no further than a resource it chose (URNs `lookup` does not know are passed over)."""
    seen: set[str] = set()
    pending = list(dependencies)
    while pending:
        urn = pending.pop()
        reg = None if urn in seen else lookup(urn)
        seen.add(urn)
        if reg is None:
            continue
        if picks(reg):
            yield reg
        else:
            pending.extend(reg.dependencies)
