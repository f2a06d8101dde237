"""Test a program that composes llmplatform components, offline, as this repository tests its own.

    from llmplatform.testing import run

    def test_my_platform():
        plan = run(my_program)                    # your program as a function, under the Pulumi SDK's mocks
        pools = plan.of_type("azure-native:containerservice:AgentPool")
        assert ...

`run` answers the invokes the components make (cluster credentials, client config, storage keys) with stand-ins,
records every registration with its inputs, dependencies and options, and refuses what the real engine or Azure /
Kubernetes would refuse but the SDK's mocks accept: two resources with one URN, one Azure or Kubernetes name claimed
twice, two HTTPRoutes matching the same requests on one Gateway listener (the Gateway silently serves the older), a
model server behind the KEDA interceptor whose Host no InterceptorRoute claims (it answers 404), pods on one cluster
mounting a claim the program creates on another cluster only or reading a vault that admits another cluster's nodes
alone (they never start: `cross_cluster`), a pod whose in-cluster URL (an env value or argument:
`http://<service>[.<namespace>[.svc[.cluster.local]]][:port]`) names a Service of the program whose pods the
program's NetworkPolicies keep it from (or from the cluster DNS) or on a port that Service does not expose, or a bare
host resolving in a namespace where the program makes no such Service (every call fails while the pods run:
`reachability`, naming the caller, URL, Service, port, policy and the fix, e.g. a gate's `client_namespaces`;
chart-installed pods, host-network pods, secret values and policies the model does not read are not judged;
`run(..., unjudged=["reachability"])` leaves out its policy, DNS and bare-host refusals where objects outside the
program admit the calls or answer the name, and keeps the port refusal), two
autoscalers on one Deployment, an Azure input of the wrong type, outside a closed enum or under a key its type does
not have (a dict literal's typo, which azure-native would drop), two writes Azure takes one at a time left free to
run at once and a resource that may be created before the resource group the program makes for it
(llmplatform.write_order) (ProgramError, naming them all). A program that stops with `pulumi.RunError` raises
ProgramError; a component's refused input raises its `ComponentInputError` (property path and message) as it is.
`plan.warnings` holds the program's warnings and the kit's advice on what works but misses something (an Ollama
server that Observability's OllamaDown alert does not watch; objects in a namespace nothing of the program creates;
an egress deny of the program that a policy admitting every pod and outside address, the platform's egress guard, voids:
`egress_denials`; a pod template of the program running as a WorkloadIdentity's account that takes a value from the
identity, which a new identity replaces deleted first, or waits for none of its federation: `identity_pods`).
Each run has a fresh event loop and context, so one pytest process can run many programs. `run(..., preview=True)`
runs the program as `pulumi preview` of a stack with nothing created yet: each create answered as its provider
answers a preview (ids and computed outputs unknown), applies on unknowns not run, invokes of unknowns not sent, an
invoke sent for an Azure resource (or in a resource group) the program creates refused; `plan.unknown_outputs` names
the stack outputs not known, `plan.preview` is True and each registration's `unknown_paths` names its inputs not known.
`run(..., references={"prod": {"clusterName": "aks-1", "kubeconfig": Secret(text)}})`
answers the program's StackReferences (or `{"prod": prod_plan}`: a Plan's secret_outputs are secret): a `Secret`
output reads as the engine reads a secret one (secret from get_output, require_output, and `outputs` whole), a plain
value stays plain. `run(..., invokes={"azure-native:containerservice:getManagedCluster": {...}})` answers the
program's own invokes (a cluster it did not make, read by invoke), by token, with Azure's answer or a function of the
call's arguments; an invoke nobody answers stops the run with a ProgramError naming it. Each registration's options
are the engine's: protect, retainOnDelete and deletedWith a resource leaves unset are its parent's.
`plan.default_providers` holds the providers the engine makes for resources, reads and invokes that name none
(`plan.provider_of(reg)`: the provider a resource is run by).

The kit's parts: `records` (Registration, Plan), `shapes` (inputs of any type read), `stand_ins` (the mocks' answers
and the recording monitor), `clusters` and `namespace_rules` (where each object goes), `collisions`, `routes`,
`cross_cluster`, `autoscalers` and `reachability` (what the engine and the APIs refuse, and the advice),
`egress_denials` and `identity_pods` (advice), `network_policy` (NetworkPolicies and the CiliumNetworkPolicy parts the platform writes,
read as Cilium reads them: `connects(policies, pod, peer, port, namespace_labels)`, also this repository's suite's
model), `runner` (`run`).
"""

from .collisions import refusals
from .namespace_rules import SYSTEM_NAMESPACES, namespace_of, namespaces, uncreated_namespaces
from .records import (DEPLOYER, HELM_RELEASE, SECRET_SIG, SIG_KEY, SUBSCRIPTION, TENANT, Plan, ProgramError,
                      Registration, Secret)
from .routes import unwatched_model_servers
from .runner import run
from .stand_ins import OfflineMocks, RecordingMonitor

__all__ = ["DEPLOYER", "HELM_RELEASE", "OfflineMocks", "Plan", "ProgramError", "RecordingMonitor", "Registration",
           "SECRET_SIG", "SIG_KEY", "SUBSCRIPTION", "SYSTEM_NAMESPACES", "Secret", "TENANT", "namespace_of",
           "namespaces", "refusals", "run", "uncreated_namespaces", "unwatched_model_servers"]
