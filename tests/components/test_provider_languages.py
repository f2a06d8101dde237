"""The component provider as a Go, TypeScript, .NET or Java program uses it: each SDK hands a component's output
(a handle) on to the next component in its own shape (offline/plugin_host.py `program_sends`, with the SDKs'
sources), and most differently in `pulumi preview`, where a handle holds fields not known yet. A preview must refuse
nothing `up` accepts, hold no value known that `up` does not give, and give each child the dependencies `up` gives
it (the engine plans a preview's replacements from them: pulumi/pulumi 1b5949891b `pkg/resource/deploy/
step_generator.go` `calculateDependentReplacements`)."""
import copy
import json
import re

import pytest
from pulumi.output import Unknown

from offline import plugin_host, runner as offline

from tests.components.test_provider import _aks, host, program  # noqa: F401 (the module's fixtures)

GPU_POOL = "azure-native:containerservice:AgentPool"
CILIUM_POLICY = "kubernetes:cilium.io/v2:CiliumNetworkPolicy"


@pytest.fixture(scope="module")
def runs(host, program):
    """The YAML example as a program in each language (None: Pulumi YAML, as the harness models it), `pulumi up` and
    `pulumi preview` of a new stack, each its own deployment against the same plugin process; a refused Construct
    as its ConstructFailure."""
    return _each_deployment(host, program, [(sdk, preview) for sdk in (None, *plugin_host.SDKS)
                                            for preview in (False, True)])


def _each_deployment(host, program, deployments, prefix: str = "") -> dict:
    """(sdk, preview) -> the program's run as that SDK's program in that kind of deployment (a preview of a new
    stack), each with its own monitor and stack name; a refused Construct as its ConstructFailure."""
    found = {}
    for sdk, preview in deployments:
        deployment = host.with_fresh_monitor(stack=f"{prefix}{sdk or 'yaml'}-{'preview' if preview else 'up'}",
                                             preview=preview, new_stack=preview)
        try:
            found[sdk, preview] = plugin_host.run_yaml_program(deployment, program, sdk=sdk)
        except plugin_host.ConstructFailure as failure:
            found[sdk, preview] = failure
        finally:
            deployment.close()
    return found


def _children(run) -> dict[str, offline.Registration]:
    """Every child a run's components registered, by URN less its stack and project."""
    assert not isinstance(run, plugin_host.ConstructFailure), run.shown
    return {r.urn.split("::", 2)[2]: r for built in run.constructed.values() for r in built.children}


def _leaves(value, path=""):
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _leaves(item, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _leaves(item, f"{path}[{index}]")
    elif value is not None and not isinstance(value, Unknown):  # a value not known yet (the SDK's Unknown in a
        yield path, value                                            # preview's inputs, as the kit records them)


def _known_but_not_ups(preview, up, yaml_preview) -> set[tuple[str, str]]:
    """(child, input path) of each value a preview's child holds known that `up` does not give it, but those the
    Pulumi YAML preview holds too (the stand-ins' own preview answers: a Kubernetes object named when its name is not
    known yet)."""
    found = set()
    for urn, child in preview.items():
        given = dict(_leaves(up[urn].inputs))
        shared = dict(_leaves(yaml_preview[urn].inputs)) if urn in yaml_preview else {}
        found |= {(urn.rsplit("::", 1)[-1], path) for path, value in _leaves(child.inputs)
                  if given.get(path, ...) != value and shared.get(path, ...) != value}
    return found


# A Go program's own reads of a field not known yet (`${monitoring.monitoring.actionGroupId}` is
# `monitoring.Monitoring.ActionGroupId()`, `${aks.cluster.clusterId}` `aks.Cluster.ClusterId()`): Go holds the handle
# known, that field "" (sdk/go/pulumi/rpc.go `unmarshalOutput`), and sends "" as a known value; no provider can tell
# it from a real "" (docs/decisions.md, "Handles from Go, TypeScript, .NET and Java programs in a preview").
GO_OWN_READS = {("budget-budget", f"notifications.{kind}.contactGroups[0]")
                for kind in ("Actual_GreaterThan_80_Percent", "Actual_GreaterThan_100_Percent",
                             "Forecasted_GreaterThan_100_Percent")} | {("fleet-westeurope", "clusterResourceId")}


@pytest.mark.parametrize("sdk", plugin_host.SDKS)
def test_a_preview_from_each_language_shows_what_up_creates_and_no_value_up_does_not_give(runs, sdk):
    """Go: a handle with a field not known yet reached the next component known, that field at Go's zero value: a
    GPU pool refused the cluster's oidcIssuerUrl '' in the preview (`up` accepts the real one), and its pools' cluster
    name was ''. Java: the handle arrived unknown without the component it came from (the engine's upgrade of the
    unknown sentinel carries no dependencies), so its plain fields were lost: the preview showed a DCGM exporter
    `up` does not create (the GPU pool's driver is the GPU Operator's) and no Cilium policy for Prometheus."""
    up, preview = _children(runs[sdk, False]), _children(runs[sdk, True])
    assert sorted(preview) == sorted(up) == sorted(_children(runs[None, False]))
    assert _known_but_not_ups(preview, up, _children(runs[None, True])) == (GO_OWN_READS if sdk == "go" else set())


@pytest.mark.parametrize("sdk", [None, *plugin_host.SDKS])
def test_a_preview_from_each_language_gives_each_child_the_dependencies_up_gives(runs, sdk):
    """A handle unknown as a whole in a preview (Pulumi YAML, TypeScript, .NET, Java) gave every field it did not hold
    known the whole handle's dependencies, which `up` gives each field alone (fieldDependencies): a GPU pool's
    resourceName held the CPU pool and every subnet, so a preview replacing the CPU pool deleting it first showed
    the GPU pools replaced with it, which `up` does not do. A Java program's list item not known yet (the budget's
    `${aks.nodeResourceGroup}`, a fleet member's clusterId) reached the components with no dependency at all."""
    differ = _dependencies_differ(_children(runs[sdk, True]), _children(runs[sdk, False]))
    # AksCluster's own kubeconfig (its credentials read, not known in a preview) is no handle's
    assert set(differ) == {("aks-k8s", "kubeconfig")}, differ


def _dependencies_differ(preview, up) -> dict:
    """(child, input) -> (the preview's, up's) property dependencies where they differ."""
    differ = {}
    for urn, child in preview.items():
        for key in set(child.property_dependencies) | set(up[urn].property_dependencies):
            given, wanted = ([u.split("::", 2)[2] for u in sorted(r.property_dependencies.get(key, []))]
                             for r in (child, up[urn]))
            if given != wanted:
                differ[urn.rsplit("::", 1)[-1], key] = (given, wanted)
    return differ


def _new_stack(host, stack: str):
    return host.with_fresh_monitor(stack=stack, preview=True, new_stack=True)


def test_a_go_programs_gpu_pool_in_a_preview_reads_the_clusters_fields_not_known_yet_as_such(host, program):
    """A Go program's `GpuNodePool` given `aks.Cluster` in a preview of a new stack: the handle arrives known, its
    clusterName "" and oidcIssuerUrl "" (the Go SDK's zero values of fields not known yet), depending on AksCluster
    alone. The pool was refused ('' is no OIDC issuer); each such field is now unknown, with its own dependencies,
    and the fields AksCluster handed out known (the pool names it refuses, the network policy) stay known."""
    deployment = _new_stack(host, "go-gpu")
    try:
        aks = deployment.construct("llmplatform:index:AksCluster", "aks", _aks(program, lambda i: None))
        schema = deployment.schema()
        sent, deps = plugin_host.program_sends(
            "go", aks.wire["cluster"], [aks.urn, *aks.state_dependencies["cluster"]],
            schema["resources"]["llmplatform:index:AksCluster"]["properties"]["cluster"], schema, preview=True)
        assert sent["value"]["clusterName"] == "" and sent["value"]["oidcIssuerUrl"] == "" and deps == [aks.urn]
        gpu = deployment.construct("llmplatform:index:GpuNodePool", "gpu", {
            **program["resources"]["gpu"]["properties"], "cluster": sent}, {"cluster": deps},
            {"kubernetes": plugin_host._provider_ref(aks.wire["provider"])})
        with pytest.raises(plugin_host.ConstructFailure) as refused:  # a pool name the cluster has: still known
            deployment.construct("llmplatform:index:GpuNodePool", "gpu-cpu", {
                **program["resources"]["gpu"]["properties"], "poolName": "cpu", "cluster": sent}, {"cluster": deps},
                {"kubernetes": plugin_host._provider_ref(aks.wire["provider"])})
    finally:
        deployment.close()
    cluster = {r.urn.rsplit("::", 1)[-1]: r.urn for r in aks.children}
    pools = [r for r in gpu.children if r.type == GPU_POOL]
    assert pools
    for pool in pools:
        assert "resourceName" in pool.unknown_paths and isinstance(pool.inputs["resourceName"], Unknown), pool.inputs
        assert pool.property_dependencies["resourceName"] == [cluster["aks-aks"]]
        assert pool.property_dependencies["vnetSubnetID"] == [cluster["aks-nodes"]]
    assert {path for path, _ in refused.value.property_errors} == {"poolName"}


def test_a_go_programs_secret_handle_in_a_preview_keeps_its_fields_not_known_yet_secret(host, program):
    """`pulumi.ToSecret(aks.Cluster)` in a Go preview: the handle arrives known and secret, its fields not known yet
    at Go's zero values; each is read as unknown and secret, as the handle is (the pool was refused for '')."""
    deployment = _new_stack(host, "go-secret")
    try:
        aks = deployment.construct("llmplatform:index:AksCluster", "aks", _aks(program, lambda i: None))
        schema = deployment.schema()
        sent, deps = plugin_host.program_sends(
            "go", {offline.SIG_KEY: offline.SECRET_SIG, "value": aks.wire["cluster"]}, [aks.urn],
            schema["resources"]["llmplatform:index:AksCluster"]["properties"]["cluster"], schema, preview=True)
        assert sent["secret"] is True and sent["value"]["clusterName"] == ""
        gpu = deployment.construct("llmplatform:index:GpuNodePool", "gpu", {
            **program["resources"]["gpu"]["properties"], "cluster": sent}, {"cluster": deps},
            {"kubernetes": plugin_host._provider_ref(aks.wire["provider"])})
    finally:
        deployment.close()
    pools = [r for r in gpu.children if r.type == GPU_POOL]
    assert pools
    for pool in pools:  # unknown as a secret is sent: a secret of an unknown
        assert "resourceName.value" in pool.unknown_paths and "resourceName" in pool.secret_paths, pool.unknown_paths


def _hand_built_vault() -> dict:
    return {"vaultId": "/subscriptions/0/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv-1",
            "vaultName": "kv-1", "vaultUri": "https://kv-1.vault.azure.net/", "tenantId": offline.TENANT,
            "resourceGroupName": "rg"}


def _hand_built_gpu() -> dict:
    return {"nodeSelector": {"llm-platform/pool": "gpu"}, "tolerations": [], "gpuModel": "A100",
            "gpusPerNode": 1, "gpuMemoryGib": 80.0, "driver": "aks", "rdma": False}


def test_a_java_programs_handle_not_known_yet_is_read_as_its_component_handed_it_out(host, program):
    """Java sends a handle not known yet as the unknown sentinel, its dependencies in the request's
    propertyDependencies alone; the engine upgrades it to an output value without dependencies, and the SDK's
    server leaves inputDependencies aside for it. The handle came from no component then: its plain fields were
    lost (no Cilium policy for Prometheus, which `up` creates for the cluster's cilium)."""
    deployment = _new_stack(host, "java-unknown")
    try:
        aks = deployment.construct("llmplatform:index:AksCluster", "aks", _aks(program, lambda i: None))
        built = deployment.construct("llmplatform:index:Observability", "obs", {
            "cluster": {offline.SIG_KEY: plugin_host.OUTPUT_VALUE_SIG}, "appNamespace": "llm",
            "keyVault": _hand_built_vault(), "gpu": _hand_built_gpu()},
            {"cluster": [aks.urn, *aks.state_dependencies["cluster"]]},
            {"kubernetes": plugin_host._provider_ref(aks.wire["provider"])})
    finally:
        deployment.close()
    assert [r.name for r in built.children if r.type == CILIUM_POLICY] == ["obs-prometheus-egress-guard"]


def _gpu_pool_given_java_handle(host, program, stack: str, sent_as):
    """AksCluster, then GpuNodePool given its cluster handle as `sent_as` makes it of the handle (a copy) and with
    the dependencies a Java program sends (the request's propertyDependencies: the component and its children)."""
    deployment = host.with_fresh_monitor(stack=stack)
    try:
        aks = deployment.construct("llmplatform:index:AksCluster", "aks", _aks(program, lambda i: None))
        gpu = deployment.construct("llmplatform:index:GpuNodePool", "gpu", {
            **program["resources"]["gpu"]["properties"], "cluster": sent_as(copy.deepcopy(aks.wire["cluster"]))},
            {"cluster": [aks.urn, *aks.state_dependencies["cluster"]]},
            {"kubernetes": plugin_host._provider_ref(aks.wire["provider"])})
    finally:
        deployment.close()
    return aks, gpu


def test_a_java_programs_secret_handle_keeps_its_dependencies_in_an_up(host, program):
    """Java sends a secret handle (`Output.ofSecret(aks.cluster())`) as a secret, its dependencies in the request's
    propertyDependencies alone; the engine upgrades it to an output value without dependencies: every field lost
    them in `up`, a GPU pool's resourceName depending on nothing (a replaced cluster would not replace its pools)."""
    aks, gpu = _gpu_pool_given_java_handle(host, program, "java-secret", lambda handle: {
        offline.SIG_KEY: offline.SECRET_SIG, "value": handle})
    cluster = {r.urn.rsplit("::", 1)[-1]: r.urn for r in aks.children}
    pools = [r for r in gpu.children if r.type == GPU_POOL]
    assert pools and all(p.property_dependencies["resourceName"] == [cluster["aks-aks"]] for p in pools)
    assert all(cluster["aks-cpu"] in p.dependencies for p in pools)  # after the cluster's CPU pool, as in any up


@pytest.mark.parametrize("left_on", [True, False])
def test_a_deployment_through_the_provider_records_its_own_engines_mode_whatever_ran_before_in_the_process(
        host, program, left_on):
    """The harness's monitor serves in the test process, whose SDK dry-run flag is one global the last kit run set:
    after a plan of a preview on the same worker, an `up` through the provider kept each value not known yet as the
    SDK's Unknown, and after an `up`, a preview dropped them (tests passing alone failed after
    test_policy_plugin.py's previews). Each deployment now records as its engine runs: an `up` holds no Unknown, a
    preview of a new stack holds one at each path it names not known yet."""
    import contextvars
    from pulumi.runtime import settings

    def leave(value):  # what a kit run does: set in a fresh context, where it also becomes the process's default
        contextvars.Context().run(setattr, settings.SETTINGS, "dry_run", value)

    def unknowns(value):
        if isinstance(value, dict):
            return any(unknowns(v) for v in value.values())
        if isinstance(value, list):
            return any(unknowns(v) for v in value)
        return isinstance(value, Unknown)
    before = contextvars.Context().run(getattr, settings.SETTINGS, "dry_run")
    leave(left_on)  # as a kit run of a preview (True) or an up (False) leaves it
    try:
        built = {}
        for preview in (False, True):
            deployment = host.with_fresh_monitor(stack=f"mode-{left_on}-{preview}", preview=preview, new_stack=preview)
            try:
                built[preview] = deployment.construct("llmplatform:index:AksCluster", "aks",
                                                      _aks(program, lambda i: None))
            finally:
                deployment.close()
    finally:
        leave(before)
    assert not [r.name for r in built[False].children if unknowns(r.inputs)]
    pool = next(r for r in built[True].children if r.type == GPU_POOL)  # the CPU pool: its cluster not created yet
    assert "resourceName" in pool.unknown_paths and isinstance(pool.inputs["resourceName"], Unknown)


def _only(program: dict, *roots: str) -> dict:
    """The program cut to `roots` and what they reference, directly or through others (`${name...}` in a resource's
    properties or options, or a variable's value), without its outputs."""
    resources, variables = program["resources"], program.get("variables") or {}
    keep: set[str] = set()
    todo = list(roots)
    while todo:
        name = todo.pop()
        if name not in keep:
            keep.add(name)
            spec = json.dumps(resources.get(name, variables.get(name)))
            todo += [ref for ref in re.findall(r"\$\{([A-Za-z0-9_-]+)", spec) if ref in resources or ref in variables]
    return {**program, "resources": {k: v for k, v in resources.items() if k in keep},
            "variables": {k: v for k, v in variables.items() if k in keep}, "outputs": {}}


@pytest.fixture(scope="module")
def two_endpoint_runs(host, program):
    """The example with LlmdStack's keyless UI listener (`uiListener: true`): llm-d hands out two handles of one
    type (ModelEndpoint: `endpoint` and `uiEndpoint`), and its Open-WebUI is given `${llmd.uiEndpoint}`; as in
    `runs`, Pulumi YAML's preview (None) and each language's `up` and new stack's preview."""
    changed = _only(copy.deepcopy(program), "llmdUi")  # what llm-d's Open-WebUI needs: a third of the example
    changed["resources"]["llmd"]["properties"]["uiListener"] = True
    changed["resources"]["llmdUi"]["properties"]["endpoint"] = "${llmd.uiEndpoint}"
    return _each_deployment(host, changed, [(None, True), *((s, p) for s in plugin_host.SDKS for p in (False, True))],
                            prefix="two-")


@pytest.mark.parametrize("sdk", plugin_host.SDKS)
def test_a_handle_of_a_component_handing_out_two_of_its_type_is_read_in_a_preview_as_the_one_sent(
        two_endpoint_runs, sdk):
    """LlmdStack hands out `endpoint` and `uiEndpoint`, both ModelEndpoint: `previewed_handle` found two handles of
    the type from the component sent and read neither. A Go program's `llmd.UiEndpoint` (known, its baseUrl, service
    and namespace "" in a new stack's preview) then reached OpenWebUi as known: refused, `endpoint.baseUrl='' is
    invalid`, where `up` accepts it; a TypeScript, .NET or Java program's, unknown as a whole, gave each of its
    fields the whole handle's dependencies (llmdUi's children held the router's Service where `up` gives the
    ui listener's). The one sent is told by the FIELD_DEPENDENCIES it carries (Go), or by its dependencies
    (TypeScript, .NET, Java: the component and its fields' URNs)."""
    runs = two_endpoint_runs
    up, preview = _children(runs[sdk, False]), _children(runs[sdk, True])
    assert sorted(preview) == sorted(up)
    built = {urn.rsplit("::", 1)[-1] for urn in preview}  # the cut program has no budget or fleet: none of Go's own
    own_reads = {read for read in GO_OWN_READS if read[0] in built} if sdk == "go" else set()
    assert _known_but_not_ups(preview, up, _children(runs[None, True])) == own_reads
    assert set(_dependencies_differ(preview, up)) == {("aks-k8s", "kubeconfig")}


def test_what_each_sdk_sends_of_a_secret_not_known_yet_and_of_an_output_left_out(host):
    """The harness's model of the SDKs (`program_sends`), where it was wrong: Go holds a secret not known yet (the
    Python SDK's answer for AksCluster's kubeconfig in a preview, `{sig: secret, value: unknown}`) as known, its
    zero value "" (`resolve` marks unknown only null, computed and output values), which it sends known; Java sends
    an unknown as the bare sentinel, never secret (`Serializer.java` asks `isKnown` first); an output a component
    left out is unknown in a preview but known in `up`, null (nodejs `resolveProperties`, .NET
    `TrySetDefaultResult(isKnown: !_isDryRun)`), in Go its type's zero value (a required handle's fields "", 0)."""
    schema = host.schema()
    aks = schema["resources"]["llmplatform:index:AksCluster"]
    urn = "urn:pulumi:s::p::llmplatform:index:AksCluster::aks"
    secret_unknown = {offline.SIG_KEY: offline.SECRET_SIG, "value": plugin_host._UNKNOWN}
    sent, _ = plugin_host.program_sends("go", secret_unknown, [urn], aks["properties"]["kubeconfig"], schema,
                                        preview=True, required="kubeconfig" in aks.get("required", []))
    assert sent.get("secret") is True and "value" in sent and sent["value"] in ("", None), sent
    sent, _ = plugin_host.program_sends("java", {offline.SIG_KEY: offline.SECRET_SIG, "value": {
        "clusterName": plugin_host._UNKNOWN}}, [urn], aks["properties"]["cluster"], schema, preview=True)
    assert sent == {offline.SIG_KEY: plugin_host.OUTPUT_VALUE_SIG}
    for sdk in ("nodejs", "dotnet"):
        sent, _ = plugin_host.program_sends(sdk, None, [urn], aks["properties"]["cluster"], schema, preview=False)
        assert "value" in sent and sent["value"] is None, sent
        sent, _ = plugin_host.program_sends(sdk, None, [urn], aks["properties"]["cluster"], schema, preview=True)
        assert "value" not in sent, sent
    sent, _ = plugin_host.program_sends("go", None, [urn], aks["properties"]["cluster"], schema, preview=False,
                                        required=True)
    assert sent["value"]["clusterName"] == "" and "dependencies" in sent, sent


def test_a_java_programs_handle_with_a_secret_field_keeps_every_fields_dependencies_in_an_up(host, program):
    """Java sends a handle it built (`ClusterHandleArgs.builder()...`, one field `Output.ofSecret(...)`) as an object
    holding one secret, its dependencies in the request's propertyDependencies alone; the engine upgrades the secret
    to an output value without dependencies, and the SDK's server takes the object as it is: the secret got the
    input's dependencies, every other field none (a GPU pool's resourceName, from clusterName, depending on nothing:
    a replaced cluster would not replace its pools)."""
    aks, gpu = _gpu_pool_given_java_handle(host, program, "java-secret-field", lambda handle: {
        **handle, "nodeSubnetId": {offline.SIG_KEY: offline.SECRET_SIG, "value": handle["nodeSubnetId"]}})
    cluster_urns = {r.urn.rsplit("::", 1)[-1]: r.urn for r in aks.children}
    pools = [r for r in gpu.children if r.type == GPU_POOL]
    assert pools and all(p.property_dependencies.get("resourceName") == [cluster_urns["aks-aks"]] for p in pools), [
        p.property_dependencies for p in pools]
    assert all(cluster_urns["aks-nodes"] in p.property_dependencies["vnetSubnetID"] for p in pools)
    assert all("vnetSubnetID" in p.secret_paths for p in pools)
