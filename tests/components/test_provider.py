"""The component package as other languages use it: the provider plugin started as the engine starts it, spoken to
over the ResourceProvider protocol, registering children with a resource monitor served over gRPC. Inputs cross
the wire as the engine sends them (every number a double, references as dependencies); bad inputs must come back as
per-property errors carrying the message a Python user reads."""
import copy
import json
import re

import grpc
import pytest
import yaml
from pulumi.output import Unknown

from llmplatform.provider import whole_number
from pulumi.errors import InputPropertyError
from pulumi.runtime.proto import engine_pb2
from offline import plugin_host, runner as offline

from tests.conftest import PROJECT_DIR

YAML_EXAMPLE = PROJECT_DIR / "examples" / "yaml-consumer" / "Pulumi.yaml"


@pytest.fixture(scope="module")
def host():
    started = plugin_host.ProviderHost()
    yield started
    errors = started.engine.errors()
    stderr = started.close()
    assert not errors, errors
    assert "Traceback" not in stderr, stderr


@pytest.fixture(scope="module")
def program():
    return yaml.safe_load(YAML_EXAMPLE.read_text())


@pytest.fixture(scope="module")
def example_run(host, program):
    return plugin_host.run_yaml_program(host, program)


def test_get_schema_is_the_committed_schema(host):
    assert host.schema() == json.loads((PROJECT_DIR / "components" / "schema.json").read_text())


def test_the_yaml_example_uses_every_component(host, program):
    used = {spec["type"] for spec in program["resources"].values()}
    assert used == set(host.schema()["resources"])


def test_the_yaml_example_constructs_end_to_end(host, example_run, program):
    for name, built in example_run.constructed.items():
        assert built.urn.endswith(f"::{program['resources'][name]['type']}::{name}")
        children = [r for r in built.children if r.urn != built.urn]
        assert children and all(r.urn.startswith(f"urn:pulumi:dev::consumer::{program['resources'][name]['type']}$")
                                for r in children), name
    assert host.refusals() == []
    outputs = example_run.outputs
    assert outputs["gpuPools"] and outputs["vaultName"] == "kv-yaml-demo-01"
    assert outputs["apiUrl"].startswith("http") and outputs["llmdUrl"].startswith("http")
    assert outputs["llmdModel"] == "qwen3-8b" and "kubelogin" in outputs["kubeconfig"]


def test_handles_cross_the_wire_as_objects_other_components_accept(example_run):
    cluster = example_run.constructed["aks"].outputs["cluster"]
    assert isinstance(cluster, dict) and cluster["clusterName"] == "aks-yaml-demo"  # schema names, not Python's
    # no handle is secret on the wire: one secret field would make the whole handle, and every Azure name a
    # component derives from it, secret in the next component
    for built in example_run.constructed.values():
        for key, value in built.wire.items():
            if isinstance(value, dict) and key != "kubeconfig":
                assert value.get(offline.SIG_KEY) != offline.SECRET_SIG, (built.urn, key)
    assert example_run.constructed["vault"].wire["vault"]["resourceGroupName"] == "rg-yaml-demo"
    # the vault the KeyVault built is the one PostgreSQL writes its secrets into, through the handle
    vault_id = example_run.constructed["vault"].outputs["vault"]["vaultId"]
    secrets = [r for r in example_run.constructed["database"].children
               if r.type == "azure-native:keyvault:Secret"]
    assert secrets and all(vault_id.endswith(r.inputs["vaultName"]) for r in secrets)


def test_secrets_built_over_grpc_are_retained_on_delete_by_their_own_option(example_run):
    """A component built through the provider registers its children from the provider's process with the Python
    SDK, which sends each one's own `retainOnDelete` (pulumi 3.272.0 `runtime/resource.py` RegisterResourceRequest);
    the engine then calls no Delete for them (pulumi/pulumi 1b5949891b step.go `DeleteStep.Apply`), which
    pulumi-azure-native would make through the vault's data plane. The YAML program gives its components no such
    option: the secrets carry their own."""
    writers = 0
    for built in example_run.constructed.values():
        secrets = [r for r in built.children if r.type == "azure-native:keyvault:Secret"]
        (component,) = [r for r in built.children if r.urn == built.urn]
        writers += bool(secrets)
        assert not (secrets and component.options["retainOnDelete"])  # nothing for a child to inherit
        assert all(r.options["retainOnDelete"] for r in secrets), built.urn
    assert writers >= 2  # the database's secrets and the gates' keys at least


def test_the_cluster_handles_plain_engine_crosses_the_wire_and_guards_prometheus(example_run):
    """`network_policy` is a plain field of the cluster handle: through the provider it reaches Observability as the
    value AksCluster gave (cilium by default), which then plans the CiliumNetworkPolicy of its Prometheus servers."""
    assert example_run.constructed["aks"].outputs["cluster"]["networkPolicy"] == "cilium"
    guards = [r for r in example_run.constructed["observability"].children
              if r.type == "kubernetes:cilium.io/v2:CiliumNetworkPolicy"]
    assert [(r.inputs["metadata"]["namespace"], r.inputs["spec"]["endpointSelector"]) for r in guards] == [
        ("monitoring", {"matchLabels": {"app.kubernetes.io/name": "prometheus"}})]


def test_whole_numbers_sent_as_doubles_reach_azure_as_the_numbers_given(example_run):
    pools = {r.inputs["agentPoolName"]: r.inputs for r in example_run.constructed["gpu"].children
             if r.type == "azure-native:containerservice:AgentPool"}
    aks = next(r for r in example_run.constructed["aks"].children
               if r.type == "azure-native:containerservice:ManagedCluster")
    assert aks.inputs["agentPoolProfiles"][0]["minCount"] == 1
    assert max(p["maxCount"] for p in pools.values()) == 2


def _required_only(value, schema, type_ref=None, required=None):
    """A YAML resource's literal properties cut down to the schema's required ones (recursively into object
    types); references to other resources' outputs are kept whole, as they are what those hand out."""
    if not isinstance(value, dict):
        return value
    kept = {}
    for key, item in value.items():
        if required is not None and key not in required:
            continue
        ref = (schema_properties(schema, type_ref).get(key) or {}).get("$ref", "")
        nested = ref.rsplit("/", 1)[-1]
        if isinstance(item, dict) and nested in schema["types"]:
            item = _required_only(item, schema, nested, set(schema["types"][nested].get("required") or []))
        kept[key] = item
    return kept


def schema_properties(schema, type_ref):
    if type_ref in schema["types"]:
        return schema["types"][type_ref].get("properties") or {}
    return schema["resources"][type_ref].get("inputProperties") or {}


def _required_program(program, schema):
    trimmed = copy.deepcopy(program)
    trimmed["outputs"] = {}
    for spec in trimmed["resources"].values():
        spec["properties"] = _required_only(spec["properties"], schema, spec["type"],
                                            set(schema["resources"][spec["type"]].get("requiredInputs") or []))
    # requests mode needs Observability's KEDA endpoints, and an HPA a server whose replica count Pulumi leaves to
    # it (its stack's `autoscaled`, the default only with keda): cross-input rules no schema can express
    trimmed["resources"]["autoscaler"]["properties"]["mode"] = "cpu"
    trimmed["resources"]["inference"]["properties"]["autoscaled"] = True
    # LlmdStack routes through the gateway's llm-d listener, which only a gateway with the inference extension has
    trimmed["resources"]["gateway"]["properties"]["inferenceExtension"] = True
    # the example's gateway serves no TLS: the edge reaches it at its IP, which only plain HTTP to the origins takes
    trimmed["resources"]["edge"]["properties"]["originProtocol"] = "Http"
    # the monitoring workspaces go into the cluster's group before the cluster: a group made beforehand, not by it
    trimmed["resources"]["aks"]["properties"]["existingResourceGroup"] = True
    return trimmed


def as_generated_sdks_send(value, schema, type_ref):
    """`value` (an input object of `type_ref`) with every schema `default` it leaves out filled in, as generated SDKs
    send it: pulumi/pulumi 1b5949891b `pkg/codegen/nodejs/gen.go` (`resourceInputs["x"] = (args ? args.x :
    undefined) ?? <default>`, and a `$ref` object's own defaults through its `<type>ProvideDefaults`),
    `pkg/codegen/go/gen.go` (`if args.X == nil { args.X = <default> }`, the object's `Defaults()`),
    `pkg/codegen/python/gen.go` (`if x is None: x = <default>`, and each `<Type>Args.__init__` likewise);
    pulumi/pulumi-dotnet 5e61d9ad6d `pulumi-language-dotnet/codegen/gen.go` sets them in every args class's
    constructor, a list's objects too. (Pulumi YAML fills in none: pulumi/pulumi-yaml 36f271cf
    `cmd/pulumi-language-yaml/language_test.go` skips `l2-resource-primitive-defaults`.)"""
    if isinstance(value, list):
        return [as_generated_sdks_send(item, schema, type_ref) for item in value]
    if not isinstance(value, dict) or type_ref is None:
        return value
    filled = dict(value)
    for key, prop in schema_properties(schema, type_ref).items():
        if key not in filled and "default" in prop:
            filled[key] = prop["default"]
        elif key in filled:
            ref = (prop.get("items") or prop.get("additionalProperties") or prop).get("$ref", "")
            nested = ref.rsplit("/", 1)[-1]
            if nested in schema["types"] and "properties" in schema["types"][nested] and isinstance(
                    filled[key], (dict, list)) and not (prop.get("additionalProperties") and isinstance(
                    filled[key], dict) and "$ref" not in prop):
                filled[key] = as_generated_sdks_send(filled[key], schema, nested)
    return filled


def _plan(host, run, since, stack):
    """Each component's children (type, name, inputs) and the engine's warnings, the stack's name taken out."""
    children = {name: sorted(json.dumps([r.type, r.name, r.inputs], sort_keys=True).replace(stack, "<stack>")
                             for r in built.children) for name, built in run.constructed.items()}
    return children, sorted({m.replace(stack, "<stack>") for severity, m in host.engine.logs[since:]
                             if severity >= engine_pb2.WARNING})


def test_every_component_constructs_the_same_from_its_required_inputs_with_or_without_the_sdks_defaults(host,
                                                                                                      program):
    """Each component built from its required inputs alone (as a YAML program sends them), and again with every
    schema default a generated SDK fills in: no refusal, and the same children with the same inputs and the same
    warnings. A default the schema states otherwise than the Python component (or an input read as given when only
    the SDK sent it) gives a TypeScript, Go or .NET user another platform, or a warning they cannot follow."""
    schema = host.schema()
    trimmed = _required_program(program, schema)
    defaulted = copy.deepcopy(trimmed)
    for spec in defaulted["resources"].values():
        spec["properties"] = as_generated_sdks_send(spec["properties"], schema, spec["type"])
    assert defaulted != trimmed
    plans = []
    for stack, prog in (("sdkplainq", trimmed), ("sdkfilled", defaulted)):
        fresh = host.with_fresh_monitor(stack=stack)  # the same plugin process, a stack of its own
        try:
            since = len(host.engine.logs)
            run = plugin_host.run_yaml_program(fresh, prog)
            assert set(run.constructed) == set(program["resources"])
            assert fresh.refusals() == []
            plans.append(_plan(host, run, since, stack))
        finally:
            fresh.close()
    (required, required_warnings), (filled, filled_warnings) = plans
    assert filled_warnings == required_warnings
    assert {name: c for name, c in filled.items() if c != required[name]} == {}


def _stated(value) -> str:
    """A default as a description states it: true/false, -1 (not -1.0), a string as it is."""
    return str(value).lower() if isinstance(value, bool) else f"{value:g}" if isinstance(value, (int, float)) \
        else str(value)


def test_every_schema_default_is_the_python_components_own_and_the_one_its_description_states():
    """The schema's defaults are what a generated SDK sends in place of an input left out: each must be the one the
    Python component applies (defaults.py) and the one its docstring, the schema's description, tells the reader.
    None is read from an environment variable (`defaultInfo`: the generated SDKs read `getEnv(...)` before the
    default, pulumi/pulumi 1b5949891b `pkg/codegen/nodejs/gen.go` `getDefaultValue`), which the Python component
    never does."""
    from llmplatform.defaults import DEFAULTS
    from llmplatform.provider import package_schema
    from pulumi.provider.experimental.util import camel_case as camel

    schema = package_schema()
    props = {(token.rsplit(":", 1)[-1], key): prop
             for token, entity in [*schema["resources"].items(), *schema["types"].items()]
             for key, prop in (entity.get("inputProperties") or entity.get("properties") or {}).items()}
    stated = {where: prop["default"] for where, prop in props.items() if "default" in prop}
    assert not [where for where, prop in props.items() if "defaultInfo" in prop]
    own = {(component, camel(key)): value for component, values in DEFAULTS.items() for key, value in values.items()
           if (component, camel(key)) in stated}
    assert stated == own
    # "default 600", "(default true)"; "default: the package's pin" is prose, not a value
    described = {where: [word.rstrip(".") for word in re.findall(r"\b[Dd]efault (?!:)([^\s,;:)]+)",
                                                                  props[where].get("description", ""))]
                 for where in stated}
    assert {where: words for where, words in described.items()
            if any(word != _stated(stated[where]) for word in words)} == {}


# (component type, inputs as a YAML program writes them, the property the engine must be told about, the message)
def _aks(program, mutate):
    inputs = copy.deepcopy(program["resources"]["aks"]["properties"])
    inputs.pop("logAnalyticsWorkspaceId")
    mutate(inputs)
    return inputs


BAD_INPUTS = [
    ("llmplatform:index:KeyVault", lambda p: {"cluster": "aks", "vaultName": "kv-yaml-demo-02"}, "cluster",
     "expects an object (ClusterHandle), got str 'aks'"),
    ("llmplatform:index:AksCluster", lambda p: _aks(p, lambda i: i["systemPool"].update(minCount=1.5)),
     "systemPool.minCount", "1.5 is not a whole number"),
    # a number as text: Pulumi YAML refuses a quoted literal, not another stack's output or a string config value
    ("llmplatform:index:AksCluster", lambda p: _aks(p, lambda i: i["systemPool"].update(minCount="1")),
     "systemPool.minCount", "expects a whole number, got str '1'"),
    # a number as text or true/false: the budget's rule refused '5000' as no "number greater than 0"
    ("llmplatform:index:CostBudget", lambda p: {**p["resources"]["budget"]["properties"], "amount": "5000",
                                                "resourceGroupNames": ["rg-yaml-demo"], "actionGroupId": ""},
     "amount", "expects a number, got str '5000'"),
    ("llmplatform:index:CostBudget", lambda p: {**p["resources"]["budget"]["properties"], "amount": True,
                                                "resourceGroupNames": ["rg-yaml-demo"], "actionGroupId": ""},
     "amount", "expects a number, got bool True"),
    ("llmplatform:index:AksCluster", lambda p: _aks(p, lambda i: i["systemPool"].update(minCount=0)),
     "systemPool.minCount", "input systemPool.minCount=0 is invalid; allowed: a whole number from 1 to 1000"),
    ("llmplatform:index:AksCluster", lambda p: _aks(p, lambda i: i.update(tier="Gold")),
     "tier", "input tier='Gold' is invalid; allowed:"),
    ("llmplatform:index:AksCluster", lambda p: _aks(p, lambda i: i.pop("network")),
     "network", "Missing required input 'network' on 'AksCluster'"),
    ("llmplatform:index:AksCluster", lambda p: _aks(p, lambda i: i.update(network="10.0.0.0/16")),
     "network", "expects an object (NetworkSpec), got str '10.0.0.0/16'"),
    ("llmplatform:index:AksCluster", lambda p: _aks(p, lambda i: i.update(zones="1")),
     "zones", "expects a list, got str '1'"),
    ("llmplatform:index:ModelAutoscaler", lambda p: {
        "modelServer": {"namespace": "x", "deployment": "x", "service": "x", "port": 11434, "hosts": ["x"],
                        "accelerator": "cpu"}, "mode": "fast", "minReplicas": 1, "maxReplicas": 2},
     "mode", "input mode='fast' is invalid; allowed:"),
]


@pytest.mark.parametrize("type_, make_inputs, path, message", BAD_INPUTS,
                         ids=[f"{c[0].rsplit(':', 1)[-1]}-{c[2]}-{i}" for i, c in enumerate(BAD_INPUTS)])
def test_bad_inputs_come_back_as_per_property_errors(host, program, type_, make_inputs, path, message):
    before = len(host.monitor.registrations)
    with pytest.raises(plugin_host.ConstructFailure) as failure:
        host.construct(type_, "bad", make_inputs(program))
    assert failure.value.code == grpc.StatusCode.INVALID_ARGUMENT
    assert failure.value.message, "the status carries the whole message, not an empty one"
    assert message in failure.value.message
    assert [p for p, _ in failure.value.property_errors] == [path]
    reason = failure.value.property_errors[0][1]
    assert reason and reason in failure.value.message  # the engine prints path and reason; the reason is the tail
    assert len(host.monitor.registrations) == before, "nothing registered by the refused component"


def test_a_wrong_number_in_a_handle_with_dependencies_is_refused_with_the_whole_message(host, program):
    """A handle that references another resource (as `${observability.keda}` does) arrives with its dependency, so
    the provider maps its fields once they resolve: a fraction where a whole number goes is refused there with the
    component's sentence (the status message was empty: the SDK's server answers an InputPropertyError with none)."""
    resources = {"aks": copy.deepcopy(program["resources"]["aks"])}
    resources["aks"]["properties"].pop("logAnalyticsWorkspaceId")
    resources["ollama"] = {"type": "llmplatform:index:OllamaServer", "properties": {
        "cluster": "${aks.cluster}", "autoscaled": True,
        "modelVolume": {"namespace": "inference", "claimName": "models", "mountPath": "/models"},
        "keda": {"namespace": "keda", "interceptorHost": "interceptor.${aks.cluster.clusterName}",
                 "interceptorPort": 2.5, "externalScaler": "scaler:9090", "prometheusUrl": "http://prometheus:9090"}},
        "options": {"providers": {"kubernetes": "${aks.provider}"}}}
    fresh = host.with_fresh_monitor(stack="late-number")
    try:
        with pytest.raises(plugin_host.ConstructFailure) as failure:
            plugin_host.run_yaml_program(fresh, {"resources": resources})
    finally:
        fresh.close()
    assert failure.value.code == grpc.StatusCode.INVALID_ARGUMENT
    assert failure.value.message == "OllamaServer ollama: input keda.interceptorPort: 2.5 is not a whole number"
    assert failure.value.property_errors == [("keda.interceptorPort", "2.5 is not a whole number")]


def test_a_secret_wrong_number_is_refused_without_its_value(host, example_run):
    """A secret reaches the provider as one output (an object holding one is secret whole), mapped once it resolves:
    its refusal is a late message, and a secret's value stays out of those (it reaches the console and CI logs)."""
    from offline.runner import SECRET_SIG, SIG_KEY
    aks = example_run.constructed["aks"]
    keda = {"namespace": "keda", "interceptorHost": "interceptor", "interceptorPort": {SIG_KEY: SECRET_SIG,
            "value": 8080.5}, "externalScaler": "scaler:9090", "prometheusUrl": "http://prometheus:9090"}
    with pytest.raises(plugin_host.ConstructFailure) as failure:  # its own namespace: what it registered stays apart
        host.construct("llmplatform:index:OllamaServer", "secret-port", {
            "cluster": aks.wire["cluster"], "autoscaled": True, "keda": keda,
            "modelVolume": {"namespace": "secret-port", "claimName": "models", "mountPath": "/models"}},
            {"cluster": [aks.urn]}, providers={"kubernetes": plugin_host._provider_ref(aks.wire["provider"])})
    why = "a secret (its value is not shown) is not a whole number"
    assert failure.value.message == f"OllamaServer secret-port: input keda.interceptorPort: {why}"
    assert failure.value.property_errors == []  # the engine would print the secret beside one (test below)


def test_a_refused_secrets_value_stays_out_of_what_the_cli_shows(host, example_run):
    """The engine shows each property error with the value at its path (pulumi/pulumi `source_eval.go`
    `errorToMessage`: "property <path> with value '<value>' has a problem"), a secret's plaintext included (Go's
    `%v` of a secret, `PropertyValue.String`): the component kept a refused secret's value out of its own words,
    and the engine wrote it beside them, on the console and into CI logs. The path and the reason still reach the
    user, in the message."""
    from offline.runner import SECRET_SIG, SIG_KEY
    aks = example_run.constructed["aks"]
    keda = {"namespace": "keda", "interceptorHost": "interceptor", "interceptorPort": {SIG_KEY: SECRET_SIG,
            "value": 8181.5}, "externalScaler": "scaler:9090", "prometheusUrl": "http://prometheus:9090"}
    with pytest.raises(plugin_host.ConstructFailure) as port:
        host.construct("llmplatform:index:OllamaServer", "secret-port-shown", {
            "cluster": aks.wire["cluster"], "autoscaled": True, "keda": keda,
            "modelVolume": {"namespace": "secret-port-shown", "claimName": "models", "mountPath": "/models"}},
            {"cluster": [aks.urn]}, providers={"kubernetes": plugin_host._provider_ref(aks.wire["provider"])})
    with pytest.raises(plugin_host.ConstructFailure) as prefix:
        _monitoring(host, "secret-plain-shown", namePrefix={SIG_KEY: SECRET_SIG, "value": "yaml-demo-hidden"})
    assert "8181" not in port.value.shown, port.value.shown
    assert "keda.interceptorPort: a secret (its value is not shown) is not a whole number" in port.value.shown
    assert "yaml-demo-hidden" not in prefix.value.shown, prefix.value.shown
    assert "namePrefix" in prefix.value.shown and "not an Output" in prefix.value.shown, prefix.value.shown


def test_a_component_check_gives_other_languages_the_python_message_in_the_schemas_names(host, program):
    """The same mistake through Python (the component alone under the offline runner) and through the wire: the
    same sentence, each naming the input as its user writes it."""
    from llmplatform import AksCluster
    from llmplatform.checks import ComponentInputError

    def python_program():
        AksCluster("bad", {"cluster_name": "aks-yaml-demo", "resource_group_name": "rg", "location": "westeurope",
                           "network": {"vnet_cidr": "10.70.0.0/16", "node_subnet_cidr": "10.70.0.0/20",
                                       "endpoints_subnet_cidr": "10.70.16.0/24",
                                       "postgres_subnet_cidr": "10.70.17.0/24", "pod_cidr": "192.168.0.0/16",
                                       "service_cidr": "172.16.0.0/16", "dns_service_ip": "172.16.0.10"},
                           "system_pool": {"name": "system", "vm_size": "Standard_D2s_v5", "min_count": 0,
                                           "max_count": 2},
                           "workload_pool": {"name": "cpu", "vm_size": "Standard_D4s_v5", "min_count": 1,
                                             "max_count": 3}})
    with pytest.raises((ComponentInputError, offline.ProgramError)) as python_error:
        offline.run_function(python_program)
    with pytest.raises(plugin_host.ConstructFailure) as wire_error:
        host.construct("llmplatform:index:AksCluster", "bad", _aks(program, lambda i: i["systemPool"].update(minCount=0)))
    assert "AksCluster bad: input system_pool.min_count=0 is invalid; allowed: a whole number from 1 to 1000" in \
        str(python_error.value)
    assert wire_error.value.message == ("AksCluster bad: input systemPool.minCount=0 is invalid; allowed: a whole "
                                        "number from 1 to 1000")


def test_schema_paths_and_whole_numbers():
    assert schema_path("system_pool.min_count") == "systemPool.minCount"
    assert schema_path("models[0].size_gib") == "models[0].sizeGib"
    assert schema_path("extra_env['HF_HOME']") == "extraEnv['HF_HOME']"  # a map's key is the caller's
    assert whole_number(3.0, "x") == 3 and isinstance(whole_number(3.0, "x"), int)
    for bad in (2.5, "3", True):
        with pytest.raises(InputPropertyError):
            whole_number(bad, "x")


def test_schema_descriptions_read_as_other_languages_see_them():
    """Generated SDKs and docs show a description as it is: no docstring line breaks or indentation inside a
    paragraph, schema names (camelCase) for the properties a docstring names in Python, true/false."""
    schema = json.loads((PROJECT_DIR / "components" / "schema.json").read_text())
    names = {name for entity in [*schema["resources"].values(), *schema["types"].values()]
             for key in ("inputProperties", "properties") for name in entity.get(key, {})}
    descriptions = []

    def walk(node):
        if isinstance(node, dict):
            for key, value in node.items():
                descriptions.append(value) if key == "description" and isinstance(value, str) else walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)
    walk(schema)
    assert len(descriptions) > 400
    for text in descriptions:
        assert "  " not in text and "\n" not in text.replace("\n\n", ""), text
        assert not re.search(r"\bdefault (True|False)\b", text), text
        assert not re.search(r"(?<![`'\"])\bNone\b(?![`'\"])", text), text  # Python's word for an unset output
        python_names = re.findall(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b", text)
        assert not [n for n in python_names if schema_path(n) in names], text
        # Python's parameter: a YAML program has `options:` ("`protect` in opts", "as opts providers")
        assert not re.search(r"\bopts\b", text), text
    # the tidying reached the committed file from real docstrings (ApiGate's names GatewayAccess's output)
    gate = schema["resources"]["llmplatform:index:ApiGate"]["inputProperties"]["routeTarget"]["description"]
    assert "GatewayAccess's `routeTarget`" in gate
    api_key = schema["resources"]["llmplatform:index:GlobalEndpoint"]["properties"]["apiKey"]["description"]
    assert "absent without apiKeys" in api_key  # the docstring's "None without api_keys"
    # a YAML stranger's fewest inputs name a namespace nothing creates: `pulumi up` failed at the claim
    store = schema["resources"]["llmplatform:index:ModelStore"]["inputProperties"]["namespace"]["description"]
    assert "does not create it: AppNamespace's `namespace`" in store

def test_an_in_cluster_component_without_the_cluster_provider_is_refused_before_it_registers(host):
    before = len(host.monitor.registrations)
    with pytest.raises(plugin_host.ConstructFailure) as failure:
        host.construct("llmplatform:index:AppNamespace", "no-provider", {"namespace": "inference"})
    assert failure.value.code == grpc.StatusCode.INVALID_ARGUMENT
    assert "AppNamespace no-provider: no Kubernetes provider" in failure.value.message
    assert "in YAML `options: {providers: {kubernetes:" in failure.value.message  # not only Python's words
    assert len(host.monitor.registrations) == before


def test_a_second_gpu_pool_shares_the_clusters_device_software_across_construct_calls(host, example_run):
    """One provider process serves every Construct call of a deployment: a pool constructed after the example's finds
    the cluster's GPU Operator already installed (no second release, which would collide), and a pool that would need
    another driver on that cluster is refused as a per-property error on `driver`."""
    aks = example_run.constructed["aks"]
    providers = {"kubernetes": plugin_host._provider_ref(aks.wire["provider"])}
    first = [r for c in example_run.constructed.values() for r in c.children
             if r.type == "kubernetes:helm.sh/v3:Release" and r.inputs["chart"] == "gpu-operator"]
    inputs = {"cluster": aks.wire["cluster"], "vmSize": "Standard_NC24ads_A100_v4", "driver": "operator"}
    after_aks = {"cluster": [aks.urn]}  # as the engine passes `${aks.cluster}`: the handle depends on the component
    second = host.construct("llmplatform:index:GpuNodePool", "gpu-second", {**inputs, "poolName": "gpusecond"},
                            after_aks, providers=providers)
    assert len(first) == 1 and not [r for r in second.children if r.type.startswith("kubernetes:helm.sh")]
    assert [r.inputs["agentPoolName"] for r in second.children if r.type.endswith(":AgentPool")] == ["gpusecond"]
    # (an earlier test's refused OllamaServer, secret-port, left its interceptor alias registered, with no route)
    assert [r for r in host.refusals() if not r.startswith("secret-port-")] == []
    with pytest.raises(plugin_host.ConstructFailure) as failure:
        host.construct("llmplatform:index:GpuNodePool", "gpu-aks", {**inputs, "poolName": "gpuaks", "driver": "aks"},
                       after_aks, providers=providers)
    assert [path for path, _ in failure.value.property_errors] == ["driver"]


def test_a_gpu_pool_from_a_generated_sdk_draws_no_warning_for_the_defaults_it_sends(host, example_run):
    """Pulumi's generated SDKs fill in each input's schema `default` a program leaves out (pulumi/pulumi 1b5949891b
    `pkg/codegen/nodejs/gen.go`: `(args ? args.x : undefined) ?? <default>`; `pkg/codegen/python/gen.go`:
    `if x is None: x = <default>`; Go and .NET alike), so a TypeScript pool always sends `installDeviceSoftware:
    true`. A warning telling it to leave the input out fired on every such pool and could not be followed."""
    schema = host.schema()["resources"]["llmplatform:index:GpuNodePool"]["inputProperties"]
    defaults = {key: prop["default"] for key, prop in schema.items() if "default" in prop}
    assert defaults["installDeviceSoftware"] is True
    aks = example_run.constructed["aks"]
    providers = {"kubernetes": plugin_host._provider_ref(aks.wire["provider"])}
    before = len(host.engine.logs)
    host.construct("llmplatform:index:GpuNodePool", "gpu-sdk", {
        **defaults, "cluster": aks.wire["cluster"], "vmSize": "Standard_NC24ads_A100_v4", "driver": "operator",
        "poolName": "gpusdk"}, {"cluster": [aks.urn]}, providers=providers)
    assert [m for _, m in host.engine.logs[before:] if "install_device_software" in m] == []


def test_a_gpu_pool_refused_late_holds_no_place_in_the_clusters_queue_of_pool_writes(host, example_run):
    """Pools of one cluster are written one at a time (run_state.Turn: each depends on the one before). A pool
    refused once its handle resolved never wrote; the next pool depended on it and was refused with its message,
    on the engine's `--continue-on-error` or a Construct already under way."""
    aks = example_run.constructed["aks"]
    providers = {"kubernetes": plugin_host._provider_ref(aks.wire["provider"])}
    inputs = {"vmSize": "Standard_NC24ads_A100_v4", "driver": "operator"}
    after_aks = {"cluster": [aks.urn]}
    with pytest.raises(plugin_host.ConstructFailure) as failure:
        host.construct("llmplatform:index:GpuNodePool", "gpu-refused", {
            **inputs, "cluster": {**aks.wire["cluster"], "encryptionAtHost": "false"}, "poolName": "gpurefused"},
            after_aks, providers=providers)
    assert failure.value.property_errors == [("cluster.encryptionAtHost", "expects true or false, got str 'false'")]
    after = host.construct("llmplatform:index:GpuNodePool", "gpu-after", {
        **inputs, "cluster": aks.wire["cluster"], "poolName": "gpuafter"}, after_aks, providers=providers)
    assert [r.inputs["agentPoolName"] for r in after.children if r.type.endswith(":AgentPool")] == ["gpuafter"]


def test_a_preview_with_handle_fields_not_known_yet_constructs_and_awaits_no_unknown(host, program):
    """In `pulumi preview` a handle field that depends on a resource not created yet arrives unknown: its late check
    does not run (the SDK skips an apply of an unknown), and the Construct, which awaits every late check it made,
    answers instead of waiting for a value that never comes."""
    from pulumi.runtime.rpc import UNKNOWN

    def unknown_fields(name: str, type_: str, props: dict) -> dict:
        props = copy.deepcopy(props)
        if name == "gate":
            props["cluster"].update(zones=UNKNOWN, podCidr=UNKNOWN, cpuNodeSelector=UNKNOWN)
            props["endpoint"]["baseUrl"] = UNKNOWN
        return props
    resources = {key: copy.deepcopy(program["resources"][key]) for key in ("aks", "vault")}
    resources["aks"]["properties"].pop("logAnalyticsWorkspaceId")
    resources["gate"] = {"type": "llmplatform:index:ApiGate", "options": {"providers": {"kubernetes": "${aks.provider}"}},
                         "properties": {"cluster": "${aks.cluster}", "keyVault": "${vault.vault}", "namePrefix": "g",
                                        "endpoint": {"baseUrl": "http://ollama.llm:11434", "api": "ollama",
                                                     "namespace": "llm", "service": "ollama", "port": 11434}}}
    preview = host.with_fresh_monitor(stack="preview", preview=True)
    try:
        constructed = plugin_host.run_yaml_program(preview, {"resources": resources}, unknown_fields).constructed
    finally:
        preview.close()
    assert any(r.type == "kubernetes:apps/v1:Deployment" for r in constructed["gate"].children)
    assert "Traceback" not in host.plugin.stderr()


# ---- the newcomer mistakes (components/test_newcomer_mistakes.py) as another language sends them, to the same plugin
from tests.components.test_newcomer_mistakes import (  # noqa: E402
    IDS, WIRE, check_wire_outcome, schema_path, send_mistakes)


@pytest.fixture(scope="module")
def newcomer_outcomes(host):
    return send_mistakes(host)


@pytest.mark.parametrize("index", WIRE, ids=[IDS[i] for i in WIRE])
def test_a_newcomer_mistake_through_the_provider_is_a_per_property_error(newcomer_outcomes, index):
    check_wire_outcome(index, newcomer_outcomes[index])


def late_refused_gpu_program(program):
    """The YAML example's cluster, vault, gateway and llm-d on a MIG GPU pool: LlmdStack refuses the pool once its
    `${gpu.scheduling}` resolves."""
    resources = {key: copy.deepcopy(program["resources"][key]) for key in ("aks", "vault", "gateway", "llmd")}
    resources["aks"]["properties"].pop("logAnalyticsWorkspaceId")
    resources["gpu"] = {"type": "llmplatform:index:GpuNodePool", "properties": {
        "cluster": "${aks.cluster}", "vmSize": "Standard_NC24ads_A100_v4", "driver": "aks", "migProfile": "MIG3g"},
        "options": {"providers": {"kubernetes": "${aks.provider}"}}}
    return {"resources": resources}


def test_another_languages_gpu_handle_is_checked_once_it_resolves_with_the_python_message(host, program):
    """`${gpu.scheduling}` arrives as one output (it depends on the pool), so LlmdStack's checks of it run once it
    resolves: a MIG pool is refused then, in the Python words spelt in the schema's names, with no traceback, as a
    per-property error in schema names like an early refusal (the SDK's own server passes the RunError on, and gRPC
    reported `Unexpected <class 'llmplatform.errors.LateInputError'>: ...`)."""
    from tests.components.test_late_handle_checks import A100, llmd, outcome
    with pytest.raises(plugin_host.ConstructFailure) as failure:
        plugin_host.run_yaml_program(host.with_fresh_monitor(stack="late"), late_refused_gpu_program(program))
    message = ("LlmdStack llmd: input gpu='a pool with migProfile MIG3g' is invalid; allowed: a pool of whole GPUs "
               "(vLLM's tensor parallelism spans whole GPUs)")
    assert failure.value.code == grpc.StatusCode.INVALID_ARGUMENT
    assert failure.value.message == message, failure.value.message
    assert failure.value.property_errors == [("gpu", message.split("input gpu=", 1)[1])]
    python = outcome(lambda: llmd({**A100, "driver": "aks", "mig_profile": "MIG3g"})(False))[0]
    assert python == message.replace("migProfile", "mig_profile")


def test_after_a_refused_deployment_the_plugin_serves_the_next_and_prints_no_traceback(host, program):
    """A refused deployment leaves futures failing with "Resource monitor has terminated" once the engine stops its
    monitor (here the cluster's and the vault's calls still under way); asyncio printed each as "Future exception
    was never retrieved" with a traceback (the engine shows a plugin's stderr to the user), and their 94 KB filled
    the stderr pipe this host did not drain, which hung the plugin's next Construct until its deadline.
    The next deployment's refusal is of a field no code reads (ApiGate never reads its endpoint's `port`: the URL
    says it), in a handle with a dependency, so checked once it resolves: nothing awaited that check through the
    provider (the SDK's Construct awaits only the outputs it returns), where a Python program fails at its end."""
    def gate_program(endpoint: dict) -> dict:
        resources = {key: copy.deepcopy(program["resources"][key]) for key in ("aks", "vault")}
        resources["aks"]["properties"].pop("logAnalyticsWorkspaceId")
        resources["gate"] = {"type": "llmplatform:index:ApiGate", "options": {"providers": {
            "kubernetes": "${aks.provider}"}}, "properties": {
            "cluster": "${aks.cluster}", "keyVault": "${vault.vault}", "namePrefix": "g", "endpoint": {
                "baseUrl": "http://ollama.llm:11434", "api": "ollama", "namespace": "llm", "service": "ollama",
                "port": 11434, **endpoint}}}
        return {"resources": resources}
    messages = []
    for stack, endpoint in (("refused", {"api": "vllm"}),
                            ("unread", {"service": "ollama-${aks.cluster.clusterName}", "port": 2.5})):
        deployment = host.with_fresh_monitor(stack=stack)
        with pytest.raises(plugin_host.ConstructFailure) as failure:
            plugin_host.run_yaml_program(deployment, gate_program(endpoint))
        deployment.close()  # the engine ends the deployment: its monitor goes
        messages.append(failure.value.message)
    assert messages == ["ApiGate gate: input endpoint.api='vllm' is invalid; allowed: openai, ollama",
                        "ApiGate gate: input endpoint.port: 2.5 is not a whole number"]
    assert "Traceback" not in host.plugin.stderr() and "never retrieved" not in host.plugin.stderr()


def _refused_vault(host, example_run, key: str, value, vault_name: str):
    """A KeyVault whose input `key` arrives as an SDK sends a known output value (`pulumi.runtime.rpc.
    serialize_property` with output values kept: the value, with its dependencies; a bare null is dropped as left
    out), in a deployment of its own: its refusal, and what registered before it."""
    from pulumi.runtime.rpc import _special_output_value_sig, _special_sig_key
    aks = example_run.constructed["aks"]
    given = {_special_sig_key: _special_output_value_sig, "value": value, "dependencies": [aks.urn]}
    fresh = host.with_fresh_monitor(stack=f"{vault_name}-{key}")
    try:
        with pytest.raises(plugin_host.ConstructFailure) as failure:
            fresh.construct("llmplatform:index:KeyVault", "vault", {
                "cluster": aks.wire["cluster"], "vaultName": vault_name, key: given},
                {"cluster": [aks.urn], key: [aks.urn]})
        return failure.value, [r.name for r in fresh.monitor.registrations]
    finally:
        fresh.close()


@pytest.mark.parametrize("value, resolved", [(None, "nothing"), ("", "an empty value ('')")], ids=["none", "empty"])
def test_an_input_whose_presence_decides_what_is_built_resolving_to_nothing_is_a_per_property_error(
        host, example_run, value, resolved):
    """A workspace ID from another resource's output that resolved to nothing, sent as an SDK sends a known output
    value of None (`pulumi.runtime.rpc.serialize_property` with output values kept: the value null, with its
    dependencies; a bare null is dropped as left out), or to "" (which KeyVault takes as left out given plainly):
    KeyVault took it as given and planned diagnostic settings with no workspace, which Azure refuses at deploy time.
    Refused once it resolves, in the Python words spelt in the schema's names, under its schema name, and the
    diagnostic settings are not registered."""
    failure, registered = _refused_vault(host, example_run, "logAnalyticsWorkspaceId", value, "kv-yaml-demo-03")
    why = f"resolved to {resolved}; give a Log Analytics workspace ID, or leave it out"
    assert failure.code == grpc.StatusCode.INVALID_ARGUMENT
    assert failure.message == f"KeyVault vault: logAnalyticsWorkspaceId: {why}", failure.message
    assert failure.property_errors == [("logAnalyticsWorkspaceId", why)]
    assert "vault-diagnostics" not in registered


def test_a_value_the_rules_refuse_sent_as_an_output_value_is_a_per_property_error(host, example_run):
    """A tenant ID from another resource's output that is no GUID: KeyVault built the vault with it, and Azure
    refused it at deploy time in its own words. Refused once it resolves in the words a plain one gets, under its
    schema name, and the vault is not registered."""
    failure, registered = _refused_vault(host, example_run, "tenantId", "abc", "kv-yaml-demo-04")
    why = "'abc' is invalid; allowed: an Entra object id (GUID)"
    assert failure.code == grpc.StatusCode.INVALID_ARGUMENT
    assert failure.message == f"KeyVault vault: input tenantId={why}", failure.message
    assert failure.property_errors == [("tenantId", why)]
    assert "vault-vault" not in registered, registered


# ---- plain inputs (`plain` in the schema: a spec's fields the component reads when the program runs) -----------
def test_list_items_named_by_their_plain_names_keep_the_state_of_their_old_position_names(example_run):
    """The YAML example's fleet member and Front Door origin have a sibling with a dependency (clusterId, host), so the
    SDK's server hands each list over as one output and `spread` gives every field, `name` too, as an output: 0.16.0
    named their resources after the item's position. `name` is plain: it arrives as the value given, names them, and
    each carries the alias of its old name, so an upgrade moves the resource instead of replacing it."""
    def one(component: str, type_: str) -> offline.Registration:
        (found,) = [r for r in example_run.constructed[component].children if r.type == type_]
        return found
    member = one("fleet", "azure-native:containerservice:FleetMember")
    assert member.name == "fleet-westeurope" and member.inputs["fleetMemberName"] == "westeurope"
    assert [a["spec"]["name"] for a in member.options["aliases"]] == ["fleet-0"], member.options
    origins = [r for r in example_run.constructed["edge"].children if r.type == "azure-native:cdn:AFDOrigin"]
    assert sorted((r.name, r.options["aliases"][0]["spec"]["name"]) for r in origins) == [
        ("edge-api-westeurope", "edge-api-0"), ("edge-ui-westeurope", "edge-ui-0")]


def _aks_with(program, dependency: str, **pool) -> tuple[dict, dict]:
    props = copy.deepcopy(program["resources"]["aks"]["properties"])
    props.pop("logAnalyticsWorkspaceId")
    props["workloadPool"].update(pool)
    return props, {"workloadPool": [dependency]}


def test_a_plain_field_of_a_spec_sent_with_a_dependency_is_read_as_the_value_given(host, example_run, program):
    """A spec whose fields carry a dependency (a YAML reference in one of them) arrives as one output, each field an
    output: the workload pool's `priority: spot` built a regular pool (the component compared an output with
    "spot"). A plain field is handed over as its value: a spot pool."""
    props, deps = _aks_with(program, example_run.constructed["monitoring"].urn, priority="spot")
    fresh = host.with_fresh_monitor(stack="plain-spot")
    try:
        built = fresh.construct("llmplatform:index:AksCluster", "aks", props, deps)
    finally:
        fresh.close()
    (pool,) = [r for r in built.children if r.type == "azure-native:containerservice:AgentPool"]
    assert pool.inputs["scaleSetPriority"] == "Spot" and pool.inputs["vmSize"] == "Standard_D4s_v5"


def test_a_plain_field_not_known_in_a_preview_is_a_per_property_error(host, example_run, program):
    """Unknown (a resource not created yet), a plain field cannot be read when the program runs: refused in the
    Python words (spelt in the schema's names) under its schema path, not built on a guess."""
    from pulumi.runtime.rpc import UNKNOWN
    props, deps = _aks_with(program, example_run.constructed["monitoring"].urn, vmSize=UNKNOWN)
    preview = host.with_fresh_monitor(stack="plain-unknown", preview=True)
    try:
        with pytest.raises(plugin_host.ConstructFailure) as failure:
            preview.construct("llmplatform:index:AksCluster", "aks", props, deps)
        registered = preview.monitor.registrations
    finally:
        preview.close()
    why = "must be a plain value known when the program runs (a string), not an Output"
    assert failure.value.code == grpc.StatusCode.INVALID_ARGUMENT
    assert failure.value.property_errors == [("workloadPool.vmSize", why)], failure.value.property_errors
    assert failure.value.message == f"AksCluster aks: workloadPool.vmSize: {why}", failure.value.message
    assert registered == []


def _monitoring(host, stack: str, **given) -> plugin_host.Constructed:
    props = {"location": "westeurope", "resourceGroupName": "rg-yaml-demo", "namePrefix": "yaml-demo",
             "alertEmails": ["platform@example.com"], **given}
    fresh = host.with_fresh_monitor(stack=stack)
    try:
        return fresh.construct("llmplatform:index:AzureMonitoring", "mon", props)
    finally:
        fresh.close()


def test_a_secret_in_a_plain_list_or_map_stays_secret(host):
    """A plain list's or map's items are Outputs when a Python caller gives them so (tags={"owner": Output.secret(..)}
    keeps the tag secret); through the provider a secret list or map arrives as one secret output, and its items
    were handed over as values, in plaintext in every child's inputs and the state."""
    secret = {offline.SIG_KEY: offline.SECRET_SIG}
    built = _monitoring(host, "secret-items", tags={**secret, "value": {"owner": "team-a"}},
                        alertEmails={**secret, "value": ["platform@example.com"]})
    workspace = next(r for r in built.children if r.type == "azure-native:operationalinsights:Workspace")
    assert workspace.inputs["tags"] == {"owner": "team-a"} and "tags.owner" in workspace.secret_paths
    (group,) = [r for r in built.children if r.type == "azure-native:monitor:ActionGroup"]
    assert group.inputs["emailReceivers"][0]["emailAddress"] == "platform@example.com"
    assert "emailReceivers[0].emailAddress" in group.secret_paths, group.secret_paths


def test_a_secret_plain_input_is_refused_not_written_in_plaintext(host):
    """A plain input given as a secret: a Python caller's Output.secret is refused (the component reads the value);
    through the provider it was handed over as its value, the secret written in plaintext into resource names."""
    with pytest.raises(plugin_host.ConstructFailure) as failure:
        _monitoring(host, "secret-plain", namePrefix={offline.SIG_KEY: offline.SECRET_SIG, "value": "yaml-demo"})
    why = "must be a plain value known when the program runs (a string), not an Output"
    assert failure.value.property_errors == [], failure.value.property_errors  # the engine would print the secret
    assert f"namePrefix: {why}" in failure.value.shown and "yaml-demo" not in failure.value.shown


def test_a_plain_field_beside_a_secret_sibling_is_still_read_as_its_value(host, example_run):
    """The SDK's server marks a whole input secret when any part of it is: an origin's secret host makes its `name`
    arrive as a secret output too, which is the sibling's secrecy, not the name's: read as the name."""
    props = {"resourceGroupName": "rg-yaml-demo", "namePrefix": "yaml-demo-edge",
             "origins": [{"name": "westeurope",
                          "host": {offline.SIG_KEY: offline.SECRET_SIG, "value": "weu.llm.example.com"}}]}
    fresh = host.with_fresh_monitor(stack="secret-sibling")
    try:
        built = fresh.construct("llmplatform:index:GlobalEndpoint", "edge", props)
    finally:
        fresh.close()
    origins = sorted(r.name for r in built.children if r.type == "azure-native:cdn:AFDOrigin")
    assert origins == ["edge-api-westeurope", "edge-ui-westeurope"]


def test_an_input_maps_items_keep_their_dependencies_and_secrecy(host, example_run):
    """`preload_node_selector` is a pulumi.Input map: the analyzer marks its values plain (a typed SDK sends the map
    whole), which says nothing of them; given with a dependency and a secret, the preload Job keeps both. Sent as
    an SDK sends a secret output to a remote component (an output value holding its dependencies): the engine
    forwards a secret as an output value whatever the program sent, and the SDK's server then takes the output's
    own dependencies, not the property's (`_select_value`)."""
    from pulumi.runtime.rpc import _special_output_value_sig
    aks, monitoring = example_run.constructed["aks"], example_run.constructed["monitoring"]
    built = host.construct("llmplatform:index:ModelStore", "selector-models", {
        "cluster": aks.wire["cluster"], "namespace": "selector", "accountName": "stselectormodels01",
        "models": ["tinyllama"],
        "preloadNodeSelector": {offline.SIG_KEY: _special_output_value_sig, "secret": True,
                                "value": {"llm-platform/pool": "cpu"}, "dependencies": [monitoring.urn]}},
        {"cluster": [aks.urn], "preloadNodeSelector": [monitoring.urn]},
        providers={"kubernetes": plugin_host._provider_ref(aks.wire["provider"])})
    (job,) = [r for r in built.children if r.type == "kubernetes:batch/v1:Job"]
    assert job.inputs["spec"]["template"]["spec"]["nodeSelector"] == {"llm-platform/pool": "cpu"}
    assert any(p.startswith("spec.template.spec.nodeSelector") for p in job.secret_paths), job.secret_paths
    assert monitoring.urn in job.dependencies, job.dependencies


def test_a_spec_field_sent_as_its_own_secret_output_value_is_refused(host, example_run, program):
    """The engine may send an input with an output value in place of one field (`acceptOutputs`: the caller's SDK
    kept it where it was): its secrecy is then the field's own, not a sibling's, and a plain field given secret is
    refused, as a Python caller's Output.secret is, instead of written in plaintext."""
    from pulumi.runtime.rpc import _special_output_value_sig
    props, _ = _aks_with(program, example_run.constructed["monitoring"].urn)
    props["workloadPool"]["vmSize"] = {offline.SIG_KEY: _special_output_value_sig, "value": "Standard_D4s_v5",
                                       "secret": True, "dependencies": [example_run.constructed["monitoring"].urn]}
    fresh = host.with_fresh_monitor(stack="own-secret")
    try:
        with pytest.raises(plugin_host.ConstructFailure) as failure:
            fresh.construct("llmplatform:index:AksCluster", "aks", props)
    finally:
        fresh.close()
    why = "must be a plain value known when the program runs (a string), not an Output"
    assert failure.value.property_errors == [], failure.value.property_errors  # the engine would print the secret
    assert f"{why}" in failure.value.shown and "Standard_D4s_v5" not in failure.value.shown, failure.value.shown


def test_a_spec_field_sent_as_its_own_output_value_with_a_dependency_is_read_as_its_value(host, example_run,
                                                                                          program):
    """The same field sent as its own output value, not secret: its value, its dependency its own (a plain property
    carries none), builds the spot pool."""
    from pulumi.runtime.rpc import _special_output_value_sig
    props, _ = _aks_with(program, example_run.constructed["monitoring"].urn)
    props["workloadPool"]["priority"] = {offline.SIG_KEY: _special_output_value_sig, "value": "spot",
                                         "dependencies": [example_run.constructed["monitoring"].urn]}
    fresh = host.with_fresh_monitor(stack="own-output")
    try:
        built = fresh.construct("llmplatform:index:AksCluster", "aks", props)
    finally:
        fresh.close()
    (pool,) = [r for r in built.children if r.type == "azure-native:containerservice:AgentPool"]
    assert pool.inputs["scaleSetPriority"] == "Spot"


@pytest.mark.parametrize("type_,key,given", [
    ("FleetUpdates", "members", {"resourceGroupName": "rg-yaml-demo", "location": "westeurope",
                                 "fleetName": "fleet-yaml-demo"}),
    ("GlobalEndpoint", "origins", {"resourceGroupName": "rg-yaml-demo", "namePrefix": "yaml-demo-edge"})])
def test_a_list_item_not_known_in_a_preview_is_a_per_property_error(host, example_run, type_, key, given):
    """An item of a list of specs not known yet (a preview, `- ${res.output}`): a fleet member was named
    "fleet-Calling __str__ on an Output[T]...", an origin raised a TypeError from the component's code."""
    from pulumi.runtime.rpc import UNKNOWN
    preview = host.with_fresh_monitor(stack=f"unknown-{key}", preview=True)
    try:
        with pytest.raises(plugin_host.ConstructFailure) as failure:
            preview.construct(f"llmplatform:index:{type_}", "c", {**given, key: [UNKNOWN]},
                              {key: [example_run.constructed["aks"].urn]})
        registered = preview.monitor.registrations
    finally:
        preview.close()
    assert failure.value.code == grpc.StatusCode.INVALID_ARGUMENT, failure.value
    assert [path for path, _ in failure.value.property_errors] == [f"{key}[0]"], failure.value.property_errors
    assert registered == []


# ---- items of plain lists and maps: read ones handed over or refused by path, passed-on ones never unwrapped -----
def _refused_in_cluster(host, example_run, stack: str, type_: str, name: str,
                        props: dict) -> plugin_host.ConstructFailure:
    """A component on the example's cluster refused, in a deployment of its own where nothing registered."""
    aks = example_run.constructed["aks"]
    fresh = host.with_fresh_monitor(stack=stack)
    try:
        with pytest.raises(plugin_host.ConstructFailure) as failure:
            fresh.construct(f"llmplatform:index:{type_}", name, {"cluster": aks.wire["cluster"], **props},
                            {"cluster": [aks.urn]},
                            providers={"kubernetes": plugin_host._provider_ref(aks.wire["provider"])})
        assert fresh.monitor.registrations == [], [r.name for r in fresh.monitor.registrations]
        return failure.value
    finally:
        fresh.close()


@pytest.mark.parametrize("type_, props, path", [
    ("ModelStore", {"namespace": "items", "accountName": "stitemsmodels01", "models": ["tinyllama"]}, "models[0]"),
    ("GatewayAccess", {"namePrefix": "items", "external": True, "allowedServiceTags": ["AzureFrontDoor.Backend"]},
     "allowedServiceTags[0]"),
    ("OllamaServer", {"extraEnv": {"OLLAMA_CONTEXT_LENGTH": "8192"}}, "extraEnv['OLLAMA_CONTEXT_LENGTH']")],
    ids=["models", "service-tags", "extra-env"])
def test_a_read_lists_or_maps_secret_item_is_refused_by_path_not_unwrapped(host, example_run, type_, props, path):
    """A list or map whose items the component reads (joins into a string, validates) sent secret: its items stay
    secret outputs (handed over, they would be written in plaintext); the component stopped on them with a TypeError
    traceback (`models`, `allowedServiceTags`) or "extra_env={'...': <output>} is invalid". Now each is a
    per-property error naming the item, a map's key as given, before anything registers."""
    if type_ == "OllamaServer":
        props = {**props, "modelVolume": example_run.constructed["models"].wire["volume"]}
    key = path.split("[", 1)[0]
    failure = _refused_in_cluster(host, example_run, f"secret-{key}", type_, "items", {
        **props, key: {offline.SIG_KEY: offline.SECRET_SIG, "value": props[key]}})
    why = "must be a plain value known when the program runs (a string), not an Output"
    assert failure.code == grpc.StatusCode.INVALID_ARGUMENT
    assert failure.property_errors == [(path, why)], failure.property_errors
    assert failure.message == f"{type_} items: {path}: {why}", failure.message  # a map's key as given


def test_a_read_list_item_sent_with_a_dependency_is_read_as_its_value(host, example_run):
    """The same item with a dependency, not secret (`- ${res.output}`): handed over as its value, as a plain
    property carries no dependencies; the external Gateway admits the tag."""
    aks, monitoring = example_run.constructed["aks"], example_run.constructed["monitoring"]
    built = host.construct("llmplatform:index:GatewayAccess", "tagged", {
        "cluster": aks.wire["cluster"], "namePrefix": "tagged", "internal": False, "external": True,
        "allowedServiceTags": ["AzureFrontDoor.Backend"]},
        {"cluster": [aks.urn], "allowedServiceTags": [monitoring.urn]},
        providers={"kubernetes": plugin_host._provider_ref(aks.wire["provider"])})
    (gateway,) = [r for r in built.children if r.name == "tagged-external"]
    annotations = gateway.inputs["spec"]["infrastructure"]["annotations"]
    assert annotations["service.beta.kubernetes.io/azure-allowed-service-tags"] == "AzureFrontDoor.Backend"


def test_a_passed_on_maps_item_sent_with_a_dependency_keeps_it(host, example_run):
    """Tags' values are `pulumi.Input`s (the schema: not plain): a value sent as an output with a dependency reaches
    the resources as that output, dependency kept, where a plain item's was handed over as its value alone."""
    from pulumi.runtime.rpc import _special_output_value_sig
    aks = example_run.constructed["aks"].urn
    built = _monitoring(host, "dependency-tags", tags={"owner": {
        offline.SIG_KEY: _special_output_value_sig, "value": "team-a", "dependencies": [aks]}})
    workspace = next(r for r in built.children if r.type == "azure-native:operationalinsights:Workspace")
    assert workspace.inputs["tags"] == {"owner": "team-a"}
    assert aks in workspace.dependencies, workspace.dependencies


class _EndedCall(grpc.RpcError):
    """A monitor call's gRPC error as grpc-python raises it (an RpcError that is also a Call)."""

    def __init__(self, code: grpc.StatusCode, details: str) -> None:
        self._code, self._details = code, details

    def code(self) -> grpc.StatusCode:
        return self._code

    def details(self) -> str:
        return self._details


def _sdk_error(code: grpc.StatusCode, details: str) -> Exception:
    """What the SDK raises for a failed monitor call (`except grpc.RpcError as exn: handle_grpc_error(exn)`)."""
    from pulumi.runtime.settings import handle_grpc_error
    try:
        try:
            raise _EndedCall(code, details)
        except grpc.RpcError as exn:
            handle_grpc_error(exn)
    except Exception as error:  # noqa: BLE001
        return error
    raise AssertionError("handle_grpc_error returned")


@pytest.mark.parametrize("code, details, reported", [
    (grpc.StatusCode.CANCELLED, "Cancelled", False),  # the stopping monitor cancelled a call under way
    (grpc.StatusCode.UNAVAILABLE, "Socket closed", False),  # the SDK's RunError
    (grpc.StatusCode.INTERNAL, "monitor failed", True),
    (grpc.StatusCode.INVALID_ARGUMENT, "bad request", True),
])
def test_a_monitor_call_the_engine_ended_is_no_report_on_the_plugins_stderr(caplog, code, details, reported):
    """After a refused Construct the engine ends the deployment while calls of its children are under way; a call
    the stopping server cancels reached asyncio's handler as "Future exception was never retrieved" with a traceback
    (the SDK raises it as a bare Exception of its details, from the gRPC error), which the engine shows the user. A
    monitor's real failure is still reported."""
    import asyncio
    from llmplatform.provider import quiet_run_errors
    loop = asyncio.new_event_loop()
    try:
        with caplog.at_level("ERROR", logger="asyncio"):
            quiet_run_errors(loop, {"message": "Future exception was never retrieved",
                                    "exception": _sdk_error(code, details)})
    finally:
        loop.close()
    assert ("never retrieved" in caplog.text and details in caplog.text) is reported, caplog.text


# A plugin as `python <package dir>` starts it, with a bug planted in AzureMonitoring: the optional-input reader fails
_PLANTED_BUG = """import sys
sys.path.insert(0, {components!r})
from llmplatform import azure_monitoring

def planted(*args, **kwargs):
    raise KeyError("planted")

azure_monitoring.opt = planted
from llmplatform.provider import main
main()
"""


def test_a_bug_inside_a_construct_is_one_sentence_and_its_traceback_goes_to_the_debug_channel(tmp_path):
    """An error no check raised (a bug of the package) reached the user as the SDK's server words it: "Unexpected
    <class 'Exception'>: 'planted':" and the plugin's Python stack, shown by the engine as the resource's problem.
    It is now one sentence naming the component and the resource and saying it is a bug to report; the traceback
    goes to the engine's debug channel (shown by `pulumi up --debug`), nothing to the plugin's stderr."""
    (tmp_path / "__main__.py").write_text(_PLANTED_BUG.format(components=str(plugin_host.COMPONENTS_DIR)))
    buggy = plugin_host.ProviderHost(package_dir=tmp_path)
    try:
        with pytest.raises(plugin_host.ConstructFailure) as failure:
            buggy.construct("llmplatform:index:AzureMonitoring", "mon", {
                "location": "westeurope", "resourceGroupName": "rg-yaml-demo", "namePrefix": "yaml-demo"})
    finally:
        stderr = buggy.close()
    from llmplatform import __version__
    assert failure.value.shown == (
        f"AzureMonitoring mon: internal error in the llmplatform component provider {__version__} (KeyError), not a "
        "problem of your inputs: this is a bug, please report it with this message and the provider's traceback, "
        "which `pulumi up --debug` (or preview) shows: that output quotes input values, secrets included (the SDK "
        "logs every failed registration there as well), so take them out before you share it"), failure.value.shown
    assert failure.value.property_errors == []
    debug = [message for severity, message in buggy.engine.logs if severity == engine_pb2.DEBUG
             and message.startswith("AzureMonitoring mon: internal error")]
    assert len(debug) == 1 and "Traceback" in debug[0] and "KeyError: 'planted'" in debug[0], debug
    assert buggy.engine.errors() == [] and "Traceback" not in stderr, stderr


# The same plugin, its bug reading a secret input inside an apply (where a component sees a secret's plaintext):
# `int()` quotes the value it refuses, and the retention days the workspace is registered with fail with it
_PLANTED_SECRET_BUG = """import sys
sys.path.insert(0, {components!r})
from llmplatform import azure_monitoring
original = azure_monitoring.opt

def planted(args, key):
    return args["resource_group_name"].apply(int) if key == "log_retention_days" else original(args, key)

azure_monitoring.opt = planted
from llmplatform.provider import main
main()
"""


def test_a_bug_quoting_a_secret_input_keeps_it_off_the_users_line_and_warns_before_the_debug_output_is_shared(
        tmp_path):
    """A bug whose error quotes a secret input's plaintext: the user's line names only the error's type; the debug
    output the line asks for holds the plaintext (the SDK's own `rpc_manager` and `resource.py` log every failed
    registration's traceback there, pulumi 3.272.0), so the line says to take secrets out before sharing it."""
    plaintext = "rg-s3cret-planted"
    (tmp_path / "__main__.py").write_text(_PLANTED_SECRET_BUG.format(components=str(plugin_host.COMPONENTS_DIR)))
    buggy = plugin_host.ProviderHost(package_dir=tmp_path)
    try:
        with pytest.raises(plugin_host.ConstructFailure) as failure:
            buggy.construct("llmplatform:index:AzureMonitoring", "mon", {
                "location": "westeurope", "namePrefix": "yaml-demo",
                "resourceGroupName": {offline.SIG_KEY: offline.SECRET_SIG, "value": plaintext}})
    finally:
        buggy.close()
    shown = failure.value.shown
    assert shown.startswith("AzureMonitoring mon: internal error") and "(ValueError)" in shown, shown
    assert plaintext not in shown and "secrets included" in shown and "take them out" in shown, shown
    debug = [message for severity, message in buggy.engine.logs if severity == engine_pb2.DEBUG]
    assert any(plaintext in message for message in debug), "the warning is needed only while the debug output has it"


def test_an_optional_input_not_known_in_a_preview_is_built_as_given(host, example_run, program):
    """Another language's optional input unknown in `pulumi preview` (a resource not created yet) is an input given:
    the component builds with it (the VNet named by it, Container Insights on the workspace), never as if it were
    left out (`checks.given` leaves out None only; the engine's nulls never arrive, the SDK drops them)."""
    from pulumi.runtime.rpc import UNKNOWN
    props = copy.deepcopy(program["resources"]["aks"]["properties"])
    props.update(vnetName=UNKNOWN, logAnalyticsWorkspaceId=UNKNOWN)
    dependency = [example_run.constructed["monitoring"].urn]
    preview = host.with_fresh_monitor(stack="optional-unknown", preview=True)
    try:
        built = preview.construct("llmplatform:index:AksCluster", "aks", props,
                                  {"vnetName": dependency, "logAnalyticsWorkspaceId": dependency})
    finally:
        preview.close()
    (vnet,) = [r for r in built.children if r.type == "azure-native:network:VirtualNetwork"]
    (cluster,) = [r for r in built.children if r.type == "azure-native:containerservice:ManagedCluster"]
    # unknown (not vnet-aks-yaml-demo), as a preview records it: the SDK's Unknown at a path it names
    assert isinstance(vnet.inputs["virtualNetworkName"], Unknown) and "virtualNetworkName" in vnet.unknown_paths
    assert cluster.inputs["addonProfiles"]["omsagent"]["enabled"] is True


def test_a_component_given_one_clusters_handle_and_anothers_provider_is_refused_through_the_provider(host, program):
    """A component output reaches the next component with the dependencies Construct answered for it
    (`stateDependencies`: the children it came from, the ManagedCluster for a cluster handle), which the engine
    hands the program and its SDK makes the output's own; the host sent the component's URN alone, so no child of
    the next component depended on a ManagedCluster, and a GatewayAccess given cluster A's handle and cluster B's
    provider (its Azure IP's role assignments for A, its Gateway on B) went unrefused through the provider."""
    resources = program["resources"]
    other = copy.deepcopy(resources["aks"])
    other["properties"]["clusterName"] = "aks-yaml-demo-b"
    other["properties"]["network"] = {k: v.replace("10.70.", "10.71.") if isinstance(v, str) else v
                                      for k, v in other["properties"]["network"].items()}
    gateway = copy.deepcopy(resources["gateway"])
    gateway["options"]["providers"]["kubernetes"] = "${aksB.provider}"
    fresh = host.with_fresh_monitor(stack="two-clusters")
    try:
        plugin_host.run_yaml_program(fresh, {"resources": {"monitoring": resources["monitoring"],
                                                           "aks": resources["aks"], "aksB": other,
                                                           "gateway": gateway}})
        refused = fresh.refusals()
    finally:
        fresh.close()
    assert any(r.startswith("gateway (GatewayAccess) builds its Azure resources for cluster aks-yaml-demo ") and
               "to cluster aks-yaml-demo-b" in r for r in refused), refused


def test_a_components_protect_and_retain_on_delete_reach_its_children_and_its_custom_timeouts_are_dropped(host):
    """A program's options on a component go to Construct (`provider_plugin.go`). The SDK's server hands protect,
    retainOnDelete and deletedWith to the component it registers (pulumi 3.272.0 `provider/server.py`
    `_construct_options`), and the engine gives them to every child that sets none (`source_eval.go`
    `inheritFromParent`): a `retainOnDelete: true` component of a YAML program leaves its Azure resources behind on
    destroy. customTimeouts it builds and drops (its `CustomTimeouts(...)` is never assigned; unchanged at
    pulumi/pulumi 1b5949891b): the component is registered without them. Components give no child their own
    timeouts either way (docs/decisions.md, "A component's options through the provider")."""
    fresh = host.with_fresh_monitor(stack="options")
    try:
        built = fresh.construct("llmplatform:index:AzureMonitoring", "monitoring", {
            "location": "westeurope", "resourceGroupName": "rg-options", "namePrefix": "options"},
            options={"protect": True, "retainOnDelete": True, "customTimeouts": {"create": "1h", "update": "1h"}})
    finally:
        fresh.close()
    (component,) = [r for r in built.children if r.urn == built.urn]
    assert (component.options["protect"], component.options["retainOnDelete"]) == (True, True)
    assert component.options["customTimeouts"] == {}  # dropped by the SDK's server
    children = [r for r in built.children if r.custom]
    assert children and all(r.options["protect"] and r.options["retainOnDelete"] for r in children)


def test_a_number_or_boolean_a_yaml_program_writes_for_a_string_input_is_read_as_its_text(host, program):
    """Pulumi YAML's type checker takes a number or true/false for a string property and sends it as it is, a
    double or a bool (pulumi-yaml 36f271cf `analyser.go` `isAssignable`, "we coerce numbers to strings"; `run.go`
    `evaluateExpr`): `version: 17` was refused as "version=17.0 is invalid; allowed: 16, 17, 18", an unquoted
    `OLLAMA_CONTEXT_LENGTH: 8192` and a numeric tag with messages about the map. Each is now the text written."""
    resources = {key: copy.deepcopy(program["resources"][key])
                 for key in ("aks", "vault", "database", "teamApp", "teamModels", "teamOllama")}
    resources["aks"]["properties"].pop("logAnalyticsWorkspaceId")
    written = yaml.safe_load("""
        aks: {tags: {costCentre: 4711, shared: false, ratio: 0.5}}
        database: {version: 17}
        teamOllama: {extraEnv: {OLLAMA_CONTEXT_LENGTH: 8192, OLLAMA_FLASH_ATTENTION: true}}""")
    for name, properties in written.items():
        resources[name]["properties"].update(properties)
    fresh = host.with_fresh_monitor(stack="yaml-scalars")
    try:
        built = plugin_host.run_yaml_program(fresh, {"resources": resources}).constructed
    finally:
        fresh.close()

    def one(name: str, type_: str) -> offline.Registration:
        (found,) = [r for r in built[name].children if r.type == type_]
        return found
    assert one("aks", "azure-native:containerservice:ManagedCluster").inputs["tags"] == {
        "costCentre": "4711", "shared": "false", "ratio": "0.5"}
    assert one("database", "azure-native:dbforpostgresql:Server").inputs["version"] == "17"
    env = {e["name"]: e.get("value") for e in one("teamOllama", "kubernetes:apps/v1:Deployment").inputs[
        "spec"]["template"]["spec"]["containers"][0]["env"]}
    assert (env["OLLAMA_CONTEXT_LENGTH"], env["OLLAMA_FLASH_ATTENTION"]) == ("8192", "true")


def test_every_output_a_construct_returns_secret_is_secret_in_the_schema(host, example_run):
    """A generated SDK and the reference mark an output secret from the schema's `secret: true` (pulumi/pulumi
    1b5949891b `pkg/codegen/nodejs/gen.go` adds it to the resource's `additionalSecretOutputs`); GlobalEndpoint's
    `apiKey`, a key every region's gates accept, went over the wire secret but read as a plain string in the schema
    and docs/components/reference.md."""
    schema = host.schema()["resources"]
    fresh = host.with_fresh_monitor(stack="edge-keys")
    try:
        edge = fresh.construct("llmplatform:index:GlobalEndpoint", "edge", {
            "resourceGroupName": "rg-yaml-demo", "namePrefix": "keys", "apiKeys": ["team-a"],
            "origins": [{"name": "westeurope", "host": "weu.llm.example.com", "keyVaultName": "kv-yaml-demo-01",
                         "keyVaultResourceGroup": "rg-yaml-demo"}]})
    finally:
        fresh.close()
    built = [(type_, b) for type_, b in [("llmplatform:index:GlobalEndpoint", edge)] +
             [(b.urn.split("::")[2], b) for b in example_run.constructed.values()]]
    returned_secret = {(type_, key) for type_, b in built for key, value in b.wire.items()
                       if isinstance(value, dict) and value.get(offline.SIG_KEY) == offline.SECRET_SIG}
    assert ("llmplatform:index:GlobalEndpoint", "apiKey") in returned_secret
    assert {(type_, key) for type_, key in returned_secret
            if not schema[type_]["properties"][key].get("secret")} == set()


def _open_webui_refused(host, example_run, stack: str, **given) -> plugin_host.ConstructFailure:
    """An OpenWebUi on the example's cluster, vault and database, as a YAML program writes one, refused."""
    built = example_run.constructed
    return _refused_in_cluster(host, example_run, stack, "OpenWebUi", "ui", {
        "keyVault": built["vault"].wire["vault"], "databaseUrlSecret": built["database"].wire["databaseUrlSecret"],
        "namespace": stack, "endpoint": {"baseUrl": "http://ollama.team-b:11434", "api": "ollama",
                                         "namespace": "team-b", "service": "ollama", "port": 11434}, **given})


def test_an_endpoint_url_whose_host_is_no_dns_name_is_a_per_property_error_not_a_traceback(host, example_run):
    """A ModelEndpoint written by hand with a quote in its host passed the URL rule and stopped OpenWebUi's
    migration command with a ValueError: the engine showed "Unexpected <class 'Exception'>: While processing
    resource ..." and the plugin's Python stack. The host is now held to DNS names before anything registers."""
    url = "http://olla'ma.team-b:11434"
    failure = _open_webui_refused(host, example_run, "quoted-url", endpoint={
        "baseUrl": url, "api": "ollama", "namespace": "team-b", "service": "ollama", "port": 11434})
    assert failure.code == grpc.StatusCode.INVALID_ARGUMENT, failure.message
    assert [path for path, _ in failure.property_errors] == ["endpoint.baseUrl"], failure.property_errors
    assert failure.message.startswith(f"OpenWebUi ui: input endpoint.baseUrl={url!r} is invalid; allowed: an http")


def test_an_open_webui_name_prefix_is_refused_as_its_own_input(host, example_run):
    """OpenWebUi checked no given `namePrefix`: one that makes no Azure name was refused by the WorkloadIdentity
    inside it, as "WorkloadIdentity ui-open-webui-identity: input identity_name=..." and a property error on
    `identityName`, an input the YAML program's OpenWebUi does not have."""
    failure = _open_webui_refused(host, example_run, "bad-prefix", namePrefix="Team_B!")
    assert [path for path, _ in failure.property_errors] == ["namePrefix"], failure.property_errors
    assert failure.message.startswith("OpenWebUi ui: input namePrefix='Team_B!' is invalid"), failure.message


def test_every_object_the_yaml_example_puts_in_a_namespace_it_creates_comes_after_that_namespace(example_run):
    """Pulumi YAML orders resources by their references alone: the example's WorkloadIdentity and Observability named
    `inference` literally, so the batch ServiceAccount recorded no dependency on the Namespace AppNamespace creates
    (the engine could create it first, and a destroy delete the Namespace first). Each object in a namespace the
    example creates depends on its Namespace, directly or through what it depends on, as the engine reads a
    dependency: one on a component (all a `${app.namespace}` carries) is one on its children registered before the
    dependent (pulumi/pulumi 1b5949891b pkg/resource/graph/dependency_graph.go `DependenciesOf`), which
    `teardown.delete_graph` models."""
    from offline.deploy_model.teardown import delete_graph
    registered = [r for b in example_run.constructed.values() for r in b.children]  # each component's own too
    graph = delete_graph(offline.Plan("consumer", "dev", resources=registered))
    namespaces = {r.inputs["metadata"]["name"]: r.urn for r in registered if r.type == "kubernetes:core/v1:Namespace"}

    def after(urn: str, seen: set[str]) -> set[str]:
        for dependency in graph.get(urn, ()):
            if dependency not in seen:
                seen.add(dependency)
                after(dependency, seen)
        return seen
    placed = [(r.urn, r.inputs["metadata"].get("namespace")) for r in registered
              if r.type.startswith("kubernetes:") and isinstance(r.inputs.get("metadata"), dict)]
    assert len([urn for urn, namespace in placed if namespace in namespaces]) > 50
    assert [urn for urn, namespace in placed
            if namespace in namespaces and urn != namespaces[namespace] and namespaces[namespace] not in
            after(urn, set())] == []


@pytest.mark.parametrize("resource_type, said", [
    ("llmplatform:index:ApiGat", "did you mean 'ApiGate'?"),
    ("llmplatform:index:Nope", "components: AksCluster, ApiGate,"),
])
def test_a_component_type_the_provider_does_not_have_is_named_not_reported_as_a_bug(host, resource_type, said):
    """A type the program names (a YAML `type:` misspelt, a newer SDK's component on an older plugin) failed on the
    SDK's KeyError, which the provider answered as its own bug: "internal error ... not a problem of your inputs"."""
    from llmplatform import __version__
    with pytest.raises(plugin_host.ConstructFailure) as failure:
        host.construct(resource_type, "typo", {"namespace": "inference"})
    assert failure.value.code == grpc.StatusCode.INVALID_ARGUMENT, failure.value
    assert failure.value.shown.startswith(
        f"{resource_type} typo: the llmplatform component provider {__version__} has no such component; {said}"), \
        failure.value.shown
    assert "internal error" not in failure.value.shown


def test_a_late_read_of_an_earlier_deployment_s_resource_is_answered():
    """The plugin's SDK sends every RPC to the monitor of the latest Construct (pulumi 3.272.0 provider/server.py
    `reset_options`), so a resource reference an earlier test's construct was still rehydrating
    (`pulumi:pulumi:getResource`) reached the next deployment's monitor, which answered "unknown resource": an
    unretrieved traceback in the plugin's stderr now and then, failing the module's clean-stderr check under load.
    A read reaches the monitor that registered the resource; a URN none registered is still unknown."""
    from google.protobuf import struct_pb2
    from pulumi.runtime.proto import resource_pb2

    earlier, later = plugin_host.MonitorStub("consumer", "dev"), plugin_host.MonitorStub("consumer", "late-read")
    registered = earlier.RegisterResource(resource_pb2.RegisterResourceRequest(
        type="pulumi:providers:kubernetes", name="aks-k8s", custom=True, object=struct_pb2.Struct()), None)

    def read(urn: str):
        args = struct_pb2.Struct()
        args.update({"urn": urn})
        return later.Invoke(resource_pb2.ResourceInvokeRequest(tok="pulumi:pulumi:getResource", args=args), None)

    answer = read(registered.urn)
    assert not answer.failures and answer.HasField("return"), answer
    assert answer.__getattribute__("return").fields["urn"].string_value == registered.urn
    with pytest.raises(Exception, match="unknown resource"):
        read(registered.urn.replace("aks-k8s", "never-registered"))


def test_a_late_read_while_another_deployment_starts_is_answered():
    """The read above walks every monitor of the process while the next test's deployment may be making its own (the
    situation it is for): a WeakSet iterated while another thread adds to it raises "Set changed size during
    iteration", the same unretrieved traceback in the plugin's stderr. Monitors added from one thread, the read
    from another, the interpreter switching threads as often as it can."""
    import sys
    import threading
    from google.protobuf import struct_pb2
    from pulumi.runtime.proto import resource_pb2

    earlier = plugin_host.MonitorStub("consumer", "dev")
    registered = earlier.RegisterResource(resource_pb2.RegisterResourceRequest(
        type="pulumi:providers:kubernetes", name="aks-k8s", custom=True, object=struct_pb2.Struct()), None)
    kept = [plugin_host.MonitorStub("consumer", f"busy-{i}") for i in range(100)]
    args = struct_pb2.Struct()
    args.update({"urn": registered.urn})
    request = resource_pb2.ResourceInvokeRequest(tok="pulumi:pulumi:getResource", args=args)
    done, errors = threading.Event(), []

    def start_deployments():
        while not done.is_set():
            kept.append(plugin_host.MonitorStub("consumer", "busy"))
            del kept[100:-1]

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    thread = threading.Thread(target=start_deployments)
    try:
        thread.start()
        for _ in range(3000):
            try:
                kept[0].Invoke(request, None)
            except RuntimeError as error:
                errors.append(error)
    finally:
        done.set()
        thread.join()
        sys.setswitchinterval(interval)
    assert not errors, errors[:1]


def test_a_handle_through_the_provider_gives_each_field_its_own_dependencies(host, example_run, program):
    """A handle crosses the engine as one output, with the dependencies of all its fields (Construct answers one set
    per output: pulumi 3.272.0 `provider/server.py` `_construct_response`). A GPU pool's `resourceName` (force-new)
    from the handle's `clusterName` held the CPU pool and every subnet, and each Key Vault secret's `vaultName` the
    cluster's resources: the engine's delete-first chain (pulumi/pulumi 1b5949891b `calculateDependentReplacements`)
    replaced the GPU pools with a resized CPU pool, and every secret with a replaced subnet. The handle now carries
    each field's URNs (`fieldDependencies`), which the consumer gives that field alone, as a Python program's dict
    handle does; the write order stays in the resources' dependencies."""
    aks = example_run.constructed["aks"]
    by_name = {r.urn.rsplit("::", 1)[-1]: r.urn for built in example_run.constructed.values() for r in built.children}
    cluster, cpu_pool, last_subnet = by_name["aks-aks"], by_name["aks-cpu"], by_name["aks-postgres"]
    listed = aks.wire["cluster"]["fieldDependencies"]
    assert listed["clusterName"] == [cluster] and listed["poolWritesAfter"] == [cpu_pool]
    assert aks.state_dependencies["cluster"]  # the whole handle's, as the engine hands them on, still all of them
    assert {cpu_pool, last_subnet} <= set(aks.state_dependencies["cluster"])
    pools = [r for r in example_run.constructed["gpu"].children if r.type == "azure-native:containerservice:AgentPool"]
    assert pools
    for pool in pools:
        assert pool.property_dependencies["resourceName"] == [cluster], pool.property_dependencies
        assert {cpu_pool, last_subnet} <= set(pool.dependencies)  # after the CPU pool and the network's writes
    vault = next(r.urn for r in example_run.constructed["vault"].children if r.type == "azure-native:keyvault:Vault")
    secrets = [r for built in example_run.constructed.values() for r in built.children
               if r.type == "azure-native:keyvault:Secret"]
    assert secrets and all(s.property_dependencies["vaultName"] == [vault] for s in secrets)

    # a handle written by hand (no fieldDependencies), or one whose list is not in its shape, keeps the whole
    # handle's dependencies on every field, as before
    for listed_as in (None, {"clusterName": "not a list"}):
        handle = {k: v for k, v in aks.wire["cluster"].items() if k != "fieldDependencies"}
        if listed_as is not None:
            handle["fieldDependencies"] = listed_as
        fresh = host.with_fresh_monitor(stack=f"hand-built-{listed_as is None}")
        try:
            built = fresh.construct("llmplatform:index:GpuNodePool", "gpu", {
                **program["resources"]["gpu"]["properties"], "cluster": handle}, {"cluster": [cpu_pool, cluster]},
                {"kubernetes": plugin_host._provider_ref(aks.wire["provider"])})
        finally:
            fresh.close()
        pool = next(r for r in built.children if r.type == "azure-native:containerservice:AgentPool")
        assert sorted(pool.property_dependencies["resourceName"]) == sorted([cpu_pool, cluster]), listed_as


def test_a_handle_from_another_stack_gives_no_field_a_urn_this_stack_does_not_hold(host, example_run, program):
    """A handle exported by a YAML stack and read through a StackReference keeps its `fieldDependencies`, URNs of
    the stack that exported it; the engine sends the whole handle's dependencies as the reference alone. A resource
    depending on a URN its stack does not hold fails the engine's snapshot check on every save (pulumi/pulumi
    1b5949891b `pkg/resource/deploy/snapshot.go` `VerifyIntegrity`: "refers to missing resource"), so each field
    gets the handle's own dependencies, as a handle without `fieldDependencies` does."""
    aks = example_run.constructed["aks"]
    exported = aks.wire["cluster"]
    assert exported["fieldDependencies"]["clusterName"]  # the exporting stack's URNs
    reference = "urn:pulumi:consumer-stack::consumer::pulumi:pulumi:StackReference::core"
    fresh = host.with_fresh_monitor(stack="consumer-stack")
    try:
        built = fresh.construct("llmplatform:index:GpuNodePool", "gpu", {
            **program["resources"]["gpu"]["properties"], "cluster": exported}, {"cluster": [reference]},
            {"kubernetes": plugin_host._provider_ref(aks.wire["provider"])})
    finally:
        fresh.close()
    foreign = {urn for urns in exported["fieldDependencies"].values() for urn in urns}
    children = [r for r in built.children if r.type.startswith("azure-native:")]
    assert children
    for child in children:
        held = set(child.dependencies) | {u for urns in child.property_dependencies.values() for u in urns}
        assert not held & foreign, (child.urn, sorted(held & foreign))
    pool = next(r for r in built.children if r.type == "azure-native:containerservice:AgentPool")
    assert pool.property_dependencies["resourceName"] == [reference]


def test_field_dependencies_in_an_object_a_caller_writes_is_refused_as_any_unknown_name(host, program):
    """`fieldDependencies` is a property of the object types components output (handles) only: in a spec a caller
    writes (a pool, the network) it is no input, refused with the inputs there are as any other unknown name, not
    dropped as a handle's is."""
    before = len(host.monitor.registrations)
    with pytest.raises(plugin_host.ConstructFailure) as failure:
        host.construct("llmplatform:index:AksCluster", "bad", _aks(
            program, lambda i: i["workloadPool"].update(fieldDependencies={"vmSize": []})))
    assert failure.value.code == grpc.StatusCode.INVALID_ARGUMENT
    assert [p for p, _ in failure.value.property_errors] == ["workloadPool.fieldDependencies"]
    assert "maxCount" in failure.value.property_errors[0][1]  # the inputs there are
    assert len(host.monitor.registrations) == before


def test_a_new_monitor_never_takes_the_port_of_a_stopped_one(monkeypatch):
    """gRPC shares one subchannel among channels to one address: a monitor on the port of one just stopped could
    meet it still backing off, and the plugin's first RPC failed UNAVAILABLE ("Resource monitor has terminated") in a
    loaded suite. A port the OS hands out again is held while another is taken."""
    first, address = plugin_host._server()
    first.stop(0)
    taken = int(address.rsplit(":", 1)[1])
    real_server, binds = plugin_host.grpc.server, []

    class HandedTheSamePort:  # the OS handing the stopped server's port out again, once
        def __init__(self, *args, **kwargs):
            self.real = real_server(*args, **kwargs)

        def add_insecure_port(self, target):
            binds.append(target)
            return taken if len(binds) == 1 else self.real.add_insecure_port(target)

        def __getattr__(self, name):
            return getattr(self.real, name)
    monkeypatch.setattr(plugin_host.grpc, "server", HandedTheSamePort)
    again, address = plugin_host._server()
    again.stop(0)
    # more than two binds where the OS also hands out a port an earlier test of this worker had (held the same way)
    assert len(binds) >= 2 and int(address.rsplit(":", 1)[1]) != taken


# ---- handles across languages, through StackReferences ------------------------------------------------------------
YAML_STACK = "acme/yaml-core/dev"


def _yaml_stack_outputs(example_run):
    """The YAML example's handles as that stack would export them (`outputs: {cluster: ${aks.cluster}, ...}`): each
    component's output as Construct answered it, the schema's names and `fieldDependencies` (no handle is secret)."""
    built = example_run.constructed
    return {"cluster": built["aks"].outputs["cluster"], "vault": built["vault"].outputs["vault"],
            "gpu": built["gpu"].outputs["scheduling"], "routes": built["gateway"].outputs["routeTarget"],
            "keda": built["observability"].outputs["keda"]}


def _python_consumer():
    """A Python program of its own on the YAML stack's platform, its handles read through a StackReference."""
    import pulumi
    import pulumi_kubernetes as k8s
    from llmplatform import GpuNodePool, InferenceStack, KeyVault, ModelAutoscaler, ModelStore

    ref = pulumi.StackReference(YAML_STACK)
    cluster, vault, gpu, routes, keda = (ref.get_output(k) for k in ("cluster", "vault", "gpu", "routes", "keda"))
    in_cluster = pulumi.ResourceOptions(providers=[k8s.Provider("k8s", kubeconfig="apiVersion: v1")])
    GpuNodePool("big", {"cluster": cluster, "vm_size": "Standard_NC24ads_A100_v4", "pool_name": "gpubig",
                        "install_device_software": False, "driver": "operator"}, in_cluster)
    KeyVault("team", {"cluster": cluster, "vault_name": "kv-team-consumer-1", "public_network_access": False})
    volume = ModelStore("weights", {"cluster": cluster, "account_name": "stteamweights01", "namespace": "team"},
                        in_cluster).volume
    stack = InferenceStack("llm", {"cluster": cluster, "key_vault": vault, "model_volume": volume, "gpu": gpu,
                                   "accelerator": "gpu", "keda": keda, "route_target": routes}, in_cluster)
    ModelAutoscaler("scale", {"model_server": stack.model_server, "mode": "requests", "min_replicas": 0,
                              "max_replicas": 2, "keda": keda}, in_cluster)


def test_a_python_program_builds_on_handles_a_yaml_stack_exported(example_run):
    """Handles a YAML stack exports are in the provider's shape (schema names, `fieldDependencies`); a Python
    program reading them through a StackReference was refused ("cluster.clusterName: is not an input; did you mean
    'cluster_name'?", "cluster.fieldDependencies: is not an input"). Each schema name is read as its Python name
    now, and `fieldDependencies`, URNs of the exporting stack, is left out: every value depends on the reference
    alone, never on a URN this stack does not hold (the engine's snapshot check refuses those on every save)."""
    from llmplatform.testing import run

    exported = _yaml_stack_outputs(example_run)
    foreign = {urn for handle in exported.values() for urns in handle["fieldDependencies"].values() for urn in urns}
    assert foreign  # the exporting stack's resources, as the handles name them
    plan = run(_python_consumer, project="team", stack="dev", references={YAML_STACK: exported})
    reference = f"urn:pulumi:dev::team::pulumi:pulumi:Stack$pulumi:pulumi:StackReference::{YAML_STACK}"  # read
    held = {r.urn for r in plan.resources} | {reference}
    for r in plan.resources:
        depends = set(r.dependencies) | {u for urns in r.property_dependencies.values() for u in urns}
        assert depends <= held and not depends & foreign, (r.urn, sorted(depends - held))
    pool = plan.one("azure-native:containerservice:AgentPool", "big-gpubig")
    assert pool.inputs["resourceName"] == exported["cluster"]["clusterName"]
    assert pool.inputs["vnetSubnetID"] == exported["cluster"]["nodeSubnetId"]
    assert pool.property_dependencies["resourceName"] == [reference]
    endpoint = plan.one("azure-native:network:PrivateEndpoint")
    assert endpoint.inputs["subnet"]["id"] == exported["cluster"]["endpointsSubnetId"]
    # the vault's, the GPU's and KEDA's fields reached the inference stack by their Python names
    scaled = plan.one("kubernetes:core/v1:Service", "llm-ollama-scaled")
    assert scaled.inputs["spec"]["externalName"] == exported["keda"]["interceptorHost"]
    ollama = plan.one("kubernetes:apps/v1:Deployment", "llm-ollama")
    assert ollama.inputs["spec"]["template"]["spec"]["nodeSelector"] == exported["gpu"]["nodeSelector"]
    assert any(exported["vault"]["vaultName"] in str(r.inputs) for r in plan.of_type("azure-native:keyvault:Secret"))
    preview = run(_python_consumer, project="team", stack="dev", references={YAML_STACK: exported}, preview=True)
    for r in preview.resources:  # `pulumi preview` of the consumer, the first command on its new stack
        depends = set(r.dependencies) | {u for urns in r.property_dependencies.values() for u in urns}
        assert not depends & foreign, r.urn


def _one_pool(cluster_key="cluster"):
    import pulumi
    import pulumi_kubernetes as k8s
    from llmplatform import GpuNodePool

    GpuNodePool("big", {"cluster": pulumi.StackReference(YAML_STACK).get_output(cluster_key),
                        "vm_size": "Standard_NC24ads_A100_v4", "pool_name": "gpubig"},
                pulumi.ResourceOptions(providers=[k8s.Provider("k8s", kubeconfig="apiVersion: v1")]))


@pytest.mark.parametrize("secret", [False, True], ids=["plain", "secret"])
def test_a_yaml_stacks_handle_with_a_name_no_field_has_is_refused_naming_it_and_its_value(example_run, secret):
    """A name the handle type has in neither spelling (a newer package's field, a hand edit) is still refused, with
    its value (hidden when the reference's output is secret) and the fields there are; so is a field in both
    spellings. Nothing of the pool registers."""
    from llmplatform.testing import ProgramError, Secret, run

    exported = _yaml_stack_outputs(example_run)["cluster"]
    cases = [({**exported, "gpuBudget": 3.0}, "cluster.gpuBudget: is not an input; inputs (or each as the "
              "component provider names it, camelCase): autoscaler_expander, cluster_id, cluster_name,", "given int 3"),
             ({**exported, "cluster_name": "aks-other"}, "cluster.clusterName: is 'cluster_name' again, as the "
              "component provider names it", "given str 'aks-yaml-demo' beside str 'aks-other'; give one of them")]
    for handle, words, value in cases:
        with pytest.raises(ProgramError) as refused:
            run(_one_pool, project="team", stack="dev",
                references={YAML_STACK: {"cluster": Secret(handle) if secret else handle}})
        message = str(refused.value)
        assert message.startswith(f"GpuNodePool big: {words}"), message
        if secret:
            assert "3" not in message.split("given")[-1] and "aks-" not in message, message
            assert "given a secret (its value is not shown)" in message, message
        else:
            assert value in message, message
        assert "Traceback" not in message


def test_a_yaml_stacks_handle_is_checked_by_the_components_rules_in_python_names(example_run):
    """Read with its Python names, the handle's fields reach the rules that read them: a pool name the cluster has
    (`poolNames`) is refused as for a Python program's handle, before the pool registers."""
    from llmplatform.testing import ProgramError, run

    exported = {**_yaml_stack_outputs(example_run)["cluster"], "poolNames": ["system", "gpubig"]}
    with pytest.raises(ProgramError) as refused:
        run(_one_pool, project="team", stack="dev", references={YAML_STACK: {"cluster": exported}})
    assert str(refused.value).startswith("GpuNodePool big: input pool_name='gpubig' is invalid; allowed: a pool name "
                                         "the cluster does not have: its own pools are 'system', 'gpubig'")


def test_a_yaml_stacks_handle_of_another_type_is_named_as_that_type(example_run):
    """The vault handle given as the cluster is known by its fields in the provider's names too, and named."""
    from llmplatform.testing import ProgramError, run

    with pytest.raises(ProgramError) as refused:
        run(_one_pool, project="team", stack="dev",
            references={YAML_STACK: {"cluster": _yaml_stack_outputs(example_run)["vault"]}})
    assert str(refused.value) == ("GpuNodePool big: cluster: expects a ClusterHandle (AksCluster's `cluster`), got a "
                                  "VaultHandle (KeyVault's `vault`)")


def test_field_dependencies_in_a_spec_a_python_caller_writes_is_refused_as_any_unknown_name(example_run):
    """As through the provider: `fieldDependencies` is a handle's own; in a spec (a pool's fallback) it is no
    input."""
    import pulumi
    import pulumi_kubernetes as k8s
    from llmplatform import ComponentInputError, GpuNodePool
    from llmplatform.testing import run

    exported = _yaml_stack_outputs(example_run)["cluster"]

    def program():
        GpuNodePool("big", {"cluster": exported, "vm_size": "Standard_NC24ads_A100_v4",
                            "fallback": {"enabled": True, "fieldDependencies": {"enabled": []}}},
                    pulumi.ResourceOptions(providers=[k8s.Provider("k8s", kubeconfig="apiVersion: v1")]))
    with pytest.raises(ComponentInputError) as refused:
        run(program)
    assert str(refused.value).startswith("GpuNodePool big: fallback.fieldDependencies: is not an input; inputs: ")


def test_every_handle_types_schema_names_are_read_as_its_python_fields(host):
    """Each property the served schema gives a handle type (the names another language's program, or a stack built
    through the provider, exports it with) is read as a field of the Python type, `fieldDependencies` dropped."""
    from llmplatform import handles
    from llmplatform.checks.handle_types import python_named
    from llmplatform.provider import handle_types

    schema = host.schema()
    tokens = handle_types(schema)
    assert len(tokens) >= 10
    for token in tokens:
        spec = getattr(handles, token.rsplit(":", 1)[-1])
        names = schema["types"][token]["properties"]
        assert "fieldDependencies" in names
        assert set(python_named({n: n for n in names}, spec)) == set(spec.__annotations__), token


def test_a_yaml_program_builds_on_a_handle_a_python_stack_exported(host, program):
    """The other way round: a Python stack exports its handles with Python's names (`pulumi.export("cluster",
    aks.cluster)`), which a YAML program read through a StackReference and handed to a component: refused
    ("cluster.network_writes_after: is not an input; did you mean 'networkWritesAfter'?"). A handle's Python names
    are read as the schema's now; each field depends on the reference, the handle having no `fieldDependencies`."""
    import pulumi
    from llmplatform import AksCluster
    from llmplatform.testing import run
    from tests.components.test_components_alone import REQUIRED

    exported = run(lambda: pulumi.export("cluster", AksCluster("core", REQUIRED["AksCluster"]()).cluster)).outputs
    cluster = exported["cluster"]
    assert "network_writes_after" in cluster and "fieldDependencies" not in cluster
    reference = "urn:pulumi:python-consumer::consumer::pulumi:pulumi:StackReference::core"
    fresh = host.with_fresh_monitor(stack="python-consumer")
    try:
        vault = fresh.construct("llmplatform:index:KeyVault", "vault", {
            **program["resources"]["vault"]["properties"], "publicNetworkAccess": False, "cluster": cluster},
            {"cluster": [reference]})
        with pytest.raises(plugin_host.ConstructFailure) as twice:
            fresh.construct("llmplatform:index:KeyVault", "twice", {
                **program["resources"]["vault"]["properties"], "vaultName": "kv-yaml-demo-02",
                "cluster": {**cluster, "clusterName": "aks-other"}}, {"cluster": [reference]})
    finally:
        fresh.close()
    endpoint = next(r for r in vault.children if r.type == "azure-native:network:PrivateEndpoint")
    assert endpoint.inputs["subnet"]["id"] == cluster["endpoints_subnet_id"]
    assert endpoint.property_dependencies["subnet"] == [reference]
    assert twice.value.code == grpc.StatusCode.INVALID_ARGUMENT
    assert twice.value.property_errors == [
        ("cluster.cluster_name", "is 'clusterName' again, as Python names it; give one of them")]


def test_a_secret_handles_values_stay_out_of_the_components_rules_words(example_run):
    """A stack may export a handle as a secret (its whole output: `pulumi.export("cluster",
    pulumi.Output.secret(aks.cluster))`, a YAML `fn::secret`); read through a StackReference, the rules that read its
    fields once it resolves named them in the refusal (the cluster's own pools, "its own pools are 'system', ..."),
    which reaches the console and CI logs. The problem and the input meant stay named."""
    from llmplatform.testing import ProgramError, Secret, run

    exported = {**_yaml_stack_outputs(example_run)["cluster"], "poolNames": ["system", "gpubig", "private7"]}
    with pytest.raises(ProgramError) as refused:
        run(_one_pool, project="team", stack="dev", references={YAML_STACK: {"cluster": Secret(exported)}})
    message = str(refused.value)
    assert message.startswith("GpuNodePool big: input pool_name=") and "a pool name the cluster does not have" in message
    assert not any(secret in message for secret in ("system", "private7", exported["clusterName"])), message


def test_another_languages_workspaces_of_another_region_are_refused_once_both_handles_resolve(host, program):
    """`${aks.cluster}` and `${monitoring.monitoring}` both arrive as outputs (each depends on its component's
    resources): Observability's region rule waits for both and refuses workspaces of another region than the
    cluster's, in the Python words, as a per-property error without a traceback (one check per handle read the other's
    region as unknown and let it through); in the cluster's region it constructs."""
    def observed(workspaces_at: str) -> dict:
        resources = {key: copy.deepcopy(program["resources"][key]) for key in ("monitoring", "aks", "vault")}
        resources["monitoring"]["properties"]["location"] = workspaces_at
        resources["observability"] = {
            "type": "llmplatform:index:Observability", "options": {"providers": {"kubernetes": "${aks.provider}"}},
            "properties": {"cluster": "${aks.cluster}", "monitoring": "${monitoring.monitoring}",
                           "keyVault": "${vault.vault}", "appNamespace": "acme", "namePrefix": "yaml-demo"}}
        return {"resources": resources}

    with pytest.raises(plugin_host.ConstructFailure) as failure:
        plugin_host.run_yaml_program(host.with_fresh_monitor(stack="regions"), observed("swedencentral"))
    assert failure.value.code == grpc.StatusCode.INVALID_ARGUMENT
    assert failure.value.message.startswith("Observability observability: input monitoring.location='swedencentral' "
                                            "is invalid; allowed: the cluster's location 'westeurope'"), \
        failure.value.message
    assert [path for path, _ in failure.value.property_errors] == ["monitoring.location"]
    built = plugin_host.run_yaml_program(host.with_fresh_monitor(stack="regions-same"), observed("westeurope"))
    assert [r.inputs["location"] for r in built.constructed["observability"].children
            if r.type == "azure-native:monitor:DataCollectionEndpoint"] == ["westeurope"]


def test_an_open_webui_of_another_language_in_another_namespace_calls_the_endpoints_host_qualified(host, example_run):
    """OpenWebUi's `reached_from` through the component provider (a YAML or TypeScript program): a hand-written
    ModelEndpoint whose bare host resolves in `team-b`, the UI in `team-a`: the UI's environment and its migration
    Job carry `http://ollama.team-b.svc:11434`, the Job also the bare address (repointed from)."""
    built = example_run.constructed
    aks = built["aks"]
    fresh = host.with_fresh_monitor(stack="qualified")
    try:
        fresh.construct("llmplatform:index:OpenWebUi", "ui", {
            "cluster": aks.wire["cluster"], "keyVault": built["vault"].wire["vault"],
            "databaseUrlSecret": built["database"].wire["databaseUrlSecret"], "namespace": "team-a",
            "endpoint": {"baseUrl": "http://ollama:11434", "api": "ollama", "namespace": "team-b",
                         "service": "ollama", "port": 11434}}, {"cluster": [aks.urn]},
            providers={"kubernetes": plugin_host._provider_ref(aks.wire["provider"])})
        registered = {r.name: r.inputs for r in fresh.monitor.registrations}
    finally:
        fresh.close()
    containers = registered["ui-webui"]["spec"]["template"]["spec"]["containers"]
    env = {e["name"]: e.get("value") for c in containers for e in c.get("env") or []}
    assert env["OLLAMA_BASE_URL"] == "http://ollama.team-b.svc:11434", env
    migrate = registered["ui-webui-migrate"]["spec"]["template"]["spec"]["containers"][0]["command"][-1]
    assert " 'http://ollama.team-b.svc:11434' " in migrate and "'http://ollama:11434'" in migrate, migrate


def _gate_through_the_provider(host, example_run, stack: str, **given) -> plugin_host.Constructed:
    """An ApiGate on the example's cluster and vault, as another language writes one, given `protect`."""
    built = example_run.constructed
    aks = built["aks"]
    fresh = host.with_fresh_monitor(stack=stack)
    try:
        return fresh.construct("llmplatform:index:ApiGate", "gate", {
            "cluster": aks.wire["cluster"], "keyVault": built["vault"].wire["vault"], "namePrefix": stack,
            "endpoint": {"baseUrl": "http://ollama.team-b:11434", "api": "ollama", "namespace": "team-b",
                         "service": "ollama", "port": 11434}, **given},
            {"cluster": [aks.urn], "keyVault": [built["vault"].urn]},
            providers={"kubernetes": plugin_host._provider_ref(aks.wire["provider"])}, options={"protect": True})
    finally:
        fresh.close()


def test_api_key_replaceable_from_another_language_frees_the_own_key_alone_or_is_refused_by_its_schema_name(
        host, example_run):
    """`apiKeyReplaceable` (a waiting region's gate, joining deletes its key) crosses the wire as the Python input:
    the component is protected as its options ask, the generated key and its two secrets are not (each sets its own
    `protect: false`, which the engine's inheritance leaves alone: `source_eval.go` `inheritFromParent`); with
    `apiKeyAuth` false there is no key to free, and the refusal comes back as a per-property error."""
    gate = _gate_through_the_provider(host, example_run, "replaceable", apiKeyReplaceable=True)
    (component,) = [r for r in gate.children if r.urn == gate.urn]
    assert component.options["protect"] is True
    own = {r.name: r.options["protect"] for r in gate.children if r.type in (
        "random:index/randomPassword:RandomPassword", "azure-native:keyvault:Secret")}
    assert own == {"gate-api-key": False, "gate-api-key-secret": False, "gate-api-key-map-secret": False}
    with pytest.raises(plugin_host.ConstructFailure) as failure:
        _gate_through_the_provider(host, example_run, "no-key", apiKeyReplaceable=True, apiKeyAuth=False)
    why = "True is invalid; allowed: only with apiKeyAuth true: a gate without a key generates none to keep out of " \
          "protect"
    assert failure.value.code == grpc.StatusCode.INVALID_ARGUMENT
    assert failure.value.message == f"ApiGate gate: input apiKeyReplaceable={why}", failure.value.message
    assert [path for path, _ in failure.value.property_errors] == ["apiKeyReplaceable"], failure.value.property_errors


def test_a_yaml_preview_of_a_new_stack_shows_what_up_creates_though_each_handle_arrives_unknown(host, example_run,
                                                                                                program):
    """`pulumi preview` of the YAML example on a new stack: every child answered as its provider answers a preview,
    and each `${component.handle}` read as Pulumi YAML reads it then, unknown as a whole once any field is
    (pulumi-yaml `evaluatePropertyAccessTail`; the Go SDK sends it as an unknown output value with its
    dependencies). The plain fields the components decide by were lost with it: the preview showed no Cilium policy
    for Prometheus (cluster.networkPolicy), a DCGM exporter the GPU Operator's own replaces (gpu.driver) and no
    grant of the llm-d key to Open-WebUI (endpoint.apiKeySecret), all three otherwise in `pulumi up`. A handle
    unknown as a whole is now read, in a preview, as the component of this deployment it depends on handed it out."""
    preview = host.with_fresh_monitor(stack="fresh", preview=True, new_stack=True)
    try:
        previewed = plugin_host.run_yaml_program(preview, program)
    finally:
        preview.close()

    def shown(run: plugin_host.YamlRun) -> list[str]:
        return sorted(r.urn.split("::", 2)[2] for built in run.constructed.values() for r in built.children)
    assert shown(previewed) == shown(example_run)
    assert {k: v for k, v in previewed.outputs.items() if v != plugin_host._UNKNOWN} == {
        k: v for k, v in example_run.outputs.items() if previewed.outputs[k] != plugin_host._UNKNOWN}


_STACK_REFERENCE = "urn:pulumi:{stack}::consumer::pulumi:pulumi:StackReference::shared"


def _previewed_cilium_policies(host, example_run, program, stack: str, extra_dependencies: list[str],
                               deployments: int = 1, secret: bool = False) -> list[list[str]]:
    """Observability's Cilium policies in a preview of a new stack (one deployment per round, each against the
    same plugin process): the cluster handle sent unknown as a whole (a secret with `secret`), depending on the
    AksCluster constructed before it in that deployment and on `extra_dependencies`."""
    shown = []
    for _ in range(deployments):
        fresh = host.with_fresh_monitor(stack=stack, preview=True, new_stack=True)
        try:
            aks = fresh.construct("llmplatform:index:AksCluster", "aks", _aks(program, lambda i: None))
            provider = aks.wire["provider"]
            cluster = plugin_host._UNKNOWN if not secret else {
                offline.SIG_KEY: plugin_host.OUTPUT_VALUE_SIG, "secret": True, "dependencies": [aks.urn]}
            built = fresh.construct("llmplatform:index:Observability", "obs", {
                "cluster": cluster, "appNamespace": "llm",
                "keyVault": _hand_built(example_run, "vault", "vault"),
                "gpu": _hand_built(example_run, "gpu", "scheduling")},
                {"cluster": [aks.urn, *(d.format(stack=stack) for d in extra_dependencies)]},
                providers={"kubernetes": f"{provider['urn']}::{provider.get('id') or plugin_host._UNKNOWN}"})
        finally:
            fresh.close()
        shown.append(sorted(r.urn.rsplit("::", 1)[-1] for r in built.children
                            if r.type == "kubernetes:cilium.io/v2:CiliumNetworkPolicy"))
    return shown


def test_a_handle_unknown_as_a_whole_that_depends_on_more_than_its_component_stays_unknown(host, example_run,
                                                                                          program):
    """Pulumi YAML's builtins over outputs (`fn::select` between `${aks.cluster}` and a handle built from a
    StackReference's outputs) are unknown as a whole in a preview once any part is, with every part's dependencies
    (pulumi-yaml 36f271cf `run.go` `lift`: `pulumi.All`): that value was read as AksCluster's handle (its
    networkPolicy cilium: a Cilium policy `up` need not create). The dependencies must be the component's handle's
    own; the direct reference's are (the component alone, pulumi 1b5949891b `sdk/go/pulumi/context.go`: raw outputs
    depend on their resource)."""
    assert _previewed_cilium_policies(host, example_run, program, "handle-alone", []) == [
        ["obs-prometheus-egress-guard"]]
    assert _previewed_cilium_policies(host, example_run, program, "handle-and-more", [_STACK_REFERENCE]) == [[]]


def test_a_secret_handle_unknown_as_a_whole_stays_unknown(host, example_run, program):
    """`fn::secret: ${aks.cluster}` in a preview: read back, its plain fields would reach the children as plain
    values, shown in the preview where `up` keeps them secret; it stays unknown."""
    assert _previewed_cilium_policies(host, example_run, program, "handle-secret", [], secret=True) == [[]]


def test_a_second_preview_in_one_plugin_process_reads_its_own_handles(host, example_run, program):
    """The handles recorded in one preview are that deployment's: a second deployment of the same stack against
    the same plugin process found two AksCluster entries of one URN and read its handle as unknown (no Cilium
    policy); the earlier Construct's entry is dropped, as another stack's are."""
    assert _previewed_cilium_policies(host, example_run, program, "handle-again", [], deployments=2) == [
        ["obs-prometheus-egress-guard"]] * 2


def test_a_secret_given_as_text_for_a_number_is_refused_without_its_value(host, program):
    """A spec read from another stack's secret output (the whole object secret) with a count as text: the refusal
    showed the value ("got str '7'") in the engine's message, the console and CI logs; a secret's stays out of it,
    as the late checks' does."""
    inputs = _aks(program, lambda i: i.update(systemPool={offline.SIG_KEY: offline.SECRET_SIG,
                                                          "value": {**i["systemPool"], "minCount": "7"}}))
    with pytest.raises(plugin_host.ConstructFailure) as failure:
        host.construct("llmplatform:index:AksCluster", "secret-count", inputs)
    assert failure.value.property_errors == [
        ("systemPool.minCount", "expects a whole number, got a str (a secret: its value is not shown)")]
    assert "'7'" not in failure.value.message


def test_a_field_of_a_variable_unknown_as_a_whole_is_unknown_in_the_harness_preview(host, program):
    """`variables: {cluster: ${aks.cluster}}` in a new stack's preview holds the handle unknown as a whole; Pulumi
    YAML reads `${cluster.networkPolicy}` as an apply on it (pulumi-yaml 36f271cf `run.go` `evaluatePropertyAccessTail`:
    an Output receiver is `ApplyT`), unknown. The harness read it as absent (None): a required field missing, or the
    text "None" in an interpolation, where `pulumi preview` has an unknown. `${aks.cluster.networkPolicy}` is the
    field's own value."""
    yaml_program = {"resources": {"aks": {"type": "llmplatform:index:AksCluster",
                                          "properties": _aks(program, lambda i: None)}},
                    "variables": {"cluster": "${aks.cluster}"},
                    "outputs": {"viaVariable": "${cluster.networkPolicy}", "named": "policy-${cluster.networkPolicy}",
                                "direct": "${aks.cluster.networkPolicy}"}}
    preview = host.with_fresh_monitor(stack="variable-unknown", preview=True, new_stack=True)
    try:
        run = plugin_host.run_yaml_program(preview, yaml_program)
    finally:
        preview.close()
    assert run.outputs == {"viaVariable": plugin_host._UNKNOWN, "named": plugin_host._UNKNOWN,
                           "direct": "cilium"}


def test_a_handle_from_a_yaml_reference_gives_each_field_its_own_dependencies(host, program):
    """Pulumi YAML sends `${aks.cluster}` depending on AksCluster alone (pulumi-yaml reads a resource's raw outputs,
    which depend on it alone: pulumi/pulumi 1b5949891b `sdk/go/pulumi/context.go`), not on the children Construct
    answered for it, as the host sends a reference: the handle's fieldDependencies named URNs not sent and were
    dropped, each field depending on the component (a GPU pool's `resourceName` on AksCluster, not the
    ManagedCluster; the write order after the CPU pool gone). A list this deployment's component handed out is
    its own; one it did not (edited, or another stack's) still falls back to what was sent."""
    def pool_dependencies(stack: str, edit) -> tuple[list[str], dict[str, str]]:
        fresh = host.with_fresh_monitor(stack=stack)
        try:
            aks = fresh.construct("llmplatform:index:AksCluster", "aks", _aks(program, lambda i: None))
            handle = copy.deepcopy(aks.wire["cluster"])
            edit(handle)
            built = fresh.construct("llmplatform:index:GpuNodePool", "gpu", {
                **program["resources"]["gpu"]["properties"], "cluster": handle}, {"cluster": [aks.urn]},
                {"kubernetes": plugin_host._provider_ref(aks.wire["provider"])})
        finally:
            fresh.close()
        pool = next(r for r in built.children if r.type == "azure-native:containerservice:AgentPool")
        names = {r.urn.rsplit("::", 1)[-1]: r.urn for r in aks.children}
        return pool.property_dependencies["resourceName"], {**names, "": aks.urn}

    given, urns = pool_dependencies("yaml-reference", lambda handle: None)
    assert given == [urns["aks-aks"]]
    edited, urns = pool_dependencies("yaml-reference-edited", lambda handle: handle["fieldDependencies"].update(
        clusterName=handle["fieldDependencies"]["poolWritesAfter"]))
    assert edited == [urns[""]]


def test_a_hand_built_handles_autoscaler_expander_is_checked_as_its_own_field(host, example_run):
    """A YAML team building the cluster handle from the platform stack's outputs: `autoscalerExpander: Priority` (a
    typo, or another tool's spelling) was refused as the GPU pool's `fallback.enabled` ("only on a cluster whose
    autoscaler_expander is 'priority'"), not as the field that was wrong, and passed every component without a
    fallback; it is held to AKS's values, as `networkPolicy` and `upgradeChannel` are."""
    built = example_run.constructed["aks"].outputs["cluster"]
    cluster = {k: v for k, v in built.items() if k != "fieldDependencies"}
    fresh = host.with_fresh_monitor(stack="expander")
    try:
        with pytest.raises(plugin_host.ConstructFailure) as failure:
            fresh.construct("llmplatform:index:GpuNodePool", "gpu", {
                "cluster": {**cluster, "autoscalerExpander": "Priority"}, "vmSize": "Standard_NC24ads_A100_v4",
                "fallback": {"enabled": True, "minCount": 0, "maxCount": 1}})
    finally:
        fresh.close()
    assert ("cluster.autoscalerExpander", "'Priority' is invalid; allowed: one of least-waste, priority, random, "
            "most-pods (AKS's autoScalerProfile.expander; a cluster without one is random)") \
        in failure.value.property_errors
    assert fresh.monitor.registrations == []


def test_the_own_cluster_pages_yaml_program_builds_on_another_stacks_outputs(host, example_run):
    """docs/components/own-cluster.md's YAML program, as a team copies it: the handle under `variables:` from a
    StackReference's outputs (the kubeconfig a secret), a provider of its own, a GPU pool with an on-demand fallback;
    as `pulumi up` and as `pulumi preview` of its new stack (the other stack exists: its outputs are known)."""
    page = (PROJECT_DIR / "docs" / "components" / "own-cluster.md").read_text()
    program = yaml.safe_load(re.search(r"^```yaml\n(.*?)^```$", page, re.S | re.M).group(1))
    aks = example_run.constructed["aks"]
    outputs = {**aks.wire["cluster"], "kubeconfig": {offline.SIG_KEY: offline.SECRET_SIG,
                                                     "value": aks.outputs["kubeconfig"]}}
    shown = {}
    for stack, preview in (("own-cluster-yaml", False), ("own-cluster-yaml-new", True)):
        deployment = host.with_fresh_monitor(stack=stack, preview=preview, new_stack=preview)
        try:
            run = plugin_host.run_yaml_program(deployment, program, stack_outputs={"acme/aks-core/weu": outputs})
        finally:
            deployment.close()
        pools = [r for r in run.constructed["gpu"].children if r.type == "azure-native:containerservice:AgentPool"]
        assert [(p.inputs["agentPoolName"], p.inputs["resourceName"]) for p in pools] == [
            ("gpu", "aks-yaml-demo"), ("gpuod", "aks-yaml-demo")]
        provider = next(r for r in deployment.monitor.registrations if r.type == "pulumi:providers:kubernetes")
        assert provider.secret_paths == ["kubeconfig"]
        assert {(r.options.get("provider") or "").rsplit("::", 1)[0] for r in run.constructed["gpu"].children
                if r.type.startswith("kubernetes:")} == {provider.urn}
        shown[preview] = sorted(r.urn.split("::", 2)[2] for r in run.constructed["gpu"].children)
    assert shown[True] == shown[False]


@pytest.mark.parametrize("type_, given, path, allowed", [
    ("Observability", lambda run: {"cluster": _hand_built(run, "aks", "cluster"), "appNamespace": "llm",
                                   "keyVault": _hand_built(run, "vault", "vault"),
                                   "gpu": {**_hand_built(run, "gpu", "scheduling"), "driver": "Operator"}},
     "gpu.driver", "'Operator' is invalid; allowed: one of aks, operator (who installed the NVIDIA driver, as "
                   "GpuNodePool's driver)"),
    ("ModelAutoscaler", lambda run: {"modelServer": {"namespace": "x", "deployment": "x", "service": "x", "port": 11434,
                                                     "hosts": ["x"], "accelerator": "GPU"},
                                     "mode": "cpu", "minReplicas": 1, "maxReplicas": 2},
     "modelServer.accelerator", "'GPU' is invalid; allowed: one of cpu, gpu (as InferenceStack's accelerator)"),
])
def test_a_hand_built_handles_choice_field_is_held_to_its_values(host, example_run, type_, given, path, allowed):
    """Another stack's GPU pool or model server as a YAML team writes it: `driver: Operator` passed, and Observability
    installed a DCGM exporter beside the GPU Operator's own; `accelerator: GPU` passed, read as cpu."""
    fresh = host.with_fresh_monitor(stack=f"choice-{type_}")
    try:
        with pytest.raises(plugin_host.ConstructFailure) as failure:
            fresh.construct(f"llmplatform:index:{type_}", "c", given(example_run))
    finally:
        fresh.close()
    assert failure.value.property_errors == [(path, allowed)]
    assert fresh.monitor.registrations == []


def _hand_built(run: plugin_host.YamlRun, name: str, output: str) -> dict:
    """A component's handle as another stack exported it and a YAML program writes it: its fields, no
    fieldDependencies."""
    return {k: v for k, v in run.constructed[name].outputs[output].items() if k != "fieldDependencies"}


def test_a_model_share_too_small_for_its_models_is_refused_through_the_provider(host, example_run):
    """ModelStore's share-room rule (input_rules/stateful.py) through the provider, as a YAML or TypeScript program
    composes it: camelCase inputs, one per-property error on `sizeGib` naming the least share that holds the models,
    nothing registered."""
    failure = _refused_in_cluster(host, example_run, "small-share", "ModelStore", "small", {
        "namespace": "small", "accountName": "stsmallmodels01", "sizeGib": 100, "models": ["hf.co/org/big:Q8_0"],
        "modelSizesGib": {"hf.co/org/big:Q8_0": 94.5}})
    assert failure.code == grpc.StatusCode.INVALID_ARGUMENT
    assert [p for p, _ in failure.property_errors] == ["sizeGib"], failure.property_errors
    assert "sizeGib=100 is invalid; allowed: at least 105 GiB: 10 % of the share free" in failure.message
    assert "(modelSizesGib)" in failure.message, failure.message
