"""The mistakes a newcomer makes with the package, each refused by the component itself before it registers
anything, with the package's input error naming the input (and the nearest valid name where there is one); then
the same mistakes as another language sends them, through the component provider (one plugin process for all),
each coming back as a per-property error on the schema's camelCase path.

Cheap by design: every Python mistake is made in ONE offline program run (a refused component registers nothing,
so they all share it); the wire mistakes are Construct calls to the plugin process tests/components/test_provider.py
starts (one for the whole suite's provider tests)."""
import ast
import inspect
import re
from typing import Any, Callable, NamedTuple, Optional

import grpc
import pytest

import llmplatform
from llmplatform import ComponentInputError
from pulumi.provider.experimental.util import camel_case
from llmplatform.testing import run
from offline import plugin_host

from tests.components.test_components_alone import NETWORK, REQUIRED, cluster_handle, provider_opts

IN_CLUSTER = {"AppNamespace", "ApiGate", "GatewayAccess", "GpuNodePool", "InferenceStack", "LlmdStack",
              "ModelAutoscaler", "ModelStore", "Observability", "OllamaServer", "OpenWebUi", "WorkloadIdentity"}


class Mistake(NamedTuple):
    component: str
    mutate: Callable[[dict], dict]  # the required inputs made wrong
    paths: list[str]  # the inputs the error must name (Python paths)
    phrase: str  # a phrase of the message
    wire: bool = True  # the same mistake is one another language can send (False: a Python-only spelling/value)
    wire_paths: Optional[list[str]] = None  # what the provider names when it differs from the schema spelling


def net(**changes: str) -> Callable[[dict], dict]:
    return lambda a: {**a, "network": {**NETWORK, **changes}}


MISTAKES = [
    # handles and specs of the wrong type
    Mistake("KeyVault", lambda a: {**a, "cluster": "aks"}, ["cluster"], "expects an object (ClusterHandle)"),
    Mistake("KeyVault", lambda a: {**a, "cluster": object()}, ["cluster"], "expects an object (ClusterHandle)",
            wire=False),
    Mistake("AksCluster", lambda a: {**a, "system_pool": "Standard_D2s_v5"}, ["system_pool"],
            "expects an object (NodePoolSpec)"),
    Mistake("ModelAutoscaler", lambda a: {**a, "model_server": "ollama"}, ["model_server"],
            "expects an object (ModelServer)"),
    Mistake("GlobalEndpoint", lambda a: {**a, "origins": {"name": "weu", "host": "x"}}, ["origins"],
            "expects a list of RegionalOrigin", wire_paths=["origins"]),
    # a handle of another type, known by its keys: one line naming both types and where each comes from
    Mistake("LlmdStack", lambda a: {**a, "gpu": a["cluster"]}, ["gpu"],
            "expects a GpuScheduling (GpuNodePool's `scheduling`), got a ClusterHandle (AksCluster's `cluster`)",
            wire_paths=["gpu.resourceGroupName"]),  # the provider names the first unknown field
    Mistake("OllamaServer", lambda a: {**a, "model_volume": a["cluster"]}, ["model_volume"],
            "model_volume: expects a ModelVolume (ModelStore's `volume`), got a ClusterHandle (AksCluster's "
            "`cluster`)", wire_paths=["modelVolume.resourceGroupName"]),
    # unknown keys, camelCase spellings, missing inputs
    Mistake("KeyVault", lambda a: {**a, "vaultName": a.pop("vault_name")}, ["vaultName"], "did you mean 'vault_name'",
            wire=False),
    Mistake("GpuNodePool", lambda a: {**a, "max_nodes": 3}, ["max_nodes"], "is not an input"),
    Mistake("GpuNodePool", lambda a: {**a, "vmSize": a.pop("vm_size")}, ["vmSize"], "did you mean 'vm_size'",
            wire=False),
    Mistake("GpuNodePool", lambda a: {k: v for k, v in a.items() if k != "vm_size"}, ["vm_size"], "is required"),
    Mistake("InferenceStack", lambda a: {k: v for k, v in a.items() if k != "model_volume"}, ["model_volume"],
            "is required"),
    Mistake("InferenceStack", lambda a: {**a, "model_volume": {"namespace": "llm"}},
            ["model_volume.claim_name", "model_volume.mount_path"], "is required"),
    Mistake("InferenceStack", lambda a: {**a, "resources": {"cpu": "4"}}, ["resources.cpu"], "is not an input"),
    Mistake("AksCluster", lambda a: {**a, "network": {**a["network"], "vnetCidr": "10.0.0.0/8"}},
            ["network.vnetCidr"], "did you mean 'vnet_cidr'", wire=False),
    Mistake("AksCluster", lambda a: {**a, "system_pool": {**a["system_pool"], "minCount": 1}},
            ["system_pool.minCount"], "did you mean 'min_count'", wire=False),
    Mistake("GlobalEndpoint", lambda a: {**a, "origins": [{"name": "weu"}]}, ["origins[0].host"], "is required"),
    Mistake("FleetUpdates", lambda a: {**a, "members": [{"name": "weu", "clusterId": "/x"}]},
            ["members[0].clusterId"], "did you mean 'cluster_id'", wire=False),
    Mistake("WorkloadIdentity", lambda a: {**a, "serviceAccount": "app"}, ["serviceAccount"], "is not an input",
            wire=False),
    # networks: CIDR syntax, prefix lengths, containment, overlaps, reserved addresses
    Mistake("AksCluster", net(vnet_cidr="10.0.0.0/33"), ["network.vnet_cidr"], "an IPv4 range in CIDR notation"),
    Mistake("AksCluster", net(node_subnet_cidr="10.9.0.0/20"), ["network.node_subnet_cidr"],
            "a range inside network.vnet_cidr (10.0.0.0/16)"),
    Mistake("AksCluster", net(dns_service_ip="10.0.0.10"), ["network.dns_service_ip"],
            "an address inside network.service_cidr (172.16.0.0/16)"),
    Mistake("AksCluster", net(dns_service_ip="172.16.0.1"), ["network.dns_service_ip"], "not its first two"),
    Mistake("AksCluster", net(pod_cidr="10.0.128.0/17"), ["network.pod_cidr"], "a range outside network.vnet_cidr"),
    Mistake("AksCluster", net(service_cidr="192.168.0.0/20", dns_service_ip="192.168.0.10"),
            ["network.service_cidr"], "a range apart from network.pod_cidr"),
    Mistake("AksCluster", net(service_cidr="172.0.0.0/8", dns_service_ip="172.0.0.10"), ["network.service_cidr"],
            "a range of /12 or smaller"),
    Mistake("AksCluster", net(endpoints_subnet_cidr="10.0.16.0/30"), ["network.endpoints_subnet_cidr"],
            "Azure's smallest subnet"),
    Mistake("AksCluster", net(postgres_subnet_cidr="10.0.17.0/30"), ["network.postgres_subnet_cidr"],
            "a range of /28 or larger: PostgreSQL Flexible Server refuses a smaller delegated subnet"),
    Mistake("AksCluster", net(endpoints_subnet_cidr="10.0.0.0/24"), ["network.endpoints_subnet_cidr"],
            "a range apart from network.node_subnet_cidr"),
    # Azure's naming rules
    Mistake("ModelStore", lambda a: {**a, "account_name": "St-Team-Models"}, ["account_name"],
            "3-24 lowercase letters and digits"),
    Mistake("KeyVault", lambda a: {**a, "vault_name": "kv-team-a-llm-platform-prod"}, ["vault_name"],
            "3-24 letters, digits and hyphens"),
    Mistake("KeyVault", lambda a: {**a, "vault_name": "kv--team"}, ["vault_name"], "no two hyphens in a row"),
    Mistake("AksCluster", lambda a: {**a, "cluster_name": "aks_team_a"}, ["cluster_name"], "also its DNS prefix"),
    Mistake("AksCluster", lambda a: {**a, "workload_pool": {**a["workload_pool"], "name": "CPU-Pool"}},
            ["workload_pool.name"], "1-12 lowercase letters and digits"),
    Mistake("PostgresServer", lambda a: {**a, "server_name": "PSQL_Team"}, ["server_name"],
            "3-63 lowercase letters, digits and hyphens"),
    Mistake("WorkloadIdentity", lambda a: {**a, "identity_name": "id"}, ["identity_name"],
            "3-128 letters, digits"),
    Mistake("AppNamespace", lambda a: {**a, "namespace": "LLM_Apps"}, ["namespace"], "a DNS label"),
    # a namespace the component creates: never one Kubernetes created already (it would take over kube-system)
    Mistake("AppNamespace", lambda a: {**a, "namespace": "kube-system"}, ["namespace"],
            "a namespace other than Kubernetes' own"),
    Mistake("LlmdStack", lambda a: {**a, "namespace": "default"}, ["namespace"],
            "a namespace other than Kubernetes' own"),
    # Azure regions (the stack config's rule, now the components'), Ollama's model name grammar (ollama_names)
    Mistake("AksCluster", lambda a: {**a, "location": "mars"}, ["location"], "an Azure region's name as `az account "
            "list-locations` gives it (lowercase, no spaces; e.g. westeurope"),
    Mistake("AksCluster", lambda a: {**a, "location": "west europe"}, ["location"], "did you mean westeurope?"),
    Mistake("AzureMonitoring", lambda a: {**a, "location": "West Europe"}, ["location"], "did you mean westeurope?"),
    Mistake("FleetUpdates", lambda a: {**a, "location": "swedencentrall"}, ["location"],
            "did you mean swedencentral?"),
    Mistake("ModelStore", lambda a: {**a, "models": ["qwen2.5:0.5b", "my.org/qwen2.5", "llama 3"]},
            ["models[1]", "models[2]"], "its namespace 'my.org' must start with a letter"),
    Mistake("ModelStore", lambda a: {**a, "models": ["qwen2.5:0.5b:q4"]}, ["models[0]"],
            "its model 'qwen2.5:0.5b' must start with a letter"),
    # a CPU pool's VM size (the stack config's rule, now AksCluster's)
    Mistake("AksCluster", lambda a: {**a, "workload_pool": {**a["workload_pool"], "vm_size": "Standard_NC4as_T4_v3"}},
            ["workload_pool.vm_size"], "a CPU VM size, of family A, B, D"),
    Mistake("AksCluster", lambda a: {**a, "system_pool": {**a["system_pool"], "vm_size": "Standard-D2s-v5"}},
            ["system_pool.vm_size"], "an Azure VM size (Standard_<family><vCPUs>..., e.g. Standard_D4s_v5)"),
    # ranges and closed choices
    Mistake("AksCluster", lambda a: {**a, "tier": "Gold"}, ["tier"], "allowed: Free, Standard, Premium"),
    Mistake("AksCluster", lambda a: {**a, "system_pool": {**a["system_pool"], "min_count": 0}},
            ["system_pool.min_count"], "a whole number from 1 to 1000"),
    Mistake("AksCluster", lambda a: {**a, "zones": ["1", "4"]}, ["zones[1]"], "one of 1, 2, 3"),
    Mistake("AksCluster", lambda a: {**a, "kubernetes_version": "latest"}, ["kubernetes_version"],
            "a Kubernetes version like '1.33'"),
    Mistake("GpuNodePool", lambda a: {**a, "min_count": 3, "max_count": 1}, ["max_count"], "at least min_count (3)"),
    Mistake("GpuNodePool", lambda a: {**a, "spot_max_price": 0}, ["spot_max_price"], "-1 (pay up to the on-demand"),
    Mistake("ModelStore", lambda a: {**a, "size_gib": 50}, ["size_gib"], "a whole number from 100 to 102400"),
    Mistake("ModelStore", lambda a: {**a, "protocol": "iscsi"}, ["protocol"], "allowed: nfs, smb"),
    Mistake("KeyVault", lambda a: {**a, "soft_delete_retention_days": 3}, ["soft_delete_retention_days"],
            "a whole number from 7 to 90"),
    Mistake("PostgresServer", lambda a: {**a, "version": "12"}, ["version"], "allowed: 16, 17, 18"),
    Mistake("InferenceStack", lambda a: {**a, "keep_alive": "forever"}, ["keep_alive"], "a Go duration like '30m'"),
    Mistake("AzureMonitoring", lambda a: {**a, "alert_emails": ["oncall@"]}, ["alert_emails[0]"], "an e-mail address"),
    # Azure Monitor's limits: 64 characters an address, 1000 e-mail receivers a group
    Mistake("AzureMonitoring",
            lambda a: {**a, "alert_emails": ["platform-oncall-notifications@inference-europe.contosogroup.com.au"]},
            ["alert_emails[0]"], "at most 64 characters"),
    Mistake("AzureMonitoring", lambda a: {**a, "alert_emails": [f"oncall-{i}@contoso.com" for i in range(1001)]},
            ["alert_emails"], "at most 1000 addresses, not 1001"),
    Mistake("Observability", lambda a: {**a, "error_ratio_slo": 5}, ["error_ratio_slo"], "a share between 0 and 1"),
    Mistake("LlmdStack", lambda a: {**a, "model": "llama3"}, ["model"], "a Hugging Face model id"),
    # inputs that contradict each other
    Mistake("GpuNodePool", lambda a: {**a, "priority": "regular", "fallback": {"enabled": True, "min_count": 0,
                                                                             "max_count": 1}},
            ["fallback.enabled"], "only with priority spot"),
    Mistake("GpuNodePool", lambda a: {**a, "mig_profile": "MIG1g"}, ["mig_profile"], "MIG-capable"),
    Mistake("PostgresServer", lambda a: {**a, "high_availability": True}, ["high_availability"],
            "GeneralPurpose or MemoryOptimized"),
    Mistake("GatewayAccess", lambda a: {**a, "tls_mode": "letsencrypt"}, ["tls_hostname", "tls_email"],
            "a value when tls_mode is letsencrypt"),
    Mistake("GatewayAccess", lambda a: {**a, "internal": False, "external": False}, ["internal"],
            "one Gateway at least"),
    Mistake("InferenceStack", lambda a: {**a, "accelerator": "gpu"}, ["gpu"], "GpuNodePool's scheduling"),
    Mistake("InferenceStack", lambda a: {**a, "resources": {"cpu_request": "1", "memory_request": "8Gi",
                                                            "memory_limit": "4Gi"}},
            ["resources.memory_limit"], "at least resources.memory_request (8Gi)"),
    Mistake("ModelAutoscaler", lambda a: {**a, "mode": "requests"}, ["keda"], "Observability's keda endpoints"),
    Mistake("AksCluster", lambda a: {**a, "api_access_mode": "authorizedIps"}, ["authorized_ip_ranges"],
            "one or more CIDRs"),
    Mistake("LlmdStack", lambda a: {**a, "model": "meta-llama/Llama-3.3-70B-Instruct", "hf_token_secret": "hf",
                                    "gpu": {**a["gpu"], "gpu_model": "T4", "gpus_per_node": 1,
                                            "gpu_memory_gib": 16}},
            ["gpu"], "a GPU pool whose nodes hold"),
    Mistake("LlmdStack", lambda a: {**a, "route_target": {**a["route_target"], "llmd_listener": ""}},
            ["route_target"], "inference_extension on"),
    # InferenceStack's parts taken alone, each naming its own inputs (and InferenceStack its own for the same rule)
    Mistake("OllamaServer", lambda a: {**a, "extra_env": {"OLLAMA_HOST": "0.0.0.0:8080"}}, ["extra_env"],
            "which the component sets from its inputs"),
    Mistake("OllamaServer", lambda a: {**a, "extra_env": {"OLLAMA CONTEXT": "8192"}}, ["extra_env"],
            "environment variable names mapped to string values"),
    Mistake("OllamaServer", lambda a: {**a, "extra_env": {"OLLAMA_X": 5}}, ["extra_env"],
            "input extra_env=['OLLAMA_X'] is invalid; allowed: environment variable names mapped to string values",
            wire=False),  # the wire sends numbers as floats
    Mistake("OllamaServer", lambda a: {**a, "accelerator": "gpu", "replicas": 101}, ["gpu", "replicas"],
            "GpuNodePool's scheduling when accelerator is gpu"),
    Mistake("ApiGate", lambda a: {**a, "endpoint": {**a["endpoint"], "api": "grpc"}}, ["endpoint.api"],
            "allowed: openai, ollama"),
    Mistake("ApiGate", lambda a: {**a, "resources": {"cpu_request": "100m", "cpu_limit": "2k", "memory_request": "64Mi",
                                                     "memory_limit": "256Mi"}},
            ["resources.cpu_limit"], "a CPU quantity such as 1, 2 or 1500m"),
    Mistake("ApiGate", lambda a: {**a, "replicas": 50}, ["replicas"], "a whole number from 1 to 20"),
    Mistake("OpenWebUi", lambda a: {**a, "cpu_target_percent": 0, "memory_target_percent": 150},
            ["cpu_target_percent", "memory_target_percent"], "a whole number from 1 to 100"),
    Mistake("OpenWebUi", lambda a: {**a, "endpoint": {**a["endpoint"], "api": "anthropic"}}, ["endpoint.api"],
            "allowed: openai, ollama"),
    Mistake("OpenWebUi", lambda a: {**a, "replicas": 3, "max_replicas": 2}, ["max_replicas"],
            "at least replicas (3)"),
    Mistake("InferenceStack", lambda a: {**a, "webui_replicas": 3, "webui_max_replicas": 2}, ["webui_max_replicas"],
            "at least webui_replicas (3)"),
    Mistake("OpenWebUi", lambda a: {**a, "extra_env": {"MICROSOFT_CLIENT_SECRET": "s3cret"}}, ["extra_env"],
            "put the value in Key Vault and name its secret in secret_env"),
    Mistake("InferenceStack", lambda a: {**a, "webui_default_user_role": "admin"}, ["webui_default_user_role"],
            "pending, user"),
]
IDS = [f"{i:02d}-{m.component}-{'+'.join(m.paths)}" for i, m in enumerate(MISTAKES)]


def mistaken(mistake: Mistake) -> dict:
    return mistake.mutate(dict(REQUIRED[mistake.component]()))


@pytest.fixture(scope="module")
def python_outcomes() -> tuple[list[Any], Any]:
    """Every mistake made in one offline program: what each construction raised, and what the run registered."""
    outcomes: list[Any] = []

    def program() -> None:
        opts = provider_opts()
        for mistake in MISTAKES:
            try:
                getattr(llmplatform, mistake.component)(
                    "newcomer", mistaken(mistake), opts if mistake.component in IN_CLUSTER else None)
                outcomes.append(None)
            except Exception as error:  # noqa: BLE001 - the test asserts which kind
                outcomes.append(error)
    plan = run(program)
    return outcomes, plan


def paths(error: ComponentInputError) -> list[str]:
    return [e["property_path"] for e in error.errors or []]


def test_the_catalogue_holds_at_least_30_mistakes_many_also_through_the_wire():
    assert len(MISTAKES) >= 30 and sum(m.wire for m in MISTAKES) >= 30
    assert len({c for c in llmplatform.COMPONENTS if any(m.component == c for m in MISTAKES)}) >= 14


@pytest.mark.parametrize("index", range(len(MISTAKES)), ids=IDS)
def test_a_newcomer_mistake_is_refused_naming_the_input(python_outcomes, index):
    mistake, error = MISTAKES[index], python_outcomes[0][index]
    assert isinstance(error, ComponentInputError), repr(error)
    assert set(mistake.paths) <= set(paths(error)), paths(error)
    assert mistake.phrase in str(error) and str(error).startswith(f"{mistake.component} newcomer: "), str(error)


def test_a_refused_component_registers_nothing(python_outcomes):
    _, plan = python_outcomes
    assert [r.type for r in plan.resources if r.type != "pulumi:providers:kubernetes"] == []
    assert not any("newcomer" in r.urn for r in plan.resources)


def test_every_problem_is_named_at_once():
    args = {**REQUIRED["AksCluster"](), "tier": "Gold", "clusterName": "x", "zones": ["4"],
            "network": {**NETWORK, "vnet_cidr": "10.0.0.0/33", "dns_service_ip": "10.0.0.10"}}
    with pytest.raises(ComponentInputError) as error:
        run(lambda: llmplatform.AksCluster("many", args))
    assert {"clusterName", "tier", "zones[0]", "network.vnet_cidr", "network.dns_service_ip"} <= set(paths(error.value))
    assert str(error.value).count("is invalid; allowed:") == 4


def test_the_shape_check_comes_before_anything_a_component_registers():
    """check_shape (which runs the value rules too) is the first statement of every component's __init__."""
    for name in llmplatform.COMPONENTS:
        source = inspect.getsource(getattr(llmplatform, name).__init__)
        first = ast.parse(inspect.cleandoc("\n" + source)).body[0].body[0]
        call = first.value if isinstance(first, (ast.Expr, ast.Assign)) else None  # args = check_shape(...)
        assert isinstance(call, ast.Call) and getattr(call.func, "id", None) == "check_shape", name


def test_a_correct_handle_passes_the_checks():
    run(lambda: llmplatform.KeyVault("vault", {"cluster": cluster_handle(), "vault_name": "kv-ok-1"}))


def test_a_component_passed_for_its_handle_is_named_with_the_handle_to_pass():
    """`GpuNodePool(cluster=aks)`: the message names the component and the output to pass instead (never the
    object's address), or, when the component has no such output, who hands that handle out; any Ollama model
    name the grammar allows is accepted (the registry is asked when the store pulls)."""
    errors: list[Exception] = []

    def program() -> None:
        aks = llmplatform.AksCluster("aks", REQUIRED["AksCluster"]())
        opts = provider_opts()
        space = llmplatform.AppNamespace("space", REQUIRED["AppNamespace"](), opts)
        for component, args in (("GpuNodePool", {**REQUIRED["GpuNodePool"](), "cluster": aks}),
                                ("OllamaServer", {**REQUIRED["OllamaServer"](), "model_volume": aks}),
                                ("KeyVault", {**REQUIRED["KeyVault"](), "cluster": space})):
            try:
                getattr(llmplatform, component)("mistake", args, opts)
            except ComponentInputError as error:
                errors.append(error)
        llmplatform.ModelStore("store", {**REQUIRED["ModelStore"](), "models": [
            "nosuchmodel:99b", "Qwen2.5", "hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M",
            "registry.ollama.ai/library/llama3.2:1b"]}, opts)
    plan = run(program)
    assert [paths(e) for e in errors] == [["cluster"], ["model_volume"], ["cluster"]]
    assert [str(e) for e in errors] == [
        "GpuNodePool mistake: cluster: expects a ClusterHandle (AksCluster's `cluster`), got the AksCluster "
        "component 'aks'; pass its `cluster` handle (aks.cluster)",
        "OllamaServer mistake: model_volume: expects a ModelVolume (ModelStore's `volume`), got the AksCluster "
        "component 'aks'",
        "KeyVault mistake: cluster: expects a ClusterHandle (AksCluster's `cluster`), got the AppNamespace "
        "component 'space'"]
    assert not any("mistake" in r.urn for r in plan.resources)
    assert plan.of_type("llmplatform:index:ModelStore")


# ---- the same mistakes through the component provider -----------------------------------------------------------
def schema_path(python_path: str) -> str:
    """`system_pool.min_count` (the names a component reads) as the schema spells it, `systemPool.minCount`, every
    name camelCased: the tests' expectation, kept apart from the provider's own translation (`wire_names`); a map's
    key the path quotes (`extra_env['HF_HOME']`) is the caller's, kept as it is."""
    return re.sub(r"""\[('[^']*'|"[^"]*")\]|[A-Za-z_][A-Za-z0-9_]*""",
                  lambda m: m.group() if m.group().startswith("[") else camel_case(m.group()), python_path)


_SNAKE = re.compile(r"[a-z][a-z0-9]*(_[a-z0-9]+)+")


def on_the_wire(value: Any) -> Any:
    """Python inputs as another language's SDK sends them: the schema's camelCase names (map keys like label
    names are left as they are)."""
    if isinstance(value, dict):
        return {(schema_path(k) if isinstance(k, str) and _SNAKE.fullmatch(k) else k): on_the_wire(v)
                for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [on_the_wire(v) for v in value]
    return value


def send_mistakes(host: plugin_host.ProviderHost) -> list[Any]:
    """Every wire mistake sent to one plugin process (tests/components/test_provider.py's): for each, the failure (or
    what was constructed) and how many registrations it added."""
    outcomes: list[Any] = []
    for mistake in MISTAKES:
        if not mistake.wire:
            outcomes.append(None)
            continue
        before = len(host.monitor.registrations)
        try:
            host.construct(f"llmplatform:index:{mistake.component}", "newcomer", on_the_wire(mistaken(mistake)))
            outcomes.append(("constructed", len(host.monitor.registrations) - before))
        except plugin_host.ConstructFailure as failure:
            outcomes.append((failure, len(host.monitor.registrations) - before))
    return outcomes


WIRE = [i for i, m in enumerate(MISTAKES) if m.wire]


def check_wire_outcome(index: int, outcome: Any) -> None:
    """The mistake came back as a per-property error on its schema path, its words naming every input as the schema
    does, and the component registered nothing."""
    from tests.components.test_refusal_names import python_names
    mistake = MISTAKES[index]
    failure, registered = outcome
    assert isinstance(failure, plugin_host.ConstructFailure), failure
    assert failure.code == grpc.StatusCode.INVALID_ARGUMENT and failure.message
    named = [path for path, _ in failure.property_errors]
    expected = mistake.wire_paths or [schema_path(p) for p in mistake.paths]
    assert expected[0] in named, (named, failure.message)
    assert all(reason and reason in failure.message for _, reason in failure.property_errors)
    assert python_names(failure.message) == [], failure.message
    assert registered == 0, "nothing registered by the refused component"
